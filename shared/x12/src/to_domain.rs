//! From a parsed 810 to the domain: [`ApInvoice`] (inbound supplier bills, the main use) and
//! [`ArInvoice`] (what we rendered, read back — used by the round-trip tests and by anyone who
//! needs to see an outbound 810 as the domain does).
//!
//! Mapping decisions for `ApInvoice`:
//! - **vendor** ([`SetRef::vendor_identity`]): the trading partner's ids and the seller party
//!   decide it, never a name and never, by default, the remittance party:
//!   1. the party is the first N1 with entity `SE` (seller), else `SU` (supplier), `VN` (vendor),
//!      `II` (issuer of invoice); N1*RE (party to receive remittance) and N1*RI (remit-to) are
//!      the payment address — often a bank or a factor — and name the vendor only when the
//!      partner profile sets `remit_to_names_vendor`, and only when no SE/SU/VN/II is there;
//!   2. the key is that party's id with its id code: N104 alone when N103 is `92` (assigned by
//!      the buyer: it is our own vendor number), else `N103:N104` (`1:123456789` DUNS,
//!      `ZZ:HL-UK` mutually defined, `91:V-1` assigned by the seller);
//!   3. a party without an id (name only), or no party, gives the partner's key instead:
//!      `ISA05:ISA06`, plus `/GS02` when the group's application sender differs from ISA06 (a
//!      service bureau sending for several suppliers under one interchange id);
//!   4. only a set without any envelope falls back to the party's name.
//!
//!   The vendor name is the party's N102. The buyer (N1*BT, then BY) has no place in
//!   `ApInvoice` and stays in the typed [`Invoice810`].
//! - **lines**: one `ApLine` per IT1. `account` is always [`UNMAPPED_ACCOUNT`]: an 810 carries
//!   no GL account, so the flow's mapping decides it; the line's item (the buyer's part number
//!   first, see [`crate::invoice810::ITEM_ID_PREFERENCE`]) goes to `cost_code` for item-based
//!   mappings. `net_amount` is quantity × price rounded to cents, plus that line's SAC charges
//!   minus its allowances; `tax_amount` is the line's TXI.
//! - **summary SAC** (invoice-level charges and allowances, e.g. freight): one extra `ApLine`
//!   each, `account` [`UNMAPPED_ACCOUNT`], `cost_code` `SAC:<SAC02>` (`SAC:D240` for freight) so
//!   mappings can send freight to its own GL account; allowances are negative.
//! - **header_tax**: summary TXI. **total**: TDS01, plus tax when TDS01 excludes it
//!   ([`crate::envelope::TaxInTds`]).
//! - **credit memos**: BIG07 `CR`/`CN`, or a negative TDS01, give [`DocumentKind::CreditMemo`]; a
//!   negative 810 is negated so the credit memo carries positive amounts, as the domain expects.
//! - **source**: system `cleo`, entity `810`, id `ISA13/GS06/ST02` (prefixed `file#` when a file
//!   name is given), version = SHA-256 of the set's bytes.
//!
//! A set with errors that reject it (or whose group or interchange has any) is not mapped: the
//! error lists them. An invoice whose TDS does not match its lines fails the domain's own check
//! ([`ApInvoice::try_new`]) and the error says by how much.

use rust_decimal::Decimal;
use serde::Serialize;

use mlc_core::domain::{
    Address, AddressKind, ApInvoice, ApInvoiceDraft, ApLine, ArInvoice, ArInvoiceDraft, ArLine, DocumentKind, Party,
    SourceRef, ValidationError,
};
use mlc_core::money::{Currency, Tolerance};

use crate::envelope::SetRef;
use crate::invoice810::{ChargeIndicator, Invoice810, Line, PartyLoop};

/// The `account` every mapped line gets: the flow's account mapping replaces it.
pub const UNMAPPED_ACCOUNT: &str = "UNMAPPED";
pub const SOURCE_SYSTEM: &str = "cleo";
pub const SOURCE_ENTITY: &str = "810";

/// Options for mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapOptions {
    /// Used in the source id: `file#ISA13/GS06/ST02`.
    pub file_name: Option<String>,
    /// Currency when the 810 has no CUR.
    pub default_currency: Currency,
    pub tolerance: Tolerance,
    /// Whether N1*RE / N1*RI may name the vendor when no SE/SU/VN/II party does (partner
    /// profile `inbound.remit_to_names_vendor`).
    pub remit_to_names_vendor: bool,
}

impl Default for MapOptions {
    fn default() -> Self {
        MapOptions {
            file_name: None,
            default_currency: Currency::USD,
            tolerance: Tolerance::default(),
            remit_to_names_vendor: false,
        }
    }
}

/// Which rule named the vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VendorSource {
    /// A party's id with its id code (N103/N104).
    PartyId,
    /// The trading partner's interchange (and application) sender ids.
    Partner,
    /// A party's name: only for sets without any envelope.
    PartyName,
}

/// Who sent the invoice, and the key the vendor mapping is keyed on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VendorIdentity {
    pub key: String,
    pub source: VendorSource,
    pub name: Option<String>,
    /// The N1 the vendor came from: entity code, id qualifier, id.
    pub entity: Option<String>,
    pub id_qualifier: Option<String>,
    pub id: Option<String>,
    /// `ISA05:ISA06` of the interchange.
    pub partner: Option<String>,
    /// GS02 of the group.
    pub application_sender: Option<String>,
    /// The payment address (N1*RE, else RI), kept whether or not it names the vendor.
    pub remit_to: Option<Party>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("transaction set {set} is not a readable 810 invoice")]
    NotAnInvoice { set: String },
    #[error("transaction set {set} is rejected: {}", errors.join("; "))]
    Rejected { set: String, errors: Vec<String> },
    #[error("transaction set {set}: {source}")]
    Invalid {
        set: String,
        #[source]
        source: ValidationError,
    },
    #[error("transaction set {set}: currency {code:?} is not an ISO 4217 code")]
    Currency { set: String, code: String },
    #[error("transaction set {set}: amounts too large to add up")]
    Overflow { set: String },
}

/// ±1: negative 810s (credits sent as negative amounts) are flipped to positive credit memos.
fn sign_of(inv: &Invoice810) -> Decimal {
    if inv.totals.total < Decimal::ZERO { Decimal::NEGATIVE_ONE } else { Decimal::ONE }
}

fn own(t: &Option<crate::invoice810::Text<'_>>) -> Option<String> {
    t.as_deref().map(str::to_string)
}

fn address_of(p: &PartyLoop) -> Option<Address> {
    let kind = match p.entity.as_ref() {
        "RE" | "RI" => AddressKind::RemitTo,
        "BT" => AddressKind::Billing,
        "ST" => AddressKind::Shipping,
        "SE" | "VN" | "SU" | "II" | "BY" => AddressKind::Main,
        _ => AddressKind::Other,
    };
    let empty = p.address_lines.is_empty()
        && p.city.is_none()
        && p.state.is_none()
        && p.postal_code.is_none()
        && p.country.is_none();
    (!empty).then(|| Address {
        kind,
        lines: p.address_lines.iter().map(|l| l.to_string()).collect(),
        city: own(&p.city),
        state: own(&p.state),
        postcode: own(&p.postal_code),
        country: own(&p.country),
    })
}

fn party_of(p: &PartyLoop) -> Party {
    Party { name: own(&p.name).or_else(|| own(&p.id)).unwrap_or_default(), id: own(&p.id), address: address_of(p) }
}

fn line_no(l: &Line, index: usize) -> u32 {
    l.assigned_id
        .as_deref()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(u32::try_from(index + 1).unwrap_or(u32::MAX))
}

impl<'f, 'a> SetRef<'f, 'a> {
    /// `system cleo, entity 810, id [file#]ISA13/GS06/ST02, version sha256(set bytes)`.
    pub fn source_ref(&self, file_name: Option<&str>) -> SourceRef {
        let path = self.control_path();
        SourceRef {
            system: SOURCE_SYSTEM.into(),
            entity: SOURCE_ENTITY.into(),
            id: match file_name {
                Some(f) => format!("{f}#{path}"),
                None => path,
            },
            version: self.content_hash(),
        }
    }

    /// Errors that stop this set from being used: its own rejecting errors and any error of its
    /// group or interchange.
    pub fn blocking_errors(&self) -> Vec<String> {
        let mut out: Vec<String> =
            self.set.findings.errors.iter().filter(|e| e.rejects()).map(ToString::to_string).collect();
        if let Some(g) = self.group {
            out.extend(g.findings.errors.iter().map(ToString::to_string));
        }
        if let Some(i) = self.interchange {
            out.extend(i.findings.errors.iter().map(ToString::to_string));
        }
        if self.set.findings.dropped_errors > 0 {
            out.push(format!("{} more errors not shown", self.set.findings.dropped_errors));
        }
        out
    }

    fn usable_invoice(&self) -> Result<&'f Invoice810<'a>, MappingError> {
        let set = self.control_path();
        let inv = self.set.invoice().ok_or_else(|| MappingError::NotAnInvoice { set: set.clone() })?;
        let errors = self.blocking_errors();
        if !errors.is_empty() {
            return Err(MappingError::Rejected { set, errors });
        }
        Ok(inv)
    }

    fn currency(&self, inv: &Invoice810<'_>, opts: &MapOptions) -> Result<Currency, MappingError> {
        match &inv.currency {
            Some(code) => {
                code.parse().map_err(|_| MappingError::Currency { set: self.control_path(), code: code.to_string() })
            }
            None => Ok(opts.default_currency),
        }
    }

    /// Who sent this invoice, by the rule in the module documentation. `None` when the set is not
    /// a readable 810 or nothing identifies the sender at all.
    pub fn vendor_identity(&self, remit_to_names_vendor: bool) -> Option<VendorIdentity> {
        let inv = self.set.invoice()?;
        let partner = self.interchange.map(|i| i.header.partner_key());
        let application_sender = self.group.map(|g| g.header.sender.clone());
        let remit = inv.remit_to();
        let party = inv.seller().or(if remit_to_names_vendor { remit } else { None });
        let mut identity = VendorIdentity {
            key: String::new(),
            source: VendorSource::Partner,
            name: party.and_then(|p| own(&p.name)),
            entity: party.map(|p| p.entity.to_string()),
            id_qualifier: party.and_then(|p| own(&p.id_qualifier)),
            id: party.and_then(|p| own(&p.id)),
            partner: partner.clone(),
            application_sender: application_sender.clone(),
            remit_to: remit.map(party_of),
        };
        if let Some(id) = identity.id.clone() {
            identity.source = VendorSource::PartyId;
            identity.key = match identity.id_qualifier.as_deref() {
                Some("92") | None => id,
                Some(q) => format!("{q}:{id}"),
            };
        } else if let (Some(partner), Some(ic)) = (partner, self.interchange) {
            identity.key = match application_sender {
                Some(gs02) if !gs02.is_empty() && gs02 != ic.header.sender_id => format!("{partner}/{gs02}"),
                _ => partner,
            };
        } else {
            identity.source = VendorSource::PartyName;
            identity.key = identity.name.clone()?;
        }
        Some(identity)
    }

    /// The supplier bill this 810 describes.
    pub fn to_ap_invoice(&self, opts: &MapOptions) -> Result<ApInvoice, MappingError> {
        let inv = self.usable_invoice()?;
        let set = self.control_path();
        let overflow = || MappingError::Overflow { set: set.clone() };
        let sign = sign_of(inv);
        let currency = self.currency(inv, opts)?;
        let po = inv.purchase_order().map(str::to_string);
        let identity = self.vendor_identity(opts.remit_to_names_vendor);
        let vendor = identity.as_ref().map(|v| v.key.clone()).unwrap_or_default();
        let mut lines = Vec::with_capacity(inv.lines.len() + inv.charges.len());
        let mut max_no = 0u32;
        for (i, l) in inv.lines.iter().enumerate() {
            let no = line_no(l, i);
            max_no = max_no.max(no);
            let item = l.item_id();
            let description = l
                .description_text()
                .or_else(|| item.map(|p| format!("Item {} {}", p.qualifier, p.id)))
                .unwrap_or_else(|| format!("Line {no}"));
            let line_po =
                l.references.iter().find(|r| r.qualifier == "PO").map(|r| r.value.to_string()).or_else(|| po.clone());
            lines.push(ApLine {
                line_no: no,
                description,
                account: UNMAPPED_ACCOUNT.into(),
                project: None,
                cost_code: item.map(|p| p.id.to_string()),
                quantity: l.quantity.and_then(|q| q.checked_mul(sign)),
                unit_price: l.unit_price,
                net_amount: l.net_amount().and_then(|v| v.checked_mul(sign)).ok_or_else(overflow)?,
                tax_amount: l.tax_amount().and_then(|v| v.checked_mul(sign)).ok_or_else(overflow)?,
                po_number: line_po,
            });
        }
        for ch in inv.charges.iter().filter(|c| c.indicator != ChargeIndicator::Neither && c.amount.is_some()) {
            max_no = max_no.saturating_add(1);
            let code = ch.code.clone().unwrap_or_else(|| match ch.indicator {
                ChargeIndicator::Allowance => "A".into(),
                _ => "C".into(),
            });
            lines.push(ApLine {
                line_no: max_no,
                description: ch.label(),
                account: UNMAPPED_ACCOUNT.into(),
                project: None,
                cost_code: Some(format!("SAC:{code}")),
                quantity: None,
                unit_price: None,
                net_amount: ch.signed_amount().checked_mul(sign).ok_or_else(overflow)?,
                tax_amount: Decimal::ZERO,
                po_number: po.clone(),
            });
        }
        let description = {
            let notes: Vec<&str> = inv.notes.iter().map(|n| n.text.as_ref()).filter(|t| !t.is_empty()).collect();
            (!notes.is_empty()).then(|| notes.join(" ").chars().take(1000).collect::<String>())
        };
        let due_date = inv.due_date().filter(|d| *d >= inv.invoice_date);
        let draft = ApInvoiceDraft {
            source: self.source_ref(opts.file_name.as_deref()),
            kind: if inv.is_credit() { DocumentKind::CreditMemo } else { DocumentKind::Invoice },
            vendor,
            vendor_name: identity.and_then(|v| v.name),
            invoice_number: inv.invoice_number.to_string(),
            invoice_date: inv.invoice_date,
            due_date,
            currency,
            po_number: po,
            terms: inv.terms.iter().find_map(|t| t.text()),
            description,
            lines,
            header_tax: inv.header_tax().checked_mul(sign).ok_or_else(overflow)?,
            total: inv.total_including_tax().checked_mul(sign).ok_or_else(overflow)?,
            tolerance: opts.tolerance,
        };
        ApInvoice::try_new(draft).map_err(|source| MappingError::Invalid { set, source })
    }

    /// The 810 as an AR invoice (seller N1*SE…, buyer N1*BT/BY). Used to read back what we
    /// rendered; terms are ITD12 as written.
    pub fn to_ar_invoice(&self, opts: &MapOptions) -> Result<ArInvoice, MappingError> {
        let inv = self.usable_invoice()?;
        let set = self.control_path();
        let overflow = || MappingError::Overflow { set: set.clone() };
        let sign = sign_of(inv);
        let seller = inv.seller().map(party_of).unwrap_or_else(|| Party {
            name: self.interchange.map(|i| i.header.sender_id.clone()).unwrap_or_default(),
            id: None,
            address: None,
        });
        let buyer = inv.buyer().map(party_of).unwrap_or(Party { name: String::new(), id: None, address: None });
        let mut lines = Vec::with_capacity(inv.lines.len());
        for (i, l) in inv.lines.iter().enumerate() {
            lines.push(ArLine {
                line_no: line_no(l, i),
                description: l.description_text().unwrap_or_default(),
                item_id: l.item_id().map(|p| p.id.to_string()),
                quantity: l.quantity.unwrap_or_default().checked_mul(sign).ok_or_else(overflow)?,
                unit: own(&l.unit).unwrap_or_else(|| "EA".into()),
                unit_price: l.unit_price.unwrap_or_default(),
                amount: l.net_amount().and_then(|v| v.checked_mul(sign)).ok_or_else(overflow)?,
                tax_amount: l.tax_amount().and_then(|v| v.checked_mul(sign)).ok_or_else(overflow)?,
                project: None,
                account: None,
            });
        }
        let draft = ArInvoiceDraft {
            source: self.source_ref(opts.file_name.as_deref()),
            kind: if inv.is_credit() { DocumentKind::CreditMemo } else { DocumentKind::Invoice },
            invoice_number: inv.invoice_number.to_string(),
            invoice_date: inv.invoice_date,
            due_date: inv.due_date(),
            currency: self.currency(inv, opts)?,
            seller,
            buyer,
            po_number: inv.purchase_order().map(str::to_string),
            terms: inv.terms.iter().find_map(|t| own(&t.description)),
            lines,
            header_tax: inv.header_tax().checked_mul(sign).ok_or_else(overflow)?,
            charges: inv.header_adjustments().checked_mul(sign).ok_or_else(overflow)?,
            total: inv.total_including_tax().checked_mul(sign).ok_or_else(overflow)?,
            tolerance: opts.tolerance,
        };
        ArInvoice::try_new(draft).map_err(|source| MappingError::Invalid { set, source })
    }
}
