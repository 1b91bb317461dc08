//! Chorus: one chat server, four wire dialects, one core.
//!
//! - [`core`]: the domain (users, spaces, rooms, messages, reactions, permissions) and its
//!   operations;
//! - [`store`]: the `Store` trait and its SQLite implementation;
//! - [`hub`]: topics → subscribers, bounded per-connection queues;
//! - [`net`]: HTTP listeners, WebSocket connections, shutdown;
//! - [`dialects`]: one adapter per wire protocol;
//! - [`cli`] and [`config`]: the `chorus` binary.

pub mod app;
pub mod cli;
pub mod config;
pub mod core;
pub mod dialects;
pub mod hub;
pub mod net;
pub mod store;
