//! One call to a model: the request, bounded retries, timeout and cancellation.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use ureq::Agent;
use ureq::http::Request as HttpRequest;

use crate::wire::{self, Parsed, Usage};
use crate::{Api, Endpoint, LlmError, LlmResult};

/// The largest reply body read: 16 MiB.
const MAX_BODY_BYTES: u64 = 16 * 1024 * 1024;

/// How often a waiting call looks at the stop flag.
const CANCEL_POLL: Duration = Duration::from_millis(10);

/// The `anthropic-version` header every Messages request carries.
const ANTHROPIC_VERSION: &str = "2023-06-01";

/// What to ask a model.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The system prompt.
    pub system: Option<String>,
    /// The user prompt, templates resolved.
    pub prompt: String,
    /// The sampling temperature (0.16 sends 1.0 unless told otherwise).
    pub temperature: f64,
    /// The reply's token ceiling.
    pub max_tokens: Option<u64>,
    /// The JSON Schema the reply must match.
    pub schema: Option<Value>,
}

/// What a model answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The reply's text (JSON text for a structured reply).
    pub text: String,
    /// What the call consumed.
    pub usage: Usage,
    /// The model the provider says answered (else the one asked for), without the
    /// provider.
    pub model: String,
    /// The attempts it took (1 unless a transient failure was retried).
    pub attempts: u32,
}

/// How often and how patiently transient failures are retried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, at least 1.
    pub attempts: u32,
    /// The wait before the second attempt; it doubles after each, unless the provider
    /// says how long with `Retry-After`.
    pub first_wait: Duration,
    /// The longest wait, whatever `Retry-After` says.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    /// 0.16's: 3 attempts, 1 s apart and doubling, at most 60 s.
    fn default() -> RetryPolicy {
        RetryPolicy {
            attempts: 3,
            first_wait: Duration::from_secs(1),
            max_wait: Duration::from_secs(60),
        }
    }
}

/// How to make a call.
#[derive(Debug, Clone)]
pub struct CallOptions {
    /// How long one attempt may take.
    pub timeout: Duration,
    /// Retries of 429, 5xx and dropped connections.
    pub retry: RetryPolicy,
    /// Set to stop the call at once (the run's cancel flag).
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Default for CallOptions {
    /// 0.16's timeout of 120 s, its retries, no cancel flag.
    fn default() -> CallOptions {
        CallOptions {
            timeout: Duration::from_secs(120),
            retry: RetryPolicy::default(),
            cancel: None,
        }
    }
}

/// Asks `endpoint`'s model `request`, retrying what a retry can fix.
///
/// Every error names the provider and the model and holds no key.
pub fn complete(endpoint: &Endpoint, request: &Request, options: &CallOptions) -> LlmResult<Reply> {
    let attempts = options.retry.attempts.max(1);
    let mut attempt = 1;
    loop {
        let failure = match attempt_once(endpoint, request, options) {
            Ok(parsed) => {
                let model = parsed.model.unwrap_or_else(|| endpoint.model.name().to_owned());
                return Ok(Reply {
                    text: parsed.text,
                    usage: parsed.usage,
                    model,
                    attempts: attempt,
                });
            }
            Err(Failure::Final(error)) => return Err(error),
            Err(Failure::Transient(transient)) => transient,
        };
        if attempt >= attempts {
            return Err(failure.into_error(endpoint, attempt));
        }
        let backoff = options.retry.first_wait.saturating_mul(1 << (attempt - 1).min(16));
        let wait = failure.retry_after.unwrap_or(backoff).min(options.retry.max_wait);
        sleep_unless_cancelled(wait, options.cancel.as_deref())
            .map_err(|()| cancelled(endpoint))?;
        attempt += 1;
    }
}

/// A failed attempt.
enum Failure {
    /// Retrying cannot help.
    Final(LlmError),
    /// Another attempt may succeed.
    Transient(Transient),
}

/// A failure another attempt may fix, and how long the provider asks to wait.
struct Transient {
    kind: TransientKind,
    message: String,
    retry_after: Option<Duration>,
}

enum TransientKind {
    RateLimited,
    Server(u16),
    Connection,
}

impl Transient {
    fn into_error(self, endpoint: &Endpoint, attempts: u32) -> LlmError {
        let (provider, model) = names(endpoint);
        let message = self.message;
        match self.kind {
            TransientKind::RateLimited => {
                LlmError::RateLimited { provider, model, attempts, message }
            }
            TransientKind::Server(status) => {
                LlmError::Server { provider, model, status, attempts, message }
            }
            TransientKind::Connection => LlmError::Connection {
                provider,
                model,
                url: endpoint.base_url.clone(),
                attempts,
                message,
            },
        }
    }
}

/// A reply as the HTTP layer gives it.
struct RawReply {
    status: u16,
    retry_after: Option<String>,
    body: Vec<u8>,
}

/// One attempt: send, wait (watching the stop flag), read.
fn attempt_once(
    endpoint: &Endpoint,
    request: &Request,
    options: &CallOptions,
) -> Result<Parsed, Failure> {
    let (url, body) = match endpoint.api {
        Api::OpenAiChat => (
            format!("{}/chat/completions", endpoint.base_url),
            wire::openai_body(endpoint.model.name(), request),
        ),
        Api::AnthropicMessages => (
            format!("{}/v1/messages", endpoint.base_url),
            wire::anthropic_body(endpoint.model.name(), request),
        ),
    };
    let mut builder = HttpRequest::builder()
        .method("POST")
        .uri(url.as_str())
        .header("content-type", "application/json")
        .header("accept", "application/json");
    match (endpoint.api, &endpoint.key) {
        (Api::OpenAiChat, Some(key)) => {
            builder = builder.header("authorization", format!("Bearer {}", key.expose()))
        }
        (Api::AnthropicMessages, Some(key)) => builder = builder.header("x-api-key", key.expose()),
        (_, None) => {}
    }
    if endpoint.api == Api::AnthropicMessages {
        builder = builder.header("anthropic-version", ANTHROPIC_VERSION);
    }
    let (provider, model) = names(endpoint);
    let http_request = builder.body(body.to_string().into_bytes()).map_err(|e| {
        Failure::Final(LlmError::InvalidBaseUrl {
            provider: provider.clone(),
            why: scrub(endpoint, &e.to_string()),
        })
    })?;
    let agent: Agent = Agent::config_builder()
        .timeout_global(Some(options.timeout))
        .http_status_as_error(false)
        .user_agent(concat!("pflow/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent();

    // The request runs on its own thread so that a cancelled run does not wait for it:
    // the client cannot be interrupted, so a cancelled request is left to end at its
    // timeout (its reply is dropped) while the call returns at once.
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(exchange(&agent, http_request));
    });
    let raw = loop {
        if options.cancel.as_deref().is_some_and(|c| c.load(Ordering::SeqCst)) {
            return Err(Failure::Final(cancelled(endpoint)));
        }
        match rx.recv_timeout(CANCEL_POLL) {
            Ok(raw) => break raw,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                return Err(transient(
                    TransientKind::Connection,
                    "the request thread stopped".into(),
                    None,
                ));
            }
        }
    };
    let raw = match raw {
        Ok(raw) => raw,
        Err(ureq::Error::Timeout(_)) => {
            return Err(Failure::Final(LlmError::Timeout {
                provider,
                model,
                timeout: options.timeout,
            }));
        }
        Err(
            e @ (ureq::Error::Io(_)
            | ureq::Error::ConnectionFailed
            | ureq::Error::Protocol(_)
            | ureq::Error::BodyStalled),
        ) => {
            return Err(transient(
                TransientKind::Connection,
                scrub(endpoint, &e.to_string()),
                None,
            ));
        }
        Err(e) => {
            let message = scrub(endpoint, &e.to_string());
            return Err(Failure::Final(LlmError::Connection {
                provider,
                model,
                url: endpoint.base_url.clone(),
                attempts: 1,
                message,
            }));
        }
    };
    let message = || scrub(endpoint, &wire::error_message(&raw.body));
    let retry_after = raw.retry_after.as_deref().and_then(parse_retry_after);
    match raw.status {
        200..=299 => {
            let parsed = match endpoint.api {
                Api::OpenAiChat => wire::parse_openai(&raw.body),
                Api::AnthropicMessages => {
                    wire::parse_anthropic(&raw.body, request.schema.is_some())
                }
            };
            parsed.map_err(|why| {
                Failure::Final(LlmError::BadReply { provider, model, why: scrub(endpoint, &why) })
            })
        }
        401 | 403 => Err(Failure::Final(LlmError::Unauthorized {
            provider: provider.clone(),
            model,
            status: raw.status,
            message: message(),
            env: crate::config::key_env_of(&provider),
        })),
        404 => Err(Failure::Final(LlmError::ModelNotFound { provider, model, message: message() })),
        408 | 409 | 429 => {
            let kind = if raw.status == 429 {
                TransientKind::RateLimited
            } else {
                TransientKind::Server(raw.status)
            };
            Err(transient(kind, message(), retry_after))
        }
        500..=599 => Err(transient(TransientKind::Server(raw.status), message(), retry_after)),
        status => {
            Err(Failure::Final(LlmError::Refused { provider, model, status, message: message() }))
        }
    }
}

/// Sends `request` and reads the whole reply (at most [`MAX_BODY_BYTES`]).
fn exchange(agent: &Agent, request: HttpRequest<Vec<u8>>) -> Result<RawReply, ureq::Error> {
    let mut response = agent.run(request)?;
    let retry_after =
        response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let status = response.status().as_u16();
    let body = response.body_mut().with_config().limit(MAX_BODY_BYTES).read_to_vec()?;
    Ok(RawReply { status, retry_after, body })
}

/// `Retry-After` as seconds (`120`, `1.5`); an HTTP date is not worth a date parser here
/// and falls back to the backoff.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(3600.0)))
}

/// Sleeps `wait`, returning early with `Err` when `cancel` is set.
fn sleep_unless_cancelled(wait: Duration, cancel: Option<&AtomicBool>) -> Result<(), ()> {
    let end = Instant::now() + wait;
    loop {
        if cancel.is_some_and(|c| c.load(Ordering::SeqCst)) {
            return Err(());
        }
        let now = Instant::now();
        if now >= end {
            return Ok(());
        }
        thread::sleep((end - now).min(CANCEL_POLL));
    }
}

fn transient(kind: TransientKind, message: String, retry_after: Option<Duration>) -> Failure {
    Failure::Transient(Transient { kind, message, retry_after })
}

fn cancelled(endpoint: &Endpoint) -> LlmError {
    let (provider, model) = names(endpoint);
    LlmError::Cancelled { provider, model }
}

/// The provider's and the model's names, for errors.
fn names(endpoint: &Endpoint) -> (String, String) {
    (endpoint.model.provider().to_owned(), endpoint.model.to_string())
}

/// `text` without the endpoint's key.
fn scrub(endpoint: &Endpoint, text: &str) -> String {
    match &endpoint.key {
        Some(key) => key.scrub(text),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 0.5 "), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
