//! The simulated tenant: its configuration (users and their rights, connected applications,
//! branches, warehouses, items, reference lists), its records, sequences, sessions and tokens,
//! long operations, push destinations and licence counters; and the error answers (§5).

use std::collections::{BTreeMap, HashMap, VecDeque};

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Offset, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::auth::{AccessToken, RefreshToken, Session};
use super::push::Destination;
use super::record::{Record, Values};
use super::schema::Entity;
use super::switches::AcumaticaSwitches;

/// What a user may do with one entity's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Rights {
    /// No access: 403.
    None,
    /// Read only: 403 on PUT, DELETE and actions.
    Read,
    /// Everything.
    #[default]
    Edit,
}

/// A user of the tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Login name.
    pub name: String,
    /// Password.
    pub password: String,
    /// Whether it may sign in.
    #[serde(default = "yes")]
    pub active: bool,
    /// Rights per entity name (missing: edit).
    #[serde(default)]
    pub rights: BTreeMap<String, Rights>,
    /// Default branch.
    #[serde(default)]
    pub branch: String,
}

fn yes() -> bool {
    true
}

/// A connected application (SM303010).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectedApp {
    /// `<GUID>@<Tenant>` **[C]**.
    pub client_id: String,
    /// Shared secret.
    pub secret: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Whether the resource-owner password flow is allowed for it.
    #[serde(default = "yes")]
    pub password_flow: bool,
}

/// A branch (read through `CompaniesStructure`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Branch {
    /// `BranchID` (the branch code).
    #[serde(rename = "BranchID")]
    pub branch_id: String,
    /// Name.
    pub branch_name: String,
    /// Company code.
    #[serde(rename = "CompanyID")]
    pub company_id: String,
    /// Company name.
    pub company_name: String,
    /// Active.
    #[serde(default = "yes")]
    pub active: bool,
}

/// An inventory item (stock or non-stock), for validating `InventoryID`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Item {
    /// `InventoryID`.
    #[serde(rename = "InventoryID")]
    pub inventory_id: String,
    /// Description.
    pub description: String,
    /// Base unit.
    #[serde(rename = "UOM")]
    pub uom: String,
    /// Stock item (goods for IN) or non-stock.
    pub stock: bool,
    /// Default expense / COGS account for bill and PO lines.
    pub expense_account: String,
    /// Last cost (a default unit cost).
    #[serde(default)]
    pub last_cost: Decimal,
}

/// Credit terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Terms {
    /// `TermsID` (`30D`).
    #[serde(rename = "TermsID")]
    pub id: String,
    /// Days until due.
    pub days: i64,
}

/// The tenant itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    /// Login name of the tenant (the client id's `@<Tenant>` suffix).
    pub name: String,
    /// Company name.
    pub company: String,
    /// Base currency.
    pub base_currency: String,
    /// `acumaticaBuildVersion`.
    pub build: String,
}

/// Monotonic counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sequences {
    /// Last bill `ReferenceNbr`.
    pub bill: u64,
    /// Last PO `OrderNbr`.
    pub po: u64,
    /// Last `AccountID` / `SubaccountID`.
    pub gl_id: i64,
    /// Last `ContactID`.
    pub contact: i64,
}

/// A long operation (`ReleaseBill`): 202 + Location while it runs, then 204.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LongOp {
    /// The id in the Location URL.
    pub id: String,
    /// Entity (`Bill`).
    pub entity: String,
    /// Action (`ReleaseBill`).
    pub action: String,
    /// The record's id.
    pub record: String,
    /// The session that started it.
    pub session: String,
    /// Polls left that answer 202.
    pub polls_left: u32,
    /// When it completes without polls.
    pub due: DateTime<Utc>,
    /// Finished (the change is applied).
    pub done: bool,
    /// Failure text, if it failed.
    pub failed: Option<String>,
}

/// Licence counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Licence {
    /// Requests let through at once.
    pub accepted: u64,
    /// Requests that waited (queue or per-minute delay).
    pub delayed: u64,
    /// Requests declined with 429.
    pub declined: u64,
    /// Logins refused for the session cap.
    pub login_refused: u64,
    /// Most requests running at once.
    pub peak_running: u32,
    /// Most requests waiting at once.
    pub peak_waiting: u32,
}

/// The whole tenant.
#[derive(Debug)]
pub struct AcuState {
    /// Behaviour switches.
    pub switches: AcumaticaSwitches,
    /// The tenant.
    pub tenant: Tenant,
    /// Users.
    pub users: Vec<User>,
    /// Connected applications.
    pub apps: Vec<ConnectedApp>,
    /// Branches.
    pub branches: Vec<Branch>,
    /// Warehouse ids.
    pub warehouses: Vec<String>,
    /// Items.
    pub inventory: Vec<Item>,
    /// Vendor classes.
    pub vendor_classes: Vec<String>,
    /// Credit terms.
    pub terms: Vec<Terms>,
    /// Currencies.
    pub currencies: Vec<String>,
    /// Closed financial periods (`MMYYYY`).
    pub closed_periods: Vec<String>,
    /// Tenant custom endpoints `(name, version)` listed to signed-in callers.
    pub custom_endpoints: Vec<(String, String)>,
    /// Records per entity, in key order.
    pub records: BTreeMap<String, Vec<Record>>,
    /// Numbering.
    pub seq: Sequences,
    /// Latest stamp handed out.
    pub last_stamp: DateTime<Utc>,
    /// Access tokens.
    pub access_tokens: HashMap<String, AccessToken>,
    /// Refresh tokens.
    pub refresh_tokens: HashMap<String, RefreshToken>,
    /// API sessions (cookie and OAuth).
    pub sessions: Vec<Session>,
    /// Long operations.
    pub operations: Vec<LongOp>,
    /// Push-notification destinations.
    pub push: Vec<Destination>,
    /// Generator of the duplicate-delivery draw.
    pub push_rng: u64,
    /// Licence counters.
    pub licence: Licence,
    /// Per-minute window: admission instants (simulated).
    pub window: VecDeque<DateTime<Utc>>,
}

impl AcuState {
    /// A currency the tenant does not have (neither its base currency nor one of its
    /// `currencies`): Acumatica's selector error for `CurrencyID` on a bill or order.
    pub fn check_currency(&self, currency: &str) -> Option<String> {
        let c = currency.trim();
        let known = c.eq_ignore_ascii_case(&self.tenant.base_currency)
            || self.currencies.iter().any(|x| x.eq_ignore_ascii_case(c));
        (!c.is_empty() && !known).then(|| super::gl::not_found("Currency", c))
    }

    /// An empty tenant.
    pub fn empty(tenant: Tenant, switches: AcumaticaSwitches) -> Self {
        let push_rng = switches.push_duplicate_seed.max(1);
        AcuState {
            switches,
            tenant,
            users: Vec::new(),
            apps: Vec::new(),
            branches: Vec::new(),
            warehouses: Vec::new(),
            inventory: Vec::new(),
            vendor_classes: Vec::new(),
            terms: Vec::new(),
            currencies: Vec::new(),
            closed_periods: Vec::new(),
            custom_endpoints: Vec::new(),
            records: BTreeMap::new(),
            seq: Sequences::default(),
            last_stamp: DateTime::<Utc>::MIN_UTC,
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            sessions: Vec::new(),
            operations: Vec::new(),
            push: Vec::new(),
            push_rng,
            licence: Licence::default(),
            window: VecDeque::new(),
        }
    }

    /// The tenant's UTC offset.
    pub fn offset(&self) -> FixedOffset {
        FixedOffset::east_opt(self.switches.tenant_utc_offset_minutes * 60).unwrap_or_else(|| Utc.fix())
    }

    /// Today in the tenant's zone (the business date).
    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.offset()).date_naive()
    }

    /// A stamp for a write at `now`, strictly after the previous one (1 ms: the precision the API
    /// shows), so delta cursors never see two writes share a stamp because of a frozen clock.
    pub fn stamp(&mut self, now: DateTime<Utc>) -> DateTime<Utc> {
        let now = truncate_ms(now);
        let next = if now > self.last_stamp { now } else { self.last_stamp + Duration::milliseconds(1) };
        self.last_stamp = next;
        next
    }

    /// Note a seeded stamp.
    pub fn saw_stamp(&mut self, t: DateTime<Utc>) {
        if t > self.last_stamp {
            self.last_stamp = t;
        }
    }

    /// Records of an entity.
    pub fn list(&self, e: &Entity) -> &[Record] {
        self.records.get(e.name).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Records of an entity, mutably.
    pub fn list_mut(&mut self, e: &Entity) -> &mut Vec<Record> {
        self.records.entry(e.name.to_string()).or_default()
    }

    /// Index of a record by `id` (case-insensitive GUID).
    pub fn by_id(&self, e: &Entity, id: &str) -> Option<usize> {
        self.list(e).iter().position(|r| r.main.id.eq_ignore_ascii_case(id.trim()))
    }

    /// Index of a record by its key values (stored form: drop-downs as codes), compared
    /// case-insensitively with trailing blanks ignored.
    pub fn by_keys(&self, e: &Entity, keys: &[String]) -> Option<usize> {
        if keys.len() != e.keys.len() {
            return None;
        }
        self.list(e)
            .iter()
            .position(|r| e.keys.iter().zip(keys).all(|(k, v)| r.s(k).trim_end().eq_ignore_ascii_case(v.trim_end())))
    }

    /// Put records back in key order (drop-down keys by code).
    pub fn sort(&mut self, e: &Entity) {
        let keys = e.keys;
        self.list_mut(e).sort_by(|a, b| {
            for k in keys {
                let o = a.s(k).to_lowercase().cmp(&b.s(k).to_lowercase());
                if o.is_ne() {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        });
    }

    /// A user by name (case-insensitive).
    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name.eq_ignore_ascii_case(name.trim()))
    }

    /// A user's rights on an entity.
    pub fn rights(&self, user: &str, entity: &str) -> Rights {
        self.user(user)
            .and_then(|u| u.rights.iter().find(|(k, _)| k.eq_ignore_ascii_case(entity)).map(|(_, r)| *r))
            .unwrap_or_default()
    }

    /// A branch by id.
    pub fn branch(&self, id: &str) -> Option<&Branch> {
        self.branches.iter().find(|b| b.branch_id.eq_ignore_ascii_case(id.trim()))
    }

    /// An item by id.
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.inventory.iter().find(|i| i.inventory_id.eq_ignore_ascii_case(id.trim()))
    }

    /// Days of credit terms.
    pub fn terms_days(&self, id: &str) -> Option<i64> {
        self.terms.iter().find(|t| t.id.eq_ignore_ascii_case(id.trim())).map(|t| t.days)
    }

    /// A record of another entity by key (read-only lookups from validation).
    pub fn find(&self, e: &Entity, keys: &[&str]) -> Option<&Record> {
        let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        self.by_keys(e, &keys).map(|i| &self.list(e)[i])
    }
}

/// Drop sub-millisecond precision.
pub fn truncate_ms(t: DateTime<Utc>) -> DateTime<Utc> {
    let ns = t.timestamp_subsec_nanos();
    t - Duration::nanoseconds(i64::from(ns % 1_000_000))
}

/// An error answer in ASP.NET Web API's `HttpError` shape (§5): `message`, optionally
/// `exceptionMessage`, `exceptionType`, `stackTrace`, `modelState`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: Value,
    /// Content type (JSON unless a plain-text IIS answer).
    pub content_type: &'static str,
}

/// `PX.Api.ContractBased.NoEntitySatisfiesTheConditionException`.
pub const NO_ENTITY: &str = "PX.Api.ContractBased.NoEntitySatisfiesTheConditionException";
/// `PX.Data.PXException`.
pub const PX_EXCEPTION: &str = "PX.Data.PXException";

impl ApiError {
    /// `{"message": …}` with a status.
    pub fn message(status: u16, message: impl Into<String>) -> Self {
        ApiError { status, body: json!({ "message": message.into() }), content_type: JSON }
    }

    /// A 500 "An error has occurred." carrying an exception.
    pub fn exception(status: u16, exception_type: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: json!({
                "message": "An error has occurred.",
                "exceptionMessage": message.into(),
                "exceptionType": exception_type,
                "stackTrace": "   at PX.Api.ContractBased.EntityService.Execute(...)",
            }),
            content_type: JSON,
        }
    }

    /// 500 `PXException`.
    pub fn px(message: impl Into<String>) -> Self {
        Self::exception(500, PX_EXCEPTION, message)
    }

    /// Missing record by key: 500 NoEntitySatisfiesTheCondition, not 404 **[C]**.
    pub fn no_entity() -> Self {
        Self::exception(500, NO_ENTITY, "No entity satisfies the condition.")
    }

    /// 400 with a `modelState` (the body could not be bound).
    pub fn model_state(key: &str, message: &str) -> Self {
        ApiError {
            status: 400,
            body: json!({ "message": "The request is invalid.", "modelState": { format!("entity.{key}"): [message] } }),
            content_type: JSON,
        }
    }

    /// 401 for a missing, expired or revoked token or session **[C status; I body]**.
    pub fn not_logged_in() -> Self {
        Self::message(401, "You are not logged in.")
    }

    /// 403 for a form the user's roles do not reach **[C: 403 = no rights; I: text]**.
    pub fn forbidden(e: &Entity) -> Self {
        Self::message(403, format!("You have insufficient rights to access the object ({}) \"{}\".", e.screen, e.title))
    }

    /// Plain text (IIS pages).
    pub fn text(status: u16, text: &str) -> Self {
        ApiError { status, body: Value::String(text.to_string()), content_type: TEXT }
    }

    /// The answer.
    pub fn render(&self) -> Response {
        let body = match &self.body {
            Value::String(s) if self.content_type != JSON => s.clone(),
            v => v.to_string(),
        };
        let mut r = Response::new(Body::from(body));
        *r.status_mut() = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        r
    }
}

const JSON: &str = "application/json; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// A JSON answer.
pub fn json_response(status: u16, v: &Value) -> Response {
    let mut r = Response::new(Body::from(v.to_string()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    r
}

/// An empty answer with a status.
pub fn empty(status: u16) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::NO_CONTENT);
    r
}

/// IIS's text for errors its custom-error module does not know (seen on 429s) **[C: COMM]**.
pub const IIS_TEXT: &str = "The custom error module does not recognize this error.";
