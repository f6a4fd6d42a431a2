//! Suppliers by name in every view (issue 11, item 13).
//!
//! A source system's vendor id is often a GUID (Cin7's `SupplierID`, a Coupa or Procore id):
//! vendor mapping keys carry it, and so do the engine's reasons ("waiting for mappings: vendor
//! "437bc05f-…" (cin7-deltek)") and its notes ("learnt from cin7-deltek-vendors#cin7#437bc05f-…").
//! An AP clerk knows the supplier by name. The work items already hold the name beside the id
//! (a vendor-flow item's document is the supplier; an invoice waiting for a vendor mapping carries
//! the supplier's name in its summary), so the views translate ids to names from them. JSON output
//! and CSV exports keep the ids: they are for machines and for re-import.

use std::collections::HashMap;

use mlc_core::engine::model::WorkItem;
use mlc_core::mapping::{MappingKey, MappingKind};

/// Supplier ids → names, and item keys → labels, learnt from work items.
#[derive(Debug, Default)]
pub struct Names {
    /// Lower-case source id → the supplier's name.
    vendors: HashMap<String, String>,
    /// Item key → its label (`supplier Acme Steel`).
    items: HashMap<String, String>,
}

impl Names {
    /// Learn from `items` (any flows, any states).
    pub fn from_items<'a>(items: impl IntoIterator<Item = &'a WorkItem>) -> Names {
        let mut n = Names::default();
        for i in items {
            n.learn(i);
        }
        n
    }

    /// Learn from every work item in the store.
    pub async fn load(engine: &mlc_core::Engine) -> anyhow::Result<Names> {
        let items = engine.find(&Default::default()).await?;
        Ok(Names::from_items(&items))
    }

    fn learn(&mut self, i: &WorkItem) {
        let Some(name) = i.summary.vendor.as_deref().map(str::trim).filter(|v| !v.is_empty()) else { return };
        // An invoice waiting for its vendor's mapping: the key's source is this supplier.
        for k in i.missing.iter().filter(|k| k.kind == MappingKind::VENDOR) {
            self.vendors.entry(k.source.to_ascii_lowercase()).or_insert_with(|| name.to_string());
        }
        // A vendor flow's document is the supplier itself.
        if i.summary.label.starts_with("supplier ") || i.entity.contains("supplier") || i.entity.contains("vendor") {
            self.vendors.entry(i.doc_id.to_ascii_lowercase()).or_insert_with(|| name.to_string());
            self.items.insert(i.key.to_string(), i.summary.label.clone());
        }
    }

    /// The supplier's name for a source vendor id, if known.
    pub fn vendor(&self, id: &str) -> Option<&str> {
        self.vendors.get(&id.to_ascii_lowercase()).map(String::as_str)
    }

    /// A mapping key as a person reads it: a vendor key by the supplier's name (its id shortened),
    /// any other key as it is.
    pub fn key(&self, k: &MappingKey) -> String {
        match self.vendor_source(k) {
            Some(shown) => format!("{} \"{shown}\" ({})", k.kind, k.scope),
            None => k.to_string(),
        }
    }

    /// A mapping's source as a person reads it (the supplier's name for a vendor id).
    pub fn source(&self, k: &MappingKey) -> String {
        self.vendor_source(k).unwrap_or_else(|| k.source.clone())
    }

    fn vendor_source(&self, k: &MappingKey) -> Option<String> {
        if k.kind != MappingKind::VENDOR {
            return None;
        }
        let name = self.vendor(&k.source)?;
        Some(if looks_like_guid(&k.source) { format!("{name}, id {}", short_id(&k.source)) } else { name.to_string() })
    }

    /// `text` with every known supplier id replaced by the supplier's name, and every
    /// "learnt from <item key>" by that item's label.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_string();
        if let Some(key) = text.strip_prefix("learnt from ")
            && let Some(label) = self.items.get(key.trim())
        {
            out = format!("learnt from {label}");
        }
        for token in guids(text) {
            if let Some(name) = self.vendor(token) {
                out = out.replace(&format!("\"{token}\""), &format!("\"{name}\""));
            }
        }
        out
    }
}

/// `8-4-4-4-12` hex digits.
pub fn looks_like_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts.iter().zip([8, 4, 4, 4, 12]).all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The GUIDs in `text` (between any non-id characters).
fn guids(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_ascii_hexdigit() || c == '-')).filter(|t| looks_like_guid(t)).collect()
}

/// `437bc05f…`: enough to tell ids apart by eye, not a GUID any more.
pub fn short_id(id: &str) -> String {
    let head: String = id.chars().take(8).collect();
    if head.len() < id.len() { format!("{head}…") } else { head }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "437bc05f-9e5b-4b8b-a249-053326ad379c";

    #[test]
    fn vendor_ids_read_as_supplier_names() {
        assert!(looks_like_guid(ID) && !looks_like_guid("437bc05f") && !looks_like_guid("PO-00010"));
        let mut n = Names::default();
        n.vendors.insert(ID.into(), "Old Copier Leasing Co.".into());
        n.items.insert("cin7-deltek-vendors#cin7#x#1".into(), "supplier Old Copier Leasing Co.".into());
        let k = MappingKey::new("cin7-deltek", MappingKind::VENDOR, ID.to_ascii_uppercase());
        assert_eq!(n.key(&k), "vendor \"Old Copier Leasing Co., id 437BC05F…\" (cin7-deltek)");
        let account = MappingKey::new("cin7-deltek", MappingKind::ACCOUNT, "412");
        assert_eq!(n.key(&account), account.to_string());
        assert_eq!(
            n.text(&format!("waiting for mappings: vendor \"{ID}\" (cin7-deltek)")),
            "waiting for mappings: vendor \"Old Copier Leasing Co.\" (cin7-deltek)"
        );
        assert_eq!(n.text("learnt from cin7-deltek-vendors#cin7#x#1"), "learnt from supplier Old Copier Leasing Co.");
        assert_eq!(n.text("nothing to change"), "nothing to change");
    }
}
