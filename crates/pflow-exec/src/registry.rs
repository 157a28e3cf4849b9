//! The node trait and the registry of node types (SPEC §5.2).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use pflow_ir::{DEFAULT_ACTION, NodeCatalog, NodeSpec};
use serde_json::{Map, Value};

use crate::runtime::Frame;
use crate::{CancelFlag, Event, NodeError, Params, Runtime, nodes};

/// A node type: its interface as data, and what it does.
pub trait Node: Send + Sync + fmt::Debug {
    /// The interface: name, description, category, params, outputs.
    fn spec(&self) -> &NodeSpec;

    /// Runs the node with its resolved params (templates replaced, defaults filled in).
    ///
    /// Returns the action to follow and the outputs stored under the node's id, or the
    /// failure recorded as `${node.error}`.
    fn execute(&self, params: &Params, ctx: &NodeContext<'_>) -> Result<NodeOutcome, NodeError>;
}

/// What a node produced: the action that picks the next edge, and its outputs.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeOutcome {
    /// The action (`default` unless the node chose another).
    pub action: String,
    /// The values stored under the node's id (`${node.key}`).
    pub outputs: Map<String, Value>,
}

impl NodeOutcome {
    /// Outputs with the default action.
    pub fn new(outputs: Map<String, Value>) -> NodeOutcome {
        NodeOutcome { action: DEFAULT_ACTION.to_owned(), outputs }
    }

    /// The same outputs with another action.
    pub fn with_action(mut self, action: impl Into<String>) -> NodeOutcome {
        self.action = action.into();
        self
    }
}

/// What a node may know about the run it is part of.
#[derive(Debug)]
pub struct NodeContext<'a> {
    pub(crate) node_id: &'a str,
    pub(crate) runtime: &'a Runtime,
    pub(crate) frame: &'a Frame,
}

impl NodeContext<'_> {
    /// The id of the running node.
    pub fn node_id(&self) -> &str {
        self.node_id
    }

    /// 0 in the workflow being run, 1 inside a workflow it calls, and so on.
    pub fn depth(&self) -> usize {
        self.frame.depth
    }

    /// Tells the run's observer of `event`.
    pub(crate) fn report(&self, event: &Event<'_>) {
        self.runtime.observer().event(event);
    }

    /// The run's stop flag; long-running nodes should check it.
    pub fn cancel_flag(&self) -> &CancelFlag {
        self.runtime.cancel_flag()
    }

    /// Whether the run was asked to stop.
    pub fn is_cancelled(&self) -> bool {
        self.runtime.cancel_flag().is_cancelled()
    }
}

/// The node types a runtime can execute, by type name.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    nodes: BTreeMap<String, Arc<dyn Node>>,
}

impl Registry {
    /// A registry with no node types.
    pub fn empty() -> Registry {
        Registry::default()
    }

    /// Every built-in node type of SPEC §5.3.
    pub fn builtin() -> Registry {
        let mut registry = Registry::empty();
        for node in nodes::builtin() {
            registry.register(node);
        }
        registry
    }

    /// Adds a node type; one of the same name is replaced.
    pub fn register(&mut self, node: Arc<dyn Node>) {
        self.nodes.insert(node.spec().name.clone(), node);
    }

    /// The node type of that name.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Node>> {
        self.nodes.get(name)
    }

    /// Every type name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.nodes.keys().map(String::as_str)
    }

    /// The interfaces of every node type, as data.
    pub fn catalog(&self) -> NodeCatalog {
        NodeCatalog::new(self.nodes.values().map(|n| n.spec().clone()))
    }
}

/// The interfaces of every built-in node type: what validation, `pflow nodes` and the
/// planner context use.
pub fn builtin_catalog() -> NodeCatalog {
    NodeCatalog::new(nodes::builtin_specs())
}
