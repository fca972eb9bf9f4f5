//! Approval rules: who may approve, and how many of them must.

use crate::principal::{Principal, PrincipalKind};
use serde::{Deserialize, Serialize};

/// One entry of a rule's approver list. A principal matches the rule when it
/// matches any entry.
///
/// In the native format an entry is written `{"user": "alice"}`,
/// `{"group": "sre"}`, `{"service_account": "ci-bot"}`,
/// `{"min_access_level": 40}` or `"anyone"`.
///
/// ```
/// use approval_gate::{Principal, policy::Approver};
/// let sre = Approver::Group("sre".into());
/// assert!(sre.matches(&Principal::user("ann")?.with_groups(["sre"])));
/// assert!(!sre.matches(&Principal::user("bob")?));
/// assert!(Approver::MinAccessLevel(30).matches(&Principal::user("cy")?.with_access_level(40)));
/// # Ok::<(), approval_gate::IdError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Approver {
    /// One user, by principal id.
    User(String),
    /// Every user in a group (Harness user group, GitLab group, Octopus
    /// team).
    Group(String),
    /// One service account, by principal id. Service accounts match only
    /// entries that name them.
    ServiceAccount(String),
    /// Every user whose access level is at least this (GitLab roles:
    /// 30 Developer, 40 Maintainer, 50 Owner, 60 Admin).
    MinAccessLevel(u16),
    /// Any principal at all, service accounts included (an Octopus step with
    /// no responsible team).
    Anyone,
}

impl Approver {
    /// Whether `principal` matches this entry.
    pub fn matches(&self, principal: &Principal) -> bool {
        let is_user = principal.kind() == PrincipalKind::User;
        match self {
            Self::User(id) => is_user && principal.id().as_str() == id,
            // Service accounts match only entries that name them (Harness
            // authorizes a service account only when it is listed).
            Self::Group(group) => is_user && principal.in_group(group),
            Self::ServiceAccount(id) => !is_user && principal.id().as_str() == id,
            Self::MinAccessLevel(min) => is_user && principal.access_level().is_some_and(|level| level >= *min),
            Self::Anyone => true,
        }
    }
}

/// A rule: a set of approvers and how many distinct ones must approve.
///
/// ```
/// use approval_gate::policy::{Approver, Rule};
/// let rule = Rule::new(2, [Approver::Group("sre".into())]).named("sre");
/// assert_eq!(rule.required, 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Rule {
    /// A name for explanations and for `represented_as`; rules without one
    /// are called `rule 1`, `rule 2`, ... in declaration order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// How many distinct approvals this rule needs (at least 1).
    pub required: u32,
    /// Who may approve for this rule.
    pub approvers: Vec<Approver>,
}

impl Rule {
    /// A rule needing `required` approvals from `approvers`.
    pub fn new(required: u32, approvers: impl IntoIterator<Item = Approver>) -> Self {
        Self { name: None, required, approvers: approvers.into_iter().collect() }
    }

    /// Names the rule.
    #[must_use]
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Whether `principal` matches any approver entry of this rule.
    pub fn matches(&self, principal: &Principal) -> bool {
        self.approvers.iter().any(|approver| approver.matches(principal))
    }
}

/// A set of rule positions (a policy has at most
/// [`MAX_RULES`](crate::policy::MAX_RULES) rules), serialized as a sorted
/// list of indices.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "Vec<u8>", into = "Vec<u8>")]
pub struct RuleSet(u64);

impl RuleSet {
    /// The empty set.
    pub const EMPTY: RuleSet = RuleSet(0);

    /// Rules `0..count`: every rule of a policy of `count` rules.
    pub(crate) fn below(count: usize) -> RuleSet {
        match 1u64.checked_shl(count as u32).filter(|_| count < 64) {
            Some(bit) => RuleSet(bit - 1),
            None => RuleSet(u64::MAX),
        }
    }

    /// Adds rule `index`; indices of 64 and more are ignored, as no policy
    /// has that many rules.
    pub fn insert(&mut self, index: usize) {
        if let Some(bit) = 1u64.checked_shl(index as u32).filter(|_| index < 64) {
            self.0 |= bit;
        }
    }

    /// Whether rule `index` is in the set.
    pub fn contains(self, index: usize) -> bool {
        index < 64 && self.0 & (1u64 << index) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The indices in ascending order.
    pub fn iter(self) -> impl Iterator<Item = usize> {
        // Visits only the members, not all 64 positions: the matching walks
        // the rules of every approval it places.
        let mut rest = self.0;
        std::iter::from_fn(move || {
            let index = rest.trailing_zeros() as usize;
            // Clears the lowest member; `rest` is 0 once all are visited.
            rest &= rest.wrapping_sub(1);
            (index < 64).then_some(index)
        })
    }

    /// The rules in either set.
    pub(crate) fn union(self, other: RuleSet) -> RuleSet {
        RuleSet(self.0 | other.0)
    }
}

impl From<Vec<u8>> for RuleSet {
    fn from(indices: Vec<u8>) -> Self {
        let mut set = RuleSet::EMPTY;
        for index in indices {
            set.insert(usize::from(index));
        }
        set
    }
}

impl From<RuleSet> for Vec<u8> {
    fn from(set: RuleSet) -> Self {
        set.iter().filter_map(|index| u8::try_from(index).ok()).collect()
    }
}

impl FromIterator<usize> for RuleSet {
    fn from_iter<I: IntoIterator<Item = usize>>(iter: I) -> Self {
        let mut set = RuleSet::EMPTY;
        for index in iter {
            set.insert(index);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::RuleSet;

    #[test]
    fn below_holds_exactly_the_first_rules() {
        assert_eq!(RuleSet::below(0), RuleSet::EMPTY);
        assert_eq!(RuleSet::below(3).iter().collect::<Vec<_>>(), vec![0, 1, 2]);
        assert_eq!(RuleSet::below(64).iter().count(), 64);
        assert_eq!(RuleSet::below(65), RuleSet::below(64));
    }
}
