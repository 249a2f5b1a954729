//! `podsup start` under a service manager: the sd_notify protocol against a real unix
//! datagram socket set as `NOTIFY_SOCKET`, the way systemd runs a `Type=notify` unit.
//!
//! READY=1 only once every static child is ready; STATUS= follows the tree; WATCHDOG=1
//! arrives at about half of `WATCHDOG_USEC` from the root's loop, stops while that loop is
//! wedged (test hook `PODSUP_TEST_WEDGE_FILE`) and resumes after; STOPPING=1 on shutdown.

use std::ffi::OsStr;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use podsup_tests::{Root, WAIT, nodes, wait_until};
use serde_json::Value;

/// Seven children, six of them pods that each take a handshake to become ready, so the
/// static start takes a while.
const TREE: &str = r#"
name = "notify"
strategy = "one_for_one"

[[child]]
name = "a"
kind = "pod"

[[child]]
name = "b"
kind = "pod"

[[child]]
name = "c"
kind = "pod"

[[child]]
name = "workers"
kind = "supervisor"
strategy = "one_for_one"
  [[child.child]]
  name = "d"
  kind = "pod"
  [[child.child]]
  name = "e"
  kind = "pod"
  [[child.child]]
  name = "f"
  kind = "pod"

[[child]]
name = "ticker"
kind = "process"
argv = ["sh", "-c", "while sleep 1; do :; done"]
shutdown = "brutal_kill"
"#;

/// `WATCHDOG_USEC` given to the root: it must ping every 200 ms.
const WATCHDOG_USEC: &str = "400000";
const WATCHDOG: Duration = Duration::from_micros(400_000);

/// The service manager's end: a datagram socket bound in a private directory, and every
/// message it received, with when.
struct Manager {
    socket: UnixDatagram,
    dir: tempfile::TempDir,
    received: Vec<(Instant, String)>,
}

impl Manager {
    fn bind() -> Manager {
        let dir = tempfile::Builder::new()
            .prefix("podsup-notify")
            .tempdir()
            .expect("tempdir");
        let socket = UnixDatagram::bind(dir.path().join("notify.sock")).expect("bind");
        socket
            .set_read_timeout(Some(Duration::from_millis(10)))
            .expect("read timeout");
        Manager {
            socket,
            dir,
            received: Vec::new(),
        }
    }

    fn socket_path(&self) -> PathBuf {
        self.dir.path().join("notify.sock")
    }

    /// The next message if one arrives within the socket's read timeout.
    fn poll(&mut self) -> Option<String> {
        let mut buf = [0u8; 4096];
        match self.socket.recv(&mut buf) {
            Ok(n) => {
                let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
                self.received.push((Instant::now(), msg.clone()));
                Some(msg)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                None
            }
            Err(e) => panic!("recv on NOTIFY_SOCKET: {e}"),
        }
    }

    /// Receives until a message satisfies `pred` (returned) or `timeout` passes.
    fn recv_until(
        &mut self,
        timeout: Duration,
        mut pred: impl FnMut(&str) -> bool,
    ) -> Option<String> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(msg) = self.poll() {
                if pred(&msg) {
                    return Some(msg);
                }
            }
        }
        None
    }

    /// Every message that arrives during `window`.
    fn collect(&mut self, window: Duration) -> Vec<String> {
        let deadline = Instant::now() + window;
        let mut out = Vec::new();
        while Instant::now() < deadline {
            out.extend(self.poll());
        }
        out
    }

    /// Arrival times of the WATCHDOG=1 pings received since `since`.
    fn pings_since(&self, since: Instant) -> Vec<Instant> {
        self.received
            .iter()
            .filter(|(at, msg)| *at >= since && msg.lines().any(|l| l == "WATCHDOG=1"))
            .map(|(at, _)| *at)
            .collect()
    }

    fn transcript(&self) -> String {
        self.received
            .iter()
            .map(|(_, m)| format!("{m:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn is_ready(msg: &str) -> bool {
    msg.lines().any(|l| l == "READY=1")
}

/// Names of the children (pods and processes) of `status` that are not running.
fn not_running(status: &Value) -> Vec<String> {
    nodes(&status["root"])
        .into_iter()
        .filter(|n| n["kind"] != "supervisor" && n["state"] != "running")
        .map(|n| format!("{} ({})", n["name"], n["state"]))
        .collect()
}

fn start_under_manager(manager: &Manager, wedge: &std::path::Path) -> Root {
    let socket = manager.socket_path();
    Root::spawn_with_env(
        TREE,
        &[
            ("NOTIFY_SOCKET", socket.as_os_str()),
            ("WATCHDOG_USEC", OsStr::new(WATCHDOG_USEC)),
            ("PODSUP_TEST_WEDGE_FILE", wedge.as_os_str()),
        ],
    )
}

/// Receives until READY=1, checking the moment it arrives against `ctl status`.
fn expect_ready_after_static_start(manager: &mut Manager, root: &Root) -> String {
    let deadline = Instant::now() + WAIT;
    let mut unready_seen = 0;
    while Instant::now() < deadline {
        if let Some(status) = root.try_status() {
            if !not_running(&status).is_empty() {
                unready_seen += 1;
            }
        }
        let Some(msg) = manager.recv_until(Duration::from_millis(20), is_ready) else {
            continue;
        };
        let status = root.status();
        let late = not_running(&status);
        assert!(
            late.is_empty(),
            "READY=1 arrived while {late:?} were not running; status {status:#}\nlog:\n{}",
            root.log()
        );
        eprintln!("READY=1 after {unready_seen} status reads that showed children starting");
        return msg;
    }
    panic!(
        "no READY=1 within {WAIT:?}; received:\n{}\nlog:\n{}",
        manager.transcript(),
        root.log()
    );
}

#[test]
fn ready_status_watchdog_and_stopping_follow_the_tree() {
    let mut manager = Manager::bind();
    let wedge = manager.dir.path().join("wedge");
    let mut root = start_under_manager(&manager, &wedge);

    let ready = expect_ready_after_static_start(&mut manager, &root);
    assert_eq!(
        ready, "READY=1\nSTATUS=7 pods running, 0 in backoff, 0 failed",
        "the READY datagram carries the summary of a fully started tree"
    );
    let before_ready: Vec<&String> = manager.received.iter().map(|(_, m)| m).collect();
    assert!(
        before_ready.iter().all(|m| !m.contains("WATCHDOG=1")),
        "no ping before the root loop runs: {before_ready:?}"
    );

    // Pings at about half of WATCHDOG_USEC: several of them, on average well inside the
    // timeout systemd would enforce, and not a busy loop.
    let since = Instant::now();
    let got = wait_until(WAIT, || {
        manager.poll();
        manager.pings_since(since).len() >= 6
    });
    let pings = manager.pings_since(since);
    assert!(
        got,
        "only {} WATCHDOG=1 pings; received:\n{}",
        pings.len(),
        manager.transcript()
    );
    let mean = (pings[pings.len() - 1] - pings[0]) / (pings.len() as u32 - 1);
    assert!(
        mean >= WATCHDOG / 4 && mean <= WATCHDOG,
        "mean gap between pings {mean:?}, expected about {:?}",
        WATCHDOG / 2
    );

    // STATUS= follows the tree.
    let out = root.ctl(&["stop", "c"]);
    assert!(out.status.success(), "{out:?}");
    let status = manager.recv_until(WAIT, |m| m.starts_with("STATUS="));
    assert_eq!(
        status.as_deref(),
        Some("STATUS=6 pods running, 1 stopped, 0 in backoff, 0 failed"),
        "received:\n{}",
        manager.transcript()
    );

    // A wedged root loop stops pinging, though the rest of the root still answers.
    std::fs::write(&wedge, "").expect("create wedge file");
    let wedged = wait_until(WAIT, || root.log().contains("test hook: root loop wedged"));
    assert!(wedged, "the root loop never wedged; log:\n{}", root.log());
    // Whatever the loop sent before it blocked is already queued.
    manager.collect(Duration::from_millis(50));
    let quiet_since = Instant::now();
    let during = manager.collect(WATCHDOG * 3);
    assert!(
        manager.pings_since(quiet_since).is_empty(),
        "pings while the root loop was wedged: {during:?}"
    );
    assert!(
        root.try_status().is_some(),
        "ctl status answers during the wedge"
    );

    // Released, it pings again.
    std::fs::remove_file(&wedge).expect("remove wedge file");
    let resumed = Instant::now();
    let got = wait_until(WAIT, || {
        manager.poll();
        manager.pings_since(resumed).len() >= 2
    });
    assert!(
        got,
        "pings did not resume; received:\n{}",
        manager.transcript()
    );

    let out = root.ctl(&["shutdown"]);
    assert!(out.status.success(), "{out:?}");
    let stopping = manager.recv_until(WAIT, |m| m.lines().any(|l| l == "STOPPING=1"));
    assert!(
        stopping.is_some(),
        "no STOPPING=1; received:\n{}",
        manager.transcript()
    );
    let exit = root
        .wait_exit(WAIT)
        .expect("podsup start exits after shutdown");
    assert!(exit.success(), "exit {exit:?}; log:\n{}", root.log());
}

#[test]
fn an_abstract_notify_socket_gets_ready() {
    let name = format!("podsup-e2e-notify-{}", std::process::id());
    let addr = SocketAddr::from_abstract_name(name.as_bytes()).expect("abstract address");
    let socket = UnixDatagram::bind_addr(&addr).expect("bind abstract socket");
    socket.set_read_timeout(Some(WAIT)).expect("read timeout");
    let spec = format!("@{name}");
    let root = Root::spawn_with_env(
        "name = \"abstract\"\n[[child]]\nname = \"solo\"\nkind = \"pod\"\n",
        &[("NOTIFY_SOCKET", OsStr::new(&spec))],
    );
    let mut buf = [0u8; 4096];
    let ready = loop {
        let n = socket
            .recv(&mut buf)
            .unwrap_or_else(|e| panic!("no READY=1 ({e}); log:\n{}", root.log()));
        let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
        if is_ready(&msg) {
            break msg;
        }
    };
    assert_eq!(
        ready,
        "READY=1\nSTATUS=1 pod running, 0 in backoff, 0 failed"
    );
    assert_eq!(root.node("solo")["state"], "running");
}
