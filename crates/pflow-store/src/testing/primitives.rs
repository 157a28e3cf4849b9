//! Conformance: the transaction primitives themselves, with no rule of the manager's in
//! between — a create never overwrites, a replace keeps the replaced revision, a delete
//! moves a workflow with its history to the trash, a restore brings it back, a purge
//! deletes what its filter selects, and a transaction sees its own writes.
//!
//! Where a test of the old, higher-level trait methods proved a rule that now lives in
//! the manager, its case asserts that rule through the manager as well.

use pflow_ir::{Timestamp, WorkflowName};

use super::support::{doc, ir, manager, name, plant_corrupt, put, stored, transact};
use super::{Case, Harness, case};
use crate::{History, PurgeFilter, StoreError, TrashEntry, TrashKey, WorkflowStore};

pub(super) const CASES: &[Case] = &[
    case!(raw_trait_obeys_the_same_rules),
    case!(a_transaction_sees_its_own_writes),
    case!(unknown_fields_survive_an_update),
    case!(restore_brings_a_trash_entry_back_with_its_history),
    case!(purge_selects_by_name_and_by_age),
    case!(purge_removes_the_history_of_what_it_deletes),
    case!(deletion_times_of_one_name_are_distinct_and_increasing),
    case!(trashed_lists_the_entries_of_a_name_oldest_first),
    case!(unreadable_entries_are_seen_by_transactions_too, corrupt),
    case!(put_life_writes_a_whole_life_live_or_trashed),
    case!(lives_read_back_what_put_life_wrote),
];

/// `days` days after 2025-01-01.
fn day(days: i64) -> Timestamp {
    let base = Timestamp::parse("2025-01-01T00:00:00Z").expect("a valid time").unix_micros();
    Timestamp::from_unix_micros(base + days * 86_400 * 1_000_000).expect("a representable time")
}

fn delete(store: &dyn WorkflowStore, n: &str, at: Timestamp) -> TrashKey {
    transact(store, |txn| txn.delete(&name(n), at)).expect("the primitive delete works")
}

fn trashed_keys(store: &dyn WorkflowStore, n: &str) -> Vec<TrashKey> {
    let trashed = transact(store, |txn| txn.trashed(&name(n))).unwrap();
    trashed.into_iter().map(|t| t.key).collect()
}

/// The primitives store what they are given and check what only the store can (a name
/// that is taken, one that is not there); the rules the raw trait once kept too (revisions,
/// conflicts) are the manager's, over any backend.
fn raw_trait_obeys_the_same_rules(h: &mut dyn Harness) {
    let store = h.store();
    let store = &*store;
    let raw = name("raw");
    let first = doc("raw", 1);
    put(store, &first);
    let err = transact(store, |txn| txn.create(&stored(&doc("raw", 2)))).unwrap_err();
    assert!(matches!(&err, StoreError::WorkflowExists { name } if *name == raw), "{err:?}");
    assert_eq!(store.load(&raw).unwrap(), first);
    assert!(store.exists(&raw).unwrap());
    // A replace keeps the revision it replaces, exactly.
    let next = first.next_revision(ir(2), "d2".into(), Timestamp::now()).unwrap();
    transact(store, |txn| {
        let current = txn.load(&raw)?.expect("raw is stored");
        assert_eq!(current, first);
        txn.replace(&current, &stored(&next))
    })
    .unwrap();
    assert_eq!(store.load(&raw).unwrap(), next);
    assert_eq!(
        store.kept_revisions(&next).unwrap(),
        History { revisions: vec![first.clone()], problems: vec![] }
    );
    assert_eq!(store.kept_revision(&next, 1).unwrap(), Some(first.clone()));
    for not_kept in [0, 2, 3] {
        assert_eq!(store.kept_revision(&next, not_kept).unwrap(), None, "{not_kept}");
    }
    // What the raw `update` once refused, the manager refuses for every backend.
    let m = manager(h);
    assert!(matches!(
        m.update("raw", &ir(3), "d3", 1),
        Err(StoreError::Conflict { expected: 1, actual: Some(2), .. })
    ));
    assert!(matches!(m.update("nope", &ir(3), "", 1), Err(StoreError::WorkflowNotFound { .. })));
    assert_eq!(store.load(&raw).unwrap(), next);
    assert_eq!(store.list().unwrap().workflows.len(), 1);
    // A delete moves it, with its history, to the trash under the time it is given.
    let key = delete(store, "raw", day(3));
    assert_eq!(key, TrashKey { name: raw.clone(), deleted_at: day(3) });
    let again = transact(store, |txn| txn.delete(&raw, day(3))).unwrap_err();
    assert!(matches!(again, StoreError::WorkflowNotFound { .. }), "{again:?}");
    assert!(matches!(store.load(&raw), Err(StoreError::WorkflowNotFound { .. })));
    assert!(!store.exists(&raw).unwrap());
    assert!(store.list().unwrap().workflows.is_empty());
    let trash = store.trash().unwrap();
    assert_eq!(trash.entries, [TrashEntry::of(&next, day(3))]);
    assert!(trash.problems.is_empty(), "{:?}", trash.problems);
    assert_eq!(store.kept_revisions(&next).unwrap().revisions, [first]);
    assert!(store.locate(&raw).0.contains("raw"));
}

/// Every method of a transaction sees the effects of the ones before it.
fn a_transaction_sees_its_own_writes(h: &mut dyn Harness) {
    let store = h.store();
    let a = name("a");
    let first = doc("a", 1);
    let next = first.next_revision(ir(2), "two".into(), Timestamp::now()).unwrap();
    transact(&*store, |txn| {
        assert_eq!(txn.load(&a)?, None);
        assert!(!txn.exists(&a)?);
        txn.create(&stored(&first))?;
        assert_eq!(txn.load(&a)?, Some(first.clone()));
        assert!(txn.exists(&a)?);
        let names: Vec<WorkflowName> = txn.list()?.workflows.into_iter().map(|s| s.name).collect();
        assert_eq!(names, std::slice::from_ref(&a));
        txn.replace(&first, &stored(&next))?;
        assert_eq!(txn.load(&a)?, Some(next.clone()));
        assert_eq!(txn.kept_revision(&next, 1)?, Some(first.clone()));
        let key = txn.delete(&a, day(1))?;
        assert_eq!(txn.load(&a)?, None);
        assert!(!txn.exists(&a)?);
        let trashed = txn.trashed(&a)?;
        assert_eq!(trashed.len(), 1);
        assert_eq!((&trashed[0].key, &trashed[0].document), (&key, &Some(next.clone())));
        txn.restore(&key)?;
        assert_eq!(txn.load(&a)?, Some(next.clone()));
        assert!(txn.trashed(&a)?.is_empty());
        Ok(())
    })
    .unwrap();
    assert_eq!(store.load(&a).unwrap(), next);
    assert_eq!(store.kept_revisions(&next).unwrap().revisions, [first]);
    assert_eq!(store.trash().unwrap(), Default::default());
}

fn unknown_fields_survive_an_update(h: &mut dyn Harness) {
    let store = h.store();
    let mut first = doc("future", 1);
    first.extra.insert("labels".into(), serde_json::json!(["from-the-future"]));
    put(&*store, &first);
    assert_eq!(store.load(&name("future")).unwrap().extra, first.extra);
    // The manager's update (as every write that makes a new revision) keeps them.
    let next = manager(h).update("future", &ir(2), "", 1).unwrap();
    assert_eq!(next.extra, first.extra);
    assert_eq!(store.load(&name("future")).unwrap(), next);
    assert_eq!(manager(h).load_revision("future", 1).unwrap(), first);
}

fn restore_brings_a_trash_entry_back_with_its_history(h: &mut dyn Harness) {
    let store = h.store();
    let store = &*store;
    let a = name("a");
    let first = doc("a", 1);
    let next = first.next_revision(ir(2), "two".into(), Timestamp::now()).unwrap();
    put(store, &first);
    transact(store, |txn| txn.replace(&first, &stored(&next))).unwrap();
    let key = delete(store, "a", day(1));
    transact(store, |txn| txn.restore(&key)).unwrap();
    assert_eq!(store.load(&a).unwrap(), next);
    assert_eq!(store.kept_revisions(&next).unwrap().revisions, [first]);
    assert_eq!(store.trash().unwrap(), Default::default());
    // The entry is gone from the trash: once the name is free again, restoring it finds
    // nothing.
    let second = delete(store, "a", day(2));
    let err = transact(store, |txn| txn.restore(&key)).unwrap_err();
    assert!(matches!(err, StoreError::NotInTrash { .. }), "{err:?}");
    assert_eq!(trashed_keys(store, "a"), std::slice::from_ref(&second));
    // Never over a live workflow of that name.
    put(store, &doc("a", 3));
    let err = transact(store, |txn| txn.restore(&second)).unwrap_err();
    assert!(matches!(err, StoreError::WorkflowExists { .. }), "{err:?}");
    assert_eq!(store.load(&a).unwrap().description, "description 3");
    assert_eq!(trashed_keys(store, "a"), [second]);
}

fn purge_selects_by_name_and_by_age(h: &mut dyn Harness) {
    let store = h.store();
    let store = &*store;
    for (n, days) in [("a", 0), ("b", 10), ("c", 20)] {
        put(store, &doc(n, 1));
        delete(store, n, day(days));
    }
    put(store, &doc("a", 2));
    delete(store, "a", day(30));
    let purge = |filter: PurgeFilter| transact(store, |txn| txn.purge(&filter)).unwrap();
    let purged = purge(PurgeFilter { name: None, deleted_before: Some(day(10)) });
    assert_eq!(purged, [TrashKey { name: name("a"), deleted_at: day(0) }]);
    let purged = purge(PurgeFilter { name: Some(name("a")), deleted_before: None });
    assert_eq!(purged, [TrashKey { name: name("a"), deleted_at: day(30) }]);
    let left: Vec<String> =
        store.trash().unwrap().entries.iter().map(|e| e.name.to_string()).collect();
    assert_eq!(left, ["b", "c"]);
    // Nothing matches: nothing purged.
    assert!(purge(PurgeFilter { name: Some(name("zz")), deleted_before: None }).is_empty());
    assert!(purge(PurgeFilter { name: Some(name("b")), deleted_before: Some(day(10)) }).is_empty());
    let all = purge(PurgeFilter::default());
    assert_eq!(
        all,
        [
            TrashKey { name: name("b"), deleted_at: day(10) },
            TrashKey { name: name("c"), deleted_at: day(20) }
        ]
    );
    assert_eq!(store.trash().unwrap(), Default::default());
}

fn purge_removes_the_history_of_what_it_deletes(h: &mut dyn Harness) {
    let store = h.store();
    let store = &*store;
    let first = doc("a", 1);
    let next = first.next_revision(ir(2), "two".into(), Timestamp::now()).unwrap();
    put(store, &first);
    transact(store, |txn| txn.replace(&first, &stored(&next))).unwrap();
    let key = delete(store, "a", day(1));
    assert_eq!(store.kept_revisions(&next).unwrap().revisions, [first]);
    let filter = PurgeFilter { name: Some(name("a")), deleted_before: None };
    assert_eq!(transact(store, |txn| txn.purge(&filter)).unwrap(), [key]);
    assert_eq!(store.kept_revisions(&next).unwrap(), History::default());
    assert_eq!(store.kept_revision(&next, 1).unwrap(), None);
}

fn deletion_times_of_one_name_are_distinct_and_increasing(h: &mut dyn Harness) {
    let store = h.store();
    let store = &*store;
    let now = Timestamp::now();
    let mut keys = Vec::new();
    for content in 0..3 {
        put(store, &doc("same", content));
        keys.push(delete(store, "same", now));
    }
    assert_eq!(keys[0].deleted_at, now);
    assert!(keys[0].deleted_at < keys[1].deleted_at && keys[1].deleted_at < keys[2].deleted_at);
    let listed: Vec<TrashKey> = store.trash().unwrap().entries.iter().map(|e| e.key()).collect();
    assert_eq!(listed, keys);
    assert_eq!(trashed_keys(store, "same"), keys);
    // Another name is not pushed forward.
    put(store, &doc("other", 1));
    assert_eq!(delete(store, "other", now).deleted_at, now);
    // The manager brings back the newest.
    assert_eq!(manager(h).restore_trashed("same").unwrap().description, "description 2");
    // And its own deletions of that name come after every one in the trash.
    let key = manager(h).delete("same", crate::IfCalled::Refuse).unwrap();
    assert!(key.deleted_at > keys[2].deleted_at, "{key:?}");
}

fn trashed_lists_the_entries_of_a_name_oldest_first(h: &mut dyn Harness) {
    let store = h.store();
    let store = &*store;
    // Deleted in another order than their times.
    for (content, days) in [(3, 3), (1, 1), (2, 2)] {
        put(store, &doc("x", content));
        delete(store, "x", day(days));
    }
    put(store, &doc("y", 9));
    delete(store, "y", day(0));
    let trashed = transact(store, |txn| txn.trashed(&name("x"))).unwrap();
    let got: Vec<(Timestamp, Option<String>)> = trashed
        .iter()
        .map(|t| (t.key.deleted_at, t.document.as_ref().map(|d| d.description.clone())))
        .collect();
    let want: Vec<(Timestamp, Option<String>)> =
        (1..=3).map(|n| (day(n), Some(format!("description {n}")))).collect();
    assert_eq!(got, want);
    assert!(trashed.iter().all(|t| t.key.name.as_str() == "x"));
    assert!(transact(store, |txn| txn.trashed(&name("zz"))).unwrap().is_empty());
    // The trash listing: by name, then by deletion time.
    let listed: Vec<(String, Timestamp)> =
        store.trash().unwrap().entries.iter().map(|e| (e.name.to_string(), e.deleted_at)).collect();
    let want: Vec<(String, Timestamp)> = [("x", 1), ("x", 2), ("x", 3), ("y", 0)]
        .iter()
        .map(|(n, d)| ((*n).to_owned(), day(*d)))
        .collect();
    assert_eq!(listed, want);
}

fn unreadable_entries_are_seen_by_transactions_too(h: &mut dyn Harness) {
    let store = h.store();
    let store = &*store;
    plant_corrupt(h, "bad");
    let bad = name("bad");
    let err = transact(store, |txn| txn.load(&bad)).unwrap_err();
    assert!(matches!(&err, StoreError::Corrupt { workflow: Some(w), .. } if *w == bad), "{err:?}");
    assert!(transact(store, |txn| txn.exists(&bad)).unwrap());
    let listing = transact(store, |txn| txn.list()).unwrap();
    assert_eq!(listing.problems.len(), 1, "{listing:?}");
    // A create never replaces it.
    let err = transact(store, |txn| txn.create(&stored(&doc("bad", 1)))).unwrap_err();
    assert!(matches!(err, StoreError::WorkflowExists { .. }), "{err:?}");
    // A delete moves it to the trash, where a transaction sees it without a document.
    put(store, &doc("other", 1));
    delete(store, "other", day(0));
    let first_bad = delete(store, "bad", day(0));
    assert!(matches!(store.load(&bad), Err(StoreError::WorkflowNotFound { .. })));
    put(store, &doc("bad", 1));
    let good = delete(store, "bad", day(1));
    plant_corrupt(h, "bad");
    let second_bad = delete(store, "bad", day(2));
    let trashed = transact(store, |txn| txn.trashed(&bad)).unwrap();
    let got: Vec<(&TrashKey, bool)> =
        trashed.iter().map(|t| (&t.key, t.document.is_some())).collect();
    assert_eq!(got, [(&first_bad, false), (&good, true), (&second_bad, false)]);
    let trash = store.trash().unwrap();
    assert_eq!(trash.entries.len(), 2);
    assert_eq!(trash.problems.len(), 2, "{:?}", trash.problems);
    // A purge deletes unreadable entries too, and only those it selects.
    let filter = PurgeFilter { name: Some(bad.clone()), deleted_before: None };
    let purged = transact(store, |txn| txn.purge(&filter)).unwrap();
    assert_eq!(purged, [first_bad, good, second_bad]);
    let trash = store.trash().unwrap();
    assert_eq!((trash.entries.len(), trash.problems.len()), (1, 0), "{trash:?}");
}

/// Three revisions of one life of `n`, created at `created`.
fn three_revisions(n: &str, created: Timestamp) -> Vec<pflow_ir::Document> {
    let first = pflow_ir::Document::new(name(n), "one".into(), ir(1), created);
    let second = first.next_revision(ir(2), "two".into(), day(1)).unwrap();
    let third = second.next_revision(ir(3), "three".into(), day(2)).unwrap();
    vec![first, second, third]
}

/// A life written whole is the live workflow with its history, or a trash entry that a
/// restore brings back with its history; a live life needs its name free.
fn put_life_writes_a_whole_life_live_or_trashed(h: &mut dyn Harness) {
    let store = h.store();
    let store = &*store;
    let m = manager(h);
    let live = crate::Life { revisions: three_revisions("copied", day(0)), deleted_at: None };
    let placed = transact(store, |txn| txn.put_life(&live.stored()?, None)).unwrap();
    assert_eq!(placed, crate::Placed::Live);
    assert_eq!(m.load("copied").unwrap(), live.revisions[2]);
    assert_eq!(m.history("copied").unwrap().revisions, live.revisions);
    let again = transact(store, |txn| txn.put_life(&live.stored()?, None)).unwrap_err();
    assert!(matches!(again, StoreError::WorkflowExists { .. }), "{again:?}");

    // A trashed life of the same name, created earlier, goes to the trash as it is.
    let old =
        crate::Life { revisions: three_revisions("copied", day(-10)), deleted_at: Some(day(-5)) };
    let placed = transact(store, |txn| txn.put_life(&old.stored()?, old.deleted_at)).unwrap();
    assert_eq!(
        placed,
        crate::Placed::Trashed(TrashKey { name: name("copied"), deleted_at: day(-5) })
    );
    let entries = m.trash().unwrap().entries;
    assert_eq!(entries.len(), 1);
    assert_eq!((entries[0].revision, entries[0].created_at), (3, day(-10)));
    // The live one's history is untouched; once it is gone, the trashed life comes back whole.
    assert_eq!(m.history("copied").unwrap().revisions, live.revisions);
    m.delete("copied", crate::IfCalled::DeleteAnyway).unwrap();
    m.purge(Some("copied"), None).unwrap();
    transact(store, |txn| txn.put_life(&old.stored()?, old.deleted_at)).unwrap();
    assert_eq!(m.restore_trashed("copied").unwrap(), old.revisions[2]);
    assert_eq!(m.history("copied").unwrap().revisions, old.revisions);

    // What is not one life is refused before anything is written.
    let mut mixed = three_revisions("mixed", day(0));
    mixed[1].created_at = day(3);
    let err = crate::Life { revisions: mixed, deleted_at: None }.stored().unwrap_err();
    assert!(err.to_string().contains("not one life of a workflow"), "{err}");
    assert!(!m.exists("mixed").unwrap());
}

/// `lives` gives every live and trashed life with its history, so that writing them into
/// another store of the same backend gives the same lives back.
fn lives_read_back_what_put_life_wrote(h: &mut dyn Harness) {
    let m = manager(h);
    m.create("alpha", &ir(1), "a1").unwrap();
    m.update("alpha", &ir(2), "a2", 1).unwrap();
    m.create("beta", &ir(3), "b1").unwrap();
    m.delete("beta", crate::IfCalled::Refuse).unwrap();
    m.create("beta", &ir(4), "b again").unwrap();
    let (lives, problems) = m.lives().unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let shape: Vec<(String, Vec<u64>, bool)> = lives
        .iter()
        .map(|l| {
            let name = l.name().unwrap().to_string();
            (name, l.revisions.iter().map(|d| d.revision).collect(), l.deleted_at.is_some())
        })
        .collect();
    assert_eq!(
        shape,
        [
            ("alpha".to_owned(), vec![1, 2], false),
            ("beta".to_owned(), vec![1], false),
            ("beta".to_owned(), vec![1], true)
        ]
    );
    // Into a fresh store: trashed lives and live ones in any order, the same lives back.
    let copy = crate::WorkflowManager::new(std::sync::Arc::new(crate::MemoryStore::new()));
    for life in lives.iter().rev() {
        transact(copy.store().as_ref(), |txn| txn.put_life(&life.stored()?, life.deleted_at))
            .unwrap();
    }
    assert_eq!(copy.lives().unwrap().0, lives);
}
