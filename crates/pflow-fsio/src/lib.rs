//! Defensive file IO, shared by the store, the file nodes and the CLI.
//!
//! Every file pflow reads comes through here: only a regular file is read (a FIFO or a
//! device never blocks the caller, a symbolic link is not followed unless asked), its
//! size is checked on the open descriptor before a byte is read, and the read itself is
//! bounded. Renames never replace their destination unless asked, and directory scans
//! never follow a symbolic link planted in place of the directory.

mod kind;
mod read;
mod scan;

use std::fs;
use std::io;
use std::path::Path;

use rustix::fs::{CWD, RenameFlags};
use rustix::io::Errno;

pub use kind::{FileKind, FileMeta};
pub use read::{
    ReadFileError, open_regular_file, read_file_with_meta, read_regular_file,
    read_regular_file_follow,
};
pub use scan::{DirEntry, OpenDir, open_dir_nofollow, scan_dir_nofollow};

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
