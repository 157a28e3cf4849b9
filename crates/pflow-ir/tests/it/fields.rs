//! The node fields of 0.16 (`purpose`, `batch`, `loop`, `retry`, `cache`) and the template
//! forms that came with them (`??`, template indexes, the names a batch or loop binds).

use pflow_ir::{validate_ir, validate_value};
use serde_json::{Value, json};

use crate::catalog::catalog;
use crate::validate::render;

/// Checks the findings for `nodes` (chained by default edges in order) with the test
/// catalog, through JSON and through the typed IR.
#[track_caller]
fn check(nodes: Value, expected: &str) {
    let ids: Vec<String> =
        nodes.as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap().to_owned()).collect();
    let edges: Vec<Value> = ids.windows(2).map(|w| json!({"from": w[0], "to": w[1]})).collect();
    let input = json!({ "ir_version": "0.1.0", "nodes": nodes, "edges": edges });
    let catalog = catalog();
    let checked = validate_value(&input, Some(&catalog));
    let got = render(checked.diagnostics());
    assert_eq!(got.trim(), expected.trim(), "\ninput: {input:#}\ngot:\n{got}");
    if let Some(ir) = checked.ir() {
        let typed = render(validate_ir(ir.clone(), Some(&catalog)).diagnostics());
        assert_eq!(typed.trim(), expected.trim(), "typed IR");
        // What was written reads back exactly.
        assert_eq!(serde_json::to_value(ir).unwrap(), input, "round trip");
    }
}

#[test]
fn the_fields_of_0_16_are_accepted() {
    check(
        json!([
            { "id": "list", "type": "echo", "purpose": "the files", "cache": false,
              "params": { "message": ["a", "b"] } },
            { "id": "each", "type": "shell",
              "batch": { "items": "${list.message}", "as": "file", "parallel": true,
                         "max_concurrent": 4, "error_handling": "continue",
                         "max_retries": 3, "retry_wait": 0.5 },
              "retry": { "max": 3, "wait": 1, "backoff": "exponential" },
              "params": { "command": "wc -c", "stdin": "${file} ${__index__}" } },
            { "id": "again", "type": "echo",
              "loop": { "until": "${again.message}", "max_iterations": 5,
                        "carry": { "n": "${again.message}" } },
              "params": { "message": "${__iteration__} ${each.results[0].stdout}" } },
            { "id": "last", "type": "echo",
              "params": { "message": "${again.loop_stopped} ${each.count} ${each.errors}" } },
        ]),
        "",
    );
}

#[test]
fn misspelt_keys_are_all_reported_with_a_suggestion() {
    check(
        json!([
            { "id": "a", "type": "echo", "purpos": "x", "retyr": {},
              "batch": { "items": ["x"], "paralel": true },
              "loop": { "whlie": "${a.message}" },
              "retry": { "maximum": 2 } },
        ]),
        r#"
error nodes[0].purpos: unknown field `purpos` in a node
  hint: did you mean `purpose`?
error nodes[0].retyr: unknown field `retyr` in a node
  hint: did you mean `retry`?
error nodes[0].batch.paralel: unknown key `paralel` in `batch`
  hint: did you mean `parallel`?
error nodes[0].loop.whlie: unknown key `whlie` in `loop`
  hint: did you mean `while`?
error nodes[0].retry.maximum: unknown key `maximum` in `retry`
  hint: did you mean `max`?
error nodes[0]: a node cannot have both `batch` and `loop`
  hint: use `batch` for one run per item, or `loop` to repeat until a condition holds"#,
    );
}

#[test]
fn values_follow_0_16_bounds() {
    check(
        json!([
            { "id": "a", "type": "echo",
              "batch": { "items": ["x"], "max_concurrent": 0, "max_retries": 11,
                         "retry_wait": -1, "error_handling": "stop", "parallel": "yes" },
              "retry": { "max": 0, "wait": -2, "backoff": "linear" } },
            { "id": "b", "type": "echo", "batch": { "items": [], "as": "my item" } },
            { "id": "c", "type": "echo", "batch": { "items": "a.message" } },
            { "id": "d", "type": "echo", "batch": { "as": "x" } },
            { "id": "e", "type": "echo", "batch": { "items": ["x"], "max_concurrent": 101 } },
            { "id": "f", "type": "echo", "retry": { "max": 2, "wait": 1 }, "cache": "no" },
        ]),
        r#"
error nodes[0].batch.error_handling: `error_handling` must be one of `fail_fast`, `continue`, found `stop`
error nodes[0].batch.parallel: `parallel` must be a boolean, found `yes`
error nodes[0].retry.backoff: `backoff` must be one of `fixed`, `exponential`, found `linear`
error nodes[1].batch.items: an inline `items` array must not be empty
  hint: list at least one item, or refer to an array with `${…}`
error nodes[1].batch.as: `as` must be a name of letters, digits and `_`, found `my item`
  hint: write "as": "file"
error nodes[2].batch.items: `items` must be one `${…}` reference, found `a.message`
  hint: write "items": "${node.list}", or list the items in an array
error nodes[3].batch: `batch` is missing its required key `items`
  hint: write "items": "${node.list}" or an array
error nodes[4].batch.max_concurrent: `max_concurrent` must be between 1 and 100 (items at once), found 101
error nodes[5].cache: `cache` must be a boolean, found `no`"#,
    );
    // With the types right, every bound is checked.
    check(
        json!([
            { "id": "a", "type": "echo",
              "batch": { "items": ["x"], "max_concurrent": 0, "max_retries": 11, "retry_wait": -1 },
              "retry": { "max": 0, "wait": -2 } },
        ]),
        r#"
error nodes[0].batch.max_concurrent: `max_concurrent` must be between 1 and 100 (items at once), found 0
error nodes[0].batch.max_retries: `max_retries` must be between 1 and 10 (attempts per item), found 11
error nodes[0].batch.retry_wait: `retry_wait` must be a number of seconds, 0 or more, found -1
error nodes[0].retry.max: `max` must be between 1 and 10 (attempts in total), found 0
error nodes[0].retry.wait: `wait` must be a number of seconds, 0 or more, found -2"#,
    );
}

#[test]
fn a_loop_has_one_condition_over_its_own_outputs() {
    check(
        json!([
            { "id": "a", "type": "echo", "params": { "message": true } },
            { "id": "both", "type": "echo",
              "loop": { "while": "${both.message}", "until": "${both.message}" } },
            { "id": "none", "type": "echo", "loop": { "max_iterations": 3 } },
            { "id": "other", "type": "echo", "loop": { "while": "${a.message}" } },
            { "id": "compare", "type": "echo", "loop": { "while": "${compare.message} > 3" } },
            { "id": "capped", "type": "echo",
              "loop": { "while": "${capped.mesage}", "max_iterations": 101 } },
        ]),
        r#"
error nodes[1].loop: `loop` takes one of `while` and `until`, not both
  hint: keep one: "while": "${both.more}" or "until": "${both.done}"
error nodes[2].loop: `loop` needs a condition: `while` or `until`
  hint: add "while": "${none.more}" (runs again while it is truthy)
error nodes[3].loop.while: while must be one reference to this node's outputs, found `${a.message}`
  hint: write "${other.key}"; a comparison belongs in the node, as an output
error nodes[4].loop.while: while must be one reference to this node's outputs, found `${compare.message} > 3`
  hint: write "${compare.key}"; a comparison belongs in the node, as an output
error nodes[5].loop.max_iterations: `max_iterations` must be between 1 and 100 (rounds), found 101
error nodes[5].loop.while: `${capped.mesage}`: node `capped` (`echo`) has no output `mesage`
  hint: did you mean `message`?"#,
    );
}

#[test]
fn batch_and_loop_names_are_bound_in_their_node_only() {
    check(
        json!([
            { "id": "a", "type": "echo", "params": { "message": "${__index__} ${__iteration__}" } },
            { "id": "b", "type": "echo", "batch": { "items": ["x"], "as": "file" },
              "params": { "message": "${file} ${item}" } },
            { "id": "c", "type": "echo", "params": { "message": "${b.results} ${b.message}" } },
        ]),
        r#"
error nodes[0].params.message: `${__index__}` is bound only inside a node with `batch`
  hint: move it into the params of the node that has `batch`
error nodes[0].params.message: `${__iteration__}` is bound only inside a node with `loop`
  hint: move it into the params of the node that has `loop`
error nodes[1].params.message: `${item}` refers to `item`, which is not an input or a node id
  hint: declare `item` under `inputs`, or refer to a node id
error nodes[2].params.message: `${b.message}`: node `b` runs a batch, which has no output `message`
  hint: its outputs are `results`, `count`, `success_count`, `error_count`, `errors`, `error`; each item's are under `results`"#,
    );
}

#[test]
fn coalescing_and_template_indexes_are_checked_operand_by_operand() {
    check(
        json!([
            { "id": "a", "type": "echo", "params": { "message": [1, 2] } },
            { "id": "b", "type": "echo", "batch": { "items": "${a.message}" },
              "params": { "message": "${a.message[${__index__}]} ${a.nothing ?? a.message ?? \"none\"} ${a.message ?? 0}" } },
            { "id": "c", "type": "echo",
              "params": { "message": "${b.results[0].message ?? zzz.x ?? []}" } },
            { "id": "d", "type": "echo", "params": { "message": "${a.message ?? \"x\" ?? a.message}" } },
            { "id": "e", "type": "echo", "params": { "message": "${a.message ?? tru}" } },
        ]),
        r#"
error nodes[1].params.message: `${a.nothing ?? a.message ?? "none"}`: node `a` (`echo`) has no output `nothing`
  hint: its outputs are `message`, `error`
error nodes[2].params.message: `zzz.x` refers to `zzz`, which is not an input or a node id
  hint: declare `zzz` under `inputs`, or refer to a node id
error nodes[3].params.message: malformed template `${a.message ?? "x" ?? a.message}`: a literal default must be the last operand of `??`
  hint: write `${name}`, `${node.key}` or `${node.items[0]}`; `$$` is a literal `$`
error nodes[4].params.message: `tru` refers to `tru`, which is not an input or a node id
  hint: declare `tru` under `inputs`, or refer to a node id"#,
    );
}
