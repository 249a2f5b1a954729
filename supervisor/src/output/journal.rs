//! journald's native protocol, just enough to log children's lines with their own
//! fields (`POD=`, `GENERATION=`): one datagram per entry on `/run/systemd/journal/socket`.
//!
//! An entry is a list of fields. A field whose value has no newline is `KEY=VALUE\n`;
//! otherwise it is `KEY\n`, the value's length as a little-endian `u64`, the value, `\n`.
//! Sends never wait: a full socket buffer drops the entry (the file has the line anyway).

use std::ffi::OsString;
use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use super::record::Stream;

/// Where journald listens for native entries.
pub const SOCKET: &str = "/run/systemd/journal/socket";

/// Appends `key`=`value` to the entry in `out`, length-prefixed if the value has a newline.
pub fn encode_field(out: &mut Vec<u8>, key: &str, value: &[u8]) {
    out.extend_from_slice(key.as_bytes());
    if value.contains(&b'\n') {
        out.push(b'\n');
        out.extend_from_slice(&(value.len() as u64).to_le_bytes());
    } else {
        out.push(b'=');
    }
    out.extend_from_slice(value);
    out.push(b'\n');
}

/// Whether a root with this environment should log children's lines to the journal: it
/// must run under systemd (`INVOCATION_ID`), and journald must be there (its stream was
/// handed to us, or its socket exists).
pub fn wanted(env: impl Fn(&str) -> Option<OsString>, socket_exists: bool) -> bool {
    let set = |key| env(key).is_some_and(|v| !v.is_empty());
    set("INVOCATION_ID") && (set("JOURNAL_STREAM") || socket_exists)
}

/// One line of a child, as the journal gets it.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    /// The child's name.
    pub pod: &'a str,
    /// Its generation.
    pub generation: u64,
    /// stdout (priority 6, info) or stderr (priority 4, warning).
    pub stream: Stream,
    /// The line.
    pub message: &'a str,
}

impl Entry<'_> {
    /// The datagram for this entry.
    pub fn encode(&self) -> Vec<u8> {
        let priority: &[u8] = match self.stream {
            Stream::Out | Stream::Sup => b"6",
            Stream::Err => b"4",
        };
        let mut out = Vec::with_capacity(self.message.len() + 96);
        encode_field(&mut out, "MESSAGE", self.message.as_bytes());
        encode_field(&mut out, "POD", self.pod.as_bytes());
        encode_field(
            &mut out,
            "GENERATION",
            self.generation.to_string().as_bytes(),
        );
        encode_field(&mut out, "PRIORITY", priority);
        encode_field(&mut out, "SYSLOG_IDENTIFIER", b"podsup");
        out
    }
}

/// A connected, non-blocking journal socket.
#[derive(Debug)]
pub struct Journal {
    socket: UnixDatagram,
    dropped: AtomicU64,
}

impl Journal {
    /// The journal, if this root runs under systemd with journald (see [`wanted`]) and
    /// its socket accepts a connection.
    pub fn detect() -> Option<Journal> {
        let path = Path::new(SOCKET);
        if !wanted(|key| std::env::var_os(key), path.exists()) {
            return None;
        }
        match Journal::connect(path) {
            Ok(journal) => Some(journal),
            Err(e) => {
                tracing::warn!(socket = SOCKET, %e, "journald socket unusable; children's output goes to files only");
                None
            }
        }
    }

    /// Connects to the native socket at `path`.
    pub fn connect(path: &Path) -> io::Result<Journal> {
        let socket = UnixDatagram::unbound()?;
        socket.set_nonblocking(true)?;
        socket.connect(path)?;
        Ok(Journal {
            socket,
            dropped: AtomicU64::new(0),
        })
    }

    /// Sends `entry` if the socket takes it now; otherwise counts it as dropped.
    pub fn send(&self, entry: &Entry<'_>) {
        if let Err(e) = self.socket.send(&entry.encode()) {
            let before = self.dropped.fetch_add(1, Ordering::Relaxed);
            if before == 0 || e.kind() != io::ErrorKind::WouldBlock {
                tracing::debug!(%e, dropped = before + 1, "journal entry dropped");
            }
        }
    }

    /// Entries dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::testdir::TestDir;

    #[test]
    fn a_plain_value_is_key_equals_value() {
        let mut out = Vec::new();
        encode_field(&mut out, "POD", b"coder/tests");
        assert_eq!(out, b"POD=coder/tests\n");
    }

    #[test]
    fn a_value_with_a_newline_is_length_prefixed() {
        let mut out = Vec::new();
        encode_field(&mut out, "MESSAGE", b"two\nlines");
        let mut want = b"MESSAGE\n".to_vec();
        want.extend_from_slice(&[9, 0, 0, 0, 0, 0, 0, 0]);
        want.extend_from_slice(b"two\nlines\n");
        assert_eq!(out, want);
    }

    #[test]
    fn an_entry_carries_pod_generation_priority_and_identifier() {
        let entry = Entry {
            pod: "ticker",
            generation: 3,
            stream: Stream::Err,
            message: "disk full",
        };
        assert_eq!(
            String::from_utf8(entry.encode()).expect("utf8"),
            "MESSAGE=disk full\nPOD=ticker\nGENERATION=3\nPRIORITY=4\nSYSLOG_IDENTIFIER=podsup\n"
        );
        let out = Entry {
            stream: Stream::Out,
            ..entry
        };
        assert!(String::from_utf8_lossy(&out.encode()).contains("\nPRIORITY=6\n"));
    }

    #[test]
    fn only_a_root_under_systemd_with_journald_logs_to_the_journal() {
        let env = |vars: &'static [&'static str]| {
            move |key: &str| vars.contains(&key).then(|| OsString::from("x"))
        };
        assert!(wanted(env(&["INVOCATION_ID", "JOURNAL_STREAM"]), false));
        assert!(wanted(env(&["INVOCATION_ID"]), true));
        assert!(!wanted(env(&["INVOCATION_ID"]), false));
        assert!(!wanted(env(&["JOURNAL_STREAM"]), true));
        assert!(!wanted(env(&[]), true));
    }

    #[test]
    fn entries_arrive_as_one_datagram_each_and_a_full_socket_drops_them() {
        let dir = TestDir::new("journal");
        let path = dir.path().join("socket");
        let server = UnixDatagram::bind(&path).expect("bind fake journal");
        let journal = Journal::connect(&path).expect("connect");
        let entry = Entry {
            pod: "p",
            generation: 1,
            stream: Stream::Out,
            message: "hello",
        };
        journal.send(&entry);
        let mut buf = [0u8; 512];
        let n = server.recv(&mut buf).expect("recv");
        assert_eq!(&buf[..n], entry.encode().as_slice());
        // Nobody reads: the socket fills, sends stop succeeding and never block.
        let big = "z".repeat(4000);
        let flood = Entry {
            message: &big,
            ..entry
        };
        for _ in 0..10_000 {
            journal.send(&flood);
        }
        assert!(journal.dropped() > 0);
    }
}
