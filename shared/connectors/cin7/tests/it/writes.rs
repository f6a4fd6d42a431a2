//! Writes for the Acumatica flows: a purchase in three steps (draft header, draft order,
//! authorised order), found again by its reference and never created twice; suppliers created
//! once by name, refused with Cin7's words, updated.

use mlc_cin7::writes::{OrderLineDraft, PurchaseDraft, SupplierAddressDraft, SupplierContactDraft, SupplierDraft};
use mlc_cin7::{Cin7Error, DocStatus};
use mlc_core::engine::flow::ErrorClass;
use mlc_sim::common::{Fault, FaultRule};
use serde_json::json;

use super::*;

fn draft(reference: &str) -> PurchaseDraft {
    PurchaseDraft {
        supplier_id: ACME.into(),
        supplier_name: "Acme Survey Supply".into(),
        location: "Port Harbor HQ".into(),
        approach: "INVOICE".into(),
        reference: reference.into(),
        reference_attribute: 10,
        required_by: None,
        tax_rule: None,
        terms: None,
        memo: Some("From Acumatica".into()),
        lines: vec![
            OrderLineDraft {
                sku: Some("BOX-12X12".into()),
                name: "Corrugated box".into(),
                quantity: d("200"),
                price: d("0.85"),
                ..Default::default()
            },
            OrderLineDraft {
                sku: Some("TAPE-48".into()),
                name: "Packing tape".into(),
                quantity: d("24"),
                price: d("2.10"),
                discount: d("10"),
                ..Default::default()
            },
        ],
    }
}

fn with_reference(h: &SimHandle<Cin7Sim>, r: &str) -> usize {
    h.system()
        .lock()
        .purchases
        .iter()
        .filter(|p| p.additional_attributes.get("AdditionalAttribute10").map(String::as_str) == Some(r))
        .count()
}

#[tokio::test]
async fn a_purchase_is_drafted_then_authorised_and_found_again() {
    let h = start(small()).await;
    let c = client(&h, json!({}));
    let w = c.create_purchase_once(&draft("Acumatica Normal PO000123"), None).await.expect("create");
    assert!(w.created());
    let p = w.record();
    assert_eq!((p.status.as_str(), p.order.status.clone(), p.order.lines.len()), ("ORDERED", DocStatus::Authorised, 2));
    assert_eq!(
        p.additional_attributes.get("AdditionalAttribute10").map(String::as_str),
        Some("Acumatica Normal PO000123")
    );
    assert_eq!(p.order.totals.before_tax, Some(d("215.36")), "200 × 0.85 + 24 × 2.10 less 10 %: {:?}", p.order.totals);
    assert!(p.order_number.starts_with("PO-"));
    assert_eq!((h.calls().count("POST", "/advanced-purchase"), h.calls().count("POST", "/purchase/order")), (1, 2));
    // Again: found by reference; nothing posted.
    let again = c.create_purchase_once(&draft("Acumatica Normal PO000123"), None).await.expect("found");
    assert!(!again.created() && again.record().id == p.id);
    assert_eq!((h.calls().count("POST", "/advanced-purchase"), h.calls().count("POST", "/purchase/order")), (1, 2));
    // Posting to an authorised order is refused by Cin7, quoting it.
    let e = c.post_order(&p.id, &draft("x"), DocStatus::Draft).await.expect_err("authorised");
    assert!(e.to_string().contains("Only DRAFT or NOT AVAILABLE orders can be changed"), "{e}");
    h.shutdown().await;
}

#[tokio::test]
async fn a_lost_header_answer_is_resolved_by_reference_to_one_purchase() {
    let h = start(small()).await;
    let c = client(&h, json!({}));
    h.faults().add(FaultRule::new("POST", "/advanced-purchase", Fault::commit_then_reset(20)).times(1));
    let e = c.create_purchase(&draft("Acumatica Normal PO000200")).await.expect_err("lost");
    assert_eq!(e.class(), ErrorClass::InDoubt, "{e}");
    assert!(e.to_string().contains("look it up by reference"), "{e}");
    // The header was saved: create_purchase_once finds it and finishes it (lines, authorise).
    let w = c.create_purchase_once(&draft("Acumatica Normal PO000200"), None).await.expect("resumed");
    assert!(!w.created());
    assert_eq!(w.record().status, "ORDERED");
    assert_eq!(with_reference(&h, "Acumatica Normal PO000200"), 1);
    // The same through create_purchase_once directly.
    h.faults().add(FaultRule::new("POST", "/advanced-purchase", Fault::commit_then_reset(20)).times(1));
    let w = c.create_purchase_once(&draft("Acumatica Normal PO000201"), None).await.expect("resolved");
    assert_eq!((w.created(), w.record().status.as_str()), (false, "ORDERED"));
    assert_eq!(with_reference(&h, "Acumatica Normal PO000201"), 1);
    assert_eq!(h.calls().count("POST", "/advanced-purchase"), 2, "never re-sent");
    h.shutdown().await;
}

#[tokio::test]
async fn refusals_quote_cin7() {
    let h = start(small()).await;
    let c = client(&h, json!({}));
    let mut bad = draft("Acumatica Normal PO000300");
    bad.location = "Nowhere".into();
    let e = c.create_purchase_once(&bad, None).await.expect_err("refused");
    assert!(
        matches!(&e, Cin7Error::Refused { status: 400, .. })
            && e.to_string().contains("Location 'Nowhere' was not found"),
        "{e}"
    );
    assert_eq!(e.class(), ErrorClass::Permanent);
    h.shutdown().await;
}

fn supplier(name: &str) -> SupplierDraft {
    SupplierDraft {
        name: Some(name.into()),
        currency: Some("USD".into()),
        payment_term: Some("Net 30".into()),
        account_payable: Some("800".into()),
        tax_rule: Some("Tax Exempt".into()),
        attributes: [(1u8, "V20001".to_string())].into_iter().collect(),
        address: Some(SupplierAddressDraft {
            line1: "1 Dock Rd".into(),
            city: Some("Port Harbor".into()),
            country: "United States".into(),
            ..Default::default()
        }),
        contact: Some(SupplierContactDraft {
            name: "Accounts".into(),
            email: Some("ap@seaport.example".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[tokio::test]
async fn suppliers_created_once_refused_with_cin7s_words_and_updated() {
    let h = start(small()).await;
    let c = client(&h, json!({}));
    let w = c.create_supplier_once(&supplier("Seaport Supply Co.")).await.expect("create");
    assert!(w.created());
    let s = w.into_record();
    assert_eq!(s.additional_attributes.get("AdditionalAttribute1").map(String::as_str), Some("V20001"));
    assert_eq!(s.main_contact().and_then(|x| x.email.as_deref()), Some("ap@seaport.example"));
    let again = c.create_supplier_once(&supplier("SEAPORT SUPPLY CO.")).await.expect("found");
    assert!(!again.created() && again.record().id == s.id);
    let mut bad = supplier("Other Supply");
    bad.payment_term = Some("Net 99".into());
    let e = c.create_supplier_once(&bad).await.expect_err("refused");
    assert!(e.to_string().contains("Active payment term with name 'Net 99' was not found"), "{e}");
    // Update: the contact by its ID (changed, not added).
    let contact_id = s.main_contact().and_then(|x| x.id.clone());
    let changed = c
        .update_supplier(
            &s.id,
            &SupplierDraft {
                contact: Some(SupplierContactDraft {
                    id: contact_id,
                    name: "Accounts".into(),
                    email: Some("billing@seaport.example".into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await
        .expect("update");
    assert_eq!(
        (changed.contacts.len(), changed.main_contact().and_then(|x| x.email.as_deref())),
        (1, Some("billing@seaport.example"))
    );
    assert!(changed.last_modified > s.last_modified);
    // A lost create answer: resolved by name.
    h.faults().add(FaultRule::new("POST", "/supplier", Fault::commit_then_reset(20)).times(1));
    let w = c.create_supplier_once(&supplier("Harbor Tugs LLC")).await.expect("resolved");
    assert!(!w.created());
    assert_eq!(c.find_suppliers_by_name("Harbor Tugs LLC").await.expect("lookup").len(), 1);
    h.shutdown().await;
}
