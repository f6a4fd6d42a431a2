//! Journal entries: `POST DataEntry/jeControl` with one `jeMaster` and its `jeDetail` lines.
//!
//! Procore commitments (purchase orders, subcontracts, change orders) become journal entries,
//! since Vantagepoint has no public purchase-order endpoint. Journal entries are few, so each
//! travels in its own file, named from the reference ([`crate::keys::journal_batch`]); that makes
//! the lookup exact and cheap: `GET DataEntry/jeControl/{Batch}` (unposted, ours) and
//! `GET ledger/JE` filtered by `RefNo` (posted, ours or keyed by hand), and a second create of the
//! same entry is refused by Vantagepoint as a duplicate file, which is read as "already there".
//!
//! A journal entry must balance: the domain type guarantees debits = credits, and the amounts are
//! checked again after rounding to the currency's minor unit. A journal must not hit AP/AR control
//! accounts (Vantagepoint refuses it; the message names the account).

use mlc_core::domain::JournalEntry;
use mlc_http::Request;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::ap::seg;
use crate::client::{DeltekClient, Query};
use crate::errors::DeltekError;
use crate::keys;
use crate::model::{JournalRef, PostOutcome, VoucherStatus, Wbs, amount, day};

impl DeltekClient {
    /// The file name a journal entry with this reference gets.
    pub fn journal_batch_for(&self, reference: &str) -> String {
        keys::journal_batch(
            &self.inner.settings.batch_prefix,
            self.inner.settings.company.as_deref().unwrap_or(""),
            reference,
        )
    }

    /// Find a journal entry by its reference (`RefNo`): our unposted file, or posted rows.
    pub async fn find_journal_entry(&self, reference: &str) -> Result<Option<JournalRef>, DeltekError> {
        let reference = reference.trim();
        if reference.is_empty() {
            return Ok(None);
        }
        let batch = self.journal_batch_for(reference);
        let what = format!("journal entry {reference}");
        let q = Query::new().fields(&["Batch", "Posted", "Description"]);
        let rows = self.get_rows(&format!("DataEntry/jeControl/{}", seg(&batch)), &q, &what).await?;
        if let Some(r) = rows.iter().find(|r| r.text("Batch").eq_ignore_ascii_case(&batch)) {
            let posted = r.flag("Posted");
            return Ok(Some(JournalRef {
                batch,
                reference: reference.to_string(),
                posted,
                already_present: true,
                status: VoucherStatus::from_codes("N", posted),
                post: None,
            }));
        }
        let q = Query::new().filter("RefNo", "=", reference).fields(&["RefNo", "Batch", "Period", "PostSeq"]);
        let rows = self.get_rows("ledger/JE", &q, &format!("the posted rows of {what}")).await?;
        Ok(rows.iter().find(|r| r.text("RefNo").eq_ignore_ascii_case(reference)).map(|r| JournalRef {
            batch: r.text("Batch"),
            reference: reference.to_string(),
            posted: true,
            already_present: true,
            status: VoucherStatus::Posted { period: r.int("Period"), post_seq: r.int("PostSeq") },
            post: None,
        }))
    }

    /// Create (and, with `post_files`, post) a journal entry. Look it up first.
    pub async fn create_journal_entry(&self, je: &JournalEntry) -> Result<JournalRef, DeltekError> {
        let reference = je.reference.trim().to_string();
        let what = format!("journal entry {reference}");
        let minor = je.currency.minor_units();
        let round = |d: Decimal| d.round_dp_with_strategy(minor, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        let debits: Decimal = je.lines.iter().map(|l| round(l.debit)).sum();
        let credits: Decimal = je.lines.iter().map(|l| round(l.credit)).sum();
        if debits != credits {
            return Err(DeltekError::Invalid {
                what,
                problem: format!(
                    "does not balance after rounding to {minor} decimals: debits {debits} vs credits {credits} {}",
                    je.currency
                ),
            });
        }
        let period = self.posting_period(je.date, &what).await?;
        let batch = self.journal_batch_for(&reference);
        let mut details = Vec::new();
        for (i, l) in je.lines.iter().enumerate() {
            let mut d = Map::new();
            d.insert("Batch".into(), json!(batch));
            d.insert("RefNo".into(), json!(reference));
            d.insert("PKey".into(), json!(keys::line_pkey(&batch, l.line_no)));
            d.insert("Seq".into(), json!(i + 1));
            d.insert("Description".into(), json!(l.description.trim().chars().take(255).collect::<String>()));
            let (w1, w2, w3) = match &l.project {
                Some(p) => (
                    p.wbs1().to_string(),
                    p.wbs2().unwrap_or_default().to_string(),
                    p.wbs3().unwrap_or_default().to_string(),
                ),
                None => Default::default(),
            };
            d.insert("WBS1".into(), json!(w1.trim()));
            d.insert("WBS2".into(), json!(w2.trim()));
            d.insert("WBS3".into(), json!(w3.trim()));
            d.insert("Account".into(), json!(l.account.trim()));
            d.insert("DebitAmount".into(), json!(amount(l.debit, minor)));
            d.insert("CreditAmount".into(), json!(amount(l.credit, minor)));
            details.push(Value::Object(d));
        }
        let description: String = je.description.trim().chars().take(40).collect();
        let mut master = Map::new();
        master.insert("Batch".into(), json!(batch));
        master.insert("RefNo".into(), json!(reference));
        master.insert("TransDate".into(), json!(day(je.date)));
        master.insert("Description".into(), json!(description));
        master.insert("CurrencyCode".into(), json!(je.currency.code()));
        master.insert("Seq".into(), json!(1));
        let mut c = Map::new();
        c.insert("Batch".into(), json!(batch));
        c.insert(
            "Description".into(),
            json!(
                if description.is_empty() { format!("ml-connector {reference}") } else { description.clone() }
                    .chars()
                    .take(40)
                    .collect::<String>()
            ),
        );
        c.insert("Recurring".into(), json!("N"));
        c.insert("Total".into(), json!(amount(debits, minor)));
        c.insert("CreditsTotal".into(), json!(amount(credits, minor)));
        if period != 0 {
            c.insert("Period".into(), json!(period));
        }
        if let Some(co) = &self.inner.settings.company {
            c.insert("Company".into(), json!(co));
        }
        c.insert("jeMaster".into(), json!([Value::Object(master)]));
        c.insert("jeDetail".into(), Value::Array(details));
        let req = Request::post("DataEntry/jeControl").json(&Value::Object(c));
        let subject = format!("{what} (JE file {batch})");
        match self.write(req, "POST DataEntry/jeControl", &subject).await {
            Ok(_) => {}
            Err(DeltekError::Refused { server, .. })
                if server.to_ascii_lowercase().contains("already exists")
                    && server.to_ascii_uppercase().contains(&batch) =>
            {
                if let Some(found) = self.find_journal_entry(&reference).await? {
                    return Ok(found);
                }
                return Err(DeltekError::Invalid {
                    what: subject,
                    problem: format!("Vantagepoint says file {batch} exists, but it cannot be read back"),
                });
            }
            Err(e) => return Err(e),
        }
        let mut status = VoucherStatus::Draft;
        let mut post = None;
        if self.inner.settings.post_files {
            let outcome = match self.post_trans_file("JE", &batch, period, &format!("ml-connector {reference}")).await {
                Ok(o) => o,
                Err(DeltekError::InDoubt { detail, .. }) => PostOutcome::InDoubt { detail },
                Err(e) => PostOutcome::Refused { message: e.to_string() },
            };
            match &outcome {
                PostOutcome::Posted { period, post_seq, .. } => {
                    status = VoucherStatus::Posted { period: Some(*period), post_seq: Some(*post_seq) };
                }
                PostOutcome::AwaitingApproval { .. } => status = VoucherStatus::Submitted,
                PostOutcome::Refused { .. } | PostOutcome::InDoubt { .. } => {}
            }
            post = Some(outcome);
        }
        let posted = status.is_posted();
        Ok(JournalRef { batch, reference, posted, already_present: false, status, post })
    }
}
