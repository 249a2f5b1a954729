//! Reading the API key from where the spec says, once, when the engine is built.

use std::path::PathBuf;

use podsup_config::ApiKey;

/// Why the key could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum KeyError {
    /// `api_key_env` names a variable that is not set (or not UTF-8).
    #[error("llm.api_key_env: environment variable {var} is not set")]
    EnvMissing {
        /// The variable.
        var: String,
    },
    /// `api_key_file` could not be read.
    #[error("llm.api_key_file: cannot read {}: {source}", path.display())]
    FileUnreadable {
        /// The file, resolved.
        path: PathBuf,
        /// What reading it reported.
        #[source]
        source: std::io::Error,
    },
    /// The variable or file is empty.
    #[error("llm: the API key from {source_name} is empty")]
    Empty {
        /// `environment variable NAME` or `file PATH`.
        source_name: String,
    },
    /// The key has characters an HTTP header cannot carry (a newline inside, …).
    #[error("llm: the API key from {source_name} contains characters an HTTP header cannot carry")]
    NotHeaderSafe {
        /// `environment variable NAME` or `file PATH`.
        source_name: String,
    },
}

/// The key `api_key` points at, surrounding whitespace trimmed; `None` for no key.
/// A relative key file is looked up under `$CREDENTIALS_DIRECTORY` when that is set.
pub(crate) fn read(api_key: &ApiKey) -> Result<Option<String>, KeyError> {
    let (key, source_name) = match api_key {
        ApiKey::None => return Ok(None),
        ApiKey::Env { var } => {
            let value =
                std::env::var(var).map_err(|_| KeyError::EnvMissing { var: var.clone() })?;
            (value, format!("environment variable {var}"))
        }
        ApiKey::File { .. } => {
            let credentials = std::env::var_os("CREDENTIALS_DIRECTORY");
            let Some(path) = api_key.file_path(credentials.as_deref()) else {
                return Ok(None);
            };
            let value =
                std::fs::read_to_string(&path).map_err(|source| KeyError::FileUnreadable {
                    path: path.clone(),
                    source,
                })?;
            (value, format!("file {}", path.display()))
        }
    };
    let key = key.trim();
    if key.is_empty() {
        return Err(KeyError::Empty { source_name });
    }
    if key.chars().any(|c| c.is_control() || !c.is_ascii()) {
        return Err(KeyError::NotHeaderSafe { source_name });
    }
    Ok(Some(key.to_owned()))
}
