//! Where a workflow comes from, what its relative `workflow_ref`s are relative to, and the
//! one walk of the call graph: through saved workflows (`workflow_name`), workflow files
//! (`workflow_ref`) and inline children (`workflow_ir`), in any mix (SPEC §5.4).
//!
//! The walk is what makes a call cycle impossible to store: the manager runs it for
//! every check a person asks for (`validate`, `run`), and again inside the transaction
//! that writes a new revision, so two concurrent saves can never close a cycle between
//! them.
//!
//! # Anchoring `workflow_ref`
//!
//! A relative `workflow_ref` is relative to the directory of the file that holds it; in a
//! workflow read from stdin or built in code, to the current directory. A saved workflow
//! has no file, so it has nothing to be relative to: a relative `workflow_ref` is refused
//! when a workflow is saved, and fails (the same way from every directory) when an older
//! saved workflow that holds one runs. An absolute path, or a saved workflow called by
//! `workflow_name`, runs the same from anywhere.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use pflow_ir::{Diagnostic, WorkflowIr, WorkflowName, WorkflowSource};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::{StoreError, StoreResult};

/// Where a workflow to check or run came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// A saved workflow, by name.
    Saved(WorkflowName),
    /// A JSON file holding a bare IR or a stored document.
    File(PathBuf),
    /// Anything else: standard input, an IR built in code.
    Inline,
}

impl Origin {
    /// What the workflow's relative `workflow_ref`s are relative to.
    pub fn anchor(&self) -> Anchor {
        match self {
            Origin::Saved(name) => Anchor::Saved(name.clone()),
            Origin::File(path) => Anchor::of_file(path),
            Origin::Inline => Anchor::WorkingDir,
        }
    }

    /// The workflow's identity in a chain of calls.
    pub fn identity(&self) -> Identity {
        match self {
            Origin::Saved(name) => Identity::Saved(name.clone()),
            Origin::File(path) => Identity::file(path),
            Origin::Inline => Identity::Inline,
        }
    }
}

/// What a relative `workflow_ref` is relative to (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchor {
    /// The directory of the file that holds the reference.
    Dir(PathBuf),
    /// The current directory (a workflow from stdin or built in code).
    WorkingDir,
    /// Nothing: the reference is in the saved workflow of that name.
    Saved(WorkflowName),
}

impl Anchor {
    /// The anchor of the references inside the workflow file at `path`.
    pub fn of_file(path: &Path) -> Anchor {
        match path.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(dir) => Anchor::Dir(dir.to_path_buf()),
            None => Anchor::WorkingDir,
        }
    }

    /// The file `reference` names.
    pub fn resolve(&self, reference: &str) -> Result<PathBuf, RelativeRefError> {
        let path = Path::new(reference);
        if path.is_absolute() {
            return Ok(path.to_path_buf());
        }
        match self {
            Anchor::Dir(dir) => Ok(dir.join(path)),
            Anchor::WorkingDir => Ok(path.to_path_buf()),
            Anchor::Saved(workflow) => Err(RelativeRefError {
                workflow: workflow.clone(),
                reference: reference.to_owned(),
            }),
        }
    }
}

/// A relative `workflow_ref` in a saved workflow, which has no directory for it to be
/// relative to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "saved workflow `{workflow}` names the file `{reference}` by a relative path, which a saved \
     workflow has no directory to resolve against"
)]
pub struct RelativeRefError {
    /// The saved workflow holding the reference.
    pub workflow: WorkflowName,
    /// The reference as written.
    pub reference: String,
}

/// One workflow in a chain of calls.
#[derive(Debug, Clone)]
pub enum Identity {
    /// A saved workflow.
    Saved(WorkflowName),
    /// A file: `shown` as the reference wrote it, `key` canonical for comparison.
    File {
        /// The path as it was written (resolved against its anchor).
        shown: PathBuf,
        /// The canonical path, else the absolute one.
        key: PathBuf,
    },
    /// An inline workflow (or one read from stdin): never the same as another.
    Inline,
}

impl Identity {
    /// The identity of the file at `path`.
    pub fn file(path: &Path) -> Identity {
        let key = std::fs::canonicalize(path)
            .or_else(|_| std::path::absolute(path))
            .unwrap_or_else(|_| path.to_path_buf());
        Identity::File { shown: path.to_path_buf(), key }
    }

    /// Whether both name the same workflow.
    pub fn same(&self, other: &Identity) -> bool {
        match (self, other) {
            (Identity::Saved(a), Identity::Saved(b)) => a == b,
            (Identity::File { key: a, .. }, Identity::File { key: b, .. }) => a == b,
            _ => false,
        }
    }

    /// The chain `a -> b -> a` when `next` is already in `stack`.
    pub fn cycle_in(stack: &[Identity], next: &Identity) -> Option<String> {
        let first = stack.iter().position(|s| s.same(next))?;
        let mut labels: Vec<String> = stack[first..].iter().map(ToString::to_string).collect();
        labels.push(next.to_string());
        Some(labels.join(" -> "))
    }
}

impl fmt::Display for Identity {
    /// How a chain prints it: the name, the path, or `(inline workflow)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identity::Saved(name) => f.write_str(name.as_str()),
            Identity::File { shown, .. } => write!(f, "{}", shown.display()),
            Identity::Inline => f.write_str("(inline workflow)"),
        }
    }
}

/// Saved workflows as a walk of the call graph sees them: through the store outside a
/// transaction, through the transaction inside one.
pub(crate) trait Lookup {
    /// The IR of the saved workflow `name`; `None` when there is none.
    fn saved(&mut self, name: &WorkflowName) -> StoreResult<Option<WorkflowIr>>;

    /// Every saved name, for suggestions.
    fn names(&mut self) -> Vec<WorkflowName>;
}

/// What is wrong with one call site of the workflow being checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CallFinding {
    /// Following it comes back to a workflow on the way: the chain `a -> b -> a`.
    Cycle(String),
    /// It calls a saved workflow that does not exist.
    Missing(WorkflowName, Vec<WorkflowName>),
    /// What it calls cannot be read, or is no workflow.
    Unreadable(String),
    /// A relative `workflow_ref` in a workflow that is (or will be) saved.
    Relative(RelativeRefError),
}

impl CallFinding {
    /// The finding as a validation error at `path`.
    pub(crate) fn at(self, path: &str) -> Diagnostic {
        match self {
            CallFinding::Cycle(chain) => {
                Diagnostic::error(path, format!("workflow call cycle: {chain}"))
                    .with_hint("a workflow cannot call itself, directly or through others")
            }
            CallFinding::Missing(name, suggestions) => {
                let d = Diagnostic::error(path, format!("saved workflow `{name}` not found"));
                match suggestions.first() {
                    Some(s) => d.with_hint(format!("did you mean `{s}`?")),
                    None => d.with_hint(format!("save `{name}` first, or fix the name")),
                }
            }
            CallFinding::Unreadable(message) => Diagnostic::error(path, message).with_hint(
                "a relative `workflow_ref` is resolved against the directory of the file that \
                 holds it",
            ),
            CallFinding::Relative(e) => Diagnostic::error(
                path,
                format!(
                    "a saved workflow cannot name a file by a relative path (`{}`)",
                    e.reference
                ),
            )
            .with_hint(
                "save that workflow too and call it with `workflow_name`, or give an absolute path",
            ),
        }
    }
}

/// How a cycle chain shows a step through an inline `workflow_ir`.
const INLINE: &str = "(inline)";

/// How many inline `workflow_ir`s deep calls are looked for: a valid IR cannot nest
/// deeper (each inline level costs four levels of JSON).
const MAX_INLINE_DEPTH: usize = pflow_ir::MAX_IR_DEPTH / 4;

/// Checks every call `ir` makes: each saved workflow it calls must exist, each file it
/// references must be readable (a relative reference must have an anchor), and following
/// the calls — through saved workflows, files and inline children — must never come back
/// to one of `roots` (the identities of the workflow being checked) or loop elsewhere.
///
/// With `saved_as` (the workflow is about to be saved under that name), every relative
/// `workflow_ref` of `ir` itself is a finding too, since a saved workflow has nothing to
/// resolve it against; it is still followed from `anchor` when that is a directory, so
/// that a cycle through it is reported as well.
///
/// Returns each finding with the path of the param it is about, in document order. Each
/// saved workflow and file is read at most once. Problems deeper in the graph (a missing
/// callee of a callee) belong to the workflow that has them and are not reported; only a
/// cycle is, since it makes this workflow unrunnable.
pub(crate) fn check_calls(
    lookup: &mut dyn Lookup,
    ir: &WorkflowIr,
    roots: Vec<Identity>,
    anchor: &Anchor,
    saved_as: Option<&WorkflowName>,
) -> Vec<(String, CallFinding)> {
    let mut walk =
        Walk { lookup, done: HashSet::new(), stack: roots, findings: Vec::new(), saved_as };
    let root_label =
        walk.stack.first().map_or_else(|| "(this workflow)".to_owned(), |i| i.to_string());
    let mut chain = vec![root_label];
    let _ = walk.visit(ir, anchor, &mut chain, true);
    walk.findings
}

/// One call of another workflow, found in an IR or in one of its inline children.
struct Site<'ir> {
    /// The path of the param that makes the call.
    path: String,
    /// What is called.
    target: Target<'ir>,
    /// How many inline `workflow_ir`s the calling node is inside.
    inline_depth: usize,
}

enum Target<'ir> {
    Name(&'ir str),
    File(&'ir str),
}

/// Every call site of `ir`, in document order, inline children included.
fn sites(ir: &WorkflowIr) -> Vec<Site<'_>> {
    let mut sites = Vec::new();
    for (index, node) in ir.nodes.iter().enumerate() {
        sites_of_node(&node.ty, &node.params, &format!("nodes[{index}]"), 0, &mut sites);
    }
    sites
}

fn sites_of_node<'ir>(
    ty: &str,
    params: &'ir Map<String, Value>,
    path: &str,
    inline_depth: usize,
    sites: &mut Vec<Site<'ir>>,
) {
    if ty != "workflow" {
        return;
    }
    for (key, make) in [
        ("workflow_name", Target::Name as fn(&'ir str) -> Target<'ir>),
        ("workflow_ref", Target::File),
    ] {
        // A reference that holds a template is only known at run time.
        if let Some(Value::String(target)) = params.get(key)
            && !target.contains('$')
        {
            let path = format!("{path}.params.{key}");
            sites.push(Site { path, target: make(target), inline_depth });
        }
    }
    if inline_depth >= MAX_INLINE_DEPTH {
        return;
    }
    let Some(Value::Array(nodes)) = params.get("workflow_ir").and_then(|ir| ir.get("nodes")) else {
        return;
    };
    for (index, node) in nodes.iter().enumerate() {
        if let (Some(Value::String(ty)), Some(Value::Object(params))) =
            (node.get("type"), node.get("params"))
        {
            let path = format!("{path}.params.workflow_ir.nodes[{index}]");
            sites_of_node(ty, params, &path, inline_depth + 1, sites);
        }
    }
}

/// A depth-first walk of the call graph.
struct Walk<'l> {
    lookup: &'l mut dyn Lookup,
    /// Workflows whose calls were all followed without finding a cycle: nothing below
    /// them can loop (a loop through one would have been found then), so they are not
    /// read again.
    done: HashSet<Key>,
    /// The workflow being checked (its identities), then each workflow on the way down.
    stack: Vec<Identity>,
    /// The findings at the top level.
    findings: Vec<(String, CallFinding)>,
    /// The name the workflow being checked is about to be saved under.
    saved_as: Option<&'l WorkflowName>,
}

/// What the memo knows a workflow by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Saved(WorkflowName),
    File(PathBuf),
}

impl Walk<'_> {
    /// Visits every call site of `ir` (anchored at `anchor`), `chain` being the labels of
    /// the workflows above it. At the top level every finding is recorded and the walk
    /// goes on; deeper, the first cycle is returned as its chain.
    fn visit(
        &mut self,
        ir: &WorkflowIr,
        anchor: &Anchor,
        chain: &mut Vec<String>,
        top: bool,
    ) -> Result<(), String> {
        for site in sites(ir) {
            if top
                && let (Some(workflow), Target::File(reference)) = (self.saved_as, &site.target)
                && Path::new(reference).is_relative()
                && !matches!(anchor, Anchor::Saved(_))
            {
                let relative = RelativeRefError {
                    workflow: workflow.clone(),
                    reference: (*reference).to_owned(),
                };
                self.findings.push((site.path.clone(), CallFinding::Relative(relative)));
            }
            let depth = chain.len();
            chain.extend(std::iter::repeat_n(INLINE.to_owned(), site.inline_depth));
            let result = self.follow(&site.target, anchor, chain, top);
            chain.truncate(depth);
            match result {
                Ok(()) => {}
                Err(finding) if top => self.findings.push((site.path, finding)),
                Err(CallFinding::Cycle(cycle)) => return Err(cycle),
                // Problems deeper in the graph belong to the workflow that has them.
                Err(_) => {}
            }
        }
        Ok(())
    }

    /// Follows one call; `direct` when the workflow being checked makes it.
    fn follow(
        &mut self,
        target: &Target<'_>,
        anchor: &Anchor,
        chain: &mut Vec<String>,
        direct: bool,
    ) -> Result<(), CallFinding> {
        let (identity, key) = match target {
            Target::Name(name) => {
                // An invalid name is a validation finding of its own.
                let Ok(name) = WorkflowName::new(name) else { return Ok(()) };
                (Identity::Saved(name.clone()), Key::Saved(name))
            }
            Target::File(reference) => {
                let path = anchor.resolve(reference).map_err(CallFinding::Relative)?;
                let identity = Identity::file(&path);
                let Identity::File { key, .. } = &identity else { unreachable!("a file") };
                let key = Key::File(key.clone());
                (identity, key)
            }
        };
        if self.stack.iter().any(|s| s.same(&identity)) {
            chain.push(identity.to_string());
            return Err(CallFinding::Cycle(chain.join(" -> ")));
        }
        if self.done.contains(&key) {
            return Ok(());
        }
        let (callee, callee_anchor) = match &identity {
            Identity::Saved(name) => match self.lookup.saved(name) {
                Ok(Some(ir)) => (ir, Anchor::Saved(name.clone())),
                Ok(None) => {
                    let suggestions = if direct { self.suggestions(name) } else { Vec::new() };
                    return Err(CallFinding::Missing(name.clone(), suggestions));
                }
                Err(e) => return Err(CallFinding::Unreadable(unreadable_saved(name, &e))),
            },
            Identity::File { shown, .. } => (read_ir_file(shown)?, Anchor::of_file(shown)),
            Identity::Inline => unreachable!("only names and files are followed"),
        };
        chain.push(identity.to_string());
        self.stack.push(identity);
        let result = self.visit(&callee, &callee_anchor, chain, false);
        self.stack.pop();
        chain.pop();
        result.map_err(CallFinding::Cycle)?;
        self.done.insert(key);
        Ok(())
    }

    /// Saved names close to `name`, best first.
    fn suggestions(&mut self, name: &WorkflowName) -> Vec<WorkflowName> {
        let names = self.lookup.names();
        pflow_ir::closest(name.as_str(), names.iter().map(WorkflowName::as_str))
            .into_iter()
            .filter_map(|s| WorkflowName::new(s).ok())
            .collect()
    }
}

/// The IR in the workflow file at `path` (a bare IR or a stored document).
fn read_ir_file(path: &Path) -> Result<WorkflowIr, CallFinding> {
    let file =
        crate::read_workflow_file(path).map_err(|e| CallFinding::Unreadable(one_line(&e)))?;
    let source = WorkflowSource::from_value(&file.value);
    WorkflowIr::deserialize(source.ir).map_err(|e| {
        CallFinding::Unreadable(format!("`{}` is not a workflow: {e}", path.display()))
    })
}

fn unreadable_saved(name: &WorkflowName, error: &StoreError) -> String {
    format!("saved workflow `{name}` cannot be read: {}", one_line(error))
}

/// An error and its causes on one line (`cannot read `x`: not a regular file (a FIFO)`).
pub fn one_line(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
