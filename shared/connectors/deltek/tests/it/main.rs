//! The Deltek client against the Deltek simulator (`mlc-sim`), over real HTTP on 127.0.0.1.
//!
//! One test binary (faster to build than one per file); each test starts its own simulator on a
//! free port with the demo scenario (a 120-person engineering consultancy, clock frozen at
//! 2025-06-16, active period 202506, periods before 202505 closed) unless it says otherwise.

mod ap;
mod ar;
mod auth;
mod errors;
mod journal;
mod lookup;
mod ping;
mod reference;
mod support;
mod vendors;
mod webhook;
