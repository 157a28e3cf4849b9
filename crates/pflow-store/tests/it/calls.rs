//! Following calls between saved workflows: memoised walks of large call graphs, and calls
//! made from inside inline `workflow_ir`s (cycles, missing names, summaries, delete).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use pflow_ir::{Document, Timestamp, WorkflowIr, WorkflowName};
use pflow_store::{
    Change, History, IfCalled, Listing, Location, MemoryStore, PurgeFilter, StoreError,
    StoreResult, TrashKey, TrashListing, WorkflowManager, WorkflowStore,
};
use serde_json::{Value, json};

use crate::common::{Backend, ir};
use crate::conformance::conformance;

conformance!(
    a_cycle_through_an_inline_child_is_refused,
    a_missing_name_in_an_inline_child_is_refused,
    summaries_count_calls_made_from_inline_children,
    delete_refuses_a_workflow_called_only_from_an_inline_child,
);

/// An IR whose only node runs `child` inline.
fn inline(child: Value) -> Value {
    json!({
        "ir_version": "0.1.0",
        "nodes": [{ "id": "inline", "type": "workflow", "params": { "workflow_ir": child } }]
    })
}

/// An IR (as JSON) whose only node calls `callee` by name.
fn call(callee: &str) -> Value {
    json!({
        "ir_version": "0.1.0",
        "nodes": [{ "id": "call", "type": "workflow", "params": { "workflow_name": callee } }]
    })
}

fn typed(value: Value) -> WorkflowIr {
    serde_json::from_value(value).unwrap()
}

fn a_cycle_through_an_inline_child_is_refused(b: &Backend) {
    let m = b.manager();
    m.create("q", &typed(call("r")), "").unwrap_err();
    m.create("r", &ir(1), "").unwrap();
    m.create("q", &typed(call("r")), "").unwrap();
    // `p` runs, inline, a child that calls `q`; `q` calls `r`. Making `r` call `p` loops.
    m.create("p", &typed(inline(call("q"))), "").unwrap();
    let doc = m.load("r").unwrap();
    let err = m.update("r", &typed(inline(inline(call("p")))), "", doc.revision).unwrap_err();
    let StoreError::InvalidWorkflow { diagnostics, .. } = &err else {
        panic!("expected InvalidWorkflow, got {err:?}")
    };
    let found: Vec<(&str, &str)> =
        diagnostics.iter().map(|d| (d.path.as_str(), d.message.as_str())).collect();
    assert_eq!(
        found,
        [(
            "nodes[0].params.workflow_ir.nodes[0].params.workflow_ir.nodes[0].params.workflow_name",
            "workflow call cycle: r -> (inline) -> (inline) -> p -> (inline) -> q -> r"
        )]
    );
    // A workflow whose inline child calls the workflow itself is refused at once.
    let err = m.create("s", &typed(inline(call("s"))), "").unwrap_err();
    assert!(matches!(err, StoreError::InvalidWorkflow { .. }), "{err:?}");
    assert!(!m.exists("s").unwrap());
    assert_eq!(m.load("r").unwrap().revision, doc.revision);
}

fn a_missing_name_in_an_inline_child_is_refused(b: &Backend) {
    let m = b.manager();
    let err = m.create("p", &typed(inline(call("nowhere"))), "").unwrap_err();
    let StoreError::InvalidWorkflow { diagnostics, .. } = &err else {
        panic!("expected InvalidWorkflow, got {err:?}")
    };
    let found: Vec<(&str, &str)> =
        diagnostics.iter().map(|d| (d.path.as_str(), d.message.as_str())).collect();
    assert_eq!(
        found,
        [(
            "nodes[0].params.workflow_ir.nodes[0].params.workflow_name",
            "saved workflow `nowhere` not found"
        )]
    );
    assert!(!m.exists("p").unwrap());
}

fn summaries_count_calls_made_from_inline_children(b: &Backend) {
    let m = b.manager();
    m.create("inner", &ir(1), "").unwrap();
    m.create("outer", &ir(2), "").unwrap();
    let mut both = inline(call("inner"));
    both["nodes"].as_array_mut().unwrap().push(
        json!({ "id": "direct", "type": "workflow", "params": { "workflow_name": "outer" } }),
    );
    both["edges"] = json!([{ "from": "inline", "to": "direct" }]);
    m.create("p", &typed(both), "").unwrap();
    let listing = m.list_all().unwrap();
    let p = listing.workflows.iter().find(|s| s.name.as_str() == "p").unwrap();
    assert_eq!(p.calls, ["inner", "outer"]);
}

fn delete_refuses_a_workflow_called_only_from_an_inline_child(b: &Backend) {
    let m = b.manager();
    m.create("callee", &ir(1), "").unwrap();
    m.create("caller", &typed(inline(inline(call("callee")))), "").unwrap();
    let err = m.delete("callee", IfCalled::Refuse).unwrap_err();
    assert!(
        matches!(&err, StoreError::HasCallers { callers, .. } if callers.len() == 1),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "workflow `callee` is called by `caller`");
    assert!(m.exists("callee").unwrap());
}

/// A store that counts how often each workflow is loaded.
#[derive(Debug, Default)]
struct Counting {
    inner: MemoryStore,
    loads: Mutex<HashMap<String, usize>>,
}

impl WorkflowStore for Counting {
    fn create(&self, doc: &Document) -> StoreResult<Location> {
        self.inner.create(doc)
    }
    fn load(&self, name: &WorkflowName) -> StoreResult<Document> {
        *self.loads.lock().unwrap().entry(name.to_string()).or_default() += 1;
        self.inner.load(name)
    }
    fn list(&self) -> StoreResult<Listing> {
        self.inner.list()
    }
    fn exists(&self, name: &WorkflowName) -> StoreResult<bool> {
        self.inner.exists(name)
    }
    fn update(&self, name: &WorkflowName, expected: u64, change: Change) -> StoreResult<Document> {
        self.inner.update(name, expected, change)
    }
    fn history(&self, name: &WorkflowName) -> StoreResult<History> {
        self.inner.history(name)
    }
    fn load_revision(&self, name: &WorkflowName, revision: u64) -> StoreResult<Document> {
        self.inner.load_revision(name, revision)
    }
    fn restore_revision(
        &self,
        name: &WorkflowName,
        revision: u64,
        expected: Option<u64>,
        now: Timestamp,
    ) -> StoreResult<Document> {
        self.inner.restore_revision(name, revision, expected, now)
    }
    fn delete(&self, name: &WorkflowName, now: Timestamp) -> StoreResult<TrashKey> {
        self.inner.delete(name, now)
    }
    fn trash(&self) -> StoreResult<TrashListing> {
        self.inner.trash()
    }
    fn restore_trashed(&self, name: &WorkflowName) -> StoreResult<Document> {
        self.inner.restore_trashed(name)
    }
    fn purge(&self, filter: &PurgeFilter) -> StoreResult<Vec<TrashKey>> {
        self.inner.purge(filter)
    }
    fn locate(&self, name: &WorkflowName) -> Location {
        self.inner.locate(name)
    }
}

#[test]
fn a_diamond_call_graph_loads_each_workflow_once() {
    // `level-0` calls `level-1` twice (one direct node, one inline), `level-1` calls
    // `level-2` twice, and so on: 2^30 paths, 31 workflows. A walk without memory never
    // ends; a memoised one loads each workflow once.
    const LEVELS: usize = 30;
    let store = Arc::new(Counting::default());
    let m = WorkflowManager::new(store.clone());
    m.create(&format!("level-{LEVELS}"), &ir(1), "").unwrap();
    for level in (0..LEVELS).rev() {
        let callee = format!("level-{}", level + 1);
        let mut twice = call(&callee);
        twice["nodes"].as_array_mut().unwrap().push(json!({
            "id": "again", "type": "workflow", "params": { "workflow_ir": call(&callee) }
        }));
        twice["edges"] = json!([{ "from": "call", "to": "again" }]);
        m.create(&format!("level-{level}"), &typed(twice), "").unwrap();
    }
    store.loads.lock().unwrap().clear();
    // Saving a new top level walks the whole graph once more.
    m.create("top", &typed(call("level-0")), "").unwrap();
    let loads = store.loads.lock().unwrap().clone();
    println!("diamond of {LEVELS} levels: {} workflows loaded", loads.len());
    assert_eq!(loads.len(), LEVELS + 1, "{loads:?}");
    assert!(loads.values().all(|&n| n == 1), "{loads:?}");
    // A cycle at the bottom is still found, with its chain.
    let bottom = format!("level-{LEVELS}");
    let doc = m.load(&bottom).unwrap();
    let err = m.update(&bottom, &typed(call("level-28")), "", doc.revision).unwrap_err();
    let StoreError::InvalidWorkflow { diagnostics, .. } = &err else {
        panic!("expected InvalidWorkflow, got {err:?}")
    };
    let messages: Vec<&str> = diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(messages, ["workflow call cycle: level-30 -> level-28 -> level-29 -> level-30"]);
}
