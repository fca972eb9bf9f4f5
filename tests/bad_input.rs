//! The bad-input catalogue: malformed policies in each format, commands
//! against a prepared gate, and scenario files, each with the kind of error
//! it must be refused with and fragments its message must hold (the field
//! path and/or the bad value).
//!
//! Every case must be refused quickly (under [`MAX_CASE_TIME`] in a debug
//! build: a guard against quadratic or exponential behaviour, not a
//! benchmark), with a message of bounded length, and must change nothing: a
//! refused command leaves the gate's events, the outbox and the notifier as
//! they were (except where the service documents otherwise: a deadline that
//! has passed is recorded before the refusal). Oversized values are sized as
//! the requirement says and no larger: a 10 MiB text, 100,000 entries, 10,000
//! rules. On Linux each case's growth of the peak resident set is checked
//! too, through `/proc/self/clear_refs` and `VmHWM`: loading a document may
//! cost memory in proportion to it, refusing a command (whose oversized
//! values already exist) may not copy them.
//!
//! One test walks the whole table and reports every mismatch at once. It
//! runs each case in a child process (this test binary, filtered to the one
//! test, told the case's index), so that a case that hangs is stopped after
//! [`WATCHDOG`], a panic fails its case alone, and memory one case freed does
//! not hide what the next one allocates. A case
//! whose `bug` is set exposes a known defect of `src/`: it keeps the correct
//! expectation and fails until the defect is fixed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod common;

use approval_gate::compat::PolicyDocument;
use approval_gate::memory::{MemoryStore, RecordingNotifier};
use approval_gate::policy::{Policy, PolicySpec};
use approval_gate::ports::Store;
use approval_gate::scenario::Scenario;
use approval_gate::service::{Approvals, ServiceError};
use approval_gate::{
    Approve, Effect, ErrorKind, Event, Gate, GateId, IdError, PolicyError, Principal, PrincipalId, Reason, Run, Status,
};
use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::io::Read as _;
use std::time::Duration;

/// The longest a single case may take in a debug build.
const MAX_CASE_TIME: Duration = Duration::from_secs(2);

/// How long the test waits for a case at all; a case still running then
/// fails and its process is stopped, so one pathological case does not
/// stall the catalogue.
const WATCHDOG: Duration = Duration::from_secs(10);

/// The longest refusal message accepted: errors are one readable line,
/// whatever the input held (a 10 MiB value must not come back in full).
const MAX_MESSAGE_BYTES: usize = 1024;

/// The most loading a policy or scenario file may grow the peak resident
/// set (Linux only): parsing is linear in the input, and the largest input
/// here is 10 MiB.
const MAX_LOAD_PEAK_GROWTH_BYTES: u64 = 128 * 1024 * 1024;

/// The most refusing a command may grow the peak resident set (Linux only).
/// The command, oversized values included, is built before the probe starts;
/// refusing it must not copy them, so this is far below their 10 MiB.
const MAX_COMMAND_PEAK_GROWTH_BYTES: u64 = 2 * 1024 * 1024;

/// 10 MiB, the size of an oversized text.
const TEN_MIB: usize = 10 * 1024 * 1024;

type Service = Approvals<MemoryStore, RecordingNotifier>;

/// A command built ahead of time, to be timed when it runs.
type Act = Box<dyn FnOnce(&Service) -> Result<(), Refusal>>;

/// One malformed input and what it must be refused with.
struct Case {
    /// The source system and the rule the input breaks.
    name: &'static str,
    input: Input,
    expected: Expected,
    /// Text the message must contain: the field path and/or the bad value.
    fragments: &'static [&'static str],
    /// A known defect of `src/` this case exposes; the expectation stays the
    /// correct one and the case fails until the defect is fixed.
    bug: Option<&'static str>,
}

/// What a case must be refused with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    /// A refusal of the crate, of this kind.
    Kind(ErrorKind),
    /// A scenario file that does not parse, at this `serde_path_to_error`
    /// path (as `examples/approval-gate.rs` reports it; the CLI exits 2).
    UnparseableFile { path: &'static str },
}

enum Input {
    /// A policy document, tagged by format: `{"harness": {...}}`, ...
    Policy(Text),
    /// A whole scenario file.
    Scenario(Text),
    /// A command against a prepared gate.
    Command(CommandCase),
}

/// An input's text: written out, or built (untimed) when it is large.
enum Text {
    Literal(&'static str),
    Built(fn() -> String),
}

impl Text {
    fn build(&self) -> String {
        match self {
            Self::Literal(text) => (*text).to_owned(),
            Self::Built(build) => build(),
        }
    }
}

/// A command against gate `g`, opened at minute 0 by `carol` under
/// [`COMMAND_POLICY`] through `service::Approvals` over a `MemoryStore`.
struct CommandCase {
    /// Untimed: what happens to the gate before the refused command.
    prepare: fn(&Service),
    /// Untimed: builds the refused command; the closure it returns is timed.
    command: fn() -> Act,
    /// What the refusal leaves behind.
    leaves: Leaves,
}

#[derive(Debug, Clone, Copy)]
enum Leaves {
    /// Nothing: events, outbox, notifier and gate count as they were.
    Nothing,
    /// The gate's deadline, passed unticked, is recorded as it ends the gate
    /// (the service's documented behaviour), and nothing else.
    DeadlineEnded { status: Status, reason: Reason, at: fn() -> DateTime<Utc> },
}

/// How a case came out.
#[derive(Debug, Serialize, Deserialize)]
enum Actual {
    Refused { kind: ErrorKind, message: String },
    Unparseable { path: String, message: String },
    Accepted(String),
}

#[derive(Debug)]
struct Refusal {
    kind: ErrorKind,
    message: String,
}

impl<E: std::fmt::Display> From<ServiceError<E>> for Refusal {
    fn from(error: ServiceError<E>) -> Self {
        Self { kind: error.kind(), message: error.to_string() }
    }
}

impl From<IdError> for Refusal {
    fn from(error: IdError) -> Self {
        Self { kind: error.kind(), message: error.to_string() }
    }
}

/// The gate every command case runs against: two approvals from `sre`, an
/// approver input with a pattern, a one-hour timeout.
const COMMAND_POLICY: &str = r#"{
    "name": "production",
    "rules": [{"name": "sre", "required": 2, "approvers": [{"group": "sre"}]}],
    "inputs": [{"name": "ticket", "default": "CHG-0", "constraint": {"pattern": "CHG-[0-9]+"}}],
    "timeout": {"after": "1h"}
}"#;

/// 2026-11-22 09:00 UTC plus `minutes`.
fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap() + chrono::TimeDelta::minutes(minutes)
}

fn gate_id(id: &str) -> GateId {
    GateId::new(id).unwrap()
}

fn sre(id: &str) -> Principal {
    Principal::user(id).unwrap().with_groups(["sre"])
}

fn command_policy() -> Policy {
    let spec: PolicySpec = serde_json::from_str(COMMAND_POLICY).unwrap();
    Policy::new(spec).unwrap()
}

fn approve_g(service: &Service, approve: Approve, now: DateTime<Utc>) -> Result<(), Refusal> {
    service.approve(&gate_id("g"), approve, now).map(drop).map_err(Refusal::from)
}

fn nothing(_: &Service) {}

/// `{"native": {"rules": [...]}}` with `count` identical rules.
fn native_rules(count: usize) -> String {
    let rule = r#"{"required": 1, "approvers": [{"group": "sre"}]}"#;
    let rules = vec![rule; count].join(",");
    format!(r#"{{"native": {{"rules": [{rules}]}}}}"#)
}

/// `count` distinct names, `prefix-000000`, ..., as JSON strings or objects.
fn numbered(count: usize, render: impl Fn(usize) -> String) -> String {
    let mut out = String::with_capacity(count * 24);
    for index in 0..count {
        if index > 0 {
            out.push(',');
        }
        out.push_str(&render(index));
    }
    out
}

/// The catalogue.
#[allow(clippy::too_many_lines, reason = "a table")]
fn cases() -> Vec<Case> {
    use ErrorKind::{
        CommentTooLong, DuplicateGate, InvalidId, InvalidInputs, InvalidPolicy, NoMatchingRule, NotWaiting,
        TimeWentBackwards, UnknownGate,
    };
    use Expected::{Kind, UnparseableFile};
    use Input::{Command, Policy as Doc, Scenario as File};
    use Text::{Built, Literal};

    let case = |name, input, expected, fragments| Case { name, input, expected, fragments, bug: None };

    vec![
        // ---- native policies -------------------------------------------------
        case(
            "native: an unknown field (`approver` for `approvers` at the top level)",
            Doc(Literal(r#"{"native": {"rules": [{"required": 1, "approvers": ["anyone"]}], "approver": "ann"}}"#)),
            Kind(InvalidPolicy),
            &["unknown field `approver`"],
        ),
        case(
            "native: a policy document tagged with an unknown format (`jenkins`)",
            Doc(Literal(r#"{"jenkins": {"rules": []}}"#)),
            Kind(InvalidPolicy),
            &["unknown variant `jenkins`"],
        ),
        case(
            "native: a rule with required 0",
            Doc(Literal(r#"{"native": {"rules": [{"required": 0, "approvers": [{"group": "sre"}]}]}}"#)),
            Kind(InvalidPolicy),
            &["`rules[0].required` is `0`"],
        ),
        case(
            "native: no rules",
            Doc(Literal(r#"{"native": {"rules": []}}"#)),
            Kind(InvalidPolicy),
            &["`rules` is missing"],
        ),
        case(
            "native: a blank group name",
            Doc(Literal(r#"{"native": {"rules": [{"required": 1, "approvers": [{"group": "  "}]}]}}"#)),
            Kind(InvalidPolicy),
            &["`rules[0].approvers[0]` is `  `"],
        ),
        case(
            "native: two rules with one name",
            Doc(Literal(
                r#"{"native": {"rules": [
                    {"name": "sre", "required": 1, "approvers": [{"group": "sre"}]},
                    {"name": "sre", "required": 1, "approvers": [{"group": "ops"}]}
                ]}}"#,
            )),
            Kind(InvalidPolicy),
            &["`rules[1].name` is `sre`", "another rule has this name"],
        ),
        case(
            "native: a user-only rule requiring more approvals than it names",
            Doc(Literal(
                r#"{"native": {"rules": [{"required": 3, "approvers": [{"user": "ann"}, {"user": "bob"}]}]}}"#,
            )),
            Kind(InvalidPolicy),
            &["`rules[0].required` is `3`", "could never be met"],
        ),
        case(
            "native: a timeout span written `2 days`",
            Doc(Literal(
                r#"{"native": {"rules": [{"required": 1, "approvers": ["anyone"]}], "timeout": {"after": "2 days"}}}"#,
            )),
            Kind(InvalidPolicy),
            &["native.timeout.after", "`2 days`"],
        ),
        case(
            "native: an input pattern with an unclosed group",
            Doc(Literal(
                r#"{"native": {"rules": [{"required": 1, "approvers": ["anyone"]}],
                    "inputs": [{"name": "ticket", "constraint": {"pattern": "CHG-([0-9]+"}}]}}"#,
            )),
            Kind(InvalidPolicy),
            &["native.inputs[0].constraint.pattern", "CHG-([0-9]+"],
        ),
        case(
            "native: a multi_select value holding a comma (parts are split on `,`, so it could never match)",
            Doc(Literal(
                r#"{"native": {"rules": [{"required": 1, "approvers": ["anyone"]}],
                    "inputs": [{"name": "regions", "constraint": {"multi_select": ["eu", "us,ca"]}}]}}"#,
            )),
            Kind(InvalidPolicy),
            &["`inputs[0].constraint.multi_select[1]` is `us,ca`", "cannot hold `,`"],
        ),
        case(
            "native: an input pattern with look-ahead `(?=x)` (the regex crate has no look-around)",
            Doc(Literal(
                r#"{"native": {"rules": [{"required": 1, "approvers": ["anyone"]}],
                    "inputs": [{"name": "ticket", "constraint": {"pattern": "(?=x)CHG"}}]}}"#,
            )),
            Kind(InvalidPolicy),
            &["native.inputs[0].constraint.pattern", "pattern `(?=x)CHG`", "look-around"],
        ),
        case(
            "native: an input pattern with the back-reference `(a)\\1` (the regex crate has none)",
            Doc(Literal(
                r#"{"native": {"rules": [{"required": 1, "approvers": ["anyone"]}],
                    "inputs": [{"name": "ticket", "constraint": {"pattern": "(a)\\1"}}]}}"#,
            )),
            Kind(InvalidPolicy),
            &["native.inputs[0].constraint.pattern", r"pattern `(a)\1`", "backreferences are not supported"],
        ),
        case(
            "native: an input pattern `a{10000}{10000}` that compiles past the 1 MiB limit",
            Doc(Literal(
                r#"{"native": {"rules": [{"required": 1, "approvers": ["anyone"]}],
                    "inputs": [{"name": "ticket", "constraint": {"pattern": "a{10000}{10000}"}}]}}"#,
            )),
            Kind(InvalidPolicy),
            &["native.inputs[0].constraint.pattern", "pattern `a{10000}{10000}` compiles to more than 1048576 bytes"],
        ),
        case(
            "native: a 2,000-byte input pattern (the limit is 1,024 bytes)",
            Doc(Built(|| {
                let pattern = "CHG-".repeat(500);
                format!(
                    r#"{{"native": {{"rules": [{{"required": 1, "approvers": ["anyone"]}}],
                        "inputs": [{{"name": "ticket", "constraint": {{"pattern": "{pattern}"}}}}]}}}}"#
                )
            })),
            Kind(InvalidPolicy),
            &["native.inputs[0].constraint.pattern", "pattern `CHG-CHG-", "…` is longer than 1024 bytes"],
        ),
        case(
            "native: 10,000 rules",
            Doc(Built(|| native_rules(10_000))),
            Kind(InvalidPolicy),
            &["`rules` holds 10000 entries", "64"],
        ),
        case(
            "native: 100,000 inputs",
            Doc(Built(|| {
                let inputs = numbered(100_000, |i| format!(r#"{{"name": "in-{i:06}"}}"#));
                format!(
                    r#"{{"native": {{"rules": [{{"required": 1, "approvers": ["anyone"]}}], "inputs": [{inputs}]}}}}"#
                )
            })),
            Kind(InvalidPolicy),
            &["`inputs` holds 100000 entries", "256"],
        ),
        case(
            "native: a 10 MiB message",
            Doc(Built(|| {
                let message = "m".repeat(TEN_MIB);
                format!(
                    r#"{{"native": {{"rules": [{{"required": 1, "approvers": ["anyone"]}}], "message": "{message}"}}}}"#
                )
            })),
            Kind(InvalidPolicy),
            &["`message` is `mmm", "10485760 bytes", "65536"],
        ),
        case(
            "native: max_comment_bytes 0",
            Doc(Literal(
                r#"{"native": {"rules": [{"required": 1, "approvers": ["anyone"]}], "max_comment_bytes": 0}}"#,
            )),
            Kind(InvalidPolicy),
            &["`max_comment_bytes` is `0`"],
        ),
        // ---- Harness ---------------------------------------------------------
        case(
            "harness: minimumCount 0",
            Doc(Literal(
                r#"{"harness": {"type": "HarnessApproval", "name": "Approve", "timeout": "1d", "spec": {
                    "approvalMessage": "Please approve",
                    "approvers": {"userGroups": ["sre"], "minimumCount": 0}}}}"#,
            )),
            Kind(InvalidPolicy),
            &["`spec.approvers.minimumCount` is `0`", "Minimum count should be > 0"],
        ),
        case(
            "harness: minimumCount as a runtime expression",
            Doc(Literal(
                r#"{"harness": {"type": "HarnessApproval", "name": "Approve", "spec": {
                    "approvalMessage": "Please approve",
                    "approvers": {"userGroups": ["sre"], "minimumCount": "<+input>"}}}}"#,
            )),
            Kind(InvalidPolicy),
            &["`spec.approvers.minimumCount`", "runtime expression `<+input>`"],
        ),
        case(
            "harness: userGroups as a plain string",
            Doc(Literal(
                r#"{"harness": {"type": "HarnessApproval", "name": "Approve", "spec": {
                    "approvalMessage": "Please approve",
                    "approvers": {"userGroups": "account.sre", "minimumCount": 1}}}}"#,
            )),
            Kind(InvalidPolicy),
            &["`spec.approvers.userGroups` is `account.sre`", "should be a list"],
        ),
        case(
            "harness: approvalMessage missing",
            Doc(Literal(
                r#"{"harness": {"type": "HarnessApproval", "name": "Approve", "spec": {
                    "approvers": {"userGroups": ["sre"], "minimumCount": 1}}}}"#,
            )),
            Kind(InvalidPolicy),
            &["`spec.approvalMessage` is missing"],
        ),
        case(
            "harness: timeout `1 fortnight`",
            Doc(Literal(
                r#"{"harness": {"type": "HarnessApproval", "name": "Approve", "timeout": "1 fortnight", "spec": {
                    "approvalMessage": "Please approve",
                    "approvers": {"userGroups": ["sre"], "minimumCount": 1}}}}"#,
            )),
            Kind(InvalidPolicy),
            &["`timeout` is `1 fortnight`"],
        ),
        case(
            "harness: timeout inside spec instead of beside it",
            Doc(Literal(
                r#"{"harness": {"type": "HarnessApproval", "name": "Approve", "spec": {
                    "timeout": "2h", "approvalMessage": "Please approve",
                    "approvers": {"userGroups": ["sre"], "minimumCount": 1}}}}"#,
            )),
            Kind(InvalidPolicy),
            &["`spec.timeout` is `2h`", "belongs at the step level"],
        ),
        case(
            "harness: autoApproval time not `yyyy-MM-dd hh:mm a`",
            Doc(Literal(
                r#"{"harness": {"type": "HarnessApproval", "name": "Approve", "spec": {
                    "approvalMessage": "Please approve",
                    "approvers": {"userGroups": ["sre"], "minimumCount": 1},
                    "autoApproval": {"action": "APPROVE",
                        "scheduledDeadline": {"timeZone": "UTC", "time": "2026-11-22 9:30"}}}}}"#,
            )),
            Kind(InvalidPolicy),
            &["`spec.autoApproval.scheduledDeadline.time` is `2026-11-22 9:30`"],
        ),
        case(
            "harness: autoApproval in an unknown time zone",
            Doc(Literal(
                r#"{"harness": {"type": "HarnessApproval", "name": "Approve", "spec": {
                    "approvalMessage": "Please approve",
                    "approvers": {"userGroups": ["sre"], "minimumCount": 1},
                    "autoApproval": {"action": "APPROVE",
                        "scheduledDeadline": {"timeZone": "Mars/Olympus_Mons", "time": "2026-11-22 09:30 AM"}}}}}"#,
            )),
            Kind(InvalidPolicy),
            &["`spec.autoApproval.scheduledDeadline.timeZone` is `Mars/Olympus_Mons`"],
        ),
        case(
            "harness: two constraints on one approver input",
            Doc(Literal(
                r#"{"harness": {"type": "HarnessApproval", "name": "Approve", "spec": {
                    "approvalMessage": "Please approve",
                    "approvers": {"userGroups": ["sre"], "minimumCount": 1},
                    "approverInputs": [{"name": "ticket", "allowedValues": "a,b", "regex": "CHG-.*"}]}}}"#,
            )),
            Kind(InvalidPolicy),
            &["`spec.approverInputs[0]` is `allowedValues, regex`"],
        ),
        case(
            "harness: user group with a scope prefix other than account. or org. (IdentifierRefHelper)",
            Doc(Literal(
                r#"{"harness": {"type": "HarnessApproval", "name": "Approve", "spec": {
                    "approvalMessage": "Please approve",
                    "approvers": {"userGroups": ["sre", "invalid.xxx"], "minimumCount": 1}}}}"#,
            )),
            Kind(InvalidPolicy),
            &["`spec.approvers.userGroups[1]` is `invalid.xxx`", "`account.` or `org.`"],
        ),
        case(
            "harness: approverInputs regex with look-behind `(?<=v)` (Java has it, the regex crate does not)",
            Doc(Literal(
                r#"{"harness": {"type": "HarnessApproval", "name": "Approve", "spec": {
                    "approvalMessage": "Please approve",
                    "approvers": {"userGroups": ["sre"], "minimumCount": 1},
                    "approverInputs": [{"name": "version", "regex": "(?<=v)\\d+"}]}}}"#,
            )),
            Kind(InvalidPolicy),
            &["`spec.approverInputs[0].regex`", r"pattern `(?<=v)\d+`", "look-around"],
        ),
        case(
            "harness: approverInputs regex with the back-reference `(a)\\1`",
            Doc(Literal(
                r#"{"harness": {"type": "HarnessApproval", "name": "Approve", "spec": {
                    "approvalMessage": "Please approve",
                    "approvers": {"userGroups": ["sre"], "minimumCount": 1},
                    "approverInputs": [{"name": "ticket", "regex": "(a)\\1"}]}}}"#,
            )),
            Kind(InvalidPolicy),
            &["`spec.approverInputs[0].regex`", r"pattern `(a)\1`", "backreferences are not supported"],
        ),
        case(
            "harness: approverInputs regex `(.*.*.*.*.*.*.*.*.*.*){90}` that compiles past the 1 MiB limit",
            Doc(Literal(
                r#"{"harness": {"type": "HarnessApproval", "name": "Approve", "spec": {
                    "approvalMessage": "Please approve",
                    "approvers": {"userGroups": ["sre"], "minimumCount": 1},
                    "approverInputs": [{"name": "ticket", "regex": "(.*.*.*.*.*.*.*.*.*.*){90}"}]}}}"#,
            )),
            Kind(InvalidPolicy),
            &[
                "`spec.approverInputs[0].regex`",
                "pattern `(.*.*.*.*.*.*.*.*.*.*){90}` compiles to more than 1048576 bytes",
            ],
        ),
        case(
            "harness: type not HarnessApproval",
            Doc(Literal(
                r#"{"harness": {"type": "ShellScript", "name": "Approve", "spec": {
                    "approvalMessage": "Please approve",
                    "approvers": {"userGroups": ["sre"], "minimumCount": 1}}}}"#,
            )),
            Kind(InvalidPolicy),
            &["`type` is `ShellScript`", "HarnessApproval"],
        ),
        case(
            "harness: 100,000 approverInputs",
            Doc(Built(|| {
                let inputs = numbered(100_000, |i| format!(r#"{{"name": "in-{i:06}", "defaultValue": "x"}}"#));
                format!(
                    r#"{{"harness": {{"type": "HarnessApproval", "name": "Approve", "spec": {{
                        "approvalMessage": "Please approve",
                        "approvers": {{"userGroups": ["sre"], "minimumCount": 1}},
                        "approverInputs": [{inputs}]}}}}}}"#
                )
            })),
            Kind(InvalidPolicy),
            &["`spec.approverInputs` holds 100000 entries", "256"],
        ),
        case(
            "harness: 100,000 userGroups",
            Doc(Built(|| {
                let groups = numbered(100_000, |i| format!(r#""group_{i:06}""#));
                format!(
                    r#"{{"harness": {{"type": "HarnessApproval", "name": "Approve", "spec": {{
                        "approvalMessage": "Please approve",
                        "approvers": {{"userGroups": [{groups}], "minimumCount": 1}}}}}}}}"#
                )
            })),
            Kind(InvalidPolicy),
            &["`spec.approvers", "100000 entries", "1000"],
        ),
        // ---- GitLab ----------------------------------------------------------
        case(
            "gitlab: required_approvals 6",
            Doc(Literal(
                r#"{"gitlab": {"name": "production", "approval_rules": [{"group_id": 134, "required_approvals": 6}]}}"#,
            )),
            Kind(InvalidPolicy),
            &["`approval_rules[0].required_approvals` is `6`", "1 to 5"],
        ),
        case(
            "gitlab: access_level 35",
            Doc(Literal(
                r#"{"gitlab": {"name": "production", "approval_rules": [{"access_level": 35, "required_approvals": 1}]}}"#,
            )),
            Kind(InvalidPolicy),
            &["`approval_rules[0].access_level` is `35`"],
        ),
        case(
            "gitlab: no approval rules and required_approval_count 0",
            Doc(Literal(
                r#"{"gitlab": {"name": "production", "deploy_access_levels": [{"access_level": 40}],
                    "required_approval_count": 0, "approval_rules": []}}"#,
            )),
            Kind(InvalidPolicy),
            &["`required_approval_count` is `0`", "requires no approvals"],
        ),
        case(
            "gitlab: an approval rule with both user_id and group_id",
            Doc(Literal(r#"{"gitlab": {"name": "production", "approval_rules": [{"user_id": 7, "group_id": 134}]}}"#)),
            Kind(InvalidPolicy),
            &["`approval_rules[0]` is `user_id and group_id`"],
        ),
        case(
            "gitlab: group_inheritance_type 2 (GitLab's model validates 0 or 1)",
            Doc(Literal(
                r#"{"gitlab": {"name": "production", "approval_rules": [{"group_id": 134, "group_inheritance_type": 2}]}}"#,
            )),
            Kind(InvalidPolicy),
            &["`approval_rules[0].group_inheritance_type` is `2`", "0 (direct members only) or 1"],
        ),
        case(
            "gitlab: the API docs' malformed PUT body (unquoted key, no closing brace)",
            Doc(Built(|| {
                let body = include_str!("bad-input/gitlab-13-api-put-body-malformed.json");
                format!(r#"{{"gitlab": {}}}"#, body.trim_end())
            })),
            Kind(InvalidPolicy),
            &["malformed policy at `gitlab.deploy_access_levels[0]", "key must be a string"],
        ),
        Case {
            name: "gitlab: 10,000 approval rules of one role",
            input: Doc(Built(|| {
                let rules = vec![r#"{"access_level": 40, "required_approvals": 1}"#; 10_000].join(",");
                format!(r#"{{"gitlab": {{"name": "production", "approval_rules": [{rules}]}}}}"#)
            })),
            expected: Kind(InvalidPolicy),
            fragments: &["`approval_rules` holds 10000 entries", "64"],
            bug: None,
        },
        // ---- Octopus ---------------------------------------------------------
        case(
            "octopus: BlockConcurrentDeployments `Maybe`",
            Doc(Literal(
                r#"{"octopus": {"Name": "Approve", "ActionType": "Octopus.Manual", "Properties": {
                    "Octopus.Action.Manual.BlockConcurrentDeployments": "Maybe"}}}"#,
            )),
            Kind(InvalidPolicy),
            &["`Properties.Octopus.Action.Manual.BlockConcurrentDeployments` is `Maybe`"],
        ),
        case(
            "octopus: ActionType not Octopus.Manual",
            Doc(Literal(r#"{"octopus": {"Name": "Approve", "ActionType": "Octopus.Script"}}"#)),
            Kind(InvalidPolicy),
            &["`ActionType` is `Octopus.Script`", "Octopus.Manual"],
        ),
        case(
            "octopus: Environments holding an Octostache expression",
            Doc(Literal(
                r##"{"octopus": {"Name": "Approve", "ActionType": "Octopus.Manual",
                    "Environments": ["#{Octopus.Environment.Name}"]}}"##,
            )),
            Kind(InvalidPolicy),
            &["`Environments[0]`", "runtime expression `#{Octopus.Environment.Name}`"],
        ),
        case(
            "octopus: 100,000 Environments",
            Doc(Built(|| {
                let environments = numbered(100_000, |i| format!(r#""env-{i:06}""#));
                format!(
                    r#"{{"octopus": {{"Name": "Approve", "ActionType": "Octopus.Manual", "Environments": [{environments}]}}}}"#
                )
            })),
            Kind(InvalidPolicy),
            &["`Environments` holds 100000 entries", "1000"],
        ),
        // ---- commands through service::Approvals -----------------------------
        case(
            "command: an approval with a 10 MiB comment",
            Command(CommandCase {
                prepare: nothing,
                command: || {
                    let approve = Approve::by(sre("ann")).comment("c".repeat(TEN_MIB));
                    Box::new(move |service| approve_g(service, approve, at(1)))
                },
                leaves: Leaves::Nothing,
            }),
            Kind(CommentTooLong),
            &["comment is 10485760 bytes", "65536"],
        ),
        case(
            "command: a rejection with a 10 MiB comment",
            Command(CommandCase {
                prepare: nothing,
                command: || {
                    let comment = "c".repeat(TEN_MIB);
                    Box::new(move |service| {
                        service.reject(&gate_id("g"), sre("ann"), Some(comment), at(1)).map(drop).map_err(Refusal::from)
                    })
                },
                leaves: Leaves::Nothing,
            }),
            Kind(CommentTooLong),
            &["comment is 10485760 bytes", "65536"],
        ),
        case(
            "command: a cancellation with a 10 MiB reason",
            Command(CommandCase {
                prepare: nothing,
                command: || {
                    let reason = "r".repeat(TEN_MIB);
                    Box::new(move |service| {
                        service.cancel(&gate_id("g"), None, Some(reason), at(1)).map(drop).map_err(Refusal::from)
                    })
                },
                leaves: Leaves::Nothing,
            }),
            Kind(CommentTooLong),
            &["10485760 bytes", "65536"],
        ),
        case(
            "command: an approval with 100,000 undeclared inputs",
            Command(CommandCase {
                prepare: nothing,
                command: || {
                    let mut approve = Approve::by(sre("ann"));
                    for index in 0..100_000 {
                        approve = approve.input(format!("in-{index:06}"), "x");
                    }
                    Box::new(move |service| approve_g(service, approve, at(1)))
                },
                leaves: Leaves::Nothing,
            }),
            Kind(InvalidInputs),
            &["approver input `in-000000`", "not declared"],
        ),
        Case {
            name: "command: an approval with a 10 MiB input value",
            input: Command(CommandCase {
                prepare: nothing,
                command: || {
                    let approve = Approve::by(sre("ann")).input("ticket", "CHG-".repeat(TEN_MIB / 4));
                    Box::new(move |service| approve_g(service, approve, at(1)))
                },
                leaves: Leaves::Nothing,
            }),
            expected: Kind(InvalidInputs),
            fragments: &["approver input `ticket`", "10485760 bytes"],
            bug: None,
        },
        case(
            "command: an approval by a principal with an empty id",
            Command(CommandCase {
                prepare: nothing,
                command: || {
                    Box::new(|service| {
                        let nobody = Principal::user("")?.with_groups(["sre"]);
                        approve_g(service, Approve::by(nobody), at(1))
                    })
                },
                leaves: Leaves::Nothing,
            }),
            Kind(InvalidId),
            &["principal id is empty"],
        ),
        case(
            "command: an approval by a principal id holding a newline",
            Command(CommandCase {
                prepare: nothing,
                command: || {
                    Box::new(|service| {
                        let forged = Principal::user("ann\nbob")?.with_groups(["sre"]);
                        approve_g(service, Approve::by(forged), at(1))
                    })
                },
                leaves: Leaves::Nothing,
            }),
            Kind(InvalidId),
            &["principal id `ann\\nbob`", "control character"],
        ),
        case(
            "command: an approval of a gate with an empty id",
            Command(CommandCase {
                prepare: nothing,
                command: || {
                    Box::new(|service| {
                        let gate = GateId::new("")?;
                        service.approve(&gate, Approve::by(sre("ann")), at(1)).map(drop).map_err(Refusal::from)
                    })
                },
                leaves: Leaves::Nothing,
            }),
            Kind(InvalidId),
            &["gate id is empty"],
        ),
        case(
            "command: opening a gate with a 10 MiB id",
            Command(CommandCase {
                prepare: nothing,
                command: || {
                    let id = "g".repeat(TEN_MIB);
                    Box::new(move |service| {
                        let gate = GateId::new(id)?;
                        let run = Run::new(PrincipalId::new("carol")?);
                        service.open(gate, command_policy(), run, at(1)).map(drop).map_err(Refusal::from)
                    })
                },
                leaves: Leaves::Nothing,
            }),
            Kind(InvalidId),
            &["gate id `ggg", "10485760 bytes", "256"],
        ),
        case(
            "command: time going backwards",
            Command(CommandCase {
                prepare: |service| approve_g(service, Approve::by(sre("ann")), at(10)).unwrap(),
                command: || Box::new(|service| approve_g(service, Approve::by(sre("bob")), at(5))),
                leaves: Leaves::Nothing,
            }),
            Kind(TimeWentBackwards),
            &["2026-11-22 09:05:00 UTC is before 2026-11-22 09:10:00 UTC"],
        ),
        case(
            "command: represented_as naming no rule",
            Command(CommandCase {
                prepare: nothing,
                command: || {
                    Box::new(|service| approve_g(service, Approve::by(sre("ann")).represented_as("dba"), at(1)))
                },
                leaves: Leaves::Nothing,
            }),
            Kind(NoMatchingRule),
            &["`ann` matches no rule of gate `g` named `dba`"],
        ),
        Case {
            name: "command: represented_as of 10 MiB",
            input: Command(CommandCase {
                prepare: nothing,
                command: || {
                    let approve = Approve::by(sre("ann")).represented_as("s".repeat(TEN_MIB));
                    Box::new(move |service| approve_g(service, approve, at(1)))
                },
                leaves: Leaves::Nothing,
            }),
            expected: Kind(NoMatchingRule),
            fragments: &["named `sss", "10485760 bytes"],
            bug: None,
        },
        Case {
            name: "command: represented_as of 10 MiB of control characters",
            input: Command(CommandCase {
                prepare: nothing,
                command: || {
                    let approve = Approve::by(sre("ann")).represented_as("\u{1}".repeat(TEN_MIB));
                    Box::new(move |service| approve_g(service, approve, at(1)))
                },
                leaves: Leaves::Nothing,
            }),
            expected: Kind(NoMatchingRule),
            fragments: &["named `\\u{1}\\u{1}", "10485760 bytes"],
            bug: None,
        },
        case(
            "command: an approval of a gate never opened",
            Command(CommandCase {
                prepare: nothing,
                command: || {
                    Box::new(|service| {
                        service
                            .approve(&gate_id("nope"), Approve::by(sre("ann")), at(1))
                            .map(drop)
                            .map_err(Refusal::from)
                    })
                },
                leaves: Leaves::Nothing,
            }),
            Kind(UnknownGate),
            &["no gate `nope` has been opened"],
        ),
        case(
            "command: opening a gate that is already open",
            Command(CommandCase {
                prepare: nothing,
                command: || {
                    Box::new(|service| {
                        let run = Run::new(PrincipalId::new("dave")?);
                        service.open(gate_id("g"), command_policy(), run, at(1)).map(drop).map_err(Refusal::from)
                    })
                },
                leaves: Leaves::Nothing,
            }),
            Kind(DuplicateGate),
            &["gate `g` is already open"],
        ),
        case(
            "command: an approval after the deadline, once a tick has ended the gate",
            Command(CommandCase {
                prepare: |service| assert_eq!(service.tick(at(60)).unwrap().len(), 1),
                command: || Box::new(|service| approve_g(service, Approve::by(sre("ann")), at(90))),
                leaves: Leaves::Nothing,
            }),
            Kind(NotWaiting),
            &["gate `g` is not waiting: it is expired"],
        ),
        case(
            "command: an approval after the deadline, before any tick (the deadline is recorded first)",
            Command(CommandCase {
                prepare: nothing,
                command: || Box::new(|service| approve_g(service, Approve::by(sre("ann")), at(90))),
                leaves: Leaves::DeadlineEnded { status: Status::Expired, reason: Reason::Timeout, at: || at(60) },
            }),
            Kind(NotWaiting),
            &["gate `g` is not waiting", "expired"],
        ),
        // ---- scenario files --------------------------------------------------
        case(
            "scenario: a step with two verbs (open and tick)",
            File(Literal(
                r#"{"name": "two verbs", "policy": {"native": {"rules": [{"required": 1, "approvers": ["anyone"]}]}},
                    "steps": [{"at": "2026-11-22T09:00:00Z", "open": {"gate": "g", "executor": "carol"}, "tick": {}}]}"#,
            )),
            UnparseableFile { path: "steps[0]" },
            &["exactly one verb"],
        ),
        case(
            "scenario: a step with no verb",
            File(Literal(
                r#"{"name": "no verb", "policy": {"native": {"rules": [{"required": 1, "approvers": ["anyone"]}]}},
                    "steps": [
                        {"at": "2026-11-22T09:00:00Z", "open": {"gate": "g", "executor": "carol"}},
                        {"at": "2026-11-22T09:01:00Z", "expect_error": "not_waiting"}
                    ]}"#,
            )),
            UnparseableFile { path: "steps[1]" },
            &["exactly one verb"],
        ),
        case(
            "scenario: `at` not RFC 3339",
            File(Literal(
                r#"{"name": "bad time", "policy": {"native": {"rules": [{"required": 1, "approvers": ["anyone"]}]}},
                    "steps": [{"at": "22/11/2026 09:00", "open": {"gate": "g", "executor": "carol"}}]}"#,
            )),
            UnparseableFile { path: "steps[0].at" },
            &["steps[0].at"],
        ),
        case(
            "scenario: a number where a gate id belongs",
            File(Literal(
                r#"{"name": "numeric gate", "policy": {"native": {"rules": [{"required": 1, "approvers": ["anyone"]}]}},
                    "steps": [
                        {"at": "2026-11-22T09:00:00Z", "open": {"gate": "g", "executor": "carol"}},
                        {"at": "2026-11-22T09:01:00Z", "tick": {}},
                        {"at": "2026-11-22T09:02:00Z", "approve": {"gate": 7, "by": "ann"}}
                    ]}"#,
            )),
            UnparseableFile { path: "steps[2].approve.gate" },
            &["invalid type: integer `7`", "a string"],
        ),
        case(
            "scenario: an unknown top-level field (`expectations`)",
            File(Literal(
                r#"{"name": "typo", "policy": {"native": {"rules": [{"required": 1, "approvers": ["anyone"]}]}},
                    "steps": [], "expectations": {"g": {"status": "waiting"}}}"#,
            )),
            UnparseableFile { path: "expectations" },
            &["unknown field `expectations`"],
        ),
        case(
            "scenario: an unknown field in a verb (`approve.note`)",
            File(Literal(
                r#"{"name": "verb typo", "policy": {"native": {"rules": [{"required": 1, "approvers": ["anyone"]}]}},
                    "steps": [
                        {"at": "2026-11-22T09:00:00Z", "open": {"gate": "g", "executor": "carol"}},
                        {"at": "2026-11-22T09:01:00Z", "approve": {"gate": "g", "by": "ann", "note": "lgtm"}}
                    ]}"#,
            )),
            UnparseableFile { path: "steps[1].approve.note" },
            &["unknown field `note`"],
        ),
        Case {
            name: "scenario: a misspelt field in a step's `expect` (`stauts`)",
            input: File(Literal(
                r#"{"name": "expect typo", "policy": {"native": {"rules": [{"required": 1, "approvers": ["anyone"]}]}},
                    "steps": [
                        {"at": "2026-11-22T09:00:00Z", "open": {"gate": "g", "executor": "carol"},
                         "expect": {"stauts": "approved"}}
                    ]}"#,
            )),
            expected: UnparseableFile { path: "steps[0].expect.stauts" },
            fragments: &["unknown field `stauts`"],
            bug: None,
        },
        case(
            "scenario: a policy that parses as a file but not as a policy (`required` as text)",
            File(Literal(
                r#"{"name": "text count", "policy": {"native": {"rules": [{"required": "two", "approvers": ["anyone"]}]}},
                    "steps": []}"#,
            )),
            Kind(InvalidPolicy),
            &["policy.native.rules[0].required", "\"two\""],
        ),
        case(
            "scenario: no `steps`",
            File(Literal(
                r#"{"name": "no steps", "policy": {"native": {"rules": [{"required": 1, "approvers": ["anyone"]}]}}}"#,
            )),
            UnparseableFile { path: "." },
            &["missing field `steps`"],
        ),
        case(
            "scenario: a user's access_level written as text",
            File(Literal(
                r#"{"name": "text level", "policy": {"native": {"rules": [{"required": 1, "approvers": ["anyone"]}]}},
                    "users": {"bob": {"access_level": "40"}}, "steps": []}"#,
            )),
            UnparseableFile { path: "users.bob.access_level" },
            &["invalid type: string \"40\""],
        ),
    ]
}

/// Loads a policy document as the scenario CLI does, with the path of a
/// serde error kept as [`PolicyError::Malformed`].
fn load_policy(text: &str) -> Result<Policy, PolicyError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let document: PolicyDocument = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        PolicyError::Malformed { path: error.path().to_string(), message: error.inner().to_string() }
    })?;
    deserializer.end().map_err(|error| PolicyError::Malformed { path: ".".to_owned(), message: error.to_string() })?;
    document.into_policy()
}

/// Reads a scenario file exactly as `examples/approval-gate.rs` does.
fn load_scenario(text: &str) -> Result<Scenario<serde_json::Value>, (String, String)> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let message = format!("at `{path}`: {}", error.inner());
        (path, message)
    })
}

/// What the store and notifier hold, to show a refusal changed nothing.
#[derive(Debug, Clone, PartialEq)]
struct Snapshot {
    events: Vec<Event>,
    pending: Vec<approval_gate::outbox::Pending>,
    delivered: Vec<approval_gate::Notification>,
    gates: usize,
}

fn snapshot(service: &Service) -> Snapshot {
    Snapshot {
        events: service.store().load(&gate_id("g")).unwrap(),
        pending: service.store().pending(usize::MAX).unwrap(),
        delivered: service.notifier().delivered(),
        gates: service.store().gate_count().unwrap(),
    }
}

/// The snapshot a refusal must leave.
fn expected_after(before: &Snapshot, leaves: Leaves) -> Snapshot {
    match leaves {
        Leaves::Nothing => before.clone(),
        Leaves::DeadlineEnded { status, reason, at } => {
            let ended = Event::Ended { status, reason, by: None, comment: None, at: at() };
            let mut gate = Gate::replay(&before.events).unwrap();
            let outcome = gate.execute(&approval_gate::Command::Tick, at()).unwrap();
            assert_eq!(outcome.events, std::slice::from_ref(&ended), "the passed deadline ends the gate");
            let mut after = before.clone();
            after.delivered.extend(outcome.effects.into_iter().filter_map(|effect| match effect {
                Effect::Notify(notification) => Some(notification),
                _ => None,
            }));
            after.events.push(ended);
            after
        }
    }
}

#[allow(clippy::disallowed_methods, reason = "a guard against pathological slowness, not a benchmark")]
fn timed<T>(run: impl FnOnce() -> T) -> (T, Duration) {
    let start = std::time::Instant::now();
    let value = run();
    (value, start.elapsed())
}

/// Peak-memory probe: resets the peak resident set (Linux), and reads how
/// far it grew. `None` where the platform does not offer it.
struct PeakProbe {
    baseline: u64,
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    line.trim_start_matches(field).trim().trim_end_matches("kB").trim().parse().ok()
}

impl PeakProbe {
    fn start() -> Option<Self> {
        std::fs::write("/proc/self/clear_refs", "5").ok()?;
        Some(Self { baseline: status_kib("VmRSS:")? * 1024 })
    }

    fn growth(&self) -> Option<u64> {
        Some((status_kib("VmHWM:")? * 1024).saturating_sub(self.baseline))
    }
}

/// How one case ran.
#[derive(Debug, Serialize, Deserialize)]
struct Outcome {
    actual: Actual,
    /// How long the refusal took (building the input excluded).
    elapsed: Duration,
    /// How far it grew the peak resident set, where that can be measured.
    growth: Option<u64>,
    /// What a refused command changed, where it changed anything.
    change: Option<String>,
}

/// The test that walks the table; a child process runs it for one case.
const TEST_NAME: &str = "every_bad_input_is_refused_quickly_with_its_kind_and_changes_nothing";

/// Set in a child process: the index of the one case it runs.
const CASE_VAR: &str = "APPROVAL_GATE_BAD_INPUT_CASE";

/// Starts the child's report line.
const OUTCOME_MARK: &str = "bad-input-outcome: ";

/// Runs case `index` in a child process (this test binary, filtered to this
/// test, with [`CASE_VAR`] set): a case that hangs is killed at
/// [`WATCHDOG`], a panic fails that case alone, and the peak resident set
/// measures that case alone, undisturbed by memory earlier cases freed.
#[allow(clippy::disallowed_methods, reason = "a guard against pathological slowness, not a benchmark")]
fn run_isolated(index: usize) -> Result<Outcome, String> {
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1", "--quiet"])
        .env(CASE_VAR, index.to_string())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Drain both pipes while the child runs, so a long message cannot block it.
    let drain = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > WATCHDOG {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    let Some(status) = status else {
        return Err(format!("did not finish within {WATCHDOG:?} and was stopped (limit {MAX_CASE_TIME:?})"));
    };
    let report = stdout.lines().find_map(|line| line.strip_prefix(OUTCOME_MARK));
    match report {
        Some(json) => Ok(serde_json::from_str(json).unwrap()),
        None => {
            let tail: String =
                stderr.lines().filter(|line| !line.trim().is_empty()).take(6).collect::<Vec<_>>().join(" | ");
            Err(format!("the case's process ended ({status}) without an outcome: {tail}"))
        }
    }
}

/// Runs one case: its outcome, how long the refusal took, how far it grew
/// the peak resident set, and any change it left behind.
fn run_case(case: &Case) -> Outcome {
    match &case.input {
        Input::Policy(text) => {
            let text = text.build();
            let probe = PeakProbe::start();
            let (outcome, elapsed) = timed(|| load_policy(&text));
            let growth = probe.and_then(|probe| probe.growth());
            let actual = match outcome {
                Ok(policy) => Actual::Accepted(format!("a policy of {} rule(s)", policy.rules().len())),
                Err(error) => Actual::Refused { kind: error.kind(), message: error.to_string() },
            };
            Outcome { actual, elapsed, growth, change: None }
        }
        Input::Scenario(text) => {
            let text = text.build();
            let probe = PeakProbe::start();
            let (outcome, elapsed) =
                timed(|| load_scenario(&text).map(|scenario| (common::scenario_policy(&scenario), scenario)));
            let growth = probe.and_then(|probe| probe.growth());
            let actual = match outcome {
                Ok((Err(error), _)) => Actual::Refused { kind: error.kind(), message: error.to_string() },
                Ok((Ok(_), scenario)) => Actual::Accepted(format!(
                    "scenario `{}` with {} step(s) and a valid policy",
                    scenario.name,
                    scenario.steps.len()
                )),
                Err((path, message)) => Actual::Unparseable { path, message },
            };
            Outcome { actual, elapsed, growth, change: None }
        }
        Input::Command(command) => {
            let service = Approvals::new(MemoryStore::new(), RecordingNotifier::new());
            let run = Run::new(PrincipalId::new("carol").unwrap());
            service.open(gate_id("g"), command_policy(), run, at(0)).unwrap();
            (command.prepare)(&service);
            let before = snapshot(&service);
            let act = (command.command)();
            let probe = PeakProbe::start();
            let (outcome, elapsed) = timed(|| act(&service));
            let growth = probe.and_then(|probe| probe.growth());
            let actual = match outcome {
                Ok(()) => Actual::Accepted("the command was carried out".to_owned()),
                Err(refusal) => Actual::Refused { kind: refusal.kind, message: refusal.message },
            };
            let after = snapshot(&service);
            let wanted = expected_after(&before, command.leaves);
            let change = (after != wanted).then(|| describe_change(&wanted, &after));
            Outcome { actual, elapsed, growth, change }
        }
    }
}

fn describe_change(wanted: &Snapshot, after: &Snapshot) -> String {
    let mut out = String::new();
    if after.events != wanted.events {
        let names: Vec<&str> = after.events.iter().map(Event::name).collect();
        let _ =
            write!(out, "events {} (now: {names:?}) where {} were expected; ", after.events.len(), wanted.events.len());
    }
    if after.pending != wanted.pending {
        let _ = write!(out, "outbox holds {} where {} were expected; ", after.pending.len(), wanted.pending.len());
    }
    if after.delivered != wanted.delivered {
        let _ = write!(out, "notifier got {} where {} were expected; ", after.delivered.len(), wanted.delivered.len());
    }
    if after.gates != wanted.gates {
        let _ = write!(out, "store holds {} gates where {} were expected; ", after.gates, wanted.gates);
    }
    out
}

/// One line for the log: the kind (or path) and the start of the message.
fn summary(actual: &Actual) -> String {
    let (head, message) = match actual {
        Actual::Refused { kind, message } => (kind.to_string(), message.as_str()),
        Actual::Unparseable { path, message } => (format!("unparseable at `{path}`"), message.as_str()),
        Actual::Accepted(what) => ("ACCEPTED".to_owned(), what.as_str()),
    };
    let message: String = message.chars().take(160).collect();
    format!("{head}: {message}")
}

/// Every way `outcome` falls short of `case`.
fn check(case: &Case, outcome: &Outcome) -> Vec<String> {
    let mut problems = mismatches(case, &outcome.actual);
    if outcome.elapsed > MAX_CASE_TIME {
        problems.push(format!("took {:?}, more than {MAX_CASE_TIME:?}", outcome.elapsed));
    }
    let limit = match case.input {
        Input::Command(_) => MAX_COMMAND_PEAK_GROWTH_BYTES,
        Input::Policy(_) | Input::Scenario(_) => MAX_LOAD_PEAK_GROWTH_BYTES,
    };
    if let Some(growth) = outcome.growth.filter(|growth| *growth > limit) {
        problems.push(format!("grew the peak resident set by {} KiB, more than {} KiB", growth >> 10, limit >> 10));
    }
    if let Some(change) = &outcome.change {
        problems.push(format!("the refusal changed the store: {change}"));
    }
    problems
}

/// Every way `actual` falls short of `case`'s refusal.
fn mismatches(case: &Case, actual: &Actual) -> Vec<String> {
    let mut problems = Vec::new();
    let message = match (case.expected, actual) {
        (Expected::Kind(kind), Actual::Refused { kind: got, message }) => {
            if *got != kind {
                problems.push(format!("kind `{got}`, expected `{kind}`"));
            }
            message
        }
        (Expected::UnparseableFile { path }, Actual::Unparseable { path: got, message }) => {
            if got != path {
                problems.push(format!("path `{got}`, expected `{path}`"));
            }
            message
        }
        (expected, Actual::Accepted(what)) => {
            problems.push(format!("expected {expected:?}, but it was accepted: {what}"));
            return problems;
        }
        (expected, actual) => {
            problems.push(format!("expected {expected:?}, got {actual:?}"));
            return problems;
        }
    };
    for fragment in case.fragments {
        if !message.contains(fragment) {
            problems.push(format!("message lacks `{fragment}`"));
        }
    }
    if message.len() > MAX_MESSAGE_BYTES {
        problems.push(format!("message is {} bytes, more than {MAX_MESSAGE_BYTES}", message.len()));
    }
    if !problems.is_empty() {
        let shown: String = message.chars().take(300).collect();
        problems.push(format!("message was: {shown}"));
    }
    problems
}

#[test]
fn every_bad_input_is_refused_quickly_with_its_kind_and_changes_nothing() {
    let table = cases();
    if let Ok(index) = std::env::var(CASE_VAR) {
        // A child process: run the one case and report how it went.
        let outcome = run_case(&table[index.parse::<usize>().unwrap()]);
        println!("{OUTCOME_MARK}{}", serde_json::to_string(&outcome).unwrap());
        return;
    }
    let mut failures = Vec::new();
    let (mut slowest, mut slowest_name) = (Duration::ZERO, "");
    let (mut peak, mut peak_name) = (None::<u64>, "");
    let (_, total) = timed(|| {
        for (index, case) in table.iter().enumerate() {
            let (problems, elapsed) = match run_isolated(index) {
                Ok(outcome) => {
                    let problems = check(case, &outcome);
                    if outcome.elapsed > slowest {
                        (slowest, slowest_name) = (outcome.elapsed, case.name);
                    }
                    if let Some(growth) = outcome.growth {
                        if peak.is_none_or(|peak| growth > peak) {
                            (peak, peak_name) = (Some(growth), case.name);
                        }
                    }
                    let growth =
                        outcome.growth.map_or_else(|| "-".to_owned(), |growth| format!("{} KiB", growth >> 10));
                    println!(
                        "{:>14?} {growth:>10}  {}\n                {}",
                        outcome.elapsed,
                        case.name,
                        summary(&outcome.actual)
                    );
                    (problems, format!("{:?}", outcome.elapsed))
                }
                Err(problem) => (vec![problem], "-".to_owned()),
            };
            if !problems.is_empty() {
                let bug = case.bug.map(|bug| format!("\n    KNOWN BUG in src/: {bug}")).unwrap_or_default();
                failures.push(format!("{} ({elapsed}){bug}\n    {}", case.name, problems.join("\n    ")));
            } else if let Some(bug) = case.bug {
                failures.push(format!("{}: passes now; drop its `bug` note ({bug})", case.name));
            }
        }
    });
    println!("{} cases in {total:?}; slowest {slowest:?} ({slowest_name})", table.len());
    if let Some(peak) = peak {
        println!("largest peak-RSS growth {} KiB ({peak_name})", peak / 1024);
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n\n{}", failures.len(), table.len(), failures.join("\n\n"));
}

#[test]
fn the_catalogue_is_large_and_its_names_are_unique() {
    let table = cases();
    assert!(table.len() >= 30, "only {} cases", table.len());
    let mut names: Vec<&str> = table.iter().map(|case| case.name).collect();
    names.sort_unstable();
    let count = names.len();
    names.dedup();
    assert_eq!(names.len(), count, "two cases share a name");
    for case in &table {
        assert!(!case.fragments.is_empty(), "{} checks no part of the message", case.name);
        let system = case.name.split(':').next().unwrap_or_default();
        assert!(
            ["native", "harness", "gitlab", "octopus", "command", "scenario"].contains(&system),
            "{} does not name its source system",
            case.name
        );
    }
}
