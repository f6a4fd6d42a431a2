//! Reference data, read-only: accounts (segments → Deltek GL accounts and projects, through the
//! mappings), payment terms and currencies.

use crate::client::CoupaClient;
use crate::errors::CoupaError;
use crate::model::{Account, Currency, PaymentTerm, account_fields_text, decode, term_fields_text};

impl CoupaClient {
    /// Every account (`active_only`: only active ones).
    pub async fn list_accounts(&self, active_only: bool) -> Result<Vec<Account>, CoupaError> {
        let filters: Vec<(String, String)> =
            if active_only { vec![("active".into(), "true".into())] } else { Vec::new() };
        self.collect("api/accounts", &filters, account_fields_text())
            .await?
            .into_iter()
            .map(|v| decode(v, "GET /api/accounts", "an account"))
            .collect()
    }

    /// Every payment term.
    pub async fn list_payment_terms(&self) -> Result<Vec<PaymentTerm>, CoupaError> {
        self.collect("api/payment_terms", &[], term_fields_text())
            .await?
            .into_iter()
            .map(|v| decode(v, "GET /api/payment_terms", "a payment term"))
            .collect()
    }

    /// Every currency.
    pub async fn list_currencies(&self) -> Result<Vec<Currency>, CoupaError> {
        self.collect("api/currencies", &[], r#"["id","code","decimals"]"#)
            .await?
            .into_iter()
            .map(|v| decode(v, "GET /api/currencies", "a currency"))
            .collect()
    }
}
