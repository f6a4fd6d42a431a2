//! Behaviour switches of the Cin7 Core simulator: one per inferred **[I]** or unknown **[U]**
//! behaviour of the fact sheet (`shared/research/cin7.md`), each defaulting to the fact sheet's
//! §9 "best-guess simulator design", plus the knobs tests and the demo need (compressed rate-limit
//! windows, webhook timing, lost deliveries). Change them with `POST /__sim/switches` (a partial
//! object) or [`super::Cin7Sim::set_switch`].

use serde::{Deserialize, Serialize};

/// What an over-limit call gets (fact sheet §2; the status differs by source and endpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum RateLimitAnswer {
    /// `429` + `[{"ErrorCode":429,"Exception":"You reached 60 calls per minute API limit"}]`
    /// (newest docs) **[C]**. The default.
    #[default]
    #[serde(rename = "429", alias = "too_many_requests")]
    TooManyRequests,
    /// `503` with the same text (older docs, help centre) **[C]**.
    #[serde(rename = "503", alias = "service_unavailable")]
    ServiceUnavailable,
    /// `400` + "You have reached 60 calls per 60 seconds API limit." on `/purchase*` and
    /// `/advanced-purchase*`, `503` elsewhere: what FEED saw live in 2026 **[C]**.
    #[serde(rename = "400-purchase", alias = "purchase_400")]
    Purchase400,
}

/// What a path outside the API answers (fact sheet §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum UnknownPath {
    /// `200 text/html` "Page not found" **[C: FEED live]**. The default.
    #[default]
    #[serde(rename = "html200")]
    Html200,
    /// `404` with the same HTML page.
    #[serde(rename = "404")]
    NotFound,
}

/// Shape of JSON error bodies (fact sheet §1: arrays observed, single objects quoted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ErrorShape {
    /// `[{"ErrorCode":400,"Exception":"..."}]` **[C]**. The default.
    #[default]
    Array,
    /// `{"ErrorCode":400,"Exception":"..."}` **[C: quoted so by FEED]**.
    Object,
}

/// Spelling of the invoice number key in legacy `GET purchase` answers (open question 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LegacyInvoiceKey {
    /// `InvocieNumber`, as every documentation example spells it **[C docs; U live]**. The default.
    #[default]
    Typo,
    /// `InvoiceNumber`.
    Correct,
    /// Both keys.
    Both,
}

/// What `TaskID` in a `Purchase/*Authorised` webhook names for Advanced purchases **[U]**
/// (open question 9). For Simple purchases every task id is the purchase id anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WebhookTaskId {
    /// The sub-document's own task id (the field's literal meaning). The default: the client must
    /// then find the purchase by order number when the task id is not a purchase id.
    #[default]
    Subtask,
    /// Always the purchase (master task) id.
    Purchase,
}

/// Nesting of `Supplier/Updated` entries **[U]**.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SupplierNesting {
    /// `{"Supplier": {...}, "Addresses": [...], "Contacts": [...]}` as documented **[C docs]**.
    #[default]
    Nested,
    /// The supplier's fields at the top of each entry (`SupplierDetailsList[0].ID`, as Pipedream
    /// reads it).
    Flat,
}

/// Shape of the `POST webhooks` answer **[U]**.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WebhookPostShape {
    /// `{"Webhooks": [obj]}` as documented. The default.
    #[default]
    Wrapped,
    /// The created object itself (what Pipedream and dear-ruby read).
    Bare,
}

/// How `LastUpdatedDate` / `LastModifiedOn` are written (fact sheet §1: all of these occur).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum StampStyle {
    /// `2025-06-16T14:30:00.1234567Z`. The default.
    #[default]
    #[serde(rename = "7z")]
    SevenZ,
    /// `2025-06-16T14:30:00.123` (documented format, no zone).
    #[serde(rename = "3")]
    Three,
    /// `2025-06-16T14:30:00.12Z`.
    #[serde(rename = "2z")]
    TwoZ,
    /// `2025-06-16T14:30:00` (no fraction, no zone).
    #[serde(rename = "0")]
    Plain,
}

/// `Page`/`Limit` outside 1..1000 **[U]**.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OutOfRange {
    /// 400 with an error array (§9 guess). The default.
    #[default]
    Error,
    /// Clamp into range.
    Clamp,
}

/// All switches. Unknown keys in a patch are refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Cin7Switches {
    /// Unknown path answer **[C html200]**. Default `html200`.
    pub unknown_path: UnknownPath,
    /// Error body shape. Default `array`.
    pub error_shape: ErrorShape,
    /// Text of the 403 for missing or wrong `api-auth-*` headers **[U]**. Default
    /// `Incorrect credentials!`.
    pub auth_error_text: String,

    /// Calls allowed per window per API application **[C: 60]**.
    pub rate_limit_calls: u32,
    /// Window length in *real* milliseconds, rolling **[I: "per 60 seconds"]**. Default 60 000;
    /// tests and the demo compress it (e.g. 60 calls per 1 000 ms).
    pub rate_limit_window_ms: u64,
    /// Over-limit answer. Default `429`.
    pub rate_limit_answer: RateLimitAnswer,
    /// Send `Retry-After` on over-limit answers **[C: Cin7 sends none]**. Default false.
    pub retry_after: bool,
    /// `Retry-After` seconds when `retry_after` is on; absent = until a slot frees (rounded up).
    pub retry_after_secs: Option<u64>,
    /// Rejected (over-limit) calls count against the window too (conservative §9). Default true.
    pub count_rejected_calls: bool,

    /// `Page`/`Limit` out of range. Default `error`.
    pub limit_out_of_range: OutOfRange,
    /// Legacy `purchase` invoice number key. Default `typo` (`InvocieNumber`).
    pub legacy_invoice_number_key: LegacyInvoiceKey,
    /// How record stamps are written. Default `7z`.
    pub stamp_style: StampStyle,
    /// Refuse lines whose supplied `Total` differs from `round(Qty*Price*(1-Discount/100), 2)`
    /// by more than 0.01 **[U]**. Default true.
    pub validate_line_totals: bool,
    /// Line `Account` codes, `TaxRule` names and payment accounts must exist **[U]**. Default true.
    pub validate_references: bool,
    /// Report every validation problem of a request instead of the first one (Cin7 reports only
    /// some per request **[C: FEED §10]**). Default false.
    pub report_all_validation_errors: bool,

    /// An accounting integration (Xero/QuickBooks) is on: account writes answer 400 **[C]**.
    /// Default false.
    pub accounting_integration: bool,

    /// The Automation add-on is subscribed; without it `webhooks` answers 403 **[U]**. Default true.
    pub automation_enabled: bool,
    /// `POST webhooks` answer shape. Default `wrapped`.
    pub webhook_post_shape: WebhookPostShape,
    /// Webhook `TaskID` for Advanced purchases. Default `subtask`.
    pub webhook_task_id: WebhookTaskId,
    /// GUIDs in webhook payloads upper-case, as in the docs' examples **[C]**. Default true.
    pub webhook_upper_case_ids: bool,
    /// List key of `Purchase/Updated` payloads **[C docs: `CustomerDetailsList`, likely a
    /// copy-paste; U live]**. Default `CustomerDetailsList`.
    pub purchase_updated_list_key: String,
    /// `Supplier/Updated` entry nesting. Default `nested`.
    pub supplier_updated_nesting: SupplierNesting,
    /// Simulated seconds from the event to the first delivery attempt **[C: ~1 min]**.
    pub webhook_first_delay_secs: u64,
    /// Simulated minutes between failed attempts **[C: 5, 10, 15, 20, 25]**; after the last one
    /// fails the webhook is deactivated **[C]**.
    pub webhook_retry_minutes: Vec<u64>,
    /// Real milliseconds an attempt may take before it counts as failed **[U: 30 s guess]**.
    pub webhook_timeout_ms: u64,
    /// Share of deliveries silently never sent (lost webhooks), 0..=1. Default 0.
    pub webhook_drop_share: f64,
    /// Seed of the generator that decides which deliveries are dropped.
    pub webhook_drop_seed: u64,
}

impl Default for Cin7Switches {
    fn default() -> Self {
        Cin7Switches {
            unknown_path: UnknownPath::Html200,
            error_shape: ErrorShape::Array,
            auth_error_text: "Incorrect credentials!".into(),
            rate_limit_calls: 60,
            rate_limit_window_ms: 60_000,
            rate_limit_answer: RateLimitAnswer::TooManyRequests,
            retry_after: false,
            retry_after_secs: None,
            count_rejected_calls: true,
            limit_out_of_range: OutOfRange::Error,
            legacy_invoice_number_key: LegacyInvoiceKey::Typo,
            stamp_style: StampStyle::SevenZ,
            validate_line_totals: true,
            validate_references: true,
            report_all_validation_errors: false,
            accounting_integration: false,
            automation_enabled: true,
            webhook_post_shape: WebhookPostShape::Wrapped,
            webhook_task_id: WebhookTaskId::Subtask,
            webhook_upper_case_ids: true,
            purchase_updated_list_key: "CustomerDetailsList".into(),
            supplier_updated_nesting: SupplierNesting::Nested,
            webhook_first_delay_secs: 60,
            webhook_retry_minutes: vec![5, 10, 15, 20, 25],
            webhook_timeout_ms: 30_000,
            webhook_drop_share: 0.0,
            webhook_drop_seed: 0xC17_0000_D209,
        }
    }
}

impl Cin7Switches {
    /// Merge a partial switch object into a copy of `self`.
    pub fn merged(&self, patch: &serde_json::Value) -> Result<Cin7Switches, String> {
        let serde_json::Value::Object(p) = patch else { return Err("switches must be a JSON object".into()) };
        let mut v = serde_json::to_value(self).map_err(|e| e.to_string())?;
        if let serde_json::Value::Object(m) = &mut v {
            for (k, val) in p {
                m.insert(k.clone(), val.clone());
            }
        }
        let s: Cin7Switches = serde_json::from_value(v).map_err(|e| format!("bad switches: {e}"))?;
        if s.rate_limit_calls == 0 || s.rate_limit_window_ms == 0 {
            return Err("rate_limit_calls and rate_limit_window_ms must be above 0".into());
        }
        if !(0.0..=1.0).contains(&s.webhook_drop_share) {
            return Err("webhook_drop_share must be between 0 and 1".into());
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patches_merge_and_unknown_keys_are_refused() {
        let s = Cin7Switches::default();
        let m = s.merged(&json!({"rate_limit_answer": "400-purchase", "rate_limit_window_ms": 1000})).unwrap();
        assert_eq!(m.rate_limit_answer, RateLimitAnswer::Purchase400);
        assert_eq!(m.rate_limit_window_ms, 1000);
        assert!(s.merged(&json!({"nope": 1})).unwrap_err().contains("nope"));
        assert!(s.merged(&json!({"webhook_drop_share": 2.0})).is_err());
        assert!(s.merged(&json!({"rate_limit_calls": 0})).is_err());
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["rate_limit_answer"], "429");
        assert_eq!(v["unknown_path"], "html200");
        assert_eq!(v["stamp_style"], "7z");
    }
}
