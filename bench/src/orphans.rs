//! No orphans: SIGKILL the supervisor and count its pods still alive a second later.

use std::time::Duration;

use anyhow::{Context, Result};

use crate::clock::now_ns;
use crate::pair::{Running, order};
use crate::procfs::{self, ExitWatch};
use crate::report::{Figure, Stat, Target, Unit};
use crate::subject::{Bins, Kind};

/// One kill; returns (pods alive 1 s later, ns until the last pod was gone or 1 s).
fn one(bins: &Bins, kind: Kind, pods: usize) -> Result<(f64, f64)> {
    let mut run = Running::start(bins, kind, pods)?;
    std::thread::sleep(Duration::from_millis(300));
    let mut watch = ExitWatch::new(&run.pids)?;
    let t0 = now_ns();
    run.subject.kill()?;
    watch
        .wait_all(t0 + 1_000_000_000)
        .context("waiting for the pods")?;
    // Sleep out the rest of the second, then look at /proc, not only at the pidfds.
    let rest = (t0 + 1_000_000_000).saturating_sub(now_ns());
    std::thread::sleep(Duration::from_nanos(rest));
    let alive = run.pids.iter().filter(|pid| procfs::alive(**pid)).count();
    run.subject.reap()?;
    Ok((alive as f64, (watch.last_ns - t0) as f64))
}

/// `runs` kills of podsup and of the floor, each with `pods` pods.
pub fn measure(bins: &Bins, pods: usize, runs: usize, out: &mut Vec<Figure>) -> Result<()> {
    let mut alive = Figure::new(
        format!("orphans.alive.{pods}"),
        format!("pods alive 1 s after the root's SIGKILL ({pods})"),
        Unit::Count,
    )
    .target(Target::AtMost(0.0, Stat::Max))
    .note("PR_SET_PDEATHSIG(SIGKILL) and the guard; checked in /proc");
    let mut gone = Figure::new(
        format!("orphans.gone.{pods}"),
        format!("root SIGKILL → last pod gone ({pods})"),
        Unit::Nanos,
    )
    .note("pidfd of every pod; capped at 1 s");
    for i in 0..runs {
        for which in order(i) {
            let kind = [Kind::Podsup, Kind::Floor][which];
            let (a, g) = one(bins, kind, pods)?;
            let (alive_v, gone_v) = match kind {
                Kind::Podsup => (&mut alive.podsup, &mut gone.podsup),
                Kind::Floor => (&mut alive.floor, &mut gone.floor),
            };
            alive_v.push(a);
            gone_v.push(g);
        }
    }
    out.extend([alive, gone]);
    Ok(())
}
