//! `batch` through the built binary (SPEC §5.5): outputs in 0.16's shape, input order,
//! `as` and `${__index__}`, `fail_fast` and `continue`, real concurrency bounded by
//! `max_concurrent`, per-item retries, a batch over a `workflow` node, progress, and
//! Ctrl-C stopping every item.

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use pflow_tests::{TestHome, dies_within};
use serde_json::{Value, json};

use crate::language::{outputs, run_json};

#[test]
fn results_keep_input_order_with_item_and_index() {
    let home = TestHome::new();
    let ir = json!({"ir_version": "0.1.0",
        "inputs": {"words": {"type": "array", "required": true}},
        "nodes": [{"id": "each", "type": "shell",
            "batch": {"items": "${words}", "as": "word"},
            "params": {"command": "printf '%s:%s' \"$W\" \"$I\"",
                       "env": {"W": "${word}", "I": "${__index__}"}}}],
        "outputs": {"all": {"source": "${each}"}}});
    let run = run_json(&home, &ir, &["words=[\"a\",\"b\",\"c\"]"]);
    let all = &outputs(&run)["all"];
    assert_eq!(
        (&all["count"], &all["success_count"], &all["error_count"]),
        (&json!(3), &json!(3), &json!(0))
    );
    assert_eq!(all["errors"], json!([]), "errors is always an array");
    let got: Vec<(&Value, &Value, &Value)> = all["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (&r["stdout"], &r["item"], &r["original_index"]))
        .collect();
    assert_eq!(
        got,
        [
            (&json!("a:0"), &json!("a"), &json!(0)),
            (&json!("b:1"), &json!("b"), &json!(1)),
            (&json!("c:2"), &json!("c"), &json!(2))
        ]
    );

    // Inline items with templates, and a later node reading one result by index.
    let ir = json!({"ir_version": "0.1.0", "nodes": [
        {"id": "base", "type": "echo", "params": {"message": "x"}},
        {"id": "each", "type": "echo", "batch": {"items": [{"v": "${base.message}1"}, {"v": "${base.message}2"}]},
         "params": {"message": "${item.v}"}},
        {"id": "pick", "type": "echo", "params": {"message": "${each.results[1].message}"}}],
        "edges": [{"from": "base", "to": "each"}, {"from": "each", "to": "pick"}]});
    assert_eq!(outputs(&run_json(&home, &ir, &[]))["message"], "x2");

    // Items that are not an array: a clear error naming the node.
    let ir = json!({"ir_version": "0.1.0", "nodes": [
        {"id": "src", "type": "echo", "params": {"message": "a\nb"}},
        {"id": "each", "type": "echo", "batch": {"items": "${src.message}"}, "params": {"message": "${item}"}}],
        "edges": [{"from": "src", "to": "each"}]});
    let run = run_json(&home, &ir, &[]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("`batch.items` of node `each` is a string, not an array"),
        "{}",
        run.stderr
    );
}

#[test]
fn fail_fast_stops_the_batch_and_continue_lists_the_failures() {
    let home = TestHome::new();
    let log = home.path().join("log");
    let ir = |handling: &str| {
        json!({"ir_version": "0.1.0", "nodes": [{"id": "each", "type": "shell",
            "batch": {"items": ["a", "bad", "c"], "error_handling": handling},
            "params": {"command": "echo \"$I\" >> \"$LOG\"; test \"$I\" != bad",
                       "env": {"I": "${item}", "LOG": log.to_str().unwrap()}}}],
            "outputs": {"all": {"source": "${each}"}}})
    };
    let run = run_json(&home, &ir("fail_fast"), &[]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("each: batch item 1 of 3 failed: command exited with code 1"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "a\nbad\n",
        "the item after the failure did not run"
    );

    std::fs::remove_file(&log).unwrap();
    let all = outputs(&run_json(&home, &ir("continue"), &[]))["all"].clone();
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "a\nbad\nc\n");
    assert_eq!(
        (&all["count"], &all["success_count"], &all["error_count"]),
        (&json!(3), &json!(2), &json!(1))
    );
    assert_eq!(
        all["errors"],
        json!([{"index": 1, "item": "bad", "error": "command exited with code 1"}])
    );
    let items: Vec<&Value> =
        all["results"].as_array().unwrap().iter().map(|r| &r["item"]).collect();
    assert_eq!(items, [&json!("a"), &json!("c")], "failed items are not in results");

    // A failed batch takes its `error` edge like any failed node, its outputs in hand.
    let ir = json!({"ir_version": "0.1.0", "nodes": [
        {"id": "each", "type": "shell", "batch": {"items": [1, 2]}, "params": {"command": "exit 4"}},
        {"id": "handle", "type": "echo", "params": {"message": "${each.error_count} of ${each.count}"}}],
        "edges": [{"from": "each", "to": "handle", "action": "error"}]});
    let run = run_json(&home, &ir, &[]);
    assert_eq!(outputs(&run)["message"], "1 of 2");
}

/// A shell command that waits until `n` items are inside at once (each leaves a file),
/// failing after ten seconds: it only succeeds when the items really run together.
fn rendezvous(dir: &std::path::Path, n: usize) -> String {
    format!(
        "touch \"{d}/in-$I\"; for _ in $(seq 1000); do [ $(ls \"{d}\" | grep -c '^in-') -ge {n} ] && exit 0; sleep 0.01; done; exit 9",
        d = dir.display()
    )
}

#[test]
fn parallel_items_run_at_once_and_max_concurrent_bounds_them() {
    let home = TestHome::new();
    let dir = home.path().join("together");
    std::fs::create_dir(&dir).unwrap();
    // Four items that each wait for all four: only a parallel batch can finish.
    let ir = json!({"ir_version": "0.1.0", "nodes": [{"id": "each", "type": "shell",
        "batch": {"items": [0, 1, 2, 3], "parallel": true, "max_concurrent": 4},
        "params": {"command": rendezvous(&dir, 4), "env": {"I": "${item}"}}}],
        "outputs": {"n": {"source": "${each.success_count}"}}});
    assert_eq!(outputs(&run_json(&home, &ir, &[]))["n"], 4);

    // With at most two at once, a peak of concurrent items is never above two: each item
    // records how many were inside when it entered, under a lock.
    let dir = home.path().join("bounded");
    std::fs::create_dir(&dir).unwrap();
    let count = format!(
        "exec 9>\"{d}/lock\"; flock 9; n=$(cat \"{d}/inside\" 2>/dev/null || echo 0); n=$((n+1)); \
         echo $n > \"{d}/inside\"; echo $n >> \"{d}/peaks\"; flock -u 9; sleep 0.2; \
         flock 9; n=$(cat \"{d}/inside\"); echo $((n-1)) > \"{d}/inside\"; flock -u 9",
        d = dir.display()
    );
    let ir = json!({"ir_version": "0.1.0", "nodes": [{"id": "each", "type": "shell",
        "batch": {"items": [0, 1, 2, 3, 4, 5], "parallel": true, "max_concurrent": 2},
        "params": {"command": count}}]});
    let run = run_json(&home, &ir, &[]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let peaks: Vec<u32> = std::fs::read_to_string(dir.join("peaks"))
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    assert_eq!(peaks.len(), 6);
    assert!(peaks.iter().all(|&p| p <= 2), "more than two items at once: {peaks:?}");
    assert!(peaks.contains(&2), "the items never overlapped: {peaks:?}");
}

#[test]
fn an_item_is_retried_only_for_a_failure_a_new_attempt_can_fix() {
    let home = TestHome::new();
    let count = home.path().join("count");
    let ir = json!({"ir_version": "0.1.0", "nodes": [{"id": "each", "type": "shell",
        "batch": {"items": ["a"], "max_retries": 3, "error_handling": "continue"},
        "params": {"command": "echo x >> \"$C\"; exit 3", "env": {"C": count.to_str().unwrap()}}}],
        "outputs": {"errors": {"source": "${each.error_count}"}}});
    assert_eq!(outputs(&run_json(&home, &ir, &[]))["errors"], 1);
    // As in 0.16: a command's exit code is its answer, not a transient failure.
    assert_eq!(std::fs::read_to_string(&count).unwrap(), "x\n");
}

#[test]
fn a_batch_over_a_workflow_node_runs_the_child_per_item() {
    let home = TestHome::new();
    let child = json!({"ir_version": "0.1.0",
        "inputs": {"n": {"type": "integer", "required": true}},
        "nodes": [{"id": "double", "type": "shell", "params": {"command": "echo $((N * 2))", "env": {"N": "${n}"}}}],
        "outputs": {"twice": {"source": "${double.stdout}"}}});
    let child_file = home.path().join("double.json");
    std::fs::write(&child_file, child.to_string()).unwrap();
    let ir = json!({"ir_version": "0.1.0", "nodes": [{"id": "each", "type": "workflow",
        "batch": {"items": [1, 2, 3], "parallel": true},
        "params": {"workflow_ref": child_file.to_str().unwrap(), "param_mapping": {"n": "${item}"}}}],
        "outputs": {"all": {"source": "${each.results}"}}});
    let all = outputs(&run_json(&home, &ir, &[]))["all"].clone();
    let twice: Vec<&str> =
        all.as_array().unwrap().iter().map(|r| r["twice"].as_str().unwrap().trim()).collect();
    assert_eq!(twice, ["2", "4", "6"]);
}

#[test]
fn progress_counts_the_items() {
    let home = TestHome::new();
    let ir = json!({"ir_version": "0.1.0", "nodes": [{"id": "each", "type": "echo",
        "batch": {"items": [1, 2, 3]}, "params": {"message": "${item}"}}]});
    let run = home.run_with_stdin(["-v", "run", "-", "--json"], ir.to_string().as_bytes());
    assert_eq!(run.code, 0, "{}", run.transcript());
    for n in 1..=3 {
        assert!(run.stderr.contains(&format!("each: item done, {n}/3")), "{}", run.stderr);
    }
}

#[test]
fn ctrl_c_stops_every_parallel_item_and_kills_its_process() {
    let home = TestHome::new();
    let pids = home.path().join("pids");
    std::fs::create_dir(&pids).unwrap();
    let ir = json!({"ir_version": "0.1.0", "nodes": [{"id": "each", "type": "shell",
        "batch": {"items": [0, 1, 2], "parallel": true},
        // `$$$$` is the shell's `$$` (a template's `$$` is one `$`); `exec` keeps that pid.
        "params": {"command": format!("echo $$$$ > \"{}/$I\"; exec sleep 300", pids.display()),
                   "env": {"I": "${item}"}}}]});
    let file = home.path().join("slow.json");
    std::fs::write(&file, ir.to_string()).unwrap();
    let mut child = home
        .command(["run", file.to_str().unwrap(), "--no-save-prompt"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_dir(&pids).unwrap().count() < 3 {
        assert!(Instant::now() < deadline, "the items did not all start");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    // Ctrl-C as a terminal sends it: SIGINT to pflow.
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "pflow did not stop after Ctrl-C");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    for entry in std::fs::read_dir(&pids).unwrap() {
        let pid: u32 =
            std::fs::read_to_string(entry.unwrap().path()).unwrap().trim().parse().unwrap();
        assert!(dies_within(pid, Duration::from_secs(10)), "item process {pid} outlived Ctrl-C");
    }
}
