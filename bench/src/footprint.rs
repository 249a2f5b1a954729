//! Footprint: the supervisor's RSS and PSS, an idle pod-worker's RSS and PSS, and the
//! supervisor's CPU use while nothing happens.

use std::time::Duration;

use anyhow::Result;

use crate::clock::now_ns;
use crate::pair::{Pair, Running};
use crate::procfs;
use crate::report::{Figure, Stat, Target, Unit};
use crate::subject::{Bins, Kind};

const MIB: f64 = 1024.0 * 1024.0;

/// Root RSS target at 1,000 pods.
const ROOT_RSS_AT_1000: f64 = 30.0 * MIB;
/// Idle pod-worker PSS target.
const POD_PSS: f64 = 2.0 * MIB;

/// Five readings of the supervisor's memory, 100 ms apart.
fn supervisor_memory(run: &Running) -> Result<(Vec<f64>, Vec<f64>)> {
    let (mut rss, mut pss) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let m = procfs::memory(run.subject.pid())?;
        rss.push(m.rss as f64);
        pss.push(m.pss as f64);
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok((rss, pss))
}

/// Every pod's memory.
fn pods_memory(run: &Running) -> Result<(Vec<f64>, Vec<f64>)> {
    let (mut rss, mut pss) = (Vec::new(), Vec::new());
    for pid in &run.pids {
        let m = procfs::memory(*pid)?;
        rss.push(m.rss as f64);
        pss.push(m.pss as f64);
    }
    Ok((rss, pss))
}

/// The supervisors' memory with `pods` pods (and the pods' own from 100 pods up).
pub fn memory(pair: &Pair, pods: usize, out: &mut Vec<Figure>) -> Result<()> {
    let [podsup, floor] = &pair.both;
    let (p_rss, p_pss) = supervisor_memory(podsup)?;
    let (f_rss, f_pss) = supervisor_memory(floor)?;
    let target = match pods {
        1000 => Target::AtMost(ROOT_RSS_AT_1000, Stat::P50),
        _ => Target::None,
    };
    let floor_note = "floor column: the floor process holding the same pods";
    let mut rss = Figure::new(
        format!("footprint.root_rss.{pods}"),
        format!("root RSS, {pods} pods"),
        Unit::Bytes,
    )
    .target(target)
    .note(floor_note);
    rss.podsup = p_rss;
    rss.floor = f_rss;
    let mut pss = Figure::new(
        format!("footprint.root_pss.{pods}"),
        format!("root PSS, {pods} pods"),
        Unit::Bytes,
    )
    .note(floor_note);
    pss.podsup = p_pss;
    pss.floor = f_pss;
    out.extend([rss, pss]);
    if pods >= 100 {
        let (p_rss, p_pss) = pods_memory(podsup)?;
        let (f_rss, f_pss) = pods_memory(floor)?;
        let note =
            "one sample per pod; floor column: the floor's pods (same binary, same handshake)";
        let mut rss = Figure::new(
            format!("footprint.pod_rss.{pods}"),
            format!("idle pod-worker RSS ({pods} pods)"),
            Unit::Bytes,
        )
        .note(note);
        rss.podsup = p_rss;
        rss.floor = f_rss;
        let mut pss = Figure::new(
            format!("footprint.pod_pss.{pods}"),
            format!("idle pod-worker PSS ({pods} pods)"),
            Unit::Bytes,
        )
        .target(Target::AtMost(POD_PSS, Stat::P50))
        .note(note);
        pss.podsup = p_pss;
        pss.floor = f_pss;
        out.extend([rss, pss]);
    }
    Ok(())
}

/// CPU used by each supervisor over `secs` seconds of idling, as a share of one CPU, once
/// the pair has been up `settle` seconds (podsup's output logs close after 30 s of
/// silence: that is start-up work, not idling). Measured one after the other, podsup first.
pub fn idle_cpu(
    pair: &Pair,
    pods: usize,
    (settle, secs): (u64, u64),
    out: &mut Vec<Figure>,
) -> Result<()> {
    std::thread::sleep(Duration::from_secs(settle));
    let span = Duration::from_secs(secs);
    let share = |run: &Running| -> Result<f64> {
        let t0 = now_ns();
        let used = procfs::cpu_over(run.subject.pid(), span)?;
        Ok(used as f64 / (now_ns() - t0) as f64 * 100.0)
    };
    let [podsup, floor] = &pair.both;
    let mut figure = Figure::new(
        format!("footprint.idle_cpu.{pods}"),
        format!("root idle CPU over {secs} s, {pods} pods"),
        Unit::CpuPercent,
    )
    .note(
        "CPU time of all the supervisor's threads (schedstat, ns, sampled every 50 ms) ÷ wall time",
    );
    figure.podsup = vec![share(podsup)?];
    figure.floor = vec![share(floor)?];
    out.push(figure);
    Ok(())
}

/// The supervisors' memory with no pods at all.
pub fn empty(bins: &Bins, out: &mut Vec<Figure>) -> Result<()> {
    let podsup = Running::start(bins, Kind::Podsup, 0)?;
    let floor = Running::start(bins, Kind::Floor, 0)?;
    // The root is up once its ctl socket exists.
    let socket = podsup.subject.runtime_dir().join("ctl.sock");
    let deadline = now_ns() + 10_000_000_000;
    while !socket.exists() && now_ns() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(500));
    let pair = Pair {
        both: [podsup, floor],
    };
    memory(&pair, 0, out)
}
