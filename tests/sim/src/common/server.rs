//! Starting a simulator: bind on loopback, wrap the system's router with the call log and the
//! fault layer, mount `/__sim`, and hand back a [`SimHandle`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::conn::{ConnKill, SimListener};
use super::{AfterHold, CallRecord, Fault, SimError, SimKit, SimSystem, control};

/// A running simulator. Dropping the handle stops the server (without waiting);
/// [`SimHandle::shutdown`] stops it and waits.
pub struct SimHandle<S: ?Sized + SimSystem> {
    addr: SocketAddr,
    root_url: String,
    base_url: String,
    credentials: Value,
    kit: SimKit,
    system: Arc<S>,
    task: Option<JoinHandle<()>>,
    _guard: StopOnDrop,
}

struct StopOnDrop(super::Shutdown);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.trigger();
    }
}

impl<S: ?Sized + SimSystem> std::fmt::Debug for SimHandle<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle").field("system", &self.system.name()).field("base_url", &self.base_url).finish()
    }
}

impl<S: ?Sized + SimSystem> SimHandle<S> {
    /// The socket address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn root_url(&self) -> &str {
        &self.root_url
    }

    /// The URL a client is configured with (root + the system's base path).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `http://127.0.0.1:<port>/__sim`.
    pub fn control_url(&self) -> String {
        format!("{}/__sim", self.root_url)
    }

    /// The demo credentials a client needs.
    pub fn credentials(&self) -> &Value {
        &self.credentials
    }

    /// The simulated clock.
    pub fn clock(&self) -> &super::SimClock {
        &self.kit.clock
    }

    /// The fault table.
    pub fn faults(&self) -> &super::FaultTable {
        &self.kit.faults
    }

    /// The request log.
    pub fn calls(&self) -> &super::CallLog {
        &self.kit.calls
    }

    /// The kit (clock, faults, calls, webhooks, shutdown).
    pub fn kit(&self) -> &SimKit {
        &self.kit
    }

    /// The system, for in-process seeding and inspection.
    pub fn system(&self) -> &Arc<S> {
        &self.system
    }

    /// `{"system", "base_url", "settings", "credentials"}`: what `mlc sim` prints. `settings` are
    /// the connection's settings for `mlc.toml`; `credentials` the fields `mlc credentials set`
    /// takes (pipe `.credentials` to it).
    pub fn info(&self) -> Value {
        let c = self.connection();
        json!({ "system": self.system.name(), "base_url": self.base_url, "settings": c.settings, "credentials": c.credentials })
    }

    /// How ml-connector connects to this simulator.
    pub fn connection(&self) -> super::SimConnection {
        self.system.connection(&self.base_url)
    }

    /// [`SimHandle::info`] as one line with the keys in the documented order (`system`,
    /// `base_url`, `credentials`), as `mlc sim` prints it first.
    pub fn info_line(&self) -> String {
        self.info().to_string()
    }

    /// Stop accepting, release held responses, and wait (up to 5 s) for open connections.
    pub async fn shutdown(mut self) {
        self.kit.shutdown.trigger();
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task).await.is_err() {
                abort.abort();
            }
        }
    }

    /// Wait until the server stops (after [`super::Shutdown::trigger`] on the kit's shutdown).
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl<S: SimSystem> SimHandle<S> {
    /// Forget the concrete system type (for `mlc demo`, which holds every system alike).
    pub fn into_dyn(self) -> SimHandle<dyn SimSystem> {
        SimHandle {
            addr: self.addr,
            root_url: self.root_url,
            base_url: self.base_url,
            credentials: self.credentials,
            kit: self.kit,
            system: self.system,
            task: self.task,
            _guard: self._guard,
        }
    }
}

#[derive(Clone)]
struct LayerCtx {
    system: Arc<dyn SimSystem>,
    kit: SimKit,
}

/// Serve `system` on `127.0.0.1:port` (0 = any free port).
pub async fn start<S: SimSystem>(system: Arc<S>, kit: SimKit, port: u16) -> Result<SimHandle<S>, SimError> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    let addr = listener.local_addr()?;
    let root_url = format!("http://{addr}");
    let base_url = format!("{root_url}{}", system.base_path());
    let credentials = system.credentials(&base_url);

    let dyn_system: Arc<dyn SimSystem> = system.clone();
    let info = json!({ "system": system.name(), "base_url": base_url, "credentials": credentials });
    let api = dyn_system
        .clone()
        .router()
        .layer(middleware::from_fn_with_state(LayerCtx { system: dyn_system.clone(), kit: kit.clone() }, sim_layer));
    let app = control::router(dyn_system, kit.clone(), info).fallback_service(api);

    let shutdown = kit.shutdown.clone();
    let task = tokio::spawn(async move {
        let serve = axum::serve(SimListener(listener), app.into_make_service_with_connect_info::<ConnKill>())
            .with_graceful_shutdown(async move { shutdown.wait().await });
        if let Err(e) = serve.await {
            tracing::warn!(error = %e, "simulator server stopped with an error");
        }
    });

    Ok(SimHandle {
        addr,
        root_url,
        base_url,
        credentials,
        kit: kit.clone(),
        system,
        task: Some(task),
        _guard: StopOnDrop(kit.shutdown),
    })
}

/// Call log + fault injection around the system's router.
async fn sim_layer(State(ctx): State<LayerCtx>, req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_ascii_uppercase();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let route = ctx.system.route_of(req.method(), &path);
    let kill = req.extensions().get::<ConnectInfo<ConnKill>>().map(|c| c.0.clone());
    let seq = ctx.kit.calls.push(CallRecord {
        seq: 0,
        at: ctx.kit.clock.now(),
        method: method.clone(),
        path: path.clone(),
        query,
        route: route.clone(),
        status: None,
        fault: None,
    });
    let decision = ctx.kit.faults.decide(&method, route.as_deref(), &path);
    if decision.latency_ms > 0 {
        hold(&ctx.kit, decision.latency_ms).await;
    }
    let Some(fault) = decision.fault else {
        let resp = next.run(req).await;
        ctx.kit.calls.finish(seq, Some(resp.status().as_u16()), None);
        return resp;
    };
    match fault {
        Fault::Latency { .. } => {
            let resp = next.run(req).await;
            ctx.kit.calls.finish(seq, Some(resp.status().as_u16()), None);
            resp
        }
        Fault::Status { status, retry_after_secs, retry_after_http_date, body, content_type } => {
            let (default_ct, default_body) = ctx.system.fault_body(status);
            let (ct, body) = match body {
                Some(b) => (content_type.unwrap_or_else(|| "application/json; charset=utf-8".into()), b),
                None => (default_ct, default_body),
            };
            let mut resp = plain(status, &ct, body);
            if let Some(secs) = retry_after_secs {
                let value = if retry_after_http_date {
                    httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(secs))
                } else {
                    secs.to_string()
                };
                if let Ok(v) = HeaderValue::from_str(&value) {
                    resp.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            ctx.kit.calls.finish(seq, Some(status), Some(format!("status_{status}")));
            resp
        }
        Fault::Html502 => {
            ctx.kit.calls.finish(seq, Some(502), Some("html502".into()));
            plain(502, "text/html", HTML_502.to_string())
        }
        Fault::Reset => {
            ctx.kit.calls.finish(seq, None, Some("reset".into()));
            reset(kill)
        }
        Fault::CommitThenTimeout { hold_ms, then } => {
            let resp = next.run(req).await;
            let status = resp.status().as_u16();
            hold(&ctx.kit, hold_ms).await;
            match then {
                AfterHold::Respond => {
                    ctx.kit.calls.finish(seq, Some(status), Some("commit_then_timeout".into()));
                    resp
                }
                AfterHold::Reset => {
                    ctx.kit.calls.finish(seq, None, Some("commit_then_timeout".into()));
                    reset(kill)
                }
            }
        }
    }
}

/// Wait `ms` real milliseconds, or less if the simulator is shutting down.
async fn hold(kit: &SimKit, ms: u64) {
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_millis(ms)) => {}
        _ = kit.shutdown.wait() => {}
    }
}

fn reset(kill: Option<ConnKill>) -> Response {
    match kill {
        Some(k) => {
            k.kill();
            // Never reaches the peer: the killed stream fails the write and hyper drops the socket.
            plain(500, "text/plain", String::new())
        }
        // Served without the kit's listener (e.g. a router driven in-process): the closest we
        // can get is an empty 502.
        None => plain(502, "text/plain", String::new()),
    }
}

fn plain(status: u16, content_type: &str, body: String) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    resp
}

/// What an AWS load balancer sends when the target behind it fails.
pub const HTML_502: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n";
