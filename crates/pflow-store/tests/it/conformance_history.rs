//! The conformance suite, continued: history, restore, trash and callers, through the
//! manager and the raw trait, run against every backend (in-memory, filesystem,
//! filesystem on `SimFs`).

use std::time::Duration;

use pflow_ir::Timestamp;
use pflow_store::{IfCalled, PurgeFilter, StoreError, TrashKey};

use crate::common::{Backend, calling, doc, invalid_ir, ir, ir_nodes, name};
use crate::conformance::conformance;

conformance!(
    update_keeps_every_previous_revision,
    an_unchanged_update_creates_no_revision,
    load_revision_gives_any_kept_revision,
    restore_makes_an_old_revision_the_newest,
    restore_checks_the_expected_revision_and_the_ir,
    history_of_a_missing_or_corrupt_workflow_fails_cleanly,
    history_summaries_say_what_changed,
    delete_moves_the_workflow_and_its_history_to_the_trash,
    a_name_trashed_twice_keeps_both_and_restore_takes_the_newest,
    restoring_over_a_live_workflow_is_refused,
    restoring_a_name_not_in_the_trash_suggests_close_ones,
    a_workflow_saved_again_after_a_delete_starts_a_new_history,
    purge_selects_by_name_and_by_age,
    deletion_times_of_one_name_are_distinct_and_increasing,
    a_corrupt_entry_goes_to_the_trash_as_a_problem,
    delete_refuses_a_workflow_that_others_call,
);

/// `(revision, content)` of every revision in `name`'s history.
fn revisions(b: &Backend, n: &str) -> Vec<(u64, String)> {
    let history = b.manager().history(n).unwrap();
    assert!(history.problems.is_empty(), "{:?}", history.problems);
    history.revisions.iter().map(|d| (d.revision, d.description.clone())).collect()
}

fn trash_names(b: &Backend) -> Vec<(String, u64, String)> {
    let listing = b.manager().trash().unwrap();
    assert!(listing.problems.is_empty(), "{:?}", listing.problems);
    listing
        .entries
        .iter()
        .map(|e| (e.name.to_string(), e.revision, e.description.clone()))
        .collect()
}

fn update_keeps_every_previous_revision(b: &Backend) {
    let m = b.manager();
    m.create("fix", &ir(1), "one").unwrap();
    m.update("fix", &ir(2), "two", 1).unwrap();
    m.update("fix", &ir(3), "three", 2).unwrap();
    assert_eq!(revisions(b, "fix"), [(1, "one".into()), (2, "two".into()), (3, "three".into())]);
    let history = m.history("fix").unwrap();
    assert_eq!(history.revisions[0].ir, ir(1));
    assert_eq!(history.revisions[2], m.load("fix").unwrap());
    // The listing shows only the current revision, once.
    let listing = m.list_all().unwrap();
    assert_eq!(listing.workflows.len(), 1);
    assert_eq!(listing.workflows[0].revision, 3);
}

fn an_unchanged_update_creates_no_revision(b: &Backend) {
    let m = b.manager();
    m.create("fix", &ir(1), "one").unwrap();
    let before = m.load("fix").unwrap();
    // Same IR and description: the stored document comes back as it is.
    let same = m.update("fix", &ir(1), "one", 1).unwrap();
    assert_eq!(same, before);
    assert_eq!(m.load("fix").unwrap(), before);
    assert_eq!(revisions(b, "fix"), [(1, "one".into())]);
    // A stale revision is still a conflict, even for an unchanged document.
    assert!(matches!(
        m.update("fix", &ir(1), "one", 5),
        Err(StoreError::Conflict { expected: 5, actual: 1, .. })
    ));
    // A new description alone is a change.
    assert_eq!(m.update("fix", &ir(1), "new words", 1).unwrap().revision, 2);
    assert_eq!(revisions(b, "fix").len(), 2);
}

fn load_revision_gives_any_kept_revision(b: &Backend) {
    let m = b.manager();
    m.create("fix", &ir(1), "one").unwrap();
    let first = m.load("fix").unwrap();
    let second = m.update("fix", &ir(2), "two", 1).unwrap();
    assert_eq!(m.load_revision("fix", 1).unwrap(), first);
    assert_eq!(m.load_revision("fix", 2).unwrap(), second);
    for missing in [0, 3, 99] {
        match m.load_revision("fix", missing).unwrap_err() {
            StoreError::RevisionNotFound { name, revision, current } => {
                assert_eq!((name.as_str(), revision, current), ("fix", missing, 2));
            }
            other => panic!("expected RevisionNotFound, got {other:?}"),
        }
    }
    let err = m.load_revision("fix", 7).unwrap_err();
    assert_eq!(err.to_string(), "workflow `fix` has no revision 7");
    assert!(matches!(m.load_revision("fixx", 1), Err(StoreError::WorkflowNotFound { .. })));
}

fn restore_makes_an_old_revision_the_newest(b: &Backend) {
    let m = b.manager();
    m.create("fix", &ir(1), "one").unwrap();
    m.update("fix", &ir(2), "two", 1).unwrap();
    m.update("fix", &ir(3), "three", 2).unwrap();
    let restored = m.restore_revision("fix", 1, None).unwrap();
    assert_eq!((restored.revision, restored.ir.clone()), (4, ir(1)));
    assert_eq!(restored.description, "one");
    assert_eq!(restored.created_at, m.load_revision("fix", 1).unwrap().created_at);
    assert_eq!(m.load("fix").unwrap(), restored);
    // Nothing was rewound or lost.
    assert_eq!(
        revisions(b, "fix"),
        [(1, "one".into()), (2, "two".into()), (3, "three".into()), (4, "one".into())]
    );
    // Restoring what is already current changes nothing.
    assert_eq!(m.restore_revision("fix", 1, None).unwrap(), restored);
    assert_eq!(m.restore_revision("fix", 4, Some(4)).unwrap(), restored);
    assert_eq!(revisions(b, "fix").len(), 4);
    // Through the raw trait too.
    let store = b.store();
    let again = store.restore_revision(&name("fix"), 2, Some(4), Timestamp::now()).unwrap();
    assert_eq!((again.revision, again.description.as_str()), (5, "two"));
}

fn restore_checks_the_expected_revision_and_the_ir(b: &Backend) {
    let m = b.manager();
    m.create("fix", &ir(1), "one").unwrap();
    m.update("fix", &ir(2), "two", 1).unwrap();
    let before = m.load("fix").unwrap();
    assert!(matches!(
        m.restore_revision("fix", 1, Some(1)),
        Err(StoreError::Conflict { expected: 1, actual: 2, .. })
    ));
    assert!(matches!(
        m.restore_revision("fix", 9, None),
        Err(StoreError::RevisionNotFound { revision: 9, current: 2, .. })
    ));
    assert!(matches!(
        m.restore_revision("nope", 1, None),
        Err(StoreError::WorkflowNotFound { .. })
    ));
    assert!(matches!(m.restore_revision("Nope", 1, None), Err(StoreError::InvalidName(_))));
    assert_eq!(m.load("fix").unwrap(), before);
    // A revision that calls a workflow deleted since is invalid now: not restored.
    m.create("callee", &ir(5), "").unwrap();
    m.create("caller", &calling("callee"), "v1").unwrap();
    m.update("caller", &ir(6), "v2", 1).unwrap();
    m.delete("callee", IfCalled::Refuse).unwrap();
    assert!(matches!(
        m.restore_revision("caller", 1, None),
        Err(StoreError::InvalidWorkflow { .. })
    ));
    assert_eq!(m.load("caller").unwrap().revision, 2);
    assert!(m.update("caller", &invalid_ir(), "", 2).is_err());
}

fn history_of_a_missing_or_corrupt_workflow_fails_cleanly(b: &Backend) {
    let m = b.manager();
    assert!(matches!(m.history("ghost"), Err(StoreError::WorkflowNotFound { .. })));
    m.create("ghosts", &ir(1), "").unwrap();
    match m.history("ghost").unwrap_err() {
        StoreError::WorkflowNotFound { suggestions, .. } => {
            assert_eq!(suggestions.first().map(|s| s.as_str()), Some("ghosts"));
        }
        other => panic!("expected WorkflowNotFound, got {other:?}"),
    }
    b.plant_corrupt("bad");
    assert!(matches!(m.history("bad"), Err(StoreError::Corrupt { .. })));
    assert!(matches!(m.load_revision("bad", 1), Err(StoreError::Corrupt { .. })));
    assert!(matches!(m.restore_revision("bad", 1, None), Err(StoreError::Corrupt { .. })));
    assert!(matches!(m.history("Bad"), Err(StoreError::InvalidName(_))));
}

fn history_summaries_say_what_changed(b: &Backend) {
    let m = b.manager();
    m.create("fix", &ir_nodes(&[("a", 1), ("b", 1)]), "one").unwrap();
    m.update("fix", &ir_nodes(&[("a", 2), ("b", 1), ("c", 1)]), "one", 1).unwrap();
    m.update("fix", &ir_nodes(&[("a", 2)]), "two", 2).unwrap();
    m.update("fix", &ir(1), "two", 3).unwrap();
    m.restore_revision("fix", 1, None).unwrap();
    let summaries = m.history("fix").unwrap().summaries();
    let lines: Vec<(u64, &str, bool)> =
        summaries.iter().map(|s| (s.revision, s.summary.as_str(), s.current)).collect();
    assert_eq!(
        lines,
        [
            (1, "created", false),
            (2, "nodes +1 -0 ~1, edges changed", false),
            (3, "nodes +0 -2 ~0, edges changed, description changed", false),
            (4, "nodes +0 -0 ~1, inputs changed, outputs changed", false),
            (
                5,
                "nodes +1 -0 ~0, edges changed, inputs changed, outputs changed, description changed (same as revision 1)",
                true
            ),
        ]
    );
    let changes = summaries[1].changes.as_ref().unwrap();
    assert_eq!((changes.since, changes.nodes_added, changes.nodes_changed), (1, 1, 1));
    assert_eq!(summaries[4].same_as, Some(1));
    assert!(summaries[0].changes.is_none());
}

fn delete_moves_the_workflow_and_its_history_to_the_trash(b: &Backend) {
    let m = b.manager();
    m.create("fix", &ir(1), "one").unwrap();
    m.update("fix", &ir(2), "two", 1).unwrap();
    m.create("other", &ir(9), "").unwrap();
    let key = m.delete("fix", IfCalled::Refuse).unwrap();
    assert_eq!(key.name.as_str(), "fix");
    assert!(!m.exists("fix").unwrap());
    assert!(matches!(m.load("fix"), Err(StoreError::WorkflowNotFound { .. })));
    assert!(matches!(m.history("fix"), Err(StoreError::WorkflowNotFound { .. })));
    let names: Vec<String> =
        m.list_all().unwrap().workflows.iter().map(|s| s.name.to_string()).collect();
    assert_eq!(names, ["other"]);
    let listing = m.trash().unwrap();
    assert_eq!(listing.entries.len(), 1);
    let entry = &listing.entries[0];
    assert_eq!(entry.key(), key);
    assert_eq!((entry.revision, entry.description.as_str()), (2, "two"));
    // Back, with its history.
    let back = m.restore_trashed("fix").unwrap();
    assert_eq!((back.revision, back.ir.clone()), (2, ir(2)));
    assert_eq!(m.load("fix").unwrap(), back);
    assert_eq!(revisions(b, "fix"), [(1, "one".into()), (2, "two".into())]);
    assert!(m.trash().unwrap().entries.is_empty());
    // And it goes on from there.
    assert_eq!(m.update("fix", &ir(3), "three", 2).unwrap().revision, 3);
    assert_eq!(revisions(b, "fix").len(), 3);
}

fn a_name_trashed_twice_keeps_both_and_restore_takes_the_newest(b: &Backend) {
    let m = b.manager();
    m.create("fix", &ir(1), "first life").unwrap();
    m.update("fix", &ir(2), "first life, v2", 1).unwrap();
    let older = m.delete("fix", IfCalled::Refuse).unwrap();
    m.create("fix", &ir(3), "second life").unwrap();
    let newer = m.delete("fix", IfCalled::Refuse).unwrap();
    assert!(newer.deleted_at > older.deleted_at);
    assert_eq!(
        trash_names(b),
        [("fix".into(), 2, "first life, v2".into()), ("fix".into(), 1, "second life".into())]
    );
    let back = m.restore_trashed("fix").unwrap();
    assert_eq!(back.description, "second life");
    assert_eq!(revisions(b, "fix"), [(1, "second life".into())]);
    assert_eq!(trash_names(b), [("fix".into(), 2, "first life, v2".into())]);
    // The older one comes back once the name is free, with its own history.
    m.delete("fix", IfCalled::Refuse).unwrap();
    m.purge(Some("fix"), Some(Duration::ZERO)).unwrap();
    assert!(m.trash().unwrap().entries.is_empty());
    m.create("fix", &ir(4), "third life").unwrap();
    m.update("fix", &ir(5), "third life, v2", 1).unwrap();
    m.delete("fix", IfCalled::Refuse).unwrap();
    m.create("fix", &ir(6), "fourth life").unwrap();
    m.delete("fix", IfCalled::Refuse).unwrap();
    assert_eq!(m.restore_trashed("fix").unwrap().description, "fourth life");
    m.delete("fix", IfCalled::Refuse).unwrap();
    assert_eq!(m.restore_trashed("fix").unwrap().description, "fourth life");
}

fn restoring_over_a_live_workflow_is_refused(b: &Backend) {
    let m = b.manager();
    m.create("fix", &ir(1), "old").unwrap();
    m.delete("fix", IfCalled::Refuse).unwrap();
    m.create("fix", &ir(2), "new").unwrap();
    let before = m.trash().unwrap();
    match m.restore_trashed("fix").unwrap_err() {
        StoreError::WorkflowExists { name } => assert_eq!(name.as_str(), "fix"),
        other => panic!("expected WorkflowExists, got {other:?}"),
    }
    assert_eq!(m.load("fix").unwrap().description, "new");
    assert_eq!(m.trash().unwrap(), before);
}

fn restoring_a_name_not_in_the_trash_suggests_close_ones(b: &Backend) {
    let m = b.manager();
    assert!(matches!(m.restore_trashed("fix"), Err(StoreError::NotInTrash { .. })));
    m.create("fix-issue", &ir(1), "").unwrap();
    m.delete("fix-issue", IfCalled::Refuse).unwrap();
    let err = m.restore_trashed("fix-isue").unwrap_err();
    assert_eq!(err.to_string(), "no workflow `fix-isue` in the trash");
    match err {
        StoreError::NotInTrash { suggestions, .. } => {
            assert_eq!(suggestions.first().map(|s| s.as_str()), Some("fix-issue"));
        }
        other => panic!("expected NotInTrash, got {other:?}"),
    }
    assert!(matches!(m.restore_trashed("Fix"), Err(StoreError::InvalidName(_))));
}

fn a_workflow_saved_again_after_a_delete_starts_a_new_history(b: &Backend) {
    let m = b.manager();
    m.create("fix", &ir(1), "old").unwrap();
    m.update("fix", &ir(2), "old v2", 1).unwrap();
    m.delete("fix", IfCalled::Refuse).unwrap();
    m.create("fix", &ir(3), "new").unwrap();
    assert_eq!(revisions(b, "fix"), [(1, "new".into())]);
    assert!(matches!(m.load_revision("fix", 2), Err(StoreError::RevisionNotFound { .. })));
    m.update("fix", &ir(4), "new v2", 1).unwrap();
    assert_eq!(revisions(b, "fix"), [(1, "new".into()), (2, "new v2".into())]);
    // Purging the old one leaves the new one's history alone.
    assert_eq!(m.purge(Some("fix"), None).unwrap().len(), 1);
    assert_eq!(revisions(b, "fix"), [(1, "new".into()), (2, "new v2".into())]);
}

fn purge_selects_by_name_and_by_age(b: &Backend) {
    let store = b.store();
    let day = 86_400;
    let at = |days: i64| {
        Timestamp::parse("2025-01-01T00:00:00Z")
            .map(|t| Timestamp::from_datetime(t.datetime() + time_days(days, day)))
            .unwrap()
    };
    for (n, days) in [("a", 0), ("b", 10), ("c", 20)] {
        store.create(&doc(n, 1)).unwrap();
        store.delete(&name(n), at(days)).unwrap();
    }
    store.create(&doc("a", 2)).unwrap();
    store.delete(&name("a"), at(30)).unwrap();
    let purged = store.purge(&PurgeFilter { name: None, deleted_before: Some(at(10)) }).unwrap();
    assert_eq!(purged, [TrashKey { name: name("a"), deleted_at: at(0) }]);
    let purged = store.purge(&PurgeFilter { name: Some(name("a")), deleted_before: None }).unwrap();
    assert_eq!(purged, [TrashKey { name: name("a"), deleted_at: at(30) }]);
    let left: Vec<String> =
        store.trash().unwrap().entries.iter().map(|e| e.name.to_string()).collect();
    assert_eq!(left, ["b", "c"]);
    // Nothing matches: nothing purged.
    assert!(
        store
            .purge(&PurgeFilter { name: Some(name("zz")), deleted_before: None })
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.purge(&PurgeFilter::default()).unwrap().len(), 2);
    assert!(store.trash().unwrap().entries.is_empty());
    // Through the manager: "older than now" is everything.
    let m = b.manager();
    m.create("d", &ir(1), "").unwrap();
    m.delete("d", IfCalled::Refuse).unwrap();
    let century = Duration::from_secs(100 * 365 * 86_400);
    assert!(m.purge(None, Some(century)).unwrap().is_empty());
    assert!(m.purge(None, Some(Duration::MAX)).unwrap().is_empty());
    assert_eq!(m.purge(None, Some(Duration::ZERO)).unwrap().len(), 1);
    assert!(matches!(m.purge(Some("D"), None), Err(StoreError::InvalidName(_))));
    // A name the trash does not hold is a typo, not "nothing to do".
    m.create("e-name", &ir(1), "").unwrap();
    m.delete("e-name", IfCalled::Refuse).unwrap();
    match m.purge(Some("e-nam"), None).unwrap_err() {
        StoreError::NotInTrash { suggestions, .. } => {
            assert_eq!(suggestions.first().map(|s| s.as_str()), Some("e-name"));
        }
        other => panic!("expected NotInTrash, got {other:?}"),
    }
    assert!(m.purge(Some("e-name"), Some(Duration::from_secs(3600))).unwrap().is_empty());
}

fn time_days(days: i64, day: i64) -> time::Duration {
    time::Duration::seconds(days * day)
}

fn deletion_times_of_one_name_are_distinct_and_increasing(b: &Backend) {
    let store = b.store();
    let now = Timestamp::now();
    let mut keys = Vec::new();
    for content in 0..3 {
        store.create(&doc("same", content)).unwrap();
        keys.push(store.delete(&name("same"), now).unwrap());
    }
    assert_eq!(keys[0].deleted_at, now);
    assert!(keys[0].deleted_at < keys[1].deleted_at && keys[1].deleted_at < keys[2].deleted_at);
    let listed: Vec<TrashKey> = store.trash().unwrap().entries.iter().map(|e| e.key()).collect();
    assert_eq!(listed, keys);
    // Another name is not pushed forward.
    store.create(&doc("other", 1)).unwrap();
    assert_eq!(store.delete(&name("other"), now).unwrap().deleted_at, now);
    assert_eq!(store.restore_trashed(&name("same")).unwrap().description, "description 2");
}

fn a_corrupt_entry_goes_to_the_trash_as_a_problem(b: &Backend) {
    let m = b.manager();
    b.plant_corrupt("bad");
    m.create("good", &ir(1), "").unwrap();
    m.delete("bad", IfCalled::Refuse).unwrap();
    assert!(!m.exists("bad").unwrap());
    let listing = m.trash().unwrap();
    assert!(listing.entries.is_empty());
    assert_eq!(listing.problems.len(), 1, "{:?}", listing.problems);
    assert!(listing.problems[0].location.contains("bad"), "{:?}", listing.problems);
    // It is never restored: it is not a workflow.
    assert!(matches!(m.restore_trashed("bad"), Err(StoreError::NotInTrash { .. })));
    assert_eq!(m.purge(Some("bad"), None).unwrap().len(), 1);
    assert_eq!(m.trash().unwrap(), Default::default());
}

fn delete_refuses_a_workflow_that_others_call(b: &Backend) {
    let m = b.manager();
    m.create("callee", &ir(1), "").unwrap();
    m.create("b-caller", &calling("callee"), "").unwrap();
    m.create("a-caller", &calling("callee"), "").unwrap();
    m.create("bystander", &ir(2), "").unwrap();
    let callers: Vec<String> = m.callers("callee").unwrap().iter().map(|n| n.to_string()).collect();
    assert_eq!(callers, ["a-caller", "b-caller"]);
    assert!(m.callers("bystander").unwrap().is_empty());
    let err = m.delete("callee", IfCalled::Refuse).unwrap_err();
    assert_eq!(err.to_string(), "workflow `callee` is called by `a-caller` and `b-caller`");
    match &err {
        StoreError::HasCallers { name, callers } => {
            assert_eq!(name.as_str(), "callee");
            assert_eq!(callers.len(), 2);
        }
        other => panic!("expected HasCallers, got {other:?}"),
    }
    assert!(err.hint().unwrap().contains("--force"));
    assert!(m.exists("callee").unwrap());
    assert!(m.trash().unwrap().entries.is_empty());
    // A caller that is itself gone no longer counts.
    m.delete("a-caller", IfCalled::Refuse).unwrap();
    let err = m.delete("callee", IfCalled::Refuse).unwrap_err();
    assert_eq!(err.to_string(), "workflow `callee` is called by `b-caller`");
    m.delete("callee", IfCalled::DeleteAnyway).unwrap();
    assert!(!m.exists("callee").unwrap());
    assert_eq!(trash_names(b).len(), 2);
}
