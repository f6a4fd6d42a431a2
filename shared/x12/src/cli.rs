//! The `mlc x12 …` commands as plain functions: bytes in, text and an exit code out. The `mlc`
//! binary reads the file and prints [`CliOutput`]; nothing here touches the terminal or the disk.
//!
//! - `mlc x12 parse FILE [--json]` → [`run_parse`]: for people, a block per invoice with what an
//!   AP clerk checks (number, seller, total, warnings); with `--json`, one JSON document per 810
//!   per line (schema `mlc-x12.invoice.v1`, fields stable, amounts as decimal strings).
//! - `mlc x12 validate FILE` → [`run_validate`]: exit 0 when there is no error (warnings allowed),
//!   1 otherwise, listing every error with its segment, position and expected/found values.
//! - `mlc x12 ack FILE` → [`run_ack`]: the 997 for each interchange in the file.
//!
//! Exit codes: 0 ok/valid, 1 invalid or unreadable.

use chrono::NaiveDateTime;
use serde::Serialize;
use serde_json::{Value, json};

use crate::ack997::{AckOptions, acknowledge_file};
use crate::control::{ControlNumbers, Numbers};
use crate::envelope::{ParseOptions, SetContent, SetRef, X12File, parse_with};
use crate::error::{Warning, X12Error};
use crate::invoice810::{Invoice810, PartyLoop};
use crate::render::LineEnding;
use crate::to_domain::MapOptions;

/// What a command prints and how it exits.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CliOutput {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
}

/// Options for `parse`.
#[derive(Debug, Clone, Default)]
pub struct ParseCliOptions {
    pub json: bool,
    /// Shown in output and used in source ids.
    pub file_name: Option<String>,
    pub parse: ParseOptions,
}

/// Options for `ack`.
#[derive(Default)]
pub struct AckCliOptions<'c> {
    /// Where the 997's control numbers come from (keyed by the inbound sender id). Without one,
    /// control number 1 is used and a note goes to stderr: fine for a look, not for sending.
    pub control: Option<&'c dyn ControlNumbers>,
    /// Timestamp for the envelope; default now (UTC).
    pub now: Option<NaiveDateTime>,
    pub line_ending: LineEnding,
}

/// `mlc x12 parse FILE [--json]`.
pub fn run_parse(bytes: &[u8], json: bool) -> CliOutput {
    run_parse_with(bytes, &ParseCliOptions { json, ..ParseCliOptions::default() })
}

/// `parse` with a file name and parse options.
pub fn run_parse_with(bytes: &[u8], opts: &ParseCliOptions) -> CliOutput {
    let file = match parse_with(bytes, &opts.parse) {
        Ok(f) => f,
        Err(e) => return fatal(&e, opts.json),
    };
    let exit_code = if file.is_valid() { 0 } else { 1 };
    let map = MapOptions {
        file_name: opts.file_name.clone(),
        default_currency: opts.parse.default_currency,
        tolerance: opts.parse.tolerance,
    };
    let stdout = if opts.json { parse_json(&file, &map) } else { parse_human(&file, &map) };
    CliOutput { stdout, stderr: String::new(), exit_code }
}

fn fatal(e: &X12Error, json: bool) -> CliOutput {
    let stdout = if json {
        let doc = json!({ "schema": "mlc-x12.error.v1", "errors": [error_json(e)] });
        format!("{doc}\n")
    } else {
        String::new()
    };
    CliOutput { stdout, stderr: format!("error: cannot read the file: {e}\n"), exit_code: 1 }
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

/// Errors and warnings that concern one set: its own, its group's, its interchange's, the file's.
fn context_findings<'f>(s: &SetRef<'f, '_>) -> (Vec<&'f X12Error>, Vec<&'f Warning>) {
    let mut errors: Vec<&X12Error> = s.file.findings.errors.iter().collect();
    let mut warnings: Vec<&Warning> = s.file.findings.warnings.iter().collect();
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

fn status(s: &SetRef<'_, '_>) -> &'static str {
    let blocking = !s.blocking_errors().is_empty();
    if blocking {
        "rejected"
    } else if s.set.findings.has_errors() {
        "accepted_with_errors"
    } else {
        "accepted"
    }
}

#[derive(Serialize)]
struct PartyJson<'p> {
    entity: &'p str,
    name: Option<&'p str>,
    id_qualifier: Option<&'p str>,
    id: Option<&'p str>,
}

fn party_json(p: Option<&PartyLoop>) -> Value {
    match p {
        Some(p) => serde_json::to_value(PartyJson {
            entity: &p.entity,
            name: p.name.as_deref(),
            id_qualifier: p.id_qualifier.as_deref(),
            id: p.id.as_deref(),
        })
        .unwrap_or(Value::Null),
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

fn parse_json(file: &X12File<'_>, map: &MapOptions) -> String {
    let mut out = String::new();
    for s in file.sets() {
        if s.set.header.id != "810" {
            continue;
        }
        let (errors, warnings) = context_findings(&s);
        let empty = json!(null);
        let inv = s.set.invoice().map(invoice_json).unwrap_or(empty);
        let (ap, ap_error) = match s.to_ap_invoice(map) {
            Ok(ap) => (serde_json::to_value(&ap).unwrap_or(Value::Null), Value::Null),
            Err(e) => (Value::Null, Value::String(e.to_string())),
        };
        let doc = json!({
            "schema": "mlc-x12.invoice.v1",
            "file": map.file_name,
            "interchange": s.interchange.map(|i| i.header.control.clone()),
            "group": s.group.map(|g| g.header.control.clone()),
            "set": s.set.header.control,
            "sender": s.interchange.map(|i| i.header.sender_id.clone()),
            "receiver": s.interchange.map(|i| i.header.receiver_id.clone()),
            "status": status(&s),
            "invoice": inv,
            "warnings": warnings.iter().map(|w| warning_json(w)).collect::<Vec<_>>(),
            "errors": errors.iter().map(|e| error_json(e)).collect::<Vec<_>>(),
            "ap_invoice": ap,
            "ap_error": ap_error,
        });
        out.push_str(&doc.to_string());
        out.push('\n');
    }
    out
}

fn counts(file: &X12File<'_>) -> String {
    let ics = file.interchanges.len();
    let groups: usize = file.interchanges.iter().map(|i| i.groups.len()).sum();
    let sets = file.sets().len();
    let invoices = file.sets().iter().filter(|s| s.set.header.id == "810").count();
    format!(
        "{ics} interchange{}, {groups} group{}, {sets} transaction set{} ({invoices} invoice{})",
        plural(ics),
        plural(groups),
        plural(sets),
        plural(invoices)
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
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

fn parse_human(file: &X12File<'_>, map: &MapOptions) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let name = map.file_name.as_deref().unwrap_or("input");
    let _ = writeln!(o, "{name}: {}", counts(file));
    for s in file.sets() {
        let (errors, warnings) = context_findings(&s);
        let _ = writeln!(o);
        let path = s.control_path();
        match &s.set.content {
            SetContent::Invoice(inv) => {
                let st = status(&s).replace('_', " ").to_uppercase();
                let kind = if inv.is_credit() { "Credit memo" } else { "Invoice" };
                let _ = writeln!(o, "{kind} {} — {st}", inv.invoice_number);
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
                let _ = writeln!(o, "  Buyer:     {}", party_line(inv.buyer()));
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
                let _ = writeln!(
                    o,
                    "997 acknowledging group {} {}: {:?} ({} set(s))",
                    a.functional_id,
                    a.group_control,
                    a.status,
                    a.sets.len()
                );
                let _ = writeln!(o, "  Control:   {path}");
            }
            SetContent::Unreadable => {
                let _ = writeln!(o, "Transaction set {} {} — UNREADABLE", s.set.header.id, s.set.header.control);
                let _ = writeln!(o, "  Control:   {path}");
            }
            SetContent::Unsupported => {
                let _ = writeln!(o, "Transaction set {} {} — not an 810 or 997", s.set.header.id, s.set.header.control);
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

/// `mlc x12 validate FILE`.
pub fn run_validate(bytes: &[u8]) -> CliOutput {
    use std::fmt::Write as _;
    let file = match parse_with(bytes, &ParseOptions::default()) {
        Ok(f) => f,
        Err(e) => {
            return CliOutput {
                stdout: format!("INVALID: cannot read the file\nerror: {e}\n"),
                stderr: String::new(),
                exit_code: 1,
            };
        }
    };
    let errors = file.errors();
    let warnings = file.warnings();
    let dropped = file.dropped_errors();
    let mut o = String::new();
    let total = errors.len() + dropped;
    if total == 0 {
        let _ = writeln!(o, "VALID: {}; {} warning{}", counts(&file), warnings.len(), plural(warnings.len()));
    } else {
        let _ = writeln!(
            o,
            "INVALID: {}; {total} error{}, {} warning{}",
            counts(&file),
            plural(total),
            warnings.len(),
            plural(warnings.len())
        );
    }
    for e in &errors {
        let _ = writeln!(o, "error: {e}");
    }
    if dropped > 0 {
        let _ = writeln!(o, "error: … and {dropped} more not shown");
    }
    for w in &warnings {
        let _ = writeln!(o, "warning: {w}");
    }
    CliOutput { stdout: o, stderr: String::new(), exit_code: if total == 0 { 0 } else { 1 } }
}

/// `mlc x12 ack FILE`: the 997 for every interchange in the file, concatenated.
pub fn run_ack(bytes: &[u8], opts: &AckCliOptions<'_>) -> CliOutput {
    let file = match parse_with(bytes, &ParseOptions::default()) {
        Ok(f) => f,
        Err(e) => return fatal(&e, false),
    };
    let now = opts.now.unwrap_or_else(|| chrono::Utc::now().naive_utc());
    let base = AckOptions { line_ending: opts.line_ending, ..AckOptions::new(Numbers::single(1), now) };
    let mut stderr = String::new();
    let result = acknowledge_file(
        &file,
        |ic| match opts.control {
            Some(store) => Ok(store.next(&ic.header.sender_id)?),
            None => Ok(Numbers::single(1)),
        },
        &base,
    );
    match result {
        Ok(acks) if acks.is_empty() => CliOutput {
            stdout: String::new(),
            stderr: "error: no functional group to acknowledge (no readable ISA/GS envelope)\n".into(),
            exit_code: 1,
        },
        Ok(acks) => {
            if opts.control.is_none() {
                stderr.push_str("note: control number 1 used (no control-number store given)\n");
            }
            let stdout = acks.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect::<Vec<_>>().join("");
            CliOutput { stdout, stderr, exit_code: 0 }
        }
        Err(e) => {
            CliOutput { stdout: String::new(), stderr: format!("error: cannot write the 997: {e}\n"), exit_code: 1 }
        }
    }
}
