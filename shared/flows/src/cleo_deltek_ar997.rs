//! `cleo-deltek-ar997`: the 997 functional acknowledgments partners send for our outbound 810s
//! (`deltek-cleo-ar810`), matched to the invoices they acknowledge and recorded on them.
//!
//! **Source** ([`InboundSource`], shared with `cleo-deltek-ap810`: one read per file however
//! many flows use it). **Documents**: one per 997 transaction set in the partners' inbound files
//! (`<partner>/997/<ISA13>/<GS06>/<ST02>`). A file of only 997s that is held whole is one
//! document failing with the parser's errors.
//!
//! **Eligibility.** A 997 for a group other than invoices (AK101 not `IN`) is skipped
//! (`not_for_invoices`); a re-sent 997 is the same document (nothing done twice).
//!
//! **Target** ([`AckTarget`]): the 997 is matched by its AK102 (our GS06) and its sender to the
//! interchange we sent, and recorded on the invoice's work item with `Engine::acknowledge`:
//! accepted (AK5 `A`/`E`) stays posted with the acknowledgment in its trail; rejected becomes a
//! failed item (code `rejected_by_receiver`) naming the partner's AK3/AK4/AK5 errors — fix the
//! cause (the invoice in Deltek, or the partner profile) and replay it: it is sent again under a
//! new control number. An 810 without a 997 after the partner's `ack_within_hours` is noted as
//! overdue on its item by the source's polls.
//!
//! The target connection is the Cleo connection the 810s were uploaded through (usually the
//! same as the source).

use std::sync::Arc;

use mlc_cleo::edi::{HeldFile, InboundAck, InboundChunk, InboundFile};
use mlc_cleo::{AckDoc, AckTarget, CleoConnection, InboundSource};
use mlc_core::connect::BuildError;
use mlc_core::engine::flow::{Eligibility, FlowSpec, MapError, SourceDoc};
use mlc_core::engine::model::ItemSummary;
use mlc_core::engine::parts::{FlowDef, SourceRecord};
use mlc_core::mapping::{MappingKey, MappingSet};
use serde::{Deserialize, Serialize};

use crate::catalog::{FlowContext, FlowKind, parse_options};
use crate::deltek_cleo_ar810::SCOPE;

/// Stable skip codes of this flow.
pub mod codes {
    pub const NOT_FOR_INVOICES: &str = "not_for_invoices";
}

crate::register_flow_kind!(
    KIND,
    FlowKind {
        name: "cleo-deltek-ar997",
        description: "Partners' 997s from Cleo → acknowledgments of our Deltek AR 810s",
        source_system: "cleo",
        target_system: "cleo",
        mapping_scope: SCOPE,
        check_options: |o| parse_options::<Ar997Options>(o).map(|_| ()),
        build,
    }
);

/// No options yet; unknown keys are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Ar997Options {}

fn build(ctx: &mut FlowContext<'_>) -> Result<(), BuildError> {
    let _: Ar997Options = ctx.options()?;
    let source_client = ctx.source_connection::<CleoConnection>("cleo")?.client().clone();
    let target_client = ctx.target_connection::<CleoConnection>("cleo")?.client().clone();
    let conn = ctx.settings.source.clone();
    let engine = ctx.engine.clone();
    let source =
        ctx.source(mlc_cleo::sources::FAMILY_INBOUND, || Ok(InboundSource::new(&conn, source_client, &engine)))?;
    let target = Arc::new(AckTarget::new(&ctx.settings.target, target_client, ctx.engine));
    let flow = CleoDeltekAr997 { name: ctx.name.to_string(), scope: ctx.mapping_scope(&KIND) };
    ctx.add(flow, source, target)
}

/// One document of an inbound file for this flow.
#[derive(Debug, Clone)]
pub enum AckInDoc {
    Ack { file: Arc<InboundFile>, ack: Box<InboundAck> },
    Held { file: Arc<InboundFile>, held: HeldFile },
}

/// The flow.
pub struct CleoDeltekAr997 {
    name: String,
    scope: String,
}

#[async_trait::async_trait]
impl FlowDef for CleoDeltekAr997 {
    type Source = InboundSource;
    type Target = AckTarget;
    type Doc = AckInDoc;

    fn describe(&self) -> FlowSpec {
        FlowSpec {
            name: self.name.clone(),
            kind: KIND.name.into(),
            mapping_scope: self.scope.clone(),
            description: KIND.description.into(),
            ..Default::default()
        }
    }

    fn documents(&self, record: &SourceRecord<Arc<InboundChunk>>) -> Vec<SourceDoc<AckInDoc>> {
        let c = &record.record;
        let file = c.file.clone();
        let mut out = Vec::new();
        if let Some(h) = c.held.as_ref().filter(|h| !h.has_invoices) {
            out.push(SourceDoc {
                entity: "997-file".into(),
                id: h.doc_id.clone(),
                version: h.version.clone(),
                summary: ItemSummary {
                    label: format!("file {} from {} (held whole)", file.label(), file.partner_name),
                    ..Default::default()
                },
                record: AckInDoc::Held { file: file.clone(), held: h.clone() },
            });
        }
        for a in &c.acks {
            out.push(SourceDoc {
                entity: "997".into(),
                id: a.doc_id.clone(),
                version: a.version.clone(),
                summary: ItemSummary {
                    label: format!(
                        "997 from {} for group {} ({}) in {}",
                        file.partner_name,
                        a.ack.group_control,
                        a.ack.status.code(),
                        file.name
                    ),
                    vendor: Some(file.partner_name.clone()),
                    ..Default::default()
                },
                record: AckInDoc::Ack { file: file.clone(), ack: Box::new(a.clone()) },
            });
        }
        out
    }

    fn eligibility(&self, doc: &SourceDoc<AckInDoc>) -> Eligibility {
        match &doc.record {
            AckInDoc::Ack { file, ack } if ack.ack.functional_id != "IN" => Eligibility::skip(
                codes::NOT_FOR_INVOICES,
                format!(
                    "the 997 {} from {} acknowledges a {} group, not our invoices: nothing to record",
                    ack.control, file.partner_name, ack.ack.functional_id
                ),
            ),
            _ => Eligibility::Eligible,
        }
    }

    fn required_mappings(&self, _doc: &SourceDoc<AckInDoc>) -> Vec<MappingKey> {
        Vec::new()
    }

    fn map(&self, doc: &SourceDoc<AckInDoc>, _set: &MappingSet) -> Result<AckDoc, MapError> {
        match &doc.record {
            AckInDoc::Held { file, held } => Err(MapError::Invalid(held.reason(file))),
            AckInDoc::Ack { file, ack } => {
                Ok(AckDoc { partner: file.partner.clone(), ack: (**ack).clone(), file: file.label() })
            }
        }
    }
}
