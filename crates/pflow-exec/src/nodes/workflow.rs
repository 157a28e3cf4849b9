//! `workflow`: runs another workflow as one node (SPEC §5.4).
//!
//! The child comes from exactly one of `workflow_name` (through the manager),
//! `workflow_ref` (a file) or `workflow_ir` (inline). It runs in a scope of its own: it
//! sees only the inputs `param_mapping` gives it (resolved in the parent's scope, like
//! every param), and only its declared outputs come back.

use pflow_ir::ValueType::{Integer, Object, String as Str};
use pflow_ir::{Diagnostics, NodeSpec, ValidIr, WorkflowName, WorkflowSource};
use pflow_store::{Anchor, Identity, one_line, read_workflow_file};
use serde_json::{Map, Value, json};

use super::{optional, spec};
use crate::runtime::Frame;
use crate::{
    DEFAULT_MAX_DEPTH, MAX_DEPTH_LIMIT, Node, NodeContext, NodeError, NodeOutcome, Params,
};

/// The three ways to name the child, as messages list them.
const SOURCES: &str = "`workflow_name`, `workflow_ref` or `workflow_ir`";

/// The `workflow` node type.
#[derive(Debug)]
pub(crate) struct WorkflowNode {
    spec: NodeSpec,
}

impl WorkflowNode {
    pub(crate) fn new() -> WorkflowNode {
        let mut spec = spec(
            "workflow",
            "workflow",
            "Run another workflow (saved, from a file, or inline) and return its declared outputs",
        );
        spec.params = vec![
            optional(
                "workflow_name",
                Some(Str),
                None,
                "A saved workflow to run, by name (give exactly one of `workflow_name`, \
                 `workflow_ref`, `workflow_ir`)",
            ),
            optional(
                "workflow_ref",
                Some(Str),
                None,
                "A JSON file holding a bare IR or a stored document; a relative path is \
                 relative to the file of the calling workflow (the current directory for one \
                 from stdin); a saved workflow must give an absolute path",
            ),
            optional("workflow_ir", Some(Object), None, "An inline workflow IR"),
            optional(
                "param_mapping",
                Some(Object),
                None,
                "The child's inputs: input name -> value; templates are resolved in the \
                 caller's scope",
            ),
            optional(
                "output_mapping",
                Some(Object),
                None,
                "Child output -> name under this node; when given, only the mapped outputs \
                 are returned",
            ),
            optional(
                "max_depth",
                Some(Integer),
                Some(json!(DEFAULT_MAX_DEPTH)),
                "How deep nested workflows may go below the workflow being run (at most 64)",
            )
            .with_range(0..=MAX_DEPTH_LIMIT),
        ];
        spec.dynamic_outputs = true;
        WorkflowNode { spec }
    }
}

impl Node for WorkflowNode {
    fn spec(&self) -> &NodeSpec {
        &self.spec
    }

    fn execute(&self, params: &Params, ctx: &NodeContext<'_>) -> Result<NodeOutcome, NodeError> {
        let child = load_child(params, ctx)?;
        if let Some(chain) = Identity::cycle_in(&ctx.frame.stack, &child.identity) {
            return Err(NodeError::new(format!("workflow call cycle: {chain}")));
        }
        let max_depth = params.unsigned("max_depth")?.unwrap_or(DEFAULT_MAX_DEPTH);
        if max_depth > MAX_DEPTH_LIMIT {
            return Err(NodeError::new(format!(
                "param `max_depth` is {max_depth}, more than the limit {MAX_DEPTH_LIMIT}"
            )));
        }
        let depth = ctx.frame.depth + 1;
        if depth as u64 > max_depth {
            let mut labels: Vec<String> = ctx.frame.stack.iter().map(ToString::to_string).collect();
            labels.push(child.identity.to_string());
            return Err(NodeError::new(format!(
                "nested workflows go deeper than `max_depth` {max_depth}: {}",
                labels.join(" -> ")
            )));
        }

        let inputs = params.object("param_mapping")?.cloned().unwrap_or_default();
        let mut stack = ctx.frame.stack.clone();
        stack.push(child.identity);
        let frame = Frame { depth, stack, anchor: child.anchor };
        let result =
            ctx.runtime.run_frame(&child.ir, inputs, &frame).map_err(NodeError::from_child)?;

        let outputs = match params.object("output_mapping")? {
            None => result.outputs,
            Some(mapping) => {
                let mut renamed = Map::with_capacity(mapping.len());
                for (child_key, target) in mapping {
                    let Value::String(target) = target else {
                        return Err(NodeError::new(format!(
                            "param `output_mapping.{child_key}` must be a string naming the \
                             output under this node"
                        )));
                    };
                    let Some(value) = result.outputs.get(child_key) else {
                        let known: Vec<String> =
                            result.outputs.keys().map(|k| format!("`{k}`")).collect();
                        let known =
                            if known.is_empty() { "none".to_owned() } else { known.join(", ") };
                        return Err(NodeError::new(format!(
                            "`output_mapping` names child output `{child_key}`, which the \
                             child did not return (it returned {known})"
                        )));
                    };
                    renamed.insert(target.clone(), value.clone());
                }
                renamed
            }
        };
        Ok(NodeOutcome::new(outputs))
    }
}

/// A child workflow, loaded and validated.
struct Child {
    ir: ValidIr,
    identity: Identity,
    anchor: Anchor,
}

/// Loads the child named by exactly one of the three source params.
fn load_child(params: &Params, ctx: &NodeContext<'_>) -> Result<Child, NodeError> {
    let name = params.str("workflow_name")?;
    let reference = params.str("workflow_ref")?;
    let inline = params.object("workflow_ir")?;
    let given: Vec<&str> = [
        name.map(|_| "`workflow_name`"),
        reference.map(|_| "`workflow_ref`"),
        inline.map(|_| "`workflow_ir`"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if given.len() != 1 {
        let got = if given.is_empty() { "none".to_owned() } else { given.join(" and ") };
        return Err(NodeError::new(format!("give exactly one of {SOURCES}, got {got}")));
    }
    let catalog = ctx.runtime.catalog();
    if let Some(name) = name {
        let resolver = ctx.runtime.resolver().ok_or_else(|| {
            NodeError::new(format!(
                "cannot load saved workflow `{name}`: this run has no workflow store"
            ))
        })?;
        let name = WorkflowName::new(name).map_err(|e| NodeError::new(e.to_string()))?;
        let ir = resolver.resolve(&name).map_err(|e| {
            let hint = e.hint().filter(|h| h.starts_with("did you mean"));
            NodeError::new(match hint {
                Some(hint) => format!("{e} ({hint})"),
                None => one_line(&e),
            })
        })?;
        let anchor = Anchor::Saved(name.clone());
        return Ok(Child { ir, identity: Identity::Saved(name), anchor });
    }
    if let Some(reference) = reference {
        let path =
            ctx.frame.anchor.resolve(reference).map_err(|e| NodeError::new(e.to_string()))?;
        let file = read_workflow_file(&path).map_err(|e| NodeError::new(one_line(&e)))?;
        let what = format!("workflow file `{}`", path.display());
        let checked = file.locate(WorkflowSource::from_value(&file.value).validate(Some(catalog)));
        let ir = valid(&what, checked)?;
        return Ok(Child { ir, identity: Identity::file(&path), anchor: Anchor::of_file(&path) });
    }
    let value = Value::Object(inline.cloned().unwrap_or_default());
    let ir = typed("inline `workflow_ir`", &value, catalog)?;
    Ok(Child { ir, identity: Identity::Inline, anchor: ctx.frame.anchor.clone() })
}

/// Validates JSON holding a workflow IR (bare, or inside a stored document).
fn typed(what: &str, value: &Value, catalog: &pflow_ir::NodeCatalog) -> Result<ValidIr, NodeError> {
    valid(what, WorkflowSource::from_value(value).validate(Some(catalog)))
}

/// The valid IR of a child, or the failure quoting its first error.
fn valid(what: &str, checked: pflow_ir::Checked) -> Result<ValidIr, NodeError> {
    match checked.into_valid() {
        Ok((ir, _warnings)) => Ok(ir),
        Err(diagnostics) => Err(invalid(what, &diagnostics)),
    }
}

/// The failure for a child with validation errors, quoting the first.
fn invalid(what: &str, diagnostics: &Diagnostics) -> NodeError {
    let errors: Vec<String> = diagnostics.errors().map(ToString::to_string).collect();
    match errors.as_slice() {
        [] => NodeError::new(format!("{what} is not a workflow IR")),
        [one] => NodeError::new(format!("{what} is invalid: {one}")),
        [first, rest @ ..] => {
            NodeError::new(format!("{what} is invalid: {first} (and {} more)", rest.len()))
        }
    }
}
