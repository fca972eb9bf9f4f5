//! A small arbitrary policy and up to 40 timed commands, through the engine
//! and the service in lockstep. See `approval_gate_fuzz::commands`.

#![no_main]

use approval_gate_fuzz::commands::{Case, run};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: Case| run(&case));
