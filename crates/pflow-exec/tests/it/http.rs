//! The `http` node against a small HTTP/1.1 server this test starts on 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;

use serde_json::{Value, json};

use crate::support::run;

/// What the server saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A server on a free loopback port; every connection is answered on its own thread.
struct Server {
    base: String,
    seen: Receiver<Seen>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, seen) = mpsc::channel();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let tx = tx.clone();
                thread::spawn(move || handle(stream, &tx));
            }
        });
        Server { base, seen }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The next request the server received.
    fn next_request(&self) -> Seen {
        self.seen.recv_timeout(std::time::Duration::from_secs(30)).expect("a request arrived")
    }
}

fn handle(stream: TcpStream, seen: &Sender<Seen>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).unwrap();
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap();
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let request = Seen { method, path, headers, body: String::from_utf8(body).unwrap() };
    let _ = seen.send(request.clone());

    let (status, content_type, body, extra) = match request.path.as_str() {
        "/json" => {
            ("200 OK", "application/json", json!({"ok": true, "items": [1, 2]}).to_string(), "")
        }
        "/text" => ("200 OK", "text/plain; charset=utf-8", "plain text".to_owned(), ""),
        "/bad-json" => ("200 OK", "application/json", "not json {".to_owned(), ""),
        "/problem" => {
            ("404 Not Found", "application/problem+json", json!({"error": "nope"}).to_string(), "")
        }
        "/teapot" => ("418 I'm a teapot", "text/plain", "short and stout".to_owned(), ""),
        "/multi" => ("200 OK", "text/plain", String::new(), "X-Multi: a\r\nX-Multi: b\r\n"),
        "/echo" => (
            "201 Created",
            "application/json; charset=utf-8",
            json!({
                "method": request.method,
                "body": request.body,
                "content_type": request.header("content-type"),
                "token": request.header("x-token"),
            })
            .to_string(),
            "",
        ),
        "/hang" => {
            // Never answer: wait until the client gives up and closes the connection.
            let _ = reader.read_to_end(&mut Vec::new());
            return;
        }
        _ => ("404 Not Found", "text/plain", "no such route".to_owned(), ""),
    };
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         X-Server: tiny\r\n{extra}Connection: close\r\n\r\n{body}",
        body.len()
    );
}

/// Runs one http node with `params`; its outputs, or the run's error text.
fn http(params: Value) -> Result<Value, String> {
    run(json!({"ir_version": "0.1.0", "nodes": [{"id": "f", "type": "http", "params": params}]}))
        .map(|out| Value::Object(out.outputs))
        .map_err(|e| e.to_string())
}

#[test]
fn a_json_response_is_parsed() {
    let server = Server::start();
    let out = http(json!({"url": server.url("/json")})).unwrap();
    assert_eq!(out["status_code"], json!(200));
    assert_eq!(out["body"], json!({"ok": true, "items": [1, 2]}));
    assert_eq!(out["headers"]["x-server"], json!("tiny"));
    assert_eq!(out["headers"]["content-type"], json!("application/json"));
    let seen = server.next_request();
    assert_eq!((seen.method.as_str(), seen.path.as_str()), ("GET", "/json"));
}

#[test]
fn other_responses_are_text() {
    let server = Server::start();
    assert_eq!(http(json!({"url": server.url("/text")})).unwrap()["body"], json!("plain text"));
    // Declared JSON that does not parse stays text rather than failing the node.
    assert_eq!(http(json!({"url": server.url("/bad-json")})).unwrap()["body"], json!("not json {"));
}

#[test]
fn json_bodies_and_headers_are_sent() {
    let server = Server::start();
    let out = http(json!({
        "url": server.url("/echo"),
        "method": "post",
        "headers": {"X-Token": "secret", "X-Number": 7},
        "body": {"name": "pflow", "n": [1, 2]}
    }))
    .unwrap();
    assert_eq!(out["status_code"], json!(201));
    assert_eq!(
        out["body"],
        json!({"method": "POST", "body": "{\"name\":\"pflow\",\"n\":[1,2]}",
            "content_type": "application/json", "token": "secret"})
    );
    let seen = server.next_request();
    assert_eq!(seen.header("x-number"), Some("7"));
}

#[test]
fn string_bodies_are_sent_as_they_are_with_the_given_content_type() {
    let server = Server::start();
    let out = http(json!({
        "url": server.url("/echo"),
        "method": "PUT",
        "headers": {"Content-Type": "text/csv"},
        "body": "a,b\n1,2\n"
    }))
    .unwrap();
    assert_eq!(
        out["body"],
        json!({"method": "PUT", "body": "a,b\n1,2\n", "content_type": "text/csv", "token": null})
    );
    let out = http(json!({"url": server.url("/echo"), "method": "DELETE"})).unwrap();
    assert_eq!(out["body"]["method"], json!("DELETE"));
    assert_eq!(out["body"]["body"], json!(""));
}

#[test]
fn repeated_response_headers_are_joined() {
    let server = Server::start();
    let out = http(json!({"url": server.url("/multi")})).unwrap();
    assert_eq!(out["headers"]["x-multi"], json!("a, b"));
}

#[test]
fn an_error_status_fails_the_node_with_the_response_recorded() {
    let server = Server::start();
    let url = server.url("/problem");
    assert_eq!(
        http(json!({"url": url})).unwrap_err(),
        format!("f: GET `{url}` returned status 404 Not Found")
    );
    let result = run(json!({"ir_version": "0.1.0",
        "nodes": [
            {"id": "f", "type": "http", "params": {"url": url}},
            {"id": "h", "type": "echo", "params": {"message": {"code": "${f.status_code}", "why": "${f.body.error}"}}}
        ],
        "edges": [{"from": "f", "to": "h", "action": "error"}]}))
    .unwrap();
    assert_eq!(Value::Object(result.outputs), json!({"message": {"code": 404, "why": "nope"}}));

    let out = http(json!({"url": server.url("/teapot"), "ignore_errors": true})).unwrap();
    assert_eq!(out["status_code"], json!(418));
    assert_eq!(out["body"], json!("short and stout"));
}

#[test]
fn a_refused_connection_fails_the_node() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/");
    let err = http(json!({"url": url})).unwrap_err();
    assert!(err.starts_with(&format!("f: GET `{url}` failed: ")), "{err}");
}

#[test]
fn a_server_that_never_answers_times_out() {
    let server = Server::start();
    let url = server.url("/hang");
    let started = std::time::Instant::now();
    let err = http(json!({"url": url, "timeout": 0.5})).unwrap_err();
    assert!(err.starts_with(&format!("f: GET `{url}` failed: ")), "{err}");
    assert!(err.to_lowercase().contains("timeout"), "{err}");
    assert!(started.elapsed().as_secs() < 60);
}

#[test]
fn bad_requests_fail_clearly() {
    assert_eq!(
        http(json!({"url": "http://127.0.0.1:1/", "method": "GET POST"})).unwrap_err(),
        "f: param `method` must be an HTTP token, found `GET POST`: a space is not allowed in one"
    );
    assert_eq!(
        http(json!({"url": "not a url"})).unwrap_err(),
        "f: param `url` must be an absolute `http://` or `https://` URL, found `not a url`"
    );
    // Header names are not params the spec can describe; the request builder refuses them.
    let err =
        http(json!({"url": "http://127.0.0.1:1/", "headers": {"bad name": "x"}})).unwrap_err();
    assert!(err.starts_with("f: invalid request to `http://127.0.0.1:1/`: "), "{err}");
}

#[test]
fn cancelling_stops_a_request_that_gets_no_answer() {
    use std::time::{Duration, Instant};

    use pflow_exec::{CancelFlag, ExecError, Runtime};

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/silent", listener.local_addr().unwrap());
    let flag = CancelFlag::new();
    let runtime = Runtime::builtin().with_cancel_flag(flag.clone());
    // Cancels once the request is connected, and keeps the connection open, unanswered.
    let canceller = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        flag.cancel();
        (stream, Instant::now())
    });
    let result = crate::support::run_with(
        &runtime,
        json!({"ir_version": "0.1.0",
            "nodes": [{"id": "get", "type": "http", "params": {"url": url, "timeout": 60}}]}),
        json!({}),
    );
    let returned = Instant::now();
    let (_stream, cancelled_at) = canceller.join().unwrap();
    assert_eq!(crate::support::error(result), ExecError::Cancelled);
    // Far below the 60 s request timeout: the node did not wait for the request.
    assert!(returned.duration_since(cancelled_at) < Duration::from_secs(5));
}
