//! The mock's HTTP/1.1: read one request, answer it with the next scripted reply, close.
//!
//! Every response says `Connection: close`, so a client never reuses a connection and
//! each request meets a fresh one.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use super::{Framing, Recorded, Reply, Shared, SseEvent, lock, unscripted};

/// The longest a client may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How often a sleeping handler looks whether the server is stopping.
const TICK: Duration = Duration::from_millis(5);

/// Serves one connection.
pub(super) fn serve(stream: TcpStream, shared: &Shared) {
    if let Err(e) = stream.set_read_timeout(Some(READ_TIMEOUT)) {
        eprintln!("mock llm: set_read_timeout: {e}");
    }
    let request = match read_request(&stream) {
        Ok(Some(request)) => request,
        // The wake-up connection of Drop, or a client that gave up.
        Ok(None) => return,
        Err(e) => {
            if !shared.stopping() {
                eprintln!("mock llm: reading a request: {e}");
            }
            return;
        }
    };
    let reply = lock(&shared.replies).pop_front().unwrap_or_else(unscripted);
    lock(&shared.requests).push(request);
    shared.arrived.notify_all();
    let mut writer = &stream;
    let outcome = match reply {
        Reply::Sse {
            events,
            cut_after,
            framing,
        } => write_sse(&mut writer, shared, (&events, cut_after, framing)),
        Reply::Status {
            code,
            headers,
            body,
        } => write_status(&mut writer, code, &headers, &body),
        Reply::Hang { for_ } => {
            sleep(shared, for_);
            Ok(())
        }
    };
    // A client that hung up mid-reply (a cancelled or timed-out request) is expected.
    if let Err(e) = outcome {
        if !hung_up(&e) {
            eprintln!("mock llm: writing a reply: {e}");
        }
    }
    // Closes the connection now, although the server keeps a handle on it for Drop.
    if let Err(e) = stream.shutdown(Shutdown::Both) {
        if !hung_up(&e) {
            eprintln!("mock llm: closing a connection: {e}");
        }
    }
}

/// Whether `error` only says that the client went away first.
fn hung_up(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset | io::ErrorKind::NotConnected
    )
}

/// Reads the request line, the headers and a `Content-Length` body.
fn read_request(stream: &TcpStream) -> io::Result<Option<Recorded>> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut words = line.split_whitespace();
    let method = words.next().unwrap_or_default().to_owned();
    let path = words.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let length = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    Ok(Some(Recorded {
        method,
        path,
        headers,
        body,
    }))
}

fn write_status(
    out: &mut impl Write,
    code: u16,
    headers: &[(String, String)],
    body: &str,
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {code} {}\r\n", reason(code));
    let has_type = headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
    if !has_type {
        head.push_str("Content-Type: application/json\r\n");
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    out.write_all(head.as_bytes())?;
    out.write_all(body.as_bytes())?;
    out.flush()
}

/// Streams `events`, each after its delay, flushed one by one.
fn write_sse(
    out: &mut impl Write,
    shared: &Shared,
    (events, cut_after, framing): (&[SseEvent], Option<usize>, Framing),
) -> io::Result<()> {
    let encoding = match framing {
        Framing::Chunked => "Transfer-Encoding: chunked\r\n",
        Framing::Close => "",
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\
         {encoding}Connection: close\r\n\r\n"
    );
    out.write_all(head.as_bytes())?;
    out.flush()?;
    for (sent, event) in events.iter().enumerate() {
        if cut_after == Some(sent) {
            return Ok(());
        }
        if !sleep(shared, event.delay) {
            return Ok(());
        }
        let payload = encode(event);
        match framing {
            Framing::Chunked => write!(out, "{:x}\r\n{payload}\r\n", payload.len())?,
            Framing::Close => out.write_all(payload.as_bytes())?,
        }
        out.flush()?;
    }
    if cut_after.is_none() && framing == Framing::Chunked {
        out.write_all(b"0\r\n\r\n")?;
        out.flush()?;
    }
    Ok(())
}

/// `event` in the text/event-stream format.
fn encode(event: &SseEvent) -> String {
    let mut text = String::new();
    if let Some(name) = &event.event {
        text.push_str(&format!("event: {name}\n"));
    }
    for line in event.data.split('\n') {
        text.push_str(&format!("data: {line}\n"));
    }
    text.push('\n');
    text
}

/// Sleeps `duration` unless the server stops first; true if it slept it all.
fn sleep(shared: &Shared, duration: Duration) -> bool {
    let deadline = Instant::now() + duration;
    loop {
        if shared.stopping() {
            return false;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(TICK));
    }
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        529 => "Overloaded",
        _ => "Status",
    }
}
