//! Reads: paging across Link pages (records moving between pages), both requisition versions,
//! direct costs, commitments and change orders, filters the API ignores, vendors and mapping keys.

use std::collections::BTreeSet;
use std::time::Duration;

use mlc_procore::{
    CommitmentKind, CommitmentQuery, CommitmentStatus, DirectCostStatus, RequisitionQuery, RequisitionStatus,
};
use mlc_sim::common::{Fault, FaultRule};
use mlc_sim::procore::switches::MoneyStyle;
use rust_decimal::Decimal;

use super::*;

#[tokio::test]
async fn paging_follows_links_and_reads_again_when_records_move_between_pages() {
    let h = start(company()).await;
    let c = client(&h, json!({"page_size": 3}));
    let all = c.list_vendors(None).await.expect("vendors");
    let active = company().vendors.iter().filter(|v| v.is_active).count();
    assert_eq!(all.len(), active);
    assert_eq!(h.calls().count("GET", "/rest/v1.0/vendors"), active.div_ceil(3), "one call per page, no guessing");
    // While page 3 is on its way, someone deactivates a vendor from page 1: every later vendor
    // moves up one place, so a plain page walk would skip one.
    h.calls().clear();
    h.faults().add(FaultRule::new("GET", "/rest/v1.0/vendors", Fault::Latency { ms: 300 }).skip(2).times(1));
    let first = all[0].id;
    let sys = h.system().clone();
    let edit = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        use mlc_sim::common::SimSystem;
        sys.action("delete".into(), json!({"resource": "vendor", "id": first})).await.expect("delete");
    });
    let read = c.list_vendors(None).await.expect("vendors");
    edit.await.unwrap();
    let ids: BTreeSet<i64> = read.iter().map(|v| v.id).collect();
    assert_eq!(ids.len(), read.len(), "no duplicates");
    let now_active: Vec<i64> = h.system().lock().vendors.iter().filter(|v| v.is_active).map(|v| v.id).collect();
    for id in &now_active {
        assert!(ids.contains(id), "vendor {id} was skipped");
    }
    assert!(!ids.contains(&first), "the clean second pass is the answer: the deactivated vendor is gone");
    assert!(h.calls().count("GET", "/rest/v1.0/vendors") > active.div_ceil(3), "a second pass was read");
    // A vendor added while reading is seen too (at the end, or by the second pass).
    h.calls().clear();
    h.faults().add(FaultRule::new("GET", "/rest/v1.0/vendors", Fault::Latency { ms: 300 }).skip(1).times(1));
    let sys = h.system().clone();
    let edit = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        use mlc_sim::common::SimSystem;
        let rec = json!({"company_id": demo::COMPANY_ID, "name": "Late Arrival LLC", "is_active": true});
        sys.action("create".into(), json!({"resource": "vendor", "record": rec})).await.expect("create");
    });
    let read = c.list_vendors(None).await.expect("vendors");
    edit.await.unwrap();
    assert!(read.iter().any(|v| v.name.as_deref() == Some("Late Arrival LLC")));
    // Link variants: no prev, links without the query (the client keeps its own query).
    h.system().set_switch(|s| {
        s.link_prev = false;
        s.link_keeps_query = false;
    });
    assert_eq!(c.list_vendors(None).await.expect("vendors").len(), now_active.len() + 1);
    h.shutdown().await;
}

#[tokio::test]
async fn requisitions_v11_and_v10_read_the_same_invoice() {
    let s = company();
    let r = s
        .requisitions
        .iter()
        .filter(|r| r.project_id == p1() && r.status == "approved")
        .max_by_key(|r| r.items.len())
        .expect("an approved invoice")
        .clone();
    let h = start(s.clone()).await;
    let v11 = client(&h, json!({}));
    let a = v11.get_requisition(p1(), r.id).await.expect("read").expect("exists");
    assert_eq!(a.items.len(), r.items.len());
    assert!(a.vendor_id.is_some() && a.vendor_name.is_some());
    assert_eq!(h.calls().count("GET", "/rest/v1.0/requisitions/{id}/detail"), 0, "v1.1 carries the rows");
    let v10 = client(&h, json!({"requisitions_api": "v1.0"}));
    let b = v10.get_requisition(p1(), r.id).await.expect("read").expect("exists");
    assert_eq!((b.vendor_id, b.vendor_name.clone()), (None, a.vendor_name.clone()), "v1.0 names the vendor only");
    assert_eq!(h.calls().count("GET", "/rest/v1.0/requisitions/{id}/detail"), 1);
    let rows = |x: &mlc_procore::Requisition| {
        x.items.iter().map(|i| (i.id, i.gross(), i.retainage(), i.net())).collect::<Vec<_>>()
    };
    assert_eq!(rows(&a), rows(&b));
    assert_eq!(v10.requisition_vendor_id(&b).await.unwrap(), a.vendor_id, "the vendor comes from the commitment");
    // Money: rows, retainage and the G702 agree.
    let (gross, retainage, net) = a.totals();
    let summary = a.summary.clone().expect("summary");
    assert_eq!(net, summary.current_payment_due);
    assert_eq!(gross - retainage, net);
    assert!(!a.amounts_all_zero());
    // A listing for a status returns only that status, across versions.
    for c in [&v11, &v10] {
        let q = RequisitionQuery { status: Some(RequisitionStatus::Approved), ..Default::default() };
        let list = c.list_requisitions(p1(), &q).await.expect("list");
        let expected = s.requisitions.iter().filter(|x| x.project_id == p1() && x.status == "approved").count();
        assert_eq!(list.len(), expected);
        assert!(list.iter().all(|x| x.status == RequisitionStatus::Approved && x.project_id == Some(p1())));
    }
    assert_eq!(v11.get_requisition(p1(), 1).await.expect("read"), None, "404 is None");
    h.shutdown().await;
}

#[tokio::test]
async fn filters_the_api_ignores_are_checked_again_on_every_record() {
    let s = company();
    let h = start(s.clone()).await;
    let c = client(&h, json!({}));
    // Procore answers as if it had dropped the status filter: every invoice of the project.
    let raw = all_requisitions(&c).await;
    h.faults().add(
        FaultRule::new(
            "GET",
            "/rest/v1.1/requisitions",
            Fault::Status {
                status: 200,
                retry_after_secs: None,
                retry_after_http_date: false,
                body: Some(raw.to_string()),
                content_type: Some("application/json".into()),
            },
        )
        .times(1),
    );
    let q = RequisitionQuery { status: Some(RequisitionStatus::Approved), ..Default::default() };
    let list = c.list_requisitions(p1(), &q).await.expect("list");
    assert!(raw.as_array().unwrap().iter().any(|r| r["status"] != "approved"), "the answer held other statuses");
    assert!(!list.is_empty() && list.iter().all(|r| r.status == RequisitionStatus::Approved));
    // The updated_at window too.
    let span = (chrono::Utc::now() - chrono::Duration::days(365 * 30), "2025-01-01T00:00:00Z".parse().unwrap());
    let old = c.list_requisitions(p1(), &RequisitionQuery { updated: Some(span), ..Default::default() }).await.unwrap();
    assert!(old.is_empty(), "nothing was updated before 2025");
    h.shutdown().await;
}

/// Every requisition of project 1, whatever its status, as JSON.
async fn all_requisitions(c: &mlc_procore::ProcoreClient) -> Value {
    let all = c.list_requisitions(p1(), &RequisitionQuery::default()).await.expect("all");
    Value::Array(all.iter().map(|r| serde_json::to_value(r).expect("json")).collect())
}

#[tokio::test]
async fn direct_costs_commitments_change_orders_and_money_styles() {
    let s = company();
    let h = start(s.clone()).await;
    let c = client(&h, json!({}));
    let dcs = c.list_direct_costs(p1(), None).await.expect("direct costs");
    assert_eq!(dcs.len(), s.direct_costs.iter().filter(|d| d.project_id == p1()).count());
    let zero =
        dcs.iter().find(|d| d.status == DirectCostStatus::Approved && d.amount.is_zero()).expect("the zero invoice");
    let full = c.get_direct_cost(p1(), zero.id).await.unwrap().expect("exists");
    assert!(!full.line_items.is_empty() && full.amounts_all_zero(), "zero amounts are detected");
    let inv = dcs.iter().find(|d| d.invoice_number.is_some() && !d.amount.is_zero()).expect("an invoice");
    let full = c.get_direct_cost(p1(), inv.id).await.unwrap().expect("exists");
    assert_eq!(full.total(), inv.amount);
    assert_eq!(full.vendor_id(), s.direct_costs.iter().find(|d| d.id == inv.id).and_then(|d| d.vendor_id));
    assert!(full.line_items.iter().all(|l| l.cost_code.as_ref().and_then(|c| c.full_code.clone()).is_some()));
    let found = c.find_direct_costs_by_invoice_number(p1(), inv.invoice_number.as_deref().unwrap()).await.unwrap();
    assert_eq!(found.iter().map(|d| d.id).collect::<Vec<_>>(), [inv.id]);
    // Commitments: Title Case statuses, Ruby money, ids beyond 32 bits, lines on the show.
    let wos = c.list_commitments(p1(), CommitmentKind::WorkOrder, &CommitmentQuery::default()).await.unwrap();
    assert!(wos.iter().all(|w| w.kind == CommitmentKind::WorkOrder && w.id > i64::from(u32::MAX)));
    let approved = c
        .list_commitments(
            p1(),
            CommitmentKind::WorkOrder,
            &CommitmentQuery { status: Some(CommitmentStatus::Approved), ..Default::default() },
        )
        .await
        .unwrap();
    assert!(!approved.is_empty() && approved.iter().all(|w| w.is_committed()));
    let w = c.get_commitment(p1(), CommitmentKind::WorkOrder, approved[0].id).await.unwrap().expect("exists");
    assert_eq!(w.lines_total(), w.grand_total);
    assert_eq!(w.revised_contract, w.grand_total + w.approved_change_orders);
    let pos = c.list_commitments(p1(), CommitmentKind::PurchaseOrder, &CommitmentQuery::default()).await.unwrap();
    assert!(!pos.is_empty());
    assert_eq!(c.find_commitment(p1(), pos[0].id).await.unwrap().map(|x| x.kind), Some(CommitmentKind::PurchaseOrder));
    let cos = c.list_change_orders(p1(), None, None).await.unwrap();
    assert_eq!(cos.len(), s.change_orders.iter().filter(|x| x.project_id == p1()).count());
    if let Some(co) = cos.first() {
        let full = c.get_change_order(p1(), co.id).await.unwrap().expect("exists");
        assert_eq!(full.line_items.iter().map(|l| l.value()).sum::<Decimal>(), full.grand_total);
    }
    // A revised commitment: the new figures are read.
    let line = json!([{"id": 1, "cost_code_id": null, "amount": "777000", "quantity": "1"}]);
    action(&h, "update", json!({"resource": "commitment", "id": w.id, "fields": {"line_items": line}})).await;
    let w2 = c.get_commitment(p1(), CommitmentKind::WorkOrder, w.id).await.unwrap().expect("exists");
    assert_eq!(w2.grand_total, Decimal::from(777_000));
    // Every money style decodes to the same amounts.
    let baseline: Vec<Decimal> = dcs.iter().map(|d| d.amount).collect();
    for style in [MoneyStyle::Numbers, MoneyStyle::Ruby, MoneyStyle::TwoDp] {
        h.system().set_switch(|s| s.money_style = style);
        let again: Vec<Decimal> = c.list_direct_costs(p1(), None).await.unwrap().iter().map(|d| d.amount).collect();
        assert_eq!(again, baseline, "{style:?}");
    }
    h.shutdown().await;
}

#[tokio::test]
async fn vendors_tax_ids_cost_codes_and_cost_types() {
    let h = start(company()).await;
    let c = client(&h, json!({}));
    let all = c.list_vendors(None).await.unwrap();
    let by = |n: &str| all.iter().find(|v| v.name.as_deref() == Some(n)).cloned().expect(n);
    assert_eq!(by("Apex Concrete Contractors, Inc.").tax_id(), Some("84-1234501"));
    assert_eq!(by("Keystone Surveying Services").tax_id(), Some("84-1234520"), "business_id only");
    assert_eq!(by("Metro Safety Supply").tax_id(), None);
    let d = by("Apex Concrete Contractors, Inc.").to_vendor();
    assert_eq!(
        (d.code.clone(), d.tax_id.as_deref()),
        (by("Apex Concrete Contractors, Inc.").id.to_string(), Some("84-1234501"))
    );
    d.validate().expect("a valid domain vendor");
    let found = c.search_vendors("84-1234522").await.unwrap();
    assert_eq!(found.iter().filter_map(|v| v.name.clone()).collect::<Vec<_>>(), [scenario::NEW_SUBCONTRACTOR]);
    let inactive = company().vendors.iter().find(|v| !v.is_active).map(|v| v.id).unwrap();
    assert!(!c.get_vendor(inactive).await.unwrap().expect("shown by id").is_active);
    let codes = c.list_cost_codes(p1()).await.unwrap();
    assert!(codes.iter().any(|c| c.full_code.as_deref() == Some(scenario::UNMAPPED_COST_CODE)));
    assert!(codes.iter().any(|c| c.parent.is_none()) && codes.iter().any(|c| c.parent.is_some()));
    let types = c.list_cost_types().await.unwrap();
    assert!(types.iter().any(|t| t.base_type.is_none()) && types.iter().any(|t| t.code.as_deref() == Some("S")));
    let projects = c.projects_to_read().await.unwrap();
    assert_eq!(projects, [scenario::project_id(0), scenario::project_id(1)], "active ones only");
    let pinned = client(&h, json!({"projects": [scenario::project_id(1)]}));
    assert_eq!(pinned.projects_to_read().await.unwrap(), [scenario::project_id(1)]);
    h.shutdown().await;
}
