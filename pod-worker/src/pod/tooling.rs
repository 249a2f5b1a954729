//! What an llm pod's tools work with: the root client (orchestration tools) and the file
//! tools' context, whose scope follows the registry — base scope from the pod's spec,
//! minus write on what live children hold.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use podsup_config::scope::Scope;
use podsup_wire::{Entry, Init};

use crate::engine::llm::tools::ToolBox;
use crate::root_client::RootClient;
use crate::tools::{ScopeView, ToolCtx, add_file_tools};
use crate::{orchestra, registry};

/// The tools' shared context.
#[derive(Debug, Clone)]
pub struct Tooling {
    client: RootClient,
    base: Scope,
    files: ToolCtx,
}

impl Tooling {
    /// Tools for the pod `init` describes, talking to the root through `client`.
    pub fn new(init: &Init, client: RootClient) -> Self {
        let base = serde_json::from_str(&init.scope_json).unwrap_or_else(|e| {
            tracing::warn!(%e, "scope from the root is unreadable; the file tools get none");
            Scope::default()
        });
        let root = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let files = ToolCtx {
            root,
            scope: Arc::new(RwLock::new(ScopeView::default())),
            spill_dir: PathBuf::from(&init.runtime_dir),
        };
        Self {
            client,
            base,
            files,
        }
    }

    /// The root client.
    pub fn client(&self) -> &RootClient {
        &self.client
    }

    /// Every tool an llm engine offers: orchestration and files.
    pub fn toolbox(&self) -> ToolBox {
        add_file_tools(orchestra::tools(&self.client), &self.files)
    }

    /// Recomputes the scope from the committed history (after a registry change).
    pub fn refresh(&self, entries: &[Entry]) {
        let delegated = registry::delegated(entries);
        let view = ScopeView {
            scope: self.base.without_write_on(delegated.iter().map(|(_, r)| r)),
            delegated,
        };
        match self.files.scope.write() {
            Ok(mut current) => *current = view,
            Err(poisoned) => *poisoned.into_inner() = view,
        }
    }
}
