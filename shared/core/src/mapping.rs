//! Mapping tables: source codes → target codes, typed by kind.
//!
//! Every posted line must point at records that already exist in the target, so reference data is
//! mapped first: vendors/suppliers ↔ firms, account codes ↔ GL accounts, cost codes/types ↔
//! accounts, project keys ↔ WBS. A mapping lives in a *scope* named after the pair of systems it
//! translates between (`cin7-deltek`, `procore-deltek` ...), so the same Cin7 account code can map
//! to a Deltek account in one scope and an Acumatica account in another.
//!
//! A record that needs a mapping nobody has made waits in `needs_mapping`, indexed by the missing
//! [`MappingKey`]s; adding the mapping releases exactly the records waiting for it (see the engine).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a mapping translates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MappingKind {
    /// Source vendor/supplier id → target vendor/firm code.
    Vendor,
    /// Source account code → target GL account.
    Account,
    /// Source project key (location, attribute, job) → target project (`WBS1|WBS2|WBS3`).
    Project,
    /// Source cost code / cost type (`code` or `code|type`) → target account or project phase.
    CostCode,
}

impl MappingKind {
    pub const ALL: [MappingKind; 4] =
        [MappingKind::Vendor, MappingKind::Account, MappingKind::Project, MappingKind::CostCode];

    pub fn as_str(&self) -> &'static str {
        match self {
            MappingKind::Vendor => "vendor",
            MappingKind::Account => "account",
            MappingKind::Project => "project",
            MappingKind::CostCode => "cost_code",
        }
    }
}

impl fmt::Display for MappingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown mapping kind {0:?}: expected one of vendor, account, project, cost_code")]
pub struct UnknownMappingKind(pub String);

impl FromStr for MappingKind {
    type Err = UnknownMappingKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "vendor" | "supplier" | "firm" => Ok(MappingKind::Vendor),
            "account" | "gl_account" | "gl" => Ok(MappingKind::Account),
            "project" | "wbs" => Ok(MappingKind::Project),
            "cost_code" | "costcode" | "cost_type" => Ok(MappingKind::CostCode),
            _ => Err(UnknownMappingKind(s.to_string())),
        }
    }
}

/// Identifies one mapping row: scope + kind + source code. Source codes are trimmed; comparison is
/// exact otherwise (account codes `0100` and `100` are different codes).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MappingKey {
    pub scope: String,
    pub kind: MappingKind,
    pub source: String,
}

impl MappingKey {
    pub fn new(scope: impl Into<String>, kind: MappingKind, source: impl AsRef<str>) -> Self {
        MappingKey { scope: scope.into(), kind, source: source.as_ref().trim().to_string() }
    }

    /// `scope/kind/source`, the form shown to people and used as an index key by stores.
    pub fn id(&self) -> String {
        format!("{}/{}/{}", self.scope, self.kind, self.source)
    }
}

impl fmt::Display for MappingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?} ({})", self.kind, self.source, self.scope)
    }
}

/// One row of a mapping table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    pub key: MappingKey,
    /// Target code (vendor number, GL account, `WBS1|WBS2|WBS3` ...).
    pub target: String,
    /// Free text: who made it and why (`suggested by code match`, `created with firm V0042`).
    pub note: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// The mappings a flow asked for, loaded in one go before `map` runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MappingSet {
    rows: BTreeMap<MappingKey, String>,
}

impl MappingSet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, key: MappingKey, target: impl Into<String>) {
        self.rows.insert(key, target.into());
    }

    pub fn get(&self, key: &MappingKey) -> Option<&str> {
        self.rows.get(key).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

impl FromIterator<Mapping> for MappingSet {
    fn from_iter<I: IntoIterator<Item = Mapping>>(iter: I) -> Self {
        MappingSet { rows: iter.into_iter().map(|m| (m.key, m.target)).collect() }
    }
}

/// Collects the lookups a `map` step makes, so it can report every missing key at once instead of
/// the first one (a person fixing mappings wants the whole list).
#[derive(Debug)]
pub struct Resolver<'a> {
    set: &'a MappingSet,
    scope: String,
    missing: Vec<MappingKey>,
}

impl<'a> Resolver<'a> {
    pub fn new(set: &'a MappingSet, scope: impl Into<String>) -> Self {
        Resolver { set, scope: scope.into(), missing: Vec::new() }
    }

    /// The target for `source`, or `None` (and the key noted as missing).
    pub fn resolve(&mut self, kind: MappingKind, source: &str) -> Option<String> {
        let key = MappingKey::new(self.scope.clone(), kind, source);
        match self.set.get(&key) {
            Some(t) => Some(t.to_string()),
            None => {
                if !self.missing.contains(&key) {
                    self.missing.push(key);
                }
                None
            }
        }
    }

    /// Like `resolve`, but a missing row is not an error (optional mappings, defaults elsewhere).
    pub fn resolve_optional(&self, kind: MappingKind, source: &str) -> Option<String> {
        self.set.get(&MappingKey::new(self.scope.clone(), kind, source)).map(str::to_string)
    }

    /// `Ok(())` when nothing was missing, otherwise every missing key.
    pub fn finish(self) -> Result<(), Vec<MappingKey>> {
        if self.missing.is_empty() { Ok(()) } else { Err(self.missing) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_with_aliases() {
        assert_eq!("Supplier".parse::<MappingKind>().unwrap(), MappingKind::Vendor);
        assert_eq!("cost-code".parse::<MappingKind>().unwrap(), MappingKind::CostCode);
        let e = "colour".parse::<MappingKind>().unwrap_err().to_string();
        assert!(e.contains("colour") && e.contains("vendor"), "{e}");
    }

    #[test]
    fn resolver_reports_every_missing_key_once() {
        let mut set = MappingSet::new();
        set.insert(MappingKey::new("cin7-deltek", MappingKind::Account, "200"), "5100");
        let mut r = Resolver::new(&set, "cin7-deltek");
        assert_eq!(r.resolve(MappingKind::Account, " 200 ").as_deref(), Some("5100"));
        assert_eq!(r.resolve(MappingKind::Account, "300"), None);
        assert_eq!(r.resolve(MappingKind::Account, "300"), None);
        assert_eq!(r.resolve(MappingKind::Vendor, "S1"), None);
        let missing = r.finish().unwrap_err();
        assert_eq!(missing.len(), 2);
        assert_eq!(missing[0].id(), "cin7-deltek/account/300");
    }
}
