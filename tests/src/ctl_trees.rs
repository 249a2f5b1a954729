use crate::Root;

/// A loop that stays up until signalled.
pub const LOOP: &str = r#"["sh", "-c", "while :; do sleep 0.05; done"]"#;

/// Three permanent processes under one_for_all: `first`, `x` and `last`.
pub fn all_tree() -> String {
    format!(
        r#"
name = "ctl-all"
strategy = "one_for_all"
max_restarts = 100
within = "10s"

[[child]]
name = "first"
kind = "process"
argv = {LOOP}

[[child]]
name = "x"
kind = "process"
argv = {LOOP}
restart = "permanent"

[[child]]
name = "last"
kind = "process"
argv = {LOOP}
"#
    )
}

/// Waits until each of `names` runs its first generation.
pub fn wait_all_running(root: &Root, names: &[&str]) {
    for name in names {
        root.wait_running(name, 1);
    }
}
