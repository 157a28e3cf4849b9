//! `loop` (SPEC §5.5): a node run again while (or until) a condition over its own latest
//! output holds, as pflow 0.16 runs it — a do-while, `carry` feeding one round's outputs
//! into the next round's `inputs`, `${__iteration__}` (1-based) inside the body, a cap
//! (`max_iterations`, default [`MAX_NODE_VISITS`]) that ends the loop without an error,
//! and `loop_stopped` (`condition` or `max_iterations`) on the final output.

use pflow_ir::template::{TemplateScope, article_type, resolve_str};
use pflow_ir::{ITERATION_ROOT, LOOP_STOPPED, LoopConfig, MAX_NODE_VISITS};
use serde_json::{Value, json};

use crate::overlay::Overlay;
use crate::runtime::{Frame, WORKFLOW_TYPE};
use crate::{NodeError, NodeOutcome, Runtime};

impl Runtime {
    /// Runs `node` round after round as its `loop` says.
    pub(crate) fn run_loop(
        &self,
        node: &pflow_ir::Node,
        config: &LoopConfig,
        scope: &dyn TemplateScope,
        frame: &Frame,
    ) -> Result<NodeOutcome, NodeError> {
        let Some((condition, go_on_while)) = config.condition() else {
            return Err(NodeError::new(format!(
                "the `loop` of node `{}` has neither `while` nor `until` (hint: declare one: \
                 `while: ${{{}.more}}`)",
                node.id, node.id
            )));
        };
        let carried = carried_node(node, config);
        // The node's own id is its latest output; `${__iteration__}` the round, in the body.
        let mut scope = Overlay::new(scope).with(&node.id, None).with(ITERATION_ROOT, None);
        let mut cap = None;
        let mut round: i64 = 1;
        loop {
            if self.cancel_flag().is_cancelled() {
                return Err(NodeError::cancelled());
            }
            scope.set(ITERATION_ROOT, Some(json!(round)));
            // Round 1 is the node as written; from round 2, `carry` overrides its inputs.
            let body = if round == 1 { node } else { carried.as_ref().unwrap_or(node) };
            let outcome = self.execute_once_or_retried(body, &scope, frame)?;
            scope.set(&node.id, Some(Value::Object(outcome.outputs.clone())));
            scope.set(ITERATION_ROOT, None);
            let go_on = truthy_condition(node, condition, &scope)? == go_on_while;
            let stopped = if !go_on {
                Some("condition")
            } else {
                let cap = match cap {
                    Some(cap) => cap,
                    None => *cap.insert(loop_cap(node, config, &scope)?),
                };
                (round >= cap).then_some("max_iterations")
            };
            if let Some(reason) = stopped {
                let mut outcome = outcome;
                outcome.outputs.insert(LOOP_STOPPED.to_owned(), json!(reason));
                return Ok(outcome);
            }
            round += 1;
        }
    }
}

/// The node as rounds 2 and later run it: each `carry` entry in place of the input of
/// the same name (`inputs`, or a `workflow` node's `param_mapping`); `None` without
/// `carry`.
fn carried_node(node: &pflow_ir::Node, config: &LoopConfig) -> Option<pflow_ir::Node> {
    let carry = config.carry.as_ref().filter(|c| !c.is_empty())?;
    // A `workflow` node's inputs are its `param_mapping`.
    let key = if node.ty == WORKFLOW_TYPE { "param_mapping" } else { "inputs" };
    let mut node = node.clone();
    let inputs = node.params.entry(key).or_insert_with(|| json!({}));
    if let Value::Object(inputs) = inputs {
        for (name, source) in carry {
            inputs.insert(name.clone(), Value::String(source.clone()));
        }
    }
    Some(node)
}

/// Whether the condition holds over the latest output: a missing value is false, and a
/// string is refused (as in 0.16: `"0\n"` and `"false"` are truthy, so a loop on one would
/// never stop).
fn truthy_condition(
    node: &pflow_ir::Node,
    condition: &str,
    scope: &dyn TemplateScope,
) -> Result<bool, NodeError> {
    let Ok(value) = resolve_str(condition, scope) else { return Ok(false) };
    Ok(match value {
        Value::Null => false,
        Value::Bool(b) => b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(text) => {
            let preview: String = text.chars().take(60).collect();
            return Err(NodeError::new(format!(
                "the loop condition `{condition}` of node `{}` is a string ({preview:?}); a \
                 string's truth is unsafe (`\"0\"` and `\"false\"` are true) (hint: refer to a \
                 boolean, a number that counts down, or a list that drains)",
                node.id
            )));
        }
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    })
}

/// The most rounds: `max_iterations` (an integer, or a reference resolved once, after
/// round 1), else [`MAX_NODE_VISITS`]; always 1 to [`MAX_NODE_VISITS`].
fn loop_cap(
    node: &pflow_ir::Node,
    config: &LoopConfig,
    scope: &dyn TemplateScope,
) -> Result<i64, NodeError> {
    let raw = match &config.max_iterations {
        None => return Ok(MAX_NODE_VISITS),
        Some(Value::String(template)) => resolve_str(template, scope).map_err(|e| {
            NodeError::new(format!(
                "cannot resolve `loop.max_iterations` of node `{}`: {e}",
                node.id
            ))
        })?,
        Some(other) => other.clone(),
    };
    let cap = match &raw {
        Value::Bool(b) => Some(i64::from(*b)),
        // A fraction is cut to its whole part, as 0.16's int() does.
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f.trunc() as i64)),
        Value::String(text) => text.trim().parse::<i64>().ok(),
        _ => None,
    };
    match cap {
        Some(cap) if (1..=MAX_NODE_VISITS).contains(&cap) => Ok(cap),
        Some(cap) => Err(NodeError::new(format!(
            "`loop.max_iterations` of node `{}` is {cap}; it must be 1 to {MAX_NODE_VISITS}",
            node.id
        ))),
        None => Err(NodeError::new(format!(
            "`loop.max_iterations` of node `{}` is {}, not a positive integer",
            node.id,
            article_type(&raw)
        ))),
    }
}
