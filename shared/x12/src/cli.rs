//! The `mlc x12 …` commands as plain functions: bytes in, text and an exit code out. The `mlc`
//! binary reads the file and prints [`CliOutput`]; nothing here touches the terminal or the disk.
//!
//! - `mlc x12 parse FILE [--json]` → [`run_parse_with`]: for people, the file's report (per
//!   interchange and group: read, not handled, rejected, the 997 and TA1 each would get) and a block
//!   per set — an invoice with what an AP clerk checks, a 997 with every AK2/AK3/AK4/AK5 and AK9 in
//!   words, a TA1; with `--json`, one JSON document per line: one per 810
//!   (`mlc-x12.invoice.v1`), per 997 (`mlc-x12.ack997.v1`) and per TA1 (`mlc-x12.ta1.v1`), then
//!   the report (`mlc-x12.report.v1`).
//! - `mlc x12 validate FILE [--json]` → [`run_validate_with`]: the report, then every error and
//!   warning with its segment, position and expected/found values (`--json`:
//!   `mlc-x12.validate.v1`).
//! - `mlc x12 ack FILE` → [`run_ack`]: the response interchange(s) on stdout (a 997 per group
//!   acknowledged, a TA1 when asked for), and on stderr what was acknowledged and why anything
//!   was not.
//!
//! All three print the same report, from [`crate::report`], so they agree on every file. Exit
//! codes: 0 when nothing is rejected (errors may have been noted: the report says "accepted with
//! errors"), 1 when a set, group or interchange is rejected or the file cannot be read.

use chrono::NaiveDateTime;
use serde_json::{Value, json};

use crate::ack997::{Ack997, ak304_text, ak403_text, ak502_text, ak905_text};
use crate::acknowledge::{AckOptions, respond_file};
use crate::control::{ControlNumbers, Numbers};
use crate::envelope::{SetContent, SetRef, X12File, parse_with};
use crate::error::{Warning, X12Error};
use crate::headers::ParseOptions;
use crate::invoice810::{Invoice810, PartyLoop};
use crate::profile::InboundRules;
use crate::report::{FileReport, report};
use crate::ta1::Ta1;
use crate::to_domain::MapOptions;
use crate::writer::LineEnding;

/// What a command prints and how it exits.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CliOutput {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
    /// The exact bytes to write instead of `stdout` when the output is X12 whose delimiters are not
    /// UTF-8 (a 997 answering a file terminated by 0x85); `stdout` then holds a lossy copy.
    pub stdout_bytes: Option<Vec<u8>>,
}

impl CliOutput {
    /// What to write to stdout.
    pub fn stdout_bytes(&self) -> &[u8] {
        self.stdout_bytes.as_deref().unwrap_or(self.stdout.as_bytes())
    }
}

/// Options for `parse`.
#[derive(Debug, Clone, Default)]
pub struct ParseCliOptions {
    pub json: bool,
    /// Shown in output and used in source ids.
    pub file_name: Option<String>,
    pub parse: ParseOptions,
    /// The partner's inbound rules (which groups get a 997, TA1 policy, remit-to vendor rule).
    pub rules: InboundRules,
}

/// Options for `validate`.
#[derive(Debug, Clone, Default)]
pub struct ValidateCliOptions {
    pub json: bool,
    pub file_name: Option<String>,
    pub parse: ParseOptions,
    pub rules: InboundRules,
}

/// Options for `ack`.
#[derive(Default)]
pub struct AckCliOptions<'c> {
    /// Where the response's control numbers come from (keyed by the inbound sender id). Without
    /// one, control number 1 is used and a note goes to stderr: fine for a look, not for sending.
    pub control: Option<&'c dyn ControlNumbers>,
    /// Timestamp for the envelope; default now (UTC).
    pub now: Option<NaiveDateTime>,
    pub line_ending: LineEnding,
    pub file_name: Option<String>,
    pub rules: InboundRules,
}

fn name(file_name: Option<&str>) -> &str {
    file_name.unwrap_or("input")
}

/// `cannot read FILE: why` — for the binary when the file itself cannot be opened or read.
pub fn cannot_read(file_name: &str, why: &std::io::Error, json: bool) -> CliOutput {
    let message = format!("cannot read {file_name}: {why}");
    let stdout = if json {
        format!("{}\n", json!({ "schema": "mlc-x12.error.v1", "file": file_name, "errors": [{ "message": message }] }))
    } else {
        String::new()
    };
    CliOutput { stdout, stderr: format!("error: {message}\n"), exit_code: 1, stdout_bytes: None }
}

fn fatal(e: &X12Error, file_name: Option<&str>, json: bool) -> CliOutput {
    let stdout = if json {
        let doc = json!({ "schema": "mlc-x12.error.v1", "file": file_name, "errors": [error_json(e)] });
        format!("{doc}\n")
    } else {
        String::new()
    };
    CliOutput {
        stdout,
        stderr: format!("error: cannot read {} as X12: {e}\n", name(file_name)),
        exit_code: 1,
        stdout_bytes: None,
    }
}

fn error_json(e: &X12Error) -> Value {
    json!({
        "kind": e.kind,
        "severity": e.severity,
        "location": e.location,
        "message": e.to_string(),
        "expected": e.expected,
        "found": e.found,
    })
}

fn warning_json(w: &Warning) -> Value {
    json!({ "kind": w.kind, "location": w.location, "message": w.to_string() })
}

fn exit_code(r: &FileReport) -> i32 {
    if r.verdict.rejects_any() { 1 } else { 0 }
}

/// Errors and warnings that concern one set: its own, its group's, its interchange's, the file's.
fn context_findings<'f>(file: &'f X12File<'_>, s: &SetRef<'f, '_>) -> (Vec<&'f X12Error>, Vec<&'f Warning>) {
    let mut errors: Vec<&X12Error> = file.findings.errors.iter().collect();
    let mut warnings: Vec<&Warning> = file.findings.warnings.iter().collect();
    if let Some(i) = s.interchange {
        errors.extend(&i.findings.errors);
        warnings.extend(&i.findings.warnings);
    }
    if let Some(g) = s.group {
        errors.extend(&g.findings.errors);
        warnings.extend(&g.findings.warnings);
    }
    errors.extend(&s.set.findings.errors);
    warnings.extend(&s.set.findings.warnings);
    (errors, warnings)
}

fn party_json(p: Option<&PartyLoop>) -> Value {
    match p {
        Some(p) => json!({
            "entity": p.entity,
            "name": p.name,
            "id_qualifier": p.id_qualifier,
            "id": p.id,
        }),
        None => Value::Null,
    }
}

fn invoice_json(inv: &Invoice810) -> Value {
    let lines: Vec<Value> = inv
        .lines
        .iter()
        .map(|l| {
            json!({
                "assigned_id": l.assigned_id,
                "item": l.item_id(),
                "product_ids": l.product_ids,
                "description": l.description_text(),
                "quantity": l.quantity,
                "unit": l.unit,
                "unit_price": l.unit_price,
                "extended": l.extended,
                "adjustments": l.adjustments(),
                "tax": l.tax_amount(),
                "net_amount": l.net_amount(),
            })
        })
        .collect();
    json!({
        "invoice_number": inv.invoice_number,
        "invoice_date": inv.invoice_date,
        "kind": if inv.is_credit() { "credit_memo" } else { "invoice" },
        "transaction_type": inv.transaction_type,
        "release": inv.release,
        "currency": inv.currency,
        "po_number": inv.purchase_order(),
        "due_date": inv.due_date(),
        "terms": inv.terms.iter().find_map(|t| t.text()),
        "seller": party_json(inv.seller()),
        "remit_to": party_json(inv.remit_to()),
        "buyer": party_json(inv.buyer()),
        "lines": lines,
        "charges": inv.charges,
        "taxes": inv.taxes,
        "totals": {
            "tds": inv.totals.total,
            "tds_subject_to_discount": inv.totals.subject_to_discount,
            "tds_discounted_due": inv.totals.discounted_due,
            "tds_terms_discount": inv.totals.terms_discount,
            "total_including_tax": inv.total_including_tax(),
            "lines": inv.computed.lines,
            "charges": inv.computed.charges,
            "allowances": inv.computed.allowances,
            "tax": inv.computed.tax,
            "computed_excluding_tax": inv.computed.excluding_tax,
            "computed_including_tax": inv.computed.including_tax,
            "tax_in_tds": inv.computed.tax_in_tds,
            "matches": inv.computed.total_matches,
        },
        "line_count": inv.lines.len(),
        "ctt_line_count": inv.transaction_totals.as_ref().and_then(|t| t.line_count),
    })
}

fn code_list(codes: &[String], text: fn(&str) -> &'static str) -> Value {
    Value::Array(codes.iter().map(|c| json!({ "code": c, "text": text(c) })).collect())
}

/// The JSON of one 997: AK1, each AK2 with its AK3/AK4 and AK5, AK9.
pub fn ack_json(a: &Ack997) -> Value {
    let sets: Vec<Value> = a
        .sets
        .iter()
        .map(|s| {
            let segments: Vec<Value> = s
                .segments
                .iter()
                .map(|seg| {
                    let code = seg.code.as_deref().unwrap_or("");
                    let elements: Vec<Value> = seg
                        .elements
                        .iter()
                        .map(|e| {
                            json!({
                                "position": e.position,
                                "reference": e.reference,
                                "code": e.code,
                                "text": ak403_text(&e.code),
                                "bad_data": e.bad_data,
                            })
                        })
                        .collect();
                    json!({
                        "segment_id": seg.segment_id,
                        "position": seg.position,
                        "loop_id": seg.loop_id,
                        "code": seg.code,
                        "text": (!code.is_empty()).then(|| ak304_text(code)),
                        "elements": elements,
                    })
                })
                .collect();
            json!({
                "ak2": { "set_id": s.set_id, "control": s.control, "implementation": s.implementation },
                "segments": segments,
                "ak5": { "status": s.status.code(), "text": s.status.words(), "codes": code_list(&s.codes, ak502_text) },
            })
        })
        .collect();
    json!({
        "ak1": { "functional_id": a.functional_id, "group_control": a.group_control, "version": a.version },
        "sets": sets,
        "ak9": {
            "status": a.status.code(),
            "text": a.status.words(),
            "declared": a.declared,
            "received": a.received,
            "accepted": a.accepted,
            "codes": code_list(&a.codes, ak905_text),
        },
    })
}

fn ta1_json(t: &Ta1) -> Value {
    json!({
        "acknowledges": t.control,
        "date": t.date,
        "time": t.time,
        "status": t.status.code(),
        "text": t.status.words(),
        "note_code": t.note_code,
        "note": t.note,
    })
}

fn envelope_json(s: &SetRef<'_, '_>) -> (Value, Value, Value, Value) {
    (
        json!(s.interchange.map(|i| i.header.control.clone())),
        json!(s.group.map(|g| g.header.control.clone())),
        json!(s.interchange.map(|i| i.header.partner_key())),
        json!(s.interchange.map(|i| format!("{}:{}", i.header.receiver_qualifier, i.header.receiver_id))),
    )
}

fn parse_json(file: &X12File<'_>, map: &MapOptions, report: &FileReport) -> String {
    let mut out = String::new();
    let mut push = |doc: Value| {
        out.push_str(&doc.to_string());
        out.push('\n');
    };
    for ic in &file.interchanges {
        for t in &ic.ta1 {
            let mut doc = ta1_json(t);
            if let Value::Object(m) = &mut doc {
                m.insert("schema".into(), json!("mlc-x12.ta1.v1"));
                m.insert("file".into(), json!(map.file_name));
                m.insert("interchange".into(), json!(ic.header.control));
                m.insert("sender".into(), json!(ic.header.partner_key()));
                m.insert("location".into(), json!(t.location));
            }
            push(doc);
        }
    }
    for s in file.sets() {
        let (interchange, group, sender, receiver) = envelope_json(&s);
        let (errors, warnings) = context_findings(file, &s);
        let errors: Vec<Value> = errors.iter().map(|e| error_json(e)).collect();
        let warnings: Vec<Value> = warnings.iter().map(|w| warning_json(w)).collect();
        match s.set.header.id.as_str() {
            "810" => {
                let inv = s.set.invoice().map(invoice_json).unwrap_or(Value::Null);
                let (ap, ap_error) = match s.to_ap_invoice(map) {
                    Ok(ap) => (serde_json::to_value(&ap).unwrap_or(Value::Null), Value::Null),
                    Err(e) => (Value::Null, Value::String(e.to_string())),
                };
                push(json!({
                    "schema": "mlc-x12.invoice.v1",
                    "file": map.file_name,
                    "interchange": interchange,
                    "group": group,
                    "set": s.set.header.control,
                    "sender": s.interchange.map(|i| i.header.sender_id.clone()),
                    "receiver": s.interchange.map(|i| i.header.receiver_id.clone()),
                    "status": s.status(),
                    "invoice": inv,
                    "vendor": s.vendor_identity(map.remit_to_names_vendor),
                    "warnings": warnings,
                    "errors": errors,
                    "ap_invoice": ap,
                    "ap_error": ap_error,
                }));
            }
            "997" => {
                let ack = s.set.ack().map(ack_json).unwrap_or(Value::Null);
                let mut doc = json!({
                    "schema": "mlc-x12.ack997.v1",
                    "file": map.file_name,
                    "interchange": interchange,
                    "group": group,
                    "set": s.set.header.control,
                    "sender": sender,
                    "receiver": receiver,
                    "status": s.status(),
                    "warnings": warnings,
                    "errors": errors,
                });
                if let (Value::Object(m), Value::Object(a)) = (&mut doc, ack) {
                    m.extend(a);
                }
                push(doc);
            }
            _ => {}
        }
    }
    push(serde_json::to_value(report).unwrap_or(Value::Null));
    out
}

fn party_line(p: Option<&PartyLoop>) -> String {
    match p {
        None => "(not given)".into(),
        Some(p) => {
            let name = p.name.as_deref().unwrap_or("(no name)");
            match (&p.id_qualifier, &p.id) {
                (Some(q), Some(id)) => format!("{name} ({} {q} {id})", p.entity),
                (None, Some(id)) => format!("{name} ({} {id})", p.entity),
                _ => format!("{name} ({})", p.entity),
            }
        }
    }
}

fn report_text(r: &FileReport) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let verdict = r.verdict.words().to_uppercase();
    let _ = writeln!(o, "{}: {verdict} — {}", r.file.as_deref().unwrap_or("input"), r.counts_line());
    for l in r.lines() {
        let _ = writeln!(o, "{l}");
    }
    o
}

fn ack_text(a: &Ack997) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let version = a.version.as_deref().map(|v| format!(" ({v})")).unwrap_or_default();
    let _ = writeln!(o, "  AK1: group {} {}{version}", a.functional_id, a.group_control);
    for s in &a.sets {
        let _ = writeln!(o, "  AK2: set {} {} — AK5 {} ({})", s.set_id, s.control, s.status.code(), s.status.words());
        for line in crate::ack997::describe(s) {
            let _ = writeln!(o, "    {line}");
        }
    }
    let n = |v: Option<u64>| v.map_or("?".to_string(), |v| v.to_string());
    let _ = writeln!(
        o,
        "  AK9: {} ({}) — {} declared, {} received, {} accepted",
        a.status.code(),
        a.status.words(),
        n(a.declared),
        n(a.received),
        n(a.accepted)
    );
    for c in &a.codes {
        let _ = writeln!(o, "    {} ({c})", ak905_text(c));
    }
    o
}

fn parse_human(file: &X12File<'_>, map: &MapOptions, r: &FileReport) -> String {
    use std::fmt::Write as _;
    let mut o = report_text(r);
    for s in file.sets() {
        let (errors, warnings) = context_findings(file, &s);
        let _ = writeln!(o);
        let path = s.control_path();
        let status = s.status().words().to_uppercase();
        match &s.set.content {
            SetContent::Invoice(inv) => {
                let kind = if inv.is_credit() { "Credit memo" } else { "Invoice" };
                let _ = writeln!(o, "{kind} {} — {status}", inv.invoice_number);
                let _ = writeln!(
                    o,
                    "  Control:   {path} ({})",
                    s.group.map_or("no envelope", |g| g.header.version.as_str())
                );
                let mut dates = format!("  Date:      {}", inv.invoice_date);
                if let Some(d) = inv.due_date() {
                    let _ = write!(dates, "   Due: {d}");
                }
                if let Some(t) = inv.terms.iter().find_map(|t| t.text()) {
                    let _ = write!(dates, "   Terms: {t}");
                }
                let _ = writeln!(o, "{dates}");
                let _ = writeln!(o, "  Seller:    {}", party_line(inv.seller()));
                if let Some(remit) = inv.remit_to() {
                    let _ = writeln!(o, "  Remit to:  {}", party_line(Some(remit)));
                }
                let _ = writeln!(o, "  Buyer:     {}", party_line(inv.buyer()));
                if let Some(v) = s.vendor_identity(map.remit_to_names_vendor) {
                    let _ = writeln!(o, "  Vendor:    {} ({})", v.key, vendor_rule(&v));
                }
                if let Some(po) = inv.purchase_order() {
                    let _ = writeln!(o, "  PO:        {po}");
                }
                let c = &inv.computed;
                let _ = writeln!(
                    o,
                    "  Lines:     {} (goods {}, charges {}, allowances {}, tax {})",
                    inv.lines.len(),
                    c.lines,
                    c.charges,
                    c.allowances,
                    c.tax
                );
                let cur = inv.currency.as_deref().unwrap_or(map.default_currency.code());
                let check = if c.total_matches { "matches the lines" } else { "DOES NOT match the lines" };
                let _ = writeln!(o, "  Total:     {cur} {} ({check})", inv.total_including_tax());
                if let Err(e) = s.to_ap_invoice(map) {
                    let _ = writeln!(o, "  Not ready for AP: {e}");
                }
            }
            SetContent::Ack(a) => {
                let from = s.interchange.map(|i| format!(" from {}", i.header.partner_key())).unwrap_or_default();
                let read = match s.status() {
                    crate::envelope::SetStatus::Accepted => "read".to_string(),
                    other => other.words().to_string(),
                };
                let _ = writeln!(
                    o,
                    "997{from} for group {} {}: {} ({}) — {read}",
                    a.functional_id,
                    a.group_control,
                    a.status.code(),
                    a.status.words()
                );
                let _ = writeln!(o, "  Control:   {path}");
                o.push_str(&ack_text(a));
            }
            SetContent::Unreadable => {
                let _ = writeln!(o, "Transaction set {} {} — UNREADABLE", s.set.header.id, s.set.header.control);
                let _ = writeln!(o, "  Control:   {path}");
            }
            SetContent::Unsupported => {
                let _ = writeln!(
                    o,
                    "Transaction set {} {} — {status} (this product reads 810 and 997)",
                    s.set.header.id, s.set.header.control
                );
                let _ = writeln!(o, "  Control:   {path}");
            }
        }
        if !warnings.is_empty() {
            let _ = writeln!(o, "  Warnings:");
            for w in warnings {
                let _ = writeln!(o, "    - {w}");
            }
        }
        if !errors.is_empty() {
            let _ = writeln!(o, "  Errors:");
            for e in errors {
                let _ = writeln!(o, "    - {e}");
            }
        }
        if let Some(n) = s.set.findings.suppressed_note() {
            let _ = writeln!(o, "    ({n})");
        }
    }
    if file.sets().is_empty() {
        for e in file.errors() {
            let _ = writeln!(o, "error: {e}");
        }
        for w in file.warnings() {
            let _ = writeln!(o, "warning: {w}");
        }
    }
    o
}

fn vendor_rule(v: &crate::to_domain::VendorIdentity) -> String {
    use crate::to_domain::VendorSource;
    match v.source {
        VendorSource::PartyId => format!(
            "from N1*{} {} {}",
            v.entity.as_deref().unwrap_or("?"),
            v.id_qualifier.as_deref().unwrap_or("-"),
            v.id.as_deref().unwrap_or("")
        ),
        VendorSource::Partner => "from the partner's ISA05:ISA06 (no seller party with an id)".into(),
        VendorSource::PartyName => "from the seller's name (no envelope)".into(),
    }
}

/// `mlc x12 parse FILE [--json]`.
pub fn run_parse(bytes: &[u8], json: bool) -> CliOutput {
    run_parse_with(bytes, &ParseCliOptions { json, ..ParseCliOptions::default() })
}

/// `parse` with a file name, parse options and inbound rules.
pub fn run_parse_with(bytes: &[u8], opts: &ParseCliOptions) -> CliOutput {
    let file = match parse_with(bytes, &opts.parse) {
        Ok(f) => f,
        Err(e) => return fatal(&e, opts.file_name.as_deref(), opts.json),
    };
    let r = report(&file, opts.file_name.as_deref(), &opts.rules);
    let map = MapOptions {
        file_name: opts.file_name.clone(),
        default_currency: opts.rules.default_currency.unwrap_or(opts.parse.default_currency),
        tolerance: opts.parse.tolerance,
        remit_to_names_vendor: opts.rules.remit_to_names_vendor,
    };
    let stdout = if opts.json { parse_json(&file, &map, &r) } else { parse_human(&file, &map, &r) };
    CliOutput { stdout, stderr: String::new(), exit_code: exit_code(&r), stdout_bytes: None }
}

/// `mlc x12 validate FILE` with default options.
pub fn run_validate(bytes: &[u8]) -> CliOutput {
    run_validate_with(bytes, &ValidateCliOptions::default())
}

/// `mlc x12 validate FILE [--json]`.
pub fn run_validate_with(bytes: &[u8], opts: &ValidateCliOptions) -> CliOutput {
    use std::fmt::Write as _;
    let file = match parse_with(bytes, &opts.parse) {
        Ok(f) => f,
        Err(e) => {
            let mut out = fatal(&e, opts.file_name.as_deref(), opts.json);
            if !opts.json {
                out.stdout = format!("INVALID: cannot read {} as X12\nerror: {e}\n", name(opts.file_name.as_deref()));
            }
            return out;
        }
    };
    let r = report(&file, opts.file_name.as_deref(), &opts.rules);
    let errors = file.errors();
    let warnings = file.warnings();
    let dropped = file.dropped_errors();
    let code = exit_code(&r);
    if opts.json {
        let doc = json!({
            "schema": "mlc-x12.validate.v1",
            "file": opts.file_name,
            "verdict": r.verdict,
            "valid": errors.is_empty() && dropped == 0,
            "exit_code": code,
            "report": r,
            "errors": errors.iter().map(|e| error_json(e)).collect::<Vec<_>>(),
            "dropped_errors": dropped,
            "warnings": warnings.iter().map(|w| warning_json(w)).collect::<Vec<_>>(),
        });
        return CliOutput { stdout: format!("{doc}\n"), stderr: String::new(), exit_code: code, stdout_bytes: None };
    }
    let mut o = report_text(&r);
    let total = errors.len() + dropped;
    let _ = writeln!(
        o,
        "{} error{}, {} warning{}",
        total,
        if total == 1 { "" } else { "s" },
        warnings.len(),
        if warnings.len() == 1 { "" } else { "s" }
    );
    for e in &errors {
        let weight = if e.rejects() { "error" } else { "error (noted)" };
        let _ = writeln!(o, "{weight}: {e}");
    }
    if dropped > 0 {
        let _ = writeln!(o, "error: … and {dropped} more not shown");
    }
    for w in &warnings {
        let _ = writeln!(o, "warning: {w}");
    }
    CliOutput { stdout: o, stderr: String::new(), exit_code: code, stdout_bytes: None }
}

/// `mlc x12 ack FILE`: the response interchange(s) for the file, concatenated on stdout; what was
/// and was not acknowledged on stderr.
pub fn run_ack(bytes: &[u8], opts: &AckCliOptions<'_>) -> CliOutput {
    use std::fmt::Write as _;
    let file_name = opts.file_name.as_deref();
    let file = match parse_with(bytes, &ParseOptions::default()) {
        Ok(f) => f,
        Err(e) => return fatal(&e, file_name, false),
    };
    let r = report(&file, file_name, &opts.rules);
    let mut stderr = String::new();
    if file.interchanges.is_empty() {
        return CliOutput {
            stdout: String::new(),
            stderr: format!(
                "error: {} has no interchange envelope (ISA/GS): sets without one cannot be acknowledged\n",
                name(file_name)
            ),
            exit_code: 1,
            stdout_bytes: None,
        };
    }
    let now = opts.now.unwrap_or_else(|| chrono::Utc::now().naive_utc());
    let base = AckOptions { line_ending: opts.line_ending, ..AckOptions::new(Numbers::single(1), now) };
    let responses = respond_file(
        &file,
        &opts.rules,
        |ic| match opts.control {
            Some(store) => Ok(store.next(&ic.header.sender_id)?),
            None => Ok(Numbers::single(1)),
        },
        &base,
    );
    let responses = match responses {
        Ok(r) => r,
        Err(e) => {
            return CliOutput {
                stdout: String::new(),
                stderr: format!("error: cannot write the acknowledgment for {}: {e}\n", name(file_name)),
                exit_code: 1,
                stdout_bytes: None,
            };
        }
    };
    for l in r.lines() {
        let _ = writeln!(stderr, "{l}");
    }
    if responses.is_empty() {
        let only_acks = r.counts.sets > 0 && r.counts.acknowledgments == r.counts.sets;
        let why = if only_acks {
            let groups: Vec<String> = file
                .sets()
                .iter()
                .filter_map(|s| s.set.ack().map(|a| format!("{} {}", a.functional_id, a.group_control)))
                .collect();
            format!(
                "{} holds only functional acknowledgments (997 for group {}); an acknowledgment is not acknowledged, so there is nothing to send",
                name(file_name),
                groups.join(", ")
            )
        } else {
            format!("{}: no group to acknowledge and no TA1 requested; nothing to send", name(file_name))
        };
        let _ = writeln!(stderr, "note: {why}");
        return CliOutput { stdout: String::new(), stderr, exit_code: 0, stdout_bytes: None };
    }
    if opts.control.is_none() {
        stderr.push_str("note: control number 1 used (no control-number store given)\n");
    }
    let bytes: Vec<u8> = responses.iter().flat_map(|a| a.bytes.iter().copied()).collect();
    let stdout = String::from_utf8_lossy(&bytes).into_owned();
    let stdout_bytes = (stdout.as_bytes() != bytes.as_slice()).then_some(bytes);
    CliOutput { stdout, stderr, exit_code: 0, stdout_bytes }
}
