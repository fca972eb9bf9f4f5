//! Who each rule admits, indexed once when a policy is validated.
//!
//! A principal is described afresh by the host on every request, so the
//! work of asking "which rules does this principal match" falls on every
//! call. Walking every approver entry of every rule and looking each group
//! up among the principal's groups costs rules x entries x set lookups; the
//! index turns it into one lookup per fact the principal carries (its id,
//! each of its groups, its access level), each giving the rules that name
//! that fact, and a union of the answers.

use super::{AdminRule, Approver, PolicySpec, RuleSet};
use crate::principal::{Principal, PrincipalKind};
use std::collections::BTreeMap;

/// The rules a principal can match, by what each approver entry looks at.
#[derive(Debug)]
pub(super) struct RuleIndex {
    /// Every rule, for administrators where they match every rule.
    every: RuleSet,
    /// Whether administrators match every rule.
    admins_match_every_rule: bool,
    /// Rules with an `anyone` entry.
    anyone: RuleSet,
    /// Rules naming a user id.
    users: ByName,
    /// Rules naming a service-account id.
    service_accounts: ByName,
    /// Rules naming a group.
    groups: ByName,
    /// Each minimum access level some entry sets, with the rules setting it.
    min_levels: Vec<(u16, RuleSet)>,
}

impl RuleIndex {
    pub(super) fn new(spec: &PolicySpec) -> Self {
        let mut anyone = RuleSet::EMPTY;
        let mut users = BTreeMap::new();
        let mut service_accounts = BTreeMap::new();
        let mut groups = BTreeMap::new();
        let mut min_levels = BTreeMap::new();
        let entries = spec
            .rules
            .iter()
            .enumerate()
            .flat_map(|(index, rule)| rule.approvers.iter().map(move |entry| (index, entry)));
        for (rule, entry) in entries {
            match entry {
                Approver::User(id) => add(&mut users, id.as_str(), rule),
                Approver::ServiceAccount(id) => add(&mut service_accounts, id.as_str(), rule),
                Approver::Group(name) => add(&mut groups, name.as_str(), rule),
                Approver::MinAccessLevel(min) => add(&mut min_levels, *min, rule),
                Approver::Anyone => anyone.insert(rule),
            }
        }
        Self {
            every: (0..spec.rules.len()).collect(),
            admins_match_every_rule: spec.admins == AdminRule::MatchEveryRule,
            anyone,
            users: ByName::new(users),
            service_accounts: ByName::new(service_accounts),
            groups: ByName::new(groups),
            min_levels: min_levels.into_iter().collect(),
        }
    }

    /// The rules `principal` matches; the same answer as asking every rule's
    /// [`Rule::matches`](super::Rule::matches), administrators included.
    pub(super) fn rules_of(&self, principal: &Principal) -> RuleSet {
        if principal.is_admin() && self.admins_match_every_rule {
            return self.every;
        }
        let id = principal.id().as_str();
        // Service accounts match only entries that name them (Harness
        // authorizes a service account only when it is listed).
        if principal.kind() != PrincipalKind::User {
            return self.anyone.union(self.service_accounts.get(id));
        }
        let by_group =
            principal.groups().iter().fold(RuleSet::EMPTY, |rules, group| rules.union(self.groups.get(group)));
        self.anyone.union(self.users.get(id)).union(by_group).union(self.by_level(principal.access_level()))
    }

    fn by_level(&self, level: Option<u16>) -> RuleSet {
        let Some(level) = level else { return RuleSet::EMPTY };
        // Sorted by level: the entries a level reaches are a prefix.
        self.min_levels
            .iter()
            .take_while(|(min, _)| *min <= level)
            .fold(RuleSet::EMPTY, |rules, (_, more)| rules.union(*more))
    }
}

fn add<K: Ord>(map: &mut BTreeMap<K, RuleSet>, key: K, rule: usize) {
    map.entry(key).or_default().insert(rule);
}

/// Names with the rules that name them, sorted for binary search.
#[derive(Debug)]
struct ByName {
    sorted: Vec<(Box<str>, RuleSet)>,
    /// One bit per length some name has (the last bit for 63 bytes and
    /// more): most of a principal's groups are ones no rule names, and most
    /// of those are told apart by their length, without a search.
    lengths: u64,
}

impl ByName {
    fn new(names: BTreeMap<&str, RuleSet>) -> Self {
        let lengths = names.keys().fold(0, |bits, name| bits | length_bit(name));
        let sorted = names.into_iter().map(|(name, rules)| (name.into(), rules)).collect();
        Self { sorted, lengths }
    }

    /// The rules naming `name`; none if no entry does.
    fn get(&self, name: &str) -> RuleSet {
        if self.lengths & length_bit(name) == 0 {
            return RuleSet::EMPTY;
        }
        match self.sorted.binary_search_by(|(key, _)| key.as_ref().cmp(name)) {
            Ok(at) => self.sorted.get(at).map_or(RuleSet::EMPTY, |(_, rules)| *rules),
            Err(_) => RuleSet::EMPTY,
        }
    }
}

/// The bit of [`ByName::lengths`] for a name of this length.
fn length_bit(name: &str) -> u64 {
    1 << name.len().min(63)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Policy, Rule};
    use proptest::prelude::*;

    fn approver() -> impl Strategy<Value = Approver> {
        let name = prop::sample::select(vec!["a", "b", "ab", "sre", "ops"]);
        prop_oneof![
            name.clone().prop_map(|n| Approver::User(n.into())),
            name.clone().prop_map(|n| Approver::Group(n.into())),
            name.prop_map(|n| Approver::ServiceAccount(n.into())),
            (0u16..5).prop_map(|level| Approver::MinAccessLevel(level * 10)),
            Just(Approver::Anyone),
        ]
    }

    fn principal() -> impl Strategy<Value = Principal> {
        let name = prop::sample::select(vec!["a", "b", "ab", "sre", "ops", "zed"]);
        let groups = prop::collection::vec(prop::sample::select(vec!["a", "b", "ab", "sre", "ops", "web"]), 0..4);
        (name, any::<bool>(), groups, prop::option::of(0u16..50), any::<bool>()).prop_map(
            |(id, user, groups, level, admin)| {
                let principal = if user { Principal::user(id) } else { Principal::service_account(id) }
                    .unwrap()
                    .with_groups(groups);
                let principal = match level {
                    Some(level) => principal.with_access_level(level),
                    None => principal,
                };
                if admin { principal.as_admin() } else { principal }
            },
        )
    }

    proptest! {
        /// The index gives exactly what walking every rule's entries gives.
        #[test]
        fn agrees_with_every_rules_own_matching(
            rules in prop::collection::vec(prop::collection::vec(approver(), 1..4), 1..5),
            admins in any::<bool>(),
            principal in principal(),
        ) {
            let mut spec = PolicySpec::new(rules.into_iter().map(|entries| Rule::new(1, entries)));
            spec.admins = if admins { AdminRule::MatchEveryRule } else { AdminRule::Ordinary };
            let walked: RuleSet = spec
                .rules
                .iter()
                .enumerate()
                .filter(|(_, rule)| (principal.is_admin() && admins) || rule.matches(&principal))
                .map(|(index, _)| index)
                .collect();
            prop_assert_eq!(Policy::new(spec).unwrap().matching_rules(&principal), walked);
        }
    }

    #[test]
    fn finds_names_of_every_length() {
        let long = "g".repeat(70);
        let names = ByName::new(
            [("", RuleSet::from_iter([0])), ("sre", RuleSet::from_iter([1])), (long.as_str(), RuleSet::from_iter([2]))]
                .into(),
        );
        assert_eq!(names.get(""), RuleSet::from_iter([0]));
        assert_eq!(names.get("sre"), RuleSet::from_iter([1]));
        assert_eq!(names.get("srf"), RuleSet::EMPTY);
        assert_eq!(names.get(&long), RuleSet::from_iter([2]));
        assert_eq!(names.get(&"g".repeat(64)), RuleSet::EMPTY);
    }
}
