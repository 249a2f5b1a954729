//! `argv` lists and finding the executable their first word names.

use std::ffi::OsStr;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::DeValue;

use super::ctx::Ctx;
use super::table::Table;
use crate::error::Problem;

/// What `argv` takes.
const ARGV_EXPECTED: &str = "an array of strings, like [\"sleep\", \"60\"]";

/// Where a program is looked up.
pub(super) struct Lookup<'a> {
    /// `argv` or `command.argv`, for messages.
    pub(super) key: &'static str,
    /// Directory a relative path containing `/` starts from: the child's `cwd`, else the
    /// tree file's directory.
    pub(super) dir: &'a Path,
}

/// A checked `argv` and the span of its first word.
pub(super) struct Argv {
    /// The words, at least one, none containing NUL.
    pub(super) words: Vec<String>,
    /// Where `argv[0]` is written.
    pub(super) first_span: Range<usize>,
}

/// The `argv` key of `table`, labelled `key` in messages; `None` if absent or reported.
pub(super) fn argv(ctx: &mut Ctx<'_>, table: &Table<'_, '_>, key: &'static str) -> Option<Argv> {
    let value = table.get("argv")?;
    let DeValue::Array(items) = value.get_ref() else {
        ctx.wrong_type(value, key.to_owned(), ARGV_EXPECTED);
        return None;
    };
    let Some(first) = items.first() else {
        ctx.report(value.span(), Problem::EmptyArgv { key });
        return None;
    };
    let mut words = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let label = format!("{key}[{index}]");
        if let Some(word) = ctx.string(item, &label, "a string") {
            if word.contains('\0') {
                let problem = Problem::WrongType {
                    key: label,
                    found: "a string with a NUL character",
                    expected: "text without NUL",
                };
                ctx.report(item.span(), problem);
            }
            words.push(word.to_owned());
        }
    }
    (words.len() == items.len()).then(|| Argv {
        words,
        first_span: first.span(),
    })
}

/// Resolves `argv.words[0]` to an executable, reporting at its span if there is none.
pub(super) fn resolve(ctx: &mut Ctx<'_>, argv: &Argv, lookup: &Lookup<'_>) -> Option<PathBuf> {
    let search_path = ctx.search_path().cloned();
    let found = find_program(&argv.words[0], lookup, search_path.as_deref());
    ctx.ok(argv.first_span.clone(), found)
}

/// Finds `program` like `execvp` would: a name with `/` is a path (relative ones start at
/// `lookup.dir`), any other name is searched in the directories of `search_path`.
fn find_program(
    program: &str,
    lookup: &Lookup<'_>,
    search_path: Option<&OsStr>,
) -> Result<PathBuf, Problem> {
    if program.contains('/') {
        // `components` drops the `.` of "./prog", so the resolved path reads cleanly.
        let path: PathBuf = lookup.dir.join(program).components().collect();
        return match check_executable(&path) {
            Candidate::Executable => Ok(path),
            Candidate::NotExecutable => Err(Problem::NotExecutable {
                key: lookup.key,
                program: program.to_owned(),
                path,
            }),
            Candidate::Missing => Err(Problem::ProgramMissing {
                key: lookup.key,
                program: program.to_owned(),
                path,
            }),
        };
    }
    let mut not_executable = None;
    let dirs = search_path.map(std::env::split_paths).into_iter().flatten();
    // Relative PATH entries would depend on the root's working directory at spawn time.
    let usable = dirs.filter(|dir| !program.is_empty() && dir.is_absolute());
    for dir in usable {
        let path = dir.join(program);
        match check_executable(&path) {
            Candidate::Executable => return Ok(path),
            Candidate::NotExecutable => {
                not_executable.get_or_insert(path);
            }
            Candidate::Missing => {}
        }
    }
    Err(match not_executable {
        Some(path) => Problem::NotExecutable {
            key: lookup.key,
            program: program.to_owned(),
            path,
        },
        None => Problem::ProgramNotInPath {
            key: lookup.key,
            program: program.to_owned(),
        },
    })
}

/// What is at a candidate path.
enum Candidate {
    Executable,
    NotExecutable,
    Missing,
}

/// Whether `path` is a file this user could execute.
fn check_executable(path: &Path) -> Candidate {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() && has_exec_bit(&meta) => Candidate::Executable,
        Ok(_) => Candidate::NotExecutable,
        Err(_) => Candidate::Missing,
    }
}

#[cfg(unix)]
fn has_exec_bit(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn has_exec_bit(_meta: &std::fs::Metadata) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(dir: &Path) -> Lookup<'_> {
        Lookup { key: "argv", dir }
    }

    #[test]
    fn bare_names_are_searched_in_path_in_order() {
        let found = find_program(
            "sh",
            &lookup(Path::new("/")),
            Some(OsStr::new("/nonexistent:/bin")),
        );
        assert_eq!(found, Ok(PathBuf::from("/bin/sh")));
    }

    #[test]
    fn relative_path_entries_are_ignored() {
        let found = find_program("sh", &lookup(Path::new("/")), Some(OsStr::new("bin")));
        assert_eq!(
            found,
            Err(Problem::ProgramNotInPath {
                key: "argv",
                program: "sh".into()
            })
        );
    }

    #[test]
    fn paths_with_a_slash_start_at_the_directory() {
        let found = find_program("./sh", &lookup(Path::new("/bin")), None);
        assert_eq!(found, Ok(PathBuf::from("/bin/sh")));
        let missing = find_program("./nope", &lookup(Path::new("/bin")), None);
        assert!(matches!(missing, Err(Problem::ProgramMissing { .. })));
    }

    #[test]
    fn a_directory_is_not_executable() {
        let found = find_program("/bin", &lookup(Path::new("/")), None);
        assert!(matches!(found, Err(Problem::NotExecutable { .. })));
    }
}
