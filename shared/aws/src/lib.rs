//! The AWS home's adapters of the core ports (`mlc_core::engine::ports`):
//!
//! - [`DynamoStore`]: [`Store`](mlc_core::engine::ports::Store) on one DynamoDB table (single-table
//!   design; the access patterns are listed in [`dynamo`]).
//! - [`SqsQueue`]: [`Queue`](mlc_core::engine::ports::Queue) on a standard SQS queue with a
//!   dead-letter queue (see [`sqs`] for what differs from the embedded queue).
//! - [`DynamoBudget`]: [`RateBudget`](mlc_core::budget::RateBudget) on the same table, one item per
//!   vendor budget, so every container keeps one count per vendor key.
//! - [`SecretsManagerStore`]: [`SecretStore`](mlc_core::engine::ports::SecretStore), one secret
//!   per connection, cached per container.
//! - [`env`]: the settings the SAM template hands the functions, and the clients built from them.
//! - `testing` (feature `testing`): a moto server per test process.
//!
//! Every error names the table, queue or secret and the key it was about; throttling, timeouts and
//! 5xx answers become `StoreError::Unavailable` (retry later), everything else `Other`/`Corrupt`.

pub mod budget;
pub mod dynamo;
pub mod env;
pub mod secrets;
pub mod sqs;
#[cfg(feature = "testing")]
pub mod testing;

pub use budget::{BudgetStats, DynamoBudget};
pub use dynamo::DynamoStore;
pub use env::{AwsPorts, AwsSettings};
pub use secrets::SecretsManagerStore;
pub use sqs::SqsQueue;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use mlc_core::engine::ports::StoreError;

/// Error codes that mean "try again later" across DynamoDB, SQS and Secrets Manager.
const TRANSIENT_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "Throttling",
    "RequestLimitExceeded",
    "RequestThrottled",
    "InternalServerError",
    "InternalFailure",
    "InternalErrorException",
    "InternalServiceError",
    "ServiceUnavailable",
    "TransactionInProgressException",
    "LimitExceededException",
];

/// The error code of an SDK error, when the service sent one.
pub(crate) fn error_code<E: ProvideErrorMetadata>(e: &SdkError<E>) -> Option<&str> {
    match e {
        SdkError::ServiceError(se) => se.err().code(),
        _ => None,
    }
}

/// Turn an SDK error into a store error whose message says what was being done (`what` names the
/// resource and the key).
pub(crate) fn sdk_error<E>(what: &str, e: SdkError<E>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let transient = match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(se) => {
            se.err().code().is_some_and(|c| TRANSIENT_CODES.contains(&c)) || se.raw().status().is_server_error()
        }
        _ => false,
    };
    let msg = format!("{what}: {}", DisplayErrorContext(&e));
    if transient { StoreError::Unavailable(msg) } else { StoreError::Other(msg) }
}
