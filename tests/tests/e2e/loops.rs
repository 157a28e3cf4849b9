//! `loop` through the built binary (SPEC §5.5), checked against what pflow 0.16 gives for
//! the same workflows: a do-while with `carry`, `until` / `while`, the cap ending the loop
//! without an error, `${__iteration__}`, a loop over a `workflow` node, and the conditions
//! 0.16 refuses.

use pflow_tests::TestHome;
use serde_json::{Value, json};

use crate::language::{outputs, run_json};

/// 0.16's guide example (`pflow guide loop`, "Count Up"), as its parser gives it.
fn count_up(max_iterations: Value) -> Value {
    json!({"ir_version": "0.1.0", "nodes": [{"id": "count-up", "type": "code",
        "params": {"inputs": {"total": 0},
                   "code": "total: int\nresult: dict = {\"total\": total + 1, \"done\": total + 1 >= 3}"},
        "loop": {"carry": {"total": "${count-up.result.total}"},
                 "until": "${count-up.result.done}", "max_iterations": max_iterations}}],
        "edges": [], "outputs": {"out": {"source": "${count-up}"}}})
}

#[test]
fn carry_feeds_each_round_and_the_condition_or_the_cap_ends_the_loop() {
    let home = TestHome::new();
    // What pflow 0.16.0 prints for the same workflow (`--output-format json`, `result`).
    let out = outputs(&run_json(&home, &count_up(json!(10)), &[]));
    assert_eq!(
        out["out"],
        json!({"result": {"total": 3, "done": true}, "stdout": "", "stderr": "", "loop_stopped": "condition"})
    );
    let out = outputs(&run_json(&home, &count_up(json!(2)), &[]));
    assert_eq!(
        out["out"],
        json!({"result": {"total": 2, "done": false}, "stdout": "", "stderr": "", "loop_stopped": "max_iterations"})
    );
    // A cap from a reference, resolved once.
    let mut ir = count_up(json!("${cap}"));
    ir["inputs"] = json!({"cap": {"type": "integer", "required": true}});
    let run = home.run_with_stdin(["run", "-", "--json", "cap=1"], ir.to_string().as_bytes());
    assert_eq!(outputs(&run)["out"]["result"]["total"], 1);
}

#[test]
fn the_body_sees_its_round_and_runs_at_least_once() {
    let home = TestHome::new();
    let log = home.path().join("rounds");
    let ir = json!({"ir_version": "0.1.0", "nodes": [
        {"id": "poll", "type": "shell",
         "params": {"command": "echo \"$N\" >> \"$LOG\"; cat \"$LOG\" | wc -l",
                    "env": {"N": "${__iteration__}", "LOG": log.to_str().unwrap()}},
         "loop": {"while": "${poll.exit_code}", "max_iterations": 5}},
        {"id": "after", "type": "echo", "params": {"message": "${poll.loop_stopped}"}}],
        "edges": [{"from": "poll", "to": "after"}]});
    // exit_code is 0 (false) after the first round: a do-while runs once.
    assert_eq!(outputs(&run_json(&home, &ir, &[]))["message"], "condition");
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "1\n");

    // `until` a count reaches 3, with the round number from `${__iteration__}`.
    std::fs::remove_file(&log).unwrap();
    let ir = json!({"ir_version": "0.1.0", "nodes": [
        {"id": "step", "type": "code",
         "params": {"inputs": {"n": "${__iteration__}"}, "code": "n: int\nresult: bool = n >= 3"},
         "loop": {"until": "${step.result}"}}],
        "outputs": {"stopped": {"source": "${step.loop_stopped}"}, "last": {"source": "${step.result}"}}});
    assert_eq!(outputs(&run_json(&home, &ir, &[])), json!({"stopped": "condition", "last": true}));
}

#[test]
fn a_loop_over_a_workflow_node_carries_its_declared_outputs() {
    let home = TestHome::new();
    let child = json!({"ir_version": "0.1.0",
        "inputs": {"items": {"type": "array", "required": true}},
        "nodes": [{"id": "drop", "type": "code",
            "params": {"inputs": {"items": "${items}"}, "code": "items: list\nresult: list = items[1:]"}}],
        "outputs": {"left": {"source": "${drop.result}"}}});
    let child_file = home.path().join("drop.json");
    std::fs::write(&child_file, child.to_string()).unwrap();
    let ir = json!({"ir_version": "0.1.0", "nodes": [{"id": "rounds", "type": "workflow",
        "params": {"workflow_ref": child_file.to_str().unwrap(), "param_mapping": {"items": [1, 2, 3, 4]}},
        "loop": {"carry": {"items": "${rounds.left}"}, "while": "${rounds.left}"}}],
        "outputs": {"left": {"source": "${rounds.left}"}, "why": {"source": "${rounds.loop_stopped}"}}});
    // A list drains to empty: [2,3,4], [3,4], [4], [] — four rounds.
    assert_eq!(outputs(&run_json(&home, &ir, &[])), json!({"left": [], "why": "condition"}));
}

#[test]
fn a_string_condition_and_a_bad_cap_are_refused_naming_the_node() {
    let home = TestHome::new();
    let ir = json!({"ir_version": "0.1.0", "nodes": [{"id": "s", "type": "shell",
        "params": {"command": "echo false"}, "loop": {"while": "${s.stdout}"}}]});
    let run = run_json(&home, &ir, &[]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("the loop condition `${s.stdout}` of node `s` is a string"),
        "{}",
        run.stderr
    );

    let mut ir = count_up(json!("${cap}"));
    ir["inputs"] = json!({"cap": {"type": "integer", "required": true}});
    let run = home.run_with_stdin(["run", "-", "cap=0"], ir.to_string().as_bytes());
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("`loop.max_iterations` of node `count-up` is 0; it must be 1 to 100"),
        "{}",
        run.stderr
    );
}
