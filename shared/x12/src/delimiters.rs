//! Delimiter detection (fact sheet §3).
//!
//! X12 has no fixed delimiters: the ISA declares them by example. The element separator is the
//! byte right after `ISA`; the component separator is ISA16; the segment terminator is the byte
//! after ISA16; from 004020 on ISA11 carries the repetition separator. In a well-formed file the
//! ISA is exactly 106 bytes and those bytes sit at offsets 3, 104 and 105, but partners send
//! unpadded ISAs, so this module never relies on fixed offsets: it counts element separators (the
//! 16th one precedes ISA16) and then checks the result — all delimiters distinct and not
//! alphanumeric, the terminator not inside an ISA field, and a segment id right after the
//! terminator. Whether the ISA was fixed-width is reported so the caller can warn.
//!
//! Files without an envelope (bare `ST…SE`, seen in partner samples) are read with
//! [`detect_bare_st`], which takes the element separator after `ST` and the terminator as the first
//! byte after ST's elements that is neither data nor a separator.

use serde::Serialize;

use crate::error::{ErrorKind, Location, X12Error};

/// The delimiters of one interchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Delimiters {
    pub element: u8,
    pub component: u8,
    /// ISA11 in 004020+ when it is a separator; 004010 files (and 005010 files that still carry
    /// `U`) have none.
    pub repetition: Option<u8>,
    pub segment: u8,
    /// The release (escape) character an ISX segment declares (ISX01, 007040+): the byte after
    /// it is data, never a delimiter. `None` everywhere else: before 007040 X12 has no escape.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<u8>,
}

impl Delimiters {
    /// `*`, `>`, `^` (repetition only when asked), `~`: the most common set.
    pub const fn standard() -> Self {
        Delimiters { element: b'*', component: b'>', repetition: None, segment: b'~', release: None }
    }

    /// Whether `b` is one of the delimiters.
    pub fn is_delimiter(&self, b: u8) -> bool {
        b == self.element
            || b == self.component
            || b == self.segment
            || Some(b) == self.repetition
            || Some(b) == self.release
    }

    /// The same delimiters with a release character, checked against the others.
    pub fn with_release(self, release: u8) -> Result<Self, String> {
        let d = Delimiters { release: Some(release), ..self };
        d.validate().map(|()| d)
    }

    /// The position of the next `needle` in `bytes` that is not escaped by the release character.
    pub fn find(&self, bytes: &[u8], needle: u8) -> Option<usize> {
        match self.release {
            None => bytes.iter().position(|&b| b == needle),
            Some(r) => {
                let mut i = 0;
                while i < bytes.len() {
                    let b = bytes[i];
                    if b == r {
                        i += 2;
                        continue;
                    }
                    if b == needle {
                        return Some(i);
                    }
                    i += 1;
                }
                None
            }
        }
    }

    /// Checks that the delimiters can separate anything: pairwise distinct, not letters or digits,
    /// and the element/component separators not whitespace.
    pub fn validate(&self) -> Result<(), String> {
        let mut all = vec![("element separator", self.element), ("component separator", self.component)];
        if let Some(r) = self.repetition {
            all.push(("repetition separator", r));
        }
        all.push(("segment terminator", self.segment));
        if let Some(r) = self.release {
            all.push(("release character", r));
        }
        for (name, b) in &all {
            if b.is_ascii_alphanumeric() {
                return Err(format!("{name} {} is a letter or digit", show_byte(*b)));
            }
        }
        for (name, b) in &all[..2] {
            if matches!(b, b' ' | b'\r' | b'\n' | b'\t') {
                return Err(format!("{name} {} is whitespace", show_byte(*b)));
            }
        }
        for (i, (n1, b1)) in all.iter().enumerate() {
            for (n2, b2) in &all[i + 1..] {
                if b1 == b2 {
                    return Err(format!("{n1} and {n2} are both {}", show_byte(*b1)));
                }
            }
        }
        Ok(())
    }
}

/// A byte for an error message: `'*'`, or `0x85` when it is not printable ASCII.
pub fn show_byte(b: u8) -> String {
    match b {
        b'\n' => "'\\n'".to_string(),
        b'\r' => "'\\r'".to_string(),
        b'\t' => "'\\t'".to_string(),
        0x20..=0x7e => format!("'{}'", b as char),
        _ => format!("0x{b:02X}"),
    }
}

/// What [`detect_isa`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetectedIsa {
    pub delimiters: Delimiters,
    /// Offset just after the ISA's terminator.
    pub end: usize,
    /// Offset of the 16th element separator (the one before ISA16).
    pub isa16_separator: usize,
    /// Whether the ISA was the standard 106 bytes with separators at the standard offsets.
    pub fixed_width: bool,
    /// A component or repetition separator that also occurs inside an ISA field (ISA01–ISA10,
    /// ISA12–ISA15): legal to read, but the sender's data may be split wrongly downstream.
    pub separator_in_fields: Option<u8>,
}

/// How far to look for the 16 ISA element separators. A padded ISA is 106 bytes; unpadded ones are
/// shorter; over-long ones (line breaks inside) rarely exceed a few bytes more.
pub const ISA_WINDOW: usize = 512;

/// Offsets (relative to `I` of `ISA`) where a fixed-width ISA has its element separators.
const FIXED_SEPARATORS: [usize; 16] = [3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103];

/// The bytes that may follow a segment terminator before the next segment: CR, LF, space, tab —
/// except the terminator itself (a newline-terminated file must not skip its terminators).
pub fn is_skippable(b: u8, terminator: u8) -> bool {
    b != terminator && matches!(b, b'\r' | b'\n' | b' ' | b'\t')
}

fn err(offset: usize, detail: impl Into<String>) -> X12Error {
    let loc = Location { segment: "ISA".into(), index: 0, offset, ..Location::default() };
    X12Error::new(ErrorKind::Delimiters, loc, detail)
}

/// Detects the delimiters of the ISA that starts at `start` (`input[start..]` begins with `ISA`).
pub fn detect_isa(input: &[u8], start: usize) -> Result<DetectedIsa, X12Error> {
    let isa = input.get(start..).unwrap_or_default();
    let Some(&element) = isa.get(3) else {
        return Err(err(start, "input ends inside the ISA segment").with_expected("at least 106 bytes"));
    };
    if element.is_ascii_alphanumeric() || matches!(element, b' ' | b'\r' | b'\n' | b'\t') {
        return Err(err(start, "ISA is not followed by an element separator")
            .with_expected("a separator such as '*', '|' or '^' right after ISA")
            .with_found(show_byte(element)));
    }
    let window = &isa[..isa.len().min(ISA_WINDOW)];
    let mut seps = [0usize; 16];
    let mut count = 0;
    for (i, &b) in window.iter().enumerate().skip(3) {
        if b == element {
            seps[count] = i;
            count += 1;
            if count == 16 {
                break;
            }
        }
    }
    if count < 16 {
        return Err(err(start, "ISA does not have 16 elements")
            .with_expected("16 element separators")
            .with_found(format!("{count} within {} bytes", window.len())));
    }
    let s16 = seps[15];
    let (Some(&component), Some(&segment)) = (isa.get(s16 + 1), isa.get(s16 + 2)) else {
        return Err(err(start, "input ends inside ISA16").with_expected("ISA16 and a segment terminator"));
    };
    // ISA11 and ISA12 are the elements between separators 11–12 and 12–13.
    let isa11 = &isa[seps[10] + 1..seps[11]];
    let isa12 = &isa[seps[11] + 1..seps[12]];
    let version = std::str::from_utf8(isa12).ok().and_then(|v| v.trim().parse::<u32>().ok()).unwrap_or(0);
    let repetition = match isa11 {
        [r] if version >= 402 && !r.is_ascii_alphanumeric() && !r.is_ascii_whitespace() => Some(*r),
        _ => None,
    };
    let delimiters = Delimiters { element, component, repetition, segment, release: None };
    if let Err(problem) = delimiters.validate() {
        return Err(err(start, format!("ISA declares unusable delimiters: {problem}")).with_found(format!(
            "ISA16 {} followed by {}",
            show_byte(component),
            show_byte(segment)
        )));
    }
    if let Some(p) = isa[..s16].iter().position(|&b| b == segment) {
        return Err(err(start + p, "segment terminator occurs inside an ISA field")
            .with_expected(format!("no {} before ISA16", show_byte(segment)))
            .with_found(format!("one {p} bytes into the ISA")));
    }
    let end = s16 + 3;
    // Cross-check: after the terminator (and any line break) comes a segment id and a separator,
    // or the end of the input.
    let mut next = end;
    while next < isa.len() && is_skippable(isa[next], segment) {
        next += 1;
    }
    if next < isa.len() && !looks_like_segment_start(&isa[next..], element, segment) {
        let shown: String = isa[next..isa.len().min(next + 8)].iter().map(|&b| printable(b)).collect();
        return Err(err(start + next, "no segment starts after the ISA terminator")
            .with_expected(format!("a segment id such as GS followed by {}", show_byte(element)))
            .with_found(format!("{shown:?} after terminator {}", show_byte(segment))));
    }
    let fixed_width = seps == FIXED_SEPARATORS && isa.len() >= 106;
    let in_fields =
        |b: u8| isa[4..s16].iter().enumerate().any(|(i, &x)| x == b && !(seps[10] < i + 4 && i + 4 < seps[11]));
    let separator_in_fields = [Some(component), repetition].into_iter().flatten().find(|&b| in_fields(b));
    Ok(DetectedIsa { delimiters, end: start + end, isa16_separator: start + s16, fixed_width, separator_in_fields })
}

fn printable(b: u8) -> char {
    if (0x20..0x7f).contains(&b) { b as char } else { '.' }
}

/// `GS*`, `IEA*`, `ST|`: an upper-case id of 2–3 and then the element separator (or terminator).
fn looks_like_segment_start(rest: &[u8], element: u8, terminator: u8) -> bool {
    let id_len = rest.iter().take(3).take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit()).count();
    id_len >= 2 && rest[0].is_ascii_uppercase() && rest.get(id_len).is_none_or(|&b| b == element || b == terminator)
}

/// Detects delimiters for a bare transaction set (`ST*810*0001~…` with no ISA/GS). The component
/// separator cannot be known; `>` is assumed (or `:` if `>` is taken), which is harmless for 810s
/// because none of the mapped elements is a composite.
pub fn detect_bare_st(input: &[u8], start: usize) -> Result<Delimiters, X12Error> {
    let st = input.get(start..).unwrap_or_default();
    let Some(&element) = st.get(2) else {
        return Err(err(start, "input ends inside the ST segment"));
    };
    if element.is_ascii_alphanumeric() || element.is_ascii_whitespace() {
        return Err(err(start, "ST is not followed by an element separator").with_found(show_byte(element)));
    }
    let tail = &st[3..st.len().min(3 + ISA_WINDOW)];
    let Some(&segment) = tail.iter().find(|&&b| !(b.is_ascii_alphanumeric() || b == element || b == b' ')) else {
        return Err(err(start, "no segment terminator after ST").with_expected("a terminator such as '~'"));
    };
    let component = if segment != b'>' && element != b'>' { b'>' } else { b':' };
    let d = Delimiters { element, component, repetition: None, segment, release: None };
    d.validate().map_err(|p| err(start, format!("ST implies unusable delimiters: {p}")))?;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISA: &[u8] = b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260301*1200*U*00401*000000001*0*P*>~GS*IN*A*B~";

    #[test]
    fn fixed_width_isa() {
        let d = detect_isa(ISA, 0).unwrap();
        assert_eq!(
            d.delimiters,
            Delimiters { element: b'*', component: b'>', repetition: None, segment: b'~', release: None }
        );
        assert!(d.fixed_width);
        assert_eq!(d.end, 106);
    }

    #[test]
    fn non_fixed_width_isa() {
        let isa = b"ISA*00* *00* *16*102096559TEST *14*PARTNERTEST*071214*1406*U*00040*810000263*1*T*>~\nGS*IN";
        let d = detect_isa(isa, 0).unwrap();
        assert!(!d.fixed_width);
        assert_eq!(d.delimiters.segment, b'~');
        assert_eq!(d.delimiters.component, b'>');
    }

    #[test]
    fn repetition_separator_only_from_00402_and_not_alphanumeric() {
        let mut five = ISA.to_vec();
        five[82] = b'^';
        five[84..89].copy_from_slice(b"00501");
        assert_eq!(detect_isa(&five, 0).unwrap().delimiters.repetition, Some(b'^'));
        let mut u5010 = ISA.to_vec();
        u5010[84..89].copy_from_slice(b"00501");
        assert_eq!(detect_isa(&u5010, 0).unwrap().delimiters.repetition, None);
        let mut caret4010 = ISA.to_vec();
        caret4010[82] = b'^';
        assert_eq!(detect_isa(&caret4010, 0).unwrap().delimiters.repetition, None);
    }

    #[test]
    fn newline_terminator_and_pipe_elements() {
        let isa = ISA
            .iter()
            .map(|&b| {
                if b == b'*' {
                    b'|'
                } else if b == b'~' {
                    b'\n'
                } else {
                    b
                }
            })
            .collect::<Vec<_>>();
        let d = detect_isa(&isa, 0).unwrap();
        assert_eq!(d.delimiters.element, b'|');
        assert_eq!(d.delimiters.segment, b'\n');
    }

    #[test]
    fn component_separator_inside_an_isa_field_is_flagged() {
        let isa = b"ISA*00*          *00*          *ZZ*SEND:ER        *ZZ*RECEIVER       *260301*1200*U*00401*000000001*0*P*:~GS*IN*A*B~";
        assert_eq!(detect_isa(isa, 0).unwrap().separator_in_fields, Some(b':'));
        assert_eq!(detect_isa(ISA, 0).unwrap().separator_in_fields, None);
        let mut five = ISA.to_vec();
        five[82] = b'^';
        five[84..89].copy_from_slice(b"00501");
        assert_eq!(detect_isa(&five, 0).unwrap().separator_in_fields, None, "ISA11 itself is not a field hit");
    }

    #[test]
    fn missing_isa16_is_reported() {
        let isa = b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260301*1200*U*00401*000000001*0*P*~GS*IN*A*B~";
        let e = detect_isa(isa, 0).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Delimiters);
    }

    #[test]
    fn short_isa_is_reported_with_count() {
        let e = detect_isa(b"ISA*00*", 0).unwrap_err();
        assert!(e.to_string().contains("16 element separators"), "{e}");
    }

    #[test]
    fn release_character_escapes_delimiters() {
        let d = Delimiters::standard().with_release(b'?').unwrap();
        assert_eq!(d.find(b"STAR?*ALLIANCE*X", b'*'), Some(14));
        assert_eq!(d.find(b"A??*B", b'*'), Some(3), "an escaped release character is data");
        assert!(Delimiters::standard().with_release(b'*').is_err());
        assert!(Delimiters::standard().with_release(b'A').is_err());
    }

    #[test]
    fn bare_st() {
        let d = detect_bare_st(b"ST*810*0001~BIG*20260101*X~", 0).unwrap();
        assert_eq!((d.element, d.segment), (b'*', b'~'));
        let d = detect_bare_st(b"ST|810|0001\nBIG|20260101|X\n", 0).unwrap();
        assert_eq!((d.element, d.segment), (b'|', b'\n'));
    }
}
