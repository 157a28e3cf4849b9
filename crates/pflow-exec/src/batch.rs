//! `batch` (SPEC §5.5): one node run once per item — in order, or on a bounded pool of OS
//! threads — with 0.16's outputs: `results` (the successful items' outputs in input
//! order, each with its `item` and `original_index`), `count`, `success_count`,
//! `error_count` and `errors`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use pflow_ir::template::{TemplateScope, article_type, resolve_str, resolve_value};
use pflow_ir::{BatchConfig, ErrorHandling, INDEX_ROOT};
use serde_json::{Map, Value, json};

use crate::overlay::Overlay;
use crate::runtime::Frame;
use crate::{Event, NodeError, NodeOutcome, Runtime};

/// How one item ended.
enum ItemEnd {
    Done(Map<String, Value>),
    Failed(String),
}

impl Runtime {
    /// Runs `node` once per item of its `batch`.
    pub(crate) fn run_batch(
        &self,
        node: &pflow_ir::Node,
        batch: &BatchConfig,
        scope: &(dyn TemplateScope + Sync),
        frame: &Frame,
    ) -> Result<NodeOutcome, NodeError> {
        let items = batch_items(node, batch, scope)?;
        let total = items.len();
        let fail_fast = batch.error_handling() == ErrorHandling::FailFast;
        let ends: Vec<Mutex<Option<ItemEnd>>> = (0..total).map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);

        // Each worker takes the next item not yet started until none is left, or a
        // failure under `fail_fast` (or a cancellation) says to start no more.
        let work = || {
            loop {
                if stop.load(Ordering::Acquire) || self.cancel_flag().is_cancelled() {
                    return;
                }
                let index = next.fetch_add(1, Ordering::AcqRel);
                let Some(item) = items.get(index) else { return };
                let end = self.run_item(node, batch, scope, frame, item, index);
                let failed = match &end {
                    Ok(ItemEnd::Failed(message)) => Some(message.clone()),
                    Ok(ItemEnd::Done(_)) => None,
                    Err(_cancelled) => {
                        stop.store(true, Ordering::Release);
                        return;
                    }
                };
                if failed.is_some() && fail_fast {
                    stop.store(true, Ordering::Release);
                }
                *ends[index].lock().unwrap_or_else(|e| e.into_inner()) = end.ok();
                let finished = done.fetch_add(1, Ordering::AcqRel) + 1;
                self.observer().event(&Event::BatchItem {
                    node_id: &node.id,
                    depth: frame.depth,
                    index,
                    done: finished,
                    total,
                    error: failed.as_deref(),
                });
            }
        };
        let workers = batch.concurrency().min(total.max(1));
        if workers <= 1 {
            work();
        } else {
            std::thread::scope(|threads| {
                for _ in 0..workers {
                    threads.spawn(work);
                }
            });
        }
        if self.cancel_flag().is_cancelled() {
            return Err(NodeError::cancelled());
        }

        let mut results = Vec::with_capacity(total);
        let mut errors = Vec::new();
        let mut first_failure = None;
        for (index, (end, item)) in ends.into_iter().zip(&items).enumerate() {
            match end.into_inner().unwrap_or_else(|e| e.into_inner()) {
                Some(ItemEnd::Done(mut outputs)) => {
                    outputs.insert("item".to_owned(), item.clone());
                    outputs.insert("original_index".to_owned(), json!(index));
                    results.push(Value::Object(outputs));
                }
                Some(ItemEnd::Failed(error)) => {
                    first_failure.get_or_insert_with(|| {
                        format!("batch item {index} of {total} failed: {error}")
                    });
                    errors.push(json!({"index": index, "item": item, "error": error}));
                }
                // Not started: a failure under `fail_fast` stopped the batch first.
                None => {}
            }
        }
        let mut outputs = Map::with_capacity(5);
        outputs.insert("count".to_owned(), json!(total));
        outputs.insert("success_count".to_owned(), json!(results.len()));
        outputs.insert("error_count".to_owned(), json!(errors.len()));
        outputs.insert("results".to_owned(), Value::Array(results));
        outputs.insert("errors".to_owned(), Value::Array(errors));
        match first_failure {
            Some(message) if fail_fast => Err(NodeError::new(message).with_outputs(outputs)),
            _ => Ok(NodeOutcome::new(outputs)),
        }
    }

    /// Runs one item, attempting it up to `max_retries` times in all, `retry_wait` apart,
    /// while it fails in a way a new attempt can fix; `Err` only when the run was
    /// cancelled.
    fn run_item(
        &self,
        node: &pflow_ir::Node,
        batch: &BatchConfig,
        scope: &(dyn TemplateScope + Sync),
        frame: &Frame,
        item: &Value,
        index: usize,
    ) -> Result<ItemEnd, NodeError> {
        // While it runs, the item is `${item}` (or its `as`) and its index `${__index__}`.
        let item_scope = Overlay::new(scope)
            .with(batch.item_name(), Some(item.clone()))
            .with(INDEX_ROOT, Some(json!(index)));
        let attempts = batch.attempts();
        let mut attempt = 1;
        loop {
            match self.execute_once_or_retried(node, &item_scope, frame) {
                Ok(outcome) => return Ok(ItemEnd::Done(outcome.outputs)),
                Err(error) if error.is_cancelled() => return Err(error),
                // As in 0.16, only a failure a new attempt can fix is attempted again (a
                // dropped connection, not a command's exit code or a raised exception).
                Err(error) if attempt >= attempts || !error.is_retriable() => {
                    return Ok(ItemEnd::Failed(error.to_string()));
                }
                Err(_) => {
                    attempt += 1;
                    let wait = Duration::from_secs_f64(batch.retry_wait_secs());
                    if !self.cancel_flag().sleep(wait) {
                        return Err(NodeError::cancelled());
                    }
                }
            }
        }
    }
}

/// The items: a `${…}` reference resolved to an array, or an inline array whose elements'
/// templates are resolved.
fn batch_items(
    node: &pflow_ir::Node,
    batch: &BatchConfig,
    scope: &dyn TemplateScope,
) -> Result<Vec<Value>, NodeError> {
    let resolved = match &batch.items {
        Value::String(text) => resolve_str(text, scope),
        other => resolve_value(other, scope),
    }
    .map_err(|e| NodeError::new(format!("cannot resolve `batch.items`: {e}")))?;
    match resolved {
        Value::Array(items) => Ok(items),
        other => Err(NodeError::new(format!(
            "`batch.items` of node `{}` is {}, not an array (hint: give an array or a \
             reference to one; a command's lines become one with `jq -R -s \
             'split(\"\\n\") | map(select(. != \"\"))'`)",
            node.id,
            article_type(&other)
        ))),
    }
}
