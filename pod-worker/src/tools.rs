//! The file and shell tools of an `llm` pod: `read_file`, `write_file`, `edit_file`,
//! `list_dir`, `glob`, `grep`, `bash` and `read_spill`.
//!
//! Every path a model gives is relative to the pod's directory (its scope root). A call
//! first normalises it ([`podsup_config::scope::normalise`] refuses `..` escapes and
//! absolute paths), then checks it against the pod's current scope, then opens it with
//! [`open_beneath`]: resolution under a descriptor of the root that refuses symlinks
//! anywhere in the path and never leaves the root. Nothing is reopened by a path string
//! after the check, so swapping a symlink in between cannot redirect the use. A refusal
//! is a tool error the model reads ("write denied: src/lib.rs is delegated to pod
//! coder/tests"), never a silent failure. A call checks against the scope as it was when
//! the call started.
//!
//! Rules the tools keep:
//! - Symlinks are never followed: a path with one anywhere is refused ("symlink in path"),
//!   and `list_dir`, `glob` and `grep` show or skip them without descending.
//! - `list_dir`, `glob` and `grep` may start in a directory the pod cannot read if it lies
//!   on the way to something it can (a pod scoped to `src/a` may list `.` and `src`);
//!   there they show only what leads into the scope. In a readable directory `list_dir`
//!   shows every name, marking those the pod may not read `(no access)`.
//! - Wildcards and `grep`'s walk skip names starting with `.` unless the pattern or the
//!   starting path names them.
//! - `bash` is not confined to paths: it runs with the pod's OS permissions. It is
//!   therefore refused unless the pod holds recursive write on its whole directory with
//!   nothing denied and nothing delegated, since otherwise a shell could step around the
//!   scope. Its full output, when longer than the result shows, is spilled to
//!   `<spill_dir>/bash-<n>.log`, read back with `read_spill` (the spill dir is outside
//!   the scope, so `read_file` cannot reach it).

mod bash;
mod beneath;
mod error;
mod files;
mod fs;
mod glob;
mod grep;
mod list_dir;
mod scope_view;
mod text;
mod walk;

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};

use podsup_config::scope::{Rule, Scope};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::engine::llm::tools::{Tool, ToolBox, ToolFuture, ToolOutcome};

pub use beneath::open_beneath;
pub use error::{Access, ToolError};
use fs::Fs;

/// What the file tools of one pod work on.
#[derive(Debug, Clone)]
pub struct ToolCtx {
    /// The pod's working directory: the root every scope path is relative to.
    pub root: PathBuf,
    /// The pod's current scope; the pod loop replaces it when its registry changes.
    pub scope: Arc<RwLock<ScopeView>>,
    /// The pod's runtime directory, where `bash` spills long output.
    pub spill_dir: PathBuf,
    /// Environment variables `bash` starts without: the one the pod's API key is read
    /// from, so a command the model runs cannot print the key.
    pub hidden_env: Vec<String>,
}

/// A pod's scope together with what it has delegated, so a refusal can name the holder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeView {
    /// What the pod may read and write now (delegated write already removed).
    pub scope: Scope,
    /// The rules handed to live children, with each child's name.
    pub delegated: Vec<(String, Rule)>,
}

impl ToolCtx {
    /// A copy of the scope as it is now. A poisoned lock still holds a whole value (it is
    /// only ever replaced), so it is read anyway.
    pub fn view(&self) -> ScopeView {
        self.scope
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The file and shell tools alone, working on `ctx`.
pub fn file_tools(ctx: ToolCtx) -> ToolBox {
    add_file_tools(ToolBox::empty(), &ctx)
}

/// `tools` plus the file and shell tools working on `ctx`.
pub fn add_file_tools(tools: ToolBox, ctx: &ToolCtx) -> ToolBox {
    let tools = SPECS.iter().fold(tools, |tools, spec| {
        tools.with(FileTool {
            spec,
            ctx: ctx.clone(),
        })
    });
    tools.with(bash::Bash::new(ctx.clone()))
}

/// Runs one file tool on its (parsed) arguments; blocking.
type Run = fn(&Fs, &Value) -> Result<String, ToolError>;

/// The fixed part of a file tool.
struct Spec {
    name: &'static str,
    description: &'static str,
    parameters: &'static str,
    run: Run,
}

static SPECS: [Spec; 7] = [
    Spec {
        name: "read_file",
        description: "Read a text file in your directory. Long files come in pieces: `offset` is the first line (1-based), `limit` the number of lines.",
        parameters: r#"{"type":"object","properties":{"path":{"type":"string","description":"relative to your directory"},"offset":{"type":"integer","minimum":1},"limit":{"type":"integer","minimum":1}},"required":["path"]}"#,
        run: files::read_file,
    },
    Spec {
        name: "write_file",
        description: "Create or overwrite a file in your directory with `content`; missing parent directories are created.",
        parameters: r#"{"type":"object","properties":{"path":{"type":"string"},"content":{"type":"string"}},"required":["path","content"]}"#,
        run: files::write_file,
    },
    Spec {
        name: "edit_file",
        description: "Replace the one occurrence of `old` in a file with `new`. `old` must match exactly once, whitespace included; add surrounding lines to make it unique.",
        parameters: r#"{"type":"object","properties":{"path":{"type":"string"},"old":{"type":"string"},"new":{"type":"string"}},"required":["path","old","new"]}"#,
        run: files::edit_file,
    },
    Spec {
        name: "list_dir",
        description: "List a directory in your directory (default: your directory itself). Directories end in /, symlinks in @ (never followed); names you may not read are marked (no access).",
        parameters: r#"{"type":"object","properties":{"path":{"type":"string"}}}"#,
        run: list_dir::list_dir,
    },
    Spec {
        name: "glob",
        description: "Find paths matching a pattern relative to your directory: * and ? match within one name, ** any number of directories. Names starting with . only match a pattern part that starts with .; symlinks are not followed.",
        parameters: r#"{"type":"object","properties":{"pattern":{"type":"string","description":"e.g. src/**/*.rs"}},"required":["pattern"]}"#,
        run: glob::glob,
    },
    Spec {
        name: "grep",
        description: "Search text files for a regular expression (Rust regex syntax), below `path` (default: your directory) or in that one file. Prints path:line:text. Skips binary files, files over 8 MiB, and names starting with . below the start.",
        parameters: r#"{"type":"object","properties":{"pattern":{"type":"string"},"path":{"type":"string"}},"required":["pattern"]}"#,
        run: grep::grep,
    },
    Spec {
        name: "read_spill",
        description: "Read the full output of an earlier bash call that was too long to show (bash says which number). `offset` is the first line (1-based), `limit` the number of lines.",
        parameters: r#"{"type":"object","properties":{"n":{"type":"integer","minimum":1},"offset":{"type":"integer","minimum":1},"limit":{"type":"integer","minimum":1}},"required":["n"]}"#,
        run: bash::read_spill,
    },
];

/// One file tool: its spec and the pod it works for.
struct FileTool {
    spec: &'static Spec,
    ctx: ToolCtx,
}

impl Tool for FileTool {
    fn name(&self) -> &str {
        self.spec.name
    }

    fn description(&self) -> &str {
        self.spec.description
    }

    fn parameters(&self) -> String {
        self.spec.parameters.to_owned()
    }

    /// File work is blocking, so it runs on the blocking pool; a cancelled turn stops
    /// awaiting it, and the work itself is bounded by the output caps.
    fn call(&self, arguments: String, _cancel: CancellationToken) -> ToolFuture<'_> {
        let ctx = self.ctx.clone();
        let run = self.spec.run;
        Box::pin(async move {
            let work = tokio::task::spawn_blocking(move || {
                let args = parse(&arguments)?;
                run(&Fs::new(&ctx)?, &args)
            });
            match work.await {
                Ok(Ok(text)) => ToolOutcome::ok(text),
                Ok(Err(e)) => ToolOutcome::error(e.to_string()),
                Err(e) => ToolOutcome::error(format!("the tool failed: {e}")),
            }
        })
    }
}

/// The arguments object.
fn parse(arguments: &str) -> Result<Value, ToolError> {
    let args: Value = serde_json::from_str(arguments)
        .map_err(|e| ToolError::Arguments(format!("arguments are not JSON: {e}")))?;
    if args.is_object() {
        Ok(args)
    } else {
        Err(ToolError::Arguments(
            "arguments must be a JSON object".into(),
        ))
    }
}

/// A required string argument.
fn text<'a>(args: &'a Value, key: &str) -> Result<&'a str, ToolError> {
    args.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| ToolError::Arguments(format!("missing string argument {key:?}")))
}

/// An optional string argument (absent or null is `None`).
fn opt_text<'a>(args: &'a Value, key: &str) -> Result<Option<&'a str>, ToolError> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ToolError::Arguments(format!("{key:?} must be a string"))),
    }
}

/// An optional positive integer argument (absent or null is `None`).
fn opt_count(args: &Value, key: &str) -> Result<Option<u64>, ToolError> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if n > 0 => Ok(Some(n)),
            _ => Err(ToolError::Arguments(format!(
                "{key:?} must be a positive integer"
            ))),
        },
    }
}
