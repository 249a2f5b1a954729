//! Command line and profiles: `ci` (60 s, in `.ci/run`) and `long` (10 min, root kills
//! too, on demand); every knob can be overridden.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Parser, ValueEnum};

/// A preset of durations and rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Profile {
    /// 60 s of chaos, no root kills: CI.
    Ci,
    /// 10 minutes, faster kills, and the root itself SIGKILLed every minute.
    Long,
}

/// podsup's chaos and fault harness: a tree of ~50 pods, processes and supervisors under
/// `ctl send` load, `kill -9` at a set rate, every invariant checked from the root's own
/// records.
#[derive(Debug, Parser)]
#[command(name = "podsup-chaos", version, about)]
pub struct Args {
    /// Preset of the settings below.
    #[arg(long, value_enum, default_value = "ci")]
    profile: Profile,
    /// Length of the chaos phase.
    #[arg(long, value_name = "N")]
    seconds: Option<u64>,
    /// Seed of every random choice (printed, so a run can be replayed).
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// Time from one kill event to the next (longer if the tree takes longer to settle).
    #[arg(long, value_name = "MS")]
    interval_ms: Option<u64>,
    /// Chance that an event kills every pod and process of one supervisor at once.
    #[arg(long, value_name = "PERCENT")]
    group_percent: Option<u32>,
    /// SIGKILL the root (and start it again) every N seconds; 0 never.
    #[arg(long, value_name = "N")]
    root_kill_every: Option<u64>,
    /// Seconds between checkpoints (zombies, fds/RSS, committed sends, ctl gaps).
    #[arg(long, value_name = "N")]
    checkpoint_every: Option<u64>,
    /// Threads running `ctl send` load.
    #[arg(long, value_name = "N")]
    senders: Option<usize>,
    /// The podsup binary (default: `podsup` next to this binary).
    #[arg(long, value_name = "PATH")]
    podsup: Option<PathBuf>,
    /// Keep the work dir (tree, logs, state) even when every invariant held.
    #[arg(long)]
    keep: bool,
    /// Let the senders share pods, so two `ctl send` may race for one pod (by default each
    /// sender owns a share of the pods, and a send can only be lost to a kill).
    #[arg(long)]
    contend: bool,
}

/// The settings of one run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The preset it started from.
    pub profile: Profile,
    /// Length of the chaos phase.
    pub duration: Duration,
    /// Seed of every random choice.
    pub seed: u64,
    /// Time from one kill event to the next.
    pub interval: Duration,
    /// Chance of a whole-supervisor kill, in percent.
    pub group_percent: u32,
    /// Period of root kills, if any.
    pub root_kill_every: Option<Duration>,
    /// Period of checkpoints.
    pub checkpoint_every: Duration,
    /// `ctl send` threads.
    pub senders: usize,
    /// The podsup binary.
    pub podsup: PathBuf,
    /// Keep the work dir.
    pub keep: bool,
    /// Senders share pods.
    pub contend: bool,
}

/// Settings that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// No podsup binary where one was expected.
    #[error(
        "no podsup binary at {0}: build it first (`cargo build --bins`, as scripts/chaos does) or pass --podsup"
    )]
    NoPodsup(PathBuf),
    /// This binary's own path is unknown.
    #[error("cannot find this executable: {0}")]
    SelfExe(std::io::Error),
    /// A percentage above 100.
    #[error("--group-percent must be 0..=100, not {0}")]
    Percent(u32),
    /// A zero that would make the run meaningless.
    #[error("--{0} must be greater than 0")]
    Zero(&'static str),
}

impl Args {
    /// The settings: the profile's, overridden by what was given.
    pub fn config(self) -> Result<Config, ConfigError> {
        let (seconds, interval, root_kill, checkpoint, senders) = match self.profile {
            Profile::Ci => (60, 500, 0, 20, 2),
            Profile::Long => (600, 300, 60, 30, 3),
        };
        let podsup = match self.podsup {
            Some(p) => p,
            None => std::env::current_exe()
                .map_err(ConfigError::SelfExe)?
                .with_file_name("podsup"),
        };
        if !podsup.is_file() {
            return Err(ConfigError::NoPodsup(podsup));
        }
        let group_percent = self.group_percent.unwrap_or(25);
        if group_percent > 100 {
            return Err(ConfigError::Percent(group_percent));
        }
        let nonzero = |v: u64, name| {
            if v == 0 {
                Err(ConfigError::Zero(name))
            } else {
                Ok(v)
            }
        };
        let seconds = nonzero(self.seconds.unwrap_or(seconds), "seconds")?;
        let checkpoint = nonzero(
            self.checkpoint_every.unwrap_or(checkpoint),
            "checkpoint-every",
        )?;
        let root_kill = self.root_kill_every.unwrap_or(root_kill);
        Ok(Config {
            profile: self.profile,
            duration: Duration::from_secs(seconds),
            seed: self.seed.unwrap_or_else(clock_seed),
            interval: Duration::from_millis(self.interval_ms.unwrap_or(interval)),
            group_percent,
            root_kill_every: (root_kill > 0).then(|| Duration::from_secs(root_kill)),
            checkpoint_every: Duration::from_secs(checkpoint),
            senders: self.senders.unwrap_or(senders),
            podsup,
            keep: self.keep,
            contend: self.contend,
        })
    }
}

/// A seed from the clock, for runs that do not name one.
fn clock_seed() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0x5eed)
}
