//! The WorkflowManager: the single owner of a saved workflow's lifecycle.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use pflow_ir::{
    Diagnostic, Diagnostics, Document, NodeCatalog, Timestamp, WorkflowIr, WorkflowName,
};

use crate::{
    Change, History, Listing, Location, PurgeFilter, StoreError, StoreResult, TrashKey,
    TrashListing, WorkflowStore,
};

/// What [`WorkflowManager::delete`] does with a workflow that other saved workflows call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfCalled {
    /// Refuse with [`StoreError::HasCallers`], naming the callers.
    Refuse,
    /// Delete it anyway (the callers fail until it is restored).
    DeleteAnyway,
}

/// Saves, loads, lists, updates and deletes workflows by name, and keeps their history
/// and the trash.
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

    /// Moves a saved workflow, with its history, to the trash.
    ///
    /// With [`IfCalled::Refuse`], a workflow that other saved workflows call by
    /// `workflow_name` is not deleted: [`StoreError::HasCallers`] names them. The check
    /// reads the listing just before the delete; a caller saved in between is not seen.
    pub fn delete(&self, name: &str, if_called: IfCalled) -> StoreResult<TrashKey> {
        let name = WorkflowName::new(name)?;
        if if_called == IfCalled::Refuse {
            let callers = self.callers_of(&name)?;
            if !callers.is_empty() {
                return Err(StoreError::HasCallers { name, callers });
            }
        }
        self.store.delete(&name, Timestamp::now()).map_err(|e| self.with_suggestions(e))
    }

    /// The saved workflows that call `name` by `workflow_name`, sorted by name (from the
    /// listing's summaries, so no document is read).
    pub fn callers(&self, name: &str) -> StoreResult<Vec<WorkflowName>> {
        let name = WorkflowName::new(name)?;
        self.callers_of(&name)
    }

    fn callers_of(&self, name: &WorkflowName) -> StoreResult<Vec<WorkflowName>> {
        let listing = self.store.list()?;
        Ok(listing
            .workflows
            .into_iter()
            .filter(|s| s.name != *name && s.calls.iter().any(|c| c == name.as_str()))
            .map(|s| s.name)
            .collect())
    }

    /// Every revision of a saved workflow, oldest first, the current one last; see
    /// [`History::summaries`] for what changed between them.
    pub fn history(&self, name: &str) -> StoreResult<History> {
        let name = WorkflowName::new(name)?;
        self.store.history(&name).map_err(|e| self.with_suggestions(e))
    }

    /// One revision of a saved workflow (the current one or one kept in its history).
    pub fn load_revision(&self, name: &str, revision: u64) -> StoreResult<Document> {
        let name = WorkflowName::new(name)?;
        self.store.load_revision(&name, revision).map_err(|e| self.with_suggestions(e))
    }

    /// Makes the content of `revision` the newest revision of a saved workflow; returns
    /// the current document afterwards (unchanged, with the same revision, when the
    /// content was already the current one).
    ///
    /// The restored IR is validated like any other write (a workflow it calls may have
    /// been deleted since). Without `expected_revision`, the revision current when the
    /// content was validated is expected, so a concurrent change is a conflict.
    pub fn restore_revision(
        &self,
        name: &str,
        revision: u64,
        expected_revision: Option<u64>,
    ) -> StoreResult<Document> {
        let name = WorkflowName::new(name)?;
        let current = self.store.load(&name).map_err(|e| self.with_suggestions(e))?;
        let wanted = self.store.load_revision(&name, revision)?;
        self.check(&name, &wanted.ir)?;
        let expected = expected_revision.or(Some(current.revision));
        self.store.restore_revision(&name, revision, expected, Timestamp::now())
    }

    /// Every workflow in the trash, and every trash entry that could not be read.
    pub fn trash(&self) -> StoreResult<TrashListing> {
        self.store.trash()
    }

    /// Moves the newest trash entry of `name` back, with its history. Not validated: it
    /// undoes a delete and writes no new content.
    pub fn restore_trashed(&self, name: &str) -> StoreResult<Document> {
        let name = WorkflowName::new(name)?;
        self.store.restore_trashed(&name).map_err(|e| self.with_trash_suggestions(e))
    }

    /// Deletes for good the trash entries of `name` (all names when `None`) that were
    /// deleted more than `older_than` ago (whenever, when `None`), with their history;
    /// returns which, sorted. Fails with [`StoreError::NotInTrash`] when `name` is given
    /// and the trash holds no entry of that name at all.
    pub fn purge(
        &self,
        name: Option<&str>,
        older_than: Option<Duration>,
    ) -> StoreResult<Vec<TrashKey>> {
        let name = name.map(WorkflowName::new).transpose()?;
        let deleted_before = match older_than {
            None => None,
            Some(age) => {
                let cutoff = time::Duration::try_from(age)
                    .ok()
                    .and_then(|age| Timestamp::now().datetime().checked_sub(age));
                // Older than any representable date: nothing is that old.
                let Some(cutoff) = cutoff else { return Ok(Vec::new()) };
                Some(Timestamp::from_datetime(cutoff))
            }
        };
        let purged = self.store.purge(&PurgeFilter { name: name.clone(), deleted_before })?;
        // Purging a name the trash does not hold is a typo, not "nothing to do".
        if let Some(name) = name
            && purged.is_empty()
            && !self.store.trash()?.entries.iter().any(|e| e.name == name)
        {
            let error = StoreError::NotInTrash { name, suggestions: Vec::new() };
            return Err(self.with_trash_suggestions(error));
        }
        Ok(purged)
    }

    /// Where a workflow lives (or would live), for people.
    pub fn locate(&self, name: &str) -> StoreResult<Location> {
        let name = WorkflowName::new(name)?;
        Ok(self.store.locate(&name))
    }

    /// Checks the saved workflows `ir` calls by `workflow_name`, inline `workflow_ir`s
    /// included: each must exist, and following the calls from `name` must never come back
    /// to `name` or loop elsewhere.
    ///
    /// Findings point at the calling node's `workflow_name` param; a cycle prints its
    /// chain (`a -> b -> a`, with `(inline)` for each inline `workflow_ir` passed through:
    /// `a -> (inline) -> b -> a`). Each saved workflow is loaded at most once per check.
    pub fn check_calls(&self, name: Option<&WorkflowName>, ir: &WorkflowIr) -> Diagnostics {
        let mut diagnostics = Diagnostics::new();
        let root = name.map(WorkflowName::as_str).unwrap_or("(this workflow)");
        let mut walk = CallWalk { manager: self, root: name, done: HashSet::new() };
        for call in pflow_ir::workflow_call_sites(ir) {
            let mut chain = vec![root.to_owned()];
            chain.extend(std::iter::repeat_n(INLINE.to_owned(), call.inline_depth));
            if let Err(finding) = walk.follow(&call.name, &mut chain, true) {
                diagnostics.push(finding.at(call.path));
            }
        }
        diagnostics
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

    /// Fills in close trashed names for a `NotInTrash` from the backend.
    fn with_trash_suggestions(&self, error: StoreError) -> StoreError {
        match error {
            StoreError::NotInTrash { name, suggestions } if suggestions.is_empty() => {
                let listing = self.store.trash().unwrap_or_default();
                let suggestions = pflow_ir::closest(
                    name.as_str(),
                    listing.entries.iter().map(|e| e.name.as_str()),
                )
                .into_iter()
                .filter_map(|s| WorkflowName::new(s).ok())
                .collect();
                StoreError::NotInTrash { name, suggestions }
            }
            other => other,
        }
    }
}

/// How a cycle chain shows a step through an inline `workflow_ir`.
const INLINE: &str = "(inline)";

/// One walk of the call graph, remembering the workflows already fully explored.
struct CallWalk<'m> {
    manager: &'m WorkflowManager,
    /// The workflow being saved, if it has a name: calling it is a cycle.
    root: Option<&'m WorkflowName>,
    /// Workflows whose calls were all followed without a finding: nothing below them can
    /// loop (a loop through one would have been found then), so they are not loaded again.
    done: HashSet<String>,
}

impl CallWalk<'_> {
    /// Depth-first walk of the call graph from `callee`, with `chain` the names above it;
    /// `direct` when the IR being checked calls `callee` itself.
    fn follow(
        &mut self,
        callee: &str,
        chain: &mut Vec<String>,
        direct: bool,
    ) -> Result<(), Finding> {
        if self.root.is_some_and(|r| r.as_str() == callee) || chain[1..].iter().any(|c| c == callee)
        {
            chain.push(callee.to_owned());
            return Err(Finding::Cycle(chain.join(" -> ")));
        }
        if self.done.contains(callee) {
            return Ok(());
        }
        let ir = match self.manager.load_ir(callee) {
            Ok(ir) => ir,
            Err(StoreError::WorkflowNotFound { suggestions, .. }) if direct => {
                return Err(Finding::Missing(callee.to_owned(), suggestions));
            }
            Err(StoreError::InvalidName(e)) if direct => {
                return Err(Finding::Other(e.to_string()));
            }
            // Problems deeper in the graph belong to the workflow that has them; they were
            // reported when it was saved and will be reported again when it runs.
            Err(_) => return Ok(()),
        };
        let depth = chain.len();
        chain.push(callee.to_owned());
        for call in pflow_ir::workflow_call_sites(&ir) {
            chain.extend(std::iter::repeat_n(INLINE.to_owned(), call.inline_depth));
            self.follow(&call.name, chain, false)?;
            chain.truncate(depth + 1);
        }
        chain.truncate(depth);
        self.done.insert(callee.to_owned());
        Ok(())
    }
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
