//! Vantagepoint error answers.
//!
//! **[C]** status codes: 400 bad request, 401 no authorization, 403, 404, 500, 503 (DOC
//! Responses). **[C-code]** texts seen from real tenants: "Field X does not exist.", "Column:X does
//! not exist.", "Record X already exists and cannot be added.", and raw SQL Server errors ("String
//! or binary data would be truncated ..."); messages are sometimes doubled (switch
//! `double_messages`). **[I]** the body shape: ASP.NET's `{"Message": "..."}` by default, SCJ's
//! `{"message","detail"}` or an HTML page by switch `error_shape`; the 401 text is ASP.NET's
//! default "Authorization has been denied for this request."; 404/405 use ASP.NET Web API's
//! default texts. The business-rule texts below (vendor, account, project, period, balance) are
//! written in Vantagepoint's style but are **[I]**: no source records them verbatim.
//!
//! Token errors are OAuth-shaped instead (`{"error","error_description"}`), see `auth.rs`.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use rust_decimal::Decimal;
use serde_json::json;

use super::switches::{DeltekSwitches, ErrorShape};

/// A REST error, rendered per the `error_shape` switch.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// The message text.
    pub message: String,
}

impl ApiError {
    /// A 400 with a message.
    pub fn bad(message: impl Into<String>) -> Self {
        ApiError { status: 400, message: message.into() }
    }

    /// Any status with a message.
    pub fn status(status: u16, message: impl Into<String>) -> Self {
        ApiError { status, message: message.into() }
    }

    /// 401 with ASP.NET's text.
    pub fn unauthorized() -> Self {
        Self::status(401, "Authorization has been denied for this request.")
    }

    /// 404 for an unknown route.
    pub fn no_route(uri: &str) -> Self {
        Self::status(404, format!("No HTTP resource was found that matches the request URI '{uri}'."))
    }

    /// 405 for a known route and the wrong method.
    pub fn method_not_allowed(method: &str) -> Self {
        Self::status(405, format!("The requested resource does not support http method '{method}'."))
    }

    /// 404 for an unknown record.
    pub fn not_found(what: &str) -> Self {
        Self::status(404, format!("{what} does not exist."))
    }

    /// 500 with ASP.NET's generic text.
    pub fn internal() -> Self {
        Self::status(500, "An error has occurred.")
    }

    /// Render per the switches.
    pub fn render(&self, sw: &DeltekSwitches) -> Response {
        let text = if sw.double_messages && self.status == 400 {
            format!("{} {}", self.message, self.message)
        } else {
            self.message.clone()
        };
        let (ct, body) = match sw.error_shape {
            ErrorShape::Message => ("application/json; charset=utf-8", json!({ "Message": text }).to_string()),
            ErrorShape::Scj => {
                ("application/json; charset=utf-8", json!({ "message": text, "detail": "" }).to_string())
            }
            ErrorShape::Html => ("text/html; charset=utf-8", html_page(self.status, &text)),
        };
        let mut resp = Response::new(Body::from(body));
        *resp.status_mut() = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
        resp
    }
}

fn html_page(status: u16, text: &str) -> String {
    let esc = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!(
        "<!DOCTYPE html>\r\n<html>\r\n<head><title>Error {status}</title></head>\r\n<body>\r\n<h2>Server Error</h2>\r\n<p>{esc}</p>\r\n</body>\r\n</html>\r\n"
    )
}

/// The message texts, in one place.
pub mod msg {
    use super::*;

    /// **[C-code]** a property the record does not have.
    pub fn unknown_field(f: &str) -> String {
        format!("Field {f} does not exist.")
    }
    /// **[C-code]** a required key missing from an Accounts write.
    pub fn missing_column(c: &str) -> String {
        format!("Column:{c} does not exist.")
    }
    /// **[C-code]** duplicate key.
    pub fn duplicate(key: &str) -> String {
        format!("Record {key} already exists and cannot be added.")
    }
    /// **[C-code]** SQL Server truncation, leaked as is.
    pub fn truncated(db: &str, table: &str, column: &str, value: &str) -> String {
        format!(
            "String or binary data would be truncated in table '{db}.dbo.{table}', column '{column}'. Truncated value: '{value}'. The statement has been terminated."
        )
    }
    /// **[I]** value of the wrong kind.
    pub fn invalid_value(detail: &str) -> String {
        format!("The request is invalid. {detail}")
    }
    /// **[I]** a filterHash column the table lacks (SQL Server's text).
    pub fn invalid_column(c: &str) -> String {
        format!("Invalid column name '{c}'.")
    }
    /// **[I]** required value missing.
    pub fn required(f: &str) -> String {
        format!("{f} is required.")
    }
    /// **[I]**
    pub fn unknown_vendor(v: &str) -> String {
        format!("Vendor {v} does not exist.")
    }
    /// **[I]** firm has `VendorInd` = N.
    pub fn not_a_vendor(v: &str) -> String {
        format!("Vendor {v} is not marked as a vendor and cannot be used in AP transactions.")
    }
    /// **[I]** firm status not `A`.
    pub fn inactive_vendor(v: &str) -> String {
        format!("Vendor {v} is inactive and cannot be used in AP transactions.")
    }
    /// **[I]** not "Approved for Use in Processing".
    pub fn vendor_not_approved(v: &str) -> String {
        format!("Vendor {v} is not approved for use in processing.")
    }
    /// **[I]**
    pub fn unknown_account(a: &str) -> String {
        format!("Account {a} does not exist.")
    }
    /// **[I]**
    pub fn inactive_account(a: &str) -> String {
        format!("Account {a} is inactive.")
    }
    /// **[I]**
    pub fn unknown_project(p: &str) -> String {
        format!("Project {p} does not exist.")
    }
    /// **[I]**
    pub fn inactive_project(p: &str) -> String {
        format!("Project {p} is inactive.")
    }
    /// **[I]** charge to a level that has children.
    pub fn lowest_level(p: &str) -> String {
        format!("Project {p} has sub-levels; charges must be made to the lowest level.")
    }
    /// **[I]** expense/revenue account without a project.
    pub fn project_required(a: &str) -> String {
        format!("A project is required for account {a}.")
    }
    /// **[C rule: HELP JE; I text]** regular project needs a direct/reimbursable account.
    pub fn regular_needs_direct(a: &str, p: &str) -> String {
        format!(
            "Account {a} cannot be used with regular project {p}. Regular projects require a direct or reimbursable account."
        )
    }
    /// **[C rule; I text]** overhead/promotional project needs an indirect account.
    pub fn overhead_needs_indirect(a: &str, p: &str) -> String {
        format!(
            "Account {a} cannot be used with overhead project {p}. Overhead and promotional projects require an indirect account."
        )
    }
    /// **[I]**
    pub fn closed_period(p: i64) -> String {
        format!("Period {p} is closed.")
    }
    /// **[I]**
    pub fn unknown_period(p: i64) -> String {
        format!("Period {p} does not exist.")
    }
    /// **[I]** JE does not balance.
    pub fn je_unbalanced(ref_no: &str, debits: Decimal, credits: Decimal) -> String {
        format!("Journal entry {ref_no} is out of balance: debits {debits:.2} do not equal credits {credits:.2}.")
    }
    /// **[C rule: JE must not hit AP/AR; I text]**
    pub fn je_control_account(a: &str) -> String {
        format!(
            "Account {a} is an accounts payable or accounts receivable control account and cannot be used in a journal entry."
        )
    }
    /// From the brief / open question 4 (strict duplicate switch).
    pub fn duplicate_invoice(invoice: &str, vendor: &str) -> String {
        format!("Invoice {invoice} already exists for vendor {vendor}.")
    }
    /// **[I]** detail row whose master is not in the file.
    pub fn orphan_detail(master: &str) -> String {
        format!("Master record {master} does not exist.")
    }
    /// **[I]** edits to a posted file.
    pub fn already_posted(kind: &str, batch: &str) -> String {
        format!("{kind} file {batch} has been posted and cannot be modified.")
    }
}
