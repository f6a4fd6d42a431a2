//! `mlc console`: the operator console on loopback (see [`crate::console`]). Prints one URL with a
//! one-time token; on the local home it also runs a worker that posts what the console releases
//! (`--no-worker` when `mlc serve` already works the same data directory).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::sync::Notify;

use crate::console::{self, Access, Console, PASSWORD_ENV};
use crate::home::Home;

#[derive(Debug, Clone, clap::Args)]
pub struct ConsoleArgs {
    /// Where to listen. Beyond loopback only with a console password in MLC_CONSOLE_PASSWORD.
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub listen: String,
    /// Do not post what the console releases or replays from this process (another `mlc serve`
    /// works the queue).
    #[arg(long)]
    pub no_worker: bool,
}

pub async fn run(home: &Home, args: &ConsoleArgs) -> anyhow::Result<()> {
    let addr: SocketAddr = args
        .listen
        .parse()
        .with_context(|| format!("--listen {:?} is not an address like 127.0.0.1:8090", args.listen))?;
    let access = Access::with_lifetimes(std::env::var(PASSWORD_ENV).ok(), (&home.config.console).into());
    console::check_bind(&addr, &access)?;
    let listener =
        tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr} (in use?)"))?;
    let local = listener.local_addr()?;
    let worker = !args.no_worker && !home.place.is_aws();
    let runtime = if home.place.is_aws() { None } else { Some(Arc::new(home.runtime().await?)) };
    let wake = worker.then(|| Arc::new(Notify::new()));
    let c = Console::new(home, access, runtime, wake.clone());
    if let Some(w) = wake {
        console::spawn_worker(c.clone(), w);
    }
    print_url(&c, &local);
    axum::serve(listener, console::router(c))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("console server failed")?;
    Ok(())
}

/// The line people open (and tests read): `console: http://127.0.0.1:8090/?token=...`.
pub fn print_url(c: &Console, addr: &SocketAddr) {
    let host = if addr.ip().is_unspecified() { "127.0.0.1".to_string() } else { addr.ip().to_string() };
    let _ = c.0.access.link_base.set(format!("http://{host}:{}", addr.port()));
    if let Some(t) = c.0.access.token() {
        println!("console: http://{host}:{}/?token={t}", addr.port());
    }
    if c.0.access.has_password() {
        eprintln!("console: people may also sign in at http://{host}:{}/login with the console password", addr.port());
    }
    eprintln!("console: the link works once; it sets a session cookie in the browser that opens it. Ctrl-C to stop");
    use std::io::Write;
    let _ = std::io::stdout().flush();
}
