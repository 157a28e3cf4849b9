//! Development tasks for the pflow workspace; `cargo xtask ci` is what CI runs.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a task runner reports to the terminal

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

#[cfg(test)]
mod tidy;

const USAGE: &str = "usage: cargo xtask <ci>

tasks:
  ci    fmt --check, clippy -D warnings, test --workspace, doc with warnings denied";

fn main() -> Result<()> {
    let task = env::args().nth(1);
    match task.as_deref() {
        Some("ci") => ci(),
        Some("-h" | "--help") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown task `{other}`\n\n{USAGE}"),
    }
}

/// Runs every check CI runs, in order, stopping at the first failure.
fn ci() -> Result<()> {
    let root = workspace_root();
    cargo(&root, &["fmt", "--all", "--check"], &[])?;
    cargo(&root, &["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"], &[])?;
    cargo(&root, &["test", "--workspace", "--locked"], &[])?;
    cargo(&root, &["doc", "--workspace", "--no-deps", "--locked"], &[("RUSTDOCFLAGS", "-D warnings")])?;
    println!("xtask ci: all checks passed");
    Ok(())
}

/// Runs `cargo ARGS` in `root`, echoing the command, and fails if it fails.
fn cargo(root: &Path, args: &[&str], envs: &[(&str, &str)]) -> Result<()> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("$ cargo {}", args.join(" "));
    let status = Command::new(&cargo)
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(root)
        .status()
        .with_context(|| format!("failed to start `cargo {}`", args.join(" ")))?;
    if !status.success() {
        bail!("`cargo {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives one level below the root").to_path_buf()
}
