//! How much a store holds — live workflows, revisions, trash entries — for a front end's
//! summary of a store (`pflow store info`).

use std::collections::BTreeSet;

use pflow_ir::WorkflowName;
use serde::Serialize;

use crate::{StoreError, StoreResult, WorkflowStore};

/// How much a store holds, as [`WorkflowStore::counts`] gives it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StoreCounts {
    /// Live workflows, readable or not.
    pub workflows: u64,
    /// The revisions of every readable life, live or in the trash, the current document
    /// of each included: what a copy of the whole store writes.
    pub revisions: u64,
    /// Trash entries, readable or not.
    pub trash_entries: u64,
    /// Live entries, trash entries and kept revisions that cannot be read.
    pub unreadable: u64,
}

/// Counts what `store` holds by reading it: the listing, the trash, and the kept
/// revisions of every readable life. Every backend can; one that can count without
/// reading every document overrides [`WorkflowStore::counts`].
pub(crate) fn count_by_reading<S: WorkflowStore + ?Sized>(store: &S) -> StoreResult<StoreCounts> {
    let mut counts = StoreCounts::default();
    let listing = store.list()?;
    counts.workflows = len(listing.workflows.len() + listing.problems.len());
    counts.unreadable = len(listing.problems.len());
    for summary in &listing.workflows {
        let doc = match store.load(&summary.name) {
            Ok(doc) => doc,
            // Deleted since the listing.
            Err(StoreError::WorkflowNotFound { .. }) => {
                counts.workflows -= 1;
                continue;
            }
            Err(StoreError::Corrupt { .. }) => {
                counts.unreadable += 1;
                continue;
            }
            Err(e) => return Err(e),
        };
        counts.revisions += life_revisions(store, &doc, &mut counts.unreadable)?;
    }
    let trash = store.trash()?;
    counts.trash_entries = len(trash.entries.len() + trash.problems.len());
    counts.unreadable += len(trash.problems.len());
    let names: BTreeSet<&WorkflowName> = trash.entries.iter().map(|e| &e.name).collect();
    for name in names {
        for trashed in store.trashed(name)? {
            if let Some(doc) = trashed.document {
                counts.revisions += life_revisions(store, &doc, &mut counts.unreadable)?;
            }
        }
    }
    Ok(counts)
}

/// The readable revisions of `doc`'s life, itself included.
fn life_revisions<S: WorkflowStore + ?Sized>(
    store: &S,
    doc: &pflow_ir::Document,
    unreadable: &mut u64,
) -> StoreResult<u64> {
    let kept = store.kept_revisions(doc)?;
    *unreadable += len(kept.problems.len());
    Ok(1 + len(kept.revisions.iter().filter(|d| d.revision < doc.revision).count()))
}

fn len(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
