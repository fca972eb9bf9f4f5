//! Assigning approvals to rules.
//!
//! Under once-per-gate counting each approval counts for one rule. An
//! approval pinned by `represented_as` counts where it is pinned; the others
//! are assigned by augmenting paths (a bipartite matching with rule
//! capacities), so that whenever some assignment meets every rule, this one
//! does. A gate keeps its matching in a [`Tally`] and extends it by one
//! augmenting path per approval, so reading its progress is a lookup and an
//! approval costs one path, not a matching from scratch.
//!
//! When not every rule can be met and there are few rules, explanations
//! search the subsets of rules for the largest one that can be met together.
//! Approvals beyond what any rule needs still count for the first rule they
//! match, so `approved_by` names everyone who approved.

use crate::policy::RuleSet;
use serde::{Deserialize, Serialize};

/// Up to this many rules, a gate that cannot meet every rule is searched
/// for the assignment that meets the most (2^8 sets of rules at most).
const EXACT_SEARCH_RULES: usize = 8;

/// One approval as the assignment sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Claim {
    /// The rules the approver matched.
    pub(crate) rules: RuleSet,
    /// The rule it is pinned to, if any.
    pub(crate) pinned: Option<usize>,
}

/// A maximum matching of a gate's approvals to its rules, kept up to date as
/// approvals arrive. Each rule's capacity (its required approvals) lives in
/// the policy and is passed in, so a gate does not copy it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Tally {
    /// Every approval, in the order given.
    claims: Vec<Claim>,
    /// The rule each approval counts for; `None` while it counts for none.
    rule_of: Vec<Option<usize>>,
    /// How many approvals each rule holds.
    load: Vec<usize>,
}

impl Tally {
    /// The matching of `claims`, added one at a time.
    pub(crate) fn of(capacity: &[u32], claims: impl IntoIterator<Item = Claim>) -> Self {
        let mut tally = Tally::default();
        for claim in claims {
            tally.push(capacity, claim);
        }
        tally
    }

    /// Room for `more` approvals without growing.
    pub(crate) fn reserve(&mut self, more: usize) {
        self.claims.reserve(more);
        self.rule_of.reserve(more);
    }

    /// Adds one approval. The matching of the others is maximum, so one
    /// augmenting path keeps it so.
    pub(crate) fn push(&mut self, capacity: &[u32], claim: Claim) {
        self.load.resize(capacity.len(), 0);
        self.claims.push(claim);
        self.rule_of.push(claim.pinned);
        let last = self.claims.len().saturating_sub(1);
        let mut matching = self.matching(capacity);
        let all = RuleSet::below(capacity.len());
        let mut visited = RuleSet::EMPTY;
        match claim.pinned {
            None => {
                matching.augment(last, all, &mut visited);
            }
            // A pinned approval takes its place whatever the rule holds; if
            // that overfills the rule, one approval that could count
            // elsewhere moves.
            Some(rule) => {
                matching.place_load(rule);
                if matching.is_over(rule) {
                    visited.insert(rule);
                    matching.move_one_out(rule, all, &mut visited);
                }
            }
        }
    }

    /// Whether one more approval, `claim`, would meet every rule. Read
    /// only: it asks whether an augmenting path exists rather than taking
    /// one, since a path makes exactly one more rule slot filled.
    pub(crate) fn would_meet_all(&self, capacity: &[u32], claim: Claim) -> bool {
        let view = View { capacity, tally: self };
        match view.unmet() {
            0 => true,
            1 => {
                let mut visited = RuleSet::EMPTY;
                match claim.pinned {
                    Some(rule) if !view.is_full(rule) => true,
                    Some(rule) => {
                        visited.insert(rule);
                        view.can_move_one_out(rule, &mut visited)
                    }
                    None => view.reaches_room(claim.rules, &mut visited),
                }
            }
            _ => false,
        }
    }

    /// Approvals still needed, summed over the rules. Any maximum matching
    /// leaves the same total unmet, so the one kept serves.
    pub(crate) fn unmet(&self, capacity: &[u32]) -> u64 {
        View { capacity, tally: self }.unmet()
    }

    /// The rule each approval counts for (`None`: it matches no rule),
    /// placed so that the most rules are met; for explanations.
    pub(crate) fn assignment(&self, capacity: &[u32]) -> Vec<Option<usize>> {
        let view = View { capacity, tally: self };
        let mut best = self.clone();
        if view.unmet() > 0 && capacity.len() <= EXACT_SEARCH_RULES {
            if let Some(rules) = view.larger_set_to_meet() {
                // Fill the rules of the best set first, then the rest.
                best = Tally::pinned_only(capacity, self.claims.clone());
                let mut matching = best.matching(capacity);
                matching.fill(rules);
                matching.fill(RuleSet::below(capacity.len()));
            }
        }
        best.matching(capacity).place_surplus();
        best.rule_of
    }

    /// `claims` with only the pinned ones placed, where they are pinned.
    fn pinned_only(capacity: &[u32], claims: Vec<Claim>) -> Self {
        let rule_of: Vec<_> = claims.iter().map(|claim| claim.pinned).collect();
        let load = loads(capacity.len(), &rule_of);
        Tally { claims, rule_of, load }
    }

    fn matching<'a>(&'a mut self, capacity: &'a [u32]) -> Matching<'a> {
        Matching { capacity, claims: &self.claims, rule_of: &mut self.rule_of, load: &mut self.load }
    }
}

/// How many approvals `rule` needs (none past the last rule).
fn need(capacity: &[u32], rule: usize) -> usize {
    capacity.get(rule).map_or(0, |need| *need as usize)
}

/// How many approvals each rule holds under `rule_of`.
fn loads(rules: usize, rule_of: &[Option<usize>]) -> Vec<usize> {
    let mut load = vec![0; rules];
    for rule in rule_of.iter().flatten() {
        if let Some(slot) = load.get_mut(*rule) {
            *slot += 1;
        }
    }
    load
}

/// A tally read against its rules' capacities.
#[derive(Clone, Copy)]
struct View<'a> {
    capacity: &'a [u32],
    tally: &'a Tally,
}

impl View<'_> {
    fn need(&self, rule: usize) -> usize {
        need(self.capacity, rule)
    }

    fn load(&self, rule: usize) -> usize {
        self.tally.load.get(rule).copied().unwrap_or(0)
    }

    fn is_full(&self, rule: usize) -> bool {
        self.load(rule) >= self.need(rule)
    }

    fn unmet(&self) -> u64 {
        (0..self.capacity.len()).map(|rule| self.need(rule).saturating_sub(self.load(rule)) as u64).sum()
    }

    /// The approvals counting for `rule` that are free to move.
    fn movable_in(&self, rule: usize) -> impl Iterator<Item = &Claim> {
        let placed = self.tally.claims.iter().zip(&self.tally.rule_of);
        placed.filter(move |(claim, at)| **at == Some(rule) && claim.pinned.is_none()).map(|(claim, _)| claim)
    }

    /// Whether an approval matching `rules` could be placed, moving others
    /// along an alternating path: the search `Matching::augment` makes,
    /// without the moves. The two must visit alike; the property
    /// `the_kept_tally_stays_maximum_and_looks_ahead_truly` holds them to it.
    fn reaches_room(&self, rules: RuleSet, visited: &mut RuleSet) -> bool {
        if rules.iter().any(|rule| !visited.contains(rule) && !self.is_full(rule)) {
            return true;
        }
        for rule in rules.iter() {
            if visited.contains(rule) {
                continue;
            }
            visited.insert(rule);
            if self.can_move_one_out(rule, visited) {
                return true;
            }
        }
        false
    }

    fn can_move_one_out(&self, rule: usize, visited: &mut RuleSet) -> bool {
        self.movable_in(rule).any(|claim| self.reaches_room(claim.rules, visited))
    }

    /// The largest set of rules that can be met together, if it is larger
    /// than what the tally meets now; ties go to the set listed first.
    fn larger_set_to_meet(&self) -> Option<RuleSet> {
        let rules = self.capacity.len();
        let met_now = (0..rules).filter(|rule| self.is_full(*rule)).count();
        let hall = Hall::new(self.capacity, &self.tally.claims);
        let mut sets: Vec<u64> = (0..(1u64 << rules)).collect();
        sets.sort_by_key(|mask| std::cmp::Reverse(mask.count_ones()));
        let best = sets.into_iter().find(|mask| mask.count_ones() as usize > met_now && hall.can_meet(*mask))?;
        Some(RuleSet::from_iter((0..rules).filter(|rule| best >> rule & 1 == 1)))
    }
}

/// The moves of a matching: a tally's placements, borrowed for changing.
struct Matching<'a> {
    capacity: &'a [u32],
    claims: &'a [Claim],
    rule_of: &'a mut [Option<usize>],
    load: &'a mut [usize],
}

impl Matching<'_> {
    fn is_full(&self, rule: usize) -> bool {
        let load = self.load.get(rule).copied().unwrap_or(0);
        load >= need(self.capacity, rule)
    }

    /// Whether `rule` holds more than it needs (a pinned approval can put
    /// it there).
    fn is_over(&self, rule: usize) -> bool {
        let load = self.load.get(rule).copied().unwrap_or(0);
        load > need(self.capacity, rule)
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
        // A rule with room, if any, before moving anyone: the search below
        // walks every approval of each full rule it visits.
        let room =
            candidates.iter().find(|rule| allowed.contains(*rule) && !visited.contains(*rule) && !self.is_full(*rule));
        if let Some(room) = room {
            visited.insert(room);
            self.place(claim, room);
            return true;
        }
        for rule in candidates.iter().filter(|rule| allowed.contains(*rule)) {
            if visited.contains(rule) {
                continue;
            }
            visited.insert(rule);
            // Full, as found above: a failed move changes no load.
            if self.move_one_out(rule, allowed, visited) {
                self.place(claim, rule);
                return true;
            }
        }
        false
    }

    /// Moves one movable approval out of `rule` to a rule with room.
    fn move_one_out(&mut self, rule: usize, allowed: RuleSet, visited: &mut RuleSet) -> bool {
        // A failed attempt leaves every placement as it was, so walking the
        // members live visits the same ones a snapshot would, without
        // allocating one.
        for other in 0..self.claims.len() {
            if self.holds_movable(rule, other) && self.augment_moving(other, allowed, visited) {
                return true;
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
        if let Some(slot) = self.rule_of.get_mut(claim) {
            *slot = Some(rule);
            self.place_load(rule);
        }
    }

    fn place_load(&mut self, rule: usize) {
        if let Some(load) = self.load.get_mut(rule) {
            *load += 1;
        }
    }

    fn unplace(&mut self, claim: usize) {
        if let Some(rule) = self.rule_of.get_mut(claim).and_then(Option::take) {
            if let Some(load) = self.load.get_mut(rule) {
                *load = load.saturating_sub(1);
            }
        }
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

    fn pinned(rules: &[usize], rule: usize) -> Claim {
        Claim { rules: rules.iter().copied().collect(), pinned: Some(rule) }
    }

    fn assign(capacity: &[u32], claims: &[Claim]) -> Vec<Option<usize>> {
        Tally::of(capacity, claims.iter().copied()).assignment(capacity)
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
        let placed = assign(&[1, 1], &[pinned(&[0, 1], 0), claim(&[0, 1])]);
        assert_eq!(placed, vec![Some(0), Some(1)]);
    }

    #[test]
    fn extending_one_claim_at_a_time_keeps_a_maximum_matching() {
        // x: A,B; y: A. Adding y must move x from A to B.
        let mut tally = Tally::default();
        tally.push(&[1, 1], claim(&[0, 1]));
        assert_eq!(tally.rule_of, vec![Some(0)]);
        tally.push(&[1, 1], claim(&[0]));
        assert_eq!(tally.rule_of, vec![Some(1), Some(0)]);
        assert_eq!(tally.load, vec![1, 1]);
        assert_eq!(tally.unmet(&[1, 1]), 0);
    }

    #[test]
    fn a_pinned_approval_moves_an_unpinned_one_out_of_its_rule() {
        // An admin matching both rules sits in A; u2 pinned to A pushes the
        // admin on to B, and both rules are met.
        let mut tally = Tally::default();
        tally.push(&[1, 1], claim(&[0, 1]));
        tally.push(&[1, 1], pinned(&[0], 0));
        assert_eq!(tally.rule_of, vec![Some(1), Some(0)]);
    }

    #[test]
    fn a_pinned_approval_overfills_its_rule_when_nothing_can_move() {
        let mut tally = Tally::default();
        tally.push(&[1, 1], claim(&[0]));
        tally.push(&[1, 1], pinned(&[0], 0));
        assert_eq!(tally.load, vec![2, 0]);
        assert_eq!(tally.unmet(&[1, 1]), 1);
    }

    #[test]
    fn would_meet_all_looks_ahead_without_changing_the_tally() {
        // A needs 1, B needs 1; x: A,B sits in A. y: A alone meets both
        // only by moving x to B; z: C matches nothing the gate needs.
        let capacity = [1, 1];
        let tally = Tally::of(&capacity, [claim(&[0, 1])]);
        let before = tally.clone();
        assert!(tally.would_meet_all(&capacity, claim(&[0])));
        assert!(tally.would_meet_all(&capacity, pinned(&[0], 0)));
        assert!(!tally.would_meet_all(&capacity, claim(&[2])));
        assert_eq!(tally, before);
        let blocked = Tally::of(&capacity, [pinned(&[0, 1], 0)]);
        assert!(!blocked.would_meet_all(&capacity, claim(&[0])));
        assert!(blocked.would_meet_all(&capacity, claim(&[1])));
    }

    /// Random policies of up to 4 rules and up to 12 approvals. A pin may
    /// lie outside the approval's rules or past the last rule, as a stored
    /// event from elsewhere could have it.
    fn cases() -> impl proptest::strategy::Strategy<Value = (Vec<u32>, Vec<Claim>)> {
        use proptest::prelude::*;
        (
            proptest::collection::vec(1u32..4, 1..5),
            proptest::collection::vec((1u64..32, proptest::option::of(0usize..6)), 0..12),
        )
            .prop_map(|(capacity, raw)| {
                let rules = capacity.len();
                let claims = raw
                    .iter()
                    .filter_map(|(mask, pin)| {
                        let set: RuleSet = (0..rules).filter(|rule| mask >> rule & 1 == 1).collect();
                        (set != RuleSet::EMPTY).then_some(Claim { rules: set, pinned: *pin })
                    })
                    .collect();
                (capacity, claims)
            })
    }

    /// The most approvals that can count without overfilling a rule, by
    /// trying every placement: the size of a maximum matching.
    fn most_that_count(capacity: &[u32], claims: &[Claim]) -> u64 {
        fn go(capacity: &[u32], claims: &[Claim], load: &mut Vec<u64>) -> u64 {
            let Some((first, rest)) = claims.split_first() else {
                return capacity.iter().zip(load.iter()).map(|(need, held)| (*held).min(u64::from(*need))).sum();
            };
            // A pin counts where it points, or nowhere past the last rule.
            let choices: Vec<usize> = match first.pinned {
                Some(rule) => vec![rule].into_iter().filter(|rule| *rule < capacity.len()).collect(),
                None => first.rules.iter().filter(|rule| *rule < capacity.len()).collect(),
            };
            let mut best = go(capacity, rest, load);
            for rule in choices {
                load[rule] += 1;
                best = best.max(go(capacity, rest, load));
                load[rule] -= 1;
            }
            best
        }
        go(capacity, claims, &mut vec![0; capacity.len()])
    }

    proptest::proptest! {
        /// Hall's condition answers exactly as building the matching would.
        #[test]
        fn halls_condition_agrees_with_a_matching_for_every_set_of_rules((capacity, claims) in cases()) {
            let rules = capacity.len();
            let hall = Hall::new(&capacity, &claims);
            for mask in 0..1u64 << rules {
                let set: RuleSet = (0..rules).filter(|rule| mask >> rule & 1 == 1).collect();
                let mut trial = Tally::pinned_only(&capacity, claims.clone());
                trial.matching(&capacity).fill(set);
                let view = View { capacity: &capacity, tally: &trial };
                let matched = set.iter().all(|rule| view.is_full(rule));
                proptest::prop_assert_eq!(hall.can_meet(mask), matched, "rules {:?}", set);
            }
        }

        /// The tally kept one approval at a time is a maximum matching after
        /// every approval, and its look-ahead agrees with taking the step.
        #[test]
        fn the_kept_tally_stays_maximum_and_looks_ahead_truly((capacity, claims) in cases()) {
            let total: u64 = capacity.iter().copied().map(u64::from).sum();
            let mut tally = Tally::default();
            for (index, claim) in claims.iter().enumerate() {
                let ahead = tally.would_meet_all(&capacity, *claim);
                tally.push(&capacity, *claim);
                proptest::prop_assert_eq!(ahead, tally.unmet(&capacity) == 0);
                let best = most_that_count(&capacity, &claims[..=index]);
                proptest::prop_assert_eq!(tally.unmet(&capacity), total - best);
                proptest::prop_assert_eq!(&tally.load, &loads(capacity.len(), &tally.rule_of));
            }
        }
    }

    #[test]
    fn surplus_counts_for_its_first_rule() {
        let placed = assign(&[1], &[claim(&[0]), claim(&[0])]);
        assert_eq!(placed, vec![Some(0), Some(0)]);
    }
}
