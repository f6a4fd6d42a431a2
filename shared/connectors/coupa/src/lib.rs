//! Coupa connector (`mlc-coupa`): being built for Coupa → Deltek Vantagepoint (issue 15). See `shared/research/coupa.md`.
