//! Where a workflow comes from (a saved name, a file, inline), reading `workflow_ref`
//! files, and the static `workflow_ref` cycle check (SPEC §5.4).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use pflow_fsio::read_regular_file_follow;
use pflow_ir::{Diagnostic, Diagnostics, WorkflowIr, WorkflowSource};
use pflow_store::MAX_DOCUMENT_BYTES;
use serde_json::Value;

/// Where the workflow given to [`Runtime::run`](crate::Runtime::run) came from.
///
/// It names the workflow in cycle chains (`a -> b -> a`) and decides what a relative
/// `workflow_ref` is relative to: the directory of a file, else the current directory.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WorkflowOrigin {
    /// A saved workflow, by name.
    Saved(String),
    /// A JSON file holding a bare IR or a stored document.
    File(PathBuf),
    /// Anything else: standard input, an IR built in code.
    Inline,
}

impl WorkflowOrigin {
    /// The identity of this workflow in a chain of nested runs.
    pub(crate) fn identity(&self) -> Identity {
        match self {
            WorkflowOrigin::Saved(name) => Identity::Saved(name.clone()),
            WorkflowOrigin::File(path) => Identity::file(path),
            WorkflowOrigin::Inline => Identity::Inline,
        }
    }

    /// The directory relative `workflow_ref`s are resolved against.
    pub(crate) fn base_dir(&self) -> Option<PathBuf> {
        match self {
            WorkflowOrigin::File(path) => parent_dir(path),
            WorkflowOrigin::Saved(_) | WorkflowOrigin::Inline => None,
        }
    }
}

/// One workflow in a chain of nested runs.
#[derive(Debug, Clone)]
pub(crate) enum Identity {
    /// A saved workflow.
    Saved(String),
    /// A file: `shown` as the reference wrote it, `key` canonical for comparison.
    File { shown: PathBuf, key: PathBuf },
    /// An inline workflow (or one read from stdin): never the same as another.
    Inline,
}

impl Identity {
    /// The identity of the file at `path`.
    pub(crate) fn file(path: &Path) -> Identity {
        Identity::File { shown: path.to_path_buf(), key: file_key(path) }
    }

    /// Whether both name the same workflow.
    pub(crate) fn same(&self, other: &Identity) -> bool {
        match (self, other) {
            (Identity::Saved(a), Identity::Saved(b)) => a == b,
            (Identity::File { key: a, .. }, Identity::File { key: b, .. }) => a == b,
            _ => false,
        }
    }

    /// How a chain prints it.
    pub(crate) fn label(&self) -> String {
        match self {
            Identity::Saved(name) => name.clone(),
            Identity::File { shown, .. } => shown.display().to_string(),
            Identity::Inline => "(inline workflow)".to_owned(),
        }
    }
}

/// What makes two paths the same file: the canonical path, else the absolute one.
fn file_key(path: &Path) -> PathBuf {
    std::fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

/// The chain `a -> b -> a` when `next` is already in `stack`.
pub(crate) fn cycle_chain(stack: &[Identity], next: &Identity) -> Option<String> {
    let first = stack.iter().position(|s| s.same(next))?;
    let mut labels: Vec<String> = stack[first..].iter().map(Identity::label).collect();
    labels.push(next.label());
    Some(labels.join(" -> "))
}

/// Where a `workflow_ref` points: relative to `base_dir` when given, else as written
/// (relative to the current directory).
pub(crate) fn resolve_ref(base_dir: Option<&Path>, reference: &str) -> PathBuf {
    let path = Path::new(reference);
    match base_dir {
        Some(base) if path.is_relative() => base.join(path),
        _ => path.to_path_buf(),
    }
}

/// The directory of a workflow file, for resolving the references inside it.
pub(crate) fn parent_dir(path: &Path) -> Option<PathBuf> {
    path.parent().filter(|p| !p.as_os_str().is_empty()).map(Path::to_path_buf)
}

/// Reads a workflow file: JSON holding a bare IR or a stored document (see
/// [`WorkflowSource`]).
///
/// The file is read like every file pflow is handed: only a regular file (symbolic links
/// followed), at most [`MAX_DOCUMENT_BYTES`], JSON nesting bounded.
pub(crate) fn load_workflow_file(path: &Path) -> Result<Value, String> {
    let bytes = read_regular_file_follow(path, MAX_DOCUMENT_BYTES)
        .map_err(|e| format!("cannot read `{}`: {}", path.display(), full_message(&e)))?;
    let value = pflow_ir::parse_json(&bytes)
        .map_err(|e| format!("`{}` is not valid JSON: {e}", path.display()))?;
    Ok(value)
}

/// Follows every literal `workflow_ref` of `ir` through the files it names (and through
/// inline `workflow_ir` children) and reports, at the referencing param, each reference
/// that closes a cycle (`a.json -> b.json -> a.json`) and each file at the top level that
/// cannot be read.
///
/// References through `workflow_name` are the store's business
/// ([`WorkflowManager::check_calls`](pflow_store::WorkflowManager::check_calls)); a cycle
/// that mixes names and files is caught when it runs. A reference that holds a template
/// is only known at run time and is skipped.
pub fn check_refs(ir: &WorkflowIr, origin: &WorkflowOrigin) -> Diagnostics {
    let mut walker = RefWalker { done: HashSet::new(), diagnostics: Diagnostics::new() };
    let mut stack = vec![origin.identity()];
    let base = origin.base_dir();
    // At the top level every finding becomes a diagnostic; nothing is returned.
    let _ = walker.visit(ir, base.as_deref(), &mut stack, Some(""));
    walker.diagnostics
}

/// A depth-first walk over `workflow_ref` files.
struct RefWalker {
    /// Files fully explored without finding a cycle.
    done: HashSet<PathBuf>,
    diagnostics: Diagnostics,
}

impl RefWalker {
    /// Visits the nested workflow nodes of `ir`. With `report` (the JSON path prefix of
    /// `ir` in the workflow being checked), findings become diagnostics; without, the
    /// first cycle found is returned as its chain.
    fn visit(
        &mut self,
        ir: &WorkflowIr,
        base: Option<&Path>,
        stack: &mut Vec<Identity>,
        report: Option<&str>,
    ) -> Result<(), String> {
        for (index, node) in ir.nodes.iter().enumerate() {
            if node.ty != "workflow" {
                continue;
            }
            let here = report.map(|prefix| format!("{prefix}nodes[{index}].params"));
            if let Some(Value::String(reference)) = node.params.get("workflow_ref")
                && !reference.contains('$')
            {
                let path = resolve_ref(base, reference);
                match (self.follow(&path, stack), &here) {
                    (Ok(()), _) => {}
                    (Err(Finding::Cycle(chain)), Some(here)) => {
                        self.diagnostics.push(
                            Diagnostic::error(
                                format!("{here}.workflow_ref"),
                                format!("workflow call cycle: {chain}"),
                            )
                            .with_hint("a workflow cannot call itself, directly or through others"),
                        );
                    }
                    (Err(Finding::Cycle(chain)), None) => return Err(chain),
                    (Err(Finding::Unreadable(message)), Some(here)) => {
                        self.diagnostics.push(
                            Diagnostic::error(format!("{here}.workflow_ref"), message).with_hint(
                                "a relative `workflow_ref` is resolved against the directory \
                                 of the file that holds it",
                            ),
                        );
                    }
                    // A broken file deeper down is reported when the workflow holding it
                    // is checked or run.
                    (Err(Finding::Unreadable(_)), None) => {}
                }
            }
            if let Some(inline @ Value::Object(_)) = node.params.get("workflow_ir")
                && let Ok(child) = serde_json::from_value::<WorkflowIr>(inline.clone())
            {
                let prefix = here.as_ref().map(|h| format!("{h}.workflow_ir."));
                self.visit(&child, base, stack, prefix.as_deref())?;
            }
        }
        Ok(())
    }

    /// Follows the file at `path`.
    fn follow(&mut self, path: &Path, stack: &mut Vec<Identity>) -> Result<(), Finding> {
        let key = file_key(path);
        let identity = Identity::File { shown: path.to_path_buf(), key: key.clone() };
        if let Some(chain) = cycle_chain(stack, &identity) {
            return Err(Finding::Cycle(chain));
        }
        if self.done.contains(&key) {
            return Ok(());
        }
        let value = load_workflow_file(path).map_err(Finding::Unreadable)?;
        let source = WorkflowSource::from_value(&value);
        let child: WorkflowIr = serde_json::from_value(source.ir.clone()).map_err(|e| {
            Finding::Unreadable(format!("`{}` is not a workflow: {e}", path.display()))
        })?;
        stack.push(identity);
        let result = self.visit(&child, parent_dir(path).as_deref(), stack, None);
        stack.pop();
        result.map_err(Finding::Cycle)?;
        self.done.insert(key);
        Ok(())
    }
}

enum Finding {
    Cycle(String),
    Unreadable(String),
}

/// An error and its causes on one line (`not valid JSON: expected value at line 1`).
pub(crate) fn full_message(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
