//! Writes: the export mark (own request, lost answers resolved by reading back, never re-sent
//! blindly), the custom-field write-back and its refusals quoted whole, PO marks, a missing write
//! scope, and the integration history record.

use mlc_core::engine::flow::ErrorClass;
use mlc_coupa::CoupaError;
use mlc_sim::common::{Fault, FaultRule};
use serde_json::Map;

use super::*;

#[tokio::test]
async fn marks_are_their_own_request_and_lost_answers_are_resolved_by_lookup() {
    let h = start(small()).await;
    let c = client(&h, json!({}));
    let m = c.mark_invoice_exported(1001).await.expect("mark");
    assert!(!m.resolved_by_lookup);
    assert_eq!(m.exported_at.map(|t| t.to_rfc3339()), Some("2025-06-16T14:30:00+00:00".into()));
    let put = h.calls().records().into_iter().find(|r| r.method == "PUT").expect("the PUT");
    assert!(put.query.contains("exported=true"), "{}", put.query);
    // Committed, then the connection died: read back, found exported, not re-sent.
    h.faults().add(FaultRule::new("PUT", "/api/invoices/{id}", Fault::commit_then_reset(20)).times(1));
    let m = c.mark_invoice_exported(1002).await.expect("resolved");
    assert!(m.resolved_by_lookup);
    assert_eq!(h.calls().count("PUT", "/api/invoices/{id}"), 2, "one PUT for 1001, one for 1002");
    assert_eq!(c.invoice_export_state(1002).await.expect("state"), Some(("approved".into(), true)));
    // Refused before it was applied (reset, or a 500 that changed nothing): the read-back proves the
    // flag is not set, so the idempotent PUT goes once more.
    h.faults().add(FaultRule::new("PUT", "/api/invoices/{id}", Fault::status(500)).times(1));
    let m = c.mark_invoice_exported(1005).await.expect("marked on the second PUT");
    assert!(m.resolved_by_lookup);
    assert_eq!(h.calls().count("PUT", "/api/invoices/{id}"), 4);
    // Lost twice: in doubt, said plainly.
    h.faults().add(FaultRule::new("PUT", "/api/invoices/{id}", Fault::Reset).times(2));
    let e = c.mark_invoice_exported(1003).await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::InDoubt, "{e}");
    assert_eq!(h.calls().count("PUT", "/api/invoices/{id}"), 6);
    // POs the same way.
    act(&h, "revise_po", json!({"id": 7})).await;
    assert_eq!(c.purchase_order_ids_to_export().await.expect("ids"), [7]);
    assert!(!c.mark_purchase_order_exported(7).await.expect("mark").resolved_by_lookup);
    assert!(c.purchase_order_ids_to_export().await.expect("ids").is_empty());
    h.shutdown().await;
}

#[tokio::test]
async fn custom_field_write_back_and_refusals_quoted_whole() {
    let h = start(small()).await;
    let c = client(&h, json!({}));
    let mut f = Map::new();
    f.insert("cf-deltek-voucher-id".into(), json!("V-100"));
    c.set_invoice_custom_fields(1001, &f).await.expect("written");
    let inv = c.get_invoice(1001).await.expect("read").expect("exists");
    assert_eq!(
        (inv.custom_fields["cf-deltek-voucher-id"].as_str(), inv.exported),
        (Some("V-100"), false),
        "never touches the flag"
    );
    // Lost answer: read back, it landed.
    h.faults().add(FaultRule::new("PUT", "/api/invoices/{id}", Fault::commit_then_reset(20)).times(1));
    f.insert("cf-deltek-voucher-id".into(), json!("V-101"));
    c.set_invoice_custom_fields(1001, &f).await.expect("resolved by reading back");
    assert_eq!(h.calls().count("PUT", "/api/invoices/{id}"), 2);
    // Refusals: Coupa's envelope, quoted whole, with the fix.
    let mut bad = Map::new();
    bad.insert("cf-nope".into(), json!("x"));
    let e = c.set_invoice_custom_fields(1001, &bad).await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Permanent);
    let m = e.to_string();
    assert!(
        m.contains("\"invoice_header: Custom field cf-nope does not exist\"") && m.contains("Setup > Custom Fields"),
        "{m}"
    );
    let mut locked = Map::new();
    locked.insert("cf-approval-route".into(), json!("x"));
    assert!(
        c.set_invoice_custom_fields(1001, &locked).await.unwrap_err().to_string().contains("not editable via the API")
    );
    // An instance enforcing validations refuses even the mark for an invoice on an inactive account.
    h.system().set_switch(|sw| sw.enforce_invoice_validations = true);
    act(&h, "approve_invoice", json!({"id": 1005})).await;
    let e = c.mark_invoice_exported(1005).await.unwrap_err();
    assert_eq!(e.status(), Some(400));
    assert!(
        e.to_string().contains("Account 5999-100-0000000 is inactive") && e.to_string().contains("reactivate"),
        "{e}"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn a_missing_write_scope_is_a_credentials_problem_naming_the_scope() {
    let h = start(small()).await;
    let ro = Credentials::new()
        .with("client_id", demo::READ_ONLY_CLIENT_ID)
        .with("client_secret", demo::READ_ONLY_CLIENT_SECRET);
    let c = client_with(&h, json!({"scopes": ["core.invoice.read", "core.supplier.read"]}), ro.clone());
    assert!(c.get_invoice(1001).await.expect("read").is_some());
    // The OAuth client may write, but this connection's token asked only for a read scope.
    let c = client_with(&h, json!({"scopes": "core.invoice.read"}), credentials());
    let e = c.mark_invoice_exported(1001).await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Auth);
    assert!(matches!(&e, CoupaError::Forbidden { fix, .. } if fix.contains("core.invoice.write")), "{e}");
    h.shutdown().await;
}

#[tokio::test]
async fn integration_history_records_are_written_once() {
    let h = start(small()).await;
    let c = client(&h, json!({"scopes": ["core.invoice.read", "core.integration.read", "core.integration.write"]}));
    let r = c
        .record_integration_result("InvoiceHeader", 1001, true, "200", "Deltek voucher V-100", false)
        .await
        .expect("created");
    assert_eq!((r.document_id, r.status.as_str()), (Some(1001), "Success"));
    // The answer is lost after the record was created: looked up, not created twice.
    h.faults().add(
        FaultRule::new("POST", "/api/integration_history_records/create_alert", Fault::commit_then_reset(20)).times(1),
    );
    let r2 = c
        .record_integration_result("InvoiceHeader", 1002, false, "DELTEK-400", "Vendor not found", true)
        .await
        .expect("looked up");
    assert_eq!(r2.status, "Error");
    assert_eq!(c.integration_records("InvoiceHeader", 1002).await.expect("list").len(), 1);
    h.shutdown().await;
}
