//! `http`: one HTTP request with `ureq`; a JSON response body is parsed.

use std::time::Duration;

use pflow_ir::NodeSpec;
use pflow_ir::ValueType::{Boolean, Integer, Number, Object, String as Str};
use serde_json::{Map, Value, json};
use ureq::Agent;
use ureq::http::{Method, Request};

use super::{optional, output, required, spec};
use crate::{Node, NodeContext, NodeError, NodeOutcome, Params};

/// The timeout when the workflow gives none, in seconds.
const DEFAULT_TIMEOUT_SECS: u64 = 30;

/// The longest timeout honoured (a year); a larger one means the same.
const MAX_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);

/// The largest response body read: 16 MiB.
const MAX_BODY_BYTES: u64 = 16 * 1024 * 1024;

/// The `http` node type.
#[derive(Debug)]
pub(crate) struct Http {
    spec: NodeSpec,
}

impl Http {
    pub(crate) fn new() -> Http {
        let mut spec = spec(
            "http",
            "network",
            "Send an HTTP request; a JSON response body is parsed, others are text",
        );
        spec.params = vec![
            required("url", Some(Str), "The URL (`http://` or `https://`)"),
            optional("method", Some(Str), Some(json!("GET")), "The HTTP method"),
            optional(
                "headers",
                Some(Object),
                None,
                "Request headers, an object of strings (numbers and booleans are written as text)",
            ),
            optional(
                "body",
                None,
                None,
                "The request body: a string is sent as it is; any other JSON value is sent as \
                 JSON with `Content-Type: application/json` unless a content type is given",
            ),
            optional(
                "timeout",
                Some(Number),
                Some(json!(DEFAULT_TIMEOUT_SECS)),
                "Seconds the whole request may take",
            ),
            optional(
                "ignore_errors",
                Some(Boolean),
                Some(json!(false)),
                "Succeed even when the response status is 400 or above",
            ),
        ];
        spec.outputs = vec![
            output("status_code", Some(Integer), "The response status (200, 404, …)"),
            output(
                "headers",
                Some(Object),
                "Response headers by lower-case name; repeated headers joined with `, `",
            ),
            output(
                "body",
                None,
                "The response body: parsed JSON when the response is JSON, else text (UTF-8, \
                 lossy)",
            ),
        ];
        Http { spec }
    }
}

impl Node for Http {
    fn spec(&self) -> &NodeSpec {
        &self.spec
    }

    fn execute(&self, params: &Params, _ctx: &NodeContext<'_>) -> Result<NodeOutcome, NodeError> {
        let url = params.required_str("url")?;
        let method_text = params.str("method")?.unwrap_or("GET").to_ascii_uppercase();
        let method = Method::from_bytes(method_text.as_bytes())
            .map_err(|_| NodeError::new(format!("invalid HTTP method `{method_text}`")))?;
        let headers = params.string_map("headers")?;
        let timeout = timeout_of(params)?;
        let ignore_errors = params.bool("ignore_errors")?.unwrap_or(false);

        let has_content_type = headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
        let mut builder = Request::builder().method(method).uri(url);
        for (name, value) in &headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let body = match params.get("body") {
            None => None,
            Some(Value::String(s)) => Some(s.clone().into_bytes()),
            Some(other) => {
                if !has_content_type {
                    builder = builder.header("content-type", "application/json");
                }
                Some(other.to_string().into_bytes())
            }
        };
        let invalid =
            |e: ureq::http::Error| NodeError::new(format!("invalid request to `{url}`: {e}"));
        let agent: Agent = Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .build()
            .new_agent();
        let sent = match body {
            Some(bytes) => agent.run(builder.body(bytes).map_err(invalid)?),
            None => agent.run(builder.body(()).map_err(invalid)?),
        };
        let mut response =
            sent.map_err(|e| NodeError::new(format!("{method_text} `{url}` failed: {e}")))?;

        let status = response.status();
        let mut response_headers = Map::new();
        for (name, value) in response.headers() {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            match response_headers.get_mut(name.as_str()) {
                Some(Value::String(existing)) => {
                    existing.push_str(", ");
                    existing.push_str(&value);
                }
                _ => {
                    response_headers.insert(name.as_str().to_owned(), Value::String(value));
                }
            }
        }
        let is_json = response.body().mime_type().is_some_and(is_json_mime);
        let bytes = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY_BYTES)
            .read_to_vec()
            .map_err(|e| NodeError::new(format!("cannot read the response of `{url}`: {e}")))?;
        let body = if is_json && let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
            value
        } else {
            Value::String(String::from_utf8_lossy(&bytes).into_owned())
        };

        let mut outputs = Map::with_capacity(3);
        outputs.insert("status_code".to_owned(), json!(status.as_u16()));
        outputs.insert("headers".to_owned(), Value::Object(response_headers));
        outputs.insert("body".to_owned(), body);
        if status.as_u16() >= 400 && !ignore_errors {
            return Err(NodeError::new(format!("{method_text} `{url}` returned status {status}"))
                .with_outputs(outputs));
        }
        Ok(NodeOutcome::new(outputs))
    }
}

/// Whether a media type is JSON (`application/json`, `application/problem+json`, …).
fn is_json_mime(mime: &str) -> bool {
    let mime = mime.trim().to_ascii_lowercase();
    mime == "application/json" || mime.ends_with("+json")
}

/// The `timeout` param as a duration.
fn timeout_of(params: &Params) -> Result<Duration, NodeError> {
    let seconds = params.number("timeout")?.unwrap_or(DEFAULT_TIMEOUT_SECS as f64);
    // `is_nan` too: NaN compares false with everything.
    if seconds.is_nan() || seconds <= 0.0 {
        return Err(NodeError::new(format!("param `timeout` must be positive, got `{seconds}`")));
    }
    // Far beyond any real request; small enough that the client's clock arithmetic holds.
    Ok(Duration::try_from_secs_f64(seconds).unwrap_or(MAX_TIMEOUT).min(MAX_TIMEOUT))
}
