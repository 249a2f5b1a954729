//! The tree under test: about fifty pods, processes and supervisors under every strategy,
//! held as a [`Model`] (the harness's view: parents, sibling order, policies) and rendered
//! to the `tree.toml` that `podsup start` runs, so the two cannot disagree.

use std::fmt::Write;
use std::time::Duration;

/// A supervisor's restart strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Restart only the child that ended.
    OneForOne,
    /// Restart every child.
    OneForAll,
    /// Restart the child that ended and those started after it.
    RestForOne,
}

impl Strategy {
    fn toml(self) -> &'static str {
        match self {
            Strategy::OneForOne => "one_for_one",
            Strategy::OneForAll => "one_for_all",
            Strategy::RestForOne => "rest_for_one",
        }
    }
}

/// A supervisor's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Its strategy.
    pub strategy: Strategy,
    /// More than this many restarts within `within` and it gives up.
    pub max_restarts: u32,
    /// The intensity window.
    pub within: Duration,
    /// Whether restarts wait for a (short) backoff.
    pub backoff: bool,
}

/// What a node is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A supervisor with its policy.
    Supervisor(Policy),
    /// An echo pod (the `ctl send` load goes to these); `transient` or permanent.
    Pod {
        /// `restart = "transient"` instead of the default permanent.
        transient: bool,
    },
    /// A plain process whose group holds a second process (a background `sleep`).
    Process,
}

/// One node of the tree.
#[derive(Debug, Clone)]
pub struct Node {
    /// Unique name.
    pub name: String,
    /// What it is.
    pub kind: Kind,
    /// Index of its supervisor (`None` for the root).
    pub parent: Option<usize>,
    /// Indices of its children, in start order.
    pub children: Vec<usize>,
}

/// The whole tree; node 0 is the root supervisor.
#[derive(Debug, Clone)]
pub struct Model {
    /// Every node, parents before children.
    pub nodes: Vec<Node>,
}

/// The root: its intensity is far out of reach, so only a sub-supervisor ever gives up.
const ROOT: Policy = Policy {
    strategy: Strategy::OneForOne,
    max_restarts: 100_000,
    within: Duration::from_secs(10),
    backoff: false,
};

fn policy(strategy: Strategy) -> Policy {
    Policy {
        strategy,
        max_restarts: 1000,
        within: Duration::from_secs(10),
        backoff: false,
    }
}

impl Model {
    /// The chaos tree: 9 supervisors (each strategy, nested ones, one that gives up after
    /// two restarts in 30 s, one with a backoff), 35 echo pods and 6 processes.
    pub fn chaos() -> Model {
        let mut m = Model {
            nodes: vec![Node {
                name: "root".into(),
                kind: Kind::Supervisor(ROOT),
                parent: None,
                children: Vec::new(),
            }],
        };
        let ofo = m.sup(0, "ofo", policy(Strategy::OneForOne));
        m.leaves(ofo, "ofo", "ppTpppxppx");
        let rfo = m.sup(0, "rfo", policy(Strategy::RestForOne));
        m.leaves(rfo, "rfo", "pTpxppp");
        let ofa = m.sup(0, "ofa", policy(Strategy::OneForAll));
        m.leaves(ofa, "ofa", "ppxppp");
        let nest = m.sup(0, "nest", policy(Strategy::RestForOne));
        m.leaves(nest, "nest-head", "p");
        let inner = m.sup(nest, "nest-ofo", policy(Strategy::OneForOne));
        m.leaves(inner, "nest-ofo", "ppx");
        let inner = m.sup(nest, "nest-ofa", policy(Strategy::OneForAll));
        m.leaves(inner, "nest-ofa", "ppp");
        m.leaves(nest, "nest-tail", "p");
        let fragile = Policy {
            max_restarts: 2,
            within: Duration::from_secs(30),
            ..policy(Strategy::OneForOne)
        };
        let fragile = m.sup(0, "fragile", fragile);
        m.leaves(fragile, "fragile", "pppp");
        let paced = Policy {
            backoff: true,
            ..policy(Strategy::OneForOne)
        };
        let paced = m.sup(0, "paced", paced);
        m.leaves(paced, "paced", "ppp");
        m.leaves(0, "top", "ppx");
        m
    }

    fn add(&mut self, parent: usize, name: String, kind: Kind) -> usize {
        let idx = self.nodes.len();
        self.nodes.push(Node {
            name,
            kind,
            parent: Some(parent),
            children: Vec::new(),
        });
        self.nodes[parent].children.push(idx);
        idx
    }

    fn sup(&mut self, parent: usize, name: &str, policy: Policy) -> usize {
        self.add(parent, name.into(), Kind::Supervisor(policy))
    }

    /// Adds leaves named `PREFIX-N`: `p` a pod, `T` a transient pod, `x` a process.
    fn leaves(&mut self, parent: usize, prefix: &str, kinds: &str) {
        for (i, k) in kinds.chars().enumerate() {
            let kind = match k {
                'x' => Kind::Process,
                'T' => Kind::Pod { transient: true },
                _ => Kind::Pod { transient: false },
            };
            let name = match kinds.len() {
                1 => prefix.to_owned(),
                _ => format!("{prefix}-{}", i + 1),
            };
            self.add(parent, name, kind);
        }
    }

    /// Index of the node called `name`.
    #[cfg(test)]
    pub fn index(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    /// The policy of supervisor `idx`.
    pub fn policy(&self, idx: usize) -> Option<Policy> {
        match self.nodes[idx].kind {
            Kind::Supervisor(p) => Some(p),
            Kind::Pod { .. } | Kind::Process => None,
        }
    }

    /// Whether node `idx` is a pod or a process (it has a pid of its own).
    pub fn is_leaf(&self, idx: usize) -> bool {
        !matches!(self.nodes[idx].kind, Kind::Supervisor(_))
    }

    /// Every pod and process.
    pub fn leaf_indices(&self) -> Vec<usize> {
        (0..self.nodes.len()).filter(|&i| self.is_leaf(i)).collect()
    }

    /// Every echo pod's name.
    pub fn pods(&self) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|n| matches!(n.kind, Kind::Pod { .. }))
            .map(|n| n.name.clone())
            .collect()
    }

    /// Supervisors with at least one pod or process among their children.
    pub fn group_targets(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| {
                !self.is_leaf(i) && self.nodes[i].children.iter().any(|&c| self.is_leaf(c))
            })
            .collect()
    }

    /// `idx` and everything below it.
    pub fn subtree(&self, idx: usize) -> Vec<usize> {
        let mut out = vec![idx];
        for &c in &self.nodes[idx].children {
            out.extend(self.subtree(c));
        }
        out
    }

    /// Position of `idx` among its siblings.
    pub fn position(&self, idx: usize) -> Option<usize> {
        let parent = self.nodes[idx].parent?;
        self.nodes[parent].children.iter().position(|&c| c == idx)
    }

    /// The tree file for `podsup start`.
    pub fn to_toml(&self) -> String {
        let mut out = String::from("# Generated by podsup-chaos.\nname = \"chaos\"\n");
        self.write_policy(&mut out, 0);
        for &c in &self.nodes[0].children {
            self.write_child(&mut out, c, 1);
        }
        out
    }

    fn write_policy(&self, out: &mut String, idx: usize) {
        let Some(p) = self.policy(idx) else { return };
        let within = p.within.as_secs();
        // Writing to a String cannot fail.
        writeln!(out, "strategy = \"{}\"", p.strategy.toml()).expect("write to String");
        writeln!(out, "max_restarts = {}", p.max_restarts).expect("write to String");
        writeln!(out, "within = \"{within}s\"").expect("write to String");
        if p.backoff {
            out.push_str("backoff = { initial = \"50ms\", max = \"400ms\", multiplier = 2.0, reset_after = \"5s\" }\n");
        }
    }

    fn write_child(&self, out: &mut String, idx: usize, depth: usize) {
        let node = &self.nodes[idx];
        let header = vec!["child"; depth].join(".");
        writeln!(out, "\n[[{header}]]\nname = \"{}\"", node.name).expect("write to String");
        match &node.kind {
            Kind::Supervisor(_) => {
                out.push_str("kind = \"supervisor\"\n");
                self.write_policy(out, idx);
            }
            Kind::Pod { transient } => {
                out.push_str("kind = \"pod\"\nengine = \"echo\"\n");
                if *transient {
                    out.push_str("restart = \"transient\"\n");
                }
            }
            Kind::Process => {
                out.push_str(
                    "kind = \"process\"\nargv = [\"sh\", \"-c\", \"sleep 3600 & wait\"]\n",
                );
            }
        }
        for &c in &node.children {
            self.write_child(out, c, depth + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chaos_tree_has_about_fifty_nodes_with_unique_names() {
        let m = Model::chaos();
        assert!(
            (45..=60).contains(&m.nodes.len()),
            "{} nodes",
            m.nodes.len()
        );
        let mut names: Vec<&str> = m.nodes.iter().map(|n| n.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), m.nodes.len());
        for strategy in [
            Strategy::OneForOne,
            Strategy::OneForAll,
            Strategy::RestForOne,
        ] {
            let under = m
                .group_targets()
                .iter()
                .any(|&s| m.policy(s).is_some_and(|p| p.strategy == strategy));
            assert!(under, "no group under {strategy:?}");
        }
    }

    /// The rendered file is what podsup loads, child for child in start order.
    #[test]
    fn the_rendered_tree_loads_as_the_model() {
        let model = Model::chaos();
        let toml = model.to_toml();
        let path = std::path::Path::new("/chaos/tree.toml");
        let tree = podsup_config::parse(&toml, path).unwrap_or_else(|e| panic!("{e}\n{toml}"));
        let loaded: Vec<&str> = tree.walk().map(|(c, _)| c.name.as_str()).collect();
        let modelled: Vec<&str> = model.nodes[1..].iter().map(|n| n.name.as_str()).collect();
        assert_eq!(loaded, modelled);
    }

    #[test]
    fn nested_children_get_deeper_headers() {
        let toml = Model::chaos().to_toml();
        assert!(
            toml.contains("[[child.child.child]]\nname = \"nest-ofo-1\""),
            "{toml}"
        );
        assert!(toml.contains("[[child]]\nname = \"top-1\""), "{toml}");
    }
}
