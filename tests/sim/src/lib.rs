//! `mlc-sim`: simulators of the vendor APIs ml-connector talks to, for tests and `mlc demo`.
//!
//! Each simulator is an axum server on `127.0.0.1` that answers its vendor's API the way the
//! fact sheets in `shared/research/` describe it (confirmed behaviour exactly; inferred or unknown
//! behaviour behind switches), seeded from a scenario, with injectable faults, an injectable
//! clock and a `/__sim` control API the real client never calls.
//!
//! - [`common`]: the shared kit ([`common::SimSystem`], [`common::start`], [`common::SimHandle`],
//!   [`common::SimClock`], [`common::FaultRule`], [`common::CallLog`], the control API, webhooks).
//! - [`deltek`]: Deltek Vantagepoint; [`cin7`]: Cin7 Core; [`acumatica`], [`procore`], [`coupa`],
//!   [`cleo`]: the systems of the integrations being built.
//!
//! - [`world`] (feature `world`): several simulators as one world of connections, turned into
//!   ml-connector's configuration and credentials.
//!
//! Each system registers itself in its own module with [`register_simulator!`]; `mlc sim`,
//! `mlc demo` and the tests find it through [`systems`] and [`start`], so adding a simulator
//! touches only its own folder (and one `pub mod` line here).
//!
//! Starting one in a test:
//!
//! ```no_run
//! # async fn demo() -> Result<(), mlc_sim::common::SimError> {
//! use mlc_sim::common::{Fault, FaultRule, SimClock};
//! use mlc_sim::deltek::DeltekSim;
//!
//! let sim = DeltekSim::builder().clock(SimClock::manual_default()).start().await?;
//! let creds = sim.system().typed_credentials(sim.base_url());
//! sim.faults().add(FaultRule::new("POST", "/DataEntry/apControl", Fault::commit_then_reset(200)).times(1));
//! // ... drive the client against creds.base_url ...
//! assert_eq!(sim.calls().count("POST", "/DataEntry/apControl"), 1);
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

pub mod acumatica;
pub mod cin7;
pub mod cleo;
pub mod common;
pub mod coupa;
pub mod deltek;
pub mod procore;
#[cfg(feature = "world")]
pub mod world;

use std::io::Write;

use common::{BoxFuture, SimClock, SimError, SimHandle, SimSystem};

#[doc(hidden)]
pub use linkme;

/// A simulator starting: resolves to its running handle.
pub type StartFuture = BoxFuture<'static, Result<SimHandle<dyn SimSystem>, SimError>>;

/// How to start one system's simulator with its demo scenario.
pub struct SimEntry {
    /// The name `mlc sim <system>` takes (the same as the connector's system name).
    pub name: &'static str,
    /// Other names accepted (`vantagepoint`, `dear`).
    pub aliases: &'static [&'static str],
    /// Start it with its demo scenario on `127.0.0.1:port` (0 = any free port).
    pub start: fn(port: u16, clock: SimClock) -> StartFuture,
}

/// Every registered simulator. Filled at link time by [`register_simulator!`].
#[linkme::distributed_slice]
pub static SIMULATORS: [SimEntry];

/// Register a simulator in its own module:
/// `mlc_sim::register_simulator!(DELTEK, SimEntry { name: "deltek", aliases: &[], start: |port, clock| ... });`
#[macro_export]
macro_rules! register_simulator {
    ($ident:ident, $entry:expr) => {
        #[$crate::linkme::distributed_slice($crate::SIMULATORS)]
        #[linkme(crate = $crate::linkme)]
        static $ident: $crate::SimEntry = $entry;
    };
}

/// The names of the systems this crate can simulate, sorted.
pub fn systems() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = SIMULATORS.iter().map(|e| e.name).collect();
    v.sort_unstable();
    v
}

/// The simulator registered under `system` (or an alias), case-insensitively.
pub fn entry(system: &str) -> Option<&'static SimEntry> {
    SIMULATORS
        .iter()
        .find(|e| e.name.eq_ignore_ascii_case(system) || e.aliases.iter().any(|a| a.eq_ignore_ascii_case(system)))
}

/// Start a system's simulator with its demo scenario on `127.0.0.1:port` (0 = any free port).
pub async fn start(system: &str, port: u16, clock: SimClock) -> Result<SimHandle<dyn SimSystem>, SimError> {
    match entry(system) {
        Some(e) => (e.start)(port, clock).await,
        None => Err(SimError::UnknownSystem(system.to_ascii_lowercase())),
    }
}

/// Start a simulator, write `{"system","base_url","credentials"}` as one line to `out`, then
/// serve until `stop` resolves. [`run_standalone`] is this with stdout and Ctrl-C.
pub async fn run_standalone_with<W, F>(system: &str, port: u16, out: &mut W, stop: F) -> Result<(), SimError>
where
    W: Write,
    F: std::future::Future<Output = ()>,
{
    let handle = start(system, port, SimClock::real()).await?;
    writeln!(out, "{}", handle.info_line())?;
    out.flush()?;
    stop.await;
    handle.shutdown().await;
    Ok(())
}

/// What `mlc sim <system> --port N` runs: start the simulator with its demo scenario, print
/// exactly one JSON object `{"system": "...", "base_url": "...", "credentials": {...}}` as the
/// first line of stdout, then serve until Ctrl-C.
pub async fn run_standalone(system: &str, port: u16) -> Result<(), SimError> {
    let mut stdout = std::io::stdout();
    run_standalone_with(system, port, &mut stdout, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
