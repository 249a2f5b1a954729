//! `kind = "pod"`: the engine and its settings, environment, working directory and scope.

use std::path::Path;

use podsup_wire::EngineSpec;

use super::ctx::Ctx;
use super::environment::{cwd, env};
use super::llm;
use super::program::{self, Lookup};
use super::scope;
use super::table::Table;
use crate::defaults;
use crate::error::{Problem, Section};
use crate::policy::UnknownVariant;
use crate::spec::PodSpec;

/// What `engine` takes.
const ENGINE_EXPECTED: &str = "one of: echo, command, llm";

/// What `command` takes.
const COMMAND_EXPECTED: &str =
    "a table like command = { argv = [\"tr\", \"a-z\", \"A-Z\"] } when engine = \"command\"";

/// What `command.argv` takes.
const COMMAND_ARGV_EXPECTED: &str =
    "a non-empty array of strings, like argv = [\"tr\", \"a-z\", \"A-Z\"]";

/// What `command.timeout` takes.
const TIMEOUT_EXPECTED: &str = "a duration like \"60s\", or \"none\" for no limit";

/// The engines tree.toml can choose; each has a settings table of the same name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Engine {
    Echo,
    Command,
    Llm,
}

impl Engine {
    const ALL: [Engine; 3] = [Engine::Echo, Engine::Command, Engine::Llm];

    /// The engine's name, which is also the key of its settings table.
    fn as_str(self) -> &'static str {
        match self {
            Engine::Echo => "echo",
            Engine::Command => "command",
            Engine::Llm => "llm",
        }
    }
}

/// The pod settings in `table`, whose keys are already checked.
pub(super) fn decode(ctx: &mut Ctx<'_>, table: &Table<'_, '_>) -> PodSpec {
    let env = env(ctx, table);
    let cwd = cwd(ctx, table);
    let engine = engine(ctx, table);
    let dir = cwd.clone().unwrap_or_else(|| ctx.base_dir().to_owned());
    if let Some(engine) = engine {
        refuse_other_settings(ctx, table, engine);
    }
    let engine = match engine {
        Some(Engine::Echo) => echo(ctx, table),
        Some(Engine::Command) => command(ctx, table, &dir),
        Some(Engine::Llm) => {
            llm::decode(ctx, table).map_or_else(default_echo, |spec| EngineSpec::Llm {
                config_json: spec.to_json(),
            })
        }
        None => default_echo(),
    };
    PodSpec {
        engine,
        env,
        cwd,
        scope: scope::decode(ctx, table),
        on_spawner_exit: scope::on_spawner_exit(ctx, table),
        fsync: scope::fsync(ctx, table),
    }
}

/// `engine`, `echo` when absent.
fn engine(ctx: &mut Ctx<'_>, table: &Table<'_, '_>) -> Option<Engine> {
    let Some((text, span)) = table.string(ctx, "engine", ENGINE_EXPECTED) else {
        return table.get("engine").is_none().then_some(Engine::Echo);
    };
    let parsed = match text {
        "echo" => Ok(Engine::Echo),
        "command" => Ok(Engine::Command),
        "llm" => Ok(Engine::Llm),
        _ => Err(Problem::from(UnknownVariant {
            what: "engine",
            value: text.to_owned(),
            expected: &["echo", "command", "llm"],
        })),
    };
    ctx.ok(span, parsed)
}

/// Reports the settings tables of the other engines, which `engine` would ignore.
fn refuse_other_settings(ctx: &mut Ctx<'_>, table: &Table<'_, '_>, engine: Engine) {
    for other in Engine::ALL.into_iter().filter(|other| *other != engine) {
        if let Some(value) = table.get(other.as_str()) {
            let problem = Problem::EngineSettingsMismatch {
                key: other.as_str(),
                engine: engine.as_str(),
            };
            ctx.report(value.span(), problem);
        }
    }
}

/// The echo engine with every default; also the stand-in when engine settings have
/// problems (the tree is not returned then).
fn default_echo() -> EngineSpec {
    EngineSpec::Echo {
        chunk_chars: defaults::ECHO_CHUNK_CHARS,
        delay_ms: defaults::ECHO_DELAY_MS,
    }
}

/// The echo engine with its optional `echo` table.
fn echo(ctx: &mut Ctx<'_>, table: &Table<'_, '_>) -> EngineSpec {
    let Some(settings) = table.table(ctx, "echo", (Section::Echo, "echo.")) else {
        return default_echo();
    };
    settings.check_keys(ctx);
    let chunk_chars = settings
        .integer(ctx, "chunk_chars", 1..=u64::from(u32::MAX))
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(defaults::ECHO_CHUNK_CHARS);
    let delay_ms = settings
        .integer(ctx, "delay_ms", 0..=i64::MAX as u64)
        .unwrap_or(defaults::ECHO_DELAY_MS);
    EngineSpec::Echo {
        chunk_chars,
        delay_ms,
    }
}

/// The command engine with its required `command` table; `argv[0]` is resolved like a
/// process's and stored as the absolute path, so the pod runs what was checked.
fn command(ctx: &mut Ctx<'_>, table: &Table<'_, '_>, dir: &Path) -> EngineSpec {
    let Some(settings) = table.table(ctx, "command", (Section::Command, "command.")) else {
        if table.get("command").is_none() {
            table.missing(ctx, "command", COMMAND_EXPECTED);
        }
        return default_echo();
    };
    settings.check_keys(ctx);
    if settings.get("argv").is_none() {
        settings.missing(ctx, "argv", COMMAND_ARGV_EXPECTED);
    }
    let timeout_ms = timeout(ctx, &settings);
    let Some(mut argv) = program::argv(ctx, &settings, "command.argv") else {
        return default_echo();
    };
    let lookup = Lookup {
        key: "command.argv",
        dir,
    };
    let resolved = program::resolve(ctx, &argv, &lookup)
        .and_then(|program| program.into_os_string().into_string().ok());
    if let Some(program) = resolved {
        argv.words[0] = program;
    }
    EngineSpec::Command {
        argv: argv.words,
        timeout_ms,
    }
}

/// `command.timeout` in milliseconds, 0 for `"none"`.
fn timeout(ctx: &mut Ctx<'_>, settings: &Table<'_, '_>) -> u64 {
    let default = millis(defaults::COMMAND_TIMEOUT);
    match settings.string(ctx, "timeout", TIMEOUT_EXPECTED) {
        Some(("none", _)) => 0,
        Some(_) => settings
            .duration(ctx, "timeout", TIMEOUT_EXPECTED)
            .map_or(default, millis),
        None => default,
    }
}

fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
