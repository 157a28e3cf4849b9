//! The static checks of a workflow: the one function `validate`, `workflow save` and `run`
//! all call, so they find the same problems.
//!
//! A workflow is checked for its structure and its node types (pflow-ir, against the
//! built-in catalog), then for the saved workflows it calls by `workflow_name` (they must
//! exist and not loop; the store's `WorkflowManager`), then for the files it calls by
//! `workflow_ref` (they must not loop; `pflow_exec::check_refs`, relative to where the
//! workflow comes from).

use std::sync::Arc;

use pflow_exec::WorkflowOrigin;
use pflow_ir::{Diagnostic, Diagnostics, WorkflowIr, WorkflowName, WorkflowSource};
use pflow_store::{MemoryStore, WorkflowManager};

/// A workflow after its static checks.
#[derive(Debug)]
pub(crate) struct Checked {
    /// The IR, when the value has the shape of one (it may still have errors).
    pub(crate) ir: Option<WorkflowIr>,
    /// Every finding, with paths relative to the checked value (`ir.nodes[0]…` inside a
    /// stored document).
    pub(crate) diagnostics: Diagnostics,
}

/// Every static finding on the workflow in `source`.
///
/// `name` is the name the workflow is (or will be) saved under, so that a call back to
/// itself through the store is a cycle; `origin` is where it comes from, so that
/// `workflow_ref` paths resolve as they will when it runs. Without a `manager` (no pflow
/// home) there are no saved workflows: every `workflow_name` call is then an error.
pub(crate) fn check(
    source: &WorkflowSource<'_>,
    name: Option<&WorkflowName>,
    origin: &WorkflowOrigin,
    manager: Option<&WorkflowManager>,
) -> Checked {
    let checked = source.validate(Some(&crate::store::node_catalog()));
    let mut diagnostics = checked.diagnostics;
    if let Some(ir) = &checked.ir {
        let empty;
        let manager = match manager {
            Some(manager) => manager,
            None => {
                empty = WorkflowManager::new(Arc::new(MemoryStore::new()));
                &empty
            }
        };
        let mut calls = manager.check_calls(name, ir);
        calls.extend(pflow_exec::check_refs(ir, origin));
        diagnostics.extend(within(source.path_prefix, calls));
    }
    Checked { ir: checked.ir, diagnostics }
}

/// The findings on an IR, with paths relative to the value it sits in (`ir.nodes[0]…`
/// inside a stored document), as [`WorkflowSource::validate`] gives them.
pub(crate) fn within(prefix: &str, diagnostics: Diagnostics) -> Diagnostics {
    if prefix.is_empty() {
        return diagnostics;
    }
    let moved: Vec<Diagnostic> = diagnostics
        .into_iter()
        .map(|d| {
            let path = match d.path.as_str() {
                "" => prefix.to_owned(),
                p if p.starts_with('[') => format!("{prefix}{p}"),
                p => format!("{prefix}.{p}"),
            };
            Diagnostic { path, ..d }
        })
        .collect();
    moved.into()
}
