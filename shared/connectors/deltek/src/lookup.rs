//! Finding an AP invoice in Vantagepoint by vendor + invoice number, before every create.
//!
//! Vantagepoint has no idempotency key and no one-call search for "the voucher of vendor V with
//! invoice number N". Vouchers live in *files* (`Batch`) until posted, then as posted ledger
//! rows. The lookup has to find three kinds of voucher:
//!
//! 1. **ours, saved in a file whose answer was lost** (in doubt). Its `MasterPKey` is derived
//!    from the natural key, but *which file* it went into is not: files hold many vouchers and
//!    their names are unique per run. So the lookup never depends on the file name. It reads the
//!    list of unposted files (`GET DataEntry/apLanding`, filterHash `PostStatus != Y`) and the
//!    vouchers of each file it has not read yet (`GET DataEntry/apMaster/{Batch}`, projected to
//!    the key columns), and indexes them by (vendor, invoice). A file that committed is in that
//!    list however its answer was lost. (In the same process the file name of an in-doubt
//!    voucher is also remembered, and checked directly first: one call.)
//! 2. **keyed by hand, not posted yet**: the same index covers them, since it reads every
//!    unposted file, not only ours. A voucher is "ours" when its `MasterPKey` is the one we
//!    derive for its vendor and invoice.
//! 3. **posted** (by us or by hand): `GET ledger/AP` filtered by `Vendor` and a transaction-date
//!    window (`posted_lookback_days`). Posted rows carry `Vendor`, `Voucher` and `Batch` but often
//!    a blank `Invoice`; then the vouchers of that posted file are read once
//!    (`DataEntry/apMaster/{Batch}`) to learn each voucher's invoice number.
//!
//! # Cost and staleness (the per-run cache)
//! The index lives as long as the client (a run) and is shared by all workers.
//! - The unposted-file list is re-read when older than `lookup_max_age` (default 60 s) and the
//!   lookup needs it; a miss is only trusted from a list younger than that. Files we created are
//!   indexed as we create them and never re-read; files from earlier runs (our prefix) are read
//!   once; files keyed by hand are re-read on every refresh, since people add vouchers to them.
//! - A vendor's posted vouchers are read on the first lookup for that vendor and re-read when
//!   older than `lookup_max_age`; posted files are read once (posted vouchers cannot change).
//! - A hit is trusted while younger than `lookup_max_age`, and forever once posted; an older
//!   unposted hit is confirmed with one `GET DataEntry/apMaster/{Batch}|{MasterPKey}` (a person
//!   may have deleted it), and dropped when gone.
//! - After an in-doubt create the index is marked stale, so the next lookup re-reads the files.
//! - [`crate::DeltekClient::refresh`] drops everything.
//!
//! So for N new invoices from V vendors with F unposted files already in Vantagepoint, the
//! lookups cost about `1 + F + V` calls per `lookup_max_age`, not per invoice.
//!
//! # What our own files hold, remembered between runs
//! Each new process (a `mlc run`, a cold Lambda container) would read every unposted file of
//! earlier runs again: 31 open files cost 32 calls before the first of two released invoices was
//! posted. The vouchers of a file we saved are known when its save is answered, so with a memory
//! ([`crate::DeltekClient::remember_files_in`], the engine's store) the client writes them down
//! (`memo#deltek-apfile#<database>#<BATCH>`: vendor, invoice, MasterPKey, voucher number) and a
//! later process indexes such a file from the memo instead of reading it. Its approval status
//! still comes from the landing list, read anyway. A hit from the memo is not trusted as it is: it
//! is confirmed with one `GET DataEntry/apMaster/{Batch}|{MasterPKey}` (a person may have deleted
//! or rejected the voucher), so misses cost nothing and hits one call. A file whose answer was
//! lost has no memo and is read as before; files keyed by hand are always read.
//!
//! Limitation: if a tenant purges posted files from the Transaction Center *and* its posted rows
//! carry no invoice number, a posted voucher keyed by hand cannot be matched to its invoice
//! number; such rows are counted and logged (`unmatched posted vouchers`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex as SyncMutex;

use chrono::Duration as Days;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::ap::{landing_status, seg};
use crate::client::{DeltekClient, Query};
use crate::decode::fmt_day;
use crate::errors::DeltekError;
use crate::keys::natural_key;
use crate::model::{FoundVoucher, VoucherRef, VoucherStatus};
use mlc_core::engine::sequence::Sequences;

#[derive(Debug, Clone)]
struct Entry {
    found: FoundVoucher,
    seen_at: Instant,
    /// Indexed from the memo of an earlier run, not read: confirmed before it is trusted.
    from_memo: bool,
}

/// One voucher of a file we saved, as remembered between runs.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct MemoVoucher {
    vendor: String,
    invoice: String,
    master_pkey: String,
    #[serde(default)]
    voucher: Option<String>,
}

/// What the posted rows of one voucher say.
#[derive(Default)]
struct PostedVoucher {
    invoice: Option<String>,
    period: Option<i64>,
    post_seq: Option<i64>,
    date: Option<chrono::NaiveDate>,
    amount: rust_decimal::Decimal,
}

#[derive(Default)]
struct IndexState {
    refreshed_at: Option<Instant>,
    by_key: HashMap<String, Entry>,
    /// Files whose vouchers were read (upper-case name → when).
    files_read: HashMap<String, Instant>,
    /// Vendors whose posted vouchers were read (upper-case vendor → when).
    posted_vendors: HashMap<String, Instant>,
    /// Posted vouchers that could not be matched to an invoice number.
    unmatched_posted: usize,
    files_recalled: usize,
}

/// The per-run AP lookup index (see the module docs).
#[derive(Default)]
pub(crate) struct ApIndex {
    state: Mutex<IndexState>,
    /// Natural key → file name, for vouchers whose file's answer was lost in this process.
    in_doubt: SyncMutex<HashMap<String, String>>,
    /// Where the vouchers of the files we save are remembered between runs (see the module docs).
    memory: std::sync::OnceLock<Sequences>,
}

/// Counters of the lookup index, for reports and benches.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LookupStats {
    pub indexed_vouchers: usize,
    pub files_read: usize,
    /// Files of earlier runs indexed from the memo instead of read.
    pub files_recalled: usize,
    pub vendors_searched: usize,
    pub unmatched_posted: usize,
}

impl ApIndex {
    pub fn note_in_doubt(&self, key: &str, batch: &str) {
        self.in_doubt.lock().unwrap_or_else(|p| p.into_inner()).insert(key.to_string(), batch.to_string());
    }

    fn in_doubt_batch(&self, key: &str) -> Option<String> {
        self.in_doubt.lock().unwrap_or_else(|p| p.into_inner()).get(key).cloned()
    }

    fn forget_in_doubt(&self, key: &str) {
        self.in_doubt.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }

    pub async fn mark_stale(&self) {
        self.state.lock().await.refreshed_at = None;
    }

    pub async fn clear(&self) {
        *self.state.lock().await = IndexState::default();
        self.in_doubt.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// Vouchers we just saved.
    pub async fn add_created(&self, refs: &[VoucherRef], status: &VoucherStatus) {
        let now = Instant::now();
        let mut st = self.state.lock().await;
        for r in refs {
            let key = natural_key(&r.vendor, &r.invoice);
            st.by_key.insert(
                key.clone(),
                Entry {
                    found: FoundVoucher {
                        voucher: r.clone(),
                        status: status.clone(),
                        ours: true,
                        invoice_date: None,
                        amount: None,
                    },
                    seen_at: now,
                    from_memo: false,
                },
            );
            st.files_read.insert(r.batch.to_ascii_uppercase(), now);
            self.forget_in_doubt(&key);
        }
    }
}

/// Vantagepoint (SQL Server underneath) refused a filter or projection column.
fn is_unknown_column(e: &DeltekError) -> bool {
    e.server_text().is_some_and(|t| t.to_ascii_lowercase().contains("invalid column"))
}

impl DeltekClient {
    /// Remember the vouchers of every AP file this client saves in `memory` (the engine's store),
    /// and index files of earlier runs from it instead of reading them (see the module docs).
    /// Clients built for one connection share it; the first memory given stays.
    pub fn remember_files_in(&self, memory: Sequences) {
        let _ = self.inner.index.memory.set(memory);
    }

    fn file_memo_name(&self, batch: &str) -> String {
        format!("deltek-apfile#{}#{}", self.inner.settings.database.to_ascii_lowercase(), batch.to_ascii_uppercase())
    }

    /// Write down what a file we just saved holds (nothing without a memory; a failure is logged:
    /// the file is then read like any other).
    pub(crate) async fn remember_file(&self, batch: &str, refs: &[VoucherRef]) {
        let Some(memory) = self.inner.index.memory.get() else { return };
        let list: Vec<MemoVoucher> = refs
            .iter()
            .map(|r| MemoVoucher {
                vendor: r.vendor.clone(),
                invoice: r.invoice.clone(),
                master_pkey: r.master_pkey.clone(),
                voucher: r.voucher.clone(),
            })
            .collect();
        let Ok(json) = serde_json::to_string(&list) else { return };
        if let Err(e) = memory.remember(&self.file_memo_name(batch), &json).await {
            tracing::warn!(system = "deltek", batch, error = %e, "could not remember the vouchers of AP file; later runs read it");
        }
    }

    /// Index a file of ours from its memo; false when there is none (then it is read).
    async fn recall_file_into(&self, st: &mut IndexState, batch: &str, status: &VoucherStatus) -> bool {
        let Some(memory) = self.inner.index.memory.get() else { return false };
        let list: Vec<MemoVoucher> = match memory.recall(&self.file_memo_name(batch)).await {
            Ok(Some(json)) => match serde_json::from_str(&json) {
                Ok(l) => l,
                Err(_) => return false,
            },
            Ok(None) => return false,
            Err(e) => {
                tracing::warn!(system = "deltek", batch, error = %e, "could not recall AP file; reading it");
                return false;
            }
        };
        let now = Instant::now();
        for m in list {
            let key = natural_key(&m.vendor, &m.invoice);
            if st.by_key.get(&key).is_some_and(|old| !old.found.voucher.batch.eq_ignore_ascii_case(batch)) {
                continue;
            }
            let found = FoundVoucher {
                voucher: VoucherRef {
                    batch: batch.to_string(),
                    master_pkey: m.master_pkey,
                    voucher: m.voucher,
                    vendor: m.vendor,
                    invoice: m.invoice,
                },
                status: status.clone(),
                ours: true,
                invoice_date: None,
                amount: None,
            };
            st.by_key.insert(key, Entry { found, seen_at: now, from_memo: true });
        }
        st.files_read.insert(batch.to_ascii_uppercase(), now);
        st.files_recalled += 1;
        true
    }

    /// Find an AP invoice (voucher) by vendor number and the vendor's invoice number, whether
    /// this connector created it or a person keyed it, posted or not (see the module docs).
    pub async fn find_ap_invoice(&self, vendor: &str, invoice: &str) -> Result<Option<FoundVoucher>, DeltekError> {
        if invoice.trim().is_empty() || vendor.trim().is_empty() {
            return Ok(None);
        }
        let key = natural_key(vendor, invoice);
        let mpk = self.master_pkey_for(vendor, invoice);
        let max_age = self.inner.settings.lookup_max_age;
        let index = &self.inner.index;

        if let Some(batch) = index.in_doubt_batch(&key)
            && let Some(found) = self.voucher_in_file(&batch, &mpk).await?
        {
            index.add_created(std::slice::from_ref(&found.voucher), &found.status).await;
            return Ok(Some(found));
        }

        let mut st = index.state.lock().await;
        if st.refreshed_at.is_none_or(|t| t.elapsed() > max_age) {
            self.refresh_unposted(&mut st).await?;
        }
        if let Some(hit) = self.confirm_hit(&mut st, &key).await? {
            index.forget_in_doubt(&key);
            return Ok(Some(hit));
        }
        let vkey = vendor.trim().to_uppercase();
        if st.posted_vendors.get(&vkey).is_none_or(|t| t.elapsed() > max_age) {
            self.read_posted_vendor(&mut st, vendor.trim()).await?;
        }
        self.confirm_hit(&mut st, &key).await
    }

    /// [`Self::find_ap_invoice`] after re-reading the unposted files and the vendor's posted
    /// vouchers, whatever their age: for an in-doubt create, which another process (another
    /// poster container, a crashed run) may have made after this client's index was filled.
    pub async fn find_ap_invoice_fresh(
        &self,
        vendor: &str,
        invoice: &str,
    ) -> Result<Option<FoundVoucher>, DeltekError> {
        {
            let mut st = self.inner.index.state.lock().await;
            st.refreshed_at = None;
            st.posted_vendors.remove(&vendor.trim().to_uppercase());
        }
        self.find_ap_invoice(vendor, invoice).await
    }

    /// Counters of the lookup index.
    pub async fn lookup_stats(&self) -> LookupStats {
        let st = self.inner.index.state.lock().await;
        LookupStats {
            indexed_vouchers: st.by_key.len(),
            files_read: st.files_read.len().saturating_sub(st.files_recalled),
            files_recalled: st.files_recalled,
            vendors_searched: st.posted_vendors.len(),
            unmatched_posted: st.unmatched_posted,
        }
    }

    async fn confirm_hit(&self, st: &mut IndexState, key: &str) -> Result<Option<FoundVoucher>, DeltekError> {
        let Some(e) = st.by_key.get(key).cloned() else { return Ok(None) };
        let fresh = !e.from_memo && e.seen_at.elapsed() <= self.inner.settings.lookup_max_age;
        if fresh || e.found.status.is_posted() || e.found.voucher.master_pkey.is_empty() {
            return Ok(Some(e.found));
        }
        match self.voucher_in_file(&e.found.voucher.batch, &e.found.voucher.master_pkey).await? {
            Some(found) => {
                st.by_key
                    .insert(key.to_string(), Entry { found: found.clone(), seen_at: Instant::now(), from_memo: false });
                Ok(Some(found))
            }
            None => {
                st.by_key.remove(key);
                Ok(None)
            }
        }
    }

    async fn refresh_unposted(&self, st: &mut IndexState) -> Result<(), DeltekError> {
        let q = Query::new().filter("PostStatus", "!=", "Y").fields(&[
            "Batch",
            "ApprovalStatus",
            "PostStatus",
            "RawPeriod",
            "PostSeq",
        ]);
        let what = "the list of unposted AP files";
        let files = match self.get_all("DataEntry/apLanding", &q, what).await {
            // A tenant whose landing rows lack a filtered column: read all, filter here.
            Err(e) if is_unknown_column(&e) => {
                let all = self.get_all("DataEntry/apLanding", &Query::new(), what).await?;
                all.into_iter().filter(|r| !r.flag("PostStatus")).collect()
            }
            other => other?,
        };
        let prefix = self.inner.settings.batch_prefix.to_ascii_uppercase();
        for f in &files {
            let Some(batch) = f.opt_text("Batch") else { continue };
            let upper = batch.to_ascii_uppercase();
            let status = landing_status(f);
            if upper.starts_with(&prefix) && st.files_read.contains_key(&upper) {
                // Ours and already known: only the approval status can have moved.
                for e in st.by_key.values_mut().filter(|e| e.found.voucher.batch.eq_ignore_ascii_case(&batch)) {
                    if !matches!(e.found.status, VoucherStatus::Rejected(Some(_))) {
                        e.found.status = status.clone();
                    }
                }
                continue;
            }
            // Ours from an earlier run: what it holds may be remembered.
            if upper.starts_with(&prefix) && self.recall_file_into(st, &batch, &status).await {
                continue;
            }
            self.read_file_into(st, &batch, Some(status)).await?;
        }
        st.refreshed_at = Some(Instant::now());
        Ok(())
    }

    /// Index the vouchers of one file.
    async fn read_file_into(
        &self,
        st: &mut IndexState,
        batch: &str,
        status: Option<VoucherStatus>,
    ) -> Result<(), DeltekError> {
        let path = format!("DataEntry/apMaster/{}", seg(batch));
        let q = Query::new().fields(&[
            "Batch",
            "MasterPKey",
            "Vendor",
            "Invoice",
            "Voucher",
            "Status",
            "Posted",
            "RejectReason",
            "InvoiceDate",
        ]);
        let rows = self.get_all(&path, &q, &format!("the vouchers of AP file {batch}")).await?;
        let now = Instant::now();
        for r in &rows {
            let (vendor, invoice) = (r.text("Vendor"), r.text("Invoice"));
            if vendor.is_empty() || invoice.is_empty() {
                continue;
            }
            let mpk = r.text("MasterPKey");
            let ours = !mpk.is_empty() && self.master_pkey_for(&vendor, &invoice).eq_ignore_ascii_case(&mpk);
            let mut s =
                status.clone().unwrap_or_else(|| VoucherStatus::from_codes(&r.text("Status"), r.flag("Posted")));
            if matches!(s, VoucherStatus::Rejected(None)) {
                s = VoucherStatus::Rejected(r.opt_text("RejectReason"));
            }
            let key = natural_key(&vendor, &invoice);
            let entry = Entry {
                found: FoundVoucher {
                    voucher: VoucherRef {
                        batch: r.opt_text("Batch").unwrap_or_else(|| batch.to_string()),
                        master_pkey: mpk,
                        voucher: r.opt_text("Voucher"),
                        vendor,
                        invoice,
                    },
                    status: s,
                    ours,
                    invoice_date: r.date("InvoiceDate").map(|d| d.date()),
                    amount: None,
                },
                seen_at: now,
                from_memo: false,
            };
            // Two vouchers for one vendor invoice: either proves presence; keep the one seen first
            // unless this one is the same voucher seen again.
            match st.by_key.get(&key) {
                Some(old) if !old.found.voucher.batch.eq_ignore_ascii_case(batch) => {}
                _ => {
                    st.by_key.insert(key, entry);
                }
            }
        }
        st.files_read.insert(batch.to_ascii_uppercase(), now);
        Ok(())
    }

    /// Index a vendor's posted vouchers within the look-back window.
    async fn read_posted_vendor(&self, st: &mut IndexState, vendor: &str) -> Result<(), DeltekError> {
        let cutoff = chrono::Utc::now().date_naive() - Days::days(self.inner.settings.posted_lookback_days);
        let cols = ["Vendor", "Voucher", "Invoice", "Batch", "Period", "PostSeq", "TransDate", "Amount"];
        let q = Query::new()
            .filter("Vendor", "=", vendor)
            .filter_typed("TransDate", ">=", &fmt_day(cutoff), Some("datetime"))
            .fields(&cols);
        let what = format!("the posted AP vouchers of vendor {vendor}");
        let mut rows = match self.get_all("ledger/AP", &q, &what).await {
            Err(e) if is_unknown_column(&e) => {
                let all = self.get_all("ledger/AP", &Query::new().filter("Vendor", "=", vendor), &what).await?;
                all.into_iter().filter(|r| r.date("TransDate").is_none_or(|d| d.date() >= cutoff)).collect()
            }
            other => other?,
        };
        // Posted rows without a file name cannot lead to an invoice number; PSALedger carries it.
        if !rows.is_empty()
            && rows.iter().all(|r| r.opt_text("Batch").is_none())
            && rows.iter().any(|r| r.opt_text("Invoice").is_none())
        {
            rows = self.get_all("PSALedger/AP", &q, &what).await?;
        }
        // One voucher = many rows (lines, tax): group by file and voucher number.
        let mut vouchers: BTreeMap<(String, String), PostedVoucher> = BTreeMap::new();
        for r in &rows {
            if !r.text("Vendor").eq_ignore_ascii_case(vendor) {
                continue;
            }
            let Some(voucher) = r.opt_text("Voucher") else { continue };
            let e = vouchers.entry((r.text("Batch"), voucher)).or_default();
            e.invoice = e.invoice.take().or_else(|| r.opt_text("Invoice"));
            e.period = e.period.or(r.int("Period"));
            e.post_seq = e.post_seq.or(r.int("PostSeq"));
            e.date = e.date.or(r.date("TransDate").map(|d| d.date()));
            e.amount += r.money("Amount");
        }
        let now = Instant::now();
        let mut need_files: Vec<String> = Vec::new();
        for ((batch, _), PostedVoucher { invoice, .. }) in &vouchers {
            if invoice.is_none()
                && !batch.is_empty()
                && !st.files_read.contains_key(&batch.to_ascii_uppercase())
                && !need_files.contains(batch)
            {
                need_files.push(batch.clone());
            }
        }
        for b in need_files {
            self.read_file_into(st, &b, Some(VoucherStatus::Posted { period: None, post_seq: None })).await?;
        }
        for ((batch, voucher), PostedVoucher { invoice, period, post_seq, date, amount }) in vouchers {
            let posted = VoucherStatus::Posted { period, post_seq };
            // Already indexed (from its file): mark it posted.
            if let Some(e) = st.by_key.values_mut().find(|e| {
                e.found.voucher.vendor.eq_ignore_ascii_case(vendor)
                    && e.found.voucher.voucher.as_deref().is_some_and(|v| v.eq_ignore_ascii_case(&voucher))
                    && (batch.is_empty() || e.found.voucher.batch.eq_ignore_ascii_case(&batch))
            }) {
                e.found.status = posted;
                e.found.amount = Some(amount);
                e.found.invoice_date = e.found.invoice_date.or(date);
                e.seen_at = now;
                continue;
            }
            match invoice {
                Some(inv) => {
                    let key = natural_key(vendor, &inv);
                    st.by_key.entry(key).or_insert(Entry {
                        found: FoundVoucher {
                            voucher: VoucherRef {
                                batch,
                                master_pkey: String::new(),
                                voucher: Some(voucher),
                                vendor: vendor.to_string(),
                                invoice: inv,
                            },
                            status: posted,
                            ours: false,
                            invoice_date: date,
                            amount: Some(amount),
                        },
                        seen_at: now,
                        from_memo: false,
                    });
                }
                None => {
                    st.unmatched_posted += 1;
                    tracing::warn!(
                        system = "deltek", vendor, voucher = %voucher, batch = %batch,
                        "unmatched posted voucher: its invoice number is neither on the ledger nor in a readable file"
                    );
                }
            }
        }
        st.posted_vendors.insert(vendor.to_uppercase(), now);
        Ok(())
    }
}
