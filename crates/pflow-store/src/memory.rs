//! The in-memory store: the same semantics as the filesystem store, without IO.
//!
//! It is the test double and the reference model that the conformance suite and the
//! state-machine tests compare the filesystem store against.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use pflow_ir::{Document, Timestamp, WorkflowName};

use crate::store::{check_revision, deletion_time};
use crate::{
    Change, History, Listing, Location, Problem, PurgeFilter, StoreError, StoreResult, Summary,
    TrashEntry, TrashKey, TrashListing, WorkflowStore,
};

/// A store that keeps documents, their history and the trash in maps guarded by one
/// mutex.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
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
        // A panic while holding the lock cannot leave the state half-changed: every
        // mutation checks first and then changes the maps in steps that cannot panic.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn corrupt(location: Location, reason: &str) -> StoreError {
        StoreError::Corrupt { location: location.0, reason: reason.to_owned() }
    }
}

impl State {
    /// The readable current document of `name`.
    fn good(&self, name: &WorkflowName) -> StoreResult<&Document> {
        match self.live.get(name).map(|s| &s.entry) {
            Some(Entry::Good(doc)) => Ok(doc),
            Some(Entry::Corrupt(reason)) => Err(MemoryStore::corrupt(location(name), reason)),
            None => Err(not_found(name)),
        }
    }

    /// Revision `revision` of `name`.
    fn revision(&self, name: &WorkflowName, revision: u64) -> StoreResult<Document> {
        let current = self.good(name)?;
        if revision == current.revision {
            return Ok(current.clone());
        }
        let history = &self.live[name].history;
        let kept = history.iter().find(|d| d.revision == revision && revision < current.revision);
        kept.cloned().ok_or_else(|| StoreError::RevisionNotFound {
            name: name.clone(),
            revision,
            current: current.revision,
        })
    }

    /// Applies `change` to the current document of `name` (checked readable), keeping the
    /// current one in its history; a change that changes nothing changes nothing.
    fn replace(&mut self, name: &WorkflowName, change: Change) -> StoreResult<Document> {
        let current = self.good(name)?.clone();
        if change.is_noop_for(&current) {
            return Ok(current);
        }
        let next = change.apply_to(&current);
        let stored = self.live.get_mut(name).expect("good() found it");
        stored.history.push(current);
        stored.entry = Entry::Good(Box::new(next.clone()));
        Ok(next)
    }
}

impl WorkflowStore for MemoryStore {
    fn create(&self, doc: &Document) -> StoreResult<Location> {
        let mut state = self.lock();
        if state.live.contains_key(&doc.name) {
            return Err(StoreError::WorkflowExists { name: doc.name.clone() });
        }
        let stored = Stored { entry: Entry::Good(Box::new(doc.clone())), history: Vec::new() };
        state.live.insert(doc.name.clone(), stored);
        Ok(location(&doc.name))
    }

    fn load(&self, name: &WorkflowName) -> StoreResult<Document> {
        self.lock().good(name).cloned()
    }

    fn list(&self) -> StoreResult<Listing> {
        let mut listing = Listing::default();
        for (name, stored) in &self.lock().live {
            match &stored.entry {
                Entry::Good(doc) => listing.workflows.push(Summary::of(doc)),
                Entry::Corrupt(reason) => listing
                    .problems
                    .push(Problem { location: location(name).0, reason: reason.clone() }),
            }
        }
        Ok(listing)
    }

    fn exists(&self, name: &WorkflowName) -> StoreResult<bool> {
        Ok(self.lock().live.contains_key(name))
    }

    fn update(
        &self,
        name: &WorkflowName,
        expected_revision: u64,
        change: Change,
    ) -> StoreResult<Document> {
        let mut state = self.lock();
        check_revision(name, Some(expected_revision), state.good(name)?)?;
        state.replace(name, change)
    }

    fn history(&self, name: &WorkflowName) -> StoreResult<History> {
        let state = self.lock();
        let current = state.good(name)?.clone();
        let mut revisions = state.live[name].history.clone();
        revisions.push(current);
        Ok(History { revisions, problems: Vec::new() })
    }

    fn load_revision(&self, name: &WorkflowName, revision: u64) -> StoreResult<Document> {
        self.lock().revision(name, revision)
    }

    fn restore_revision(
        &self,
        name: &WorkflowName,
        revision: u64,
        expected_revision: Option<u64>,
        now: Timestamp,
    ) -> StoreResult<Document> {
        let mut state = self.lock();
        check_revision(name, expected_revision, state.good(name)?)?;
        let wanted = state.revision(name, revision)?;
        state.replace(name, Change { ir: wanted.ir, description: wanted.description, now })
    }

    fn delete(&self, name: &WorkflowName, now: Timestamp) -> StoreResult<TrashKey> {
        let mut state = self.lock();
        let stored = state.live.remove(name).ok_or_else(|| not_found(name))?;
        let newest =
            state.trash.iter().filter(|(k, _)| k.name == *name).map(|(k, _)| k.deleted_at).max();
        let key = TrashKey { name: name.clone(), deleted_at: deletion_time(now, newest) };
        state.trash.push((key.clone(), stored));
        Ok(key)
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

    fn restore_trashed(&self, name: &WorkflowName) -> StoreResult<Document> {
        let mut state = self.lock();
        if state.live.contains_key(name) {
            return Err(StoreError::WorkflowExists { name: name.clone() });
        }
        let newest = state
            .trash
            .iter()
            .enumerate()
            .filter_map(|(i, (k, s))| match &s.entry {
                Entry::Good(doc) if k.name == *name => Some((i, k.deleted_at, doc)),
                _ => None,
            })
            .max_by_key(|(_, deleted_at, _)| *deleted_at)
            .map(|(i, _, doc)| (i, (**doc).clone()));
        let Some((index, doc)) = newest else {
            return Err(StoreError::NotInTrash { name: name.clone(), suggestions: Vec::new() });
        };
        let (_, stored) = state.trash.remove(index);
        state.live.insert(name.clone(), stored);
        Ok(doc)
    }

    fn purge(&self, filter: &PurgeFilter) -> StoreResult<Vec<TrashKey>> {
        let mut state = self.lock();
        let mut purged = Vec::new();
        state.trash.retain(|(key, _)| {
            let selected = filter.selects(key);
            if selected {
                purged.push(key.clone());
            }
            !selected
        });
        purged.sort();
        Ok(purged)
    }

    fn locate(&self, name: &WorkflowName) -> Location {
        location(name)
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
