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

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a mapping translates: `vendor`, `account`, `project`, `cost_code`, `cost_type`,
/// `subaccount`, `branch`, `tax_code`, `terms`, ... The set is open: a connector or flow that
/// needs another kind declares it with [`register_mapping_kind!`] in its own file, and
/// `mlc mappings import` accepts exactly the declared kinds (and their aliases).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MappingKind(Cow<'static, str>);

impl MappingKind {
    /// Source vendor/supplier id → target vendor/firm code.
    pub const VENDOR: MappingKind = MappingKind(Cow::Borrowed("vendor"));
    /// Source account code → target GL account.
    pub const ACCOUNT: MappingKind = MappingKind(Cow::Borrowed("account"));
    /// Source project key (location, attribute, job) → target project segments (`A|B|C`).
    pub const PROJECT: MappingKind = MappingKind(Cow::Borrowed("project"));
    /// Source cost code (`code` or `code|type`) → target account or project phase.
    pub const COST_CODE: MappingKind = MappingKind(Cow::Borrowed("cost_code"));
    /// Source cost type → target account or labour/expense category.
    pub const COST_TYPE: MappingKind = MappingKind(Cow::Borrowed("cost_type"));
    /// Source account code → target subaccount.
    pub const SUBACCOUNT: MappingKind = MappingKind(Cow::Borrowed("subaccount"));
    /// Source location/warehouse → target branch.
    pub const BRANCH: MappingKind = MappingKind(Cow::Borrowed("branch"));
    /// Source tax rule → target tax code.
    pub const TAX_CODE: MappingKind = MappingKind(Cow::Borrowed("tax_code"));
    /// Source payment terms → target terms code.
    pub const TERMS: MappingKind = MappingKind(Cow::Borrowed("terms"));

    /// A kind by its canonical name (for kinds declared with [`register_mapping_kind!`]).
    pub const fn named(name: &'static str) -> MappingKind {
        MappingKind(Cow::Borrowed(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Every declared kind, sorted by name.
    pub fn declared() -> Vec<&'static MappingKindDecl> {
        let mut v: Vec<&'static MappingKindDecl> = MAPPING_KINDS.iter().collect();
        v.sort_by_key(|d| d.name);
        v.dedup_by_key(|d| d.name);
        v
    }

    /// The declaration of this kind, when one exists.
    pub fn declaration(&self) -> Option<&'static MappingKindDecl> {
        MAPPING_KINDS.iter().find(|d| d.name == self.as_str())
    }
}

impl fmt::Display for MappingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for MappingKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Stored kinds are read back as they were written, declared or not (a kind whose flow was
/// removed must not make the store unreadable); people's input goes through [`FromStr`].
impl<'de> Deserialize<'de> for MappingKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match MAPPING_KINDS.iter().find(|k| k.name == s) {
            Some(k) => MappingKind(Cow::Borrowed(k.name)),
            None => MappingKind(Cow::Owned(s)),
        })
    }
}

/// One declared mapping kind: its name, the other spellings people use, and a line of help.
#[derive(Debug)]
pub struct MappingKindDecl {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    /// What the source and target codes are (`Procore cost type → Deltek GL account`).
    pub help: &'static str,
}

/// Every declared mapping kind. Filled at link time by [`register_mapping_kind!`].
#[linkme::distributed_slice]
pub static MAPPING_KINDS: [MappingKindDecl];

/// Declare a mapping kind in the file that needs it:
/// `mlc_core::register_mapping_kind!(PARTNER, "partner", &["trading_partner"], "EDI partner id → vendor");`
#[macro_export]
macro_rules! register_mapping_kind {
    ($ident:ident, $name:expr, $aliases:expr, $help:expr) => {
        #[$crate::connect::linkme::distributed_slice($crate::mapping::MAPPING_KINDS)]
        #[linkme(crate = $crate::connect::linkme)]
        static $ident: $crate::mapping::MappingKindDecl =
            $crate::mapping::MappingKindDecl { name: $name, aliases: $aliases, help: $help };
    };
}

crate::register_mapping_kind!(
    K_VENDOR,
    "vendor",
    &["supplier", "firm"],
    "source vendor/supplier id → target vendor code"
);
crate::register_mapping_kind!(K_ACCOUNT, "account", &["gl_account", "gl"], "source account code → target GL account");
crate::register_mapping_kind!(
    K_PROJECT,
    "project",
    &["wbs", "job"],
    "source project key → target project (segments joined by |)"
);
crate::register_mapping_kind!(
    K_COST_CODE,
    "cost_code",
    &["costcode"],
    "source cost code → target account or project phase"
);
crate::register_mapping_kind!(K_COST_TYPE, "cost_type", &["costtype"], "source cost type → target account or category");
crate::register_mapping_kind!(K_SUBACCOUNT, "subaccount", &["sub"], "source account code → target subaccount");
crate::register_mapping_kind!(K_BRANCH, "branch", &["location", "warehouse"], "source location → target branch");
crate::register_mapping_kind!(K_TAX_CODE, "tax_code", &["tax"], "source tax rule → target tax code");
crate::register_mapping_kind!(K_TERMS, "terms", &["payment_terms"], "source payment terms → target terms code");

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown mapping kind {given:?}: expected one of {expected}")]
pub struct UnknownMappingKind {
    pub given: String,
    pub expected: String,
}

impl FromStr for MappingKind {
    type Err = UnknownMappingKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase().replace('-', "_");
        MAPPING_KINDS
            .iter()
            .find(|k| k.name == norm || k.aliases.contains(&norm.as_str()))
            .map(|k| MappingKind(Cow::Borrowed(k.name)))
            .ok_or_else(|| UnknownMappingKind {
                given: s.to_string(),
                expected: MappingKind::declared().iter().map(|d| d.name).collect::<Vec<_>>().join(", "),
            })
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
        assert_eq!("Supplier".parse::<MappingKind>().unwrap(), MappingKind::VENDOR);
        assert_eq!("cost-code".parse::<MappingKind>().unwrap(), MappingKind::COST_CODE);
        assert_eq!("Cost_Type".parse::<MappingKind>().unwrap(), MappingKind::COST_TYPE);
        let stored: MappingKind = serde_json::from_str("\"retired_kind\"").unwrap();
        assert_eq!(stored.as_str(), "retired_kind");
        assert_eq!(serde_json::to_string(&MappingKind::BRANCH).unwrap(), "\"branch\"");
        let e = "colour".parse::<MappingKind>().unwrap_err().to_string();
        assert!(e.contains("colour") && e.contains("vendor"), "{e}");
    }

    #[test]
    fn resolver_reports_every_missing_key_once() {
        let mut set = MappingSet::new();
        set.insert(MappingKey::new("cin7-deltek", MappingKind::ACCOUNT, "200"), "5100");
        let mut r = Resolver::new(&set, "cin7-deltek");
        assert_eq!(r.resolve(MappingKind::ACCOUNT, " 200 ").as_deref(), Some("5100"));
        assert_eq!(r.resolve(MappingKind::ACCOUNT, "300"), None);
        assert_eq!(r.resolve(MappingKind::ACCOUNT, "300"), None);
        assert_eq!(r.resolve(MappingKind::VENDOR, "S1"), None);
        let missing = r.finish().unwrap_err();
        assert_eq!(missing.len(), 2);
        assert_eq!(missing[0].id(), "cin7-deltek/account/300");
    }
}
