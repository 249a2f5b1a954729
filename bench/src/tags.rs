//! Telling a streamed text delta from the rest of a ctl stream by its variant tags alone,
//! so the bench's client spends no time decoding what it only counts.

use podsup_wire::{CtlResponse, Event};

/// Bincode's varint (the wire's standard config) at the start of `b`: its value and size.
fn varint(b: &[u8]) -> Option<(u64, usize)> {
    let wide = |n: usize| -> Option<u64> {
        let mut le = [0u8; 8];
        le[..n].copy_from_slice(b.get(1..1 + n)?);
        Some(u64::from_le_bytes(le))
    };
    match *b.first()? {
        small @ 0..=250 => Some((u64::from(small), 1)),
        251 => Some((wide(2)?, 3)),
        252 => Some((wide(4)?, 5)),
        253 => Some((wide(8)?, 9)),
        _ => None,
    }
}

/// The variant tags of `CtlResponse::Event` and of `Event::TextDelta`, read once from an
/// encoded template: `[response tag][pod: len 0][generation 0][event tag][text: len 0]`.
fn delta_tags() -> Option<(u64, u64)> {
    static TAGS: std::sync::OnceLock<Option<(u64, u64)>> = std::sync::OnceLock::new();
    *TAGS.get_or_init(|| {
        let template = podsup_wire::frame::encode_body(&CtlResponse::Event {
            pod: String::new(),
            generation: 0,
            event: Event::TextDelta {
                text: String::new(),
            },
        })
        .ok()?;
        let (response, n) = varint(&template)?;
        let (event, _) = varint(template.get(n + 2..)?)?;
        Some((response, event))
    })
}

/// Whether a ctl frame body is a `CtlResponse::Event` carrying a `TextDelta`, read from its
/// variant tags alone. The client counts deltas without decoding their text, as the raw
/// floor counts frames without decoding them: what is timed is podsup's side of the path.
pub fn is_text_delta(body: &[u8]) -> bool {
    let delta = || -> Option<bool> {
        let (response_tag, event_tag) = delta_tags()?;
        let (tag, mut at) = varint(body)?;
        if tag != response_tag {
            return Some(false);
        }
        let (pod_len, n) = varint(body.get(at..)?)?;
        at += n + usize::try_from(pod_len).ok()?;
        let (_generation, n) = varint(body.get(at..)?)?;
        at += n;
        Some(varint(body.get(at..)?)?.0 == event_tag)
    };
    delta().unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use podsup_wire::PodStatus;

    fn body(response: &CtlResponse) -> Vec<u8> {
        podsup_wire::frame::encode_body(response).expect("encodes")
    }

    #[test]
    fn the_tag_reader_tells_deltas_from_everything_else() {
        for (pod, generation) in [("f64k", 1), ("a-much-longer-pod-name", 300), ("x", 70_000)] {
            let delta = |text: &str| CtlResponse::Event {
                pod: pod.into(),
                generation,
                event: Event::TextDelta { text: text.into() },
            };
            assert!(is_text_delta(&body(&delta(""))));
            assert!(is_text_delta(&body(&delta(&"y".repeat(65536)))));
            let status = CtlResponse::Event {
                pod: pod.into(),
                generation,
                event: Event::Status {
                    status: PodStatus::Idle,
                },
            };
            assert!(!is_text_delta(&body(&status)));
        }
        let ok = CtlResponse::Ok {
            message: "fine".into(),
        };
        assert!(!is_text_delta(&body(&ok)));
        assert!(!is_text_delta(&[]));
    }
}
