//! Reading a file safely: never blocking on FIFOs or devices, never reading more than a
//! limit, and (by default) never following a symbolic link.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use rustix::fs::{Mode, OFlags};

use crate::{FileKind, FileMeta};

/// Why a file was refused or could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadFileError {
    /// The path names something other than a regular file (a symbolic link that was not
    /// followed, a directory, a FIFO, a socket, a device); nothing was read from it.
    #[error("not a regular file ({})", kind.describe())]
    NotRegular {
        /// What the path names instead.
        kind: FileKind,
    },
    /// The file is bigger than the limit; nothing was read from it.
    #[error("too large: {size} bytes, limit {limit}")]
    TooLarge {
        /// The file's size (or a lower bound, if it grew while being read).
        size: u64,
        /// The limit it exceeds.
        limit: u64,
    },
    /// Opening, inspecting or reading the file failed.
    #[error(transparent)]
    Io(io::Error),
}

impl ReadFileError {
    /// Whether the file does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadFileError::Io(e) if e.kind() == io::ErrorKind::NotFound)
    }
}

impl From<ReadFileError> for io::Error {
    fn from(error: ReadFileError) -> io::Error {
        match error {
            ReadFileError::Io(e) => e,
            ReadFileError::NotRegular { .. } => {
                io::Error::new(io::ErrorKind::InvalidInput, error.to_string())
            }
            ReadFileError::TooLarge { .. } => {
                io::Error::new(io::ErrorKind::FileTooLarge, error.to_string())
            }
        }
    }
}

/// Reads the regular file at `path`, refusing anything else, without following a symbolic
/// link in its last component.
///
/// The file is opened with `O_NONBLOCK|O_NOFOLLOW|O_CLOEXEC`, so a FIFO or device never
/// blocks the caller; its type and size are checked on the open descriptor before any
/// byte is read, and the read itself is bounded, so a file that grows meanwhile cannot
/// make it read more than `limit + 1` bytes.
pub fn read_regular_file(path: &Path, limit: u64) -> Result<Vec<u8>, ReadFileError> {
    read_file_with_meta(path, limit, false).map(|(bytes, _)| bytes)
}

/// Like [`read_regular_file`], but follows symbolic links: for files a person names on the
/// command line or a workflow names. The target must still be a regular file within the
/// limit.
pub fn read_regular_file_follow(path: &Path, limit: u64) -> Result<Vec<u8>, ReadFileError> {
    read_file_with_meta(path, limit, true).map(|(bytes, _)| bytes)
}

/// Opens, checks and reads `path` as [`read_regular_file`] does (following a final
/// symbolic link when `follow`), and also returns the metadata of the open file.
pub fn read_file_with_meta(
    path: &Path,
    limit: u64,
    follow: bool,
) -> Result<(Vec<u8>, FileMeta), ReadFileError> {
    let file = open_checked(path, follow)?;
    let meta = FileMeta::from_std(&file.metadata().map_err(ReadFileError::Io)?);
    if meta.kind != FileKind::File {
        return Err(ReadFileError::NotRegular { kind: meta.kind });
    }
    if meta.len > limit {
        return Err(ReadFileError::TooLarge { size: meta.len, limit });
    }
    let capacity = usize::try_from(meta.len).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity);
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(ReadFileError::Io)?;
    let read = bytes.len() as u64;
    if read > limit {
        return Err(ReadFileError::TooLarge { size: read, limit });
    }
    Ok((bytes, meta))
}

/// Opens a regular file of at most `limit` bytes for reading as a stream, with the same
/// checks as [`read_file_with_meta`] (no link followed unless `follow`, never blocking
/// on a FIFO or device, the size checked on the open descriptor); returns the open file
/// and its metadata. The caller reads at most `limit` bytes through it.
pub fn open_regular_file(
    path: &Path,
    limit: u64,
    follow: bool,
) -> Result<(File, FileMeta), ReadFileError> {
    let file = open_checked(path, follow)?;
    let meta = FileMeta::from_std(&file.metadata().map_err(ReadFileError::Io)?);
    if meta.kind != FileKind::File {
        return Err(ReadFileError::NotRegular { kind: meta.kind });
    }
    if meta.len > limit {
        return Err(ReadFileError::TooLarge { size: meta.len, limit });
    }
    Ok((file, meta))
}

/// Opens `path` read-only and non-blocking. When the open fails on something that is not
/// a regular file (`ELOOP` for a symbolic link under `O_NOFOLLOW`, `ENXIO` for a socket),
/// says what it is instead.
fn open_checked(path: &Path, follow: bool) -> Result<File, ReadFileError> {
    let mut flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
    if !follow {
        flags |= OFlags::NOFOLLOW;
    }
    match rustix::fs::open(path, flags, Mode::empty()) {
        Ok(fd) => Ok(File::from(fd)),
        Err(e) => {
            let meta =
                if follow { std::fs::metadata(path) } else { std::fs::symlink_metadata(path) };
            match meta {
                Ok(meta) if !meta.is_file() => {
                    Err(ReadFileError::NotRegular { kind: FileKind::of(meta.file_type()) })
                }
                _ => Err(ReadFileError::Io(e.into())),
            }
        }
    }
}
