//! The `mlc x12 parse|validate|ack` functions: one report for all three, JSON for every command,
//! 997 and TA1 content in `parse --json`, a 997 file answered with what it is, file names in
//! every "cannot read".

mod common;

use chrono::NaiveDate;
use common::*;
use mlc_x12::cli::{
    AckCliOptions, ParseCliOptions, ValidateCliOptions, cannot_read, run_ack, run_parse, run_parse_with, run_validate,
    run_validate_with,
};
use mlc_x12::{AckScope, InboundRules, MemoryControlNumbers, Ta1Policy};
use serde_json::Value;

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

fn named(name: &str) -> Option<String> {
    Some(name.to_string())
}

#[test]
fn parse_for_people_shows_what_an_ap_clerk_checks() {
    let out = run_parse_with(
        &load("4010_basic.edi"),
        &ParseCliOptions { file_name: named("4010_basic.edi"), ..ParseCliOptions::default() },
    );
    assert_eq!(out.exit_code, 0);
    for want in [
        "4010_basic.edi: ACCEPTED — 1 interchange, 1 group, 1 transaction set (1 invoice)",
        "interchange 000000101 from ZZ:GRANITESUP to ZZ:MORRISONENG: accepted",
        "  group IN 101 (004010): 1 × 810 — 1 read; 997 A",
        "Invoice INV-26-0042 — ACCEPTED",
        "Seller:    GRANITE SUPPLY CO (SE 92 V-10042)",
        "Remit to:  GRANITE SUPPLY LOCKBOX (RI 92 V-10042-R)",
        "Buyer:     MORRISON ENGINEERING (BT 91 C-77)",
        "Vendor:    V-10042 (from N1*SE 92 V-10042)",
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
fn parse_json_is_one_document_per_invoice_then_the_report() {
    let out = run_parse(&load("fat_multi.edi"), true);
    assert_eq!(out.exit_code, 0);
    let docs = json_lines(&out.stdout);
    assert_eq!(docs.len(), 6, "five invoices and the report");
    let d = &docs[0];
    assert_eq!(d["schema"], "mlc-x12.invoice.v1");
    assert_eq!(d["interchange"], "000003438");
    assert_eq!(d["status"], "accepted");
    assert_eq!(d["invoice"]["invoice_number"], "FAT-1");
    assert_eq!(d["invoice"]["totals"]["tds"], "25.00");
    assert_eq!(d["invoice"]["totals"]["matches"], true);
    assert_eq!(d["ap_invoice"]["total"], "25.00");
    assert_eq!(d["vendor"]["key"], "V-10042");
    assert_eq!(d["vendor"]["source"], "party_id");
    // IEA02 `3438` for ISA13 `000003438`: equal numerically, read with a warning.
    let w = d["warnings"].as_array().unwrap();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0]["message"].as_str().unwrap().contains("IEA02 should be 9 digits"), "{w:?}");
    let r = &docs[5];
    assert_eq!(r["schema"], "mlc-x12.report.v1");
    assert_eq!(r["verdict"], "accepted");
    assert_eq!(r["counts"]["invoices"], 5);
    assert_eq!(r["interchanges"][0]["groups"][1]["control"], "0002");
    assert_eq!(r["interchanges"][0]["groups"][1]["ack"], "A");

    let out = run_parse(&load("tds_variants.edi"), true);
    let docs = json_lines(&out.stdout);
    assert_eq!(docs[2]["warnings"][0]["kind"], "total_in_whole_units");
    assert!(docs[2]["ap_invoice"].is_null());
    assert!(docs[2]["ap_error"].as_str().unwrap().contains("3971.97"));
}

#[test]
fn parse_json_gives_every_997_with_its_ak_segments() {
    let out = run_parse_with(
        &load("997_rejected.edi"),
        &ParseCliOptions { json: true, file_name: named("997_rejected.edi"), ..ParseCliOptions::default() },
    );
    assert_eq!(out.exit_code, 0, "{}", out.stdout);
    let docs = json_lines(&out.stdout);
    assert_eq!(docs.len(), 2, "the 997 and the report");
    let a = &docs[0];
    assert_eq!(a["schema"], "mlc-x12.ack997.v1");
    assert_eq!(a["file"], "997_rejected.edi");
    assert_eq!(a["sender"], "ZZ:MORRISONENG");
    assert_eq!(a["ak1"]["functional_id"], "IN");
    assert_eq!(a["ak1"]["group_control"], "5001");
    let set = &a["sets"][0];
    assert_eq!(set["ak2"]["set_id"], "810");
    assert_eq!(set["ak2"]["control"], "0001");
    assert_eq!(set["segments"][0]["segment_id"], "IT1");
    assert_eq!(set["segments"][0]["code"], "8");
    assert_eq!(set["segments"][0]["elements"][0]["code"], "6");
    assert_eq!(set["segments"][0]["elements"][0]["text"], "invalid character in data element");
    assert_eq!(set["segments"][0]["elements"][0]["bad_data"], "1,000");
    assert_eq!(set["segments"][1]["text"], "mandatory segment missing");
    assert_eq!(set["ak5"]["status"], "R");
    assert_eq!(set["ak5"]["codes"][0]["code"], "5");
    assert_eq!(a["ak9"]["status"], "R");
    assert_eq!((a["ak9"]["declared"].as_u64(), a["ak9"]["accepted"].as_u64()), (Some(1), Some(0)));
    let r = &docs[1];
    let g = &r["interchanges"][0]["groups"][0];
    assert_eq!(g["functional_id"], "FA");
    assert!(g["ack"].is_null());
    assert_eq!(g["not_acknowledged"], "a group of acknowledgments is not acknowledged");
}

#[test]
fn parse_json_reports_invalid_sets_and_unreadable_files() {
    let out = run_parse(&load("err_bad_amounts.edi"), true);
    assert_eq!(out.exit_code, 1);
    let d = &json_lines(&out.stdout)[0];
    assert_eq!(d["status"], "rejected");
    let errs = d["errors"].as_array().unwrap();
    assert_eq!(errs[0]["location"]["segment"], "IT1");
    assert_eq!(errs[0]["location"]["element"], 2);
    assert_eq!(errs[0]["found"], "\"1,000\"");
    assert!(d["ap_invoice"].is_null());

    let out = run_parse(&load("err_missing_big.edi"), true);
    let d = &json_lines(&out.stdout)[0];
    assert!(d["invoice"].is_null());
    assert_eq!(d["errors"][0]["kind"], "missing_segment");

    let out = run_parse_with(
        &load("err_garbage.edi"),
        &ParseCliOptions { json: true, file_name: named("err_garbage.edi"), ..ParseCliOptions::default() },
    );
    assert_eq!(out.exit_code, 1);
    let d: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(d["schema"], "mlc-x12.error.v1");
    assert_eq!(d["file"], "err_garbage.edi");
    assert!(out.stderr.starts_with("error: cannot read err_garbage.edi as X12:"), "{}", out.stderr);
    assert!(out.stderr.contains("does not start with an interchange"));
}

#[test]
fn validate_exit_codes_and_messages() {
    let out = run_validate(&load("4010_basic.edi"));
    assert_eq!(out.exit_code, 0);
    assert!(out.stdout.starts_with("input: ACCEPTED — 1 interchange"), "{}", out.stdout);
    assert!(out.stdout.contains("0 errors, 0 warnings"), "{}", out.stdout);

    let out = run_validate(&load("4010_non_fixed_isa.edi"));
    assert_eq!(out.exit_code, 0);
    assert!(out.stdout.contains("warning: ISA at segment 1"), "{}", out.stdout);

    let out = run_validate(&load("err_se_count.edi"));
    assert_eq!(out.exit_code, 1);
    assert!(out.stdout.starts_with("input: REJECTED"), "{}", out.stdout);
    assert!(out.stdout.contains("error: SE01 at segment 10"), "{}", out.stdout);
    assert!(out.stdout.contains("expected 8, found 9"), "{}", out.stdout);

    let out = run_validate(&load("err_control_numbers.edi"));
    let lines: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(lines.len(), 5);
    assert!(lines[0].contains("SE02"), "errors in file order: {lines:?}");
    assert!(lines[4].contains("IEA02"), "errors in file order: {lines:?}");

    // Noted errors (997 E) are listed but nothing is rejected: exit 0.
    let out = run_validate(&load("unknown_segments.edi"));
    assert_eq!(out.exit_code, 0, "{}", out.stdout);
    assert!(out.stdout.starts_with("input: ACCEPTED WITH ERRORS"), "{}", out.stdout);
    assert!(out.stdout.contains("error (noted): IT103"), "{}", out.stdout);

    for bad in ["err_garbage.edi", "err_bad_isa.edi"] {
        let out = run_validate_with(
            &load(bad),
            &ValidateCliOptions { file_name: named(bad), ..ValidateCliOptions::default() },
        );
        assert_eq!(out.exit_code, 1, "{bad}");
        assert!(out.stdout.starts_with(&format!("INVALID: cannot read {bad} as X12")), "{bad}: {}", out.stdout);
    }
}

#[test]
fn validate_json_is_json() {
    let out = run_validate_with(
        &load("err_se_count.edi"),
        &ValidateCliOptions { json: true, file_name: named("err_se_count.edi"), ..ValidateCliOptions::default() },
    );
    assert_eq!(out.exit_code, 1);
    let d: Value = serde_json::from_str(out.stdout.trim()).expect("one JSON document");
    assert_eq!(d["schema"], "mlc-x12.validate.v1");
    assert_eq!(d["file"], "err_se_count.edi");
    assert_eq!(d["verdict"], "rejected");
    assert_eq!(d["valid"], false);
    assert_eq!(d["exit_code"], 1);
    assert_eq!(d["errors"][0]["location"]["segment"], "SE");
    assert_eq!(d["errors"][0]["expected"], "8");
    assert_eq!(d["report"]["interchanges"][0]["groups"][0]["rejected"], 1);
    assert_eq!(d["report"]["interchanges"][0]["groups"][0]["ack"], "R");

    let out = run_validate_with(&load("err_bad_isa.edi"), &ValidateCliOptions { json: true, ..Default::default() });
    let d: Value = serde_json::from_str(out.stdout.trim()).expect("one JSON document");
    assert_eq!(d["schema"], "mlc-x12.error.v1");
    assert_eq!(d["errors"][0]["kind"], "delimiters");
}

#[test]
fn cannot_read_names_the_file() {
    let e = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
    let out = cannot_read("in/partner.edi", &e, false);
    assert_eq!(out.exit_code, 1);
    assert_eq!(out.stderr, "error: cannot read in/partner.edi: No such file or directory\n");
    let out = cannot_read("in/partner.edi", &e, true);
    let d: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(d["file"], "in/partner.edi");
}

#[test]
fn ack_prints_a_997_that_reads_back() {
    let store = MemoryControlNumbers::new();
    let now = NaiveDate::from_ymd_opt(2026, 3, 3).unwrap().and_hms_opt(10, 0, 0).unwrap();
    let opts = AckCliOptions { control: Some(&store), now: Some(now), ..AckCliOptions::default() };
    let out = run_ack(&load("err_duplicate_st02.edi"), &opts);
    assert_eq!(out.exit_code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("interchange 000000207 from ZZ:GRANITESUP to ZZ:MORRISONENG: partially accepted"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("group IN 207 (004010): 2 × 810 — 1 read, 1 rejected; 997 P"), "{}", out.stderr);
    assert!(out.stdout.contains("AK9*P*2*2*1~"), "{}", out.stdout);
    let f = mlc_x12::parse(out.stdout.as_bytes()).unwrap();
    assert!(f.is_valid(), "{}", error_text(&f));
    let again = run_ack(&load("err_duplicate_st02.edi"), &opts);
    assert!(again.stdout.contains("*000000002*0*P*>~"), "next control number: {}", again.stdout);

    let out = run_ack(&load("4010_basic.edi"), &AckCliOptions::default());
    assert!(out.stderr.contains("control number 1 used"));
    let out = run_ack(&load("bare_st.edi"), &AckCliOptions { file_name: named("bare_st.edi"), ..Default::default() });
    assert_eq!(out.exit_code, 1, "nothing to acknowledge without an envelope");
    assert!(out.stderr.contains("bare_st.edi has no interchange envelope"), "{}", out.stderr);
    let out = run_ack(&load("err_garbage.edi"), &AckCliOptions::default());
    assert_eq!(out.exit_code, 1);
}

#[test]
fn ack_on_a_997_says_what_it_is() {
    let out = run_ack(
        &load("997_accepted.edi"),
        &AckCliOptions { file_name: named("997_accepted.edi"), ..Default::default() },
    );
    assert_eq!(out.exit_code, 0);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr.contains(
            "997_accepted.edi holds only functional acknowledgments (997 for group IN 5001); an acknowledgment is not acknowledged"
        ),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("no readable ISA/GS envelope"));
}

#[test]
fn validate_parse_and_ack_agree_on_every_fixture() {
    for (name, bytes) in all_fixtures() {
        let rules = InboundRules::default();
        let v =
            run_validate_with(&bytes, &ValidateCliOptions { json: true, rules: rules.clone(), ..Default::default() });
        let p = run_parse_with(&bytes, &ParseCliOptions { json: true, rules: rules.clone(), ..Default::default() });
        assert_eq!(v.exit_code, p.exit_code, "{name}");
        let v: Value = serde_json::from_str(v.stdout.trim()).unwrap();
        if v["schema"] == "mlc-x12.error.v1" {
            continue;
        }
        let p_report = json_lines(&p.stdout).pop().unwrap();
        assert_eq!(v["report"], p_report, "{name}: validate and parse print the same report");
        // Every group the report says gets a 997 is in `ack`'s response with the same AK9 code,
        // and no other group is.
        let a = run_ack(&bytes, &AckCliOptions { rules, ..Default::default() });
        let response_bytes = a.stdout_bytes().to_vec();
        let mut promised = Vec::new();
        for ic in v["report"]["interchanges"].as_array().unwrap() {
            for g in ic["groups"].as_array().unwrap() {
                if let Some(code) = g["ack"].as_str() {
                    promised.push((
                        g["functional_id"].as_str().unwrap().to_string(),
                        g["control"].as_str().unwrap().to_string(),
                        code.to_string(),
                    ));
                }
            }
        }
        let mut sent = Vec::new();
        if !response_bytes.is_empty() {
            let response = mlc_x12::parse(&response_bytes).unwrap();
            assert!(response.is_valid(), "{name}: {}", error_text(&response));
            for s in response.sets() {
                let ack = s.set.ack().unwrap();
                sent.push((ack.functional_id.clone(), ack.group_control.clone(), ack.status.code().to_string()));
            }
        }
        assert_eq!(sent, promised, "{name}");
    }
}

#[test]
fn scope_and_ta1_policy_change_what_goes_back() {
    let bytes = load("4010_basic.edi");
    let none = InboundRules { acknowledge: AckScope::None, ..InboundRules::default() };
    let out = run_ack(&bytes, &AckCliOptions { rules: none, ..Default::default() });
    assert!(out.stdout.is_empty());
    assert!(out.stderr.contains("no 997: acknowledgments are off for this partner"), "{}", out.stderr);
    let always = InboundRules { ta1: Ta1Policy::Always, ..InboundRules::default() };
    let out = run_ack(&bytes, &AckCliOptions { rules: always, ..Default::default() });
    assert!(out.stdout.contains("TA1*000000101*260302*0930*A*000~"), "{}", out.stdout);
}
