//! What a file holds and what becomes of it, per interchange and per group: the sets read, not
//! handled and rejected; the 997 code each group would get (or why it gets none); the TA1 that
//! would answer the interchange. `mlc x12 validate`, `parse` and `ack` all print this one report,
//! so they agree on every file.
//!
//! The verdict: `rejected` when sets, groups or interchanges are rejected and nothing was read;
//! `partially_accepted` when some sets were read and some rejected (for both, the exit code of
//! `validate` is 1); `accepted_with_errors` when errors were noted but nothing is rejected;
//! `accepted` when there are no errors (warnings allowed).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::acknowledge::{acknowledge, is_acknowledged, ta1_for};
use crate::envelope::{Group, Interchange, SetStatus, TransactionSet, X12File};
use crate::profile::{AckScope, InboundRules};
use crate::ta1::Ta1;

/// The verdict on a file (or an interchange, a group).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Accepted,
    AcceptedWithErrors,
    /// Some sets read, some rejected.
    PartiallyAccepted,
    Rejected,
}

impl Verdict {
    pub fn words(self) -> &'static str {
        match self {
            Verdict::Accepted => "accepted",
            Verdict::AcceptedWithErrors => "accepted with errors",
            Verdict::PartiallyAccepted => "partially accepted",
            Verdict::Rejected => "rejected",
        }
    }

    /// Whether anything is rejected (the exit code of `validate` is then 1).
    pub fn rejects_any(self) -> bool {
        matches!(self, Verdict::PartiallyAccepted | Verdict::Rejected)
    }
}

/// One set, briefly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetLine {
    pub id: String,
    pub control: String,
    pub status: SetStatus,
    /// The invoice number of an 810, the acknowledged group of a 997.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
}

/// One functional group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupReport {
    pub functional_id: String,
    pub control: String,
    pub version: String,
    /// Transaction sets by type (`{"810": 3, "850": 2}`).
    pub set_types: BTreeMap<String, usize>,
    pub sets: usize,
    /// 810s and 997s read (accepted or accepted with errors).
    pub read: usize,
    pub not_handled: usize,
    pub rejected: usize,
    pub accepted_with_errors: usize,
    pub verdict: Verdict,
    /// The 997 code (AK901) this group gets, or `None` when it is not acknowledged.
    pub ack: Option<String>,
    /// Why it is not acknowledged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_acknowledged: Option<String>,
    pub set_lines: Vec<SetLine>,
}

/// One interchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InterchangeReport {
    pub control: String,
    pub sender: String,
    pub receiver: String,
    pub verdict: Verdict,
    /// ISA14 = 1.
    pub ta1_requested: bool,
    /// The TA1 that goes back (per the TA1 policy), if any.
    pub ta1: Option<Ta1>,
    /// TA1s the sender included (answers about our interchanges).
    pub ta1_received: Vec<Ta1>,
    /// Interchange service segments read (ISB, ISE, ISX, TA3).
    pub service_segments: Vec<String>,
    pub groups: Vec<GroupReport>,
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileReport {
    pub schema: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    pub verdict: Verdict,
    pub interchanges: Vec<InterchangeReport>,
    /// Sets without envelope.
    pub loose_sets: Vec<SetLine>,
    pub counts: Counts,
}

/// Totals over the file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub interchanges: usize,
    pub groups: usize,
    pub sets: usize,
    pub invoices: usize,
    pub acknowledgments: usize,
    pub ta1: usize,
    pub read: usize,
    pub not_handled: usize,
    pub rejected: usize,
    pub errors: usize,
    pub warnings: usize,
}

fn set_line(s: &TransactionSet<'_>, above_rejects: bool) -> SetLine {
    let own = s.status();
    let status = if above_rejects && own != SetStatus::NotHandled { SetStatus::Rejected } else { own };
    SetLine {
        id: s.header.id.clone(),
        control: s.header.control.clone(),
        status,
        document: s
            .invoice()
            .map(|i| i.invoice_number.to_string())
            .or_else(|| s.ack().map(|a| format!("{} {}", a.functional_id, a.group_control))),
    }
}

/// `rejected`: something is rejected; `read`: something was read.
fn verdict_of(rejected: bool, read: bool, errors: bool) -> Verdict {
    match (rejected, read) {
        (true, true) => Verdict::PartiallyAccepted,
        (true, false) => Verdict::Rejected,
        (false, _) if errors => Verdict::AcceptedWithErrors,
        (false, _) => Verdict::Accepted,
    }
}

fn group_report(g: &Group<'_>, ic_rejects: bool, scope: AckScope) -> GroupReport {
    let above = ic_rejects || g.findings.rejects();
    let set_lines: Vec<SetLine> = if g.sets.is_empty() {
        g.summaries
            .iter()
            .map(|s| SetLine {
                id: s.id.to_string(),
                control: s.control.to_string(),
                status: if above && s.status != SetStatus::NotHandled { SetStatus::Rejected } else { s.status },
                document: None,
            })
            .collect()
    } else {
        g.sets.iter().map(|s| set_line(s, above)).collect()
    };
    let mut set_types = BTreeMap::new();
    for s in &set_lines {
        *set_types.entry(s.id.clone()).or_insert(0) += 1;
    }
    let count = |st: SetStatus| set_lines.iter().filter(|s| s.status == st).count();
    let read = count(SetStatus::Accepted) + count(SetStatus::AcceptedWithErrors);
    let rejected = count(SetStatus::Rejected);
    let acknowledged = is_acknowledged(g, scope);
    let not_acknowledged = (!acknowledged).then(|| {
        if g.header.functional_id == "FA" {
            "a group of acknowledgments is not acknowledged".to_string()
        } else {
            match scope {
                AckScope::None => "acknowledgments are off for this partner".to_string(),
                _ => "not a group this product reads (acknowledge scope: handled)".to_string(),
            }
        }
    });
    let errors = g.findings.has_errors()
        || g.summaries.iter().any(|s| s.status != SetStatus::Accepted && s.status != SetStatus::NotHandled);
    GroupReport {
        functional_id: g.header.functional_id.clone(),
        control: g.header.control.clone(),
        version: g.header.version.clone(),
        set_types,
        sets: set_lines.len(),
        read,
        not_handled: count(SetStatus::NotHandled),
        rejected,
        accepted_with_errors: count(SetStatus::AcceptedWithErrors),
        verdict: verdict_of(above || rejected > 0, read > 0, errors),
        ack: acknowledged.then(|| acknowledge(g).status.code().to_string()),
        not_acknowledged,
        set_lines,
    }
}

fn interchange_report(ic: &Interchange<'_>, rules: &InboundRules) -> InterchangeReport {
    let rejects = ic.findings.rejects();
    let groups: Vec<GroupReport> = ic.groups.iter().map(|g| group_report(g, rejects, rules.acknowledge)).collect();
    let any_rejected = rejects || groups.iter().any(|g| g.verdict.rejects_any());
    let any_read = groups.iter().any(|g| g.read > 0);
    let any_errors = ic.findings.has_errors() || groups.iter().any(|g| g.verdict != Verdict::Accepted);
    InterchangeReport {
        control: ic.header.control.clone(),
        sender: ic.header.partner_key(),
        receiver: format!("{}:{}", ic.header.receiver_qualifier, ic.header.receiver_id),
        verdict: verdict_of(any_rejected, any_read, any_errors),
        ta1_requested: ic.header.wants_ta1(),
        ta1: rules.ta1.answers(ic.header.wants_ta1()).then(|| ta1_for(ic)),
        ta1_received: ic.ta1.clone(),
        service_segments: ic.service.iter().map(|s| s.id.clone()).collect(),
        groups,
    }
}

/// The report on a parsed file under a partner's inbound rules.
pub fn report(file: &X12File<'_>, file_name: Option<&str>, rules: &InboundRules) -> FileReport {
    let interchanges: Vec<InterchangeReport> = file.interchanges.iter().map(|i| interchange_report(i, rules)).collect();
    let loose_sets: Vec<SetLine> = file.loose_sets.iter().map(|s| set_line(s, false)).collect();
    let mut c = Counts { interchanges: interchanges.len(), ..Counts::default() };
    let mut lines: Vec<&SetLine> = loose_sets.iter().collect();
    for i in &interchanges {
        c.groups += i.groups.len();
        c.ta1 += i.ta1_received.len();
        for g in &i.groups {
            lines.extend(&g.set_lines);
        }
    }
    c.sets = lines.len();
    c.invoices = lines.iter().filter(|s| s.id == "810").count();
    c.acknowledgments = lines.iter().filter(|s| s.id == "997").count();
    c.read = lines.iter().filter(|s| matches!(s.status, SetStatus::Accepted | SetStatus::AcceptedWithErrors)).count();
    c.not_handled = lines.iter().filter(|s| s.status == SetStatus::NotHandled).count();
    c.rejected = lines.iter().filter(|s| s.status == SetStatus::Rejected).count();
    c.errors = file.errors().len() + file.dropped_errors();
    c.warnings = file.warnings().len();
    FileReport {
        schema: "mlc-x12.report.v1",
        file: file_name.map(str::to_string),
        verdict: verdict_of(!file.is_accepted() || c.rejected > 0, c.read > 0, c.errors > 0),
        interchanges,
        loose_sets,
        counts: c,
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl FileReport {
    /// `3 interchanges, 4 groups, 9 transaction sets (5 invoices, 1 acknowledgment)`.
    pub fn counts_line(&self) -> String {
        let c = &self.counts;
        let mut kinds = vec![plural(c.invoices, "invoice", "invoices")];
        if c.acknowledgments > 0 {
            kinds.push(plural(c.acknowledgments, "acknowledgment", "acknowledgments"));
        }
        if c.not_handled > 0 {
            kinds.push(format!("{} not handled", c.not_handled));
        }
        format!(
            "{}, {}, {} ({})",
            plural(c.interchanges, "interchange", "interchanges"),
            plural(c.groups, "group", "groups"),
            plural(c.sets, "transaction set", "transaction sets"),
            kinds.join(", ")
        )
    }

    /// The per-interchange, per-group lines people read.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for i in &self.interchanges {
            let mut head =
                format!("interchange {} from {} to {}: {}", i.control, i.sender, i.receiver, i.verdict.words());
            if let Some(t) = &i.ta1 {
                head.push_str(&format!("; TA1 {} {} ({})", t.status.code(), t.note_code, t.note));
            } else if i.ta1_requested {
                head.push_str("; TA1 requested, not sent (TA1 policy: never)");
            }
            if !i.service_segments.is_empty() {
                head.push_str(&format!("; service segments {}", i.service_segments.join(", ")));
            }
            out.push(head);
            for t in &i.ta1_received {
                out.push(format!(
                    "  TA1 received for interchange {}: {} ({}), note {} ({})",
                    t.control,
                    t.status.code(),
                    t.status.words(),
                    t.note_code,
                    t.note
                ));
            }
            for g in &i.groups {
                let types: Vec<String> = g.set_types.iter().map(|(t, n)| format!("{n} × {t}")).collect();
                let mut parts = Vec::new();
                if g.read > 0 {
                    parts.push(format!("{} read", g.read));
                }
                if g.accepted_with_errors > 0 {
                    parts.push(format!("{} with errors", g.accepted_with_errors));
                }
                if g.not_handled > 0 {
                    parts.push(format!("{} not handled", g.not_handled));
                }
                if g.rejected > 0 {
                    parts.push(format!("{} rejected", g.rejected));
                }
                if parts.is_empty() {
                    parts.push("no sets".into());
                }
                let ack = match (&g.ack, &g.not_acknowledged) {
                    (Some(code), _) => format!("997 {code}"),
                    (None, Some(why)) => format!("no 997: {why}"),
                    (None, None) => "no 997".into(),
                };
                out.push(format!(
                    "  group {} {} ({}): {} — {}; {}",
                    g.functional_id,
                    g.control,
                    if g.version.is_empty() { "no version" } else { &g.version },
                    if types.is_empty() { "empty".into() } else { types.join(", ") },
                    parts.join(", "),
                    ack
                ));
            }
        }
        if !self.loose_sets.is_empty() {
            out.push(format!("{} without envelope (not acknowledged)", plural(self.loose_sets.len(), "set", "sets")));
        }
        out
    }
}
