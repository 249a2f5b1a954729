//! Cutting a byte stream into lines, whatever the reads' boundaries, with a cap on length.

/// Longest line kept, in bytes; the rest of a longer line is dropped and the line marked.
pub const MAX_LINE: usize = 16 * 1024;

/// Turns the chunks a pipe delivers into lines: partial lines wait for their end, a
/// line longer than the cap is cut at once (so a child that never prints a newline is
/// still logged) and the rest of it, up to its newline, is skipped.
#[derive(Debug)]
pub struct Splitter {
    buf: Vec<u8>,
    max: usize,
    /// Inside a line that was already cut: drop bytes until its newline.
    skipping: bool,
}

impl Splitter {
    /// A splitter that cuts lines longer than `max` bytes.
    pub fn new(max: usize) -> Splitter {
        Splitter {
            buf: Vec::new(),
            max,
            skipping: false,
        }
    }

    /// Feeds `bytes`; every line they complete (or cut) is appended to `out`.
    pub fn push(&mut self, mut bytes: &[u8], out: &mut Vec<String>) {
        while !bytes.is_empty() {
            let newline = bytes.iter().position(|&b| b == b'\n');
            if self.skipping {
                match newline {
                    Some(at) => {
                        self.skipping = false;
                        bytes = &bytes[at + 1..];
                        continue;
                    }
                    None => return,
                }
            }
            let (part, rest, ended) = match newline {
                Some(at) => (&bytes[..at], &bytes[at + 1..], true),
                None => (bytes, &[][..], false),
            };
            self.buf.extend_from_slice(part);
            bytes = rest;
            if self.buf.len() > self.max {
                out.push(self.cut());
                self.skipping = !ended;
            } else if ended {
                out.push(self.take());
            }
        }
    }

    /// The unfinished last line, at end of stream.
    pub fn finish(&mut self) -> Option<String> {
        self.skipping = false;
        (!self.buf.is_empty()).then(|| self.take())
    }

    /// The buffered line as text, without a trailing `\r`.
    fn take(&mut self) -> String {
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        let line = String::from_utf8_lossy(&self.buf).into_owned();
        self.buf.clear();
        line
    }

    /// The first `max` bytes of the buffered line (backed off to a character boundary),
    /// marked as cut.
    fn cut(&mut self) -> String {
        let head = &self.buf[..self.max];
        let end = match std::str::from_utf8(head) {
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Ok(_) | Err(_) => self.max,
        };
        let line = format!(
            "{} [podsup: line cut at {} bytes]",
            String::from_utf8_lossy(&head[..end]),
            self.max
        );
        self.buf.clear();
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(splitter: &mut Splitter, chunks: &[&[u8]]) -> Vec<String> {
        let mut out = Vec::new();
        for chunk in chunks {
            splitter.push(chunk, &mut out);
        }
        out
    }

    #[test]
    fn lines_are_joined_across_reads() {
        let mut s = Splitter::new(MAX_LINE);
        let out = feed(&mut s, &[b"hel", b"lo\nwor", b"ld\n\nlast"]);
        assert_eq!(out, ["hello", "world", ""]);
        assert_eq!(s.finish().as_deref(), Some("last"));
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn one_read_may_hold_many_lines_and_crlf_ends_lines_too() {
        let mut s = Splitter::new(MAX_LINE);
        let out = feed(&mut s, &[b"a\r\nb\nc\n"]);
        assert_eq!(out, ["a", "b", "c"]);
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_refused() {
        let mut s = Splitter::new(MAX_LINE);
        assert_eq!(feed(&mut s, &[b"a\xffb\n"]), ["a\u{fffd}b"]);
    }

    #[test]
    fn a_long_line_is_cut_at_once_and_its_rest_skipped() {
        let mut s = Splitter::new(8);
        let mut out = feed(&mut s, &[b"0123", b"456789abc"]);
        // Cut as soon as it passed the cap, before its newline arrived.
        assert_eq!(out, ["01234567 [podsup: line cut at 8 bytes]"]);
        s.push(b"def\nnext\n", &mut out);
        assert_eq!(out[1..], ["next"]);
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn a_line_of_exactly_the_cap_is_kept_whole() {
        let mut s = Splitter::new(8);
        assert_eq!(
            feed(&mut s, &[b"01234567\n012345678\n"]),
            ["01234567", "01234567 [podsup: line cut at 8 bytes]"]
        );
    }

    #[test]
    fn a_cut_never_splits_a_character() {
        let mut s = Splitter::new(8);
        // "aaaaaaa" then a 2-byte 'é' straddling the cap.
        let out = feed(&mut s, &["aaaaaaaé\n".as_bytes()]);
        assert_eq!(out, ["aaaaaaa [podsup: line cut at 8 bytes]"]);
    }

    #[test]
    fn the_default_cap_is_16_kib() {
        let mut s = Splitter::new(MAX_LINE);
        let long = vec![b'x'; 40_000];
        let mut out = feed(&mut s, &[&long, b"\nok\n"]);
        assert_eq!(out.len(), 2);
        assert!(out[0].starts_with(&"x".repeat(MAX_LINE)));
        assert!(out[0].ends_with("[podsup: line cut at 16384 bytes]"));
        assert_eq!(out.pop().as_deref(), Some("ok"));
    }
}
