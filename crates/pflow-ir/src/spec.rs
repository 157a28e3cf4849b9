//! Node interfaces as data: what a node type accepts and produces (SPEC §5.2).
//!
//! The runtime's registry publishes one [`NodeSpec`] per built-in type; validation, the
//! CLI and the planner context read them without depending on the runtime. What a param
//! accepts beyond its type is said by its [`ParamRules`], checked by
//! [`check_param`](crate::check_param).

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

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
    /// Why nodes of this type cannot run on this machine (the `code` node without a
    /// `python3` on `PATH`), saying what to install; validation reports it as an error on
    /// every node of the type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
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
    /// What the value must satisfy beyond its type; serialized inline, like the keywords
    /// of a JSON Schema (`"exclusive_minimum": 0`), and absent when there is no rule.
    #[serde(flatten)]
    pub rules: ParamRules,
}

impl ParamSpec {
    /// The same param, accepting only numbers of at least `minimum`.
    pub fn with_minimum(mut self, minimum: impl Into<Number>) -> ParamSpec {
        self.rules.minimum = Some(minimum.into());
        self
    }

    /// The same param, accepting only numbers in `range` (`minimum` and `maximum` both).
    pub fn with_range<N: Into<Number>>(self, range: RangeInclusive<N>) -> ParamSpec {
        let (minimum, maximum) = range.into_inner();
        self.with_minimum(minimum).with_maximum(maximum)
    }

    /// The same param, accepting only numbers greater than `bound`.
    pub fn with_exclusive_minimum(mut self, bound: impl Into<Number>) -> ParamSpec {
        self.rules.exclusive_minimum = Some(bound.into());
        self
    }

    /// The same param, accepting only numbers of at most `maximum`.
    pub fn with_maximum(mut self, maximum: impl Into<Number>) -> ParamSpec {
        self.rules.maximum = Some(maximum.into());
        self
    }

    /// The same param, accepting only the given strings (exactly as written, unless
    /// [`ignoring_case`](ParamSpec::ignoring_case) follows).
    pub fn with_enum<S: Into<String>>(mut self, values: impl IntoIterator<Item = S>) -> ParamSpec {
        self.rules.allowed = values.into_iter().map(Into::into).collect();
        self
    }

    /// The same param, comparing its `enum` values without regard to ASCII case.
    pub fn ignoring_case(mut self) -> ParamSpec {
        self.rules.ignore_case = true;
        self
    }

    /// The same param, accepting only strings of the given format.
    pub fn with_format(mut self, format: StringFormat) -> ParamSpec {
        self.rules.format = Some(format);
        self
    }

    /// The same param, accepting only objects whose values are of the given types.
    pub fn with_value_types(mut self, types: impl IntoIterator<Item = ValueType>) -> ParamSpec {
        self.rules.value_types = types.into_iter().collect();
        self
    }
}

/// What a param's value must satisfy beyond its type, as plain data.
///
/// The names follow JSON Schema (in snake case): each rule applies only to values of the
/// kind it speaks of, so `minimum` says nothing about a string. The default is no rule at
/// all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ParamRules {
    /// A number must be at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<Number>,
    /// A number must be greater than this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusive_minimum: Option<Number>,
    /// A number must be at most this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<Number>,
    /// A string must be one of these; empty means any string.
    #[serde(rename = "enum", default, skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<String>,
    /// Whether `enum` is compared without regard to ASCII case (`UTF-8` for `utf-8`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore_case: bool,
    /// A string must have this format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<StringFormat>,
    /// Each value of an object must be of one of these types; empty means any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub value_types: Vec<ValueType>,
}

impl ParamRules {
    /// Whether there is no rule at all.
    pub fn is_empty(&self) -> bool {
        *self == ParamRules::default()
    }
}

/// A named format of string values (JSON Schema's `format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum StringFormat {
    /// An absolute `http://` or `https://` URL with a host, in the syntax the `http`
    /// node's client accepts (`https://example.com/a?b=1`).
    HttpUrl,
    /// An HTTP token (RFC 9110 §5.6.2), the syntax of a method name: one or more ASCII
    /// letters, digits and ``!#$%&'*+-.^_`|~``.
    HttpToken,
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
