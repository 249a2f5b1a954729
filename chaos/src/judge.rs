//! Judging one kill event from the root's own records: the generation and restart counts
//! of every node before and after, against what the strategy ([`crate::expect`]) or, when
//! the supervisor gave up, the intensity requires.

use std::collections::BTreeSet;
use std::time::Instant;

use crate::expect::{Outcome, outcomes};
use crate::intensity::Intensities;
use crate::report::{Invariant, Violation};
use crate::status::Snapshot;
use crate::tree::Model;

/// Pods and processes killed together, all children of one supervisor.
#[derive(Debug, Clone)]
pub struct KillEvent {
    /// The supervisor (node index).
    pub sup: usize,
    /// Positions of the killed children among its children.
    pub killed: BTreeSet<usize>,
    /// When the kill was sent.
    pub at: Instant,
}

/// What the root did about a kill event, when it was right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The strategy was applied: `restarts` starts of pods and processes.
    Restarted {
        /// Sum of the generation increments of pods and processes.
        restarts: u64,
    },
    /// The supervisor gave up and its parent restarted it.
    Escalated {
        /// Sum of the generation increments of pods and processes.
        restarts: u64,
    },
}

/// The tree and the root's records around one event.
#[derive(Debug, Clone, Copy)]
pub struct Records<'a> {
    /// The tree.
    pub model: &'a Model,
    /// Settled status before the kill.
    pub before: &'a Snapshot,
    /// Settled status after it.
    pub after: &'a Snapshot,
}

fn violation(invariant: Invariant, detail: String) -> Violation {
    Violation { invariant, detail }
}

/// Checks `event` against `records` and updates the intensity counts.
pub fn judge(
    records: Records<'_>,
    event: &KillEvent,
    counts: &mut Intensities,
) -> Result<Verdict, Violation> {
    let deltas = deltas(records)?;
    let model = records.model;
    let p = event.sup;
    let strategy = model.policy(p).map(|pol| pol.strategy).ok_or_else(|| {
        violation(
            Invariant::Strategy,
            format!("{} is not a supervisor", model.nodes[p].name),
        )
    })?;
    let options = outcomes(strategy, model.nodes[p].children.len(), &event.killed);
    let restarts: u64 = model.leaf_indices().iter().map(|&i| deltas[i]).sum();
    let min_records = options.iter().map(|o| o.records).min().unwrap_or(0);
    let max_records = options.iter().map(|o| o.records).max().unwrap_or(0);
    let here = (p, event.at);
    let verdict = match (deltas[p], model.nodes[p].parent) {
        (0, _) => {
            let Some(o) = options.iter().find(|o| expected(model, p, o) == deltas) else {
                return Err(mismatch(records, event, &deltas, &options));
            };
            if counts.required(model, here, min_records) {
                return Err(violation(
                    Invariant::Intensity,
                    format!(
                        "{} restarted children though its intensity was exceeded ({} restarts more); changed: {}",
                        model.nodes[p].name,
                        min_records,
                        changed(model, &deltas)
                    ),
                ));
            }
            counts.record(p, event.at, o.records);
            Verdict::Restarted { restarts }
        }
        (1, Some(g)) => {
            escalation_fits(records, (p, g), &options, &deltas)?;
            if !counts.plausible(model, here, max_records) {
                return Err(violation(
                    Invariant::Intensity,
                    format!(
                        "{} gave up though its intensity allowed {} more restarts; changed: {}",
                        model.nodes[p].name,
                        max_records,
                        changed(model, &deltas)
                    ),
                ));
            }
            counts.reset(p);
            counts.record(g, event.at, 1);
            Verdict::Escalated { restarts }
        }
        _ => return Err(mismatch(records, event, &deltas, &options)),
    };
    // Restarted supervisors are new instances with a fresh intensity count.
    for (i, &d) in deltas.iter().enumerate() {
        if d > 0 && !model.is_leaf(i) {
            counts.reset(i);
        }
    }
    Ok(verdict)
}

/// Generation increments of every node; restarts must have grown by as much.
fn deltas(records: Records<'_>) -> Result<Vec<u64>, Violation> {
    let mut out = Vec::with_capacity(records.model.nodes.len());
    for node in &records.model.nodes {
        let (Some(b), Some(a)) = (
            records.before.get(&node.name),
            records.after.get(&node.name),
        ) else {
            return Err(violation(
                Invariant::Strategy,
                format!("{} missing from status", node.name),
            ));
        };
        let (Some(grew), Some(rs)) = (
            a.generation.checked_sub(b.generation),
            a.restarts.checked_sub(b.restarts),
        ) else {
            return Err(violation(
                Invariant::Strategy,
                format!(
                    "{}: generation or restarts went down: {b:?} → {a:?}",
                    node.name
                ),
            ));
        };
        if grew != rs {
            return Err(violation(
                Invariant::Strategy,
                format!("{}: generation +{grew} but restarts +{rs}", node.name),
            ));
        }
        out.push(grew);
    }
    Ok(out)
}

/// The increments of every node when `sup`'s children go up by `o.deltas`: each child's
/// whole subtree (a restarted supervisor starts all of its children again).
fn expected(model: &Model, sup: usize, o: &Outcome) -> Vec<u64> {
    let mut out = vec![0; model.nodes.len()];
    for (pos, &child) in model.nodes[sup].children.iter().enumerate() {
        for d in model.subtree(child) {
            out[d] = o.deltas[pos];
        }
    }
    out
}

/// `sup` gave up: its parent `g` restarted it per `g`'s strategy, and each node below
/// `sup` went up at least once and at most once more than the strategy alone allows
/// (restarts done before giving up, then the new instance's start).
fn escalation_fits(
    records: Records<'_>,
    (sup, g): (usize, usize),
    options: &[Outcome],
    deltas: &[u64],
) -> Result<(), Violation> {
    let model = records.model;
    let pos = model.position(sup).unwrap_or(0);
    let g_strategy = model.policy(g).map(|p| p.strategy);
    let g_len = model.nodes[g].children.len();
    let parent_options = g_strategy
        .map(|s| outcomes(s, g_len, &BTreeSet::from([pos])))
        .unwrap_or_default();
    let below: BTreeSet<usize> = model.subtree(sup).into_iter().skip(1).collect();
    let fits_parent = parent_options.iter().any(|o| {
        let want = expected(model, g, o);
        (0..deltas.len()).all(|i| below.contains(&i) || want[i] == deltas[i])
    });
    let fits_below = model.nodes[sup].children.iter().enumerate().all(|(i, &c)| {
        let most = options.iter().map(|o| o.deltas[i]).max().unwrap_or(0) + 1;
        model
            .subtree(c)
            .iter()
            .all(|&d| (1..=most).contains(&deltas[d]))
    });
    match fits_parent && fits_below {
        true => Ok(()),
        false => Err(violation(
            Invariant::Strategy,
            format!(
                "{} gave up but what changed does not fit: {}",
                model.nodes[sup].name,
                changed(model, deltas)
            ),
        )),
    }
}

fn mismatch(
    records: Records<'_>,
    event: &KillEvent,
    deltas: &[u64],
    options: &[Outcome],
) -> Violation {
    let model = records.model;
    let sup = &model.nodes[event.sup];
    let killed: Vec<&str> = event
        .killed
        .iter()
        .map(|&pos| model.nodes[sup.children[pos]].name.as_str())
        .collect();
    let allowed: Vec<String> = options
        .iter()
        .take(3)
        .map(|o| changed(model, &expected(model, event.sup, o)))
        .collect();
    violation(
        Invariant::Strategy,
        format!(
            "killed {killed:?} under {}: changed {}; the strategy allows {}{}",
            sup.name,
            changed(model, deltas),
            allowed.join(" or "),
            if options.len() > 3 { " or …" } else { "" }
        ),
    )
}

/// `[a+1, b+2]`: the nodes whose generation changed.
fn changed(model: &Model, deltas: &[u64]) -> String {
    let list: Vec<String> = deltas
        .iter()
        .enumerate()
        .filter(|(_, d)| **d > 0)
        .map(|(i, d)| format!("{}+{d}", model.nodes[i].name))
        .collect();
    format!("[{}]", list.join(", "))
}

#[cfg(test)]
mod tests;
