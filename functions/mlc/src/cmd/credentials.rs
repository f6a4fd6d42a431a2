//! `mlc credentials set|list|delete`: connection credentials in the secret store.
//!
//! Values never come from the command line (they would sit in shell history and `ps`): they are
//! typed at a prompt that does not echo, or piped on stdin as a JSON object or `NAME=value` lines.
//! `list` shows connection and field names only.

use std::io::{IsTerminal, Read};

use anyhow::{Context, bail};
use mlc_core::engine::ports::SecretStore;
use mlc_core::secret::Credentials;
use serde::Serialize;

use crate::output::{Out, Table};

/// The fields each system's connector reads, in prompt order.
pub fn known_fields(system: &str) -> &'static [&'static str] {
    match system {
        "deltek" => &["username", "password", "client_id", "client_secret", "webhook_username", "webhook_password"],
        "cin7" => &["account_id", "application_key", "webhook_secret"],
        "acumatica" => &["username", "password", "client_id", "client_secret", "webhook_secret"],
        "procore" => &["client_id", "client_secret", "webhook_authorization"],
        "coupa" => &["client_id", "client_secret", "webhook_secret", "webhook_secret_previous"],
        "cleo" => &["username", "password"],
        _ => &[],
    }
}

/// Parse piped credentials: a JSON object, or `NAME=value` lines (blank lines and `#` comments ignored).
pub fn parse_piped(text: &str) -> anyhow::Result<Credentials> {
    let t = text.trim();
    if t.starts_with('{') {
        return Credentials::from_plain_json(t).context("stdin is not a valid JSON object of credential fields");
    }
    let mut c = Credentials::new();
    for (n, line) in t.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            bail!("stdin line {}: expected NAME=value", n + 1);
        };
        if k.trim().is_empty() {
            bail!("stdin line {}: empty field name", n + 1);
        }
        c.set(k.trim(), v.trim());
    }
    if c.is_empty() {
        bail!("stdin held no credential fields");
    }
    Ok(c)
}

pub async fn set(
    secrets: &dyn SecretStore,
    out: Out,
    connection: &str,
    system: Option<&str>,
    fields: &[String],
    replace: bool,
) -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    let given = if !stdin.is_terminal() {
        let mut text = String::new();
        stdin.lock().read_to_string(&mut text).context("cannot read credentials from stdin")?;
        parse_piped(&text)?
    } else {
        let names: Vec<String> = if fields.is_empty() {
            let known = system.map(known_fields).unwrap_or(&[]);
            if known.is_empty() {
                bail!("which fields? pass --field NAME (repeatable), or pipe NAME=value lines on stdin");
            }
            known.iter().map(|s| s.to_string()).collect()
        } else {
            fields.to_vec()
        };
        let mut c = Credentials::new();
        eprintln!("credentials for {connection} (input hidden; leave empty to skip a field)");
        for name in names {
            let v = rpassword::prompt_password(format!("  {name}: ")).context("cannot read from the terminal")?;
            if !v.is_empty() {
                c.set(&name, v);
            }
        }
        c
    };
    let (changed, now) = save(secrets, connection, &given, replace).await?;
    #[derive(Serialize)]
    struct Saved<'a> {
        connection: &'a str,
        fields_set: Vec<String>,
        fields_now: Vec<String>,
    }
    let saved = Saved { connection, fields_set: changed, fields_now: now };
    out.emit(&saved, || {
        println!("saved {} field(s) for {connection}: {}", saved.fields_set.len(), saved.fields_set.join(", "));
        println!("check them with `mlc ping {connection}`");
    })
}

/// Merge `given` into the stored credentials of `connection` (or replace them all) and store
/// them: (the fields set now, every field stored). `mlc credentials set` and the console's
/// credentials form both save through here.
pub async fn save(
    secrets: &dyn SecretStore,
    connection: &str,
    given: &Credentials,
    replace: bool,
) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let mut merged = if replace { Credentials::new() } else { secrets.get(connection).await?.unwrap_or_default() };
    let mut changed = Vec::new();
    for name in given.field_names() {
        if let Some(v) = given.get(name) {
            merged.set(name, v.expose().clone());
            changed.push(name.to_string());
        }
    }
    secrets.put(connection, &merged).await?;
    Ok((changed, merged.field_names().map(str::to_string).collect()))
}

pub async fn list(secrets: &dyn SecretStore, out: Out) -> anyhow::Result<()> {
    #[derive(Serialize)]
    struct Entry {
        connection: String,
        fields: Vec<String>,
    }
    let mut entries = Vec::new();
    for name in secrets.list().await? {
        let fields =
            secrets.get(&name).await?.map(|c| c.field_names().map(str::to_string).collect()).unwrap_or_default();
        entries.push(Entry { connection: name, fields });
    }
    out.emit(&entries, || {
        if entries.is_empty() {
            println!("no credentials stored (add them with `mlc credentials set <connection>`)");
            return;
        }
        let mut t = Table::new(&["connection", "fields (values are never shown)"]);
        for e in &entries {
            t.row(vec![e.connection.clone(), e.fields.join(", ")]);
        }
        t.print();
    })
}

pub async fn delete(secrets: &dyn SecretStore, out: Out, connection: &str) -> anyhow::Result<()> {
    let existed = secrets.delete(connection).await?;
    if !existed {
        bail!("no credentials stored for {connection}");
    }
    out.emit(&serde_json::json!({ "deleted": connection }), || println!("deleted credentials for {connection}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn piped_lines_and_json() {
        let c = parse_piped("# deltek\nusername=api\npassword = p=a=ss\n\n").unwrap();
        assert_eq!(c.get("password").unwrap().expose(), "p=a=ss");
        let c = parse_piped(r#"{"client_id":"x","client_secret":"y"}"#).unwrap();
        assert_eq!(c.field_names().count(), 2);
        assert!(parse_piped("nonsense").unwrap_err().to_string().contains("line 1"));
        assert!(parse_piped("").is_err());
    }
}
