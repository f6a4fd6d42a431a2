//! Walking a listing page by page: one declaration per endpoint, one loop per call site.
//!
//! Four ways vendors page, each a [`Paging`]:
//!
//! | style | who | declaration | next page | stops when |
//! |---|---|---|---|---|
//! | page number + size | Cin7 (`Page`/`Limit`), Procore (`page`/`per_page`) | [`Paging::page_number`] | page + 1 | a short or empty page, or `total` reached |
//! | offset + size | Acumatica (`$skip`/`$top`), Coupa (`offset`/`limit`), Cleo (`startIndex`/`count`) | [`Paging::offset`] | offset + items seen | a short or empty page, or `total` reached |
//! | RFC 8288 `Link` header | Procore | [`Paging::link_header`] | the `rel="next"` URL, exactly as given | no `rel="next"` (never guessed) |
//! | opaque cursor | token APIs (`next_cursor`, `page_start`) | [`Paging::cursor`] | the token from the body, sent back as a parameter | no token, or an empty page |
//!
//! Where the items are ([`Paging::items_at`]: a bare array by default) and where a total count is
//! ([`Paging::total_at`]) are part of the declaration. A vendor that may silently cap the page
//! size (Coupa caps `limit` at 50) makes "a short page is the last" unsafe: declare
//! [`Paging::until_empty`] (one extra call per listing) or ask for no more than the cap.
//!
//! A walk never loops: a next link or token equal to the one just followed, or more than
//! [`Paging::max_pages`] pages, is an error naming the listing.
//!
//! ```no_run
//! # use mlc_http::{HttpClient, Request, paging::{Listing, Paging}};
//! # async fn demo(acumatica: HttpClient) -> Result<(), mlc_http::HttpError> {
//! let bills = Request::get("Bill").query("$filter", "Status eq 'Open'");
//! let mut pages = Listing::new(&acumatica, bills, Paging::offset("$skip", "$top", 100));
//! while let Some(page) = pages.next_page().await? {
//!     for item in &page.items { /* decode tolerantly: mlc_http::decode::Fields::of(item) */ }
//! }
//! # Ok(()) }
//! ```
//! [`Paging::next_request`] is the same step without the loop, for a caller that keeps its own
//! (a poller that stores where it stopped).

use serde_json::Value;
use url::Url;

use crate::client::HttpClient;
use crate::error::HttpError;
use crate::request::{Request, Response};

/// How an endpoint pages (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paging {
    style: Style,
    items_at: Option<String>,
    total_at: Option<String>,
    until_empty: bool,
    max_pages: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Style {
    PageNumber { page: String, size: String, per_page: u32, first: u32 },
    Offset { offset: String, limit: String, per_page: u32, start: u64 },
    Link { size: Option<(String, u32)> },
    Cursor { param: String, token_at: String },
}

impl Paging {
    /// `?{page}=1&{size}={per_page}`, then 2, 3 … (1-based; see [`Paging::first_page`]).
    pub fn page_number(page: &str, size: &str, per_page: u32) -> Self {
        Self::of(Style::PageNumber { page: page.into(), size: size.into(), per_page: per_page.max(1), first: 1 })
    }

    /// `?{offset}=0&{limit}={per_page}`, then the offset advanced by the items received (see
    /// [`Paging::first_offset`]).
    pub fn offset(offset: &str, limit: &str, per_page: u32) -> Self {
        Self::of(Style::Offset { offset: offset.into(), limit: limit.into(), per_page: per_page.max(1), start: 0 })
    }

    /// Follow `Link: <…>; rel="next"` until there is none.
    pub fn link_header() -> Self {
        Self::of(Style::Link { size: None })
    }

    /// The opaque token at `token_at` in the body (a dotted path, `meta.next_cursor`) is sent back
    /// as `?{param}=` until there is none.
    pub fn cursor(param: &str, token_at: &str) -> Self {
        Self::of(Style::Cursor { param: param.into(), token_at: token_at.into() })
    }

    fn of(style: Style) -> Self {
        Paging { style, items_at: None, total_at: None, until_empty: false, max_pages: 10_000 }
    }

    /// For [`Paging::link_header`]: the page size asked on the first request (`per_page=100`);
    /// later pages use the links as given.
    pub fn size(mut self, param: &str, per_page: u32) -> Self {
        if let Style::Link { size } = &mut self.style {
            *size = Some((param.into(), per_page.max(1)));
        }
        self
    }

    /// The first page number, for APIs counting from 0.
    pub fn first_page(mut self, first: u32) -> Self {
        if let Style::PageNumber { first: f, .. } = &mut self.style {
            *f = first;
        }
        self
    }

    /// The first offset (0 unless the API counts from 1).
    pub fn first_offset(mut self, start: u64) -> Self {
        if let Style::Offset { start: s, .. } = &mut self.style {
            *s = start;
        }
        self
    }

    /// The items are the array at this dotted path of the body (`PurchaseList`, `resources`,
    /// `data`); keys match case-insensitively. Default: the body is the array.
    pub fn items_at(mut self, path: &str) -> Self {
        self.items_at = Some(path.into());
        self
    }

    /// The body states the total count here (`Total`, `totalResults`); paging stops when it is reached.
    pub fn total_at(mut self, path: &str) -> Self {
        self.total_at = Some(path.into());
        self
    }

    /// Only an empty page ends the listing (for vendors that may return fewer items than asked
    /// while more remain).
    pub fn until_empty(mut self) -> Self {
        self.until_empty = true;
        self
    }

    /// Refuse to walk more pages than this (default 10,000).
    pub fn max_pages(mut self, n: u32) -> Self {
        self.max_pages = n.max(1);
        self
    }

    /// The first page's request: `first` with this paging's parameters set.
    pub fn first_request(&self, first: Request) -> Request {
        match &self.style {
            Style::PageNumber { page, size, per_page, first: n } => {
                first.set_query(page, n.to_string()).set_query(size, per_page.to_string())
            }
            Style::Offset { offset, limit, per_page, start } => {
                first.set_query(offset, start.to_string()).set_query(limit, per_page.to_string())
            }
            Style::Link { size: Some((param, n)) } => first.set_query(param, n.to_string()),
            Style::Link { size: None } | Style::Cursor { .. } => first,
        }
    }

    /// Read one page's answer: its items and, when declared, the total.
    pub fn read(&self, resp: &Response) -> Result<(Vec<Value>, Option<u64>), HttpError> {
        if resp.bytes().iter().all(u8::is_ascii_whitespace) {
            return Ok((Vec::new(), None));
        }
        let body: Value = resp.json()?;
        let items = match &self.items_at {
            None => Some(&body),
            Some(path) => at(&body, path),
        };
        let items = match items {
            Some(Value::Array(a)) => a.clone(),
            None | Some(Value::Null) => Vec::new(),
            Some(other) => {
                let where_ = self.items_at.as_deref().unwrap_or("the top level");
                return Err(resp.decode_error(
                    "a page of a listing",
                    format!("expected a list at {where_}, found {}", kind_of(other)),
                ));
            }
        };
        let total = self.total_at.as_deref().and_then(|p| at(&body, p)).and_then(crate::decode::uint);
        Ok((items, total))
    }

    /// The request for the page after `sent`, given its answer, or `None` when the listing is done.
    /// `seen` counts the items of every page so far, this one included.
    pub fn next_request(
        &self,
        sent: &Request,
        resp: &Response,
        items: usize,
        total: Option<u64>,
        seen: u64,
    ) -> Result<Option<Request>, HttpError> {
        let short = if self.until_empty { items == 0 } else { items == 0 || items < self.per_page() };
        let reached = total.is_some_and(|t| seen >= t);
        match &self.style {
            Style::PageNumber { page, .. } => {
                if short || reached {
                    return Ok(None);
                }
                let n: u32 = sent.query_value(page).and_then(|v| v.parse().ok()).unwrap_or(1);
                Ok(Some(sent.clone().set_query(page, (n + 1).to_string())))
            }
            Style::Offset { offset, .. } => {
                if short || reached {
                    return Ok(None);
                }
                let at: u64 = sent.query_value(offset).and_then(|v| v.parse().ok()).unwrap_or(0);
                Ok(Some(sent.clone().set_query(offset, (at + items as u64).to_string())))
            }
            Style::Link { .. } => {
                let Some(link) = resp
                    .headers()
                    .get_all(http::header::LINK)
                    .iter()
                    .find_map(|v| v.to_str().ok().and_then(|t| link_rel(t, "next")))
                else {
                    return Ok(None);
                };
                if items == 0 {
                    // A next link after an empty page would walk nothing forever.
                    return Ok(None);
                }
                let next = resp
                    .resolve(&link)
                    .map_err(|e| resp.unexpected_paging(&format!("rel=\"next\" link {link:?} is not a URL: {e}")))?;
                if resp.url_is(&next) {
                    return Err(resp.unexpected_paging(&format!("rel=\"next\" points at the page just read ({link})")));
                }
                Ok(Some(sent.follow(next.as_str())))
            }
            Style::Cursor { param, token_at } => {
                if items == 0 {
                    return Ok(None);
                }
                let body: Value = resp.json()?;
                let Some(token) = at(&body, token_at).and_then(crate::decode::text) else { return Ok(None) };
                if sent.query_value(param) == Some(token.as_str()) {
                    return Err(resp.unexpected_paging(&format!("the next cursor at {token_at} is the one just sent")));
                }
                Ok(Some(sent.clone().set_query(param, token)))
            }
        }
    }

    fn per_page(&self) -> usize {
        match &self.style {
            Style::PageNumber { per_page, .. } | Style::Offset { per_page, .. } => *per_page as usize,
            // No declared size: only an empty page is short.
            Style::Link { size } => size.as_ref().map_or(1, |(_, n)| *n as usize),
            Style::Cursor { .. } => 1,
        }
    }
}

/// One page of a listing.
#[derive(Debug, Clone)]
pub struct Page {
    /// 1 for the first page read.
    pub number: u32,
    pub items: Vec<Value>,
    /// The total the body states, when declared ([`Paging::total_at`]).
    pub total: Option<u64>,
    pub response: Response,
}

/// A listing being walked: [`Listing::next_page`] until `None`.
#[derive(Debug)]
pub struct Listing {
    client: HttpClient,
    paging: Paging,
    next: Option<Request>,
    pages: u32,
    seen: u64,
}

impl Listing {
    /// Start at `first` (its own query kept; the paging parameters added).
    pub fn new(client: &HttpClient, first: Request, paging: Paging) -> Self {
        let next = Some(paging.first_request(first));
        Listing { client: client.clone(), paging, next, pages: 0, seen: 0 }
    }

    /// The next page, or `None` when the listing is done.
    pub async fn next_page(&mut self) -> Result<Option<Page>, HttpError> {
        let Some(req) = self.next.take() else { return Ok(None) };
        if self.pages >= self.paging.max_pages {
            return Err(HttpError::Unexpected {
                system: self.client.system().to_string(),
                method: req.method().to_string(),
                url: req.target.clone(),
                detail: format!("the listing did not end after {} pages", self.paging.max_pages),
                fix: Some("narrow the listing with a filter, or report it: the paging may be looping".into()),
            });
        }
        let resp = self.client.send(req.clone()).await?;
        let (items, total) = self.paging.read(&resp)?;
        self.pages += 1;
        self.seen += items.len() as u64;
        self.next = self.paging.next_request(&req, &resp, items.len(), total, self.seen)?;
        Ok(Some(Page { number: self.pages, items, total, response: resp }))
    }

    /// Every item of every page.
    pub async fn all(mut self) -> Result<Vec<Value>, HttpError> {
        let mut out = Vec::new();
        while let Some(p) = self.next_page().await? {
            out.extend(p.items);
        }
        Ok(out)
    }

    /// Items read so far.
    pub fn seen(&self) -> u64 {
        self.seen
    }
}

/// The value at a dotted path, keys matched case-insensitively.
fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').filter(|s| !s.is_empty()).try_fold(v, |cur, key| {
        let m = cur.as_object()?;
        m.get(key).or_else(|| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
    })
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The target of the first link with relation `rel` in an RFC 8288 `Link` header value:
/// `<https://x/a?page=2>; rel="next", <…>; rel="last"`. Relations are a space-separated list,
/// compared case-insensitively; commas inside `<…>` and quoted strings are not separators.
pub fn link_rel(header: &str, rel: &str) -> Option<String> {
    let mut rest = header;
    loop {
        let open = rest.find('<')?;
        let close = open + rest[open..].find('>')?;
        let target = rest[open + 1..close].trim().to_string();
        // Parameters run to the next comma outside quotes.
        let params_start = close + 1;
        let mut in_quotes = false;
        let mut end = rest.len();
        for (i, c) in rest[params_start..].char_indices() {
            match c {
                '"' => in_quotes = !in_quotes,
                ',' if !in_quotes => {
                    end = params_start + i;
                    break;
                }
                _ => {}
            }
        }
        for param in rest[params_start..end].split(';') {
            let Some((name, value)) = param.split_once('=') else { continue };
            if name.trim().eq_ignore_ascii_case("rel")
                && value.trim().trim_matches('"').split_whitespace().any(|r| r.eq_ignore_ascii_case(rel))
            {
                return Some(target);
            }
        }
        rest = rest.get(end + 1..)?;
    }
}

impl Response {
    /// A link from this answer as a URL: absolute, host-relative or relative to the request.
    pub(crate) fn resolve(&self, link: &str) -> Result<Url, url::ParseError> {
        let base = Url::parse(&self.call().base_url)?;
        base.join(&self.call().url)?.join(link)
    }

    /// Whether `url` is the one this answer came from.
    pub(crate) fn url_is(&self, url: &Url) -> bool {
        let shown = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        shown == self.call().url
    }

    fn unexpected_paging(&self, detail: &str) -> HttpError {
        let c = self.call();
        HttpError::Unexpected {
            system: c.system.clone(),
            method: c.method.clone(),
            url: c.url.clone(),
            detail: format!("cannot page on: {detail}"),
            fix: Some("report this: the listing's paging is not what the connector expects".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers() {
        let h = r#"<https://api.procore.com/rest/v1.0/vendors?company_id=1&page=1&per_page=2>; rel="first", <https://api.procore.com/rest/v1.0/vendors?company_id=1&page=3&per_page=2>; rel="last", <https://api.procore.com/rest/v1.0/vendors?company_id=1&page=2&per_page=2>; rel="next""#;
        assert_eq!(
            link_rel(h, "next").as_deref(),
            Some("https://api.procore.com/rest/v1.0/vendors?company_id=1&page=2&per_page=2")
        );
        assert_eq!(link_rel(h, "prev"), None);
        assert_eq!(link_rel(r#"</a?x=1,2>; title="a, b"; rel="prev next""#, "NEXT").as_deref(), Some("/a?x=1,2"));
        assert_eq!(link_rel(r#"</a>; rel=next"#, "next").as_deref(), Some("/a"));
        assert_eq!(link_rel("", "next"), None);
        assert_eq!(link_rel("garbage", "next"), None);
    }

    #[test]
    fn dotted_paths_ignore_case() {
        let v = serde_json::json!({"Meta": {"Next_Cursor": "abc"}, "data": []});
        assert_eq!(at(&v, "meta.next_cursor"), Some(&Value::String("abc".into())));
        assert_eq!(at(&v, "meta.missing"), None);
    }
}
