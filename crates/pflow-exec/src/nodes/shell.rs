//! `shell`: runs a command with `sh -c` in its own process group.
//!
//! Stdout and stderr are read by their own threads and stdin is written by a third, so a
//! command that fills one pipe while pflow waits on another never deadlocks. The command
//! runs in a new process group: a timeout or a cancelled run kills the whole group, so
//! the grandchildren a pipeline starts die with it.

use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use pflow_ir::NodeSpec;
use pflow_ir::ValueType::{Boolean, Number, Object, String as Str};
use pflow_ir::template::interpolation_text;
use rustix::process::{Pid, Signal};
use serde_json::{Map, json};

use super::{optional, output, required, spec};
use crate::{Node, NodeContext, NodeError, NodeOutcome, Params};

/// The timeout when the workflow gives none, in seconds.
const DEFAULT_TIMEOUT_SECS: f64 = 60.0;

/// How often a waiting shell node looks at the stop flag.
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// How long to wait for the pipes to close after the process group was killed (a
/// process that left the group may still hold them).
const DRAIN_AFTER_KILL: Duration = Duration::from_secs(2);

/// The most of each of stdout and stderr that is kept: 16 MiB. A command that writes more
/// fails the node (its pipe is still drained to the end, so it is never blocked).
const MAX_STREAM_BYTES: u64 = 16 * 1024 * 1024;

/// How much of stderr a failure message quotes.
const STDERR_IN_MESSAGE: usize = 500;

/// The `shell` node type.
#[derive(Debug)]
pub(crate) struct Shell {
    spec: NodeSpec,
}

impl Shell {
    pub(crate) fn new() -> Shell {
        let mut spec = spec(
            "shell",
            "shell",
            "Run a shell command (`sh -c`) and capture its stdout, stderr and exit code",
        );
        spec.params = vec![
            required(
                "command",
                Some(Str),
                "The command line, run by `sh -c`; pass values through `env` rather than \
                 templates to avoid shell injection",
            ),
            optional(
                "stdin",
                None,
                None,
                "Text written to the command's standard input (other JSON values are written \
                 as compact JSON); none means an empty stdin",
            ),
            optional("cwd", Some(Str), None, "The working directory [default: pflow's]"),
            optional(
                "env",
                Some(Object),
                None,
                "Extra environment variables, an object of strings (numbers and booleans are \
                 written as text)",
            )
            .with_value_types([Str, Number, Boolean]),
            optional(
                "timeout",
                Some(Number),
                Some(json!(DEFAULT_TIMEOUT_SECS as u64)),
                "Seconds before the command and every process it started are killed",
            )
            .with_exclusive_minimum(0),
            optional(
                "ignore_errors",
                Some(Boolean),
                Some(json!(false)),
                "Succeed even when the command exits with a non-zero code",
            ),
        ];
        spec.outputs = vec![
            output("stdout", Some(Str), "Everything the command wrote to stdout (UTF-8, lossy)"),
            output("stderr", Some(Str), "Everything the command wrote to stderr (UTF-8, lossy)"),
            output(
                "exit_code",
                Some(pflow_ir::ValueType::Integer),
                "The exit code; 128 + N when killed by signal N",
            ),
        ];
        Shell { spec }
    }
}

impl Node for Shell {
    fn spec(&self) -> &NodeSpec {
        &self.spec
    }

    fn execute(&self, params: &Params, ctx: &NodeContext<'_>) -> Result<NodeOutcome, NodeError> {
        let command = params.required_str("command")?;
        let timeout = params.timeout_secs(DEFAULT_TIMEOUT_SECS)?;
        let ignore_errors = params.bool("ignore_errors")?.unwrap_or(false);
        let stdin = params.get("stdin").map(|v| interpolation_text(v).into_bytes());
        let env = params.string_map("env")?;
        let cwd = params.str("cwd")?;
        if let Some(dir) = cwd
            && !Path::new(dir).is_dir()
        {
            return Err(NodeError::new(format!("working directory `{dir}` is not a directory")));
        }

        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(command)
            .process_group(0)
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .envs(env);
        if let Some(dir) = cwd {
            cmd.current_dir(dir);
        }
        let outcome = run(cmd, stdin, timeout, ctx)?;

        let exit_code = match (outcome.status.code(), outcome.status.signal()) {
            (Some(code), _) => code,
            (None, Some(signal)) => 128 + signal,
            (None, None) => -1,
        };
        let stderr = String::from_utf8_lossy(&outcome.stderr.bytes).into_owned();
        let mut outputs = Map::with_capacity(3);
        outputs.insert("stdout".to_owned(), json!(String::from_utf8_lossy(&outcome.stdout.bytes)));
        outputs.insert("stderr".to_owned(), json!(stderr));
        outputs.insert("exit_code".to_owned(), json!(exit_code));
        if outcome.timed_out {
            return Err(NodeError::new(format!(
                "command timed out after {} s and was killed with its process group",
                timeout.as_secs_f64()
            ))
            .with_outputs(outputs));
        }
        let overflowed = [("stdout", &outcome.stdout), ("stderr", &outcome.stderr)]
            .into_iter()
            .filter(|(_, captured)| captured.overflowed)
            .map(|(name, _)| name)
            .collect::<Vec<_>>();
        if !overflowed.is_empty() {
            return Err(NodeError::new(format!(
                "command wrote more than {} MiB to {}; pflow keeps at most that much of each \
                 stream (write big outputs to a file instead)",
                MAX_STREAM_BYTES / (1024 * 1024),
                overflowed.join(" and ")
            ))
            .with_outputs(outputs));
        }
        if exit_code != 0 && !ignore_errors {
            return Err(NodeError::new(format!(
                "command exited with code {exit_code}{}",
                stderr_excerpt(&stderr)
            ))
            .with_outputs(outputs));
        }
        Ok(NodeOutcome::new(outputs))
    }
}

/// What happened to the process.
struct Finished {
    status: ExitStatus,
    stdout: Captured,
    stderr: Captured,
    timed_out: bool,
}

/// One message from the helper threads.
enum Report {
    Exited(std::io::Result<ExitStatus>),
    Stdout(Captured),
    Stderr(Captured),
}

/// Starts `cmd` and waits for it to exit and close its pipes, killing its process group
/// on timeout or cancellation.
fn run(
    mut cmd: Command,
    stdin: Option<Vec<u8>>,
    timeout: Duration,
    ctx: &NodeContext<'_>,
) -> Result<Finished, NodeError> {
    let started = Instant::now();
    let mut child = cmd.spawn().map_err(|e| NodeError::new(format!("cannot start `sh`: {e}")))?;
    // `process_group(0)` made the child the leader of a group whose id is its pid.
    let group = i32::try_from(child.id()).ok().and_then(Pid::from_raw);
    let kill_group = || {
        if let Some(group) = group {
            // The group may already be gone; there is nothing else to do then.
            let _ = rustix::process::kill_process_group(group, Signal::KILL);
        }
    };

    let (tx, rx) = mpsc::channel::<Report>();
    if let (Some(data), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A command that exits without reading its stdin closes the pipe; the failed
        // write is its answer, not an error.
        thread::spawn(move || {
            let _ = pipe.write_all(&data);
        });
    }
    if let Some(pipe) = child.stdout.take() {
        let tx = tx.clone();
        thread::spawn(move || {
            let _ = tx.send(Report::Stdout(read_capped(pipe)));
        });
    }
    if let Some(pipe) = child.stderr.take() {
        let tx = tx.clone();
        thread::spawn(move || {
            let _ = tx.send(Report::Stderr(read_capped(pipe)));
        });
    }
    thread::spawn(move || {
        let _ = tx.send(Report::Exited(child.wait()));
    });

    let deadline = started.checked_add(timeout);
    let mut status = None;
    let mut stdout = None;
    let mut stderr = None;
    let mut timed_out = false;
    let mut cancelled = false;
    let mut drain_until: Option<Instant> = None;
    while status.is_none() || stdout.is_none() || stderr.is_none() {
        let now = Instant::now();
        if drain_until.is_none() {
            if ctx.is_cancelled() {
                cancelled = true;
            } else if deadline.is_some_and(|d| now >= d) {
                timed_out = true;
            }
            if cancelled || timed_out {
                kill_group();
                drain_until = Some(now + DRAIN_AFTER_KILL);
            }
        }
        let wait = match (drain_until, deadline) {
            (Some(until), _) if now >= until => break,
            (Some(until), _) => until - now,
            (None, Some(d)) => d.saturating_duration_since(now).min(CANCEL_POLL),
            (None, None) => CANCEL_POLL,
        };
        match rx.recv_timeout(wait) {
            Ok(Report::Exited(result)) => {
                status = Some(result.map_err(|e| {
                    kill_group();
                    NodeError::new(format!("cannot wait for `sh`: {e}"))
                })?);
            }
            Ok(Report::Stdout(bytes)) => stdout = Some(bytes),
            Ok(Report::Stderr(bytes)) => stderr = Some(bytes),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    if cancelled {
        return Err(NodeError::cancelled());
    }
    let Some(status) = status else {
        // Only reachable after a kill whose process could not be reaped in time.
        return Err(NodeError::new("the command did not exit after being killed"));
    };
    Ok(Finished {
        status,
        stdout: stdout.unwrap_or_default(),
        stderr: stderr.unwrap_or_default(),
        timed_out,
    })
}

/// Reads a pipe to its end, keeping the first [`MAX_STREAM_BYTES`] and draining (and
/// dropping) the rest so the command never blocks on a full pipe; a read error ends the
/// output there.
fn read_capped(mut pipe: impl Read) -> Captured {
    let mut bytes = Vec::new();
    let _ = pipe.by_ref().take(MAX_STREAM_BYTES).read_to_end(&mut bytes);
    let mut overflowed = false;
    let mut scratch = [0u8; 64 * 1024];
    loop {
        match pipe.read(&mut scratch) {
            Ok(0) => break,
            Ok(_) => overflowed = true,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    Captured { bytes, overflowed }
}

/// What was kept of one output stream.
#[derive(Default)]
struct Captured {
    bytes: Vec<u8>,
    /// Whether the command wrote more than [`MAX_STREAM_BYTES`] (the rest was dropped).
    overflowed: bool,
}

/// `: <the end of stderr>` for a failure message, or nothing when stderr is empty.
fn stderr_excerpt(stderr: &str) -> String {
    let trimmed = stderr.trim();
    if trimmed.is_empty() {
        return String::new();
    }
    let start = trimmed.len().saturating_sub(STDERR_IN_MESSAGE);
    let start = (start..=trimmed.len()).find(|&i| trimmed.is_char_boundary(i)).unwrap_or(0);
    let prefix = if start > 0 { "…" } else { "" };
    format!(": {prefix}{}", &trimmed[start..])
}
