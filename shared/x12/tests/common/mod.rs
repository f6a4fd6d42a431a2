#![allow(dead_code)]

use std::path::PathBuf;

use mlc_x12::{ErrorKind, WarningKind, X12File};

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
