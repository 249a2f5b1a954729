use std::time::{Duration, Instant};

use podsup_config::{Backoff, Intensity, Restart, Strategy};

use super::*;
use crate::policy::ExitKind;

const STRATEGIES: [Strategy; 3] = [
    Strategy::OneForOne,
    Strategy::OneForAll,
    Strategy::RestForOne,
];
const RESTARTS: [Restart; 3] = [Restart::Permanent, Restart::Transient, Restart::Temporary];
const EXITS: [ExitKind; 2] = [ExitKind::Normal, ExitKind::Abnormal];

fn intensity(max_restarts: u32) -> Intensity {
    Intensity {
        max_restarts,
        within: Duration::from_secs(10),
    }
}

/// Starts child `idx` and reports it ready at `now`, as the supervisor actor does.
fn up(core: &mut SupCore, idx: usize, now: Instant) {
    core.starting(idx);
    core.started(idx, now);
}

/// Four running children a, b, c, d; b has restart type `b_restart`.
fn running(strategy: Strategy, b_restart: Restart, max_restarts: u32) -> (SupCore, Instant) {
    let mut core = SupCore::new(strategy, intensity(max_restarts), None);
    let now = Instant::now();
    for (name, restart) in [
        ("a", Restart::Permanent),
        ("b", b_restart),
        ("c", Restart::Permanent),
        ("d", Restart::Permanent),
    ] {
        let idx = core.add(name.into(), restart);
        up(&mut core, idx, now);
    }
    (core, now)
}

/// What each strategy should do when child 1 (b) of four must be restarted.
fn expected_restart(strategy: Strategy) -> Vec<Action> {
    match strategy {
        Strategy::OneForOne | Strategy::Dynamic => vec![Action::Start(1)],
        Strategy::OneForAll => vec![
            Action::Stop(3),
            Action::Stop(2),
            Action::Stop(0),
            Action::Start(0),
            Action::Start(1),
            Action::Start(2),
            Action::Start(3),
        ],
        Strategy::RestForOne => vec![
            Action::Stop(3),
            Action::Stop(2),
            Action::Start(1),
            Action::Start(2),
            Action::Start(3),
        ],
    }
}

/// The full matrix: strategy × restart type × exit kind × intensity exceeded.
#[test]
fn strategy_restart_exit_intensity_matrix() {
    for strategy in STRATEGIES {
        for restart in RESTARTS {
            for exit in EXITS {
                for exceeded in [false, true] {
                    let (mut core, now) = running(strategy, restart, if exceeded { 0 } else { 3 });
                    let actions = core.exited(1, exit, now);
                    let restarts = match (restart, exit) {
                        (Restart::Permanent, _) => true,
                        (Restart::Transient, ExitKind::Abnormal) => true,
                        (Restart::Transient, ExitKind::Normal | ExitKind::Shutdown) => false,
                        (Restart::Temporary, _) => false,
                    };
                    let case = format!("{strategy:?} {restart:?} {exit:?} exceeded={exceeded}");
                    let expected = match (restarts, exceeded) {
                        (false, _) => vec![],
                        (true, true) => {
                            assert!(
                                matches!(actions.as_slice(), [Action::Escalate(_)]),
                                "{case}: {actions:?}"
                            );
                            assert_eq!(core.children[1].state, ChildState::Failed, "{case}");
                            continue;
                        }
                        (true, false) => expected_restart(strategy),
                    };
                    assert_eq!(actions, expected, "{case}");
                    if !restarts {
                        assert_eq!(core.children[1].state, ChildState::Stopped, "{case}");
                        // Siblings untouched.
                        assert!(
                            core.is_running(0) && core.is_running(2) && core.is_running(3),
                            "{case}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn restart_bumps_generation_and_restarts() {
    let (mut core, now) = running(Strategy::OneForOne, Restart::Permanent, 3);
    assert_eq!(core.children[1].generation, 1);
    let actions = core.exited(1, ExitKind::Abnormal, now);
    assert_eq!(actions, vec![Action::Start(1)]);
    assert!(core.wants_start(1));
    up(&mut core, 1, now);
    assert_eq!(core.children[1].generation, 2);
    assert_eq!(core.children[1].restarts, 1);
}

/// A restart that fails to start (a pod that never answers the handshake) is an attempt
/// all the same: each one is a new generation and a restart, and the next attempt follows
/// until the intensity is used up.
#[test]
fn every_failed_start_attempt_is_a_new_generation_and_a_restart() {
    let (mut core, now) = running(Strategy::OneForOne, Restart::Permanent, 3);
    assert_eq!(
        core.exited(1, ExitKind::Abnormal, now),
        vec![Action::Start(1)]
    );
    for attempt in 1..=3u64 {
        assert!(core.wants_start(1), "attempt {attempt}");
        assert_eq!(
            core.starting(1),
            1 + attempt,
            "attempt {attempt}'s generation"
        );
        assert_eq!(core.children[1].restarts, attempt, "attempt {attempt}");
        let actions = core.exited(1, ExitKind::Abnormal, now);
        // The crash and the first two failures are three restarts within the window; the
        // third failure would be the fourth.
        match attempt {
            1 | 2 => assert_eq!(actions, vec![Action::Start(1)], "attempt {attempt}"),
            _ => assert!(
                matches!(actions.as_slice(), [Action::Escalate(_)]),
                "attempt {attempt}: {actions:?}"
            ),
        }
    }
    assert_eq!(core.children[1].state, ChildState::Failed);
    assert_eq!(
        (core.children[1].generation, core.children[1].restarts),
        (4, 3)
    );
}

/// In every strategy, a restart that fails to start counts against the intensity like the
/// exit that caused it.
#[test]
fn a_failed_restart_counts_against_intensity_in_every_strategy() {
    for strategy in STRATEGIES {
        let (mut core, now) = running(strategy, Restart::Permanent, 1);
        assert_eq!(
            core.exited(1, ExitKind::Abnormal, now),
            expected_restart(strategy),
            "{strategy:?}"
        );
        assert_eq!(core.starting(1), 2, "{strategy:?}");
        let actions = core.exited(1, ExitKind::Abnormal, now);
        assert!(
            matches!(actions.as_slice(), [Action::Escalate(_)]),
            "{strategy:?}: {actions:?}"
        );
        assert_eq!(core.children[1].restarts, 1, "{strategy:?}");
    }
}

/// The first start is generation 1 and no restart; a start that comes up does not move the
/// counts again.
#[test]
fn first_start_is_generation_one_and_started_keeps_the_counts() {
    let mut core = SupCore::new(Strategy::OneForOne, intensity(3), None);
    let idx = core.add("a".into(), Restart::Permanent);
    assert_eq!(core.starting(idx), 1);
    core.started(idx, Instant::now());
    assert!(core.is_running(idx));
    assert_eq!(
        (core.children[idx].generation, core.children[idx].restarts),
        (1, 0)
    );
}

#[test]
fn rest_for_one_keeps_earlier_siblings() {
    let (mut core, now) = running(Strategy::RestForOne, Restart::Permanent, 3);
    core.exited(2, ExitKind::Abnormal, now);
    assert!(core.is_running(0) && core.is_running(1));
    assert_eq!(core.children[2].state, ChildState::Pending);
    assert_eq!(core.children[3].state, ChildState::Pending);
}

#[test]
fn temporary_sibling_is_not_brought_back_by_one_for_all() {
    let mut core = SupCore::new(Strategy::OneForAll, intensity(3), None);
    let now = Instant::now();
    for (name, restart) in [("a", Restart::Permanent), ("t", Restart::Temporary)] {
        let idx = core.add(name.into(), restart);
        up(&mut core, idx, now);
    }
    let actions = core.exited(0, ExitKind::Abnormal, now);
    assert_eq!(actions, vec![Action::Stop(1), Action::Start(0)]);
    core.stopped(1);
    assert_eq!(core.children[1].state, ChildState::Stopped);
}

#[test]
fn operator_stop_holds_child_down_through_group_restarts() {
    let (mut core, now) = running(Strategy::OneForAll, Restart::Permanent, 3);
    assert_eq!(core.stop(3).unwrap(), vec![Action::Stop(3)]);
    core.stopped(3);
    let actions = core.exited(0, ExitKind::Abnormal, now);
    assert!(!actions.contains(&Action::Start(3)), "{actions:?}");
    assert!(!actions.contains(&Action::Stop(3)), "{actions:?}");
    assert_eq!(core.stop(3), Err(OpError::AlreadyStopped("d".into())));
    assert_eq!(core.start(3).unwrap(), vec![Action::Start(3)]);
    up(&mut core, 3, now);
    assert!(core.is_running(3));
    assert_eq!(core.start(3), Err(OpError::AlreadyRunning("d".into())));
}

#[test]
fn exit_of_held_child_is_not_restarted() {
    let (mut core, now) = running(Strategy::OneForOne, Restart::Permanent, 3);
    core.stop(1).unwrap();
    assert_eq!(core.exited(1, ExitKind::Abnormal, now), vec![]);
}

#[test]
fn operator_restart_touches_only_that_child() {
    let (mut core, _) = running(Strategy::OneForAll, Restart::Permanent, 3);
    assert_eq!(
        core.restart_child(2),
        vec![Action::Stop(2), Action::Start(2)]
    );
}

#[test]
fn escalation_after_max_restarts_within_window() {
    let (mut core, now) = running(Strategy::OneForOne, Restart::Permanent, 2);
    for i in 0..2 {
        let t = now + Duration::from_millis(i);
        assert_eq!(
            core.exited(0, ExitKind::Abnormal, t),
            vec![Action::Start(0)]
        );
        up(&mut core, 0, t);
    }
    let actions = core.exited(0, ExitKind::Abnormal, now + Duration::from_millis(3));
    match actions.as_slice() {
        [Action::Escalate(reason)] => {
            assert!(reason.contains("restart intensity exceeded"), "{reason}")
        }
        other => panic!("expected escalation, got {other:?}"),
    }
}

#[test]
fn backoff_delays_start_and_wake_starts_when_due() {
    let backoff = Backoff {
        initial: Duration::from_millis(100),
        max: Duration::from_secs(10),
        multiplier: 2.0,
        reset_after: Duration::from_secs(60),
    };
    let mut core = SupCore::new(Strategy::OneForOne, intensity(10), Some(backoff));
    let now = Instant::now();
    let idx = core.add("a".into(), Restart::Permanent);
    up(&mut core, idx, now);
    let actions = core.exited(idx, ExitKind::Abnormal, now);
    let [Action::WakeAt(at)] = actions.as_slice() else {
        panic!("expected a wake-up, got {actions:?}");
    };
    let first = at.duration_since(now);
    assert!(
        first >= Duration::from_millis(90) && first <= Duration::from_millis(110),
        "{first:?}"
    );
    assert_eq!(core.next_deadline(), Some(*at));
    assert!(!core.wants_start(idx));
    assert_eq!(core.wake(now), vec![]);
    assert_eq!(core.wake(*at), vec![Action::Start(idx)]);
    up(&mut core, idx, *at);
    // A second quick crash waits about twice as long.
    let actions = core.exited(idx, ExitKind::Abnormal, *at);
    let [Action::WakeAt(at2)] = actions.as_slice() else {
        panic!("expected a wake-up, got {actions:?}");
    };
    let second = at2.duration_since(*at);
    assert!(
        second >= Duration::from_millis(180) && second <= Duration::from_millis(220),
        "{second:?}"
    );
    // After a stable run the delay is back to the initial one.
    core.wake(*at2);
    up(&mut core, idx, *at2);
    let later = *at2 + Duration::from_secs(61);
    let actions = core.exited(idx, ExitKind::Abnormal, later);
    let [Action::WakeAt(at3)] = actions.as_slice() else {
        panic!("expected a wake-up, got {actions:?}");
    };
    assert!(at3.duration_since(later) <= Duration::from_millis(110));
}

#[test]
fn operator_stop_during_backoff_cancels_the_restart() {
    let backoff = Backoff {
        initial: Duration::from_secs(1),
        max: Duration::from_secs(10),
        multiplier: 2.0,
        reset_after: Duration::from_secs(60),
    };
    let mut core = SupCore::new(Strategy::OneForOne, intensity(10), Some(backoff));
    let now = Instant::now();
    let idx = core.add("a".into(), Restart::Permanent);
    up(&mut core, idx, now);
    core.exited(idx, ExitKind::Abnormal, now);
    assert_eq!(core.stop(idx).unwrap(), vec![]);
    assert_eq!(core.wake(now + Duration::from_secs(5)), vec![]);
    assert_eq!(core.children[idx].state, ChildState::Stopped);
}
