//! Operator intent that must survive a restart of `podsup start`: which children the
//! operator stopped. Kept in `intent.json` in the state dir, replaced atomically (write,
//! fsync, rename) on every change.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// File name in the state dir.
pub const FILE_NAME: &str = "intent.json";

#[derive(Debug, Default, Serialize, Deserialize)]
struct Stored {
    /// Children held down by `ctl stop`.
    stopped: BTreeSet<String>,
}

/// The operator's durable intent.
#[derive(Debug)]
pub struct Intent {
    path: PathBuf,
    stored: Stored,
}

/// The intent file exists but cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("operator intent file {path}: {reason}")]
pub struct IntentError {
    path: PathBuf,
    reason: String,
}

impl Intent {
    /// Loads `state_dir/intent.json` (none yet: empty intent).
    pub fn load(state_dir: &Path) -> Result<Intent, IntentError> {
        let path = state_dir.join(FILE_NAME);
        let stored = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| IntentError {
                path: path.clone(),
                reason: format!("not valid JSON ({e}); fix or remove it"),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Stored::default(),
            Err(e) => {
                return Err(IntentError {
                    path,
                    reason: e.to_string(),
                });
            }
        };
        Ok(Intent { path, stored })
    }

    /// Whether the operator stopped `name`.
    pub fn is_stopped(&self, name: &str) -> bool {
        self.stored.stopped.contains(name)
    }

    /// Records that the operator stopped (`true`) or started (`false`) `name`.
    pub fn set_stopped(&mut self, name: &str, stopped: bool) -> Result<(), IntentError> {
        let changed = match stopped {
            true => self.stored.stopped.insert(name.to_owned()),
            false => self.stored.stopped.remove(name),
        };
        match changed {
            true => self.save(),
            false => Ok(()),
        }
    }

    fn save(&self) -> Result<(), IntentError> {
        let fail = |e: std::io::Error| IntentError {
            path: self.path.clone(),
            reason: format!("cannot save: {e}"),
        };
        let tmp = self.path.with_extension("json.tmp");
        let json = serde_json::to_vec_pretty(&self.stored).map_err(|e| fail(e.into()))?;
        let mut file = std::fs::File::create(&tmp).map_err(fail)?;
        file.write_all(&json).map_err(fail)?;
        file.sync_all().map_err(fail)?;
        std::fs::rename(&tmp, &self.path).map_err(fail)?;
        if let Some(dir) = self.path.parent() {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(fail)?;
        }
        Ok(())
    }
}
