//! The conformance suite: every operation and every error, through the manager and the
//! raw trait, run against every backend (in-memory, filesystem, filesystem on `SimFs`).

use pflow_ir::Timestamp;
use pflow_store::{Change, IfCalled, StoreError};

use crate::common::{Backend, doc, invalid_ir, ir, name};

macro_rules! conformance {
    ($($test:ident),* $(,)?) => {
        mod memory {
            $( #[test] fn $test() { super::$test(&crate::common::Backend::memory()) } )*
        }
        mod fs {
            $( #[test] fn $test() { super::$test(&crate::common::Backend::fs()) } )*
        }
        mod sim {
            $( #[test] fn $test() { super::$test(&crate::common::Backend::sim()) } )*
        }
    };
}
pub(crate) use conformance;

conformance!(
    save_then_load_round_trips,
    save_never_overwrites,
    load_of_a_missing_name_suggests_close_names,
    exists_tells_saved_from_missing,
    list_is_sorted_by_name_with_summaries,
    list_of_an_empty_store_is_empty,
    update_with_the_current_revision_makes_the_next,
    update_with_a_stale_revision_conflicts_and_changes_nothing,
    update_of_a_missing_workflow_is_not_found,
    delete_removes_and_frees_the_name,
    delete_of_a_missing_workflow_is_not_found,
    invalid_names_are_refused_by_every_operation,
    invalid_workflows_are_never_written,
    a_corrupt_entry_is_reported_not_fatal,
    locate_names_the_workflow,
    raw_trait_obeys_the_same_rules,
    unknown_fields_survive_an_update,
    the_deepest_accepted_workflow_is_read_back,
    a_workflow_one_level_deeper_is_refused,
);

/// A valid IR nested exactly `levels` deep: the root, `nodes`, the node and `params` are
/// four levels, and the rest are arrays in one param.
fn nested_ir(levels: usize) -> pflow_ir::WorkflowIr {
    let mut deep = serde_json::json!(1);
    for _ in 0..levels - 4 {
        deep = serde_json::json!([deep]);
    }
    serde_json::from_value(serde_json::json!({
        "ir_version": "0.1.0",
        "nodes": [{ "id": "a", "type": "shell", "params": { "command": "true", "deep": deep } }]
    }))
    .unwrap()
}

fn the_deepest_accepted_workflow_is_read_back(b: &Backend) {
    let m = b.manager();
    let deepest = nested_ir(pflow_ir::MAX_IR_DEPTH);
    m.create("deep", &deepest, "").unwrap();
    assert_eq!(m.load("deep").unwrap().ir, deepest);
    // `list` reads it too (and the index that caches it), rather than calling it corrupt.
    let listing = m.list_all().unwrap();
    assert!(listing.problems.is_empty(), "{:?}", listing.problems);
    assert_eq!(listing.workflows.len(), 1);
    let doc = m.update("deep", &deepest, "again", 1).unwrap();
    assert_eq!(m.load_revision("deep", doc.revision).unwrap().ir, deepest);
}

fn a_workflow_one_level_deeper_is_refused(b: &Backend) {
    let m = b.manager();
    let err = m.create("deep", &nested_ir(pflow_ir::MAX_IR_DEPTH + 1), "").unwrap_err();
    let StoreError::InvalidWorkflow { diagnostics, .. } = &err else {
        panic!("expected InvalidWorkflow, got {err:?}")
    };
    let found: Vec<(&str, &str)> =
        diagnostics.iter().map(|d| (d.path.as_str(), d.message.as_str())).collect();
    let path = format!("nodes[0].params.deep{}", "[0]".repeat(pflow_ir::MAX_IR_DEPTH - 4));
    assert_eq!(found, [(path.as_str(), "the workflow is nested more than 126 levels deep")]);
    assert!(!m.exists("deep").unwrap());
}

fn save_then_load_round_trips(b: &Backend) {
    let m = b.manager();
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

fn save_never_overwrites(b: &Backend) {
    let m = b.manager();
    m.create("fix-issue", &ir(1), "first").unwrap();
    let err = m.create("fix-issue", &ir(2), "second").unwrap_err();
    assert!(matches!(&err, StoreError::WorkflowExists { name } if name.as_str() == "fix-issue"));
    assert_eq!(err.to_string(), "workflow `fix-issue` already exists");
    let doc = m.load("fix-issue").unwrap();
    assert_eq!((doc.description.as_str(), doc.ir), ("first", ir(1)));
}

fn load_of_a_missing_name_suggests_close_names(b: &Backend) {
    let m = b.manager();
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

fn exists_tells_saved_from_missing(b: &Backend) {
    let m = b.manager();
    assert!(!m.exists("fix-issue").unwrap());
    m.create("fix-issue", &ir(1), "").unwrap();
    assert!(m.exists("fix-issue").unwrap());
    assert!(!m.exists("fix-issues").unwrap());
}

fn list_is_sorted_by_name_with_summaries(b: &Backend) {
    let m = b.manager();
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

fn list_of_an_empty_store_is_empty(b: &Backend) {
    let listing = b.manager().list_all().unwrap();
    assert!(listing.workflows.is_empty() && listing.problems.is_empty());
}

fn update_with_the_current_revision_makes_the_next(b: &Backend) {
    let m = b.manager();
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

fn update_with_a_stale_revision_conflicts_and_changes_nothing(b: &Backend) {
    let m = b.manager();
    m.create("fix-issue", &ir(1), "one").unwrap();
    m.update("fix-issue", &ir(2), "two", 1).unwrap();
    let before = m.load("fix-issue").unwrap();
    let err = m.update("fix-issue", &ir(3), "three", 1).unwrap_err();
    match &err {
        StoreError::Conflict { name, expected, actual } => {
            assert_eq!((name.as_str(), *expected, *actual), ("fix-issue", 1, 2));
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert!(err.to_string().contains("expected revision 1, found 2"), "{err}");
    assert_eq!(m.load("fix-issue").unwrap(), before);
    assert!(matches!(
        m.update("fix-issue", &ir(3), "ahead", 7),
        Err(StoreError::Conflict { expected: 7, actual: 2, .. })
    ));
}

fn update_of_a_missing_workflow_is_not_found(b: &Backend) {
    let m = b.manager();
    assert!(matches!(m.update("ghost", &ir(1), "", 1), Err(StoreError::WorkflowNotFound { .. })));
    m.create("ghosts", &ir(1), "").unwrap();
    match m.update("ghost", &ir(1), "", 1).unwrap_err() {
        StoreError::WorkflowNotFound { suggestions, .. } => {
            assert_eq!(suggestions.first().map(|s| s.as_str()), Some("ghosts"));
        }
        other => panic!("expected WorkflowNotFound, got {other:?}"),
    }
}

fn delete_removes_and_frees_the_name(b: &Backend) {
    let m = b.manager();
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

fn delete_of_a_missing_workflow_is_not_found(b: &Backend) {
    let m = b.manager();
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
}

fn invalid_names_are_refused_by_every_operation(b: &Backend) {
    let m = b.manager();
    let bad = "Fix_Issue";
    let check = |r: Result<(), StoreError>| match r {
        Err(StoreError::InvalidName(e)) => assert_eq!(e.suggestion(), Some("fix-issue")),
        other => panic!("expected InvalidName, got {other:?}"),
    };
    check(m.create(bad, &ir(1), "").map(drop));
    check(m.load(bad).map(drop));
    check(m.load_ir(bad).map(drop));
    check(m.exists(bad).map(drop));
    check(m.update(bad, &ir(1), "", 1).map(drop));
    check(m.delete(bad, IfCalled::Refuse).map(drop));
    check(m.locate(bad).map(drop));
    assert!(m.list_all().unwrap().workflows.is_empty());
}

fn invalid_workflows_are_never_written(b: &Backend) {
    let m = b.manager();
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
    assert_eq!(m.load("fine").unwrap().ir, ir(1));
}

fn a_corrupt_entry_is_reported_not_fatal(b: &Backend) {
    let m = b.manager();
    m.create("good", &ir(1), "").unwrap();
    b.plant_corrupt("bad");
    let listing = m.list_all().unwrap();
    let names: Vec<&str> = listing.workflows.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["good"]);
    assert_eq!(listing.problems.len(), 1, "{:?}", listing.problems);
    assert!(listing.problems[0].location.contains("bad"), "{:?}", listing.problems);
    let corrupt = |r: Result<(), StoreError>| match r {
        Err(StoreError::Corrupt { location, reason }) => {
            assert!(location.contains("bad"), "{location}");
            assert!(!reason.is_empty());
        }
        other => panic!("expected Corrupt, got {other:?}"),
    };
    corrupt(m.load("bad").map(drop));
    corrupt(m.update("bad", &ir(2), "", 1).map(drop));
    assert!(m.exists("bad").unwrap());
    assert!(matches!(m.create("bad", &ir(2), ""), Err(StoreError::WorkflowExists { .. })));
    m.delete("bad", IfCalled::Refuse).unwrap();
    assert!(m.list_all().unwrap().problems.is_empty());
    m.create("bad", &ir(3), "").unwrap();
    assert_eq!(m.load("bad").unwrap().ir, ir(3));
}

fn locate_names_the_workflow(b: &Backend) {
    let m = b.manager();
    let before = m.locate("fix-issue").unwrap();
    assert!(before.0.contains("fix-issue"), "{before}");
    let saved = m.create("fix-issue", &ir(1), "").unwrap();
    assert_eq!(m.locate("fix-issue").unwrap(), saved);
}

fn raw_trait_obeys_the_same_rules(b: &Backend) {
    let store = b.store();
    let first = doc("raw", 1);
    store.create(&first).unwrap();
    assert!(matches!(store.create(&doc("raw", 2)), Err(StoreError::WorkflowExists { .. })));
    assert_eq!(store.load(&name("raw")).unwrap(), first);
    assert!(store.exists(&name("raw")).unwrap());
    let change = |n: u64| Change { ir: ir(n), description: format!("d{n}"), now: Timestamp::now() };
    let next = store.update(&name("raw"), 1, change(2)).unwrap();
    assert_eq!(next, change(2).apply_to(&first).with_times_of(&next));
    assert!(matches!(
        store.update(&name("raw"), 1, change(3)),
        Err(StoreError::Conflict { expected: 1, actual: 2, .. })
    ));
    assert!(matches!(
        store.update(&name("nope"), 1, change(3)),
        Err(StoreError::WorkflowNotFound { .. })
    ));
    assert_eq!(store.list().unwrap().workflows.len(), 1);
    store.delete(&name("raw"), Timestamp::now()).unwrap();
    assert!(matches!(
        store.delete(&name("raw"), Timestamp::now()),
        Err(StoreError::WorkflowNotFound { .. })
    ));
    assert!(matches!(store.load(&name("raw")), Err(StoreError::WorkflowNotFound { .. })));
    assert!(!store.exists(&name("raw")).unwrap());
    assert!(store.locate(&name("raw")).0.contains("raw"));
}

fn unknown_fields_survive_an_update(b: &Backend) {
    let store = b.store();
    let mut first = doc("future", 1);
    first.extra.insert("labels".into(), serde_json::json!(["from-the-future"]));
    store.create(&first).unwrap();
    assert_eq!(store.load(&name("future")).unwrap().extra, first.extra);
    let change = Change { ir: ir(2), description: String::new(), now: Timestamp::now() };
    let next = store.update(&name("future"), 1, change).unwrap();
    assert_eq!(next.extra, first.extra);
    assert_eq!(store.load(&name("future")).unwrap(), next);
}

/// Comparing a document built by hand with the one the store returned, except for the
/// update time, which both take from the same `Change`.
trait WithTimes {
    fn with_times_of(self, other: &Self) -> Self;
}

impl WithTimes for pflow_ir::Document {
    fn with_times_of(mut self, other: &Self) -> Self {
        self.updated_at = other.updated_at;
        self
    }
}

/// `Io` cannot happen in memory; on the filesystem it names the action and the path.
#[test]
fn io_errors_name_the_action_and_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::write(&home, b"a file where the home should be").unwrap();
    let m =
        pflow_store::WorkflowManager::new(std::sync::Arc::new(pflow_store::FsStore::new(&home)));
    match m.create("fix-issue", &ir(1), "").unwrap_err() {
        StoreError::Io { action, path, source } => {
            assert_eq!(action, "create directory");
            assert!(path.starts_with(&home), "{}", path.display());
            assert_eq!(source.kind(), std::io::ErrorKind::NotADirectory);
        }
        other => panic!("expected Io, got {other:?}"),
    }
    match m.list_all().unwrap_err() {
        StoreError::Io { action, path, .. } => {
            assert_eq!((action, path), ("list", home.join("workflows")));
        }
        other => panic!("expected Io, got {other:?}"),
    }
    let err = m.update("fix-issue", &ir(1), "", 1).unwrap_err();
    assert!(matches!(err, StoreError::Io { action: "lock", .. }), "{err:?}");
    assert!(err.to_string().starts_with("failed to lock `"), "{err}");
    assert_eq!(std::fs::read(&home).unwrap(), b"a file where the home should be");
}

/// The home is created by the first write, private (0700), and reads create nothing.
#[test]
fn a_new_home_is_created_private_by_the_first_write() {
    use pflow_store::WorkflowStore;
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("a/b/home");
    let store = pflow_store::FsStore::new(&home);
    assert_eq!(store.home(), home);
    assert!(store.list().unwrap().workflows.is_empty());
    assert!(matches!(store.load(&name("x")), Err(StoreError::WorkflowNotFound { .. })));
    assert!(!dir.path().join("a").exists(), "a read created something");
    store.create(&doc("x", 1)).unwrap();
    for path in [home.clone(), home.join("workflows")] {
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", path.display());
    }
    let text = std::fs::read_to_string(home.join("workflows/x.json")).unwrap();
    assert_eq!(text, store.load(&name("x")).unwrap().to_pretty_json());
    assert!(text.ends_with("}\n"));
}
