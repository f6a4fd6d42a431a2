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

use crate::output::{Out, Table, count};

/// The system of a configured connection, or an error naming the connections there are.
/// Without a configuration (`--backend aws` on an operator's machine), a connection named after a
/// system (`deltek`) is that system's.
pub fn system_of(config: &mlc_flows::Config, connection: &str) -> anyhow::Result<String> {
    match config.connections.get(connection) {
        Some(c) => Ok(c.system.clone()),
        None if config.connections.is_empty() => match mlc_core::connect::system(connection) {
            Some(entry) => Ok(entry.name.to_string()),
            None => bail!("{}", unknown_connection(config, connection)),
        },
        None => bail!("{}", unknown_connection(config, connection)),
    }
}

/// "no connection named X in the configuration (connections: a, b)".
pub fn unknown_connection(config: &mlc_flows::Config, connection: &str) -> String {
    let names: Vec<&str> = config.connections.keys().map(String::as_str).collect();
    if names.is_empty() {
        format!(
            "no connection named {connection:?}: there is no configuration with connections (pass --config FILE, or create ./mlc.toml), and it is not a system's name ({})",
            mlc_core::connect::system_names().join(", ")
        )
    } else {
        format!("no connection named {connection:?} in the configuration (connections: {})", names.join(", "))
    }
}

/// Keep only the fields `system` declares; a field it does not declare is an error naming the
/// fields it does. Settings piped by mistake (a simulator's `base_url`, `database`) are dropped with
/// a note, since they belong in the configuration, not in the credentials.
pub fn check_fields(system: &str, given: Credentials) -> anyhow::Result<(Credentials, Vec<String>)> {
    let Some(entry) = mlc_core::connect::system(system) else {
        return Ok((given, Vec::new()));
    };
    let known: Vec<&str> = entry.credential_fields.iter().map(|f| f.name).collect();
    let mut kept = Credentials::new();
    let mut dropped = Vec::new();
    for name in given.field_names() {
        if entry.field(name).is_some() {
            if let Some(v) = given.get(name) {
                kept.set(name, v.expose().clone());
            }
        } else if SETTINGS_NOT_CREDENTIALS.contains(&name) {
            dropped.push(name.to_string());
        } else {
            bail!("{} does not use a credential field {name:?} (its fields: {})", entry.title, known.join(", "));
        }
    }
    Ok((kept, dropped))
}

/// Keys of a simulator's JSON line (and of connection settings) that are not credentials.
const SETTINGS_NOT_CREDENTIALS: &[&str] = &["base_url", "database", "system", "tenant", "company", "version"];

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

/// What `mlc credentials set` was given, checked against the system's fields: read before
/// anything is opened or created, so bad input leaves no trace.
pub struct Given {
    creds: Credentials,
    dropped: Vec<String>,
}

pub fn read_given(connection: &str, system: &str, fields: &[String]) -> anyhow::Result<Given> {
    let entry = mlc_core::connect::system(system);
    for f in fields {
        if let Some(e) = entry
            && e.field(f).is_none()
        {
            let known: Vec<&str> = e.credential_fields.iter().map(|f| f.name).collect();
            bail!("--field {f}: {} does not use a credential field {f:?} (its fields: {})", e.title, known.join(", "));
        }
    }
    let stdin = std::io::stdin();
    let given = if !stdin.is_terminal() {
        let mut text = String::new();
        stdin.lock().read_to_string(&mut text).context("cannot read credentials from stdin")?;
        parse_piped(&text)?
    } else {
        let names: Vec<(String, bool)> = if fields.is_empty() {
            let known: Vec<(String, bool)> = entry
                .map(|e| e.credential_fields.iter().map(|f| (f.name.to_string(), f.secret)).collect())
                .unwrap_or_default();
            if known.is_empty() {
                bail!("which fields? pass --field NAME (repeatable), or pipe NAME=value lines on stdin");
            }
            known
        } else {
            fields.iter().map(|f| (f.clone(), entry.and_then(|e| e.field(f)).is_none_or(|d| d.secret))).collect()
        };
        let mut c = Credentials::new();
        eprintln!("credentials for {connection} (leave empty to skip a field; secrets are not echoed)");
        for (name, secret) in names {
            let v = if secret {
                rpassword::prompt_password(format!("  {name}: ")).context("cannot read from the terminal")?
            } else {
                eprint!("  {name}: ");
                let mut line = String::new();
                std::io::stdin().read_line(&mut line).context("cannot read from the terminal")?;
                line.trim().to_string()
            };
            if !v.is_empty() {
                c.set(&name, v);
            }
        }
        c
    };
    let (creds, dropped) = check_fields(system, given)?;
    if creds.is_empty() {
        bail!(
            "no credential fields given for {connection} ({} are settings: they go in the configuration)",
            dropped.join(", ")
        );
    }
    Ok(Given { creds, dropped })
}

/// Store checked credentials (merged into what is there unless `replace`).
pub async fn set(
    secrets: &dyn SecretStore,
    out: Out,
    connection: &str,
    given: Given,
    replace: bool,
) -> anyhow::Result<()> {
    let Given { creds: given, dropped } = given;
    let (changed, now) = save(secrets, connection, &given, replace).await?;
    #[derive(Serialize)]
    struct Saved<'a> {
        connection: &'a str,
        fields_set: Vec<String>,
        fields_now: Vec<String>,
        ignored_settings: Vec<String>,
    }
    let saved = Saved { connection, fields_set: changed, fields_now: now, ignored_settings: dropped };
    out.emit(&saved, || {
        println!(
            "saved {} for {connection}: {}",
            count(saved.fields_set.len() as u64, "field"),
            saved.fields_set.join(", ")
        );
        if !saved.ignored_settings.is_empty() {
            println!(
                "not stored: {} (connection settings, not credentials: they go in the configuration)",
                saved.ignored_settings.join(", ")
            );
        }
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

    #[test]
    fn fields_are_checked_against_what_the_system_declares() {
        // The simulator's JSON line: credentials plus settings.
        let piped = parse_piped(r#"{"username":"u","password":"p","base_url":"http://x","database":"D"}"#).unwrap();
        let (kept, dropped) = check_fields("deltek", piped).unwrap();
        assert_eq!(kept.field_names().collect::<Vec<_>>(), ["password", "username"]);
        assert_eq!(dropped, ["base_url", "database"]);
        let e = check_fields("deltek", parse_piped("usernmae=u\n").unwrap()).unwrap_err().to_string();
        assert!(e.contains("\"usernmae\"") && e.contains("username"), "{e}");
    }
}
