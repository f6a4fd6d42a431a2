//! Nothing lost, nothing hidden (issue 10) on the demo's own data: two different bills with the
//! same vendor + invoice number, pairing with firms keyed by hand, country codes.

use mlc_core::engine::ReviewDecision;
use mlc_core::engine::model::{ItemState, codes};
use mlc_core::engine::ports::Store;
use mlc_core::mapping::{Mapping, MappingKey, MappingKind};
use mlc_sim::cin7::{Cin7Sim, scenario as cin7_scenario};
use mlc_sim::deltek::DeltekSim;
use mlc_sim::world::SimWorld;
use serde_json::json;

use crate::support::{Harness, flow};

async fn world(purchases: usize) -> SimWorld {
    crate::support::cin7_deltek_world(purchases).await
}

async fn harness(w: &SimWorld) -> Harness {
    let h = Harness::new(
        w,
        vec![
            ("cin7-deltek-vendors", flow(None, "cin7", "deltek", json!({}))),
            ("cin7-deltek-ap", flow(None, "cin7", "deltek", json!({"initial_lookback_days": 0}))),
        ],
    )
    .await;
    for (code, gl) in cin7_scenario::ACCOUNT_HINTS {
        let m = Mapping {
            key: MappingKey::new("cin7-deltek", MappingKind::ACCOUNT, code),
            target: gl.to_string(),
            note: None,
            updated_at: chrono::Utc::now(),
        };
        h.engine().add_mapping(m).await.expect("mapping");
    }
    // Cin7 purchases carry Deltek's WBS key in an attribute: identity mappings, as the demo imports.
    let cin7 = w.system::<Cin7Sim>("cin7").expect("cin7");
    let projects: std::collections::BTreeSet<String> = cin7
        .lock()
        .purchases
        .iter()
        .filter_map(|p| p.additional_attributes.get(cin7_scenario::PROJECT_ATTRIBUTE).cloned())
        .collect();
    for p in projects {
        let m = Mapping {
            key: MappingKey::new("cin7-deltek", MappingKind::PROJECT, &p),
            target: p.clone(),
            note: None,
            updated_at: chrono::Utc::now(),
        };
        h.engine().add_mapping(m).await.expect("mapping");
    }
    h
}

#[tokio::test]
async fn a_different_bill_with_an_already_posted_number_is_held_side_by_side_and_posts_after_review() {
    let w = world(300).await;
    let h = harness(&w).await;
    h.run("cin7-deltek-vendors").await;
    h.run("cin7-deltek-ap").await;
    let items = h.items("cin7-deltek-ap").await;
    let rent: Vec<_> = items.iter().filter(|i| i.summary.label.contains("RENT-202411 ")).collect();
    assert_eq!(rent.len(), 2, "the demo data holds two RENT-202411 bills from one supplier: {rent:#?}");
    let posted: Vec<_> = rent.iter().filter(|i| i.state == ItemState::Posted).collect();
    let held: Vec<_> = rent.iter().filter(|i| i.state == ItemState::NeedsReview).collect();
    assert_eq!((posted.len(), held.len()), (1, 1), "one posts; the other is held, never skipped: {rent:#?}");
    let held = held[0];
    assert_eq!(held.code.as_deref(), Some(codes::POSSIBLE_DUPLICATE));
    let c = held.conflict.as_ref().expect("both documents side by side");
    assert_eq!(c.existing_item.as_ref(), Some(&posted[0].key));
    assert_ne!(c.this.amount, c.existing.amount, "the two bills differ: {c:?}");
    // Nothing anywhere is skipped as "already posted" unless its own document posted.
    for i in items.iter().filter(|i| i.code.as_deref() == Some(codes::ALREADY_POSTED)) {
        assert!(
            items.iter().any(|o| o.doc_id == i.doc_id && o.state == ItemState::Posted),
            "{} skipped wrongly",
            i.key
        );
    }

    // The clerk decides both are real bills: post the second under a suffixed number.
    h.engine()
        .review(&held.key, ReviewDecision::PostAs("RENT-202411-2".into()), "clerk", "two leases billed the same month")
        .await
        .expect("review");
    h.settle(std::time::Duration::from_secs(20)).await;
    let after = h.store.get_item(&held.key).await.unwrap().unwrap();
    assert_eq!(after.state, ItemState::Posted, "{:?}", after.reason);
    assert!(after.natural_key.as_deref().is_some_and(|k| k.ends_with("#RENT-202411-2")));
    let deltek = w.system::<DeltekSim>("deltek").unwrap();
    let numbers: Vec<String> = deltek
        .lock()
        .ap_files
        .iter()
        .flat_map(|f| f.masters.iter().map(|m| m.invoice.clone()))
        .filter(|n| n.starts_with("RENT-202411"))
        .collect();
    assert_eq!(numbers.len(), 2, "both bills are in Deltek once each: {numbers:?}");
}

#[tokio::test]
async fn pairing_with_firms_keyed_by_hand_writes_nothing_and_a_later_change_sends_only_that_field() {
    let w = world(10).await;
    let h = harness(&w).await;
    h.run("cin7-deltek-vendors").await;
    let deltek = w.handle("deltek").unwrap();
    assert_eq!(deltek.calls().count("PUT", "/firm/{ClientID}"), 0, "pairing alone writes nothing");
    let paired = h
        .items("cin7-deltek-vendors")
        .await
        .into_iter()
        .find(|i| i.state == ItemState::Skipped && i.code.as_deref() == Some(codes::ALREADY_IN_TARGET))
        .expect("a supplier paired with a firm keyed by hand");
    // Firms we created carry ISO country codes, never names.
    let sim = w.system::<DeltekSim>("deltek").unwrap();
    for f in sim.lock().firms.iter().filter(|f| !f.primary_country.is_empty()) {
        assert_eq!(f.primary_country.len(), 2, "firm {} has country {:?}", f.name, f.primary_country);
    }

    // The supplier's phone changes in Cin7; the firm gets that field, and no other.
    let vendor_no = paired.target.as_ref().map(|t| t.id.split('|').next().unwrap_or_default().to_string()).unwrap();
    let firm_of = |v: &str| sim.lock().firms.iter().find(|f| f.vendor.eq_ignore_ascii_case(v)).cloned().unwrap();
    let before = firm_of(&vendor_no);
    let cin7 = w.system::<Cin7Sim>("cin7").unwrap();
    {
        let mut st = cin7.lock();
        let s = st.suppliers.iter_mut().find(|s| s.id.eq_ignore_ascii_case(&paired.doc_id)).expect("supplier");
        if s.contacts.is_empty() {
            s.contacts.push(Default::default());
            s.contacts[0].name = "Accounts".into();
        }
        s.contacts[0].phone = "+1 206 555 0199".into();
        s.last_modified = chrono::Utc::now();
    }
    h.run("cin7-deltek-vendors").await;
    assert_eq!(deltek.calls().count("PUT", "/firm/{ClientID}"), 1, "one update for the one changed supplier");
    let after = firm_of(&vendor_no);
    assert_eq!(after.primary_phone, "+1 206 555 0199");
    assert_eq!(
        (&after.name, &after.fed_id, &after.primary_address1, &after.primary_country),
        (&before.name, &before.fed_id, &before.primary_address1, &before.primary_country),
        "the firm's own spelling of what did not change at the source is kept"
    );
}

#[tokio::test]
async fn a_vendor_firm_whose_create_answer_was_lost_is_posted_by_its_own_item_not_skipped() {
    let w = world(10).await;
    let h = harness(&w).await;
    // Every new firm's create lands in Deltek but its answer is lost, the first three times.
    w.handle("deltek")
        .expect("deltek")
        .faults()
        .add(mlc_sim::common::FaultRule::new("POST", "/firm", mlc_sim::common::Fault::commit_then_reset(20)).times(3));
    h.run("cin7-deltek-vendors").await;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    h.settle(std::time::Duration::from_secs(30)).await;
    let items = h.items("cin7-deltek-vendors").await;
    let mut lost_answers = 0;
    for i in &items {
        let events: Vec<String> =
            h.store.audit_trail(&i.key).await.expect("trail").into_iter().map(|e| e.event).collect();
        if events.iter().any(|e| e == "in_doubt") {
            lost_answers += 1;
            assert_eq!(
                (i.state, i.code.as_deref()),
                (ItemState::Posted, Some(codes::POSTED)),
                "{}: our own create landed, so this item posted it: {events:?}",
                i.key
            );
        }
    }
    assert!(lost_answers >= 1, "the faults hit firm creates: {lost_answers}");
}
