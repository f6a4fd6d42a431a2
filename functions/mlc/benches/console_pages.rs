//! Console page render time for a big store: seeds the SQLite store directly (through its `Store`
//! port: `register` + one `transition` per item, each a synced commit) with `ITEMS` work items
//! (default 100,000) in the shares a busy year leaves — posted 85%, skipped 8%, waiting on a
//! mapping 3% (over 25 account codes), failed 2%, possible duplicates 1%, pending 1% — then starts
//! the real `mlc console` on it and times `ROUNDS` GETs of each page over loopback (server render +
//! transfer), printing p50/p95 per page.
//!
//! `cargo bench -p mlc --bench console_pages` (`ITEMS=100000 ROUNDS=15`; `CONSOLE_BENCH_DIR=/path`
//! keeps the seeded store there and reuses it on the next run). Asserts nothing about time.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use chrono::{Duration, Utc};
use mlc_core::engine::model::{
    AuditEntry, Conflict, DocFacts, FailureClass, Hint, ItemKey, ItemState, ItemSummary, NewItem, Origin, Transition,
    codes,
};
use mlc_core::engine::ports::Store;
use mlc_core::mapping::{MappingKey, MappingKind};
use mlc_local::SqliteStore;
use rust_decimal::Decimal;

const FLOW: &str = "cin7-deltek-ap";

fn state_of(i: usize) -> ItemState {
    match i % 100 {
        0..=84 => ItemState::Posted,
        85..=92 => ItemState::Skipped,
        93..=95 => ItemState::NeedsMapping,
        96..=97 => ItemState::Failed,
        98 => ItemState::NeedsReview,
        _ => ItemState::Pending,
    }
}

async fn seed(store: Arc<SqliteStore>, n: usize) -> ItemKey {
    let start = Utc::now() - Duration::days(365);
    let mut sample = None;
    let t0 = Instant::now();
    for i in 0..n {
        let at = start + Duration::seconds((i as i64) * 365 * 86_400 / n.max(1) as i64);
        let id = format!("{:08x}-0000-4000-8000-{:012x}", i, i);
        let vendor = format!("Vendor {:03}", i % 400);
        let amount = Decimal::new(((i * 7919) % 5_000_000) as i64 + 1000, 2);
        let new = NewItem {
            hint: Hint::new(FLOW, "cin7", "purchase", &id, Origin::Poll, at),
            entity: "purchase-invoice".into(),
            doc_id: format!("{id}/invoice/{id}"),
            version: format!("v{i}"),
            summary: ItemSummary {
                label: format!("invoice INV-{i:06} from {vendor} (PO-{i:05})"),
                vendor: Some(vendor.clone()),
                project: Some(format!("20{:02}00{}.00", i % 25, i % 10)),
                amount: Some(amount),
                currency: None,
                document_date: Some(at.date_naive()),
            },
            read_at: at,
        };
        let (item, _) = store.register(new, at).await.expect("register");
        let state = state_of(i);
        if state == ItemState::Pending {
            continue;
        }
        let audit = AuditEntry::new(at, "bench", state.as_str(), format!("seeded as {state}"));
        let mut t = Transition::to(state, audit);
        match state {
            ItemState::Posted => {
                t = t.reason(format!("created in deltek: voucher {i:07}")).code(codes::POSTED);
            }
            ItemState::Skipped => t = t.reason("draft: not for this flow").code("draft"),
            ItemState::NeedsMapping => {
                t = t.reason("waiting for mappings").code(codes::NEEDS_MAPPING);
                t.missing = vec![MappingKey::new("cin7-deltek", MappingKind::ACCOUNT, format!("4{:02}", i % 25))];
            }
            ItemState::Failed => {
                t = t.reason("Vendor is not approved for use in processing").code(codes::TARGET_REFUSED);
                t.failure = Some(FailureClass::Permanent);
            }
            ItemState::NeedsReview => {
                t = t.reason("possible duplicate").code(codes::POSSIBLE_DUPLICATE);
                let facts = |a: Decimal| DocFacts {
                    source_doc: None,
                    amount: Some(a),
                    currency: Some("USD".into()),
                    date: Some(at.date_naive()),
                    label: Some(format!("INV-{i:06} from {vendor}")),
                };
                t.conflict = Some(Conflict {
                    natural_key: format!("V{:03}#INV-{i:06}", i % 400),
                    this: facts(amount),
                    existing: facts(amount + Decimal::ONE),
                    existing_target: None,
                    existing_item: None,
                });
            }
            _ => {}
        }
        store.transition(&item.key, "bench", t, at).await.expect("transition");
        if state == ItemState::Posted && sample.is_none() {
            sample = Some(item.key.clone());
        }
        if (i + 1) % 10_000 == 0 {
            eprintln!("  seeded {} items ({:.0}/s)", i + 1, (i + 1) as f64 / t0.elapsed().as_secs_f64());
        }
    }
    sample.expect("a posted item")
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("ITEMS").ok().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let rounds: usize = std::env::var("ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(15);
    let _tmp;
    let dir: PathBuf = match std::env::var("CONSOLE_BENCH_DIR") {
        Ok(d) => PathBuf::from(d),
        Err(_) => {
            _tmp = tempfile::tempdir().expect("tempdir");
            _tmp.path().to_path_buf()
        }
    };
    std::fs::create_dir_all(&dir).expect("dir");
    let db = dir.join("mlc.sqlite");
    let marker = dir.join(format!("seeded-{n}"));
    let sample_file = dir.join("sample-key");
    if !marker.exists() {
        let _ = std::fs::remove_file(&db);
        eprintln!("seeding {n} items into {} …", db.display());
        let t = Instant::now();
        let store = Arc::new(SqliteStore::open(&db).expect("open store"));
        let sample = seed(store, n).await;
        eprintln!("seeded in {:.1}s", t.elapsed().as_secs_f64());
        std::fs::write(&sample_file, sample.as_str()).expect("sample");
        std::fs::write(&marker, "").expect("marker");
    }
    let sample = std::fs::read_to_string(&sample_file).expect("sample key");

    let mut child = Command::new(env!("CARGO_BIN_EXE_mlc"))
        .env("MLC_SECRET_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        .args(["--data-dir", &dir.display().to_string(), "console", "--listen", "127.0.0.1:0", "--no-worker"])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("mlc console");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("link");
    let link = line.trim().trim_start_matches("console: ").to_string();
    let base = link.split("/?").next().expect("base").to_string();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let r = http.get(&link).send().await.expect("token");
    let cookie = r.headers()["set-cookie"].to_str().expect("cookie").split(';').next().expect("kv").to_string();
    let key = url::form_urlencoded::byte_serialize(sample.as_bytes()).collect::<String>();
    let pages = [
        ("today", "/".to_string()),
        ("needs mapping", "/mapping".into()),
        ("failures and review", "/failures".into()),
        ("items", "/items".into()),
        ("items: posted", "/items?state=posted".into()),
        ("item", format!("/item?key={key}")),
        ("evidence pack", format!("/evidence?key={key}")),
        ("mappings", "/mappings".into()),
        ("connections", "/connections".into()),
    ];
    println!("console page render, {n} items in the store, {rounds} GETs per page (ms):\n");
    println!("{:<22} {:>9} {:>9} {:>9} {:>10}", "page", "p50", "p95", "max", "bytes");
    for (name, path) in pages {
        let mut ms = Vec::new();
        let mut bytes = 0;
        for _ in 0..rounds {
            let t = Instant::now();
            let resp = http.get(format!("{base}{path}")).header("cookie", &cookie).send().await.expect("get");
            assert!(resp.status().is_success(), "{path}: {}", resp.status());
            bytes = resp.bytes().await.expect("body").len();
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        ms.sort_by(|a, b| a.total_cmp(b));
        println!("{name:<22} {:>9.1} {:>9.1} {:>9.1} {:>10}", pct(&ms, 0.5), pct(&ms, 0.95), ms[ms.len() - 1], bytes);
    }
    let _ = child.kill();
    let _ = child.wait();
}
