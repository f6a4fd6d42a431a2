//! The operator CLI as a new user meets it (issue 11): the real `mlc` binary, on a temporary
//! directory, against both simulators where a command needs them. Each test names the defect it
//! keeps fixed.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use mlc_sim::cin7::Cin7Sim;
use mlc_sim::cin7::model::DocStatus;
use mlc_sim::cin7::scenario::Cin7Scenario;
use mlc_sim::common::SimClock;
use mlc_sim::deltek::DeltekSim;
use support::{PROJECT, SURVEY_ACCOUNT, SURVEY_CODE, cascade, day, purchase};

const KEY: &str = "c2VjcmV0LWtleS1mb3ItdGhlLXJlc3RhcnQtdGVzdDA="; // 32 bytes, base64

/// `mlc` in `dir`, with no configuration or data directory from the environment.
fn mlc(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mlc"));
    c.current_dir(dir)
        .env("MLC_SECRET_KEY", KEY)
        .env_remove("MLC_CONFIG")
        .env_remove("MLC_DATA_DIR")
        .env_remove("MLC_BACKEND")
        .env("COLUMNS", "120");
    c
}

fn run(cmd: &mut Command, stdin: Option<&str>) -> Output {
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn mlc");
    let mut pipe = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        pipe.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(pipe);
    child.wait_with_output().expect("mlc output")
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// Run; must succeed; stdout + stderr.
fn ok(cmd: &mut Command, stdin: Option<&str>) -> String {
    let o = run(cmd, stdin);
    let (out, err) = text(&o);
    assert!(o.status.success(), "mlc failed ({:?}): {out}{err}", o.status);
    format!("{out}{err}")
}

/// Run; must fail with one line on stderr; that line.
fn fails(cmd: &mut Command, stdin: Option<&str>) -> String {
    let o = run(cmd, stdin);
    let (out, err) = text(&o);
    assert!(!o.status.success(), "mlc should have failed: {out}{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "errors are one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// A data directory holding `n` account mappings (the CSV import creates it).
fn data_dir_with_mappings(dir: &Path, n: usize) -> PathBuf {
    let mut csv = String::from("scope,kind,source,target,note\n");
    for i in 0..n {
        csv.push_str(&format!("cin7-deltek,account,{i},{},row {i} of a long table\n", 50000 + i));
    }
    std::fs::write(dir.join("big.csv"), csv).expect("csv");
    let out = ok(mlc(dir).args(["--data-dir", "state", "mappings", "import", "big.csv"]), None);
    assert!(out.contains("starting a new ml-connector data directory in state"), "{out}");
    dir.join("state")
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    // Defect 1: `mlc … | head -1` exited 101 with a backtrace.
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    data_dir_with_mappings(dir, 1500);
    for args in [
        vec!["--data-dir", "state", "mappings", "list"],
        vec!["--data-dir", "state", "mappings", "list", "--json"],
        vec!["--data-dir", "state", "mappings", "export"],
    ] {
        let mut child = mlc(dir)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut first).expect("first line");
        // The reader is gone (as after `head -1`): the rest of the output meets a closed pipe.
        let mut err = String::new();
        child.stderr.take().expect("stderr").read_to_string(&mut err).expect("stderr");
        let status = child.wait().expect("wait");
        assert!(!first.is_empty());
        assert!(status.success(), "{args:?}: {status:?} {err}");
        assert!(err.is_empty(), "{args:?} must end quietly, said: {err}");
    }
}

#[test]
fn read_only_commands_never_create_a_store() {
    // Defect 2: a mistyped --data-dir created an empty store and reported an empty system.
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    for args in [
        vec!["status"],
        vec!["items"],
        vec!["audit", "NBS-29660"],
        vec!["mappings", "list"],
        vec!["mappings", "export"],
        vec!["credentials", "list"],
        vec!["replay", "--state", "failed", "--reason", "x"],
        vec!["cursor", "show"],
    ] {
        let mut all = vec!["--data-dir", "typo/dir"];
        all.extend(args.iter().copied());
        let e = fails(mlc(dir).args(&all), None);
        assert!(e.contains("no ml-connector data in typo/dir"), "{args:?}: {e}");
    }
    assert!(!dir.join("typo").exists(), "nothing was created");
    // Defect 9 too: an unknown flow is the first thing said, and nothing is created.
    let e = fails(mlc(dir).args(["run", "no-such-flow"]), None);
    assert!(e.contains("unknown flow \"no-such-flow\""), "{e}");
    assert!(!dir.join(".mlc").exists(), "`run` with a typo creates no ./.mlc");
}

#[test]
fn usage_errors_are_one_line() {
    // Defect 14: argument errors were 3–5 lines.
    let tmp = tempfile::tempdir().expect("tempdir");
    let e = fails(mlc(tmp.path()).args(["audit"]), None);
    assert!(e.contains("<ITEM>") && e.contains("mlc audit --help"), "{e}");
    let e = fails(mlc(tmp.path()).args(["items", "--state", "nope"]), None);
    assert!(e.contains("nope"), "{e}");
    let help = ok(mlc(tmp.path()).args(["audit", "--help"]), None);
    assert!(help.contains("invoice / source document number"), "{help}");
}

fn write_config(dir: &Path, deltek: &str, database: &str, cin7: &str, lookback_days: u32) {
    write_config_with(dir, deltek, database, cin7, lookback_days, "rate_limit_window_secs = 0.5");
}

/// [`write_config`] with the Cin7 connection's options given.
fn write_config_with(dir: &Path, deltek: &str, database: &str, cin7: &str, lookback_days: u32, cin7_options: &str) {
    std::fs::write(
        dir.join("mlc.toml"),
        format!(
            r#"data_dir = "state"
[server]
listen = "127.0.0.1:0"

[engine]
lock_ttl_secs = 3
in_doubt_settle_secs = 1
http_timeout_secs = 0
settle_margin_ms = 1000
retry_base_ms = 200
retry_cap_secs = 1
busy_retry_ms = 200

[connections.deltek]
system = "deltek"
base_url = "{deltek}"
database = "{database}"
batch_linger_ms = 50

[connections.cin7]
system = "cin7"
base_url = "{cin7}"
{cin7_options}

[flows.cin7-deltek-vendors]
source = "cin7"
target = "deltek"

[flows.cin7-deltek-ap]
source = "cin7"
target = "deltek"
options = {{ initial_lookback_days = {lookback_days} }}
"#
        ),
    )
    .expect("config");
}

#[test]
fn credentials_are_checked_against_the_fields_the_system_declares() {
    // Defect 10: `credentials set nosuch`, a field `usernmae`, and a simulator's JSON line
    // (with base_url and database) were all stored.
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    write_config(dir, "http://127.0.0.1:9/api", "DB", "http://127.0.0.1:9/", 90);
    let e = fails(mlc(dir).args(["credentials", "set", "nosuch"]), Some("username=x\n"));
    assert!(e.contains("no connection named \"nosuch\"") && e.contains("cin7, deltek"), "{e}");
    assert!(!dir.join("state").exists(), "a refused name creates nothing");
    let e = fails(mlc(dir).args(["credentials", "set", "deltek"]), Some("usernmae=x\n"));
    assert!(e.contains("\"usernmae\"") && e.contains("username"), "{e}");
    let out = ok(
        mlc(dir).args(["credentials", "set", "deltek"]),
        Some(r#"{"base_url":"http://127.0.0.1:9/api","database":"DB","username":"u","password":"p"}"#),
    );
    assert!(out.contains("saved 2 fields for deltek: password, username"), "{out}");
    assert!(out.contains("not stored: base_url, database"), "{out}");
    let list = ok(mlc(dir).args(["credentials", "list", "--json"]), None);
    assert!(list.contains("\"username\"") && !list.contains("base_url"), "{list}");
}

#[test]
fn mapping_imports_check_scopes_show_changes_and_exports_keep_files() {
    // Defect 10 and 8: a scope typo, a silent re-map, an overwritten export, `--kind` refused.
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    write_config(dir, "http://127.0.0.1:9/api", "DB", "http://127.0.0.1:9/", 90);
    std::fs::write(dir.join("bad.csv"), "scope,kind,source,target\nnope-scope,account,412,52300\n").expect("csv");
    let e = fails(mlc(dir).args(["mappings", "import", "bad.csv"]), None);
    assert!(e.contains("bad.csv line 2: field scope: \"nope-scope\"") && e.contains("cin7-deltek"), "{e}");
    std::fs::write(dir.join("quote.csv"), "scope,kind,source,target\ncin7-deltek,\"account,412,52300\n").expect("csv");
    let e = fails(mlc(dir).args(["mappings", "import", "quote.csv"]), None);
    assert!(e.contains("quote.csv line 2") && e.contains("unterminated quote"), "{e}");

    std::fs::write(
        dir.join("a.csv"),
        "scope,kind,source,target\ncin7-deltek,account,412,52300\ncin7-deltek,project,P1,2024003.00|01\n",
    )
    .expect("csv");
    let out = ok(mlc(dir).args(["mappings", "import", "a.csv"]), None);
    assert!(out.contains("imported 2 mappings"), "{out}");
    std::fs::write(dir.join("b.csv"), "scope,kind,source,target\ncin7-deltek,account,412,52400\n").expect("csv");
    let out = ok(mlc(dir).args(["mappings", "import", "b.csv"]), None);
    assert!(out.contains("imported 1 mapping ") && out.contains("52300 → 52400"), "{out}");

    let only_accounts = ok(mlc(dir).args(["mappings", "export", "--kind", "account"]), None);
    assert!(only_accounts.contains("412,52400") && !only_accounts.contains("P1"), "{only_accounts}");
    std::fs::write(dir.join("keep.csv"), "mine").expect("file");
    let e = fails(mlc(dir).args(["mappings", "export", "keep.csv"]), None);
    assert!(e.contains("keep.csv exists") && e.contains("--force"), "{e}");
    assert_eq!(std::fs::read_to_string(dir.join("keep.csv")).expect("read"), "mine");
    ok(mlc(dir).args(["mappings", "export", "keep.csv", "--force"]), None);
    assert!(std::fs::read_to_string(dir.join("keep.csv")).expect("read").contains("412,52400"));

    // Defect 8: dry runs need no reason, and count what a real run would do.
    let out = ok(mlc(dir).args(["replay", "--state", "posted", "--dry-run"]), None);
    assert!(out.contains("would replay 0 items"), "{out}");
    let out = ok(mlc(dir).args(["replay", "--dead-letters", "--dry-run"]), None);
    assert!(out.contains("would put 0 dead-lettered messages back"), "{out}");
    let e = fails(mlc(dir).args(["replay", "--state", "failed"]), None);
    assert!(e.contains("--reason"), "{e}");
}

#[test]
fn every_level_of_the_configuration_is_checked_at_load_by_every_command() {
    // Defect 3: an unknown system, an unknown flow kind, an option typo, an invalid value and an
    // out-of-range page size passed `mlc config`.
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let good = |deltek_system: &str, flow: &str, options: &str| {
        format!(
            "[connections.deltek]\nsystem = \"{deltek_system}\"\nbase_url = \"http://127.0.0.1:9/api\"\ndatabase = \"DB\"\n\
             [connections.cin7]\nsystem = \"cin7\"\nbase_url = \"http://127.0.0.1:9/\"\n\
             [flows.{flow}]\nsource = \"cin7\"\ntarget = \"deltek\"\noptions = {{ {options} }}\n"
        )
    };
    let cases = [
        (good("deltke", "cin7-deltek-ap", ""), "line 2", "deltke"),
        (good("deltek", "cin7-deltek-apx", ""), "line 8", "not a flow kind"),
        (good("deltek", "cin7-deltek-ap", "project_sorce = \"location\""), "line 11", "project_sorce"),
        (good("deltek", "cin7-deltek-ap", "credit_notes = \"negative\""), "line 11", "negative_voucher"),
        (good("deltek", "cin7-deltek-ap", "page_size = 5000"), "line 11", "1 to 1000"),
    ];
    for (text, line, what) in cases {
        std::fs::write(dir.join("mlc.toml"), &text).expect("config");
        for args in [vec!["config"], vec!["status"], vec!["run", "cin7-deltek-ap"], vec!["mappings", "list"]] {
            let e = fails(mlc(dir).args(&args), None);
            assert!(e.contains(&format!("mlc.toml {line}")) && e.contains(what), "{args:?} on {text}: {e}");
            assert!(!e.contains("  "), "no runs of spaces in the message: {e}");
        }
    }
}

#[test]
fn x12_commands_answer_in_json_and_name_the_file() {
    // Defect 12.
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/x12/tests/data");
    let v = ok(mlc(tmp.path()).args(["x12", "validate", "--json"]).arg(data.join("fat_multi.edi")), None);
    let doc: serde_json::Value = serde_json::from_str(v.lines().next().unwrap_or("")).expect("validate --json is JSON");
    assert_eq!(doc["valid"], true);
    let p = ok(mlc(tmp.path()).args(["x12", "parse", "--json"]).arg(data.join("997_accepted.edi")), None);
    assert!(p.contains("mlc-x12.ack997.v1") && p.contains("\"ak9\""), "{p}");
    let a = run(mlc(tmp.path()).args(["x12", "ack"]).arg(data.join("997_accepted.edi")), None);
    let (_, err) = text(&a);
    assert!(err.contains("holds only functional acknowledgments") && !err.contains("no readable ISA"), "{err}");
    let r = run(mlc(tmp.path()).args(["x12", "parse", "missing.edi"]), None);
    let (_, err) = text(&r);
    assert!(!r.status.success() && err.contains("missing.edi"), "{err}");
}

/// Start the Cin7 simulator, write `mlc.toml` for both simulators (Cin7's connection with
/// `cin7_options`, a 1-day first look-back), store both credentials and the survey mappings.
/// The Cin7 handle, and Deltek's password (to check it never shows).
async fn standalone(
    dir: &Path,
    deltek: &mlc_sim::common::SimHandle<DeltekSim>,
    cin7: mlc_sim::cin7::Cin7SimBuilder,
    cin7_options: &str,
) -> (mlc_sim::common::SimHandle<Cin7Sim>, String) {
    let cin7 = cin7.start().await.expect("cin7");
    let d = deltek.system().typed_credentials(deltek.base_url());
    let c = cin7.system().typed_credentials(cin7.base_url());
    write_config_with(dir, deltek.base_url(), &d.database, cin7.base_url(), 1, cin7_options);
    ok(
        mlc(dir).args(["credentials", "set", "deltek"]),
        Some(&format!(
            "username={}\npassword={}\nclient_id={}\nclient_secret={}\n",
            d.username, d.password, d.client_id, d.client_secret
        )),
    );
    ok(
        mlc(dir).args(["credentials", "set", "cin7"]),
        Some(&format!("account_id={}\napplication_key={}\n", c.account_id, c.application_key)),
    );
    std::fs::write(
        dir.join("map.csv"),
        format!(
            "scope,kind,source,target\ncin7-deltek,account,{SURVEY_CODE},{SURVEY_ACCOUNT}\ncin7-deltek,project,{PROJECT},{PROJECT}\n"
        ),
    )
    .expect("csv");
    ok(mlc(dir).args(["mappings", "import", "map.csv"]), None);
    (cin7, d.password)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_standalone_run_says_how_far_back_it_looked_and_since_reaches_older_records() {
    // Defect 6 (and 4, 13 and "audit by invoice number"): the 90-day default found nothing
    // and changing initial_lookback_days later did nothing.
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let clock = SimClock::manual_default();
    let deltek = DeltekSim::builder().clock(clock.clone()).start().await.expect("deltek");
    let s = cascade();
    let scenario = Cin7Scenario::reference_data()
        .supplier(s.clone())
        .purchase(
            purchase(&s, "c1000000-0000-4000-8000-000000000001", 1_272)
                .invoice("CLI-1", DocStatus::Authorised, day(12), None)
                .build(),
        )
        .purchase(
            purchase(&s, "c1000000-0000-4000-8000-000000000002", 80)
                .attribute(1, "UNMAPPED-PROJECT")
                .invoice("CLI-2", DocStatus::Authorised, day(13), None)
                .build(),
        );
    let (cin7, password) =
        standalone(dir, &deltek, Cin7Sim::builder().clock(clock).scenario(scenario), "rate_limit_window_secs = 0.5")
            .await;
    ok(mlc(dir).args(["run", "cin7-deltek-vendors", "--since", "2020-01-01"]), None);

    // The simulated purchases are from 2025: a one-day first look finds nothing, and says why.
    let first = ok(mlc(dir).args(["run", "cin7-deltek-ap"]), None);
    assert!(first.contains("in the last 1 day (first poll of cin7/purchase"), "{first}");
    assert!(first.contains("--since DATE"), "{first}");
    assert!(first.contains("it found 0 changed records"), "{first}");
    // Later polls follow the cursor and say so.
    let again = ok(mlc(dir).args(["run", "cin7-deltek-ap"]), None);
    assert!(again.contains("cursor cin7/purchase from earlier polls") && again.contains("--since"), "{again}");

    let since = ok(mlc(dir).args(["run", "cin7-deltek-ap", "--since", "2025-01-01"]), None);
    assert!(since.contains("since 2025-01-01 00:00 UTC (--since"), "{since}");
    assert!(since.contains("it found 2 changed records"), "{since}");
    assert!(since.contains("waiting for mappings") && since.contains("project \"UNMAPPED-PROJECT\""), "{since}");
    assert!(since.contains(": 1 document\n"), "plural grammar: {since}");

    let cursors = ok(mlc(dir).args(["cursor", "show"]), None);
    assert!(cursors.contains("cin7/purchase") && !cursors.contains("memo#"), "{cursors}");
    let status = ok(mlc(dir).args(["status"]), None);
    assert!(!status.contains("memo#") && !status.contains("sync#"), "{status}");
    let reset = ok(mlc(dir).args(["cursor", "reset", "cin7-deltek-ap"]), None);
    assert!(reset.contains("cin7/purchase: reset; the next poll looks back to"), "{reset}");

    // The posted invoice by its number: amount in minor units, and the write that posted it.
    let audit = ok(mlc(dir).args(["audit", "CLI-1", "--bodies"]), None);
    assert!(audit.contains("amount: USD 1,272.00"), "{audit}");
    assert!(
        audit.contains("POST") && audit.contains("DataEntry/apControl"),
        "the posting write is in the trail: {audit}"
    );
    assert!(audit.contains("GET") && audit.contains("purchase"), "the read-back is in the trail: {audit}");
    assert!(!audit.contains(&password), "secrets never reach the trail");
    let items = ok(mlc(dir).args(["items", "--flow", "cin7-deltek-ap"]), None);
    assert!(items.contains("USD 1,272.00") && items.lines().all(|l| l.chars().count() <= 120), "{items}");
    assert!(items.contains("2 documents"), "{items}");

    // "What a user expects": the target's codes to write mappings against.
    let accounts = ok(mlc(dir).args(["target", "list", "accounts", "deltek"]), None);
    assert!(accounts.contains(SURVEY_ACCOUNT), "{accounts}");
    let projects = ok(mlc(dir).args(["target", "list", "projects", "deltek"]), None);
    assert!(projects.contains(PROJECT), "{projects}");
    let vendors = ok(mlc(dir).args(["target", "list", "vendors", "deltek", "--json"]), None);
    assert!(vendors.contains("CASCSURV"), "{vendors}");

    // Suggestions propose project rows too, and the file holds no row an import would refuse.
    let sug = ok(mlc(dir).args(["mappings", "suggest", "cin7-deltek", "--out", "proposal.csv"]), None);
    assert!(sug.contains("UNMAPPED-PROJECT"), "the unmatched project key is named: {sug}");
    let proposal = std::fs::read_to_string(dir.join("proposal.csv")).expect("proposal");
    for line in proposal.lines().skip(1) {
        let target = line.split(',').nth(3).unwrap_or("");
        assert!(!target.is_empty(), "a row with an empty target: {line}");
    }
    ok(mlc(dir).args(["mappings", "import", "proposal.csv"]), None);

    // Defect 7: `serve` says what it did when it is stopped.
    let rest = serve_until_stopped(dir);
    assert!(rest.contains("mlc serve: stopped after") && rest.contains("webhooks: 0 accepted"), "{rest}");
    cin7.shutdown().await;
    deltek.shutdown().await;
}

/// Start `mlc serve` in `dir`, stop it with SIGINT once it listens; all it wrote on stderr.
fn serve_until_stopped(dir: &Path) -> String {
    let mut serve =
        mlc(dir).arg("serve").stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("serve");
    let mut err = BufReader::new(serve.stderr.take().expect("stderr"));
    let mut all = String::new();
    let mut line = String::new();
    while !line.contains("mlc serve: webhooks on") {
        line.clear();
        assert!(err.read_line(&mut line).expect("serve stderr") > 0, "serve ended early: {all}");
        all.push_str(&line);
    }
    let interrupted = Command::new("kill").args(["-INT", &serve.id().to_string()]).status().expect("kill -INT");
    assert!(interrupted.success());
    err.read_to_string(&mut all).expect("stderr");
    assert!(serve.wait().expect("wait").success(), "{all}");
    all
}

#[test]
fn each_help_lists_only_the_options_that_apply() {
    // Defect 14: --data-dir, --config, --json … were listed under every subcommand, x12 and sim
    // included, where they mean nothing.
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let help = |args: &[&str]| ok(mlc(dir).args(args).arg("--help"), None);
    for args in [vec!["x12"], vec!["x12", "validate"], vec!["sim"]] {
        let h = help(&args);
        for flag in ["--data-dir", "--config", "--backend"] {
            assert!(!h.contains(flag), "`mlc {args:?} --help` lists {flag}: {h}");
        }
    }
    assert!(help(&["x12", "validate"]).contains("--json"), "x12 answers in JSON");
    assert!(!help(&["sim"]).contains("--json"));
    for args in [vec!["status"], vec!["mappings", "list"], vec!["run"]] {
        let h = help(&args);
        for flag in ["--data-dir", "--config", "--json", "--backend"] {
            assert!(h.contains(flag), "`mlc {args:?} --help` must list {flag}: {h}");
        }
    }
    let serve = help(&["serve"]);
    assert!(serve.contains("--data-dir") && !serve.contains("--json"), "{serve}");
    // Both places still work: before the command's name and after it.
    for args in [["--data-dir", "typo/dir", "status"], ["status", "--data-dir", "typo/dir"]] {
        let e = fails(mlc(dir).args(args), None);
        assert!(e.contains("no ml-connector data in typo/dir"), "{args:?}: {e}");
    }
    let e = fails(mlc(dir).args(["mappings", "--data-dir", "typo/dir", "list", "--json"]), None);
    assert!(e.contains("no ml-connector data in typo/dir"), "{e}");
    // Before the name of a command that does not take it, an option is refused, not ignored.
    let e = fails(mlc(dir).args(["--data-dir", "state", "x12", "parse", "a.edi"]), None);
    assert!(e.contains("--data-dir does not apply to `mlc x12`"), "{e}");
    // The environment's MLC_DATA_DIR is not an error where it does not apply.
    let e = fails(mlc(dir).env("MLC_DATA_DIR", "state").args(["x12", "parse", "a.edi"]), None);
    assert!(e.contains("a.edi") && !e.contains("does not apply"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_waiting_on_the_cin7_budget_says_how_many_calls_wait() {
    // Defect 7: long work was silent while it waited on Cin7's budget. One call a second: the
    // run's reads queue, and the default log level shows the line (no ANSI codes in a pipe).
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let clock = SimClock::manual_default();
    let deltek = DeltekSim::builder().clock(clock.clone()).start().await.expect("deltek");
    let s = cascade();
    let mut scenario = Cin7Scenario::reference_data().supplier(s.clone());
    for n in 1..=3 {
        scenario = scenario.purchase(
            purchase(&s, &format!("c2000000-0000-4000-8000-00000000000{n}"), 100 * n)
                .invoice(&format!("BUDGET-{n}"), DocStatus::Authorised, day(12), None)
                .build(),
        );
    }
    let (cin7, _) = standalone(
        dir,
        &deltek,
        Cin7Sim::builder().clock(clock).scenario(scenario),
        "rate_limit_calls = 1\nrate_limit_window_secs = 0.5",
    )
    .await;
    ok(mlc(dir).args(["run", "cin7-deltek-vendors", "--since", "2020-01-01"]), None);
    let o = run(mlc(dir).args(["run", "cin7-deltek-ap", "--since", "2025-01-01"]), None);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains("it found 3 changed records") && out.contains("posted   3"), "{out}");
    let line = err.lines().find(|l| l.contains("waiting for the Cin7 budget: ")).unwrap_or_else(|| panic!("{err}"));
    assert!(line.contains(" queued, the last in "), "{line}");
    assert!(line.contains(" INFO "), "{line}");
    assert!(!err.contains('\u{1b}'), "no ANSI codes when stderr is not a terminal: {err:?}");
    cin7.shutdown().await;
    deltek.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_view_names_suppliers_not_their_cin7_ids() {
    // Defect 13: vendors were shown by their Cin7 GUID. One supplier pairs with a Deltek vendor
    // (a learnt mapping); a deprecated one is not synced, so its invoice waits for a vendor mapping.
    // (`audit --bodies` shows the raw HTTP bodies as sent: those keep every id.)
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let clock = SimClock::manual_default();
    let deltek = DeltekSim::builder().clock(clock.clone()).start().await.expect("deltek");
    let s = cascade();
    let mut copier = mlc_sim::cin7::scenario::supplier("Old Copier Leasing Co.");
    copier.id = "437bc05f-9e5b-4b8b-a249-053326ad379c".into();
    copier.status = "Deprecated".into();
    let scenario = Cin7Scenario::reference_data()
        .supplier(s.clone())
        .supplier(copier.clone())
        .purchase(
            purchase(&s, "c3000000-0000-4000-8000-000000000001", 640)
                .invoice("NAME-1", DocStatus::Authorised, day(12), None)
                .build(),
        )
        .purchase(
            purchase(&copier, "c3000000-0000-4000-8000-000000000002", 90)
                .invoice("NAME-2", DocStatus::Authorised, day(13), None)
                .build(),
        );
    let (cin7, _) =
        standalone(dir, &deltek, Cin7Sim::builder().clock(clock).scenario(scenario), "rate_limit_window_secs = 0.5")
            .await;
    let mut views = vec![
        ("run vendors", ok(mlc(dir).args(["run", "cin7-deltek-vendors", "--since", "2020-01-01"]), None)),
        ("run ap", ok(mlc(dir).args(["run", "cin7-deltek-ap", "--since", "2025-01-01"]), None)),
    ];
    for args in [
        vec!["status"],
        vec!["items"],
        vec!["items", "--flow", "cin7-deltek-vendors"],
        vec!["audit", "NAME-1"],
        vec!["audit", "NAME-2"],
        vec!["replay", "--state", "needs_mapping", "--dry-run"],
        vec!["mappings", "list"],
    ] {
        views.push((args.join(" ").leak(), ok(mlc(dir).args(&args), None)));
    }
    views.push(("serve", serve_until_stopped(dir)));
    let tieout = ok(mlc(dir).args(["tieout", "--period", "2025-06"]), None);
    assert!(tieout.contains("Old Copier Leasing Co.") && tieout.contains("Cascade Land Surveying LLC"), "{tieout}");
    views.push(("tieout", tieout));
    for (view, text) in &views {
        for id in [&s.id, &copier.id] {
            assert!(!text.to_ascii_lowercase().contains(id.as_str()), "`mlc {view}` shows supplier id {id}:\n{text}");
        }
    }
    let shown = |name: &str| views.iter().find(|(v, _)| *v == name).map(|(_, t)| t.as_str()).unwrap_or("");
    assert!(
        shown("run ap").contains("vendor \"Old Copier Leasing Co., id 437bc05f…\" (cin7-deltek)"),
        "{}",
        shown("run ap")
    );
    assert!(shown("items").contains("waiting for mappings: vendor \"Old"), "{}", shown("items"));
    assert!(
        shown("audit NAME-2").contains("waiting for: vendor \"Old Copier Leasing Co."),
        "{}",
        shown("audit NAME-2")
    );
    let mappings = shown("mappings list");
    assert!(
        mappings.contains("Cascade Land Surveying LLC, id 5a1e0000…")
            && mappings.contains("learnt from supplier Cascade"),
        "{mappings}"
    );
    cin7.shutdown().await;
    deltek.shutdown().await;
}
