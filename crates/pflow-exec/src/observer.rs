//! Progress events: a hook the CLI uses to show each node as it runs.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pflow_llm::Usage;
use serde_json::{Value, json};

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
    /// One item of a `batch` node finished, successfully or not.
    BatchItem {
        /// The batch node's id.
        node_id: &'a str,
        /// 0 for the workflow being run, 1 for a workflow it calls, and so on.
        depth: usize,
        /// The item's index in `items`.
        index: usize,
        /// How many items have finished, this one included.
        done: usize,
        /// How many items there are.
        total: usize,
        /// Why the item failed, when it did.
        error: Option<&'a str>,
    },
    /// A node called a model (or took its reply from the cache).
    ModelCall {
        /// 0 for the workflow being run, 1 for a workflow it calls, and so on.
        depth: usize,
        /// What the call was and what it consumed.
        call: &'a LlmCall,
    },
}

/// One `llm` call, as a run's report shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmCall {
    /// The node's id.
    pub node_id: String,
    /// The model, `provider/model`.
    pub model: String,
    /// What it consumed: nothing when the reply came from the cache.
    pub usage: Usage,
    /// What it cost in US dollars, when the price is known (0 when cached).
    pub cost_usd: Option<f64>,
    /// Whether the reply came from the cache.
    pub cached: bool,
}

/// What a run's `llm` calls consumed, in all and call by call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunUsage {
    /// Every call, in the order they finished (nested runs included).
    pub calls: Vec<LlmCall>,
}

impl RunUsage {
    /// The tokens of every call.
    pub fn total_tokens(&self) -> u64 {
        self.calls.iter().map(|c| c.usage.total_tokens()).sum()
    }

    /// The cost of every call in US dollars; `None` when one call's price is unknown.
    pub fn cost_usd(&self) -> Option<f64> {
        self.calls.iter().map(|c| c.cost_usd).sum()
    }

    /// The calls answered from the cache.
    pub fn cached(&self) -> usize {
        self.calls.iter().filter(|c| c.cached).count()
    }

    /// The usage as JSON: `calls` (node, model, tokens, cost, cached) and the totals.
    pub fn to_json(&self) -> Value {
        let calls: Vec<Value> = self
            .calls
            .iter()
            .map(|c| {
                json!({
                    "node": c.node_id,
                    "model": c.model,
                    "input_tokens": c.usage.input_tokens,
                    "output_tokens": c.usage.output_tokens,
                    "total_tokens": c.usage.total_tokens(),
                    "cost_usd": c.cost_usd,
                    "cached": c.cached,
                })
            })
            .collect();
        json!({
            "calls": calls,
            "input_tokens": self.calls.iter().map(|c| c.usage.input_tokens).sum::<u64>(),
            "output_tokens": self.calls.iter().map(|c| c.usage.output_tokens).sum::<u64>(),
            "total_tokens": self.total_tokens(),
            "cost_usd": self.cost_usd(),
            "cached_calls": self.cached(),
        })
    }
}

/// `2 llm calls (1 cached), 143 tokens, $0.000021`.
impl fmt::Display for RunUsage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.calls.len();
        write!(f, "{n} llm call{}", if n == 1 { "" } else { "s" })?;
        let cached = self.cached();
        if cached > 0 {
            write!(f, " ({cached} cached)")?;
        }
        let tokens = self.total_tokens();
        write!(f, ", {tokens} token{}", if tokens == 1 { "" } else { "s" })?;
        match self.cost_usd() {
            Some(cost) => write!(f, ", ${cost:.6}"),
            None => f.write_str(", cost unknown"),
        }
    }
}

/// An observer that keeps every [`Event::ModelCall`] of a run and passes every event on
/// to another observer: one per run, so a long-lived server keeps nothing between runs.
pub struct UsageTally {
    inner: Arc<dyn Observer>,
    calls: Mutex<Vec<LlmCall>>,
}

impl UsageTally {
    /// A tally passing every event on to `inner`.
    pub fn new(inner: Arc<dyn Observer>) -> UsageTally {
        UsageTally { inner, calls: Mutex::default() }
    }

    /// What the run's calls consumed so far; `None` when there were none.
    pub fn usage(&self) -> Option<RunUsage> {
        let calls = self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone();
        (!calls.is_empty()).then_some(RunUsage { calls })
    }
}

impl fmt::Debug for UsageTally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UsageTally").field("calls", &self.calls).finish_non_exhaustive()
    }
}

impl Observer for UsageTally {
    fn event(&self, event: &Event<'_>) {
        if let Event::ModelCall { call, .. } = event {
            self.calls.lock().unwrap_or_else(|e| e.into_inner()).push((*call).clone());
        }
        self.inner.event(event);
    }
}

/// An observer that ignores every event.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopObserver;

impl Observer for NoopObserver {
    fn event(&self, _event: &Event<'_>) {}
}
