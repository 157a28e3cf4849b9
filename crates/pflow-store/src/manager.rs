//! The WorkflowManager: the single owner of a saved workflow's lifecycle.

use std::sync::Arc;

use pflow_ir::{
    Diagnostic, Diagnostics, Document, NodeCatalog, Timestamp, WorkflowIr, WorkflowName,
};

use crate::{Change, Listing, Location, StoreError, StoreResult, WorkflowStore};

/// Saves, loads, lists, updates and deletes workflows by name.
///
/// Every operation validates the name before the store is touched, and every write
/// validates the IR (structure, node types when a catalog is given, and the saved
/// workflows it calls) before anything is written.
#[derive(Debug, Clone)]
pub struct WorkflowManager {
    store: Arc<dyn WorkflowStore>,
    catalog: Option<Arc<NodeCatalog>>,
}

impl WorkflowManager {
    /// A manager over `store` that checks structure but not node types.
    pub fn new(store: Arc<dyn WorkflowStore>) -> WorkflowManager {
        WorkflowManager { store, catalog: None }
    }

    /// The same manager, also checking node types and params against `catalog`.
    pub fn with_catalog(mut self, catalog: Arc<NodeCatalog>) -> WorkflowManager {
        self.catalog = Some(catalog);
        self
    }

    /// The backend, for callers that need a capability the manager does not wrap.
    pub fn store(&self) -> &Arc<dyn WorkflowStore> {
        &self.store
    }

    /// Saves a new workflow; never replaces an existing one.
    pub fn save(&self, name: &str, ir: &WorkflowIr, description: &str) -> StoreResult<Location> {
        let name = WorkflowName::new(name)?;
        self.check(&name, ir)?;
        let doc = Document::new(name, description.to_owned(), ir.clone(), Timestamp::now());
        self.store.create(&doc)
    }

    /// The whole stored document.
    pub fn load(&self, name: &str) -> StoreResult<Document> {
        let name = WorkflowName::new(name)?;
        self.store.load(&name).map_err(|e| self.with_suggestions(e))
    }

    /// Only the IR: what the runtime executes.
    pub fn load_ir(&self, name: &str) -> StoreResult<WorkflowIr> {
        self.load(name).map(|doc| doc.ir)
    }

    /// Every readable workflow, sorted by name, and every entry that could not be read.
    pub fn list_all(&self) -> StoreResult<Listing> {
        self.store.list()
    }

    /// Whether a workflow of that name is saved.
    pub fn exists(&self, name: &str) -> StoreResult<bool> {
        let name = WorkflowName::new(name)?;
        self.store.exists(&name)
    }

    /// Replaces the content of a saved workflow if it is still at `expected_revision`.
    pub fn update(
        &self,
        name: &str,
        ir: &WorkflowIr,
        description: &str,
        expected_revision: u64,
    ) -> StoreResult<Document> {
        let name = WorkflowName::new(name)?;
        self.check(&name, ir)?;
        let change =
            Change { ir: ir.clone(), description: description.to_owned(), now: Timestamp::now() };
        self.store.update(&name, expected_revision, change).map_err(|e| self.with_suggestions(e))
    }

    /// Deletes a saved workflow.
    pub fn delete(&self, name: &str) -> StoreResult<()> {
        let name = WorkflowName::new(name)?;
        self.store.delete(&name).map_err(|e| self.with_suggestions(e))
    }

    /// Where a workflow lives (or would live), for people.
    pub fn locate(&self, name: &str) -> StoreResult<Location> {
        let name = WorkflowName::new(name)?;
        Ok(self.store.locate(&name))
    }

    /// Checks the saved workflows `ir` calls by `workflow_name`: each must exist, and
    /// following the calls from `name` must never come back to `name` or loop elsewhere.
    ///
    /// Findings point at the calling node's `workflow_name` param; a cycle prints its
    /// chain (`a -> b -> a`).
    pub fn check_calls(&self, name: Option<&WorkflowName>, ir: &WorkflowIr) -> Diagnostics {
        let mut diagnostics = Diagnostics::new();
        let root = name.map(WorkflowName::as_str).unwrap_or("(this workflow)");
        for (index, node) in ir.nodes.iter().enumerate() {
            let Some(callee) = called_name(node) else { continue };
            let path = format!("nodes[{index}].params.workflow_name");
            let mut chain = vec![root.to_owned()];
            if let Err(finding) = self.follow(callee, name, &mut chain) {
                diagnostics.push(finding.at(path));
            }
        }
        diagnostics
    }

    /// Depth-first walk of the call graph from `callee`, with `chain` the names above it.
    fn follow(
        &self,
        callee: &str,
        root: Option<&WorkflowName>,
        chain: &mut Vec<String>,
    ) -> Result<(), Finding> {
        if root.is_some_and(|r| r.as_str() == callee) || chain[1..].iter().any(|c| c == callee) {
            chain.push(callee.to_owned());
            return Err(Finding::Cycle(chain.join(" -> ")));
        }
        let ir = match self.load_ir(callee) {
            Ok(ir) => ir,
            Err(StoreError::WorkflowNotFound { suggestions, .. }) if chain.len() == 1 => {
                return Err(Finding::Missing(callee.to_owned(), suggestions));
            }
            Err(StoreError::InvalidName(e)) if chain.len() == 1 => {
                return Err(Finding::Other(e.to_string()));
            }
            // Problems deeper in the graph belong to the workflow that has them; they were
            // reported when it was saved and will be reported again when it runs.
            Err(_) => return Ok(()),
        };
        chain.push(callee.to_owned());
        for node in &ir.nodes {
            if let Some(next) = called_name(node) {
                self.follow(next, root, chain)?;
            }
        }
        chain.pop();
        Ok(())
    }

    /// Validates `ir` for saving under `name`.
    fn check(&self, name: &WorkflowName, ir: &WorkflowIr) -> StoreResult<()> {
        let mut diagnostics = pflow_ir::validate_ir(ir, self.catalog.as_deref());
        diagnostics.extend(self.check_calls(Some(name), ir));
        if diagnostics.has_errors() {
            return Err(StoreError::InvalidWorkflow { name: name.clone(), diagnostics });
        }
        Ok(())
    }

    /// Fills in close existing names for a `WorkflowNotFound` from the backend.
    fn with_suggestions(&self, error: StoreError) -> StoreError {
        match error {
            StoreError::WorkflowNotFound { name, suggestions } if suggestions.is_empty() => {
                let listing = self.store.list().unwrap_or_default();
                let suggestions = pflow_ir::closest(
                    name.as_str(),
                    listing.workflows.iter().map(|s| s.name.as_str()),
                )
                .into_iter()
                .filter_map(|s| WorkflowName::new(s).ok())
                .collect();
                StoreError::WorkflowNotFound { name, suggestions }
            }
            other => other,
        }
    }
}

/// The `workflow_name` a node calls, if it is a nested workflow node that names one.
fn called_name(node: &pflow_ir::Node) -> Option<&str> {
    (node.ty == "workflow").then(|| node.params.get("workflow_name")?.as_str()).flatten()
}

/// A problem found while following calls.
enum Finding {
    Cycle(String),
    Missing(String, Vec<WorkflowName>),
    Other(String),
}

impl Finding {
    fn at(self, path: String) -> Diagnostic {
        match self {
            Finding::Cycle(chain) => {
                Diagnostic::error(path, format!("workflow call cycle: {chain}"))
                    .with_hint("a workflow cannot call itself, directly or through others")
            }
            Finding::Missing(name, suggestions) => {
                let d = Diagnostic::error(path, format!("saved workflow `{name}` not found"));
                match suggestions.first() {
                    Some(s) => d.with_hint(format!("did you mean `{s}`?")),
                    None => d.with_hint(format!("save `{name}` first, or fix the name")),
                }
            }
            Finding::Other(message) => Diagnostic::error(path, message),
        }
    }
}
