//! The tree.toml loader on arbitrary text: never a panic, and a refusal always comes with
//! at least one diagnostic, each on one line with a 1-based position inside the file.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Err(err) = podsup_config::parse(&text, Path::new("/fuzz/tree.toml")) else {
        return;
    };
    let diagnostics = err.diagnostics();
    assert!(!diagnostics.is_empty(), "a refusal without a diagnostic");
    let lines = text.lines().count().max(1);
    for d in diagnostics {
        assert!(d.line >= 1 && d.column >= 1, "position not 1-based: {d:?}");
        assert!(
            d.line <= lines + 1,
            "line {} past the end ({lines} lines): {d:?}",
            d.line
        );
        assert!(
            !d.message.contains('\n'),
            "message over several lines: {d:?}"
        );
    }
});
