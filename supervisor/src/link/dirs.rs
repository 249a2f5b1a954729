//! A pod that runs as another user (`user = "…"`) gets its own state and runtime dirs:
//! they are created if needed and handed over to that user before the pod is spawned, so
//! it can write its session log there.

use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use podsup_config::RunAs;

/// Search permission (`--x`) for group and others: enough to reach a known name below a
/// directory, not to list it.
const SEARCH: u32 = 0o011;

/// Why a pod's dirs could not be handed over to its user.
#[derive(Debug, thiserror::Error)]
#[error("cannot give {} to user {user}: {source}", path.display())]
pub struct HandOverError {
    /// The directory or file.
    path: PathBuf,
    /// The user it was for.
    user: String,
    /// What the file system said.
    #[source]
    source: io::Error,
}

/// Makes `pods/NAME` below each of `bases` (the state and runtime dirs) belong to
/// `run_as`: created with mode 0700 if missing, then it and the files directly in it
/// chowned. `bases` and their `pods` dirs get search permission for others, so the user
/// can reach its own dir without being able to list anyone else's.
pub fn hand_over(bases: [&Path; 2], name: &str, run_as: &RunAs) -> Result<(), HandOverError> {
    for base in bases {
        let pod_dir = crate::paths::pod_dir(base, name);
        let fail = |path: &Path| {
            let user = run_as.user.clone();
            let path = path.to_owned();
            move |source| HandOverError { path, user, source }
        };
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&pod_dir)
            .map_err(fail(&pod_dir))?;
        for dir in pod_dir.ancestors().skip(1).take(2) {
            allow_search(dir).map_err(fail(dir))?;
        }
        chown(&pod_dir, run_as).map_err(fail(&pod_dir))?;
        for entry in std::fs::read_dir(&pod_dir).map_err(fail(&pod_dir))? {
            let path = entry.map_err(fail(&pod_dir))?.path();
            chown(&path, run_as).map_err(fail(&path))?;
        }
    }
    Ok(())
}

/// Adds [`SEARCH`] to `dir`'s mode, unless it is there already.
fn allow_search(dir: &Path) -> io::Result<()> {
    let mode = std::fs::metadata(dir)?.permissions().mode();
    if mode & SEARCH == SEARCH {
        return Ok(());
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode | SEARCH))
}

/// `lchown`: a symlink in a pod's dir is changed itself, never what it points to.
fn chown(path: &Path, run_as: &RunAs) -> io::Result<()> {
    std::os::unix::fs::lchown(path, Some(run_as.uid), Some(run_as.gid))
}
