//! Tie-out time for a month of `INVOICES` invoices (default 10,000): a Cin7 account holding that
//! many authorised supplier invoices dated in June 2025 (Simple purchases) and a Deltek database
//! holding a voucher for each in unposted files of 25, one in 100 keyed with another amount and one
//! in 100 missing; then `mlc tieout --period 2025-06` (the real binary, both reads over HTTP on
//! loopback) is timed. Prints the elapsed time, the API calls and the differences found.
//!
//! `cargo bench -p mlc --bench tieout` (`INVOICES=10000`). Asserts only that the differences
//! found are the ones seeded.

use std::process::Command;
use std::time::Instant;

use chrono::NaiveDate;
use mlc_sim::cin7::model::DocStatus;
use mlc_sim::cin7::scenario::{Cin7Scenario, PurchaseBuilder, line, supplier};
use mlc_sim::cin7::{Cin7Sim, Cin7Switches};
use mlc_sim::common::SimClock;
use mlc_sim::deltek::DeltekSim;
use mlc_sim::deltek::scenario::demo_scenario;
use mlc_sim::deltek::state::ApFile;
use rust_decimal::Decimal;

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("INVOICES").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let clock = SimClock::manual_default();
    let mut s = supplier("Cascade Land Surveying LLC");
    s.id = "5a1e0000-0000-4000-8000-000000000001".into();
    let mut cin7 = Cin7Scenario::reference_data().supplier(s.clone());
    let mut deltek = demo_scenario(clock.now().date_naive());
    let mut file = ApFile::new("KEYBENCH0000", "bench", 202506);
    let (mut missing, mut differ) = (0, 0);
    for i in 0..n {
        let day = NaiveDate::from_ymd_opt(2025, 6, 1 + (i % 28) as u32);
        let amount = Decimal::from(100 + (i % 900) as i64);
        let number = format!("B-{i:06}");
        cin7 = cin7.purchase(
            PurchaseBuilder::simple(&s, "Port Harbor HQ")
                .id(&format!("b0000000-0000-4000-8000-{i:012}"))
                .line(line("Survey", "461", Decimal::ONE, amount))
                .order(DocStatus::Authorised)
                .invoice(&number, DocStatus::Authorised, day, None)
                .build(),
        );
        if i % 100 == 7 {
            missing += 1;
            continue;
        }
        let keyed = if i % 100 == 13 {
            differ += 1;
            amount + Decimal::TEN
        } else {
            amount
        };
        let lines = [("2024003.00", "01", "", "52300", keyed, "Survey")];
        file = file.voucher("CASCSURV", &number, day.and_then(|d| d.and_hms_opt(0, 0, 0)), &lines);
        if (i + 1) % 25 == 0 {
            deltek = deltek.ap_file(
                std::mem::replace(&mut file, ApFile::new(&format!("KEYBENCH{:04}", i / 25 + 1), "bench", 202506)),
                false,
            );
        }
    }
    deltek = deltek.ap_file(file, false);
    let t = Instant::now();
    let dsim = DeltekSim::builder().clock(clock.clone()).scenario(deltek).start().await.expect("deltek sim");
    let csim = Cin7Sim::builder()
        .clock(clock)
        .scenario(cin7)
        .switches(Cin7Switches::default())
        .start()
        .await
        .expect("cin7 sim");
    eprintln!("simulators seeded with {n} invoices in {:.1}s", t.elapsed().as_secs_f64());

    let dir = tempfile::tempdir().expect("tmp");
    let d = dsim.system().typed_credentials(dsim.base_url());
    let c = csim.system().typed_credentials(csim.base_url());
    std::fs::write(
        dir.path().join("mlc.toml"),
        format!(
            "[connections.deltek]\nsystem = \"deltek\"\nbase_url = \"{}\"\ndatabase = \"{}\"\nmax_calls_per_second = 500\n\n\
             [connections.cin7]\nsystem = \"cin7\"\nbase_url = \"{}\"\nrate_limit_window_secs = 0.5\n\n\
             [flows.cin7-deltek-ap]\nsource = \"cin7\"\ntarget = \"deltek\"\nevery = \"15m\"\n",
            dsim.base_url(),
            d.database,
            csim.base_url()
        ),
    )
    .expect("config");
    std::fs::write(
        dir.path().join("m.csv"),
        format!("scope,kind,source,target\ncin7-deltek,vendor,{},CASCSURV\n", s.id),
    )
    .expect("csv");
    let mlc = |args: &[&str], stdin: Option<String>| {
        use std::io::Write;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mlc"));
        cmd.current_dir(dir.path()).args(["--config", "mlc.toml", "--data-dir", "data"]).args(args);
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().expect("mlc");
        if let Some(s) = stdin {
            child.stdin.take().expect("stdin").write_all(s.as_bytes()).expect("stdin");
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().expect("mlc ends");
        assert!(out.status.success(), "mlc {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    mlc(
        &["credentials", "set", "deltek"],
        Some(format!(
            "username={}\npassword={}\nclient_id={}\nclient_secret={}\n",
            d.username, d.password, d.client_id, d.client_secret
        )),
    );
    mlc(
        &["credentials", "set", "cin7"],
        Some(format!("account_id={}\napplication_key={}\n", c.account_id, c.application_key)),
    );
    mlc(&["mappings", "import", "m.csv"], None);
    dsim.calls().clear();
    csim.calls().clear();
    let t = Instant::now();
    let out = mlc(&["--json", "tieout", "--period", "2025-06"], None);
    let secs = t.elapsed().as_secs_f64();
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let diffs = v["differences"].as_array().map(Vec::len).unwrap_or(0);
    let calls = (dsim.calls().records().len(), csim.calls().records().len());
    println!(
        "tie-out of a month of {n} invoices: {secs:.1}s ({} source documents, {} target vouchers)",
        v["source_documents"], v["target_documents"]
    );
    println!("  API calls: deltek {}, cin7 {}", calls.0, calls.1);
    println!(
        "  differences found: {diffs} (seeded: {missing} missing in Deltek, {differ} with another amount, plus Deltek's own vouchers of June)"
    );
    assert!(diffs >= missing + differ, "every seeded difference is found");
}
