//! Vantagepoint list queries (fact sheet §4): paging, projection, ordering and filterHash.
//!
//! - `limit=N` or `pageSize=N` (count); `offset=K` (0-based) or `page=P` (1-based, with a size)
//!   **[C: DOC Pagination]**; `q.maxrows=N` caps rows **[C-code]**. No envelope, no count **[C]**.
//! - `fieldFilter=A,B` keeps only those columns **[C]**; `order=Col_D` / `Col_A` / `Col`, comma
//!   separated **[C]**.
//! - `filterHash[i][name|value|opp|type|condition|seq|tablename]` **[C-code]**; operators `=`,
//!   `!=`, `like`, `>=`, `<=`, `>`, `<` and SCJ's `eq ne gt lt ge le in`; an omitted `opp` is
//!   equality; `[condition]` `AND`/`OR` joins a clause to the previous one (evaluated in `seq`
//!   order, else index order).
//! - Comparison follows SQL Server's default collation: case-insensitive, trailing blanks ignored
//!   — so `""` matches `" "` (blank matches blank **[C-code]**); a blank value compared with a
//!   number reads as 0 (SQL's `'' → 0`); `[type]=datetime` or two date-looking values compare as
//!   dates. `like` uses `%`/`_`; without wildcards it means "contains" (switch
//!   `like_adds_wildcards` **[I]**). A column the table lacks answers "Invalid column name 'X'."
//!   (switch `unknown_filter_column_errors` **[I]**).
//! - Query parameter names are matched case-insensitively **[I]**.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::errors::{ApiError, msg};
use super::model::parse_date;
use super::switches::DeltekSwitches;
use crate::common::json::{get_ci, scalar_text};

/// Decoded query parameters, in order.
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    /// Parse a raw query string (`+` is a space, `%xx` decoded).
    pub fn parse(raw: &str) -> Self {
        Params(url::form_urlencoded::parse(raw.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }

    /// First value of a parameter, name matched case-insensitively.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Whether a parameter is present.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    fn get_usize(&self, name: &str) -> Result<Option<usize>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if v.trim().is_empty() => Ok(None),
            Some(v) => v
                .trim()
                .parse::<usize>()
                .map(Some)
                .map_err(|_| ApiError::bad(format!("The value '{v}' is not valid for {name}."))),
        }
    }
}

/// One filterHash clause.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Clause {
    /// Index in the query (`filterHash[i]`).
    pub index: i64,
    /// Column name.
    pub name: String,
    /// Value as text.
    pub value: String,
    /// Operator as sent (`=` when omitted).
    pub opp: String,
    /// `[type]`, e.g. `datetime`.
    pub kind: String,
    /// `AND` / `OR` joining this clause to the previous one.
    pub condition: String,
    /// `[seq]`, when sent.
    pub seq: Option<i64>,
}

/// Parse the filterHash clauses of a query.
pub fn parse_filter_hash(p: &Params) -> Result<Vec<Clause>, ApiError> {
    let mut clauses: Vec<Clause> = Vec::new();
    for (k, v) in &p.0 {
        let lower = k.to_ascii_lowercase();
        let Some(rest) = lower.strip_prefix("filterhash[") else { continue };
        let Some((idx, rest)) = rest.split_once(']') else { continue };
        let Some(field) = rest.strip_prefix('[').and_then(|r| r.strip_suffix(']')) else { continue };
        let index: i64 = idx.trim().parse().map_err(|_| ApiError::bad(format!("Invalid filterHash index '{idx}'.")))?;
        let pos = match clauses.iter().position(|c| c.index == index) {
            Some(p) => p,
            None => {
                clauses.push(Clause { index, opp: "=".into(), condition: "AND".into(), ..Clause::default() });
                clauses.len() - 1
            }
        };
        let c = &mut clauses[pos];
        match field {
            "name" => c.name = v.clone(),
            "value" => c.value = v.clone(),
            "opp" | "op" | "operator" => c.opp = if v.trim().is_empty() { "=".into() } else { v.trim().to_string() },
            "type" => c.kind = v.clone(),
            "condition" => c.condition = v.trim().to_ascii_uppercase(),
            "seq" => c.seq = v.trim().parse().ok(),
            _ => {} // [tablename] and anything else only qualify the column
        }
    }
    clauses.retain(|c| !c.name.trim().is_empty());
    clauses.sort_by_key(|c| (c.seq.unwrap_or(c.index), c.index));
    Ok(clauses)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Like,
    In,
}

fn op_of(s: &str) -> Result<Op, ApiError> {
    Ok(match s.trim().to_ascii_lowercase().as_str() {
        "=" | "==" | "eq" => Op::Eq,
        "!=" | "<>" | "ne" => Op::Ne,
        ">" | "gt" => Op::Gt,
        ">=" | "ge" => Op::Ge,
        "<" | "lt" => Op::Lt,
        "<=" | "le" => Op::Le,
        "like" => Op::Like,
        "in" => Op::In,
        other => return Err(ApiError::bad(format!("Invalid operator '{other}'."))),
    })
}

fn looks_like_date(s: &str) -> bool {
    let b = s.trim().as_bytes();
    (b.len() >= 10 && b[4] == b'-' && b[7] == b'-') || (b.len() == 10 && b[2] == b'/' && b[5] == b'/')
}

/// Compare a row value with a filter value the way SQL Server would.
pub fn compare(row: &Value, value: &str, kind: &str) -> Option<Ordering> {
    let dated = kind.eq_ignore_ascii_case("datetime") || kind.eq_ignore_ascii_case("date");
    match row {
        Value::Number(n) => {
            let lhs = n.as_f64()?;
            let rhs = if value.trim().is_empty() { 0.0 } else { value.trim().parse::<f64>().ok()? };
            lhs.partial_cmp(&rhs)
        }
        _ => {
            let text = scalar_text(row);
            if dated || (looks_like_date(&text) && looks_like_date(value)) {
                match (parse_date(&text), parse_date(value)) {
                    (Some(a), Some(b)) => return Some(a.cmp(&b)),
                    (None, None) => return Some(Ordering::Equal),
                    (None, Some(_)) => return Some(Ordering::Less),
                    (Some(_), None) if value.trim().is_empty() => return Some(Ordering::Greater),
                    _ => {}
                }
            }
            let a = text.trim_end().to_lowercase();
            let b = value.trim_end().to_lowercase();
            Some(a.cmp(&b))
        }
    }
}

/// SQL `LIKE` with `%` and `_`, case-insensitive.
pub fn like(text: &str, pattern: &str) -> bool {
    let t: Vec<char> = text.trim_end().to_lowercase().chars().collect();
    let p: Vec<char> = pattern.trim_end().to_lowercase().chars().collect();
    fn m(t: &[char], p: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('%') => (0..=t.len()).any(|i| m(&t[i..], &p[1..])),
            Some('_') => !t.is_empty() && m(&t[1..], &p[1..]),
            Some(c) => t.first() == Some(c) && m(&t[1..], &p[1..]),
        }
    }
    m(&t, &p)
}

fn clause_matches(row: &Map<String, Value>, c: &Clause, sw: &DeltekSwitches) -> Result<bool, ApiError> {
    let v = get_ci(row, c.name.trim()).cloned().unwrap_or(Value::Null);
    let op = op_of(&c.opp)?;
    Ok(match op {
        Op::Like => {
            let text = scalar_text(&v);
            if sw.like_adds_wildcards && !c.value.contains(['%', '_']) {
                text.to_lowercase().contains(&c.value.trim().to_lowercase())
            } else {
                like(&text, &c.value)
            }
        }
        Op::In => c.value.split(',').any(|part| compare(&v, part.trim(), &c.kind) == Some(Ordering::Equal)),
        _ => {
            let ord = compare(&v, &c.value, &c.kind);
            match (op, ord) {
                (Op::Ne, None) => true,
                (_, None) => false,
                (Op::Eq, Some(o)) => o == Ordering::Equal,
                (Op::Ne, Some(o)) => o != Ordering::Equal,
                (Op::Gt, Some(o)) => o == Ordering::Greater,
                (Op::Ge, Some(o)) => o != Ordering::Less,
                (Op::Lt, Some(o)) => o == Ordering::Less,
                (Op::Le, Some(o)) => o != Ordering::Greater,
                (Op::Like | Op::In, _) => false,
            }
        }
    })
}

/// Apply filterHash, `order`, paging, `q.maxrows` and `fieldFilter` to rows. `columns` are the
/// table's column names (for unknown-column errors).
pub fn apply(
    rows: Vec<Map<String, Value>>,
    p: &Params,
    columns: &[String],
    sw: &DeltekSwitches,
) -> Result<Vec<Value>, ApiError> {
    let clauses = parse_filter_hash(p)?;
    let mut usable = Vec::new();
    for c in clauses {
        let known = columns.iter().any(|k| k.eq_ignore_ascii_case(c.name.trim()));
        if !known {
            if sw.unknown_filter_column_errors {
                return Err(ApiError::bad(msg::invalid_column(c.name.trim())));
            }
            usable.push(Clause { opp: "in".into(), value: "\u{0}never".into(), ..c });
            continue;
        }
        op_of(&c.opp)?;
        usable.push(c);
    }
    let mut out = Vec::new();
    for row in rows {
        let mut keep = true;
        for (i, c) in usable.iter().enumerate() {
            let m = clause_matches(&row, c, sw)?;
            keep = if i == 0 {
                m
            } else if c.condition == "OR" {
                keep || m
            } else {
                keep && m
            };
        }
        if keep {
            out.push(row);
        }
    }

    if let Some(order) = p.get("order").filter(|o| !o.trim().is_empty()) {
        let keys: Vec<(String, bool)> = order
            .split(',')
            .map(|k| {
                let k = k.trim();
                let lower = k.to_ascii_lowercase();
                if lower.ends_with("_d") {
                    (k[..k.len() - 2].to_string(), true)
                } else if lower.ends_with("_a") {
                    (k[..k.len() - 2].to_string(), false)
                } else if lower.ends_with(" desc") {
                    (k[..k.len() - 5].trim().to_string(), true)
                } else {
                    (k.to_string(), false)
                }
            })
            .collect();
        out.sort_by(|a, b| {
            for (k, desc) in &keys {
                let av = get_ci(a, k).cloned().unwrap_or(Value::Null);
                let bv = get_ci(b, k).cloned().unwrap_or(Value::Null);
                let o = compare(&av, &scalar_text(&bv), "").unwrap_or(Ordering::Equal);
                let o = if *desc { o.reverse() } else { o };
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
    }

    let size = match p.get_usize("limit")? {
        Some(n) => Some(n),
        None => p.get_usize("pageSize")?,
    };
    let start = match p.get_usize("offset")? {
        Some(o) => o,
        None => match (p.get_usize("page")?, size) {
            (Some(page), Some(size)) => page.saturating_sub(1) * size,
            _ => 0,
        },
    };
    let mut rows: Vec<Map<String, Value>> = out.into_iter().skip(start).collect();
    if let Some(n) = size
        && n > 0
    {
        rows.truncate(n);
    }
    if let Some(n) = p.get_usize("q.maxrows")? {
        rows.truncate(n);
    }

    Ok(project(rows.into_iter().map(Value::Object).collect(), p))
}

/// `fieldFilter=A,B`: keep only those columns (names case-insensitive). Also shapes the echo of
/// a POST/PUT **[C]**.
pub fn project(rows: Vec<Value>, p: &Params) -> Vec<Value> {
    let Some(cols) = p
        .get("fieldFilter")
        .filter(|f| !f.trim().is_empty())
        .map(|f| f.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect::<Vec<String>>())
    else {
        return rows;
    };
    rows.into_iter()
        .map(|row| match row {
            Value::Object(row) => {
                let mut m = Map::new();
                for c in &cols {
                    if let Some((k, v)) = row.iter().find(|(k, _)| k.eq_ignore_ascii_case(c)) {
                        m.insert(k.clone(), v.clone());
                    }
                }
                Value::Object(m)
            }
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows() -> Vec<Map<String, Value>> {
        vec![
            json!({"Vendor":"ACME","WBS2":" ","Amount":100.5,"TransDate":"2025-06-01T00:00:00.000","Name":"Acme Supply"}),
            json!({"Vendor":"BOLT","WBS2":"01","Amount":20,"TransDate":"2025-06-10T00:00:00.000","Name":"Bolt Rentals"}),
            json!({"Vendor":"CEDAR","WBS2":"","Amount":0,"TransDate":"2025-05-20T00:00:00.000","Name":"Cedar Survey"}),
        ]
        .into_iter()
        .map(|v| v.as_object().cloned().unwrap_or_default())
        .collect()
    }

    fn cols() -> Vec<String> {
        ["Vendor", "WBS2", "Amount", "TransDate", "Name"].iter().map(|s| s.to_string()).collect()
    }

    fn run(q: &str) -> Vec<String> {
        apply(rows(), &Params::parse(q), &cols(), &DeltekSwitches::default())
            .expect("ok")
            .iter()
            .map(|r| r["Vendor"].as_str().unwrap_or("").to_string())
            .collect()
    }

    #[test]
    fn operators() {
        assert_eq!(run("filterHash[0][name]=vendor&filterHash[0][value]=acme&filterHash[0][opp]=%3D"), ["ACME"]);
        assert_eq!(run("filterHash[0][name]=WBS2&filterHash[0][value]=&filterHash[0][opp]=%3D"), ["ACME", "CEDAR"]);
        assert_eq!(run("filterHash[0][name]=WBS2&filterHash[0][value]=&filterHash[0][opp]=!%3D"), ["BOLT"]);
        assert_eq!(
            run("filterHash[0][name]=Amount&filterHash[0][value]=20&filterHash[0][opp]=%3E%3D"),
            ["ACME", "BOLT"]
        );
        assert_eq!(run("filterHash[0][name]=Amount&filterHash[0][value]=20&filterHash[0][opp]=%3E"), ["ACME"]);
        assert_eq!(run("filterHash[0][name]=Amount&filterHash[0][value]=20&filterHash[0][opp]=%3C"), ["CEDAR"]);
        assert_eq!(
            run("filterHash[0][name]=Amount&filterHash[0][value]=20&filterHash[0][opp]=%3C%3D"),
            ["BOLT", "CEDAR"]
        );
        assert_eq!(run("filterHash[0][name]=Name&filterHash[0][value]=rent&filterHash[0][opp]=like"), ["BOLT"]);
        assert_eq!(run("filterHash[0][name]=Name&filterHash[0][value]=c%25&filterHash[0][opp]=like"), ["CEDAR"]);
        assert_eq!(run("filterHash[0][name]=Vendor&filterHash[0][value]=BOLT"), ["BOLT"]);
        assert_eq!(
            run(
                "filterHash[0][name]=TransDate&filterHash[0][value]=2025-06-01&filterHash[0][opp]=%3E%3D&filterHash[0][type]=datetime&filterHash[1][name]=TransDate&filterHash[1][value]=2025-06-10&filterHash[1][opp]=%3C"
            ),
            ["ACME"]
        );
        assert_eq!(
            run(
                "filterHash[0][name]=Vendor&filterHash[0][value]=ACME&filterHash[1][name]=Vendor&filterHash[1][value]=BOLT&filterHash[1][condition]=OR"
            ),
            ["ACME", "BOLT"]
        );
        assert_eq!(
            run("filterHash[0][name]=Vendor&filterHash[0][value]=ACME,CEDAR&filterHash[0][opp]=in"),
            ["ACME", "CEDAR"]
        );
    }

    #[test]
    fn paging_order_projection() {
        assert_eq!(run("order=Amount_D"), ["ACME", "BOLT", "CEDAR"]);
        assert_eq!(run("order=TransDate"), ["CEDAR", "ACME", "BOLT"]);
        assert_eq!(run("limit=2&offset=1"), ["BOLT", "CEDAR"]);
        assert_eq!(run("pageSize=2&page=2"), ["CEDAR"]);
        assert_eq!(run("pagesize=1&PAGE=2"), ["BOLT"]);
        assert_eq!(run("q.maxrows=1"), ["ACME"]);
        let r = apply(rows(), &Params::parse("fieldFilter=vendor,Amount"), &cols(), &DeltekSwitches::default())
            .expect("ok");
        assert_eq!(r[0], json!({"Vendor":"ACME","Amount":100.5}));
    }

    #[test]
    fn unknown_column_and_operator() {
        let e = apply(
            rows(),
            &Params::parse("filterHash[0][name]=Nope&filterHash[0][value]=1"),
            &cols(),
            &DeltekSwitches::default(),
        );
        assert_eq!(e, Err(ApiError::bad("Invalid column name 'Nope'.")));
        let e = apply(
            rows(),
            &Params::parse("filterHash[0][name]=Vendor&filterHash[0][value]=1&filterHash[0][opp]=~"),
            &cols(),
            &DeltekSwitches::default(),
        );
        assert!(e.is_err());
    }
}
