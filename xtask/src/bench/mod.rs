//! Benchmarks. Each prints its numbers and appends a dated section to BENCHMARKS.md.

mod baseline;
mod chorus;
mod common;
mod connections;
mod cross;
mod decode;
mod fanout;
mod ingest;

use clap::Subcommand;

#[derive(Subcommand)]
pub enum Which {
    /// Frames/s of the generated `decode` against `serde_json::Value` + jsonschema validation.
    Decode(decode::Args),
    /// Reaction chat fan-out: N clients in one room, senders at a set rate; deliveries/s,
    /// latency, server CPU and peak RSS, against a bare tokio-tungstenite broadcast floor.
    Fanout(fanout::Args),
    /// Cross-dialect fan-out: reaction chat senders, reaction chat, OriginChats and Plexichat
    /// gateway receivers in one room; per-dialect deliveries/s and latency, server CPU and RSS.
    Cross(cross::Args),
    /// M idle WebSocket connections: server RSS per connection.
    Connections(connections::Args),
    /// Durable ingest: messages/s persisted and acknowledged (echoed) with durability on.
    Ingest(ingest::Args),
    /// The bare broadcast server the benchmarks compare against (run by them as a process).
    #[command(hide = true)]
    BaselineServer(baseline::Args),
}

pub fn run(which: Which) -> anyhow::Result<()> {
    match which {
        Which::Decode(args) => decode::run(args),
        Which::Fanout(args) => fanout::run(args),
        Which::Connections(args) => connections::run(args),
        Which::Cross(args) => cross::run(args),
        Which::Ingest(args) => ingest::run(args),
        Which::BaselineServer(args) => baseline::run(args),
    }
}
