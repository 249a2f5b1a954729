//! One chaos run: boot the tree, start the load, kill at the set rate until the time is up
//! (checking after every event and at every checkpoint), then stop the load and check
//! everything once more.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::intensity::Intensities;
use crate::load::{self, Load, Shared};
use crate::report::{Counts, Footprint, Invariant, Violation};
use crate::rng::Rng;
use crate::root::{Root, RootError};
use crate::status::Snapshot;
use crate::tree::Model;

/// Why a run could not be carried out at all (as opposed to finding violations).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The work dir could not be made.
    #[error("cannot create a work dir: {0}")]
    WorkDir(std::io::Error),
    /// The root did not start.
    #[error(transparent)]
    Root(#[from] RootError),
}

/// What a run found.
#[derive(Debug)]
pub struct Finding {
    /// The counts.
    pub counts: Counts,
    /// Every broken invariant.
    pub violations: Vec<Violation>,
    /// The work dir, if it was kept.
    pub kept: Option<PathBuf>,
}

/// A run in progress.
#[derive(Debug)]
pub struct Chaos {
    pub(crate) config: Config,
    pub(crate) model: Model,
    pub(crate) root: Root,
    pub(crate) rng: Rng,
    pub(crate) counts: Counts,
    pub(crate) violations: Vec<Violation>,
    pub(crate) intensities: Intensities,
    pub(crate) shared: Arc<Shared>,
    /// The last settled status.
    pub(crate) settled: Snapshot,
    /// The root's footprint at its first checkpoint after [`WARM_UP`] of load and
    /// restarts (its allocator's pools have grown by then); `None` until then.
    pub(crate) baseline: Option<Footprint>,
    /// When the current root came up.
    pub(crate) root_since: Instant,
    /// Whether a status gap over the bound was already reported.
    pub(crate) gap_reported: bool,
    /// Where the next checkpoint's sample of pods starts.
    pub(crate) sample_from: usize,
    /// Inputs already reported lost, so each is reported once.
    pub(crate) reported_lost: BTreeSet<String>,
}

/// How long a root runs under load and kills before its footprint is taken as the baseline.
pub const WARM_UP: Duration = Duration::from_secs(15);

/// The longest the root may leave `ctl status` unanswered.
pub const STATUS_BOUND: Duration = Duration::from_secs(1);

/// Runs the harness with `config`.
pub fn run(config: &Config) -> Result<Finding, RunError> {
    let dir = tempfile::Builder::new()
        .prefix("podsup-chaos")
        .tempdir()
        .map_err(RunError::WorkDir)?;
    let model = Model::chaos();
    println!(
        "podsup-chaos: {:?} profile, {} s, seed {}, one event every {} ms, {}% whole-supervisor kills, root kill every {}, work dir {}",
        config.profile,
        config.duration.as_secs(),
        config.seed,
        config.interval.as_millis(),
        config.group_percent,
        config
            .root_kill_every
            .map_or("never".to_owned(), |d| format!("{} s", d.as_secs())),
        dir.path().display()
    );
    let root = match Root::start(&config.podsup, dir.path(), &model) {
        Ok(root) => root,
        Err(e) => {
            // Keep the tree and the root's log for the operator.
            let kept = dir.keep();
            eprintln!("podsup-chaos: work dir kept: {}", kept.display());
            return Err(e.into());
        }
    };
    println!(
        "podsup-chaos: tree up: {} nodes ({} pods and processes), root pid {}",
        model.nodes.len(),
        model.leaf_indices().len(),
        root.pid().unwrap_or(0)
    );
    let mut chaos = Chaos {
        config: config.clone(),
        rng: Rng::new(config.seed),
        counts: Counts::default(),
        violations: Vec::new(),
        intensities: Intensities::new(&model),
        shared: Arc::new(Shared::default()),
        settled: Snapshot::default(),
        baseline: None,
        root_since: Instant::now(),
        gap_reported: false,
        sample_from: 0,
        reported_lost: BTreeSet::new(),
        model,
        root,
    };
    chaos.main_phase();
    let counts = chaos.counts.clone();
    let violations = std::mem::take(&mut chaos.violations);
    drop(chaos);
    let kept = match config.keep || !violations.is_empty() {
        true => Some(dir.keep()),
        false => None,
    };
    Ok(Finding {
        counts,
        violations,
        kept,
    })
}

impl Chaos {
    /// Records a broken invariant and says so at once.
    pub(crate) fn violated(&mut self, invariant: Invariant, detail: String) {
        let v = Violation { invariant, detail };
        println!("{v}");
        self.violations.push(v);
    }

    fn main_phase(&mut self) {
        let load = Load {
            ctl: self.root.ctl(),
            pods: self.model.pods(),
            seed: self.config.seed,
            shared: self.shared.clone(),
            contend: self.config.contend,
        };
        let mut threads: Vec<JoinHandle<()>> = load::senders(&load, self.config.senders);
        threads.push(load::monitor(self.root.ctl(), self.shared.clone()));
        let healthy = self.warm_up() && self.chaos_phase();
        self.shared.stop();
        for t in threads {
            if t.join().is_err() {
                self.violated(Invariant::RootAlive, "a load thread panicked".into());
            }
        }
        if healthy {
            self.final_phase();
        }
        self.counts.sends_ok = self.shared.sent().len() as u64;
        self.counts.sends_failed = self.shared.failed();
    }

    /// The tree as it stands once it is up, before the first kill.
    fn warm_up(&mut self) -> bool {
        match self.settle(&[]) {
            Some(snap) => self.settled = snap,
            None => return false,
        }
        true
    }

    /// Kill events at the set rate, checkpoints and root kills on their periods, until the
    /// time is up; false if the tree could not be brought back (the run stops there).
    fn chaos_phase(&mut self) -> bool {
        let start = Instant::now();
        let mut next_checkpoint = start + self.config.checkpoint_every;
        let mut next_root_kill = self.config.root_kill_every.map(|d| start + d);
        let mut healthy = true;
        while healthy && start.elapsed() < self.config.duration {
            let event_start = Instant::now();
            healthy = match next_root_kill {
                Some(at) if event_start >= at => {
                    next_root_kill = self.config.root_kill_every.map(|d| event_start + d);
                    self.root_kill()
                }
                Some(_) | None => self.kill_event(),
            };
            if healthy && Instant::now() >= next_checkpoint {
                self.checkpoint(false);
                next_checkpoint = Instant::now() + self.config.checkpoint_every;
            }
            let pause = self.config.interval.saturating_sub(event_start.elapsed());
            // Pacing between kills: the rate the operator asked for.
            std::thread::sleep(pause.min(self.config.duration.saturating_sub(start.elapsed())));
        }
        self.counts.elapsed = start.elapsed();
        healthy
    }

    /// With the load stopped: the tree settles, then every check runs once more, strictly.
    fn final_phase(&mut self) {
        match self.settle(&[]) {
            Some(snap) => self.settled = snap,
            None => return,
        }
        self.checkpoint(true);
    }
}
