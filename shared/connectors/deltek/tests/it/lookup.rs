//! Finding an AP invoice by vendor + invoice number: in-doubt files, hand-keyed and posted
//! vouchers, filterHash searches, the per-run cache and its staleness rules, paging.

use mlc_core::engine::flow::ErrorClass;
use mlc_deltek::{DeltekError, VoucherStatus};
use mlc_sim::common::{Fault, FaultRule};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn an_ambiguous_write_is_found_by_the_lookup_and_never_posted_twice() {
    let env = start().await;
    // The file commits, then the connection is reset: the answer is lost.
    env.sim.faults().add(FaultRule::new("POST", "*/DataEntry/apControl", Fault::commit_then_reset(50)).times(1));
    let list = [survey("DOUBT-1", "10.00"), survey("DOUBT-2", "20.00"), survey("DOUBT-3", "30.00")];
    let results = env.client.create_ap_invoices(&list).await;
    let mut batch = None;
    for r in &results {
        let e = r.clone().unwrap_err();
        assert_eq!(e.class(), ErrorClass::InDoubt, "{e}");
        assert!(e.to_string().contains("not re-sent"), "{e}");
        batch = Some(e.to_string());
    }
    assert!(batch.is_some_and(|m| m.contains("MLC")));

    // Another process (a fresh client, no memory of the file name) resolves it by lookup.
    let other = env.client(json!({}));
    for inv in &list {
        let found = other.find_ap_invoice(&inv.vendor, &inv.invoice_number).await.unwrap().expect("found");
        assert!(found.ours, "our MasterPKey");
        assert_eq!(found.voucher.master_pkey, other.master_pkey_for(&inv.vendor, &inv.invoice_number));
        assert_eq!(found.status, VoucherStatus::Draft);
    }
    // The same process finds it too (it remembers the file, and its index was marked stale).
    assert!(env.client.find_ap_invoice("CASCSURV", "DOUBT-2").await.unwrap().is_some());
    assert_eq!(env.count("POST", "*/DataEntry/apControl"), 1, "never sent a second time");
}

#[tokio::test]
async fn a_lost_answer_of_a_file_that_did_not_commit_is_recreated_after_the_lookup_misses() {
    let env = start().await;
    env.sim.faults().add(FaultRule::new("POST", "*/DataEntry/apControl", Fault::Reset).times(1));
    let e = env.client.create_ap_invoice(&survey("LOST-1", "10.00")).await.unwrap_err();
    assert!(matches!(e, DeltekError::InDoubt { .. }), "{e}");
    assert!(env.client.find_ap_invoice("CASCSURV", "LOST-1").await.unwrap().is_none());
    env.client.create_ap_invoice(&survey("LOST-1", "10.00")).await.expect("created on the second attempt");
    assert!(env.client.find_ap_invoice("CASCSURV", "LOST-1").await.unwrap().is_some());
}

#[tokio::test]
async fn a_voucher_keyed_by_hand_is_found_unposted_and_posted() {
    let env = start().await;
    // Unposted, in a file a person created ("KEYED202506").
    let hand = env.client.find_ap_invoice("METROTEL", "mt-202506-4471").await.unwrap().expect("found");
    assert!(!hand.ours);
    assert_eq!(hand.voucher.batch, "KEYED202506");
    assert_eq!(hand.status, VoucherStatus::Draft);
    // Posted last month; the ledger rows carry no invoice number, so the posted file is read.
    let posted = env.client.find_ap_invoice("GRANGEO", "GG-2291").await.unwrap().expect("found");
    assert!(matches!(posted.status, VoucherStatus::Posted { period: Some(202505), .. }), "{:?}", posted.status);
    assert!(posted.voucher.voucher.is_some());
    assert!(env.client.find_ap_invoice("GRANGEO", "GG-9999").await.unwrap().is_none());
    assert_eq!(env.client.lookup_stats().await.unmatched_posted, 0);
}

#[tokio::test]
async fn posted_rows_that_carry_the_invoice_number_need_no_file_read() {
    let env = start().await;
    env.sim.system().set_switch(|s| s.ledger_ap_includes_invoice = true);
    let f = env.client.find_ap_invoice("CITYPWR", "CPL-88120-07").await.unwrap().expect("found");
    assert!(f.status.is_posted());
}

#[tokio::test]
async fn searches_use_filter_hash_and_misses_are_cheap_within_the_cache_age() {
    let env = start().await;
    assert!(env.client.find_ap_invoice("CASCSURV", "NEW-1").await.unwrap().is_none());
    let calls = env.sim.calls().records();
    let landing = calls.iter().find(|r| r.path.ends_with("/DataEntry/apLanding")).expect("landing read");
    assert!(landing.query.contains("filterHash%5B0%5D%5Bname%5D=PostStatus"), "{}", landing.query);
    let ledger = calls.iter().find(|r| r.path.ends_with("/ledger/AP")).expect("posted search");
    assert!(
        ledger.query.contains("filterHash%5B0%5D%5Bvalue%5D=CASCSURV") && ledger.query.contains("datetime"),
        "{}",
        ledger.query
    );
    let before = env.api_calls();
    for i in 2..20 {
        assert!(env.client.find_ap_invoice("CASCSURV", &format!("NEW-{i}")).await.unwrap().is_none());
    }
    assert_eq!(env.api_calls(), before, "misses for a known vendor cost nothing within lookup_max_age");
    // A created voucher is in the index at once.
    env.client.create_ap_invoice(&survey("NEW-5", "5.00")).await.unwrap();
    let before = env.api_calls();
    assert!(env.client.find_ap_invoice("CASCSURV", "new-5").await.unwrap().is_some());
    assert_eq!(env.api_calls(), before);
}

#[tokio::test]
async fn stale_entries_are_rechecked_and_deleted_vouchers_are_forgotten() {
    let env = start_opts(json!({ "lookup_max_age_secs": 0 })).await;
    let c = env.client.create_ap_invoice(&survey("DEL-1", "5.00")).await.unwrap();
    // A person deletes the file in Vantagepoint.
    env.sim.system().lock().ap_files.retain(|f| f.control.batch != c.voucher.batch);
    assert!(env.client.find_ap_invoice("CASCSURV", "DEL-1").await.unwrap().is_none());
    // A voucher keyed by hand after the index was built is seen on the next refresh.
    env.client.find_ap_invoice("CASCSURV", "X").await.unwrap();
    let keyed = mlc_sim::deltek::state::ApFile::new("HANDLATER", "Keyed later", 0).voucher(
        "CASCSURV",
        "CLS-LATE",
        None,
        &[("2024003.00", "01", "", "52300", d("9.00"), "survey")],
    );
    env.sim.system().seed_scenario(&mlc_sim::deltek::DeltekScenario::new().ap_file(keyed, false)).unwrap();
    let f = env.client.find_ap_invoice("CASCSURV", "CLS-LATE").await.unwrap().expect("found after refresh");
    assert!(!f.ours);
}

#[tokio::test]
async fn lists_are_read_across_pages() {
    let env = start_opts(json!({ "page_size": 7 })).await;
    assert_eq!(env.client.accounts().await.unwrap().len(), 40);
    assert_eq!(env.count("GET", "*/Accounts"), 6, "40 rows in pages of 7: 5 full pages and a short one");
    let projects = env.client.projects().await.unwrap();
    assert!(projects.len() > 7);
    let q: Vec<String> =
        env.sim.calls().records().iter().filter(|r| r.path.ends_with("/Accounts")).map(|r| r.query.clone()).collect();
    assert!(q[1].contains("page=2") && q[1].contains("pageSize=7"), "{q:?}");
    // The unposted-file list pages too: make 9 files and find one from a fresh client.
    let maker = env.client(json!({ "vouchers_per_file": 1 }));
    for i in 0..9 {
        maker.create_ap_invoice(&survey(&format!("PG-{i}"), "1.00")).await.unwrap();
    }
    let fresh = env.client(json!({ "page_size": 3 }));
    assert!(fresh.find_ap_invoice("CASCSURV", "PG-8").await.unwrap().is_some());
    assert!(env.count("GET", "*/DataEntry/apLanding") >= 4);
}

#[tokio::test]
async fn a_tenant_that_refuses_a_filter_column_is_searched_without_it() {
    let env = start().await;
    let refusal = |col: &str| Fault::Status {
        status: 400,
        retry_after_secs: None,
        retry_after_http_date: false,
        body: Some(json!({ "Message": format!("Invalid column name '{col}'.") }).to_string()),
        content_type: None,
    };
    env.sim.faults().add(FaultRule::new("GET", "*/DataEntry/apLanding", refusal("PostStatus")).times(1));
    env.sim.faults().add(FaultRule::new("GET", "*/ledger/AP", refusal("TransDate")).times(1));
    assert!(env.client.find_ap_invoice("METROTEL", "MT-202506-4471").await.unwrap().is_some());
    assert!(env.client.find_ap_invoice("GRANGEO", "GG-2291").await.unwrap().is_some_and(|f| f.status.is_posted()));
}

/// Issue 11, "Performance found on the way": a new process read every unposted file of earlier
/// runs before its first create. With a memory, files we saved are indexed from it: a miss reads
/// no file of ours, and a hit is confirmed with one read of that voucher.
#[tokio::test]
async fn files_of_earlier_runs_are_indexed_from_memory_and_a_hit_is_confirmed_with_one_read() {
    use std::sync::Arc;
    let env = start().await;
    let store = mlc_core::engine::memory::MemoryStore::new();
    let memory = || {
        mlc_core::engine::sequence::Sequences::new(
            Arc::new(store.clone()),
            Arc::new(mlc_core::engine::ports::SystemClock),
        )
    };
    env.client.remember_files_in(memory());
    // An earlier run saves two files.
    for r in env.client.create_ap_invoices(&[survey("MEMO-1", "10.00"), survey("MEMO-2", "20.00")]).await {
        r.expect("saved");
    }
    let third = env.client.create_ap_invoice(&survey("MEMO-3", "30.00")).await.expect("saved");
    let file_reads = || {
        env.sim
            .calls()
            .records()
            .iter()
            .filter(|r| r.method == "GET" && r.path.contains("/DataEntry/apMaster/"))
            .map(|r| r.path.clone())
            .collect::<Vec<_>>()
    };

    // A new run with the memory: a new invoice's lookup reads none of our files.
    let later = env.client(json!({}));
    later.remember_files_in(memory());
    let before = file_reads().len();
    assert!(later.find_ap_invoice("CASCSURV", "MEMO-NEW").await.unwrap().is_none());
    let read: Vec<String> = file_reads().split_off(before);
    assert!(read.iter().all(|p| !p.contains("MLC")), "files of ours were read: {read:?}");
    assert!(!read.is_empty(), "a file keyed by hand is still read: {read:?}");
    let stats = later.lookup_stats().await;
    assert!(stats.files_recalled >= 2, "{stats:?}");
    // An invoice of ours is found, confirmed by one read of that voucher.
    let before = file_reads().len();
    let f = later.find_ap_invoice("CASCSURV", "MEMO-3").await.unwrap().expect("found from the memo");
    assert!(f.ours && f.voucher.batch == third.voucher.batch, "{f:?}");
    assert_eq!(f.status, VoucherStatus::Draft);
    let read = file_reads().split_off(before);
    assert_eq!(read.len(), 1, "{read:?}");
    assert!(read[0].contains(&f.voucher.master_pkey), "{read:?}");
    // A voucher deleted by a person since is not trusted from the memo.
    let gone = env.client.find_ap_invoice("CASCSURV", "MEMO-1").await.unwrap().expect("there").voucher.batch;
    env.sim.system().lock().ap_files.retain(|f| f.control.batch != gone);
    let fresh = env.client(json!({}));
    fresh.remember_files_in(memory());
    assert!(fresh.find_ap_invoice("CASCSURV", "MEMO-1").await.unwrap().is_none());

    // Without a memory a new run reads them all, as before.
    let plain = env.client(json!({}));
    let before = file_reads().len();
    plain.find_ap_invoice("CASCSURV", "MEMO-NEW").await.unwrap();
    assert!(file_reads().split_off(before).iter().filter(|p| p.contains("MLC")).count() >= 1);
    assert_eq!(plain.lookup_stats().await.files_recalled, 0);
}
