//! A child's resource limits and user: checked in the root before the fork, applied in the
//! child between fork and exec.

use std::io;

use nix::sys::resource::{Resource, getrlimit, setrlimit};
use podsup_config::Limits;

/// Why a child cannot be started with its limits; found before anything is forked.
#[derive(Debug, thiserror::Error)]
pub enum ArmError {
    /// Another user was asked for and this root is not root.
    #[error(
        "{child}: cannot run as user {user} (uid {uid}, gid {gid}): podsup runs as uid {euid} \
         (gid {egid}) and only root can start a child as another user or group"
    )]
    NotRoot {
        /// The child's name.
        child: String,
        /// The user asked for.
        user: String,
        /// Its uid.
        uid: u32,
        /// The gid asked for.
        gid: u32,
        /// This root's effective uid.
        euid: u32,
        /// This root's effective gid.
        egid: u32,
    },
    /// A limit above this root's own hard limit, which only root may raise.
    #[error(
        "{child}: limits.{limit} = {value} is above podsup's own hard limit {hard}, which only \
         root can raise"
    )]
    AboveHardLimit {
        /// The child's name.
        child: String,
        /// `nofile`, `nproc` or `as`.
        limit: &'static str,
        /// The value asked for.
        value: u64,
        /// The hard limit podsup runs under.
        hard: u64,
    },
    /// The current limit could not be read.
    #[error("{child}: cannot read podsup's own limit {limit}: {source}")]
    Read {
        /// The child's name.
        child: String,
        /// `nofile`, `nproc` or `as`.
        limit: &'static str,
        /// What getrlimit reported.
        #[source]
        source: nix::Error,
    },
}

/// What the forked child does before exec: plain data, so applying it never allocates.
#[derive(Debug, Clone, Copy)]
pub(super) struct Plan {
    /// Each limit to set, soft and hard alike.
    rlimits: [Option<(Resource, u64)>; 3],
    /// `(uid, gid)` to switch to; `None` when the child keeps the root's credentials.
    credentials: Option<(libc::uid_t, libc::gid_t)>,
}

impl Plan {
    /// The plan for `limits`, refused if this root cannot carry it out.
    pub(super) fn check(child: &str, limits: &Limits) -> Result<Plan, ArmError> {
        let root = nix::unistd::geteuid().is_root();
        let wanted = [
            ("nofile", Resource::RLIMIT_NOFILE, limits.nofile),
            ("nproc", Resource::RLIMIT_NPROC, limits.nproc),
            ("as", Resource::RLIMIT_AS, limits.address_space),
        ];
        let mut rlimits = [None; 3];
        for (slot, (limit, resource, value)) in rlimits.iter_mut().zip(wanted) {
            let Some(value) = value else { continue };
            if !root {
                let (_, hard) = getrlimit(resource).map_err(|source| ArmError::Read {
                    child: child.to_owned(),
                    limit,
                    source,
                })?;
                if value > hard {
                    return Err(ArmError::AboveHardLimit {
                        child: child.to_owned(),
                        limit,
                        value,
                        hard,
                    });
                }
            }
            *slot = Some((resource, value));
        }
        let credentials = match &limits.run_as {
            None => None,
            Some(run_as) if root => Some((run_as.uid, run_as.gid)),
            Some(run_as) => {
                let euid = nix::unistd::geteuid().as_raw();
                let egid = nix::unistd::getegid().as_raw();
                if (run_as.uid, run_as.gid) != (euid, egid) {
                    return Err(ArmError::NotRoot {
                        child: child.to_owned(),
                        user: run_as.user.clone(),
                        uid: run_as.uid,
                        gid: run_as.gid,
                        euid,
                        egid,
                    });
                }
                // Already that user and group: there is nothing to drop.
                None
            }
        };
        Ok(Plan {
            rlimits,
            credentials,
        })
    }

    /// Sets the limits, then the groups, group and user (in that order: each step needs
    /// privileges the next one gives up). Runs in the forked child; async-signal-safe.
    pub(super) fn apply(&self) -> io::Result<()> {
        for (resource, value) in self.rlimits.iter().flatten() {
            setrlimit(*resource, *value, *value).map_err(io::Error::from)?;
        }
        if let Some((uid, gid)) = self.credentials {
            // SAFETY: plain credential syscalls on this (single-threaded, forked) process.
            unsafe {
                if libc::setgroups(1, &gid) != 0 || libc::setgid(gid) != 0 || libc::setuid(uid) != 0
                {
                    return Err(io::Error::last_os_error());
                }
            }
        }
        Ok(())
    }
}
