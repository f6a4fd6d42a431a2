//! Collects the HTTP exchanges a flow step makes, so they land in the item's audit trail.
//!
//! The engine runs each step inside [`capture`]; the HTTP kit calls [`record`] for every request it
//! makes. Outside a capture scope `record` does nothing, so connectors need not know whether they
//! run under the engine, a CLI `ping` or a test.

use std::cell::RefCell;
use std::future::Future;

use crate::engine::model::Exchange;

tokio::task_local! {
    static EXCHANGES: RefCell<Vec<Exchange>>;
}

/// Run `fut`, returning its output and every exchange recorded while it ran (on this task).
pub async fn capture<F: Future>(fut: F) -> (F::Output, Vec<Exchange>) {
    EXCHANGES
        .scope(RefCell::new(Vec::new()), async move {
            let out = fut.await;
            let taken = EXCHANGES.with(|e| std::mem::take(&mut *e.borrow_mut()));
            (out, taken)
        })
        .await
}

/// Note an exchange for the surrounding capture scope, if any.
pub fn record(exchange: Exchange) {
    let _ = EXCHANGES.try_with(|e| e.borrow_mut().push(exchange));
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn ex(url: &str) -> Exchange {
        Exchange {
            at: Utc::now(),
            system: "t".into(),
            method: "GET".into(),
            url: url.into(),
            status: Some(200),
            duration_ms: 1,
            request: None,
            response: None,
            error: None,
        }
    }

    #[tokio::test]
    async fn records_inside_scope_only() {
        record(ex("outside"));
        let (v, exs) = capture(async {
            record(ex("a"));
            tokio::task::yield_now().await;
            record(ex("b"));
            7
        })
        .await;
        assert_eq!(v, 7);
        assert_eq!(exs.iter().map(|e| e.url.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    }
}
