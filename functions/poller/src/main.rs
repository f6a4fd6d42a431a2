//! Lambda entrypoint of the poller function: check the timing rule, build the runtime once per
//! container (the shared DynamoDB rate budget, waits capped by this function's timeout), then run
//! each scheduler tick with [`mlc_fn_poller::handle`].
//!
//! `MLC_POLL_BUDGET_SECS` (default: what the function's timeout leaves after the longest HTTP call
//! and a margin, at most 45 s, so a tick ends before the next) and `MLC_SWEEP_GRACE_SECS` (default
//! 900) tune a tick. A poll at the budget finishes the page it has listed within what the
//! function's timeout leaves after the budget and the margin (at most 10 s).

use std::sync::Arc;
use std::time::Duration;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use mlc_aws::{AwsPorts, AwsSettings};
use mlc_core::engine::ports::SystemClock;
use mlc_flows::Runtime;
use mlc_flows::env::{Builder, FUNCTION_MARGIN, Reloadable, StackTiming, load_config};
use mlc_fn_poller::TickOptions;
use serde_json::Value;

fn secs(name: &str) -> Result<Option<Duration>, String> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse::<u64>()
            .map(|s| Some(Duration::from_secs(s)))
            .map_err(|_| format!("{name} must be a whole number of seconds, got {v:?}")),
        _ => Ok(None),
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = load_config()?;
    let timing = StackTiming::from_env()?;
    timing.check(&config, "poller")?;
    let defaults = TickOptions::default();
    let budget = secs("MLC_POLL_BUDGET_SECS")?
        .unwrap_or_else(|| timing.max_wait(&config).map_or(defaults.budget, |w| w.min(defaults.budget)));
    // The page in hand is finished within what the function has left after the budget.
    let page_grace = timing.function_timeout.map_or(defaults.page_grace, |f| {
        f.saturating_sub(budget + FUNCTION_MARGIN).clamp(Duration::from_secs(1), defaults.page_grace)
    });
    let opts =
        TickOptions { budget, sweep_grace: secs("MLC_SWEEP_GRACE_SECS")?.unwrap_or(defaults.sweep_grace), page_grace };
    let settings = AwsSettings::from_env()?;
    let ports = AwsPorts::from_env(&settings).await;
    let home = timing.home(&config, ports.budget.clone());
    let build: Builder = Arc::new(move || {
        let (config, store, queue, secrets, home) =
            (config.clone(), ports.store.clone(), ports.queue.clone(), ports.secrets.clone(), home.clone());
        Box::pin(async move { Runtime::build_in(config, store, queue, secrets, Arc::new(SystemClock), home).await })
    });
    let live = Reloadable::start("poller", build).await?;
    let (live, opts) = (&live, &opts);
    lambda_runtime::run(service_fn(
        move |ev: LambdaEvent<Value>| async move { mlc_fn_poller::handle(live, opts, ev).await },
    ))
    .await
}
