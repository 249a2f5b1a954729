//! Glob patterns over relative paths: `*` and `?` within one name, `**` for any number of
//! directories. A wildcard never matches a leading `.` of a name (as in a shell), so
//! hidden files and directories are only matched by a pattern part that starts with `.`.

use std::path::{Component, Path, PathBuf};

use super::super::ToolError;

/// One part of a pattern between slashes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// `**`: any number of names, none hidden.
    Any,
    /// A name, with `*` and `?` wildcards.
    Name(String),
}

/// A parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    parts: Vec<Part>,
}

impl Pattern {
    /// Parses `raw`; absolute patterns and `..` are refused like paths.
    pub(crate) fn parse(raw: &str) -> Result<Pattern, ToolError> {
        let mut parts: Vec<Part> = Vec::new();
        for component in Path::new(raw).components() {
            match component {
                Component::CurDir => {}
                Component::ParentDir => return Err(ToolError::Escapes(raw.to_owned())),
                Component::RootDir | Component::Prefix(_) => {
                    return Err(ToolError::Absolute(raw.to_owned()));
                }
                Component::Normal(name) => {
                    let name = name.to_string_lossy();
                    if name == "**" {
                        if parts.last() != Some(&Part::Any) {
                            parts.push(Part::Any);
                        }
                    } else {
                        parts.push(Part::Name(name.into_owned()));
                    }
                }
            }
        }
        if parts.is_empty() {
            return Err(ToolError::Arguments("the pattern is empty".into()));
        }
        Ok(Pattern { parts })
    }

    /// The directory every match lies in: the leading parts without wildcards (never the
    /// last part).
    pub(crate) fn base(&self) -> PathBuf {
        let literal = |p: &&Part| matches!(p, Part::Name(n) if !n.contains(['*', '?']));
        self.parts[..self.parts.len() - 1]
            .iter()
            .take_while(literal)
            .map(|p| match p {
                Part::Name(n) => n.as_str(),
                Part::Any => "",
            })
            .collect()
    }

    /// Whether `path` (names, relative to the pod's directory) matches.
    pub(crate) fn matches(&self, path: &[&str]) -> bool {
        matches(&self.parts, path)
    }

    /// Whether something strictly below the directory `path` could match.
    pub(crate) fn may_match_below(&self, path: &[&str]) -> bool {
        below(&self.parts, path)
    }
}

fn matches(parts: &[Part], path: &[&str]) -> bool {
    match (parts.split_first(), path.split_first()) {
        (None, _) => path.is_empty(),
        (Some((Part::Any, rest)), _) => {
            matches(rest, path)
                || path
                    .split_first()
                    .is_some_and(|(name, tail)| !name.starts_with('.') && matches(parts, tail))
        }
        (Some((Part::Name(p), rest)), Some((name, tail))) => {
            name_matches(p, name) && matches(rest, tail)
        }
        (Some((Part::Name(_), _)), None) => false,
    }
}

fn below(parts: &[Part], path: &[&str]) -> bool {
    match (parts.split_first(), path.split_first()) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some((Part::Any, rest)), Some((name, tail))) => {
            below(rest, path) || (!name.starts_with('.') && below(parts, tail))
        }
        (Some((Part::Name(p), rest)), Some((name, tail))) => {
            name_matches(p, name) && below(rest, tail)
        }
    }
}

/// Whether one name matches one pattern part (`*` any run, `?` one character).
fn name_matches(pattern: &str, name: &str) -> bool {
    if name.starts_with('.') && !pattern.starts_with('.') {
        return false;
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests;
