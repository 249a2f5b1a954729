//! `grep`: lines matching a regular expression in the files the pod may read.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use nix::fcntl::OFlag;
use nix::sys::stat::{SFlag, fstat};
use regex::Regex;
use serde_json::Value;

use super::beneath::kind;
use super::fs::{Fs, failure, regular};
use super::scope_view::shown;
use super::text::{OUTPUT_CAP, SNIFF, cut};
use super::walk::{Flow, Kind, open_at, walk};
use super::{Access, ToolError, opt_text, text};

/// Largest file searched; larger ones are counted as skipped.
const FILE_MAX: u64 = 8 * 1024 * 1024;
/// Most matching lines reported.
const MAX_HITS: usize = 500;
/// Longest line text shown per match.
const LINE_MAX: usize = 300;
/// Most entries one `grep` looks at.
const MAX_VISITS: usize = 100_000;
/// Most bytes one `grep` reads, so a call on a large tree ends in bounded time (the turn
/// stops awaiting a cancelled call, but blocking work runs to its end).
const READ_BUDGET: u64 = 256 * 1024 * 1024;

/// What a search has found so far.
struct Hits {
    out: String,
    count: usize,
    skipped: usize,
    read: u64,
    full: bool,
}

impl Hits {
    /// Searches the text of `file`, reporting lines as `name:line:text`.
    fn search(&mut self, mut file: File, name: &Path, re: &Regex) {
        let size = file.metadata().map_or(u64::MAX, |m| m.len());
        if size > FILE_MAX {
            self.skipped += 1;
            return;
        }
        self.read += size;
        if self.read > READ_BUDGET {
            self.full = true;
            return;
        }
        let mut body = Vec::with_capacity(size as usize);
        if file.read_to_end(&mut body).is_err() || body[..body.len().min(SNIFF)].contains(&0) {
            return;
        }
        let body = String::from_utf8_lossy(&body);
        for (i, line) in body.lines().enumerate() {
            if !re.is_match(line) {
                continue;
            }
            let shown_line = cut(line, LINE_MAX);
            let more = if shown_line.len() < line.len() {
                "…"
            } else {
                ""
            };
            let hit = format!("{}:{}:{shown_line}{more}\n", name.display(), i + 1);
            if self.count >= MAX_HITS || self.out.len() + hit.len() > OUTPUT_CAP {
                self.full = true;
                return;
            }
            self.out.push_str(&hit);
            self.count += 1;
        }
    }
}

/// `grep {pattern, path?}`: `path` (default the pod's directory) may be a file the pod
/// may read, or a directory it may read or pass through; the walk enters only visible
/// directories, skips names starting with `.`, symlinks and binary files.
pub(super) fn grep(fs: &Fs, args: &Value) -> Result<String, ToolError> {
    let re = Regex::new(text(args, "pattern")?)
        .map_err(|e| ToolError::Arguments(format!("pattern is not a valid regex: {e}")))?;
    let rel = fs.resolve_visible(opt_text(args, "path")?.unwrap_or("."))?;
    let fd = fs.open(&rel, OFlag::O_RDONLY | OFlag::O_NONBLOCK)?;
    let stat = fstat(&fd).map_err(|e| failure(&rel, e.into()))?;
    let mut hits = Hits {
        out: String::new(),
        count: 0,
        skipped: 0,
        read: 0,
        full: false,
    };
    let mut visits = 0usize;
    if kind(&stat) == SFlag::S_IFDIR {
        let view = fs.view();
        walk(fd, &rel, &mut |entry| {
            visits += 1;
            if hits.full || visits > MAX_VISITS {
                return Flow::Stop;
            }
            if entry.name.to_string_lossy().starts_with('.') {
                return Flow::Next;
            }
            match entry.kind {
                Kind::Dir if view.visible(entry.rel) => Flow::Enter,
                Kind::File if view.scope.permits(entry.rel, false) => {
                    let opened = open_at(entry.parent, entry.name, OFlag::O_RDONLY)
                        .ok()
                        .and_then(|fd| regular(fd, entry.rel).ok());
                    if let Some(file) = opened {
                        hits.search(file, entry.rel, &re);
                    }
                    Flow::Next
                }
                _ => Flow::Next,
            }
        })
        .map_err(|e| failure(&rel, e))?;
    } else {
        fs.view().check(&rel, Access::Read)?;
        hits.search(regular(fd, &rel)?, &rel, &re);
    }
    let mut out = if hits.out.is_empty() {
        format!("no matches in {}", shown(&rel))
    } else {
        hits.out
    };
    if hits.full || visits > MAX_VISITS {
        out.push_str(&format!(
            "[stopped after {} matches; narrow the pattern or the path]\n",
            hits.count
        ));
    }
    if hits.skipped > 0 {
        out.push_str(&format!(
            "[{} files over {} MiB were not searched]\n",
            hits.skipped,
            FILE_MAX >> 20
        ));
    }
    Ok(out)
}
