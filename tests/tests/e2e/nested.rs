//! Nested workflows through the built binary: saved by `pflow workflow save`, called by
//! name three levels deep, failing children, and cycles caught at run time.

use std::path::{Path, PathBuf};

use pflow_tests::TestHome;
use serde_json::{Value, json};

/// Saves the file at `path` under `name` through `pflow workflow save`.
#[track_caller]
fn save_file(home: &TestHome, path: &Path, name: &str) {
    let run = home.run(["workflow", "save", path.to_str().unwrap(), "--name", name]);
    assert_eq!(run.code, 0, "save {name}: {}", run.transcript());
}

/// Saves `ir` under `name` from stdin.
#[track_caller]
fn save(home: &TestHome, name: &str, ir: &Value) {
    let run =
        home.run_with_stdin(["workflow", "save", "-", "--name", name], ir.to_string().as_bytes());
    assert_eq!(run.code, 0, "save {name}: {}", run.transcript());
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn the_nested_examples_run_three_levels_deep_by_name() {
    let home = TestHome::new();
    for name in ["text-upper", "text-shout", "text-announce"] {
        save_file(&home, &repo().join(format!("examples/nested/{name}.json")), name);
    }
    let run = home.run(["run", "text-announce"]);
    assert_eq!(run.transcript(), "exit: 0\n--- stdout\nANNOUNCEMENT: HELLO!\n--- stderr\n");
    let run = home.run(["run", "text-announce", "text=nested runs", "--json"]);
    assert_eq!(
        run.transcript(),
        "exit: 0\n--- stdout\n{\n  \"announcement\": \"ANNOUNCEMENT: NESTED RUNS!\"\n}\n--- stderr\n"
    );
}

#[test]
fn the_bench_fixtures_run_nest_top() {
    let fixtures = repo().join("../shared/bench/fixtures/json");
    if !fixtures.is_dir() {
        // shared/ sits beside the repository in CI and on the developers' machines.
        eprintln!("SKIPPED: no bench fixtures at {}", fixtures.display());
        return;
    }
    let home = TestHome::new();
    for name in ["nest-leaf", "nest-mid", "nest-top"] {
        save_file(&home, &fixtures.join(format!("{name}.json")), name);
    }
    let run = home.run(["run", "nest-top", "text=hi"]);
    assert_eq!(run.transcript(), "exit: 0\n--- stdout\nHI\n--- stderr\n");
    let run = home.run(["run", "nest-top"]);
    assert_eq!(run.transcript(), "exit: 0\n--- stdout\nDEEP\n--- stderr\n");
}

#[test]
fn a_failing_child_names_the_chain_or_takes_the_error_edge() {
    let home = TestHome::new();
    save(
        &home,
        "leaf",
        &json!({"ir_version": "0.1.0",
        "nodes": [{"id": "fail", "type": "shell", "params": {"command": "echo leaf broke >&2; exit 1"}}]}),
    );
    save(
        &home,
        "mid",
        &json!({"ir_version": "0.1.0",
        "nodes": [{"id": "call-leaf", "type": "workflow", "params": {"workflow_name": "leaf"}}]}),
    );
    let top = json!({"ir_version": "0.1.0",
        "nodes": [{"id": "call-mid", "type": "workflow", "params": {"workflow_name": "mid"}}]});
    let run = home.run_with_stdin(["run"], top.to_string().as_bytes());
    assert_eq!(
        run.transcript(),
        "exit: 1\n--- stdout\n--- stderr\nerror: call-mid > call-leaf > fail: command exited with code 1: leaf broke\n"
    );
    let handled = json!({"ir_version": "0.1.0",
        "nodes": [
            {"id": "call-mid", "type": "workflow", "params": {"workflow_name": "mid"}},
            {"id": "recover", "type": "echo", "params": {"message": "recovered: ${call-mid.error}"}}
        ],
        "edges": [{"from": "call-mid", "to": "recover", "action": "error"}]});
    let run = home.run_with_stdin(["run"], handled.to_string().as_bytes());
    assert_eq!(
        run.transcript(),
        "exit: 0\n--- stdout\nrecovered: call-leaf > fail: command exited with code 1: leaf broke\n--- stderr\n"
    );
}

/// A stored document holding `ir`, as the store writes it, planted by hand under `name`.
fn plant(home: &TestHome, name: &str, ir: &Value) {
    let workflows = home.workflows();
    std::fs::create_dir_all(&workflows).unwrap();
    let doc = json!({"name": name, "description": "", "version": "1.0.0", "revision": 1,
        "created_at": "2025-01-29T10:00:00Z", "updated_at": "2025-01-29T10:00:00Z", "ir": ir});
    std::fs::write(workflows.join(format!("{name}.json")), doc.to_string()).unwrap();
}

#[test]
fn a_cycle_through_a_name_and_a_file_is_refused_by_validate_save_and_run() {
    let home = TestHome::new();
    let dir = tempfile::tempdir().unwrap();
    let back = dir.path().join("back.json");
    let calls_loop_a = json!({"ir_version": "0.1.0",
        "nodes": [{"id": "again", "type": "workflow", "params": {"workflow_name": "loop-a"}}]});
    std::fs::write(&back, calls_loop_a.to_string()).unwrap();
    let calls_back = json!({"ir_version": "0.1.0",
        "nodes": [{"id": "out", "type": "workflow", "params": {"workflow_ref": back.to_str().unwrap()}}]});
    save(&home, "loop-a", &json!({"ir_version": "0.1.0", "nodes": [{"id": "e", "type": "echo"}]}));

    // Saving `loop-a` so that it calls the file that calls it back is refused, and what
    // was saved stays.
    let run = home.run_with_stdin(
        ["workflow", "save", "-", "--name", "loop-a", "--force"],
        calls_back.to_string().as_bytes(),
    );
    assert_eq!(
        run.transcript(),
        format!(
            "exit: 1\n--- stdout\n--- stderr\nerror: nodes[0].params.workflow_ref: workflow call \
             cycle: loop-a -> {} -> loop-a\n  hint: a workflow cannot call itself, directly or \
             through others\nerror: workflow `loop-a` was not saved: 1 error in stdin\n",
            back.display()
        )
    );
    assert_eq!(
        home.run(["workflow", "show", "loop-a", "--json"]).stdout.matches("\"echo\"").count(),
        1
    );

    // The same cycle planted by hand is found by `validate` of a file on the way, and
    // `run` refuses it before any node runs.
    plant(&home, "loop-a", &calls_back);
    let front = dir.path().join("front.json");
    std::fs::write(&front, calls_back.to_string()).unwrap();
    let run = home.run(["validate", front.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    let chain =
        format!("{} -> {} -> loop-a -> {}", front.display(), back.display(), back.display());
    assert!(run.stderr.contains(&format!("workflow call cycle: {chain}")), "{}", run.transcript());
    let run = home.run(["run", "loop-a"]);
    assert_eq!(
        run.transcript(),
        format!(
            "exit: 1\n--- stdout\n--- stderr\nerror: nodes[0].params.workflow_ref: workflow call \
             cycle: loop-a -> {} -> loop-a\n  hint: a workflow cannot call itself, directly or \
             through others\nerror: workflow `loop-a` is invalid: 1 error\nhint: fix the problems \
             above; `pflow validate FILE` checks a file without running it\n",
            back.display()
        )
    );
}

#[test]
fn a_name_cycle_is_refused_before_running() {
    let home = TestHome::new();
    // A cycle the store would refuse to save, planted by hand as stored documents.
    let workflows = home.workflows();
    std::fs::create_dir_all(&workflows).unwrap();
    for (name, callee) in [("ping", "pong"), ("pong", "ping")] {
        let doc = json!({"name": name, "description": "", "version": "1.0.0", "revision": 1,
            "created_at": "2025-01-29T10:00:00Z", "updated_at": "2025-01-29T10:00:00Z",
            "ir": {"ir_version": "0.1.0",
                "nodes": [{"id": "call", "type": "workflow", "params": {"workflow_name": callee}}]}});
        std::fs::write(workflows.join(format!("{name}.json")), doc.to_string()).unwrap();
    }
    let run = home.run(["run", "ping"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.starts_with(
            "error: nodes[0].params.workflow_name: workflow call cycle: ping -> pong -> ping\n"
        ),
        "{}",
        run.stderr
    );
}
