//! Writes: creates never repeated blindly (insert-only, natural-key lookups, in-doubt answers
//! resolved to one record), 422s quoted per field, updates while Acumatica allows them, the
//! release as a long operation, both contract versions.

use mlc_acumatica::model::{
    BillDraft, BillLineDraft, BillStatus, BillType, PoDraft, PoLineDraft, PoLink, PoStatus, PoType, PoUpdate,
    VendorDraft, plan_line_changes,
};
use mlc_acumatica::{AcumaticaError, Written};
use mlc_core::engine::flow::ErrorClass;
use mlc_sim::acumatica::AcumaticaSwitches;
use mlc_sim::common::{Fault, FaultRule};
use serde_json::json;

use crate::{action, client, client_with, d, sim, start};

fn bill(vendor_ref: &str, hold: bool) -> BillDraft {
    BillDraft {
        kind: BillType::Bill,
        vendor: "V10002".into(),
        vendor_ref: vendor_ref.into(),
        date: chrono::NaiveDate::from_ymd_opt(2025, 6, 12),
        due_date: None,
        description: Some("Janitorial supplies".into()),
        hold,
        branch: None,
        terms: None,
        currency: None,
        lines: vec![
            BillLineDraft {
                description: Some("Mop heads".into()),
                qty: Some(d("12")),
                unit_cost: Some(d("4.60")),
                account: Some("60000".into()),
                ..Default::default()
            },
            BillLineDraft {
                description: Some("Freight".into()),
                amount: Some(d("18.50")),
                account: Some("51000".into()),
                ..Default::default()
            },
        ],
    }
}

fn bills_with_ref(h: &crate::Sim, r: &str) -> usize {
    use mlc_sim::acumatica::record::Values;
    h.system().records("Bill").iter().filter(|b| b.s("VendorRef") == r).count()
}

#[tokio::test]
async fn bills_are_created_once_and_found_after() {
    let h = start().await;
    let acu = client(&h);
    let w = acu.create_bill_once(&bill("INV-5001", false)).await.expect("create");
    let Written::Created(b) = w else { panic!("expected a create: {w:?}") };
    assert_eq!((b.status.clone(), b.amount, b.lines.len()), (BillStatus::Balanced, d("73.70"), 2));
    assert_eq!((b.branch.as_deref(), b.date), (Some("HWS"), chrono::NaiveDate::from_ymd_opt(2025, 6, 12)));
    assert_eq!(b.lines[1].extended_cost, d("18.50"));
    let again = acu.create_bill_once(&bill("INV-5001", false)).await.expect("lookup");
    assert!(matches!(&again, Written::Found(f) if f.id == b.id && f.lines.len() == 2), "{again:?}");
    assert_eq!(h.calls().count("PUT", "/Bill"), 1, "looked up, not posted again");
    assert_eq!(bills_with_ref(&h, "INV-5001"), 1);
    // A plain create of the same document is not refused by Acumatica (no key was sent): that is
    // why the lookup comes first.
    acu.create_bill(&bill("INV-5001", true)).await.expect("Acumatica takes it");
    assert_eq!(bills_with_ref(&h, "INV-5001"), 2);
    h.shutdown().await;
}

#[tokio::test]
async fn a_lost_answer_is_in_doubt_and_resolved_by_lookup_to_one_record() {
    let h = start().await;
    let acu = client(&h);
    // The write commits, then the connection drops.
    h.faults().add(FaultRule::new("PUT", "/Bill", Fault::commit_then_reset(20)).times(1));
    let e = acu.create_bill(&bill("INV-7001", false)).await.expect_err("lost");
    assert_eq!(e.error_class(), ErrorClass::InDoubt, "{e}");
    assert!(e.to_string().contains("VendorRef eq 'INV-7001'"), "the error names the lookup: {e}");
    assert_eq!(bills_with_ref(&h, "INV-7001"), 1, "but it was saved");
    // The same again through create_bill_once: resolved to the saved record.
    h.faults().add(FaultRule::new("PUT", "/Bill", Fault::commit_then_reset(20)).times(1));
    let w = acu.create_bill_once(&bill("INV-7002", false)).await.expect("resolved by lookup");
    assert!(matches!(w, Written::Found(_)), "{w:?}");
    assert_eq!(bills_with_ref(&h, "INV-7002"), 1);
    assert_eq!(h.calls().count("PUT", "/Bill"), 2, "never re-sent");
    // A 500 (not applied here): in doubt, nothing found; the next attempt creates it once.
    h.faults().add(FaultRule::new("PUT", "/Bill", Fault::status(500)).times(1));
    let e = acu.create_bill_once(&bill("INV-7003", false)).await.expect_err("in doubt");
    assert!(e.is_in_doubt(), "{e}");
    assert_eq!(bills_with_ref(&h, "INV-7003"), 0);
    assert!(acu.create_bill_once(&bill("INV-7003", false)).await.expect("retry").created());
    assert_eq!(bills_with_ref(&h, "INV-7003"), 1);
    h.shutdown().await;
}

#[tokio::test]
async fn refusals_are_quoted_per_field_and_line() {
    let h = start().await;
    let acu = client(&h);
    let mut b = bill("INV-8001", true);
    b.lines[1].account = Some("99999".into());
    b.lines[0].subaccount = Some("ZZZ".into());
    let e = acu.create_bill(&b).await.expect_err("refused");
    let AcumaticaError::Validation { fields, entity, .. } = &e else { panic!("{e:?}") };
    assert!(entity.as_deref().is_some_and(|x| x.contains("raised at least one error")));
    let shown: Vec<String> = fields.iter().map(ToString::to_string).collect();
    assert!(
        shown.contains(&"Details[2]/Account = \"99999\": Account '99999' cannot be found in the system.".to_string()),
        "{shown:?}"
    );
    assert!(shown.iter().any(|s| s.starts_with("Details[1]/Subaccount = \"ZZZ\"")), "{shown:?}");
    assert_eq!(e.error_class(), ErrorClass::Permanent);
    assert!(e.to_string().starts_with("Acumatica refused Bill INV-8001 from vendor V10002:"), "{e}");
    let mut v = bill("INV-8002", true);
    v.vendor = "V99999".into();
    let e = acu.create_bill(&v).await.expect_err("refused").to_string();
    assert!(e.contains("Vendor = \"V99999\": Vendor 'V99999' cannot be found in the system."), "{e}");
    h.shutdown().await;
}

#[tokio::test]
async fn vendors_insert_only_update_only() {
    let h = start().await;
    let acu = client(&h);
    let draft = VendorDraft {
        vendor_id: "V20001".into(),
        name: Some("Seaport Supply Co.".into()),
        email: Some("ap@seaport.example".into()),
        phone: Some("+1 555 200 3000".into()),
        terms: Some("60D".into()),
        ..Default::default()
    };
    let v = acu.create_vendor(&draft).await.expect("create");
    assert_eq!(
        (v.vendor_id.as_str(), v.terms.as_deref(), v.email.as_deref()),
        ("V20001", Some("60D"), Some("ap@seaport.example"))
    );
    let e = acu.create_vendor(&draft).await.expect_err("taken");
    assert!(matches!(e, AcumaticaError::Exists { .. }), "{e:?}");
    assert!(matches!(acu.create_vendor_once(&draft).await.expect("found"), Written::Found(_)));
    let changed = acu
        .update_vendor(&VendorDraft {
            vendor_id: "V20001".into(),
            phone: Some("+1 555 200 3999".into()),
            ..Default::default()
        })
        .await
        .expect("update");
    assert_eq!((changed.phone.as_deref(), changed.name.as_str()), (Some("+1 555 200 3999"), "Seaport Supply Co."));
    assert!(changed.last_modified > v.last_modified);
    let e = acu
        .update_vendor(&VendorDraft { vendor_id: "V29999".into(), name: Some("x".into()), ..Default::default() })
        .await
        .expect_err("missing");
    assert_eq!(e.status(), Some(412), "{e}");
    h.shutdown().await;
}

fn po(reference: &str) -> PoDraft {
    PoDraft {
        kind: PoType::Normal,
        vendor_id: "V10004".into(),
        reference: Some(reference.into()),
        description: Some("From Cin7".into()),
        date: None,
        promised_on: None,
        hold: false,
        branch: None,
        location: None,
        terms: None,
        currency: None,
        lines: vec![
            PoLineDraft {
                inventory_id: Some("BOX-12X12".into()),
                qty: d("200"),
                unit_cost: d("0.85"),
                ..Default::default()
            },
            PoLineDraft {
                inventory_id: Some("TAPE-48".into()),
                qty: d("24"),
                unit_cost: d("2.10"),
                warehouse: Some("EAST".into()),
                ..Default::default()
            },
        ],
    }
}

#[tokio::test]
async fn purchase_orders_created_once_changed_while_allowed() {
    let h = start().await;
    let acu = client(&h);
    let Written::Created(p) = acu.create_purchase_order_once(&po("PO-00042")).await.expect("create") else {
        panic!("created")
    };
    assert_eq!(
        (p.status.clone(), p.vendor_ref.as_deref(), p.order_total),
        (PoStatus::Open, Some("PO-00042"), d("220.40"))
    );
    assert!(
        matches!(acu.create_purchase_order_once(&po("PO-00042")).await.expect("found"), Written::Found(f) if f.id == p.id)
    );
    assert_eq!(acu.find_purchase_orders("V10004", "PO-00042").await.expect("lookup").len(), 1);
    // The Cin7 order changed: more boxes, tape gone, labels added.
    let wanted = vec![
        PoLineDraft {
            inventory_id: Some("BOX-12X12".into()),
            qty: d("250"),
            unit_cost: d("0.85"),
            ..Default::default()
        },
        PoLineDraft {
            inventory_id: Some("LABEL-4X6".into()),
            qty: d("10"),
            unit_cost: d("3.90"),
            ..Default::default()
        },
    ];
    let (changes, kept) = plan_line_changes(&p, &wanted);
    assert!(kept.is_empty());
    let after =
        acu.update_purchase_order(&p.id, &PoUpdate { lines: changes, ..Default::default() }).await.expect("update");
    let lines: Vec<(Option<&str>, rust_decimal::Decimal)> =
        after.lines.iter().map(|l| (l.inventory_id.as_deref(), l.qty)).collect();
    assert_eq!(lines, [(Some("BOX-12X12"), d("250")), (Some("LABEL-4X6"), d("10"))]);
    assert_eq!(after.order_total, d("251.50"));
    // Received in the warehouse: Acumatica no longer takes changes; said without a call.
    action(&h, "receive_po", json!({"nbr": after.order_nbr})).await;
    let puts = h.calls().count("PUT", "/PurchaseOrder");
    let e = acu
        .update_purchase_order(&p.id, &PoUpdate { description: Some("late change".into()), ..Default::default() })
        .await
        .expect_err("too late");
    assert!(matches!(&e, AcumaticaError::NotEditable { status, .. } if status == "Completed"), "{e:?}");
    assert!(e.to_string().starts_with("Acumatica no longer allows changes to purchase order Normal PO"), "{e}");
    assert_eq!(h.calls().count("PUT", "/PurchaseOrder"), puts);
    h.shutdown().await;
}

#[tokio::test]
async fn release_is_a_long_operation_and_idempotent() {
    let h = sim()
        .switches(AcumaticaSwitches { long_op_polls: 2, ..AcumaticaSwitches::unthrottled() })
        .start()
        .await
        .expect("start");
    let acu = client(&h);
    let Written::Created(b) = acu.create_bill_once(&bill("INV-9001", true)).await.expect("create") else { panic!() };
    let e = acu.release_bill(&b.id).await.expect_err("on hold");
    assert!(matches!(&e, AcumaticaError::NotEditable { fix: Some(f), .. } if f.contains("take it off hold")), "{e:?}");
    let b = acu.set_bill_hold(&b.id, false).await.expect("off hold");
    assert_eq!(b.status, BillStatus::Balanced);
    let released = acu.release_bill(&b.id).await.expect("release");
    assert_eq!((released.status, released.balance), (BillStatus::Open, d("73.70")));
    assert_eq!(h.calls().count("POST", "/Bill/ReleaseBill"), 1);
    assert_eq!(h.calls().count("GET", "/Bill/ReleaseBill/status"), 3, "202, 202, 204");
    // Again: already released, no action sent.
    assert_eq!(acu.release_bill(&b.id).await.expect("no-op").status, BillStatus::Open);
    assert_eq!(h.calls().count("POST", "/Bill/ReleaseBill"), 1);
    let e = acu.set_bill_hold(&b.id, true).await.expect_err("released");
    assert!(matches!(e, AcumaticaError::NotEditable { .. }));
    h.shutdown().await;
}

#[tokio::test]
async fn bills_for_po_lines_and_debit_adjustments_in_cv5() {
    let h = start().await;
    h.system().set_switch(|s| s.serve_cv5 = true);
    let acu = client_with(&h, json!({"version": "26.200.001"}));
    let Written::Created(p) = acu.create_purchase_order_once(&po("PO-00077")).await.expect("po") else { panic!() };
    let draft = BillDraft {
        kind: BillType::Bill,
        vendor: "V10004".into(),
        vendor_ref: "SINV-77".into(),
        date: None,
        due_date: None,
        description: None,
        hold: false,
        branch: None,
        terms: None,
        currency: None,
        lines: vec![BillLineDraft {
            po: Some(PoLink { order_type: PoType::Normal, order_nbr: p.order_nbr.clone(), line: Some(1) }),
            ..Default::default()
        }],
    };
    let Written::Created(b) = acu.create_bill_once(&draft).await.expect("bill") else { panic!() };
    assert_eq!((b.lines.len(), b.lines[0].qty, b.lines[0].unit_cost), (1, d("200"), d("0.85")), "from the PO line");
    assert_eq!(b.lines[0].po.as_ref().map(|x| x.1.clone()), Some(p.order_nbr.clone()));
    let cn = BillDraft {
        kind: BillType::DebitAdj,
        vendor_ref: "SCN-77".into(),
        lines: vec![BillLineDraft { amount: Some(d("17")), account: Some("60000".into()), ..Default::default() }],
        ..draft
    };
    let Written::Created(c) = acu.create_bill_once(&cn).await.expect("debit adjustment") else { panic!() };
    assert_eq!((c.kind, c.amount), (BillType::DebitAdj, d("17")));
    h.shutdown().await;
}
