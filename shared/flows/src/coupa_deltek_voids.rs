//! `coupa-deltek-voids`: Coupa invoices voided after they reached Deltek → a reversing voucher in
//! Deltek Vantagepoint (or, by option, a held item telling AP what to do). Never silent.
//!
//! **Source**: the same [`InvoiceSource`] as `coupa-deltek-ap` (`<coupa connection>/invoice`,
//! one read per invoice version for both): its voided pass lists `status=voided` by `updated-at`
//! watermark, and `invoice.voided` webhooks hint the same invoices. Only voided invoices are
//! documents of this flow; an invoice in any other status holds nothing for it.
//!
//! **Did it reach Deltek?** An invoice voided before anything was exported needs nothing in
//! Deltek and is skipped (`never_exported`). It reached Deltek when Coupa says it was exported
//! (`exported`, or a `last-exported-at`: the export flag is what Coupa's ERP pattern trusts, and
//! covers vouchers keyed by hand or sent by an earlier integration) or when ml-connector's AP flow
//! into this Deltek connection put it there while Coupa had not yet heard (the source reads that
//! from the engine's own records, `InvoiceRecord::in_target`).
//!
//! **What happens then** (option `void_action`):
//! - `"reverse"` (default): a reversing voucher on the same vendor, numbered `<number>-VOID`,
//!   with every line of the original on the same GL account, project and PO, with the opposite
//!   sign (a credit memo for an invoice, an invoice for a credit note), dated the day Coupa voided
//!   it (`reversal_date = "void_date"`) or the original invoice date (`"invoice_date"`; the
//!   original's period may be closed). It is looked up before it is created like any voucher, so a
//!   void seen twice reverses once; project costs and the vendor balance come back to what they
//!   were. If the original was already paid in Deltek, the vendor now shows a debit balance: AP
//!   recovers it (Deltek's own reports show it). Then the invoice is marked exported in Coupa when
//!   it was not.
//! - `"hold"`: nothing is written; the item is skipped with code `void_held` and a reason that
//!   names the voucher to void or reverse in Deltek by hand.
//!
//! Mapping is the AP flow's ([`Coding`]: the same options, scope `coupa-deltek`), so the reversal
//! lands exactly where the original did.

use std::sync::Arc;

use chrono::NaiveDate;
use mlc_core::connect::BuildError;
use mlc_core::domain::{ApInvoice, SourceRef};
use mlc_core::engine::flow::{Eligibility, FlowSpec, MapError, SourceDoc, StepError};
use mlc_core::engine::model::TargetRef;
use mlc_core::engine::parts::{FlowDef, SourceRecord};
use mlc_core::mapping::{MappingKey, MappingSet};
use mlc_coupa::CoupaClient;
use mlc_coupa::sources::{InvoiceListOptions, InvoiceRecord, InvoiceSource};
use mlc_deltek::{ApVoucherTarget, DeltekConnection};
use serde::{Deserialize, Serialize};

use crate::catalog::{FlowContext, FlowKind, parse_options};
use crate::coupa_deltek_ap::{
    Coding, ProjectSource, SCOPE, TaxMode, check_listing, invoice_label, invoice_source, summary, tell_coupa,
};

/// Stable skip codes of this flow.
pub mod codes {
    /// Voided before it was ever exported: nothing in Deltek to undo.
    pub const NEVER_EXPORTED: &str = "never_exported";
    /// `void_action = "hold"`: AP voids or reverses the voucher in Deltek by hand.
    pub const VOID_HELD: &str = "void_held";
}

crate::register_flow_kind!(
    KIND,
    FlowKind {
        name: "coupa-deltek-voids",
        description: "Coupa invoices voided after export → reversing vouchers in Deltek Vantagepoint (or held for AP)",
        source_system: "coupa",
        target_system: "deltek",
        mapping_scope: SCOPE,
        check_options: |o| parse_options::<VoidOptions>(o).and_then(|o| o.check()),
        build,
    }
);

/// What a void that reached Deltek becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum VoidAction {
    /// A reversing voucher.
    #[default]
    Reverse,
    /// A skipped item telling AP what to do.
    Hold,
}

/// The date of a reversing voucher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ReversalDate {
    /// The day Coupa voided the invoice (its `updated-at`).
    #[default]
    VoidDate,
    /// The original invoice date.
    InvoiceDate,
}

/// The flow's options. The coding options must equal the AP flow's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VoidOptions {
    pub void_action: VoidAction,
    pub reversal_date: ReversalDate,
    pub account_segments: Vec<usize>,
    pub project_source: ProjectSource,
    pub project_segment: usize,
    pub project_field: String,
    pub tax: TaxMode,
    /// Mark a reversed invoice exported in Coupa when it was not.
    pub mark_exported: bool,
    /// How far back the first scan of voided invoices looks, days (0 = everything).
    pub initial_lookback_days: u32,
    pub overlap_secs: u64,
    pub recheck_minutes: u64,
    pub page_size: u32,
    pub precheck: bool,
}

impl Default for VoidOptions {
    fn default() -> Self {
        let c = Coding::default();
        VoidOptions {
            void_action: VoidAction::Reverse,
            reversal_date: ReversalDate::VoidDate,
            account_segments: c.account_segments,
            project_source: c.project_source,
            project_segment: c.project_segment,
            project_field: c.project_field,
            tax: c.tax,
            mark_exported: true,
            initial_lookback_days: 90,
            overlap_secs: 120,
            recheck_minutes: 60,
            page_size: 50,
            precheck: true,
        }
    }
}

impl VoidOptions {
    pub fn coding(&self) -> Coding {
        Coding {
            account_segments: self.account_segments.clone(),
            project_source: self.project_source,
            project_segment: self.project_segment,
            project_field: self.project_field.clone(),
            tax: self.tax,
        }
    }

    pub fn check(&self) -> Result<(), String> {
        self.coding().check()?;
        check_listing(self.page_size, self.recheck_minutes)
    }

    fn listing(&self) -> InvoiceListOptions {
        InvoiceListOptions {
            page_size: self.page_size,
            overlap: chrono::Duration::seconds(self.overlap_secs as i64),
            recheck: chrono::Duration::minutes(self.recheck_minutes as i64),
        }
    }
}

fn build(ctx: &mut FlowContext<'_>) -> Result<(), BuildError> {
    let opts: VoidOptions = ctx.options()?;
    opts.check().map_err(|e| BuildError(format!("options: {e}")))?;
    let deltek = ctx.target_connection::<DeltekConnection>("deltek")?.client.clone();
    let (coupa, source) = invoice_source(ctx, opts.listing())?;
    let target =
        Arc::new(ApVoucherTarget::new(&ctx.settings.target, deltek, opts.precheck).with_memory(ctx.engine.sequences()));
    let flow = CoupaDeltekVoids {
        name: ctx.name.to_string(),
        scope: ctx.mapping_scope(&KIND),
        target_connection: ctx.settings.target.clone(),
        opts,
        coupa,
    };
    ctx.add(flow, source, target)
}

/// The flow.
pub struct CoupaDeltekVoids {
    name: String,
    scope: String,
    target_connection: String,
    opts: VoidOptions,
    coupa: CoupaClient,
}

impl CoupaDeltekVoids {
    /// How it reached Deltek, when it did (see the module docs).
    fn reached(&self, r: &InvoiceRecord) -> Option<String> {
        let inv = &r.invoice;
        if let Some(t) = r.in_target.get(&self.target_connection) {
            return Some(format!(
                "ml-connector posted it as {} before Coupa heard of the export",
                t.display.as_deref().unwrap_or(&t.id)
            ));
        }
        if inv.exported || inv.last_exported_at.is_some() {
            let when = inv.last_exported_at.map(|t| format!(" on {}", t.format("%Y-%m-%d"))).unwrap_or_default();
            return Some(format!("Coupa exported it{when}"));
        }
        None
    }

    fn reversal_date(&self, r: &InvoiceRecord) -> Option<NaiveDate> {
        let inv = &r.invoice;
        match self.opts.reversal_date {
            ReversalDate::VoidDate => inv.updated_at.map(|t| t.date_naive()).or(inv.invoice_date),
            ReversalDate::InvoiceDate => inv.invoice_date,
        }
    }
}

#[async_trait::async_trait]
impl FlowDef for CoupaDeltekVoids {
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
        if !r.invoice.is_voided() {
            // Approved, pending, draft …: nothing to undo (the AP flow accounts for them).
            return Vec::new();
        }
        let mut s = summary(&r.invoice);
        s.label = format!("void of {}", s.label);
        vec![SourceDoc {
            entity: "invoice-void".into(),
            id: r.invoice.id.to_string(),
            version: r.content.clone(),
            summary: s,
            record: r.clone(),
        }]
    }

    fn eligibility(&self, doc: &SourceDoc<InvoiceRecord>) -> Eligibility {
        let inv = &doc.record.invoice;
        let what = invoice_label(inv);
        let Some(how) = self.reached(&doc.record) else {
            return Eligibility::skip(
                codes::NEVER_EXPORTED,
                format!("{what} was voided in Coupa before it was exported: nothing reached Deltek, nothing to undo"),
            );
        };
        if self.opts.void_action == VoidAction::Hold {
            let voided = inv.updated_at.map(|t| format!(" on {}", t.format("%Y-%m-%d"))).unwrap_or_default();
            return Eligibility::skip(
                codes::VOID_HELD,
                format!(
                    "{what} was voided in Coupa{voided} after it reached Deltek ({how}). AP: void or reverse the \
                     voucher for invoice {} in Deltek by hand (option void_action = \"hold\"; set it to \"reverse\" \
                     and replay to have ml-connector post the reversal)",
                    inv.invoice_number.trim()
                ),
            );
        }
        Eligibility::Eligible
    }

    fn required_mappings(&self, doc: &SourceDoc<InvoiceRecord>) -> Vec<MappingKey> {
        self.opts.coding().keys(&self.scope, &doc.record.invoice)
    }

    fn map(&self, doc: &SourceDoc<InvoiceRecord>, set: &MappingSet) -> Result<ApInvoice, MapError> {
        let inv = &doc.record.invoice;
        let date = self.reversal_date(&doc.record).ok_or_else(|| {
            MapError::Invalid(format!("{} has no date to date its reversal with", invoice_label(inv)))
        })?;
        // A reversal dated before the original would be refused by Deltek's own date rules.
        let date = inv.invoice_date.map_or(date, |d| date.max(d));
        let source = SourceRef {
            system: "coupa".into(),
            entity: "invoice-void".into(),
            id: doc.id.clone(),
            version: doc.record.content.clone(),
        };
        self.opts.coding().voucher(&self.scope, source, inv, set, Some(date))
    }

    async fn after_settled(&self, doc: &SourceDoc<InvoiceRecord>, target: &TargetRef) -> Result<(), StepError> {
        tell_coupa(&self.coupa, &doc.record.invoice, target, None, self.opts.mark_exported, false).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_refuse_unknown_keys_and_bad_ranges() {
        let o: VoidOptions = serde_json::from_value(serde_json::json!({"void_action": "hold"})).unwrap();
        assert_eq!(o.void_action, VoidAction::Hold);
        assert!(o.check().is_ok());
        let e = serde_json::from_value::<VoidOptions>(serde_json::json!({"void_acton": "hold"})).unwrap_err();
        assert!(e.to_string().contains("void_acton"), "{e}");
        let e = serde_json::from_value::<VoidOptions>(serde_json::json!({"void_action": "delete"})).unwrap_err();
        assert!(e.to_string().contains("delete"), "{e}");
        let bad = VoidOptions { recheck_minutes: 0, ..VoidOptions::default() };
        assert!(bad.check().unwrap_err().contains("recheck_minutes"));
    }
}
