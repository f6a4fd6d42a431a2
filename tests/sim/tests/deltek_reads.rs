//! Deltek reads over real HTTP: arrays by key, paging, filterHash, fieldFilter, order, routes,
//! settings, AR and ledgers.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::*;

fn col(v: &Value, k: &str) -> Vec<String> {
    v.as_array().expect("array").iter().map(|r| r[k].as_str().unwrap_or_default().to_string()).collect()
}

#[tokio::test]
async fn gets_answer_arrays_even_by_key() {
    let h = start().await;
    let tok = token(&h).await;
    let (s, all) = get(&h, &tok, "firm").await;
    assert_eq!(s, StatusCode::OK);
    let firms = all.as_array().expect("array");
    assert!(firms.len() >= 30);
    let id = firms[0]["ClientID"].as_str().expect("id").to_string();
    assert_eq!(id.len(), 32);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    let (s, one) = get(&h, &tok, &format!("firm/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(one.as_array().map(Vec::len), Some(1));
    assert_eq!(one[0]["ClientID"], id.as_str());
    // Absent key: an empty array.
    assert_eq!(get(&h, &tok, "firm/00000000000000000000000000000000").await, (StatusCode::OK, json!([])));
    // Project by key, phase by pipe key; dates in Deltek's format.
    let (_, p) = get(&h, &tok, "project/2023014.00").await;
    assert_eq!(p.as_array().map(Vec::len), Some(1));
    assert_eq!(p[0]["SubLevel"], "Y");
    let sd = p[0]["StartDate"].as_str().expect("date");
    assert_eq!(sd.len(), "2024-03-01T00:00:00.000".len());
    assert!(sd.ends_with("T00:00:00.000"), "{sd}");
    let (_, ph) = get(&h, &tok, "project/2023014.00%7C02%7C001").await;
    assert_eq!(ph[0]["Name"], "Structural");
    // Vendor remit-to address.
    let (_, v) =
        get(&h, &tok, "firm?filterHash[0][name]=Vendor&filterHash[0][value]=CASCSURV&filterHash[0][opp]=%3D").await;
    let cid = v[0]["ClientID"].as_str().expect("id").to_string();
    let (_, addrs) = get(&h, &tok, &format!("firm/{cid}/address")).await;
    assert!(addrs.as_array().expect("addrs").iter().any(|a| a["Payment"] == "Y" && a["Address1"] == "PO Box 3381"));
    h.shutdown().await;
}

#[tokio::test]
async fn paging_projection_order_and_case_insensitive_routes() {
    let h = start().await;
    let tok = token(&h).await;
    let (_, all) = get(&h, &tok, "Accounts?order=Account").await;
    let codes = col(&all, "Account");
    let (_, page) = get(&h, &tok, "Accounts?order=Account&limit=5&offset=5").await;
    assert_eq!(col(&page, "Account"), codes[5..10].to_vec());
    let (_, page) = get(&h, &tok, "Accounts?order=Account&pageSize=5&page=3").await;
    assert_eq!(col(&page, "Account"), codes[10..15].to_vec());
    // A short page ends the paging.
    let n = codes.len();
    let (_, last) = get(&h, &tok, &format!("Accounts?order=Account&pageSize=10&page={}", n / 10 + 1)).await;
    assert_eq!(last.as_array().map(Vec::len), Some(n % 10));
    let (_, desc) = get(&h, &tok, "accounts?order=Account_D&limit=1").await;
    assert_eq!(col(&desc, "Account"), vec![codes[n - 1].clone()]);
    let (_, proj) = get(&h, &tok, "Accounts?fieldFilter=Account,Name&limit=1").await;
    let keys: Vec<&String> = proj[0].as_object().expect("obj").keys().collect();
    assert_eq!(keys, ["Account", "Name"]);
    let (_, capped) = get(&h, &tok, "Accounts?q.maxrows=3").await;
    assert_eq!(capped.as_array().map(Vec::len), Some(3));
    // Route casing does not matter; the on-premise /api root and /vantagepoint/api work too.
    assert_eq!(get(&h, &tok, "SETTINGS/ACTIVEPERIOD").await.0, StatusCode::OK);
    for root in ["api", "vantagepoint/api", "harborpine/API"] {
        let r = client()
            .get(format!("{}/{root}/Settings/Period", h.root_url()))
            .bearer_auth(&tok)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), StatusCode::OK, "{root}");
    }
    // Unknown route: ASP.NET's 404; known route, wrong method: 405.
    let (s, v) = get(&h, &tok, "nosuch/thing").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(message(&v).starts_with("No HTTP resource was found that matches the request URI"), "{v}");
    let (s, v) = call(&h, &tok, Method::PATCH, "firm/abc", Some(&json!({}))).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(message(&v), "The requested resource does not support http method 'PATCH'.");
    // dvp-postAsGet: a POST carrying the query as a form body.
    let r = client()
        .post(format!("{}/Accounts", h.base_url()))
        .bearer_auth(&tok)
        .header("dvp-postAsGet", "true")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("filterHash[0][name]=Account&filterHash[0][value]=60100&filterHash[0][opp]=%3D")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.expect("json");
    assert_eq!(col(&v, "Account"), ["60100"]);
    h.shutdown().await;
}

#[tokio::test]
async fn filter_hash_operators() {
    let h = start().await;
    let tok = token(&h).await;
    let fh = |name: &str, value: &str, opp: &str| {
        format!("filterHash[0][name]={name}&filterHash[0][value]={value}&filterHash[0][opp]={}", urlenc(opp))
    };
    // = on the vendor number (case-insensitive, as SQL Server compares).
    let (_, v) = get(&h, &tok, &format!("firm?{}", fh("Vendor", "grangeo", "="))).await;
    assert_eq!(col(&v, "Vendor"), ["GRANGEO"]);
    // Omitted opp is equality.
    let (_, v) = get(&h, &tok, "firm?filterHash[0][name]=Vendor&filterHash[0][value]=GRANGEO").await;
    assert_eq!(v.as_array().map(Vec::len), Some(1));
    // Blank matches blank: top-level projects have WBS2 = ''.
    let (_, tops) = get(&h, &tok, &format!("project?{}", fh("WBS2", "", "="))).await;
    assert!(tops.as_array().expect("a").iter().all(|p| p["WBS2"] == ""));
    assert_eq!(tops.as_array().map(Vec::len), Some(10));
    // != '' finds phases and tasks of one project (two clauses, AND).
    let q = format!(
        "project?filterHash[0][name]=WBS1&filterHash[0][value]=2023014.00&filterHash[0][opp]=%3D&filterHash[1][name]=WBS2&filterHash[1][value]=&filterHash[1][opp]={}",
        urlenc("!=")
    );
    let (_, phases) = get(&h, &tok, &q).await;
    assert_eq!(phases.as_array().map(Vec::len), Some(5));
    // wbstype=wbs2.
    let (_, w2) = get(&h, &tok, "project?wbstype=wbs2&filterHash[0][name]=WBS1&filterHash[0][value]=2023014.00").await;
    assert_eq!(col(&w2, "WBS2"), ["01", "02", "03"]);
    // like, with and without wildcards.
    let (_, v) = get(&h, &tok, &format!("firm?{}", fh("Name", "geotech", "like"))).await;
    assert_eq!(col(&v, "Vendor"), ["GRANGEO"]);
    let (_, v) = get(&h, &tok, &format!("firm?{}", fh("Name", "Harbor%", "like"))).await;
    assert!(col(&v, "Name").iter().all(|n| n.starts_with("Harbor")) && v.as_array().map(Vec::len) == Some(2));
    // Numeric comparisons on Accounts.Type.
    let count = |v: &Value| v.as_array().map(Vec::len).unwrap_or(0);
    let (_, ge) = get(&h, &tok, &format!("Accounts?{}", fh("Type", "9", ">="))).await;
    let (_, gt) = get(&h, &tok, &format!("Accounts?{}", fh("Type", "9", ">"))).await;
    let (_, lt) = get(&h, &tok, &format!("Accounts?{}", fh("Type", "5", "<"))).await;
    let (_, le) = get(&h, &tok, &format!("Accounts?{}", fh("Type", "5", "<="))).await;
    assert_eq!(count(&gt), 1);
    assert!(count(&ge) > count(&gt));
    assert!(ge.as_array().expect("a").iter().all(|a| a["Type"].as_i64() >= Some(9)));
    assert!(count(&le) > count(&lt) && lt.as_array().expect("a").iter().all(|a| a["Type"].as_i64() < Some(5)));
    // Unknown column: SQL's text.
    let (s, v) = get(&h, &tok, &format!("firm?{}", fh("Colour", "x", "="))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(message(&v), "Invalid column name 'Colour'.");
    h.shutdown().await;
}

fn urlenc(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[tokio::test]
async fn periods_and_active_period() {
    let h = start().await;
    let tok = token(&h).await;
    let (_, active) = get(&h, &tok, "Settings/ActivePeriod").await;
    assert_eq!(active[0]["Period"], 202506);
    assert_eq!(active[0]["ActiveCompanyClosed"], "N");
    let (_, closed) =
        get(&h, &tok, "Settings/Period?filterHash[0][name]=ActiveCompanyClosed&filterHash[0][value]=Y").await;
    assert!(closed.as_array().expect("a").iter().any(|p| p["Period"] == 202504));
    assert!(!closed.as_array().expect("a").iter().any(|p| p["Period"] == 202505));
    let (s, v) = put(&h, &tok, "Settings/ActivePeriod/202507", &json!({})).await;
    assert_eq!((s, v[0]["Period"].as_i64()), (StatusCode::OK, Some(202507)));
    let (_, c) = get(&h, &tok, "Settings/ActiveCompany").await;
    assert_eq!(c[0]["Company"], "A0");
    h.shutdown().await;
}

#[tokio::test]
async fn ar_reads_and_changed_since_cursor() {
    let h = start().await;
    let tok = token(&h).await;
    let (_, bal) = get(&h, &tok, "ARReview/ARBalance").await;
    let rows = bal.as_array().expect("array");
    assert_eq!(rows.len(), 8);
    let paid = rows.iter().find(|r| r["Invoice"] == "0024101").expect("inv");
    assert_eq!(paid["Balance"], 0);
    assert_eq!(paid["OriginalAmt"], 49410.55);
    assert_eq!(paid["BillingClient"], "Harbor County Department of Transportation");
    let (_, one) = get(&h, &tok, "ARReview/ARBalance?ARWBS1InvoiceKey=2024011.00%7C0024103").await;
    assert_eq!(col(&one, "Invoice"), ["0024103"]);
    let (_, det) = get(&h, &tok, "ARReview/ARBalanceDetail?ARWBS1InvoiceKey=2023014.00%7C0024108").await;
    assert_eq!(det.as_array().map(Vec::len), Some(2));
    assert_eq!(det[0]["WBS2Name"], "Final Design");
    assert_eq!(det[0]["WBS3"], " ");
    let (_, cr) = get(&h, &tok, "ARReview/ARBalanceDetailCR").await;
    assert_eq!(cr.as_array().map(Vec::len), Some(2));

    // The bare-object variant of the Postman samples.
    ctl(&h, Method::POST, "switches", Some(json!({"ar_review_bare_object": true}))).await;
    let (_, one) = get(&h, &tok, "ARReview/ARBalance?ARWBS1InvoiceKey=2024011.00%7C0024103").await;
    assert_eq!(one["Invoice"], "0024103");

    // ledger/IN, "changed since a cursor" by ModDate.
    let cursor = "2025-06-05T00:00:00.000";
    let q = format!(
        "ledger/IN?filterHash[0][name]=ModDate&filterHash[0][value]={cursor}&filterHash[0][opp]=%3E%3D&filterHash[0][type]=datetime"
    );
    let (_, recent) = get(&h, &tok, &q).await;
    let mut invs = col(&recent, "Invoice");
    invs.dedup();
    assert_eq!(invs, ["0024107", "0024108"]);
    assert!(recent.as_array().expect("a").iter().all(|r| r["TransType"] == "IN"));
    // An invoice changes (paid): it shows up after the cursor.
    let (s, _) =
        ctl(&h, Method::POST, "actions/touch_ar_invoice", Some(json!({"invoice": "0024103", "balance": 0}))).await;
    assert_eq!(s, StatusCode::OK);
    let (_, recent) = get(&h, &tok, &q).await;
    let mut invs = col(&recent, "Invoice");
    invs.sort();
    invs.dedup();
    assert_eq!(invs, ["0024103", "0024107", "0024108"]);
    h.shutdown().await;
}

#[tokio::test]
async fn remaining_query_switches_and_on_premise_base() {
    let h = builder().on_premise(true).start().await.expect("start");
    assert!(h.base_url().ends_with("/api") && !h.base_url().contains("HarborPine"), "{}", h.base_url());
    let tok = token(&h).await;
    let set = |v: Value| {
        let h = &h;
        async move { ctl(h, Method::POST, "switches", Some(v)).await }
    };
    // SCJ's claim: DataEntry answers 500 when `limit` is sent.
    assert_eq!(get(&h, &tok, "DataEntry/apLanding?limit=5").await.0, StatusCode::OK);
    set(json!({"dataentry_rejects_limit": true})).await;
    let (s, v) = get(&h, &tok, "DataEntry/apLanding?limit=5").await;
    assert_eq!((s, message(&v)), (StatusCode::INTERNAL_SERVER_ERROR, "An error has occurred.".into()));
    assert_eq!(get(&h, &tok, "DataEntry/apLanding?pageSize=5&page=1").await.0, StatusCode::OK);
    assert_eq!(get(&h, &tok, "firm?limit=5").await.0, StatusCode::OK);
    // Projects only by default.
    set(json!({"project_default_wbstype": "wbs1"})).await;
    let (_, p) = get(&h, &tok, "project").await;
    assert_eq!(p.as_array().map(Vec::len), Some(10));
    // SQL LIKE semantics: no wildcards means equality.
    set(json!({"like_adds_wildcards": false})).await;
    let (_, v) =
        get(&h, &tok, "firm?filterHash[0][name]=Name&filterHash[0][value]=geotech&filterHash[0][opp]=like").await;
    assert_eq!(v, json!([]));
    // Unknown filter columns match nothing instead of failing.
    set(json!({"unknown_filter_column_errors": false})).await;
    assert_eq!(
        get(&h, &tok, "firm?filterHash[0][name]=Colour&filterHash[0][value]=x").await,
        (StatusCode::OK, json!([]))
    );
    // Charging a project that has phases at the top level is allowed when the rule is off.
    set(json!({"require_lowest_wbs_level": false})).await;
    let (s, v) = post(
        &h,
        &tok,
        "DataEntry/apControl",
        &ap_body("L1", "BLUEPRNT", "BP-1", &[("2023014.00", "", "", "51200", 10.0)]),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    h.shutdown().await;
}
