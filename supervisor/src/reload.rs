//! Reload by diff: what changes between the running tree and a new tree file, as a plan an
//! operator can read (`ctl reload --dry-run`) and each supervisor can apply.
//!
//! Only what changed is restarted: a child whose spec (kind, engine, argv, env, cwd,
//! restart, shutdown, start deadline, user and limits, scope) differs is restarted the way its supervisor's
//! strategy restarts a crashed child — alone under one_for_one, with the children after
//! it under rest_for_one, with all siblings under one_for_all — but without counting
//! towards the restart intensity. A nested supervisor whose own children changed is not
//! restarted: the diff goes down into it. Policy changes (strategy, intensity, backoff,
//! start) apply in place.

use std::fmt;

use podsup_config::{ChildKind, ChildSpec, SupervisorSpec};

/// One child's change.
#[derive(Debug, Clone, PartialEq)]
pub enum ChildChange {
    /// New in the tree file; started at its position.
    Added {
        /// Its name.
        name: String,
    },
    /// Gone from the tree file; stopped and forgotten.
    Removed {
        /// Its name.
        name: String,
    },
    /// Its spec changed: restarted per strategy.
    Changed {
        /// Its name.
        name: String,
        /// Which settings changed.
        what: Vec<&'static str>,
    },
    /// A nested supervisor whose children or policy changed.
    Nested(SupPlan),
}

/// What changes under one supervisor.
#[derive(Debug, Clone, PartialEq)]
pub struct SupPlan {
    /// The supervisor's name.
    pub name: String,
    /// Policy settings that changed (applied in place).
    pub policy: Vec<&'static str>,
    /// The new start order, when children that stay were reordered (applied in place;
    /// nothing restarts for it, but it is the order of later starts, stops and
    /// rest_for_one restarts).
    pub order: Option<Vec<String>>,
    /// Child changes, removals first, then in the new start order.
    pub children: Vec<ChildChange>,
}

impl SupPlan {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.policy.is_empty() && self.children.is_empty() && self.order.is_none()
    }
}

fn policy_changes(old: &SupervisorSpec, new: &SupervisorSpec) -> Vec<&'static str> {
    let mut what = Vec::new();
    if old.strategy != new.strategy {
        what.push("strategy");
    }
    if old.intensity != new.intensity {
        what.push("intensity");
    }
    if old.backoff != new.backoff {
        what.push("backoff");
    }
    if old.start != new.start {
        what.push("start");
    }
    what
}

/// What differs between two specs of the same child, ignoring a nested supervisor's own
/// children (diffed separately) and its derived start deadline.
pub fn child_changes(old: &ChildSpec, new: &ChildSpec) -> Vec<&'static str> {
    let timeout = old.start_timeout != new.start_timeout;
    // (changed, setting) in the order the plan names them.
    let checks: Vec<(bool, &'static str)> = match (&old.kind, &new.kind) {
        (ChildKind::Pod(a), ChildKind::Pod(b)) => vec![
            (timeout, "start_timeout"),
            (a.engine != b.engine, "engine"),
            (a.env != b.env, "env"),
            (a.cwd != b.cwd, "cwd"),
            (a.scope != b.scope, "scope"),
            (a.on_spawner_exit != b.on_spawner_exit, "on_spawner_exit"),
        ],
        (ChildKind::Process(a), ChildKind::Process(b)) => vec![
            (timeout, "start_timeout"),
            (a.argv != b.argv || a.program != b.program, "argv"),
            (a.env != b.env, "env"),
            (a.cwd != b.cwd, "cwd"),
        ],
        (ChildKind::Supervisor(_), ChildKind::Supervisor(_)) => Vec::new(),
        (ChildKind::Pod(_) | ChildKind::Process(_) | ChildKind::Supervisor(_), _) => {
            vec![(true, "kind")]
        }
    };
    [
        (old.restart != new.restart, "restart"),
        (old.shutdown != new.shutdown, "shutdown"),
        (old.limits != new.limits, "limits"),
    ]
    .into_iter()
    .chain(checks)
    .filter_map(|(changed, setting)| changed.then_some(setting))
    .collect()
}

/// The plan that turns `old` into `new` under the supervisor called `name`.
pub fn diff(name: &str, old: &SupervisorSpec, new: &SupervisorSpec) -> SupPlan {
    let mut children = Vec::new();
    for o in &old.children {
        if !new.children.iter().any(|n| n.name == o.name) {
            children.push(ChildChange::Removed {
                name: o.name.to_string(),
            });
        }
    }
    for n in &new.children {
        let name = n.name.to_string();
        let Some(o) = old.children.iter().find(|o| o.name == n.name) else {
            children.push(ChildChange::Added { name });
            continue;
        };
        let what = child_changes(o, n);
        if !what.is_empty() {
            children.push(ChildChange::Changed { name, what });
            continue;
        }
        if let (ChildKind::Supervisor(os), ChildKind::Supervisor(ns)) = (&o.kind, &n.kind) {
            let nested = diff(&name, os, ns);
            if !nested.is_empty() {
                children.push(ChildChange::Nested(nested));
            }
        }
    }
    let kept = |from: &SupervisorSpec, other: &SupervisorSpec| -> Vec<String> {
        from.children
            .iter()
            .filter(|c| other.children.iter().any(|o| o.name == c.name))
            .map(|c| c.name.to_string())
            .collect()
    };
    let order = (kept(old, new) != kept(new, old))
        .then(|| new.children.iter().map(|c| c.name.to_string()).collect());
    SupPlan {
        name: name.to_owned(),
        policy: policy_changes(old, new),
        order,
        children,
    }
}

impl fmt::Display for SupPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return writeln!(f, "{}: no changes", self.name);
        }
        self.write(f, 0)
    }
}

impl SupPlan {
    fn write(&self, f: &mut fmt::Formatter<'_>, depth: usize) -> fmt::Result {
        let pad = "  ".repeat(depth);
        writeln!(f, "{pad}supervisor {}:", self.name)?;
        if !self.policy.is_empty() {
            writeln!(
                f,
                "{pad}  ~ policy: {} (applied in place)",
                self.policy.join(", ")
            )?;
        }
        if let Some(order) = &self.order {
            writeln!(f, "{pad}  ~ order: {} (applied in place)", order.join(", "))?;
        }
        for change in &self.children {
            match change {
                ChildChange::Added { name } => {
                    writeln!(f, "{pad}  + {name}: added, will be started")?
                }
                ChildChange::Removed { name } => {
                    writeln!(f, "{pad}  - {name}: removed, will be stopped")?
                }
                ChildChange::Changed { name, what } => writeln!(
                    f,
                    "{pad}  ~ {name}: {} changed, will be restarted per strategy",
                    what.join(", ")
                )?,
                ChildChange::Nested(plan) => plan.write(f, depth + 1)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
