//! The template pass (SPEC §3.2): every template in `params` and in output sources is
//! parsed and its references checked statically.
//!
//! Templates inside a top-level `params.workflow_ir` belong to the child workflow and are
//! checked when the child is validated, never in the parent's scope.

use std::collections::HashMap;

use serde_json::Value;

use super::nodes::WORKFLOW_TYPE;
use super::shape::{InputView, IrView, NodeView};
use super::structure::Graph;
use super::{Findings, Place, Section, did_you_mean, index_path, key_path, quoted_list};
use crate::template::{PathStep, Template, TemplateRef, parse_template};
use crate::{
    BATCH_OUTPUTS, Diagnostic, INDEX_ROOT, ITERATION_ROOT, LOOP_STOPPED, MAX_IR_DEPTH, NodeCatalog,
    ValueType,
};

/// Runs the template checks.
pub(super) fn check(
    ir: &IrView<'_>,
    graph: &Graph<'_>,
    catalog: Option<&NodeCatalog>,
    findings: &mut Findings,
) {
    let mut checker = Checker {
        ir,
        graph,
        catalog,
        inputs: ir.inputs.iter().map(|i| (i.name, i)).collect(),
        ancestry: HashMap::new(),
        findings,
    };
    for node in &ir.nodes {
        // The names a batch or a loop binds, visible in this node's params only.
        let mut extra: Vec<&str> = Vec::new();
        if let Some(batch) = &node.fields.batch {
            extra.extend([batch.item_name(), INDEX_ROOT]);
        }
        if node.fields.loop_config.is_some() {
            extra.push(ITERATION_ROOT);
        }
        let plain = Site {
            node: Some(node),
            place: node.place(),
            is_command: false,
            extra: &[],
            own: false,
        };
        if let Some(batch) = &node.fields.batch {
            checker.walk(&batch.items, &key_path(&node.path, "batch.items"), 0, &plain);
        }
        if let Some(config) = &node.fields.loop_config {
            let path = key_path(&node.path, "loop");
            let own = Site { own: true, ..plain };
            for (key, text) in [("while", &config.while_cond), ("until", &config.until)] {
                if let Some(text) = text {
                    checker.string(text, &key_path(&path, key), &own);
                }
            }
            for (name, text) in config.carry.iter().flatten() {
                checker.string(text, &key_path(&key_path(&path, "carry"), name), &own);
            }
            if let Some(Value::String(text)) = &config.max_iterations {
                checker.string(text, &key_path(&path, "max_iterations"), &plain);
            }
        }
        let Some(params) = node.params else { continue };
        let params_path = key_path(&node.path, "params");
        for (key, value) in params {
            if key == "workflow_ir" {
                continue;
            }
            let at = Site {
                is_command: node.ty == Some("shell") && key == "command",
                extra: &extra,
                ..plain
            };
            checker.walk(value, &key_path(&params_path, key), 0, &at);
        }
    }
    for output in &ir.outputs {
        let Some(source) = output.source else { continue };
        let at = Site {
            node: None,
            place: (Section::Outputs, output.rank),
            is_command: false,
            extra: &[],
            own: false,
        };
        let path = key_path(&output.path, "source");
        let Some(template) = checker.string(source, &path, &at) else { continue };
        let active = template.has_active_refs(|r| checker.is_root(r));
        if !active {
            let first = source.split(['.', '[']).next().unwrap_or_default();
            let hint = if checker.is_root(first) {
                format!("did you mean `${{{source}}}`?")
            } else {
                "write a template such as `${node.key}`".to_owned()
            };
            checker.findings.push(
                at.place,
                Diagnostic::warning(
                    &path,
                    format!(
                        "source `{source}` holds no template, so the output is always this text"
                    ),
                )
                .with_hint(hint),
            );
        }
    }
    if let Some(catalog) = catalog {
        check_implicit_outputs(ir, catalog, checker.findings);
    }
}

/// Where a string sits: the node it belongs to (none for an output source).
#[derive(Clone, Copy)]
struct Site<'a, 'v> {
    node: Option<&'a NodeView<'v>>,
    place: Place,
    /// The `command` of a `shell` node, where interpolation is an injection risk.
    is_command: bool,
    /// The names a batch or a loop binds here (`item`, `__index__`, `__iteration__`).
    extra: &'a [&'a str],
    /// A loop's condition or carried value, which reads the node's own outputs.
    own: bool,
}

struct Checker<'a, 'v> {
    ir: &'a IrView<'v>,
    graph: &'a Graph<'v>,
    catalog: Option<&'a NodeCatalog>,
    inputs: HashMap<&'v str, &'a InputView<'v>>,
    /// (ancestor, node) → whether a path of edges leads from one to the other.
    ancestry: HashMap<(usize, usize), bool>,
    findings: &'a mut Findings,
}

impl<'v> Checker<'_, 'v> {
    fn is_root(&self, name: &str) -> bool {
        self.inputs.contains_key(name) || self.graph.ids.contains_key(name)
    }

    fn root_names(&self) -> impl Iterator<Item = &'v str> + '_ {
        self.ir.inputs.iter().map(|i| i.name).chain(self.graph.ids.keys().copied())
    }

    /// Checks every string inside `value`.
    fn walk(&mut self, value: &Value, path: &str, depth: usize, at: &Site<'_, 'v>) {
        if depth > MAX_IR_DEPTH {
            self.findings.push(
                at.place,
                Diagnostic::error(path, format!("nested more than {MAX_IR_DEPTH} levels deep")),
            );
            return;
        }
        match value {
            Value::String(s) => {
                let at_top = depth == 0;
                if let Some(template) = self.string(s, path, at)
                    && at.is_command
                    && at_top
                {
                    self.check_command(&template, path, at);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.walk(item, &index_path(path, i), depth + 1, at);
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    self.walk(item, &key_path(path, key), depth + 1, at);
                }
            }
            _ => {}
        }
    }

    /// Parses and checks one string; gives the template when it parsed.
    fn string(&mut self, text: &str, path: &str, at: &Site<'_, 'v>) -> Option<Template> {
        if !text.contains('$') {
            return None;
        }
        let template = match parse_template(text) {
            Ok(t) => t,
            Err(e) => {
                self.findings
                    .push(at.place, Diagnostic::error(path, e.to_string()).with_hint(e.hint()));
                return None;
            }
        };
        for r in template.refs() {
            for one in r.all_refs() {
                self.reference(one, path, at);
            }
        }
        Some(template)
    }

    fn reference(&mut self, r: &TemplateRef, path: &str, at: &Site<'_, 'v>) {
        if r.braced && at.extra.contains(&r.root.as_str()) {
            return;
        }
        if r.braced && (r.root == INDEX_ROOT || r.root == ITERATION_ROOT) {
            let field = if r.root == INDEX_ROOT { "batch" } else { "loop" };
            self.findings.push(
                at.place,
                Diagnostic::error(
                    path,
                    format!("`{r}` is bound only inside a node with `{field}`"),
                )
                .with_hint(format!("move it into the params of the node that has `{field}`")),
            );
            return;
        }
        let input = self.inputs.get(r.root.as_str()).copied();
        let node = self.graph.ids.get(r.root.as_str()).copied();
        match (input, node) {
            (Some(input), _) => self.input_reference(r, input, path, at),
            (None, Some(node)) => self.node_reference(r, node, path, at),
            (None, None) if r.braced => {
                let d = Diagnostic::error(
                    path,
                    format!("`{r}` refers to `{}`, which is not an input or a node id", r.root),
                );
                let d = match did_you_mean(&r.root, self.root_names()) {
                    Some(hint) => d.with_hint(hint),
                    None => d.with_hint(format!(
                        "declare `{}` under `inputs`, or refer to a node id",
                        r.root
                    )),
                };
                self.findings.push(at.place, d);
            }
            (None, None) => {
                if let Some(near) = near_miss(&r.root, self.root_names()) {
                    self.findings.push(
                        at.place,
                        Diagnostic::warning(
                            path,
                            format!(
                                "`${}` is not an input or a node id, so it stays literal text",
                                r.root
                            ),
                        )
                        .with_hint(format!(
                            "did you mean `${near}`? write `$${}` for a literal `$`",
                            r.root
                        )),
                    );
                }
            }
        }
    }

    fn input_reference(
        &mut self,
        r: &TemplateRef,
        input: &InputView<'_>,
        path: &str,
        at: &Site<'_, 'v>,
    ) {
        let (Some(ty), Some(step)) = (input.ty, r.path.first()) else { return };
        let fits = matches!(
            (ty, step),
            (ValueType::Object, PathStep::Key(_))
                | (ValueType::Array, PathStep::Index(_) | PathStep::Dynamic(_))
        );
        if fits {
            return;
        }
        let hint = match step {
            PathStep::Key(_) if !r.braced => format!(
                "a bare `$name` takes `.key` steps: write `${{{}}}{}` to follow it with text",
                r.root,
                &r.text[1 + r.root.len()..]
            ),
            _ => format!("refer to the whole input: `${{{}}}`", r.root),
        };
        self.findings.push(
            at.place,
            Diagnostic::error(
                path,
                format!("`{r}` takes `{step}` of input `{}`, which is {}", r.root, ty.phrase()),
            )
            .with_hint(hint),
        );
    }

    fn node_reference(&mut self, r: &TemplateRef, target: usize, path: &str, at: &Site<'_, 'v>) {
        let target_node = &self.ir.nodes[target];
        // Output sources may read any node; a node may read only nodes that run before it.
        if let Some(node) = at.node {
            if node.index == target && !at.own {
                self.findings.push(
                    at.place,
                    Diagnostic::error(path, format!("`{r}` refers to node `{}` itself", r.root))
                        .with_hint("a node can read only the outputs of nodes that ran before it"),
                );
                return;
            }
            let key = (target, node.index);
            let graph = self.graph;
            let own = node.index == target;
            let is_ancestor =
                *self.ancestry.entry(key).or_insert_with(|| graph.is_ancestor(target, node.index));
            if !is_ancestor && !own {
                let this = node.id.unwrap_or("?");
                self.findings.push(
                    at.place,
                    Diagnostic::error(
                        path,
                        format!("`{r}` refers to node `{}`, which does not run before `{this}`", r.root),
                    )
                    .with_hint(format!(
                        "a node can read only the outputs of nodes that lead to it: add edges from `{}` to `{this}`",
                        r.root
                    )),
                );
                return;
            }
        }
        let key = match r.path.first() {
            None => return,
            Some(PathStep::Key(key)) => key,
            Some(PathStep::Index(_) | PathStep::Dynamic(_)) => {
                self.findings.push(
                    at.place,
                    Diagnostic::error(
                        path,
                        format!("`{r}` indexes node `{}`, whose outputs are an object", r.root),
                    )
                    .with_hint(format!("name an output key: `${{{}.key}}`", r.root)),
                );
                return;
            }
        };
        let Some(ty) = target_node.ty else { return };
        // A batch node's outputs are the batch's, whatever its type; a loop adds one.
        // Its own condition reads a round's outputs, which are the type's.
        if target_node.fields.batch.is_some() && !at.own {
            if !BATCH_OUTPUTS.contains(&key.as_str()) && key != "error" {
                let names = BATCH_OUTPUTS.into_iter().chain(["error"]);
                let d = Diagnostic::error(
                    path,
                    format!("`{r}`: node `{}` runs a batch, which has no output `{key}`", r.root),
                );
                let d = match did_you_mean(key, names.clone()) {
                    Some(hint) => {
                        d.with_hint(format!("{hint} each item's outputs are under `results`"))
                    }
                    None => d.with_hint(format!(
                        "its outputs are {}; each item's are under `results`",
                        quoted_list(names)
                    )),
                };
                self.findings.push(at.place, d);
            }
            return;
        }
        if target_node.fields.loop_config.is_some() && key == LOOP_STOPPED {
            return;
        }
        let Some(spec) = self.catalog.and_then(|c| c.get(ty)) else { return };
        if ty == WORKFLOW_TYPE
            || spec.dynamic_outputs
            || key == "error"
            || spec.output(key).is_some()
        {
            return;
        }
        let names = spec.outputs.iter().map(|o| o.name.as_str()).chain(["error"]);
        let d = Diagnostic::error(
            path,
            format!("`{r}`: node `{}` (`{ty}`) has no output `{key}`", r.root),
        );
        let d = match did_you_mean(key, names.clone()) {
            Some(hint) => d.with_hint(hint),
            None => d.with_hint(format!("its outputs are {}", quoted_list(names))),
        };
        self.findings.push(at.place, d);
    }

    fn check_command(&mut self, template: &Template, path: &str, at: &Site<'_, 'v>) {
        let Some(first) = template.refs().find(|r| r.is_active(|root| self.is_root(root))) else {
            return;
        };
        // `${read.content}` → `READ_CONTENT`: a valid shell variable name.
        let var: String = first
            .prefix(first.path.len())
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' })
            .collect();
        self.findings.push(
            at.place,
            Diagnostic::warning(path, format!("`{first}` is interpolated into a shell command, an injection risk"))
                .with_hint(format!(
                    "pass the value through `env` (\"env\": {{\"{var}\": \"{}\"}}) and write \"${var}\" in the command",
                    braced(first)
                )),
        );
    }
}

/// The braced spelling of a reference, for hints.
fn braced(r: &TemplateRef) -> String {
    if r.braced { r.text.clone() } else { format!("${{{}}}", &r.text[1..]) }
}

/// A known name that `name` (three characters or more) is probably a typo of: at most a
/// quarter of its characters (at least one) edited. Case counts, so the environment variables of a shell command
/// (`$FILE`, passed through `env`) are not taken for inputs (`file`).
fn near_miss<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    // One or two letters (`$x`, `$1`-like shell habits) are too short to call a typo.
    if name.len() < 3 {
        return None;
    }
    let allowed = (name.len() / 4).max(1);
    known
        .map(|k| (strsim::damerau_levenshtein(name, k), k))
        .filter(|(distance, _)| *distance <= allowed)
        .min()
        .map(|(_, k)| k)
}

/// An output without `source` takes the same-named key of the last node's outputs; warn
/// when no node in the workflow can produce that key.
fn check_implicit_outputs(ir: &IrView<'_>, catalog: &NodeCatalog, findings: &mut Findings) {
    for output in ir.outputs.iter().filter(|o| o.source.is_none()) {
        let produced =
            ir.nodes.iter().any(|n| match n.ty.and_then(|t| catalog.get(t).map(|s| (t, s))) {
                None => true, // unknown or missing types are reported elsewhere
                Some((t, spec)) => {
                    t == WORKFLOW_TYPE || spec.dynamic_outputs || spec.output(output.name).is_some()
                }
            });
        if !produced {
            findings.push(
                (Section::Outputs, output.rank),
                Diagnostic::warning(
                    &output.path,
                    format!(
                        "output `{}` has no `source` and no node produces a key `{}`",
                        output.name, output.name
                    ),
                )
                .with_hint("say where it comes from: \"source\": \"${node.key}\""),
            );
        }
    }
}
