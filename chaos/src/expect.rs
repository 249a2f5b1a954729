//! What a kill must lead to, from the strategy alone: the generation increments of a
//! supervisor's children after some of them were killed at once.
//!
//! The supervisor handles the exits one at a time, in an order the harness cannot see. An
//! exit report is *current* if the child was not restarted since it was killed; a stale one
//! is ignored. So:
//! - `one_for_one`: every killed child is restarted once;
//! - `one_for_all`: the first report restarts everyone; the others are stale: all +1;
//! - `rest_for_one`: the report of child `j` restarts `j..len`, making later children's
//!   reports stale. The reports that count are the left-to-right minima of the arrival order:
//!   any subset `S` of the killed children that holds the first of them. Child `i` then goes
//!   up by the number of members of `S` at or before it.
//!
//! Each counted report is one restart for the supervisor's intensity.

use std::collections::BTreeSet;

use crate::tree::Strategy;

/// One possible result of a kill event under one supervisor.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Outcome {
    /// Generation increment of each child, in start order.
    pub deltas: Vec<u64>,
    /// Restarts the supervisor counts towards its intensity.
    pub records: u32,
}

/// Every outcome the strategy allows when the children at positions `killed` (of `len`)
/// die together. Empty if `killed` is empty.
pub fn outcomes(strategy: Strategy, len: usize, killed: &BTreeSet<usize>) -> Vec<Outcome> {
    let Some(&first) = killed.first() else {
        return Vec::new();
    };
    match strategy {
        Strategy::OneForOne => vec![Outcome {
            deltas: (0..len).map(|i| u64::from(killed.contains(&i))).collect(),
            records: killed.len() as u32,
        }],
        Strategy::OneForAll => vec![Outcome {
            deltas: vec![1; len],
            records: 1,
        }],
        Strategy::RestForOne => {
            let others: Vec<usize> = killed.iter().copied().filter(|&k| k != first).collect();
            let mut all = Vec::new();
            for mask in 0u64..(1 << others.len()) {
                let counted: Vec<usize> = std::iter::once(first)
                    .chain(
                        (0..others.len())
                            .filter(|b| mask & (1 << b) != 0)
                            .map(|b| others[b]),
                    )
                    .collect();
                let deltas = (0..len)
                    .map(|i| counted.iter().filter(|&&s| s <= i).count() as u64)
                    .collect();
                all.push(Outcome {
                    deltas,
                    records: counted.len() as u32,
                });
            }
            all
        }
    }
}

/// The largest number of killed children under one supervisor the model enumerates
/// (`rest_for_one` has `2^(n-1)` outcomes).
pub const MAX_GROUP: usize = 16;

#[cfg(test)]
mod tests {
    use super::*;

    /// The supervisor as the root runs it: reports in `order`, stale ones ignored.
    fn simulate(strategy: Strategy, len: usize, order: &[usize]) -> Outcome {
        let mut deltas = vec![0u64; len];
        let mut current: BTreeSet<usize> = order.iter().copied().collect();
        let mut records = 0;
        for &j in order {
            if !current.remove(&j) {
                continue;
            }
            records += 1;
            let restarted: Vec<usize> = match strategy {
                Strategy::OneForOne => vec![j],
                Strategy::OneForAll => (0..len).collect(),
                Strategy::RestForOne => (j..len).collect(),
            };
            for r in restarted {
                deltas[r] += 1;
                current.remove(&r);
            }
        }
        Outcome { deltas, records }
    }

    fn permutations(items: &[usize]) -> Vec<Vec<usize>> {
        if items.len() <= 1 {
            return vec![items.to_vec()];
        }
        let mut out = Vec::new();
        for i in 0..items.len() {
            let mut rest = items.to_vec();
            let head = rest.remove(i);
            for mut p in permutations(&rest) {
                p.insert(0, head);
                out.push(p);
            }
        }
        out
    }

    /// The closed forms above are exactly what every arrival order can produce.
    #[test]
    fn outcomes_are_the_results_of_every_arrival_order() {
        for strategy in [
            Strategy::OneForOne,
            Strategy::OneForAll,
            Strategy::RestForOne,
        ] {
            for len in 1..=6usize {
                for mask in 1u32..(1 << len) {
                    let killed: BTreeSet<usize> =
                        (0..len).filter(|i| mask & (1 << i) != 0).collect();
                    let list: Vec<usize> = killed.iter().copied().collect();
                    let simulated: BTreeSet<Outcome> = permutations(&list)
                        .iter()
                        .map(|order| simulate(strategy, len, order))
                        .collect();
                    let modelled: BTreeSet<Outcome> =
                        outcomes(strategy, len, &killed).into_iter().collect();
                    assert_eq!(
                        modelled, simulated,
                        "{strategy:?} len {len} killed {killed:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_single_kill_restarts_what_the_strategy_names() {
        let one = BTreeSet::from([1]);
        let deltas = |s| {
            outcomes(s, 4, &one)
                .into_iter()
                .map(|o| o.deltas)
                .collect::<Vec<_>>()
        };
        assert_eq!(deltas(Strategy::OneForOne), vec![vec![0, 1, 0, 0]]);
        assert_eq!(deltas(Strategy::RestForOne), vec![vec![0, 1, 1, 1]]);
        assert_eq!(deltas(Strategy::OneForAll), vec![vec![1, 1, 1, 1]]);
    }
}
