//! Walking a Coupa listing: `offset`/`limit` pages of at most 50, ordered by id.
//!
//! Coupa lists are bare arrays with no total and no links (fact sheet §4): the kit's
//! [`Paging::offset`] asks for `offset=0, 50, 100, …` and stops at a page shorter than `limit`
//! (we never ask for more than Coupa's cap, so a short page really is the last). What is Coupa's
//! own is what the pages may do between two requests:
//!
//! - **The exported-flag hazard.** Filtering on `exported=false` while marking records exported
//!   shifts every later record one place left, so offset paging skips one record per mark. Two
//!   ways around it: collect the ids first ([`CoupaClient::collect_ids`], `fields=["id"]`, cheap)
//!   and only then read and mark each one; or page by key ([`CoupaClient::page_after`]:
//!   `id[gt]=<last id read>`, ordered by id), where a record leaving the set between two pages
//!   moves nothing. The flows' invoice source pages by key, one page per poll step, so a poll is
//!   bounded per step and marks made meanwhile (by webhooks, by other workers) skip nothing.
//! - **Records entering the set mid-walk** (an invoice with a lower id approved between two pages)
//!   shift the window right: the next page repeats the previous page's last record. Records are
//!   de-duplicated by id; the newcomer itself is found by the next poll.
//! - **Records added at the end** (new ids) appear on later pages, because the walk orders by id
//!   ascending, whatever the instance's default order.
//!
//! Each page goes through the connector's read path (Coupa's error envelopes, truncated answers
//! read again). A walk that stops advancing (every row already seen, page after page) or runs
//! past [`MAX_PAGES`] is an error rather than a loop.

use std::collections::HashSet;

use mlc_http::Request;
use mlc_http::paging::Paging;
use serde_json::Value;

use crate::client::CoupaClient;
use crate::errors::CoupaError;

/// Pages one walk may read (50 × 20 000 = a million records).
pub const MAX_PAGES: u64 = 20_000;

/// One keyset page ([`CoupaClient::page_after`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeysetPage {
    /// The records, each once, in id order.
    pub rows: Vec<Value>,
    /// The page was full (`limit` rows): another page may follow.
    pub full: bool,
}

impl KeysetPage {
    /// The last id on the page (where the next page starts).
    pub fn last_id(&self) -> Option<i64> {
        self.rows.iter().filter_map(|r| r.get("id").and_then(mlc_http::decode::int)).max()
    }
}

/// One walk over a listing; [`Pager::next_page`] returns the new records of each page.
#[derive(Debug)]
pub struct Pager {
    client: CoupaClient,
    resource: String,
    paging: Paging,
    next: Option<Request>,
    seen: HashSet<i64>,
    rows: u64,
    pages: u64,
    stalled: u32,
}

impl Pager {
    fn error(&self, detail: String) -> CoupaError {
        CoupaError::Decode { call: format!("GET /{}", self.resource), detail }
    }

    /// The next page's records not seen before (`None` when the walk is over).
    pub async fn next_page(&mut self) -> Result<Option<Vec<Value>>, CoupaError> {
        let Some(req) = self.next.take() else { return Ok(None) };
        if self.pages >= MAX_PAGES {
            return Err(self.error(format!("the listing did not end after {MAX_PAGES} pages")));
        }
        let what = format!("the {} listing", self.resource);
        let (resp, body) = self.client.read_with_retry(req.clone(), &self.resource, &what).await?;
        self.pages += 1;
        let rows = match body {
            Value::Array(a) => a,
            Value::Null => Vec::new(),
            other => return Err(self.error(format!("expected a JSON array, got {}", kind(&other)))),
        };
        let n = rows.len();
        self.rows += n as u64;
        let mut fresh = Vec::with_capacity(n);
        for r in rows {
            let Some(id) = r.get("id").and_then(mlc_http::decode::int) else {
                return Err(self.error(format!("a record without an id on page {}", self.pages)));
            };
            if self.seen.insert(id) {
                fresh.push(r);
            }
        }
        self.next = self.paging.next_request(&req, &resp, n, None, self.rows)?;
        if self.next.is_some() && fresh.is_empty() {
            self.stalled += 1;
            if self.stalled >= 3 {
                return Err(self.error("the listing repeats the same records page after page".into()));
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
        Value::String(_) => "a string",
        _ => "a scalar",
    }
}

impl CoupaClient {
    /// Start a walk over `resource` with these filters and `fields`, ordered by id ascending.
    pub fn walk(&self, resource: &str, filters: &[(String, String)], fields: &str) -> Pager {
        let resource = resource.trim_start_matches('/').to_string();
        let mut first = Request::get(resource.clone());
        for (k, v) in filters {
            first = first.query(k.as_str(), v);
        }
        first = first.query("fields", fields).query("order_by", "id").query("dir", "asc");
        let paging = Paging::offset("offset", "limit", self.inner.settings.page_size);
        Pager {
            client: self.clone(),
            next: Some(paging.first_request(first)),
            resource,
            paging,
            seen: HashSet::new(),
            rows: 0,
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

    /// One keyset page: the records after `after_id` (`id[gt]`), ordered by id, at most `limit`
    /// (capped at Coupa's 50). Unlike offset paging, a record leaving the filtered set between two
    /// pages (marked exported) shifts nothing: the next page starts after the last id read. A
    /// record repeated within the page (a proxy fault) is dropped.
    pub async fn page_after(
        &self,
        resource: &str,
        filters: &[(String, String)],
        fields: &str,
        after_id: i64,
        limit: u32,
    ) -> Result<KeysetPage, CoupaError> {
        let resource = resource.trim_start_matches('/').to_string();
        let limit = limit.clamp(1, 50);
        let mut query: Vec<(String, String)> = filters.to_vec();
        query.push(("id[gt]".into(), after_id.to_string()));
        query.push(("fields".into(), fields.to_string()));
        query.push(("order_by".into(), "id".into()));
        query.push(("dir".into(), "asc".into()));
        query.push(("limit".into(), limit.to_string()));
        let what = format!("the {resource} listing after id {after_id}");
        let rows = match self.get(&resource, &query, &what).await? {
            Value::Array(a) => a,
            Value::Null => Vec::new(),
            other => {
                return Err(CoupaError::Decode {
                    call: format!("GET /{resource}"),
                    detail: format!("expected a JSON array, got {}", kind(&other)),
                });
            }
        };
        let full = rows.len() >= limit as usize;
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let Some(id) = r.get("id").and_then(mlc_http::decode::int) else {
                return Err(CoupaError::Decode {
                    call: format!("GET /{resource}"),
                    detail: format!("a record without an id after id {after_id}"),
                });
            };
            if id <= after_id {
                return Err(CoupaError::Decode {
                    call: format!("GET /{resource}"),
                    detail: format!("the listing ignored id[gt]={after_id} (it returned id {id})"),
                });
            }
            if seen.insert(id) {
                out.push(r);
            }
        }
        Ok(KeysetPage { rows: out, full })
    }

    /// Every id a filter matches, collected before anything is processed (see the module docs).
    pub async fn collect_ids(&self, resource: &str, filters: &[(String, String)]) -> Result<Vec<i64>, CoupaError> {
        Ok(self
            .collect(resource, filters, r#"["id"]"#)
            .await?
            .iter()
            .filter_map(|r| r.get("id").and_then(mlc_http::decode::int))
            .collect())
    }
}
