//! Property tests: generated valid trees decode to what was written, and no input panics
//! the parser.

use std::path::{Path, PathBuf};
use std::time::Duration;

use podsup_config::{ChildKind, Restart, Shutdown, Strategy, format_duration, parse};
use proptest::prelude::*;
use proptest::strategy::Strategy as Gen;

/// A node as the generator means it.
#[derive(Debug, Clone)]
enum Node {
    Pod {
        restart: Option<Restart>,
        shutdown: Option<Shutdown>,
    },
    Process {
        restart: Option<Restart>,
        shutdown: Option<Shutdown>,
    },
    Supervisor {
        restart: Option<Restart>,
        settings: Settings,
        children: Vec<Node>,
    },
}

/// Supervisor settings; `None` leaves the key out.
#[derive(Debug, Clone)]
struct Settings {
    strategy: Option<Strategy>,
    max_restarts: Option<u32>,
    within: Option<Duration>,
}

fn strategy() -> impl Gen<Value = Strategy> {
    prop_oneof![
        Just(Strategy::OneForOne),
        Just(Strategy::OneForAll),
        Just(Strategy::RestForOne),
    ]
}

fn restart() -> impl Gen<Value = Option<Restart>> {
    proptest::option::of(proptest::sample::select(Restart::ALL.to_vec()))
}

fn shutdown() -> impl Gen<Value = Option<Shutdown>> {
    proptest::option::of(prop_oneof![
        Just(Shutdown::BrutalKill),
        (1u64..100_000_000).prop_map(|ms| Shutdown::Timeout(Duration::from_millis(ms))),
    ])
}

fn settings() -> impl Gen<Value = Settings> {
    (
        proptest::option::of(strategy()),
        proptest::option::of(any::<u32>()),
        proptest::option::of((1u64..10_000_000).prop_map(Duration::from_millis)),
    )
        .prop_map(|(strategy, max_restarts, within)| Settings {
            strategy,
            max_restarts,
            within,
        })
}

fn node() -> impl Gen<Value = Node> {
    let leaf = prop_oneof![
        (restart(), shutdown()).prop_map(|(restart, shutdown)| Node::Pod { restart, shutdown }),
        (restart(), shutdown()).prop_map(|(restart, shutdown)| Node::Process { restart, shutdown }),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        (
            restart(),
            settings(),
            proptest::collection::vec(inner, 0..4),
        )
            .prop_map(|(restart, settings, children)| Node::Supervisor {
                restart,
                settings,
                children,
            })
    })
}

/// Writes a supervisor's keys.
fn write_settings(out: &mut String, settings: &Settings, indent: &str) {
    if let Some(strategy) = settings.strategy {
        out.push_str(&format!("{indent}strategy = \"{strategy}\"\n"));
    }
    if let Some(max) = settings.max_restarts {
        out.push_str(&format!("{indent}max_restarts = {max}\n"));
    }
    if let Some(within) = settings.within {
        out.push_str(&format!(
            "{indent}within = \"{}\"\n",
            format_duration(within)
        ));
    }
}

/// Builds the TOML text of a generated tree and the list of what it should decode to.
struct Renderer {
    text: String,
    /// `(name, depth, node)` in pre-order.
    expected: Vec<(String, usize, Node)>,
    /// Start of every name; the pre-order index follows, so names are unique.
    prefix: String,
}

impl Renderer {
    /// Renders `nodes` as `[[child…]]` tables at `depth`.
    fn render(&mut self, nodes: &[Node], depth: usize) {
        let indent = "  ".repeat(depth - 1);
        let header = vec!["child"; depth].join(".");
        for node in nodes {
            let name = format!("{}{}", self.prefix, self.expected.len());
            self.expected.push((name.clone(), depth, node.clone()));
            let (kind, restart, shutdown) = match node {
                Node::Pod { restart, shutdown } => ("pod", restart, shutdown),
                Node::Process { restart, shutdown } => ("process", restart, shutdown),
                Node::Supervisor { restart, .. } => ("supervisor", restart, &None),
            };
            let out = &mut self.text;
            out.push_str(&format!(
                "{indent}[[{header}]]\n{indent}name = \"{name}\"\n"
            ));
            out.push_str(&format!("{indent}kind = \"{kind}\"\n"));
            if let Some(restart) = restart {
                out.push_str(&format!("{indent}restart = \"{restart}\"\n"));
            }
            if let Some(shutdown) = shutdown {
                out.push_str(&format!("{indent}shutdown = \"{shutdown}\"\n"));
            }
            match node {
                Node::Process { .. } => {
                    out.push_str(&format!("{indent}argv = [\"sh\", \"-c\", \"exit 0\"]\n"));
                }
                Node::Supervisor {
                    settings, children, ..
                } => {
                    write_settings(out, settings, &indent);
                    self.render(children, depth + 1);
                }
                Node::Pod { .. } => {}
            }
        }
    }
}

fn tree_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tree.toml")
}

fn check_settings(
    spec: &podsup_config::SupervisorSpec,
    settings: &Settings,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        spec.strategy,
        settings.strategy.unwrap_or(Strategy::OneForOne)
    );
    prop_assert_eq!(
        spec.intensity.max_restarts,
        settings.max_restarts.unwrap_or(5)
    );
    prop_assert_eq!(
        spec.intensity.within,
        settings.within.unwrap_or(Duration::from_secs(10))
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn valid_trees_round_trip(
        prefix in "[a-zA-Z][a-zA-Z0-9_.-]{0,10}",
        root in settings(),
        children in proptest::collection::vec(node(), 0..5),
    ) {
        let mut renderer = Renderer { text: String::from("name = \"generated\"\n"), expected: Vec::new(), prefix };
        write_settings(&mut renderer.text, &root, "");
        renderer.render(&children, 1);
        let Renderer { text, expected, .. } = renderer;

        let tree = parse(&text, &tree_path()).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        check_settings(&tree.root, &root)?;
        let walked: Vec<_> = tree.walk().collect();
        prop_assert_eq!(walked.len(), expected.len());
        for ((child, depth), (name, expected_depth, node)) in walked.into_iter().zip(&expected) {
            prop_assert_eq!(child.name.as_str(), name.as_str());
            prop_assert_eq!(depth, *expected_depth);
            let (restart, shutdown) = match (node, &child.kind) {
                (Node::Pod { restart, shutdown }, ChildKind::Pod(_)) => (restart, shutdown.unwrap_or(Shutdown::Timeout(Duration::from_secs(5)))),
                (Node::Process { restart, shutdown }, ChildKind::Process(process)) => {
                    prop_assert_eq!(&process.argv, &["sh", "-c", "exit 0"]);
                    (restart, shutdown.unwrap_or(Shutdown::Timeout(Duration::from_secs(5))))
                }
                (Node::Supervisor { restart, settings, children }, ChildKind::Supervisor(spec)) => {
                    check_settings(spec, settings)?;
                    prop_assert_eq!(spec.children.len(), children.len());
                    (restart, Shutdown::Timeout(Duration::from_secs(60)))
                }
                (node, kind) => return Err(TestCaseError::fail(format!("{node:?} decoded as {kind:?}"))),
            };
            prop_assert_eq!(child.restart, restart.unwrap_or(Restart::Permanent));
            prop_assert_eq!(child.shutdown, shutdown);
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC*") {
        if let Err(err) = parse(&text, &tree_path()) {
            prop_assert!(!err.diagnostics().is_empty());
        }
    }

    #[test]
    fn tree_shaped_noise_never_panics(
        text in "(\\[\\[child\\]\\]\n|\\[\\[child\\.child\\]\\]\n|\\[child\\.(echo|command|backoff)\\]\n|name = \"[a-z ]{0,3}\"\n|kind = \"(pod|process|supervisor|x)\"\n|engine = \"(echo|command|llm)\"\n|argv = \\[(\"sh\")?\\]\n|(within|shutdown|start_timeout|timeout|initial|max) = \"[0-9a-z. -]{0,5}\"\n|[a-z_]{1,12} = [-0-9a-z\"{}\\[\\],.=]{0,8}\n)*"
    ) {
        let outcome = parse(&text, &tree_path());
        if let Err(err) = outcome {
            prop_assert!(!err.diagnostics().is_empty());
            for diagnostic in err.diagnostics() {
                prop_assert!(diagnostic.line >= 1 && diagnostic.column >= 1);
                prop_assert!(!diagnostic.message.contains('\n'), "{}", diagnostic.message);
            }
        }
    }
}
