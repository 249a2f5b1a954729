//! `podsup-bench`: podsup's benchmark. Every figure is measured in the same run as its
//! floor — the least any supervisor of the same pod-workers could do — with samples of the
//! two interleaved, so ratios hold on a noisy machine. `scripts/bench` builds and runs it.

mod ballast;
mod clock;
mod cold;
mod ctl;
mod floor;
mod footprint;
mod message;
mod neighbour;
mod orphans;
mod pair;
mod pods;
mod procfs;
mod raw;
mod report;
mod restart;
mod stamps;
mod stats;
mod subject;
mod tags;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use crate::report::Figure;
use crate::subject::Bins;

#[derive(Debug, Parser)]
#[command(
    name = "podsup-bench",
    about = "podsup's benchmark: each figure against its floor"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the benchmark, print the table and write the JSON results.
    Run(RunArgs),
    /// Drive a running root for a profiler: `rtt` (ctl cancel round trips) or `stream`
    /// (turns of POD streamed to an attached client), COUNT times.
    #[command(hide = true)]
    Drive {
        /// `rtt` or `stream`.
        what: String,
        /// The root's runtime dir.
        #[arg(long)]
        runtime_dir: PathBuf,
        /// The pod.
        #[arg(long)]
        pod: String,
        /// How many round trips or turns.
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        /// Characters per turn (stream).
        #[arg(long, default_value_t = 65536)]
        chars: usize,
    },
    /// The floor supervisor (started by `run`; not for people).
    #[command(hide = true)]
    Floor {
        /// The podsup binary whose pod-worker to run.
        #[arg(long)]
        podsup: PathBuf,
        /// How many pods.
        #[arg(long)]
        pods: usize,
        /// `PODSUP_START_STAMP` for the pods.
        #[arg(long)]
        stamps: PathBuf,
        /// Base of the pods' state dirs.
        #[arg(long)]
        state: PathBuf,
        /// Diagnostic: MiB of touched memory the floor carries (as a big root would).
        #[arg(long, default_value_t = 0)]
        ballast_mib: usize,
        /// Diagnostic: close-on-exec fds the floor holds open (as a big root would).
        #[arg(long, default_value_t = 0)]
        ballast_fds: usize,
    },
}

/// Sections of a run, in the order they run.
const SECTIONS: [&str; 6] = ["restart", "empty", "cold", "message", "hostile", "orphans"];

/// Sections that run only when named in `--only`.
const DIAGNOSTICS: [&str; 1] = ["ballast"];

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The podsup binary (default: `podsup` next to this binary).
    #[arg(long)]
    podsup: Option<PathBuf>,
    /// Quick profile: 100 pods, 10 samples per figure.
    #[arg(long)]
    quick: bool,
    /// Where to write the JSON results.
    #[arg(long, default_value = "target/bench/results.json")]
    out: PathBuf,
    /// Only these sections (comma-separated): restart (with footprint), empty, cold,
    /// message, hostile, orphans; and the diagnostic `ballast` (the restart floor carrying podsup's
    /// RSS and fd count), which runs only when named.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Samples per latency figure (default: 10 quick, 30 full; at least 30 for a
    /// publishable run).
    #[arg(long)]
    samples: Option<usize>,
    /// Pod counts for the many-pod figures (default: 100 quick, 100,1000 full).
    #[arg(long, value_delimiter = ',')]
    pods: Vec<usize>,
}

/// How much of everything a run measures.
#[derive(Debug, Clone, serde::Serialize)]
struct Profile {
    name: &'static str,
    pods: Vec<usize>,
    samples: usize,
    round_trips: usize,
    execs: usize,
    turns: usize,
    orphan_runs: usize,
    idle_secs: u64,
    /// How long the tree has been up before its idle CPU is measured.
    idle_settle_secs: u64,
}

impl Profile {
    fn of(args: &RunArgs) -> Profile {
        let mut p = match args.quick {
            true => Profile {
                name: "quick",
                pods: vec![100],
                samples: 10,
                round_trips: 300,
                execs: 20,
                turns: 10,
                orphan_runs: 1,
                idle_secs: 3,
                idle_settle_secs: 0,
            },
            false => Profile {
                name: "full",
                pods: vec![100, 1000],
                samples: 30,
                round_trips: 2000,
                execs: 100,
                turns: 30,
                orphan_runs: 3,
                idle_secs: 10,
                idle_settle_secs: 40,
            },
        };
        if let Some(n) = args.samples {
            p.samples = n;
            p.turns = n;
        }
        if !args.pods.is_empty() {
            p.pods = args.pods.clone();
        }
        p
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Run(args) => run(&args),
        Command::Floor {
            podsup,
            pods,
            stamps,
            state,
            ballast_mib,
            ballast_fds,
        } => floor::run(
            pods::PodTemplate {
                podsup,
                stamps,
                state,
            },
            pods,
            floor::Ballast {
                mib: ballast_mib,
                fds: ballast_fds,
            },
        ),
        Command::Drive {
            what,
            runtime_dir,
            pod,
            count,
            chars,
        } => message::drive(&what, &ctl::Ctl::new(&runtime_dir), &pod, (count, chars)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("podsup-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &RunArgs) -> Result<()> {
    let profile = Profile::of(args);
    let bench = std::env::current_exe().context("finding this binary")?;
    let podsup = match &args.podsup {
        Some(p) => p.clone(),
        None => bench.with_file_name("podsup"),
    };
    let podsup = podsup
        .canonicalize()
        .with_context(|| format!("no podsup binary at {}", podsup.display()))?;
    let work = tempfile::Builder::new().prefix("podsup-bench").tempdir()?;
    let bins = Bins {
        podsup,
        bench,
        work: work.path().to_owned(),
    };
    let named = |s: &str| args.only.iter().any(|o| o == s);
    let wanted = |s: &str| args.only.is_empty() || named(s);
    let mut figures: Vec<Figure> = Vec::new();
    let context = |profile: &Profile| {
        serde_json::json!({
            "profile": profile,
            "podsup": bins.podsup,
            "revision": std::env::var("PODSUP_BENCH_REV").unwrap_or_default(),
            "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
            "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
            "loadavg": std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim(),
            "unix_time": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        })
    };
    let sections = SECTIONS
        .into_iter()
        .filter(|s| wanted(s))
        .chain(DIAGNOSTICS.into_iter().filter(|s| named(s)));
    for section in sections {
        let t0 = clock::now_ns();
        section_run(section, &bins, &profile, &mut figures)
            .with_context(|| format!("section {section}"))?;
        eprintln!(
            "podsup-bench: {section} done in {:.1} s",
            (clock::now_ns() - t0) as f64 / 1e9
        );
        write(&args.out, &report::json(&figures, context(&profile)))?;
    }
    println!("{}", report::table(&figures));
    println!("results: {}", args.out.display());
    Ok(())
}

fn section_run(section: &str, bins: &Bins, profile: &Profile, out: &mut Vec<Figure>) -> Result<()> {
    match section {
        "restart" => {
            let largest = profile.pods.iter().copied().max().unwrap_or(1);
            for pods in std::iter::once(1).chain(profile.pods.iter().copied()) {
                eprintln!("podsup-bench: restart and footprint, {pods} pods");
                let mut pair = pair::Pair::start(bins, pods)?;
                footprint::memory(&pair, pods, out)?;
                if pods == largest {
                    let span = (profile.idle_settle_secs, profile.idle_secs);
                    footprint::idle_cpu(&pair, pods, span, out)?;
                }
                restart::measure(&mut pair, pods, profile.samples.max(1), out)?;
            }
            Ok(())
        }
        "empty" => footprint::empty(bins, out),
        "cold" => {
            for pods in &profile.pods {
                eprintln!("podsup-bench: cold start and stop, {pods} pods");
                cold::measure(bins, *pods, profile.samples, out)?;
            }
            Ok(())
        }
        "message" => {
            eprintln!("podsup-bench: message path");
            let counts = message::Counts {
                round_trips: profile.round_trips,
                execs: profile.execs,
                turns: profile.turns,
            };
            message::measure(bins, counts, out)
        }
        "hostile" => neighbour::measure(bins, profile.round_trips, out),
        "ballast" => {
            let pods = profile.pods.iter().copied().max().unwrap_or(100);
            eprintln!("podsup-bench: floor with podsup's memory and fds, {pods} pods");
            ballast::measure(bins, pods, profile.samples, out)
        }
        "orphans" => {
            let pods = profile.pods.iter().copied().max().unwrap_or(100);
            eprintln!("podsup-bench: orphans, {pods} pods");
            orphans::measure(bins, pods, profile.orphan_runs, out)
        }
        other => anyhow::bail!("unknown section {other}"),
    }
}

fn write(path: &std::path::Path, doc: &serde_json::Value) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, serde_json::to_string_pretty(doc)? + "\n")
        .with_context(|| format!("writing {}", path.display()))
}
