//! The workflow language of pflow 0.16 (SPEC §5.5) through the built binary: its node
//! fields, `??` and template indexes, retries.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use pflow_tests::TestHome;
use serde_json::{Value, json};

/// Runs `ir` from stdin with `--json` and extra args; the transcript.
pub(crate) fn run_json(home: &TestHome, ir: &Value, args: &[&str]) -> pflow_tests::Run {
    let mut all = vec!["run", "-", "--json"];
    all.extend_from_slice(args);
    home.run_with_stdin(all, ir.to_string().as_bytes())
}

/// The outputs of a run that succeeded.
pub(crate) fn outputs(run: &pflow_tests::Run) -> Value {
    assert_eq!(run.code, 0, "{}", run.transcript());
    serde_json::from_str(&run.stdout).unwrap()
}

#[test]
fn validate_accepts_the_node_fields_of_0_16_and_reports_every_misspelling() {
    let home = TestHome::new();
    let good = json!({"ir_version": "0.1.0", "nodes": [
        {"id": "a", "type": "echo", "purpose": "say it", "cache": false,
         "retry": {"max": 2, "wait": 0, "backoff": "fixed"},
         "params": {"message": "hi"}}]});
    let run = home.run_with_stdin(["validate", "-"], good.to_string().as_bytes());
    assert_eq!(run.code, 0, "{}", run.transcript());

    let bad = json!({"ir_version": "0.1.0", "nodes": [
        {"id": "a", "type": "echo", "purpos": "x",
         "batch": {"items": ["x"], "paralel": true, "max_concurrent": 500},
         "loop": {"whlie": "${a.message}"}}]});
    let run = home.run_with_stdin(["validate", "-"], bad.to_string().as_bytes());
    assert_eq!(run.code, 1, "{}", run.transcript());
    for expected in [
        "nodes[0].purpos: unknown field `purpos` in a node",
        "did you mean `purpose`?",
        "nodes[0].batch.paralel: unknown key `paralel` in `batch`",
        "did you mean `parallel`?",
        "nodes[0].loop.whlie: unknown key `whlie` in `loop`",
        "did you mean `while`?",
        "a node cannot have both `batch` and `loop`",
    ] {
        assert!(run.stderr.contains(expected), "missing {expected:?} in:\n{}", run.transcript());
    }
}

#[test]
fn coalescing_and_template_indexes_resolve_at_run_time() {
    let home = TestHome::new();
    let ir = json!({"ir_version": "0.1.0",
        "inputs": {"i": {"type": "integer"}},
        "nodes": [
            {"id": "list", "type": "echo", "params": {"message": {"items": ["zero", "one", "two"]}}},
            {"id": "pick", "type": "echo", "params": {"message": {
                "at": "${list.message.items[${i}]}",
                "missing": "${list.message.nothing ?? list.message.items[9] ?? \"fallback\"}",
                "number": "${list.message.nothing ?? 7}",
                "found": "${list.message.nothing ?? list.message.items[0] ?? \"unused\"}",
                "text": "i=${list.message.items[${i}] ?? \"-\"}!"
            }}}],
        "edges": [{"from": "list", "to": "pick"}]});
    let run = run_json(&home, &ir, &["i=2"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let out: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        out["message"],
        json!({"at": "two", "missing": "fallback", "number": 7, "found": "zero", "text": "i=two!"})
    );
    // A bare missing field is still an error.
    let ir = json!({"ir_version": "0.1.0", "nodes": [
        {"id": "list", "type": "echo", "params": {"message": [1]}},
        {"id": "pick", "type": "echo", "params": {"message": "${list.message[${list.message}]}"}}],
        "edges": [{"from": "list", "to": "pick"}]});
    let run = run_json(&home, &ir, &[]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stderr.contains("is an array, not a non-negative integer"), "{}", run.transcript());
}

/// A loopback server that drops the first `drops` connections without a reply, then
/// answers `200 ok`; counts the connections it saw.
fn flaky_server(drops: usize) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 2 {
                line.clear();
            }
            if n < drops {
                drop(stream);
                continue;
            }
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
            );
        }
    });
    (url, seen)
}

#[test]
fn retry_attempts_a_dropped_connection_again_but_never_a_failed_command() {
    let home = TestHome::new();
    let (url, seen) = flaky_server(2);
    let ir = json!({"ir_version": "0.1.0", "nodes": [
        {"id": "get", "type": "http", "retry": {"max": 3, "wait": 0},
         "params": {"url": url}}],
        "outputs": {"body": {"source": "${get.body}"}}});
    let run = run_json(&home, &ir, &[]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(serde_json::from_str::<Value>(&run.stdout).unwrap(), json!({"body": "ok"}));
    assert_eq!(seen.load(Ordering::SeqCst), 3, "two dropped connections, then the answer");

    // Two attempts are not enough for three drops: the node fails after its last.
    let (url, seen) = flaky_server(3);
    let ir = json!({"ir_version": "0.1.0", "nodes": [
        {"id": "get", "type": "http", "retry": {"max": 2}, "params": {"url": url}}]});
    let run = run_json(&home, &ir, &[]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert_eq!(seen.load(Ordering::SeqCst), 2);

    // A shell command's non-zero exit is its answer, not a transient failure (as in 0.16).
    let count = home.path().join("count");
    let ir = json!({"ir_version": "0.1.0", "nodes": [
        {"id": "sh", "type": "shell", "retry": {"max": 5, "wait": 0},
         "params": {"command": "echo x >> \"$COUNT\"; exit 3", "env": {"COUNT": count.to_str().unwrap()}}}]});
    let run = run_json(&home, &ir, &[]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert_eq!(std::fs::read_to_string(&count).unwrap(), "x\n", "the command ran once");
}
