//! Acumatica simulator: being built for Cin7 Core ↔ Acumatica (issue 13). See `shared/research/acumatica.md`.
