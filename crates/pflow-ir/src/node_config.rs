//! The node fields of pflow 0.16 beside `id`, `type` and `params`: `batch`, `loop` and
//! `retry` (SPEC §5.5), with their keys, defaults and bounds.
//!
//! The types keep what the author wrote (`None` for an absent key), so a workflow reads
//! back exactly as it was saved; the accessors give the effective values. Validation
//! checks the bounds (`validate/fields.rs`); the runtime reads only the accessors.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

/// The smallest and largest `batch.max_concurrent`.
pub const MAX_CONCURRENT_RANGE: (i64, i64) = (1, 100);
/// `batch.max_concurrent` when absent.
pub const DEFAULT_MAX_CONCURRENT: i64 = 10;
/// The smallest and largest `batch.max_retries` and `retry.max` (attempts in total).
pub const ATTEMPTS_RANGE: (i64, i64) = (1, 10);
/// How many times one node may run in one run (a backward edge, a loop's rounds); the
/// bound of `loop.max_iterations` and the cap of a loop that gives none. 0.16's
/// `PFLOW_MAX_NODE_VISITS` default.
pub const MAX_NODE_VISITS: i64 = 100;
/// The longest wait between two attempts of an exponential backoff, in seconds.
pub const MAX_RETRY_WAIT_SECS: f64 = 60.0;
/// The name an item is bound to when `batch.as` is absent.
pub const DEFAULT_ITEM_NAME: &str = "item";
/// The root holding the position of the current batch item (0-based).
pub const INDEX_ROOT: &str = "__index__";
/// The root holding the round of a loop (1-based).
pub const ITERATION_ROOT: &str = "__iteration__";

/// The outputs of a node with `batch`, replacing the node type's own.
pub const BATCH_OUTPUTS: [&str; 5] = ["results", "count", "success_count", "error_count", "errors"];
/// The output a node with `loop` adds to its last round's: why the loop stopped.
pub const LOOP_STOPPED: &str = "loop_stopped";

/// `batch`: run the node once per item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchConfig {
    /// A `${…}` reference to an array, or an inline array whose elements may hold
    /// templates.
    pub items: Value,
    /// The name the current item is bound to (`item` when absent).
    #[serde(default, rename = "as", skip_serializing_if = "Option::is_none")]
    pub as_name: Option<String>,
    /// What a failed item does to the batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_handling: Option<ErrorHandling>,
    /// Whether items run concurrently.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel: Option<bool>,
    /// How many items run at once when `parallel` (1–100, default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent: Option<i64>,
    /// Attempts per item in total (1–10, default 1: no retry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<i64>,
    /// Seconds between two attempts of an item (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_wait: Option<Number>,
}

impl BatchConfig {
    /// The name the current item is bound to.
    pub fn item_name(&self) -> &str {
        self.as_name.as_deref().unwrap_or(DEFAULT_ITEM_NAME)
    }

    /// What a failed item does.
    pub fn error_handling(&self) -> ErrorHandling {
        self.error_handling.unwrap_or_default()
    }

    /// Whether items run concurrently.
    pub fn is_parallel(&self) -> bool {
        self.parallel.unwrap_or(false)
    }

    /// How many items run at once (1 unless `parallel`).
    pub fn concurrency(&self) -> usize {
        if !self.is_parallel() {
            return 1;
        }
        let (low, high) = MAX_CONCURRENT_RANGE;
        let n = self.max_concurrent.unwrap_or(DEFAULT_MAX_CONCURRENT).clamp(low, high);
        usize::try_from(n).expect("the bounds are positive")
    }

    /// Attempts per item in total.
    pub fn attempts(&self) -> u32 {
        attempts(self.max_retries)
    }

    /// Seconds between two attempts of an item.
    pub fn retry_wait_secs(&self) -> f64 {
        secs(self.retry_wait.as_ref())
    }
}

/// What a failed batch item does to the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorHandling {
    /// The first failure fails the node; items not started do not run.
    #[default]
    FailFast,
    /// Every item runs; failures are listed in `errors`.
    Continue,
}

impl ErrorHandling {
    /// Every value, in the order 0.16 lists them.
    pub const ALL: [ErrorHandling; 2] = [ErrorHandling::FailFast, ErrorHandling::Continue];

    /// The spelling in the IR.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorHandling::FailFast => "fail_fast",
            ErrorHandling::Continue => "continue",
        }
    }
}

/// `loop`: run the node again while (or until) a condition over its own outputs holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoopConfig {
    /// Run again while this `${node.key}` reference is truthy.
    #[serde(default, rename = "while", skip_serializing_if = "Option::is_none")]
    pub while_cond: Option<String>,
    /// Run again until this `${node.key}` reference is truthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Body input ← a reference to this node's previous outputs, overriding the node's
    /// `inputs` from round 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carry: Option<IndexMap<String, String>>,
    /// The most rounds: an integer or a `${…}` reference resolving to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_iterations: Option<Value>,
}

impl LoopConfig {
    /// The condition and whether the loop goes on while it is truthy (`while`) rather
    /// than until it is (`until`).
    pub fn condition(&self) -> Option<(&str, bool)> {
        match (&self.while_cond, &self.until) {
            (Some(w), _) => Some((w, true)),
            (None, Some(u)) => Some((u, false)),
            (None, None) => None,
        }
    }
}

/// `retry`: attempts of a node that failed in a way a new attempt can fix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    /// Attempts in total (1–10; 1 is no retry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    /// Seconds before the second attempt (the base of an exponential backoff).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<Number>,
    /// How the wait grows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<Backoff>,
}

impl RetryConfig {
    /// Attempts in total.
    pub fn attempts(&self) -> u32 {
        attempts(self.max)
    }

    /// Seconds to wait before attempt `next` (2 for the first retry); an exponential wait
    /// is capped at 60 s, as in 0.16.
    pub fn wait_before(&self, next: u32) -> f64 {
        let base = secs(self.wait.as_ref());
        match self.backoff.unwrap_or_default() {
            Backoff::Fixed => base,
            Backoff::Exponential => {
                let doublings = i32::try_from(next.saturating_sub(2).min(64)).unwrap_or(64);
                (base * 2f64.powi(doublings)).min(MAX_RETRY_WAIT_SECS)
            }
        }
    }
}

/// How the wait between attempts grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backoff {
    /// The same wait every time.
    #[default]
    Fixed,
    /// The wait doubles after each attempt.
    Exponential,
}

impl Backoff {
    /// Every value.
    pub const ALL: [Backoff; 2] = [Backoff::Fixed, Backoff::Exponential];

    /// The spelling in the IR.
    pub fn as_str(self) -> &'static str {
        match self {
            Backoff::Fixed => "fixed",
            Backoff::Exponential => "exponential",
        }
    }
}

/// Attempts in total for a `max_retries` / `max` as written, within its bounds.
fn attempts(written: Option<i64>) -> u32 {
    let (low, high) = ATTEMPTS_RANGE;
    u32::try_from(written.unwrap_or(1).clamp(low, high)).expect("the bounds are positive")
}

/// Seconds for a wait as written (absent or negative: 0).
fn secs(written: Option<&Number>) -> f64 {
    let s = written.and_then(Number::as_f64).unwrap_or(0.0);
    if s.is_finite() && s > 0.0 { s } else { 0.0 }
}
