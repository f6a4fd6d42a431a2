//! 997: generate for inbound groups (A / E / P / R with the right codes), read inbound 997s, and
//! match them to what we sent.

mod common;

use chrono::{NaiveDate, NaiveDateTime};
use common::*;
use mlc_x12::ack997::AckMatchError;
use mlc_x12::{AckCode, AckOptions, Numbers, OutboundGroup, acknowledge, match_ack, parse, render_997};
use mlc_x12::{acknowledge_file, match_file};

fn now() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 3, 3).unwrap().and_hms_opt(8, 15, 0).unwrap()
}

/// The 997 text for the first interchange of a fixture (or of given bytes).
fn ack_text(bytes: &[u8]) -> String {
    let f = parse(bytes).unwrap();
    let ic = &f.interchanges[0];
    let acks: Vec<_> = ic.groups.iter().map(acknowledge).collect();
    let out = render_997(ic, &acks, &AckOptions::new(Numbers::single(900), now())).unwrap();
    String::from_utf8(out).unwrap()
}

fn reparse_ok(text: &str) {
    let f = parse(text.as_bytes()).unwrap();
    assert!(f.is_valid(), "{}\n{text}", error_text(&f));
    assert!(f.warnings().is_empty(), "{}\n{text}", warning_text(&f));
}

#[test]
fn accepted_group_gets_a_997_with_swapped_envelope() {
    let text = ack_text(loaded("4010_basic.edi"));
    let expected = "ISA*00*          *00*          *ZZ*MORRISONENG    *ZZ*GRANITESUP     *260303*0815*U*00401*000000900*0*P*>~\n\
GS*FA*MORRISONENG*GRANITESUP*20260303*0815*900*X*004010~\n\
ST*997*0001~\n\
AK1*IN*101~\n\
AK2*810*0001~\n\
AK5*A~\n\
AK9*A*1*1*1~\n\
SE*6*0001~\n\
GE*1*900~\n\
IEA*1*000000900~\n";
    assert_eq!(text, expected);
    reparse_ok(&text);
}

#[test]
fn element_errors_reject_with_ak3_ak4_and_codes() {
    let text = ack_text(loaded("err_bad_amounts.edi"));
    for want in [
        "AK2*810*0001~",
        "AK3*IT1*5**8~",
        "AK4*2*358*6*1,000~",
        "AK4*4*212*6*12.5O~",
        "AK3*TDS*6**8~",
        "AK4*1*610*6*25.00.1~",
        "AK5*R*5~",
        "AK9*R*1*1*0~",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    reparse_ok(&text);
}

#[test]
fn noted_errors_give_accepted_with_errors() {
    let bytes = String::from_utf8(load("4010_basic.edi")).unwrap().replace("DTM*011*20260228~", "DTM*011*20261399~");
    let text = ack_text(bytes.as_bytes());
    // AK402 carries the data element reference number (373 Date) from the dictionary.
    for want in ["AK3*DTM*28**8~", "AK4*2*373*8*20261399~", "AK5*E*5~", "AK9*E*1*1*1~"] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
}

#[test]
fn one_bad_set_of_two_is_partially_accepted() {
    let text = ack_text(loaded("err_duplicate_st02.edi"));
    assert!(text.contains("AK2*810*0001~\nAK5*A~\nAK2*810*0001~\nAK5*R*23~\nAK9*P*2*2*1~"), "{text}");
}

#[test]
fn envelope_errors_become_ak5_and_ak9_codes() {
    let text = ack_text(loaded("err_se_count.edi"));
    assert!(text.contains("AK5*R*4~"), "{text}");
    let text = ack_text(loaded("err_control_numbers.edi"));
    assert!(text.contains("AK5*R*3~"), "SE02 mismatch: {text}");
    assert!(text.contains("AK9*R*2*1*0*5*4~"), "GE01 and GE02 mismatch: {text}");
    let text = ack_text(loaded("err_missing_trailers.edi"));
    assert!(text.contains("AK2*810*0001~\nAK5*R*2~\nAK2*810*0002~\nAK5*A~"), "missing SE: {text}");
    let text = ack_text(loaded("not_handled_856.edi"));
    assert!(text.contains("AK1*SH*209~\nAK2*856*0001~\nAK5*R*1~"), "{text}");
    let text = ack_text(loaded("err_missing_big.edi"));
    assert!(text.contains("AK3*BIG*2**3~"), "mandatory segment missing: {text}");
}

#[test]
fn release_5010_groups_echo_version_and_implementation_reference() {
    let text = ack_text(loaded("5010_repetition_credit.edi"));
    assert!(text.contains("*^*00501*000000900*"), "{text}");
    assert!(text.contains("GS*FA*MORRISONENG*GRANITESUP*20260303*0815*900*X*005010~"), "{text}");
    assert!(text.contains("AK1*IN*106*005010~\nAK2*810*0001*005010~"), "{text}");
    reparse_ok(&text);
}

#[test]
fn acknowledge_file_makes_one_997_per_interchange() {
    let bytes = loaded("fat_multi.edi");
    let f = parse(bytes).unwrap();
    let mut n = 0;
    let out = acknowledge_file(
        &f,
        |_| {
            n += 1;
            Ok(Numbers::single(n))
        },
        &AckOptions::new(Numbers::single(1), now()),
    )
    .unwrap();
    assert_eq!(out.len(), 2);
    let first = String::from_utf8(out[0].clone()).unwrap();
    assert!(first.contains("ST*997*0001~") && first.contains("ST*997*0002~"), "two groups: {first}");
    assert!(first.contains("AK1*IN*0002~"), "GS06 echoed as written: {first}");
    let second = String::from_utf8(out[1].clone()).unwrap();
    assert!(second.starts_with("ISA|"), "second interchange keeps its delimiters: {second}");
    assert!(second.contains("|000000002|"));
}

// ------------------------------------------------------------------------------------------
// Reading inbound 997s and matching them.

fn outbound() -> Vec<OutboundGroup> {
    vec![
        OutboundGroup {
            partner: "morrison".into(),
            sender_id: "GRANITESUP".into(),
            receiver_id: "MORRISONENG".into(),
            interchange_control: 5001,
            group_control: 5001,
            functional_id: "IN".into(),
            version: "004010".into(),
            sets: vec!["0001".into(), "0002".into()],
        },
        OutboundGroup {
            partner: "other".into(),
            sender_id: "GRANITESUP".into(),
            receiver_id: "OTHERCO".into(),
            interchange_control: 5001,
            group_control: 5001,
            functional_id: "IN".into(),
            version: "004010".into(),
            sets: vec!["0001".into()],
        },
    ]
}

#[test]
fn inbound_997s_are_read() {
    for (name, status, sets) in [
        ("997_accepted.edi", AckCode::Accepted, 2),
        ("997_accepted_with_errors.edi", AckCode::AcceptedWithErrors, 1),
        ("997_rejected.edi", AckCode::Rejected, 1),
        ("997_partial_5010.edi", AckCode::PartiallyAccepted, 2),
        ("997_group_only.edi", AckCode::Accepted, 0),
    ] {
        let f = parse(loaded(name)).unwrap();
        assert!(f.is_valid(), "{name}: {}", error_text(&f));
        let a = f.sets()[0].set.ack().unwrap();
        assert_eq!(a.status, status, "{name}");
        assert_eq!(a.sets.len(), sets, "{name}");
        assert_eq!(a.group_control, "5001");
    }
    let f = parse(loaded("997_rejected.edi")).unwrap();
    let a = f.sets()[0].set.ack().unwrap();
    let s = &a.sets[0];
    assert_eq!(s.segments.len(), 2);
    assert_eq!(s.segments[0].elements[0].bad_data.as_deref(), Some("1,000"));
    assert_eq!(s.codes, ["5"]);
    let f = parse(loaded("997_partial_5010.edi")).unwrap();
    let a = f.sets()[0].set.ack().unwrap();
    assert_eq!(a.version.as_deref(), Some("005010"));
    assert_eq!(a.sets[1].implementation.as_deref(), Some("005010"));
}

#[test]
fn inbound_997s_match_the_group_they_acknowledge() {
    let groups = outbound();
    let f = parse(loaded("997_accepted.edi")).unwrap();
    let m = match_file(&f, &groups).remove(0).unwrap();
    assert_eq!(m.partner, "morrison", "the 997's sender picks the partner");
    assert!(m.sets.iter().all(|s| s.status == AckCode::Accepted));
    assert!(m.unacknowledged.is_empty() && m.unexpected.is_empty());

    let f = parse(loaded("997_rejected.edi")).unwrap();
    let m = match_file(&f, &groups).remove(0).unwrap();
    assert_eq!(m.status, AckCode::Rejected);
    assert_eq!(m.sets[0].status, AckCode::Rejected);
    let detail = m.sets[0].errors.join("\n");
    assert!(detail.contains("IT1 at position 6: segment has data element errors"), "{detail}");
    assert!(detail.contains("invalid character in data element"), "{detail}");
    assert!(detail.contains("TDS at position 9: mandatory segment missing"), "{detail}");
    assert_eq!(m.unacknowledged, ["0002"]);

    let f = parse(loaded("997_partial_5010.edi")).unwrap();
    let m = match_file(&f, &groups).remove(0).unwrap();
    let st: Vec<AckCode> = m.sets.iter().map(|s| s.status.clone()).collect();
    assert_eq!(st, [AckCode::Accepted, AckCode::Rejected]);

    let f = parse(loaded("997_group_only.edi")).unwrap();
    let m = match_file(&f, &groups).remove(0).unwrap();
    assert_eq!(m.sets.len(), 2, "AK9 applies to every set when AK2 is absent");
    assert!(m.sets.iter().all(|s| s.status == AckCode::Accepted));

    let ack = f.sets()[0].set.ack().unwrap().clone();
    assert!(matches!(match_ack(&ack, None, &groups), Err(AckMatchError::Ambiguous { count: 2, .. })));
    assert!(matches!(match_ack(&ack, Some("NOBODY"), &groups), Err(AckMatchError::NotFound { .. })));
}

#[test]
fn our_own_810_acknowledged_by_our_own_997_matches() {
    use mlc_core::domain::ArInvoice;
    // Render an 810, acknowledge it as the partner would, and match the 997.
    let text = String::from_utf8(load("4010_basic.edi")).unwrap();
    let f = parse(text.as_bytes()).unwrap();
    let ar: ArInvoice = f.sets()[0].to_ar_invoice(&Default::default()).unwrap();
    let profile = mlc_x12::PartnerProfile::new("morrison", ("ZZ", "GRANITESUP"), ("ZZ", "MORRISONENG"));
    let rendered = mlc_x12::render_810(&[ar], &profile, Numbers::single(77), now()).unwrap();
    let inbound = parse(&rendered.bytes).unwrap();
    let ic = &inbound.interchanges[0];
    let ack_bytes = render_997(ic, &[acknowledge(&ic.groups[0])], &AckOptions::new(Numbers::single(3), now())).unwrap();
    let ack_file = parse(&ack_bytes).unwrap();
    let m = match_file(&ack_file, std::slice::from_ref(&rendered.group)).remove(0).unwrap();
    assert_eq!(m.group_control, 77);
    assert_eq!(m.sets[0].status, AckCode::Accepted);
}
