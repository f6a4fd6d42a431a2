//! Deltek token endpoint and bearer auth over real HTTP.

mod support;

use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::json;
use support::*;

#[tokio::test]
async fn password_grant_with_deltek_and_lowercase_keys() {
    let h = start().await;
    let c = creds(&h);
    let (s, v) = post_form(&h, &token_form(&c)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["token_type"], "bearer");
    assert_eq!(v["expires_in"], 1799);
    let at = v["access_token"].as_str().expect("at");
    assert!(at.len() >= 380 && at.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{at}");
    let rt = v["refresh_token"].as_str().expect("rt");
    assert_eq!(rt.len(), 64);
    assert!(v.get("scope").is_none());

    // SCJ's lower-case spellings, plus culture.
    let lower = vec![
        ("username", c.username.clone()),
        ("password", c.password.clone()),
        ("grant_type", "password".into()),
        ("integrated", "N".into()),
        ("DATABASE", c.database.clone()),
        ("client_id", c.client_id.clone()),
        ("Client_Secret", c.client_secret.clone()),
        ("culture", "en-US".into()),
    ];
    let (s, v) = post_form(&h, &lower).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // The token works with either scheme casing.
    let tok = v["access_token"].as_str().expect("at").to_string();
    let r = client()
        .get(format!("{}/firm?limit=1", h.base_url()))
        .header("Authorization", format!("bearer {tok}"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    h.shutdown().await;
}

#[tokio::test]
async fn oauth_errors() {
    let h = start().await;
    let c = creds(&h);
    let with = |k: &str, v: &str| {
        let mut f = token_form(&c);
        f.iter_mut().filter(|(key, _)| key.eq_ignore_ascii_case(k)).for_each(|(_, val)| *val = v.to_string());
        f
    };
    let (s, v) = post_form(&h, &with("Password", "wrong")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v, json!({"error": "invalid_grant", "error_description": "The user name or password is incorrect."}));

    let (s, v) = post_form(&h, &with("database", "C000009999P_1_OTHER")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "invalid_grant");
    assert_eq!(v["error_description"], "The database specified is not valid.");

    let (s, v) = post_form(&h, &with("client_secret", "nope")).await;
    assert_eq!((s, v["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));

    let (s, v) = post_form(&h, &with("grant_type", "client_credentials")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v, json!({"error": "unsupported_grant_type"}));

    // Disabled login: the real text, two spaces and all.
    let mut disabled = with("Username", "FORMER");
    disabled
        .iter_mut()
        .filter(|(k, _)| *k == "Password")
        .for_each(|(_, v)| *v = mlc_sim::deltek::demo::PASSWORD.into());
    let (s, v) = post_form(&h, &disabled).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "invalid_grant");
    assert_eq!(v["error_description"], "Your login has been disabled.  Please contact your system administrator.");

    // Disable the API user mid-run via the control API.
    let (s, _) =
        ctl(&h, Method::POST, "actions/set_user", Some(json!({"username": c.username, "disabled": true}))).await;
    assert_eq!(s, StatusCode::OK);
    let (_, v) = post_form(&h, &token_form(&c)).await;
    assert_eq!(v["error_description"], "Your login has been disabled.  Please contact your system administrator.");
    h.shutdown().await;
}

#[tokio::test]
async fn password_grant_not_allowed_and_culture_switches() {
    let h = start().await;
    let c = creds(&h);
    ctl(&h, Method::POST, "switches", Some(json!({"allow_password_grant": false}))).await;
    let (s, v) = post_form(&h, &token_form(&c)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "unauthorized_client");
    ctl(&h, Method::POST, "switches", Some(json!({"allow_password_grant": true, "require_culture": true}))).await;
    let (s, v) = post_form(&h, &token_form(&c)).await;
    assert_eq!((s, v["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    let mut f = token_form(&c);
    f.push(("culture", "en-US".into()));
    assert_eq!(post_form(&h, &f).await.0, StatusCode::OK);
    h.shutdown().await;
}

#[tokio::test]
async fn refresh_rotates_and_old_refresh_token_dies() {
    let h = start().await;
    let c = creds(&h);
    let (_, first) = post_form(&h, &token_form(&c)).await;
    let rt1 = first["refresh_token"].as_str().expect("rt").to_string();
    let refresh = |rt: String| {
        vec![
            ("grant_type", "refresh_token".to_string()),
            ("refresh_token", rt),
            ("database", c.database.clone()),
            ("client_id", c.client_id.clone()),
            ("client_secret", c.client_secret.clone()),
        ]
    };
    let (s, second) = post_form(&h, &refresh(rt1.clone())).await;
    assert_eq!(s, StatusCode::OK, "{second}");
    let rt2 = second["refresh_token"].as_str().expect("rt2").to_string();
    assert_ne!(rt1, rt2);
    assert_ne!(first["access_token"], second["access_token"]);
    // The old refresh token is spent.
    let (s, v) = post_form(&h, &refresh(rt1)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v, json!({"error": "invalid_grant"}));
    // The new one lives 24 h on the simulated clock.
    h.clock().advance(Duration::hours(23));
    let (s, third) = post_form(&h, &refresh(rt2)).await;
    assert_eq!(s, StatusCode::OK);
    let rt3 = third["refresh_token"].as_str().expect("rt3").to_string();
    h.clock().advance(Duration::hours(24) + Duration::seconds(1));
    let (s, _) = post_form(&h, &refresh(rt3)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Without rotation the same refresh token keeps working.
    ctl(&h, Method::POST, "switches", Some(json!({"rotate_refresh_token": false}))).await;
    let (_, t) = post_form(&h, &token_form(&c)).await;
    let rt = t["refresh_token"].as_str().expect("rt").to_string();
    let (_, a) = post_form(&h, &refresh(rt.clone())).await;
    assert_eq!(a["refresh_token"].as_str(), Some(rt.as_str()));
    assert_eq!(post_form(&h, &refresh(rt)).await.0, StatusCode::OK);
    h.shutdown().await;
}

#[tokio::test]
async fn unauthorized_expired_and_revoked_tokens() {
    let h = start().await;
    let denied = json!({"Message": "Authorization has been denied for this request."});
    // No token.
    let r = client().get(format!("{}/firm", h.base_url())).send().await.expect("send");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.json::<serde_json::Value>().await.expect("json"), denied);
    // Garbage token.
    assert_eq!(get(&h, "garbage", "firm").await, (StatusCode::UNAUTHORIZED, denied.clone()));

    // Expiry on the simulated clock: valid at 1798 s, dead at 1799 s.
    let tok = token(&h).await;
    h.clock().advance(Duration::seconds(1798));
    assert_eq!(get(&h, &tok, "firm?limit=1").await.0, StatusCode::OK);
    h.clock().advance(Duration::seconds(1));
    assert_eq!(get(&h, &tok, "firm?limit=1").await, (StatusCode::UNAUTHORIZED, denied.clone()));

    // expire_tokens: access tokens die, refresh still works.
    let (_, t) = post_form(&h, &token_form(&creds(&h))).await;
    let tok = t["access_token"].as_str().expect("at").to_string();
    let (s, v) = ctl(&h, Method::POST, "actions/expire_tokens", None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(get(&h, &tok, "firm?limit=1").await.0, StatusCode::UNAUTHORIZED);

    // revoke_tokens: every token, refresh included, stops at once.
    let tok = token(&h).await;
    assert_eq!(get(&h, &tok, "firm?limit=1").await.0, StatusCode::OK);
    let (_, v) = ctl(&h, Method::POST, "actions/revoke_tokens", Some(json!({}))).await;
    assert!(v["revoked"].as_u64().unwrap_or(0) >= 2, "{v}");
    assert_eq!(get(&h, &tok, "firm?limit=1").await.0, StatusCode::UNAUTHORIZED);
    // A new login works again.
    let tok = token(&h).await;
    assert_eq!(get(&h, &tok, "firm?limit=1").await.0, StatusCode::OK);
    h.shutdown().await;
}
