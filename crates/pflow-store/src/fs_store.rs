//! The filesystem store: one pretty-printed JSON file per workflow under
//! `<home>/workflows/` (SPEC §4.4), written crash-safely and read defensively.
//!
//! The protocol (temp file, fsync, atomic publish, directory fsync; the lock file; temp
//! cleanup; the list index; history and trash) is described step by step in
//! docs/store.md.

mod history;
mod trash;

use std::collections::HashMap;
use std::io;
use std::ops::ControlFlow;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use pflow_fsio::{FileKind, ReadFileError};
use pflow_ir::{Document, Timestamp, WorkflowName};

use crate::index::{self, Fingerprint, IndexReader, Outcome, Record};
use crate::vfs::{Fs, FsFile, RealFs};
use crate::{
    History, Listed, Listing, Location, MAX_DOCUMENT_BYTES, Placed, Problem, PurgeFilter,
    StoreError, StoreResult, StoredDocument, Summary, Transaction, TrashKey, TrashListing, Trashed,
    WorkflowStore,
};

/// The directory under the home that holds the workflows.
const WORKFLOWS_DIR: &str = "workflows";
/// The advisory lock file every transaction holds; never deleted.
const LOCK_FILE: &str = ".lock";
/// Where temp files live while being written: never listed, same filesystem.
const TEMP_DIR: &str = ".tmp";
/// The list index (a cache).
const INDEX_FILE: &str = ".index.json";
/// Where the previous revisions of every workflow are kept: `<name>/<created>@<rev>.json`.
const HISTORY_DIR: &str = ".history";
/// Where deleted workflows go: `<name>@<deleted>[@<created>].json`.
const TRASH_DIR: &str = ".trash";
/// From this many entries on, a second thread `lstat`s them while the listing parses.
const STAT_AHEAD_MIN: usize = 2048;
/// How many `lstat`s the second thread hands over at once, and how many such batches it
/// may be ahead (the names it stats are held anyway; this bounds the metadata).
const STAT_AHEAD_BATCH: usize = 512;
const STAT_AHEAD_DEPTH: usize = 8;
/// How many fresh temp names to try before giving up.
const TEMP_ATTEMPTS: u32 = 16;

/// The pflow home used when neither `--home` nor `PFLOW_HOME` names one: `~/.pflow`.
///
/// `None` when the user's home directory cannot be determined.
pub fn default_home() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|dirs| dirs.home_dir().join(".pflow"))
}

/// The embedded default store: `<home>/workflows/<name>.json`.
///
/// Safe to share between threads and between processes: creates never overwrite (an
/// atomic no-clobber rename), every other mutation (update, restore, delete, trash
/// restore, purge) is serialised by an advisory lock file, and readers only ever see
/// complete files. Every update keeps the replaced revision in `.history/`; a delete
/// moves the file into `.trash/` with one rename.
#[derive(Debug)]
pub struct FsStore {
    home: PathBuf,
    dir: PathBuf,
    fs: Arc<dyn Fs>,
    /// Whether this store made its directories durable already (once per instance).
    dirs_ready: AtomicBool,
}

impl FsStore {
    /// A store rooted at `home`. Does no IO: the home directory is created, with
    /// permissions 0700, by the first write.
    pub fn new(home: impl Into<PathBuf>) -> FsStore {
        FsStore::on(home.into(), Arc::new(RealFs))
    }

    /// A store rooted at `home` doing all its IO through `fs`; for fault-injection tests
    /// (with the `test-support` feature only).
    #[cfg(feature = "test-support")]
    #[doc(hidden)]
    pub fn with_fs(home: impl Into<PathBuf>, fs: Arc<dyn Fs>) -> FsStore {
        FsStore::on(home.into(), fs)
    }

    fn on(home: PathBuf, fs: Arc<dyn Fs>) -> FsStore {
        let dir = home.join(WORKFLOWS_DIR);
        FsStore { home, dir, fs, dirs_ready: AtomicBool::new(false) }
    }

    /// The home directory this store lives in.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The directory that holds the workflow files (`<home>/workflows`).
    pub fn workflows_dir(&self) -> &Path {
        &self.dir
    }

    fn path_of(&self, name: &WorkflowName) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    fn temp_dir(&self) -> PathBuf {
        self.dir.join(TEMP_DIR)
    }

    /// Creates the home and workflows directories if missing (0700) and makes their
    /// entries durable by syncing each parent, once per store instance.
    fn ensure_dirs(&self) -> StoreResult<()> {
        if self.dirs_ready.load(Ordering::Acquire) {
            return Ok(());
        }
        let home = self.home.clone();
        self.durable_dir(&home, 0).map_err(|e| io_error("create directory", &home, e))?;
        self.durable_dir(&self.dir, 0).map_err(|e| io_error("create directory", &self.dir, e))?;
        self.dirs_ready.store(true, Ordering::Release);
        Ok(())
    }

    /// Creates `path` (and missing ancestors) and syncs its parent so the entry survives a
    /// power loss, also when an earlier, interrupted run created it without syncing.
    fn durable_dir(&self, path: &Path, depth: usize) -> io::Result<()> {
        let created = match self.fs.create_dir(path) {
            Ok(()) => true,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
            Err(e) if e.kind() == io::ErrorKind::NotFound && depth < 64 => {
                let parent = parent_of(path);
                self.durable_dir(&parent, depth + 1)?;
                match self.fs.create_dir(path) {
                    Ok(()) => true,
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        match self.fs.sync_dir(&parent_of(path)) {
            Ok(()) => Ok(()),
            // A directory that already existed may sit in a parent this user cannot open
            // for reading; syncing it is only a precaution then.
            Err(_) if !created => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Takes the store's advisory lock (creating the lock file if needed): held for the
    /// whole of a transaction.
    fn lock(&self) -> StoreResult<Box<dyn FsFile>> {
        let path = self.dir.join(LOCK_FILE);
        let mut file = self.fs.open_lock(&path).map_err(|e| io_error("lock", &path, e))?;
        file.lock().map_err(|e| io_error("lock", &path, e))?;
        Ok(file)
    }

    /// Refuses to write when one of the store's own entries is not what it must be — a
    /// symbolic link, or a file where a directory belongs — so that nothing a link points
    /// to is ever written, renamed or deleted.
    fn check_layout(&self) -> StoreResult<()> {
        for dir in [TEMP_DIR, HISTORY_DIR, TRASH_DIR] {
            self.is_store_dir(&self.dir.join(dir))?;
        }
        for file in [LOCK_FILE, INDEX_FILE] {
            let path = self.dir.join(file);
            match self.fs.metadata(&path) {
                Ok(meta) if meta.kind == FileKind::File => {}
                Ok(meta) => return Err(layout(&path, meta.kind, "a regular file")),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error("inspect", &path, e)),
            }
        }
        Ok(())
    }

    /// Removes temp files whose writer is gone: a live writer holds its temp's lock, so a
    /// temp whose lock can be taken is stale. Best effort; failures are left for the
    /// next mutation.
    fn clean_temps(&self) {
        let dir = self.temp_dir();
        let Ok(entries) = self.fs.scan_dir(&dir) else { return };
        for entry in entries {
            let path = dir.join(&entry.name);
            match entry.meta.kind {
                FileKind::Dir => {}
                FileKind::File => {
                    if let Ok(mut file) = self.fs.open_existing(&path)
                        && file.try_lock().unwrap_or(false)
                    {
                        let _ = self.fs.remove_file(&path);
                    }
                }
                _ => {
                    let _ = self.fs.remove_file(&path);
                }
            }
        }
    }

    /// A new, locked, empty temp file in the temp directory, which must be a directory of
    /// the store's own (created if missing; a link in its place is refused).
    fn new_temp(&self) -> StoreResult<Temp> {
        let dir = self.temp_dir();
        if !self.is_store_dir(&dir)? {
            match self.fs.create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_error("create directory", &dir, e)),
            }
            self.is_store_dir(&dir)?;
        }
        self.new_temp_in(&dir).map_err(|e| io_error("write", &dir, e))
    }

    fn new_temp_in(&self, dir: &Path) -> io::Result<Temp> {
        static SEQUENCE: AtomicU64 = AtomicU64::new(0);
        let mut made_dir = false;
        for _ in 0..TEMP_ATTEMPTS {
            let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed);
            let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
            let path = dir.join(format!("{}-{nanos}-{seq}.tmp", process::id()));
            let mut file = match self.fs.create_new(&path) {
                Ok(file) => file,
                Err(e) if e.kind() == io::ErrorKind::NotFound && !made_dir => {
                    made_dir = true;
                    match self.fs.create_dir(dir) {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                        Err(e) => return Err(e),
                    }
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            };
            // A cleaner may have found the file before it was locked: then it holds the
            // lock, or has removed the file. Either way, use another name.
            match self.claim(&path, file.as_mut()) {
                Ok(true) => return Ok(Temp { path, file: Some(file) }),
                Ok(false) => continue,
                Err(e) => {
                    self.discard(Temp { path, file: Some(file) });
                    return Err(e);
                }
            }
        }
        Err(io::Error::other("could not create a temporary file with a fresh name"))
    }

    /// Locks a freshly created temp file and checks that `path` still names it; `false`
    /// when a cleaner got to it first.
    fn claim(&self, path: &Path, file: &mut dyn FsFile) -> io::Result<bool> {
        if !file.try_lock()? {
            return Ok(false);
        }
        let mine = file.metadata()?;
        match self.fs.metadata(path) {
            Ok(there) => Ok(there.kind == FileKind::File && there.ino == mine.ino),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// A durable temp file holding `bytes`.
    fn write_temp(&self, bytes: &[u8]) -> StoreResult<Temp> {
        let mut temp = self.new_temp()?;
        let file = temp.file.as_mut().expect("a new temp file is open");
        let written = file.write_all(bytes).and_then(|()| file.sync());
        match written {
            Ok(()) => Ok(temp),
            Err(e) => {
                let error = io_error("write", &temp.path, e);
                self.discard(temp);
                Err(error)
            }
        }
    }

    /// Removes a temp file that will not be published (best effort: a failure leaves it
    /// to the next mutation's cleanup).
    fn discard(&self, temp: Temp) {
        let _ = self.fs.remove_file(&temp.path);
        drop(temp);
    }

    /// Reads and parses the document stored under `name`.
    fn read_doc(&self, name: &WorkflowName) -> StoreResult<Document> {
        self.read_live(name).map(|(_, doc)| doc)
    }

    /// Reads the document stored under `name`, with its bytes as they are on disk.
    fn read_live(&self, name: &WorkflowName) -> StoreResult<(Vec<u8>, Document)> {
        match self.read_at(&self.path_of(name), name) {
            Ok(Some(read)) => Ok(read),
            Ok(None) => Err(not_found(name)),
            Err(StoreError::Corrupt { location, reason, .. }) => {
                Err(StoreError::Corrupt { location, reason, workflow: Some(name.clone()) })
            }
            Err(e) => Err(e),
        }
    }

    /// Reads and parses the document of `name` stored at `path` (live, kept revision or
    /// trash entry); `None` when there is nothing at `path`.
    fn read_at(
        &self,
        path: &Path,
        name: &WorkflowName,
    ) -> StoreResult<Option<(Vec<u8>, Document)>> {
        match self.fs.read_file(path, MAX_DOCUMENT_BYTES) {
            Ok((bytes, _)) => match parse_document(name, &bytes) {
                Ok(doc) => Ok(Some((bytes, doc))),
                Err(reason) => Err(corrupt(path, reason)),
            },
            Err(e) if e.is_not_found() => Ok(None),
            Err(ReadFileError::Io(e)) => Err(io_error("read", path, e)),
            Err(e) => Err(corrupt(path, e.to_string())),
        }
    }

    /// Keeps `current` (stored as `current_bytes`) in the history, then publishes `next`
    /// in its place; called under the lock.
    fn replace_live(
        &self,
        current: &Document,
        current_bytes: &[u8],
        next: &StoredDocument,
    ) -> StoreResult<()> {
        let name = &current.name;
        // The revision being replaced is durable in the history before the new one is
        // published: a crash in between leaves an extra copy, never a missing revision.
        self.keep_revision(name, current, current_bytes)?;
        let target = self.path_of(name);
        let temp = self.write_temp(next.text().as_bytes())?;
        if let Err(e) = self.fs.rename(&temp.path, &target) {
            self.discard(temp);
            return Err(io_error("publish", &target, e));
        }
        drop(temp);
        self.fs.sync_dir(&self.dir).map_err(|e| io_error("sync", &self.dir, e))
    }

    /// Publishes a new workflow without ever replacing an entry of its name.
    fn create_live(&self, doc: &StoredDocument) -> StoreResult<()> {
        let name = &doc.document().name;
        let target = self.path_of(name);
        let temp = self.write_temp(doc.text().as_bytes())?;
        match self.fs.rename_noreplace(&temp.path, &target) {
            Ok(()) => {}
            Err(e) => {
                self.discard(temp);
                return Err(match e.kind() {
                    io::ErrorKind::AlreadyExists => {
                        StoreError::WorkflowExists { name: name.clone() }
                    }
                    _ => io_error("publish", &target, e),
                });
            }
        }
        drop(temp);
        self.fs.sync_dir(&self.dir).map_err(|e| io_error("sync", &self.dir, e))
    }

    /// Creates, if missing, one of the store's own directories (`.history`, …) under a
    /// parent that exists, checks that it is a real directory (not a planted link), and
    /// makes its entry durable — also when it existed, since a killed process may have
    /// created it without syncing.
    fn durable_store_dir(&self, path: &Path) -> StoreResult<()> {
        match self.fs.create_dir(path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_error("create directory", path, e)),
        }
        if !self.is_store_dir(path)? {
            return Err(io_error("create directory", path, io::ErrorKind::NotFound.into()));
        }
        let parent = parent_of(path);
        self.fs.sync_dir(&parent).map_err(|e| io_error("sync", &parent, e))
    }

    /// Whether `path` is a directory of the store's own: `false` when missing, `Corrupt`
    /// when something else (a symbolic link is never followed) is in its place.
    fn is_store_dir(&self, path: &Path) -> StoreResult<bool> {
        match self.fs.metadata(path) {
            Ok(meta) if meta.kind == FileKind::Dir => Ok(true),
            Ok(meta) => Err(layout(path, meta.kind, "a directory")),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_error("inspect", path, e)),
        }
    }

    /// The entries of one of the store's own directories; empty when it does not exist.
    fn scan_store_dir(&self, path: &Path) -> StoreResult<Vec<pflow_fsio::DirEntry>> {
        if !self.is_store_dir(path)? {
            return Ok(Vec::new());
        }
        match self.fs.scan_dir(path) {
            Ok(entries) => Ok(entries),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(io_error("list", path, e)),
        }
    }

    /// Streams the listing: the directory's names, sorted, merged with the index (read
    /// one record at a time, in the same order); a file the index cannot vouch for is
    /// read and parsed, and when anything was read or dropped a new index is written as
    /// the merge goes (see docs/store.md, "The list index").
    fn visit_indexed(&self, visit: &mut dyn FnMut(Listed) -> ControlFlow<()>) -> StoreResult<()> {
        let index_path = self.dir.join(INDEX_FILE);
        let dir = match self.fs.open_dir(&self.dir) {
            Ok(dir) => dir,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io_error("list", &self.dir, e)),
        };
        // A damaged index is rebuilt; something other than a file in its place is left
        // alone, and the listing says so.
        let mut index_refused = None;
        let index_file = match self.fs.open_read(&index_path, u64::MAX) {
            Ok((file, _)) => Some(file),
            Err(ReadFileError::NotRegular { kind }) => {
                index_refused = Some(layout(&index_path, kind, "a regular file"));
                None
            }
            Err(_) => None,
        };

        // Only the names are held (one buffer), sorted by workflow name; every entry is
        // looked at when the merge reaches it.
        let mut names = Names::default();
        let mut early_problems = Vec::new();
        dir.names(&mut |name| {
            if name.starts_with(b".") {
                return;
            }
            let Ok(file) = std::str::from_utf8(name) else {
                let location = self.dir.join(std::ffi::OsStr::from_bytes(name));
                early_problems.push(problem(&location, "file name is not valid UTF-8"));
                return;
            };
            match unlistable_name(file) {
                Some(reason) => early_problems.push(problem(&self.dir.join(file), &reason)),
                None => names.push(stem(file)),
            }
        })
        .map_err(|e| io_error("list", &self.dir, e))?;
        names.sort();
        for problem in early_problems {
            if visit(Listed::Problem(problem)).is_break() {
                return Ok(());
            }
        }

        let merge = Merge {
            store: self,
            index: IndexReader::new(index_file),
            index_path,
            index_refused,
            writer: None,
            kept_until: IndexReader::records_start(),
            kept: 0,
        };
        if names.spans.len() < STAT_AHEAD_MIN {
            return self.merge(&names, merge, visit, &mut |file| dir.stat(file));
        }
        // A large directory: a second thread `lstat`s the entries in name order while
        // this one parses the index and hands summaries to the visitor, so the system
        // calls of the scan and the parsing overlap. Dropping the receiver (at the end,
        // or when the visitor stops early) ends the thread.
        std::thread::scope(|scope| {
            let (sender, receiver) = std::sync::mpsc::sync_channel(STAT_AHEAD_DEPTH);
            let (dir, names) = (&*dir, &names);
            let spawned = std::thread::Builder::new().name("pflow-stat".to_owned()).spawn_scoped(
                scope,
                move || {
                    let mut file = String::new();
                    let mut batch = Vec::with_capacity(STAT_AHEAD_BATCH);
                    for name in names.iter() {
                        file.clear();
                        file.push_str(name);
                        file.push_str(".json");
                        batch.push(dir.stat(file.as_bytes()));
                        if batch.len() == STAT_AHEAD_BATCH {
                            let full =
                                std::mem::replace(&mut batch, Vec::with_capacity(STAT_AHEAD_BATCH));
                            if sender.send(full).is_err() {
                                return;
                            }
                        }
                    }
                    let _ = sender.send(batch);
                },
            );
            match spawned {
                // One answer per name, in the order the merge asks.
                Ok(_) => {
                    let mut ready = Vec::new().into_iter();
                    self.merge(names, merge, visit, &mut |_| loop {
                        if let Some(meta) = ready.next() {
                            return meta;
                        }
                        match receiver.recv() {
                            Ok(batch) => ready = batch.into_iter(),
                            Err(_) => return Err(io::Error::other("the stat thread stopped")),
                        }
                    })
                }
                Err(_) => self.merge(names, merge, visit, &mut |file| dir.stat(file)),
            }
        })
    }

    /// The merge of the sorted `names` with the index: `stat` gives the `lstat` of each
    /// name's file, called once per name, in order.
    fn merge(
        &self,
        names: &Names,
        mut merge: Merge<'_>,
        visit: &mut dyn FnMut(Listed) -> ControlFlow<()>,
        stat: &mut dyn FnMut(&[u8]) -> io::Result<pflow_fsio::FileMeta>,
    ) -> StoreResult<()> {
        let mut file = String::new();
        for name in names.iter() {
            // Records of files that are gone.
            while merge.index.peek().is_some_and(|r| r.stem() < name) {
                if let Some(problem) = merge.change()
                    && visit(Listed::Problem(problem)).is_break()
                {
                    return Ok(());
                }
                merge.index.next();
            }
            let record = match merge.index.peek() {
                Some(r) if r.stem() == name => merge.index.next(),
                _ => None,
            };
            file.clear();
            file.push_str(name);
            file.push_str(".json");
            let location = || self.dir.join(&file);
            let meta = match stat(file.as_bytes()) {
                Ok(meta) => meta,
                // Deleted since the scan: it is simply not listed.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    if record.is_some()
                        && let Some(problem) = merge.change()
                        && visit(Listed::Problem(problem)).is_break()
                    {
                        return Ok(());
                    }
                    continue;
                }
                Err(e) => {
                    let reason = format!("cannot inspect: {e}");
                    if report(&mut merge, record.is_some(), problem(&location(), &reason), visit) {
                        return Ok(());
                    }
                    continue;
                }
            };
            if let Some(reason) = unlistable_meta(&meta) {
                if report(&mut merge, record.is_some(), problem(&location(), &reason), visit) {
                    return Ok(());
                }
                continue;
            }
            let mut entries: [Option<Listed>; 2] = [None, None];
            match record {
                Some((record, end)) if record.trusted && record.fp == Fingerprint::of(&meta) => {
                    merge.keep(&record, end);
                    entries[1] = Some(listed(&self.dir, record));
                }
                _ => {
                    entries[0] = merge.change().map(Listed::Problem);
                    let name = WorkflowName::new(name).expect("the scan checked the name");
                    entries[1] = merge.read(&file, &name);
                }
            }
            for entry in entries.into_iter().flatten() {
                if visit(entry).is_break() {
                    return Ok(());
                }
            }
        }
        // Records of files that are gone, after the last name; and a damaged index.
        if (merge.index.peek().is_some() || !merge.index.intact())
            && let Some(problem) = merge.change()
            && visit(Listed::Problem(problem)).is_break()
        {
            return Ok(());
        }
        merge.finish();
        Ok(())
    }
}

/// The names of a directory scan (workflow names, without `.json`), in one buffer.
#[derive(Debug, Default)]
struct Names {
    bytes: String,
    spans: Vec<(u32, u32)>,
}

impl Names {
    fn push(&mut self, name: &str) {
        let start = u32::try_from(self.bytes.len()).expect("names fit in 4 GiB");
        self.bytes.push_str(name);
        let len = u32::try_from(name.len()).expect("a name is short");
        self.spans.push((start, len));
    }

    fn get(&self, (start, len): (u32, u32)) -> &str {
        &self.bytes[start as usize..(start + len) as usize]
    }

    fn sort(&mut self) {
        let mut spans = std::mem::take(&mut self.spans);
        spans.sort_unstable_by(|a, b| self.get(*a).cmp(self.get(*b)));
        self.spans = spans;
    }

    fn iter(&self) -> impl Iterator<Item = &str> {
        self.spans.iter().map(|span| self.get(*span))
    }
}

/// The state of one listing's merge of the directory with the index: what the new
/// index (if one is needed) has been given so far.
struct Merge<'s> {
    store: &'s FsStore,
    index: IndexReader,
    index_path: PathBuf,
    /// Why the index cannot be written (something else in its place), if so.
    index_refused: Option<StoreError>,
    /// The new index, once something changed: `None` before that, `Some(None)` when it
    /// cannot be written.
    writer: Option<Option<IndexWriter>>,
    /// The end of the last record kept as it is, before anything changed.
    kept_until: u64,
    /// How many records were kept before anything changed.
    kept: usize,
}

/// A new index being written into a temp file.
struct IndexWriter {
    temp: Temp,
    /// The reference time T0: the temp file's mtime, taken before any file was read.
    reference: Option<i64>,
    records: usize,
}

impl Merge<'_> {
    /// A record is kept as it is.
    fn keep(&mut self, record: &Record, end: u64) {
        if self.writer.is_none() {
            self.kept_until = end;
            self.kept += 1;
        } else {
            self.write(record);
        }
    }

    /// Something differs from the index: from now on a new index is written. Creating
    /// its temp file takes the reference time before any file is read. Returns the
    /// problem to report when the index cannot be written because of the store's layout.
    fn change(&mut self) -> Option<Problem> {
        if self.writer.is_some() {
            return None;
        }
        let temp = match self.index_refused.take() {
            Some(refused) => Err(refused),
            None => self.store.new_temp(),
        };
        let mut report = None;
        let writer = match temp {
            Ok(mut temp) => {
                let file = temp.file.as_mut().expect("a new temp file is open");
                let reference = file.metadata().ok().map(|meta| meta.mtime_ns);
                let copied = file.write_all(index::HEADER).and_then(|()| {
                    self.index.copy(IndexReader::records_start(), self.kept_until, &mut |bytes| {
                        file.write_all(bytes)
                    })
                });
                match copied {
                    Ok(()) => Some(IndexWriter { temp, reference, records: self.kept }),
                    Err(_) => {
                        self.store.discard(temp);
                        None
                    }
                }
            }
            // The index is a cache: without a usable temp directory, or with something
            // else in its place, it is not written, and the listing says why.
            Err(StoreError::Layout { location, reason }) => {
                report = Some(Problem {
                    location,
                    reason: format!("{reason}; the list index was not updated"),
                });
                None
            }
            Err(_) => None,
        };
        self.writer = Some(writer);
        report
    }

    /// Reads one file the index cannot vouch for: its summary or problem, recorded in the
    /// new index (trusted only if its timestamps are older than the reference time).
    fn read(&mut self, file: &str, name: &WorkflowName) -> Option<Listed> {
        let store = self.store;
        let location = store.dir.join(file);
        let (bytes, meta) = match store.fs.read_file(&location, MAX_DOCUMENT_BYTES) {
            Ok(read) => read,
            // Deleted since the scan: it is simply not listed.
            Err(e) if e.is_not_found() => return None,
            Err(ReadFileError::Io(e)) => {
                return Some(Listed::Problem(problem(&location, &format!("cannot read: {e}"))));
            }
            Err(e) => return Some(Listed::Problem(problem(&location, &e.to_string()))),
        };
        let outcome = match parse_document(name, &bytes) {
            Ok(doc) => Outcome::Summary(Box::new(Summary::of(&doc))),
            Err(reason) => Outcome::Problem(reason),
        };
        let reference = self.writer.as_ref().and_then(|w| w.as_ref()).and_then(|w| w.reference);
        let trusted = reference.is_some_and(|t0| meta.mtime_ns.max(meta.ctime_ns) < t0);
        let record = Record { file: file.to_owned(), fp: Fingerprint::of(&meta), trusted, outcome };
        self.write(&record);
        Some(listed(&store.dir, record))
    }

    /// Adds `record` to the new index, if one is being written.
    fn write(&mut self, record: &Record) {
        let Some(Some(writer)) = &mut self.writer else { return };
        let line = index::encode_record(record, writer.records == 0);
        let file = writer.temp.file.as_mut().expect("a new temp file is open");
        if file.write_all(&line).is_err() {
            // A cache: give up on it, keep listing.
            if let Some(Some(writer)) = self.writer.take() {
                self.store.discard(writer.temp);
            }
            self.writer = Some(None);
            return;
        }
        writer.records += 1;
    }

    /// Publishes the new index, if one was written (best effort: it is a cache).
    fn finish(mut self) {
        let Some(Some(mut writer)) = self.writer.take() else { return };
        let file = writer.temp.file.as_mut().expect("a new temp file is open");
        let written = file.write_all(index::END);
        if written.and_then(|()| self.store.fs.rename(&writer.temp.path, &self.index_path)).is_err()
        {
            self.store.discard(writer.temp);
        }
    }
}

impl Drop for Merge<'_> {
    /// A listing stopped early leaves no half-written index behind.
    fn drop(&mut self) {
        if let Some(Some(writer)) = self.writer.take() {
            self.store.discard(writer.temp);
        }
    }
}

/// Reports an entry that cannot be listed; when the index had a record of it, the index
/// changes. Whether the visitor asked to stop.
fn report(
    merge: &mut Merge<'_>,
    had_record: bool,
    entry: Problem,
    visit: &mut dyn FnMut(Listed) -> ControlFlow<()>,
) -> bool {
    if had_record
        && let Some(problem) = merge.change()
        && visit(Listed::Problem(problem)).is_break()
    {
        return true;
    }
    visit(Listed::Problem(entry)).is_break()
}

/// The entry a record stands for.
fn listed(dir: &Path, record: Record) -> Listed {
    match record.outcome {
        Outcome::Summary(summary) => Listed::Workflow(*summary),
        Outcome::Problem(reason) => Listed::Problem(problem(&dir.join(&record.file), &reason)),
    }
}

/// The workflow name part of a file name (`a-b` of `a-b.json`).
fn stem(file: &str) -> &str {
    file.strip_suffix(".json").unwrap_or(file)
}

/// Why a directory entry cannot be a listed workflow, judged from its name alone; `None`
/// when it is `<valid name>.json`.
fn unlistable_name(file: &str) -> Option<String> {
    let Some(stem) = file.strip_suffix(".json") else {
        return Some("not a workflow file (workflows are stored as `<name>.json`)".to_owned());
    };
    if let Err(e) = WorkflowName::new(stem) {
        return Some(format!("`{stem}` is not a valid workflow name: {}", e.problem()));
    }
    None
}

/// Why a directory entry with a good name cannot be a listed workflow, judged from its
/// `lstat` alone; `None` when it must be read.
fn unlistable_meta(meta: &pflow_fsio::FileMeta) -> Option<String> {
    if meta.kind != FileKind::File {
        return Some(format!("not a regular file ({})", meta.kind.describe()));
    }
    if meta.len > MAX_DOCUMENT_BYTES {
        let too_large = ReadFileError::TooLarge { size: meta.len, limit: MAX_DOCUMENT_BYTES };
        return Some(too_large.to_string());
    }
    None
}

/// A temp file being written; its lock (held while `file` is open) tells cleaners that
/// its writer is alive.
#[derive(Debug)]
struct Temp {
    path: PathBuf,
    file: Option<Box<dyn FsFile>>,
}

impl WorkflowStore for FsStore {
    fn load(&self, name: &WorkflowName) -> StoreResult<Document> {
        self.read_live(name).map(|(_, doc)| doc)
    }

    fn visit(&self, visit: &mut dyn FnMut(Listed) -> ControlFlow<()>) -> StoreResult<()> {
        self.visit_indexed(visit)
    }

    fn exists(&self, name: &WorkflowName) -> StoreResult<bool> {
        let path = self.path_of(name);
        match self.fs.metadata(&path) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_error("inspect", &path, e)),
        }
    }

    fn kept_revisions(&self, current: &Document) -> StoreResult<History> {
        self.read_kept(current)
    }

    fn kept_revision(&self, current: &Document, revision: u64) -> StoreResult<Option<Document>> {
        self.read_kept_revision(current, revision)
    }

    fn trash(&self) -> StoreResult<TrashListing> {
        self.list_trash()
    }

    fn trashed(&self, name: &WorkflowName) -> StoreResult<Vec<Trashed>> {
        self.trashed_of(name)
    }

    fn locate(&self, name: &WorkflowName) -> Location {
        location(&self.path_of(name))
    }

    fn write(
        &self,
        work: &mut dyn FnMut(&mut dyn Transaction) -> StoreResult<()>,
    ) -> StoreResult<()> {
        self.ensure_dirs()?;
        self.check_layout()?;
        let _lock = self.lock()?;
        self.clean_temps();
        let mut txn = FsTransaction { store: self, read: HashMap::new() };
        work(&mut txn)
    }
}

/// A transaction of the filesystem store: everything happens under the store's lock, so
/// no other writer (thread or process) changes anything until it ends. It remembers the
/// bytes of the documents it read, so that a replaced revision is kept exactly as it was
/// stored.
struct FsTransaction<'s> {
    store: &'s FsStore,
    read: HashMap<WorkflowName, Vec<u8>>,
}

impl Transaction for FsTransaction<'_> {
    fn load(&mut self, name: &WorkflowName) -> StoreResult<Option<Document>> {
        match self.store.read_live(name) {
            Ok((bytes, doc)) => {
                self.read.insert(name.clone(), bytes);
                Ok(Some(doc))
            }
            Err(StoreError::WorkflowNotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn exists(&mut self, name: &WorkflowName) -> StoreResult<bool> {
        self.store.exists(name)
    }

    fn kept_revision(
        &mut self,
        current: &Document,
        revision: u64,
    ) -> StoreResult<Option<Document>> {
        self.store.read_kept_revision(current, revision)
    }

    fn list(&mut self) -> StoreResult<Listing> {
        self.store.list()
    }

    fn trashed(&mut self, name: &WorkflowName) -> StoreResult<Vec<Trashed>> {
        self.store.trashed_of(name)
    }

    fn create(&mut self, doc: &StoredDocument) -> StoreResult<()> {
        self.store.create_live(doc)
    }

    fn replace(&mut self, current: &Document, next: &StoredDocument) -> StoreResult<()> {
        let name = &current.name;
        let bytes = match self.read.remove(name) {
            Some(bytes) => bytes,
            None => self.store.read_live(name)?.0,
        };
        self.store.replace_live(current, &bytes, next)
    }

    fn delete(&mut self, name: &WorkflowName, deleted_at: Timestamp) -> StoreResult<TrashKey> {
        self.read.remove(name);
        self.store.move_to_trash(name, deleted_at)
    }

    fn restore(&mut self, key: &TrashKey) -> StoreResult<()> {
        self.store.restore_from_trash(key)
    }

    fn purge(&mut self, filter: &PurgeFilter) -> StoreResult<Vec<TrashKey>> {
        self.store.purge_trash(filter)
    }

    fn put_life(
        &mut self,
        revisions: &[StoredDocument],
        deleted_at: Option<Timestamp>,
    ) -> StoreResult<Placed> {
        let Some((last, kept)) = revisions.split_last() else { return Ok(Placed::Live) };
        let name = &last.document().name;
        if deleted_at.is_none() && self.store.exists(name)? {
            return Err(StoreError::WorkflowExists { name: name.clone() });
        }
        // The kept revisions first, then the document that refers to them: a crash in
        // between leaves history nobody refers to, which a purge collects.
        for revision in kept {
            self.store.keep_revision(name, revision.document(), revision.text().as_bytes())?;
        }
        match deleted_at {
            None => self.store.create_live(last).map(|()| Placed::Live),
            Some(at) => self.store.put_in_trash(last, at).map(Placed::Trashed),
        }
    }
}

/// Parses a stored document and checks that it is the one its file name says.
fn parse_document(name: &WorkflowName, bytes: &[u8]) -> Result<Document, String> {
    let value = pflow_ir::parse_json(bytes).map_err(|e| {
        format!("invalid JSON at line {}, column {}: {}", e.line, e.column, e.message)
    })?;
    let doc: Document =
        serde_json::from_value(value).map_err(|e| format!("not a workflow document: {e}"))?;
    if doc.name != *name {
        return Err(format!("name `{}` inside does not match file name `{name}.json`", doc.name));
    }
    Ok(doc)
}

fn problem(location: &Path, reason: &str) -> Problem {
    Problem { location: location.display().to_string(), reason: reason.to_owned() }
}

fn location(path: &Path) -> Location {
    Location(path.display().to_string())
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn not_found(name: &WorkflowName) -> StoreError {
    StoreError::WorkflowNotFound { name: name.clone(), suggestions: Vec::new() }
}

/// An entry that cannot be read as a document; its workflow is filled in by
/// [`FsStore::read_live`] when it is a live entry.
fn corrupt(path: &Path, reason: String) -> StoreError {
    StoreError::Corrupt { location: path.display().to_string(), reason, workflow: None }
}

/// The live entry of `name` that cannot be used as a document.
fn live_corrupt(path: &Path, name: &WorkflowName, reason: &str) -> StoreError {
    StoreError::Corrupt {
        location: path.display().to_string(),
        reason: reason.to_owned(),
        workflow: Some(name.clone()),
    }
}

/// One of the store's own entries that is `kind` instead of `expected`.
fn layout(path: &Path, kind: FileKind, expected: &str) -> StoreError {
    StoreError::Layout {
        location: path.display().to_string(),
        reason: format!("{} instead of {expected}", kind.describe()),
    }
}

fn io_error(action: &'static str, path: &Path, source: io::Error) -> StoreError {
    StoreError::Io { action, path: path.to_owned(), source }
}
