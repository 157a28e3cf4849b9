//! `pflow run` through the built binary: stdin, files and saved names; input coercion and
//! input errors; validation before running; results, failures and exit codes.

use std::path::{Path, PathBuf};

use pflow_tests::TestHome;
use serde_json::{Value, json};

/// The repository's `examples/` directory.
fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// Saves `ir` under `name` through `pflow workflow save`.
#[track_caller]
fn save(home: &TestHome, name: &str, ir: &Value) {
    let run =
        home.run_with_stdin(["workflow", "save", "-", "--name", name], ir.to_string().as_bytes());
    assert_eq!(run.code, 0, "save {name}: {}", run.transcript());
}

const STDIN_EXAMPLE: &str = r#"{"ir_version": "0.1.0", "nodes": [{"id": "test", "type": "echo", "params": {"message": "Hello"}}]}"#;

#[test]
fn the_stdin_example_prints_hello() {
    let home = TestHome::new();
    let run = home.run_with_stdin(["run"], STDIN_EXAMPLE.as_bytes());
    assert_eq!(run.transcript(), "exit: 0\n--- stdout\nHello\n--- stderr\n");
    let run = home.run_with_stdin(["run", "-", "--json"], STDIN_EXAMPLE.as_bytes());
    assert_eq!(
        run.transcript(),
        "exit: 0\n--- stdout\n{\n  \"message\": \"Hello\"\n}\n--- stderr\n"
    );
}

#[test]
fn an_empty_stdin_is_a_usage_error() {
    let home = TestHome::new();
    let run = home.run(["run"]);
    assert_eq!(
        run.transcript(),
        "exit: 2\n--- stdout\n--- stderr\nerror: no workflow given: stdin is empty\nhint: pass a \
         saved name or a JSON file, or pipe JSON: `echo '{…}' | pflow run`\n"
    );
}

#[test]
fn inputs_may_follow_run_directly_when_the_workflow_is_on_stdin() {
    let home = TestHome::new();
    let ir = json!({"ir_version": "0.1.0", "inputs": {"n": {"type": "integer"}},
        "nodes": [{"id": "e", "type": "echo", "params": {"message": "${n}"}}]});
    let run = home.run_with_stdin(["run", "n=41"], ir.to_string().as_bytes());
    assert_eq!(run.transcript(), "exit: 0\n--- stdout\n{\n  \"message\": 41\n}\n--- stderr\n");
}

/// A saved workflow echoing each of its inputs, so their coerced types show.
fn typed_inputs() -> Value {
    json!({"ir_version": "0.1.0",
        "inputs": {
            "n": {"type": "integer"},
            "x": {"type": "number", "required": false, "default": 1.5},
            "flag": {"type": "boolean"},
            "obj": {"type": "object"},
            "items": {"type": "array", "required": false},
            "s": {"type": "string"},
            "free": {"required": false},
            "word": {"required": false}
        },
        "nodes": [{"id": "e", "type": "echo", "params": {"message": {
            "n": "${n}", "x": "${x}", "flag": "${flag}", "obj": "${obj}", "items": "${items}",
            "s": "${s}", "free": "${free}", "word": "${word}"}}}],
        "outputs": {"all": {"source": "${e.message}"}}})
}

#[test]
fn a_saved_name_runs_with_inputs_coerced_to_their_types() {
    let home = TestHome::new();
    save(&home, "typed", &typed_inputs());
    let run = home.run([
        "run",
        "typed",
        "n=3",
        "flag=true",
        r#"obj={"a":1}"#,
        "items=[1,2]",
        "s=42",
        "free=[true]",
        "word=hello world",
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let out: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        out,
        json!({"all": {"n": 3, "x": 1.5, "flag": true, "obj": {"a": 1}, "items": [1, 2],
            "s": "42", "free": [true], "word": "hello world"}})
    );
}

#[test]
fn missing_unknown_and_malformed_inputs_are_usage_errors_naming_the_inputs() {
    let home = TestHome::new();
    save(&home, "typed", &typed_inputs());
    let accepted = "hint: this workflow accepts: `n` (integer, required), `x` (number, default \
                    `1.5`), `flag` (boolean, required), `obj` (object, required), `items` (array, \
                    optional), `s` (string, required), `free` (any, optional), `word` (any, \
                    optional)\n";
    let run = home.run(["run", "typed", "n=3", "flag=true", "s=x"]);
    assert_eq!(
        run.transcript(),
        format!("exit: 2\n--- stdout\n--- stderr\nerror: missing required input `obj`\n{accepted}")
    );
    let run = home.run(["run", "typed", "n=3", "flag=true", "s=x", "obj={}", "fag=1"]);
    assert_eq!(
        run.transcript(),
        format!(
            "exit: 2\n--- stdout\n--- stderr\nerror: unknown input `fag` (did you mean `flag`?)\n{accepted}"
        )
    );
    let run = home.run(["run", "typed", "n=three"]);
    assert_eq!(
        run.transcript(),
        format!(
            "exit: 2\n--- stdout\n--- stderr\nerror: input `n`: `three` is not a valid integer\n{accepted}"
        )
    );
    let run = home.run(["run", "typed", "n"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with("error: expected an input as KEY=VALUE, got `n`\n"),
        "{}",
        run.stderr
    );
    let run = home.run(["run", "typed", "n=1", "n=2"]);
    assert_eq!(
        run.transcript(),
        "exit: 2\n--- stdout\n--- stderr\nerror: input `n` is given more than once\n"
    );
}

#[test]
fn an_unknown_name_fails_with_the_closest_saved_names() {
    let home = TestHome::new();
    save(&home, "typed", &typed_inputs());
    let run = home.run(["run", "typd"]);
    assert_eq!(
        run.transcript(),
        "exit: 1\n--- stdout\n--- stderr\nerror: workflow `typd` not found\nhint: did you mean `typed`?\n"
    );
}

#[test]
fn an_invalid_workflow_reports_every_problem_and_runs_nothing() {
    let home = TestHome::new();
    let marker = home.path().join("ran.txt");
    let ir = json!({"ir_version": "0.1.0",
        "nodes": [
            {"id": "w", "type": "write-file", "params": {"file_path": marker.to_str().unwrap(), "content": "x"}},
            {"id": "e", "type": "eco", "params": {}},
            {"id": "r", "type": "read-file", "params": {"path": "x"}}
        ],
        "edges": [{"from": "w", "to": "e"}, {"from": "e", "to": "r"}]});
    let run = home.run_with_stdin(["run"], ir.to_string().as_bytes());
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("error: nodes[1].type: unknown node type `eco`"), "{}", run.stderr);
    assert!(run.stderr.contains("nodes[2].params"), "{}", run.stderr);
    assert!(
        run.stderr.ends_with(
            "hint: fix the problems above; `pflow validate FILE` checks a file without running it\n"
        ),
        "{}",
        run.stderr
    );
    assert!(!marker.exists(), "a node ran although the workflow is invalid");
}

#[test]
fn a_failing_node_fails_the_run_with_its_name_and_exit_1() {
    let home = TestHome::new();
    let ir = json!({"ir_version": "0.1.0",
        "nodes": [{"id": "boom", "type": "shell", "params": {"command": "echo nope >&2; exit 3"}}]});
    let run = home.run_with_stdin(["run"], ir.to_string().as_bytes());
    assert_eq!(
        run.transcript(),
        "exit: 1\n--- stdout\n--- stderr\nerror: boom: command exited with code 3: nope\n"
    );
}

#[test]
fn a_file_runs_with_its_references_relative_to_it() {
    let home = TestHome::new();
    let elsewhere = tempfile::tempdir().unwrap();
    let file = examples().join("run-nested-ref.json");
    let run = home.run_in(elsewhere.path(), ["run", file.to_str().unwrap(), "text=quiet"], b"");
    assert_eq!(run.transcript(), "exit: 0\n--- stdout\nQUIET\n--- stderr\n");
}

#[test]
fn a_directory_named_like_a_saved_workflow_does_not_hide_it() {
    let home = TestHome::new();
    let ir = json!({"ir_version": "0.1.0",
        "nodes": [{"id": "e", "type": "echo", "params": {"message": "saved greet"}}]});
    save(&home, "greet", &ir);
    let cwd = tempfile::tempdir().unwrap();
    std::fs::create_dir(cwd.path().join("greet")).unwrap();
    let run = home.run_in(cwd.path(), ["run", "greet"], b"");
    assert_eq!(run.transcript(), "exit: 0\n--- stdout\nsaved greet\n--- stderr\n");
}
#[test]
fn a_reference_from_stdin_is_relative_to_the_current_directory() {
    let home = TestHome::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("child.json"),
        json!({"ir_version": "0.1.0", "nodes": [{"id": "e", "type": "echo", "params": {"message": "from cwd"}}],
            "outputs": {"said": {"source": "${e.message}"}}})
        .to_string(),
    )
    .unwrap();
    let ir = json!({"ir_version": "0.1.0",
        "nodes": [{"id": "c", "type": "workflow", "params": {"workflow_ref": "child.json"}}]});
    let run = home.run_in(dir.path(), ["run"], ir.to_string().as_bytes());
    assert_eq!(run.transcript(), "exit: 0\n--- stdout\nfrom cwd\n--- stderr\n");
}

#[test]
fn a_stored_document_file_runs_like_a_bare_ir() {
    let home = TestHome::new();
    save(&home, "typed", &typed_inputs());
    let show = home.run(["workflow", "show", "typed", "--json"]);
    assert_eq!(show.code, 0, "{}", show.transcript());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.json");
    std::fs::write(&file, &show.stdout).unwrap();
    let run = home.run(["run", file.to_str().unwrap(), "n=1", "flag=false", "obj={}", "s=t"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(serde_json::from_str::<Value>(&run.stdout).unwrap()["all"]["n"], json!(1));
}

#[test]
fn workflow_ref_cycles_are_refused_before_anything_runs() {
    let home = TestHome::new();
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran.txt");
    let a = json!({"ir_version": "0.1.0",
        "nodes": [
            {"id": "w", "type": "write-file", "params": {"file_path": marker.to_str().unwrap(), "content": "x"}},
            {"id": "call", "type": "workflow", "params": {"workflow_ref": "b.json"}}
        ],
        "edges": [{"from": "w", "to": "call"}]});
    let b = json!({"ir_version": "0.1.0",
        "nodes": [{"id": "back", "type": "workflow", "params": {"workflow_ref": "a.json"}}]});
    std::fs::write(dir.path().join("a.json"), a.to_string()).unwrap();
    std::fs::write(dir.path().join("b.json"), b.to_string()).unwrap();
    let run = home.run_in(dir.path(), ["run", "a.json"], b"");
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.starts_with(
            "error: nodes[1].params.workflow_ref: workflow call cycle: a.json -> b.json -> a.json\n"
        ),
        "{}",
        run.stderr
    );
    assert!(!marker.exists(), "a node ran although the workflow has a cycle");
}

#[test]
fn the_examples_run() {
    let home = TestHome::new();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("notes.txt");
    std::fs::write(&input, "some notes\n").unwrap();
    let backup = examples().join("run-backup.json");
    let run =
        home.run_in(dir.path(), ["run", backup.to_str().unwrap(), "file_path=notes.txt"], b"");
    assert_eq!(run.code, 0, "{}", run.transcript());
    let out: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(out["backup"], json!("backups/latest.bak"));
    let checksum = out["checksum"].as_str().unwrap();
    assert!(!checksum.is_empty() && checksum.bytes().all(|b| b.is_ascii_digit()), "{checksum}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("backups/latest.bak")).unwrap(),
        "some notes\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("backups/backup.log")).unwrap(),
        format!("backed up notes.txt (cksum {checksum})\n")
    );

    let fallback = examples().join("run-fallback.json");
    let run =
        home.run_in(dir.path(), ["run", fallback.to_str().unwrap(), "file_path=notes.txt"], b"");
    assert_eq!(run.transcript(), "exit: 0\n--- stdout\nsome notes\n--- stderr\n");
    let run =
        home.run_in(dir.path(), ["run", fallback.to_str().unwrap(), "file_path=absent.txt"], b"");
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        run.stdout.starts_with("no file, using the default (cannot read `absent.txt`: "),
        "{}",
        run.stdout
    );
}
