//! Shared helpers: sample workflows and stores in fresh schemas of the test database.

use std::sync::Arc;

use pflow_ir::{WorkflowIr, WorkflowName};
use pflow_store::WorkflowManager;
use pflow_store_postgres::PgStore;
use pflow_store_postgres::testing::shared;
use serde_json::json;

/// A valid IR whose content depends on `n`.
pub(crate) fn ir(n: u64) -> WorkflowIr {
    serde_json::from_value(json!({
        "ir_version": "0.1.0",
        "nodes": [{ "id": "a", "type": "shell", "params": { "command": format!("echo {n}") } }]
    }))
    .expect("the sample IR is well-formed")
}

/// A name that is known to be valid.
pub(crate) fn name(s: &str) -> WorkflowName {
    WorkflowName::new(s).expect("test names are valid")
}

/// The URI of a store in a fresh schema (its tables are made on first use).
pub(crate) fn fresh_uri() -> String {
    shared().fresh_store().1
}

/// A manager over a new store instance (a connection of its own, as another process
/// would have) at `uri`.
pub(crate) fn manager(uri: &str) -> WorkflowManager {
    WorkflowManager::new(Arc::new(PgStore::open(uri).expect("the test URI parses")))
}
