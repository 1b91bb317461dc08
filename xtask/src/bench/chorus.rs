//! Starting the release `chorus` binary as the server under test: `chorus serve` on its own
//! loopback port and a fresh data directory, configured through `CHORUS__*` environment
//! overrides (server/src/config.rs); everything else stays at its default (durability full).

use super::common::{self, ServerProc, TempDir};
use anyhow::Context;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;

#[derive(clap::Args, Clone)]
pub struct Opts {
    /// Use this chorus binary instead of building `cargo build --release -p chorus-server`.
    #[arg(long)]
    chorus_bin: Option<PathBuf>,
    /// Extra configuration for chorus, as `section.key=value` (repeatable), e.g.
    /// `--chorus-set storage.durability=normal`. Passed as CHORUS__SECTION__KEY variables.
    #[arg(long = "chorus-set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

/// The chorus binary under test: a private copy, so that a rebuild of target/release/chorus
/// by someone else during the benchmark cannot change the server between rounds.
pub struct Binary {
    pub path: PathBuf,
    _dir: TempDir,
}

/// Builds chorus in release mode (unless `--chorus-bin` is given) and copies the binary.
pub fn binary(opts: &Opts) -> anyhow::Result<Binary> {
    let source = match &opts.chorus_bin {
        Some(bin) => bin.clone(),
        None => {
            eprintln!("bench: building the release chorus server …");
            common::cargo_build_release(&["chorus-server"])?;
            common::target_dir().join("release").join("chorus")
        }
    };
    let dir = TempDir::new("chorus-bench-bin")?;
    let path = dir.path().join("chorus");
    std::fs::copy(&source, &path).with_context(|| format!("copying {}", source.display()))?;
    Ok(Binary { path, _dir: dir })
}

/// One line for the report: what chorus ran with.
pub fn describe(opts: &Opts, fixed: &[(&str, &str)]) -> String {
    let mut settings: Vec<String> = fixed.iter().map(|(k, v)| format!("{k}={v}")).collect();
    settings.extend(opts.set.iter().cloned());
    let extra = if settings.is_empty() {
        String::new()
    } else {
        format!("; overrides: {}", settings.join(", "))
    };
    format!(
        "release build, fresh SQLite data directory, defaults otherwise (durability full){extra}"
    )
}

/// Starts chorus on a free port, on `data` (a fresh data directory when `None`), with `fixed`
/// settings of the benchmark and then the user's `--chorus-set` ones.
pub fn start(
    bin: &Binary,
    opts: &Opts,
    fixed: &[(&str, &str)],
    data: Option<TempDir>,
) -> anyhow::Result<ServerProc> {
    let data = match data {
        Some(d) => d,
        None => TempDir::new("chorus-bench")?,
    };
    let port = common::free_port()?;
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut cmd = Command::new(&bin.path);
    cmd.arg("serve")
        .env_remove("CHORUS_CONFIG")
        .env("CHORUS__SERVER__LISTEN", addr.to_string())
        .env("CHORUS__STORAGE__DATA_DIR", data.path())
        .env("CHORUS__LOG__LEVEL", "warn");
    let user = opts.set.iter().map(|s| {
        s.split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--chorus-set {s:?}: expected KEY=VALUE"))
    });
    for kv in fixed.iter().map(|&kv| Ok(kv)).chain(user) {
        let (k, v) = kv?;
        let var = format!("CHORUS__{}", k.replace('.', "__").to_ascii_uppercase());
        cmd.env(var, v);
    }
    ServerProc::spawn("chorus", addr, cmd, Some(data))
}
