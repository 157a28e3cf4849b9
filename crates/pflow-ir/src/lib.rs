//! The pflow workflow IR: types, workflow names, stored documents, node interfaces,
//! validation and templates.
//!
//! This crate does no IO. Everything here is a type or a pure function, so the store, the
//! runtime, the planner context and the CLI all agree on one definition of a workflow.

mod diagnostic;
mod document;
mod ir;
mod json;
mod name;
mod spec;
mod suggest;
mod validate;

pub use diagnostic::{Diagnostic, Diagnostics, Severity};
pub use document::{DOCUMENT_VERSION, Document, Timestamp};
pub use ir::{Edge, InputSpec, Node, OutputSpec, ValueType, WorkflowIr, DEFAULT_ACTION};
pub use json::{parse_json, JsonError, MAX_JSON_DEPTH};
pub use name::{NameError, WorkflowName, MAX_NAME_LEN};
pub use spec::{NodeCatalog, NodeSpec, OutputDecl, ParamSpec};
pub use suggest::closest;
pub use validate::{Checked, validate_ir, validate_value, workflow_calls};
