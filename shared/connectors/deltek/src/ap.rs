//! AP invoices → Vantagepoint vouchers, saved in batched files, optionally posted.
//!
//! # Mapping
//! A domain [`ApInvoice`] (already mapped: vendor = Deltek vendor number, line accounts = Deltek
//! GL accounts, projects = WBS1/2/3) becomes one `apMaster` row and one `apDetail` row per line:
//! `Amount` = net + tax, `NetAmount` = net, both rounded half away from zero to the currency's
//! minor unit (the file's control `Total` is the sum of the rounded `Amount`s, so a file always
//! balances). Tax only known at the header is spread over the lines by net amount. With the
//! `tax_code` option, each taxed line also gets an `apDetailTax` row; without it the tax stays in
//! the line's `Amount`. A credit memo is a voucher with negative amounts. A due date is sent as
//! `PayTerms` `Date` + `PayDate` (AP masters have no due-date field); otherwise terms like
//! `Net 30` become `30`, else the `pay_terms` option, else the vendor's own terms apply. The PO
//! number goes on every line (`PONumber`). Keys are deterministic ([`crate::keys`]).
//!
//! # Batching
//! Many vouchers travel in one `POST DataEntry/apControl` file (`vouchers_per_file`). A caller
//! of [`DeltekClient::create_ap_invoice`] (one work item) joins the open file of its period and
//! currency and awaits *its own* voucher's result; the file is sent when it is full or
//! `batch_linger` after its first voucher. [`DeltekClient::create_ap_invoices`] sends a known set
//! at once. Sending runs in its own task, so a caller that gives up does not cancel a file that
//! holds other callers' vouchers (its own voucher may still be saved: the lookup finds it).
//!
//! A file is all or nothing in Vantagepoint. When it is refused, the message is matched against
//! each voucher's vendor, invoice, accounts, project levels and keys; the voucher(s) it names get
//! the refusal (with Vantagepoint's text, the file, the vendor and the invoice) and the others are
//! sent again in a new file. A message that names no voucher splits the file in halves until the
//! culprit stands alone; a file-level refusal (closed period) goes to every voucher in it.
//!
//! A file whose answer was lost (timeout or reset after sending, 5xx) is never re-sent: every
//! voucher in it gets [`DeltekError::InDoubt`], the file name is remembered in-process, and the
//! lookup index is marked stale, so the next lookup re-reads the unposted files and finds the
//! voucher by vendor + invoice number in whichever file it landed ([`crate::lookup`]).
//!
//! # Status, posting, amounts
//! After saving, the file's landing row gives its approval status: `N` draft, or `S` submitted
//! when the tenant's approval workflow submits on save; both are results, not errors. With
//! `post_files`, the file is posted (`PUT DataEntry/PostTransFile`); a file awaiting approval
//! stays saved and is reported as such. Before the first voucher of a run, a small read of posted
//! AP amounts checks that the API user's role can see amounts; the saved file's echo is checked
//! too, and all-zero amounts where non-zero were sent fail with [`DeltekError::HiddenAmounts`].

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex as SyncMutex;
use std::sync::atomic::Ordering;

use mlc_core::domain::{ApInvoice, ApLine, DocumentKind};
use mlc_core::engine::model::Exchange;
use mlc_http::Request;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use tokio::sync::{Mutex, oneshot};

use crate::client::{DeltekClient, Query};
use crate::decode::{Row, rows};
use crate::errors::DeltekError;
use crate::keys;
use crate::model::{CreatedVoucher, PostOutcome, VoucherRef, VoucherStatus, Wbs, amount, day, wbs_label};

/// A voucher ready to travel in a file.
#[derive(Debug, Clone)]
pub(crate) struct PreparedVoucher {
    pub key: String,
    pub vendor: String,
    pub invoice: String,
    pub master_pkey: String,
    pub period: i64,
    pub currency: String,
    pub master: Map<String, Value>,
    pub details: Vec<Map<String, Value>>,
    pub taxes: Vec<Map<String, Value>>,
    pub total: Decimal,
    /// Some line amount is not zero (for the read-back visibility check).
    pub nonzero: bool,
    pub accounts: Vec<String>,
    /// Full labels (`WBS1 / WBS2 / WBS3`) of the lines' project levels, and the top-level WBS1s.
    pub labels: Vec<String>,
    pub wbs1s: Vec<String>,
    pub line_pkeys: Vec<String>,
}

impl PreparedVoucher {
    fn what(&self) -> String {
        format!("voucher for invoice {} from vendor {}", self.invoice, self.vendor)
    }

    fn vref(&self, batch: &str, voucher: Option<String>) -> VoucherRef {
        VoucherRef {
            batch: batch.to_string(),
            master_pkey: self.master_pkey.clone(),
            voucher,
            vendor: self.vendor.clone(),
            invoice: self.invoice.clone(),
        }
    }
}

type Outcome = Result<CreatedVoucher, DeltekError>;

/// A voucher's result, with the HTTP exchanges of the file(s) it travelled in: the sending task
/// is not the caller's, so the caller records them into its own audit capture.
type Delivered = (Outcome, Arc<Vec<Exchange>>);

struct Pending {
    voucher: PreparedVoucher,
    waiters: Vec<oneshot::Sender<Delivered>>,
}

struct Group {
    id: u64,
    items: Vec<Pending>,
}

/// Vouchers share a file when they share a posting period and a currency.
type GroupKey = (i64, String);

/// Open files waiting to fill, by (period, currency).
#[derive(Default)]
pub(crate) struct Batcher {
    groups: SyncMutex<HashMap<GroupKey, Group>>,
    next_group: std::sync::atomic::AtomicU64,
}

/// Whether the API user's role can see amounts.
#[derive(Default)]
pub(crate) struct Visibility(Mutex<Option<VisibilityState>>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VisibilityState {
    Visible,
    Hidden,
    /// Nothing to judge by yet (no posted amounts); the save echo decides.
    NoEvidence,
}

impl Visibility {
    pub fn reset(&self) {
        if let Ok(mut g) = self.0.try_lock() {
            *g = None;
        }
    }
}

/// Whether every value of the named money fields present in the rows is zero (and at least one
/// is present). Callers name the fields that cannot all be zero in real data (a posted line's
/// `Amount`); a role hiding amounts may still show others (currency-converted copies).
pub(crate) fn all_money_zero(rows: &[Row], fields: &[&str]) -> bool {
    let mut seen = false;
    for r in rows {
        for v in r.money_fields(fields) {
            seen = true;
            if !v.is_zero() {
                return false;
            }
        }
    }
    seen
}

fn terms_days(terms: &str) -> Option<String> {
    let digits: String = terms.chars().filter(char::is_ascii_digit).collect();
    (!digits.is_empty() && digits.len() <= 3).then_some(digits)
}

fn truncate(s: &str, n: usize) -> String {
    s.trim().chars().take(n).collect()
}

/// Round each of `exact` to `minor` digits so that the rounded values add up to `target` exactly:
/// each is rounded down, and the units still missing go to the values with the largest remainders
/// (the largest-remainder method; ties go to the earlier line). A target further off than one unit
/// per value puts the rest on the largest value. Rounding every line on its own can make a
/// voucher a cent off its invoice (100.00 + 8.2550 and 200.00 + 16.5050 round to 108.26 + 216.51 =
/// 324.77 for a 324.76 invoice); this cannot.
pub(crate) fn allocate_rounded(exact: &[Decimal], target: Decimal, minor: u32) -> Vec<Decimal> {
    if exact.is_empty() {
        return Vec::new();
    }
    let unit = Decimal::new(1, minor);
    let floor = |d: Decimal| d.round_dp_with_strategy(minor, rust_decimal::RoundingStrategy::ToNegativeInfinity);
    let mut out: Vec<Decimal> = exact.iter().map(|d| floor(*d)).collect();
    let mut order: Vec<usize> = (0..exact.len()).collect();
    // Largest remainder first; stable, so ties keep line order.
    order.sort_by(|a, b| (exact[*b] - out[*b]).cmp(&(exact[*a] - out[*a])));
    let target = target.round_dp_with_strategy(minor, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let missing = target - out.iter().copied().sum::<Decimal>();
    let mut units = (missing / unit).round();
    for i in &order {
        if units <= Decimal::ZERO {
            break;
        }
        out[*i] += unit;
        units -= Decimal::ONE;
    }
    if !units.is_zero() {
        let largest = (0..out.len()).max_by(|a, b| out[*a].abs().cmp(&out[*b].abs())).unwrap_or(0);
        out[largest] += units * unit;
    }
    out
}

/// Spread `header_tax` over lines by net amount, the remainder on the largest line.
fn spread_tax(lines: &[ApLine], header_tax: Decimal, minor: u32) -> Vec<Decimal> {
    let mut shares = vec![Decimal::ZERO; lines.len()];
    if header_tax.is_zero() || lines.is_empty() {
        return shares;
    }
    let base: Decimal = lines.iter().map(|l| l.net_amount.abs()).sum();
    let mut given = Decimal::ZERO;
    for (i, l) in lines.iter().enumerate() {
        let s = if base.is_zero() {
            Decimal::ZERO
        } else {
            (header_tax * l.net_amount.abs() / base)
                .round_dp_with_strategy(minor, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        };
        shares[i] = s;
        given += s;
    }
    let largest = lines
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.net_amount.abs().cmp(&b.1.net_amount.abs()))
        .map(|(i, _)| i)
        .unwrap_or(0);
    shares[largest] += header_tax - given;
    shares
}

impl DeltekClient {
    fn company(&self) -> String {
        self.inner.settings.company.clone().unwrap_or_default()
    }

    /// The deterministic `MasterPKey` this connection gives a vendor invoice.
    pub fn master_pkey_for(&self, vendor: &str, invoice: &str) -> String {
        keys::master_pkey(&self.company(), vendor, invoice)
    }

    /// Map a domain invoice to a voucher (no calls but the cached period list).
    pub(crate) async fn prepare_voucher(&self, inv: &ApInvoice) -> Result<PreparedVoucher, DeltekError> {
        let s = &self.inner.settings;
        let vendor = inv.vendor.trim().to_string();
        let invoice = inv.invoice_number.trim().to_string();
        let what = format!("voucher for invoice {invoice} from vendor {vendor}");
        if invoice.chars().count() > 50 {
            return Err(DeltekError::Invalid {
                what,
                problem: "the invoice number is longer than Vantagepoint's 50 characters".into(),
            });
        }
        let period = self.posting_period(inv.invoice_date, &what).await?;
        let minor = inv.currency.minor_units();
        let sign = if inv.kind == DocumentKind::CreditMemo { Decimal::NEGATIVE_ONE } else { Decimal::ONE };
        let mpk = keys::master_pkey(&self.company(), &vendor, &invoice);
        let round = |d: Decimal| d.round_dp_with_strategy(minor, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        let header_share = spread_tax(&inv.lines, inv.header_tax, minor);
        // Lines are rounded together, so the voucher equals the invoice's own total to the cent:
        // nets each rounded, the tax allocated so that nets + taxes = the rounded header total.
        let nets: Vec<Decimal> = inv.lines.iter().map(|l| round(sign * l.net_amount)).collect();
        let exact_tax: Vec<Decimal> =
            inv.lines.iter().enumerate().map(|(i, l)| sign * (l.tax_amount + header_share[i])).collect();
        let exact_total: Decimal = nets.iter().copied().sum::<Decimal>() + exact_tax.iter().copied().sum::<Decimal>();
        let header_total = sign * inv.total;
        // The header is the document's word when the lines agree with it (the domain checked the
        // tolerance); otherwise the lines' own sum.
        let target = if (header_total - exact_total).abs() <= inv.tolerance.0 { header_total } else { exact_total };
        let target_tax = round(target) - nets.iter().copied().sum::<Decimal>();
        let taxes_rounded = allocate_rounded(&exact_tax, target_tax, minor);

        let mut details = Vec::new();
        let mut taxes = Vec::new();
        let mut total = Decimal::ZERO;
        let (mut accounts, mut labels, mut wbs1s, mut pkeys) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (i, line) in inv.lines.iter().enumerate() {
            let (net, tax) = (nets[i], taxes_rounded[i]);
            let gross = net + tax;
            total += gross;
            let pkey = keys::line_pkey(&mpk, line.line_no);
            let (w1, w2, w3) = match &line.project {
                Some(p) => (
                    p.wbs1().trim().to_string(),
                    p.wbs2().unwrap_or_default().to_string(),
                    p.wbs3().unwrap_or_default().to_string(),
                ),
                None => (String::new(), String::new(), String::new()),
            };
            // One entry per line (blank when the line has no project), aligned with `accounts`.
            labels.push(line.project.as_ref().map(wbs_label).unwrap_or_default());
            wbs1s.push(w1.clone());
            accounts.push(line.account.trim().to_string());
            pkeys.push(pkey.clone());
            let mut d = Map::new();
            d.insert("Batch".into(), json!(""));
            d.insert("MasterPKey".into(), json!(mpk));
            d.insert("PKey".into(), json!(pkey));
            d.insert("Seq".into(), json!(i + 1));
            let desc = if line.description.trim().is_empty() {
                inv.description.clone().unwrap_or_else(|| format!("Invoice {invoice}"))
            } else {
                line.description.clone()
            };
            d.insert("Description".into(), json!(truncate(&desc, 255)));
            d.insert("WBS1".into(), json!(w1));
            d.insert("WBS2".into(), json!(w2.trim()));
            d.insert("WBS3".into(), json!(w3.trim()));
            d.insert("Account".into(), json!(line.account.trim()));
            d.insert("Amount".into(), json!(amount(gross, minor)));
            d.insert("NetAmount".into(), json!(amount(net, minor)));
            if let Some(po) = line.po_number.as_ref().or(inv.po_number.as_ref()).filter(|p| !p.trim().is_empty()) {
                d.insert("PONumber".into(), json!(truncate(po, 30)));
            }
            details.push(d);
            if let Some(code) = &s.tax_code
                && !tax.is_zero()
            {
                let mut t = Map::new();
                t.insert("Batch".into(), json!(""));
                t.insert("MasterPKey".into(), json!(mpk));
                t.insert("PKey".into(), json!(keys::line_pkey(&mpk, line.line_no)));
                t.insert("TaxCode".into(), json!(code));
                t.insert("Seq".into(), json!(1));
                t.insert("TaxAmount".into(), json!(amount(tax, minor)));
                taxes.push(t);
            }
        }
        let nonzero = details
            .iter()
            .any(|d| d["Amount"].as_str().and_then(crate::decode::parse_decimal_text).is_some_and(|a| !a.is_zero()));

        let mut m = Map::new();
        m.insert("Batch".into(), json!(""));
        m.insert("MasterPKey".into(), json!(mpk));
        m.insert("Vendor".into(), json!(vendor));
        m.insert("Invoice".into(), json!(invoice));
        m.insert("InvoiceDate".into(), json!(day(inv.invoice_date)));
        m.insert("TransDate".into(), json!(day(inv.invoice_date)));
        if let Some(l) = &s.liability_code {
            m.insert("LiabCode".into(), json!(l));
        }
        if let Some(b) = &s.bank_code {
            m.insert("BankCode".into(), json!(b));
        }
        match (inv.due_date, inv.terms.as_deref().and_then(terms_days), &s.pay_terms) {
            (Some(due), _, _) => {
                m.insert("PayTerms".into(), json!("Date"));
                m.insert("PayDate".into(), json!(day(due)));
            }
            (None, Some(days), _) => {
                m.insert("PayTerms".into(), json!(days));
            }
            (None, None, Some(t)) => {
                m.insert("PayTerms".into(), json!(t));
            }
            (None, None, None) => {}
        }
        m.insert("CurrencyCode".into(), json!(inv.currency.code()));
        Ok(PreparedVoucher {
            key: keys::natural_key(&vendor, &invoice),
            vendor,
            invoice,
            master_pkey: mpk,
            period,
            currency: inv.currency.code().to_string(),
            master: m,
            details,
            taxes,
            total,
            nonzero,
            accounts,
            labels,
            wbs1s,
            line_pkeys: pkeys,
        })
    }

    /// The `POST DataEntry/apControl` body for a file of vouchers.
    pub(crate) fn file_body(&self, batch: &str, vouchers: &[&PreparedVoucher]) -> Value {
        let s = &self.inner.settings;
        let minor = vouchers
            .first()
            .and_then(|v| v.currency.parse::<mlc_core::money::Currency>().ok())
            .map(|c| c.minor_units())
            .unwrap_or(2);
        let total: Decimal = vouchers.iter().map(|v| v.total).sum();
        let mut masters = Vec::new();
        let mut details = Vec::new();
        let mut taxes = Vec::new();
        for (i, v) in vouchers.iter().enumerate() {
            let mut m = v.master.clone();
            m.insert("Batch".into(), json!(batch));
            m.insert("Seq".into(), json!(i + 1));
            masters.push(Value::Object(m));
            for d in &v.details {
                let mut d = d.clone();
                d.insert("Batch".into(), json!(batch));
                details.push(Value::Object(d));
            }
            for t in &v.taxes {
                let mut t = t.clone();
                t.insert("Batch".into(), json!(batch));
                taxes.push(Value::Object(t));
            }
        }
        let description = match vouchers {
            [one] => format!("ml-connector {} {}", one.vendor, one.invoice),
            many => format!("ml-connector {} vouchers {}", many.len(), chrono::Utc::now().format("%Y-%m-%d %H:%M")),
        };
        let mut c = Map::new();
        c.insert("Batch".into(), json!(batch));
        c.insert("Description".into(), json!(truncate(&description, 40)));
        c.insert("Recurring".into(), json!("N"));
        c.insert("Total".into(), json!(amount(total, minor)));
        if let Some(p) = vouchers.first().map(|v| v.period).filter(|p| *p != 0) {
            c.insert("Period".into(), json!(p));
        }
        if let Some(cur) = vouchers.first().map(|v| v.currency.clone()) {
            c.insert("DefaultCurrencyCode".into(), json!(cur));
        }
        if let Some(l) = &s.liability_code {
            c.insert("DefaultLiab".into(), json!(l));
        }
        if let Some(b) = &s.bank_code {
            c.insert("DefaultBank".into(), json!(b));
        }
        if let Some(co) = &s.company {
            c.insert("Company".into(), json!(co));
        }
        if let Some(code) = &s.tax_code {
            c.insert("apControlDefaultTaxCodes".into(), json!([{ "Batch": batch, "TaxCode": code, "Seq": 1 }]));
        }
        c.insert("apMaster".into(), Value::Array(masters));
        c.insert("apDetail".into(), Value::Array(details));
        if !taxes.is_empty() {
            c.insert("apDetailTax".into(), Value::Array(taxes));
        }
        Value::Object(c)
    }

    /// Check once per run, before the first voucher, that the API user can see amounts.
    pub(crate) async fn ensure_amounts_visible(&self, what: &str) -> Result<(), DeltekError> {
        if !self.inner.settings.check_amount_visibility {
            return Ok(());
        }
        let mut g = self.inner.visibility.0.lock().await;
        if g.is_none() {
            let q = Query::new().fields(&["Amount"]).param("pageSize", 25).param("page", 1);
            let rows = self.get_rows("ledger/AP", &q, "a sample of posted AP amounts").await?;
            *g = Some(if rows.is_empty() {
                VisibilityState::NoEvidence
            } else if all_money_zero(&rows, &["Amount"]) {
                VisibilityState::Hidden
            } else {
                VisibilityState::Visible
            });
        }
        match *g {
            Some(VisibilityState::Hidden) => {
                Err(DeltekError::HiddenAmounts { what: what.to_string(), username: self.username().to_string() })
            }
            _ => Ok(()),
        }
    }

    async fn note_hidden_amounts(&self) {
        *self.inner.visibility.0.lock().await = Some(VisibilityState::Hidden);
    }

    /// Create one AP invoice as a voucher, batched with other callers' vouchers. Look it up
    /// first ([`DeltekClient::find_ap_invoice`]): Vantagepoint has no idempotency key.
    pub async fn create_ap_invoice(&self, invoice: &ApInvoice) -> Result<CreatedVoucher, DeltekError> {
        let v = self.prepare_voucher(invoice).await?;
        self.ensure_amounts_visible(&v.what()).await?;
        if self.inner.settings.vouchers_per_file <= 1 {
            return self.send_file(vec![v]).await.pop().unwrap_or_else(|| Err(lost_result()));
        }
        let (tx, rx) = oneshot::channel();
        let k = self.inner.settings.vouchers_per_file;
        let (full, linger_for) = {
            let mut groups = self.inner.batcher.groups.lock().unwrap_or_else(|p| p.into_inner());
            let group_key = (v.period, v.currency.clone());
            let next = &self.inner.batcher.next_group;
            let g = groups
                .entry(group_key.clone())
                .or_insert_with(|| Group { id: next.fetch_add(1, Ordering::Relaxed), items: Vec::new() });
            match g.items.iter_mut().find(|p| p.voucher.key == v.key) {
                // The same invoice twice in one file would be refused as a duplicate key: share.
                Some(p) => p.waiters.push(tx),
                None => g.items.push(Pending { voucher: v, waiters: vec![tx] }),
            }
            let first = g.items.len() == 1 && g.items[0].waiters.len() == 1;
            let id = g.id;
            if g.items.len() >= k {
                (groups.remove(&group_key).map(|g| g.items), None)
            } else {
                (None, first.then_some((group_key, id)))
            }
        };
        if let Some(items) = full {
            let me = self.clone();
            tokio::spawn(async move { me.flush(items).await });
        }
        if let Some((group_key, id)) = linger_for {
            let me = self.clone();
            let linger = self.inner.settings.batch_linger;
            tokio::spawn(async move {
                tokio::time::sleep(linger).await;
                let items = {
                    let mut groups = me.inner.batcher.groups.lock().unwrap_or_else(|p| p.into_inner());
                    match groups.get(&group_key) {
                        Some(g) if g.id == id => groups.remove(&group_key).map(|g| g.items),
                        _ => None,
                    }
                };
                if let Some(items) = items {
                    me.flush(items).await;
                }
            });
        }
        match rx.await {
            Ok((result, exchanges)) => {
                // The file's exchanges belong in this voucher's audit trail (the engine captures
                // per task; the file was sent from another one).
                for ex in exchanges.iter() {
                    mlc_core::engine::capture::record(ex.clone());
                }
                result
            }
            Err(_) => Err(lost_result()),
        }
    }

    /// Send every open file now instead of waiting for it to fill (end of a run).
    pub async fn flush_ap(&self) {
        let all: Vec<Vec<Pending>> = {
            let mut groups = self.inner.batcher.groups.lock().unwrap_or_else(|p| p.into_inner());
            groups.drain().map(|(_, g)| g.items).collect()
        };
        for items in all {
            self.flush(items).await;
        }
    }

    async fn flush(&self, items: Vec<Pending>) {
        let (vouchers, waiters): (Vec<PreparedVoucher>, Vec<Vec<oneshot::Sender<Delivered>>>) =
            items.into_iter().map(|p| (p.voucher, p.waiters)).unzip();
        // A voucher nobody waits for any more (its worker was cancelled or crashed before the file
        // went out) is not sent: its item's in-doubt marker is resolved by lookup, and a write
        // that lands later than that lookup would be a second voucher.
        let wanted = |i: usize| waiters.get(i).is_some_and(|ws| ws.iter().any(|w| !w.is_closed()));
        let (results, exchanges) = mlc_core::engine::capture::capture(self.send_file_while(vouchers, &wanted)).await;
        let exchanges = Arc::new(exchanges);
        for (result, ws) in results.into_iter().zip(waiters) {
            for w in ws {
                let _ = w.send((result.clone(), exchanges.clone()));
            }
        }
    }

    /// Create several AP invoices now, in files of `vouchers_per_file`; one result per invoice,
    /// in order.
    pub async fn create_ap_invoices(&self, invoices: &[ApInvoice]) -> Vec<Result<CreatedVoucher, DeltekError>> {
        let mut out: Vec<Option<Outcome>> = vec![None; invoices.len()];
        let mut groups: Vec<(GroupKey, Vec<(usize, PreparedVoucher)>)> = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut dupes: Vec<(usize, usize)> = Vec::new();
        for (i, inv) in invoices.iter().enumerate() {
            match self.prepare_voucher(inv).await {
                Err(e) => out[i] = Some(Err(e)),
                Ok(v) => {
                    if let Err(e) = self.ensure_amounts_visible(&v.what()).await {
                        out[i] = Some(Err(e));
                        continue;
                    }
                    if let Some(first) = seen.get(&v.key) {
                        dupes.push((i, *first));
                        continue;
                    }
                    seen.insert(v.key.clone(), i);
                    let gk = (v.period, v.currency.clone());
                    match groups.iter_mut().find(|(k, _)| *k == gk) {
                        Some((_, list)) => list.push((i, v)),
                        None => groups.push((gk, vec![(i, v)])),
                    }
                }
            }
        }
        let k = self.inner.settings.vouchers_per_file.max(1);
        for (_, list) in groups {
            for chunk in list.chunks(k) {
                let idx: Vec<usize> = chunk.iter().map(|(i, _)| *i).collect();
                let vs: Vec<PreparedVoucher> = chunk.iter().map(|(_, v)| v.clone()).collect();
                for (i, r) in idx.into_iter().zip(self.send_file(vs).await) {
                    out[i] = Some(r);
                }
            }
        }
        for (dup, first) in dupes {
            out[dup] = out[first].clone();
        }
        out.into_iter().map(|r| r.unwrap_or_else(|| Err(lost_result()))).collect()
    }

    /// Send vouchers as files until each has a result (see the module docs).
    pub(crate) async fn send_file(&self, vouchers: Vec<PreparedVoucher>) -> Vec<Outcome> {
        self.send_file_while(vouchers, &|_| true).await
    }

    /// [`Self::send_file`], leaving out of every file (the first and each one sent again) the
    /// vouchers `wanted` no longer wants.
    async fn send_file_while(
        &self,
        vouchers: Vec<PreparedVoucher>,
        wanted: &(dyn Fn(usize) -> bool + Sync),
    ) -> Vec<Outcome> {
        let n = vouchers.len();
        let mut results: Vec<Option<Outcome>> = vec![None; n];
        let mut work: Vec<Vec<usize>> = vec![(0..n).collect()];
        let mut posts = 0usize;
        while let Some(group) = work.pop() {
            let group: Vec<usize> = group
                .into_iter()
                .filter(|i| {
                    let keep = wanted(*i);
                    if !keep {
                        results[*i] = Some(Err(lost_result()));
                    }
                    keep
                })
                .collect();
            if group.is_empty() {
                continue;
            }
            posts += 1;
            let members: Vec<&PreparedVoucher> = group.iter().map(|i| &vouchers[*i]).collect();
            if posts > 2 * n + 4 {
                for i in &group {
                    results[*i] = Some(Err(DeltekError::Invalid {
                        what: vouchers[*i].what(),
                        problem: "Vantagepoint kept refusing the files this voucher was in; see the earlier errors"
                            .into(),
                    }));
                }
                continue;
            }
            let batch = if let [one] = members.as_slice() {
                keys::single_batch(&self.inner.settings.batch_prefix, &one.master_pkey)
            } else {
                let seq = self.inner.file_seq.fetch_add(1, Ordering::Relaxed);
                keys::multi_batch(&self.inner.settings.batch_prefix, seq)
            };
            let body = self.file_body(&batch, &members);
            let what = match members.as_slice() {
                [one] => format!("AP file {batch} ({})", one.what()),
                many => format!("AP file {batch} ({} vouchers)", many.len()),
            };
            let req = Request::post("DataEntry/apControl").json(&body);
            match self.write(req, "POST DataEntry/apControl", &what).await {
                Ok(answer) => {
                    let created = self.after_save(&batch, &members, answer).await;
                    for (i, r) in group.iter().zip(created) {
                        results[*i] = Some(r);
                    }
                }
                Err(DeltekError::Refused { server, call, status, fix, .. }) => {
                    let refused = |subject: &str| DeltekError::Refused {
                        what: subject.to_string(),
                        call: call.clone(),
                        status,
                        server: server.clone(),
                        fix: fix.clone(),
                    };
                    // A one-voucher file is named after its voucher: "already exists" means an
                    // earlier attempt saved it.
                    if let [one] = members.as_slice()
                        && server.to_ascii_lowercase().contains("already exists")
                        && server.to_ascii_uppercase().contains(&batch)
                    {
                        let r = match self.voucher_in_file(&batch, &one.master_pkey).await {
                            Ok(Some(found)) => Ok(CreatedVoucher {
                                voucher: found.voucher,
                                status: found.status,
                                post: None,
                                already_present: true,
                                total: one.total,
                            }),
                            Ok(None) => Err(refused(&format!("AP file {batch} ({})", one.what()))),
                            Err(e) => Err(e),
                        };
                        results[group[0]] = Some(r);
                        continue;
                    }
                    let culprits = blame(&server, &members);
                    if members.len() == 1 || culprits.len() == members.len() {
                        for (pos, i) in group.iter().enumerate() {
                            let subject = format!("AP file {batch}: {}", members[pos].what());
                            results[*i] = Some(Err(refused(&subject)));
                        }
                        continue;
                    }
                    if culprits.is_empty() {
                        // Nothing in the message points at a voucher: halve until one stands alone.
                        let mid = group.len() / 2;
                        work.push(group[mid..].to_vec());
                        work.push(group[..mid].to_vec());
                        continue;
                    }
                    let mut rest = Vec::new();
                    for (pos, i) in group.iter().enumerate() {
                        if culprits.contains(&pos) {
                            let subject = format!(
                                "AP file {batch}: {} (the other {} vouchers of the file were sent again without it)",
                                members[pos].what(),
                                members.len() - culprits.len()
                            );
                            results[*i] = Some(Err(refused(&subject)));
                        } else {
                            rest.push(*i);
                        }
                    }
                    work.push(rest);
                }
                Err(e @ DeltekError::InDoubt { .. }) => {
                    for (pos, i) in group.iter().enumerate() {
                        let v = members[pos];
                        self.inner.index.note_in_doubt(&v.key, &batch);
                        let subject = format!("AP file {batch}: {} (MasterPKey {})", v.what(), v.master_pkey);
                        results[*i] = Some(Err(e.clone().about(&subject)));
                    }
                    self.inner.index.mark_stale().await;
                }
                Err(e) => {
                    for (pos, i) in group.iter().enumerate() {
                        let subject = format!("AP file {batch}: {}", members[pos].what());
                        results[*i] = Some(Err(e.clone().about(&subject)));
                    }
                }
            }
        }
        results.into_iter().map(|r| r.unwrap_or_else(|| Err(lost_result()))).collect()
    }

    /// After a file was saved: voucher numbers from the echo, the amounts check, the approval
    /// status, the optional post, and the lookup index.
    async fn after_save(&self, batch: &str, members: &[&PreparedVoucher], answer: Value) -> Vec<Outcome> {
        let echo = rows(answer);
        let masters: Vec<Row> = echo.iter().flat_map(|c| c.rows("apMaster")).collect();
        let details: Vec<Row> = echo.iter().flat_map(|c| c.rows("apDetail")).collect();
        let voucher_no = |mpk: &str| {
            masters.iter().find(|m| m.text("MasterPKey").eq_ignore_ascii_case(mpk)).and_then(|m| m.opt_text("Voucher"))
        };
        // Judged only when the echo carries the amounts at all (some tenants echo the control only).
        let hidden = members.iter().any(|m| m.nonzero) && all_money_zero(&details, &["Amount", "NetAmount"]);
        let refs: Vec<VoucherRef> = members.iter().map(|m| m.vref(batch, voucher_no(&m.master_pkey))).collect();
        self.remember_file(batch, &refs).await;
        if hidden {
            self.note_hidden_amounts().await;
            self.inner.index.add_created(&refs, &VoucherStatus::Draft).await;
            return members
                .iter()
                .zip(&refs)
                .map(|(m, r)| {
                    Err(DeltekError::HiddenAmounts {
                        what: format!(
                            "{} was saved in AP file {batch} ({}) with the amounts sent, but reads back with amounts 0; \
                             a replay finds it by vendor and invoice number",
                            m.what(),
                            r.display()
                        ),
                        username: self.username().to_string(),
                    })
                })
                .collect();
        }
        let period = members.first().map(|m| m.period).unwrap_or(0);
        let mut post = None;
        let mut status = None;
        if self.inner.settings.post_files {
            let description = format!("ml-connector {batch}");
            let outcome = match self.post_ap_file(batch, period, &description).await {
                Ok(o) => o,
                Err(DeltekError::InDoubt { detail, .. }) => PostOutcome::InDoubt { detail },
                Err(e) => PostOutcome::Refused { message: e.to_string() },
            };
            if let PostOutcome::Posted { period, post_seq, .. } = &outcome {
                status = Some(VoucherStatus::Posted { period: Some(*period), post_seq: Some(*post_seq) });
            }
            post = Some(outcome);
        }
        let status = match status {
            Some(s) => s,
            None => self.file_status(batch).await.unwrap_or(VoucherStatus::Draft),
        };
        self.inner.index.add_created(&refs, &status).await;
        members
            .iter()
            .zip(refs)
            .map(|(m, r)| {
                Ok(CreatedVoucher {
                    voucher: r,
                    status: status.clone(),
                    post: post.clone(),
                    already_present: false,
                    total: m.total,
                })
            })
            .collect()
    }

    /// A file's approval status from its landing row.
    pub(crate) async fn file_status(&self, batch: &str) -> Result<VoucherStatus, DeltekError> {
        let q = Query::new().filter("Batch", "=", batch).fields(&[
            "Batch",
            "ApprovalStatus",
            "PostStatus",
            "RawPeriod",
            "PostSeq",
        ]);
        let rows = self.get_rows("DataEntry/apLanding", &q, &format!("the status of AP file {batch}")).await?;
        let Some(r) = rows.iter().find(|r| r.text("Batch").eq_ignore_ascii_case(batch)) else {
            return Ok(VoucherStatus::Draft);
        };
        Ok(landing_status(r))
    }

    /// Post a saved AP file (`PUT DataEntry/PostTransFile`). A file awaiting approval is
    /// `AwaitingApproval`, not an error; other refusals are `Refused` with Vantagepoint's `msg`.
    pub async fn post_ap_file(&self, batch: &str, period: i64, description: &str) -> Result<PostOutcome, DeltekError> {
        self.post_trans_file("AP", batch, period, description).await
    }

    /// Post one file of a transaction type (`AP`, `JE`).
    pub(crate) async fn post_trans_file(
        &self,
        trans_type: &str,
        batch: &str,
        period: i64,
        description: &str,
    ) -> Result<PostOutcome, DeltekError> {
        let mut parms = Map::new();
        parms.insert("batch".into(), json!(batch));
        if let Some(c) = &self.inner.settings.company {
            parms.insert("clientcompany".into(), json!(c));
        }
        parms.insert("description".into(), json!(truncate(description, 40)));
        if period != 0 {
            parms.insert("period".into(), json!(period.to_string()));
        }
        parms.insert("transtype".into(), json!(trans_type));
        let body = json!({ "parms": Value::Object(parms) });
        let what = format!("posting {trans_type} file {batch}");
        let req = Request::put("DataEntry/PostTransFile").json(&body);
        let answer = match self.write(req, "PUT DataEntry/PostTransFile", &what).await {
            Ok(a) => a,
            Err(DeltekError::Refused { server, fix, .. }) => return Ok(refused_post(server, fix)),
            Err(DeltekError::PeriodClosed { fix, .. }) => return Ok(PostOutcome::Refused { message: fix }),
            Err(e) => return Err(e),
        };
        if trans_type == "AP"
            && let Some(why) = unclear_post_answer(batch, &answer)
        {
            // Decide from what Vantagepoint's ledger shows, and say one thing.
            return Ok(match self.file_status(batch).await {
                Ok(VoucherStatus::Posted { period, post_seq }) => PostOutcome::Posted {
                    period: period.unwrap_or(0),
                    post_seq: post_seq.unwrap_or(0),
                    message: format!("the answer to the post was unclear ({why}); the file shows as posted"),
                },
                Ok(VoucherStatus::Submitted) => PostOutcome::AwaitingApproval {
                    message: format!("the answer to the post was unclear ({why}); the file waits for approval"),
                },
                Ok(_) => PostOutcome::Refused {
                    message: format!("the answer to the post was unclear ({why}) and the file is not posted"),
                },
                Err(e) => PostOutcome::InDoubt {
                    detail: format!(
                        "the answer to the post was unclear ({why}) and the file's status could not be read: {e}"
                    ),
                },
            });
        }
        Ok(read_post_answer(batch, &answer))
    }

    /// One voucher of one file, if it is there (`GET DataEntry/apMaster/{Batch}|{MasterPKey}`).
    pub(crate) async fn voucher_in_file(
        &self,
        batch: &str,
        master_pkey: &str,
    ) -> Result<Option<crate::model::FoundVoucher>, DeltekError> {
        let path = format!("DataEntry/apMaster/{}|{}", seg(batch), seg(master_pkey));
        let q = Query::new().fields(&[
            "Batch",
            "MasterPKey",
            "Vendor",
            "Invoice",
            "Voucher",
            "Status",
            "Posted",
            "InvoiceDate",
        ]);
        let rows = self.get_rows(&path, &q, &format!("voucher {master_pkey} of AP file {batch}")).await?;
        let Some(r) = rows.iter().find(|r| r.text("MasterPKey").eq_ignore_ascii_case(master_pkey)) else {
            return Ok(None);
        };
        let vendor = r.text("Vendor");
        let invoice = r.text("Invoice");
        let ours = self.master_pkey_for(&vendor, &invoice).eq_ignore_ascii_case(master_pkey);
        let status = match self.file_status(batch).await {
            Ok(s) => s,
            Err(_) => VoucherStatus::from_codes(&r.text("Status"), r.flag("Posted")),
        };
        Ok(Some(crate::model::FoundVoucher {
            voucher: VoucherRef {
                batch: r.opt_text("Batch").unwrap_or_else(|| batch.to_string()),
                master_pkey: r.text("MasterPKey"),
                voucher: r.opt_text("Voucher"),
                vendor,
                invoice,
            },
            status,
            ours,
            invoice_date: r.date("InvoiceDate").map(|d| d.date()),
            amount: None,
        }))
    }

    /// A found voucher's total (the sum of its lines), to compare it with a document about to be
    /// posted. `None` when the lines are not there or every amount reads 0 — which is what a role
    /// without field visibility sees, so it is "unknown", never "zero" (and not, on its own, proof
    /// of a hidden role: [`DeltekClient::read_voucher_lines`] judges that for our own writes).
    pub async fn voucher_total(&self, voucher: &VoucherRef) -> Result<Option<Decimal>, DeltekError> {
        let path = format!("DataEntry/apDetail/{}|{}", seg(&voucher.batch), seg(&voucher.master_pkey));
        let what = format!("the lines of voucher for invoice {} from vendor {}", voucher.invoice, voucher.vendor);
        let rows = self.get_rows(&path, &Query::new(), &what).await?;
        let lines: Vec<&Row> =
            rows.iter().filter(|r| r.text("MasterPKey").eq_ignore_ascii_case(&voucher.master_pkey)).collect();
        let total: Decimal = lines.iter().map(|r| r.money("Amount")).sum();
        Ok((!lines.is_empty() && !total.is_zero()).then_some(total))
    }

    /// Read a voucher back with its lines; fails with [`DeltekError::HiddenAmounts`] when every
    /// amount reads as zero although the lines are there.
    pub async fn read_voucher_lines(&self, voucher: &VoucherRef) -> Result<Vec<VoucherLine>, DeltekError> {
        let path = format!("DataEntry/apDetail/{}|{}", seg(&voucher.batch), seg(&voucher.master_pkey));
        let what = format!(
            "the lines of voucher for invoice {} from vendor {} ({})",
            voucher.invoice,
            voucher.vendor,
            voucher.display()
        );
        let rows = self.get_rows(&path, &Query::new(), &what).await?;
        let rows: Vec<Row> =
            rows.into_iter().filter(|r| r.text("MasterPKey").eq_ignore_ascii_case(&voucher.master_pkey)).collect();
        if !rows.is_empty() && all_money_zero(&rows, &["Amount", "NetAmount"]) {
            self.note_hidden_amounts().await;
            return Err(DeltekError::HiddenAmounts { what, username: self.username().to_string() });
        }
        Ok(rows.iter().map(VoucherLine::from_row).collect())
    }
}

/// A voucher line as read back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VoucherLine {
    pub seq: i64,
    pub account: String,
    pub project: Option<mlc_core::domain::ProjectRef>,
    pub description: String,
    pub amount: Decimal,
    pub net_amount: Decimal,
    pub po_number: Option<String>,
}

impl VoucherLine {
    fn from_row(r: &Row) -> Self {
        VoucherLine {
            seq: r.int("Seq").unwrap_or(0),
            account: r.text("Account"),
            project: r.opt_text("WBS1").map(|w1| crate::model::wbs(&w1, r.opt_text("WBS2"), r.opt_text("WBS3"))),
            description: r.text("Description"),
            amount: r.money("Amount"),
            net_amount: r.money("NetAmount"),
            po_number: r.opt_text("PONumber"),
        }
    }
}

pub(crate) fn landing_status(r: &Row) -> VoucherStatus {
    let posted = r.flag("PostStatus") || r.text("ApprovalStatus").eq_ignore_ascii_case("P");
    if posted {
        return VoucherStatus::Posted {
            period: r.int("RawPeriod").filter(|p| *p > 0),
            post_seq: r.int("PostSeq").filter(|s| *s > 0),
        };
    }
    VoucherStatus::from_codes(&r.text("ApprovalStatus"), false)
}

fn refused_post(server: String, fix: Option<String>) -> PostOutcome {
    if server.to_ascii_lowercase().contains("not been approved") {
        PostOutcome::AwaitingApproval { message: server }
    } else {
        PostOutcome::Refused {
            message: match fix {
                Some(f) => format!("{server} (fix: {f})"),
                None => server,
            },
        }
    }
}

/// Read `PostTransFile`'s answer: a JSON *string* holding `{typeList, batchList, retList,
/// periodList, postseqList, msg}` with pipe-joined lists (an object is accepted too).
/// Why a post answer cannot be read for `batch` (no result row, the file not in its list, or no
/// `0`/`1` result for it), or `None` when it can.
pub(crate) fn unclear_post_answer(batch: &str, answer: &Value) -> Option<String> {
    let Some(r) = rows(answer.clone()).into_iter().next() else {
        return Some("no result in it".into());
    };
    let batches: Vec<String> = r.text("batchList").split('|').map(|s| s.trim().to_string()).collect();
    let Some(pos) = batches.iter().position(|b| b.eq_ignore_ascii_case(batch)) else {
        return Some(format!("file {batch} is not in its batchList"));
    };
    let ret = r.text("retList").split('|').nth(pos).map(|s| s.trim().to_string()).unwrap_or_default();
    (ret != "0" && ret != "1").then(|| format!("retList {ret:?} for file {batch}"))
}

pub(crate) fn read_post_answer(batch: &str, answer: &Value) -> PostOutcome {
    let Some(r) = rows(answer.clone()).into_iter().next() else {
        return PostOutcome::Refused {
            message: format!("Vantagepoint answered the post of file {batch} with {answer}"),
        };
    };
    let list = |k: &str| r.text(k).split('|').map(|s| s.trim().to_string()).collect::<Vec<_>>();
    let batches = list("batchList");
    let pos = batches.iter().position(|b| b.eq_ignore_ascii_case(batch)).unwrap_or(0);
    let at = |k: &str| list(k).get(pos).cloned().unwrap_or_default();
    let msg_all = r.text("msg");
    let msg = msg_all
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .find(|l| l.contains(batch))
        .unwrap_or(msg_all.trim())
        .to_string();
    if at("retList") == "1" {
        PostOutcome::Posted {
            period: at("periodList").parse().unwrap_or(0),
            post_seq: at("postseqList").parse().unwrap_or(0),
            message: msg,
        }
    } else if msg.to_ascii_lowercase().contains("not been approved") {
        PostOutcome::AwaitingApproval { message: msg }
    } else {
        let why = if msg.is_empty() { format!("retList {:?} without a message", at("retList")) } else { msg };
        PostOutcome::Refused { message: why }
    }
}

fn lost_result() -> DeltekError {
    DeltekError::Unexpected {
        call: "AP file batching".into(),
        detail: "the task sending this voucher's file stopped before reporting; look the voucher up before retrying"
            .into(),
    }
}

/// A path segment: percent-encode what a file name could carry that a URL path cannot.
pub(crate) fn seg(s: &str) -> String {
    let mut out = String::new();
    for b in s.trim().bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whether `token` appears in `text` as a whole word (case-insensitive).
fn has_word(text: &str, token: &str) -> bool {
    let t = token.trim().to_lowercase();
    if t.is_empty() {
        return false;
    }
    let hay = text.to_lowercase();
    let bytes = hay.as_bytes();
    let mut from = 0;
    while let Some(i) = hay[from..].find(&t) {
        let start = from + i;
        let end = start + t.len();
        let before_ok = start == 0 || !is_word_byte(bytes[start - 1]);
        let after_ok = end >= bytes.len()
            || !is_word_byte(bytes[end])
            || (bytes[end] == b'.' && (end + 1 >= bytes.len() || bytes[end + 1].is_ascii_whitespace()));
        if before_ok && after_ok {
            return true;
        }
        from = start + 1;
    }
    false
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/' | b'#')
}

/// Which vouchers of a refused file the message is about (positions in `members`).
pub(crate) fn blame(server: &str, members: &[&PreparedVoucher]) -> Vec<usize> {
    let lower = server.to_ascii_lowercase();
    let pick = |f: &dyn Fn(&PreparedVoucher) -> bool| -> Vec<usize> {
        members.iter().enumerate().filter(|(_, v)| f(v)).map(|(i, _)| i).collect()
    };
    // Keys name one voucher exactly.
    let by_key = pick(&|v| has_word(server, &v.master_pkey) || v.line_pkeys.iter().any(|k| has_word(server, k)));
    if !by_key.is_empty() {
        return by_key;
    }
    if lower.contains("invoice") {
        let hit = pick(&|v| has_word(server, &v.invoice) && (has_word(server, &v.vendor) || !lower.contains("vendor")));
        if !hit.is_empty() {
            return hit;
        }
        // SQL Server's truncation text quotes the cut value: match by prefix.
        if let Some(val) = server.split("Truncated value: '").nth(1).and_then(|r| r.split('\'').next())
            && !val.is_empty()
        {
            let hit = pick(&|v| v.invoice.starts_with(val));
            if !hit.is_empty() {
                return hit;
            }
        }
    }
    if lower.contains("vendor") {
        let hit = pick(&|v| has_word(server, &v.vendor));
        if !hit.is_empty() {
            return hit;
        }
    }
    if lower.contains("account") {
        let hit = pick(&|v| v.accounts.iter().any(|a| has_word(server, a)));
        if !hit.is_empty() {
            if lower.contains("project") {
                let narrowed: Vec<usize> = hit
                    .iter()
                    .copied()
                    .filter(|i| {
                        let v = members[*i];
                        v.accounts.iter().zip(&v.wbs1s).any(|(a, w)| has_word(server, a) && has_word(server, w))
                    })
                    .collect();
                if !narrowed.is_empty() {
                    return narrowed;
                }
            }
            return hit;
        }
    }
    if lower.contains("project") {
        let hit = pick(&|v| v.labels.iter().any(|l| has_word(server, l)));
        if !hit.is_empty() {
            return hit;
        }
    }
    Vec::new()
}

#[cfg(test)]
mod rounding_tests {
    use super::allocate_rounded;
    use proptest::prelude::*;
    use rust_decimal::Decimal;
    use rust_decimal::prelude::FromPrimitive;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn the_issue_example_adds_up_to_the_invoice_total() {
        // 100.00 + 8.2550 tax and 200.00 + 16.5050 tax; header tax 24.76, total 324.76.
        let taxes = allocate_rounded(&[d("8.2550"), d("16.5050")], d("24.76"), 2);
        assert_eq!(taxes.iter().copied().sum::<Decimal>(), d("24.76"));
        assert_eq!(taxes, [d("8.26"), d("16.50")], "the tie goes to the first line");
        let naive: Decimal = [d("108.2550"), d("216.5050")]
            .iter()
            .map(|x| x.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero))
            .sum();
        assert_eq!(naive, d("324.77"), "rounding each line alone is a cent off");
    }

    proptest! {
        #[test]
        fn rounded_lines_always_equal_the_rounded_total(
            lines in proptest::collection::vec((1u32..2_000_000, 0u32..2500), 1..12),
            minor in prop::sample::select(vec![0u32, 2, 3]),
        ) {
            // Nets in cents, tax rates in hundredths of a percent, taxes to four places.
            let exact: Vec<Decimal> = lines
                .iter()
                .map(|(cents, rate)| {
                    (Decimal::new(i64::from(*cents), 2) * Decimal::from_u32(*rate).unwrap() / Decimal::new(10000, 0)).round_dp(4)
                })
                .collect();
            let target: Decimal = exact.iter().copied().sum();
            let out = allocate_rounded(&exact, target, minor);
            let want = target.round_dp_with_strategy(minor, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
            prop_assert_eq!(out.iter().copied().sum::<Decimal>(), want);
            for (o, e) in out.iter().zip(&exact) {
                prop_assert!((*o - *e).abs() < Decimal::new(1, minor) + Decimal::new(1, minor), "{} far from {}", o, e);
                prop_assert_eq!(o.round_dp(minor), *o);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    fn pv(vendor: &str, invoice: &str, accounts: &[&str], labels: &[&str]) -> PreparedVoucher {
        PreparedVoucher {
            key: keys::natural_key(vendor, invoice),
            vendor: vendor.into(),
            invoice: invoice.into(),
            master_pkey: keys::master_pkey("", vendor, invoice),
            period: 202506,
            currency: "USD".into(),
            master: Map::new(),
            details: Vec::new(),
            taxes: Vec::new(),
            total: Decimal::ZERO,
            nonzero: true,
            accounts: accounts.iter().map(|s| s.to_string()).collect(),
            labels: labels.iter().map(|s| s.to_string()).collect(),
            wbs1s: labels.iter().map(|s| s.split(" / ").next().unwrap_or("").to_string()).collect(),
            line_pkeys: Vec::new(),
        }
    }

    #[test]
    fn blame_finds_the_voucher_a_message_names() {
        let a = pv("ACME", "INV-1", &["51100"], &["2024003.00 / 01"]);
        let b = pv("BOLT", "B-7", &["60100"], &["OH-0001.00 / FAC"]);
        let c = pv("CEDAR", "C-9", &["5110"], &["2024003.00 / 02"]);
        let m = [&a, &b, &c];
        assert_eq!(blame("Vendor BOLT does not exist.", &m), vec![1]);
        assert_eq!(blame("Account 5110 is inactive.", &m), vec![2]);
        assert_eq!(blame("Project 2024003.00 / 02 is inactive.", &m), vec![2]);
        assert_eq!(
            blame(
                "Account 60100 cannot be used with regular project OH-0001.00. Regular projects require a direct or reimbursable account.",
                &m
            ),
            vec![1]
        );
        assert_eq!(blame("Invoice B-7 already exists for vendor BOLT.", &m), vec![1]);
        assert_eq!(blame(&format!("Record {} already exists and cannot be added.", a.master_pkey), &m), vec![0]);
        assert!(blame("The request is invalid.", &m).is_empty());
        assert_eq!(
            blame(
                "String or binary data would be truncated in table 'DB.dbo.apMaster', column 'Invoice'. Truncated value: 'C-'. The statement has been terminated.",
                &m
            ),
            vec![2]
        );
    }

    #[test]
    fn post_answers_are_read() {
        let ok = json!(
            "{\"typeList\":\"AP\",\"batchList\":\"B1\",\"retList\":\"1\",\"periodList\":\"202506\",\"postseqList\":\"101\",\"msg\":\"AP file B1; 1 of 1 records posted; Posting sequence 101\\r\\n\"}"
        );
        assert!(matches!(read_post_answer("B1", &ok), PostOutcome::Posted { period: 202506, post_seq: 101, .. }));
        let obj = json!({"batchList": "A|B1", "retList": "1|0", "msg": "AP file A; ok\r\nAP file B1; 0 of 1 records posted; Period 202505 is closed.\r\n"});
        assert!(matches!(read_post_answer("B1", &obj), PostOutcome::Refused { message } if message.contains("closed")));
        let appr = json!({"batchList": "B1", "retList": "0", "msg": "AP file B1; 0 of 1 records posted; File B1 has not been approved.\r\n"});
        assert!(matches!(read_post_answer("B1", &appr), PostOutcome::AwaitingApproval { .. }));
        assert_eq!(unclear_post_answer("B1", &ok), None);
        assert_eq!(unclear_post_answer("B1", &appr), None);
        // Malformed answers that *say* "posted" are not taken at their word.
        let says_posted = json!({"msg": "AP file B1; 1 of 1 records posted"});
        assert!(unclear_post_answer("B1", &says_posted).unwrap().contains("not in its batchList"));
        let no_ret = json!({"batchList": "B1", "msg": "posted"});
        assert!(unclear_post_answer("B1", &no_ret).unwrap().contains("retList"));
        assert!(unclear_post_answer("B1", &json!("")).is_some());
    }

    #[test]
    fn header_tax_is_spread_exactly() {
        let line = |n: u32, net: Decimal| ApLine {
            line_no: n,
            description: String::new(),
            account: "1".into(),
            project: None,
            cost_code: None,
            quantity: None,
            unit_price: None,
            net_amount: net,
            tax_amount: Decimal::ZERO,
            po_number: None,
        };
        let s = spread_tax(&[line(1, dec!(100)), line(2, dec!(200)), line(3, dec!(0.01))], dec!(10.00), 2);
        assert_eq!(s.iter().copied().sum::<Decimal>(), dec!(10.00));
        assert_eq!(s[0], dec!(3.33));
        assert_eq!(terms_days("Net 30").as_deref(), Some("30"));
        assert_eq!(terms_days("Due on receipt"), None);
        assert!(has_word("Vendor AGRANDVE.ND does not exist.", "AGRANDVE.ND"));
        assert!(!has_word("Vendor ACMEX does not exist.", "ACME"));
        assert_eq!(seg("B 1|x"), "B%201%7Cx");
    }
}
