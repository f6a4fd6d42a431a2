//! Byte-level segment lexer, zero-copy over the input, resumable for streams.
//!
//! The lexer cuts the input into segments at the segment terminator, skipping line breaks and
//! blanks between segments (§3 step 6), and re-detects delimiters at every `ISA` so a file that
//! concatenates interchanges from different senders reads correctly. It never fails on a segment:
//! odd ids and stray bytes are handed on for the envelope layer to judge. The only errors are an
//! unreadable ISA (delimiters unknown) and input that starts with neither `ISA` nor `ST`.
//!
//! [`step`] is the whole algorithm, over a buffer that may end mid-segment: it answers
//! [`Step::NeedMore`] until the segment (or the ISA's detection window) is complete or the input
//! has ended. [`Lexer`] runs it over a slice that holds the whole input; the streaming reader
//! ([`crate::stream`]) runs it over a buffer it refills from a `Read`. One algorithm, two drivers.
//!
//! A release character (declared by an ISX segment, 007040+) escapes the byte after it: the
//! terminator and separators are searched with [`Delimiters::find`], which skips escaped bytes.

use crate::delimiters::{Delimiters, DetectedIsa, detect_bare_st, detect_isa};
use crate::error::{ErrorKind, Location, X12Error};

/// One segment: its id, its bytes (without terminator) and where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment<'a> {
    /// Bytes before the first element separator.
    pub id: &'a [u8],
    /// The whole segment without its terminator.
    pub raw: &'a [u8],
    /// Byte offset of the first byte in the input.
    pub offset: usize,
    /// 1-based ordinal in the input.
    pub index: usize,
    /// Offset just past the terminator (or the end of input).
    pub end: usize,
    pub delimiters: Delimiters,
    /// False for a last segment that ran into the end of input without a terminator.
    pub terminated: bool,
}

impl<'a> Segment<'a> {
    /// A segment over `content` (terminator and trailing blanks already cut off).
    pub fn new(
        content: &'a [u8],
        offset: usize,
        index: usize,
        end: usize,
        delimiters: Delimiters,
        terminated: bool,
    ) -> Self {
        let id_len = delimiters.find(content, delimiters.element).unwrap_or(content.len());
        Segment { id: &content[..id_len], raw: content, offset, index, end, delimiters, terminated }
    }

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
        Elements { rest: rest.get(1..), delimiters: self.delimiters }
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
    delimiters: Delimiters,
}

impl<'a> Iterator for Elements<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest?;
        match self.delimiters.find(rest, self.delimiters.element) {
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

/// Most elements any segment this library reads defines (IT1 has 25); more are counted in
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

/// Where the lexer is, between calls to [`step`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LexState {
    /// The delimiters in force (after the first ISA, or a bare ST).
    pub delimiters: Option<Delimiters>,
    /// Whether the input started with a bare ST (no envelope).
    pub bare: bool,
    /// Whether a leading byte-order mark has been looked for.
    started: bool,
}

impl LexState {
    /// Sets the release character (from an ISX) for the rest of the interchange.
    pub fn set_release(&mut self, release: u8) -> Result<(), String> {
        match self.delimiters {
            Some(d) => {
                self.delimiters = Some(d.with_release(release)?);
                Ok(())
            }
            None => Err("no interchange is open".into()),
        }
    }
}

/// One step of the lexer over `buf[*pos..]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A segment: `buf[start..content_end]` without terminator or trailing blanks; the next
    /// segment starts at or after `end`.
    Segment { start: usize, content_end: usize, end: usize, terminated: bool },
    /// An ISA at `start` and what it declared (`detected.end` is past its terminator).
    Isa { start: usize, detected: DetectedIsa },
    /// Two terminators in a row.
    Empty { start: usize, end: usize },
    /// The buffer ends before the segment does; call again with more bytes (or `eof`).
    NeedMore,
    /// The input is exhausted.
    End,
    /// The input cannot be read on from here.
    Error(X12Error),
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Bytes the ISA detection (and the bare-ST detection) may look at: the ISA window plus the start
/// of the next segment.
pub const LOOKAHEAD: usize = crate::delimiters::ISA_WINDOW + 16;

fn skippable(b: u8, term: Option<u8>) -> bool {
    Some(b) != term && matches!(b, b'\r' | b'\n' | b' ' | b'\t' | 0 | 0x1A)
}

/// Finds the next segment in `buf[*pos..]`, advancing `*pos` past any blanks between segments.
/// With `eof` false, answers [`Step::NeedMore`] instead of guessing at a cut-off segment.
pub fn step(buf: &[u8], pos: &mut usize, eof: bool, st: &mut LexState) -> Step {
    if !st.started {
        let rest = &buf[*pos..];
        if rest.len() < BOM.len() && !eof && BOM.starts_with(rest) {
            return Step::NeedMore;
        }
        if rest.starts_with(BOM) {
            *pos += BOM.len();
        }
        st.started = true;
    }
    let term = st.delimiters.map(|d| d.segment);
    while *pos < buf.len() && skippable(buf[*pos], term) {
        *pos += 1;
    }
    if *pos >= buf.len() {
        return if eof { Step::End } else { Step::NeedMore };
    }
    let start = *pos;
    let rest = &buf[start..];
    if rest.len() < 4 && !eof && b"ISA".starts_with(&rest[..rest.len().min(3)]) {
        return Step::NeedMore;
    }
    let is_isa = rest.starts_with(b"ISA") && rest.get(3).is_none_or(|b| !b.is_ascii_alphanumeric());
    if is_isa {
        if rest.len() < LOOKAHEAD && !eof {
            return Step::NeedMore;
        }
        return match detect_isa(buf, start) {
            Ok(d) => {
                st.delimiters = Some(d.delimiters);
                *pos = d.end;
                Step::Isa { start, detected: d }
            }
            Err(e) => Step::Error(e),
        };
    }
    let delimiters = match st.delimiters {
        Some(d) => d,
        None => {
            if rest.len() < 2 && !eof {
                return Step::NeedMore;
            }
            if !rest.starts_with(b"ST") {
                if rest.len() < 16 && !eof {
                    // The error quotes up to 16 bytes: wait for them.
                    return Step::NeedMore;
                }
                let shown = String::from_utf8_lossy(&rest[..rest.len().min(16)]).into_owned();
                return Step::Error(
                    X12Error::new(
                        ErrorKind::NoInterchange,
                        Location::at_offset(start),
                        "input does not start with an interchange",
                    )
                    .with_expected("ISA (or a bare ST)")
                    .with_found(format!("{shown:?}")),
                );
            }
            if rest.len() < LOOKAHEAD && !eof {
                return Step::NeedMore;
            }
            match detect_bare_st(buf, start) {
                Ok(d) => {
                    st.bare = true;
                    st.delimiters = Some(d);
                    d
                }
                Err(e) => return Step::Error(e),
            }
        }
    };
    let (mut content_end, end, terminated) = match delimiters.find(rest, delimiters.segment) {
        Some(p) => (start + p, start + p + 1, true),
        None if eof => (buf.len(), buf.len(), false),
        None => return Step::NeedMore,
    };
    *pos = end;
    while content_end > start && matches!(buf[content_end - 1], b'\r' | b'\n' | b' ' | b'\t' | 0 | 0x1A) {
        content_end -= 1;
    }
    if content_end == start {
        return Step::Empty { start, end };
    }
    Step::Segment { start, content_end, end, terminated }
}

/// Cuts a whole input held in memory into segments.
#[derive(Debug, Clone)]
pub struct Lexer<'a> {
    input: &'a [u8],
    pos: usize,
    index: usize,
    state: LexState,
    done: bool,
}

impl<'a> Lexer<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        Lexer { input, pos: 0, index: 0, state: LexState::default(), done: false }
    }

    /// The delimiters in force (after the first ISA).
    pub fn delimiters(&self) -> Option<Delimiters> {
        self.state.delimiters
    }

    /// Whether the input started with a bare ST (no envelope).
    pub fn bare(&self) -> bool {
        self.state.bare
    }

    /// Sets the release character an ISX declared, for the rest of the interchange.
    pub fn set_release(&mut self, release: u8) -> Result<(), String> {
        self.state.set_release(release)
    }
}

impl<'a> Iterator for Lexer<'a> {
    type Item = Lexed<'a>;

    fn next(&mut self) -> Option<Lexed<'a>> {
        if self.done {
            return None;
        }
        match step(self.input, &mut self.pos, true, &mut self.state) {
            Step::End | Step::NeedMore => {
                self.done = true;
                None
            }
            Step::Error(mut e) => {
                self.done = true;
                if e.location.index == 0 && !e.location.segment.is_empty() {
                    e.location.index = self.index + 1;
                }
                Some(Lexed::Error(e))
            }
            Step::Empty { start, .. } => Some(Lexed::Empty(start)),
            Step::Isa { start, detected } => {
                self.index += 1;
                let raw = &self.input[start..detected.isa16_separator + 2];
                Some(Lexed::Isa(
                    Segment::new(raw, start, self.index, detected.end, detected.delimiters, true),
                    detected,
                ))
            }
            Step::Segment { start, content_end, end, terminated } => {
                self.index += 1;
                let d = self.state.delimiters.unwrap_or(Delimiters::standard());
                Some(Lexed::Segment(Segment::new(
                    &self.input[start..content_end],
                    start,
                    self.index,
                    end,
                    d,
                    terminated,
                )))
            }
        }
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

    #[test]
    fn release_character_keeps_escaped_delimiters_in_the_data() {
        let input = format!("{ISA}N1*SE*STAR?*ALLIANCE?~CO~SE*1~");
        let mut lx = Lexer::new(input.as_bytes());
        assert!(matches!(lx.next(), Some(Lexed::Isa(..))));
        lx.set_release(b'?').unwrap();
        let Some(Lexed::Segment(s)) = lx.next() else { panic!() };
        assert_eq!(s.raw, b"N1*SE*STAR?*ALLIANCE?~CO");
        assert_eq!(s.fields().get(2), b"STAR?*ALLIANCE?~CO");
        assert!(matches!(lx.next(), Some(Lexed::Segment(s)) if s.id == b"SE"));
    }

    #[test]
    fn step_asks_for_more_instead_of_guessing() {
        let input = format!("{ISA}GS*IN*A*B~ST*810*0001~BIG*2026");
        let mut st = LexState::default();
        let mut pos = 0;
        let bytes = input.as_bytes();
        // The ISA window is not complete in a short buffer until the input has ended.
        assert_eq!(step(&bytes[..50], &mut pos, false, &mut st), Step::NeedMore);
        assert!(matches!(step(bytes, &mut pos, true, &mut st), Step::Isa { .. }));
        assert!(matches!(step(bytes, &mut pos, false, &mut st), Step::Segment { .. }));
        assert!(matches!(step(bytes, &mut pos, false, &mut st), Step::Segment { .. }));
        let before = pos;
        assert_eq!(step(bytes, &mut pos, false, &mut st), Step::NeedMore, "BIG has no terminator yet");
        assert_eq!(pos, before, "nothing consumed");
        assert!(matches!(step(bytes, &mut pos, true, &mut st), Step::Segment { terminated: false, .. }));
        assert_eq!(step(bytes, &mut pos, true, &mut st), Step::End);
    }
}
