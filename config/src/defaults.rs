//! The value of every optional key of tree.toml when it is left out.

use std::num::{NonZeroU32, NonZeroU64};
use std::time::Duration;

use crate::policy::{Restart, StartMode, Strategy};

/// `strategy` of a supervisor.
pub const STRATEGY: Strategy = Strategy::OneForOne;
/// `max_restarts` of a supervisor.
pub const MAX_RESTARTS: u32 = 5;
/// `within` of a supervisor.
pub const WITHIN: Duration = Duration::from_secs(10);
/// `start` of a supervisor.
pub const START: StartMode = StartMode::Ordered;
/// `restart` of a child.
pub const RESTART: Restart = Restart::Permanent;
/// `shutdown` grace of a pod or process.
pub const SHUTDOWN_WORKER: Duration = Duration::from_secs(5);
/// `shutdown` grace of a supervisor child: long enough for its own children to stop.
pub const SHUTDOWN_SUPERVISOR: Duration = Duration::from_secs(60);
/// `start_timeout` of a pod or process, and of a supervisor without children.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);
/// `backoff.initial`.
pub const BACKOFF_INITIAL: Duration = Duration::from_millis(100);
/// `backoff.max`.
pub const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// `backoff.multiplier`.
pub const BACKOFF_MULTIPLIER: f64 = 2.0;
/// `backoff.reset_after`.
pub const BACKOFF_RESET_AFTER: Duration = Duration::from_secs(60);
/// `echo.chunk_chars`.
pub const ECHO_CHUNK_CHARS: u32 = 16;
/// `echo.delay_ms`.
pub const ECHO_DELAY_MS: u64 = 0;
/// `command.timeout`.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// `llm.max_tokens`.
pub const LLM_MAX_TOKENS: u32 = 1024;
/// `llm.request_timeout`: until the response headers arrive.
pub const LLM_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// `llm.idle_timeout`: the longest silence inside a streamed reply.
pub const LLM_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// `llm.max_attempts`.
pub const LLM_MAX_ATTEMPTS: u32 = 4;
/// `llm.retry_initial`.
pub const LLM_RETRY_INITIAL: Duration = Duration::from_millis(500);
/// `llm.retry_max`.
pub const LLM_RETRY_MAX: Duration = Duration::from_secs(20);
/// `llm.max_tool_rounds`.
pub const LLM_MAX_TOOL_ROUNDS: u32 = 16;
/// `logs.max_size`: 10 MiB.
pub const LOGS_MAX_SIZE: NonZeroU64 = match NonZeroU64::new(10 << 20) {
    Some(size) => size,
    None => panic!("10 MiB is not zero"),
};
/// `logs.max_files`: rotated files kept besides the current one.
pub const LOGS_MAX_FILES: NonZeroU32 = match NonZeroU32::new(5) {
    Some(count) => count,
    None => panic!("5 is not zero"),
};
/// Largest `logs.max_files` accepted.
pub const LOGS_MAX_FILES_LIMIT: u32 = 1000;
