//! Procore connector (`mlc-procore`): being built for Procore → Deltek Vantagepoint (issue 14). See `shared/research/procore.md`.
