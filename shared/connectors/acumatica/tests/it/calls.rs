//! API calls per operation the flows will make (printed; run with `--nocapture` to see the
//! table). Deterministic: each figure is also asserted.

use mlc_acumatica::model::{PoDraft, PoLineDraft, PoType, VendorDraft};
use mlc_sim::acumatica::AcumaticaSwitches;

use crate::{client, d, sim, writes_bill};

#[tokio::test]
async fn calls_per_operation() {
    let h = sim()
        .switches(AcumaticaSwitches { long_op_polls: 1, ..AcumaticaSwitches::unthrottled() })
        .start()
        .await
        .expect("start");
    let acu = client(&h);
    acu.probe().await.expect("probe");
    let mut rows: Vec<(&str, u64)> = Vec::new();
    let mut last = acu.stats().calls;
    let mut take = |name: &'static str, acu: &mlc_acumatica::AcumaticaClient| {
        let now = acu.stats().calls;
        rows.push((name, now - last));
        last = now;
    };
    let mut b = writes_bill("CALLS-1");
    b.hold = false;
    let w = acu.create_bill_once(&b).await.expect("bill");
    take("bill: look up + create (new)", &acu);
    acu.create_bill_once(&b).await.expect("bill");
    take("bill: look up + read (already there)", &acu);
    acu.release_bill(&w.record().id).await.expect("release");
    take("bill: release (read, action, 1 poll, read back)", &acu);
    acu.create_vendor_once(&VendorDraft {
        vendor_id: "V40001".into(),
        name: Some("Calls Co".into()),
        ..Default::default()
    })
    .await
    .expect("vendor");
    take("vendor: look up + create (new)", &acu);
    acu.update_vendor(&VendorDraft { vendor_id: "V40001".into(), phone: Some("1".into()), ..Default::default() })
        .await
        .expect("update");
    take("vendor: update", &acu);
    acu.list_vendors_changed(None).await.expect("scan");
    take("vendors: delta scan of 41 (page 100)", &acu);
    let po = PoDraft {
        kind: PoType::Normal,
        vendor_id: "V10004".into(),
        reference: Some("PO-09999".into()),
        description: None,
        date: None,
        promised_on: None,
        hold: false,
        branch: None,
        location: None,
        terms: None,
        currency: None,
        lines: vec![PoLineDraft {
            inventory_id: Some("BOX-12X12".into()),
            qty: d("10"),
            unit_cost: d("1"),
            ..Default::default()
        }],
    };
    acu.create_purchase_order_once(&po).await.expect("po");
    take("purchase order: look up + create (new)", &acu);
    println!("\n| operation | Acumatica calls |\n|---|---|");
    for (n, c) in &rows {
        println!("| {n} | {c} |");
    }
    let got: Vec<u64> = rows.iter().map(|r| r.1).collect();
    assert_eq!(got, [2, 2, 5, 2, 1, 1, 2]);
    h.shutdown().await;
}
