//! What an llm pod's tools work with: the root client (orchestration tools) and the file
//! tools' context, whose scope follows the registry — base scope from the pod's spec,
//! minus write on what live children hold.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use podsup_config::ApiKey;
use podsup_config::scope::Scope;
use podsup_wire::{EngineSpec, Entry, Init};

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
            hidden_env: key_variable(init).into_iter().collect(),
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

/// The environment variable an llm pod reads its API key from, if it has one.
fn key_variable(init: &Init) -> Option<String> {
    let EngineSpec::Llm { config_json } = &init.engine else {
        return None;
    };
    match podsup_config::LlmSpec::from_json(config_json).ok()?.api_key {
        ApiKey::Env { var } => Some(var),
        ApiKey::None | ApiKey::File { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `Init` of the first pod of `tree` (tree.toml text).
    fn init_of(tree: &str) -> Init {
        let tree = podsup_config::parse(tree, std::path::Path::new("/tmp/tree.toml"))
            .unwrap_or_else(|e| panic!("{e}"));
        let pod = tree.root.children[0].kind.as_pod().expect("a pod");
        Init {
            name: "p".into(),
            generation: 1,
            parent: None,
            state_dir: String::new(),
            runtime_dir: String::new(),
            engine: pod.engine.clone(),
            scope_json: String::new(),
            fsync: String::new(),
        }
    }

    const LLM: &str = r#"
name = "t"
[[child]]
name = "p"
kind = "pod"
engine = "llm"
[child.llm]
scheme = "openai_chat"
base_url = "http://127.0.0.1:9/v1"
model = "m"
"#;

    #[test]
    fn the_key_variable_is_hidden_and_nothing_else() {
        let with_env = format!("{LLM}api_key_env = \"PODSUP_TEST_KEY\"\n");
        assert_eq!(
            key_variable(&init_of(&with_env)).as_deref(),
            Some("PODSUP_TEST_KEY")
        );
        let with_file = format!("{LLM}api_key_file = \"key\"\n");
        assert_eq!(key_variable(&init_of(&with_file)), None);
        assert_eq!(key_variable(&init_of(LLM)), None);
        let echo = "name = \"t\"\n[[child]]\nname = \"p\"\nkind = \"pod\"\nengine = \"echo\"\n";
        assert_eq!(key_variable(&init_of(echo)), None);
    }
}
