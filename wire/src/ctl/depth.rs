//! The depth guard of the recursive [`StatusNode`] tree.
//!
//! The guard wraps the `children` field only, so the wire format is unchanged. serde offers
//! no depth to a field's (de)serialiser, so the depth lives in a thread-local counter:
//! (de)serialisation runs synchronously on one thread, so the counter sees exactly the
//! levels of the tree being processed, and each level's guard restores it on the way out,
//! errors and unwinding included.

use std::cell::Cell;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{MAX_STATUS_DEPTH, StatusNode};

thread_local! {
    /// How many `children` lists are being (de)serialised on this thread, outermost first.
    static LEVEL: Cell<usize> = const { Cell::new(0) };
}

/// One level of the tree, counted while alive.
struct Level;

impl Level {
    /// Enters one more level, or refuses when that would exceed [`MAX_STATUS_DEPTH`].
    fn enter() -> Result<Level, String> {
        LEVEL.with(|level| {
            let next = level.get() + 1;
            if next > MAX_STATUS_DEPTH {
                return Err(format!("status tree deeper than {MAX_STATUS_DEPTH} levels"));
            }
            level.set(next);
            Ok(Level)
        })
    }
}

impl Drop for Level {
    fn drop(&mut self) {
        LEVEL.with(|level| level.set(level.get() - 1));
    }
}

/// Serialises a node's children, refusing a tree deeper than [`MAX_STATUS_DEPTH`].
pub(super) fn serialize_children<S: Serializer>(
    children: &[StatusNode],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let _level = Level::enter().map_err(serde::ser::Error::custom)?;
    children.serialize(serializer)
}

/// Deserialises a node's children, refusing a tree deeper than [`MAX_STATUS_DEPTH`].
pub(super) fn deserialize_children<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<StatusNode>, D::Error> {
    let _level = Level::enter().map_err(serde::de::Error::custom)?;
    Vec::deserialize(deserializer)
}
