#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod admission;
mod config;
mod connection;
mod http;
mod hub;
mod metrics;
mod outbox;
mod rate;
mod room;
mod server;
mod store;
mod store_session;
mod tls;
mod web;

pub use crate::{
    config::{InvalidConfig, RelayConfig},
    server::{Drained, Server, SpawnError},
    store::{StoreConfig, UnknownStore},
    tls::TlsError,
};
