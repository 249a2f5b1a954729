//! The policy enums of a supervision tree: strategy, restart type, start mode, shutdown.
//!
//! Each enum displays as the snake_case word tree.toml uses for it, and parses back from it
//! with [`FromStr`].

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::duration::format_duration;

/// A word that names no variant of a policy enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {value:?} (expected one of: {})", expected.join(", "))]
pub struct UnknownVariant {
    /// What was being parsed, such as `"strategy"`.
    pub what: &'static str,
    /// The word as written.
    pub value: String,
    /// Every accepted word.
    pub expected: &'static [&'static str],
}

/// How a supervisor reacts when one of its children exits and is to be restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// Restart only the child that exited.
    OneForOne,
    /// Stop every other child (in reverse start order), then restart all of them.
    OneForAll,
    /// Stop the children started after the one that exited, then restart it and them.
    RestForOne,
    /// OTP's `simple_one_for_one`: children are added at run time (pods spawned by pods)
    /// and each is restarted on its own. Never written in tree.toml.
    Dynamic,
}

impl Strategy {
    /// Every strategy, in declaration order.
    pub const ALL: [Strategy; 4] = [
        Strategy::OneForOne,
        Strategy::OneForAll,
        Strategy::RestForOne,
        Strategy::Dynamic,
    ];

    /// The words tree.toml accepts for `strategy`; `dynamic` is reserved for spawned pods.
    pub const IN_TREE_FILE: &'static [&'static str] =
        &["one_for_one", "one_for_all", "rest_for_one"];

    /// The snake_case word for this strategy.
    pub const fn as_str(self) -> &'static str {
        match self {
            Strategy::OneForOne => "one_for_one",
            Strategy::OneForAll => "one_for_all",
            Strategy::RestForOne => "rest_for_one",
            Strategy::Dynamic => "dynamic",
        }
    }

    /// Whether a supervisor with this strategy may start its children in parallel: only
    /// when no child's restart depends on its siblings' start order.
    pub fn allows_parallel_start(self) -> bool {
        match self {
            Strategy::OneForOne | Strategy::Dynamic => true,
            Strategy::OneForAll | Strategy::RestForOne => false,
        }
    }
}

/// Whether a child is restarted after it exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Restart {
    /// Always restarted.
    Permanent,
    /// Restarted only after an abnormal exit (a crash, a non-zero status, a signal).
    Transient,
    /// Never restarted.
    Temporary,
}

impl Restart {
    /// Every restart type, in declaration order.
    pub const ALL: [Restart; 3] = [Restart::Permanent, Restart::Transient, Restart::Temporary];

    /// The snake_case word for this restart type.
    pub const fn as_str(self) -> &'static str {
        match self {
            Restart::Permanent => "permanent",
            Restart::Transient => "transient",
            Restart::Temporary => "temporary",
        }
    }
}

/// How a supervisor starts its children.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StartMode {
    /// One after the other in file order, each waiting for the previous one to be ready,
    /// as OTP does.
    Ordered,
    /// All at once; only with [`Strategy::OneForOne`] (or [`Strategy::Dynamic`]).
    Parallel,
}

impl StartMode {
    /// Every start mode, in declaration order.
    pub const ALL: [StartMode; 2] = [StartMode::Ordered, StartMode::Parallel];

    /// The snake_case word for this start mode.
    pub const fn as_str(self) -> &'static str {
        match self {
            StartMode::Ordered => "ordered",
            StartMode::Parallel => "parallel",
        }
    }
}

/// How a child is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shutdown {
    /// SIGKILL at once.
    BrutalKill,
    /// SIGTERM (or an orderly `Shutdown` for pods), then SIGKILL once this has elapsed.
    /// Never zero.
    Timeout(Duration),
}

impl Shutdown {
    /// The word tree.toml uses for [`Shutdown::BrutalKill`].
    pub const BRUTAL_KILL: &'static str = "brutal_kill";
}

/// Implements `Display` and `FromStr` for a policy enum from its `ALL` and `as_str`.
macro_rules! words {
    ($ty:ident, $what:literal) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = UnknownVariant;

            fn from_str(s: &str) -> Result<$ty, UnknownVariant> {
                const WORDS: &[&str] = &{
                    let mut words = [""; $ty::ALL.len()];
                    let mut i = 0;
                    while i < words.len() {
                        words[i] = $ty::ALL[i].as_str();
                        i += 1;
                    }
                    words
                };
                $ty::ALL
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| UnknownVariant {
                        what: $what,
                        value: s.to_owned(),
                        expected: WORDS,
                    })
            }
        }
    };
}

words!(Strategy, "strategy");
words!(Restart, "restart");
words!(StartMode, "start");

impl fmt::Display for Shutdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shutdown::BrutalKill => f.write_str(Shutdown::BRUTAL_KILL),
            Shutdown::Timeout(grace) => f.write_str(&format_duration(*grace)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        for s in Strategy::ALL {
            assert_eq!(s.to_string().parse::<Strategy>(), Ok(s));
        }
        for r in Restart::ALL {
            assert_eq!(r.to_string().parse::<Restart>(), Ok(r));
        }
        for m in StartMode::ALL {
            assert_eq!(m.to_string().parse::<StartMode>(), Ok(m));
        }
    }

    #[test]
    fn unknown_word_lists_the_valid_ones() {
        let err = "one_for_two".parse::<Strategy>().expect_err("invalid");
        assert_eq!(
            err.to_string(),
            "invalid strategy \"one_for_two\" (expected one of: one_for_one, one_for_all, \
             rest_for_one, dynamic)"
        );
    }

    #[test]
    fn shutdown_displays_as_written() {
        assert_eq!(Shutdown::BrutalKill.to_string(), "brutal_kill");
        assert_eq!(Shutdown::Timeout(Duration::from_secs(5)).to_string(), "5s");
    }
}
