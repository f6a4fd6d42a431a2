//! Integration history records (optional monitoring, scope `core.integration.write`): the
//! outcome of each exported document as Coupa's integration dashboards show it.
//!
//! The only create ml-connector makes in Coupa. It is never repeated blindly: when the answer is
//! lost, the record is looked up by document and status first.

use http::Method;
use serde_json::json;

use crate::client::CoupaClient;
use crate::errors::CoupaError;
use crate::model::{IntegrationRecord, decode};

const FIELDS: &str = r#"["id","document-type","document-id","status","resolved"]"#;

impl CoupaClient {
    /// Record an outcome: `document_type` is Coupa's (`InvoiceHeader`, `OrderHeader`,
    /// `Supplier`), `success` gives status `Success` or `Error`; `alert` raises an alert.
    pub async fn record_integration_result(
        &self,
        document_type: &str,
        document_id: i64,
        success: bool,
        code: &str,
        message: &str,
        alert: bool,
    ) -> Result<IntegrationRecord, CoupaError> {
        let status = if success { "Success" } else { "Error" };
        let body = json!({
            "document-type": document_type, "document-id": document_id, "status": status,
            "contact-alert-type": if alert { Some("Functional") } else { None },
            "responses": [{"response-code": code, "response-message": message}],
        });
        let path =
            if alert { "api/integration_history_records/create_alert" } else { "api/integration_history_records" };
        let query = vec![("fields".to_string(), FIELDS.to_string())];
        let what = format!("the integration record of {document_type} {document_id}");
        match self.write(Method::POST, path, &query, Some(&body), &what).await {
            Ok(v) => decode(v, &format!("POST /{path}"), &what),
            Err(CoupaError::InDoubt { what, detail }) => {
                let found = self.integration_records(document_type, document_id).await?;
                found
                    .into_iter()
                    .rev()
                    .find(|r| r.status == status && !r.resolved)
                    .ok_or(CoupaError::InDoubt { what, detail })
            }
            Err(e) => Err(e),
        }
    }

    /// The integration records of one document, oldest first.
    pub async fn integration_records(
        &self,
        document_type: &str,
        document_id: i64,
    ) -> Result<Vec<IntegrationRecord>, CoupaError> {
        let filters = vec![
            ("document-type".to_string(), document_type.to_string()),
            ("document-id".to_string(), document_id.to_string()),
        ];
        self.collect("api/integration_history_records", &filters, FIELDS)
            .await?
            .into_iter()
            .map(|v| decode(v, "GET /api/integration_history_records", "an integration record"))
            .collect()
    }
}
