//! Reference data: `/api/currencies`, `/api/payment_terms`, `/api/accounts` (scopes
//! `core.common.read` and `core.accounting.read`), and the embedded shapes other resources reuse
//! (currency, payment term, account with its segments, user).

use serde_json::{Map, Value, json};

use super::model::{Account, Currency, PaymentTerm, User};
use super::state::CoupaState;

/// `{id, code, decimals, enabled-flag, created-at, updated-at}`.
pub fn currency_json(st: &CoupaState, c: &Currency) -> Value {
    let s = st.style();
    json!({
        "id": c.id, "code": c.code, "decimals": c.decimals, "enabled-flag": c.enabled,
        "created-at": s.dt(c.created_at), "updated-at": s.dt(c.updated_at),
    })
}

/// The currency embedded by code (a bare `{code}` when the instance does not know it).
pub fn currency_ref(st: &CoupaState, code: &str) -> Value {
    match st.currency(code) {
        Some(c) => json!({ "id": c.id, "code": c.code, "decimals": c.decimals }),
        None => json!({ "code": code }),
    }
}

/// A payment term.
pub fn payment_term_json(st: &CoupaState, t: &PaymentTerm) -> Value {
    let s = st.style();
    json!({
        "id": t.id, "code": t.code, "description": t.description,
        "days-for-net-payment": t.days_for_net_payment, "days-for-discount-payment": t.days_for_discount_payment,
        "discount-rate": s.money(t.discount_rate, 1), "type": "PaymentTerm", "active": t.active,
        "created-at": s.dt(t.created_at), "updated-at": s.dt(t.updated_at),
    })
}

/// The payment term embedded by id (`null` when absent).
pub fn payment_term_ref(st: &CoupaState, id: Option<i64>) -> Value {
    id.and_then(|id| st.payment_term(id)).map_or(Value::Null, |t| payment_term_json(st, t))
}

/// An account with `segment-1`…`segment-N` and its chart (`account-type`).
pub fn account_json(st: &CoupaState, a: &Account) -> Value {
    let s = st.style();
    let mut m = Map::new();
    m.insert("id".into(), json!(a.id));
    m.insert("name".into(), json!(a.name));
    m.insert("code".into(), json!(a.code()));
    m.insert("active".into(), json!(a.active));
    for (i, seg) in a.segments.iter().enumerate() {
        m.insert(format!("segment-{}", i + 1), if seg.is_empty() { Value::Null } else { json!(seg) });
    }
    m.insert(
        "account-type".into(),
        st.chart(a.account_type_id).map_or(Value::Null, |c| json!({ "id": c.id, "name": c.name })),
    );
    m.insert("created-at".into(), s.dt(a.created_at));
    m.insert("updated-at".into(), s.dt(a.updated_at));
    Value::Object(m)
}

/// The account embedded by id (`null` when absent).
pub fn account_ref(st: &CoupaState, id: Option<i64>) -> Value {
    id.and_then(|id| st.account(id)).map_or(Value::Null, |a| account_json(st, a))
}

/// `UserSimple`.
pub fn user_json(u: &User) -> Value {
    json!({
        "id": u.id, "login": u.login, "email": u.email, "firstname": u.firstname, "lastname": u.lastname,
        "employee-number": u.employee_number,
    })
}

/// The user embedded by id (`null` when absent).
pub fn user_ref(st: &CoupaState, id: Option<i64>) -> Value {
    id.and_then(|id| st.user(id)).map_or(Value::Null, user_json)
}

/// Every currency, rendered.
pub fn currencies(st: &CoupaState) -> Vec<Value> {
    st.currencies.iter().map(|c| currency_json(st, c)).collect()
}

/// Every payment term, rendered.
pub fn payment_terms(st: &CoupaState) -> Vec<Value> {
    st.payment_terms.iter().map(|t| payment_term_json(st, t)).collect()
}

/// Every account, rendered.
pub fn accounts(st: &CoupaState) -> Vec<Value> {
    st.accounts.iter().map(|a| account_json(st, a)).collect()
}
