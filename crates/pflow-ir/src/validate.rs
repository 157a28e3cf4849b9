//! Validation of a workflow IR (SPEC §3.1). PLACEHOLDER SIGNATURES — being implemented.

use serde_json::Value;

use crate::{Diagnostics, NodeCatalog, WorkflowIr};

/// The result of validating JSON text that should be a workflow IR.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// The typed IR, when the shape was right (it may still have semantic errors).
    pub ir: Option<WorkflowIr>,
    /// Every finding, errors and warnings.
    pub diagnostics: Diagnostics,
}

/// Validates a JSON value as a workflow IR.
pub fn validate_value(value: &Value, catalog: Option<&NodeCatalog>) -> Checked {
    let _ = catalog;
    Checked { ir: serde_json::from_value(value.clone()).ok(), diagnostics: Diagnostics::new() }
}

/// Validates a typed workflow IR.
pub fn validate_ir(ir: &WorkflowIr, catalog: Option<&NodeCatalog>) -> Diagnostics {
    let _ = (ir, catalog);
    Diagnostics::new()
}

/// The saved workflows an IR calls by `workflow_name`, in node order, without repeats.
pub fn workflow_calls(ir: &WorkflowIr) -> Vec<String> {
    let mut calls: Vec<String> = Vec::new();
    for node in &ir.nodes {
        if node.ty == "workflow" {
            if let Some(Value::String(name)) = node.params.get("workflow_name") {
                if !calls.contains(name) {
                    calls.push(name.clone());
                }
            }
        }
    }
    calls
}
