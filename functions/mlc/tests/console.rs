//! The operator console in headless Chromium (Debian `chromium` + `chromium-driver`, driven over
//! W3C WebDriver): against a Cin7 → Deltek firm on the simulators, run by the real `mlc` binary
//! on a real data directory, the clerk
//! - is refused without the link's token, and the token works once;
//! - replays a failure (a closed Deltek period, reopened) with a reason, and sees it post;
//! - fixes a missing account mapping and sees exactly the held invoices post;
//! - resolves a possible duplicate (same vendor + number, different bill) by posting it under
//!   another number;
//! - downloads an evidence pack (one self-contained HTML file);
//! - and the controller ties June out (`mlc tieout` and the Tie-out page, read from both
//!   systems): before the fixes every difference names its document and why (waiting for a
//!   mapping, failed, held for review); after them only a voucher keyed by hand in Deltek differs;
//!
//! and no stored credential value appears in any page's HTML. Screenshots of each page go to
//! `target/console-screenshots/`.
//!
//! Needs `chromium` and `chromedriver` on the PATH (`tests/run.sh` installs them).

mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::NaiveDate;
use mlc_sim::cin7::model::DocStatus;
use mlc_sim::cin7::scenario::{Cin7Scenario, PurchaseBuilder, line, supplier};
use mlc_sim::cin7::{Cin7Sim, Cin7Switches};
use mlc_sim::common::{SimClock, SimHandle};
use mlc_sim::deltek::DeltekSim;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use support::{PROJECT, SURVEY_ACCOUNT, SURVEY_CODE, cascade, day, purchase};

/// A Cin7 account code nobody mapped (as in the demo).
const UNMAPPED: &str = "412";

fn mlc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mlc"))
}

/// Kill a child process when dropped (the console, chromedriver).
struct Reaper(Child);
impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run_mlc(dir: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let mut cmd = mlc();
    cmd.arg("--config").arg(dir.join("mlc.toml")).arg("--data-dir").arg(dir.join("data")).args(args);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("mlc runs");
    {
        let mut i = child.stdin.take().expect("stdin");
        if let Some(s) = stdin {
            i.write_all(s.as_bytes()).expect("write stdin");
        }
    }
    let out = child.wait_with_output().expect("mlc finishes");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "mlc {args:?} failed: {text}");
    text
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// Ends the WebDriver session when dropped — also when an assertion fails — so no Chromium is
/// left running (killing chromedriver alone leaves its browser behind).
struct SessionGuard {
    port: u16,
    session: String,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        use std::io::Read;
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else { return };
        let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
        let req = format!(
            "DELETE /session/{} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.session, self.port
        );
        if s.write_all(req.as_bytes()).is_ok() {
            let _ = s.read_to_end(&mut Vec::new());
        }
    }
}

/// A minimal W3C WebDriver client (the handful of commands these tests use).
struct Browser {
    http: reqwest::Client,
    base: String,
    session: String,
    shots: PathBuf,
}

impl Browser {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let mut req = self.http.request(method, &url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await.expect("webdriver answers").json().await.expect("webdriver json");
        if v["value"].get("error").is_some() {
            panic!("webdriver {path}: {}", v["value"]);
        }
        v["value"].clone()
    }
    async fn go(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url }))).await;
    }
    /// The page's HTML once it has loaded (a busy machine can answer before the document is
    /// there: wait up to 20 s for its body).
    async fn source(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let src = self.call(reqwest::Method::GET, "/source", None).await.as_str().unwrap_or_default().to_string();
            if src.contains("</body>") || Instant::now() > deadline {
                return src;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None).await.as_str().unwrap_or_default().to_string()
    }
    async fn find(&self, xpath: &str) -> String {
        let v = self.call(reqwest::Method::POST, "/element", Some(json!({ "using": "xpath", "value": xpath }))).await;
        v.as_object().and_then(|o| o.values().next()).and_then(Value::as_str).expect("element id").to_string()
    }
    async fn click(&self, xpath: &str) {
        let id = self.find(xpath).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/click"), Some(json!({}))).await;
    }
    async fn type_into(&self, xpath: &str, text: &str) {
        let id = self.find(xpath).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/clear"), Some(json!({}))).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/value"), Some(json!({ "text": text }))).await;
    }
    async fn shot(&self, name: &str) {
        let b64 = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap_or_default()).expect("png");
        std::fs::write(self.shots.join(format!("{name}.png")), png).expect("save screenshot");
    }
    async fn cookie(&self, name: &str) -> Option<String> {
        let v = self.call(reqwest::Method::GET, "/cookie", None).await;
        v.as_array()?.iter().find(|c| c["name"] == name).and_then(|c| c["value"].as_str()).map(str::to_string)
    }
    /// Reload until the page shows `needle` (the released page refreshes itself too).
    async fn wait_for(&self, needle: &str, count: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let src = self.source().await;
            if src.matches(needle).count() >= count {
                return src;
            }
            assert!(Instant::now() < deadline, "the page never showed {needle:?} {count}×: {src}");
            tokio::time::sleep(Duration::from_millis(500)).await;
            self.call(reqwest::Method::POST, "/refresh", Some(json!({}))).await;
        }
    }
}

/// A headless Chromium under chromedriver; dropping it ends the session, then the driver.
struct Chrome {
    browser: Browser,
    _session: SessionGuard,
    _driver: Reaper,
}

impl Chrome {
    async fn start() -> Chrome {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver on the PATH (apt-get install chromium chromium-driver)");
        let driver = Reaper(driver);
        let http = reqwest::Client::new();
        let wd = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while http.get(format!("{wd}/status")).send().await.is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let caps = json!({ "capabilities": { "alwaysMatch": { "browserName": "chrome", "goog:chromeOptions": {
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1100"]
        } } } });
        let v: Value =
            http.post(format!("{wd}/session")).json(&caps).send().await.expect("session").json().await.expect("json");
        let session = v["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {v}")).to_string();
        let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/console-screenshots");
        std::fs::create_dir_all(&shots).expect("screenshot dir");
        Chrome {
            _session: SessionGuard { port, session: session.clone() },
            browser: Browser { http, base: wd, session, shots },
            _driver: driver,
        }
    }
}

fn vouchers(deltek: &SimHandle<DeltekSim>, invoice: &str) -> Vec<(String, Decimal)> {
    let st = deltek.system().lock();
    let mut out = Vec::new();
    for f in &st.ap_files {
        for m in f.masters.iter().filter(|m| m.invoice == invoice) {
            let total = f.details.iter().filter(|d| d.master_pkey == m.master_pkey).map(|d| d.amount).sum();
            out.push((m.vendor.clone(), total));
        }
    }
    out
}

fn printing(id: &str, number: &str, amount: i64) -> mlc_sim::cin7::model::Purchase {
    PurchaseBuilder::simple(&cascade(), "Port Harbor HQ")
        .id(id)
        .attribute(1, PROJECT)
        .line(line("Plan printing", UNMAPPED, Decimal::ONE, Decimal::from(amount)))
        .order(DocStatus::Authorised)
        .invoice(number, DocStatus::Authorised, day(3), None)
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_clerk_fixes_replays_and_reviews_in_the_browser_and_no_secret_shows() {
    // The firm: Cascade Land Surveying's bills in Cin7 — one that posts, two on an unmapped
    // account, two different bills under one number — and a new supplier whose Deltek vendor firm
    // (created by the vendors flow) is not approved for use yet, so its bill fails.
    let s = cascade();
    let mut newbridge = supplier("Newbridge Staffing LLC");
    newbridge.id = "5a1e0000-0000-4000-8000-000000000301".into();
    let scenario = Cin7Scenario::reference_data()
        .supplier(s.clone())
        .supplier(newbridge.clone())
        .purchase(
            purchase(&s, "c0150000-0000-4000-8000-000000000101", 1200)
                .invoice("CLS-101", DocStatus::Authorised, day(2), None)
                .build(),
        )
        .purchase(printing("c0150000-0000-4000-8000-000000000201", "CLS-201", 300))
        .purchase(printing("c0150000-0000-4000-8000-000000000202", "CLS-202", 450))
        .purchase(
            purchase(&newbridge, "c0150000-0000-4000-8000-000000000301", 700)
                .invoice("NBS-301", DocStatus::Authorised, day(3), None)
                .build(),
        )
        .purchase(
            purchase(&s, "c0150000-0000-4000-8000-000000000401", 1000)
                .invoice("CLS-401", DocStatus::Authorised, day(4), None)
                .build(),
        )
        .purchase(
            purchase(&s, "c0150000-0000-4000-8000-000000000402", 1403)
                .invoice("CLS-401", DocStatus::Authorised, day(5), None)
                .build(),
        );
    let clock = SimClock::manual_default();
    let deltek = DeltekSim::builder().clock(clock.clone()).start().await.expect("deltek sim");
    let cin7 = Cin7Sim::builder()
        .clock(clock)
        .scenario(scenario)
        .switches(Cin7Switches::default())
        .start()
        .await
        .expect("cin7 sim");

    // The home: configuration, credentials and mappings through the CLI, then one run per flow.
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let d = deltek.system().typed_credentials(deltek.base_url());
    let c = cin7.system().typed_credentials(cin7.base_url());
    std::fs::write(
        dir.join("mlc.toml"),
        format!(
            r#"
[engine]
workers = 4
lock_ttl_secs = 10
in_doubt_settle_secs = 2
http_timeout_secs = 1
settle_margin_ms = 1000
retry_base_ms = 200
retry_cap_secs = 2
busy_retry_ms = 200

[connections.deltek]
system = "deltek"
base_url = "{}"
database = "{}"
batch_linger_ms = 20
max_calls_per_second = 500

[connections.cin7]
system = "cin7"
base_url = "{}"
rate_limit_window_secs = 0.5

[flows.cin7-deltek-vendors]
source = "cin7"
target = "deltek"
every = "15m"

[flows.cin7-deltek-ap]
source = "cin7"
target = "deltek"
every = "15m"
options = {{ initial_lookback_days = 0 }}
"#,
            deltek.base_url(),
            d.database,
            cin7.base_url()
        ),
    )
    .expect("config");
    let secrets = [d.password.clone(), d.client_secret.clone(), c.application_key.clone(), c.webhook_secret.clone()];
    run_mlc(
        dir,
        &["credentials", "set", "deltek"],
        Some(&format!(
            "username={}\npassword={}\nclient_id={}\nclient_secret={}\n",
            d.username, d.password, d.client_id, d.client_secret
        )),
    );
    run_mlc(
        dir,
        &["credentials", "set", "cin7"],
        Some(&format!(
            "account_id={}\napplication_key={}\nwebhook_secret={}\n",
            c.account_id, c.application_key, c.webhook_secret
        )),
    );
    std::fs::write(
        dir.join("m.csv"),
        format!("scope,kind,source,target\ncin7-deltek,account,{SURVEY_CODE},{SURVEY_ACCOUNT}\ncin7-deltek,project,{PROJECT},{PROJECT}\n"),
    )
    .expect("csv");
    run_mlc(dir, &["mappings", "import", dir.join("m.csv").to_str().expect("path")], None);
    run_mlc(dir, &["run", "cin7-deltek-vendors"], None);
    let ran = run_mlc(dir, &["run", "cin7-deltek-ap"], None);
    let items = run_mlc(dir, &["items"], None);
    assert_eq!(vouchers(&deltek, "CLS-101").len(), 1, "the plain bill posted: {ran}\n{items}");
    assert!(vouchers(&deltek, "CLS-201").is_empty(), "held for the mapping: {items}");
    assert!(vouchers(&deltek, "NBS-301").is_empty(), "held: its vendor is not approved: {items}");
    assert_eq!(vouchers(&deltek, "CLS-401").len(), 1, "one of the two CLS-401 bills posted, the other waits: {items}");

    // The controller's tie-out before anyone fixes anything: every difference has its document.
    let csv_path = dir.join("tieout.csv");
    let text =
        run_mlc(dir, &["tieout", "--period", "2025-06", "--lines", "--csv", csv_path.to_str().expect("path")], None);
    for needle in [
        "CLS-201",
        "CLS-202",
        "waiting for a mapping",
        "NBS-301",
        "not approved",
        "MT-202506-4471",
        "entered outside ml-connector",
    ] {
        assert!(text.contains(needle), "the tie-out names {needle:?}: {text}");
    }
    let csv = std::fs::read_to_string(&csv_path).expect("tie-out csv");
    assert!(csv.starts_with("period,flow,kind,code,invoice,source,target,difference,explanation,item"), "{csv}");
    assert!(
        csv.lines()
            .any(|l| l.contains(",difference (invoice),CASCSURV,CLS-201,") && l.contains("waiting for a mapping")),
        "{csv}"
    );
    // Both sides by GL account: the target's 52300 (the surveying account) on both sides; the
    // held bill's unmapped Cin7 account named as such.
    assert!(csv.lines().any(|l| l.contains(",account,") && l.contains("? (source 412)")), "{csv}");

    // The console, and a headless Chromium.
    let mut console = mlc();
    console
        .arg("--config")
        .arg(dir.join("mlc.toml"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(["console", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = console.spawn().expect("mlc console starts");
    let stdout = child.stdout.take().expect("stdout");
    let _console = Reaper(child);
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).expect("the console prints its link");
    let link = first.trim().strip_prefix("console: ").expect("console: <url>").to_string();
    let base = link.split("/?").next().expect("base").to_string();

    let chrome = Chrome::start().await;
    let b = &chrome.browser;
    let http = reqwest::Client::new();
    let mut pages: Vec<(String, String)> = Vec::new();

    // 1. No token, no entry; the token works once.
    b.go(&format!("{base}/failures")).await;
    let src = b.source().await;
    assert!(src.contains("Sign-in needed") && !src.contains("NBS-301"), "refused without the token: {src}");
    b.shot("00-refused").await;
    b.go(&link).await;
    assert_eq!(b.url().await.trim_end_matches('/'), base, "the token is taken off the address");
    let today = b.source().await;
    assert!(today.contains("cin7-deltek-ap") && today.contains("posted today"), "{today}");
    b.shot("01-today").await;
    pages.push(("today".into(), today));
    let again = http.get(&link).send().await.expect("get");
    assert_eq!(again.status().as_u16(), 401, "a spent token opens nothing");
    let cookie = b.cookie("mlc_console").await.expect("session cookie");

    // 2. Replay a failure: the vendor was not approved for use; AP approves it in Deltek.
    b.go(&format!("{base}/failures")).await;
    let src = b.source().await;
    assert!(src.contains("NBS-301") && src.contains("not approved"), "the failure and its reason: {src}");
    b.shot("02-failures").await;
    pages.push(("failures".into(), src));
    {
        let mut st = deltek.system().lock();
        let firm = st
            .firms
            .iter_mut()
            .find(|f| f.name == "Newbridge Staffing LLC")
            .expect("the vendors flow created the firm");
        firm.approved_for_processing = true;
    }
    b.click("//tr[td/a[contains(., 'NBS-301')]]//input[@type='checkbox']").await;
    b.type_into("//form[@id='replay']//input[@name='reason']", "vendor approved in Deltek by AP").await;
    b.click("//button[@value='selected']").await;
    let src = b.wait_for(">posted<", 1).await;
    assert!(src.contains("NBS-301"), "{src}");
    b.shot("03-replayed").await;
    assert_eq!(vouchers(&deltek, "NBS-301").len(), 1, "the replayed bill posted");

    // 3. Fix the missing account mapping: exactly the two held bills post.
    b.go(&format!("{base}/mapping")).await;
    let src = b.source().await;
    assert!(src.contains("CLS-201") && src.contains("CLS-202") && src.contains(&format!(">{UNMAPPED}<")), "{src}");
    assert!(src.contains("<datalist"), "the target's accounts are offered: {src}");
    b.shot("04-needs-mapping").await;
    pages.push(("mapping".into(), src));
    let form = format!("//form[input[@name='source' and @value='{UNMAPPED}']]");
    b.type_into(&format!("{form}//input[@name='target']"), SURVEY_ACCOUNT).await;
    b.click(&format!("{form}//button")).await;
    let src = b.wait_for(">posted<", 2).await;
    assert!(
        src.contains("CLS-201") && src.contains("CLS-202") && !src.contains("CLS-101"),
        "exactly the held ones: {src}"
    );
    b.shot("05-released-posted").await;
    assert_eq!(vouchers(&deltek, "CLS-201"), vec![("CASCSURV".to_string(), Decimal::from(300))]);
    assert_eq!(vouchers(&deltek, "CLS-202").len(), 1);

    // 4. The possible duplicate, side by side, posted under another number.
    b.go(&format!("{base}/failures#review")).await;
    let src = b.source().await;
    assert!(src.contains("1,000.00") && src.contains("1,403.00") && src.contains("Already in the target"), "{src}");
    b.shot("06-review").await;
    b.type_into("//div[contains(@class,'card')]//input[@name='reason']", "two different survey bills").await;
    b.type_into("//div[contains(@class,'card')]//input[@name='number']", "CLS-401-2").await;
    b.click("//div[contains(@class,'card')]//button[@value='post_as']").await;
    b.wait_for(">posted<", 1).await;
    b.shot("07-reviewed-posted").await;
    assert_eq!(vouchers(&deltek, "CLS-401-2").len(), 1, "posted under the number the clerk gave");
    assert_eq!(vouchers(&deltek, "CLS-401").len(), 1);

    // 5. Item page, evidence pack, the other pages: no stored secret anywhere.
    b.click("//a[contains(., 'CLS-401')]").await;
    let item = b.source().await;
    assert!(item.contains("review_post_as") && item.contains("two different survey bills"), "{item}");
    assert!(
        item.contains("deltek GET") && item.contains("apDetail") && item.contains("<summary>response"),
        "the HTTP exchanges and bodies are shown: {item}"
    );
    b.shot("08-item").await;
    // Links into the systems: Deltek's app (from its API base URL); Cin7 named, no link (the
    // research sheet confirms no URL for a purchase's page).
    let app = format!("{}/app/", deltek.base_url().trim_end_matches('/').trim_end_matches("/api"));
    assert!(item.contains(&format!("href=\"{app}\"")), "a link into Deltek's app {app}: {item}");
    assert!(
        item.contains("Cin7 Core: purchase-invoice") && item.contains("no confirmed URL for a Cin7 Core document page"),
        "{item}"
    );
    pages.push(("item".into(), item.clone()));
    let evidence_href = {
        let at = item.find("/evidence?key=").expect("evidence link");
        let end = item[at..].find('"').expect("end");
        item[at..at + end].replace("&amp;", "&")
    };
    let pack = http
        .get(format!("{base}{evidence_href}"))
        .header("cookie", format!("mlc_console={cookie}"))
        .send()
        .await
        .expect("evidence");
    assert!(pack.headers()["content-disposition"].to_str().unwrap_or_default().starts_with("attachment"));
    let pack = pack.text().await.expect("text");
    assert!(pack.contains("<style>") && !pack.contains("/assets/style.css"), "self-contained");
    assert!(pack.contains("review_post_as") && pack.contains("CLS-401"));
    pages.push(("evidence".into(), pack));
    for (name, path) in [
        ("mappings", "/mappings"),
        ("connections", "/connections?ping=deltek"),
        ("items", "/items"),
        ("tieout", "/tieout"),
    ] {
        b.go(&format!("{base}{path}")).await;
        let src = b.source().await;
        b.shot(&format!("09-{name}")).await;
        pages.push((name.into(), src));
    }
    // 6. The controller's tie-out for June, read from both systems.
    b.go(&format!("{base}/tieout?period=2025-06")).await;
    let tie = b.source().await;
    b.shot("10-tieout").await;
    assert!(
        tie.contains("Differences and the documents behind them (1)"),
        "only the hand-keyed voucher differs now: {tie}"
    );
    assert!(tie.contains("MT-202506-4471") && tie.contains("entered outside ml-connector"), "{tie}");
    assert!(tie.contains("/tieout.csv?period=2025-06"), "CSV export offered: {tie}");
    pages.push(("tieout-june".into(), tie.clone()));
    let conns = &pages.iter().find(|(n, _)| n == "connections").expect("connections").1;
    assert!(conns.contains("client_secret") && conns.contains(">pass<"), "field names and ping results: {conns}");
    for (name, html) in &pages {
        for s in &secrets {
            assert!(!html.contains(s.as_str()), "the {name} page shows a stored secret");
        }
    }
}

/// Beyond loopback only with a password (refused before anything listens); with one, `/login`
/// opens a session and a wrong password does not.
#[tokio::test]
async fn binding_beyond_loopback_needs_a_password_and_the_password_signs_in() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let out = mlc()
        .arg("--data-dir")
        .arg(&data)
        .args(["console", "--listen", "0.0.0.0:0"])
        .env_remove("MLC_CONSOLE_PASSWORD")
        .output()
        .expect("mlc console");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("beyond loopback") && err.contains("MLC_CONSOLE_PASSWORD"), "{err}");

    let mut child = mlc()
        .arg("--data-dir")
        .arg(&data)
        // (On loopback: tests never listen beyond it; the password works the same there.)
        .args(["console", "--listen", "127.0.0.1:0", "--no-worker"])
        .env("MLC_CONSOLE_PASSWORD", "correct horse battery")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("mlc console");
    let stdout = child.stdout.take().expect("stdout");
    let _console = Reaper(child);
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).expect("link");
    let base = first.trim().trim_start_matches("console: ").split("/?").next().expect("base").to_string();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    assert_eq!(http.get(format!("{base}/")).send().await.expect("get").status().as_u16(), 401);
    let wrong = http.post(format!("{base}/login")).form(&[("password", "wrong")]).send().await.expect("post");
    assert_eq!(wrong.status().as_u16(), 401);
    assert!(wrong.headers().get("set-cookie").is_none());
    let right =
        http.post(format!("{base}/login")).form(&[("password", "correct horse battery")]).send().await.expect("post");
    assert_eq!(right.status().as_u16(), 303);
    let cookie = right.headers()["set-cookie"].to_str().expect("cookie").split(';').next().expect("kv").to_string();
    let today = http.get(format!("{base}/")).header("cookie", cookie).send().await.expect("get");
    assert_eq!(today.status().as_u16(), 200);
    assert!(!today.text().await.expect("text").contains("correct horse battery"));
}

/// `mlc console --backend aws`: the same pages over the deployed stack's DynamoDB table, SQS queue
/// and Secrets Manager (moto on loopback here): a failed item is listed, replayed from the page
/// (the hint goes to SQS for the poster function; the console does not post), and the stored
/// credential value never shows.
#[tokio::test]
async fn the_console_runs_against_the_aws_stack() {
    use mlc_aws::testing::moto;
    use mlc_aws::{DynamoStore, SecretsManagerStore, SqsQueue};
    use mlc_core::engine::model::{
        AuditEntry, FailureClass, Hint, ItemKey, ItemState, ItemSummary, NewItem, Origin, Transition,
    };
    use mlc_core::engine::ports::{Queue, SecretStore, Store};
    use mlc_core::secret::Credentials;

    let m = moto();
    let queue = m.queue(5).await;
    let mut settings = m.settings(5).await;
    settings.queue_url = queue.queue_url().to_string();
    settings.dlq_url = queue.dlq_url().map(str::to_string);
    let sdk = m.sdk_config().await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &settings.table);
    let sqs = SqsQueue::new(aws_sdk_sqs::Client::new(&sdk), &settings.queue_url, settings.dlq_url.clone());
    let secrets = SecretsManagerStore::new(aws_sdk_secretsmanager::Client::new(&sdk), &settings.secret_prefix);
    let secret = "aws-stored-application-key-7731";
    secrets
        .put("cin7", &Credentials::new().with("account_id", "acct").with("application_key", secret))
        .await
        .expect("put");
    let now = chrono::Utc::now();
    let new = NewItem {
        hint: Hint::new("cin7-deltek-ap", "cin7", "purchase", "p-aws-1", Origin::Poll, now),
        entity: "purchase-invoice".into(),
        doc_id: "p-aws-1/invoice/p-aws-1".into(),
        version: "v1".into(),
        summary: ItemSummary { label: "invoice AWS-77 from Cascade".into(), ..Default::default() },
        read_at: now,
    };
    let (item, _) = store.register(new, now).await.expect("register");
    let mut t = Transition::to(ItemState::Failed, AuditEntry::new(now, "test", "failed", "refused"))
        .reason("Vendor CASCSURV is not approved for use in processing.");
    t.failure = Some(FailureClass::Permanent);
    store.transition(&item.key, "test", t, now).await.expect("fail it");

    let dir = tempfile::tempdir().expect("tmp");
    // The console talks to AWS through a counting relay (every call forwarded to moto).
    let relay = mlc_aws::testing::CountingRelay::start(m.endpoint()).await;
    let endpoint = relay.url().to_string();
    let secret_reads = || relay.count("SecretsManager GetSecretValue");
    let mut child = mlc()
        .current_dir(dir.path())
        .args(["console", "--listen", "127.0.0.1:0"])
        .env("MLC_BACKEND", "aws")
        .env("MLC_TABLE", &settings.table)
        .env("MLC_QUEUE_URL", &settings.queue_url)
        .env("MLC_DLQ_URL", settings.dlq_url.as_deref().unwrap_or_default())
        .env("MLC_SECRET_PREFIX", &settings.secret_prefix)
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", dir.path().join("no-aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("no-aws-credentials"))
        .env_remove("AWS_PROFILE")
        .env_remove("MLC_CONFIG")
        .env_remove("MLC_DATA_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("mlc console --backend aws");
    let stdout = child.stdout.take().expect("stdout");
    let _console = Reaper(child);
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).expect("link");
    let link = first.trim().trim_start_matches("console: ").to_string();
    let base = link.split("/?").next().expect("base").to_string();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let r = http.get(&link).send().await.expect("token");
    let cookie = r.headers()["set-cookie"].to_str().expect("cookie").split(';').next().expect("kv").to_string();
    let get = |path: &str| {
        let (http, cookie, url) = (http.clone(), cookie.clone(), format!("{base}{path}"));
        async move { http.get(url).header("cookie", cookie).send().await.expect("get").text().await.expect("text") }
    };
    let failures = get("/failures").await;
    assert!(failures.contains("AWS-77") && failures.contains("not approved"), "{failures}");
    assert!(failures.contains("AWS: table"), "the header says where the state lives: {failures}");
    let before = sqs.depth().await.expect("depth");
    let replay = http
        .post(format!("{base}/replay"))
        .header("cookie", &cookie)
        .form(&[("key", item.key.as_str()), ("reason", "approved in Deltek"), ("scope", "selected")])
        .send()
        .await
        .expect("replay");
    assert_eq!(replay.status().as_u16(), 303);
    let after = sqs.depth().await.expect("depth");
    assert_eq!(after.ready + after.delayed, before.ready + before.delayed + 1, "the replay went to SQS");
    let trail = store.audit_trail(&ItemKey(item.key.0.clone())).await.expect("trail");
    assert!(
        trail.iter().any(|e| e.event == "replay_requested" && e.message.contains("approved in Deltek")),
        "{trail:?}"
    );
    for path in [
        "/",
        "/failures",
        "/items",
        "/mappings",
        "/connections",
        &format!("/item?key={}", item.key.0.replace('#', "%23")),
    ] {
        assert!(!get(path).await.contains(secret), "{path} shows a stored secret");
    }
    // Scrubbing reads the secrets once per cache period, not once per connection per page view.
    let item_page = format!("/item?key={}", item.key.0.replace('#', "%23"));
    let before = secret_reads();
    for _ in 0..5 {
        let html = get(&item_page).await;
        assert!(html.contains("AWS-77") && !html.contains(secret), "{html}");
    }
    let evidence = get(&format!("/evidence?key={}", item.key.0.replace('#', "%23"))).await;
    assert!(!evidence.contains(secret));
    let reads = secret_reads() - before;
    assert!(reads <= 1, "six item views read Secrets Manager {reads} times");
    assert!(before >= 1, "the relay saw the console's secret reads at all ({before})");
}

/// A console on its own data directory with `[console]` settings; its stdout stays readable (a
/// renewed link is printed there).
fn console_with(
    dir: &Path,
    console_settings: &str,
    password: Option<&str>,
) -> (Reaper, BufReader<std::process::ChildStdout>, String) {
    std::fs::write(dir.join("mlc.toml"), format!("[console]\n{console_settings}\n")).expect("config");
    let mut cmd = mlc();
    cmd.arg("--config")
        .arg(dir.join("mlc.toml"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(["console", "--listen", "127.0.0.1:0", "--no-worker"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    match password {
        Some(p) => cmd.env("MLC_CONSOLE_PASSWORD", p),
        None => cmd.env_remove("MLC_CONSOLE_PASSWORD"),
    };
    let mut child = cmd.spawn().expect("mlc console");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    out.read_line(&mut first).expect("link");
    (Reaper(child), out, first.trim().trim_start_matches("console: ").to_string())
}

/// Sessions expire: idle for `idle_timeout`, or older than `absolute_timeout` however busy; an
/// expired session goes back to the sign-in page with a message saying which. Without a console
/// password a new one-time link is printed where the console runs, and it opens a new session.
#[tokio::test]
async fn sessions_expire_when_idle_or_too_old_and_go_back_to_sign_in() {
    let (a, b) = (tempfile::tempdir().expect("tmp"), tempfile::tempdir().expect("tmp"));
    let (_idle_console, mut idle_out, idle_link) = console_with(a.path(), "idle_timeout = \"1s\"", None);
    let (_old_console, _, old_link) =
        console_with(b.path(), "idle_timeout = \"8h\"\nabsolute_timeout = \"1s\"", Some("correct horse battery"));
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let open = |link: String| {
        let http = http.clone();
        async move {
            let r = http.get(&link).send().await.expect("token");
            assert_eq!(r.status().as_u16(), 303, "{link}");
            r.headers()["set-cookie"].to_str().expect("cookie").split(';').next().expect("kv").to_string()
        }
    };
    let base = |link: &str| link.split("/?").next().expect("base").to_string();
    let (idle_cookie, old_cookie) = (open(idle_link.clone()).await, open(old_link.clone()).await);
    let get = |url: String, cookie: String| {
        let http = http.clone();
        async move { http.get(url).header("cookie", cookie).send().await.expect("get") }
    };
    assert_eq!(get(format!("{}/", base(&idle_link)), idle_cookie.clone()).await.status().as_u16(), 200);
    assert_eq!(get(format!("{}/", base(&old_link)), old_cookie.clone()).await.status().as_u16(), 200);
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Idle: back to sign-in with the reason, the cookie cleared, a new link printed.
    let r = get(format!("{}/mappings", base(&idle_link)), idle_cookie.clone()).await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/login?expired=idle");
    assert!(r.headers()["set-cookie"].to_str().expect("cookie").contains("Max-Age=0"));
    let page = get(format!("{}/login?expired=idle", base(&idle_link)), String::new()).await;
    assert_eq!(page.status().as_u16(), 401);
    let text = page.text().await.expect("text");
    assert!(text.contains("Session expired") && text.contains("idle_timeout") && text.contains("1s"), "{text}");
    let again = get(format!("{}/", base(&idle_link)), idle_cookie).await;
    assert_eq!(again.status().as_u16(), 401, "the expired session is gone");
    let mut renewed = String::new();
    idle_out.read_line(&mut renewed).expect("renewed link");
    let new_link = renewed.trim().split("new link: ").nth(1).expect("a new link is printed").to_string();
    let cookie = open(new_link).await;
    assert_eq!(get(format!("{}/", base(&idle_link)), cookie).await.status().as_u16(), 200);

    // Too old (in use, but past absolute_timeout): sign in again with the password.
    let r = get(format!("{}/", base(&old_link)), old_cookie).await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/login?expired=age");
    let page = get(format!("{}/login?expired=age", base(&old_link)), String::new()).await;
    assert_eq!(page.status().as_u16(), 200);
    let text = page.text().await.expect("text");
    assert!(text.contains("absolute_timeout") && text.contains("type=\"password\""), "{text}");
}

/// The controller ties a Coupa → Deltek month out in the browser: Larkspur & Vale's Coupa
/// invoices (the demo firm, a few of them) posted by the real `mlc`, a voucher keyed by hand in
/// Deltek, then `mlc tieout --flow coupa-deltek-ap` and the Tie-out page read both systems: totals
/// by vendor, by GL account and project on both sides (Coupa's coding through the mappings), the
/// credit note on its own line, every difference explained (already exported by the previous
/// process, not approved yet, entered outside ml-connector); and no stored secret in the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_controller_ties_out_a_coupa_month_in_the_browser() {
    use mlc_sim::coupa::deltek_seed::{GL_MAP, architecture_firm_deltek, gl_mapping, project_mapping, vendor_number};
    use mlc_sim::coupa::scenario::{PROJECTS, architecture_firm};
    use mlc_sim::coupa::{CoupaSim, CoupaSwitches, DEFAULT_SEED};
    use mlc_sim::deltek::DeltekScenario;
    use mlc_sim::world::SimWorld;

    let clock = SimClock::manual_default();
    let today = clock.now().date_naive();
    let mut world = SimWorld::new(clock.clone());
    let deltek = world.add(
        "deltek",
        DeltekSim::builder()
            .clock(clock.clone())
            .scenario(architecture_firm_deltek(DEFAULT_SEED, today))
            .start()
            .await
            .expect("deltek"),
    );
    let coupa = world.add(
        "coupa",
        CoupaSim::builder()
            .clock(clock.clone())
            .scenario(architecture_firm(DEFAULT_SEED, 12))
            .switches(CoupaSwitches::default())
            .start()
            .await
            .expect("coupa"),
    );
    world.set_option("coupa", "token_activation_wait_ms", json!(50));
    world.set_option("coupa", "retry_base_ms", json!(20));
    world.set_option("deltek", "vouchers_per_file", json!(10));
    world.set_option("deltek", "batch_linger_ms", json!(30));
    world.set_option("deltek", "max_calls_per_second", json!(300));

    // The month of the firm's credit note, and a voucher the AP clerk keyed by hand in it.
    let (credit_note, date, vendor) = {
        let st = coupa.lock();
        let cn = st.invoices.iter().find(|i| i.document_type == "Credit Note").expect("the firm has a credit note");
        let supplier = st.supplier(cn.supplier_id).expect("its supplier");
        (cn.invoice_number.clone(), cn.invoice_date.expect("dated"), vendor_number(&supplier.name))
    };
    let period = date.format("%Y-%m").to_string();
    let account = GL_MAP.iter().find(|g| g.0 == "5210").map_or("51200", |g| g.1);
    let period_no = i64::from(chrono::Datelike::year(&date)) * 100 + i64::from(chrono::Datelike::month(&date));
    let file = mlc_sim::deltek::state::ApFile::new("HANDKEYED0701", "Keyed by hand (AP clerk)", period_no).voucher(
        &vendor,
        "HAND-7001",
        date.and_hms_opt(0, 0, 0),
        &[(PROJECTS[3].1, "", "", account, Decimal::new(12345, 2), "Plotter paper (keyed by hand)")],
    );
    deltek.seed_scenario(&DeltekScenario::new().ap_file(file, false)).expect("seed the hand-keyed voucher");

    // The home: the world's connections, two flows, credentials and the finance team's mappings.
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let flows = "\n[flows.coupa-deltek-vendors]\nsource = \"coupa\"\ntarget = \"deltek\"\nevery = \"15m\"\n\n\
                 [flows.coupa-deltek-ap]\nsource = \"coupa\"\ntarget = \"deltek\"\nevery = \"15m\"\n\
                 options = { initial_lookback_days = 0 }\n";
    let secrets = home_for(dir, &world, flows);
    let mut csv = String::from("scope,kind,source,target\n");
    for (c, d) in gl_mapping() {
        csv.push_str(&format!("coupa-deltek,account,{c},{d}\n"));
    }
    for (c, d) in project_mapping() {
        csv.push_str(&format!("coupa-deltek,project,{c},{d}\n"));
    }
    std::fs::write(dir.join("m.csv"), csv).expect("csv");
    run_mlc(dir, &["mappings", "import", dir.join("m.csv").to_str().expect("path")], None);
    run_mlc(dir, &["run", "coupa-deltek-vendors"], None);
    run_mlc(dir, &["run", "coupa-deltek-ap"], None);

    // `mlc tieout` for the Coupa flow.
    let text = run_mlc(dir, &["tieout", "--flow", "coupa-deltek-ap", "--period", &period], None);
    for needle in ["Coupa approved", "HAND-7001", "entered outside ml-connector", "credit notes:", &credit_note] {
        assert!(text.contains(needle), "the Coupa tie-out names {needle:?}: {text}");
    }
    let not_ap = {
        let mut cmd = mlc();
        cmd.arg("--config").arg(dir.join("mlc.toml")).arg("--data-dir").arg(dir.join("data"));
        cmd.args(["tieout", "--flow", "coupa-deltek-vendors", "--period", &period]).output().expect("mlc")
    };
    assert!(!not_ap.status.success());
    assert!(String::from_utf8_lossy(&not_ap.stderr).contains("does not post AP into Deltek"));

    // The page, in the browser.
    let mut console = mlc();
    console
        .arg("--config")
        .arg(dir.join("mlc.toml"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(["console", "--listen", "127.0.0.1:0", "--no-worker"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = console.spawn().expect("mlc console starts");
    let stdout = child.stdout.take().expect("stdout");
    let _console = Reaper(child);
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).expect("the console prints its link");
    let link = first.trim().strip_prefix("console: ").expect("console: <url>").to_string();
    let base = link.split("/?").next().expect("base").to_string();
    let chrome = Chrome::start().await;
    let b = &chrome.browser;
    b.go(&link).await;
    b.go(&format!("{base}/tieout?period={period}&flow=coupa-deltek-ap")).await;
    let tie = b.wait_for("Read from Coupa and Deltek Vantagepoint", 1).await;
    b.shot("20-tieout-coupa").await;
    let credit_note_html = credit_note.replace('&', "&amp;");
    for needle in [
        "Read from Coupa and Deltek Vantagepoint",
        "By vendor",
        "By GL account",
        "By project (WBS1)",
        "Credit notes (",
        credit_note_html.as_str(),
        "Coupa marks it exported",
        "HAND-7001",
        "entered outside ml-connector",
        account,
        "/tieout.csv?period=",
    ] {
        assert!(tie.contains(needle), "the Coupa tie-out page shows {needle:?}: {tie}");
    }
    assert!(!tie.contains("lines not read"), "Coupa gives every line: {tie}");
    let csv = http_get_csv(&b.cookie("mlc_console").await.expect("cookie"), &base, &period).await;
    // The credit note posted as a negative voucher of the same amount: it ties.
    let row: Vec<&str> = csv
        .lines()
        .find(|l| l.contains(",credit note,") && l.contains(&credit_note))
        .unwrap_or_else(|| panic!("no credit note row: {csv}"))
        .split(',')
        .collect();
    assert!(row[5].starts_with('-') && row[5] == row[6] && row[8] == "approved", "{row:?}");
    for s in &secrets {
        assert!(!tie.contains(s.as_str()), "the tie-out page shows a stored secret");
    }
}

async fn http_get_csv(cookie: &str, base: &str, period: &str) -> String {
    reqwest::Client::new()
        .get(format!("{base}/tieout.csv?period={period}&flow=coupa-deltek-ap"))
        .header("cookie", format!("mlc_console={cookie}"))
        .send()
        .await
        .expect("csv")
        .text()
        .await
        .expect("text")
}

/// A home in `dir` for a world of simulators: its connections and `flows` in `mlc.toml`, each
/// connection's credentials set with `mlc credentials set`. Returns the stored secret values.
fn home_for(dir: &Path, world: &mlc_sim::world::SimWorld, flows: &str) -> Vec<String> {
    let mut toml = String::from(
        "[engine]\nworkers = 4\nlock_ttl_secs = 10\nin_doubt_settle_secs = 3\nhttp_timeout_secs = 2\n\
         settle_margin_ms = 1000\nretry_base_ms = 200\nretry_cap_secs = 2\nbusy_retry_ms = 200\n",
    );
    for (name, c) in world.connection_settings() {
        toml.push_str(&format!("\n[connections.{name}]\nsystem = {:?}\nbase_url = {:?}\n", c.system, c.base_url));
        for (k, v) in &c.options {
            toml.push_str(&format!("{k} = {v}\n"));
        }
    }
    toml.push_str(flows);
    std::fs::write(dir.join("mlc.toml"), toml).expect("config");
    let mut secrets = Vec::new();
    for name in world.connections() {
        let conn = world.connection(name).expect("connection");
        let mut lines = String::new();
        for (k, v) in conn.credentials {
            let text = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            lines.push_str(&format!("{k}={text}\n"));
            if text.len() >= 8 {
                secrets.push(text);
            }
        }
        run_mlc(dir, &["credentials", "set", name], Some(&lines));
    }
    secrets
}

/// Procore's side of the tie-out, read from the Procore simulator (a general contractor's
/// projects) before anything posted: `mlc tieout` for the subcontractor-invoice flow lists exactly
/// the requisitions Procore holds approved and dated in the month, and the direct-cost flow
/// exactly the approved invoice-type direct costs; each is a difference explained (no vendor
/// mapping, or not seen by ml-connector yet). GL accounts come from the cost types the way the
/// flows place lines (the `cost_type` mappings): every approved dollar lands on a mapped Deltek
/// job-cost account, and the account totals add up to Procore's total; with `--lines` the direct
/// costs' lines are read too, and without it the page says which GL accounts are missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn procore_subcontractor_invoices_and_direct_costs_tie_out_from_procore_itself() {
    use mlc_sim::procore::deltek_seed::{COST_TYPE_ACCOUNTS, summit_ridge};
    use mlc_sim::procore::scenario::general_contractor;
    use mlc_sim::procore::{ProcoreSim, ProcoreSwitches};
    use mlc_sim::world::SimWorld;

    let clock = SimClock::manual_default();
    let mut world = SimWorld::new(clock.clone());
    world.add(
        "deltek",
        DeltekSim::builder().clock(clock.clone()).scenario(summit_ridge(2)).start().await.expect("deltek"),
    );
    let procore = world.add(
        "procore",
        ProcoreSim::builder()
            .clock(clock.clone())
            .scenario(general_contractor(mlc_sim::procore::scenario::DEFAULT_SEED, 2))
            .switches(ProcoreSwitches::default())
            .start()
            .await
            .expect("procore"),
    );
    // For each flow, the month holding most of its approved documents, and how many Procore holds.
    let busiest = |dates: Vec<NaiveDate>| {
        let mut months: std::collections::BTreeMap<String, usize> = Default::default();
        for d in dates {
            *months.entry(d.format("%Y-%m").to_string()).or_default() += 1;
        }
        months.into_iter().max_by_key(|(_, n)| *n).expect("approved documents")
    };
    let (requisitions, direct_costs) = {
        let st = procore.lock();
        let reqs = st
            .requisitions
            .iter()
            .filter(|r| r.status == "approved")
            .filter_map(|r| r.billing_date.or(r.requisition_end))
            .collect();
        let costs = st
            .direct_costs
            .iter()
            .filter(|d| d.status == "approved" && d.direct_cost_type == "invoice")
            .filter_map(|d| d.direct_cost_date)
            .collect();
        (busiest(reqs), busiest(costs))
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    home_for(
        dir,
        &world,
        "\n[flows.procore-deltek-ap-subcontract]\nsource = \"procore\"\ntarget = \"deltek\"\n\
         \n[flows.procore-deltek-ap-direct]\nsource = \"procore\"\ntarget = \"deltek\"\n",
    );
    let mut csv = String::from("scope,kind,source,target\n");
    for (cost_type, account, _) in COST_TYPE_ACCOUNTS {
        csv.push_str(&format!("procore-deltek,cost_type,{cost_type},{account}\n"));
    }
    std::fs::write(dir.join("m.csv"), csv).expect("csv");
    run_mlc(dir, &["mappings", "import", dir.join("m.csv").to_str().expect("path")], None);
    let job_cost: std::collections::BTreeSet<&str> = COST_TYPE_ACCOUNTS.iter().map(|(_, a, _)| *a).collect();
    for (flow, (period, expected), lines) in [
        ("procore-deltek-ap-subcontract", requisitions.clone(), false),
        ("procore-deltek-ap-direct", direct_costs.clone(), true),
        ("procore-deltek-ap-direct", direct_costs, false),
    ] {
        assert!(expected > 0);
        let mut args = vec!["--json", "tieout", "--flow", flow, "--period", &period];
        if lines {
            args.push("--lines");
        }
        let out = run_mlc(dir, &args, None);
        let json = &out[out.find('{').unwrap_or(0)..out.rfind('}').map_or(out.len(), |e| e + 1)];
        let t: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{flow}: not JSON ({e}): {out}"));
        assert_eq!(t["source_system"], "Procore", "{t}");
        assert_eq!(t["source_documents"].as_u64(), Some(expected as u64), "{flow} in {period}: {t}");
        let diffs = t["differences"].as_array().expect("differences");
        assert!(
            diffs.iter().filter(|d| d["kind"] != "voucher").count() >= expected,
            "every approved document not in Deltek is a difference: {t}"
        );
        for d in diffs.iter().filter(|d| d["kind"] != "voucher") {
            let why = d["explanation"].as_str().unwrap_or_default();
            assert!(why.contains("no vendor mapping") || why.contains("not seen by ml-connector"), "{d}");
        }
        // By GL account: the lines through the cost type mappings, adding up to Procore's total.
        let accounts = t["accounts"].as_array().expect("accounts");
        let amount =
            |l: &Value| l["source"].as_str().and_then(|a| a.parse::<rust_decimal::Decimal>().ok()).unwrap_or_default();
        let total: rust_decimal::Decimal = accounts.iter().map(amount).sum();
        assert_eq!(total, amount(&serde_json::json!({"source": t["source_total"]})), "{flow}: {t}");
        let on_job_cost: rust_decimal::Decimal =
            accounts.iter().filter(|l| job_cost.contains(l["code"].as_str().unwrap_or_default())).map(amount).sum();
        let without = accounts.iter().find(|l| l["code"] == "(no GL account in the source)");
        if flow.ends_with("subcontract") || lines {
            assert_eq!(on_job_cost, total, "{flow} (lines {lines}): every dollar on a mapped job-cost account: {t}");
            assert!(without.is_none() && t["limits"].as_array().is_some_and(Vec::is_empty), "{t}");
        } else {
            // The direct cost list gives no lines: the page says so, and the amounts wait
            // under "(no GL account in the source)".
            assert!(t["limits"][0].as_str().unwrap_or_default().contains("\"lines\""), "{t}");
            assert!(without.is_some_and(|l| !amount(l).is_zero()), "{t}");
        }
    }
}
