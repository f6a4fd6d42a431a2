//! The write path the Cin7 ↔ Acumatica flows use, and the events it emits (issue 13).
//!
//! The writes themselves were already modelled with the rest of the API — `POST
//! advanced-purchase` (a `DRAFT` header, lines ignored, `purchases.rs`), `POST purchase/order`
//! (`DRAFT`, then `AUTHORISED` in the separate call Cin7 requires; refused once authorised,
//! `purchases.rs`), `POST`/`PUT supplier` with the §5 validation (`reference.rs`) — so this file
//! adds no routes. It pins down, over HTTP, the sequence the connector's `writes.rs` makes and
//! what each step announces to registered webhooks: every purchase write a `Purchase/Updated`,
//! the authorising order post a `Purchase/OrderAuthorised` (with the purchase id as `TaskID`),
//! every supplier write a `Supplier/Updated`.

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use reqwest::{Client, Method, StatusCode};
    use serde_json::{Value, json};

    use crate::cin7::scenario::{self, Cin7Scenario, demo};
    use crate::cin7::{Cin7Sim, Delivery};
    use crate::common::{SimClock, SimHandle};

    async fn send(h: &SimHandle<Cin7Sim>, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
        let c = Client::builder().no_proxy().timeout(Duration::from_secs(10)).build().expect("client");
        let r = c
            .request(method, format!("{}/{path}", h.base_url()))
            .header("api-auth-accountid", demo::ACCOUNT_ID)
            .header("api-auth-applicationkey", demo::APPLICATION_KEY)
            .json(&body)
            .send()
            .await
            .expect("send");
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    fn events(d: &[Delivery]) -> Vec<&str> {
        d.iter().map(|x| x.event_type.as_str()).collect()
    }

    #[tokio::test]
    async fn the_acumatica_write_sequence_and_its_events() {
        let mut acme = scenario::supplier("Acme Packaging");
        acme.id = "11111111-1111-4111-8111-111111111111".into();
        let h = Cin7Sim::builder()
            .clock(SimClock::manual_default())
            .scenario(Cin7Scenario::reference_data().supplier(acme))
            .start()
            .await
            .expect("start");
        for t in ["Purchase/Updated", "Purchase/OrderAuthorised", "Supplier/Updated"] {
            let (s, v) = send(
                &h,
                Method::POST,
                "webhooks",
                json!({"Type": t, "ExternalURL": "http://127.0.0.1:9/hook", "IsActive": true}),
            )
            .await;
            assert_eq!(s, StatusCode::OK, "{v}");
        }
        // 1. The header: DRAFT, Cin7's own number, the reference kept in an attribute.
        let (s, p) = send(
            &h,
            Method::POST,
            "advanced-purchase",
            json!({
            "SupplierID": "11111111-1111-4111-8111-111111111111", "Approach": "INVOICE", "Location": "Port Harbor HQ",
            "PurchaseType": "Simple", "Note": "Acumatica Normal PO000123",
            "AdditionalAttributes": {"AdditionalAttribute10": "Acumatica Normal PO000123"}}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{p}");
        assert_eq!((p["Status"].as_str(), p["Order"]["Status"].as_str()), (Some("DRAFT"), Some("NOT AVAILABLE")));
        let id = p["ID"].as_str().expect("id").to_string();
        // 2. Lines as a draft; 3. the separate authorise.
        let lines = json!([{"SKU": "BOX-12X12", "Name": "Box", "Quantity": 10, "Price": 0.85, "Total": 8.5}]);
        let (s, v) =
            send(&h, Method::POST, "purchase/order", json!({"TaskID": id, "Status": "DRAFT", "Lines": lines})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, v) =
            send(&h, Method::POST, "purchase/order", json!({"TaskID": id, "Status": "AUTHORISED", "Lines": lines}))
                .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (_, p) = send(&h, Method::GET, &format!("advanced-purchase?ID={id}"), Value::Null).await;
        assert_eq!(
            (p["Status"].as_str(), p["AdditionalAttributes"]["AdditionalAttribute10"].as_str()),
            (Some("ORDERED"), Some("Acumatica Normal PO000123"))
        );
        let (s, _) =
            send(&h, Method::POST, "purchase/order", json!({"TaskID": id, "Status": "DRAFT", "Lines": lines})).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "an authorised order takes no more posts");
        let d = h.system().deliveries();
        assert_eq!(
            events(&d),
            ["Purchase/Updated", "Purchase/Updated", "Purchase/OrderAuthorised", "Purchase/Updated"]
        );
        let auth = d.iter().find(|x| x.event_type == "Purchase/OrderAuthorised").expect("announced");
        assert_eq!(auth.body["TaskID"].as_str().map(str::to_ascii_lowercase), Some(id.clone()));
        // Suppliers: POST (validated), PUT; each announced.
        let (s, v) = send(
            &h,
            Method::POST,
            "supplier",
            json!({"Name": "Seaport Supply", "Currency": "USD", "PaymentTerm": "Net 30",
            "AccountPayable": "800", "TaxRule": "Tax Exempt", "AdditionalAttribute1": "V20001"}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let sid = v["SupplierList"][0]["ID"].as_str().expect("id").to_string();
        let (s, _) = send(
            &h,
            Method::POST,
            "supplier",
            json!({"Name": "Bad Terms", "Currency": "USD", "PaymentTerm": "Net 99",
            "AccountPayable": "800", "TaxRule": "Tax Exempt"}),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "refused: no event");
        let (s, _) = send(&h, Method::PUT, "supplier", json!({"ID": sid, "Comments": "synced"})).await;
        assert_eq!(s, StatusCode::OK);
        let d = h.system().deliveries();
        assert_eq!(events(&d)[4..], ["Supplier/Updated", "Supplier/Updated"]);
        h.shutdown().await;
    }
}
