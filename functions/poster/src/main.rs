//! Lambda entrypoint of the poster function: build the runtime once per container (and a way to
//! rebuild it after a credential rotation), then work each SQS batch with [`mlc_fn_poster::handle`].

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use mlc_aws::{AwsPorts, AwsSettings, SqsQueue};
use mlc_core::engine::ports::SystemClock;
use mlc_flows::Runtime;
use mlc_fn_poster::{Poster, Rebuild};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let settings = AwsSettings::from_env()?;
    let ports = AwsPorts::from_env(&settings).await;
    // Lambda deletes the records the handler does not report; acks need no request.
    let queue: Arc<SqsQueue> = Arc::new(ports.queue.as_ref().clone().leave_acks_to_lambda());
    let config = mlc_aws::env::load_config()?;
    let build = {
        let (config, store, secrets) = (config.clone(), ports.store.clone(), ports.secrets.clone());
        move || {
            let (config, store, queue, secrets) = (config.clone(), store.clone(), queue.clone(), secrets.clone());
            Box::pin(async move {
                secrets.refresh();
                Runtime::build(config, store, queue, secrets, Arc::new(SystemClock)).await
            }) as _
        }
    };
    let rebuild: Rebuild = Arc::new(build);
    let poster = Poster::new(rebuild().await?, Some(rebuild));
    let poster = &poster;
    lambda_runtime::run(service_fn(
        move |ev: LambdaEvent<SqsEvent>| async move { mlc_fn_poster::handle(poster, ev).await },
    ))
    .await
}
