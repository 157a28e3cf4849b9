//! Listing a directory without ever following a symbolic link planted in its place.

use std::ffi::OsString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rustix::fs::{AtFlags, Mode, OFlags};
use rustix::io::Errno;

use crate::{FileKind, FileMeta};

/// One directory entry and its `lstat` metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// The entry's file name.
    pub name: OsString,
    /// Its metadata (symbolic links not followed).
    pub meta: FileMeta,
}

/// Every entry of the directory `dir` (without `.` and `..`), each with its `lstat`
/// metadata; entries that vanish while being listed are left out.
///
/// The directory is opened with `O_DIRECTORY|O_NOFOLLOW` and read through that
/// descriptor, so a symbolic link in place of `dir` is refused (`NotADirectory`, naming
/// the link) instead of listing whatever it points to.
pub fn scan_dir_nofollow(dir: &Path) -> io::Result<Vec<DirEntry>> {
    let OpenDir { fd } = open_dir_nofollow(dir)?;
    let mut entries = Vec::new();
    let mut reader = rustix::fs::Dir::read_from(&fd)?;
    while let Some(entry) = reader.read() {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        match rustix::fs::statat(&fd, entry.file_name(), AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => entries.push(DirEntry {
                name: std::ffi::OsStr::from_bytes(name).to_owned(),
                meta: FileMeta::from_stat(&stat),
            }),
            Err(Errno::NOENT) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(entries)
}

/// A directory opened with `O_DIRECTORY|O_NOFOLLOW`: its names can be read first and
/// each entry `lstat`ed later, always through the same descriptor, so a listing can sort
/// the names before it looks at any entry (and hold only the names meanwhile).
#[derive(Debug)]
pub struct OpenDir {
    fd: rustix::fd::OwnedFd,
}

impl OpenDir {
    /// Calls `each` with the name of every entry, without `.` and `..`.
    pub fn names(&self, each: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        let mut reader = rustix::fs::Dir::read_from(&self.fd)?;
        while let Some(entry) = reader.read() {
            let entry = entry?;
            let name = entry.file_name().to_bytes();
            if name != b"." && name != b".." {
                each(name);
            }
        }
        Ok(())
    }

    /// The `lstat` metadata of the entry `name` of this directory (a symbolic link is
    /// never followed); `NotFound` when it is gone.
    pub fn stat(&self, name: &[u8]) -> io::Result<FileMeta> {
        let stat = rustix::fs::statat(
            &self.fd,
            std::ffi::OsStr::from_bytes(name),
            AtFlags::SYMLINK_NOFOLLOW,
        )?;
        Ok(FileMeta::from_stat(&stat))
    }
}

/// Opens the directory `dir` without following a symbolic link in its place (refused
/// with `NotADirectory`, naming what is there, as [`scan_dir_nofollow`] does).
pub fn open_dir_nofollow(dir: &Path) -> io::Result<OpenDir> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = match rustix::fs::open(dir, flags, Mode::empty()) {
        Ok(fd) => fd,
        // ELOOP: the last component is a symbolic link; ENOTDIR: it is something else.
        Err(Errno::LOOP | Errno::NOTDIR) => {
            let kind = std::fs::symlink_metadata(dir)
                .map(|m| FileKind::of(m.file_type()))
                .unwrap_or(FileKind::Other);
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("not a directory ({})", kind.describe()),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    Ok(OpenDir { fd })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_entries_without_following_links() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.json"), b"{}").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("link")).unwrap();
        let mut found: Vec<(String, FileKind)> = scan_dir_nofollow(dir.path())
            .unwrap()
            .into_iter()
            .map(|e| (e.name.to_string_lossy().into_owned(), e.meta.kind))
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            found,
            [
                ("a.json".to_owned(), FileKind::File),
                ("link".to_owned(), FileKind::Symlink),
                ("sub".to_owned(), FileKind::Dir)
            ]
        );
    }

    #[test]
    fn a_link_in_place_of_the_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("precious"), b"keep").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = scan_dir_nofollow(&link).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotADirectory);
        assert_eq!(err.to_string(), "not a directory (a symbolic link)");
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let err = scan_dir_nofollow(&file).unwrap_err();
        assert_eq!(err.to_string(), "not a directory (a regular file)");
        assert_eq!(
            scan_dir_nofollow(&dir.path().join("missing")).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }
}
