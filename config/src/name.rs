//! Validated names of tree nodes.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;

/// Longest accepted name, in characters (all of them ASCII).
pub const MAX_NAME_LEN: usize = 64;

/// The name of a supervisor, pod or process in the tree.
///
/// Invariant: 1 to [`MAX_NAME_LEN`] characters of `[A-Za-z0-9_.-]`, the first one a letter or
/// a digit. Names are safe to use as file names (session logs, state directories) and in
/// `podsup ctl` command lines without quoting.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(String);

/// Why a string is not a valid [`Name`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The string is empty.
    #[error("it is empty")]
    Empty,
    /// The string is longer than [`MAX_NAME_LEN`].
    #[error("it is {len} characters long, more than {MAX_NAME_LEN}")]
    TooLong {
        /// Length of the string, in characters.
        len: usize,
    },
    /// The first character is not an ASCII letter or digit.
    #[error("it starts with {first:?}, not a letter or digit")]
    BadStart {
        /// The offending first character.
        first: char,
    },
    /// A character outside `[A-Za-z0-9_.-]`.
    #[error("character {ch:?} at position {position} is not allowed")]
    BadChar {
        /// The offending character.
        ch: char,
        /// Its 1-based position in the string, in characters.
        position: usize,
    },
}

impl Name {
    /// The root supervisor's name. No other node may use it.
    pub const ROOT: &'static str = "root";

    /// Validates `s` as a name.
    pub fn parse(s: &str) -> Result<Name, NameError> {
        let len = s.chars().count();
        let Some(first) = s.chars().next() else {
            return Err(NameError::Empty);
        };
        if len > MAX_NAME_LEN {
            return Err(NameError::TooLong { len });
        }
        if !first.is_ascii_alphanumeric() {
            return Err(NameError::BadStart { first });
        }
        let bad = s
            .chars()
            .enumerate()
            .find(|&(_, ch)| !(ch.is_ascii_alphanumeric() || matches!(ch, '_' | '.' | '-')));
        match bad {
            Some((index, ch)) => Err(NameError::BadChar {
                ch,
                position: index + 1,
            }),
            None => Ok(Name(s.to_owned())),
        }
    }

    /// The name of a pod spawned at run time by the pod called `spawner`: `spawner/child`.
    /// Only the root makes these; a tree file cannot (`/` is not allowed there), so a
    /// spawned name never collides with a static one.
    pub fn spawned(spawner: &Name, child: &Name) -> Name {
        Name(format!("{}/{}", spawner.0, child.0))
    }

    /// The root supervisor's name, [`Name::ROOT`].
    pub fn root() -> Name {
        Name(Name::ROOT.to_owned())
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Lets maps keyed by [`Name`] be queried with a `&str`; consistent with `Eq`/`Hash`/`Ord`
/// because both compare the same string.
impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl FromStr for Name {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Name, NameError> {
        Name::parse(s)
    }
}

impl TryFrom<&str> for Name {
    type Error = NameError;

    fn try_from(s: &str) -> Result<Name, NameError> {
        Name::parse(s)
    }
}

impl From<Name> for String {
    fn from(name: Name) -> String {
        name.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_typical_names() {
        for ok in [
            "a",
            "planner",
            "worker-1",
            "v1.2_x",
            "9lives",
            &"x".repeat(64),
        ] {
            assert_eq!(Name::parse(ok).map(String::from), Ok(ok.to_owned()));
        }
    }

    #[test]
    fn rejects_each_rule() {
        assert_eq!(Name::parse(""), Err(NameError::Empty));
        assert_eq!(
            Name::parse(&"x".repeat(65)),
            Err(NameError::TooLong { len: 65 })
        );
        assert_eq!(Name::parse("-x"), Err(NameError::BadStart { first: '-' }));
        assert_eq!(
            Name::parse("a/b"),
            Err(NameError::BadChar {
                ch: '/',
                position: 2
            })
        );
        assert_eq!(
            Name::parse("ab é"),
            Err(NameError::BadChar {
                ch: ' ',
                position: 3
            })
        );
    }

    #[test]
    fn displays_and_borrows_as_the_string() {
        let name = Name::parse("fetcher").expect("valid");
        assert_eq!(name.to_string(), "fetcher");
        assert_eq!(name.as_ref(), "fetcher");
        let set: std::collections::BTreeSet<Name> = [name].into();
        assert!(set.contains("fetcher"));
    }
}
