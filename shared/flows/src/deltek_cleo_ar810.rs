//! `deltek-cleo-ar810`: Deltek Vantagepoint AR (client) invoices → X12 810 files in each trading
//! partner's outbound folder in Cleo Integration Cloud.
//!
//! **Source** ([`ArInvoiceSource`]): invoices posted since the cursor (`posted:<period>:<seq>`,
//! the posting order, so a payment never re-sends an invoice; the first poll starts at
//! `start_period`, else Vantagepoint's active period). One document per invoice, versioned by its
//! posting.
//!
//! **Eligibility.** An invoice goes by EDI when its billing client is in a partner's `clients`
//! (the Cleo connection's `partners.<key>.clients`); every other client's invoices are skipped
//! with code `no_partner`, naming the client and how to put it on EDI. Credit memos go as 810s
//! with BIG07 `CR` (option `credit_memos = "send"`, the default) or are skipped for a person
//! (`"skip"`, code `credit_memo_skipped`).
//!
//! **Mapping** (scope `cleo-deltek`): none is needed — the partner profile says everything the
//! 810 carries (ids, qualifiers, release, separators); `buyer_id` replaces the client id in
//! N1*BT04 when the partner knows us by another.
//!
//! **Target** ([`Edi810Target`]): the 810 is rendered per the partner's profile and read back
//! valid before anything moves, numbered from the partner's control sequence in the store
//! (`sequences()`, never reused), kept, and uploaded under a unique timestamped name carrying
//! the control number; a lost upload answer is resolved by listing the folder for that name,
//! never by a blind re-upload. The partner's 997 is matched by the `cleo-deltek-ar997` flow.

use std::sync::Arc;

use mlc_cleo::{CleoConnection, Edi810Target, OutboundInvoice, Partners};
use mlc_core::connect::BuildError;
use mlc_core::domain::{ArInvoice, DocumentKind, Party};
use mlc_core::engine::flow::{Eligibility, FlowSpec, MapError, SourceDoc};
use mlc_core::engine::model::ItemSummary;
use mlc_core::engine::parts::{FlowDef, SourceRecord};
use mlc_core::mapping::{MappingKey, MappingSet};
use mlc_deltek::ar_source::{ArInvoiceSource, ArRecord};
use mlc_deltek::{ArCursor, DeltekConnection};
use serde::{Deserialize, Serialize};

use crate::catalog::{FlowContext, FlowKind, parse_options};

/// The mapping scope of the Deltek ↔ Cleo flows.
pub const SCOPE: &str = "cleo-deltek";

/// Stable skip codes of this flow.
pub mod codes {
    /// The invoice's client is on no partner's `clients` list.
    pub const NO_PARTNER: &str = "no_partner";
    pub const CREDIT_MEMO_SKIPPED: &str = "credit_memo_skipped";
}

crate::register_flow_kind!(
    KIND,
    FlowKind {
        name: "deltek-cleo-ar810",
        description: "Deltek Vantagepoint AR invoices → X12 810s in trading partners' Cleo folders",
        source_system: "deltek",
        target_system: "cleo",
        mapping_scope: SCOPE,
        check_options: |o| parse_options::<Ar810Options>(o).and_then(|o| o.check()),
        build,
    }
);

/// What to do with credit memos.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CreditMemos {
    /// As an 810 with BIG07 `CR`.
    #[default]
    Send,
    /// Skip them (a person sends them another way).
    Skip,
}

/// The flow's options (`[flows.deltek-cleo-ar810] options = { ... }`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Ar810Options {
    /// First poll: invoices posted from this period on (`YYYYPP`); default the active period.
    pub start_period: Option<i64>,
    pub credit_memos: CreditMemos,
}

impl Ar810Options {
    pub fn check(&self) -> Result<(), String> {
        if let Some(p) = self.start_period
            && !(190001..=299912).contains(&p)
        {
            return Err(format!("start_period = {p} is not a period (YYYYPP, e.g. 202505)"));
        }
        if let Some(p) = self.start_period
            && !(1..=13).contains(&(p % 100))
        {
            return Err(format!("start_period = {p}: the period number (last two digits) must be 01 to 13"));
        }
        Ok(())
    }
}

fn build(ctx: &mut FlowContext<'_>) -> Result<(), BuildError> {
    let opts: Ar810Options = ctx.options()?;
    opts.check().map_err(|e| BuildError(format!("options: {e}")))?;
    let deltek = ctx.source_connection::<DeltekConnection>("deltek")?.client.clone();
    let cleo = ctx.target_connection::<CleoConnection>("cleo")?.client().clone();
    let start = opts.start_period.map(|period| ArCursor::Posted { period, post_seq: 0 });
    let conn = ctx.settings.source.clone();
    let source = ctx.source(mlc_deltek::ar_source::FAMILY_AR, || Ok(ArInvoiceSource::new(&conn, deltek, start)))?;
    let target = Arc::new(Edi810Target::new(&ctx.settings.target, cleo, ctx.engine));
    if target.partners().iter().all(|p| p.clients.is_empty()) {
        return Err(BuildError(format!(
            "connection {} lists no Deltek client under any partners.<key>.clients: no invoice could go by EDI",
            ctx.settings.target
        )));
    }
    let partners = target.partners().clone();
    let flow = DeltekCleoAr810 { name: ctx.name.to_string(), scope: ctx.mapping_scope(&KIND), opts, partners };
    ctx.add(flow, source, target)
}

/// The flow.
pub struct DeltekCleoAr810 {
    name: String,
    scope: String,
    opts: Ar810Options,
    partners: Partners,
}

/// The client as people name it (its firm number), else its `ClientID`.
fn client_of(rec: &ArRecord) -> String {
    rec.client_number.clone().or_else(|| rec.invoice.buyer.id.clone()).unwrap_or_default()
}

impl DeltekCleoAr810 {
    /// The partner a record's client is invoiced through (by firm number or `ClientID`).
    fn partner_of(&self, rec: &ArRecord) -> Option<&mlc_cleo::Partner> {
        rec.client_number
            .as_deref()
            .and_then(|n| self.partners.for_client(n))
            .or_else(|| rec.invoice.buyer.id.as_deref().and_then(|id| self.partners.for_client(id)))
    }
}

#[async_trait::async_trait]
impl FlowDef for DeltekCleoAr810 {
    type Source = ArInvoiceSource;
    type Target = Edi810Target;
    type Doc = Arc<ArRecord>;

    fn describe(&self) -> FlowSpec {
        FlowSpec {
            name: self.name.clone(),
            kind: KIND.name.into(),
            mapping_scope: self.scope.clone(),
            description: KIND.description.into(),
            ..Default::default()
        }
    }

    fn documents(&self, record: &SourceRecord<Arc<ArRecord>>) -> Vec<SourceDoc<Arc<ArRecord>>> {
        let rec = &record.record;
        let inv = &rec.invoice;
        let client = client_of(rec);
        let partner = self.partner_of(rec).map(|p| p.key.clone());
        let summary = ItemSummary {
            label: format!(
                "AR invoice {} to {}{}",
                inv.invoice_number,
                if inv.buyer.name.is_empty() { &client } else { &inv.buyer.name },
                partner.map(|p| format!(" (EDI {p})")).unwrap_or_default()
            ),
            vendor: Some(inv.buyer.name.clone()),
            project: inv.lines.first().and_then(|l| l.project.as_ref()).map(|p| p.top().to_string()),
            amount: Some(mlc_cleo::edi::signed(inv.kind, inv.total)),
            currency: Some(inv.currency),
            document_date: Some(inv.invoice_date),
        };
        vec![SourceDoc {
            entity: "ar-invoice".into(),
            id: record.id.clone(),
            version: record.version.clone(),
            summary,
            record: rec.clone(),
        }]
    }

    fn eligibility(&self, doc: &SourceDoc<Arc<ArRecord>>) -> Eligibility {
        let inv = &doc.record.invoice;
        let client = client_of(&doc.record);
        if self.partner_of(&doc.record).is_none() {
            return Eligibility::skip(
                codes::NO_PARTNER,
                format!(
                    "AR invoice {} is billed to client {} ({}), which is not on EDI: to send it, add {} to a \
                     partner's `clients` on the Cleo connection and replay",
                    inv.invoice_number,
                    if client.is_empty() { "with no client id" } else { &client },
                    inv.buyer.name,
                    if client.is_empty() { "the client" } else { &client }
                ),
            );
        }
        if inv.kind == DocumentKind::CreditMemo && self.opts.credit_memos == CreditMemos::Skip {
            return Eligibility::skip(
                codes::CREDIT_MEMO_SKIPPED,
                format!(
                    "credit memo {} is not sent by EDI (option credit_memos = \"skip\"); send it another way, or set \
                     credit_memos = \"send\" and replay",
                    inv.invoice_number
                ),
            );
        }
        Eligibility::Eligible
    }

    fn required_mappings(&self, _doc: &SourceDoc<Arc<ArRecord>>) -> Vec<MappingKey> {
        Vec::new()
    }

    fn map(&self, doc: &SourceDoc<Arc<ArRecord>>, _set: &MappingSet) -> Result<OutboundInvoice, MapError> {
        let client = client_of(&doc.record);
        let p = self
            .partner_of(&doc.record)
            .ok_or_else(|| MapError::Invalid(format!("client {client} has no EDI partner")))?;
        let mut invoice = doc.record.invoice.clone().into_draft();
        // N1*BT04: the id the partner knows us by for this client, else the client's number.
        let buyer_id = p.buyer_id.clone().unwrap_or(client);
        invoice.buyer = Party { id: Some(buyer_id), ..invoice.buyer };
        let invoice = ArInvoice::try_new(invoice).map_err(|e| MapError::Invalid(e.to_string()))?;
        Ok(OutboundInvoice { partner: p.key.clone(), source_doc: format!("deltek ar-invoice {}", doc.id), invoice })
    }
}

/// 810s sent through the Cleo connection `connection` that have had no 997 for longer than
/// their partner's `ack_within_hours` (for reports: `mlc demo`, status views). Each is also noted
/// on its work item by the inbound source's polls.
pub async fn overdue_acks(rt: &crate::Runtime, connection: &str) -> Result<Vec<mlc_cleo::ledger::Overdue>, BuildError> {
    let cleo = rt.connections.client::<CleoConnection>(connection, "cleo")?;
    let s = cleo.client().settings();
    let partners = Partners::from_settings(&s.edi, &s.partners);
    let now = rt.engine.clock.now();
    let found = mlc_cleo::ledger::overdue(&rt.engine, connection, &partners, now)
        .await
        .map_err(|e| BuildError(format!("the sent 810s of {connection} cannot be read: {e}")))?;
    Ok(found.into_iter().map(|(o, _)| o).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOML: &str = r#"
[connections.deltek]
system = "deltek"
base_url = "http://127.0.0.1:1/Acme/api"
database = "ACME"

[connections.cleo]
system = "cleo"
base_url = "http://127.0.0.1:2"

[connections.cleo.folders.out]
mailbox = "STATEDOT"
folder = "to-partner"
direction = "outbound"

[connections.cleo.edi]
qualifier = "ZZ"
id = "CASCADERIDGE"

[connections.cleo.partners.STATEDOT]
qualifier = "ZZ"
id = "STATEDOTAP"
outbound = "out"
clients = ["STATEDOT"]
release = "005010"

[flows.deltek-cleo-ar810]
source = "deltek"
target = "cleo"
options = { start_period = 202505 }
"#;

    #[test]
    fn partner_profiles_and_options_are_checked_at_load_with_file_and_line() {
        crate::Config::parse(TOML, "mlc.toml").expect("a good configuration");
        let e = crate::Config::parse(&TOML.replace("\"005010\"", "\"003050\""), "mlc.toml").unwrap_err().to_string();
        assert!(e.starts_with("mlc.toml line 7") && e.contains("partners.STATEDOT.release"), "{e}");
        assert!(e.contains("\"004010\" or \"005010\""), "{e}");
        let e = crate::Config::parse(&TOML.replace("outbound = \"out\"", "outbound = \"nowhere\""), "mlc.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("partners.STATEDOT.outbound") && e.contains("not configured"), "{e}");
        let e = crate::Config::parse(&TOML.replace("202505", "202514"), "mlc.toml").unwrap_err().to_string();
        assert!(
            e.contains("line 30") && e.contains("flows.deltek-cleo-ar810.options") && e.contains("01 to 13"),
            "{e}"
        );
    }

    #[test]
    fn options_default_and_are_checked() {
        let o: Ar810Options = serde_json::from_value(serde_json::json!({})).unwrap();
        assert_eq!(o.credit_memos, CreditMemos::Send);
        assert!(o.check().is_ok());
        let bad: Ar810Options = serde_json::from_value(serde_json::json!({"start_period": 202514})).unwrap();
        assert!(bad.check().unwrap_err().contains("01 to 13"));
        let e = serde_json::from_value::<Ar810Options>(serde_json::json!({"start": 1})).unwrap_err();
        assert!(e.to_string().contains("start"), "{e}");
    }
}
