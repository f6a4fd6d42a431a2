//! Behaviour switches of the Procore simulator: one per inferred **[I]** or unknown **[U]**
//! behaviour of the fact sheet (`shared/research/procore.md`), each defaulting to the sheet's §12
//! "best-guess simulator design", plus the knobs tests and the demo need (compressed rate-limit
//! windows, webhook timing, lost, duplicated and reordered deliveries). Change them with
//! `POST /__sim/switches` (a partial object) or [`super::ProcoreSim::set_switch`].

use serde::{Deserialize, Serialize};

/// A `per_page` above the route's maximum (open question 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OverMax {
    /// Clamp to the maximum and say so in `Per-Page` (what api-pagination does) **[I]**. The default.
    #[default]
    Clamp,
    /// 400.
    Error,
}

/// A filter the route does not support (fact sheet §0.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum UnsupportedFilter {
    /// Dropped silently like an unknown Rails parameter, so every record comes back **[I]**. The
    /// default: the client must re-check each condition on every record.
    #[default]
    Ignore,
    /// 400 naming the filter.
    Error,
}

/// How money and quantities are written (fact sheet §3 and §0.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MoneyStyle {
    /// Strings: 2 dp on requisitions and direct costs (`"55000.00"`), Ruby BigDecimal style on
    /// commitments and change orders (`"1142000.0"`) **[C]**. The default.
    #[default]
    Documented,
    /// Strings with 2 dp everywhere.
    TwoDp,
    /// Ruby style everywhere (`"250.0"`, `"12.5"`).
    Ruby,
    /// JSON numbers (the OAS types say `float`; a client must accept them too).
    Numbers,
}

/// Body of a missing `Procore-Company-Id` answer (fact sheet §2.3, open question 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BodyStyle {
    /// `{"errors": "…"}`. The default.
    #[default]
    Json,
    /// The text alone, `text/plain`.
    Text,
}

/// All switches. Unknown keys in a patch are refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProcoreSwitches {
    /// `expires_in` of a client-credentials token, in simulated seconds **[C: 5400]**.
    pub token_lifetime_secs: u64,
    /// Client-credentials answers carry a `refresh_token` (open question 7) **[U]**. Default false.
    pub token_refresh_token: bool,
    /// `/oauth/token` accepts the client as HTTP Basic (open question 7) **[I: Doorkeeper does]**.
    /// Default true.
    pub accept_basic_client_auth: bool,

    /// `GET /rest/v1.0/me` and `GET /rest/v1.0/companies` answer without `Procore-Company-Id`
    /// (§2.3: the docs disagree; the service-account guide says send it) **[C conflicting]**.
    /// Default true (the reading).
    pub company_header_exempt_me_companies: bool,
    /// Status of a call without `Procore-Company-Id` **[U: 400 or 404]**. Default 400.
    pub missing_company_header_status: u16,
    /// Body of that answer. Default `json`.
    pub missing_company_header_body: BodyStyle,

    /// `per_page` when none is sent, for routes without their own default **[I: 100]**.
    pub default_per_page: u32,
    /// Largest `per_page`, for routes without their own maximum **[I: 1000]**.
    pub max_per_page: u32,
    /// `/rest/v1.1/projects` maximum **[C: 300]**.
    pub projects_max_per_page: u32,
    /// `/rest/v1.1/requisitions` default **[C: 30]**.
    pub requisitions_v11_default_per_page: u32,
    /// `per_page` above the maximum. Default `clamp`.
    pub over_max_per_page: OverMax,
    /// `Link` carries `rel="prev"` after page 1, as the api-pagination gem does (the docs' prose
    /// leaves it out on page 2) **[I]**. Default true.
    pub link_prev: bool,
    /// `Link` URLs keep every query parameter with `page` replaced (the gem), or only
    /// `page`/`per_page` (the docs' example) (open question 4) **[I]**. Default true.
    pub link_keeps_query: bool,

    /// Filters a route does not support. Default `ignore`.
    pub unsupported_filters: UnsupportedFilter,
    /// How money is written. Default `documented`.
    pub money_style: MoneyStyle,

    /// Hourly budget per app and company **[C-old: 3600; today only the headers say]**.
    pub hourly_limit: u32,
    /// Hourly window in simulated milliseconds (default 3 600 000).
    pub hourly_window_ms: u64,
    /// Spike budget per app and company; 0 turns the spike window off **[I: 25]**.
    pub spike_limit: u32,
    /// Spike window in simulated milliseconds **[C: 10 s]**.
    pub spike_window_ms: u64,
    /// 429s carry `Retry-After` (the error reference says to honour it; open question 2) **[U]**.
    /// Default true.
    pub rate_limit_retry_after: bool,
    /// 429 body as JSON `{"errors": "…"}` instead of the documented plain text **[U]**. Default false.
    pub rate_limit_body_json: bool,
    /// Refused calls count against the windows too **[U]**. Default false.
    pub count_rejected_calls: bool,

    /// Status of a duplicate `origin_id` (409 in the error reference, 422 seen) **[C both]**.
    /// Default 422.
    pub duplicate_origin_id_status: u16,

    /// Requisitions (subcontractor invoices) send webhook events as resource `Requisitions`
    /// (open question 5: absent from the 2026 sandbox list) **[U]**. Default false.
    pub requisition_webhooks: bool,
    /// Real milliseconds a delivery may take before it counts as failed **[C: 5 s]**.
    pub webhook_timeout_ms: u64,
    /// First retry delay after a failed delivery, simulated seconds **[C: 1 s]**; doubles per failure.
    pub webhook_backoff_initial_secs: u64,
    /// Longest retry delay, simulated seconds **[C: 1 h]**.
    pub webhook_backoff_max_secs: u64,
    /// After failing this long (simulated seconds) the hook's queue is flushed and its events
    /// marked `discarded` **[C: 12 h]**.
    pub webhook_discard_after_secs: u64,
    /// Share of events silently never delivered (lost webhooks), 0..=1. Default 0.
    pub webhook_drop_share: f64,
    /// Share of events delivered twice (at-least-once) **[C: duplicates possible]**. Default 0.
    pub webhook_duplicate_share: f64,
    /// Queue new events ahead of older pending ones, so they arrive out of order **[I: order not
    /// promised]**. Default false.
    pub webhook_out_of_order: bool,
    /// Seed of the generator that decides drops and duplicates.
    pub webhook_seed: u64,
    /// Trigger lists spell `event_type` in upper case (`CREATE`) as the OAS documents, while
    /// requests and payloads use lower case **[C]**. Default true.
    pub trigger_event_type_upper: bool,
}

impl Default for ProcoreSwitches {
    fn default() -> Self {
        ProcoreSwitches {
            token_lifetime_secs: 5400,
            token_refresh_token: false,
            accept_basic_client_auth: true,
            company_header_exempt_me_companies: true,
            missing_company_header_status: 400,
            missing_company_header_body: BodyStyle::Json,
            default_per_page: 100,
            max_per_page: 1000,
            projects_max_per_page: 300,
            requisitions_v11_default_per_page: 30,
            over_max_per_page: OverMax::Clamp,
            link_prev: true,
            link_keeps_query: true,
            unsupported_filters: UnsupportedFilter::Ignore,
            money_style: MoneyStyle::Documented,
            hourly_limit: 3600,
            hourly_window_ms: 3_600_000,
            spike_limit: 25,
            spike_window_ms: 10_000,
            rate_limit_retry_after: true,
            rate_limit_body_json: false,
            count_rejected_calls: false,
            duplicate_origin_id_status: 422,
            requisition_webhooks: false,
            webhook_timeout_ms: 5_000,
            webhook_backoff_initial_secs: 1,
            webhook_backoff_max_secs: 3_600,
            webhook_discard_after_secs: 12 * 3_600,
            webhook_drop_share: 0.0,
            webhook_duplicate_share: 0.0,
            webhook_out_of_order: false,
            webhook_seed: 0x9C0_4E5E_ED01,
            trigger_event_type_upper: true,
        }
    }
}

impl ProcoreSwitches {
    /// Merge a partial switch object into a copy of `self`, checking the values.
    pub fn merged(&self, patch: &serde_json::Value) -> Result<ProcoreSwitches, String> {
        let serde_json::Value::Object(p) = patch else { return Err("switches must be a JSON object".into()) };
        let mut v = serde_json::to_value(self).map_err(|e| e.to_string())?;
        if let serde_json::Value::Object(m) = &mut v {
            for (k, val) in p {
                m.insert(k.clone(), val.clone());
            }
        }
        let s: ProcoreSwitches = serde_json::from_value(v).map_err(|e| format!("bad switches: {e}"))?;
        s.check()?;
        Ok(s)
    }

    /// Refuse values the simulator cannot work with.
    pub fn check(&self) -> Result<(), String> {
        if self.hourly_limit == 0 || self.hourly_window_ms == 0 || self.spike_window_ms == 0 {
            return Err("hourly_limit, hourly_window_ms and spike_window_ms must be above 0".into());
        }
        if self.default_per_page == 0 || self.max_per_page == 0 || self.projects_max_per_page == 0 {
            return Err("per-page defaults and maxima must be above 0".into());
        }
        if self.token_lifetime_secs == 0 {
            return Err("token_lifetime_secs must be above 0".into());
        }
        for (k, v) in
            [("webhook_drop_share", self.webhook_drop_share), ("webhook_duplicate_share", self.webhook_duplicate_share)]
        {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("{k} must be between 0 and 1"));
            }
        }
        for (k, s) in [
            ("missing_company_header_status", self.missing_company_header_status),
            ("duplicate_origin_id_status", self.duplicate_origin_id_status),
        ] {
            if !(400..=499).contains(&s) {
                return Err(format!("{k} must be a 4xx status"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patches_merge_and_bad_values_are_refused() {
        let s = ProcoreSwitches::default();
        let m = s.merged(&json!({"money_style": "ruby", "spike_limit": 0, "spike_window_ms": 1000})).unwrap();
        assert_eq!((m.money_style, m.spike_limit, m.spike_window_ms), (MoneyStyle::Ruby, 0, 1000));
        assert!(s.merged(&json!({"nope": 1})).unwrap_err().contains("nope"));
        assert!(s.merged(&json!({"webhook_drop_share": 2.0})).is_err());
        assert!(s.merged(&json!({"hourly_limit": 0})).is_err());
        assert!(s.merged(&json!({"missing_company_header_status": 200})).is_err());
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!((v["money_style"].as_str(), v["over_max_per_page"].as_str()), (Some("documented"), Some("clamp")));
    }
}
