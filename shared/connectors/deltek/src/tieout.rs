//! AP vouchers dated in a period, for the controller's tie-out (`mlc tieout`): what Vantagepoint
//! itself holds — vouchers still in files (drafts, submitted, approved: not posted yet) and
//! vouchers posted to the AP ledger — whoever entered them.
//!
//! - Unposted: the list of files not posted (`DataEntry/apLanding`, `PostStatus != Y`), each
//!   file's vouchers (`DataEntry/apMaster/{Batch}`: vendor, invoice, invoice date) and, for files
//!   holding a voucher dated in the period, its lines (`DataEntry/apDetail/{Batch}`: account,
//!   project, amount), summed per voucher.
//! - Posted: `ledger/AP` rows with `TransDate` in the period (one row per line), grouped by file
//!   and voucher. Posted rows often carry no invoice number; the file's vouchers
//!   (`DataEntry/apMaster/{Batch}`) name it, read once per file.
//!
//! Cost: `1 + files + files with vouchers in the period` calls for the unposted side, plus the
//! ledger pages and one call per posted file without invoice numbers.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::ap::seg;
use crate::client::{DeltekClient, Query};
use crate::decode::fmt_day;
use crate::errors::DeltekError;

/// One AP voucher Vantagepoint holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodVoucher {
    pub batch: String,
    pub voucher: Option<String>,
    pub vendor: String,
    pub invoice: String,
    pub date: Option<NaiveDate>,
    pub amount: Decimal,
    /// (GL account, project WBS1, amount) per line.
    pub lines: Vec<(String, String, Decimal)>,
    /// Posted to the ledger (else still in a file).
    pub posted: bool,
    /// Its `MasterPKey` is the one ml-connector derives for its vendor and invoice.
    pub ours: bool,
}

impl DeltekClient {
    /// Every AP voucher dated `from..=to` (invoice date in files, transaction date on the ledger).
    pub async fn ap_vouchers_between(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<PeriodVoucher>, DeltekError> {
        let mut out = Vec::new();
        let q = Query::new().filter("PostStatus", "!=", "Y").fields(&["Batch", "PostStatus"]);
        let what = "the list of unposted AP files";
        // A tenant whose rows lack a filtered column refuses the filter: read all and filter here
        // (when the unfiltered read fails too, that error is the one returned).
        let files = match self.get_all("DataEntry/apLanding", &q, what).await {
            Ok(f) => f,
            Err(_) => {
                let all = self.get_all("DataEntry/apLanding", &Query::new(), what).await?;
                all.into_iter().filter(|r| !r.flag("PostStatus")).collect()
            }
        };
        for f in &files {
            let Some(batch) = f.opt_text("Batch") else { continue };
            let masters = self
                .get_all(
                    &format!("DataEntry/apMaster/{}", seg(&batch)),
                    &Query::new(),
                    &format!("the vouchers of AP file {batch}"),
                )
                .await?;
            let in_period: Vec<_> = masters
                .iter()
                .filter(|m| m.date("InvoiceDate").map(|d| d.date()).is_some_and(|d| (from..=to).contains(&d)))
                .collect();
            if in_period.is_empty() {
                continue;
            }
            let details = self
                .get_all(
                    &format!("DataEntry/apDetail/{}", seg(&batch)),
                    &Query::new(),
                    &format!("the lines of AP file {batch}"),
                )
                .await?;
            let mut by_master: HashMap<String, Vec<(String, String, Decimal)>> = HashMap::new();
            for d in &details {
                by_master.entry(d.text("MasterPKey").to_ascii_lowercase()).or_default().push((
                    d.text("Account"),
                    d.text("WBS1"),
                    d.money("Amount"),
                ));
            }
            for m in in_period {
                let (vendor, invoice, mpk) = (m.text("Vendor"), m.text("Invoice"), m.text("MasterPKey"));
                let lines = by_master.remove(&mpk.to_ascii_lowercase()).unwrap_or_default();
                out.push(PeriodVoucher {
                    batch: batch.clone(),
                    voucher: m.opt_text("Voucher"),
                    amount: lines.iter().map(|l| l.2).sum(),
                    lines,
                    ours: !mpk.is_empty() && self.master_pkey_for(&vendor, &invoice).eq_ignore_ascii_case(&mpk),
                    vendor,
                    invoice,
                    date: m.date("InvoiceDate").map(|d| d.date()),
                    posted: false,
                });
            }
        }
        let cols = ["Vendor", "Voucher", "Invoice", "Batch", "TransDate", "Amount", "Account", "WBS1"];
        let q = Query::new()
            .filter_typed("TransDate", ">=", &fmt_day(from), Some("datetime"))
            .filter_typed("TransDate", "<=", &fmt_day(to), Some("datetime"))
            .fields(&cols);
        let what = "the AP ledger of the period";
        let rows = match self.get_all("ledger/AP", &q, what).await {
            Ok(r) => r,
            Err(_) => {
                let all = self.get_all("ledger/AP", &Query::new(), what).await?;
                all.into_iter()
                    .filter(|r| r.date("TransDate").map(|d| d.date()).is_some_and(|d| (from..=to).contains(&d)))
                    .collect()
            }
        };
        let mut posted: BTreeMap<(String, String), PeriodVoucher> = BTreeMap::new();
        for r in &rows {
            let Some(voucher) = r.opt_text("Voucher") else { continue };
            let batch = r.text("Batch");
            let v = posted.entry((batch.clone(), voucher.clone())).or_insert_with(|| PeriodVoucher {
                batch,
                voucher: Some(voucher),
                vendor: r.text("Vendor"),
                invoice: String::new(),
                date: r.date("TransDate").map(|d| d.date()),
                amount: Decimal::ZERO,
                lines: Vec::new(),
                posted: true,
                ours: false,
            });
            if v.invoice.is_empty() {
                v.invoice = r.text("Invoice");
            }
            v.amount += r.money("Amount");
            v.lines.push((r.text("Account"), r.text("WBS1"), r.money("Amount")));
        }
        // Invoice numbers (and whether ml-connector wrote it) from the posted file's vouchers.
        let mut files_read: HashMap<String, Vec<(String, String, String, String)>> = HashMap::new();
        for v in posted.values_mut() {
            if v.batch.is_empty() {
                continue;
            }
            if !files_read.contains_key(&v.batch) {
                let masters = self
                    .get_all(
                        &format!("DataEntry/apMaster/{}", seg(&v.batch)),
                        &Query::new(),
                        &format!("the vouchers of AP file {}", v.batch),
                    )
                    .await?;
                files_read.insert(
                    v.batch.clone(),
                    masters
                        .iter()
                        .map(|m| (m.text("Voucher"), m.text("Vendor"), m.text("Invoice"), m.text("MasterPKey")))
                        .collect(),
                );
            }
            if let Some((_, _, inv, mpk)) = files_read[&v.batch]
                .iter()
                .find(|(vo, ve, _, _)| Some(vo) == v.voucher.as_ref() && ve.eq_ignore_ascii_case(&v.vendor))
            {
                if v.invoice.is_empty() {
                    v.invoice = inv.clone();
                }
                v.ours = !mpk.is_empty() && self.master_pkey_for(&v.vendor, &v.invoice).eq_ignore_ascii_case(mpk);
            }
        }
        out.extend(posted.into_values());
        Ok(out)
    }
}
