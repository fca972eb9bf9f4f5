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
            Some(Constraint::Pattern(pattern)) if !pattern.is_match(value) => Err(InputError::NoMatch {
                name,
                value: crate::policy::error::shorten(value),
                pattern: pattern.as_str().to_owned(),
            }),
            _ => Ok(()),
        }
    }
}

/// What values an input allows (Harness allows one constraint per input).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Constraint {
    /// The value must be one of these (Harness `allowedValues`).
    AllowedValues(Vec<String>),
    /// The value must be one of these, offered as a choice (Harness
    /// `selectOneFrom`).
    SelectOneFrom(Vec<String>),
    /// The whole value must match this pattern (Harness `regex`).
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
