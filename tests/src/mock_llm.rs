//! A scripted LLM provider: a real HTTP/1.1 server on 127.0.0.1 that speaks OpenAI chat
//! completions and Anthropic messages as the real APIs do, streaming included, for tests
//! of the `llm` engine without a paid API.
//!
//! Each request is answered with the next [`Reply`] pushed, in order, whatever its path:
//! a server-sent event stream (optionally slow, or cut off before its end marker), an
//! error status with its JSON body, or silence. A request arriving with no reply scripted
//! gets a 500 saying so. Every request is recorded with its path, headers and JSON body.
//!
//! ```no_run
//! use std::time::Duration;
//! use podsup_tests::mock_llm::{MockLlm, openai};
//!
//! let mock = MockLlm::start();
//! mock.push(openai::text(&["Hel", "lo"], Duration::ZERO));
//! let base_url = mock.url(); // "http://127.0.0.1:PORT/v1"
//! // … point an llm pod at base_url, run a turn …
//! assert!(mock.wait_requests(1, Duration::from_secs(5)));
//! assert_eq!(mock.requests()[0].path, "/v1/chat/completions");
//! ```
//!
//! The server runs on its own threads (one per connection) and stops in `Drop`, closing
//! the connections still open.

use std::collections::VecDeque;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub mod anthropic;
mod http;
pub mod openai;

/// One scripted answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `200 OK` with `Content-Type: text/event-stream`, one event per write and flush.
    Sse {
        /// The events, in order.
        events: Vec<SseEvent>,
        /// Close the connection after this many events, without the rest (and without
        /// the end of the chunked body): a stream cut off mid-reply.
        cut_after: Option<usize>,
        /// How the body is delimited.
        framing: Framing,
    },
    /// Any status with headers and a body (`Content-Length` is added).
    Status {
        /// The status code.
        code: u16,
        /// Extra headers, like `("Retry-After", "1")`.
        headers: Vec<(String, String)>,
        /// The body, usually the provider's error JSON.
        body: String,
    },
    /// Read the request, then say nothing for this long and close.
    Hang {
        /// How long.
        for_: Duration,
    },
}

/// How an event stream's body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `Transfer-Encoding: chunked`, as the providers send it: a cut stream is a truncated
    /// body the client sees as an error.
    Chunked,
    /// No length, the body ends when the connection closes: a cut stream looks complete
    /// to HTTP, and only the missing end marker tells.
    Close,
}

/// One server-sent event.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    /// The `event:` line, if any (Anthropic names every event; OpenAI none).
    pub event: Option<String>,
    /// The `data:` payload; a multi-line payload is sent as several `data:` lines.
    pub data: String,
    /// Pause before sending this event.
    pub delay: Duration,
}

impl SseEvent {
    /// An event sent without delay.
    pub fn new(event: Option<&str>, data: impl Into<String>) -> SseEvent {
        SseEvent {
            event: event.map(str::to_owned),
            data: data.into(),
            delay: Duration::ZERO,
        }
    }

    /// This event, sent after `delay`.
    pub fn after(self, delay: Duration) -> SseEvent {
        SseEvent { delay, ..self }
    }
}

impl Reply {
    /// A reply with `status`, the JSON `body` and no extra header.
    pub fn status(code: u16, body: impl Into<String>) -> Reply {
        Reply::Status {
            code,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// This reply with the header `name: value` added (for a [`Reply::Status`]).
    pub fn with_header(self, name: &str, value: &str) -> Reply {
        match self {
            Reply::Status {
                code,
                mut headers,
                body,
            } => {
                headers.push((name.to_owned(), value.to_owned()));
                Reply::Status {
                    code,
                    headers,
                    body,
                }
            }
            other @ (Reply::Sse { .. } | Reply::Hang { .. }) => other,
        }
    }

    /// This event stream, cut after `events` events (for a [`Reply::Sse`]).
    pub fn cut_after(self, events: usize) -> Reply {
        match self {
            Reply::Sse {
                events: all,
                framing,
                ..
            } => Reply::Sse {
                events: all,
                cut_after: Some(events),
                framing,
            },
            other @ (Reply::Status { .. } | Reply::Hang { .. }) => other,
        }
    }

    /// This event stream with its body delimited by `framing` (for a [`Reply::Sse`]).
    pub fn framed(self, framing: Framing) -> Reply {
        match self {
            Reply::Sse {
                events, cut_after, ..
            } => Reply::Sse {
                events,
                cut_after,
                framing,
            },
            other @ (Reply::Status { .. } | Reply::Hang { .. }) => other,
        }
    }
}

/// A request the server received.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// `POST`, …
    pub method: String,
    /// The request target, like `/v1/chat/completions`.
    pub path: String,
    /// Every header, names lowercased, in order.
    pub headers: Vec<(String, String)>,
    /// The body as JSON; `Null` when empty or not JSON.
    pub body: serde_json::Value,
}

impl Recorded {
    /// The value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// State shared by the test and the server's threads.
#[derive(Default)]
struct Shared {
    replies: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<Recorded>>,
    arrived: Condvar,
    stopping: AtomicBool,
    /// Open connections, to close on drop.
    connections: Mutex<Vec<TcpStream>>,
    handlers: Mutex<Vec<JoinHandle<()>>>,
}

impl Shared {
    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }
}

/// Locks `mutex`, also after a panicking thread poisoned it: the data is plain lists.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The running mock server.
pub struct MockLlm {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for MockLlm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockLlm").field("addr", &self.addr).finish()
    }
}

impl MockLlm {
    /// Starts a server on a free port of 127.0.0.1.
    pub fn start() -> MockLlm {
        let listener = TcpListener::bind("127.0.0.1:0").expect("mock llm: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("mock llm: local address");
        let shared = Arc::new(Shared::default());
        let acceptor = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("mock-llm-accept".into())
                .spawn(move || accept_loop(&listener, &shared))
                .expect("mock llm: spawn the accept thread")
        };
        MockLlm {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// The base URL to configure: `http://127.0.0.1:PORT/v1`.
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Queues `reply` as the answer to the next request not yet answered.
    pub fn push(&self, reply: Reply) {
        lock(&self.shared.replies).push_back(reply);
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared.requests).clone()
    }

    /// Waits until at least `n` requests arrived; false if `timeout` passed first.
    pub fn wait_requests(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut requests = lock(&self.shared.requests);
        while requests.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            requests = self
                .shared
                .arrived
                .wait_timeout(requests, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }
}

impl Drop for MockLlm {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which sees `stopping` and returns.
        if let Err(e) = TcpStream::connect(self.addr) {
            eprintln!("mock llm: cannot wake the accept loop: {e}");
        }
        if let Some(acceptor) = self.acceptor.take() {
            if acceptor.join().is_err() {
                eprintln!("mock llm: the accept thread panicked");
            }
        }
        for stream in lock(&self.shared.connections).drain(..) {
            // Already closed by its handler is fine.
            if let Err(e) = stream.shutdown(Shutdown::Both) {
                if e.kind() != std::io::ErrorKind::NotConnected {
                    eprintln!("mock llm: closing a connection: {e}");
                }
            }
        }
        let handlers: Vec<JoinHandle<()>> = lock(&self.shared.handlers).drain(..).collect();
        for handler in handlers {
            if handler.join().is_err() {
                eprintln!("mock llm: a connection thread panicked");
            }
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopping() {
            return;
        }
        let stream = match stream {
            Ok(stream) => stream,
            Err(e) => {
                eprintln!("mock llm: accept failed: {e}");
                continue;
            }
        };
        match stream.try_clone() {
            Ok(clone) => lock(&shared.connections).push(clone),
            Err(e) => eprintln!("mock llm: cannot keep a handle on a connection: {e}"),
        }
        let handler_shared = Arc::clone(shared);
        let spawned = std::thread::Builder::new()
            .name("mock-llm-conn".into())
            .spawn(move || http::serve(stream, &handler_shared));
        match spawned {
            Ok(handle) => lock(&shared.handlers).push(handle),
            Err(e) => eprintln!("mock llm: cannot spawn a connection thread: {e}"),
        }
    }
}

/// The answer to a request when nothing is scripted.
fn unscripted() -> Reply {
    Reply::status(
        500,
        r#"{"error":{"message":"mock: no reply scripted","type":"server_error"}}"#,
    )
}
