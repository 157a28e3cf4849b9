//! `llm`: one call to a model (SPEC §5.7), with 0.16's interface.
//!
//! The providers, the call and the reply cache are `pflow-llm`'s; this node resolves the
//! params, asks the cache, calls, checks a structured reply, and records what each call
//! consumed in the [`LlmSetup`]'s ledger so a front end can report it.

use std::sync::Arc;

use pflow_ir::NodeSpec;
use pflow_ir::ValueType::{Integer, Number, Object, String as Str};
use pflow_llm::{
    CacheKey, CallOptions, LlmError, LlmSettings, ModelRef, OutputSchema, Providers, Reply,
    ReplyCache, Request, RetryPolicy, Usage,
};
use serde_json::{Map, Value, json};

use super::{optional, output, required, spec};
use crate::{Event, LlmCall, Node, NodeContext, NodeError, NodeOutcome, Params};

/// 0.16's timeout of one call, in seconds.
const DEFAULT_TIMEOUT_SECS: f64 = 120.0;

/// 0.16's temperature when a node gives none.
const DEFAULT_TEMPERATURE: f64 = 1.0;

/// What the `llm` node calls with: the providers, the reply cache (none with
/// `--no-cache`) and the retry policy. Each call is reported to the run's observer as
/// an [`Event::ModelCall`]; a [`UsageTally`](crate::UsageTally) adds them up.
#[derive(Debug)]
pub struct LlmSetup {
    providers: Providers,
    cache: Option<ReplyCache>,
    retry: RetryPolicy,
}

impl LlmSetup {
    /// Calls through `providers`, keeping replies in `cache` when there is one.
    pub fn new(providers: Providers, cache: Option<ReplyCache>) -> LlmSetup {
        LlmSetup { providers, cache, retry: RetryPolicy::default() }
    }

    /// The providers of the process environment and no config, with no cache.
    pub fn from_env() -> LlmSetup {
        LlmSetup::new(Providers::new(LlmSettings::default(), |v| std::env::var(v).ok()), None)
    }

    /// The same setup, retrying as `retry` says.
    pub fn with_retry(mut self, retry: RetryPolicy) -> LlmSetup {
        self.retry = retry;
        self
    }

    /// The providers.
    pub fn providers(&self) -> &Providers {
        &self.providers
    }
}

/// The `llm` node type.
#[derive(Debug)]
pub(crate) struct Llm {
    spec: NodeSpec,
    setup: Arc<LlmSetup>,
}

impl Llm {
    pub(crate) fn new(setup: Arc<LlmSetup>) -> Llm {
        let mut spec = spec(
            "llm",
            "ai",
            "Ask a model (OpenAI-compatible or Anthropic); with `output_schema`, the reply is \
             JSON checked against it",
        );
        spec.params = vec![
            required("prompt", None, "The prompt; a value that is not text is sent as JSON"),
            optional("system", Some(Str), None, "The system prompt"),
            optional(
                "model",
                Some(Str),
                None,
                "`provider/model` (`openai/gpt-4o-mini`, `anthropic/claude-sonnet-4-5`, \
                 `ollama/llama3.2`); default: `default_model` of the config's `[llm]` table, \
                 else chosen by the keys set",
            ),
            optional(
                "temperature",
                Some(Number),
                Some(json!(DEFAULT_TEMPERATURE)),
                "Sampling temperature, clamped to 0–2",
            ),
            optional("max_tokens", Some(Integer), None, "The reply's token ceiling")
                .with_minimum(1),
            optional(
                "output_schema",
                Some(Object),
                None,
                "A JSON Schema: the reply must be JSON that matches it, and `response` is \
                 the parsed value",
            ),
            optional(
                "timeout",
                Some(Number),
                Some(json!(DEFAULT_TIMEOUT_SECS)),
                "Seconds one attempt may take",
            )
            .with_exclusive_minimum(0),
        ];
        spec.outputs = vec![
            output(
                "response",
                None,
                "The reply: text, or the parsed JSON with `output_schema` (the raw text when \
                 it does not match)",
            ),
            output("prompt", Some(Str), "The prompt as sent, templates resolved"),
            output(
                "llm_usage",
                Some(Object),
                "`model`, `input_tokens`, `output_tokens`, `total_tokens`, cache token counts, \
                 `cost_usd` (null when the price is unknown), `cache_source` (`memo` when the \
                 reply came from pflow's cache)",
            ),
        ];
        Llm { spec, setup }
    }
}

impl Node for Llm {
    fn spec(&self) -> &NodeSpec {
        &self.spec
    }

    fn execute(&self, params: &Params, ctx: &NodeContext<'_>) -> Result<NodeOutcome, NodeError> {
        let prompt = match params.get("prompt") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        if prompt.is_empty() {
            return Err(NodeError::new(
                "param `prompt` is empty; wire data into it with a template like \
                 `${previous_node.output}`",
            ));
        }
        let system = params.str("system")?.map(str::to_owned);
        let temperature =
            params.number("temperature")?.unwrap_or(DEFAULT_TEMPERATURE).clamp(0.0, 2.0);
        let max_tokens = params.unsigned("max_tokens")?;
        let timeout = params.timeout_secs(DEFAULT_TIMEOUT_SECS)?;
        let schema = match params.get("output_schema") {
            Some(value) => Some(OutputSchema::new(value).map_err(failed)?),
            None => None,
        };
        let model = match params.str("model")? {
            Some(text) => ModelRef::parse(text),
            None => self.setup.providers.default_model(),
        }
        .map_err(failed)?;
        let endpoint = self.setup.providers.endpoint(&model).map_err(failed)?;
        let request = Request {
            system,
            prompt,
            temperature,
            max_tokens,
            schema: schema.as_ref().map(|s| s.schema().clone()),
        };

        let key = CacheKey::new(&endpoint, &request);
        let cached = self.setup.cache.as_ref().and_then(|cache| cache.get(&key));
        let from_cache = cached.is_some();
        let reply = match cached {
            Some(reply) => reply,
            None => {
                let options = CallOptions {
                    timeout,
                    retry: self.setup.retry,
                    cancel: Some(ctx.cancel_flag().shared()),
                };
                let reply = pflow_llm::complete(&endpoint, &request, &options).map_err(failed)?;
                if let Some(cache) = &self.setup.cache {
                    // A reply that cannot be kept is still the reply: the next run asks
                    // again, which costs tokens but is never wrong.
                    let _ = cache.put(&key, &reply);
                }
                reply
            }
        };

        let call = ledger_entry(ctx.node_id(), &model, &reply, from_cache);
        let usage = usage_output(&model, &reply, &call);
        ctx.report(&Event::ModelCall { depth: ctx.depth(), call: &call });
        let mut outputs = Map::with_capacity(3);
        outputs.insert("prompt".to_owned(), Value::String(request.prompt.clone()));
        outputs.insert("llm_usage".to_owned(), usage);
        match &schema {
            Some(schema) => match schema.check(&model.to_string(), &reply.text) {
                Ok(value) => {
                    outputs.insert("response".to_owned(), value);
                }
                Err(error) => {
                    outputs.insert("response".to_owned(), Value::String(reply.text));
                    return Err(failed(error).with_outputs(outputs));
                }
            },
            None => {
                outputs.insert("response".to_owned(), Value::String(strip_fence(&reply.text)));
            }
        }
        Ok(NodeOutcome::new(outputs))
    }
}

/// The node's failure for an [`LlmError`], with its hint; a cancelled call stops the run.
fn failed(error: LlmError) -> NodeError {
    if matches!(error, LlmError::Cancelled { .. }) {
        return NodeError::cancelled();
    }
    match error.hint() {
        Some(hint) => NodeError::new(format!("{error} (hint: {hint})")),
        None => NodeError::new(error.to_string()),
    }
}

/// What the ledger records of one call: a cached reply consumed nothing.
fn ledger_entry(node_id: &str, model: &ModelRef, reply: &Reply, cached: bool) -> LlmCall {
    let usage = if cached { Usage::default() } else { reply.usage };
    let cost_usd = pflow_llm::price(model).map(|p| p.cost(&usage));
    LlmCall { node_id: node_id.to_owned(), model: model.to_string(), usage, cost_usd, cached }
}

/// The `llm_usage` output, in 0.16's keys.
fn usage_output(model: &ModelRef, reply: &Reply, call: &LlmCall) -> Value {
    let usage = call.usage;
    let mut out = json!({
        "model": format!("{}/{}", model.provider(), reply.model),
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens(),
        "cache_creation_input_tokens": usage.cache_creation_input_tokens,
        "cache_read_input_tokens": usage.cache_read_input_tokens,
        "cost_usd": call.cost_usd,
    });
    if call.cached {
        out["cache_source"] = json!("memo");
    }
    out
}

/// A reply that is one fenced code block, without the fences (0.16 strips this
/// transport artifact from text replies); anything else as it is.
fn strip_fence(text: &str) -> String {
    let trimmed = text.trim();
    if !(trimmed.starts_with("```") && trimmed.ends_with("```")) {
        return text.to_owned();
    }
    let Some(first_newline) = trimmed.find('\n') else { return text.to_owned() };
    let closing = trimmed.rfind("```").unwrap_or(0);
    if closing <= first_newline {
        return text.to_owned();
    }
    trimmed[first_newline + 1..closing].trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_whole_fenced_reply_loses_its_fences() {
        assert_eq!(strip_fence("```json\n{\"a\": 1}\n```"), "{\"a\": 1}");
        assert_eq!(strip_fence("  ```\nx\n```  "), "x");
        assert_eq!(strip_fence("```json\n{}\n``` and more"), "```json\n{}\n``` and more");
        assert_eq!(strip_fence("plain"), "plain");
        assert_eq!(strip_fence("``````"), "``````");
    }

    #[test]
    fn a_cached_call_costs_nothing() {
        let model = ModelRef::parse("openai/gpt-4o-mini").unwrap();
        let reply = Reply {
            text: "x".into(),
            usage: Usage { input_tokens: 1000, output_tokens: 10, ..Usage::default() },
            model: "gpt-4o-mini".into(),
            attempts: 1,
        };
        let fresh = ledger_entry("a", &model, &reply, false);
        assert!(fresh.cost_usd.unwrap() > 0.0);
        let cached = ledger_entry("a", &model, &reply, true);
        assert_eq!((cached.usage, cached.cost_usd), (Usage::default(), Some(0.0)));
        assert_eq!(usage_output(&model, &reply, &cached)["cache_source"], "memo");
    }
}
