//! Conformance: bundles — export with callees first and with history, import into every
//! backend with each conflict policy, all or nothing, dry runs, re-imports, and lives that
//! come back the same.

use std::sync::Arc;

use pflow_ir::WorkflowName;
use serde_json::json;

use super::support::{call, calling, ir, manager, typed};
use super::{Case, Harness, case};
use crate::{
    Bundle, ExportOptions, IfCalled, ImportAction, ImportOptions, Imported, MemoryStore,
    OnConflict, StoreError, WorkflowManager,
};

pub(super) const CASES: &[Case] = &[
    case!(export_with_callees_puts_callees_first),
    case!(export_without_callees_names_what_the_bundle_lacks),
    case!(import_into_an_empty_store_creates_every_workflow),
    case!(a_round_trip_with_history_gives_the_same_lives),
    case!(identical_content_is_skipped_and_a_reimport_is_harmless),
    case!(a_conflict_fails_the_whole_import_by_default),
    case!(a_conflict_can_be_skipped),
    case!(a_conflict_can_be_updated_keeping_the_old_revision),
    case!(one_invalid_document_imports_nothing),
    case!(a_call_neither_the_bundle_nor_the_store_holds_imports_nothing),
    case!(a_cycle_through_the_bundle_and_the_store_imports_nothing),
    case!(a_dry_run_reports_and_writes_nothing),
    case!(a_life_imported_again_after_a_delete_keeps_the_trashed_one),
    case!(a_life_created_at_the_last_time_is_never_imported_twice),
    case!(the_deepest_workflow_a_store_keeps_fits_in_a_bundle),
];

fn options(with_callees: bool, history: bool) -> ExportOptions {
    ExportOptions { with_callees, history, exported_by: "pflow test".to_owned() }
}

fn import(on_conflict: OnConflict) -> ImportOptions {
    ImportOptions { on_conflict, dry_run: false }
}

/// The names of a bundle, in its order.
fn names_of(bundle: &Bundle) -> Vec<&str> {
    bundle.workflows().iter().map(|w| w.name().as_str()).collect()
}

/// The bundle read back from its text, as a colleague's import would read it.
fn through_text(bundle: &Bundle) -> Bundle {
    Bundle::from_json(bundle.to_json().as_bytes()).expect("an exported bundle reads back")
}

/// A manager over a fresh in-memory store, the other side of a round trip.
fn other() -> WorkflowManager {
    WorkflowManager::new(Arc::new(MemoryStore::new()))
}

/// `(name, revision, description)` of every live workflow.
fn live(m: &WorkflowManager) -> Vec<(String, u64, String)> {
    let listing = m.list_all().unwrap();
    listing.workflows.into_iter().map(|s| (s.name.to_string(), s.revision, s.description)).collect()
}

fn actions(report: &[Imported]) -> Vec<(&str, ImportAction)> {
    report.iter().map(|i| (i.name.as_str(), i.action)).collect()
}

/// `top` calls `mid` and `leaf`, `mid` calls `leaf`; `alone` calls nothing.
fn diamond(m: &WorkflowManager) {
    m.create("leaf", &ir(1), "the leaf").unwrap();
    m.create("mid", &calling("leaf"), "the middle").unwrap();
    let mut both = call("mid");
    both["nodes"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "id": "leaf", "type": "workflow", "params": { "workflow_name": "leaf" } }));
    both["edges"] = json!([{ "from": "call", "to": "leaf" }]);
    m.create("top", &typed(both), "the top").unwrap();
    m.create("alone", &ir(2), "alone").unwrap();
}

fn export_with_callees_puts_callees_first(h: &mut dyn Harness) {
    let m = manager(h);
    diamond(&m);
    let (bundle, problems) = m.export(&["top", "alone", "top"], &options(true, false)).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(names_of(&bundle), ["alone", "leaf", "mid", "top"]);
    assert!(bundle.unresolved_calls().is_empty());
    assert_eq!(bundle.exported_by(), "pflow test");
    assert_eq!(through_text(&bundle), bundle);
    // Without history, every document carries no kept revision.
    assert!(bundle.workflows().iter().all(|w| w.history().is_empty()));
    let err = m.export(&["nowhere"], &options(true, false)).unwrap_err();
    assert!(matches!(err, StoreError::WorkflowNotFound { .. }), "{err:?}");
    let err = m.export(&["../evil"], &options(true, false)).unwrap_err();
    assert!(matches!(err, StoreError::InvalidName(_)), "{err:?}");
}

fn export_without_callees_names_what_the_bundle_lacks(h: &mut dyn Harness) {
    let m = manager(h);
    diamond(&m);
    let (bundle, _) = m.export(&["top"], &options(false, false)).unwrap();
    assert_eq!(names_of(&bundle), ["top"]);
    let unresolved: Vec<(String, String)> =
        bundle.unresolved_calls().into_iter().map(|(a, b)| (a.to_string(), b)).collect();
    assert_eq!(
        unresolved,
        [("top".to_owned(), "mid".to_owned()), ("top".to_owned(), "leaf".to_owned())]
    );
    // Into a store that has the callees, it imports; into one without, it does not.
    let target = other();
    let err = target.import(&bundle, import(OnConflict::Fail)).unwrap_err();
    assert!(matches!(err, StoreError::InvalidBundle { .. }), "{err:?}");
    assert!(live(&target).is_empty());
    let (callees, _) = m.export(&["mid"], &options(true, false)).unwrap();
    target.import(&callees, import(OnConflict::Fail)).unwrap();
    target.import(&bundle, import(OnConflict::Fail)).unwrap();
    assert_eq!(live(&target).len(), 3);
}

fn import_into_an_empty_store_creates_every_workflow(h: &mut dyn Harness) {
    let source = other();
    diamond(&source);
    source.update("leaf", &ir(10), "the leaf, again", 1).unwrap();
    let (bundle, _) = source.export(&["top", "alone"], &options(true, false)).unwrap();
    let m = manager(h);
    let report = m.import(&through_text(&bundle), import(OnConflict::Fail)).unwrap();
    assert!(!report.dry_run);
    let created = ImportAction::Created { revision: 1, kept: 0 };
    assert_eq!(
        actions(&report.workflows),
        [("alone", created), ("leaf", created), ("mid", created), ("top", created)]
    );
    // Without history each is new here, at revision 1, with the exported content.
    for w in bundle.workflows() {
        let doc = m.load(w.name().as_str()).unwrap();
        assert_eq!(
            (doc.revision, &doc.ir, &doc.description),
            (1, &w.document().ir, &w.document().description)
        );
    }
    assert_eq!(m.load("leaf").unwrap().ir, ir(10));
}

fn a_round_trip_with_history_gives_the_same_lives(h: &mut dyn Harness) {
    // From this backend to a memory store and back into a fresh one of this backend's
    // kind is not available here, so both directions go through one store each.
    let m = manager(h);
    diamond(&m);
    m.update("leaf", &ir(11), "leaf 2", 1).unwrap();
    m.update("leaf", &ir(12), "leaf 3", 2).unwrap();
    m.update("top", &typed(call("mid")), "top 2", 1).unwrap();
    let all = ["alone", "leaf", "mid", "top"];
    let (bundle, problems) = m.export(&all, &options(true, true)).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let leaf = bundle.workflows().iter().find(|w| w.name().as_str() == "leaf").unwrap();
    assert_eq!(leaf.history().iter().map(|d| d.revision).collect::<Vec<_>>(), [1, 2]);

    let target = other();
    let report = target.import(&through_text(&bundle), import(OnConflict::Fail)).unwrap();
    assert!(
        report.workflows.iter().any(|i| i.name.as_str() == "leaf"
            && i.action == ImportAction::Created { revision: 3, kept: 2 }),
        "{report:?}"
    );
    let (lives, _) = m.lives().unwrap();
    let (copied, _) = target.lives().unwrap();
    assert_eq!(copied, lives);

    // And back: into this backend, after the originals are gone for good.
    for n in all.iter().rev() {
        m.delete(n, IfCalled::DeleteAnyway).unwrap();
    }
    m.purge(None, None).unwrap();
    let (back, _) = target.export(&all, &options(true, true)).unwrap();
    m.import(&through_text(&back), import(OnConflict::Fail)).unwrap();
    assert_eq!(m.lives().unwrap().0, lives);
}

fn identical_content_is_skipped_and_a_reimport_is_harmless(h: &mut dyn Harness) {
    let m = manager(h);
    diamond(&m);
    let (bundle, _) = m.export(&["top"], &options(true, true)).unwrap();
    let before = m.lives().unwrap();
    for _ in 0..2 {
        let report = m.import(&bundle, import(OnConflict::Fail)).unwrap();
        assert!(report.workflows.iter().all(|i| i.action == ImportAction::Unchanged), "{report:?}");
        assert_eq!(m.lives().unwrap(), before);
    }
    // Into another store: the second import of the same bundle changes nothing.
    let target = other();
    target.import(&bundle, import(OnConflict::Fail)).unwrap();
    let once = target.lives().unwrap();
    target.import(&bundle, import(OnConflict::Update)).unwrap();
    assert_eq!(target.lives().unwrap(), once);
}

/// A store where `leaf` and `mid` differ from `diamond`'s, and a bundle of `diamond`'s.
fn conflicting(h: &mut dyn Harness) -> (WorkflowManager, Bundle) {
    let source = other();
    diamond(&source);
    let (bundle, _) = source.export(&["top"], &options(true, false)).unwrap();
    let m = manager(h);
    m.create("leaf", &ir(7), "a leaf of our own").unwrap();
    m.create("mid", &ir(8), "a middle of our own").unwrap();
    (m, bundle)
}

fn a_conflict_fails_the_whole_import_by_default(h: &mut dyn Harness) {
    let (m, bundle) = conflicting(h);
    let before = m.lives().unwrap();
    let err = m.import(&bundle, ImportOptions::default()).unwrap_err();
    let StoreError::ImportConflicts { names } = &err else { panic!("{err:?}") };
    assert_eq!(names.iter().map(WorkflowName::as_str).collect::<Vec<_>>(), ["leaf", "mid"]);
    assert_eq!(
        err.to_string(),
        "the bundle conflicts with saved workflows of different content: `leaf` and `mid`"
    );
    assert!(err.hint().is_some());
    assert_eq!(m.lives().unwrap(), before, "a refused import wrote something");
}

fn a_conflict_can_be_skipped(h: &mut dyn Harness) {
    let (m, bundle) = conflicting(h);
    let ours = (m.load("leaf").unwrap(), m.load("mid").unwrap());
    // `top` calls `mid` and `leaf`, which stay as they are here and are enough for it.
    let report = m.import(&bundle, import(OnConflict::Skip)).unwrap();
    assert_eq!(
        actions(&report.workflows),
        [
            ("leaf", ImportAction::Skipped),
            ("mid", ImportAction::Skipped),
            ("top", ImportAction::Created { revision: 1, kept: 0 })
        ]
    );
    assert_eq!((m.load("leaf").unwrap(), m.load("mid").unwrap()), ours);
    assert_eq!(m.history("leaf").unwrap().revisions.len(), 1);
}

fn a_conflict_can_be_updated_keeping_the_old_revision(h: &mut dyn Harness) {
    let (m, bundle) = conflicting(h);
    let report = m.import(&bundle, import(OnConflict::Update)).unwrap();
    assert_eq!(
        actions(&report.workflows),
        [
            ("leaf", ImportAction::Updated { revision: 2 }),
            ("mid", ImportAction::Updated { revision: 2 }),
            ("top", ImportAction::Created { revision: 1, kept: 0 })
        ]
    );
    let history = m.history("leaf").unwrap();
    let descriptions: Vec<&str> =
        history.revisions.iter().map(|d| d.description.as_str()).collect();
    assert_eq!(descriptions, ["a leaf of our own", "the leaf"]);
    assert_eq!(m.load("mid").unwrap().ir, calling("leaf"));
}

fn one_invalid_document_imports_nothing(h: &mut dyn Harness) {
    let source = other();
    diamond(&source);
    let (bundle, _) = source.export(&["top", "alone"], &options(true, false)).unwrap();
    // `mid` gets an edge to a node it does not have; everything else is fine.
    let mut value: serde_json::Value = serde_json::from_str(&bundle.to_json()).unwrap();
    let entries = value["workflows"].as_array_mut().unwrap();
    let mid = entries.iter_mut().find(|e| e["document"]["name"] == "mid").unwrap();
    mid["document"]["ir"]["edges"] = json!([{ "from": "call", "to": "nowhere" }]);
    let broken = Bundle::from_json(value.to_string().as_bytes()).unwrap();
    let m = manager(h);
    for on_conflict in [OnConflict::Fail, OnConflict::Skip, OnConflict::Update] {
        let err = m.import(&broken, import(on_conflict)).unwrap_err();
        let StoreError::InvalidBundle { workflows } = &err else { panic!("{err:?}") };
        assert_eq!(workflows.len(), 1, "{err:?}");
        assert_eq!(workflows[0].0.as_str(), "mid");
        assert!(workflows[0].1.iter().all(|d| d.path.starts_with("ir.")), "{err:?}");
        assert!(live(&m).is_empty(), "{on_conflict:?}: an invalid bundle wrote something");
    }
}

fn a_call_neither_the_bundle_nor_the_store_holds_imports_nothing(h: &mut dyn Harness) {
    let source = other();
    source.create("gone", &ir(1), "").unwrap();
    source.create("caller", &calling("gone"), "").unwrap();
    source.create("fine", &ir(2), "").unwrap();
    let (bundle, _) = source.export(&["caller", "fine"], &options(false, false)).unwrap();
    let m = manager(h);
    let err = m.import(&bundle, import(OnConflict::Fail)).unwrap_err();
    let StoreError::InvalidBundle { workflows } = &err else { panic!("{err:?}") };
    let (who, findings) = &workflows[0];
    assert_eq!(who.as_str(), "caller");
    let finding = findings.iter().next().unwrap();
    assert_eq!(finding.path, "ir.nodes[0].params.workflow_name");
    assert_eq!(
        finding.message,
        "calls workflow `gone`, which neither the bundle nor the store holds"
    );
    assert!(live(&m).is_empty());
    // Once the store has it, the same bundle imports.
    m.create("gone", &ir(3), "ours").unwrap();
    m.import(&bundle, import(OnConflict::Fail)).unwrap();
    assert_eq!(live(&m).len(), 3);
}

fn a_cycle_through_the_bundle_and_the_store_imports_nothing(h: &mut dyn Harness) {
    // Here: `x` calls `a`. The bundle's `a` calls `x`.
    let m = manager(h);
    m.create("a", &ir(1), "").unwrap();
    m.create("x", &calling("a"), "").unwrap();
    let source = other();
    source.create("x", &ir(5), "").unwrap();
    source.create("a", &calling("x"), "theirs").unwrap();
    let (bundle, _) = source.export(&["a"], &options(false, false)).unwrap();
    let before = m.lives().unwrap();
    let err = m.import(&bundle, import(OnConflict::Update)).unwrap_err();
    let StoreError::InvalidBundle { workflows } = &err else { panic!("{err:?}") };
    let finding = workflows[0].1.iter().next().unwrap();
    assert_eq!(finding.message, "workflow call cycle: a -> x -> a");
    assert_eq!(m.lives().unwrap(), before);

    // Within the bundle alone, too: `q` calls `p`, and the bundle's `p` is made to call `q`.
    let source = other();
    source.create("p", &ir(1), "").unwrap();
    source.create("q", &calling("p"), "").unwrap();
    let (bundle, _) = source.export(&["q"], &options(true, false)).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&bundle.to_json()).unwrap();
    let entries = value["workflows"].as_array_mut().unwrap();
    let p = entries.iter_mut().find(|e| e["document"]["name"] == "p").unwrap();
    p["document"]["ir"] = call("q");
    let cyclic = Bundle::from_json(value.to_string().as_bytes()).unwrap();
    let target = other();
    let err = target.import(&cyclic, import(OnConflict::Fail)).unwrap_err();
    let StoreError::InvalidBundle { workflows } = &err else { panic!("{err:?}") };
    let messages: Vec<&str> =
        workflows.iter().flat_map(|(_, d)| d.iter().map(|d| d.message.as_str())).collect();
    assert_eq!(messages, ["workflow call cycle: p -> q -> p", "workflow call cycle: q -> p -> q"]);
    assert!(live(&target).is_empty());
}

fn a_dry_run_reports_and_writes_nothing(h: &mut dyn Harness) {
    let (m, bundle) = conflicting(h);
    let before = m.lives().unwrap();
    let dry = ImportOptions { on_conflict: OnConflict::Update, dry_run: true };
    let report = m.import(&bundle, dry).unwrap();
    assert!(report.dry_run);
    assert_eq!(
        actions(&report.workflows),
        [
            ("leaf", ImportAction::Updated { revision: 2 }),
            ("mid", ImportAction::Updated { revision: 2 }),
            ("top", ImportAction::Created { revision: 1, kept: 0 })
        ]
    );
    assert_eq!(m.lives().unwrap(), before, "a dry run wrote something");
    // A dry run refuses what the import would refuse.
    let dry = ImportOptions { on_conflict: OnConflict::Fail, dry_run: true };
    assert!(matches!(m.import(&bundle, dry), Err(StoreError::ImportConflicts { .. })));
    // And the real import then does what the dry run said.
    let real = m.import(&bundle, import(OnConflict::Update)).unwrap();
    assert_eq!(real.workflows, report.workflows);
}

/// A life exported, imported, deleted, and imported again: the new one must not share
/// the trashed one's creation time (which keys its history), so the trashed one stays
/// listed and comes back whole.
fn a_life_imported_again_after_a_delete_keeps_the_trashed_one(h: &mut dyn Harness) {
    let source = other();
    source.create("kept", &ir(1), "one").unwrap();
    source.update("kept", &ir(2), "two", 1).unwrap();
    let (bundle, _) = source.export(&["kept"], &options(false, true)).unwrap();
    let m = manager(h);
    m.import(&bundle, import(OnConflict::Fail)).unwrap();
    m.delete("kept", IfCalled::Refuse).unwrap();
    let report = m.import(&bundle, import(OnConflict::Fail)).unwrap();
    assert_eq!(
        actions(&report.workflows),
        [("kept", ImportAction::Created { revision: 2, kept: 1 })]
    );
    let trashed = m.trash().unwrap().entries;
    assert_eq!(trashed.len(), 1, "{trashed:?}");
    let live_doc = m.load("kept").unwrap();
    assert!(live_doc.created_at > trashed[0].created_at);
    assert_eq!(trashed[0].created_at, bundle.workflows()[0].document().created_at);
    // Both lives are whole: two revisions each.
    let (lives, problems) = m.lives().unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let shape: Vec<(Vec<u64>, bool)> = lives
        .iter()
        .map(|l| (l.revisions.iter().map(|d| d.revision).collect(), l.deleted_at.is_some()))
        .collect();
    assert_eq!(shape, [(vec![1, 2], false), (vec![1, 2], true)]);
}

/// A life created at the last time there can be, imported with its history, updated and
/// deleted, then imported again: the second life can get no creation time of its own, so
/// the import is refused (`NoTimeLeft`) and writes nothing — never a second life under the
/// first one's key, whose update would replace a kept revision of the first and whose
/// delete would remove the first one's trash entry.
fn a_life_created_at_the_last_time_is_never_imported_twice(h: &mut dyn Harness) {
    let last = super::support::last_time();
    let memory = Arc::new(MemoryStore::new());
    let far = pflow_ir::Document::new(super::support::name("far"), "one".into(), ir(1), last);
    super::support::put(&*memory, &far);
    let source = WorkflowManager::new(memory);
    source.update("far", &ir(2), "two", 1).unwrap();
    let (bundle, _) = source.export(&["far"], &options(false, true)).unwrap();
    let bundle = through_text(&bundle);
    let m = manager(h);
    m.import(&bundle, import(OnConflict::Fail)).unwrap();
    m.update("far", &ir(3), "three", 2).unwrap();
    m.delete("far", IfCalled::Refuse).unwrap();
    for on_conflict in [OnConflict::Fail, OnConflict::Skip, OnConflict::Update] {
        match m.import(&bundle, import(on_conflict)).unwrap_err() {
            StoreError::NoTimeLeft { name, last: at } => {
                assert_eq!((name.as_str(), at), ("far", last));
            }
            other => panic!("expected NoTimeLeft, got {other:?}"),
        }
    }
    assert!(!m.exists("far").unwrap());
    let trash = m.trash().unwrap();
    assert_eq!(trash.entries.len(), 1, "{trash:?}");
    assert_eq!(trash.entries[0].created_at, last);
    // The first life is whole: it comes back with its three revisions.
    assert_eq!(m.restore_trashed("far").unwrap().revision, 3);
    let history: Vec<(u64, String)> = m
        .history("far")
        .unwrap()
        .revisions
        .iter()
        .map(|d| (d.revision, d.description.clone()))
        .collect();
    assert_eq!(history, [(1, "one".into()), (2, "two".into()), (3, "three".into())]);
}

/// Every workflow a store can hold can be shared: the deepest IR a save accepts, with its
/// history, exported and read back from the bundle's text, imports whole.
fn the_deepest_workflow_a_store_keeps_fits_in_a_bundle(h: &mut dyn Harness) {
    let m = manager(h);
    let deepest = super::basics::nested_ir(pflow_ir::MAX_IR_DEPTH);
    // The deepest as a kept revision, the most deeply nested place of a bundle, and as
    // the current document of another.
    m.create("deep", &deepest, "deepest").unwrap();
    m.update("deep", &ir(1), "shallow", 1).unwrap();
    m.create("deeper", &deepest, "").unwrap();
    let (bundle, _) = m.export(&["deep", "deeper"], &options(false, true)).unwrap();
    let text = bundle.to_json();
    let read = Bundle::from_json(text.as_bytes()).unwrap();
    let target = other();
    target.import(&read, import(OnConflict::Fail)).unwrap();
    assert_eq!(target.lives().unwrap().0, m.lives().unwrap().0);
    // One level more than a bundle needs is refused before it is parsed.
    let deeper = format!(
        "{}{}{}",
        "[".repeat(crate::MAX_BUNDLE_DEPTH + 1),
        1,
        "]".repeat(crate::MAX_BUNDLE_DEPTH + 1)
    );
    let err = Bundle::from_json(deeper.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("levels deep"), "{err}");
}
