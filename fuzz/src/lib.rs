//! Shared code of the fuzz targets. `tests/fuzz_regressions.rs` in the main
//! crate includes `policies.rs` and `commands.rs` by path, so a regression
//! replays exactly what the fuzzer ran.

pub mod commands;
pub mod policies;
