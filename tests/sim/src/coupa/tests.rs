//! Coupa simulator tests over HTTP.
