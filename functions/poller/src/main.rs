//! Lambda entrypoint of the poller function: build the runtime once per container, then poll the
//! flow each scheduler invocation names with [`mlc_fn_poller::handle`].

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use mlc_aws::{AwsPorts, AwsSettings};
use mlc_core::engine::ports::SystemClock;
use mlc_flows::Runtime;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let settings = AwsSettings::from_env()?;
    let ports = AwsPorts::from_env(&settings).await;
    let rt =
        Runtime::build(mlc_aws::env::load_config()?, ports.store, ports.queue, ports.secrets, Arc::new(SystemClock))
            .await?;
    let rt = &rt;
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<Value>| async move { mlc_fn_poller::handle(rt, ev).await }))
        .await
}
