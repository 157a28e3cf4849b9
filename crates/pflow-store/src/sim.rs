//! `SimFs`: an in-memory [`Fs`] for tests that injects faults and simulates power loss.
//!
//! It models what a POSIX filesystem promises and no more: a file's bytes survive a power
//! loss only up to its last `fsync`, and a directory entry (creation, rename, removal)
//! only once its directory was `fsync`ed. Every call through [`Fs`] or [`FsFile`] is
//! counted, so a test can make the n-th call fail (once or from then on) or cut the power
//! just before it. Public only for the store's tests (`#[doc(hidden)]`).

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::io;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use pflow_fsio::{DirEntry, FileKind, FileMeta, ReadFileError};

use crate::vfs::{Fs, FsDir, FsFile, FsRead};

/// What survives a simulated power loss besides data that was `fsync`ed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerLoss {
    /// Directory entries survive only if their directory was `fsync`ed after the change:
    /// the strict POSIX reading.
    LoseUnsynced,
    /// Every directory change survives (a metadata journal), but file bytes still only up
    /// to their last `fsync` (like ext4 `data=writeback`).
    KeepNamespace,
}

/// An in-memory filesystem with fault injection and power-loss simulation.
///
/// Clones share one filesystem.
#[derive(Debug, Clone)]
pub struct SimFs {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    unlocked: Condvar,
}

#[derive(Debug, Clone)]
enum Node {
    Dir,
    File(u64),
    Symlink(PathBuf),
    Special(FileKind),
}

#[derive(Debug, Clone)]
struct Inode {
    data: Vec<u8>,
    synced: Vec<u8>,
    mtime: i64,
    ctime: i64,
}

#[derive(Debug, Clone)]
struct Image {
    live: BTreeMap<PathBuf, Node>,
    inodes: HashMap<u64, Inode>,
    clock: i64,
    tick: i64,
    next_ino: u64,
}

#[derive(Debug)]
struct State {
    clock: i64,
    tick: i64,
    next_ino: u64,
    next_handle: u64,
    inodes: HashMap<u64, Inode>,
    live: BTreeMap<PathBuf, Node>,
    durable: BTreeMap<PathBuf, Node>,
    locks: HashMap<u64, u64>,
    calls: u64,
    reads: u64,
    fail_at: Option<(u64, bool)>,
    crash_at: Option<u64>,
    crashed: Option<(Image, Image)>,
}

/// 2023-11-14T22:13:20Z, a plausible present.
const EPOCH_NS: i64 = 1_700_000_000_000_000_000;

impl Default for SimFs {
    fn default() -> SimFs {
        SimFs::new()
    }
}

impl SimFs {
    /// An empty filesystem holding only `/`, with a nanosecond clock.
    pub fn new() -> SimFs {
        let mut root = BTreeMap::new();
        root.insert(PathBuf::from("/"), Node::Dir);
        SimFs::from_image(Image {
            live: root,
            inodes: HashMap::new(),
            clock: EPOCH_NS,
            tick: 1,
            next_ino: 1,
        })
    }

    fn from_image(image: Image) -> SimFs {
        let state = State {
            clock: image.clock,
            tick: image.tick,
            next_ino: image.next_ino,
            next_handle: 1,
            inodes: image.inodes,
            durable: image.live.clone(),
            live: image.live,
            locks: HashMap::new(),
            calls: 0,
            reads: 0,
            fail_at: None,
            crash_at: None,
            crashed: None,
        };
        SimFs { shared: Arc::new(Shared { state: Mutex::new(state), unlocked: Condvar::new() }) }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How many calls went through the [`Fs`] and [`FsFile`] interfaces so far.
    pub fn calls(&self) -> u64 {
        self.state().calls
    }

    /// How many files were read through [`Fs::read_file`] so far.
    pub fn reads(&self) -> u64 {
        self.state().reads
    }

    /// Makes call number `n` (counting from the next call as `calls() + 1`) fail with an
    /// injected error; with `persistent`, every later call fails too.
    pub fn fail_call(&self, n: u64, persistent: bool) {
        let mut state = self.state();
        state.fail_at = Some((state.calls + n, persistent));
    }

    /// Removes injected faults.
    pub fn clear_faults(&self) {
        self.state().fail_at = None;
    }

    /// Cuts the power just before call number `n` (counting from the next call as
    /// `calls() + 1`): that call and every later one fail, and [`SimFs::recover`] gives
    /// the filesystem as it is after the machine restarts.
    pub fn crash_at_call(&self, n: u64) {
        let mut state = self.state();
        state.crash_at = Some(state.calls + n);
    }

    /// Whether the power was cut.
    pub fn crashed(&self) -> bool {
        self.state().crashed.is_some()
    }

    /// The filesystem after the restart that follows the power cut, or `None` if the
    /// power was never cut.
    pub fn recover(&self, mode: PowerLoss) -> Option<SimFs> {
        let state = self.state();
        let (strict, keep) = state.crashed.as_ref()?;
        let image = match mode {
            PowerLoss::LoseUnsynced => strict.clone(),
            PowerLoss::KeepNamespace => keep.clone(),
        };
        Some(SimFs::from_image(image))
    }

    /// The filesystem as a power cut right now would leave it (this one is unchanged).
    pub fn power_loss_now(&self, mode: PowerLoss) -> SimFs {
        let state = self.state();
        let image = match mode {
            PowerLoss::LoseUnsynced => state.image_strict(),
            PowerLoss::KeepNamespace => state.image_keep(),
        };
        SimFs::from_image(image)
    }

    /// Sets the timestamp granularity in nanoseconds (1 by default): file times are the
    /// clock rounded down to it, as on filesystems with coarse timestamps.
    pub fn set_tick(&self, tick_ns: i64) {
        self.state().tick = tick_ns.max(1);
    }

    /// Moves the clock forward.
    pub fn advance_clock(&self, ns: i64) {
        self.state().clock += ns;
    }

    /// Writes a file behind the store's back, durably: in place (same inode) if it
    /// exists, else as a new file. Creates missing parent directories. Not counted.
    pub fn plant_file(&self, path: &Path, bytes: &[u8]) {
        let mut state = self.state();
        state.plant_parents(path);
        let now = state.now();
        let existing = match state.live.get(path) {
            Some(Node::File(ino)) => Some(*ino),
            _ => None,
        };
        let ino = existing.unwrap_or_else(|| state.new_inode());
        let inode = state.inodes.get_mut(&ino).expect("a live file has an inode");
        inode.data = bytes.to_vec();
        inode.synced = bytes.to_vec();
        inode.mtime = now;
        inode.ctime = now;
        state.plant(path, Node::File(ino));
    }

    /// Plants a symbolic link, durably. Not counted.
    pub fn plant_symlink(&self, path: &Path, target: &Path) {
        let mut state = self.state();
        state.plant_parents(path);
        state.plant(path, Node::Symlink(target.to_owned()));
    }

    /// Plants a directory, durably. Not counted.
    pub fn plant_dir(&self, path: &Path) {
        let mut state = self.state();
        state.plant_parents(path);
        state.plant(path, Node::Dir);
    }

    /// Plants a FIFO, socket or device, durably. Not counted.
    pub fn plant_special(&self, path: &Path, kind: FileKind) {
        let mut state = self.state();
        state.plant_parents(path);
        state.plant(path, Node::Special(kind));
    }

    /// Removes an entry behind the store's back, durably. Not counted.
    pub fn remove_raw(&self, path: &Path) {
        let mut state = self.state();
        state.live.remove(path);
        state.durable.remove(path);
    }

    /// The current bytes of a regular file, if there is one at `path`. Not counted.
    pub fn read_raw(&self, path: &Path) -> Option<Vec<u8>> {
        let state = self.state();
        match state.live.get(path)? {
            Node::File(ino) => Some(state.inodes[ino].data.clone()),
            _ => None,
        }
    }

    /// The names in directory `dir`, sorted; empty if it does not exist. Not counted.
    pub fn names_in(&self, dir: &Path) -> Vec<String> {
        let state = self.state();
        state.children(dir).map(|(path, _)| file_name(path)).collect()
    }

    /// Every path that exists, sorted. Not counted.
    pub fn all_paths(&self) -> Vec<PathBuf> {
        self.state().live.keys().cloned().collect()
    }

    fn handle(&self, ino: u64) -> Box<dyn FsFile> {
        let handle = {
            let mut state = self.state();
            state.next_handle += 1;
            state.next_handle
        };
        Box::new(SimFile { fs: self.clone(), ino, handle })
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn injected() -> io::Error {
    io::Error::other("injected fault")
}

fn power_lost() -> io::Error {
    io::Error::other("simulated power loss")
}

fn errno(e: rustix::io::Errno) -> io::Error {
    e.into()
}

impl State {
    /// Counts a call and decides whether it fails.
    fn enter(&mut self) -> io::Result<()> {
        self.calls += 1;
        self.clock += 1;
        if self.crash_at == Some(self.calls) && self.crashed.is_none() {
            self.crashed = Some((self.image_strict(), self.image_keep()));
        }
        if self.crashed.is_some() {
            return Err(power_lost());
        }
        match self.fail_at {
            Some((at, _)) if at == self.calls => Err(injected()),
            Some((at, true)) if self.calls > at => Err(injected()),
            _ => Ok(()),
        }
    }

    fn now(&self) -> i64 {
        self.clock - self.clock.rem_euclid(self.tick)
    }

    fn new_inode(&mut self) -> u64 {
        let ino = self.next_ino;
        self.next_ino += 1;
        let now = self.now();
        self.inodes
            .insert(ino, Inode { data: Vec::new(), synced: Vec::new(), mtime: now, ctime: now });
        ino
    }

    fn plant_parents(&mut self, path: &Path) {
        let mut missing: Vec<PathBuf> = path
            .ancestors()
            .skip(1)
            .take_while(|p| !matches!(self.live.get(*p), Some(Node::Dir)))
            .map(Path::to_path_buf)
            .collect();
        missing.reverse();
        for dir in missing {
            self.plant(&dir, Node::Dir);
        }
    }

    fn plant(&mut self, path: &Path, node: Node) {
        self.live.insert(path.to_owned(), node.clone());
        self.durable.insert(path.to_owned(), node);
    }

    fn children<'a>(&'a self, dir: &'a Path) -> impl Iterator<Item = (&'a PathBuf, &'a Node)> {
        self.live
            .range::<Path, _>((Bound::Excluded(dir), Bound::Unbounded))
            .take_while(move |(p, _)| p.starts_with(dir))
            .filter(move |(p, _)| p.parent() == Some(dir))
    }

    /// The parent of `path` must be a live directory.
    fn check_parent(&self, path: &Path) -> io::Result<()> {
        let parent = path.parent().ok_or_else(|| errno(rustix::io::Errno::INVAL))?;
        match self.live.get(parent) {
            Some(Node::Dir) => Ok(()),
            Some(_) => Err(errno(rustix::io::Errno::NOTDIR)),
            None => Err(errno(rustix::io::Errno::NOENT)),
        }
    }

    fn lookup(&self, path: &Path) -> io::Result<&Node> {
        self.check_parent(path)?;
        self.live.get(path).ok_or_else(|| errno(rustix::io::Errno::NOENT))
    }

    fn meta(&self, node: &Node) -> FileMeta {
        let zero =
            FileMeta { kind: FileKind::Other, len: 0, dev: 1, ino: 0, mtime_ns: 0, ctime_ns: 0 };
        match node {
            Node::Dir => FileMeta { kind: FileKind::Dir, ..zero },
            Node::Symlink(target) => {
                FileMeta { kind: FileKind::Symlink, len: target.as_os_str().len() as u64, ..zero }
            }
            Node::Special(kind) => FileMeta { kind: *kind, ..zero },
            Node::File(ino) => {
                let inode = &self.inodes[ino];
                FileMeta {
                    kind: FileKind::File,
                    len: inode.data.len() as u64,
                    dev: 1,
                    ino: *ino,
                    mtime_ns: inode.mtime,
                    ctime_ns: inode.ctime,
                }
            }
        }
    }

    /// Only what was made durable, and only under durable directories.
    fn image_strict(&self) -> Image {
        let live: BTreeMap<PathBuf, Node> = self
            .durable
            .iter()
            .filter(|(path, _)| {
                path.ancestors().skip(1).all(|a| matches!(self.durable.get(a), Some(Node::Dir)))
            })
            .map(|(p, n)| (p.clone(), n.clone()))
            .collect();
        self.image_of(live)
    }

    /// Every directory change, but file bytes only as last synced.
    fn image_keep(&self) -> Image {
        self.image_of(self.live.clone())
    }

    fn image_of(&self, live: BTreeMap<PathBuf, Node>) -> Image {
        let inodes = live
            .values()
            .filter_map(|node| match node {
                Node::File(ino) => {
                    let inode = &self.inodes[ino];
                    let kept = Inode { data: inode.synced.clone(), ..inode.clone() };
                    Some((*ino, kept))
                }
                _ => None,
            })
            .collect();
        Image { live, inodes, clock: self.clock + 1, tick: self.tick, next_ino: self.next_ino }
    }
}

/// A directory of [`SimFs`] opened for a listing: its entries as they were when opened.
#[derive(Debug)]
struct SimDir {
    entries: Vec<DirEntry>,
}

impl FsDir for SimDir {
    fn names(&self, each: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        for entry in &self.entries {
            each(entry.name.as_encoded_bytes());
        }
        Ok(())
    }

    fn stat(&self, name: &[u8]) -> io::Result<FileMeta> {
        self.entries
            .iter()
            .find(|e| e.name.as_encoded_bytes() == name)
            .map(|e| e.meta)
            .ok_or_else(|| errno(rustix::io::Errno::NOENT))
    }
}

/// A file of [`SimFs`] opened for reading: its bytes as they were when opened.
#[derive(Debug)]
struct SimRead {
    data: Vec<u8>,
    position: usize,
}

impl FsRead for SimRead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.read_at(buf, self.position as u64)?;
        self.position += n;
        Ok(n)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(self.data.len());
        let n = buf.len().min(self.data.len() - start);
        buf[..n].copy_from_slice(&self.data[start..start + n]);
        Ok(n)
    }
}

impl Fs for SimFs {
    fn metadata(&self, path: &Path) -> io::Result<FileMeta> {
        let mut state = self.state();
        state.enter()?;
        let node = state.lookup(path)?.clone();
        Ok(state.meta(&node))
    }

    fn scan_dir(&self, dir: &Path) -> io::Result<Vec<DirEntry>> {
        let mut state = self.state();
        state.enter()?;
        match state.lookup(dir)? {
            Node::Dir => {}
            _ => return Err(errno(rustix::io::Errno::NOTDIR)),
        }
        Ok(state
            .children(dir)
            .map(|(path, node)| DirEntry {
                name: OsString::from(file_name(path)),
                meta: state.meta(node),
            })
            .collect())
    }

    fn open_dir(&self, dir: &Path) -> io::Result<Box<dyn FsDir>> {
        // One call, like a scan: the entries as they are now.
        let entries = self.scan_dir(dir)?;
        Ok(Box::new(SimDir { entries }))
    }

    fn open_read(
        &self,
        path: &Path,
        limit: u64,
    ) -> Result<(Box<dyn FsRead>, FileMeta), ReadFileError> {
        // One call and one read: the bytes as they are now.
        let (data, meta) = self.read_file(path, limit)?;
        Ok((Box::new(SimRead { data, position: 0 }), meta))
    }

    fn read_file(&self, path: &Path, limit: u64) -> Result<(Vec<u8>, FileMeta), ReadFileError> {
        let mut state = self.state();
        state.enter().map_err(ReadFileError::Io)?;
        state.reads += 1;
        let node = state.lookup(path).map_err(ReadFileError::Io)?.clone();
        let meta = state.meta(&node);
        match node {
            Node::File(ino) if meta.len <= limit => Ok((state.inodes[&ino].data.clone(), meta)),
            Node::File(_) => Err(ReadFileError::TooLarge { size: meta.len, limit }),
            _ => Err(ReadFileError::NotRegular { kind: meta.kind }),
        }
    }

    fn create_dir(&self, path: &Path) -> io::Result<()> {
        let mut state = self.state();
        state.enter()?;
        state.check_parent(path)?;
        if state.live.contains_key(path) {
            return Err(errno(rustix::io::Errno::EXIST));
        }
        state.live.insert(path.to_owned(), Node::Dir);
        Ok(())
    }

    fn create_new(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        let ino = {
            let mut state = self.state();
            state.enter()?;
            state.check_parent(path)?;
            if state.live.contains_key(path) {
                return Err(errno(rustix::io::Errno::EXIST));
            }
            let ino = state.new_inode();
            state.live.insert(path.to_owned(), Node::File(ino));
            ino
        };
        Ok(self.handle(ino))
    }

    fn open_lock(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        let ino = {
            let mut state = self.state();
            state.enter()?;
            state.check_parent(path)?;
            match state.live.get(path) {
                None => {
                    let ino = state.new_inode();
                    state.live.insert(path.to_owned(), Node::File(ino));
                    ino
                }
                Some(Node::File(ino)) => *ino,
                Some(Node::Symlink(_)) => return Err(errno(rustix::io::Errno::LOOP)),
                Some(Node::Dir) => return Err(errno(rustix::io::Errno::ISDIR)),
                Some(Node::Special(kind)) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("not a regular file ({})", kind.describe()),
                    ));
                }
            }
        };
        Ok(self.handle(ino))
    }

    fn open_existing(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        let ino = {
            let mut state = self.state();
            state.enter()?;
            match state.lookup(path)? {
                Node::File(ino) => *ino,
                Node::Symlink(_) => return Err(errno(rustix::io::Errno::LOOP)),
                other => {
                    let kind = state.meta(&other.clone()).kind;
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("not a regular file ({})", kind.describe()),
                    ));
                }
            }
        };
        Ok(self.handle(ino))
    }

    fn rename_noreplace(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut state = self.state();
        state.enter()?;
        let node = state.lookup(from)?.clone();
        state.check_parent(to)?;
        if state.live.contains_key(to) {
            return Err(errno(rustix::io::Errno::EXIST));
        }
        if matches!(node, Node::Dir) {
            return Err(io::Error::new(io::ErrorKind::Unsupported, "SimFs renames no directories"));
        }
        state.live.remove(from);
        state.live.insert(to.to_owned(), node);
        Ok(())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut state = self.state();
        state.enter()?;
        let node = state.lookup(from)?.clone();
        state.check_parent(to)?;
        if matches!(node, Node::Dir) {
            return Err(io::Error::new(io::ErrorKind::Unsupported, "SimFs renames no directories"));
        }
        if matches!(state.live.get(to), Some(Node::Dir)) {
            return Err(errno(rustix::io::Errno::ISDIR));
        }
        state.live.remove(from);
        state.live.insert(to.to_owned(), node);
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let mut state = self.state();
        state.enter()?;
        if let Node::Dir = state.lookup(path)? {
            return Err(errno(rustix::io::Errno::ISDIR));
        }
        state.live.remove(path);
        Ok(())
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        let mut state = self.state();
        state.enter()?;
        match state.lookup(path)? {
            Node::Dir => {}
            _ => return Err(errno(rustix::io::Errno::NOTDIR)),
        }
        if state.children(path).next().is_some() {
            return Err(errno(rustix::io::Errno::NOTEMPTY));
        }
        state.live.remove(path);
        Ok(())
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        let mut state = self.state();
        state.enter()?;
        match state.lookup(path)? {
            Node::Dir => {}
            _ => return Err(errno(rustix::io::Errno::NOTDIR)),
        }
        let stale: Vec<PathBuf> = state
            .durable
            .keys()
            .filter(|p| p.parent() == Some(path) && !state.live.contains_key(*p))
            .cloned()
            .collect();
        for p in stale {
            state.durable.remove(&p);
        }
        let current: Vec<(PathBuf, Node)> =
            state.children(path).map(|(p, n)| (p.clone(), n.clone())).collect();
        state.durable.extend(current);
        Ok(())
    }
}

/// An open file of [`SimFs`].
#[derive(Debug)]
struct SimFile {
    fs: SimFs,
    ino: u64,
    handle: u64,
}

impl FsFile for SimFile {
    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        let mut state = self.fs.state();
        state.enter()?;
        let now = state.now();
        let inode = state.inodes.get_mut(&self.ino).expect("an open file has an inode");
        inode.data.extend_from_slice(data);
        inode.mtime = now;
        inode.ctime = now;
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        let mut state = self.fs.state();
        state.enter()?;
        let inode = state.inodes.get_mut(&self.ino).expect("an open file has an inode");
        inode.synced = inode.data.clone();
        Ok(())
    }

    fn lock(&mut self) -> io::Result<()> {
        let mut state = self.fs.state();
        state.enter()?;
        loop {
            match state.locks.get(&self.ino) {
                Some(holder) if *holder != self.handle => {
                    state = self
                        .fs
                        .shared
                        .unlocked
                        .wait(state)
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                }
                _ => {
                    state.locks.insert(self.ino, self.handle);
                    return Ok(());
                }
            }
        }
    }

    fn try_lock(&mut self) -> io::Result<bool> {
        let mut state = self.fs.state();
        state.enter()?;
        match state.locks.get(&self.ino) {
            Some(holder) if *holder != self.handle => Ok(false),
            _ => {
                state.locks.insert(self.ino, self.handle);
                Ok(true)
            }
        }
    }

    fn metadata(&self) -> io::Result<FileMeta> {
        let mut state = self.fs.state();
        state.enter()?;
        let node = Node::File(self.ino);
        Ok(state.meta(&node))
    }
}

impl Drop for SimFile {
    fn drop(&mut self) {
        let mut state = self.fs.state();
        if state.locks.get(&self.ino) == Some(&self.handle) {
            state.locks.remove(&self.ino);
            self.fs.shared.unlocked.notify_all();
        }
    }
}
