use super::{SseEvent, SseParser};

fn event(name: Option<&str>, data: &str) -> SseEvent {
    SseEvent {
        event: name.map(str::to_owned),
        data: data.to_owned(),
    }
}

/// Every event of `stream` fed in pieces of `size` bytes.
fn parse_in_pieces(stream: &[u8], size: usize) -> Vec<SseEvent> {
    let mut parser = SseParser::new();
    let mut events: Vec<SseEvent> = stream
        .chunks(size)
        .flat_map(|chunk| parser.push(chunk))
        .collect();
    events.extend(parser.finish());
    events
}

const STREAM: &[u8] = b": comment\r\nevent: message_start\r\ndata: {\"a\":1}\r\n\r\n\
data: line one\ndata: line two\n\nid: 7\nretry: 100\ndata:no-space\r\rdata: \xc3\xa9t\xc3\xa9\n\n\
event: lonely\n\ndata: [DONE]\n\n";

#[test]
fn parses_fields_comments_and_line_ends() {
    let expected = vec![
        event(Some("message_start"), "{\"a\":1}"),
        event(None, "line one\nline two"),
        event(None, "no-space"),
        event(None, "été"),
        event(None, "[DONE]"),
    ];
    assert_eq!(parse_in_pieces(STREAM, STREAM.len()), expected);
}

#[test]
fn chunk_boundaries_anywhere_give_the_same_events() {
    let whole = parse_in_pieces(STREAM, STREAM.len());
    for size in 1..STREAM.len() {
        assert_eq!(parse_in_pieces(STREAM, size), whole, "pieces of {size}");
    }
}

#[test]
fn a_last_event_without_blank_line_is_kept() {
    assert_eq!(
        parse_in_pieces(b"data: a\n\ndata: [DONE]", 4),
        vec![event(None, "a"), event(None, "[DONE]")]
    );
}

#[test]
fn empty_data_is_an_event() {
    assert_eq!(parse_in_pieces(b"data\n\n", 1), vec![event(None, "")]);
}
