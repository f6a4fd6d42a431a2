//! The four paging styles against a local axum server holding 250 items.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::HeaderMap as AxHeaders;
use axum::response::{IntoResponse, Response as AxResponse};
use serde_json::{Value, json};
use url::Url;

use crate::paging::{Listing, Paging};
use crate::{DefaultClassifier, HttpClient, HttpError, NoAuth, Request};

const N: u64 = 250;

#[derive(Default)]
struct Seen(Mutex<Vec<String>>);

fn items(from: u64, count: u64) -> Vec<Value> {
    (from..(from + count).min(N)).map(|i| json!({"id": i + 1})).collect()
}

fn num(q: &HashMap<String, String>, k: &str, default: u64) -> u64 {
    q.get(k).and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn serve(
    State(seen): State<Arc<Seen>>,
    headers: AxHeaders,
    uri: axum::http::Uri,
    Query(q): Query<HashMap<String, String>>,
) -> AxResponse {
    let path = uri.path().to_string();
    seen.0.lock().unwrap().push(format!("{path}?{}", uri.query().unwrap_or("")));
    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("").to_string();
    match path.as_str() {
        "/api/cin7" => {
            let (page, limit) = (num(&q, "Page", 1), num(&q, "Limit", 100));
            axum::Json(json!({"Total": N, "Page": page, "PurchaseList": items((page - 1) * limit, limit)}))
                .into_response()
        }
        "/api/odata" => axum::Json(items(num(&q, "$skip", 0), num(&q, "$top", N))).into_response(),
        // Coupa: `limit` above 50 is capped silently.
        "/api/capped" => axum::Json(items(num(&q, "offset", 0), num(&q, "limit", 50).min(50))).into_response(),
        "/api/cleo" => {
            let (start, count) = (num(&q, "startIndex", 0), num(&q, "count", 10));
            axum::Json(json!({"totalResults": N, "resources": items(start, count), "itemsPerPage": count}))
                .into_response()
        }
        "/api/cursor" => {
            let after =
                q.get("cursor").and_then(|c| c.strip_prefix("after-")).and_then(|n| n.parse().ok()).unwrap_or(0);
            let page = items(after, 100);
            let next = (after + 100 < N).then(|| format!("after-{}", after + 100));
            axum::Json(json!({"data": page, "meta": {"next_cursor": next}})).into_response()
        }
        "/api/linked" => {
            let (page, per) = (num(&q, "page", 1), num(&q, "per_page", 100));
            let last = N.div_ceil(per);
            let link = |p: u64, rel: &str| {
                format!("<http://{host}/api/linked?company_id=7&page={p}&per_page={per}>; rel=\"{rel}\"")
            };
            let mut rels = vec![link(1, "first")];
            if page > 1 {
                rels.push(link(page - 1, "prev"));
            }
            if page < last {
                rels.push(link(last, "last"));
                rels.push(link(page + 1, "next"));
            }
            let mut r = axum::Json(items((page - 1) * per, per)).into_response();
            r.headers_mut().insert("link", rels.join(", ").parse().unwrap());
            r.headers_mut().insert("total", N.to_string().parse().unwrap());
            r
        }
        "/api/loop" => {
            let mut r = axum::Json(items(0, 5)).into_response();
            r.headers_mut().insert("link", format!("<http://{host}/api/loop>; rel=\"next\"").parse().unwrap());
            r
        }
        "/api/not-a-list" => axum::Json(json!({"resources": {"id": 1}})).into_response(),
        _ => (axum::http::StatusCode::NOT_FOUND, "no").into_response(),
    }
}

async fn server() -> (Arc<Seen>, HttpClient) {
    let seen = Arc::new(Seen::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(serve).with_state(seen.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let root = Url::parse(&format!("http://{addr}/")).unwrap();
    let client = HttpClient::new(super::config(&root), Arc::new(NoAuth), Arc::new(DefaultClassifier::new())).unwrap();
    (seen, client)
}

fn ids(items: &[Value]) -> Vec<u64> {
    items.iter().map(|i| i["id"].as_u64().unwrap()).collect()
}

fn all_ids() -> Vec<u64> {
    (1..=N).collect()
}

fn calls(seen: &Seen) -> Vec<String> {
    std::mem::take(&mut *seen.0.lock().unwrap())
}

#[tokio::test]
async fn page_number_with_an_envelope_and_a_total() {
    let (seen, c) = server().await;
    let paging = Paging::page_number("Page", "Limit", 100).items_at("purchaselist").total_at("total");
    let mut l = Listing::new(&c, Request::get("cin7").query("UpdatedSince", "2025-01-01"), paging);
    let mut got = Vec::new();
    let mut numbers = Vec::new();
    while let Some(p) = l.next_page().await.unwrap() {
        assert_eq!(p.total, Some(N));
        numbers.push(p.number);
        got.extend(ids(&p.items));
    }
    assert_eq!((got, numbers), (all_ids(), vec![1, 2, 3]));
    assert_eq!(
        calls(&seen),
        [
            "/api/cin7?UpdatedSince=2025-01-01&Page=1&Limit=100",
            "/api/cin7?UpdatedSince=2025-01-01&Page=2&Limit=100",
            "/api/cin7?UpdatedSince=2025-01-01&Page=3&Limit=100",
        ]
    );
    // 250 at 50 a page: the total stops the walk at page 5 without asking for an empty page 6.
    let l = Listing::new(
        &c,
        Request::get("cin7"),
        Paging::page_number("Page", "Limit", 50).items_at("PurchaseList").total_at("Total"),
    );
    assert_eq!(ids(&l.all().await.unwrap()), all_ids());
    assert_eq!(calls(&seen).len(), 5);
}

#[tokio::test]
async fn odata_top_skip_stops_on_a_short_page() {
    let (seen, c) = server().await;
    let l = Listing::new(
        &c,
        Request::get("odata").query("$filter", "Status eq 'Open'"),
        Paging::offset("$skip", "$top", 100),
    );
    assert_eq!(ids(&l.all().await.unwrap()), all_ids());
    let calls = calls(&seen);
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert!(calls[2].ends_with("%24skip=200&%24top=100"), "{calls:?}");
    // An exact multiple ends on an empty page.
    let l = Listing::new(&c, Request::get("odata"), Paging::offset("$skip", "$top", 125));
    assert_eq!(ids(&l.all().await.unwrap()), all_ids());
    assert_eq!(self::calls(&seen).len(), 3);
}

#[tokio::test]
async fn a_silently_capped_page_size_needs_until_empty() {
    let (seen, c) = server().await;
    // Asking 100 where Coupa gives 50: "short page = last" would stop after 50 items.
    let l = Listing::new(&c, Request::get("capped"), Paging::offset("offset", "limit", 100));
    assert_eq!(l.all().await.unwrap().len(), 50);
    calls(&seen);
    let l = Listing::new(&c, Request::get("capped"), Paging::offset("offset", "limit", 100).until_empty());
    assert_eq!(ids(&l.all().await.unwrap()), all_ids());
    let calls = calls(&seen);
    assert_eq!(calls.len(), 6, "five pages of 50 and the empty one: {calls:?}");
    assert!(calls[1].ends_with("offset=50&limit=100"), "advanced by the items received: {calls:?}");
}

#[tokio::test]
async fn cleo_start_index_and_count_with_total_results() {
    let (seen, c) = server().await;
    let paging = Paging::offset("startIndex", "count", 100).items_at("resources").total_at("totalResults");
    let l = Listing::new(&c, Request::get("cleo"), paging);
    assert_eq!(ids(&l.all().await.unwrap()), all_ids());
    assert_eq!(calls(&seen).len(), 3);
}

#[tokio::test]
async fn link_header_is_followed_exactly_and_never_guessed() {
    let (seen, c) = server().await;
    let paging = Paging::link_header().size("per_page", 100);
    let l = Listing::new(&c, Request::get("linked").query("company_id", 7), paging);
    assert_eq!(ids(&l.all().await.unwrap()), all_ids());
    let calls = calls(&seen);
    assert_eq!(
        calls,
        [
            "/api/linked?company_id=7&per_page=100",
            "/api/linked?company_id=7&page=2&per_page=100",
            "/api/linked?company_id=7&page=3&per_page=100",
        ],
        "the next URLs as the server wrote them"
    );
}

#[tokio::test]
async fn opaque_cursor_from_the_body() {
    let (seen, c) = server().await;
    let l = Listing::new(&c, Request::get("cursor"), Paging::cursor("cursor", "meta.next_cursor").items_at("data"));
    assert_eq!(ids(&l.all().await.unwrap()), all_ids());
    assert_eq!(calls(&seen), ["/api/cursor?", "/api/cursor?cursor=after-100", "/api/cursor?cursor=after-200"]);
}

#[tokio::test]
async fn loops_and_wrong_shapes_are_errors_naming_the_listing() {
    let (_seen, c) = server().await;
    let mut l = Listing::new(&c, Request::get("loop"), Paging::link_header());
    let e = match l.next_page().await {
        Err(e) => e,
        Ok(_) => panic!("a next link to the same page must not be followed"),
    };
    assert!(matches!(e, HttpError::Unexpected { .. }) && e.to_string().contains("page just read"), "{e}");

    let l = Listing::new(&c, Request::get("not-a-list"), Paging::offset("s", "n", 10).items_at("resources"));
    let e = l.all().await.unwrap_err();
    assert!(e.to_string().contains("expected a list at resources, found an object"), "{e}");

    let l = Listing::new(&c, Request::get("odata"), Paging::offset("$skip", "$top", 1).max_pages(3));
    let e = l.all().await.unwrap_err();
    assert!(e.to_string().contains("did not end after 3 pages"), "{e}");
}
