//! The system registration: found by name, bad settings refused in one line, build + ping work.

use mlc_core::connect::{ConnectionSpec, system};
use mlc_procore::ProcoreConnection;

use super::*;

#[tokio::test]
async fn procore_registers_itself_checks_settings_and_builds_a_working_connection() {
    let entry = system("procore").expect("registered");
    assert_eq!((entry.name, entry.title), ("procore", "Procore"));
    let fields: Vec<&str> = entry.credential_fields.iter().map(|f| f.name).collect();
    assert_eq!(fields, ["client_id", "client_secret", "webhook_authorization"]);
    assert!(entry.field("client_secret").is_some_and(|f| f.secret && f.required));
    assert!(entry.field("webhook_authorization").is_some_and(|f| !f.required));

    let bad = ConnectionSpec::new("procore-east", "procore", "https://api.procore.com")
        .with_option("company_id", 1)
        .with_option("per_page", 50);
    let e = (entry.check)(&bad).unwrap_err();
    assert!(
        !e.contains('\n') && e.contains("procore-east") && e.contains("per_page") && e.contains("page_size"),
        "{e}"
    );
    let no_company = ConnectionSpec::new("p", "procore", "https://api.procore.com");
    assert!((entry.check)(&no_company).unwrap_err().contains("company_id is required"));

    let h = start(company()).await;
    let spec = ConnectionSpec::new("procore", "procore", h.base_url())
        .with_option("company_id", demo::COMPANY_ID)
        .with_option("spike_limit", 0);
    (entry.check)(&spec).expect("good settings");
    let conn = (entry.build)(&spec, credentials()).expect("built");
    assert_eq!(conn.system(), "procore");
    let checks = conn.ping().await;
    assert!(checks.iter().find(|c| c.check == "token").is_some_and(|c| c.ok), "{checks:#?}");
    assert!(checks.iter().filter(|c| c.check != "webhook hook").all(|c| c.ok), "{checks:#?}");
    assert!(conn.webhook_source().is_some());
    assert!(conn.counters().calls >= 5);
    let client = conn.as_any().downcast_ref::<ProcoreConnection>().expect("a Procore connection").client();
    assert_eq!(client.company_id(), demo::COMPANY_ID);
    // Without webhook_authorization there is no webhook source, and missing secrets are refused.
    let bare = Credentials::new().with("client_id", demo::CLIENT_ID).with("client_secret", demo::CLIENT_SECRET);
    assert!((entry.build)(&spec, bare).expect("built").webhook_source().is_none());
    let err = (entry.build)(&spec, Credentials::new()).err().expect("refused");
    assert!(err.0.contains("client_id, client_secret"), "{}", err.0);
    h.shutdown().await;
}
