//! Tests of the Cleo simulator over HTTP (a plain reqwest client, no connector code).

use chrono::{Duration, NaiveDate};
use mlc_core::domain::{ArInvoice, ArInvoiceDraft, ArLine, DocumentKind, Party, SourceRef};
use mlc_core::money::{Currency, Tolerance};
use mlc_x12::{Numbers, render_810};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::scenario::demo as logins;
use super::*;
use crate::common::{Fault, FaultRule, SimClock};

struct T {
    h: SimHandle<CleoSim>,
    c: reqwest::Client,
    token: String,
}

async fn start_with(b: CleoSimBuilder, rate_limited: bool) -> T {
    let h = b.start().await.expect("start");
    if !rate_limited {
        h.system().set_switch(|s| s.rate_limit_per_second = 0);
    }
    let c = reqwest::Client::builder().no_proxy().build().expect("client");
    let mut t = T { h, c, token: String::new() };
    t.token = t.login(logins::USERNAME, logins::PASSWORD).await.1["access_token"].as_str().unwrap_or("").to_string();
    t
}

async fn start() -> T {
    start_with(CleoSim::builder().clock(SimClock::manual_default()), false).await
}

impl T {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.h.base_url(), path)
    }

    async fn login(&self, user: &str, password: &str) -> (u16, Value) {
        let r = self
            .c
            .post(self.url("/api/authentication"))
            .form(&[("grant_type", "password"), ("username", user), ("password", password)])
            .send()
            .await
            .expect("send");
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.c.get(self.url(path)).bearer_auth(&self.token).send().await.expect("send");
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn get_bytes(&self, path: &str) -> (u16, Vec<u8>) {
        let r = self.c.get(self.url(path)).bearer_auth(&self.token).send().await.expect("send");
        (r.status().as_u16(), r.bytes().await.expect("bytes").to_vec())
    }

    async fn delete(&self, path: &str) -> (u16, Value) {
        let r = self.c.delete(self.url(path)).bearer_auth(&self.token).send().await.expect("send");
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn upload_raw(&self, files_href: &str, name: &str, bytes: &[u8]) -> (u16, Value) {
        let r = self
            .c
            .post(self.url(files_href))
            .query(&[("filename", name)])
            .bearer_auth(&self.token)
            .header("content-type", "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .await
            .expect("send");
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn upload_multipart(&self, files_href: &str, name: &str, bytes: &[u8]) -> (u16, Value) {
        let boundary = "mlc-test-boundary-7f3a";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let r = self
            .c
            .post(self.url(files_href))
            .bearer_auth(&self.token)
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body)
            .send()
            .await
            .expect("send");
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// `_links.files.href` of a mailbox folder, navigating by hrefs like a client.
    async fn files_href(&self, mailbox: &str, folder: &str) -> String {
        let (_, mbs) = self.get(&format!("/api/mailboxes?filter={}", enc(&format!("alias eq \"{mailbox}\"")))).await;
        let folders = mbs["resources"][0]["_links"]["folders"]["href"].as_str().expect("folders href").to_string();
        let (_, fs) = self.get(&format!("{folders}?filter={}", enc(&format!("name eq \"{folder}\"")))).await;
        fs["resources"][0]["_links"]["files"]["href"].as_str().expect("files href").to_string()
    }

    async fn action(&self, name: &str, args: Value) -> Value {
        self.h.system().clone().action(name.to_string(), args).await.expect("action")
    }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn invoice(number: &str, buyer: &str, amount: i64) -> ArInvoice {
    let price = Decimal::new(amount, 2);
    ArInvoice::try_new(ArInvoiceDraft {
        source: SourceRef { system: "deltek".into(), entity: "ar".into(), id: number.into(), version: "1".into() },
        kind: DocumentKind::Invoice,
        invoice_number: number.into(),
        invoice_date: NaiveDate::from_ymd_opt(2025, 6, 2).expect("date"),
        due_date: None,
        currency: Currency::USD,
        seller: Party { name: "Cascade Ridge Engineering".into(), id: Some("CASCADE".into()), address: None },
        buyer: Party { name: buyer.into(), id: Some("BUYER01".into()), address: None },
        po_number: Some("PO-1".into()),
        terms: None,
        lines: vec![ArLine {
            line_no: 1,
            description: "Design services".into(),
            item_id: None,
            quantity: Decimal::ONE,
            unit: "EA".into(),
            unit_price: price,
            amount: price,
            tax_amount: Decimal::ZERO,
            project: None,
            account: None,
        }],
        header_tax: Decimal::ZERO,
        charges: Decimal::ZERO,
        total: price,
        tolerance: Tolerance::default(),
    })
    .expect("invoice")
}

#[tokio::test]
async fn versalex_conventions_login_collections_links_and_errors() {
    let t = start().await;
    let (s, tok) = t.login(logins::USERNAME, logins::PASSWORD).await;
    assert_eq!(s, 200);
    assert!(tok["access_token"].as_str().is_some_and(|a| !a.is_empty()));
    assert_eq!(tok["token_type"], "bearer");
    assert_eq!(tok["expires_in"], 1800);
    assert!(tok["refresh_token"].is_string());
    // Bearer on everything else.
    let r = t.c.get(t.url("/api/mailboxes")).send().await.expect("send");
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.expect("json"), json!({"message": "Unauthorized"}));
    // Collection shape, HAL links, filter.
    let (s, v) = t.get("/api/mailboxes").await;
    assert_eq!(s, 200);
    assert_eq!(v["totalResults"], 4);
    assert_eq!(v["resources"].as_array().map(Vec::len), Some(4));
    assert!(v.get("startIndex").is_none(), "paging keys are echoed only on the switch");
    let (_, one) = t.get(&format!("/api/mailboxes?filter={}", enc("alias eq \"HARBORCO\""))).await;
    assert_eq!(one["totalResults"], 1);
    let href = one["resources"][0]["_links"]["self"]["href"].as_str().expect("href");
    assert!(href.starts_with("/api/mailboxes/"), "server-relative: {href}");
    let (s, mb) = t.get(href).await;
    assert_eq!((s, mb["alias"].as_str()), (200, Some("HARBORCO")));
    assert_eq!(mb["meta"]["resourceType"], "mailbox");
    let (s, folders) = t.get(mb["_links"]["folders"]["href"].as_str().expect("folders")).await;
    assert_eq!(s, 200);
    let names: Vec<&str> =
        folders["resources"].as_array().expect("arr").iter().filter_map(|f| f["name"].as_str()).collect();
    assert_eq!(names, vec!["inbox", "outbox"]);
    assert_eq!(folders["resources"][0]["permissions"], json!({"upload": true, "download": false}));
    // Errors are {"message"}.
    let (s, e) = t.get(&format!("/api/mailboxes?filter={}", enc("alias co \"H\""))).await;
    assert_eq!(s, 400);
    assert!(e["message"].as_str().is_some_and(|m| m.contains("Invalid filter")));
    let (s, e) = t.get("/api/nothing").await;
    assert_eq!((s, e), (404, json!({"message": "Not Found"})));
    let r = t.c.put(t.url("/api/mailboxes")).bearer_auth(&t.token).send().await.expect("send");
    assert_eq!(r.status(), 405);
    // Hidden permissions.
    t.h.system().set_switch(|s| s.permission_style = switches::PermissionStyle::Hidden);
    let (_, folders) = t.get(mb["_links"]["folders"]["href"].as_str().expect("folders")).await;
    assert!(folders["resources"][0].get("permissions").is_none());
}

#[tokio::test]
async fn refused_logins_two_factor_expired_lockout_and_status_switch() {
    let t = start().await;
    let (s, e) = t.login(logins::TWO_FACTOR_USERNAME, logins::TWO_FACTOR_PASSWORD).await;
    assert_eq!((s, e["message"].as_str()), (403, Some(auth::TWO_FACTOR_MESSAGE)));
    let (s, e) = t.login(logins::EXPIRED_USERNAME, logins::EXPIRED_PASSWORD).await;
    assert_eq!((s, e["message"].as_str()), (401, Some(auth::EXPIRED_MESSAGE)));
    let (s, e) = t.login("nobody", "x").await;
    assert_eq!((s, e["message"].as_str()), (401, Some(auth::BAD_CREDENTIALS_MESSAGE)));
    // Five failures lock the user, even with the right password afterwards.
    for _ in 0..5 {
        assert_eq!(t.login(logins::USERNAME, "wrong").await.0, 401);
    }
    let (s, e) = t.login(logins::USERNAME, logins::PASSWORD).await;
    assert_eq!((s, e["message"].as_str()), (401, Some(auth::LOCKED_MESSAGE)));
    t.h.clock().advance(Duration::minutes(16));
    assert_eq!(t.login(logins::USERNAME, logins::PASSWORD).await.0, 200);
    t.h.system().set_switch(|s| s.bad_credentials_status = 400);
    assert_eq!(t.login(logins::USERNAME, "wrong").await.0, 400);
    // Not a form: 400.
    let r = t.c.post(t.url("/api/authentication")).json(&json!({"grant_type": "password"})).send().await.expect("send");
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn tokens_expire_on_the_simulated_clock_and_refresh_tokens_rotate() {
    let mut t = start().await;
    let (_, tok) = t.login(logins::USERNAME, logins::PASSWORD).await;
    t.token = tok["access_token"].as_str().expect("token").into();
    assert_eq!(t.get("/api/mailboxes").await.0, 200);
    t.h.clock().advance(Duration::minutes(31));
    assert_eq!(t.get("/api/mailboxes").await.0, 401);
    let refresh = tok["refresh_token"].as_str().expect("refresh").to_string();
    let r =
        t.c.post(t.url("/api/authentication"))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh.as_str())])
            .send()
            .await
            .expect("send");
    assert_eq!(r.status(), 200);
    let fresh: Value = r.json().await.expect("json");
    t.token = fresh["access_token"].as_str().expect("token").into();
    assert_eq!(t.get("/api/mailboxes").await.0, 200);
    // The old refresh token was rotated out.
    let r =
        t.c.post(t.url("/api/authentication"))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh.as_str())])
            .send()
            .await
            .expect("send");
    assert_eq!(r.status(), 400);
    assert_eq!(
        t.action("grants", json!({})).await["grants"],
        json!(["password", "password", "refresh_token", "refresh_token"])
    );
    // Revocation: a 401 mid-stream.
    t.action("revoke_tokens", json!({})).await;
    assert_eq!(t.get("/api/mailboxes").await.0, 401);
    // No refresh token, no expires_in.
    t.h.system().set_switch(|s| {
        s.issue_refresh_token = false;
        s.send_expires_in = false;
    });
    let (_, tok) = t.login(logins::USERNAME, logins::PASSWORD).await;
    assert!(tok.get("refresh_token").is_none() && tok.get("expires_in").is_none(), "{tok}");
}

#[tokio::test]
async fn upload_both_encodings_download_exact_bytes_delete_twice_and_permissions() {
    let t = start().await;
    let out = t.files_href("STATEDOT", "to-partner").await;
    let inb = t.files_href("STATEDOT", "from-partner").await;
    let edi = b"ISA*00*          *00*          ~\r\nGS*IN~\nweird \x85 byte~";
    let (s, f) = t.upload_multipart(&out, "a.edi", edi).await;
    assert_eq!(s, 201, "{f}");
    assert_eq!((f["name"].as_str(), f["size"].as_u64()), (Some("a.edi"), Some(edi.len() as u64)));
    let (s, g) = t.upload_raw(&out, "b.edi", edi).await;
    assert_eq!(s, 201, "{g}");
    // Download is forbidden on an upload-only folder; allowed where the partner drops files.
    let content = f["_links"]["content"]["href"].as_str().expect("content");
    assert_eq!(t.get_bytes(content).await.0, 403);
    let (s, e) = t.upload_raw(&inb, "c.edi", edi).await;
    assert_eq!((s, e["message"].as_str()), (403, Some("Upload is not permitted on folder 'from-partner'")));
    let id = t
        .action(
            "drop_file",
            json!({"mailbox": "STATEDOT", "folder": "from-partner", "name": "in.edi", "base64": "SVNBKn4NCuKCrH4="}),
        )
        .await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let (s, bytes) = t.get_bytes(&format!("{inb}/{id}/content")).await;
    assert_eq!((s, bytes.as_slice()), (200, "ISA*~\r\n€~".as_bytes()));
    assert_eq!(t.delete(&format!("{inb}/{id}")).await.0, 204);
    let (s, e) = t.delete(&format!("{inb}/{id}")).await;
    assert_eq!((s, e["message"].as_str().map(|m| m.contains("not found"))), (404, Some(true)));
    assert_eq!(t.h.system().lock().archive.last().map(|a| a.why.clone()).as_deref(), Some("deleted"));
    // Bad names and unsupported encodings.
    assert_eq!(t.upload_raw(&out, "../x", edi).await.0, 400);
    assert_eq!(t.upload_raw(&out, "", edi).await.0, 400);
    t.h.system().set_switch(|s| s.upload_accepts = switches::UploadAccepts::Multipart);
    assert_eq!(t.upload_raw(&out, "d.edi", edi).await, (415, json!({"message": "Unsupported Media Type"})));
    t.h.system().set_switch(|s| s.upload_accepts = switches::UploadAccepts::Raw);
    assert_eq!(t.upload_multipart(&out, "d.edi", edi).await.0, 415);
    // Permissions not enforced.
    t.h.system().set_switch(|s| s.enforce_permissions = false);
    assert_eq!(t.upload_raw(&inb, "c.edi", edi).await.0, 201);
}

#[tokio::test]
async fn same_name_upload_duplicates_overwrites_or_is_refused() {
    let t = start().await;
    let out = t.files_href("RIVERTON", "810/out").await;
    assert_eq!(t.upload_raw(&out, "x.edi", b"one").await.0, 201);
    assert_eq!(t.upload_raw(&out, "x.edi", b"two").await.0, 201);
    assert_eq!(t.h.system().files("RIVERTON", "810/out").len(), 2, "duplicate by default");
    t.h.system().set_switch(|s| s.same_name = switches::SameName::Overwrite);
    assert_eq!(t.upload_raw(&out, "y.edi", b"one").await.0, 201);
    assert_eq!(t.upload_raw(&out, "y.edi", b"three").await.0, 201);
    let ys: Vec<_> = t.h.system().files("RIVERTON", "810/out").into_iter().filter(|(n, _)| n == "y.edi").collect();
    assert_eq!(ys, vec![("y.edi".to_string(), b"three".to_vec())]);
    t.h.system().set_switch(|s| s.same_name = switches::SameName::Reject);
    let (s, e) = t.upload_raw(&out, "y.edi", b"four").await;
    assert_eq!((s, e["message"].as_str()), (409, Some("A file named 'y.edi' already exists")));
}

#[tokio::test]
async fn paging_clamps_filters_and_files_arrive_between_pages() {
    let t = start().await;
    for i in 0..25 {
        t.action(
            "drop_file",
            json!({"mailbox": "HARBORCO", "folder": "outbox", "name": format!("f{i:02}.edi"), "text": "x"}),
        )
        .await;
        t.h.clock().advance(Duration::seconds(1));
    }
    let files = t.files_href("HARBORCO", "outbox").await;
    let (_, p) = t.get(&format!("{files}?startIndex=0&count=500")).await;
    assert_eq!((p["totalResults"].as_u64(), p["resources"].as_array().map(Vec::len)), (Some(25), Some(25)));
    t.h.system().set_switch(|s| s.max_page_size = 10);
    let (_, p) = t.get(&format!("{files}?startIndex=0&count=500")).await;
    assert_eq!(p["resources"].as_array().map(Vec::len), Some(10), "clamped");
    assert_eq!(p["resources"][0]["name"], "f00.edi", "oldest first");
    // Files arrive right after the first page is served: the total grows mid-walk.
    t.action("add_between_pages", json!({"mailbox": "HARBORCO", "folder": "outbox", "n": 3})).await;
    let mut start = 0;
    let mut seen = Vec::new();
    let mut totals = Vec::new();
    loop {
        let (_, p) = t.get(&format!("{files}?startIndex={start}&count=10")).await;
        let res = p["resources"].as_array().expect("arr").clone();
        totals.push(p["totalResults"].as_u64().expect("total"));
        start += res.len();
        seen.extend(res.iter().filter_map(|r| r["name"].as_str().map(String::from)));
        if res.is_empty() || start as u64 >= p["totalResults"].as_u64().expect("total") {
            break;
        }
    }
    assert_eq!(totals.first(), Some(&25));
    assert_eq!(totals.last(), Some(&28));
    assert_eq!(seen.len(), 28);
    let (_, one) = t.get(&format!("{files}?filter={}", enc("name eq \"f07.edi\""))).await;
    assert_eq!(one["totalResults"], 1);
    assert_eq!(t.get(&format!("{files}?startIndex=x")).await.0, 400);
    // Newest first, echoed paging keys, string sizes, epoch stamps, download link, checksums.
    t.h.system().set_switch(|s| {
        s.list_order = switches::ListOrder::NewestFirst;
        s.echo_paging_keys = true;
        s.size_as_string = true;
        s.timestamp_style = switches::TimestampStyle::EpochMillis;
        s.content_link = switches::ContentLink::Download;
        s.show_checksum = true;
    });
    let (_, p) = t.get(&format!("{files}?startIndex=2&count=3")).await;
    assert_eq!((p["startIndex"].as_u64(), p["itemsPerPage"].as_u64()), (Some(2), Some(3)));
    let f = &p["resources"][0];
    assert!(f["size"].is_string() && f["modified"].is_i64() && f["_links"]["download"]["href"].is_string(), "{f}");
    assert_eq!(f["sha256"].as_str().map(str::len), Some(64));
}

#[tokio::test]
async fn rate_limit_per_path_with_and_without_retry_after() {
    let t = start_with(CleoSim::builder().clock(SimClock::manual_default()), true).await;
    // The login above used the token path's budget; the mailbox path has its own.
    for _ in 0..5 {
        assert_eq!(t.get("/api/mailboxes").await.0, 200);
    }
    let r = t.c.get(t.url("/api/mailboxes")).bearer_auth(&t.token).send().await.expect("send");
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    assert_eq!(r.json::<Value>().await.expect("json"), json!({"message": "Too Many Requests"}));
    let (_, mbs) = t.get(&format!("/api/mailboxes?filter={}", enc("alias eq \"X\""))).await;
    assert_eq!(mbs["message"], "Too Many Requests", "a query does not make another path");
    let (s, _) = t.get("/api/mailboxes/none").await;
    assert_eq!(s, 404, "another path template has its own budget");
    t.h.clock().advance(Duration::milliseconds(1000));
    assert_eq!(t.get("/api/mailboxes").await.0, 200);
    t.h.system().set_switch(|s| s.rate_limit_retry_after = None);
    for _ in 0..4 {
        t.get("/api/mailboxes").await;
    }
    let r = t.c.get(t.url("/api/mailboxes")).bearer_auth(&t.token).send().await.expect("send");
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_none());
    assert!(t.action("rate_limit", json!({})).await["throttled"].as_u64().unwrap_or(0) >= 3);
}

#[tokio::test]
async fn kit_faults_answer_with_cleo_error_bodies_and_downloads_can_be_cut() {
    let t = start().await;
    t.h.faults().add(FaultRule::new("GET", "/api/mailboxes", Fault::status(503)).times(1));
    let (s, e) = t.get("/api/mailboxes").await;
    assert_eq!((s, e), (503, json!({"message": "Service Unavailable"})));
    assert_eq!(t.get("/api/mailboxes").await.0, 200);
    let inb = t.files_href("GRANITERIDGE", "inbound").await;
    let (_, list) = t.get(&inb).await;
    let first = list["resources"][0].clone();
    let href = first["_links"]["content"]["href"].as_str().expect("content");
    t.action("truncate_downloads", json!({"n": 1})).await;
    let (_, cut) = t.get_bytes(href).await;
    let (_, whole) = t.get_bytes(href).await;
    assert_eq!(whole.len() as u64, first["size"].as_u64().expect("size"));
    assert_eq!(cut.len(), whole.len() / 2);
}

#[tokio::test]
async fn partners_answer_our_810s_with_997s_and_harbor_county_rejects_its_second() {
    let t = start().await;
    let company = demo_company(scenario::DEFAULT_SEED);
    let county = company.clients.iter().find(|p| p.alias == "HARBORCO").expect("county");
    let out = t.files_href("HARBORCO", "inbox").await;
    for (n, number) in ["0025601", "0025602"].iter().enumerate() {
        let r = render_810(
            &[invoice(number, &county.name, 120_000)],
            &county.profile,
            Numbers::single(n as u32 + 1),
            t.h.clock().now().naive_utc(),
        )
        .expect("render");
        assert_eq!(t.upload_raw(&out, &format!("810_{number}.edi"), &r.bytes).await.0, 201);
    }
    let tick = t.action("partner_tick", json!({"mailbox": "HARBORCO"})).await;
    assert_eq!(tick["collected"].as_array().map(Vec::len), Some(2), "{tick}");
    assert!(t.h.system().files("HARBORCO", "inbox").is_empty(), "collected");
    let acks = t.h.system().files("HARBORCO", "outbox");
    assert_eq!(acks.len(), 2);
    let mut statuses = Vec::new();
    for (name, bytes) in &acks {
        assert!(name.starts_with("997_"), "{name}");
        let f = mlc_x12::parse(bytes).expect("997 parses");
        let ic = &f.interchanges[0];
        assert_eq!(ic.groups[0].header.functional_id, "FA");
        assert_eq!(ic.header.receiver_id.trim(), company.isa_id, "sender and receiver swapped");
        let ack = ic.groups[0].sets[0].ack().expect("997");
        statuses.push(ack.sets[0].status.code().to_string());
        if ack.sets[0].status.code() == "R" {
            let seg = &ack.sets[0].segments[0];
            assert_eq!(seg.segment_id, "N1");
            assert_eq!(seg.elements[0].bad_data.as_deref(), Some("BUYER01"));
            assert_eq!(ack.status.code(), "R");
        }
    }
    assert_eq!(statuses, vec!["A", "R"]);
    let log = t.action("partner_log", json!({"mailbox": "HARBORCO"})).await;
    assert_eq!(log["collected"][1]["rejected"], json!(["0025602"]));
}

#[tokio::test]
async fn partners_poll_on_the_simulated_clock_and_read_our_997s() {
    let t = start().await;
    let state_dot = demo_company(scenario::DEFAULT_SEED).clients[0].clone();
    let out = t.files_href("STATEDOT", "to-partner").await;
    let r = render_810(
        &[invoice("0025700", &state_dot.name, 99_900)],
        &state_dot.profile,
        Numbers::single(7),
        t.h.clock().now().naive_utc(),
    )
    .expect("render");
    t.upload_raw(&out, "810.edi", &r.bytes).await;
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    assert_eq!(t.h.system().files("STATEDOT", "to-partner").len(), 1, "not before its interval");
    t.h.clock().advance(Duration::seconds(61));
    let mut waited = 0;
    while !t.h.system().files("STATEDOT", "to-partner").is_empty() && waited < 200 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        waited += 1;
    }
    assert_eq!(t.h.system().files("STATEDOT", "from-partner").len(), 1, "997 dropped after the poll");
    // Our 997 for the subcontractor's invoices is read and logged.
    let inb = t.h.system().files("GRANITERIDGE", "inbound");
    let parsed = mlc_x12::parse(&inb[0].1).expect("parse");
    let acks = mlc_x12::ack997::acknowledge_file(
        &parsed,
        |_| Ok(Numbers::single(5)),
        &mlc_x12::AckOptions::new(Numbers::single(5), t.h.clock().now().naive_utc()),
    )
    .expect("997");
    let acks_href = t.files_href("GRANITERIDGE", "acks").await;
    t.upload_raw(&acks_href, "997_ours.edi", &acks[0]).await;
    t.action("partner_tick", json!({"mailbox": "GRANITERIDGE"})).await;
    let log = t.action("partner_log", json!({"mailbox": "GRANITERIDGE"})).await;
    let last = log["collected"].as_array().and_then(|c| c.last()).expect("collected").clone();
    assert_eq!(last["acks_received"].as_array().map(Vec::len), Some(1), "{last}");
}

#[tokio::test]
async fn the_demo_subcontractor_mailbox_holds_a_month_of_810s_a_broken_file_and_a_duplicate() {
    let t = start().await;
    let files = t.h.system().files("GRANITERIDGE", "inbound");
    assert!(files.len() >= 6, "{}", files.len());
    let mut valid = 0;
    let mut broken = Vec::new();
    for (name, bytes) in &files {
        let f = mlc_x12::parse(bytes).expect("parses");
        if f.is_valid() {
            valid += 1;
            assert!(f.invoices().iter().all(|(_, inv)| inv.invoice_number.starts_with("GRD-")));
        } else {
            // Broken where it says: the first SE's segment count, nothing else.
            let errors = f.errors();
            assert!(errors.iter().all(|e| e.location.segment == "SE"), "{name}: {errors:?}");
            broken.push(name.clone());
        }
    }
    assert_eq!(broken.len(), 1, "{broken:?}");
    assert_eq!(valid, files.len() - 1);
    let last = &files[files.len() - 1];
    let dup: Vec<_> = files.iter().filter(|(n, _)| n == &last.0).collect();
    assert_eq!(dup.len(), 2, "a duplicate re-send under the same name");
    assert_eq!(dup[0].1, dup[1].1);
    // Deterministic from the seed.
    assert_eq!(demo(scenario::DEFAULT_SEED), demo(scenario::DEFAULT_SEED));
    assert_ne!(demo_company(1).name, demo_company(2).name);
    // The partner sends more on demand, in each variant.
    for v in ["valid", "broken", "renamed_duplicate", "duplicate"] {
        let r = t.action("partner_send_810", json!({"mailbox": "GRANITERIDGE", "count": 2, "variant": v})).await;
        assert_eq!(r["variant"], v);
    }
    let err = t.h.system().clone().action("partner_send_810".into(), json!({"mailbox": "STATEDOT"})).await;
    assert!(err.is_err(), "a client partner has no 810 profile of its own");
}

#[tokio::test]
async fn snapshot_restore_and_reset_keep_the_whole_tenant() {
    let t = start().await;
    let out = t.files_href("STATEDOT", "to-partner").await;
    t.upload_raw(&out, "kept.edi", b"kept bytes").await;
    let snap = t.h.system().snapshot();
    t.h.system().reset(ResetTo::Empty).expect("reset");
    assert!(t.h.system().lock().mailboxes.is_empty());
    t.h.system().restore(&snap).expect("restore");
    assert_eq!(t.h.system().files("STATEDOT", "to-partner"), vec![("kept.edi".to_string(), b"kept bytes".to_vec())]);
    assert_eq!(t.h.system().snapshot(), snap);
    // Tokens are not part of a snapshot: sign in again after a restore, as after a restart.
    assert_eq!(t.get("/api/mailboxes").await.0, 401);
}

#[tokio::test]
async fn control_api_seeds_switches_and_registration() {
    let t = start().await;
    let r =
        t.c.post(format!("{}/switches", t.h.control_url()))
            .json(&json!({"same_name": "overwrite", "no_such_switch": 1}))
            .send()
            .await
            .expect("send");
    assert_eq!(r.status(), 400, "unknown switch keys are refused");
    let r =
        t.c.post(format!("{}/seed", t.h.control_url()))
            .json(&json!({"mailboxes": [{"alias": "NEWCO", "folders": [{"name": "up", "upload": true}]}],
                      "users": [{"username": "limited", "password": "Limited-1!", "mailboxes": ["NEWCO"]}]}))
            .send()
            .await
            .expect("send");
    assert_eq!(r.status(), 200);
    let (_, tok) = t.login("limited", "Limited-1!").await;
    let r =
        t.c.get(t.url("/api/mailboxes"))
            .bearer_auth(tok["access_token"].as_str().expect("tok"))
            .send()
            .await
            .expect("send");
    assert_eq!(r.json::<Value>().await.expect("json")["totalResults"], 1, "a user sees only its mailboxes");
    let bad = CleoScenario::from_json(
        &json!({"mailboxes": [{"alias": "X", "folders": [], "partner": {"collects_from": "nope"}}]}),
    )
    .expect("parses");
    assert!(t.h.system().seed_scenario(&bad).is_err());
    assert!(crate::entry("cic").is_some_and(|e| e.name == "cleo"));
    assert_eq!(
        t.h.system().route_of(&axum::http::Method::GET, "/api/mailboxes/mb1/folders/fo2/files/fi3/content"),
        Some("/api/mailboxes/{mailbox}/folders/{folder}/files/{file}/content".to_string())
    );
}

#[tokio::test]
async fn the_deltek_seed_tells_the_same_story_and_seeds_the_deltek_simulator() {
    let company = demo_company(scenario::DEFAULT_SEED);
    let seed = deltek_seed::deltek_seed_json(scenario::DEFAULT_SEED);
    let sim = crate::deltek::DeltekSim::builder().clock(SimClock::manual_default()).start().await.expect("deltek");
    sim.system().seed(&seed).expect("seeds");
    let snap = sim.system().snapshot();
    let text = snap.to_string();
    for p in &company.clients {
        assert!(text.contains(&p.name), "client {} in Deltek", p.name);
    }
    assert!(text.contains(&company.subcontractor.name));
    let pos = deltek_seed::po_projects(&company);
    assert_eq!(pos.len(), company.subcontract_pos.len());
    assert!(pos.iter().all(|(_, wbs1, _)| text.contains(wbs1.as_str())));
}

#[tokio::test]
async fn harmony_sentbox_receivedbox_and_archive_copies() {
    let t = start().await;
    t.h.system().set_switch(|s| {
        s.sentbox = true;
        s.receivedbox = true;
    });
    let acks = t.files_href("GRANITERIDGE", "acks").await;
    assert_eq!(t.upload_raw(&acks, "997_x.edi", b"ack").await.0, 201);
    assert_eq!(t.h.system().files("GRANITERIDGE", "receivedbox"), vec![("997_x.edi".to_string(), b"ack".to_vec())]);
    let inb = t.files_href("GRANITERIDGE", "inbound").await;
    let (_, list) = t.get(&inb).await;
    let href = list["resources"][0]["_links"]["content"]["href"].as_str().expect("content").to_string();
    let (_, bytes) = t.get_bytes(&href).await;
    assert_eq!(t.h.system().files("GRANITERIDGE", "sentbox")[0].1, bytes);
    // The partner collecting our 997 leaves an archive copy outside the API's view.
    t.action("partner_tick", json!({"mailbox": "GRANITERIDGE"})).await;
    let st = t.h.system().snapshot();
    assert!(
        st["archive"]
            .as_array()
            .expect("archive")
            .iter()
            .any(|a| a["name"] == "997_x.edi" && a["why"] == "collected by partner")
    );
}

#[tokio::test]
async fn a_reject_share_is_a_seeded_draw() {
    let run = || async {
        let t = start().await;
        let company = demo_company(scenario::DEFAULT_SEED);
        let city = company.clients.iter().find(|p| p.alias == "RIVERTON").expect("city").clone();
        {
            let mut st = t.h.system().lock();
            let m = st.mailbox_by_alias("RIVERTON").expect("mailbox");
            if let Some(p) = st.mailboxes[m].partner.as_mut() {
                p.reject_share = 0.5;
            }
        }
        let out = t.files_href("RIVERTON", "810/out").await;
        let invoices: Vec<ArInvoice> =
            (0..20).map(|i| invoice(&format!("0026{i:03}"), &city.name, 10_000 + i)).collect();
        let r =
            render_810(&invoices, &city.profile, Numbers::single(9), t.h.clock().now().naive_utc()).expect("render");
        t.upload_raw(&out, "810_batch.edi", &r.bytes).await;
        let tick = t.action("partner_tick", json!({"mailbox": "RIVERTON"})).await;
        let rejected = tick["collected"][0]["rejected"].as_array().expect("rejected").len();
        let ack = &t.h.system().files("RIVERTON", "997/in")[0].1;
        let f = mlc_x12::parse(ack).expect("997");
        let a = f.interchanges[0].groups[0].sets[0].ack().expect("ack").clone();
        assert_eq!(a.accepted, Some(20 - rejected as u64));
        assert_eq!(
            a.status.code(),
            if rejected == 0 {
                "A"
            } else if rejected == 20 {
                "R"
            } else {
                "P"
            }
        );
        rejected
    };
    let (a, b) = (run().await, run().await);
    assert_eq!(a, b, "the same seed rejects the same sets");
    assert!((3..=17).contains(&a), "about half of 20: {a}");
}
