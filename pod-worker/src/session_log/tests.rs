//! The format and the scanner's classification, on bytes in memory. File handling is tested
//! in `tests/session_log.rs`.

use podsup_wire::{Entry, Item, MAX_FRAME_LEN};

use super::record::{self, End, FILE_HEADER_LEN, Header, MAGIC, RECORD_HEADER_LEN};

fn entry(seq: u64) -> Entry {
    Entry {
        seq,
        at_ms: 1_700_000_000_000 + seq,
        item: Item::User {
            text: format!("message {seq}"),
        },
    }
}

/// A file with records `0..n`, and the offset of each record.
fn file(n: u64) -> (Vec<u8>, Vec<usize>) {
    let mut bytes = MAGIC.to_vec();
    let mut offsets = Vec::new();
    for seq in 0..n {
        offsets.push(bytes.len());
        bytes.extend(record::encode(&entry(seq)).expect("encodes"));
    }
    (bytes, offsets)
}

fn entries(n: u64) -> Vec<Entry> {
    (0..n).map(entry).collect()
}

fn torn_at(bytes: &[u8]) -> usize {
    match record::scan(bytes).end {
        End::Torn { offset, .. } => offset,
        other => panic!("expected a torn tail, got {other:?}"),
    }
}

fn corrupt_at(bytes: &[u8]) -> usize {
    match record::scan(bytes).end {
        End::Corrupt { offset, .. } => offset,
        other => panic!("expected corruption, got {other:?}"),
    }
}

#[test]
fn record_layout_is_length_complement_crc_body() {
    let rec = record::encode(&entry(3)).expect("encodes");
    let body = &rec[RECORD_HEADER_LEN..];
    let word = |i: usize| u32::from_le_bytes(rec[i..i + 4].try_into().expect("4 bytes"));
    assert_eq!(word(0) as usize, body.len());
    assert_eq!(word(4), !word(0));
    assert_eq!(word(8), crc32fast::hash(body));
    let decoded: Entry = podsup_wire::decode_body(body).expect("decodes");
    assert_eq!(decoded, entry(3));
}

#[test]
fn headers_are_classified() {
    assert_eq!(record::header(b""), Header::Unwritten);
    assert_eq!(record::header(b"PODS"), Header::Unwritten);
    assert_eq!(record::header(&[0; 3]), Header::Unwritten);
    assert_eq!(record::header(&[0; 4096]), Header::Unwritten);
    assert_eq!(record::header(b"PODSLOG1"), Header::Log);
    assert_eq!(record::header(b"PODSLOG2"), Header::Foreign);
    assert_eq!(record::header(b"hello, world"), Header::Foreign);
    assert_eq!(record::header(b"xy"), Header::Foreign);
}

#[test]
fn complete_records_scan_clean() {
    for n in 0..4 {
        let scan = record::scan(&file(n).0);
        assert_eq!(scan.end, End::Clean);
        assert_eq!(scan.entries, entries(n));
    }
}

#[test]
fn every_cut_inside_the_last_record_is_torn_at_its_start() {
    let (bytes, offsets) = file(3);
    for cut in offsets[2] + 1..bytes.len() {
        let scan = record::scan(&bytes[..cut]);
        assert_eq!(scan.entries, entries(2), "cut at {cut}");
        assert_eq!(torn_at(&bytes[..cut]), offsets[2], "cut at {cut}");
    }
}

#[test]
fn zeros_after_the_records_are_torn() {
    let (mut bytes, _) = file(2);
    let end = bytes.len();
    bytes.extend([0; 4096]);
    assert_eq!(torn_at(&bytes), end);
}

/// A crash can persist the start of a record and leave the rest of it zero (block by
/// block); nothing after such a record can be committed data.
#[test]
fn a_record_cut_short_by_zeros_is_torn() {
    let (bytes, offsets) = file(3);
    for keep in offsets[2] + 1..bytes.len() {
        let mut damaged = bytes.clone();
        damaged[keep..].fill(0);
        damaged.extend([0; 100]);
        assert_eq!(torn_at(&damaged), offsets[2], "zeros from {keep}");
    }
}

#[test]
fn every_bit_flip_before_the_last_record_is_corruption_of_its_record() {
    let (bytes, offsets) = file(3);
    for pos in FILE_HEADER_LEN..offsets[2] {
        let record_at = *offsets.iter().rev().find(|&&o| o <= pos).expect("a record");
        for bit in 0..8 {
            let mut damaged = bytes.clone();
            damaged[pos] ^= 1 << bit;
            assert_eq!(corrupt_at(&damaged), record_at, "byte {pos} bit {bit}");
        }
    }
}

#[test]
fn every_bit_flip_in_the_last_record_is_torn() {
    let (bytes, offsets) = file(3);
    for pos in offsets[2]..bytes.len() {
        for bit in 0..8 {
            let mut damaged = bytes.clone();
            damaged[pos] ^= 1 << bit;
            assert_eq!(torn_at(&damaged), offsets[2], "byte {pos} bit {bit}");
        }
    }
}

#[test]
fn a_consistent_length_over_the_limit_is_corruption() {
    let (mut bytes, offsets) = file(2);
    let len = u32::try_from(MAX_FRAME_LEN + 1).expect("fits");
    bytes[offsets[1]..offsets[1] + 4].copy_from_slice(&len.to_le_bytes());
    bytes[offsets[1] + 4..offsets[1] + 8].copy_from_slice(&(!len).to_le_bytes());
    assert_eq!(corrupt_at(&bytes), offsets[1]);
}

#[test]
fn an_out_of_order_sequence_number_is_caught() {
    let mut bytes = MAGIC.to_vec();
    let mut offsets = Vec::new();
    for seq in [0, 2, 3] {
        offsets.push(bytes.len());
        bytes.extend(record::encode(&entry(seq)).expect("encodes"));
    }
    assert_eq!(corrupt_at(&bytes), offsets[1]);
    assert_eq!(torn_at(&bytes[..offsets[2]]), offsets[1]);
}

#[test]
fn garbage_after_the_records_is_corruption() {
    let (mut bytes, _) = file(2);
    let end = bytes.len();
    bytes.extend(b"this is not a record at all");
    assert_eq!(corrupt_at(&bytes), end);
}
