//! `mlc tieout --period 2026-11` (and the console's Tie-out page): the controller's month-end.
//! Approved source invoices dated in the period against the target's vouchers dated in it, both
//! read from the systems themselves (Cin7 `purchaseList` / `advanced-purchase`; Deltek unposted
//! files and the AP ledger — see `mlc_cin7::tieout` and `mlc_deltek::tieout`), totalled by vendor,
//! and every difference explained by the document behind it and what ml-connector did with it
//! (waiting for a mapping, failed with its reason, skipped with its reason, posted under another
//! number, or entered in the target outside ml-connector). Target totals by GL account and
//! project are listed as the target holds them. Cin7 → Deltek (`cin7-deltek-ap`) only, for now.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use mlc_cin7::Cin7Connection;
use mlc_cin7::tieout::PeriodInvoice;
use mlc_core::engine::model::{ItemFilter, ItemState, WorkItem, codes};
use mlc_core::mapping::MappingKind;
use mlc_deltek::DeltekConnection;
use mlc_deltek::keys::natural_key;
use mlc_deltek::tieout::PeriodVoucher;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::home::Home;
use crate::output::{Out, Table};

#[derive(Debug, Clone, clap::Args)]
pub struct TieoutArgs {
    /// The month, YYYY-MM.
    #[arg(long)]
    pub period: String,
    /// The flow to tie out.
    #[arg(long, default_value = "cin7-deltek-ap")]
    pub flow: String,
    /// Also write the vendor totals and the differences as CSV here.
    #[arg(long)]
    pub csv: Option<PathBuf>,
}

/// Source against target for one vendor.
#[derive(Debug, Clone, Serialize)]
pub struct VendorLine {
    pub vendor: String,
    pub name: String,
    pub source: Decimal,
    pub target: Decimal,
    pub difference: Decimal,
}

/// One document behind a difference.
#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    pub vendor: String,
    pub invoice: String,
    pub source: Option<Decimal>,
    pub target: Option<Decimal>,
    pub explanation: String,
    /// Our work item, when ml-connector saw the document.
    pub item: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tieout {
    pub period: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub source_total: Decimal,
    pub target_total: Decimal,
    pub vendors: Vec<VendorLine>,
    pub differences: Vec<Difference>,
    /// Target totals by GL account and by project, as the target holds them.
    pub target_by_account: BTreeMap<String, Decimal>,
    pub target_by_project: BTreeMap<String, Decimal>,
    pub source_documents: usize,
    pub target_documents: usize,
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

/// Read both systems and tie the period out.
pub async fn compute(
    home_cfg: &mlc_flows::Config,
    engine: &mlc_core::Engine,
    secrets: &dyn mlc_core::engine::ports::SecretStore,
    flow: &str,
    period: &str,
) -> anyhow::Result<Tieout> {
    let (from, to) = parse_period(period)?;
    let settings = home_cfg.flows.get(flow).with_context(|| format!("no flow named {flow:?} in the configuration"))?;
    let kind = home_cfg.kind_of(flow).map(|k| k.name).unwrap_or_default();
    if kind != "cin7-deltek-ap" {
        bail!("tie-out is built for Cin7 → Deltek AP (cin7-deltek-ap) so far; {flow} is {kind:?}");
    }
    let scope = settings.mapping_scope.clone().unwrap_or_else(|| "cin7-deltek".into());
    let src = mlc_flows::connect_one(home_cfg, &settings.source, secrets).await?;
    let tgt = mlc_flows::connect_one(home_cfg, &settings.target, secrets).await?;
    let cin7 = &src.as_any().downcast_ref::<Cin7Connection>().context("the source is not a Cin7 connection")?.client;
    let deltek =
        &tgt.as_any().downcast_ref::<DeltekConnection>().context("the target is not a Deltek connection")?.client;
    let (source, target) =
        tokio::try_join!(async { cin7.invoices_between(from, to).await.map_err(anyhow::Error::from) }, async {
            deltek.ap_vouchers_between(from, to).await.map_err(anyhow::Error::from)
        })?;
    let vendor_of: HashMap<String, String> = engine
        .store
        .list_mappings(Some(&scope))
        .await?
        .into_iter()
        .filter(|m| m.key.kind == MappingKind::VENDOR)
        .map(|m| (m.key.source.clone(), m.target.clone()))
        .collect();
    let items = engine.find(&ItemFilter { flow: Some(flow.to_string()), ..Default::default() }).await?;
    Ok(tie(period, from, to, &source, &target, &vendor_of, &items))
}

/// The item ml-connector keeps for a source invoice (latest first; a superseded version only
/// when nothing else names it), if any.
fn item_for<'a>(items: &'a [WorkItem], inv: &PeriodInvoice) -> Option<&'a WorkItem> {
    let number = inv.number.as_deref().unwrap_or("");
    let mine = |i: &&WorkItem| {
        i.doc_id.starts_with(&inv.purchase_id)
            && (number.is_empty() || i.summary.label.contains(&format!("invoice {number} ")))
    };
    items.iter().filter(mine).find(|i| i.code.as_deref() != Some(codes::SUPERSEDED)).or_else(|| items.iter().find(mine))
}

fn explain(item: Option<&WorkItem>) -> String {
    match item {
        None => "not seen by ml-connector yet (the next poll finds it)".into(),
        Some(i) if i.state == ItemState::NeedsMapping => {
            format!("waiting for a mapping: {}", i.missing.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(", "))
        }
        Some(i) => format!("{}: {}", i.state_label(), i.reason.clone().unwrap_or_default()),
    }
}

/// The comparison itself (no I/O): what `compute` returns after reading.
pub fn tie(
    period: &str,
    from: NaiveDate,
    to: NaiveDate,
    source: &[PeriodInvoice],
    target: &[PeriodVoucher],
    vendor_of: &HashMap<String, String>,
    items: &[WorkItem],
) -> Tieout {
    let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
    for (n, v) in target.iter().enumerate() {
        by_key.entry(natural_key(&v.vendor, &v.invoice)).or_default().push(n);
    }
    let mut used = vec![false; target.len()];
    let mut vendors: BTreeMap<String, VendorLine> = BTreeMap::new();
    let mut differences = Vec::new();
    let mut source_total = Decimal::ZERO;
    let approved: Vec<&PeriodInvoice> = source.iter().filter(|i| i.approved()).collect();
    for inv in &approved {
        let amount = inv.total.unwrap_or_default();
        source_total += amount;
        let vendor = inv.supplier_id.as_ref().and_then(|s| vendor_of.get(s)).cloned();
        let label = vendor.clone().unwrap_or_else(|| format!("? ({})", inv.supplier_name));
        let line = vendors.entry(label.clone()).or_insert_with(|| VendorLine {
            vendor: label.clone(),
            name: inv.supplier_name.clone(),
            source: Decimal::ZERO,
            target: Decimal::ZERO,
            difference: Decimal::ZERO,
        });
        line.source += amount;
        let item = item_for(items, inv);
        let number = inv.number.clone().unwrap_or_default();
        // Where it should be in the target: the key our item used (a number a person chose
        // included), else vendor + invoice number.
        let key = item.and_then(|i| i.natural_key.clone()).or_else(|| vendor.as_ref().map(|v| natural_key(v, &number)));
        let found = key.as_ref().and_then(|k| by_key.get(k)).and_then(|ns| ns.iter().copied().find(|n| !used[*n]));
        match found {
            Some(n) => {
                used[n] = true;
                let t = &target[n];
                if t.amount.round_dp(2) != amount.round_dp(2) {
                    differences.push(Difference {
                        vendor: label.clone(),
                        invoice: number.clone(),
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
                source: Some(amount),
                target: None,
                explanation: if vendor.is_none() && item.is_none() {
                    format!("supplier {} has no vendor mapping; not seen by ml-connector", inv.supplier_name)
                } else {
                    explain(item)
                },
                item: item.map(|i| i.key.to_string()),
            }),
        }
    }
    let mut target_total = Decimal::ZERO;
    let mut by_account = BTreeMap::new();
    let mut by_project = BTreeMap::new();
    for (n, t) in target.iter().enumerate() {
        target_total += t.amount;
        for (account, project, amount) in &t.lines {
            *by_account.entry(account.clone()).or_insert(Decimal::ZERO) += amount;
            *by_project
                .entry(if project.trim().is_empty() { "(none)".to_string() } else { project.clone() })
                .or_insert(Decimal::ZERO) += amount;
        }
        let line = vendors.entry(t.vendor.clone()).or_insert_with(|| VendorLine {
            vendor: t.vendor.clone(),
            name: String::new(),
            source: Decimal::ZERO,
            target: Decimal::ZERO,
            difference: Decimal::ZERO,
        });
        line.target += t.amount;
        if !used[n] {
            let item =
                items.iter().find(|i| i.natural_key.as_deref() == Some(natural_key(&t.vendor, &t.invoice).as_str()));
            let explanation = match (t.ours, item) {
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
                source: None,
                target: Some(t.amount),
                explanation,
                item: item.map(|i| i.key.to_string()),
            });
        }
    }
    let mut vendors: Vec<VendorLine> = vendors.into_values().collect();
    for v in &mut vendors {
        v.difference = v.source - v.target;
    }
    Tieout {
        period: period.to_string(),
        from,
        to,
        source_total,
        target_total,
        vendors,
        differences,
        target_by_account: by_account,
        target_by_project: by_project,
        source_documents: approved.len(),
        target_documents: target.len(),
    }
}

/// The tie-out as CSV: one row per vendor, then one per difference.
pub fn to_csv(t: &Tieout) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["period", "kind", "vendor", "invoice", "source", "target", "difference", "explanation", "item"])?;
    for v in &t.vendors {
        w.write_record([
            t.period.as_str(),
            "vendor",
            v.vendor.as_str(),
            "",
            &v.source.round_dp(2).to_string(),
            &v.target.round_dp(2).to_string(),
            &v.difference.round_dp(2).to_string(),
            v.name.as_str(),
            "",
        ])?;
    }
    for d in &t.differences {
        let diff = d.source.unwrap_or_default() - d.target.unwrap_or_default();
        w.write_record([
            t.period.as_str(),
            "difference",
            d.vendor.as_str(),
            d.invoice.as_str(),
            &d.source.map(|a| a.round_dp(2).to_string()).unwrap_or_default(),
            &d.target.map(|a| a.round_dp(2).to_string()).unwrap_or_default(),
            &diff.round_dp(2).to_string(),
            d.explanation.as_str(),
            d.item.as_deref().unwrap_or(""),
        ])?;
    }
    Ok(w.into_inner()?)
}

pub async fn run(home: &Home, out: Out, args: &TieoutArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let t = compute(&home.config, &home.engine, home.secrets.as_ref(), &args.flow, &args.period).await?;
    if let Some(p) = &args.csv {
        std::fs::write(p, to_csv(&t)?).with_context(|| format!("cannot write {}", p.display()))?;
    }
    let secs = started.elapsed().as_secs_f64();
    out.emit(&t, || {
        println!(
            "tie-out {} ({} .. {}): source approved {} in {} invoices; target {} in {} vouchers; difference {} ({secs:.1}s)",
            t.period,
            t.from,
            t.to,
            t.source_total.round_dp(2),
            t.source_documents,
            t.target_total.round_dp(2),
            t.target_documents,
            (t.source_total - t.target_total).round_dp(2)
        );
        let mut tb = Table::new(&["vendor", "name", "source", "target", "difference"]);
        for v in &t.vendors {
            tb.row(vec![
                v.vendor.clone(),
                v.name.clone(),
                v.source.round_dp(2).to_string(),
                v.target.round_dp(2).to_string(),
                v.difference.round_dp(2).to_string(),
            ]);
        }
        tb.print();
        if t.differences.is_empty() {
            println!("\nevery approved invoice is in the target with the same amount, and nothing else is");
        } else {
            println!("\ndifferences:");
            for d in &t.differences {
                println!(
                    "  {} {}: source {} target {} — {}",
                    d.vendor,
                    d.invoice,
                    d.source.map(|a| a.round_dp(2).to_string()).unwrap_or_else(|| "—".into()),
                    d.target.map(|a| a.round_dp(2).to_string()).unwrap_or_else(|| "—".into()),
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
}
