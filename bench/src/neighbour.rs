//! A hostile neighbour: the ctl round trip to a quiet pod while another pod of the same
//! root misbehaves, against the same round trip while that pod behaves. The hostile pod is
//! the pod worker's test-only `PODSUP_TEST_HOSTILE` mode, armed by a file, so one root
//! runs both phases, alternating in blocks.

use std::path::Path;

use anyhow::{Context, Result, bail};
use podsup_wire::{CtlRequest, CtlResponse, StatusNode};

use crate::clock::now_ns;
use crate::ctl::Ctl;
use crate::report::{Figure, Target, Unit};
use crate::subject::{Bins, Subject};

/// The pod whose round trips are measured.
const QUIET: &str = "rt";
/// The pod that misbehaves while its arm file exists.
const MOLE: &str = "mole";
/// Round trips per block; the phases alternate block by block.
const BLOCK: usize = 100;
/// How long a phase switch may take.
const SWITCH_TIMEOUT_MS: u64 = 30_000;

/// How the neighbour misbehaves.
#[derive(Debug, Clone, Copy)]
struct Mode {
    /// `PODSUP_TEST_HOSTILE`.
    env: &'static str,
    id: &'static str,
    name: &'static str,
    note: &'static str,
}

const MODES: [Mode; 2] = [
    Mode {
        env: "flood",
        id: "hostile.flood_rtt",
        name: "ctl round trip beside a flooding pod",
        note: "`ctl cancel` of an idle pod while another pod writes frames as fast as its socket takes them (killed at the flood limit, restarted at once, floods again); floor: the same round trip while that pod is quiet",
    },
    Mode {
        env: "garbage",
        id: "hostile.garbage_rtt",
        name: "ctl round trip beside a pod sending garbage",
        note: "as above, with a pod that sends an undecodable frame after each handshake: a crash loop at full speed (no backoff, intensity out of reach); floor: the same round trip while that pod is quiet",
    },
];

fn tree(stamps: &Path, (mode, arm): (&str, &Path)) -> String {
    format!(
        "name = \"bench-hostile\"\nstrategy = \"one_for_one\"\nstart = \"parallel\"\n\
         max_restarts = 4294967295\nwithin = \"1s\"\n\n\
         [[child]]\nname = \"{QUIET}\"\nkind = \"pod\"\nengine = \"echo\"\n\
         env = {{ PODSUP_START_STAMP = \"{stamps}\" }}\n\n\
         [[child]]\nname = \"{MOLE}\"\nkind = \"pod\"\nengine = \"echo\"\nshutdown = \"brutal_kill\"\n\
         env = {{ PODSUP_START_STAMP = \"{stamps}\", PODSUP_TEST_HOSTILE = \"{mode}\", PODSUP_TEST_HOSTILE_ARM = \"{arm}\" }}\n",
        stamps = stamps.display(),
        arm = arm.display(),
    )
}

/// Runs every hostile-neighbour figure, each against its own root.
pub fn measure(bins: &Bins, samples: usize, out: &mut Vec<Figure>) -> Result<()> {
    for mode in MODES {
        eprintln!("podsup-bench: round trips beside a {} pod", mode.env);
        out.push(one(bins, mode, samples)?);
    }
    Ok(())
}

fn one(bins: &Bins, mode: Mode, samples: usize) -> Result<Figure> {
    let arm = bins.work.join(format!("arm-{}", mode.env));
    let (mut root, _) = Subject::podsup(bins, |stamps| tree(stamps, (mode.env, &arm)))?;
    root.stamps
        .wait_all_ready(2, 60_000)
        .with_context(|| format!("hostile tree did not come up; log:\n{}", root.log()))?;
    let ctl = Ctl::new(&root.runtime_dir());
    // Ready (the stamps) comes a moment before the root marks the pods running.
    wait(&ctl, QUIET, |n| n.pid.is_some() && n.uptime_ms.is_some())?;
    let mut figure = Figure::new(mode.id, mode.name, Unit::Nanos)
        .target(Target::RatioAtMost(1.5))
        .note(mode.note);
    let request = CtlRequest::Cancel { name: QUIET.into() };
    let trip = || -> Result<f64> {
        let t0 = now_ns();
        let answer = ctl.round_trip(&request)?;
        let took = now_ns() - t0;
        match answer {
            CtlResponse::Error(e) if e.message.contains("NotRunning") => Ok(took as f64),
            other => bail!("cancel of an idle pod answered {other:?}"),
        }
    };
    for _ in 0..50 {
        trip()?;
    }
    for _ in 0..samples.div_ceil(BLOCK) {
        hostile(&ctl, &arm, true)?;
        for _ in 0..BLOCK {
            figure.podsup.push(trip()?);
        }
        hostile(&ctl, &arm, false)?;
        for _ in 0..BLOCK {
            figure.floor.push(trip()?);
        }
    }
    let mole = status_of(&ctl, MOLE)?;
    anyhow::ensure!(
        mole.generation > 2,
        "{MOLE} was never killed for misbehaving: {mole:?}; log:\n{}",
        root.log()
    );
    root.request_stop(false)?;
    root.wait_exit(60_000)?;
    Ok(figure)
}

/// Turns the mole hostile (or quiet) and restarts it so the new generation is, then waits
/// until that generation is up — a hostile one is killed and restarted by itself.
fn hostile(ctl: &Ctl, arm: &Path, on: bool) -> Result<()> {
    match on {
        true => std::fs::write(arm, "")?,
        false => std::fs::remove_file(arm)?,
    }
    let before = status_of(ctl, MOLE)?.generation;
    ctl.ok(&CtlRequest::Restart { name: MOLE.into() })?;
    match on {
        // Killed once for misbehaving since the switch: the misbehaviour is under way.
        true => wait(ctl, MOLE, |n| n.generation > before + 1),
        false => wait(ctl, MOLE, |n| {
            n.generation > before && n.uptime_ms.is_some()
        }),
    }
}

/// How long a switched mole is left before round trips are timed again: its start-up is
/// part of neither phase.
const SETTLE_MS: u64 = 100;

/// Polls the status of `name` until `done` holds, then lets it settle.
fn wait(ctl: &Ctl, name: &str, done: impl Fn(&StatusNode) -> bool) -> Result<()> {
    let t0 = now_ns();
    loop {
        let now = status_of(ctl, name)?;
        if done(&now) {
            std::thread::sleep(std::time::Duration::from_millis(SETTLE_MS));
            return Ok(());
        }
        if now_ns() - t0 > SWITCH_TIMEOUT_MS * 1_000_000 {
            bail!("{name} did not reach the expected state: {now:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

fn status_of(ctl: &Ctl, name: &str) -> Result<StatusNode> {
    match ctl.call(&CtlRequest::Status)? {
        CtlResponse::Status { root, .. } => root
            .children
            .into_iter()
            .find(|n| n.name == name)
            .with_context(|| format!("no {name} in the status")),
        other => bail!("status answered {other:?}"),
    }
}
