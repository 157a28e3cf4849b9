//! The stdio transport: one JSON-RPC message per line on stdin and stdout (MCP's stdio
//! transport), read and written by two threads of their own.
//!
//! It does what the SDK's own line transport does not: it answers every line it cannot
//! use instead of dropping it — a line that is not JSON gets a parse error (-32700), JSON
//! that is not a message an invalid request (-32600), a request whose params do not fit
//! its method an invalid params error (-32602) with the request's id — and it accepts
//! lines up to [`MAX_LINE_BYTES`], so that an oversized argument reaches its tool and is
//! refused there with an answer to its request. Only complete messages are ever written
//! to stdout, each on one line, by one thread.

use std::io::{BufRead, Write};
use std::sync::mpsc as std_mpsc;
use std::thread;

use rmcp::RoleServer;
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// The longest line read as a message: 64 MiB. A longer line is answered with an error
/// and skipped without being held in memory.
pub(crate) const MAX_LINE_BYTES: usize = 64 * 1024 * 1024;

/// How many parsed messages may wait for the server before the reader stops reading.
const INCOMING_BUFFER: usize = 32;

/// One thing for the writer thread to do.
enum Out {
    /// Write this line (a serialized message, without its newline).
    Line(Vec<u8>),
    /// Flush and end.
    Stop,
}

/// The handle that sends lines to the writer thread; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Writer(std_mpsc::Sender<Out>);

impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Out::Line(bytes) => write!(f, "Line({} bytes)", bytes.len()),
            Out::Stop => f.write_str("Stop"),
        }
    }
}

impl Writer {
    /// Queues one message for stdout; `false` when stdout is gone.
    fn line(&self, bytes: Vec<u8>) -> bool {
        self.0.send(Out::Line(bytes)).is_ok()
    }

    /// Queues a JSON-RPC error response made here (not by the SDK).
    fn error(&self, id: Option<Value>, code: i64, message: String) {
        let response = json!({
            "jsonrpc": "2.0",
            "id": id.unwrap_or(Value::Null),
            "error": { "code": code, "message": message },
        });
        let _ = self.line(serde_json::to_vec(&response).expect("JSON values serialize"));
    }
}

/// The writer thread: it owns stdout and writes every queued line, whole, then a newline,
/// and flushes; it ends on [`Out::Stop`], when every handle is gone, or when stdout fails
/// (the client went away).
pub(crate) struct WriterThread {
    handle: Writer,
    thread: thread::JoinHandle<()>,
}

impl WriterThread {
    pub(crate) fn start(mut output: impl Write + Send + 'static) -> WriterThread {
        let (tx, rx) = std_mpsc::channel::<Out>();
        let thread = thread::Builder::new()
            .name("mcp-stdout".to_owned())
            .spawn(move || {
                while let Ok(Out::Line(mut bytes)) = rx.recv() {
                    bytes.push(b'\n');
                    if output.write_all(&bytes).and_then(|()| output.flush()).is_err() {
                        return;
                    }
                }
            })
            .expect("the stdout writer thread starts");
        WriterThread { handle: Writer(tx), thread }
    }

    pub(crate) fn handle(&self) -> Writer {
        self.handle.clone()
    }

    /// Writes what is queued and ends the thread.
    pub(crate) fn finish(self) {
        let _ = self.handle.0.send(Out::Stop);
        let _ = self.thread.join();
    }
}

/// The server's side of the stdio transport, as the SDK drives it.
#[derive(Debug)]
pub(crate) struct LineTransport {
    incoming: mpsc::Receiver<RxJsonRpcMessage<RoleServer>>,
    writer: Writer,
}

impl LineTransport {
    /// Starts the reader thread on `input`; `on_eof` runs on that thread when the input
    /// ends (or fails), before the server hears of it.
    pub(crate) fn start(
        input: impl BufRead + Send + 'static,
        writer: Writer,
        on_eof: impl FnOnce() + Send + 'static,
    ) -> LineTransport {
        let (tx, incoming) = mpsc::channel(INCOMING_BUFFER);
        let answers = writer.clone();
        thread::Builder::new()
            .name("mcp-stdin".to_owned())
            .spawn(move || {
                read_messages(input, &tx, &answers);
                on_eof();
                drop(tx);
            })
            .expect("the stdin reader thread starts");
        LineTransport { incoming, writer }
    }
}

impl Transport<RoleServer> for LineTransport {
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let sent = match serde_json::to_vec(&item) {
            Ok(bytes) => match self.writer.line(bytes) {
                true => Ok(()),
                false => {
                    Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "stdout is closed"))
                }
            },
            Err(e) => Err(std::io::Error::other(e)),
        };
        std::future::ready(sent)
    }

    fn receive(&mut self) -> impl Future<Output = Option<RxJsonRpcMessage<RoleServer>>> + Send {
        self.incoming.recv()
    }

    fn close(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.incoming.close();
        std::future::ready(Ok(()))
    }
}

/// Reads lines until the input ends, passing on every message and answering every line
/// that is not one.
fn read_messages(
    mut input: impl BufRead,
    tx: &mpsc::Sender<RxJsonRpcMessage<RoleServer>>,
    answers: &Writer,
) {
    let mut line = Vec::new();
    // The SDK ends the session if anything but a request comes first; a stray
    // notification or response before the first request is dropped instead.
    let mut seen_request = false;
    loop {
        match read_line(&mut input, &mut line) {
            Line::Eof => return,
            Line::TooLong => {
                answers.error(
                    None,
                    INVALID_REQUEST,
                    format!(
                        "message too large: more than {} MiB on one line",
                        MAX_LINE_BYTES >> 20
                    ),
                );
                continue;
            }
            Line::Complete => {}
        }
        let text = trim_line(&line);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let Some(message) = parse(text, answers) else { continue };
        let is_request = matches!(message, rmcp::model::JsonRpcMessage::Request(_));
        if !seen_request && !is_request {
            continue;
        }
        seen_request |= is_request;
        if tx.blocking_send(message).is_err() {
            return;
        }
    }
}

/// JSON-RPC's error codes.
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const INVALID_PARAMS: i64 = -32602;

/// The message on one line, or `None` after answering why there is none.
fn parse(text: &[u8], answers: &Writer) -> Option<RxJsonRpcMessage<RoleServer>> {
    let error = match serde_json::from_slice::<RxJsonRpcMessage<RoleServer>>(text) {
        Ok(message) => return Some(message),
        Err(e) => e,
    };
    let value = match serde_json::from_slice::<Value>(text) {
        Ok(value) => value,
        Err(e) => {
            answers.error(None, PARSE_ERROR, format!("parse error: not JSON: {e}"));
            return None;
        }
    };
    let object = value.as_object();
    let id = object.and_then(|o| o.get("id")).filter(|id| id.is_string() || id.is_i64()).cloned();
    let method = object.and_then(|o| o.get("method")).and_then(Value::as_str);
    match (id, method) {
        // A notification that the SDK does not know (or whose params do not fit): a
        // notification is never answered.
        (None, Some(_)) if object.is_some_and(|o| !o.contains_key("id")) => None,
        (Some(id), Some(method))
            if object.and_then(|o| o.get("jsonrpc")) == Some(&json!("2.0")) =>
        {
            answers.error(
                Some(id),
                INVALID_PARAMS,
                format!("invalid params for `{method}`: {error}"),
            );
            None
        }
        (id, _) => {
            let what = match &value {
                Value::Array(_) => "a batch (MCP does not use JSON-RPC batches)".to_owned(),
                Value::Object(_) => format!("not a JSON-RPC 2.0 message ({error})"),
                other => format!(
                    "a JSON {}, not a JSON-RPC message",
                    pflow_ir::ValueType::name_of(other)
                ),
            };
            answers.error(id, INVALID_REQUEST, format!("invalid request: {what}"));
            None
        }
    }
}

/// What reading one line gave.
enum Line {
    /// A line is in the buffer (without its newline).
    Complete,
    /// The line was longer than [`MAX_LINE_BYTES`] and was skipped.
    TooLong,
    /// The input ended (a last line without a newline is still returned first).
    Eof,
}

/// Reads one line into `line`, never holding more than [`MAX_LINE_BYTES`] of it.
fn read_line(input: &mut impl BufRead, line: &mut Vec<u8>) -> Line {
    line.clear();
    let mut too_long = false;
    loop {
        let (used, done) = match input.fill_buf() {
            Ok([]) => {
                return if too_long {
                    Line::TooLong
                } else if line.is_empty() {
                    Line::Eof
                } else {
                    Line::Complete
                };
            }
            Ok(available) => {
                let newline = available.iter().position(|&b| b == b'\n');
                let take = newline.map_or(available.len(), |i| i + 1);
                if !too_long {
                    if line.len() + take > MAX_LINE_BYTES + 1 {
                        too_long = true;
                        line.clear();
                        line.shrink_to(64 * 1024);
                    } else {
                        line.extend_from_slice(&available[..take]);
                    }
                }
                (take, newline.is_some())
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return Line::Eof,
        };
        input.consume(used);
        if done {
            return if too_long { Line::TooLong } else { Line::Complete };
        }
    }
}

/// The line without its line end and a leading byte order mark.
fn trim_line(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &[u8], expected: &[&str]) {
        let mut input = input;
        let mut line = Vec::new();
        let mut got = Vec::new();
        loop {
            match read_line(&mut input, &mut line) {
                Line::Eof => break,
                Line::TooLong => got.push("<too long>".to_owned()),
                Line::Complete => got.push(String::from_utf8_lossy(trim_line(&line)).into_owned()),
            }
        }
        assert_eq!(got, expected);
    }

    #[test]
    fn lines_and_their_ends() {
        check(b"", &[]);
        check(b"a\nb\r\n\nc", &["a", "b", "", "c"]);
        check(b"\xEF\xBB\xBF{}\n", &["{}"]);
        let long = vec![b'x'; MAX_LINE_BYTES + 1];
        let mut input = long.clone();
        input.extend_from_slice(b"\nok\n");
        check(&input, &["<too long>", "ok"]);
        let mut exact = vec![b'y'; MAX_LINE_BYTES];
        exact.push(b'\n');
        let mut got = Vec::new();
        let mut reader = exact.as_slice();
        assert!(matches!(read_line(&mut reader, &mut got), Line::Complete));
        assert_eq!(trim_line(&got).len(), MAX_LINE_BYTES);
    }

    fn answers_to(line: &str) -> Vec<Value> {
        let (tx, rx) = std_mpsc::channel();
        let parsed = parse(line.as_bytes(), &Writer(tx));
        assert!(parsed.is_none(), "{line} parsed");
        rx.try_iter()
            .map(|out| match out {
                Out::Line(bytes) => serde_json::from_slice(&bytes).unwrap(),
                Out::Stop => Value::Null,
            })
            .collect()
    }

    #[track_caller]
    fn answer(line: &str, id: Value, code: i64) {
        let answers = answers_to(line);
        assert_eq!(answers.len(), 1, "{answers:?}");
        assert_eq!(answers[0]["id"], id, "{answers:?}");
        assert_eq!(answers[0]["error"]["code"], code, "{answers:?}");
    }

    #[test]
    fn garbage_is_answered() {
        answer("not json", Value::Null, PARSE_ERROR);
        answer("{\"jsonrpc\": \"2.0\", \"id\": 1,", Value::Null, PARSE_ERROR);
        answer("42", Value::Null, INVALID_REQUEST);
        answer("[]", Value::Null, INVALID_REQUEST);
        answer("{\"id\": 7}", json!(7), INVALID_REQUEST);
        answer(r#"{"jsonrpc": "2.0", "id": "a", "method": 5}"#, json!("a"), INVALID_REQUEST);
        answer(
            r#"{"jsonrpc": "2.0", "id": 3, "method": "initialize", "params": 5}"#,
            json!(3),
            INVALID_PARAMS,
        );
        assert!(
            answers_to(r#"{"jsonrpc": "2.0", "method": "notifications/cancelled", "params": 3}"#)
                .is_empty()
        );
    }
}
