//! The workflow IR: the bare graph the runtime executes (SPEC §3).

use std::fmt;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{BatchConfig, LoopConfig, RetryConfig};

/// The action a node finishes with unless it chooses another.
pub const DEFAULT_ACTION: &str = "default";

/// A workflow IR: nodes, the edges between them, and the declared interface.
///
/// Deserializing this type checks the *shape* only (unknown fields are rejected except
/// inside `params`); the rules of SPEC §3.1 are checked by validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowIr {
    /// `MAJOR.MINOR.PATCH` of the IR format.
    pub ir_version: String,
    /// Declared inputs, in the order the author wrote them.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub inputs: IndexMap<String, InputSpec>,
    /// Declared outputs, in the order the author wrote them.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub outputs: IndexMap<String, OutputSpec>,
    /// The nodes; the first one is the start node unless `start_node` says otherwise.
    pub nodes: Vec<Node>,
    /// Transitions between nodes, keyed by `(from, action)`.
    #[serde(default)]
    pub edges: Vec<Edge>,
    /// The node the run starts at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_node: Option<String>,
}

impl WorkflowIr {
    /// The id of the node a run starts at: `start_node`, else the first node.
    pub fn start_node_id(&self) -> Option<&str> {
        self.start_node.as_deref().or_else(|| self.nodes.first().map(|n| n.id.as_str()))
    }

    /// The node with the given id.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }
}

/// A declared workflow input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// What the input is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether a caller must supply it; absent means required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// The JSON type of the value; absent means any.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub ty: Option<ValueType>,
    /// The value used when the caller supplies none; `"default": null` is a default of
    /// `null`, not the absence of a default.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
}

impl InputSpec {
    /// Whether a caller must supply this input (`required` defaults to true).
    pub fn is_required(&self) -> bool {
        self.required.unwrap_or(true)
    }
}

/// Deserializes a field that is present as `Some`, even when it is `null` (serde's
/// `Option` would turn a present `null` into `None`).
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// A declared workflow output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// What the output is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON type of the value; absent means any.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub ty: Option<ValueType>,
    /// A template naming where the value comes from (`${node.key}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// One node of the graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    /// Unique within the workflow; the root under which its outputs are addressed.
    pub id: String,
    /// The registered node type (`shell`, `read-file`, `workflow`, …).
    #[serde(rename = "type")]
    pub ty: String,
    /// Parameters, free-form; strings inside may hold templates.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub params: Map<String, Value>,
    /// What the node does in this workflow, in words (0.16's `purpose`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Run the node once per item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchConfig>,
    /// Run the node again while (or until) a condition over its outputs holds.
    #[serde(default, rename = "loop", skip_serializing_if = "Option::is_none")]
    pub loop_config: Option<LoopConfig>,
    /// Attempt the node again after a failure a new attempt can fix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryConfig>,
    /// Whether the node's outputs may be reused across runs (0.16's `cache`; accepted
    /// and kept, reuse across runs is not done here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<bool>,
}

impl Node {
    /// A node with only an id, a type and params.
    pub fn new(id: impl Into<String>, ty: impl Into<String>, params: Map<String, Value>) -> Node {
        Node {
            id: id.into(),
            ty: ty.into(),
            params,
            purpose: None,
            batch: None,
            loop_config: None,
            retry: None,
            cache: None,
        }
    }
}

/// A transition: when `from` finishes with `action`, the run continues at `to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    /// The node the edge leaves.
    pub from: String,
    /// The node the edge enters.
    pub to: String,
    /// The action that selects this edge; absent means [`DEFAULT_ACTION`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

impl Edge {
    /// The action that selects this edge.
    pub fn action(&self) -> &str {
        self.action.as_deref().unwrap_or(DEFAULT_ACTION)
    }
}

/// The JSON types an input, output or parameter can declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueType {
    /// A JSON string.
    String,
    /// Any JSON number.
    Number,
    /// A JSON number without a fractional part.
    Integer,
    /// `true` or `false`.
    Boolean,
    /// A JSON object.
    Object,
    /// A JSON array.
    Array,
}

impl ValueType {
    /// Every type, in the order the spec lists them.
    pub const ALL: [ValueType; 6] = [
        ValueType::String,
        ValueType::Number,
        ValueType::Integer,
        ValueType::Boolean,
        ValueType::Object,
        ValueType::Array,
    ];

    /// The spelling used in the IR.
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::Number => "number",
            ValueType::Integer => "integer",
            ValueType::Boolean => "boolean",
            ValueType::Object => "object",
            ValueType::Array => "array",
        }
    }

    /// Parses the IR spelling.
    pub fn parse(s: &str) -> Option<ValueType> {
        ValueType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Whether `value` is of this type (`integer` accepts only whole numbers).
    pub fn matches(self, value: &Value) -> bool {
        match self {
            ValueType::String => value.is_string(),
            ValueType::Number => value.is_number(),
            ValueType::Integer => match value {
                Value::Number(n) => {
                    n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
                }
                _ => false,
            },
            ValueType::Boolean => value.is_boolean(),
            ValueType::Object => value.is_object(),
            ValueType::Array => value.is_array(),
        }
    }

    /// The type with its article, for messages: `a string`, `an integer`.
    pub fn phrase(self) -> &'static str {
        match self {
            ValueType::String => "a string",
            ValueType::Number => "a number",
            ValueType::Integer => "an integer",
            ValueType::Boolean => "a boolean",
            ValueType::Object => "an object",
            ValueType::Array => "an array",
        }
    }

    /// The type of a JSON value with its article, for messages: `an integer`, `null`.
    pub fn phrase_of(value: &Value) -> &'static str {
        match value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }

    /// The type name of a JSON value, for messages (`null` included).
    pub fn name_of(value: &Value) -> &'static str {
        match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
