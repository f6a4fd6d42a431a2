//! `mlc ping cleo`: can this connection move files? One line per check, with the fix.
//!
//! | check | how | a failure means |
//! |---|---|---|
//! | sign in | a password grant, through the first API call (`GET /api/mailboxes?count=1`) | wrong user or password, locked account, expired password, wrong base URL, network |
//! | two-factor | the same sign-in | the account has TOTP 2FA, which a machine cannot complete: use a service account without 2FA |
//! | folder `<name>` | the mailbox by alias, the folder by name, one page of its files | mailbox not visible to the account, folder name wrong, listing not permitted |
//! | upload/download permission `<name>` | the folder's permissions, when the tenant shows them | the account cannot upload to an outbound folder or download from an inbound one |
//!
//! When sign-in fails, the checks after it cannot tell anything: they are named once, in one
//! line, as skipped. When a folder cannot be found, its permission check is skipped in that
//! folder's line. Nothing is uploaded or deleted by a ping.

use mlc_core::ping::PingCheck;
use mlc_http::Request;

use crate::api::CleoClient;
use crate::errors::CleoError;
use crate::settings::Direction;

impl CleoClient {
    /// Run every check; never fails (a failure is a failed line).
    pub async fn ping(&self) -> Vec<PingCheck> {
        let mut out = Vec::new();
        let s = self.settings();
        let t = self.transport();
        let first = t
            .send(
                Request::get(t.url_of("/api/mailboxes")).header("Accept", crate::client::JSON).query("count", 1),
                "the mailbox list",
            )
            .await;
        let later: Vec<String> = std::iter::once("two-factor".to_string())
            .chain(s.folders.iter().flat_map(|(k, f)| {
                let p = match f.direction {
                    Direction::Outbound => "upload",
                    Direction::Inbound => "download",
                };
                [format!("folder {k}"), format!("{p} permission {k}")]
            }))
            .collect();
        match first {
            Err(CleoError::TwoFactor { server, .. }) => {
                out.push(PingCheck::fail(
                    "sign in",
                    format!("Cleo refused the password grant for {:?}: \"{server}\"", self.username()),
                    "see the two-factor check",
                ));
                out.push(PingCheck::fail(
                    "two-factor",
                    format!("user {:?} has two-factor (TOTP) authentication; a machine cannot type the code", self.username()),
                    "use a service account without 2FA: create a dedicated Partner Mailbox account (or an API user in a \
                     user group with two-factor authentication off), give it the mailboxes, and store it with \
                     `mlc credentials set`",
                ));
                out.extend(skipped(&later[1..], "sign-in failed (two-factor authentication)"));
                return out;
            }
            Err(e @ (CleoError::Auth { .. } | CleoError::MissingCredential { .. })) => {
                let (detail, fix) = split_fix(&e.to_string());
                out.push(PingCheck::fail(
                    "sign in",
                    detail,
                    fix.unwrap_or_else(|| "check the stored credentials".into()),
                ));
                out.extend(skipped(&later, "sign-in failed"));
                return out;
            }
            Err(e) => {
                out.push(PingCheck::fail(
                    "sign in",
                    format!("could not reach Cleo at {}: {e}", s.base_url),
                    "check base_url (the tenant root, e.g. https://<tenant>.cleointegration.com), the network and any IP \
                     allow-list on the Cleo side",
                ));
                out.extend(skipped(&later, "Cleo could not be reached"));
                return out;
            }
            Ok(_) => {
                out.push(PingCheck::pass(
                    "sign in",
                    format!("signed in to {} as {} with the password grant", s.base_url, self.username()),
                ));
                out.push(PingCheck::pass(
                    "two-factor",
                    "the account signs in without a TOTP code (no two-factor authentication)",
                ));
            }
        }
        if s.folders.is_empty() {
            out.push(PingCheck::pass(
                "folders",
                "no folders configured: add [connections.<name>.folders.<folder>] with mailbox, folder and direction",
            ));
        }
        for (key, f) in &s.folders {
            let perm = match f.direction {
                Direction::Outbound => "upload",
                Direction::Inbound => "download",
            };
            let check = format!("folder {key}");
            let folder = match self.folder(key).await {
                Ok(folder) => folder,
                Err(e) => {
                    let (detail, fix) = split_fix(&e.to_string());
                    out.push(PingCheck::fail(
                        check,
                        format!("{detail} ({perm} permission not checked)"),
                        fix.unwrap_or_else(|| {
                            format!("check folders.{key}: mailbox {:?}, folder {:?}", f.mailbox, f.folder)
                        }),
                    ));
                    continue;
                }
            };
            let listing = t
                .get_json(&format!("{}?count=1", folder.folder.files_href), &format!("the files of {}", folder.label()))
                .await;
            match listing {
                Ok(v) => {
                    let n = v.get("totalResults").and_then(mlc_http::decode::uint).unwrap_or(0);
                    out.push(PingCheck::pass(
                        check,
                        format!("{} lists ({n} file{})", folder.label(), if n == 1 { "" } else { "s" }),
                    ));
                }
                Err(e) => {
                    let (detail, fix) = split_fix(&e.to_string());
                    out.push(PingCheck::fail(
                        check,
                        detail,
                        fix.unwrap_or_else(|| "give the account access to the folder".into()),
                    ));
                }
            }
            let pcheck = format!("{perm} permission {key}");
            match folder.folder.permissions {
                None => out.push(PingCheck::pass(
                    pcheck,
                    format!(
                        "{}: this tenant does not show folder permissions; the first {perm} proves it",
                        folder.label()
                    ),
                )),
                Some(p) => {
                    let ok = match f.direction {
                        Direction::Outbound => p.upload,
                        Direction::Inbound => p.download,
                    };
                    if ok {
                        out.push(PingCheck::pass(pcheck, format!("{} allows {perm}", folder.label())));
                    } else {
                        out.push(PingCheck::fail(
                            pcheck,
                            format!(
                                "{} does not allow {perm} for {:?} (upload: {}, download: {})",
                                folder.label(),
                                self.username(),
                                p.upload,
                                p.download
                            ),
                            format!(
                                "give the folder {} permission for this account in Cleo (Partner Mailbox → folders), or \
                                 check that folders.{key} is the {} folder (direction = \"{}\")",
                                if perm == "upload" { "Upload" } else { "Download" },
                                f.direction.as_str(),
                                f.direction.as_str()
                            ),
                        ));
                    }
                }
            }
        }
        out
    }
}

/// One line naming every check that was not run, and why.
fn skipped(checks: &[String], why: &str) -> Option<PingCheck> {
    if checks.is_empty() {
        return None;
    }
    Some(PingCheck::fail(
        "skipped",
        format!("not checked because {why}: {}", checks.join(", ")),
        "fix the failed check above and ping again",
    ))
}

/// "message. Fix: what to do" → (message, fix).
fn split_fix(text: &str) -> (String, Option<String>) {
    match text.split_once(". Fix: ") {
        Some((d, f)) => (d.to_string(), Some(f.to_string())),
        None => (text.to_string(), None),
    }
}
