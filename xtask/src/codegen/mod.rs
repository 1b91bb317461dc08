//! `cargo xtask codegen`: spec/*.yaml → protocol/src/<dialect>/{generated.rs, spec.json}.
//! AsyncAPI 3 documents describe WebSocket dialects; OpenAPI 3.1 ones REST APIs (`openapi.rs`).
//!
//! load (YAML, order kept) → IR (with the checks of spec/README.md) → askama → rustfmt →
//! write, or with `--check` compare and fail on drift.

mod ir;
mod names;
mod openapi;
mod render;
mod yaml;

use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// The specs the generator reads, in order.
pub const SPECS: &[&str] = &[
    "reactions.yaml",
    "originchats.yaml",
    "messaging.yaml",
    "gateway.yaml",
    "plexichat-rest.yaml",
];

pub fn run(root: &Path, check: bool) -> Result<()> {
    let mut stale = Vec::new();
    let mut failed = Vec::new();
    for spec in SPECS {
        if let Err(e) = generate(root, spec, check, &mut stale) {
            eprintln!("codegen: {e:#}");
            failed.push(*spec);
        }
    }
    if !failed.is_empty() {
        bail!("codegen failed for {}", failed.join(", "));
    }
    if !stale.is_empty() {
        bail!(
            "generated code is stale: {}\nrun `cargo xtask codegen` and commit the result",
            stale.join(", ")
        );
    }
    Ok(())
}

fn generate(root: &Path, spec: &str, check: bool, stale: &mut Vec<String>) -> Result<()> {
    {
        let path = root.join("spec").join(spec);
        if !path.exists() {
            eprintln!("codegen: spec/{spec} does not exist yet, skipped");
            return Ok(());
        }
        let text = std::fs::read_to_string(&path)?;
        let doc = yaml::load(&text).with_context(|| format!("parsing spec/{spec}"))?;
        // An OpenAPI document (REST bodies and routes) or an AsyncAPI one (WebSocket frames).
        let (module, code) = if openapi::is_openapi(&doc) {
            let api = openapi::build(spec, &doc).with_context(|| format!("spec/{spec}"))?;
            (api.module.clone(), render::render_rest(&api)?)
        } else {
            let dialect = ir::build(spec, &doc).with_context(|| format!("spec/{spec}"))?;
            (dialect.module.clone(), render::render(&dialect)?)
        };
        let code = format(root, &code)
            .with_context(|| format!("formatting the code generated from spec/{spec}"))?;
        let mut json = serde_json::to_string_pretty(&doc)?;
        json.push('\n');
        let dir = root.join("protocol/src").join(&module);
        for (file, contents) in [("generated.rs", code), ("spec.json", json)] {
            let target = dir.join(file);
            if !ensure_file_contents(&target, &contents, check)? {
                stale.push(
                    target
                        .strip_prefix(root)
                        .unwrap_or(&target)
                        .display()
                        .to_string(),
                );
            }
        }
    }
    Ok(())
}

/// Writes `contents` unless it is already there; in check mode reports instead of writing.
/// Returns whether the file was up to date.
fn ensure_file_contents(path: &Path, contents: &str, check: bool) -> Result<bool> {
    let current = std::fs::read_to_string(path).ok();
    if current.as_deref().map(|c| c.replace("\r\n", "\n")) == Some(contents.to_owned()) {
        return Ok(true);
    }
    if check {
        eprintln!("{} is not up to date", path.display());
        return Ok(false);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, contents)?;
    eprintln!("codegen: wrote {}", path.display());
    Ok(true)
}

/// Formats with the workspace's rustfmt configuration, so `cargo fmt --check` agrees.
fn format(root: &Path, code: &str) -> Result<String> {
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout", "--config-path"])
        .arg(root.join("rustfmt.toml"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running rustfmt")?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(code.as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        let dump = std::env::temp_dir().join("chorus-codegen-unformatted.rs");
        std::fs::write(&dump, code)?;
        bail!(
            "rustfmt rejected the generated code (saved to {}):\n{}",
            dump.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8(out.stdout)?)
}

#[cfg(test)]
mod tests {
    /// The drift check, also run by plain `cargo test`.
    #[test]
    fn checked_in_generated_code_is_up_to_date() {
        super::run(&crate::workspace_root(), true)
            .expect("run `cargo xtask codegen` and commit the result");
    }
}
