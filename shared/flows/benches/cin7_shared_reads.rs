//! One read feeds every flow (issue 12, "Measure"): Cin7 calls per posted Deltek invoice when the
//! Cin7 → Deltek flows run alone, and when the Cin7 → Acumatica flows read the same Cin7 account in
//! the same runtime. Flows on one source key (`cin7/purchase`, `cin7/supplier`) share one poll and
//! one read-back per record version, so the second figure should stay at the first: Cin7's 60
//! calls a minute are not spent twice.
//!
//! Each case runs on fresh simulators seeded alike (the Cin7 → Deltek demo's engineering firm,
//! `CIN7_SHARED_PURCHASES` purchases, default 60; the Acumatica simulator added for the second
//! case): the vendor flows first (their pairings release the invoices), then one poll of the
//! purchase source, settled. The Acumatica documents may wait for mappings the engineering
//! firm's accounts do not have in Acumatica: that costs no Cin7 read, which is the point.
//! Reads are what sharing saves; writes back to Cin7 (the Acumatica vendor flow's link-back on each
//! supplier it syncs, first sync only) are that flow's own work and show as the routes that differ.
//! "AP alone" (without the vendor flow) is not a case: the Deltek AP flow needs the vendor flow's
//! pairings to post at all.
//!
//! `cargo bench -p mlc-flows --bench cin7_shared_reads` (or `cargo test -p mlc-flows --bench
//! cin7_shared_reads`: the figures are call counts, the debug build gives the same). Prints a
//! table; asserts nothing about time.

#[allow(unused_imports)]
#[path = "../tests/e2e/support.rs"]
mod support;

use std::time::Duration;

use mlc_core::engine::model::ItemState;
use mlc_sim::acumatica::{AcumaticaSim, AcumaticaSwitches};
use mlc_sim::cin7::scenario as s;
use mlc_sim::world::SimWorld;
use serde_json::json;
use support::{Harness, cin7_deltek_world, demo_mappings, flow};

const DELTEK_FLOWS: [&str; 2] = ["cin7-deltek-vendors", "cin7-deltek-ap"];
const ACUMATICA_FLOWS: [&str; 3] = ["cin7-acumatica-vendors", "cin7-acumatica-po", "cin7-acumatica-bill"];

async fn world(purchases: usize, with_acumatica: bool) -> SimWorld {
    let mut w = cin7_deltek_world(purchases).await;
    if with_acumatica {
        let clock = w.clock.clone();
        let acu = AcumaticaSim::builder().clock(clock).switches(AcumaticaSwitches::unthrottled()).start().await;
        w.add("acumatica", acu.expect("acumatica"));
        w.set_option("acumatica", "requests_per_minute", json!(0));
        w.set_option("acumatica", "long_operation_poll_ms", json!(5));
        w.set_option("acumatica", "retry_base_ms", json!(20));
    }
    w
}

struct Case {
    flows: usize,
    purchases: usize,
    posted: usize,
    cin7_calls: usize,
    purchase_reads: usize,
    supplier_reads: usize,
    acumatica_items: usize,
    by_route: std::collections::BTreeMap<String, usize>,
}

async fn case(purchases: usize, with_acumatica: bool) -> Case {
    let w = world(purchases, with_acumatica).await;
    let docs = json!({"initial_lookback_days": 0});
    let mut flows = vec![
        (DELTEK_FLOWS[0], flow(None, "cin7", "deltek", json!({}))),
        (DELTEK_FLOWS[1], flow(None, "cin7", "deltek", docs.clone())),
    ];
    if with_acumatica {
        flows.push((ACUMATICA_FLOWS[0], flow(None, "cin7", "acumatica", json!({}))));
        flows.push((ACUMATICA_FLOWS[1], flow(None, "cin7", "acumatica", docs.clone())));
        flows.push((ACUMATICA_FLOWS[2], flow(None, "cin7", "acumatica", docs)));
    }
    let n_flows = flows.len();
    let h = Harness::new(&w, flows).await;
    demo_mappings(h.engine(), &w, "cin7-deltek").await;
    if with_acumatica {
        demo_mappings(h.engine(), &w, "cin7-acumatica").await;
    }
    // The supplier source once (every vendor flow), then the purchase source once (every
    // document flow), then what comes due: retries, and invoices released by pairings.
    h.run(DELTEK_FLOWS[0]).await;
    h.run(DELTEK_FLOWS[1]).await;
    h.settle_retries(Duration::from_secs(3)).await;
    let cin7 = w.handle("cin7").expect("cin7");
    let calls = cin7.calls();
    let mut acumatica_items = 0;
    for f in &ACUMATICA_FLOWS[1..] {
        acumatica_items += if with_acumatica { h.items(f).await.len() } else { 0 };
    }
    Case {
        flows: n_flows,
        purchases,
        posted: h.count(DELTEK_FLOWS[1], ItemState::Posted).await,
        cin7_calls: calls.records().len(),
        purchase_reads: calls.count("GET", "/advanced-purchase"),
        supplier_reads: calls.count("GET", "/supplier"),
        acumatica_items,
        by_route: calls.counts(),
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio");
    rt.block_on(run());
}

async fn run() {
    let purchases: usize = std::env::var("CIN7_SHARED_PURCHASES").ok().and_then(|v| v.parse().ok()).unwrap_or(60);
    println!(
        "Cin7 calls per posted Deltek invoice, {purchases} purchases (engineering firm, seed {}):\n",
        s::DEFAULT_SEED
    );
    println!(
        "{:<44} {:>5} {:>7} {:>10} {:>13} {:>11} {:>13} {:>15} {:>15} {:>15}",
        "case",
        "flows",
        "posted",
        "cin7 calls",
        "calls/invoice",
        "cin7 reads",
        "reads/invoice",
        "purchase reads",
        "supplier reads",
        "acumatica docs"
    );
    // (reads per invoice, calls per invoice), routes: of the first case.
    let mut first: Option<((f64, f64), std::collections::BTreeMap<String, usize>)> = None;
    for (label, acu) in [("Cin7 → Deltek alone", false), ("with Cin7 → Acumatica on the same Cin7", true)] {
        let c = case(purchases, acu).await;
        let per = c.cin7_calls as f64 / c.posted.max(1) as f64;
        let reads: usize = c.by_route.iter().filter(|(r, _)| r.starts_with("GET ")).map(|(_, n)| n).sum();
        println!(
            "{label:<44} {:>5} {:>7} {:>10} {:>13.2} {:>11} {:>13.2} {:>15} {:>15} {:>15}",
            c.flows,
            c.posted,
            c.cin7_calls,
            per,
            reads,
            reads as f64 / c.posted.max(1) as f64,
            c.purchase_reads,
            c.supplier_reads,
            c.acumatica_items
        );
        match &first {
            None => first = Some(((reads as f64 / c.posted.max(1) as f64, per), c.by_route.clone())),
            Some((alone, routes)) => {
                println!(
                    "\nwith the Acumatica flows: Cin7 reads per posted invoice {:.2}× those of Cin7 → Deltek alone, \
                     all calls {:.2}× ({} purchase reads for {} purchases)",
                    reads as f64 / c.posted.max(1) as f64 / alone.0,
                    per / alone.1,
                    c.purchase_reads,
                    c.purchases
                );
                let more: Vec<String> = c
                    .by_route
                    .iter()
                    .filter_map(|(route, n)| {
                        let before = routes.get(route).copied().unwrap_or(0);
                        (*n != before).then(|| format!("{route} {before} → {n}"))
                    })
                    .collect();
                println!("Cin7 routes that differ: {}", if more.is_empty() { "none".into() } else { more.join(", ") });
            }
        }
    }
    println!("\ncalls count every Cin7 request (listings, read-backs, retries and throttled answers).");
}
