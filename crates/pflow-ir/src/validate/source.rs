//! A workflow given as JSON: a bare IR or a stored document (SPEC §7 lets `save`, `run`
//! and `validate` take either).

use serde_json::Value;

use super::{Checked, validate_value};
use crate::NodeCatalog;

/// Where the IR is inside a JSON value that holds a workflow, and what else the value
/// says about it.
///
/// A *document* is an object with an `ir` key and no `nodes` key (SPEC §4.1); anything
/// else is taken as a bare IR (and validation says what is wrong with it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorkflowSource<'v> {
    /// The IR value: the `ir` of a document, else the whole value.
    pub ir: &'v Value,
    /// The JSON path of the IR inside the value, to prefix diagnostics with: `"ir"` for a
    /// document, `""` for a bare IR.
    pub path_prefix: &'static str,
    /// The document's `name`, when it is a document with a string `name`.
    pub name: Option<&'v str>,
    /// The document's `description`, when it is a document with a string `description`.
    pub description: Option<&'v str>,
}

impl<'v> WorkflowSource<'v> {
    /// Finds the IR in `value`.
    pub fn from_value(value: &'v Value) -> WorkflowSource<'v> {
        match value.as_object() {
            Some(obj) if obj.contains_key("ir") && !obj.contains_key("nodes") => WorkflowSource {
                ir: &obj["ir"],
                path_prefix: "ir",
                name: obj.get("name").and_then(Value::as_str),
                description: obj.get("description").and_then(Value::as_str),
            },
            _ => WorkflowSource { ir: value, path_prefix: "", name: None, description: None },
        }
    }

    /// Whether the value is a stored document rather than a bare IR.
    pub fn is_document(&self) -> bool {
        !self.path_prefix.is_empty()
    }

    /// Validates the IR ([`validate_value`]); diagnostic paths are relative to the whole
    /// value (`ir.nodes[0].type` for a document).
    pub fn validate(&self, catalog: Option<&NodeCatalog>) -> Checked {
        validate_value(self.ir, catalog).within(self.path_prefix)
    }
}
