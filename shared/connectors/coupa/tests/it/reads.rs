//! Typed reads: invoices with their PO numbers, coding and amounts; every datetime and number
//! variant the switches produce; fields pinned against an admin's default filter; POs (every total
//! key, deleted lines), suppliers by watermark, remit-to, supplier information, reference data;
//! not found and a wrong base URL.

use chrono::{NaiveDate, TimeZone, Utc};
use mlc_coupa::CoupaError;
use mlc_sim::coupa::switches::{DatetimeStyle, PoTotalKey};

use super::*;

#[tokio::test]
async fn an_invoice_reads_typed_with_po_numbers_and_coding() {
    let h = start(small()).await;
    let c = client(&h, json!({}));
    let inv = c.get_invoice(1001).await.expect("read").expect("exists");
    assert_eq!(
        (inv.invoice_number.as_str(), inv.status.as_str(), inv.is_approved(), inv.exported),
        ("CSE-1", "approved", true, false)
    );
    assert_eq!(inv.invoice_date, NaiveDate::from_ymd_opt(2025, 6, 1));
    assert_eq!(inv.net_due_date, NaiveDate::from_ymd_opt(2025, 7, 1));
    assert_eq!((inv.total_with_taxes, inv.tax_amount, inv.shipping_amount), (d("5032.50"), d("12.50"), d("20.00")));
    assert_eq!(inv.currency_code(), Some("USD"));
    let sup = inv.supplier.as_ref().expect("supplier");
    assert_eq!((sup.id, sup.number.as_deref(), sup.tax_id.as_deref()), (5, Some("S-1"), Some("91-1234567")));
    assert_eq!(inv.remit_to_address.as_ref().map(|r| r.remit_to_code.as_str()), Some("RT-1"));
    assert_eq!(inv.po_numbers(), ["4500001"], "the PO number comes with the line: no extra call");
    let l = &inv.invoice_lines[0];
    assert_eq!((l.order_line_id, l.order_line_num.as_deref()), (Some(70), Some("1")));
    assert_eq!(l.account.as_ref().and_then(|a| a.segment(3)), Some("2023014"));
    assert_eq!(l.custom_fields["project-number"], "2023014.00");
    assert_eq!(inv.tax_lines[0].rate, Some(d("10.25")));
    assert_eq!(inv.invoice_charges[0].kind, "InvoiceShippingCharge");
    assert_eq!(inv.version().as_deref(), Some("2025-06-03T17:00:00Z"));
    // Split coding across two projects.
    let split = c.get_invoice(1002).await.expect("read").expect("exists");
    assert_eq!(split.invoice_lines[0].total, d("10.01"));
    let coding: Vec<(Option<&str>, Decimal)> =
        split.invoice_lines[1].coding().into_iter().map(|(a, amt)| (a.and_then(|a| a.segment(3)), amt)).collect();
    assert_eq!(coding, [(Some("2023014"), d("60")), (Some("2024022"), d("40"))]);
    assert!(c.get_invoice(424242).await.expect("404 is None").is_none());
    // The natural key.
    let found = c.find_invoices("CSE-1", Some(5)).await.expect("find");
    assert_eq!(found.iter().map(|i| i.id).collect::<Vec<_>>(), [1001]);
    assert!(c.find_invoices("CSE-1", Some(6)).await.expect("find").is_empty());
    assert_eq!(c.invoice_export_state(1004).await.expect("state"), Some(("approved".into(), true)));
    h.shutdown().await;
}

#[tokio::test]
async fn every_number_and_datetime_variant_decodes_the_same() {
    let h = start(small()).await;
    let c = client(&h, json!({}));
    let base = c.get_invoice(1001).await.expect("read").expect("exists");
    for (numbers, style) in [(true, DatetimeStyle::Zulu), (false, DatetimeStyle::Millis), (true, DatetimeStyle::Offset)]
    {
        h.system().set_switch(|sw| {
            sw.numbers_as_numbers = numbers;
            sw.datetime_style = style;
        });
        let inv = c.get_invoice(1001).await.expect("read").expect("exists");
        assert_eq!(inv.total_with_taxes, base.total_with_taxes, "{numbers} {style:?}");
        assert_eq!(inv.updated_at.map(|t| t.with_timezone(&Utc)), base.updated_at.map(|t| t.with_timezone(&Utc)));
        assert_eq!(inv.version(), base.version());
        if style != DatetimeStyle::Zulu {
            assert_eq!(inv.invoice_date, base.invoice_date, "dates read as written");
        }
    }
    // An instance east of UTC writes dates as its own midnight: still the same calendar date.
    h.system().set_switch(|sw| {
        sw.time_zone_offset_minutes = 600;
        sw.datetime_style = DatetimeStyle::Offset;
    });
    let inv = c.get_invoice(1001).await.expect("read").expect("exists");
    assert_eq!(inv.invoice_date, NaiveDate::from_ymd_opt(2025, 6, 1));
    h.shutdown().await;
}

#[tokio::test]
async fn fields_pin_the_payload_whatever_the_default_filter() {
    let h = start(small()).await;
    act(&h, "set_response_filter", json!({"name": "thin", "fields": ["id", "status"], "default_for": "invoices"}))
        .await;
    let c = client(&h, json!({}));
    let inv = c.get_invoice(1001).await.expect("read").expect("exists");
    assert_eq!((inv.invoice_number.as_str(), inv.total_with_taxes), ("CSE-1", d("5032.50")));
    assert!(h.calls().records().iter().any(|r| r.path == "/api/invoices/1001" && r.query.contains("fields=")));
    h.shutdown().await;
}

#[tokio::test]
async fn purchase_orders_every_total_key_and_deleted_lines() {
    let h = start(small()).await;
    let c = client(&h, json!({}));
    let po = c.find_purchase_order("4500001").await.expect("find").expect("exists");
    assert_eq!((po.id, po.version, po.exported, po.header_total()), (7, 1, true, d("11000")));
    assert_eq!(po.order_lines[1].line_num, "2");
    for key in [PoTotalKey::Total, PoTotalKey::InvoiceTotal, PoTotalKey::None, PoTotalKey::TotalWithEstimatedTax] {
        h.system().set_switch(|sw| sw.po_total_key = key);
        let po = c.get_purchase_order(7, false).await.expect("read").expect("exists");
        assert_eq!(po.header_total(), d("11000"), "{key:?}");
    }
    act(&h, "revise_po", json!({"id": 7, "changes": [{"line_num": "2", "delete": true}]})).await;
    let po = c.get_purchase_order(7, false).await.expect("read").expect("exists");
    assert_eq!((po.version, po.exported, po.order_lines.len(), po.header_total()), (2, false, 1, d("10000")));
    let all = c.get_purchase_order(7, true).await.expect("read").expect("exists");
    assert_eq!(all.order_lines.len(), 2);
    assert_eq!(c.get_order_line(71).await.expect("line").map(|l| l.status), Some("deleted".into()));
    h.system().set_switch(|sw| sw.po_status_canceled_spelling = true);
    let inv = c.get_invoice(1001).await.expect("read").expect("exists");
    assert_eq!(c.purchase_orders_of(&inv).await.expect("POs").iter().map(|p| p.id).collect::<Vec<_>>(), [7]);
    assert!(c.find_purchase_order("999").await.expect("find").is_none());
    h.shutdown().await;
}

#[tokio::test]
async fn suppliers_by_watermark_with_remit_to_and_bank_details() {
    let h = start(small()).await;
    let c = client(&h, json!({}));
    let all = c.suppliers_changed_since(None).await.expect("all");
    assert_eq!(all.suppliers.iter().map(|s| s.id).collect::<Vec<_>>(), [5, 6]);
    let mark = all.next_watermark.expect("watermark");
    assert_eq!(mark, Utc.with_ymd_and_hms(2025, 6, 2, 17, 0, 0).unwrap());
    let s = &all.suppliers[0];
    assert_eq!(
        (s.tax_id.as_deref(), s.remit_to().map(|r| r.address.postal_code.as_str())),
        (Some("91-1234567"), Some("98111"))
    );
    let phone = s.primary_contact.as_ref().and_then(|c| c.phone_work.clone()).expect("phone");
    assert_eq!(phone.display(), "(206) 555-0100");
    // Nothing new: the supplier of the watermark's second is read again (gt_or_eq), nothing else.
    let again = c.suppliers_changed_since(Some(mark)).await.expect("again");
    assert_eq!(again.suppliers.iter().map(|s| s.id).collect::<Vec<_>>(), [6]);
    // A buyer changes a remit-to address.
    h.clock().advance(chrono::Duration::hours(2));
    act(&h, "update_supplier", json!({"number": "S-1", "remit_to": {"remit_to_code": "RT-1", "street1": "PO Box 77", "city": "Tacoma", "state": "WA", "postal_code": "98401"}})).await;
    let changed = c.suppliers_changed_since(Some(mark)).await.expect("changed");
    assert_eq!(changed.suppliers.iter().map(|s| s.id).collect::<Vec<_>>(), [5, 6]);
    assert!(changed.next_watermark > Some(mark));
    assert_eq!(changed.suppliers[0].remit_to().map(|r| r.address.city.as_str()), Some("Tacoma"));
    assert_eq!(c.remit_to_addresses(5).await.expect("remit")[0].address.street1, "PO Box 77");
    let info = c.supplier_information(5).await.expect("info").expect("exists");
    assert_eq!(info.supplier_information_addresses[0].bank_account_number.as_deref(), Some("000123"));
    assert!(c.supplier_information(6).await.expect("info").is_none());
    assert_eq!(c.find_supplier_by_number("S-2").await.expect("find").map(|s| s.id), Some(6));
    assert!(c.get_supplier(99).await.expect("get").is_none());
    h.shutdown().await;
}

#[tokio::test]
async fn reference_data_and_a_wrong_base_url() {
    let h = start(small()).await;
    let c = client(&h, json!({}));
    let accounts = c.list_accounts(false).await.expect("accounts");
    assert_eq!(accounts.len(), 3);
    assert_eq!(accounts[0].segments.len(), 3);
    assert_eq!(accounts[0].chart.as_deref(), Some("Main COA"));
    assert_eq!(c.list_accounts(true).await.expect("active").len(), 2);
    assert_eq!(c.list_payment_terms().await.expect("terms")[0].days_for_net_payment, Some(30));
    assert_eq!(c.list_currencies().await.expect("currencies")[0].code, "USD");
    // The API under another path: Coupa's 404 page, not data.
    let wrong = client(&h, json!({"base_url": format!("{}/coupa", h.base_url())}));
    let e = wrong.get_invoice(1001).await.unwrap_err();
    assert!(matches!(e, CoupaError::Auth { .. }), "the token endpoint is not there either: {e}");
    h.shutdown().await;
}
