//! AR (client) invoices changed since a cursor → domain [`ArInvoice`]s, for outbound EDI 810.
//!
//! What is read, and why:
//! - **which invoices**: `GET ledger/IN`, the posted invoice rows (`Period`, `PostSeq`, `Invoice`,
//!   `WBS1..3`, `Account`, `Amount`, `InvoiceSection`, `TaxCode`, `TaxBasis`, `Desc2`,
//!   `TransactionCurrencyCode` are documented fields). The default cursor is the posting order
//!   `posted:<Period>:<PostSeq>`: an invoice is new when its rows were posted after the cursor.
//!   That is what an 810 feed needs (a re-upload creates a duplicate in Cleo, so a payment that
//!   changes an invoice's balance must not re-send it). The alternative cursor
//!   `modified:<YYYY-MM-DDTHH:MM:SS.mmm>` reads `ARReview/ARBalance` by `ModDate` instead, for
//!   tenants that want changed invoices (that column is not in Deltek's samples: an inference).
//! - **lines**: the `ledger/IN` rows of each invoice; a row with a `TaxCode` and a non-zero
//!   `TaxBasis` is tax (header tax), every other row is a line (quantity 1, unit `EA`).
//! - **header**: `GET ARReview/ARBalance?ARWBS1InvoiceKey=WBS1|Invoice,...` (invoice date, due
//!   date when the tenant shows it, billing client), answered as an array or a bare object.
//! - **buyer**: the billing client's firm (`GET firm/{ClientID}`), name and primary address.
//! - **seller**: the `seller_name` option, else the active company's name.
//!
//! A negative invoice is a credit memo (amounts made positive, kind `CreditMemo`). When every
//! amount read is zero, the read fails with [`DeltekError::HiddenAmounts`]: an 810 with zeros
//! must never be sent. An invoice that fails the domain's checks is returned in
//! [`ArPage::skipped`] with the reason, never dropped silently.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;
use mlc_core::domain::{Address, AddressKind, ArInvoice, ArInvoiceDraft, ArLine, DocumentKind, Party, SourceRef};
use mlc_core::money::{Currency, Tolerance};
use rust_decimal::Decimal;

use crate::ap::all_money_zero;
use crate::client::{DeltekClient, Query};
use crate::decode::{Row, fmt_date, parse_date};
use crate::errors::DeltekError;
use crate::model::VendorFirm;

/// Where an AR read starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArCursor {
    /// Invoices posted after this (period, posting sequence).
    Posted { period: i64, post_seq: i64 },
    /// Invoices whose `ModDate` is at or after this time.
    Modified(NaiveDateTime),
}

impl ArCursor {
    /// `posted:202506:104` or `modified:2025-06-01T00:00:00.000`.
    pub fn parse(text: &str) -> Result<Self, DeltekError> {
        let bad = || DeltekError::Invalid {
            what: format!("AR cursor {text:?}"),
            problem: "expected posted:<YYYYPP>:<sequence> or modified:<YYYY-MM-DDTHH:MM:SS.mmm>".into(),
        };
        let t = text.trim();
        if let Some(rest) = t.strip_prefix("posted:") {
            let (p, s) = rest.split_once(':').ok_or_else(bad)?;
            return Ok(ArCursor::Posted {
                period: p.trim().parse().map_err(|_| bad())?,
                post_seq: s.trim().parse().map_err(|_| bad())?,
            });
        }
        if let Some(rest) = t.strip_prefix("modified:") {
            return parse_date(rest).map(ArCursor::Modified).ok_or_else(bad);
        }
        Err(bad())
    }
}

impl std::fmt::Display for ArCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArCursor::Posted { period, post_seq } => write!(f, "posted:{period}:{post_seq}"),
            ArCursor::Modified(t) => write!(f, "modified:{}", fmt_date(t)),
        }
    }
}

/// One read of AR invoices.
#[derive(Debug, Clone, PartialEq)]
pub struct ArPage {
    pub invoices: Vec<ArInvoice>,
    /// Where the next read starts (unchanged when nothing new was found).
    pub next_cursor: ArCursor,
    /// `(invoice number, why)` for invoices that could not be made into a valid document.
    pub skipped: Vec<(String, String)>,
}

const LEDGER_COLS: [&str; 18] = [
    "Period",
    "PostSeq",
    "Invoice",
    "WBS1",
    "WBS2",
    "WBS3",
    "Account",
    "SubType",
    "TransDate",
    "Desc1",
    "Desc2",
    "Amount",
    "InvoiceSection",
    "TaxCode",
    "TaxBasis",
    "TransactionAmount",
    "TransactionCurrencyCode",
    "ModDate",
];

impl DeltekClient {
    /// AR invoices posted (or, with a `modified:` cursor, changed) since `cursor`. Without a
    /// cursor the read starts at the active period.
    pub async fn ar_invoices_since(&self, cursor: Option<ArCursor>) -> Result<ArPage, DeltekError> {
        let cursor = match cursor {
            Some(c) => c,
            None => ArCursor::Posted { period: self.periods().await?.active, post_seq: 0 },
        };
        let (rows, next) = match cursor {
            ArCursor::Posted { period, post_seq } => {
                let q = Query::new().filter("Period", ">=", &period.to_string()).fields(&LEDGER_COLS);
                let rows = self.get_all("ledger/IN", &q, "posted AR invoice rows").await?;
                let rows: Vec<Row> = rows
                    .into_iter()
                    .filter(|r| (r.int("Period").unwrap_or(0), r.int("PostSeq").unwrap_or(0)) > (period, post_seq))
                    .collect();
                let next = rows
                    .iter()
                    .map(|r| (r.int("Period").unwrap_or(0), r.int("PostSeq").unwrap_or(0)))
                    .max()
                    .map(|(period, post_seq)| ArCursor::Posted { period, post_seq })
                    .unwrap_or(cursor);
                (rows, next)
            }
            ArCursor::Modified(since) => {
                let q = Query::new()
                    .filter_typed("ModDate", ">=", &fmt_date(&since), Some("datetime"))
                    .fields(&["WBS1", "Invoice", "ModDate"]);
                let changed = self.get_all("ARReview/ARBalance", &q, "AR invoices changed since the cursor").await?;
                let next =
                    changed.iter().filter_map(|r| r.date("ModDate")).max().map(ArCursor::Modified).unwrap_or(cursor);
                let numbers: Vec<String> = changed.iter().filter_map(|r| r.opt_text("Invoice")).collect();
                let mut rows = Vec::new();
                for chunk in numbers.chunks(50) {
                    let q = Query::new().filter("Invoice", "in", &chunk.join(",")).fields(&LEDGER_COLS);
                    rows.extend(self.get_all("ledger/IN", &q, "the rows of changed AR invoices").await?);
                }
                (rows, next)
            }
        };
        if !rows.is_empty() && all_money_zero(&rows, &["Amount"]) {
            return Err(DeltekError::HiddenAmounts {
                what: format!("{} posted AR invoice rows", rows.len()),
                username: self.username().to_string(),
            });
        }
        let mut by_invoice: BTreeMap<(String, String), Vec<Row>> = BTreeMap::new();
        for r in rows {
            let Some(inv) = r.opt_text("Invoice") else { continue };
            by_invoice.entry((r.text("WBS1"), inv)).or_default().push(r);
        }
        let headers = self.ar_headers(by_invoice.keys().cloned().collect()).await?;
        let seller = self.seller_party().await?;
        let mut buyers: HashMap<String, Party> = HashMap::new();
        let mut invoices = Vec::new();
        let mut skipped = Vec::new();
        for ((wbs1, number), lines) in by_invoice {
            let header = headers.get(&(wbs1.to_uppercase(), number.to_uppercase()));
            let client_id = header.and_then(|h| h.opt_text("BillingClientID"));
            let buyer = match &client_id {
                Some(id) => match buyers.get(id) {
                    Some(p) => p.clone(),
                    None => {
                        let p = self.buyer_party(id, header).await?;
                        buyers.insert(id.clone(), p.clone());
                        p
                    }
                },
                None => {
                    Party { name: header.map(|h| h.text("BillingClient")).unwrap_or_default(), id: None, address: None }
                }
            };
            match build_ar(&wbs1, &number, &lines, header, seller.clone(), buyer) {
                Ok(inv) => invoices.push(inv),
                Err(why) => {
                    tracing::warn!(system = "deltek", invoice = %number, %why, "AR invoice skipped");
                    skipped.push((number, why));
                }
            }
        }
        Ok(ArPage { invoices, next_cursor: next, skipped })
    }

    async fn ar_headers(&self, keys: Vec<(String, String)>) -> Result<HashMap<(String, String), Row>, DeltekError> {
        let mut out = HashMap::new();
        for chunk in keys.chunks(50) {
            let list = chunk.iter().map(|(w, i)| format!("{w}|{i}")).collect::<Vec<_>>().join(",");
            let q = Query::new().param("ARWBS1InvoiceKey", list);
            for r in self.get_all("ARReview/ARBalance", &q, "AR invoice headers").await? {
                out.insert((r.text("WBS1").to_uppercase(), r.text("Invoice").to_uppercase()), r);
            }
        }
        Ok(out)
    }

    async fn seller_party(&self) -> Result<Party, DeltekError> {
        if let Some(n) = &self.inner.settings.seller_name {
            return Ok(Party { name: n.clone(), id: self.inner.settings.company.clone(), address: None });
        }
        let rows = self.get_rows("Settings/ActiveCompany", &Query::new(), "the active company").await?;
        let r = rows.first();
        Ok(Party {
            name: r.map(|r| r.text("Name")).filter(|n| !n.is_empty()).unwrap_or_else(|| "Vantagepoint company".into()),
            id: r.and_then(|r| r.opt_text("Company")),
            address: None,
        })
    }

    async fn buyer_party(&self, client_id: &str, header: Option<&Row>) -> Result<Party, DeltekError> {
        let rows =
            self.get_rows(&format!("firm/{client_id}"), &Query::new(), &format!("billing client {client_id}")).await?;
        let firm = rows.iter().find_map(VendorFirm::from_row);
        let name = firm
            .as_ref()
            .map(|f| f.name.clone())
            .filter(|n| !n.is_empty())
            .or_else(|| header.map(|h| h.text("BillingClient")))
            .unwrap_or_default();
        let address = firm.as_ref().filter(|f| !f.primary_lines.is_empty()).map(|f| Address {
            kind: AddressKind::Billing,
            lines: f.primary_lines.clone(),
            city: Some(f.primary_city.clone()).filter(|s| !s.is_empty()),
            state: Some(f.primary_state.clone()).filter(|s| !s.is_empty()),
            postcode: Some(f.primary_zip.clone()).filter(|s| !s.is_empty()),
            country: Some(f.primary_country.clone()).filter(|s| !s.is_empty()),
        });
        Ok(Party { name, id: Some(client_id.to_string()), address })
    }
}

fn build_ar(
    wbs1: &str,
    number: &str,
    rows: &[Row],
    header: Option<&Row>,
    seller: Party,
    buyer: Party,
) -> Result<ArInvoice, String> {
    let mut lines = Vec::new();
    let mut tax = Decimal::ZERO;
    for r in rows {
        let amount = r.decimal("Amount").or_else(|| r.decimal("TransactionAmount")).unwrap_or_default();
        if r.opt_text("TaxCode").is_some() && r.decimal("TaxBasis").is_some_and(|b| !b.is_zero()) {
            tax += amount;
            continue;
        }
        let description =
            r.opt_text("Desc2").or_else(|| r.opt_text("InvoiceSection")).unwrap_or_else(|| format!("Invoice {number}"));
        lines.push(ArLine {
            line_no: lines.len() as u32 + 1,
            description,
            item_id: r.opt_text("InvoiceSection"),
            quantity: Decimal::ONE,
            unit: "EA".into(),
            unit_price: amount,
            amount,
            tax_amount: Decimal::ZERO,
            project: Some(crate::model::wbs(wbs1, r.opt_text("WBS2"), r.opt_text("WBS3"))),
            account: r.opt_text("Account"),
        });
    }
    let total: Decimal = lines.iter().map(|l| l.amount).sum::<Decimal>() + tax;
    let kind =
        if total.is_sign_negative() && !total.is_zero() { DocumentKind::CreditMemo } else { DocumentKind::Invoice };
    if kind == DocumentKind::CreditMemo {
        for l in &mut lines {
            l.amount = -l.amount;
            l.unit_price = -l.unit_price;
        }
        tax = -tax;
    }
    let first = rows.first();
    let invoice_date = header
        .and_then(|h| h.date("InvoiceDate"))
        .or_else(|| first.and_then(|r| r.date("TransDate")))
        .map(|d| d.date())
        .ok_or_else(|| "no invoice date on the header or the posted rows".to_string())?;
    let currency: Currency =
        first.and_then(|r| r.opt_text("TransactionCurrencyCode")).and_then(|c| c.parse().ok()).unwrap_or(Currency::USD);
    let version = rows
        .iter()
        .map(|r| (r.int("Period").unwrap_or(0), r.int("PostSeq").unwrap_or(0)))
        .max()
        .map(|(p, s)| format!("{p}:{s}"))
        .unwrap_or_default();
    let draft = ArInvoiceDraft {
        source: SourceRef {
            system: "deltek".into(),
            entity: "ar-invoice".into(),
            id: format!("{wbs1}|{number}"),
            version,
        },
        kind,
        invoice_number: number.to_string(),
        invoice_date,
        due_date: header.and_then(|h| h.date("DueDate")).map(|d| d.date()),
        currency,
        seller,
        buyer,
        po_number: None,
        terms: None,
        lines,
        header_tax: tax,
        charges: Decimal::ZERO,
        total: total.abs(),
        tolerance: Tolerance::default(),
    };
    ArInvoice::try_new(draft).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let c = ArCursor::parse("posted:202506:104").unwrap();
        assert_eq!(c, ArCursor::Posted { period: 202506, post_seq: 104 });
        assert_eq!(ArCursor::parse(&c.to_string()).unwrap(), c);
        let m = ArCursor::parse("modified:2025-06-01T10:00:00.000").unwrap();
        assert_eq!(m.to_string(), "modified:2025-06-01T10:00:00.000");
        assert!(ArCursor::parse("yesterday").is_err());
    }
}
