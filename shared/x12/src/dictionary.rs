//! The X12 dictionary this library checks against: segment and element definitions (type,
//! length, requirement, data element reference number, code lists), syntax notes (P, R, C, E, L)
//! and the dictionary comments that [`crate::validate`] turns into warnings.
//!
//! Scope: the envelope and service segments (ISA, IEA, GS, GE, ST, SE, TA1, ISB, ISE, ISX), every
//! 810 segment the mapping reads (plus FOB, AMT), and the 997. Definitions follow the public X12
//! dictionary (element names, reference numbers, types, lengths, syntax notes); the ITD, TXI, SAC,
//! PID, FOB, TA1, ISB, ISE and ISX entries were checked line by line against Stedi's reference
//! pages for 004010. Where 005010 differs only in a maximum length, the element carries both.
//! Other releases are checked with the 004010 rules. Segments not defined here are read but only
//! their id is checked (an unknown segment in an 810 draws a warning).
//!
//! The functional identifier list (data element 479, GS01/AK101) with the transaction sets each
//! code covers is the 004010 list as published in the `x12-types` crate (MIT OR Apache-2.0,
//! "code values verified against the Stedi X12 reference"). It decides whether a set belongs in
//! its group: an 850 inside an `IN` group is the wrong type; an 850 inside a `PO` group is a set
//! this product does not handle.

/// Element requirement designator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Req {
    /// M: must be present.
    Mandatory,
    /// O: may be present.
    Optional,
    /// X: presence governed by a syntax note.
    Conditional,
}

/// Element data types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    /// String.
    AN,
    /// Identifier (a code).
    ID,
    /// Numeric with this many implied decimals (N0, N2).
    N(u8),
    /// Decimal number with an optional explicit point.
    R,
    /// Date: CCYYMMDD (8) or YYMMDD (6).
    DT,
    /// Time: HHMM[SS[d..]].
    TM,
    /// A composite of component elements.
    Composite(&'static [ElementDef]),
}

impl DataType {
    pub fn label(self) -> &'static str {
        match self {
            DataType::AN => "AN",
            DataType::ID => "ID",
            DataType::N(0) => "N0",
            DataType::N(2) => "N2",
            DataType::N(_) => "N",
            DataType::R => "R",
            DataType::DT => "DT",
            DataType::TM => "TM",
            DataType::Composite(_) => "composite",
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, DataType::N(_) | DataType::R)
    }
}

/// Which values an ID element takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codes {
    /// No list checked here (external lists such as currency or postal codes).
    Any,
    List(&'static [&'static str]),
    /// Data element 479, see [`FUNCTIONAL_IDS`].
    FunctionalIds,
}

/// One element (or component) of a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElementDef {
    /// Data element reference number (`373`, `I12`, `C030`), as AK402 reports it.
    pub reference: &'static str,
    pub name: &'static str,
    pub req: Req,
    pub ty: DataType,
    pub min: u16,
    /// Maximum length in 004010 (and any release other than 005010).
    pub max: u16,
    /// Maximum length in 005010.
    pub max_5010: u16,
    pub codes: Codes,
}

impl ElementDef {
    pub fn max_for(&self, release_5010: bool) -> u16 {
        if release_5010 { self.max_5010 } else { self.max }
    }
}

/// Kinds of syntax note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    /// P: if any is present, all are.
    Paired,
    /// R: at least one is present.
    Required,
    /// E: at most one is present.
    Exclusion,
    /// C: if the first is present, all the others are.
    Conditional,
    /// L: if the first is present, at least one of the others is.
    ListConditional,
}

/// A syntax note: a relation between the presence of elements (1-based positions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntaxNote {
    pub kind: NoteKind,
    pub elements: &'static [u8],
}

impl SyntaxNote {
    /// `P0304`, `L03040513`.
    pub fn code(&self) -> String {
        let letter = match self.kind {
            NoteKind::Paired => 'P',
            NoteKind::Required => 'R',
            NoteKind::Exclusion => 'E',
            NoteKind::Conditional => 'C',
            NoteKind::ListConditional => 'L',
        };
        let mut s = String::with_capacity(1 + 2 * self.elements.len());
        s.push(letter);
        for e in self.elements {
            s.push_str(&format!("{e:02}"));
        }
        s
    }
}

/// A dictionary comment or semantic note that can be checked: "if ITD01 is 05, then ITD06 or
/// ITD07 is required". Not a syntax rule: a miss is a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Comment {
    /// When this element holds one of these codes ...
    pub element: u8,
    pub codes: &'static [&'static str],
    /// ... at least one of these elements is expected.
    pub then_any: &'static [u8],
    pub text: &'static str,
}

/// A segment definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentDef {
    pub id: &'static str,
    pub name: &'static str,
    pub elements: &'static [ElementDef],
    pub notes: &'static [SyntaxNote],
    pub comments: &'static [Comment],
    /// How many elements the segment has (elements past `elements.len()` are defined but not
    /// checked here).
    pub max_elements: u8,
}

impl SegmentDef {
    pub fn element(&self, n: usize) -> Option<&'static ElementDef> {
        n.checked_sub(1).and_then(|i| self.elements.get(i))
    }
}

use DataType::{AN, DT, ID, R, TM};
use Req::{Conditional as X, Mandatory as M, Optional as O};

const N0: DataType = DataType::N(0);
const N2D: DataType = DataType::N(2);

const fn el(reference: &'static str, name: &'static str, req: Req, ty: DataType, min: u16, max: u16) -> ElementDef {
    ElementDef { reference, name, req, ty, min, max, max_5010: max, codes: Codes::Any }
}

const fn el5(
    reference: &'static str,
    name: &'static str,
    req: Req,
    ty: DataType,
    min: u16,
    max: u16,
    max_5010: u16,
) -> ElementDef {
    ElementDef { reference, name, req, ty, min, max, max_5010, codes: Codes::Any }
}

const fn code(
    reference: &'static str,
    name: &'static str,
    req: Req,
    min: u16,
    max: u16,
    codes: &'static [&'static str],
) -> ElementDef {
    ElementDef { reference, name, req, ty: ID, min, max, max_5010: max, codes: Codes::List(codes) }
}

const fn fid(reference: &'static str, name: &'static str) -> ElementDef {
    ElementDef { reference, name, req: M, ty: ID, min: 2, max: 2, max_5010: 2, codes: Codes::FunctionalIds }
}

const fn note(kind: NoteKind, elements: &'static [u8]) -> SyntaxNote {
    SyntaxNote { kind, elements }
}

use NoteKind::{Conditional as NC, Exclusion as NE, ListConditional as NL, Paired as NP, Required as NR};

const fn seg(
    id: &'static str,
    name: &'static str,
    elements: &'static [ElementDef],
    notes: &'static [SyntaxNote],
    max_elements: u8,
) -> SegmentDef {
    SegmentDef { id, name, elements, notes, comments: &[], max_elements }
}

// ---------------------------------------------------------------------------------------------
// Interchange and group envelope.

/// I05 Interchange ID Qualifier.
const I05: &[&str] = &[
    "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19",
    "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "32", "33", "34", "35", "36", "37", "38",
    "AM", "NR", "SA", "SN", "ZZ",
];

/// ISA as the validator checks it. The fixed widths (ISA02 10, ISA06 15, ISA13 9 ...) are not
/// checked here: unpadded ISAs are common and read with a `non_fixed_width_isa` warning.
pub static ISA: SegmentDef = seg(
    "ISA",
    "Interchange Control Header",
    &[
        code("I01", "Authorization Information Qualifier", M, 2, 2, &["00", "01", "02", "03", "04", "05", "06"]),
        el("I02", "Authorization Information", O, AN, 1, 10),
        code("I03", "Security Information Qualifier", M, 2, 2, &["00", "01"]),
        el("I04", "Security Information", O, AN, 1, 10),
        code("I05", "Interchange ID Qualifier", M, 2, 2, I05),
        el("I06", "Interchange Sender ID", M, AN, 1, 15),
        code("I05", "Interchange ID Qualifier", M, 2, 2, I05),
        el("I07", "Interchange Receiver ID", M, AN, 1, 15),
        el("I08", "Interchange Date", M, DT, 6, 6),
        el("I09", "Interchange Time", M, TM, 4, 4),
        el("I65", "Repetition Separator / Interchange Control Standards Identifier", M, AN, 1, 1),
        el("I11", "Interchange Control Version Number", M, ID, 5, 5),
        el("I12", "Interchange Control Number", M, N0, 1, 9),
        code("I13", "Acknowledgment Requested", M, 1, 1, &["0", "1"]),
        code("I14", "Interchange Usage Indicator", M, 1, 1, &["I", "P", "T"]),
        el("I15", "Component Element Separator", M, AN, 1, 1),
    ],
    &[],
    16,
);

pub static IEA: SegmentDef = seg(
    "IEA",
    "Interchange Control Trailer",
    &[
        el("I16", "Number of Included Functional Groups", M, N0, 1, 5),
        el("I12", "Interchange Control Number", M, N0, 1, 9),
    ],
    &[],
    2,
);

pub static TA1: SegmentDef = seg(
    "TA1",
    "Interchange Acknowledgment",
    &[
        el("I12", "Interchange Control Number", M, N0, 9, 9),
        el("I08", "Interchange Date", M, DT, 6, 6),
        el("I09", "Interchange Time", M, TM, 4, 4),
        code("I17", "Interchange Acknowledgment Code", M, 1, 1, &["A", "E", "R"]),
        code("I18", "Interchange Note Code", M, 3, 3, TA1_NOTE_CODES),
    ],
    &[],
    5,
);

/// I18 Interchange Note Code.
pub const TA1_NOTE_CODES: &[&str] = &[
    "000", "001", "002", "003", "004", "005", "006", "007", "008", "009", "010", "011", "012", "013", "014", "015",
    "016", "017", "018", "019", "020", "021", "022", "023", "024", "025", "026", "027", "028", "029", "030", "031",
];

pub static ISB: SegmentDef =
    seg("ISB", "Grade of Service Request", &[el("I19", "Grade of Service Code", M, ID, 1, 1)], &[], 1);

pub static ISE: SegmentDef = seg(
    "ISE",
    "Deferred Delivery Request",
    &[
        el("I20", "Delivery Date", M, DT, 6, 6),
        el("I21", "Delivery Time", M, TM, 4, 4),
        el("I22", "Delivery Time Code", O, ID, 2, 2),
    ],
    &[],
    3,
);

pub static ISX: SegmentDef = seg(
    "ISX",
    "Interchange Syntax Extension",
    &[
        el("I69", "Release Character", O, AN, 1, 1),
        el("I70", "Character Encoding", O, ID, 1, 2),
        el("I71", "Overriding X12 Version / Release Code", X, ID, 6, 6),
        el("I72", "Industry Identifier", O, AN, 1, 15),
    ],
    &[note(NC, &[4, 3])],
    4,
);

pub static GS: SegmentDef = seg(
    "GS",
    "Functional Group Header",
    &[
        fid("479", "Functional Identifier Code"),
        el("142", "Application Sender's Code", M, AN, 2, 15),
        el("124", "Application Receiver's Code", M, AN, 2, 15),
        el("373", "Date", M, DT, 8, 8),
        el("337", "Time", M, TM, 4, 8),
        el("28", "Group Control Number", M, N0, 1, 9),
        code("455", "Responsible Agency Code", M, 1, 2, &["T", "X"]),
        el("480", "Version / Release / Industry Identifier Code", M, AN, 1, 12),
    ],
    &[],
    8,
);

pub static GE: SegmentDef = seg(
    "GE",
    "Functional Group Trailer",
    &[el("97", "Number of Transaction Sets Included", M, N0, 1, 6), el("28", "Group Control Number", M, N0, 1, 9)],
    &[],
    2,
);

pub static ST: SegmentDef = seg(
    "ST",
    "Transaction Set Header",
    &[
        el("143", "Transaction Set Identifier Code", M, ID, 3, 3),
        el("329", "Transaction Set Control Number", M, AN, 4, 9),
        el("1705", "Implementation Convention Reference", O, AN, 1, 35),
    ],
    &[],
    3,
);

pub static SE: SegmentDef = seg(
    "SE",
    "Transaction Set Trailer",
    &[el("96", "Number of Included Segments", M, N0, 1, 10), el("329", "Transaction Set Control Number", M, AN, 4, 9)],
    &[],
    2,
);

// ---------------------------------------------------------------------------------------------
// 810 Invoice.

pub static BIG: SegmentDef = seg(
    "BIG",
    "Beginning Segment for Invoice",
    &[
        el("373", "Date", M, DT, 8, 8),
        el("76", "Invoice Number", M, AN, 1, 22),
        el("373", "Date", O, DT, 8, 8),
        el("324", "Purchase Order Number", O, AN, 1, 22),
        el("328", "Release Number", O, AN, 1, 30),
        el("327", "Change Order Sequence Number", O, AN, 1, 8),
        el("640", "Transaction Type Code", O, ID, 2, 2),
        el("353", "Transaction Set Purpose Code", O, ID, 2, 2),
        el("306", "Action Code", O, ID, 1, 2),
        el("76", "Invoice Number", O, AN, 1, 22),
    ],
    &[],
    10,
);

pub static NTE: SegmentDef = seg(
    "NTE",
    "Note/Special Instruction",
    &[el("363", "Note Reference Code", O, ID, 3, 3), el("352", "Description", M, AN, 1, 80)],
    &[],
    2,
);

pub static CUR: SegmentDef = SegmentDef {
    id: "CUR",
    name: "Currency",
    elements: &[
        el("98", "Entity Identifier Code", M, ID, 2, 3),
        el("100", "Currency Code", M, ID, 3, 3),
        el("280", "Exchange Rate", O, R, 4, 10),
        el("98", "Entity Identifier Code", O, ID, 2, 3),
        el("100", "Currency Code", O, ID, 3, 3),
        el("669", "Currency Market/Exchange Code", O, ID, 3, 3),
        el("374", "Date/Time Qualifier", X, ID, 3, 3),
        el("373", "Date", O, DT, 8, 8),
        el("337", "Time", O, TM, 4, 8),
    ],
    notes: &[
        note(NC, &[8, 7]),
        note(NC, &[9, 7]),
        note(NL, &[10, 11, 12]),
        note(NC, &[11, 10]),
        note(NC, &[12, 10]),
        note(NL, &[13, 14, 15]),
        note(NC, &[14, 13]),
        note(NC, &[15, 13]),
        note(NL, &[16, 17, 18]),
        note(NC, &[17, 16]),
        note(NC, &[18, 16]),
        note(NL, &[19, 20, 21]),
        note(NC, &[20, 19]),
        note(NC, &[21, 19]),
    ],
    comments: &[],
    max_elements: 21,
};

pub static REF: SegmentDef = seg(
    "REF",
    "Reference Identification",
    &[
        el("128", "Reference Identification Qualifier", M, ID, 2, 3),
        el5("127", "Reference Identification", X, AN, 1, 30, 50),
        el("352", "Description", X, AN, 1, 80),
        el("C040", "Reference Identifier", O, AN, 1, 200),
    ],
    &[note(NR, &[2, 3])],
    4,
);

pub static PER: SegmentDef = seg(
    "PER",
    "Administrative Communications Contact",
    &[
        el("366", "Contact Function Code", M, ID, 2, 2),
        el("93", "Name", O, AN, 1, 60),
        el("365", "Communication Number Qualifier", X, ID, 2, 2),
        el5("364", "Communication Number", X, AN, 1, 80, 256),
        el("365", "Communication Number Qualifier", X, ID, 2, 2),
        el5("364", "Communication Number", X, AN, 1, 80, 256),
        el("365", "Communication Number Qualifier", X, ID, 2, 2),
        el5("364", "Communication Number", X, AN, 1, 80, 256),
        el("443", "Contact Inquiry Reference", O, AN, 1, 20),
    ],
    &[note(NP, &[3, 4]), note(NP, &[5, 6]), note(NP, &[7, 8])],
    9,
);

pub static N1: SegmentDef = seg(
    "N1",
    "Name",
    &[
        el("98", "Entity Identifier Code", M, ID, 2, 3),
        el("93", "Name", X, AN, 1, 60),
        el("66", "Identification Code Qualifier", X, ID, 1, 2),
        el("67", "Identification Code", X, AN, 2, 80),
        el("706", "Entity Relationship Code", O, ID, 2, 2),
        el("98", "Entity Identifier Code", O, ID, 2, 3),
    ],
    &[note(NR, &[2, 3]), note(NP, &[3, 4])],
    6,
);

pub static N2: SegmentDef =
    seg("N2", "Additional Name Information", &[el("93", "Name", M, AN, 1, 60), el("93", "Name", O, AN, 1, 60)], &[], 2);

pub static N3: SegmentDef = seg(
    "N3",
    "Address Information",
    &[el("166", "Address Information", M, AN, 1, 55), el("166", "Address Information", O, AN, 1, 55)],
    &[],
    2,
);

pub static N4: SegmentDef = seg(
    "N4",
    "Geographic Location",
    &[
        el("19", "City Name", O, AN, 2, 30),
        el("156", "State or Province Code", O, ID, 2, 2),
        el("116", "Postal Code", O, ID, 3, 15),
        el("26", "Country Code", O, ID, 2, 3),
        el("309", "Location Qualifier", X, ID, 1, 2),
        el("310", "Location Identifier", O, AN, 1, 30),
        el("1715", "Country Subdivision Code", X, ID, 1, 3),
    ],
    &[note(NE, &[2, 7]), note(NC, &[6, 5]), note(NC, &[7, 4])],
    7,
);

pub static ITD: SegmentDef = SegmentDef {
    id: "ITD",
    name: "Terms of Sale/Deferred Terms of Sale",
    elements: &[
        el("336", "Terms Type Code", O, ID, 2, 2),
        el("333", "Terms Basis Date Code", O, ID, 1, 2),
        el("338", "Terms Discount Percent", O, R, 1, 6),
        el("370", "Terms Discount Due Date", X, DT, 8, 8),
        el("351", "Terms Discount Days Due", X, N0, 1, 3),
        el("446", "Terms Net Due Date", O, DT, 8, 8),
        el("386", "Terms Net Days", O, N0, 1, 3),
        el("362", "Terms Discount Amount", O, N2D, 1, 10),
        el("388", "Terms Deferred Due Date", O, DT, 8, 8),
        el("389", "Deferred Amount Due", O, N2D, 1, 10),
        el("342", "Percent of Invoice Payable", O, R, 1, 5),
        el("352", "Description", O, AN, 1, 80),
        el("765", "Day of Month", X, N0, 1, 2),
        el("107", "Payment Method Code", O, ID, 1, 2),
        el("954", "Percent", O, R, 1, 10),
    ],
    notes: &[note(NL, &[3, 4, 5, 13]), note(NL, &[8, 4, 5, 13])],
    comments: &[
        Comment { element: 1, codes: &["05"], then_any: &[6, 7], text: "ITD06 or ITD07 is expected when ITD01 is 05" },
        Comment { element: 1, codes: &["04"], then_any: &[7, 9], text: "ITD07 or ITD09 is expected when ITD01 is 04" },
        Comment {
            element: 1,
            codes: &["04"],
            then_any: &[10, 11],
            text: "ITD10 or ITD11 is expected when ITD01 is 04",
        },
    ],
    max_elements: 15,
};

pub static DTM: SegmentDef = seg(
    "DTM",
    "Date/Time Reference",
    &[
        el("374", "Date/Time Qualifier", M, ID, 3, 3),
        el("373", "Date", X, DT, 8, 8),
        el("337", "Time", X, TM, 4, 8),
        el("623", "Time Code", O, ID, 2, 2),
        el("1250", "Date Time Period Format Qualifier", X, ID, 2, 3),
        el("1251", "Date Time Period", X, AN, 1, 35),
    ],
    &[note(NR, &[2, 3, 5]), note(NC, &[4, 3]), note(NP, &[5, 6])],
    6,
);

pub static FOB: SegmentDef = seg(
    "FOB",
    "F.O.B. Related Instructions",
    &[
        el("146", "Shipment Method of Payment", M, ID, 2, 2),
        el("309", "Location Qualifier", X, ID, 1, 2),
        el("352", "Description", O, AN, 1, 80),
        el("334", "Transportation Terms Qualifier Code", O, ID, 2, 2),
        el("335", "Transportation Terms Code", X, ID, 3, 3),
        el("309", "Location Qualifier", X, ID, 1, 2),
        el("352", "Description", O, AN, 1, 80),
        el("54", "Risk of Loss Code", O, ID, 2, 2),
        el("352", "Description", X, AN, 1, 80),
    ],
    &[note(NC, &[3, 2]), note(NC, &[4, 5]), note(NC, &[7, 6]), note(NC, &[8, 9])],
    9,
);

pub static PID: SegmentDef = SegmentDef {
    id: "PID",
    name: "Product/Item Description",
    elements: &[
        code("349", "Item Description Type", M, 1, 1, &["F", "S", "X"]),
        el("750", "Product/Process Characteristic Code", O, ID, 2, 3),
        el("559", "Agency Qualifier Code", X, ID, 2, 2),
        el("751", "Product Description Code", X, AN, 1, 12),
        el("352", "Description", X, AN, 1, 80),
        el("752", "Surface/Layer/Position Code", O, ID, 2, 2),
        el("822", "Source Subqualifier", O, AN, 1, 15),
        el("1073", "Yes/No Condition or Response Code", O, ID, 1, 1),
        el("819", "Language Code", O, ID, 2, 3),
    ],
    notes: &[note(NC, &[4, 3]), note(NR, &[4, 5]), note(NC, &[7, 3]), note(NC, &[8, 4]), note(NC, &[9, 5])],
    comments: &[
        Comment { element: 1, codes: &["F", "X"], then_any: &[5], text: "PID05 is used when PID01 is F or X" },
        Comment { element: 1, codes: &["S", "X"], then_any: &[4], text: "PID04 is used when PID01 is S or X" },
    ],
    max_elements: 9,
};

const PRODUCT_QUALIFIER: ElementDef = el("235", "Product/Service ID Qualifier", X, ID, 2, 2);
const PRODUCT_ID: ElementDef = el("234", "Product/Service ID", X, AN, 1, 48);

pub static IT1: SegmentDef = seg(
    "IT1",
    "Baseline Item Data (Invoice)",
    &[
        el("350", "Assigned Identification", O, AN, 1, 20),
        el5("358", "Quantity Invoiced", X, R, 1, 10, 15),
        el("355", "Unit or Basis for Measurement Code", X, ID, 2, 2),
        el("212", "Unit Price", X, R, 1, 17),
        el("639", "Basis of Unit Price Code", O, ID, 2, 2),
        PRODUCT_QUALIFIER,
        PRODUCT_ID,
        PRODUCT_QUALIFIER,
        PRODUCT_ID,
        PRODUCT_QUALIFIER,
        PRODUCT_ID,
        PRODUCT_QUALIFIER,
        PRODUCT_ID,
        PRODUCT_QUALIFIER,
        PRODUCT_ID,
        PRODUCT_QUALIFIER,
        PRODUCT_ID,
        PRODUCT_QUALIFIER,
        PRODUCT_ID,
        PRODUCT_QUALIFIER,
        PRODUCT_ID,
        PRODUCT_QUALIFIER,
        PRODUCT_ID,
        PRODUCT_QUALIFIER,
        PRODUCT_ID,
    ],
    &[
        note(NP, &[2, 3, 4]),
        note(NP, &[6, 7]),
        note(NP, &[8, 9]),
        note(NP, &[10, 11]),
        note(NP, &[12, 13]),
        note(NP, &[14, 15]),
        note(NP, &[16, 17]),
        note(NP, &[18, 19]),
        note(NP, &[20, 21]),
        note(NP, &[22, 23]),
        note(NP, &[24, 25]),
    ],
    25,
);

pub static TXI: SegmentDef = seg(
    "TXI",
    "Tax Information",
    &[
        el("963", "Tax Type Code", M, ID, 2, 2),
        el("782", "Monetary Amount", X, R, 1, 18),
        el("954", "Percent", X, R, 1, 10),
        el("955", "Tax Jurisdiction Code Qualifier", X, ID, 2, 2),
        el("956", "Tax Jurisdiction Code", X, AN, 1, 10),
        el("441", "Tax Exempt Code", X, ID, 1, 1),
        el("662", "Relationship Code", O, ID, 1, 1),
        el("828", "Dollar Basis For Percent", O, R, 1, 9),
        el("325", "Tax Identification Number", O, AN, 1, 20),
        el("350", "Assigned Identification", O, AN, 1, 20),
    ],
    &[note(NR, &[2, 3, 6]), note(NP, &[4, 5]), note(NC, &[8, 3])],
    10,
);

pub static SAC: SegmentDef = SegmentDef {
    id: "SAC",
    name: "Service, Promotion, Allowance, or Charge Information",
    elements: &[
        code("248", "Allowance or Charge Indicator", M, 1, 1, &["A", "C", "N"]),
        el("1300", "Service, Promotion, Allowance, or Charge Code", X, ID, 4, 4),
        el("559", "Agency Qualifier Code", X, ID, 2, 2),
        el("1301", "Agency Service, Promotion, Allowance, or Charge Code", X, AN, 1, 10),
        el("610", "Amount", O, N2D, 1, 15),
        el("378", "Allowance/Charge Percent Qualifier", X, ID, 1, 1),
        el("332", "Percent", X, R, 1, 6),
        el("118", "Rate", O, R, 1, 9),
        el("355", "Unit or Basis for Measurement Code", X, ID, 2, 2),
        el("380", "Quantity", X, R, 1, 15),
        el("380", "Quantity", O, R, 1, 15),
        el("331", "Allowance or Charge Method of Handling Code", O, ID, 2, 2),
        el("127", "Reference Identification", X, AN, 1, 30),
        el("770", "Option Number", O, AN, 1, 20),
        el("352", "Description", X, AN, 1, 80),
        el("819", "Language Code", O, ID, 2, 3),
    ],
    notes: &[
        note(NR, &[2, 3]),
        note(NP, &[3, 4]),
        note(NP, &[6, 7]),
        note(NP, &[9, 10]),
        note(NC, &[11, 10]),
        note(NC, &[14, 13]),
        note(NC, &[16, 15]),
    ],
    comments: &[Comment {
        element: 1,
        codes: &["A", "C"],
        then_any: &[5, 7, 8],
        text: "SAC05, SAC07 or SAC08 is expected when SAC01 is A or C",
    }],
    max_elements: 16,
};

pub static TDS: SegmentDef = seg(
    "TDS",
    "Total Monetary Value Summary",
    &[
        el("610", "Amount", M, N2D, 1, 15),
        el("610", "Amount", O, N2D, 1, 15),
        el("610", "Amount", O, N2D, 1, 15),
        el("610", "Amount", O, N2D, 1, 15),
    ],
    &[],
    4,
);

pub static AMT: SegmentDef = seg(
    "AMT",
    "Monetary Amount",
    &[
        el("522", "Amount Qualifier Code", M, ID, 1, 3),
        el("782", "Monetary Amount", M, R, 1, 18),
        el("478", "Credit/Debit Flag Code", O, ID, 1, 1),
    ],
    &[],
    3,
);

pub static CTT: SegmentDef = seg(
    "CTT",
    "Transaction Totals",
    &[
        el("354", "Number of Line Items", M, N0, 1, 6),
        el("347", "Hash Total", O, R, 1, 10),
        el("81", "Weight", X, R, 1, 10),
        el("355", "Unit or Basis for Measurement Code", X, ID, 2, 2),
        el("183", "Volume", X, R, 1, 8),
        el("355", "Unit or Basis for Measurement Code", X, ID, 2, 2),
        el("352", "Description", O, AN, 1, 80),
    ],
    &[note(NP, &[3, 4]), note(NP, &[5, 6])],
    7,
);

// ---------------------------------------------------------------------------------------------
// 997 Functional Acknowledgment.

pub static AK1: SegmentDef = seg(
    "AK1",
    "Functional Group Response Header",
    &[
        fid("479", "Functional Identifier Code"),
        el("28", "Group Control Number", M, N0, 1, 9),
        el("480", "Version / Release / Industry Identifier Code", O, AN, 1, 12),
    ],
    &[],
    3,
);

pub static AK2: SegmentDef = seg(
    "AK2",
    "Transaction Set Response Header",
    &[
        el("143", "Transaction Set Identifier Code", M, ID, 3, 3),
        el("329", "Transaction Set Control Number", M, AN, 4, 9),
        el("1705", "Implementation Convention Reference", O, AN, 1, 35),
    ],
    &[],
    3,
);

pub static AK3: SegmentDef = seg(
    "AK3",
    "Data Segment Note",
    &[
        el("721", "Segment ID Code", M, ID, 2, 3),
        el("719", "Segment Position in Transaction Set", M, N0, 1, 6),
        el("447", "Loop Identifier Code", O, AN, 1, 6),
        code(
            "720",
            "Segment Syntax Error Code",
            O,
            1,
            3,
            &["1", "2", "3", "4", "5", "6", "7", "8", "I4", "I6", "I7", "I8", "I9"],
        ),
    ],
    &[],
    4,
);

pub static AK4: SegmentDef = seg(
    "AK4",
    "Data Element Note",
    &[
        ElementDef {
            reference: "C030",
            name: "Position in Segment",
            req: M,
            ty: DataType::Composite(&[
                el("722", "Element Position in Segment", M, N0, 1, 2),
                el("1528", "Component Data Element Position in Composite", O, N0, 1, 2),
                el("1686", "Repeating Data Element Position", O, N0, 1, 4),
            ]),
            min: 1,
            max: 10,
            max_5010: 10,
            codes: Codes::Any,
        },
        el("725", "Data Element Reference Number", O, N0, 1, 4),
        code(
            "723",
            "Data Element Syntax Error Code",
            M,
            1,
            3,
            &["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "12", "13", "I6", "I9", "I10", "I11", "I12", "I13"],
        ),
        el("724", "Copy of Bad Data Element", O, AN, 1, 99),
    ],
    &[],
    4,
);

const AK5_CODES: &[&str] = &["A", "E", "M", "R", "W", "X"];

pub static AK5: SegmentDef = seg(
    "AK5",
    "Transaction Set Response Trailer",
    &[
        code("717", "Transaction Set Acknowledgment Code", M, 1, 1, AK5_CODES),
        el("718", "Transaction Set Syntax Error Code", O, ID, 1, 3),
        el("718", "Transaction Set Syntax Error Code", O, ID, 1, 3),
        el("718", "Transaction Set Syntax Error Code", O, ID, 1, 3),
        el("718", "Transaction Set Syntax Error Code", O, ID, 1, 3),
        el("718", "Transaction Set Syntax Error Code", O, ID, 1, 3),
    ],
    &[],
    6,
);

pub static AK9: SegmentDef = seg(
    "AK9",
    "Functional Group Response Trailer",
    &[
        code("715", "Functional Group Acknowledge Code", M, 1, 1, &["A", "E", "M", "P", "R", "W", "X"]),
        el("97", "Number of Transaction Sets Included", M, N0, 1, 6),
        el("123", "Number of Received Transaction Sets", M, N0, 1, 6),
        el("2", "Number of Accepted Transaction Sets", M, N0, 1, 6),
        el("716", "Functional Group Syntax Error Code", O, ID, 1, 3),
        el("716", "Functional Group Syntax Error Code", O, ID, 1, 3),
        el("716", "Functional Group Syntax Error Code", O, ID, 1, 3),
        el("716", "Functional Group Syntax Error Code", O, ID, 1, 3),
        el("716", "Functional Group Syntax Error Code", O, ID, 1, 3),
    ],
    &[],
    9,
);

/// The definition of a segment id, if this dictionary has one.
pub fn segment(id: &[u8]) -> Option<&'static SegmentDef> {
    Some(match id {
        b"ISA" => &ISA,
        b"IEA" => &IEA,
        b"TA1" => &TA1,
        b"ISB" => &ISB,
        b"ISE" => &ISE,
        b"ISX" => &ISX,
        b"GS" => &GS,
        b"GE" => &GE,
        b"ST" => &ST,
        b"SE" => &SE,
        b"BIG" => &BIG,
        b"NTE" => &NTE,
        b"CUR" => &CUR,
        b"REF" => &REF,
        b"PER" => &PER,
        b"N1" => &N1,
        b"N2" => &N2,
        b"N3" => &N3,
        b"N4" => &N4,
        b"ITD" => &ITD,
        b"DTM" => &DTM,
        b"FOB" => &FOB,
        b"PID" => &PID,
        b"IT1" => &IT1,
        b"TXI" => &TXI,
        b"SAC" => &SAC,
        b"TDS" => &TDS,
        b"AMT" => &AMT,
        b"CTT" => &CTT,
        b"AK1" => &AK1,
        b"AK2" => &AK2,
        b"AK3" => &AK3,
        b"AK4" => &AK4,
        b"AK5" => &AK5,
        b"AK9" => &AK9,
        _ => return None,
    })
}

/// Interchange-level segments other than ISA/IEA: they sit between ISA and the first GS.
pub const INTERCHANGE_SERVICE: [&[u8]; 5] = [b"TA1", b"ISB", b"ISE", b"ISX", b"TA3"];

/// Data element 479 (GS01, AK101): code, name, and the transaction sets the code covers.
pub static FUNCTIONAL_IDS: &[(&str, &str, &[&str])] = &[
    ("AA", "Account Analysis", &["822"]),
    ("AB", "Logistics Service Request", &["219"]),
    ("AC", "Associated Data", &["102"]),
    ("AD", "Individual Life, Annuity and Disability Application", &["267"]),
    ("AE", "Premium Audit Request and Return", &["187"]),
    ("AF", "Application for Admission to Educational Institutions", &["189"]),
    ("AG", "Application Advice", &["824"]),
    ("AH", "Logistics Service Response", &["220"]),
    ("AI", "Automotive Inspection Detail", &["928"]),
    ("AK", "Student Educational Record (Transcript) Acknowledgment", &["131"]),
    ("AL", "Set Cancellation", &["998"]),
    ("AM", "Item Information Request", &["893"]),
    ("AN", "Return Merchandise Authorization and Notification", &["180"]),
    ("AO", "Income or Asset Offset", &["521"]),
    ("AP", "Abandoned Property Filings", &["103"]),
    ("AQ", "U.S. Customs Manifest", &["309"]),
    ("AR", "Warehouse Stock Transfer Shipment Advice", &["943"]),
    ("AS", "Transportation Appointment Schedule Information", &["163"]),
    ("AT", "Animal Toxicological Data", &["249"]),
    ("AU", "U.S. Customs Status Information", &["350"]),
    ("AV", "U.S. Customs Carrier General Order Status", &["352"]),
    ("AW", "Warehouse Inventory Adjustment Advice", &["947"]),
    ("AX", "U.S. Customs Events Advisory Details", &["353"]),
    ("AY", "U.S. Customs Automated Manifest Archive Status", &["354"]),
    ("AZ", "U.S. Customs Acceptance/Rejection", &["355"]),
    ("BA", "U.S. Customs Permit to Transfer Request", &["356"]),
    ("BB", "U.S. Customs In-Bond Information", &["357"]),
    ("BC", "Business Credit Report", &["155"]),
    ("BD", "U.S. Customs Consist Information", &["358"]),
    ("BE", "Benefit Enrollment and Maintenance", &["834"]),
    ("BF", "Business Entity Filings", &["105"]),
    ("BL", "Motor Carrier Bill of Lading", &["211"]),
    ("BS", "Shipment and Billing Notice", &["857"]),
    ("CA", "Purchase Order Change Acknowledgment/Request - Seller Initiated", &["865"]),
    ("CB", "Unemployment Insurance Tax Claim or Charge Information", &["153"]),
    ("CC", "Clauses and Provisions", &["504"]),
    ("CD", "Credit/Debit Adjustment", &["812"]),
    ("CE", "Cartage Work Assignment", &["222"]),
    ("CF", "Corporate Financial Adjustment Information", &["844", "849"]),
    ("CH", "Car Handling Information", &["420"]),
    ("CI", "Consolidated Service Invoice/Statement", &["811"]),
    ("CJ", "Manufacturer Coupon Family Code Structure", &["877"]),
    ("CK", "Manufacturer Coupon Redemption Detail", &["881"]),
    ("CL", "Election Campaign and Lobbyist Reporting", &["113"]),
    ("CM", "Component Parts Content", &["871"]),
    ("CN", "Coupon Notification", &["887"]),
    ("CO", "Cooperative Advertising Agreements", &["290"]),
    ("CP", "Electronic Proposal Information", &["251", "805"]),
    ("CQ", "Commodity Movement Services Response", &["874"]),
    ("CR", "Rail Carhire Settlements", &["414"]),
    ("CS", "Cryptographic Service Message", &["815"]),
    ("CT", "Application Control Totals", &["831"]),
    ("CU", "Commodity Movement Services", &["873"]),
    ("CV", "Commercial Vehicle Safety and Credentials Information Exchange", &["285"]),
    ("CW", "Educational Institution Record", &["133"]),
    ("D3", "Contract Completion Status", &["567"]),
    ("D4", "Contract Abstract", &["561"]),
    ("D5", "Contract Payment Management Report", &["568"]),
    ("DA", "Debit Authorization", &["828"]),
    ("DD", "Shipment Delivery Discrepancy Information", &["854"]),
    ("DF", "Market Development Fund Allocation", &["883"]),
    ("DI", "Dealer Information", &["128"]),
    ("DM", "Equipment Order", &["422"]),
    ("DS", "Data Status Tracking", &["242"]),
    ("DX", "Direct Exchange Delivery and Return Information", &["894", "895"]),
    ("EC", "Educational Course Inventory", &["188"]),
    ("ED", "Student Educational Record (Transcript)", &["130"]),
    ("EI", "Railroad Equipment Inquiry or Advice", &["456"]),
    ("EN", "Equipment Inspection", &[]),
    ("EP", "Environmental Compliance Reporting", &["179"]),
    ("ER", "Revenue Receipts Statement", &["170"]),
    ("ES", "Notice of Employment Status", &["540"]),
    ("EV", "Railroad Event Report", &["451"]),
    ("EX", "Excavation Communication", &["620"]),
    ("FA", "Functional or Implementation Acknowledgment Transaction Sets", &["997", "999"]),
    ("FB", "Freight Invoice", &["859"]),
    ("FC", "Court and Law Enforcement Information", &["175", "176"]),
    ("FG", "Motor Carrier Loading and Route Guide", &["217"]),
    ("FR", "Financial Reporting", &["821", "827"]),
    ("FT", "File Transfer", &["996"]),
    ("GC", "Damage Claim Transaction Sets", &["920", "924", "925", "926"]),
    ("GE", "General Request, Response or Confirmation", &["814"]),
    ("GF", "Response to a Load Tender", &["990"]),
    ("GL", "Intermodal Group Loading Plan", &["715"]),
    ("GP", "Grocery Products Invoice", &["880"]),
    ("GR", "Statistical Government Information", &["152"]),
    ("GT", "Grant or Assistance Application", &["194"]),
    ("HB", "Eligibility, Coverage or Benefit Information", &["271"]),
    ("HC", "Health Care Claim", &["837"]),
    ("HI", "Health Care Services Review Information", &["278"]),
    ("HN", "Health Care Information Status Notification", &["277"]),
    ("HP", "Health Care Claim Payment/Advice", &["835"]),
    ("HR", "Health Care Claim Status Request", &["276"]),
    ("HS", "Eligibility, Coverage or Benefit Inquiry", &["270"]),
    ("HU", "Human Resource Information", &["132"]),
    ("HV", "Health Care Benefit Coordination Verification", &["269"]),
    ("IA", "Air Freight Details and Invoice", &["110", "980"]),
    ("IB", "Inventory Inquiry/Advice", &["846"]),
    ("IC", "Rail Advance Interchange Consist", &["418"]),
    ("ID", "Insurance/Annuity Application Status", &["273"]),
    ("IE", "Insurance Producer Administration", &["252"]),
    ("IF", "Individual Insurance Policy and Client Information", &["111"]),
    ("IG", "Direct Store Delivery Summary Information", &["882"]),
    ("IH", "Commercial Vehicle Safety Reports", &["284"]),
    ("IJ", "Report of Injury, Illness or Incident", &["148"]),
    ("IM", "Motor Carrier Freight Details and Invoice", &["210", "980"]),
    ("IN", "Invoice Information", &["810"]),
    ("IO", "Ocean Shipment Billing Details", &["310", "312", "980"]),
    ("IR", "Rail Carrier Freight Details and Invoice", &["410", "980"]),
    ("IS", "Estimated Time of Arrival and Car Scheduling", &["421"]),
    ("JB", "Joint Interest Billing and Operating Expense Statement", &["819"]),
    ("KM", "Commercial Vehicle Credentials", &["286"]),
    ("LA", "Federal Communications Commission (FCC) License Application", &["195"]),
    ("LB", "Lockbox", &["823"]),
    ("LI", "Locomotive Information", &["436"]),
    ("LN", "Property and Casualty Loss Notification", &["272"]),
    ("LR", "Logistics Reassignment", &["536"]),
    ("LS", "Asset Schedule", &["851"]),
    ("LT", "Student Loan Transfer and Status Verification", &["144"]),
    ("MA", "Motor Carrier Summary Freight Bill Manifest", &["224"]),
    ("MC", "Request for Motor Carrier Rate Proposal", &["107"]),
    ("MD", "Department of Defense Inventory Management", &["527"]),
    ("ME", "Mortgage Origination", &["198", "200", "201", "245", "261", "262", "263", "833", "872"]),
    ("MF", "Market Development Fund Settlement", &["884"]),
    ("MG", "Mortgage Servicing Transaction Sets", &["203", "206", "259", "260", "264", "266"]),
    ("MH", "Motor Carrier Rate Proposal", &["106"]),
    ("MI", "Motor Carrier Shipment Status Inquiry", &["213"]),
    ("MJ", "Secondary Mortgage Market Loan Delivery", &["202"]),
    ("MK", "Response to a Motor Carrier Rate Proposal", &["108"]),
    ("MM", "Medical Event Reporting", &["500"]),
    ("MN", "Mortgage Note", &["205"]),
    ("MO", "Maintenance Service Order", &["650"]),
    ("MP", "Motion Picture Booking Confirmation", &["159"]),
    ("MQ", "Consolidators Freight Bill and Invoice", &["223"]),
    ("MR", "Multilevel Railcar Load Details", &["125"]),
    ("MS", "Material Safety Data Sheet", &["848"]),
    ("MT", "Electronic Form Structure", &["868"]),
    ("MV", "Material Obligation Validation", &["517"]),
    ("MW", "Rail Waybill Response", &["427"]),
    ("MX", "Material Claim", &["847"]),
    ("MY", "Response to a Cartage Work Assignment", &["225"]),
    ("MZ", "Motor Carrier Package Status", &["240"]),
    ("NC", "Nonconformance Report", &["842"]),
    ("NL", "Name and Address Lists", &["101"]),
    ("NP", "Notice of Power of Attorney", &["157"]),
    ("NR", "Secured Receipt or Acknowledgment", &["993"]),
    ("NT", "Notice of Tax Adjustment or Assessment", &["149"]),
    ("OC", "Cargo Insurance Advice of Shipment", &["362"]),
    ("OG", "Order Group - Grocery", &["875", "876"]),
    ("OR", "Organizational Relationships", &["816"]),
    ("OW", "Warehouse Shipping Order", &["940"]),
    ("PA", "Price Authorization Acknowledgment/Status", &["845"]),
    ("PB", "Railroad Parameter Trace Registration", &["455"]),
    ("PC", "Purchase Order Change Request - Buyer Initiated", &["860"]),
    ("PD", "Product Activity Data", &["852"]),
    ("PE", "Periodic Compensation", &["256"]),
    ("PF", "Annuity Activity", &["268"]),
    ("PG", "Insurance Plan Description", &["100"]),
    ("PH", "Pricing History", &["503"]),
    ("PI", "Patient Information", &["275"]),
    ("PJ", "Project Schedule Reporting", &["806"]),
    ("PK", "Project Cost Reporting and Contractor Cost Data Reporting", &["839", "196"]),
    ("PL", "Railroad Problem Log Inquiry or Advice", &["452"]),
    ("PN", "Product Source Information", &["244"]),
    ("PO", "Purchase Order", &["850"]),
    ("PQ", "Property Damage Report", &["112"]),
    ("PR", "Purchase Order Acknowledgment", &["855"]),
    ("PS", "Planning Schedule with Release Capability", &["830"]),
    ("PT", "Product Transfer and Resale Report", &["867"]),
    ("PU", "Motor Carrier Shipment Pickup Notification", &["216"]),
    ("PV", "Purchase Order Shipment Management Document", &["250"]),
    ("PW", "Healthcare Provider Information", &["274"]),
    ("PY", "Payment Cancellation Request", &["829"]),
    ("QG", "Product Information", &["878", "879", "888", "889", "896"]),
    ("QM", "Transportation Carrier Shipment Status Message", &["214"]),
    ("QO", "Ocean Shipment Status Information", &["313", "315"]),
    ("RA", "Payment Order/Remittance Advice", &["820"]),
    ("RB", "Railroad Clearance", &["470"]),
    ("RC", "Receiving Advice/Acceptance Certificate", &["861"]),
    ("RD", "Royalty Regulatory Report", &["185"]),
    ("RE", "Warehouse Stock Receipt Advice", &["944"]),
    ("RF", "Request for Routing Instructions", &["753"]),
    ("RG", "Routing Instructions", &["754"]),
    ("RH", "Railroad Reciprocal Switch File", &["433"]),
    ("RI", "Routing and Carrier Instruction", &["853"]),
    ("RJ", "Railroad Mark Register Update Activity", &["434"]),
    ("RK", "Standard Transportation Commodity Code Master", &["435"]),
    ("RL", "Rail Industrial Switch List", &["423"]),
    ("RM", "Railroad Station Master File", &["431"]),
    ("RN", "Requisition Transaction", &["511"]),
    ("RO", "Ocean Booking Information", &["300", "301", "303"]),
    ("RP", "Commission Sales Report", &["818"]),
    ("RQ", "Request for Quotation and Procurement Notices", &["840", "836"]),
    ("RR", "Response to Request For Quotation", &["843"]),
    ("RS", "Order Status Information", &["869", "870"]),
    ("RT", "Report of Test Results", &["863"]),
    ("RU", "Railroad Retirement Activity", &["429"]),
    ("RV", "Railroad Junctions and Interchanges Activity", &["437"]),
    ("RW", "Rail Revenue Waybill", &["426"]),
    ("RX", "Rail Deprescription", &["432"]),
    ("RY", "Request for Student Educational Record (Transcript)", &["146"]),
    ("RZ", "Response to Request for Student Educational Record (Transcript)", &["147"]),
    ("SA", "Air Shipment Information", &["104"]),
    ("SB", "Rail Carrier Services Settlement", &["424"]),
    ("SC", "Price/Sales Catalog", &["832"]),
    ("SD", "Student Loan Pre-Claims and Claims", &["191"]),
    ("SE", "Shipper's Export Declaration", &["601"]),
    ("SH", "Ship Notice/Manifest", &["856"]),
    ("SI", "Shipment Information", &["858"]),
    ("SJ", "Transportation Automatic Equipment Identification", &["160"]),
    ("SL", "Student Aid Origination Record", &["135", "139"]),
    ("SM", "Motor Carrier Load Tender", &["204"]),
    ("SN", "Rail Route File Maintenance", &["475"]),
    (
        "SO",
        "Ocean Shipment Information",
        &[
            "304", "309", "311", "317", "319", "322", "323", "324", "325", "326", "350", "352", "353", "354", "355",
            "356", "357", "358", "361",
        ],
    ),
    ("SP", "Specifications/Technical Information", &["841"]),
    ("SQ", "Production Sequence", &["866"]),
    ("SR", "Rail Carrier Shipment Information", &["404", "419"]),
    ("SS", "Shipping Schedule", &["862"]),
    ("ST", "Railroad Service Commitment Advice", &["453"]),
    ("SU", "Account Assignment/Inquiry and Service/Status", &["248"]),
    ("SV", "Student Enrollment Verification", &["190"]),
    ("SW", "Warehouse Shipping Advice", &["945"]),
    ("TA", "Electronic Filing of Tax Return Data Acknowledgment", &["151"]),
    ("TB", "Trailer or Container Repair Billing", &["412"]),
    ("TD", "Trading Partner Profile", &["838"]),
    ("TE", "Tax or Fee Exemption Certification", &["283"]),
    ("TF", "Electronic Filing of Tax Return Data", &["813"]),
    ("TI", "Tax Information Exchange", &["826"]),
    ("TJ", "Tax Jurisdiction Sourcing", &["158"]),
    ("TM", "Motor Carrier Delivery Trailer Manifest", &["212"]),
    ("TN", "Tax Rate Notification", &["150"]),
    ("TO", "Real Estate Title Services", &["197", "199", "265", "485", "486"]),
    ("TP", "Rail Rate Transactions", &["460", "463", "466", "468", "485", "486", "490", "492", "494"]),
    ("TR", "Train Sheet", &["161"]),
    ("TS", "Transportation Services Tender", &["602"]),
    ("TT", "Educational Testing and Prospect Request and Report", &["138"]),
    ("TU", "Trailer Usage Report", &["227"]),
    ("TX", "Text Message", &["864"]),
    ("UA", "Retail Account Characteristics", &["885"]),
    ("UB", "Customer Call Reporting", &["886"]),
    ("UC", "Secured Interest Filing", &["154"]),
    ("UD", "Deduction Research Report", &["891"]),
    ("UI", "Underwriting Information Services", &["255"]),
    ("UP", "Motor Carrier Pickup Manifest", &["215"]),
    ("UW", "Insurance Underwriting Requirements Reporting", &["186"]),
    ("VA", "Vehicle Application Advice", &["126"]),
    ("VB", "Vehicle Baying Order", &["127"]),
    ("VC", "Vehicle Shipping Order", &["120"]),
    ("VD", "Vehicle Damage", &["124"]),
    ("VE", "Vessel Content Details", &["109"]),
    ("VH", "Vehicle Carrier Rate Update", &["129"]),
    ("VI", "Voter Registration Information", &["280"]),
    ("VS", "Vehicle Service", &["121"]),
    ("WA", "Product Service Transaction Sets", &["140", "141", "142", "143"]),
    ("WB", "Rail Carrier Waybill Interchange", &["417"]),
    ("WG", "Vendor Performance Review", &["501"]),
    ("WI", "Wage Determination", &["288"]),
    ("WL", "Well Information", &["625"]),
    ("WR", "Shipment Weights", &["440"]),
    ("WT", "Rail Waybill Request", &["425"]),
];

/// The name and transaction sets of a functional identifier code.
pub fn functional_id(code: &str) -> Option<(&'static str, &'static [&'static str])> {
    FUNCTIONAL_IDS.iter().find(|(c, _, _)| *c == code).map(|(_, name, sets)| (*name, *sets))
}

/// The functional identifier (GS01) that carries a transaction set (`850` → `PO`).
pub fn functional_id_for_set(set: &str) -> Option<&'static str> {
    FUNCTIONAL_IDS.iter().find(|(_, _, sets)| sets.contains(&set)).map(|(c, _, _)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        assert_eq!(segment(b"IT1").unwrap().elements.len(), 25);
        assert!(segment(b"ZZZ").is_none());
        assert_eq!(functional_id("IN").unwrap().1, &["810"]);
        assert_eq!(functional_id_for_set("850"), Some("PO"));
        assert_eq!(functional_id_for_set("856"), Some("SH"));
        assert_eq!(functional_id_for_set("997"), Some("FA"));
        assert_eq!(note(NL, &[3, 4, 5, 13]).code(), "L03040513");
    }

    #[test]
    fn every_definition_is_consistent() {
        for id in [
            "ISA", "IEA", "TA1", "ISB", "ISE", "ISX", "GS", "GE", "ST", "SE", "BIG", "NTE", "CUR", "REF", "PER", "N1",
            "N2", "N3", "N4", "ITD", "DTM", "FOB", "PID", "IT1", "TXI", "SAC", "TDS", "AMT", "CTT", "AK1", "AK2",
            "AK3", "AK4", "AK5", "AK9",
        ] {
            let d = segment(id.as_bytes()).unwrap();
            assert_eq!(d.id, id);
            assert!(d.elements.len() <= usize::from(d.max_elements), "{id}");
            for e in d.elements {
                assert!(e.min <= e.max && e.max <= e.max_5010, "{id} {}", e.name);
            }
            for n in d.notes {
                assert!(n.elements.len() >= 2, "{id} {}", n.code());
                assert!(n.elements.iter().all(|&e| e >= 1 && e <= d.max_elements), "{id} {}", n.code());
            }
        }
    }
}
