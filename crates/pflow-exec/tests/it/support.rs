//! Helpers shared by the integration tests: building IRs from JSON, running them, and a
//! manager over an in-memory store.

use std::path::Path;
use std::sync::Arc;

use pflow_exec::{ExecError, RunOutput, Runtime};
use pflow_ir::{Document, Timestamp, ValidIr, WorkflowIr, WorkflowName};
use pflow_store::{MemoryStore, Origin, StoredDocument, WorkflowManager};
use serde_json::{Map, Value};

/// An IR from JSON (panics on a shape error: test input is meant to be well-formed).
#[track_caller]
pub(crate) fn ir(value: Value) -> WorkflowIr {
    serde_json::from_value(value).expect("test IR has the right shape")
}

/// `ir_json` validated without a catalog (structure and templates): node types and
/// params are left for the runtime to refuse, which is what these tests look at.
#[track_caller]
pub(crate) fn valid(ir_json: Value) -> ValidIr {
    match pflow_ir::validate_value(&ir_json, None).into_valid() {
        Ok((ir, _warnings)) => ir,
        Err(diagnostics) => panic!("test IR is invalid: {diagnostics:?}"),
    }
}

/// Runs `ir` inline with the built-in runtime and no store.
pub(crate) fn run(ir_json: Value) -> Result<RunOutput, ExecError> {
    run_with(&Runtime::builtin(), ir_json, Value::Object(Map::new()))
}

/// Runs `ir` inline with `inputs` on `runtime`.
pub(crate) fn run_with(
    runtime: &Runtime,
    ir_json: Value,
    inputs: Value,
) -> Result<RunOutput, ExecError> {
    let Value::Object(inputs) = inputs else { panic!("inputs must be an object") };
    runtime.run(&valid(ir_json), inputs, &Origin::Inline)
}

/// The outputs of a successful run, as one JSON object.
#[track_caller]
pub(crate) fn outputs(result: Result<RunOutput, ExecError>) -> Value {
    match result {
        Ok(out) => Value::Object(out.outputs),
        Err(e) => panic!("the run failed: {e}"),
    }
}

/// The error of a failed run.
#[track_caller]
pub(crate) fn error(result: Result<RunOutput, ExecError>) -> ExecError {
    match result {
        Ok(out) => panic!("the run succeeded with {:?}", out.outputs),
        Err(e) => e,
    }
}

/// A manager over a fresh in-memory store.
pub(crate) fn memory_manager() -> WorkflowManager {
    WorkflowManager::new(Arc::new(MemoryStore::new()))
}

/// Stores `ir` under `name` without any check (to plant cycles the manager would refuse).
pub(crate) fn plant(manager: &WorkflowManager, name: &str, ir_json: Value) {
    let doc = Document::new(
        WorkflowName::new(name).unwrap(),
        String::new(),
        ir(ir_json),
        Timestamp::now(),
    );
    let stored = StoredDocument::new(doc).unwrap();
    manager.store().write(&mut |txn| txn.create(&stored)).unwrap();
}

/// Writes `value` as pretty JSON to `path`.
pub(crate) fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

/// Whether the process `pid` is gone (or a zombie nobody reaped yet: it no longer runs).
pub(crate) fn process_is_dead(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // The state follows the command name, which is in parentheses.
        Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

/// Waits (bounded) until `pid` is dead; the kill is asynchronous, so the test polls with
/// a generous deadline instead of sleeping a fixed time.
pub(crate) fn wait_until_dead(pid: u32) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if process_is_dead(pid) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    process_is_dead(pid)
}
