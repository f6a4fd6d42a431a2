//! Coupa client tests against the simulator over HTTP.
