//! Every kind of problem a tree file can have, with its one-line message.

use std::path::PathBuf;

mod access;
mod llm;

pub use access::AccessProblem;
pub use llm::LlmProblem;
pub(crate) use llm::{NO_SECRETS, looks_like_a_key, names_a_secret};

use crate::duration::DurationError;
use crate::name::{MAX_NAME_LEN, Name, NameError};
use crate::policy::{Strategy, UnknownVariant};
use crate::size::SizeError;

use super::Section;

/// Why an environment variable name is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EnvNameProblem {
    /// The name is empty.
    #[error("it is empty")]
    Empty,
    /// The name contains `=`, which would end it early in the environment block.
    #[error("it contains '='")]
    ContainsEquals,
    /// The name contains a NUL character, which cannot cross `execve`.
    #[error("it contains a NUL character")]
    ContainsNul,
}

/// One problem in a tree file. The message of each names the offending key or value and
/// ends with what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The file is not valid TOML.
    #[error("invalid TOML: {message}")]
    Syntax {
        /// The TOML parser's description.
        message: String,
    },
    /// A key that is not valid where it is.
    #[error("unknown key {key:?} {section} (expected one of: {})", section.keys().join(", "))]
    UnknownKey {
        /// The key as written.
        key: String,
        /// Where it is.
        section: Section,
    },
    /// A value of the wrong TOML type.
    #[error("wrong type for {key}: found {found} (expected {expected})")]
    WrongType {
        /// The key (dotted for nested values, indexed for array items).
        key: String,
        /// The TOML type found, with an article: `"an integer"`.
        found: &'static str,
        /// What the key takes.
        expected: &'static str,
    },
    /// A required key is absent.
    #[error("missing required key {key:?} {section} (expected {expected})")]
    MissingKey {
        /// The absent key.
        key: &'static str,
        /// The table it is missing from.
        section: Section,
        /// What the key takes.
        expected: &'static str,
    },
    /// A word that is not one of the accepted ones (strategy, restart, kind, …).
    #[error(transparent)]
    InvalidChoice(#[from] UnknownVariant),
    /// `strategy = "dynamic"`.
    #[error(
        "strategy \"dynamic\" is reserved for pods spawned at run time (expected one of: {})",
        Strategy::IN_TREE_FILE.join(", ")
    )]
    DynamicStrategy,
    /// A key whose name says it would hold a secret (`api_key`, `token`, …).
    #[error(
        "key {key:?} would hold a secret: {NO_SECRETS} (expected the key's source, not its value)"
    )]
    SecretKey {
        /// The key as written.
        key: String,
    },
    /// A problem in a pod's `llm` table.
    #[error(transparent)]
    Llm(#[from] LlmProblem),
    /// A problem with who a child runs as or what a pod may touch.
    #[error(transparent)]
    Access(#[from] AccessProblem),
    /// A name already used by another node of the tree.
    #[error(
        "duplicate name {:?}: already used at line {first_line} (expected names unique in the whole tree)",
        name.as_str()
    )]
    DuplicateName {
        /// The name.
        name: Name,
        /// Line of its first use.
        first_line: usize,
    },
    /// A child called `root`.
    #[error("name \"root\" is reserved for the root supervisor (expected another name)")]
    ReservedName,
    /// A name that breaks the [`Name`] rules.
    #[error(
        "invalid name {value:?}: {reason} (expected 1 to {MAX_NAME_LEN} characters of A-Z a-z 0-9 _ . -, starting with a letter or digit)"
    )]
    BadName {
        /// The name as written.
        value: String,
        /// The rule it breaks.
        reason: NameError,
    },
    /// A string that is not a duration.
    #[error(
        "invalid duration {value:?} for {key}: {reason} (expected a number and a unit, like \"500ms\", \"10s\", \"2m\" or \"1m30s\")"
    )]
    BadDuration {
        /// The key.
        key: String,
        /// The string as written.
        value: String,
        /// What is wrong with it.
        reason: DurationError,
    },
    /// A string that is not a size.
    #[error(
        "invalid size {value:?} for {key}: {reason} (expected a whole number and a unit, like \"512KiB\", \"10MiB\" or \"1GiB\")"
    )]
    BadSize {
        /// The key.
        key: String,
        /// The string as written.
        value: String,
        /// What is wrong with it.
        reason: SizeError,
    },
    /// A zero size where something must fit.
    #[error("{key} must be larger than zero (expected a size like \"10MiB\")")]
    ZeroSize {
        /// The key.
        key: String,
    },
    /// A zero duration where time must pass.
    #[error("{key} must be longer than zero (expected {expected})")]
    ZeroDuration {
        /// The key.
        key: String,
        /// What the key takes instead.
        expected: &'static str,
    },
    /// An integer outside its range.
    #[error("{key} = {value} is out of range (expected an integer from {min} to {max})")]
    OutOfRange {
        /// The key.
        key: String,
        /// The integer as written.
        value: String,
        /// Smallest accepted value.
        min: u64,
        /// Largest accepted value.
        max: u64,
    },
    /// An empty `argv`.
    #[error("{key} is empty (expected a program and its arguments, like [\"sleep\", \"60\"])")]
    EmptyArgv {
        /// `argv` or `command.argv`.
        key: &'static str,
    },
    /// A bare program name found in no `PATH` directory.
    #[error(
        "{key}[0] {program:?} not found in PATH (expected a program in one of the PATH directories, or a path containing '/')"
    )]
    ProgramNotInPath {
        /// `argv` or `command.argv`.
        key: &'static str,
        /// `argv[0]` as written.
        program: String,
    },
    /// A program path that does not exist.
    #[error("{key}[0] {program:?} not found: {} does not exist (expected an executable file; relative paths start at cwd, or the tree file's directory)", path.display())]
    ProgramMissing {
        /// `argv` or `command.argv`.
        key: &'static str,
        /// `argv[0]` as written.
        program: String,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// A program that exists but cannot be executed.
    #[error("{key}[0] {program:?} is not executable: {} (expected a file with execute permission)", path.display())]
    NotExecutable {
        /// `argv` or `command.argv`.
        key: &'static str,
        /// `argv[0]` as written.
        program: String,
        /// The file found.
        path: PathBuf,
    },
    /// `start = "parallel"` under a strategy that restarts siblings together.
    #[error(
        "start = \"parallel\" is not allowed with strategy {strategy} (expected start = \"ordered\", or strategy = \"one_for_one\")"
    )]
    ParallelStart {
        /// The supervisor's strategy.
        strategy: Strategy,
    },
    /// `backoff.max` shorter than `backoff.initial`.
    #[error("backoff max {max} is shorter than initial {initial} (expected max >= initial)")]
    BackoffMaxBelowInitial {
        /// `max`, formatted.
        max: String,
        /// `initial`, formatted.
        initial: String,
    },
    /// A `backoff.multiplier` below 1.0, infinite or NaN.
    #[error("backoff multiplier {value} is invalid (expected a finite number of at least 1.0)")]
    BadMultiplier {
        /// The number as written.
        value: String,
    },
    /// A `cwd` that does not exist.
    #[error("cwd {value:?} does not exist: {} (expected an existing directory; relative paths start at the tree file's directory)", path.display())]
    CwdMissing {
        /// `cwd` as written.
        value: String,
        /// The resolved path.
        path: PathBuf,
    },
    /// A `cwd` that is not a directory.
    #[error("cwd {value:?} is not a directory: {} (expected an existing directory)", path.display())]
    CwdNotDirectory {
        /// `cwd` as written.
        value: String,
        /// The resolved path.
        path: PathBuf,
    },
    /// An `env` name that cannot be an environment variable.
    #[error(
        "invalid environment variable name {name:?}: {reason} (expected a non-empty name without '=' or NUL)"
    )]
    BadEnvName {
        /// The name as written.
        name: String,
        /// The rule it breaks.
        reason: EnvNameProblem,
    },
    /// An `env` value with a NUL character.
    #[error("environment variable {name:?} contains a NUL character (expected text without NUL)")]
    BadEnvValue {
        /// The variable's name.
        name: String,
    },
    /// An engine settings table that the chosen engine does not read.
    #[error(
        "{key:?} settings do not apply to engine {engine:?} (expected engine = {key:?}, or no {key:?} table)"
    )]
    EngineSettingsMismatch {
        /// `echo`, `command` or `llm`.
        key: &'static str,
        /// The pod's engine.
        engine: &'static str,
    },
}
