//! Conformance: save, load, list, update, delete, names, validation, corrupt entries and
//! locations, through the manager.

use super::support::{
    findings, first_suggestion, invalid_ir, ir, manager, name, plant_corrupt, valid,
};
use super::{Case, Harness, case};
use crate::{IfCalled, SaveMode, StoreError};

pub(super) const CASES: &[Case] = &[
    case!(save_then_load_round_trips),
    case!(save_never_overwrites),
    case!(load_of_a_missing_name_suggests_close_names),
    case!(exists_tells_saved_from_missing),
    case!(list_is_sorted_by_name_with_summaries),
    case!(list_of_an_empty_store_is_empty),
    case!(update_with_the_current_revision_makes_the_next),
    case!(update_with_a_stale_revision_conflicts_and_changes_nothing),
    case!(update_of_a_missing_workflow_is_not_found),
    case!(delete_removes_and_frees_the_name),
    case!(delete_of_a_missing_workflow_is_not_found),
    case!(invalid_names_are_refused_by_every_operation),
    case!(invalid_workflows_are_never_written),
    case!(a_corrupt_entry_is_reported_not_fatal, corrupt),
    case!(locate_names_the_workflow),
    case!(the_deepest_accepted_workflow_is_read_back),
    case!(a_workflow_one_level_deeper_is_refused),
    case!(acknowledged_writes_survive_a_crash),
];

/// A valid IR nested exactly `levels` deep: the root, `nodes`, the node and `params` are
/// four levels, and the rest are arrays in one param.
pub(super) fn nested_ir(levels: usize) -> pflow_ir::WorkflowIr {
    let mut deep = serde_json::json!(1);
    for _ in 0..levels - 4 {
        deep = serde_json::json!([deep]);
    }
    super::support::typed(serde_json::json!({
        "ir_version": "0.1.0",
        "nodes": [{ "id": "a", "type": "shell", "params": { "command": "true", "deep": deep } }]
    }))
}

fn the_deepest_accepted_workflow_is_read_back(h: &mut dyn Harness) {
    let m = manager(h);
    let deepest = nested_ir(pflow_ir::MAX_IR_DEPTH);
    m.create("deep", &deepest, "").unwrap();
    assert_eq!(m.load("deep").unwrap().ir, deepest);
    // `list` reads it too (and any cache of it), rather than calling it corrupt.
    let listing = m.list_all().unwrap();
    assert!(listing.problems.is_empty(), "{:?}", listing.problems);
    assert_eq!(listing.workflows.len(), 1);
    let doc = m.update("deep", &deepest, "again", 1).unwrap();
    assert_eq!(m.load_revision("deep", doc.revision).unwrap().ir, deepest);
}

fn a_workflow_one_level_deeper_is_refused(h: &mut dyn Harness) {
    let m = manager(h);
    let err = m.create("deep", &nested_ir(pflow_ir::MAX_IR_DEPTH + 1), "").unwrap_err();
    let path = format!("nodes[0].params.deep{}", "[0]".repeat(pflow_ir::MAX_IR_DEPTH - 4));
    assert_eq!(
        findings(&err),
        [(path, "the workflow is nested more than 126 levels deep".to_owned())]
    );
    assert!(!m.exists("deep").unwrap());
}

fn save_then_load_round_trips(h: &mut dyn Harness) {
    let m = manager(h);
    let location = m.create("fix-issue", &ir(1), "Fixes issues").unwrap();
    assert!(location.0.contains("fix-issue"), "{location}");
    let doc = m.load("fix-issue").unwrap();
    assert_eq!(doc.name.as_str(), "fix-issue");
    assert_eq!(doc.description, "Fixes issues");
    assert_eq!(doc.ir, ir(1));
    assert_eq!(doc.revision, 1);
    assert_eq!(doc.created_at, doc.updated_at);
    assert_eq!(doc.version, pflow_ir::DOCUMENT_VERSION);
    assert_eq!(m.load_ir("fix-issue").unwrap(), ir(1));
}

fn save_never_overwrites(h: &mut dyn Harness) {
    let m = manager(h);
    m.create("fix-issue", &ir(1), "first").unwrap();
    let err = m.create("fix-issue", &ir(2), "second").unwrap_err();
    assert!(matches!(&err, StoreError::WorkflowExists { name } if name.as_str() == "fix-issue"));
    assert_eq!(err.to_string(), "workflow `fix-issue` already exists");
    let again = m.save("fix-issue", &valid(&m, "fix-issue", ir(3)), None, SaveMode::New);
    assert!(matches!(again, Err(StoreError::WorkflowExists { .. })), "{again:?}");
    let doc = m.load("fix-issue").unwrap();
    assert_eq!((doc.description.as_str(), doc.ir), ("first", ir(1)));
}

fn load_of_a_missing_name_suggests_close_names(h: &mut dyn Harness) {
    let m = manager(h);
    m.create("fix-issue", &ir(1), "").unwrap();
    m.create("deploy", &ir(2), "").unwrap();
    match m.load("fix-isue").unwrap_err() {
        StoreError::WorkflowNotFound { name, suggestions } => {
            assert_eq!(name.as_str(), "fix-isue");
            assert_eq!(suggestions.first().map(|s| s.as_str()), Some("fix-issue"));
        }
        other => panic!("expected WorkflowNotFound, got {other:?}"),
    }
    assert!(matches!(m.load_ir("nothing-like-it"), Err(StoreError::WorkflowNotFound { .. })));
}

fn exists_tells_saved_from_missing(h: &mut dyn Harness) {
    let m = manager(h);
    assert!(!m.exists("fix-issue").unwrap());
    m.create("fix-issue", &ir(1), "").unwrap();
    assert!(m.exists("fix-issue").unwrap());
    assert!(!m.exists("fix-issues").unwrap());
}

fn list_is_sorted_by_name_with_summaries(h: &mut dyn Harness) {
    let m = manager(h);
    for n in ["b", "a-b", "a", "c1"] {
        m.create(n, &ir(7), &format!("about {n}")).unwrap();
    }
    m.update("c1", &ir(8), "changed", 1).unwrap();
    let listing = m.list_all().unwrap();
    assert!(listing.problems.is_empty(), "{:?}", listing.problems);
    let names: Vec<&str> = listing.workflows.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["a", "a-b", "b", "c1"]);
    let a = &listing.workflows[0];
    assert_eq!(a.description, "about a");
    assert_eq!(a.revision, 1);
    assert_eq!(a.inputs.len(), 1);
    assert_eq!(a.inputs[0].name, "who");
    assert!(!a.inputs[0].required);
    assert_eq!(a.outputs, ["said"]);
    assert_eq!(listing.workflows[3].revision, 2);
    assert_eq!(listing.workflows[3].description, "changed");
}

fn list_of_an_empty_store_is_empty(h: &mut dyn Harness) {
    let listing = manager(h).list_all().unwrap();
    assert!(listing.workflows.is_empty() && listing.problems.is_empty());
}

fn update_with_the_current_revision_makes_the_next(h: &mut dyn Harness) {
    let m = manager(h);
    m.create("fix-issue", &ir(1), "one").unwrap();
    let first = m.load("fix-issue").unwrap();
    let second = m.update("fix-issue", &ir(2), "two", 1).unwrap();
    assert_eq!(second.revision, 2);
    assert_eq!(second.created_at, first.created_at);
    assert!(second.updated_at >= first.updated_at);
    assert_eq!(m.load("fix-issue").unwrap(), second);
    let third = m.update("fix-issue", &ir(3), "three", 2).unwrap();
    assert_eq!((third.revision, third.ir.clone()), (3, ir(3)));
    assert_eq!(m.load("fix-issue").unwrap(), third);
}

fn update_with_a_stale_revision_conflicts_and_changes_nothing(h: &mut dyn Harness) {
    let m = manager(h);
    m.create("fix-issue", &ir(1), "one").unwrap();
    m.update("fix-issue", &ir(2), "two", 1).unwrap();
    let before = m.load("fix-issue").unwrap();
    let err = m.update("fix-issue", &ir(3), "three", 1).unwrap_err();
    match &err {
        StoreError::Conflict { name, expected, actual } => {
            assert_eq!((name.as_str(), *expected, *actual), ("fix-issue", 1, Some(2)));
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert!(err.to_string().contains("expected revision 1, found 2"), "{err}");
    assert_eq!(m.load("fix-issue").unwrap(), before);
    assert!(matches!(
        m.update("fix-issue", &ir(3), "ahead", 7),
        Err(StoreError::Conflict { expected: 7, actual: Some(2), .. })
    ));
    assert_eq!(m.history("fix-issue").unwrap().revisions.len(), 2);
}

fn update_of_a_missing_workflow_is_not_found(h: &mut dyn Harness) {
    let m = manager(h);
    assert!(matches!(m.update("ghost", &ir(1), "", 1), Err(StoreError::WorkflowNotFound { .. })));
    m.create("ghosts", &ir(1), "").unwrap();
    let err = m.update("ghost", &ir(1), "", 1).unwrap_err();
    assert_eq!(first_suggestion(&err), Some("ghosts"));
    assert!(!m.exists("ghost").unwrap());
}

fn delete_removes_and_frees_the_name(h: &mut dyn Harness) {
    let m = manager(h);
    m.create("fix-issue", &ir(1), "").unwrap();
    m.create("keep", &ir(1), "").unwrap();
    m.delete("fix-issue", IfCalled::Refuse).unwrap();
    assert!(!m.exists("fix-issue").unwrap());
    assert!(matches!(m.load("fix-issue"), Err(StoreError::WorkflowNotFound { .. })));
    let names: Vec<String> =
        m.list_all().unwrap().workflows.iter().map(|s| s.name.to_string()).collect();
    assert_eq!(names, ["keep"]);
    m.create("fix-issue", &ir(2), "again").unwrap();
    assert_eq!(m.load("fix-issue").unwrap().revision, 1);
}

fn delete_of_a_missing_workflow_is_not_found(h: &mut dyn Harness) {
    let m = manager(h);
    assert!(matches!(
        m.delete("ghost", IfCalled::Refuse),
        Err(StoreError::WorkflowNotFound { .. })
    ));
    m.create("ghost", &ir(1), "").unwrap();
    m.delete("ghost", IfCalled::Refuse).unwrap();
    assert!(matches!(
        m.delete("ghost", IfCalled::Refuse),
        Err(StoreError::WorkflowNotFound { .. })
    ));
    assert!(matches!(
        m.check_delete("ghost", IfCalled::Refuse),
        Err(StoreError::WorkflowNotFound { .. })
    ));
}

fn invalid_names_are_refused_by_every_operation(h: &mut dyn Harness) {
    let m = manager(h);
    let bad = "Fix_Issue";
    let check = |r: Result<(), StoreError>| match r {
        Err(StoreError::InvalidName(e)) => assert_eq!(e.suggestion(), Some("fix-issue")),
        other => panic!("expected InvalidName, got {other:?}"),
    };
    let ir1 = valid(&m, "fine", ir(1));
    check(m.create(bad, &ir(1), "").map(drop));
    for mode in [
        SaveMode::New,
        SaveMode::Update { expected_revision: 1 },
        SaveMode::Replace { expected_revision: None },
    ] {
        check(m.save(bad, &ir1, None, mode).map(drop));
    }
    check(m.load(bad).map(drop));
    check(m.load_ir(bad).map(drop));
    check(m.load_checked(bad).map(drop));
    check(m.exists(bad).map(drop));
    check(m.update(bad, &ir(1), "", 1).map(drop));
    check(m.delete(bad, IfCalled::Refuse).map(drop));
    check(m.check_delete(bad, IfCalled::Refuse).map(drop));
    check(m.locate(bad).map(drop));
    check(m.locate_saved(bad).map(drop));
    check(m.restore_revision(bad, 1, None).map(drop));
    assert!(m.list_all().unwrap().workflows.is_empty());
}

fn invalid_workflows_are_never_written(h: &mut dyn Harness) {
    let m = manager(h);
    match m.create("broken", &invalid_ir(), "").unwrap_err() {
        StoreError::InvalidWorkflow { name, diagnostics } => {
            assert_eq!(name.as_str(), "broken");
            assert!(diagnostics.has_errors());
        }
        other => panic!("expected InvalidWorkflow, got {other:?}"),
    }
    assert!(!m.exists("broken").unwrap());
    m.create("fine", &ir(1), "").unwrap();
    assert!(matches!(
        m.update("fine", &invalid_ir(), "", 1),
        Err(StoreError::InvalidWorkflow { .. })
    ));
    assert!(matches!(
        m.validate(&name("fine"), invalid_ir()),
        Err(StoreError::InvalidWorkflow { .. })
    ));
    assert_eq!(m.load("fine").unwrap().ir, ir(1));
}

fn a_corrupt_entry_is_reported_not_fatal(h: &mut dyn Harness) {
    let m = manager(h);
    m.create("good", &ir(1), "").unwrap();
    plant_corrupt(h, "bad");
    let listing = m.list_all().unwrap();
    let names: Vec<&str> = listing.workflows.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["good"]);
    assert_eq!(listing.problems.len(), 1, "{:?}", listing.problems);
    assert!(listing.problems[0].location.contains("bad"), "{:?}", listing.problems);
    assert_eq!(listing.problems[0].location, m.locate("bad").unwrap().0);
    let corrupt = |r: Result<(), StoreError>| match r {
        Err(StoreError::Corrupt { location, reason, workflow }) => {
            assert!(location.contains("bad"), "{location}");
            assert!(!reason.is_empty());
            assert_eq!(workflow, Some(name("bad")));
        }
        other => panic!("expected Corrupt, got {other:?}"),
    };
    corrupt(m.load("bad").map(drop));
    corrupt(m.update("bad", &ir(2), "", 1).map(drop));
    let replace = SaveMode::Replace { expected_revision: None };
    corrupt(m.save("bad", &valid(&m, "bad", ir(2)), None, replace).map(drop));
    assert!(m.exists("bad").unwrap());
    assert_eq!(m.locate_saved("bad").unwrap(), m.locate("bad").unwrap());
    assert!(matches!(m.create("bad", &ir(2), ""), Err(StoreError::WorkflowExists { .. })));
    m.delete("bad", IfCalled::Refuse).unwrap();
    assert!(m.list_all().unwrap().problems.is_empty());
    m.create("bad", &ir(3), "").unwrap();
    assert_eq!(m.load("bad").unwrap().ir, ir(3));
}

fn locate_names_the_workflow(h: &mut dyn Harness) {
    let m = manager(h);
    let before = m.locate("fix-issue").unwrap();
    assert!(before.0.contains("fix-issue"), "{before}");
    assert!(matches!(m.locate_saved("fix-issue"), Err(StoreError::WorkflowNotFound { .. })));
    let saved = m.create("fix-issue", &ir(1), "").unwrap();
    assert_eq!(m.locate("fix-issue").unwrap(), saved);
    assert_eq!(m.locate_saved("fix-issue").unwrap(), saved);
}

/// What the store acknowledged is there for the next process, whatever the backend's
/// notion of a crash.
fn acknowledged_writes_survive_a_crash(h: &mut dyn Harness) {
    let m = manager(h);
    m.create("kept", &ir(1), "one").unwrap();
    m.update("kept", &ir(2), "two", 1).unwrap();
    m.create("gone", &ir(3), "").unwrap();
    let key = m.delete("gone", IfCalled::Refuse).unwrap();
    h.crash_and_reopen();
    let m = manager(h);
    let history = m.history("kept").unwrap();
    let revisions: Vec<(u64, &str)> =
        history.revisions.iter().map(|d| (d.revision, d.description.as_str())).collect();
    assert_eq!(revisions, [(1, "one"), (2, "two")]);
    let trash = m.trash().unwrap();
    let keys: Vec<_> = trash.entries.iter().map(|e| e.key()).collect();
    assert_eq!(keys, [key]);
    assert!(!m.exists("gone").unwrap());
    // And the reopened store works.
    m.update("kept", &ir(4), "three", 2).unwrap();
    assert_eq!(m.restore_trashed("gone").unwrap().ir, ir(3));
}
