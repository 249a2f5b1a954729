//! What a reload applies in place, restarting nothing: a new intensity or strategy, which
//! governs the next crash, and a new order of the children, which is the order of later
//! starts, stops and rest_for_one restarts.

use podsup_tests::reloading::{
    CHILDREN, Seen, abcd, assert_only_restarted, assert_plan_says, assert_untouched, reload_ok,
    rewrite, root_children, start, tree,
};
use podsup_tests::signal;

#[test]
fn policy_change_is_applied_in_place_without_restarting_anything() {
    // At most one restart a minute: a second crash would take the tree down, unless the
    // reload's max_restarts = 5 is in effect.
    let (root, before) = start(&tree("one_for_one", 1, &abcd("red")), &CHILDREN);

    rewrite(&root, &tree("one_for_one", 5, &abcd("red")));
    let plan = reload_ok(&root, &[]);

    assert_plan_says(&root, &plan, "~ policy: intensity (applied in place)");
    assert!(
        !plan.contains(" will be "),
        "the plan touches a child:\n{plan}"
    );
    assert_only_restarted(&root, &CHILDREN, &before, &[]);

    let mut a = before[0];
    for _ in 0..2 {
        signal(a.pid, libc::SIGKILL);
        let pid = root.wait_running("a", a.generation + 1);
        a = Seen {
            pid,
            generation: a.generation + 1,
        };
    }
    assert_eq!(
        root.status()["root"]["state"],
        "running",
        "log:\n{}",
        root.log()
    );
    for i in 1..4 {
        assert_untouched(&root, CHILDREN[i], before[i]);
    }
}

#[test]
fn strategy_change_is_applied_in_place_and_governs_the_next_crash() {
    let (root, before) = start(&tree("one_for_one", 10, &abcd("red")), &CHILDREN);

    rewrite(&root, &tree("one_for_all", 10, &abcd("red")));
    let plan = reload_ok(&root, &[]);

    assert_plan_says(&root, &plan, "~ policy: strategy (applied in place)");
    assert!(!plan.contains(" will be "), "{plan}");
    assert_only_restarted(&root, &CHILDREN, &before, &[]);

    signal(before[2].pid, libc::SIGKILL);
    assert_only_restarted(&root, &CHILDREN, &before, &CHILDREN);
}

#[test]
fn reordered_children_take_the_files_order_without_restarting() {
    // Order is the start order, the reverse shutdown order and, under rest_for_one, who
    // depends on whom: a reload must not leave the running tree in the old order while
    // saying there is nothing to do.
    let (root, before) = start(&tree("rest_for_one", 10, &abcd("red")), &CHILDREN);

    let mut children = abcd("red");
    children.swap(2, 3);
    rewrite(&root, &tree("rest_for_one", 10, &children));
    let plan = reload_ok(&root, &[]);

    assert_only_restarted(&root, &CHILDREN, &before, &[]);
    assert_eq!(
        root_children(&root),
        ["a", "b", "d", "c"],
        "plan:\n{plan}\nlog:\n{}",
        root.log()
    );
    assert!(
        !plan.contains("no changes"),
        "the plan hides the new order:\n{plan}"
    );
}
