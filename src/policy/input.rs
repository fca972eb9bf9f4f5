//! Approver inputs: values an approver hands on to later pipeline steps.

use super::pattern::Pattern;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The longest input value accepted, in bytes.
pub const MAX_INPUT_VALUE_BYTES: usize = 64 * 1024;

/// A declared approver input (Harness `approverInputs[]`).
///
/// ```
/// use approval_gate::policy::{Constraint, Input};
/// let ticket = Input::new("ticket").required().constrained(Constraint::Pattern("CHG-\\d+".parse()?));
/// assert_eq!(ticket.name, "ticket");
/// # Ok::<(), approval_gate::policy::PatternError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Input {
    /// The input's name, unique within the policy.
    pub name: String,
    /// The value used when an approval does not give one.
    #[serde(default)]
    pub default: String,
    /// Whether an approval must carry a non-empty value.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// What values are allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint: Option<Constraint>,
    /// Shown to approvers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Input {
    /// An optional input with an empty default and no constraint.
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into(), default: String::new(), required: false, constraint: None, description: None }
    }

    /// Sets the default value.
    #[must_use]
    pub fn with_default(mut self, default: impl Into<String>) -> Self {
        self.default = default.into();
        self
    }

    /// Makes the input required.
    #[must_use]
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Constrains the value.
    #[must_use]
    pub fn constrained(mut self, constraint: Constraint) -> Self {
        self.constraint = Some(constraint);
        self
    }

    fn check(&self, value: &str) -> Result<(), InputError> {
        let name = self.name.clone();
        if value.len() > MAX_INPUT_VALUE_BYTES {
            return Err(InputError::TooLong { name, len: value.len(), limit: MAX_INPUT_VALUE_BYTES });
        }
        if value.trim().is_empty() {
            // An empty optional value passes: constraints describe the values
            // an approver chose, and choosing none is allowed.
            return if self.required { Err(InputError::Empty { name }) } else { Ok(()) };
        }
        match &self.constraint {
            Some(Constraint::AllowedValues(values) | Constraint::SelectOneFrom(values))
                if !values.iter().any(|allowed| allowed == value) =>
            {
                Err(InputError::NotAllowed {
                    name,
                    value: crate::policy::error::shorten(value),
                    allowed: values.join(", "),
                })
            }
            Some(Constraint::MultiSelect(values)) => match multi_select_refusal(values, value) {
                Some(part) => Err(InputError::PartNotAllowed {
                    name,
                    value: crate::policy::error::shorten(value),
                    part: crate::policy::error::shorten(part),
                    allowed: values.join(", "),
                }),
                None => Ok(()),
            },
            Some(Constraint::Pattern(pattern)) if !pattern.is_match(value) => Err(InputError::NoMatch {
                name,
                value: crate::policy::error::shorten(value),
                pattern: pattern.as_str().to_owned(),
            }),
            _ => Ok(()),
        }
    }
}

/// The first part of a multi-select `value` that is not among `values`:
/// the value is split on every `,` and each part trimmed, so an empty part
/// (`a,`, `a,,b`) is refused unless `""` is allowed.
fn multi_select_refusal<'v>(values: &[String], value: &'v str) -> Option<&'v str> {
    value.split(',').map(str::trim).find(|part| !values.iter().any(|allowed| allowed == part))
}

/// What values an input allows (Harness allows one constraint per input).
///
/// ```
/// use approval_gate::policy::{Constraint, Policy, PolicySpec};
/// use std::collections::BTreeMap;
/// let spec: PolicySpec = serde_json::from_str(r#"{
///     "rules": [{"required": 1, "approvers": ["anyone"]}],
///     "inputs": [
///         {"name": "env", "constraint": {"multi_select": ["dev", "prod"]}},
///         {"name": "region", "constraint": {"allowed_values": ["eu", "us"]}}
///     ]
/// }"#)?;
/// assert_eq!(spec.inputs[0].constraint, Some(Constraint::MultiSelect(vec!["dev".into(), "prod".into()])));
/// let policy = Policy::new(spec)?;
/// let given = |env: &str, region: &str| BTreeMap::from([("env".to_owned(), env.to_owned()), ("region".to_owned(), region.to_owned())]);
/// // Multi-select: every comma-separated part, trimmed, must be allowed.
/// assert!(policy.resolve_inputs(&given("dev, prod", "eu")).is_ok());
/// assert!(policy.resolve_inputs(&given("dev, test", "eu")).is_err());
/// // Allowed values: the whole value must be one of them.
/// assert!(policy.resolve_inputs(&given("dev", "eu, us")).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Constraint {
    /// The whole value must be one of these (the native format's
    /// `allowed_values`: a value holding a comma is one value).
    AllowedValues(Vec<String>),
    /// The whole value must be one of these, offered as a choice (Harness
    /// `selectOneFrom`).
    SelectOneFrom(Vec<String>),
    /// The value is a selection of several: it is split on every `,`, each
    /// part trimmed, and every part must be one of these; an empty part
    /// (`dev,`) is refused unless `""` is listed. Harness `allowedValues`
    /// (`ApprovalInstanceServiceImpl.validateApprovalInputConstraints`;
    /// Harness's test `testValidationPassedWhenAllOfApproverInputValueInAllowedValues`
    /// accepts `val1, val2` against `val1,val2`). A listed value cannot
    /// hold a `,` or start or end with white space: no part could equal it.
    MultiSelect(Vec<String>),
    /// The whole value must match this pattern (Harness `regex`; needs the
    /// cargo feature `regex`).
    Pattern(Pattern),
}

/// Whether an approval must name every declared input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum InputMode {
    /// Inputs an approval leaves out take their default (native default).
    #[default]
    DefaultsFill,
    /// An approval must carry exactly the declared names (Harness: "Invalid
    /// approver inputs" otherwise).
    Exact,
}

/// Why an approval's inputs were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The approval named an input the policy does not declare.
    #[error("approver input `{name}` is not declared by the policy")]
    Unknown {
        /// The name given.
        name: String,
    },
    /// The policy takes exactly its declared inputs and this one was absent.
    #[error("approver input `{name}` is missing: this policy takes exactly its declared inputs")]
    Missing {
        /// The declared name.
        name: String,
    },
    /// A required input was empty.
    #[error("approver input `{name}` is required and was empty")]
    Empty {
        /// The declared name.
        name: String,
    },
    /// The value is not among the allowed values.
    #[error("approver input `{name}` is `{value}`, not one of: {allowed}")]
    NotAllowed {
        /// The declared name.
        name: String,
        /// The value given.
        value: String,
        /// The allowed values, comma-separated.
        allowed: String,
    },
    /// A part of a multi-select value is not among the allowed values.
    #[error(
        "approver input `{name}` is `{value}`, whose part `{part}` (split on `,`, trimmed) is not one of: {allowed}"
    )]
    PartNotAllowed {
        /// The declared name.
        name: String,
        /// The value given.
        value: String,
        /// The first part that is not allowed (empty for `dev,`).
        part: String,
        /// The allowed values, comma-separated.
        allowed: String,
    },
    /// The value does not match the input's pattern.
    #[error("approver input `{name}` is `{value}`, which does not match `{pattern}`")]
    NoMatch {
        /// The declared name.
        name: String,
        /// The value given.
        value: String,
        /// The pattern.
        pattern: String,
    },
    /// The value is longer than [`MAX_INPUT_VALUE_BYTES`].
    #[error("approver input `{name}` is {len} bytes, more than {limit}")]
    TooLong {
        /// The declared name.
        name: String,
        /// Its length.
        len: usize,
        /// The limit.
        limit: usize,
    },
}

/// Checks the inputs of one approval and returns the full set of values,
/// defaults filled in where the mode allows.
pub(crate) fn resolve(
    declared: &[Input],
    mode: InputMode,
    given: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, InputError> {
    if let Some(name) = given.keys().find(|name| !declared.iter().any(|input| &input.name == *name)) {
        return Err(InputError::Unknown { name: crate::policy::error::shorten(name) });
    }
    let mut values = BTreeMap::new();
    for input in declared {
        let value = match (given.get(&input.name), mode) {
            (Some(value), _) => value,
            (None, InputMode::DefaultsFill) => &input.default,
            (None, InputMode::Exact) => return Err(InputError::Missing { name: input.name.clone() }),
        };
        // Checked before it is copied: a refused value is never duplicated.
        input.check(value)?;
        values.insert(input.name.clone(), value.clone());
    }
    Ok(values)
}

/// The declared defaults, as a scheduled auto-approval records them.
pub(crate) fn defaults(declared: &[Input]) -> BTreeMap<String, String> {
    declared.iter().map(|input| (input.name.clone(), input.default.clone())).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    fn list(values: &[&str]) -> Vec<String> {
        values.iter().map(|value| (*value).to_owned()).collect()
    }

    fn input(constraint: Constraint) -> Input {
        Input::new("env").constrained(constraint)
    }

    // Harness `allowedValues` is a multi-select:
    // ApprovalInstanceServiceImpl.validateApprovalInputConstraints splits the
    // value on commas, trims each part and checks every part; Harness's test
    // testValidationPassedWhenAllOfApproverInputValueInAllowedValues accepts
    // "val1, val2" against val1,val2.
    #[test]
    fn harness_allowed_values_multi_select_checks_every_trimmed_part() {
        let env = input(Constraint::MultiSelect(list(&["val1", "val2"])));
        for value in ["val1", "val2", "val1, val2", "val2,val1", " val1 ,  val2 ", "val1, val1"] {
            assert_eq!(env.check(value), Ok(()), "{value:?}");
        }
        match env.check("val1, val3") {
            Err(InputError::PartNotAllowed { name, value, part, allowed }) => {
                assert_eq!((name.as_str(), value.as_str(), part.as_str()), ("env", "val1, val3", "val3"));
                assert_eq!(allowed, "val1, val2");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            env.check("val3").unwrap_err().to_string(),
            "approver input `env` is `val3`, whose part `val3` (split on `,`, trimmed) is not one of: val1, val2"
        );
    }

    // An empty part (`val1,`, `val1,,val2`, `,val1`) is not in the list, so
    // it is refused, unless `""` is listed (the native format allows that).
    #[test]
    fn multi_select_refuses_an_empty_part_unless_empty_is_listed() {
        let env = input(Constraint::MultiSelect(list(&["val1", "val2"])));
        for value in ["val1,", "val1,,val2", ",val1", "val1, "] {
            match env.check(value) {
                Err(InputError::PartNotAllowed { part, .. }) => assert_eq!(part, "", "{value:?}"),
                other => panic!("{value:?}: {other:?}"),
            }
        }
        let lenient = input(Constraint::MultiSelect(list(&["val1", ""])));
        assert_eq!(lenient.check("val1,"), Ok(()));
    }

    // Harness `selectOneFrom` and the native `allowed_values` check the whole
    // value: a comma-separated selection is one (unlisted) value.
    #[test]
    fn select_one_from_and_native_allowed_values_check_the_whole_value() {
        for constraint in
            [Constraint::SelectOneFrom(list(&["val1", "val2"])), Constraint::AllowedValues(list(&["val1", "val2"]))]
        {
            let env = input(constraint);
            assert_eq!(env.check("val1"), Ok(()));
            assert!(matches!(env.check("val1, val2"), Err(InputError::NotAllowed { .. })));
            assert!(matches!(env.check(" val1"), Err(InputError::NotAllowed { .. })));
        }
    }

    // An empty optional value passes any constraint; a required one does not.
    #[test]
    fn a_blank_value_is_judged_by_required_not_by_the_multi_select() {
        let env = input(Constraint::MultiSelect(list(&["val1"])));
        assert_eq!(env.check(""), Ok(()));
        assert_eq!(env.check("  "), Ok(()));
        assert!(matches!(env.required().check(""), Err(InputError::Empty { .. })));
    }

    #[test]
    fn multi_select_serde_name() {
        let constraint: Constraint = serde_json::from_str(r#"{"multi_select": ["a", "b"]}"#).unwrap();
        assert_eq!(constraint, Constraint::MultiSelect(list(&["a", "b"])));
    }
}
