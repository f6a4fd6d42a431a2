//! X12 as trading partners really send it (issue 20): mixed mailbags, interchange service
//! segments, control numbers and re-sends, rules vs comments, 997s read with the same validator,
//! TA1 both ways, the vendor from the partner and the seller (never a remit-to bank by default),
//! and the streaming reader agreeing with `parse` on every file.

mod common;

use chrono::{NaiveDate, NaiveDateTime};
use common::*;
use mlc_x12::envelope::SetStatus;
use mlc_x12::resend::{self, SeenInterchange};
use mlc_x12::stream::{Event, Reader};
use mlc_x12::ta1::match_ta1;
use mlc_x12::{
    AckCode, AckOptions, AckScope, ErrorKind, InboundRules, MapOptions, Numbers, OutboundGroup, Ta1Policy,
    VendorSource, WarningKind, acknowledge, parse, render_response, respond, ta1_for,
};
use rust_decimal::dec;

fn now() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 3, 6).unwrap().and_hms_opt(7, 0, 0).unwrap()
}

fn opts() -> AckOptions {
    AckOptions::new(Numbers::single(77), now())
}

// ------------------------------------------------------------------------------------------
// Mixed groups.

#[test]
fn a_mailbag_reads_its_invoices_beside_850s_856s_and_820s() {
    let f = parse(loaded("mailbag_mixed_groups.edi")).unwrap();
    let ic = &f.interchanges[0];
    let ids: Vec<&str> = ic.groups.iter().map(|g| g.header.functional_id.as_str()).collect();
    assert_eq!(ids, ["IN", "PO", "SH", "RA", "IN"]);
    // Every invoice is read, including the two around the stray 850 in the second IN group.
    let numbers: Vec<String> = f.invoices().iter().map(|(_, i)| i.invoice_number.to_string()).collect();
    assert_eq!(numbers, ["MB-1", "MB-2", "MB-3", "MB-4"]);
    for (s, _) in f.invoices() {
        assert_eq!(s.status(), SetStatus::Accepted, "{}", s.control_path());
        s.to_ap_invoice(&MapOptions::default()).unwrap();
    }
    // 850s, the 856 and the 820 in their own groups: not handled, no error.
    for g in &ic.groups[1..4] {
        assert!(g.findings.errors.is_empty());
        assert!(g.sets.iter().all(|s| s.status() == SetStatus::NotHandled && s.findings.errors.is_empty()));
    }
    // The 850 inside the IN group is the wrong kind: rejected alone.
    let stray = &ic.groups[4].sets[1];
    assert_eq!(stray.header.id, "850");
    assert_eq!(stray.status(), SetStatus::Rejected);
    assert_eq!(stray.findings.errors[0].kind, ErrorKind::UnsupportedTransactionSet);
    assert!(
        stray.findings.errors[0].to_string().contains("transaction set 850 in functional group IN, which carries 810"),
        "{}",
        stray.findings.errors[0]
    );
    assert_eq!(f.errors().len(), 1, "{}", error_text(&f));
}

#[test]
fn a_mailbag_is_answered_per_group_and_per_scope() {
    let f = parse(loaded("mailbag_mixed_groups.edi")).unwrap();
    let ic = &f.interchanges[0];
    let acks: Vec<(String, AckCode)> =
        ic.groups.iter().map(|g| (g.header.control.clone(), acknowledge(g).status)).collect();
    assert_eq!(
        acks,
        [
            ("501".into(), AckCode::Accepted),
            ("502".into(), AckCode::Rejected),
            ("503".into(), AckCode::Rejected),
            ("504".into(), AckCode::Rejected),
            ("505".into(), AckCode::PartiallyAccepted),
        ]
    );
    // Default scope (all) with TA1 on request: ISA14 is 1 here.
    let r = respond(ic, &InboundRules::default(), &opts()).unwrap().unwrap();
    let text = String::from_utf8(r.bytes.clone()).unwrap();
    assert!(text.contains("TA1*000000501*260305*0815*A*000~"), "{text}");
    assert!(text.contains("AK1*PO*502~\nAK2*850*0001~\nAK5*R*1~\nAK2*850*0002~\nAK5*R*1~\nAK9*R*2*2*0~"), "{text}");
    assert!(text.contains("AK2*850*0002~\nAK5*R*1~\nAK2*810*0003~\nAK5*A~\nAK9*P*3*3*2~"), "{text}");
    assert_eq!(r.acknowledged_groups, ["501", "502", "503", "504", "505"]);
    let back = parse(&r.bytes).unwrap();
    assert!(back.is_valid(), "{}", error_text(&back));
    assert_eq!(back.interchanges[0].ta1.len(), 1, "the TA1 is read back from our own response");
    // Handled scope: only the two IN groups get a 997; no TA1 when the policy says never.
    let rules = InboundRules { acknowledge: AckScope::Handled, ta1: Ta1Policy::Never, ..InboundRules::default() };
    let r = respond(ic, &rules, &opts()).unwrap().unwrap();
    assert_eq!(r.acknowledged_groups, ["501", "505"]);
    assert!(r.ta1.is_none());
}

// ------------------------------------------------------------------------------------------
// Interchange service segments.

#[test]
fn isb_ise_and_isx_are_interchange_service_segments() {
    let f = parse(loaded("isb_ise_isx.edi")).unwrap();
    assert!(f.is_valid(), "{}", error_text(&f));
    let services: Vec<Vec<String>> =
        f.interchanges.iter().map(|i| i.service.iter().map(|s| s.id.clone()).collect()).collect();
    assert_eq!(services, [vec!["ISB".to_string(), "ISE".to_string()], vec!["ISX".to_string()]]);
    assert_eq!(f.interchanges[0].service[1].elements, ["260306", "0600", "UT"]);
    // ISX01 declares `?` as the release character: `STAR?*ALLIANCE` is one name.
    assert_eq!(f.interchanges[1].delimiters.release, Some(b'?'));
    let inv = f.invoices()[1].1;
    assert_eq!(inv.seller().unwrap().name.as_deref(), Some("STAR*ALLIANCE SUPPLY"));
    assert_eq!(inv.seller().unwrap().id.as_deref(), Some("V-20001"));
    // 007040 is read with the 004010 rules, with a warning.
    assert!(warning_kinds(&f).contains(&WarningKind::VersionMismatch));
}

#[test]
fn a_service_segment_after_the_first_group_or_outside_an_interchange() {
    let text = String::from_utf8(load("4010_basic.edi")).unwrap().replace("GE*1*101~", "GE*1*101~\nISB*1~");
    let f = parse(text.as_bytes()).unwrap();
    assert!(f.is_valid(), "{}", error_text(&f));
    assert!(warning_kinds(&f).contains(&WarningKind::ServiceSegment));
    let text = String::from_utf8(load("4010_basic.edi")).unwrap() + "ISB*1~";
    let f = parse(text.as_bytes()).unwrap();
    assert_eq!(error_kinds(&f), [ErrorKind::UnexpectedSegment]);
}

// ------------------------------------------------------------------------------------------
// Control numbers.

#[test]
fn gs06_twice_in_one_interchange_rejects_the_second_group() {
    let f = parse(loaded("dup_control_numbers.edi")).unwrap();
    let g = &f.interchanges[0].groups;
    assert!(g[0].findings.errors.is_empty());
    let e = &g[1].findings.errors[0];
    assert_eq!((e.kind, e.location.label()), (ErrorKind::DuplicateControlNumber, "GS06".to_string()));
    let ack = acknowledge(&g[1]);
    assert_eq!(ack.status, AckCode::Rejected);
    assert_eq!(ack.codes, ["19"]);
    assert_eq!(f.sets()[1].status(), SetStatus::Rejected, "its sets go with it");
    assert!(f.sets()[1].to_ap_invoice(&MapOptions::default()).is_err());
    assert!(f.sets()[0].to_ap_invoice(&MapOptions::default()).is_ok());
}

#[test]
fn st02_twice_in_one_group_rejects_the_second_set() {
    let f = parse(loaded("err_duplicate_st02.edi")).unwrap();
    assert_eq!(error_kinds(&f), [ErrorKind::DuplicateControlNumber]);
    assert_eq!(f.sets()[0].status(), SetStatus::Accepted);
    assert_eq!(f.sets()[1].status(), SetStatus::Rejected);
}

#[test]
fn an_isa13_the_partner_already_sent_is_a_resend() {
    let bytes = loaded("4010_basic.edi");
    let f = parse(bytes).unwrap();
    let ic = &f.interchanges[0];
    let digest = hex_digest(f.interchange_bytes(ic));
    assert_eq!(ic.header.partner_key(), "ZZ:GRANITESUP");
    // Nothing seen yet, or other numbers: not a re-send.
    assert!(resend::check(&ic.header, Some(&digest), &[]).is_none());
    let seen = vec![SeenInterchange { control: "000000100".into(), digest: None }];
    assert!(resend::check(&ic.header, Some(&digest), &seen).is_none());
    // The same number (compared numerically), the same bytes: an identical re-send.
    let seen = vec![SeenInterchange { control: "101".into(), digest: Some(digest.clone()) }];
    let r = resend::check(&ic.header, Some(&digest), &seen).unwrap();
    assert_eq!(r.same_content, Some(true));
    // The same number for other content.
    let other = vec![SeenInterchange { control: "000000101".into(), digest: Some("00".repeat(32)) }];
    assert_eq!(resend::check(&ic.header, Some(&digest), &other).unwrap().same_content, Some(false));
    // Marked, the interchange is rejected with TA1 note 025 and its invoices are not mapped.
    let mut f = parse(bytes).unwrap();
    resend::mark(&mut f.interchanges[0], &r);
    let t = ta1_for(&f.interchanges[0]);
    assert_eq!((t.status.clone(), t.note_code.as_str()), (AckCode::Rejected, "025"));
    assert!(f.sets()[0].to_ap_invoice(&MapOptions::default()).is_err());
    assert!(f.interchanges[0].findings.errors[0].to_string().contains("an identical interchange was already received"));
}

fn hex_digest(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

// ------------------------------------------------------------------------------------------
// Rules vs comments.

#[test]
fn itd_rules_are_errors_and_comments_are_warnings() {
    let f = parse(loaded("itd_variants.edi")).unwrap();
    assert!(f.is_accepted(), "nothing in payment terms rejects an invoice: {}", error_text(&f));
    let sets = &f.interchanges[0].groups[0].sets;
    let summary = |i: usize| {
        let s = &sets[i];
        let e: Vec<(ErrorKind, String)> = s.findings.errors.iter().map(|e| (e.kind, e.location.label())).collect();
        let w: Vec<WarningKind> = s.findings.warnings.iter().map(|w| w.kind).collect();
        (e, w)
    };
    // ITD*05 without ITD06/ITD07: a dictionary comment, so a warning; the invoice is accepted.
    assert_eq!(summary(0), (vec![], vec![WarningKind::Comment]));
    assert!(sets[0].findings.warnings[0].to_string().contains("ITD06 or ITD07 is expected when ITD01 is 05"));
    assert_eq!(summary(1), (vec![], vec![]));
    // ITD03 without ITD04/05/13: syntax note L03040513, an error — noted, not rejecting.
    assert_eq!(summary(2), (vec![(ErrorKind::ConditionalRequired, "ITD04".into())], vec![]));
    assert_eq!(sets[2].status(), SetStatus::AcceptedWithErrors);
    assert_eq!(summary(3), (vec![], vec![]));
    assert_eq!(summary(4), (vec![], vec![WarningKind::Comment, WarningKind::Comment]));
    assert_eq!(summary(5), (vec![], vec![]));
    assert_eq!(sets[5].invoice().unwrap().terms[0].text().as_deref(), Some("NET 45 AFTER RECEIPT"));
    // A YYMMDD date in an 8-character field: too short (noted), and still read.
    assert_eq!(summary(6), (vec![(ErrorKind::TooShort, "ITD06".into())], vec![]));
    assert_eq!(sets[6].invoice().unwrap().due_date(), NaiveDate::from_ymd_opt(2026, 4, 15));
    // Every one of them maps to an AP invoice, and the 997 says A or E, never R.
    for s in f.sets() {
        s.to_ap_invoice(&MapOptions::default()).unwrap();
    }
    let ack = acknowledge(&f.interchanges[0].groups[0]);
    let codes: Vec<&str> = ack.sets.iter().map(|s| s.status.code()).collect();
    assert_eq!(codes, ["A", "A", "E", "A", "A", "A", "E"]);
    assert_eq!(ack.status, AckCode::AcceptedWithErrors);
}

#[test]
fn the_same_validator_checks_every_segment_of_every_set() {
    // A code outside its list in an envelope segment, a number too short and a paired-element
    // rule in 810 segments: the same kinds of error, noted the same way (the 997's own elements
    // are checked alike: see a_997_is_checked_element_by_element).
    let text = String::from_utf8(load("4010_basic.edi"))
        .unwrap()
        .replace("*101*X*004010~", "*101*Q*004010~")
        .replace("CUR*SE*USD~", "CUR*SE*USD*1.2~")
        .replace("PER*AR*BILLING DESK*TE*5551230000*EM*ar@granite-supply.example~", "PER*AR*BILLING DESK*TE~");
    let f = parse(text.as_bytes()).unwrap();
    let got: Vec<(String, ErrorKind, bool)> =
        f.errors().iter().map(|e| (e.location.label(), e.kind, e.rejects())).collect();
    assert_eq!(
        got,
        [
            ("GS07".to_string(), ErrorKind::InvalidCode, false),
            ("CUR03".to_string(), ErrorKind::TooShort, false),
            ("PER04".to_string(), ErrorKind::ConditionalRequired, false),
        ],
        "{}",
        error_text(&f)
    );
    assert!(f.is_accepted());
    assert!(error_text(&f).contains("syntax note P0304"), "{}", error_text(&f));
}

// ------------------------------------------------------------------------------------------
// 997s with element errors.

#[test]
fn a_997_is_checked_element_by_element() {
    let f = parse(loaded("997_element_errors.edi")).unwrap();
    let sets = &f.interchanges[0].groups[0].sets;
    let errs = |i: usize| -> Vec<(String, ErrorKind, bool)> {
        sets[i].findings.errors.iter().map(|e| (e.location.label(), e.kind, e.rejects())).collect()
    };
    assert_eq!(errs(0), [("AK101".to_string(), ErrorKind::TooLong, true)], "AK101 is 2 characters");
    assert!(sets[0].ack().is_none(), "an unreadable AK1 leaves no 997 to act on");
    assert_eq!(errs(1), [("AK101".to_string(), ErrorKind::InvalidCode, false)], "ZQ is not a functional id");
    assert_eq!(sets[1].ack().unwrap().functional_id, "ZQ");
    assert_eq!(errs(2), [("AK402".to_string(), ErrorKind::InvalidNumber, false)], "AK402 is a number");
    assert_eq!(sets[2].ack().unwrap().sets[0].segments[0].elements[0].reference.as_deref(), Some("X1"));
    assert_eq!(errs(3), [("AK302".to_string(), ErrorKind::InvalidNumber, true)], "AK302 is a number");
    assert_eq!(
        errs(4),
        [("AK403".to_string(), ErrorKind::InvalidCode, false), ("AK501".to_string(), ErrorKind::InvalidCode, false)]
    );
    assert_eq!(sets[4].ack().unwrap().sets[0].status, AckCode::Other("Q".into()));
}

// ------------------------------------------------------------------------------------------
// TA1 both ways.

#[test]
fn a_partners_ta1_is_read_and_matched_to_what_we_sent() {
    let f = parse(loaded("ta1_inbound.edi")).unwrap();
    assert!(f.is_valid(), "{}", error_text(&f));
    let t = &f.interchanges[0].ta1[0];
    assert_eq!((t.control.as_str(), t.status.clone(), t.note_code.as_str()), ("000005001", AckCode::Rejected, "006"));
    assert_eq!(t.note, "invalid interchange sender ID");
    assert!(f.interchanges[0].groups.is_empty(), "a TA1 alone: IEA01 = 0");
    let t2 = &f.interchanges[1].ta1[0];
    assert_eq!(t2.status, AckCode::Accepted);
    assert_eq!(f.interchanges[1].groups[0].sets[0].ack().unwrap().group_control, "5002");
    let sent = vec![
        OutboundGroup {
            partner: "morrison".into(),
            sender_id: "GRANITESUP".into(),
            receiver_id: "MORRISONENG".into(),
            interchange_control: 5001,
            group_control: 5001,
            functional_id: "IN".into(),
            version: "004010".into(),
            sets: vec!["0001".into()],
        },
        OutboundGroup { interchange_control: 5002, group_control: 5002, ..sentinel() },
    ];
    let m = match_ta1(t, Some("MORRISONENG"), &sent);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].group_control, 5001);
    assert!(match_ta1(t, Some("SOMEONEELSE"), &sent).is_empty());
}

fn sentinel() -> OutboundGroup {
    OutboundGroup {
        partner: "morrison".into(),
        sender_id: "GRANITESUP".into(),
        receiver_id: "MORRISONENG".into(),
        interchange_control: 0,
        group_control: 0,
        functional_id: "IN".into(),
        version: "004010".into(),
        sets: vec!["0001".into()],
    }
}

#[test]
fn we_write_a_ta1_when_isa14_asks_and_say_what_was_wrong() {
    // ISA14 = 0: no TA1 unless the profile says always.
    let f = parse(loaded("4010_basic.edi")).unwrap();
    let r = respond(&f.interchanges[0], &InboundRules::default(), &opts()).unwrap().unwrap();
    assert!(r.ta1.is_none());
    // Envelope errors make it R with the note code of the first one (IEA01 count: 021 ... the
    // file's first interchange error is the IEA01 mismatch).
    let f = parse(loaded("err_control_numbers.edi")).unwrap();
    let rules = InboundRules { ta1: Ta1Policy::Always, ..InboundRules::default() };
    let r = respond(&f.interchanges[0], &rules, &opts()).unwrap().unwrap();
    let t = r.ta1.unwrap();
    assert_eq!((t.status, t.note_code.as_str()), (AckCode::Rejected, "021"));
    // A TA1 alone, without any 997, is a valid interchange with IEA01 = 0.
    let ic = &f.interchanges[0];
    let alone = render_response(ic, &[], Some(&ta1_for(ic)), &opts()).unwrap();
    let text = String::from_utf8(alone.clone()).unwrap();
    assert!(text.contains("TA1*000000202*"), "{text}");
    assert!(text.ends_with("IEA*0*000000077~\n"), "{text}");
    let back = parse(&alone).unwrap();
    assert!(back.is_valid(), "{}", error_text(&back));
    assert_eq!(back.interchanges[0].ta1[0].note_code, "021");
}

// ------------------------------------------------------------------------------------------
// The vendor.

#[test]
fn a_remit_to_bank_does_not_name_the_vendor() {
    let f = parse(loaded("re_only_seller.edi")).unwrap();
    assert!(f.is_valid(), "{}", error_text(&f));
    let s = f.sets()[0];
    let v = s.vendor_identity(false).unwrap();
    assert_eq!(v.source, VendorSource::Partner);
    assert_eq!(v.key, "ZZ:EDIBUREAU/GRANITE-AR", "ISA05:ISA06, plus GS02 where it differs");
    assert_eq!(v.remit_to.as_ref().unwrap().name, "FIRST HARBOR BANK", "kept as the payment address");
    let ap = s.to_ap_invoice(&MapOptions::default()).unwrap();
    assert_eq!(ap.vendor, "ZZ:EDIBUREAU/GRANITE-AR");
    assert_eq!(ap.vendor_name, None);
    assert_eq!(ap.total, dec!(100.00));
    // Where the partner profile says so, the remit-to names the vendor (with its id code).
    let ap = s.to_ap_invoice(&MapOptions { remit_to_names_vendor: true, ..MapOptions::default() }).unwrap();
    assert_eq!(ap.vendor, "1:123456789");
    assert_eq!(ap.vendor_name.as_deref(), Some("FIRST HARBOR BANK"));
}

#[test]
fn the_seller_beats_the_remit_to_and_keeps_its_id_code() {
    let f = parse(loaded("4010_basic.edi")).unwrap();
    let v = f.sets()[0].vendor_identity(true).unwrap();
    assert_eq!((v.key.as_str(), v.entity.as_deref()), ("V-10042", Some("SE")), "92 = our own vendor number");
    assert_eq!(v.remit_to.unwrap().id.as_deref(), Some("V-10042-R"));
    for (entity, qualifier, key) in
        [("SU", "1", "1:123456789"), ("VN", "91", "91:123456789"), ("SE", "ZZ", "ZZ:123456789")]
    {
        let text = String::from_utf8(load("4010_basic.edi")).unwrap().replace(
            "N1*SE*GRANITE SUPPLY CO*92*V-10042~",
            &format!("N1*{entity}*GRANITE SUPPLY CO*{qualifier}*123456789~"),
        );
        let f = parse(text.as_bytes()).unwrap();
        assert_eq!(f.sets()[0].vendor_identity(false).unwrap().key, key);
    }
    // A seller with a name and no id: the partner decides, not the name.
    let text = String::from_utf8(load("4010_basic.edi"))
        .unwrap()
        .replace("N1*SE*GRANITE SUPPLY CO*92*V-10042~", "N1*SE*GRANITE SUPPLY CO~");
    let f = parse(text.as_bytes()).unwrap();
    let v = f.sets()[0].vendor_identity(false).unwrap();
    assert_eq!((v.key.as_str(), v.name.as_deref()), ("ZZ:GRANITESUP", Some("GRANITE SUPPLY CO")));
}

// ------------------------------------------------------------------------------------------
// Streaming.

#[test]
fn streaming_reports_exactly_what_parse_reports_on_every_fixture() {
    for (name, bytes) in all_fixtures() {
        assert_eq!(streamed(&bytes), parsed(&bytes), "{name}");
        // And one byte at a time, every refill boundary in turn.
        assert_eq!(streamed_from(Trickle(&bytes)), parsed(&bytes), "{name} (one byte at a time)");
    }
}

#[test]
fn streaming_keeps_one_set_not_the_file() {
    // 2 000 invoices of about 200 bytes in one interchange: the buffer holds a chunk and a set.
    let mut text = String::from(
        "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260301*1200*U*00401*000000001*0*P*>~\n\
         GS*IN*SENDER*RECEIVER*20260301*1200*1*X*004010~\n",
    );
    for i in 1..=2000 {
        text.push_str(&format!(
            "ST*810*{i:04}~\nBIG*20260301*INV-{i}~\nN1*SE*SUPPLIER*92*V-1~\nIT1*1*2*EA*5**VP*A1~\nTDS*1000~\nSE*6*{i:04}~\n"
        ));
    }
    text.push_str("GE*2000*1~\nIEA*1*000000001~\n");
    let mut r = Reader::new(text.as_bytes());
    let mut total = dec!(0);
    let mut groups = 0;
    while let Some(e) = r.next_event().unwrap() {
        match e {
            Event::Set(s) => total += s.set_ref().to_ap_invoice(&MapOptions::default()).unwrap().total,
            Event::GroupEnd(g) => {
                groups += 1;
                assert_eq!(g.summaries.len(), 2000);
                assert_eq!(acknowledge(&g).status, AckCode::Accepted);
            }
            _ => {}
        }
    }
    assert_eq!((total, groups), (dec!(20000.00), 1));
    assert!(text.len() > 200_000);
    assert!(r.peak_buffer() <= 2 * mlc_x12::stream::CHUNK, "buffer {} for a {}-byte file", r.peak_buffer(), text.len());
}

#[test]
fn streaming_hands_out_groups_and_interchanges_ready_to_answer() {
    let mut r = Reader::new(loaded("mailbag_mixed_groups.edi"));
    let mut groups = Vec::new();
    let mut response = None;
    while let Some(e) = r.next_event().unwrap() {
        match e {
            Event::GroupEnd(g) => groups.push((g.header.control.clone(), acknowledge(&g).status)),
            Event::InterchangeEnd(ic) => {
                assert_eq!(ic.groups.len(), 5, "the interchange keeps its groups' headers");
                response = Some(ta1_for(&ic));
            }
            _ => {}
        }
    }
    assert_eq!(groups.last().unwrap(), &("505".to_string(), AckCode::PartiallyAccepted));
    assert_eq!(response.unwrap().status, AckCode::Accepted);
}

// ------------------------------------------------------------------------------------------
// Every separator set.

/// The mailbag rewritten with other delimiters: element, component, terminator, line ending.
fn with_separators(text: &str, element: char, component: char, terminator: char, eol: &str) -> Vec<u8> {
    let mut out = String::new();
    for seg in text.split("~\r\n").filter(|s| !s.is_empty()) {
        let seg = if seg.starts_with("ISA") {
            // ISA16 is the component separator itself; the ISA keeps its fixed width.
            let (head, _) = seg.split_at(seg.len() - 1);
            format!("{}{component}", head.replace('*', &element.to_string()))
        } else {
            seg.replace('*', &element.to_string())
        };
        out.push_str(&seg);
        out.push(terminator);
        out.push_str(eol);
    }
    let mut bytes = out.into_bytes();
    // NEL (0x85) as a single byte, as partners send it, not as UTF-8.
    if terminator == '\u{85}' {
        let mut single = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i..].starts_with("\u{85}".as_bytes()) {
                single.push(0x85);
                i += 2;
            } else {
                single.push(bytes[i]);
                i += 1;
            }
        }
        bytes = single;
    }
    bytes
}

#[test]
fn the_mailbag_reads_the_same_with_every_separator_set() {
    let text = String::from_utf8(load("mailbag_mixed_groups.edi")).unwrap();
    let reference = mlc_x12::report(&parse(text.as_bytes()).unwrap(), None, &InboundRules::default());
    for (element, component, terminator, eol) in [
        ('*', ':', '~', "\r\n"),
        ('|', '>', '~', "\n"),
        ('^', '}', '~', ""),
        ('!', '@', '~', "\r"),
        ('~', '>', '*', "\n"),
        ('*', '>', '\n', ""),
        ('*', '>', '\u{85}', ""),
    ] {
        let bytes = with_separators(&text, element, component, terminator, eol);
        let f = parse(&bytes).unwrap_or_else(|e| panic!("{element}{component}{terminator:?}: {e}"));
        let d = f.interchanges[0].delimiters;
        assert_eq!((d.element, d.component), (element as u8, component as u8));
        let r = mlc_x12::report(&f, None, &InboundRules::default());
        assert_eq!(r.interchanges, reference.interchanges, "{element}{component}{terminator:?}");
        assert_eq!(r.counts, reference.counts, "{element}{component}{terminator:?}");
        let totals: Vec<_> = f.invoices().iter().map(|(_, i)| i.totals.total).collect();
        assert_eq!(totals, [dec!(25.00), dec!(7.25), dec!(6.00), dec!(95.00)]);
        assert_eq!(streamed(&bytes), parsed(&bytes), "{element}{component}{terminator:?}");
    }
}
