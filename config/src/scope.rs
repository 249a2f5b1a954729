//! A pod's scope: which paths (relative to its working directory) it may read or write.
//!
//! A scope is a list of allow rules and deny rules. A path is readable if an allow rule
//! covers it and no deny rule does; writable if a *write* allow rule covers it and no deny
//! rule (of either kind) does. Delegation hands part of a spawner's scope to a child: the
//! child may never get more than the spawner holds, and write on a path is exclusive — two
//! live children never both hold write on overlapping paths. While a child lives, the
//! spawner keeps read on what it delegated but loses write ([`Scope::without_write_on`]);
//! when the child is gone, recomputing from the remaining children gives it back. The
//! scope is therefore always a function of the registry, so it is exact after any crash.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One allow rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rule {
    /// Normalised relative path (`.` is the working directory itself).
    pub target: PathBuf,
    /// Write as well as read.
    pub write: bool,
    /// Everything below `target` too.
    pub recursive: bool,
}

/// One deny rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Deny {
    /// Normalised relative path.
    pub target: PathBuf,
    /// Only writing is denied (reading stays allowed).
    pub write_only: bool,
    /// Everything below `target` too.
    pub recursive: bool,
}

/// A scope.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// What is allowed.
    pub allow: Vec<Rule>,
    /// What is denied, whatever `allow` says.
    pub deny: Vec<Deny>,
}

/// A path that cannot be a scope target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// Absolute paths are never in a scope.
    #[error("{0:?} is absolute; scope paths are relative to the pod's working directory")]
    Absolute(String),
    /// `..` would leave the working directory.
    #[error("{0:?} leaves the working directory")]
    Escapes(String),
}

/// Normalises a relative path: drops `.` parts, resolves `..` inside it, refuses what is
/// absolute or climbs above the start.
pub fn normalise(path: &str) -> Result<PathBuf, PathError> {
    let mut out = PathBuf::new();
    for part in Path::new(path).components() {
        match part {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return Err(PathError::Escapes(path.to_owned()));
                }
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(PathError::Absolute(path.to_owned()));
            }
        }
    }
    Ok(out)
}

/// Whether a rule on `target` (recursive or not) covers `path`.
fn covers(target: &Path, recursive: bool, path: &Path) -> bool {
    path == target || (recursive && path.starts_with(target))
}

/// Whether two rules can touch a common path.
fn overlap(a: &Rule, b: &Rule) -> bool {
    covers(&a.target, a.recursive, &b.target) || covers(&b.target, b.recursive, &a.target)
}

/// Why a delegation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DelegationError {
    /// The spawner does not hold what it tried to give.
    #[error("{target:?} ({access}) is not in the spawner's scope")]
    NotHeld {
        /// The rule's target.
        target: PathBuf,
        /// `read` or `write`.
        access: &'static str,
    },
    /// Another live child already holds write there.
    #[error("write on {target:?} is already delegated to {holder}")]
    AlreadyDelegated {
        /// The rule's target.
        target: PathBuf,
        /// The child holding it.
        holder: String,
    },
}

impl Scope {
    fn denied(&self, path: &Path, write: bool) -> bool {
        self.deny
            .iter()
            .any(|d| covers(&d.target, d.recursive, path) && (write || !d.write_only))
    }

    /// Whether `path` (normalised, relative) may be read (`write = false`) or written.
    pub fn permits(&self, path: &Path, write: bool) -> bool {
        let allowed = self
            .allow
            .iter()
            .any(|r| covers(&r.target, r.recursive, path) && (r.write || !write));
        allowed && !self.denied(path, write)
    }

    /// Whether this scope holds all of `rule`: every path it covers with its access.
    fn holds(&self, rule: &Rule) -> bool {
        self.allow.iter().any(|r| {
            (r.write || !rule.write)
                && covers(&r.target, r.recursive, &rule.target)
                && (r.recursive || !rule.recursive)
        }) && !self.denied(&rule.target, rule.write)
    }

    /// The scope a child gets for `rules`, checked against this (the spawner's current)
    /// scope and the write rules other live children hold (`held`, with their names).
    /// The child inherits the spawner's deny rules, so it never gets more than it.
    pub fn delegate(
        &self,
        rules: &[Rule],
        held: &[(String, Rule)],
    ) -> Result<Scope, DelegationError> {
        for rule in rules {
            if !self.holds(rule) {
                return Err(DelegationError::NotHeld {
                    target: rule.target.clone(),
                    access: if rule.write { "write" } else { "read" },
                });
            }
            if !rule.write {
                continue;
            }
            if let Some((holder, _)) = held.iter().find(|(_, r)| r.write && overlap(r, rule)) {
                return Err(DelegationError::AlreadyDelegated {
                    target: rule.target.clone(),
                    holder: holder.clone(),
                });
            }
        }
        Ok(Scope {
            allow: rules.to_vec(),
            deny: self.deny.clone(),
        })
    }

    /// This scope without write on what `delegated` rules cover (read stays).
    pub fn without_write_on<'a>(&self, delegated: impl IntoIterator<Item = &'a Rule>) -> Scope {
        let mut scope = self.clone();
        for rule in delegated.into_iter().filter(|r| r.write) {
            scope.deny.push(Deny {
                target: rule.target.clone(),
                write_only: true,
                recursive: rule.recursive,
            });
        }
        scope
    }
}

#[cfg(test)]
mod tests;
