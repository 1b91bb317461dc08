//! `cargo xtask bench decode`: frames/s of the generated `decode` per dialect against
//! `serde_json::Value` + jsonschema validation of the same frame, in one run.
//!
//! The measurement itself is `protocol/examples/decode_bench.rs` (it needs the protocol crate
//! and jsonschema, which xtask does not depend on); this command builds it in release mode,
//! runs it on one core and records the table.

use anyhow::{Context, bail};
use std::process::Command;

#[derive(clap::Args)]
pub struct Args {
    /// Seconds of measurement per case and per decoder.
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let root = crate::workspace_root();
    let status = Command::new("cargo")
        .current_dir(&root)
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "chorus-protocol",
            "--example",
            "decode_bench",
        ])
        .status()?;
    if !status.success() {
        bail!("building the decode benchmark failed");
    }
    // One core: pin with taskset when it is available, so the number is per core.
    let binary = root.join("target/release/examples/decode_bench");
    let mut cmd = if which("taskset") {
        let mut c = Command::new("taskset");
        c.arg("-c").arg("0").arg(&binary);
        c
    } else {
        Command::new(&binary)
    };
    let out = cmd
        .arg(args.seconds.to_string())
        .output()
        .context("running the decode benchmark")?;
    if !out.status.success() {
        bail!(
            "decode benchmark failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let table = String::from_utf8(out.stdout)?;
    print!("{table}");
    record(&table)
}

/// Appends a dated section with the machine and the command to BENCHMARKS.md.
fn record(table: &str) -> anyhow::Result<()> {
    use super::common::{command_line, loadavg, machine, utc_now};
    use std::fmt::Write as _;
    let path = crate::workspace_root().join("BENCHMARKS.md");
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n".into());
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let _ = write!(text, "\n## {} — decode\n\n", utc_now());
    let _ = writeln!(text, "- machine: {}", machine());
    let _ = writeln!(text, "- command: `{}`", command_line());
    let _ = writeln!(text, "- load average at start: {}", loadavg());
    let _ = writeln!(
        text,
        "- one core (taskset -c 0); the frame is the first spec example of the tag; the baseline parses a `serde_json::Value`, reads the tag and validates against that message's schema (draft 7, formats on)\n"
    );
    text.push_str(table);
    std::fs::write(&path, text)?;
    println!("\nappended to {}", path.display());
    Ok(())
}

fn which(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}
