//! M3: a generated linear workflow gives the same outputs inlined and split into nested
//! workflows saved by name.
//!
//! Cases: `PFLOW_M3_CASES` (default 48).

use std::io::Write;

use pflow_exec::Runtime;
use pflow_store::Origin;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

use crate::support::{ir, memory_manager, valid};

/// One step of the chain; each reads the value the step before produced.
#[derive(Debug, Clone)]
enum Step {
    /// Appends text: `"${prev}text"` (interpolation).
    Append(String),
    /// Wraps the value in an object with a number: `{"v": "${prev}", "i": n}` (types kept).
    Wrap(i64),
    /// Upper-cases `<value>` through a real shell command, passed through `env` (the
    /// brackets make any value text).
    Upper,
    /// Passes the value on unchanged: `"${prev}"` (a single template keeps its type).
    Same,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => "[a-z $.{}-]{0,6}".prop_map(Step::Append),
        2 => any::<i16>().prop_map(|n| Step::Wrap(i64::from(n))),
        1 => Just(Step::Upper),
        2 => Just(Step::Same),
    ]
}

/// The node for `step` reading `prev` (a template for the previous value).
fn node(id: &str, step: &Step, prev: &str) -> Value {
    match step {
        Step::Append(text) => {
            // `$` in generated text must stay literal: `$$` is its escape.
            let text = text.replace('$', "$$");
            json!({"id": id, "type": "echo", "params": {"message": format!("{prev}{text}")}})
        }
        Step::Wrap(n) => {
            json!({"id": id, "type": "echo", "params": {"message": {"v": prev, "i": n}}})
        }
        Step::Upper => json!({"id": id, "type": "shell", "params": {
            "command": "printf '%s' \"$V\" | tr a-z A-Z", "env": {"V": format!("<{prev}>")}}}),
        Step::Same => json!({"id": id, "type": "echo", "params": {"message": prev}}),
    }
}

/// The template reading the output of node `id` made for `step`.
fn output_of(id: &str, step: &Step) -> String {
    match step {
        Step::Upper => format!("${{{id}.stdout}}"),
        _ => format!("${{{id}.message}}"),
    }
}

/// A linear workflow of `steps` starting from input `x`, returning `out`.
fn linear(steps: &[Step], prefix: &str) -> Value {
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    let mut prev = "${x}".to_owned();
    for (i, step) in steps.iter().enumerate() {
        let id = format!("{prefix}{i}");
        nodes.push(node(&id, step, &prev));
        if i > 0 {
            edges.push(json!({"from": format!("{prefix}{}", i - 1), "to": id}));
        }
        prev = output_of(&id, step);
    }
    json!({"ir_version": "0.1.0",
        "inputs": {"x": {"description": "the starting value"}},
        "nodes": nodes, "edges": edges,
        "outputs": {"out": {"source": prev}}})
}

/// Checks one case: the whole chain inline, and the same chain cut at `cuts` into saved
/// workflows that a top-level workflow calls in order, by name.
fn same_outputs(start: &Value, steps: &[Step], cuts: &[usize]) -> Result<(), TestCaseError> {
    let runtime = Runtime::builtin();
    let inputs = json!({"x": start}).as_object().cloned().unwrap_or_default();
    let inline =
        runtime.run(&valid(linear(steps, "n")), inputs.clone(), &Origin::Inline).map(|o| o.outputs);

    let mut bounds: Vec<usize> = cuts.iter().map(|c| c % steps.len()).filter(|&c| c > 0).collect();
    bounds.sort_unstable();
    bounds.dedup();
    bounds.insert(0, 0);
    bounds.push(steps.len());
    let manager = memory_manager();
    let mut calls = Vec::new();
    let mut edges = Vec::new();
    for (k, range) in bounds.windows(2).enumerate() {
        let name = format!("segment-{k}");
        manager.create(&name, &ir(linear(&steps[range[0]..range[1]], "s")), "").unwrap();
        let x = if k == 0 { "${x}".to_owned() } else { format!("${{call-{}.out}}", k - 1) };
        calls.push(json!({"id": format!("call-{k}"), "type": "workflow",
            "params": {"workflow_name": name, "param_mapping": {"x": x}}}));
        if k > 0 {
            edges.push(json!({"from": format!("call-{}", k - 1), "to": format!("call-{k}")}));
        }
    }
    let last = calls.len() - 1;
    let top = json!({"ir_version": "0.1.0", "inputs": {"x": {}}, "nodes": calls, "edges": edges,
        "outputs": {"out": {"source": format!("${{call-{last}.out}}")}}});
    let nested = runtime
        .clone()
        .with_resolver(std::sync::Arc::new(manager))
        .run(&valid(top), inputs, &Origin::Inline)
        .map(|o| o.outputs);

    match (&inline, &nested) {
        (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
        _ => prop_assert!(false, "a run failed: inline {inline:?}, nested {nested:?}"),
    }
    Ok(())
}

#[test]
fn nested_execution_equals_the_inlined_workflow() {
    let cases = std::env::var("PFLOW_M3_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48);
    let mut runner =
        TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let start = prop_oneof![
        "[a-z ]{0,8}".prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        Just(json!({"k": [1, "two"]})),
    ];
    let strategy =
        (start, prop::collection::vec(step(), 1..12), prop::collection::vec(any::<usize>(), 0..4));
    let ran = std::cell::Cell::new(0u32);
    runner
        .run(&strategy, |(start, steps, cuts)| {
            ran.set(ran.get() + 1);
            same_outputs(&start, &steps, &cuts)
        })
        .unwrap();
    // Straight to stderr: libtest hides the captured output of passing tests, and the
    // count must stay visible in CI logs.
    let _ = writeln!(
        std::io::stderr().lock(),
        "M3: {} generated linear workflows gave the same outputs inlined and nested",
        ran.get()
    );
}
