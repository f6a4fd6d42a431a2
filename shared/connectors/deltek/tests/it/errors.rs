//! Error classes and tolerant error bodies: throttling and 5xx are retryable, a lost write is in
//! doubt, Vantagepoint's text is read from every body shape.

use mlc_core::engine::flow::{ErrorClass, StepError};
use mlc_deltek::DeltekError;
use mlc_sim::common::{Fault, FaultRule};
use mlc_sim::deltek::ErrorShape;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn reads_retry_through_throttling_and_5xx_then_report_retryable() {
    let env = start().await;
    env.sim.faults().add(FaultRule::new("GET", "*/Accounts", Fault::status_retry_after(429, 0)).times(1));
    env.sim.faults().add(FaultRule::new("GET", "*/Accounts", Fault::Html502).times(1));
    assert_eq!(env.client.accounts().await.unwrap().len(), 40, "retried to success");
    assert!(env.client.stats().throttled >= 1);

    env.sim.faults().add(FaultRule::new("GET", "*/firm", Fault::status(503)));
    let e = env.client.find_vendor("CASCSURV").await.unwrap_err();
    assert!(matches!(e.class(), ErrorClass::Retryable { .. }), "{e}");
    assert!(matches!(StepError::from(e).class, ErrorClass::Retryable { .. }));
}

#[tokio::test]
async fn a_5xx_answer_to_a_file_is_in_doubt_not_retried() {
    let env = start().await;
    env.sim.faults().add(FaultRule::new("POST", "*/DataEntry/apControl", Fault::status(500)).times(1));
    let e = env.client.create_ap_invoice(&survey("FIVE-1", "1.00")).await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::InDoubt, "{e}");
    assert_eq!(env.count("POST", "*/DataEntry/apControl"), 1);
    // A 429 means the server did not act: the write is retried.
    env.sim.faults().add(FaultRule::new("POST", "*/DataEntry/apControl", Fault::status_retry_after(429, 0)).times(1));
    env.client.create_ap_invoice(&survey("FIVE-2", "1.00")).await.expect("retried after the throttle");
}

#[tokio::test]
async fn refusal_text_is_read_from_every_body_shape() {
    for shape in [ErrorShape::Message, ErrorShape::Scj, ErrorShape::Html] {
        let env = start().await;
        env.sim.system().set_switch(|s| {
            s.error_shape = shape;
            s.double_messages = true;
        });
        let e = env
            .client
            .create_ap_invoice(&invoice("NOBODY", "SHAPE-1", &[("52300", "2024003.00|01", "1.00")]))
            .await
            .unwrap_err();
        match &e {
            DeltekError::Refused { server, status, .. } => {
                assert_eq!(server, "Vendor NOBODY does not exist.", "{shape:?}");
                assert_eq!(*status, 400);
            }
            other => panic!("{shape:?}: {other}"),
        }
        assert!(e.to_string().contains("SHAPE-1"));
    }
}

#[tokio::test]
async fn secrets_never_appear_in_errors() {
    let env = start().await;
    let creds = env.sim.system().typed_credentials(env.sim.base_url());
    env.sim.faults().add(FaultRule::new(
        "GET",
        "*/Accounts",
        Fault::Status {
            status: 400,
            retry_after_secs: None,
            retry_after_http_date: false,
            body: Some(json!({ "Message": format!("bad secret {} here", creds.client_secret) }).to_string()),
            content_type: None,
        },
    ));
    let e = env.client.accounts().await.unwrap_err().to_string();
    assert!(!e.contains(&creds.client_secret) && e.contains("[redacted]"), "{e}");
}

#[tokio::test]
async fn a_proxy_page_answering_a_file_is_in_doubt() {
    let env = start().await;
    env.sim.faults().add(
        FaultRule::new(
            "POST",
            "*/DataEntry/apControl",
            Fault::Status {
                status: 200,
                retry_after_secs: None,
                retry_after_http_date: false,
                body: Some("<html><body>Please sign in</body></html>".into()),
                content_type: Some("text/html".into()),
            },
        )
        .times(1),
    );
    let e = env.client.create_ap_invoice(&survey("PROXY-1", "1.00")).await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::InDoubt, "{e}");
    assert!(e.to_string().contains("PROXY-1"), "{e}");
}
