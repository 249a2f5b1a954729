//! Problems with who a child runs as (`user`, `group`) and what a pod may touch (`scope`,
//! `deny`).

use crate::scope::PathError;

/// One problem with a child's identity or a pod's scope. Each message names the key and
/// ends with what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessProblem {
    /// `user` names no user of this system.
    #[error("unknown user {user:?} (expected the name of a user of this system, like \"nobody\")")]
    UnknownUser {
        /// The name as written.
        user: String,
    },
    /// `group` names no group of this system.
    #[error(
        "unknown group {group:?} (expected the name of a group of this system, like \"nogroup\"; leave group out for the user's own)"
    )]
    UnknownGroup {
        /// The name as written.
        group: String,
    },
    /// The user or group database could not be read.
    #[error(
        "cannot look up {key} {name:?}: {reason} (expected a readable user and group database)"
    )]
    LookupFailed {
        /// `user` or `group`.
        key: &'static str,
        /// The name as written.
        name: String,
        /// What the lookup reported.
        reason: String,
    },
    /// `group` without `user`.
    #[error(
        "group {group:?} is set without user (expected user = \"NAME\" as well: group only chooses the group a user runs with)"
    )]
    GroupWithoutUser {
        /// The group as written.
        group: String,
    },
    /// A `scope` or `deny` target that is absolute or leaves the working directory.
    #[error(
        "invalid {key} {value:?}: {reason} (expected a path relative to the pod's working directory, like \"src\")"
    )]
    BadTarget {
        /// The key, like `scope[0].target`.
        key: String,
        /// The path as written.
        value: String,
        /// Why it cannot be a target.
        reason: PathError,
    },
}
