//! Reading a child's output files for `ctl logs --output`: everything or the last N lines,
//! then (follow) whatever is appended, across rotations. Blocking file I/O: only ever
//! called on a blocking thread.
//!
//! Files are read through open handles, which survive the writer's renames: at the end of
//! `output.log`, if the name now points at another file, the old one was rotated, so it is
//! read to its (now final) end before the new one is opened.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use super::rotate::numbered;

/// Bytes read at once.
const CHUNK: usize = 64 * 1024;

/// A position in a child's output, and the files still to read from it.
#[derive(Debug)]
pub struct Cursor {
    dir: PathBuf,
    /// How many rotated files there may be.
    max_files: u32,
    /// Files to read to their end before the current one, oldest first.
    older: VecDeque<File>,
    /// `output.log` as it was when opened, with its inode; `None` until it exists.
    current: Option<(File, u64)>,
    /// Inode of the last current file finished: files rotated after it are new to us.
    /// `None` if there was none, so every file found is new.
    finished: Option<u64>,
    /// The start of a line whose end has not been read yet.
    partial: Vec<u8>,
    /// Size of the current file when the cursor was made.
    opened_len: u64,
    /// Where reading the current file stops, for a snapshot ([`Cursor::stop_at_end`]).
    end: Option<u64>,
}

impl Cursor {
    fn new(dir: PathBuf, max_files: u32) -> Cursor {
        Cursor {
            dir,
            max_files,
            older: VecDeque::new(),
            current: None,
            finished: None,
            partial: Vec::new(),
            opened_len: 0,
            end: None,
        }
    }

    /// Makes this cursor read only what was there when it was made: the current file up
    /// to its size then, nothing written or rotated in later.
    pub fn stop_at_end(&mut self) {
        self.end = Some(self.opened_len);
    }

    /// A cursor at the start of the oldest kept file, for reading everything; `max_files`
    /// is how many rotated files there may be.
    pub fn from_start(dir: PathBuf, max_files: u32) -> io::Result<Cursor> {
        let mut cursor = Cursor::new(dir, max_files);
        cursor.current = open_current(&cursor.dir)?;
        if let Some((file, _)) = &cursor.current {
            cursor.opened_len = file.metadata()?.len();
        }
        let skip = cursor.current.as_ref().map(|(_, ino)| *ino);
        let rotated = cursor.rotated_after(None, skip)?;
        if cursor.current.is_none() {
            if let Some(newest) = rotated.last() {
                cursor.finished = Some(newest.metadata()?.ino());
            }
        }
        cursor.older.extend(rotated);
        Ok(cursor)
    }

    /// The last `n` complete lines (older files included when the current one has fewer),
    /// and a cursor just after them.
    pub fn last_lines(dir: PathBuf, n: usize, max_files: u32) -> io::Result<(Vec<String>, Cursor)> {
        let mut cursor = Cursor::new(dir, max_files);
        cursor.current = open_current(&cursor.dir)?;
        let mut lines = VecDeque::new();
        if let Some((file, _)) = cursor.current.as_mut() {
            let end = file.seek(SeekFrom::End(0))?;
            let complete = last_lines_of(file, end, n, &mut lines)?;
            file.seek(SeekFrom::Start(complete))?;
            cursor.opened_len = end;
        }
        for k in 1..=max_files {
            if lines.len() >= n {
                break;
            }
            let Some(mut file) = open_existing(numbered(&cursor.dir, k))? else {
                break;
            };
            let end = file.seek(SeekFrom::End(0))?;
            let mut earlier = VecDeque::new();
            last_lines_of(&mut file, end, n - lines.len(), &mut earlier)?;
            earlier.extend(lines);
            lines = earlier;
        }
        Ok((lines.into(), cursor))
    }

    /// Reads complete lines into `out` until there are no more for now or `out` holds
    /// `max`. A partial last line waits for its end.
    pub fn read(&mut self, out: &mut Vec<String>, max: usize) -> io::Result<()> {
        let mut buf = vec![0u8; CHUNK];
        while out.len() < max {
            if let Some(file) = self.older.front_mut() {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    self.older.pop_front();
                    // Rotated files end with whole lines; anything left is a line.
                    if !self.partial.is_empty() {
                        out.push(line_of(&std::mem::take(&mut self.partial)));
                    }
                } else {
                    self.split(&buf[..n], out);
                }
                continue;
            }
            let Some((file, inode)) = self.current.as_mut() else {
                if self.end.is_some() || !self.open_next()? {
                    return Ok(());
                }
                continue;
            };
            let want = match self.end {
                Some(end) => {
                    let left = end.saturating_sub(file.stream_position()?);
                    CHUNK.min(usize::try_from(left).unwrap_or(CHUNK))
                }
                None => CHUNK,
            };
            let n = file.read(&mut buf[..want])?;
            if n > 0 {
                self.split(&buf[..n], out);
                continue;
            }
            if self.end.is_some() {
                return Ok(());
            }
            let now = std::fs::metadata(numbered(&self.dir, 0)).map(|m| m.ino());
            if now.is_ok_and(|ino| ino == *inode) {
                return Ok(());
            }
            // Rotated away: finish it (the writer may have added to it since our last
            // read), then whatever came after it.
            if let Some((old, ino)) = self.current.take() {
                self.older.push_back(old);
                self.finished = Some(ino);
            }
        }
        Ok(())
    }

    /// Opens the current file and queues the rotated files newer than the one finished
    /// last; false if there is no current file (yet).
    fn open_next(&mut self) -> io::Result<bool> {
        let Some((file, ino)) = open_current(&self.dir)? else {
            return Ok(false);
        };
        let newer = self.rotated_after(self.finished, Some(ino))?;
        self.older.extend(newer);
        self.current = Some((file, ino));
        Ok(true)
    }

    /// The rotated files newer than the one with inode `after` (all of them if `None` or
    /// if it is gone), oldest first, leaving out `skip` (a current file that was rotated
    /// while we looked: it is read as the current one).
    fn rotated_after(&self, after: Option<u64>, skip: Option<u64>) -> io::Result<Vec<File>> {
        let mut newer = Vec::new();
        for k in 1..=self.max_files {
            let Some(file) = open_existing(numbered(&self.dir, k))? else {
                break;
            };
            let ino = file.metadata()?.ino();
            if Some(ino) == after {
                break;
            }
            if Some(ino) != skip {
                newer.push(file);
            }
        }
        newer.reverse();
        Ok(newer)
    }

    fn split(&mut self, mut bytes: &[u8], out: &mut Vec<String>) {
        while let Some(at) = bytes.iter().position(|&b| b == b'\n') {
            self.partial.extend_from_slice(&bytes[..at]);
            out.push(line_of(&std::mem::take(&mut self.partial)));
            bytes = &bytes[at + 1..];
        }
        self.partial.extend_from_slice(bytes);
    }
}

fn line_of(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn open_existing(path: PathBuf) -> io::Result<Option<File>> {
    match File::open(&path) {
        Ok(file) => Ok(Some(file)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn open_current(dir: &std::path::Path) -> io::Result<Option<(File, u64)>> {
    let Some(file) = open_existing(numbered(dir, 0))? else {
        return Ok(None);
    };
    let inode = file.metadata()?.ino();
    Ok(Some((file, inode)))
}

/// Pushes onto the front of `lines` the last `n` complete lines of `file` before `end`;
/// returns where the complete lines end (a partial last line is left for later).
fn last_lines_of(
    file: &mut File,
    end: u64,
    n: usize,
    lines: &mut VecDeque<String>,
) -> io::Result<u64> {
    let mut buf = vec![0u8; CHUNK];
    // The bytes between the chunk read last and the newline after them.
    let mut tail: Vec<u8> = Vec::new();
    let mut pos = end;
    // Just after the last newline: where the complete lines end.
    let mut complete_end = None;
    let mut found = 0;
    while pos > 0 && (found < n || complete_end.is_none()) {
        let len = CHUNK.min(pos as usize);
        pos -= len as u64;
        file.seek(SeekFrom::Start(pos))?;
        file.read_exact(&mut buf[..len])?;
        let mut chunk_end = len;
        for at in (0..len).rev() {
            if buf[at] != b'\n' {
                continue;
            }
            if complete_end.is_none() {
                complete_end = Some(pos + at as u64 + 1);
                tail.clear();
            } else if found == n {
                break;
            } else {
                let mut line = buf[at + 1..chunk_end].to_vec();
                line.append(&mut tail);
                lines.push_front(line_of(&line));
                found += 1;
            }
            chunk_end = at;
        }
        let mut head = buf[..chunk_end].to_vec();
        head.append(&mut tail);
        tail = head;
    }
    if pos == 0 && found < n && complete_end.is_some() {
        // The file's first line has no newline before it.
        lines.push_front(line_of(&tail));
    }
    Ok(complete_end.unwrap_or(0))
}

#[cfg(test)]
mod tests;
