//! `Display` for [`Tree`]: the indented overview `podsup check` prints.
//!
//! ```text
//! tree "example" (/etc/podsup/tree.toml), output logs 10MiB, 5 rotated kept
//! root: supervisor one_for_one, intensity 5 in 10s, start ordered
//! ├── greeter: pod, engine echo (chunk_chars 16, delay_ms 0), restart permanent, …
//! └── workers: supervisor rest_for_one, intensity 3 in 5s, start ordered, …
//!     └── fetcher: pod, engine echo (chunk_chars 16, delay_ms 0), restart permanent, …
//! ```

use std::collections::BTreeMap;
use std::fmt::{self, Display, Formatter};
use std::path::Path;

use podsup_wire::EngineSpec;

use crate::duration::format_duration;
use crate::size::format_size;
use crate::spec::{ChildKind, ChildSpec, Limits, PodSpec, ProcessSpec, SupervisorSpec, Tree};

impl Display for Tree {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "tree {:?} ({}), output logs {}, {} rotated kept",
            self.name,
            self.source.display(),
            format_size(self.logs.max_size.get()),
            self.logs.max_files
        )?;
        writeln!(f, "{}: {}", self.root.name, SupervisorLine(&self.root))?;
        write_children(f, &self.root.children, "")
    }
}

/// Writes `children` as tree branches, each line prefixed by `indent`.
fn write_children(f: &mut Formatter<'_>, children: &[ChildSpec], indent: &str) -> fmt::Result {
    for (index, child) in children.iter().enumerate() {
        let last = index + 1 == children.len();
        let (branch, continuation) = if last {
            ("└── ", "    ")
        } else {
            ("├── ", "│   ")
        };
        writeln!(f, "{indent}{branch}{}: {}", child.name, ChildLine(child))?;
        if let ChildKind::Supervisor(sup) = &child.kind {
            write_children(f, &sup.children, &format!("{indent}{continuation}"))?;
        }
    }
    Ok(())
}

/// A supervisor's own settings, without restart/shutdown (which belong to its parent).
struct SupervisorLine<'a>(&'a SupervisorSpec);

impl Display for SupervisorLine<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let sup = self.0;
        write!(
            f,
            "supervisor {}, intensity {} in {}, start {}",
            sup.strategy,
            sup.intensity.max_restarts,
            format_duration(sup.intensity.within),
            sup.start
        )?;
        match &sup.backoff {
            Some(b) => write!(
                f,
                ", backoff {}..{} x{} (reset after {})",
                format_duration(b.initial),
                format_duration(b.max),
                b.multiplier,
                format_duration(b.reset_after)
            ),
            None => f.write_str(", no backoff"),
        }
    }
}

/// One child: what it is, then how it is supervised.
struct ChildLine<'a>(&'a ChildSpec);

impl Display for ChildLine<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let child = self.0;
        match &child.kind {
            ChildKind::Supervisor(sup) => SupervisorLine(sup).fmt(f)?,
            ChildKind::Pod(pod) => write_pod(f, pod)?,
            ChildKind::Process(process) => write_process(f, process)?,
        }
        write_limits(f, &child.limits)?;
        write!(
            f,
            ", restart {}, shutdown {}, start_timeout {}",
            child.restart,
            child.shutdown,
            format_duration(child.start_timeout)
        )
    }
}

fn write_pod(f: &mut Formatter<'_>, pod: &PodSpec) -> fmt::Result {
    match &pod.engine {
        EngineSpec::Echo {
            chunk_chars,
            delay_ms,
        } => write!(
            f,
            "pod, engine echo (chunk_chars {chunk_chars}, delay_ms {delay_ms})"
        )?,
        EngineSpec::Command { argv, timeout_ms } => {
            write!(f, "pod, engine command {argv:?}")?;
            match timeout_ms {
                0 => f.write_str(" (no timeout)")?,
                ms => write!(
                    f,
                    " (timeout {})",
                    format_duration(std::time::Duration::from_millis(*ms))
                )?,
            }
        }
        EngineSpec::Llm { config_json } => match crate::llm::LlmSpec::from_json(config_json) {
            Ok(spec) => write!(
                f,
                "pod, engine llm ({} {} at {})",
                spec.scheme, spec.model, spec.base_url
            )?,
            Err(_) => f.write_str("pod, engine llm (unreadable settings)")?,
        },
    }
    write_env_cwd(f, &pod.env, pod.cwd.as_deref())
}

fn write_process(f: &mut Formatter<'_>, process: &ProcessSpec) -> fmt::Result {
    write!(
        f,
        "process {:?} ({})",
        process.argv,
        process.program.display()
    )?;
    write_env_cwd(f, &process.env, process.cwd.as_deref())
}

fn write_env_cwd(
    f: &mut Formatter<'_>,
    env: &BTreeMap<String, String>,
    cwd: Option<&Path>,
) -> fmt::Result {
    if let Some(cwd) = cwd {
        write!(f, ", cwd {}", cwd.display())?;
    }
    // Names only: values often carry secrets and this text ends up in terminals and logs.
    if !env.is_empty() {
        let names: Vec<&str> = env.keys().map(String::as_str).collect();
        write!(f, ", env {}", names.join(" "))?;
    }
    Ok(())
}

/// `, user nobody (uid 65534, gid 65534), nofile 1024, memory_max 512MiB`; nothing for the
/// default.
fn write_limits(f: &mut Formatter<'_>, limits: &Limits) -> fmt::Result {
    if let Some(run_as) = &limits.run_as {
        write!(
            f,
            ", user {} (uid {}, gid {})",
            run_as.user, run_as.uid, run_as.gid
        )?;
    }
    if let Some(nofile) = limits.nofile {
        write!(f, ", nofile {nofile}")?;
    }
    if let Some(nproc) = limits.nproc {
        write!(f, ", nproc {nproc}")?;
    }
    if let Some(bytes) = limits.address_space {
        write!(f, ", as {}", format_size(bytes))?;
    }
    if let Some(bytes) = limits.memory_max {
        write!(f, ", memory_max {}", format_size(bytes))?;
    }
    Ok(())
}
