//! The twelve tools of SPEC §7.2: their names, descriptions, input and output schemas,
//! and the synchronous body of each, which calls the same library calls the CLI makes.
//!
//! Every body runs on a blocking thread (the server's `spawn_blocking`), takes its
//! arguments as a typed struct (whose JSON Schema is the tool's input schema) and returns
//! a [`Reply`] built from a typed struct (whose JSON Schema is the tool's output schema),
//! or a [`ToolError`] for a user mistake.

pub(crate) mod execute;
mod nodes;
mod workflows;

use std::path::PathBuf;
use std::sync::Arc;

use pflow_exec::Runtime;
use pflow_ir::{Checked, WorkflowName};
use pflow_store::{Origin, WorkflowManager};
use rmcp::model::{Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ToolError;

pub(crate) use execute::ExecuteArgs;

/// What the tools work on: the store (through its manager) and the runtime.
#[derive(Debug, Clone)]
pub(crate) struct Library {
    pub(crate) manager: WorkflowManager,
    pub(crate) runtime: Runtime,
}

/// A successful result: its structured content and its short text rendering.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) structured: Value,
    pub(crate) text: String,
}

impl Reply {
    pub(crate) fn new(out: &impl Serialize, text: String) -> Reply {
        let structured = serde_json::to_value(out).expect("tool results serialize to JSON");
        Reply { structured, text }
    }
}

/// What a tool body gives.
pub(crate) type ToolResult = Result<Reply, ToolError>;

/// A tool body with its arguments bound, ready to run on a blocking thread.
pub(crate) type Body = Box<dyn FnOnce(&Library) -> ToolResult + Send>;

/// The name of the tool that runs workflows, which the server treats apart (it can be
/// cancelled and reports progress).
pub(crate) const EXECUTE: &str = "workflow_execute";

/// Every tool, as `tools/list` shows it, in a stable order.
pub(crate) fn all() -> Vec<Tool> {
    use execute::{ExecuteArgs, ExecuteOut};
    use nodes::*;
    use workflows::*;
    let read = || ToolAnnotations::new().read_only(true).destructive(false).open_world(false);
    let write = |destructive: bool| {
        ToolAnnotations::new().read_only(false).destructive(destructive).open_world(false)
    };
    vec![
        tool::<ListArgs, ListOut>(
            "workflow_list",
            "List saved workflows, a page at a time: name, description, inputs, outputs and \
             revision of each, sorted by name. `filter_pattern` keeps the workflows whose name \
             or description contains every word of it (any case); `query` ranks by relevance \
             instead. Pass `next_cursor` back as `cursor` for the next page.",
            read(),
        ),
        tool::<DescribeArgs, DescribeOut>(
            "workflow_describe",
            "Show a saved workflow's interface: description, inputs (type, required, default), \
             outputs, revision, the saved workflows it calls, and an example `pflow run` line. Call it before `workflow_execute`.",
            read(),
        ),
        tool::<ValidateArgs, ValidateOut>(
            "workflow_validate",
            "Check a workflow without running it — an IR or stored-document object, a saved \
             name, or a path to a JSON file — and report every finding at once, each with its \
             JSON path and a hint: structure, templates, node types and params, calls to saved \
             workflows and files, call cycles.",
            read(),
        ),
        tool::<SaveArgs, SaveOut>(
            "workflow_save",
            "Validate a workflow (an IR or stored-document object, or a path to a JSON file) and \
             save it under `name`. Never replaces a saved workflow unless `force` is true (a new \
             revision; the old one is kept in the history); with `expected_revision`, only if \
             the saved one is still at that revision.",
            write(false),
        ),
        tool::<ExecuteArgs, ExecuteOut>(
            EXECUTE,
            "Run a workflow — a saved name, a path to a JSON file, or an IR object — with \
             `parameters` for its declared inputs. Returns its outputs and each node's id, type, \
             status and duration; on failure, the error and the chain of nodes. Reports each \
             node as progress when the request has a progress token; a cancelled request stops \
             the run and kills its shell commands.",
            ToolAnnotations::new().read_only(false).destructive(true).open_world(true),
        ),
        tool::<NameArgs, HistoryOut>(
            "workflow_history",
            "List the revisions of a saved workflow, oldest first: when each was saved, its \
             description and what changed.",
            read(),
        ),
        tool::<RestoreArgs, RestoreOut>(
            "workflow_restore",
            "Make the content of an earlier revision of a saved workflow its newest revision (no \
             revision is removed). With `expected_revision`, only if the workflow is still at \
             that revision.",
            write(false),
        ),
        tool::<DeleteArgs, DeleteOut>(
            "workflow_delete",
            "Move a saved workflow, with its history, to the trash. Refused while other saved \
             workflows call it, unless `force` is true.",
            write(true),
        ),
        tool::<RegistryListArgs, RegistryListOut>(
            "registry_list",
            "List the node types a workflow can use: name, category and description. \
             `filter_pattern` keeps the types whose name, category or description contains every \
             word of it (any case).",
            read(),
        ),
        tool::<RegistryDescribeArgs, RegistryDescribeOut>(
            "registry_describe",
            "Show the full interface of the named node types: params (type, required, default) \
             and outputs.",
            read(),
        ),
        tool::<DiscoverArgs, DiscoverOut>(
            "context_discover",
            "The planner's discovery context as markdown: every node type by category and the \
             saved workflows with their inputs. `limit` caps the number of workflows listed; \
             `query` ranks them by relevance.",
            read(),
        ),
        tool::<PlanArgs, PlanOut>(
            "context_plan",
            "The planner's planning context as markdown: the full interface of the chosen node \
             types and saved workflows, to wire them into a new workflow.",
            read(),
        ),
    ]
}

fn tool<A: JsonSchema + 'static, O: JsonSchema + 'static>(
    name: &'static str,
    description: &'static str,
    annotations: ToolAnnotations,
) -> Tool {
    Tool::new(name, description, Arc::new(serde_json::Map::new()))
        .with_input_schema::<A>()
        .with_output_schema::<O>()
        .with_annotations(annotations)
}

/// Runs the tool `name` (any but [`EXECUTE`]) with `arguments`; `Err` with a message when
/// there is no such tool or the arguments do not fit its input schema (a protocol error).
pub(crate) fn dispatch(name: &str, arguments: Value) -> Result<Body, String> {
    use nodes::*;
    use workflows::*;
    Ok(match name {
        "workflow_list" => bind(arguments, list)?,
        "workflow_describe" => bind(arguments, describe)?,
        "workflow_validate" => bind(arguments, validate)?,
        "workflow_save" => bind(arguments, save)?,
        "workflow_history" => bind(arguments, history)?,
        "workflow_restore" => bind(arguments, restore)?,
        "workflow_delete" => bind(arguments, delete)?,
        "registry_list" => bind(arguments, registry_list)?,
        "registry_describe" => bind(arguments, registry_describe)?,
        "context_discover" => bind(arguments, discover)?,
        "context_plan" => bind(arguments, plan)?,
        other => return Err(format!("unknown tool `{other}`")),
    })
}

/// The arguments of a tool call as its typed struct; the message when they do not fit.
pub(crate) fn arguments<A: DeserializeOwned>(arguments: Value) -> Result<A, String> {
    serde_json::from_value(arguments).map_err(|e| format!("invalid arguments: {e}"))
}

fn bind<A: DeserializeOwned + Send + 'static>(
    value: Value,
    body: fn(&Library, A) -> ToolResult,
) -> Result<Body, String> {
    let args: A = arguments(value)?;
    Ok(Box::new(move |library| body(library, args)))
}

/// The words of a `filter_pattern`.
fn words(pattern: Option<&str>) -> Vec<&str> {
    pattern.map(|p| p.split_whitespace().collect()).unwrap_or_default()
}

/// A workflow as a tool's `workflow` argument gives it, checked: what it is, where it came
/// from, and how messages name it.
pub(crate) struct Given {
    pub(crate) checked: Checked,
    pub(crate) origin: Origin,
    pub(crate) label: String,
    /// The description the object or the file gives (a document's, a `.pflow.md`'s
    /// prose); `None` for a saved name.
    pub(crate) description: Option<String>,
}

/// How a string `workflow` argument may be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Names {
    /// A saved name or a path (`workflow_validate`, `workflow_execute`).
    SavedOrFile,
    /// Only a path (`workflow_save`).
    File,
}

/// Reads and checks the `workflow` argument: an object (a bare IR or a stored document),
/// or a string that names a file (by the CLI's rule, `pflow_store::names_a_file`) or a
/// saved workflow. `save_as` is the name it is about to be saved under.
pub(crate) fn given(
    library: &Library,
    workflow: &Value,
    names: Names,
    save_as: Option<&WorkflowName>,
) -> Result<Given, ToolError> {
    let manager = &library.manager;
    match workflow {
        Value::Object(_) => Ok(Given {
            checked: manager.check(workflow, &Origin::Inline, save_as),
            origin: Origin::Inline,
            label: "given inline".to_owned(),
            description: pflow_ir::WorkflowSource::from_value(workflow)
                .description
                .map(str::to_owned),
        }),
        Value::String(text) if names == Names::File || pflow_store::names_a_file(text) => {
            let path = PathBuf::from(text);
            let label = format!("`{text}`");
            let file = match pflow_store::read_workflow_file(&path) {
                Ok(file) => file,
                Err(e) => match e.findings() {
                    Some(findings) => return Err(ToolError::invalid(&label, findings)),
                    None => {
                        return Err(ToolError::from_file(&e).hint(
                            "give the path of a workflow file (JSON holding a workflow IR or \
                             a stored document, or a `.pflow.md`), or pass the workflow \
                             itself as an object",
                        ));
                    }
                },
            };
            let origin = Origin::File(std::path::absolute(&path).unwrap_or(path));
            Ok(Given {
                checked: file.locate(manager.check(&file.value, &origin, save_as)),
                origin,
                label,
                description: file.description,
            })
        }
        Value::String(name) => {
            let checked = manager.load_checked(name)?;
            Ok(Given {
                checked,
                origin: Origin::Saved(
                    WorkflowName::new(name).map_err(pflow_store::StoreError::from)?,
                ),
                label: format!("`{name}`"),
                description: None,
            })
        }
        _ => Err(ToolError::new("invalid_argument", "`workflow` must be an object or a string")),
    }
}

impl ToolError {
    /// A workflow file that could not be read or parsed.
    fn from_file(e: &pflow_store::WorkflowFileError) -> ToolError {
        let mut out = ToolError::new("unreadable_file", e.to_string());
        let mut source = std::error::Error::source(e);
        while let Some(cause) = source {
            out.causes.push(cause.to_string());
            source = cause.source();
        }
        out
    }
}

/// The schema of a value of any JSON type (`workflow` objects, outputs, parameters).
fn any_json(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!(true)
}

/// The schema of the `workflow` argument of `workflow_validate` and `workflow_execute`.
fn workflow_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "The workflow: an IR object or a stored document object, a saved \
                        workflow's name, or a path to a workflow file, JSON or `.pflow.md` (a \
                        string that contains `/`, ends in `.json` or `.pflow.md`, or names an \
                        existing file)",
        "type": ["object", "string"]
    })
}

/// The schema of the `workflow` argument of `workflow_save`.
fn file_or_object_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "The workflow: an IR object or a stored document object, or a path to \
                        a JSON file holding one or to a `.pflow.md`",
        "type": ["object", "string"]
    })
}
