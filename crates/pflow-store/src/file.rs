//! Reading a file safely: never blocking on FIFOs or devices, never reading more than a
//! limit, and (by default) never following a symbolic link; and renaming without ever
//! replacing the destination.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::Path;

use rustix::fs::{CWD, Mode, OFlags, RenameFlags};
use rustix::io::Errno;

use crate::ReadFileError;
use crate::vfs::Kind;

/// The largest stored document (and input file) pflow reads: 16 MiB.
pub const MAX_DOCUMENT_BYTES: u64 = 16 * 1024 * 1024;

/// Renames `from` to `to`, failing with `AlreadyExists` rather than ever replacing an
/// existing `to` (`RENAME_NOREPLACE`).
///
/// On filesystems without `RENAME_NOREPLACE`, anything but a directory is hard-linked to
/// `to` (which refuses an existing `to` just as atomically) and `from` is then removed; a
/// directory gets the original error.
pub fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    match rustix::fs::renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
        Ok(()) => Ok(()),
        Err(errno @ (Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP)) => {
            if fs::symlink_metadata(from).is_ok_and(|m| m.is_dir()) {
                return Err(errno.into());
            }
            fs::hard_link(from, to)?;
            fs::remove_file(from)
        }
        Err(errno) => Err(errno.into()),
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
    read(path, limit, false).map(|(bytes, _)| bytes)
}

/// Like [`read_regular_file`], but follows symbolic links: for files a person names on the
/// command line. The target must still be a regular file within the limit.
pub fn read_regular_file_follow(path: &Path, limit: u64) -> Result<Vec<u8>, ReadFileError> {
    read(path, limit, true).map(|(bytes, _)| bytes)
}

/// Opens, checks and reads `path`; also returns the metadata of the open file.
pub(crate) fn read(
    path: &Path,
    limit: u64,
    follow: bool,
) -> Result<(Vec<u8>, std::fs::Metadata), ReadFileError> {
    let file = open_checked(path, follow)?;
    let meta = file.metadata().map_err(ReadFileError::Io)?;
    if !meta.file_type().is_file() {
        return Err(ReadFileError::NotRegular { kind: Kind::of(meta.file_type()).describe() });
    }
    if meta.len() > limit {
        return Err(ReadFileError::TooLarge { size: meta.len(), limit });
    }
    let capacity = usize::try_from(meta.len()).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity);
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(ReadFileError::Io)?;
    let read = bytes.len() as u64;
    if read > limit {
        return Err(ReadFileError::TooLarge { size: read, limit });
    }
    Ok((bytes, meta))
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
                    Err(ReadFileError::NotRegular { kind: Kind::of(meta.file_type()).describe() })
                }
                _ => Err(ReadFileError::Io(e.into())),
            }
        }
    }
}
