//! `podsup-chaos`: podsup's chaos and fault harness.
//!
//! Boots a tree of ~50 pods, processes and supervisors under every strategy with the real
//! `podsup start`, runs `ctl send` load and a `ctl status` poller, and `kill -9`s random
//! pods and processes (sometimes all of one supervisor's at once, in the long profile the
//! root too) at a set rate for a bounded time. After every kill and at every checkpoint it
//! checks, from the root's own records and `/proc`: the restarts the strategy (or the
//! escalation the intensity) requires, no zombies, nothing left of a dead child's process
//! group, nothing alive 1 s after the root's SIGKILL, fds and RSS back near their baseline,
//! every successful `ctl send` in the pod's session log, and `ctl status` never unanswered
//! for more than 1 s. Prints a count table; exits 1 on any violation, 2 if it could not run.

mod checks;
mod config;
mod ctl;
mod events;
mod expect;
mod intensity;
mod judge;
mod load;
mod procs;
mod report;
mod rng;
mod root;
mod run;
mod status;
mod tree;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let config = match config::Args::parse().config() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("podsup-chaos: {e}");
            return ExitCode::from(2);
        }
    };
    let finding = match run::run(&config) {
        Ok(finding) => finding,
        Err(e) => {
            eprintln!("podsup-chaos: {:#}", anyhow::Error::from(e));
            return ExitCode::from(2);
        }
    };
    report::print(&finding.counts, &finding.violations);
    if let Some(dir) = &finding.kept {
        println!("podsup-chaos: work dir kept: {}", dir.display());
    }
    match finding.violations.is_empty() {
        true => {
            println!("podsup-chaos: every invariant held (seed {})", config.seed);
            ExitCode::SUCCESS
        }
        false => {
            println!(
                "podsup-chaos: {} violations (replay with --seed {})",
                finding.violations.len(),
                config.seed
            );
            ExitCode::from(1)
        }
    }
}
