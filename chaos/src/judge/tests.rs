//! The judge as a matrix over the chaos tree, without processes: right outcomes pass, each
//! kind of wrong one is caught.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::*;
use crate::status::NodeSnap;

fn base(model: &Model) -> Snapshot {
    let mut snap = Snapshot::default();
    for n in &model.nodes {
        let node = NodeSnap {
            state: "running".into(),
            pid: None,
            generation: 1,
            restarts: 0,
        };
        snap.nodes.insert(n.name.clone(), node);
    }
    snap
}

/// `before` with the named nodes' generations (and restarts) raised.
fn bump(before: &Snapshot, ups: &[(&str, u64)]) -> Snapshot {
    let mut after = before.clone();
    for (name, by) in ups {
        let node = after
            .nodes
            .get_mut(*name)
            .unwrap_or_else(|| panic!("no {name}"));
        node.generation += by;
        node.restarts += by;
    }
    after
}

/// Every node of `names`' subtrees raised by `by`.
fn subtrees<'a>(model: &'a Model, names: &[&str], by: u64) -> Vec<(&'a str, u64)> {
    names
        .iter()
        .flat_map(|n| model.subtree(model.index(n).expect("node")))
        .map(|i| (model.nodes[i].name.as_str(), by))
        .collect()
}

/// A kill of `victims` (children of one supervisor) at `at`.
fn event(model: &Model, victims: &[&str], at: Instant) -> KillEvent {
    let first = model.index(victims[0]).expect("victim");
    let sup = model.nodes[first].parent.expect("parent");
    let killed: BTreeSet<usize> = victims
        .iter()
        .map(|v| {
            model
                .position(model.index(v).expect("victim"))
                .expect("position")
        })
        .collect();
    KillEvent { sup, killed, at }
}

fn run(
    model: &Model,
    ev: &KillEvent,
    after: &Snapshot,
    counts: &mut Intensities,
) -> Result<Verdict, Violation> {
    let before = base(model);
    judge(
        Records {
            model,
            before: &before,
            after,
        },
        ev,
        counts,
    )
}

#[test]
fn rest_for_one_restarts_the_victim_and_later_siblings_only() {
    let m = Model::chaos();
    let before = base(&m);
    let now = Instant::now();
    let ev = event(&m, &["rfo-5"], now);
    let right = bump(&before, &[("rfo-5", 1), ("rfo-6", 1), ("rfo-7", 1)]);
    let mut counts = Intensities::new(&m);
    assert_eq!(
        run(&m, &ev, &right, &mut counts),
        Ok(Verdict::Restarted { restarts: 3 })
    );
    let one_for_one = bump(&before, &[("rfo-5", 1)]);
    let err = run(&m, &ev, &one_for_one, &mut counts).expect_err("too few restarts");
    assert_eq!(err.invariant, Invariant::Strategy, "{}", err.detail);
    let twice = bump(&before, &[("rfo-5", 2), ("rfo-6", 2), ("rfo-7", 2)]);
    assert!(run(&m, &ev, &twice, &mut counts).is_err());
}

#[test]
fn a_group_kill_under_rest_for_one_allows_any_arrival_order() {
    let m = Model::chaos();
    let before = base(&m);
    let ev = event(&m, &["rfo-2", "rfo-6"], Instant::now());
    let mut counts = Intensities::new(&m);
    let early_first = bump(
        &before,
        &[
            ("rfo-2", 1),
            ("rfo-3", 1),
            ("rfo-4", 1),
            ("rfo-5", 1),
            ("rfo-6", 1),
            ("rfo-7", 1),
        ],
    );
    assert!(run(&m, &ev, &early_first, &mut counts).is_ok());
    let late_first = bump(
        &before,
        &[
            ("rfo-2", 1),
            ("rfo-3", 1),
            ("rfo-4", 1),
            ("rfo-5", 1),
            ("rfo-6", 2),
            ("rfo-7", 2),
        ],
    );
    assert!(run(&m, &ev, &late_first, &mut counts).is_ok());
    let missed = bump(&before, &[("rfo-6", 1), ("rfo-7", 1)]);
    assert!(run(&m, &ev, &missed, &mut counts).is_err());
}

#[test]
fn one_for_all_restarts_everyone_once_and_nothing_else() {
    let m = Model::chaos();
    let before = base(&m);
    let ev = event(&m, &["ofa-1", "ofa-4"], Instant::now());
    let mut counts = Intensities::new(&m);
    let all = subtrees(
        &m,
        &["ofa-1", "ofa-2", "ofa-3", "ofa-4", "ofa-5", "ofa-6"],
        1,
    );
    assert!(run(&m, &ev, &bump(&before, &all), &mut counts).is_ok());
    let mut stray = all.clone();
    stray.push(("top-1", 1));
    let err = run(&m, &ev, &bump(&before, &stray), &mut counts).expect_err("a bystander restarted");
    assert!(err.detail.contains("top-1+1"), "{}", err.detail);
}

#[test]
fn a_restarted_sub_supervisor_restarts_its_whole_subtree() {
    let m = Model::chaos();
    let before = base(&m);
    let ev = event(&m, &["nest-head"], Instant::now());
    let mut counts = Intensities::new(&m);
    let all = subtrees(&m, &["nest-head", "nest-ofo", "nest-ofa", "nest-tail"], 1);
    assert!(run(&m, &ev, &bump(&before, &all), &mut counts).is_ok());
    let shallow = bump(
        &before,
        &[
            ("nest-head", 1),
            ("nest-ofo", 1),
            ("nest-ofa", 1),
            ("nest-tail", 1),
        ],
    );
    assert!(run(&m, &ev, &shallow, &mut counts).is_err());
}

#[test]
fn fragile_gives_up_exactly_when_its_intensity_requires() {
    let m = Model::chaos();
    let before = base(&m);
    let t0 = Instant::now();
    let mut counts = Intensities::new(&m);
    for (i, victim) in ["fragile-1", "fragile-2"].into_iter().enumerate() {
        let ev = event(&m, &[victim], t0 + Duration::from_secs(i as u64));
        assert!(run(&m, &ev, &bump(&before, &[(victim, 1)]), &mut counts).is_ok());
    }
    let third = event(&m, &["fragile-3"], t0 + Duration::from_secs(2));
    let kept_going = bump(&before, &[("fragile-3", 1)]);
    let err = run(&m, &third, &kept_going, &mut counts.clone()).expect_err("must give up");
    assert_eq!(err.invariant, Invariant::Intensity, "{}", err.detail);
    let gave_up = bump(&before, &subtrees(&m, &["fragile"], 1));
    assert_eq!(
        run(&m, &third, &gave_up, &mut counts),
        Ok(Verdict::Escalated { restarts: 4 })
    );
    // The new instance counts afresh: the next kill is an ordinary restart.
    let fourth = event(&m, &["fragile-4"], t0 + Duration::from_secs(3));
    assert!(
        run(
            &m,
            &fourth,
            &bump(&before, &[("fragile-4", 1)]),
            &mut counts
        )
        .is_ok()
    );
}

#[test]
fn giving_up_before_the_intensity_is_exceeded_is_caught() {
    let m = Model::chaos();
    let before = base(&m);
    let ev = event(&m, &["fragile-1"], Instant::now());
    let mut counts = Intensities::new(&m);
    let gave_up = bump(&before, &subtrees(&m, &["fragile"], 1));
    let err = run(&m, &ev, &gave_up, &mut counts).expect_err("gave up too early");
    assert_eq!(err.invariant, Invariant::Intensity, "{}", err.detail);
}

#[test]
fn a_generation_that_grows_without_its_restart_count_is_caught() {
    let m = Model::chaos();
    let before = base(&m);
    let ev = event(&m, &["top-1"], Instant::now());
    let mut after = bump(&before, &[("top-1", 1)]);
    after.nodes.get_mut("top-1").expect("top-1").restarts = 0;
    let err = run(&m, &ev, &after, &mut Intensities::new(&m)).expect_err("restarts not counted");
    assert!(err.detail.contains("restarts +0"), "{}", err.detail);
}
