//! `coupa-deltek-ap`: Coupa approved supplier invoices → Deltek Vantagepoint AP vouchers, then the
//! invoice marked exported in Coupa.
//!
//! **Source** ([`InvoiceSource`], `<coupa connection>/invoice`, shared with `coupa-deltek-voids`:
//! each invoice is read back once per version for both). Coupa's export-flag pattern: a poll lists
//! `status=approved&exported=false` page by key (so marks made meanwhile cannot make it skip an
//! invoice), then voided invoices by watermark; `invoice.approved` webhooks (signed by the Coupa
//! call-out, `infra/README.md`) hint the same invoices at once. Every listed invoice is read back
//! (`fields` pins what is read) and becomes one document.
//!
//! **Eligibility** (skip codes in [`codes`]). Only `approved` invoices post. Drafts, invoices
//! pending approval and every other status are skipped (`not_approved`); voided ones are left to
//! the voids flow (`voided`); an approved invoice Coupa already shows as exported — by another
//! integration or by hand — is skipped (`already_exported`: ml-connector never posts what the
//! export flag says the ERP has; reset the flag in Coupa and replay the item if Deltek lacks it).
//! Approved credit notes (`document-type` "Credit Note", or a negative total as Coupa's own
//! connector reads it) post as negative vouchers, numbered `CN-<number>` unless the number
//! already starts with `CN`, or are skipped for a person with `credit_notes = "hold"`.
//!
//! **Mapping** (scope `coupa-deltek`):
//! - `vendor`: Coupa supplier id → Deltek vendor number (learnt by `coupa-deltek-vendors`, or imported);
//! - `account`: the GL code made of the Coupa account's segments `account_segments` (default
//!   `[1]`; `[1, 2]` gives `5110-100`) → Deltek GL account, for every line, split allocation and
//!   charge;
//! - `project`: from `project_source` — `"segment"` (the Coupa account's segment
//!   `project_segment`, default 3), `"line_field"` (the line custom field `project_field`) or
//!   `"none"` → Deltek `WBS1|WBS2|WBS3`; a blank key means no project;
//! - `terms` (optional): Coupa payment term code → Deltek pay terms; unmapped terms travel as
//!   Coupa's text (`Net 30` → 30 days). A due date (Coupa's `net-due-date`) wins over terms.
//!
//! Missing mappings park the invoice in `needs_mapping` with every missing key at once; adding
//! them releases it.
//!
//! **Voucher.** Invoice number, invoice date, due date, currency, the supplier's name. One voucher
//! line per invoice line, or per allocation of a split line (`account-allocations`, each on its own
//! account and project); shipping, handling and miscellaneous charges are lines of their own (the
//! charge's account, else the first line's); a header discount is a negative line. The PO number of
//! each line's order goes on that line, and the first one on the voucher header (charges carry
//! it), for matching in Deltek. Tax: `tax = "spread"` (default) leaves header tax to Deltek, spread
//! over the lines by amount (line-level tax stays on its line); `tax = "line"` posts each Coupa tax
//! line as a voucher line on the account mapped from `tax:<tax code>`. The lines must add up to
//! Coupa's `total-with-taxes` (within a cent), or the invoice fails naming both figures.
//!
//! **Target** ([`ApVoucherTarget`], shared with every flow into Deltek): looked up by vendor +
//! invoice number before every create (a voucher keyed by hand with the same amount and date is
//! the same bill; a different one waits in `needs_review`), pre-post checks unless
//! `precheck = false`.
//!
//! **Telling Coupa** (`after_settled`, once the voucher is in Deltek — posted now, or found there
//! as this same bill): the Deltek voucher reference into the custom field `voucher_id_field` when
//! set (its own PUT), then `PUT /api/invoices/{id}?exported=true` (its own request, as Coupa
//! requires), then optionally an integration history record. A failure is kept on the item's
//! trail; the invoice stays unexported, is listed again, and the source hands this flow a
//! "settle again" document once per `recheck_minutes` (see `mlc_coupa::sources`): its lookup finds
//! the voucher, so nothing posts twice, and the mark is sent again. `mark_exported = false` leaves
//! Coupa untouched (a parallel run beside another integration). Coupa never receives accounting
//! entries.

use std::sync::Arc;

use chrono::NaiveDate;
use mlc_core::connect::BuildError;
use mlc_core::domain::{ApInvoice, ApInvoiceDraft, ApLine, DocumentKind, ProjectRef, SourceRef};
use mlc_core::engine::flow::{Eligibility, FlowSpec, MapError, SourceDoc, StepError};
use mlc_core::engine::model::{ItemSummary, TargetRef};
use mlc_core::engine::parts::{FlowDef, SourceRecord};
use mlc_core::mapping::{MappingKey, MappingKind, MappingSet, Resolver};
use mlc_core::money::{Currency, Tolerance};
use mlc_coupa::sources::{InvoiceListOptions, InvoiceRecord, InvoiceSource};
use mlc_coupa::{Account, CoupaClient, CoupaConnection, Invoice};
use mlc_deltek::{ApVoucherTarget, DeltekConnection};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::catalog::{FlowContext, FlowKind, parse_options};

/// The mapping scope the Coupa → Deltek flows share by default.
pub const SCOPE: &str = "coupa-deltek";

/// Stable skip codes of this flow.
pub mod codes {
    /// Not approved in Coupa (draft, pending approval, on hold …).
    pub const NOT_APPROVED: &str = "not_approved";
    /// Voided in Coupa: `coupa-deltek-voids` handles it.
    pub const VOIDED: &str = "voided";
    /// Coupa says the ERP already has it (exported by someone else).
    pub const ALREADY_EXPORTED: &str = "already_exported";
    /// A credit note, held for a person (`credit_notes = "hold"`).
    pub const CREDIT_NOTE_HELD: &str = "credit_note_held";
}

crate::register_flow_kind!(
    KIND,
    FlowKind {
        name: "coupa-deltek-ap",
        description: "Coupa approved supplier invoices → Deltek Vantagepoint AP vouchers (then marked exported in Coupa)",
        source_system: "coupa",
        target_system: "deltek",
        mapping_scope: SCOPE,
        check_options: |o| parse_options::<ApOptions>(o).and_then(|o| o.check()),
        build,
    }
);

/// Where a line's project comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ProjectSource {
    /// A segment of the line's Coupa account (`project_segment`).
    #[default]
    Segment,
    /// A custom field of the invoice line (`project_field`).
    LineField,
    /// No project on any line.
    None,
}

/// How Coupa's header tax reaches the voucher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TaxMode {
    /// Spread over the lines by amount (part of each line's cost).
    #[default]
    Spread,
    /// One voucher line per Coupa tax line, on the account mapped from `tax:<tax code>`.
    Line,
}

/// What to do with approved credit notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CreditNotes {
    #[default]
    NegativeVoucher,
    Hold,
}

/// How Coupa coding becomes Deltek coding (shared with the voids flow, which must reverse a
/// voucher exactly as it was coded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coding {
    pub account_segments: Vec<usize>,
    pub project_source: ProjectSource,
    pub project_segment: usize,
    pub project_field: String,
    pub tax: TaxMode,
}

impl Default for Coding {
    fn default() -> Self {
        Coding {
            account_segments: vec![1],
            project_source: ProjectSource::Segment,
            project_segment: 3,
            project_field: "project-number".into(),
            tax: TaxMode::Spread,
        }
    }
}

impl Coding {
    /// Ranges serde cannot check.
    pub fn check(&self) -> Result<(), String> {
        if self.account_segments.is_empty() || self.account_segments.iter().any(|n| !(1..=20).contains(n)) {
            return Err(format!(
                "account_segments = {:?}: list the Coupa account segments (1 to 20) that make the GL code, e.g. [1]",
                self.account_segments
            ));
        }
        if self.project_source == ProjectSource::Segment && !(1..=20).contains(&self.project_segment) {
            return Err(format!("project_segment = {} is out of range (1 to 20)", self.project_segment));
        }
        if self.project_source == ProjectSource::LineField && self.project_field.trim().is_empty() {
            return Err("project_field is empty: name the invoice-line custom field that holds the project".into());
        }
        Ok(())
    }

    /// The GL code of an account: the chosen segments joined by `-` (`None` when one is blank).
    fn gl_code(&self, a: &Account) -> Option<String> {
        let parts: Option<Vec<&str>> =
            self.account_segments.iter().map(|n| a.segment(*n).map(str::trim).filter(|s| !s.is_empty())).collect();
        parts.map(|p| p.join("-"))
    }

    fn project_key(&self, account: Option<&Account>, line_fields: &Map<String, Value>) -> Option<String> {
        let key = match self.project_source {
            ProjectSource::Segment => account.and_then(|a| a.segment(self.project_segment)).map(str::to_string),
            ProjectSource::LineField => {
                let want = self.project_field.trim();
                line_fields
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(want) || k.replace('_', "-").eq_ignore_ascii_case(want))
                    .and_then(|(_, v)| mlc_http_text(v))
            }
            ProjectSource::None => None,
        };
        key.map(|k| k.trim().to_string()).filter(|k| !k.is_empty())
    }

    /// The invoice's lines as coded in Coupa, before mapping (errors name the line and the fix).
    fn coded(&self, inv: &Invoice) -> Result<Vec<Coded>, MapError> {
        let what = invoice_label(inv);
        let mut out = Vec::new();
        let mut first: Option<(Option<String>, Option<String>)> = None;
        for l in &inv.invoice_lines {
            let coding = l.coding();
            let n = coding.len();
            let line_tax = l.tax_amount.unwrap_or_default();
            let total: Decimal = coding.iter().map(|(_, a)| *a).sum();
            let mut tax_left = line_tax;
            for (i, (account, amount)) in coding.iter().enumerate() {
                if amount.is_zero() && line_tax.is_zero() {
                    // A zero line (a comment, a fully credited split) moves nothing and needs no mapping.
                    continue;
                }
                let account_code = account.and_then(|a| self.gl_code(a)).ok_or_else(|| {
                    MapError::Invalid(format!(
                        "line {} ({}) of {what} has no GL code: its Coupa account lacks segment {:?}; code the line in Coupa, then replay",
                        l.line_num,
                        l.description.trim(),
                        self.account_segments
                    ))
                })?;
                let project = self.project_key(*account, &l.custom_fields);
                let tax =
                    if i + 1 == n || total.is_zero() { tax_left } else { (line_tax * *amount / total).round_dp(2) };
                tax_left -= tax;
                if first.is_none() {
                    first = Some((Some(account_code.clone()), project.clone()));
                }
                let description = if n > 1 {
                    format!("{} (split {}/{n})", l.description.trim(), i + 1)
                } else {
                    l.description.trim().to_string()
                };
                out.push(Coded {
                    description,
                    account: Some(account_code),
                    project,
                    net: *amount,
                    tax,
                    quantity: if n == 1 { l.quantity } else { None },
                    price: if n == 1 { Some(l.price) } else { None },
                    po: l.po().map(str::to_string),
                });
            }
        }
        let (first_account, first_project) = first.unwrap_or((None, None));
        for c in &inv.invoice_charges {
            if c.total.is_zero() {
                continue;
            }
            let kind = c.kind.to_ascii_lowercase();
            let description = if kind.contains("shipping") {
                "Shipping"
            } else if kind.contains("handling") {
                "Handling"
            } else {
                "Miscellaneous charge"
            };
            let account = c.account.as_ref().and_then(|a| self.gl_code(a)).or_else(|| first_account.clone());
            let project = match c.account.as_ref() {
                Some(a) if self.gl_code(a).is_some() => self.project_key(Some(a), &Map::new()),
                _ => first_project.clone(),
            };
            out.push(Coded {
                description: description.into(),
                account,
                project,
                net: c.total,
                tax: Decimal::ZERO,
                quantity: None,
                price: None,
                po: None,
            });
        }
        if !inv.discount_amount.is_zero() {
            out.push(Coded {
                description: "Discount".into(),
                account: first_account.clone(),
                project: first_project.clone(),
                net: -inv.discount_amount.abs(),
                tax: Decimal::ZERO,
                quantity: None,
                price: None,
                po: None,
            });
        }
        if self.tax == TaxMode::Line && !inv.line_level_taxation {
            let header = header_tax(inv);
            if !header.is_zero() {
                if inv.tax_lines.is_empty() {
                    out.push(Coded::tax("Tax".into(), "tax".into(), header));
                } else {
                    for t in &inv.tax_lines {
                        let code = t.code.trim();
                        let key = if code.is_empty() { "tax".to_string() } else { format!("tax:{code}") };
                        let rate = t.rate.map(|r| format!(" {}%", r.normalize())).unwrap_or_default();
                        let label = if t.description.trim().is_empty() { code } else { t.description.trim() };
                        out.push(Coded::tax(format!("Tax {label}{rate}").trim().to_string(), key, t.amount));
                    }
                }
            }
        }
        if out.is_empty() {
            return Err(MapError::Invalid(format!("{what} has no lines in Coupa")));
        }
        Ok(out)
    }

    /// Every mapping key the invoice may need (vendor, accounts, projects, terms).
    pub fn keys(&self, scope: &str, inv: &Invoice) -> Vec<MappingKey> {
        let mut keys = Vec::new();
        if let Some(s) = inv.supplier.as_ref().filter(|s| s.id > 0) {
            keys.push(MappingKey::new(scope, MappingKind::VENDOR, s.id.to_string()));
        }
        if let Ok(lines) = self.coded(inv) {
            for c in lines {
                if let Some(a) = c.account {
                    keys.push(MappingKey::new(scope, MappingKind::ACCOUNT, a));
                }
                if let Some(p) = c.project {
                    keys.push(MappingKey::new(scope, MappingKind::PROJECT, p));
                }
            }
        }
        if let Some(t) = inv.payment_term.as_ref().map(|t| t.code.trim()).filter(|t| !t.is_empty()) {
            keys.push(MappingKey::new(scope, MappingKind::TERMS, t));
        }
        keys.sort();
        keys.dedup();
        keys
    }

    /// The voucher for `inv` (see the module docs). `reversal` turns it into the voucher that
    /// undoes it: numbered `<number>-VOID`, dated `date`, with the opposite sign.
    pub fn voucher(
        &self,
        scope: &str,
        source: SourceRef,
        inv: &Invoice,
        set: &MappingSet,
        reversal: Option<NaiveDate>,
    ) -> Result<ApInvoice, MapError> {
        let what = invoice_label(inv);
        let mut r = Resolver::new(set, scope);
        let supplier = inv
            .supplier
            .as_ref()
            .filter(|s| s.id > 0)
            .ok_or_else(|| MapError::Invalid(format!("{what} names no supplier in Coupa")))?;
        let vendor = r.resolve(MappingKind::VENDOR, &supplier.id.to_string());
        let coded = self.coded(inv)?;
        let mut resolved = Vec::with_capacity(coded.len());
        for c in &coded {
            let account = c.account.as_deref().map(|a| r.resolve(MappingKind::ACCOUNT, a));
            let project = match &c.project {
                Some(p) => match r.resolve(MappingKind::PROJECT, p) {
                    Some(t) => Some(ProjectRef::parse_key(&t).ok_or_else(|| {
                        MapError::Invalid(format!(
                            "the project mapping for {p:?} is {t:?}, not a Deltek WBS1|WBS2|WBS3 key: fix the mapping"
                        ))
                    })?),
                    None => None,
                },
                None => None,
            };
            resolved.push((account, project));
        }
        let terms_code = inv.payment_term.as_ref().map(|t| t.code.trim().to_string()).filter(|t| !t.is_empty());
        let terms =
            terms_code.as_deref().map(|t| r.resolve_optional(MappingKind::TERMS, t).unwrap_or_else(|| t.into()));
        r.finish().map_err(MapError::Missing)?;

        let number = inv.invoice_number.trim();
        if number.is_empty() {
            return Err(MapError::Invalid(format!(
                "Coupa invoice {} has no invoice number: enter the supplier's number in Coupa, then replay",
                inv.id
            )));
        }
        let invoice_date = inv.invoice_date.ok_or_else(|| {
            MapError::Invalid(format!("{what} has no invoice date in Coupa: enter it there, then replay"))
        })?;
        let currency: Currency = inv
            .currency_code()
            .ok_or_else(|| MapError::Invalid(format!("{what} has no currency in Coupa")))?
            .parse()
            .map_err(|e| MapError::Invalid(format!("{what}: {e}")))?;
        let credit = inv.is_credit();
        // A credit memo's amounts are positive in the domain; Coupa writes them negative.
        let sign = if credit { Decimal::NEGATIVE_ONE } else { Decimal::ONE };
        let header_po = inv.po_numbers().into_iter().next();
        let mut lines = Vec::with_capacity(coded.len());
        for (n, (c, (account, project))) in coded.into_iter().zip(resolved).enumerate() {
            let account = account.flatten().ok_or_else(|| {
                MapError::Invalid(format!(
                    "{} of {what} has no account in Coupa and no line to borrow one from: code it in Coupa, then replay",
                    c.description
                ))
            })?;
            lines.push(ApLine {
                line_no: n as u32 + 1,
                description: c.description,
                account,
                project,
                cost_code: None,
                quantity: c.quantity,
                unit_price: c.price.map(|p| p * sign),
                net_amount: c.net * sign,
                tax_amount: c.tax * sign,
                po_number: c.po,
            });
        }
        let header_tax =
            if self.tax == TaxMode::Spread && !inv.line_level_taxation { header_tax(inv) } else { Decimal::ZERO };
        let supplier_name =
            supplier.display_name.clone().filter(|n| !n.trim().is_empty()).unwrap_or(supplier.name.clone());
        let (kind, number, date, due, description) = match reversal {
            None => (
                if credit { DocumentKind::CreditMemo } else { DocumentKind::Invoice },
                if credit { credit_note_number(number) } else { number.to_string() },
                invoice_date,
                inv.net_due_date.filter(|d| *d >= invoice_date),
                format!("Coupa invoice {number} {supplier_name}"),
            ),
            Some(on) => (
                if credit { DocumentKind::Invoice } else { DocumentKind::CreditMemo },
                format!("{}-VOID", if credit { credit_note_number(number) } else { number.to_string() }),
                on,
                None,
                format!("Reversal: Coupa invoice {number} voided"),
            ),
        };
        let draft = ApInvoiceDraft {
            source,
            kind,
            vendor: vendor.unwrap_or_default(),
            vendor_name: Some(supplier_name),
            invoice_number: number,
            invoice_date: date,
            due_date: due,
            currency,
            po_number: header_po,
            terms,
            description: Some(description),
            lines,
            header_tax: header_tax * sign,
            total: inv.total_with_taxes * sign,
            tolerance: Tolerance::default(),
        };
        ApInvoice::try_new(draft).map_err(|e| {
            MapError::Invalid(format!(
                "{what}: {e}; the lines, charges and tax read from Coupa do not add up to its total-with-taxes \
                 {} (fix the invoice in Coupa, or report this)",
                inv.total_with_taxes
            ))
        })
    }
}

/// Text of a custom-field value.
fn mlc_http_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(m) => m.get("name").or_else(|| m.get("code")).and_then(mlc_http_text),
        _ => None,
    }
}

/// Tax known only at the header: Coupa's tax lines (or its tax amount) less what sits on lines.
fn header_tax(inv: &Invoice) -> Decimal {
    if inv.line_level_taxation {
        return Decimal::ZERO;
    }
    if !inv.tax_lines.is_empty() {
        return inv.tax_lines.iter().map(|t| t.amount).sum();
    }
    let on_lines: Decimal = inv.invoice_lines.iter().filter_map(|l| l.tax_amount).sum();
    inv.tax_amount - on_lines
}

/// One line of Coupa coding, before mapping.
struct Coded {
    description: String,
    /// GL code made of the account's segments.
    account: Option<String>,
    project: Option<String>,
    net: Decimal,
    tax: Decimal,
    quantity: Option<Decimal>,
    price: Option<Decimal>,
    po: Option<String>,
}

impl Coded {
    fn tax(description: String, account: String, amount: Decimal) -> Self {
        Coded {
            description,
            account: Some(account),
            project: None,
            net: amount,
            tax: Decimal::ZERO,
            quantity: None,
            price: None,
            po: None,
        }
    }
}

/// `invoice INV-1 (Coupa 8001) from Acme`.
pub fn invoice_label(inv: &Invoice) -> String {
    let supplier = inv.supplier.as_ref().map_or("an unknown supplier", |s| s.name.as_str());
    let kind = if inv.is_credit() { "credit note" } else { "invoice" };
    format!("Coupa {kind} {} (id {}) from {supplier}", inv.invoice_number.trim(), inv.id)
}

fn credit_note_number(n: &str) -> String {
    let t = n.trim();
    if t.to_ascii_uppercase().starts_with("CN") { t.to_string() } else { format!("CN-{t}") }
}

/// What people see in item lists.
pub fn summary(inv: &Invoice) -> ItemSummary {
    let supplier = inv.supplier.as_ref().map(|s| s.name.clone());
    let pos = inv.po_numbers();
    let po = if pos.is_empty() { String::new() } else { format!(", PO {}", pos.join(", ")) };
    let kind = if inv.is_credit() { "credit note" } else { "invoice" };
    ItemSummary {
        label: format!(
            "{kind} {} from {}{po}",
            inv.invoice_number.trim(),
            supplier.as_deref().unwrap_or("an unknown supplier")
        ),
        vendor: supplier,
        project: None,
        amount: Some(inv.total_with_taxes),
        currency: inv.currency_code().and_then(|c| c.parse().ok()),
        document_date: inv.invoice_date,
    }
}

/// The Deltek voucher reference written back to Coupa: the voucher number once Deltek assigned
/// one, else the AP file it sits in (both fit Coupa's usual 40-character custom fields).
pub fn voucher_reference(t: &TargetRef) -> String {
    if let Some(d) = &t.display
        && let Some((_, v)) = d.split_once(", voucher ")
        && !v.starts_with("number assigned")
    {
        return v.trim().to_string();
    }
    t.id.split('|').next().unwrap_or(&t.id).to_string()
}

/// Tell Coupa an invoice is in Deltek: the custom field (when asked), the export mark (unless
/// already set), the integration record (when asked). Every part is tried; the errors are joined.
pub async fn tell_coupa(
    coupa: &CoupaClient,
    inv: &Invoice,
    target: &TargetRef,
    voucher_id_field: Option<&str>,
    mark: bool,
    history: bool,
) -> Result<(), StepError> {
    let mut failed: Vec<StepError> = Vec::new();
    if let Some(field) = voucher_id_field {
        let mut m = Map::new();
        m.insert(field.to_string(), Value::String(voucher_reference(target)));
        if let Err(e) = coupa.set_invoice_custom_fields(inv.id, &m).await {
            failed.push(e.into());
        }
    }
    if mark
        && !inv.exported
        && let Err(e) = coupa.mark_invoice_exported(inv.id).await
    {
        failed.push(e.into());
    }
    if history {
        let msg = format!("in Deltek as {}", target.display.as_deref().unwrap_or(&target.id));
        if let Err(e) = coupa.record_integration_result("InvoiceHeader", inv.id, true, "posted", &msg, false).await {
            failed.push(e.into());
        }
    }
    match failed.len() {
        0 => Ok(()),
        _ => {
            let class = failed[0].class;
            let message = failed.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; ");
            Err(StepError { class, message, code: None })
        }
    }
}

/// The flow's options (`[flows.coupa-deltek-ap] options = { ... }`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApOptions {
    /// Coupa account segments that make the GL code (`[1]`).
    pub account_segments: Vec<usize>,
    pub project_source: ProjectSource,
    /// The account segment holding the project (`project_source = "segment"`).
    pub project_segment: usize,
    /// The invoice-line custom field holding the project (`project_source = "line_field"`).
    pub project_field: String,
    pub tax: TaxMode,
    pub credit_notes: CreditNotes,
    /// A Coupa invoice custom field (API-editable) to write the Deltek voucher reference into.
    pub voucher_id_field: Option<String>,
    /// Mark invoices exported in Coupa once their voucher is in Deltek.
    pub mark_exported: bool,
    /// Also write an integration history record (scope `core.integration.write`).
    pub integration_history: bool,
    /// How far back the first scan of voided invoices looks, days (0 = everything). Approved
    /// invoices are found by the export flag whatever their age.
    pub initial_lookback_days: u32,
    /// Re-list invoices voided this close to the watermark (late commits), seconds.
    pub overlap_secs: u64,
    /// An approved invoice still unexported is read again once per this many minutes.
    pub recheck_minutes: u64,
    /// Invoices per listing page (1–50).
    pub page_size: u32,
    /// Run Deltek's pre-post checks before each create.
    pub precheck: bool,
}

impl Default for ApOptions {
    fn default() -> Self {
        let c = Coding::default();
        ApOptions {
            account_segments: c.account_segments,
            project_source: c.project_source,
            project_segment: c.project_segment,
            project_field: c.project_field,
            tax: c.tax,
            credit_notes: CreditNotes::NegativeVoucher,
            voucher_id_field: None,
            mark_exported: true,
            integration_history: false,
            initial_lookback_days: 90,
            overlap_secs: 120,
            recheck_minutes: 60,
            page_size: 50,
            precheck: true,
        }
    }
}

impl ApOptions {
    pub fn coding(&self) -> Coding {
        Coding {
            account_segments: self.account_segments.clone(),
            project_source: self.project_source,
            project_segment: self.project_segment,
            project_field: self.project_field.clone(),
            tax: self.tax,
        }
    }

    pub fn listing(&self) -> InvoiceListOptions {
        InvoiceListOptions {
            page_size: self.page_size,
            overlap: chrono::Duration::seconds(self.overlap_secs as i64),
            recheck: chrono::Duration::minutes(self.recheck_minutes as i64),
        }
    }

    /// Ranges serde cannot check.
    pub fn check(&self) -> Result<(), String> {
        self.coding().check()?;
        check_listing(self.page_size, self.recheck_minutes)?;
        if self.voucher_id_field.as_deref().is_some_and(|f| f.trim().is_empty()) {
            return Err("voucher_id_field is empty: name the Coupa custom field, or leave the option out".into());
        }
        Ok(())
    }
}

/// Ranges of the listing options (shared with the voids flow).
pub fn check_listing(page_size: u32, recheck_minutes: u64) -> Result<(), String> {
    if !(1..=50).contains(&page_size) {
        return Err(format!("page_size = {page_size} is out of range (1 to 50; Coupa pages hold at most 50)"));
    }
    if !(1..=10_080).contains(&recheck_minutes) {
        return Err(format!("recheck_minutes = {recheck_minutes} is out of range (1 to 10080, a week)"));
    }
    Ok(())
}

/// The shared invoice source of the flow's Coupa connection (built by whichever Coupa invoice
/// flow comes first: its listing options decide).
pub fn invoice_source(
    ctx: &mut FlowContext<'_>,
    list: InvoiceListOptions,
) -> Result<(CoupaClient, Arc<InvoiceSource>), BuildError> {
    let coupa = ctx.source_connection::<CoupaConnection>("coupa")?.client().clone();
    let conn = ctx.settings.source.clone();
    let store = ctx.engine.store.clone();
    let client = coupa.clone();
    let source = ctx.source("invoice", move || Ok(InvoiceSource::new(&conn, client, list, Some(store))))?;
    Ok((coupa, source))
}

fn build(ctx: &mut FlowContext<'_>) -> Result<(), BuildError> {
    let opts: ApOptions = ctx.options()?;
    opts.check().map_err(|e| BuildError(format!("options: {e}")))?;
    let deltek = ctx.target_connection::<DeltekConnection>("deltek")?.client.clone();
    let (coupa, source) = invoice_source(ctx, opts.listing())?;
    if opts.mark_exported {
        source.settle_for(ctx.name, &ctx.settings.target);
    }
    let target =
        Arc::new(ApVoucherTarget::new(&ctx.settings.target, deltek, opts.precheck).with_memory(ctx.engine.sequences()));
    let flow = CoupaDeltekAp { name: ctx.name.to_string(), scope: ctx.mapping_scope(&KIND), opts, coupa };
    ctx.add(flow, source, target)
}

/// The flow.
pub struct CoupaDeltekAp {
    name: String,
    scope: String,
    opts: ApOptions,
    coupa: CoupaClient,
}

#[async_trait::async_trait]
impl FlowDef for CoupaDeltekAp {
    type Source = InvoiceSource;
    type Target = ApVoucherTarget;
    type Doc = InvoiceRecord;

    fn describe(&self) -> FlowSpec {
        FlowSpec {
            name: self.name.clone(),
            kind: KIND.name.into(),
            mapping_scope: self.scope.clone(),
            description: KIND.description.into(),
            lookback: (self.opts.initial_lookback_days > 0)
                .then(|| std::time::Duration::from_secs(u64::from(self.opts.initial_lookback_days) * 86_400)),
            ..Default::default()
        }
    }

    fn documents(&self, record: &SourceRecord<InvoiceRecord>) -> Vec<SourceDoc<InvoiceRecord>> {
        let r = &record.record;
        vec![SourceDoc {
            entity: "invoice".into(),
            id: r.invoice.id.to_string(),
            version: r.version_for(&self.name),
            summary: summary(&r.invoice),
            record: r.clone(),
        }]
    }

    fn eligibility(&self, doc: &SourceDoc<InvoiceRecord>) -> Eligibility {
        let inv = &doc.record.invoice;
        let what = invoice_label(inv);
        if inv.is_voided() {
            return Eligibility::skip(
                codes::VOIDED,
                format!("{what} is voided in Coupa: the coupa-deltek-voids flow handles it"),
            );
        }
        if !inv.is_approved() {
            let status = if inv.status.trim().is_empty() { "without a status" } else { inv.status.trim() };
            return Eligibility::skip(
                codes::NOT_APPROVED,
                format!("{what} is {status} in Coupa: it posts once it is approved"),
            );
        }
        if inv.exported {
            let when =
                inv.last_exported_at.map(|t| format!(" on {}", t.format("%Y-%m-%d %H:%M UTC"))).unwrap_or_default();
            return Eligibility::skip(
                codes::ALREADY_EXPORTED,
                format!(
                    "Coupa says {what} was already exported{when} (by another integration or by hand), so \
                     ml-connector does not post it; if Deltek lacks it, reset its export flag in Coupa and replay this item"
                ),
            );
        }
        if inv.is_credit() && self.opts.credit_notes == CreditNotes::Hold {
            return Eligibility::skip(
                codes::CREDIT_NOTE_HELD,
                format!(
                    "{what} is held for review (option credit_notes = \"hold\"): enter it in Deltek by hand, or set \
                     credit_notes = \"negative_voucher\" and replay"
                ),
            );
        }
        Eligibility::Eligible
    }

    fn required_mappings(&self, doc: &SourceDoc<InvoiceRecord>) -> Vec<MappingKey> {
        self.opts.coding().keys(&self.scope, &doc.record.invoice)
    }

    fn map(&self, doc: &SourceDoc<InvoiceRecord>, set: &MappingSet) -> Result<ApInvoice, MapError> {
        let source = SourceRef {
            system: "coupa".into(),
            entity: "invoice".into(),
            id: doc.id.clone(),
            version: doc.record.content.clone(),
        };
        self.opts.coding().voucher(&self.scope, source, &doc.record.invoice, set, None)
    }

    async fn after_settled(&self, doc: &SourceDoc<InvoiceRecord>, target: &TargetRef) -> Result<(), StepError> {
        tell_coupa(
            &self.coupa,
            &doc.record.invoice,
            target,
            self.opts.voucher_id_field.as_deref(),
            self.opts.mark_exported,
            self.opts.integration_history,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_default_check_and_refuse_unknown_keys() {
        let o: ApOptions = serde_json::from_value(serde_json::json!({"account_segments": [1, 2]})).unwrap();
        assert_eq!(o.account_segments, [1, 2]);
        assert!(o.mark_exported && o.check().is_ok());
        let e = serde_json::from_value::<ApOptions>(serde_json::json!({"acount_segments": [1]})).unwrap_err();
        assert!(e.to_string().contains("acount_segments"), "{e}");
        let bad = ApOptions { account_segments: vec![21], ..ApOptions::default() };
        assert!(bad.check().unwrap_err().contains("account_segments"));
        let bad = ApOptions { page_size: 80, ..ApOptions::default() };
        assert!(bad.check().unwrap_err().contains("page_size = 80"));
        let bad = ApOptions { voucher_id_field: Some(" ".into()), ..ApOptions::default() };
        assert!(bad.check().unwrap_err().contains("voucher_id_field"));
    }

    fn coupa_invoice(v: serde_json::Value) -> Invoice {
        serde_json::from_value(v).expect("invoice")
    }

    fn acc(id: i64, segs: [&str; 3]) -> serde_json::Value {
        serde_json::json!({"id": id, "segment-1": segs[0], "segment-2": segs[1], "segment-3": segs[2]})
    }

    fn mappings(skip: &[&str]) -> MappingSet {
        let mut set = MappingSet::new();
        for (kind, code, target) in [
            (MappingKind::VENDOR, "5", "CASCSTRU"),
            (MappingKind::ACCOUNT, "5110", "52100"),
            (MappingKind::ACCOUNT, "6310", "60300"),
            (MappingKind::PROJECT, "2024031", "2024031.00"),
            (MappingKind::PROJECT, "2023014", "2023014.00"),
            (MappingKind::PROJECT, "0000000", "OH-0001.00"),
        ] {
            if !skip.contains(&code) {
                set.insert(MappingKey::new(SCOPE, kind, code), target);
            }
        }
        set
    }

    fn source() -> SourceRef {
        SourceRef { system: "coupa".into(), entity: "invoice".into(), id: "8001".into(), version: "v".into() }
    }

    /// Split coding, a PO line, a charge without an account, header tax: every amount lands.
    #[test]
    fn coupa_coding_becomes_voucher_lines() {
        let inv = coupa_invoice(serde_json::json!({
            "id": 8001, "invoice-number": "CSE-1", "invoice-date": "2025-06-01", "status": "approved",
            "currency": {"code": "USD"}, "supplier": {"id": 5, "name": "Cascadia"},
            "net-due-date": "2025-07-01", "payment-term": {"code": "Net 30"},
            "total-with-taxes": "1323.25", "tax-amount": "98.25",
            "invoice-lines": [
                {"line-num": 1, "description": "Review", "price": "1000", "total": "1000.00",
                 "account": acc(1, ["5110", "100", "2024031"]),
                 "account-allocations": [{"amount": "600", "account": acc(1, ["5110", "100", "2024031"])},
                                         {"amount": "400", "account": acc(2, ["5110", "100", "2023014"])}]},
                {"line-num": 2, "description": "Paper", "quantity": "4", "price": "50", "total": "200.00",
                 "po-number": "4500001", "account": acc(3, ["6310", "100", "0000000"])},
                {"line-num": 3, "description": "Note", "price": "0", "total": "0", "account": acc(9, ["9999", "", ""])}
            ],
            "invoice-charges": [{"type": "InvoiceShippingCharge", "total": "25.00"}],
            "tax-lines": [{"amount": "98.25", "rate": "10.25", "code": "WA-SALES"}]
        }));
        let coding = Coding::default();
        let keys = coding.keys(SCOPE, &inv);
        assert!(!keys.iter().any(|k| k.source == "9999"), "a zero line needs no mapping: {keys:?}");
        let v = coding.voucher(SCOPE, source(), &inv, &mappings(&[]), None).expect("voucher");
        let lines: Vec<(&str, Decimal, Option<&str>, Option<&str>)> = v
            .lines
            .iter()
            .map(|l| (l.account.as_str(), l.net_amount, l.project.as_ref().map(|p| p.top()), l.po_number.as_deref()))
            .collect();
        assert_eq!(
            lines,
            [
                ("52100", Decimal::from(600), Some("2024031.00"), None),
                ("52100", Decimal::from(400), Some("2023014.00"), None),
                ("60300", Decimal::from(200), Some("OH-0001.00"), Some("4500001")),
                ("52100", Decimal::from(25), Some("2024031.00"), None),
            ]
        );
        assert_eq!(v.lines[3].description, "Shipping");
        assert_eq!(
            (v.header_tax, v.total, v.po_number.as_deref()),
            (Decimal::new(9825, 2), Decimal::new(132325, 2), Some("4500001"))
        );
        assert_eq!((v.vendor.as_str(), v.terms.as_deref()), ("CASCSTRU", Some("Net 30")));
        assert_eq!(v.due_date, NaiveDate::from_ymd_opt(2025, 7, 1));

        // Every missing mapping at once.
        match coding.voucher(SCOPE, source(), &inv, &mappings(&["5", "6310"]), None) {
            Err(MapError::Missing(m)) => assert_eq!(m.len(), 2, "{m:?}"),
            other => panic!("{other:?}"),
        }
        // Tax as its own line needs the tax code's account.
        let line_tax = Coding { tax: TaxMode::Line, ..Coding::default() };
        match line_tax.voucher(SCOPE, source(), &inv, &mappings(&[]), None) {
            Err(MapError::Missing(m)) => assert_eq!(m[0].source, "tax:WA-SALES"),
            other => panic!("{other:?}"),
        }
        // The reversal: a credit memo of the same lines, numbered -VOID, dated the void.
        let day = NaiveDate::from_ymd_opt(2025, 6, 20).expect("date");
        let r = coding.voucher(SCOPE, source(), &inv, &mappings(&[]), Some(day)).expect("reversal");
        assert_eq!((r.invoice_number.as_str(), r.kind, r.invoice_date), ("CSE-1-VOID", DocumentKind::CreditMemo, day));
        assert_eq!(r.signed_total(), -v.total);
    }

    #[test]
    fn a_credit_note_books_negative_and_bad_data_names_the_fix() {
        let cn = coupa_invoice(serde_json::json!({
            "id": 8002, "invoice-number": "77", "invoice-date": "2025-06-02", "status": "approved",
            "document-type": "Credit Note", "currency": {"code": "USD"}, "supplier": {"id": 5, "name": "Cascadia"},
            "total-with-taxes": "-250.00",
            "invoice-lines": [{"line-num": 1, "description": "Credit", "price": "-250", "total": "-250.00",
                               "account": acc(1, ["5110", "100", "2024031"])}]
        }));
        let v = Coding::default().voucher(SCOPE, source(), &cn, &mappings(&[]), None).expect("voucher");
        assert_eq!(
            (v.invoice_number.as_str(), v.kind, v.total),
            ("CN-77", DocumentKind::CreditMemo, Decimal::from(250))
        );
        assert_eq!(v.signed_total(), Decimal::from(-250));
        let mut bad = cn.clone();
        bad.total_with_taxes = Decimal::from(-300);
        match Coding::default().voucher(SCOPE, source(), &bad, &mappings(&[]), None) {
            Err(MapError::Invalid(m)) => assert!(m.contains("total-with-taxes") && m.contains("77"), "{m}"),
            other => panic!("{other:?}"),
        }
        let mut uncoded = cn.clone();
        uncoded.invoice_lines[0].account = None;
        match Coding::default().voucher(SCOPE, source(), &uncoded, &mappings(&[]), None) {
            Err(MapError::Invalid(m)) => {
                assert!(m.contains("has no GL code") && m.contains("code the line in Coupa"), "{m}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn voucher_references_fit_a_custom_field() {
        let t = |display: &str| TargetRef {
            system: "deltek".into(),
            entity: "ap-voucher".into(),
            id: "MLCABC|0123456789abcdef0123456789abcdef".into(),
            display: Some(display.into()),
            status: None,
        };
        assert_eq!(voucher_reference(&t("file MLCABC, voucher 0001234")), "0001234");
        assert_eq!(voucher_reference(&t("file MLCABC, voucher number assigned at posting")), "MLCABC");
        assert_eq!(credit_note_number("1042"), "CN-1042");
        assert_eq!(credit_note_number("CN-7"), "CN-7");
    }
}
