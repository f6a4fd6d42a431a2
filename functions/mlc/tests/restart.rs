//! Kill `mlc` mid-run — after it claimed work and sent Deltek creates, before it recorded their
//! outcome — then run it again: every authorised invoice ends in Deltek exactly once, and every
//! work item ends visible and terminal. This drives the real binary against both simulators.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mlc_core::engine::model::{ItemFilter, ItemState};
use mlc_core::engine::ports::Store;
use mlc_sim::cin7::model::DocStatus;
use mlc_sim::cin7::scenario::{Cin7Scenario, line};
use mlc_sim::cin7::{Cin7Sim, Cin7Switches};
use mlc_sim::common::{Fault, FaultRule, SimClock};
use mlc_sim::deltek::DeltekSim;
use rust_decimal::Decimal;
use support::{PROJECT, SURVEY_ACCOUNT, SURVEY_CODE, cascade, day, purchase};

const KEY: &str = "c2VjcmV0LWtleS1mb3ItdGhlLXJlc3RhcnQtdGVzdDA="; // 32 bytes, base64

fn mlc(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mlc"));
    c.current_dir(dir).env("MLC_SECRET_KEY", KEY).env("MLC_CONFIG", dir.join("mlc.toml")).env_remove("MLC_DATA_DIR");
    c
}

fn run_ok(cmd: &mut Command, stdin: Option<&str>) -> String {
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn mlc");
    if let Some(text) = stdin {
        child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write stdin");
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().expect("mlc output");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "mlc failed: {text}");
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_between_claim_and_record_then_restarted_posts_each_invoice_exactly_once() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let clock = SimClock::manual_default();
    let deltek = DeltekSim::builder().clock(clock.clone()).start().await.expect("deltek");
    let s = cascade();
    let mut scenario = Cin7Scenario::reference_data().supplier(s.clone());
    let invoices: Vec<String> = (0..6).map(|n| format!("KILL-{n}")).collect();
    for (n, inv) in invoices.iter().enumerate() {
        let id = format!("b7{n:06}-0000-4000-8000-000000000000");
        scenario = scenario.purchase(
            purchase(&s, &id, 500 + n as i64)
                .line(line("Staking", SURVEY_CODE, Decimal::ONE, Decimal::from(75)))
                .invoice(inv, DocStatus::Authorised, day(12), None)
                .build(),
        );
    }
    let cin7 = Cin7Sim::builder()
        .clock(clock)
        .scenario(scenario)
        .switches(Cin7Switches { rate_limit_window_ms: 500, ..Cin7Switches::default() })
        .start()
        .await
        .expect("cin7");

    let d = deltek.system().typed_credentials(deltek.base_url());
    let c = cin7.system().typed_credentials(cin7.base_url());
    std::fs::write(
        dir.join("mlc.toml"),
        format!(
            r#"data_dir = "{data}"
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
database = "{db}"
vouchers_per_file = 2
batch_linger_ms = 50
timeout_secs = 10

[connections.cin7]
system = "cin7"
base_url = "{cin7}"
rate_limit_window_secs = 0.5

[flows.cin7-deltek-vendors]
source = "cin7"
target = "deltek"

[flows.cin7-deltek-ap]
source = "cin7"
target = "deltek"
options = {{ initial_lookback_days = 0 }}
"#,
            data = dir.join("state").display(),
            deltek = deltek.base_url(),
            db = d.database,
            cin7 = cin7.base_url(),
        ),
    )
    .expect("config");
    run_ok(
        mlc(dir).args(["credentials", "set", "deltek"]),
        Some(&format!(
            "username={}\npassword={}\nclient_id={}\nclient_secret={}\n",
            d.username, d.password, d.client_id, d.client_secret
        )),
    );
    run_ok(
        mlc(dir).args(["credentials", "set", "cin7"]),
        Some(&format!("account_id={}\napplication_key={}\n", c.account_id, c.application_key)),
    );
    std::fs::write(
        dir.join("map.csv"),
        format!("scope,kind,source,target\ncin7-deltek,account,{SURVEY_CODE},{SURVEY_ACCOUNT}\ncin7-deltek,project,{PROJECT},{PROJECT}\n"),
    )
    .expect("csv");
    run_ok(mlc(dir).args(["mappings", "import", "map.csv"]), None);
    run_ok(mlc(dir).args(["run", "cin7-deltek-vendors"]), None);

    // Deltek now holds every AP file POST for 20 s before answering: mlc is mid-create.
    deltek.faults().add(FaultRule::new("POST", "/DataEntry/apControl", Fault::Latency { ms: 20_000 }));
    let mut child = mlc(dir)
        .args(["run", "cin7-deltek-ap"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(60);
    while deltek.calls().count("POST", "/DataEntry/apControl") == 0 {
        assert!(Instant::now() < deadline, "mlc never reached the create");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    child.kill().expect("kill -9");
    child.wait().expect("reap");

    // What the dead process left: claimed items with the in-doubt marker, nothing posted.
    {
        let store = mlc_local::SqliteStore::open(dir.join("state/mlc.sqlite")).expect("open store");
        let items =
            store.list_items(&ItemFilter { flow: Some("cin7-deltek-ap".into()), ..Default::default() }).await.unwrap();
        assert!(items.iter().any(|i| i.state == ItemState::InDoubt), "{items:#?}");
        assert!(items.iter().all(|i| i.state != ItemState::Posted));
    }

    // Restart (the fault is gone): claims lapse, in-doubt items resolve by lookup, the rest post.
    deltek.faults().clear();
    tokio::time::sleep(Duration::from_secs(3)).await;
    for _ in 0..10 {
        run_ok(mlc(dir).args(["run", "cin7-deltek-ap"]), None);
        let store = mlc_local::SqliteStore::open(dir.join("state/mlc.sqlite")).expect("open store");
        let items =
            store.list_items(&ItemFilter { flow: Some("cin7-deltek-ap".into()), ..Default::default() }).await.unwrap();
        if items.len() == invoices.len() && items.iter().all(|i| i.state.is_terminal()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(700)).await;
    }

    {
        let st = deltek.system().lock();
        for inv in &invoices {
            let n: usize = st.ap_files.iter().map(|f| f.masters.iter().filter(|m| &m.invoice == inv).count()).sum();
            assert_eq!(n, 1, "{inv} must be in Deltek exactly once");
        }
    }
    let store = mlc_local::SqliteStore::open(dir.join("state/mlc.sqlite")).expect("open store");
    let items =
        store.list_items(&ItemFilter { flow: Some("cin7-deltek-ap".into()), ..Default::default() }).await.unwrap();
    assert_eq!(items.len(), invoices.len());
    for i in &items {
        assert_eq!(i.state, ItemState::Posted, "{} {:?}", i.key, i.reason);
    }
}
