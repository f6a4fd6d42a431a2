//! Byte-level segment lexer, zero-copy over the input.
//!
//! The lexer cuts the input into segments at the segment terminator, skipping line breaks and
//! blanks between segments (§3 step 6), and re-detects delimiters at every `ISA` so a file that
//! concatenates interchanges from different senders reads correctly. It never fails on a segment:
//! odd ids and stray bytes are handed on for the envelope layer to judge. The only errors are an
//! unreadable ISA (delimiters unknown) and input that starts with neither `ISA` nor `ST`.

use crate::delimiters::{Delimiters, DetectedIsa, detect_bare_st, detect_isa};
use crate::error::{ErrorKind, Location, X12Error};

/// One segment: its id, its bytes (without terminator) and where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment<'a> {
    /// Bytes before the first element separator.
    pub id: &'a [u8],
    /// The whole segment without its terminator.
    pub raw: &'a [u8],
    /// Byte offset of the first byte.
    pub offset: usize,
    /// 1-based ordinal in the file.
    pub index: usize,
    /// Offset just past the terminator (or the end of input).
    pub end: usize,
    pub delimiters: Delimiters,
    /// False for a last segment that ran into the end of input without a terminator.
    pub terminated: bool,
}

impl<'a> Segment<'a> {
    /// The id as text (ids are checked ASCII by the envelope; anything else shows lossily).
    pub fn id_str(&self) -> String {
        String::from_utf8_lossy(self.id).into_owned()
    }

    /// A location pointing at this segment.
    pub fn location(&self) -> Location {
        Location { segment: self.id_str(), index: self.index, offset: self.offset, ..Location::default() }
    }

    /// Elements 1.., each as raw bytes (empty for `**`).
    pub fn elements(&self) -> Elements<'a> {
        let rest = &self.raw[self.id.len()..];
        Elements { rest: rest.get(1..), sep: self.delimiters.element }
    }

    /// The segment's elements in a fixed array (no allocation), 1-based access.
    pub fn fields(&self) -> Fields<'a> {
        let mut f = Fields { items: [&[]; MAX_FIELDS], len: 0, extra: 0 };
        for e in self.elements() {
            if f.len < MAX_FIELDS {
                f.items[f.len] = e;
                f.len += 1;
            } else {
                f.extra += 1;
            }
        }
        f
    }

    /// Whether the id is a well-formed X12 segment id: 2–3 upper-case letters or digits, the first
    /// a letter.
    pub fn id_is_valid(&self) -> bool {
        (2..=3).contains(&self.id.len())
            && self.id[0].is_ascii_uppercase()
            && self.id.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    }
}

/// Iterator over a segment's elements.
#[derive(Debug, Clone)]
pub struct Elements<'a> {
    rest: Option<&'a [u8]>,
    sep: u8,
}

impl<'a> Iterator for Elements<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest?;
        match rest.iter().position(|&b| b == self.sep) {
            Some(p) => {
                self.rest = Some(&rest[p + 1..]);
                Some(&rest[..p])
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// Most elements any segment this library maps defines (IT1 has 25); more are counted in
/// [`Fields::extra`] and reported as too many elements.
pub const MAX_FIELDS: usize = 32;

/// A segment's elements in a fixed array.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    items: [&'a [u8]; MAX_FIELDS],
    len: usize,
    /// Elements beyond [`MAX_FIELDS`].
    pub extra: usize,
}

impl<'a> Fields<'a> {
    /// Element `n` (1-based); empty when absent.
    pub fn get(&self, n: usize) -> &'a [u8] {
        if n == 0 || n > self.len { &[] } else { self.items[n - 1] }
    }

    /// Number of elements present (trailing empty ones included when written).
    pub fn len(&self) -> usize {
        self.len + self.extra
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether element `n` has anything other than spaces.
    pub fn has(&self, n: usize) -> bool {
        self.get(n).iter().any(|&b| b != b' ')
    }
}

/// What the lexer hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lexed<'a> {
    Segment(Segment<'a>),
    /// An ISA segment and the delimiters it declared.
    Isa(Segment<'a>, DetectedIsa),
    /// An empty segment (two terminators in a row) at this offset.
    Empty(usize),
    /// A fatal error; the lexer stops after it.
    Error(X12Error),
}

/// Cuts the input into segments.
#[derive(Debug, Clone)]
pub struct Lexer<'a> {
    input: &'a [u8],
    pos: usize,
    index: usize,
    delimiters: Option<Delimiters>,
    done: bool,
    /// Whether the input started with a bare ST (no envelope).
    pub bare: bool,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

impl<'a> Lexer<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        let pos = if input.starts_with(BOM) { BOM.len() } else { 0 };
        Lexer { input, pos, index: 0, delimiters: None, done: false, bare: false }
    }

    /// The delimiters in force (after the first ISA).
    pub fn delimiters(&self) -> Option<Delimiters> {
        self.delimiters
    }

    fn skip_between_segments(&mut self) {
        let term = self.delimiters.map(|d| d.segment);
        while let Some(&b) = self.input.get(self.pos) {
            let skippable = Some(b) != term && matches!(b, b'\r' | b'\n' | b' ' | b'\t' | 0 | 0x1A);
            if !skippable {
                break;
            }
            self.pos += 1;
        }
    }

    fn starts_isa(&self) -> bool {
        let rest = &self.input[self.pos..];
        rest.starts_with(b"ISA") && rest.get(3).is_none_or(|b| !b.is_ascii_alphanumeric())
    }
}

impl<'a> Iterator for Lexer<'a> {
    type Item = Lexed<'a>;

    fn next(&mut self) -> Option<Lexed<'a>> {
        if self.done {
            return None;
        }
        self.skip_between_segments();
        if self.pos >= self.input.len() {
            self.done = true;
            return None;
        }
        let start = self.pos;
        if self.starts_isa() {
            return match detect_isa(self.input, start) {
                Ok(d) => {
                    self.delimiters = Some(d.delimiters);
                    self.index += 1;
                    self.pos = d.end;
                    let seg = Segment {
                        id: &self.input[start..start + 3],
                        raw: &self.input[start..d.isa16_separator + 2],
                        offset: start,
                        index: self.index,
                        end: d.end,
                        delimiters: d.delimiters,
                        terminated: true,
                    };
                    Some(Lexed::Isa(seg, d))
                }
                Err(mut e) => {
                    e.location.index = self.index + 1;
                    self.done = true;
                    Some(Lexed::Error(e))
                }
            };
        }
        let delimiters = match self.delimiters {
            Some(d) => d,
            None => {
                let rest = &self.input[start..];
                if !rest.starts_with(b"ST") {
                    self.done = true;
                    let shown = String::from_utf8_lossy(&rest[..rest.len().min(16)]).into_owned();
                    return Some(Lexed::Error(
                        X12Error::new(
                            ErrorKind::NoInterchange,
                            Location::at_offset(start),
                            "input does not start with an interchange",
                        )
                        .with_expected("ISA (or a bare ST)")
                        .with_found(format!("{shown:?}")),
                    ));
                }
                match detect_bare_st(self.input, start) {
                    Ok(d) => {
                        self.bare = true;
                        self.delimiters = Some(d);
                        d
                    }
                    Err(e) => {
                        self.done = true;
                        return Some(Lexed::Error(e));
                    }
                }
            }
        };
        let rest = &self.input[start..];
        let (mut content, end, terminated) = match rest.iter().position(|&b| b == delimiters.segment) {
            Some(p) => (&rest[..p], start + p + 1, true),
            None => (rest, self.input.len(), false),
        };
        self.pos = end;
        while let [head @ .., b'\r' | b'\n' | b' ' | b'\t' | 0 | 0x1A] = content {
            content = head;
        }
        if content.is_empty() {
            return Some(Lexed::Empty(start));
        }
        let id_len = content.iter().position(|&b| b == delimiters.element).unwrap_or(content.len());
        self.index += 1;
        Some(Lexed::Segment(Segment {
            id: &content[..id_len],
            raw: content,
            offset: start,
            index: self.index,
            end,
            delimiters,
            terminated,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(input: &[u8]) -> Vec<String> {
        Lexer::new(input)
            .map(|l| match l {
                Lexed::Segment(s) | Lexed::Isa(s, _) => s.id_str(),
                Lexed::Empty(_) => "<empty>".into(),
                Lexed::Error(e) => format!("<error {e}>"),
            })
            .collect()
    }

    const ISA: &str =
        "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260301*1200*U*00401*000000001*0*P*>~";

    #[test]
    fn skips_crlf_bom_and_blanks() {
        let input = format!("\u{feff}  \r\n{ISA}\r\nGS*IN~\r\n  ST*810*1~~SE*2*1~\n");
        assert_eq!(ids(input.as_bytes()), ["ISA", "GS", "ST", "<empty>", "SE"]);
    }

    #[test]
    fn newline_terminator_keeps_trailing_cr_out() {
        let isa = ISA.replace('~', "\n");
        let input = format!("{isa}GS*IN\r\nST*810*1\r\n");
        let segs: Vec<_> = Lexer::new(input.as_bytes())
            .filter_map(|l| if let Lexed::Segment(s) = l { Some(s) } else { None })
            .collect();
        assert_eq!(segs.len(), 2);
        assert_eq!(segs[1].raw, b"ST*810*1");
    }

    #[test]
    fn elements_and_fields() {
        let input = format!("{ISA}IT1**4**70*VC*123~");
        let seg = Lexer::new(input.as_bytes())
            .filter_map(|l| if let Lexed::Segment(s) = l { Some(s) } else { None })
            .next()
            .unwrap();
        let f = seg.fields();
        assert_eq!(f.len(), 6);
        assert_eq!(f.get(1), b"");
        assert_eq!(f.get(2), b"4");
        assert_eq!(f.get(6), b"123");
        assert_eq!(f.get(7), b"");
        assert!(seg.id_is_valid());
    }

    #[test]
    fn garbage_start_is_an_error() {
        let out = ids(b"hello world");
        assert_eq!(out.len(), 1);
        assert!(out[0].contains("does not start with an interchange"), "{out:?}");
    }

    #[test]
    fn bare_st_without_envelope() {
        assert_eq!(ids(b"ST*810*0001~BIG*20260101*X~SE*3*0001~"), ["ST", "BIG", "SE"]);
    }

    #[test]
    fn missing_final_terminator() {
        let input = format!("{ISA}IEA*1*000000001");
        let last = Lexer::new(input.as_bytes()).last().unwrap();
        match last {
            Lexed::Segment(s) => {
                assert!(!s.terminated);
                assert_eq!(s.raw, b"IEA*1*000000001");
            }
            other => panic!("{other:?}"),
        }
    }
}
