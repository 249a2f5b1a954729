//! Diagnostic: how much of podsup's restart latency is the price of forking a big process.
//! podsup runs with N pods, its RSS and open fds are read, then the restart figure is
//! measured for the floor carrying that much touched memory and that many close-on-exec
//! fds, against the plain floor.

use std::time::Duration;

use anyhow::Result;

use crate::floor::Ballast;
use crate::pair::{Pair, Running};
use crate::procfs;
use crate::report::{Figure, Target};
use crate::subject::{Bins, Kind, Subject};

/// The restart figures of a floor as heavy as podsup with `pods` pods, against the floor.
pub fn measure(bins: &Bins, pods: usize, samples: usize, out: &mut Vec<Figure>) -> Result<()> {
    let podsup = Running::start(bins, Kind::Podsup, pods)?;
    std::thread::sleep(Duration::from_millis(1000));
    let rss = procfs::memory(podsup.subject.pid())?.rss;
    let fds = std::fs::read_dir(format!("/proc/{}/fd", podsup.subject.pid()))?.count();
    drop(podsup);
    let ballast = Ballast {
        mib: (rss >> 20) as usize,
        fds,
    };
    let heavy = Running::up(Subject::floor_with(bins, pods, ballast)?.0, pods)?;
    let plain = Running::start(bins, Kind::Floor, pods)?;
    std::thread::sleep(Duration::from_millis(1000));
    let mut pair = Pair {
        both: [heavy, plain],
    };
    let mut figures = Vec::new();
    crate::restart::measure(&mut pair, pods, samples, &mut figures)?;
    for mut figure in figures {
        figure.id = format!("ballast.{}", figure.id);
        figure.name = format!(
            "{} — floor + {} MiB, {} fds",
            figure.name, ballast.mib, ballast.fds
        );
        figure.note = format!(
            "diagnostic: the podsup column is the floor carrying podsup's RSS and fd count at {pods} pods; the floor column is the plain floor"
        );
        figure.target = Target::None;
        out.push(figure);
    }
    Ok(())
}
