//! Deltek Vantagepoint as a target: AP vouchers, vendor firms and journal entries, written once
//! here and used by every flow into Deltek (Cin7, Procore, Coupa, Cleo).
//!
//! - [`ApVoucherTarget`]: an [`ApInvoice`] becomes a voucher in a batched AP file. Natural key:
//!   vendor + the vendor's invoice number. Lookup finds it whether ml-connector or a person entered
//!   it, posted or not, and reads what it is (amount, date) so the engine can tell the same bill
//!   from a different one that shares the number. Pre-post checks read Vantagepoint's own rules
//!   (open period, active vendor, active accounts, project/account fit, allowed currency).
//! - [`VendorFirmTarget`]: a [`Vendor`] becomes a vendor firm, paired with an existing firm by
//!   the stored pairing, the tax number, or the exact name (a firm keyed by hand is reused, never
//!   duplicated). Pairing alone writes nothing: a firm someone keyed keeps its own spelling of the
//!   tax number and name. After that, an update sends only the fields whose *source* value changed
//!   since the last sync (remembered per source record), so Deltek's own edits are not undone by
//!   an unrelated change at the source. The firm's status stays Deltek's decision.
//! - [`JournalEntryTarget`]: a balanced [`JournalEntry`] in its own JE file, found by reference.

use async_trait::async_trait;
use mlc_core::domain::{ApInvoice, JournalEntry, Status, Vendor};
use mlc_core::engine::flow::{Found, StepError};
use mlc_core::engine::model::{DocFacts, TargetRef};
use mlc_core::engine::parts::{Target, TargetSpec};
use mlc_core::engine::sequence::Sequences;

use serde::{Deserialize, Serialize};

use crate::client::DeltekClient;
use crate::model::VendorFirm;

fn spec(connection: &str, entity: &str) -> TargetSpec {
    TargetSpec { connection: connection.to_string(), system: "deltek".into(), entity: entity.into() }
}

/// `cin7 purchase-invoice P1/invoice/T2`: how a source document is named in facts.
pub fn source_doc_label(s: &mlc_core::domain::SourceRef) -> String {
    format!("{} {} {}", s.system, s.entity, s.id)
}

/// AP invoices as Vantagepoint vouchers.
pub struct ApVoucherTarget {
    spec: TargetSpec,
    client: DeltekClient,
    /// Run the pre-post checks before each create.
    precheck: bool,
}

impl ApVoucherTarget {
    pub fn new(connection: &str, client: DeltekClient, precheck: bool) -> Self {
        ApVoucherTarget { spec: spec(connection, "ap-voucher"), client, precheck }
    }

    /// Remember what the AP files this target saves hold in `memory` (the engine's store), so a
    /// later run's lookups need not read them again (see [`DeltekClient::remember_files_in`]).
    pub fn with_memory(self, memory: Sequences) -> Self {
        self.client.remember_files_in(memory);
        self
    }

    /// What a lookup found, with the facts to compare (amount, date).
    async fn found(&self, f: Option<crate::model::FoundVoucher>) -> Result<Option<Found>, StepError> {
        let Some(f) = f else { return Ok(None) };
        // Only a found voucher is read further: what it is decides "same bill" or "possible duplicate".
        let amount = match f.amount {
            Some(a) => Some(a),
            None if !f.voucher.master_pkey.is_empty() => self.client.voucher_total(&f.voucher).await?,
            None => None,
        };
        let facts = DocFacts {
            source_doc: None,
            amount,
            currency: None,
            date: f.invoice_date,
            label: Some(format!(
                "{} from vendor {}{}{}",
                f.voucher.invoice,
                f.voucher.vendor,
                amount.map(|a| format!(", {}", a.round_dp(2))).unwrap_or_default(),
                f.invoice_date.map(|d| format!(", {d}")).unwrap_or_default()
            )),
        };
        Ok(Some(Found::new(f.target_ref()).with_facts(facts)))
    }
}

#[async_trait]
impl Target for ApVoucherTarget {
    type Doc = ApInvoice;

    fn spec(&self) -> &TargetSpec {
        &self.spec
    }

    fn natural_key(&self, doc: &ApInvoice) -> String {
        doc.natural_key()
    }

    fn facts(&self, doc: &ApInvoice) -> DocFacts {
        DocFacts {
            source_doc: Some(source_doc_label(&doc.source)),
            amount: Some(doc.signed_total()),
            currency: Some(doc.currency.to_string()),
            date: Some(doc.invoice_date),
            label: Some(format!(
                "{} from {}, {} {}, {}",
                doc.invoice_number,
                doc.vendor_name.as_deref().unwrap_or(&doc.vendor),
                doc.currency,
                doc.signed_total().round_dp(2),
                doc.invoice_date
            )),
        }
    }

    fn rekey(&self, doc: &mut ApInvoice, number: &str) -> Result<(), String> {
        let mut d = doc.clone().into_draft();
        d.invoice_number = number.trim().to_string();
        *doc = ApInvoice::try_new(d).map_err(|e| e.to_string())?;
        Ok(())
    }

    async fn lookup(&self, doc: &ApInvoice) -> Result<Option<Found>, StepError> {
        let found = self.client.find_ap_invoice(&doc.vendor, &doc.invoice_number).await?;
        self.found(found).await
    }

    async fn lookup_fresh(&self, doc: &ApInvoice) -> Result<Option<Found>, StepError> {
        let found = self.client.find_ap_invoice_fresh(&doc.vendor, &doc.invoice_number).await?;
        self.found(found).await
    }

    async fn preflight(&self, doc: &ApInvoice) -> Result<(), StepError> {
        if self.precheck {
            self.client.check_ap_invoice(doc).await?;
        }
        Ok(())
    }

    async fn create(&self, doc: &ApInvoice) -> Result<TargetRef, StepError> {
        Ok(self.client.create_ap_invoice(doc).await?.target_ref())
    }
}

/// A source's vendor, ready to become (or update) a vendor firm.
#[derive(Debug, Clone)]
pub struct VendorDoc {
    pub vendor: Vendor,
    /// The Deltek vendor number this source record is already paired with (a `vendor` mapping).
    pub paired: Option<String>,
    /// The source record's id, for new vendor numbers made from it (and to remember its values
    /// as last synced).
    pub source_id: String,
}

/// How new vendor numbers are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum VendorNumbers {
    /// Up to 8 capitals from the name (`Cascade Land Surveying LLC` → `CASCLAND`).
    #[default]
    FromName,
    /// The source record's id, first 8 letters and digits (option value `supplier_id`).
    #[serde(alias = "supplier_id")]
    SourceId,
}

/// Vendor firms.
pub struct VendorFirmTarget {
    spec: TargetSpec,
    client: DeltekClient,
    numbers: VendorNumbers,
    memory: Sequences,
}

impl VendorFirmTarget {
    /// `memory` keeps each source vendor's values as last synced (the engine's store).
    pub fn new(connection: &str, client: DeltekClient, numbers: VendorNumbers, memory: Sequences) -> Self {
        VendorFirmTarget { spec: spec(connection, "vendor-firm"), client, numbers, memory }
    }

    /// Where a source vendor's values as last synced into this connection are remembered.
    fn memo_key(&self, doc: &VendorDoc) -> String {
        let system = doc.vendor.source.as_ref().map(|s| s.system.as_str()).unwrap_or("");
        format!("synced#{}#{system}#{}", self.spec.connection, doc.source_id)
    }

    /// Remember the source's values as now synced (after a create, an update or a pairing).
    async fn remember(&self, doc: &VendorDoc) -> Result<(), StepError> {
        let json = serde_json::to_string(&doc.vendor).unwrap_or_default();
        self.memory.remember(&self.memo_key(doc), &json).await.map_err(|e| StepError::retryable(e.to_string()))
    }

    /// What the firm should become: `None` the first time this source record meets this firm
    /// (pairing alone writes nothing); otherwise the firm as it is, with the fields whose source
    /// value changed since the last sync.
    async fn wanted(&self, firm: &VendorFirm, t: &VendorDoc) -> Result<Option<Vendor>, StepError> {
        let memo = self.memory.recall(&self.memo_key(t)).await.map_err(|e| StepError::retryable(e.to_string()))?;
        let Some(prev) = memo.and_then(|m| serde_json::from_str::<Vendor>(&m).ok()) else {
            return Ok(None);
        };
        let now = &t.vendor;
        let mut want = firm.to_domain();
        if now.name != prev.name {
            want.name = now.name.clone();
        }
        if now.tax_id != prev.tax_id {
            want.tax_id = now.tax_id.clone();
        }
        if now.currency != prev.currency {
            want.currency = now.currency;
        }
        if now.payment_terms != prev.payment_terms {
            want.payment_terms = now.payment_terms.clone();
        }
        if now.email != prev.email {
            want.email = now.email.clone();
        }
        if now.phone != prev.phone {
            want.phone = now.phone.clone();
        }
        if now.addresses != prev.addresses {
            want.addresses = now.addresses.clone();
        }
        Ok(Some(wanted_for(firm, &want)))
    }

    /// The firm this vendor is: its pairing, else a vendor firm with its tax number, else one with
    /// its exact name.
    async fn firm_for(&self, t: &VendorDoc) -> Result<Option<VendorFirm>, StepError> {
        if let Some(v) = &t.paired
            && let Some(f) = self.client.find_vendor(v).await?
        {
            return Ok(Some(f));
        }
        if let Some(tax) = t.vendor.tax_id.as_deref().filter(|x| !x.trim().is_empty())
            && let Some(f) = self.client.find_vendors_by_tax_id(tax).await?.into_iter().find(|f| f.is_vendor)
        {
            return Ok(Some(f));
        }
        let name = t.vendor.name.trim();
        Ok(self.client.find_vendors_by_name(name).await?.into_iter().find(|f| f.name.trim().eq_ignore_ascii_case(name)))
    }

    /// A free vendor number for `t`.
    async fn new_vendor_number(&self, t: &VendorDoc) -> Result<String, StepError> {
        let base = match self.numbers {
            VendorNumbers::FromName => vendor_number_from_name(&t.vendor.name),
            VendorNumbers::SourceId => {
                t.source_id.chars().filter(|c| c.is_ascii_alphanumeric()).take(8).collect::<String>().to_uppercase()
            }
        };
        let base = if base.is_empty() { "VENDOR".to_string() } else { base };
        for n in 0..100u32 {
            let candidate = if n == 0 { base.clone() } else { format!("{}{n:02}", &base[..base.len().min(6)]) };
            if self.client.find_vendor(&candidate).await?.is_none() {
                return Ok(candidate);
            }
        }
        Err(StepError::permanent(format!(
            "no free Deltek vendor number like {base} for {:?}: map it by hand (mlc mappings import)",
            t.vendor.name
        )))
    }
}

/// `Cascade Land Surveying LLC` → `CASCLAND`: up to 8 capitals from the first words.
pub fn vendor_number_from_name(name: &str) -> String {
    const SUFFIXES: [&str; 10] = ["INC", "LLC", "LTD", "CO", "CORP", "COMPANY", "PTY", "LLP", "PLC", "THE"];
    let words: Vec<String> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .map(|w| w.to_ascii_uppercase())
        .filter(|w| !w.is_empty() && !SUFFIXES.contains(&w.as_str()))
        .collect();
    let mut out = String::new();
    match words.len() {
        0 => {}
        1 => out.extend(words[0].chars().take(8)),
        _ => {
            out.extend(words[0].chars().take(4));
            for w in &words[1..] {
                let room = 8 - out.len();
                if room == 0 {
                    break;
                }
                out.extend(w.chars().take(room.min(4)));
            }
        }
    }
    out
}

/// What an existing firm should look like: the source's details under the firm's own vendor
/// number and status. A sync never re-activates a vendor someone deactivated in Deltek (and never
/// touches its approval for AP processing).
fn wanted_for(firm: &VendorFirm, vendor: &Vendor) -> Vendor {
    let mut want = vendor.clone();
    want.code = firm.vendor.clone();
    want.status = if firm.active() { Status::Active } else { Status::Inactive };
    want
}

/// `vendor|ClientID` as the id, so a pairing can be read back from it.
pub fn firm_ref(f: &VendorFirm) -> TargetRef {
    TargetRef {
        system: "deltek".into(),
        entity: "vendor".into(),
        id: format!("{}|{}", f.vendor, f.client_id),
        display: Some(format!("vendor {} ({})", f.vendor, f.name)),
        status: Some(if f.status == "A" || f.status.is_empty() {
            "active".into()
        } else {
            format!("status {}", f.status)
        }),
    }
}

/// The vendor number in a vendor firm's [`TargetRef`] id.
pub fn vendor_number_of(target: &TargetRef) -> String {
    target.id.split('|').next().unwrap_or_default().to_string()
}

#[async_trait]
impl Target for VendorFirmTarget {
    type Doc = VendorDoc;

    fn spec(&self) -> &TargetSpec {
        &self.spec
    }

    fn natural_key(&self, t: &VendorDoc) -> String {
        format!("vendor#{}", t.vendor.name.trim().to_uppercase())
    }

    async fn lookup_fresh(&self, t: &VendorDoc) -> Result<Option<Found>, StepError> {
        if let Some(v) = &t.paired {
            self.client.forget_vendor(v);
        }
        self.lookup(t).await
    }

    async fn lookup(&self, t: &VendorDoc) -> Result<Option<Found>, StepError> {
        let Some(firm) = self.firm_for(t).await? else { return Ok(None) };
        let up_to_date = match self.wanted(&firm, t).await? {
            None => {
                // First meeting of this source record and this firm: the pairing writes nothing,
                // and what the source says now is the base later changes are measured against.
                self.remember(t).await?;
                true
            }
            Some(want) => self.client.vendor_is_up_to_date(&firm, &want),
        };
        let mut found = Found::new(firm_ref(&firm));
        found.up_to_date = up_to_date;
        Ok(Some(found))
    }

    async fn create(&self, t: &VendorDoc) -> Result<TargetRef, StepError> {
        let mut v = t.vendor.clone();
        v.code = self.new_vendor_number(t).await?;
        let created = firm_ref(&self.client.create_vendor(&v).await?);
        self.remember(t).await?;
        Ok(created)
    }

    async fn update(&self, t: &VendorDoc, existing: &TargetRef) -> Result<TargetRef, StepError> {
        let vendor_no = vendor_number_of(existing);
        let firm = self.client.find_vendor(&vendor_no).await?.ok_or_else(|| {
            StepError::retryable(format!("Deltek vendor {vendor_no} was found a moment ago and is gone now"))
        })?;
        let v = self.wanted(&firm, t).await?.unwrap_or_else(|| wanted_for(&firm, &firm.to_domain()));
        let updated = firm_ref(&self.client.update_vendor(&firm, &v).await?);
        self.remember(t).await?;
        Ok(updated)
    }
}

/// Journal entries.
pub struct JournalEntryTarget {
    spec: TargetSpec,
    client: DeltekClient,
}

impl JournalEntryTarget {
    pub fn new(connection: &str, client: DeltekClient) -> Self {
        JournalEntryTarget { spec: spec(connection, "journal-entry"), client }
    }
}

#[async_trait]
impl Target for JournalEntryTarget {
    type Doc = JournalEntry;

    fn spec(&self) -> &TargetSpec {
        &self.spec
    }

    fn natural_key(&self, je: &JournalEntry) -> String {
        format!("je#{}", je.reference.trim().to_uppercase())
    }

    fn facts(&self, je: &JournalEntry) -> DocFacts {
        DocFacts {
            source_doc: Some(source_doc_label(&je.source)),
            amount: Some(je.total()),
            currency: Some(je.currency.to_string()),
            date: Some(je.date),
            label: Some(format!("journal entry {} ({})", je.reference, je.description)),
        }
    }

    async fn lookup(&self, je: &JournalEntry) -> Result<Option<Found>, StepError> {
        Ok(self.client.find_journal_entry(&je.reference).await?.map(|r| {
            // A JE file is named from the reference, so a found entry is ours; its amount is the
            // one we wrote.
            Found::new(r.target_ref()).with_facts(self.facts(je))
        }))
    }

    async fn create(&self, je: &JournalEntry) -> Result<TargetRef, StepError> {
        Ok(self.client.create_journal_entry(je).await?.target_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_numbers_from_names() {
        assert_eq!(vendor_number_from_name("Cascade Land Surveying LLC"), "CASCLAND");
        assert_eq!(vendor_number_from_name("Granite Geotechnical, Inc."), "GRANGEOT");
        assert_eq!(vendor_number_from_name("3M"), "3M");
        assert_eq!(vendor_number_from_name("The Blueprint Co"), "BLUEPRIN");
        assert_eq!(vendor_number_from_name("A B C D E"), "ABCDE");
        assert_eq!(vendor_number_from_name("---"), "");
    }

    #[test]
    fn vendor_number_options_accept_the_old_spelling() {
        let v: VendorNumbers = serde_json::from_value(serde_json::json!("supplier_id")).unwrap();
        assert_eq!(v, VendorNumbers::SourceId);
    }
}
