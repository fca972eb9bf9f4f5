//! Identifiers: validated once, so the engine never meets an empty or
//! oversized id.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// The longest id accepted, in bytes. Ids are keys in stores and
/// notifications, not documents.
pub const MAX_ID_BYTES: usize = 256;

/// Why an id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The id was the empty string.
    #[error("{what} id is empty")]
    Empty {
        /// Which id: `gate`, `principal`.
        what: &'static str,
    },
    /// The id was longer than [`MAX_ID_BYTES`].
    #[error("{what} id `{prefix}…` is {len} bytes, more than {MAX_ID_BYTES}")]
    TooLong {
        /// Which id.
        what: &'static str,
        /// The first characters of the id.
        prefix: String,
        /// Its length in bytes.
        len: usize,
    },
    /// The id held a control character such as a newline.
    #[error("{what} id `{id}` holds a control character")]
    Control {
        /// Which id.
        what: &'static str,
        /// The id, with control characters escaped.
        id: String,
    },
}

fn check(what: &'static str, id: &str) -> Result<(), IdError> {
    if id.is_empty() {
        return Err(IdError::Empty { what });
    }
    if id.len() > MAX_ID_BYTES {
        let prefix = id.chars().take(32).collect();
        return Err(IdError::TooLong { what, prefix, len: id.len() });
    }
    if id.chars().any(char::is_control) {
        let id = id.escape_debug().to_string();
        return Err(IdError::Control { what, id });
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        // Shared: an id is copied into every event, index entry and
        // explanation that names it, and a copy should not allocate.
        pub struct $name(Arc<str>);

        impl $name {
            /// Validates `id`: not empty, at most [`MAX_ID_BYTES`], no control
            /// characters.
            ///
            /// # Errors
            ///
            /// [`IdError`] naming the id and what is wrong with it.
            pub fn new(id: impl Into<String>) -> Result<Self, IdError> {
                let id = id.into();
                check($what, &id)?;
                Ok(Self(id.into()))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(id: String) -> Result<Self, IdError> {
                Self::new(id)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = IdError;
            fn try_from(id: &str) -> Result<Self, IdError> {
                Self::new(id)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0.as_ref().to_owned()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

id_type!(
    /// Names one gate: one pipeline run waiting at one approval step.
    ///
    /// ```
    /// use approval_gate::GateId;
    /// let gate = GateId::new("run-42/approve-prod")?;
    /// assert_eq!(gate.as_str(), "run-42/approve-prod");
    /// assert!(GateId::new("").is_err());
    /// # Ok::<(), approval_gate::IdError>(())
    /// ```
    GateId,
    "gate"
);

id_type!(
    /// Names one principal: a user or a service account, as the host's
    /// directory knows it.
    ///
    /// ```
    /// use approval_gate::PrincipalId;
    /// let alice = PrincipalId::new("alice")?;
    /// assert_eq!(alice.to_string(), "alice");
    /// # Ok::<(), approval_gate::IdError>(())
    /// ```
    PrincipalId,
    "principal"
);

impl IdError {
    /// The contract's kind: `invalid_id`.
    pub fn kind(&self) -> crate::ErrorKind {
        crate::ErrorKind::InvalidId
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_empty_long_and_control_ids() {
        assert_eq!(GateId::new(""), Err(IdError::Empty { what: "gate" }));
        let long = "x".repeat(MAX_ID_BYTES + 1);
        assert!(matches!(PrincipalId::new(long), Err(IdError::TooLong { len: 257, .. })));
        let err = GateId::new("a\nb").unwrap_err();
        assert_eq!(err.to_string(), "gate id `a\\nb` holds a control character");
    }

    #[test]
    fn serde_validates() {
        let ok: GateId = serde_json::from_str("\"g1\"").unwrap();
        assert_eq!(ok.as_str(), "g1");
        assert!(serde_json::from_str::<GateId>("\"\"").is_err());
    }
}
