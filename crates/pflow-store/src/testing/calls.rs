//! Conformance: calls between saved workflows — cycles (through names and inline
//! `workflow_ir`s) refused by every write that could close one, missing callees, call
//! summaries, and callers read inside the transaction that deletes.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use pflow_ir::{Document, WorkflowName};
use serde_json::json;

use super::support::{
    call, calling, findings, inline, ir, manager, name, stored, transact, typed, valid,
};
use super::{Case, Harness, case};
use crate::{
    History, IfCalled, Listed, Listing, Location, SaveMode, StoreError, StoreResult, Transaction,
    TrashListing, Trashed, WorkflowManager, WorkflowStore,
};

pub(super) const CASES: &[Case] = &[
    case!(a_cycle_through_an_inline_child_is_refused),
    case!(a_missing_name_in_an_inline_child_is_refused),
    case!(summaries_count_calls_made_from_inline_children),
    case!(delete_refuses_a_workflow_called_only_from_an_inline_child),
    case!(a_save_that_closes_a_cycle_is_refused),
    case!(a_revision_restore_that_closes_a_cycle_is_refused),
    case!(a_trash_restore_that_closes_a_cycle_is_refused),
    case!(the_cycle_check_reads_inside_the_transaction),
    case!(delete_sees_callers_inside_its_transaction),
];

fn a_cycle_through_an_inline_child_is_refused(h: &mut dyn Harness) {
    let m = manager(h);
    m.create("q", &typed(call("r")), "").unwrap_err();
    m.create("r", &ir(1), "").unwrap();
    m.create("q", &typed(call("r")), "").unwrap();
    // `p` runs, inline, a child that calls `q`; `q` calls `r`. Making `r` call `p` loops.
    m.create("p", &typed(inline(call("q"))), "").unwrap();
    let doc = m.load("r").unwrap();
    let err = m.update("r", &typed(inline(inline(call("p")))), "", doc.revision).unwrap_err();
    assert_eq!(
        findings(&err),
        [(
            "nodes[0].params.workflow_ir.nodes[0].params.workflow_ir.nodes[0].params.workflow_name"
                .to_owned(),
            "workflow call cycle: r -> (inline) -> (inline) -> p -> (inline) -> q -> r".to_owned()
        )]
    );
    // A workflow whose inline child calls the workflow itself is refused at once.
    let err = m.create("s", &typed(inline(call("s"))), "").unwrap_err();
    assert!(matches!(err, StoreError::InvalidWorkflow { .. }), "{err:?}");
    assert!(!m.exists("s").unwrap());
    assert_eq!(m.load("r").unwrap().revision, doc.revision);
}

fn a_missing_name_in_an_inline_child_is_refused(h: &mut dyn Harness) {
    let m = manager(h);
    let err = m.create("p", &typed(inline(call("nowhere"))), "").unwrap_err();
    assert_eq!(
        findings(&err),
        [(
            "nodes[0].params.workflow_ir.nodes[0].params.workflow_name".to_owned(),
            "saved workflow `nowhere` not found".to_owned()
        )]
    );
    assert!(!m.exists("p").unwrap());
}

fn summaries_count_calls_made_from_inline_children(h: &mut dyn Harness) {
    let m = manager(h);
    m.create("inner", &ir(1), "").unwrap();
    m.create("outer", &ir(2), "").unwrap();
    let mut both = inline(call("inner"));
    both["nodes"].as_array_mut().unwrap().push(
        json!({ "id": "direct", "type": "workflow", "params": { "workflow_name": "outer" } }),
    );
    both["edges"] = json!([{ "from": "inline", "to": "direct" }]);
    m.create("p", &typed(both), "").unwrap();
    let listing = m.list_all().unwrap();
    let p = listing.workflows.iter().find(|s| s.name.as_str() == "p").unwrap();
    assert_eq!(p.calls, ["inner", "outer"]);
}

fn delete_refuses_a_workflow_called_only_from_an_inline_child(h: &mut dyn Harness) {
    let m = manager(h);
    m.create("callee", &ir(1), "").unwrap();
    m.create("caller", &typed(inline(inline(call("callee")))), "").unwrap();
    let err = m.delete("callee", IfCalled::Refuse).unwrap_err();
    assert!(
        matches!(&err, StoreError::HasCallers { callers, .. } if callers.len() == 1),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "workflow `callee` is called by `caller`");
    assert!(m.exists("callee").unwrap());
}

/// `a` saved to call `b` while `b` calls `a`, directly or through an inline child, in
/// every save mode that can replace: refused, nothing written.
fn a_save_that_closes_a_cycle_is_refused(h: &mut dyn Harness) {
    let m = manager(h);
    m.create("a", &ir(1), "").unwrap();
    m.create("b", &calling("a"), "").unwrap();
    let before = m.load("a").unwrap();
    let direct = valid(&m, "a", calling("b"));
    let through_inline = valid(&m, "a", typed(inline(call("b"))));
    for mode in [
        SaveMode::Replace { expected_revision: None },
        SaveMode::Replace { expected_revision: Some(1) },
        SaveMode::Update { expected_revision: 1 },
    ] {
        let err = m.save("a", &direct, None, mode).unwrap_err();
        assert_eq!(
            findings(&err),
            [(
                "nodes[0].params.workflow_name".to_owned(),
                "workflow call cycle: a -> b -> a".to_owned()
            )],
            "{mode:?}"
        );
        let err = m.save("a", &through_inline, None, mode).unwrap_err();
        assert_eq!(
            findings(&err),
            [(
                "nodes[0].params.workflow_ir.nodes[0].params.workflow_name".to_owned(),
                "workflow call cycle: a -> (inline) -> b -> a".to_owned()
            )],
            "{mode:?}"
        );
    }
    let err = m.update("a", &calling("b"), "", 1).unwrap_err();
    assert_eq!(findings(&err)[0].1, "workflow call cycle: a -> b -> a");
    assert_eq!(m.load("a").unwrap(), before);
    assert_eq!(m.history("a").unwrap().revisions.len(), 1);
}

/// Revision 1 of `a` called `b`; since, `a` stopped and `b` started calling `a`. Bringing
/// revision 1 back would close the cycle.
fn a_revision_restore_that_closes_a_cycle_is_refused(h: &mut dyn Harness) {
    let m = manager(h);
    m.create("b", &ir(1), "").unwrap();
    m.create("a", &calling("b"), "").unwrap();
    m.update("a", &ir(2), "", 1).unwrap();
    m.update("b", &calling("a"), "", 1).unwrap();
    let before = m.load("a").unwrap();
    let err = m.restore_revision("a", 1, None).unwrap_err();
    assert_eq!(
        findings(&err),
        [(
            "nodes[0].params.workflow_name".to_owned(),
            "workflow call cycle: a -> b -> a".to_owned()
        )]
    );
    assert_eq!(m.load("a").unwrap(), before);
    assert_eq!(m.history("a").unwrap().revisions.len(), 2);
}

/// `a`, which calls `b`, went to the trash; `b` was then changed to call `a` (planted
/// through the primitives, which check no calls: as an older pflow, or a race the manager
/// prevents, could leave it). Restoring `a` would make both unrunnable.
fn a_trash_restore_that_closes_a_cycle_is_refused(h: &mut dyn Harness) {
    let m = manager(h);
    m.create("b", &ir(1), "").unwrap();
    m.create("a", &calling("b"), "").unwrap();
    m.delete("a", IfCalled::Refuse).unwrap();
    let store = h.store();
    transact(&*store, |txn| {
        let current = txn.load(&name("b"))?.expect("b is saved");
        let next = current
            .next_revision(calling("a"), String::new(), pflow_ir::Timestamp::now())
            .expect("revision 2 exists");
        txn.replace(&current, &stored(&next))
    })
    .unwrap();
    let trash = m.trash().unwrap();
    let err = m.restore_trashed("a").unwrap_err();
    assert_eq!(
        findings(&err),
        [(
            "nodes[0].params.workflow_name".to_owned(),
            "workflow call cycle: a -> b -> a".to_owned()
        )]
    );
    assert!(!m.exists("a").unwrap());
    assert_eq!(m.trash().unwrap(), trash);
}

/// The calls a save must not close into a cycle are read through its transaction: a
/// manager whose reads outside transactions are stale (as another process's write makes
/// them) still refuses.
fn the_cycle_check_reads_inside_the_transaction(h: &mut dyn Harness) {
    let m = manager(h);
    m.create("a", &ir(1), "").unwrap();
    m.create("b", &ir(2), "").unwrap();
    let stale = WorkflowManager::new(Arc::new(Stale::of(h.store())));
    // Another process makes `b` call `a`; the stale reads still show `b` calling nothing.
    m.update("b", &calling("a"), "", 1).unwrap();
    assert_eq!(stale.load("b").unwrap().ir, ir(2));
    let err = stale
        .save(
            "a",
            &valid(&m, "a", calling("b")),
            None,
            SaveMode::Replace { expected_revision: None },
        )
        .unwrap_err();
    assert_eq!(findings(&err)[0].1, "workflow call cycle: a -> b -> a");
    assert_eq!(m.load("a").unwrap().ir, ir(1));
}

/// `delete` with `IfCalled::Refuse` reads the callers through its transaction: a manager
/// whose reads outside transactions are stale still refuses.
fn delete_sees_callers_inside_its_transaction(h: &mut dyn Harness) {
    let m = manager(h);
    m.create("callee", &ir(1), "").unwrap();
    let stale = WorkflowManager::new(Arc::new(Stale::of(h.store())));
    m.create("caller", &calling("callee"), "").unwrap();
    assert!(stale.callers("callee").unwrap().is_empty(), "the reads are not stale");
    match stale.delete("callee", IfCalled::Refuse).unwrap_err() {
        StoreError::HasCallers { name, callers } => {
            assert_eq!(name.as_str(), "callee");
            assert_eq!(callers, [super::support::name("caller")]);
        }
        other => panic!("expected HasCallers, got {other:?}"),
    }
    assert!(m.exists("callee").unwrap());
    assert!(m.trash().unwrap().entries.is_empty());
}

/// A store whose reads outside transactions show the state when it was made (as a read
/// made just before another process's write does), while its transactions are the real
/// store's.
#[derive(Debug)]
struct Stale {
    inner: Arc<dyn WorkflowStore>,
    listing: Listing,
    docs: BTreeMap<WorkflowName, Document>,
}

impl Stale {
    fn of(inner: Arc<dyn WorkflowStore>) -> Stale {
        let listing = inner.list().expect("the store lists");
        let docs = listing
            .workflows
            .iter()
            .map(|s| (s.name.clone(), inner.load(&s.name).expect("a listed workflow loads")))
            .collect();
        Stale { inner, listing, docs }
    }
}

impl WorkflowStore for Stale {
    fn load(&self, name: &WorkflowName) -> StoreResult<Document> {
        self.docs.get(name).cloned().ok_or_else(|| StoreError::WorkflowNotFound {
            name: name.clone(),
            suggestions: Vec::new(),
        })
    }

    fn visit(&self, visit: &mut dyn FnMut(Listed) -> ControlFlow<()>) -> StoreResult<()> {
        for summary in &self.listing.workflows {
            if visit(Listed::Workflow(summary.clone())).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn list(&self) -> StoreResult<Listing> {
        Ok(self.listing.clone())
    }

    fn exists(&self, name: &WorkflowName) -> StoreResult<bool> {
        Ok(self.docs.contains_key(name))
    }

    fn kept_revisions(&self, current: &Document) -> StoreResult<History> {
        self.inner.kept_revisions(current)
    }

    fn kept_revision(&self, current: &Document, revision: u64) -> StoreResult<Option<Document>> {
        self.inner.kept_revision(current, revision)
    }

    fn trash(&self) -> StoreResult<TrashListing> {
        self.inner.trash()
    }

    fn trashed(&self, name: &WorkflowName) -> StoreResult<Vec<Trashed>> {
        self.inner.trashed(name)
    }

    fn locate(&self, name: &WorkflowName) -> Location {
        self.inner.locate(name)
    }

    fn write(
        &self,
        work: &mut dyn FnMut(&mut dyn Transaction) -> StoreResult<()>,
    ) -> StoreResult<()> {
        self.inner.write(work)
    }
}
