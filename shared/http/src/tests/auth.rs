//! Credentials: login, refresh on 401, single flight, fallback to login, final 401, token
//! endpoint refusals, client credentials, static headers.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use mlc_core::engine::flow::ErrorClass;
use mlc_core::secret::Redacted;

use super::*;
use crate::{ClientAuth, ClientCredentials, DefaultClassifier, HttpClient, HttpError, Request, StaticHeaders};

async fn deltek() -> (Arc<Sim>, Url, HttpClient) {
    let sim = Arc::new(Sim::default());
    let root = start(sim.clone()).await;
    let client =
        HttpClient::new(config(&root), Arc::new(deltek_grant(&root)), Arc::new(DefaultClassifier::new())).unwrap();
    (sim, root, client)
}

#[tokio::test]
async fn a_401_costs_exactly_one_refresh_then_the_call_succeeds() {
    let (sim, _root, client) = deltek().await;
    client.send(Request::get("data")).await.unwrap();
    {
        let forms = sim.token_forms.lock().unwrap();
        let login = &forms[0];
        for (k, v) in [
            ("grant_type", "password"),
            ("Username", "api-user"),
            ("Password", PASSWORD),
            ("Client_Id", "client-1"),
            ("client_secret", CLIENT_SECRET),
            ("database", "DB_1"),
            ("Integrated", "N"),
        ] {
            assert_eq!(login.get(k).map(String::as_str), Some(v), "login field {k}");
        }
    }

    sim.revoke_all_but_new();
    let r = client.send(Request::get("data")).await.unwrap();
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["authorization"], format!("Bearer access-2-{TOKEN_MARK}"));
    assert_eq!(sim.grant_types(), ["password", "refresh_token"]);
    {
        let forms = sim.token_forms.lock().unwrap();
        let refresh = &forms[1];
        assert_eq!(refresh.get("refresh_token").map(String::as_str), Some(format!("refresh-1-{TOKEN_MARK}").as_str()));
        assert_eq!(refresh.get("database").map(String::as_str), Some("DB_1"));
        assert_eq!(refresh.get("Integrated"), None, "login-only fields stay off the refresh");
    }

    // The rotated refresh token from the last answer is the one used next.
    sim.revoke_all_but_new();
    client.send(Request::get("data")).await.unwrap();
    let forms = sim.token_forms.lock().unwrap();
    assert_eq!(forms[2].get("refresh_token").map(String::as_str), Some(format!("refresh-2-{TOKEN_MARK}").as_str()));
    drop(forms);

    let stats = client.stats();
    assert_eq!((stats.calls, stats.retries, stats.auth_refreshes), (5, 2, 3));
    assert_eq!(stats.by_status.get(&401), Some(&2));
    assert_eq!(stats.by_status.get(&200), Some(&3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_401s_trigger_one_refresh() {
    let (sim, _root, client) = deltek().await;
    client.send(Request::get("data")).await.unwrap();
    sim.revoke_all_but_new();
    let mut tasks = Vec::new();
    for i in 0..10 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move { c.send(Request::get(format!("data/{i}"))).await }));
    }
    for t in tasks {
        let r = t.await.unwrap().unwrap();
        assert_eq!(r.json::<serde_json::Value>().unwrap()["authorization"], format!("Bearer access-2-{TOKEN_MARK}"));
    }
    assert_eq!(sim.grant_types(), ["password", "refresh_token"]);
    assert_eq!(client.stats().auth_refreshes, 2);
}

#[tokio::test]
async fn a_refused_refresh_falls_back_to_a_password_login() {
    let (sim, _root, client) = deltek().await;
    sim.refuse_refresh.store(true, Ordering::SeqCst);
    client.send(Request::get("data")).await.unwrap();
    sim.revoke_all_but_new();
    client.send(Request::get("data")).await.unwrap();
    assert_eq!(sim.grant_types(), ["password", "refresh_token", "password"]);
}

#[tokio::test]
async fn a_second_401_is_an_auth_error_naming_the_system() {
    let (sim, _root, client) = deltek().await;
    sim.valid_from.store(u32::MAX, Ordering::SeqCst);
    let e = client.send(Request::post("vouchers").json(&serde_json::json!({"a": 1}))).await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Auth);
    let m = e.to_string();
    assert!(m.starts_with("testsys: credentials rejected: POST /api/vouchers answered 401"), "{m}");
    assert!(m.contains("again with freshly obtained credentials"), "{m}");
    assert_eq!(sim.grant_types(), ["password", "refresh_token"]);
    assert_eq!(sim.hits("/api/vouchers"), 2);
}

#[tokio::test]
async fn token_endpoint_refusals_say_what_the_server_said() {
    let (sim, _root, client) = deltek().await;
    let cases = [
        (
            Canned::json(
                400,
                r#"{"error":"invalid_grant","error_description":"Your login has been disabled.  Please contact your system administrator."}"#,
            ),
            "answered 400 Bad Request: invalid_grant: Your login has been disabled.  Please contact your system administrator.",
        ),
        (Canned::json(400, r#"{"error":"unsupported_grant_type"}"#), "unsupported_grant_type"),
        (Canned::html(200, "<html><body>Sign in</body></html>"), "without an access token (an HTML page"),
        (Canned::json(401, ""), "answered 401 Unauthorized: an empty body"),
    ];
    for (canned, expected) in cases {
        *sim.token_answer.lock().unwrap() = Some(canned);
        let before = sim.grant_types().len();
        let e = client.send(Request::get("data")).await.unwrap_err();
        assert!(matches!(e, HttpError::Auth { .. }), "{e:?}");
        let m = e.to_string();
        assert!(m.starts_with("testsys: credentials rejected: token endpoint /token"), "{m}");
        assert!(m.contains(expected), "{m}");
        // A refused password is not retried in a loop (lockouts).
        assert_eq!(sim.grant_types().len(), before + 1);
    }
    assert_eq!(sim.hits("/api/data"), 0);
    // A token endpoint in trouble is retryable, and a read waits for it.
    *sim.token_answer.lock().unwrap() = Some(Canned::json(503, "{}"));
    let e = client.send(Request::get("data")).await.unwrap_err();
    assert!(matches!(e.class(), ErrorClass::Retryable { .. }), "{e:?}");
    assert_eq!(client.stats().retries, 2);
}

#[tokio::test]
async fn client_credentials_in_the_form_or_as_basic() {
    let sim = Arc::new(Sim::default());
    let root = start(sim.clone()).await;
    let token_url = root.join("token").unwrap();
    let secret = || Redacted::new(CLIENT_SECRET.to_string());

    let form = ClientCredentials::new(token_url.clone(), "coupa-client", secret())
        .scope("core.invoice.read core.supplier.read");
    let c = HttpClient::new(config(&root), Arc::new(form), Arc::new(DefaultClassifier::new())).unwrap();
    c.send(Request::get("invoices")).await.unwrap();

    let basic = ClientCredentials::new(token_url, "coupa-client", secret()).client_auth(ClientAuth::Basic);
    let c = HttpClient::new(config(&root), Arc::new(basic), Arc::new(DefaultClassifier::new())).unwrap();
    c.send(Request::get("invoices")).await.unwrap();
    // No refresh token flow: a 401 asks for a brand-new token.
    sim.revoke_all_but_new();
    c.send(Request::get("invoices")).await.unwrap();

    let forms = sim.token_forms.lock().unwrap();
    let basics = sim.token_basic.lock().unwrap();
    assert_eq!(forms[0].get("grant_type").map(String::as_str), Some("client_credentials"));
    assert_eq!(forms[0].get("scope").map(String::as_str), Some("core.invoice.read core.supplier.read"));
    assert_eq!(forms[0].get("client_secret").map(String::as_str), Some(CLIENT_SECRET));
    assert_eq!(basics[0], None);
    assert_eq!(forms[1].get("client_secret"), None);
    assert!(basics[1].as_deref().is_some_and(|b| b.starts_with("Basic ")));
    assert_eq!(forms[2].get("grant_type").map(String::as_str), Some("client_credentials"));
}

#[tokio::test]
async fn static_headers_are_sent_and_a_401_is_final_at_once() {
    let sim = Arc::new(Sim::default());
    let root = start(sim.clone()).await;
    let auth = StaticHeaders::new([
        ("api-auth-accountid", Redacted::new("acct-704ef231-cd93".to_string())),
        ("api-auth-applicationkey", Redacted::new(API_KEY.to_string())),
    ]);
    let c = HttpClient::new(config(&root), Arc::new(auth), Arc::new(DefaultClassifier::new())).unwrap();
    c.send(Request::get("supplier")).await.unwrap();
    let seen = sim.seen_headers.lock().unwrap()[0].clone();
    assert_eq!(seen.get("api-auth-applicationkey").unwrap(), API_KEY);
    assert_eq!(seen.get("api-auth-accountid").unwrap(), "acct-704ef231-cd93");

    sim.script("/api/supplier", [Canned::json(401, "{}")]);
    let e = c.send(Request::get("supplier")).await.unwrap_err();
    assert!(e.to_string().contains("cannot be renewed"), "{e}");
    assert_eq!(sim.hits("/api/supplier"), 2);

    let bad = StaticHeaders::new([("bad header", Redacted::new("x".to_string()))]);
    let c = HttpClient::new(config(&root), Arc::new(bad), Arc::new(DefaultClassifier::new())).unwrap();
    let e = c.send(Request::get("supplier")).await.unwrap_err();
    assert_eq!((e.class(), e.system()), (ErrorClass::Permanent, "testsys"));
}
