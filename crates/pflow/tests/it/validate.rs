//! Wiring tests of `pflow validate`: rendered diagnostics (human and JSON), input
//! handling and exit codes, as inline snapshots of hermetic runs of the built binary.

use std::process::Command;

use insta::assert_snapshot;

use crate::sandbox::Sandbox;

/// A workflow with one problem of each common kind.
const BROKEN: &str = r#"{
  "ir_version": "0.1.0",
  "inputs": { "input_file": { "type": "string" } },
  "nodes": [
    { "id": "read", "type": "read-file", "params": { "file_path": "${inptu_file}" } },
    { "id": "count", "type": "shell", "params": { "command": "wc -w ${read.content}" } },
    { "id": "orphan", "type": "echo", "params": { "message": "$inptu_file" } }
  ],
  "edges": [
    { "from": "read", "to": "count" },
    { "from": "count", "to": "read", "action": "again" }
  ],
  "edge": []
}"#;

const VALID: &str = r#"{
  "ir_version": "0.1.0",
  "nodes": [{ "id": "hello", "type": "echo", "params": { "message": "Hello" } }]
}"#;

/// Writes `files` into a fresh sandbox and runs `pflow ARGS` there; the transcript.
fn run(files: &[(&str, &str)], args: &[&str]) -> String {
    let sandbox = Sandbox::new();
    for (name, text) in files {
        sandbox.file(name, text);
    }
    sandbox.run(args)
}

#[test]
fn a_valid_workflow() {
    assert_snapshot!(run(&[("hello.json", VALID)], &["validate", "hello.json"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        valid: `hello.json`: 0 errors, 0 warnings
        "#);
}

#[test]
fn every_problem_with_its_path_and_hint() {
    assert_snapshot!(run(&[("broken.json", BROKEN)], &["validate", "broken.json"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: edge: unknown field `edge` in a workflow
          hint: did you mean `edges`?
        error: nodes[0].params.file_path: `${inptu_file}` refers to `inptu_file`, which is not an input or a node id
          hint: did you mean `input_file`?
        warning: nodes[1].params.command: `${read.content}` is interpolated into a shell command, an injection risk
          hint: pass the value through `env` ("env": {"READ_CONTENT": "${read.content}"}) and write "$READ_CONTENT" in the command
        warning: nodes[2]: node `orphan` is unreachable from the start node `read`
          hint: add an edge that leads to `orphan`, or remove it
        warning: nodes[2].params.message: `$inptu_file` is not an input or a node id, so it stays literal text
          hint: did you mean `$input_file`? write `$$inptu_file` for a literal `$`
        error: edges[1]: the edges form a cycle: read -> count -> read
          hint: a workflow is acyclic: remove or redirect one edge of the cycle
        `broken.json`: 3 errors, 3 warnings
        "#);
}

#[test]
fn problems_as_json() {
    assert_snapshot!(run(&[("broken.json", BROKEN)], &["validate", "--json", "broken.json"]), @r#"
        exit: 1
        --- stdout
        [
          {
            "path": "edge",
            "severity": "error",
            "message": "unknown field `edge` in a workflow",
            "hint": "did you mean `edges`?"
          },
          {
            "path": "nodes[0].params.file_path",
            "severity": "error",
            "message": "`${inptu_file}` refers to `inptu_file`, which is not an input or a node id",
            "hint": "did you mean `input_file`?"
          },
          {
            "path": "nodes[1].params.command",
            "severity": "warning",
            "message": "`${read.content}` is interpolated into a shell command, an injection risk",
            "hint": "pass the value through `env` (\"env\": {\"READ_CONTENT\": \"${read.content}\"}) and write \"$READ_CONTENT\" in the command"
          },
          {
            "path": "nodes[2]",
            "severity": "warning",
            "message": "node `orphan` is unreachable from the start node `read`",
            "hint": "add an edge that leads to `orphan`, or remove it"
          },
          {
            "path": "nodes[2].params.message",
            "severity": "warning",
            "message": "`$inptu_file` is not an input or a node id, so it stays literal text",
            "hint": "did you mean `$input_file`? write `$$inptu_file` for a literal `$`"
          },
          {
            "path": "edges[1]",
            "severity": "error",
            "message": "the edges form a cycle: read -> count -> read",
            "hint": "a workflow is acyclic: remove or redirect one edge of the cycle"
          }
        ]
        --- stderr
        "#);
    assert_snapshot!(run(&[("hello.json", VALID)], &["validate", "hello.json", "--json"]), @r#"
        exit: 0
        --- stdout
        []
        --- stderr
        "#);
}

#[test]
fn quiet_prints_only_errors() {
    assert_snapshot!(run(&[("broken.json", BROKEN)], &["-q", "validate", "broken.json"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: edge: unknown field `edge` in a workflow
          hint: did you mean `edges`?
        error: nodes[0].params.file_path: `${inptu_file}` refers to `inptu_file`, which is not an input or a node id
          hint: did you mean `input_file`?
        error: edges[1]: the edges form a cycle: read -> count -> read
          hint: a workflow is acyclic: remove or redirect one edge of the cycle
        "#);
}

#[test]
fn colors_when_asked() {
    let out = run(&[("broken.json", BROKEN)], &["--color", "always", "validate", "broken.json"]);
    assert!(out.contains("\x1b[1;31merror:\x1b[0m edge: unknown field"), "{out}");
    assert!(out.contains("\x1b[1;33mwarning:\x1b[0m nodes[1].params.command"), "{out}");
    assert!(out.contains("  \x1b[1;36mhint:\x1b[0m did you mean `edges`?"), "{out}");
}

#[test]
fn stdin_and_documents() {
    let sandbox = Sandbox::new();
    assert_snapshot!(sandbox.run_with_stdin(&["validate", "-"], Some(VALID)), @r#"
        exit: 0
        --- stdout
        --- stderr
        valid: stdin: 0 errors, 0 warnings
        "#);
    let document = format!(
        r#"{{ "name": "hello", "description": "Says hello", "ir": {} }}"#,
        BROKEN.replace("\"edge\": []", "\"start_node\": \"nope\"")
    );
    assert_snapshot!(sandbox.run_with_stdin(&["validate", "-"], Some(&document)), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: ir.nodes[0].params.file_path: `${inptu_file}` refers to `inptu_file`, which is not an input or a node id
          hint: did you mean `input_file`?
        warning: ir.nodes[1].params.command: `${read.content}` is interpolated into a shell command, an injection risk
          hint: pass the value through `env` ("env": {"READ_CONTENT": "${read.content}"}) and write "$READ_CONTENT" in the command
        warning: ir.nodes[2].params.message: `$inptu_file` is not an input or a node id, so it stays literal text
          hint: did you mean `$input_file`? write `$$inptu_file` for a literal `$`
        error: ir.edges[1]: the edges form a cycle: read -> count -> read
          hint: a workflow is acyclic: remove or redirect one edge of the cycle
        error: ir.start_node: start node `nope` is not a node
          hint: `start_node` names the id of a node; leave it out to start at the first node
        stdin: 3 errors, 2 warnings
        "#);
}

#[test]
fn json_errors_are_one_line() {
    assert_snapshot!(run(&[("bad.json", "{\n  \"ir_version\": \"0.1.0\",\n  nodes: []\n}")], &["validate", "bad.json"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: `bad.json` is not valid JSON: key must be a string at line 3, column 3
        "#);
    assert_snapshot!(run(&[("empty.json", "")], &["validate", "empty.json"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: `empty.json` is not valid JSON: EOF while parsing a value at line 1, column 0
        "#);
    let sandbox = Sandbox::new();
    assert_snapshot!(sandbox.run_with_stdin(&["validate", "-"], Some("[1, 2")), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: stdin is not valid JSON: EOF while parsing a list at line 1, column 5
        "#);
    let deep = "[".repeat(200) + &"]".repeat(200);
    assert_snapshot!(run(&[("deep.json", &deep)], &["validate", "deep.json"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: `deep.json` is not valid JSON: recursion limit exceeded at line 1, column 128
        "#);
}

#[test]
fn not_an_object() {
    assert_snapshot!(run(&[("list.json", "[1, 2]")], &["validate", "list.json"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: a workflow must be a JSON object, found an array
          hint: a workflow looks like {"ir_version": "0.1.0", "nodes": [...]}
        `list.json`: 1 error, 0 warnings
        "#);
}

#[test]
fn unreadable_inputs() {
    let sandbox = Sandbox::new();
    std::fs::create_dir(sandbox.cwd().join("subdir")).unwrap();
    assert_snapshot!(sandbox.run_with_stdin(&["validate", "missing.json"], None), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: cannot read `missing.json`
        caused by: No such file or directory (os error 2)
        "#);
    assert_snapshot!(sandbox.run_with_stdin(&["validate", "subdir"], None), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: cannot read `subdir`: it is a directory, not a regular file
        hint: give the path of a JSON file, or `-` to read stdin
        "#);
    // A sparse file one byte over the limit is refused without being read.
    let big = std::fs::File::create(sandbox.cwd().join("big.json")).unwrap();
    big.set_len(16 * 1024 * 1024 + 1).unwrap();
    assert_snapshot!(sandbox.run_with_stdin(&["validate", "big.json"], None), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: `big.json` is too large: 16777217 bytes, more than the limit of 16 MiB
        hint: a workflow is a small JSON file; check that this is the right one
        "#);
}

#[test]
fn a_fifo_is_refused_without_blocking() {
    let sandbox = Sandbox::new();
    let status = Command::new("mkfifo").arg(sandbox.cwd().join("fifo")).status().unwrap();
    assert!(status.success());
    // Nobody ever writes to the FIFO: opening it for reading would block forever.
    assert_snapshot!(sandbox.run_with_stdin(&["validate", "fifo"], None), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: cannot read `fifo`: it is a FIFO, not a regular file
        hint: give the path of a JSON file, or `-` to read stdin
        "#);
}

#[test]
fn usage_errors_exit_2() {
    let out = run(&[], &["validate"]);
    assert!(out.starts_with("exit: 2\n"), "{out}");
    assert!(out.contains("<FILE>"), "{out}");
}

#[test]
fn not_json_with_json_is_one_problem_on_stdout() {
    assert_snapshot!(run(&[("bad.json", "{\n  nodes: []\n}")], &["validate", "--json", "bad.json"]), @r#"
        exit: 1
        --- stdout
        [
          {
            "path": "",
            "severity": "error",
            "message": "not valid JSON: key must be a string at line 2, column 3"
          }
        ]
        --- stderr
        "#);
}

/// A workflow calling `target` by `workflow_ref`.
fn calls_file(target: &str) -> String {
    format!(
        r#"{{"ir_version": "0.1.0", "nodes": [{{"id": "call", "type": "workflow", "params": {{"workflow_ref": "{target}"}}}}]}}"#
    )
}

#[test]
fn a_file_cycle_is_found_by_validate_save_and_run_alike() {
    let sandbox = Sandbox::new();
    sandbox.file("a.json", &calls_file("b.json")).file("b.json", &calls_file("a.json"));
    assert_snapshot!(sandbox.run(&["validate", "a.json"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: nodes[0].params.workflow_ref: workflow call cycle: a.json -> b.json -> a.json
          hint: a workflow cannot call itself, directly or through others
        `a.json`: 1 error, 0 warnings
        "#);
    // Saving finds the cycle too, and that a saved workflow cannot keep a relative path.
    assert_snapshot!(sandbox.run(&["workflow", "save", "a.json", "--name", "a"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: nodes[0].params.workflow_ref: a saved workflow cannot name a file by a relative path (`b.json`)
          hint: save that workflow too and call it with `workflow_name`, or give an absolute path
        error: nodes[0].params.workflow_ref: workflow call cycle: a.json -> b.json -> a.json
          hint: a workflow cannot call itself, directly or through others
        error: workflow `a` was not saved: 2 errors in `a.json`
        "#);
    assert!(!sandbox.home().join("workflows/a.json").exists());
    let run = sandbox.run(&["run", "a.json"]);
    assert!(run.starts_with("exit: 1\n"), "{run}");
    assert!(run.contains("workflow call cycle: a.json -> b.json -> a.json"), "{run}");
}

#[test]
fn a_missing_saved_workflow_is_found_by_validate() {
    let sandbox = Sandbox::new();
    sandbox.file("hello.json", VALID).file(
        "calls.json",
        r#"{"ir_version": "0.1.0", "nodes": [{"id": "call", "type": "workflow", "params": {"workflow_name": "helo"}}]}"#,
    );
    // Without a home there are no saved workflows, and validate does not create one.
    let absent = sandbox.cwd().join("absent-home");
    let env = [("PFLOW_HOME", absent.to_str().unwrap())];
    assert_snapshot!(sandbox.run_with(&["validate", "calls.json"], None, &env), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: nodes[0].params.workflow_name: saved workflow `helo` not found
          hint: save `helo` first, or fix the name
        `calls.json`: 1 error, 0 warnings
        "#);
    assert!(!absent.exists());
    let saved = sandbox.run(&["workflow", "save", "hello.json", "--name", "hello"]);
    assert!(saved.starts_with("exit: 0\n"), "{saved}");
    assert_snapshot!(sandbox.run(&["validate", "calls.json"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: nodes[0].params.workflow_name: saved workflow `helo` not found
          hint: did you mean `hello`?
        `calls.json`: 1 error, 0 warnings
        "#);
}
