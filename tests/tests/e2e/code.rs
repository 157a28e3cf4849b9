//! The `code` node through the built binary with the real `python3` (SPEC §5.6): inputs,
//! `result`, `stdout` / `stderr`, `next`, the checks before the code runs, the static
//! checks of validation, timeouts, warm interpreters, and a machine without `python3`.

use std::time::Duration;

use pflow_tests::{Run, TestHome, dies_within};
use serde_json::{Value, json};

/// A workflow of `nodes` (chained by default edges) with `outputs`.
fn workflow(nodes: Value, outputs: Value) -> Value {
    let ids: Vec<String> =
        nodes.as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap().to_owned()).collect();
    let edges: Vec<Value> = ids.windows(2).map(|w| json!({"from": w[0], "to": w[1]})).collect();
    json!({"ir_version": "0.1.0", "nodes": nodes, "edges": edges, "outputs": outputs})
}

/// `pflow run --json -` with `ir` on stdin.
fn run(home: &TestHome, ir: &Value) -> Run {
    home.run_with_stdin(["run", "--json", "-"], ir.to_string().as_bytes())
}

/// The JSON result of a run that must succeed.
#[track_caller]
fn result(home: &TestHome, ir: &Value) -> Value {
    let run = run(home, ir);
    assert_eq!(run.code, 0, "{}", run.transcript());
    serde_json::from_str(&run.stdout).unwrap()
}

/// The stderr of a run that must fail with a node failure.
#[track_caller]
fn failure(home: &TestHome, ir: &Value) -> String {
    let run = run(home, ir);
    assert_eq!(run.code, 1, "{}", run.transcript());
    run.stderr
}

fn code(id: &str, source: &str, inputs: Value) -> Value {
    json!({"id": id, "type": "code", "params": {"code": source, "inputs": inputs}})
}

#[test]
fn inputs_come_in_as_python_values_and_result_stdout_stderr_come_out() {
    let home = TestHome::new();
    let ir = workflow(
        json!([
            {"id": "fetch", "type": "shell", "params": {"command": "echo '{\"items\": [3, 1, 2]}'"}},
            code(
                "sort",
                "import sys\ndata: dict\nlimit: int\nlabel: str\nprint('sorting', len(data['items']))\n\
                 print('careful', file=sys.stderr)\nordered: list = sorted(data['items'])\n\
                 result: dict = {'top': ordered[:limit], 'label': label.upper(), 'pair': (1, 2)}",
                json!({"data": "${fetch.stdout}", "limit": 2, "label": "n=${fetch.exit_code}"}),
            )
        ]),
        json!({"r": {"source": "${sort.result}"}, "out": {"source": "${sort.stdout}"},
               "err": {"source": "${sort.stderr}"}}),
    );
    assert_eq!(
        result(&home, &ir),
        json!({"r": {"top": [1, 2], "label": "N=0", "pair": [1, 2]},
               "out": "sorting 3\n", "err": "careful\n"})
    );
}

#[test]
fn an_input_of_the_wrong_outer_type_fails_before_the_code_runs() {
    let home = TestHome::new();
    let marker = home.path().join("ran");
    let source = format!(
        "items: list[str]\nopen({:?}, 'w').write('ran')\nresult: int = len(items)",
        marker.display().to_string()
    );
    // `echo` declares no output type, so validation cannot know; the run checks.
    let ir = workflow(
        json!([
            {"id": "e", "type": "echo", "params": {"message": {"a": 1}}},
            code("c", &source, json!({"items": "${e.message}"}))
        ]),
        json!({}),
    );
    let stderr = failure(&home, &ir);
    assert!(stderr.contains("input `items` is declared `list[str]` but received dict"), "{stderr}");
    assert!(!marker.exists(), "the code ran although its input had the wrong type");
}

#[test]
fn a_raised_exception_fails_the_node_with_its_line_and_an_error_edge_handles_it() {
    let home = TestHome::new();
    let ir = workflow(
        json!([code("c", "x: int\ny: int = 2\nresult: int = x // 0", json!({"x": 3}))]),
        json!({}),
    );
    let stderr = failure(&home, &ir);
    assert!(
        stderr.contains("c: ZeroDivisionError: integer division or modulo by zero (line 3 of the code: `result: int = x // 0`)"),
        "{stderr}"
    );

    let mut ir = workflow(
        json!([
            code("c", "result: int = 1 // 0", json!({})),
            {"id": "handle", "type": "echo", "params": {"message": "handled: ${c.error}"}}
        ]),
        json!({"m": {"source": "${handle.message}"}}),
    );
    ir["edges"] = json!([{"from": "c", "to": "handle", "action": "error"}]);
    let out = result(&home, &ir);
    assert!(out["m"].as_str().unwrap().starts_with("handled: ZeroDivisionError"), "{out}");
}

#[test]
fn what_the_code_sets_is_checked_after_it_ran() {
    let home = TestHome::new();
    let cases = [
        ("result: dict = [1]", "`result` is declared `dict` but the code set a list"),
        ("if False:\n    result: int = 1", "the code never set `result`"),
        ("next: str = ''", "`next` is empty"),
        ("result: Any = object()", "`result` cannot be passed on as JSON"),
        ("import sys\nsys.exit(3)\nresult: int = 1", "SystemExit: 3"),
        ("result: List[int] = []", "uses `List`, which is not defined: write `list[...]`"),
        ("result: any = 1", "is `any` (lowercase)"),
        ("import no_such_module_here\nresult: int = 1", "module `no_such_module_here` not found"),
        ("result: int = undefined_name", "undefined name `undefined_name`"),
        ("result: int = (", "syntax error in the code"),
    ];
    for (source, expected) in cases {
        let ir = workflow(json!([code("c", source, json!({}))]), json!({}));
        let stderr = failure(&home, &ir);
        assert!(stderr.contains(expected), "{source:?}: {stderr}");
    }
    // A set comes out as a sorted array, bytes as text.
    let ir = workflow(
        json!([code("c", "result: dict = {'s': {3, 1, 2}, 'b': b'hi'}", json!({}))]),
        json!({"r": {"source": "${c.result}"}}),
    );
    assert_eq!(result(&home, &ir), json!({"r": {"s": [1, 2, 3], "b": "hi"}}));
}

#[test]
fn next_picks_the_outgoing_edge() {
    let home = TestHome::new();
    let mut ir = workflow(
        json!([
            code("route", "n: int\nnext: str = 'big' if n > 10 else 'small'", json!({"n": "${n}"})),
            {"id": "big", "type": "echo", "params": {"message": "big"}},
            {"id": "small", "type": "echo", "params": {"message": "small"}}
        ]),
        json!({}),
    );
    ir["inputs"] = json!({"n": {"type": "integer"}});
    ir["edges"] = json!([{"from": "route", "to": "big", "action": "big"},
                         {"from": "route", "to": "small", "action": "small"}]);
    for (n, expected) in [("50", "big"), ("3", "small")] {
        let run = home.run_with_stdin(["run", "-", &format!("n={n}")], ir.to_string().as_bytes());
        assert_eq!(run.code, 0, "{}", run.transcript());
        assert_eq!(run.stdout, format!("{expected}\n"));
    }
}

#[test]
fn a_timeout_kills_the_interpreter_and_what_the_code_started() {
    let home = TestHome::new();
    let pids = home.path().join("pids");
    let source = format!(
        "import os, subprocess, time\nchild = subprocess.Popen(['sleep', '300'])\n\
         open({:?}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\ntime.sleep(300)\nresult: int = 1",
        pids.display().to_string()
    );
    let ir = workflow(
        json!([{"id": "slow", "type": "code", "params": {"code": source, "timeout": 1}}]),
        json!({}),
    );
    let stderr = failure(&home, &ir);
    assert!(
        stderr.contains("Python code timed out after 1 s and its interpreter was killed"),
        "{stderr}"
    );
    let text = std::fs::read_to_string(&pids).unwrap();
    // The group was sent SIGKILL before the node failed.
    for pid in text.split_whitespace() {
        let pid: u32 = pid.parse().unwrap();
        assert!(dies_within(pid, Duration::from_secs(10)), "process {pid} outlived the timeout");
    }
}

#[test]
fn one_warm_interpreter_runs_every_code_node_of_a_run_each_in_a_fresh_namespace() {
    let home = TestHome::new();
    let ir = workflow(
        json!([
            code("a", "import os\nleaked = 1\nresult: int = os.getpid()", json!({})),
            code("b", "import os\nresult: int = os.getpid()", json!({})),
            code("c", "result: bool = 'leaked' in globals()", json!({}))
        ]),
        json!({"a": {"source": "${a.result}"}, "b": {"source": "${b.result}"},
               "c": {"source": "${c.result}"}}),
    );
    let out = result(&home, &ir);
    assert_eq!(out["a"], out["b"], "a second process was started: {out}");
    assert_ne!(out["a"], json!(std::process::id()));
    assert_eq!(out["c"], json!(false));
}

#[test]
fn what_the_code_writes_to_file_descriptor_1_does_not_break_the_worker() {
    let home = TestHome::new();
    let ir = workflow(
        json!([
            code(
                "a",
                "import os\nos.system('echo from-a-subprocess')\nresult: str = 'a'",
                json!({})
            ),
            code("b", "result: str = 'b'", json!({}))
        ]),
        json!({"a": {"source": "${a.result}"}, "b": {"source": "${b.result}"}}),
    );
    let run = run(&home, &ir);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(serde_json::from_str::<Value>(&run.stdout).unwrap(), json!({"a": "a", "b": "b"}));
    assert!(run.stderr.contains("from-a-subprocess"), "{}", run.transcript());
}

#[test]
fn validation_reports_the_static_checks_of_0_16() {
    let home = TestHome::new();
    let mut ir = workflow(
        json!([
            {"id": "sh", "type": "shell", "params": {"command": "echo hi"}},
            code(
                "c",
                "count: dict\nunused: int\nhelper: list\nhelper = [1]\nprint(lenght)\nlength: int\nresult: int = 1",
                json!({"count": "${sh.exit_code}", "n": "${n}", "text": "a ${n}", "lenght": "${n}"}),
            ),
            code("d", "value: list\nnext: int = 1", json!({"value": "${c.result}"})),
            code("e", "print(1)", json!({}))
        ]),
        json!({}),
    );
    ir["inputs"] = json!({"n": {"type": "integer"}});
    let run = home.run_with_stdin(["validate", "-"], ir.to_string().as_bytes());
    assert_eq!(run.code, 1, "{}", run.transcript());
    let expected = [
        "nodes[1].params.inputs.count: input `count` is annotated `dict` but receives `int` from `${sh.exit_code}`",
        "nodes[1].params.inputs.n: input `n` has no type annotation in the code\n  hint: add `n: int` at the top of the code",
        "nodes[1].params.inputs.text: input `text` has no type annotation in the code\n  hint: add `text: str`",
        "nodes[1].params.code: annotation `unused: int` has no entry in `inputs`\n  hint: remove `unused: int`: it is never read",
        "nodes[1].params.code: annotation `helper: list` has no entry in `inputs`\n  hint: `helper` is assigned in the code, so it is a local",
        "nodes[1].params.code: annotation `length: int` has no entry in `inputs`\n  hint: remove",
        "nodes[2].params.inputs.value: input `value` is annotated `list` but receives `int` from `${c.result}`",
        "nodes[1].params.inputs.lenght: input `lenght` has no type annotation in the code",
        "nodes[2].params.code: `next` is annotated `int`",
        "nodes[3].params.code: the code declares neither `result` nor `next`",
    ];
    for line in expected {
        assert!(run.stderr.contains(line), "missing {line:?} in\n{}", run.stderr);
    }
    assert!(run.stderr.contains("10 errors"), "{}", run.stderr);
}

#[test]
fn an_annotation_read_but_not_bound_suggests_the_input_it_may_mean() {
    let home = TestHome::new();
    let ir = workflow(
        json!([code("c", "itms: list\nresult: int = len(itms)", json!({"items": [1]}))]),
        json!({}),
    );
    let run = home.run_with_stdin(["validate", "-"], ir.to_string().as_bytes());
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stderr.contains("hint: rename the annotation to `items`"), "{}", run.stderr);
}

#[test]
fn without_python3_on_path_validation_says_what_to_install_and_nodes_mark_it() {
    let home = TestHome::new();
    let empty = tempfile::tempdir().unwrap();
    let without = |args: &[&str], stdin: &[u8]| {
        let mut cmd = home.command(args);
        cmd.env("PATH", empty.path());
        pflow_tests::run_piped(cmd, stdin)
    };
    let ir = workflow(json!([code("c", "result: int = 1", json!({}))]), json!({}));
    let run = without(&["validate", "-"], ir.to_string().as_bytes());
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("nodes[0].type: node type `code` cannot run on this machine\n  hint: `python3` was not found on PATH"),
        "{}",
        run.transcript()
    );
    assert!(run.stderr.contains("1 error"), "{}", run.stderr);
    let run = without(&["run", "-"], ir.to_string().as_bytes());
    assert_ne!(run.code, 0, "{}", run.transcript());
    assert!(run.stderr.contains("`python3` was not found on PATH"), "{}", run.transcript());

    let list = without(&["nodes", "list"], b"");
    let line = list.stdout.lines().find(|l| l.starts_with("code ")).unwrap();
    assert!(line.contains("unavailable here"), "{line}");
    let show = without(&["nodes", "show", "code"], b"");
    assert!(
        show.stdout.contains("unavailable  `python3` was not found on PATH"),
        "{}",
        show.stdout
    );

    let list = home.run(["nodes", "list"]);
    assert!(!list.stdout.contains("unavailable"), "{}", list.stdout);
}
