//! Why a policy was refused: every error names the field and the value.

/// A policy that could not be loaded. Each variant names the field (as a
/// path such as `rules[1].required` or `spec.approvers.minimumCount`) and,
/// where there is one, the bad value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A field holds a value the format does not allow.
    #[error("`{field}` is `{value}`: {expected}")]
    Invalid {
        /// Path of the field.
        field: String,
        /// The value, shortened to 80 characters.
        value: String,
        /// What the field must hold.
        expected: String,
    },
    /// A required field is absent or empty.
    #[error("`{field}` is missing: {expected}")]
    Missing {
        /// Path of the field.
        field: String,
        /// What the field must hold.
        expected: String,
    },
    /// A field holds a runtime expression (`<+input>`, `#{Var}`, `${var}`)
    /// that the source system resolves when the pipeline runs.
    #[error("`{field}` is the runtime expression `{value}`: resolve it before loading the policy")]
    Expression {
        /// Path of the field.
        field: String,
        /// The expression.
        value: String,
    },
    /// A list is longer than the crate accepts.
    #[error("`{field}` holds {count} entries, more than {limit}")]
    TooMany {
        /// Path of the field.
        field: String,
        /// How many entries it holds.
        count: usize,
        /// The most accepted.
        limit: usize,
    },
    /// The document does not have the shape of the format (a serde error).
    #[error("malformed policy at `{path}`: {message}")]
    Malformed {
        /// JSON path of the bad field, `.` when unknown.
        path: String,
        /// What the parser said.
        message: String,
    },
}

impl PolicyError {
    pub(crate) fn invalid(
        field: impl Into<String>,
        value: impl std::fmt::Display,
        expected: impl Into<String>,
    ) -> Self {
        Self::Invalid { field: field.into(), value: shorten(&value.to_string()), expected: expected.into() }
    }

    pub(crate) fn missing(field: impl Into<String>, expected: impl Into<String>) -> Self {
        Self::Missing { field: field.into(), expected: expected.into() }
    }

    pub(crate) fn too_many(field: impl Into<String>, count: usize, limit: usize) -> Self {
        Self::TooMany { field: field.into(), count, limit }
    }

    /// The field the error is about.
    pub fn field(&self) -> &str {
        match self {
            Self::Invalid { field, .. }
            | Self::Missing { field, .. }
            | Self::Expression { field, .. }
            | Self::TooMany { field, .. } => field,
            Self::Malformed { path, .. } => path,
        }
    }

    /// The error kind of the scenario contract: always `invalid_policy`.
    pub fn kind(&self) -> crate::ErrorKind {
        crate::ErrorKind::InvalidPolicy
    }
}

/// Keeps error messages one readable line, whatever the input held, and
/// reads no more of an oversized value than it shows.
pub(crate) fn shorten(value: &str) -> String {
    const MAX: usize = 80;
    let mut escaped: String = value.escape_debug().take(MAX + 1).collect();
    if escaped.chars().count() <= MAX {
        return escaped;
    }
    escaped.pop();
    format!("{escaped}… ({} bytes)", value.len())
}
