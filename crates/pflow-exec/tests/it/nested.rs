//! Nested workflows (SPEC §5.4): by name, by file and inline; mappings; isolation; the
//! depth limit; cycles found statically and at run time; failing children.

use std::path::Path;

use pflow_exec::{ExecError, Runtime};
use pflow_ir::WorkflowName;
use pflow_store::{Origin, StoreError, WorkflowManager, WorkflowResolver};
use serde_json::{Value, json};

use crate::support::{error, ir, memory_manager, outputs, plant, run, run_with, valid, write_json};

/// A child that greets `name` (required) with an optional `punct` (default `!`).
fn greet_child() -> Value {
    json!({"ir_version": "0.1.0",
    "inputs": {
        "name": {"type": "string"},
        "punct": {"type": "string", "required": false, "default": "!"}
    },
    "nodes": [{"id": "hello", "type": "echo", "params": {"message": "Hello, ${name}${punct}"}}],
    "outputs": {
        "greeting": {"source": "${hello.message}"},
        "length_hint": {"source": "${name}"}
    }})
}

/// A parent that calls `greet` by name with its input `who`, renaming `greeting`.
fn greet_parent(call_params: Value) -> Value {
    json!({"ir_version": "0.1.0",
        "inputs": {"who": {"type": "string"}},
        "nodes": [
            {"id": "call", "type": "workflow", "params": call_params},
            {"id": "after", "type": "echo", "params": {"message": "${call.text}"}}
        ],
        "edges": [{"from": "call", "to": "after"}]})
}

fn runtime_with(manager: &WorkflowManager) -> Runtime {
    Runtime::builtin().with_resolver(std::sync::Arc::new(manager.clone()))
}

#[test]
fn by_name_with_mapping_in_and_out() {
    let manager = memory_manager();
    manager.create("greet", &ir(greet_child()), "greets").unwrap();
    let parent = greet_parent(json!({
        "workflow_name": "greet",
        "param_mapping": {"name": "${who}"},
        "output_mapping": {"greeting": "text"}
    }));
    let out = run_with(&runtime_with(&manager), parent, json!({"who": "Ada"}));
    assert_eq!(outputs(out), json!({"message": "Hello, Ada!"}));
}

#[test]
fn output_mapping_returns_only_the_mapped_outputs() {
    let manager = memory_manager();
    manager.create("greet", &ir(greet_child()), "").unwrap();
    let call = |mapping: Value| {
        let mut params =
            json!({"workflow_name": "greet", "param_mapping": {"name": "Bo", "punct": "?"}});
        if !mapping.is_null() {
            params["output_mapping"] = mapping;
        }
        json!({"ir_version": "0.1.0", "nodes": [{"id": "call", "type": "workflow", "params": params}]})
    };
    let runtime = runtime_with(&manager);
    let out = run_with(&runtime, call(json!({"greeting": "text"})), json!({}));
    assert_eq!(outputs(out), json!({"text": "Hello, Bo?"}));
    // Without a mapping every declared output comes back under its own name.
    let out = run_with(&runtime, call(Value::Null), json!({}));
    assert_eq!(outputs(out), json!({"greeting": "Hello, Bo?", "length_hint": "Bo"}));
    let err = error(run_with(&runtime, call(json!({"nope": "x"})), json!({})));
    assert_eq!(
        err.to_string(),
        "call: `output_mapping` names child output `nope`, which the child did not return \
         (it returned `greeting`, `length_hint`)"
    );
}

#[test]
fn param_mapping_keeps_types_and_the_childs_input_rules_apply() {
    let manager = memory_manager();
    manager
        .create(
            "sum-list",
            &ir(json!({"ir_version": "0.1.0",
                "inputs": {"items": {"type": "array"}},
                "nodes": [{"id": "first", "type": "echo", "params": {"message": "${items[1]}"}}],
                "outputs": {"second": {"source": "${first.message}"}}})),
            "",
        )
        .unwrap();
    let runtime = runtime_with(&manager);
    let call = |mapping: Value| {
        json!({"ir_version": "0.1.0",
            "nodes": [
                {"id": "data", "type": "echo", "params": {"message": [10, {"k": true}]}},
                {"id": "call", "type": "workflow",
                    "params": {"workflow_name": "sum-list", "param_mapping": mapping}}
            ],
            "edges": [{"from": "data", "to": "call"}]})
    };
    let out = run_with(&runtime, call(json!({"items": "${data.message}"})), json!({}));
    assert_eq!(outputs(out), json!({"second": {"k": true}}));

    let err = error(run_with(&runtime, call(json!({})), json!({})));
    assert_eq!(err.to_string(), "call: missing required input `items`");
    let err = error(run_with(&runtime, call(json!({"items": "text", "extra": 1})), json!({})));
    assert_eq!(
        err.to_string(),
        "call: unknown input `extra`; input `items` must be of type array, got string"
    );
}

#[test]
fn a_missing_saved_workflow_is_named_with_a_suggestion() {
    let manager = memory_manager();
    manager.create("greet", &ir(greet_child()), "").unwrap();
    let parent = json!({"ir_version": "0.1.0",
        "nodes": [{"id": "call", "type": "workflow", "params": {"workflow_name": "gret"}}]});
    let err = error(run_with(&runtime_with(&manager), parent.clone(), json!({})));
    assert_eq!(err.to_string(), "call: workflow `gret` not found (did you mean `greet`?)");
    let err = error(run(parent));
    assert_eq!(
        err.to_string(),
        "call: cannot load saved workflow `gret`: this run has no workflow store"
    );
}

#[test]
fn by_reference_relative_to_the_referencing_file() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    // A bare IR in the top directory, and a stored document in `sub/` that calls it back
    // through a path relative to `sub/`.
    write_json(&dir.path().join("child.json"), &greet_child());
    let doc = json!({
        "name": "wrapper", "description": "a stored document", "version": "1.0.0",
        "created_at": "2025-01-29T10:00:00+00:00", "updated_at": "2025-01-29T10:00:00+00:00",
        "revision": 3,
        "ir": {"ir_version": "0.1.0",
            "inputs": {"name": {"type": "string"}},
            "nodes": [{"id": "inner", "type": "workflow", "params": {
                "workflow_ref": "../child.json", "param_mapping": {"name": "${name}"}}}],
            "outputs": {"wrapped": {"source": "[${inner.greeting}]"}}}
    });
    write_json(&sub.join("wrapper.json"), &doc);
    let parent_path = dir.path().join("parent.json");
    let parent = json!({"ir_version": "0.1.0",
    "nodes": [
        {"id": "direct", "type": "workflow", "params": {
            "workflow_ref": "child.json", "param_mapping": {"name": "Cy", "punct": "."}}},
        {"id": "wrapped", "type": "workflow", "params": {
            "workflow_ref": "sub/wrapper.json", "param_mapping": {"name": "Di"}}}
    ],
    "edges": [{"from": "direct", "to": "wrapped"}],
    "outputs": {
        "direct": {"source": "${direct.greeting}"},
        "wrapped": {"source": "${wrapped.wrapped}"}
    }});
    write_json(&parent_path, &parent);
    let result =
        Runtime::builtin().run(&valid(parent), Default::default(), &Origin::File(parent_path));
    assert_eq!(outputs(result), json!({"direct": "Hello, Cy.", "wrapped": "[Hello, Di!]"}));
    // An absolute reference works from anywhere.
    let absolute = json!({"ir_version": "0.1.0", "nodes": [{"id": "c", "type": "workflow", "params": {
        "workflow_ref": dir.path().join("child.json").to_str().unwrap(), "param_mapping": {"name": "Ed"}}}]});
    assert_eq!(outputs(run(absolute))["greeting"], json!("Hello, Ed!"));
    // A missing file is named.
    let missing = json!({"ir_version": "0.1.0", "nodes": [{"id": "c", "type": "workflow", "params": {
        "workflow_ref": dir.path().join("nope.json").to_str().unwrap()}}]});
    let err = error(run(missing)).to_string();
    assert!(
        err.starts_with(&format!("c: cannot read `{}`", dir.path().join("nope.json").display())),
        "{err}"
    );
}

#[test]
fn inline_children_own_their_templates() {
    // `${inner.message}` and `${x}` belong to the child: the parent has neither.
    let result = run(json!({"ir_version": "0.1.0",
        "inputs": {"y": {"type": "integer", "required": false, "default": 41}},
        "nodes": [{"id": "call", "type": "workflow", "params": {
            "param_mapping": {"x": "${y}"},
            "workflow_ir": {"ir_version": "0.1.0",
                "inputs": {"x": {"type": "integer"}},
                "nodes": [{"id": "inner", "type": "echo", "params": {"message": {"got": "${x}"}}}],
                "outputs": {"out": {"source": "${inner.message}"}}}}}]}));
    assert_eq!(outputs(result), json!({"out": {"got": 41}}));
}

#[test]
fn a_child_cannot_see_or_change_the_parents_outputs_or_inputs() {
    // Same node id `a` in parent and child: the parent's value survives the call.
    let result = run(json!({"ir_version": "0.1.0",
        "nodes": [
            {"id": "a", "type": "echo", "params": {"message": "parent"}},
            {"id": "call", "type": "workflow", "params": {"workflow_ir": {"ir_version": "0.1.0",
                "nodes": [{"id": "a", "type": "echo", "params": {"message": "child"}}],
                "outputs": {"seen": {"source": "${a.message}"}}}}},
            {"id": "check", "type": "echo", "params": {"message": "${a.message}/${call.seen}"}}
        ],
        "edges": [{"from": "a", "to": "call"}, {"from": "call", "to": "check"}]}));
    assert_eq!(outputs(result), json!({"message": "parent/child"}));

    // The child reads neither a parent node nor an unmapped parent input.
    for reference in ["${a.message}", "${secret}"] {
        let manager = memory_manager();
        plant(
            &manager,
            "peek",
            json!({"ir_version": "0.1.0",
            "nodes": [{"id": "look", "type": "echo", "params": {"message": reference}}]}),
        );
        let err = error(run_with(
            &runtime_with(&manager),
            json!({"ir_version": "0.1.0",
                "inputs": {"secret": {"type": "string"}},
                "nodes": [
                    {"id": "a", "type": "echo", "params": {"message": "parent"}},
                    {"id": "call", "type": "workflow", "params": {"workflow_name": "peek"}}
                ],
                "edges": [{"from": "a", "to": "call"}]}),
            json!({"secret": "s3cret"}),
        ));
        let text = err.to_string();
        assert!(text.starts_with("call: "), "{text}");
        assert!(!text.contains("s3cret") && !text.contains("parent/"), "{text}");
    }
}

/// Saves `lvl-0` … `lvl-{n}`: each calls the next by name, the last echoes.
fn save_chain(manager: &WorkflowManager, n: usize, max_depth: Option<u64>) {
    for level in (0..=n).rev() {
        let node = if level == n {
            json!({"id": "leaf", "type": "echo", "params": {"message": "bottom"}})
        } else {
            let mut params = json!({"workflow_name": format!("lvl-{}", level + 1)});
            if let Some(max) = max_depth {
                params["max_depth"] = json!(max);
            }
            json!({"id": "down", "type": "workflow", "params": params})
        };
        manager
            .create(
                &format!("lvl-{level}"),
                &ir(json!({"ir_version": "0.1.0", "nodes": [node]})),
                "",
            )
            .unwrap();
    }
}

fn run_saved(manager: &WorkflowManager, name: &str) -> Result<pflow_exec::RunOutput, ExecError> {
    let name = WorkflowName::new(name).unwrap();
    let ir = manager.resolve(&name).unwrap();
    runtime_with(manager).run(&ir, Default::default(), &Origin::Saved(name))
}

#[test]
fn nesting_deeper_than_max_depth_fails() {
    // Ten levels below the top is allowed by default; eleven are not.
    let manager = memory_manager();
    save_chain(&manager, 10, None);
    assert_eq!(outputs(run_saved(&manager, "lvl-0")), json!({"message": "bottom"}));
    let manager = memory_manager();
    save_chain(&manager, 11, None);
    let err = error(run_saved(&manager, "lvl-0"));
    let ExecError::NodeFailed { chain, message } = &err else { panic!("{err}") };
    assert_eq!(chain.len(), 11);
    assert_eq!(
        message,
        "nested workflows go deeper than `max_depth` 10: lvl-0 -> lvl-1 -> lvl-2 -> lvl-3 -> \
         lvl-4 -> lvl-5 -> lvl-6 -> lvl-7 -> lvl-8 -> lvl-9 -> lvl-10 -> lvl-11"
    );
    // A node's own max_depth is honoured.
    let manager = memory_manager();
    save_chain(&manager, 3, Some(2));
    let err = error(run_saved(&manager, "lvl-0"));
    assert!(
        err.to_string().ends_with(
            "nested workflows go deeper than `max_depth` 2: lvl-0 -> lvl-1 -> lvl-2 -> lvl-3"
        ),
        "{err}"
    );
    // A literal beyond the limit is a validation error; one from a template fails the node.
    let err = error(run(json!({"ir_version": "0.1.0",
        "inputs": {"depth": {"type": "integer", "required": false, "default": 65}},
        "nodes": [{"id": "c", "type": "workflow", "params": {"workflow_ir": {"ir_version": "0.1.0",
            "nodes": [{"id": "e", "type": "echo"}]}, "max_depth": "${depth}"}}]})));
    assert_eq!(err.to_string(), "c: param `max_depth` must be at most 64, found `65`");
    // A whole number written with a fraction is the integer validation accepts.
    let whole = json!({"ir_version": "0.1.0", "nodes": [{"id": "c", "type": "workflow",
        "params": {"workflow_ir": {"ir_version": "0.1.0",
            "nodes": [{"id": "e", "type": "echo", "params": {"message": "in"}}]}, "max_depth": 1.0}}]});
    let checked = pflow_ir::validate_value(&whole, Some(&pflow_exec::builtin_catalog()));
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics());
    assert_eq!(outputs(run(whole)), json!({"message": "in"}));
}

/// A workflow whose single node calls `callee` by name.
fn calls(callee: &str) -> Value {
    json!({"ir_version": "0.1.0",
        "nodes": [{"id": "call", "type": "workflow", "params": {"workflow_name": callee}}]})
}

#[test]
fn cycles_by_name_are_refused_when_saving() {
    let manager = memory_manager();
    let cycle_of = |result: Result<_, StoreError>| match result {
        Err(StoreError::InvalidWorkflow { diagnostics, .. }) => {
            diagnostics.errors().map(ToString::to_string).collect::<Vec<_>>()
        }
        other => panic!("saved: {other:?}"),
    };
    assert_eq!(
        cycle_of(manager.create("selfish", &ir(calls("selfish")), "")),
        ["nodes[0].params.workflow_name: workflow call cycle: selfish -> selfish"]
    );
    plant(&manager, "ping", calls("pong"));
    assert_eq!(
        cycle_of(manager.create("pong", &ir(calls("ping")), "")),
        ["nodes[0].params.workflow_name: workflow call cycle: pong -> ping -> pong"]
    );
    plant(&manager, "one", calls("two"));
    plant(&manager, "two", calls("three"));
    assert_eq!(
        cycle_of(manager.create("three", &ir(calls("one")), "")),
        ["nodes[0].params.workflow_name: workflow call cycle: three -> one -> two -> three"]
    );
}

#[test]
fn cycles_by_name_are_caught_at_run_time() {
    let manager = memory_manager();
    plant(&manager, "selfish", calls("selfish"));
    plant(&manager, "ping", calls("pong"));
    plant(&manager, "pong", calls("ping"));
    plant(&manager, "one", calls("two"));
    plant(&manager, "two", calls("three"));
    plant(&manager, "three", calls("one"));
    for (name, chain) in [
        ("selfish", "selfish -> selfish"),
        ("ping", "ping -> pong -> ping"),
        ("one", "one -> two -> three -> one"),
    ] {
        let err = error(run_saved(&manager, name));
        let ExecError::NodeFailed { message, .. } = &err else { panic!("{err}") };
        assert_eq!(message, &format!("workflow call cycle: {chain}"), "{name}");
    }
    // From a workflow that is not saved, the cycle starts where it closes.
    let err = error(run_with(&runtime_with(&manager), calls("ping"), json!({})));
    assert_eq!(err.to_string(), "call > call > call: workflow call cycle: ping -> pong -> ping");
}

/// The findings of the static checks on `value` from `origin`, as `path: message`.
fn call_findings(value: &Value, origin: &Origin) -> Vec<String> {
    let checked = memory_manager().check(value, origin, None);
    checked.diagnostics().iter().map(ToString::to_string).collect()
}

/// Writes `name.json` in `dir`: one node referencing `target`.
fn write_ref(dir: &Path, name: &str, target: &str) -> Value {
    let value = json!({"ir_version": "0.1.0",
        "nodes": [{"id": "call", "type": "workflow", "params": {"workflow_ref": target}}]});
    write_json(&dir.join(format!("{name}.json")), &value);
    value
}

#[test]
fn cycles_by_reference_are_found_statically_and_at_run_time() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let selfish = write_ref(d, "selfish", "selfish.json");
    let ping = write_ref(d, "ping", "pong.json");
    write_ref(d, "pong", "./ping.json");
    let one = write_ref(d, "one", "two.json");
    write_ref(d, "two", "three.json");
    write_ref(d, "three", "one.json");
    let p = |name: &str| d.join(format!("{name}.json")).display().to_string();
    for (name, value, chain) in [
        ("selfish", &selfish, format!("{0} -> {0}", p("selfish"))),
        (
            "ping",
            &ping,
            format!("{} -> {} -> {}", p("ping"), p("pong"), d.join("./ping.json").display()),
        ),
        ("one", &one, format!("{} -> {} -> {} -> {}", p("one"), p("two"), p("three"), p("one"))),
    ] {
        let origin = Origin::File(d.join(format!("{name}.json")));
        let found = call_findings(value, &origin);
        assert_eq!(found, [format!("nodes[0].params.workflow_ref: workflow call cycle: {chain}")]);
        let err = error(Runtime::builtin().run(&valid(value.clone()), Default::default(), &origin));
        let ExecError::NodeFailed { message, .. } = &err else { panic!("{err}") };
        assert_eq!(message, &format!("workflow call cycle: {chain}"), "{name}");
    }
}

#[test]
fn the_static_checks_report_unreadable_files_and_look_inside_inline_children() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_ref(d, "loop", "loop.json");
    let value = json!({"ir_version": "0.1.0",
    "inputs": {"somewhere": {"type": "string"}},
    "nodes": [
        {"id": "missing", "type": "workflow", "params": {"workflow_ref": "absent.json"}},
        {"id": "dynamic", "type": "workflow", "params": {"workflow_ref": "${somewhere}"}},
        {"id": "inline", "type": "workflow", "params": {"workflow_ir": {"ir_version": "0.1.0",
            "nodes": [{"id": "deep", "type": "workflow", "params": {"workflow_ref": "loop.json"}}]}}},
        {"id": "fine", "type": "workflow", "params": {"workflow_ir": {"ir_version": "0.1.0",
            "nodes": [{"id": "e", "type": "echo"}]}}}
    ],
    "edges": [
        {"from": "missing", "to": "dynamic"},
        {"from": "dynamic", "to": "inline"},
        {"from": "inline", "to": "fine"}
    ]});
    let origin = Origin::File(d.join("main.json"));
    let found = call_findings(&value, &origin);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].starts_with(&format!(
            "nodes[0].params.workflow_ref: cannot read `{}`",
            d.join("absent.json").display()
        )),
        "{found:?}"
    );
    // The chain starts at the workflow being checked and passes through the inline child.
    let (m, l) =
        (d.join("main.json").display().to_string(), d.join("loop.json").display().to_string());
    assert_eq!(
        found[1],
        format!(
            "nodes[2].params.workflow_ir.nodes[0].params.workflow_ref: workflow call cycle: \
             {m} -> (inline) -> {l} -> {l}"
        )
    );
}

/// `top` calls `mid` calls `leaf`, whose shell node fails.
fn failing_chain(manager: &WorkflowManager) {
    plant(
        manager,
        "leaf",
        json!({"ir_version": "0.1.0",
        "nodes": [{"id": "fail", "type": "shell", "params": {"command": "echo leaf broke >&2; exit 1"}}]}),
    );
    plant(
        manager,
        "mid",
        json!({"ir_version": "0.1.0",
        "nodes": [{"id": "call-leaf", "type": "workflow", "params": {"workflow_name": "leaf"}}]}),
    );
}

#[test]
fn a_failing_child_fails_the_parent_naming_the_chain() {
    let manager = memory_manager();
    failing_chain(&manager);
    let err = error(run_with(
        &runtime_with(&manager),
        json!({"ir_version": "0.1.0",
            "nodes": [{"id": "call-mid", "type": "workflow", "params": {"workflow_name": "mid"}}]}),
        json!({}),
    ));
    assert_eq!(
        err.to_string(),
        "call-mid > call-leaf > fail: command exited with code 1: leaf broke"
    );
    let ExecError::NodeFailed { chain, .. } = err else { panic!() };
    assert_eq!(chain, ["call-mid", "call-leaf", "fail"]);
}

#[test]
fn a_failing_child_takes_the_parents_error_edge() {
    let manager = memory_manager();
    failing_chain(&manager);
    let out = run_with(
        &runtime_with(&manager),
        json!({"ir_version": "0.1.0",
            "nodes": [
                {"id": "call-mid", "type": "workflow", "params": {"workflow_name": "mid"}},
                {"id": "recover", "type": "echo", "params": {"message": "recovered from: ${call-mid.error}"}}
            ],
            "edges": [{"from": "call-mid", "to": "recover", "action": "error"}]}),
        json!({}),
    );
    assert_eq!(
        outputs(out),
        json!({"message": "recovered from: call-leaf > fail: command exited with code 1: leaf broke"})
    );
}

#[test]
fn exactly_one_source_is_required() {
    // A source that resolves to `null` at run time is no source.
    let err = error(run(json!({"ir_version": "0.1.0",
        "inputs": {"which": {"required": false, "default": null}},
        "nodes": [{"id": "c", "type": "workflow", "params": {"workflow_name": "${which}"}}]})));
    assert_eq!(
        err.to_string(),
        "c: give exactly one of `workflow_name`, `workflow_ref` or `workflow_ir`, got none"
    );
    // Two sources never get that far: validation refuses them.
    let two = json!({"ir_version": "0.1.0",
        "nodes": [{"id": "c", "type": "workflow", "params": {
            "workflow_name": "x", "workflow_ir": {"ir_version": "0.1.0", "nodes": []}}}]});
    let errors = pflow_ir::validate_value(&two, None).into_valid().unwrap_err();
    assert!(
        errors.errors().any(|d| d.message
            == "a `workflow` node takes exactly one of `workflow_name`, `workflow_ref`, \
                `workflow_ir`, found `workflow_name`, `workflow_ir`"),
        "{errors:?}"
    );
}

#[test]
fn an_invalid_child_is_refused_before_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let err = error(run(json!({"ir_version": "0.1.0",
        "nodes": [{"id": "c", "type": "workflow", "params": {"workflow_ir": {"ir_version": "0.1.0",
            "nodes": [
                {"id": "w", "type": "write-file", "params": {"file_path": marker.to_str().unwrap(), "content": "x"}},
                {"id": "bad", "type": "no-such-type"}
            ],
            "edges": [{"from": "w", "to": "bad"}]}}}]})));
    assert!(err.to_string().starts_with("c: inline `workflow_ir` is invalid: "), "{err}");
    assert!(!marker.exists());
}
