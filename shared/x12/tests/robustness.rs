//! No input panics: random bytes, random bytes after a valid ISA, random segments in a valid
//! envelope, and mutated fixtures, through every public entry point (parse, mapping, 997, CLI).
//! The cargo-fuzz targets in `fuzz/` do the same for longer; this is the cheap always-on version.

mod common;

use chrono::NaiveDate;
use mlc_x12::cli::{AckCliOptions, ValidateCliOptions, run_ack, run_parse, run_validate, run_validate_with};
use mlc_x12::envelope::MAX_FILE_ERRORS;
use mlc_x12::error::MAX_KEPT;
use mlc_x12::{AckOptions, ErrorKind, InboundRules, MapOptions, Numbers, Ta1Policy, acknowledge, parse, render_997};
use proptest::prelude::*;

const ISA: &str =
    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260301*1200*U*00401*000000001*0*P*>~\n";

/// Everything a caller might do with an input.
fn exercise(bytes: &[u8]) {
    if let Ok(f) = parse(bytes) {
        for s in f.sets() {
            let _ = s.to_ap_invoice(&MapOptions::default());
            let _ = s.to_ar_invoice(&MapOptions::default());
            let _ = s.content_hash();
        }
        let now = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
        for ic in &f.interchanges {
            let acks: Vec<_> = ic.groups.iter().map(acknowledge).collect();
            if let Ok(out) = render_997(ic, &acks, &AckOptions::new(Numbers::single(1), now)) {
                let _ = parse(&out);
            }
        }
        for e in f.errors() {
            let _ = e.to_string();
        }
        for w in f.warnings() {
            let _ = w.to_string();
        }
        let _ = serde_json::to_string(&f);
    }
    let _ = run_parse(bytes, true);
    let _ = run_parse(bytes, false);
    let _ = run_validate(bytes);
    let _ = run_validate_with(bytes, &ValidateCliOptions { json: true, ..Default::default() });
    let always = InboundRules { ta1: Ta1Policy::Always, ..InboundRules::default() };
    let _ = run_ack(bytes, &AckCliOptions { rules: always, ..AckCliOptions::default() });
    // The streaming reader reports exactly what parse reports, whatever the input.
    assert_eq!(common::streamed(bytes), common::parsed(bytes));
}

fn segment_id() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "ISA", "GS", "ST", "SE", "GE", "IEA", "BIG", "CUR", "REF", "PER", "N1", "N2", "N3", "N4", "ITD", "DTM", "IT1",
        "PID", "TXI", "SAC", "TDS", "CTT", "NTE", "AK1", "AK2", "AK3", "AK4", "AK5", "AK9", "ZZ", "x1", "",
    ])
    .prop_map(String::from)
}

fn element() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{0,12}",
        "-?[0-9]{1,6}\\.[0-9]{0,4}",
        "[A-Z]{1,3}",
        "[ -~]{0,10}",
        Just("810".to_string()),
        Just("997".to_string()),
        Just("20260230".to_string()),
        Just("99999999999999999999999999999".to_string()),
    ]
}

fn segments() -> impl Strategy<Value = Vec<(String, Vec<String>)>> {
    prop::collection::vec((segment_id(), prop::collection::vec(element(), 0..12)), 0..80)
}

fn join(segs: &[(String, Vec<String>)]) -> String {
    let mut s = String::new();
    for (id, els) in segs {
        s.push_str(id);
        for e in els {
            s.push('*');
            s.push_str(e);
        }
        s.push_str("~\n");
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        exercise(&bytes);
    }

    #[test]
    fn random_bytes_after_a_valid_isa(tail in prop::collection::vec(any::<u8>(), 0..2048)) {
        let mut bytes = ISA.as_bytes().to_vec();
        bytes.extend(tail);
        exercise(&bytes);
    }

    #[test]
    fn random_segments_in_an_envelope(body in segments(), bare in any::<bool>()) {
        let text = if bare {
            format!("ST*810*0001~\n{}", join(&body))
        } else {
            format!("{ISA}GS*IN*S*R*20260301*1200*1*X*004010~\nST*810*0001~\n{}SE*5*0001~\nGE*1*1~\nIEA*1*000000001~\n", join(&body))
        };
        exercise(text.as_bytes());
    }

    #[test]
    fn mutated_fixtures(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..5, 0usize..64), 1..12),
    ) {
        let fixtures = common::all_fixtures();
        let (_, mut bytes) = fixtures[pick.index(fixtures.len())].clone();
        for (at, byte, op, len) in edits {
            if bytes.is_empty() {
                bytes.push(byte);
                continue;
            }
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                2 => { bytes.remove(i); }
                3 => {
                    let end = (i + len).min(bytes.len());
                    let chunk = bytes[i..end].to_vec();
                    bytes.splice(i..i, chunk);
                }
                _ => bytes.truncate(i),
            }
        }
        exercise(&bytes);
    }
}

#[test]
fn every_fixture_through_every_entry_point() {
    for (_, bytes) in common::all_fixtures() {
        exercise(&bytes);
    }
}

#[test]
fn hostile_repetition_is_capped() {
    // 200 000 unknown segments in one set: warnings and kept segments stay capped.
    let mut text = format!("{ISA}GS*IN*S*R*20260301*1200*1*X*004010~\nST*810*0001~\nBIG*20260301*X~\n");
    for _ in 0..200_000 {
        text.push_str("ZZ~");
    }
    text.push_str("TDS*0~SE*3*0001~GE*1*1~IEA*1*000000001~");
    let f = parse(text.as_bytes()).unwrap();
    let set = &f.sets()[0].set;
    assert_eq!(set.findings.warnings.len(), MAX_KEPT);
    assert!(set.findings.dropped_warnings > 190_000);
    let inv = set.invoice().unwrap();
    assert_eq!(inv.other_segments.len(), mlc_x12::invoice810::MAX_REPEAT);

    // Endless errors: parsing stops after MAX_FILE_ERRORS.
    let mut text = format!("{ISA}GS*IN*S*R*20260301*1200*1*X*004010~\n");
    for _ in 0..50_000 {
        text.push_str("SE*1*1~");
    }
    let f = parse(text.as_bytes()).unwrap();
    assert!(f.findings.errors.iter().any(|e| e.kind == ErrorKind::LimitExceeded), "{:?}", f.findings);
    let kept: usize = f.errors().len();
    assert!(kept <= 3 * MAX_KEPT, "kept {kept}");
    const { assert!(MAX_FILE_ERRORS < 50_000) };
}

#[test]
fn deep_numbers_and_huge_products_do_not_overflow() {
    let text = format!(
        "{ISA}GS*IN*S*R*20260301*1200*1*X*004010~ST*810*0001~BIG*20260301*X~\
         IT1*1*9999999999999999999999999999*EA*9999999999999999999999999999~\
         IT1*2*9999999999999999999*EA*9999999999~IT1*3*9999999999999999999*EA*9999999999~\
         TXI*TX*9999999999999999999999999999~TXI*TX*9999999999999999999999999999~\
         SAC*C*X***9999999999999999999999999999~\
         TDS*9999999999999999999999999999~CTT*3*9999999999999999999999999999~SE*12*0001~GE*1*1~IEA*1*000000001~"
    );
    exercise(text.as_bytes());
    let f = parse(text.as_bytes()).unwrap();
    assert!(f.errors().iter().any(|e| e.kind == ErrorKind::InvalidNumber), "{}", common::error_text(&f));
}

/// Inputs the fuzz targets found, kept so they stay fixed.
#[test]
fn fuzz_findings_stay_fixed() {
    let found: &[&[u8]] = &[
        // A file that begins with a bare set, then an ISA whose group ends (GE) before another
        // ST: parse kept that set as envelope-less, the stream put it in the interchange.
        b"ST*\nISA****************:~GS~ST~GE~ST",
        // The same with the interchange closed (IEA) while its group was open.
        b"ST*~ISA****************>~GS~ST~IEA~ST",
    ];
    for bytes in found {
        exercise(bytes);
    }
}
