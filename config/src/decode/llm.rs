//! `engine = "llm"`: the pod's required `llm` table.

use std::path::PathBuf;
use std::time::Duration;

use super::ctx::Ctx;
use super::environment::env_name;
use super::table::{DURATION_EXPECTED, Table};
use crate::defaults;
use crate::duration::format_duration;
use crate::error::{LlmProblem, Problem, Section, looks_like_a_key};
use crate::llm::{ApiKey, LlmScheme, LlmSpec, millis};

mod url;

/// What `llm` takes.
const LLM_EXPECTED: &str = "a table like llm = { scheme = \"openai_chat\", base_url = \"https://api.openai.com/v1\", model = \"gpt-4o\", api_key_env = \"OPENAI_API_KEY\" }";

/// What `llm.scheme` takes.
const SCHEME_EXPECTED: &str = "one of: openai_chat, anthropic";

/// What `llm.base_url` takes.
const BASE_URL_EXPECTED: &str = "an http:// or https:// URL like \"https://api.openai.com/v1\"";

/// What `llm.model` takes.
const MODEL_EXPECTED: &str = "the provider's model name, like \"gpt-4o\"";

/// What `llm.api_key_env` takes.
const KEY_ENV_EXPECTED: &str =
    "the name of an environment variable holding the key, like \"OPENAI_API_KEY\"";

/// What `llm.api_key_file` takes.
const KEY_FILE_EXPECTED: &str =
    "the path of a file holding the key, like \"/run/credentials/podsup/openai\"";

/// What `llm.temperature` takes.
const TEMPERATURE_EXPECTED: &str = "a number from 0.0 to 2.0";

/// The llm engine's spec from the `llm` table of `table`; `None` when the table is
/// missing or not a table. Like every decoder it is total: a bad value is reported and
/// replaced by a default, and the tree is not returned then.
pub(super) fn decode(ctx: &mut Ctx<'_>, table: &Table<'_, '_>) -> Option<LlmSpec> {
    let Some(settings) = table.table(ctx, "llm", (Section::Llm, "llm.")) else {
        if table.get("llm").is_none() {
            table.missing(ctx, "llm", LLM_EXPECTED);
        }
        return None;
    };
    settings.check_keys(ctx);
    let scheme = settings.choice(ctx, "scheme", SCHEME_EXPECTED);
    let system = settings
        .string(ctx, "system", "a system prompt")
        .map(|(text, _)| text.to_owned());
    let (retry_initial, retry_max) = retry(ctx, &settings);
    let request_timeout = settings.duration(ctx, "request_timeout", DURATION_EXPECTED);
    let idle_timeout = settings.duration(ctx, "idle_timeout", DURATION_EXPECTED);
    let mut count = |key: &str, default: u32| {
        settings
            .integer(ctx, key, 1..=u64::from(u32::MAX))
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(default)
    };
    let max_tokens = count("max_tokens", defaults::LLM_MAX_TOKENS);
    let max_attempts = count("max_attempts", defaults::LLM_MAX_ATTEMPTS);
    let max_tool_rounds = count("max_tool_rounds", defaults::LLM_MAX_TOOL_ROUNDS);
    Some(LlmSpec {
        scheme: scheme.unwrap_or(LlmScheme::OpenaiChat),
        base_url: base_url(ctx, &settings).unwrap_or_default(),
        model: model(ctx, &settings).unwrap_or_default(),
        api_key: api_key(ctx, &settings).unwrap_or(ApiKey::None),
        system,
        max_tokens,
        temperature: temperature(ctx, &settings),
        request_timeout_ms: millis(request_timeout.unwrap_or(defaults::LLM_REQUEST_TIMEOUT)),
        idle_timeout_ms: millis(idle_timeout.unwrap_or(defaults::LLM_IDLE_TIMEOUT)),
        max_attempts,
        retry_initial_ms: millis(retry_initial),
        retry_max_ms: millis(retry_max),
        max_tool_rounds,
    })
}

/// The required, non-empty `model`.
fn model(ctx: &mut Ctx<'_>, settings: &Table<'_, '_>) -> Option<String> {
    if settings.get("model").is_none() {
        settings.missing(ctx, "model", MODEL_EXPECTED);
        return None;
    }
    let (text, span) = settings.string(ctx, "model", MODEL_EXPECTED)?;
    if text.trim().is_empty() {
        let problem = LlmProblem::Empty {
            key: "llm.model",
            expected: MODEL_EXPECTED,
        };
        ctx.report(span, problem.into());
        return None;
    }
    Some(text.to_owned())
}

/// The required `base_url`, without a trailing `/`.
fn base_url(ctx: &mut Ctx<'_>, settings: &Table<'_, '_>) -> Option<String> {
    if settings.get("base_url").is_none() {
        settings.missing(ctx, "base_url", BASE_URL_EXPECTED);
        return None;
    }
    let (text, span) = settings.string(ctx, "base_url", BASE_URL_EXPECTED)?;
    ctx.ok(span, url::check(text).map_err(Problem::from))
}

/// Where the key comes from: `api_key_env`, `api_key_file`, or neither.
fn api_key(ctx: &mut Ctx<'_>, settings: &Table<'_, '_>) -> Option<ApiKey> {
    let env = settings.string(ctx, "api_key_env", KEY_ENV_EXPECTED);
    let file = settings.string(ctx, "api_key_file", KEY_FILE_EXPECTED);
    match (env, file) {
        (None, None) => Some(ApiKey::None),
        (Some(_), Some((_, span))) => {
            ctx.report(span, LlmProblem::TwoKeySources.into());
            None
        }
        (Some((var, span)), None) => {
            let checked = if looks_like_a_key(var) {
                Err(LlmProblem::KeyInEnvName.into())
            } else {
                env_name(var)
            };
            ctx.ok(span, checked)?;
            Some(ApiKey::Env {
                var: var.to_owned(),
            })
        }
        (None, Some((path, span))) => {
            if path.is_empty() {
                let problem = LlmProblem::Empty {
                    key: "llm.api_key_file",
                    expected: KEY_FILE_EXPECTED,
                };
                ctx.report(span, problem.into());
                return None;
            }
            Some(ApiKey::File {
                path: PathBuf::from(path),
                tree_dir: ctx.base_dir().to_owned(),
            })
        }
    }
}

/// The optional `temperature`; `None` when absent or reported.
fn temperature(ctx: &mut Ctx<'_>, settings: &Table<'_, '_>) -> Option<f64> {
    let (number, written, span) = settings.number(ctx, "temperature", TEMPERATURE_EXPECTED)?;
    let checked = number
        .filter(|n| n.is_finite() && (0.0..=2.0).contains(n))
        .ok_or_else(|| LlmProblem::BadTemperature { value: written }.into());
    ctx.ok(span, checked)
}

/// `retry_initial` and `retry_max`, the latter at least the former.
fn retry(ctx: &mut Ctx<'_>, settings: &Table<'_, '_>) -> (Duration, Duration) {
    let initial = settings
        .duration(ctx, "retry_initial", DURATION_EXPECTED)
        .unwrap_or(defaults::LLM_RETRY_INITIAL);
    let max = settings
        .duration(ctx, "retry_max", DURATION_EXPECTED)
        .unwrap_or(defaults::LLM_RETRY_MAX);
    if max < initial {
        let span = settings
            .get("retry_max")
            .or_else(|| settings.get("retry_initial"))
            .map(|value| value.span())
            .unwrap_or_default();
        let problem = LlmProblem::RetryMaxBelowInitial {
            max: format_duration(max),
            initial: format_duration(initial),
        };
        ctx.report(span, problem.into());
    }
    (initial, max)
}
