//! Conformance: history, restore, trash, purge and callers, through the manager.

use std::time::Duration;

use super::support::{calling, first_suggestion, invalid_ir, ir, ir_nodes, manager, plant_corrupt};
use super::{Case, Harness, case};
use crate::{IfCalled, SaveOutcome, StoreError, WorkflowManager};

pub(super) const CASES: &[Case] = &[
    case!(update_keeps_every_previous_revision),
    case!(a_long_history_is_in_numeric_order),
    case!(an_unchanged_update_creates_no_revision),
    case!(load_revision_gives_any_kept_revision),
    case!(restore_makes_an_old_revision_the_newest),
    case!(restore_checks_the_expected_revision_and_the_ir),
    case!(a_revision_never_kept_is_not_found_even_with_a_stale_expectation),
    case!(history_of_a_missing_or_corrupt_workflow_fails_cleanly, corrupt),
    case!(history_summaries_say_what_changed),
    case!(delete_moves_the_workflow_and_its_history_to_the_trash),
    case!(a_name_trashed_twice_keeps_both_and_restore_takes_the_newest),
    case!(restoring_over_a_live_workflow_is_refused),
    case!(restoring_a_name_not_in_the_trash_suggests_close_ones),
    case!(a_workflow_saved_again_after_a_delete_starts_a_new_history),
    case!(purge_selects_by_age_and_by_name_through_the_manager),
    case!(a_corrupt_entry_goes_to_the_trash_as_a_problem, corrupt),
    case!(delete_refuses_a_workflow_that_others_call),
];

/// `(revision, description)` of every revision in `n`'s history.
pub(super) fn revisions(m: &WorkflowManager, n: &str) -> Vec<(u64, String)> {
    let history = m.history(n).unwrap();
    assert!(history.problems.is_empty(), "{:?}", history.problems);
    history.revisions.iter().map(|d| (d.revision, d.description.clone())).collect()
}

/// `(name, revision, description)` of every trash entry.
fn trash_names(m: &WorkflowManager) -> Vec<(String, u64, String)> {
    let listing = m.trash().unwrap();
    assert!(listing.problems.is_empty(), "{:?}", listing.problems);
    listing
        .entries
        .iter()
        .map(|e| (e.name.to_string(), e.revision, e.description.clone()))
        .collect()
}

fn update_keeps_every_previous_revision(h: &mut dyn Harness) {
    let m = manager(h);
    m.create("fix", &ir(1), "one").unwrap();
    m.update("fix", &ir(2), "two", 1).unwrap();
    m.update("fix", &ir(3), "three", 2).unwrap();
    assert_eq!(revisions(&m, "fix"), [(1, "one".into()), (2, "two".into()), (3, "three".into())]);
    let history = m.history("fix").unwrap();
    assert_eq!(history.revisions[0].ir, ir(1));
    assert_eq!(history.revisions[2], m.load("fix").unwrap());
    // The listing shows only the current revision, once.
    let listing = m.list_all().unwrap();
    assert_eq!(listing.workflows.len(), 1);
    assert_eq!(listing.workflows[0].revision, 3);
}

/// Revision 10 comes after 9, not after 1 (a backend that sorts revision numbers as text
/// gets this wrong).
fn a_long_history_is_in_numeric_order(h: &mut dyn Harness) {
    let m = manager(h);
    m.create("long", &ir(0), "0").unwrap();
    for n in 1..12 {
        m.update("long", &ir(n), &n.to_string(), n).unwrap();
    }
    let want: Vec<(u64, String)> = (0..12).map(|n| (n + 1, n.to_string())).collect();
    assert_eq!(revisions(&m, "long"), want);
    let kept = m.store().kept_revisions(&m.load("long").unwrap()).unwrap();
    let numbers: Vec<u64> = kept.revisions.iter().map(|d| d.revision).collect();
    assert_eq!(numbers, (1..12).collect::<Vec<_>>());
}

fn an_unchanged_update_creates_no_revision(h: &mut dyn Harness) {
    let m = manager(h);
    m.create("fix", &ir(1), "one").unwrap();
    let before = m.load("fix").unwrap();
    // Same IR and description: the stored document comes back as it is.
    let same = m.update("fix", &ir(1), "one", 1).unwrap();
    assert_eq!(same, before);
    assert_eq!(m.load("fix").unwrap(), before);
    assert_eq!(revisions(&m, "fix"), [(1, "one".into())]);
    // A stale revision is still a conflict, even for an unchanged document.
    assert!(matches!(
        m.update("fix", &ir(1), "one", 5),
        Err(StoreError::Conflict { expected: 5, actual: Some(1), .. })
    ));
    // A new description alone is a change.
    assert_eq!(m.update("fix", &ir(1), "new words", 1).unwrap().revision, 2);
    assert_eq!(revisions(&m, "fix").len(), 2);
}

fn load_revision_gives_any_kept_revision(h: &mut dyn Harness) {
    let m = manager(h);
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

fn restore_makes_an_old_revision_the_newest(h: &mut dyn Harness) {
    let m = manager(h);
    m.create("fix", &ir(1), "one").unwrap();
    m.update("fix", &ir(2), "two", 1).unwrap();
    m.update("fix", &ir(3), "three", 2).unwrap();
    let saved = m.restore_revision("fix", 1, None).unwrap();
    assert_eq!(saved.outcome, SaveOutcome::Updated);
    assert_eq!(saved.location, m.locate("fix").unwrap());
    let restored = saved.document;
    assert_eq!((restored.revision, restored.ir.clone()), (4, ir(1)));
    assert_eq!(restored.description, "one");
    assert_eq!(restored.created_at, m.load_revision("fix", 1).unwrap().created_at);
    assert_eq!(m.load("fix").unwrap(), restored);
    // Nothing was rewound or lost.
    assert_eq!(
        revisions(&m, "fix"),
        [(1, "one".into()), (2, "two".into()), (3, "three".into()), (4, "one".into())]
    );
    // Restoring what is already current changes nothing.
    let same = m.restore_revision("fix", 1, None).unwrap();
    assert_eq!((same.outcome, &same.document), (SaveOutcome::Unchanged, &restored));
    let same = m.restore_revision("fix", 4, Some(4)).unwrap();
    assert_eq!((same.outcome, &same.document), (SaveOutcome::Unchanged, &restored));
    assert_eq!(revisions(&m, "fix").len(), 4);
    // With the expected revision (what the raw trait was once asked for).
    let again = m.restore_revision("fix", 2, Some(4)).unwrap();
    assert_eq!(again.outcome, SaveOutcome::Updated);
    assert_eq!((again.document.revision, again.document.description.as_str()), (5, "two"));
}

fn restore_checks_the_expected_revision_and_the_ir(h: &mut dyn Harness) {
    let m = manager(h);
    m.create("fix", &ir(1), "one").unwrap();
    m.update("fix", &ir(2), "two", 1).unwrap();
    let before = m.load("fix").unwrap();
    assert!(matches!(
        m.restore_revision("fix", 1, Some(1)),
        Err(StoreError::Conflict { expected: 1, actual: Some(2), .. })
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

/// What a restore asks for must exist before the caller's expectation is compared: a
/// revision the workflow never had is `RevisionNotFound` whatever the caller last read
/// (so the manager's restore behaved before transactions, and so the model expects).
fn a_revision_never_kept_is_not_found_even_with_a_stale_expectation(h: &mut dyn Harness) {
    let m = manager(h);
    m.create("fix", &ir(1), "one").unwrap();
    m.update("fix", &ir(2), "two", 1).unwrap();
    for (revision, expected) in [(9, 1), (0, 1), (3, 7)] {
        match m.restore_revision("fix", revision, Some(expected)).unwrap_err() {
            StoreError::RevisionNotFound { name, revision: r, current } => {
                assert_eq!((name.as_str(), r, current), ("fix", revision, 2));
            }
            other => panic!("restore {revision} expecting {expected}: got {other:?}"),
        }
    }
    assert_eq!(m.load("fix").unwrap().revision, 2);
}

fn history_of_a_missing_or_corrupt_workflow_fails_cleanly(h: &mut dyn Harness) {
    let m = manager(h);
    assert!(matches!(m.history("ghost"), Err(StoreError::WorkflowNotFound { .. })));
    m.create("ghosts", &ir(1), "").unwrap();
    assert_eq!(first_suggestion(&m.history("ghost").unwrap_err()), Some("ghosts"));
    plant_corrupt(h, "bad");
    assert!(matches!(m.history("bad"), Err(StoreError::Corrupt { .. })));
    assert!(matches!(m.load_revision("bad", 1), Err(StoreError::Corrupt { .. })));
    assert!(matches!(m.restore_revision("bad", 1, None), Err(StoreError::Corrupt { .. })));
    assert!(matches!(m.history("Bad"), Err(StoreError::InvalidName(_))));
}

fn history_summaries_say_what_changed(h: &mut dyn Harness) {
    let m = manager(h);
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

fn delete_moves_the_workflow_and_its_history_to_the_trash(h: &mut dyn Harness) {
    let m = manager(h);
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
    assert_eq!(revisions(&m, "fix"), [(1, "one".into()), (2, "two".into())]);
    assert!(m.trash().unwrap().entries.is_empty());
    // And it goes on from there.
    assert_eq!(m.update("fix", &ir(3), "three", 2).unwrap().revision, 3);
    assert_eq!(revisions(&m, "fix").len(), 3);
}

fn a_name_trashed_twice_keeps_both_and_restore_takes_the_newest(h: &mut dyn Harness) {
    let m = manager(h);
    m.create("fix", &ir(1), "first life").unwrap();
    m.update("fix", &ir(2), "first life, v2", 1).unwrap();
    let older = m.delete("fix", IfCalled::Refuse).unwrap();
    m.create("fix", &ir(3), "second life").unwrap();
    let newer = m.delete("fix", IfCalled::Refuse).unwrap();
    assert!(newer.deleted_at > older.deleted_at);
    assert_eq!(
        trash_names(&m),
        [("fix".into(), 2, "first life, v2".into()), ("fix".into(), 1, "second life".into())]
    );
    let back = m.restore_trashed("fix").unwrap();
    assert_eq!(back.description, "second life");
    assert_eq!(revisions(&m, "fix"), [(1, "second life".into())]);
    assert_eq!(trash_names(&m), [("fix".into(), 2, "first life, v2".into())]);
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

fn restoring_over_a_live_workflow_is_refused(h: &mut dyn Harness) {
    let m = manager(h);
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

fn restoring_a_name_not_in_the_trash_suggests_close_ones(h: &mut dyn Harness) {
    let m = manager(h);
    assert!(matches!(m.restore_trashed("fix"), Err(StoreError::NotInTrash { .. })));
    m.create("fix-issue", &ir(1), "").unwrap();
    m.delete("fix-issue", IfCalled::Refuse).unwrap();
    let err = m.restore_trashed("fix-isue").unwrap_err();
    assert_eq!(err.to_string(), "no workflow `fix-isue` in the trash");
    assert!(matches!(err, StoreError::NotInTrash { .. }), "{err:?}");
    assert_eq!(first_suggestion(&err), Some("fix-issue"));
    assert!(matches!(m.restore_trashed("Fix"), Err(StoreError::InvalidName(_))));
}

fn a_workflow_saved_again_after_a_delete_starts_a_new_history(h: &mut dyn Harness) {
    let m = manager(h);
    m.create("fix", &ir(1), "old").unwrap();
    m.update("fix", &ir(2), "old v2", 1).unwrap();
    m.delete("fix", IfCalled::Refuse).unwrap();
    m.create("fix", &ir(3), "new").unwrap();
    assert_eq!(revisions(&m, "fix"), [(1, "new".into())]);
    assert!(matches!(m.load_revision("fix", 2), Err(StoreError::RevisionNotFound { .. })));
    m.update("fix", &ir(4), "new v2", 1).unwrap();
    assert_eq!(revisions(&m, "fix"), [(1, "new".into()), (2, "new v2".into())]);
    // Purging the old one leaves the new one's history alone.
    assert_eq!(m.purge(Some("fix"), None).unwrap().len(), 1);
    assert_eq!(revisions(&m, "fix"), [(1, "new".into()), (2, "new v2".into())]);
}

/// The manager's half of what the raw `purge` test once covered alone (the primitive's
/// filter is tested in `primitives`): ages measured from now, typos in names.
fn purge_selects_by_age_and_by_name_through_the_manager(h: &mut dyn Harness) {
    let m = manager(h);
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
    let err = m.purge(Some("e-nam"), None).unwrap_err();
    assert!(matches!(err, StoreError::NotInTrash { .. }), "{err:?}");
    assert_eq!(first_suggestion(&err), Some("e-name"));
    assert!(m.purge(Some("e-name"), Some(Duration::from_secs(3600))).unwrap().is_empty());
    assert_eq!(m.trash().unwrap().entries.len(), 1);
}

fn a_corrupt_entry_goes_to_the_trash_as_a_problem(h: &mut dyn Harness) {
    let m = manager(h);
    plant_corrupt(h, "bad");
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

fn delete_refuses_a_workflow_that_others_call(h: &mut dyn Harness) {
    let m = manager(h);
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
    // The library names no command or flag: the CLI adds its own hint (`--force`; see the
    // CLI's `workflow delete` test).
    assert_eq!(err.hint(), None);
    let checked = m.check_delete("callee", IfCalled::Refuse).unwrap_err();
    assert_eq!(checked.to_string(), err.to_string());
    let anyway = m.check_delete("callee", IfCalled::DeleteAnyway).unwrap();
    assert_eq!(anyway.iter().map(|n| n.as_str()).collect::<Vec<_>>(), ["a-caller", "b-caller"]);
    assert!(m.exists("callee").unwrap());
    assert!(m.trash().unwrap().entries.is_empty());
    // A caller that is itself gone no longer counts.
    m.delete("a-caller", IfCalled::Refuse).unwrap();
    let err = m.delete("callee", IfCalled::Refuse).unwrap_err();
    assert_eq!(err.to_string(), "workflow `callee` is called by `b-caller`");
    m.delete("callee", IfCalled::DeleteAnyway).unwrap();
    assert!(!m.exists("callee").unwrap());
    assert_eq!(trash_names(&m).len(), 2);
}
