//! `cleo-deltek-ap810`: trading partners' X12 810 invoices, collected from their inbound folders
//! in Cleo Integration Cloud → Deltek Vantagepoint AP vouchers.
//!
//! **Source** ([`InboundSource`], shared with `cleo-deltek-ar997`: each file is read once per
//! version): the partners' inbound folders polled; each file downloaded, kept in the store and
//! only then deleted in Cleo; tracked by folder + name + size + content hash; read in bounded
//! chunks of transaction sets (a file of 500 invoices is 500 work items); answered with a 997
//! once all its sets are read (AK5 per set, AK9 per group).
//!
//! **Documents.** One per 810 (`<partner>/<ISA13>/<GS06>/<ST02>`, versioned by a hash of the
//! set's bytes, so a re-sent identical interchange — same name or renamed — is work already
//! done). A file held whole (any error rejecting part of what is ours, or not X12 at all) is one
//! document that fails with the parser's precise errors; the partner got a 997 rejecting it.
//!
//! **Eligibility.** Invoices from test interchanges (ISA15 = `T`) are skipped (`test_interchange`)
//! unless `test_interchanges = "post"`; credit memos post as negative vouchers unless
//! `credit_memos = "hold"` (`credit_memo_held`).
//!
//! **Mapping** (scope `cleo-deltek`), every missing key reported at once:
//! - `vendor <key>` → Deltek vendor number, where the key is the seller's N1 id (N1*SE/VN/SU/II
//!   N104), else its name, else the partner's ISA sender id;
//! - `account`: with `accounts = "by_vendor"` (default) one GL account per vendor (`account
//!   <vendor key>`); with `"by_item"` one per product id (`account <IT1 id>`, charges as
//!   `account SAC:<code>`), falling back to the vendor's;
//! - `project <PO number>` → `WBS1|WBS2|WBS3` (our subcontract POs belong to projects) when the
//!   810 quotes a PO (`projects = "by_po"`, default); `"none"` leaves projects off.
//!
//! **Target** ([`ApVoucherTarget`], shared with every flow into Deltek): looked up by vendor +
//! invoice number before posting (posted, unposted or keyed by hand), pre-post checks first.

use std::sync::Arc;

use mlc_cleo::edi::{HeldFile, InboundChunk, InboundFile, InboundInvoice};
use mlc_cleo::{CleoConnection, InboundSource};
use mlc_core::connect::BuildError;
use mlc_core::domain::{ApInvoice, DocumentKind, ProjectRef, SourceRef};
use mlc_core::engine::flow::{Eligibility, FlowSpec, MapError, SourceDoc};
use mlc_core::engine::model::ItemSummary;
use mlc_core::engine::parts::{FlowDef, SourceRecord};
use mlc_core::mapping::{MappingKey, MappingKind, MappingSet, Resolver};
use mlc_deltek::{ApVoucherTarget, DeltekConnection};
use serde::{Deserialize, Serialize};

use crate::catalog::{FlowContext, FlowKind, parse_options};
use crate::deltek_cleo_ar810::SCOPE;

/// Stable skip codes of this flow.
pub mod codes {
    pub const TEST_INTERCHANGE: &str = "test_interchange";
    pub const CREDIT_MEMO_HELD: &str = "credit_memo_held";
}

crate::register_flow_kind!(
    KIND,
    FlowKind {
        name: "cleo-deltek-ap810",
        description: "Trading partners' X12 810s from Cleo → Deltek Vantagepoint AP vouchers",
        source_system: "cleo",
        target_system: "deltek",
        mapping_scope: SCOPE,
        check_options: |o| parse_options::<Ap810Options>(o).map(|_| ()),
        build,
    }
);

/// Which mapping gives a line its GL account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Accounts {
    /// One account per vendor.
    #[default]
    ByVendor,
    /// One per product id (charges by SAC code), else the vendor's.
    ByItem,
}

/// Where a voucher's project comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Projects {
    /// The 810's PO number (BIG04 or REF*PO), mapped to a project.
    #[default]
    ByPo,
    None,
}

/// Credit memos (BIG07 `CR`, or negative 810s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CreditMemos {
    #[default]
    Post,
    Hold,
}

/// Invoices in test interchanges (ISA15 = T).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TestInterchanges {
    #[default]
    Skip,
    Post,
}

/// The flow's options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ap810Options {
    pub accounts: Accounts,
    pub projects: Projects,
    pub credit_memos: CreditMemos,
    pub test_interchanges: TestInterchanges,
    /// Deltek's pre-post checks before each voucher.
    pub precheck: bool,
}

impl Default for Ap810Options {
    fn default() -> Self {
        Ap810Options {
            accounts: Accounts::ByVendor,
            projects: Projects::ByPo,
            credit_memos: CreditMemos::Post,
            test_interchanges: TestInterchanges::Skip,
            precheck: true,
        }
    }
}

fn build(ctx: &mut FlowContext<'_>) -> Result<(), BuildError> {
    let opts: Ap810Options = ctx.options()?;
    let cleo = ctx.source_connection::<CleoConnection>("cleo")?.client().clone();
    let deltek = ctx.target_connection::<DeltekConnection>("deltek")?.client.clone();
    let conn = ctx.settings.source.clone();
    let engine = ctx.engine.clone();
    let source = ctx.source(mlc_cleo::sources::FAMILY_INBOUND, || Ok(InboundSource::new(&conn, cleo, &engine)))?;
    let target =
        Arc::new(ApVoucherTarget::new(&ctx.settings.target, deltek, opts.precheck).with_memory(ctx.engine.sequences()));
    let flow = CleoDeltekAp810 { name: ctx.name.to_string(), scope: ctx.mapping_scope(&KIND), opts };
    ctx.add(flow, source, target)
}

/// One document of an inbound file, as this flow sees it.
#[derive(Debug, Clone)]
pub enum InboundDoc {
    Invoice { file: Arc<InboundFile>, invoice: Box<InboundInvoice> },
    Held { file: Arc<InboundFile>, held: HeldFile },
}

/// The flow.
pub struct CleoDeltekAp810 {
    name: String,
    scope: String,
    opts: Ap810Options,
}

impl CleoDeltekAp810 {
    /// The account key of one line (`by_item`: its item or SAC code, else the vendor).
    fn account_key(&self, vendor_key: &str, cost_code: Option<&str>) -> String {
        match (self.opts.accounts, cost_code.map(str::trim).filter(|c| !c.is_empty())) {
            (Accounts::ByItem, Some(c)) => c.to_string(),
            _ => vendor_key.to_string(),
        }
    }

    fn project_key(&self, inv: &InboundInvoice) -> Option<String> {
        match self.opts.projects {
            Projects::ByPo => inv.po.clone(),
            Projects::None => None,
        }
    }
}

#[async_trait::async_trait]
impl FlowDef for CleoDeltekAp810 {
    type Source = InboundSource;
    type Target = ApVoucherTarget;
    type Doc = InboundDoc;

    fn describe(&self) -> FlowSpec {
        FlowSpec {
            name: self.name.clone(),
            kind: KIND.name.into(),
            mapping_scope: self.scope.clone(),
            description: KIND.description.into(),
            ..Default::default()
        }
    }

    fn documents(&self, record: &SourceRecord<Arc<InboundChunk>>) -> Vec<SourceDoc<InboundDoc>> {
        let c = &record.record;
        let file = c.file.clone();
        let mut out = Vec::new();
        if let Some(h) = c.held.as_ref().filter(|h| h.has_invoices) {
            out.push(SourceDoc {
                entity: "810-file".into(),
                id: h.doc_id.clone(),
                version: h.version.clone(),
                summary: ItemSummary {
                    label: format!("file {} from {} (held whole)", file.label(), file.partner_name),
                    vendor: Some(file.partner_name.clone()),
                    ..Default::default()
                },
                record: InboundDoc::Held { file: file.clone(), held: h.clone() },
            });
        }
        for i in &c.invoices {
            let resent = if i.resent { ", re-sent" } else { "" };
            out.push(SourceDoc {
                entity: "810".into(),
                id: i.doc_id.clone(),
                version: i.version.clone(),
                summary: ItemSummary {
                    label: format!("invoice {} from {} (file {}{resent})", i.number, i.seller, file.name),
                    vendor: Some(i.seller.clone()),
                    project: i.po.clone(),
                    amount: i.total,
                    currency: i.currency.as_deref().and_then(|c| c.parse().ok()),
                    document_date: i.date,
                },
                record: InboundDoc::Invoice { file: file.clone(), invoice: Box::new(i.clone()) },
            });
        }
        out
    }

    fn eligibility(&self, doc: &SourceDoc<InboundDoc>) -> Eligibility {
        let InboundDoc::Invoice { file, invoice: i } = &doc.record else { return Eligibility::Eligible };
        if i.test && self.opts.test_interchanges == TestInterchanges::Skip {
            return Eligibility::skip(
                codes::TEST_INTERCHANGE,
                format!(
                    "invoice {} from {} came in a test interchange (ISA15 = T) in {}: not posted (option \
                     test_interchanges = \"post\" posts them)",
                    i.number,
                    file.partner_name,
                    file.label()
                ),
            );
        }
        let credit = i.invoice.as_ref().is_ok_and(|a| a.kind == DocumentKind::CreditMemo);
        if credit && self.opts.credit_memos == CreditMemos::Hold {
            return Eligibility::skip(
                codes::CREDIT_MEMO_HELD,
                format!(
                    "credit memo {} from {} is held (option credit_memos = \"hold\"): enter it in Deltek by hand, \
                     or set credit_memos = \"post\" and replay",
                    i.number, file.partner_name
                ),
            );
        }
        Eligibility::Eligible
    }

    fn required_mappings(&self, doc: &SourceDoc<InboundDoc>) -> Vec<MappingKey> {
        let InboundDoc::Invoice { invoice: i, .. } = &doc.record else { return Vec::new() };
        let mut keys = vec![MappingKey::new(&self.scope, MappingKind::VENDOR, &i.vendor_key)];
        keys.push(MappingKey::new(&self.scope, MappingKind::ACCOUNT, &i.vendor_key));
        if let Ok(inv) = &i.invoice {
            for l in &inv.lines {
                keys.push(MappingKey::new(
                    &self.scope,
                    MappingKind::ACCOUNT,
                    self.account_key(&i.vendor_key, l.cost_code.as_deref()),
                ));
            }
        }
        if let Some(p) = self.project_key(i) {
            keys.push(MappingKey::new(&self.scope, MappingKind::PROJECT, p));
        }
        keys.sort();
        keys.dedup();
        keys
    }

    fn map(&self, doc: &SourceDoc<InboundDoc>, set: &MappingSet) -> Result<ApInvoice, MapError> {
        let (file, i) = match &doc.record {
            InboundDoc::Held { file, held } => return Err(MapError::Invalid(held.reason(file))),
            InboundDoc::Invoice { file, invoice } => (file, invoice),
        };
        let inv = i.invoice.clone().map_err(|e| {
            MapError::Invalid(format!(
                "invoice {} from {} ({}) cannot be read as a bill: {e}; ask the partner to correct and re-send it",
                i.number,
                file.partner_name,
                file.label()
            ))
        })?;
        let mut r = Resolver::new(set, &self.scope);
        let vendor = r.resolve(MappingKind::VENDOR, &i.vendor_key);
        let mut draft = inv.into_draft();
        let mut accounts = Vec::with_capacity(draft.lines.len());
        for l in &draft.lines {
            let key = self.account_key(&i.vendor_key, l.cost_code.as_deref());
            // An item-specific account falls back to the vendor's before anything is missing.
            let found = r
                .resolve_optional(MappingKind::ACCOUNT, &key)
                .or_else(|| r.resolve_optional(MappingKind::ACCOUNT, &i.vendor_key));
            accounts.push(match found {
                Some(a) => Some(a),
                None => r.resolve(MappingKind::ACCOUNT, &i.vendor_key),
            });
        }
        let project = match self.project_key(i) {
            Some(k) => r.resolve(MappingKind::PROJECT, &k).map(|t| (k, t)),
            None => None,
        };
        r.finish().map_err(MapError::Missing)?;
        let project = match project {
            Some((k, t)) => Some(ProjectRef::parse_key(&t).ok_or_else(|| {
                MapError::Invalid(format!("the project mapping for PO {k:?} is {t:?}, not WBS1|WBS2|WBS3"))
            })?),
            None => None,
        };
        for (l, a) in draft.lines.iter_mut().zip(accounts) {
            l.account = a.unwrap_or_default();
            l.project = project.clone();
        }
        draft.vendor = vendor.unwrap_or_default();
        draft.vendor_name = Some(i.seller.clone());
        draft.source =
            SourceRef { system: "cleo".into(), entity: "810".into(), id: doc.id.clone(), version: doc.version.clone() };
        draft.description = Some(
            format!("EDI 810 {} from {} ({})", i.control, file.partner_name, file.name).chars().take(250).collect(),
        );
        ApInvoice::try_new(draft).map_err(|e| MapError::Invalid(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_default_and_refuse_unknown_keys() {
        let o: Ap810Options = serde_json::from_value(serde_json::json!({"accounts": "by_item"})).unwrap();
        assert_eq!((o.accounts, o.projects, o.precheck), (Accounts::ByItem, Projects::ByPo, true));
        let e = serde_json::from_value::<Ap810Options>(serde_json::json!({"acounts": "by_item"})).unwrap_err();
        assert!(e.to_string().contains("acounts"), "{e}");
    }
}
