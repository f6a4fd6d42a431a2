//! The simulated Vantagepoint database: users and the API Authorization, tokens, firms,
//! projects, accounts, periods, AP and JE files, posted ledgers and client invoices.
//!
//! **[C]** the API user is an ordinary user whose role decides what it sees; the API
//! Authorization holds Client ID, Client Secret and Database; landing `ApprovalStatus` `N` "In
//! Progress" and `P` "Posted". **[I]** `S`/`A`/`R` for Submitted/Approved/Rejected; posting
//! sequences count per period; vouchers are numbered 7 digits from 0001001. **[U]** a role that
//! reads money as zero is `User::hide_amounts` (and switch `zero_money_fields`).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::auth::Token;
use super::model::{
    Account, ApControl, ApDetail, ApDetailTax, ApMaster, ArInvoice, Company, Firm, JeControl, JeDetail, JeMaster,
    LedgerRow, Period, Project, ddate,
};
use super::switches::DeltekSwitches;
use crate::common::WebhookTarget;

/// A Vantagepoint user the API can log in as. Its role decides what it sees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: String,
    /// Login disabled (token requests answer "Your login has been disabled. ...").
    #[serde(default)]
    pub disabled: bool,
    /// The role lacks full field visibility: money fields read as 0 **[U]**.
    #[serde(default)]
    pub hide_amounts: bool,
}

/// The API Authorization record (Utilities » Integrations » API Authorization) **[C]**.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiAuthorization {
    /// Client ID ("Consumer Key").
    pub client_id: String,
    /// Client Secret.
    pub client_secret: String,
    /// Database name.
    pub database: String,
}

/// Landing `ApprovalStatus` codes **[C: N, P; I: S, A, R]** and their descriptions.
pub fn approval_desc(code: &str) -> &'static str {
    match code {
        "N" => "In Progress",
        "S" => "Submitted",
        "A" => "Approved",
        "R" => "Rejected",
        "P" => "Posted",
        _ => "",
    }
}

/// An AP voucher file (Transaction Center "AP Vouchers", files mode).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ApFile {
    /// Control fields.
    pub control: ApControl,
    /// `apControlDefaultTaxCodes` rows, kept as sent.
    pub default_tax_codes: Vec<Value>,
    /// Vouchers.
    pub masters: Vec<ApMaster>,
    /// Lines.
    pub details: Vec<ApDetail>,
    /// Tax rows.
    pub taxes: Vec<ApDetailTax>,
    /// `N`, `S`, `A`, `R`, `P`.
    pub approval_status: String,
    /// When it was posted.
    #[serde(with = "ddate")]
    pub post_date: Option<NaiveDateTime>,
    /// Who posted it.
    pub post_user: String,
    /// Posting message.
    pub post_comment: String,
}

/// A JE file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct JeFile {
    /// Control fields.
    pub control: JeControl,
    /// Entries.
    pub masters: Vec<JeMaster>,
    /// Lines.
    pub details: Vec<JeDetail>,
    /// `jeDetailTax` rows, kept as sent.
    pub taxes: Vec<Value>,
    /// `N`, `S`, `A`, `R`, `P`.
    pub approval_status: String,
    /// When it was posted.
    #[serde(with = "ddate")]
    pub post_date: Option<NaiveDateTime>,
    /// Who posted it.
    pub post_user: String,
    /// Posting message.
    pub post_comment: String,
}

/// The whole simulated database.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct DeltekState {
    /// Behaviour switches.
    pub switches: DeltekSwitches,
    /// The API Authorization.
    pub auth: ApiAuthorization,
    /// Users.
    pub users: Vec<User>,
    /// Live access tokens.
    pub access_tokens: HashMap<String, Token>,
    /// Live refresh tokens.
    pub refresh_tokens: HashMap<String, Token>,
    /// Companies.
    pub companies: Vec<Company>,
    /// The active company code.
    pub active_company: String,
    /// Firms (clients and vendors). Snapshots keep what answers never show (approval for
    /// processing, the address sub-grid), so a restored database is the same database.
    #[serde(with = "firms_snapshot")]
    pub firms: Vec<Firm>,
    /// Projects, phases, tasks.
    pub projects: Vec<Project>,
    /// Chart of accounts.
    pub accounts: Vec<Account>,
    /// Accounting periods.
    pub periods: Vec<Period>,
    /// The active period.
    pub active_period: i64,
    /// AP liability and AR accounts, which a JE may not hit **[C rule]**.
    pub control_accounts: Vec<String>,
    /// Unposted and posted AP files.
    pub ap_files: Vec<ApFile>,
    /// Unposted and posted JE files.
    pub je_files: Vec<JeFile>,
    /// Posted ledger rows (AP, JE, ...; IN comes from `ar_invoices`).
    pub ledger: Vec<LedgerRow>,
    /// Posted client invoices.
    pub ar_invoices: Vec<ArInvoice>,
    /// Next posting sequence per period.
    pub post_seq: BTreeMap<i64, i64>,
    /// Next voucher number.
    pub next_voucher: u64,
    /// Configured workflow webhooks by name.
    pub workflow_webhooks: BTreeMap<String, WebhookTarget>,
}

/// A voucher as tests and demos read it back from the AP files: which file, its key, the
/// vendor, the invoice number and the total of its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoucherView {
    pub batch: String,
    pub master_pkey: String,
    pub vendor: String,
    pub invoice: String,
    pub total: rust_decimal::Decimal,
}

impl DeltekState {
    /// Every voucher (posted or not) with this vendor invoice number, in file order.
    pub fn vouchers_for(&self, invoice: &str) -> Vec<VoucherView> {
        let mut out = Vec::new();
        for f in &self.ap_files {
            for m in f.masters.iter().filter(|m| m.invoice == invoice) {
                out.push(VoucherView {
                    batch: m.batch.clone(),
                    master_pkey: m.master_pkey.clone(),
                    vendor: m.vendor.clone(),
                    invoice: m.invoice.clone(),
                    total: f.details.iter().filter(|d| d.master_pkey == m.master_pkey).map(|d| d.amount).sum(),
                });
            }
        }
        out
    }

    /// An empty database with one company (`A0`) and the given login.
    pub fn empty(auth: ApiAuthorization, users: Vec<User>, switches: DeltekSwitches) -> Self {
        DeltekState {
            switches,
            auth,
            users,
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            companies: vec![Company { company: "A0".into(), name: "Main Company".into() }],
            active_company: "A0".into(),
            firms: Vec::new(),
            projects: Vec::new(),
            accounts: Vec::new(),
            periods: Vec::new(),
            active_period: 0,
            control_accounts: Vec::new(),
            ap_files: Vec::new(),
            je_files: Vec::new(),
            ledger: Vec::new(),
            ar_invoices: Vec::new(),
            post_seq: BTreeMap::new(),
            next_voucher: 1001,
            workflow_webhooks: BTreeMap::new(),
        }
    }

    /// The user record of a login.
    pub fn user(&self, username: &str) -> Option<&User> {
        self.users.iter().find(|u| u.username == username)
    }

    /// Firm by vendor number (case-insensitive, as SQL Server compares).
    pub fn vendor(&self, vendor: &str) -> Option<&Firm> {
        let v = vendor.trim();
        self.firms.iter().find(|f| !f.vendor.is_empty() && f.vendor.trim().eq_ignore_ascii_case(v))
    }

    /// Firm by `ClientID`.
    pub fn firm(&self, id: &str) -> Option<&Firm> {
        self.firms.iter().find(|f| f.client_id.eq_ignore_ascii_case(id.trim()))
    }

    /// Account by code.
    pub fn account(&self, code: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.account.eq_ignore_ascii_case(code.trim()))
    }

    /// Project record at exactly this level (blank/space levels are equal).
    pub fn project(&self, w1: &str, w2: &str, w3: &str) -> Option<&Project> {
        let eq = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
        self.projects.iter().find(|p| eq(&p.wbs1, w1) && eq(&p.wbs2, w2) && eq(&p.wbs3, w3))
    }

    /// Period record.
    pub fn period(&self, p: i64) -> Option<&Period> {
        self.periods.iter().find(|x| x.period == p)
    }

    /// Next posting sequence for a period.
    pub fn next_post_seq(&mut self, period: i64) -> i64 {
        let e = self.post_seq.entry(period).or_insert(100);
        *e += 1;
        *e
    }

    /// Next auto-assigned voucher number (7 digits, zero-padded).
    pub fn next_voucher_no(&mut self) -> String {
        loop {
            let v = format!("{:07}", self.next_voucher);
            self.next_voucher += 1;
            let taken = self.ap_files.iter().flat_map(|f| f.masters.iter()).any(|m| m.voucher == v)
                || self.ledger.iter().any(|r| r.voucher == v);
            if !taken {
                return v;
            }
        }
    }

    /// Whether a vendor + invoice number is already entered (posted or not).
    pub fn invoice_exists(&self, vendor: &str, invoice: &str) -> bool {
        let same = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
        self.ap_files
            .iter()
            .flat_map(|f| f.masters.iter())
            .any(|m| same(&m.vendor, vendor) && same(&m.invoice, invoice))
    }

    /// The database name used in leaked SQL messages.
    pub fn db_name(&self) -> &str {
        &self.auth.database
    }
}

/// A fresh 32-hex lower-case id, like `ClientID`/`MasterPKey`.
pub fn new_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Firms in a snapshot: the API's own fields plus the state the API never shows
/// (`approved_for_processing`, the `addresses` sub-grid), which `Firm`'s serde leaves out so
/// that answers stay true to Vantagepoint. Older snapshots (plain firms) still load.
mod firms_snapshot {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::super::model::{Firm, FirmAddress};

    #[derive(Serialize)]
    struct Out<'a> {
        firm: &'a Firm,
        approved_for_processing: bool,
        addresses: &'a [FirmAddress],
    }

    #[derive(Deserialize)]
    struct Full {
        firm: Firm,
        approved_for_processing: bool,
        #[serde(default)]
        addresses: Vec<FirmAddress>,
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum In {
        Full(Full),
        Plain(Firm),
    }

    pub fn serialize<S: Serializer>(firms: &[Firm], s: S) -> Result<S::Ok, S::Error> {
        let rows: Vec<Out<'_>> = firms
            .iter()
            .map(|f| Out { firm: f, approved_for_processing: f.approved_for_processing, addresses: &f.addresses })
            .collect();
        rows.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Firm>, D::Error> {
        let rows = Vec::<In>::deserialize(d)?;
        Ok(rows
            .into_iter()
            .map(|r| match r {
                In::Full(Full { mut firm, approved_for_processing, addresses }) => {
                    firm.approved_for_processing = approved_for_processing;
                    firm.addresses = addresses;
                    firm
                }
                In::Plain(firm) => firm,
            })
            .collect())
    }
}
