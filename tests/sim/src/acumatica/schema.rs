//! The contract: which entities the simulated `Default` endpoint serves, their fields, types,
//! key fields, linked and detail entities, and the drop-down lists (fact sheet §4).
//!
//! The query engine (`$filter`, `$select`, `$expand`), the JSON rendering and the PUT parser are
//! generic over this table, so a field added here is readable, filterable and writable at once.
//! Fields that exist only in some versions carry a range (`LegalName` from 22.200, `IsTaxValid`
//! on Bill everywhere but 22.200, `OrderedQty` from 22.200, `LCType` from 24.200): asking for
//! one in another version is an unknown field, as on a real tenant.
//!
//! Drop-down values are stored as internal codes and shown as labels (Contract Version 4) or as
//! `{"id","description"}` (Contract Version 5). Labels are **[C: SRC]**; the one-letter codes are
//! **[I]** except where the sheet gives them (PO types `RO`/`DP`/`BL`/`SB`, account types A/L/I/E).

/// A field's JSON type (§3.1: `StringValue`, `DecimalValue`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// `StringValue`.
    Str,
    /// `DecimalValue` (a JSON number).
    Dec,
    /// `IntValue` / `ShortValue` / `LongValue`.
    Int,
    /// `BooleanValue`.
    Bool,
    /// `DateTimeValue` holding an instant (`LastModifiedDateTime`): written with the tenant offset.
    Time,
    /// `DateTimeValue` holding a date (`Date`, `DueDate`): midnight with the tenant offset in
    /// CV4, `DateOnlyValue` (`"2026-09-09"`) in CV5.
    Date,
    /// `GuidValue`.
    Guid,
    /// A drop-down: `(code, label)` pairs.
    Drop(&'static [(&'static str, &'static str)]),
}

/// One field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Contract name.
    pub name: &'static str,
    /// Type.
    pub ty: Ty,
    /// First version (`22200` for 22.200.001) that has it.
    pub from: u32,
    /// Last version that has it.
    pub to: u32,
    /// Versions in `from..=to` that do not have it.
    pub except: u32,
    /// Computed by the system: ignored when sent.
    pub read_only: bool,
}

const fn f(name: &'static str, ty: Ty) -> Field {
    Field { name, ty, from: 0, to: u32::MAX, except: 0, read_only: false }
}

impl Field {
    const fn ro(self) -> Self {
        Field { read_only: true, ..self }
    }
    const fn since(self, v: u32) -> Self {
        Field { from: v, ..self }
    }
    const fn not_in(self, v: u32) -> Self {
        Field { except: v, ..self }
    }

    /// Whether version `v` has this field.
    pub fn in_version(&self, v: u32) -> bool {
        v >= self.from && v <= self.to && v != self.except
    }

    /// The label of a stored drop-down code (or the value itself for other types / unknown codes).
    pub fn label_of<'a>(&self, code: &'a str) -> &'a str {
        match self.ty {
            Ty::Drop(list) => list.iter().find(|(c, _)| *c == code).map(|(_, l)| *l).unwrap_or(code),
            _ => code,
        }
    }

    /// The code of a drop-down value given as a label or (when `codes`) as a code,
    /// case-insensitively.
    pub fn code_of(&self, value: &str, codes: bool) -> Option<&'static str> {
        let Ty::Drop(list) = self.ty else { return None };
        let v = value.trim();
        list.iter()
            .find(|(_, l)| l.eq_ignore_ascii_case(v))
            .or_else(|| if codes { list.iter().find(|(c, _)| c.eq_ignore_ascii_case(v)) } else { None })
            .map(|(c, _)| *c)
    }
}

/// A linked entity (one nested object: `MainContact`, `MainContact/Address`).
#[derive(Debug)]
pub struct Linked {
    /// Name.
    pub name: &'static str,
    /// Its fields.
    pub fields: &'static [Field],
    /// Its own linked entities.
    pub linked: &'static [Linked],
}

/// A detail entity (an array: `Details`).
#[derive(Debug)]
pub struct Detail {
    /// Name.
    pub name: &'static str,
    /// Its fields.
    pub fields: &'static [Field],
}

/// How an entity is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A top-level record entity: list, get, PUT, DELETE, actions.
    Top,
    /// An inquiry (`CompaniesStructure`): PUT `{}` with `$expand=Results` only.
    Inquiry,
}

/// One entity of the endpoint.
#[derive(Debug)]
pub struct Entity {
    /// Contract name.
    pub name: &'static str,
    /// The form behind it (rights are per form: `AP303000`).
    pub screen: &'static str,
    /// A person's name for it ("Vendors").
    pub title: &'static str,
    /// Key fields in form order.
    pub keys: &'static [&'static str],
    /// Top-level fields.
    pub fields: &'static [Field],
    /// Linked entities.
    pub linked: &'static [Linked],
    /// Detail entities.
    pub details: &'static [Detail],
    /// Actions of the contract (`POST /<E>/<Action>`).
    pub actions: &'static [&'static str],
    /// Record or inquiry.
    pub kind: Kind,
    /// The DAC name its push-notification columns start with (`Vendor_acctCD`).
    pub dac: &'static str,
}

impl Entity {
    /// A top-level field present in version `v`.
    pub fn field(&self, name: &str, v: u32) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name.eq_ignore_ascii_case(name) && f.in_version(v))
    }

    /// A detail entity by name.
    pub fn detail(&self, name: &str) -> Option<&'static Detail> {
        self.details.iter().find(|d| d.name.eq_ignore_ascii_case(name))
    }

    /// A linked entity by name.
    pub fn linked(&self, name: &str) -> Option<&'static Linked> {
        self.linked.iter().find(|l| l.name.eq_ignore_ascii_case(name))
    }
}

impl Detail {
    /// A field present in version `v`.
    pub fn field(&self, name: &str, v: u32) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name.eq_ignore_ascii_case(name) && f.in_version(v))
    }
}

impl Linked {
    /// A field by name.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// A nested linked entity by name.
    pub fn linked(&self, name: &str) -> Option<&'static Linked> {
        self.linked.iter().find(|l| l.name.eq_ignore_ascii_case(name))
    }
}

/// `24.200.001` → `24200`.
pub fn version_number(v: &str) -> Option<u32> {
    let mut parts = v.split('.');
    let (a, b, c) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || c.len() != 3 || !c.chars().all(|x| x.is_ascii_digit()) {
        return None;
    }
    let a: u32 = a.parse().ok()?;
    let b: u32 = b.parse().ok()?;
    (a < 100 && b < 1000 && b.is_multiple_of(100)).then_some(a * 1000 + b)
}

/// Whether version number `v` is Contract Version 5 (26.200 and later).
pub fn is_cv5(v: u32) -> bool {
    v >= 26_200
}

/// Vendor `Status` **[C: SRC labels; I: codes]**.
pub const VENDOR_STATUS: &[(&str, &str)] =
    &[("A", "Active"), ("H", "On Hold"), ("P", "Hold Payments"), ("I", "Inactive"), ("T", "One-Time")];
/// Bill `Type` **[C: SRC labels; I: codes]**.
pub const BILL_TYPE: &[(&str, &str)] =
    &[("INV", "Bill"), ("ACR", "Credit Adj."), ("ADR", "Debit Adj."), ("PPM", "Prepayment")];
/// Bill `Status` **[C: SRC labels; I: codes]**.
pub const BILL_STATUS: &[(&str, &str)] = &[
    ("H", "On Hold"),
    ("B", "Balanced"),
    ("D", "Pending Approval"),
    ("J", "Rejected"),
    ("N", "Open"),
    ("C", "Closed"),
    ("V", "Voided"),
    ("S", "Scheduled"),
    ("R", "Reserved"),
    ("Z", "Pre-Released"),
    ("P", "Printed"),
    ("E", "Pending Print"),
];
/// PurchaseOrder `Type` **[C: SRC labels; I: codes per the sheet]**.
pub const PO_TYPE: &[(&str, &str)] = &[("RO", "Normal"), ("DP", "Drop Ship"), ("BL", "Blanket"), ("SB", "Standard")];
/// PurchaseOrder `Status` **[C: SRC; I: codes]**.
pub const PO_STATUS: &[(&str, &str)] = &[
    ("H", "On Hold"),
    ("P", "Pending Approval"),
    ("R", "Rejected"),
    ("T", "Pending Printing"),
    ("E", "Pending Email"),
    ("N", "Open"),
    ("M", "Completed"),
    ("C", "Closed"),
    ("L", "Canceled"),
];
/// PurchaseOrderDetail `LineType` **[C: the Goods/Non-Stock labels; I: the rest and codes]**.
pub const LINE_TYPE: &[(&str, &str)] = &[
    ("GI", "Goods for IN"),
    ("GS", "Goods for SO"),
    ("GP", "Goods for Drop-Ship"),
    ("NO", "Non-Stock"),
    ("NP", "Non-Stock for Drop-Ship"),
    ("NS", "Non-Stock for SO"),
    ("SV", "Service"),
    ("FT", "Freight"),
    ("DN", "Description"),
];
/// Account `Type` **[C: SRC]**.
pub const ACCOUNT_TYPE: &[(&str, &str)] = &[("A", "Asset"), ("L", "Liability"), ("I", "Income"), ("E", "Expense")];
/// CompaniesStructure `BranchStatus` **[I]**.
pub const BRANCH_STATUS: &[(&str, &str)] = &[("A", "Active"), ("I", "Inactive")];

use Ty::*;

const ADDRESS: Linked = Linked {
    name: "Address",
    fields: &[
        f("AddressLine1", Str),
        f("AddressLine2", Str),
        f("City", Str),
        f("State", Str),
        f("PostalCode", Str),
        f("Country", Str),
        f("Validated", Bool).ro(),
    ],
    linked: &[],
};

const CONTACT_FIELDS: &[Field] = &[
    f("ContactID", Int).ro(),
    f("DisplayName", Str),
    f("FirstName", Str),
    f("LastName", Str),
    f("CompanyName", Str),
    f("Attention", Str),
    f("Email", Str),
    f("Phone1", Str),
    f("Fax", Str),
    f("Active", Bool),
];

/// `Vendor` (AP303000, key `VendorID`).
pub static VENDOR: Entity = Entity {
    name: "Vendor",
    screen: "AP303000",
    title: "Vendors",
    keys: &["VendorID"],
    fields: &[
        f("VendorID", Str),
        f("VendorName", Str),
        f("LegalName", Str).since(22_200),
        f("Status", Drop(VENDOR_STATUS)),
        f("VendorClass", Str),
        f("Terms", Str),
        f("CurrencyID", Str),
        f("APAccount", Str),
        f("APSubaccount", Str),
        f("CashAccount", Str),
        f("PaymentMethod", Str),
        f("TaxZone", Str),
        f("TaxRegistrationID", Str),
        f("F1099Vendor", Bool),
        f("LocationName", Str),
        f("Warehouse", Str),
        f("ReceivingBranch", Str),
        f("LeadTimedays", Int),
        f("CreatedDateTime", Time).ro(),
        f("LastModifiedDateTime", Time).ro(),
    ],
    linked: &[
        Linked { name: "MainContact", fields: CONTACT_FIELDS, linked: &[ADDRESS] },
        Linked { name: "PrimaryContact", fields: CONTACT_FIELDS, linked: &[] },
    ],
    details: &[],
    actions: &[],
    kind: Kind::Top,
    dac: "Vendor",
};

/// `Bill` (AP301000, keys `Type`, `ReferenceNbr`).
pub static BILL: Entity = Entity {
    name: "Bill",
    screen: "AP301000",
    title: "Bills and Adjustments",
    keys: &["Type", "ReferenceNbr"],
    fields: &[
        f("Type", Drop(BILL_TYPE)),
        f("ReferenceNbr", Str),
        f("Status", Drop(BILL_STATUS)).ro(),
        f("Hold", Bool),
        f("Date", Date),
        f("DueDate", Date),
        f("PostPeriod", Str),
        f("Vendor", Str),
        f("LocationID", Str),
        f("VendorRef", Str),
        f("Description", Str),
        f("Amount", Dec).ro(),
        f("Balance", Dec).ro(),
        f("TaxTotal", Dec).ro(),
        f("CurrencyID", Str),
        f("Terms", Str),
        f("BranchID", Str),
        f("CashAccount", Str),
        f("ApprovedForPayment", Bool),
        f("Project", Str),
        // In the 20.200, 23.200 and 24.200 exports, not the 22.200 one [C].
        f("IsTaxValid", Bool).ro().not_in(22_200),
        f("LastModifiedDateTime", Time).ro(),
    ],
    linked: &[],
    details: &[
        Detail {
            name: "Details",
            fields: &[
                f("InventoryID", Str),
                f("TransactionDescription", Str),
                f("Description", Str),
                f("Qty", Dec),
                f("UOM", Str),
                f("UnitCost", Dec),
                f("ExtendedCost", Dec),
                f("Amount", Dec).ro(),
                f("Account", Str),
                f("Subaccount", Str),
                f("Branch", Str),
                f("TaxCategory", Str),
                f("Project", Str),
                f("ProjectTask", Str),
                f("NonBillable", Bool),
                f("POOrderType", Drop(PO_TYPE)),
                f("POOrderNbr", Str),
                f("POLine", Int),
                f("POReceiptType", Str),
                f("POReceiptNbr", Str),
                f("POReceiptLine", Int),
                f("LCType", Str).since(24_200),
                f("LCNbr", Str).since(24_200),
                f("LCLineNbr", Int).since(24_200),
            ],
        },
        Detail {
            name: "TaxDetails",
            fields: &[f("TaxID", Str), f("TaxRate", Dec), f("TaxableAmount", Dec), f("TaxAmount", Dec)],
        },
        Detail {
            name: "Applications",
            fields: &[
                f("DocType", Str).ro(),
                f("ReferenceNbr", Str).ro(),
                f("AmountPaid", Dec).ro(),
                f("Balance", Dec).ro(),
                f("Status", Str).ro(),
            ],
        },
    ],
    actions: &["ReleaseBill"],
    kind: Kind::Top,
    dac: "APInvoice",
};

/// `PurchaseOrder` (PO301000, keys `Type`, `OrderNbr`).
pub static PURCHASE_ORDER: Entity = Entity {
    name: "PurchaseOrder",
    screen: "PO301000",
    title: "Purchase Orders",
    keys: &["Type", "OrderNbr"],
    fields: &[
        f("Type", Drop(PO_TYPE)),
        f("OrderNbr", Str),
        f("Status", Drop(PO_STATUS)).ro(),
        f("Hold", Bool),
        f("Date", Date),
        f("PromisedOn", Date),
        f("Description", Str),
        f("VendorID", Str),
        f("Location", Str),
        f("VendorRef", Str),
        f("VendorTaxZone", Str),
        f("Terms", Str),
        f("Owner", Str),
        f("Branch", Str),
        f("Project", Str),
        f("CurrencyID", Str),
        f("BaseCurrencyID", Str).ro(),
        f("ControlTotal", Dec),
        f("LineTotal", Dec).ro(),
        f("TaxTotal", Dec).ro(),
        f("OrderTotal", Dec).ro(),
        f("IsTaxValid", Bool).ro().since(22_200),
        f("LastModifiedDateTime", Time).ro(),
    ],
    linked: &[],
    details: &[
        Detail {
            name: "Details",
            fields: &[
                f("LineNbr", Int).ro(),
                f("LineType", Drop(LINE_TYPE)),
                f("InventoryID", Str),
                f("Subitem", Str),
                f("AlternateID", Str),
                f("Description", Str),
                f("LineDescription", Str),
                f("OrderQty", Dec),
                f("OrderedQty", Dec).ro().since(22_200),
                f("UOM", Str),
                f("UnitCost", Dec),
                f("ExtendedCost", Dec).ro(),
                f("Account", Str),
                f("Subaccount", Str),
                f("BranchID", Str),
                f("WarehouseID", Str),
                f("TaxCategory", Str),
                f("Requested", Date),
                f("Promised", Date),
                f("Completed", Bool),
                f("Cancelled", Bool),
                f("QtyOnReceipts", Dec).ro(),
                f("ReceivedAmount", Dec).ro(),
                f("OrderType", Drop(PO_TYPE)).ro(),
                f("OrderNbr", Str).ro(),
                f("Project", Str),
                f("ProjectTask", Str),
                f("CostCode", Str),
            ],
        },
        Detail {
            name: "TaxDetails",
            fields: &[f("TaxID", Str), f("TaxRate", Dec), f("TaxableAmount", Dec), f("TaxAmount", Dec)],
        },
    ],
    actions: &[],
    kind: Kind::Top,
    dac: "POOrder",
};

/// `Account` (GL202500, key `AccountCD`).
pub static ACCOUNT: Entity = Entity {
    name: "Account",
    screen: "GL202500",
    title: "Chart of Accounts",
    keys: &["AccountCD"],
    fields: &[
        f("AccountCD", Str),
        f("AccountID", Int).ro(),
        f("Description", Str),
        f("Type", Drop(ACCOUNT_TYPE)),
        f("Active", Bool),
        f("AccountClass", Str),
        f("AccountGroup", Str),
        f("CashAccount", Bool),
        f("ChartOfAccountsOrder", Int),
        f("ConsolidationAccount", Str),
        f("CurrencyID", Str),
        f("PostOption", Str),
        f("RequireUnits", Bool),
        f("Secured", Bool),
        f("TaxCategory", Str),
        f("UseDefaultSubaccount", Bool),
        f("CreatedDateTime", Time).ro(),
        f("LastModifiedDateTime", Time).ro(),
    ],
    linked: &[],
    details: &[],
    actions: &[],
    kind: Kind::Top,
    dac: "Account",
};

/// `Subaccount` (GL203000, key `SubaccountCD`) **[I: not in the sheet's list; present in the
/// Default endpoint of real tenants]**.
pub static SUBACCOUNT: Entity = Entity {
    name: "Subaccount",
    screen: "GL203000",
    title: "Subaccounts",
    keys: &["SubaccountCD"],
    fields: &[
        f("SubaccountCD", Str),
        f("SubaccountID", Int).ro(),
        f("Description", Str),
        f("Active", Bool),
        f("LastModifiedDateTime", Time).ro(),
    ],
    linked: &[],
    details: &[],
    actions: &[],
    kind: Kind::Top,
    dac: "Sub",
};

/// `CompaniesStructure` (an inquiry: `PUT …/CompaniesStructure?$expand=Results` with `{}`):
/// the way to read branches, since `Default` has no `Branch` entity **[C: §0.1]**.
pub static COMPANIES_STRUCTURE: Entity = Entity {
    name: "CompaniesStructure",
    screen: "CS101500",
    title: "Companies",
    keys: &[],
    fields: &[f("Company", Str), f("Branch", Str)],
    linked: &[],
    details: &[Detail {
        name: "Results",
        fields: &[
            f("BranchID", Str).ro(),
            f("BranchName", Str).ro(),
            f("BranchStatus", Drop(BRANCH_STATUS)).ro(),
            f("CompanyID", Str).ro(),
            f("CompanyName", Str).ro(),
        ],
    }],
    actions: &[],
    kind: Kind::Inquiry,
    dac: "Branch",
};

/// Every entity the endpoint serves. There is no `Branch`: `GET …/Branch` is a 404 **[C]**.
pub static ENTITIES: [&Entity; 6] = [&VENDOR, &BILL, &PURCHASE_ORDER, &ACCOUNT, &SUBACCOUNT, &COMPANIES_STRUCTURE];

/// An entity by name (case-insensitive, as ASP.NET routes are).
pub fn entity(name: &str) -> Option<&'static Entity> {
    ENTITIES.iter().copied().find(|e| e.name.eq_ignore_ascii_case(name))
}

/// Other endpoints a tenant lists at `GET /entity` (not served by the simulator).
pub const OTHER_ENDPOINTS: &[(&str, &str)] =
    &[("eCommerce", "23.100.001"), ("MANUFACTURING", "23.200.001"), ("GLConsolidation", "6.00.001")];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_fields_by_version() {
        assert_eq!(version_number("24.200.001"), Some(24_200));
        assert_eq!(version_number("20.200.001"), Some(20_200));
        assert_eq!(version_number("24.2"), None);
        assert_eq!(version_number("24.250.001"), None);
        assert!(is_cv5(26_200) && !is_cv5(25_200));
        assert!(VENDOR.field("LegalName", 20_200).is_none());
        assert!(VENDOR.field("legalname", 22_200).is_some());
        assert!(BILL.field("IsTaxValid", 22_200).is_none());
        assert!(BILL.field("IsTaxValid", 23_200).is_some());
        assert!(BILL.field("IsTaxValid", 20_200).is_some());
        let status = BILL.field("Status", 24_200).unwrap();
        assert_eq!(status.label_of("H"), "On Hold");
        assert_eq!(status.code_of("on hold", false), Some("H"));
        assert_eq!(status.code_of("H", false), None);
        assert_eq!(status.code_of("H", true), Some("H"));
        assert!(entity("branch").is_none() && entity("purchaseorder").is_some());
    }
}
