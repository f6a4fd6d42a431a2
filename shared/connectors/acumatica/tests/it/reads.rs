//! Reads: the version probe, delta scans with pages that shift under them, typed values in both
//! contract versions, missing records, reference data.

use chrono::Duration as ChronoDuration;
use mlc_acumatica::AcumaticaError;
use mlc_acumatica::model::{BillStatus, BillType, PoStatus, PoType, VendorStatus};
use mlc_sim::acumatica::AcumaticaSwitches;
use mlc_sim::common::SimClock;
use serde_json::json;

use crate::{client, client_with, sim, start};

#[tokio::test]
async fn a_missing_version_fails_fast_listing_the_offered_ones() {
    let h = start().await;
    let acu = client_with(&h, json!({"version": "25.200.001"}));
    let e = acu.get_vendor("V10001").await.expect_err("not served");
    let m = e.to_string();
    assert!(matches!(e, AcumaticaError::VersionMissing { .. }), "{e:?}");
    assert!(
        m.contains("offers 20.200.001, 22.200.001, 23.200.001, 24.200.001")
            && m.contains("set version = \"24.200.001\""),
        "{m}"
    );
    // Decided once: no data call, no sign-in, and a second call does not probe again.
    let _ = acu.get_vendor("V10002").await;
    assert_eq!(h.calls().count("GET", "/entity"), 1);
    assert_eq!(h.calls().count("POST", "/identity/token"), 0);
    h.shutdown().await;
}

#[tokio::test]
async fn typed_records_in_contract_version_4_and_5() {
    let h = start().await;
    let acu = client(&h);
    let v = acu.get_vendor("V10001").await.expect("read").expect("there");
    assert_eq!((v.vendor_id.as_str(), v.status.clone(), v.terms.is_some()), ("V10001", VendorStatus::Active, true));
    assert_eq!(v.email.as_deref(), Some("orders@atlantic.example"));
    assert!(v.address.as_ref().is_some_and(|a| a.city.is_some()));
    assert!(v.last_modified.is_some() && v.id.len() == 36);
    assert!(acu.get_vendor("NOPE").await.expect("a missing key is None, not an error").is_none());
    let b = acu.get_bill(&BillType::Bill, "000006").await.expect("read").expect("there");
    assert_eq!((b.status.clone(), b.lines.len(), b.lines_read), (BillStatus::Open, 2, true));
    assert_eq!(b.amount, b.lines.iter().map(|l| l.amount).sum());
    assert!(
        b.lines[0].po.as_ref().is_some_and(|(t, n, l)| *t == PoType::Normal && n == "PO000010" && l.is_some()),
        "{:?}",
        b.lines[0]
    );
    let date = b.date.expect("date");
    // CV5: drop-downs {"id","description"}, dates without time. Same models.
    h.system().set_switch(|s| s.serve_cv5 = true);
    let acu5 = client_with(&h, json!({"version": "26.200.001"}));
    let b5 = acu5.get_bill_by_id(&b.id).await.expect("read").expect("there");
    assert_eq!((b5.kind.clone(), b5.status.clone(), b5.date), (BillType::Bill, BillStatus::Open, Some(date)));
    let b5k = acu5.get_bill(&BillType::Bill, "000006").await.expect("read by key with the code");
    assert!(b5k.is_some());
    let po = acu5.get_purchase_order(&PoType::Normal, "PO000003").await.expect("read").expect("there");
    assert_eq!(po.status, PoStatus::Open);
    h.shutdown().await;
}

#[tokio::test]
async fn date_fields_keep_their_date_whatever_the_tenant_offset() {
    // A tenant east of UTC: midnight +10:00 is the previous day in UTC; the date must not move.
    let h = sim()
        .switches(AcumaticaSwitches { tenant_utc_offset_minutes: 600, ..AcumaticaSwitches::unthrottled() })
        .start()
        .await
        .expect("start");
    let acu = client(&h);
    let b = acu.get_bill(&BillType::Bill, "000001").await.expect("read").expect("there");
    let raw = h.system().records("Bill");
    use mlc_sim::acumatica::record::Values;
    let stored = raw.iter().find(|r| r.s("ReferenceNbr") == "000001").and_then(|r| r.date("Date"));
    assert_eq!(b.date, stored);
    h.shutdown().await;
}

#[tokio::test]
async fn delta_scans_page_and_report_a_cursor() {
    let h = start().await;
    let acu = client_with(&h, json!({"page_size": 7}));
    let all = acu.list_vendors_changed(None).await.expect("scan");
    assert_eq!(all.records.len(), 40);
    assert_eq!((all.passes, all.calls), (1, 6), "pages of 7 (+1 anchor): 40 rows in 6 reads");
    let hw = all.high_water.expect("cursor");
    assert_eq!(hw, all.records.iter().filter_map(|v| v.last_modified).max().expect("max"));
    assert!(all.records.windows(2).all(|w| w[0].last_modified <= w[1].last_modified), "oldest first");
    // Since the cursor: nothing; after an edit: exactly that vendor, newer cursor.
    assert!(acu.list_vendors_changed(Some(hw)).await.expect("scan").records.is_empty());
    h.clock().advance(ChronoDuration::seconds(5));
    crate::action(
        &h,
        "edit_record",
        json!({"entity": "Vendor", "keys": ["V10020"], "fields": {"TaxZone": {"value": "NY"}}}),
    )
    .await;
    let delta = acu.list_vendors_changed(Some(hw)).await.expect("scan");
    assert_eq!(delta.records.iter().map(|v| v.vendor_id.as_str()).collect::<Vec<_>>(), ["V10020"]);
    assert!(delta.high_water > Some(hw));
    // Bills and POs with their lines.
    let bills = acu.list_bills_changed(None).await.expect("bills");
    assert_eq!(bills.records.len(), 10);
    assert!(bills.records.iter().all(|b| b.lines_read && !b.lines.is_empty()));
    let pos = acu
        .list_purchase_orders_changed(Some(mlc_sim::acumatica::scenario::anchor() - ChronoDuration::days(10)))
        .await
        .expect("pos");
    assert!(!pos.records.is_empty() && pos.records.iter().all(|p| p.lines_read));
    h.shutdown().await;
}

/// Hold the next page read on the licence's per-minute formula (a frozen clock), change the
/// list, then let the read go.
async fn hold_second_page_and<F: std::future::Future<Output = ()>>(h: &crate::Sim, change: F) {
    let sim = h.system().clone();
    for _ in 0..400 {
        let st: serde_json::Value = crate::action(h, "licence", json!({})).await;
        if st["waiting"].as_u64() == Some(1) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let st: serde_json::Value = crate::action(h, "licence", json!({})).await;
    assert_eq!(st["waiting"], 1, "the second page is held: {st}");
    change.await;
    h.clock().advance(ChronoDuration::seconds(61));
    let _ = sim;
}

fn empty_tenant_with_vendors(n: usize) -> serde_json::Value {
    let mut s = mlc_sim::acumatica::scenario::reference_data(mlc_sim::acumatica::DEFAULT_SEED);
    let vendors: Vec<serde_json::Value> = (0..n)
        .map(|i| json!({"VendorID": {"value": format!("V{:03}", 10 * (i + 1))}, "VendorName": {"value": format!("Vendor {i}")},
                        "LastModifiedDateTime": {"value": format!("2025-06-01T10:{:02}:00+00:00", i)}}))
        .collect();
    s["records"]["Vendor"] = json!(vendors);
    s
}

#[tokio::test]
async fn records_added_between_pages_are_read_once_and_none_is_skipped() {
    // Per-minute limit 6: the probe, the token and the first page pass; the second page waits.
    let h = sim()
        .scenario(empty_tenant_with_vendors(10))
        .switches(AcumaticaSwitches { licence_requests_per_minute: 6, ..AcumaticaSwitches::unthrottled() })
        .start()
        .await
        .expect("start");
    let acu = client_with(&h, json!({"page_size": 4}));
    let scan = tokio::spawn({
        let acu = acu.clone();
        async move { acu.list_vendors_changed(None).await }
    });
    hold_second_page_and(&h, async {
        // Two new vendors sort before the page boundary; the list shifts by two.
        h.system()
            .seed_json(&json!({"records": {"Vendor": [
                {"VendorID": {"value": "V001"}, "VendorName": {"value": "Early bird"}},
                {"VendorID": {"value": "V015"}, "VendorName": {"value": "Squeezed in"}}]}}))
            .expect("seed");
    })
    .await;
    // Later pages are held too (the window stays full): keep the clock moving until done.
    let out = loop {
        if scan.is_finished() {
            break scan.await.expect("join").expect("scan");
        }
        h.clock().advance(ChronoDuration::seconds(61));
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    };
    let mut ids: Vec<&str> = out.records.iter().map(|v| v.vendor_id.as_str()).collect();
    ids.sort();
    let mut want: Vec<String> = (1..=10).map(|i| format!("V{:03}", 10 * i)).collect();
    want.extend(["V001".to_string(), "V015".to_string()]);
    want.sort();
    assert_eq!(ids, want, "every vendor once, the two new ones included");
    assert!(out.passes >= 2, "a shift was seen, so the list was read again before the cursor moved: {out:?}");
    assert!(out.high_water.is_some());
    h.shutdown().await;
}

#[tokio::test]
async fn a_record_removed_between_pages_restarts_the_scan() {
    let h = sim()
        .scenario(empty_tenant_with_vendors(10))
        .switches(AcumaticaSwitches { licence_requests_per_minute: 6, ..AcumaticaSwitches::unthrottled() })
        .start()
        .await
        .expect("start");
    let acu = client_with(&h, json!({"page_size": 4}));
    let scan = tokio::spawn({
        let acu = acu.clone();
        async move { acu.list_vendors_changed(None).await }
    });
    hold_second_page_and(&h, async {
        // Two vendors of the first page disappear: plain offsets would skip two others.
        let mut st = h.system().lock();
        st.records.get_mut("Vendor").expect("vendors").retain(|r| {
            use mlc_sim::acumatica::record::Values;
            !matches!(r.s("VendorID").as_str(), "V010" | "V020")
        });
    })
    .await;
    let out = loop {
        if scan.is_finished() {
            break scan.await.expect("join").expect("scan");
        }
        h.clock().advance(ChronoDuration::seconds(61));
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    };
    let ids: std::collections::BTreeSet<&str> = out.records.iter().map(|v| v.vendor_id.as_str()).collect();
    for i in 3..=10 {
        let id = format!("V{:03}", 10 * i);
        assert!(ids.contains(id.as_str()), "{id} was not skipped: {ids:?}");
    }
    assert!(out.passes >= 2);
    h.shutdown().await;
}

#[tokio::test]
async fn the_list_optimiser_refusing_expand_falls_back_to_reads_by_id() {
    let h = start().await;
    h.system().set_switch(|s| s.optimization_error_fields = vec!["Bill.Details".into()]);
    let acu = client(&h);
    let bills = acu.list_bills_changed(None).await.expect("bills");
    assert_eq!(bills.records.len(), 10);
    assert!(bills.records.iter().all(|b| b.lines_read && !b.lines.is_empty()));
    assert_eq!(h.calls().count("GET", "/Bill/{keys}"), 10, "one read per bill");
    h.shutdown().await;
}

#[tokio::test]
async fn reference_data_accounts_subaccounts_and_branches() {
    let h = sim().clock(SimClock::manual_default()).start().await.expect("start");
    let acu = client(&h);
    let accounts = acu.list_accounts().await.expect("accounts");
    assert_eq!(accounts.len(), mlc_sim::acumatica::scenario::CHART.len());
    assert!(accounts.iter().any(|a| a.account_cd == "69900" && !a.active));
    assert_eq!(
        acu.get_account("20000").await.expect("read").map(|a| a.description),
        Some(Some("Accounts Payable".into()))
    );
    assert_eq!(acu.list_subaccounts().await.expect("subs").len(), 3);
    let branches = acu.list_branches().await.expect("branches");
    assert_eq!(
        branches.iter().map(|b| (b.branch_id.as_str(), b.active)).collect::<Vec<_>>(),
        [("HWS", true), ("HWSOLD", false)]
    );
    let po = acu.get_purchase_order(&PoType::Normal, "PO000005").await.expect("read").expect("there");
    assert!(
        po.lines.iter().any(|l| l.inventory_id.as_deref() == Some("FREIGHT") && l.account.as_deref() == Some("51000"))
    );
    assert_eq!(po.order_total, po.lines.iter().map(|l| l.extended_cost).sum());
    h.shutdown().await;
}
