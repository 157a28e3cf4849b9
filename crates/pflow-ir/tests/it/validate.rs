//! Data-driven tests of every validation rule: each rule has valid and invalid cases.

use pflow_ir::{Diagnostics, NodeCatalog, validate_ir, validate_value};
use serde_json::{Value, json};

use crate::catalog::catalog;

/// Renders findings one per line: `severity path: message`, then `  hint: …`.
pub(crate) fn render(diagnostics: &Diagnostics) -> String {
    let mut out = String::new();
    for d in diagnostics {
        if d.path.is_empty() {
            out.push_str(&format!("{}: {}\n", d.severity, d.message));
        } else {
            out.push_str(&format!("{} {}: {}\n", d.severity, d.path, d.message));
        }
        if let Some(hint) = &d.hint {
            out.push_str(&format!("  hint: {hint}\n"));
        }
    }
    out
}

#[track_caller]
fn check_with(input: Value, catalog: Option<&NodeCatalog>, expected: &str) {
    let checked = validate_value(&input, catalog);
    let got = render(checked.diagnostics());
    assert_eq!(got.trim(), expected.trim(), "\ninput: {input:#}\ngot:\n{got}");
    // The typed path agrees with the JSON path whenever the shape was right.
    if let Some(ir) = checked.ir() {
        assert_eq!(
            render(validate_ir(ir.clone(), catalog).diagnostics()).trim(),
            expected.trim(),
            "typed IR"
        );
    }
}

/// Checks without a catalog.
#[track_caller]
fn check(input: Value, expected: &str) {
    check_with(input, None, expected);
}

/// Checks with the test catalog.
#[track_caller]
fn check_cat(input: Value, expected: &str) {
    check_with(input, Some(&catalog()), expected);
}

/// A workflow of the given nodes and edges, version 0.1.0.
fn wf(nodes: Value, edges: Value) -> Value {
    json!({ "ir_version": "0.1.0", "nodes": nodes, "edges": edges })
}

/// A workflow with extra top-level fields merged in.
fn wf_with(nodes: Value, edges: Value, extra: Value) -> Value {
    let mut v = wf(nodes, edges);
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

fn echo(id: &str) -> Value {
    json!({ "id": id, "type": "echo", "params": { "message": "hi" } })
}

#[test]
fn minimal_workflows_are_valid() {
    check(json!({ "ir_version": "0.1.0", "nodes": [{ "id": "a", "type": "echo" }] }), "");
    check_cat(wf(json!([echo("a"), echo("b")]), json!([{ "from": "a", "to": "b" }])), "");
}

#[test]
fn root_must_be_an_object() {
    check(
        json!([1, 2]),
        r#"
error: a workflow must be a JSON object, found an array
  hint: a workflow looks like {"ir_version": "0.1.0", "nodes": [...]}"#,
    );
    check(
        json!(null),
        r#"
error: a workflow must be a JSON object, found null
  hint: a workflow looks like {"ir_version": "0.1.0", "nodes": [...]}"#,
    );
}

#[test]
fn unknown_fields_are_rejected_except_in_params() {
    check(
        wf_with(json!([echo("a")]), json!([]), json!({ "edge": [] })),
        r#"
error edge: unknown field `edge` in a workflow
  hint: did you mean `edges`?"#,
    );
    check(
        json!({
            "ir_version": "0.1.0",
            "inputs": { "x": { "type": "string", "requird": false, "default": "d" } },
            "outputs": { "y": { "source": "${a.message}", "typ": "string" } },
            "nodes": [{ "id": "a", "type": "echo", "param": {} }],
            "edges": [{ "from": "a", "to": "a", "label": "x" }],
        }),
        r#"
error inputs.x.requird: unknown field `requird` in an input
  hint: did you mean `required`?
error inputs.x: input `x` has a default but is required (inputs are required unless `"required": false`)
  hint: set `"required": false` to make the default apply, or remove the default
error outputs.y.typ: unknown field `typ` in an output
  hint: did you mean `type`?
error nodes[0].param: unknown field `param` in a node
  hint: did you mean `params`?
error edges[0].label: unknown field `label` in an edge
  hint: the fields of an edge are `from`, `to`, `action`
error edges[0]: the edges form a cycle: a -> a
  hint: a workflow is acyclic: remove or redirect one edge of the cycle"#,
    );
    // Anything goes inside params, at any depth.
    check(
        wf(
            json!([{ "id": "a", "type": "echo", "params": { "anything": { "edge": 1 } } }]),
            json!([]),
        ),
        "",
    );
}

#[test]
fn wrong_field_types() {
    check(
        json!({ "ir_version": 1, "nodes": {} }),
        r#"
error ir_version: `ir_version` must be a string, found an integer
error nodes: `nodes` must be an array of nodes, found an object"#,
    );
    check(
        json!({
            "ir_version": "0.1.0",
            "inputs": [],
            "outputs": { "o": "text" },
            "nodes": [7, { "id": 1, "type": ["echo"], "params": [] }, { "id": "ok", "type": "echo" }],
            "edges": {},
            "start_node": 3,
        }),
        r#"
error inputs: `inputs` must be an object of input declarations, found an array
error outputs.o: an output declaration must be an object, found a string
  hint: write {"source": "${node.key}", "description": "..."}
error nodes[0]: a node must be an object, found an integer
  hint: write {"id": "...", "type": "...", "params": {...}}
error nodes[1].id: `id` must be a string, found an integer
error nodes[1].type: `type` must be a string, found an array
error nodes[1].params: `params` must be an object, found an array
error edges: `edges` must be an array of edges, found an object
error start_node: `start_node` must be a string, found an integer"#,
    );
    check(
        json!({
            "ir_version": "0.1.0",
            "inputs": { "x": { "required": "yes", "description": 5, "type": 1 }, "y": 2 },
            "outputs": { "o": { "source": 3, "description": [] } },
            "nodes": [{ "id": "a", "type": "echo" }],
            "edges": [3, { "from": "a", "to": "a", "action": 1 }],
        }),
        r#"
error inputs.x.description: `description` must be a string, found an integer
error inputs.x.required: `required` must be a boolean, found a string
error inputs.x.type: `type` must be a string, found an integer
error inputs.y: an input declaration must be an object, found an integer
  hint: write {"type": "string", "description": "..."}
error outputs.o.description: `description` must be a string, found an array
error outputs.o.source: `source` must be a string, found an integer
error edges[0]: an edge must be an object, found an integer
  hint: write {"from": "...", "to": "..."}
error edges[1].action: `action` must be a string, found an integer
error edges[1]: the edges form a cycle: a -> a
  hint: a workflow is acyclic: remove or redirect one edge of the cycle"#,
    );
    check(
        json!({ "ir_version": "0.1.0", "nodes": [{ "params": {} }], "edges": [{}] }),
        r#"
error nodes[0]: the node is missing its required field `id`
error nodes[0]: the node is missing its required field `type`
error edges[0]: the edge is missing its required field `from`
error edges[0]: the edge is missing its required field `to`"#,
    );
    // `null` is "absent" where the typed IR has an optional field.
    check(
        json!({
            "ir_version": "0.1.0",
            "inputs": { "x": { "required": null, "description": null, "type": null } },
            "nodes": [{ "id": "a", "type": "echo" }],
            "edges": [{ "from": "a", "to": "b", "action": null }],
            "start_node": null,
        }),
        r#"
error edges[0].to: edge to `b` is not a node
  hint: edges connect the ids of nodes in `nodes`"#,
    );
}

#[test]
fn ir_version_is_semver_with_major_zero() {
    for ok in ["0.1.0", "0.0.0", "0.12.3", "0.1.0-alpha.1", "0.1.0+build.5", "0.1.0-rc-1+x"] {
        check(json!({ "ir_version": ok, "nodes": [echo("a")] }), "");
    }
    check(
        json!({ "nodes": [echo("a")] }),
        r#"
error ir_version: missing required field `ir_version`
  hint: add "ir_version": "0.1.0""#,
    );
    check(
        json!({ "ir_version": "0.1", "nodes": [echo("a")] }),
        r#"
error ir_version: `0.1` is not a version of the form MAJOR.MINOR.PATCH
  hint: write `0.1.0`"#,
    );
    for bad in ["01.1.0", "0.1.0.0", "v0.1.0", "0.1.0-", "0.1.0+", "0.1.x", "", "0..1"] {
        let got = render(
            validate_value(&json!({ "ir_version": bad, "nodes": [echo("a")] }), None).diagnostics(),
        );
        assert!(got.contains("is not a version of the form MAJOR.MINOR.PATCH"), "{bad}: {got}");
    }
    check(
        json!({ "ir_version": "1.0.0", "nodes": [echo("a")] }),
        r#"
error ir_version: ir_version `1.0.0` is not supported: this release reads 0.x
  hint: write `0.1.0`, or use the pflow release that wrote this workflow"#,
    );
}

#[test]
fn nodes_are_required_and_not_empty() {
    check(
        json!({ "ir_version": "0.1.0" }),
        r#"
error nodes: missing required field `nodes`
  hint: a workflow needs at least one node"#,
    );
    check(
        json!({ "ir_version": "0.1.0", "nodes": [] }),
        r#"
error nodes: a workflow needs at least one node
  hint: add a node such as {"id": "hello", "type": "echo", "params": {"message": "Hello"}}"#,
    );
}

#[test]
fn node_ids_are_unique_and_well_formed() {
    check(
        wf(json!([echo("a"), echo("b"), echo("a")]), json!([{ "from": "a", "to": "b" }])),
        r#"
error nodes[2].id: duplicate node id `a`, first used by nodes[0]
  hint: give every node its own id"#,
    );
    check(
        wf(
            json!([echo("_ok-1"), echo("1st"), echo("has space"), echo(""), echo("-x")]),
            json!([
                { "from": "_ok-1", "to": "1st" }, { "from": "1st", "to": "has space" },
                { "from": "has space", "to": "" }, { "from": "", "to": "-x" }
            ]),
        ),
        r#"
error nodes[1].id: invalid node id `1st`
  hint: ids start with a letter or `_` and hold letters, digits, `_` and `-`: try `_1st`
error nodes[2].id: invalid node id `has space`
  hint: ids start with a letter or `_` and hold letters, digits, `_` and `-`: try `has_space`
error nodes[3].id: invalid node id ``
  hint: ids start with a letter or `_` and hold letters, digits, `_` and `-`
error nodes[4].id: invalid node id `-x`
  hint: ids start with a letter or `_` and hold letters, digits, `_` and `-`: try `_-x`"#,
    );
}

#[test]
fn edges_connect_existing_nodes() {
    check(
        wf(
            json!([echo("read"), echo("write")]),
            json!([{ "from": "read", "to": "wrte" }, { "from": "nope", "to": "write" }]),
        ),
        r#"
warning nodes[1]: node `write` is unreachable from the start node `read`
  hint: add an edge that leads to `write`, or remove it
error edges[0].to: edge to `wrte` is not a node
  hint: did you mean `write`?
error edges[1].from: edge from `nope` is not a node
  hint: edges connect the ids of nodes in `nodes`"#,
    );
}

#[test]
fn one_edge_per_from_and_action() {
    check(
        wf(
            json!([echo("a"), echo("b"), echo("c")]),
            json!([
                { "from": "a", "to": "b" }, { "from": "a", "to": "c", "action": "error" }
            ]),
        ),
        "",
    );
    check(
        wf(
            json!([echo("a"), echo("b"), echo("c")]),
            json!([
                { "from": "a", "to": "b" }, { "from": "a", "to": "c", "action": "default" },
                { "from": "b", "to": "c", "action": "" }
            ]),
        ),
        r#"
error edges[1]: a second edge from `a` for action `default`, after edges[0]
  hint: a node's action selects one next node: give this edge another `action`, or remove one
error edges[2].action: an edge action cannot be empty
  hint: leave `action` out for the default action"#,
    );
}

#[test]
fn the_graph_is_acyclic() {
    // A diamond is not a cycle.
    check(
        wf(
            json!([echo("a"), echo("b"), echo("c"), echo("d")]),
            json!([
                { "from": "a", "to": "b" }, { "from": "a", "to": "c", "action": "other" },
                { "from": "b", "to": "d" }, { "from": "c", "to": "d" }
            ]),
        ),
        "",
    );
    check(
        wf(
            json!([echo("a"), echo("b"), echo("c")]),
            json!([
                { "from": "a", "to": "b" }, { "from": "b", "to": "c" }, { "from": "c", "to": "a" }
            ]),
        ),
        r#"
error edges[2]: the edges form a cycle: a -> b -> c -> a
  hint: a workflow is acyclic: remove or redirect one edge of the cycle"#,
    );
    check(
        wf(json!([echo("a")]), json!([{ "from": "a", "to": "a" }])),
        r#"
error edges[0]: the edges form a cycle: a -> a
  hint: a workflow is acyclic: remove or redirect one edge of the cycle"#,
    );
    // Two separate cycles are both reported.
    check(
        wf(
            json!([echo("a"), echo("b"), echo("c"), echo("d")]),
            json!([
                { "from": "a", "to": "b" }, { "from": "b", "to": "a", "action": "retry" },
                { "from": "b", "to": "c" }, { "from": "c", "to": "d" }, { "from": "d", "to": "c", "action": "again" }
            ]),
        ),
        r#"
error edges[1]: the edges form a cycle: a -> b -> a
  hint: a workflow is acyclic: remove or redirect one edge of the cycle
error edges[4]: the edges form a cycle: c -> d -> c
  hint: a workflow is acyclic: remove or redirect one edge of the cycle"#,
    );
}

#[test]
fn start_node_names_a_node() {
    check(
        wf_with(
            json!([echo("a"), echo("b")]),
            json!([{ "from": "b", "to": "a" }]),
            json!({ "start_node": "b" }),
        ),
        "",
    );
    check(
        wf_with(
            json!([echo("a"), echo("b")]),
            json!([{ "from": "a", "to": "b" }]),
            json!({ "start_node": "bb" }),
        ),
        r#"
error start_node: start node `bb` is not a node
  hint: did you mean `b`?"#,
    );
}

#[test]
fn unreachable_nodes_are_warnings() {
    check(
        wf(json!([echo("a"), echo("b"), echo("c")]), json!([{ "from": "a", "to": "c" }])),
        r#"
warning nodes[1]: node `b` is unreachable from the start node `a`
  hint: add an edge that leads to `b`, or remove it"#,
    );
    let checked = validate_value(&wf(json!([echo("a"), echo("b")]), json!([])), None);
    assert!(!checked.diagnostics().has_errors());
    assert!(checked.ir().is_some());
}

#[test]
fn input_declarations() {
    check(
        wf_with(
            json!([echo("a")]),
            json!([]),
            json!({ "inputs": {
                "s": { "type": "string", "description": "text" },
                "n": { "type": "integer", "required": false, "default": 3 },
                "f": { "type": "number", "required": false, "default": 2.5 },
                "o": { "type": "object", "required": false, "default": {} },
                "any": { "required": false, "default": null },
            }}),
        ),
        "",
    );
    check(
        wf_with(
            json!([echo("a")]),
            json!([]),
            json!({ "inputs": {
                "s": { "type": "str" },
                "t": { "type": "text" },
                "x": { "type": "strng" },
                "y": { "type": "thing" },
            }}),
        ),
        r#"
error inputs.s.type: unknown type `str`
  hint: did you mean `string`?
error inputs.t.type: unknown type `text`
  hint: did you mean `string`?
error inputs.x.type: unknown type `strng`
  hint: did you mean `string`?
error inputs.y.type: unknown type `thing`
  hint: did you mean `string`?"#,
    );
    check(
        wf_with(
            json!([echo("a")]),
            json!([]),
            json!({ "inputs": {
                "n": { "type": "integer", "required": false, "default": 2.5 },
                "b": { "type": "boolean", "required": false, "default": "true" },
                "r": { "type": "string", "required": true, "default": "x" },
                "implicit": { "type": "string", "default": "x" },
                "my file": { "type": "string" },
            }}),
        ),
        r#"
error inputs.n.default: the default of input `n` is a number, but its type is `integer`
error inputs.b.default: the default of input `b` is a string, but its type is `boolean`
error inputs.r: input `r` is required but has a default
  hint: set `"required": false` to make the default apply, or remove the default
error inputs.implicit: input `implicit` has a default but is required (inputs are required unless `"required": false`)
  hint: set `"required": false` to make the default apply, or remove the default
warning inputs["my file"]: input name `my file` cannot be used in a template
  hint: input names start with a letter or `_` and hold letters, digits, `_` and `-`"#,
    );
}

#[test]
fn inputs_and_node_ids_do_not_collide() {
    check(
        wf_with(
            json!([echo("read"), echo("b")]),
            json!([{ "from": "read", "to": "b" }]),
            json!({ "inputs": {
                "read": { "type": "string" }, "other": {}
            }}),
        ),
        r#"
error inputs.read: input `read` has the same name as a node (nodes[0]), so `${read}` would be ambiguous
  hint: rename the input or the node"#,
    );
}

#[test]
fn outputs() {
    check(
        wf_with(
            json!([echo("a"), echo("b")]),
            json!([{ "from": "a", "to": "b" }]),
            json!({ "outputs": {
                "message": { "description": "the last message" },
                "first": { "source": "${a.message}" },
                "mixed": { "source": "a said: ${a.message}", "type": "string" },
            }}),
        ),
        "",
    );
    check(
        wf_with(
            json!([echo("a"), echo("b")]),
            json!([{ "from": "a", "to": "b" }]),
            json!({
                "inputs": { "name": { "type": "string" } },
                "outputs": {
                    "a": {},
                    "name": { "description": "x" },
                    "text": { "source": "a.message" },
                    "fixed": { "source": "42" },
                    "broken": { "source": "${a.}" },
                    "unknown": { "source": "${c.message}" },
                    "typed": { "type": "strng", "source": "$a" },
                }
            }),
        ),
        r#"
warning outputs.a: output `a` has no `source`, so it takes key `a` of the last node's outputs, not the node `a`
  hint: say where it comes from: "source": "${a}"
warning outputs.name: output `name` has no `source`, so it takes key `name` of the last node's outputs, not the input `name`
  hint: say where it comes from: "source": "${name}"
error outputs.broken.source: malformed template `${a.}`: expected a key after `.`, found `}`
  hint: write `${name}`, `${node.key}` or `${node.items[0]}`; `$$` is a literal `$`
error outputs.unknown.source: `${c.message}` refers to `c`, which is not an input or a node id
  hint: declare `c` under `inputs`, or refer to a node id
error outputs.typed.type: unknown type `strng`
  hint: did you mean `string`?"#,
    );
}

#[test]
fn output_sources_may_read_any_node() {
    // `b` does not lead to anything, and an output may still read `a` and `b`.
    check(
        wf_with(
            json!([echo("a"), echo("b")]),
            json!([{ "from": "a", "to": "b" }]),
            json!({ "outputs": {
                "x": { "source": "${b.message} ${a.message}" }
            }}),
        ),
        "",
    );
}

#[test]
fn template_roots_must_exist() {
    check(
        wf_with(
            json!([{ "id": "a", "type": "echo", "params": { "message": "${input_file} $input_file" } }]),
            json!([]),
            json!({ "inputs": { "input_file": {} } }),
        ),
        "",
    );
    check(
        wf_with(
            json!([{ "id": "a", "type": "echo", "params": { "message": "${inptu_file}", "n": ["${zzz.key}"] } }]),
            json!([]),
            json!({ "inputs": { "input_file": {} } }),
        ),
        r#"
error nodes[0].params.message: `${inptu_file}` refers to `inptu_file`, which is not an input or a node id
  hint: did you mean `input_file`?
error nodes[0].params.n[0]: `${zzz.key}` refers to `zzz`, which is not an input or a node id
  hint: declare `zzz` under `inputs`, or refer to a node id"#,
    );
}

#[test]
fn malformed_templates_are_errors() {
    check(
        wf(
            json!([{ "id": "a", "type": "echo", "params": { "message": "${a b}", "list": ["${", "${}"], "ok": "$$ {x}" } }]),
            json!([]),
        ),
        r#"
error nodes[0].params.message: malformed template `${a b}`: unexpected whitespace ' '; names hold letters, digits, `_` and `-`
  hint: write `${name}`, `${node.key}` or `${node.items[0]}`; `$$` is a literal `$`
error nodes[0].params.list[0]: unclosed template `${`: missing `}`
  hint: write `${name}`, `${node.key}` or `${node.items[0]}`; `$$` is a literal `$`
error nodes[0].params.list[1]: empty template `${}`
  hint: write `${name}`, `${node.key}` or `${node.items[0]}`; `$$` is a literal `$`"#,
    );
}

#[test]
fn node_references_must_be_ancestors() {
    let nodes = json!([
        echo("a"),
        { "id": "b", "type": "echo", "params": { "message": "${a.message}" } },
        { "id": "c", "type": "echo", "params": { "message": "${a.message} ${b.message} $b" } },
    ]);
    check(wf(nodes, json!([{ "from": "a", "to": "b" }, { "from": "b", "to": "c" }])), "");
    let nodes = json!([
        { "id": "a", "type": "echo", "params": { "message": "${b.message}", "self": "${a.message}" } },
        echo("b"),
        { "id": "c", "type": "echo", "params": { "message": "$b.message", "x": "${b[0]}" } },
    ]);
    check(
        wf(
            nodes,
            json!([{ "from": "a", "to": "b" }, { "from": "a", "to": "c", "action": "error" }]),
        ),
        r#"
error nodes[0].params.message: `${b.message}` refers to node `b`, which does not run before `a`
  hint: a node can read only the outputs of nodes that lead to it: add edges from `b` to `a`
error nodes[0].params.self: `${a.message}` refers to node `a` itself
  hint: a node can read only the outputs of nodes that ran before it
error nodes[2].params.message: `$b.message` refers to node `b`, which does not run before `c`
  hint: a node can read only the outputs of nodes that lead to it: add edges from `b` to `c`
error nodes[2].params.x: `${b[0]}` refers to node `b`, which does not run before `c`
  hint: a node can read only the outputs of nodes that lead to it: add edges from `b` to `c`"#,
    );
}

#[test]
fn referenced_output_keys_are_declared() {
    let nodes = json!([
        { "id": "read", "type": "read-file", "params": { "file_path": "in.txt" } },
        { "id": "sub", "type": "workflow", "params": { "workflow_name": "child" } },
        { "id": "show", "type": "echo", "params": { "message": "${read.content} ${read.error} ${sub.anything} ${read}" } },
    ]);
    let edges = json!([{ "from": "read", "to": "sub" }, { "from": "sub", "to": "show" }]);
    check_cat(wf(nodes.clone(), edges.clone()), "");
    let bad = json!([
        { "id": "read", "type": "read-file", "params": { "file_path": "in.txt" } },
        { "id": "sub", "type": "workflow", "params": { "workflow_name": "child" } },
        { "id": "show", "type": "echo", "params": { "message": "${read.contents} ${read.stdout}" } },
    ]);
    check_cat(
        wf(bad.clone(), edges.clone()),
        r#"
error nodes[2].params.message: `${read.contents}`: node `read` (`read-file`) has no output `contents`
  hint: did you mean `content`?
error nodes[2].params.message: `${read.stdout}`: node `read` (`read-file`) has no output `stdout`
  hint: its outputs are `content`, `error`"#,
    );
    // Without a catalog, output keys cannot be known.
    check(wf(bad, edges), "");
}

#[test]
fn bare_near_misses_are_warnings() {
    let inputs = json!({ "inputs": { "input_file": {} } });
    check(
        wf_with(
            json!([{ "id": "a", "type": "echo", "params": { "message": "$HOME $input_file $$inptu_file $ 5$" } }]),
            json!([]),
            inputs.clone(),
        ),
        "",
    );
    check(
        wf_with(
            json!([{ "id": "a", "type": "echo", "params": { "message": "read $inptu_file and $a_ and $ab" } }]),
            json!([]),
            inputs,
        ),
        r#"
warning nodes[0].params.message: `$inptu_file` is not an input or a node id, so it stays literal text
  hint: did you mean `$input_file`? write `$$inptu_file` for a literal `$`"#,
    );
}

#[test]
fn inputs_of_scalar_type_have_no_keys() {
    let inputs = json!({ "inputs": {
        "name": { "type": "string" }, "cfg": { "type": "object" }, "list": { "type": "array" }, "any": {}
    }});
    check(
        wf_with(
            json!([{ "id": "a", "type": "echo", "params": { "message": "${name}.txt ${cfg.k} $list[0] $any.x[1]" } }]),
            json!([]),
            inputs.clone(),
        ),
        "",
    );
    check(
        wf_with(
            json!([{ "id": "a", "type": "echo", "params": { "message": "$name.txt ${name[0]} ${cfg[0]} ${list.k}" } }]),
            json!([]),
            inputs,
        ),
        r#"
error nodes[0].params.message: `$name.txt` takes `.txt` of input `name`, which is a string
  hint: a bare `$name` takes `.key` steps: write `${name}.txt` to follow it with text
error nodes[0].params.message: `${name[0]}` takes `[0]` of input `name`, which is a string
  hint: refer to the whole input: `${name}`
error nodes[0].params.message: `${cfg[0]}` takes `[0]` of input `cfg`, which is an object
  hint: refer to the whole input: `${cfg}`
error nodes[0].params.message: `${list.k}` takes `.k` of input `list`, which is an array
  hint: refer to the whole input: `${list}`"#,
    );
}

#[test]
fn templates_in_shell_commands_are_warnings() {
    let inputs = json!({ "inputs": { "file": { "type": "string" } } });
    check_cat(
        wf_with(
            json!([{ "id": "s", "type": "shell", "params": {
            "command": "wc -l \"$FILE\" $HOME $$file", "env": { "FILE": "${file}" }, "stdin": "$file"
        } }]),
            json!([]),
            inputs.clone(),
        ),
        "",
    );
    check_cat(
        wf_with(
            json!([{ "id": "s", "type": "shell", "params": { "command": "wc -l $file ${file}" } }]),
            json!([]),
            inputs,
        ),
        r#"
warning nodes[0].params.command: `$file` is interpolated into a shell command, an injection risk
  hint: pass the value through `env` ("env": {"FILE": "${file}"}) and write "$FILE" in the command"#,
    );
}

#[test]
fn node_types_come_from_the_catalog() {
    check_cat(
        wf(
            json!([{ "id": "a", "type": "read_file", "params": { "file_path": "x" } }, { "id": "b", "type": "frobnicate" }]),
            json!([{ "from": "a", "to": "b" }]),
        ),
        r#"
error nodes[0].type: unknown node type `read_file`
  hint: did you mean `read-file`?
error nodes[1].type: unknown node type `frobnicate`
  hint: the node types are `echo`, `http`, `read-file`, `shell`, `workflow`, `write-file`"#,
    );
    // Without a catalog any type is accepted.
    check(wf(json!([{ "id": "a", "type": "frobnicate" }]), json!([])), "");
    // `workflow` is always known.
    check_with(
        wf(
            json!([{ "id": "a", "type": "workflow", "params": { "workflow_name": "child" } }]),
            json!([]),
        ),
        Some(&NodeCatalog::default()),
        "",
    );
}

#[test]
fn params_follow_the_node_spec() {
    let inputs = json!({ "inputs": { "t": { "type": "integer" } } });
    check_cat(
        wf_with(
            json!([{ "id": "s", "type": "shell", "params": {
            "command": "ls", "timeout": "$t", "ignore_errors": true, "env": {}, "cwd": "${t}"
        } }]),
            json!([]),
            inputs.clone(),
        ),
        "",
    );
    check_cat(
        wf_with(
            json!([
                { "id": "s", "type": "shell", "params": { "comand": "ls", "timeout": "10", "env": [], "ignore_errors": "$nope" } },
                { "id": "w", "type": "write-file" },
                { "id": "r", "type": "read-file", "params": { "file_path": 3, "bogus": 1 } },
            ]),
            json!([{ "from": "s", "to": "w" }, { "from": "w", "to": "r" }]),
            inputs,
        ),
        r#"
error nodes[0].params.comand: unknown parameter `comand` for `shell`
  hint: did you mean `command`?
error nodes[0].params.timeout: parameter `timeout` of `shell` must be a number, found a string
error nodes[0].params.env: parameter `env` of `shell` must be an object, found an array
error nodes[0].params.ignore_errors: parameter `ignore_errors` of `shell` must be a boolean, found a string
error nodes[0].params: missing required parameter `command` for `shell`
  hint: `command`: the command
error nodes[1].params: missing required parameter `file_path` for `write-file`
  hint: `file_path`: the file_path
error nodes[1].params: missing required parameter `content` for `write-file`
  hint: `content`: the content
error nodes[2].params.file_path: parameter `file_path` of `read-file` must be a string, found an integer
error nodes[2].params.bogus: unknown parameter `bogus` for `read-file`
  hint: `read-file` takes `file_path`, `encoding`"#,
    );
}

/// One node of type `ty` with `params`, in a workflow with a string input `t` and a node
/// `prev` before it (so templates can refer to both).
fn one_node(ty: &str, params: Value) -> Value {
    wf_with(
        json!([echo("prev"), { "id": "n", "type": ty, "params": params }]),
        json!([{ "from": "prev", "to": "n" }]),
        json!({ "inputs": { "t": { "type": "string" } } }),
    )
}

#[test]
fn literal_params_follow_the_param_rules() {
    for (ty, params, expected) in [
        (
            "shell",
            json!({ "command": "true", "timeout": 0 }),
            "error nodes[1].params.timeout: parameter `timeout` of `shell` must be greater than 0, found `0`
  hint: `timeout` accepts a number greater than 0",
        ),
        (
            "shell",
            json!({ "command": "true", "timeout": -5 }),
            "error nodes[1].params.timeout: parameter `timeout` of `shell` must be greater than 0, found `-5`
  hint: `timeout` accepts a number greater than 0",
        ),
        (
            "http",
            json!({ "url": "https://example.com", "timeout": 0 }),
            "error nodes[1].params.timeout: parameter `timeout` of `http` must be greater than 0, found `0`
  hint: `timeout` accepts a number greater than 0",
        ),
        (
            "workflow",
            json!({ "workflow_name": "child", "max_depth": 65 }),
            "error nodes[1].params.max_depth: parameter `max_depth` of `workflow` must be at most 64, found `65`
  hint: `max_depth` accepts an integer from 0 to 64",
        ),
        (
            "workflow",
            json!({ "workflow_name": "child", "max_depth": -1 }),
            "error nodes[1].params.max_depth: parameter `max_depth` of `workflow` must be at least 0, found `-1`
  hint: `max_depth` accepts an integer from 0 to 64",
        ),
        (
            "read-file",
            json!({ "file_path": "a.txt", "encoding": "utf-16" }),
            "error nodes[1].params.encoding: parameter `encoding` of `read-file` must be `utf-8`, `utf8`, `latin-1`, `latin1` or `iso-8859-1`, found `utf-16`
  hint: `encoding` accepts `utf-8`, `utf8`, `latin-1`, `latin1` or `iso-8859-1`, in any case",
        ),
        (
            "http",
            json!({ "url": "https://example.com", "method": "GE T" }),
            "error nodes[1].params.method: parameter `method` of `http` must be an HTTP token, found `GE T`: a space is not allowed in one
  hint: `method` accepts an HTTP token such as `GET` or `PATCH`: ASCII letters, digits and ``!#$%&'*+-.^_`|~``",
        ),
        (
            "http",
            json!({ "url": "not a url" }),
            "error nodes[1].params.url: parameter `url` of `http` must be an absolute `http://` or `https://` URL, found `not a url`
  hint: `url` accepts an absolute `http://` or `https://` URL with a host, such as `https://example.com/path?q=1`",
        ),
        (
            "shell",
            json!({ "command": "true", "env": { "A": [1] } }),
            "error nodes[1].params.env.A: parameter `env.A` of `shell` must be a string, a number or a boolean, found an array
  hint: `env` accepts an object whose values are strings, numbers or booleans",
        ),
        (
            "http",
            json!({ "url": "https://example.com", "headers": { "X Y": { "z": 1 } } }),
            r#"error nodes[1].params.headers["X Y"]: parameter `headers.X Y` of `http` must be a string, a number or a boolean, found an object
  hint: `headers` accepts an object whose values are strings, numbers or booleans"#,
        ),
        // What the runtime sees is checked: `$$` is one `$`, and a bare `$name` that names
        // no input or node stays text.
        (
            "http",
            json!({ "url": "$$https://example.com" }),
            "error nodes[1].params.url: parameter `url` of `http` must be an absolute `http://` or `https://` URL, found `$https://example.com`
  hint: `url` accepts an absolute `http://` or `https://` URL with a host, such as `https://example.com/path?q=1`",
        ),
        (
            "http",
            json!({ "url": "$base/x" }),
            "error nodes[1].params.url: parameter `url` of `http` must be an absolute `http://` or `https://` URL, found `$base/x`
  hint: `url` accepts an absolute `http://` or `https://` URL with a host, such as `https://example.com/path?q=1`",
        ),
        // Entries that hold templates are left to the runtime; the others are checked.
        (
            "shell",
            json!({ "command": "true", "env": { "A": "${t}", "B": "$prev.message", "C": [1] } }),
            "error nodes[1].params.env.C: parameter `env.C` of `shell` must be a string, a number or a boolean, found an array
  hint: `env` accepts an object whose values are strings, numbers or booleans",
        ),
    ] {
        check_cat(one_node(ty, params), expected);
    }
}

#[test]
fn valid_and_templated_params_pass() {
    for (ty, params) in [
        ("shell", json!({ "command": "true", "timeout": 0.5 })),
        ("shell", json!({ "command": "true", "timeout": null })),
        ("workflow", json!({ "workflow_name": "child", "max_depth": 0 })),
        ("workflow", json!({ "workflow_name": "child", "max_depth": 64 })),
        ("read-file", json!({ "file_path": "a.txt", "encoding": "Latin-1" })),
        ("http", json!({ "url": "https://example.com/x?y=1", "method": "patch" })),
        ("http", json!({ "url": "https://example.com/$$", "headers": { "X-N": 7 } })),
        ("shell", json!({ "command": "true", "env": { "A": 1, "B": true, "C": "x" } })),
        // Values known only at run time, which the runtime checks by the same rule.
        (
            "shell",
            json!({ "command": "true", "timeout": "${t}", "env": { "A": "${prev.message}" } }),
        ),
        ("workflow", json!({ "workflow_name": "child", "max_depth": "$t" })),
        ("read-file", json!({ "file_path": "a.txt", "encoding": "${t}" })),
        ("http", json!({ "url": "https://${t}/x", "method": "$prev.message", "timeout": "$t" })),
    ] {
        check_cat(one_node(ty, params), "");
    }
}

#[test]
fn max_depth_is_bounded_without_a_workflow_spec() {
    let node = |depth: Value| {
        wf(
            json!([{ "id": "w", "type": "workflow", "params": { "workflow_name": "child", "max_depth": depth } }]),
            json!([]),
        )
    };
    let too_deep = "error nodes[0].params.max_depth: parameter `max_depth` of `workflow` must be at most 64, found `65`
  hint: `max_depth` accepts an integer from 0 to 64";
    check(node(json!(65)), too_deep);
    check_with(node(json!(65)), Some(&NodeCatalog::default()), too_deep);
    check(
        node(json!("ten")),
        "error nodes[0].params.max_depth: parameter `max_depth` of `workflow` must be an integer, found a string",
    );
    check(node(json!(64)), "");
    check(node(json!(null)), "");
}

#[test]
fn workflow_nodes_name_exactly_one_child() {
    for source in [
        json!({ "workflow_name": "child" }),
        json!({ "workflow_ref": "child.json" }),
        json!({ "workflow_ir": { "ir_version": "0.1.0", "nodes": [{ "id": "x", "type": "echo" }] } }),
    ] {
        check_cat(wf(json!([{ "id": "w", "type": "workflow", "params": source }]), json!([])), "");
    }
    check(
        wf(
            json!([
                { "id": "none", "type": "workflow" },
                { "id": "empty", "type": "workflow", "params": {} },
                { "id": "two", "type": "workflow", "params": { "workflow_name": "a", "workflow_ref": "b.json" } },
                { "id": "types", "type": "workflow", "params": { "workflow_name": "Fix_Issue", "workflow_ref": "", "workflow_ir": "x" } },
                { "id": "n", "type": "workflow", "params": { "workflow_name": 5 } },
            ]),
            json!([
                { "from": "none", "to": "empty" }, { "from": "empty", "to": "two" }, { "from": "two", "to": "types" }, { "from": "types", "to": "n" }
            ]),
        ),
        r#"
error nodes[0].params: a `workflow` node needs one of `workflow_name`, `workflow_ref`, `workflow_ir`, found none
  hint: `workflow_name` calls a saved workflow, `workflow_ref` a JSON file, `workflow_ir` an inline one
error nodes[1].params: a `workflow` node needs one of `workflow_name`, `workflow_ref`, `workflow_ir`, found none
  hint: `workflow_name` calls a saved workflow, `workflow_ref` a JSON file, `workflow_ir` an inline one
error nodes[2].params: a `workflow` node takes exactly one of `workflow_name`, `workflow_ref`, `workflow_ir`, found `workflow_name`, `workflow_ref`
  hint: keep the one that names the child workflow and remove the others
error nodes[3].params: a `workflow` node takes exactly one of `workflow_name`, `workflow_ref`, `workflow_ir`, found `workflow_name`, `workflow_ref`, `workflow_ir`
  hint: keep the one that names the child workflow and remove the others
error nodes[3].params.workflow_name: invalid workflow name `Fix_Issue`: upper case is not allowed
  hint: did you mean `fix-issue`? names are lowercase words joined by single dashes
error nodes[3].params.workflow_ref: `workflow_ref` cannot be empty
  hint: give the path of a JSON file, relative to this workflow's file
error nodes[3].params.workflow_ir: `workflow_ir` must be an object (an inline workflow), found a string
error nodes[4].params.workflow_name: `workflow_name` must be a string (a saved workflow's name), found an integer"#,
    );
}

#[test]
fn inline_workflows_are_validated_in_their_own_scope() {
    let child = json!({
        "ir_version": "0.1.0",
        "inputs": { "text": { "type": "string" }, "opt": { "required": false, "default": 1 } },
        "outputs": { "summary": { "source": "${shout.message}" } },
        "nodes": [{ "id": "shout", "type": "echo", "params": { "message": "${text}!" } }],
    });
    check_cat(
        wf_with(
            json!([
                echo("first"),
                { "id": "call", "type": "workflow", "params": {
                    "workflow_ir": child,
                    "param_mapping": { "text": "${first.message} $name" },
                    "output_mapping": { "summary": "short" },
                } },
                { "id": "last", "type": "echo", "params": { "message": "${call.short}" } },
            ]),
            json!([{ "from": "first", "to": "call" }, { "from": "call", "to": "last" }]),
            json!({ "inputs": { "name": {} } }),
        ),
        "",
    );
    let bad_child = json!({
        "ir_version": "0.1.0",
        "inputs": { "text": { "type": "string" }, "need": { "type": "string" } },
        "outputs": { "summary": { "source": "${shout.message}" } },
        "nodes": [{ "id": "shout", "type": "eco", "params": { "message": "${text} ${first.message} ${name}" } }],
        "edge": [],
    });
    check_cat(
        wf_with(
            json!([
                echo("first"),
                { "id": "call", "type": "workflow", "params": {
                    "workflow_ir": bad_child,
                    "param_mapping": { "txt": "${first.mesage}" },
                    "output_mapping": { "sumary": "short", "summary": 3 },
                } },
            ]),
            json!([{ "from": "first", "to": "call" }]),
            json!({ "inputs": { "name": {} } }),
        ),
        r#"
error nodes[1].params.workflow_ir.edge: unknown field `edge` in a workflow
  hint: did you mean `edges`?
error nodes[1].params.workflow_ir.nodes[0].type: unknown node type `eco`
  hint: did you mean `echo`?
error nodes[1].params.workflow_ir.nodes[0].params.message: `${first.message}` refers to `first`, which is not an input or a node id
  hint: declare `first` under `inputs`, or refer to a node id
error nodes[1].params.workflow_ir.nodes[0].params.message: `${name}` refers to `name`, which is not an input or a node id
  hint: declare `name` under `inputs`, or refer to a node id
error nodes[1].params.param_mapping.txt: the child workflow has no input `txt`
  hint: did you mean `text`?
error nodes[1].params.param_mapping: the child workflow's required input `text` is not mapped
  hint: add "text": "..." to `param_mapping`
error nodes[1].params.param_mapping: the child workflow's required input `need` is not mapped
  hint: add "need": "..." to `param_mapping`
error nodes[1].params.output_mapping.sumary: the child workflow has no output `sumary`
  hint: did you mean `summary`?
error nodes[1].params.output_mapping.summary: `summary` must be a string (the name under this node), found an integer
error nodes[1].params.param_mapping.txt: `${first.mesage}`: node `first` (`echo`) has no output `mesage`
  hint: did you mean `message`?"#,
    );
    check(
        wf(
            json!([{ "id": "call", "type": "workflow", "params": { "workflow_ir": { "ir_version": "0.1.0", "nodes": [echo("x")] },
            "param_mapping": [], "output_mapping": "x" } }]),
            json!([]),
        ),
        r#"
error nodes[0].params.param_mapping: `param_mapping` must be an object (child input → value), found an array
error nodes[0].params.output_mapping: `output_mapping` must be an object (child output → name), found a string"#,
    );
}

#[test]
fn inline_nesting_is_bounded_by_json_depth() {
    let nest = |levels: usize| {
        let mut ir = json!({ "ir_version": "0.1.0", "nodes": [{ "id": "x", "type": "echo", "params": { "message": "${x.message}" } }] });
        for _ in 0..levels {
            ir = json!({ "ir_version": "0.1.0", "nodes": [{ "id": "w", "type": "workflow", "params": { "workflow_ir": ir } }] });
        }
        ir
    };
    // 30 levels fit in the 128 levels of JSON that parsing allows; the innermost problem is
    // still found, with its full path.
    let checked = validate_value(&nest(30), None);
    let paths: Vec<&str> = checked.diagnostics().iter().map(|d| d.path.as_str()).collect();
    assert_eq!(
        paths,
        [format!("{}nodes[0].params.message", "nodes[0].params.workflow_ir.".repeat(30))]
    );
    // Too deep to be read back once saved: one finding, at the first level too deep.
    let checked = validate_value(&nest(40), None);
    let found: Vec<(&str, &str)> =
        checked.diagnostics().iter().map(|d| (d.path.as_str(), d.message.as_str())).collect();
    let path = format!("{}nodes[0]", "nodes[0].params.workflow_ir.".repeat(31));
    assert_eq!(found, [(path.as_str(), "the workflow is nested more than 126 levels deep")]);
}

#[test]
fn findings_are_grouped_in_a_stable_order() {
    let input = json!({
        "start_node": "zz",
        "edges": [{ "from": "b", "to": "q" }],
        "nodes": [{ "id": "b", "type": "echo", "params": { "message": "${x}" } }, { "id": "1", "type": "echo" }],
        "outputs": { "o": { "source": "${y}" } },
        "inputs": { "i": { "type": "nope" } },
        "ir_version": "9.0.0",
        "extra": true,
    });
    check(
        input.clone(),
        r#"
error extra: unknown field `extra` in a workflow
  hint: the fields of a workflow are `ir_version`, `inputs`, `outputs`, `nodes`, `edges`, `start_node`
error ir_version: ir_version `9.0.0` is not supported: this release reads 0.x
  hint: write `0.1.0`, or use the pflow release that wrote this workflow
error inputs.i.type: unknown type `nope`
  hint: the types are `string`, `number`, `integer`, `boolean`, `object`, `array`
error outputs.o.source: `${y}` refers to `y`, which is not an input or a node id
  hint: declare `y` under `inputs`, or refer to a node id
error nodes[0].params.message: `${x}` refers to `x`, which is not an input or a node id
  hint: declare `x` under `inputs`, or refer to a node id
error nodes[1].id: invalid node id `1`
  hint: ids start with a letter or `_` and hold letters, digits, `_` and `-`: try `_1`
error edges[0].to: edge to `q` is not a node
  hint: edges connect the ids of nodes in `nodes`
error start_node: start node `zz` is not a node
  hint: `start_node` names the id of a node; leave it out to start at the first node"#,
    );
    let first = validate_value(&input, None);
    for _ in 0..3 {
        assert_eq!(validate_value(&input, None), first);
    }
}

/// Nodes that are not objects are reported and left out of the graph; the graph checks
/// (cycles, reachability, ancestry of template references) still run on the others, at
/// their own paths, without confusing array positions with graph positions.
#[test]
fn graph_checks_after_a_node_that_is_not_an_object() {
    check(
        wf(
            json!([null, echo("a"), echo("b"), { "id": "c", "type": "echo", "params": { "message": "${b.message}" } }]),
            json!([{ "from": "a", "to": "b" }, { "from": "b", "to": "a", "action": "again" }]),
        ),
        r#"
error nodes[0]: a node must be an object, found null
  hint: write {"id": "...", "type": "...", "params": {...}}
warning nodes[3]: node `c` is unreachable from the start node `a`
  hint: add an edge that leads to `c`, or remove it
error nodes[3].params.message: `${b.message}` refers to node `b`, which does not run before `c`
  hint: a node can read only the outputs of nodes that lead to it: add edges from `b` to `c`
error edges[1]: the edges form a cycle: a -> b -> a
  hint: a workflow is acyclic: remove or redirect one edge of the cycle"#,
    );
}
