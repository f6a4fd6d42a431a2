//! Lambda entrypoint of the poster function: check the timing rule, build the runtime once per
//! container (every connection's client on the shared DynamoDB rate budget, waits capped by this
//! function's timeout), then work each SQS batch with [`mlc_fn_poster::handle`].

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use mlc_aws::{AwsPorts, AwsSettings, SqsQueue};
use mlc_core::engine::ports::SystemClock;
use mlc_flows::Runtime;
use mlc_flows::env::{Builder, Reloadable, StackTiming, load_config};
use mlc_fn_poster::Poster;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = load_config()?;
    let timing = StackTiming::from_env()?;
    timing.check(&config, "poster")?;
    let settings = AwsSettings::from_env()?;
    let ports = AwsPorts::from_env(&settings).await;
    // Lambda deletes the records the handler does not report; acks need no request.
    let queue: Arc<SqsQueue> = Arc::new(ports.queue.as_ref().clone().leave_acks_to_lambda());
    let home = timing.home(&config, ports.budget.clone());
    let build: Builder = Arc::new(move || {
        let (config, store, queue, secrets, home) =
            (config.clone(), ports.store.clone(), queue.clone(), ports.secrets.clone(), home.clone());
        Box::pin(async move { Runtime::build_in(config, store, queue, secrets, Arc::new(SystemClock), home).await })
    });
    let poster = Poster::new(Reloadable::start("poster", build).await?).with_max_receives(timing.max_receives);
    let poster = &poster;
    lambda_runtime::run(service_fn(
        move |ev: LambdaEvent<SqsEvent>| async move { mlc_fn_poster::handle(poster, ev).await },
    ))
    .await
}
