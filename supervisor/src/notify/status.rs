//! The one-line summary systemd shows as the service's `Status:`.

use podsup_wire::NodeState;

use crate::registry::Registry;

/// How many children (pods and processes; supervisors are not counted) are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Spawned, not yet ready.
    pub starting: usize,
    /// Ready.
    pub running: usize,
    /// Asked to stop, not yet reaped.
    pub stopping: usize,
    /// Not running and not being restarted (operator stop, temporary child that ended).
    pub stopped: usize,
    /// Waiting for a restart delay.
    pub backoff: usize,
    /// Gave up.
    pub failed: usize,
}

impl Counts {
    /// The counts of `registry` now.
    pub fn of(registry: &Registry) -> Counts {
        let mut counts = Counts::default();
        registry.child_states(|state| {
            let count = match state {
                NodeState::Starting => &mut counts.starting,
                NodeState::Running => &mut counts.running,
                NodeState::Stopping => &mut counts.stopping,
                NodeState::Stopped => &mut counts.stopped,
                NodeState::Backoff => &mut counts.backoff,
                NodeState::Failed => &mut counts.failed,
            };
            *count += 1;
        });
        counts
    }
}

/// `"12 pods running, 1 in backoff, 0 failed"`: running, backoff and failed always (so the
/// line keeps its shape), starting, stopping and stopped only when there are any. "Pods"
/// here means every supervised child, processes included.
pub fn status_line(counts: &Counts) -> String {
    let noun = if counts.running == 1 { "pod" } else { "pods" };
    let mut parts = vec![format!("{} {noun} running", counts.running)];
    let optional = [
        (counts.starting, "starting"),
        (counts.stopping, "stopping"),
        (counts.stopped, "stopped"),
    ];
    for (n, what) in optional {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    parts.push(format!("{} in backoff", counts.backoff));
    parts.push(format!("{} failed", counts.failed));
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_line_matrix() {
        let cases = [
            (Counts::default(), "0 pods running, 0 in backoff, 0 failed"),
            (
                Counts {
                    running: 1,
                    ..Counts::default()
                },
                "1 pod running, 0 in backoff, 0 failed",
            ),
            (
                Counts {
                    running: 12,
                    backoff: 1,
                    ..Counts::default()
                },
                "12 pods running, 1 in backoff, 0 failed",
            ),
            (
                Counts {
                    running: 3,
                    starting: 1,
                    stopping: 2,
                    stopped: 4,
                    backoff: 5,
                    failed: 6,
                },
                "3 pods running, 1 starting, 2 stopping, 4 stopped, 5 in backoff, 6 failed",
            ),
            (
                Counts {
                    stopped: 1,
                    failed: 2,
                    ..Counts::default()
                },
                "0 pods running, 1 stopped, 0 in backoff, 2 failed",
            ),
        ];
        for (counts, want) in cases {
            assert_eq!(status_line(&counts), want, "{counts:?}");
        }
    }

    #[test]
    fn counts_come_from_the_registry_without_supervisors() {
        use crate::intent::Intent;
        use crate::registry::Node;
        use podsup_wire::NodeKind;

        // A state dir without an intent file gives an empty intent; nothing is written.
        let no_state = std::path::Path::new("/nonexistent/podsup-notify-counts");
        let intent = Intent::load(no_state).expect("empty intent");
        let registry = Registry::new("t", "root", intent);
        let node = |kind, state| Node {
            state,
            ..Node::new(kind, None, None)
        };
        registry.declare("root", node(NodeKind::Supervisor, NodeState::Running));
        registry.declare("sub", node(NodeKind::Supervisor, NodeState::Running));
        registry.declare("a", node(NodeKind::Pod, NodeState::Running));
        registry.declare("b", node(NodeKind::Process, NodeState::Running));
        registry.declare("c", node(NodeKind::Pod, NodeState::Backoff));
        registry.declare("d", node(NodeKind::Pod, NodeState::Failed));
        let counts = Counts::of(&registry);
        assert_eq!(
            counts,
            Counts {
                running: 2,
                backoff: 1,
                failed: 1,
                ..Counts::default()
            }
        );
        assert_eq!(
            status_line(&counts),
            "2 pods running, 1 in backoff, 1 failed"
        );
    }
}
