//! Progress events: a hook the CLI uses to show each node as it runs.

use std::time::Duration;

/// Hears what a run does, node by node. Called on the thread that runs the workflow;
/// keep it cheap.
pub trait Observer: Send + Sync {
    /// One event of a run (nested runs included, with their depth).
    fn event(&self, event: &Event<'_>);
}

/// Something that happened during a run.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A node is about to run.
    NodeStarted {
        /// The node's id.
        node_id: &'a str,
        /// The node's type.
        node_type: &'a str,
        /// 0 for the workflow being run, 1 for a workflow it calls, and so on.
        depth: usize,
    },
    /// A node finished, successfully or not.
    NodeFinished {
        /// The node's id.
        node_id: &'a str,
        /// The node's type.
        node_type: &'a str,
        /// 0 for the workflow being run, 1 for a workflow it calls, and so on.
        depth: usize,
        /// How long the node took, template resolution included.
        duration: Duration,
        /// The action it finished with (`error` after a failure).
        action: &'a str,
        /// The failure message, when the node failed.
        error: Option<&'a str>,
    },
}

/// An observer that ignores every event.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopObserver;

impl Observer for NoopObserver {
    fn event(&self, _event: &Event<'_>) {}
}
