//! Shared helpers for pflow's cross-crate and end-to-end tests.
//!
//! End-to-end tests run the real `pflow` binary as a child process, each with its own
//! temporary `PFLOW_HOME`, a cleared environment and `NO_COLOR`, so that nothing on the
//! machine running the tests can change what they see.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

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
        run_piped(self.command(args), stdin)
    }

    /// Runs `pflow ARGS` (stdin closed) and returns what it did and how long it took; a
    /// process still running after `limit` is killed and the test fails.
    pub fn run_bounded<I, S>(&self, args: I, limit: Duration) -> (Run, Duration)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let started = Instant::now();
        let child = self
            .command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start pflow");
        let pid = child.id();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait_with_output());
        });
        match rx.recv_timeout(limit) {
            Ok(output) => (Run::from(output.expect("wait for pflow")), started.elapsed()),
            Err(_) => {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
                let shown: Vec<_> = args.iter().map(|a| a.to_string_lossy()).collect();
                panic!("`pflow {}` hung for {limit:?}", shown.join(" "));
            }
        }
    }

    /// Runs `pflow ARGS` to completion in the working directory `dir`, with `stdin` as its
    /// standard input.
    pub fn run_in<I, S>(&self, dir: &Path, args: I, stdin: &[u8]) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command(args);
        cmd.current_dir(dir);
        run_piped(cmd, stdin)
    }
}

/// Starts `cmd` with its stdin, stdout and stderr piped: a `pflow … -` blocks reading its
/// workflow until [`release`] writes it, which makes stdin a start barrier.
pub fn held(mut cmd: Command) -> Child {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start pflow")
}

/// Writes each [`held`] child its stdin and closes the pipes in a tight loop, so that they
/// go on together, then waits for all of them.
pub fn release(mut children: Vec<(Child, String)>) -> Vec<Run> {
    let pipes: Vec<_> = children
        .iter_mut()
        .map(|(child, text)| (child.stdin.take().expect("stdin is piped"), text.clone()))
        .collect();
    for (mut pipe, text) in pipes {
        // pflow may exit before reading everything; a broken pipe here is its answer.
        let _ = pipe.write_all(text.as_bytes());
    }
    children.into_iter().map(|(c, _)| Run::from(c.wait_with_output().unwrap())).collect()
}

/// Whether the process `pid` exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command, which is in parentheses.
        Ok(stat) => {
            stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
        }
        Err(_) => false,
    }
}

/// Whether the process `pid` is gone within `limit`. A process sent SIGKILL dies when the
/// kernel next runs it, which on a loaded machine is a moment after the signal.
pub fn dies_within(pid: u32, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while alive(pid) {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// Runs `cmd` to completion with `stdin` piped in and its output captured.
pub fn run_piped(mut cmd: Command, stdin: &[u8]) -> Run {
    let mut child = cmd
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

/// Input files that are not regular files, or are huge (RELIABILITY H3, H4), in a
/// temporary directory removed when dropped.
#[cfg(unix)]
#[derive(Debug)]
pub struct HostileInputs {
    /// A named pipe nobody writes to: reading it would block forever.
    pub fifo: PathBuf,
    /// A bound Unix socket: it cannot be opened as a file.
    pub socket: PathBuf,
    /// A symbolic link to `/dev/zero`: reading it never ends.
    pub zero: PathBuf,
    /// A sparse 100 MB regular file.
    pub big: PathBuf,
    /// Keeps `socket` bound.
    _listener: std::os::unix::net::UnixListener,
    /// Holds the files.
    _dir: tempfile::TempDir,
}

#[cfg(unix)]
impl HostileInputs {
    /// Creates the four files, each named `*.json`, in a new temporary directory.
    pub fn new() -> HostileInputs {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let fifo = dir.path().join("fifo.json");
        let made = Command::new("mkfifo").arg(&fifo).status().expect("run mkfifo");
        assert!(made.success(), "mkfifo {}: {made}", fifo.display());
        let socket = dir.path().join("socket.json");
        let listener = std::os::unix::net::UnixListener::bind(&socket).expect("bind a socket");
        let zero = dir.path().join("zero.json");
        std::os::unix::fs::symlink("/dev/zero", &zero).expect("link to /dev/zero");
        let big = dir.path().join("big.json");
        std::fs::File::create(&big)
            .and_then(|file| file.set_len(100_000_000))
            .expect("create a sparse 100 MB file");
        HostileInputs { fifo, socket, zero, big, _listener: listener, _dir: dir }
    }
}

#[cfg(unix)]
impl Default for HostileInputs {
    fn default() -> HostileInputs {
        HostileInputs::new()
    }
}
