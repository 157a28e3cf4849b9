//! Following calls between saved workflows: a memoised walk of a large call graph, read
//! through the transaction of the save that checks it. (The backend-neutral cases about
//! calls — cycles, inline children, callers — are in `pflow_store::testing`.)

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};

use pflow_ir::{Document, Timestamp, WorkflowIr, WorkflowName};
use pflow_store::{
    History, Listed, Listing, Location, MemoryStore, Placed, PurgeFilter, StoreError, StoreResult,
    StoredDocument, Transaction, TrashKey, TrashListing, Trashed, WorkflowManager, WorkflowStore,
};
use serde_json::{Value, json};

use crate::common::ir;

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

/// How often each workflow was read, outside transactions and inside them.
type Loads = Arc<Mutex<HashMap<String, usize>>>;

fn count(loads: &Loads, name: &WorkflowName) {
    *loads.lock().unwrap().entry(name.to_string()).or_default() += 1;
}

/// A store that counts how often each saved workflow is loaded (a load that finds nothing
/// reads no workflow, and is not counted).
#[derive(Debug, Default)]
struct Counting {
    inner: MemoryStore,
    loads: Loads,
}

impl WorkflowStore for Counting {
    fn load(&self, name: &WorkflowName) -> StoreResult<Document> {
        let doc = self.inner.load(name)?;
        count(&self.loads, name);
        Ok(doc)
    }
    fn visit(&self, visit: &mut dyn FnMut(Listed) -> ControlFlow<()>) -> StoreResult<()> {
        self.inner.visit(visit)
    }
    fn list(&self) -> StoreResult<Listing> {
        self.inner.list()
    }
    fn exists(&self, name: &WorkflowName) -> StoreResult<bool> {
        self.inner.exists(name)
    }
    fn kept_revisions(&self, current: &Document) -> StoreResult<History> {
        self.inner.kept_revisions(current)
    }
    fn kept_revision(&self, current: &Document, revision: u64) -> StoreResult<Option<Document>> {
        self.inner.kept_revision(current, revision)
    }
    fn trash(&self) -> StoreResult<TrashListing> {
        self.inner.trash()
    }
    fn trashed(&self, name: &WorkflowName) -> StoreResult<Vec<Trashed>> {
        self.inner.trashed(name)
    }
    fn locate(&self, name: &WorkflowName) -> Location {
        self.inner.locate(name)
    }
    fn write(
        &self,
        work: &mut dyn FnMut(&mut dyn Transaction) -> StoreResult<()>,
    ) -> StoreResult<()> {
        self.inner.write(&mut |txn| work(&mut CountingTxn { inner: txn, loads: &self.loads }))
    }
}

/// A transaction of [`Counting`]: counts its loads too.
struct CountingTxn<'t> {
    inner: &'t mut dyn Transaction,
    loads: &'t Loads,
}

impl Transaction for CountingTxn<'_> {
    fn load(&mut self, name: &WorkflowName) -> StoreResult<Option<Document>> {
        let doc = self.inner.load(name)?;
        if doc.is_some() {
            count(self.loads, name);
        }
        Ok(doc)
    }
    fn exists(&mut self, name: &WorkflowName) -> StoreResult<bool> {
        self.inner.exists(name)
    }
    fn kept_revision(
        &mut self,
        current: &Document,
        revision: u64,
    ) -> StoreResult<Option<Document>> {
        self.inner.kept_revision(current, revision)
    }
    fn list(&mut self) -> StoreResult<Listing> {
        self.inner.list()
    }
    fn trashed(&mut self, name: &WorkflowName) -> StoreResult<Vec<Trashed>> {
        self.inner.trashed(name)
    }
    fn create(&mut self, doc: &StoredDocument) -> StoreResult<()> {
        self.inner.create(doc)
    }
    fn replace(&mut self, current: &Document, next: &StoredDocument) -> StoreResult<()> {
        self.inner.replace(current, next)
    }
    fn delete(&mut self, name: &WorkflowName, deleted_at: Timestamp) -> StoreResult<TrashKey> {
        self.inner.delete(name, deleted_at)
    }
    fn restore(&mut self, key: &TrashKey) -> StoreResult<()> {
        self.inner.restore(key)
    }
    fn purge(&mut self, filter: &PurgeFilter) -> StoreResult<Vec<TrashKey>> {
        self.inner.purge(filter)
    }
    fn put_life(
        &mut self,
        revisions: &[StoredDocument],
        deleted_at: Option<Timestamp>,
    ) -> StoreResult<Placed> {
        self.inner.put_life(revisions, deleted_at)
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
    // Saving a new top level walks the whole graph once more, inside its transaction.
    m.create("top", &typed(call("level-0")), "").unwrap();
    let loads = store.loads.lock().unwrap().clone();
    println!("diamond of {LEVELS} levels: {} workflows loaded", loads.len());
    assert_eq!(loads.len(), LEVELS + 1, "{loads:?}");
    assert!(loads.values().all(|&n| n == 1), "{loads:?}");
    // The static check a person asks for (outside any transaction) is memoised the same.
    store.loads.lock().unwrap().clear();
    let checked = m.check_ir(
        typed(call("level-0")),
        &pflow_store::Origin::Inline,
        Some(&WorkflowName::new("top-2").unwrap()),
    );
    assert!(!checked.diagnostics().has_errors(), "{:?}", checked.diagnostics());
    let loads = store.loads.lock().unwrap().clone();
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
