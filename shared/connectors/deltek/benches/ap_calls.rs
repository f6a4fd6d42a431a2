//! Deltek calls per posted AP invoice: 1,000 invoices from 20 vendors, each a work item doing
//! lookup-before-post then create, run concurrently so the batcher fills files, against the
//! simulator (demo tenant) over HTTP, for several file sizes.
//!
//! `cargo bench -p mlc-deltek --bench ap_calls`
//!
//! Prints, per file size: files sent, API calls counted by the simulator (token calls excluded),
//! calls per invoice, the design's floor and elapsed time. The floor of the design is
//!
//! ```text
//!   saves         ceil(N/K)          one POST DataEntry/apControl per file
//! + status/post   ceil(N/K)          one landing read per file (draft / pending approval), or
//!                                    with post_files the post itself (its answer is the status)
//! + unposted      1 + F              landing list (one page) + each unposted file not ours
//! + posted        V + P              one ledger/AP read per vendor + each posted file read once
//! + setup         3                  Settings/Period, Settings/ActivePeriod, amounts-visible probe
//! ```
//!
//! N invoices, K vouchers per file, V vendors, F unposted files already in Vantagepoint, P posted
//! files holding those vendors' history (demo tenant: F = 1, P = 2). No timing assertions.

use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use mlc_core::domain::{ApInvoice, ApInvoiceDraft, ApLine, DocumentKind, ProjectRef, SourceRef};
use mlc_core::money::{Currency, Tolerance};
use mlc_core::secret::Credentials;
use mlc_deltek::{DeltekClient, DeltekSettings};
use mlc_sim::common::SimClock;
use mlc_sim::deltek::DeltekSim;
use rust_decimal::Decimal;
use serde_json::json;
use tokio::sync::Semaphore;

const N: usize = 1000;

/// (vendor, account, project) combinations the demo tenant accepts.
const VENDORS: [(&str, &str, &str); 20] = [
    ("CASCSURV", "52300", "2024003.00|01"),
    ("GRANGEO", "52200", "2024017.00|02"),
    ("STEELSTR", "52100", "2024011.00|03|001"),
    ("BLUEPRNT", "51200", "2023014.00|02|001"),
    ("PACTEST", "51300", "2024011.00|03|002"),
    ("NWOFFICE", "60300", "OH-0001.00|ADM"),
    ("CADWORKS", "60400", "OH-0001.00|IT"),
    ("SUMMITIT", "60400", "OH-0001.00|IT"),
    ("HARBPROP", "60100", "OH-0001.00|FAC"),
    ("CITYPWR", "60200", "OH-0001.00|FAC"),
    ("METROTEL", "60600", "OH-0001.00|IT"),
    ("ALPINS", "60700", "OH-0001.00|ADM"),
    ("REEDLAW", "60800", "OH-0001.00|ADM"),
    ("KLINECPA", "60800", "OH-0001.00|ADM"),
    ("SKYAIR", "51100", "2024022.00"),
    ("BAYHOTEL", "51100", "2025002.00|01"),
    ("RAPIDCAR", "51100", "2025005.00|01"),
    ("FIELDGR", "55300", "2024003.00|02"),
    ("DRONEVU", "52300", "2024017.00|01"),
    ("TRAFCNT", "56100", "2024022.00"),
];

fn invoice(i: usize) -> ApInvoice {
    let (vendor, account, project) = VENDORS[i % VENDORS.len()];
    let lines: Vec<ApLine> = (1..=2)
        .map(|n| ApLine {
            line_no: n,
            description: format!("bench line {n}"),
            account: account.into(),
            project: ProjectRef::parse_key(project),
            cost_code: None,
            quantity: None,
            unit_price: None,
            net_amount: Decimal::new(10_000 + (i as i64) * 7 + n as i64, 2),
            tax_amount: Decimal::ZERO,
            po_number: None,
        })
        .collect();
    let total = lines.iter().map(ApLine::amount).sum();
    let draft = ApInvoiceDraft {
        source: SourceRef { system: "bench".into(), entity: "bill".into(), id: i.to_string(), version: "1".into() },
        kind: DocumentKind::Invoice,
        vendor: vendor.into(),
        vendor_name: None,
        invoice_number: format!("BENCH-{i:05}"),
        invoice_date: NaiveDate::from_ymd_opt(2025, 6, 10).unwrap_or_default(),
        due_date: None,
        currency: Currency::USD,
        po_number: None,
        terms: None,
        description: None,
        lines,
        header_tax: Decimal::ZERO,
        total,
        tolerance: Tolerance::default(),
    };
    match ApInvoice::try_new(draft) {
        Ok(inv) => inv,
        Err(e) => panic!("bench invoice {i}: {e}"),
    }
}

struct Run {
    label: String,
    files: usize,
    calls: usize,
    floor: usize,
    client_calls: u64,
    by_route: Vec<(String, usize)>,
    failed: usize,
    secs: f64,
}

async fn run(k: usize, post: bool) -> Run {
    let sim = DeltekSim::builder().clock(SimClock::manual_default()).start().await.expect("simulator");
    let creds = sim.system().typed_credentials(sim.base_url());
    let options = json!({
        "base_url": sim.base_url(),
        "database": creds.database,
        "liability_code": "AP",
        "vouchers_per_file": k,
        "batch_linger_ms": 100,
        "post_files": post,
        "max_calls_per_second": 0,
        "lookup_max_age_secs": 600,
        "timeout_secs": 60,
    });
    let credentials = Credentials::new()
        .with("username", creds.username)
        .with("password", creds.password)
        .with("client_id", creds.client_id)
        .with("client_secret", creds.client_secret);
    let client = DeltekClient::new(DeltekSettings::from_options("deltek", &options).expect("settings"), credentials)
        .expect("client");
    let invoices: Vec<ApInvoice> = (0..N).map(invoice).collect();

    let started = Instant::now();
    let gate = Arc::new(Semaphore::new((2 * k).clamp(16, N)));
    let mut tasks = Vec::with_capacity(N);
    for inv in invoices {
        let c = client.clone();
        let permit = gate.clone().acquire_owned().await.expect("semaphore");
        tasks.push(tokio::spawn(async move {
            let _permit = permit;
            // One work item: look before you post, then create (batched with the others).
            match c.find_ap_invoice(&inv.vendor, &inv.invoice_number).await {
                Ok(Some(_)) => Ok(()),
                Ok(None) => c.create_ap_invoice(&inv).await.map(|_| ()),
                Err(e) => Err(e),
            }
        }));
    }
    let mut failed = 0;
    for t in tasks {
        match t.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                failed += 1;
                if failed <= 3 {
                    eprintln!("K={k}: {e}");
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("K={k}: task failed: {e}");
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();

    let records = sim.calls().records();
    let api: Vec<_> = records.iter().filter(|r| !r.path.to_ascii_lowercase().ends_with("/token")).collect();
    let mut by_route = std::collections::BTreeMap::<String, usize>::new();
    for r in &api {
        *by_route.entry(r.key()).or_insert(0) += 1;
    }
    let files = by_route.get("POST /DataEntry/apControl").copied().unwrap_or(0);
    // Per file: the save, then either the status read or (with post_files) the post.
    let (f_unposted, p_posted) = (1, 2);
    let floor = N.div_ceil(k) * 2 + (1 + f_unposted) + (VENDORS.len() + p_posted) + 3;
    sim.shutdown().await;
    Run {
        label: format!("K={k}{}", if post { " +post" } else { "" }),
        files,
        calls: api.len(),
        floor,
        client_calls: client.stats().calls,
        by_route: by_route.into_iter().collect(),
        failed,
        secs,
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let mut runs = Vec::new();
    for (k, post) in [(1, false), (10, false), (50, false), (100, false), (50, true)] {
        runs.push(rt.block_on(run(k, post)));
    }
    println!(
        "\nDeltek calls per posted AP invoice, {N} invoices from {} vendors (lookup + create, batched)\n",
        VENDORS.len()
    );
    println!(
        "{:<12} {:>6} {:>10} {:>10} {:>8} {:>10} {:>9} {:>7} {:>8}",
        "run", "files", "API calls", "calls/inv", "floor", "floor/inv", "vs floor", "failed", "secs"
    );
    for r in &runs {
        println!(
            "{:<12} {:>6} {:>10} {:>10.3} {:>8} {:>10.3} {:>8.2}x {:>7} {:>8.2}",
            r.label,
            r.files,
            r.calls,
            r.calls as f64 / N as f64,
            r.floor,
            r.floor as f64 / N as f64,
            r.calls as f64 / r.floor as f64,
            r.failed,
            r.secs
        );
    }
    println!("\nCalls by route (simulator log; the client's own count in brackets):");
    for r in &runs {
        let routes: Vec<String> = r.by_route.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        println!("  {} [{}]: {}", r.label, r.client_calls, routes.join(", "));
    }
    println!(
        "\nWithout batching or the per-run index (a landing read, a file read per unposted file and a vendor ledger \
         read per invoice, one file per invoice) the same work costs at least {} calls.",
        N * (1 + 1 + 1 + 1 + 1)
    );
}
