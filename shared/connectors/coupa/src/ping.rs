//! `mlc ping coupa`: does the instance answer, does the OAuth client get a token, does the token
//! carry each scope the flows need, which time zone does the instance write, may we set the
//! export flag, and is a webhook receiver configured? One line per check, with the fix.
//!
//! | check | how | a failure means |
//! |---|---|---|
//! | reach | the first call gets an answer from the Coupa API | wrong `base_url` (a web page answers), network, proxy |
//! | token | `/oauth2/token` grants the configured scopes | wrong client id/secret, inactive client, or a scope the client was not given (each one is then tried alone to name it) |
//! | scope `core.x.read` | one `GET` of one id (`limit=1`, `fields=["id","updated-at"]`) | the token lacks the scope (403) |
//! | scope `core.x.write` | `PUT` on an id that does not exist (`999999999`): 404 means the scope let it through \[I\], 403 that it did not; nothing is changed | the token lacks the scope |
//! | instance time zone | the offset of an `updated-at` Coupa wrote | (informational) |
//! | exported-flag rights | the invoice (and PO) write probes reached the record lookup | the flows could post but never mark invoices exported |
//! | webhook receiver | `webhook_secret` is set (and `webhook_url`, the call-out's target) | only the scheduled poll will run |
//!
//! After a failure that makes the later Coupa checks meaningless (no reach, no token) one line
//! says which checks were skipped and why. Ping makes one call per scope plus the token call,
//! inside the same rate budget as everything else.

use chrono::FixedOffset;
use http::Method;
use mlc_core::ping::PingCheck;
use mlc_http::HttpError;

use crate::client::CoupaClient;
use crate::errors::{BASE_URL_FIX, CLIENT_FIX, CoupaError};

/// An id no record has, for the write probes.
const NO_SUCH_ID: i64 = 999_999_999;

/// A probe call: method, path, query.
type ProbeCall = (Method, String, Vec<(String, String)>);

/// How one scope is probed.
fn probe_of(scope: &str) -> Option<ProbeCall> {
    let get = |path: &str| {
        Some((
            Method::GET,
            path.to_string(),
            vec![("limit".into(), "1".into()), ("fields".into(), r#"["id","updated-at"]"#.into())],
        ))
    };
    let put = |path: String, flag: bool| {
        let mut q = vec![("fields".to_string(), r#"["id"]"#.to_string())];
        if flag {
            q.insert(0, ("exported".into(), "true".into()));
        }
        Some((Method::PUT, path, q))
    };
    match scope {
        "core.invoice.read" => get("api/invoices"),
        "core.invoice.write" => put(format!("api/invoices/{NO_SUCH_ID}"), true),
        "core.purchase_order.read" => get("api/purchase_orders"),
        "core.purchase_order.write" => put(format!("api/purchase_orders/{NO_SUCH_ID}"), true),
        "core.supplier.read" => get("api/suppliers"),
        "core.common.read" => get("api/currencies"),
        "core.accounting.read" => get("api/accounts"),
        "core.integration.read" => get("api/integration_history_records"),
        "core.integration.write" => put(format!("api/integration_history_records/{NO_SUCH_ID}/resolve"), false),
        _ => None,
    }
}

/// What one probe said.
enum Probe {
    /// The scope let the call through (`Some`: the offset of a record's `updated-at`).
    Allowed(Option<FixedOffset>),
    Forbidden(String),
    Other(CoupaError),
    Untested,
}

impl CoupaClient {
    async fn probe(&self, scope: &str) -> Probe {
        let Some((method, path, query)) = probe_of(scope) else { return Probe::Untested };
        let r = if method == Method::GET {
            self.get(&path, &query, &format!("a probe of {scope}")).await
        } else {
            self.write(method.clone(), &path, &query, None, &format!("a probe of {scope}")).await
        };
        match r {
            Ok(v) => {
                let stamp = v
                    .as_array()
                    .and_then(|a| a.first())
                    .and_then(|x| x.get("updated-at"))
                    .and_then(mlc_http::decode::text)
                    .and_then(|s| mlc_http::decode::parse_stamp(&s))
                    .and_then(|(_, zone)| zone);
                Probe::Allowed(stamp)
            }
            Err(CoupaError::NotFound { .. }) if method != Method::GET => Probe::Allowed(None),
            Err(CoupaError::Forbidden { server, .. }) => Probe::Forbidden(server),
            Err(e) => Probe::Other(e),
        }
    }

    /// Run every check; never fails (a failure is a failed line).
    pub async fn ping(&self) -> Vec<PingCheck> {
        let s = &self.inner.settings;
        let mut out = Vec::new();
        let base = s.base_url.as_str().trim_end_matches('/').to_string();
        let scopes = s.scopes.clone();
        let later: Vec<String> = scopes
            .iter()
            .map(|x| format!("scope {x}"))
            .chain(["instance time zone".to_string(), "exported-flag rights".to_string()])
            .collect();
        let skipped = |why: &str| {
            PingCheck::fail(
                "skipped",
                format!("not checked: {} — {why}", later.join(", ")),
                "fix the check above, then ping again",
            )
        };

        let Some(first_scope) = scopes.first().cloned() else {
            out.push(PingCheck::fail(
                "token",
                "no scopes are configured",
                "list the scopes the flows need in the connection's scopes setting",
            ));
            return out;
        };
        let first = self.probe(&first_scope).await;
        match &first {
            Probe::Other(CoupaError::Http(HttpError::Transient { cause, .. })) => {
                out.push(PingCheck::fail(
                    "reach",
                    format!("{base} did not answer: {cause}"),
                    format!("check base_url, DNS, the network path and any proxy; {BASE_URL_FIX}"),
                ));
                out.push(skipped("Coupa is not reachable"));
                out.push(self.webhook_check());
                return out;
            }
            Probe::Other(e @ CoupaError::Unexpected { .. }) => {
                out.push(PingCheck::fail(
                    "reach",
                    format!("{base} answers, but not as the Coupa API: {e}"),
                    BASE_URL_FIX,
                ));
                out.push(skipped("base_url is not a Coupa instance's API"));
                out.push(self.webhook_check());
                return out;
            }
            Probe::Other(CoupaError::Auth { message, .. }) if message.contains("answered 404") => {
                out.push(PingCheck::fail(
                    "reach",
                    format!("{base} answers, but has no Coupa token endpoint: {message}"),
                    BASE_URL_FIX,
                ));
                out.push(skipped("base_url is not a Coupa instance's root"));
                out.push(self.webhook_check());
                return out;
            }
            _ => out.push(PingCheck::pass("reach", format!("{base} answers as a Coupa instance"))),
        }
        if let Probe::Other(CoupaError::Auth { message, .. }) = &first {
            if message.contains("invalid_scope") {
                let missing = self.scopes_refused().await;
                let detail = if missing.is_empty() {
                    format!("the token endpoint refused the scopes ({message})")
                } else {
                    format!("the OAuth client was not given {}: {message}", missing.join(", "))
                };
                out.push(PingCheck::fail(
                    "token",
                    detail,
                    "add the scopes to the OAuth client (Setup > Integrations > Oauth2/OpenID Connect Clients; paste them \
                     space-separated), or remove them from the connection's scopes setting",
                ));
            } else {
                out.push(PingCheck::fail("token", message.clone(), CLIENT_FIX));
            }
            out.push(skipped("no token"));
            out.push(self.webhook_check());
            return out;
        }
        out.push(PingCheck::pass(
            "token",
            format!(
                "client {} got a token for {} scopes; every call sends X-Coupa-API-Version: {} (Coupa ignores it; the \
                 fields each call asks for pin what is read)",
                self.inner.creds.client_id,
                scopes.len(),
                s.api_version
            ),
        ));

        let mut zone: Option<(FixedOffset, String)> = None;
        let mut writes_ok: Vec<&str> = Vec::new();
        let mut results = vec![(first_scope, first)];
        for sc in scopes.iter().skip(1) {
            results.push((sc.clone(), self.probe(sc).await));
        }
        for (sc, r) in results {
            let line = format!("scope {sc}");
            match r {
                Probe::Allowed(stamp) => {
                    if let (Some(t), None) = (stamp, &zone) {
                        zone = Some((t, sc.clone()));
                    }
                    if sc.ends_with(".write") {
                        writes_ok.push(match sc.as_str() {
                            "core.invoice.write" => "invoices",
                            "core.purchase_order.write" => "purchase orders",
                            _ => "",
                        });
                    }
                    out.push(PingCheck::pass(line, "granted"));
                }
                Probe::Forbidden(server) => out.push(PingCheck::fail(
                    line,
                    format!("Coupa refused the call: \"{server}\""),
                    format!(
                        "give the OAuth client the scope {sc} (Setup > Integrations > Oauth2/OpenID Connect Clients)"
                    ),
                )),
                Probe::Untested => {
                    out.push(PingCheck::pass(line, "requested with the token (ping has no probe for it)"))
                }
                Probe::Other(e) => {
                    out.push(PingCheck::fail(line, e.to_string(), "see the message; ping again once it is fixed"))
                }
            }
        }
        out.push(match zone {
            Some((t, from)) => PingCheck::pass(
                "instance time zone",
                format!("Coupa writes times as UTC{t} (seen on a record read with {from}); dates are read as written"),
            ),
            None => PingCheck::pass(
                "instance time zone",
                "no record to tell from yet; times are read with whatever offset Coupa writes",
            ),
        });
        writes_ok.retain(|w| !w.is_empty());
        out.push(if writes_ok.contains(&"invoices") {
            PingCheck::pass(
                "exported-flag rights",
                format!(
                    "PUT …?exported=true reaches the record on {} (sent as a request of its own)",
                    writes_ok.join(" and ")
                ),
            )
        } else {
            PingCheck::fail(
                "exported-flag rights",
                "invoices cannot be marked exported: without it every approved invoice stays in the export queue",
                "grant core.invoice.write to the OAuth client and list it in the connection's scopes",
            )
        });
        out.push(self.webhook_check());
        out
    }

    /// Which configured scopes the token endpoint refuses, each asked for alone.
    async fn scopes_refused(&self) -> Vec<String> {
        let mut missing = Vec::new();
        for sc in &self.inner.settings.scopes {
            let mut settings = self.inner.settings.clone();
            settings.scopes = vec![sc.clone()];
            let Ok(one) = CoupaClient::new(settings, self.inner.creds.all.clone()) else { continue };
            if let Probe::Other(CoupaError::Auth { message, .. }) = one.probe(sc).await
                && message.contains("invalid_scope")
            {
                missing.push(sc.clone());
            }
        }
        missing
    }

    fn webhook_check(&self) -> PingCheck {
        let s = &self.inner.settings;
        let secrets = ["webhook_secret", "webhook_secret_previous"]
            .iter()
            .filter(|f| self.inner.creds.all.get(f).is_some_and(|v| !v.expose().trim().is_empty()))
            .count();
        let target = s.webhook_url.as_deref().map_or_else(
            || "webhook_url is not set, so ping cannot say where the call-out posts".to_string(),
            |u| format!("the call-out should post to {u}"),
        );
        if self.inner.creds.has_webhook_secret() {
            PingCheck::pass(
                "webhook receiver",
                format!(
                    "deliveries are verified with {} (HMAC-SHA256, {} s tolerance, {secrets} secret(s)); {target}. Coupa's \
                     call-out setup cannot be read over the API: check it in Setup > Process Automator",
                    s.webhook_signature_header, s.webhook_tolerance_secs
                ),
            )
        } else {
            PingCheck::fail(
                "webhook receiver",
                format!(
                    "webhook_secret is not set: signed call-outs would be refused and only the scheduled poll runs; {target}"
                ),
                format!(
                    "set webhook_secret with `mlc credentials set {}` and give the same secret to the Coupa call-out that \
                     signs with X-MLC-Signature (infra/README.md); or leave it unset to rely on polling",
                    s.connection
                ),
            )
        }
    }
}
