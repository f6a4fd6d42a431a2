//! The source side of the controller's tie-out (`mlc tieout`, the console's Tie-out page): what a
//! source system itself holds for a period, read from its own API, in one shape for every
//! connector that feeds AP into a target.
//!
//! Each source connector implements [`TieoutReader`] in its own `tieout.rs` (Cin7 purchases,
//! Coupa invoices ...) and hands back [`SourceDocument`]s: invoices **and credit notes** dated in
//! the period, whatever their status ([`SourceDocument::approved`] says which should be in AP),
//! with amounts signed as they reach the target (a credit note is negative) and — where the
//! source can give them — the GL account and project of each line in the source's own codes
//! ([`SourceDocument::lines`] is `None` where it cannot, or where reading them costs a call per
//! document and the caller did not ask for that: [`TieoutReader::limits`] says which).
//!
//! The comparison itself (by vendor, GL account and project, every difference explained) lives
//! with the caller: it needs the target's side and ml-connector's own work items.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

/// One line of a source document, in the source's own codes (mapped to the target's by the
/// flow's `account` and `project` mappings).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceLine {
    /// The source GL code as the flow's account mapping keys it (`None`: the line has none);
    /// which mapping kind that is, the reader says ([`TieoutReader::account_mapping`]).
    pub account: Option<String>,
    /// The target's own GL account, for a line the flow posts to an account it is configured
    /// with rather than through a mapping (Procore's `retainage_account`): used as is.
    pub posted_account: Option<String>,
    /// The source project key as the flow's `project` mapping keys it (`None`: no project).
    pub project: Option<String>,
    /// Signed like the document (negative on a credit note).
    pub amount: Decimal,
}

/// One invoice or credit note a source system holds, dated in the period asked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceDocument {
    /// The document id ml-connector's work item carries (`SourceDoc::id` of the flow), when the
    /// reader can name it; else the source record it belongs to (items whose id starts with it
    /// and whose label names [`Self::number`] are its items).
    pub doc_id: String,
    /// The source's own record (purchase id, invoice id), for links and explanations.
    pub record: String,
    /// The supplier's invoice or credit-note number.
    pub number: Option<String>,
    /// The number the flow posts it under in the target (`CN-7` for credit note `7`), when it
    /// differs from [`Self::number`].
    pub target_number: Option<String>,
    /// The source's vendor id, as the flow's `vendor` mapping keys it.
    pub vendor_id: Option<String>,
    pub vendor_name: String,
    pub date: NaiveDate,
    /// Signed as it reaches the target: a credit note is negative. `None`: the source gave none.
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    /// A credit note (its own line in the tie-out, reducing the totals).
    pub credit: bool,
    /// What the flow posts: approved (authorised, paid ...) and not voided.
    pub approved: bool,
    /// The status as the source words it (for "not approved" explanations).
    pub status: String,
    /// Per-line GL account and project; `None` when not read (see [`TieoutReader::limits`]).
    pub lines: Option<Vec<SourceLine>>,
    /// Why the flow would not take it even though it is approved, as the source shows it (Coupa:
    /// already marked exported), for documents ml-connector never saw.
    pub note: Option<String>,
}

impl SourceDocument {
    /// Signed amount, zero when the source gave none.
    pub fn signed(&self) -> Decimal {
        self.amount.unwrap_or_default()
    }

    /// The number to look for in the target.
    pub fn posted_number(&self) -> String {
        self.target_number.clone().or_else(|| self.number.clone()).unwrap_or_default()
    }
}

/// What the caller asks a reader for.
#[derive(Debug, Clone, Default)]
pub struct TieoutOptions {
    /// Read every document's lines even where that costs one call per document.
    pub lines: bool,
    /// The flow kind being tied out (`procore-deltek-ap-direct`): a source feeding several AP
    /// flows (Procore's subcontractor invoices and direct costs) lists that flow's documents.
    pub kind: String,
    /// The flow's options (`[flows.X] options`), for readers whose coding depends on them (which
    /// Coupa account segments make the GL code, which Cin7 attribute holds the project ...).
    pub flow_options: BTreeMap<String, serde_json::Value>,
}

impl TieoutOptions {
    /// A flow option as text.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.flow_options.get(key).and_then(|v| v.as_str())
    }
}

/// A tie-out read failed (the message names the system and what was read; never a secret).
#[derive(Debug, thiserror::Error)]
#[error("{system}: {message}")]
pub struct TieoutError {
    pub system: String,
    pub message: String,
}

impl TieoutError {
    pub fn new(system: &str, e: impl std::fmt::Display) -> Self {
        TieoutError { system: system.to_string(), message: e.to_string() }
    }
}

/// A source connection that can list what it holds for a period.
#[async_trait]
pub trait TieoutReader: Send + Sync {
    /// The system's display name (`Cin7 Core`, `Coupa`).
    fn system_name(&self) -> &'static str;

    /// What this reader cannot give with `opts` (said on the page), e.g. "lines are not read".
    fn limits(&self, opts: &TieoutOptions) -> Vec<String>;

    /// The mapping kind that translates [`SourceLine::account`] into the target's GL account:
    /// `account` for most sources; Procore's flows map cost types (`cost_type`) by default.
    fn account_mapping(&self, _opts: &TieoutOptions) -> crate::mapping::MappingKind {
        crate::mapping::MappingKind::ACCOUNT
    }

    /// Every invoice and credit note dated `from..=to`, whatever its status.
    async fn documents_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        opts: &TieoutOptions,
    ) -> Result<Vec<SourceDocument>, TieoutError>;
}
