//! The pflow runtime: runs a workflow IR node by node (SPEC §5).
//!
//! - [`Runtime`] executes a [`WorkflowIr`](pflow_ir::WorkflowIr): it checks the inputs,
//!   starts at the start node, resolves the templates in each node's params against the
//!   inputs and the outputs of the nodes that ran, follows the edge named by each node's
//!   action, and builds the result from the declared outputs.
//! - [`Registry`] maps node types to [`Node`] implementations; [`builtin_catalog`] is the
//!   interface of every built-in type as data, for validation, `pflow nodes` and the
//!   planner context.
//! - Nested workflows (`type: "workflow"`) load children by name through a
//!   [`WorkflowResolver`](pflow_store::WorkflowResolver), by file (`workflow_ref`,
//!   anchored as [`pflow_store::Anchor`] says) or inline; every child is validated
//!   before it runs, and a call back to a workflow on the way is a cycle.
//! - [`CancelFlag`] stops a run from another thread (Ctrl-C); an [`Observer`] hears when
//!   each node starts and finishes.
//!
//! Templates are parsed and resolved by [`pflow_ir::template`]; this crate only supplies
//! the scope.

mod batch;
mod cancel;
mod error;
mod inputs;
mod looping;
mod nodes;
mod observer;
mod overlay;
mod params;
mod registry;
mod runtime;

pub use cancel::CancelFlag;
pub use error::{CoerceError, ExecError, InputErrors, InputProblem, NodeError};
pub use inputs::{check_inputs, coerce_input, describe_inputs};
pub use nodes::{LlmSetup, llm_node};
pub use observer::{Event, LlmCall, NoopObserver, Observer, RunUsage, UsageTally};
pub use params::{Params, check_params};
pub use registry::{Node, NodeContext, NodeOutcome, Registry, builtin_catalog};
pub use runtime::{DEFAULT_MAX_DEPTH, MAX_DEPTH_LIMIT, RunOutput, Runtime};
