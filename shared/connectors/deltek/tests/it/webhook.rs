//! The workflow webhook: Basic credentials verified first, then the arguments read.

use base64::Engine as _;
use mlc_core::engine::intake::{WebhookRequest, WebhookSource};
use mlc_core::secret::Credentials;
use mlc_deltek::{DeltekClient, DeltekSettings};
use serde_json::json;

fn client(with_creds: bool, extra: serde_json::Value) -> DeltekClient {
    let mut opts = json!({ "base_url": "https://acme.deltekfirst.com/Acme/api", "database": "DB" });
    if let (serde_json::Value::Object(o), serde_json::Value::Object(e)) = (&mut opts, extra) {
        o.extend(e);
    }
    let mut c = Credentials::new()
        .with("username", "api")
        .with("password", "pw")
        .with("client_id", "id")
        .with("client_secret", "cs");
    if with_creds {
        c = c
            .with("webhook_username", "vp-hook")
            .with("webhook_password", "s3cret:with:colons")
            .with("webhook_password_previous", "old-pass");
    }
    DeltekClient::new(DeltekSettings::from_options("deltek", &opts).unwrap(), c).unwrap()
}

fn basic(user: &str, pass: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}")))
}

fn req<'a>(headers: &'a [(String, String)], body: &'a [u8]) -> WebhookRequest<'a> {
    WebhookRequest { connection: "deltek", headers, body, received_at: chrono::Utc::now() }
}

#[test]
fn basic_credentials_are_verified() {
    let src = client(true, json!({})).webhook_source();
    assert_eq!(src.system(), "deltek");
    let ok = [("authorization".to_string(), basic("vp-hook", "s3cret:with:colons"))];
    src.verify(&req(&ok, b"{}")).expect("good credentials");
    let rotated = [("authorization".to_string(), basic("vp-hook", "old-pass"))];
    src.verify(&req(&rotated, b"{}")).expect("the previous password during rotation");
    for bad in [
        basic("vp-hook", "s3cret:with:colonS"),
        basic("VP-hook", "s3cret:with:colons"),
        basic("vp-hook", ""),
        "Bearer x".into(),
        "Basic !!!".into(),
    ] {
        let h = [("authorization".to_string(), bad.clone())];
        let e = src.verify(&req(&h, b"{}")).unwrap_err();
        assert_eq!(e.status(), 401, "{bad}");
        assert_eq!(e.public_message(), "", "a failed verification tells the caller nothing");
    }
    assert_eq!(src.verify(&req(&[], b"{}")).unwrap_err().status(), 401, "missing header");
    // No credentials configured: refused unless explicitly allowed.
    assert_eq!(client(false, json!({})).webhook_source().verify(&req(&[], b"{}")).unwrap_err().status(), 401);
    client(false, json!({ "webhook_allow_unauthenticated": true })).webhook_source().verify(&req(&[], b"{}")).unwrap();
}

#[test]
fn arguments_become_events() {
    let src = client(true, json!({})).webhook_source();
    let body = br#"{"Invoice": " 0024102 ", "wbs1": "2024003.00", "Event": "Invoice approved"}"#;
    let ev = src.parse(&req(&[], body)).unwrap();
    assert_eq!(ev.len(), 1);
    assert_eq!((ev[0].entity.as_str(), ev[0].id.as_str()), ("ar-invoice", "2024003.00|0024102"));
    assert_eq!(ev[0].event_type, "Invoice approved");
    assert!(ev[0].delivery_id.as_ref().is_some_and(|d| d.len() == 32));
    let ev = src.parse(&req(&[], br#"[{"Vendor": "CASCSURV"}, {"ClientID": "abc"}]"#)).unwrap();
    assert_eq!(ev.iter().map(|e| e.entity.as_str()).collect::<Vec<_>>(), vec!["vendor", "firm"]);
    assert_ne!(ev[0].delivery_id, ev[1].delivery_id);
    assert!(
        src.parse(&req(&[], br#"{"Something": "else"}"#)).unwrap().is_empty(),
        "unknown arguments: acknowledged, no event"
    );
    // Garbage after verification: a 400 that says what was expected.
    for garbage in [&b"not json"[..], b"42", b"[1,2]"] {
        let e = src.parse(&req(&[], garbage)).unwrap_err();
        assert_eq!(e.status(), 400);
        assert!(e.public_message().contains("JSON object of arguments"), "{}", e.public_message());
    }
    // Custom mappings.
    let custom = client(true, json!({ "webhook_entities": [{ "entity": "project", "args": ["ProjectNumber"] }] }))
        .webhook_source();
    let ev = custom.parse(&req(&[], br#"{"ProjectNumber": 2024003}"#)).unwrap();
    assert_eq!((ev[0].entity.as_str(), ev[0].id.as_str()), ("project", "2024003"));
}
