//! What a gate requires: the policy model, validated once into a type that
//! cannot be invalid.
//!
//! [`PolicySpec`] is the native format as plain data (serde, unknown fields
//! refused); [`Policy`] is a spec that passed validation, and the only thing
//! the engine accepts. The importers in [`crate::compat`] turn Harness,
//! GitLab and Octopus configuration into a `PolicySpec` and validate it the
//! same way.

mod error;
mod index;
mod input;
mod pattern;
mod rule;
mod settings;
mod span;
mod validate;

pub use error::PolicyError;
pub use input::{Constraint, Input, InputError, InputMode, MAX_INPUT_VALUE_BYTES};
pub use pattern::{Pattern, PatternError};
pub use rule::{Approver, Rule, RuleSet};
pub use settings::{
    AdminRule, AutoApproval, Concurrency, Counting, Disallowed, Environments, ExecutionHistory, ExecutorRule, Origin,
    Outputs, Responsibility, Revote, RuleNaming, Schedule, Supersede, Timeout, TimeoutOutcome,
};
pub use span::{Span, SpanError};

pub(crate) use error::shorten;
pub(crate) use input::{defaults as input_defaults, resolve as resolve_inputs};

use crate::principal::Principal;
use index::RuleIndex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// The most rules a policy may have.
pub const MAX_RULES: usize = 64;
/// The most approver entries one rule may list.
pub const MAX_APPROVERS: usize = 1_000;
/// The most approvals one rule may require.
pub const MAX_REQUIRED: u32 = 1_000;
/// The most approver inputs a policy may declare.
pub const MAX_INPUTS: usize = 256;
/// The most disallowed principals a policy may list.
pub const MAX_DISALLOWED: usize = 1_000;
/// The longest name, message or other text field, in bytes.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;
/// The default limit on an approval's or rejection's comment, in bytes.
pub const DEFAULT_MAX_COMMENT_BYTES: usize = 64 * 1024;

/// The native policy format, as plain data. Every field but `rules` has a
/// default, and the default is the safer choice.
///
/// ```
/// use approval_gate::policy::{Approver, Policy, PolicySpec, Rule};
/// let spec: PolicySpec = serde_json::from_str(r#"{
///     "name": "production",
///     "rules": [{"name": "sre", "required": 2, "approvers": [{"group": "sre"}]}],
///     "timeout": {"after": "1d", "outcome": "expire"}
/// }"#)?;
/// let policy = Policy::new(spec)?;
/// assert_eq!(policy.rules().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PolicySpec {
    /// A human name (Harness step name, GitLab environment, Octopus step).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Shown to approvers and put in notifications.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// The rules; a gate is approved when every rule has its approvals.
    pub rules: Vec<Rule>,
    /// How one principal's approval counts across rules.
    #[serde(default)]
    pub counting: Counting,
    /// How `represented_as` is matched against rule names.
    #[serde(default)]
    pub represented_as: RuleNaming,
    /// What the run's executor may do.
    #[serde(default)]
    pub executor: ExecutorRule,
    /// Principals kept from acting.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disallowed: Vec<Disallowed>,
    /// Whether administrators match every rule.
    #[serde(default)]
    pub admins: AdminRule,
    /// Whether a vote may change.
    #[serde(default)]
    pub revote: Revote,
    /// Approver inputs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<Input>,
    /// Whether approvals must name every input.
    #[serde(default)]
    pub input_mode: InputMode,
    /// What the gate hands on to later steps.
    #[serde(default)]
    pub outputs: Outputs,
    /// A deadline after which the gate ends by itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Timeout>,
    /// A scheduled auto-approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_approval: Option<AutoApproval>,
    /// Whether approving a newer run rejects older waiting runs.
    #[serde(default)]
    pub supersede: Supersede,
    /// Environments the gate applies to.
    #[serde(default, skip_serializing_if = "Environments::is_empty")]
    pub environments: Environments,
    /// Whether other deployments wait while the gate waits.
    #[serde(default)]
    pub concurrency: Concurrency,
    /// Whether approvers see the execution history.
    #[serde(default)]
    pub execution_history: ExecutionHistory,
    /// Whether acting needs responsibility for the gate.
    #[serde(default)]
    pub responsibility: Responsibility,
    /// The longest comment accepted, in bytes.
    #[serde(default = "default_max_comment")]
    pub max_comment_bytes: usize,
    /// The format the policy was written in.
    #[serde(default)]
    pub origin: Origin,
}

fn default_max_comment() -> usize {
    DEFAULT_MAX_COMMENT_BYTES
}

impl PolicySpec {
    /// A spec with these rules and every other setting at its default.
    pub fn new(rules: impl IntoIterator<Item = Rule>) -> Self {
        Self { rules: rules.into_iter().collect(), max_comment_bytes: DEFAULT_MAX_COMMENT_BYTES, ..Self::default() }
    }
}

/// A validated policy: the only policy the engine accepts.
///
/// It serializes as its [`PolicySpec`] and deserializes through
/// [`Policy::new`], so a stored policy can never come back invalid.
///
/// ```
/// use approval_gate::{Principal, policy::{Approver, Policy, PolicySpec, Rule}};
/// let policy = Policy::new(PolicySpec::new([Rule::new(1, [Approver::Group("sre".into())])]))?;
/// let ann = Principal::user("ann")?.with_groups(["sre"]);
/// assert!(policy.matching_rules(&ann).contains(0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "PolicySpec", into = "PolicySpec")]
pub struct Policy {
    // Shared: every gate opened under a policy keeps it, and a host may hold
    // a million waiting gates under a handful of policies.
    compiled: Arc<Compiled>,
}

/// A valid spec with what the engine derives from it once, at load, rather
/// than on every command.
#[derive(Debug)]
struct Compiled {
    spec: PolicySpec,
    /// Who each rule admits, for [`Policy::matching_rules`].
    index: RuleIndex,
    /// Each rule's required approvals, in rule order, for the matching.
    required: Vec<u32>,
}

impl Policy {
    /// Validates `spec`.
    ///
    /// # Errors
    ///
    /// The first [`PolicyError`] found, naming the field and the value: no
    /// rules, a rule with no approvers or a count of 0, duplicate names, too
    /// many entries, oversized text, a zero span.
    pub fn new(spec: PolicySpec) -> Result<Self, PolicyError> {
        validate::check(&spec)?;
        let index = RuleIndex::new(&spec);
        let required = spec.rules.iter().map(|rule| rule.required).collect();
        Ok(Self { compiled: Arc::new(Compiled { spec, index, required }) })
    }

    /// The settings as plain data.
    pub fn spec(&self) -> &PolicySpec {
        &self.compiled.spec
    }

    /// The rules, in declaration order.
    pub fn rules(&self) -> &[Rule] {
        &self.spec().rules
    }

    /// The name of rule `index`: its own, or `rule N` counting from 1.
    pub fn rule_name(&self, index: usize) -> String {
        match self.spec().rules.get(index).and_then(|rule| rule.name.as_ref()) {
            Some(name) => name.clone(),
            None => format!("rule {}", index + 1),
        }
    }

    /// The rules `principal` matches, administrators included where the
    /// policy says so.
    pub fn matching_rules(&self, principal: &Principal) -> RuleSet {
        self.compiled.index.rules_of(principal)
    }

    /// Each rule's required approvals, in rule order.
    pub(crate) fn required(&self) -> &[u32] {
        &self.compiled.required
    }

    /// The disallowed entry that keeps `principal` from acting, if any.
    pub fn disallowed_entry(&self, principal: &Principal) -> Option<&Disallowed> {
        self.spec().disallowed.iter().find(|entry| match entry {
            Disallowed::Principal(id) => principal.id().as_str() == id,
            Disallowed::Email(email) => principal.email().is_some_and(|own| own.eq_ignore_ascii_case(email)),
        })
    }

    /// The rules whose name `represented_as` selects, among `candidates`.
    pub fn rules_named(&self, represented_as: &str, candidates: RuleSet) -> RuleSet {
        candidates
            .iter()
            .filter(|index| {
                let name = self.rule_name(*index);
                match self.spec().represented_as {
                    RuleNaming::Exact => name == represented_as,
                    RuleNaming::Contains => name.contains(represented_as),
                }
            })
            .collect()
    }

    /// Checks an approval's inputs and fills in defaults where allowed.
    ///
    /// # Errors
    ///
    /// [`InputError`] naming the input and the value.
    pub fn resolve_inputs(&self, given: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>, InputError> {
        resolve_inputs(&self.spec().inputs, self.spec().input_mode, given)
    }

    /// The sum of every rule's required approvals.
    pub fn total_required(&self) -> u64 {
        self.required().iter().copied().map(u64::from).sum()
    }
}

// Equality and debug output are the spec's: the rest is derived from it.
impl PartialEq for Policy {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.compiled, &other.compiled) || self.spec() == other.spec()
    }
}

impl Eq for Policy {}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy").field("spec", self.spec()).finish()
    }
}

impl TryFrom<PolicySpec> for Policy {
    type Error = PolicyError;
    fn try_from(spec: PolicySpec) -> Result<Self, PolicyError> {
        Self::new(spec)
    }
}

impl From<Policy> for PolicySpec {
    fn from(policy: Policy) -> Self {
        match Arc::try_unwrap(policy.compiled) {
            Ok(compiled) => compiled.spec,
            Err(shared) => shared.spec.clone(),
        }
    }
}
