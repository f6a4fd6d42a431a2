//! `cin7-acumatica-vendors`: Cin7 Core suppliers → Acumatica vendors, one half of the two-way
//! supplier sync (the other half is [`crate::acumatica_cin7_suppliers`]). This file also holds what
//! both halves share: the fields kept alike, the merge rule, its memory and the sync target.
//!
//! **One list on a shared code.** A Cin7 supplier and an Acumatica vendor are the same party when
//! the supplier's `AdditionalAttribute<code_attribute>` (default 1) holds the vendor's `VendorID`.
//! A supplier without a code is paired by the stored pairing, else with a vendor of exactly its
//! name, else a vendor is created under a free code made from its name (`HOLLISHARD`, then
//! `HOLLISHA01`, …); the code is then written back to the supplier (`after_settled`). Pairings
//! are learnt as mappings in scope `cin7-acumatica`: `vendor` (Cin7 supplier ID → vendor code,
//! what the bill and PO flows need) and `cin7_supplier` (vendor code → Cin7 supplier ID).
//!
//! **What is kept alike** ([`PartyFields`]): name, the main contact's email and phone, and the
//! main address (lines 1–2, city, state, postal code, country — ISO code in Acumatica, the
//! country's name in Cin7, compared as the code). Currency, terms, tax number and class are set
//! when a record is created and left to each system afterwards; status is each system's own.
//!
//! **No echo.** Both halves compare before they write: a record whose fields already hold what
//! would be written is `Plan::Matched` (skipped as `already_in_target`, nothing sent). A change
//! ml-connector made on one side comes back from the other side's poll as a new version, finds
//! both sides alike, and stops there.
//!
//! **Edits on both sides between two polls.** The last values both sides agreed on are kept per
//! pair and field in the engine's store ([`SyncMemory`]). Per field: changed on one side only →
//! carried to the other; changed on both sides to the same value → nothing to do; changed on both
//! sides differently → **held for a person**: the field is not written, the item fails
//! (retryable) naming the field and both values, fields without a conflict are still carried, and
//! ml-connector looks again every `conflict_recheck_secs` (default an hour): once a person makes
//! the two agree (an edit on either side), the pair is in sync again. Nothing is lost either way.
//! **A first sync** (no agreed values yet, e.g. two lists kept by hand before ml-connector) has no
//! history to tell an edit from an old value: option `first_sync` decides — `hold` (default: a
//! differing field is held like a conflict), `newest` (the side changed last wins), `cin7` or
//! `acumatica` (that side wins).
//!
//! **Skips**: deprecated Cin7 suppliers (`supplier_deprecated`); the vendor is left as it is.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mlc_acumatica::model::Vendor;
use mlc_acumatica::model::{Address, VendorDraft, VendorStatus};
use mlc_acumatica::{AcumaticaConnection, VendorTarget};
use mlc_cin7::writes::SupplierDraft;
use mlc_cin7::{Cin7Client, Cin7Connection, ListOptions, Supplier, SupplierSource};
use mlc_core::connect::BuildError;
use mlc_core::engine::flow::{Eligibility, FlowSpec, Found, MapError, Plan, SourceDoc, StepError};
use mlc_core::engine::model::{Cursor, DocFacts, ItemSummary, TargetRef};
use mlc_core::engine::parts::{FlowDef, SourceRecord, Target, TargetSpec};
use mlc_core::engine::ports::{Clock, Store};
use mlc_core::mapping::{MappingKey, MappingKind, MappingSet, Resolver};
use serde::{Deserialize, Serialize};

use crate::catalog::{FlowContext, FlowKind, parse_options};

/// The mapping scope of the Cin7 ↔ Acumatica flows.
pub const SCOPE: &str = "cin7-acumatica";

/// Stable skip codes of this flow.
pub mod codes {
    pub const DEPRECATED: &str = "supplier_deprecated";
}

crate::register_flow_kind!(
    KIND,
    FlowKind {
        name: "cin7-acumatica-vendors",
        description: "Cin7 Core suppliers → Acumatica vendors (two-way with acumatica-cin7-suppliers, on a shared code)",
        source_system: "cin7",
        target_system: "acumatica",
        mapping_scope: SCOPE,
        check_options: |o| parse_options::<VendorSyncOptions>(o).and_then(|o| o.check()),
        build,
    }
);

// ---------------------------------------------------------------------------------------------
// What both halves share

/// How a first sync treats a field that differs (no values agreed before).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FirstSync {
    /// Hold it for a person, like a conflict.
    #[default]
    Hold,
    /// The side whose record changed last wins.
    Newest,
    /// Cin7's value wins.
    Cin7,
    /// Acumatica's value wins.
    Acumatica,
}

/// Options both halves of the sync take (each half's options table holds them, and must agree).
#[derive(Debug, Clone, PartialEq)]
pub struct SyncOptions {
    /// Which Cin7 `AdditionalAttribute` (1–10) holds the shared code (the vendor's `VendorID`).
    pub code_attribute: u8,
    pub first_sync: FirstSync,
    /// How soon a pair held for a conflict is looked at again, seconds (60 to 86400).
    pub conflict_recheck_secs: u64,
    /// Listing page size of the source.
    pub page_size: u32,
    /// Re-list records stamped this close to the cursor, seconds.
    pub overlap_secs: u64,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            code_attribute: 1,
            first_sync: FirstSync::Hold,
            conflict_recheck_secs: 3600,
            page_size: 100,
            overlap_secs: 60,
        }
    }
}

impl SyncOptions {
    pub fn check(&self) -> Result<(), String> {
        if !(1..=10).contains(&self.code_attribute) {
            return Err(format!(
                "code_attribute = {} is out of range (1 to 10: Cin7 has AdditionalAttribute1 to AdditionalAttribute10)",
                self.code_attribute
            ));
        }
        if !(1..=86_400).contains(&self.conflict_recheck_secs) {
            return Err(format!("conflict_recheck_secs = {} is out of range (1 to 86400)", self.conflict_recheck_secs));
        }
        if !(1..=1000).contains(&self.page_size) {
            return Err(format!("page_size = {} is out of range (1 to 1000)", self.page_size));
        }
        Ok(())
    }

    /// `AdditionalAttribute<n>`.
    pub fn attribute_key(&self) -> String {
        format!("AdditionalAttribute{}", self.code_attribute)
    }
}

/// One field kept alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Field {
    Name,
    Email,
    Phone,
    Line1,
    Line2,
    City,
    State,
    Postcode,
    Country,
}

impl Field {
    pub const ALL: [Field; 9] = [
        Field::Name,
        Field::Email,
        Field::Phone,
        Field::Line1,
        Field::Line2,
        Field::City,
        Field::State,
        Field::Postcode,
        Field::Country,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::Line1 => "address line 1",
            Field::Line2 => "address line 2",
            Field::City => "city",
            Field::State => "state",
            Field::Postcode => "postal code",
            Field::Country => "country",
        }
    }

    pub fn is_address(&self) -> bool {
        !matches!(self, Field::Name | Field::Email | Field::Phone)
    }
}

/// The fields a supplier and its vendor keep alike, normalised (trimmed, blanks as none, the
/// country as its ISO code where known).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PartyFields {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postcode: Option<String>,
    pub country: Option<String>,
}

impl PartyFields {
    pub fn get(&self, f: Field) -> Option<&str> {
        match f {
            Field::Name => self.name.as_deref(),
            Field::Email => self.email.as_deref(),
            Field::Phone => self.phone.as_deref(),
            Field::Line1 => self.line1.as_deref(),
            Field::Line2 => self.line2.as_deref(),
            Field::City => self.city.as_deref(),
            Field::State => self.state.as_deref(),
            Field::Postcode => self.postcode.as_deref(),
            Field::Country => self.country.as_deref(),
        }
    }

    pub fn set(&mut self, f: Field, v: Option<String>) {
        let v = clean(v.as_deref());
        let v = if f == Field::Country { v.map(|c| country_code(&c)) } else { v };
        match f {
            Field::Name => self.name = v,
            Field::Email => self.email = v,
            Field::Phone => self.phone = v,
            Field::Line1 => self.line1 = v,
            Field::Line2 => self.line2 = v,
            Field::City => self.city = v,
            Field::State => self.state = v,
            Field::Postcode => self.postcode = v,
            Field::Country => self.country = v,
        }
    }

    /// Built field by field (each normalised).
    pub fn from_pairs(pairs: [(Field, Option<&str>); 9]) -> Self {
        let mut p = PartyFields::default();
        for (f, v) in pairs {
            p.set(f, v.map(str::to_string));
        }
        p
    }

    pub fn has_address(&self) -> bool {
        Field::ALL.iter().any(|f| f.is_address() && self.get(*f).is_some())
    }
}

fn clean(v: Option<&str>) -> Option<String> {
    v.map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// `(ISO code, name as Cin7 writes it)`.
const COUNTRIES: &[(&str, &str)] = &[
    ("US", "United States"),
    ("CA", "Canada"),
    ("MX", "Mexico"),
    ("GB", "United Kingdom"),
    ("IE", "Ireland"),
    ("AU", "Australia"),
    ("NZ", "New Zealand"),
    ("DE", "Germany"),
    ("FR", "France"),
    ("NL", "Netherlands"),
];

/// A country as its ISO code (`United States`, `USA`, `us` → `US`); unknown names are kept.
pub fn country_code(c: &str) -> String {
    let t = c.trim();
    if let Some((code, _)) =
        COUNTRIES.iter().find(|(code, name)| t.eq_ignore_ascii_case(code) || t.eq_ignore_ascii_case(name))
    {
        return (*code).to_string();
    }
    match t.to_ascii_uppercase().as_str() {
        "USA" | "U.S." | "U.S.A." | "UNITED STATES OF AMERICA" => "US".into(),
        "UK" | "GREAT BRITAIN" => "GB".into(),
        u if u.len() == 2 && u.chars().all(|c| c.is_ascii_alphabetic()) => u.to_string(),
        _ => t.to_string(),
    }
}

/// A country's name as Cin7 holds it (`US` → `United States`); unknown codes are kept.
pub fn country_name(code: &str) -> String {
    COUNTRIES
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(code.trim()))
        .map_or_else(|| code.trim().to_string(), |(_, n)| (*n).to_string())
}

/// The values both sides last agreed on, per field (a field absent: never agreed yet).
pub type Agreed = BTreeMap<String, Option<String>>;

/// A field edited on both sides since they last agreed (or, on a first sync held by
/// `first_sync = "hold"`, one that differs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldConflict {
    pub field: Field,
    pub source: Option<String>,
    pub target: Option<String>,
    /// The value both last agreed on (`None`: no sync yet).
    pub agreed: Option<Option<String>>,
}

/// What to do with a pair, field by field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Merge {
    /// Fields to write to the target, with the source's value.
    pub write: Vec<(Field, Option<String>)>,
    /// Fields both sides hold alike (remembered as agreed).
    pub agreed: Vec<(Field, Option<String>)>,
    /// Fields changed on the target side only: the other half of the sync carries them.
    pub theirs: Vec<Field>,
    pub conflicts: Vec<FieldConflict>,
}

/// The merge rule (see the module docs). `source_system` is the source's name (`cin7` or
/// `acumatica`); `source_newer` whether the source record changed after the target's.
pub fn merge(
    source: &PartyFields,
    target: &PartyFields,
    agreed: Option<&Agreed>,
    first: FirstSync,
    source_system: &str,
    source_newer: bool,
) -> Merge {
    let mut m = Merge::default();
    for f in Field::ALL {
        let (s, t) = (source.get(f), target.get(f));
        if s == t {
            m.agreed.push((f, s.map(str::to_string)));
            continue;
        }
        let base = agreed.and_then(|a| a.get(f.as_str()));
        let source_wins = match base {
            Some(b) => {
                let (s_changed, t_changed) = (s != b.as_deref(), t != b.as_deref());
                match (s_changed, t_changed) {
                    (true, false) => Some(true),
                    (false, true) => Some(false),
                    _ => None,
                }
            }
            None => match first {
                FirstSync::Hold => None,
                FirstSync::Newest => Some(source_newer),
                FirstSync::Cin7 => Some(source_system == "cin7"),
                FirstSync::Acumatica => Some(source_system == "acumatica"),
            },
        };
        match source_wins {
            Some(true) => m.write.push((f, s.map(str::to_string))),
            Some(false) => m.theirs.push(f),
            None => m.conflicts.push(FieldConflict {
                field: f,
                source: s.map(str::to_string),
                target: t.map(str::to_string),
                agreed: base.cloned(),
            }),
        }
    }
    m
}

/// The agreed values of every pair, in the engine's store (one row per pair, changed by
/// compare-and-set, so both halves and every worker can record agreement at once).
#[derive(Clone)]
pub struct SyncMemory {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    scope: String,
}

impl SyncMemory {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, scope: &str) -> Self {
        SyncMemory { store, clock, scope: scope.to_string() }
    }

    fn key(&self, code: &str) -> String {
        format!("sync#{}#party#{}", self.scope, code.trim().to_ascii_uppercase())
    }

    fn unavailable(e: impl std::fmt::Display) -> StepError {
        StepError::retryable(format!("the supplier sync's memory (engine store) is unavailable: {e}"))
    }

    /// What the pair with `code` last agreed on.
    pub async fn agreed(&self, code: &str) -> Result<Option<Agreed>, StepError> {
        let c = self.store.get_cursor(&self.key(code)).await.map_err(Self::unavailable)?;
        Ok(c.and_then(|c| serde_json::from_str(&c.value).ok()))
    }

    /// Remember that both sides now hold these values.
    pub async fn record(&self, code: &str, fields: &[(Field, Option<String>)]) -> Result<(), StepError> {
        if fields.is_empty() {
            return Ok(());
        }
        let key = self.key(code);
        for _ in 0..64 {
            let cur = self.store.get_cursor(&key).await.map_err(Self::unavailable)?;
            let mut agreed: Agreed = cur.as_ref().and_then(|c| serde_json::from_str(&c.value).ok()).unwrap_or_default();
            let before = agreed.clone();
            for (f, v) in fields {
                agreed.insert(f.as_str().to_string(), v.clone());
            }
            if cur.is_some() && agreed == before {
                return Ok(());
            }
            let new = Cursor {
                flow: key.clone(),
                value: serde_json::to_string(&agreed).unwrap_or_default(),
                updated_at: self.clock.now(),
            };
            if self
                .store
                .cas_cursor(&key, cur.as_ref().map(|c| c.value.as_str()), &new)
                .await
                .map_err(Self::unavailable)?
            {
                return Ok(());
            }
        }
        Err(StepError::retryable(format!(
            "the supplier sync's memory of {code} is changed by too many workers at once; trying again"
        )))
    }
}

/// A supplier or vendor as one side of the sync sees it.
#[derive(Debug, Clone)]
pub struct Party<R> {
    pub tref: TargetRef,
    /// The shared code this record carries (`VendorID`; the Cin7 code attribute).
    pub code: Option<String>,
    pub fields: PartyFields,
    /// When it last changed.
    pub stamp: Option<DateTime<Utc>>,
    pub record: R,
}

/// A source record, mapped for the other side.
#[derive(Debug, Clone)]
pub struct SyncDoc<E> {
    /// The shared code (`None`: a Cin7 supplier not paired yet).
    pub code: Option<String>,
    /// The target record this pair is known to be (the stored pairing), when known.
    pub paired: Option<String>,
    pub fields: PartyFields,
    pub stamp: Option<DateTime<Utc>>,
    /// What creating it on the target side needs besides the fields.
    pub extra: E,
    /// `supplier Bayside Janitorial Supply (V10002)`.
    pub label: String,
}

/// One side of the sync: how its records are found, created and changed.
#[async_trait]
pub trait PartySide: Send + Sync + 'static {
    type Extra: Send + Sync + Clone + 'static;
    type Record: Send + Sync + Clone + 'static;
    fn spec(&self) -> &TargetSpec;
    /// `Cin7` / `Acumatica`, for messages.
    fn title(&self) -> &'static str;
    async fn find(&self, doc: &SyncDoc<Self::Extra>) -> Result<Option<Party<Self::Record>>, StepError>;
    async fn create(&self, doc: &SyncDoc<Self::Extra>) -> Result<Party<Self::Record>, StepError>;
    /// Write `fields` (their values in `merged`) and, when `set_code`, the shared code.
    async fn write(
        &self,
        doc: &SyncDoc<Self::Extra>,
        current: &Party<Self::Record>,
        merged: &PartyFields,
        fields: &[Field],
        set_code: bool,
    ) -> Result<Party<Self::Record>, StepError>;
}

/// The two-way sync as a target: compares, merges field by field with the agreed values, writes
/// only what one side changed, and remembers what both now hold.
pub struct SyncTarget<S: PartySide> {
    side: S,
    memory: SyncMemory,
    first: FirstSync,
    recheck: Duration,
    /// The source's system (`cin7` / `acumatica`) and title.
    source: (&'static str, &'static str),
}

impl<S: PartySide> SyncTarget<S> {
    pub fn new(side: S, memory: SyncMemory, opts: &SyncOptions, source: (&'static str, &'static str)) -> Self {
        SyncTarget {
            side,
            memory,
            first: opts.first_sync,
            recheck: Duration::from_secs(opts.conflict_recheck_secs),
            source,
        }
    }

    fn code_of(doc: &SyncDoc<S::Extra>, p: &Party<S::Record>) -> Option<String> {
        doc.code.clone().or_else(|| p.code.clone())
    }

    /// The record found carries no shared code yet: it gets this one.
    fn needs_code(doc: &SyncDoc<S::Extra>, p: &Party<S::Record>) -> bool {
        doc.code.is_some() && p.code.is_none()
    }

    /// The record found (by name) belongs to another pair: it carries another shared code. Never
    /// overwritten; a person tells the two apart.
    fn other_pair(&self, doc: &SyncDoc<S::Extra>, p: &Party<S::Record>) -> Result<(), StepError> {
        match (&doc.code, &p.code) {
            (Some(mine), Some(theirs)) if !mine.trim().eq_ignore_ascii_case(theirs.trim()) => {
                Err(StepError::permanent(format!(
                    "{}: the {} record with its name, {}, already carries the shared code {theirs}, not {mine}: \
                 two parties share a name — rename one of them, or correct the code in Cin7 ({}), then replay",
                    doc.label,
                    self.side.title(),
                    p.tref.display.as_deref().unwrap_or(&p.tref.id),
                    "its additional attribute"
                )))
            }
            _ => Ok(()),
        }
    }

    async fn plan(&self, doc: &SyncDoc<S::Extra>, p: &Party<S::Record>) -> Result<(Option<String>, Merge), StepError> {
        let code = Self::code_of(doc, p);
        let agreed = match &code {
            Some(c) => self.memory.agreed(c).await?,
            None => None,
        };
        let newer = match (doc.stamp, p.stamp) {
            (Some(a), Some(b)) => a > b,
            (Some(_), None) => true,
            _ => false,
        };
        let m = merge(&doc.fields, &p.fields, agreed.as_ref(), self.first, self.source.0, newer);
        if let Some(c) = &code {
            self.memory.record(c, &m.agreed).await?;
        }
        Ok((code, m))
    }

    fn conflict_error(&self, doc: &SyncDoc<S::Extra>, m: &Merge) -> StepError {
        let (src, tgt) = (self.source.1, self.side.title());
        let show = |v: &Option<String>| v.as_deref().map_or_else(|| "(empty)".to_string(), |s| format!("{s:?}"));
        let list: Vec<String> = m
            .conflicts
            .iter()
            .map(|c| match &c.agreed {
                Some(a) => format!(
                    "{}: {src} has {}, {tgt} has {} (both changed since they agreed on {})",
                    c.field.as_str(),
                    show(&c.source),
                    show(&c.target),
                    show(a)
                ),
                None => format!("{}: {src} has {}, {tgt} has {}", c.field.as_str(), show(&c.source), show(&c.target)),
            })
            .collect();
        let first = m.conflicts.iter().all(|c| c.agreed.is_none());
        let why = if first {
            "they differ and there is no earlier sync to tell which is the edit (option first_sync = \"hold\")"
        } else {
            "edited on both sides since the last sync"
        };
        let carried = if m.write.is_empty() {
            String::new()
        } else {
            format!(
                " The other fields were carried ({}).",
                m.write.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>().join(", ")
            )
        };
        StepError::retry_after(
            format!(
                "held for a person: {} — {why}: {}. Make the two agree by editing either side; ml-connector looks again in {} and syncs once they do.{carried}",
                doc.label,
                list.join("; "),
                human(self.recheck)
            ),
            self.recheck,
        )
    }
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s.is_multiple_of(3600) {
        format!("{} h", s / 3600)
    } else if s.is_multiple_of(60) {
        format!("{} min", s / 60)
    } else {
        format!("{s} s")
    }
}

#[async_trait]
impl<S: PartySide> Target for SyncTarget<S> {
    type Doc = SyncDoc<S::Extra>;

    fn spec(&self) -> &TargetSpec {
        self.side.spec()
    }

    fn natural_key(&self, doc: &Self::Doc) -> String {
        match &doc.code {
            Some(c) => format!("code:{}", c.trim().to_ascii_uppercase()),
            None => format!("name:{}", doc.fields.name.as_deref().unwrap_or("").to_lowercase()),
        }
    }

    fn facts(&self, doc: &Self::Doc) -> DocFacts {
        DocFacts { label: Some(doc.label.clone()), ..Default::default() }
    }

    async fn lookup(&self, doc: &Self::Doc) -> Result<Option<Found>, StepError> {
        let Some(p) = self.side.find(doc).await? else { return Ok(None) };
        self.other_pair(doc, &p)?;
        let (_, m) = self.plan(doc, &p).await?;
        let mut found =
            Found::new(p.tref.clone()).with_facts(DocFacts { label: p.tref.display.clone(), ..Default::default() });
        found.up_to_date = m.write.is_empty() && m.conflicts.is_empty() && !Self::needs_code(doc, &p);
        Ok(Some(found))
    }

    async fn create(&self, doc: &Self::Doc) -> Result<TargetRef, StepError> {
        let p = self.side.create(doc).await?;
        if let Some(code) = Self::code_of(doc, &p) {
            let all: Vec<(Field, Option<String>)> =
                Field::ALL.iter().map(|f| (*f, doc.fields.get(*f).map(str::to_string))).collect();
            self.memory.record(&code, &all).await?;
        }
        Ok(p.tref)
    }

    async fn update(&self, doc: &Self::Doc, existing: &TargetRef) -> Result<TargetRef, StepError> {
        let p = self.side.find(doc).await?.ok_or_else(|| {
            StepError::retryable(format!(
                "{} {} is gone since it was looked up",
                self.side.title(),
                existing.display.as_deref().unwrap_or(&existing.id)
            ))
        })?;
        self.other_pair(doc, &p)?;
        let (code, m) = self.plan(doc, &p).await?;
        let set_code = Self::needs_code(doc, &p);
        let mut tref = p.tref.clone();
        if !m.write.is_empty() || set_code {
            let mut merged = p.fields.clone();
            for (f, v) in &m.write {
                merged.set(*f, v.clone());
            }
            let fields: Vec<Field> = m.write.iter().map(|(f, _)| *f).collect();
            let written = self.side.write(doc, &p, &merged, &fields, set_code).await?;
            tref = written.tref;
            if let Some(c) = &code {
                self.memory.record(c, &m.write).await?;
            }
        }
        if !m.conflicts.is_empty() {
            return Err(self.conflict_error(doc, &m));
        }
        Ok(tref)
    }
}

/// Plan for a sync target's lookup: create, leave, or write.
pub fn sync_plan(found: Option<Found>) -> Plan {
    match found {
        None => Plan::Create,
        Some(f) if f.up_to_date => Plan::Matched(f.target),
        Some(f) => Plan::Update(f.target),
    }
}

/// A hash of the fields: the version of a record that carries no stamp.
pub fn fingerprint(f: &PartyFields) -> String {
    use sha2::Digest;
    let json = serde_json::to_vec(f).unwrap_or_default();
    sha2::Sha256::digest(&json).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The summary people see for a party.
pub fn party_summary(kind: &str, name: &str, code: Option<&str>) -> ItemSummary {
    ItemSummary {
        label: match code {
            Some(c) => format!("{kind} {name} ({c})"),
            None => format!("{kind} {name}"),
        },
        vendor: Some(name.to_string()),
        ..Default::default()
    }
}

/// A Cin7 supplier's fields.
pub fn supplier_fields(s: &Supplier) -> PartyFields {
    let contact = s.main_contact();
    let addr = s
        .addresses
        .iter()
        .find(|a| a.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case("business")) && a.default_for_type)
        .or_else(|| s.addresses.iter().find(|a| a.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case("business"))))
        .or(s.addresses.first());
    PartyFields::from_pairs([
        (Field::Name, Some(s.name.as_str())),
        (Field::Email, contact.and_then(|c| c.email.as_deref())),
        (Field::Phone, contact.and_then(|c| c.phone.as_deref())),
        (Field::Line1, addr.and_then(|a| a.line1.as_deref())),
        (Field::Line2, addr.and_then(|a| a.line2.as_deref())),
        (Field::City, addr.and_then(|a| a.city.as_deref())),
        (Field::State, addr.and_then(|a| a.state.as_deref())),
        (Field::Postcode, addr.and_then(|a| a.postcode.as_deref())),
        (Field::Country, addr.and_then(|a| a.country.as_deref())),
    ])
}

/// An Acumatica vendor's fields.
pub fn vendor_fields(v: &Vendor) -> PartyFields {
    let a = v.address.as_ref();
    PartyFields::from_pairs([
        (Field::Name, Some(v.name.as_str())),
        (Field::Email, v.email.as_deref()),
        (Field::Phone, v.phone.as_deref()),
        (Field::Line1, a.and_then(|a| a.line1.as_deref())),
        (Field::Line2, a.and_then(|a| a.line2.as_deref())),
        (Field::City, a.and_then(|a| a.city.as_deref())),
        (Field::State, a.and_then(|a| a.state.as_deref())),
        (Field::Postcode, a.and_then(|a| a.postal_code.as_deref())),
        (Field::Country, a.and_then(|a| a.country.as_deref())),
    ])
}

/// The shared code a Cin7 supplier carries.
pub fn supplier_code(s: &Supplier, attribute: &str) -> Option<String> {
    s.additional_attributes.iter().find(|(k, _)| k.eq_ignore_ascii_case(attribute)).and_then(|(_, v)| clean(Some(v)))
}

// ---------------------------------------------------------------------------------------------
// This half: Cin7 suppliers → Acumatica vendors

/// The options of `cin7-acumatica-vendors`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VendorSyncOptions {
    /// See [`SyncOptions`].
    pub code_attribute: u8,
    pub first_sync: FirstSync,
    pub conflict_recheck_secs: u64,
    pub page_size: u32,
    pub overlap_secs: u64,
    /// Vendor class of vendors created in Acumatica (default: the tenant's default class).
    pub vendor_class: Option<String>,
}

impl Default for VendorSyncOptions {
    fn default() -> Self {
        let s = SyncOptions::default();
        VendorSyncOptions {
            code_attribute: s.code_attribute,
            first_sync: s.first_sync,
            conflict_recheck_secs: s.conflict_recheck_secs,
            page_size: s.page_size,
            overlap_secs: s.overlap_secs,
            vendor_class: None,
        }
    }
}

impl VendorSyncOptions {
    /// The options both halves share.
    pub fn sync(&self) -> SyncOptions {
        SyncOptions {
            code_attribute: self.code_attribute,
            first_sync: self.first_sync,
            conflict_recheck_secs: self.conflict_recheck_secs,
            page_size: self.page_size,
            overlap_secs: self.overlap_secs,
        }
    }

    pub fn check(&self) -> Result<(), String> {
        self.sync().check()?;
        if self.vendor_class.as_deref().is_some_and(|c| c.trim().is_empty()) {
            return Err("vendor_class is empty: name an Acumatica vendor class, or leave it out".into());
        }
        Ok(())
    }
}

/// What creating an Acumatica vendor needs besides the fields.
#[derive(Debug, Clone, Default)]
pub struct VendorExtra {
    /// The code base for a new vendor (`HOLLISHARD`).
    pub code_base: String,
    pub class: Option<String>,
    pub terms: Option<String>,
    pub currency: Option<String>,
    pub tax_id: Option<String>,
}

/// Acumatica vendors as a side of the sync.
pub struct AcumaticaVendors(pub VendorTarget);

fn vendor_party(v: Vendor) -> Party<Vendor> {
    Party {
        tref: VendorTarget::tref(&v),
        code: Some(v.vendor_id.clone()),
        fields: vendor_fields(&v),
        stamp: v.last_modified,
        record: v,
    }
}

fn address_of(f: &PartyFields) -> Address {
    let v = |x: Field| Some(f.get(x).unwrap_or("").to_string());
    Address {
        line1: v(Field::Line1),
        line2: v(Field::Line2),
        city: v(Field::City),
        state: v(Field::State),
        postal_code: v(Field::Postcode),
        country: v(Field::Country),
    }
}

#[async_trait]
impl PartySide for AcumaticaVendors {
    type Extra = VendorExtra;
    type Record = Vendor;

    fn spec(&self) -> &TargetSpec {
        self.0.spec()
    }

    fn title(&self) -> &'static str {
        "Acumatica"
    }

    async fn find(&self, doc: &SyncDoc<VendorExtra>) -> Result<Option<Party<Vendor>>, StepError> {
        let name = doc.fields.name.as_deref().unwrap_or("");
        Ok(self.0.find(doc.code.as_deref(), name).await?.map(vendor_party))
    }

    async fn create(&self, doc: &SyncDoc<VendorExtra>) -> Result<Party<Vendor>, StepError> {
        let f = &doc.fields;
        let draft = VendorDraft {
            vendor_id: doc.code.clone().unwrap_or_default(),
            name: f.name.clone(),
            legal_name: None,
            status: Some(VendorStatus::Active),
            class: doc.extra.class.clone(),
            terms: doc.extra.terms.clone(),
            currency: doc.extra.currency.clone(),
            tax_registration_id: doc.extra.tax_id.clone(),
            payment_method: None,
            warehouse: None,
            email: f.email.clone(),
            phone: f.phone.clone(),
            address: f.has_address().then(|| {
                let mut a = address_of(f);
                // Unknown on a new record: leave Acumatica's defaults.
                for x in [&mut a.line1, &mut a.line2, &mut a.city, &mut a.state, &mut a.postal_code, &mut a.country] {
                    if x.as_deref() == Some("") {
                        *x = None;
                    }
                }
                a
            }),
        };
        Ok(vendor_party(self.0.create(&draft, &doc.extra.code_base).await?.into_record()))
    }

    async fn write(
        &self,
        _doc: &SyncDoc<VendorExtra>,
        current: &Party<Vendor>,
        merged: &PartyFields,
        fields: &[Field],
        _set_code: bool,
    ) -> Result<Party<Vendor>, StepError> {
        let has = |f: Field| fields.contains(&f);
        let text = |f: Field| has(f).then(|| merged.get(f).unwrap_or("").to_string());
        let draft = VendorDraft {
            vendor_id: current.record.vendor_id.clone(),
            name: text(Field::Name),
            email: text(Field::Email),
            phone: text(Field::Phone),
            address: fields.iter().any(Field::is_address).then(|| address_of(merged)),
            ..Default::default()
        };
        Ok(vendor_party(self.0.update(&draft).await?))
    }
}

fn build(ctx: &mut FlowContext<'_>) -> Result<(), BuildError> {
    let opts: VendorSyncOptions = ctx.options()?;
    opts.check().map_err(|e| BuildError(format!("options: {e}")))?;
    let cin7 = ctx.source_connection::<Cin7Connection>("cin7")?.client.clone();
    let acu = ctx.target_connection::<AcumaticaConnection>("acumatica")?.client.clone();
    let list = ListOptions {
        page_size: opts.sync().page_size,
        overlap: chrono::Duration::seconds(opts.sync().overlap_secs as i64),
    };
    let conn = ctx.settings.source.clone();
    let writer = cin7.clone();
    let source = ctx.source("supplier", || Ok(SupplierSource::new(&conn, cin7, list)))?;
    let scope = ctx.mapping_scope(&KIND);
    let memory = SyncMemory::new(ctx.engine.store.clone(), ctx.engine.clock.clone(), &scope);
    let side = AcumaticaVendors(VendorTarget::new(&ctx.settings.target, acu));
    let target = Arc::new(SyncTarget::new(side, memory, &opts.sync(), ("cin7", "Cin7")));
    let flow = Cin7AcumaticaVendors { name: ctx.name.to_string(), scope, opts, cin7: writer };
    ctx.add(flow, source, target)
}

/// The flow.
pub struct Cin7AcumaticaVendors {
    name: String,
    scope: String,
    opts: VendorSyncOptions,
    /// Writes the shared code back to a supplier that had none.
    cin7: Cin7Client,
}

/// `Hollis Hardware Distributors` → `HOLLISHARD`: a new vendor code's base, up to 10 capitals
/// from the name's first words (legal suffixes dropped).
pub fn code_base(name: &str) -> String {
    const SUFFIXES: [&str; 10] = ["INC", "LLC", "LTD", "CO", "CORP", "COMPANY", "PTY", "LLP", "PLC", "THE"];
    let words: Vec<String> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .map(str::to_ascii_uppercase)
        .filter(|w| !w.is_empty() && !SUFFIXES.contains(&w.as_str()))
        .collect();
    let mut out = String::new();
    for (i, w) in words.iter().enumerate() {
        let room = 10 - out.len();
        if room == 0 {
            break;
        }
        let take = if i + 1 == words.len() { room } else { room.min(6) };
        out.extend(w.chars().take(take));
    }
    out
}

#[async_trait]
impl FlowDef for Cin7AcumaticaVendors {
    type Source = SupplierSource;
    type Target = SyncTarget<AcumaticaVendors>;
    type Doc = Arc<Supplier>;

    fn describe(&self) -> FlowSpec {
        FlowSpec {
            name: self.name.clone(),
            kind: KIND.name.into(),
            mapping_scope: self.scope.clone(),
            description: KIND.description.into(),
            ..Default::default()
        }
    }

    fn documents(&self, record: &SourceRecord<Arc<Supplier>>) -> Vec<SourceDoc<Arc<Supplier>>> {
        let s = &record.record;
        let code = supplier_code(s, &self.opts.sync().attribute_key());
        // The stamp, not a hash of the fields: a field set back to an earlier value is a change too.
        let version = s.version().unwrap_or_else(|| fingerprint(&supplier_fields(s)));
        vec![SourceDoc {
            entity: "supplier".into(),
            id: s.id.clone(),
            version,
            summary: party_summary("supplier", &s.name, code.as_deref()),
            record: s.clone(),
        }]
    }

    fn eligibility(&self, doc: &SourceDoc<Arc<Supplier>>) -> Eligibility {
        if doc.record.is_active() {
            Eligibility::Eligible
        } else {
            Eligibility::skip(
                codes::DEPRECATED,
                format!(
                    "supplier {} is deprecated in Cin7: its Acumatica vendor is left as it is (re-activate the supplier to sync it again)",
                    doc.record.name
                ),
            )
        }
    }

    fn required_mappings(&self, doc: &SourceDoc<Arc<Supplier>>) -> Vec<MappingKey> {
        let mut keys = vec![MappingKey::new(&self.scope, MappingKind::VENDOR, &doc.record.id)];
        if let Some(t) = doc.record.payment_term.as_deref().filter(|t| !t.trim().is_empty()) {
            keys.push(MappingKey::new(&self.scope, MappingKind::TERMS, t));
        }
        keys
    }

    fn map(&self, doc: &SourceDoc<Arc<Supplier>>, set: &MappingSet) -> Result<SyncDoc<VendorExtra>, MapError> {
        let s = &doc.record;
        if s.name.trim().is_empty() {
            return Err(MapError::Invalid(format!("Cin7 supplier {} has no name: give it one in Cin7", s.id)));
        }
        let r = Resolver::new(set, &self.scope);
        let code = supplier_code(s, &self.opts.sync().attribute_key())
            .or_else(|| r.resolve_optional(MappingKind::VENDOR, &s.id));
        let terms = s.payment_term.as_deref().and_then(|t| r.resolve_optional(MappingKind::TERMS, t));
        Ok(SyncDoc {
            label: match &code {
                Some(c) => format!("supplier {} ({c})", s.name),
                None => format!("supplier {}", s.name),
            },
            code,
            paired: None,
            fields: supplier_fields(s),
            stamp: s.last_modified,
            extra: VendorExtra {
                code_base: code_base(&s.name),
                class: self.opts.vendor_class.clone(),
                terms,
                currency: s.currency.clone(),
                tax_id: s.tax_number.clone(),
            },
        })
    }

    fn plan(&self, _doc: &SyncDoc<VendorExtra>, found: Option<Found>) -> Plan {
        sync_plan(found)
    }

    fn pairings(&self, doc: &SourceDoc<Arc<Supplier>>, target: &TargetRef) -> Vec<(MappingKey, String)> {
        vec![
            (MappingKey::new(&self.scope, MappingKind::VENDOR, &doc.record.id), target.id.clone()),
            (
                MappingKey::new(&self.scope, crate::acumatica_cin7_suppliers::CIN7_SUPPLIER, &target.id),
                doc.record.id.clone(),
            ),
        ]
    }

    async fn after_settled(&self, doc: &SourceDoc<Arc<Supplier>>, target: &TargetRef) -> Result<(), StepError> {
        let attr = self.opts.sync().attribute_key();
        if supplier_code(&doc.record, &attr).is_some_and(|c| c.eq_ignore_ascii_case(&target.id)) {
            return Ok(());
        }
        let mut draft = SupplierDraft::default();
        draft.attributes.insert(self.opts.sync().code_attribute, target.id.clone());
        self.cin7.update_supplier(&doc.record.id, &draft).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str, email: &str, phone: &str) -> PartyFields {
        let mut f = PartyFields::default();
        f.set(Field::Name, Some(name.into()));
        f.set(Field::Email, Some(email.into()));
        f.set(Field::Phone, Some(phone.into()));
        f
    }

    fn agreed(f: &PartyFields) -> Agreed {
        Field::ALL.iter().map(|x| (x.as_str().to_string(), f.get(*x).map(str::to_string))).collect()
    }

    #[test]
    fn one_sided_changes_are_carried_and_both_sided_ones_held() {
        let base = p("Acme", "a@x.example", "1");
        // Cin7 changed the email, Acumatica the phone: the email goes to Acumatica, the phone is theirs.
        let cin7 = p("Acme", "b@x.example", "1");
        let acu = p("Acme", "a@x.example", "2");
        let m = merge(&cin7, &acu, Some(&agreed(&base)), FirstSync::Hold, "cin7", false);
        assert_eq!(m.write, vec![(Field::Email, Some("b@x.example".into()))]);
        assert_eq!(m.theirs, vec![Field::Phone]);
        assert!(m.conflicts.is_empty());
        assert!(m.agreed.iter().any(|(f, v)| *f == Field::Name && v.as_deref() == Some("Acme")));
        // Both changed the email differently: held, naming both values and the agreed one.
        let acu2 = p("Acme", "c@x.example", "1");
        let m = merge(&cin7, &acu2, Some(&agreed(&base)), FirstSync::Hold, "cin7", true);
        assert!(m.write.is_empty());
        assert_eq!(m.conflicts.len(), 1);
        assert_eq!(m.conflicts[0].agreed, Some(Some("a@x.example".into())));
        // Both changed it to the same value: agreed, nothing to write.
        let m = merge(&cin7, &cin7, Some(&agreed(&base)), FirstSync::Hold, "cin7", true);
        assert!(m.write.is_empty() && m.conflicts.is_empty() && m.theirs.is_empty());
    }

    #[test]
    fn a_first_sync_follows_the_option() {
        let (cin7, acu) = (p("Acme", "b@x.example", "1"), p("Acme", "a@x.example", "1"));
        assert_eq!(merge(&cin7, &acu, None, FirstSync::Hold, "cin7", true).conflicts.len(), 1);
        assert_eq!(merge(&cin7, &acu, None, FirstSync::Newest, "cin7", true).write.len(), 1);
        assert_eq!(merge(&cin7, &acu, None, FirstSync::Newest, "cin7", false).theirs, vec![Field::Email]);
        assert_eq!(merge(&cin7, &acu, None, FirstSync::Cin7, "cin7", false).write.len(), 1);
        assert_eq!(merge(&acu, &cin7, None, FirstSync::Cin7, "acumatica", true).theirs, vec![Field::Email]);
        // A field agreed before but never its neighbour: the agreed one follows the 3-way rule.
        let mut a = Agreed::new();
        a.insert("email".into(), Some("a@x.example".into()));
        assert_eq!(merge(&cin7, &acu, Some(&a), FirstSync::Hold, "cin7", false).write.len(), 1);
    }

    #[test]
    fn fields_normalise_so_both_systems_compare_alike() {
        let mut f = PartyFields::default();
        f.set(Field::Country, Some(" United States ".into()));
        f.set(Field::Line2, Some("   ".into()));
        assert_eq!((f.country.as_deref(), f.line2.as_deref()), (Some("US"), None));
        assert_eq!(country_code("usa"), "US");
        assert_eq!(country_code("de"), "DE");
        assert_eq!(country_code("Narnia"), "Narnia");
        assert_eq!(country_name("US"), "United States");
        assert_eq!(country_name("ZZ"), "ZZ");
    }

    #[test]
    fn new_codes_come_from_the_name() {
        assert_eq!(code_base("Hollis Hardware Distributors"), "HOLLISHARD");
        assert_eq!(code_base("The Acme Co."), "ACME");
        assert_eq!(code_base("Orchard Hill Accounting LLP"), "ORCHARHILL");
        assert_eq!(code_base("!!!"), "");
    }

    #[test]
    fn options_check_ranges_and_refuse_unknown_keys() {
        let o: VendorSyncOptions =
            serde_json::from_value(serde_json::json!({"first_sync": "newest", "code_attribute": 3})).unwrap();
        assert_eq!((o.first_sync, o.code_attribute), (FirstSync::Newest, 3));
        assert!(o.check().is_ok());
        let bad: VendorSyncOptions = serde_json::from_value(serde_json::json!({"code_attribute": 11})).unwrap();
        assert!(bad.check().unwrap_err().contains("code_attribute = 11"));
        assert!(
            parse_options::<VendorSyncOptions>(
                &[("first_synk".to_string(), serde_json::json!("x"))].into_iter().collect()
            )
            .is_err()
        );
    }
}
