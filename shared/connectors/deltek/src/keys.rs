//! Keys this connector derives, so a voucher or journal entry can be recognised as ours and found
//! again without any record of having sent it.
//!
//! - `MasterPKey` of a voucher = 32 hex of SHA-256(`mlc-ap-v1`, company, VENDOR, INVOICE): the
//!   same invoice always gets the same key, whichever file it travels in.
//! - line `PKey` = 32 hex of SHA-256(MasterPKey, line number).
//! - a file holding one voucher is named `<prefix><MasterPKey…>` (32 characters): sending it twice
//!   is refused by Vantagepoint as a duplicate file, a server-side guard for free.
//! - a file holding several vouchers is named `<prefix>` + UTC `yyMMddHHmmss` + a per-client
//!   sequence + 6 random hex characters, unique per run; finding a voucher never needs this name
//!   (the lookup reads every unposted file).
//! - a journal entry's file = `<prefix>J` + hex of SHA-256(`mlc-je-v1`, company, REFERENCE).

use sha2::{Digest, Sha256};

fn hash32(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0x1f]);
    }
    hex::encode(&h.finalize()[..16])
}

/// `VENDOR#INVOICE`, trimmed and upper-cased: the natural key (as `ApInvoice::natural_key`).
pub fn natural_key(vendor: &str, invoice: &str) -> String {
    format!("{}#{}", vendor.trim().to_uppercase(), invoice.trim().to_uppercase())
}

/// The deterministic `MasterPKey` of a vendor invoice.
pub fn master_pkey(company: &str, vendor: &str, invoice: &str) -> String {
    hash32(&[
        "mlc-ap-v1",
        &company.trim().to_uppercase(),
        &vendor.trim().to_uppercase(),
        &invoice.trim().to_uppercase(),
    ])
}

/// The deterministic `PKey` of a voucher line.
pub fn line_pkey(master_pkey: &str, line_no: u32) -> String {
    hash32(&["mlc-ap-line-v1", master_pkey, &line_no.to_string()])
}

/// The file name of a one-voucher file.
pub fn single_batch(prefix: &str, master_pkey: &str) -> String {
    let room = 32usize.saturating_sub(prefix.len());
    format!("{prefix}{}", &master_pkey[..room.min(master_pkey.len())]).to_ascii_uppercase()
}

/// A run-unique file name for a file of several vouchers.
pub fn multi_batch(prefix: &str, seq: u64) -> String {
    let now = chrono::Utc::now();
    let nonce = hash32(&[
        &now.timestamp_nanos_opt().unwrap_or_default().to_string(),
        &seq.to_string(),
        &std::process::id().to_string(),
        &format!("{:p}", &seq),
    ]);
    format!("{prefix}{}{:04X}{}", now.format("%y%m%d%H%M%S"), seq % 0x10000, &nonce[..6]).to_ascii_uppercase()
}

/// The file name of a journal entry.
pub fn journal_batch(prefix: &str, company: &str, reference: &str) -> String {
    let h = hash32(&["mlc-je-v1", &company.trim().to_uppercase(), &reference.trim().to_uppercase()]);
    let p = format!("{prefix}J");
    let room = 32usize.saturating_sub(p.len());
    format!("{p}{}", &h[..room.min(h.len())]).to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_and_fit() {
        let a = master_pkey("A0", " acme ", "inv-1");
        assert_eq!(a, master_pkey("a0", "ACME", "INV-1"));
        assert_eq!(a.len(), 32);
        assert_ne!(a, master_pkey("A0", "ACME", "INV-2"));
        assert_eq!(single_batch("MLC", &a).len(), 32);
        let m = multi_batch("MLC", 7);
        assert!(m.len() <= 32 && m.starts_with("MLC"), "{m}");
        assert_ne!(multi_batch("MLC", 1), multi_batch("MLC", 2));
        assert_eq!(journal_batch("MLC", "", "JE-1").len(), 32);
        assert_eq!(natural_key(" acme", "inv-1 "), "ACME#INV-1");
    }
}
