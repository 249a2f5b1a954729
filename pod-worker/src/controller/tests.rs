use podsup_wire::{ErrorCode, Event, Item, Method, PodEvent, PodStatus, RunResult, Segment};

use super::*;
use crate::engine::{EngineError, TurnEnd};

fn run(text: &str) -> Method {
    Method::Run {
        input: vec![Segment::Text(text.into())],
    }
}

fn idle() -> Controller {
    Controller::new("p")
}

fn running(method: Method) -> Controller {
    let mut c = idle();
    c.on_method(method);
    assert!(matches!(c.state(), State::Running { .. }));
    c
}

fn paused() -> Controller {
    let mut c = running(run("x"));
    c.on_method(Method::Pause);
    c.on_turn_end(Err(EngineError::Cancelled));
    assert!(matches!(c.state(), State::Paused { .. }));
    c
}

fn errors(actions: &[Action]) -> Vec<ErrorCode> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Emit(Event::Error { code, .. }) => Some(*code),
            _ => None,
        })
        .collect()
}

fn upward(actions: &[Action]) -> Vec<PodEvent> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Upward(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

fn starts(actions: &[Action]) -> bool {
    actions.contains(&Action::StartTurn)
}

/// What a method does in one state: the error (if any), whether a turn starts, the status
/// after.
type Expect = (Option<ErrorCode>, bool, PodStatus);

/// Every method in every state: which error (if any), whether a turn starts, the state after.
#[test]
fn method_state_matrix() {
    type Make = fn() -> Controller;
    let states: [(&str, Make); 3] = [
        ("idle", idle as Make),
        ("running", || running(run("x"))),
        ("paused", paused),
    ];
    // (method, [(error, starts a turn, status after) for idle, running, paused])
    let table: Vec<(Method, [Expect; 3])> = vec![
        (
            run("y"),
            [
                (None, true, PodStatus::Running),
                (Some(ErrorCode::AlreadyRunning), false, PodStatus::Running),
                (None, true, PodStatus::Running),
            ],
        ),
        (
            Method::Notify {
                message: "n".into(),
            },
            [
                (None, true, PodStatus::Running),
                (None, false, PodStatus::Running),
                (None, false, PodStatus::Paused),
            ],
        ),
        (
            Method::PodEvent(PodEvent::TurnEnded {
                pod_name: "c".into(),
            }),
            [
                (None, true, PodStatus::Running),
                (None, false, PodStatus::Running),
                (None, false, PodStatus::Paused),
            ],
        ),
        (
            Method::Resume,
            [
                (Some(ErrorCode::NotPaused), false, PodStatus::Idle),
                (Some(ErrorCode::NotPaused), false, PodStatus::Running),
                (None, true, PodStatus::Running),
            ],
        ),
        (
            Method::Pause,
            [
                (Some(ErrorCode::NotRunning), false, PodStatus::Idle),
                (None, false, PodStatus::Running),
                (None, false, PodStatus::Paused),
            ],
        ),
        (
            Method::Cancel,
            [
                (Some(ErrorCode::NotRunning), false, PodStatus::Idle),
                (None, false, PodStatus::Running),
                (None, false, PodStatus::Idle),
            ],
        ),
        (
            Method::Compact,
            [
                (Some(ErrorCode::InvalidRequest), false, PodStatus::Idle),
                (Some(ErrorCode::AlreadyRunning), false, PodStatus::Running),
                (Some(ErrorCode::InvalidRequest), false, PodStatus::Paused),
            ],
        ),
        (
            Method::RewindTo {
                target: 0,
                expected_head_entries: 0,
            },
            [
                (Some(ErrorCode::InvalidRequest), false, PodStatus::Idle),
                (Some(ErrorCode::AlreadyRunning), false, PodStatus::Running),
                (Some(ErrorCode::InvalidRequest), false, PodStatus::Paused),
            ],
        ),
        (
            Method::ListRewindTargets,
            [
                (None, false, PodStatus::Idle),
                (Some(ErrorCode::AlreadyRunning), false, PodStatus::Running),
                (None, false, PodStatus::Paused),
            ],
        ),
        (
            Method::Snapshot,
            [
                (None, false, PodStatus::Idle),
                (None, false, PodStatus::Running),
                (None, false, PodStatus::Paused),
            ],
        ),
        (
            Method::Record {
                item: Item::Registry { json: "{}".into() },
            },
            [
                (None, false, PodStatus::Idle),
                (None, false, PodStatus::Running),
                (None, false, PodStatus::Paused),
            ],
        ),
        (
            Method::ListVisiblePods,
            [
                (Some(ErrorCode::InvalidRequest), false, PodStatus::Idle),
                (Some(ErrorCode::InvalidRequest), false, PodStatus::Running),
                (Some(ErrorCode::InvalidRequest), false, PodStatus::Paused),
            ],
        ),
    ];
    for (method, expected) in table {
        for ((state_name, make), (err, start, after)) in states.iter().zip(expected) {
            let mut c = make();
            let actions = c.on_method(method.clone());
            let case = format!("{method:?} while {state_name}: {actions:?}");
            assert_eq!(
                errors(&actions),
                err.into_iter().collect::<Vec<_>>(),
                "{case}"
            );
            assert_eq!(starts(&actions), start, "{case}");
            assert_eq!(c.status(), after, "{case}");
        }
    }
}

#[test]
fn shutdown_in_each_state() {
    for mut c in [idle(), paused()] {
        let actions = c.on_method(Method::Shutdown);
        assert!(actions.contains(&Action::Exit), "{actions:?}");
        assert_eq!(
            upward(&actions),
            vec![PodEvent::ShutDown {
                pod_name: "p".into()
            }]
        );
        assert_eq!(c.state(), &State::Exiting);
    }
    // Running: cancel first, exit when the turn has ended.
    let mut c = running(run("x"));
    let actions = c.on_method(Method::Shutdown);
    assert_eq!(actions, vec![Action::CancelTurn]);
    let actions = c.on_turn_end(Err(EngineError::Cancelled));
    assert!(actions.contains(&Action::Exit), "{actions:?}");
    assert!(actions.contains(&Action::Checkpoint));
    assert_eq!(
        upward(&actions),
        vec![PodEvent::ShutDown {
            pod_name: "p".into()
        }]
    );
}

#[test]
fn pause_while_paused_is_a_no_op() {
    let mut c = paused();
    assert_eq!(c.on_method(Method::Pause), vec![]);
}

#[test]
fn pause_cancels_the_turn_and_ends_paused() {
    let mut c = running(run("x"));
    assert_eq!(c.on_method(Method::Pause), vec![Action::CancelTurn]);
    let actions = c.on_turn_end(Err(EngineError::Cancelled));
    assert!(actions.contains(&Action::Emit(Event::RunEnd {
        result: RunResult::Paused
    })));
    assert_eq!(upward(&actions), vec![], "a pause is not an error upward");
    assert_eq!(c.status(), PodStatus::Paused);
}

#[test]
fn cancel_returns_to_idle() {
    let mut c = running(run("x"));
    assert_eq!(c.on_method(Method::Cancel), vec![Action::CancelTurn]);
    let actions = c.on_turn_end(Err(EngineError::Cancelled));
    assert!(actions.contains(&Action::Emit(Event::RunEnd {
        result: RunResult::Cancelled
    })));
    assert_eq!(upward(&actions), vec![]);
    assert_eq!(c.status(), PodStatus::Idle);
}

#[test]
fn run_commits_input_and_checkpoints_before_starting() {
    let mut c = idle();
    let actions = c.on_method(run("hello"));
    let commit = actions.iter().position(|a| {
        a == &Action::Commit(Item::User {
            text: "hello".into(),
        })
    });
    let checkpoint = actions.iter().position(|a| a == &Action::Checkpoint);
    let start = actions.iter().position(|a| a == &Action::StartTurn);
    assert!(commit < checkpoint && checkpoint < start, "{actions:?}");
}

/// The upward-event table: origin × outcome → what the parent hears.
#[test]
fn upward_event_table() {
    let finished = || Ok(TurnEnd::Finished);
    let failed = || Err(EngineError::Provider("boom".into()));
    let turned = PodEvent::TurnEnded {
        pod_name: "p".into(),
    };
    let errored = PodEvent::Errored {
        pod_name: "p".into(),
        message: "boom".into(),
    };
    type Make = fn() -> Controller;
    let origins: [(&str, Make, bool); 4] = [
        ("run", || running(run("x")), true),
        (
            "resume",
            || {
                let mut c = paused();
                c.on_method(Method::Resume);
                c
            },
            true,
        ),
        (
            "notify",
            || {
                running(Method::Notify {
                    message: "n".into(),
                })
            },
            false,
        ),
        (
            "pod event",
            || {
                running(Method::PodEvent(PodEvent::TurnEnded {
                    pod_name: "c".into(),
                }))
            },
            false,
        ),
    ];
    for (name, make, parent) in origins {
        let mut c = make();
        let got = upward(&c.on_turn_end(finished()));
        let want = if parent { vec![turned.clone()] } else { vec![] };
        assert_eq!(got, want, "{name} finished");
        let mut c = make();
        let got = upward(&c.on_turn_end(failed()));
        let want = if parent {
            vec![errored.clone()]
        } else {
            vec![]
        };
        assert_eq!(got, want, "{name} failed");
        let mut c = make();
        c.on_method(Method::Pause);
        assert_eq!(
            upward(&c.on_turn_end(Err(EngineError::Cancelled))),
            vec![],
            "{name} paused"
        );
        let mut c = make();
        c.on_method(Method::Cancel);
        assert_eq!(
            upward(&c.on_turn_end(Err(EngineError::Cancelled))),
            vec![],
            "{name} cancelled"
        );
        let mut c = make();
        assert_eq!(
            upward(&c.on_turn_end(Ok(TurnEnd::LimitReached))),
            vec![],
            "{name} limit"
        );
    }
}

#[test]
fn notifications_during_a_turn_start_the_next_turn() {
    let mut c = running(run("x"));
    assert!(
        c.on_method(Method::Notify {
            message: "a".into()
        })
        .is_empty()
    );
    assert!(
        c.on_method(Method::Notify {
            message: "b".into()
        })
        .is_empty()
    );
    let actions = c.on_turn_end(Ok(TurnEnd::Finished));
    let commits: Vec<_> = actions
        .iter()
        .filter_map(|a| match a {
            Action::Commit(i) => Some(i.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        commits,
        vec![
            Item::Notification { text: "a".into() },
            Item::Notification { text: "b".into() }
        ]
    );
    assert!(starts(&actions));
    assert_eq!(c.pending(), 0);
}

#[test]
fn notify_buffer_drops_oldest_with_an_alert() {
    let mut c = running(run("x"));
    for i in 0..NOTIFY_CAPACITY {
        assert!(
            c.on_method(Method::Notify {
                message: i.to_string()
            })
            .is_empty()
        );
    }
    let actions = c.on_method(Method::Notify {
        message: "overflow".into(),
    });
    assert!(
        matches!(actions.as_slice(), [Action::Emit(Event::Alert { .. })]),
        "{actions:?}"
    );
    assert_eq!(c.pending(), NOTIFY_CAPACITY);
}

#[test]
fn failed_turn_is_committed_and_reported() {
    let mut c = running(run("x"));
    let actions = c.on_turn_end(Err(EngineError::Tool("exit 3".into())));
    assert!(actions.contains(&Action::Commit(Item::System {
        text: "turn 1 failed: exit 3".into()
    })));
    assert_eq!(errors(&actions), vec![ErrorCode::ToolError]);
    assert_eq!(c.status(), PodStatus::Idle);
}
