//! Invoices: what the AP and voids flows call.
//!
//! The export-flag pattern (fact sheet §5): collect the ids of `status=approved&exported=false`
//! (and, in a separate pass, `status=voided&exported=false`), or page them by key
//! ([`CoupaClient::invoice_stamps_after`], what the flows' source does; its voided pass goes by
//! watermark instead, see there), read each invoice, post it, then
//! mark it with `PUT /api/invoices/{id}?exported=true` — a request of its own, since Coupa may
//! ignore other changes sent with it. The optional write-back of the Deltek voucher id into a
//! custom field is another, separate PUT. With one read and one mark per invoice and the id
//! pages amortised (50 ids a page), an export costs about two calls per invoice.
//!
//! Writes are never repeated blindly: a mark or write-back whose answer was lost is resolved by
//! reading the invoice back (the flag is idempotent, so a mark that did not land is sent once
//! more; a custom field that did not land is reported in doubt).

use chrono::{DateTime, SecondsFormat, Utc};
use http::Method;
use mlc_http::decode;
use serde_json::{Map, Value, json};

use crate::client::CoupaClient;
use crate::errors::CoupaError;
use crate::model::{Invoice, decode, invoice_fields};

/// Which export pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportPass {
    /// Approved invoices and credit notes not yet exported (the AP flow).
    Approved,
    /// Voided invoices not yet exported (the voids flow; Coupa's own ERP connector runs this
    /// pass separately).
    Voided,
}

impl ExportPass {
    fn status(self) -> &'static str {
        match self {
            ExportPass::Approved => "approved",
            ExportPass::Voided => "voided",
        }
    }
}

/// The outcome of marking a record exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportMark {
    pub id: i64,
    /// Coupa's `last-exported-at`, when it said.
    pub exported_at: Option<DateTime<Utc>>,
    /// The answer to the PUT was lost and the state was confirmed by reading the record back.
    pub resolved_by_lookup: bool,
}

/// A listed invoice: its id and `updated-at`, all a poll needs to hint it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvoiceStamp {
    pub id: i64,
    pub updated_at: Option<DateTime<Utc>>,
}

/// One keyset page of a pass ([`CoupaClient::invoice_stamps_after`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StampPage {
    pub invoices: Vec<InvoiceStamp>,
    /// The page was full: another may follow (start after [`StampPage::last_id`]).
    pub full: bool,
}

impl StampPage {
    pub fn last_id(&self) -> Option<i64> {
        self.invoices.iter().map(|s| s.id).max()
    }

    /// The latest `updated-at` on the page.
    pub fn newest(&self) -> Option<DateTime<Utc>> {
        self.invoices.iter().filter_map(|s| s.updated_at).max()
    }
}

fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

impl CoupaClient {
    /// Ids of the invoices a pass must export, collected before anything is processed.
    pub async fn invoice_ids_to_export(&self, pass: ExportPass) -> Result<Vec<i64>, CoupaError> {
        self.collect_ids("api/invoices", &q(&[("status", pass.status()), ("exported", "false")])).await
    }

    /// One keyset page of a pass, ids and stamps only (`fields=["id","updated-at"]`), after
    /// `after_id`: approved invoices not yet exported, or voided invoices changed at or after
    /// `since` (the voided pass goes by watermark, not by the flag: an invoice exported and then
    /// voided keeps `exported=true` unless the instance resets it, so `exported=false` would never
    /// show it).
    pub async fn invoice_stamps_after(
        &self,
        pass: ExportPass,
        since: Option<DateTime<Utc>>,
        after_id: i64,
        limit: u32,
    ) -> Result<StampPage, CoupaError> {
        let mut filters = q(&[("status", pass.status())]);
        match pass {
            ExportPass::Approved => filters.push(("exported".into(), "false".into())),
            ExportPass::Voided => {
                if let Some(t) = since {
                    filters.push(("updated-at[gt_or_eq]".into(), t.to_rfc3339_opts(SecondsFormat::Secs, true)));
                }
            }
        }
        let page = self.page_after("api/invoices", &filters, r#"["id","updated-at"]"#, after_id, limit).await?;
        let invoices = page
            .rows
            .iter()
            .filter_map(|r| {
                let id = r.get("id").and_then(decode::int)?;
                let updated_at = r.get("updated-at").and_then(decode::text).and_then(|t| decode::datetime_utc(&t));
                Some(InvoiceStamp { id, updated_at })
            })
            .collect();
        Ok(StampPage { invoices, full: page.full })
    }

    /// One invoice with everything the flows read (`None`: no such invoice).
    pub async fn get_invoice(&self, id: i64) -> Result<Option<Invoice>, CoupaError> {
        let path = format!("api/invoices/{id}");
        match self.get(&path, &q(&[("fields", invoice_fields())]), &format!("invoice {id}")).await {
            Ok(v) => decode(v, &format!("GET /{path}"), &format!("invoice {id}")).map(Some),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Invoices by number (the natural key with the supplier): every match, or those of one
    /// supplier.
    pub async fn find_invoices(
        &self,
        invoice_number: &str,
        supplier_id: Option<i64>,
    ) -> Result<Vec<Invoice>, CoupaError> {
        let mut filters = q(&[("invoice-number", invoice_number)]);
        if let Some(s) = supplier_id {
            filters.push(("supplier[id]".into(), s.to_string()));
        }
        self.collect("api/invoices", &filters, invoice_fields())
            .await?
            .into_iter()
            .map(|v| decode(v, "GET /api/invoices", &format!("invoice {invoice_number}")))
            .collect()
    }

    /// `(status, exported)` of an invoice, cheaply (`None`: no such invoice).
    pub async fn invoice_export_state(&self, id: i64) -> Result<Option<(String, bool)>, CoupaError> {
        let path = format!("api/invoices/{id}");
        match self
            .get(&path, &q(&[("fields", r#"["id","status","exported","last-exported-at"]"#)]), &format!("invoice {id}"))
            .await
        {
            Ok(v) => {
                let status = v.get("status").and_then(decode::text).unwrap_or_default();
                let exported = v.get("exported").and_then(decode::flag).unwrap_or(false);
                Ok(Some((status, exported)))
            }
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `PUT /api/invoices/{id}?exported=true`, in a request of its own.
    pub async fn mark_invoice_exported(&self, id: i64) -> Result<ExportMark, CoupaError> {
        self.mark_exported("api/invoices", "invoice", id).await
    }

    /// Mark any exportable resource (invoices, purchase orders); resolves a lost answer by
    /// reading the flag back, and re-sends only when it is provably not set.
    pub(crate) async fn mark_exported(&self, resource: &str, what: &str, id: i64) -> Result<ExportMark, CoupaError> {
        let path = format!("{resource}/{id}");
        let query = q(&[("exported", "true"), ("fields", r#"["id","exported","last-exported-at"]"#)]);
        let label = format!("marking {what} {id} exported");
        let mut resolved = false;
        for _ in 0..2 {
            match self.write(Method::PUT, &path, &query, None, &label).await {
                Ok(v) => {
                    let exported_at =
                        v.get("last-exported-at").and_then(decode::text).and_then(|s| decode::datetime_utc(&s));
                    if v.get("exported").and_then(decode::flag) == Some(false) {
                        return Err(CoupaError::Refused {
                            what: label,
                            call: format!("PUT /{path}"),
                            status: 200,
                            server: "the answer says exported is still false".into(),
                            fix: Some("check the instance's export settings in Coupa; report this".into()),
                        });
                    }
                    return Ok(ExportMark { id, exported_at, resolved_by_lookup: resolved });
                }
                Err(CoupaError::InDoubt { detail, .. }) => {
                    tracing::info!(system = "coupa", id, what, "mark answer lost; reading the flag back");
                    let back = self
                        .get(
                            &path,
                            &q(&[("fields", r#"["id","exported","last-exported-at"]"#)]),
                            &format!("{what} {id}"),
                        )
                        .await?;
                    if back.get("exported").and_then(decode::flag) == Some(true) {
                        let exported_at =
                            back.get("last-exported-at").and_then(decode::text).and_then(|s| decode::datetime_utc(&s));
                        return Ok(ExportMark { id, exported_at, resolved_by_lookup: true });
                    }
                    if resolved {
                        return Err(CoupaError::InDoubt { what: label, detail });
                    }
                    // Provably not set: the flag is idempotent, so sending it again is safe.
                    resolved = true;
                }
                Err(e) => return Err(e),
            }
        }
        Err(CoupaError::InDoubt { what: label, detail: "the flag could not be confirmed".into() })
    }

    /// Write custom fields of an invoice (`{"custom-fields": {...}}`), a request of its own,
    /// never together with the export flag. A lost answer is resolved by reading the fields back;
    /// only when they provably did not land is the (idempotent) PUT sent once more.
    pub async fn set_invoice_custom_fields(&self, id: i64, fields: &Map<String, Value>) -> Result<(), CoupaError> {
        let path = format!("api/invoices/{id}");
        let body = json!({ "custom-fields": fields });
        let shape = q(&[("fields", r#"["id",{"custom_fields":{}}]"#)]);
        let label = format!("writing custom fields of invoice {id}");
        let mut looked = false;
        loop {
            match self.write(Method::PUT, &path, &shape, Some(&body), &label).await {
                Ok(_) => return Ok(()),
                Err(CoupaError::InDoubt { detail, .. }) => {
                    let back = self.get(&path, &shape, &format!("invoice {id}")).await?;
                    let have = back.get("custom-fields").and_then(Value::as_object);
                    let landed = fields.iter().all(|(k, v)| {
                        have.and_then(|m| m.get(k).or_else(|| m.get(&k.replace('_', "-"))))
                            .is_some_and(|x| decode::text(x) == decode::text(v))
                    });
                    if landed {
                        return Ok(());
                    }
                    if looked {
                        return Err(CoupaError::InDoubt { what: label, detail });
                    }
                    looked = true;
                }
                Err(e) => return Err(e),
            }
        }
    }
}
