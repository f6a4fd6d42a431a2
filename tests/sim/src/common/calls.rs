//! The request log of one simulator, so tests can assert "the client called create exactly
//! once" and see which faults fired. Control-API (`/__sim`) calls are not logged.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

/// One logged request.
#[derive(Debug, Clone, Serialize)]
pub struct CallRecord {
    /// 1-based sequence number.
    pub seq: u64,
    /// Simulated time the request arrived.
    pub at: DateTime<Utc>,
    /// HTTP method, upper case.
    pub method: String,
    /// Request path as sent.
    pub path: String,
    /// Raw query string ("" when none).
    pub query: String,
    /// The system's route template (`/firm/{ClientID}`), or `None` for an unknown route.
    pub route: Option<String>,
    /// Status sent, or `None` when the connection was reset without an answer.
    pub status: Option<u16>,
    /// Name of the injected fault, if one fired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
}

impl CallRecord {
    /// `"POST /DataEntry/apControl"`: the key calls are counted by.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.route.as_deref().unwrap_or(&self.path))
    }
}

#[derive(Debug, Default)]
struct Log {
    records: Vec<CallRecord>,
    next: u64,
}

/// The call log; clones share it.
#[derive(Debug, Clone, Default)]
pub struct CallLog(Arc<Mutex<Log>>);

impl CallLog {
    fn lock(&self) -> MutexGuard<'_, Log> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Append a record (its `seq` is assigned here); returns the seq.
    pub fn push(&self, mut rec: CallRecord) -> u64 {
        let mut l = self.lock();
        l.next += 1;
        rec.seq = l.next;
        l.records.push(rec);
        l.next
    }

    /// Fill in the outcome of a logged request.
    pub fn finish(&self, seq: u64, status: Option<u16>, fault: Option<String>) {
        let mut l = self.lock();
        if let Some(r) = l.records.iter_mut().rev().find(|r| r.seq == seq) {
            r.status = status;
            if fault.is_some() {
                r.fault = fault;
            }
        }
    }

    /// All records, oldest first.
    pub fn records(&self) -> Vec<CallRecord> {
        self.lock().records.clone()
    }

    /// Forget everything.
    pub fn clear(&self) {
        self.lock().records.clear();
    }

    /// How many requests matched `method` (case-insensitive, `*` = any) and whose route template
    /// or path matches `route` (a case-insensitive glob, see [`super::faults::glob_ci`]).
    pub fn count(&self, method: &str, route: &str) -> usize {
        self.lock().records.iter().filter(|r| matches(r, method, route)).count()
    }

    /// Requests per `"METHOD route"` key.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for r in self.lock().records.iter() {
            *out.entry(r.key()).or_insert(0) += 1;
        }
        out
    }

    /// The log as the control API shows it, optionally filtered.
    pub fn describe(&self, method: Option<&str>, route: Option<&str>) -> Value {
        let method = method.unwrap_or("*");
        let route = route.unwrap_or("*");
        let records: Vec<CallRecord> = self.records().into_iter().filter(|r| matches(r, method, route)).collect();
        let mut counts = BTreeMap::<String, usize>::new();
        for r in &records {
            *counts.entry(r.key()).or_insert(0) += 1;
        }
        json!({ "total": records.len(), "counts": counts, "requests": records })
    }
}

fn matches(r: &CallRecord, method: &str, route: &str) -> bool {
    (method == "*" || r.method.eq_ignore_ascii_case(method))
        && (super::faults::glob_ci(route, &r.path)
            || r.route.as_deref().is_some_and(|t| super::faults::glob_ci(route, t)))
}
