//! Lambda entrypoint of the webhook function: build the runtime once per container, then serve
//! `POST /webhooks/{system}` with [`mlc_fn_webhook::handle`].

use std::sync::Arc;

use lambda_http::{Error, Request, service_fn};
use mlc_aws::{AwsPorts, AwsSettings};
use mlc_core::engine::ports::SystemClock;
use mlc_flows::Runtime;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let settings = AwsSettings::from_env()?;
    let ports = AwsPorts::from_env(&settings).await;
    let config = mlc_aws::env::load_config()?;
    let rt = Runtime::build(config, ports.store, ports.queue, ports.secrets, Arc::new(SystemClock)).await?;
    let rt = &rt;
    lambda_http::run(service_fn(
        move |req: Request| async move { Ok::<_, Error>(mlc_fn_webhook::handle(rt, req).await) },
    ))
    .await
}
