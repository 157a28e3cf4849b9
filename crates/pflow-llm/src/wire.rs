//! The two wire formats: request bodies and how replies and errors read.
//!
//! OpenAI Chat Completions (`POST {base}/chat/completions`) and Anthropic Messages
//! (`POST {base}/v1/messages`), with the fields pflow 0.16 sends through litellm: the
//! messages, `temperature`, `stream: false`, `max_tokens` when given, and for a schema
//! OpenAI's `response_format` of type `json_schema` (named `response`, strict) or, for
//! Anthropic, one forced tool (`json_tool_call`) whose input is the reply.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::Request;

/// The name of the tool an Anthropic model is made to call for a structured reply; its
/// input is the reply (litellm's name, so 0.16's and pflow's requests agree).
pub(crate) const ANTHROPIC_SCHEMA_TOOL: &str = "json_tool_call";

/// Anthropic requires `max_tokens`; this is litellm's default when a node gives none.
pub(crate) const ANTHROPIC_DEFAULT_MAX_TOKENS: u64 = 4096;

/// What one call consumed, as 0.16 counts it: `input_tokens` includes the tokens read
/// from and written to the provider's prompt cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Every input token, cached or not.
    pub input_tokens: u64,
    /// Output tokens (including any reasoning).
    pub output_tokens: u64,
    /// Input tokens written to the provider's prompt cache.
    #[serde(default)]
    pub cache_creation_input_tokens: u64,
    /// Input tokens read from the provider's prompt cache.
    #[serde(default)]
    pub cache_read_input_tokens: u64,
}

impl Usage {
    /// Input plus output tokens.
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }
}

/// What a reply holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Parsed {
    /// The text (for a structured Anthropic reply, the tool input as JSON text).
    pub(crate) text: String,
    pub(crate) usage: Usage,
    /// The model the provider says answered, when it says.
    pub(crate) model: Option<String>,
}

/// The body of a Chat Completions request.
pub(crate) fn openai_body(model: &str, request: &Request) -> Value {
    let mut messages = Vec::with_capacity(2);
    if let Some(system) = &request.system {
        messages.push(json!({"role": "system", "content": system}));
    }
    messages.push(json!({"role": "user", "content": request.prompt}));
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert("messages".into(), Value::Array(messages));
    body.insert("temperature".into(), json!(request.temperature));
    body.insert("stream".into(), json!(false));
    if let Some(max) = request.max_tokens {
        body.insert("max_tokens".into(), json!(max));
    }
    if let Some(schema) = &request.schema {
        body.insert(
            "response_format".into(),
            json!({"type": "json_schema", "json_schema": {"name": "response", "schema": schema, "strict": true}}),
        );
    }
    Value::Object(body)
}

/// The body of a Messages request.
pub(crate) fn anthropic_body(model: &str, request: &Request) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert("messages".into(), json!([{"role": "user", "content": request.prompt}]));
    if let Some(system) = &request.system {
        body.insert("system".into(), json!(system));
    }
    body.insert("temperature".into(), json!(request.temperature));
    body.insert(
        "max_tokens".into(),
        json!(request.max_tokens.unwrap_or(ANTHROPIC_DEFAULT_MAX_TOKENS)),
    );
    if let Some(schema) = &request.schema {
        body.insert(
            "tools".into(),
            json!([{
                "name": ANTHROPIC_SCHEMA_TOOL,
                "description": "Respond with the JSON object the schema describes.",
                "input_schema": schema,
            }]),
        );
        body.insert("tool_choice".into(), json!({"type": "tool", "name": ANTHROPIC_SCHEMA_TOOL}));
    }
    Value::Object(body)
}

/// Reads a Chat Completions reply.
pub(crate) fn parse_openai(body: &[u8]) -> Result<Parsed, String> {
    #[derive(Deserialize)]
    struct Reply {
        choices: Vec<Choice>,
        #[serde(default)]
        usage: Option<OpenAiUsage>,
        #[serde(default)]
        model: Option<String>,
    }
    #[derive(Deserialize)]
    struct Choice {
        message: Message,
        #[serde(default)]
        finish_reason: Option<String>,
    }
    #[derive(Deserialize)]
    struct Message {
        #[serde(default)]
        content: Option<String>,
        #[serde(default)]
        refusal: Option<String>,
    }
    #[derive(Deserialize)]
    struct OpenAiUsage {
        #[serde(default)]
        prompt_tokens: u64,
        #[serde(default)]
        completion_tokens: u64,
        #[serde(default)]
        prompt_tokens_details: Option<Details>,
    }
    #[derive(Deserialize)]
    struct Details {
        #[serde(default)]
        cached_tokens: Option<u64>,
    }
    let reply: Reply = serde_json::from_slice(body).map_err(|e| not_the_api(body, &e))?;
    let choice = reply.choices.into_iter().next().ok_or("the reply has no choices")?;
    if let Some(refusal) = choice.message.refusal.filter(|r| !r.is_empty()) {
        return Err(format!("the model refused: {refusal}"));
    }
    let text = choice.message.content.unwrap_or_default();
    if text.is_empty() {
        let reason = choice.finish_reason.as_deref().unwrap_or("none given");
        return Err(format!(
            "the reply is empty (finish_reason {reason}); raise `max_tokens` if it was `length`"
        ));
    }
    let usage = reply.usage.map_or(Usage::default(), |u| Usage {
        input_tokens: u.prompt_tokens,
        output_tokens: u.completion_tokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: u.prompt_tokens_details.and_then(|d| d.cached_tokens).unwrap_or(0),
    });
    Ok(Parsed { text, usage, model: reply.model })
}

/// Reads a Messages reply; with a schema, the forced tool's input is the reply.
pub(crate) fn parse_anthropic(body: &[u8], structured: bool) -> Result<Parsed, String> {
    #[derive(Deserialize)]
    struct Reply {
        content: Vec<Block>,
        #[serde(default)]
        usage: Option<AnthropicUsage>,
        #[serde(default)]
        model: Option<String>,
        #[serde(default)]
        stop_reason: Option<String>,
    }
    #[derive(Deserialize)]
    struct Block {
        #[serde(rename = "type")]
        kind: String,
        #[serde(default)]
        text: Option<String>,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        input: Option<Value>,
    }
    #[derive(Deserialize)]
    struct AnthropicUsage {
        #[serde(default)]
        input_tokens: u64,
        #[serde(default)]
        output_tokens: u64,
        #[serde(default)]
        cache_creation_input_tokens: Option<u64>,
        #[serde(default)]
        cache_read_input_tokens: Option<u64>,
    }
    let reply: Reply = serde_json::from_slice(body).map_err(|e| not_the_api(body, &e))?;
    let tool_input = reply
        .content
        .iter()
        .find(|b| b.kind == "tool_use" && b.name.as_deref() == Some(ANTHROPIC_SCHEMA_TOOL))
        .and_then(|b| b.input.as_ref());
    let text = match tool_input {
        Some(input) if structured => input.to_string(),
        _ => reply
            .content
            .iter()
            .filter(|b| b.kind == "text")
            .filter_map(|b| b.text.as_deref())
            .collect::<Vec<_>>()
            .join(""),
    };
    if text.is_empty() {
        let reason = reply.stop_reason.as_deref().unwrap_or("none given");
        return Err(format!(
            "the reply is empty (stop_reason {reason}); raise `max_tokens` if it was `max_tokens`"
        ));
    }
    let usage = reply.usage.map_or(Usage::default(), |u| {
        let created = u.cache_creation_input_tokens.unwrap_or(0);
        let read = u.cache_read_input_tokens.unwrap_or(0);
        // Anthropic's `input_tokens` leaves out the cached part; 0.16 counts it in.
        Usage {
            input_tokens: u.input_tokens + created + read,
            output_tokens: u.output_tokens,
            cache_creation_input_tokens: created,
            cache_read_input_tokens: read,
        }
    });
    Ok(Parsed { text, usage, model: reply.model })
}

/// The message of an error reply: the provider's `error.message` (OpenAI, Anthropic,
/// vLLM), its `error` string (Ollama, llama.cpp), else the start of the body.
pub(crate) fn error_message(body: &[u8]) -> String {
    const MAX: usize = 500;
    let from_json = serde_json::from_slice::<Value>(body).ok().and_then(|v| match v.get("error") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Object(e)) => e.get("message").and_then(Value::as_str).map(str::to_owned),
        _ => v.get("message").and_then(Value::as_str).map(str::to_owned),
    });
    let text = from_json.unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_owned());
    let text: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let text = text.trim();
    if text.is_empty() {
        return "no message".to_owned();
    }
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// Why a body is not the API's reply: not JSON at all, or JSON of another shape.
fn not_the_api(body: &[u8], error: &serde_json::Error) -> String {
    if serde_json::from_slice::<Value>(body).is_err() {
        let start: String = String::from_utf8_lossy(body).chars().take(80).collect();
        format!("the body is not JSON ({error}); it starts `{}`", start.escape_default())
    } else {
        format!("the body is not the API's reply shape: {error}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(schema: Option<Value>) -> Request {
        Request {
            system: Some("Be brief.".into()),
            prompt: "Say hi".into(),
            temperature: 0.0,
            max_tokens: None,
            schema,
        }
    }

    #[test]
    fn openai_bodies_carry_what_0_16_sends() {
        let body = openai_body("gpt-4o-mini", &request(Some(json!({"type": "object"}))));
        assert_eq!(
            body.to_string(),
            r#"{"model":"gpt-4o-mini","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Say hi"}],"temperature":0.0,"stream":false,"response_format":{"type":"json_schema","json_schema":{"name":"response","schema":{"type":"object"},"strict":true}}}"#
        );
    }

    #[test]
    fn anthropic_bodies_force_the_schema_tool() {
        let body = anthropic_body("claude-haiku-4-5", &request(Some(json!({"type": "object"}))));
        assert_eq!(body["max_tokens"], 4096);
        assert_eq!(body["system"], "Be brief.");
        assert_eq!(body["tool_choice"], json!({"type": "tool", "name": "json_tool_call"}));
        assert_eq!(body["tools"][0]["input_schema"], json!({"type": "object"}));
        let reply = br#"{"content":[{"type":"tool_use","id":"t","name":"json_tool_call","input":{"a":1}}],"usage":{"input_tokens":5,"output_tokens":3,"cache_read_input_tokens":10}}"#;
        let parsed = parse_anthropic(reply, true).unwrap();
        assert_eq!((parsed.text.as_str(), parsed.usage.input_tokens), (r#"{"a":1}"#, 15));
    }

    #[test]
    fn replies_that_are_not_the_api_are_named() {
        assert!(parse_openai(b"<html>").unwrap_err().contains("not JSON"));
        assert!(parse_openai(b"{\"x\":1}").unwrap_err().contains("shape"));
        assert!(parse_openai(br#"{"choices":[]}"#).unwrap_err().contains("no choices"));
        let empty = br#"{"choices":[{"message":{"content":null},"finish_reason":"length"}]}"#;
        assert!(parse_openai(empty).unwrap_err().contains("length"));
        assert!(parse_anthropic(br#"{"content":[]}"#, false).unwrap_err().contains("empty"));
    }

    #[test]
    fn error_messages_come_from_every_servers_shape() {
        assert_eq!(error_message(br#"{"error":{"message":"bad key","type":"x"}}"#), "bad key");
        assert_eq!(
            error_message(
                br#"{"type":"error","error":{"type":"not_found_error","message":"model: x"}}"#
            ),
            "model: x"
        );
        assert_eq!(error_message(br#"{"error":"model 'x' not found"}"#), "model 'x' not found");
        assert_eq!(error_message(b"Bad Gateway\n"), "Bad Gateway");
        assert_eq!(error_message(b""), "no message");
    }
}
