//! Shared helpers for pflow's cross-crate and end-to-end tests.
//!
//! End-to-end tests run the real `pflow` binary as a child process, each with its own
//! temporary `PFLOW_HOME`, a cleared environment and `NO_COLOR`, so that nothing on the
//! machine running the tests can change what they see.

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The `pflow` binary built for this test run.
///
/// `cargo test --workspace` builds every binary of the workspace before it runs any test,
/// so the binary sits beside the test executable's `deps/` directory. Running this
/// package's tests alone (`cargo test -p pflow-tests`) needs `cargo build -p pflow` first.
pub fn pflow_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("PFLOW_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the test knows its own path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test executables live in target/<profile>/deps");
    let bin = profile_dir.join(format!("pflow{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "no pflow binary at {}: run `cargo build -p pflow` (or `cargo test --workspace`) first",
        bin.display()
    );
    bin
}

/// A temporary pflow home, removed when dropped.
#[derive(Debug)]
pub struct TestHome {
    dir: tempfile::TempDir,
}

impl TestHome {
    /// A new, empty home directory.
    pub fn new() -> TestHome {
        TestHome { dir: tempfile::tempdir().expect("create a temporary pflow home") }
    }

    /// The home directory (what `PFLOW_HOME` points at).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The directory holding saved workflows.
    pub fn workflows(&self) -> PathBuf {
        self.dir.path().join("workflows")
    }

    /// A `pflow` command with a cleared environment, this home, and `NO_COLOR`.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(pflow_bin());
        cmd.env_clear()
            .env("PFLOW_HOME", self.path())
            .env("NO_COLOR", "1")
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .args(args)
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `pflow ARGS` to completion with no stdin.
    pub fn run<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Run::from(self.command(args).output().expect("start pflow"))
    }

    /// Runs `pflow ARGS` to completion with `stdin` as its standard input.
    pub fn run_with_stdin<I, S>(&self, args: I, stdin: &[u8]) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start pflow");
        let mut pipe = child.stdin.take().expect("stdin is piped");
        // pflow may exit before reading everything; a broken pipe here is its answer.
        let _ = pipe.write_all(stdin);
        drop(pipe);
        Run::from(child.wait_with_output().expect("wait for pflow"))
    }
}

impl TestHome {
    /// `run`'s transcript for snapshots, with this home shown as `[HOME]`: the one
    /// redaction the end-to-end tests share.
    pub fn transcript(&self, run: &Run) -> String {
        run.transcript().replace(&self.path().display().to_string(), "[HOME]")
    }
}

impl Default for TestHome {
    fn default() -> TestHome {
        TestHome::new()
    }
}

/// What a finished `pflow` process did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The exit code (`-1` when killed by a signal).
    pub code: i32,
    /// Everything written to stdout, lossily decoded.
    pub stdout: String,
    /// Everything written to stderr, lossily decoded.
    pub stderr: String,
}

impl Run {
    /// A transcript for snapshots: exit code, stdout and stderr, labelled.
    pub fn transcript(&self) -> String {
        format!("exit: {}\n--- stdout\n{}--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}
