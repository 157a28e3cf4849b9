//! Helpers the conformance cases and the model share: sample workflows, names, and
//! transactions run for their result.

use pflow_ir::{Document, Timestamp, ValidIr, WorkflowIr, WorkflowName};
use serde_json::{Value, json};

use super::Harness;
use crate::{StoreError, StoreResult, StoredDocument, Transaction, WorkflowManager, WorkflowStore};

/// A manager over the harness's store (checking structure, not node types).
pub(crate) fn manager(h: &dyn Harness) -> WorkflowManager {
    WorkflowManager::new(h.store())
}

/// A name that is known to be valid.
pub(crate) fn name(s: &str) -> WorkflowName {
    WorkflowName::new(s).expect("test names are valid")
}

/// Damages the entry of `n` through the harness.
pub(crate) fn plant_corrupt(h: &dyn Harness, n: &str) {
    h.plant_corrupt(&name(n));
}

/// A valid IR whose content depends on `n`, with one input and one output.
pub(crate) fn ir(n: u64) -> WorkflowIr {
    shell(&format!("echo {n}"))
}

/// A valid IR with one `shell` node running `command`, one input and one output.
pub(crate) fn shell(command: &str) -> WorkflowIr {
    typed(json!({
        "ir_version": "0.1.0",
        "inputs": { "who": { "type": "string", "required": false } },
        "outputs": { "said": { "source": "${a.stdout}" } },
        "nodes": [{ "id": "a", "type": "shell", "params": { "command": command } }],
        "edges": []
    }))
}

/// A valid IR with one `shell` node per `(id, content)`, chained in order.
pub(crate) fn ir_nodes(nodes: &[(&str, u64)]) -> WorkflowIr {
    let list: Vec<Value> = nodes
        .iter()
        .map(|(id, n)| json!({ "id": id, "type": "shell", "params": { "command": format!("echo {n}") } }))
        .collect();
    let edges: Vec<Value> =
        nodes.windows(2).map(|w| json!({ "from": w[0].0, "to": w[1].0 })).collect();
    typed(json!({ "ir_version": "0.1.0", "nodes": list, "edges": edges }))
}

/// A valid IR that calls the saved workflow `callee` by name.
pub(crate) fn calling(callee: &str) -> WorkflowIr {
    typed(call(callee))
}

/// An IR (as JSON) whose only node calls `callee` by name.
pub(crate) fn call(callee: &str) -> Value {
    json!({
        "ir_version": "0.1.0",
        "nodes": [{ "id": "call", "type": "workflow", "params": { "workflow_name": callee } }]
    })
}

/// An IR (as JSON) whose only node runs `child` inline.
pub(crate) fn inline(child: Value) -> Value {
    json!({
        "ir_version": "0.1.0",
        "nodes": [{ "id": "inline", "type": "workflow", "params": { "workflow_ir": child } }]
    })
}

/// The IR in `value`.
pub(crate) fn typed(value: Value) -> WorkflowIr {
    serde_json::from_value(value).expect("the sample IR is well-formed")
}

/// An IR that fails validation (an edge to a node that does not exist).
pub(crate) fn invalid_ir() -> WorkflowIr {
    typed(json!({
        "ir_version": "0.1.0",
        "nodes": [{ "id": "a", "type": "shell" }],
        "edges": [{ "from": "a", "to": "nowhere" }]
    }))
}

/// `ir` validated, for [`WorkflowManager::save`].
pub(crate) fn valid(m: &WorkflowManager, n: &str, ir: WorkflowIr) -> ValidIr {
    m.validate(&name(n), ir).expect("the sample IR is valid")
}

/// A first-revision document with content `content`, described as `description
/// {content}`.
pub(crate) fn doc(n: &str, content: u64) -> Document {
    Document::new(name(n), format!("description {content}"), ir(content), Timestamp::now())
}

/// The last time a timestamp can hold: `9999-12-31T23:59:59.999999Z`.
pub(crate) fn last_time() -> Timestamp {
    Timestamp::parse("9999-12-31T23:59:59.999999Z").expect("a valid time")
}

/// The stored form of `doc`.
pub(crate) fn stored(doc: &Document) -> StoredDocument {
    StoredDocument::new(doc.clone()).expect("the sample document is small")
}

/// Runs `work` as one transaction of `store` and gives what it returned.
pub(crate) fn transact<T>(
    store: &dyn WorkflowStore,
    mut work: impl FnMut(&mut dyn Transaction) -> StoreResult<T>,
) -> StoreResult<T> {
    let mut out = None;
    store.write(&mut |txn| {
        out = Some(work(txn)?);
        Ok(())
    })?;
    Ok(out.expect("a successful transaction ran its work"))
}

/// Stores `doc` as a new workflow through the transaction primitive, with no rule of the
/// manager's in between.
pub(crate) fn put(store: &dyn WorkflowStore, doc: &Document) {
    let stored = stored(doc);
    transact(store, |txn| txn.create(&stored)).expect("the primitive create works");
}

/// `(path, message)` of every finding of an `InvalidWorkflow`.
#[track_caller]
pub(crate) fn findings(err: &StoreError) -> Vec<(String, String)> {
    let StoreError::InvalidWorkflow { diagnostics, .. } = err else {
        panic!("expected InvalidWorkflow, got {err:?}")
    };
    diagnostics.iter().map(|d| (d.path.clone(), d.message.clone())).collect()
}

/// The first suggestion of a `WorkflowNotFound` or `NotInTrash`.
#[track_caller]
pub(crate) fn first_suggestion(err: &StoreError) -> Option<&str> {
    match err {
        StoreError::WorkflowNotFound { suggestions, .. }
        | StoreError::NotInTrash { suggestions, .. } => suggestions.first().map(|s| s.as_str()),
        other => panic!("expected WorkflowNotFound or NotInTrash, got {other:?}"),
    }
}
