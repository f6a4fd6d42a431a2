//! X12 EDI for ml-connector: 810 invoices and 997 acknowledgments between Deltek Vantagepoint and
//! Cleo Integration Cloud.
//!
//! **What these are.** X12 is the ANSI standard for business documents as delimited text. A file
//! holds one or more *interchanges* (`ISA … IEA`, addressed sender → receiver), each holding
//! *functional groups* (`GS … GE`, one kind of document), each holding *transaction sets*
//! (`ST … SE`), which are sequences of *segments* (`BIG*20260301*INV-1~`) made of *elements*. The
//! **810** is the invoice: header (BIG number/date, CUR, REF, N1 parties, ITD terms, DTM), detail
//! lines (IT1 quantity × price with product ids, PID descriptions, TXI tax, SAC charges) and a
//! summary (TDS total in implied cents, TXI, SAC, CTT counts). The **997** is the functional
//! acknowledgment a receiver sends back for each group: accepted, accepted with errors, or
//! rejected, down to the bad segment and element.
//!
//! **Partner quirks handled, and why** (facts in `research/x12-810.md` §3 and §8):
//! - delimiters are whatever the ISA says — `*` `|` `^` `~` as elements, `>` `:` `^` `}` as
//!   components, `~` with or without CR/LF/CRLF, or a bare newline as terminator — so they are
//!   detected, never assumed; unpadded (non-fixed-width) ISAs are common, so detection counts
//!   separators instead of trusting byte 105 ([`delimiters`]);
//! - a UTF-8 BOM and whitespace before the ISA, blank lines and `~~` between segments, a missing
//!   final terminator: tolerated ([`lexer`]);
//! - "fat" files with several interchanges, groups and sets; control numbers padded on one side
//!   and not the other (`000003438` vs `3438`), compared numerically ([`envelope`]);
//! - `U` in ISA11 of a 00501 interchange; odd versions (`00040`, `008010`); `GS01` not `IN`:
//!   read, with a warning;
//! - empty IT101/IT103, any number of product-id pairs, N2 amounts sent with a decimal point, TDS
//!   in whole currency units, tax in or out of TDS, credit memos as BIG07 `CR` or as negative
//!   amounts, carrier segments (V1, SLN ...) in an invoice: read, flagged where the data is
//!   doubtful ([`invoice810`]);
//! - bare `ST…SE` fragments without envelope: read, with a warning.
//!
//! Nothing here panics on input, and memory is linear in the input with small constant caps on
//! repeats and findings (each level keeps at most [`error::MAX_KEPT`] errors and warnings; the
//! file stops after [`envelope::MAX_FILE_ERRORS`]; no buffer is sized from a count in the data).
//! The 810 model borrows its text from the input (`Cow<str>`, owned only when decoded from
//! Latin-1), so an [`X12File`] lives as long as the bytes it was parsed from; segments stream
//! into their set's builder and are never buffered. Money is `Decimal` throughout, never a float.
//!
//! Modules:
//! - [`delimiters`], [`lexer`], [`values`]: bytes → segments → typed element values.
//! - [`envelope`]: [`parse`] → [`X12File`] with interchanges, groups, sets and their findings.
//! - [`invoice810`]: the typed [`Invoice810`] and its soft checks (TDS vs lines, CTT).
//! - [`to_domain`]: [`SetRef::to_ap_invoice`] (inbound) and [`SetRef::to_ar_invoice`].
//! - [`render`]: [`render_810`] from `ArInvoice` with a [`PartnerProfile`].
//! - [`control`]: [`ControlNumbers`] and the file-backed, crash-safe counter.
//! - [`ack997`]: generate, render, read and match 997s.
//! - [`error`]: [`X12Error`] (hard, with location and expected/found) and [`Warning`] (soft).
//! - [`cli`]: the `mlc x12 parse|validate|ack` commands as functions.

pub mod ack997;
pub mod cli;
pub mod control;
pub mod delimiters;
pub mod envelope;
pub mod error;
pub mod invoice810;
pub mod lexer;
pub mod render;
pub mod to_domain;
pub mod values;

pub use ack997::{Ack997, AckCode, AckMatch, AckOptions, OutboundGroup, acknowledge, match_ack, render_997};
pub use control::{ControlError, ControlNumbers, FileControlNumbers, MemoryControlNumbers, Numbers};
pub use delimiters::Delimiters;
pub use envelope::{
    Group, Interchange, ParseOptions, Release, SetContent, SetRef, TaxInTds, TransactionSet, X12File, parse, parse_with,
};
pub use error::{ErrorKind, Location, Severity, Warning, WarningKind, X12Error};
pub use invoice810::Invoice810;
pub use render::{PartnerProfile, RenderError, Rendered, Separators, Usage, render_810, render_810_next};
pub use to_domain::{MapOptions, MappingError, UNMAPPED_ACCOUNT};
