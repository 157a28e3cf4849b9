//! The history of the filesystem store: every revision a workflow had before its current
//! one, kept as immutable files in `workflows/.history/<name>/<created>@<revision>.json`.
//!
//! The files of one workflow are keyed by its creation time (in microseconds), so a
//! workflow saved anew after a delete starts a history of its own, and moving a workflow
//! to the trash or back needs no change to its history: the history belongs to whichever
//! document — live or trashed — carries that creation time. See docs/store.md.

use std::path::PathBuf;

use pflow_ir::{Document, WorkflowName};

use super::{FsStore, HISTORY_DIR, io_error, problem};
use crate::{History, StoreError, StoreResult};

impl FsStore {
    /// `workflows/.history`.
    pub(super) fn history_root(&self) -> PathBuf {
        self.dir.join(HISTORY_DIR)
    }

    /// `workflows/.history/<name>`: the kept revisions of every workflow of that name.
    pub(super) fn history_dir(&self, name: &WorkflowName) -> PathBuf {
        self.history_root().join(name.as_str())
    }

    /// Makes `bytes`, the stored form of `doc`, durable as a kept revision of `name`.
    ///
    /// Called under the lock, before the next revision is published. A file of that
    /// revision already there is a leftover of an update that never completed (revisions
    /// at or above the current one are never listed), so it is replaced.
    pub(super) fn keep_revision(
        &self,
        name: &WorkflowName,
        doc: &Document,
        bytes: &[u8],
    ) -> StoreResult<()> {
        self.durable_store_dir(&self.history_root())?;
        let dir = self.history_dir(name);
        self.durable_store_dir(&dir)?;
        let path = dir.join(history_file(doc.created_at.unix_micros(), doc.revision));
        let temp = self.write_temp(bytes)?;
        if let Err(e) = self.fs.rename(&temp.path, &path) {
            self.discard(temp);
            return Err(io_error("publish", &path, e));
        }
        drop(temp);
        self.fs.sync_dir(&dir).map_err(|e| io_error("sync", &dir, e))
    }

    /// The revisions kept before `current` in its life, oldest first (the store's
    /// `kept_revisions`).
    pub(super) fn read_kept(&self, current: &Document) -> StoreResult<History> {
        let name = &current.name;
        let key = current.created_at.unix_micros();
        let dir = self.history_dir(name);
        // A link planted in place of the history root is refused, never followed.
        if !self.is_store_dir(&self.history_root())? {
            return Ok(History::default());
        }
        let mut kept: Vec<(u64, PathBuf)> = self
            .scan_store_dir(&dir)?
            .into_iter()
            .filter_map(|entry| parse_history_file(entry.name.to_str()?))
            // Revisions at or above the current one are leftovers of interrupted updates.
            .filter(|&(created, revision)| created == key && revision < current.revision)
            .map(|(created, revision)| (revision, dir.join(history_file(created, revision))))
            .collect();
        kept.sort_unstable_by_key(|(revision, _)| *revision);
        let mut history = History::default();
        for (revision, path) in kept {
            match self.kept_revision_at(&path, name, key, revision) {
                Ok(Some(doc)) => history.revisions.push(doc),
                // Purged since the scan.
                Ok(None) => {}
                Err(StoreError::Corrupt { location, reason, .. }) => {
                    history.problems.push(crate::Problem { location, reason });
                }
                Err(StoreError::Io { source, .. }) => {
                    history.problems.push(problem(&path, &format!("cannot read: {source}")));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(history)
    }

    /// The kept revision `revision` (below the current one) of `current`'s life.
    pub(super) fn read_kept_revision(
        &self,
        current: &Document,
        revision: u64,
    ) -> StoreResult<Option<Document>> {
        if revision == 0 || revision >= current.revision {
            return Ok(None);
        }
        let name = &current.name;
        let dir = self.history_dir(name);
        if !self.is_store_dir(&self.history_root())? || !self.is_store_dir(&dir)? {
            return Ok(None);
        }
        let key = current.created_at.unix_micros();
        let path = dir.join(history_file(key, revision));
        self.kept_revision_at(&path, name, key, revision)
    }

    /// Reads a kept revision and checks that it is the one its file name says.
    fn kept_revision_at(
        &self,
        path: &std::path::Path,
        name: &WorkflowName,
        key: i64,
        revision: u64,
    ) -> StoreResult<Option<Document>> {
        let Some((_, doc)) = self.read_at(path, name)? else { return Ok(None) };
        if doc.revision != revision || doc.created_at.unix_micros() != key {
            let reason = format!(
                "holds revision {} created at {}, not what its file name says",
                doc.revision, doc.created_at
            );
            return Err(super::corrupt(path, reason));
        }
        Ok(Some(doc))
    }

    /// Removes the kept revisions of `name` that no document refers to any more: neither
    /// the live one nor a trash entry (`trashed`: the creation times of the trash entries
    /// of that name, `None` for an entry whose creation time is unknown).
    ///
    /// Conservative: when the live document exists but cannot be read, or a trash entry's
    /// creation time is unknown, nothing is removed — the files might be theirs.
    pub(super) fn collect_history(
        &self,
        name: &WorkflowName,
        trashed: &[Option<i64>],
    ) -> StoreResult<()> {
        let mut keep: Vec<i64> = Vec::new();
        match self.read_doc(name) {
            Ok(doc) => keep.push(doc.created_at.unix_micros()),
            Err(StoreError::WorkflowNotFound { .. }) => {}
            Err(_) => return Ok(()),
        }
        for created in trashed {
            match created {
                Some(created) => keep.push(*created),
                None => return Ok(()),
            }
        }
        let dir = self.history_dir(name);
        let mut removed = false;
        let mut left = false;
        for entry in self.scan_store_dir(&dir)? {
            let unreferenced = entry
                .name
                .to_str()
                .and_then(parse_history_file)
                .is_some_and(|(created, _)| !keep.contains(&created));
            if !unreferenced {
                left = true;
                continue;
            }
            let path = dir.join(&entry.name);
            self.fs.remove_file(&path).map_err(|e| io_error("delete", &path, e))?;
            removed = true;
        }
        if removed {
            self.fs.sync_dir(&dir).map_err(|e| io_error("sync", &dir, e))?;
        }
        if removed && !left {
            // Another process cannot add to it meanwhile: keeping a revision takes the
            // lock we hold. A failure only leaves an empty directory behind.
            if self.fs.remove_dir(&dir).is_ok() {
                let root = self.history_root();
                self.fs.sync_dir(&root).map_err(|e| io_error("sync", &root, e))?;
            }
        }
        Ok(())
    }

    /// The names that have a history directory.
    pub(super) fn names_with_history(&self) -> StoreResult<Vec<WorkflowName>> {
        let root = self.history_root();
        Ok(self
            .scan_store_dir(&root)?
            .into_iter()
            .filter_map(|entry| WorkflowName::new(entry.name.to_str()?).ok())
            .collect())
    }
}

/// `<created>@<revision>.json`: the file of a kept revision.
fn history_file(created: i64, revision: u64) -> String {
    format!("{created}@{revision}.json")
}

/// The creation time and revision a kept revision's file name encodes.
fn parse_history_file(file: &str) -> Option<(i64, u64)> {
    let (created, revision) = file.strip_suffix(".json")?.split_once('@')?;
    Some((created.parse().ok()?, revision.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_file_names_round_trip() {
        for (created, revision) in [(1_700_000_000_123_456, 3), (-5, 1), (0, u64::MAX)] {
            let file = history_file(created, revision);
            assert_eq!(parse_history_file(&file), Some((created, revision)), "{file}");
        }
        for bad in ["x@1.json", "1@x.json", "1@2", "12.json", "1@-2.json"] {
            assert_eq!(parse_history_file(bad), None, "{bad}");
        }
    }
}
