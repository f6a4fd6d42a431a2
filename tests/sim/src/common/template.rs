//! The smallest possible [`SimSystem`]: a template for a new vendor simulator and the kit's own
//! test that nothing in it depends on Deltek.
//!
//! A "counter" API at `/counter/api`: `POST /items` adds an item, `GET /items` lists them,
//! everything else is a 404. It is seeded from `{"items": [...]}` and has one action, `clear`.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::Method;
use axum::routing::get;
use serde_json::{Value, json};

use super::{BoxFuture, ResetTo, SimError, SimSystem};

/// The template system.
#[derive(Debug, Default)]
pub struct CounterSim {
    items: Mutex<Vec<Value>>,
}

impl CounterSim {
    fn items(&self) -> std::sync::MutexGuard<'_, Vec<Value>> {
        self.items.lock().unwrap_or_else(|p| p.into_inner())
    }
}

async fn list(State(s): State<Arc<CounterSim>>) -> axum::Json<Value> {
    axum::Json(Value::Array(s.items().clone()))
}

async fn add(
    State(s): State<Arc<CounterSim>>,
    axum::Json(v): axum::Json<Value>,
) -> (axum::http::StatusCode, axum::Json<Value>) {
    s.items().push(v.clone());
    (axum::http::StatusCode::CREATED, axum::Json(v))
}

impl SimSystem for CounterSim {
    fn name(&self) -> &'static str {
        "counter"
    }
    fn base_path(&self) -> String {
        "/counter/api".into()
    }
    fn credentials(&self, base_url: &str) -> Value {
        json!({ "base_url": base_url, "api_key": "demo" })
    }
    fn router(self: Arc<Self>) -> Router {
        Router::new().route("/counter/api/items", get(list).post(add)).with_state(self)
    }
    fn route_of(&self, _method: &Method, path: &str) -> Option<String> {
        path.strip_prefix("/counter/api").filter(|p| *p == "/items").map(String::from)
    }
    fn seed(&self, scenario: &Value) -> Result<(), SimError> {
        let items =
            scenario.get("items").and_then(Value::as_array).ok_or_else(|| SimError::bad("counter", "need items"))?;
        self.items().extend(items.iter().cloned());
        Ok(())
    }
    fn snapshot(&self) -> Value {
        json!({ "items": *self.items() })
    }
    fn reset(&self, to: ResetTo) -> Result<(), SimError> {
        self.items().clear();
        match to {
            ResetTo::Scenario(v) => self.seed(&v),
            _ => Ok(()),
        }
    }
    fn switches(&self) -> Value {
        json!({})
    }
    fn set_switches(&self, _patch: &Value) -> Result<Value, SimError> {
        Ok(json!({}))
    }
    fn actions(&self) -> Vec<&'static str> {
        vec!["clear"]
    }
    fn action(self: Arc<Self>, name: String, _args: Value) -> BoxFuture<'static, Result<Value, SimError>> {
        Box::pin(async move {
            match name.as_str() {
                "clear" => {
                    self.items().clear();
                    Ok(json!({ "ok": true }))
                }
                _ => Err(SimError::UnknownAction { system: "counter", action: name }),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::{Fault, FaultRule, SimClock, SimKit, start};

    #[tokio::test]
    async fn the_kit_serves_any_system() {
        let h =
            start(Arc::new(CounterSim::default()), SimKit::new(SimClock::manual_default()), 0).await.expect("start");
        assert!(h.base_url().ends_with("/counter/api"));
        assert_eq!(h.credentials()["api_key"], "demo");
        let c = reqwest::Client::builder().no_proxy().build().expect("client");
        let r = c.post(format!("{}/items", h.base_url())).json(&json!({"a": 1})).send().await.expect("send");
        assert_eq!(r.status(), 201);
        h.faults().add(FaultRule::new("GET", "/items", Fault::status(503)).times(1));
        assert_eq!(c.get(format!("{}/items", h.base_url())).send().await.expect("send").status(), 503);
        let v: Value = c.get(format!("{}/items", h.base_url())).send().await.expect("send").json().await.expect("json");
        assert_eq!(v, json!([{"a": 1}]));
        assert_eq!(h.calls().count("*", "/items"), 3);
        let r =
            c.post(format!("{}/seed", h.control_url())).json(&json!({"items": [{"b": 2}]})).send().await.expect("send");
        assert_eq!(r.status(), 200);
        let st: Value =
            c.get(format!("{}/state", h.control_url())).send().await.expect("send").json().await.expect("json");
        assert_eq!(st["items"].as_array().map(Vec::len), Some(2));
        let r = c.post(format!("{}/actions/clear", h.control_url())).send().await.expect("send");
        assert_eq!(r.status(), 200);
        assert_eq!(c.get(format!("{}/nothing", h.root_url())).send().await.expect("send").status(), 404);
        let dynh = h.into_dyn();
        assert_eq!(dynh.system().name(), "counter");
        dynh.shutdown().await;
    }
}
