//! Writes look before they write and settle a lost answer by reading back: the origin_id
//! write-back and the webhook hook registration.

use mlc_core::engine::flow::ErrorClass;
use mlc_core::secret::Redacted;
use mlc_procore::{DEFAULT_TRIGGERS, ProcoreError, WriteBack};
use mlc_sim::common::{Fault, FaultRule};

use super::*;

fn approved_invoice(s: &ProcoreScenario) -> (i64, i64) {
    let r = s.requisitions.iter().find(|r| r.project_id == p1() && r.status == "approved").expect("approved");
    (r.project_id, r.id)
}

#[tokio::test]
async fn origin_id_write_back_is_written_once_and_locks() {
    let s = company();
    let (project, id) = approved_invoice(&s);
    let h = start(s.clone()).await;
    let c = client(&h, json!({}));
    assert_eq!(c.set_requisition_origin_id(project, id, "DV-0001").await.unwrap(), WriteBack::Written);
    assert_eq!(c.set_requisition_origin_id(project, id, "DV-0001").await.unwrap(), WriteBack::AlreadySet);
    let e = c.set_requisition_origin_id(project, id, "DV-0002").await.unwrap_err();
    assert!(matches!(&e, ProcoreError::Locked { origin, .. } if origin == "DV-0001"), "{e}");
    assert_eq!(h.calls().count("PATCH", "/rest/v1.0/requisitions/{id}"), 1, "never re-sent");
    // Procore refuses a duplicate origin id on another invoice, quoting its words.
    let other = s.requisitions.iter().find(|r| r.project_id == p1() && r.id != id).expect("another").id;
    let e = c.set_requisition_origin_id(project, other, "DV-0001").await.unwrap_err();
    assert_eq!((e.status(), e.class()), (Some(422), ErrorClass::Permanent));
    assert!(e.server_text().unwrap().contains("has already been taken"), "{e}");
    h.shutdown().await;
}

#[tokio::test]
async fn a_lost_write_answer_is_settled_by_reading_back() {
    let s = company();
    let dc = s.direct_costs.iter().find(|d| d.project_id == p1()).expect("a direct cost").id;
    let h = start(s).await;
    let c = client(&h, json!({"timeout_secs": 2}));
    h.faults().add(
        FaultRule::new("PATCH", "/rest/v1.0/projects/{project_id}/direct_costs/{id}", Fault::commit_then_reset(100))
            .times(1),
    );
    assert_eq!(c.set_direct_cost_origin_id(p1(), dc, "DV-0100").await.unwrap(), WriteBack::ConfirmedAfterDoubt);
    assert_eq!(h.calls().count("PATCH", "/rest/v1.0/projects/{project_id}/direct_costs/{id}"), 1, "not re-sent");
    // Lost *before* Procore applied it (a reset without the write): still in doubt, not re-sent.
    let other =
        h.system().lock().direct_costs.iter().find(|d| d.project_id == p1() && d.id != dc).map(|d| d.id).unwrap();
    h.faults()
        .add(FaultRule::new("PATCH", "/rest/v1.0/projects/{project_id}/direct_costs/{id}", Fault::Reset).times(1));
    let e = c.set_direct_cost_origin_id(p1(), other, "DV-0101").await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::InDoubt, "{e}");
    assert!(e.to_string().contains("read back"), "{e}");
    // The next attempt looks, finds nothing, writes once.
    assert_eq!(c.set_direct_cost_origin_id(p1(), other, "DV-0101").await.unwrap(), WriteBack::Written);
    h.shutdown().await;
}

#[tokio::test]
async fn the_webhook_hook_is_registered_once_even_when_an_answer_is_lost() {
    let h = start(company()).await;
    let c = client(&h, json!({}));
    let auth = Redacted::new(demo::WEBHOOK_AUTHORIZATION.to_string());
    h.faults().add(FaultRule::new("POST", "/rest/v1.0/webhooks/hooks", Fault::commit_then_reset(100)).times(1));
    let (setup, exchanges) = mlc_core::engine::capture::capture(c.ensure_hook(
        "http://127.0.0.1:9/webhooks/procore",
        &auth,
        DEFAULT_TRIGGERS,
    ))
    .await;
    let setup = setup.expect("hook");
    assert!(setup.created);
    // The Authorization value went in a request body, but never into the audit trail.
    let audit = serde_json::to_string(&exchanges).unwrap();
    assert!(audit.contains("destination_headers") && !audit.contains(demo::WEBHOOK_AUTHORIZATION), "{audit}");
    assert!(!audit.contains(demo::CLIENT_SECRET));
    assert_eq!(setup.triggers_added.len(), DEFAULT_TRIGGERS.len());
    assert_eq!(h.calls().count("POST", "/rest/v1.0/webhooks/hooks"), 1, "the lost create was looked up, not re-sent");
    let again = c.ensure_hook("http://127.0.0.1:9/webhooks/procore", &auth, DEFAULT_TRIGGERS).await.expect("hook");
    assert!(!again.created && again.triggers_added.is_empty() && again.hook.id == setup.hook.id);
    assert_eq!(c.list_hooks().await.unwrap().len(), 1);
    // Requisitions get a trigger only when Procore offers the resource.
    assert!(!h.system().lock().hooks[0].triggers.iter().any(|t| t.resource_name == "Requisitions"));
    h.system().set_switch(|s| s.requisition_webhooks = true);
    let more = c.ensure_hook("http://127.0.0.1:9/webhooks/procore", &auth, DEFAULT_TRIGGERS).await.expect("hook");
    assert_eq!(more.triggers_added.len(), 2);
    let st = h.system().lock().hooks[0].authorization.clone();
    assert_eq!(st.as_deref(), Some(demo::WEBHOOK_AUTHORIZATION), "Procore got the real value");
    c.delete_hook(setup.hook.id).await.expect("deleted");
    assert!(c.list_hooks().await.unwrap().is_empty());
    h.shutdown().await;
}
