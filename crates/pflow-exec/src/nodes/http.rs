//! `http`: one HTTP request with `ureq`; a JSON response body is parsed.
//!
//! The request runs on a thread of its own while the node watches the stop flag, so a
//! cancelled run returns at once rather than at the request's timeout.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::Duration;

use pflow_ir::ValueType::{Boolean, Integer, Number, Object, String as Str};
use pflow_ir::{NodeSpec, StringFormat};
use serde_json::{Map, Value, json};
use ureq::http::{Method, Request, StatusCode};
use ureq::{Agent, AsSendBody};

use super::{optional, output, required, spec};
use crate::{Node, NodeContext, NodeError, NodeOutcome, Params};

/// The timeout when the workflow gives none, in seconds.
const DEFAULT_TIMEOUT_SECS: u64 = 30;

/// How often a waiting request looks at the stop flag.
const CANCEL_POLL: Duration = Duration::from_millis(50);

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
            required("url", Some(Str), "The URL (`http://` or `https://`)")
                .with_format(StringFormat::HttpUrl),
            optional("method", Some(Str), Some(json!("GET")), "The HTTP method, in any case")
                .with_format(StringFormat::HttpToken),
            optional(
                "headers",
                Some(Object),
                None,
                "Request headers, an object of strings (numbers and booleans are written as text)",
            )
            .with_value_types([Str, Number, Boolean]),
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
            )
            .with_exclusive_minimum(0),
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

    fn execute(&self, params: &Params, ctx: &NodeContext<'_>) -> Result<NodeOutcome, NodeError> {
        // A bad `url`, `method`, `headers` entry or `timeout` is refused here in the words
        // validation uses. The `http-url` and `http-token` formats accept exactly what the
        // request builder below accepts, which leaves its errors to header names and values.
        let url = params.required_str("url")?;
        let method_text = params.str("method")?.unwrap_or("GET").to_ascii_uppercase();
        let method = Method::from_bytes(method_text.as_bytes())
            .map_err(|_| NodeError::new(format!("invalid HTTP method `{method_text}`")))?;
        let headers = params.string_map("headers")?;
        let timeout = params.timeout_secs(DEFAULT_TIMEOUT_SECS as f64)?;
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
        let (tx, rx) = mpsc::channel();
        let (url_owned, method_owned) = (url.to_owned(), method_text.clone());
        // The request runs on its own thread so that a cancelled run does not wait for it:
        // the client cannot be interrupted, so a cancelled request is left to end at its
        // timeout while the node returns at once.
        match body {
            Some(bytes) => {
                let request = builder.body(bytes).map_err(invalid)?;
                thread::spawn(move || {
                    let _ = tx.send(exchange(&agent, request, &method_owned, &url_owned));
                });
            }
            None => {
                let request = builder.body(()).map_err(invalid)?;
                thread::spawn(move || {
                    let _ = tx.send(exchange(&agent, request, &method_owned, &url_owned));
                });
            }
        }
        let reply = loop {
            if ctx.is_cancelled() {
                return Err(NodeError::cancelled());
            }
            match rx.recv_timeout(CANCEL_POLL) {
                Ok(reply) => break reply?,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(NodeError::new(format!(
                        "{method_text} `{url}` failed: the request thread stopped"
                    )));
                }
            }
        };
        let body = if reply.is_json
            && let Ok(value) = serde_json::from_slice::<Value>(&reply.body)
        {
            value
        } else {
            Value::String(String::from_utf8_lossy(&reply.body).into_owned())
        };

        let status = reply.status;
        let mut outputs = Map::with_capacity(3);
        outputs.insert("status_code".to_owned(), json!(status.as_u16()));
        outputs.insert("headers".to_owned(), Value::Object(reply.headers));
        outputs.insert("body".to_owned(), body);
        if status.as_u16() >= 400 && !ignore_errors {
            return Err(NodeError::new(format!("{method_text} `{url}` returned status {status}"))
                .with_outputs(outputs));
        }
        Ok(NodeOutcome::new(outputs))
    }
}

/// A response, read to the end.
struct Reply {
    status: StatusCode,
    headers: Map<String, Value>,
    is_json: bool,
    body: Vec<u8>,
}

/// Sends `request` and reads the whole response (at most [`MAX_BODY_BYTES`] of body).
fn exchange(
    agent: &Agent,
    request: Request<impl AsSendBody>,
    method_text: &str,
    url: &str,
) -> Result<Reply, NodeError> {
    let mut response = agent
        .run(request)
        .map_err(|e| NodeError::new(format!("{method_text} `{url}` failed: {e}")).retriable())?;
    let mut headers = Map::new();
    for (name, value) in response.headers() {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match headers.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            _ => {
                headers.insert(name.as_str().to_owned(), Value::String(value));
            }
        }
    }
    let is_json = response.body().mime_type().is_some_and(is_json_mime);
    let body =
        response.body_mut().with_config().limit(MAX_BODY_BYTES).read_to_vec().map_err(|e| {
            NodeError::new(format!("cannot read the response of `{url}`: {e}")).retriable()
        })?;
    Ok(Reply { status: response.status(), headers, is_json, body })
}

/// Whether a media type is JSON (`application/json`, `application/problem+json`, …).
fn is_json_mime(mime: &str) -> bool {
    let mime = mime.trim().to_ascii_lowercase();
    mime == "application/json" || mime.ends_with("+json")
}
