//! End-to-end tests of the flows: the runtime (connections, shared sources, targets, intake) over
//! the engine's in-memory ports, against the vendor simulators over real HTTP on loopback. One
//! test binary for every integration (one module each), so they link once.

mod accounted;
mod cin7_acumatica;
mod coupa_deltek;
mod deltek_cleo;
mod platform;
mod procore;
mod read_faults;
mod reliability;
mod support;
mod toy_system;
