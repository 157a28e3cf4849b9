//! `workflow_execute`: runs a workflow with the runtime the CLI uses, recording each node
//! (an [`Observer`]) for the result and for progress notifications.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pflow_exec::{CancelFlag, Event, Observer, RunUsage, UsageTally};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::mpsc::UnboundedSender;

use super::{Library, Names, Reply, ToolResult, given};
use crate::error::ToolError;

/// The arguments of `workflow_execute`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExecuteArgs {
    #[schemars(schema_with = "super::workflow_schema")]
    workflow: Value,
    /// The workflow's inputs by name, as JSON values of their declared types
    /// (`{"issue_number": 123}`); see `workflow_describe`.
    #[serde(default)]
    parameters: Map<String, Value>,
}

/// The result of `workflow_execute`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ExecuteOut {
    /// One entry per declared output; without declared outputs, the outputs of the last
    /// node that ran.
    #[schemars(with = "Map<String, Value>")]
    outputs: Map<String, Value>,
    /// Each node that ran, in order (nodes of nested workflows too, with their depth).
    nodes: Vec<NodeRun>,
    /// How long the run took, in milliseconds.
    duration_ms: f64,
    /// What the run's `llm` calls consumed: `calls` (node, model, tokens, cost, cached)
    /// and the totals; absent when no model was called.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<Map<String, Value>>")]
    llm_usage: Option<Value>,
}

/// One node that ran.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct NodeRun {
    /// The node's id.
    id: String,
    /// The node's type.
    #[serde(rename = "type")]
    ty: String,
    /// `succeeded` or `failed`.
    status: String,
    /// How long it took, in milliseconds.
    duration_ms: f64,
    /// 0 for the workflow run, 1 for a workflow it calls, and so on.
    depth: usize,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Hears the run: keeps each finished node, and sends a line per event to `progress`.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    nodes: Mutex<Vec<NodeRun>>,
    progress: Option<UnboundedSender<String>>,
}

impl Recorder {
    /// A recorder that also sends a progress line per event to `progress`.
    pub(crate) fn new(progress: Option<UnboundedSender<String>>) -> Recorder {
        Recorder { nodes: Mutex::default(), progress }
    }

    fn nodes(&self) -> Vec<NodeRun> {
        self.nodes.lock().map(|n| n.clone()).unwrap_or_default()
    }
}

impl Observer for Recorder {
    fn event(&self, event: &Event<'_>) {
        let line = match event {
            Event::NodeStarted { node_id, node_type, depth } => {
                format!("{}node `{node_id}` ({node_type}) started", indent(*depth))
            }
            Event::NodeFinished { node_id, node_type, depth, duration, error, .. } => {
                let run = NodeRun {
                    id: (*node_id).to_owned(),
                    ty: (*node_type).to_owned(),
                    status: if error.is_some() { "failed" } else { "succeeded" }.to_owned(),
                    duration_ms: millis(*duration),
                    depth: *depth,
                    error: error.map(str::to_owned),
                };
                if let Ok(mut nodes) = self.nodes.lock() {
                    nodes.push(run);
                }
                let how = if error.is_some() { "failed" } else { "finished" };
                format!(
                    "{}node `{node_id}` ({node_type}) {how} in {:.1} ms",
                    indent(*depth),
                    millis(*duration)
                )
            }
            Event::BatchItem { node_id, depth, done, total, error, .. } => {
                let how = if error.is_some() { "failed" } else { "done" };
                format!("{}node `{node_id}`: batch item {how}, {done}/{total}", indent(*depth))
            }
            _ => return,
        };
        if let Some(progress) = &self.progress {
            let _ = progress.send(line);
        }
    }
}

fn indent(depth: usize) -> String {
    "  ".repeat(depth)
}

fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1e6).round() / 1e3
}

/// Checks and runs the workflow, stopped by `cancel`, heard by `recorder`.
pub(crate) fn run(
    library: &Library,
    args: ExecuteArgs,
    cancel: CancelFlag,
    recorder: Arc<Recorder>,
) -> ToolResult {
    let given = given(library, &args.workflow, Names::SavedOrFile, None)?;
    let ir = match given.checked.into_valid() {
        Ok((ir, _warnings)) => ir,
        Err(diagnostics) => return Err(ToolError::invalid(&given.label, &diagnostics)),
    };
    let tally = Arc::new(UsageTally::new(Arc::clone(&recorder) as Arc<dyn Observer>));
    let runtime = library
        .runtime
        .clone()
        .with_cancel_flag(cancel)
        .with_resolver(Arc::new(library.manager.clone()))
        .with_observer(Arc::clone(&tally) as Arc<dyn Observer>);
    let started = Instant::now();
    let result = runtime.run(&ir, args.parameters, &given.origin);
    let duration_ms = millis(started.elapsed());
    let nodes = recorder.nodes();
    let usage = tally.usage();
    match result {
        Ok(output) => {
            let mut text = format!(
                "workflow {} succeeded: {} node{} in {duration_ms:.1} ms\n",
                given.label,
                output.nodes_run,
                if output.nodes_run == 1 { "" } else { "s" }
            );
            let outputs =
                serde_json::to_string_pretty(&output.outputs).expect("JSON values serialize");
            text.push_str(&outputs);
            text.push('\n');
            if let Some(usage) = &usage {
                text.push_str(&format!("{usage}\n"));
            }
            let llm_usage = usage.as_ref().map(RunUsage::to_json);
            let out = ExecuteOut { outputs: output.outputs, nodes, duration_ms, llm_usage };
            Ok(Reply::new(&out, text))
        }
        Err(e) => {
            let mut error = ToolError::from(e);
            error.message = format!("workflow {} failed: {}", given.label, error.message);
            error.nodes = Some(serde_json::to_value(&nodes).expect("node runs serialize"));
            Err(error)
        }
    }
}
