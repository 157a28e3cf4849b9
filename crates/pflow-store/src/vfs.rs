//! The small filesystem interface through which [`FsStore`](crate::FsStore) does all its
//! IO, and its real implementation.
//!
//! Keeping every system call behind [`Fs`] lets the tests run the store on
//! [`SimFs`](crate::sim::SimFs), a double that injects faults and simulates power loss.
//! It is public only for those tests (`#[doc(hidden)]`); it is not a stable API.

use std::fmt;
use std::fs::{self, DirBuilder, File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use rustix::fs::{Mode, OFlags};

use pflow_fsio::{DirEntry, FileKind, FileMeta, ReadFileError};

/// Every filesystem operation the store performs.
///
/// Paths are absolute or relative to the working directory; the final component is never
/// followed if it is a symbolic link.
pub trait Fs: Send + Sync + fmt::Debug {
    /// `lstat`: the metadata of the entry itself.
    fn metadata(&self, path: &Path) -> io::Result<FileMeta>;

    /// Every entry of a directory (without `.` and `..`), each with its `lstat` metadata.
    /// Entries that vanish while being listed are left out. A symbolic link (or anything
    /// but a directory) in place of `dir` is refused with `NotADirectory`, never followed.
    fn scan_dir(&self, dir: &Path) -> io::Result<Vec<DirEntry>>;

    /// Opens a directory for a listing (a symbolic link in place of `dir` is refused with
    /// `NotADirectory`, never followed): its names first, then each entry's `lstat`,
    /// through the same open directory.
    fn open_dir(&self, dir: &Path) -> io::Result<Box<dyn FsDir>>;

    /// Opens a regular file of at most `limit` bytes to read it as a stream, with the
    /// checks of [`Fs::read_file`]; returns it with the metadata of the open file.
    fn open_read(
        &self,
        path: &Path,
        limit: u64,
    ) -> Result<(Box<dyn FsRead>, FileMeta), ReadFileError>;

    /// Reads a regular file of at most `limit` bytes without following a symbolic link or
    /// blocking on a FIFO or device (see [`pflow_fsio::read_regular_file`]);
    /// returns its bytes and the metadata of the open file.
    fn read_file(&self, path: &Path, limit: u64) -> Result<(Vec<u8>, FileMeta), ReadFileError>;

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

/// A directory opened by [`Fs::open_dir`].
pub trait FsDir: Send + Sync + fmt::Debug {
    /// Calls `each` with the name of every entry (without `.` and `..`).
    fn names(&self, each: &mut dyn FnMut(&[u8])) -> io::Result<()>;
    /// The `lstat` metadata of entry `name`; `NotFound` when it is gone.
    fn stat(&self, name: &[u8]) -> io::Result<FileMeta>;
}

/// A file opened by [`Fs::open_read`].
pub trait FsRead: Send + fmt::Debug {
    /// Reads from the current position, like [`io::Read::read`].
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    /// Reads at `offset` without moving the current position (`pread`).
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
}

impl io::Read for dyn FsRead + '_ {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        FsRead::read(self, buf)
    }
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
    fn metadata(&self) -> io::Result<FileMeta>;
}

/// The real filesystem.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealFs;

impl Fs for RealFs {
    fn metadata(&self, path: &Path) -> io::Result<FileMeta> {
        fs::symlink_metadata(path).map(|m| FileMeta::from_std(&m))
    }

    fn scan_dir(&self, dir: &Path) -> io::Result<Vec<DirEntry>> {
        pflow_fsio::scan_dir_nofollow(dir)
    }

    fn open_dir(&self, dir: &Path) -> io::Result<Box<dyn FsDir>> {
        Ok(Box::new(RealDir(pflow_fsio::open_dir_nofollow(dir)?)))
    }

    fn open_read(
        &self,
        path: &Path,
        limit: u64,
    ) -> Result<(Box<dyn FsRead>, FileMeta), ReadFileError> {
        let (file, meta) = pflow_fsio::open_regular_file(path, limit, false)?;
        Ok((Box::new(RealRead(file)), meta))
    }

    fn read_file(&self, path: &Path, limit: u64) -> Result<(Vec<u8>, FileMeta), ReadFileError> {
        pflow_fsio::read_file_with_meta(path, limit, false)
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
        pflow_fsio::rename_noreplace(from, to)
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
    if meta.kind != FileKind::File {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a regular file ({})", meta.kind.describe()),
        ));
    }
    Ok(())
}

/// A directory of [`RealFs`] opened for a listing.
#[derive(Debug)]
struct RealDir(pflow_fsio::OpenDir);

impl FsDir for RealDir {
    fn names(&self, each: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        self.0.names(each)
    }

    fn stat(&self, name: &[u8]) -> io::Result<FileMeta> {
        self.0.stat(name)
    }
}

/// A file of [`RealFs`] opened for reading.
#[derive(Debug)]
struct RealRead(File);

impl FsRead for RealRead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        io::Read::read(&mut self.0, buf)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(&self.0, buf, offset)
    }
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

    fn metadata(&self) -> io::Result<FileMeta> {
        self.0.metadata().map(|m| FileMeta::from_std(&m))
    }
}
