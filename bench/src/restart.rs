//! Restart latency: SIGKILL of a pod (the time taken just before the kill) to the new pod
//! process's first instruction and to its `Ready`, for podsup and the floor, alternating.

use anyhow::{Context, Result};

use crate::clock::{jitter_sleep, now_ns};
use crate::pair::{Pair, order};
use crate::procfs;
use crate::report::{Figure, Target, Unit};

/// How long one restart may take before the figure fails.
const RESTART_TIMEOUT_MS: u64 = 10_000;

/// Which pod to kill next: the oldest pod never killed (so every crash is that pod's first
/// while there are such pods), else the oldest.
#[derive(Debug)]
struct Victims {
    pids: std::collections::VecDeque<u32>,
}

impl Victims {
    fn next(&mut self) -> Option<u32> {
        self.pids.pop_front()
    }

    fn replaced(&mut self, pid: u32) {
        self.pids.push_back(pid);
    }
}

/// Kills one pod of `pair.both[which]` and waits for its successor.
fn one(pair: &mut Pair, which: usize, victims: &mut Victims) -> Result<(f64, f64)> {
    let run = &mut pair.both[which];
    run.subject.stamps.drain()?;
    let victim = victims.next().context("no pod to kill")?;
    let t0 = now_ns();
    procfs::signal(victim, libc::SIGKILL)?;
    let new = run
        .subject
        .stamps
        .wait_restart(RESTART_TIMEOUT_MS)
        .with_context(|| {
            format!(
                "{:?}: restart of pid {victim}; log:\n{}",
                run.subject.kind,
                run.subject.log()
            )
        })?;
    victims.replaced(new.pid);
    if let Some(slot) = run.pids.iter_mut().find(|p| **p == victim) {
        *slot = new.pid;
    }
    Ok(((new.exec - t0) as f64, (new.ready - t0) as f64))
}

/// `samples` restarts each of podsup and the floor, both running `pods` pods.
pub fn measure(pair: &mut Pair, pods: usize, samples: usize, out: &mut Vec<Figure>) -> Result<()> {
    let label = match pods {
        1 => "1 pod".to_owned(),
        n => format!("1 of {n} pods"),
    };
    let mut exec = Figure::new(
        format!("restart.exec.{pods}"),
        format!("restart → exec, {label}"),
        Unit::Nanos,
    )
    .target(Target::RatioAtMost(1.3))
    .note("SIGKILL → the new pod-worker's first instruction (its start stamp); floor: waitpid() + re-spawn loop");
    let mut ready = Figure::new(
        format!("restart.ready.{pods}"),
        format!("restart → Ready, {label}"),
        Unit::Nanos,
    )
    .target(Target::RatioAtMost(2.0))
    .note("SIGKILL → the new pod-worker sent Ready (its ready stamp); floor: waitpid() + re-spawn + handshake");
    let mut victims = [0, 1].map(|i| Victims {
        pids: pair.both[i].pids.iter().copied().collect(),
    });
    for i in 0..samples {
        for which in order(i) {
            let (to_exec, to_ready) = one(pair, which, &mut victims[which])?;
            let (e, r) = match which {
                0 => (&mut exec.podsup, &mut ready.podsup),
                _ => (&mut exec.floor, &mut ready.floor),
            };
            e.push(to_exec);
            r.push(to_ready);
            jitter_sleep(20, 20);
        }
    }
    out.extend([exec, ready]);
    Ok(())
}
