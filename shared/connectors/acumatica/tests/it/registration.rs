//! The platform finds the system by name, refuses a bad setting in one line, builds a connection
//! and pings through it.

use mlc_acumatica::AcumaticaConnection;
use mlc_core::connect::{ConnectionSpec, system};

use crate::{creds, start};

#[tokio::test]
async fn registered_checked_built_and_pinged() {
    let entry = system("acumatica").expect("registered");
    assert_eq!((entry.name, entry.title), ("acumatica", "Acumatica"));
    assert!(system("MYOB-Acumatica").is_some(), "alias");
    let names: Vec<&str> = entry.credential_fields.iter().map(|f| f.name).collect();
    assert_eq!(names, ["username", "password", "client_id", "client_secret", "webhook_secret"]);
    assert!(entry.field("password").is_some_and(|f| f.secret && f.required));
    assert!(entry.field("webhook_secret").is_some_and(|f| !f.required));

    let h = start().await;
    let c = h.system().typed_credentials(h.base_url());
    let spec = ConnectionSpec::new("acu-east", "acumatica", h.base_url())
        .with_option("tenant", c.tenant.clone())
        .with_option("branch", c.branch.clone())
        .with_option("requests_per_minute", 0);
    assert_eq!((entry.check)(&spec), Ok(()));
    let bad = spec.clone().with_option("page_sise", 50);
    let e = (entry.check)(&bad).unwrap_err();
    assert!(e.starts_with("Acumatica connection acu-east: option page_sise is not an Acumatica option (known:"), "{e}");
    assert!(!e.contains('\n'));
    let bad = spec.clone().with_option("auth", "kerberos");
    assert_eq!(
        (entry.check)(&bad).unwrap_err(),
        "Acumatica connection acu-east: option auth must be \"oauth\" or \"cookie\", not \"kerberos\""
    );

    let conn = (entry.build)(&spec, creds(&h)).expect("build");
    assert_eq!(conn.system(), "acumatica");
    assert!(conn.webhook_source().is_some(), "a webhook_secret gives a push source");
    let checks = conn.ping().await;
    assert!(checks.iter().all(|c| c.ok), "{checks:#?}");
    assert!(conn.counters().calls >= 5 && conn.counters().auth_refreshes == 1, "{:?}", conn.counters());
    let acu = conn.as_any().downcast_ref::<AcumaticaConnection>().expect("the concrete connection");
    assert!(acu.client.get_vendor("V10001").await.expect("read").is_some());
    // Missing credentials are refused at build, naming them.
    let e = (entry.build)(&spec, mlc_core::secret::Credentials::new().with("username", "x")).err().expect("refused").0;
    assert!(e.contains("credentials lack password, client_id, client_secret"), "{e}");
    h.shutdown().await;
}
