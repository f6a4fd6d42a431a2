//! Coupa's query language over rendered records (fact sheet §4).
//!
//! `GET /api/{resource}?<attribute>[<operator>]=<value>&…`: conditions are ANDed; an attribute may
//! go through associations (`supplier[name]=Fishy`, `order_lines[account][code]=a-c`; a
//! collection matches when any element does); `-` and `_` are the same in names
//! (`updated-at[gt]` = `updated_at[gt]`). Operators: none (exact), `contains`, `starts_with`,
//! `ends_with` (not for datetimes), `gt`, `lt`, `gt_or_eq`, `lt_or_eq`, `not_eq`, `in`,
//! `not_in` (comma lists), `blank` (`true`/`false`; not for datetimes). A date without time in a
//! query is midnight UTC.
//!
//! Standard parameters: `limit` (default and maximum 50; more is capped, or refused with the
//! `limit_over_max` switch), `offset` (0-based skip), `order_by` + `dir` (`asc`|`desc`; default
//! id ascending), `fields` (a JSON array, nested objects for associations, `{"custom_fields":{}}`
//! for all custom fields; names with `_` or `-`, answers always kebab-case), `return_object`
//! (`limited` → ids, `shallow` → own attributes and one-deep ids/natural keys), `filter` (an
//! admin-defined API response filter by name).
//!
//! Filtering runs on the records as the API writes them (associations embedded in full), so
//! every path a client can read is a path it can filter on.

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::state::ApiError;
use super::switches::{LimitOverMax, UnknownFilter};

/// Coupa's page size cap.
pub const MAX_LIMIT: usize = 50;

/// The operators (§4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Contains,
    StartsWith,
    EndsWith,
    Gt,
    Lt,
    GtOrEq,
    LtOrEq,
    NotEq,
    In,
    NotIn,
    Blank,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "contains" => Op::Contains,
            "starts_with" => Op::StartsWith,
            "ends_with" => Op::EndsWith,
            "gt" => Op::Gt,
            "lt" => Op::Lt,
            "gt_or_eq" => Op::GtOrEq,
            "lt_or_eq" => Op::LtOrEq,
            "not_eq" => Op::NotEq,
            "in" => Op::In,
            "not_in" => Op::NotIn,
            "blank" => Op::Blank,
            _ => return None,
        })
    }
}

/// One condition: a path of normalised names, an operator and the raw value.
#[derive(Debug, Clone, PartialEq)]
pub struct Cond {
    /// As written, for error messages.
    pub key: String,
    pub path: Vec<String>,
    pub op: Op,
    pub value: String,
}

/// What `return_object` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnObject {
    Limited,
    Shallow,
    None,
}

/// A parsed request: conditions, paging, ordering and shape.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub conds: Vec<Cond>,
    pub limit: usize,
    pub offset: usize,
    pub order_by: Option<String>,
    pub desc: bool,
    pub fields: Option<Vec<Value>>,
    pub return_object: Option<ReturnObject>,
    pub filter: Option<String>,
    pub show_deleted_lines: bool,
    /// The raw pairs, for handlers that read their own parameters (`exported` on PUT).
    pub raw: Vec<(String, String)>,
}

/// Parameters that are not conditions.
const RESERVED: [&str; 9] =
    ["limit", "offset", "order_by", "dir", "fields", "return_object", "filter", "show_deleted_lines", "exported"];

/// A name as Coupa's JSON writes it: kebab-case.
pub fn norm(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace('_', "-")
}

/// Split `supplier[name][contains]` into `["supplier", "name", "contains"]`.
fn segments(key: &str) -> Result<Vec<String>, String> {
    let (head, mut rest) = match key.find('[') {
        Some(i) => (&key[..i], &key[i..]),
        None => (key, ""),
    };
    let mut out = vec![head.to_string()];
    while !rest.is_empty() {
        let Some(stripped) = rest.strip_prefix('[') else { return Err(format!("'{key}' is not a valid attribute")) };
        let Some(end) = stripped.find(']') else { return Err(format!("'{key}' has an unclosed '['")) };
        out.push(stripped[..end].to_string());
        rest = &stripped[end + 1..];
    }
    if out.iter().any(|s| s.trim().is_empty()) {
        return Err(format!("'{key}' has an empty attribute name"));
    }
    Ok(out)
}

impl Query {
    /// Parse a raw query string. `for_list` parses conditions (GET on a collection); show and
    /// write requests only read the standard parameters.
    pub fn parse(raw_query: &str, limit_mode: LimitOverMax, for_list: bool) -> Result<Query, ApiError> {
        let raw: Vec<(String, String)> =
            url::form_urlencoded::parse(raw_query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        let mut q = Query { limit: MAX_LIMIT, raw: raw.clone(), ..Query::default() };
        for (k, v) in &raw {
            let lk = k.trim().to_ascii_lowercase();
            match lk.as_str() {
                "limit" => {
                    let n: i64 = v.trim().parse().map_err(|_| ApiError::bad(format!("limit '{v}' is not a number")))?;
                    q.limit = if n <= 0 {
                        MAX_LIMIT
                    } else if n as usize > MAX_LIMIT {
                        match limit_mode {
                            LimitOverMax::Cap => MAX_LIMIT,
                            LimitOverMax::Error => {
                                return Err(ApiError::bad(format!("limit may not be more than {MAX_LIMIT}")));
                            }
                        }
                    } else {
                        n as usize
                    };
                }
                "offset" => {
                    let n: i64 =
                        v.trim().parse().map_err(|_| ApiError::bad(format!("offset '{v}' is not a number")))?;
                    if n < 0 {
                        return Err(ApiError::bad("offset may not be negative"));
                    }
                    q.offset = n as usize;
                }
                "order_by" => q.order_by = Some(norm(v)),
                "dir" => {
                    q.desc = match v.trim().to_ascii_lowercase().as_str() {
                        "asc" => false,
                        "desc" => true,
                        _ => return Err(ApiError::bad(format!("dir must be asc or desc, not '{v}'"))),
                    }
                }
                "fields" => {
                    let parsed: Value = serde_json::from_str(v)
                        .map_err(|e| ApiError::bad(format!("fields is not a JSON array: {e}")))?;
                    match parsed {
                        Value::Array(a) => q.fields = Some(a),
                        _ => return Err(ApiError::bad("fields must be a JSON array")),
                    }
                }
                "return_object" => {
                    q.return_object = Some(match v.trim().to_ascii_lowercase().as_str() {
                        "limited" => ReturnObject::Limited,
                        "shallow" => ReturnObject::Shallow,
                        "none" => ReturnObject::None,
                        _ => {
                            return Err(ApiError::bad(format!(
                                "return_object must be limited, shallow or none, not '{v}'"
                            )));
                        }
                    })
                }
                "filter" => q.filter = Some(v.trim().to_string()),
                "show_deleted_lines" => q.show_deleted_lines = v.trim().eq_ignore_ascii_case("true"),
                _ if !for_list => {}
                _ if RESERVED.contains(&lk.as_str()) && lk != "exported" => {}
                _ => {
                    let mut segs = segments(k.trim()).map_err(ApiError::bad)?;
                    let op = match segs.last().and_then(|s| Op::parse(&s.to_ascii_lowercase())) {
                        Some(op) if segs.len() > 1 => {
                            segs.pop();
                            op
                        }
                        _ => Op::Eq,
                    };
                    let path = segs.iter().map(|s| norm(s)).collect();
                    q.conds.push(Cond { key: k.clone(), path, op, value: v.clone() });
                }
            }
        }
        Ok(q)
    }

    /// A parameter's first value (case-insensitive key).
    pub fn param(&self, key: &str) -> Option<&str> {
        self.raw.iter().find(|(k, _)| k.trim().eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str())
    }

    /// Apply conditions, order and paging to rendered records. `unknown` decides what a
    /// condition on an attribute the records do not have does.
    pub fn select(&self, records: Vec<Value>, unknown: UnknownFilter) -> Result<Vec<Value>, ApiError> {
        let conds: Vec<&Cond> = match records.first() {
            Some(sample) => {
                let mut keep = Vec::new();
                for c in &self.conds {
                    if known_path(sample, &c.path) {
                        keep.push(c);
                    } else if unknown == UnknownFilter::Error {
                        return Err(ApiError::bad(format!("Unknown attribute {} in query", c.key)));
                    }
                }
                keep
            }
            None => self.conds.iter().collect(),
        };
        let mut rows = Vec::new();
        for r in records {
            let mut ok = true;
            for c in &conds {
                if !matches(&r, c)? {
                    ok = false;
                    break;
                }
            }
            if ok {
                rows.push(r);
            }
        }
        let key = self.order_by.clone().unwrap_or_else(|| "id".into());
        if let Some(sample) = rows.first()
            && key != "id"
            && sample.get(&key).is_none()
        {
            return Err(ApiError::bad(format!("order_by: unknown attribute {key}")));
        }
        rows.sort_by(|a, b| {
            let o = compare_values(a.get(&key), b.get(&key)).then_with(|| compare_values(a.get("id"), b.get("id")));
            if self.desc { o.reverse() } else { o }
        });
        Ok(rows.into_iter().skip(self.offset).take(self.limit).collect())
    }
}

/// Whether a path exists on a sample record (arrays: on their first element; nulls and empty
/// arrays cannot tell, so they pass).
fn known_path(v: &Value, path: &[String]) -> bool {
    let Some((head, rest)) = path.split_first() else { return true };
    match v {
        Value::Object(m) => match m.get(head) {
            Some(next) => known_path(next, rest),
            None => false,
        },
        Value::Array(a) => a.first().is_none_or(|x| known_path(x, path)),
        _ => true,
    }
}

/// Every value a path reaches (collections flattened).
fn values_at<'a>(v: &'a Value, path: &[String], out: &mut Vec<&'a Value>) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| values_at(x, path, out)),
        _ => match path.split_first() {
            None => out.push(v),
            Some((head, rest)) => {
                if let Some(next) = v.get(head) {
                    values_at(next, rest, out);
                }
            }
        },
    }
}

/// A datetime in a query: full ISO 8601 with zone, or without zone / date only meaning UTC.
pub fn parse_query_time(s: &str) -> Option<DateTime<Utc>> {
    let t = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(n) = chrono::NaiveDateTime::parse_from_str(t, f) {
            return Some(n.and_utc());
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|n| n.and_utc())
}

/// A record's datetime value (always written with an offset or `Z`).
fn record_time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|d| d.with_timezone(&Utc))
}

fn as_decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => n.to_string().parse().ok(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Compare a record value with a query value: datetimes as instants, numbers numerically,
/// booleans by name, text case-insensitively. `Err` when the query value cannot be a value of
/// that attribute (a bad date).
fn compare_to(rec: &Value, q: &str, key: &str) -> Result<Option<Ordering>, ApiError> {
    let rec = match rec {
        Value::Object(m) => match m.get("id") {
            Some(id) => id,
            None => return Ok(None),
        },
        other => other,
    };
    if let Some(t) = record_time(rec) {
        let Some(qt) = parse_query_time(q) else {
            return Err(ApiError::bad(format!("{key}: '{q}' is not a date or datetime")));
        };
        return Ok(Some(t.cmp(&qt)));
    }
    match rec {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(match q.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Some(b.cmp(&true)),
            "false" | "0" => Some(b.cmp(&false)),
            _ => None,
        }),
        Value::Number(_) => Ok(match (as_decimal(rec), q.trim().parse::<Decimal>().ok()) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => None,
        }),
        Value::String(s) => {
            if let (Ok(a), Ok(b)) = (s.trim().parse::<Decimal>(), q.trim().parse::<Decimal>()) {
                return Ok(Some(a.cmp(&b)));
            }
            Ok(Some(s.to_lowercase().cmp(&q.to_lowercase())))
        }
        _ => Ok(None),
    }
}

fn matches(record: &Value, c: &Cond) -> Result<bool, ApiError> {
    let mut vals = Vec::new();
    values_at(record, &c.path, &mut vals);
    let is_time = vals.iter().any(|v| record_time(v).is_some());
    match c.op {
        Op::Blank => {
            if is_time {
                return Err(ApiError::bad(format!("{}: blank cannot be used on a datetime", c.key)));
            }
            let want = match c.value.trim().to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(ApiError::bad(format!("{}: blank takes true or false", c.key))),
            };
            let blank = vals.is_empty() || vals.iter().all(|v| v.is_null() || v.as_str().is_some_and(str::is_empty));
            Ok(blank == want)
        }
        Op::Contains | Op::StartsWith | Op::EndsWith => {
            if is_time {
                return Err(ApiError::bad(format!("{}: this operator cannot be used on a datetime", c.key)));
            }
            let q = c.value.to_lowercase();
            Ok(vals.iter().filter_map(|v| text(v)).any(|t| {
                let t = t.to_lowercase();
                match c.op {
                    Op::Contains => t.contains(&q),
                    Op::StartsWith => t.starts_with(&q),
                    _ => t.ends_with(&q),
                }
            }))
        }
        Op::In | Op::NotIn => {
            let mut any = false;
            for item in c.value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                for v in &vals {
                    if compare_to(v, item, &c.key)? == Some(Ordering::Equal) {
                        any = true;
                    }
                }
            }
            Ok(if c.op == Op::In { any } else { !any })
        }
        Op::NotEq => {
            for v in &vals {
                if compare_to(v, &c.value, &c.key)? == Some(Ordering::Equal) {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Op::Eq | Op::Gt | Op::Lt | Op::GtOrEq | Op::LtOrEq => {
            for v in &vals {
                let hit = match compare_to(v, &c.value, &c.key)? {
                    None => false,
                    Some(o) => match c.op {
                        Op::Eq => o == Ordering::Equal,
                        Op::Gt => o == Ordering::Greater,
                        Op::Lt => o == Ordering::Less,
                        Op::GtOrEq => o != Ordering::Less,
                        _ => o != Ordering::Greater,
                    },
                };
                if hit {
                    return Ok(true);
                }
            }
            Ok(false)
        }
    }
}

/// Order of two record values (nulls first).
fn compare_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    let a = a.filter(|v| !v.is_null());
    let b = b.filter(|v| !v.is_null());
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => {
            if let (Some(x), Some(y)) = (record_time(a), record_time(b)) {
                return x.cmp(&y);
            }
            if let (Some(x), Some(y)) = (as_decimal(a), as_decimal(b)) {
                return x.cmp(&y);
            }
            text(a).unwrap_or_default().to_lowercase().cmp(&text(b).unwrap_or_default().to_lowercase())
        }
    }
}

/// Keep only the requested fields (`fields=[…]`). Unknown names are ignored; answers stay
/// kebab-case whatever spelling was asked for.
pub fn project(v: &Value, fields: &[Value]) -> Value {
    let Value::Object(src) = v else { return v.clone() };
    let mut out = Map::new();
    for f in fields {
        match f {
            Value::String(name) => {
                let k = norm(name);
                if let Some(x) = src.get(&k) {
                    out.insert(k, x.clone());
                }
            }
            Value::Object(assocs) => {
                for (name, sub) in assocs {
                    let k = norm(name);
                    let Some(x) = src.get(&k) else { continue };
                    let shaped = match sub {
                        Value::Array(inner) if !inner.is_empty() => match x {
                            Value::Array(items) => Value::Array(items.iter().map(|i| project(i, inner)).collect()),
                            Value::Object(_) => project(x, inner),
                            other => other.clone(),
                        },
                        // `{"custom_fields": {}}` (or an empty list): all of it.
                        _ => x.clone(),
                    };
                    out.insert(k, shaped);
                }
            }
            _ => {}
        }
    }
    Value::Object(out)
}

/// `return_object=limited|shallow` shapes.
pub fn reduce(v: &Value, how: ReturnObject) -> Value {
    let Value::Object(src) = v else { return v.clone() };
    match how {
        ReturnObject::Limited => {
            let mut m = Map::new();
            if let Some(id) = src.get("id") {
                m.insert("id".into(), id.clone());
            }
            Value::Object(m)
        }
        ReturnObject::Shallow | ReturnObject::None => {
            let mut m = Map::new();
            for (k, x) in src {
                let shaped = match x {
                    Value::Object(o) if k != "custom-fields" => natural_key(o),
                    Value::Array(items) => Value::Array(
                        items
                            .iter()
                            .map(|i| match i {
                                Value::Object(o) => natural_key(o),
                                other => other.clone(),
                            })
                            .collect(),
                    ),
                    other => other.clone(),
                };
                m.insert(k.clone(), shaped);
            }
            Value::Object(m)
        }
    }
}

/// `{id, <natural key>}` of an embedded association.
fn natural_key(o: &Map<String, Value>) -> Value {
    let mut m = Map::new();
    for k in ["id", "code", "number", "name", "login", "po-number", "invoice-number", "remit-to-code"] {
        if let Some(v) = o.get(k) {
            m.insert(k.into(), v.clone());
        }
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn recs() -> Vec<Value> {
        vec![
            json!({"id": 1, "status": "approved", "updated-at": "2025-06-01T10:00:00-07:00", "total": "10.00",
                   "supplier": {"id": 7, "name": "Fishy Co"}, "invoice-lines": [{"account": {"code": "a-c"}}], "note": null}),
            json!({"id": 2, "status": "voided", "updated-at": "2025-06-02T10:00:00-07:00", "total": "9.50",
                   "supplier": {"id": 8, "name": "Acme"}, "invoice-lines": [{"account": {"code": "b-d"}}], "note": "x"}),
            json!({"id": 3, "status": "approved", "updated-at": "2025-06-03T10:00:00-07:00", "total": "100",
                   "supplier": {"id": 7, "name": "Fishy Co"}, "invoice-lines": [], "note": ""}),
        ]
    }

    fn ids(q: &str) -> Vec<i64> {
        let q = Query::parse(q, LimitOverMax::Cap, true).expect("parse");
        q.select(recs(), UnknownFilter::Error).expect("select").iter().filter_map(|v| v["id"].as_i64()).collect()
    }

    #[test]
    fn operators_associations_and_spelling() {
        assert_eq!(ids("status=approved"), [1, 3]);
        assert_eq!(ids("status[in]=voided,approved&supplier[name][contains]=fish"), [1, 3]);
        assert_eq!(ids("supplier[id]=8"), [2]);
        assert_eq!(ids("supplier=7"), [1, 3]);
        assert_eq!(ids("invoice_lines[account][code]=a-c"), [1]);
        assert_eq!(ids("updated_at[gt]=2025-06-01T17:00:00Z"), [2, 3]);
        assert_eq!(ids("updated-at[gt_or_eq]=2025-06-01T17:00:00Z"), [1, 2, 3]);
        assert_eq!(ids("updated-at[lt]=2025-06-02"), [1]);
        assert_eq!(ids("total[gt]=9.75"), [1, 3]);
        assert_eq!(ids("status[not_eq]=approved"), [2]);
        assert_eq!(ids("status[not_in]=voided"), [1, 3]);
        assert_eq!(ids("note[blank]=true"), [1, 3]);
        assert_eq!(ids("supplier[name][starts_with]=ac"), [2]);
        assert_eq!(ids("order_by=total&dir=desc"), [3, 1, 2]);
        assert_eq!(ids("order_by=updated_at&dir=desc&limit=1&offset=1"), [2]);
        assert_eq!(ids("offset=10"), Vec::<i64>::new());
    }

    #[test]
    fn bad_queries_say_what_is_wrong() {
        let bad = |q: &str| {
            let parsed = Query::parse(q, LimitOverMax::Error, true);
            match parsed {
                Err(e) => e.messages.join(" "),
                Ok(q) => q.select(recs(), UnknownFilter::Error).unwrap_err().messages.join(" "),
            }
        };
        assert!(bad("colour=red").contains("Unknown attribute colour"));
        assert!(bad("limit=51").contains("50"));
        assert!(bad("updated-at[contains]=2025").contains("datetime"));
        assert!(bad("updated-at[gt]=soon").contains("not a date"));
        assert!(bad("fields=id").contains("JSON array"));
        assert!(bad("dir=up").contains("asc or desc"));
        let q = Query::parse("colour=red&limit=99", LimitOverMax::Cap, true).unwrap();
        assert_eq!(q.limit, 50);
        assert_eq!(q.select(recs(), UnknownFilter::Ignore).unwrap().len(), 3);
    }

    #[test]
    fn fields_and_return_object_shape_answers() {
        let r = &recs()[0];
        let f: Vec<Value> = serde_json::from_str(
            r#"["id","updated_at",{"supplier":["name"]},{"invoice_lines":[{"account":["code"]}]}]"#,
        )
        .unwrap();
        assert_eq!(
            project(r, &f),
            json!({"id": 1, "updated-at": "2025-06-01T10:00:00-07:00", "supplier": {"name": "Fishy Co"},
                   "invoice-lines": [{"account": {"code": "a-c"}}]})
        );
        assert_eq!(reduce(r, ReturnObject::Limited), json!({"id": 1}));
        assert_eq!(reduce(r, ReturnObject::Shallow)["supplier"], json!({"id": 7, "name": "Fishy Co"}));
    }
}
