//! `selfos-net` against a real `selfos-relay`: the relay library in process for most tests, the
//! relay binary as a child process for the kill-and-restart test, and real sockets throughout.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "relay/common.rs"]
mod common;
#[path = "relay/converge.rs"]
mod converge;
#[path = "relay/isolation.rs"]
mod isolation;
#[path = "relay/limits.rs"]
mod limits;
#[path = "relay/logs.rs"]
mod logs;
#[path = "relay/offline.rs"]
mod offline;
#[path = "relay/pairing.rs"]
mod pairing;
#[path = "relay/restart.rs"]
mod restart;
#[path = "relay/store.rs"]
mod store;
#[path = "relay/wire.rs"]
mod wire;
