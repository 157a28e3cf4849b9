//! The list index: it is only a cache, so it must never change what `list` returns —
//! not after edits behind the store's back, not when damaged, not when files vanish.

use std::fs::{self, FileTimes, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pflow_store::{StoreError, WorkflowStore};

use crate::common::{Backend, doc, file_of, ir, put};

fn index_path(home: &Path) -> PathBuf {
    home.join("workflows/.index.json")
}

/// Whether the index vouches for `file` by its fingerprint alone.
fn trusted_in_index(home: &Path, file: &str) -> bool {
    let Ok(bytes) = fs::read(index_path(home)) else { return false };
    let index: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    index["records"].as_array().unwrap().iter().any(|r| r["file"] == file && r["trusted"] == true)
}

fn descriptions(store: &dyn WorkflowStore) -> Vec<(String, String)> {
    let listing = store.list().unwrap();
    assert!(listing.problems.is_empty(), "{:?}", listing.problems);
    listing.workflows.iter().map(|s| (s.name.to_string(), s.description.clone())).collect()
}

#[test]
fn an_edit_behind_the_back_with_the_same_size_and_mtime_is_seen() {
    let backend = Backend::fs();
    let Backend::Fs { home, .. } = &backend else { unreachable!("an fs backend") };
    let store = backend.store();
    let m = backend.manager();
    m.create("a", &ir(1), "AAAA").unwrap();
    m.create("b", &ir(1), "keep").unwrap();
    // List until the index vouches for `a` (its timestamps fell behind the filesystem
    // clock's granularity); each listing re-reads it until then.
    let start = Instant::now();
    while !trusted_in_index(home, "a.json") {
        descriptions(&*store);
        assert!(start.elapsed() < Duration::from_secs(30), "the index never trusted a.json");
    }
    let path = file_of(home, "a");
    let before = fs::read_to_string(&path).unwrap();
    let mtime = fs::metadata(&path).unwrap().modified().unwrap();
    // Rewrite in place, same size, and put the modification time back.
    let after = before.replace("AAAA", "BBBB");
    assert_eq!(after.len(), before.len());
    let mut file = OpenOptions::new().write(true).open(&path).unwrap();
    file.write_all(after.as_bytes()).unwrap();
    file.set_times(FileTimes::new().set_modified(mtime)).unwrap();
    drop(file);
    assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), mtime);
    assert_eq!(
        descriptions(&*store),
        [("a".to_owned(), "BBBB".to_owned()), ("b".to_owned(), "keep".to_owned())]
    );
}

/// On a filesystem with one-second timestamps, an edit in the same second as the read
/// leaves size, inode and both timestamps equal: only the trust rule catches it.
#[test]
fn an_edit_within_the_same_timestamp_tick_is_seen() {
    let backend = Backend::sim();
    let Backend::Sim { sim, home, .. } = &backend else { unreachable!("a sim backend") };
    sim.set_tick(1_000_000_000);
    let store = backend.store();
    let first = doc("a", 1);
    put(&*store, &first);
    assert_eq!(descriptions(&*store), [("a".to_owned(), "description 1".to_owned())]);
    // Same length, same inode, same tick.
    let mut second = first.clone();
    second.description = "description 2".to_owned();
    sim.plant_file(&file_of(home, "a"), second.to_pretty_json().as_bytes());
    assert_eq!(descriptions(&*store), [("a".to_owned(), "description 2".to_owned())]);
    // Once the clock moved on, the record is trusted and the file is not read again.
    sim.advance_clock(2_000_000_000);
    descriptions(&*store);
    let reads = sim.reads();
    assert_eq!(descriptions(&*store), [("a".to_owned(), "description 2".to_owned())]);
    assert_eq!(sim.reads() - reads, 1, "only the index is read");
}

#[test]
fn only_changed_files_are_read_again() {
    let backend = Backend::sim();
    let Backend::Sim { sim, home, .. } = &backend else { unreachable!("a sim backend") };
    let store = backend.store();
    for n in ["a", "b", "c", "d", "e"] {
        put(&*store, &doc(n, 1));
    }
    descriptions(&*store);
    let reads = sim.reads();
    descriptions(&*store);
    assert_eq!(sim.reads() - reads, 1, "a warm listing reads only the index");
    sim.plant_file(&file_of(home, "c"), doc("c", 7).to_pretty_json().as_bytes());
    let reads = sim.reads();
    let listing = descriptions(&*store);
    assert_eq!(sim.reads() - reads, 2, "the index and c.json");
    assert_eq!(listing[2], ("c".to_owned(), "description 7".to_owned()));
    // The index rewritten by that listing (records before `c` copied as they were, the
    // rest written anew) is whole: the next listing reads only it, and lists the same.
    let reads = sim.reads();
    assert_eq!(descriptions(&*store), listing);
    assert_eq!(sim.reads() - reads, 1, "only the rewritten index");
    // So is one rewritten because the first or the last file changed, or one was removed.
    for (name, n) in [("a", 8), ("e", 9)] {
        sim.plant_file(&file_of(home, name), doc(name, n).to_pretty_json().as_bytes());
        descriptions(&*store);
        let reads = sim.reads();
        let listing = descriptions(&*store);
        assert_eq!(sim.reads() - reads, 1, "only the index after `{name}` changed");
        assert!(listing.contains(&(name.to_owned(), format!("description {n}"))), "{listing:?}");
    }
    sim.remove_raw(&file_of(home, "b"));
    assert_eq!(descriptions(&*store).len(), 4);
    let reads = sim.reads();
    assert_eq!(descriptions(&*store).len(), 4);
    assert_eq!(sim.reads() - reads, 1, "only the index after `b` was removed");
}

#[test]
fn a_damaged_index_is_rebuilt() {
    let backend = Backend::fs();
    let Backend::Fs { home, .. } = &backend else { unreachable!("an fs backend") };
    let store = backend.store();
    put(&*store, &doc("a", 1));
    put(&*store, &doc("b", 2));
    let expected = descriptions(&*store);
    let damage: [&[u8]; 4] = [b"{\"format\": 1, \"records\": [", b"", b"\xff\xfe", b"[]"];
    for bytes in damage {
        fs::write(index_path(home), bytes).unwrap();
        assert_eq!(descriptions(&*store), expected);
        let rebuilt: serde_json::Value =
            serde_json::from_slice(&fs::read(index_path(home)).unwrap()).unwrap();
        assert_eq!(rebuilt["format"], 4);
    }
    // An index from another format is ignored.
    fs::write(index_path(home), br#"{"format": 99, "records": []}"#).unwrap();
    assert_eq!(descriptions(&*store), expected);
    // A symbolic link planted as the index is never followed nor written through: the
    // listing still lists every workflow and says why the index was not updated…
    let outside = home.parent().unwrap().join("outside");
    fs::write(&outside, b"precious").unwrap();
    fs::remove_file(index_path(home)).unwrap();
    std::os::unix::fs::symlink(&outside, index_path(home)).unwrap();
    let link_problem = |listing: &pflow_store::Listing| {
        assert_eq!(listing.problems.len(), 1, "{:?}", listing.problems);
        let problem = &listing.problems[0];
        assert!(problem.location.ends_with(".index.json"), "{problem:?}");
        assert_eq!(
            problem.reason,
            "a symbolic link instead of a regular file; the list index was not updated"
        );
    };
    let listing = store.list().unwrap();
    link_problem(&listing);
    let names: Vec<(String, String)> =
        listing.workflows.iter().map(|s| (s.name.to_string(), s.description.clone())).collect();
    assert_eq!(names, expected);
    // …and a write refuses to run beside it (the store's own entries must be what they are).
    let stored = pflow_store::StoredDocument::new(doc("c", 3)).unwrap();
    match store.write(&mut |txn| txn.create(&stored)).unwrap_err() {
        StoreError::Layout { location, reason } => {
            assert!(location.ends_with(".index.json"), "{location}");
            assert_eq!(reason, "a symbolic link instead of a regular file");
        }
        other => panic!("expected Layout, got {other:?}"),
    }
    assert_eq!(fs::read(&outside).unwrap(), b"precious");
    assert!(fs::symlink_metadata(index_path(home)).unwrap().is_symlink());
    // Once the link is removed, the index is rebuilt as a file of the store's own.
    fs::remove_file(index_path(home)).unwrap();
    put(&*store, &doc("c", 3));
    assert_eq!(descriptions(&*store).len(), 3);
    assert_eq!(fs::read(&outside).unwrap(), b"precious");
    assert!(fs::symlink_metadata(index_path(home)).unwrap().is_file());
}

#[test]
fn a_file_deleted_behind_the_back_disappears() {
    let backend = Backend::fs();
    let Backend::Fs { home, .. } = &backend else { unreachable!("an fs backend") };
    let store = backend.store();
    put(&*store, &doc("a", 1));
    put(&*store, &doc("b", 2));
    assert_eq!(descriptions(&*store).len(), 2);
    fs::remove_file(file_of(home, "b")).unwrap();
    assert_eq!(descriptions(&*store), [("a".to_owned(), "description 1".to_owned())]);
    // Replaced by a different file of the same name: the new content shows.
    fs::write(file_of(home, "a"), doc("a", 3).to_pretty_json()).unwrap();
    assert_eq!(descriptions(&*store), [("a".to_owned(), "description 3".to_owned())]);
}

#[test]
fn a_repaired_file_is_no_longer_a_problem() {
    let backend = Backend::fs();
    let Backend::Fs { home, .. } = &backend else { unreachable!("an fs backend") };
    let store = backend.store();
    backend.plant_corrupt("a");
    assert_eq!(store.list().unwrap().problems.len(), 1);
    assert_eq!(store.list().unwrap().problems.len(), 1);
    fs::write(file_of(home, "a"), doc("a", 1).to_pretty_json()).unwrap();
    assert_eq!(descriptions(&*store), [("a".to_owned(), "description 1".to_owned())]);
}

#[test]
fn listing_a_missing_home_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = pflow_store::FsStore::new(dir.path().join("nowhere"));
    assert_eq!(store.list().unwrap(), Default::default());
    assert!(!store.exists(&crate::common::name("a")).unwrap());
    assert!(store.load(&crate::common::name("a")).is_err());
    assert!(!dir.path().join("nowhere").exists());
}

/// A store large enough for its index (over 256 KiB) to be read in several buffers of
/// the streamed merge behaves the same, also when a change in the middle makes the
/// listing copy the records before it and rewrite the rest.
#[test]
fn a_large_index_is_validated_the_same_way() {
    let backend = Backend::fs();
    let Backend::Fs { home, .. } = &backend else { unreachable!("an fs backend") };
    let store = backend.store();
    put(&*store, &doc("w-0", 0));
    for i in 1..1_000 {
        fs::write(file_of(home, &format!("w-{i}")), doc(&format!("w-{i}"), i).to_pretty_json())
            .unwrap();
    }
    let first = descriptions(&*store);
    assert_eq!(first.len(), 1_000);
    let index_len = fs::metadata(index_path(home)).unwrap().len();
    assert!(index_len > 256 * 1024, "the index has only {index_len} bytes");
    assert_eq!(descriptions(&*store), first);
    fs::write(file_of(home, "w-500"), doc("w-500", 5_000).to_pretty_json()).unwrap();
    fs::remove_file(file_of(home, "w-7")).unwrap();
    let listing = descriptions(&*store);
    assert_eq!(listing.len(), 999);
    assert!(listing.contains(&("w-500".to_owned(), "description 5000".to_owned())));
    assert!(!listing.iter().any(|(n, _)| n == "w-7"));
    let mut names: Vec<String> = listing.iter().map(|(n, _)| n.clone()).collect();
    let sorted = {
        let mut s = names.clone();
        s.sort();
        s
    };
    assert_eq!(names, sorted);
    names.dedup();
    assert_eq!(names.len(), 999);
}
