//! Importers: Harness, GitLab and Octopus configuration turned into one
//! [`Policy`].
//!
//! Each importer is a set of serde types shaped like what the source system
//! writes, plus a `to_policy` that follows the system's documented
//! behaviour and validates the result. Parsing is the host's choice of
//! format (JSON, YAML through a YAML crate): the importers take any serde
//! deserializer.

mod deadline;
pub mod gitlab;
pub mod harness;
mod lenient;
pub mod octopus;

use crate::policy::{Policy, PolicyError, PolicySpec};
use serde::Deserialize;

/// A policy in any of the four formats, tagged by format as the scenario
/// contract writes it: `{"harness": {...}}`, `{"gitlab": {...}}`,
/// `{"octopus": {...}}` or `{"native": {...}}`.
///
/// ```
/// use approval_gate::compat::PolicyDocument;
/// let document: PolicyDocument = serde_json::from_str(r#"{"native": {
///     "rules": [{"required": 1, "approvers": [{"group": "sre"}]}]
/// }}"#)?;
/// let policy = document.into_policy()?;
/// assert_eq!(policy.rules().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum PolicyDocument {
    /// A Harness `HarnessApproval` step.
    Harness(Box<harness::Step>),
    /// A GitLab protected environment.
    Gitlab(Box<gitlab::ProtectedEnvironment>),
    /// An Octopus Manual Intervention step.
    Octopus(Box<octopus::Step>),
    /// The native format.
    Native(Box<PolicySpec>),
}

impl PolicyDocument {
    /// Imports and validates the policy.
    ///
    /// # Errors
    ///
    /// [`PolicyError`] naming the field and the value.
    pub fn into_policy(self) -> Result<Policy, PolicyError> {
        match self {
            Self::Harness(step) => step.to_policy(),
            Self::Gitlab(environment) => environment.to_policy(),
            Self::Octopus(step) => step.to_policy(),
            Self::Native(spec) => Policy::new(*spec),
        }
    }
}
