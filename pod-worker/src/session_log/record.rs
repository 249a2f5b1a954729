//! The on-disk format: the file header, record encoding, and the scanner that classifies
//! what it finds. Pure functions over bytes; the file handling lives in the parent module.

use podsup_wire::frame::{FrameError, decode_body, encode_body};
use podsup_wire::{Entry, MAX_FRAME_LEN};

/// First bytes of every session log: magic and format version.
pub const MAGIC: [u8; 8] = *b"PODSLOG1";

/// Length of the file header ([`MAGIC`]).
pub const FILE_HEADER_LEN: usize = MAGIC.len();

/// Length of a record header: body length, its bitwise complement, CRC32 of the body.
pub const RECORD_HEADER_LEN: usize = 12;

/// Encodes `entry` as one complete record (header and body), ready for a single write.
pub fn encode(entry: &Entry) -> Result<Vec<u8>, FrameError> {
    let body = encode_body(entry)?;
    // encode_body refuses bodies over MAX_FRAME_LEN, which fits in a u32.
    let len = u32::try_from(body.len()).map_err(|_| FrameError::Oversize {
        len: body.len() as u64,
    })?;
    let mut record = Vec::with_capacity(RECORD_HEADER_LEN + body.len());
    record.extend_from_slice(&len.to_le_bytes());
    record.extend_from_slice(&(!len).to_le_bytes());
    record.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    record.extend_from_slice(&body);
    Ok(record)
}

/// What the file header says about a file's contents.
#[derive(Debug, PartialEq, Eq)]
pub enum Header {
    /// A session log; records start at [`FILE_HEADER_LEN`].
    Log,
    /// Empty, or what a crash while creating the file can leave (a prefix of the header,
    /// or nothing but zeros): no record can be in it, so it may be rewritten.
    Unwritten,
    /// Something else: not ours to touch.
    Foreign,
}

/// Classifies a whole file by its header.
pub fn header(file: &[u8]) -> Header {
    if file.iter().all(|&b| b == 0) {
        return Header::Unwritten;
    }
    match file.get(..FILE_HEADER_LEN) {
        Some(head) if head == MAGIC => Header::Log,
        Some(_) => Header::Foreign,
        None if MAGIC.starts_with(file) => Header::Unwritten,
        None => Header::Foreign,
    }
}

/// How the records of a file end.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// The last record ends exactly at the end of the file.
    Clean,
    /// The records end at `offset` with what a crash during an append can leave: an
    /// incomplete record, a damaged last record, or zeros. Cutting the file there loses
    /// nothing that was completely written before it.
    Torn {
        /// Where the complete records end.
        offset: usize,
        /// What was found there.
        reason: String,
    },
    /// A damaged record at `offset` with data after it: cutting would lose records.
    Corrupt {
        /// Where the damaged record starts.
        offset: usize,
        /// What is wrong with it.
        reason: String,
    },
}

/// The records of a file, and how they end.
#[derive(Debug)]
pub struct Scan {
    /// The complete records, in order; entry `i` has sequence number `i`.
    pub entries: Vec<Entry>,
    /// What follows them.
    pub end: End,
}

/// Reads every record of `file` (whose header is [`Header::Log`]) and classifies its end.
pub fn scan(file: &[u8]) -> Scan {
    let scanner = Scanner {
        file,
        blank_from: file.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1),
    };
    let mut entries = Vec::new();
    let mut at = FILE_HEADER_LEN;
    while at < file.len() {
        match scanner.record(at, entries.len() as u64) {
            Ok((entry, next)) => {
                entries.push(entry);
                at = next;
            }
            Err(Damage::Torn(reason)) => {
                let end = End::Torn { offset: at, reason };
                return Scan { entries, end };
            }
            Err(Damage::Corrupt(reason)) => {
                let end = End::Corrupt { offset: at, reason };
                return Scan { entries, end };
            }
        }
    }
    let end = End::Clean;
    Scan { entries, end }
}

/// Why the record at some offset could not be read.
enum Damage {
    /// Nothing but zeros (or nothing) follows it: a crash during its append.
    Torn(String),
    /// Data follows it.
    Corrupt(String),
}

struct Scanner<'a> {
    file: &'a [u8],
    /// Start of the trailing run of zero bytes (the file length if the last byte is not 0).
    /// No record lies in it: every record header has a non-zero byte (the complement of a
    /// length up to `MAX_FRAME_LEN` has a top byte of 0xFF).
    blank_from: usize,
}

impl Scanner<'_> {
    /// Whether nothing but zeros follows `end`.
    fn nothing_after(&self, end: usize) -> bool {
        end >= self.blank_from
    }

    /// Reads the record at `at`, which must have sequence number `seq`, and returns it with
    /// the offset of the next record.
    fn record(&self, at: usize, seq: u64) -> Result<(Entry, usize), Damage> {
        let rest = &self.file[at..];
        let Some(head) = rest.first_chunk::<RECORD_HEADER_LEN>() else {
            let got = rest.len();
            return Err(Damage::Torn(format!(
                "incomplete header of record {seq} ({got} of {RECORD_HEADER_LEN} bytes)"
            )));
        };
        let head = RecordHeader::parse(head);
        if head.check != !head.len {
            return Err(self.bad_length(at, &head, seq));
        }
        let (len, crc) = (head.len as usize, head.crc);
        if len > MAX_FRAME_LEN {
            return Err(Damage::Corrupt(format!(
                "record {seq} claims {len} bytes, over the limit of {MAX_FRAME_LEN}"
            )));
        }
        let body_at = at + RECORD_HEADER_LEN;
        let end = body_at + len;
        let Some(body) = self.file.get(body_at..end) else {
            let got = self.file.len() - body_at;
            return Err(Damage::Torn(format!(
                "incomplete body of record {seq} ({got} of {len} bytes)"
            )));
        };
        let damaged = |reason| self.damage(end, reason);
        if crc32fast::hash(body) != crc {
            return Err(damaged(format!("checksum mismatch (record {seq})")));
        }
        let entry: Entry =
            decode_body(body).map_err(|e| damaged(format!("record {seq} does not decode: {e}")))?;
        if entry.seq != seq {
            let found = entry.seq;
            return Err(damaged(format!("record {seq} has sequence number {found}")));
        }
        Ok((entry, end))
    }

    /// Classifies a record whose length and its complement disagree. Either field may be
    /// the damaged one, so the record is the last one only if nothing follows its header, or
    /// if one of the two readings of its length ends where the data ends and the body there
    /// matches the checksum.
    fn bad_length(&self, at: usize, head: &RecordHeader, seq: u64) -> Damage {
        let body_at = at + RECORD_HEADER_LEN;
        if self.nothing_after(body_at) {
            return Damage::Torn(format!("zero-filled tail at record {seq}"));
        }
        let readings = [head.len, !head.check];
        let last = readings.iter().any(|&len| {
            let end = body_at.saturating_add(len as usize);
            self.nothing_after(end)
                && self
                    .file
                    .get(body_at..end)
                    .is_some_and(|body| crc32fast::hash(body) == head.crc)
        });
        let [len, implied] = readings;
        let reason = format!(
            "record length {len} disagrees with the length {implied} its check field implies \
             (record {seq})"
        );
        if last {
            Damage::Torn(reason)
        } else {
            Damage::Corrupt(reason)
        }
    }

    /// A damaged record ending at `end` is torn if nothing follows it, corrupt otherwise.
    fn damage(&self, end: usize, reason: String) -> Damage {
        if self.nothing_after(end) {
            Damage::Torn(reason)
        } else {
            Damage::Corrupt(reason)
        }
    }
}

/// The three fields in front of a record's body.
struct RecordHeader {
    /// Body length.
    len: u32,
    /// Bitwise complement of the body length, as written.
    check: u32,
    /// CRC32 of the body.
    crc: u32,
}

impl RecordHeader {
    fn parse(head: &[u8; RECORD_HEADER_LEN]) -> Self {
        let word = |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
        RecordHeader {
            len: word(0),
            check: word(4),
            crc: word(8),
        }
    }
}
