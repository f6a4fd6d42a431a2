//! Every variation in tests/data, read and checked. The files are written for this crate (see
//! tests/data/README.md for what each one covers).

mod common;

use chrono::NaiveDate;
use common::*;
use mlc_core::domain::DocumentKind;
use mlc_core::money::Currency;
use mlc_x12::invoice810::ChargeIndicator;
use mlc_x12::{ErrorKind, MapOptions, Release, SetContent, WarningKind, parse};
use rust_decimal::{Decimal, dec};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn full_004010_invoice_maps_every_part() {
    let bytes = load("4010_basic.edi");
    let f = parse(&bytes).unwrap();
    assert!(f.is_valid(), "{}", error_text(&f));
    assert!(f.warnings().is_empty(), "{}", warning_text(&f));
    let invoices = f.invoices();
    assert_eq!(invoices.len(), 1);
    let (set, inv) = invoices[0];
    assert_eq!(inv.release, Release::V004010);
    assert_eq!(inv.invoice_number, "INV-26-0042");
    assert_eq!(inv.invoice_date, date(2026, 3, 2));
    assert_eq!(inv.po_date, Some(date(2026, 2, 15)));
    assert_eq!(inv.purchase_order(), Some("PO-7781"));
    assert_eq!(inv.transaction_type.as_deref(), Some("DI"));
    assert_eq!(inv.purpose.as_deref(), Some("00"));
    assert_eq!(inv.currency.as_deref(), Some("USD"));
    assert_eq!(inv.references.len(), 2);
    assert_eq!(inv.contacts[0].communications.len(), 2);
    let codes: Vec<&str> = inv.parties.iter().map(|p| p.entity.as_ref()).collect();
    assert_eq!(codes, ["SE", "RI", "BT", "BY", "ST", "SF", "PR", "SO"]);
    let seller = inv.seller().unwrap();
    assert_eq!(seller.name.as_deref(), Some("GRANITE SUPPLY CO"));
    assert_eq!(seller.extra_names, ["GRANITE SUPPLY COMPANY LLC"]);
    assert_eq!(seller.address_lines, ["400 QUARRY ROAD", "SUITE 12"]);
    assert_eq!(seller.contacts[0].name.as_deref(), Some("JANE ROE"));
    assert_eq!(inv.buyer().unwrap().references[0].qualifier, "VR");
    assert_eq!(inv.party(&["RI"]).unwrap().postal_code.as_deref(), Some("022417700"));
    let t = &inv.terms[0];
    assert_eq!((t.discount_percent, t.discount_days, t.net_days), (Some(dec!(2)), Some(10), Some(30)));
    assert_eq!(inv.due_date(), Some(date(2026, 4, 1)));
    assert_eq!(inv.lines.len(), 3);
    let ext: Vec<Decimal> = inv.lines.iter().map(|l| l.extended.unwrap()).collect();
    assert_eq!(ext, [dec!(280.00), dec!(5.66), dec!(120.31)]);
    assert_eq!(inv.lines[0].product_ids.len(), 3);
    assert_eq!(inv.lines[0].item_id().unwrap().id, "M-5501", "buyer's part number is preferred");
    assert_eq!(inv.lines[2].dates[0].qualifier, "011");
    assert_eq!(inv.totals.total, dec!(437.41));
    assert_eq!(inv.computed.tax, dec!(16.44));
    assert_eq!(inv.computed.charges, dec!(15.00));
    assert!(inv.computed.total_matches);
    assert_eq!(inv.computed.tax_in_tds, Some(true));

    let ap = set.to_ap_invoice(&MapOptions { file_name: Some("in.edi".into()), ..MapOptions::default() }).unwrap();
    assert_eq!(ap.kind, DocumentKind::Invoice);
    assert_eq!(ap.vendor, "V-10042");
    assert_eq!(ap.vendor_name.as_deref(), Some("GRANITE SUPPLY CO"));
    assert_eq!(ap.invoice_number, "INV-26-0042");
    assert_eq!(ap.due_date, Some(date(2026, 4, 1)));
    assert_eq!(ap.terms.as_deref(), Some("2% 10 NET 30"));
    assert_eq!(ap.currency, Currency::USD);
    assert_eq!(ap.lines.len(), 4, "three IT1 and the freight charge");
    assert!(ap.lines.iter().all(|l| l.account == mlc_x12::UNMAPPED_ACCOUNT));
    assert_eq!(ap.lines[0].cost_code.as_deref(), Some("M-5501"));
    assert_eq!(ap.lines[0].description, "GALVANISED ANCHOR BOLT 10MM");
    assert_eq!(ap.lines[3].cost_code.as_deref(), Some("SAC:D240"));
    assert_eq!(ap.lines[3].net_amount, dec!(15.00));
    assert_eq!(ap.header_tax, dec!(16.44));
    assert_eq!(ap.total, dec!(437.41));
    assert_eq!(ap.po_number.as_deref(), Some("PO-7781"));
    assert_eq!(ap.source.system, "cleo");
    assert_eq!(ap.source.entity, "810");
    assert_eq!(ap.source.id, "in.edi#000000101/101/0001");
    assert_eq!(ap.source.version.len(), 64);
    assert_eq!(ap.description.as_deref(), Some("Deliver to the north gate"));
}

fn single_invoice(name: &str) -> (Vec<u8>, String, Decimal) {
    let bytes = load(name);
    let f = parse(&bytes).unwrap();
    assert!(f.is_valid(), "{name}: {}", error_text(&f));
    let inv = f.invoices();
    assert_eq!(inv.len(), 1, "{name}");
    let number = inv[0].1.invoice_number.to_string();
    let total = inv[0].1.totals.total;
    (bytes.clone(), number, total)
}

#[test]
fn every_delimiter_variation_reads_the_same_invoice() {
    for (name, number, element, component, segment) in [
        ("4010_pipe_crlf.edi", "INV-PIPE", b'|', b':', b'~'),
        ("4010_caret_oneline.edi", "INV-CARET", b'^', b'}', b'~'),
        ("4010_newline_terminator.edi", "INV-NL", b'*', b'>', b'\n'),
        ("4010_bang_cr.edi", "INV-BANG", b'!', b'@', b'~'),
        ("swapped_separators.edi", "INV-SWAP", b'~', b'>', b'*'),
        ("nel_terminator.edi", "INV-NEL", b'*', b'>', 0x85),
    ] {
        let (bytes, got, total) = single_invoice(name);
        assert_eq!(got, number, "{name}");
        assert_eq!(total, dec!(25.00), "{name}");
        let f = parse(&bytes).unwrap();
        let d = f.interchanges[0].delimiters;
        assert_eq!((d.element, d.component, d.segment), (element, component, segment), "{name}");
        assert!(f.interchanges[0].fixed_width, "{name}");
        assert!(f.warnings().is_empty(), "{name}: {}", warning_text(&f));
        let (set, _) = f.invoices()[0];
        let ap = set.to_ap_invoice(&MapOptions::default()).unwrap();
        assert_eq!(ap.total, dec!(25.00));
    }
}

#[test]
fn release_5010_with_repetition_separator_and_credit_memo() {
    let bytes = load("5010_repetition_credit.edi");
    let f = parse(&bytes).unwrap();
    assert!(f.is_valid(), "{}", error_text(&f));
    assert_eq!(f.interchanges[0].delimiters.repetition, Some(b'^'));
    assert_eq!(f.interchanges[0].delimiters.component, b':');
    let g = &f.interchanges[0].groups[0];
    assert_eq!(g.release, Release::V005010);
    assert_eq!(g.sets[0].header.implementation.as_deref(), Some("005010"));
    let (set, inv) = f.invoices()[0];
    assert!(inv.is_credit());
    let ap = set.to_ap_invoice(&MapOptions::default()).unwrap();
    assert_eq!(ap.kind, DocumentKind::CreditMemo);
    assert_eq!(ap.total, dec!(70.00));
    assert_eq!(ap.signed_total(), dec!(-70.00));
}

#[test]
fn release_5010_with_u_in_isa11_has_no_repetition_separator() {
    let bytes = load("5010_u_isa11.edi");
    let f = parse(&bytes).unwrap();
    assert!(f.is_valid());
    assert_eq!(f.interchanges[0].delimiters.repetition, None);
    assert_eq!(f.interchanges[0].groups[0].release, Release::V005010);
    assert!(f.warnings().is_empty(), "{}", warning_text(&f));
}

#[test]
fn non_fixed_width_isa_odd_version_and_wrong_gs01_are_warnings() {
    let bytes = load("4010_non_fixed_isa.edi");
    let f = parse(&bytes).unwrap();
    assert!(f.is_valid(), "{}", error_text(&f));
    let w = warning_kinds(&f);
    for k in [WarningKind::NonFixedWidthIsa, WarningKind::VersionMismatch, WarningKind::FunctionalIdMismatch] {
        assert!(w.contains(&k), "missing {k:?} in {w:?}");
    }
    assert!(!f.interchanges[0].fixed_width);
    assert_eq!(f.interchanges[0].header.sender_id, "102096559TEST");
    assert_eq!(f.invoices()[0].1.invoice_number, "INV-UNPADDED");
}

#[test]
fn bom_whitespace_double_terminators_and_missing_final_terminator() {
    let bytes = load("4010_bom_whitespace.edi");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let f = parse(&bytes).unwrap();
    assert!(f.is_valid(), "{}", error_text(&f));
    let w = warning_kinds(&f);
    assert!(w.contains(&WarningKind::EmptySegment), "{w:?}");
    assert!(w.contains(&WarningKind::TrailingData), "{w:?}");
    assert_eq!(f.invoices()[0].1.invoice_number, "INV-BOM", "space before the terminator is trimmed");
}

#[test]
fn fat_file_with_several_interchanges_groups_and_sets() {
    let bytes = load("fat_multi.edi");
    let f = parse(&bytes).unwrap();
    assert!(f.is_valid(), "{}", error_text(&f));
    assert_eq!(f.interchanges.len(), 2);
    assert_eq!(f.interchanges[0].groups.len(), 2);
    assert_eq!(f.interchanges[0].groups[0].sets.len(), 2);
    assert_eq!(f.interchanges[1].delimiters.element, b'|', "second interchange declares its own delimiters");
    assert_eq!(f.interchanges[1].delimiters.segment, b'\n');
    let numbers: Vec<String> = f.invoices().iter().map(|(_, i)| i.invoice_number.to_string()).collect();
    assert_eq!(numbers, ["FAT-1", "FAT-2", "FAT-3", "FAT-4", "FAT-5"]);
    assert_eq!(f.interchanges[0].trailer.as_ref().unwrap().control, "3438", "IEA02 unpadded, equal numerically");
    let ids: Vec<String> = f.invoices().iter().map(|(s, _)| s.control_path()).collect();
    assert_eq!(ids[3], "000003438/0002/0002");
}

#[test]
fn negative_810_is_a_credit_memo_with_positive_amounts() {
    let bytes = load("credit_negative.edi");
    let f = parse(&bytes).unwrap();
    assert!(f.is_valid(), "{}", error_text(&f));
    let (set, inv) = f.invoices()[0];
    assert!(inv.is_credit());
    assert!(inv.computed.total_matches);
    let ap = set.to_ap_invoice(&MapOptions::default()).unwrap();
    assert_eq!(ap.kind, DocumentKind::CreditMemo);
    assert_eq!(ap.total, dec!(25.00));
    assert_eq!(ap.lines[0].net_amount, dec!(25.00));
    let ar = set.to_ar_invoice(&MapOptions::default()).unwrap();
    assert_eq!(ar.kind, DocumentKind::CreditMemo);
    assert_eq!(ar.lines[0].quantity, dec!(2));
}

#[test]
fn tds_and_ctt_variants() {
    let bytes = load("tds_variants.edi");
    let f = parse(&bytes).unwrap();
    assert!(f.is_valid(), "{}", error_text(&f));
    let sets = &f.interchanges[0].groups[0].sets;
    let kinds = |i: usize| sets[i].findings.warnings.iter().map(|w| w.kind).collect::<Vec<_>>();
    let inv = |i: usize| sets[i].invoice().unwrap();

    assert!(kinds(0).is_empty(), "{:?}", kinds(0));
    let t = &inv(0).totals;
    assert_eq!(
        (t.subject_to_discount, t.discounted_due, t.terms_discount),
        (Some(dec!(100)), Some(dec!(98)), Some(dec!(2)))
    );
    assert_eq!(inv(0).due_date(), Some(date(2026, 4, 5)));

    assert_eq!(kinds(1), [WarningKind::ExplicitDecimalInImpliedField]);
    assert_eq!(inv(1).totals.total, dec!(285.66));
    assert!(inv(1).computed.total_matches);

    assert_eq!(kinds(2), [WarningKind::TotalInWholeUnits]);
    assert_eq!(inv(2).totals.total, dec!(39.72), "not rescaled");

    assert!(kinds(3).is_empty(), "{:?}", kinds(3));
    assert_eq!(inv(3).computed.tax_in_tds, Some(false));
    assert_eq!(inv(3).total_including_tax(), dec!(107.25));

    let k4 = kinds(4);
    for k in [WarningKind::TotalMismatch, WarningKind::LineCountMismatch, WarningKind::HashTotalMismatch] {
        assert!(k4.contains(&k), "missing {k:?} in {k4:?}");
    }
    let msg = sets[4].findings.warnings.iter().find(|w| w.kind == WarningKind::TotalMismatch).unwrap().to_string();
    assert!(msg.contains("TDS01") && msg.contains("123.45") && msg.contains("100.00"), "{msg}");

    assert!(kinds(5).is_empty() && inv(5).transaction_totals.is_none());

    let all = f.sets();
    assert_eq!(all[3].to_ap_invoice(&MapOptions::default()).unwrap().total, dec!(107.25));
    let err = all[2].to_ap_invoice(&MapOptions::default()).unwrap_err().to_string();
    assert!(err.contains("39.72") && err.contains("3971.97"), "{err}");
    assert!(all[4].to_ap_invoice(&MapOptions::default()).is_err());
}

#[test]
fn unknown_and_carrier_segments_are_kept_and_product_ids_unbounded_to_ten_pairs() {
    let bytes = load("unknown_segments.edi");
    let f = parse(&bytes).unwrap();
    assert!(f.is_accepted(), "{}", error_text(&f));
    let (set, inv) = f.invoices()[0];
    let w = warning_kinds(&f);
    assert_eq!(w.iter().filter(|k| **k == WarningKind::UnknownSegment).count(), 2, "{w:?}");
    // IT103 is empty while IT102 and IT104 are given: syntax note P020304, an error that is noted
    // (997 `E`), not a rejection.
    let errors = f.errors();
    assert_eq!(errors.len(), 1, "{}", error_text(&f));
    assert_eq!((errors[0].kind, errors[0].location.label()), (ErrorKind::ConditionalRequired, "IT103".to_string()));
    assert!(!errors[0].rejects());
    let kept: Vec<&str> = inv.other_segments.iter().map(|s| s.id.as_ref()).collect();
    assert_eq!(kept, ["V1", "R4", "ZZQ", "CTP", "SLN", "XYZ", "CAD", "ISS"]);
    let line = &inv.lines[0];
    assert_eq!(line.assigned_id, None);
    assert_eq!(line.unit, None);
    assert_eq!(line.product_ids.len(), 10);
    assert_eq!(line.product_ids[9].id, "X10");
    assert_eq!(line.dates[0].qualifier, "186");
    assert_eq!(inv.purchase_order(), Some("36444667905"));
    let ap = set.to_ap_invoice(&MapOptions::default()).unwrap();
    assert_eq!(ap.currency, Currency::GBP);
    assert_eq!(ap.vendor, "ZZ:HL-UK", "SE is preferred over other parties; a ZZ id keeps its qualifier");
    assert_eq!(ap.total, dec!(3971.97));
}

#[test]
fn allowances_and_charges_at_line_and_summary_level() {
    let bytes = load("allowances_charges.edi");
    let f = parse(&bytes).unwrap();
    assert!(f.is_valid(), "{}", error_text(&f));
    let (set, inv) = f.invoices()[0];
    assert_eq!(warning_kinds(&f), [WarningKind::AmountMissing]);
    let c = &inv.computed;
    assert_eq!((c.lines, c.charges, c.allowances, c.tax), (dec!(300), dec!(27.50), dec!(34.00), dec!(17.40)));
    assert!(c.total_matches);
    assert_eq!(inv.lines[0].charges[0].indicator, ChargeIndicator::Allowance);
    assert_eq!(inv.charges.len(), 4);
    let ap = set.to_ap_invoice(&MapOptions::default()).unwrap();
    let nets: Vec<Decimal> = ap.lines.iter().map(|l| l.net_amount).collect();
    assert_eq!(nets, [dec!(190.00), dec!(102.50), dec!(25.00), dec!(-24.00)]);
    assert_eq!(ap.lines[0].tax_amount, dec!(11.40));
    assert_eq!(ap.header_tax, dec!(6.00));
    assert_eq!(ap.total, dec!(310.90));
    assert_eq!(ap.lines[3].description, "EARLY PAYMENT");
}

#[test]
fn bare_transaction_set_without_envelope() {
    let bytes = load("bare_st.edi");
    let f = parse(&bytes).unwrap();
    assert!(f.is_valid(), "{}", error_text(&f));
    assert!(f.interchanges.is_empty());
    assert_eq!(f.loose_sets.len(), 1);
    assert_eq!(warning_kinds(&f), [WarningKind::NoEnvelope]);
    let (set, _) = f.invoices()[0];
    assert_eq!(set.to_ap_invoice(&MapOptions::default()).unwrap().source.id, "0001");
}

#[test]
fn latin1_names_are_decoded_with_a_warning() {
    let bytes = load("latin1_names.edi");
    let f = parse(&bytes).unwrap();
    assert!(f.is_valid());
    let inv = f.invoices()[0].1;
    assert_eq!(inv.seller().unwrap().name.as_deref(), Some("MÜLLER BAUSTOFFE GMBH"));
    assert_eq!(inv.lines[0].description_text().as_deref(), Some("STAHLTRÄGER"));
    assert!(warning_kinds(&f).contains(&WarningKind::TextNotUtf8));
}

// ------------------------------------------------------------------------------------------
// Broken files: precise errors.

#[test]
fn se_count_mismatch_names_segment_position_and_values() {
    let f = parse(loaded("err_se_count.edi")).unwrap();
    assert!(!f.is_valid());
    let e = f.errors()[0];
    assert_eq!(e.kind, ErrorKind::CountMismatch);
    assert_eq!(e.location.label(), "SE01");
    assert_eq!((e.expected.as_deref(), e.found.as_deref()), (Some("8"), Some("9")));
    assert_eq!(e.location.index, 10);
    assert_eq!(e.location.set_position, Some(8));
    let text = e.to_string();
    assert!(text.starts_with("SE01 at segment 10 (byte "), "{text}");
    assert!(text.ends_with("expected 8, found 9"), "{text}");
    assert!(f.sets()[0].to_ap_invoice(&MapOptions::default()).is_err());
}

#[test]
fn every_control_number_and_count_mismatch() {
    let f = parse(loaded("err_control_numbers.edi")).unwrap();
    let all = error_text(&f);
    for want in [
        "SE02",
        "expected 0001, found 0009",
        "GE01",
        "expected 1, found 2",
        "GE02",
        "expected 202, found 299",
        "IEA01",
        "expected 1, found 3",
        "IEA02",
        "expected 000000202, found 000000999",
    ] {
        assert!(all.contains(want), "missing {want:?} in\n{all}");
    }
    assert_eq!(f.errors().len(), 5);
}

#[test]
fn missing_trailers_close_the_open_levels() {
    let f = parse(loaded("err_missing_trailers.edi")).unwrap();
    let kinds = error_kinds(&f);
    assert_eq!(kinds, [ErrorKind::MissingTrailer, ErrorKind::MissingTrailer], "{}", error_text(&f));
    let text = error_text(&f);
    assert!(text.contains("transaction set 0001 has no SE"), "{text}");
    assert!(text.contains("interchange 000000203 has no IEA"), "{text}");
    assert_eq!(f.sets().len(), 2);
    assert!(f.sets()[1].set.is_accepted(), "the second set is intact");
}

#[test]
fn missing_big_makes_the_set_unreadable() {
    let f = parse(loaded("err_missing_big.edi")).unwrap();
    assert_eq!(error_kinds(&f), [ErrorKind::MissingSegment]);
    assert_eq!(f.sets()[0].set.content, SetContent::Unreadable);
    assert!(error_text(&f).contains("BIG"));
}

#[test]
fn bad_amounts_reject_with_the_element_and_value() {
    let f = parse(loaded("err_bad_amounts.edi")).unwrap();
    let text = error_text(&f);
    for want in ["IT102", "\"1,000\"", "IT104", "\"12.5O\"", "TDS01", "\"25.00.1\""] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    assert!(!f.sets()[0].set.is_accepted());
}

#[test]
fn bad_dates_reject_big_and_note_dtm() {
    let f = parse(loaded("err_bad_date.edi")).unwrap();
    let errs = f.errors();
    assert_eq!(errs.len(), 2, "{}", error_text(&f));
    assert_eq!(errs[0].location.label(), "BIG01");
    assert!(errs[0].rejects());
    assert_eq!(errs[1].location.label(), "DTM02");
    assert!(!errs[1].rejects());
}

#[test]
fn duplicate_st02_in_a_group() {
    let f = parse(loaded("err_duplicate_st02.edi")).unwrap();
    assert_eq!(error_kinds(&f), [ErrorKind::DuplicateControlNumber]);
    assert!(f.sets()[0].set.is_accepted());
    assert!(!f.sets()[1].set.is_accepted());
}

#[test]
fn unreadable_files_fail_with_the_reason() {
    let e = parse(loaded("err_garbage.edi")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NoInterchange);
    assert!(e.to_string().contains("This is not"), "{e}");
    let e = parse(loaded("err_bad_isa.edi")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Delimiters);
    assert!(e.to_string().contains("16 element separators"), "{e}");
    let e = parse(b"").unwrap_err();
    assert_eq!(e.kind, ErrorKind::NoInterchange);
}

#[test]
fn segment_outside_a_set_and_unsupported_sets_and_bad_ids() {
    let f = parse(loaded("err_segment_outside.edi")).unwrap();
    assert_eq!(error_kinds(&f), [ErrorKind::UnexpectedSegment]);
    assert!(error_text(&f).contains("REF at segment"));
    // An 856 in its own SH group is a set this product does not handle: not an error.
    let f = parse(loaded("not_handled_856.edi")).unwrap();
    assert!(f.is_valid(), "{}", error_text(&f));
    assert_eq!(f.sets()[0].status(), mlc_x12::SetStatus::NotHandled);
    let f = parse(loaded("err_bad_segment_id.edi")).unwrap();
    assert_eq!(error_kinds(&f), [ErrorKind::InvalidSegmentId]);
    assert!(error_text(&f).contains("\"it1\""), "{}", error_text(&f));
}

#[test]
fn every_fixture_parses_without_panicking_and_deterministically() {
    for (name, bytes) in all_fixtures() {
        let a = parse(&bytes);
        let b = parse(&bytes);
        assert_eq!(a, b, "{name}");
    }
}
