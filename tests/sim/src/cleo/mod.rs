//! Cleo Integration Cloud simulator: being built for Deltek Vantagepoint ↔ Cleo Integration Cloud (issue 16). See `shared/research/cleo.md`.
