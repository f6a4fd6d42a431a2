//! `mlc ping cin7`: every check on a good account, and what each failure says.

use mlc_core::ping::PingCheck;
use serde_json::json;

use super::*;

fn check<'a>(checks: &'a [PingCheck], name: &str) -> &'a PingCheck {
    checks.iter().find(|c| c.check == name).unwrap_or_else(|| panic!("no {name} check in {checks:#?}"))
}

#[tokio::test]
async fn a_good_account_passes_every_check() {
    let h = start(small()).await;
    let c = client(&h, json!({}));
    c.register_webhook("Purchase/Updated", "http://127.0.0.1:9/x", &[]).await.expect("register");
    let checks = c.ping().await;
    assert!(checks.iter().all(|c| c.ok), "{checks:#?}");
    assert_eq!(
        checks.iter().map(|c| c.check.as_str()).collect::<Vec<_>>(),
        [
            "reach",
            "credentials",
            "read purchases",
            "read suppliers",
            "read chart of accounts",
            "automation (webhooks)",
            "webhooks active",
            "webhook secret"
        ]
    );
    assert!(check(&checks, "read purchases").detail.contains("4 purchases"));
    assert!(check(&checks, "read chart of accounts").detail.contains("accounts payable is 800"));
    assert!(check(&checks, "webhook secret").detail.contains("x-mlc-webhook-secret"));
    h.shutdown().await;
}

#[tokio::test]
async fn failures_say_what_to_fix() {
    let h = start(small()).await;
    // Keys: which one looks wrong, and where to make them.
    let bad = credentials(&h).with("application_key", "not-a-guid");
    let checks = client_with(&h, json!({}), bad).ping().await;
    let cr = check(&checks, "credentials");
    assert!(!cr.ok && cr.detail.contains("application_key) is not GUID-shaped"), "{cr:?}");
    assert!(cr.fix.as_deref().is_some_and(|f| f.contains("Integrations → API")));
    assert!(check(&checks, "reach").ok);
    // The checks that need the keys are skipped, said once with the reason.
    let skipped = check(&checks, "skipped");
    assert!(!skipped.ok && skipped.detail.contains("keys were refused") && skipped.detail.contains("read purchases"));
    assert_eq!(checks.iter().filter(|c| c.detail.contains("not checked")).count(), 1, "{checks:#?}");
    let bad = credentials(&h).with("application_key", "0342a546-e0c2-0dff-f0be-6a5e17154033");
    let checks = client_with(&h, json!({}), bad).ping().await;
    assert!(check(&checks, "credentials").detail.contains("refused the pair"));

    // A base URL that reaches Cin7's web app instead of the API.
    let checks = client(&h, json!({"base_url": format!("{}/ExternalApi/v3", h.root_url())})).ping().await;
    let r = check(&checks, "reach");
    assert!(!r.ok && r.fix.as_deref().is_some_and(|f| f.contains("/ExternalApi/v2/")), "{r:?}");

    // No Automation add-on, a deactivated webhook, no webhook secret.
    let c = client_with(&h, json!({}), credentials(&h).with("webhook_secret", ""));
    let w = c.register_webhook("Purchase/InvoiceAuthorised", "http://127.0.0.1:9/x", &[]).await.expect("register");
    h.system().lock().webhooks.iter_mut().for_each(|x| x.is_active = false);
    let checks = c.ping().await;
    let off = check(&checks, "webhooks active");
    assert!(!off.ok && off.detail.contains("Purchase/InvoiceAuthorised"), "{off:?}");
    assert!(!check(&checks, "webhook secret").ok);
    assert!(check(&checks, "read purchases").ok);
    c.delete_webhook(&w.id).await.expect("delete");
    // No webhook at all is not "every webhook active".
    let none = c.ping().await;
    let active = check(&none, "webhooks active");
    assert!(!active.ok && active.detail.contains("no purchase or supplier webhook"), "{active:?}");
    h.system().set_switch(|s| s.automation_enabled = false);
    let checks = c.ping().await;
    let a = check(&checks, "automation (webhooks)");
    assert!(!a.ok && a.fix.as_deref().is_some_and(|f| f.contains("Automation add-on")), "{a:?}");
    assert!(check(&checks, "credentials").ok, "a 403 from webhooks is not a key problem");

    // Nobody listening (the other clients of this application gone, so a fresh budget).
    drop(c);
    let port = h.addr().port();
    h.shutdown().await;
    let c = Cin7Client::new(
        Cin7Settings::from_options(
            "cin7",
            &json!({"base_url": format!("http://127.0.0.1:{port}/ExternalApi/v2"), "rate_limit_window_secs": 0.2}),
        )
        .expect("settings"),
        Credentials::new().with("account_id", demo::ACCOUNT_ID).with("application_key", demo::APPLICATION_KEY),
    )
    .expect("client");
    let checks = c.ping().await;
    let r = check(&checks, "reach");
    assert!(!r.ok && r.detail.contains("did not answer"), "{r:?}");
    assert_eq!(checks.len(), 2, "one line for the skipped checks: {checks:#?}");
    assert!(checks[1].check == "skipped" && checks[1].detail.contains("not reachable"), "{:?}", checks[1]);
}
