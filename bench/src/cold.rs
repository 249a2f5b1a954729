//! Cold start and orderly stop, one cycle per sample: start the supervisor with N pods,
//! wait until every pod sent `Ready`, ask for an orderly stop, wait until every pod and the
//! supervisor exited. podsup and the floor take turns; the floor stops one pod at a time
//! in reverse start order (podsup's semantics) and, in a third turn every third sample,
//! all at once.

use anyhow::{Context, Result, ensure};

use crate::clock::{jitter_sleep, now_ns};
use crate::pair::START_TIMEOUT_MS;
use crate::procfs::ExitWatch;
use crate::report::{Figure, Target, Unit};
use crate::subject::{Bins, Kind, Subject};

/// One cycle's times, ns from the spawn (start) or from the stop request (stop).
#[derive(Debug, Clone, Copy)]
struct Cycle {
    exec: f64,
    ready: f64,
    pods_gone: f64,
    exited: f64,
}

fn cycle(bins: &Bins, kind: Kind, pods: usize, parallel_stop: bool) -> Result<Cycle> {
    let (mut subject, t0) = Subject::start(bins, kind, pods)?;
    let up = subject
        .stamps
        .wait_all_ready(pods, START_TIMEOUT_MS)
        .with_context(|| format!("{kind:?} cold start; log:\n{}", subject.log()))?;
    // Let the supervisor finish its own bookkeeping before it is asked to stop.
    jitter_sleep(300, 100);
    let mut watch = ExitWatch::new(&up.pids)?;
    let t1 = now_ns();
    subject.request_stop(parallel_stop)?;
    let gone = watch.wait_all(t1 + START_TIMEOUT_MS * 1_000_000)?;
    ensure!(
        gone,
        "{kind:?}: {} of {pods} pods still running after the stop timeout",
        watch.len() - watch.exited
    );
    let (exited, status) = subject.wait_exit(START_TIMEOUT_MS)?;
    ensure!(
        status.success(),
        "{kind:?} exited with {status} on an orderly stop; log:\n{}",
        subject.log()
    );
    Ok(Cycle {
        exec: (up.last_exec - t0) as f64,
        ready: (up.last_ready - t0) as f64,
        pods_gone: (watch.last_ns - t1) as f64,
        exited: (exited - t1) as f64,
    })
}

/// `samples` cold-start-and-stop cycles of podsup and of the floor with `pods` pods.
pub fn measure(bins: &Bins, pods: usize, samples: usize, out: &mut Vec<Figure>) -> Result<()> {
    let gate = |x: f64| match pods {
        1000 => Target::RatioAtMost(x),
        _ => Target::None,
    };
    let mut exec = Figure::new(format!("cold.exec.{pods}"), format!("cold start {pods} → all exec'd"), Unit::Nanos)
        .target(gate(1.5))
        .note("spawn of `podsup start` (floor: of the floor process) → the last pod's start stamp; parallel start");
    let mut ready = Figure::new(
        format!("cold.ready.{pods}"),
        format!("cold start {pods} → all Ready"),
        Unit::Nanos,
    )
    .target(gate(2.0))
    .note("spawn of the supervisor → the last pod's Ready stamp");
    let mut exited = Figure::new(format!("stop.exit.{pods}"), format!("orderly stop {pods} → supervisor exited"), Unit::Nanos)
        .target(gate(3.0))
        .note("SIGTERM (floor: a line on stdin) → the supervisor process exited; floor stops one pod at a time in reverse order, like podsup");
    let mut gone = Figure::new(
        format!("stop.pods.{pods}"),
        format!("orderly stop {pods} → last pod exited"),
        Unit::Nanos,
    )
    .target(gate(3.0))
    .note("stop request → the last pod's exit (pidfd); same floor");
    let mut parallel = Figure::new(format!("stop.parallel.{pods}"), format!("orderly stop {pods}, floor stopping all at once"), Unit::Nanos)
        .note("podsup: as above (supervisor exited); floor: Shutdown to every pod at once, then wait for all — a floor without the reverse order");
    for i in 0..samples {
        // The all-at-once floor is information only: every third sample is enough.
        let mut turns = match i % 2 {
            0 => vec![(Kind::Podsup, false), (Kind::Floor, false)],
            _ => vec![(Kind::Floor, false), (Kind::Podsup, false)],
        };
        if i % 3 == 0 {
            turns.push((Kind::Floor, true));
        }
        for (kind, par) in turns {
            let c = cycle(bins, kind, pods, par)?;
            match (kind, par) {
                (Kind::Podsup, _) => {
                    exec.podsup.push(c.exec);
                    ready.podsup.push(c.ready);
                    exited.podsup.push(c.exited);
                    gone.podsup.push(c.pods_gone);
                    parallel.podsup.push(c.exited);
                }
                (Kind::Floor, false) => {
                    exec.floor.push(c.exec);
                    ready.floor.push(c.ready);
                    exited.floor.push(c.exited);
                    gone.floor.push(c.pods_gone);
                }
                (Kind::Floor, true) => {
                    exec.floor.push(c.exec);
                    ready.floor.push(c.ready);
                    parallel.floor.push(c.exited);
                }
            }
            jitter_sleep(100, 50);
        }
    }
    out.extend([exec, ready, exited, gone, parallel]);
    Ok(())
}
