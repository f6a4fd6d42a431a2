//! Reads: purchases (simple, advanced, legacy, credit notes), paging, cursors, date shapes,
//! suppliers, accounts, wrong URL and wrong keys, and resolving webhook task hints.

use mlc_cin7::{Approach, Cin7Error, DocStatus, Endpoint, PurchaseType};
use mlc_core::domain::Status;
use mlc_core::engine::flow::{ErrorClass, StepError};
use mlc_sim::cin7::switches::{LegacyInvoiceKey, StampStyle};
use mlc_sim::common::{Fault, FaultRule};
use serde_json::json;

use super::*;

#[tokio::test]
async fn simple_advanced_and_credit_note_purchases_in_one_model() {
    let h = start(small()).await;
    let c = client(&h, json!({}));
    let p = c.get_purchase(&SIMPLE.to_uppercase()).await.expect("read").expect("exists");
    assert_eq!((p.id.as_str(), p.kind.clone(), p.endpoint), (SIMPLE, PurchaseType::Simple, Endpoint::Advanced));
    assert_eq!(
        (p.order_number.as_str(), p.supplier_id.as_deref(), p.supplier_name.as_str()),
        ("PO-00001", Some(ACME), "Acme Survey Supply")
    );
    assert_eq!(
        (p.location.as_deref(), p.approach.clone(), p.currency.as_deref()),
        (Some("Port Harbor HQ"), Approach::Invoice, Some("USD"))
    );
    assert_eq!(p.status, "INVOICED");
    assert_eq!(p.additional_attributes.get("AdditionalAttribute1").map(String::as_str), Some("2024011.00|01"));
    assert_eq!(p.version().as_deref(), Some("2025-06-01T10:00:00.1230000Z"));
    let inv = &p.invoices[0];
    assert_eq!(
        (inv.task_id.as_str(), inv.number.as_deref(), inv.status.clone()),
        (SIMPLE, Some("ACME-1"), DocStatus::Authorised)
    );
    assert_eq!(inv.invoice_date.map(|d| d.to_string()).as_deref(), Some("2025-05-30"));
    let l = &inv.lines[0];
    assert_eq!(
        (l.name.as_str(), l.account.as_deref(), l.quantity, l.price),
        ("Survey stakes", Some("472"), Some(d("10")), Some(d("4.5")))
    );
    assert_eq!((l.tax_rule.as_deref(), l.tax, l.total), (Some("WA Sales Tax"), Some(d("4.55")), Some(d("45"))));
    assert_eq!(
        (inv.totals.before_tax, inv.totals.tax, inv.totals.total),
        (Some(d("45")), Some(d("4.55")), Some(d("49.55")))
    );
    assert_eq!(p.order.lines.len(), 1);
    assert!(p.notes.is_empty(), "{:?}", p.notes);

    // Advanced with two invoices: the second is its own task.
    let a = c.get_purchase(ADVANCED).await.expect("read").expect("exists");
    assert_eq!(a.kind, PurchaseType::Advanced);
    assert_eq!(a.invoices.len(), 2);
    assert_eq!(a.invoices[0].task_id, ADVANCED);
    assert_ne!(a.invoices[1].task_id, ADVANCED);
    assert_eq!(a.invoices[1].status, DocStatus::Draft);
    assert_eq!(a.authorised_invoices().map(|i| i.number.clone()).collect::<Vec<_>>(), [Some("GG-1".to_string())]);
    assert_eq!(a.invoices[0].totals.total, Some(d("2160")));
    assert_eq!(a.combined_invoice_status.as_deref(), Some("PARTIALLY INVOICED"));
    assert!(a.has_task(&a.invoices[1].task_id.to_uppercase()));

    // Credit notes.
    let cr = c.get_purchase(CREDITED).await.expect("read").expect("exists");
    assert_eq!(cr.status, "CREDITED");
    let cn = &cr.credit_notes[0];
    assert_eq!(
        (cn.number.as_deref(), cn.invoice_number.as_deref(), cn.status.clone()),
        (Some("CN-1"), Some("ACME-2"), DocStatus::Authorised)
    );
    assert_eq!((cn.lines[0].account.as_deref(), cn.totals.total), (Some("472"), Some(d("330.30"))));

    // Stock first, nothing invoiced yet.
    let s = c.get_purchase(STOCK).await.expect("read").expect("exists");
    assert_eq!(
        (s.approach.clone(), s.invoices.len(), s.stock_received_status()),
        (Approach::Stock, 0, "NOT RECEIVED".to_string())
    );

    // Absent and malformed ids.
    assert_eq!(c.get_purchase("aaaaaaaa-0000-4000-8000-00000000dead").await.expect("read"), None);
    let e = c.get_purchase("PO-00001").await.unwrap_err();
    assert!(matches!(e, Cin7Error::Invalid { .. }), "{e}");
    h.shutdown().await;
}

#[tokio::test]
async fn legacy_endpoint_shapes_typo_and_fallbacks() {
    let h = start(small()).await;
    // An account whose advanced-purchase answers a web page: the client reads legacy purchase.
    let page = "<!DOCTYPE html><html><head><title>Page not found</title></head><body>Page not found</body></html>";
    h.faults().add(
        FaultRule::new(
            "GET",
            "/advanced-purchase",
            Fault::Status {
                status: 200,
                retry_after_secs: None,
                retry_after_http_date: false,
                body: Some(page.into()),
                content_type: Some("text/html".into()),
            },
        )
        .times(1),
    );
    let c = client(&h, json!({}));
    let p = c.get_purchase(SIMPLE).await.expect("read").expect("exists");
    assert_eq!(p.endpoint, Endpoint::Legacy);
    assert_eq!(p.invoices.len(), 1);
    assert_eq!(p.invoices[0].number.as_deref(), Some("ACME-1"), "read from InvocieNumber");
    assert!(p.credit_notes.is_empty() && p.stock_received.is_empty(), "NOT AVAILABLE placeholders dropped");
    assert_eq!(h.calls().count("GET", "/purchase"), 1);
    // Remembered: the next read goes to legacy straight away.
    let _ = c.get_purchase(CREDITED).await.expect("read").expect("exists");
    assert_eq!(h.calls().count("GET", "/advanced-purchase"), 1);

    // purchase_endpoint = legacy: an Advanced purchase is refused there and read from advanced.
    h.system().set_switch(|s| s.legacy_invoice_number_key = LegacyInvoiceKey::Correct);
    let l = client(&h, json!({"purchase_endpoint": "legacy"}));
    let a = l.get_purchase(ADVANCED).await.expect("read").expect("exists");
    assert_eq!((a.endpoint, a.invoices.len()), (Endpoint::Advanced, 2));
    let s = l.get_purchase(SIMPLE).await.expect("read").expect("exists");
    assert_eq!((s.endpoint, s.invoices[0].number.as_deref()), (Endpoint::Legacy, Some("ACME-1")));
    h.shutdown().await;
}

#[tokio::test]
async fn paging_cursors_and_every_date_shape() {
    let h = start(scenario::engineering_firm(scenario::DEFAULT_SEED, 120)).await;
    let c = client(&h, json!({}));
    let mut all = Vec::new();
    let mut page = 1;
    loop {
        let p = c.list_purchases_changed(None, page, 25).await.expect("page");
        assert_eq!(p.page, page);
        let more = p.has_more(25);
        all.extend(p.items);
        if !more {
            assert_eq!(all.len() as u64, p.total);
            break;
        }
        page += 1;
    }
    assert!(all.len() >= 120);
    assert!(all.windows(2).all(|w| w[0].last_updated <= w[1].last_updated), "oldest first");
    let ids: std::collections::BTreeSet<&str> = all.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids.len(), all.len());
    // A cursor in the middle: later rows only (the cursor row itself comes back only when its
    // stamp has digits below the millisecond: floored, never skipped).
    let k = 60;
    let since = all[k].last_updated.expect("stamp");
    let after = c.list_purchases_changed(Some(since), 1, 1000).await.expect("since");
    let first = &after.items[0];
    if since.timestamp_subsec_nanos() % 1_000_000 == 0 {
        assert_eq!(first.id, all[k + 1].id);
    } else {
        assert_eq!(first.id, all[k].id);
        assert_eq!(after.items[1].id, all[k + 1].id);
    }
    assert!(after.items.iter().all(|s| s.last_updated.expect("stamp") >= since));
    assert_eq!(after.total as usize, after.items.len());
    // Summaries carry what the flow filters on.
    let row = &all[k];
    assert!(!row.order_number.is_empty() && !row.supplier_name.is_empty() && row.supplier_id.is_some());
    assert!(all.iter().any(|s| s.invoice_status == DocStatus::Authorised && s.invoice_number.is_some()));
    assert!(all.iter().any(|s| s.kind == PurchaseType::Service));

    // Every stamp shape Cin7 writes reads to the same instant (at its precision).
    let id = all[k].id.clone();
    for style in [StampStyle::SevenZ, StampStyle::Three, StampStyle::TwoZ, StampStyle::Plain] {
        h.system().set_switch(|s| s.stamp_style = style);
        let p = c.get_purchase(&id).await.expect("read").expect("exists");
        let got = p.last_updated.expect("stamp");
        assert!((since - got).num_milliseconds().abs() < 1000, "{style:?}: {got} vs {since}");
        assert!(p.notes.is_empty(), "{style:?}: {:?}", p.notes);
    }
    // Exactly on a millisecond: strictly after excludes it.
    let h2 = start(small()).await;
    let c2 = client(&h2, json!({}));
    let after = c2.list_purchases_changed(Some(t("2025-06-01T10:00:00.123Z")), 1, 100).await.expect("since");
    assert_eq!(
        after.items.iter().map(|s| s.order_number.as_str()).collect::<Vec<_>>(),
        ["PO-00002", "PO-00003", "PO-00004"]
    );
    let found = c2.search_purchases("gg-2", 1, 10).await.expect("search");
    assert_eq!(found.items.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), [ADVANCED]);
    h.shutdown().await;
    h2.shutdown().await;
}

#[tokio::test]
async fn suppliers_vendors_and_accounts() {
    let h = start(small()).await;
    let c = client(&h, json!({"page_size": 10}));
    let page = c.list_suppliers_changed(None, 1, 100).await.expect("suppliers");
    assert_eq!(page.items.len(), 2, "deprecated suppliers included");
    let since = c.list_suppliers_changed(Some(t("2025-05-01T08:00:00Z")), 1, 100).await.expect("since");
    assert_eq!(since.items.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), [GRANITE]);
    let s = c.get_supplier(&ACME.to_uppercase()).await.expect("read").expect("exists");
    let v = s.to_vendor();
    v.validate().expect("valid vendor");
    assert_eq!(
        (v.code.as_str(), v.name.as_str(), v.tax_id.as_deref()),
        (ACME, "Acme Survey Supply", Some("91-1234567"))
    );
    assert_eq!(
        (v.payment_terms.as_deref(), v.email.as_deref(), v.phone.as_deref()),
        (Some("Net 30"), Some("ann@acme.test"), Some("555-0100"))
    );
    assert_eq!((v.status, v.currency.map(|c| c.to_string())), (Status::Active, Some("USD".to_string())));
    let g = c.get_supplier(GRANITE).await.expect("read").expect("exists");
    assert_eq!(g.to_vendor().status, Status::Inactive);
    assert_eq!(c.get_supplier("99999999-9999-4999-8999-999999999999").await.expect("read"), None);

    let accounts = c.list_accounts().await.expect("accounts");
    assert_eq!(accounts.len(), 29, "three pages of 10");
    assert!(h.calls().count("GET", "/ref/account") >= 3);
    let ap = accounts.iter().find(|a| a.system_account_code.as_deref() == Some("CREDITORS")).expect("AP");
    assert_eq!(ap.code, "800");
    assert!(accounts.iter().any(|a| a.code == "499" && !a.is_active()));
    assert_eq!(
        accounts.iter().find(|a| a.code == "462").map(|a| a.to_gl_account().name),
        Some("Subconsultants - Geotechnical".to_string())
    );
    assert_eq!(
        h.calls().count("POST", "*") + h.calls().count("PUT", "*") + h.calls().count("DELETE", "*"),
        0,
        "read-only"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn wrong_url_page_and_wrong_keys_are_errors_with_fixes() {
    let h = start(small()).await;
    let wrong = json!({"base_url": format!("{}/ExternalApi/v3", h.root_url())});
    let c = client(&h, wrong);
    let e = c.list_purchases_changed(None, 1, 10).await.unwrap_err();
    assert!(matches!(e, Cin7Error::Unexpected { .. }), "{e}");
    let m = e.to_string();
    assert!(m.contains("HTML") && m.contains("/ExternalApi/v2/"), "{m}");
    assert_eq!(StepError::from(e).class, ErrorClass::Permanent);
    let e = c.get_purchase(SIMPLE).await.unwrap_err();
    assert!(e.is_missing_endpoint(), "{e}");

    let bad = credentials(&h).with("application_key", "0342a546-e0c2-0dff-f0be-6a5e17154033");
    let c = client_with(&h, json!({}), bad);
    let e = c.list_purchases_changed(None, 1, 10).await.unwrap_err();
    assert!(matches!(e, Cin7Error::Auth { .. }), "{e}");
    assert!(e.to_string().contains("Incorrect credentials!") && e.to_string().contains("Integrations → API"), "{e}");
    assert_eq!(StepError::from(e).class, ErrorClass::Auth);
    assert_eq!(h.calls().count("GET", "/purchaseList"), 1, "a 403 is not retried");
    h.shutdown().await;
}

#[tokio::test]
async fn task_hints_resolve_by_purchase_id_or_order_number() {
    let h = start(small()).await;
    let c = client(&h, json!({}));
    let second = c.get_purchase(ADVANCED).await.expect("read").expect("exists").invoices[1].task_id.clone();
    // The first task is the purchase id: direct.
    let p = c.resolve_purchase_task(&ADVANCED.to_uppercase(), Some("PO-00002")).await.expect("resolve").expect("found");
    assert_eq!(p.id, ADVANCED);
    // A sub-task id: not a purchase, found through the order number, owning the task.
    let before = h.calls().count("GET", "/purchaseList");
    let p = c.resolve_purchase_task(&second.to_uppercase(), Some("PO-00002")).await.expect("resolve").expect("found");
    assert_eq!(p.id, ADVANCED);
    assert!(p.invoice(&second).is_some());
    assert_eq!(h.calls().count("GET", "/purchaseList"), before + 1);
    // Without an order number, or with one that matches only as a substring: nothing.
    assert_eq!(c.resolve_purchase_task(&second, None).await.expect("resolve"), None);
    assert_eq!(c.resolve_purchase_task(&second, Some("PO-0000")).await.expect("resolve"), None);
    h.shutdown().await;
}

#[tokio::test]
async fn error_objects_are_read_like_error_arrays() {
    let h = start(small()).await;
    let c = client(&h, json!({}));
    for shape in [mlc_sim::cin7::switches::ErrorShape::Array, mlc_sim::cin7::switches::ErrorShape::Object] {
        h.system().set_switch(|s| {
            s.error_shape = shape;
            s.report_all_validation_errors = true;
        });
        assert_eq!(c.get_purchase("aaaaaaaa-0000-4000-8000-00000000dead").await.expect("read"), None, "{shape:?}");
        let e = c.register_webhook("Nope/Event", "not a url", &[]).await.unwrap_err();
        assert!(
            matches!(&e, Cin7Error::Refused { status: 400, server, .. } if server.contains("'Nope/Event' is not a valid webhook type")),
            "{shape:?}: {e}"
        );
        assert_eq!(StepError::from(e).class, ErrorClass::Permanent);
    }
    h.shutdown().await;
}
