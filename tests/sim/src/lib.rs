//! `mlc-sim`: simulators of the vendor APIs ml-connector talks to, for tests and `mlc demo`.
//!
//! Each simulator is an axum server on `127.0.0.1` that answers its vendor's API the way the
//! fact sheets in `shared/research/` describe it (confirmed behaviour exactly; inferred or unknown
//! behaviour behind switches), seeded from a scenario, with injectable faults, an injectable
//! clock and a `/__sim` control API the real client never calls.
//!
//! - [`common`]: the shared kit ([`common::SimSystem`], [`common::start`], [`common::SimHandle`],
//!   [`common::SimClock`], [`common::FaultRule`], [`common::CallLog`], the control API, webhooks).
//! - [`deltek`]: Deltek Vantagepoint.
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

pub mod cin7;
pub mod common;
pub mod deltek;

use std::io::Write;

use common::{SimClock, SimError, SimHandle, SimSystem};

/// The systems this crate can simulate, by the name `mlc sim <system>` takes.
pub const SYSTEMS: &[&str] = &["deltek", "cin7"];

/// Start a system's simulator with its demo scenario on `127.0.0.1:port` (0 = any free port).
pub async fn start(system: &str, port: u16, clock: SimClock) -> Result<SimHandle<dyn SimSystem>, SimError> {
    match system.to_ascii_lowercase().as_str() {
        "deltek" | "vantagepoint" => Ok(deltek::DeltekSim::builder().clock(clock).port(port).start().await?.into_dyn()),
        "cin7" | "cin7core" | "dear" => Ok(cin7::Cin7Sim::builder().clock(clock).port(port).start().await?.into_dyn()),
        other => Err(SimError::UnknownSystem(other.to_string())),
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
