//! Deltek AP vouchers, JE, hubs writes and validation over real HTTP.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::*;

const GEO: (&str, &str, &str, &str, f64) = ("2024017.00", "02", "", "52200", 1000.0);
const PRINT: (&str, &str, &str, &str, f64) = ("2023014.00", "02", "001", "51200", 275.5);

#[tokio::test]
async fn ap_file_create_read_back_post_and_ledger() {
    let h = start().await;
    let tok = token(&h).await;
    let body = ap_body("B0001", "GRANGEO", "GG-3001", &[GEO, PRINT]);
    let r = client()
        .post(format!("{}/DataEntry/apControl", h.base_url()))
        .bearer_auth(&tok)
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::CREATED);
    let loc = r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(loc.ends_with("/HarborPine/api/DataEntry/apControl/B0001"), "{loc}");
    let echo: Value = r.json().await.expect("json");
    assert_eq!(echo[0]["SumTotal"], 1275.5);
    assert_eq!(echo[0]["DiffTotal"], 0);
    let voucher = echo[0]["apMaster"][0]["Voucher"].as_str().expect("voucher").to_string();
    assert_eq!(voucher.len(), 7);

    // Read back: control, masters, lines (blank WBS3 as " ", read-only echoes), landing.
    let (_, c) = get(&h, &tok, "DataEntry/apControl/B0001").await;
    assert_eq!(c.as_array().map(Vec::len), Some(1));
    assert_eq!(c[0]["Total"], 1275.5);
    let (_, m) = get(&h, &tok, "DataEntry/apMaster/B0001").await;
    assert_eq!((m[0]["Vendor"].as_str(), m[0]["Invoice"].as_str()), (Some("GRANGEO"), Some("GG-3001")));
    assert_eq!(m[0]["InvoiceDate"], "2025-06-10T00:00:00.000");
    let (_, m) = get(&h, &tok, "DataEntry/apMaster/B0001?filterHash[0][name]=Vendor&filterHash[0][value]=GRANGEO&filterHash[1][name]=Invoice&filterHash[1][value]=GG-3001").await;
    assert_eq!(m.as_array().map(Vec::len), Some(1));
    let (_, d) = get(&h, &tok, "DataEntry/apDetail/B0001").await;
    assert_eq!(d.as_array().map(Vec::len), Some(2));
    assert_eq!(d[0]["WBS3"], " ");
    assert_eq!(d[0]["AccountName"], "Reimb. Consultants - Geotechnical");
    assert_eq!(d[0]["AccountType"], 6);
    assert_eq!(d[1]["WBS1Name"], "Harbor Bridge Rehabilitation");
    let (_, l) = get(&h, &tok, "DataEntry/apLanding?filterHash[0][name]=Batch&filterHash[0][value]=B0001").await;
    assert_eq!(l[0]["ApprovalStatus"], "N");
    assert_eq!(l[0]["ApprovalStatusDesc"], "In Progress");
    assert_eq!(l[0]["Period"], "06/2025");
    assert_eq!(l[0]["RawPeriod"], 202506);
    assert_eq!(get(&h, &tok, "DataEntry/apControl/NOPE").await, (StatusCode::OK, json!([])));

    // Post.
    let (s, v) = put(&h, &tok, "DataEntry/PostTransFile", &post_parms("B0001", "AP")).await;
    assert_eq!(s, StatusCode::OK);
    let r = post_result(&v);
    assert_eq!(r["retList"], "1");
    assert_eq!(r["typeList"], "AP");
    assert_eq!(r["batchList"], "B0001");
    assert_eq!(r["periodList"], "202506");
    let seq = r["postseqList"].as_str().expect("seq").to_string();
    assert!(seq.parse::<i64>().is_ok());
    assert_eq!(r["msg"], format!("AP file B0001; 1 of 1 records posted; Posting sequence {seq}\r\n"));

    // Ledger rows: SubType L, Vendor, Voucher, Invoice blank, blank WBS as " ".
    let (_, rows) =
        get(&h, &tok, &format!("ledger/AP?filterHash[0][name]=Voucher&filterHash[0][value]={voucher}&order=Line"))
            .await;
    let rows = rows.as_array().expect("rows").clone();
    assert_eq!(rows.len(), 2);
    for r in &rows {
        assert_eq!(r["SubType"], "L");
        assert_eq!(r["Vendor"], "GRANGEO");
        assert_eq!(r["TransType"], "AP");
        assert_eq!(r["Invoice"], " ");
        assert_eq!(r["Period"], 202506);
        assert_eq!(r["PostSeq"].to_string(), seq);
    }
    assert_eq!(rows[0]["WBS3"], " ");
    assert_eq!(rows[0]["Amount"], 1000);
    assert_eq!(rows[0]["BillStatus"], "B");
    // Landing shows it posted.
    let (_, l) = get(&h, &tok, "DataEntry/apLanding?filterHash[0][name]=Batch&filterHash[0][value]=B0001").await;
    assert_eq!((l[0]["ApprovalStatus"].as_str(), l[0]["PostStatus"].as_str()), (Some("P"), Some("Y")));
    assert_eq!(l[0]["PostStatusDesc"], "Complete");
    // Posting twice fails in the answer, not the status; a posted file cannot be edited.
    let (_, v) = put(&h, &tok, "DataEntry/PostTransFile", &post_parms("B0001", "AP")).await;
    assert_eq!(post_result(&v)["retList"], "0");
    let (s, v) = put(&h, &tok, "DataEntry/apControl/B0001", &json!({"Description": "x"})).await;
    assert_eq!(
        (s, message(&v)),
        (StatusCode::BAD_REQUEST, "AP file B0001 has been posted and cannot be modified.".into())
    );
    // The invoice number only under the switch.
    ctl(&h, Method::POST, "switches", Some(json!({"ledger_ap_includes_invoice": true}))).await;
    post(&h, &tok, "DataEntry/apControl", &ap_body("B0002", "GRANGEO", "GG-3002", &[GEO])).await;
    put(&h, &tok, "DataEntry/PostTransFile", &post_parms("B0002", "AP")).await;
    let (_, rows) = get(&h, &tok, "ledger/AP?filterHash[0][name]=Batch&filterHash[0][value]=B0002").await;
    assert_eq!(rows[0]["Invoice"], "GG-3002");
    h.shutdown().await;
}

#[tokio::test]
async fn parms_array_several_files_and_tax_rows() {
    let h = start().await;
    let tok = token(&h).await;
    let mut body = ap_body("T1", "BLUEPRNT", "BP-1", &[("2023014.00", "02", "001", "51200", 108.0)]);
    body["apDetail"][0]["NetAmount"] = json!(100.0);
    body["apDetailTax"] =
        json!([{"Batch": "T1", "MasterPKey": "T1M1", "PKey": "T1L0", "TaxCode": "WA", "Seq": 1, "TaxAmount": 8.0}]);
    assert_eq!(post(&h, &tok, "DataEntry/apControl", &body).await.0, StatusCode::CREATED);
    assert_eq!(
        post(&h, &tok, "DataEntry/apControl", &ap_body("T2", "PRINTPRO", "PP-9", &[PRINT])).await.0,
        StatusCode::CREATED
    );
    let parms = json!({"parms": [
        {"batch": "T1", "clientcompany": "A0", "description": "first", "period": "202506", "transtype": "AP"},
        {"batch": "T2", "clientcompany": "A0", "description": "second", "period": 202506, "transtype": "AP"}
    ]});
    let (_, v) = put(&h, &tok, "DataEntry/PostTransFile", &parms).await;
    let r = post_result(&v);
    assert_eq!(r["typeList"], "AP|AP");
    assert_eq!(r["batchList"], "T1|T2");
    assert_eq!(r["retList"], "1|1");
    assert_eq!(r["periodList"], "202506|202506");
    assert!(r["msg"].as_str().expect("msg").contains("AP file first; 1 of 1 records posted"));
    let (_, rows) = get(&h, &tok, "ledger/AP?filterHash[0][name]=Batch&filterHash[0][value]=T1&order=SubType").await;
    let subs: Vec<&str> = rows.as_array().expect("a").iter().map(|r| r["SubType"].as_str().unwrap_or("")).collect();
    assert_eq!(subs, ["L", "T"]);
    assert_eq!(rows[0]["Amount"], 100);
    assert_eq!(rows[1]["Amount"], 8);
    assert_eq!(rows[1]["TaxCode"], "WA");
    // One-element array form.
    post(&h, &tok, "DataEntry/apControl", &ap_body("T3", "PRINTPRO", "PP-10", &[PRINT])).await;
    let (_, v) =
        put(&h, &tok, "DataEntry/PostTransFile", &json!({"parms": [{"batch": "T3", "transtype": "AP"}]})).await;
    assert_eq!(post_result(&v)["retList"], "1");
    h.shutdown().await;
}

async fn expect_400(h: &mlc_sim::common::SimHandle<mlc_sim::deltek::DeltekSim>, tok: &str, body: &Value, msg: &str) {
    let (s, v) = post(h, tok, "DataEntry/apControl", body).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(message(&v), msg);
}

#[tokio::test]
async fn every_validation_message() {
    let h = start().await;
    let tok = token(&h).await;
    let one = |vendor: &str, line: (&str, &str, &str, &str, f64)| ap_body("V1", vendor, "INV-1", &[line]);
    expect_400(&h, &tok, &one("NOPE", GEO), "Vendor NOPE does not exist.").await;
    expect_400(
        &h,
        &tok,
        &one("RIVERDEV", GEO),
        "Vendor RIVERDEV is not marked as a vendor and cannot be used in AP transactions.",
    )
    .await;
    expect_400(&h, &tok, &one("OLDVEND", GEO), "Vendor OLDVEND is inactive and cannot be used in AP transactions.")
        .await;
    expect_400(&h, &tok, &one("NEWVEND", GEO), "Vendor NEWVEND is not approved for use in processing.").await;
    expect_400(&h, &tok, &one("GRANGEO", ("2024017.00", "02", "", "99999", 1.0)), "Account 99999 does not exist.")
        .await;
    expect_400(&h, &tok, &one("GRANGEO", ("OH-0001.00", "ADM", "", "69900", 1.0)), "Account 69900 is inactive.").await;
    expect_400(
        &h,
        &tok,
        &one("GRANGEO", ("2024017.00", "02", "", "60300", 1.0)),
        "Account 60300 cannot be used with regular project 2024017.00. Regular projects require a direct or reimbursable account.",
    )
    .await;
    expect_400(
        &h,
        &tok,
        &one("GRANGEO", ("OH-0001.00", "ADM", "", "51100", 1.0)),
        "Account 51100 cannot be used with overhead project OH-0001.00. Overhead and promotional projects require an indirect account.",
    )
    .await;
    expect_400(&h, &tok, &one("GRANGEO", ("2099999.00", "", "", "51100", 1.0)), "Project 2099999.00 does not exist.")
        .await;
    expect_400(
        &h,
        &tok,
        &one("GRANGEO", ("2024017.00", "09", "", "51100", 1.0)),
        "Project 2024017.00 / 09 does not exist.",
    )
    .await;
    expect_400(
        &h,
        &tok,
        &one("GRANGEO", ("2023014.00", "", "", "51100", 1.0)),
        "Project 2023014.00 has sub-levels; charges must be made to the lowest level.",
    )
    .await;
    expect_400(&h, &tok, &one("GRANGEO", ("2022031.00", "", "", "51100", 1.0)), "Project 2022031.00 is inactive.")
        .await;
    expect_400(&h, &tok, &one("GRANGEO", ("", "", "", "51100", 1.0)), "A project is required for account 51100.").await;
    let mut b = one("GRANGEO", GEO);
    b["apMaster"][0]["Colour"] = json!("red");
    expect_400(&h, &tok, &b, "Field Colour does not exist.").await;
    let mut b = one("GRANGEO", GEO);
    b["Description"] = json!("A description that is much longer than forty characters");
    expect_400(
        &h,
        &tok,
        &b,
        "String or binary data would be truncated in table 'C000004172P_1_HARBORPINE.dbo.apControl', column 'Description'. Truncated value: 'A description that is much longer than f'. The statement has been terminated.",
    )
    .await;
    let mut b = one("GRANGEO", GEO);
    b["Period"] = json!(202504);
    expect_400(&h, &tok, &b, "Period 202504 is closed.").await;
    let mut b = one("GRANGEO", GEO);
    b["apDetail"][0]["MasterPKey"] = json!("OTHER");
    expect_400(&h, &tok, &b, "Master record OTHER does not exist.").await;
    // Nothing above was written.
    assert_eq!(get(&h, &tok, "DataEntry/apControl/V1").await.1, json!([]));
    // Duplicate key.
    assert_eq!(post(&h, &tok, "DataEntry/apControl", &one("GRANGEO", GEO)).await.0, StatusCode::CREATED);
    expect_400(&h, &tok, &one("GRANGEO", GEO), "Record V1 already exists and cannot be added.").await;
    // Doubled messages under the switch.
    ctl(&h, Method::POST, "switches", Some(json!({"double_messages": true}))).await;
    expect_400(
        &h,
        &tok,
        &one("GRANGEO", GEO),
        "Record V1 already exists and cannot be added. Record V1 already exists and cannot be added.",
    )
    .await;
    h.shutdown().await;
}

#[tokio::test]
async fn strict_duplicate_invoice_switch() {
    let h = start().await;
    let tok = token(&h).await;
    // Default: a second voucher for the same vendor invoice is accepted (the UI only warns).
    assert_eq!(
        post(&h, &tok, "DataEntry/apControl", &ap_body("D1", "GRANGEO", "GG-77", &[GEO])).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        post(&h, &tok, "DataEntry/apControl", &ap_body("D2", "GRANGEO", "GG-77", &[GEO])).await.0,
        StatusCode::CREATED
    );
    ctl(&h, Method::POST, "switches", Some(json!({"strict_duplicate_invoice": true}))).await;
    expect_400(
        &h,
        &tok,
        &ap_body("D3", "grangeo", "GG-77", &[GEO]),
        "Invoice GG-77 already exists for vendor grangeo.",
    )
    .await;
    // Also against posted history seeded "by hand".
    expect_400(
        &h,
        &tok,
        &ap_body("D4", "GRANGEO", "GG-2291", &[GEO]),
        "Invoice GG-2291 already exists for vendor GRANGEO.",
    )
    .await;
    assert_eq!(
        post(&h, &tok, "DataEntry/apControl", &ap_body("D5", "GRANGEO", "GG-78", &[GEO])).await.0,
        StatusCode::CREATED
    );
    h.shutdown().await;
}

#[tokio::test]
async fn posting_rules_closed_period_balance_and_approvals() {
    let h = start().await;
    let tok = token(&h).await;
    // Closed after save: the post fails with retList 0.
    let mut b = ap_body("P1", "GRANGEO", "GG-1", &[GEO]);
    b["Period"] = json!(202505);
    assert_eq!(post(&h, &tok, "DataEntry/apControl", &b).await.0, StatusCode::CREATED);
    ctl(&h, Method::POST, "actions/set_period_closed", Some(json!({"period": 202505, "closed": true}))).await;
    let (_, v) = put(&h, &tok, "DataEntry/PostTransFile", &post_parms("P1", "AP")).await;
    let r = post_result(&v);
    assert_eq!(r["retList"], "0");
    assert_eq!(r["msg"], "AP file P1; 0 of 1 records posted; Period 202505 is closed.\r\n");

    // Unbalanced: control total 1200 vs lines 1000.
    let mut b = ap_body("P2", "GRANGEO", "GG-2", &[GEO]);
    b["Total"] = json!(1200);
    post(&h, &tok, "DataEntry/apControl", &b).await;
    let (_, v) = put(&h, &tok, "DataEntry/PostTransFile", &post_parms("P2", "AP")).await;
    let r = post_result(&v);
    assert_eq!(r["retList"], "0");
    assert!(r["msg"].as_str().expect("msg").contains("does not equal the control total 1200.00"), "{r}");
    ctl(&h, Method::POST, "switches", Some(json!({"ignore_control_totals": true}))).await;
    let (_, v) = put(&h, &tok, "DataEntry/PostTransFile", &post_parms("P2", "AP")).await;
    assert_eq!(post_result(&v)["retList"], "1");

    // Approvals required: N until approved.
    ctl(&h, Method::POST, "switches", Some(json!({"approvals": "required"}))).await;
    post(&h, &tok, "DataEntry/apControl", &ap_body("P3", "GRANGEO", "GG-3", &[GEO])).await;
    let (_, v) = put(&h, &tok, "DataEntry/PostTransFile", &post_parms("P3", "AP")).await;
    assert_eq!(post_result(&v)["msg"], "AP file P3; 0 of 1 records posted; File P3 has not been approved.\r\n");
    let (s, _) = ctl(
        &h,
        Method::POST,
        "actions/set_approval_status",
        Some(json!({"batch": "P3", "status": "A", "by": "JSMITH"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (_, m) = get(&h, &tok, "DataEntry/apMaster/P3").await;
    assert_eq!((m[0]["Status"].as_str(), m[0]["AuthorizedBy"].as_str()), (Some("A"), Some("JSMITH")));
    let (_, v) = put(&h, &tok, "DataEntry/PostTransFile", &post_parms("P3", "AP")).await;
    assert_eq!(post_result(&v)["retList"], "1");
    // Auto-submit: a new file lands Submitted.
    ctl(&h, Method::POST, "switches", Some(json!({"approvals": "auto_submit"}))).await;
    post(&h, &tok, "DataEntry/apControl", &ap_body("P4", "GRANGEO", "GG-4", &[GEO])).await;
    let (_, l) = get(&h, &tok, "DataEntry/apLanding?filterHash[0][name]=Batch&filterHash[0][value]=P4").await;
    assert_eq!((l[0]["ApprovalStatus"].as_str(), l[0]["ApprovalStatusDesc"].as_str()), (Some("S"), Some("Submitted")));
    h.shutdown().await;
}

#[tokio::test]
async fn zero_money_role_and_switch() {
    let h = start().await;
    let tok = token(&h).await;
    post(&h, &tok, "DataEntry/apControl", &ap_body("Z1", "GRANGEO", "GG-1", &[GEO])).await;
    // The VIEWER role reads money as zero.
    let mut f = token_form(&creds(&h));
    f.iter_mut().filter(|(k, _)| *k == "Username").for_each(|(_, v)| *v = "VIEWER".into());
    let (_, t) = post_form(&h, &f).await;
    let viewer = t["access_token"].as_str().expect("at").to_string();
    let (_, d) = get(&h, &viewer, "DataEntry/apDetail/Z1").await;
    assert_eq!((d[0]["Amount"].clone(), d[0]["NetAmount"].clone()), (json!(0), json!(0)));
    assert_eq!(d[0]["Account"], "52200");
    let (_, c) = get(&h, &viewer, "DataEntry/apControl/Z1").await;
    assert_eq!(c[0]["Total"], 0);
    let (_, b) = get(&h, &viewer, "ARReview/ARBalance").await;
    assert!(b.as_array().expect("a").iter().all(|r| r["Balance"] == 0 && r["OriginalAmt"] == 0));
    let (_, b) = get(&h, &viewer, "ARReview/ARBalanceDetail").await;
    assert!(b.as_array().expect("a").iter().all(|r| r["InvoiceAmount"] == 0));
    // The full user still sees amounts, until the switch hides them for everyone.
    assert_eq!(get(&h, &tok, "DataEntry/apDetail/Z1").await.1[0]["Amount"], 1000);
    ctl(&h, Method::POST, "switches", Some(json!({"zero_money_fields": true}))).await;
    assert_eq!(get(&h, &tok, "DataEntry/apDetail/Z1").await.1[0]["Amount"], 0);
    h.shutdown().await;
}

#[tokio::test]
async fn answer_shape_switches() {
    let h = start().await;
    let tok = token(&h).await;
    // POST 200 instead of 201.
    ctl(&h, Method::POST, "switches", Some(json!({"post_status": 200}))).await;
    assert_eq!(
        post(&h, &tok, "DataEntry/apControl", &ap_body("S1", "GRANGEO", "GG-1", &[GEO])).await.0,
        StatusCode::OK
    );
    // SCJ-style error body.
    ctl(&h, Method::POST, "switches", Some(json!({"error_shape": "scj"}))).await;
    let (s, v) = post(&h, &tok, "DataEntry/apControl", &ap_body("S2", "NOPE", "X", &[GEO])).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v, json!({"message": "Vendor NOPE does not exist.", "detail": ""}));
    // HTML error body.
    ctl(&h, Method::POST, "switches", Some(json!({"error_shape": "html"}))).await;
    let r = client()
        .post(format!("{}/DataEntry/apControl", h.base_url()))
        .bearer_auth(&tok)
        .json(&ap_body("S3", "NOPE", "X", &[GEO]))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers()["content-type"].to_str().unwrap_or("").starts_with("text/html"));
    assert!(r.text().await.expect("text").contains("Vendor NOPE does not exist."));
    // Bad switch names are refused.
    let (s, _) = ctl(&h, Method::POST, "switches", Some(json!({"no_such_switch": true}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    h.shutdown().await;
}

#[tokio::test]
async fn files_no_shape_update_and_delete() {
    let h = start().await;
    let tok = token(&h).await;
    let master = json!({
        "Vendor": "PRINTPRO", "Invoice": "PP-501", "InvoiceDate": "2025-06-12",
        "apDetail": [{"PKey": "L1", "WBS1": "2023014.00", "WBS2": "02", "WBS3": "002", "Account": "51200", "Amount": "560.00"}]
    });
    let (s, v) = post(&h, &tok, "DataEntry/apMaster/F1%7CM1", &master).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v[0]["MasterPKey"], "M1");
    assert_eq!(v[0]["apDetail"][0]["Amount"], 560);
    let (_, m) = get(&h, &tok, "DataEntry/apMaster/F1%7CM1").await;
    assert_eq!(m.as_array().map(Vec::len), Some(1));
    // PUT: PATCH the control, add a voucher.
    let patch = json!({"Total": 1835.5, "apMaster": [{"MasterPKey": "M2", "Vendor": "BLUEPRNT", "Invoice": "BP-9"}],
                       "apDetail": [{"MasterPKey": "M2", "PKey": "L2", "WBS1": "2023014.00", "WBS2": "02", "WBS3": "001", "Account": "51200", "Amount": 1275.5}]});
    let (s, v) = put(&h, &tok, "DataEntry/apControl/F1", &patch).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v[0]["SumTotal"], 1835.5);
    assert_eq!(v[0]["apMaster"].as_array().map(Vec::len), Some(2));
    let (_, v) = put(&h, &tok, "DataEntry/PostTransFile", &post_parms("F1", "AP")).await;
    assert_eq!(post_result(&v)["msg"].as_str().map(|m| m.contains("2 of 2 records posted")), Some(true));
    // DELETE an unposted file.
    post(&h, &tok, "DataEntry/apControl", &ap_body("F2", "GRANGEO", "GG-1", &[GEO])).await;
    assert_eq!(call(&h, &tok, Method::DELETE, "DataEntry/apControl/F2", None).await.0, StatusCode::OK);
    assert_eq!(get(&h, &tok, "DataEntry/apControl/F2").await.1, json!([]));
    // The older ledger-style create.
    let (s, _) = post(&h, &tok, "ledger/AP", &ap_body("F3", "GRANGEO", "GG-2", &[GEO])).await;
    assert_eq!(s, StatusCode::CREATED);
    h.shutdown().await;
}

#[tokio::test]
async fn firm_project_and_account_writes() {
    let h = start().await;
    let tok = token(&h).await;
    let (s, v) = post(&h, &tok, "firm", &json!({"Client": "ACMEPIPE", "Name": "Acme Pipe Supply", "VendorInd": "Y", "vendor": "ACMEPIPE",
        "address": [{"Address": "Remit", "Payment": "Y", "Address1": "PO Box 9", "City": "Kent", "State": "WA", "Zip": "98032"}]})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v[0]["ClientID"].as_str().expect("id").to_string();
    assert_eq!(id.len(), 32);
    assert_eq!(v[0]["Status"], "A");
    let (_, a) = get(&h, &tok, &format!("firm/{id}/address")).await;
    assert_eq!(a[0]["Payment"], "Y");
    // fieldFilter shapes the echo of a write.
    let (s, v) =
        put(&h, &tok, &format!("firm/{id}?fieldFilter=ClientID,Name"), &json!({"Name": "Acme Pipe Supply"})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v, json!([{"ClientID": id, "Name": "Acme Pipe Supply"}]));
    // Duplicate vendor number.
    let (s, v) = post(&h, &tok, "firm", &json!({"Name": "Other", "Vendor": "acmepipe", "VendorInd": "Y"})).await;
    assert_eq!(
        (s, message(&v)),
        (StatusCode::BAD_REQUEST, "Record acmepipe already exists and cannot be added.".into())
    );
    // PUT behaves as PATCH.
    let (s, v) = put(&h, &tok, &format!("firm/{id}"), &json!({"Status": "I"})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!((v[0]["Status"].as_str(), v[0]["Name"].as_str()), (Some("I"), Some("Acme Pipe Supply")));
    let (s, v) = put(&h, &tok, &format!("firm/{id}"), &json!({"Colour": "red"})).await;
    assert_eq!((s, message(&v)), (StatusCode::BAD_REQUEST, "Field Colour does not exist.".into()));
    assert_eq!(
        put(&h, &tok, "firm/ffffffffffffffffffffffffffffffff", &json!({"Status": "A"})).await.0,
        StatusCode::NOT_FOUND
    );
    // The inactive new vendor cannot be used.
    expect_400(
        &h,
        &tok,
        &ap_body("W1", "ACMEPIPE", "1", &[GEO]),
        "Vendor ACMEPIPE is inactive and cannot be used in AP transactions.",
    )
    .await;

    // Projects: a new phase marks its parent.
    assert_eq!(
        post(&h, &tok, "project", &json!({"WBS1": "2025009.00", "Name": "New Project", "ChargeType": "R"})).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        post(&h, &tok, "project", &json!({"WBS1": "2025009.00", "WBS2": "01", "Name": "Phase 1"})).await.0,
        StatusCode::CREATED
    );
    assert_eq!(get(&h, &tok, "project/2025009.00").await.1[0]["SubLevel"], "Y");
    let (_, v) = post(&h, &tok, "project", &json!({"WBS1": "2025009.00", "Name": "Again"})).await;
    assert_eq!(message(&v), "Record 2025009.00 already exists and cannot be added.");

    // Accounts: the four keys must be present; SQL truncation leaks.
    let acct = |code: &str, name: &str| {
        json!({"Account": code, "Name": name, "Type": 9, "Status": "A", "Detail": "1",
        "CashBasisAccount": "", "UnrealizedLossAccount": "", "UnrealizedGainAccount": "", "CashBasisRevaluation": ""})
    };
    let (s, v) = post(&h, &tok, "Accounts", &json!({"Account": "61400", "Name": "Postage", "Type": 9})).await;
    assert_eq!((s, message(&v)), (StatusCode::BAD_REQUEST, "Column:CashBasisAccount does not exist.".into()));
    let (s, v) = post(&h, &tok, "Accounts", &acct("61400", "Postage and delivery charges for project documents")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        message(&v).starts_with(
            "String or binary data would be truncated in table 'C000004172P_1_HARBORPINE.dbo.CA', column 'Name'."
        ),
        "{v}"
    );
    assert_eq!(post(&h, &tok, "Accounts", &acct("61400", "Postage")).await.0, StatusCode::CREATED);
    let (_, v) = post(&h, &tok, "Accounts", &acct("61400", "Postage")).await;
    assert_eq!(message(&v), "Record 61400 already exists and cannot be added.");
    h.shutdown().await;
}

#[tokio::test]
async fn journal_entries_must_balance() {
    let h = start().await;
    let tok = token(&h).await;
    let je = |batch: &str, dr: f64, cr: f64, credit_account: &str| {
        json!({
            "Batch": batch, "Description": "Reclass", "Total": dr, "CreditsTotal": cr, "Period": 202506,
            "jeMaster": [{"Batch": batch, "RefNo": "R1", "TransDate": "2025-06-16", "Description": "Reclass", "Type": "3"}],
            "jeDetail": [
                {"RefNo": "R1", "PKey": "J1", "WBS1": "OH-0001.00", "WBS2": "IT", "Account": "60400", "DebitAmount": dr, "CreditAmount": 0},
                {"RefNo": "R1", "PKey": "J2", "WBS1": "OH-0001.00", "WBS2": "ADM", "Account": credit_account, "DebitAmount": 0, "CreditAmount": cr}
            ]
        })
    };
    let (s, v) = post(&h, &tok, "DataEntry/jeControl", &je("J1", 44.0, 40.0, "60300")).await;
    assert_eq!(
        (s, message(&v)),
        (
            StatusCode::BAD_REQUEST,
            "Journal entry R1 is out of balance: debits 44.00 do not equal credits 40.00.".into()
        )
    );
    let (s, v) = post(&h, &tok, "DataEntry/jeControl", &je("J1", 44.0, 44.0, "20100")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        message(&v),
        "Account 20100 is an accounts payable or accounts receivable control account and cannot be used in a journal entry."
    );
    let (s, v) = post(&h, &tok, "DataEntry/jeControl", &je("J1", 44.0, 44.0, "60300")).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, v) = put(&h, &tok, "DataEntry/PostTransFile", &post_parms("J1", "JE")).await;
    assert_eq!(post_result(&v)["retList"], "1", "{v}");
    let (_, rows) = get(&h, &tok, "ledger/JE?filterHash[0][name]=Batch&filterHash[0][value]=J1").await;
    let amounts: Vec<f64> = rows.as_array().expect("a").iter().map(|r| r["Amount"].as_f64().unwrap_or(0.0)).collect();
    assert_eq!(amounts, [44.0, -44.0]);
    // Saved unbalanced (switch off): posting refuses it.
    ctl(&h, Method::POST, "switches", Some(json!({"je_balance_on_create": false}))).await;
    assert_eq!(post(&h, &tok, "DataEntry/jeControl", &je("J2", 10.0, 9.0, "60300")).await.0, StatusCode::CREATED);
    let (_, v) = put(&h, &tok, "DataEntry/PostTransFile", &post_parms("J2", "JE")).await;
    let r = post_result(&v);
    assert_eq!(r["retList"], "0");
    assert_eq!(
        r["msg"],
        "JE file J2; 0 of 1 records posted; Journal entry R1 is out of balance: debits 10.00 do not equal credits 9.00.\r\n"
    );
    let (_, l) = get(&h, &tok, "DataEntry/jeLanding?filterHash[0][name]=Batch&filterHash[0][value]=J1").await;
    assert_eq!(l[0]["ApprovalStatus"], "P");
    h.shutdown().await;
}
