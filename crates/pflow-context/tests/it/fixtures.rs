//! A fixed set of node specs and saved workflows that every context test builds on.

use std::sync::Arc;

use pflow_ir::{
    NodeCatalog, NodeSpec, OutputDecl, ParamRules, ParamSpec, ValueType, WorkflowIr, WorkflowName,
};
use pflow_store::{MemoryStore, WorkflowManager};
use serde_json::{Value, json};

fn param(
    name: &str,
    ty: Option<ValueType>,
    required: bool,
    default: Option<Value>,
    description: &str,
) -> ParamSpec {
    ParamSpec {
        name: name.into(),
        description: description.into(),
        ty,
        required,
        default,
        rules: ParamRules::default(),
    }
}

fn output(name: &str, ty: Option<ValueType>, description: &str) -> OutputDecl {
    OutputDecl { name: name.into(), description: description.into(), ty }
}

fn spec(
    name: &str,
    category: &str,
    description: &str,
    params: Vec<ParamSpec>,
    outputs: Vec<OutputDecl>,
) -> NodeSpec {
    NodeSpec {
        name: name.into(),
        description: description.into(),
        category: category.into(),
        params,
        outputs,
        dynamic_outputs: false,
        unavailable: None,
    }
}

/// Node specs shaped like the built-ins, including one with no category, one with no
/// params and one with outputs known only at run time.
pub(crate) fn catalog() -> NodeCatalog {
    use ValueType::{Boolean, Integer, Object, String};
    let mut workflow = spec(
        "workflow",
        "flow",
        "Runs another workflow as one node.",
        vec![
            param("workflow_name", Some(String), false, None, "A saved workflow to run."),
            param("param_mapping", Some(Object), false, None, "Child input name to value."),
        ],
        vec![],
    );
    workflow.dynamic_outputs = true;
    NodeCatalog::new([
        spec(
            "write-file",
            "file",
            "Writes text to a file,\ncreating parent directories.",
            vec![
                param("file_path", Some(String), true, None, "Where to write."),
                param("content", Some(String), true, None, "What to write."),
                param(
                    "append",
                    Some(Boolean),
                    false,
                    Some(json!(false)),
                    "Append instead of replacing.",
                ),
            ],
            vec![
                output("file_path", Some(String), "The path written."),
                output("bytes_written", Some(Integer), "How many bytes."),
            ],
        ),
        spec(
            "read-file",
            "file",
            "Reads a text file.",
            vec![
                param("file_path", Some(String), true, None, "The file to read."),
                param("encoding", Some(String), false, Some(json!("utf-8")), ""),
            ],
            vec![output("content", Some(String), "The file's text.")],
        ),
        spec(
            "shell",
            "shell",
            "Runs a shell command.",
            vec![
                param("command", Some(String), true, None, "The command line."),
                param("env", Some(Object), false, None, "Extra environment\nvariables."),
                param(
                    "timeout",
                    Some(Integer),
                    false,
                    Some(json!(60)),
                    "Seconds before it is killed.",
                ),
            ],
            vec![
                output("stdout", Some(String), "What it printed."),
                output("exit_code", Some(Integer), ""),
            ],
        ),
        spec(
            "echo",
            "",
            "Returns its message.",
            vec![param("message", None, false, None, "Anything.")],
            vec![output("message", None, "The message.")],
        ),
        spec("noop", "debug", "", vec![], vec![]),
        workflow,
    ])
}

fn ir(value: Value) -> WorkflowIr {
    serde_json::from_value(value).expect("fixture IR parses")
}

/// A manager over an in-memory store holding workflows with required inputs, optional
/// inputs with and without defaults, no inputs at all, no outputs, a long multi-line
/// description, and one corrupt entry.
pub(crate) fn manager() -> (Arc<MemoryStore>, WorkflowManager) {
    manager_saving_in(Order::Forward)
}

/// The order [`manager_saving_in`] saves the fixture workflows in.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Order {
    Forward,
    Reverse,
}

/// The fixture manager, with the workflows saved in `order`.
pub(crate) fn manager_saving_in(order: Order) -> (Arc<MemoryStore>, WorkflowManager) {
    let store = Arc::new(MemoryStore::new());
    let manager = WorkflowManager::new(store.clone());
    let mut workflows = workflows();
    if let Order::Reverse = order {
        workflows.reverse();
    }
    for (name, ir, description) in workflows {
        manager.create(name, &ir, description).unwrap();
    }
    store.plant_corrupt(&WorkflowName::new("broken").unwrap(), "expected value at line 1 column 1");
    (store, manager)
}

/// The fixture workflows as `(name, IR, description)`.
pub(crate) fn workflows() -> Vec<(&'static str, WorkflowIr, &'static str)> {
    let echo = json!([{ "id": "say", "type": "echo", "params": { "message": "hi" } }]);
    vec![
        (
            "fix-issue",
            ir(json!({
                "ir_version": "0.1.0",
                "inputs": {
                    "issue_number": { "type": "integer", "description": "GitHub issue number" },
                    "repo": { "type": "string", "required": false, "default": "pflow",
                              "description": "Repository\nname" },
                    "labels": { "type": "array", "required": false }
                },
                "outputs": {
                    "pr_url": { "type": "string", "description": "Created pull request URL",
                                "source": "${say.message}" },
                    "log": { "source": "${say.message}" }
                },
                "nodes": echo,
            })),
            "Fixes a GitHub issue and opens a pull request.",
        ),
        ("hello", ir(json!({ "ir_version": "0.1.0", "nodes": echo })), "Says hello."),
        (
            "summarize-notes",
            ir(json!({
                "ir_version": "0.1.0",
                "inputs": { "notes": { "required": false, "description": "Any text" } },
                "outputs": { "summary": { "type": "string", "source": "${say.message}" } },
                "nodes": echo,
            })),
            "Summarizes meeting notes.\n\nReads every note, groups the action items by owner, \
             drops the small talk, and writes a short summary that fits in one chat message \
             so that the team can read it on a phone.",
        ),
        ("untitled", ir(json!({ "ir_version": "0.1.0", "nodes": echo })), ""),
    ]
}
