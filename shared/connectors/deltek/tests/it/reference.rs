//! Accounts, projects and periods cached per run; pre-post checks.

use mlc_core::domain::{AccountKind, ProjectRef};
use mlc_deltek::DeltekError;

use crate::support::*;

#[tokio::test]
async fn reference_data_is_read_once_per_run_until_refreshed() {
    let env = start().await;
    let a = env.client.account("51100").await.unwrap().expect("account");
    assert_eq!(a.kind(), AccountKind::DirectExpense);
    assert_eq!(env.client.account("60100").await.unwrap().unwrap().kind(), AccountKind::IndirectExpense);
    assert!(!env.client.account("69900").await.unwrap().unwrap().active);
    env.client.accounts().await.unwrap();
    assert_eq!(env.count("GET", "*/Accounts"), 1, "cached for the run");
    env.client.refresh().await;
    env.client.accounts().await.unwrap();
    assert_eq!(env.count("GET", "*/Accounts"), 2);
    assert_eq!(env.client.gl_accounts().await.unwrap().len(), 40);

    let phase = env.client.project(&ProjectRef::parse_key("2023014.00|02").unwrap()).await.unwrap().expect("phase");
    assert!(phase.has_sub_levels);
    let task = env.client.project(&ProjectRef::parse_key("2023014.00|02|001").unwrap()).await.unwrap().expect("task");
    assert!(!task.has_sub_levels && task.active);
    assert!(env.client.project(&ProjectRef::new("9999999.00")).await.unwrap().is_none());
}

#[tokio::test]
async fn periods_say_which_dates_are_open() {
    let env = start().await;
    let p = env.client.periods().await.unwrap();
    assert_eq!(p.active, 202506);
    assert!(env.client.closed_periods().await.unwrap().contains(&202504));
    assert_eq!(env.client.is_date_open(date(2025, 3, 10)).await.unwrap(), Some(false));
    assert_eq!(env.client.is_date_open(date(2025, 6, 30)).await.unwrap(), Some(true));
    assert_eq!(env.client.is_date_open(date(2031, 1, 1)).await.unwrap(), None);
    assert_eq!(env.client.active_period().await.unwrap().map(|p| p.period), Some(202506));
}

#[tokio::test]
async fn pre_post_checks_report_every_problem_of_an_invoice() {
    let env = start().await;
    env.client.check_ap_invoice(&survey("GOOD-1", "10.00")).await.expect("a good invoice passes");
    let bad = invoice(
        "OLDVEND",
        "BAD-9",
        &[
            ("69900", "OH-0001.00|ADM", "1.00"), // inactive account
            ("51100", "2023014.00|02", "1.00"),  // phase with tasks
            ("60100", "2024003.00|01", "1.00"),  // indirect account on a regular project
            ("99999", "", "1.00"),               // unknown account
        ],
    );
    let e = env.client.check_ap_invoice(&bad).await.unwrap_err();
    let m = e.to_string();
    for want in [
        "OLDVEND",
        "inactive",
        "line 1: account 69900",
        "line 2: project 2023014.00 / 02 has phases",
        "line 3: account 60100",
        "line 4: account 99999 does not exist",
    ] {
        assert!(m.contains(want), "{want:?} missing from {m}");
    }
    assert!(matches!(e, DeltekError::Invalid { .. }));
    let unknown = invoice("NOBODY", "X-1", &[("52300", "2024003.00|01", "1.00")]);
    assert!(
        env.client.check_ap_invoice(&unknown).await.unwrap_err().to_string().contains("vendor NOBODY does not exist")
    );
}

#[tokio::test]
async fn a_bill_in_a_currency_the_database_does_not_take_is_held_by_the_pre_check_naming_the_rule() {
    let env = crate::support::start().await;
    let mut dr = crate::support::draft("CASCSURV", "EUR-1", &[("52300", "2024003.00|01", "10.00")]);
    dr.currency = "EUR".parse().unwrap();
    let eur = mlc_core::domain::ApInvoice::try_new(dr).unwrap();
    let m = env.client.check_ap_invoice(&eur).await.unwrap_err().to_string();
    assert!(
        m.contains("the bill is in EUR but this Vantagepoint database takes USD") && m.contains("`currencies`"),
        "{m}"
    );
    // Listed in `currencies`, the same bill passes.
    let env = crate::support::start_opts(serde_json::json!({ "currencies": ["USD", "EUR"] })).await;
    env.client.check_ap_invoice(&eur).await.expect("a currency the database takes passes");
    let e = mlc_deltek::DeltekSettings::from_options(
        "deltek",
        &serde_json::json!({"base_url": "http://127.0.0.1:1/x/api", "database": "DB", "currencies": ["US Dollar"]}),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("currencies") && e.contains("ISO 4217"), "{e}");
}
