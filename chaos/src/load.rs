//! Background threads that run while pods die: `ctl send` load to random echo pods (every
//! success recorded, to be found in the session logs later), and a `ctl status` poller that
//! records the longest time the root went unanswered.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::ctl::Ctl;
use crate::rng::Rng;

/// A `ctl send` that succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The pod.
    pub pod: String,
    /// The input, unique in the run.
    pub text: String,
}

/// What the `ctl status` poller saw.
#[derive(Debug, Clone, Copy, Default)]
pub struct Polls {
    /// Answered polls.
    pub ok: u64,
    /// Unanswered polls while the root was meant to be up.
    pub failed: u64,
    /// Longest time between two answers while the root was meant to be up.
    pub max_gap: Duration,
    /// The last answer, `None` after a pause.
    last_ok: Option<Instant>,
}

/// State shared with the background threads.
#[derive(Debug, Default)]
pub struct Shared {
    stop: AtomicBool,
    /// The root is down on purpose: no sends, and gaps are not measured.
    paused: AtomicBool,
    sent: Mutex<Vec<Sent>>,
    failed: AtomicU64,
    polls: Mutex<Polls>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking thread cannot leave these plain records half-written.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    /// Tells every thread to finish its current call and stop.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// The root goes down on purpose (`true`) or is back up (`false`).
    pub fn pause(&self, paused: bool) {
        self.paused.store(paused, Ordering::SeqCst);
        lock(&self.polls).last_ok = None;
    }

    /// Every successful send so far.
    pub fn sent(&self) -> Vec<Sent> {
        lock(&self.sent).clone()
    }

    /// Failed sends so far.
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::SeqCst)
    }

    /// The poller's record so far.
    pub fn polls(&self) -> Polls {
        *lock(&self.polls)
    }

    fn running(&self) -> bool {
        !self.stop.load(Ordering::SeqCst)
    }

    fn paused(&self) -> bool {
        self.paused.load(Ordering::SeqCst)
    }
}

/// What the load threads need.
#[derive(Debug, Clone)]
pub struct Load {
    /// The root's ctl.
    pub ctl: Ctl,
    /// Echo pods to send to.
    pub pods: Vec<String>,
    /// Seed of the run; each sender derives its own stream.
    pub seed: u64,
    /// Shared records.
    pub shared: Arc<Shared>,
    /// Let senders share pods, so two sends may race for one pod. Off, each sender owns a
    /// share of the pods and every send can only lose to a kill.
    pub contend: bool,
}

/// Starts `n` sender threads.
pub fn senders(load: &Load, n: usize) -> Vec<JoinHandle<()>> {
    (0..n)
        .map(|i| {
            let load = load.clone();
            std::thread::spawn(move || send_loop(&load, (i, n)))
        })
        .collect()
}

fn send_loop(load: &Load, (thread, of): (usize, usize)) {
    let mut rng = Rng::new(load.seed ^ (0x5e4d_0000 + thread as u64));
    let shared = &load.shared;
    let pods: Vec<&String> = match load.contend {
        true => load.pods.iter().collect(),
        false => load.pods.iter().skip(thread).step_by(of).collect(),
    };
    let mut n = 0u64;
    while shared.running() {
        if shared.paused() || pods.is_empty() {
            std::thread::sleep(Duration::from_millis(50));
            continue;
        }
        let pod = pods[rng.below(pods.len())];
        let text = format!("chaos seed {} sender {thread} input {n}", load.seed);
        n += 1;
        match load.ctl.send(pod, &text) {
            Ok(()) => lock(&shared.sent).push(Sent {
                pod: pod.clone(),
                text,
            }),
            Err(_) => {
                shared.failed.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}

/// Starts the `ctl status` poller.
pub fn monitor(ctl: Ctl, shared: Arc<Shared>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        while shared.running() {
            let answered = ctl.status().is_ok();
            let now = Instant::now();
            if shared.paused() || !answered {
                // Not a measurement: pace the retries of a root that is down.
                std::thread::sleep(Duration::from_millis(10));
            }
            if shared.paused() {
                continue;
            }
            let mut polls = lock(&shared.polls);
            match answered {
                true => {
                    polls.ok += 1;
                    if let Some(last) = polls.last_ok {
                        polls.max_gap = polls.max_gap.max(now - last);
                    }
                    polls.last_ok = Some(now);
                }
                false => polls.failed += 1,
            }
        }
    })
}
