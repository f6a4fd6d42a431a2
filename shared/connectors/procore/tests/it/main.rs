//! Client tests against the Procore simulator over real HTTP.
