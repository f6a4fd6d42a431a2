//! The AWS adapters against moto server (started by `mlc_aws::testing`; see tests/aws-tools.sh).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use mlc_aws::testing::{moto, serialized_moto};
use mlc_aws::{DynamoStore, SqsQueue};
use mlc_core::engine::model::{AuditEntry, Cursor, ItemState, Origin, Transition};
use mlc_core::engine::ports::{ClaimResult, Queue, SecretStore, Store};
use mlc_core::secret::Credentials;
use mlc_core::testkit::{hint, new_item, secret_store_conformance, store_conformance, t0};

fn secs(n: i64) -> chrono::Duration {
    chrono::Duration::seconds(n)
}

#[tokio::test]
async fn dynamo_store_passes_the_store_conformance_suite() {
    store_conformance(&moto().store().await).await;
}

#[tokio::test]
async fn secrets_manager_passes_the_secret_store_conformance_suite() {
    secret_store_conformance(&moto().secrets().await).await;
}

#[tokio::test]
async fn secrets_are_cached_until_refresh() {
    let a = moto().secrets().await;
    a.put("cin7", &Credentials::new().with("webhook_secret", "one")).await.unwrap();
    assert_eq!(a.get("cin7").await.unwrap().unwrap().get("webhook_secret").unwrap().expose(), "one");
    // Another container rotates the secret.
    let conf = moto().sdk_config().await;
    let client = aws_sdk_secretsmanager::Client::new(&conf);
    client
        .put_secret_value()
        .secret_id(a.secret_name("cin7"))
        .secret_string(r#"{"webhook_secret":"two"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(a.get("cin7").await.unwrap().unwrap().get("webhook_secret").unwrap().expose(), "one", "cached");
    a.refresh();
    assert_eq!(a.get("cin7").await.unwrap().unwrap().get("webhook_secret").unwrap().expose(), "two", "re-read");
    // A value that is not JSON is reported by secret name, never echoed.
    client.put_secret_value().secret_id(a.secret_name("cin7")).secret_string("hunter2 oops").send().await.unwrap();
    a.refresh();
    let e = a.get("cin7").await.unwrap_err().to_string();
    assert!(e.contains(&a.secret_name("cin7")) && !e.contains("hunter2"), "{e}");
}

/// Two workers claim the same item at the same instant, many times over: exactly one wins each
/// round, and the loser sees the winner's claim.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claim_races_have_exactly_one_winner() {
    let store = Arc::new(serialized_moto().store().await);
    let now = t0();
    for round in 0..25 {
        let (item, _) = store.register(new_item("race", &format!("R{round}"), "v1", Origin::Poll), now).await.unwrap();
        let claim = |who: &'static str| {
            let store = store.clone();
            let key = item.key.clone();
            tokio::spawn(async move { store.claim(&key, who, now, now + secs(60)).await })
        };
        let (a, b) = (claim("w1"), claim("w2"));
        let (a, b) = (a.await.unwrap().unwrap(), b.await.unwrap().unwrap());
        let winners: Vec<&str> = [(&a, "w1"), (&b, "w2")]
            .iter()
            .filter(|(r, _)| matches!(r, ClaimResult::Acquired(_)))
            .map(|(_, w)| *w)
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: exactly one claim must win, got {a:?} / {b:?}");
        let loser = if winners[0] == "w1" { &b } else { &a };
        match loser {
            ClaimResult::Held { owner, .. } => assert_eq!(owner, winners[0]),
            other => panic!("round {round}: the loser must see Held, got {other:?}"),
        }
        let stored = store.get_item(&item.key).await.unwrap().unwrap();
        assert_eq!(stored.attempts, 1, "round {round}: one attempt counted");
        let trail = store.audit_trail(&item.key).await.unwrap();
        assert_eq!(trail.iter().filter(|e| e.event == "claimed").count(), 1, "round {round}: one claim audited");
    }
}

/// Two pollers move the same cursor from the same value: exactly one moves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cursor_compare_and_set_races_have_exactly_one_winner() {
    let store = Arc::new(serialized_moto().store().await);
    let mut current: Option<String> = None;
    for round in 0..20 {
        let go = |v: String| {
            let store = store.clone();
            let expected = current.clone();
            tokio::spawn(async move {
                let c = Cursor { flow: "f".into(), value: v, updated_at: t0() };
                store.cas_cursor("f", expected.as_deref(), &c).await
            })
        };
        let (a, b) = (go(format!("a{round}")), go(format!("b{round}")));
        let (a, b) = (a.await.unwrap().unwrap(), b.await.unwrap().unwrap());
        assert!(a ^ b, "round {round}: exactly one CAS must succeed ({a}, {b})");
        let now = store.get_cursor("f").await.unwrap().unwrap().value;
        assert_eq!(now, if a { format!("a{round}") } else { format!("b{round}") });
        current = Some(now);
    }
    assert_eq!(store.list_cursors().await.unwrap().len(), 1);
}

/// moto never deletes TTL-expired items (nor does DynamoDB promptly): expired claims, locks and
/// delivery ids must read as free although the records are still there.
#[tokio::test]
async fn expired_claims_locks_and_delivery_ids_are_free() {
    let m = moto();
    let store = m.store().await;
    let now = t0();

    let (item, _) = store.register(new_item("ttl", "A", "v1", Origin::Webhook), now).await.unwrap();
    assert!(matches!(store.claim(&item.key, "w1", now, now + secs(30)).await.unwrap(), ClaimResult::Acquired(_)));
    assert!(matches!(
        store.claim(&item.key, "w2", now + secs(29), now + secs(90)).await.unwrap(),
        ClaimResult::Held { .. }
    ));
    assert!(
        matches!(store.claim(&item.key, "w2", now + secs(30), now + secs(90)).await.unwrap(), ClaimResult::Acquired(_)),
        "a claim is free from the instant it lapses"
    );

    assert_eq!(store.try_lock("nk#x", "w1", now, now + secs(10)).await.unwrap(), None);
    assert!(store.try_lock("nk#x", "w2", now + secs(9), now + secs(20)).await.unwrap().is_some());
    assert_eq!(store.try_lock("nk#x", "w2", now + secs(10), now + secs(20)).await.unwrap(), None, "lapsed lock");

    let ttl = Duration::from_secs(60);
    assert!(store.first_delivery("cin7", "d1", now, ttl).await.unwrap());
    assert!(!store.first_delivery("cin7", "d1", now + secs(59), ttl).await.unwrap());
    assert!(store.first_delivery("cin7", "d1", now + secs(61), ttl).await.unwrap(), "expired delivery id");
    assert!(!store.first_delivery("cin7", "d1", now + secs(62), ttl).await.unwrap(), "recorded again");

    // The records are really still in the table, with a TTL attribute in epoch seconds.
    let client = aws_sdk_dynamodb::Client::new(&m.sdk_config().await);
    let raw = client.scan().table_name(store.table()).send().await.unwrap();
    let with_ttl = raw.items().iter().filter(|i| i.contains_key("expires_at")).count();
    assert!(with_ttl >= 2, "locks and delivery ids carry expires_at");
    let ttl_desc = client.describe_time_to_live().table_name(store.table()).send().await.unwrap();
    let spec = ttl_desc.time_to_live_description().unwrap();
    assert_eq!(spec.attribute_name(), Some("expires_at"));
}

#[tokio::test]
async fn large_blobs_are_chunked_and_large_audit_entries_stored_as_blobs() {
    let store = moto().store().await;
    let big: Vec<u8> = (0..900_000u32).map(|i| (i % 251) as u8).collect();
    store.put_blob("bigsha", &big).await.unwrap();
    store.put_blob("bigsha", &big).await.unwrap();
    assert_eq!(store.get_blob("bigsha").await.unwrap().as_deref(), Some(&big[..]));
    let e = store.put_blob("huge", &vec![0u8; 23_000_000]).await.unwrap_err().to_string();
    assert!(e.contains("huge") && e.contains(store.table()), "{e}");

    let (item, _) = store.register(new_item("big", "A", "v1", Origin::Poll), t0()).await.unwrap();
    let mut entry = AuditEntry::new(t0(), "w", "note", "x".repeat(400_000));
    entry.attempt = 7;
    store.append_audit(&item.key, entry.clone()).await.unwrap();
    let t = Transition::to(ItemState::Skipped, AuditEntry::new(t0(), "w", "skipped", "y".repeat(360_000)));
    store.transition(&item.key, "w", t, t0()).await.unwrap();
    let trail = store.audit_trail(&item.key).await.unwrap();
    assert_eq!(trail.len(), 2);
    assert_eq!(trail[0], entry);
    assert_eq!(trail[1].event, "skipped");
}

#[tokio::test]
async fn errors_name_the_table_and_key() {
    let m = moto();
    let client = aws_sdk_dynamodb::Client::new(&m.sdk_config().await);
    let store = DynamoStore::new(client, "no-such-table");
    let e = store.get_item(&mlc_core::engine::model::ItemKey("f#s#d#v".into())).await.unwrap_err().to_string();
    assert!(e.contains("no-such-table") && e.contains("f#s#d#v"), "{e}");
}

// ---------------------------------------------------------------- SQS

async fn drain(q: &SqsQueue) {
    for d in q.receive(10, Duration::from_secs(30)).await.unwrap() {
        q.ack(&d).await.unwrap();
    }
}

/// Everything `mlc_core::testkit::queue_conformance` checks that a standard SQS queue can do
/// (see the `sqs` module docs for what it cannot: collapsing waiting duplicates, stale receipts).
/// SQS time is real time, so leases and delays here are one to two seconds.
#[tokio::test]
async fn sqs_queue_conformance() {
    let q = moto().queue(3).await;
    let lease = Duration::from_secs(1);
    let h1 = hint("f", "1", Origin::Webhook);
    let h2 = hint("f", "2", Origin::Poll).with_version("v7");
    // 12 hints: more than one SendMessageBatch.
    let many: Vec<_> = (0..10).map(|i| hint("g", &format!("m{i}"), Origin::Poll)).collect();
    q.enqueue(&[h1.clone(), h2.clone()]).await.unwrap();
    q.enqueue(&many).await.unwrap();
    let d = q.depth().await.unwrap();
    assert_eq!((d.ready, d.in_flight, d.delayed, d.dead), (12, 0, 0, 0), "{d:?}");
    // receive loops past SQS's 10 per call; hints round-trip; attributes count receives.
    let got = q.receive(20, Duration::from_secs(30)).await.unwrap();
    assert_eq!(got.len(), 12);
    assert!(got.iter().all(|g| g.receive_count == 1));
    let back2 = got.iter().find(|g| g.hint.id == "2").unwrap();
    assert_eq!(back2.hint, h2, "a hint survives the round trip unchanged");
    assert!(q.receive(10, lease).await.unwrap().is_empty(), "leased messages are hidden");
    assert_eq!(q.depth().await.unwrap().in_flight, 12);
    for g in got.iter().filter(|g| g.hint.flow == "g") {
        q.ack(g).await.unwrap();
    }
    let first = got.iter().find(|g| g.hint.id == "1").unwrap().clone();
    let second = back2.clone();
    // retry_later: back after the delay (counted as in flight by SQS meanwhile).
    q.retry_later(&second, Duration::from_secs(2)).await.unwrap();
    // a short lease lapses: redelivered with a higher receive count.
    q.retry_later(&first, Duration::from_secs(1)).await.unwrap();
    assert!(q.receive(10, lease).await.unwrap().is_empty(), "nothing is visible yet");
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let again = q.receive(10, lease).await.unwrap();
    let ids: Vec<(&str, u32)> = again.iter().map(|g| (g.hint.id.as_str(), g.receive_count)).collect();
    assert_eq!(ids, [("1", 2)], "only the shorter delay has passed");
    q.ack(&again[0]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let delayed = q.receive(10, lease).await.unwrap();
    assert_eq!(delayed.len(), 1, "a delayed message returns after its delay");
    assert_eq!((delayed[0].hint.id.as_str(), delayed[0].receive_count), ("2", 2));
    q.ack(&delayed[0]).await.unwrap();
    let d = q.depth().await.unwrap();
    assert_eq!((d.ready, d.in_flight, d.delayed), (0, 0, 0), "{d:?}");
    // No collapsing on SQS: both copies are delivered (the engine's claims make the second harmless).
    q.enqueue(&[h1.clone(), h1.clone()]).await.unwrap();
    assert_eq!(q.depth().await.unwrap().ready, 2);
    drain(&q).await;
}

/// The queue's RedrivePolicy moves a message to the DLQ after maxReceiveCount receives.
#[tokio::test]
async fn sqs_redrives_to_the_dead_letter_queue() {
    let q = moto().queue(2).await;
    q.enqueue(&[hint("f", "poison", Origin::Poll)]).await.unwrap();
    for n in 1..=2 {
        let got = q.receive(1, Duration::from_secs(30)).await.unwrap();
        assert_eq!(got.len(), 1, "receive {n}");
        assert_eq!(got[0].receive_count, n);
        q.retry_later(&got[0], Duration::ZERO).await.unwrap();
    }
    assert!(q.receive(1, Duration::from_secs(30)).await.unwrap().is_empty(), "past maxReceiveCount: not delivered");
    let d = q.depth().await.unwrap();
    assert_eq!((d.ready, d.dead), (0, 1), "{d:?}");
    // `mlc replay --dead-letters --backend aws`: back on the work queue, attributes and all.
    assert_eq!(q.requeue_dead().await.unwrap(), 1);
    let d = q.depth().await.unwrap();
    assert_eq!((d.ready, d.dead), (1, 0), "{d:?}");
    let got = q.receive(1, Duration::from_secs(30)).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].hint.record_key(), "f#src#doc#poison");
    assert_eq!(got[0].receive_count, 1, "a fresh message: the receive count starts again");
    assert_eq!(q.requeue_dead().await.unwrap(), 0, "nothing left to move");
}

#[tokio::test]
async fn sqs_messages_carry_the_record_and_idempotency_keys() {
    let m = moto();
    let q = m.queue(3).await;
    q.enqueue(&[hint("f", "9", Origin::Webhook).with_version("2026-11-02T09:00:00Z")]).await.unwrap();
    let client = aws_sdk_sqs::Client::new(&m.sdk_config().await);
    let out = client.receive_message().queue_url(q.queue_url()).message_attribute_names("All").send().await.unwrap();
    let msg = &out.messages()[0];
    let attrs = msg.message_attributes().unwrap();
    let get = |k: &str| attrs.get(k).and_then(|v| v.string_value()).unwrap().to_string();
    assert_eq!(get("record_key"), "f#src#doc#9");
    assert_eq!(get("idempotency_key"), "f#src#doc#9#2026-11-02T09:00:00Z");
    assert_eq!(get("origin"), "webhook");
    // An unreadable body is not handed out (it dead-letters after maxReceiveCount).
    client.send_message().queue_url(q.queue_url()).message_body("not a hint").send().await.unwrap();
    let got: Vec<DateTime<Utc>> =
        q.receive(10, Duration::from_secs(30)).await.unwrap().iter().map(|d| d.hint.at).collect();
    assert!(got.is_empty(), "{got:?}");
}

/// Two containers (two `DynamoBudget`s, each with its own copy of the item) acquire one budget at
/// the same moment, many times: together they never get more than the window allows, every
/// answer is one conditional write (plus one per lost race), and a refusal writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_dynamodb_budget_is_one_count_for_every_container() {
    use mlc_aws::DynamoBudget;
    use mlc_core::budget::{BudgetRule, Grant, RateBudget};
    let m = serialized_moto();
    let table = m.store().await.table().to_string();
    let client = aws_sdk_dynamodb::Client::new(&m.sdk_config().await);
    let a = Arc::new(DynamoBudget::new(client.clone(), &table));
    let b = Arc::new(DynamoBudget::new(client, &table));
    let rule = BudgetRule::Window { max: 10, per: Duration::from_secs(60) };
    let mut tasks = Vec::new();
    for i in 0..30 {
        let budget = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move { budget.acquire("cin7 app-1", &rule, 1, Duration::ZERO).await.unwrap() }));
    }
    let mut grants = Vec::new();
    for t in tasks {
        grants.push(t.await.unwrap());
    }
    // Granted: "go", or a wait no longer than a budget write takes (each container plans its
    // slots no earlier than its writes return); nobody was willing to wait for more.
    let granted = grants.iter().filter(|g| !matches!(g, Grant::NotBefore(_))).count();
    assert_eq!(granted, 10, "{grants:?}");
    assert!(
        grants.iter().all(|g| matches!(g, Grant::Go | Grant::NotBefore(_))
            || matches!(g, Grant::Wait(d) if *d < Duration::from_secs(2))),
        "{grants:?}"
    );
    let (sa, sb) = (a.stats(), b.stats());
    assert_eq!(sa.refusals + sb.refusals, 20);
    // Acquires arriving together in one container share a write; a lost race costs one more.
    assert!(sa.writes + sb.writes <= 10, "at most one write per grant: {sa:?} {sb:?}");
    assert!(sa.conflicts + sb.conflicts <= 10, "races only between the two containers: {sa:?} {sb:?}");
    assert!(sa.reads <= 1 && sb.reads <= 1, "each container reads the item once at most: {sa:?} {sb:?}");

    // Patient callers reserve the next window's slots in order; a third container (a fresh copy)
    // sees the reservations.
    let rule = BudgetRule::Window { max: 2, per: Duration::from_secs(2) };
    let mut waits = Vec::new();
    for i in 0..6 {
        let budget = if i % 2 == 0 { &a } else { &b };
        waits.push(budget.acquire("coupa x", &rule, 1, Duration::from_secs(10)).await.unwrap());
    }
    let ms = |g: &Grant| match g {
        Grant::Go => 0,
        Grant::Wait(d) => d.as_millis(),
        Grant::NotBefore(d) => panic!("refused {d:?}"),
    };
    let w: Vec<u128> = waits.iter().map(ms).collect();
    // The first two go now, or after the write's lead (a few ms on an idle moto).
    assert!(w[0] < 500 && w[1] < 500, "{w:?}");
    assert!(w[2] > 1500 && w[3] > 1500 && w[4] > 3500 && w[5] > 3500 && w[5] <= 4600, "{w:?}");
    let c = DynamoBudget::new(aws_sdk_dynamodb::Client::new(&m.sdk_config().await), &table);
    let Grant::NotBefore(d) = c.acquire("coupa x", &rule, 1, Duration::ZERO).await.unwrap() else { panic!("full") };
    assert!(d > Duration::from_millis(5000), "{d:?}");
}

/// On a loaded table a conditional write can take seconds. A grant is computed before its write
/// and reaches the caller after it. The budget plans slots no earlier than its writes have lately
/// taken to return, shortens the wait by the write's real time, and never hands out a slot that
/// passed too long ago for the call to keep the vendor's count (the call would land among calls
/// granted after it: Cin7 answers 429): that slot stays counted and the budget asks again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_whose_write_returned_too_late_is_not_used() {
    use mlc_aws::DynamoBudget;
    use mlc_aws::testing::CountingRelay;
    use mlc_core::budget::ledger::Ledger;
    use mlc_core::budget::{BudgetRule, Grant, RateBudget};
    let m = serialized_moto();
    let table = m.store().await.table().to_string();
    let relay = CountingRelay::start(m.endpoint()).await;
    let client = aws_sdk_dynamodb::Client::new(&relay.moto().sdk_config().await);
    let budget = DynamoBudget::new(client.clone(), &table);
    // 3 calls in any 40 s: a grant may go at most 1 s after its slot.
    let rule = BudgetRule::Window { max: 3, per: Duration::from_secs(40) };
    let allowance = rule.late_allowance();
    let patient = Duration::from_secs(60);
    // When each answer says the call may go (wall clock, ms), and the slots the item holds.
    let goes_at = |g: Grant| match g {
        Grant::Go => Utc::now().timestamp_millis(),
        Grant::Wait(w) => Utc::now().timestamp_millis() + w.as_millis() as i64,
        Grant::NotBefore(d) => panic!("refused for {d:?}"),
    };
    let slots = || async {
        let out = client
            .get_item()
            .table_name(&table)
            .key("pk", aws_sdk_dynamodb::types::AttributeValue::S("BUDGET#slow table".into()))
            .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("#BUDGET".into()))
            .send()
            .await
            .unwrap();
        let data = out.item().and_then(|i| i.get("data")).and_then(|v| v.as_s().ok()).cloned();
        Ledger::decode(data.as_deref()).unwrap().grants.iter().map(|(t, _)| *t).collect::<Vec<i64>>()
    };
    let first = goes_at(budget.acquire("slow table", &rule, 1, patient).await.unwrap());

    // The table slows down: the first slow write returns long after the slot it was planned for
    // (the quick writes before it). That slot is not used.
    relay.slow_down("DynamoDB PutItem", Duration::from_millis(2500));
    let second = goes_at(budget.acquire("slow table", &rule, 1, patient).await.unwrap());
    assert_eq!(budget.stats().late, 1, "{:?}", budget.stats());
    let held = slots().await;
    assert_eq!(held.len(), 3, "the first grant, the slot given up, the second grant: {held:?}");
    // The next write is planned with the slow write's time as its lead: on time.
    let slot = held[2];
    assert!((second - slot).abs() <= allowance.as_millis() as i64, "goes at {second}, its slot is {slot}");

    // The window is full: the third call waits until the first leaves it — counted from the
    // first grant, whatever the writes took.
    let third = goes_at(budget.acquire("slow table", &rule, 1, patient).await.unwrap());
    assert_eq!(budget.stats().late, 1, "{:?}", budget.stats());
    let leaves = held[0] + 40_000;
    assert!(held[0] <= first, "the first slot {} is after its call went ({first})", held[0]);
    assert!(third >= leaves - 2, "goes {} ms early", leaves - third);
    assert!(third <= leaves + allowance.as_millis() as i64, "goes {} ms late", third - leaves);
}

/// The audit trail is the chain of rows whose item writes happened: a row left by a write that
/// lost its race (or whose writer died before writing the item) is not in it, and rows written
/// before the chain existed still are.
#[tokio::test]
async fn the_audit_trail_keeps_only_rows_whose_item_write_happened() {
    let store = moto().store().await;
    let now = t0();
    let (item, _) = store.register(new_item("chain", "C1", "v1", Origin::Poll), now).await.unwrap();
    let ClaimResult::Acquired(_) = store.claim(&item.key, "w#1", now, now + secs(60)).await.unwrap() else {
        panic!("claim")
    };
    let entry = AuditEntry::new(now, "w", "posted", "done");
    store.transition(&item.key, "w#1", Transition::to(ItemState::Posted, entry), now).await.unwrap();
    // A writer that computed revision 3 but lost (or died): its row is there, its item write is not.
    let client = aws_sdk_dynamodb::Client::new(&moto().sdk_config().await);
    let row = |sk: &str, event: &str, prev: Option<&str>| {
        let mut b = client
            .put_item()
            .table_name(store.table())
            .item("pk", aws_sdk_dynamodb::types::AttributeValue::S(format!("ITEM#{}", item.key)))
            .item("sk", aws_sdk_dynamodb::types::AttributeValue::S(sk.into()))
            .item(
                "data",
                aws_sdk_dynamodb::types::AttributeValue::S(
                    serde_json::to_string(&AuditEntry::new(now, "ghost", event, "never happened")).unwrap(),
                ),
            );
        if let Some(p) = prev {
            b = b.item("prev", aws_sdk_dynamodb::types::AttributeValue::S(p.into()));
        }
        b
    };
    row("AUDIT#0000000004!deadbeef0000", "ghost_write", Some("whatever")).send().await.unwrap();
    // A row from before the chain (no token): kept.
    row("AUDIT#0000000001", "legacy", None).send().await.unwrap();
    let events: Vec<String> = store.audit_trail(&item.key).await.unwrap().into_iter().map(|e| e.event).collect();
    assert_eq!(events, ["legacy", "claimed", "posted"]);
}

/// A turn cancelled mid-write (a poll cut off by the tick's time budget drops its futures) leaves
/// no acquire of that container waiting on an answer that never comes: every later acquire, and
/// those the cancelled turn had taken, is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_acquire_leaves_the_containers_budget_usable() {
    use mlc_aws::DynamoBudget;
    use mlc_core::budget::{BudgetRule, RateBudget};
    let m = serialized_moto();
    let table = m.store().await.table().to_string();
    let budget = Arc::new(DynamoBudget::new(aws_sdk_dynamodb::Client::new(&m.sdk_config().await), &table));
    let rule = BudgetRule::Window { max: 1000, per: Duration::from_secs(60) };
    for round in 0..20u64 {
        // Some acquires are cut off at once, some mid-write, some complete; all at the same time.
        let mut tasks = Vec::new();
        for i in 0..8u64 {
            let b = budget.clone();
            tasks.push(tokio::spawn(async move {
                let cut = Duration::from_micros((round * 8 + i) % 5 * 400);
                let _ = tokio::time::timeout(cut, b.acquire("cin7 cancel", &rule, 1, Duration::ZERO)).await;
            }));
        }
        let patient = {
            let b = budget.clone();
            tokio::spawn(async move { b.acquire("cin7 cancel", &rule, 1, Duration::ZERO).await })
        };
        for t in tasks {
            t.await.unwrap();
        }
        // A liveness bound, not a timing assertion: a spinning lane never answers at all.
        let answered = tokio::time::timeout(Duration::from_secs(60), patient).await;
        assert!(matches!(answered, Ok(Ok(Ok(_)))), "round {round}: {answered:?}");
    }
}

/// Each process remembers the revisions it wrote and starts its next claim or transition from
/// them; a revision another process has moved on from must lose its conditional write and be
/// read again, and no "no" is ever answered from memory.
#[tokio::test]
async fn a_remembered_revision_another_process_moved_on_from_is_never_trusted() {
    let a = moto().store().await;
    let b = DynamoStore::new(aws_sdk_dynamodb::Client::new(&moto().sdk_config().await), a.table());
    let now = t0();
    let failed = |why: &str| {
        let mut t = Transition::to(ItemState::Failed, AuditEntry::new(now, "w", "failed_retryable", why)).reason(why);
        t.failure = Some(mlc_core::engine::model::FailureClass::Retryable);
        t
    };

    // a remembers item 1 as failed and free; b claims and posts it meanwhile.
    let (one, _) = a.register(new_item("known", "K1", "v1", Origin::Poll), now).await.unwrap();
    let ClaimResult::Acquired(_) = a.claim(&one.key, "w-a", now, now + secs(60)).await.unwrap() else { panic!() };
    a.transition(&one.key, "w-a", failed("timeout"), now).await.unwrap();
    let ClaimResult::Acquired(_) = b.claim(&one.key, "w-b", now + secs(1), now + secs(60)).await.unwrap() else {
        panic!("b claims the failed item")
    };
    let posted = Transition::to(ItemState::Posted, AuditEntry::new(now, "w-b", "posted", "done"));
    b.transition(&one.key, "w-b", posted, now + secs(2)).await.unwrap();
    match a.claim(&one.key, "w-a2", now + secs(3), now + secs(60)).await.unwrap() {
        ClaimResult::Finished(item) => assert_eq!(item.state, ItemState::Posted),
        other => panic!("a's remembered revision said free, the table says posted: {other:?}"),
    }
    let events: Vec<String> = b.audit_trail(&one.key).await.unwrap().into_iter().map(|e| e.event).collect();
    assert_eq!(events, ["claimed", "failed_retryable", "claimed", "posted"], "a's lost claim is not on the trail");

    // a remembers item 2 as free; b holds it: a's claim is refused after a read, naming b.
    let (two, _) = a.register(new_item("known", "K2", "v1", Origin::Poll), now).await.unwrap();
    let ClaimResult::Acquired(_) = b.claim(&two.key, "w-b", now, now + secs(60)).await.unwrap() else { panic!() };
    match a.claim(&two.key, "w-a", now + secs(1), now + secs(60)).await.unwrap() {
        ClaimResult::Held { owner, .. } => assert_eq!(owner, "w-b"),
        other => panic!("b holds item 2: {other:?}"),
    }

    // a remembers item 3 as held by itself; b wrote it after the claim lapsed and freed it: a
    // remembered "held" (or "you may not write") is confirmed by a read before it is answered.
    let (three, _) = a.register(new_item("known", "K3", "v1", Origin::Poll), now).await.unwrap();
    let ClaimResult::Acquired(_) = a.claim(&three.key, "w-a", now, now + secs(60)).await.unwrap() else { panic!() };
    b.transition(&three.key, "w-b", failed("lapsed claim taken over"), now + secs(61)).await.unwrap();
    let note = AuditEntry::new(now, "w-x", "failed_retryable", "a transition by a fourth worker");
    a.transition(&three.key, "w-x", Transition::to(ItemState::Failed, note), now + secs(30))
        .await
        .expect("free in the table, though a remembers its own claim");
    let ClaimResult::Acquired(item) = a.claim(&three.key, "w-a2", now + secs(31), now + secs(90)).await.unwrap() else {
        panic!("free in the table")
    };
    assert_eq!(item.attempts, 2);
}
