//! The `llm` table of a pod: what a good one decodes to, and one test per problem.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use podsup_config::{
    ApiKey, ChildKind, LlmProblem, LlmScheme, LlmSpec, Problem, Tree, defaults, parse,
};
use podsup_wire::EngineSpec;

fn tree_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tree.toml")
}

/// A file with one llm pod whose `[child.llm]` table holds `lines`, from line 8 on.
fn with_llm(lines: &str) -> String {
    format!(
        "name = \"t\"\n\n[[child]]\nname = \"p\"\nkind = \"pod\"\nengine = \"llm\"\n[child.llm]\n{lines}"
    )
}

/// The minimal good table, to which a test appends the key under test.
const GOOD: &str = "base_url = \"https://api.openai.com/v1\"\nmodel = \"gpt-4o\"\n";

fn load(source: &str) -> Tree {
    parse(source, &tree_path()).unwrap_or_else(|e| panic!("{e}"))
}

/// The llm spec of pod `p`.
fn spec(source: &str) -> LlmSpec {
    let tree = load(source);
    let ChildKind::Pod(pod) = &tree.find("p").expect("p").kind else {
        panic!("p is a pod")
    };
    let EngineSpec::Llm { config_json } = &pod.engine else {
        panic!("p has the llm engine: {:?}", pod.engine)
    };
    LlmSpec::from_json(config_json).unwrap_or_else(|e| panic!("{e}: {config_json}"))
}

/// Every problem of `source` as `LINE:COLUMN: MESSAGE`.
fn problems(source: &str) -> Vec<String> {
    match parse(source, &tree_path()) {
        Ok(tree) => panic!("expected problems, got {tree:?}"),
        Err(err) => err
            .diagnostics()
            .iter()
            .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
            .collect(),
    }
}

/// The single problem of `source`.
fn problem(source: &str) -> String {
    let all = problems(source);
    assert_eq!(all.len(), 1, "{all:#?}");
    all.into_iter().next().unwrap_or_default()
}

#[test]
fn a_full_table_decodes_to_its_spec() {
    let spec = spec(&with_llm(
        "scheme = \"anthropic\"\nbase_url = \"https://api.anthropic.com/v1/\"\n\
         model = \"claude-sonnet-4-5\"\napi_key_env = \"ANTHROPIC_API_KEY\"\n\
         system = \"Be brief.\"\nmax_tokens = 2048\ntemperature = 0.5\n\
         request_timeout = \"90s\"\nidle_timeout = \"45s\"\nmax_attempts = 6\n\
         retry_initial = \"250ms\"\nretry_max = \"1m\"\nmax_tool_rounds = 32\n",
    ));
    assert_eq!(
        spec,
        LlmSpec {
            scheme: LlmScheme::Anthropic,
            base_url: "https://api.anthropic.com/v1".to_owned(),
            model: "claude-sonnet-4-5".to_owned(),
            api_key: ApiKey::Env {
                var: "ANTHROPIC_API_KEY".to_owned()
            },
            system: Some("Be brief.".to_owned()),
            max_tokens: 2048,
            temperature: Some(0.5),
            request_timeout_ms: 90_000,
            idle_timeout_ms: 45_000,
            max_attempts: 6,
            retry_initial_ms: 250,
            retry_max_ms: 60_000,
            max_tool_rounds: 32,
        }
    );
}

#[test]
fn omitted_keys_take_their_defaults() {
    let spec = spec(
        "name = \"t\"\n[[child]]\nname = \"p\"\nkind = \"pod\"\nengine = \"llm\"\n\
         llm = { base_url = \"http://127.0.0.1:8080/v1\", model = \"local\" }\n",
    );
    assert_eq!(
        spec,
        LlmSpec::new(LlmScheme::OpenaiChat, "http://127.0.0.1:8080/v1", "local")
    );
    assert_eq!(spec.api_key, ApiKey::None);
    assert_eq!(spec.max_tokens, defaults::LLM_MAX_TOKENS);
    assert_eq!(spec.request_timeout(), defaults::LLM_REQUEST_TIMEOUT);
    assert_eq!(spec.idle_timeout(), defaults::LLM_IDLE_TIMEOUT);
    assert_eq!(spec.retry_initial(), defaults::LLM_RETRY_INITIAL);
    assert_eq!(spec.retry_max(), defaults::LLM_RETRY_MAX);
}

#[test]
fn a_key_file_is_resolved_at_run_time() {
    let relative = spec(&with_llm(&format!(
        "{GOOD}api_key_file = \"keys/openai\"\n"
    )));
    let tests_dir = tree_path().parent().expect("dir").to_owned();
    assert_eq!(
        relative.api_key,
        ApiKey::File {
            path: PathBuf::from("keys/openai"),
            tree_dir: tests_dir.clone(),
        }
    );
    assert_eq!(
        relative.api_key.file_path(None),
        Some(tests_dir.join("keys/openai"))
    );
    assert_eq!(
        relative
            .api_key
            .file_path(Some(OsStr::new("/run/credentials/podsup.service"))),
        Some(PathBuf::from("/run/credentials/podsup.service/keys/openai"))
    );
    let absolute = spec(&with_llm(&format!(
        "{GOOD}api_key_file = \"/etc/podsup/key\"\n"
    )));
    assert_eq!(
        absolute
            .api_key
            .file_path(Some(OsStr::new("/run/credentials/x"))),
        Some(PathBuf::from("/etc/podsup/key"))
    );
}

#[test]
fn engine_llm_needs_an_llm_table() {
    assert_eq!(
        problem("name = \"t\"\n\n[[child]]\nname = \"p\"\nkind = \"pod\"\nengine = \"llm\"\n"),
        "3:1: missing required key \"llm\" for a pod (expected a table like llm = { scheme = \
         \"openai_chat\", base_url = \"https://api.openai.com/v1\", model = \"gpt-4o\", \
         api_key_env = \"OPENAI_API_KEY\" })"
    );
}

#[test]
fn base_url_and_model_are_required() {
    assert_eq!(
        problems(&with_llm("scheme = \"openai_chat\"\n")),
        [
            "7:1: missing required key \"base_url\" in llm (expected an http:// or https:// \
             URL like \"https://api.openai.com/v1\")",
            "7:1: missing required key \"model\" in llm (expected the provider's model name, \
             like \"gpt-4o\")"
        ]
    );
    assert_eq!(
        problem(&with_llm(
            "base_url = \"https://api.openai.com/v1\"\nmodel = \" \"\n"
        )),
        "9:9: llm.model is empty (expected the provider's model name, like \"gpt-4o\")"
    );
}

#[test]
fn api_keys_never_go_in_the_tree_file() {
    let secret = |key: &str| {
        format!(
            "8:1: key \"{key}\" would hold a secret: API keys never go in tree.toml; use \
             api_key_env or api_key_file (expected the key's source, not its value)"
        )
    };
    assert_eq!(
        problem(&with_llm(&format!("api_key = \"sk-abc\"\n{GOOD}"))),
        secret("api_key")
    );
    assert_eq!(
        problem(&with_llm(&format!("auth_token = \"abc\"\n{GOOD}"))),
        secret("auth_token")
    );
    // Anywhere in the file, not only in the llm table.
    assert_eq!(
        problem("name = \"t\"\nopenai-api-key = \"sk-abc\"\n"),
        "2:1: key \"openai-api-key\" would hold a secret: API keys never go in tree.toml; use \
         api_key_env or api_key_file (expected the key's source, not its value)"
    );
    assert_eq!(
        problem(&with_llm(&format!(
            "api_key_env = \"sk-proj-abc123\"\n{GOOD}"
        ))),
        "8:15: llm.api_key_env looks like an API key, not a variable name: API keys never go \
         in tree.toml; use api_key_env or api_key_file (expected the name of a variable \
         holding the key, like \"OPENAI_API_KEY\")"
    );
    assert_eq!(
        problem(&with_llm(
            "base_url = \"https://me:sk-abc@api.openai.com/v1\"\nmodel = \"m\"\n"
        )),
        "8:12: llm.base_url contains credentials: API keys never go in tree.toml; use \
         api_key_env or api_key_file (expected a URL without user:password@)"
    );
}

#[test]
fn at_most_one_key_source() {
    assert_eq!(
        problem(&with_llm(&format!(
            "{GOOD}api_key_env = \"OPENAI_API_KEY\"\napi_key_file = \"/k\"\n"
        ))),
        "11:16: llm.api_key_env and llm.api_key_file are both set (expected at most one \
         source for the API key)"
    );
    assert_eq!(
        problem(&with_llm(&format!("{GOOD}api_key_env = \"A=B\"\n"))),
        "10:15: invalid environment variable name \"A=B\": it contains '=' (expected a \
         non-empty name without '=' or NUL)"
    );
    assert_eq!(
        problem(&with_llm(&format!("{GOOD}api_key_file = \"\"\n"))),
        "10:16: llm.api_key_file is empty (expected the path of a file holding the key, like \
         \"/run/credentials/podsup/openai\")"
    );
}

#[test]
fn base_url_must_be_an_http_url() {
    assert_eq!(
        problem(&with_llm(
            "base_url = \"api.openai.com/v1\"\nmodel = \"m\"\n"
        )),
        "8:12: invalid llm.base_url \"api.openai.com/v1\": it does not start with http:// or \
         https:// (expected an http:// or https:// URL like \"https://api.openai.com/v1\")"
    );
}

#[test]
fn scheme_is_one_of_two() {
    assert_eq!(
        problem(&with_llm(&format!("scheme = \"gemini\"\n{GOOD}"))),
        "8:10: invalid llm.scheme \"gemini\" (expected one of: openai_chat, anthropic)"
    );
}

#[test]
fn numbers_and_durations_are_checked() {
    assert_eq!(
        problem(&with_llm(&format!("{GOOD}temperature = 3.5\n"))),
        "10:15: llm.temperature 3.5 is invalid (expected a number from 0.0 to 2.0)"
    );
    assert_eq!(
        problem(&with_llm(&format!("{GOOD}temperature = \"hot\"\n"))),
        "10:15: wrong type for llm.temperature: found a string (expected a number from 0.0 \
         to 2.0)"
    );
    assert_eq!(
        problem(&with_llm(&format!("{GOOD}max_attempts = 0\n"))),
        "10:16: llm.max_attempts = 0 is out of range (expected an integer from 1 to \
         4294967295)"
    );
    assert_eq!(
        problem(&with_llm(&format!("{GOOD}idle_timeout = \"0s\"\n"))),
        "10:16: llm.idle_timeout must be longer than zero (expected a duration like \"10s\")"
    );
    assert_eq!(
        problem(&with_llm(&format!(
            "{GOOD}retry_initial = \"2s\"\nretry_max = \"1s\"\n"
        ))),
        "11:13: llm.retry_max 1s is shorter than llm.retry_initial 2s (expected retry_max >= \
         retry_initial)"
    );
}

#[test]
fn unknown_keys_and_other_engines_settings() {
    assert_eq!(
        problem(&with_llm(&format!("{GOOD}top_p = 1\n"))),
        "10:1: unknown key \"top_p\" in llm (expected one of: scheme, base_url, model, \
         api_key_env, api_key_file, system, max_tokens, temperature, request_timeout, \
         idle_timeout, max_attempts, retry_initial, retry_max, max_tool_rounds)"
    );
    assert_eq!(
        problem(
            "name = \"t\"\n[[child]]\nname = \"p\"\nkind = \"pod\"\n\
             llm = { base_url = \"http://h\", model = \"m\" }\n"
        ),
        "5:7: \"llm\" settings do not apply to engine \"echo\" (expected engine = \"llm\", or \
         no \"llm\" table)"
    );
}

#[test]
fn problems_are_typed() {
    let err = parse(
        &with_llm("base_url = \"ftp://h\"\nmodel = \"m\"\n"),
        &tree_path(),
    )
    .expect_err("bad url");
    assert!(matches!(
        err.diagnostics()[0].problem,
        Problem::Llm(LlmProblem::BadUrl { .. })
    ));
}

#[test]
fn check_shows_scheme_model_and_url() {
    let tree = load(&with_llm(GOOD));
    let shown = tree.to_string();
    assert!(
        shown.contains("pod, engine llm (openai_chat gpt-4o at https://api.openai.com/v1)"),
        "{shown}"
    );
}
