//! Paging: pages of 50, the exported-flag hazard (and why ids are collected first), records added
//! between pages, a record duplicated across pages, truncated answers; and the calls an export
//! costs per invoice.

use mlc_coupa::ExportPass;

use super::*;

/// The small scenario plus `n` approved invoices of supplier 6.
async fn with_bulk(n: usize) -> SimHandle<CoupaSim> {
    let h = start(small()).await;
    for i in 0..n {
        act(
            &h,
            "create_invoice",
            json!({"supplier_id": 6, "invoice_number": format!("BULK-{i:03}"), "status": "approved",
                                         "lines": [{"amount": "10", "account_id": 10}]}),
        )
        .await;
    }
    h
}

#[tokio::test]
async fn ids_are_collected_in_pages_of_50_before_anything_changes() {
    let h = with_bulk(120).await;
    let c = client(&h, json!({}));
    let ids = c.invoice_ids_to_export(ExportPass::Approved).await.expect("ids");
    assert_eq!(ids.len(), 122, "1001, 1002 and the 120 new ones");
    assert_eq!(h.calls().count("GET", "/api/invoices"), 3, "50 + 50 + 22");
    assert!(h.calls().records().iter().all(|r| !r.query.contains("limit=") || r.query.contains("limit=50")));
    assert_eq!(c.invoice_ids_to_export(ExportPass::Voided).await.expect("voided"), [1006]);
    h.shutdown().await;
}

#[tokio::test]
async fn the_exported_flag_hazard_skips_records_unless_ids_come_first() {
    // The hazard, shown: walk `exported=false` page by page and mark each page as it comes.
    let h = with_bulk(60).await;
    let c = client(&h, json!({"page_size": 10}));
    let filters = vec![("status".to_string(), "approved".to_string()), ("exported".to_string(), "false".to_string())];
    let mut naive = c.walk("api/invoices", &filters, r#"["id"]"#);
    let mut marked = 0;
    while let Some(page) = naive.next_page().await.expect("page") {
        for r in page {
            c.mark_invoice_exported(r["id"].as_i64().expect("id")).await.expect("mark");
            marked += 1;
        }
    }
    let left = c.invoice_ids_to_export(ExportPass::Approved).await.expect("left");
    assert!(marked < 62 && !left.is_empty(), "marked {marked}, left behind {}", left.len());
    h.shutdown().await;

    // The client's way: every id first, then read and mark each one. Nothing is left behind.
    let h = with_bulk(60).await;
    let c = client(&h, json!({"page_size": 10}));
    let ids = c.invoice_ids_to_export(ExportPass::Approved).await.expect("ids");
    for id in &ids {
        let inv = c.get_invoice(*id).await.expect("read").expect("exists");
        c.mark_invoice_exported(inv.id).await.expect("mark");
    }
    assert_eq!(ids.len(), 62);
    assert!(c.invoice_ids_to_export(ExportPass::Approved).await.expect("left").is_empty());
    h.shutdown().await;
}

#[tokio::test]
async fn records_added_between_pages_are_seen_and_duplicates_dropped() {
    let h = with_bulk(8).await;
    let c = client(&h, json!({"page_size": 4}));
    let filters = vec![("status".to_string(), "approved".to_string())];
    let mut p = c.walk("api/invoices", &filters, r#"["id"]"#);
    let mut seen: Vec<i64> =
        p.next_page().await.expect("page").expect("some").iter().map(|r| r["id"].as_i64().unwrap()).collect();
    // Approved between two pages: a new id lands at the end of the walk.
    let new = act(
        &h,
        "create_invoice",
        json!({"supplier_id": 5, "invoice_number": "LATE-1", "status": "approved",
                                               "lines": [{"amount": "1"}]}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    while let Some(page) = p.next_page().await.expect("page") {
        seen.extend(page.iter().map(|r| r["id"].as_i64().unwrap()));
    }
    assert!(seen.contains(&new));
    assert_eq!(seen.len(), 12, "1001, 1002, 1004, 8 bulk, the late one: {seen:?}");
    // A record enters the window before the current page: the next page repeats one record.
    act(&h, "inject_page_fault", json!({"kind": "duplicate_across_pages", "route": "/api/invoices"})).await;
    let ids = c.collect_ids("api/invoices", &filters).await.expect("ids");
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!((ids.len(), sorted.len()), (12, 12), "no id twice, none lost: {ids:?}");
    h.shutdown().await;
}

#[tokio::test]
async fn a_truncated_answer_is_read_again() {
    let h = start(small()).await;
    let c = client(&h, json!({}));
    act(&h, "inject_page_fault", json!({"kind": "truncated_json", "route": "/api/invoices", "times": 2})).await;
    assert_eq!(c.invoice_ids_to_export(ExportPass::Approved).await.expect("ids"), [1001, 1002]);
    assert_eq!(h.calls().count("GET", "/api/invoices"), 3);
    act(&h, "inject_page_fault", json!({"kind": "truncated_json", "route": "/api/invoices", "times": 5})).await;
    let e = c.invoice_ids_to_export(ExportPass::Approved).await.unwrap_err();
    assert!(matches!(e.class(), mlc_core::engine::flow::ErrorClass::Retryable { .. }), "{e}");
    assert!(e.to_string().contains("cut short"), "{e}");
    h.shutdown().await;
}

#[tokio::test]
async fn an_export_costs_about_two_calls_per_invoice() {
    let h = with_bulk(120).await;
    let c = client(&h, json!({}));
    let before = c.stats().calls;
    let ids = c.invoice_ids_to_export(ExportPass::Approved).await.expect("ids");
    for id in &ids {
        let inv = c.get_invoice(*id).await.expect("read").expect("exists");
        c.mark_invoice_exported(inv.id).await.expect("mark");
    }
    let calls = c.stats().calls - before;
    let per = calls as f64 / ids.len() as f64;
    eprintln!("coupa calls per exported invoice: {calls} calls / {} invoices = {per:.3}", ids.len());
    assert_eq!(calls, 3 + 2 * 122, "3 id pages, one read and one mark each");
    h.shutdown().await;
}
