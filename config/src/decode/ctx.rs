//! The state of one decoding pass: positions, collected diagnostics, names seen so far.

use std::collections::HashMap;
use std::ffi::OsString;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde_spanned::Spanned;
use toml::de::DeValue;

use crate::error::{Diagnostic, Problem};
use crate::name::Name;

/// A TOML value with its byte span.
pub(super) type Value<'a, 'i> = &'a Spanned<DeValue<'i>>;

/// One decoding pass over one file.
pub(super) struct Ctx<'s> {
    source: &'s str,
    /// Byte offset where each line starts; `line_starts[0] == 0`.
    line_starts: Vec<usize>,
    diagnostics: Vec<Diagnostic>,
    /// Directory relative `cwd` and program paths start from: the tree file's, absolute.
    base_dir: PathBuf,
    /// `PATH` of this process, where bare program names are looked up.
    search_path: Option<OsString>,
    /// Every node name claimed so far, with the line of its first use.
    names: HashMap<Name, usize>,
}

impl<'s> Ctx<'s> {
    /// A pass over `source`, the content of the absolute path `file`.
    pub(super) fn new(source: &'s str, file: &Path) -> Ctx<'s> {
        let line_starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        Ctx {
            source,
            line_starts,
            diagnostics: Vec::new(),
            base_dir: file.parent().map(Path::to_owned).unwrap_or_default(),
            search_path: std::env::var_os("PATH"),
            names: HashMap::new(),
        }
    }

    /// 1-based line and column (in characters) of byte `offset`.
    fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.source.len());
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line - 1];
        let column = match self.source.get(start..offset) {
            Some(text) => text.chars().count(),
            None => offset - start,
        };
        (line, column + 1)
    }

    /// Records `problem` at the start of `span`.
    pub(super) fn report(&mut self, span: Range<usize>, problem: Problem) {
        let (line, column) = self.position(span.start);
        self.diagnostics
            .push(Diagnostic::new(line, column, problem));
    }

    /// Claims `name` for the node whose name is at `span`; reports it if another node has
    /// it already, or if it is the root's.
    pub(super) fn claim_name(&mut self, name: &Name, span: Range<usize>) {
        if name.as_str() == Name::ROOT {
            self.report(span, Problem::ReservedName);
            return;
        }
        let (line, _) = self.position(span.start);
        match self.names.get(name) {
            Some(&first_line) => self.report(
                span,
                Problem::DuplicateName {
                    name: name.clone(),
                    first_line,
                },
            ),
            None => {
                self.names.insert(name.clone(), line);
            }
        }
    }

    /// The tree file's directory, absolute.
    pub(super) fn base_dir(&self) -> &Path {
        &self.base_dir
    }

    /// `PATH` at the time of loading.
    pub(super) fn search_path(&self) -> Option<&OsString> {
        self.search_path.as_ref()
    }

    /// Every diagnostic, in file order.
    pub(super) fn finish(mut self) -> Vec<Diagnostic> {
        self.diagnostics
            .sort_by_key(|diagnostic| (diagnostic.line, diagnostic.column));
        self.diagnostics.dedup();
        self.diagnostics
    }

    /// The diagnostics of a file that is not TOML: the first per line, since the parser's
    /// recovery tends to report one mistake several times.
    pub(super) fn finish_syntax(self) -> Vec<Diagnostic> {
        let mut diagnostics = self.finish();
        diagnostics.dedup_by_key(|diagnostic| diagnostic.line);
        diagnostics
    }
}
