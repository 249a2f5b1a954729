//! Text as the model gets it: a window of lines from a file, and output caps with a note
//! saying what was cut.

use std::fs::File;
use std::io::{BufRead, BufReader};

use serde_json::Value;

use super::{ToolError, opt_count};

/// Most text one file tool call returns.
pub(crate) const OUTPUT_CAP: usize = 64 * 1024;
/// How much of a file's start is checked for NUL bytes to call it binary.
pub(crate) const SNIFF: usize = 8 * 1024;

/// Which lines of a file to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    /// First line, 1-based.
    pub(crate) offset: u64,
    /// How many lines at most.
    pub(crate) limit: Option<u64>,
}

impl Window {
    /// The window `offset` and `limit` arguments ask for (the whole file by default).
    pub(crate) fn from_args(args: &Value) -> Result<Window, ToolError> {
        Ok(Window {
            offset: opt_count(args, "offset")?.unwrap_or(1),
            limit: opt_count(args, "limit")?,
        })
    }
}

/// The lines of `file` in `window`, at most [`OUTPUT_CAP`] bytes, with a closing note
/// when not all of the file is shown. `name` is how the file is named in errors.
pub(crate) fn read_lines(file: File, window: Window, name: &str) -> Result<String, ToolError> {
    let size = file.metadata().map_err(|e| ToolError::io(name, e))?.len();
    let mut reader = BufReader::with_capacity(SNIFF, file);
    let head = reader.fill_buf().map_err(|e| ToolError::io(name, e))?;
    if head.is_empty() {
        return Ok("(empty file)".to_owned());
    }
    if head.contains(&0) {
        return Err(ToolError::WrongKind {
            path: name.to_owned(),
            found: "a binary file; read_file shows text only",
        });
    }
    let mut out = String::new();
    let mut line = Vec::new();
    let mut number = 0u64;
    let mut shown = 0u64;
    let last_wanted = window.limit.map(|l| window.offset.saturating_add(l - 1));
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| ToolError::io(name, e))?;
        if n == 0 {
            break;
        }
        number += 1;
        if number < window.offset {
            continue;
        }
        if last_wanted.is_some_and(|last| number > last) {
            return Ok(with_note(out, window.offset, number - 1, size));
        }
        let text = String::from_utf8_lossy(&line);
        if out.len() + text.len() > OUTPUT_CAP {
            if shown == 0 {
                out.push_str(cut(&text, OUTPUT_CAP));
                out.push_str(&format!(
                    "\n[line {number} is longer than {} KiB and was cut]",
                    OUTPUT_CAP / 1024
                ));
                return Ok(out);
            }
            return Ok(with_note(out, window.offset, number - 1, size));
        }
        out.push_str(&text);
        shown += 1;
    }
    if number < window.offset {
        return Ok(format!(
            "[{name} has {number} lines; offset {} is past the end]",
            window.offset
        ));
    }
    if window.offset > 1 {
        return Ok(format!(
            "{out}\n[lines {}–{number}; end of file]",
            window.offset
        ));
    }
    Ok(out)
}

/// `out` followed by a note that the file goes on after line `last`.
fn with_note(mut out: String, first: u64, last: u64, size: u64) -> String {
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!(
        "[lines {first}–{last} of a {size}-byte file shown; continue with offset={}]",
        last + 1
    ));
    out
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
pub(crate) fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
