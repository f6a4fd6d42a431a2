//! The one validator: every segment of every set (and the envelope) is checked the same way
//! against its [`crate::dictionary`] definition.
//!
//! What is a rule and what is advice follows the X12 standard itself:
//! - **Rules** (errors): a mandatory element missing; a value of the wrong type (a number that is
//!   not one, a date that is not a date), too short or too long; a code not in the element's
//!   code list; a syntax note not met (P paired, R required, C conditional, E exclusion, L list
//!   conditional); more elements than the segment has.
//! - **Advice** (warnings): dictionary comments and semantic notes ("if ITD01 is 05, ITD06 or ITD07
//!   is required" is a comment, not a syntax note), and a decimal point sent in an implied-decimal
//!   (N2) element, which is read as written.
//!
//! How much an error weighs is decided the same way everywhere: an error **rejects** its set (or
//! group, or interchange) when the element is one the reader cannot do without (the caller names
//! them: an invoice's number, date, quantities, prices and amounts; a 997's AK1/AK2/AK5/AK9
//! values; the envelope's control numbers and counts) and its value is missing or unreadable.
//! Every other error is **noted**: the data is read and the 997 says "accepted with errors".
//!
//! [`check`] returns which elements could not be read, so the readers built on it skip them
//! without reporting the same problem twice.

use crate::dictionary::{Codes, DataType, ElementDef, NoteKind, Req, SegmentDef, SyntaxNote, functional_id};
use crate::error::{ErrorKind, Findings, Location, Warning, WarningKind, X12Error};
use crate::lexer::{Fields, Segment};
use crate::values;

/// How to check one segment.
#[derive(Debug, Clone, Copy)]
pub struct Check<'c> {
    /// 005010 lengths instead of 004010.
    pub release_5010: bool,
    /// Position inside the transaction set (ST = 1); `None` outside sets.
    pub set_position: Option<usize>,
    /// Elements (1-based) whose missing or unreadable value rejects.
    pub critical: &'c [u8],
}

/// Elements whose value could not be read (missing when mandatory, wrong type, an identifier
/// of the wrong length): bit `n` for element `n`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unreadable(u64);

impl Unreadable {
    pub fn contains(self, n: usize) -> bool {
        n < 64 && self.0 & (1 << n) != 0
    }

    fn insert(&mut self, n: usize) {
        if n < 64 {
            self.0 |= 1 << n;
        }
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

struct Ctx<'s, 'a, 'c> {
    seg: &'s Segment<'a>,
    check: &'s Check<'c>,
    unreadable: Unreadable,
}

impl Ctx<'_, '_, '_> {
    fn loc(&self, element: usize, component: Option<usize>) -> Location {
        let mut l = self.seg.location();
        l.set_position = self.check.set_position;
        l.element = Some(element);
        l.component = component;
        l
    }

    fn report(&mut self, out: &mut Findings, element: usize, e: X12Error, unreadable: bool) {
        let critical = self.check.critical.iter().any(|&c| usize::from(c) == element);
        if unreadable {
            self.unreadable.insert(element);
        }
        out.error(if critical && unreadable { e } else { e.noted() });
    }
}

/// Checks one segment against its definition. `fields` are the segment's elements.
pub fn check(
    seg: &Segment<'_>,
    fields: &Fields<'_>,
    def: &SegmentDef,
    c: &Check<'_>,
    out: &mut Findings,
) -> Unreadable {
    let mut cx = Ctx { seg, check: c, unreadable: Unreadable::default() };
    // Which elements hold something, once: the element loop, the notes and the comments all ask.
    let mut present = 0u64;
    for n in 1..=fields.len().min(crate::lexer::MAX_FIELDS) {
        if fields.has(n) {
            present |= 1 << n;
        }
    }
    let has = |n: usize| n < 64 && present & (1 << n) != 0;
    for (i, d) in def.elements.iter().enumerate() {
        let n = i + 1;
        if !has(n) {
            if d.req == Req::Mandatory {
                let e = X12Error::new(ErrorKind::MissingElement, cx.loc(n, None), format!("{} is mandatory", d.name))
                    .with_expected(format!("{} ({})", d.ty.label(), d.reference));
                cx.report(out, n, e, true);
            }
            continue;
        }
        element(&mut cx, n, fields.get(n), d, out);
    }
    let max = usize::from(def.max_elements);
    let used = if present == 0 { 0 } else { 63 - present.leading_zeros() as usize };
    if used > max || fields.extra > 0 {
        let e = X12Error::new(ErrorKind::TooManyElements, cx.loc(max + 1, None), format!("{} elements", def.id))
            .with_expected(format!("at most {max}"))
            .with_found(fields.len().to_string());
        cx.report(out, max + 1, e, false);
    }
    for note in def.notes {
        syntax_note(&mut cx, &has, def, note, out);
    }
    for cm in def.comments {
        let code = values::trim(fields.get(usize::from(cm.element)));
        if cm.codes.iter().any(|k| k.as_bytes() == code) && !cm.then_any.iter().any(|&n| has(usize::from(n))) {
            out.warn(Warning::new(
                WarningKind::Comment,
                Some(cx.loc(usize::from(cm.then_any[0]), None)),
                format!("{} (a dictionary comment, not a syntax rule: read as sent)", cm.text),
            ));
        }
    }
    cx.unreadable
}

fn element(cx: &mut Ctx<'_, '_, '_>, n: usize, raw: &[u8], d: &ElementDef, out: &mut Findings) {
    if let DataType::Composite(parts) = d.ty {
        let delimiters = cx.seg.delimiters;
        let mut rest = Some(raw);
        for (j, part) in parts.iter().enumerate() {
            let value = match rest {
                Some(r) => match delimiters.find(r, delimiters.component) {
                    Some(p) => {
                        rest = Some(&r[p + 1..]);
                        &r[..p]
                    }
                    None => {
                        rest = None;
                        r
                    }
                },
                None => &[][..],
            };
            if values::trim(value).is_empty() {
                if part.req == Req::Mandatory {
                    let e = X12Error::new(
                        ErrorKind::MissingElement,
                        cx.loc(n, Some(j + 1)),
                        format!("{} is mandatory", part.name),
                    );
                    cx.report(out, n, e, true);
                }
                continue;
            }
            simple(cx, n, Some(j + 1), value, part, out);
        }
        return;
    }
    simple(cx, n, None, raw, d, out);
}

/// The number of digits in a numeric value, or why it is not one.
fn numeric_digits(t: &[u8], allow_point: bool) -> Result<(usize, bool), ()> {
    let body = t.strip_prefix(b"-").unwrap_or(t);
    let mut digits = 0;
    let mut point = false;
    for &b in body {
        match b {
            b'0'..=b'9' => digits += 1,
            b'.' if allow_point && !point => point = true,
            _ => return Err(()),
        }
    }
    if digits == 0 { Err(()) } else { Ok((digits, point)) }
}

fn simple(
    cx: &mut Ctx<'_, '_, '_>,
    n: usize,
    component: Option<usize>,
    raw: &[u8],
    d: &ElementDef,
    out: &mut Findings,
) {
    let t = values::trim(raw);
    let max = usize::from(d.max_for(cx.check.release_5010));
    let min = usize::from(d.min);
    // Locations are built only when something is reported: most elements are fine.
    let seg = cx.seg;
    let set_position = cx.check.set_position;
    let loc = move || {
        let mut l = seg.location();
        l.set_position = set_position;
        l.element = Some(n);
        l.component = component;
        l
    };
    let bad = |kind: ErrorKind, expected: String| {
        X12Error::new(kind, loc(), d.name.to_string()).with_expected(expected).with_found(values::shown(raw))
    };
    let len = match d.ty {
        DataType::N(decimals) => match numeric_digits(t, decimals > 0) {
            Ok((digits, point)) => {
                if point {
                    out.warn(Warning::new(
                        WarningKind::ExplicitDecimalInImpliedField,
                        Some(loc()),
                        format!(
                            "{} {} has a decimal point in an implied-decimal (N{decimals}) field; read as written, not as hundredths",
                            d.name,
                            values::shown(raw)
                        ),
                    ));
                }
                digits
            }
            Err(()) => {
                let expected = if decimals == 0 {
                    "digits (N0)".to_string()
                } else {
                    format!("digits with {decimals} implied decimals (N{decimals}) such as 28566")
                };
                cx.report(out, n, bad(ErrorKind::InvalidNumber, expected), true);
                return;
            }
        },
        DataType::R => match numeric_digits(t, true) {
            Ok((digits, _)) => digits,
            Err(()) => {
                cx.report(out, n, bad(ErrorKind::InvalidNumber, "a decimal number such as 12.50 or -3".into()), true);
                return;
            }
        },
        DataType::DT => match values::date(t) {
            Ok(_) => t.len(),
            Err(_) => {
                let shape = if max == 6 { "YYMMDD" } else { "CCYYMMDD" };
                cx.report(out, n, bad(ErrorKind::InvalidDate, format!("a real calendar date {shape}")), true);
                return;
            }
        },
        DataType::TM => match values::time(t) {
            Ok(()) => t.len(),
            Err(_) => {
                cx.report(out, n, bad(ErrorKind::InvalidTime, "a time HHMM[SS[DD]]".into()), true);
                return;
            }
        },
        DataType::AN | DataType::ID if t.is_ascii() => t.len(),
        DataType::AN | DataType::ID => std::str::from_utf8(t).map_or(t.len(), |s| s.chars().count()),
        DataType::Composite(_) => t.len(),
    };
    let unit = if d.ty.is_numeric() { "digits" } else { "characters" };
    // An identifier of the wrong length is not the code; a string or number of the wrong length
    // is still its value.
    let id = d.ty == DataType::ID;
    if len < min {
        let expected = if min == max { format!("{min} {unit}") } else { format!("at least {min} {unit}") };
        cx.report(out, n, bad(ErrorKind::TooShort, expected), id);
        return;
    }
    if len > max {
        let expected = if min == max { format!("{max} {unit}") } else { format!("at most {max} {unit}") };
        cx.report(out, n, bad(ErrorKind::TooLong, expected), id);
        return;
    }
    let known = match d.codes {
        Codes::Any => true,
        Codes::List(list) => list.iter().any(|c| c.as_bytes() == t),
        Codes::FunctionalIds => std::str::from_utf8(t).ok().and_then(functional_id).is_some(),
    };
    if !known {
        let expected = match d.codes {
            Codes::List(list) if list.len() <= 8 => format!("one of {}", list.join(", ")),
            Codes::List(list) => format!("one of {} codes such as {}", list.len(), list[..4].join(", ")),
            _ => format!("a code of data element {} such as IN, FA, PO", d.reference),
        };
        cx.report(out, n, bad(ErrorKind::InvalidCode, expected), false);
    }
}

fn name_of(def: &SegmentDef, n: u8) -> String {
    format!("{}{n:02}", def.id)
}

fn syntax_note(
    cx: &mut Ctx<'_, '_, '_>,
    present: &dyn Fn(usize) -> bool,
    def: &SegmentDef,
    note: &SyntaxNote,
    out: &mut Findings,
) {
    let has = |n: u8| present(usize::from(n));
    let els = note.elements;
    let list = |els: &[u8]| els.iter().map(|&n| name_of(def, n)).collect::<Vec<_>>().join(", ");
    let (kind, at, what) = match note.kind {
        NoteKind::Paired => {
            let present = els.iter().filter(|&&n| has(n)).count();
            if present == 0 || present == els.len() {
                return;
            }
            let missing = els.iter().copied().find(|&n| !has(n)).unwrap_or(els[0]);
            (ErrorKind::ConditionalRequired, missing, format!("if any of {} is present, all are required", list(els)))
        }
        NoteKind::Required => {
            if els.iter().any(|&n| has(n)) {
                return;
            }
            (ErrorKind::ConditionalRequired, els[0], format!("at least one of {} is required", list(els)))
        }
        NoteKind::Exclusion => {
            if els.iter().filter(|&&n| has(n)).count() <= 1 {
                return;
            }
            let second = els.iter().copied().filter(|&n| has(n)).nth(1).unwrap_or(els[0]);
            (ErrorKind::ExclusionViolated, second, format!("only one of {} may be present", list(els)))
        }
        NoteKind::Conditional => {
            if !has(els[0]) || els[1..].iter().all(|&n| has(n)) {
                return;
            }
            let missing = els[1..].iter().copied().find(|&n| !has(n)).unwrap_or(els[0]);
            (
                ErrorKind::ConditionalRequired,
                missing,
                format!("if {} is present, {} required", name_of(def, els[0]), list(&els[1..])),
            )
        }
        NoteKind::ListConditional => {
            if !has(els[0]) || els[1..].iter().any(|&n| has(n)) {
                return;
            }
            (
                ErrorKind::ConditionalRequired,
                els[1],
                format!("if {} is present, at least one of {} is required", name_of(def, els[0]), list(&els[1..])),
            )
        }
    };
    let e = X12Error::new(kind, cx.loc(usize::from(at), None), format!("syntax note {}: {what}", note.code()));
    cx.report(out, usize::from(at), e, false);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dictionary;
    use crate::lexer::{Lexed, Lexer};

    const ISA: &str =
        "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260301*1200*U*00401*000000001*0*P*>~";

    fn run(segment: &str, critical: &[u8]) -> (Findings, Unreadable) {
        let input = format!("{ISA}{segment}~");
        let seg = Lexer::new(input.as_bytes())
            .filter_map(|l| if let Lexed::Segment(s) = l { Some(s) } else { None })
            .next()
            .unwrap();
        let def = dictionary::segment(seg.id).unwrap();
        let mut out = Findings::default();
        let c = Check { release_5010: false, set_position: Some(5), critical };
        let u = check(&seg, &seg.fields(), def, &c, &mut out);
        (out, u)
    }

    fn kinds(f: &Findings) -> Vec<(String, ErrorKind, bool)> {
        f.errors.iter().map(|e| (e.location.label(), e.kind, e.rejects())).collect()
    }

    #[test]
    fn types_lengths_and_codes() {
        let (f, u) = run("IT1*1*X1*EA*12.5O", &[2, 4]);
        assert_eq!(
            kinds(&f),
            [("IT102".into(), ErrorKind::InvalidNumber, true), ("IT104".into(), ErrorKind::InvalidNumber, true)]
        );
        assert!(u.contains(2) && u.contains(4) && !u.contains(3));
        let (f, _) = run("IT1*1*12345678901*EA*1", &[2, 4]);
        assert_eq!(kinds(&f), [("IT102".into(), ErrorKind::TooLong, false)], "a long number is still a number");
        let (f, u) = run("SAC*Q*D240***100", &[5]);
        assert_eq!(kinds(&f), [("SAC01".into(), ErrorKind::InvalidCode, false)]);
        assert!(u.is_empty());
        let (f, u) = run("CUR*SE*USDX", &[2]);
        assert_eq!(kinds(&f), [("CUR02".into(), ErrorKind::TooLong, true)], "an id of the wrong length is unreadable");
        assert!(u.contains(2));
        let (f, _) = run("BIG*260301*INV-1", &[1, 2]);
        assert_eq!(kinds(&f), [("BIG01".into(), ErrorKind::TooShort, false)], "YYMMDD in a CCYYMMDD field: read");
        let (f, _) = run("BIG*20260230*INV-1", &[1, 2]);
        assert_eq!(kinds(&f), [("BIG01".into(), ErrorKind::InvalidDate, true)]);
        let (f, _) = run("BIG**INV-1", &[1, 2]);
        assert_eq!(kinds(&f), [("BIG01".into(), ErrorKind::MissingElement, true)]);
    }

    #[test]
    fn the_997_is_checked_like_everything_else() {
        let (f, _) = run("AK1*INX*12", &[1, 2]);
        assert_eq!(kinds(&f), [("AK101".into(), ErrorKind::TooLong, true)]);
        let (f, _) = run("AK1*ZQ*12", &[1, 2]);
        assert_eq!(kinds(&f), [("AK101".into(), ErrorKind::InvalidCode, false)]);
        let (f, _) = run("AK4*2*X1*6", &[]);
        assert_eq!(kinds(&f), [("AK402".into(), ErrorKind::InvalidNumber, false)]);
        let (f, _) = run("AK4*2>Q**6", &[]);
        assert_eq!(kinds(&f), [("AK401-02".into(), ErrorKind::InvalidNumber, false)]);
        let (f, _) = run("AK3*IT1*X", &[2]);
        assert_eq!(kinds(&f), [("AK302".into(), ErrorKind::InvalidNumber, true)]);
    }

    #[test]
    fn syntax_notes_p_r_c_e_l() {
        let (f, _) = run("IT1*1*2**5", &[]);
        assert_eq!(kinds(&f), [("IT103".into(), ErrorKind::ConditionalRequired, false)]);
        assert!(f.errors[0].to_string().contains("syntax note P020304"), "{}", f.errors[0]);
        let (f, _) = run("TXI*ST", &[]);
        assert_eq!(kinds(&f), [("TXI02".into(), ErrorKind::ConditionalRequired, false)]);
        let (f, _) = run("TXI*ST*1******100", &[]);
        assert_eq!(kinds(&f), [("TXI03".into(), ErrorKind::ConditionalRequired, false)], "C0803");
        let (f, _) = run("N4*PORTLAND*ME*04101*US******X", &[]);
        assert!(kinds(&f).iter().any(|k| k.1 == ErrorKind::TooManyElements), "{:?}", kinds(&f));
        let (f, _) = run("N4*PORTLAND*ME*04101*US***ZZ", &[]);
        assert_eq!(kinds(&f), [("N407".into(), ErrorKind::ExclusionViolated, false)], "E0207");
        let (f, _) = run("ITD*01*3*2", &[]);
        assert_eq!(kinds(&f), [("ITD04".into(), ErrorKind::ConditionalRequired, false)], "L03040513");
    }

    #[test]
    fn comments_and_decimal_points_warn() {
        let (f, _) = run("ITD*05*3", &[]);
        assert!(f.errors.is_empty(), "{:?}", kinds(&f));
        assert_eq!(f.warnings.len(), 1);
        assert_eq!(f.warnings[0].kind, WarningKind::Comment);
        assert!(f.warnings[0].to_string().contains("ITD06 or ITD07"), "{}", f.warnings[0]);
        let (f, _) = run("ITD*05*3*****30", &[]);
        assert!(f.warnings.is_empty() && f.errors.is_empty());
        let (f, _) = run("TDS*285.66", &[1]);
        assert!(f.errors.is_empty());
        assert_eq!(f.warnings[0].kind, WarningKind::ExplicitDecimalInImpliedField);
        let (f, _) = run("SAC*C*D240", &[5]);
        assert_eq!(f.warnings[0].kind, WarningKind::Comment);
    }
}
