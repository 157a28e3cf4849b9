//! What kind of thing a path names, and the metadata pflow compares, without following
//! symbolic links.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};

/// What kind of thing a directory entry is. Symbolic links are never followed, so a link
/// is reported as [`FileKind::Symlink`] whatever it points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
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

impl FileKind {
    /// The kind in words, for messages (`a symbolic link`).
    pub fn describe(self) -> &'static str {
        match self {
            FileKind::File => "a regular file",
            FileKind::Dir => "a directory",
            FileKind::Symlink => "a symbolic link",
            FileKind::Fifo => "a FIFO",
            FileKind::Socket => "a socket",
            FileKind::Device => "a device",
            FileKind::Other => "an unknown kind of file",
        }
    }

    /// The kind of a file type std reports.
    pub fn of(ty: fs::FileType) -> FileKind {
        if ty.is_file() {
            FileKind::File
        } else if ty.is_dir() {
            FileKind::Dir
        } else if ty.is_symlink() {
            FileKind::Symlink
        } else if ty.is_fifo() {
            FileKind::Fifo
        } else if ty.is_socket() {
            FileKind::Socket
        } else if ty.is_block_device() || ty.is_char_device() {
            FileKind::Device
        } else {
            FileKind::Other
        }
    }

    /// The kind encoded in a `st_mode`.
    pub(crate) fn of_mode(mode: u32) -> FileKind {
        match rustix::fs::FileType::from_raw_mode(mode as rustix::fs::RawMode) {
            rustix::fs::FileType::RegularFile => FileKind::File,
            rustix::fs::FileType::Directory => FileKind::Dir,
            rustix::fs::FileType::Symlink => FileKind::Symlink,
            rustix::fs::FileType::Fifo => FileKind::Fifo,
            rustix::fs::FileType::Socket => FileKind::Socket,
            rustix::fs::FileType::CharacterDevice | rustix::fs::FileType::BlockDevice => {
                FileKind::Device
            }
            rustix::fs::FileType::Unknown => FileKind::Other,
        }
    }
}

/// What `lstat`/`fstat` says about a file: its kind, and the fingerprint a cache can
/// compare to tell one version of a file from another without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileMeta {
    /// The kind of entry.
    pub kind: FileKind,
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

impl FileMeta {
    /// The metadata std reports, in these terms.
    pub fn from_std(meta: &fs::Metadata) -> FileMeta {
        FileMeta {
            kind: FileKind::of(meta.file_type()),
            len: meta.len(),
            dev: meta.dev(),
            ino: meta.ino(),
            mtime_ns: nanos(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: nanos(meta.ctime(), meta.ctime_nsec()),
        }
    }

    /// The metadata of a `stat` call made through rustix.
    // The widths of `struct stat`'s fields differ between targets; on some the casts
    // are no-ops.
    #[allow(clippy::unnecessary_cast)]
    pub(crate) fn from_stat(stat: &rustix::fs::Stat) -> FileMeta {
        FileMeta {
            kind: FileKind::of_mode(stat.st_mode as u32),
            len: u64::try_from(stat.st_size).unwrap_or(0),
            dev: stat.st_dev as u64,
            ino: stat.st_ino as u64,
            mtime_ns: nanos(stat.st_mtime as i64, stat.st_mtime_nsec as i64),
            ctime_ns: nanos(stat.st_ctime as i64, stat.st_ctime_nsec as i64),
        }
    }
}

fn nanos(seconds: i64, nanos: i64) -> i64 {
    seconds.saturating_mul(1_000_000_000).saturating_add(nanos)
}
