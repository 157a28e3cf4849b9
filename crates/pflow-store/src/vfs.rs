//! The small filesystem interface through which [`FsStore`](crate::FsStore) does all its
//! IO, and its real implementation.
//!
//! Keeping every system call behind [`Fs`] lets the tests run the store on
//! [`SimFs`](crate::sim::SimFs), a double that injects faults and simulates power loss.
//! It is public only for those tests (`#[doc(hidden)]`); it is not a stable API.

use std::ffi::OsString;
use std::fmt;
use std::fs::{self, DirBuilder, File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

use rustix::fs::{Mode, OFlags};

use crate::ReadFileError;

/// What kind of thing a directory entry is. Symbolic links are never followed, so a link
/// is reported as [`Kind::Symlink`] whatever it points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (not followed).
    Symlink,
    /// A named pipe.
    Fifo,
    /// A Unix socket.
    Socket,
    /// A block or character device.
    Device,
    /// Anything else.
    Other,
}

impl Kind {
    /// The kind in words, for messages (`a symbolic link`).
    pub fn describe(self) -> &'static str {
        match self {
            Kind::File => "a regular file",
            Kind::Dir => "a directory",
            Kind::Symlink => "a symbolic link",
            Kind::Fifo => "a FIFO",
            Kind::Socket => "a socket",
            Kind::Device => "a device",
            Kind::Other => "an unknown kind of file",
        }
    }

    pub(crate) fn of(ty: fs::FileType) -> Kind {
        if ty.is_file() {
            Kind::File
        } else if ty.is_dir() {
            Kind::Dir
        } else if ty.is_symlink() {
            Kind::Symlink
        } else if ty.is_fifo() {
            Kind::Fifo
        } else if ty.is_socket() {
            Kind::Socket
        } else if ty.is_block_device() || ty.is_char_device() {
            Kind::Device
        } else {
            Kind::Other
        }
    }
}

/// What `lstat`/`fstat` says about a file: its kind and the fingerprint the list index
/// compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    /// The kind of entry.
    pub kind: Kind,
    /// Size in bytes.
    pub len: u64,
    /// Device number.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
    /// Last content change, nanoseconds since the epoch.
    pub mtime_ns: i64,
    /// Last status change, nanoseconds since the epoch.
    pub ctime_ns: i64,
}

impl Meta {
    /// The metadata std reports, in this crate's terms.
    pub fn from_std(meta: &fs::Metadata) -> Meta {
        Meta {
            kind: Kind::of(meta.file_type()),
            len: meta.len(),
            dev: meta.dev(),
            ino: meta.ino(),
            mtime_ns: meta.mtime().saturating_mul(1_000_000_000).saturating_add(meta.mtime_nsec()),
            ctime_ns: meta.ctime().saturating_mul(1_000_000_000).saturating_add(meta.ctime_nsec()),
        }
    }
}

/// One directory entry and its `lstat` metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// The entry's file name.
    pub name: OsString,
    /// Its metadata (symbolic links not followed).
    pub meta: Meta,
}

/// Every filesystem operation the store performs.
///
/// Paths are absolute or relative to the working directory; the final component is never
/// followed if it is a symbolic link.
pub trait Fs: Send + Sync + fmt::Debug {
    /// `lstat`: the metadata of the entry itself.
    fn metadata(&self, path: &Path) -> io::Result<Meta>;

    /// Every entry of a directory (without `.` and `..`), each with its `lstat` metadata.
    /// Entries that vanish while being listed are left out.
    fn scan_dir(&self, dir: &Path) -> io::Result<Vec<DirEntry>>;

    /// Reads a regular file of at most `limit` bytes without following a symbolic link or
    /// blocking on a FIFO or device (see [`read_regular_file`](crate::read_regular_file));
    /// returns its bytes and the metadata of the open file.
    fn read_file(&self, path: &Path, limit: u64) -> Result<(Vec<u8>, Meta), ReadFileError>;

    /// Creates one directory with permissions 0700; fails if it exists or its parent is
    /// missing.
    fn create_dir(&self, path: &Path) -> io::Result<()>;

    /// Creates a new regular file (permissions 0600) for writing; fails if anything exists
    /// at `path`.
    fn create_new(&self, path: &Path) -> io::Result<Box<dyn FsFile>>;

    /// Opens a lock file, creating it (0600) if missing; refuses a symbolic link or
    /// anything but a regular file.
    fn open_lock(&self, path: &Path) -> io::Result<Box<dyn FsFile>>;

    /// Opens an existing regular file read-only (no link following, non-blocking), to
    /// take its lock.
    fn open_existing(&self, path: &Path) -> io::Result<Box<dyn FsFile>>;

    /// Renames `from` to `to` atomically, failing with `AlreadyExists` if `to` exists.
    fn rename_noreplace(&self, from: &Path, to: &Path) -> io::Result<()>;

    /// Renames `from` to `to` atomically, replacing whatever `to` was.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;

    /// Removes a directory entry that is not a directory (a symbolic link itself, not
    /// its target).
    fn remove_file(&self, path: &Path) -> io::Result<()>;

    /// Removes an empty directory (not a symbolic link to one).
    fn remove_dir(&self, path: &Path) -> io::Result<()>;

    /// Makes the entries of directory `path` durable (`fsync` on the directory).
    fn sync_dir(&self, path: &Path) -> io::Result<()>;
}

/// An open file of an [`Fs`]. Dropping it closes it and releases its lock.
pub trait FsFile: Send + fmt::Debug {
    /// Appends all of `data`.
    fn write_all(&mut self, data: &[u8]) -> io::Result<()>;
    /// Makes the file's content and size durable (`fsync`).
    fn sync(&mut self) -> io::Result<()>;
    /// Takes the file's exclusive advisory lock, waiting for it.
    fn lock(&mut self) -> io::Result<()>;
    /// Takes the file's exclusive advisory lock if it is free; `false` if held elsewhere.
    fn try_lock(&mut self) -> io::Result<bool>;
    /// `fstat`: the metadata of the open file.
    fn metadata(&self) -> io::Result<Meta>;
}

/// The real filesystem.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealFs;

impl Fs for RealFs {
    fn metadata(&self, path: &Path) -> io::Result<Meta> {
        fs::symlink_metadata(path).map(|m| Meta::from_std(&m))
    }

    fn scan_dir(&self, dir: &Path) -> io::Result<Vec<DirEntry>> {
        let mut entries = Vec::new();
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            // DirEntry::metadata is fstatat(dirfd, name, AT_SYMLINK_NOFOLLOW).
            match entry.metadata() {
                Ok(meta) => {
                    entries.push(DirEntry { name: entry.file_name(), meta: Meta::from_std(&meta) })
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(entries)
    }

    fn read_file(&self, path: &Path, limit: u64) -> Result<(Vec<u8>, Meta), ReadFileError> {
        crate::file::read(path, limit, false).map(|(bytes, meta)| (bytes, Meta::from_std(&meta)))
    }

    fn create_dir(&self, path: &Path) -> io::Result<()> {
        DirBuilder::new().mode(0o700).create(path)
    }

    fn create_new(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(OFlags::NOFOLLOW.bits() as i32)
            .open(path)?;
        Ok(Box::new(RealFile(file)))
    }

    fn open_lock(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags((OFlags::NOFOLLOW | OFlags::NONBLOCK).bits() as i32)
            .open(path)?;
        let file = RealFile(file);
        check_regular(&file)?;
        Ok(Box::new(file))
    }

    fn open_existing(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let file = RealFile(File::from(rustix::fs::open(path, flags, Mode::empty())?));
        check_regular(&file)?;
        Ok(Box::new(file))
    }

    fn rename_noreplace(&self, from: &Path, to: &Path) -> io::Result<()> {
        crate::file::rename_noreplace(from, to)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        fs::remove_dir(path)
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let dir = File::from(rustix::fs::open(path, flags, Mode::empty())?);
        dir.sync_all()
    }
}

fn check_regular(file: &RealFile) -> io::Result<()> {
    let meta = file.metadata()?;
    if meta.kind != Kind::File {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a regular file ({})", meta.kind.describe()),
        ));
    }
    Ok(())
}

/// An open file of [`RealFs`].
#[derive(Debug)]
struct RealFile(File);

impl FsFile for RealFile {
    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.0.write_all(data)
    }

    fn sync(&mut self) -> io::Result<()> {
        self.0.sync_all()
    }

    fn lock(&mut self) -> io::Result<()> {
        self.0.lock()
    }

    fn try_lock(&mut self) -> io::Result<bool> {
        match self.0.try_lock() {
            Ok(()) => Ok(true),
            Err(TryLockError::WouldBlock) => Ok(false),
            Err(TryLockError::Error(e)) => Err(e),
        }
    }

    fn metadata(&self) -> io::Result<Meta> {
        self.0.metadata().map(|m| Meta::from_std(&m))
    }
}
