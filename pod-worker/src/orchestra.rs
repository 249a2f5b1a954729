//! The orchestration tools an `llm` pod offers its model (seed names): `spawn_pod`,
//! `send_to_pod`, `read_pod_output`, `stop_pod`, `list_pods`, `list_visible_pods`,
//! `inspect_pod`, `attach_or_restore_pod`. Each is one request to the root.

use podsup_wire::pod_event::ScopeRule;
use podsup_wire::{EngineSpec, PodReply, PodRequest, Segment};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::engine::llm::tools::{Tool, ToolBox, ToolFuture, ToolOutcome};
use crate::root_client::RootClient;

/// Builds a request from the model's arguments, or says what is wrong with them.
type Build = fn(&RootClient, &Value) -> Result<PodRequest, String>;

/// One orchestration tool.
struct Orchestration {
    name: &'static str,
    description: &'static str,
    parameters: &'static str,
    build: Build,
    client: RootClient,
}

impl Tool for Orchestration {
    fn name(&self) -> &str {
        self.name
    }

    fn description(&self) -> &str {
        self.description
    }

    fn parameters(&self) -> String {
        self.parameters.to_owned()
    }

    fn call(&self, arguments: String, _cancel: CancellationToken) -> ToolFuture<'_> {
        Box::pin(async move {
            let args: Value = match serde_json::from_str(&arguments) {
                Ok(v) => v,
                Err(e) => return ToolOutcome::error(format!("arguments are not JSON: {e}")),
            };
            let request = match (self.build)(&self.client, &args) {
                Ok(r) => r,
                Err(e) => return ToolOutcome::error(e),
            };
            match self.client.request(request).await {
                PodReply::Ok { json } => ToolOutcome::ok(json),
                PodReply::Refused { kind, message } => {
                    ToolOutcome::error(format!("refused ({kind:?}): {message}"))
                }
            }
        })
    }
}

fn text<'a>(args: &'a Value, key: &str) -> Result<&'a str, String> {
    args.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("missing string argument {key:?}"))
}

fn pod(client: &RootClient, args: &Value) -> Result<String, String> {
    text(args, "name").map(|n| client.full_name(n))
}

fn spawn(_: &RootClient, args: &Value) -> Result<PodRequest, String> {
    let engine = match args.get("engine").and_then(Value::as_str).unwrap_or("echo") {
        "echo" => EngineSpec::Echo {
            chunk_chars: 16,
            delay_ms: 0,
        },
        "llm" => EngineSpec::Llm {
            config_json: String::new(),
        },
        other => return Err(format!("engine must be \"echo\" or \"llm\", not {other:?}")),
    };
    let scope: Vec<ScopeRule> = match args.get("scope") {
        None | Some(Value::Null) => Vec::new(),
        Some(rules) => serde_json::from_value(rules.clone())
            .map_err(|e| format!("scope must be a list of {{target, write, recursive}}: {e}"))?,
    };
    Ok(PodRequest::Spawn {
        name: text(args, "name")?.to_owned(),
        engine,
        restart: args
            .get("restart")
            .and_then(Value::as_str)
            .unwrap_or("temporary")
            .to_owned(),
        scope,
    })
}

fn send(client: &RootClient, args: &Value) -> Result<PodRequest, String> {
    Ok(PodRequest::Send {
        name: pod(client, args)?,
        generation: args.get("generation").and_then(Value::as_u64),
        input: vec![Segment::Text(text(args, "text")?.to_owned())],
    })
}

fn read_output(client: &RootClient, args: &Value) -> Result<PodRequest, String> {
    Ok(PodRequest::ReadOutput {
        name: pod(client, args)?,
        last: args
            .get("last")
            .and_then(Value::as_u64)
            .map(|n| n.min(u32::MAX as u64) as u32),
    })
}

const NAME_ONLY: &str = r#"{"type":"object","properties":{"name":{"type":"string","description":"pod name (a child's short name is enough)"}},"required":["name"]}"#;
const NOTHING: &str = r#"{"type":"object","properties":{}}"#;

/// The eight orchestration tools, talking to the root through `client`.
pub fn tools(client: &RootClient) -> ToolBox {
    let specs: [(&'static str, &'static str, &'static str, Build); 8] = [
        (
            "spawn_pod",
            "Start a new pod (an agent in its own process) as your child. It runs under your supervision; you hear when its turns end, when it fails, crashes or is reclaimed.",
            r#"{"type":"object","properties":{"name":{"type":"string"},"engine":{"type":"string","enum":["echo","llm"]},"restart":{"type":"string","enum":["temporary","transient","permanent"]},"scope":{"type":"array","items":{"type":"object","properties":{"target":{"type":"string"},"write":{"type":"boolean"},"recursive":{"type":"boolean"}},"required":["target","write","recursive"]}}},"required":["name"]}"#,
            spawn,
        ),
        (
            "send_to_pod",
            "Give one of your pods a task: starts a turn there with this text.",
            r#"{"type":"object","properties":{"name":{"type":"string"},"text":{"type":"string"},"generation":{"type":"integer","description":"refuse if the pod has been restarted since this generation"}},"required":["name","text"]}"#,
            send,
        ),
        (
            "read_pod_output",
            "Read the committed history of a pod you can see (yourself or one you spawned).",
            r#"{"type":"object","properties":{"name":{"type":"string"},"last":{"type":"integer","description":"only the last N entries"}},"required":["name"]}"#,
            read_output,
        ),
        (
            "stop_pod",
            "Stop one of your pods for good; what you delegated to it comes back to you.",
            NAME_ONLY,
            |c, a| Ok(PodRequest::Stop { name: pod(c, a)? }),
        ),
        (
            "list_pods",
            "List the pods you spawned, with their state.",
            NOTHING,
            |_, _| Ok(PodRequest::List),
        ),
        (
            "list_visible_pods",
            "List yourself and the pods you spawned, with live state.",
            NOTHING,
            |_, _| Ok(PodRequest::ListVisible),
        ),
        (
            "inspect_pod",
            "Describe a pod you can see: state, generation, engine, its own children.",
            NAME_ONLY,
            |c, a| Ok(PodRequest::Inspect { name: pod(c, a)? }),
        ),
        (
            "attach_or_restore_pod",
            "Attach to one of your pods if it runs, or bring it back from its saved history if it is stopped or was reclaimed.",
            NAME_ONLY,
            |c, a| Ok(PodRequest::AttachOrRestore { name: pod(c, a)? }),
        ),
    ];
    specs.into_iter().fold(
        ToolBox::empty(),
        |tools, (name, description, parameters, build)| {
            tools.with(Orchestration {
                name,
                description,
                parameters,
                build,
                client: client.clone(),
            })
        },
    )
}
