//! Validation of a workflow IR (SPEC §3.1): every problem at once, each with its JSON path.
//!
//! Validation works on the JSON value rather than on [`WorkflowIr`], so that a wrong type
//! or an unknown field is one more finding with a path instead of a serde error that hides
//! everything else. The passes:
//!
//! 1. [`shape`] reads the value into a lenient view, reporting missing fields, wrong
//!    types and unknown fields;
//! 2. [`structure`] checks ids, edges, the start node, cycles and reachability;
//! 3. [`nodes`] checks node types and parameters against the catalog, and the nested
//!    `workflow` node (an inline `workflow_ir` is validated recursively);
//! 4. [`code`] checks a `code` node's Python against its `inputs` (0.16's static checks);
//! 5. [`templates`] checks every template in `params` and in output sources.
//!
//! Findings are sorted by section (root, `ir_version`, `inputs`, `outputs`, `nodes`,
//! `edges`, `start_node`) and element (input, output, node or edge position), keeping the
//! order of the passes within one element, so the output is stable and grouped.

mod code;
mod fields;
mod nodes;
mod shape;
mod source;
mod structure;
mod templates;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Diagnostic, Diagnostics, MAX_IR_DEPTH, MAX_JSON_DEPTH, NodeCatalog, WorkflowIr};

pub use nodes::MAX_WORKFLOW_DEPTH;
pub use source::WorkflowSource;

/// The findings of validating a workflow, and the IR when its shape was right.
///
/// The only way to a [`ValidIr`]: [`Checked::into_valid`] gives one when no finding is an
/// error. Later, store-aware passes may [`add`](Checked::add) findings, never remove them.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    ir: Option<WorkflowIr>,
    diagnostics: Diagnostics,
}

impl Checked {
    /// The typed IR, when the shape was right (it may still have errors).
    pub fn ir(&self) -> Option<&WorkflowIr> {
        self.ir.as_ref()
    }

    /// Every finding, errors and warnings.
    pub fn diagnostics(&self) -> &Diagnostics {
        &self.diagnostics
    }

    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.has_errors()
    }

    /// Adds findings of a later pass (calls to saved workflows, files).
    pub fn add(&mut self, findings: impl IntoIterator<Item = Diagnostic>) {
        self.diagnostics.extend(findings);
    }

    /// The same findings with every path moved under `prefix` (`ir` for the IR inside a
    /// stored document).
    pub fn within(mut self, prefix: &str) -> Checked {
        self.diagnostics = self.diagnostics.within(prefix);
        self
    }

    /// The same findings, each with the line `line_of` says its path is at
    /// ([`Diagnostics::locate`]).
    pub fn locate(mut self, line_of: impl Fn(&str) -> Option<usize>) -> Checked {
        self.diagnostics = self.diagnostics.locate(line_of);
        self
    }

    /// The valid IR and its warnings, or every finding when one is an error.
    pub fn into_valid(self) -> Result<(ValidIr, Diagnostics), Diagnostics> {
        match self.ir {
            Some(ir) if !self.diagnostics.has_errors() => Ok((ValidIr(ir), self.diagnostics)),
            _ => Err(self.diagnostics),
        }
    }

    /// The valid IR when no finding is an error, and every finding.
    pub fn into_parts(self) -> (Option<ValidIr>, Diagnostics) {
        let valid = if self.diagnostics.has_errors() { None } else { self.ir.map(ValidIr) };
        (valid, self.diagnostics)
    }
}

/// A workflow IR that passed validation: structure, templates and, when validated against
/// a catalog, node types and params.
///
/// Only validation makes one ([`Checked::into_valid`]), so a function that takes a
/// `ValidIr` (the runtime, the store's writes) never sees an IR that was not checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ValidIr(WorkflowIr);

impl ValidIr {
    /// The IR.
    pub fn ir(&self) -> &WorkflowIr {
        &self.0
    }

    /// The IR, giving up the proof that it is valid.
    pub fn into_ir(self) -> WorkflowIr {
        self.0
    }
}

impl std::ops::Deref for ValidIr {
    type Target = WorkflowIr;

    fn deref(&self) -> &WorkflowIr {
        &self.0
    }
}

/// Validates a JSON value as a bare workflow IR.
///
/// With a catalog, node types, parameters and output keys are checked too; without one
/// only what the IR itself says is checked. Never panics, whatever the value.
pub fn validate_value(value: &Value, catalog: Option<&NodeCatalog>) -> Checked {
    // A value built in code can be nested without bound, and every recursive walk (serde's
    // included) must be spared it. The bound is tighter than what parsing allows: a saved
    // document wraps the IR in one more object and must still parse.
    if let Some(path) = first_too_deep(value, MAX_IR_DEPTH) {
        return Checked { ir: None, diagnostics: Diagnostics::from(vec![too_deep(path)]) };
    }
    let mut findings = Findings::default();
    if let Some(view) = shape::read(value, &mut findings) {
        check_view(&view, catalog, &mut findings);
    }
    let mut diagnostics = Diagnostics::from(findings.into_sorted());
    let ir = match WorkflowIr::deserialize(value) {
        Ok(ir) => Some(ir),
        Err(e) => {
            // The shape pass and serde disagree; never let that pass silently.
            if !diagnostics.has_errors() {
                diagnostics.push(Diagnostic::error("", format!("not a workflow: {e}")));
            }
            None
        }
    };
    Checked { ir, diagnostics }
}

/// Validates a typed workflow IR: the same rules and findings as [`validate_value`] on its
/// JSON, without turning it into JSON (the shape is right by construction).
pub fn validate_ir(ir: WorkflowIr, catalog: Option<&NodeCatalog>) -> Checked {
    if let Some(path) = first_too_deep_in(&ir) {
        return Checked { ir: Some(ir), diagnostics: Diagnostics::from(vec![too_deep(path)]) };
    }
    let mut findings = Findings::default();
    let view = shape::view(&ir, &mut findings);
    check_view(&view, catalog, &mut findings);
    let diagnostics = Diagnostics::from(findings.into_sorted());
    Checked { ir: Some(ir), diagnostics }
}

/// The finding for a workflow nested deeper than [`MAX_IR_DEPTH`], at `path`.
fn too_deep(path: String) -> Diagnostic {
    Diagnostic::error(path, format!("the workflow is nested more than {MAX_IR_DEPTH} levels deep"))
        .with_hint(format!(
            "JSON is read back to {MAX_JSON_DEPTH} levels, and a saved workflow adds one"
        ))
}

/// The path of the first value of a typed IR nested deeper than [`MAX_IR_DEPTH`]: only
/// input defaults and params hold free-form JSON (four levels below the root for params:
/// the root, `nodes`, the node and `params`; three for a default).
fn first_too_deep_in(ir: &WorkflowIr) -> Option<String> {
    for (name, spec) in &ir.inputs {
        if let Some(default) = &spec.default
            && let Some(path) = first_too_deep(default, MAX_IR_DEPTH - 3)
        {
            let at = key_path(&key_path("inputs", name), "default");
            return Some(join_path(&at, &path));
        }
    }
    for (index, node) in ir.nodes.iter().enumerate() {
        // `batch.items` sits one level below the node, like `params`.
        if let Some(batch) = &node.batch
            && let Some(path) = first_too_deep(&batch.items, MAX_IR_DEPTH - 4)
        {
            let at = key_path(&key_path(&index_path("nodes", index), "batch"), "items");
            return Some(join_path(&at, &path));
        }
        for (key, value) in &node.params {
            if let Some(path) = first_too_deep(value, MAX_IR_DEPTH - 4) {
                let at = key_path(&key_path(&index_path("nodes", index), "params"), key);
                return Some(join_path(&at, &path));
            }
        }
    }
    None
}

/// The saved workflows an IR calls by `workflow_name`, in node order, without repeats;
/// calls inside inline `workflow_ir`s count (see [`workflow_call_sites`]).
pub fn workflow_calls(ir: &WorkflowIr) -> Vec<String> {
    let mut calls: Vec<String> = Vec::new();
    for call in workflow_call_sites(ir) {
        if !calls.contains(&call.name) {
            calls.push(call.name);
        }
    }
    calls
}

/// A call of a saved workflow by `workflow_name`, at the top level of an IR or inside its
/// inline `workflow_ir`s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowCall {
    /// The saved workflow called.
    pub name: String,
    /// The path of the `workflow_name` param, e.g.
    /// `nodes[0].params.workflow_ir.nodes[1].params.workflow_name`.
    pub path: String,
    /// How many inline `workflow_ir`s the calling node is inside (0 at the top level).
    pub inline_depth: usize,
}

/// How many inline `workflow_ir`s deep calls are looked for. Each inline level costs four
/// levels of JSON (`workflow_ir`, `nodes`, the node, `params`), so a deeper call is in an
/// IR that cannot validate.
const MAX_INLINE_DEPTH: usize = MAX_IR_DEPTH / 4;

/// Every call of a saved workflow by `workflow_name` in `ir`, in document order, inline
/// `workflow_ir`s included (down to the depth that validation allows).
pub fn workflow_call_sites(ir: &WorkflowIr) -> Vec<WorkflowCall> {
    let mut calls = Vec::new();
    for (index, node) in ir.nodes.iter().enumerate() {
        calls_in_node(&node.ty, &node.params, &index_path("nodes", index), 0, &mut calls);
    }
    calls
}

/// Adds the calls of one node (and of the nodes of its inline `workflow_ir`) to `calls`.
fn calls_in_node(
    ty: &str,
    params: &serde_json::Map<String, Value>,
    path: &str,
    inline_depth: usize,
    calls: &mut Vec<WorkflowCall>,
) {
    if ty != "workflow" {
        return;
    }
    let params_path = join_path(path, "params");
    if let Some(Value::String(name)) = params.get("workflow_name") {
        let path = join_path(&params_path, "workflow_name");
        calls.push(WorkflowCall { name: name.clone(), path, inline_depth });
    }
    if inline_depth >= MAX_INLINE_DEPTH {
        return;
    }
    let Some(Value::Array(nodes)) = params.get("workflow_ir").and_then(|ir| ir.get("nodes")) else {
        return;
    };
    let nodes_path = join_path(&params_path, "workflow_ir.nodes");
    for (index, node) in nodes.iter().enumerate() {
        if let (Some(Value::String(ty)), Some(Value::Object(params))) =
            (node.get("type"), node.get("params"))
        {
            let path = index_path(&nodes_path, index);
            calls_in_node(ty, params, &path, inline_depth + 1, calls);
        }
    }
}

/// Joins a path prefix and a path found below it (`ir` + `nodes[0]` = `ir.nodes[0]`).
pub(crate) fn join_path(prefix: &str, path: &str) -> String {
    match (prefix.is_empty(), path.is_empty()) {
        (true, _) => path.to_owned(),
        (false, true) => prefix.to_owned(),
        (false, false) if path.starts_with('[') => format!("{prefix}{path}"),
        (false, false) => format!("{prefix}.{path}"),
    }
}

/// The sections of an IR, in the order findings are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Section {
    Root,
    Version,
    Inputs,
    Outputs,
    Nodes,
    Edges,
    Start,
}

/// Where a finding is filed for sorting: a section and an element position in it.
type Place = (Section, usize);

/// Collects findings with their place; sorted once at the end.
#[derive(Debug, Default)]
struct Findings {
    found: Vec<(Place, Diagnostic)>,
}

impl Findings {
    fn push(&mut self, place: Place, diagnostic: Diagnostic) {
        self.found.push((place, diagnostic));
    }

    fn into_sorted(mut self) -> Vec<Diagnostic> {
        // A stable sort keeps the order of the passes within one element.
        self.found.sort_by_key(|(place, _)| *place);
        self.found.into_iter().map(|(_, d)| d).collect()
    }
}

/// Runs every pass after the shape pass on `view`.
///
/// Recursion through inline `workflow_ir`s is bounded by the nesting checks of
/// [`validate_value`] and [`validate_ir`]: each inline level costs four levels of JSON.
fn check_view(view: &shape::IrView<'_>, catalog: Option<&NodeCatalog>, findings: &mut Findings) {
    let graph = structure::check(view, findings);
    for node in &view.nodes {
        fields::check(&node.fields, node.id, &node.path, node.place(), findings);
    }
    nodes::check(view, catalog, findings);
    code::check(view, catalog, findings);
    templates::check(view, &graph, catalog, findings);
}

/// Every finding for `value`, sorted (the passes of [`validate_value`] without the
/// nesting check, which the caller made).
fn check_value(value: &Value, catalog: Option<&NodeCatalog>) -> Vec<Diagnostic> {
    let mut findings = Findings::default();
    if let Some(view) = shape::read(value, &mut findings) {
        check_view(&view, catalog, &mut findings);
    }
    findings.into_sorted()
}

/// A path one key below `parent`; keys that are not plain names are quoted
/// (`inputs["my file"]`).
fn key_path(parent: &str, key: &str) -> String {
    let plain = key.bytes().next().is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && key.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
    if plain {
        join_path(parent, key)
    } else {
        let quoted = serde_json::to_string(key).expect("a string always serializes");
        format!("{parent}[{quoted}]")
    }
}

/// A path one index below `parent`.
fn index_path(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

/// `did you mean `x`?` for the closest candidate, when there is one.
fn did_you_mean<'a>(target: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    crate::closest(target, candidates).first().map(|best| format!("did you mean `{best}`?"))
}

/// A list of names for a message: `` `a`, `b`, `c` ``.
fn quoted_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names.into_iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

/// Whether `id` is a valid node id: `^[A-Za-z_][A-Za-z0-9_-]*$`.
fn is_valid_id(id: &str) -> bool {
    id.bytes().next().is_some_and(crate::template::is_name_start)
        && id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

/// The path of the first array or object in `value` that is nested more than `limit`
/// levels deep (the root is level one), found without recursion.
fn first_too_deep(value: &Value, limit: usize) -> Option<String> {
    // One iterator per open container, and the step taken out of each into the current
    // value: at most `limit` of each, however deep the value.
    let mut open: Vec<Children<'_>> = Vec::new();
    let mut trail: Vec<Step<'_>> = Vec::new();
    let mut current = value;
    loop {
        if let Some(children) = Children::of(current) {
            if open.len() == limit {
                return Some(trail.iter().fold(String::new(), |path, step| match step {
                    Step::Index(i) => index_path(&path, *i),
                    Step::Key(k) => key_path(&path, k),
                }));
            }
            open.push(children);
        }
        // Move to the next child of the innermost container that has one left.
        loop {
            if trail.len() == open.len() {
                trail.pop();
            }
            let top = open.last_mut()?;
            match top.next() {
                Some((step, child)) => {
                    trail.push(step);
                    current = child;
                    break;
                }
                None => {
                    open.pop();
                }
            }
        }
    }
}

/// One step down into an array or object.
enum Step<'v> {
    Index(usize),
    Key(&'v str),
}

/// The children of an array or object not yet visited.
enum Children<'v> {
    Array(std::iter::Enumerate<std::slice::Iter<'v, Value>>),
    Object(serde_json::map::Iter<'v>),
}

impl<'v> Children<'v> {
    fn of(value: &'v Value) -> Option<Children<'v>> {
        match value {
            Value::Array(items) => Some(Children::Array(items.iter().enumerate())),
            Value::Object(map) => Some(Children::Object(map.iter())),
            _ => None,
        }
    }

    fn next(&mut self) -> Option<(Step<'v>, &'v Value)> {
        match self {
            Children::Array(items) => items.next().map(|(i, v)| (Step::Index(i), v)),
            Children::Object(map) => map.next().map(|(k, v)| (Step::Key(k.as_str()), v)),
        }
    }
}
