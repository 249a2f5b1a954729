//! The `echo` engine: streams the turn's input back in chunks. Deterministic, no network;
//! the default in examples and benchmarks.

use std::time::Duration;

use podsup_wire::{Event, Item};

use super::{EngineError, Turn, TurnEnd, last_input};

/// Echoes its input.
#[derive(Debug, Clone)]
pub struct Echo {
    chunk_chars: usize,
    delay: Duration,
}

impl Echo {
    /// An echo engine sending `chunk_chars` characters per delta, `delay` apart.
    pub fn new(chunk_chars: u32, delay: Duration) -> Self {
        Self {
            chunk_chars: chunk_chars.max(1) as usize,
            delay,
        }
    }

    /// Runs one turn.
    pub async fn run(&mut self, turn: Turn) -> Result<TurnEnd, EngineError> {
        let text = last_input(&turn.history);
        let chars: Vec<char> = text.chars().collect();
        for (i, chunk) in chars.chunks(self.chunk_chars).enumerate() {
            if i > 0 && !self.delay.is_zero() {
                tokio::select! {
                    _ = turn.cancel.cancelled() => return Err(EngineError::Cancelled),
                    _ = tokio::time::sleep(self.delay) => {}
                }
            }
            if turn.cancel.is_cancelled() {
                return Err(EngineError::Cancelled);
            }
            turn.sink.event(Event::TextDelta {
                text: chunk.iter().collect(),
            });
        }
        turn.sink.event(Event::TextDone { text: text.clone() });
        turn.sink.commit(Item::Assistant { text });
        Ok(TurnEnd::Finished)
    }
}
