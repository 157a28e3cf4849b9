//! The in-memory store: the storage primitives without IO.
//!
//! It is the test double and the reference backend the conformance suite and the
//! state-machine tests hold the filesystem store to. A transaction works on a copy of the
//! state, swapped in when it succeeds, so a failed one changes nothing.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::{Mutex, MutexGuard};

use pflow_ir::{Document, Timestamp, WorkflowName};

use crate::{
    History, Listed, Listing, Location, Placed, Problem, PurgeFilter, StoreError, StoreResult,
    StoredDocument, Summary, Transaction, TrashEntry, TrashKey, TrashListing, Trashed,
    WorkflowStore,
};

/// A store that keeps documents, their history and the trash in maps guarded by one
/// mutex.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

#[derive(Debug, Default, Clone)]
struct State {
    live: BTreeMap<WorkflowName, Stored>,
    /// In deletion order.
    trash: Vec<(TrashKey, Stored)>,
}

/// One workflow: its current entry and the revisions before it, oldest first.
#[derive(Debug, Clone)]
struct Stored {
    entry: Entry,
    history: Vec<Document>,
}

#[derive(Debug, Clone)]
enum Entry {
    Good(Box<Document>),
    Corrupt(String),
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Plants an entry that cannot be read, as a damaged file would be in the filesystem
    /// store; for tests of how callers cope with corruption. Its history becomes
    /// unreachable, as the filesystem store's does when a file is damaged by hand.
    pub fn plant_corrupt(&self, name: &WorkflowName, reason: &str) {
        let stored = Stored { entry: Entry::Corrupt(reason.to_owned()), history: Vec::new() };
        self.lock().live.insert(name.clone(), stored);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-changed: a
        // transaction changes a copy, swapped in only when it succeeded.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    /// The current document of `name`: `None` when absent, `Corrupt` when unreadable.
    fn load(&self, name: &WorkflowName) -> StoreResult<Option<&Document>> {
        match self.live.get(name).map(|s| &s.entry) {
            Some(Entry::Good(doc)) => Ok(Some(doc)),
            Some(Entry::Corrupt(reason)) => Err(StoreError::Corrupt {
                location: location(name).0,
                reason: reason.clone(),
                workflow: Some(name.clone()),
            }),
            None => Ok(None),
        }
    }

    /// The history of the life `current` belongs to (live or in the trash).
    fn history_of(&self, current: &Document) -> &[Document] {
        let same_life = |stored: &&Stored| matches!(&stored.entry, Entry::Good(doc) if doc.created_at == current.created_at);
        self.live
            .get(&current.name)
            .filter(same_life)
            .or_else(|| {
                self.trash
                    .iter()
                    .filter(|(k, _)| k.name == current.name)
                    .map(|(_, s)| s)
                    .find(same_life)
            })
            .map_or(&[], |stored| stored.history.as_slice())
    }

    fn kept_revision(&self, current: &Document, revision: u64) -> Option<Document> {
        let kept = self.history_of(current).iter().find(|d| d.revision == revision);
        kept.filter(|_| revision < current.revision).cloned()
    }

    /// The trash entries of `name`, oldest first.
    fn trashed(&self, name: &WorkflowName) -> Vec<Trashed> {
        let mut trashed: Vec<Trashed> = self
            .trash
            .iter()
            .filter(|(key, _)| key.name == *name)
            .map(|(key, stored)| Trashed {
                key: key.clone(),
                document: match &stored.entry {
                    Entry::Good(doc) => Some((**doc).clone()),
                    Entry::Corrupt(_) => None,
                },
            })
            .collect();
        trashed.sort_by_key(|t| t.key.deleted_at);
        trashed
    }

    /// The first free trash key of `name` at or after `deleted_at`.
    fn free_key(&self, name: &WorkflowName, deleted_at: Timestamp) -> StoreResult<TrashKey> {
        let taken = |at| self.trash.iter().any(|(k, _)| k.name == *name && k.deleted_at == at);
        let deleted_at = crate::free_time(name, deleted_at, taken)?;
        Ok(TrashKey { name: name.clone(), deleted_at })
    }

    fn list(&self) -> Listing {
        let mut listing = Listing::default();
        for (name, stored) in &self.live {
            match &stored.entry {
                Entry::Good(doc) => listing.workflows.push(Summary::of(doc)),
                Entry::Corrupt(reason) => listing
                    .problems
                    .push(Problem { location: location(name).0, reason: reason.clone() }),
            }
        }
        listing
    }
}

impl WorkflowStore for MemoryStore {
    fn load(&self, name: &WorkflowName) -> StoreResult<Document> {
        self.lock().load(name)?.cloned().ok_or_else(|| not_found(name))
    }

    fn visit(&self, visit: &mut dyn FnMut(Listed) -> ControlFlow<()>) -> StoreResult<()> {
        let listing = self.lock().list();
        let entries = listing.workflows.into_iter().map(Listed::Workflow);
        for entry in entries.chain(listing.problems.into_iter().map(Listed::Problem)) {
            if visit(entry).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn list(&self) -> StoreResult<Listing> {
        Ok(self.lock().list())
    }

    fn exists(&self, name: &WorkflowName) -> StoreResult<bool> {
        Ok(self.lock().live.contains_key(name))
    }

    fn kept_revisions(&self, current: &Document) -> StoreResult<History> {
        let state = self.lock();
        let revisions =
            state.history_of(current).iter().filter(|d| d.revision < current.revision).cloned();
        Ok(History { revisions: revisions.collect(), problems: Vec::new() })
    }

    fn kept_revision(&self, current: &Document, revision: u64) -> StoreResult<Option<Document>> {
        Ok(self.lock().kept_revision(current, revision))
    }

    fn trash(&self) -> StoreResult<TrashListing> {
        let mut listing = TrashListing::default();
        for (key, stored) in &self.lock().trash {
            match &stored.entry {
                Entry::Good(doc) => listing.entries.push(TrashEntry::of(doc, key.deleted_at)),
                Entry::Corrupt(reason) => listing
                    .problems
                    .push(Problem { location: trash_location(key).0, reason: reason.clone() }),
            }
        }
        listing.entries.sort_by(|a, b| (&a.name, a.deleted_at).cmp(&(&b.name, b.deleted_at)));
        listing.problems.sort_by(|a, b| a.location.cmp(&b.location));
        Ok(listing)
    }

    fn trashed(&self, name: &WorkflowName) -> StoreResult<Vec<Trashed>> {
        Ok(self.lock().trashed(name))
    }

    fn locate(&self, name: &WorkflowName) -> Location {
        location(name)
    }

    fn write(
        &self,
        work: &mut dyn FnMut(&mut dyn Transaction) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let mut state = self.lock();
        let mut txn = MemoryTxn { state: state.clone() };
        work(&mut txn)?;
        *state = txn.state;
        Ok(())
    }
}

/// A transaction of the in-memory store: a copy of the state.
struct MemoryTxn {
    state: State,
}

impl Transaction for MemoryTxn {
    fn load(&mut self, name: &WorkflowName) -> StoreResult<Option<Document>> {
        self.state.load(name).map(|doc| doc.cloned())
    }

    fn exists(&mut self, name: &WorkflowName) -> StoreResult<bool> {
        Ok(self.state.live.contains_key(name))
    }

    fn kept_revision(
        &mut self,
        current: &Document,
        revision: u64,
    ) -> StoreResult<Option<Document>> {
        Ok(self.state.kept_revision(current, revision))
    }

    fn list(&mut self) -> StoreResult<Listing> {
        Ok(self.state.list())
    }

    fn trashed(&mut self, name: &WorkflowName) -> StoreResult<Vec<Trashed>> {
        Ok(self.state.trashed(name))
    }

    fn create(&mut self, doc: &StoredDocument) -> StoreResult<()> {
        let doc = doc.document();
        if self.state.live.contains_key(&doc.name) {
            return Err(StoreError::WorkflowExists { name: doc.name.clone() });
        }
        let stored = Stored { entry: Entry::Good(Box::new(doc.clone())), history: Vec::new() };
        self.state.live.insert(doc.name.clone(), stored);
        Ok(())
    }

    fn replace(&mut self, current: &Document, next: &StoredDocument) -> StoreResult<()> {
        let stored =
            self.state.live.get_mut(&current.name).ok_or_else(|| not_found(&current.name))?;
        stored.history.push(current.clone());
        stored.entry = Entry::Good(Box::new(next.document().clone()));
        Ok(())
    }

    fn delete(&mut self, name: &WorkflowName, deleted_at: Timestamp) -> StoreResult<TrashKey> {
        if !self.state.live.contains_key(name) {
            return Err(not_found(name));
        }
        let key = self.state.free_key(name, deleted_at)?;
        let stored = self.state.live.remove(name).ok_or_else(|| not_found(name))?;
        self.state.trash.push((key.clone(), stored));
        Ok(key)
    }

    fn restore(&mut self, key: &TrashKey) -> StoreResult<()> {
        if self.state.live.contains_key(&key.name) {
            return Err(StoreError::WorkflowExists { name: key.name.clone() });
        }
        let index = self.state.trash.iter().position(|(k, _)| k == key).ok_or_else(|| {
            StoreError::NotInTrash { name: key.name.clone(), suggestions: Vec::new() }
        })?;
        let (_, stored) = self.state.trash.remove(index);
        self.state.live.insert(key.name.clone(), stored);
        Ok(())
    }

    fn purge(&mut self, filter: &PurgeFilter) -> StoreResult<Vec<TrashKey>> {
        let mut purged = Vec::new();
        self.state.trash.retain(|(key, _)| {
            let selected = filter.selects(key);
            if selected {
                purged.push(key.clone());
            }
            !selected
        });
        purged.sort();
        Ok(purged)
    }

    fn put_life(
        &mut self,
        revisions: &[StoredDocument],
        deleted_at: Option<Timestamp>,
    ) -> StoreResult<Placed> {
        let Some((last, kept)) = revisions.split_last() else { return Ok(Placed::Live) };
        let name = last.document().name.clone();
        let stored = Stored {
            entry: Entry::Good(Box::new(last.document().clone())),
            history: kept.iter().map(|d| d.document().clone()).collect(),
        };
        match deleted_at {
            None if self.state.live.contains_key(&name) => Err(StoreError::WorkflowExists { name }),
            None => {
                self.state.live.insert(name, stored);
                Ok(Placed::Live)
            }
            Some(at) => {
                let key = self.state.free_key(&name, at)?;
                self.state.trash.push((key.clone(), stored));
                Ok(Placed::Trashed(key))
            }
        }
    }
}

fn location(name: &WorkflowName) -> Location {
    Location(format!("memory:{name}"))
}

fn trash_location(key: &TrashKey) -> Location {
    Location(format!("memory:trash/{}@{}", key.name, key.deleted_at))
}

fn not_found(name: &WorkflowName) -> StoreError {
    StoreError::WorkflowNotFound { name: name.clone(), suggestions: Vec::new() }
}
