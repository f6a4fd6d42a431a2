//! `mlc ping coupa` against the simulator: everything passes; a client missing scopes (named);
//! a read-only client (export-flag rights fail); a bad secret; an unreachable host; a wrong path;
//! no webhook secret. After a failure that makes the rest meaningless, one line says what was
//! skipped.

use mlc_core::ping::PingCheck;

use super::*;

fn names(p: &[PingCheck]) -> Vec<&str> {
    p.iter().map(|c| c.check.as_str()).collect()
}

fn line<'a>(p: &'a [PingCheck], name: &str) -> &'a PingCheck {
    p.iter().find(|c| c.check == name).unwrap_or_else(|| panic!("no {name} line in {p:#?}"))
}

#[tokio::test]
async fn everything_passes_with_the_demo_client() {
    let h = start(small()).await;
    let c = client(&h, json!({"webhook_url": "https://mlc.example/webhooks/coupa"}));
    let p = c.ping().await;
    assert!(p.iter().all(|x| x.ok), "{p:#?}");
    assert_eq!(
        names(&p),
        [
            "reach",
            "token",
            "scope core.invoice.read",
            "scope core.invoice.write",
            "scope core.purchase_order.read",
            "scope core.purchase_order.write",
            "scope core.supplier.read",
            "scope core.common.read",
            "scope core.accounting.read",
            "instance time zone",
            "exported-flag rights",
            "webhook receiver"
        ]
    );
    assert!(line(&p, "instance time zone").detail.contains("UTC-07:00"), "{p:#?}");
    assert!(line(&p, "token").detail.contains("X-Coupa-API-Version: R39"));
    assert!(line(&p, "exported-flag rights").detail.contains("invoices and purchase orders"));
    assert!(line(&p, "webhook receiver").detail.contains("https://mlc.example/webhooks/coupa"));
    // Nothing was changed by the write probes.
    assert!(!h.system().lock().invoices.iter().any(|i| i.id == 999_999_999));
    h.shutdown().await;
}

#[tokio::test]
async fn scopes_the_client_lacks_are_named_and_the_rest_skipped_once() {
    let h = start(small()).await;
    let ro = Credentials::new()
        .with("client_id", demo::READ_ONLY_CLIENT_ID)
        .with("client_secret", demo::READ_ONLY_CLIENT_SECRET);
    let p = client_with(&h, json!({}), ro.clone()).ping().await;
    assert_eq!(names(&p), ["reach", "token", "skipped", "webhook receiver"], "{p:#?}");
    let t = line(&p, "token");
    assert!(!t.ok);
    assert!(t.detail.contains("core.invoice.write, core.purchase_order.write, core.accounting.read"), "{}", t.detail);
    assert!(t.fix.as_deref().unwrap_or("").contains("Oauth2/OpenID Connect Clients"));
    assert!(
        line(&p, "skipped").detail.contains("scope core.invoice.read")
            && line(&p, "skipped").detail.contains("no token")
    );
    // Asking only for what it has: the token works, but invoices can never be marked exported.
    let scopes =
        json!({"scopes": ["core.invoice.read", "core.purchase_order.read", "core.supplier.read", "core.common.read"]});
    let p = client_with(&h, scopes, ro).ping().await;
    assert!(line(&p, "token").ok && line(&p, "scope core.supplier.read").ok);
    let x = line(&p, "exported-flag rights");
    assert!(!x.ok && x.fix.as_deref().unwrap_or("").contains("core.invoice.write"), "{x:?}");
    assert!(!line(&p, "webhook receiver").ok, "no webhook_secret in these credentials");
    h.shutdown().await;
}

#[tokio::test]
async fn bad_secret_unreachable_host_and_wrong_path() {
    let h = start(small()).await;
    let bad = Credentials::new().with("client_id", demo::CLIENT_ID).with("client_secret", "not-the-secret");
    let p = client_with(&h, json!({}), bad).ping().await;
    assert_eq!(names(&p), ["reach", "token", "skipped", "webhook receiver"]);
    let t = line(&p, "token");
    assert!(!t.ok && t.detail.contains("invalid_client") && !t.detail.contains("not-the-secret"), "{t:?}");
    let p = client(&h, json!({"base_url": "http://127.0.0.1:9"})).ping().await;
    assert_eq!(names(&p), ["reach", "skipped", "webhook receiver"], "{p:#?}");
    assert!(!line(&p, "reach").ok && line(&p, "reach").detail.contains("did not answer"));
    let p = client(&h, json!({"base_url": format!("{}/coupa", h.base_url())})).ping().await;
    let r = line(&p, "reach");
    assert!(!r.ok && r.fix.as_deref().unwrap_or("").contains("instance root"), "{r:?}");
    h.shutdown().await;
}

#[tokio::test]
async fn without_a_webhook_secret_ping_says_only_polling_runs() {
    let h = start(small()).await;
    let creds = Credentials::new().with("client_id", demo::CLIENT_ID).with("client_secret", demo::CLIENT_SECRET);
    let p = client_with(&h, json!({}), creds).ping().await;
    let w = line(&p, "webhook receiver");
    assert!(!w.ok && w.detail.contains("only the scheduled poll runs"), "{w:?}");
    assert!(w.fix.as_deref().unwrap_or("").contains("mlc credentials set coupa"));
    assert!(p.iter().filter(|x| x.check != "webhook receiver").all(|x| x.ok), "{p:#?}");
    h.shutdown().await;
}
