//! The pflow workflow IR: types, workflow names, stored documents, node interfaces,
//! validation, templates, and text made safe to show.
//!
//! This crate does no IO. Everything here is a type or a pure function, so the store, the
//! runtime, the planner context and the CLI all agree on one definition of a workflow.

mod diagnostic;
mod document;
mod ir;
mod json;
mod name;
mod node_config;
mod python;
mod rules;
mod spec;
mod suggest;
pub mod template;
mod text;
mod validate;

pub use diagnostic::{Diagnostic, Diagnostics, Severity};
pub use document::{DOCUMENT_VERSION, Document, Timestamp};
pub use ir::{DEFAULT_ACTION, Edge, InputSpec, Node, OutputSpec, ValueType, WorkflowIr};
pub use json::{JsonError, MAX_IR_DEPTH, MAX_JSON_DEPTH, parse_json};
pub use name::{MAX_NAME_LEN, NameError, WorkflowName};
pub use node_config::{
    ATTEMPTS_RANGE, BATCH_OUTPUTS, Backoff, BatchConfig, DEFAULT_ITEM_NAME, DEFAULT_MAX_CONCURRENT,
    ErrorHandling, INDEX_ROOT, ITERATION_ROOT, LOOP_STOPPED, LoopConfig, MAX_CONCURRENT_RANGE,
    MAX_NODE_VISITS, MAX_RETRY_WAIT_SECS, RetryConfig,
};
pub use rules::{ParamProblem, check_param};
pub use spec::{NodeCatalog, NodeSpec, OutputDecl, ParamRules, ParamSpec, StringFormat};
pub use suggest::closest;
pub use text::{Lines, escape_controls};
pub use validate::{
    Checked, MAX_WORKFLOW_DEPTH, ValidIr, WorkflowCall, WorkflowSource, validate_ir,
    validate_value, workflow_call_sites, workflow_calls,
};
