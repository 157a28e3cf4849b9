//! The built-in node types of SPEC §5.3, and helpers to write their specs.

mod code;
mod echo;
mod file;
mod http;
mod llm;
mod shell;
mod workflow;

use std::sync::Arc;

use pflow_ir::{NodeSpec, OutputDecl, ParamRules, ParamSpec, ValueType};
use serde_json::Value;

use crate::Node;

pub use llm::LlmSetup;

/// The `llm` node type calling with `setup`; register it to replace the built-in one,
/// which calls the providers of the process environment without a cache.
pub fn llm_node(setup: Arc<LlmSetup>) -> Arc<dyn Node> {
    Arc::new(llm::Llm::new(setup))
}

/// One instance of every built-in node type.
pub(crate) fn builtin() -> Vec<Arc<dyn Node>> {
    vec![
        Arc::new(echo::Echo::new()),
        Arc::new(shell::Shell::new()),
        Arc::new(file::ReadFile::new()),
        Arc::new(file::WriteFile::new()),
        Arc::new(file::CopyFile::new()),
        Arc::new(file::MoveFile::new()),
        Arc::new(file::DeleteFile::new()),
        Arc::new(http::Http::new()),
        Arc::new(workflow::WorkflowNode::new()),
        Arc::new(code::Code::new()),
        llm_node(Arc::new(LlmSetup::from_env())),
    ]
}

/// The spec of every built-in node type.
pub(crate) fn builtin_specs() -> Vec<NodeSpec> {
    builtin().iter().map(|n| n.spec().clone()).collect()
}

/// A spec without params or outputs yet.
fn spec(name: &str, category: &str, description: &str) -> NodeSpec {
    NodeSpec {
        name: name.to_owned(),
        description: description.to_owned(),
        category: category.to_owned(),
        params: Vec::new(),
        outputs: Vec::new(),
        dynamic_outputs: false,
        unavailable: None,
    }
}

/// A required param; its rules are added with `ParamSpec::with_…`.
fn required(name: &str, ty: Option<ValueType>, description: &str) -> ParamSpec {
    ParamSpec {
        name: name.to_owned(),
        description: description.to_owned(),
        ty,
        required: true,
        default: None,
        rules: ParamRules::default(),
    }
}

/// An optional param, with its default when it has one.
fn optional(
    name: &str,
    ty: Option<ValueType>,
    default: Option<Value>,
    description: &str,
) -> ParamSpec {
    ParamSpec {
        name: name.to_owned(),
        description: description.to_owned(),
        ty,
        required: false,
        default,
        rules: ParamRules::default(),
    }
}

/// An output key.
fn output(name: &str, ty: Option<ValueType>, description: &str) -> OutputDecl {
    OutputDecl { name: name.to_owned(), description: description.to_owned(), ty }
}
