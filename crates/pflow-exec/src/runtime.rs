//! The execution model of SPEC §5.1: one node at a time, actions pick edges, outputs live
//! under node ids, and the result comes from the declared outputs.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pflow_ir::template::{TemplateScope, resolve_params, resolve_str};
use pflow_ir::{NodeCatalog, ValidIr, WorkflowIr};
use pflow_store::{Anchor, Identity, Origin, WorkflowResolver};
use serde_json::{Map, Value};

use crate::{
    CancelFlag, Event, ExecError, NodeContext, NodeError, NoopObserver, Observer, Params, Registry,
    check_inputs,
};

/// How deep nested workflows may go unless a `workflow` node's `max_depth` says otherwise.
pub const DEFAULT_MAX_DEPTH: u64 = 10;

/// The largest `max_depth` a `workflow` node may ask for; deeper nesting is refused so a
/// run can never exhaust the stack.
pub const MAX_DEPTH_LIMIT: u64 = 64;

/// The action a failing node takes when an edge for it leaves the node.
const ERROR_ACTION: &str = "error";

/// The type of the nested-workflow node.
pub(crate) const WORKFLOW_TYPE: &str = "workflow";

/// Runs workflows with a registry of node types.
///
/// Cheap to clone; clones share the registry, the resolver, the observer and the stop
/// flag.
#[derive(Clone)]
pub struct Runtime {
    registry: Arc<Registry>,
    catalog: Arc<NodeCatalog>,
    resolver: Option<Arc<dyn WorkflowResolver>>,
    observer: Arc<dyn Observer>,
    cancel: CancelFlag,
}

/// The result of a successful run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutput {
    /// One entry per declared output; without declared outputs, the outputs of the last
    /// node that ran.
    pub outputs: Map<String, Value>,
    /// How many nodes ran at the top level (nested runs not counted).
    pub nodes_run: usize,
}

/// Where a running workflow sits in the tree of nested runs.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    /// 0 for the workflow being run.
    pub(crate) depth: usize,
    /// The workflows from the top down to this one, for cycle detection and messages.
    pub(crate) stack: Vec<Identity>,
    /// What this workflow's relative `workflow_ref`s are relative to.
    pub(crate) anchor: Anchor,
}

impl Runtime {
    /// A runtime over `registry`, with no saved workflows, no observer and its own stop
    /// flag.
    pub fn new(registry: Registry) -> Runtime {
        let catalog = Arc::new(registry.catalog());
        Runtime {
            registry: Arc::new(registry),
            catalog,
            resolver: None,
            observer: Arc::new(NoopObserver),
            cancel: CancelFlag::new(),
        }
    }

    /// A runtime with every built-in node type.
    pub fn builtin() -> Runtime {
        Runtime::new(Registry::builtin())
    }

    /// The same runtime, loading `workflow_name` children through `resolver` (a
    /// [`WorkflowManager`](pflow_store::WorkflowManager), or anything else that finds
    /// saved workflows by name).
    pub fn with_resolver(mut self, resolver: Arc<dyn WorkflowResolver>) -> Runtime {
        self.resolver = Some(resolver);
        self
    }

    /// The same runtime, reporting progress to `observer`.
    pub fn with_observer(mut self, observer: Arc<dyn Observer>) -> Runtime {
        self.observer = observer;
        self
    }

    /// The same runtime, stopped by `flag`.
    pub fn with_cancel_flag(mut self, flag: CancelFlag) -> Runtime {
        self.cancel = flag;
        self
    }

    /// What hears this runtime's runs.
    pub(crate) fn observer(&self) -> &dyn Observer {
        self.observer.as_ref()
    }

    /// The stop flag; setting it stops every run of this runtime.
    pub fn cancel_flag(&self) -> &CancelFlag {
        &self.cancel
    }

    /// The node types this runtime executes.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The interfaces of the node types, as validation wants them.
    pub fn catalog(&self) -> &NodeCatalog {
        &self.catalog
    }

    /// What children are loaded by name through, if anything.
    pub fn resolver(&self) -> Option<&Arc<dyn WorkflowResolver>> {
        self.resolver.as_ref()
    }

    /// Runs `ir` with `inputs`.
    ///
    /// `origin` says where the workflow came from: it names the workflow in cycle chains
    /// and decides what its relative `workflow_ref`s are relative to (see
    /// [`pflow_store::Anchor`]). Only a validated IR runs; the runtime still refuses a
    /// graph it cannot follow rather than guess.
    pub fn run(
        &self,
        ir: &ValidIr,
        inputs: Map<String, Value>,
        origin: &Origin,
    ) -> Result<RunOutput, ExecError> {
        let frame = Frame { depth: 0, stack: vec![origin.identity()], anchor: origin.anchor() };
        self.run_frame(ir, inputs, &frame)
    }

    /// Runs `ir` as the workflow of `frame`.
    pub(crate) fn run_frame(
        &self,
        ir: &WorkflowIr,
        inputs: Map<String, Value>,
        frame: &Frame,
    ) -> Result<RunOutput, ExecError> {
        let inputs = check_inputs(ir, inputs)?;
        let graph = Graph::new(ir)?;
        let roots =
            ir.inputs.keys().cloned().chain(ir.nodes.iter().map(|n| n.id.clone())).collect();
        let mut scope = Scope { roots, inputs, outputs: HashMap::with_capacity(ir.nodes.len()) };
        let mut order: Vec<usize> = Vec::with_capacity(ir.nodes.len());
        let mut visited = vec![false; ir.nodes.len()];
        let mut current = Some(graph.start);
        while let Some(index) = current {
            if self.cancel.is_cancelled() {
                return Err(ExecError::Cancelled);
            }
            let node = &ir.nodes[index];
            if std::mem::replace(&mut visited[index], true) {
                return Err(ExecError::InvalidWorkflow {
                    message: format!(
                        "the edges lead back to node `{}`: the graph has a cycle",
                        node.id
                    ),
                });
            }
            self.observer.event(&Event::NodeStarted {
                node_id: &node.id,
                node_type: &node.ty,
                depth: frame.depth,
            });
            let started = Instant::now();
            let result = self.execute(node, &scope, frame);
            let (action, outputs, failure) = match result {
                Ok(outcome) => (outcome.action, outcome.outputs, None),
                Err(error) if error.is_cancelled() => return Err(ExecError::Cancelled),
                Err(error) => {
                    let text = error.to_string();
                    let (chain, message, mut outputs) = error.into_parts();
                    outputs.insert("error".to_owned(), Value::String(text.clone()));
                    (ERROR_ACTION.to_owned(), outputs, Some((text, chain, message)))
                }
            };
            self.observer.event(&Event::NodeFinished {
                node_id: &node.id,
                node_type: &node.ty,
                depth: frame.depth,
                duration: started.elapsed(),
                action: &action,
                error: failure.as_ref().map(|(text, _, _)| text.as_str()),
            });
            let next = graph.next(index, &action);
            if let Some((_, chain, message)) = failure
                && next.is_none()
            {
                let mut full = Vec::with_capacity(chain.len() + 1);
                full.push(node.id.clone());
                full.extend(chain);
                return Err(ExecError::NodeFailed { chain: full, message });
            }
            scope.outputs.insert(node.id.clone(), Value::Object(outputs));
            order.push(index);
            current = next;
        }
        let outputs = result_of(ir, &scope, &order)?;
        Ok(RunOutput { outputs, nodes_run: order.len() })
    }

    /// Runs a node: once per item of its `batch`, round after round as its `loop` says,
    /// or once, attempted again after a
    /// failure a new attempt can fix, as its `retry` says (a `workflow` node is never
    /// attempted again: its child's nodes have their own `retry`).
    fn execute(
        &self,
        node: &pflow_ir::Node,
        scope: &Scope,
        frame: &Frame,
    ) -> Result<crate::NodeOutcome, NodeError> {
        if let Some(batch) = &node.batch {
            return self.run_batch(node, batch, scope, frame);
        }
        if let Some(config) = &node.loop_config {
            return self.run_loop(node, config, scope, frame);
        }
        self.execute_once_or_retried(node, scope, frame)
    }

    /// Runs a node once, and again after a failure a new attempt can fix, as its `retry`
    /// says.
    pub(crate) fn execute_once_or_retried(
        &self,
        node: &pflow_ir::Node,
        scope: &dyn TemplateScope,
        frame: &Frame,
    ) -> Result<crate::NodeOutcome, NodeError> {
        let retry = node.retry.as_ref().filter(|_| node.ty != WORKFLOW_TYPE);
        let attempts = retry.map_or(1, pflow_ir::RetryConfig::attempts);
        let mut attempt = 1;
        loop {
            match self.attempt(node, scope, frame) {
                Err(error) if error.is_retriable() && attempt < attempts => {
                    attempt += 1;
                    let wait = retry.map_or(0.0, |r| r.wait_before(attempt));
                    if !self.cancel.sleep(Duration::from_secs_f64(wait)) {
                        return Err(NodeError::cancelled());
                    }
                }
                other => return other,
            }
        }
    }

    /// Resolves a node's params and runs it once.
    fn attempt(
        &self,
        node: &pflow_ir::Node,
        scope: &dyn TemplateScope,
        frame: &Frame,
    ) -> Result<crate::NodeOutcome, NodeError> {
        let Some(implementation) = self.registry.get(&node.ty) else {
            let known = pflow_ir::closest(&node.ty, self.registry.names());
            let hint = known.first().map(|k| format!(" (did you mean `{k}`?)")).unwrap_or_default();
            return Err(NodeError::new(format!("unknown node type `{}`{hint}", node.ty)));
        };
        let mut params = resolve_params(&node.params, scope)
            .map_err(|e| NodeError::new(format!("cannot resolve params: {e}")))?;
        for spec in &implementation.spec().params {
            if let Some(default) = &spec.default
                && !params.contains_key(&spec.name)
            {
                params.insert(spec.name.clone(), default.clone());
            }
        }
        // The rule validation applies to literal params, applied to the resolved ones.
        crate::check_params(implementation.spec(), &params)?;
        let ctx = NodeContext { node_id: &node.id, runtime: self, frame };
        implementation.execute(&Params::new(params), &ctx)
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("node_types", &self.registry.names().collect::<Vec<_>>())
            .field("resolver", &self.resolver)
            .field("cancel", &self.cancel)
            .finish_non_exhaustive()
    }
}

/// The graph as indexes: where to start and which edge each `(node, action)` takes.
struct Graph<'ir> {
    start: usize,
    /// Per node, its outgoing `(action, target)` pairs (few, so a scan beats a hash).
    edges: Vec<Vec<(&'ir str, usize)>>,
}

impl<'ir> Graph<'ir> {
    fn new(ir: &'ir WorkflowIr) -> Result<Graph<'ir>, ExecError> {
        let invalid = |message: String| ExecError::InvalidWorkflow { message };
        let index: HashMap<&str, usize> =
            ir.nodes.iter().enumerate().map(|(i, n)| (n.id.as_str(), i)).collect();
        let start_id = ir.start_node_id().ok_or_else(|| invalid("it has no nodes".to_owned()))?;
        let start = *index
            .get(start_id)
            .ok_or_else(|| invalid(format!("start node `{start_id}` does not exist")))?;
        let mut edges: Vec<Vec<(&str, usize)>> = vec![Vec::new(); ir.nodes.len()];
        for edge in &ir.edges {
            let from = *index
                .get(edge.from.as_str())
                .ok_or_else(|| invalid(format!("an edge leaves unknown node `{}`", edge.from)))?;
            let to = *index
                .get(edge.to.as_str())
                .ok_or_else(|| invalid(format!("an edge enters unknown node `{}`", edge.to)))?;
            let action = edge.action();
            if edges[from].iter().any(|(a, _)| *a == action) {
                return Err(invalid(format!(
                    "two edges leave node `{}` with action `{action}`",
                    edge.from
                )));
            }
            edges[from].push((action, to));
        }
        Ok(Graph { start, edges })
    }

    fn next(&self, from: usize, action: &str) -> Option<usize> {
        self.edges[from].iter().find(|(a, _)| *a == action).map(|(_, to)| *to)
    }
}

/// What templates can see: the workflow's inputs and the outputs of the nodes that ran.
///
/// Whether a bare `$name` is a reference is decided by `roots`, every declared input and
/// node id (SPEC §3.2), not by which values exist: a bare `$b.x` for a node `b` that did
/// not run fails like `${b.x}` instead of staying text.
struct Scope {
    roots: HashSet<String>,
    inputs: Map<String, Value>,
    outputs: HashMap<String, Value>,
}

impl TemplateScope for Scope {
    fn root(&self, name: &str) -> Option<&Value> {
        self.outputs.get(name).or_else(|| self.inputs.get(name))
    }

    fn is_root(&self, name: &str) -> bool {
        self.roots.contains(name) || self.root(name).is_some()
    }

    fn root_names(&self) -> Vec<String> {
        let mut names: Vec<String> =
            self.inputs.keys().chain(self.outputs.keys()).cloned().collect();
        names.sort();
        names.dedup();
        names
    }
}

/// The result of a finished run (SPEC §5.1): each declared output from its `source`, or
/// from the same key of the most recent node output that has it; without declared
/// outputs, the outputs of the last node that ran.
fn result_of(
    ir: &WorkflowIr,
    scope: &Scope,
    order: &[usize],
) -> Result<Map<String, Value>, ExecError> {
    let output_of = |index: usize| scope.outputs.get(&ir.nodes[index].id);
    if ir.outputs.is_empty() {
        return Ok(match order.last().and_then(|&i| output_of(i)) {
            Some(Value::Object(map)) => map.clone(),
            _ => Map::new(),
        });
    }
    let mut result = Map::with_capacity(ir.outputs.len());
    for (name, spec) in &ir.outputs {
        let value = match &spec.source {
            Some(source) => resolve_str(source, scope)
                .map_err(|e| ExecError::Output { name: name.clone(), reason: e.to_string() })?,
            None => order
                .iter()
                .rev()
                .find_map(|&i| output_of(i).and_then(|outputs| outputs.get(name)))
                .cloned()
                .ok_or_else(|| ExecError::Output {
                    name: name.clone(),
                    reason: format!(
                        "it has no `source`, and no node that ran has an output named `{name}`"
                    ),
                })?,
        };
        result.insert(name.clone(), value);
    }
    Ok(result)
}
