//! Cin7 Core → Deltek: API calls per posted invoice and elapsed time against Cin7's rate-limit
//! floor, for 300 and 3,000 purchases. Runs `mlc demo --fresh --json` (both simulators, the
//! embedded store, the real flows) with Cin7's 60-call window compressed to `WINDOW_MS` real
//! milliseconds — the floor scales with it, so the ratio is what a real 60 s window would show.
//!
//! `cargo bench -p mlc --bench cin7_deltek` (set `PURCHASES=300,3000` and `WINDOW_MS=1000` to
//! change the runs). Prints a table; asserts nothing about time. Cin7 calls with the Cin7 →
//! Acumatica flows reading the same account next to these: `cargo bench -p mlc-flows --bench
//! cin7_shared_reads`.

use std::process::Command;

fn main() {
    let sizes: Vec<usize> = std::env::var("PURCHASES")
        .unwrap_or_else(|_| "300,3000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let window: u64 = std::env::var("WINDOW_MS").ok().and_then(|s| s.parse().ok()).unwrap_or(1000);
    println!("Cin7 → Deltek, Cin7 window {window} ms (60 calls per window), `mlc demo --fresh`:\n");
    println!(
        "{:>9} {:>7} {:>10} {:>11} {:>12} {:>13} {:>9} {:>9} {:>7}",
        "purchases",
        "posted",
        "cin7 calls",
        "deltek calls",
        "cin7/invoice",
        "deltek/invoice",
        "elapsed",
        "floor",
        "ratio"
    );
    for n in sizes {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = Command::new(env!("CARGO_BIN_EXE_mlc"))
            .current_dir(dir.path())
            .args(["--json", "demo", "--fresh", "--purchases", &n.to_string(), "--rate-window-ms", &window.to_string()])
            .args(["--data-dir", &dir.path().join("demo").display().to_string()])
            .output()
            .expect("run mlc demo");
        if !out.status.success() {
            eprintln!("mlc demo failed for {n} purchases:\n{}", String::from_utf8_lossy(&out.stderr));
            std::process::exit(1);
        }
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("demo report JSON");
        let posted = r["posted_by_flow"]["cin7-deltek-ap"].as_u64().unwrap_or(0);
        let cin7 = r["api_calls"]["cin7"].as_u64().unwrap_or(0);
        let deltek = r["api_calls"]["deltek"].as_u64().unwrap_or(0);
        let elapsed = r["elapsed_secs"].as_f64().unwrap_or(0.0);
        let floor = r["rate_limit_floor_secs"].as_f64().unwrap_or(0.0);
        let per = |c: u64| if posted > 0 { c as f64 / posted as f64 } else { 0.0 };
        println!(
            "{n:>9} {posted:>7} {cin7:>10} {deltek:>11} {:>12.2} {:>13.3} {:>8.1}s {:>8.1}s {:>6.2}×",
            per(cin7),
            per(deltek),
            elapsed,
            floor,
            if floor > 0.0 { elapsed / floor } else { 0.0 }
        );
    }
    println!("\ncalls count every attempt (retries and throttled answers included); `posted` counts AP vouchers.");
}
