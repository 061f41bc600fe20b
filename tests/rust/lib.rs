//! Scenario tests live in `rust/main.rs` (one behaviour per file under `rust/`).
