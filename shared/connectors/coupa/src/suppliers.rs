//! Suppliers: the vendors flow, by `updated-at` watermark (suppliers have no exported flag).
//!
//! [`CoupaClient::suppliers_changed_since`] lists `updated-at[gt_or_eq]=<watermark>` ordered by
//! id (not by `updated-at`: a supplier edited mid-walk would move and shift the pages), and
//! returns the next watermark: the latest `updated-at` seen. `gt_or_eq` re-reads the suppliers of
//! the watermark's own second (Coupa stamps whole seconds, several records may share one); the
//! engine's claims make that cheap. Tax ids and bank details live on supplier information, and
//! remit-to addresses on their own listing; both are read per supplier when a flow needs them.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::client::CoupaClient;
use crate::errors::CoupaError;
use crate::model::{RemitTo, Supplier, SupplierInformation, decode, remit_to_fields_text, supplier_fields};

fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Suppliers changed since a watermark, and the watermark to use next time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SupplierChanges {
    pub suppliers: Vec<Supplier>,
    /// The latest `updated-at` seen (the old watermark when nothing changed).
    pub next_watermark: Option<DateTime<Utc>>,
}

impl CoupaClient {
    /// Suppliers with `updated-at` at or after `since` (all of them when `None`).
    pub async fn suppliers_changed_since(&self, since: Option<DateTime<Utc>>) -> Result<SupplierChanges, CoupaError> {
        let mut filters = Vec::new();
        if let Some(t) = since {
            filters.push(("updated-at[gt_or_eq]".to_string(), t.to_rfc3339_opts(SecondsFormat::Secs, true)));
        }
        let rows = self.collect("api/suppliers", &filters, supplier_fields()).await?;
        let mut suppliers = Vec::with_capacity(rows.len());
        let mut next = since;
        for v in rows {
            let s: Supplier = decode(v, "GET /api/suppliers", "a supplier")?;
            if let Some(u) = s.updated_at.map(|u| u.with_timezone(&Utc)) {
                next = Some(next.map_or(u, |n| n.max(u)));
            }
            suppliers.push(s);
        }
        Ok(SupplierChanges { suppliers, next_watermark: next })
    }

    /// Page `page` (1-based) of the suppliers changed at or after `since`, ordered by id, `limit`
    /// (≤ 50) a page; `true` when the page was full (another may follow). Offset paging is safe
    /// here: a supplier never leaves this set (its `updated-at` only grows), and one entering it
    /// mid-walk only repeats a row, which the engine reads once per version.
    pub async fn suppliers_changed_page(
        &self,
        since: Option<DateTime<Utc>>,
        page: u32,
        limit: u32,
    ) -> Result<(Vec<Supplier>, bool), CoupaError> {
        let limit = limit.clamp(1, 50);
        let mut query = Vec::new();
        if let Some(t) = since {
            query.push(("updated-at[gt_or_eq]".to_string(), t.to_rfc3339_opts(SecondsFormat::Secs, true)));
        }
        let offset = u64::from(page.max(1) - 1) * u64::from(limit);
        for (k, v) in [
            ("fields", supplier_fields().to_string()),
            ("order_by", "id".into()),
            ("dir", "asc".into()),
            ("offset", offset.to_string()),
            ("limit", limit.to_string()),
        ] {
            query.push((k.to_string(), v));
        }
        let rows = match self.get("api/suppliers", &query, "the supplier listing").await? {
            serde_json::Value::Array(a) => a,
            serde_json::Value::Null => Vec::new(),
            other => {
                return Err(CoupaError::Decode {
                    call: "GET /api/suppliers".into(),
                    detail: format!("expected a JSON array, got {other}"),
                });
            }
        };
        let full = rows.len() >= limit as usize;
        let suppliers = rows
            .into_iter()
            .map(|v| decode(v, "GET /api/suppliers", "a supplier"))
            .collect::<Result<Vec<Supplier>, _>>()?;
        Ok((suppliers, full))
    }

    /// One supplier (`None`: no such supplier).
    pub async fn get_supplier(&self, id: i64) -> Result<Option<Supplier>, CoupaError> {
        let path = format!("api/suppliers/{id}");
        match self.get(&path, &q(&[("fields", supplier_fields())]), &format!("supplier {id}")).await {
            Ok(v) => decode(v, &format!("GET /{path}"), &format!("supplier {id}")).map(Some),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A supplier by its number (`None`: no such supplier).
    pub async fn find_supplier_by_number(&self, number: &str) -> Result<Option<Supplier>, CoupaError> {
        let rows = self.collect("api/suppliers", &q(&[("number", number)]), supplier_fields()).await?;
        rows.into_iter().next().map(|v| decode(v, "GET /api/suppliers", &format!("supplier {number}"))).transpose()
    }

    /// A supplier's remit-to addresses.
    pub async fn remit_to_addresses(&self, supplier_id: i64) -> Result<Vec<RemitTo>, CoupaError> {
        self.collect(&format!("api/suppliers/{supplier_id}/addresses"), &[], remit_to_fields_text())
            .await?
            .into_iter()
            .map(|v| decode(v, &format!("GET /api/suppliers/{supplier_id}/addresses"), "a remit-to address"))
            .collect()
    }

    /// A supplier's tax and bank data (`None`: the supplier has no supplier information).
    pub async fn supplier_information(&self, supplier_id: i64) -> Result<Option<SupplierInformation>, CoupaError> {
        let rows = self.collect("api/supplier_information", &q(&[("supplier-id", &supplier_id.to_string())]), r#"["id","supplier-id","federal-tax-num","intl-tax-num","tax-classification","pay-group","status",{"supplier-information-addresses":[]}]"#).await?;
        rows.into_iter()
            .next()
            .map(|v| {
                decode(v, "GET /api/supplier_information", &format!("supplier information of supplier {supplier_id}"))
            })
            .transpose()
    }
}
