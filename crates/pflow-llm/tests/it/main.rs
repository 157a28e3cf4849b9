//! The provider clients against the scripted model server: exact requests, every error
//! class, retries, cancellation, and that no error holds the key.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use pflow_llm::testing::{Answer, ModelServer};
use pflow_llm::{
    CallOptions, Endpoint, LlmError, LlmSettings, ModelRef, Providers, Request, RetryPolicy,
    complete,
};
use serde_json::json;

const KEY: &str = "sk-test-7f3a9c1e5b2d4f6a8c0e2b4d6f8a0c2e";

/// The endpoint of `model` on `server`, with [`KEY`].
fn endpoint(server: &ModelServer, model: &str) -> Endpoint {
    let model = ModelRef::parse(model).expect("a model");
    let mut env = BTreeMap::new();
    env.insert("OPENAI_API_KEY".to_owned(), KEY.to_owned());
    env.insert("ANTHROPIC_API_KEY".to_owned(), KEY.to_owned());
    env.insert("OPENAI_BASE_URL".to_owned(), server.v1());
    env.insert("ANTHROPIC_BASE_URL".to_owned(), server.url());
    let mut settings = LlmSettings::default();
    settings.base_url.insert("ollama".into(), server.v1());
    Providers::new(settings, |name| env.get(name).cloned()).endpoint(&model).expect("an endpoint")
}

fn request() -> Request {
    Request {
        system: Some("You are terse.".into()),
        prompt: "Name a colour.".into(),
        temperature: 0.2,
        max_tokens: Some(50),
        schema: None,
    }
}

/// Quick retries, so the tests do not wait 0.16's seconds.
fn options() -> CallOptions {
    CallOptions {
        timeout: Duration::from_secs(10),
        retry: RetryPolicy {
            attempts: 3,
            first_wait: Duration::from_millis(10),
            max_wait: Duration::from_secs(5),
        },
        cancel: None,
    }
}

/// Calls and checks that the error, its `Debug` and its hint hold no part of the key.
#[track_caller]
fn fails(server: &ModelServer, model: &str) -> LlmError {
    let error =
        complete(&endpoint(server, model), &request(), &options()).expect_err("the call fails");
    let all = format!("{error} {error:?} {}", error.hint().unwrap_or_default());
    assert!(!all.contains(&KEY[8..20]), "the key leaked: {all}");
    error
}

#[test]
fn openai_requests_are_exact() {
    let server =
        ModelServer::start(|_| Answer::openai_text("gpt-4o-mini-2024-07-18", "Teal.", 21, 2));
    let reply = complete(&endpoint(&server, "openai/gpt-4o-mini"), &request(), &options()).unwrap();
    assert_eq!(
        (reply.text.as_str(), reply.model.as_str(), reply.attempts),
        ("Teal.", "gpt-4o-mini-2024-07-18", 1)
    );
    assert_eq!((reply.usage.input_tokens, reply.usage.output_tokens), (21, 2));
    let [sent] = server.requests().try_into().unwrap();
    assert_eq!((sent.method.as_str(), sent.path.as_str()), ("POST", "/v1/chat/completions"));
    assert_eq!(sent.header("authorization"), Some(format!("Bearer {KEY}").as_str()));
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(sent.header("x-api-key"), None);
    assert_eq!(
        String::from_utf8(sent.body).unwrap(),
        r#"{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Name a colour."}],"temperature":0.2,"stream":false,"max_tokens":50}"#
    );
}

#[test]
fn anthropic_requests_are_exact() {
    let server =
        ModelServer::start(|_| Answer::anthropic_text("claude-haiku-4-5-20251001", "Teal.", 14, 3));
    let reply =
        complete(&endpoint(&server, "anthropic/claude-haiku-4-5"), &request(), &options()).unwrap();
    assert_eq!(
        (reply.text.as_str(), reply.usage.input_tokens, reply.usage.output_tokens),
        ("Teal.", 14, 3)
    );
    let [sent] = server.requests().try_into().unwrap();
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.header("x-api-key"), Some(KEY));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(sent.header("authorization"), None);
    assert_eq!(
        String::from_utf8(sent.body).unwrap(),
        r#"{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"Name a colour."}],"system":"You are terse.","temperature":0.2,"max_tokens":50}"#
    );
}

#[test]
fn structured_requests_ask_for_the_schema_in_each_api() {
    let schema =
        json!({"type": "object", "properties": {"c": {"type": "string"}}, "required": ["c"]});
    let server = ModelServer::start(|r| {
        if r.is_anthropic() {
            Answer::anthropic_tool("claude-haiku-4-5", json!({"c": "teal"}), 5, 5)
        } else {
            Answer::openai_text("gpt-4o-mini", r#"{"c":"teal"}"#, 5, 5)
        }
    });
    let request = Request { schema: Some(schema.clone()), ..request() };
    for model in ["openai/gpt-4o-mini", "anthropic/claude-haiku-4-5"] {
        let reply = complete(&endpoint(&server, model), &request, &options()).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&reply.text).unwrap(),
            json!({"c": "teal"}),
            "{model}"
        );
    }
    let sent = server.requests();
    assert_eq!(
        sent[0].json()["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "response", "schema": schema, "strict": true}})
    );
    assert_eq!(sent[1].json()["tools"][0]["input_schema"], schema);
    assert_eq!(sent[1].json()["tool_choice"], json!({"type": "tool", "name": "json_tool_call"}));
}

#[test]
fn local_servers_get_no_auth_header() {
    let server = ModelServer::echo();
    let reply = complete(&endpoint(&server, "ollama/llama3.2"), &request(), &options()).unwrap();
    assert_eq!(reply.text, "echo: Name a colour.");
    assert_eq!(server.requests()[0].header("authorization"), None);
}

#[test]
fn every_error_class_is_one_clear_error_naming_provider_and_model() {
    let wrong_key = format!("Incorrect API key provided: {KEY}. You can find your API key at …");
    let cases: Vec<(&str, Answer, &str)> = vec![
        (
            "openai/gpt-4o-mini",
            Answer::openai_error(401, "invalid_request_error", "invalid_api_key", &wrong_key),
            "openai refused the API key for model `openai/gpt-4o-mini` (HTTP 401): Incorrect API key provided: [redacted].",
        ),
        (
            "anthropic/claude-nope",
            Answer::anthropic_error(404, "not_found_error", "model: claude-nope"),
            "anthropic does not know model `anthropic/claude-nope` (HTTP 404): model: claude-nope",
        ),
        (
            "openai/gpt-4o-mini",
            Answer::openai_error(
                400,
                "invalid_request_error",
                "context_length_exceeded",
                "maximum context length is 128000 tokens",
            ),
            "openai refused the request for model `openai/gpt-4o-mini` (HTTP 400): maximum context length is 128000 tokens",
        ),
        (
            "openai/gpt-4o-mini",
            Answer::raw(200, "text/html", b"<html>gateway</html>"),
            "openai sent a reply for model `openai/gpt-4o-mini` that cannot be read: the body is not JSON",
        ),
        (
            "openai/gpt-4o-mini",
            Answer::raw(200, "application/json", br#"{"choices":[{"message":{"content":"tru"#),
            "the body is not JSON",
        ),
        (
            "anthropic/claude-haiku-4-5",
            Answer::anthropic_error(529, "overloaded_error", "Overloaded"),
            "anthropic failed for model `anthropic/claude-haiku-4-5` (HTTP 529) after 3 attempts: Overloaded",
        ),
        (
            "openai/gpt-4o-mini",
            Answer::openai_error(429, "requests", "rate_limit_exceeded", "Rate limit reached")
                .with_header("retry-after", "0"),
            "openai rate-limited model `openai/gpt-4o-mini` (HTTP 429) after 3 attempts: Rate limit reached",
        ),
        ("openai/gpt-4o-mini", Answer::Drop, "cannot reach openai at `http://127.0.0.1:"),
    ];
    for (model, answer, expected) in cases {
        let server = ModelServer::start(move |_| answer.clone());
        let error = fails(&server, model);
        assert!(error.to_string().contains(expected), "{model}: {error}\nexpected: {expected}");
    }
}

#[test]
fn a_missing_key_fails_before_any_request() {
    let providers = Providers::new(LlmSettings::default(), |_| None);
    let error = providers.endpoint(&ModelRef::parse("openai/gpt-4o").unwrap()).unwrap_err();
    assert_eq!(error.to_string(), "no API key for provider `openai` (model `openai/gpt-4o`)");
    assert!(error.hint().unwrap().contains("OPENAI_API_KEY"));
}

#[test]
fn transient_failures_are_retried_honouring_retry_after() {
    let server = ModelServer::scripted(vec![
        Answer::openai_error(429, "requests", "rate_limit_exceeded", "slow down")
            .with_header("retry-after", "0.3"),
        Answer::openai_error(503, "server_error", "overloaded", "busy"),
        Answer::openai_text("gpt-4o-mini", "ok", 1, 1),
    ]);
    let started = Instant::now();
    let reply = complete(&endpoint(&server, "openai/gpt-4o-mini"), &request(), &options()).unwrap();
    assert_eq!((reply.text.as_str(), reply.attempts), ("ok", 3));
    assert!(started.elapsed() >= Duration::from_millis(300), "Retry-After was not honoured");
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn deterministic_failures_are_not_retried() {
    for answer in [
        Answer::openai_error(401, "invalid_request_error", "invalid_api_key", "bad key"),
        Answer::openai_error(404, "invalid_request_error", "model_not_found", "no such model"),
        Answer::openai_error(400, "invalid_request_error", "bad", "bad request"),
        Answer::raw(200, "application/json", b"not json"),
    ] {
        let server = ModelServer::start(move |_| answer.clone());
        fails(&server, "openai/gpt-4o-mini");
        assert_eq!(server.requests().len(), 1);
    }
}

#[test]
fn a_timeout_is_named_and_not_retried() {
    let server = ModelServer::start(|_| Answer::Hang);
    let options = CallOptions { timeout: Duration::from_millis(300), ..options() };
    let error =
        complete(&endpoint(&server, "openai/gpt-4o-mini"), &request(), &options).unwrap_err();
    assert_eq!(
        error.to_string(),
        "openai did not answer for model `openai/gpt-4o-mini` within 0.3s"
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn cancellation_aborts_a_request_in_flight_at_once() {
    let server = ModelServer::start(|_| Answer::Hang);
    let cancel = Arc::new(AtomicBool::new(false));
    let options =
        CallOptions { timeout: Duration::from_secs(60), cancel: Some(cancel.clone()), ..options() };
    let endpoint = endpoint(&server, "anthropic/claude-haiku-4-5");
    let call = thread::spawn(move || complete(&endpoint, &request(), &options));
    while server.in_flight() == 0 {
        thread::sleep(Duration::from_millis(5));
    }
    let cancelled_at = Instant::now();
    cancel.store(true, Ordering::SeqCst);
    let error = call.join().unwrap().unwrap_err();
    println!("cancelled after {:?}", cancelled_at.elapsed());
    assert!(matches!(error, LlmError::Cancelled { .. }), "{error}");
    // The server never answers and the timeout is a minute: the call returned because
    // of the cancel, with the request still open.
    assert_eq!(server.in_flight(), 1);
}

#[test]
fn a_server_that_is_down_is_a_connection_error() {
    let server = ModelServer::echo();
    let endpoint = endpoint(&server, "openai/gpt-4o-mini");
    drop(server);
    // The port is closed now (nothing listens on it once the server stopped).
    thread::sleep(Duration::from_millis(50));
    let error = complete(&endpoint, &request(), &options()).unwrap_err();
    assert!(matches!(error, LlmError::Connection { .. }), "{error}");
    assert!(error.to_string().starts_with("cannot reach openai at `http://127.0.0.1:"), "{error}");
}
