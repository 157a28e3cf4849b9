//! The in-memory store: the same semantics as the filesystem store, without IO.
//!
//! It is the test double and the reference model that the conformance suite and the
//! state-machine tests compare the filesystem store against.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use pflow_ir::{Document, WorkflowName};

use crate::{Change, Listing, Location, Problem, StoreError, StoreResult, Summary, WorkflowStore};

/// A store that keeps documents in a map guarded by one mutex.
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: Mutex<BTreeMap<WorkflowName, Entry>>,
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
    /// store; for tests of how callers cope with corruption.
    pub fn plant_corrupt(&self, name: &WorkflowName, reason: &str) {
        self.lock().insert(name.clone(), Entry::Corrupt(reason.to_owned()));
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<WorkflowName, Entry>> {
        // A panic while holding the lock cannot leave the map half-changed: every
        // mutation is a single insert or remove.
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn corrupt(name: &WorkflowName, reason: &str) -> StoreError {
        StoreError::Corrupt { location: location(name).0, reason: reason.to_owned() }
    }
}

impl WorkflowStore for MemoryStore {
    fn create(&self, doc: &Document) -> StoreResult<Location> {
        let mut entries = self.lock();
        if entries.contains_key(&doc.name) {
            return Err(StoreError::WorkflowExists { name: doc.name.clone() });
        }
        entries.insert(doc.name.clone(), Entry::Good(Box::new(doc.clone())));
        Ok(location(&doc.name))
    }

    fn load(&self, name: &WorkflowName) -> StoreResult<Document> {
        match self.lock().get(name) {
            Some(Entry::Good(doc)) => Ok((**doc).clone()),
            Some(Entry::Corrupt(reason)) => Err(MemoryStore::corrupt(name, reason)),
            None => Err(not_found(name)),
        }
    }

    fn list(&self) -> StoreResult<Listing> {
        let mut listing = Listing::default();
        for (name, entry) in self.lock().iter() {
            match entry {
                Entry::Good(doc) => listing.workflows.push(Summary::of(doc)),
                Entry::Corrupt(reason) => listing
                    .problems
                    .push(Problem { location: location(name).0, reason: reason.clone() }),
            }
        }
        Ok(listing)
    }

    fn exists(&self, name: &WorkflowName) -> StoreResult<bool> {
        Ok(self.lock().contains_key(name))
    }

    fn update(
        &self,
        name: &WorkflowName,
        expected_revision: u64,
        change: Change,
    ) -> StoreResult<Document> {
        let mut entries = self.lock();
        let current = match entries.get(name) {
            Some(Entry::Good(doc)) => doc,
            Some(Entry::Corrupt(reason)) => return Err(MemoryStore::corrupt(name, reason)),
            None => return Err(not_found(name)),
        };
        if current.revision != expected_revision {
            return Err(StoreError::Conflict {
                name: name.clone(),
                expected: expected_revision,
                actual: current.revision,
            });
        }
        let next = change.apply_to(current);
        entries.insert(name.clone(), Entry::Good(Box::new(next.clone())));
        Ok(next)
    }

    fn delete(&self, name: &WorkflowName) -> StoreResult<()> {
        match self.lock().remove(name) {
            Some(_) => Ok(()),
            None => Err(not_found(name)),
        }
    }

    fn locate(&self, name: &WorkflowName) -> Location {
        location(name)
    }
}

fn location(name: &WorkflowName) -> Location {
    Location(format!("memory:{name}"))
}

fn not_found(name: &WorkflowName) -> StoreError {
    StoreError::WorkflowNotFound { name: name.clone(), suggestions: Vec::new() }
}
