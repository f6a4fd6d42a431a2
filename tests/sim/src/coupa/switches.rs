//! Behaviour switches of the Coupa simulator: one per inferred **[I]** or unknown **[U]** behaviour
//! of the fact sheet (`shared/research/coupa.md`), each defaulting to the sheet's §13 "simulator
//! design", plus the knobs tests and the demo need (token lifetime, activation delay, the rate
//! bucket, the instance time zone). Change them with `POST /__sim/switches` (a partial object) or
//! [`super::CoupaSim::set_switch`]. Unknown keys are refused, so a typo never silently does nothing.
//!
//! Confirmed **[C]** behaviour is not switchable: kebab-case keys, bare JSON arrays, decimals as
//! strings, `limit` capped at 50 (the cap itself), `offset` 0-based, `expires_in` 86399, no
//! refresh token, the legacy `X-COUPA-API-KEY` refused, `X-Coupa-API-Version` ignored, a PO
//! revision resetting `exported`, API changes never resetting it.

use serde::{Deserialize, Serialize};

/// What a token request without `scope` is granted (fact sheet open question 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OmittedScope {
    /// Every scope configured on the OAuth client (§13.1 guess). The default.
    #[default]
    All,
    /// A token with no scopes: every API call then answers the missing-scope refusal.
    None,
    /// `400 {"error":"invalid_scope"}`.
    Error,
}

/// What a request without an `Accept` header gets (§3: XML is the historical default **[I]**).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MissingAccept {
    /// `406` (the simulator does not emulate XML: a deliberate deviation, §13.2). The default.
    #[default]
    NotAcceptable,
    /// Answer JSON anyway.
    Json,
}

/// What a filter on an attribute the resource does not have gets (open question 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum UnknownFilter {
    /// `400` with the error envelope. The default (a client bug should show).
    #[default]
    Error,
    /// The condition is ignored.
    Ignore,
}

/// What `limit` above 50 gets (§4: capped **[I]**; open question 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LimitOverMax {
    /// Silently served 50. The default.
    #[default]
    Cap,
    /// `400` with the error envelope.
    Error,
}

/// How datetimes are written (§3: ISO 8601 with the instance's offset **[C]**; the other styles
/// prove the client reads any ISO 8601 form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DatetimeStyle {
    /// `2016-10-07T06:59:46-07:00` **[C]**. The default.
    #[default]
    Offset,
    /// `2016-10-07T13:59:46Z`.
    Zulu,
    /// `2016-10-07T06:59:46.123-07:00`.
    Millis,
}

/// Body of a throttled answer (§10: undocumented; §13.4: text on purpose).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RateLimitBody {
    /// `text/plain` `Rate limit exceeded`. The default.
    #[default]
    Text,
    /// The JSON error envelope with the same text.
    Json,
}

/// Which bucket a call is counted in (§10: scope of the bucket **[U]**).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RateLimitKey {
    /// One bucket per OAuth client (§13.4). The default.
    #[default]
    Client,
    /// One bucket for the whole instance (every integration shares it).
    Instance,
}

/// What a PUT that sets `exported` does with other changes in the same request (§5: "Any other
/// changes included may be ignored" **[C]**).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ExportedWithOtherChanges {
    /// The other changes are dropped silently. The default.
    #[default]
    Ignore,
    /// `400`: the export flag needs its own request.
    Error,
}

/// Which header total key a purchase order carries (§7 / open question 7 **[U]**).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PoTotalKey {
    /// `total-with-estimated-tax` (what mocks show). The default.
    #[default]
    TotalWithEstimatedTax,
    /// `total` (CMP's field list).
    Total,
    /// `invoice-total` (only with the default response filter).
    InvoiceTotal,
    /// No header total at all (R39 OAS): totals must be computed from the lines.
    None,
}

/// How a 404 on show looks (open question 4 **[U]**).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum NotFoundBody {
    /// `{"errors":{"error":["No results match your search criteria."]}}` (JSON mirror of the XML
    /// message, §13.2). The default.
    #[default]
    Envelope,
    /// `text/plain` `No results match your search criteria.`
    Text,
}

/// All switches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CoupaSwitches {
    // ---- OAuth (§2, §13.1)
    /// Token lifetime in simulated seconds **[C: 86399]**; tests shorten it to prove renewal.
    pub token_ttl_secs: u64,
    /// A new token answers 401 for this many simulated milliseconds (Coupa: "wait ≥5 s between
    /// generating a token and first using it … otherwise your call may fail" **[C]**, modelled
    /// as certain failure). Default 0 (off).
    pub token_activation_ms: u64,
    /// Token answers carry `scope` and `created_at` besides `access_token`, `token_type`,
    /// `expires_in` **[U]**. Default true.
    pub token_extra_keys: bool,
    /// `expires_in` as a string (`"86399"`) **[U]**. Default false.
    pub expires_in_as_string: bool,
    /// HTTP Basic client authentication on `/oauth2/token` **[I: used by third parties]**. Default true.
    pub basic_client_auth: bool,
    /// A token request without `scope`. Default `all`.
    pub omitted_scope: OmittedScope,
    /// `/oauth2/access_tokens` answers like `/oauth2/token` (the Swagger's tokenUrl, probably a
    /// doc artefact **[I]**). Default false (404).
    pub access_tokens_alias: bool,
    /// Status for a token that lacks the endpoint's scope **[I: 403]**. 401 and 403 allowed.
    pub missing_scope_status: u16,

    // ---- Conventions (§3, §4)
    /// The instance's time zone offset in minutes, used in every datetime written (default
    /// -420, `-07:00`, as in Coupa's samples).
    pub time_zone_offset_minutes: i32,
    /// How datetimes are written. Default `offset`.
    pub datetime_style: DatetimeStyle,
    /// Decimals as JSON numbers instead of strings (the client must read both). Default false.
    pub numbers_as_numbers: bool,
    /// Requests without `Accept`. Default `not_acceptable`.
    pub missing_accept: MissingAccept,
    /// Filters on unknown attributes. Default `error`.
    pub unknown_filter: UnknownFilter,
    /// `limit` above 50. Default `cap`.
    pub limit_over_max: LimitOverMax,
    /// 404 body. Default `envelope`.
    pub not_found_body: NotFoundBody,
    /// PO header total key. Default `total_with_estimated_tax`.
    pub po_total_key: PoTotalKey,
    /// Spell the cancelled PO status `canceled` (CMP 0024) instead of `cancelled` (the enum).
    /// Default false.
    pub po_status_canceled_spelling: bool,

    // ---- Rate limit (§10, §13.4)
    /// Whether the bucket is enforced at all. Default true.
    pub rate_limit_enabled: bool,
    /// Refill per second **[C: 25]**.
    pub rate_limit_per_second: f64,
    /// Bucket size **[C: burst 20]**.
    pub rate_limit_burst: u32,
    /// Bucket key. Default `client`.
    pub rate_limit_key: RateLimitKey,
    /// Status of a throttled answer **[U: 429; TAP also retried 403]**. 429 or 403.
    pub rate_limit_status: u16,
    /// `Retry-After` seconds on a throttled answer; `null` sends none **[U; issue: 1]**.
    pub rate_limit_retry_after_secs: Option<u64>,
    /// Body of a throttled answer. Default `text`.
    pub rate_limit_body: RateLimitBody,

    // ---- Export flag and writes (§5, §13.3)
    /// `PUT ?exported=` bumps `updated-at` (open question 5 **[U]**). Default true.
    pub exported_bumps_updated_at: bool,
    /// Other changes in an `exported` PUT. Default `ignore`.
    pub exported_with_other_changes: ExportedWithOtherChanges,
    /// UI edits (action `ui_edit_invoice`) reset `exported` (only when Coupa Support enabled
    /// "Reset … last exported at for every change" **[C]**). Default false.
    pub reset_exported_on_ui_change: bool,
    /// Voiding an invoice resets `exported` to false (`last-exported-at` is kept) **[U]**: Coupa's
    /// own NetSuite connector runs a separate `status=voided&exported=false` pass to void bills it
    /// posted, which works only if it does; the fact sheet says API changes never reset the flag.
    /// Default false.
    pub void_resets_exported: bool,
    /// "Enforce all invoice validations on invoice update and submit APIs" **[C instance
    /// setting]**: a PUT on an invoice coded to an inactive account is refused (the export PUT
    /// too **[I]**). Default false.
    pub enforce_invoice_validations: bool,

    // ---- Events (§13.4: our scheme, not Coupa's)
    /// Header carrying `t=<unix>,v1=<hex>` (ml-connector's documented scheme, `infra/README.md`).
    /// Default `X-MLC-Signature`.
    pub signature_header: String,
    /// Retries after a failed delivery. Default 3.
    pub event_retries: u32,
    /// Simulated seconds between delivery attempts. Default 30.
    pub event_retry_delay_secs: u64,
    /// Real milliseconds an attempt may take. Default 5000.
    pub event_timeout_ms: u64,
}

impl Default for CoupaSwitches {
    fn default() -> Self {
        CoupaSwitches {
            token_ttl_secs: 86_399,
            token_activation_ms: 0,
            token_extra_keys: true,
            expires_in_as_string: false,
            basic_client_auth: true,
            omitted_scope: OmittedScope::All,
            access_tokens_alias: false,
            missing_scope_status: 403,
            time_zone_offset_minutes: -420,
            datetime_style: DatetimeStyle::Offset,
            numbers_as_numbers: false,
            missing_accept: MissingAccept::NotAcceptable,
            unknown_filter: UnknownFilter::Error,
            limit_over_max: LimitOverMax::Cap,
            not_found_body: NotFoundBody::Envelope,
            po_total_key: PoTotalKey::TotalWithEstimatedTax,
            po_status_canceled_spelling: false,
            rate_limit_enabled: true,
            rate_limit_per_second: 25.0,
            rate_limit_burst: 20,
            rate_limit_key: RateLimitKey::Client,
            rate_limit_status: 429,
            rate_limit_retry_after_secs: Some(1),
            rate_limit_body: RateLimitBody::Text,
            exported_bumps_updated_at: true,
            exported_with_other_changes: ExportedWithOtherChanges::Ignore,
            reset_exported_on_ui_change: false,
            void_resets_exported: false,
            enforce_invoice_validations: false,
            signature_header: "X-MLC-Signature".into(),
            event_retries: 3,
            event_retry_delay_secs: 30,
            event_timeout_ms: 5_000,
        }
    }
}

impl CoupaSwitches {
    /// Merge a partial switch object into a copy of `self`, checking the values.
    pub fn merged(&self, patch: &serde_json::Value) -> Result<CoupaSwitches, String> {
        let serde_json::Value::Object(p) = patch else { return Err("switches must be a JSON object".into()) };
        let mut v = serde_json::to_value(self).map_err(|e| e.to_string())?;
        if let serde_json::Value::Object(m) = &mut v {
            for (k, val) in p {
                m.insert(k.clone(), val.clone());
            }
        }
        let s: CoupaSwitches = serde_json::from_value(v).map_err(|e| format!("bad switches: {e}"))?;
        s.check()?;
        Ok(s)
    }

    fn check(&self) -> Result<(), String> {
        if !matches!(self.missing_scope_status, 401 | 403) {
            return Err("missing_scope_status must be 401 or 403".into());
        }
        if !matches!(self.rate_limit_status, 429 | 403 | 503) {
            return Err("rate_limit_status must be 429, 403 or 503".into());
        }
        if !(self.rate_limit_per_second.is_finite() && self.rate_limit_per_second > 0.0) || self.rate_limit_burst == 0 {
            return Err("rate_limit_per_second and rate_limit_burst must be above 0".into());
        }
        if self.token_ttl_secs == 0 {
            return Err("token_ttl_secs must be above 0".into());
        }
        if !(-14 * 60..=14 * 60).contains(&self.time_zone_offset_minutes) {
            return Err("time_zone_offset_minutes must be within ±840".into());
        }
        if self.signature_header.trim().is_empty() {
            return Err("signature_header must name a header".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_follow_the_fact_sheet_and_patches_are_checked() {
        let s = CoupaSwitches::default();
        assert_eq!((s.token_ttl_secs, s.rate_limit_burst, s.rate_limit_retry_after_secs), (86_399, 20, Some(1)));
        assert_eq!(s.rate_limit_per_second, 25.0);
        let m = s.merged(&json!({"token_ttl_secs": 2, "rate_limit_retry_after_secs": null})).unwrap();
        assert_eq!((m.token_ttl_secs, m.rate_limit_retry_after_secs), (2, None));
        assert!(s.merged(&json!({"nope": 1})).unwrap_err().contains("nope"));
        assert!(s.merged(&json!({"missing_scope_status": 500})).is_err());
        assert!(s.merged(&json!({"rate_limit_burst": 0})).is_err());
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["omitted_scope"], "all");
        assert_eq!(v["po_total_key"], "total_with_estimated_tax");
    }
}
