//! Streaming: read a file of any size from a [`Read`] one transaction set at a time, so peak memory
//! stays near the largest set (plus a read buffer), not the file.
//!
//! [`Reader::next_event`] hands out, in file order:
//! - [`Event::InterchangeStart`] at each ISA (its header: check ISA13 against what the partner
//!   already sent before reading further, [`crate::resend`]);
//! - [`Event::Set`] for each transaction set, borrowed from the reader's buffer until the next call
//!   (map it to what you keep — an `ApInvoice` — before asking for the next event);
//! - [`Event::GroupEnd`] at each GE (or where a group was cut off): the group's header, findings
//!   and one [`SetSummary`](crate::envelope::SetSummary) per set — what its 997 needs
//!   ([`crate::acknowledge::acknowledge`]);
//! - [`Event::InterchangeEnd`] at each IEA: the interchange with its groups' headers (not their
//!   sets), its TA1s and service segments — what the response interchange needs
//!   ([`crate::acknowledge::respond`]);
//! - [`Event::End`] once, with the file-level findings.
//!
//! A set's own verdict is final when it is handed out; its group's and interchange's come with
//! their end events (a GE count that does not match rejects the whole group), so a consumer that
//! posts invoices holds what it mapped until the interchange ends.
//!
//! The reader uses the same lexer step and the same envelope machine as [`crate::parse`]: for any
//! input both report the same findings (a test holds them to it).

use std::collections::VecDeque;
use std::io::{self, Read};

use crate::delimiters::Delimiters;
use crate::envelope::{Closed, Group, Interchange, Machine, Route, SetRef, TransactionSet, route};
use crate::error::{Findings, Location, X12Error};
use crate::headers::{IsaHeader, ParseOptions};
use crate::lexer::{LexState, Segment, Step, step};

/// How much the reader asks of the inner reader at a time.
pub const CHUNK: usize = 64 * 1024;

/// What went wrong reading the stream.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("cannot read the input: {0}")]
    Io(#[from] io::Error),
    /// Nothing could be read: no ISA (or bare ST) at the start, or an unusable first ISA.
    #[error("{0}")]
    Unreadable(X12Error),
}

/// One transaction set and its envelope, borrowed from the reader.
#[derive(Debug)]
pub struct SetEvent<'r> {
    pub set: TransactionSet<'r>,
    /// The set's bytes, ST through SE.
    pub input: &'r [u8],
    /// The open interchange and group (their trailers are still to come).
    pub interchange: Option<&'r Interchange<'static>>,
    pub group: Option<&'r Group<'static>>,
}

impl<'r> SetEvent<'r> {
    /// The set as the domain mapping and the CLI take it.
    pub fn set_ref(&self) -> SetRef<'_, 'r> {
        SetRef { input: self.input, interchange: self.interchange, group: self.group, set: &self.set }
    }
}

/// What the reader hands out.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "returned one at a time, never stored; boxing a set would cost an allocation per set"
)]
pub enum Event<'r> {
    InterchangeStart(Box<IsaHeader>),
    Set(SetEvent<'r>),
    GroupEnd(Box<Group<'static>>),
    InterchangeEnd(Box<Interchange<'static>>),
    End(Findings),
}

enum Pending {
    InterchangeStart(Box<IsaHeader>),
    GroupEnd(Box<Group<'static>>),
    InterchangeEnd(Box<Interchange<'static>>),
    End(Findings),
}

/// A segment found while framing a set, relative to the frame start.
#[derive(Debug, Clone, Copy)]
struct Bound {
    start: usize,
    content_end: usize,
    end: usize,
    terminated: bool,
    delimiters: Delimiters,
}

/// A segment over a bound; `buf` starts at the frame start, which is `base` in the input.
fn make_segment<'b>(buf: &'b [u8], base: usize, b: &Bound, index: usize) -> Segment<'b> {
    Segment::new(&buf[b.start..b.content_end], base + b.start, index, base + b.end, b.delimiters, b.terminated)
}

/// Closes the machine at the end of input: its open levels and the file-level findings.
fn end_into(m: &mut Machine, pending: &mut VecDeque<Pending>, len: usize) {
    m.finish(len);
    for c in m.take_closed() {
        pending.push_back(match c {
            Closed::Group(g) => Pending::GroupEnd(g),
            Closed::Interchange(ic) => Pending::InterchangeEnd(ic),
        });
    }
    pending.push_back(Pending::End(m.take_file_findings()));
}

/// How a framed set ends.
enum FrameEnd {
    /// With its SE (the last bound).
    Closed,
    /// Cut off before the segment at this relative offset, which has this id.
    Cut { at: usize, id: String },
    /// Cut off by the end of input.
    Eof,
    /// Cut off by input the lexer cannot read.
    Error(X12Error),
}

/// Reads X12 from a `Read`, one set at a time.
pub struct Reader<R: Read> {
    inner: R,
    eof: bool,
    buf: Vec<u8>,
    /// Absolute offset of `buf[0]` in the input.
    base: usize,
    /// Position in `buf` of the next unread byte.
    pos: usize,
    lex: LexState,
    /// Segments counted so far.
    index: usize,
    m: Machine,
    pending: VecDeque<Pending>,
    frame: Vec<Bound>,
    started: bool,
    finished: bool,
    /// A lexer error that cut the last set off: recorded, and the input ended, after that set.
    deferred_error: Option<X12Error>,
    /// Bytes read from the inner reader, for the peak buffer figure.
    peak_buffer: usize,
}

impl<R: Read> Reader<R> {
    pub fn new(inner: R) -> Self {
        Self::with_options(inner, ParseOptions::default())
    }

    pub fn with_options(inner: R, opts: ParseOptions) -> Self {
        Reader {
            inner,
            eof: false,
            buf: Vec::with_capacity(CHUNK),
            base: 0,
            pos: 0,
            lex: LexState::default(),
            index: 0,
            m: Machine::new(opts),
            pending: VecDeque::new(),
            frame: Vec::new(),
            started: false,
            finished: false,
            deferred_error: None,
            peak_buffer: 0,
        }
    }

    /// The largest the read buffer has been, in bytes: about the largest set plus one chunk.
    pub fn peak_buffer(&self) -> usize {
        self.peak_buffer
    }

    /// Reads more input, first dropping what has been consumed (everything before `self.pos`).
    /// Positions relative to `self.pos` stay valid. Returns false at the end of input.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.base += self.pos;
            self.pos = 0;
        }
        let len = self.buf.len();
        self.buf.resize(len + CHUNK, 0);
        let n = loop {
            match self.inner.read(&mut self.buf[len..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.truncate(len);
                    return Err(e);
                }
            }
        };
        self.buf.truncate(len + n);
        self.peak_buffer = self.peak_buffer.max(self.buf.capacity());
        if n == 0 {
            self.eof = true;
        }
        Ok(n > 0)
    }

    /// One lexer step at `rel` (relative to `self.pos`), reading more input as needed.
    fn step_at(&mut self, rel: &mut usize) -> io::Result<Step> {
        loop {
            let s = step(&self.buf[self.pos..], rel, self.eof, &mut self.lex);
            if s != Step::NeedMore {
                return Ok(s);
            }
            self.fill()?;
        }
    }

    fn absolute(&self, rel: usize) -> usize {
        self.base + self.pos + rel
    }

    /// A lexer error's location in the input: its offset was relative to the frame, and the
    /// segment it is in comes after `index` segments.
    fn fix_error(&self, mut e: X12Error, index: usize) -> X12Error {
        e.location.offset += self.base + self.pos;
        if e.location.index == 0 && !e.location.segment.is_empty() {
            e.location.index = index + 1;
        }
        e
    }

    fn queue_closed(&mut self) {
        for c in self.m.take_closed() {
            self.pending.push_back(match c {
                Closed::Group(g) => Pending::GroupEnd(g),
                Closed::Interchange(ic) => Pending::InterchangeEnd(ic),
            });
        }
    }

    fn end(&mut self) {
        end_into(&mut self.m, &mut self.pending, self.base + self.buf.len());
        self.finished = true;
    }

    /// The next event, or `None` after [`Event::End`].
    pub fn next_event(&mut self) -> Result<Option<Event<'_>>, StreamError> {
        loop {
            if let Some(p) = self.pending.pop_front() {
                return Ok(Some(match p {
                    Pending::InterchangeStart(h) => Event::InterchangeStart(h),
                    Pending::GroupEnd(g) => Event::GroupEnd(g),
                    Pending::InterchangeEnd(ic) => Event::InterchangeEnd(ic),
                    Pending::End(f) => Event::End(f),
                }));
            }
            if self.finished {
                return Ok(None);
            }
            if let Some(e) = self.deferred_error.take() {
                self.m.file_error(e);
                self.end();
                continue;
            }
            if self.m.over_budget() {
                self.end();
                continue;
            }
            let mut rel = 0;
            match self.step_at(&mut rel)? {
                Step::NeedMore => {}
                Step::End => {
                    self.pos += rel;
                    if !self.started {
                        let e = X12Error::new(
                            crate::error::ErrorKind::NoInterchange,
                            Location::at_offset(0),
                            "input is empty or only whitespace",
                        )
                        .with_expected("ISA (or a bare ST)");
                        return Err(StreamError::Unreadable(e));
                    }
                    self.end();
                }
                Step::Error(e) => {
                    let e = self.fix_error(e, self.index);
                    if !self.started {
                        return Err(StreamError::Unreadable(e));
                    }
                    self.m.file_error(e);
                    self.end();
                }
                Step::Empty { end, .. } => {
                    self.started = true;
                    self.m.empty_segment();
                    self.pos += end;
                }
                Step::Isa { start, detected } => {
                    self.started = true;
                    self.index += 1;
                    let abs = self.absolute(start);
                    let raw = &self.buf[self.pos + start..self.pos + detected.isa16_separator + 2];
                    let mut d = detected;
                    d.end += self.base + self.pos;
                    d.isa16_separator += self.base + self.pos;
                    let seg = Segment::new(raw, abs, self.index, d.end, d.delimiters, true);
                    self.m.isa(&seg, &d);
                    self.pos += detected.end;
                    self.queue_closed();
                    if let Some(ic) = self.m.interchange() {
                        self.pending.push_back(Pending::InterchangeStart(Box::new(ic.header.clone())));
                    }
                }
                Step::Segment { start, content_end, end, terminated } => {
                    let first = !self.started;
                    self.started = true;
                    let d = self.lex.delimiters.unwrap_or(Delimiters::standard());
                    let bound = Bound { start, content_end, end, terminated, delimiters: d };
                    let base = self.base + self.pos;
                    let buf = &self.buf[self.pos..];
                    if first && self.lex.bare {
                        self.m.bare_start(&make_segment(buf, base, &bound, self.index + 1));
                    }
                    let is_st = route(make_segment(buf, base, &bound, 0).id, false) == Route::Start;
                    if is_st && self.m.accepts_set() {
                        return self.read_set(bound).map(Some);
                    }
                    self.index += 1;
                    let seg = make_segment(buf, base, &bound, self.index);
                    match route(seg.id, false) {
                        Route::Start => {
                            // ST outside a group: reported by the machine, no set opened.
                            let _ = self.m.st(seg);
                        }
                        Route::End => self.m.stray(&seg, "SE without a matching ST"),
                        Route::Envelope | Route::InSet => {
                            if let Some(release) = self.m.envelope(&seg) {
                                let _ = self.lex.set_release(release);
                            }
                        }
                    }
                    self.pos += end;
                    self.queue_closed();
                }
            }
        }
    }

    /// Frames the set that starts with `st` (relative bounds), reading until its SE or whatever
    /// cuts it off, then runs it through the machine and hands it out.
    fn read_set(&mut self, st: Bound) -> Result<Event<'_>, StreamError> {
        let mut frame = std::mem::take(&mut self.frame);
        frame.clear();
        frame.push(st);
        let mut scan = st.end;
        let end = loop {
            let before = scan;
            match self.step_at(&mut scan)? {
                Step::NeedMore => {}
                Step::End => break FrameEnd::Eof,
                Step::Error(e) => {
                    scan = before;
                    // Indexed once the set's segments are counted, below.
                    let mut e = e;
                    e.location.offset += self.base + self.pos;
                    break FrameEnd::Error(e);
                }
                Step::Empty { .. } => self.m.empty_segment(),
                Step::Isa { start, .. } => {
                    scan = start;
                    break FrameEnd::Cut { at: start, id: "ISA".into() };
                }
                Step::Segment { start, content_end, end, terminated } => {
                    let d = self.lex.delimiters.unwrap_or(Delimiters::standard());
                    let content = &self.buf[self.pos + start..self.pos + content_end];
                    let id = &content[..d.find(content, d.element).unwrap_or(content.len())];
                    match route(id, true) {
                        Route::InSet => frame.push(Bound { start, content_end, end, terminated, delimiters: d }),
                        Route::End => {
                            frame.push(Bound { start, content_end, end, terminated, delimiters: d });
                            break FrameEnd::Closed;
                        }
                        Route::Start | Route::Envelope => {
                            let id = String::from_utf8_lossy(id).into_owned();
                            scan = start;
                            break FrameEnd::Cut { at: start, id };
                        }
                    }
                }
            }
        };
        // Build the set from the framed bounds: the buffer is only read from here on.
        let base = self.base + self.pos;
        let total = self.base + self.buf.len();
        let buf = &self.buf[self.pos..];
        let m = &mut self.m;
        let mut index = self.index + 1;
        let body_end = match end {
            FrameEnd::Closed => frame.len() - 1,
            _ => frame.len(),
        };
        let mut open = m.open_set(make_segment(buf, base, &frame[0], index));
        for b in &frame[1..body_end] {
            index += 1;
            m.set_segment(&mut open, make_segment(buf, base, b, index));
        }
        let (set, error) = match end {
            FrameEnd::Closed => {
                index += 1;
                let last = &frame[frame.len() - 1];
                (m.se(open, &make_segment(buf, base, last, index)), None)
            }
            FrameEnd::Cut { at, id } => {
                let loc = Location { segment: id, index: index + 1, offset: base + at, ..Location::default() };
                (m.cut_set(open, &loc), None)
            }
            FrameEnd::Eof => {
                let at = m.eof_location(total);
                (m.cut_set(open, &at), None)
            }
            FrameEnd::Error(mut e) => {
                if e.location.index == 0 && !e.location.segment.is_empty() {
                    e.location.index = index + 1;
                }
                let at = m.eof_location(e.location.offset);
                (m.cut_set(open, &at), Some(e))
            }
        };
        self.deferred_error = error;
        self.index = index;
        // The set's bytes, as `parse` gives them: ST through SE, or to where it was cut off.
        let (from, to) = (set.bytes.start.saturating_sub(base), set.bytes.end.saturating_sub(base));
        let input = buf.get(from..to.max(from)).unwrap_or_default();
        self.pos += scan;
        self.frame = frame;
        Ok(Event::Set(SetEvent { set, input, interchange: self.m.interchange(), group: self.m.group() }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out one byte at a time: every boundary case of refilling.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            match (self.0.split_first(), out.first_mut()) {
                (Some((b, rest)), Some(o)) => {
                    *o = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    const FILE: &str = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260301*1200*U*00401*000000007*0*P*>~\n\
GS*IN*SE*RE*20260301*1200*7*X*004010~\nST*810*0001~\nBIG*20260301*INV-1~\nIT1*1*2*EA*5~\nTDS*1000~\nSE*5*0001~\n\
ST*810*0002~\nBIG*20260301*INV-2~\nIT1*1*2*EA*5~\nTDS*1000~\nSE*5*0002~\nGE*2*7~\nIEA*1*000000007~\n";

    #[test]
    fn events_in_file_order_even_one_byte_at_a_time() {
        let mut r = Reader::new(Trickle(FILE.as_bytes()));
        let mut seen = Vec::new();
        while let Some(e) = r.next_event().unwrap() {
            seen.push(match e {
                Event::InterchangeStart(h) => format!("ISA {}", h.control),
                Event::Set(s) => {
                    assert_eq!(s.input.first(), Some(&b'S'));
                    assert!(s.input.ends_with(b"~"));
                    format!("ST {} {}", s.set.header.control, s.set.invoice().unwrap().invoice_number)
                }
                Event::GroupEnd(g) => format!("GE {} {}", g.header.control, g.summaries.len()),
                Event::InterchangeEnd(ic) => format!("IEA {} {}", ic.header.control, ic.groups.len()),
                Event::End(f) => format!("END {}", f.errors.len()),
            });
        }
        assert_eq!(seen, ["ISA 000000007", "ST 0001 INV-1", "ST 0002 INV-2", "GE 7 2", "IEA 000000007 1", "END 0"]);
    }

    #[test]
    fn unreadable_start_is_an_error() {
        let mut r = Reader::new(&b"hello"[..]);
        assert!(matches!(r.next_event(), Err(StreamError::Unreadable(_))));
        let mut r = Reader::new(&b"  \n"[..]);
        assert!(matches!(r.next_event(), Err(StreamError::Unreadable(_))));
    }
}
