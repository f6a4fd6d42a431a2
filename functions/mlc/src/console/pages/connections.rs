//! **Connections**: each configured connection with its system, address and which credential
//! fields are stored (names only — values never reach a page, not even masked); a ping per
//! connection with one line per check and its fix (`Connection::ping`, as `mlc ping`); and a
//! credentials form whose fields start empty: a field left empty keeps its stored value, so a
//! person can rotate one key without retyping the rest (saved as `mlc credentials set` saves).

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use mlc_core::secret::Credentials;

use super::{Pairs, field};
use crate::console::templates::{enc, page as frame};
use crate::console::{Console, PageError, PageResult};

pub async fn page(State(c): State<Console>, Query(q): Query<Pairs>) -> PageResult {
    let ping = field(&q, "ping").filter(|s| !s.is_empty()).map(str::to_string);
    let saved = field(&q, "saved").map(str::to_string);
    let mut rows = Vec::new();
    for (name, settings) in &c.0.config.connections {
        let cred_name = c.0.config.credentials_name(name).to_string();
        let stored: Vec<String> = match c.0.secrets.get(&cred_name).await {
            Ok(Some(cr)) => cr.field_names().map(str::to_string).collect(),
            _ => Vec::new(),
        };
        let system = mlc_core::connect::system(&settings.system);
        let checks = if ping.as_deref() == Some(name.as_str()) {
            Some(match mlc_flows::connect_one(&c.0.config, name, c.0.secrets.as_ref()).await {
                Ok(conn) => Ok(conn.ping().await),
                Err(e) => Err(e.0),
            })
        } else {
            None
        };
        rows.push((name.clone(), settings.clone(), cred_name, stored, system, checks));
    }
    let body = html! {
        @if let Some(s) = &saved { p.ok { "Saved credentials for " (s) " (values are never shown). Ping it to check them." } }
        @if rows.is_empty() { p.note { "No connections are configured (see [connections.*] in mlc.toml)." } }
        @for (name, settings, cred_name, stored, system, checks) in &rows {
            div.card id=(format!("conn-{name}")) {
                h2 { (name) span.muted { " " (system.map(|s| s.title).unwrap_or(settings.system.as_str())) " · " (settings.base_url) } }
                p { "stored fields: " @if stored.is_empty() { span.bad { "none" } } @else { (stored.join(", ")) } }
                p { a href={ "/connections?ping=" (enc(name)) "#conn-" (name) } { "Ping " (name) } }
                @if let Some(res) = checks {
                    @match res {
                        Ok(list) => {
                            table {
                                tr { th { "check" } th { "result" } th { "detail" } th { "fix" } }
                                @for ch in list {
                                    tr {
                                        td { (ch.check) }
                                        td class=(if ch.ok { "ok" } else { "bad" }) { (if ch.ok { "pass" } else { "FAIL" }) }
                                        td { (ch.detail) }
                                        td { (ch.fix.clone().unwrap_or_default()) }
                                    }
                                }
                            }
                        }
                        Err(e) => { p.bad { "cannot connect: " (e) } }
                    }
                }
                details {
                    summary { "Set credentials" }
                    form method="post" action="/connections/credentials" autocomplete="off" {
                        input type="hidden" name="connection" value=(name);
                        p.muted { "Stored as " code { (cred_name) } ". Empty fields keep their stored value." }
                        table {
                            @match system {
                                Some(sys) => {
                                    @for fd in sys.credential_fields {
                                        tr {
                                            th { (fd.name) @if fd.required { " *" } }
                                            td { input type=(if fd.secret { "password" } else { "text" }) name={ "f_" (fd.name) } autocomplete="off"
                                                placeholder=(if stored.iter().any(|s| s == fd.name) { "stored (unchanged if empty)" } else { "not set" }); }
                                            td.muted { (fd.help) }
                                        }
                                    }
                                }
                                None => { tr { td { "unknown system " (settings.system) } } }
                            }
                        }
                        button { "Save credentials" }
                    }
                }
            }
        }
    };
    Ok(frame("Connections", "/connections", &c.0.place, None, body))
}

pub async fn credentials(State(c): State<Console>, axum::Form(f): axum::Form<Pairs>) -> Result<Response, PageError> {
    let name = field(&f, "connection").unwrap_or("").to_string();
    let settings =
        c.0.config.connections.get(&name).ok_or_else(|| PageError::bad(format!("no connection named {name:?}")))?;
    let system = mlc_core::connect::system(&settings.system)
        .ok_or_else(|| PageError::bad(format!("connection {name}: unknown system {}", settings.system)))?;
    let mut given = Credentials::new();
    for (k, v) in &f {
        let Some(field_name) = k.strip_prefix("f_") else { continue };
        if v.is_empty() {
            continue;
        }
        if system.field(field_name).is_none() {
            return Err(PageError::bad(format!("{} takes no credential field {field_name:?}", system.title)));
        }
        given.set(field_name, v.clone());
    }
    if given.is_empty() {
        return Err(PageError::bad("fill at least one field (empty fields keep their stored value)"));
    }
    let cred_name = c.0.config.credentials_name(&name).to_string();
    crate::cmd::credentials::save(c.0.secrets.as_ref(), &cred_name, &given, false).await?;
    // A value just stored is scrubbed from the next page at once.
    c.forget_secret_values().await;
    // The worker's connections were built with the old values: build them again.
    if !c.0.aws {
        let old = c.0.runtime.read().await.clone();
        if let Some(old) = old {
            match mlc_flows::Runtime::build(
                c.0.config.clone(),
                old.engine.store.clone(),
                old.engine.queue.clone(),
                c.0.secrets.clone(),
                old.engine.clock.clone(),
            )
            .await
            {
                Ok(rt) => *c.0.runtime.write().await = Some(std::sync::Arc::new(rt)),
                Err(e) => return Err(PageError::bad(format!("saved, but the connections cannot be rebuilt: {e}"))),
            }
        }
    }
    Ok(Redirect::to(&format!("/connections?saved={}", enc(&name))).into_response())
}
