use super::*;

const RESTARTS: [Restart; 3] = [Restart::Permanent, Restart::Transient, Restart::Temporary];
const EXITS: [ExitKind; 3] = [ExitKind::Normal, ExitKind::Shutdown, ExitKind::Abnormal];

/// The OTP restart matrix, written out as the expected table.
#[test]
fn restart_matrix() {
    use Decision::{Forget, Restart as R};
    let expected = [
        // Normal, Shutdown, Abnormal
        [R, Forget, R],           // permanent
        [Forget, Forget, R],      // transient
        [Forget, Forget, Forget], // temporary
    ];
    for (ri, restart) in RESTARTS.into_iter().enumerate() {
        for (ei, exit) in EXITS.into_iter().enumerate() {
            assert_eq!(
                decide(restart, exit),
                expected[ri][ei],
                "{restart:?} × {exit:?}"
            );
        }
    }
}

#[test]
fn strategy_matrix_middle_child_of_four() {
    let p = plan(Strategy::OneForOne, 1, 4);
    assert_eq!(
        p,
        Plan {
            stop: vec![],
            start: vec![1]
        }
    );
    let p = plan(Strategy::OneForAll, 1, 4);
    assert_eq!(
        p,
        Plan {
            stop: vec![3, 2, 0],
            start: vec![0, 1, 2, 3]
        }
    );
    let p = plan(Strategy::RestForOne, 1, 4);
    assert_eq!(
        p,
        Plan {
            stop: vec![3, 2],
            start: vec![1, 2, 3]
        }
    );
    let p = plan(Strategy::Dynamic, 1, 4);
    assert_eq!(
        p,
        Plan {
            stop: vec![],
            start: vec![1]
        }
    );
}

#[test]
fn strategy_edges() {
    assert_eq!(plan(Strategy::RestForOne, 3, 4).stop, Vec::<usize>::new());
    assert_eq!(plan(Strategy::RestForOne, 0, 3).stop, vec![2, 1]);
    assert_eq!(
        plan(Strategy::OneForAll, 0, 1),
        Plan {
            stop: vec![],
            start: vec![0]
        }
    );
}

fn limit(max_restarts: u32, secs: u64) -> Intensity {
    Intensity {
        max_restarts,
        within: Duration::from_secs(secs),
    }
}

#[test]
fn intensity_allows_max_then_fails() {
    let t0 = Instant::now();
    let mut log = RestartLog::new(limit(3, 10));
    for i in 0..3 {
        assert!(
            log.record(t0 + Duration::from_secs(i)).is_ok(),
            "restart {i}"
        );
    }
    let err = log.record(t0 + Duration::from_secs(3)).unwrap_err();
    assert_eq!(err.restarts, 4);
}

#[test]
fn intensity_window_slides() {
    let t0 = Instant::now();
    let mut log = RestartLog::new(limit(2, 10));
    assert!(log.record(t0).is_ok());
    assert!(log.record(t0 + Duration::from_secs(1)).is_ok());
    // The first restart has left the window by t0+10s.
    assert!(log.record(t0 + Duration::from_secs(10)).is_ok());
    assert!(log.record(t0 + Duration::from_secs(10)).is_err());
}

#[test]
fn intensity_zero_refuses_first_restart() {
    let mut log = RestartLog::new(limit(0, 5));
    assert!(log.record(Instant::now()).is_err());
}

/// Matrix: restart type × exit kind × intensity exceeded or not → restart carried out?
#[test]
fn restart_type_exit_intensity_matrix() {
    for restart in RESTARTS {
        for exit in EXITS {
            for exceeded in [false, true] {
                let mut log = RestartLog::new(limit(if exceeded { 0 } else { 5 }, 5));
                let carried_out = match decide(restart, exit) {
                    Decision::Restart => log.record(Instant::now()).is_ok(),
                    Decision::Forget => false,
                };
                let expected = !exceeded
                    && match exit {
                        ExitKind::Abnormal => restart != Restart::Temporary,
                        ExitKind::Normal => restart == Restart::Permanent,
                        ExitKind::Shutdown => false,
                    };
                assert_eq!(
                    carried_out, expected,
                    "{restart:?} {exit:?} exceeded={exceeded}"
                );
            }
        }
    }
}

#[test]
fn backoff_grows_and_caps() {
    let b = Backoff {
        initial: Duration::from_millis(100),
        max: Duration::from_secs(1),
        multiplier: 2.0,
        reset_after: Duration::from_secs(30),
    };
    assert_eq!(backoff_delay(&b, 1, 0.5), Duration::from_millis(100));
    assert_eq!(backoff_delay(&b, 2, 0.5), Duration::from_millis(200));
    assert_eq!(backoff_delay(&b, 3, 0.5), Duration::from_millis(400));
    assert_eq!(backoff_delay(&b, 10, 0.5), Duration::from_secs(1));
    assert_eq!(backoff_delay(&b, u32::MAX, 0.99), Duration::from_secs(1));
    let low = backoff_delay(&b, 1, 0.0);
    let high = backoff_delay(&b, 1, 0.999);
    assert!(low >= Duration::from_millis(89) && high <= Duration::from_millis(111));
    assert!(low < high);
}
