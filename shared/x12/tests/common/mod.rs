#![allow(dead_code)]

use std::path::PathBuf;

use mlc_x12::stream::{Event, Reader};
use mlc_x12::{ErrorKind, WarningKind, X12File, parse};

pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

pub fn load(name: &str) -> Vec<u8> {
    std::fs::read(data_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub fn all_fixtures() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "edi"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    out.sort();
    out
}

pub fn warning_kinds(f: &X12File<'_>) -> Vec<WarningKind> {
    f.warnings().iter().map(|w| w.kind).collect()
}

pub fn error_kinds(f: &X12File<'_>) -> Vec<ErrorKind> {
    f.errors().iter().map(|e| e.kind).collect()
}

pub fn error_text(f: &X12File<'_>) -> String {
    f.errors().iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")
}

pub fn warning_text(f: &X12File<'_>) -> String {
    f.warnings().iter().map(|w| w.to_string()).collect::<Vec<_>>().join("\n")
}

/// A fixture that lives for the whole test run (parsed files borrow their input).
pub fn loaded(name: &str) -> &'static [u8] {
    Box::leak(load(name).into_boxed_slice())
}

/// A reader that hands out one byte at a time: every refill boundary of the streaming reader.
pub struct Trickle<'a>(pub &'a [u8]);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
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

/// Everything the streaming reader reports, as comparable text. (A set's mapping is not compared:
/// at a set's event its group's and interchange's trailers are still to come.)
pub fn streamed(bytes: &[u8]) -> Result<Vec<String>, String> {
    streamed_from(bytes)
}

/// The same, from any reader.
pub fn streamed_from(input: impl std::io::Read) -> Result<Vec<String>, String> {
    let mut r = Reader::new(input);
    let mut out = Vec::new();
    loop {
        match r.next_event() {
            Err(e) => return Err(e.to_string()),
            Ok(None) => return Ok(out),
            Ok(Some(Event::InterchangeStart(h))) => out.push(format!("ISA {}", h.control)),
            Ok(Some(Event::Set(s))) => {
                let r = s.set_ref();
                out.push(format!(
                    "SET {} {:?} {:?} {}",
                    r.control_path(),
                    s.set,
                    r.vendor_identity(false).map(|v| v.key),
                    r.content_hash()
                ));
            }
            Ok(Some(Event::GroupEnd(g))) => out.push(format!("GE {:?}", g)),
            Ok(Some(Event::InterchangeEnd(ic))) => out.push(format!("IEA {:?}", ic)),
            Ok(Some(Event::End(f))) => out.push(format!("END {f:?}")),
        }
    }
}

/// The same, from `parse`.
pub fn parsed(bytes: &[u8]) -> Result<Vec<String>, String> {
    let f = parse(bytes).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let set_line = |s: &mlc_x12::SetRef<'_, '_>| {
        format!(
            "SET {} {:?} {:?} {}",
            s.control_path(),
            s.set,
            s.vendor_identity(false).map(|v| v.key),
            s.content_hash()
        )
    };
    // Sets without an envelope where the file has them: before, between or after interchanges.
    let sets = f.sets();
    let mut loose = sets.iter().filter(|s| s.interchange.is_none()).peekable();
    for ic in &f.interchanges {
        while let Some(s) = loose.next_if(|s| s.set.location.offset < ic.location.offset) {
            out.push(set_line(s));
        }
        out.push(format!("ISA {}", ic.header.control));
        for g in &ic.groups {
            for set in &g.sets {
                let input = f.input.get(set.bytes.clone()).unwrap_or_default();
                out.push(set_line(&mlc_x12::SetRef { input, interchange: Some(ic), group: Some(g), set }));
            }
            let mut g = g.clone();
            g.sets.clear();
            out.push(format!("GE {:?}", g));
        }
        let mut ic = ic.clone();
        for g in &mut ic.groups {
            g.sets.clear();
            g.summaries.clear();
        }
        out.push(format!("IEA {:?}", ic));
    }
    for s in loose {
        out.push(set_line(s));
    }
    out.push(format!("END {:?}", f.findings));
    Ok(out)
}
