//! Behaviour switches of the Acumatica simulator: one per inferred **[I]** or unknown **[U]**
//! behaviour of the fact sheet (`shared/research/acumatica.md`), each defaulting to the sheet's
//! §7 "simulator design" guess, plus the tenant and licence settings a real customer can change
//! (hold on entry, approvals, licence limits) and the knobs tests and the demo need. Change them
//! with `POST /__sim/switches` (a partial object) or [`super::AcumaticaSim::set_switch`].

use serde::{Deserialize, Serialize};

/// The body of a 404 for a wrong endpoint version or unknown entity (§1, open question 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum NotFoundBody {
    /// ASP.NET Web API's `{"message":"No HTTP resource was found that matches the request URI
    /// '<url>'."}` **[I]**. The default.
    #[default]
    Message,
    /// No body at all.
    Empty,
    /// IIS's HTML "404 - File or directory not found." page.
    Html,
}

/// The body of a licence-throttle 429 (§5, open question 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ThrottleBody {
    /// A JSON `HttpError` **[I]**. The default.
    #[default]
    Json,
    /// IIS plain text "The custom error module does not recognize this error." **[C: COMM]**.
    IisText,
}

/// What the token endpoint and cookie login answer when the licence's session cap is hit
/// (§2.3: "API Login Limit" in the body, or an IIS page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LoginLimitBody {
    /// 429 with a JSON body containing `API Login Limit` **[C: CS string check]**. The default.
    #[default]
    Json,
    /// 429 with IIS plain text (no "API Login Limit" in it) **[C: COMM Next.js test]**.
    IisText,
}

/// How much of a record a `PUT` answers with (§3.3, open question 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PutEcho {
    /// Every top-level field, plus the details and linked entities sent or expanded **[I: "in
    /// practice top-level fields commonly appear"]**. The default.
    #[default]
    Full,
    /// Only the fields sent (plus `id`, keys and `$select`/`$expand`ed ones), as the docs say
    /// **[C: DOC]**.
    SentOnly,
}

/// Shape of `GET /entity` (§1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum EntityListShape {
    /// `{"version":{...},"endpoints":[...]}` **[C: DOC]**. The default.
    #[default]
    Object,
    /// A bare array of `{name, version, href}` (older builds) **[C-weak: LIVE]**.
    Array,
}

/// What a PUT does with a `VendorRef` already used on another bill of the same vendor
/// (AP Preferences "Raise an error on duplicate vendor reference number").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateVendorRef {
    /// Accepted (the UI only warns): the product default **[I]**. The default.
    #[default]
    Allow,
    /// 422 with an error on `VendorRef`.
    Error,
}

/// All switches. Unknown keys in a patch are refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AcumaticaSwitches {
    /// Contract Version 4 endpoint versions served under `Default` **[C: 20.200–25.200 exist;
    /// §7 serves these four]**.
    pub versions: Vec<String>,
    /// Also serve `Default/26.200.001` with the Contract Version 5 shapes (drop-downs as
    /// `{"id","description"}`, date-only values, bare date literals in `$filter`) **[C: §0.2]**.
    /// Default false.
    pub serve_cv5: bool,
    /// Body of a 404 for an unknown version or entity **[U]**.
    pub not_found_body: NotFoundBody,
    /// `GET /entity` answer shape.
    pub entity_list_shape: EntityListShape,
    /// Tenant time zone as minutes from UTC; every datetime is written with this offset
    /// **[C: "datetimes with the tenant offset"; value I]**. Default -240 (US Eastern, summer).
    pub tenant_utc_offset_minutes: i32,
    /// A date field sent as a datetime with an offset is converted to the tenant's zone before
    /// its date is taken (so `2025-03-01T00:00:00+00:00` is 28 Feb in New York) **[U]**.
    /// Default false: the date part is taken as written.
    pub convert_offset_dates: bool,
    /// Access-token lifetime, `expires_in` **[C: 3600]**.
    pub access_token_lifetime_secs: i64,
    /// A refresh returns a new refresh token **[C]**; the old one stops working **[U: open
    /// question 9]**. Default true.
    pub refresh_token_one_time: bool,
    /// The refresh-token chain ends this many days after the password grant (no sliding
    /// expiration) **[C: 30]**.
    pub refresh_chain_days: i64,
    /// Cookie sessions end after this long without a call **[C: 10 min]**.
    pub session_idle_timeout_secs: i64,
    /// Logout refuses an empty POST without `Content-Length: 0` (411) **[C: LIVE, IIS]**.
    pub logout_requires_content_length: bool,
    /// Licence "Maximum Number of Web Services API Users" (API sessions) **[C exists]**.
    /// Default 5.
    pub licence_max_sessions: u32,
    /// Licence "max concurrent API requests" (processing cores); 0 = unlimited **[C exists]**.
    /// Default 2.
    pub licence_max_concurrent: u32,
    /// Licence "max requests per minute"; 0 = unlimited **[C exists]**. Past 50 % of it in the
    /// last minute each request is delayed by the documented formula. Default 300.
    pub licence_requests_per_minute: u32,
    /// Requests waiting beyond this are declined with 429 **[C: more than 20]**.
    pub licence_queue_limit: u32,
    /// A request that waited longer than this (simulated seconds) is declined with 429
    /// **[C: 10 minutes]**.
    pub licence_max_wait_secs: i64,
    /// Body of licence-throttle 429s **[U]**.
    pub throttle_body: ThrottleBody,
    /// Body of the session-cap 429 at login/token.
    pub login_limit_body: LoginLimitBody,
    /// PUT answer shape **[U]**.
    pub put_echo: PutEcho,
    /// `$filter` on a drop-down also matches internal codes (`Status eq 'H'`) besides labels
    /// **[U: open question 4]**. Default true.
    pub filter_accepts_codes: bool,
    /// HTTP status for an unknown field in `$filter`/`$select`/`$expand` **[I: 500 HttpError
    /// naming the field]**.
    pub unknown_field_status: u16,
    /// List reads whose `$select`/`$expand` name one of these fields (`Entity.Field`, or
    /// `Details` for a detail collection) fail with "Optimization cannot be performed.The
    /// following fields cause the error: ..." **[C: the error exists; I: when]**. Default none.
    pub optimization_error_fields: Vec<String>,
    /// AP Preferences "Hold Documents on Entry": new bills without `Hold` start on hold **[I:
    /// product default]**. Default true.
    pub bill_hold_on_entry: bool,
    /// PO Preferences "Hold Documents on Entry" **[I]**. Default true.
    pub po_hold_on_entry: bool,
    /// AP approval maps: a bill taken off hold goes to `Pending Approval` **[I]**. Default false.
    pub bill_approvals: bool,
    /// PO approval maps: a PO taken off hold goes to `Pending Approval` **[I]**. Default false.
    pub po_approvals: bool,
    /// AP Preferences "Require Vendor Reference" **[I: product default on]**. Default true.
    pub require_vendor_ref: bool,
    /// Duplicate `VendorRef` per vendor **[I]**.
    pub duplicate_vendor_ref: DuplicateVendorRef,
    /// Polls of a long operation's status that answer 202 before the 204 **[U]**. Default 1.
    pub long_op_polls: u32,
    /// A long operation also completes after this many simulated seconds without polls
    /// **[U]**. Default 5.
    pub long_op_secs: i64,
    /// Push notifications: attempts per notification **[C: at most five in total]**.
    pub push_max_attempts: u32,
    /// Push notifications: simulated seconds between attempts **[U]**. Default 60.
    pub push_retry_delay_secs: u64,
    /// Push notifications: per-attempt timeout in real milliseconds **[U]**. Default 10 000.
    pub push_timeout_ms: u64,
    /// Push payloads carry empty `Inserted`/`Deleted` arrays instead of omitting them **[U: open
    /// question 5; §7 guess: present]**. Default true.
    pub push_empty_arrays: bool,
    /// Share (0..=1) of notifications sent twice (at-least-once delivery) **[C: duplicates
    /// happen]**. Default 0.
    pub push_duplicate_share: f64,
    /// Seed of the duplicate draw.
    pub push_duplicate_seed: u64,
    /// Serve the `Currency` entity (CM202000: the tenant's base currency and the ones it has
    /// added) at `GET …/Currency` **[U: not in the research sheet's entity list]**. Default true;
    /// false answers 404 as for any entity the endpoint lacks.
    pub serve_currencies: bool,
}

impl Default for AcumaticaSwitches {
    fn default() -> Self {
        AcumaticaSwitches {
            versions: ["20.200.001", "22.200.001", "23.200.001", "24.200.001"].map(String::from).to_vec(),
            serve_cv5: false,
            not_found_body: NotFoundBody::Message,
            entity_list_shape: EntityListShape::Object,
            tenant_utc_offset_minutes: -240,
            convert_offset_dates: false,
            access_token_lifetime_secs: 3600,
            refresh_token_one_time: true,
            refresh_chain_days: 30,
            session_idle_timeout_secs: 600,
            logout_requires_content_length: true,
            licence_max_sessions: 5,
            licence_max_concurrent: 2,
            licence_requests_per_minute: 300,
            licence_queue_limit: 20,
            licence_max_wait_secs: 600,
            throttle_body: ThrottleBody::Json,
            login_limit_body: LoginLimitBody::Json,
            put_echo: PutEcho::Full,
            filter_accepts_codes: true,
            unknown_field_status: 500,
            optimization_error_fields: Vec::new(),
            bill_hold_on_entry: true,
            po_hold_on_entry: true,
            bill_approvals: false,
            po_approvals: false,
            require_vendor_ref: true,
            duplicate_vendor_ref: DuplicateVendorRef::Allow,
            long_op_polls: 1,
            long_op_secs: 5,
            push_max_attempts: 5,
            push_retry_delay_secs: 60,
            push_timeout_ms: 10_000,
            push_empty_arrays: true,
            push_duplicate_share: 0.0,
            push_duplicate_seed: 0x0AC0_11A7_1CA0_0001,
            serve_currencies: true,
        }
    }
}

/// The version string of Contract Version 5.
pub const CV5_VERSION: &str = "26.200.001";

impl AcumaticaSwitches {
    /// Switches for tests: licence limits off (no delays, no caps beyond sessions), so a test
    /// on a manual clock never waits on the per-minute formula.
    pub fn unthrottled() -> Self {
        AcumaticaSwitches { licence_max_concurrent: 0, licence_requests_per_minute: 0, ..Self::default() }
    }

    /// Apply a partial JSON object; unknown keys and impossible values are refused.
    pub fn merged(&self, patch: &serde_json::Value) -> Result<AcumaticaSwitches, String> {
        let serde_json::Value::Object(p) = patch else { return Err("switches must be a JSON object".into()) };
        let mut v = serde_json::to_value(self).map_err(|e| e.to_string())?;
        if let serde_json::Value::Object(m) = &mut v {
            for (k, val) in p {
                m.insert(k.clone(), val.clone());
            }
        }
        let s: AcumaticaSwitches = serde_json::from_value(v).map_err(|e| format!("bad switches: {e}"))?;
        s.check()?;
        Ok(s)
    }

    /// Refuse values the simulator cannot honour.
    pub fn check(&self) -> Result<(), String> {
        for v in &self.versions {
            if super::schema::version_number(v).is_none() {
                return Err(format!("versions: '{v}' is not a version like 24.200.001"));
            }
        }
        if !(0.0..=1.0).contains(&self.push_duplicate_share) {
            return Err("push_duplicate_share must be between 0 and 1".into());
        }
        if self.access_token_lifetime_secs <= 0 || self.session_idle_timeout_secs <= 0 {
            return Err("access_token_lifetime_secs and session_idle_timeout_secs must be above 0".into());
        }
        if !(-14 * 60..=14 * 60).contains(&self.tenant_utc_offset_minutes) {
            return Err("tenant_utc_offset_minutes must be within ±14 hours".into());
        }
        if !(400..=599).contains(&self.unknown_field_status) {
            return Err("unknown_field_status must be a 4xx or 5xx status".into());
        }
        if self.push_max_attempts == 0 {
            return Err("push_max_attempts must be at least 1".into());
        }
        Ok(())
    }

    /// Whether `version` is served (Contract Version 4 list, or 26.200.001 when CV5 is on).
    pub fn serves(&self, version: &str) -> bool {
        self.versions.iter().any(|v| v == version) || (self.serve_cv5 && version == CV5_VERSION)
    }

    /// Every served version, oldest first.
    pub fn served_versions(&self) -> Vec<String> {
        let mut v = self.versions.clone();
        if self.serve_cv5 && !v.iter().any(|x| x == CV5_VERSION) {
            v.push(CV5_VERSION.to_string());
        }
        v.sort_by_key(|x| super::schema::version_number(x).unwrap_or(0));
        v.dedup();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patches_merge_and_bad_values_are_refused() {
        let s = AcumaticaSwitches::default();
        let m = s.merged(&json!({"serve_cv5": true, "versions": ["23.200.001"]})).unwrap();
        assert_eq!(m.served_versions(), vec!["23.200.001".to_string(), "26.200.001".to_string()]);
        assert!(m.serves("26.200.001") && !m.serves("24.200.001"));
        assert!(s.merged(&json!({"no_such_switch": 1})).unwrap_err().contains("no_such_switch"));
        assert!(s.merged(&json!({"versions": ["24.2"]})).is_err());
        assert!(s.merged(&json!({"push_duplicate_share": 2.0})).is_err());
        assert!(s.merged(&json!({"throttle_body": "iis_text"})).is_ok());
    }
}
