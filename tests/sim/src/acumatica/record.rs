//! Records and their JSON form (fact sheet §3.1): stored values, rendering with `{"value": …}`
//! wrappers, `{}` for empty fields, system fields (`id`, `rowNumber`, `note`, `custom`,
//! `_links`), `$select`/`$expand`, Contract Version 4 and 5 shapes, and reading a PUT body.
//!
//! A record is stored generically (field name → [`Scalar`]) and described by its
//! [`Entity`](super::schema::Entity) in `schema.rs`, so the query engine, the renderer and the
//! parser work for every entity alike; what an entity *means* (defaults, validation, status)
//! lives in its resource module (`vendors.rs`, `bills.rs`, ...).
//!
//! Internal values a real tenant keeps but the contract does not show (a PO line's billed
//! quantity, say) are stored under names starting with `_` and never rendered.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Map, Value, json};

use super::schema::{Detail, Entity, Field, Linked, Ty, is_cv5};

/// A stored value. Drop-downs hold their internal code.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// Text (and drop-down codes).
    Str(String),
    /// A decimal.
    Dec(Decimal),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// An instant.
    Time(DateTime<Utc>),
    /// A date.
    Date(NaiveDate),
}

impl Scalar {
    /// As text (numbers and booleans formatted; dates ISO).
    pub fn text(&self) -> String {
        match self {
            Scalar::Str(s) => s.clone(),
            Scalar::Dec(d) => d.normalize().to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Time(t) => t.to_rfc3339(),
            Scalar::Date(d) => d.to_string(),
        }
    }
}

/// A linked entity, or the top level of a record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Obj {
    /// Its `id`.
    pub id: String,
    /// Field values.
    pub fields: BTreeMap<String, Scalar>,
    /// Linked entities.
    pub linked: BTreeMap<String, Obj>,
}

/// One detail line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    /// Its `id`.
    pub id: String,
    /// Field values.
    pub fields: BTreeMap<String, Scalar>,
}

/// One top-level record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record {
    /// The persistent `NoteID`, answered as `id` (stable across sessions) **[C]**.
    pub main: Obj,
    /// Detail collections by name.
    pub details: BTreeMap<String, Vec<Row>>,
    /// The `note` text.
    pub note: String,
}

/// Field access shared by objects and rows.
pub trait Values {
    /// The value map.
    fn map(&self) -> &BTreeMap<String, Scalar>;
    /// The value map, mutably.
    fn map_mut(&mut self) -> &mut BTreeMap<String, Scalar>;

    /// Text of a field ("" when empty).
    fn s(&self, k: &str) -> String {
        self.map().get(k).map(Scalar::text).unwrap_or_default()
    }
    /// A decimal field (0 when empty).
    fn d(&self, k: &str) -> Decimal {
        match self.map().get(k) {
            Some(Scalar::Dec(d)) => *d,
            Some(Scalar::Int(i)) => Decimal::from(*i),
            _ => Decimal::ZERO,
        }
    }
    /// An integer field.
    fn i(&self, k: &str) -> Option<i64> {
        match self.map().get(k) {
            Some(Scalar::Int(i)) => Some(*i),
            Some(Scalar::Dec(d)) => d.to_i64(),
            _ => None,
        }
    }
    /// A boolean field.
    fn b(&self, k: &str) -> Option<bool> {
        match self.map().get(k) {
            Some(Scalar::Bool(b)) => Some(*b),
            _ => None,
        }
    }
    /// A date field.
    fn date(&self, k: &str) -> Option<NaiveDate> {
        match self.map().get(k) {
            Some(Scalar::Date(d)) => Some(*d),
            Some(Scalar::Time(t)) => Some(t.date_naive()),
            _ => None,
        }
    }
    /// An instant field.
    fn time(&self, k: &str) -> Option<DateTime<Utc>> {
        match self.map().get(k) {
            Some(Scalar::Time(t)) => Some(*t),
            _ => None,
        }
    }
    /// Whether a field holds a non-blank value.
    fn has(&self, k: &str) -> bool {
        match self.map().get(k) {
            None => false,
            Some(Scalar::Str(s)) => !s.trim().is_empty(),
            Some(_) => true,
        }
    }
    /// Set a field.
    fn set(&mut self, k: &str, v: Scalar) {
        self.map_mut().insert(k.to_string(), v);
    }
    /// Set a text field.
    fn set_s(&mut self, k: &str, v: impl Into<String>) {
        self.set(k, Scalar::Str(v.into()));
    }
    /// Clear a field.
    fn clear(&mut self, k: &str) {
        self.map_mut().remove(k);
    }
}

impl Values for Obj {
    fn map(&self) -> &BTreeMap<String, Scalar> {
        &self.fields
    }
    fn map_mut(&mut self) -> &mut BTreeMap<String, Scalar> {
        &mut self.fields
    }
}

impl Values for Row {
    fn map(&self) -> &BTreeMap<String, Scalar> {
        &self.fields
    }
    fn map_mut(&mut self) -> &mut BTreeMap<String, Scalar> {
        &mut self.fields
    }
}

impl Record {
    /// The record's `id` (NoteID).
    pub fn id(&self) -> &str {
        &self.main.id
    }
    /// Rows of a detail collection.
    pub fn rows(&self, detail: &str) -> &[Row] {
        self.details.get(detail).map(Vec::as_slice).unwrap_or(&[])
    }
    /// Rows of a detail collection, mutably (created when absent).
    pub fn rows_mut(&mut self, detail: &str) -> &mut Vec<Row> {
        self.details.entry(detail.to_string()).or_default()
    }
}

impl Values for Record {
    fn map(&self) -> &BTreeMap<String, Scalar> {
        &self.main.fields
    }
    fn map_mut(&mut self) -> &mut BTreeMap<String, Scalar> {
        &mut self.main.fields
    }
}

/// A new GUID in Acumatica's lower-case form.
pub fn new_guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Field paths of `$select` or `$expand` (`MainContact/Address` → `["MainContact","Address"]`),
/// canonical spelling.
pub type Paths = Vec<Vec<String>>;

/// Errors to show in a 422 echo: entity-level, and per field path (`Vendor`,
/// `MainContact/Email`, `Details/2/Account` with the row index).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldErrors {
    /// On the entity itself.
    pub entity: Option<String>,
    /// Per path.
    pub fields: BTreeMap<String, String>,
}

impl FieldErrors {
    /// Add an error on a top-level field.
    pub fn field(&mut self, name: &str, msg: impl Into<String>) {
        self.fields.entry(name.to_string()).or_insert_with(|| msg.into());
    }
    /// Add an error on a detail line's field.
    pub fn line(&mut self, detail: &str, index: usize, name: &str, msg: impl Into<String>) {
        self.fields.entry(format!("{detail}/{index}/{name}")).or_insert_with(|| msg.into());
    }
    /// Add an error on a linked entity's field.
    pub fn linked(&mut self, path: &str, msg: impl Into<String>) {
        self.fields.entry(path.to_string()).or_insert_with(|| msg.into());
    }
    /// Whether nothing was found wrong.
    pub fn is_empty(&self) -> bool {
        self.entity.is_none() && self.fields.is_empty()
    }
    /// All messages, for logs and tests.
    pub fn messages(&self) -> Vec<String> {
        self.entity.iter().cloned().chain(self.fields.iter().map(|(k, v)| format!("{k}: {v}"))).collect()
    }
}

/// How to render.
#[derive(Debug, Clone)]
pub struct View<'a> {
    /// Version number (`24200`).
    pub version: u32,
    /// Tenant offset.
    pub offset: FixedOffset,
    /// `/<site>/entity/Default/<ver>` for `_links`.
    pub links_base: &'a str,
    /// `$select` (all fields when `None`).
    pub select: Option<&'a Paths>,
    /// `$expand`.
    pub expand: &'a Paths,
    /// Errors to show (422 echo).
    pub errors: Option<&'a FieldErrors>,
    /// Only these top-level fields (PUT `sent_only` echo), besides keys and `$select`.
    pub only: Option<&'a [String]>,
}

fn path_selected(select: Option<&Paths>, path: &[&str]) -> bool {
    let Some(sel) = select else { return true };
    sel.iter().any(|p| {
        let n = p.len().min(path.len());
        p[..n].iter().zip(&path[..n]).all(|(a, b)| a.eq_ignore_ascii_case(b))
    })
}

fn expanded(expand: &Paths, path: &[&str]) -> bool {
    expand.iter().any(|p| p.len() >= path.len() && p.iter().zip(path).all(|(a, b)| a.eq_ignore_ascii_case(b)))
}

/// A decimal as a JSON number (§3.1: `DecimalValue` is a number).
pub fn num(d: Decimal) -> Value {
    if d.fract().is_zero()
        && let Some(i) = d.to_i64()
    {
        return json!(i);
    }
    serde_json::Number::from_f64(d.to_f64().unwrap_or(0.0)).map(Value::Number).unwrap_or(Value::Null)
}

/// An instant with the tenant offset and milliseconds: `2025-06-16T10:30:00.123-04:00`.
pub fn fmt_time(t: DateTime<Utc>, offset: FixedOffset) -> String {
    t.with_timezone(&offset).format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
}

/// A date as CV4 writes it: midnight with the tenant offset.
pub fn fmt_date_cv4(d: NaiveDate, offset: FixedOffset) -> String {
    let mid = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    match offset.from_local_datetime(&mid).single() {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        None => format!("{d}T00:00:00+00:00"),
    }
}

/// The wrapped JSON of one value.
pub fn value_json(field: &Field, v: Option<&Scalar>, version: u32, offset: FixedOffset) -> Value {
    let Some(v) = v else { return json!({}) };
    let inner = match (field.ty, v) {
        (Ty::Drop(_), Scalar::Str(code)) => {
            let label = field.label_of(code);
            if is_cv5(version) { json!({"id": code, "description": label}) } else { json!(label) }
        }
        (_, Scalar::Str(s)) => json!(s),
        (_, Scalar::Dec(d)) => num(*d),
        (_, Scalar::Int(i)) => json!(i),
        (_, Scalar::Bool(b)) => json!(b),
        (Ty::Date, Scalar::Date(d)) => {
            if is_cv5(version) {
                json!(d.to_string())
            } else {
                json!(fmt_date_cv4(*d, offset))
            }
        }
        (_, Scalar::Date(d)) => json!(fmt_date_cv4(*d, offset)),
        (_, Scalar::Time(t)) => json!(fmt_time(*t, offset)),
    };
    json!({ "value": inner })
}

fn with_error(mut v: Value, err: Option<&String>) -> Value {
    if let (Some(e), Value::Object(m)) = (err, &mut v) {
        m.insert("error".into(), json!(e));
    }
    v
}

fn note_json(note: &str) -> Value {
    json!({ "value": note })
}

fn render_linked(l: &Linked, o: &Obj, path: &mut Vec<&'static str>, view: &View<'_>) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(o.id));
    m.insert("rowNumber".into(), json!(1));
    m.insert("note".into(), note_json(""));
    for f in l.fields {
        path.push(f.name);
        if path_selected(view.select, path) {
            let err = view.errors.and_then(|e| e.fields.get(&path.join("/")));
            m.insert(f.name.into(), with_error(value_json(f, o.fields.get(f.name), view.version, view.offset), err));
        }
        path.pop();
    }
    for sub in l.linked {
        path.push(sub.name);
        if expanded(view.expand, path)
            && let Some(so) = o.linked.get(sub.name)
        {
            m.insert(sub.name.into(), render_linked(sub, so, path, view));
        }
        path.pop();
    }
    m.insert("custom".into(), json!({}));
    Value::Object(m)
}

/// Render a detail row.
pub fn render_row(e: &Entity, d: &Detail, row: &Row, index: usize, view: &View<'_>) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(row.id));
    m.insert("rowNumber".into(), json!(index + 1));
    m.insert("note".into(), note_json(""));
    if let Some(err) = view.errors.and_then(|x| x.fields.get(&format!("{}/{index}", d.name))) {
        m.insert("error".into(), json!(err));
    }
    for f in d.fields.iter().filter(|f| f.in_version(view.version)) {
        if !path_selected(view.select, &[d.name, f.name]) {
            continue;
        }
        let err = view.errors.and_then(|x| x.fields.get(&format!("{}/{index}/{}", d.name, f.name)));
        m.insert(f.name.into(), with_error(value_json(f, row.fields.get(f.name), view.version, view.offset), err));
    }
    m.insert("custom".into(), json!({}));
    let (graph, _) = graph_of(e);
    m.insert(
        "_links".into(),
        json!({ "files:put": format!("{}/files/{graph}/Transactions/{}/{{filename}}", view.links_base, row.id) }),
    );
    Value::Object(m)
}

/// The graph and primary view behind an entity, for `_links`.
pub fn graph_of(e: &Entity) -> (&'static str, &'static str) {
    match e.name {
        "Vendor" => ("PX.Objects.AP.VendorMaint", "BAccount"),
        "Bill" => ("PX.Objects.AP.APInvoiceEntry", "Document"),
        "PurchaseOrder" => ("PX.Objects.PO.POOrderEntry", "Document"),
        "Account" => ("PX.Objects.GL.AccountMaint", "AccountRecords"),
        "Subaccount" => ("PX.Objects.GL.SubAccountMaint", "SubRecords"),
        _ => ("PX.Objects.CS.OrganizationMaint", "Filter"),
    }
}

/// Render a top-level record as the API answers it.
pub fn render(e: &Entity, r: &Record, row_number: usize, view: &View<'_>) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(r.main.id));
    m.insert("rowNumber".into(), json!(row_number));
    m.insert("note".into(), note_json(&r.note));
    if let Some(err) = view.errors.and_then(|x| x.entity.as_ref()) {
        m.insert("error".into(), json!(err));
    }
    for f in e.fields.iter().filter(|f| f.in_version(view.version)) {
        if !path_selected(view.select, &[f.name]) {
            continue;
        }
        if let Some(only) = view.only
            && !e.keys.contains(&f.name)
            && !only.iter().any(|o| o.eq_ignore_ascii_case(f.name))
            && view.select.is_none()
        {
            continue;
        }
        let err = view.errors.and_then(|x| x.fields.get(f.name));
        m.insert(f.name.into(), with_error(value_json(f, r.main.fields.get(f.name), view.version, view.offset), err));
    }
    for l in e.linked {
        if expanded(view.expand, &[l.name])
            && let Some(o) = r.main.linked.get(l.name)
        {
            let mut path = vec![l.name];
            m.insert(l.name.into(), render_linked(l, o, &mut path, view));
        }
    }
    for d in e.details {
        if expanded(view.expand, &[d.name]) {
            let rows: Vec<Value> =
                r.rows(d.name).iter().enumerate().map(|(i, row)| render_row(e, d, row, i, view)).collect();
            m.insert(d.name.into(), Value::Array(rows));
        }
    }
    m.insert("custom".into(), json!({}));
    let (graph, v) = graph_of(e);
    m.insert(
        "_links".into(),
        json!({
            "self": format!("{}/{}/{}", view.links_base, e.name, r.main.id),
            "files:put": format!("{}/files/{graph}/{v}/{}/{{filename}}", view.links_base, r.main.id),
        }),
    );
    Value::Object(m)
}

/// Why `$select`/`$expand` could not be read: the unknown name.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownField(pub String);

/// Parse `$expand` (`Details,MainContact/Address`) against an entity.
pub fn parse_expand(e: &Entity, text: &str) -> Result<Paths, UnknownField> {
    let mut out = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let parts: Vec<&str> = item.split('/').map(str::trim).collect();
        let mut canon = Vec::new();
        if let Some(d) = e.detail(parts[0]) {
            canon.push(d.name.to_string());
            if parts.len() > 1 && !parts[1].eq_ignore_ascii_case("files") {
                return Err(UnknownField(item.to_string()));
            }
        } else if parts[0].eq_ignore_ascii_case("files") {
            canon.push("files".to_string());
        } else {
            let mut l = e.linked(parts[0]).ok_or_else(|| UnknownField(item.to_string()))?;
            canon.push(l.name.to_string());
            for p in &parts[1..] {
                l = l.linked(p).ok_or_else(|| UnknownField(item.to_string()))?;
                canon.push(l.name.to_string());
            }
        }
        out.push(canon);
    }
    Ok(out)
}

/// Parse `$select` (`VendorID,MainContact/Email,Details/Account`) against an entity and version.
pub fn parse_select(e: &Entity, text: &str, version: u32) -> Result<Paths, UnknownField> {
    let mut out = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let parts: Vec<&str> = item.split('/').map(str::trim).collect();
        let unknown = || UnknownField(item.to_string());
        let canon: Vec<String> = if parts.len() == 1 {
            if let Some(f) = e.field(parts[0], version) {
                vec![f.name.to_string()]
            } else if let Some(d) = e.detail(parts[0]) {
                vec![d.name.to_string()]
            } else if let Some(l) = e.linked(parts[0]) {
                vec![l.name.to_string()]
            } else {
                return Err(unknown());
            }
        } else if let Some(d) = e.detail(parts[0]) {
            let f = d.field(parts[1], version).ok_or_else(unknown)?;
            if parts.len() > 2 {
                return Err(unknown());
            }
            vec![d.name.to_string(), f.name.to_string()]
        } else {
            let mut l = e.linked(parts[0]).ok_or_else(unknown)?;
            let mut c = vec![l.name.to_string()];
            for (i, p) in parts[1..].iter().enumerate() {
                if i + 2 == parts.len() {
                    match l.field(p) {
                        Some(f) => c.push(f.name.to_string()),
                        None => {
                            l = l.linked(p).ok_or_else(unknown)?;
                            c.push(l.name.to_string());
                        }
                    }
                } else {
                    l = l.linked(p).ok_or_else(unknown)?;
                    c.push(l.name.to_string());
                }
            }
            c
        };
        out.push(canon);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Reading values

/// Why a body could not be read at all: ASP.NET model binding refuses it with 400 and a
/// `modelState` naming the property.
#[derive(Debug, Clone, PartialEq)]
pub struct BindError {
    /// `entity.VendorName`.
    pub key: String,
    /// The converter's complaint.
    pub message: String,
}

/// How strictly to read values.
#[derive(Debug, Clone, Copy)]
pub struct ReadMode {
    /// Version number.
    pub version: u32,
    /// Tenant offset (for dates and zone-less datetimes).
    pub offset: FixedOffset,
    /// Seeding: read-only fields and ids are taken as given.
    pub seed: bool,
    /// Convert offset datetimes sent to date fields into the tenant zone first.
    pub convert_offset_dates: bool,
}

fn type_name(ty: Ty) -> &'static str {
    match ty {
        Ty::Str => "StringValue",
        Ty::Dec => "DecimalValue",
        Ty::Int => "IntValue",
        Ty::Bool => "BooleanValue",
        Ty::Time | Ty::Date => "DateTimeValue",
        Ty::Guid => "GuidValue",
        Ty::Drop(_) => "StringValue",
    }
}

/// Parse a datetime as Acumatica accepts it: RFC 3339 with an offset, or zone-less (tenant
/// time), with 0–7 fraction digits; or a bare date.
pub fn parse_datetime(s: &str, offset: FixedOffset) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, fmt) {
            return offset.from_local_datetime(&n).single().map(|t| t.with_timezone(&Utc));
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| offset.from_local_datetime(&d.and_hms_opt(0, 0, 0)?).single())
        .map(|t| t.with_timezone(&Utc))
}

/// Parse a value sent for a date field.
pub fn parse_date(s: &str, mode: &ReadMode) -> Option<NaiveDate> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(if mode.convert_offset_dates {
            t.with_timezone(&mode.offset).date_naive()
        } else {
            t.date_naive()
        });
    }
    let head = s.get(..10)?;
    NaiveDate::parse_from_str(head, "%Y-%m-%d").ok()
}

/// The outcome of reading one wrapped value: a value (or `None` for an explicit null), or a
/// problem to show on the field in a 422 (an unknown drop-down label).
#[derive(Debug, Clone, PartialEq)]
pub enum Read {
    /// The value (`None`: cleared).
    Value(Option<Scalar>),
    /// Not acceptable for this field.
    Invalid(String),
}

/// Read one field's wrapper `{"value": …}`.
pub fn read_value(field: &Field, key: &str, raw: &Value, mode: &ReadMode, codes: bool) -> Result<Read, BindError> {
    let bind = |msg: String| BindError { key: key.to_string(), message: msg };
    let Value::Object(w) = raw else {
        return Err(bind(format!(
            "Error converting value {raw} to type 'PX.Api.ContractBased.Models.{}'.",
            type_name(field.ty)
        )));
    };
    let Some(v) = w.get("value") else { return Ok(Read::Value(None)) };
    if v.is_null() {
        return Ok(Read::Value(None));
    }
    let conv = |what: &str| bind(format!("Could not convert {v} to {what}."));
    let scalar = match field.ty {
        Ty::Str | Ty::Guid => match v {
            Value::String(s) => Scalar::Str(s.clone()),
            Value::Number(n) => Scalar::Str(n.to_string()),
            Value::Bool(b) => Scalar::Str(b.to_string()),
            _ => return Err(conv("String")),
        },
        Ty::Dec => {
            let t = match v {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.trim().to_string(),
                _ => return Err(conv("Decimal")),
            };
            Scalar::Dec(t.parse::<Decimal>().or_else(|_| Decimal::from_scientific(&t)).map_err(|_| conv("Decimal"))?)
        }
        Ty::Int => match v {
            Value::Number(n) => Scalar::Int(n.as_i64().ok_or_else(|| conv("Int32"))?),
            Value::String(s) => Scalar::Int(s.trim().parse().map_err(|_| conv("Int32"))?),
            _ => return Err(conv("Int32")),
        },
        Ty::Bool => match v {
            Value::Bool(b) => Scalar::Bool(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Scalar::Bool(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Scalar::Bool(false),
            _ => return Err(conv("Boolean")),
        },
        Ty::Time => match v {
            Value::String(s) => Scalar::Time(parse_datetime(s, mode.offset).ok_or_else(|| conv("DateTime"))?),
            _ => return Err(conv("DateTime")),
        },
        Ty::Date => match v {
            Value::String(s) => Scalar::Date(parse_date(s, mode).ok_or_else(|| conv("DateTime"))?),
            _ => return Err(conv("DateTime")),
        },
        Ty::Drop(list) => {
            let text = if is_cv5(mode.version) {
                // CV5 sends {"value":{"id":"CL"}} [C].
                match v {
                    Value::Object(o) => o.get("id").and_then(Value::as_str).unwrap_or_default().to_string(),
                    Value::String(s) if mode.seed => s.clone(),
                    _ => {
                        return Ok(Read::Invalid(format!(
                            "{} expects {{\"id\": \"<code>\"}} in this contract version; got {v}",
                            field.name
                        )));
                    }
                }
            } else {
                match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => return Err(conv("String")),
                }
            };
            if text.trim().is_empty() {
                return Ok(Read::Value(None));
            }
            let by_code = codes || is_cv5(mode.version) || mode.seed;
            match field.code_of(&text, by_code) {
                Some(c) => Scalar::Str(c.to_string()),
                None => {
                    let labels: Vec<&str> = list.iter().map(|(_, l)| *l).collect();
                    return Ok(Read::Invalid(format!(
                        "The value '{text}' is not valid for {}. Valid values: {}.",
                        field.name,
                        labels.join(", ")
                    )));
                }
            }
        }
    };
    Ok(Read::Value(Some(scalar)))
}

/// Changes a PUT body asks for, on one object (the top level or a linked entity).
#[derive(Debug, Clone, Default)]
pub struct ObjChange {
    /// `id` sent.
    pub id: Option<String>,
    /// Field values sent (`None`: cleared).
    pub fields: Vec<(&'static Field, Option<Scalar>)>,
    /// Linked entities sent.
    pub linked: Vec<(&'static Linked, ObjChange)>,
    /// Values refused (drop-down not in the list): field path → message.
    pub invalid: Vec<(String, String)>,
}

impl ObjChange {
    /// The value sent for a field (`Some(None)`: cleared).
    pub fn get(&self, name: &str) -> Option<Option<&Scalar>> {
        self.fields.iter().find(|(f, _)| f.name == name).map(|(_, v)| v.as_ref())
    }
}

/// One detail line of a PUT body.
#[derive(Debug, Clone, Default)]
pub struct RowChange {
    /// `id` of an existing line.
    pub id: Option<String>,
    /// `"delete": true`.
    pub delete: bool,
    /// Field values sent.
    pub fields: Vec<(&'static Field, Option<Scalar>)>,
    /// Values refused.
    pub invalid: Vec<(String, String)>,
}

impl RowChange {
    /// The value sent for a field.
    pub fn get(&self, name: &str) -> Option<Option<&Scalar>> {
        self.fields.iter().find(|(f, _)| f.name == name).map(|(_, v)| v.as_ref())
    }
}

/// A whole PUT body, read.
#[derive(Debug, Clone, Default)]
pub struct Change {
    /// Top level.
    pub main: ObjChange,
    /// Details sent, by collection.
    pub details: Vec<(&'static Detail, Vec<RowChange>)>,
    /// `note` sent.
    pub note: Option<String>,
    /// Top-level field names sent (for the `sent_only` echo).
    pub sent: Vec<String>,
}

impl Change {
    /// Rows sent for a collection.
    pub fn rows(&self, name: &str) -> Option<&[RowChange]> {
        self.details.iter().find(|(d, _)| d.name == name).map(|(_, r)| r.as_slice())
    }
}

const SYSTEM_KEYS: &[&str] = &["id", "rowNumber", "note", "custom", "_links", "error", "delete", "files"];

fn read_obj(
    fields: &'static [Field],
    linked: &'static [Linked],
    m: &Map<String, Value>,
    prefix: &str,
    mode: &ReadMode,
    codes: bool,
    version_ok: &dyn Fn(&Field) -> bool,
) -> Result<ObjChange, BindError> {
    let mut out = ObjChange { id: m.get("id").and_then(Value::as_str).map(str::to_string), ..Default::default() };
    for (k, v) in m {
        if SYSTEM_KEYS.iter().any(|s| s.eq_ignore_ascii_case(k)) {
            continue;
        }
        let key = format!("{prefix}{k}");
        if let Some(f) = fields.iter().find(|f| f.name.eq_ignore_ascii_case(k) && version_ok(f)) {
            if f.read_only && !mode.seed {
                continue;
            }
            match read_value(f, &key, v, mode, codes)? {
                Read::Value(x) => out.fields.push((f, x)),
                Read::Invalid(msg) => out.invalid.push((format!("{prefix}{}", f.name).replace('.', "/"), msg)),
            }
        } else if let Some(l) = linked.iter().find(|l| l.name.eq_ignore_ascii_case(k)) {
            let Value::Object(sub) = v else {
                return Err(BindError { key, message: format!("Expected an object for {}.", l.name) });
            };
            let p = format!("{prefix}{}/", l.name);
            let ch = read_obj(l.fields, l.linked, sub, &p, mode, codes, &|_| true)?;
            out.linked.push((l, ch));
        }
        // Unknown names are ignored, as Json.NET model binding does [I].
    }
    Ok(out)
}

/// Read a PUT body against an entity.
pub fn read_body(e: &'static Entity, body: &Value, mode: &ReadMode, codes: bool) -> Result<Change, BindError> {
    let Value::Object(m) = body else {
        return Err(BindError { key: "entity".into(), message: "The request body must be a JSON object.".into() });
    };
    let v = mode.version;
    let main = read_obj(e.fields, e.linked, m, "", mode, codes, &|f| f.in_version(v))?;
    let mut details = Vec::new();
    for d in e.details {
        let Some((k, raw)) = m.iter().find(|(k, _)| k.eq_ignore_ascii_case(d.name)) else { continue };
        let Value::Array(items) = raw else {
            return Err(BindError { key: k.clone(), message: format!("Expected an array for {}.", d.name) });
        };
        let mut rows = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let Value::Object(rm) = item else {
                return Err(BindError { key: format!("{}[{i}]", d.name), message: "Expected an object.".into() });
            };
            let mut rc = RowChange {
                id: rm.get("id").and_then(Value::as_str).map(str::to_string),
                delete: rm.get("delete").and_then(Value::as_bool).unwrap_or(false),
                ..Default::default()
            };
            for (k, val) in rm {
                if SYSTEM_KEYS.iter().any(|s| s.eq_ignore_ascii_case(k)) {
                    continue;
                }
                let Some(f) = d.field(k, v) else { continue };
                if f.read_only && !mode.seed {
                    continue;
                }
                match read_value(f, &format!("{}[{i}].{k}", d.name), val, mode, codes)? {
                    Read::Value(x) => rc.fields.push((f, x)),
                    Read::Invalid(msg) => rc.invalid.push((f.name.to_string(), msg)),
                }
            }
            rows.push(rc);
        }
        details.push((d, rows));
    }
    let note = match m.get("note") {
        Some(Value::Object(n)) => n.get("value").and_then(Value::as_str).map(str::to_string),
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    let sent = m.keys().filter(|k| !SYSTEM_KEYS.contains(&k.as_str())).cloned().collect();
    Ok(Change { main, details, note, sent })
}

/// Apply an object change onto `o` (values only; meaning is the resource module's job).
pub fn apply_obj(o: &mut Obj, ch: &ObjChange) {
    for (f, v) in &ch.fields {
        match v {
            Some(x) => {
                o.fields.insert(f.name.to_string(), x.clone());
            }
            None => {
                o.fields.remove(f.name);
            }
        }
    }
    for (l, sub) in &ch.linked {
        let target = o
            .linked
            .entry(l.name.to_string())
            .or_insert_with(|| Obj { id: sub.id.clone().unwrap_or_else(new_guid), ..Default::default() });
        apply_obj(target, sub);
    }
}

/// Apply detail changes with the contract's merge rules **[C: DOC; I: merge]**: a line with an
/// `id` updates that line (or is removed with `delete: true`), a line without one is added,
/// untouched lines stay. Returns the indexes of the rows that were sent (after the change),
/// parallel to the request's lines (`None` for a deleted one), or the id that matched nothing.
pub fn apply_rows(rows: &mut Vec<Row>, changes: &[RowChange]) -> Result<Vec<Option<usize>>, String> {
    let mut out = Vec::with_capacity(changes.len());
    for ch in changes {
        match &ch.id {
            Some(id) => {
                let pos = rows.iter().position(|r| r.id.eq_ignore_ascii_case(id)).ok_or_else(|| id.clone())?;
                if ch.delete {
                    rows.remove(pos);
                    out.iter_mut().for_each(|x: &mut Option<usize>| {
                        if let Some(i) = x
                            && *i > pos
                        {
                            *i -= 1;
                        }
                    });
                    out.push(None);
                } else {
                    for (f, v) in &ch.fields {
                        match v {
                            Some(x) => rows[pos].fields.insert(f.name.to_string(), x.clone()),
                            None => rows[pos].fields.remove(f.name),
                        };
                    }
                    out.push(Some(pos));
                }
            }
            None if ch.delete => out.push(None),
            None => {
                let mut r = Row { id: new_guid(), fields: BTreeMap::new() };
                for (f, v) in &ch.fields {
                    if let Some(x) = v {
                        r.fields.insert(f.name.to_string(), x.clone());
                    }
                }
                rows.push(r);
                out.push(Some(rows.len() - 1));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::schema::{BILL, VENDOR};
    use super::*;

    fn mode(version: u32) -> ReadMode {
        ReadMode { version, offset: FixedOffset::west_opt(4 * 3600).unwrap(), seed: false, convert_offset_dates: false }
    }

    #[test]
    fn values_render_wrapped_with_empty_objects_and_shapes_per_version() {
        let off = FixedOffset::west_opt(4 * 3600).unwrap();
        let status = BILL.field("Status", 24_200).unwrap();
        let code = Scalar::Str("H".into());
        assert_eq!(value_json(status, Some(&code), 24_200, off), json!({"value": "On Hold"}));
        assert_eq!(
            value_json(status, Some(&code), 26_200, off),
            json!({"value": {"id": "H", "description": "On Hold"}})
        );
        assert_eq!(value_json(status, None, 24_200, off), json!({}));
        let date = BILL.field("Date", 24_200).unwrap();
        let d = Scalar::Date(NaiveDate::from_ymd_opt(2025, 3, 1).unwrap());
        assert_eq!(value_json(date, Some(&d), 24_200, off), json!({"value": "2025-03-01T00:00:00-04:00"}));
        assert_eq!(value_json(date, Some(&d), 26_200, off), json!({"value": "2025-03-01"}));
        let amount = BILL.field("Amount", 24_200).unwrap();
        assert_eq!(
            value_json(amount, Some(&Scalar::Dec(Decimal::new(20173, 2))), 24_200, off),
            json!({"value": 201.73})
        );
        let t = Utc.with_ymd_and_hms(2025, 6, 16, 14, 30, 0).unwrap();
        assert_eq!(fmt_time(t, off), "2025-06-16T10:30:00.000-04:00");
    }

    #[test]
    fn bodies_read_with_bind_errors_and_invalid_drop_downs() {
        let body = json!({"Type": {"value": "Bill"}, "Vendor": {"value": "V1"}, "Hold": {"value": false},
            "Date": {"value": "2025-03-01T00:00:00+00:00"}, "Status": {"value": "Open"},
            "Details": [{"Qty": {"value": 2}, "UnitCost": {"value": "12.50"}}, {"id": "x", "delete": true}]});
        let ch = read_body(&BILL, &body, &mode(24_200), true).unwrap();
        assert_eq!(ch.main.get("Type"), Some(Some(&Scalar::Str("INV".into()))));
        assert!(ch.main.get("Status").is_none(), "read-only fields are ignored");
        assert_eq!(ch.main.get("Date"), Some(Some(&Scalar::Date(NaiveDate::from_ymd_opt(2025, 3, 1).unwrap()))));
        let rows = ch.rows("Details").unwrap();
        assert_eq!(rows[0].get("UnitCost"), Some(Some(&Scalar::Dec(Decimal::new(1250, 2)))));
        assert!(rows[1].delete && rows[1].id.as_deref() == Some("x"));
        let e = read_body(&VENDOR, &json!({"VendorName": "Acme"}), &mode(24_200), true).unwrap_err();
        assert_eq!(e.key, "VendorName");
        let ch = read_body(&BILL, &json!({"Type": {"value": "Invoice"}}), &mode(24_200), true).unwrap();
        assert!(ch.main.invalid[0].1.contains("Valid values: Bill"), "{:?}", ch.main.invalid);
        let ch = read_body(&BILL, &json!({"Type": {"value": "Bill"}}), &mode(26_200), true).unwrap();
        assert!(!ch.main.invalid.is_empty(), "CV5 wants an id object");
        let ch = read_body(&BILL, &json!({"Type": {"value": {"id": "ADR"}}}), &mode(26_200), true).unwrap();
        assert_eq!(ch.main.get("Type"), Some(Some(&Scalar::Str("ADR".into()))));
    }

    #[test]
    fn rows_merge() {
        let mut rows = vec![Row { id: "a".into(), ..Default::default() }, Row { id: "b".into(), ..Default::default() }];
        let q = BILL.detail("Details").unwrap().field("Qty", 24_200).unwrap();
        let ch = vec![
            RowChange { id: Some("a".into()), delete: true, ..Default::default() },
            RowChange {
                id: Some("b".into()),
                fields: vec![(q, Some(Scalar::Dec(Decimal::ONE)))],
                ..Default::default()
            },
            RowChange { fields: vec![(q, Some(Scalar::Dec(Decimal::TWO)))], ..Default::default() },
        ];
        let idx = apply_rows(&mut rows, &ch).unwrap();
        assert_eq!(idx, vec![None, Some(0), Some(1)]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].d("Qty"), Decimal::ONE);
        assert!(apply_rows(&mut rows, &[RowChange { id: Some("zz".into()), ..Default::default() }]).is_err());
    }
}
