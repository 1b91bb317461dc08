//! Project automation for Chorus (`cargo xtask …`).
//!
//! * `cargo xtask codegen [--check]`: spec/*.yaml → protocol/src/<dialect>/generated.rs
//! * `cargo xtask bench <decode|fanout|connections|ingest>`: benchmarks that print numbers and
//!   append them to BENCHMARKS.md.

mod bench;
mod codegen;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "xtask", about = "Chorus project automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate the typed protocol crate from the specs.
    Codegen {
        /// Do not write anything; fail (and name the file) when checked-in code is stale.
        #[arg(long)]
        check: bool,
    },
    /// Run a benchmark and record its numbers in BENCHMARKS.md.
    Bench {
        #[command(subcommand)]
        which: bench::Which,
    },
}

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Codegen { check } => codegen::run(&workspace_root(), check),
        Command::Bench { which } => bench::run(which),
    }
}
