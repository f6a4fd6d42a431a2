//! X12 EDI for ml-connector: 810 invoices, 997 functional acknowledgments and TA1 interchange
//! acknowledgments between Deltek Vantagepoint and Cleo Integration Cloud — read as trading
//! partners really send them.
//!
//! **What these are.** X12 is the ANSI standard for business documents as delimited text. A file
//! holds one or more *interchanges* (`ISA … IEA`, addressed sender → receiver), each holding
//! *functional groups* (`GS … GE`, one kind of document), each holding *transaction sets*
//! (`ST … SE`), which are sequences of *segments* (`BIG*20260301*INV-1~`) made of *elements*. The
//! **810** is the invoice: header (BIG number/date, CUR, REF, N1 parties, ITD terms, DTM), detail
//! lines (IT1 quantity × price with product ids, PID descriptions, TXI tax, SAC charges) and a
//! summary (TDS total in implied cents, TXI, SAC, CTT counts). The **997** is the functional
//! acknowledgment a receiver sends back for each group: accepted, accepted with errors, or
//! rejected, down to the bad segment and element. The **TA1** answers for the interchange
//! envelope itself, when the sender asks for it in ISA14.
//!
//! **Partner quirks handled, and why** (facts in `research/x12-810.md` §3 and §8):
//! - mailbags mix groups: an `IN` group of 810s beside `PO` 850s, `SH` 856s, `RA` 820s. Every
//!   group and every set is read on its own: 810s and 997s are read from any group, other sets
//!   are reported as not handled, a set of the wrong kind inside a group is rejected alone — a
//!   partner's ordinary file never stops the invoices in it ([`envelope`]);
//! - interchange service segments (ISB, ISE, ISX with its release character, TA1, TA3) between
//!   ISA and GS; GS06 unique per interchange, ST02 unique per group; an ISA13 the partner already
//!   sent is a re-send ([`resend`]);
//! - one validator for types, lengths, code lists and syntax notes, applied to every segment of
//!   every set and the envelope; dictionary comments are warnings, not rejections ([`validate`],
//!   [`dictionary`]);
//! - delimiters are whatever the ISA says — `*` `|` `^` `~` as elements, `>` `:` `^` `}` as
//!   components, `~` with or without CR/LF/CRLF, or a bare newline as terminator — so they are
//!   detected, never assumed; unpadded (non-fixed-width) ISAs are common, so detection counts
//!   separators instead of trusting byte 105 ([`delimiters`]);
//! - a UTF-8 BOM and whitespace before the ISA, blank lines and `~~` between segments, a missing
//!   final terminator: tolerated ([`lexer`]);
//! - "fat" files with several interchanges, groups and sets; control numbers padded on one side
//!   and not the other (`000003438` vs `3438`), compared numerically;
//! - `U` in ISA11 of a 00501 interchange; odd versions (`00040`, `008010`); `GS01` not `IN`:
//!   read, with a warning;
//! - empty IT101/IT103, any number of product-id pairs, N2 amounts sent with a decimal point, TDS
//!   in whole currency units, tax in or out of TDS, credit memos as BIG07 `CR` or as negative
//!   amounts, carrier segments (V1, SLN ...) in an invoice: read, flagged where the data is
//!   doubtful ([`invoice810`]);
//! - the vendor is the trading partner's ids and the seller party, not a remit-to bank
//!   ([`to_domain`]);
//! - bare `ST…SE` fragments without envelope: read, with a warning.
//!
//! Nothing here panics on input. [`parse`] holds the whole file and every set (memory linear in
//! the input, with small constant caps on repeats and findings); [`stream::Reader`] reads from a
//! `Read` one set at a time, so memory stays near the largest set. Both run the same lexer step
//! and the same envelope machine. The 810 model borrows its text from the input (`Cow<str>`,
//! owned only when decoded from Latin-1 or unescaped). Money is `Decimal` throughout.
//!
//! Modules, bottom up:
//! - [`values`], [`error`], [`headers`], [`delimiters`], [`lexer`]: bytes → segments → values.
//! - [`dictionary`], [`validate`]: the X12 definitions and the one validator.
//! - [`writer`], [`control`], [`profile`]: writing segments, control numbers, partner profiles.
//! - [`invoice810`], [`ack997`], [`ta1`]: the three documents, read (and the 997/TA1 written).
//! - [`envelope`] ([`parse`]) and [`stream`] ([`stream::Reader`]): the two drivers of one machine.
//! - [`acknowledge`], [`resend`], [`to_domain`], [`render`]: responses (997 + TA1), re-sends,
//!   the domain mapping, the 810 renderer.
//! - [`report`], [`cli`]: what was read, acknowledged and rejected; the `mlc x12` commands.

pub mod ack997;
pub mod acknowledge;
pub mod cli;
pub mod control;
pub mod delimiters;
pub mod dictionary;
pub mod envelope;
pub mod error;
pub mod headers;
pub mod invoice810;
pub mod lexer;
pub mod profile;
pub mod render;
pub mod report;
pub mod resend;
pub mod stream;
pub mod ta1;
pub mod to_domain;
pub mod validate;
pub mod values;
pub mod writer;

pub use ack997::{Ack997, AckCode, AckMatch, OutboundGroup, match_ack};
pub use acknowledge::{
    AckOptions, Response, acknowledge, acknowledge_file, match_file, render_997, render_response, respond,
    respond_file, ta1_for,
};
pub use control::{ControlError, ControlNumbers, FileControlNumbers, MemoryControlNumbers, Numbers};
pub use delimiters::Delimiters;
pub use envelope::{
    Group, Interchange, ParseOptions, Release, SetContent, SetRef, SetStatus, SetSummary, TaxInTds, TransactionSet,
    X12File, parse, parse_with,
};
pub use error::{ErrorKind, Location, Severity, Warning, WarningKind, X12Error};
pub use invoice810::Invoice810;
pub use profile::{AckScope, InboundRules, PartnerProfile, Separators, Ta1Policy};
pub use render::{Rendered, render_810, render_810_next};
pub use report::{FileReport, report};
pub use stream::{Event, Reader, SetEvent, StreamError};
pub use ta1::Ta1;
pub use to_domain::{MapOptions, MappingError, UNMAPPED_ACCOUNT, VendorIdentity, VendorSource};
pub use writer::{RenderError, Usage};
