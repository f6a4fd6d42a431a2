//! `mlc tieout --period 2026-11 [--flow F]` (and the console's Tie-out page): the controller's
//! month-end. For every flow that posts AP into Deltek and whose source has a tie-out reader
//! ([`mlc_core::tieout::TieoutReader`]: Cin7 in `mlc_cin7::tieout`, Coupa in `mlc_coupa::tieout`,
//! Procore in `mlc_procore::tieout`),
//! the source's approved invoices and credit notes dated in the period against Deltek's vouchers
//! dated in it, both read from the systems themselves (`mlc_deltek::tieout` for the target),
//! totalled by vendor, by GL account and by project on both sides (source lines translated
//! through the flow's own `vendor` / `account` / `project` mappings, so the two columns speak the
//! target's codes), credit notes listed as their own lines (negative, reducing the totals), and
//! every difference explained by the document behind it and what ml-connector did with it
//! (waiting for a mapping, failed with its reason, skipped with its reason, posted by another
//! flow, posted under another number, or entered in the target outside ml-connector).
//!
//! Procore (`mlc_procore::tieout`: subcontractor invoices, direct costs) codes its lines by cost
//! type (or cost code, per the flow's `account_source`), so its reader names the mapping kind
//! that translates them ([`TieoutReader::account_mapping`]); a line the flow posts to a configured
//! account (gross retainage) carries that Deltek account as is ([`mlc_core::tieout::SourceLine::posted_account`]).
//! Cleo inbound 810s have no tie-out by nature (Cleo holds files, not invoices); asking says so.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use mlc_cin7::Cin7Connection;
use mlc_core::connect::Connection;
use mlc_core::engine::model::{ItemFilter, ItemState, WorkItem, codes};
use mlc_core::mapping::MappingKind;
use mlc_core::tieout::{SourceDocument, TieoutOptions, TieoutReader};
use mlc_coupa::CoupaConnection;
use mlc_deltek::DeltekConnection;
use mlc_deltek::keys::natural_key;
use mlc_deltek::tieout::PeriodVoucher;
use mlc_procore::ProcoreConnection;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::home::Home;
use crate::output::{Out, Table};

/// Flow kinds with a tie-out (a source reader, Deltek AP vouchers as the target).
pub const KINDS: &[&str] =
    &["cin7-deltek-ap", "coupa-deltek-ap", "procore-deltek-ap-subcontract", "procore-deltek-ap-direct"];

/// Flow kinds that post AP into Deltek whose source has no tie-out reader yet.
pub const NOT_YET: &[&str] = &["cleo-deltek-ap810"];

#[derive(Debug, Clone, clap::Args)]
pub struct TieoutArgs {
    /// The month, YYYY-MM.
    #[arg(long)]
    pub period: String,
    /// The flow to tie out (one of the AP flows into Deltek with a tie-out).
    #[arg(long, default_value = "cin7-deltek-ap")]
    pub flow: String,
    /// Also write the totals, credit notes and differences as CSV here.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Read every source document's lines for GL / project totals, where the source charges a call
    /// per document for them (Cin7 Simple purchases).
    #[arg(long)]
    pub lines: bool,
}

/// Source against target for one vendor, GL account or project (in the target's codes).
#[derive(Debug, Clone, Serialize)]
pub struct TotalLine {
    /// The target's code (`?` + the source code when unmapped).
    pub code: String,
    /// The vendor's name (vendor lines), or the source codes behind the line.
    pub name: String,
    pub source: Decimal,
    pub target: Decimal,
    pub difference: Decimal,
}

/// One credit note of the period, on its own line.
#[derive(Debug, Clone, Serialize)]
pub struct CreditLine {
    pub vendor: String,
    pub number: String,
    pub date: NaiveDate,
    pub source: Decimal,
    /// The credit voucher in the target (negative), when found.
    pub target: Option<Decimal>,
    pub approved: bool,
    pub item: Option<String>,
}

/// One document behind a difference.
#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    pub vendor: String,
    pub invoice: String,
    /// `invoice`, `credit note` or `voucher` (a target document with no source document).
    pub kind: String,
    pub source: Option<Decimal>,
    pub target: Option<Decimal>,
    pub explanation: String,
    /// Our work item, when ml-connector saw the document.
    pub item: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tieout {
    pub period: String,
    pub flow: String,
    /// The systems' names (`Cin7 Core`, `Deltek Vantagepoint`).
    pub source_system: String,
    pub target_system: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Signed: credit notes reduce it.
    pub source_total: Decimal,
    pub target_total: Decimal,
    /// The credit notes' share of the totals (negative).
    pub source_credits: Decimal,
    pub target_credits: Decimal,
    pub vendors: Vec<TotalLine>,
    pub accounts: Vec<TotalLine>,
    pub projects: Vec<TotalLine>,
    pub credit_notes: Vec<CreditLine>,
    pub differences: Vec<Difference>,
    pub source_documents: usize,
    pub target_documents: usize,
    /// Source documents whose lines were not read (their amounts are under `(lines not read)`).
    pub source_without_lines: usize,
    /// What the source reader could not give (said on the page).
    pub limits: Vec<String>,
}

/// `YYYY-MM` → first and last day.
pub fn parse_period(p: &str) -> anyhow::Result<(NaiveDate, NaiveDate)> {
    let bad = || anyhow::anyhow!("--period {p:?} is not a month like 2026-11");
    let (y, m) = p.trim().split_once('-').ok_or_else(bad)?;
    let (y, m): (i32, u32) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    let from = NaiveDate::from_ymd_opt(y, m, 1).ok_or_else(bad)?;
    let next = if m == 12 { NaiveDate::from_ymd_opt(y + 1, 1, 1) } else { NaiveDate::from_ymd_opt(y, m + 1, 1) };
    let to = next.and_then(|n| n.pred_opt()).ok_or_else(bad)?;
    Ok((from, to))
}

/// The tie-out reader of a source connection, if its connector has one.
pub fn reader_of(conn: &dyn Connection) -> Option<&dyn TieoutReader> {
    let any = conn.as_any();
    if let Some(c) = any.downcast_ref::<Cin7Connection>() {
        return Some(c);
    }
    if let Some(c) = any.downcast_ref::<CoupaConnection>() {
        return Some(c);
    }
    if let Some(c) = any.downcast_ref::<ProcoreConnection>() {
        return Some(c);
    }
    None
}

/// The mappings a tie-out translates source codes with (source code → target code, per kind).
#[derive(Debug, Clone, Default)]
pub struct Codes {
    pub vendor: HashMap<String, String>,
    pub account: HashMap<String, String>,
    pub project: HashMap<String, String>,
}

/// Read both systems and tie the period out.
pub async fn compute(
    home_cfg: &mlc_flows::Config,
    engine: &mlc_core::Engine,
    secrets: &dyn mlc_core::engine::ports::SecretStore,
    flow: &str,
    period: &str,
    lines: bool,
) -> anyhow::Result<Tieout> {
    let (from, to) = parse_period(period)?;
    let settings = home_cfg.flows.get(flow).with_context(|| format!("no flow named {flow:?} in the configuration"))?;
    let kind = home_cfg.kind_of(flow).with_context(|| format!("flow {flow} has no known kind"))?;
    if !KINDS.contains(&kind.name) {
        if NOT_YET.contains(&kind.name) {
            bail!(
                "flow {flow} ({}) has no tie-out yet: Cleo holds files, not invoices, and ml-connector deletes each \
                 inbound file in Cleo once its bytes are kept, so there is no source side to read from Cleo itself \
                 (tie-out is built for: {})",
                kind.name,
                KINDS.join(", ")
            );
        }
        bail!("flow {flow} ({}) does not post AP into Deltek; tie-out is for: {}", kind.name, KINDS.join(", "));
    }
    let scope = settings.mapping_scope.clone().unwrap_or_else(|| kind.mapping_scope.to_string());
    let src = mlc_flows::connect_one(home_cfg, &settings.source, secrets).await?;
    let tgt = mlc_flows::connect_one(home_cfg, &settings.target, secrets).await?;
    let reader = reader_of(src.as_ref()).with_context(|| {
        format!("the source connection {} ({}) has no tie-out reader", settings.source, src.system())
    })?;
    let deltek =
        &tgt.as_any().downcast_ref::<DeltekConnection>().context("the target is not a Deltek connection")?.client;
    let opts = TieoutOptions { lines, flow_options: settings.options.clone(), kind: kind.name.to_string() };
    let (source, target) = tokio::try_join!(
        async { reader.documents_between(from, to, &opts).await.map_err(anyhow::Error::from) },
        async { deltek.ap_vouchers_between(from, to).await.map_err(anyhow::Error::from) }
    )?;
    let mut codes = Codes::default();
    let account_kind = reader.account_mapping(&opts);
    for m in engine.store.list_mappings(Some(&scope)).await? {
        let into = match m.key.kind {
            ref k if *k == MappingKind::VENDOR => &mut codes.vendor,
            ref k if *k == account_kind => &mut codes.account,
            ref k if *k == MappingKind::PROJECT => &mut codes.project,
            _ => continue,
        };
        into.insert(m.key.source.clone(), m.target.clone());
    }
    // Every flow's items: a voucher another flow posted is explained as such.
    let items = engine.find(&ItemFilter::default()).await?;
    let mut t = tie(period, flow, from, to, &source, &target, &codes, &items);
    t.source_system = reader.system_name().to_string();
    t.limits = reader.limits(&opts);
    Ok(t)
}

/// ml-connector's items, indexed for the tie-out: this flow's by document id and by the
/// document id's first segment (a Cin7 purchase, a Procore project), every flow's by natural key
/// (the most recently changed first, as the store lists them).
struct ItemIndex<'a> {
    by_doc: HashMap<&'a str, Vec<&'a WorkItem>>,
    by_head: HashMap<&'a str, Vec<&'a WorkItem>>,
    by_key: HashMap<&'a str, &'a WorkItem>,
}

fn head(id: &str) -> &str {
    id.split('/').next().unwrap_or(id)
}

impl<'a> ItemIndex<'a> {
    fn new(items: &'a [WorkItem], flow: &str) -> Self {
        let mut ix = ItemIndex { by_doc: HashMap::new(), by_head: HashMap::new(), by_key: HashMap::new() };
        for i in items {
            if let Some(k) = i.natural_key.as_deref() {
                ix.by_key.entry(k).or_insert(i);
            }
            if i.flow == flow {
                ix.by_doc.entry(i.doc_id.as_str()).or_default().push(i);
                ix.by_head.entry(head(&i.doc_id)).or_default().push(i);
            }
        }
        ix
    }

    /// The item ml-connector keeps for a source document (latest first; a superseded version
    /// only when nothing else names it), if any: the one with its document id, else one of its
    /// record whose label names its number.
    fn item_for(&self, d: &SourceDocument) -> Option<&'a WorkItem> {
        let number = d.number.as_deref().unwrap_or("");
        let live = |i: &&&WorkItem| i.code.as_deref() != Some(codes::SUPERSEDED);
        let pick = |all: Vec<&'a WorkItem>| all.iter().find(live).or_else(|| all.first()).copied();
        let exact = self.by_doc.get(d.doc_id.as_str()).cloned().unwrap_or_default();
        pick(exact).or_else(|| {
            if number.is_empty() {
                return None;
            }
            let loose = self
                .by_head
                .get(head(&d.record))
                .map(|v| {
                    v.iter()
                        .copied()
                        .filter(|i| i.doc_id.starts_with(&d.record) && i.summary.label.contains(&format!("{number} ")))
                        .collect()
                })
                .unwrap_or_default();
            pick(loose)
        })
    }
}

fn explain(item: Option<&WorkItem>) -> String {
    match item {
        None => "not seen by ml-connector yet (the next poll finds it)".into(),
        Some(i) if i.state == ItemState::NeedsMapping => {
            // A vendor key by the supplier's name (the item carries it), not the source's id.
            let names = crate::cmd::names::Names::from_items(std::iter::once(i));
            format!("waiting for a mapping: {}", i.missing.iter().map(|k| names.key(k)).collect::<Vec<_>>().join(", "))
        }
        Some(i) => {
            let names = crate::cmd::names::Names::from_items(std::iter::once(i));
            format!("{}: {}", i.state_label(), names.text(i.reason.as_deref().unwrap_or_default()))
        }
    }
}

/// Totals keyed by the target's code, with the source codes behind each.
#[derive(Default)]
struct Totals(BTreeMap<String, (Decimal, Decimal, std::collections::BTreeSet<String>)>);

impl Totals {
    fn add(&mut self, code: String, source_code: Option<&str>, source: Decimal, target: Decimal) {
        let e = self.0.entry(code).or_default();
        e.0 += source;
        e.1 += target;
        if let Some(s) = source_code {
            e.2.insert(s.to_string());
        }
    }
    fn lines(self) -> Vec<TotalLine> {
        self.0
            .into_iter()
            .map(|(code, (source, target, names))| TotalLine {
                code,
                name: names.into_iter().collect::<Vec<_>>().join(", "),
                source,
                target,
                difference: source - target,
            })
            .collect()
    }
}

/// A source code in the target's terms: the mapped code, `? (source X)` when unmapped.
fn translate(map: &HashMap<String, String>, code: Option<&str>, none: &str) -> String {
    match code.map(str::trim).filter(|c| !c.is_empty()) {
        None => none.to_string(),
        Some(c) => map.get(c).cloned().unwrap_or_else(|| format!("? (source {c})")),
    }
}

/// A target project as the tie-out groups it (WBS1).
fn wbs1(p: &str) -> String {
    let p = p.split('|').next().unwrap_or("").trim();
    if p.is_empty() { NO_PROJECT.to_string() } else { p.to_string() }
}

const NO_PROJECT: &str = "(none)";
const NO_ACCOUNT: &str = "(no GL account in the source)";
const NOT_READ: &str = "(lines not read)";

/// The comparison itself (no I/O): what `compute` returns after reading.
#[allow(clippy::too_many_arguments)]
pub fn tie(
    period: &str,
    flow: &str,
    from: NaiveDate,
    to: NaiveDate,
    source: &[SourceDocument],
    target: &[PeriodVoucher],
    codes: &Codes,
    items: &[WorkItem],
) -> Tieout {
    let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
    for (n, v) in target.iter().enumerate() {
        by_key.entry(natural_key(&v.vendor, &v.invoice)).or_default().push(n);
    }
    let mut used = vec![false; target.len()];
    let index = ItemIndex::new(items, flow);
    let mut vendors = Totals::default();
    let mut vendor_names: HashMap<String, String> = HashMap::new();
    let (mut accounts, mut projects) = (Totals::default(), Totals::default());
    let mut differences = Vec::new();
    let mut credit_notes = Vec::new();
    let (mut source_total, mut source_credits, mut without_lines, mut approved) = (Decimal::ZERO, Decimal::ZERO, 0, 0);
    for d in source {
        let item = index.item_for(d);
        let vendor = d.vendor_id.as_ref().and_then(|s| codes.vendor.get(s)).cloned();
        let label = vendor.clone().unwrap_or_else(|| format!("? ({})", d.vendor_name));
        let number = d.posted_number();
        let key = item.and_then(|i| i.natural_key.clone()).or_else(|| vendor.as_ref().map(|v| natural_key(v, &number)));
        if !d.approved {
            if d.credit {
                credit_notes.push(CreditLine {
                    vendor: label,
                    number,
                    date: d.date,
                    source: d.signed(),
                    target: None,
                    approved: false,
                    item: item.map(|i| i.key.to_string()),
                });
            }
            continue;
        }
        approved += 1;
        let amount = d.signed();
        source_total += amount;
        if d.credit {
            source_credits += amount;
        }
        vendor_names.entry(label.clone()).or_insert_with(|| d.vendor_name.clone());
        vendors.add(label.clone(), None, amount, Decimal::ZERO);
        match &d.lines {
            Some(lines) => {
                for l in lines {
                    match &l.posted_account {
                        Some(a) => accounts.add(a.clone(), None, l.amount, Decimal::ZERO),
                        None => {
                            let a = translate(&codes.account, l.account.as_deref(), NO_ACCOUNT);
                            accounts.add(a, l.account.as_deref(), l.amount, Decimal::ZERO);
                        }
                    }
                    let p = match l.project.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
                        None => NO_PROJECT.to_string(),
                        Some(p) => codes.project.get(p).map(|t| wbs1(t)).unwrap_or_else(|| format!("? (source {p})")),
                    };
                    projects.add(p, l.project.as_deref(), l.amount, Decimal::ZERO);
                }
            }
            None => {
                without_lines += 1;
                accounts.add(NOT_READ.into(), None, amount, Decimal::ZERO);
                projects.add(NOT_READ.into(), None, amount, Decimal::ZERO);
            }
        }
        let found = key.as_ref().and_then(|k| by_key.get(k)).and_then(|ns| ns.iter().copied().find(|n| !used[*n]));
        let kind = if d.credit { "credit note" } else { "invoice" };
        if d.credit {
            credit_notes.push(CreditLine {
                vendor: label.clone(),
                number: number.clone(),
                date: d.date,
                source: amount,
                target: found.map(|n| target[n].amount),
                approved: true,
                item: item.map(|i| i.key.to_string()),
            });
        }
        match found {
            Some(n) => {
                used[n] = true;
                let t = &target[n];
                if t.amount.round_dp(2) != amount.round_dp(2) {
                    differences.push(Difference {
                        vendor: label.clone(),
                        invoice: number.clone(),
                        kind: kind.into(),
                        source: Some(amount),
                        target: Some(t.amount),
                        explanation: format!(
                            "amounts differ ({} in the source, {} in the target, voucher {})",
                            amount.round_dp(2),
                            t.amount.round_dp(2),
                            t.voucher.clone().unwrap_or_default()
                        ),
                        item: item.map(|i| i.key.to_string()),
                    });
                }
            }
            None => differences.push(Difference {
                vendor: label.clone(),
                invoice: number.clone(),
                kind: kind.into(),
                source: Some(amount),
                target: None,
                explanation: match (item, &d.note) {
                    (None, Some(note)) => note.clone(),
                    (None, None) if vendor.is_none() => {
                        format!("supplier {} has no vendor mapping; not seen by ml-connector", d.vendor_name)
                    }
                    _ => explain(item),
                },
                item: item.map(|i| i.key.to_string()),
            }),
        }
    }
    let (mut target_total, mut target_credits) = (Decimal::ZERO, Decimal::ZERO);
    for (n, t) in target.iter().enumerate() {
        target_total += t.amount;
        if t.amount < Decimal::ZERO {
            target_credits += t.amount;
        }
        for (account, project, amount) in &t.lines {
            accounts.add(account.clone(), None, Decimal::ZERO, *amount);
            projects.add(wbs1(project), None, Decimal::ZERO, *amount);
        }
        vendors.add(t.vendor.clone(), None, Decimal::ZERO, t.amount);
        if !used[n] {
            let nk = natural_key(&t.vendor, &t.invoice);
            let item = index.by_key.get(nk.as_str()).copied();
            let explanation = match (t.ours, item) {
                (_, Some(i)) if i.flow != flow => {
                    format!("posted by ml-connector's flow {} from {} (not part of this flow)", i.flow, i.summary.label)
                }
                (_, Some(i)) => format!(
                    "posted by ml-connector from {} (dated outside the period, or no longer approved in the source)",
                    i.summary.label
                ),
                (true, None) => "written by ml-connector, but no work item here names it".into(),
                (false, None) => format!(
                    "entered outside ml-connector ({}, file {})",
                    if t.posted { "posted" } else { "not posted yet" },
                    t.batch
                ),
            };
            differences.push(Difference {
                vendor: t.vendor.clone(),
                invoice: t.invoice.clone(),
                kind: "voucher".into(),
                source: None,
                target: Some(t.amount),
                explanation,
                item: item.map(|i| i.key.to_string()),
            });
        }
    }
    let mut vendors = vendors.lines();
    for v in &mut vendors {
        v.name = vendor_names.remove(&v.code).unwrap_or_default();
    }
    Tieout {
        period: period.to_string(),
        flow: flow.to_string(),
        source_system: String::new(),
        target_system: "Deltek Vantagepoint".into(),
        from,
        to,
        source_total,
        target_total,
        source_credits,
        target_credits,
        vendors,
        accounts: accounts.lines(),
        projects: projects.lines(),
        credit_notes,
        differences,
        source_documents: approved,
        target_documents: target.len(),
        source_without_lines: without_lines,
        limits: Vec::new(),
    }
}

fn amt(a: Decimal) -> String {
    a.round_dp(2).to_string()
}

/// The tie-out as CSV: one row per vendor, GL account, project and credit note, then one per
/// difference.
pub fn to_csv(t: &Tieout) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "period",
        "flow",
        "kind",
        "code",
        "invoice",
        "source",
        "target",
        "difference",
        "explanation",
        "item",
    ])?;
    for (kind, lines) in [("vendor", &t.vendors), ("account", &t.accounts), ("project", &t.projects)] {
        for v in lines {
            w.write_record([
                t.period.as_str(),
                t.flow.as_str(),
                kind,
                v.code.as_str(),
                "",
                &amt(v.source),
                &amt(v.target),
                &amt(v.difference),
                v.name.as_str(),
                "",
            ])?;
        }
    }
    for c in &t.credit_notes {
        let target = c.target.unwrap_or_default();
        w.write_record([
            t.period.as_str(),
            t.flow.as_str(),
            "credit note",
            c.vendor.as_str(),
            c.number.as_str(),
            &amt(c.source),
            &c.target.map(amt).unwrap_or_default(),
            &amt(c.source - target),
            if c.approved { "approved" } else { "not approved (not counted)" },
            c.item.as_deref().unwrap_or(""),
        ])?;
    }
    for d in &t.differences {
        let diff = d.source.unwrap_or_default() - d.target.unwrap_or_default();
        w.write_record([
            t.period.as_str(),
            t.flow.as_str(),
            &format!("difference ({})", d.kind),
            d.vendor.as_str(),
            d.invoice.as_str(),
            &d.source.map(amt).unwrap_or_default(),
            &d.target.map(amt).unwrap_or_default(),
            &amt(diff),
            d.explanation.as_str(),
            d.item.as_deref().unwrap_or(""),
        ])?;
    }
    Ok(w.into_inner()?)
}

fn table(title: &str, what: &str, lines: &[TotalLine]) {
    println!("\n{title}:");
    let mut tb = Table::new(&[what, "source codes / name", "source", "target", "difference"]);
    for v in lines {
        tb.row(vec![v.code.clone(), v.name.clone(), amt(v.source), amt(v.target), amt(v.difference)]);
    }
    tb.print();
}

pub async fn run(home: &Home, out: Out, args: &TieoutArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let t = compute(&home.config, &home.engine, home.secrets.as_ref(), &args.flow, &args.period, args.lines).await?;
    if let Some(p) = &args.csv {
        std::fs::write(p, to_csv(&t)?).with_context(|| format!("cannot write {}", p.display()))?;
    }
    let secs = started.elapsed().as_secs_f64();
    out.emit(&t, || {
        println!(
            "tie-out {} {} ({} .. {}): {} approved {} in {} documents (credit notes {}); {} {} in {} vouchers (credits {}); difference {} ({secs:.1}s)",
            t.flow,
            t.period,
            t.from,
            t.to,
            t.source_system,
            amt(t.source_total),
            t.source_documents,
            amt(t.source_credits),
            t.target_system,
            amt(t.target_total),
            t.target_documents,
            amt(t.target_credits),
            amt(t.source_total - t.target_total)
        );
        for l in &t.limits {
            println!("note: {l}");
        }
        table("by vendor", "vendor", &t.vendors);
        table("by GL account (target codes; source lines through the account mappings)", "account", &t.accounts);
        table("by project (WBS1)", "project", &t.projects);
        if !t.credit_notes.is_empty() {
            println!("\ncredit notes:");
            for c in &t.credit_notes {
                println!(
                    "  {} {} {}: source {} target {}{}",
                    c.vendor,
                    c.number,
                    c.date,
                    amt(c.source),
                    c.target.map(amt).unwrap_or_else(|| "—".into()),
                    if c.approved { "" } else { " (not approved: not counted)" }
                );
            }
        }
        if t.differences.is_empty() {
            println!("\nevery approved document is in the target with the same amount, and nothing else is");
        } else {
            println!("\ndifferences:");
            for d in &t.differences {
                println!(
                    "  {} {} {}: source {} target {} — {}",
                    d.kind,
                    d.vendor,
                    d.invoice,
                    d.source.map(amt).unwrap_or_else(|| "—".into()),
                    d.target.map(amt).unwrap_or_else(|| "—".into()),
                    d.explanation
                );
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use chrono::Datelike;

    use super::*;

    #[test]
    fn periods_parse_to_whole_months() {
        let (f, t) = parse_period("2026-11").unwrap();
        assert_eq!((f.to_string(), t.to_string()), ("2026-11-01".into(), "2026-11-30".into()));
        let (_, t) = parse_period("2024-02").unwrap();
        assert_eq!(t.day(), 29);
        let (_, t) = parse_period("2026-12").unwrap();
        assert_eq!(t.to_string(), "2026-12-31");
        assert!(parse_period("2026-13").unwrap_err().to_string().contains("2026-13"));
        assert!(parse_period("november").is_err());
    }

    fn doc(id: &str, number: &str, amount: i64, credit: bool, lines: Option<Vec<(&str, &str, i64)>>) -> SourceDocument {
        use mlc_core::tieout::SourceLine;
        SourceDocument {
            doc_id: id.into(),
            record: id.into(),
            number: Some(number.into()),
            target_number: credit.then(|| format!("CN-{number}")),
            vendor_id: Some("77".into()),
            vendor_name: "Pacific Repro".into(),
            date: NaiveDate::from_ymd_opt(2026, 11, 5).unwrap(),
            amount: Some(Decimal::from(amount)),
            currency: Some("USD".into()),
            credit,
            approved: true,
            status: "approved".into(),
            lines: lines.map(|ls| {
                ls.into_iter()
                    .map(|(a, p, n)| SourceLine {
                        account: Some(a.into()),
                        posted_account: None,
                        project: Some(p.into()),
                        amount: Decimal::from(n),
                    })
                    .collect()
            }),
            note: None,
        }
    }

    fn voucher(invoice: &str, amount: i64, ours: bool, lines: Vec<(&str, &str, i64)>) -> PeriodVoucher {
        PeriodVoucher {
            batch: "B1".into(),
            voucher: Some(format!("V-{invoice}")),
            vendor: "PACREPRO".into(),
            invoice: invoice.into(),
            date: NaiveDate::from_ymd_opt(2026, 11, 5),
            amount: Decimal::from(amount),
            lines: lines.into_iter().map(|(a, p, n)| (a.into(), p.into(), Decimal::from(n))).collect(),
            posted: false,
            ours,
        }
    }

    #[test]
    fn both_sides_by_gl_and_project_with_credit_notes_as_their_own_lines() {
        let codes = Codes {
            vendor: [("77".to_string(), "PACREPRO".to_string())].into(),
            account: [("6110".to_string(), "521.00".to_string())].into(),
            project: [("P1".to_string(), "2024003.00|01".to_string())].into(),
        };
        let source = [
            doc("1", "INV-1", 1000, false, Some(vec![("6110", "P1", 600), ("6110", "", 400)])),
            // A credit note: negative, posted as CN-CR-2.
            doc("2", "CR-2", -200, true, Some(vec![("6110", "P1", -200)])),
            // On an unmapped account, not in Deltek.
            doc("3", "INV-3", 50, false, Some(vec![("6990", "P1", 50)])),
            // Lines not read.
            doc("4", "INV-4", 70, false, None),
        ];
        let target = [
            voucher("INV-1", 1000, true, vec![("521.00", "2024003.00", 600), ("521.00", "", 400)]),
            voucher("CN-CR-2", -200, true, vec![("521.00", "2024003.00", -200)]),
            voucher("INV-4", 70, true, vec![("521.00", "", 70)]),
            voucher("HAND-9", 30, false, vec![("521.00", "", 30)]),
        ];
        let (f, t) = parse_period("2026-11").unwrap();
        let r = tie("2026-11", "coupa-deltek-ap", f, t, &source, &target, &codes, &[]);
        assert_eq!(r.source_total, Decimal::from(920));
        assert_eq!(r.target_total, Decimal::from(900));
        assert_eq!((r.source_credits, r.target_credits), (Decimal::from(-200), Decimal::from(-200)));
        assert_eq!(r.credit_notes.len(), 1);
        assert_eq!(r.credit_notes[0].number, "CN-CR-2");
        assert_eq!(r.credit_notes[0].target, Some(Decimal::from(-200)));
        let line = |v: &[TotalLine], code: &str| {
            v.iter().find(|l| l.code == code).map(|l| (l.source, l.target)).unwrap_or_else(|| panic!("{code}: {v:?}"))
        };
        // GL: source lines through the account mapping meet the target's lines.
        assert_eq!(line(&r.accounts, "521.00"), (Decimal::from(800), Decimal::from(900)));
        assert_eq!(line(&r.accounts, "? (source 6990)"), (Decimal::from(50), Decimal::ZERO));
        assert_eq!(line(&r.accounts, NOT_READ), (Decimal::from(70), Decimal::ZERO));
        assert_eq!(r.source_without_lines, 1);
        // Projects: WBS1 on both sides; the credit note reduces the project.
        assert_eq!(line(&r.projects, "2024003.00"), (Decimal::from(450), Decimal::from(400)));
        assert_eq!(line(&r.projects, NO_PROJECT), (Decimal::from(400), Decimal::from(500)));
        // Differences: the unposted invoice and the hand-keyed voucher, each explained.
        assert_eq!(r.differences.len(), 2, "{:?}", r.differences);
        assert!(r.differences.iter().any(|d| d.invoice == "INV-3" && d.kind == "invoice" && d.target.is_none()));
        assert!(r.differences.iter().any(|d| d.invoice == "HAND-9"
            && d.kind == "voucher"
            && d.explanation.contains("entered outside ml-connector")));
        let csv = String::from_utf8(to_csv(&r).unwrap()).unwrap();
        assert!(csv.contains("2026-11,coupa-deltek-ap,credit note,PACREPRO,CN-CR-2,-200,-200,0,approved"), "{csv}");
        assert!(csv.contains(",account,521.00,,800,900,-100,6110,"), "{csv}");
    }
}
