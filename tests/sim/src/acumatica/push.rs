//! Push notifications (fact sheet §6): what the tenant POSTs to a configured destination when
//! a record a generic inquiry tracks is committed.
//!
//! Reproduced **[C]**: destinations are configured in the UI (Push Notifications, SM302000), not
//! through the API, so here by scenario or the `configure_push` action; delivery is an HTTP POST
//! of JSON, at least once, with at most **one custom header** (name and value) and no signature;
//! any non-2xx answer is retried, **at most five attempts in total**; one payload per database
//! transaction: `{"Inserted":[…],"Deleted":[…],"Query":"<GI name>","CompanyId":"<tenant>",
//! "Id":"<guid>","TimeStamp":<.NET ticks>,"AdditionalInfo":{…}}` with raw (unwrapped) row
//! values keyed by GI column (`<DAC>_<field>`, as `InventoryItem_lastModifiedDateTime` in the
//! docs) and dates without an offset (`2024-05-05T15:16:23.1`); an update sends the old row in
//! `Deleted` and the new one in `Inserted`, an insert only `Inserted`, a delete only `Deleted`.
//!
//! Switches for the unknowns **[U]**: empty arrays present or omitted (`push_empty_arrays`),
//! the spacing of attempts (`push_retry_delay_secs`, on the simulated clock), the per-attempt
//! timeout, and a share of notifications delivered twice (`push_duplicate_share`); the
//! `redeliver_push` action repeats one on demand. Attempts are in the kit's `/__sim/webhooks`
//! log (event `push:<Query>`).

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::record::Record;
use super::schema::Entity;
use super::state::AcuState;
use crate::common::{SimKit, WebhookTarget, webhook};

/// One generic inquiry a destination tracks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Query {
    /// The GI's name (the payload's `Query`).
    pub name: String,
    /// The entity whose commits it reports (`Vendor`, `Bill`, `PurchaseOrder`, `Account`).
    pub entity: String,
}

/// A push destination (type Webhook).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Destination {
    /// Destination name.
    pub name: String,
    /// Address.
    pub url: String,
    /// The one custom header's name (none when empty).
    #[serde(default)]
    pub header_name: String,
    /// Its value.
    #[serde(default)]
    pub header_value: String,
    /// Active.
    #[serde(default = "yes")]
    pub active: bool,
    /// Tracked inquiries.
    #[serde(default)]
    pub queries: Vec<Query>,
}

fn yes() -> bool {
    true
}

/// A committed change to announce.
#[derive(Debug, Clone)]
pub struct Commit {
    /// Entity.
    pub entity: &'static Entity,
    /// Before (none for an insert).
    pub old: Option<Record>,
    /// After (none for a delete).
    pub new: Option<Record>,
    /// Who did it.
    pub user: String,
}

/// A notification ready to send once the state lock is released.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// Kit log event name.
    pub event: String,
    /// Where.
    pub target: WebhookTarget,
    /// Body.
    pub body: Vec<u8>,
    /// Send it twice.
    pub duplicate: bool,
}

/// GI columns per entity: `(DAC field, contract field)`.
fn columns(e: &Entity) -> &'static [(&'static str, &'static str)] {
    match e.name {
        "Vendor" => &[
            ("acctCD", "VendorID"),
            ("acctName", "VendorName"),
            ("status", "Status"),
            ("noteID", "@id"),
            ("lastModifiedDateTime", "LastModifiedDateTime"),
        ],
        "Bill" => &[
            ("docType", "Type"),
            ("refNbr", "ReferenceNbr"),
            ("vendorID", "Vendor"),
            ("invoiceNbr", "VendorRef"),
            ("status", "Status"),
            ("curyOrigDocAmt", "Amount"),
            ("noteID", "@id"),
            ("lastModifiedDateTime", "LastModifiedDateTime"),
        ],
        "PurchaseOrder" => &[
            ("orderType", "Type"),
            ("orderNbr", "OrderNbr"),
            ("vendorID", "VendorID"),
            ("vendorRefNbr", "VendorRef"),
            ("status", "Status"),
            ("curyOrderTotal", "OrderTotal"),
            ("noteID", "@id"),
            ("lastModifiedDateTime", "LastModifiedDateTime"),
        ],
        "Account" => &[
            ("accountCD", "AccountCD"),
            ("description", "Description"),
            ("active", "Active"),
            ("noteID", "@id"),
            ("lastModifiedDateTime", "LastModifiedDateTime"),
        ],
        _ => &[("noteID", "@id")],
    }
}

/// A datetime as push payloads write it: tenant time, no offset, trailing zeros dropped.
pub fn push_time(t: DateTime<Utc>, offset: FixedOffset) -> String {
    let s = t.with_timezone(&offset).format("%Y-%m-%dT%H:%M:%S%.3f").to_string();
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// One GI row of a record: raw values.
pub fn gi_row(e: &Entity, r: &Record, offset: FixedOffset) -> Value {
    let mut m = Map::new();
    for (col, field) in columns(e) {
        let key = format!("{}_{col}", e.dac);
        let v = if *field == "@id" {
            json!(r.main.id)
        } else {
            match r.main.fields.get(*field) {
                None => Value::Null,
                Some(super::record::Scalar::Time(t)) => json!(push_time(*t, offset)),
                Some(super::record::Scalar::Date(d)) => json!(format!("{d}T00:00:00")),
                Some(super::record::Scalar::Dec(d)) => super::record::num(*d),
                Some(super::record::Scalar::Bool(b)) => json!(b),
                Some(super::record::Scalar::Int(i)) => json!(i),
                Some(x) => json!(x.text()),
            }
        };
        m.insert(key, v);
    }
    Value::Object(m)
}

/// .NET ticks (100 ns since 0001-01-01) of an instant.
pub fn dotnet_ticks(t: DateTime<Utc>) -> i64 {
    const EPOCH_TICKS: i64 = 621_355_968_000_000_000;
    EPOCH_TICKS + t.timestamp() * 10_000_000 + i64::from(t.timestamp_subsec_nanos() / 100)
}

fn draw(st: &mut AcuState) -> bool {
    let share = st.switches.push_duplicate_share;
    if share <= 0.0 {
        return false;
    }
    let mut x = st.push_rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    st.push_rng = x;
    ((x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64) < share
}

/// The notifications for some commits (called under the state lock, right after the write).
pub fn prepare(st: &mut AcuState, commits: &[Commit], now: DateTime<Utc>) -> Vec<Outgoing> {
    let mut out = Vec::new();
    let offset = st.offset();
    let destinations: Vec<Destination> = st.push.iter().filter(|d| d.active).cloned().collect();
    for c in commits {
        for d in &destinations {
            for q in d.queries.iter().filter(|q| q.entity.eq_ignore_ascii_case(c.entity.name)) {
                let mut body = Map::new();
                let inserted: Vec<Value> = c.new.iter().map(|r| gi_row(c.entity, r, offset)).collect();
                let deleted: Vec<Value> = c.old.iter().map(|r| gi_row(c.entity, r, offset)).collect();
                if !inserted.is_empty() || st.switches.push_empty_arrays {
                    body.insert("Inserted".into(), Value::Array(inserted));
                }
                if !deleted.is_empty() || st.switches.push_empty_arrays {
                    body.insert("Deleted".into(), Value::Array(deleted));
                }
                body.insert("Query".into(), json!(q.name));
                body.insert("CompanyId".into(), json!(st.tenant.name));
                body.insert("Id".into(), json!(super::record::new_guid()));
                body.insert("TimeStamp".into(), json!(dotnet_ticks(now)));
                body.insert(
                    "AdditionalInfo".into(),
                    json!({
                        "PXPerformanceInfoStartTime": push_time(now, offset),
                        "businessDate": format!("{}T00:00:00", st.today(now)),
                        "userName": c.user,
                    }),
                );
                let mut headers = BTreeMap::new();
                if !d.header_name.trim().is_empty() {
                    headers.insert(d.header_name.clone(), d.header_value.clone());
                }
                let target = WebhookTarget {
                    url: d.url.clone(),
                    username: None,
                    password: None,
                    headers,
                    retries: st.switches.push_max_attempts.saturating_sub(1),
                    timeout_ms: st.switches.push_timeout_ms.max(1),
                    retry_delay_secs: st.switches.push_retry_delay_secs,
                };
                let duplicate = draw(st);
                out.push(Outgoing {
                    event: format!("push:{}", q.name),
                    target,
                    body: serde_json::to_vec(&Value::Object(body)).unwrap_or_default(),
                    duplicate,
                });
            }
        }
    }
    out
}

/// Send notifications in the background.
pub fn send(kit: &SimKit, out: Vec<Outgoing>) {
    for o in out {
        let times = if o.duplicate { 2 } else { 1 };
        for _ in 0..times {
            let _ = webhook::send(kit, &o.event, o.target.clone(), "application/json; charset=utf-8", o.body.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ticks_and_zone_less_times() {
        // The doc's TimeStamp 636295833829493672 decodes to 2017-05-05 12:16:22.949 UTC [I].
        let t = Utc.timestamp_opt(1_493_986_582, 949_367_200).unwrap();
        assert_eq!(dotnet_ticks(t), 636_295_833_829_493_672);
        let off = FixedOffset::west_opt(4 * 3600).unwrap();
        let t = Utc.with_ymd_and_hms(2024, 5, 5, 19, 16, 23).unwrap() + chrono::Duration::milliseconds(100);
        assert_eq!(push_time(t, off), "2024-05-05T15:16:23.1");
        assert_eq!(push_time(Utc.with_ymd_and_hms(2024, 5, 5, 19, 16, 23).unwrap(), off), "2024-05-05T15:16:23");
    }
}
