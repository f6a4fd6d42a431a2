//! AP vouchers: mapping, batched files, per-voucher results, refusals, periods, approvals,
//! posting and hidden amounts.

use mlc_core::domain::{ApInvoice, DocumentKind};
use mlc_core::engine::flow::ErrorClass;
use mlc_deltek::{DeltekError, PostOutcome, VoucherStatus};
use mlc_sim::common::{Fault, FaultRule};
use mlc_sim::deltek::DeltekScenario;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn vouchers_travel_in_batched_files_with_their_fields() {
    let env = start_opts(json!({ "vouchers_per_file": 3, "tax_code": "WA" })).await;
    let mut list: Vec<ApInvoice> = (1..=6).map(|i| survey(&format!("CLS-{i}"), "100.00")).collect();
    // Due date, PO number, tax and two lines on the seventh.
    let mut dr = draft(
        "PACTEST",
        "PTL-77",
        &[("51300", "2024011.00|03|001", "200.00"), ("51300", "2024011.00|03|002", "50.005")],
    );
    dr.lines[0].tax_amount = d("20.00");
    dr.po_number = Some("PO-4410".into());
    dr.due_date = Some(date(2025, 7, 10));
    dr.total = d("270.005");
    list.push(ApInvoice::try_new(dr).unwrap());

    let results = env.client.create_ap_invoices(&list).await;
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    assert_eq!(env.count("POST", "*/DataEntry/apControl"), 3, "7 vouchers in files of 3");
    let created: Vec<_> = results.into_iter().map(Result::unwrap).collect();
    assert!(
        created.iter().all(|c| c.status == VoucherStatus::Draft && c.voucher.voucher.is_some() && !c.already_present)
    );
    assert_eq!(created[0].voucher.batch, created[2].voucher.batch);
    assert_ne!(created[0].voucher.batch, created[3].voucher.batch);
    assert_eq!(created[6].total, d("270.01"), "lines rounded to cents");

    let st = env.sim.system().lock();
    let f = st.ap_files.iter().find(|f| f.control.batch == created[6].voucher.batch).expect("file");
    let m = &f.masters[0];
    assert_eq!((m.vendor.as_str(), m.invoice.as_str(), m.pay_terms.as_str()), ("PACTEST", "PTL-77", "Date"));
    assert_eq!(m.pay_date.map(|x| x.date()), Some(date(2025, 7, 10)));
    assert_eq!(m.master_pkey, env.client.master_pkey_for("PACTEST", "PTL-77"));
    let lines: Vec<_> = f.details.iter().filter(|x| x.master_pkey == m.master_pkey).collect();
    assert_eq!((lines[0].amount, lines[0].net_amount), (d("220.00"), d("200.00")));
    assert_eq!(lines[1].amount, d("50.01"));
    assert!(lines.iter().all(|l| l.po_number == "PO-4410"));
    assert_eq!(f.taxes.len(), 1);
    assert_eq!((f.taxes[0].tax_code.as_str(), f.taxes[0].tax_amount), ("WA", d("20.00")));
    assert_eq!(f.control.total, d("270.01"));
    assert_eq!(f.control.default_liab, "AP");
    assert_eq!(f.control.period, 202506);
}

#[tokio::test]
async fn concurrent_callers_share_a_file_and_each_awaits_its_own_voucher() {
    let env = start_opts(json!({ "vouchers_per_file": 4, "batch_linger_ms": 5000 })).await;
    let mut tasks = Vec::new();
    for i in 0..4 {
        let c = env.client.clone();
        tasks.push(tokio::spawn(async move { c.create_ap_invoice(&survey(&format!("CONC-{i}"), "10.00")).await }));
    }
    let mut batches = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        let r = t.await.unwrap().expect("created");
        assert_eq!(r.voucher.invoice, format!("CONC-{i}"), "each caller gets its own voucher");
        batches.push(r.voucher.batch);
    }
    assert!(batches.windows(2).all(|w| w[0] == w[1]), "a full file is sent at once: {batches:?}");
    assert_eq!(env.count("POST", "*/DataEntry/apControl"), 1);
}

#[tokio::test]
async fn a_part_full_file_goes_after_the_linger_and_flush_sends_at_once() {
    let env = start_opts(json!({ "vouchers_per_file": 50, "batch_linger_ms": 40 })).await;
    let (i1, i2) = (survey("LING-1", "1.00"), survey("LING-2", "2.00"));
    let (a, b) = tokio::join!(env.client.create_ap_invoice(&i1), env.client.create_ap_invoice(&i2));
    assert_eq!(a.unwrap().voucher.batch, b.unwrap().voucher.batch);
    assert_eq!(env.count("POST", "*/DataEntry/apControl"), 1);

    let slow = env.client(json!({ "batch_linger_ms": 60000 }));
    let c2 = slow.clone();
    let t = tokio::spawn(async move { c2.create_ap_invoice(&survey("LING-3", "3.00")).await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    slow.flush_ap().await;
    assert!(t.await.unwrap().is_ok());
}

#[tokio::test]
async fn a_voucher_whose_caller_gave_up_before_its_file_went_out_is_never_sent() {
    // A worker cancelled (or crashed) while its voucher waits in a part-full file: the engine will
    // resolve that item by lookup, so the voucher must not land later as a second one.
    let env = start_opts(json!({ "vouchers_per_file": 50, "batch_linger_ms": 300 })).await;
    let c = env.client.clone();
    let abandoned = tokio::spawn(async move { c.create_ap_invoice(&survey("GONE-1", "5.00")).await });
    let c = env.client.clone();
    let kept = tokio::spawn(async move { c.create_ap_invoice(&survey("KEPT-1", "6.00")).await });
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    abandoned.abort();
    let kept = kept.await.expect("task").expect("the caller still waiting gets its voucher");
    assert_eq!(kept.voucher.invoice, "KEPT-1");
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let st = env.sim.system().lock();
    let invoices: Vec<&str> = st.ap_files.iter().flat_map(|f| f.masters.iter().map(|m| m.invoice.as_str())).collect();
    assert!(invoices.contains(&"KEPT-1"), "{invoices:?}");
    assert!(!invoices.contains(&"GONE-1"), "the abandoned voucher was sent: {invoices:?}");
}

#[tokio::test]
async fn a_refused_file_names_the_voucher_and_saves_the_others() {
    let env = start().await;
    let list = vec![
        survey("OK-1", "10.00"),
        invoice("CASCSURV", "BAD-1", &[("69900", "OH-0001.00|ADM", "5.00")]),
        survey("OK-2", "20.00"),
        survey("OK-3", "30.00"),
    ];
    let r = env.client.create_ap_invoices(&list).await;
    assert!(r[0].is_ok() && r[2].is_ok() && r[3].is_ok(), "{r:?}");
    let e = r[1].clone().unwrap_err();
    assert_eq!(e.class(), ErrorClass::Permanent);
    let m = e.to_string();
    assert!(m.contains("Account 69900 is inactive.") && m.contains("BAD-1") && m.contains("CASCSURV"), "{m}");
    assert!(m.contains("Fix: reactivate the GL account"), "{m}");
    assert_eq!(env.count("POST", "*/DataEntry/apControl"), 2, "refused once, then the three good ones");
    let saved: usize = files(&env).iter().filter(|(b, _)| b.starts_with("MLC")).map(|(_, m)| m.len()).sum();
    assert_eq!(saved, 3);
}

#[tokio::test]
async fn a_refusal_that_names_no_voucher_splits_the_file() {
    let env = start().await;
    env.sim.faults().add(
        FaultRule::new(
            "POST",
            "*/DataEntry/apControl",
            Fault::Status {
                status: 400,
                retry_after_secs: None,
                retry_after_http_date: false,
                body: Some(r#"{"Message":"The request is invalid."}"#.into()),
                content_type: None,
            },
        )
        .times(1),
    );
    let r = env.client.create_ap_invoices(&[survey("S-1", "1.00"), survey("S-2", "2.00"), survey("S-3", "3.00")]).await;
    assert!(r.iter().all(|x| x.is_ok()), "{r:?}");
    assert_eq!(env.count("POST", "*/DataEntry/apControl"), 3, "refused, then two halves");
}

#[tokio::test]
async fn a_closed_period_is_a_clear_error() {
    // period_mode = invoice_date: an invoice dated in a closed period is refused before sending.
    let env = start_opts(json!({ "period_mode": "invoice_date" })).await;
    let mut dr = draft("CASCSURV", "OLD-1", &[("52300", "2024003.00|01", "10.00")]);
    dr.invoice_date = date(2025, 3, 14);
    let e = env.client.create_ap_invoice(&ApInvoice::try_new(dr).unwrap()).await.unwrap_err();
    assert!(matches!(e, DeltekError::PeriodClosed { period: 202503, .. }), "{e}");
    let m = e.to_string();
    assert!(m.contains("OLD-1") && m.contains("period 202503 is closed") && m.contains("open period 202503"), "{m}");
    assert_eq!(env.count("POST", "*/DataEntry/apControl"), 0);

    // The active period closes after the client read the periods: Vantagepoint refuses the file.
    let env = start().await;
    env.client.periods().await.unwrap();
    env.action("set_period_closed", json!({ "period": 202506 })).await;
    let r = env.client.create_ap_invoices(&[survey("CL-1", "1.00"), survey("CL-2", "2.00")]).await;
    for x in &r {
        let e = x.clone().unwrap_err();
        assert!(e.is_period_closed() && e.to_string().contains("202506"), "{e}");
        assert_eq!(e.class(), ErrorClass::Permanent);
    }
    assert_eq!(env.count("POST", "*/DataEntry/apControl"), 1, "a file-level refusal is not split");
}

#[tokio::test]
async fn a_credit_memo_is_a_negative_voucher() {
    let env = start().await;
    let mut dr = draft("GRANGEO", "CM-2291", &[("52200", "2024017.00|02", "850.00")]);
    dr.kind = DocumentKind::CreditMemo;
    let c = env.client.create_ap_invoice(&ApInvoice::try_new(dr).unwrap()).await.unwrap();
    assert_eq!(c.total, d("-850.00"));
    let st = env.sim.system().lock();
    let f = st.ap_files.iter().find(|f| f.control.batch == c.voucher.batch).unwrap();
    assert_eq!(
        (f.details[0].amount, f.details[0].net_amount, f.control.total),
        (d("-850.00"), d("-850.00"), d("-850.00"))
    );
}

#[tokio::test]
async fn approvals_make_vouchers_land_pending_which_is_not_an_error() {
    let env = start().await;
    env.sim.system().set_switch(|s| s.approvals = mlc_sim::deltek::Approvals::AutoSubmit);
    let c = env.client.create_ap_invoice(&survey("APPR-1", "75.00")).await.unwrap();
    assert_eq!(c.status, VoucherStatus::Submitted);
    assert!(c.target_ref().status.unwrap().contains("pending approval"));

    // Approvals required and posting on: the file stays saved, awaiting approval.
    let env = start_opts(json!({ "post_files": true })).await;
    env.sim.system().set_switch(|s| s.approvals = mlc_sim::deltek::Approvals::Required);
    let c = env.client.create_ap_invoice(&survey("APPR-2", "75.00")).await.unwrap();
    assert_eq!(c.status, VoucherStatus::Draft);
    assert!(matches!(c.post, Some(PostOutcome::AwaitingApproval { .. })), "{:?}", c.post);
    // Approved later: posting it now works.
    env.action("set_approval_status", json!({ "batch": c.voucher.batch, "status": "A" })).await;
    let o = env.client.post_ap_file(&c.voucher.batch, 202506, "after approval").await.unwrap();
    assert!(matches!(o, PostOutcome::Posted { period: 202506, .. }), "{o:?}");
}

#[tokio::test]
async fn the_optional_post_step_posts_each_file() {
    let env = start_opts(json!({ "post_files": true, "vouchers_per_file": 2 })).await;
    let r = env.client.create_ap_invoices(&[survey("P-1", "1.00"), survey("P-2", "2.00"), survey("P-3", "3.00")]).await;
    let created: Vec<_> = r.into_iter().map(Result::unwrap).collect();
    assert!(
        created.iter().all(|c| matches!(c.status, VoucherStatus::Posted { period: Some(202506), post_seq: Some(_) }))
    );
    assert_eq!(env.count("PUT", "*/PostTransFile"), 2);
    let st = env.sim.system().lock();
    assert_eq!(st.ledger.iter().filter(|r| r.trans_type == "AP" && r.batch.starts_with("MLC")).count(), 3);
}

#[tokio::test]
async fn a_post_refusal_carries_vantagepoints_msg() {
    let env = start().await;
    let o = env.client.post_ap_file("NOSUCHFILE", 202506, "x").await.unwrap();
    assert!(
        matches!(&o, PostOutcome::Refused { message } if message.contains("File NOSUCHFILE does not exist")),
        "{o:?}"
    );
}

#[tokio::test]
async fn a_role_that_hides_amounts_is_a_clear_error_before_anything_is_posted() {
    let env = start().await;
    let viewer = env.client_as("VIEWER", json!({}));
    let e = viewer.create_ap_invoice(&survey("HID-1", "10.00")).await.unwrap_err();
    assert!(matches!(e, DeltekError::HiddenAmounts { .. }), "{e}");
    let m = e.to_string();
    assert!(m.contains("VIEWER") && m.contains("field-level visibility") && m.contains("HID-1"), "{m}");
    assert_eq!(env.count("POST", "*/DataEntry/apControl"), 0);

    // No posted history to judge by: the saved file's echo gives it away.
    let env = start_with(builder().scenario(empty_books()), json!({})).await;
    let viewer = env.client_as("VIEWER", json!({}));
    let e = viewer.create_ap_invoice(&invoice("ACME", "HID-2", &[("60100", "", "10.00")])).await.unwrap_err();
    assert!(e.to_string().contains("reads back with amounts 0"), "{e}");
    // It was saved, so a replay finds it instead of posting it twice.
    let found = env.client.find_ap_invoice("ACME", "HID-2").await.unwrap().expect("saved");
    assert!(found.ours);
    let e = viewer.create_ap_invoice(&invoice("ACME", "HID-3", &[("60100", "", "10.00")])).await.unwrap_err();
    assert!(matches!(e, DeltekError::HiddenAmounts { .. }));
    assert_eq!(env.count("POST", "*/DataEntry/apControl"), 1, "the second is refused before sending");
}

#[tokio::test]
async fn reading_back_a_voucher_checks_amounts() {
    let env = start().await;
    let c = env.client.create_ap_invoice(&survey("RB-1", "42.00")).await.unwrap();
    let lines = env.client.read_voucher_lines(&c.voucher).await.unwrap();
    assert_eq!(lines[0].amount, d("42.00"));
    let viewer = env.client_as("VIEWER", json!({}));
    assert!(matches!(viewer.read_voucher_lines(&c.voucher).await, Err(DeltekError::HiddenAmounts { .. })));
}

#[tokio::test]
async fn a_one_voucher_file_sent_twice_is_recognised_as_already_there() {
    let env = start_opts(json!({ "vouchers_per_file": 1 })).await;
    let first = env.client.create_ap_invoice(&survey("TWICE-1", "5.00")).await.unwrap();
    // A client that does not look first (or looked before the first answer): the deterministic
    // file name makes Vantagepoint refuse the duplicate, which reads as "already present".
    let other = env.client(json!({ "vouchers_per_file": 1 }));
    let again = other.create_ap_invoice(&survey("TWICE-1", "5.00")).await.unwrap();
    assert!(again.already_present);
    assert_eq!(again.voucher.batch, first.voucher.batch);
    assert_eq!(files(&env).iter().filter(|(b, _)| *b == first.voucher.batch).count(), 1);
}

/// Books with one vendor, one overhead account, an open period and no posted history.
fn empty_books() -> DeltekScenario {
    use mlc_sim::deltek::model::{Account, Firm};
    DeltekScenario::new()
        .firm(Firm::vendor("ACME", "Acme Supply"))
        .account(Account::new("60100", "Rent", 9))
        .months((2025, 1), (2025, 12), (2025, 5))
        .active_period(202506)
}
