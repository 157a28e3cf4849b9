//! The execution model (SPEC §5.1): edges and actions, templates with their types, error
//! edges, failure chains, inputs, the result, cancellation and progress events.

use std::sync::{Arc, Mutex};

use pflow_exec::{
    CancelFlag, Event, ExecError, InputProblem, Node, NodeContext, NodeError, NodeOutcome,
    Observer, Params, Registry, Runtime,
};
use pflow_ir::{NodeSpec, ValueType};
use serde_json::{Map, Value, json};

use crate::support::{error, outputs, run, run_with};

#[test]
fn the_stdin_example_returns_the_message() {
    let result = run(json!({"ir_version": "0.1.0",
        "nodes": [{"id": "test", "type": "echo", "params": {"message": "Hello"}}]}));
    assert_eq!(outputs(result), json!({"message": "Hello"}));
}

#[test]
fn templates_keep_types_and_interpolate() {
    let result = run(json!({"ir_version": "0.1.0",
    "nodes": [
        {"id": "a", "type": "echo", "params": {"message": {"list": [1, 2], "n": 3.5}}},
        {"id": "b", "type": "echo", "params": {"message": "${a.message}"}},
        {"id": "c", "type": "echo", "params": {"message": "n=${a.message.n} second=$a.message.list[1] all=${a.message.list}"}},
        {"id": "d", "type": "echo", "params": {"message": {"nested": ["${a.message.list[0]}", "$$HOME stays", "$HOME too"]}}}
    ],
    "edges": [{"from": "a", "to": "b"}, {"from": "b", "to": "c"}, {"from": "c", "to": "d"}],
    "outputs": {
        "copy": {"source": "${b.message}"},
        "text": {"source": "${c.message}"},
        "deep": {"source": "${d.message}"}
    }}));
    assert_eq!(
        outputs(result),
        json!({
            "copy": {"list": [1, 2], "n": 3.5},
            "text": "n=3.5 second=2 all=[1,2]",
            "deep": {"nested": [1, "$HOME stays", "$HOME too"]}
        })
    );
}

#[test]
fn inputs_are_checked_and_defaults_fill_optional_ones() {
    let workflow = json!({"ir_version": "0.1.0",
        "inputs": {
            "text": {"type": "string"},
            "count": {"type": "integer", "required": false, "default": 3},
            "extra": {"required": false}
        },
        "nodes": [{"id": "e", "type": "echo", "params": {"message": "${text}/${count}/${extra}"}}]});
    let runtime = Runtime::builtin();
    let ok = run_with(&runtime, workflow.clone(), json!({"text": "hi"}));
    assert_eq!(outputs(ok), json!({"message": "hi/3/"}));

    let err = error(run_with(&runtime, workflow, json!({"txt": "hi", "count": "3"})));
    let ExecError::Inputs(inputs) = &err else { panic!("not an input error: {err}") };
    assert_eq!(
        inputs.problems,
        vec![
            InputProblem::Unknown { name: "txt".into(), suggestions: vec!["text".into()] },
            InputProblem::Missing { name: "text".into() },
            InputProblem::WrongType {
                name: "count".into(),
                expected: ValueType::Integer,
                found: "string"
            },
        ]
    );
    assert_eq!(
        err.to_string(),
        "unknown input `txt` (did you mean `text`?); missing required input `text`; \
         input `count` must be of type integer, got string"
    );
    assert_eq!(
        err.hint().unwrap(),
        "this workflow accepts: `text` (string, required), `count` (integer, default `3`), \
         `extra` (any, optional)"
    );
}

#[test]
fn no_node_runs_when_the_inputs_are_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let result = run_with(
        &Runtime::builtin(),
        json!({"ir_version": "0.1.0", "inputs": {"x": {"type": "string"}},
            "nodes": [{"id": "w", "type": "write-file",
                "params": {"file_path": marker.to_str().unwrap(), "content": "ran"}}]}),
        json!({}),
    );
    assert!(matches!(error(result), ExecError::Inputs(_)));
    assert!(!marker.exists());
}

#[test]
fn a_failing_node_without_an_error_edge_fails_the_run_naming_it() {
    let err = error(run(json!({"ir_version": "0.1.0",
        "nodes": [
            {"id": "first", "type": "echo", "params": {"message": "ok"}},
            {"id": "boom", "type": "shell", "params": {"command": "echo broken >&2; exit 3"}},
            {"id": "never", "type": "echo", "params": {"message": "unreachable"}}
        ],
        "edges": [{"from": "first", "to": "boom"}, {"from": "boom", "to": "never"}]})));
    assert_eq!(err.to_string(), "boom: command exited with code 3: broken");
    let ExecError::NodeFailed { chain, .. } = err else { panic!() };
    assert_eq!(chain, ["boom"]);
}

#[test]
fn an_error_edge_continues_with_the_message_and_partial_outputs() {
    let result = run(json!({"ir_version": "0.1.0",
    "nodes": [
        {"id": "boom", "type": "shell", "params": {"command": "echo partial; exit 4"}},
        {"id": "ok", "type": "echo", "params": {"message": "never"}},
        {"id": "handle", "type": "echo", "params": {"message": {
            "error": "${boom.error}", "code": "${boom.exit_code}", "out": "${boom.stdout}"}}}
    ],
    "edges": [
        {"from": "boom", "to": "ok"},
        {"from": "boom", "to": "handle", "action": "error"}
    ]}));
    assert_eq!(
        outputs(result),
        json!({"message": {"error": "command exited with code 4", "code": 4, "out": "partial\n"}})
    );
}

/// SPEC §3.2: a bare `$b.message` is a reference because `b` is a node id, whether or not
/// `b` ran; on an error branch that skipped `b` it fails exactly like `${b.message}`.
#[test]
fn a_bare_reference_to_a_node_that_did_not_run_fails_like_the_braced_one() {
    let on_error_branch = |message: &str| {
        error(run(json!({"ir_version": "0.1.0",
        "nodes": [
            {"id": "boom", "type": "shell", "params": {"command": "exit 4"}},
            {"id": "b", "type": "echo", "params": {"message": "never"}},
            {"id": "handle", "type": "echo", "params": {"message": message}}
        ],
        "edges": [
            {"from": "boom", "to": "b"},
            {"from": "b", "to": "handle"},
            {"from": "boom", "to": "handle", "action": "error"}
        ]})))
        .to_string()
    };
    let braced = on_error_branch("${b.message}");
    let bare = on_error_branch("$b.message");
    assert!(braced.starts_with("handle: "), "{braced}");
    assert!(braced.contains("`b`"), "{braced}");
    assert_eq!(bare, braced.replace("${b.message}", "$b.message"));
    // Inside a longer string too.
    let embedded = on_error_branch("said: $b.message!");
    assert_eq!(embedded, bare);
    // A name that is neither an input nor a node stays text.
    let text = outputs(run(json!({"ir_version": "0.1.0",
        "nodes": [{"id": "e", "type": "echo", "params": {"message": "costs $b.message"}}]})));
    assert_eq!(text, json!({"message": "costs $b.message"}));
}

/// A node that picks its action from its `go` param.
#[derive(Debug)]
struct Router(NodeSpec);

impl Node for Router {
    fn spec(&self) -> &NodeSpec {
        &self.0
    }
    fn execute(&self, params: &Params, ctx: &NodeContext<'_>) -> Result<NodeOutcome, NodeError> {
        let go = params.required_str("go")?;
        let mut outputs = Map::new();
        outputs.insert("went".into(), json!(go));
        outputs.insert("me".into(), json!(ctx.node_id()));
        Ok(NodeOutcome::new(outputs).with_action(go))
    }
}

fn router_runtime() -> Runtime {
    let mut registry = Registry::builtin();
    registry.register(Arc::new(Router(NodeSpec {
        name: "router".into(),
        description: "Picks an action".into(),
        category: "test".into(),
        params: vec![],
        outputs: vec![],
        dynamic_outputs: false,
        unavailable: None,
    })));
    Runtime::new(registry)
}

#[test]
fn actions_pick_edges_and_a_missing_edge_ends_the_run() {
    let workflow = |go: &str| {
        json!({"ir_version": "0.1.0",
        "inputs": {},
        "nodes": [
            {"id": "r", "type": "router", "params": {"go": go}},
            {"id": "left", "type": "echo", "params": {"message": "went left after ${r.me}"}},
            {"id": "right", "type": "echo", "params": {"message": "went right"}}
        ],
        "edges": [
            {"from": "r", "to": "left", "action": "left"},
            {"from": "r", "to": "right", "action": "right"}
        ]})
    };
    let runtime = router_runtime();
    let left = run_with(&runtime, workflow("left"), json!({})).unwrap();
    assert_eq!(Value::Object(left.outputs), json!({"message": "went left after r"}));
    assert_eq!(left.nodes_run, 2);
    let right = run_with(&runtime, workflow("right"), json!({})).unwrap();
    assert_eq!(Value::Object(right.outputs), json!({"message": "went right"}));
    let nowhere = run_with(&runtime, workflow("up"), json!({})).unwrap();
    assert_eq!(nowhere.nodes_run, 1);
    assert_eq!(Value::Object(nowhere.outputs), json!({"went": "up", "me": "r"}));
}

#[test]
fn start_node_is_honoured() {
    let result = run(json!({"ir_version": "0.1.0",
        "nodes": [
            {"id": "a", "type": "echo", "params": {"message": "a"}},
            {"id": "b", "type": "echo", "params": {"message": "b"}}
        ],
        "edges": [{"from": "b", "to": "a"}],
        "start_node": "b",
        "outputs": {"order": {"source": "${b.message}${a.message}"}}}));
    assert_eq!(outputs(result), json!({"order": "ba"}));
}

#[test]
fn declared_outputs_without_source_take_the_most_recent_node_output() {
    let result = run(json!({"ir_version": "0.1.0",
        "nodes": [
            {"id": "a", "type": "shell", "params": {"command": "printf first"}},
            {"id": "b", "type": "echo", "params": {"message": "second"}},
            {"id": "c", "type": "shell", "params": {"command": "printf third"}},
            {"id": "d", "type": "echo", "params": {"message": "fourth"}}
        ],
        "edges": [{"from": "a", "to": "b"}, {"from": "b", "to": "c"}, {"from": "c", "to": "d"}],
        "outputs": {"stdout": {}, "message": {"description": "the last message"}}}));
    assert_eq!(outputs(result), json!({"stdout": "third", "message": "fourth"}));
}

#[test]
fn an_unresolvable_declared_output_is_an_error_naming_it() {
    let err = error(run(json!({"ir_version": "0.1.0",
        "nodes": [{"id": "a", "type": "echo", "params": {"message": "x"}}],
        "outputs": {"missing": {}}})));
    assert_eq!(
        err.to_string(),
        "declared output `missing` cannot be resolved: it has no `source`, and no node that \
         ran has an output named `missing`"
    );
    let err = error(run(json!({"ir_version": "0.1.0",
        "nodes": [{"id": "a", "type": "echo", "params": {"message": "x"}}],
        "outputs": {"bad": {"source": "${a.nope}"}}})));
    let ExecError::Output { name, reason } = err else { panic!("wrong error") };
    assert_eq!(name, "bad");
    assert!(reason.contains("`a.message`") || reason.contains("no key `nope`"), "{reason}");
}

#[test]
fn a_template_to_a_node_that_did_not_run_fails_that_node() {
    // `skipped` leads to `b`, so validation accepts the reference, but the branch to it
    // is not taken.
    let err = error(run(json!({"ir_version": "0.1.0",
    "nodes": [
        {"id": "a", "type": "echo", "params": {"message": "x"}},
        {"id": "b", "type": "echo", "params": {"message": "${skipped.message}"}},
        {"id": "skipped", "type": "echo", "params": {"message": "never"}}
    ],
    "edges": [
        {"from": "a", "to": "b"},
        {"from": "a", "to": "skipped", "action": "other"},
        {"from": "skipped", "to": "b"}
    ]})));
    let text = err.to_string();
    assert!(
        text.starts_with("b: cannot resolve params: at `message`: `${skipped.message}`"),
        "{text}"
    );
}

#[test]
fn unknown_node_types_fail_with_a_suggestion() {
    let err = error(run(json!({"ir_version": "0.1.0",
        "nodes": [{"id": "r", "type": "read-fil", "params": {}}]})));
    assert_eq!(err.to_string(), "r: unknown node type `read-fil` (did you mean `read-file`?)");
}

#[test]
fn a_graph_that_loops_never_reaches_the_runtime() {
    // The runtime runs only a validated IR, and validation refuses the loop.
    let looping = json!({"ir_version": "0.1.0",
        "nodes": [
            {"id": "a", "type": "echo", "params": {"message": "x"}},
            {"id": "b", "type": "echo", "params": {"message": "y"}}
        ],
        "edges": [{"from": "a", "to": "b"}, {"from": "b", "to": "a"}]});
    let errors = pflow_ir::validate_value(&looping, None).into_valid().unwrap_err();
    let messages: Vec<String> = errors.errors().map(ToString::to_string).collect();
    assert_eq!(messages, ["edges[1]: the edges form a cycle: a -> b -> a"]);
}

#[test]
fn a_cancelled_flag_stops_the_run_before_the_first_node() {
    let flag = CancelFlag::new();
    flag.cancel();
    let runtime = Runtime::builtin().with_cancel_flag(flag);
    let err = error(run_with(
        &runtime,
        json!({"ir_version": "0.1.0", "nodes": [{"id": "e", "type": "echo"}]}),
        json!({}),
    ));
    assert_eq!(err, ExecError::Cancelled);
}

/// Records every event.
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<String>>,
}

impl Observer for Recorder {
    fn event(&self, event: &Event<'_>) {
        let line = match event {
            Event::NodeStarted { node_id, depth, .. } => format!("start {node_id} @{depth}"),
            Event::NodeFinished { node_id, depth, action, error, .. } => {
                format!("finish {node_id} @{depth} {action} {}", error.is_some())
            }
            _ => "other".to_owned(),
        };
        self.events.lock().unwrap().push(line);
    }
}

#[test]
fn cancelling_kills_a_running_shell_command_and_stops_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let flag = CancelFlag::new();
    let recorder = Arc::new(Recorder::default());
    let runtime = Runtime::builtin().with_cancel_flag(flag.clone()).with_observer(recorder.clone());
    // The command starts a grandchild, records its pid, and waits for it.
    let command =
        format!("sleep 300 & echo $! > '{}.tmp' && mv '{0}.tmp' '{0}'; wait", pid_file.display());
    // Cancel as soon as the grandchild is known to run (a condition, not a sleep).
    let canceller = {
        let pid_file = pid_file.clone();
        std::thread::spawn(move || {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while !pid_file.exists() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            flag.cancel();
        })
    };
    let started = std::time::Instant::now();
    let err = error(run_with(
        &runtime,
        json!({"ir_version": "0.1.0",
            "nodes": [
                {"id": "slow", "type": "shell", "params": {"command": command}},
                {"id": "after", "type": "echo", "params": {"message": "must not run"}}
            ],
            "edges": [{"from": "slow", "to": "after"}, {"from": "slow", "to": "after", "action": "error"}]}),
        json!({}),
    ));
    canceller.join().unwrap();
    assert_eq!(err, ExecError::Cancelled);
    // Far below the 300 s of the command: it was killed, not waited for.
    assert!(started.elapsed().as_secs() < 120);
    assert_eq!(recorder.events.lock().unwrap().clone(), ["start slow @0"]);
    let pid: u32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
    assert!(crate::support::wait_until_dead(pid), "grandchild {pid} survived the cancel");
}

#[test]
fn the_observer_hears_every_node_with_its_depth() {
    let recorder = Arc::new(Recorder::default());
    let runtime = Runtime::builtin().with_observer(recorder.clone());
    let result = run_with(
        &runtime,
        json!({"ir_version": "0.1.0",
            "nodes": [
                {"id": "a", "type": "echo", "params": {"message": "x"}},
                {"id": "call", "type": "workflow", "params": {"workflow_ir": {
                    "ir_version": "0.1.0",
                    "nodes": [{"id": "inner", "type": "shell", "params": {"command": "exit 1"}}]
                }}},
                {"id": "handled", "type": "echo", "params": {"message": "ok"}}
            ],
            "edges": [{"from": "a", "to": "call"}, {"from": "call", "to": "handled", "action": "error"}]}),
        json!({}),
    );
    assert!(result.is_ok());
    assert_eq!(
        recorder.events.lock().unwrap().clone(),
        [
            "start a @0",
            "finish a @0 default false",
            "start call @0",
            "start inner @1",
            "finish inner @1 error true",
            "finish call @0 error true",
            "start handled @0",
            "finish handled @0 default false",
        ]
    );
}

#[test]
fn the_builtin_catalog_describes_every_node_completely() {
    let catalog = pflow_exec::builtin_catalog();
    let names: Vec<&str> = catalog.names().collect();
    assert_eq!(
        names,
        [
            "code",
            "copy-file",
            "delete-file",
            "echo",
            "http",
            "llm",
            "move-file",
            "read-file",
            "shell",
            "workflow",
            "write-file"
        ]
    );
    for spec in catalog.iter() {
        assert!(!spec.description.is_empty(), "{}", spec.name);
        assert!(!spec.category.is_empty(), "{}", spec.name);
        assert!(!spec.params.is_empty(), "{} has no params", spec.name);
        for p in &spec.params {
            assert!(!p.description.is_empty(), "{}.{}", spec.name, p.name);
            assert!(!(p.required && p.default.is_some()), "{}.{}", spec.name, p.name);
            if let (Some(ty), Some(default)) = (p.ty, &p.default) {
                assert!(ty.matches(default), "{}.{} default", spec.name, p.name);
            }
        }
        assert_eq!(spec.outputs.is_empty(), spec.dynamic_outputs, "{}", spec.name);
        for o in &spec.outputs {
            assert!(!o.description.is_empty(), "{}.{}", spec.name, o.name);
        }
    }
    assert_eq!(Registry::builtin().catalog(), catalog);
    assert!(catalog.get("workflow").unwrap().dynamic_outputs);
    let shell = catalog.get("shell").unwrap();
    assert!(shell.param("command").unwrap().required);
    assert_eq!(shell.param("timeout").unwrap().default, Some(json!(60)));
}

#[test]
fn validation_with_the_catalog_accepts_the_examples_of_the_spec() {
    let catalog = pflow_exec::builtin_catalog();
    let value = json!({"ir_version": "0.1.0",
        "inputs": {"input_file": {"type": "string"}},
        "nodes": [
            {"id": "read", "type": "read-file", "params": {"file_path": "${input_file}"}},
            {"id": "write", "type": "write-file",
                "params": {"file_path": "out.txt", "content": "${read.content}"}}
        ],
        "edges": [{"from": "read", "to": "write"}]});
    let checked = pflow_ir::validate_value(&value, Some(&catalog));
    assert!(checked.diagnostics().is_empty(), "{:?}", checked.diagnostics());
}
