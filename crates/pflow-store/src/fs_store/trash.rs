//! The trash of the filesystem store: deleted workflows in
//! `workflows/.trash/<name>@<deleted>[@<created>].json` (times in microseconds since the
//! epoch; `created` is missing for an entry that could not be read when it was deleted).
//!
//! A workflow moves between `workflows/<name>.json` and the trash with one atomic rename
//! of its file; its history stays where it is (it is keyed by the creation time the file
//! name and the document carry). So a workflow is at every instant in exactly one place.
//! The one anomaly a power cut can leave under the strictest model — the renamed file
//! still in its old directory *and* in its new one, because only one of the two
//! directories was synced — is a trash entry with the creation time of the live workflow
//! of that name: such a leftover is never listed nor restored, and the next delete,
//! restore or purge under the lock removes it. See docs/store.md.

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::path::PathBuf;

use pflow_ir::{Timestamp, WorkflowName};

use super::{FsStore, TEMP_ATTEMPTS, TRASH_DIR, io_error, live_corrupt, not_found, problem};
use crate::store::free_time;
use crate::{
    Problem, PurgeFilter, StoreError, StoreResult, StoredDocument, TrashEntry, TrashKey,
    TrashListing, Trashed,
};
use pflow_fsio::FileKind;

/// One file in the trash directory, understood from its name.
#[derive(Debug, Clone)]
struct TrashFile {
    /// The file name.
    file: String,
    /// The workflow and its deletion time.
    key: TrashKey,
    /// The creation time of the deleted document (its history's key), if it was known.
    created: Option<i64>,
}

impl FsStore {
    /// `workflows/.trash`.
    fn trash_dir(&self) -> PathBuf {
        self.dir.join(TRASH_DIR)
    }

    /// Moves the live entry `name` to the trash as deleted at `deleted_at` (or later, when
    /// a stray file has that name); called under the lock.
    pub(super) fn move_to_trash(
        &self,
        name: &WorkflowName,
        deleted_at: Timestamp,
    ) -> StoreResult<TrashKey> {
        let path = self.path_of(name);
        match self.fs.metadata(&path) {
            Ok(meta) if meta.kind == FileKind::Dir => {
                return Err(live_corrupt(&path, name, "not a regular file (a directory)"));
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(not_found(name)),
            Err(e) => return Err(io_error("inspect", &path, e)),
        }
        // The key of its history; unknown for an entry that is not a readable document.
        // A failing read (EIO, …) fails the delete rather than lose track of the history.
        let created = match self.read_doc(name) {
            Ok(doc) => Some(doc.created_at.unix_micros()),
            Err(StoreError::Corrupt { .. }) => None,
            Err(e) => return Err(e),
        };
        let trash = self.trash_dir();
        self.durable_store_dir(&trash)?;
        let (files, _) = self.scan_trash()?;
        let mine: Vec<&TrashFile> = files.iter().filter(|f| f.key.name == *name).collect();

        // Leftovers of an interrupted move of this very workflow would become a second
        // trash entry once it is there: remove them first.
        let leftovers: Vec<&&TrashFile> =
            mine.iter().filter(|f| created.is_some() && f.created == created).collect();
        for leftover in &leftovers {
            let path = trash.join(&leftover.file);
            self.fs.remove_file(&path).map_err(|e| io_error("delete", &path, e))?;
        }
        if !leftovers.is_empty() {
            self.fs.sync_dir(&trash).map_err(|e| io_error("sync", &trash, e))?;
        }

        // Entries of one name have distinct times: a time already taken (by another life of
        // this name, whose file name differs by its creation time) moves to the next free
        // microsecond.
        let removed = |f: &TrashFile| created.is_some() && f.created == created;
        let taken: Vec<Timestamp> =
            mine.iter().filter(|f| !removed(f)).map(|f| f.key.deleted_at).collect();
        let mut deleted_at = free_time(name, deleted_at, |at| taken.contains(&at))?;
        let mut attempts = 0;
        loop {
            let target = trash.join(trash_file(name, deleted_at.unix_micros(), created));
            match self.fs.rename_noreplace(&path, &target) {
                Ok(()) => break,
                // Only a stray file of the same name can be there (we hold the lock).
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempts < TEMP_ATTEMPTS => {
                    attempts += 1;
                    let tried = deleted_at;
                    deleted_at = free_time(name, tried, |at| at <= tried || taken.contains(&at))?;
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(not_found(name)),
                Err(e) => return Err(io_error("move to the trash", &path, e)),
            }
        }
        // The destination first: a power cut between the two syncs can then leave the
        // file in both directories (a leftover, see above), never in neither.
        self.fs.sync_dir(&trash).map_err(|e| io_error("sync", &trash, e))?;
        self.fs.sync_dir(&self.dir).map_err(|e| io_error("sync", &self.dir, e))?;
        Ok(TrashKey { name: name.clone(), deleted_at })
    }

    /// Publishes `doc` straight into the trash as deleted at `deleted_at` (or the next
    /// free microsecond of its name): a whole life copied from elsewhere; called under the
    /// lock, after its kept revisions were written.
    pub(super) fn put_in_trash(
        &self,
        doc: &StoredDocument,
        deleted_at: Timestamp,
    ) -> StoreResult<TrashKey> {
        let name = &doc.document().name;
        let created = doc.document().created_at.unix_micros();
        let trash = self.trash_dir();
        self.durable_store_dir(&trash)?;
        let (files, _) = self.scan_trash()?;
        let taken: Vec<Timestamp> =
            files.iter().filter(|f| f.key.name == *name).map(|f| f.key.deleted_at).collect();
        let deleted_at = free_time(name, deleted_at, |at| taken.contains(&at))?;
        let target = trash.join(trash_file(name, deleted_at.unix_micros(), Some(created)));
        let temp = self.write_temp(doc.text().as_bytes())?;
        if let Err(e) = self.fs.rename_noreplace(&temp.path, &target) {
            self.discard(temp);
            return Err(io_error("publish", &target, e));
        }
        drop(temp);
        self.fs.sync_dir(&trash).map_err(|e| io_error("sync", &trash, e))?;
        Ok(TrashKey { name: name.clone(), deleted_at })
    }

    /// Every readable trash entry and every problem (the store's `trash`).
    pub(super) fn list_trash(&self) -> StoreResult<TrashListing> {
        let (files, mut problems) = self.scan_trash()?;
        let trash = self.trash_dir();
        let mut live = LiveKeys::default();
        let mut entries = Vec::new();
        for f in files {
            if live.is_leftover(self, &f) {
                continue;
            }
            let path = trash.join(&f.file);
            match self.read_at(&path, &f.key.name) {
                Ok(Some((_, doc))) => entries.push(TrashEntry::of(&doc, f.key.deleted_at)),
                Ok(None) => {}
                Err(e) => problems.push(unreadable(&path, e)),
            }
        }
        entries.sort_by(|a, b| (&a.name, a.deleted_at).cmp(&(&b.name, b.deleted_at)));
        problems.sort_by(|a, b| a.location.cmp(&b.location));
        Ok(TrashListing { entries, problems })
    }

    /// The trash entries of `name`, oldest first, each with its document when it can be
    /// read; leftovers of an interrupted move are not entries. A failing read (EIO, …) is
    /// an error, so that a restore never brings back an older entry instead.
    pub(super) fn trashed_of(&self, name: &WorkflowName) -> StoreResult<Vec<Trashed>> {
        let trash = self.trash_dir();
        let (mut files, _) = self.scan_trash()?;
        files.retain(|f| f.key.name == *name);
        files.sort_by_key(|f| f.key.deleted_at);
        let mut live = LiveKeys::default();
        let mut trashed = Vec::with_capacity(files.len());
        for f in files {
            if live.is_leftover(self, &f) {
                continue;
            }
            let document = match self.read_at(&trash.join(&f.file), name) {
                Ok(Some((_, doc))) => Some(doc),
                // Purged since the scan.
                Ok(None) => continue,
                Err(StoreError::Corrupt { .. }) => None,
                Err(e) => return Err(e),
            };
            trashed.push(Trashed { key: f.key, document });
        }
        Ok(trashed)
    }

    /// Moves the trash entry `key` back to be the live workflow of its name; called under
    /// the lock.
    pub(super) fn restore_from_trash(&self, key: &TrashKey) -> StoreResult<()> {
        let name = &key.name;
        let trash = self.trash_dir();
        let (files, _) = self.scan_trash()?;
        let Some(file) = files.into_iter().find(|f| f.key == *key) else {
            return Err(StoreError::NotInTrash { name: name.clone(), suggestions: Vec::new() });
        };
        let from = trash.join(&file.file);
        let path = self.path_of(name);
        match self.fs.rename_noreplace(&from, &path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(StoreError::WorkflowExists { name: name.clone() });
            }
            Err(e) => return Err(io_error("restore", &from, e)),
        }
        // The destination first, as for a delete.
        self.fs.sync_dir(&self.dir).map_err(|e| io_error("sync", &self.dir, e))?;
        self.fs.sync_dir(&trash).map_err(|e| io_error("sync", &trash, e))?;
        Ok(())
    }

    /// Deletes the selected trash entries for good, then the history nothing refers to
    /// any more (the store's `purge`).
    pub(super) fn purge_trash(&self, filter: &PurgeFilter) -> StoreResult<Vec<TrashKey>> {
        let trash = self.trash_dir();
        let (files, _) = self.scan_trash()?;
        let mut live = LiveKeys::default();
        let mut purged = Vec::new();
        let mut remaining: HashMap<WorkflowName, Vec<Option<i64>>> = HashMap::new();
        let mut removed = false;
        for f in files {
            let in_scope = filter.name.as_ref().is_none_or(|n| *n == f.key.name);
            let leftover = in_scope && live.is_leftover(self, &f);
            if leftover || filter.selects(&f.key) {
                let path = trash.join(&f.file);
                self.fs.remove_file(&path).map_err(|e| io_error("delete", &path, e))?;
                removed = true;
                if !leftover {
                    purged.push(f.key);
                }
            } else {
                remaining.entry(f.key.name.clone()).or_default().push(f.created);
            }
        }
        if removed {
            self.fs.sync_dir(&trash).map_err(|e| io_error("sync", &trash, e))?;
        }
        // The history of what was purged; without a name, every name's (which also
        // collects what a purge interrupted by a crash left behind).
        let mut names: BTreeSet<WorkflowName> = purged.iter().map(|k| k.name.clone()).collect();
        names.extend(filter.name.clone());
        if filter.name.is_none() {
            names.extend(self.names_with_history()?);
        }
        for name in names {
            let trashed = remaining.get(&name).map_or(&[][..], Vec::as_slice);
            self.collect_history(&name, trashed)?;
        }
        purged.sort();
        Ok(purged)
    }

    /// The trash directory's entries that are trash files, and a problem for every other
    /// entry; empty when there is no trash yet.
    fn scan_trash(&self) -> StoreResult<(Vec<TrashFile>, Vec<Problem>)> {
        let trash = self.trash_dir();
        let mut files = Vec::new();
        let mut problems = Vec::new();
        for entry in self.scan_store_dir(&trash)? {
            let path = trash.join(&entry.name);
            let parsed = entry.name.to_str().and_then(parse_trash_file);
            match parsed {
                // Never removed by a purge, which only unlinks: reported instead.
                Some(_) if entry.meta.kind == FileKind::Dir => {
                    problems.push(problem(&path, "not a regular file (a directory)"));
                }
                Some(f) => files.push(f),
                None => problems.push(problem(
                    &path,
                    "not a trash entry (entries are named `<name>@<time>.json`)",
                )),
            }
        }
        Ok((files, problems))
    }
}

/// The creation time of each live workflow, read once per name.
#[derive(Debug, Default)]
struct LiveKeys(HashMap<WorkflowName, Option<i64>>);

impl LiveKeys {
    /// Whether `f` is the leftover of an interrupted move: it has the creation time of
    /// the live workflow of its name (which then is the same workflow).
    fn is_leftover(&mut self, store: &FsStore, f: &TrashFile) -> bool {
        let Some(created) = f.created else { return false };
        let live = self.0.entry(f.key.name.clone()).or_insert_with(|| {
            store.read_doc(&f.key.name).ok().map(|d| d.created_at.unix_micros())
        });
        *live == Some(created)
    }
}

/// A trash entry that could not be read, as a problem.
fn unreadable(path: &std::path::Path, error: StoreError) -> Problem {
    match error {
        StoreError::Corrupt { location, reason, .. } => Problem { location, reason },
        StoreError::Io { source, .. } => problem(path, &format!("cannot read: {source}")),
        other => problem(path, &other.to_string()),
    }
}

/// `<name>@<deleted>[@<created>].json`: the file of a trash entry.
fn trash_file(name: &WorkflowName, deleted: i64, created: Option<i64>) -> String {
    match created {
        Some(created) => format!("{name}@{deleted}@{created}.json"),
        None => format!("{name}@{deleted}.json"),
    }
}

/// What a trash entry's file name encodes.
fn parse_trash_file(file: &str) -> Option<TrashFile> {
    let mut parts = file.strip_suffix(".json")?.split('@');
    let name = WorkflowName::new(parts.next()?).ok()?;
    let deleted_at = Timestamp::from_unix_micros(parts.next()?.parse().ok()?)?;
    let created = match parts.next() {
        Some(created) => Some(created.parse().ok()?),
        None => None,
    };
    if parts.next().is_some() {
        return None;
    }
    Some(TrashFile { file: file.to_owned(), key: TrashKey { name, deleted_at }, created })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trash_file_names_round_trip() {
        let name = WorkflowName::new("fix-issue").unwrap();
        for (deleted, created) in [(1_700_000_000_123_456, Some(1_600_000_000_000_001)), (7, None)]
        {
            let file = trash_file(&name, deleted, created);
            let parsed = parse_trash_file(&file).unwrap();
            assert_eq!(parsed.key.name, name);
            assert_eq!(parsed.key.deleted_at.unix_micros(), deleted);
            assert_eq!(parsed.created, created, "{file}");
        }
        for bad in ["Fix@1.json", "a@x.json", "a@1@2@3.json", "a@1", "a.json", "a@1@x.json"] {
            assert!(parse_trash_file(bad).is_none(), "{bad}");
        }
    }
}
