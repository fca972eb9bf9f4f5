//! What the importers share: fields that take a literal or a runtime
//! expression, lists that may be written as one string, keys that landed one
//! level off, and errors renamed to the source field.

use crate::policy::PolicyError;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A scalar as a source system writes it where it takes either a literal or
/// an expression: a boolean, a number, or a string that may hold a number
/// (`"2"`), a boolean (`"true"`) or a runtime expression (`<+input>`).
/// The importers interpret it per field.
///
/// ```
/// use approval_gate::compat::harness::Scalar;
/// let count: Scalar = serde_json::from_str("\"<+input>\"")?;
/// assert_eq!(count, Scalar::Text("<+input>".into()));
/// assert_eq!(serde_json::from_str::<Scalar>("2")?, Scalar::Integer(2));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Scalar {
    /// `true` or `false`.
    Bool(bool),
    /// A whole number.
    Integer(i64),
    /// A number with a fraction, or too large for an `i64`.
    Float(f64),
    /// A string.
    Text(String),
}

impl Scalar {
    /// The value as text: strings as they are, other values as their
    /// decimal or `true`/`false` form.
    pub fn into_text(self) -> String {
        match self {
            Self::Text(text) => text,
            other => other.to_string(),
        }
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bool(value) => write!(f, "{value}"),
            Self::Integer(value) => write!(f, "{value}"),
            Self::Float(value) => write!(f, "{value}"),
            Self::Text(value) => f.write_str(value),
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;

        impl Visitor<'_> for ScalarVisitor {
            type Value = Scalar;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }

            fn visit_bool<E: de::Error>(self, value: bool) -> Result<Scalar, E> {
                Ok(Scalar::Bool(value))
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Scalar, E> {
                Ok(Scalar::Integer(value))
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Scalar, E> {
                Ok(i64::try_from(value).map_or(Scalar::Float(value as f64), Scalar::Integer))
            }

            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Scalar, E> {
                Ok(Scalar::Float(value))
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Scalar, E> {
                Ok(Scalar::Text(value.to_owned()))
            }

            fn visit_string<E: de::Error>(self, value: String) -> Result<Scalar, E> {
                Ok(Scalar::Text(value))
            }
        }

        deserializer.deserialize_any(ScalarVisitor)
    }
}

/// A list of strings as Harness writes one, or the single string that
/// stands in its place: a comma-separated list (`allowedValues`,
/// `selectOneFrom`), a list expression, or a mistake (a plain group id where
/// `userGroups` needs a list).
///
/// ```
/// use approval_gate::compat::harness::Strings;
/// let groups: Strings = serde_json::from_str(r#"["sre", "account.ops"]"#)?;
/// assert_eq!(groups, Strings::List(vec!["sre".into(), "account.ops".into()]));
/// let values: Strings = serde_json::from_str(r#""a, b""#)?;
/// assert_eq!(values, Strings::Text("a, b".into()));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Strings {
    /// A list; numbers in it are read as their decimal text and a null
    /// element as the empty string.
    List(Vec<String>),
    /// A single string (or number or boolean, as text).
    Text(String),
}

impl<'de> Deserialize<'de> for Strings {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StringsVisitor;

        impl<'de> Visitor<'de> for StringsVisitor {
            type Value = Strings;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of strings, or a string")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strings, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Option<Scalar>>()? {
                    items.push(item.map(Scalar::into_text).unwrap_or_default());
                }
                Ok(Strings::List(items))
            }

            fn visit_bool<E: de::Error>(self, value: bool) -> Result<Strings, E> {
                Ok(Strings::Text(value.to_string()))
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Strings, E> {
                Ok(Strings::Text(value.to_string()))
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Strings, E> {
                Ok(Strings::Text(value.to_string()))
            }

            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Strings, E> {
                Ok(Strings::Text(value.to_string()))
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Strings, E> {
                Ok(Strings::Text(value.to_owned()))
            }

            fn visit_string<E: de::Error>(self, value: String) -> Result<Strings, E> {
                Ok(Strings::Text(value))
            }
        }

        deserializer.deserialize_any(StringsVisitor)
    }
}

/// A key found where the source system does not read it, kept only to say
/// where it belongs. Holds a short rendering of its value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Stray(String);

/// Stray renderings stop growing here; errors shorten them further.
const STRAY_RENDER_BYTES: usize = 120;

impl Stray {
    fn push(&mut self, text: &str) {
        if self.0.len() < STRAY_RENDER_BYTES {
            self.0.push_str(text);
        }
    }
}

impl fmt::Display for Stray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Stray {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrayVisitor;

        impl<'de> Visitor<'de> for StrayVisitor {
            type Value = Stray;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }

            fn visit_bool<E: de::Error>(self, value: bool) -> Result<Stray, E> {
                Ok(Stray(value.to_string()))
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Stray, E> {
                Ok(Stray(value.to_string()))
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Stray, E> {
                Ok(Stray(value.to_string()))
            }

            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Stray, E> {
                Ok(Stray(value.to_string()))
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Stray, E> {
                Ok(Stray(value.to_owned()))
            }

            fn visit_unit<E: de::Error>(self) -> Result<Stray, E> {
                Ok(Stray("null".to_owned()))
            }

            fn visit_none<E: de::Error>(self) -> Result<Stray, E> {
                self.visit_unit()
            }

            fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Stray, D::Error> {
                Stray::deserialize(deserializer)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Stray, A::Error> {
                let mut out = Stray("[".to_owned());
                let mut first = true;
                while let Some(item) = seq.next_element::<Stray>()? {
                    if !first {
                        out.push(", ");
                    }
                    out.push(&item.0);
                    first = false;
                }
                out.push("]");
                Ok(out)
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Stray, A::Error> {
                let mut out = Stray("{".to_owned());
                let mut first = true;
                while let Some((key, value)) = map.next_entry::<Stray, Stray>()? {
                    if !first {
                        out.push(", ");
                    }
                    out.push(&key.0);
                    out.push(": ");
                    out.push(&value.0);
                    first = false;
                }
                out.push("}");
                Ok(out)
            }
        }

        deserializer.deserialize_any(StrayVisitor)
    }
}

/// Reads an optional text field, taking numbers and booleans as their text.
pub(crate) fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Option::<Scalar>::deserialize(deserializer).map(|value| value.map(Scalar::into_text))
}

/// Reads a list where null stands for the empty list.
pub(crate) fn list_or_null<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<Vec<T>>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// Whether `value` holds a runtime expression: Harness `<+...>`, Terraform
/// `${...}` or Octopus `#{...}`.
pub(crate) fn is_expression(value: &str) -> bool {
    value.contains("<+") || value.contains("${") || value.contains("#{")
}

/// The error for a runtime expression where a concrete value is needed.
pub(crate) fn expression_error(field: impl Into<String>, value: &str) -> PolicyError {
    PolicyError::Expression { field: field.into(), value: crate::policy::shorten(value) }
}

/// Refuses `value` if it holds a runtime expression.
pub(crate) fn concrete(field: &str, value: &str) -> Result<(), PolicyError> {
    if is_expression(value) { Err(expression_error(field, value)) } else { Ok(()) }
}

/// A whole number of at least zero, written as a number or a string of
/// digits.
pub(crate) fn whole(field: &str, value: &Scalar, expected: &str) -> Result<u64, PolicyError> {
    match value {
        Scalar::Integer(number) => u64::try_from(*number).map_err(|_| PolicyError::invalid(field, value, expected)),
        Scalar::Text(text) => {
            concrete(field, text)?;
            let digits = text.trim();
            if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
                return Err(PolicyError::invalid(field, value, expected));
            }
            digits.parse().map_err(|_| PolicyError::invalid(field, value, expected))
        }
        Scalar::Float(_) | Scalar::Bool(_) => Err(PolicyError::invalid(field, value, expected)),
    }
}

/// A boolean, written as one or as `"true"`/`"false"` in any letter case.
pub(crate) fn flag(field: &str, value: Option<&Scalar>) -> Result<bool, PolicyError> {
    match value {
        None => Ok(false),
        Some(Scalar::Bool(value)) => Ok(*value),
        Some(Scalar::Text(text)) if text.trim().eq_ignore_ascii_case("true") => Ok(true),
        Some(Scalar::Text(text)) if text.trim().eq_ignore_ascii_case("false") => Ok(false),
        Some(Scalar::Text(text)) if is_expression(text) => Err(expression_error(field, text)),
        Some(other) => Err(PolicyError::invalid(field, other, "must be true or false")),
    }
}

/// Gives `error` the field `rename` maps its field to, if any.
pub(crate) fn renamed(mut error: PolicyError, rename: impl Fn(&str) -> Option<String>) -> PolicyError {
    let field = match &mut error {
        PolicyError::Invalid { field, .. }
        | PolicyError::Missing { field, .. }
        | PolicyError::Expression { field, .. }
        | PolicyError::TooMany { field, .. } => field,
        PolicyError::Malformed { path, .. } => path,
    };
    if let Some(source) = rename(field) {
        *field = source;
    }
    error
}

/// Splits `name[3].rest` into `(3, ".rest")` after `prefix` (`name[`).
pub(crate) fn indexed<'a>(field: &'a str, prefix: &str) -> Option<(usize, &'a str)> {
    let rest = field.strip_prefix(prefix)?;
    let (number, rest) = rest.split_once(']')?;
    Some((number.parse().ok()?, rest))
}

/// The misplaced-key error.
pub(crate) fn misplaced(field: &str, value: &Stray, belongs: &str) -> PolicyError {
    PolicyError::invalid(field, value, belongs)
}
