use podsup_wire::{Item, PodEvent};

use super::{INTERRUPTED, Message, Part, Role, messages};

fn user(text: &str) -> Item {
    Item::User {
        text: text.to_owned(),
    }
}

fn call(id: &str) -> Item {
    Item::ToolCall {
        id: id.to_owned(),
        name: "t".to_owned(),
        arguments: "{}".to_owned(),
    }
}

fn result(id: &str) -> Item {
    Item::ToolResult {
        id: id.to_owned(),
        output: "out".to_owned(),
        is_error: false,
    }
}

fn call_part(id: &str) -> Part {
    Part::ToolCall {
        id: id.to_owned(),
        name: "t".to_owned(),
        arguments: "{}".to_owned(),
    }
}

fn result_part(id: &str, output: &str, is_error: bool) -> Part {
    Part::ToolResult {
        id: id.to_owned(),
        output: output.to_owned(),
        is_error,
    }
}

fn text(text: &str) -> Part {
    Part::Text(text.to_owned())
}

fn message(role: Role, parts: Vec<Part>) -> Message {
    Message { role, parts }
}

#[test]
fn items_map_to_roles_and_merge() {
    let history = vec![
        user("hi"),
        Item::Notification {
            text: "ping".to_owned(),
        },
        Item::Assistant {
            text: "let me look".to_owned(),
        },
        call("a"),
        call("b"),
        result("a"),
        result("b"),
        Item::Registry {
            json: "{}".to_owned(),
        },
        Item::System {
            text: "turn cancelled".to_owned(),
        },
        Item::PodEvent(PodEvent::TurnEnded {
            pod_name: "kid".to_owned(),
        }),
        Item::Assistant {
            text: String::new(),
        },
    ];
    assert_eq!(
        messages(&history),
        vec![
            message(Role::User, vec![text("hi"), text("ping")]),
            message(
                Role::Assistant,
                vec![text("let me look"), call_part("a"), call_part("b")]
            ),
            message(
                Role::User,
                vec![
                    result_part("a", "out", false),
                    result_part("b", "out", false),
                    text("[podsup] turn cancelled"),
                    text("[pod event] pod kid: turn ended"),
                ]
            ),
        ]
    );
}

#[test]
fn a_call_without_result_gets_an_error_result() {
    let history = vec![
        user("go"),
        call("a"),
        call("b"),
        result("b"),
        call("c"),
        user("are you there?"),
    ];
    assert_eq!(
        messages(&history),
        vec![
            message(Role::User, vec![text("go")]),
            message(Role::Assistant, vec![call_part("a"), call_part("b")]),
            message(
                Role::User,
                vec![
                    result_part("a", INTERRUPTED, true),
                    result_part("b", "out", false)
                ]
            ),
            message(Role::Assistant, vec![call_part("c")]),
            message(
                Role::User,
                vec![result_part("c", INTERRUPTED, true), text("are you there?")]
            ),
        ]
    );
    assert_eq!(
        messages(&[user("go"), call("z")]).last(),
        Some(&message(
            Role::User,
            vec![result_part("z", INTERRUPTED, true)]
        ))
    );
}

#[test]
fn a_result_without_call_is_dropped() {
    assert_eq!(
        messages(&[result("ghost"), user("hi")]),
        vec![message(Role::User, vec![text("hi")])]
    );
}
