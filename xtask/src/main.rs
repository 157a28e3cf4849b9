//! Development tasks for the pflow workspace; `cargo xtask ci` is what CI runs, and
//! `cargo xtask docs` regenerates the documentation that is generated from code.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a task runner reports to the terminal

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

#[cfg(test)]
mod tidy;

const USAGE: &str = "usage: cargo xtask <ci|docs|eval-discovery>

tasks:
  ci              fmt --check, clippy -D warnings, test --workspace (with the MCP client
                  venv), doc with warnings denied
  docs            regenerate docs/cli.md from the clap definitions of the `pflow` binary
  eval-discovery  print recall@1, recall@5 and MRR of the query ranking and of plain BM25
                  (--misses: also the queries not ranked first)";

fn main() -> Result<()> {
    let args: Vec<String> = env::args().skip(1).collect();
    match task(&args)? {
        Task::Ci => ci(),
        Task::Docs => docs(),
        Task::EvalDiscovery => eval_discovery(),
        Task::Help => {
            println!("{USAGE}");
            Ok(())
        }
    }
}

/// What `cargo xtask ARGS` asks for.
#[derive(Debug, PartialEq, Eq)]
enum Task {
    Ci,
    Docs,
    EvalDiscovery,
    Help,
}

/// The task `args` (without the program's name) ask for: `-h` or `--help` anywhere asks
/// for the help, so `cargo xtask ci --help` prints it instead of running CI.
fn task(args: &[String]) -> Result<Task> {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        return Ok(Task::Help);
    }
    let task = match args.first().map(String::as_str) {
        None => return Ok(Task::Help),
        Some("ci") => Task::Ci,
        Some("docs") => Task::Docs,
        // Its own flags (`--misses`) are passed on to the evaluation.
        Some("eval-discovery") => return Ok(Task::EvalDiscovery),
        Some(other) => bail!("unknown task `{other}`\n\n{USAGE}"),
    };
    if let Some(extra) = args.get(1) {
        bail!("`cargo xtask {}` takes no arguments, got `{extra}`\n\n{USAGE}", args[0]);
    }
    Ok(task)
}

/// Runs every check CI runs, in order, stopping at the first failure.
fn ci() -> Result<()> {
    let root = workspace_root();
    cargo(&root, &["fmt", "--all", "--check"], &[])?;
    cargo(
        &root,
        &["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"],
        &[],
    )?;
    let python = mcp_client_venv(&root)?;
    let python = python.to_str().context("the venv's path is not UTF-8")?;
    cargo(&root, &["test", "--workspace", "--locked"], &[("PFLOW_MCP_PYTHON", python)])?;
    cargo(
        &root,
        &["doc", "--workspace", "--no-deps", "--locked"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )?;
    println!("xtask ci: all checks passed");
    Ok(())
}

/// The version of the Python `mcp` SDK whose client drives the MCP server's end-to-end
/// tests (tests/mcp/scenarios.py).
const MCP_CLIENT_VERSION: &str = "2.3.0";

/// Makes `mcp-venv` in cargo's target directory with the Python `mcp` SDK, unless it is
/// there already, and returns its python (the tests read it from `PFLOW_MCP_PYTHON`).
fn mcp_client_venv(root: &Path) -> Result<PathBuf> {
    let venv = target_dir(root)?.join("mcp-venv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    }
    let installed = Command::new(&python)
        .args(["-c", "import importlib.metadata as m; print(m.version('mcp'))"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == MCP_CLIENT_VERSION)
        .unwrap_or(false);
    if !installed {
        let package = format!("mcp=={MCP_CLIENT_VERSION}");
        run(Command::new(&python).args(["-m", "pip", "install", "-q", &package]))?;
    }
    Ok(python)
}

/// Cargo's target directory: `CARGO_TARGET_DIR` (relative to the current directory, as
/// cargo reads it) when set and not empty, else `target` in the workspace.
fn target_dir(root: &Path) -> Result<PathBuf> {
    match env::var_os("CARGO_TARGET_DIR").filter(|dir| !dir.is_empty()) {
        Some(dir) => Ok(env::current_dir().context("cannot read the current directory")?.join(dir)),
        None => Ok(root.join("target")),
    }
}

/// Runs `cmd`, echoing it, and fails if it fails.
fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    eprintln!("$ {shown}");
    let status = cmd.status().with_context(|| format!("failed to start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    Ok(())
}

/// Rewrites docs/cli.md from the command definitions.
///
/// xtask cannot depend on the binary crate, so the rendering lives in a test of the
/// `pflow` binary (`clidoc`), which compares the file and, with `UPDATE_DOCS=1`, rewrites
/// it. The same test, run by `cargo test --workspace`, is the tidy check that fails when
/// the file is out of date.
fn docs() -> Result<()> {
    let root = workspace_root();
    cargo(
        &root,
        &[
            "test",
            "-p",
            "pflow",
            "--bin",
            "pflow",
            "--",
            "--exact",
            "clidoc::docs_cli_md_is_current",
        ],
        &[("UPDATE_DOCS", "1")],
    )?;
    println!("xtask docs: docs/cli.md is up to date");
    Ok(())
}

/// Prints the discovery evaluation (crates/pflow-context/eval): an example of
/// pflow-context, since xtask depends on no product crate.
fn eval_discovery() -> Result<()> {
    let root = workspace_root();
    let mut args = vec!["run", "--quiet", "-p", "pflow-context", "--example", "eval_discovery"];
    let extra: Vec<String> = env::args().skip(2).collect();
    if !extra.is_empty() {
        args.push("--");
        args.extend(extra.iter().map(String::as_str));
    }
    cargo(&root, &args, &[])
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
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the root")
        .to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::{Task, task};

    #[track_caller]
    fn check(args: &[&str], expected: Result<Task, &str>) {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let got = task(&args).map_err(|e| e.to_string());
        match expected {
            Ok(want) => assert_eq!(got.ok(), Some(want), "{args:?}"),
            Err(start) => {
                let err = got.expect_err("an error");
                assert!(err.starts_with(start), "{args:?}: {err}");
            }
        }
    }

    #[test]
    fn help_anywhere_prints_the_help_and_runs_nothing() {
        check(&[], Ok(Task::Help));
        check(&["--help"], Ok(Task::Help));
        check(&["ci", "--help"], Ok(Task::Help));
        check(&["ci", "-h"], Ok(Task::Help));
        check(&["docs", "--help"], Ok(Task::Help));
        check(&["eval-discovery", "--help"], Ok(Task::Help));
    }

    #[test]
    fn tasks_and_their_mistakes() {
        check(&["ci"], Ok(Task::Ci));
        check(&["docs"], Ok(Task::Docs));
        check(&["eval-discovery", "--misses"], Ok(Task::EvalDiscovery));
        check(&["ci", "--fast"], Err("`cargo xtask ci` takes no arguments, got `--fast`"));
        check(&["cii"], Err("unknown task `cii`"));
    }
}
