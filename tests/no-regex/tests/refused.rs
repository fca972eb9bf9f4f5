//! approval-gate built with default features, so without `regex`: a policy
//! with an approver-input pattern (Harness `regex`, native `pattern`) is
//! refused when it loads, with a message that names the missing feature,
//! rather than loaded with a constraint nobody checks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests fail loudly")]

use approval_gate::ErrorKind;
use approval_gate::compat::PolicyDocument;
use approval_gate::policy::{Pattern, PatternError};

const FEATURE: &str = "needs the `regex` feature of approval-gate";

fn harness(input: &str) -> String {
    format!(
        r#"{{"harness": {{"type": "HarnessApproval", "name": "Approve", "spec": {{
            "approvalMessage": "Please approve",
            "approvers": {{"userGroups": ["sre"], "minimumCount": 1}},
            "approverInputs": [{input}]}}}}}}"#
    )
}

/// Harness `approverInputs[].regex`: the importer refuses the policy with
/// kind `invalid_policy`, naming the field, the pattern and the feature.
#[test]
fn harness_regex_input_is_refused_naming_the_feature() {
    let document: PolicyDocument =
        serde_json::from_str(&harness(r#"{"name": "ticket", "regex": "CHG-[0-9]+"}"#)).unwrap();
    let error = document.into_policy().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidPolicy);
    assert_eq!(error.field(), "spec.approverInputs[0].regex");
    let message = error.to_string();
    assert!(message.contains("pattern `CHG-[0-9]+`") && message.contains(FEATURE), "{message}");
}

/// Harness `allowedValues` and `selectOneFrom` need no pattern engine: the
/// feature refuses patterns only.
#[test]
fn harness_inputs_without_regex_still_load() {
    let document: PolicyDocument =
        serde_json::from_str(&harness(r#"{"name": "env", "allowedValues": "dev, prod"}"#)).unwrap();
    assert!(document.into_policy().is_ok());
}

/// Native `constraint.pattern`: refused while the document is read, with
/// the pattern error naming the feature.
#[test]
fn native_pattern_constraint_is_refused_naming_the_feature() {
    let text = r#"{"native": {"rules": [{"required": 1, "approvers": ["anyone"]}],
        "inputs": [{"name": "ticket", "constraint": {"pattern": "CHG-[0-9]+"}}]}}"#;
    let error = serde_json::from_str::<PolicyDocument>(text).unwrap_err().to_string();
    assert!(error.contains("pattern `CHG-[0-9]+`") && error.contains(FEATURE), "{error}");
}

/// No `Pattern` can be made at all, whatever its syntax.
#[test]
fn no_pattern_can_be_made() {
    for source in ["CHG-[0-9]+", "", "(unclosed"] {
        match Pattern::new(source) {
            Err(error @ PatternError::FeatureMissing { .. }) => assert!(error.to_string().contains(FEATURE)),
            other => panic!("{source}: {other:?}"),
        }
    }
}
