//! tree.toml → a validated supervision spec.
//!
//! [`load`] reads a tree file and [`parse`] decodes one already in memory. Either returns a
//! [`Tree`] whose types cannot hold invalid values (names are [`Name`]s, durations are
//! [`std::time::Duration`]s, programs are resolved executables, and so on), or a
//! [`ConfigError`] listing every problem of the file as `FILE:LINE:COLUMN: error: …`.
//! The file format is documented key by key in this crate's `README.md`;
//! `examples/tree.toml` at the repository root is a commented example.
//!
//! Loading checks the system as it is when loading: `cwd` directories must exist, programs
//! must be executable and users and groups must exist, so a tree that loads can be started.

#![warn(missing_docs)]

use std::path::Path;

mod decode;
pub mod defaults;
pub mod duration;
mod error;
mod llm;
mod name;
mod policy;
pub mod scope;
pub mod size;
mod spec;
mod tree;

pub use duration::{DurationError, format_duration, parse_duration};
pub use error::{
    AccessProblem, ConfigError, ConfigErrorKind, Diagnostic, EnvNameProblem, LlmProblem, Problem,
    Section,
};
pub use llm::{ApiKey, LlmScheme, LlmSpec};
pub use name::{MAX_NAME_LEN, Name, NameError};
pub use policy::{Restart, Shutdown, StartMode, Strategy, UnknownVariant};
pub use size::{SizeError, format_size, parse_size};
pub use spec::{
    Backoff, ChildKind, ChildSpec, Fsync, Intensity, Limits, LogSpec, OnSpawnerExit, PodSpec,
    ProcessSpec, RunAs, SupervisorSpec, Tree,
};
pub use tree::Walk;

/// Reads and decodes the tree file at `path`.
pub fn load(path: &Path) -> Result<Tree, ConfigError> {
    let source = std::fs::read_to_string(path).map_err(|error| ConfigError::read(path, error))?;
    parse(&source, path)
}

/// Decodes `source` as a tree file. `path` names the file in messages and is where
/// relative `cwd` and program paths start from (its directory); it is not read.
pub fn parse(source: &str, path: &Path) -> Result<Tree, ConfigError> {
    decode::decode(source, path).map_err(|diagnostics| ConfigError::invalid(path, diagnostics))
}
