//! A scripted model server on 127.0.0.1 for tests (feature `test-support`).
//!
//! It speaks HTTP/1.1 as the two APIs define it — `POST /v1/chat/completions` (OpenAI)
//! and `POST /v1/messages` (Anthropic) — records every request (method, path, headers,
//! body) and answers what the test's responder says: a reply in the provider's real
//! shape, an error in its real shape, a delay, a dropped connection, or no answer.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use serde_json::{Value, json};

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `POST`.
    pub method: String,
    /// `/v1/chat/completions`.
    pub path: String,
    /// Every header, names in lower case, in order.
    pub headers: Vec<(String, String)>,
    /// The body's bytes.
    pub body: Vec<u8>,
}

impl Recorded {
    /// The value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`null` when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// Whether this is an Anthropic Messages request.
    pub fn is_anthropic(&self) -> bool {
        self.path.ends_with("/messages")
    }

    /// The text of the last user message.
    pub fn prompt(&self) -> String {
        let body = self.json();
        let last =
            body["messages"].as_array().and_then(|m| m.last()).cloned().unwrap_or(Value::Null);
        last["content"].as_str().unwrap_or_default().to_owned()
    }
}

/// What the server does with a request.
#[derive(Debug, Clone)]
pub enum Answer {
    /// A response.
    Reply { status: u16, headers: Vec<(String, String)>, body: Vec<u8> },
    /// Closes the connection without a response (a dropped connection).
    Drop,
    /// Never answers; the connection stays open until the server stops.
    Hang,
    /// Waits, then answers.
    Delay(Duration, Box<Answer>),
}

impl Answer {
    /// A 200 with a JSON body.
    pub fn json(body: Value) -> Answer {
        Answer::status(200, body)
    }

    /// A response of `status` with a JSON body.
    pub fn status(status: u16, body: Value) -> Answer {
        Answer::Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    /// A response with a raw body and content type.
    pub fn raw(status: u16, content_type: &str, body: &[u8]) -> Answer {
        Answer::Reply {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.to_vec(),
        }
    }

    /// The same answer with one more header.
    pub fn with_header(self, name: &str, value: &str) -> Answer {
        match self {
            Answer::Reply { status, mut headers, body } => {
                headers.push((name.to_owned(), value.to_owned()));
                Answer::Reply { status, headers, body }
            }
            other => other,
        }
    }

    /// A Chat Completions reply, as OpenAI shapes it.
    pub fn openai_text(model: &str, text: &str, input_tokens: u64, output_tokens: u64) -> Answer {
        Answer::json(json!({
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": model,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": null},
                "logprobs": null,
                "finish_reason": "stop"
            }],
            "usage": {
                "prompt_tokens": input_tokens,
                "completion_tokens": output_tokens,
                "total_tokens": input_tokens + output_tokens,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0}
            },
            "system_fingerprint": "fp_test"
        }))
    }

    /// An OpenAI error (`{"error": {"message", "type", "param", "code"}}`).
    pub fn openai_error(status: u16, kind: &str, code: &str, message: &str) -> Answer {
        Answer::status(
            status,
            json!({"error": {"message": message, "type": kind, "param": null, "code": code}}),
        )
    }

    /// A Messages reply, as Anthropic shapes it.
    pub fn anthropic_text(
        model: &str,
        text: &str,
        input_tokens: u64,
        output_tokens: u64,
    ) -> Answer {
        Answer::anthropic_message(
            model,
            json!([{"type": "text", "text": text}]),
            "end_turn",
            json!({
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0
            }),
        )
    }

    /// A Messages reply that calls the structured-output tool with `input`.
    pub fn anthropic_tool(
        model: &str,
        input: Value,
        input_tokens: u64,
        output_tokens: u64,
    ) -> Answer {
        Answer::anthropic_message(
            model,
            json!([{"type": "tool_use", "id": "toolu_test", "name": "json_tool_call", "input": input}]),
            "tool_use",
            json!({"input_tokens": input_tokens, "output_tokens": output_tokens}),
        )
    }

    /// A Messages reply with `content`, as Anthropic shapes it.
    fn anthropic_message(model: &str, content: Value, stop_reason: &str, usage: Value) -> Answer {
        Answer::json(json!({
            "id": "msg_test",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": null,
            "usage": usage
        }))
    }

    /// An Anthropic error (`{"type": "error", "error": {"type", "message"}}`).
    pub fn anthropic_error(status: u16, kind: &str, message: &str) -> Answer {
        Answer::status(
            status,
            json!({"type": "error", "error": {"type": kind, "message": message}}),
        )
    }

    /// The echo reply to `request` in its API's shape: `echo: <prompt>`, one token per
    /// word of the prompt (at least 1) in and 2 out.
    pub fn echo(request: &Recorded) -> Answer {
        let prompt = request.prompt();
        let model = request.json()["model"].as_str().unwrap_or("unknown").to_owned();
        let input = prompt.split_whitespace().count().max(1) as u64;
        let text = format!("echo: {prompt}");
        if request.is_anthropic() {
            Answer::anthropic_text(&model, &text, input, 2)
        } else {
            Answer::openai_text(&model, &text, input, 2)
        }
    }
}

type Responder = dyn Fn(&Recorded) -> Answer + Send + Sync;

/// The server; it stops when dropped.
pub struct ModelServer {
    port: u16,
    requests: Arc<Mutex<Vec<Recorded>>>,
    stop: Arc<AtomicBool>,
    in_flight: Arc<AtomicUsize>,
    most_in_flight: Arc<AtomicUsize>,
}

impl std::fmt::Debug for ModelServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelServer").field("port", &self.port).finish_non_exhaustive()
    }
}

impl ModelServer {
    /// A server that answers every request with what `responder` says.
    pub fn start(responder: impl Fn(&Recorded) -> Answer + Send + Sync + 'static) -> ModelServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("the bound address").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most_in_flight = Arc::new(AtomicUsize::new(0));
        let responder: Arc<Responder> = Arc::new(responder);
        let shared = (requests.clone(), stop.clone(), in_flight.clone(), most_in_flight.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                let (requests, stop, in_flight, most) = shared.clone();
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let responder = responder.clone();
                thread::spawn(move || {
                    serve(stream, &*responder, &requests, &stop, &in_flight, &most)
                });
            }
        });
        ModelServer { port, requests, stop, in_flight, most_in_flight }
    }

    /// A server that answers `answers` in order, then repeats the last one.
    pub fn scripted(answers: Vec<Answer>) -> ModelServer {
        let answers = Mutex::new(answers.into_iter().collect::<std::collections::VecDeque<_>>());
        ModelServer::start(move |_| {
            let mut answers = answers.lock().expect("the script lock");
            if answers.len() > 1 {
                answers.pop_front().expect("not empty")
            } else {
                answers.front().cloned().unwrap_or(Answer::Drop)
            }
        })
    }

    /// A server that echoes every prompt ([`Answer::echo`]).
    pub fn echo() -> ModelServer {
        ModelServer::start(Answer::echo)
    }

    /// `http://127.0.0.1:PORT` (Anthropic's base URL form).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:PORT/v1` (the OpenAI base URL form).
    pub fn v1(&self) -> String {
        format!("{}/v1", self.url())
    }

    /// Every request so far, in the order they arrived.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().expect("the record lock").clone()
    }

    /// The most requests that were being answered at the same time.
    pub fn most_in_flight(&self) -> usize {
        self.most_in_flight.load(Ordering::SeqCst)
    }

    /// Requests being answered now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }
}

impl Drop for ModelServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(
    stream: TcpStream,
    responder: &Responder,
    requests: &Mutex<Vec<Recorded>>,
    stop: &AtomicBool,
    in_flight: &AtomicUsize,
    most: &AtomicUsize,
) {
    let Ok(read_half) = stream.try_clone() else { return };
    let mut reader = BufReader::new(read_half);
    let Some(request) = read_request(&mut reader) else { return };
    requests.lock().expect("the record lock").push(request.clone());
    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    most.fetch_max(now, Ordering::SeqCst);
    let answer = responder(&request);
    respond(stream, answer, stop);
    in_flight.fetch_sub(1, Ordering::SeqCst);
}

fn respond(mut stream: TcpStream, answer: Answer, stop: &AtomicBool) {
    match answer {
        Answer::Reply { status, headers, body } => {
            let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str(&format!("content-length: {}\r\nconnection: close\r\n\r\n", body.len()));
            let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(&body));
            let _ = stream.flush();
        }
        Answer::Drop => {}
        Answer::Hang => {
            while !stop.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(10));
            }
        }
        Answer::Delay(wait, then) => {
            thread::sleep(wait);
            respond(stream, *then, stop);
        }
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Recorded> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Recorded { method, path, headers, body })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        529 => "Overloaded",
        _ => "Status",
    }
}
