//! Assigning approvals to rules.
//!
//! Under once-per-gate counting each approval counts for one rule. An
//! approval pinned by `represented_as` counts where it is pinned; the others
//! are assigned by augmenting paths (a bipartite matching with rule
//! capacities), so that whenever some assignment meets every rule, this one
//! does. When not every rule can be met and there are few rules, the subsets
//! of rules are searched for the largest one that can be met together.
//! Approvals beyond what any rule needs still count for the first rule they
//! match, so `approved_by` names everyone who approved.

use crate::policy::RuleSet;

/// Up to this many rules, a gate that cannot meet every rule is searched
/// for the assignment that meets the most (2^8 small matchings at most).
const EXACT_SEARCH_RULES: usize = 8;

/// One approval as the assignment sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Claim {
    /// The rules the approver matched.
    pub(crate) rules: RuleSet,
    /// The rule it is pinned to, if any.
    pub(crate) pinned: Option<usize>,
}

/// Extends a maximum matching of all claims but the last (`matched`) to one
/// of every claim. One augmenting path suffices, so an approval costs time
/// linear in the approvals held rather than a new matching from scratch.
pub(crate) fn extend(required: &[u32], claims: &[Claim], matched: &mut Vec<Option<usize>>) {
    *matched = extended(required, claims, std::mem::take(matched)).rule_of;
}

/// Whether adding the last of `claims` to `matched`, a maximum matching of
/// the others, would meet every rule. `matched` is left as it was.
pub(crate) fn would_meet_all(required: &[u32], claims: &[Claim], matched: &[Option<usize>]) -> bool {
    // A copy with room for the new claim, so extending it does not grow it.
    let mut placed = Vec::with_capacity(claims.len());
    placed.extend_from_slice(matched);
    extended(required, claims, placed).all_met()
}

/// The matching of every claim, grown from `placed`, a maximum matching of
/// all claims but the last.
fn extended<'a>(required: &'a [u32], claims: &'a [Claim], mut placed: Vec<Option<usize>>) -> Matching<'a> {
    placed.resize(claims.len(), None);
    let last = claims.len().saturating_sub(1);
    let pinned = claims.last().and_then(|claim| claim.pinned);
    if let Some(slot) = placed.get_mut(last) {
        *slot = pinned;
    }
    let mut matching = Matching::resume(required, claims, placed);
    let all = RuleSet::from_iter(0..required.len());
    let mut visited = RuleSet::EMPTY;
    match pinned {
        None => {
            matching.augment(last, all, &mut visited);
        }
        // A pinned approval takes its place whatever the rule holds; if that
        // overfills the rule, one approval that could count elsewhere moves.
        Some(rule) if matching.is_over(rule) => {
            visited.insert(rule);
            for other in 0..last {
                if matching.holds_movable(rule, other) && matching.augment_moving(other, all, &mut visited) {
                    break;
                }
            }
        }
        Some(_) => {}
    }
    matching
}

/// How many approvals each rule holds under `matched`.
pub(crate) fn loads(rules: usize, matched: &[Option<usize>]) -> Vec<usize> {
    // Filled rather than `vec![0; rules]`: for a handful of counts, zeroed
    // allocation (calloc) costs several times a plain one.
    let mut load: Vec<usize> = std::iter::repeat_n(0, rules).collect();
    for rule in matched.iter().flatten() {
        if let Some(slot) = load.get_mut(*rule) {
            *slot += 1;
        }
    }
    load
}

/// The rule each approval counts for (`None`: it matches no rule), with the
/// most rules met; for explanations.
pub(crate) fn assign(required: &[u32], claims: &[Claim]) -> Vec<Option<usize>> {
    let mut matching = Matching::new(required, claims);
    let all = RuleSet::from_iter(0..required.len());
    matching.fill(all);
    if !matching.all_met() && required.len() <= EXACT_SEARCH_RULES {
        if let Some(best) = matching.best_subset() {
            matching = Matching::new(required, claims);
            matching.fill(best);
            matching.fill(all);
        }
    }
    matching.place_surplus();
    matching.rule_of
}

struct Matching<'a> {
    /// Each rule's required approvals.
    capacity: &'a [u32],
    claims: &'a [Claim],
    rule_of: Vec<Option<usize>>,
    load: Vec<usize>,
}

impl<'a> Matching<'a> {
    fn new(capacity: &'a [u32], claims: &'a [Claim]) -> Self {
        let rule_of = claims.iter().map(|claim| claim.pinned).collect();
        Self::resume(capacity, claims, rule_of)
    }

    /// A matching that starts from an earlier placement of `claims`.
    fn resume(capacity: &'a [u32], claims: &'a [Claim], rule_of: Vec<Option<usize>>) -> Self {
        let load = loads(capacity.len(), &rule_of);
        Self { capacity, claims, rule_of, load }
    }

    /// How many approvals `rule` holds and how many it needs (none and none
    /// past the last rule).
    fn load_and_need(&self, rule: usize) -> (usize, usize) {
        (self.load.get(rule).copied().unwrap_or(0), self.capacity.get(rule).map_or(0, |need| *need as usize))
    }

    fn is_full(&self, rule: usize) -> bool {
        let (load, need) = self.load_and_need(rule);
        load >= need
    }

    /// Whether `rule` holds more than it needs (a pinned approval can put
    /// it there).
    fn is_over(&self, rule: usize) -> bool {
        let (load, need) = self.load_and_need(rule);
        load > need
    }

    fn all_met(&self) -> bool {
        (0..self.capacity.len()).all(|rule| self.is_full(rule))
    }

    fn met(&self) -> usize {
        (0..self.capacity.len()).filter(|rule| self.is_full(*rule)).count()
    }

    /// Places every free claim it can within `allowed` rules.
    fn fill(&mut self, allowed: RuleSet) {
        for claim in 0..self.claims.len() {
            if self.rule_of.get(claim).copied().flatten().is_none() {
                let mut visited = RuleSet::EMPTY;
                self.augment(claim, allowed, &mut visited);
            }
        }
    }

    /// Finds room for `claim`, moving others along an augmenting path. Rules
    /// along the path keep their load; only the last one gains, so a rule
    /// once full stays full.
    fn augment(&mut self, claim: usize, allowed: RuleSet, visited: &mut RuleSet) -> bool {
        let Some(candidates) = self.claims.get(claim).map(|c| c.rules) else { return false };
        for rule in candidates.iter().filter(|rule| allowed.contains(*rule)) {
            if visited.contains(rule) {
                continue;
            }
            visited.insert(rule);
            if !self.is_full(rule) {
                self.place(claim, rule);
                return true;
            }
            // A failed attempt leaves every placement as it was, so walking
            // the members live visits the same ones a snapshot would,
            // without allocating one.
            for other in 0..self.claims.len() {
                if self.holds_movable(rule, other) && self.augment_moving(other, allowed, visited) {
                    self.place(claim, rule);
                    return true;
                }
            }
        }
        false
    }

    fn augment_moving(&mut self, claim: usize, allowed: RuleSet, visited: &mut RuleSet) -> bool {
        let from = self.rule_of.get(claim).copied().flatten();
        self.unplace(claim);
        if self.augment(claim, allowed, visited) {
            return true;
        }
        if let Some(from) = from {
            self.place(claim, from);
        }
        false
    }

    /// Whether `claim` counts for `rule` and may be moved elsewhere.
    fn holds_movable(&self, rule: usize, claim: usize) -> bool {
        self.rule_of.get(claim) == Some(&Some(rule)) && self.claims.get(claim).is_some_and(|c| c.pinned.is_none())
    }

    fn place(&mut self, claim: usize, rule: usize) {
        if let (Some(slot), Some(load)) = (self.rule_of.get_mut(claim), self.load.get_mut(rule)) {
            *slot = Some(rule);
            *load += 1;
        }
    }

    fn unplace(&mut self, claim: usize) {
        if let Some(rule) = self.rule_of.get_mut(claim).and_then(Option::take) {
            if let Some(load) = self.load.get_mut(rule) {
                *load -= 1;
            }
        }
    }

    /// The largest set of rules that can be met together, larger than what
    /// the plain matching met; ties go to the set listed first.
    fn best_subset(&self) -> Option<RuleSet> {
        let rules = self.capacity.len();
        let met_now = self.met();
        let hall = Hall::new(self.capacity, self.claims);
        let mut subsets: Vec<u64> = (0..(1u64 << rules)).collect();
        subsets.sort_by_key(|mask| std::cmp::Reverse(mask.count_ones()));
        let best = subsets.into_iter().find(|mask| mask.count_ones() as usize > met_now && hall.can_meet(*mask))?;
        Some(RuleSet::from_iter((0..rules).filter(|rule| best >> rule & 1 == 1)))
    }

    fn place_surplus(&mut self) {
        for claim in 0..self.claims.len() {
            let unplaced = self.rule_of.get(claim).is_some_and(Option::is_none);
            let first = self.claims.get(claim).and_then(|c| c.rules.iter().next());
            if let (true, Some(rule)) = (unplaced, first) {
                self.place(claim, rule);
            }
        }
    }
}

/// Whether a set of rules can be met together, by Hall's condition rather
/// than by building a matching for each set: the free approvals can fill
/// what the pinned ones leave of every rule in `T` exactly when, for every
/// `S` within `T`, the approvals matching some rule of `S` are at least
/// what `S` still needs. Approvals are counted once per distinct rule set,
/// so one check costs 2^|T| sums whatever the number of approvals.
struct Hall {
    /// What each rule still needs after its pinned approvals.
    need: Vec<u64>,
    /// For each set of rules (as a mask), how many free approvals match at
    /// least one of them.
    reach: Vec<u64>,
}

impl Hall {
    fn new(capacity: &[u32], claims: &[Claim]) -> Self {
        let rules = capacity.len();
        let pinned = loads(rules, &claims.iter().map(|claim| claim.pinned).collect::<Vec<_>>());
        let need =
            capacity.iter().zip(pinned).map(|(need, held)| u64::from(*need).saturating_sub(held as u64)).collect();
        let mut kinds: Vec<(u64, u64)> = Vec::new();
        for claim in claims.iter().filter(|claim| claim.pinned.is_none()) {
            let mask = claim.rules.iter().fold(0u64, |mask, rule| mask | 1 << rule);
            match kinds.iter_mut().find(|(kind, _)| *kind == mask) {
                Some((_, count)) => *count += 1,
                None => kinds.push((mask, 1)),
            }
        }
        let reach = (0..1u64 << rules)
            .map(|set| kinds.iter().filter(|(kind, _)| kind & set != 0).map(|(_, count)| count).sum())
            .collect();
        Self { need, reach }
    }

    /// Whether every rule in `set` can be met at once.
    fn can_meet(&self, set: u64) -> bool {
        // Every non-empty subset of `set`, by the usual submask walk.
        let mut subset = set;
        while subset != 0 {
            let needed: u64 =
                self.need.iter().enumerate().filter(|(rule, _)| subset >> rule & 1 == 1).map(|(_, n)| n).sum();
            if needed > self.reach.get(subset as usize).copied().unwrap_or(0) {
                return false;
            }
            subset = (subset - 1) & set;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(rules: &[usize]) -> Claim {
        Claim { rules: rules.iter().copied().collect(), pinned: None }
    }

    #[test]
    fn moves_an_approval_to_meet_every_rule() {
        // x matches A and B, y only A. First-fit would put x in A and leave
        // B unmet; the matching moves x to B.
        let placed = assign(&[1, 1], &[claim(&[0, 1]), claim(&[0])]);
        assert_eq!(placed, vec![Some(1), Some(0)]);
    }

    #[test]
    fn meets_the_most_rules_when_not_all_can_be_met() {
        // A needs 2, B needs 1, C needs 1. x: A,B; y: A,C. Max flow alone may
        // fill A with both; the search meets B and C instead (two rules).
        let placed = assign(&[2, 1, 1], &[claim(&[0, 1]), claim(&[0, 2])]);
        let met_b = placed.contains(&Some(1));
        let met_c = placed.contains(&Some(2));
        assert!(met_b && met_c, "{placed:?}");
    }

    #[test]
    fn pinned_approvals_stay_where_pinned() {
        let pinned = Claim { rules: [0, 1].into_iter().collect(), pinned: Some(0) };
        let placed = assign(&[1, 1], &[pinned, claim(&[0, 1])]);
        assert_eq!(placed, vec![Some(0), Some(1)]);
    }

    #[test]
    fn extending_one_claim_at_a_time_keeps_a_maximum_matching() {
        // x: A,B; y: A. Adding y must move x from A to B.
        let claims = [claim(&[0, 1]), claim(&[0])];
        let mut matched = Vec::new();
        extend(&[1, 1], &claims[..1], &mut matched);
        assert_eq!(matched, vec![Some(0)]);
        extend(&[1, 1], &claims, &mut matched);
        assert_eq!(loads(2, &matched), vec![1, 1]);
    }

    #[test]
    fn a_pinned_approval_moves_an_unpinned_one_out_of_its_rule() {
        // An admin matching both rules sits in A; u2 pinned to A pushes the
        // admin on to B, and both rules are met.
        let pinned = Claim { rules: [0].into_iter().collect(), pinned: Some(0) };
        let claims = [claim(&[0, 1]), pinned];
        let mut matched = Vec::new();
        extend(&[1, 1], &claims[..1], &mut matched);
        extend(&[1, 1], &claims, &mut matched);
        assert_eq!(matched, vec![Some(1), Some(0)]);
    }

    proptest::proptest! {
        /// Hall's condition answers exactly as building the matching would.
        #[test]
        fn halls_condition_agrees_with_a_matching_for_every_set_of_rules(
            capacity in proptest::collection::vec(1u32..4, 1..5),
            raw in proptest::collection::vec((1u64..32, proptest::option::of(0usize..5)), 0..12),
        ) {
            let rules = capacity.len();
            let claims: Vec<Claim> = raw
                .iter()
                .filter_map(|(mask, pin)| {
                    let set: RuleSet = (0..rules).filter(|rule| mask >> rule & 1 == 1).collect();
                    let pinned = pin.filter(|rule| set.contains(*rule));
                    (set != RuleSet::EMPTY).then_some(Claim { rules: set, pinned })
                })
                .collect();
            let hall = Hall::new(&capacity, &claims);
            for mask in 0..1u64 << rules {
                let set: RuleSet = (0..rules).filter(|rule| mask >> rule & 1 == 1).collect();
                let mut trial = Matching::new(&capacity, &claims);
                trial.fill(set);
                let matched = set.iter().all(|rule| trial.is_full(rule));
                proptest::prop_assert_eq!(hall.can_meet(mask), matched, "rules {:?}", set);
            }
        }
    }

    #[test]
    fn surplus_counts_for_its_first_rule() {
        let placed = assign(&[1], &[claim(&[0]), claim(&[0])]);
        assert_eq!(placed, vec![Some(0), Some(0)]);
    }
}
