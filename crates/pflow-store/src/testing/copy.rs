//! Conformance: copying a whole library into the store under test and out of it
//! (`WorkflowManager::copy_into`), with an in-memory store on the other side: every life
//! with its history and the trash, once; conflicts by name; unreadable entries skipped.

use std::sync::Arc;

use super::support::{ir, manager, plant_corrupt};
use super::{Case, Harness, case};
use crate::{IfCalled, MemoryStore, WorkflowManager};

pub(super) const CASES: &[Case] = &[
    case!(copy_writes_every_life_once),
    case!(copy_reports_conflicts_by_name_and_leaves_them),
    case!(copy_skips_what_it_cannot_read, corrupt),
];

/// A library with histories and a trash: `alpha` at revision 3, `beta` deleted and saved
/// again, `gamma` deleted twice.
fn library() -> WorkflowManager {
    let m = WorkflowManager::new(Arc::new(MemoryStore::new()));
    m.create("alpha", &ir(1), "a1").unwrap();
    m.update("alpha", &ir(2), "a2", 1).unwrap();
    m.update("alpha", &ir(3), "a3", 2).unwrap();
    m.create("beta", &ir(4), "b1").unwrap();
    m.update("beta", &ir(5), "b2", 1).unwrap();
    m.delete("beta", IfCalled::Refuse).unwrap();
    m.create("beta", &ir(6), "b again").unwrap();
    for n in [7, 8] {
        m.create("gamma", &ir(n), "g").unwrap();
        m.delete("gamma", IfCalled::Refuse).unwrap();
    }
    m
}

fn memory() -> WorkflowManager {
    WorkflowManager::new(Arc::new(MemoryStore::new()))
}

fn copy_writes_every_life_once(h: &mut dyn Harness) {
    let source = library();
    let store = manager(h);
    let report = source.copy_into(&store).unwrap();
    let copied: Vec<(String, usize, bool)> = report
        .copied
        .iter()
        .map(|c| (c.name.to_string(), c.revisions, c.deleted_at.is_some()))
        .collect();
    assert_eq!(
        copied,
        [
            ("alpha".to_owned(), 3, false),
            ("beta".to_owned(), 1, false),
            ("beta".to_owned(), 2, true),
            ("gamma".to_owned(), 1, true),
            ("gamma".to_owned(), 1, true),
        ]
    );
    assert!(report.conflicts.is_empty() && report.unreadable.is_empty(), "{report:?}");
    assert_eq!(store.lives().unwrap(), source.lives().unwrap());
    // Again: nothing to do.
    let again = source.copy_into(&store).unwrap();
    assert!(again.copied.is_empty(), "{again:?}");
    assert_eq!((again.unchanged, again.conflicts.len()), (5, 0));
    // And out again, whole.
    let out = memory();
    assert_eq!(store.copy_into(&out).unwrap().copied.len(), 5);
    assert_eq!(out.lives().unwrap(), source.lives().unwrap());
    let counts = store.store().counts().unwrap();
    assert_eq!((counts.workflows, counts.revisions, counts.trash_entries), (2, 8, 3));
    assert_eq!(counts.unreadable, 0);
}

fn copy_reports_conflicts_by_name_and_leaves_them(h: &mut dyn Harness) {
    let source = library();
    let store = manager(h);
    source.copy_into(&store).unwrap();
    // The copy moved on there; another `delta` was saved on each side.
    store.update("alpha", &ir(9), "changed there", 3).unwrap();
    source.create("delta", &ir(10), "here").unwrap();
    store.create("delta", &ir(11), "there").unwrap();
    let report = source.copy_into(&store).unwrap();
    let conflicts: Vec<(&str, &str)> =
        report.conflicts.iter().map(|c| (c.name.as_str(), c.reason.as_str())).collect();
    assert_eq!(
        conflicts,
        [
            ("alpha", "it is at revision 4 there, 3 here"),
            ("delta", "another workflow of that name is saved there")
        ]
    );
    assert!(report.copied.is_empty(), "{report:?}");
    assert_eq!(report.unchanged, 4);
    assert_eq!(store.load("alpha").unwrap().description, "changed there");
    assert_eq!(store.load("delta").unwrap().description, "there");
}

fn copy_skips_what_it_cannot_read(h: &mut dyn Harness) {
    let store = manager(h);
    store.create("good", &ir(1), "").unwrap();
    plant_corrupt(h, "bad");
    let out = memory();
    let report = store.copy_into(&out).unwrap();
    assert_eq!(report.copied.len(), 1);
    assert_eq!(report.unreadable.len(), 1, "{report:?}");
    assert_eq!(report.unreadable[0].location, store.locate("bad").unwrap().0);
    assert!(!out.exists("bad").unwrap());
    assert_eq!(store.store().counts().unwrap().unreadable, 1);
}
