//! The root's side of systemd's `sd_notify` protocol (`Type=notify`).
//!
//! systemd passes `NOTIFY_SOCKET` (a filesystem path, or an abstract name spelled with a
//! leading `@`) and, with `WatchdogSec=`, `WATCHDOG_USEC` and `WATCHDOG_PID`. The root
//! sends newline-separated `KEY=VALUE` assignments in one datagram each: `READY=1` once
//! the static tree is up, `STATUS=…` while it runs ([`status_line`]), `WATCHDOG=1` from its
//! own loop ([`Heartbeat`]), `STOPPING=1` when it starts an orderly shutdown. Without
//! `NOTIFY_SOCKET` every send is a no-op, so `podsup start` in a terminal is unaffected.
//!
//! Our own environment is left as it is; children never see these variables because the
//! spawner strips them ([`crate::spawn`]).

mod heartbeat;
mod status;

use std::ffi::{OsStr, OsString};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixDatagram;
use std::time::Duration;

use nix::sys::socket::{MsgFlags, UnixAddr};

pub use heartbeat::{Heartbeat, STATUS_PERIOD, WEDGE_FILE_ENV, wedge_if_requested};
pub use status::{Counts, status_line};

/// Why a notification could not be set up or sent.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// `NOTIFY_SOCKET` is neither an absolute path nor an `@abstract` name.
    #[error("NOTIFY_SOCKET {socket:?}: expected an absolute path or an @abstract name")]
    Address {
        /// The value as found.
        socket: OsString,
    },
    /// `NOTIFY_SOCKET` names a socket address the kernel cannot hold (too long).
    #[error("NOTIFY_SOCKET {socket:?}: invalid socket address")]
    AddressTooLong {
        /// The value as found.
        socket: OsString,
        /// What nix said.
        #[source]
        source: nix::Error,
    },
    /// `WATCHDOG_USEC` or `WATCHDOG_PID` is not a number.
    #[error("{key}={value:?}: expected a non-negative integer")]
    Watchdog {
        /// The variable.
        key: &'static str,
        /// Its value.
        value: String,
    },
    /// The local datagram socket could not be created.
    #[error("cannot create a socket for NOTIFY_SOCKET")]
    Socket(#[source] std::io::Error),
    /// The service manager did not take the datagram.
    #[error("cannot send {state:?} to NOTIFY_SOCKET {socket:?}")]
    Send {
        /// The assignments we tried to send.
        state: String,
        /// The socket they were for.
        socket: OsString,
        /// What the kernel said.
        #[source]
        source: nix::Error,
    },
}

/// Where notifications go.
#[derive(Debug)]
struct Target {
    /// Unbound, close-on-exec, so children never inherit it.
    socket: UnixDatagram,
    addr: UnixAddr,
    /// `NOTIFY_SOCKET` as given, for messages.
    shown: OsString,
}

/// A connection to the service manager, or nothing when `NOTIFY_SOCKET` is unset.
#[derive(Debug)]
pub struct Notifier {
    target: Option<Target>,
    watchdog: Option<Duration>,
}

impl Notifier {
    /// A notifier whose every send is a no-op.
    pub fn disabled() -> Notifier {
        Notifier {
            target: None,
            watchdog: None,
        }
    }

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` (without unsetting them);
    /// [`Notifier::disabled`] when `NOTIFY_SOCKET` is unset or empty.
    pub fn from_env() -> Result<Notifier, NotifyError> {
        let Some(socket) = std::env::var_os("NOTIFY_SOCKET").filter(|s| !s.is_empty()) else {
            return Ok(Notifier::disabled());
        };
        let usec = std::env::var("WATCHDOG_USEC").ok();
        let pid = std::env::var("WATCHDOG_PID").ok();
        let watchdog = watchdog_interval_from(usec.as_deref(), pid.as_deref(), std::process::id())?;
        Ok(Notifier::connect(&socket)?.with_watchdog(watchdog))
    }

    /// A notifier sending to `socket` (a `NOTIFY_SOCKET` value), without a watchdog.
    pub fn connect(socket: &OsStr) -> Result<Notifier, NotifyError> {
        let addr = parse_address(socket)?;
        let local = UnixDatagram::unbound().map_err(NotifyError::Socket)?;
        Ok(Notifier {
            target: Some(Target {
                socket: local,
                addr,
                shown: socket.to_owned(),
            }),
            watchdog: None,
        })
    }

    /// The same notifier with `interval` as its watchdog interval (for tests and callers
    /// that read the watchdog settings themselves).
    pub fn with_watchdog(self, interval: Option<Duration>) -> Notifier {
        Notifier {
            watchdog: interval,
            ..self
        }
    }

    /// Whether notifications go anywhere.
    pub fn is_enabled(&self) -> bool {
        self.target.is_some()
    }

    /// How often to send `WATCHDOG=1`: half of `WATCHDOG_USEC`, when systemd asked for a
    /// watchdog for this process (`WATCHDOG_PID` unset or our pid) and there is a socket.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.target.as_ref().and(self.watchdog)
    }

    /// Sends `state` (newline-separated `KEY=VALUE` lines) as one datagram.
    pub fn send(&self, state: &str) -> Result<(), NotifyError> {
        let Some(target) = &self.target else {
            return Ok(());
        };
        // MSG_NOSIGNAL: a vanished service manager must never cost us a SIGPIPE.
        nix::sys::socket::sendto(
            target.socket.as_raw_fd(),
            state.as_bytes(),
            &target.addr,
            MsgFlags::MSG_NOSIGNAL,
        )
        .map(|_| ())
        .map_err(|source| NotifyError::Send {
            state: state.to_owned(),
            socket: target.shown.clone(),
            source,
        })
    }

    /// `READY=1`, with the first `STATUS=` in the same datagram.
    pub fn ready(&self, status: &str) -> Result<(), NotifyError> {
        self.send(&format!("READY=1\nSTATUS={}", one_line(status)))
    }

    /// `STATUS=…`, shown by `systemctl status`.
    pub fn status(&self, status: &str) -> Result<(), NotifyError> {
        self.send(&format!("STATUS={}", one_line(status)))
    }

    /// `STOPPING=1`: an orderly shutdown has begun.
    pub fn stopping(&self, status: &str) -> Result<(), NotifyError> {
        self.send(&format!("STOPPING=1\nSTATUS={}", one_line(status)))
    }

    /// `WATCHDOG=1`: the root's loop is alive.
    pub fn watchdog(&self) -> Result<(), NotifyError> {
        self.send("WATCHDOG=1")
    }
}

/// A newline would start a new assignment; status text must stay one value.
fn one_line(text: &str) -> String {
    text.replace('\n', " ")
}

/// `/path` → a filesystem socket; `@name` → the abstract name `\0name`.
fn parse_address(socket: &OsStr) -> Result<UnixAddr, NotifyError> {
    let bytes = socket.as_bytes();
    let too_long = |source| NotifyError::AddressTooLong {
        socket: socket.to_owned(),
        source,
    };
    match bytes.first() {
        Some(b'/') => UnixAddr::new(bytes).map_err(too_long),
        Some(b'@') => UnixAddr::new_abstract(&bytes[1..]).map_err(too_long),
        _ => Err(NotifyError::Address {
            socket: socket.to_owned(),
        }),
    }
}

/// Half of `usec` — systemd's advice, leaving slack for a busy machine — when the watchdog
/// is meant for `own_pid` (`pid` unset or equal); `None` when `usec` is unset or zero.
pub fn watchdog_interval_from(
    usec: Option<&str>,
    pid: Option<&str>,
    own_pid: u32,
) -> Result<Option<Duration>, NotifyError> {
    let number = |key: &'static str, value: &str| {
        value
            .trim()
            .parse::<u64>()
            .map_err(|_| NotifyError::Watchdog {
                key,
                value: value.to_owned(),
            })
    };
    let Some(usec) = usec else {
        return Ok(None);
    };
    let usec = number("WATCHDOG_USEC", usec)?;
    if let Some(pid) = pid {
        if number("WATCHDOG_PID", pid)? != u64::from(own_pid) {
            return Ok(None);
        }
    }
    Ok((usec > 0).then(|| Duration::from_micros(usec / 2)))
}

#[cfg(test)]
mod tests;
