//! Prints the `commands` target's structured input for raw fuzzer inputs as
//! JSON: the form `tests/fuzz_regressions.rs` replays.
//!
//! ```sh
//! cd fuzz && cargo run --example decode_commands -- artifacts/commands/crash-...
//! ```

use approval_gate_fuzz::commands::Case;
use arbitrary::{Arbitrary, Unstructured};

fn main() {
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
        // What `fuzz_target!(|case: Case| ...)` does with the bytes.
        if bytes.len() < Case::size_hint(0).0 {
            eprintln!("{path}: shorter than any case");
            continue;
        }
        match Case::arbitrary_take_rest(Unstructured::new(&bytes)) {
            Ok(case) => println!("{}", serde_json::to_string_pretty(&case).expect("a case serializes")),
            Err(error) => eprintln!("{path}: not a case: {error}"),
        }
    }
}
