//! The file and shell tools of an `llm` pod, called as the model calls them, in a temporary
//! pod directory with a sibling `outside/` that nothing may ever touch.

mod tools {
    mod bash;
    mod files;
    mod paths;
    mod search;
}

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use podsup_config::scope::{Deny, Rule, Scope};
use podsup_pod_worker::engine::llm::tools::{ToolBox, ToolOutcome};
use podsup_pod_worker::tools::{ScopeView, ToolCtx, file_tools};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// A pod directory `root/`, a sibling `outside/` holding `secret` ("SECRET"), and a spill
/// dir, with the tools built on them.
pub struct Pod {
    _tmp: tempfile::TempDir,
    pub root: PathBuf,
    pub outside: PathBuf,
    pub spill: PathBuf,
    pub ctx: ToolCtx,
    pub tools: ToolBox,
}

impl Pod {
    /// A pod with `view` as its scope.
    pub fn new(view: ScopeView) -> Pod {
        Pod::hiding(view, &[])
    }

    /// A pod with `view` as its scope whose `bash` starts without the variables `hidden`.
    pub fn hiding(view: ScopeView, hidden: &[&str]) -> Pod {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        let outside = tmp.path().join("outside");
        let spill = tmp.path().join("run");
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("secret"), "SECRET").unwrap();
        let ctx = ToolCtx {
            root: root.clone(),
            scope: Arc::new(RwLock::new(view)),
            spill_dir: spill.clone(),
            hidden_env: hidden.iter().map(|v| v.to_string()).collect(),
        };
        Pod {
            _tmp: tmp,
            tools: file_tools(ctx.clone()),
            root,
            outside,
            spill,
            ctx,
        }
    }

    /// A pod holding write on its whole directory.
    pub fn whole() -> Pod {
        Pod::new(view(vec![rule("", true, true)], vec![]))
    }

    /// Calls tool `name` with `args`.
    pub async fn call(&self, name: &str, args: Value) -> ToolOutcome {
        let tool = self
            .tools
            .get(name)
            .unwrap_or_else(|| panic!("no tool {name}"));
        tool.call(args.to_string(), CancellationToken::new()).await
    }

    /// Writes `rel` under the root, creating directories.
    pub fn put(&self, rel: &str, content: &str) {
        let path = self.root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }

    /// The text of `rel` under the root.
    pub fn get(&self, rel: &str) -> String {
        fs::read_to_string(self.root.join(rel)).unwrap()
    }

    /// Asserts `outside/` still holds exactly `secret` with its content.
    pub fn outside_untouched(&self) {
        let names: Vec<_> = fs::read_dir(&self.outside)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["secret"], "something was created outside");
        assert_eq!(
            fs::read_to_string(self.outside.join("secret")).unwrap(),
            "SECRET"
        );
    }
}

/// An allow rule.
pub fn rule(target: &str, write: bool, recursive: bool) -> Rule {
    Rule {
        target: PathBuf::from(target),
        write,
        recursive,
    }
}

/// A recursive deny of reading and writing.
pub fn deny(target: &str) -> Deny {
    Deny {
        target: PathBuf::from(target),
        write_only: false,
        recursive: true,
    }
}

/// A scope of `allow` and `deny` with nothing delegated.
pub fn view(allow: Vec<Rule>, deny: Vec<Deny>) -> ScopeView {
    ScopeView {
        scope: Scope { allow, deny },
        delegated: vec![],
    }
}

/// Asserts `outcome` is an error whose text is `message`.
pub fn refused(outcome: &ToolOutcome, message: &str) {
    assert!(outcome.is_error, "not an error: {}", outcome.output);
    assert_eq!(outcome.output, message);
}

/// Asserts `outcome` succeeded, and returns its text.
pub fn ok(outcome: ToolOutcome) -> String {
    assert!(!outcome.is_error, "failed: {}", outcome.output);
    outcome.output
}

/// Polls `f` every 10 ms, letting other tasks run, until it holds or `timeout` passes.
pub async fn eventually(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = tokio::time::Instant::now() + timeout;
    while tokio::time::Instant::now() < end {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    f()
}

/// Whether process `pid` still runs (a zombie does not).
pub fn alive(pid: u32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next());
    !matches!(state, Some('Z' | 'X') | None)
}

/// The pid written to `path` by a command, once it is there.
pub async fn pid_in(path: &Path) -> u32 {
    let mut pid = None;
    let found = eventually(Duration::from_secs(10), || {
        pid = fs::read_to_string(path)
            .ok()
            .and_then(|s| s.trim().parse().ok());
        pid.is_some()
    })
    .await;
    assert!(found, "{} never appeared", path.display());
    pid.unwrap_or(0)
}
