//! Lambda entrypoint of the webhook function: check the configuration (the webhook makes no
//! vendor calls, so the timing rule is checked without a function timeout), build the runtime once
//! per container, then serve `POST /webhooks/{connection}` with [`mlc_fn_webhook::handle_live`].

use std::sync::Arc;

use lambda_http::{Error, Request, service_fn};
use mlc_aws::{AwsPorts, AwsSettings};
use mlc_core::engine::ports::SystemClock;
use mlc_flows::Runtime;
use mlc_flows::env::{Builder, Reloadable, StackTiming, load_config};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = load_config()?;
    let timing = StackTiming { function_timeout: None, ..StackTiming::from_env()? };
    timing.check(&config, "webhook")?;
    let settings = AwsSettings::from_env()?;
    let ports = AwsPorts::from_env(&settings).await;
    let home = timing.home(&config, ports.budget.clone());
    let build: Builder = Arc::new(move || {
        let (config, store, queue, secrets, home) =
            (config.clone(), ports.store.clone(), ports.queue.clone(), ports.secrets.clone(), home.clone());
        Box::pin(async move { Runtime::build_in(config, store, queue, secrets, Arc::new(SystemClock), home).await })
    });
    let live = Reloadable::start("webhook", build).await?;
    let live = &live;
    lambda_http::run(service_fn(move |req: Request| async move {
        Ok::<_, Error>(mlc_fn_webhook::handle_live(live, req).await)
    }))
    .await
}
