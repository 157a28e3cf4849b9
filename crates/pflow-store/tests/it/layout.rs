//! The filesystem store's history and trash on disk: where the files go, that listings
//! never look at them, and how leftovers of interrupted operations are hidden and
//! repaired.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pflow_ir::Timestamp;
use pflow_store::sim::SimFs;
use pflow_store::{FsStore, IfCalled, StoreError, WorkflowManager};

use crate::common::{SIM_HOME, file_of, ir};

fn real() -> (tempfile::TempDir, PathBuf, WorkflowManager) {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let m = WorkflowManager::new(Arc::new(FsStore::new(&home)));
    (dir, home, m)
}

/// Every file under `dir`, relative to it, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn created_micros(m: &WorkflowManager, n: &str) -> i128 {
    m.load(n).unwrap().created_at.datetime().unix_timestamp_nanos() / 1000
}

#[test]
fn history_and_trash_files_sit_in_dot_directories() {
    let (_dir, home, m) = real();
    m.create("keep", &ir(1), "").unwrap();
    m.update("keep", &ir(2), "", 1).unwrap();
    m.update("keep", &ir(3), "", 2).unwrap();
    m.create("gone", &ir(1), "").unwrap();
    let created = created_micros(&m, "keep");
    let gone_created = created_micros(&m, "gone");
    let key = m.delete("gone", IfCalled::Refuse).unwrap();
    let deleted = key.deleted_at.datetime().unix_timestamp_nanos() / 1000;
    let workflows = home.join("workflows");
    let mut files = files_under(&workflows);
    files.retain(|f| !f.starts_with(".lock") && !f.starts_with(".index"));
    assert_eq!(
        files,
        [
            format!(".history/keep/{created}@1.json"),
            format!(".history/keep/{created}@2.json"),
            format!(".trash/gone@{deleted}@{gone_created}.json"),
            "keep.json".to_owned(),
        ]
    );
    // A kept revision is the previous file, byte for byte.
    let first = fs::read_to_string(workflows.join(format!(".history/keep/{created}@1.json")));
    assert_eq!(first.unwrap(), m.load_revision("keep", 1).unwrap().to_pretty_json());
    let listing = m.list_all().unwrap();
    assert!(listing.problems.is_empty(), "{:?}", listing.problems);
    assert_eq!(listing.workflows.len(), 1);
}

/// Listing and loading read as many files with long histories as without.
#[test]
fn list_and_load_read_no_history() {
    let reads = |revisions: u64| {
        let sim = SimFs::new();
        sim.plant_dir(Path::new("/home/user"));
        let store = FsStore::with_fs(SIM_HOME, Arc::new(sim.clone()));
        let m = WorkflowManager::new(Arc::new(store));
        for i in 0..20 {
            let n = format!("w{i}");
            m.create(&n, &ir(0), "").unwrap();
            for r in 1..revisions {
                m.update(&n, &ir(r), "", r).unwrap();
            }
        }
        m.list_all().unwrap();
        let before = sim.reads();
        let listing = m.list_all().unwrap();
        let list_reads = sim.reads() - before;
        assert_eq!(listing.workflows.len(), 20);
        let before = sim.reads();
        m.load("w7").unwrap();
        let load_reads = sim.reads() - before;
        (list_reads, load_reads)
    };
    let without = reads(1);
    let with = reads(50);
    assert_eq!(without, (1, 1), "a warm listing reads the index only, a load one file");
    assert_eq!(with, without, "history changed what listing or loading reads");
    println!("list/load with 50 revisions each: {with:?} file reads, as without history");
}

/// A power cut between the two directory syncs of a move can leave the file in the
/// trash *and* live (same document): the trash copy is never listed or restored, and the
/// next delete does not make it a second entry.
#[test]
fn a_leftover_of_an_interrupted_move_is_hidden_and_repaired() {
    let (_dir, home, m) = real();
    m.create("x", &ir(1), "one").unwrap();
    m.update("x", &ir(2), "two", 1).unwrap();
    let created = created_micros(&m, "x");
    let trash = home.join("workflows/.trash");
    fs::create_dir_all(&trash).unwrap();
    let leftover = trash.join(format!("x@1@{created}.json"));
    fs::copy(file_of(&home, "x"), &leftover).unwrap();
    assert_eq!(m.trash().unwrap(), Default::default());
    assert!(matches!(m.restore_trashed("x"), Err(StoreError::WorkflowExists { .. })));
    // Updated meanwhile: the leftover is an older revision of the live one; still hidden.
    m.update("x", &ir(3), "three", 2).unwrap();
    assert_eq!(m.trash().unwrap(), Default::default());
    m.delete("x", IfCalled::Refuse).unwrap();
    assert!(!leftover.exists(), "the delete did not remove the leftover");
    let listing = m.trash().unwrap();
    assert_eq!(listing.entries.len(), 1);
    assert_eq!(listing.entries[0].revision, 3);
    m.restore_trashed("x").unwrap();
    let history = m.history("x").unwrap();
    let descriptions: Vec<&str> =
        history.revisions.iter().map(|d| d.description.as_str()).collect();
    assert_eq!(descriptions, ["one", "two", "three"]);
    // A purge removes leftovers too, and nothing else.
    fs::copy(file_of(&home, "x"), &leftover).unwrap();
    assert!(m.purge(None, None).unwrap().is_empty());
    assert!(!leftover.exists());
    assert_eq!(m.history("x").unwrap().revisions.len(), 3);
}

/// A kept revision at or above the current one is what an update interrupted after
/// keeping it left: not listed, and replaced by the next update.
#[test]
fn a_leftover_revision_of_an_interrupted_update_is_hidden_and_replaced() {
    let (_dir, home, m) = real();
    m.create("x", &ir(1), "one").unwrap();
    m.update("x", &ir(2), "two", 1).unwrap();
    let created = created_micros(&m, "x");
    let history = home.join("workflows/.history/x");
    let stale = m.load("x").unwrap().next_revision(ir(9), "lost".into(), Timestamp::now()).unwrap();
    let mut stale_at_2 = stale.clone();
    stale_at_2.revision = 2;
    fs::write(history.join(format!("{created}@2.json")), stale_at_2.to_pretty_json()).unwrap();
    fs::write(history.join(format!("{created}@3.json")), stale.to_pretty_json()).unwrap();
    let descriptions = |m: &WorkflowManager| -> Vec<String> {
        m.history("x").unwrap().revisions.iter().map(|d| d.description.clone()).collect()
    };
    assert_eq!(descriptions(&m), ["one", "two"]);
    assert_eq!(m.load_revision("x", 2).unwrap().description, "two");
    m.update("x", &ir(3), "three", 2).unwrap();
    assert_eq!(descriptions(&m), ["one", "two", "three"]);
    m.update("x", &ir(4), "four", 3).unwrap();
    assert_eq!(descriptions(&m), ["one", "two", "three", "four"]);
}

#[test]
fn purge_removes_the_history_no_document_refers_to() {
    let (_dir, home, m) = real();
    let history = home.join("workflows/.history");
    m.create("a", &ir(1), "").unwrap();
    m.update("a", &ir(2), "", 1).unwrap();
    m.create("b", &ir(1), "").unwrap();
    m.update("b", &ir(2), "", 1).unwrap();
    m.delete("a", IfCalled::Refuse).unwrap();
    m.create("a", &ir(3), "").unwrap();
    m.update("a", &ir(4), "", 1).unwrap();
    assert_eq!(files_under(&history).len(), 3);
    // Purging the old `a` removes its revision, not the new `a`'s nor `b`'s.
    assert_eq!(m.purge(Some("a"), None).unwrap().len(), 1);
    let left = files_under(&history);
    assert_eq!(left.len(), 2, "{left:?}");
    assert_eq!(m.history("a").unwrap().revisions.len(), 2);
    assert_eq!(m.history("b").unwrap().revisions.len(), 2);
    m.delete("a", IfCalled::Refuse).unwrap();
    m.delete("b", IfCalled::Refuse).unwrap();
    m.purge(None, None).unwrap();
    assert!(files_under(&history).is_empty(), "{:?}", files_under(&history));
    assert!(!history.join("a").exists() && !history.join("b").exists());

    // Orphans (left by a purge a crash interrupted) are collected by the next purge…
    let orphan = history.join("c/123@1.json");
    fs::create_dir_all(orphan.parent().unwrap()).unwrap();
    fs::write(&orphan, "{}").unwrap();
    m.create("c", &ir(1), "").unwrap();
    m.purge(None, None).unwrap();
    assert!(!orphan.exists());
    // …but never while the live document cannot be read: they might be its own.
    fs::create_dir_all(orphan.parent().unwrap()).unwrap();
    fs::write(&orphan, "{}").unwrap();
    fs::write(file_of(&home, "c"), "{ torn").unwrap();
    m.purge(None, None).unwrap();
    assert!(orphan.exists());
}

#[test]
fn planted_links_in_place_of_history_or_trash_are_never_followed() {
    let (dir, home, m) = real();
    let outside = dir.path().join("outside");
    fs::create_dir_all(&outside).unwrap();
    m.create("x", &ir(1), "").unwrap();
    let workflows = home.join("workflows");
    symlink(&outside, workflows.join(".trash")).unwrap();
    symlink(&outside, workflows.join(".history")).unwrap();
    // Reported as the store's own entries being wrong (it was `Corrupt` before).
    let layout = |r: Result<(), StoreError>| match r {
        Err(err @ StoreError::Layout { .. }) => {
            let StoreError::Layout { location, reason } = &err else { unreachable!() };
            assert!(location.ends_with(".trash") || location.ends_with(".history"), "{location}");
            assert_eq!(reason, "a symbolic link instead of a directory");
            assert!(err.to_string().starts_with("the store's own entry `"), "{err}");
        }
        other => panic!("expected Layout, got {other:?}"),
    };
    layout(m.delete("x", IfCalled::Refuse).map(drop));
    layout(m.update("x", &ir(2), "", 1).map(drop));
    layout(m.create("y", &ir(2), "").map(drop));
    layout(m.trash().map(drop));
    layout(m.restore_trashed("y").map(drop));
    layout(m.purge(None, None).map(drop));
    layout(m.history("x").map(drop));
    assert_eq!(m.load("x").unwrap().revision, 1);
    assert!(!m.exists("y").unwrap());
    assert_eq!(fs::read_dir(&outside).unwrap().count(), 0, "something was written outside");
    // The store still lists and loads.
    assert_eq!(m.list_all().unwrap().workflows.len(), 1);
}
