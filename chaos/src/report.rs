//! What a run counted and what it found wrong, and the table printed at the end.

use std::time::Duration;

use comfy_table::Table;
use comfy_table::presets::ASCII_MARKDOWN;

/// The invariants the harness checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Invariant {
    /// A kill led to exactly the restarts the strategy requires.
    Strategy,
    /// The supervisor gave up exactly when its intensity required.
    Intensity,
    /// The tree came back to all-running after a kill.
    Settle,
    /// No child of the root stays a zombie.
    Zombie,
    /// Nothing is left of a dead child's process group.
    GroupLeftover,
    /// Nothing outlives a SIGKILLed root by more than 1 s.
    Orphan,
    /// The root's fd count and RSS come back to their baseline.
    Footprint,
    /// Every `ctl send` that succeeded is in the pod's session log.
    Committed,
    /// `ctl status` never goes unanswered for more than 1 s.
    Responsive,
    /// `podsup start` runs until the harness stops it.
    RootAlive,
}

impl Invariant {
    fn label(self) -> &'static str {
        match self {
            Invariant::Strategy => "strategy",
            Invariant::Intensity => "intensity",
            Invariant::Settle => "settle",
            Invariant::Zombie => "zombie",
            Invariant::GroupLeftover => "group leftover",
            Invariant::Orphan => "orphan after root kill",
            Invariant::Footprint => "fd/RSS leak",
            Invariant::Committed => "lost commit",
            Invariant::Responsive => "ctl status gap",
            Invariant::RootAlive => "root died",
        }
    }
}

/// One broken invariant, with what was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Which invariant.
    pub invariant: Invariant,
    /// What was seen, for the operator.
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VIOLATION [{}] {}", self.invariant.label(), self.detail)
    }
}

/// The root's fd count and resident set size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Footprint {
    /// Entries in `/proc/PID/fd`.
    pub fds: usize,
    /// `VmRSS` in KiB.
    pub rss_kib: u64,
}

impl Footprint {
    /// Fd slack over the baseline (ctl clients in flight, a child mid-restart).
    pub const FD_SLACK: usize = 20;

    /// Whether `self` is within the generous tolerance of `base`: +20 fds, and RSS at most
    /// +50 % or +10 MiB, whichever is larger.
    pub fn within(&self, base: &Footprint) -> bool {
        let rss_slack = (base.rss_kib / 2).max(10 * 1024);
        self.fds <= base.fds + Self::FD_SLACK && self.rss_kib <= base.rss_kib + rss_slack
    }
}

impl std::fmt::Display for Footprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} fds, {:.1} MiB RSS",
            self.fds,
            self.rss_kib as f64 / 1024.0
        )
    }
}

/// Everything a run counts.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    /// Kill events of one pod or process.
    pub single_kills: u64,
    /// Kill events of all pods and processes of one supervisor.
    pub group_kills: u64,
    /// SIGKILLs of the root.
    pub root_kills: u64,
    /// Pods and processes sent SIGKILL (root kills excluded).
    pub killed: u64,
    /// Victims of a group kill already stopped by their supervisor when their turn came.
    pub absorbed: u64,
    /// Starts of pods and processes that kills caused, by the root's records.
    pub restarts: u64,
    /// Kill events the strategy fully explained.
    pub strategy_ok: u64,
    /// Kill events after which a supervisor gave up per its intensity.
    pub escalations: u64,
    /// Checkpoints passed through.
    pub checkpoints: u64,
    /// `ctl send` that succeeded.
    pub sends_ok: u64,
    /// `ctl send` that failed (expected while pods die).
    pub sends_failed: u64,
    /// Successful sends found in the session logs at the end.
    pub sends_verified: u64,
    /// `ctl status` polls answered.
    pub status_polls: u64,
    /// `ctl status` polls unanswered (root deliberately down excluded).
    pub status_failures: u64,
    /// Longest time without an answer to `ctl status`.
    pub status_max_gap: Duration,
    /// Pods and processes found alive after their root was SIGKILLed (within 1 s).
    pub orphans: u64,
    /// Zombie children of the root that stayed.
    pub zombies: u64,
    /// Processes left in a dead child's group.
    pub leftovers: u64,
    /// The root's footprint at its first checkpoint (the baseline).
    pub baseline: Footprint,
    /// The root's footprint at the end.
    pub last: Footprint,
    /// How long the chaos phase ran.
    pub elapsed: Duration,
}

/// Prints the count table and the violations.
pub fn print(counts: &Counts, violations: &[Violation]) {
    let c = counts;
    let rate = match c.elapsed.as_secs_f64() {
        s if s > 0.0 => (c.single_kills + c.group_kills) as f64 / s,
        _ => 0.0,
    };
    let rows: Vec<(&str, String)> = vec![
        ("chaos time", format!("{:.1} s", c.elapsed.as_secs_f64())),
        (
            "kill events (single / group / root)",
            format!("{} / {} / {}", c.single_kills, c.group_kills, c.root_kills),
        ),
        ("kill rate", format!("{rate:.2} events/s")),
        (
            "pods and processes killed (+ already stopped)",
            format!("{} (+{})", c.killed, c.absorbed),
        ),
        ("restarts caused (root's records)", c.restarts.to_string()),
        ("events explained by strategy", c.strategy_ok.to_string()),
        ("escalations per intensity", c.escalations.to_string()),
        ("checkpoints", c.checkpoints.to_string()),
        (
            "ctl send ok / failed",
            format!("{} / {}", c.sends_ok, c.sends_failed),
        ),
        (
            "sends found committed",
            format!("{} of {}", c.sends_verified, c.sends_ok),
        ),
        (
            "ctl status polls ok / failed",
            format!("{} / {}", c.status_polls, c.status_failures),
        ),
        (
            "longest ctl status gap",
            format!("{} ms", c.status_max_gap.as_millis()),
        ),
        (
            "zombies / group leftovers / orphans",
            format!("{} / {} / {}", c.zombies, c.leftovers, c.orphans),
        ),
        ("root baseline", c.baseline.to_string()),
        ("root at the end", c.last.to_string()),
        ("violations", violations.len().to_string()),
    ];
    let mut table = Table::new();
    table
        .load_preset(ASCII_MARKDOWN)
        .set_header(vec!["count", "value"]);
    for (what, value) in rows {
        table.add_row(vec![what.to_owned(), value]);
    }
    println!("{table}");
    for v in violations {
        println!("{v}");
    }
}
