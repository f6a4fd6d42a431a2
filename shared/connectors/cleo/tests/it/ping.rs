//! `mlc ping cleo`: every check passing, and each failure with its fix.

use mlc_sim::cleo::scenario::demo;
use mlc_sim::cleo::switches::PermissionStyle;
use serde_json::json;

use crate::support::*;

fn lines(checks: &[mlc_core::ping::PingCheck]) -> Vec<(String, bool)> {
    checks.iter().map(|c| (c.check.clone(), c.ok)).collect()
}

#[tokio::test]
async fn every_check_passes_on_the_demo_tenant() {
    let env = start().await;
    let checks = env.client.ping().await;
    assert!(checks.iter().all(|c| c.ok), "{checks:#?}");
    let names: Vec<String> = checks.iter().map(|c| c.check.clone()).collect();
    assert_eq!(&names[..4], &["sign in", "two-factor", "folder granite-acks", "upload permission granite-acks"]);
    assert_eq!(names.len(), 2 + 2 * 8);
    assert!(checks[2].detail.contains("GRANITERIDGE/acks lists (0 files)"), "{}", checks[2].detail);
    assert!(checks.iter().any(|c| c.check == "download permission granite-in" && c.detail.contains("allows download")));
    assert_eq!(env.client.stats().by_status.get(&429), None);
}

#[tokio::test]
async fn a_two_factor_account_fails_two_lines_and_names_the_skipped_checks_once() {
    let env = start().await;
    let c = env.client_as(demo::TWO_FACTOR_USERNAME, demo::TWO_FACTOR_PASSWORD, json!({}));
    let checks = c.ping().await;
    assert_eq!(
        lines(&checks),
        vec![("sign in".into(), false), ("two-factor".into(), false), ("skipped".into(), false)]
    );
    assert!(
        checks[1].fix.as_deref().is_some_and(|f| f.starts_with("use a service account without 2FA")),
        "{:?}",
        checks[1]
    );
    assert!(
        checks[2].detail.contains("folder statedot-out") && checks[2].detail.contains("(two-factor authentication)")
    );
}

#[tokio::test]
async fn a_wrong_password_or_an_unreachable_tenant_fails_sign_in_and_skips_the_rest_in_one_line() {
    let env = start().await;
    let checks = env.client_as(demo::USERNAME, "nope", json!({})).ping().await;
    assert_eq!(lines(&checks), vec![("sign in".into(), false), ("skipped".into(), false)]);
    assert!(checks[0].fix.as_deref().is_some_and(|f| f.contains("check the username and password")), "{:?}", checks[0]);
    assert!(
        checks[1].detail.starts_with("not checked because sign-in failed: two-factor, folder granite-acks"),
        "{}",
        checks[1].detail
    );
    let dead = env.client(json!({"base_url": "http://127.0.0.1:9", "max_attempts": 1}));
    let checks = dead.ping().await;
    assert_eq!(lines(&checks), vec![("sign in".into(), false), ("skipped".into(), false)]);
    assert!(checks[0].detail.contains("could not reach Cleo at http://127.0.0.1:9/"), "{}", checks[0].detail);
}

#[tokio::test]
async fn wrong_folders_and_missing_permissions_fail_their_own_lines() {
    let env = start_opts(json!({"folders": {
        "a-wrong-mailbox": {"mailbox": "STATE-DOT", "folder": "to-partner", "direction": "outbound"},
        "b-wrong-folder": {"mailbox": "STATEDOT", "folder": "outbound", "direction": "outbound"},
        "c-wrong-direction": {"mailbox": "STATEDOT", "folder": "from-partner", "direction": "outbound"},
        "d-ok": {"mailbox": "GRANITERIDGE", "folder": "inbound", "direction": "inbound"},
    }}))
    .await;
    let checks = env.client.ping().await;
    let by =
        |name: &str| checks.iter().find(|c| c.check == name).unwrap_or_else(|| panic!("{name}: {checks:#?}")).clone();
    let a = by("folder a-wrong-mailbox");
    assert!(
        !a.ok
            && a.detail.contains("(upload permission not checked)")
            && a.fix.as_deref().is_some_and(|f| f.contains("can open STATEDOT")),
        "{a:?}"
    );
    let b = by("folder b-wrong-folder");
    assert!(!b.ok && b.fix.as_deref().is_some_and(|f| f.contains("to-partner, from-partner")), "{b:?}");
    let c = by("upload permission c-wrong-direction");
    assert!(
        !c.ok
            && c.detail.contains("does not allow upload")
            && c.fix.as_deref().is_some_and(|f| f.contains("direction")),
        "{c:?}"
    );
    assert!(by("folder c-wrong-direction").ok);
    assert!(by("download permission d-ok").ok);
    assert_eq!(
        checks
            .iter()
            .filter(|x| x.check.starts_with("upload permission a-") || x.check.starts_with("upload permission b-"))
            .count(),
        0
    );
    // A tenant that hides permissions: passes, saying the first transfer proves it.
    env.sim.system().set_switch(|s| s.permission_style = PermissionStyle::Hidden);
    let checks = env
        .client(json!({"folders": {"d-ok": {"mailbox": "GRANITERIDGE", "folder": "inbound", "direction": "inbound"}}}))
        .ping()
        .await;
    let p = checks.iter().find(|c| c.check == "download permission d-ok").expect("line");
    assert!(p.ok && p.detail.contains("does not show folder permissions"), "{p:?}");
}
