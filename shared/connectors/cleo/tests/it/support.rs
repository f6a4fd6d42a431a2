//! Starting a simulator and a client for it.

use mlc_cleo::CleoClient;
use mlc_core::secret::Credentials;
use mlc_sim::cleo::scenario::demo;
use mlc_sim::cleo::{CleoSim, CleoSimBuilder};
use mlc_sim::common::{SimClock, SimHandle, SimSystem};
use serde_json::{Value, json};

pub struct Env {
    pub sim: SimHandle<CleoSim>,
    pub client: CleoClient,
}

impl Env {
    /// Another client on the same simulator (another process), with these extra options.
    pub fn client(&self, extra: Value) -> CleoClient {
        client_for(&self.sim, extra, demo::USERNAME, demo::PASSWORD)
    }

    pub fn client_as(&self, user: &str, password: &str, extra: Value) -> CleoClient {
        client_for(&self.sim, extra, user, password)
    }

    pub async fn action(&self, name: &str, args: Value) -> Value {
        self.sim.system().clone().action(name.to_string(), args).await.expect("sim action")
    }

    pub fn count(&self, method: &str, route: &str) -> usize {
        self.sim.calls().count(method, route)
    }

    pub fn grants(&self) -> Vec<String> {
        self.sim.system().lock().grants.clone()
    }

    pub fn files(&self, mailbox: &str, folder: &str) -> Vec<(String, Vec<u8>)> {
        self.sim.system().files(mailbox, folder)
    }
}

pub fn builder() -> CleoSimBuilder {
    CleoSim::builder().clock(SimClock::manual_default())
}

pub async fn start() -> Env {
    start_with(builder(), json!({})).await
}

pub async fn start_opts(extra: Value) -> Env {
    start_with(builder(), extra).await
}

/// A simulator from `b` with its rate limit off (the manual clock never lets a window pass), and
/// a client with fast retries.
pub async fn start_with(b: CleoSimBuilder, extra: Value) -> Env {
    let sim = b.start().await.expect("simulator starts");
    sim.system().set_switch(|s| s.rate_limit_per_second = 0);
    let client = client_for(&sim, extra, demo::USERNAME, demo::PASSWORD);
    Env { sim, client }
}

/// Options for the demo folders; `extra` keys replace them.
pub fn options(sim: &SimHandle<CleoSim>, extra: Value) -> Value {
    let f = |m: &str, f: &str, d: &str| json!({"mailbox": m, "folder": f, "direction": d});
    let mut o = json!({
        "base_url": sim.base_url(),
        "requests_per_second": 0,
        "retry_base_ms": 2,
        "timeout_secs": 5,
        "max_attempts": 4,
        "page_size": 100,
        "folders": {
            "statedot-out": f("STATEDOT", "to-partner", "outbound"),
            "statedot-in": f("STATEDOT", "from-partner", "inbound"),
            "harborco-out": f("HARBORCO", "inbox", "outbound"),
            "harborco-in": f("HARBORCO", "outbox", "inbound"),
            "riverton-out": f("RIVERTON", "810/out", "outbound"),
            "riverton-in": f("RIVERTON", "997/in", "inbound"),
            "granite-in": f("GRANITERIDGE", "inbound", "inbound"),
            "granite-acks": f("GRANITERIDGE", "acks", "outbound"),
        },
    });
    if let (Value::Object(o), Value::Object(e)) = (&mut o, extra) {
        o.extend(e);
    }
    o
}

pub fn credentials(user: &str, password: &str) -> Credentials {
    Credentials::new().with("username", user).with("password", password)
}

pub fn client_for(sim: &SimHandle<CleoSim>, extra: Value, user: &str, password: &str) -> CleoClient {
    CleoClient::from_options("cleo", &options(sim, extra), &credentials(user, password)).expect("client builds")
}

/// An X12 810 the way the outbound flow will produce it (ASCII, `~` + CRLF terminators).
pub fn edi(n: u32) -> Vec<u8> {
    format!(
        "ISA*00*          *00*          *ZZ*CASCADERIDGE   *ZZ*STATEDOTAP     *250616*1430*U*00401*{n:09}*0*P*>~\r\n\
         GS*IN*CASCADERIDGE*STATEDOTAP*20250616*1430*{n}*X*004010~\r\nST*810*0001~\r\nBIG*20250616*{n}~\r\n\
         TDS*10000~\r\nSE*4*0001~\r\nGE*1*{n}~\r\nIEA*1*{n:09}~\r\n"
    )
    .into_bytes()
}
