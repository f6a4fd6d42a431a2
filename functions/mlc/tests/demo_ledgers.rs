//! Every record accounted for (issue 21), on every integration's own demo: the real `mlc demo
//! <integration>` binary runs twice on its simulators in a fresh directory, and for every flow of
//! both runs the run ledger balances (seen = posted + held + failed + skipped + in progress, no
//! record unaccounted), nothing is left in progress once the demo has settled, and the second run
//! posts nothing. A demo added later is covered by itself: the list comes from `mlc demo --list`.

use std::process::{Command, Stdio};

use serde_json::Value;

fn mlc(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mlc"));
    c.current_dir(dir).env_remove("MLC_DATA_DIR").env_remove("MLC_CONFIG").env_remove("MLC_SECRET_KEY");
    c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

fn json_of(cmd: &mut Command) -> Value {
    try_json(cmd).unwrap_or_else(|e| panic!("{e}"))
}

/// The JSON `mlc` printed, or what it said on failure.
fn try_json(cmd: &mut Command) -> Result<Value, String> {
    let out = cmd.output().expect("run mlc");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("mlc failed: {stderr}"));
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("mlc printed no JSON ({e}): {}\n{stderr}", String::from_utf8_lossy(&out.stdout)))
}

/// Demos known not to run, with what they say (none today: every demo runs).
const KNOWN_BROKEN: &[(&str, &str)] = &[];

fn demos(dir: &std::path::Path) -> Vec<String> {
    let list = json_of(mlc(dir).args(["--json", "demo", "--list"]));
    let names: Vec<String> = list
        .as_array()
        .expect("a list of demos")
        .iter()
        .filter_map(|row| row.get(0).and_then(Value::as_str).map(str::to_string))
        .collect();
    assert!(names.len() >= 5, "every integration has a demo: {names:?}");
    names
}

fn num(v: &Value, field: &str) -> u64 {
    v.get(field).and_then(Value::as_u64).unwrap_or_else(|| panic!("ledger field {field} missing in {v}"))
}

/// Check one run's report; returns documents posted per flow.
fn check_run(demo: &str, run: usize, report: &Value) -> Vec<(String, u64)> {
    let flows = report["ledger"]["flows"].as_object().unwrap_or_else(|| panic!("{demo} run {run}: no ledger"));
    assert!(!flows.is_empty(), "{demo} run {run}: the ledger counts no flow at all");
    let mut posted = Vec::new();
    for (flow, l) in flows {
        let (seen, p, held, failed, skipped, busy) = (
            num(l, "seen"),
            num(l, "posted"),
            num(l, "held"),
            num(l, "failed"),
            num(l, "skipped"),
            num(l, "in_progress"),
        );
        let unaccounted = l["unaccounted"].as_array().cloned().unwrap_or_default();
        assert!(unaccounted.is_empty(), "{demo} run {run} flow {flow}: records unaccounted: {unaccounted:?}");
        assert_eq!(
            seen,
            p + held + failed + skipped + busy,
            "{demo} run {run} flow {flow}: seen {seen} = posted {p} + held {held} + failed {failed} + skipped {skipped} + in progress {busy}"
        );
        assert_eq!(busy, 0, "{demo} run {run} flow {flow}: the demo settled with documents still in progress: {l}");
        // Records: listed = worked + still queued, and each worked record has one outcome.
        let worked = num(l, "records_worked");
        assert_eq!(
            worked,
            num(l, "records_with_documents")
                + num(l, "records_without_documents")
                + num(l, "records_already_processed")
                + num(l, "records_unread"),
            "{demo} run {run} flow {flow}: worked records with no outcome: {l}"
        );
        posted.push((flow.clone(), p));
    }
    posted
}

#[test]
fn every_demo_balances_its_ledger_for_every_flow_and_a_second_run_posts_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let mut first_posted = 0;
    for demo in demos(dir) {
        let data = dir.join(format!("demo-{demo}"));
        let data = data.to_str().expect("utf-8 path");
        let first = try_json(mlc(dir).args(["--json", "--data-dir", data, "demo", &demo]));
        if let Some((_, says)) = KNOWN_BROKEN.iter().find(|(d, _)| *d == demo) {
            let err = first.expect_err("a demo listed as broken runs now: remove it from KNOWN_BROKEN");
            assert!(err.contains(says), "{demo} fails differently now: {err}");
            eprintln!("{demo}: does not run ({says}); reported");
            continue;
        }
        let first = first.unwrap_or_else(|e| panic!("{demo}: {e}"));
        let posted = check_run(&demo, 1, &first);
        first_posted += posted.iter().map(|(_, n)| n).sum::<u64>();
        let second = json_of(mlc(dir).args(["--json", "--data-dir", data, "demo", &demo]));
        assert_eq!(second["first_run"], Value::Bool(false), "{demo}: the second run continues the first");
        for (flow, n) in check_run(&demo, 2, &second) {
            assert_eq!(n, 0, "{demo}: the second run posted {n} documents again in flow {flow}");
        }
        for (flow, t) in second["flows"].as_object().cloned().unwrap_or_default() {
            assert_eq!(t["posted"].as_u64(), Some(0), "{demo}: the second run's report shows {flow} posting: {t}");
        }
    }
    assert!(first_posted > 0, "the demos' first runs post documents");
}
