//! `Bill` (AP301000, keys `Type` + `ReferenceNbr`, fact sheet §4): defaults, line arithmetic,
//! the links to purchase-order lines, the Hold/Balanced/Open state machine and `ReleaseBill`.
//!
//! - **Numbering** **[C]**: a new bill's `ReferenceNbr` is assigned on save (`000001`, …) and
//!   shows `<NEW>` in a 422 echo before that.
//! - **State** **[I: AP workflow; C: Hold=false then release → Open]**: `Hold=true` → `On Hold`;
//!   `Hold=false` → `Balanced` (or `Pending Approval` with switch `bill_approvals`);
//!   `ReleaseBill` (only from `Balanced`) → `Open` with `Balance = Amount`; paid in full
//!   (`pay_bill` action) → `Closed`. New bills without `Hold` follow "Hold Documents on Entry"
//!   (`bill_hold_on_entry`). A released bill can no longer be edited or deleted.
//! - **Defaults**: `Date` = business date, `PostPeriod` from it (a closed period is refused),
//!   `DueDate` from the terms, terms and currency from the vendor, `BranchID` from the user,
//!   `LocationID` `MAIN`; lines: `Qty` 1, account from the item, subaccount `000000`, branch from
//!   the header; `ExtendedCost = Qty × UnitCost` (2 dp), `Amount` = the sum **[I]**.
//! - **Lines for PO lines** **[C: DOC]**: a line with `POOrderNbr` (+ `POOrderType`, default
//!   Normal) and `POLine` takes item, quantity still to bill, cost and account from that PO
//!   line; without `POLine`, every open line of the PO is added. The PO must belong to the
//!   bill's vendor and be Open or Completed.
//! - **Checks** (422 with the error on the field): vendor exists and is not inactive,
//!   `VendorRef` required (`require_vendor_ref`) and, with `duplicate_vendor_ref = error`,
//!   unique per vendor; branch, account, subaccount, item exist.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

use super::gl::{check_account, check_branch, check_period, check_subaccount, empty, not_found, period_of};
use super::record::{Change, FieldErrors, Record, Row, Scalar, Values, new_guid};
use super::schema::{BILL, PURCHASE_ORDER};
use super::state::AcuState;
use super::switches::DuplicateVendorRef;
use super::vendors::check_usable;

/// Whether the bill may still be edited.
pub fn editable(r: &Record) -> Result<(), String> {
    match r.s("Status").as_str() {
        "H" | "B" | "D" | "J" => Ok(()),
        _ => Err(format!(
            "The document {} cannot be edited because its status is {}.",
            r.s("ReferenceNbr"),
            BILL.fields
                .iter()
                .find(|f| f.name == "Status")
                .map(|f| f.label_of(&r.s("Status")).to_string())
                .unwrap_or_default()
        )),
    }
}

/// The open quantity of a PO line not yet billed.
fn po_open_qty(line: &Row) -> Decimal {
    (line.d("OrderQty") - line.d("_BilledQty")).max(Decimal::ZERO)
}

/// Defaults, derived values and checks for a `Bill` PUT.
pub fn finish(
    st: &mut AcuState,
    old: Option<&Record>,
    r: &mut Record,
    ch: &Change,
    user_branch: &str,
    now: DateTime<Utc>,
    errs: &mut FieldErrors,
) {
    if let Some(o) = old {
        if let Err(m) = editable(o) {
            errs.entity = Some(m);
            return;
        }
        if o.s("Type") != r.s("Type") {
            errs.field("Type", "The document type cannot be changed.");
        }
    } else {
        if !r.has("Type") {
            r.set_s("Type", "INV");
        }
        if r.b("Hold").is_none() {
            r.set("Hold", Scalar::Bool(st.switches.bill_hold_on_entry));
        }
        if !r.has("Date") {
            r.set("Date", Scalar::Date(st.today(now)));
        }
        if !r.has("LocationID") {
            r.set_s("LocationID", "MAIN");
        }
        if !r.has("BranchID") {
            r.set_s("BranchID", user_branch);
        }
        if r.b("ApprovedForPayment").is_none() {
            r.set("ApprovedForPayment", Scalar::Bool(false));
        }
    }
    let vendor_code = r.s("Vendor");
    if vendor_code.is_empty() {
        errs.field("Vendor", empty("Vendor"));
    } else if old.is_none_or(|o| o.s("Vendor") != vendor_code)
        && let Some(m) = check_usable(st, &vendor_code)
    {
        errs.field("Vendor", m);
    }
    let vendor = st.find(&super::schema::VENDOR, &[&vendor_code]).cloned();
    if let Some(v) = &vendor {
        if !r.has("Terms") {
            r.set_s("Terms", v.s("Terms"));
        }
        if !r.has("CurrencyID") {
            r.set_s("CurrencyID", v.s("CurrencyID"));
        }
    }
    if !r.has("CurrencyID") {
        r.set_s("CurrencyID", st.tenant.base_currency.clone());
    }
    if let Some(m) = st.check_currency(&r.s("CurrencyID")) {
        errs.field("CurrencyID", m);
    }
    if let Some(date) = r.date("Date") {
        if ch.main.get("PostPeriod").is_none_or(|v| v.is_none()) && (old.is_none() || ch.main.get("Date").is_some()) {
            r.set_s("PostPeriod", period_of(date));
        }
        if !r.has("DueDate") || (ch.main.get("DueDate").is_none() && ch.main.get("Date").is_some()) {
            let days = st.terms_days(&r.s("Terms")).unwrap_or(0);
            r.set("DueDate", Scalar::Date(date + Duration::days(days)));
        }
    }
    if let Some(m) = check_period(st, &r.s("PostPeriod")) {
        errs.field("PostPeriod", m);
    }
    if r.has("Terms") && st.terms_days(&r.s("Terms")).is_none() {
        errs.field("Terms", not_found("Terms", &r.s("Terms")));
    }
    if r.has("BranchID")
        && let Some(m) = check_branch(st, &r.s("BranchID"))
    {
        errs.field("BranchID", m);
    }
    let vref = r.s("VendorRef");
    if vref.trim().is_empty() {
        if st.switches.require_vendor_ref {
            errs.field("VendorRef", empty("Vendor Ref."));
        }
    } else if st.switches.duplicate_vendor_ref == DuplicateVendorRef::Error {
        let dup = st.list(&BILL).iter().any(|b| {
            b.main.id != r.main.id
                && b.s("Vendor").eq_ignore_ascii_case(&vendor_code)
                && b.s("VendorRef").trim().eq_ignore_ascii_case(vref.trim())
                && b.s("Status") != "V"
        });
        if dup {
            errs.field(
                "VendorRef",
                format!("The document with vendor reference number '{vref}' already exists for this vendor."),
            );
        }
    }
    lines(st, r, &vendor_code, errs);
    // Totals [I]: no taxes in the simulator, so Amount is the lines' sum.
    let total: Decimal = r.rows("Details").iter().map(|l| l.d("Amount")).sum();
    r.set("Amount", Scalar::Dec(total));
    r.set("TaxTotal", Scalar::Dec(Decimal::ZERO));
    r.set("IsTaxValid", Scalar::Bool(true));
    if !matches!(r.s("Status").as_str(), "N" | "C" | "V") {
        r.set("Balance", Scalar::Dec(total));
        let hold = r.b("Hold").unwrap_or(true);
        let was = old.map(|o| o.s("Status")).unwrap_or_default();
        let status = if hold {
            "H"
        } else if st.switches.bill_approvals && was != "B" {
            "D"
        } else {
            "B"
        };
        r.set_s("Status", status);
    }
}

fn lines(st: &AcuState, r: &mut Record, vendor: &str, errs: &mut FieldErrors) {
    let header_branch = r.s("BranchID");
    let mut rows = std::mem::take(r.rows_mut("Details"));
    let mut expanded = Vec::with_capacity(rows.len());
    for mut line in rows.drain(..) {
        let nbr = line.s("POOrderNbr");
        if nbr.is_empty() || line.has("_POLinked") {
            expanded.push(line);
            continue;
        }
        let kind = if line.has("POOrderType") { line.s("POOrderType") } else { "RO".to_string() };
        line.set_s("POOrderType", kind.clone());
        let idx = expanded.len();
        let Some(po) = st.find(&PURCHASE_ORDER, &[&kind, &nbr]) else {
            expanded.push(line);
            errs.line("Details", idx, "POOrderNbr", not_found("Purchase order", &nbr));
            continue;
        };
        if !po.s("VendorID").eq_ignore_ascii_case(vendor) {
            expanded.push(line);
            errs.line("Details", idx, "POOrderNbr", format!("The purchase order {nbr} belongs to another vendor."));
            continue;
        }
        if !matches!(po.s("Status").as_str(), "N" | "M") {
            expanded.push(line);
            errs.line("Details", idx, "POOrderNbr", format!("The purchase order {nbr} is not open for billing."));
            continue;
        }
        let wanted: Vec<&Row> = match line.i("POLine") {
            Some(n) => po.rows("Details").iter().filter(|l| l.i("LineNbr") == Some(n)).collect(),
            None => po.rows("Details").iter().filter(|l| po_open_qty(l) > Decimal::ZERO).collect(),
        };
        if wanted.is_empty() {
            expanded.push(line);
            errs.line("Details", idx, "POLine", format!("The purchase order {nbr} has no such line to bill."));
            continue;
        }
        for (k, pl) in wanted.into_iter().enumerate() {
            let mut l = if k == 0 { line.clone() } else { Row { id: new_guid(), ..Default::default() } };
            l.set_s("POOrderType", kind.clone());
            l.set_s("POOrderNbr", nbr.clone());
            l.set("POLine", Scalar::Int(pl.i("LineNbr").unwrap_or(0)));
            for (to, from) in
                [("InventoryID", "InventoryID"), ("UOM", "UOM"), ("Account", "Account"), ("Subaccount", "Subaccount")]
            {
                if !l.has(to) && pl.has(from) {
                    l.set_s(to, pl.s(from));
                }
            }
            if !l.has("TransactionDescription") && pl.has("LineDescription") {
                l.set_s("TransactionDescription", pl.s("LineDescription"));
            }
            if !l.has("Qty") {
                l.set("Qty", Scalar::Dec(po_open_qty(pl)));
            }
            if !l.has("UnitCost") {
                l.set("UnitCost", Scalar::Dec(pl.d("UnitCost")));
            }
            l.set("_POLinked", Scalar::Bool(true));
            expanded.push(l);
        }
    }
    for (i, line) in expanded.iter_mut().enumerate() {
        if line.has("InventoryID") {
            match st.item(&line.s("InventoryID")) {
                None => errs.line("Details", i, "InventoryID", not_found("Inventory ID", &line.s("InventoryID"))),
                Some(item) => {
                    if !line.has("Account") {
                        line.set_s("Account", item.expense_account.clone());
                    }
                    if !line.has("UOM") {
                        line.set_s("UOM", item.uom.clone());
                    }
                    if !line.has("TransactionDescription") {
                        line.set_s("TransactionDescription", item.description.clone());
                    }
                }
            }
        }
        if !line.has("Qty") {
            line.set("Qty", Scalar::Dec(Decimal::ONE));
        }
        if !line.has("Subaccount") {
            line.set_s("Subaccount", super::gl::default_subaccount(st));
        }
        if !line.has("Branch") {
            line.set_s("Branch", header_branch.clone());
        }
        let ext = if line.has("ExtendedCost") && !line.has("UnitCost") {
            line.d("ExtendedCost")
        } else {
            (line.d("Qty") * line.d("UnitCost")).round_dp(2)
        };
        if !line.has("UnitCost") && !line.d("Qty").is_zero() {
            line.set("UnitCost", Scalar::Dec((ext / line.d("Qty")).round_dp(4)));
        }
        line.set("ExtendedCost", Scalar::Dec(ext));
        line.set("Amount", Scalar::Dec(ext));
        if !line.has("Account") {
            errs.line("Details", i, "Account", empty("Account"));
        } else if let Some(m) = check_account(st, &line.s("Account")) {
            errs.line("Details", i, "Account", m);
        }
        if let Some(m) = check_subaccount(st, &line.s("Subaccount")) {
            errs.line("Details", i, "Subaccount", m);
        }
        if line.has("Branch")
            && let Some(m) = check_branch(st, &line.s("Branch"))
        {
            errs.line("Details", i, "Branch", m);
        }
    }
    *r.rows_mut("Details") = expanded;
}

/// Numbering on commit.
pub fn number(st: &mut AcuState, r: &mut Record) {
    if !r.has("ReferenceNbr") || r.s("ReferenceNbr") == "<NEW>" {
        loop {
            st.seq.bill += 1;
            let n = format!("{:06}", st.seq.bill);
            if st.find(&BILL, &[&r.s("Type"), &n]).is_none() {
                r.set_s("ReferenceNbr", n);
                break;
            }
        }
    }
}

/// Why `ReleaseBill` cannot run on this bill, if it cannot.
pub fn check_release(r: &Record) -> Result<(), String> {
    match r.s("Status").as_str() {
        "B" => Ok(()),
        "H" => Err(format!("The document {} is on hold and cannot be released.", r.s("ReferenceNbr"))),
        "D" => Err(format!("The document {} is pending approval and cannot be released.", r.s("ReferenceNbr"))),
        _ => Err(format!("The document {} has already been released.", r.s("ReferenceNbr"))),
    }
}

/// Apply a release: `Open`, balance = amount, PO lines billed (a PO received and fully billed
/// closes). Returns the POs that changed.
pub fn release(st: &mut AcuState, idx: usize) -> Vec<usize> {
    let bills = st.list_mut(&BILL);
    let r = &mut bills[idx];
    r.set_s("Status", "N");
    r.set("Hold", Scalar::Bool(false));
    let amount = r.d("Amount");
    r.set("Balance", Scalar::Dec(amount));
    let billed: Vec<(String, String, i64, Decimal)> = r
        .rows("Details")
        .iter()
        .filter(|l| l.has("POOrderNbr"))
        .map(|l| (l.s("POOrderType"), l.s("POOrderNbr"), l.i("POLine").unwrap_or(0), l.d("Qty")))
        .collect();
    let mut touched = Vec::new();
    for (kind, nbr, line, qty) in billed {
        let keys = vec![kind, nbr];
        let Some(pi) = st.by_keys(&PURCHASE_ORDER, &keys) else { continue };
        let po = &mut st.list_mut(&PURCHASE_ORDER)[pi];
        if let Some(l) = po.rows_mut("Details").iter_mut().find(|l| l.i("LineNbr") == Some(line)) {
            let b = l.d("_BilledQty") + qty;
            l.set("_BilledQty", Scalar::Dec(b));
        }
        let all_billed = po.rows("Details").iter().all(|l| po_open_qty(l).is_zero());
        if po.s("Status") == "M" && all_billed {
            po.set_s("Status", "C");
        }
        if !touched.contains(&pi) {
            touched.push(pi);
        }
    }
    touched
}
