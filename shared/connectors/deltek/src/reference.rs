//! Reference data: GL accounts, projects (WBS1/WBS2/WBS3) and accounting periods, read once per
//! run and kept until [`DeltekClient::refresh`].
//!
//! Staleness: a list is read on first use. A code that is not found in a list older than
//! `lookup_max_age` triggers one re-read (so an account or project created in Vantagepoint while
//! a run is going is found), after which the miss is trusted. Periods are re-read by the same
//! rule when a date falls outside every known period.

use std::sync::Arc;

use chrono::NaiveDate;
use mlc_core::domain::{GlAccount, ProjectRef};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::client::{DeltekClient, Query};
use crate::errors::DeltekError;
use crate::model::{Account, Period, Project, Wbs};

/// Periods and which one is active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Periods {
    pub all: Vec<Period>,
    /// The active period number (`Settings/ActivePeriod`), 0 when none is set.
    pub active: i64,
}

impl Periods {
    pub fn get(&self, period: i64) -> Option<&Period> {
        self.all.iter().find(|p| p.period == period)
    }

    /// The period containing a date.
    pub fn for_date(&self, d: NaiveDate) -> Option<&Period> {
        self.all.iter().find(|p| p.contains(d))
    }

    pub fn closed(&self) -> Vec<i64> {
        self.all.iter().filter(|p| p.closed).map(|p| p.period).collect()
    }
}

type Slot<T> = Mutex<Option<(Instant, Arc<T>)>>;

#[derive(Default)]
pub(crate) struct ReferenceCache {
    accounts: Slot<Vec<Account>>,
    projects: Slot<Vec<Project>>,
    periods: Slot<Periods>,
}

impl ReferenceCache {
    pub async fn clear(&self) {
        *self.accounts.lock().await = None;
        *self.projects.lock().await = None;
        *self.periods.lock().await = None;
    }
}

fn same(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

fn same_opt(a: &Option<String>, b: &Option<String>) -> bool {
    same(a.as_deref().unwrap_or(""), b.as_deref().unwrap_or(""))
}

impl DeltekClient {
    async fn cached<T>(
        &self,
        slot: &Slot<T>,
        force: bool,
        load: impl std::future::Future<Output = Result<T, DeltekError>>,
    ) -> Result<Arc<T>, DeltekError> {
        let mut g = slot.lock().await;
        if let Some((_, v)) = g.as_ref()
            && !force
        {
            return Ok(v.clone());
        }
        let v = Arc::new(load.await?);
        *g = Some((Instant::now(), v.clone()));
        Ok(v)
    }

    async fn is_stale<T>(&self, slot: &Slot<T>) -> bool {
        slot.lock().await.as_ref().is_none_or(|(at, _)| at.elapsed() > self.inner.settings.lookup_max_age)
    }

    /// The chart of accounts (cached per run).
    pub async fn accounts(&self) -> Result<Arc<Vec<Account>>, DeltekError> {
        self.cached(&self.inner.reference.accounts, false, self.load_accounts()).await
    }

    async fn load_accounts(&self) -> Result<Vec<Account>, DeltekError> {
        let q = Query::new().fields(&["Account", "Name", "Type", "Status"]);
        let rows = self.get_all("Accounts", &q, "the chart of accounts").await?;
        Ok(rows.iter().filter_map(Account::from_row).collect())
    }

    /// One account by code (case-insensitive); a miss re-reads a stale list once.
    pub async fn account(&self, code: &str) -> Result<Option<Account>, DeltekError> {
        let find = |list: &Vec<Account>| list.iter().find(|a| same(&a.code, code)).cloned();
        let list = self.accounts().await?;
        if let Some(a) = find(&list) {
            return Ok(Some(a));
        }
        if self.is_stale(&self.inner.reference.accounts).await {
            let list = self.cached(&self.inner.reference.accounts, true, self.load_accounts()).await?;
            return Ok(find(&list));
        }
        Ok(None)
    }

    /// The chart of accounts as domain accounts (for mapping screens).
    pub async fn gl_accounts(&self) -> Result<Vec<GlAccount>, DeltekError> {
        Ok(self.accounts().await?.iter().map(Account::to_domain).collect())
    }

    /// Every project, phase and task (cached per run).
    pub async fn projects(&self) -> Result<Arc<Vec<Project>>, DeltekError> {
        self.cached(&self.inner.reference.projects, false, self.load_projects()).await
    }

    async fn load_projects(&self) -> Result<Vec<Project>, DeltekError> {
        let q = Query::new().fields(&[
            "WBS1",
            "WBS2",
            "WBS3",
            "Name",
            "ChargeType",
            "Status",
            "SubLevel",
            "ClientID",
            "BillingClientID",
            "Org",
        ]);
        let rows = self.get_all("project", &q, "the project list").await?;
        Ok(rows.iter().filter_map(Project::from_row).collect())
    }

    /// One project level; a miss re-reads a stale list once.
    pub async fn project(&self, key: &ProjectRef) -> Result<Option<Project>, DeltekError> {
        let find = |list: &Vec<Project>| {
            list.iter()
                .find(|p| {
                    same(&p.wbs1, key.wbs1())
                        && same_opt(&p.wbs2, &key.wbs2().map(str::to_string))
                        && same_opt(&p.wbs3, &key.wbs3().map(str::to_string))
                })
                .cloned()
        };
        let list = self.projects().await?;
        if let Some(p) = find(&list) {
            return Ok(Some(p));
        }
        if self.is_stale(&self.inner.reference.projects).await {
            let list = self.cached(&self.inner.reference.projects, true, self.load_projects()).await?;
            return Ok(find(&list));
        }
        Ok(None)
    }

    /// Accounting periods and the active one (cached per run).
    pub async fn periods(&self) -> Result<Arc<Periods>, DeltekError> {
        self.cached(&self.inner.reference.periods, false, self.load_periods()).await
    }

    async fn load_periods(&self) -> Result<Periods, DeltekError> {
        let rows = self.get_all("Settings/Period", &Query::new(), "the accounting periods").await?;
        let mut all: Vec<Period> = rows.iter().filter_map(Period::from_row).collect();
        all.sort_by_key(|p| p.period);
        let active_rows = self.get_rows("Settings/ActivePeriod", &Query::new(), "the active period").await?;
        let active_row = active_rows.first();
        let active = active_row.and_then(|r| r.int("Period")).unwrap_or(0);
        // The active-period row carries the freshest closed flag for that period.
        if let Some(p) = active_row.and_then(Period::from_row)
            && let Some(x) = all.iter_mut().find(|x| x.period == p.period)
            && active_row.is_some_and(|r| r.has("ActiveCompanyClosed"))
        {
            x.closed = p.closed;
        }
        Ok(Periods { all, active })
    }

    /// The active period.
    pub async fn active_period(&self) -> Result<Option<Period>, DeltekError> {
        let p = self.periods().await?;
        Ok(p.get(p.active).cloned())
    }

    /// The period containing a date; a date outside every known period re-reads a stale list once.
    pub async fn period_for_date(&self, d: NaiveDate) -> Result<Option<Period>, DeltekError> {
        let p = self.periods().await?;
        if let Some(x) = p.for_date(d) {
            return Ok(Some(x.clone()));
        }
        if self.is_stale(&self.inner.reference.periods).await {
            let p = self.cached(&self.inner.reference.periods, true, self.load_periods()).await?;
            return Ok(p.for_date(d).cloned());
        }
        Ok(None)
    }

    /// Whether the period of a date is open (`None` when no period holds the date).
    pub async fn is_date_open(&self, d: NaiveDate) -> Result<Option<bool>, DeltekError> {
        Ok(self.period_for_date(d).await?.map(|p| !p.closed))
    }

    /// The closed periods, for pre-post checks and tie-outs.
    pub async fn closed_periods(&self) -> Result<Vec<i64>, DeltekError> {
        Ok(self.periods().await?.closed())
    }

    /// The period a voucher or journal dated `d` posts to, checked open, per `period_mode`.
    pub async fn posting_period(&self, d: NaiveDate, what: &str) -> Result<i64, DeltekError> {
        use crate::settings::PeriodMode;
        let periods = self.periods().await?;
        let period = match self.inner.settings.period_mode {
            PeriodMode::Active => match periods.get(periods.active) {
                Some(p) => p.clone(),
                None if periods.all.is_empty() => return Ok(0),
                None => {
                    return Err(DeltekError::Invalid {
                        what: what.to_string(),
                        problem: format!(
                            "the active period {} is not in the period list; set the active period in Vantagepoint",
                            periods.active
                        ),
                    });
                }
            },
            PeriodMode::InvoiceDate => match self.period_for_date(d).await? {
                Some(p) => p,
                None => {
                    return Err(DeltekError::Invalid {
                        what: what.to_string(),
                        problem: format!("no accounting period contains {d}; create it in Vantagepoint"),
                    });
                }
            },
        };
        if period.closed {
            return Err(DeltekError::PeriodClosed {
                what: what.to_string(),
                period: period.period,
                fix: format!(
                    "open period {} for this company in Vantagepoint (or move the active period to an open one); \
                     closed periods: {:?}",
                    period.period,
                    periods.closed()
                ),
            });
        }
        Ok(period.period)
    }
}
