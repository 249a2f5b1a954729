//! The protocol against real unix datagram sockets, and the pure parts as matrices.

use std::ffi::OsStr;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::*;

/// A bound datagram socket in a private temporary directory, removed on drop.
struct Listener {
    socket: UnixDatagram,
    dir: PathBuf,
}

impl Listener {
    fn bind(tag: &str) -> Listener {
        let dir = std::env::temp_dir().join(format!("podsup-notify-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let socket = UnixDatagram::bind(dir.join("notify.sock")).expect("bind");
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("read timeout");
        Listener { socket, dir }
    }

    fn path(&self) -> PathBuf {
        self.dir.join("notify.sock")
    }

    fn notifier(&self) -> Notifier {
        Notifier::connect(self.path().as_os_str()).expect("connect")
    }

    fn pending(&self) -> Vec<String> {
        self.socket.set_nonblocking(true).expect("nonblocking");
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = self.socket.recv(&mut buf) {
            out.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        self.socket.set_nonblocking(false).expect("blocking");
        out
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            eprintln!("cleanup {}: {e}", self.dir.display());
        }
    }
}

fn recv(socket: &UnixDatagram) -> String {
    let mut buf = [0u8; 4096];
    let n = socket.recv(&mut buf).expect("a datagram within 5s");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn every_message_reaches_a_path_socket_as_one_datagram() {
    let listener = Listener::bind("path");
    let notifier = listener.notifier();
    assert!(notifier.is_enabled());
    notifier.ready("2 pods running\nsneaky").expect("ready");
    notifier.status("1 pod running").expect("status");
    notifier.watchdog().expect("watchdog");
    notifier.stopping("bye").expect("stopping");
    let got: Vec<String> = (0..4).map(|_| recv(&listener.socket)).collect();
    assert_eq!(
        got,
        [
            "READY=1\nSTATUS=2 pods running sneaky",
            "STATUS=1 pod running",
            "WATCHDOG=1",
            "STOPPING=1\nSTATUS=bye",
        ]
    );
}

#[test]
fn an_abstract_name_is_spelled_with_an_at_sign() {
    let name = format!("podsup-notify-test-{}", std::process::id());
    let addr = SocketAddr::from_abstract_name(name.as_bytes()).expect("abstract address");
    let socket = UnixDatagram::bind_addr(&addr).expect("bind abstract");
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    let notifier = Notifier::connect(OsStr::new(&format!("@{name}"))).expect("connect");
    notifier.watchdog().expect("watchdog");
    assert_eq!(recv(&socket), "WATCHDOG=1");
}

#[test]
fn addresses_other_than_absolute_paths_and_abstract_names_are_refused() {
    let long = format!("/{}", "x".repeat(200));
    let cases: [(&str, bool); 6] = [
        ("/run/systemd/notify", true),
        ("@abstract", true),
        ("relative/path", false),
        ("vsock:2:1234", false),
        ("", false),
        (&long, false),
    ];
    for (socket, ok) in cases {
        assert_eq!(
            parse_address(OsStr::new(socket)).is_ok(),
            ok,
            "NOTIFY_SOCKET={socket:?}"
        );
    }
}

#[test]
fn a_missing_service_manager_is_an_error_not_a_signal() {
    let listener = Listener::bind("gone");
    let notifier = listener.notifier();
    let path = listener.path();
    drop(listener);
    match notifier.watchdog() {
        Err(NotifyError::Send { state, socket, .. }) => {
            assert_eq!(state, "WATCHDOG=1");
            assert_eq!(socket, path.as_os_str());
        }
        other => panic!("expected a send error, got {other:?}"),
    }
}

#[test]
fn a_disabled_notifier_sends_nothing_and_has_no_watchdog() {
    let notifier = Notifier::disabled().with_watchdog(Some(Duration::from_secs(1)));
    assert!(!notifier.is_enabled());
    assert_eq!(notifier.watchdog_interval(), None);
    notifier.ready("x").expect("no-op");
    notifier.watchdog().expect("no-op");
}

/// What [`watchdog_interval_from`] should make of a pair of variables.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Want {
    Every(Duration),
    Off,
    Invalid,
}

#[test]
fn watchdog_interval_matrix() {
    use Want::{Every, Invalid, Off};
    let own = 4242;
    let half = Every(Duration::from_millis(200));
    let cases = [
        (None, None, Off),
        (None, Some("4242"), Off),
        (Some("400000"), None, half),
        (Some("400000"), Some("4242"), half),
        (Some("400000"), Some("1"), Off),
        (Some("0"), None, Off),
        (Some("soon"), None, Invalid),
        (Some("400000"), Some("me"), Invalid),
    ];
    for (usec, pid, want) in cases {
        let got = match watchdog_interval_from(usec, pid, own) {
            Ok(Some(interval)) => Every(interval),
            Ok(None) => Off,
            Err(NotifyError::Watchdog { .. }) => Invalid,
            Err(e) => panic!("{usec:?} {pid:?}: unexpected {e:?}"),
        };
        assert_eq!(got, want, "WATCHDOG_USEC={usec:?} WATCHDOG_PID={pid:?}");
    }
}

#[test]
fn heartbeat_pings_when_due_and_resends_status_only_when_it_changed() {
    let listener = Listener::bind("heartbeat");
    let interval = Duration::from_millis(200);
    let notifier = listener.notifier().with_watchdog(Some(interval));
    let t0 = Instant::now();
    let mut heartbeat = Heartbeat::new(notifier, t0);
    let two = Counts {
        running: 2,
        ..Counts::default()
    };
    heartbeat.ready(&two);
    assert_eq!(
        listener.pending(),
        ["READY=1\nSTATUS=2 pods running, 0 in backoff, 0 failed"]
    );

    // Both deadlines are due at once; the unchanged summary is not resent.
    assert_eq!(heartbeat.next_deadline(), t0);
    heartbeat.tick(&two, t0);
    assert_eq!(listener.pending(), ["WATCHDOG=1"]);
    assert_eq!(heartbeat.next_deadline(), t0 + interval);

    // Early: nothing.
    heartbeat.tick(&two, t0 + interval / 2);
    assert_eq!(listener.pending(), Vec::<String>::new());

    // The ping is due; the status deadline is not, so a change waits for it.
    let one = Counts {
        running: 1,
        stopped: 1,
        ..Counts::default()
    };
    heartbeat.tick(&one, t0 + interval);
    assert_eq!(listener.pending(), ["WATCHDOG=1"]);
    heartbeat.tick(&one, t0 + STATUS_PERIOD);
    assert_eq!(
        listener.pending(),
        [
            "WATCHDOG=1",
            "STATUS=1 pod running, 1 stopped, 0 in backoff, 0 failed"
        ]
    );

    heartbeat.stopping();
    assert_eq!(listener.pending(), ["STOPPING=1\nSTATUS=stopping the tree"]);
}

#[test]
fn without_a_watchdog_only_the_status_deadline_counts() {
    let listener = Listener::bind("nowatchdog");
    let t0 = Instant::now();
    let mut heartbeat = Heartbeat::new(listener.notifier(), t0);
    heartbeat.tick(&Counts::default(), t0);
    assert_eq!(
        listener.pending(),
        ["STATUS=0 pods running, 0 in backoff, 0 failed"]
    );
    assert_eq!(heartbeat.next_deadline(), t0 + STATUS_PERIOD);
}

#[test]
fn without_the_test_variable_the_wedge_hook_returns_at_once() {
    assert!(std::env::var_os(WEDGE_FILE_ENV).is_none());
    let started = Instant::now();
    wedge_if_requested();
    assert!(started.elapsed() < Duration::from_secs(1));
}
