//! Vendor firms: clients and vendors share Vantagepoint's `firm` hub; a vendor is a firm with
//! `VendorInd` = `Y` and a vendor number (`Vendor`) that every AP transaction names.
//!
//! - find by vendor number (filterHash `Vendor =`), by name (`Name like %…%`, case-insensitive,
//!   exact matches first) and by tax id (`FedID`, compared by digits so `91-3344556` matches
//!   `913344556`);
//! - create: `POST firm` (`VendorInd` Y, primary address fields), then the address rows on
//!   `POST firm/{ClientID}/address`, including a `Payment` (remit-to) address when the vendor
//!   has one different from its main address;
//! - update: Vantagepoint's PUT behaves as PATCH, so only changed fields are sent; addresses are
//!   updated in place (`PUT firm/{ClientID}/address/{CLAddressID}`) or added.
//!
//! Found vendors are cached for the run (a hit for `lookup_max_age`, then re-read), which keeps
//! the AP pre-post check (vendor exists, is a vendor, is active) to one call per vendor per run.

use std::collections::HashMap;
use std::sync::Mutex;

use mlc_core::domain::{Address, AddressKind, Status, Vendor};
use mlc_http::Request;
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use crate::client::{DeltekClient, Query};
use crate::decode::rows;
use crate::errors::DeltekError;
use crate::model::{FirmAddress, VendorFirm};

/// Vendor firms read by number, per run; one read per vendor at a time (workers posting bills of
/// one vendor at once wait for the first read instead of each sending their own).
#[derive(Default)]
pub(crate) struct VendorCache(
    Mutex<HashMap<String, (Instant, Option<VendorFirm>)>>,
    Mutex<HashMap<String, std::sync::Arc<tokio::sync::Mutex<()>>>>,
);

impl VendorCache {
    /// The lock a read of `key` holds.
    fn reading(&self, key: &str) -> std::sync::Arc<tokio::sync::Mutex<()>> {
        self.1.lock().unwrap_or_else(|p| p.into_inner()).entry(key.to_string()).or_default().clone()
    }

    /// Forget what was read for this vendor number (a fresh lookup reads it again).
    pub(crate) fn forget(&self, vendor: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(&norm(vendor));
    }

    fn get(&self, key: &str, max_age: std::time::Duration) -> Option<Option<VendorFirm>> {
        let m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        m.get(key).filter(|(at, _)| at.elapsed() <= max_age).map(|(_, v)| v.clone())
    }
    fn put(&self, key: String, v: Option<VendorFirm>) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).insert(key, (Instant::now(), v));
    }
    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

fn norm(s: &str) -> String {
    s.trim().to_uppercase()
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_uppercase()
}

/// Escape nothing, but keep a search text from being a pattern of its own.
fn like_text(s: &str) -> String {
    s.trim().replace('%', "_")
}

impl DeltekClient {
    /// Forget what was read for this vendor number: the next [`Self::find_vendor`] asks again.
    pub fn forget_vendor(&self, vendor: &str) {
        self.inner.vendors.forget(vendor);
    }

    /// The vendor firm with this vendor number, if any.
    pub async fn find_vendor(&self, vendor: &str) -> Result<Option<VendorFirm>, DeltekError> {
        let key = norm(vendor);
        if key.is_empty() {
            return Ok(None);
        }
        if let Some(hit) = self.inner.vendors.get(&key, self.inner.settings.lookup_max_age) {
            return Ok(hit);
        }
        let reading = self.inner.vendors.reading(&key);
        let _one_at_a_time = reading.lock().await;
        if let Some(hit) = self.inner.vendors.get(&key, self.inner.settings.lookup_max_age) {
            return Ok(hit);
        }
        let q = Query::new().filter("Vendor", "=", vendor.trim());
        let rows = self.get_rows("firm", &q, &format!("the search for vendor {}", vendor.trim())).await?;
        let mut firms: Vec<VendorFirm> =
            rows.iter().filter_map(VendorFirm::from_row).filter(|f| norm(&f.vendor) == key).collect();
        firms.sort_by_key(|f| (!f.is_vendor, !f.active()));
        let found = firms.into_iter().next();
        self.inner.vendors.put(key, found.clone());
        Ok(found)
    }

    /// A firm by its `ClientID`, with its addresses.
    pub async fn vendor_with_addresses(&self, client_id: &str) -> Result<Option<VendorFirm>, DeltekError> {
        let what = format!("firm {client_id}");
        let rows = self.get_rows(&format!("firm/{client_id}"), &Query::new(), &what).await?;
        let Some(mut firm) = rows.iter().find_map(VendorFirm::from_row) else { return Ok(None) };
        firm.addresses = self.firm_addresses(client_id).await?;
        Ok(Some(firm))
    }

    async fn firm_addresses(&self, client_id: &str) -> Result<Vec<FirmAddress>, DeltekError> {
        let what = format!("the addresses of firm {client_id}");
        let rows = self.get_rows(&format!("firm/{client_id}/address"), &Query::new(), &what).await?;
        Ok(rows.iter().map(FirmAddress::from_row).collect())
    }

    /// The domain vendor for a vendor number, addresses included.
    pub async fn vendor(&self, vendor: &str) -> Result<Option<Vendor>, DeltekError> {
        let Some(f) = self.find_vendor(vendor).await? else { return Ok(None) };
        Ok(self.vendor_with_addresses(&f.client_id).await?.map(|f| f.to_domain()))
    }

    /// Firms whose name contains `name` (case-insensitive), exact matches first.
    pub async fn find_vendors_by_name(&self, name: &str) -> Result<Vec<VendorFirm>, DeltekError> {
        let wanted = norm(name);
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let q = Query::new().filter("Name", "like", &format!("%{}%", like_text(name)));
        let rows = self.get_all("firm", &q, &format!("the search for vendors named {:?}", name.trim())).await?;
        let mut firms: Vec<VendorFirm> =
            rows.iter().filter_map(VendorFirm::from_row).filter(|f| norm(&f.name).contains(&wanted)).collect();
        firms.sort_by_key(|f| (norm(&f.name) != wanted, !f.is_vendor, !f.active(), f.name.clone()));
        Ok(firms)
    }

    /// Every vendor firm (`VendorInd = Y`), by name: what `mlc target list vendors` shows
    /// people writing vendor mappings.
    pub async fn list_vendors(&self) -> Result<Vec<VendorFirm>, DeltekError> {
        let q = Query::new().filter("VendorInd", "=", "Y");
        let rows = self.get_all("firm", &q, "the vendor firms").await?;
        let mut firms: Vec<VendorFirm> = rows.iter().filter_map(VendorFirm::from_row).filter(|f| f.is_vendor).collect();
        firms.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(firms)
    }

    /// Firms with this tax id (`FedID`), compared by letters and digits only.
    pub async fn find_vendors_by_tax_id(&self, tax_id: &str) -> Result<Vec<VendorFirm>, DeltekError> {
        let wanted = digits(tax_id);
        if wanted.len() < 4 {
            return Ok(Vec::new());
        }
        // The stored spelling may have dashes or not; the last four characters are in both.
        let tail = &wanted[wanted.len() - 4..];
        let q = Query::new().filter("FedID", "like", &format!("%{tail}%"));
        let rows = self.get_all("firm", &q, "the search for vendors by tax id").await?;
        let mut firms: Vec<VendorFirm> =
            rows.iter().filter_map(VendorFirm::from_row).filter(|f| digits(&f.tax_id) == wanted).collect();
        firms.sort_by_key(|f| (!f.is_vendor, !f.active()));
        Ok(firms)
    }

    /// Create a vendor firm (vendor number = `vendor.code`). Look it up first
    /// ([`DeltekClient::find_vendor`]): Vantagepoint has no idempotency key.
    pub async fn create_vendor(&self, vendor: &Vendor) -> Result<VendorFirm, DeltekError> {
        let what = format!("vendor {} ({})", vendor.code.trim(), vendor.name.trim());
        vendor.validate().map_err(|e| DeltekError::Invalid { what: what.clone(), problem: e.to_string() })?;
        let vendor = &with_country_codes(vendor, &what)?;
        let mut body = firm_fields(vendor);
        body.insert("VendorInd".into(), json!("Y"));
        body.insert("Vendor".into(), json!(vendor.code.trim()));
        let answer = self.write(Request::post("firm").json(&Value::Object(body)), "POST firm", &what).await?;
        let mut firm = rows(answer).iter().find_map(VendorFirm::from_row).ok_or_else(|| DeltekError::Unexpected {
            call: "POST firm".into(),
            detail: format!("{what} was created but the answer carries no ClientID"),
        })?;
        let wanted = wanted_addresses(vendor);
        if !wanted.is_empty() {
            let rows_json: Vec<Value> = wanted.iter().map(|(code, a)| Value::Object(address_fields(code, a))).collect();
            let path = format!("firm/{}/address", firm.client_id);
            let call = format!("POST {path}");
            self.write(Request::post(path).json(&rows_json), &call, &format!("the addresses of {what}"))
                .await
                .map_err(|e| match e {
                    DeltekError::Refused { what: w, call, status, server, fix } => DeltekError::Refused {
                        what: format!("{w} (firm {} was created without them; an update adds them)", firm.client_id),
                        call,
                        status,
                        server,
                        fix,
                    },
                    other => other,
                })?;
            firm.addresses = self.firm_addresses(&firm.client_id).await?;
        }
        self.inner.vendors.put(norm(&vendor.code), Some(firm.clone()));
        Ok(firm)
    }

    /// Bring an existing vendor firm in line with `vendor`, sending only what changed (PUT is
    /// PATCH in Vantagepoint). Returns the firm as it now is; no call when nothing changed.
    pub async fn update_vendor(&self, existing: &VendorFirm, vendor: &Vendor) -> Result<VendorFirm, DeltekError> {
        let what = format!("vendor {} (firm {})", vendor.code.trim(), existing.client_id);
        vendor.validate().map_err(|e| DeltekError::Invalid { what: what.clone(), problem: e.to_string() })?;
        let vendor = &with_country_codes(vendor, &what)?;
        let mut current = existing.clone();
        if current.addresses.is_empty() {
            current.addresses = self.firm_addresses(&existing.client_id).await?;
        }
        let changes = firm_changes(&current, vendor);
        let firm_changed = !changes.is_empty();
        if firm_changed {
            let path = format!("firm/{}", existing.client_id);
            let call = format!("PUT {path}");
            self.write(Request::put(path).json(&Value::Object(changes)), &call, &what).await?;
        }
        let mut address_changed = false;
        for (code, want) in wanted_addresses(vendor) {
            let have = current.addresses.iter().find(|a| match want.kind {
                AddressKind::RemitTo => a.payment,
                _ => a.primary,
            });
            match have {
                Some(h) => {
                    let diff = address_changes(h, &want);
                    if !diff.is_empty() {
                        let path = format!("firm/{}/address/{}", existing.client_id, h.id);
                        let call = format!("PUT {path}");
                        self.write(
                            Request::put(path).json(&Value::Object(diff)),
                            &call,
                            &format!("an address of {what}"),
                        )
                        .await?;
                        address_changed = true;
                    }
                }
                None => {
                    let path = format!("firm/{}/address", existing.client_id);
                    let call = format!("POST {path}");
                    let body = vec![Value::Object(address_fields(&code, &want))];
                    self.write(Request::post(path).json(&body), &call, &format!("an address of {what}")).await?;
                    address_changed = true;
                }
            }
        }
        if !firm_changed && !address_changed {
            return Ok(current);
        }
        let updated = self.vendor_with_addresses(&existing.client_id).await?.unwrap_or(current);
        self.inner.vendors.put(norm(&vendor.code), Some(updated.clone()));
        Ok(updated)
    }

    /// Whether the firm already says what `vendor` says (for "up to date" in vendor flows).
    pub fn vendor_is_up_to_date(&self, existing: &VendorFirm, vendor: &Vendor) -> bool {
        firm_changes(existing, vendor).is_empty()
            && wanted_addresses(vendor).iter().all(|(_, want)| {
                existing
                    .addresses
                    .iter()
                    .find(|a| if want.kind == AddressKind::RemitTo { a.payment } else { a.primary })
                    .is_some_and(|h| address_changes(h, want).is_empty())
            })
    }
}

fn main_address(v: &Vendor) -> Option<&Address> {
    v.addresses.iter().find(|a| a.kind == AddressKind::Main).or_else(|| v.addresses.first())
}

/// The firm-level fields a vendor sets.
fn firm_fields(v: &Vendor) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("Name".into(), json!(v.name.trim()));
    m.insert("Status".into(), json!(if v.status == Status::Active { "A" } else { "I" }));
    if let Some(t) = &v.tax_id {
        m.insert("FedID".into(), json!(t.trim()));
    }
    if let Some(e) = &v.email {
        m.insert("PrimaryEmail".into(), json!(e.trim()));
    }
    if let Some(p) = &v.phone {
        m.insert("PrimaryPhone".into(), json!(p.trim()));
    }
    if let Some(c) = v.currency {
        m.insert("CustomCurrencyCode".into(), json!(c.code()));
    }
    if let Some(a) = main_address(v) {
        m.insert("PrimaryAddress1".into(), json!(a.lines.first().map(|s| s.trim()).unwrap_or("")));
        m.insert("PrimaryAddress2".into(), json!(a.lines.get(1).map(|s| s.trim()).unwrap_or("")));
        m.insert("PrimaryCity".into(), json!(a.city.as_deref().unwrap_or("").trim()));
        m.insert("PrimaryState".into(), json!(a.state.as_deref().unwrap_or("").trim()));
        m.insert("PrimaryZip".into(), json!(a.postcode.as_deref().unwrap_or("").trim()));
        if let Some(c) = &a.country {
            m.insert("PrimaryCountry".into(), json!(c.trim()));
        }
    }
    m
}

/// The firm-level fields that differ (compared trimmed, case-sensitively for names).
fn firm_changes(f: &VendorFirm, v: &Vendor) -> Map<String, Value> {
    let want = firm_fields(v);
    let have = |k: &str| -> String {
        match k {
            "Name" => f.name.clone(),
            "Status" => {
                if f.active() {
                    "A".into()
                } else {
                    f.status.clone()
                }
            }
            "FedID" => f.tax_id.clone(),
            "PrimaryEmail" => f.email.clone(),
            "PrimaryPhone" => f.phone.clone(),
            "CustomCurrencyCode" => f.currency.clone(),
            "PrimaryAddress1" => f.primary_lines.first().cloned().unwrap_or_default(),
            "PrimaryAddress2" => f.primary_lines.get(1).cloned().unwrap_or_default(),
            "PrimaryCity" => f.primary_city.clone(),
            "PrimaryState" => f.primary_state.clone(),
            "PrimaryZip" => f.primary_zip.clone(),
            "PrimaryCountry" => f.primary_country.clone(),
            _ => String::new(),
        }
    };
    let mut out = Map::new();
    for (k, v) in want {
        let w = v.as_str().unwrap_or("").trim().to_string();
        let h = have(&k);
        let differs = match k.as_str() {
            "CustomCurrencyCode" | "PrimaryCountry" | "Status" | "PrimaryEmail" => !w.eq_ignore_ascii_case(h.trim()),
            _ => w != h.trim(),
        };
        if differs {
            out.insert(k, v);
        }
    }
    if !f.is_vendor {
        out.insert("VendorInd".into(), json!("Y"));
    }
    // A client firm becoming a vendor gets the vendor number; an existing number is never
    // changed (AP history hangs on it).
    if f.vendor.trim().is_empty() {
        out.insert("Vendor".into(), json!(v.code.trim()));
    }
    out
}

/// The address rows a vendor wants: its main address (`Primary`) and, when different, its
/// remit-to (`Remit`, flagged `Payment`).
fn wanted_addresses(v: &Vendor) -> Vec<(String, Address)> {
    let mut out = Vec::new();
    let main = main_address(v).cloned();
    if let Some(m) = &main {
        out.push(("Primary".to_string(), Address { kind: AddressKind::Main, ..m.clone() }));
    }
    if let Some(r) = v.addresses.iter().find(|a| a.kind == AddressKind::RemitTo)
        && main.as_ref().is_none_or(|m| m.lines != r.lines || m.city != r.city || m.postcode != r.postcode)
    {
        out.push(("Remit".to_string(), r.clone()));
    }
    out
}

/// The ISO 3166-1 alpha-2 code Vantagepoint identifies a country by (`US`), from a code (`US`,
/// `USA`) or a name as source systems write it (`United States`, `united states of america`,
/// `U.S.A.`, `Great Britain`). `None` when it names no country.
pub fn country_code(name: &str) -> Option<String> {
    use std::str::FromStr;
    let t = name.trim();
    if t.is_empty() {
        return None;
    }
    // The forms celes does not know: dotted abbreviations and the common English "the ...".
    let squashed: String = t.chars().filter(|c| c.is_alphanumeric()).collect();
    let upper = squashed.to_ascii_uppercase();
    let alias = match upper.as_str() {
        "US" | "USA" | "UNITEDSTATES" | "UNITEDSTATESOFAMERICA" | "AMERICA" => Some("US"),
        "UK" | "GB" | "GBR" | "UNITEDKINGDOM" | "GREATBRITAIN" | "ENGLAND" | "SCOTLAND" | "WALES" => Some("GB"),
        _ => None,
    };
    if let Some(a) = alias {
        return Some(a.to_string());
    }
    let lower = t.to_lowercase();
    let candidates = [
        t.to_string(),
        squashed.clone(),
        lower.trim_start_matches("the ").chars().filter(|c| c.is_alphanumeric()).collect::<String>(),
    ];
    candidates.iter().find_map(|c| celes::Country::from_str(c).ok()).map(|c| c.alpha2.to_string())
}

/// The vendor with every address's country as its alpha-2 code, or an error naming the country
/// that cannot be mapped (writing the name would put a value Vantagepoint's country list does not
/// hold, or replace a valid code on a firm keyed by hand).
fn with_country_codes(vendor: &Vendor, what: &str) -> Result<Vendor, DeltekError> {
    let mut v = vendor.clone();
    for a in &mut v.addresses {
        if let Some(c) = a.country.as_deref().filter(|c| !c.trim().is_empty()) {
            let code = country_code(c).ok_or_else(|| DeltekError::Invalid {
                what: what.to_string(),
                problem: format!(
                    "the country {c:?} of its {} address is not a country ISO 3166 knows; correct it in the source system, then replay",
                    if a.kind == AddressKind::RemitTo { "remit-to" } else { "main" }
                ),
            })?;
            a.country = Some(code);
        }
    }
    Ok(v)
}

fn address_fields(code: &str, a: &Address) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("Address".into(), json!(code));
    let remit = a.kind == AddressKind::RemitTo;
    m.insert("PrimaryInd".into(), json!(if remit { "N" } else { "Y" }));
    m.insert("Accounting".into(), json!(if remit { "N" } else { "Y" }));
    m.insert("Payment".into(), json!(if remit { "Y" } else { "N" }));
    for (i, key) in ["Address1", "Address2", "Address3", "Address4"].iter().enumerate() {
        m.insert((*key).into(), json!(a.lines.get(i).map(|s| s.trim()).unwrap_or("")));
    }
    m.insert("City".into(), json!(a.city.as_deref().unwrap_or("").trim()));
    m.insert("State".into(), json!(a.state.as_deref().unwrap_or("").trim()));
    m.insert("Zip".into(), json!(a.postcode.as_deref().unwrap_or("").trim()));
    if let Some(c) = &a.country {
        m.insert("Country".into(), json!(c.trim()));
    }
    m
}

fn address_changes(h: &FirmAddress, a: &Address) -> Map<String, Value> {
    let want = address_fields(&h.code, a);
    // The stored value of each field we compare; flags other than Payment are left as they are.
    let have = |k: &str| -> Option<String> {
        Some(match k {
            "Address1" => h.lines.first().cloned().unwrap_or_default(),
            "Address2" => h.lines.get(1).cloned().unwrap_or_default(),
            "Address3" => h.lines.get(2).cloned().unwrap_or_default(),
            "Address4" => h.lines.get(3).cloned().unwrap_or_default(),
            "City" => h.city.clone(),
            "State" => h.state.clone(),
            "Zip" => h.zip.clone(),
            "Country" => h.country.clone(),
            "Payment" => if h.payment { "Y" } else { "N" }.into(),
            _ => return None,
        })
    };
    let mut out = Map::new();
    for (k, v) in want {
        let Some(h) = have(&k) else { continue };
        let w = v.as_str().unwrap_or("").trim();
        let differs = if k == "Country" { !w.eq_ignore_ascii_case(h.trim()) } else { w != h.trim() };
        if differs {
            out.insert(k, v);
        }
    }
    out
}

#[cfg(test)]
mod country_tests {
    use super::country_code;

    #[test]
    fn names_codes_and_aliases_become_alpha2_codes() {
        for (given, want) in [
            ("United States", "US"),
            ("united states of america", "US"),
            ("U.S.A.", "US"),
            ("USA", "US"),
            ("us", "US"),
            ("Canada", "CA"),
            ("CAN", "CA"),
            ("Germany", "DE"),
            ("United Kingdom", "GB"),
            ("Great Britain", "GB"),
            ("Australia", "AU"),
            ("New Zealand", "NZ"),
            ("Mexico", "MX"),
            ("the Netherlands", "NL"),
        ] {
            assert_eq!(country_code(given).as_deref(), Some(want), "{given}");
        }
        assert_eq!(country_code("Atlantis"), None);
        assert_eq!(country_code("  "), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vendor() -> Vendor {
        Vendor {
            source: None,
            code: "ACME".into(),
            name: "Acme Supply".into(),
            tax_id: Some("91-1234567".into()),
            currency: None,
            payment_terms: None,
            email: None,
            phone: None,
            addresses: vec![
                Address {
                    kind: AddressKind::Main,
                    lines: vec!["1 Main St".into()],
                    city: Some("Tacoma".into()),
                    state: Some("WA".into()),
                    postcode: Some("98402".into()),
                    country: Some("US".into()),
                },
                Address {
                    kind: AddressKind::RemitTo,
                    lines: vec!["PO Box 9".into()],
                    city: Some("Tacoma".into()),
                    state: Some("WA".into()),
                    postcode: Some("98401".into()),
                    country: Some("US".into()),
                },
            ],
            status: Status::Active,
        }
    }

    #[test]
    fn remit_to_becomes_a_payment_address() {
        let w = wanted_addresses(&vendor());
        assert_eq!(w.len(), 2);
        let f = address_fields(&w[1].0, &w[1].1);
        assert_eq!(f["Payment"], json!("Y"));
        assert_eq!(f["Address1"], json!("PO Box 9"));
    }

    #[test]
    fn only_changes_are_sent() {
        let v = vendor();
        let mut firm = VendorFirm {
            client_id: "x".into(),
            name: "Acme Supply".into(),
            vendor: "ACME".into(),
            is_vendor: true,
            status: "A".into(),
            tax_id: "91-1234567".into(),
            primary_lines: vec!["1 Main St".into()],
            primary_city: "Tacoma".into(),
            primary_state: "WA".into(),
            primary_zip: "98402".into(),
            primary_country: "US".into(),
            ..VendorFirm::default()
        };
        assert!(firm_changes(&firm, &v).is_empty());
        firm.name = "ACME SUPPLY".into();
        let c = firm_changes(&firm, &v);
        assert_eq!(c.keys().collect::<Vec<_>>(), vec!["Name"]);
        assert_eq!(digits("91-1234567"), "911234567");
    }
}
