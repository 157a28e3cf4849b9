//! Node interfaces as data: what a node type accepts and produces (SPEC §5.2).
//!
//! The runtime's registry publishes one [`NodeSpec`] per built-in type; validation, the
//! CLI and the planner context read them without depending on the runtime.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ValueType;

/// The interface of one node type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeSpec {
    /// The type name used in the IR (`read-file`).
    pub name: String,
    /// One line saying what the node does.
    pub description: String,
    /// A grouping for catalogues (`file`, `shell`, `network`, …).
    pub category: String,
    /// Accepted parameters, in display order.
    pub params: Vec<ParamSpec>,
    /// Output keys the node writes under its id, in display order.
    pub outputs: Vec<OutputDecl>,
    /// Whether the node may write keys beyond `outputs` that are only known at run time
    /// (a nested workflow returns its child's outputs), so references to undeclared keys
    /// cannot be checked statically.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dynamic_outputs: bool,
}

impl NodeSpec {
    /// The parameter with the given name.
    pub fn param(&self, name: &str) -> Option<&ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }

    /// The declared output with the given key.
    pub fn output(&self, key: &str) -> Option<&OutputDecl> {
        self.outputs.iter().find(|o| o.name == key)
    }
}

/// One parameter of a node type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamSpec {
    /// The key under `params`.
    pub name: String,
    /// What it controls.
    pub description: String,
    /// The accepted JSON type; `None` accepts any value.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub ty: Option<ValueType>,
    /// Whether the node cannot run without it.
    pub required: bool,
    /// The value used when it is absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
}

/// One output key of a node type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputDecl {
    /// The key under the node's id (`${read.content}`).
    pub name: String,
    /// What it holds.
    pub description: String,
    /// Its JSON type; `None` when it varies.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub ty: Option<ValueType>,
}

/// The node types validation knows about, by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeCatalog {
    specs: BTreeMap<String, NodeSpec>,
}

impl NodeCatalog {
    /// A catalog of the given specs; a later spec with the same name replaces an earlier.
    pub fn new(specs: impl IntoIterator<Item = NodeSpec>) -> NodeCatalog {
        NodeCatalog { specs: specs.into_iter().map(|s| (s.name.clone(), s)).collect() }
    }

    /// The spec of a node type.
    pub fn get(&self, name: &str) -> Option<&NodeSpec> {
        self.specs.get(name)
    }

    /// Every spec, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = &NodeSpec> {
        self.specs.values()
    }

    /// Every type name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.specs.keys().map(String::as_str)
    }

    /// How many node types the catalog holds.
    pub fn len(&self) -> usize {
        self.specs.len()
    }

    /// Whether the catalog holds no node types.
    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }
}
