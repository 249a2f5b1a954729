//! The message path: a ctl request that goes to a pod and back, and streams of text deltas
//! from a pod through the root to an attached client, each against a raw floor measured in
//! the same run.

use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail, ensure};
use podsup_wire::frame::{encode_frame, write_frame_blocking};
use podsup_wire::{CtlRequest, CtlResponse, Event, PodStatus, PodToRoot, decode_body};

use crate::clock::now_ns;
use crate::ctl::Ctl;
use crate::raw::{self, FrameReader, PingPong, RelayModel, Window};
use crate::report::{Figure, Target, Unit};
use crate::subject::{Bins, Subject};

/// Sample counts of the message-path figures.
#[derive(Debug, Clone, Copy)]
pub struct Counts {
    /// ctl round trips spoken directly (and as many floor ping-pongs).
    pub round_trips: usize,
    /// `podsup ctl` processes run.
    pub execs: usize,
    /// Streamed turns per stream figure.
    pub turns: usize,
}

/// A streaming pod of the message tree.
#[derive(Debug, Clone, Copy)]
struct Streamer {
    pod: &'static str,
    chunk: usize,
    deltas: usize,
}

const EVENTS: Streamer = Streamer {
    pod: "ev",
    chunk: 16,
    deltas: 4096,
};
const SMALL: Streamer = Streamer {
    pod: "f64",
    chunk: 64,
    deltas: 4096,
};
const BULK: Streamer = Streamer {
    pod: "f64k",
    chunk: 64 * 1024,
    deltas: 64,
};

/// A pod's session log and history grow with every turn; past this it is started afresh.
const HISTORY_LIMIT: usize = 24 * 1024 * 1024;

fn tree(stamps: &Path) -> String {
    let mut tree = String::from(
        "name = \"bench-msg\"\nstrategy = \"one_for_one\"\nstart = \"parallel\"\n\
         max_restarts = 4294967295\nwithin = \"1s\"\n",
    );
    for (name, chunk) in [
        ("rt", 16),
        (EVENTS.pod, EVENTS.chunk),
        (SMALL.pod, SMALL.chunk),
        (BULK.pod, BULK.chunk),
    ] {
        tree.push_str(&format!(
            "\n[[child]]\nname = \"{name}\"\nkind = \"pod\"\nengine = \"echo\"\necho = {{ chunk_chars = {chunk} }}\n\
             env = {{ PODSUP_START_STAMP = \"{}\" }}\n",
            stamps.display()
        ));
    }
    tree
}

/// Runs every message-path figure against one root.
pub fn measure(bins: &Bins, counts: Counts, out: &mut Vec<Figure>) -> Result<()> {
    let (mut root, _) = Subject::podsup(bins, tree)?;
    root.stamps
        .wait_all_ready(4, 60_000)
        .with_context(|| format!("message tree did not come up; log:\n{}", root.log()))?;
    let ctl = Ctl::new(&root.runtime_dir());
    let socket = root.runtime_dir().join("ctl.sock");
    while !socket.exists() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    round_trips(&ctl, &root, counts.round_trips, out)?;
    ctl_execs(bins, &root, counts.execs, out)?;
    streams(&ctl, &root, counts.turns, out)
}

fn round_trips(ctl: &Ctl, root: &Subject, samples: usize, out: &mut Vec<Figure>) -> Result<()> {
    let request = CtlRequest::Cancel { name: "rt".into() };
    let len = encode_frame(&request)?.len();
    let mut ping = PingPong::new(len)?;
    let mut model = RelayModel::new(&root.dir.join("model.sock"), len)?;
    let trip = || -> Result<u64> {
        let t0 = now_ns();
        let answer = ctl.round_trip(&request)?;
        let took = now_ns() - t0;
        match answer {
            CtlResponse::Error(e) if e.message.contains("NotRunning") => Ok(took),
            other => bail!("cancel of an idle pod answered {other:?}"),
        }
    };
    for _ in 0..50 {
        trip()?;
        ping.rtt()?;
        model.rtt()?;
    }
    let mut rt = Figure::new("message.ctl_rtt", "ctl round trip (ctl → root → pod → root → ctl)", Unit::Nanos)
        .target(Target::RatioAtMost(3.0))
        .note(format!(
            "`ctl cancel` of an idle pod spoken directly on the ctl socket (connect, request, the pod's NotRunning back); floor: {len}-byte ping-pong over a socketpair between two threads"
        ));
    let mut modelled = Figure::new("message.ctl_rtt_model", "ctl round trip vs a raw-socket model of its path", Unit::Nanos)
        .note("same podsup samples; floor: connect + client → relay thread → echo thread → relay → client, raw sockets, no decoding");
    let block = 100;
    for _ in 0..samples.div_ceil(block) {
        for _ in 0..block {
            let took = trip()? as f64;
            rt.podsup.push(took);
            modelled.podsup.push(took);
        }
        for _ in 0..block {
            rt.floor.push(ping.rtt()? as f64);
            modelled.floor.push(model.rtt()? as f64);
        }
    }
    out.extend([rt, modelled]);
    Ok(())
}

fn ctl_execs(bins: &Bins, root: &Subject, samples: usize, out: &mut Vec<Figure>) -> Result<()> {
    let run = |args: &[&str]| -> Result<(u64, std::process::ExitStatus)> {
        let mut command = Command::new(&bins.podsup);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let t0 = now_ns();
        let status = command.status()?;
        Ok((now_ns() - t0, status))
    };
    let runtime = root.runtime_dir().display().to_string();
    let cancel = ["ctl", "--runtime-dir", runtime.as_str(), "cancel", "rt"];
    let mut figure = Figure::new("message.ctl_exec", "`podsup ctl cancel` as a process", Unit::Nanos)
        .note("exec of `podsup ctl` included; floor: exec of `podsup --version` (the binary's start-up alone)");
    for _ in 0..samples {
        let (took, status) = run(&cancel)?;
        ensure!(
            status.code() == Some(1),
            "`podsup ctl cancel rt` of an idle pod exited with {status}"
        );
        figure.podsup.push(took as f64);
        figure.floor.push(run(&["--version"])?.0 as f64);
    }
    out.push(figure);
    Ok(())
}

/// An attached client: the ctl connection of `ctl attach POD`, read in batches.
fn attach(ctl: &Ctl, pod: &str) -> Result<FrameReader<UnixStream>> {
    let socket = ctl.socket();
    let mut stream = UnixStream::connect(socket)?;
    write_frame_blocking(&mut stream, &CtlRequest::Attach { name: pod.into() })?;
    let mut reader = FrameReader::new(stream);
    let mut snapshot = false;
    while !snapshot {
        reader.batch(|body| {
            match decode_body::<CtlResponse>(body)? {
                CtlResponse::Event {
                    event: Event::Snapshot { .. },
                    ..
                } => snapshot = true,
                CtlResponse::Error(e) => bail!("attach {pod}: {e:?}"),
                _ => {}
            }
            Ok(())
        })?;
    }
    Ok(reader)
}

fn text_of(len: usize) -> String {
    (b'a'..=b'z').cycle().take(len).map(char::from).collect()
}

/// Starts a turn with `text` in `pod` and watches its deltas on the attached client until
/// the pod is idle again.
fn turn(ctl: &Ctl, reader: &mut FrameReader<UnixStream>, pod: &str, text: &str) -> Result<Window> {
    ctl.ok(&CtlRequest::Send {
        name: pod.into(),
        text: text.into(),
        wait: false,
    })?;
    let mut window = Window::default();
    let (mut running, mut idle) = (false, false);
    while !idle {
        let mut deltas = 0;
        reader.batch(|body| {
            if crate::tags::is_text_delta(body) {
                deltas += 1;
                return Ok(());
            }
            match decode_body::<CtlResponse>(body)? {
                CtlResponse::Event {
                    event: Event::TextDelta { .. },
                    ..
                } => bail!("a delta the tag reader missed"),
                CtlResponse::Event {
                    event: Event::Status { status },
                    ..
                } => match status {
                    PodStatus::Running => running = true,
                    PodStatus::Idle if running => idle = true,
                    PodStatus::Idle | PodStatus::Paused => {}
                },
                CtlResponse::Error(e) => bail!("attached to {pod}: {e:?}"),
                _ => {}
            }
            Ok(())
        })?;
        window.saw(deltas, now_ns());
    }
    Ok(window)
}

/// The pod is stopped, its history removed and started again, so turns do not grow.
fn fresh(ctl: &Ctl, root: &Subject, pod: &str) -> Result<FrameReader<UnixStream>> {
    ctl.ok(&CtlRequest::Stop { name: pod.into() })?;
    let dir = root.state_dir().join("pods").join(pod);
    std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    ctl.ok(&CtlRequest::Start { name: pod.into() })?;
    attach(ctl, pod)
}

fn streams(ctl: &Ctl, root: &Subject, turns: usize, out: &mut Vec<Figure>) -> Result<()> {
    let raw_frame = |s: &Streamer, client_side: bool| -> Result<Vec<u8>> {
        let event = Event::TextDelta {
            text: text_of(s.chunk),
        };
        Ok(match client_side {
            true => encode_frame(&CtlResponse::Event {
                pod: s.pod.into(),
                generation: 1,
                event,
            })?,
            false => encode_frame(&PodToRoot::Event(event))?,
        })
    };
    let mut events = Figure::new("message.events", "events/s, one pod → root → attached client (16-char deltas)", Unit::PerSec)
        .note("echo pod streaming 4096 text deltas per turn, counted as they reach a client attached over the ctl socket; floor: the same ctl frames over a raw socketpair, one write each");
    let mut small_f = Figure::new("message.frames_64", "pod → root frames/s, 64 B frames", Unit::PerSec)
        .note("64-char deltas, seen by an attached client (so root → client is included); floor: the same pod → root frames over a raw socketpair");
    let mut small_b = Figure::new(
        "message.mbps_64",
        "pod → root MB/s, 64 B frames",
        Unit::BytesPerSec,
    )
    .note("payload bytes (the delta text) per second; as above");
    let mut bulk_f = Figure::new(
        "message.frames_64k",
        "pod → root frames/s, 64 KiB frames",
        Unit::PerSec,
    )
    .note("64 KiB deltas, 64 per turn, seen by an attached client; floor: raw socketpair");
    let mut bulk_b = Figure::new(
        "message.mbps_64k",
        "pod → root MB/s, 64 KiB frames",
        Unit::BytesPerSec,
    )
    .target(Target::RatioAtLeast(0.5))
    .note("payload bytes per second; floor: the same frames over a raw socketpair in one process");
    let streamers = [EVENTS, SMALL, BULK];
    let mut readers = Vec::new();
    for s in &streamers {
        readers.push(attach(ctl, s.pod)?);
    }
    let mut history = [0usize; 3];
    let floor_frames = [
        raw_frame(&EVENTS, true)?,
        raw_frame(&SMALL, false)?,
        raw_frame(&BULK, false)?,
    ];
    for _ in 0..turns {
        for (k, s) in streamers.iter().enumerate() {
            if history[k] > HISTORY_LIMIT {
                readers[k] = fresh(ctl, root, s.pod)?;
                history[k] = 0;
            }
            let text = text_of(s.chunk * s.deltas);
            let window = turn(ctl, &mut readers[k], s.pod, &text)?;
            ensure!(
                window.frames == s.deltas,
                "{}: {} of {} deltas arrived",
                s.pod,
                window.frames,
                s.deltas
            );
            history[k] += 2 * text.len();
            let rate = window.rate().context("every delta arrived in one read")?;
            let floor = raw::stream(&floor_frames[k], (s.deltas * 4).max(256))?;
            match k {
                0 => {
                    events.podsup.push(rate);
                    events.floor.push(floor);
                }
                1 => {
                    small_f.podsup.push(rate);
                    small_f.floor.push(floor);
                    small_b.podsup.push(rate * s.chunk as f64);
                    small_b.floor.push(floor * s.chunk as f64);
                }
                _ => {
                    bulk_f.podsup.push(rate);
                    bulk_f.floor.push(floor);
                    bulk_b.podsup.push(rate * s.chunk as f64);
                    bulk_b.floor.push(floor * s.chunk as f64);
                }
            }
        }
    }
    out.extend([events, small_f, small_b, bulk_f, bulk_b]);
    Ok(())
}

/// Drives a running root for a profiler: `rtt`, `stream` or `send` (turns with nobody
/// attached; see `podsup-bench drive`).
pub fn drive(what: &str, ctl: &Ctl, pod: &str, (count, chars): (usize, usize)) -> Result<()> {
    match what {
        "rtt" => {
            let request = CtlRequest::Cancel { name: pod.into() };
            let mut took = Vec::with_capacity(count);
            for _ in 0..count {
                let t0 = now_ns();
                ctl.round_trip(&request)?;
                took.push((now_ns() - t0) as f64);
            }
            let s = crate::stats::Summary::of(&took).context("no samples")?;
            println!("rtt p50 {:.1} µs p99 {:.1} µs", s.p50 / 1e3, s.p99 / 1e3);
        }
        "stream" => {
            let mut reader = attach(ctl, pod)?;
            let text = text_of(chars);
            for _ in 0..count {
                let window = turn(ctl, &mut reader, pod, &text)?;
                println!(
                    "{} deltas, {:.0}/s",
                    window.frames,
                    window.rate().unwrap_or(0.0)
                );
            }
        }
        "send" => {
            let text = text_of(chars);
            for _ in 0..count {
                ctl.ok(&CtlRequest::Send {
                    name: pod.into(),
                    text: text.clone(),
                    wait: false,
                })?;
                std::thread::sleep(std::time::Duration::from_secs(2));
            }
        }
        other => bail!("drive what? {other} (rtt, stream or send)"),
    }
    Ok(())
}
