//! Deltek simulator tests that span modules: snapshots.

use chrono::{NaiveDate, NaiveTime};

use super::model::FirmAddress;
use super::scenario::{demo_login, demo_scenario};
use super::state::DeltekState;

fn demo_state() -> DeltekState {
    let today = NaiveDate::from_ymd_opt(2025, 6, 16).unwrap_or_default();
    let (auth, users) = demo_login();
    let mut st = DeltekState::empty(auth, users, Default::default());
    demo_scenario(today).apply(&mut st, today.and_time(NaiveTime::MIN)).expect("applies");
    st
}

#[test]
fn a_snapshot_keeps_the_state_answers_never_show() {
    let mut st = demo_state();
    // A vendor not approved for processing, and a firm with a remit-to address.
    let unapproved: Vec<String> =
        st.firms.iter().filter(|f| !f.approved_for_processing).map(|f| f.client_id.clone()).collect();
    assert!(!unapproved.is_empty(), "the demo seeds a vendor not approved for processing");
    let addr = FirmAddress { address: "Remit".into(), ..FirmAddress::default() };
    st.firms[0].addresses.push(addr.clone());

    let snapshot = serde_json::to_value(&st).expect("snapshot");
    let back: DeltekState = serde_json::from_value(snapshot).expect("restores");
    assert_eq!(back.firms, st.firms, "every firm field survives, the hidden ones too");
    for id in &unapproved {
        let f = back.firms.iter().find(|f| &f.client_id == id).expect("firm");
        assert!(!f.approved_for_processing, "{id} must stay unapproved after a restore");
    }
    assert_eq!(back.firms[0].addresses.last(), Some(&addr));
    assert!(back.firms.iter().any(|f| f.addresses.len() > 1), "the seeded addresses survive as well");
}

#[test]
fn snapshots_of_plain_firms_still_load() {
    let st = demo_state();
    let mut snapshot = serde_json::to_value(&st).expect("snapshot");
    // An older snapshot: firms as the API shows them.
    let plain: Vec<serde_json::Value> = st.firms.iter().map(|f| serde_json::to_value(f).expect("firm")).collect();
    snapshot["firms"] = serde_json::Value::Array(plain);
    let back: DeltekState = serde_json::from_value(snapshot).expect("restores");
    assert_eq!(back.firms.len(), st.firms.len());
    assert!(back.firms.iter().all(|f| f.approved_for_processing), "older snapshots knew no approval");
}
