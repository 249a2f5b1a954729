//! The tree.toml loader under fuzz-like inputs, as proptests; the cargo-fuzz target
//! `fuzz/fuzz_targets/tree_toml.rs` checks the same properties without a bound. Inputs are
//! arbitrary bytes (control characters and invalid UTF-8 included, read lossily, which
//! `roundtrip.rs`'s printable-text test does not reach) and random byte edits of the
//! commented example tree, which reach deep into every table kind. Loading never panics,
//! and a refusal has diagnostics, each on one line at a 1-based position inside the file.

use std::path::PathBuf;

use podsup_config::parse;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};

/// The commented example: every kind of table, nested supervisors, a backoff.
const EXAMPLE: &str = include_str!("../../examples/tree.toml");

/// Pieces of TOML syntax and podsup vocabulary that edits splice in.
const PIECES: &[&str] = &[
    "[",
    "]",
    "[[child]]\n",
    "[[child.child]]\n",
    "[child.echo]\n",
    "=",
    "\"",
    "'",
    "{",
    "}",
    ",",
    "\n",
    "#",
    "\\",
    "\"\"\"",
    "0x",
    "1e999",
    "-",
    "inf",
    "nan",
    "true",
    ".",
    "\0",
    "é",
    "kind = \"supervisor\"\n",
    "kind = \"process\"\n",
    "child = []\n",
    "within = \"0s\"\n",
    "max_restarts = -1\n",
    "engine = \"llm\"\n",
    "name = \"root\"\n",
    "argv = []\n",
];

/// One edit of the file: a byte replaced, a piece inserted, or a run of bytes deleted.
#[derive(Debug, Clone)]
enum Edit {
    Replace(Index, u8),
    Insert(Index, &'static str),
    Delete(Index, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), any::<u8>()).prop_map(|(at, b)| Edit::Replace(at, b)),
        (any::<Index>(), select(PIECES)).prop_map(|(at, p)| Edit::Insert(at, p)),
        (any::<Index>(), 1usize..40).prop_map(|(at, n)| Edit::Delete(at, n)),
    ]
}

fn apply(bytes: &mut Vec<u8>, edit: &Edit) {
    match edit {
        Edit::Replace(at, b) if !bytes.is_empty() => {
            let at = at.index(bytes.len());
            bytes[at] = *b;
        }
        Edit::Replace(..) => {}
        Edit::Insert(at, piece) => {
            let at = at.index(bytes.len() + 1);
            bytes.splice(at..at, piece.bytes());
        }
        Edit::Delete(at, n) => {
            let at = at.index(bytes.len() + 1);
            let end = (at + n).min(bytes.len());
            bytes.drain(at..end);
        }
    }
}

fn tree_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/tree.toml")
}

/// Loads `bytes` (lossily as UTF-8) and checks what a refusal says.
fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
    let text = String::from_utf8_lossy(bytes);
    let Err(err) = parse(&text, &tree_path()) else {
        return Ok(());
    };
    let diagnostics = err.diagnostics();
    prop_assert!(!diagnostics.is_empty(), "a refusal without a diagnostic");
    let lines = text.lines().count().max(1);
    for d in diagnostics {
        prop_assert!(d.line >= 1 && d.column >= 1, "not 1-based: {d:?}");
        prop_assert!(
            d.line <= lines + 1,
            "line past the end ({lines} lines): {d:?}"
        );
        prop_assert!(
            !d.message.contains('\n'),
            "message over several lines: {d:?}"
        );
    }
    Ok(())
}

#[test]
fn the_unedited_example_loads() {
    if let Err(e) = parse(EXAMPLE, &tree_path()) {
        panic!("{e}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..512)) {
        check(&bytes)?;
    }

    #[test]
    fn edited_examples_never_panic(edits in vec(edit(), 1..8)) {
        let mut bytes = EXAMPLE.as_bytes().to_vec();
        for e in &edits {
            apply(&mut bytes, e);
        }
        check(&bytes)?;
    }
}
