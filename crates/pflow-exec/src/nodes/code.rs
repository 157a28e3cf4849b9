//! `code`: runs a Python snippet in a `python3` process (SPEC §5.6), 0.16's interface.
//!
//! The snippet runs in a worker interpreter (`code_worker.py`, started with `python3 -c`)
//! that answers one request per line and stays warm: after a request the worker goes back
//! to the node's pool, and the next execution — the next item of a batch, on any thread —
//! takes an idle worker instead of starting a process. So a sequential batch of a thousand
//! items uses one interpreter, and a parallel one at most as many as run at once. Each
//! request gets a fresh namespace; modules the code imported stay loaded, as they do in
//! 0.16's single process.
//!
//! The checks before the code runs (every input annotated, outer types of the inputs,
//! `result` / `next` declared, no lowercase `any` or unimported `typing` names) and the
//! checks of what it set are made by the worker with Python's own `ast` and `isinstance`.
//! A worker runs in its own process group: a timeout or a cancelled run kills the group
//! (the interpreter and whatever the code started) and the worker is not reused. A worker
//! whose pflow died ends itself.
//!
//! The code is the user's own and runs with the user's rights, like `shell`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use pflow_ir::NodeSpec;
use pflow_ir::ValueType::{Array, Number, Object, String as Str};
use rustix::process::{Pid, Signal};
use serde_json::{Map, Value, json};

use super::{optional, output, required, spec};
use crate::{Node, NodeContext, NodeError, NodeOutcome, Params};

/// The worker script, run with `python3 -c`.
const WORKER: &str = include_str!("code_worker.py");

/// The timeout when the workflow gives none, in seconds (0.16's default).
const DEFAULT_TIMEOUT_SECS: f64 = 30.0;

/// How often a waiting code node looks at the stop flag.
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// The most idle workers kept (the largest `max_concurrent` of a batch); more are ended.
const MAX_IDLE: usize = 100;

/// The interpreter the node runs, looked up on `PATH`.
const PYTHON: &str = "python3";

/// The `code` node type.
#[derive(Debug)]
pub(crate) struct Code {
    spec: NodeSpec,
    pool: Arc<Pool>,
}

impl Code {
    pub(crate) fn new() -> Code {
        let mut spec = spec(
            "code",
            "code",
            "Run Python code on typed inputs in a python3 process; `result` is its output, \
             `next` picks the action",
        );
        spec.params = vec![
            required(
                "code",
                Some(Str),
                "Python code; top-level bare annotations (`items: list`) declare the inputs, \
                 and it must set `result: <type> = ...` or `next: str = ...`",
            ),
            optional(
                "inputs",
                Some(Object),
                None,
                "Input name -> value (templates resolved before the code runs); each needs an \
                 annotation in the code, whose outer type is checked",
            ),
            optional(
                "timeout",
                Some(Number),
                Some(json!(DEFAULT_TIMEOUT_SECS as u64)),
                "Seconds before the interpreter and every process the code started are killed",
            )
            .with_exclusive_minimum(0),
            optional(
                "requires",
                Some(Array),
                None,
                "Python packages the code imports, for documentation (nothing is installed)",
            ),
        ];
        spec.outputs = vec![
            output("result", None, "The value the code assigned to `result`"),
            output("stdout", Some(Str), "What the code printed to stdout"),
            output("stderr", Some(Str), "What the code printed to stderr"),
        ];
        let python = find_on_path(PYTHON);
        if python.is_none() {
            spec.unavailable = Some(missing_python());
        }
        Code { spec, pool: Arc::new(Pool { python, idle: Mutex::new(Vec::new()) }) }
    }
}

/// Why the node cannot run without an interpreter, and what to do.
fn missing_python() -> String {
    format!(
        "`{PYTHON}` was not found on PATH; `code` nodes run in a Python 3 interpreter \
         (install Python 3, e.g. `apt-get install python3`, or put its `{PYTHON}` on PATH)"
    )
}

impl Node for Code {
    fn spec(&self) -> &NodeSpec {
        &self.spec
    }

    fn execute(&self, params: &Params, ctx: &NodeContext<'_>) -> Result<NodeOutcome, NodeError> {
        let code = params.required_str("code")?;
        let mut inputs = params.object("inputs")?.cloned().unwrap_or_default();
        for value in inputs.values_mut() {
            parse_json_text(value);
        }
        let timeout = params.timeout_secs(DEFAULT_TIMEOUT_SECS)?;
        let Some(python) = &self.pool.python else {
            return Err(NodeError::new(missing_python()));
        };
        let mut request = serde_json::to_vec(&json!({ "code": code, "inputs": inputs }))
            .expect("JSON values always serialize");
        request.push(b'\n');

        let started = Instant::now();
        let mut worker = self.pool.send(python, &request)?;
        match worker.answer(started, timeout, ctx) {
            Ok(line) => {
                self.pool.give_back(worker);
                outcome(&line)
            }
            Err(ended) => {
                let status = match ended {
                    Ended::Exited => worker.reap(),
                    Ended::Cancelled | Ended::TimedOut => worker.kill(),
                };
                Err(match ended {
                    Ended::Cancelled => NodeError::cancelled(),
                    Ended::TimedOut => NodeError::new(format!(
                        "Python code timed out after {} s and its interpreter was killed; raise \
                         `timeout` or look for an endless loop or a blocking call",
                        timeout.as_secs_f64()
                    )),
                    Ended::Exited => NodeError::new(format!(
                        "the Python interpreter exited while running the code ({}); the code \
                         may have called `os._exit` or crashed the interpreter",
                        status.map_or_else(|| "no exit status".to_owned(), |s| s.to_string())
                    )),
                })
            }
        }
    }
}

/// A string holding a JSON object or array becomes that value, as 0.16 parses the text
/// an upstream node printed (`${fetch.stdout}`) before the code sees it; other strings
/// (numbers, `"true"`) stay strings.
fn parse_json_text(value: &mut Value) {
    let Value::String(text) = value else { return };
    let trimmed = text.trim_start();
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        return;
    }
    if let Ok(parsed @ (Value::Object(_) | Value::Array(_))) = serde_json::from_str(text) {
        *value = parsed;
    }
}

/// The node's outcome from the worker's answer.
fn outcome(line: &[u8]) -> Result<NodeOutcome, NodeError> {
    let answer: Value = serde_json::from_slice(line).map_err(|e| {
        NodeError::new(format!("the Python worker gave an answer that is not JSON: {e}"))
    })?;
    let Value::Object(mut answer) = answer else {
        return Err(NodeError::new("the Python worker gave an answer that is not a JSON object"));
    };
    let text = |answer: &mut Map<String, Value>, key: &str| match answer.remove(key) {
        Some(Value::String(s)) => Value::String(s),
        _ => Value::String(String::new()),
    };
    let mut outputs = Map::with_capacity(3);
    if let Some(result) = answer.remove("result") {
        outputs.insert("result".to_owned(), result);
    }
    outputs.insert("stdout".to_owned(), text(&mut answer, "stdout"));
    outputs.insert("stderr".to_owned(), text(&mut answer, "stderr"));
    if answer.get("ok") != Some(&Value::Bool(true)) {
        let message = match answer.remove("error") {
            Some(Value::String(s)) => s,
            _ => "the Python code failed".to_owned(),
        };
        return Err(NodeError::new(message).with_outputs(outputs));
    }
    let outcome = NodeOutcome::new(outputs);
    Ok(match answer.remove("next") {
        Some(Value::String(next)) => outcome.with_action(next),
        _ => outcome,
    })
}

/// The idle workers of one node type (shared by every run of its registry).
#[derive(Debug)]
struct Pool {
    python: Option<PathBuf>,
    idle: Mutex<Vec<Worker>>,
}

impl Pool {
    /// Sends `request` to an idle worker, or to a new one when none is idle or the idle
    /// one turned out to be gone.
    fn send(&self, python: &Path, request: &[u8]) -> Result<Worker, NodeError> {
        let idle = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop();
        if let Some(mut worker) = idle {
            if worker.stdin.write_all(request).and_then(|()| worker.stdin.flush()).is_ok() {
                return Ok(worker);
            }
            worker.kill();
        }
        let mut worker = Worker::start(python)?;
        worker.stdin.write_all(request).and_then(|()| worker.stdin.flush()).map_err(|e| {
            worker.kill();
            NodeError::new(format!("cannot send the code to the Python interpreter: {e}"))
        })?;
        Ok(worker)
    }

    /// Keeps a worker that answered for the next execution.
    fn give_back(&self, worker: Worker) {
        let mut idle = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(worker);
        }
        // A worker past the bound is dropped, which ends it.
    }
}

/// Why a worker gave no answer.
enum Ended {
    Cancelled,
    TimedOut,
    Exited,
}

/// One warm interpreter.
#[derive(Debug)]
struct Worker {
    child: Child,
    stdin: ChildStdin,
    /// Its answer lines, read by a thread of their own; `None` when its stdout closed.
    answers: Receiver<Option<Vec<u8>>>,
    /// Its process group (its own pid).
    group: Option<Pid>,
    killed: bool,
}

impl Worker {
    fn start(python: &Path) -> Result<Worker, NodeError> {
        let mut child = Command::new(python)
            .arg("-c")
            .arg(WORKER)
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| NodeError::new(format!("cannot start `{}`: {e}", python.display())))?;
        let group = i32::try_from(child.id()).ok().and_then(Pid::from_raw);
        let stdin = child.stdin.take().expect("stdin was piped");
        let stdout = child.stdout.take().expect("stdout was piped");
        let (tx, answers) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut line = Vec::new();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => {
                        let _ = tx.send(None);
                        return;
                    }
                    Ok(_) => {
                        if tx.send(Some(line)).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        Ok(Worker { child, stdin, answers, group, killed: false })
    }

    /// Waits for the answer to the request just sent, until `timeout` after `started` or
    /// until the run is cancelled.
    fn answer(
        &mut self,
        started: Instant,
        timeout: Duration,
        ctx: &NodeContext<'_>,
    ) -> Result<Vec<u8>, Ended> {
        let deadline = started.checked_add(timeout);
        loop {
            if ctx.is_cancelled() {
                return Err(Ended::Cancelled);
            }
            let now = Instant::now();
            let wait = match deadline {
                Some(d) if now >= d => return Err(Ended::TimedOut),
                Some(d) => (d - now).min(CANCEL_POLL),
                None => CANCEL_POLL,
            };
            match self.answers.recv_timeout(wait) {
                Ok(Some(line)) => return Ok(line),
                Ok(None) | Err(RecvTimeoutError::Disconnected) => return Err(Ended::Exited),
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
    }

    /// Kills the worker's process group and reaps the interpreter.
    fn kill(&mut self) -> Option<ExitStatus> {
        if self.killed {
            return None;
        }
        self.killed = true;
        if let Some(group) = self.group {
            // The group may already be gone; there is nothing else to do then.
            let _ = rustix::process::kill_process_group(group, Signal::KILL);
        }
        self.child.wait().ok()
    }

    /// Reaps an interpreter that closed its answers (it is exiting) and its exit status,
    /// then kills what is left of its group.
    fn reap(&mut self) -> Option<ExitStatus> {
        let status = self.child.wait().ok();
        self.kill();
        status
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The first executable file named `name` in a directory of `PATH`.
fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| {
        std::fs::metadata(candidate)
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}
