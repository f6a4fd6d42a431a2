//! Supplier invoices and credit notes dated in a period, for the controller's tie-out
//! (`mlc tieout`): what Coupa itself holds, not what ml-connector recorded. Implements
//! [`TieoutReader`] for [`CoupaConnection`].
//!
//! Cost: `GET /api/invoices?invoice-date[gt_or_eq]=…&invoice-date[lt_or_eq]=…` with the same
//! `fields` the AP flow reads, 50 a page: about `invoices / 50` calls, lines included. A
//! tenant that refuses the date filter is read whole and filtered here (the first error is
//! returned when that fails too). Every status is listed; only `approved` ones should be in AP
//! (voided ones are the voids flow's: they count for nothing).
//!
//! **Lines** are coded as `coupa-deltek-ap` codes them (its `account_segments`, default `[1]`,
//! joined by `-`; the project from `project_source`: `project_segment` of the account (default 3),
//! the line custom field `project_field`, or none): one line per invoice line, or per allocation
//! of a split line; each charge on its own account (else the first line's); what is left of
//! `total-with-taxes` (header tax, discount) is one line with no account, so the lines always add
//! up to the document.
//!
//! **Credit notes** (`document-type` "Credit Note", `is-credit-note`, or a negative total, as the
//! flow reads them) are negative, numbered in the target as the flow numbers them (`CN-<number>`
//! unless it starts with `CN`).

use async_trait::async_trait;
use chrono::NaiveDate;
use mlc_core::tieout::{SourceDocument, SourceLine, TieoutError, TieoutOptions, TieoutReader};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::client::CoupaClient;
use crate::connection::CoupaConnection;
use crate::errors::CoupaError;
use crate::model::{Account, Invoice, decode, invoice_fields};

/// How the AP flow codes lines (read from its options).
struct Coding {
    account_segments: Vec<usize>,
    project_source: String,
    project_segment: usize,
    project_field: String,
}

impl Coding {
    fn from(opts: &TieoutOptions) -> Self {
        let segs = opts
            .flow_options
            .get("account_segments")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_u64().map(|n| n as usize)).collect::<Vec<_>>())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| vec![1]);
        Coding {
            account_segments: segs,
            project_source: opts.text("project_source").unwrap_or("segment").to_string(),
            project_segment: opts.flow_options.get("project_segment").and_then(Value::as_u64).unwrap_or(3) as usize,
            project_field: opts.text("project_field").unwrap_or("").to_string(),
        }
    }

    fn gl(&self, a: Option<&Account>) -> Option<String> {
        let a = a?;
        let parts: Option<Vec<&str>> =
            self.account_segments.iter().map(|n| a.segment(*n).map(str::trim).filter(|s| !s.is_empty())).collect();
        parts.map(|p| p.join("-"))
    }

    fn project(&self, a: Option<&Account>, fields: &serde_json::Map<String, Value>) -> Option<String> {
        let key = match self.project_source.as_str() {
            "none" => None,
            "line_field" => {
                let want = self.project_field.trim();
                fields
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(want) || k.replace('_', "-").eq_ignore_ascii_case(want))
                    .and_then(|(_, v)| text(v))
            }
            _ => a.and_then(|a| a.segment(self.project_segment)).map(str::to_string),
        };
        key.map(|k| k.trim().to_string()).filter(|k| !k.is_empty())
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(m) => m.get("name").or_else(|| m.get("code")).and_then(text),
        _ => None,
    }
}

/// The number `coupa-deltek-ap` gives a credit note in the target.
pub fn credit_note_number(n: &str) -> String {
    let t = n.trim();
    if t.to_ascii_uppercase().starts_with("CN") { t.to_string() } else { format!("CN-{t}") }
}

/// One Coupa invoice as a tie-out document.
pub fn document(inv: &Invoice, opts: &TieoutOptions) -> Option<SourceDocument> {
    let date = inv.invoice_date?;
    let coding = Coding::from(opts);
    let credit = inv.is_credit();
    // Coupa writes credit notes negative; a tenant writing them positive is turned negative too.
    let flip = if credit && inv.total_with_taxes > Decimal::ZERO { Decimal::NEGATIVE_ONE } else { Decimal::ONE };
    let mut lines = Vec::new();
    for l in &inv.invoice_lines {
        // Each allocation on its own account (the line's when it names none), or the whole line.
        for (account, amount) in l.coding() {
            lines.push(SourceLine {
                account: coding.gl(account),
                posted_account: None,
                project: coding.project(account, &l.custom_fields),
                amount: amount * flip,
            });
        }
    }
    let first = lines.first().map(|l| (l.account.clone(), l.project.clone()));
    for c in &inv.invoice_charges {
        let account = coding.gl(c.account.as_ref()).or_else(|| first.clone().and_then(|f| f.0));
        lines.push(SourceLine { account, posted_account: None, project: None, amount: c.total * flip });
    }
    let total = inv.total_with_taxes * flip;
    let rest = total - lines.iter().map(|l| l.amount).sum::<Decimal>();
    if !rest.round_dp(2).is_zero() {
        lines.push(SourceLine { account: None, posted_account: None, project: None, amount: rest });
    }
    lines.retain(|l| !l.amount.is_zero());
    let number = Some(inv.invoice_number.clone()).filter(|n| !n.trim().is_empty());
    let supplier = inv.supplier.as_ref();
    Some(SourceDocument {
        doc_id: inv.id.to_string(),
        record: inv.id.to_string(),
        target_number: if credit { number.as_deref().map(credit_note_number) } else { None },
        number,
        vendor_id: supplier.map(|s| s.id.to_string()),
        vendor_name: supplier
            .map(|s| s.display_name.clone().filter(|n| !n.trim().is_empty()).unwrap_or(s.name.clone()))
            .unwrap_or_default(),
        date,
        amount: Some(total),
        currency: inv.currency_code().map(str::to_string),
        credit,
        approved: inv.is_approved(),
        status: inv.status.to_ascii_lowercase(),
        lines: Some(lines),
        note: (inv.is_approved() && inv.exported).then(|| {
            "Coupa marks it exported (by another process or by hand), so the AP flow does not take it: if Deltek \
             lacks it, reset the flag in Coupa"
                .to_string()
        }),
    })
}

impl CoupaClient {
    /// Every invoice and credit note dated `from..=to`, whatever its status.
    pub async fn documents_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        opts: &TieoutOptions,
    ) -> Result<Vec<SourceDocument>, CoupaError> {
        let filters = vec![
            ("invoice-date[gt_or_eq]".to_string(), from.to_string()),
            ("invoice-date[lt_or_eq]".to_string(), to.to_string()),
        ];
        let rows = match self.collect("api/invoices", &filters, invoice_fields()).await {
            Ok(r) => r,
            Err(first) => match self.collect("api/invoices", &[], invoice_fields()).await {
                Ok(r) => r,
                Err(_) => return Err(first),
            },
        };
        let mut out = Vec::new();
        for v in rows {
            let inv: Invoice = decode(v, "GET /api/invoices", "an invoice of the period")?;
            if inv.invoice_date.is_some_and(|d| (from..=to).contains(&d)) {
                out.extend(document(&inv, opts));
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl TieoutReader for CoupaConnection {
    fn system_name(&self) -> &'static str {
        "Coupa"
    }

    fn limits(&self, _opts: &TieoutOptions) -> Vec<String> {
        Vec::new()
    }

    async fn documents_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        opts: &TieoutOptions,
    ) -> Result<Vec<SourceDocument>, TieoutError> {
        self.client().documents_between(from, to, opts).await.map_err(|e| TieoutError::new("Coupa", e))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_split_credit_note_is_negative_coded_per_allocation_and_adds_up() {
        let inv: Invoice = serde_json::from_value(json!({
            "id": 8018, "invoice-number": "77", "invoice-date": "2025-06-14", "status": "approved",
            "document-type": "Credit Note", "total-with-taxes": "-1010.00", "exported": false,
            "currency": {"code": "USD"}, "supplier": {"id": 5, "name": "Cascadia", "display-name": "Cascadia Structural"},
            "invoice-lines": [{"id": 1, "line-num": 1, "total": "-1000",
                "account": {"id": 10, "segment-1": "5110", "segment-2": "100", "segment-3": "2023014"},
                "account-allocations": [{"amount": "-600", "account": {"id": 11, "segment-1": "5120", "segment-3": "2024022"}},
                                        {"amount": "-400"}]}]
        }))
        .expect("decodes");
        let opts = TieoutOptions::default();
        let d = document(&inv, &opts).expect("dated");
        assert!(d.credit && d.approved && d.note.is_none());
        assert_eq!((d.number.as_deref(), d.target_number.as_deref()), (Some("77"), Some("CN-77")));
        assert_eq!((d.vendor_id.as_deref(), d.vendor_name.as_str()), (Some("5"), "Cascadia Structural"));
        assert_eq!(d.amount, Some(Decimal::from(-1010)));
        let lines = d.lines.expect("lines");
        let l = |n: usize| (lines[n].account.as_deref(), lines[n].project.as_deref(), lines[n].amount);
        assert_eq!(l(0), (Some("5120"), Some("2024022"), Decimal::from(-600)));
        // The allocation without an account takes the line's.
        assert_eq!(l(1), (Some("5110"), Some("2023014"), Decimal::from(-400)));
        // Header tax: what is left of the total, on no account.
        assert_eq!(l(2), (None, None, Decimal::from(-10)));
        assert_eq!(lines.iter().map(|l| l.amount).sum::<Decimal>(), Decimal::from(-1010));

        // Coded by two segments, projects from a line field; an exported approved invoice is noted.
        let opts = TieoutOptions {
            flow_options: [
                ("account_segments".to_string(), json!([1, 2])),
                ("project_source".to_string(), json!("none")),
            ]
            .into(),
            ..Default::default()
        };
        let mut inv = inv;
        inv.document_type = "Invoice".into();
        inv.total_with_taxes = Decimal::from(1000);
        inv.invoice_lines[0].total = Decimal::from(1000);
        inv.invoice_lines[0].account_allocations.clear();
        inv.exported = true;
        let d = document(&inv, &opts).expect("dated");
        assert!(!d.credit && d.target_number.is_none());
        assert!(d.note.as_deref().is_some_and(|n| n.contains("exported")));
        let lines = d.lines.expect("lines");
        assert_eq!(lines.len(), 1);
        assert_eq!((lines[0].account.as_deref(), lines[0].project.as_deref()), (Some("5110-100"), None));
    }
}
