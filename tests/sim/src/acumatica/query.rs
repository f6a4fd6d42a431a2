//! `$filter` (fact sheet §3.2): OData v3 as the contract-based API reads it.
//!
//! Supported **[C]**: `eq ne gt ge lt le`, `and or not`, parentheses, `substringof('x',F)`,
//! `startswith(F,'x')`, `endswith(F,'x')`, linked paths (`MainContact/Email`), literals `'text'`
//! (with `''` for a quote), numbers (with the `M`/`m`/`d`/`L` suffixes), `true`/`false`/`null`,
//! `datetimeoffset'…'`, `datetime'…'` (tenant time), `date'…'` and `guid'…'`. Contract Version
//! 5 adds OData 4.01's `contains(F,'x')` and bare date literals (`Date ge 2025-06-17`).
//!
//! Drop-downs compare on their labels (`Status eq 'Open'`) **[C]**, and on internal codes too
//! unless switch `filter_accepts_codes` is off **[U]**. Text compares case-insensitively with
//! trailing blanks ignored, as SQL Server's default collation does **[I]**. A field the entity
//! does not have in this version, a detail-entity field (undefined on real tenants) or a custom
//! `cf.*` field is an error naming it.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::record::{Obj, Record, Scalar, parse_datetime};
use super::schema::{Entity, Field, Ty};

/// Why a filter was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterError {
    /// A name the entity does not have (the field is named).
    Unknown(String),
    /// Anything else (syntax, types, unsupported constructs).
    Invalid(String),
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `a or b`.
    Or(Box<Expr>, Box<Expr>),
    /// `a and b`.
    And(Box<Expr>, Box<Expr>),
    /// `not a`.
    Not(Box<Expr>),
    /// `a op b`.
    Cmp(Op, Operand, Operand),
    /// A boolean function call.
    Func(Func, Operand, Operand),
    /// A boolean operand on its own (`Hold`, `true`).
    Bool(Operand),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// Boolean functions: `(haystack field, needle)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Func {
    Contains,
    StartsWith,
    EndsWith,
}

/// A field reference or a literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A top-level (`linked` empty) or linked field.
    Field {
        /// Linked entity names on the way.
        linked: Vec<&'static str>,
        /// The field.
        field: &'static Field,
    },
    /// A literal.
    Lit(Lit),
}

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    /// `null`.
    Null,
    /// `'text'`.
    Str(String),
    /// A number.
    Num(Decimal),
    /// `true` / `false`.
    Bool(bool),
    /// `datetimeoffset'…'` / `datetime'…'`.
    Time(DateTime<Utc>),
    /// `date'…'` or a bare CV5 date.
    Date(NaiveDate),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Typed(String, String),
    Num(String),
    Date(String),
    LParen,
    RParen,
    Comma,
}

fn lex(s: &str, cv5: bool) -> Result<Vec<Tok>, FilterError> {
    let c: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let quoted = |i: &mut usize| -> Result<String, FilterError> {
        // c[*i] is the opening quote.
        *i += 1;
        let mut t = String::new();
        loop {
            match c.get(*i) {
                None => return Err(FilterError::Invalid(format!("unterminated string literal in '{s}'"))),
                Some('\'') if c.get(*i + 1) == Some(&'\'') => {
                    t.push('\'');
                    *i += 2;
                }
                Some('\'') => {
                    *i += 1;
                    return Ok(t);
                }
                Some(ch) => {
                    t.push(*ch);
                    *i += 1;
                }
            }
        }
    };
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() {
            i += 1;
        } else if ch == '(' {
            out.push(Tok::LParen);
            i += 1;
        } else if ch == ')' {
            out.push(Tok::RParen);
            i += 1;
        } else if ch == ',' {
            out.push(Tok::Comma);
            i += 1;
        } else if ch == '\'' {
            out.push(Tok::Str(quoted(&mut i)?));
        } else if ch.is_ascii_digit() || (ch == '-' && c.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let start = i;
            i += 1;
            while i < c.len() && (c[i].is_ascii_alphanumeric() || matches!(c[i], '.' | '-' | ':' | '+')) {
                i += 1;
            }
            let t: String = c[start..i].iter().collect();
            if t.len() >= 10 && t[1..].contains('-') && t.as_bytes().get(4) == Some(&b'-') {
                if !cv5 {
                    return Err(FilterError::Invalid(format!(
                        "'{t}' is not a valid literal: write date'{t}' or datetimeoffset'…' in this contract version"
                    )));
                }
                out.push(Tok::Date(t));
            } else {
                out.push(Tok::Num(t));
            }
        } else if ch.is_alphabetic() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || matches!(c[i], '_' | '.' | '/')) {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            if word.to_ascii_lowercase().starts_with("cf.") {
                return Err(FilterError::Unknown(format!("{word}(…) (custom fields are not modelled)")));
            }
            if c.get(i) == Some(&'\'') {
                let v = quoted(&mut i)?;
                out.push(Tok::Typed(word, v));
            } else {
                out.push(Tok::Ident(word));
            }
        } else {
            return Err(FilterError::Invalid(format!("unexpected '{ch}' at position {i} in '{s}'")));
        }
    }
    Ok(out)
}

/// What the parser needs to know.
#[derive(Debug, Clone, Copy)]
pub struct FilterCtx {
    /// The entity filtered.
    pub entity: &'static Entity,
    /// Version number.
    pub version: u32,
    /// Contract Version 5 syntax.
    pub cv5: bool,
    /// Tenant offset (zone-less datetimes).
    pub offset: FixedOffset,
    /// Drop-downs also compare on codes.
    pub codes: bool,
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    ctx: &'a FilterCtx,
    text: &'a str,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(k))
    }
    fn syntax(&self, what: &str) -> FilterError {
        FilterError::Invalid(format!("syntax error in $filter '{}': {what}", self.text))
    }

    fn expr(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.pos += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.not()?;
        while self.keyword("and") {
            self.pos += 1;
            let right = self.not()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, FilterError> {
        if self.keyword("not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Expr, FilterError> {
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let e = self.expr()?;
            if self.next() != Some(Tok::RParen) {
                return Err(self.syntax("expected ')'"));
            }
            return Ok(e);
        }
        if let Some(Tok::Ident(w)) = self.peek().cloned()
            && self.toks.get(self.pos + 1) == Some(&Tok::LParen)
        {
            return self.func(&w);
        }
        let left = self.operand()?;
        let op = match self.peek() {
            Some(Tok::Ident(w)) => match w.to_ascii_lowercase().as_str() {
                "eq" => Some(Op::Eq),
                "ne" => Some(Op::Ne),
                "gt" => Some(Op::Gt),
                "ge" => Some(Op::Ge),
                "lt" => Some(Op::Lt),
                "le" => Some(Op::Le),
                _ => None,
            },
            _ => None,
        };
        match op {
            Some(op) => {
                self.pos += 1;
                let right = self.operand()?;
                Ok(Expr::Cmp(op, left, right))
            }
            None => Ok(Expr::Bool(left)),
        }
    }

    fn func(&mut self, name: &str) -> Result<Expr, FilterError> {
        let lname = name.to_ascii_lowercase();
        if lname.starts_with("cf.") {
            return Err(FilterError::Unknown(format!("{name}(…) (custom fields are not modelled)")));
        }
        self.pos += 2; // name and '('
        let a = self.operand()?;
        if self.next() != Some(Tok::Comma) {
            return Err(self.syntax(&format!("{name} takes two arguments")));
        }
        let b = self.operand()?;
        if self.next() != Some(Tok::RParen) {
            return Err(self.syntax("expected ')'"));
        }
        Ok(match lname.as_str() {
            // substringof('needle', Field) [C: OData v3]
            "substringof" => Expr::Func(Func::Contains, b, a),
            "contains" if self.ctx.cv5 => Expr::Func(Func::Contains, a, b),
            "startswith" => Expr::Func(Func::StartsWith, a, b),
            "endswith" => Expr::Func(Func::EndsWith, a, b),
            _ => return Err(FilterError::Invalid(format!("unknown function {name} in $filter"))),
        })
    }

    fn operand(&mut self) -> Result<Operand, FilterError> {
        let t = self.next().ok_or_else(|| self.syntax("unexpected end"))?;
        Ok(match t {
            Tok::Str(s) => Operand::Lit(Lit::Str(s)),
            Tok::Num(n) => {
                let t = n.trim_end_matches(['M', 'm', 'd', 'D', 'L', 'l', 'f', 'F']);
                Operand::Lit(Lit::Num(
                    t.parse::<Decimal>()
                        .or_else(|_| Decimal::from_scientific(t))
                        .map_err(|_| FilterError::Invalid(format!("'{n}' is not a number")))?,
                ))
            }
            Tok::Date(d) => Operand::Lit(Lit::Date(
                NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                    .map_err(|_| FilterError::Invalid(format!("'{d}' is not a date")))?,
            )),
            Tok::Typed(kind, v) => Operand::Lit(match kind.to_ascii_lowercase().as_str() {
                "datetimeoffset" => {
                    Lit::Time(DateTime::parse_from_rfc3339(v.trim()).map(|t| t.with_timezone(&Utc)).map_err(|_| {
                        FilterError::Invalid(format!(
                            "'{v}' is not a valid datetimeoffset (send the offset's '+' as %2B and ':' as %3A)"
                        ))
                    })?)
                }
                "datetime" => Lit::Time(
                    parse_datetime(&v, self.ctx.offset)
                        .ok_or_else(|| FilterError::Invalid(format!("'{v}' is not a valid datetime")))?,
                ),
                "date" => Lit::Date(
                    NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
                        .map_err(|_| FilterError::Invalid(format!("'{v}' is not a valid date")))?,
                ),
                "guid" => Lit::Str(v),
                other => return Err(FilterError::Invalid(format!("unknown literal type {other}'…'"))),
            }),
            Tok::Ident(w) => match w.to_ascii_lowercase().as_str() {
                "null" => Operand::Lit(Lit::Null),
                "true" => Operand::Lit(Lit::Bool(true)),
                "false" => Operand::Lit(Lit::Bool(false)),
                _ => self.field(&w)?,
            },
            other => return Err(self.syntax(&format!("unexpected {other:?}"))),
        })
    }

    fn field(&self, path: &str) -> Result<Operand, FilterError> {
        let e = self.ctx.entity;
        let parts: Vec<&str> = path.split('/').collect();
        if parts.len() == 1 {
            let f = e.field(parts[0], self.ctx.version).ok_or_else(|| FilterError::Unknown(path.to_string()))?;
            return Ok(Operand::Field { linked: Vec::new(), field: f });
        }
        if e.detail(parts[0]).is_some() {
            return Err(FilterError::Invalid(format!(
                "{path}: filtering on detail entities is not supported; filter on {}'s own fields",
                e.name
            )));
        }
        let mut l = e.linked(parts[0]).ok_or_else(|| FilterError::Unknown(path.to_string()))?;
        let mut linked = vec![l.name];
        for p in &parts[1..parts.len() - 1] {
            l = l.linked(p).ok_or_else(|| FilterError::Unknown(path.to_string()))?;
            linked.push(l.name);
        }
        let last = parts[parts.len() - 1];
        let f = l.field(last).ok_or_else(|| FilterError::Unknown(path.to_string()))?;
        Ok(Operand::Field { linked, field: f })
    }
}

/// Parse a `$filter` for an entity.
pub fn parse(text: &str, ctx: &FilterCtx) -> Result<Expr, FilterError> {
    let toks = lex(text, ctx.cv5)?;
    if toks.is_empty() {
        return Err(FilterError::Invalid("empty $filter".into()));
    }
    let mut p = Parser { toks, pos: 0, ctx, text };
    let e = p.expr()?;
    if p.pos < p.toks.len() {
        return Err(p.syntax("unexpected text after the end of the expression"));
    }
    Ok(e)
}

/// An evaluated operand.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Null,
    Str(String),
    /// A drop-down: (code, label).
    Drop(String, String),
    Num(Decimal),
    Bool(bool),
    Time(DateTime<Utc>),
    Date(NaiveDate),
}

fn obj_at<'a>(r: &'a Record, linked: &[&'static str]) -> Option<&'a Obj> {
    let mut o = &r.main;
    for l in linked {
        o = o.linked.get(*l)?;
    }
    Some(o)
}

fn value(op: &Operand, r: &Record) -> Val {
    match op {
        Operand::Lit(l) => match l {
            Lit::Null => Val::Null,
            Lit::Str(s) => Val::Str(s.clone()),
            Lit::Num(n) => Val::Num(*n),
            Lit::Bool(b) => Val::Bool(*b),
            Lit::Time(t) => Val::Time(*t),
            Lit::Date(d) => Val::Date(*d),
        },
        Operand::Field { linked, field } => {
            let Some(v) = obj_at(r, linked).and_then(|o| o.fields.get(field.name)) else { return Val::Null };
            match (field.ty, v) {
                (Ty::Drop(_), Scalar::Str(code)) => Val::Drop(code.clone(), field.label_of(code).to_string()),
                (_, Scalar::Str(s)) if s.is_empty() => Val::Null,
                (_, Scalar::Str(s)) => Val::Str(s.clone()),
                (_, Scalar::Dec(d)) => Val::Num(*d),
                (_, Scalar::Int(i)) => Val::Num(Decimal::from(*i)),
                (_, Scalar::Bool(b)) => Val::Bool(*b),
                (_, Scalar::Time(t)) => Val::Time(*t),
                (_, Scalar::Date(d)) => Val::Date(*d),
            }
        }
    }
}

fn norm(s: &str) -> String {
    s.trim_end().to_lowercase()
}

fn order(a: &Val, b: &Val, ctx: &FilterCtx) -> Option<std::cmp::Ordering> {
    use Val::*;
    let day_start = |d: &NaiveDate| {
        d.and_hms_opt(0, 0, 0).and_then(|n| n.and_local_timezone(ctx.offset).single()).map(|t| t.with_timezone(&Utc))
    };
    match (a, b) {
        (Str(x), Str(y)) => Some(norm(x).cmp(&norm(y))),
        (Drop(code, label), Str(y)) | (Str(y), Drop(code, label)) => {
            let flip = matches!(a, Str(_));
            let o = if norm(label) == norm(y) || (ctx.codes && norm(code) == norm(y)) {
                std::cmp::Ordering::Equal
            } else {
                norm(label).cmp(&norm(y))
            };
            Some(if flip { o.reverse() } else { o })
        }
        (Num(x), Num(y)) => Some(x.cmp(y)),
        (Num(x), Str(y)) => y.trim().parse::<Decimal>().ok().map(|y| x.cmp(&y)),
        (Str(x), Num(y)) => x.trim().parse::<Decimal>().ok().map(|x| x.cmp(y)),
        (Bool(x), Bool(y)) => Some(x.cmp(y)),
        (Time(x), Time(y)) => Some(x.cmp(y)),
        (Date(x), Date(y)) => Some(x.cmp(y)),
        (Date(x), Time(y)) => day_start(x).map(|x| x.cmp(y)),
        (Time(x), Date(y)) => day_start(y).map(|y| x.cmp(&y)),
        _ => None,
    }
}

fn text_of(v: &Val) -> Option<String> {
    match v {
        Val::Str(s) => Some(s.clone()),
        Val::Drop(_, l) => Some(l.clone()),
        Val::Null => Some(String::new()),
        _ => None,
    }
}

/// Whether a record passes a filter.
pub fn eval(e: &Expr, r: &Record, ctx: &FilterCtx) -> bool {
    match e {
        Expr::Or(a, b) => eval(a, r, ctx) || eval(b, r, ctx),
        Expr::And(a, b) => eval(a, r, ctx) && eval(b, r, ctx),
        Expr::Not(a) => !eval(a, r, ctx),
        Expr::Bool(o) => matches!(value(o, r), Val::Bool(true)),
        Expr::Func(f, hay, needle) => {
            let (Some(h), Some(n)) = (text_of(&value(hay, r)), text_of(&value(needle, r))) else { return false };
            let (h, n) = (h.to_lowercase(), n.to_lowercase());
            match f {
                Func::Contains => h.contains(&n),
                Func::StartsWith => h.starts_with(&n),
                Func::EndsWith => h.trim_end().ends_with(n.trim_end()),
            }
        }
        Expr::Cmp(op, a, b) => {
            let (x, y) = (value(a, r), value(b, r));
            if x == Val::Null || y == Val::Null {
                let both = x == Val::Null && y == Val::Null;
                return match op {
                    Op::Eq => both,
                    Op::Ne => !both,
                    _ => false,
                };
            }
            let Some(o) = order(&x, &y, ctx) else { return false };
            match op {
                Op::Eq => o.is_eq(),
                Op::Ne => !o.is_eq(),
                Op::Gt => o.is_gt(),
                Op::Ge => o.is_ge(),
                Op::Lt => o.is_lt(),
                Op::Le => o.is_le(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::record::Values;
    use super::super::schema::{BILL, VENDOR};
    use super::*;
    use chrono::TimeZone;

    fn ctx(e: &'static Entity, cv5: bool) -> FilterCtx {
        FilterCtx {
            entity: e,
            version: if cv5 { 26_200 } else { 24_200 },
            cv5,
            offset: FixedOffset::west_opt(4 * 3600).unwrap(),
            codes: true,
        }
    }

    fn bill() -> Record {
        let mut r = Record::default();
        r.set_s("Type", "INV");
        r.set_s("Status", "N");
        r.set_s("Vendor", "V10001");
        r.set_s("VendorRef", "INV-O'Brien ");
        r.set("Amount", Scalar::Dec(Decimal::new(12050, 2)));
        r.set("Hold", Scalar::Bool(false));
        r.set("Date", Scalar::Date(NaiveDate::from_ymd_opt(2025, 6, 17).unwrap()));
        r.set("LastModifiedDateTime", Scalar::Time(Utc.with_ymd_and_hms(2025, 6, 16, 14, 30, 0).unwrap()));
        r
    }

    fn check(f: &str) -> bool {
        let c = ctx(&BILL, false);
        eval(&parse(f, &c).unwrap_or_else(|e| panic!("{f}: {e:?}")), &bill(), &c)
    }

    #[test]
    fn comparisons_functions_and_literals() {
        assert!(check("Status eq 'Open'"));
        assert!(check("Status eq 'N'"), "codes accepted by default");
        assert!(check("Vendor eq 'v10001' and VendorRef eq 'INV-O''Brien'"));
        assert!(check("Amount gt 120.49M and Amount le 120.5"));
        assert!(check("not (Hold eq true) or Amount lt 0"));
        assert!(check("LastModifiedDateTime gt datetimeoffset'2025-06-16T10:29:59.999-04:00'"));
        assert!(!check("LastModifiedDateTime gt datetimeoffset'2025-06-16T14:30:00+00:00'"));
        assert!(check("LastModifiedDateTime ge datetime'2025-06-16T10:30:00'"));
        assert!(check("Date eq date'2025-06-17'"));
        assert!(check("substringof('brien', VendorRef) and startswith(Vendor,'V1') and endswith(VendorRef,'Brien')"));
        assert!(check("Description eq null and Vendor ne null"));
        assert!(!check("Hold"));
    }

    #[test]
    fn errors_name_what_was_wrong() {
        let c = ctx(&BILL, false);
        assert_eq!(parse("Foo eq 1", &c), Err(FilterError::Unknown("Foo".into())));
        assert!(matches!(parse("Details/Account eq '1'", &c), Err(FilterError::Invalid(m)) if m.contains("detail")));
        assert!(matches!(parse("LastModifiedDateTime gt datetimeoffset'2025-06-16T10:00:00 00:00'", &c),
            Err(FilterError::Invalid(m)) if m.contains("%2B")));
        assert!(matches!(parse("Date ge 2025-06-17", &c), Err(FilterError::Invalid(_))));
        assert!(matches!(parse("Status eq", &c), Err(FilterError::Invalid(_))));
        assert!(matches!(parse("cf.String(f='Document.UsrX') eq 'a'", &c), Err(FilterError::Unknown(_))));
        let v = ctx(&VENDOR, false);
        assert!(parse("MainContact/Email eq 'a@b.c'", &v).is_ok());
        assert!(matches!(parse("MainContact/Nope eq 'a'", &v), Err(FilterError::Unknown(_))));
        let c5 = ctx(&BILL, true);
        assert!(eval(&parse("Date ge 2025-06-17 and contains(VendorRef,'brien')", &c5).unwrap(), &bill(), &c5));
    }
}
