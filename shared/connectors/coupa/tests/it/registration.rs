//! The system registration: found by name and alias, credential fields, a bad setting refused in
//! one line, and `build` + `ping` against the simulator through the platform's interface.

use mlc_core::connect::{ConnectionSpec, system};
use mlc_coupa::CoupaConnection;

use super::*;

#[tokio::test]
async fn coupa_registers_itself_builds_and_pings() {
    let entry = system("coupa").expect("registered");
    assert_eq!((entry.name, entry.title), ("coupa", "Coupa"));
    assert!(system("CoupaHost").is_some(), "alias");
    let fields: Vec<(&str, bool, bool)> =
        entry.credential_fields.iter().map(|f| (f.name, f.required, f.secret)).collect();
    assert_eq!(
        fields,
        [
            ("client_id", true, false),
            ("client_secret", true, true),
            ("webhook_secret", false, true),
            ("webhook_secret_previous", false, true)
        ]
    );

    // Settings are checked without credentials, in one line naming the key.
    let bad = ConnectionSpec::new("coupa-us", "coupa", "https://acme.coupahost.com").with_option("page_size", "lots");
    let e = (entry.check)(&bad).unwrap_err();
    assert!(e.contains("coupa-us") && e.contains("page_size") && e.contains("1 to 50") && !e.contains('\n'), "{e}");
    let typo = ConnectionSpec::new("coupa-us", "coupa", "https://acme.coupahost.com").with_option("scope", "x");
    assert!((entry.check)(&typo).unwrap_err().contains("option scope is not a Coupa option"));
    assert!((entry.check)(&ConnectionSpec::new("c", "coupa", "https://acme.coupahost.com/api")).is_ok());

    let h = start(small()).await;
    let spec = ConnectionSpec::new("coupa", "coupa", h.base_url())
        .with_option("timeout_secs", 5)
        .with_option("retry_base_ms", 20)
        .with_option("webhook_url", "https://mlc.example/webhooks/coupa");
    let Err(missing) = (entry.build)(&spec, Credentials::new().with("client_id", "x")) else {
        panic!("built without a client secret")
    };
    assert!(missing.0.contains("client_secret"), "{missing}");
    let conn = (entry.build)(&spec, credentials()).expect("build");
    assert_eq!(conn.system(), "coupa");
    let p = conn.ping().await;
    assert!(p.iter().all(|c| c.ok), "{p:#?}");
    assert!(conn.counters().calls >= 7 && conn.counters().auth_refreshes >= 1, "{:?}", conn.counters());
    assert!(conn.webhook_source().is_some_and(|s| s.system() == "coupa"));
    // Flows reach the client through `as_any`.
    let coupa = conn.as_any().downcast_ref::<CoupaConnection>().expect("a Coupa connection");
    assert!(coupa.client().get_invoice(1001).await.expect("read").is_some());
    // Without a webhook secret there is no webhook source.
    let plain = Credentials::new().with("client_id", demo::CLIENT_ID).with("client_secret", demo::CLIENT_SECRET);
    assert!((entry.build)(&spec, plain).expect("build").webhook_source().is_none());
    h.shutdown().await;
}
