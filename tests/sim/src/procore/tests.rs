//! Behaviour tests of the Procore simulator over real HTTP.
