//! Protocol hygiene from raw JSON-RPC lines written to the server's stdin: every stdout
//! line is a message (S5), garbage is answered and survived (S2), and closing stdin in
//! the middle of a call ends the server, its children and its temp files (S4).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use pflow_tests::{TestHome, alive, pflow_bin};
use serde_json::{Value, json};

/// How long any answer may take before the test fails.
const ANSWER_LIMIT: Duration = Duration::from_secs(20);

/// A `pflow mcp serve` process and everything it wrote to stdout.
struct Raw {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    stderr: Option<std::thread::JoinHandle<String>>,
    /// Every stdout line so far, in order.
    seen: Vec<String>,
}

impl Raw {
    fn start(home: &TestHome, tmp: &Path, args: &[&str]) -> Raw {
        Raw::start_with(home, tmp, args, &[])
    }

    /// [`Raw::start`] with the variables `env` set as well.
    fn start_with(home: &TestHome, tmp: &Path, args: &[&str], env: &[(&str, &str)]) -> Raw {
        let mut child = Command::new(pflow_bin())
            .args(args)
            .args(["mcp", "serve"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("PFLOW_HOME", home.path())
            .env("HOME", home.path())
            .env("TMPDIR", tmp)
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start pflow mcp serve");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stderr = child.stderr.take().expect("stderr is piped");
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
            text
        });
        let stdin = child.stdin.take();
        Raw { child, stdin, lines, stderr: Some(stderr), seen: Vec::new() }
    }

    fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(line.as_bytes()).expect("write to the server");
        stdin.write_all(b"\n").expect("write to the server");
        stdin.flush().expect("flush to the server");
    }

    fn send_json(&mut self, message: &Value) {
        self.send(&message.to_string());
    }

    /// The next stdout line that satisfies `wanted` (every line is kept in `seen`).
    fn until(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + ANSWER_LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.lines.recv_timeout(left).unwrap_or_else(|_| {
                panic!("no {what} within {ANSWER_LIMIT:?}; seen: {:?}", self.seen)
            });
            self.seen.push(line.clone());
            if let Ok(value) = serde_json::from_str::<Value>(&line)
                && wanted(&value)
            {
                return value;
            }
        }
    }

    /// Sends a request and waits for the answer with its id.
    fn request(&mut self, id: u64, method: &str, params: Value) -> Value {
        self.send_json(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.answer(json!(id))
    }

    fn answer(&mut self, id: Value) -> Value {
        let what = format!("answer to request {id}");
        self.until(&what, |v| {
            v.get("id") == Some(&id) && (v.get("result").is_some() || v.get("error").is_some())
        })
    }

    fn call(&mut self, id: u64, tool: &str, arguments: Value) -> Value {
        self.request(id, "tools/call", json!({"name": tool, "arguments": arguments}))
    }

    fn initialize(&mut self) {
        let init = self.request(
            0,
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}),
        );
        assert_eq!(init["result"]["serverInfo"]["name"], "pflow", "{init}");
        self.send_json(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    }

    /// Closes stdin and waits for the server to exit, reading the rest of stdout.
    fn close(&mut self, limit: Duration) -> (ExitStatus, Duration) {
        drop(self.stdin.take());
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the server") {
                let elapsed = started.elapsed();
                while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
                    self.seen.push(line);
                }
                return (status, elapsed);
            }
            if started.elapsed() > limit {
                let _ = self.child.kill();
                panic!("the server still runs {limit:?} after stdin closed");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn stderr(&mut self) -> String {
        self.stderr.take().map(|t| t.join().unwrap_or_default()).unwrap_or_default()
    }

    /// S5: every line written to stdout is one JSON-RPC 2.0 message.
    fn assert_every_line_is_a_message(&self) {
        assert!(!self.seen.is_empty());
        for line in &self.seen {
            let value: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line:.200}"));
            assert_eq!(value["jsonrpc"], "2.0", "not a JSON-RPC message: {line:.200}");
            let response = value.get("id").is_some()
                && (value.get("result").is_some() ^ value.get("error").is_some());
            let notification = value.get("method").is_some_and(Value::is_string);
            assert!(response || notification, "not a response or notification: {line:.200}");
        }
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn error_code(answer: &Value) -> i64 {
    answer["error"]["code"].as_i64().unwrap_or_else(|| panic!("not an error: {answer}"))
}

/// The answer to the next error response without an id (`id: null`).
fn null_id_error(raw: &mut Raw) -> Value {
    raw.until("error with a null id", |v| {
        v.get("id") == Some(&Value::Null) && v.get("error").is_some()
    })
}

fn tools_listed(raw: &mut Raw, id: u64) {
    let listed = raw.request(id, "tools/list", json!({}));
    let tools = listed["result"]["tools"].as_array().unwrap_or_else(|| panic!("{listed}"));
    assert_eq!(tools.len(), 12, "{listed}");
}

#[test]
fn s2_garbage_is_answered_and_survived() {
    let home = TestHome::new();
    let tmp = tempfile::tempdir().expect("a temp dir");
    let mut raw = Raw::start(&home, tmp.path(), &[]);
    // Garbage and a stray notification before `initialize` do not end the session.
    raw.send("{oops");
    assert_eq!(error_code(&null_id_error(&mut raw)), -32700);
    raw.send_json(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    raw.initialize();

    raw.send("this is not json");
    assert_eq!(error_code(&null_id_error(&mut raw)), -32700);
    raw.send(r#"{"jsonrpc": "2.0", "id": 1, "method": "tools/list""#);
    assert_eq!(error_code(&null_id_error(&mut raw)), -32700);
    raw.send("[1, 2]");
    assert_eq!(error_code(&null_id_error(&mut raw)), -32600);
    raw.send("42");
    assert_eq!(error_code(&null_id_error(&mut raw)), -32600);
    tools_listed(&mut raw, 2);

    let unknown_method = raw.request(3, "no/such/method", json!({}));
    assert_eq!(error_code(&unknown_method), -32601, "{unknown_method}");
    raw.send(r#"{"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": 5}}"#);
    let answer = raw.answer(json!(4));
    assert!(answer.get("error").is_some(), "{answer}");
    let unknown_tool = raw.call(5, "no_such_tool", json!({}));
    assert_eq!(error_code(&unknown_tool), -32602, "{unknown_tool}");
    let wrong_type = raw.call(6, "workflow_describe", json!({"name": 5}));
    assert_eq!(error_code(&wrong_type), -32602, "{wrong_type}");
    let unknown_argument = raw.call(7, "workflow_list", json!({"filter": "x"}));
    assert_eq!(error_code(&unknown_argument), -32602, "{unknown_argument}");
    tools_listed(&mut raw, 8);

    // A 20 MB argument reaches its tool and is answered there; a 20 MB line that is
    // not JSON gets a parse error; a line past the 64 MiB limit an invalid request.
    let big = "x".repeat(20_000_000);
    let answer = raw.call(9, "workflow_describe", json!({ "name": big }));
    assert_eq!(answer["result"]["isError"], true, "{:.300}", answer.to_string());
    raw.send(&big);
    assert_eq!(error_code(&null_id_error(&mut raw)), -32700);
    raw.send(&"y".repeat(70 * 1024 * 1024));
    let too_long = null_id_error(&mut raw);
    assert_eq!(error_code(&too_long), -32600, "{too_long}");
    tools_listed(&mut raw, 10);

    let (status, _) = raw.close(Duration::from_secs(10));
    assert!(status.success(), "{status}");
    raw.assert_every_line_is_a_message();
}

#[test]
fn s5_every_stdout_line_is_a_message() {
    let home = TestHome::new();
    let tmp = tempfile::tempdir().expect("a temp dir");
    // `-v` makes the server log; the logs must go to stderr only.
    let mut raw = Raw::start(&home, tmp.path(), &["-v"]);
    raw.initialize();
    let echo = json!({"ir_version": "0.1.0", "nodes": [{"id": "e", "type": "echo", "params": {"message": "hi"}}]});
    let mut id = 100;
    let mut next = || {
        id += 1;
        id
    };
    let calls = [
        ("workflow_save", json!({"workflow": echo, "name": "hello"})),
        ("workflow_save", json!({"workflow": echo, "name": "hello"})),
        ("workflow_list", json!({})),
        ("workflow_describe", json!({"name": "hello"})),
        ("workflow_describe", json!({"name": "helo"})),
        ("workflow_validate", json!({"workflow": "hello"})),
        ("workflow_execute", json!({"workflow": "hello"})),
        ("workflow_history", json!({"name": "hello"})),
        ("workflow_restore", json!({"name": "hello", "revision": 1})),
        ("registry_list", json!({})),
        ("registry_describe", json!({"nodes": ["echo"]})),
        ("context_discover", json!({})),
        ("context_plan", json!({"workflows": ["hello"]})),
        ("workflow_delete", json!({"name": "hello"})),
    ];
    for (tool, arguments) in calls {
        let answer = raw.call(next(), tool, arguments);
        assert!(answer.get("result").is_some(), "{tool}: {answer}");
    }
    // With a progress token, progress notifications are messages too.
    raw.send_json(&json!({"jsonrpc": "2.0", "id": 200, "method": "tools/call", "params": {
        "name": "workflow_execute", "arguments": {"workflow": echo}, "_meta": {"progressToken": "p"}}}));
    let progress =
        raw.until("a progress notification", |v| v["method"] == "notifications/progress");
    assert_eq!(progress["params"]["progressToken"], "p", "{progress}");
    raw.answer(json!(200));
    raw.send("garbage");
    null_id_error(&mut raw);
    let (status, _) = raw.close(Duration::from_secs(10));
    assert!(status.success(), "{status}");
    raw.assert_every_line_is_a_message();
    let stderr = raw.stderr();
    assert!(stderr.contains("serving MCP"), "the log is not on stderr: {stderr}");
}

#[test]
fn a_client_that_leaves_before_initialize_ends_the_server_quietly() {
    let home = TestHome::new();
    let run = home.run(["mcp", "serve"]);
    assert_eq!((run.code, run.stdout.as_str(), run.stderr.as_str()), (0, "", ""));
}

fn wait_for_pid(path: &Path) -> u32 {
    let deadline = Instant::now() + ANSWER_LIMIT;
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && let Ok(pid) = text.trim().parse()
        {
            return pid;
        }
        assert!(Instant::now() < deadline, "{} never appeared", path.display());
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return files };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path.display().to_string());
        }
    }
    files
}

#[test]
fn s4_closing_stdin_mid_call_ends_the_server_its_children_and_temp_files() {
    let home = TestHome::new();
    let tmp = tempfile::tempdir().expect("a temp dir");
    let work = tempfile::tempdir().expect("a scratch dir");
    let leader = work.path().join("leader.pid");
    let grandchild = work.path().join("grandchild.pid");
    let mut raw = Raw::start(&home, tmp.path(), &[]);
    raw.initialize();
    // A save first, so that the store has its temp directory.
    let echo = json!({"ir_version": "0.1.0", "nodes": [{"id": "e", "type": "echo"}]});
    raw.call(1, "workflow_save", json!({"workflow": echo, "name": "before"}));
    let command = format!(
        "sleep 30 & echo $! > {}; echo $$$$ > {}; wait",
        grandchild.display(),
        leader.display()
    );
    let sleeper = json!({"ir_version": "0.1.0", "nodes": [{"id": "sh", "type": "shell", "params": {"command": command}}]});
    raw.send_json(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "workflow_execute", "arguments": {"workflow": sleeper}}}));
    let shell = wait_for_pid(&leader);
    let sleep = wait_for_pid(&grandchild);
    assert!(alive(shell) && alive(sleep));

    let (status, took) = raw.close(Duration::from_secs(5));
    assert!(status.success(), "{status}");
    assert!(!alive(shell), "the shell {shell} outlived the server");
    assert!(!alive(sleep), "the shell's child {sleep} outlived the server");
    let temps = files_under(tmp.path());
    assert!(temps.is_empty(), "temp files left: {temps:?}");
    let store_temps = files_under(&home.workflows().join(".tmp"));
    assert!(store_temps.is_empty(), "store temp files left: {store_temps:?}");
    raw.assert_every_line_is_a_message();
    crate::store_support::report(format!(
        "ok: the server exited {took:?} after stdin closed; no process or temp file left"
    ));
}

#[test]
fn closing_stdin_after_a_call_on_postgres_ends_the_server_with_0() {
    // The store's blocking PostgreSQL client owns a runtime of its own; dropping it on
    // the server's runtime thread panicked ("cannot start a runtime from within a
    // runtime") and the server exited 1 although every call had succeeded.
    let lib = crate::pg_support::PgLibrary::new();
    let tmp = tempfile::tempdir().expect("a temp dir");
    let mut raw = Raw::start(&lib.home, tmp.path(), &["--store", &lib.uri]);
    raw.initialize();
    let echo = json!({"ir_version": "0.1.0", "nodes": [{"id": "e", "type": "echo"}]});
    let saved = raw.call(1, "workflow_save", json!({"workflow": echo, "name": "kept"}));
    assert_eq!(saved["result"]["isError"], false, "{saved}");
    let listed = raw.call(2, "workflow_list", json!({}));
    assert!(listed.to_string().contains("kept"), "{listed}");
    let (status, _) = raw.close(Duration::from_secs(10));
    let stderr = raw.stderr();
    assert!(status.success(), "{status}; stderr: {stderr}");
    assert_eq!(stderr, "", "the server said something on leaving");
    raw.assert_every_line_is_a_message();
}

#[test]
fn workflow_execute_reports_what_the_llm_calls_consumed() {
    use pflow_llm::testing::ModelServer;
    let home = TestHome::new();
    let tmp = tempfile::tempdir().unwrap();
    let server = ModelServer::echo();
    let base = server.v1();
    let key = "sk-mcp-usage-7d1e0f3a9b2c4d5e";
    let mut raw = Raw::start_with(
        &home,
        tmp.path(),
        &[],
        &[("OPENAI_API_KEY", key), ("OPENAI_BASE_URL", base.as_str())],
    );
    raw.initialize();
    let ask = json!({"ir_version": "0.1.0", "nodes": [{"id": "ask", "type": "llm",
        "params": {"prompt": "Colour of the sky?", "model": "openai/gpt-4o-mini"}}], "edges": []});
    for (id, cached) in [(1, 0), (2, 1)] {
        let answer = raw.call(id, "workflow_execute", json!({"workflow": ask}));
        let result = &answer["result"];
        assert_eq!(result["isError"], false, "{answer}");
        let usage = &result["structuredContent"]["llm_usage"];
        assert_eq!(usage["calls"][0]["node"], "ask", "{answer}");
        assert_eq!(usage["calls"][0]["model"], "openai/gpt-4o-mini", "{answer}");
        assert_eq!(usage["cached_calls"], cached, "{answer}");
        // The first call spent tokens; the second came from the cache and spent none.
        assert_eq!(usage["total_tokens"], if cached == 0 { 6 } else { 0 }, "{answer}");
        let text = result["content"][0]["text"].as_str().unwrap_or_default();
        assert!(text.contains("1 llm call"), "{text}");
    }
    assert_eq!(server.requests().len(), 1);
    // A run without a model call says nothing of models.
    let echo = json!({"ir_version": "0.1.0", "nodes": [{"id": "e", "type": "echo",
        "params": {"message": "hi"}}], "edges": []});
    let answer = raw.call(3, "workflow_execute", json!({"workflow": echo}));
    assert!(answer["result"]["structuredContent"].get("llm_usage").is_none(), "{answer}");
    let (status, _) = raw.close(Duration::from_secs(10));
    assert!(status.success(), "{status}");
    let everything = format!("{}{}", raw.seen.join("\n"), raw.stderr());
    assert!(!everything.contains(key), "the key leaked");
}

#[test]
fn the_tools_read_a_pflow_md_path_with_lines_in_its_findings() {
    use crate::pflow_md::{GREET, line_of};
    let home = TestHome::new();
    let tmp = tempfile::tempdir().unwrap();
    let good = home.path().join("greet.pflow.md");
    std::fs::write(&good, GREET).unwrap();
    let bad_text = GREET.replace("- type: shell\n- stdin", "- type: shel\n- stdin");
    let bad = home.path().join("bad.pflow.md");
    std::fs::write(&bad, &bad_text).unwrap();
    let broken = home.path().join("broken.pflow.md");
    std::fs::write(
        &broken,
        "# X\n\n## Steps\n\n### a\n\nFirst.\n\n- type: echo\n\n### a\n\nAgain.\n\n- type: echo\n",
    )
    .unwrap();
    let mut raw = Raw::start(&home, tmp.path(), &[]);
    raw.initialize();

    let validated = raw.call(1, "workflow_validate", json!({"workflow": bad}));
    let out = &validated["result"]["structuredContent"];
    assert_eq!(out["valid"], false, "{validated}");
    let line = line_of(&bad_text, "- type: shel");
    assert_eq!(out["findings"][0]["path"], "nodes[1].type", "{validated}");
    assert_eq!(out["findings"][0]["line"], line, "{validated}");
    let text = validated["result"]["content"][0]["text"].as_str().unwrap_or_default();
    assert!(text.contains(&format!("error at line {line}, nodes[1].type")), "{text}");

    // A file that gives no workflow: every finding, each at its line.
    let refused = raw.call(2, "workflow_validate", json!({"workflow": broken}));
    let error = &refused["result"]["structuredContent"]["error"];
    assert_eq!(error["findings"][0]["line"], 11, "{refused}");

    let executed =
        raw.call(3, "workflow_execute", json!({"workflow": good, "parameters": {"who": "di"}}));
    assert_eq!(
        executed["result"]["structuredContent"]["outputs"]["loud"], "HELLO DI\n",
        "{executed}"
    );
    let saved = raw.call(4, "workflow_save", json!({"workflow": good, "name": "greet"}));
    assert_eq!(saved["result"]["isError"], false, "{saved}");
    let (status, _) = raw.close(Duration::from_secs(10));
    assert!(status.success(), "{status}");
    let shown = home.run(["workflow", "show", "greet", "--json"]);
    let doc: Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(doc["description"], "Says hello to someone, loudly.");
}
