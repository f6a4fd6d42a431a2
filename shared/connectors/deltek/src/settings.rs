//! A Deltek connection's settings, read from the connection's options map, and its credentials.
//!
//! ```toml
//! [connections.deltek]
//! system = "deltek"
//! base_url = "https://acme.deltekfirst.com/Acme/api"   # on premises: https://vp.acme.com/vantagepoint/api
//! database = "C000001234P_1_ACME"
//! company = "A0"             # optional: multi-company databases
//! liability_code = "AP"      # AP liability code for vouchers (else Vantagepoint's default)
//! bank_code = "OPER"         # optional
//! pay_terms = "30"           # when an invoice has no due date (else the vendor's terms)
//! vouchers_per_file = 50     # vouchers per AP file (1 = one file per invoice, deterministic file name)
//! post_files = false         # post each file after saving it (PostTransFile)
//! ```
//!
//! Every option is checked when the connection is built, and an error names the connection, the
//! key and what is wrong, so a typo never silently falls back to a default. Credentials are the
//! secret-store entry's `username`, `password`, `client_id`, `client_secret` (and, for the
//! workflow webhook, `webhook_username` + `webhook_password`).

use std::collections::BTreeMap;
use std::time::Duration;

use mlc_core::secret::{Credentials, Redacted};
use serde_json::Value;
use url::Url;

use crate::errors::DeltekError;

/// Which accounting period a voucher file is posted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodMode {
    /// The active period (Vantagepoint's usual practice): the file's `Period` is the active one.
    Active,
    /// The period that contains the invoice date; a closed one is an error before anything is sent.
    InvoiceDate,
}

/// One webhook argument mapping: when every argument in `args` is present, the delivery names
/// an `entity` whose id is the argument values joined with `|`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEntity {
    pub entity: String,
    pub args: Vec<String>,
}

/// Everything about a Deltek connection except its secrets.
#[derive(Debug, Clone)]
pub struct DeltekSettings {
    /// Connection name (`deltek`), used in messages and `mlc credentials set <connection>`.
    pub connection: String,
    /// API root, ending in `/api`.
    pub base_url: Url,
    /// Database name from the API Authorization form (sent with every token request).
    pub database: String,
    /// Company code for multi-company databases (`A0`); files go to the active company otherwise.
    pub company: Option<String>,
    /// Token request `culture` (some tenants require it when a default language is set).
    pub culture: Option<String>,
    /// AP liability code (`DefaultLiab` / `LiabCode`).
    pub liability_code: Option<String>,
    /// Bank code (`DefaultBank` / `BankCode`).
    pub bank_code: Option<String>,
    /// `PayTerms` when an invoice has no due date (`Next`, `Hold`, `PWP`, or days such as `30`).
    pub pay_terms: Option<String>,
    /// Tax code for line tax rows (`apDetailTax`); without it tax is folded into the line amount.
    pub tax_code: Option<String>,
    /// Vouchers per AP file (1..=500).
    pub vouchers_per_file: usize,
    /// How long a partly filled file waits for more vouchers before it is sent.
    pub batch_linger: Duration,
    /// Post each saved file (`PUT DataEntry/PostTransFile`).
    pub post_files: bool,
    pub period_mode: PeriodMode,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Rows per page on list reads.
    pub page_size: usize,
    /// Prefix of the file (`Batch`) names this connector creates; tells our files from hand-keyed ones.
    pub batch_prefix: String,
    /// How old the lookup indexes may be before a miss is re-checked against Vantagepoint.
    pub lookup_max_age: Duration,
    /// How far back the posted-voucher search looks (by transaction date).
    pub posted_lookback_days: i64,
    /// Refuse to post AP while amounts read back as zero (role without field visibility).
    pub check_amount_visibility: bool,
    /// Webhook argument mappings, first match wins per entity.
    pub webhook_entities: Vec<WebhookEntity>,
    /// Accept webhook deliveries without Basic credentials (not recommended).
    pub webhook_allow_unauthenticated: bool,
    /// The seller's name on outbound AR invoices (default: the company's name in Vantagepoint).
    pub seller_name: Option<String>,
    /// Client-side call budget per worker (Vantagepoint publishes none; integrators keep writes
    /// gentle): each process or Lambda container keeps its own, so the stack sends at most
    /// `MaxConcurrency` times this. 0 = none.
    pub max_calls_per_second: u64,
    /// First backoff step for retried reads (doubles per attempt).
    pub retry_base: Duration,
    /// The currencies the Vantagepoint database accepts on vouchers (`currencies`, default `USD`):
    /// its functional currency, plus the others when multi-currency is enabled. Vantagepoint has
    /// no API that lists them, so they are configured; a bill in another currency is held by the
    /// pre-post check, naming this rule, instead of failing at the post.
    ///
    /// The exchange rate of a foreign-currency voucher is Vantagepoint's own (its rate table on the
    /// voucher's date; no override is sent): the ledger's rates stay one set, kept by accounting.
    pub currencies: Vec<String>,
}

const KNOWN: &[&str] = &[
    "base_url",
    "database",
    "company",
    "culture",
    "liability_code",
    "bank_code",
    "pay_terms",
    "tax_code",
    "vouchers_per_file",
    "batch_linger_ms",
    "post_files",
    "period_mode",
    "timeout_secs",
    "page_size",
    "batch_prefix",
    "lookup_max_age_secs",
    "posted_lookback_days",
    "check_amount_visibility",
    "webhook_entities",
    "webhook_allow_unauthenticated",
    "seller_name",
    "max_calls_per_second",
    "retry_base_ms",
    "currencies",
];

/// Keys a whole connection table may carry besides the options; not ours to read.
const IGNORED: &[&str] = &["system", "credentials"];

struct Reader<'a> {
    connection: &'a str,
    map: &'a serde_json::Map<String, Value>,
}

impl Reader<'_> {
    fn err(&self, key: &str, problem: impl Into<String>) -> DeltekError {
        DeltekError::Config { connection: self.connection.to_string(), key: key.to_string(), problem: problem.into() }
    }

    fn text(&self, key: &str) -> Result<Option<String>, DeltekError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok((!s.trim().is_empty()).then(|| s.trim().to_string())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(self.err(key, format!("expected text, got {other}"))),
        }
    }

    fn required(&self, key: &str, example: &str) -> Result<String, DeltekError> {
        self.text(key)?.ok_or_else(|| self.err(key, format!("is required (e.g. {key} = \"{example}\")")))
    }

    fn number(&self, key: &str, default: u64, range: std::ops::RangeInclusive<u64>) -> Result<u64, DeltekError> {
        let n = match self.map.get(key) {
            None | Some(Value::Null) => return Ok(default),
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
            Some(_) => None,
        };
        match n {
            Some(n) if range.contains(&n) => Ok(n),
            _ => Err(self.err(
                key,
                format!(
                    "must be a whole number from {} to {}, got {}",
                    range.start(),
                    range.end(),
                    self.map.get(key).map(Value::to_string).unwrap_or_default()
                ),
            )),
        }
    }

    fn flag(&self, key: &str, default: bool) -> Result<bool, DeltekError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "y" | "1" => Ok(true),
                "false" | "no" | "n" | "0" => Ok(false),
                _ => Err(self.err(key, format!("must be true or false, got {s:?}"))),
            },
            Some(other) => Err(self.err(key, format!("must be true or false, got {other}"))),
        }
    }
}

fn default_webhook_entities() -> Vec<WebhookEntity> {
    let e = |entity: &str, args: &[&str]| WebhookEntity {
        entity: entity.into(),
        args: args.iter().map(|s| s.to_string()).collect(),
    };
    vec![
        e("ar-invoice", &["WBS1", "Invoice"]),
        e("ap-voucher", &["Batch", "MasterPKey"]),
        e("vendor", &["Vendor"]),
        e("firm", &["ClientID"]),
        e("project", &["WBS1"]),
    ]
}

impl DeltekSettings {
    /// Read the settings from a connection's options (a JSON object that includes `base_url`).
    pub fn from_options(connection: &str, options: &Value) -> Result<Self, DeltekError> {
        let Value::Object(map) = options else {
            return Err(DeltekError::Config {
                connection: connection.into(),
                key: "(options)".into(),
                problem: format!("expected a table of options, got {options}"),
            });
        };
        let r = Reader { connection, map };
        if let Some(k) = map.keys().find(|k| !KNOWN.contains(&k.as_str()) && !IGNORED.contains(&k.as_str())) {
            return Err(r.err(k, format!("is not a Deltek option (known: {})", KNOWN.join(", "))));
        }
        let base_url = parse_base_url(&r.required("base_url", "https://acme.deltekfirst.com/Acme/api")?)
            .map_err(|p| r.err("base_url", p))?;
        let database = r.required("database", "C000001234P_1_ACME")?;
        let vouchers_per_file = r.number("vouchers_per_file", 50, 1..=500)? as usize;
        let period_mode = match r.text("period_mode")?.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("active") => PeriodMode::Active,
            Some("invoice_date") | Some("invoice-date") => PeriodMode::InvoiceDate,
            Some(other) => {
                return Err(r.err("period_mode", format!("must be \"active\" or \"invoice_date\", got {other:?}")));
            }
        };
        let batch_prefix = r.text("batch_prefix")?.unwrap_or_else(|| "MLC".into());
        if batch_prefix.len() > 8 || !batch_prefix.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(
                r.err("batch_prefix", "must be 1 to 8 letters or digits (file names are at most 32 characters)")
            );
        }
        let webhook_entities = match map.get("webhook_entities") {
            None | Some(Value::Null) => default_webhook_entities(),
            Some(v) => parse_webhook_entities(v).map_err(|p| r.err("webhook_entities", p))?,
        };
        Ok(DeltekSettings {
            connection: connection.to_string(),
            base_url,
            database,
            company: r.text("company")?,
            culture: r.text("culture")?,
            liability_code: r.text("liability_code")?,
            bank_code: r.text("bank_code")?,
            pay_terms: r.text("pay_terms")?,
            tax_code: r.text("tax_code")?,
            vouchers_per_file,
            batch_linger: Duration::from_millis(r.number("batch_linger_ms", 250, 0..=60_000)?),
            post_files: r.flag("post_files", false)?,
            period_mode,
            timeout: Duration::from_secs(r.number("timeout_secs", 30, 1..=600)?),
            page_size: r.number("page_size", 500, 1..=5000)? as usize,
            batch_prefix: batch_prefix.to_ascii_uppercase(),
            lookup_max_age: Duration::from_secs(r.number("lookup_max_age_secs", 60, 0..=86_400)?),
            posted_lookback_days: r.number("posted_lookback_days", 730, 1..=36_500)? as i64,
            check_amount_visibility: r.flag("check_amount_visibility", true)?,
            webhook_entities,
            webhook_allow_unauthenticated: r.flag("webhook_allow_unauthenticated", false)?,
            seller_name: r.text("seller_name")?,
            max_calls_per_second: r.number("max_calls_per_second", 20, 0..=1000)?,
            retry_base: Duration::from_millis(r.number("retry_base_ms", 500, 1..=60_000)?),
            currencies: match map.get("currencies") {
                None | Some(Value::Null) => vec!["USD".into()],
                Some(Value::Array(a)) => {
                    let mut out = Vec::new();
                    for v in a {
                        let code = v.as_str().unwrap_or("").trim().to_ascii_uppercase();
                        if code.parse::<mlc_core::money::Currency>().is_err() {
                            return Err(r.err(
                                "currencies",
                                format!("{v} is not an ISO 4217 currency code (USD, CAD, EUR ...)"),
                            ));
                        }
                        out.push(code);
                    }
                    if out.is_empty() {
                        return Err(r.err("currencies", "must list at least the database's functional currency"));
                    }
                    out
                }
                Some(_) => return Err(r.err("currencies", "must be a list of currency codes, e.g. [\"USD\", \"CAD\"]")),
            },
        })
    }

    /// From a connection whose `base_url` is kept apart from its other options (the shape of
    /// `mlc_flows::config::ConnectionSettings`).
    pub fn from_parts(
        connection: &str,
        base_url: &str,
        options: &BTreeMap<String, Value>,
    ) -> Result<Self, DeltekError> {
        let mut m: serde_json::Map<String, Value> = options.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        m.insert("base_url".into(), Value::String(base_url.to_string()));
        Self::from_options(connection, &Value::Object(m))
    }

    /// The token endpoint, `{base}/token`.
    pub fn token_url(&self) -> Url {
        let mut u = self.base_url.clone();
        let path = format!("{}/token", u.path().trim_end_matches('/'));
        u.set_path(&path);
        u
    }
}

fn parse_base_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(format!("{text:?} must be an https URL"));
    }
    let last = url.path().trim_end_matches('/').rsplit('/').next().unwrap_or("").to_ascii_lowercase();
    if last == "app" {
        return Err(format!(
            "{text:?} is the browser app; the API root ends in /api instead of /app (e.g. https://acme.deltekfirst.com/Acme/api)"
        ));
    }
    if last != "api" {
        return Err(format!(
            "{text:?} should be the API root ending in /api: https://{{tenant}}.deltekfirst.com/{{Tenant}}/api in the cloud, \
             https://{{host}}/vantagepoint/api on premises"
        ));
    }
    let mut url = url;
    let path = url.path().trim_end_matches('/').to_string();
    url.set_path(&path);
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

fn parse_webhook_entities(v: &Value) -> Result<Vec<WebhookEntity>, String> {
    let Value::Array(items) = v else {
        return Err("must be a list like [{entity = \"ar-invoice\", args = [\"WBS1\", \"Invoice\"]}]".into());
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let entity = item.get("entity").and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
        let args: Option<Vec<String>> = item.get("args").and_then(Value::as_array).map(|a| {
            a.iter().filter_map(Value::as_str).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
        });
        match (entity, args) {
            (Some(e), Some(a)) if !a.is_empty() => out.push(WebhookEntity { entity: e.to_string(), args: a }),
            _ => return Err(format!("entry {i} needs an entity and a non-empty args list")),
        }
    }
    Ok(out)
}

/// The secrets a Deltek connection uses.
#[derive(Clone)]
pub struct DeltekCredentials {
    pub username: String,
    pub password: Redacted<String>,
    pub client_id: String,
    pub client_secret: Redacted<String>,
    /// Basic credentials the workflow webhook must present (current, and the one being rotated out).
    pub webhook: Vec<(Redacted<String>, Redacted<String>)>,
}

impl std::fmt::Debug for DeltekCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeltekCredentials").field("username", &self.username).finish_non_exhaustive()
    }
}

impl DeltekCredentials {
    /// Read the fields, naming every missing one.
    pub fn from_credentials(connection: &str, c: &Credentials) -> Result<Self, DeltekError> {
        let missing: Vec<&str> = ["username", "password", "client_id", "client_secret"]
            .into_iter()
            .filter(|f| c.get(f).is_none_or(|v| v.expose().trim().is_empty()))
            .collect();
        if !missing.is_empty() {
            return Err(DeltekError::MissingCredential {
                connection: connection.to_string(),
                fields: missing.iter().map(|s| s.to_string()).collect(),
            });
        }
        let get = |f: &str| c.get(f).cloned().unwrap_or_default();
        let mut webhook = Vec::new();
        if let (Some(u), Some(p)) = (c.get("webhook_username"), c.get("webhook_password"))
            && !p.expose().is_empty()
        {
            webhook.push((u.clone(), p.clone()));
            if let Some(prev) = c.get("webhook_password_previous")
                && !prev.expose().is_empty()
            {
                webhook.push((u.clone(), prev.clone()));
            }
        }
        Ok(DeltekCredentials {
            username: get("username").expose().trim().to_string(),
            password: get("password"),
            client_id: get("client_id").expose().trim().to_string(),
            client_secret: get("client_secret"),
            webhook,
        })
    }

    /// Secret values, for scrubbing text an answer may echo.
    pub(crate) fn secrets(&self) -> Vec<String> {
        let mut s = vec![self.password.expose().clone(), self.client_secret.expose().clone()];
        for (_, p) in &self.webhook {
            s.push(p.expose().clone());
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn opts(extra: Value) -> Value {
        let mut base = json!({"base_url": "https://acme.deltekfirst.com/Acme/api/", "database": "C1_ACME"});
        if let (Value::Object(b), Value::Object(e)) = (&mut base, extra) {
            b.extend(e);
        }
        base
    }

    #[test]
    fn defaults_and_values() {
        let s = DeltekSettings::from_options("deltek", &opts(json!({}))).unwrap();
        assert_eq!(s.base_url.as_str(), "https://acme.deltekfirst.com/Acme/api");
        assert_eq!(s.token_url().as_str(), "https://acme.deltekfirst.com/Acme/api/token");
        assert_eq!((s.vouchers_per_file, s.post_files, s.period_mode), (50, false, PeriodMode::Active));
        let s = DeltekSettings::from_options(
            "deltek",
            &opts(
                json!({"vouchers_per_file": "10", "post_files": "yes", "period_mode": "invoice_date", "company": "A0"}),
            ),
        )
        .unwrap();
        assert_eq!((s.vouchers_per_file, s.post_files, s.period_mode), (10, true, PeriodMode::InvoiceDate));
        assert_eq!(s.company.as_deref(), Some("A0"));
    }

    #[test]
    fn errors_name_the_key() {
        let e = DeltekSettings::from_options("dk", &json!({"database": "x"})).unwrap_err().to_string();
        assert!(e.contains("dk") && e.contains("base_url") && e.contains("required"), "{e}");
        let e = DeltekSettings::from_options("dk", &opts(json!({"vouchers_per_file": 0}))).unwrap_err().to_string();
        assert!(e.contains("vouchers_per_file") && e.contains("1 to 500"), "{e}");
        let e = DeltekSettings::from_options("dk", &opts(json!({"post_file": true}))).unwrap_err().to_string();
        assert!(e.contains("post_file") && e.contains("known"), "{e}");
        let e = DeltekSettings::from_options(
            "dk",
            &json!({"base_url": "https://a.deltekfirst.com/A/app/", "database": "d"}),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("/api instead of /app"), "{e}");
        let e = DeltekSettings::from_options("dk", &opts(json!({"period_mode": "later"}))).unwrap_err().to_string();
        assert!(e.contains("period_mode"), "{e}");
    }

    #[test]
    fn credentials_name_every_missing_field() {
        let c = Credentials::new().with("username", "api").with("password", "pw");
        let e = DeltekCredentials::from_credentials("deltek", &c).unwrap_err().to_string();
        assert!(
            e.contains("client_id") && e.contains("client_secret") && e.contains("mlc credentials set deltek"),
            "{e}"
        );
        let c = c
            .with("client_id", "id")
            .with("client_secret", "cs")
            .with("webhook_username", "u")
            .with("webhook_password", "p");
        let d = DeltekCredentials::from_credentials("deltek", &c).unwrap();
        assert_eq!(d.webhook.len(), 1);
        assert!(!format!("{d:?}").contains("pw"));
    }
}
