//! The platform finds the system by name, refuses a bad setting in one line, builds a
//! connection that pings, hands the client to sources and targets, and counts calls.

use mlc_cleo::CleoConnection;
use mlc_core::connect::{ConnectionSpec, Connections, system};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn the_cleo_system_is_registered_checked_built_and_pinged() {
    let entry = system("cleo").expect("registered");
    assert_eq!((entry.name, entry.title), ("cleo", "Cleo Integration Cloud"));
    assert!(system("CIC").is_some_and(|e| e.name == "cleo"));
    let fields: Vec<(&str, bool)> = entry.credential_fields.iter().map(|f| (f.name, f.secret)).collect();
    assert_eq!(fields, vec![("username", false), ("password", true)]);

    let env = start().await;
    let spec =
        ConnectionSpec::new("cleo-edi", "cleo", env.sim.base_url()).with_option("requests_per_second", 0).with_option(
            "folders",
            json!({"granite-in": {"mailbox": "GRANITERIDGE", "folder": "inbound", "direction": "inbound"}}),
        );
    assert_eq!((entry.check)(&spec), Ok(()));

    for (key, value, expect) in [
        ("page_size", json!(0), "Cleo connection cleo-edi: option page_size 0 must be between 1 and 1000"),
        ("pagesize", json!(10), "Cleo connection cleo-edi: option pagesize is not a Cleo option (known:"),
        (
            "upload_mode",
            json!("ftp"),
            "Cleo connection cleo-edi: option upload_mode has a bad value: unknown variant `ftp`",
        ),
        (
            "folders",
            json!({"x": {"mailbox": "A", "folder": "B", "direction": "sideways"}}),
            "Cleo connection cleo-edi: option folders has a bad value: unknown variant `sideways`",
        ),
    ] {
        let e = (entry.check)(&spec.clone().with_option(key, value)).expect_err("refused");
        assert!(e.starts_with(expect) && !e.contains('\n'), "{key}: {e}");
    }
    let bad_url = ConnectionSpec::new("cleo-edi", "cleo", "ftp://acme.cleointegration.com");
    assert!((entry.check)(&bad_url).expect_err("ftp").contains("option base_url"), "scheme");
    assert!((entry.build)(&spec, credentials("only-user", "")).is_err(), "missing password");

    let conn = (entry.build)(
        &spec,
        credentials(mlc_sim::cleo::scenario::demo::USERNAME, mlc_sim::cleo::scenario::demo::PASSWORD),
    )
    .expect("builds");
    assert_eq!(conn.system(), "cleo");
    assert!(conn.webhook_source().is_none(), "Cleo sends no webhooks");
    let checks = conn.ping().await;
    assert!(checks.iter().all(|c| c.ok), "{checks:#?}");
    assert!(conn.counters().calls >= 3 && conn.counters().auth_refreshes == 1, "{:?}", conn.counters());
    let mut conns = Connections::default();
    conns.insert("cleo-edi", conn);
    let c = conns.client::<CleoConnection>("cleo-edi", "cleo").expect("downcast");
    let folder = c.client().folder("granite-in").await.expect("folder");
    assert!(!c.client().list_files(&folder).await.expect("files").is_empty());
    // A base URL given with /api is the same tenant.
    let with_api = ConnectionSpec::new("c", "cleo", &format!("{}/api/", env.sim.base_url()));
    let s = mlc_cleo::CleoSettings::from_spec(&with_api).expect("settings");
    assert_eq!(s.token_url().as_str(), format!("{}/api/authentication", env.sim.base_url()));
}
