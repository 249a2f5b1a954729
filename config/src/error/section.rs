//! Where a key sits, and the keys allowed there.

/// Where a key sits, which decides the keys allowed next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    /// The top level of the file (the tree and its root supervisor).
    Tree,
    /// A `[[child]]` with `kind = "supervisor"`.
    Supervisor,
    /// A `[[child]]` with `kind = "pod"`.
    Pod,
    /// A `[[child]]` with `kind = "process"`.
    Process,
    /// A `[[child]]` whose kind is missing or invalid: the keys of every kind are allowed.
    Child,
    /// A `backoff` table.
    Backoff,
    /// A pod's `echo` table.
    Echo,
    /// A pod's `command` table.
    Command,
    /// A pod's `llm` table.
    Llm,
    /// The top-level `logs` table.
    Logs,
    /// A pod's or process's `limits` table.
    Limits,
    /// One allow rule of a pod's `scope` array.
    Scope,
    /// One rule of a pod's `deny` array.
    Deny,
}

impl Section {
    /// The keys allowed in this section, in the order the reference documents them.
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            Section::Tree => &[
                "name",
                "strategy",
                "max_restarts",
                "within",
                "start",
                "backoff",
                "logs",
                "child",
            ],
            Section::Supervisor => &[
                "name",
                "kind",
                "restart",
                "shutdown",
                "strategy",
                "max_restarts",
                "within",
                "start",
                "backoff",
                "child",
            ],
            Section::Pod => &[
                "name",
                "kind",
                "engine",
                "restart",
                "shutdown",
                "start_timeout",
                "env",
                "cwd",
                "echo",
                "command",
                "llm",
                "user",
                "group",
                "limits",
                "memory_max",
                "scope",
                "deny",
                "on_spawner_exit",
                "fsync",
            ],
            Section::Process => &[
                "name",
                "kind",
                "argv",
                "restart",
                "shutdown",
                "start_timeout",
                "env",
                "cwd",
                "user",
                "group",
                "limits",
                "memory_max",
            ],
            Section::Child => &[
                "name",
                "kind",
                "restart",
                "shutdown",
                "start_timeout",
                "strategy",
                "max_restarts",
                "within",
                "start",
                "backoff",
                "child",
                "engine",
                "env",
                "cwd",
                "echo",
                "command",
                "llm",
                "argv",
                "user",
                "group",
                "limits",
                "memory_max",
                "scope",
                "deny",
                "on_spawner_exit",
            ],
            Section::Backoff => &["initial", "max", "multiplier", "reset_after"],
            Section::Echo => &["chunk_chars", "delay_ms"],
            Section::Logs => &["max_size", "max_files"],
            Section::Limits => &["nofile", "nproc", "as"],
            Section::Scope => &["target", "permission", "recursive"],
            Section::Deny => &["target", "access", "recursive"],
            Section::Command => &["argv", "timeout"],
            Section::Llm => &[
                "scheme",
                "base_url",
                "model",
                "api_key_env",
                "api_key_file",
                "system",
                "max_tokens",
                "temperature",
                "request_timeout",
                "idle_timeout",
                "max_attempts",
                "retry_initial",
                "retry_max",
                "max_tool_rounds",
            ],
        }
    }
}

impl std::fmt::Display for Section {
    /// The section as the end of "unknown key … ": `"for a pod"`, `"in backoff"`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Section::Tree => "at the top level",
            Section::Supervisor => "for a supervisor",
            Section::Pod => "for a pod",
            Section::Process => "for a process",
            Section::Child => "for a child",
            Section::Backoff => "in backoff",
            Section::Echo => "in echo",
            Section::Command => "in command",
            Section::Llm => "in llm",
            Section::Logs => "in logs",
            Section::Limits => "in limits",
            Section::Scope => "in a scope rule",
            Section::Deny => "in a deny rule",
        })
    }
}
