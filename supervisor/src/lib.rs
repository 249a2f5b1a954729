//! podsup: an Erlang/OTP-style supervisor for LLM-agent pods.
//!
//! The root daemon ([`daemon::run`]) runs a tree of supervisor actors ([`sup`]), each
//! deciding with the pure [`core`] and [`policy`] what to start and stop; every pod or
//! process is owned by one link actor ([`link`]) for one generation. Processes are forked
//! only by the spawner thread ([`spawn`]) and reaped through pidfds ([`reap`]). Operators
//! talk to the root over the ctl socket ([`ctl`]).

pub mod cli;
pub mod core;
pub mod ctl;
pub mod ctx;
pub mod daemon;
pub mod guard;
pub mod heap;
pub mod intent;
pub mod link;
pub mod notify;
pub mod orchestrate;
pub mod output;
pub mod paths;
pub mod policy;
pub mod reap;
pub mod registry;
pub mod reload;
pub mod spawn;
pub mod sup;
