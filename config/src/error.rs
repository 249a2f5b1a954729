//! Errors of loading a tree file: one [`Diagnostic`] per problem, each with its position.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

mod problem;
mod section;

pub use problem::{AccessProblem, EnvNameProblem, LlmProblem, Problem};
pub(crate) use problem::{looks_like_a_key, names_a_secret};
pub use section::Section;

/// Why a tree file could not be loaded.
///
/// Displays as one line per problem, `FILE:LINE:COLUMN: error: WHAT (expected …)`, ready
/// to print as is; `podsup check` and `podsup start` exit with status 2 on it.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ConfigError(#[from] ConfigErrorKind);

/// The two ways loading fails.
#[derive(Debug, thiserror::Error)]
pub enum ConfigErrorKind {
    /// The file could not be read (missing, unreadable, not UTF-8).
    #[error("{}: error: cannot read the tree file: {error}", path.display())]
    Read {
        /// The file, as given.
        path: PathBuf,
        /// What reading it reported.
        error: io::Error,
    },
    /// The file was read and breaks at least one rule.
    #[error("{}", Listing { path, diagnostics })]
    Invalid {
        /// The file, as given.
        path: PathBuf,
        /// Every problem found, in file order; never empty.
        diagnostics: Vec<Diagnostic>,
    },
}

/// One problem at one place of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// 1-based line of the offending key or value.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong and what was expected, on one line.
    pub message: String,
    /// The same problem, typed.
    pub problem: Problem,
}

impl Diagnostic {
    /// A diagnostic for `problem` at `line`:`column`.
    pub fn new(line: usize, column: usize, problem: Problem) -> Diagnostic {
        Diagnostic {
            line,
            column,
            message: problem.to_string(),
            problem,
        }
    }
}

impl fmt::Display for Diagnostic {
    /// `LINE:COLUMN: error: MESSAGE`; [`ConfigError`] prefixes the file name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: error: {}", self.line, self.column, self.message)
    }
}

/// The diagnostics of one file, one per line.
struct Listing<'a> {
    path: &'a Path,
    diagnostics: &'a [Diagnostic],
}

impl fmt::Display for Listing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, diagnostic) in self.diagnostics.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{}:{diagnostic}", self.path.display())?;
        }
        Ok(())
    }
}

impl ConfigError {
    /// A read failure of `path`.
    pub(crate) fn read(path: &Path, error: io::Error) -> ConfigError {
        ConfigError(ConfigErrorKind::Read {
            path: path.to_owned(),
            error,
        })
    }

    /// Problems found in `path`; `diagnostics` must not be empty.
    pub(crate) fn invalid(path: &Path, diagnostics: Vec<Diagnostic>) -> ConfigError {
        ConfigError(ConfigErrorKind::Invalid {
            path: path.to_owned(),
            diagnostics,
        })
    }

    /// Every problem found, in file order; empty when the file could not be read.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match &self.0 {
            ConfigErrorKind::Read { .. } => &[],
            ConfigErrorKind::Invalid { diagnostics, .. } => diagnostics,
        }
    }

    /// The file the error is about, as given to [`crate::load`] or [`crate::parse`].
    pub fn path(&self) -> &Path {
        match &self.0 {
            ConfigErrorKind::Read { path, .. } | ConfigErrorKind::Invalid { path, .. } => path,
        }
    }

    /// Which way loading failed.
    pub fn kind(&self) -> &ConfigErrorKind {
        &self.0
    }
}
