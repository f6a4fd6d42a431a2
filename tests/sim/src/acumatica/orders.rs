//! `PurchaseOrder` (PO301000, keys `Type` + `OrderNbr`, fact sheet §4): defaults, lines, totals
//! and the On Hold ↔ Open → Completed/Closed state machine.
//!
//! - **Numbering** **[C]**: `OrderNbr` is assigned on save (`PO000001`, …); lines get `LineNbr`
//!   1, 2, … and mirror `OrderType`/`OrderNbr`.
//! - **State** **[I: PO workflow]**: `Hold=true` → `On Hold`; `Hold=false` → `Open` (or
//!   `Pending Approval` with `po_approvals`; `approve` action → `Open`); `receive_po` action
//!   → `Completed`; completed and fully billed → `Closed`; `cancel_po` → `Canceled`. A PO can
//!   be changed while `On Hold` or `Open` (lines added, quantities and costs changed, lines
//!   deleted when nothing was received or billed on them); in any other status a PUT is a 422
//!   saying so, which is what the flow reports as "Acumatica no longer allows changes".
//! - **Lines** **[I]**: an item's line type defaults from the item (stock → `Goods for IN`,
//!   else `Non-Stock`); a line without an item must be a non-stock, service, freight or
//!   description line with an account; goods lines need a warehouse (default from the vendor,
//!   else `MAIN`); `OrderQty > 0`; `ExtendedCost = OrderQty × UnitCost`; `LineTotal`,
//!   `OrderTotal` are the sum (no taxes in the simulator).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::gl::{check_account, check_branch, check_subaccount, empty, not_found};
use super::record::{Change, FieldErrors, Record, Scalar, Values};
use super::schema::{PO_STATUS, PURCHASE_ORDER, VENDOR};
use super::state::AcuState;
use super::vendors::check_usable;

fn status_label(code: &str) -> &str {
    PO_STATUS.iter().find(|(c, _)| *c == code).map(|(_, l)| *l).unwrap_or(code)
}

/// Whether the PO may still be changed through the API.
pub fn editable(r: &Record) -> Result<(), String> {
    match r.s("Status").as_str() {
        "H" | "N" | "P" | "R" => Ok(()),
        s => Err(format!(
            "The purchase order {} cannot be changed because its status is {}.",
            r.s("OrderNbr"),
            status_label(s)
        )),
    }
}

/// Defaults, derived values and checks for a `PurchaseOrder` PUT.
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
            errs.field("Type", "The order type cannot be changed.");
        }
        // Lines with receipts or bills stay (deleting them is refused).
        if let Some(rows) = ch.rows("Details") {
            for rc in rows.iter().filter(|x| x.delete) {
                if let Some(line) =
                    o.rows("Details").iter().find(|l| rc.id.as_deref().is_some_and(|id| id.eq_ignore_ascii_case(&l.id)))
                    && (line.d("_BilledQty") > Decimal::ZERO || line.d("QtyOnReceipts") > Decimal::ZERO)
                {
                    errs.entity = Some(format!(
                        "Line {} of purchase order {} cannot be deleted because it has been received or billed.",
                        line.i("LineNbr").unwrap_or(0),
                        o.s("OrderNbr")
                    ));
                }
            }
        }
    } else {
        if !r.has("Type") {
            r.set_s("Type", "RO");
        }
        if r.b("Hold").is_none() {
            r.set("Hold", Scalar::Bool(st.switches.po_hold_on_entry));
        }
        if !r.has("Date") {
            r.set("Date", Scalar::Date(st.today(now)));
        }
        if !r.has("Branch") {
            r.set_s("Branch", user_branch);
        }
        if !r.has("Location") {
            r.set_s("Location", "MAIN");
        }
    }
    let vendor_code = r.s("VendorID");
    if vendor_code.is_empty() {
        errs.field("VendorID", empty("Vendor"));
    } else if old.is_none_or(|o| o.s("VendorID") != vendor_code)
        && let Some(m) = check_usable(st, &vendor_code)
    {
        errs.field("VendorID", m);
    }
    let vendor = st.find(&VENDOR, &[&vendor_code]).cloned();
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
    r.set_s("BaseCurrencyID", st.tenant.base_currency.clone());
    if r.has("Branch")
        && let Some(m) = check_branch(st, &r.s("Branch"))
    {
        errs.field("Branch", m);
    }
    let default_wh =
        vendor.as_ref().map(|v| v.s("Warehouse")).filter(|w| !w.is_empty()).unwrap_or_else(|| "MAIN".into());
    let (kind, nbr, branch) = (r.s("Type"), r.s("OrderNbr"), r.s("Branch"));
    let next_line = r.rows("Details").iter().filter_map(|l| l.i("LineNbr")).max().unwrap_or(0);
    let mut n = next_line;
    let sub_default = super::gl::default_subaccount(st);
    for (i, line) in r.rows_mut("Details").iter_mut().enumerate() {
        if line.i("LineNbr").is_none() {
            n += 1;
            line.set("LineNbr", Scalar::Int(n));
        }
        line.set_s("OrderType", kind.clone());
        line.set_s("OrderNbr", nbr.clone());
        if line.has("InventoryID") {
            match st.item(&line.s("InventoryID")) {
                None => errs.line("Details", i, "InventoryID", not_found("Inventory ID", &line.s("InventoryID"))),
                Some(item) => {
                    if !line.has("LineType") {
                        line.set_s("LineType", if item.stock { "GI" } else { "NO" });
                    }
                    if !line.has("UOM") {
                        line.set_s("UOM", item.uom.clone());
                    }
                    if !line.has("LineDescription") {
                        line.set_s("LineDescription", item.description.clone());
                    }
                    if !line.has("Account") {
                        line.set_s("Account", item.expense_account.clone());
                    }
                    if !line.has("UnitCost") {
                        line.set("UnitCost", Scalar::Dec(item.last_cost));
                    }
                    if item.stock && matches!(line.s("LineType").as_str(), "NO" | "SV" | "FT" | "DN") {
                        errs.line(
                            "Details",
                            i,
                            "LineType",
                            format!("'{}' is a stock item: use a Goods line type.", item.inventory_id),
                        );
                    }
                }
            }
        } else {
            if !line.has("LineType") {
                line.set_s("LineType", "NO");
            }
            if matches!(line.s("LineType").as_str(), "GI" | "GS" | "GP") {
                errs.line("Details", i, "InventoryID", empty("Inventory ID"));
            }
        }
        let goods = matches!(line.s("LineType").as_str(), "GI" | "GS" | "GP");
        if goods && !line.has("WarehouseID") {
            line.set_s("WarehouseID", default_wh.clone());
        }
        if line.has("WarehouseID") && !st.warehouses.iter().any(|w| w.eq_ignore_ascii_case(&line.s("WarehouseID"))) {
            errs.line("Details", i, "WarehouseID", not_found("Warehouse", &line.s("WarehouseID")));
        }
        if !line.has("BranchID") {
            line.set_s("BranchID", branch.clone());
        }
        if !line.has("Subaccount") {
            line.set_s("Subaccount", sub_default.clone());
        }
        if line.s("LineType") != "DN" {
            if !line.has("OrderQty") {
                errs.line("Details", i, "OrderQty", empty("Order Qty."));
            } else if line.d("OrderQty") <= Decimal::ZERO {
                errs.line("Details", i, "OrderQty", "Order Qty. must be greater than 0.");
            } else if line.d("OrderQty") < line.d("_BilledQty").max(line.d("QtyOnReceipts")) {
                errs.line(
                    "Details",
                    i,
                    "OrderQty",
                    "Order Qty. cannot be less than the quantity already received or billed.",
                );
            }
            if line.d("UnitCost") < Decimal::ZERO {
                errs.line("Details", i, "UnitCost", "Unit Cost cannot be negative.");
            }
            if !line.has("Account") {
                if !goods {
                    errs.line("Details", i, "Account", empty("Account"));
                }
            } else if let Some(m) = check_account(st, &line.s("Account")) {
                errs.line("Details", i, "Account", m);
            }
        }
        if let Some(m) = check_subaccount(st, &line.s("Subaccount")) {
            errs.line("Details", i, "Subaccount", m);
        }
        let ext = (line.d("OrderQty") * line.d("UnitCost")).round_dp(2);
        line.set("ExtendedCost", Scalar::Dec(ext));
        line.set("OrderedQty", Scalar::Dec(line.d("OrderQty")));
        for (k, v) in [("Completed", false), ("Cancelled", false)] {
            if line.b(k).is_none() {
                line.set(k, Scalar::Bool(v));
            }
        }
        if !line.has("QtyOnReceipts") {
            line.set("QtyOnReceipts", Scalar::Dec(Decimal::ZERO));
            line.set("ReceivedAmount", Scalar::Dec(Decimal::ZERO));
        }
    }
    let total: Decimal = r.rows("Details").iter().map(|l| l.d("ExtendedCost")).sum();
    r.set("LineTotal", Scalar::Dec(total));
    r.set("TaxTotal", Scalar::Dec(Decimal::ZERO));
    r.set("OrderTotal", Scalar::Dec(total));
    r.set("IsTaxValid", Scalar::Bool(true));
    let hold = r.b("Hold").unwrap_or(true);
    let was = old.map(|o| o.s("Status")).unwrap_or_default();
    let status = if hold {
        "H"
    } else if was == "N" {
        "N"
    } else if st.switches.po_approvals {
        "P"
    } else {
        "N"
    };
    r.set_s("Status", status);
    if !hold && r.has("ControlTotal") && r.d("ControlTotal") != total {
        errs.field(
            "ControlTotal",
            format!(
                "The document is out of balance: control total {} differs from the order total {total}.",
                r.d("ControlTotal")
            ),
        );
    }
}

/// Numbering on commit: `OrderNbr` and the lines' mirror of it.
pub fn number(st: &mut AcuState, r: &mut Record) {
    if !r.has("OrderNbr") || r.s("OrderNbr") == "<NEW>" {
        loop {
            st.seq.po += 1;
            let n = format!("PO{:06}", st.seq.po);
            if st.find(&PURCHASE_ORDER, &[&r.s("Type"), &n]).is_none() {
                r.set_s("OrderNbr", n);
                break;
            }
        }
    }
    let nbr = r.s("OrderNbr");
    for l in r.rows_mut("Details") {
        l.set_s("OrderNbr", nbr.clone());
    }
}

/// Receive everything ordered (the warehouse's receipt): `Completed`, or `Closed` when it was
/// also fully billed.
pub fn receive(r: &mut Record) -> Result<(), String> {
    if r.s("Status") != "N" {
        return Err(format!("purchase order {} is {}, not Open", r.s("OrderNbr"), status_label(&r.s("Status"))));
    }
    let mut all_billed = true;
    for l in r.rows_mut("Details") {
        let q = l.d("OrderQty");
        l.set("QtyOnReceipts", Scalar::Dec(q));
        let amt = l.d("ExtendedCost");
        l.set("ReceivedAmount", Scalar::Dec(amt));
        l.set("Completed", Scalar::Bool(true));
        all_billed &= l.d("_BilledQty") >= q;
    }
    r.set_s("Status", if all_billed { "C" } else { "M" });
    Ok(())
}
