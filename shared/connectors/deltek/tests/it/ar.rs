//! AR invoices since a cursor, for outbound EDI.

use mlc_deltek::{ArCursor, DeltekError};
use mlc_sim::deltek::DeltekScenario;
use mlc_sim::deltek::model::ArInvoice as SimAr;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn new_invoices_are_read_once_by_posting_order() {
    let env = start().await;
    let page = env.client.ar_invoices_since(Some(ArCursor::Posted { period: 202401, post_seq: 0 })).await.unwrap();
    assert_eq!(page.invoices.len(), 8, "skipped: {:?}", page.skipped);
    assert!(page.skipped.is_empty());
    let inv = page.invoices.iter().find(|i| i.invoice_number == "0024101").expect("0024101");
    assert_eq!(inv.total, d("49410.55"));
    assert_eq!(inv.lines.len(), 2);
    assert_eq!(inv.buyer.name, "Harbor County Department of Transportation");
    assert!(inv.buyer.address.as_ref().is_some_and(|a| a.city.as_deref() == Some("Port Harbor")));
    assert_eq!(inv.seller.name, "Harbor & Pine Engineering, Inc.");
    assert_eq!(inv.lines[0].project.as_ref().map(|p| p.top()), Some("2023014.00"));
    assert!(inv.due_date.is_some());

    // Nothing new since the returned cursor.
    let again = env.client.ar_invoices_since(Some(page.next_cursor)).await.unwrap();
    assert!(again.invoices.is_empty());
    assert_eq!(again.next_cursor, page.next_cursor);

    // A new posted invoice is the only one read next.
    let new = SimAr::new("0024109", "2025005.00", Some(date(2025, 6, 15).and_hms_opt(0, 0, 0).unwrap())).line(
        "02",
        "40100",
        d("5100.00"),
        "F",
        "Design - fee",
    );
    env.sim.system().seed_scenario(&DeltekScenario::new().ar_invoice(new)).unwrap();
    let next = env.client.ar_invoices_since(Some(page.next_cursor)).await.unwrap();
    assert_eq!(next.invoices.iter().map(|i| i.invoice_number.as_str()).collect::<Vec<_>>(), vec!["0024109"]);
    assert_eq!(next.invoices[0].source.id, "2025005.00|0024109");
    assert!(ArCursor::parse(&next.next_cursor.to_string()).is_ok());
}

#[tokio::test]
async fn the_modified_cursor_sees_changed_invoices() {
    let env = start().await;
    env.sim.clock().advance(chrono::Duration::hours(1));
    let since = env.sim.clock().now().naive_utc();
    env.action("touch_ar_invoice", json!({ "invoice": "0024103", "balance": 1000 })).await;
    let page = env.client.ar_invoices_since(Some(ArCursor::Modified(since))).await.unwrap();
    assert_eq!(page.invoices.iter().map(|i| i.invoice_number.as_str()).collect::<Vec<_>>(), vec!["0024103"]);
    assert!(matches!(page.next_cursor, ArCursor::Modified(t) if t >= since));
}

#[tokio::test]
async fn bare_object_answers_and_hidden_amounts() {
    let env = start().await;
    env.sim.system().set_switch(|s| s.ar_review_bare_object = true);
    let page = env.client.ar_invoices_since(Some(ArCursor::Posted { period: 202401, post_seq: 0 })).await.unwrap();
    assert_eq!(page.invoices.len(), 8);

    let viewer = env.client_as("VIEWER", json!({}));
    let e = viewer.ar_invoices_since(Some(ArCursor::Posted { period: 202401, post_seq: 0 })).await.unwrap_err();
    assert!(matches!(e, DeltekError::HiddenAmounts { .. }), "{e}");
    assert!(e.to_string().contains("field-level visibility"));
}
