//! TEMPORARY stand-in until the real matcher lands.
use serde::{Deserialize, Serialize};
/// A validated regular expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Pattern(String);
/// A bad pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad pattern")]
pub struct PatternError;
impl Pattern {
    /// New.
    pub fn new(s: &str) -> Result<Self, PatternError> { Ok(Self(s.into())) }
    /// Source.
    pub fn as_str(&self) -> &str { &self.0 }
    /// Match.
    pub fn is_match(&self, v: &str) -> bool { self.0 == v }
}
impl std::str::FromStr for Pattern { type Err = PatternError; fn from_str(s: &str) -> Result<Self, PatternError> { Self::new(s) } }
impl TryFrom<String> for Pattern { type Error = PatternError; fn try_from(s: String) -> Result<Self, PatternError> { Self::new(&s) } }
impl From<Pattern> for String { fn from(p: Pattern) -> String { p.0 } }
