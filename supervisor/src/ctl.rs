//! The ctl channel: the server inside the root and the client behind `podsup ctl`.

pub mod agent;
pub mod client;
pub mod output;
pub mod render;
pub mod server;
