//! Journal entries: balanced, found again, never created twice, refusals named.

use mlc_core::domain::{JournalEntry, JournalEntryDraft, JournalLine, ProjectRef, SourceRef};
use mlc_core::engine::flow::ErrorClass;
use mlc_core::money::Currency;
use mlc_deltek::{DeltekError, VoucherStatus};
use rust_decimal::Decimal;
use serde_json::json;

use crate::support::*;

fn je(reference: &str, lines: &[(&str, &str, &str, &str)]) -> JournalEntry {
    let lines = lines
        .iter()
        .enumerate()
        .map(|(i, (account, project, debit, credit))| JournalLine {
            line_no: i as u32 + 1,
            account: account.to_string(),
            project: ProjectRef::parse_key(project),
            description: format!("commitment line {}", i + 1),
            debit: if debit.is_empty() { Decimal::ZERO } else { d(debit) },
            credit: if credit.is_empty() { Decimal::ZERO } else { d(credit) },
        })
        .collect();
    JournalEntry::try_new(JournalEntryDraft {
        source: SourceRef {
            system: "procore".into(),
            entity: "commitment".into(),
            id: reference.into(),
            version: "1".into(),
        },
        reference: reference.into(),
        date: date(2025, 6, 12),
        currency: Currency::USD,
        description: format!("Subcontract {reference}"),
        lines,
    })
    .expect("balanced")
}

#[tokio::test]
async fn a_balanced_entry_is_created_found_and_never_created_twice() {
    let env = start().await;
    let e = je("SC-1001", &[("56100", "2024017.00|02", "1500.00", ""), ("55300", "2024017.00|02", "", "1500.00")]);
    assert!(env.client.find_journal_entry("SC-1001").await.unwrap().is_none());
    let r = env.client.create_journal_entry(&e).await.unwrap();
    assert_eq!(r.status, VoucherStatus::Draft);
    assert!(!r.already_present);
    {
        let st = env.sim.system().lock();
        let f = st.je_files.iter().find(|f| f.control.batch == r.batch).expect("JE file");
        assert_eq!((f.control.total, f.control.credits_total), (d("1500.00"), d("1500.00")));
        assert_eq!(f.masters[0].ref_no, "SC-1001");
        assert_eq!(f.details.len(), 2);
    }
    let found = env.client.find_journal_entry("SC-1001").await.unwrap().expect("found");
    assert_eq!(found.batch, r.batch);
    // Created again without looking: Vantagepoint refuses the duplicate file; read as present.
    let again = env.client.create_journal_entry(&e).await.unwrap();
    assert!(again.already_present);
    assert_eq!(env.sim.system().lock().je_files.iter().filter(|f| f.control.batch == r.batch).count(), 1);
}

#[tokio::test]
async fn an_entry_that_only_balances_before_rounding_is_refused_before_sending() {
    let env = start().await;
    let e = je(
        "SC-ROUND",
        &[
            ("56100", "2024017.00|02", "10.005", ""),
            ("56100", "2024017.00|02", "10.005", ""),
            ("55300", "2024017.00|02", "", "20.01"),
        ],
    );
    let err = env.client.create_journal_entry(&e).await.unwrap_err();
    assert!(
        matches!(err, DeltekError::Invalid { .. }) && err.to_string().contains("does not balance after rounding"),
        "{err}"
    );
    assert_eq!(env.count("POST", "*/DataEntry/jeControl"), 0);
}

#[tokio::test]
async fn a_control_account_is_refused_with_the_servers_text() {
    let env = start().await;
    let e = je("SC-AP", &[("56100", "2024017.00|02", "5.00", ""), ("20100", "", "", "5.00")]);
    let err = env.client.create_journal_entry(&e).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    let m = err.to_string();
    assert!(m.contains("20100") && m.contains("control account") && m.contains("SC-AP"), "{m}");
}

#[tokio::test]
async fn posted_entries_are_found_through_the_ledger_and_posting_works() {
    let env = start().await;
    let f = env.client.find_journal_entry("ACR202505").await.unwrap().expect("posted accrual");
    assert!(f.posted && matches!(f.status, VoucherStatus::Posted { period: Some(202505), .. }));
    let poster = env.client(json!({ "post_files": true }));
    let r = poster
        .create_journal_entry(&je(
            "SC-POST",
            &[("56100", "2024017.00|02", "7.00", ""), ("55300", "2024017.00|02", "", "7.00")],
        ))
        .await
        .unwrap();
    assert!(r.posted, "{r:?}");
    assert!(env.client.find_journal_entry("SC-POST").await.unwrap().unwrap().posted);
}
