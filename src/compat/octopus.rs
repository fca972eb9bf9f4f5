//! PLACEHOLDER: the octopus importer is being written.
use crate::policy::{Policy, PolicyError};
use serde::Deserialize;

/// Placeholder.
#[derive(Debug, Clone, Deserialize)]
pub struct Step {}

impl Step {
    /// Placeholder.
    ///
    /// # Errors
    ///
    /// Always, for now.
    pub fn to_policy(&self) -> Result<Policy, PolicyError> {
        Err(PolicyError::Malformed { path: ".".into(), message: "importer not written yet".into() })
    }
}
