//! Behaviour switches of the Deltek simulator: one per inferred **[I]** or unknown **[U]**
//! behaviour of the fact sheet, plus the tenant settings a real firm can change. Each default is
//! the fact sheet's "best-guess simulator design" (or the documented product default). Change
//! them with `POST /__sim/switches` (a partial object) or [`super::DeltekSim::set_switch`].

use serde::{Deserialize, Serialize};

/// Shape of REST error bodies (fact sheet §6, open question 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ErrorShape {
    /// ASP.NET Web API default: `{"Message": "..."}` **[I]**.
    #[default]
    Message,
    /// What the SCJ Go client parses: `{"message": "...", "detail": "..."}` **[C-code]**.
    Scj,
    /// An HTML error page with the text in it.
    Html,
}

/// Transaction Center approval workflow for AP/JE files (§9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Approvals {
    /// Approvals disabled: files land `N` ("In Progress") and post as they are.
    #[default]
    Off,
    /// Approvals enabled: files land `N`; posting needs `A` (move it with the
    /// `set_approval_status` action).
    Required,
    /// Approvals enabled and files are submitted on save: they land `S` ("Submitted"); posting
    /// needs `A`.
    AutoSubmit,
}

/// Default `wbstype` of `GET /project` when the client sends none **[U]**.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WbsDefault {
    /// Every level (so `WBS2 != ''` finds phases, as SCJ does) **[I]**.
    #[default]
    All,
    /// Projects only.
    Wbs1,
}

/// All switches. Unknown keys in a patch are refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeltekSwitches {
    /// API Authorization "Allow Password Grant Type" ticked **[C: must be ticked]**; when off the
    /// password grant answers 400 `unauthorized_client` **[I]**. Default true.
    pub allow_password_grant: bool,
    /// Token request must carry `culture` (12d guide: required when a default language is set)
    /// **[C-3P]**. Default false.
    pub require_culture: bool,
    /// Access-token lifetime in seconds; `expires_in` **[C: 1799]**.
    pub access_token_lifetime_secs: i64,
    /// A refresh issues a new refresh token and invalidates the old one **[U; default per open
    /// question 2]**. Default true.
    pub rotate_refresh_token: bool,
    /// Refresh-token lifetime in seconds **[U; 24 h per open question 2]**.
    pub refresh_token_lifetime_secs: i64,
    /// REST error body shape **[U]**. Default `message`.
    pub error_shape: ErrorShape,
    /// Vantagepoint sometimes doubles its messages ("X. X.") **[C-code, when U]**. Default false.
    pub double_messages: bool,
    /// Status of a successful create: 201 per the docs, 200 per Postman samples **[C both]**.
    /// Default 201.
    pub post_status: u16,
    /// Every user's role reads money fields as zero (`Amount`, `NetAmount`, `Total`, `Balance`,
    /// `OriginalAmt`, `InvoiceAmount`) **[U: open question 7]**; also per user. Default false.
    pub zero_money_fields: bool,
    /// Refuse a voucher whose vendor + invoice number already exists: 400 "Invoice <no> already
    /// exists for vendor <v>." **[U: open question 4]**. Default false (the UI only warns).
    pub strict_duplicate_invoice: bool,
    /// Transaction Center approvals **[C exists; I codes]**. Default `off`.
    pub approvals: Approvals,
    /// Settings » Transactions "Ignore Control Totals": unbalanced files may post **[C]**.
    /// Default false.
    pub ignore_control_totals: bool,
    /// A JE file whose entries do not balance is refused on create, not only at posting **[I]**.
    /// Default true.
    pub je_balance_on_create: bool,
    /// Charges to a project with phases must name the lowest level **[I]**. Default true.
    pub require_lowest_wbs_level: bool,
    /// `GET /project` without `wbstype` **[U]**. Default `all`.
    pub project_default_wbstype: WbsDefault,
    /// `DataEntry/*` and `PSALedger/*` answer 500 when `limit` is sent (SCJ's claim)
    /// **[C-code, unverified]**. Default false.
    pub dataentry_rejects_limit: bool,
    /// Posted AP ledger rows carry the vendor invoice number; the docs' sample has `" "`
    /// **[C]**. Default false.
    pub ledger_ap_includes_invoice: bool,
    /// `ARReview/*` answer one bare object when exactly one row matches, as Deltek's Postman
    /// samples show **[C sample; I that it is really an array]**. Default false (arrays).
    pub ar_review_bare_object: bool,
    /// filterHash `like` without `%`/`_` matches as "contains" **[I]**; off = SQL semantics
    /// (equality). Default true.
    pub like_adds_wildcards: bool,
    /// A filterHash naming an unknown column answers 400 "Invalid column name 'X'." (SQL
    /// Server's text) **[I]**; off = the clause matches nothing. Default true.
    pub unknown_filter_column_errors: bool,
}

impl Default for DeltekSwitches {
    fn default() -> Self {
        DeltekSwitches {
            allow_password_grant: true,
            require_culture: false,
            access_token_lifetime_secs: 1799,
            rotate_refresh_token: true,
            refresh_token_lifetime_secs: 24 * 3600,
            error_shape: ErrorShape::Message,
            double_messages: false,
            post_status: 201,
            zero_money_fields: false,
            strict_duplicate_invoice: false,
            approvals: Approvals::Off,
            ignore_control_totals: false,
            je_balance_on_create: true,
            require_lowest_wbs_level: true,
            project_default_wbstype: WbsDefault::All,
            dataentry_rejects_limit: false,
            ledger_ap_includes_invoice: false,
            ar_review_bare_object: false,
            like_adds_wildcards: true,
            unknown_filter_column_errors: true,
        }
    }
}
