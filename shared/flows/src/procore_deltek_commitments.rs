//! `procore-deltek-commitments`: approved Procore commitments (work orders = subcontracts,
//! purchase orders) and approved change orders → balanced Deltek Vantagepoint journal entries
//! (Vantagepoint has no public purchase-order endpoint, so committed cost is recorded as memo
//! journal entries against the project).
//!
//! **Source** ([`CommitmentSource`], `<connection>/commitment`): per project, work orders,
//! purchase orders and change order packages, each read back with its lines (a change order
//! with its commitment). The `Work Order Contracts`, `Purchase Order Contracts` and `Change
//! Order Packages` webhooks are hints; the poll is the nightly reconciliation (`every = "1d"`).
//!
//! **Documents.** One per commitment (`wo:` / `po:<project>/<id>`) and one per change order
//! (`co:<project>/<id>`), versioned by Procore's `updated_at` (so a commitment changed and
//! changed back is still a change to post).
//!
//! **Eligibility.** Commitments that bind the company: `Approved`, `Complete`, `Partially
//! Received`, `Received`, `Closed`. Drafts, bids, signatures pending, `Processing`, `Submitted`
//! wait (`not_committed`); `Void` and `Terminated` are skipped (`void`: a journal entry posted
//! earlier stays in Deltek, to be reversed there). Change orders: `approved` posts; pending ones
//! wait (`change_order_pending`), `void`/`rejected`/`not_proceeding` are skipped
//! (`change_order_void`), `no_charge` carries no amount (`no_charge`).
//!
//! **The journal entry.** One line per commitment line, debiting the committed-cost account of
//! its kind (`work_order_account`, `purchase_order_account`) on the project and the cost code's
//! phase (mappings `project` and `cost_code`, as the AP flows), and one credit line on
//! `offset_account` (a memo liability, no project) so every entry balances. A change order
//! posts its own entry, the same way, on its commitment's account. References:
//! `WO<id>` / `PO<id>` / `CO<id>` (Procore ids, unique and stable), looked up in Deltek before
//! every create, so an entry is never posted twice.
//!
//! **Revisions post the difference.** What was posted for a commitment is kept by the engine as
//! a learnt mapping (`commitment_posted`, keyed by the document): the revision number and the
//! cumulative amount per account and project level. It is written in the same step that records
//! the entry as posted, under the natural-key lock, and read with the document's other mappings.
//! A revised commitment (lines added, amounts changed, a cost code moved) posts a new entry
//! `WO<id>-R2`, `-R3` … holding only the differences per account and project level (a decrease
//! credits the committed account and debits the offset). A new version that changes nothing
//! posted (a status moving from `Approved` to `Complete`, a description) is skipped as already in
//! Deltek (`already_in_target`). A commitment revised to all zeros reverses what was posted.
//! The record is ml-connector's, not Deltek's: an entry deleted by hand in Deltek is not noticed
//! until the next revision of that commitment fails to find its predecessor; and two revisions
//! of one commitment whose entries are written while the first one's answer is lost (in doubt)
//! can leave the record one revision behind (documented limitation; the platform gap is
//! reported).
//!
//! **Zero amounts.** A commitment or change order whose amounts are all zero (and nothing was
//! posted for it before) fails naming the cause; nothing is posted.
//!
//! Nothing is written back to Procore.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use mlc_core::connect::BuildError;
use mlc_core::domain::{JournalEntry, JournalEntryDraft, JournalLine, ProjectRef, SourceRef};
use mlc_core::engine::flow::{Eligibility, FlowSpec, Found, MapError, Plan, SourceDoc};
use mlc_core::engine::model::{ItemSummary, TargetRef};
use mlc_core::engine::parts::{FlowDef, SourceRecord};
use mlc_core::mapping::{MappingKey, MappingSet, Resolver};
use mlc_deltek::{DeltekConnection, JournalEntryTarget};
use mlc_procore::{
    ChangeOrderStatus, Commitment, CommitmentKind, CommitmentRecord, CommitmentSource, CommitmentStatus,
    CurrencyConfiguration, LineItem, PollOptions, ProcoreConnection,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::catalog::{FlowContext, FlowKind, parse_options};
use crate::procore_deltek::{
    AccountSource, COMMITMENT_POSTED, CostLine, PhaseSource, Placer, SCOPE, currency, lookback, project_label,
    project_number,
};
use crate::procore_deltek_ap_subcontract::check_common;

/// Stable skip codes of this flow.
pub mod codes {
    pub const NOT_COMMITTED: &str = "not_committed";
    pub const VOID: &str = "void";
    pub const OTHER_STATUS: &str = "other_status";
    pub const CHANGE_ORDER_PENDING: &str = "change_order_pending";
    pub const CHANGE_ORDER_VOID: &str = "change_order_void";
    pub const NO_CHARGE: &str = "no_charge";
}

crate::register_flow_kind!(
    KIND,
    FlowKind {
        name: "procore-deltek-commitments",
        description: "Procore approved commitments and change orders → Deltek Vantagepoint journal entries (differences on revision)",
        source_system: "procore",
        target_system: "deltek",
        mapping_scope: SCOPE,
        check_options: |o| parse_options::<CommitmentOptions>(o).and_then(|o| o.check()),
        build,
    }
);

/// The flow's options (`[flows.procore-deltek-commitments] options = { ... }`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CommitmentOptions {
    /// Deltek account debited with committed subcontracts (work orders), e.g. `58100`.
    pub work_order_account: String,
    /// Deltek account debited with committed purchase orders, e.g. `58200`.
    pub purchase_order_account: String,
    /// Deltek account credited to balance each entry (a memo liability, no project), e.g. `29100`.
    pub offset_account: String,
    pub phase_source: PhaseSource,
    /// Currency of commitments Procore gives none for.
    pub currency: String,
    /// How far back the first poll looks, days (0 = everything).
    pub initial_lookback_days: u32,
    /// Re-list records stamped this close to the cursor, seconds.
    pub overlap_secs: u64,
}

impl Default for CommitmentOptions {
    fn default() -> Self {
        CommitmentOptions {
            work_order_account: String::new(),
            purchase_order_account: String::new(),
            offset_account: String::new(),
            phase_source: PhaseSource::CostCode,
            currency: "USD".into(),
            initial_lookback_days: 90,
            overlap_secs: 300,
        }
    }
}

impl CommitmentOptions {
    pub fn check(&self) -> Result<(), String> {
        for (key, v, what) in [
            ("work_order_account", &self.work_order_account, "committed subcontracts, e.g. 58100"),
            ("purchase_order_account", &self.purchase_order_account, "committed purchase orders, e.g. 58200"),
            ("offset_account", &self.offset_account, "the commitments offset, a memo liability, e.g. 29100"),
        ] {
            if v.trim().is_empty() {
                return Err(format!("{key} is not set: name the Deltek GL account of {what}"));
            }
        }
        check_common(&self.currency, self.overlap_secs)
    }
}

fn build(ctx: &mut FlowContext<'_>) -> Result<(), BuildError> {
    let opts: CommitmentOptions = ctx.options()?;
    opts.check().map_err(|e| BuildError(format!("options: {e}")))?;
    let procore = ctx.source_connection::<ProcoreConnection>("procore")?.client().clone();
    let deltek = ctx.target_connection::<DeltekConnection>("deltek")?.client.clone();
    let poll = PollOptions { overlap: chrono::Duration::seconds(opts.overlap_secs as i64) };
    let conn = ctx.settings.source.clone();
    let source = ctx.source("commitment", || Ok(CommitmentSource::new(&conn, procore, poll)))?;
    let target = Arc::new(JournalEntryTarget::new(&ctx.settings.target, deltek));
    let flow = Commitments::new(ctx.name, &ctx.mapping_scope(&KIND), opts);
    ctx.add(flow, source, target)
}

/// What ml-connector posted for one commitment or change order (the `commitment_posted` mapping).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Posted {
    /// Entries posted so far (1 = the original).
    pub revision: u32,
    /// The latest entry's reference.
    pub reference: String,
    /// Cumulative committed amount per `account|WBS1|WBS2|WBS3`.
    pub lines: BTreeMap<String, Decimal>,
}

impl Posted {
    fn parse(text: &str) -> Option<Posted> {
        serde_json::from_str(text).ok()
    }
}

/// What `map` decided, kept until the engine asks for the pairing (same item, same process).
#[derive(Debug, Clone)]
struct Pending {
    posted: Posted,
    /// Nothing changed since `posted.reference`: no new entry.
    unchanged: bool,
}

/// Bound of the pending decisions kept (items that never reach a pairing leave theirs).
const PENDING_CAP: usize = 10_000;

/// The flow.
pub struct Commitments {
    name: String,
    placer: Placer,
    opts: CommitmentOptions,
    pending: Mutex<HashMap<(String, String), Pending>>,
}

impl Commitments {
    pub fn new(name: &str, scope: &str, opts: CommitmentOptions) -> Self {
        let placer = Placer {
            scope: scope.to_string(),
            account_source: AccountSource::CostType,
            phase_source: opts.phase_source,
        };
        Commitments { name: name.to_string(), placer, opts, pending: Mutex::new(HashMap::new()) }
    }

    fn memory_key(&self, doc_id: &str) -> MappingKey {
        MappingKey::new(&self.placer.scope, COMMITMENT_POSTED, doc_id)
    }

    fn account_of(&self, kind: CommitmentKind) -> &str {
        match kind {
            CommitmentKind::WorkOrder => self.opts.work_order_account.trim(),
            CommitmentKind::PurchaseOrder => self.opts.purchase_order_account.trim(),
        }
    }

    fn remember(&self, doc: &SourceDoc<Arc<CommitmentRecord>>, p: Pending) {
        if let Ok(mut m) = self.pending.lock() {
            if m.len() >= PENDING_CAP {
                m.clear();
            }
            m.insert((doc.id.clone(), doc.version.clone()), p);
        }
    }

    fn pending_of(&self, id: &str, version: &str) -> Option<Pending> {
        self.pending.lock().ok().and_then(|m| m.get(&(id.to_string(), version.to_string())).cloned())
    }
}

fn cost_line(l: &LineItem) -> CostLine {
    CostLine {
        description: l.description.clone().filter(|d| !d.trim().is_empty()).unwrap_or_else(|| "commitment line".into()),
        cost_code: l.cost_code.as_ref().and_then(|c| c.full_code.clone()),
        cost_type: l.line_item_type.as_ref().and_then(|t| t.code.clone()),
        amount: l.value(),
        quantity: l.quantity,
        unit_price: l.unit_cost,
    }
}

/// A commitment or change order's lines; one line of its total when it has none.
fn lines(items: &[LineItem], total: Decimal, what: &str) -> Vec<CostLine> {
    if items.is_empty() {
        return vec![CostLine {
            description: what.to_string(),
            cost_code: None,
            cost_type: None,
            amount: total,
            quantity: None,
            unit_price: None,
        }];
    }
    items.iter().map(cost_line).collect()
}

/// What a document is, as the flow reads it.
struct View<'a> {
    /// `WO`, `PO`, `CO`.
    prefix: &'static str,
    id: i64,
    kind: Option<CommitmentKind>,
    commitment: Option<&'a Commitment>,
    lines: Vec<CostLine>,
    currency: Option<&'a str>,
    /// The date of the first entry, and of revisions.
    first_date: Option<NaiveDate>,
    changed_on: Option<NaiveDate>,
    label: String,
    short: String,
}

fn kind_word(k: CommitmentKind) -> &'static str {
    match k {
        CommitmentKind::WorkOrder => "subcontract",
        CommitmentKind::PurchaseOrder => "purchase order",
    }
}

fn view(rec: &CommitmentRecord) -> View<'_> {
    let proj = project_number(rec.project(), rec.project_id());
    match rec {
        CommitmentRecord::Contract { commitment: c, .. } => {
            let number = c.number.clone().unwrap_or_else(|| c.id.to_string());
            let vendor = c.vendor.as_ref().and_then(|v| v.company.clone()).unwrap_or_else(|| "no vendor".into());
            View {
                prefix: match c.kind {
                    CommitmentKind::WorkOrder => "WO",
                    CommitmentKind::PurchaseOrder => "PO",
                },
                id: c.id,
                kind: Some(c.kind),
                commitment: Some(c),
                lines: lines(&c.line_items, c.grand_total, &format!("{} {number}", kind_word(c.kind))),
                currency: CurrencyConfiguration::code(&c.currency_configuration),
                first_date: c.execution_date.or(c.contract_date).or(c.updated_at.map(|t| t.date_naive())),
                changed_on: c.updated_at.map(|t| t.date_naive()),
                label: format!(
                    "{} {number} {} with {vendor} ({proj})",
                    kind_word(c.kind),
                    c.title.as_deref().unwrap_or_default()
                )
                .replace("  ", " "),
                short: format!("{number} {vendor}"),
            }
        }
        CommitmentRecord::ChangeOrder { change_order: co, commitment, .. } => {
            let number = co.number.clone().unwrap_or_else(|| co.id.to_string());
            let parent = commitment.as_ref().and_then(|c| c.number.clone()).unwrap_or_else(|| {
                co.contract_id.map(|k| format!("commitment {k}")).unwrap_or_else(|| "no commitment".into())
            });
            View {
                prefix: "CO",
                id: co.id,
                kind: commitment.as_ref().map(|c| c.kind),
                commitment: commitment.as_ref(),
                lines: lines(&co.line_items, co.grand_total, &format!("change order {number} on {parent}")),
                currency: CurrencyConfiguration::code(&co.currency_configuration)
                    .or(commitment.as_ref().and_then(|c| CurrencyConfiguration::code(&c.currency_configuration))),
                first_date: co.reviewed_at.or(co.updated_at).map(|t| t.date_naive()),
                changed_on: co.updated_at.map(|t| t.date_naive()),
                label: format!("change order {number} on {parent} ({proj})"),
                short: format!("{parent} CO {number}"),
            }
        }
    }
}

/// `account|WBS1|WBS2|WBS3`.
fn line_key(account: &str, project: Option<&ProjectRef>) -> String {
    format!("{account}|{}", project.map(ProjectRef::key).unwrap_or_default())
}

fn split_key(key: &str) -> (String, Option<ProjectRef>) {
    match key.split_once('|') {
        Some((a, p)) => (a.to_string(), ProjectRef::parse_key(p)),
        None => (key.to_string(), None),
    }
}

#[async_trait::async_trait]
impl FlowDef for Commitments {
    type Source = CommitmentSource;
    type Target = JournalEntryTarget;
    type Doc = Arc<CommitmentRecord>;

    fn describe(&self) -> FlowSpec {
        FlowSpec {
            name: self.name.clone(),
            kind: KIND.name.into(),
            mapping_scope: self.placer.scope.clone(),
            description: KIND.description.into(),
            lookback: lookback(self.opts.initial_lookback_days),
            ..Default::default()
        }
    }

    fn documents(&self, record: &SourceRecord<Arc<CommitmentRecord>>) -> Vec<SourceDoc<Arc<CommitmentRecord>>> {
        let rec = &record.record;
        let v = view(rec);
        let total: Decimal = v.lines.iter().map(|l| l.amount).sum();
        vec![SourceDoc {
            entity: record.entity.clone(),
            id: format!("{}:{}", v.prefix.to_ascii_lowercase(), record.id),
            version: record.version.clone(),
            summary: ItemSummary {
                label: v.label.clone(),
                vendor: v.commitment.and_then(|c| c.vendor.as_ref().and_then(|x| x.company.clone())),
                project: Some(project_label(rec.project(), rec.project_id())),
                amount: Some(total),
                currency: v.currency.unwrap_or(&self.opts.currency).parse().ok(),
                document_date: v.first_date,
            },
            record: rec.clone(),
        }]
    }

    fn eligibility(&self, doc: &SourceDoc<Arc<CommitmentRecord>>) -> Eligibility {
        let it = &doc.summary.label;
        match doc.record.as_ref() {
            CommitmentRecord::Contract { commitment: c, .. } => {
                if c.is_committed() {
                    return Eligibility::Eligible;
                }
                match &c.status {
                    CommitmentStatus::Void | CommitmentStatus::Terminated => Eligibility::skip(
                        codes::VOID,
                        format!(
                            "{it} is {} in Procore: nothing new is posted; a journal entry posted for it earlier stays \
                             in Deltek — reverse it there if the commitment is cancelled",
                            c.status
                        ),
                    ),
                    CommitmentStatus::Draft
                    | CommitmentStatus::OutForBid
                    | CommitmentStatus::OutForSignature
                    | CommitmentStatus::Processing
                    | CommitmentStatus::Submitted => Eligibility::skip(
                        codes::NOT_COMMITTED,
                        format!(
                            "{it} is {} in Procore, not yet committed: its journal entry posts once it is approved",
                            c.status
                        ),
                    ),
                    other => Eligibility::skip(
                        codes::OTHER_STATUS,
                        format!("{it} has status {:?} in Procore; only approved commitments post", other.as_str()),
                    ),
                }
            }
            CommitmentRecord::ChangeOrder { change_order: co, .. } => match &co.status {
                ChangeOrderStatus::Approved => Eligibility::Eligible,
                ChangeOrderStatus::NoCharge => Eligibility::skip(
                    codes::NO_CHARGE,
                    format!("{it} is a no-charge change order: it changes no committed amount"),
                ),
                ChangeOrderStatus::Void | ChangeOrderStatus::Rejected | ChangeOrderStatus::NotProceeding => {
                    Eligibility::skip(
                        codes::CHANGE_ORDER_VOID,
                        format!("{it} is {} in Procore: it changes no commitment", co.status),
                    )
                }
                other => Eligibility::skip(
                    codes::CHANGE_ORDER_PENDING,
                    format!("{it} is {:?} in Procore: its journal entry posts once it is approved", other.as_str()),
                ),
            },
        }
    }

    fn required_mappings(&self, doc: &SourceDoc<Arc<CommitmentRecord>>) -> Vec<MappingKey> {
        let v = view(&doc.record);
        let mut keys = self.placer.keys(doc.record.project_id(), &v.lines, true);
        keys.push(self.memory_key(&doc.id));
        keys
    }

    fn map(&self, doc: &SourceDoc<Arc<CommitmentRecord>>, set: &MappingSet) -> Result<JournalEntry, MapError> {
        let rec = &doc.record;
        let v = view(rec);
        let it = v.label.clone();
        let memory_key = self.memory_key(&doc.id);
        let before = match set.get(&memory_key) {
            Some(t) => Some(Posted::parse(t).ok_or_else(|| {
                MapError::Invalid(format!(
                    "{it}: ml-connector's record of what was posted ({}) is unreadable: {t:?}; fix or delete that mapping",
                    memory_key.id()
                ))
            })?),
            None => None,
        };
        let all_zero = v.lines.iter().all(|l| l.amount.is_zero());
        if all_zero && before.is_none() {
            return Err(MapError::Invalid(format!(
                "{it}: every amount Procore gives is zero (its lines and total); nothing was posted. Enter the amounts \
                 in Procore (or check that the integration's account can see them), then replay"
            )));
        }
        let kind = v.kind.ok_or_else(|| {
            MapError::Invalid(format!(
                "{it}: its commitment cannot be read in Procore, so its kind (and account) is unknown"
            ))
        })?;
        let account = self.account_of(kind).to_string();
        let mut res = Resolver::new(set, &self.placer.scope);
        let base = self.placer.project(&mut res, rec.project_id())?;
        let mut placed = Vec::with_capacity(v.lines.len());
        for (n, l) in v.lines.iter().enumerate() {
            placed.push(self.placer.place(
                &mut res,
                base.as_ref(),
                l,
                Some(&account),
                &format!("line {} of {it}", n + 1),
            )?);
        }
        res.finish().map_err(MapError::Missing)?;

        // Cumulative committed amount per account and project level, and a description for each.
        let mut now: BTreeMap<String, Decimal> = BTreeMap::new();
        let mut described: BTreeMap<String, String> = BTreeMap::new();
        for (l, p) in v.lines.iter().zip(&placed) {
            let Some(p) = p else { continue };
            let key = line_key(&p.account, p.project.as_ref());
            *now.entry(key.clone()).or_default() += l.amount;
            described.entry(key).or_insert_with(|| match &l.cost_code {
                Some(cc) => format!("{} ({cc})", l.description),
                None => l.description.clone(),
            });
        }
        now.retain(|_, a| !a.is_zero());
        let prev = before.clone().unwrap_or_default();
        let mut keys: Vec<&String> = now.keys().chain(prev.lines.keys()).collect();
        keys.sort();
        keys.dedup();
        let deltas: Vec<(String, Decimal)> = keys
            .into_iter()
            .map(|k| {
                (k.clone(), now.get(k).copied().unwrap_or_default() - prev.lines.get(k).copied().unwrap_or_default())
            })
            .filter(|(_, d)| !d.is_zero())
            .collect();
        let base_ref = format!("{}{}", v.prefix, v.id);
        let currency = currency(v.currency, &self.opts.currency, &it)?;
        let source = SourceRef {
            system: "procore".into(),
            entity: doc.entity.clone(),
            id: doc.id.clone(),
            version: doc.version.clone(),
        };
        let offset = self.opts.offset_account.trim().to_string();
        let proj = project_number(rec.project(), rec.project_id());

        if deltas.is_empty() {
            let Some(prev) = before else {
                return Err(MapError::Invalid(format!(
                    "{it}: its amounts net to zero by account and project; nothing was posted"
                )));
            };
            // Nothing new: the entry stands for the latest one posted (never written; see `plan`).
            let total: Decimal = prev.lines.values().copied().sum::<Decimal>().abs().max(Decimal::new(1, 2));
            let je = JournalEntry::try_new(JournalEntryDraft {
                source,
                reference: prev.reference.clone(),
                date: v.changed_on.or(v.first_date).unwrap_or_default(),
                currency,
                description: format!("{} {proj}", v.short),
                lines: vec![
                    JournalLine {
                        line_no: 1,
                        account: offset.clone(),
                        project: None,
                        description: "unchanged".into(),
                        debit: total,
                        credit: Decimal::ZERO,
                    },
                    JournalLine {
                        line_no: 2,
                        account: offset,
                        project: None,
                        description: "unchanged".into(),
                        debit: Decimal::ZERO,
                        credit: total,
                    },
                ],
            })
            .map_err(|e| MapError::Invalid(e.to_string()))?;
            self.remember(doc, Pending { posted: prev, unchanged: true });
            return Ok(je);
        }

        let revision = prev.revision + 1;
        let reference = if revision == 1 { base_ref } else { format!("{base_ref}-R{revision}") };
        let date = if revision == 1 { v.first_date.or(v.changed_on) } else { v.changed_on.or(v.first_date) }
            .ok_or_else(|| MapError::Invalid(format!("{it} has no date in Procore (contract, execution or update)")))?;
        let mut je_lines = Vec::with_capacity(deltas.len() + 1);
        for (n, (key, d)) in deltas.iter().enumerate() {
            let (acct, project) = split_key(key);
            let what = described.get(key).cloned().unwrap_or_else(|| "removed from the commitment".into());
            je_lines.push(JournalLine {
                line_no: n as u32 + 1,
                account: acct,
                project,
                description: format!("{} {what}", if revision == 1 { "Committed:" } else { "Commitment change:" }),
                debit: if d.is_sign_positive() { *d } else { Decimal::ZERO },
                credit: if d.is_sign_negative() { -*d } else { Decimal::ZERO },
            });
        }
        let net: Decimal = deltas.iter().map(|(_, d)| *d).sum();
        if !net.is_zero() {
            je_lines.push(JournalLine {
                line_no: je_lines.len() as u32 + 1,
                account: offset,
                project: None,
                description: format!("Commitments offset {}", v.short),
                debit: if net.is_sign_negative() { -net } else { Decimal::ZERO },
                credit: if net.is_sign_positive() { net } else { Decimal::ZERO },
            });
        }
        let description =
            if revision == 1 { format!("{} {proj}", v.short) } else { format!("{} rev {revision} {proj}", v.short) };
        let je = JournalEntry::try_new(JournalEntryDraft {
            source,
            reference: reference.clone(),
            date,
            currency,
            description,
            lines: je_lines,
        })
        .map_err(|e| MapError::Invalid(e.to_string()))?;
        self.remember(doc, Pending { posted: Posted { revision, reference, lines: now }, unchanged: false });
        Ok(je)
    }

    fn plan(&self, je: &JournalEntry, found: Option<Found>) -> Plan {
        let unchanged = self.pending_of(&je.source.id, &je.source.version).is_some_and(|p| p.unchanged);
        match (found, unchanged) {
            (None, false) => Plan::Create,
            (Some(f), false) => Plan::AlreadyPresent(f.target),
            (Some(f), true) => Plan::Matched(f.target),
            // ml-connector's record says the entry is in Deltek, but Deltek does not hold it: a
            // person deleted it. Never re-post blindly: the update is refused, naming this.
            (None, true) => Plan::Update(TargetRef {
                system: "deltek".into(),
                entity: "journal-entry".into(),
                id: format!(
                    "{} (ml-connector posted it, but Deltek no longer holds it: enter it again by hand, or delete the \
                     commitment_posted mapping of {} and replay to post the whole commitment again)",
                    je.reference, je.source.id
                ),
                display: None,
                status: None,
            }),
        }
    }

    fn pairings(&self, doc: &SourceDoc<Arc<CommitmentRecord>>, _target: &TargetRef) -> Vec<(MappingKey, String)> {
        let taken = self.pending.lock().ok().and_then(|mut m| m.remove(&(doc.id.clone(), doc.version.clone())));
        match taken {
            Some(p) => vec![(self.memory_key(&doc.id), serde_json::to_string(&p.posted).unwrap_or_default())],
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_need_the_three_accounts() {
        let o: CommitmentOptions = serde_json::from_value(serde_json::json!({})).unwrap();
        assert!(o.check().unwrap_err().contains("work_order_account"));
        let o: CommitmentOptions = serde_json::from_value(serde_json::json!({
            "work_order_account": "58100", "purchase_order_account": "58200", "offset_account": "29100"
        }))
        .unwrap();
        assert!(o.check().is_ok());
        assert!(serde_json::from_value::<CommitmentOptions>(serde_json::json!({"offset": "1"})).is_err());
    }

    #[test]
    fn line_keys_round_trip_and_the_record_reads_back() {
        let p = ProjectRef::parse_key("2025101.00|03").unwrap();
        let k = line_key("58100", Some(&p));
        assert_eq!(k, "58100|2025101.00|03");
        assert_eq!(split_key(&k), ("58100".to_string(), Some(p)));
        assert_eq!(split_key("29100|"), ("29100".to_string(), None));
        let posted = Posted {
            revision: 2,
            reference: "WO1-R2".into(),
            lines: BTreeMap::from([(k, Decimal::new(12_500_000, 2))]),
        };
        let text = serde_json::to_string(&posted).unwrap();
        assert_eq!(Posted::parse(&text), Some(posted));
        assert_eq!(Posted::parse("garbage"), None);
    }
}
