//! Copying a whole library from one store to another — every life of every workflow,
//! live or in the trash, with every kept revision — for moving a library between
//! backends (`pflow store copy`).
//!
//! A copy is idempotent: a life the destination holds already, identical, is left alone,
//! so running it again copies nothing. A life the destination holds with other content,
//! or a live workflow of the same name that is another life, is a conflict: reported by
//! name and left as it is. Nothing is validated or changed on the way: the lives are
//! written as they are ([`Transaction::put_life`]).

use pflow_ir::{Document, Timestamp, WorkflowName};
use serde::Serialize;

use crate::{Life, Placed, Problem, StoreError, StoreResult, Transaction, WorkflowManager};

/// What [`WorkflowManager::copy_into`] did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CopyReport {
    /// The lives written to the destination, in the order they were written: live
    /// workflows by name, then trash entries by name and deletion time.
    pub copied: Vec<CopiedLife>,
    /// How many lives the destination held already, identical.
    pub unchanged: usize,
    /// The lives not copied because the destination holds something else there.
    pub conflicts: Vec<CopyConflict>,
    /// What could not be read from the source, and so was not copied.
    pub unreadable: Vec<Problem>,
}

/// One life written by a copy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CopiedLife {
    /// The workflow's name.
    pub name: WorkflowName,
    /// How many revisions it has, the current one included.
    pub revisions: usize,
    /// When it was deleted, for a life copied into the trash (the destination's key,
    /// which is the source's unless that time was taken).
    pub deleted_at: Option<Timestamp>,
}

/// One life a copy left out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CopyConflict {
    /// The workflow's name.
    pub name: WorkflowName,
    /// When the source's life was deleted, for a life in the source's trash.
    pub deleted_at: Option<Timestamp>,
    /// What the destination holds instead.
    pub reason: String,
}

/// What the destination holds of one life of the source.
enum Found {
    /// Nothing of that life.
    Nothing,
    /// The same life, identical.
    Identical,
    /// Something in its place that differs (why).
    Different(String),
}

impl WorkflowManager {
    /// Copies every life this manager's store holds — each live workflow and each trash
    /// entry, with all its kept revisions — into `dest`'s store, as one transaction of
    /// `dest` (one commit on a database; on the filesystem each life is written whole).
    ///
    /// A life is known by its name and creation time. One that `dest` holds already with
    /// the same current document, in the same place (live, or in the trash deleted at the
    /// same time), is left alone; one it holds otherwise, and a live workflow whose name
    /// `dest` gives to another life, are conflicts. Entries and revisions of the source
    /// that cannot be read are reported and not copied.
    pub fn copy_into(&self, dest: &WorkflowManager) -> StoreResult<CopyReport> {
        let (lives, mut unreadable) = self.lives()?;
        let mut prepared = Vec::with_capacity(lives.len());
        for life in lives {
            match life.stored() {
                Ok(stored) => prepared.push((life, stored)),
                Err(StoreError::Corrupt { location, reason, .. }) => {
                    unreadable.push(Problem { location, reason });
                }
                Err(e) => return Err(e),
            }
        }
        let mut report = CopyReport::default();
        dest.store().write(&mut |txn| {
            // A transaction may run again from the start: start the report anew.
            report = CopyReport { unreadable: unreadable.clone(), ..CopyReport::default() };
            for (life, stored) in &prepared {
                let last = life.revisions.last().expect("a stored life has a revision");
                let name = &last.name;
                let conflict = |reason: String| CopyConflict {
                    name: name.clone(),
                    deleted_at: life.deleted_at,
                    reason,
                };
                match found_in(txn, life, last)? {
                    Found::Identical => report.unchanged += 1,
                    Found::Different(reason) => report.conflicts.push(conflict(reason)),
                    Found::Nothing if life.deleted_at.is_none() && txn.exists(name)? => {
                        let reason = "another workflow of that name is saved there".to_owned();
                        report.conflicts.push(conflict(reason));
                    }
                    Found::Nothing => {
                        let placed = txn.put_life(stored, life.deleted_at)?;
                        let deleted_at = match placed {
                            Placed::Live => None,
                            Placed::Trashed(key) => Some(key.deleted_at),
                        };
                        let revisions = stored.len();
                        report.copied.push(CopiedLife {
                            name: name.clone(),
                            revisions,
                            deleted_at,
                        });
                    }
                }
            }
            Ok(())
        })?;
        Ok(report)
    }
}

/// What the destination of `txn` holds of `life`, whose current document is `last`: the
/// same life is the one of that name created at the same time, live or in the trash.
fn found_in(txn: &mut dyn Transaction, life: &Life, last: &Document) -> StoreResult<Found> {
    let name = &last.name;
    let live = match txn.load(name) {
        Ok(live) => live,
        // An unreadable live entry is no life to compare with; a live source life cannot
        // go there, and a trashed one is looked for in the trash.
        Err(StoreError::Corrupt { .. }) if life.deleted_at.is_none() => {
            return Ok(Found::Different("an entry that cannot be read is saved there".into()));
        }
        Err(StoreError::Corrupt { .. }) => None,
        Err(e) => return Err(e),
    };
    if let Some(live) = live.filter(|d| d.created_at == last.created_at) {
        return Ok(match life.deleted_at {
            None if live == *last => Found::Identical,
            None => Found::Different(differs(&live, last)),
            Some(_) => Found::Different("it is saved there, not in the trash".to_owned()),
        });
    }
    let trashed = txn.trashed(name)?;
    let same_life = trashed.iter().find_map(|t| {
        let doc = t.document.as_ref().filter(|d| d.created_at == last.created_at)?;
        Some((t.key.deleted_at, doc))
    });
    Ok(match (same_life, life.deleted_at) {
        (None, _) => Found::Nothing,
        (Some((at, doc)), Some(deleted)) if at == deleted && doc == last => Found::Identical,
        (Some((at, doc)), Some(deleted)) if at == deleted => Found::Different(differs(doc, last)),
        (Some((at, _)), Some(_)) => {
            Found::Different(format!("it is in the trash there, deleted at {at}"))
        }
        (Some(_), None) => Found::Different("it is in the trash there".to_owned()),
    })
}

/// How the destination's document of a life differs from the source's.
fn differs(there: &Document, here: &Document) -> String {
    if there.revision == here.revision {
        format!("its revision {} differs there", here.revision)
    } else {
        format!("it is at revision {} there, {} here", there.revision, here.revision)
    }
}
