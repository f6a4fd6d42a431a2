//! The Cleo client against the Cleo simulator (`mlc-sim`), over real HTTP on 127.0.0.1.
//!
//! One test binary; each test starts its own simulator on a free port with the demo company
//! (three public-sector clients, a drilling subcontractor with a month of 810s in its inbound
//! folder), a frozen clock and the simulator's rate limit off, unless it says otherwise.

mod auth;
mod faults;
mod files;
mod limits;
mod paging;
mod ping;
mod registration;
mod support;
