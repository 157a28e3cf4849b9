//! The [`WorkflowManager`]: the single owner of a saved workflow's lifecycle, and the one
//! place where the rules every backend shares are enforced.
//!
//! Every operation validates the name before the store is touched. Every write runs
//! inside one [`WorkflowStore::write`] transaction and makes all of its checks there —
//! the expected revision, the callers of a workflow being deleted, the call graph a new
//! revision must not close into a cycle, the size of the stored form, the revision
//! number's limit — before its first write, so a check and the write it guards can never
//! be separated by another process's write.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use pflow_ir::{
    Checked, Diagnostics, Document, NodeCatalog, Timestamp, ValidIr, WorkflowIr, WorkflowName,
    WorkflowSource,
};
use serde_json::Value;

use crate::calls::{self, CallFinding, Identity, Lookup};
use crate::store::time_after;
use crate::{
    Anchor, History, Life, Listing, Location, Origin, Problem, PurgeFilter, StoreError,
    StoreResult, StoredDocument, Transaction, TrashKey, TrashListing, WorkflowStore,
};

/// What [`WorkflowManager::delete`] does with a workflow that other saved workflows call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfCalled {
    /// Refuse with [`StoreError::HasCallers`], naming the callers.
    Refuse,
    /// Delete it anyway (the callers fail until it is restored).
    DeleteAnyway,
}

/// How [`WorkflowManager::save`] treats a workflow of that name that is already saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveMode {
    /// Create it; never replace one that exists ([`StoreError::WorkflowExists`]). Of many
    /// concurrent creators of one name, exactly one succeeds.
    New,
    /// Replace the saved one with a new revision, if its revision is still
    /// `expected_revision`; [`StoreError::WorkflowNotFound`] when there is none.
    Update {
        /// The revision the change is based on.
        expected_revision: u64,
    },
    /// Replace the saved one with a new revision, or create it when there is none.
    ///
    /// With `expected_revision`, only if the saved one is still at that revision: a change
    /// or a delete made meanwhile is a [`StoreError::Conflict`]. Without, the replace is
    /// ordered with every concurrent write like any transaction (it lands before or after
    /// a concurrent delete, never in between).
    Replace {
        /// The revision the change is based on, if the caller read one.
        expected_revision: Option<u64>,
    },
}

/// What a save did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveOutcome {
    /// A new workflow, at revision 1.
    Created,
    /// A new revision of a saved workflow; the one before is kept in its history.
    Updated,
    /// The IR and description were those already saved: nothing was written.
    Unchanged,
}

/// The result of a save or a restore.
#[derive(Debug, Clone, PartialEq)]
pub struct Saved {
    /// What happened.
    pub outcome: SaveOutcome,
    /// The workflow as it is saved now.
    pub document: Document,
    /// Where it lives.
    pub location: Location,
}

/// Finds saved workflows by name for the runtime: the IR, validated, ready to run.
///
/// The runtime asks for nothing else, so it works with any implementation — the
/// [`WorkflowManager`], or a map in a test.
pub trait WorkflowResolver: Send + Sync + std::fmt::Debug {
    /// The saved workflow `name`, validated.
    ///
    /// [`StoreError::WorkflowNotFound`] (with suggestions) when there is none,
    /// [`StoreError::InvalidWorkflow`] when what is saved does not validate.
    fn resolve(&self, name: &WorkflowName) -> StoreResult<ValidIr>;
}

/// Saves, loads, lists, updates and deletes workflows by name, and keeps their history
/// and the trash.
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

    /// The node types workflows are checked against, if any.
    pub fn catalog(&self) -> Option<&NodeCatalog> {
        self.catalog.as_deref()
    }

    // ---- Static checks -------------------------------------------------------------

    /// Every static finding on the workflow in `value` (a bare IR or a stored document):
    /// structure, templates, node types and literal params (with a catalog), the saved
    /// workflows and files it calls, and call cycles through any mix of names, files and
    /// inline children. Paths are relative to `value` (`ir.nodes[0]…` in a document).
    ///
    /// `origin` is where it comes from (what its relative `workflow_ref`s are relative
    /// to); `save_as` the name it is about to be saved under, so that a call back to that
    /// name is a cycle and a relative `workflow_ref` is refused (a saved workflow has no
    /// directory to resolve it against).
    pub fn check(&self, value: &Value, origin: &Origin, save_as: Option<&WorkflowName>) -> Checked {
        let source = WorkflowSource::from_value(value);
        let checked = pflow_ir::validate_value(source.ir, self.catalog());
        self.with_call_findings(checked, origin, save_as).within(source.path_prefix)
    }

    /// [`WorkflowManager::check`] for a typed IR.
    pub fn check_ir(
        &self,
        ir: WorkflowIr,
        origin: &Origin,
        save_as: Option<&WorkflowName>,
    ) -> Checked {
        let checked = pflow_ir::validate_ir(ir, self.catalog());
        self.with_call_findings(checked, origin, save_as)
    }

    /// Loads the saved workflow `name` and makes every static check on it, as
    /// [`WorkflowManager::check`] does for a file: what `pflow run NAME` runs.
    pub fn load_checked(&self, name: &str) -> StoreResult<Checked> {
        let name = WorkflowName::new(name)?;
        let doc = self.store.load(&name).map_err(|e| self.with_suggestions(e))?;
        Ok(self.check_ir(doc.ir, &Origin::Saved(name), None))
    }

    fn with_call_findings(
        &self,
        mut checked: Checked,
        origin: &Origin,
        save_as: Option<&WorkflowName>,
    ) -> Checked {
        if let Some(ir) = checked.ir() {
            let mut lookup = StoreLookup(self.store.as_ref());
            let findings = call_findings(&mut lookup, ir, origin, save_as);
            checked.add(findings.into_iter().map(|(path, f)| f.at(&path)));
        }
        checked
    }

    /// Validates `ir` (structure, and node types with a catalog) without the checks that
    /// read the store; for callers that hold a typed IR and want to save it.
    pub fn validate(&self, name: &WorkflowName, ir: WorkflowIr) -> StoreResult<ValidIr> {
        match pflow_ir::validate_ir(ir, self.catalog()).into_valid() {
            Ok((valid, _warnings)) => Ok(valid),
            Err(diagnostics) => {
                Err(StoreError::InvalidWorkflow { name: name.clone(), diagnostics })
            }
        }
    }

    // ---- Writes ----------------------------------------------------------------------

    /// Saves `ir` under `name` as `mode` says, with `description` (when `None`: the saved
    /// one when replacing, else empty).
    ///
    /// Inside the transaction: the calls `ir` makes are checked against the store as it
    /// is (they must exist and must not close a cycle; a relative `workflow_ref` is
    /// refused), the expected revision is compared, content equal to the saved one
    /// writes nothing, and the stored form must be within [`crate::MAX_DOCUMENT_BYTES`].
    pub fn save(
        &self,
        name: &str,
        ir: &ValidIr,
        description: Option<&str>,
        mode: SaveMode,
    ) -> StoreResult<Saved> {
        let name = WorkflowName::new(name)?;
        let now = Timestamp::now();
        let mut done = None;
        self.store
            .write(&mut |txn| {
                done = Some(save_in(txn, &name, ir, description, mode, now)?);
                Ok(())
            })
            .map_err(|e| self.with_suggestions(e))?;
        let (outcome, document) = done.expect("a successful transaction saved");
        Ok(Saved { outcome, document, location: self.store.locate(&name) })
    }

    /// Validates `ir` and saves it as a new workflow; never replaces an existing one.
    pub fn create(&self, name: &str, ir: &WorkflowIr, description: &str) -> StoreResult<Location> {
        let checked_name = WorkflowName::new(name)?;
        let valid = self.validate(&checked_name, ir.clone())?;
        self.save(name, &valid, Some(description), SaveMode::New).map(|saved| saved.location)
    }

    /// Validates `ir` and replaces the content of a saved workflow if it is still at
    /// `expected_revision`; returns the document as it is saved now (at
    /// `expected_revision` still when the content was the same).
    pub fn update(
        &self,
        name: &str,
        ir: &WorkflowIr,
        description: &str,
        expected_revision: u64,
    ) -> StoreResult<Document> {
        let checked_name = WorkflowName::new(name)?;
        let valid = self.validate(&checked_name, ir.clone())?;
        let mode = SaveMode::Update { expected_revision };
        self.save(name, &valid, Some(description), mode).map(|saved| saved.document)
    }

    /// Moves a saved workflow (or an entry that cannot be read, which is how a damaged
    /// one is removed), with its history, to the trash.
    ///
    /// With [`IfCalled::Refuse`], a workflow that other saved workflows call by
    /// `workflow_name` is not deleted: [`StoreError::HasCallers`] names them, read in the
    /// same transaction as the delete.
    pub fn delete(&self, name: &str, if_called: IfCalled) -> StoreResult<TrashKey> {
        let name = WorkflowName::new(name)?;
        let now = Timestamp::now();
        let mut key = None;
        self.store
            .write(&mut |txn| {
                if !txn.exists(&name)? {
                    return Err(not_found(&name));
                }
                if if_called == IfCalled::Refuse {
                    let callers = callers_in(&txn.list()?, &name);
                    if !callers.is_empty() {
                        return Err(StoreError::HasCallers { name: name.clone(), callers });
                    }
                }
                let newest = txn.trashed(&name)?.iter().map(|t| t.key.deleted_at).max();
                key = Some(txn.delete(&name, time_after(&name, now, newest)?)?);
                Ok(())
            })
            .map_err(|e| self.with_suggestions(e))?;
        Ok(key.expect("a successful transaction deleted"))
    }

    /// What [`WorkflowManager::delete`] with `if_called` would refuse, without deleting:
    /// `WorkflowNotFound` or `HasCallers`. Returns the callers (empty unless
    /// `DeleteAnyway`), for a front end to warn about before it asks for confirmation.
    pub fn check_delete(&self, name: &str, if_called: IfCalled) -> StoreResult<Vec<WorkflowName>> {
        let name = WorkflowName::new(name)?;
        if !self.store.exists(&name)? {
            return Err(self.with_suggestions(not_found(&name)));
        }
        let callers = callers_in(&self.store.list()?, &name);
        if if_called == IfCalled::Refuse && !callers.is_empty() {
            return Err(StoreError::HasCallers { name, callers });
        }
        Ok(callers)
    }

    /// Makes the content of `revision` the newest revision of a saved workflow, as an
    /// update would ([`SaveOutcome::Unchanged`] when it is the current content already).
    ///
    /// The restored IR is validated like any other write (a workflow it calls may have
    /// been deleted since). With `expected_revision`, only if the workflow is still at
    /// that revision.
    pub fn restore_revision(
        &self,
        name: &str,
        revision: u64,
        expected_revision: Option<u64>,
    ) -> StoreResult<Saved> {
        let name = WorkflowName::new(name)?;
        let now = Timestamp::now();
        let mut done = None;
        self.store
            .write(&mut |txn| {
                let Some(current) = txn.load(&name)? else { return Err(not_found(&name)) };
                // A revision that was never kept is not found, whatever the caller expected.
                let wanted = revision_in(txn, &name, &current, revision)?;
                check_expected(&name, expected_revision, Some(&current))?;
                let valid = self.validate(&name, wanted.ir)?;
                check_calls_in(txn, &name, &valid)?;
                done = Some(replace_in(txn, &current, valid.into_ir(), wanted.description, now)?);
                Ok(())
            })
            .map_err(|e| self.with_suggestions(e))?;
        let (outcome, document) = done.expect("a successful transaction restored");
        Ok(Saved { outcome, document, location: self.store.locate(&name) })
    }

    /// Moves the newest readable trash entry of `name` back, with its history.
    ///
    /// It undoes a delete, so its content is not validated again, but it must not close
    /// a call cycle with what was saved since (that would make both unrunnable).
    pub fn restore_trashed(&self, name: &str) -> StoreResult<Document> {
        let name = WorkflowName::new(name)?;
        let mut restored = None;
        self.store
            .write(&mut |txn| {
                if txn.exists(&name)? {
                    return Err(StoreError::WorkflowExists { name: name.clone() });
                }
                let trashed = txn.trashed(&name)?;
                let newest = trashed.into_iter().rev().find_map(|t| Some((t.key, t.document?)));
                let Some((key, doc)) = newest else {
                    return Err(StoreError::NotInTrash { name: name.clone(), suggestions: vec![] });
                };
                let mut lookup = TxnLookup(&mut *txn);
                let cycles: Diagnostics = calls::check_calls(
                    &mut lookup,
                    &doc.ir,
                    vec![Identity::Saved(name.clone())],
                    &Anchor::Saved(name.clone()),
                    None,
                )
                .into_iter()
                .filter(|(_, f)| matches!(f, CallFinding::Cycle(_)))
                .map(|(path, f)| f.at(&path))
                .collect::<Vec<_>>()
                .into();
                if cycles.has_errors() {
                    return Err(StoreError::InvalidWorkflow {
                        name: name.clone(),
                        diagnostics: cycles,
                    });
                }
                txn.restore(&key)?;
                restored = Some(doc);
                Ok(())
            })
            .map_err(|e| self.with_trash_suggestions(e))?;
        Ok(restored.expect("a successful transaction restored"))
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
        let filter = PurgeFilter { name: name.clone(), deleted_before };
        let mut purged = Vec::new();
        self.store
            .write(&mut |txn| {
                purged = txn.purge(&filter)?;
                // Purging a name the trash does not hold is a typo, not "nothing to do".
                if let Some(name) = &name
                    && purged.is_empty()
                    && txn.trashed(name)?.is_empty()
                {
                    return Err(StoreError::NotInTrash { name: name.clone(), suggestions: vec![] });
                }
                Ok(())
            })
            .map_err(|e| self.with_trash_suggestions(e))?;
        Ok(purged)
    }

    // ---- Reads -----------------------------------------------------------------------

    /// The whole stored document.
    pub fn load(&self, name: &str) -> StoreResult<Document> {
        let name = WorkflowName::new(name)?;
        self.store.load(&name).map_err(|e| self.with_suggestions(e))
    }

    /// Only the IR, as it is stored (not validated: see
    /// [`WorkflowManager::load_checked`] and [`WorkflowResolver::resolve`]).
    pub fn load_ir(&self, name: &str) -> StoreResult<WorkflowIr> {
        self.load(name).map(|doc| doc.ir)
    }

    /// Every readable workflow, sorted by name, and every entry that could not be read.
    pub fn list_all(&self) -> StoreResult<Listing> {
        self.store.list()
    }

    /// Whether a workflow of that name is saved (readable or not).
    pub fn exists(&self, name: &str) -> StoreResult<bool> {
        let name = WorkflowName::new(name)?;
        self.store.exists(&name)
    }

    /// The saved workflows that call `name` by `workflow_name`, sorted by name (from the
    /// listing's summaries, so no document is read).
    pub fn callers(&self, name: &str) -> StoreResult<Vec<WorkflowName>> {
        let name = WorkflowName::new(name)?;
        Ok(callers_in(&self.store.list()?, &name))
    }

    /// Every revision of a saved workflow, oldest first, the current one last; see
    /// [`History::summaries`] for what changed between them.
    pub fn history(&self, name: &str) -> StoreResult<History> {
        let name = WorkflowName::new(name)?;
        let current = self.store.load(&name).map_err(|e| self.with_suggestions(e))?;
        let mut history = self.store.kept_revisions(&current)?;
        history.revisions.retain(|d| d.revision < current.revision);
        history.revisions.push(current);
        Ok(history)
    }

    /// One revision of a saved workflow (the current one or one kept in its history).
    pub fn load_revision(&self, name: &str, revision: u64) -> StoreResult<Document> {
        let name = WorkflowName::new(name)?;
        let current = self.store.load(&name).map_err(|e| self.with_suggestions(e))?;
        if revision == current.revision {
            return Ok(current);
        }
        let kept = if revision == 0 || revision > current.revision {
            None
        } else {
            self.store.kept_revision(&current, revision)?
        };
        kept.ok_or_else(|| revision_not_found(&name, revision, &current))
    }

    /// Every workflow in the trash, and every trash entry that could not be read.
    pub fn trash(&self) -> StoreResult<TrashListing> {
        self.store.trash()
    }

    /// Every life the store holds — each live workflow and each readable trash entry —
    /// with its kept revisions, oldest first; entries and revisions that cannot be read
    /// are reported instead. What a copy to another store writes back with
    /// [`Transaction::put_life`].
    pub fn lives(&self) -> StoreResult<(Vec<Life>, Vec<Problem>)> {
        let listing = self.store.list()?;
        let mut problems = listing.problems;
        let mut lives = Vec::with_capacity(listing.workflows.len());
        for summary in listing.workflows {
            let doc = match self.store.load(&summary.name) {
                Ok(doc) => doc,
                // Deleted since the listing.
                Err(StoreError::WorkflowNotFound { .. }) => continue,
                Err(StoreError::Corrupt { location, reason, .. }) => {
                    problems.push(Problem { location, reason });
                    continue;
                }
                Err(e) => return Err(e),
            };
            lives.push(self.life_of(doc, None, &mut problems)?);
        }
        let trash = self.store.trash()?;
        problems.extend(trash.problems);
        let names: BTreeSet<WorkflowName> = trash.entries.into_iter().map(|e| e.name).collect();
        for name in names {
            for trashed in self.store.trashed(&name)? {
                // An unreadable entry is among the trash listing's problems already.
                let Some(doc) = trashed.document else { continue };
                lives.push(self.life_of(doc, Some(trashed.key.deleted_at), &mut problems)?);
            }
        }
        Ok((lives, problems))
    }

    /// The life whose current (or trashed) document is `doc`.
    fn life_of(
        &self,
        doc: Document,
        deleted_at: Option<Timestamp>,
        problems: &mut Vec<Problem>,
    ) -> StoreResult<Life> {
        let kept = self.store.kept_revisions(&doc)?;
        problems.extend(kept.problems);
        let mut revisions = kept.revisions;
        revisions.retain(|d| d.revision < doc.revision);
        revisions.push(doc);
        Ok(Life { revisions, deleted_at })
    }

    /// Where a workflow lives (or would live), for people.
    pub fn locate(&self, name: &str) -> StoreResult<Location> {
        let name = WorkflowName::new(name)?;
        Ok(self.store.locate(&name))
    }

    /// Where a saved workflow lives; `WorkflowNotFound` (with suggestions) when nothing is
    /// stored under `name`. An entry that cannot be read counts as saved: knowing where it
    /// is, is how a person repairs it.
    pub fn locate_saved(&self, name: &str) -> StoreResult<Location> {
        let name = WorkflowName::new(name)?;
        if !self.store.exists(&name)? {
            return Err(self.with_suggestions(not_found(&name)));
        }
        Ok(self.store.locate(&name))
    }

    /// Fills in close existing names for a `WorkflowNotFound`.
    pub(crate) fn with_suggestions(&self, error: StoreError) -> StoreError {
        match error {
            StoreError::WorkflowNotFound { name, suggestions } if suggestions.is_empty() => {
                let listing = self.store.list().unwrap_or_default();
                let names = listing.workflows.iter().map(|s| s.name.as_str());
                StoreError::WorkflowNotFound { suggestions: closest(&name, names), name }
            }
            other => other,
        }
    }

    /// Fills in close trashed names for a `NotInTrash`.
    fn with_trash_suggestions(&self, error: StoreError) -> StoreError {
        match error {
            StoreError::NotInTrash { name, suggestions } if suggestions.is_empty() => {
                let listing = self.store.trash().unwrap_or_default();
                let names = listing.entries.iter().map(|e| e.name.as_str());
                StoreError::NotInTrash { suggestions: closest(&name, names), name }
            }
            other => other,
        }
    }
}

impl WorkflowResolver for WorkflowManager {
    fn resolve(&self, name: &WorkflowName) -> StoreResult<ValidIr> {
        let doc = self.store.load(name).map_err(|e| self.with_suggestions(e))?;
        self.validate(name, doc.ir)
    }
}

/// The body of [`WorkflowManager::save`], inside its transaction (an import's writes too).
pub(crate) fn save_in(
    txn: &mut dyn Transaction,
    name: &WorkflowName,
    ir: &ValidIr,
    description: Option<&str>,
    mode: SaveMode,
    now: Timestamp,
) -> StoreResult<(SaveOutcome, Document)> {
    if mode == SaveMode::New && txn.exists(name)? {
        return Err(StoreError::WorkflowExists { name: name.clone() });
    }
    let current = txn.load(name)?;
    match (mode, &current) {
        (SaveMode::Update { .. }, None) => return Err(not_found(name)),
        (SaveMode::Update { expected_revision }, Some(_)) => {
            check_expected(name, Some(expected_revision), current.as_ref())?;
        }
        (SaveMode::Replace { expected_revision }, _) => {
            check_expected(name, expected_revision, current.as_ref())?;
        }
        (SaveMode::New, _) => {}
    }
    check_calls_in(txn, name, ir)?;
    match current {
        Some(current) => {
            let description =
                description.map_or_else(|| current.description.clone(), str::to_owned);
            replace_in(txn, &current, ir.ir().clone(), description, now)
        }
        None => {
            // The creation time names this life of the workflow (its history is kept
            // under it): it must differ from that of every earlier life still in the trash.
            let trashed = txn.trashed(name)?;
            let newest =
                trashed.iter().filter_map(|t| t.document.as_ref()).map(|d| d.created_at).max();
            let created = time_after(name, now, newest)?;
            let doc = Document::new(
                name.clone(),
                description.unwrap_or("").to_owned(),
                ir.ir().clone(),
                created,
            );
            let stored = StoredDocument::new(doc)?;
            txn.create(&stored)?;
            Ok((SaveOutcome::Created, stored.into_document()))
        }
    }
}

/// Replaces `current` with new content, unless it is the same (then nothing is written).
fn replace_in(
    txn: &mut dyn Transaction,
    current: &Document,
    ir: WorkflowIr,
    description: String,
    now: Timestamp,
) -> StoreResult<(SaveOutcome, Document)> {
    if ir == current.ir && description == current.description {
        return Ok((SaveOutcome::Unchanged, current.clone()));
    }
    let next = current.next_revision(ir, description, now).ok_or_else(|| {
        StoreError::RevisionLimit { name: current.name.clone(), revision: current.revision }
    })?;
    let stored = StoredDocument::new(next)?;
    txn.replace(current, &stored)?;
    Ok((SaveOutcome::Updated, stored.into_document()))
}

/// Revision `revision` of `name`, whose current document is `current`, in a transaction.
fn revision_in(
    txn: &mut dyn Transaction,
    name: &WorkflowName,
    current: &Document,
    revision: u64,
) -> StoreResult<Document> {
    if revision == current.revision {
        return Ok(current.clone());
    }
    let kept = if revision == 0 || revision > current.revision {
        None
    } else {
        txn.kept_revision(current, revision)?
    };
    kept.ok_or_else(|| revision_not_found(name, revision, current))
}

/// Fails with `InvalidWorkflow` when the calls `ir` makes, as the store is inside the
/// transaction, have any finding (a missing callee, a cycle, a relative reference).
fn check_calls_in(txn: &mut dyn Transaction, name: &WorkflowName, ir: &ValidIr) -> StoreResult<()> {
    let mut lookup = TxnLookup(txn);
    let findings = call_findings(&mut lookup, ir, &Origin::Saved(name.clone()), Some(name));
    if findings.is_empty() {
        return Ok(());
    }
    let diagnostics: Vec<_> = findings.into_iter().map(|(path, f)| f.at(&path)).collect();
    Err(StoreError::InvalidWorkflow { name: name.clone(), diagnostics: diagnostics.into() })
}

/// The call findings of `ir` from `origin`, to be saved as `save_as` if given.
pub(crate) fn call_findings(
    lookup: &mut dyn Lookup,
    ir: &WorkflowIr,
    origin: &Origin,
    save_as: Option<&WorkflowName>,
) -> Vec<(String, CallFinding)> {
    // The first root names the workflow in cycle chains: its file or saved name, else the
    // name it is being saved under.
    let mut roots = Vec::new();
    let identity = origin.identity();
    if !matches!(identity, Identity::Inline) {
        roots.push(identity);
    }
    if let Some(name) = save_as {
        let saved = Identity::Saved(name.clone());
        if !roots.iter().any(|r| r.same(&saved)) {
            roots.push(saved);
        }
    }
    calls::check_calls(lookup, ir, roots, &origin.anchor(), save_as)
}

/// Fails with `Conflict` unless `current` is at `expected` (when one is given).
fn check_expected(
    name: &WorkflowName,
    expected: Option<u64>,
    current: Option<&Document>,
) -> StoreResult<()> {
    match (expected, current) {
        (Some(expected), current) if current.map(|c| c.revision) != Some(expected) => {
            Err(StoreError::Conflict {
                name: name.clone(),
                expected,
                actual: current.map(|c| c.revision),
            })
        }
        _ => Ok(()),
    }
}

/// The workflows in `listing` that call `name`, sorted by name.
fn callers_in(listing: &Listing, name: &WorkflowName) -> Vec<WorkflowName> {
    listing
        .workflows
        .iter()
        .filter(|s| s.name != *name && s.calls.iter().any(|c| c == name.as_str()))
        .map(|s| s.name.clone())
        .collect()
}

fn closest<'a>(name: &WorkflowName, names: impl IntoIterator<Item = &'a str>) -> Vec<WorkflowName> {
    pflow_ir::closest(name.as_str(), names)
        .into_iter()
        .filter_map(|s| WorkflowName::new(s).ok())
        .collect()
}

fn not_found(name: &WorkflowName) -> StoreError {
    StoreError::WorkflowNotFound { name: name.clone(), suggestions: Vec::new() }
}

fn revision_not_found(name: &WorkflowName, revision: u64, current: &Document) -> StoreError {
    StoreError::RevisionNotFound { name: name.clone(), revision, current: current.revision }
}

/// Saved workflows read through the store, for checks outside a transaction.
struct StoreLookup<'s>(&'s dyn WorkflowStore);

impl Lookup for StoreLookup<'_> {
    fn saved(&mut self, name: &WorkflowName) -> StoreResult<Option<WorkflowIr>> {
        match self.0.load(name) {
            Ok(doc) => Ok(Some(doc.ir)),
            Err(StoreError::WorkflowNotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn names(&mut self) -> Vec<WorkflowName> {
        let listing = self.0.list().unwrap_or_default();
        listing.workflows.into_iter().map(|s| s.name).collect()
    }
}

/// Saved workflows read through a transaction, for the checks a write makes.
struct TxnLookup<'t>(&'t mut dyn Transaction);

impl Lookup for TxnLookup<'_> {
    fn saved(&mut self, name: &WorkflowName) -> StoreResult<Option<WorkflowIr>> {
        Ok(self.0.load(name)?.map(|doc| doc.ir))
    }

    fn names(&mut self) -> Vec<WorkflowName> {
        let listing = self.0.list().unwrap_or_default();
        listing.workflows.into_iter().map(|s| s.name).collect()
    }
}
