//! Arbitrary bytes as a Harness `HarnessApproval` step: a typed error or a valid, usable
//! policy, never a panic. See `approval_gate_fuzz::policies`.

#![no_main]

use approval_gate_fuzz::policies::{Format, check_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| check_bytes(Format::Harness, data));
