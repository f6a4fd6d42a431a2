//! The `mlc x12 parse|validate|ack` functions.

mod common;

use chrono::NaiveDate;
use common::*;
use mlc_x12::MemoryControlNumbers;
use mlc_x12::cli::{AckCliOptions, ParseCliOptions, run_ack, run_parse, run_parse_with, run_validate};
use serde_json::Value;

#[test]
fn parse_for_people_shows_what_an_ap_clerk_checks() {
    let out = run_parse_with(
        &load("4010_basic.edi"),
        &ParseCliOptions { file_name: Some("4010_basic.edi".into()), ..ParseCliOptions::default() },
    );
    assert_eq!(out.exit_code, 0);
    for want in [
        "4010_basic.edi: 1 interchange, 1 group, 1 transaction set (1 invoice)",
        "Invoice INV-26-0042 — ACCEPTED",
        "Seller:    GRANITE SUPPLY CO (SE 92 V-10042)",
        "Buyer:     MORRISON ENGINEERING (BT 91 C-77)",
        "PO:        PO-7781",
        "Total:     USD 437.41 (matches the lines)",
        "Due: 2026-04-01",
    ] {
        assert!(out.stdout.contains(want), "missing {want:?} in\n{}", out.stdout);
    }
    assert!(!out.stdout.contains("Warnings"));
}

#[test]
fn parse_for_people_shows_warnings_and_why_ap_would_refuse() {
    let out = run_parse(&load("tds_variants.edi"), false);
    assert_eq!(out.exit_code, 0, "warnings do not make a file invalid");
    assert!(out.stdout.contains("Invoice TDS-WHOLE"));
    assert!(out.stdout.contains("matches the lines only read as whole currency units"), "{}", out.stdout);
    assert!(out.stdout.contains("Not ready for AP"), "{}", out.stdout);
    let out = run_parse(&load("5010_repetition_credit.edi"), false);
    assert!(out.stdout.contains("Credit memo CM-9001"), "{}", out.stdout);
}

#[test]
fn parse_json_is_one_document_per_invoice() {
    let out = run_parse(&load("fat_multi.edi"), true);
    assert_eq!(out.exit_code, 0);
    let docs: Vec<Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(docs.len(), 5);
    let d = &docs[0];
    assert_eq!(d["schema"], "mlc-x12.invoice.v1");
    assert_eq!(d["interchange"], "000003438");
    assert_eq!(d["status"], "accepted");
    assert_eq!(d["invoice"]["invoice_number"], "FAT-1");
    assert_eq!(d["invoice"]["totals"]["tds"], "25.00");
    assert_eq!(d["invoice"]["totals"]["matches"], true);
    assert_eq!(d["ap_invoice"]["total"], "25.00");
    assert!(d["warnings"].as_array().unwrap().is_empty());

    let out = run_parse(&load("tds_variants.edi"), true);
    let docs: Vec<Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(docs[2]["warnings"][0]["kind"], "total_in_whole_units");
    assert!(docs[2]["ap_invoice"].is_null());
    assert!(docs[2]["ap_error"].as_str().unwrap().contains("3971.97"));
}

#[test]
fn parse_json_reports_invalid_sets_and_unreadable_files() {
    let out = run_parse(&load("err_bad_amounts.edi"), true);
    assert_eq!(out.exit_code, 1);
    let d: Value = serde_json::from_str(out.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(d["status"], "rejected");
    let errs = d["errors"].as_array().unwrap();
    assert_eq!(errs[0]["location"]["segment"], "IT1");
    assert_eq!(errs[0]["location"]["element"], 2);
    assert_eq!(errs[0]["found"], "\"1,000\"");
    assert!(d["ap_invoice"].is_null());

    let out = run_parse(&load("err_missing_big.edi"), true);
    let d: Value = serde_json::from_str(out.stdout.lines().next().unwrap()).unwrap();
    assert!(d["invoice"].is_null());
    assert_eq!(d["errors"][0]["kind"], "missing_segment");

    let out = run_parse(&load("err_garbage.edi"), true);
    assert_eq!(out.exit_code, 1);
    let d: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(d["schema"], "mlc-x12.error.v1");
    assert!(out.stderr.contains("does not start with an interchange"));
}

#[test]
fn validate_exit_codes_and_messages() {
    let out = run_validate(&load("4010_basic.edi"));
    assert_eq!(out.exit_code, 0);
    assert!(out.stdout.starts_with("VALID: 1 interchange"), "{}", out.stdout);

    let out = run_validate(&load("4010_non_fixed_isa.edi"));
    assert_eq!(out.exit_code, 0);
    assert!(out.stdout.contains("warning: ISA at segment 1"), "{}", out.stdout);

    let out = run_validate(&load("err_se_count.edi"));
    assert_eq!(out.exit_code, 1);
    assert!(out.stdout.starts_with("INVALID:"), "{}", out.stdout);
    assert!(out.stdout.contains("error: SE01 at segment 10"), "{}", out.stdout);
    assert!(out.stdout.contains("expected 8, found 9"), "{}", out.stdout);

    let out = run_validate(&load("err_control_numbers.edi"));
    let lines: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 5);
    assert!(lines[0].contains("SE02"), "errors in file order: {lines:?}");
    assert!(lines[4].contains("IEA02"), "errors in file order: {lines:?}");

    for bad in ["err_garbage.edi", "err_bad_isa.edi"] {
        let out = run_validate(&load(bad));
        assert_eq!(out.exit_code, 1, "{bad}");
        assert!(out.stdout.starts_with("INVALID: cannot read the file"), "{bad}: {}", out.stdout);
    }
}

#[test]
fn ack_prints_a_997_that_reads_back() {
    let store = MemoryControlNumbers::new();
    let now = NaiveDate::from_ymd_opt(2026, 3, 3).unwrap().and_hms_opt(10, 0, 0).unwrap();
    let opts = AckCliOptions { control: Some(&store), now: Some(now), ..AckCliOptions::default() };
    let out = run_ack(&load("err_duplicate_st02.edi"), &opts);
    assert_eq!(out.exit_code, 0, "{}", out.stderr);
    assert!(out.stderr.is_empty());
    assert!(out.stdout.contains("AK9*P*2*2*1~"), "{}", out.stdout);
    let f = mlc_x12::parse(out.stdout.as_bytes()).unwrap();
    assert!(f.is_valid(), "{}", error_text(&f));
    let again = run_ack(&load("err_duplicate_st02.edi"), &opts);
    assert!(again.stdout.contains("*000000002*0*P*>~"), "next control number: {}", again.stdout);

    let out = run_ack(&load("4010_basic.edi"), &AckCliOptions::default());
    assert!(out.stderr.contains("control number 1 used"));
    let out = run_ack(&load("bare_st.edi"), &AckCliOptions::default());
    assert_eq!(out.exit_code, 1, "nothing to acknowledge without an envelope");
    let out = run_ack(&load("err_garbage.edi"), &AckCliOptions::default());
    assert_eq!(out.exit_code, 1);
}
