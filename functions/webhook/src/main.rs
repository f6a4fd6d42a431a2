//! Lambda entrypoint of the webhook function: build the runtime once per container, then serve
//! `POST /webhooks/{system}` with [`mlc_fn_webhook::handle`].

use std::sync::Arc;

use lambda_http::{Error, Request, service_fn};
use mlc_aws::{AwsPorts, AwsSettings, ConfigText};
use mlc_core::engine::ports::SystemClock;
use mlc_flows::{Config, Runtime};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let settings = AwsSettings::from_env()?;
    let ports = AwsPorts::from_env(&settings).await;
    let config = load_config()?;
    let rt = Runtime::build(config, ports.store, ports.queue, ports.secrets, Arc::new(SystemClock)).await?;
    let rt = &rt;
    lambda_http::run(service_fn(
        move |req: Request| async move { Ok::<_, Error>(mlc_fn_webhook::handle(rt, req).await) },
    ))
    .await
}

fn load_config() -> Result<Config, Error> {
    let mut config = match ConfigText::from_env()? {
        None => Config::default(),
        Some(t) if t.json => {
            let c: Config = serde_json::from_str(&t.text).map_err(|e| format!("{}: {e}", t.origin))?;
            c.check(&t.origin)?;
            c
        }
        Some(t) => Config::parse(&t.text, &t.origin)?,
    };
    if let Some(enabled) = mlc_aws::env::enabled_flows() {
        config.flows.iter_mut().for_each(|(name, f)| f.enabled &= enabled.contains(name));
    }
    Ok(config)
}
