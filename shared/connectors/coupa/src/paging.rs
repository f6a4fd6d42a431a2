//! Walking a Coupa listing: `offset`/`limit` pages of at most 50, ordered by id.
//!
//! Coupa lists are bare arrays with no total and no links (fact sheet §4): a walk asks for
//! `offset=0, 50, 100, …` and stops at a page shorter than `limit`. Three hazards shape it:
//!
//! - **The exported-flag hazard.** Filtering on `exported=false` while marking records exported
//!   shifts every later record one place left, so offset paging skips one record per mark. The
//!   export passes therefore collect the ids first ([`CoupaClient::collect_ids`], `fields=["id"]`,
//!   cheap) and only then read and mark each one; nothing changes the filtered set mid-walk.
//! - **Records entering the set mid-walk** (an invoice with a lower id approved between two pages)
//!   shift the window right: the next page repeats the previous page's last record. Records are
//!   de-duplicated by id; the newcomer itself is found by the next poll.
//! - **Records added at the end** (new ids) appear on later pages, because the walk orders by id
//!   ascending, whatever the instance's default order.
//!
//! A walk that stops advancing (every row already seen, page after page) or runs past
//! [`MAX_PAGES`] is an error rather than a loop.

use std::collections::HashSet;

use serde_json::Value;

use crate::client::CoupaClient;
use crate::errors::CoupaError;

/// Pages one walk may read (50 × 20 000 = a million records).
pub const MAX_PAGES: u64 = 20_000;

/// One walk over a listing; [`Pager::next_page`] returns the new records of each page.
#[derive(Debug)]
pub struct Pager {
    client: CoupaClient,
    resource: String,
    query: Vec<(String, String)>,
    offset: usize,
    limit: usize,
    done: bool,
    seen: HashSet<i64>,
    pages: u64,
    stalled: u32,
}

impl Pager {
    /// The next page's records not seen before (`None` when the walk is over).
    pub async fn next_page(&mut self) -> Result<Option<Vec<Value>>, CoupaError> {
        if self.done {
            return Ok(None);
        }
        if self.pages >= MAX_PAGES {
            return Err(CoupaError::Decode {
                call: format!("GET /{}", self.resource),
                detail: format!("the listing did not end after {MAX_PAGES} pages"),
            });
        }
        let mut q = self.query.clone();
        q.push(("offset".into(), self.offset.to_string()));
        q.push(("limit".into(), self.limit.to_string()));
        let v = self.client.get(&self.resource, &q, &format!("the {} listing", self.resource)).await?;
        self.pages += 1;
        let rows = match v {
            Value::Array(a) => a,
            other => {
                return Err(CoupaError::Decode {
                    call: format!("GET /{}", self.resource),
                    detail: format!("expected a JSON array, got {}", kind(&other)),
                });
            }
        };
        let n = rows.len();
        let mut fresh = Vec::with_capacity(n);
        for r in rows {
            let id = r.get("id").and_then(crate::kit_pending::int).ok_or_else(|| CoupaError::Decode {
                call: format!("GET /{}", self.resource),
                detail: format!("a record without an id at offset {}", self.offset),
            })?;
            if self.seen.insert(id) {
                fresh.push(r);
            }
        }
        self.offset += n;
        if n < self.limit {
            self.done = true;
        } else if fresh.is_empty() {
            self.stalled += 1;
            if self.stalled >= 3 {
                return Err(CoupaError::Decode {
                    call: format!("GET /{}", self.resource),
                    detail: "the listing repeats the same records page after page".into(),
                });
            }
        } else {
            self.stalled = 0;
        }
        Ok(Some(fresh))
    }

    /// Pages read so far.
    pub fn pages(&self) -> u64 {
        self.pages
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "an object",
        Value::Null => "nothing",
        Value::String(_) => "a string",
        _ => "a scalar",
    }
}

impl CoupaClient {
    /// Start a walk over `resource` with these filters and `fields`, ordered by id ascending.
    pub fn walk(&self, resource: &str, filters: &[(String, String)], fields: &str) -> Pager {
        let mut query: Vec<(String, String)> = filters.to_vec();
        query.push(("fields".into(), fields.to_string()));
        query.push(("order_by".into(), "id".into()));
        query.push(("dir".into(), "asc".into()));
        Pager {
            client: self.clone(),
            resource: resource.trim_start_matches('/').to_string(),
            query,
            offset: 0,
            limit: self.inner.settings.page_size as usize,
            done: false,
            seen: HashSet::new(),
            pages: 0,
            stalled: 0,
        }
    }

    /// Every record of a walk (de-duplicated).
    pub async fn collect(
        &self,
        resource: &str,
        filters: &[(String, String)],
        fields: &str,
    ) -> Result<Vec<Value>, CoupaError> {
        let mut p = self.walk(resource, filters, fields);
        let mut out = Vec::new();
        while let Some(page) = p.next_page().await? {
            out.extend(page);
        }
        Ok(out)
    }

    /// Every id a filter matches, collected before anything is processed (see the module docs).
    pub async fn collect_ids(&self, resource: &str, filters: &[(String, String)]) -> Result<Vec<i64>, CoupaError> {
        Ok(self
            .collect(resource, filters, r#"["id"]"#)
            .await?
            .iter()
            .filter_map(|r| r.get("id").and_then(crate::kit_pending::int))
            .collect())
    }
}
