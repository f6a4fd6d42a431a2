//! Writing X12: segments with one set of delimiters, the fixed-width ISA, and the errors a
//! writer can meet. The 810 renderer, the 997 and TA1 writers all use it, so every outbound
//! file has the same shape (trailing empty elements dropped, delimiter bytes never inside data).

use chrono::{Datelike, NaiveDateTime, Timelike};
use serde::{Deserialize, Serialize};

use crate::control::ControlError;
use crate::delimiters::{Delimiters, show_byte};
use crate::headers::Release;

/// ISA15.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Usage {
    #[default]
    Production,
    Test,
    Information,
}

impl Usage {
    pub fn code(self) -> &'static str {
        match self {
            Usage::Production => "P",
            Usage::Test => "T",
            Usage::Information => "I",
        }
    }

    pub fn from_code(code: &str) -> Option<Usage> {
        match code {
            "P" => Some(Usage::Production),
            "T" => Some(Usage::Test),
            "I" => Some(Usage::Information),
            _ => None,
        }
    }
}

/// What follows each segment terminator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LineEnding {
    None,
    #[default]
    Lf,
    CrLf,
}

impl LineEnding {
    fn bytes(self) -> &'static [u8] {
        match self {
            LineEnding::None => b"",
            LineEnding::Lf => b"\n",
            LineEnding::CrLf => b"\r\n",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("nothing to render: no invoices")]
    NoInvoices,
    #[error("partner profile: {0}")]
    Profile(String),
    #[error("invoice {invoice}: {field}: {problem}")]
    Field { invoice: String, field: String, problem: String },
    #[error(transparent)]
    Control(#[from] ControlError),
}

/// Writes segments with one set of delimiters.
pub struct Writer {
    pub out: Vec<u8>,
    d: Delimiters,
    eol: &'static [u8],
    /// Segments written since the last [`Writer::start_count`].
    pub count: usize,
    /// Data bytes replaced because they were delimiters or line breaks.
    pub cleaned: usize,
}

impl Writer {
    pub fn new(d: Delimiters, line_ending: LineEnding) -> Self {
        let eol = if matches!(d.segment, b'\n' | b'\r') { b"" } else { line_ending.bytes() };
        Writer { out: Vec::with_capacity(4096), d, eol, count: 0, cleaned: 0 }
    }

    /// Data bytes that would end an element or segment are replaced by a space.
    fn push_clean(&mut self, s: &str) {
        for &b in s.as_bytes() {
            let bad = self.d.is_delimiter(b) || b == b'\r' || b == b'\n';
            self.cleaned += usize::from(bad);
            self.out.push(if bad { b' ' } else { b });
        }
    }

    /// One segment; trailing empty elements are dropped.
    pub fn seg(&mut self, id: &str, elements: &[&str]) {
        let used = elements.iter().rposition(|e| !e.is_empty()).map_or(0, |p| p + 1);
        self.out.extend_from_slice(id.as_bytes());
        for e in &elements[..used] {
            self.out.push(self.d.element);
            self.push_clean(e);
        }
        self.end();
    }

    /// One segment whose elements may be composites: each element is its components, written
    /// with the component separator between them; trailing empty elements are dropped.
    pub fn seg_composite(&mut self, id: &str, elements: &[&[&str]]) {
        let used = elements.iter().rposition(|e| e.iter().any(|c| !c.is_empty())).map_or(0, |p| p + 1);
        self.out.extend_from_slice(id.as_bytes());
        for e in &elements[..used] {
            self.out.push(self.d.element);
            let parts = e.iter().rposition(|c| !c.is_empty()).map_or(0, |p| p + 1);
            for (i, c) in e[..parts].iter().enumerate() {
                if i > 0 {
                    self.out.push(self.d.component);
                }
                self.push_clean(c);
            }
        }
        self.end();
    }

    fn end(&mut self) {
        self.out.push(self.d.segment);
        self.out.extend_from_slice(self.eol);
        self.count += 1;
    }

    pub fn start_count(&mut self) {
        self.count = 0;
    }

    /// The ISA, fixed width. Values are checked by the caller.
    #[allow(clippy::too_many_arguments)]
    pub fn isa(
        &mut self,
        sender: (&str, &str),
        receiver: (&str, &str),
        now: NaiveDateTime,
        release: &Release,
        control: u32,
        ack_requested: bool,
        usage: &str,
    ) {
        let isa11 = match self.d.repetition {
            Some(r) => (r as char).to_string(),
            None => "U".to_string(),
        };
        let date = format!("{:02}{:02}{:02}", now.year().rem_euclid(100), now.month(), now.day());
        let time = format!("{:02}{:02}", now.hour(), now.minute());
        let fields = [
            "00".to_string(),
            " ".repeat(10),
            "00".to_string(),
            " ".repeat(10),
            sender.0.to_string(),
            format!("{:<15}", sender.1),
            receiver.0.to_string(),
            format!("{:<15}", receiver.1),
            date,
            time,
            isa11,
            release.isa12().to_string(),
            format!("{control:09}"),
            if ack_requested { "1" } else { "0" }.to_string(),
            usage.to_string(),
        ];
        self.out.extend_from_slice(b"ISA");
        for f in &fields {
            self.out.push(self.d.element);
            self.out.extend_from_slice(f.as_bytes());
        }
        self.out.push(self.d.element);
        self.out.push(self.d.component);
        self.end();
    }
}

/// Checks an ISA id/qualifier pair: qualifier 2 characters, id 1–15, no delimiters.
pub fn check_isa_party(what: &str, qualifier: &str, id: &str, d: &Delimiters) -> Result<(), RenderError> {
    if qualifier.len() != 2 || !qualifier.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(RenderError::Profile(format!("{what} qualifier {qualifier:?} must be 2 letters/digits")));
    }
    if id.trim().is_empty() || id.len() > 15 {
        return Err(RenderError::Profile(format!("{what} id {id:?} must be 1-15 characters")));
    }
    if let Some(b) = id.bytes().find(|&b| d.is_delimiter(b) || b < 0x20) {
        return Err(RenderError::Profile(format!("{what} id {id:?} contains {}", show_byte(b))));
    }
    Ok(())
}
