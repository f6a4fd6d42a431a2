//! Conformance suites for the ports. Every adapter (in-memory, SQLite, DynamoDB, SQS, secret
//! stores) runs the same suite from its own tests, so all homes behave alike:
//!
//! ```text
//! #[tokio::test]
//! async fn sqlite_store_conforms() {
//!     mlc_core::testkit::store_conformance(&SqliteStore::open_in_memory().unwrap()).await;
//! }
//! ```
//!
//! The suites panic with a message naming the broken rule. They use fixed timestamps (from
//! [`t0`]) rather than a clock, so adapters must honour the `now` they are given.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use crate::engine::model::{
    AuditEntry, Cursor, FailureClass, Hint, ItemFilter, ItemKey, ItemState, ItemSummary, NewItem, Origin, TargetRef,
    Transition,
};
use crate::engine::ports::{ClaimResult, ManualClock, Queue, SecretStore, Store, StoreError};
use crate::mapping::{Mapping, MappingKey, MappingKind};
use crate::secret::Credentials;

/// The suites' start time.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).single().expect("valid time")
}

fn secs(n: i64) -> chrono::Duration {
    chrono::Duration::seconds(n)
}

/// A hint for tests.
pub fn hint(flow: &str, id: &str, origin: Origin) -> Hint {
    Hint::new(flow, "src", "doc", id, origin, t0())
}

/// A new item for tests.
pub fn new_item(flow: &str, id: &str, version: &str, origin: Origin) -> NewItem {
    NewItem {
        hint: hint(flow, id, origin),
        entity: "doc".into(),
        doc_id: id.into(),
        version: version.into(),
        summary: ItemSummary { label: format!("doc {id}"), ..Default::default() },
        read_at: t0(),
    }
}

fn audit(at: DateTime<Utc>, event: &str) -> AuditEntry {
    AuditEntry::new(at, "suite", event, format!("event {event}"))
}

/// The [`Store`] contract.
pub async fn store_conformance(store: &dyn Store) {
    let now = t0();

    // register: new, then the same key again from another origin.
    let (a, created) = store.register(new_item("f", "A", "v1", Origin::Webhook), now).await.expect("register");
    assert!(created, "first register must create");
    assert_eq!(a.state, ItemState::Pending);
    assert_eq!(a.key, ItemKey::new("f", "src", "A", "v1"));
    assert!(a.seen_by_webhook && !a.seen_by_poll);
    let mut again = new_item("f", "A", "v1", Origin::Poll);
    again.read_at = now + secs(1);
    let (a2, created) = store.register(again, now + secs(1)).await.expect("register again");
    assert!(!created, "second register of the same key must not create");
    assert_eq!(a2.read_at, now + secs(1), "register must move read_at forward");
    let mut stale = new_item("f", "A", "v1", Origin::Poll);
    stale.read_at = now - secs(5);
    let (a3, _) = store.register(stale, now + secs(1)).await.unwrap();
    assert_eq!(a3.read_at, now + secs(1), "register must never move read_at back");
    assert!(a2.seen_by_webhook && a2.seen_by_poll, "register must note the second origin");
    assert_eq!(a2.created_at, now, "register must not reset created_at");
    let got = store.get_item(&a.key).await.expect("get").expect("present");
    assert!(got.seen_by_poll, "origin flag must be stored");
    assert_eq!(got.summary.label, "doc A");

    // claim: acquire, held, lapse, re-acquire.
    let until = now + secs(60);
    let c1 = store.claim(&a.key, "w1", now, until).await.expect("claim");
    let ClaimResult::Acquired(ci) = c1 else { panic!("first claim must be acquired, got {c1:?}") };
    assert_eq!(ci.attempts, 1, "claim must count the attempt");
    assert_eq!(ci.claim.as_ref().map(|c| c.owner.as_str()), Some("w1"));
    match store.claim(&a.key, "w2", now + secs(10), now + secs(70)).await.expect("claim 2") {
        ClaimResult::Held { owner, until: u } => {
            assert_eq!(owner, "w1");
            assert_eq!(u, until);
        }
        other => panic!("a live claim must hold off another worker, got {other:?}"),
    }
    // Transition by a stranger while the claim is live is refused and changes nothing.
    let t = Transition::to(ItemState::Skipped, audit(now, "x")).reason("nope");
    match store.transition(&a.key, "w2", t, now + secs(11)).await {
        Err(StoreError::ClaimLost { holder, .. }) => assert_eq!(holder, "w1"),
        other => panic!("a transition by a non-owner must fail with ClaimLost, got {other:?}"),
    }
    assert_eq!(store.get_item(&a.key).await.unwrap().unwrap().state, ItemState::Pending);
    // The claim lapses: another worker takes it.
    let c3 = store.claim(&a.key, "w2", now + secs(61), now + secs(121)).await.expect("claim 3");
    let ClaimResult::Acquired(ci3) = c3 else { panic!("a lapsed claim must be free, got {c3:?}") };
    assert_eq!(ci3.attempts, 2);
    // The old owner is fenced out now.
    let t = Transition::to(ItemState::Posted, audit(now, "late"));
    assert!(
        matches!(store.transition(&a.key, "w1", t, now + secs(62)).await, Err(StoreError::ClaimLost { .. })),
        "the first worker must be fenced out after its claim was taken"
    );

    // in-doubt marker keeps the claim; posted releases it and stores target + natural key.
    let mut marker = Transition::to(ItemState::InDoubt, audit(now + secs(63), "write_sent")).reason("sent");
    marker.release_claim = false;
    marker.natural_key = Some("V1#INV1".into());
    marker.nk_scope = Some("deltek-east".into());
    let m = store.transition(&a.key, "w2", marker, now + secs(63)).await.expect("marker");
    assert_eq!(m.state, ItemState::InDoubt);
    assert_eq!(m.in_doubt_since, Some(now + secs(63)), "entering in_doubt must stamp in_doubt_since");
    assert!(m.claim.is_some(), "release_claim=false must keep the claim");
    let mut posted = Transition::to(ItemState::Posted, audit(now + secs(64), "posted")).reason("created");
    posted.target = Some(TargetRef {
        system: "tgt".into(),
        entity: "invoice".into(),
        id: "B1|M1".into(),
        display: Some("file B1".into()),
        status: Some("draft".into()),
    });
    let p = store.transition(&a.key, "w2", posted, now + secs(64)).await.expect("posted");
    assert_eq!(p.state, ItemState::Posted);
    assert!(p.claim.is_none(), "a transition releases the claim by default");
    assert_eq!(p.in_doubt_since, None);
    assert_eq!(p.natural_key.as_deref(), Some("V1#INV1"), "natural key must survive later transitions");
    assert_eq!(p.target.as_ref().map(|t| t.id.as_str()), Some("B1|M1"));
    assert_eq!(p.updated_at, now + secs(64));
    // Terminal items cannot be claimed.
    assert!(matches!(
        store.claim(&a.key, "w3", now + secs(200), now + secs(260)).await.unwrap(),
        ClaimResult::Finished(_)
    ));
    assert_eq!(p.nk_scope.as_deref(), Some("deltek-east"), "the natural key's scope must survive later transitions");
    // Natural keys are unique per target connection, whichever flow posted them.
    let found = store.holding_natural_key("deltek-east", "another-flow", "V1#INV1").await.expect("nk");
    assert_eq!(found.len(), 1);
    assert!(store.holding_natural_key("deltek-west", "f", "V1#INV1").await.unwrap().is_empty());

    // audit: claims and transitions, in order.
    let trail = store.audit_trail(&a.key).await.expect("trail");
    let events: Vec<&str> = trail.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(events, ["claimed", "claimed", "write_sent", "posted"], "audit trail order");
    assert_eq!(trail[1].attempt, 2);
    store.append_audit(&a.key, audit(now + secs(65), "note")).await.expect("append");
    assert_eq!(store.audit_trail(&a.key).await.unwrap().len(), 5);

    // needs_mapping index, open versions, failure class, replay reset.
    let (b, _) = store.register(new_item("f", "B", "v1", Origin::Poll), now).await.unwrap();
    let (b2, _) = store.register(new_item("f", "B", "v2", Origin::Poll), now).await.unwrap();
    let k1 = MappingKey::new("s", MappingKind::ACCOUNT, "200");
    let k2 = MappingKey::new("s", MappingKind::VENDOR, "SUP1");
    let ClaimResult::Acquired(_) = store.claim(&b.key, "w1", now, now + secs(60)).await.unwrap() else {
        panic!("claim b")
    };
    let mut nm = Transition::to(ItemState::NeedsMapping, audit(now, "needs_mapping")).reason("waiting");
    nm.missing = vec![k1.clone(), k2.clone()];
    store.transition(&b.key, "w1", nm, now + secs(1)).await.expect("needs mapping");
    let waiting = store.items_waiting_for(&k2).await.expect("waiting");
    assert_eq!(waiting.len(), 1, "needs_mapping items must be found by each missing key");
    assert_eq!(waiting[0].missing, vec![k1.clone(), k2.clone()]);
    assert!(store.items_waiting_for(&MappingKey::new("s", MappingKind::ACCOUNT, "999")).await.unwrap().is_empty());
    let open = store.open_versions("f", "src", "B", None).await.expect("open");
    assert_eq!(open.len(), 2, "both versions of B are open");
    let others = store.open_versions("f", "src", "B", Some(&b.key)).await.expect("open");
    assert_eq!(others.len(), 1, "the other version of B, without the one left out");
    assert_eq!(others[0].key, b2.key);
    let missing = ItemKey::new("f", "src", "no-such-doc", "v1");
    let mut many = store.get_items(&[b2.key.clone(), missing, b.key.clone()]).await.expect("get_items");
    many.sort_by(|x, y| x.key.cmp(&y.key));
    let mut want = vec![b.key.clone(), b2.key.clone()];
    want.sort();
    assert_eq!(many.iter().map(|i| i.key.clone()).collect::<Vec<_>>(), want, "get_items leaves out missing keys");
    // Leaving needs_mapping clears the missing keys and the index.
    let mut failed = Transition::to(ItemState::Failed, audit(now, "failed")).reason("boom");
    failed.failure = Some(FailureClass::Permanent);
    let f = store.transition(&b.key, "w9", failed, now + secs(2)).await.expect("unclaimed item may be written");
    assert!(f.missing.is_empty());
    assert_eq!(f.failure, Some(FailureClass::Permanent));
    assert!(store.items_waiting_for(&k2).await.unwrap().is_empty(), "index must follow the state");
    let mut replay = Transition::to(ItemState::Pending, audit(now, "replay_requested")).reason("fixed");
    replay.reset_attempts = true;
    let r = store.transition(&b.key, "w9", replay, now + secs(3)).await.unwrap();
    assert_eq!(r.attempts, 0);
    assert_eq!(r.failure, None);

    // listing, filters and counts.
    let all = store.list_items(&ItemFilter::default()).await.expect("list");
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].key, a.key, "newest update first");
    let pending =
        store.list_items(&ItemFilter { state: Some(ItemState::Pending), ..Default::default() }).await.unwrap();
    assert_eq!(pending.len(), 2);
    let text = store.list_items(&ItemFilter { text: Some("doc b".into()), ..Default::default() }).await.unwrap();
    assert_eq!(text.len(), 2, "text filter matches labels case-insensitively");
    let limited = store.list_items(&ItemFilter { limit: Some(1), ..Default::default() }).await.unwrap();
    assert_eq!(limited.len(), 1);
    let counts = store.state_counts().await.expect("counts");
    let pend = counts.iter().find(|c| c.flow == "f" && c.state == ItemState::Pending).expect("pending count");
    assert_eq!(pend.count, 2);
    assert_eq!(pend.oldest, Some(b2.updated_at));

    // blobs
    store.put_blob("abc", b"hello").await.expect("blob");
    store.put_blob("abc", b"hello").await.expect("blob twice");
    assert_eq!(store.get_blob("abc").await.unwrap().as_deref(), Some(&b"hello"[..]));
    assert_eq!(store.get_blob("nope").await.unwrap(), None);

    // cursors: compare-and-set.
    let c = |v: &str| Cursor { flow: "f".into(), value: v.into(), updated_at: now };
    assert_eq!(store.get_cursor("f").await.unwrap(), None);
    assert!(!store.cas_cursor("f", Some("x"), &c("1")).await.unwrap(), "CAS from a wrong expectation must fail");
    assert!(store.cas_cursor("f", None, &c("1")).await.unwrap(), "CAS from none");
    assert!(!store.cas_cursor("f", None, &c("2")).await.unwrap(), "CAS from none when one exists must fail");
    assert!(store.cas_cursor("f", Some("1"), &c("2")).await.unwrap());
    assert_eq!(store.get_cursor("f").await.unwrap().unwrap().value, "2");
    assert_eq!(store.list_cursors().await.unwrap().len(), 1);

    // mappings
    let mk = |k: &MappingKey, t: &str| Mapping { key: k.clone(), target: t.into(), note: None, updated_at: now };
    store.put_mapping(&mk(&k1, "5100")).await.unwrap();
    store.put_mapping(&mk(&k1, "5200")).await.unwrap();
    store.put_mapping(&mk(&MappingKey::new("other", MappingKind::ACCOUNT, "200"), "9")).await.unwrap();
    let got = store.get_mappings(&[k1.clone(), k2.clone()]).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].target, "5200", "put overwrites");
    assert_eq!(store.list_mappings(Some("s")).await.unwrap().len(), 1);
    assert_eq!(store.list_mappings(None).await.unwrap().len(), 2);
    assert!(store.delete_mapping(&k1).await.unwrap());
    assert!(!store.delete_mapping(&k1).await.unwrap());

    // named locks
    let l = store.try_lock("nk#f#V1#INV9", "w1", now, now + secs(60)).await.expect("lock");
    assert_eq!(l, None, "a free lock is acquired");
    assert_eq!(
        store.try_lock("nk#f#V1#INV9", "w1", now + secs(1), now + secs(61)).await.unwrap(),
        None,
        "re-entrant for its owner"
    );
    let held = store.try_lock("nk#f#V1#INV9", "w2", now + secs(2), now + secs(62)).await.unwrap();
    assert_eq!(held.map(|c| c.owner), Some("w1".to_string()), "a live lock holds off others");
    store.unlock("nk#f#V1#INV9", "w2").await.unwrap();
    assert!(
        store.try_lock("nk#f#V1#INV9", "w2", now + secs(3), now + secs(63)).await.unwrap().is_some(),
        "only the owner unlocks"
    );
    store.unlock("nk#f#V1#INV9", "w1").await.unwrap();
    assert_eq!(store.try_lock("nk#f#V1#INV9", "w2", now + secs(4), now + secs(64)).await.unwrap(), None, "unlocked");
    assert_eq!(
        store.try_lock("nk#f#V1#INV9", "w3", now + secs(65), now + secs(125)).await.unwrap(),
        None,
        "a lapsed lock is free"
    );

    // delivery dedup with expiry
    let ttl = Duration::from_secs(600);
    assert!(store.first_delivery("cin7", "d1", now, ttl).await.unwrap());
    assert!(!store.first_delivery("cin7", "d1", now + secs(5), ttl).await.unwrap(), "repeat delivery");
    assert!(store.first_delivery("coupa", "d1", now + secs(5), ttl).await.unwrap(), "ids are per system");
    assert!(store.first_delivery("cin7", "d1", now + secs(601), ttl).await.unwrap(), "expired ids are forgotten");

    // seen versions
    assert_eq!(store.seen_version("rk").await.unwrap(), None);
    store.set_seen_version("rk", "v1").await.unwrap();
    store.set_seen_version("rk", "v2").await.unwrap();
    assert_eq!(store.seen_version("rk").await.unwrap().as_deref(), Some("v2"));
}

/// The [`Queue`] contract. `max_receives` is the queue's dead-letter limit.
pub async fn queue_conformance(queue: &dyn Queue, clock: &ManualClock, max_receives: u32) {
    let lease = Duration::from_secs(30);
    let h1 = hint("f", "1", Origin::Webhook);
    let h2 = hint("f", "2", Origin::Poll);
    queue.enqueue(&[h1.clone(), h2.clone()]).await.expect("enqueue");
    // Waiting hints for the same record and origin collapse.
    queue.enqueue(&[h2.clone().with_version("v7")]).await.expect("enqueue dup");
    let d = queue.depth().await.unwrap();
    assert_eq!(d.ready, 2, "a waiting duplicate (same record, same origin) must collapse: {d:?}");
    // A different origin for the same record does not collapse (the webhook gap meter needs it).
    queue.enqueue(&[hint("f", "1", Origin::Poll)]).await.unwrap();
    assert_eq!(queue.depth().await.unwrap().ready, 3);
    let got = queue.receive(10, lease).await.expect("receive");
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|g| g.receive_count == 1));
    assert!(queue.receive(10, lease).await.unwrap().is_empty(), "leased messages are hidden");
    let d = queue.depth().await.unwrap();
    assert_eq!(d.in_flight, 3, "{d:?}");

    // While message 1 is in flight, a new hint for the same record is kept (not collapsed).
    queue.enqueue(std::slice::from_ref(&h1)).await.unwrap();
    assert_eq!(queue.depth().await.unwrap().ready, 1, "in-flight messages must not swallow new hints");

    let collapsed = got.iter().find(|g| g.hint.id == "2").expect("h2");
    assert_eq!(collapsed.hint.observed_version, None, "a merge of two different sightings must force a read-back");
    let first = got.iter().find(|g| g.hint.id == "1" && g.hint.origin == Origin::Webhook).expect("h1").clone();
    let second = got.iter().find(|g| g.hint.id == "2").expect("h2").clone();
    let third = got.iter().find(|g| g.hint.id == "1" && g.hint.origin == Origin::Poll).expect("h1 poll").clone();
    queue.ack(&first).await.unwrap();
    queue.retry_later(&second, Duration::from_secs(120)).await.unwrap();
    let d = queue.depth().await.unwrap();
    assert_eq!((d.ready, d.in_flight, d.delayed), (1, 1, 1), "{d:?}");

    // The un-acked lease lapses: the message comes back with a higher receive count.
    clock.advance(Duration::from_secs(31));
    let again = queue.receive(10, lease).await.unwrap();
    let ids: Vec<(&str, u32)> = again.iter().map(|g| (g.hint.id.as_str(), g.receive_count)).collect();
    assert!(ids.contains(&("1", 2)), "a lapsed lease must redeliver: {ids:?}");
    // A late ack with the old receipt must not delete the redelivered message.
    queue.ack(&third).await.unwrap();
    assert_eq!(
        queue.depth().await.unwrap().in_flight as usize,
        again.len(),
        "a stale receipt must not ack a redelivery"
    );
    for g in &again {
        queue.ack(g).await.unwrap();
    }
    clock.advance(Duration::from_secs(120));
    let delayed = queue.receive(10, lease).await.unwrap();
    assert_eq!(delayed.len(), 1, "a delayed message returns after its delay");
    assert_eq!(delayed[0].hint.id, "2");
    assert_eq!(delayed[0].receive_count, 2);
    queue.ack(&delayed[0]).await.unwrap();
    let d = queue.depth().await.unwrap();
    assert_eq!((d.ready, d.in_flight, d.delayed), (0, 0, 0), "{d:?}");

    // Re-runs of different items do not collapse.
    let mut r1 = hint("f", "9", Origin::Replay);
    r1.rerun_of = Some(ItemKey::new("f", "src", "9", "v1"));
    let mut r2 = r1.clone();
    r2.rerun_of = Some(ItemKey::new("f", "src", "9", "v2"));
    queue.enqueue(&[r1, r2]).await.unwrap();
    assert_eq!(queue.depth().await.unwrap().ready, 2, "re-runs of different items must stay apart");
    for r in queue.receive(10, lease).await.unwrap() {
        queue.ack(&r).await.unwrap();
    }

    // Dead-lettering after max_receives.
    queue.enqueue(&[hint("f", "poison", Origin::Poll)]).await.unwrap();
    for _ in 0..max_receives {
        let got = queue.receive(1, lease).await.unwrap();
        assert_eq!(got.len(), 1);
        queue.retry_later(&got[0], Duration::ZERO).await.unwrap();
    }
    assert!(queue.receive(1, lease).await.unwrap().is_empty(), "a message past max_receives is not delivered again");
    assert_eq!(queue.depth().await.unwrap().dead, 1);
}

/// The [`SecretStore`] contract.
pub async fn secret_store_conformance(secrets: &dyn SecretStore) {
    assert_eq!(secrets.get("deltek").await.unwrap(), None);
    let c = Credentials::new().with("username", "api").with("password", "p@ss w0rd \"quoted\"");
    secrets.put("deltek", &c).await.expect("put");
    secrets.put("cin7", &Credentials::new().with("account_id", "a")).await.expect("put 2");
    let back = secrets.get("deltek").await.unwrap().expect("present");
    assert_eq!(back.get("password").map(|p| p.expose().as_str()), Some("p@ss w0rd \"quoted\""));
    let mut names = secrets.list().await.unwrap();
    names.sort();
    assert_eq!(names, ["cin7", "deltek"]);
    secrets.put("deltek", &Credentials::new().with("username", "other")).await.unwrap();
    assert_eq!(secrets.get("deltek").await.unwrap().unwrap().get("password"), None, "put replaces");
    assert!(secrets.delete("deltek").await.unwrap());
    assert!(!secrets.delete("deltek").await.unwrap());
    assert_eq!(secrets.list().await.unwrap(), ["cin7"]);
}
