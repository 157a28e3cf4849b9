//! Property tests: the typed IR round-trips through JSON, and validation and template
//! handling never panic, whatever the input.

use indexmap::IndexMap;
use pflow_ir::template::{parse_template, resolve_value};
use pflow_ir::{
    Edge, InputSpec, Node, OutputSpec, ValueType, WorkflowIr, parse_json, validate_ir,
    validate_value,
};
use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::catalog::catalog;

/// Short strings that often hold template syntax and IR names.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_]{0,6}",
        "[a-c$.{}\\[\\]0-9 _-]{0,12}",
        Just("${a.message}".to_owned()),
        Just("$input".to_owned()),
        Just("read-file".to_owned()),
        Just("workflow".to_owned()),
        any::<String>(),
    ]
}

/// Keys for objects: IR field names are frequent, so random values hit the real rules.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "ir_version",
            "nodes",
            "edges",
            "inputs",
            "outputs",
            "start_node",
            "id",
            "type",
            "params",
            "from",
            "to",
            "action",
            "source",
            "default",
            "required",
            "workflow_ir",
            "workflow_name",
            "param_mapping",
            "output_mapping",
            "command",
            "message",
        ])
        .prop_map(str::to_owned),
        text(),
    ]
}

/// Any JSON value, nested a few levels.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn value_type() -> impl Strategy<Value = ValueType> {
    prop::sample::select(ValueType::ALL.to_vec())
}

fn id() -> impl Strategy<Value = String> {
    prop_oneof!["[a-d]", "[a-z_][a-z0-9_-]{0,5}", text()]
}

fn workflow_ir() -> impl Strategy<Value = WorkflowIr> {
    let input = (
        proptest::option::of(text()),
        proptest::option::of(any::<bool>()),
        proptest::option::of(value_type()),
        proptest::option::of(json_value()),
    )
        .prop_map(|(description, required, ty, default)| InputSpec {
            description,
            required,
            ty,
            default,
        });
    let output = (
        proptest::option::of(text()),
        proptest::option::of(value_type()),
        proptest::option::of(text()),
    )
        .prop_map(|(description, ty, source)| OutputSpec { description, ty, source });
    let params = prop::collection::vec((key(), json_value()), 0..4)
        .prop_map(|kv| kv.into_iter().collect::<Map<String, Value>>());
    let node =
        (id(), prop::sample::select(vec!["echo", "shell", "read-file", "workflow", "x"]), params)
            .prop_map(|(id, ty, params)| Node::new(id, ty, params));
    let edge =
        (id(), id(), proptest::option::of(prop::sample::select(vec!["default", "error", "x"])))
            .prop_map(|(from, to, action)| Edge { from, to, action: action.map(str::to_owned) });
    (
        prop_oneof![Just("0.1.0".to_owned()), text()],
        prop::collection::vec((text(), input), 0..3),
        prop::collection::vec((text(), output), 0..3),
        prop::collection::vec(node, 0..5),
        prop::collection::vec(edge, 0..5),
        proptest::option::of(id()),
    )
        .prop_map(|(ir_version, inputs, outputs, nodes, edges, start_node)| WorkflowIr {
            ir_version,
            inputs: inputs.into_iter().collect::<IndexMap<_, _>>(),
            outputs: outputs.into_iter().collect::<IndexMap<_, _>>(),
            nodes,
            edges,
            start_node,
        })
}

/// A value `levels` arrays or objects deep, built without recursion (`json!` would
/// serialize an interpolated value recursively).
fn nested(levels: usize, objects: bool) -> Value {
    let mut v = Value::String("$x".into());
    for _ in 0..levels {
        v = if objects {
            Value::Object(Map::from_iter([("k".to_owned(), v)]))
        } else {
            Value::Array(vec![v])
        };
    }
    v
}

/// A one-node workflow whose node has `params` (moved in, not serialized).
fn one_node(params: Map<String, Value>) -> Value {
    let mut node = Map::new();
    node.insert("id".into(), "a".into());
    node.insert("type".into(), "echo".into());
    node.insert("params".into(), Value::Object(params));
    let mut ir = Map::new();
    ir.insert("ir_version".into(), "0.1.0".into());
    ir.insert("nodes".into(), Value::Array(vec![Value::Object(node)]));
    Value::Object(ir)
}

proptest! {
    #[test]
    fn ir_round_trips_through_json(ir in workflow_ir()) {
        let text = serde_json::to_string(&ir).unwrap();
        let back: WorkflowIr = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(&back, &ir);
        // Validating the typed IR and its JSON agree.
        let value = serde_json::to_value(&ir).unwrap();
        let checked = validate_value(&value, Some(&catalog()));
        prop_assert_eq!(checked.ir(), Some(&ir));
        let typed = validate_ir(ir.clone(), Some(&catalog()));
        prop_assert_eq!(typed.diagnostics(), checked.diagnostics());
    }

    #[test]
    fn validation_never_panics_on_any_json(value in json_value()) {
        let cat = catalog();
        for catalog in [None, Some(&cat)] {
            let checked = validate_value(&value, catalog);
            // Findings always name their place in the value, or the root.
            for d in checked.diagnostics() {
                prop_assert!(!d.message.is_empty());
            }
        }
    }

    #[test]
    fn validation_never_panics_on_mutated_workflows(
        ir in workflow_ir(),
        field in key(),
        replacement in json_value(),
        node in 0usize..5,
        depth in 0usize..200,
        objects in any::<bool>(),
    ) {
        let mut value = serde_json::to_value(&ir).unwrap();
        value[field.as_str()] = replacement.clone();
        let mut inserted = false;
        if let Some(obj) = value["nodes"]
            .as_array_mut()
            .and_then(|nodes| nodes.get_mut(node))
            .and_then(Value::as_object_mut)
        {
            let params = Map::from_iter([
                ("deep".to_owned(), nested(depth, objects)),
                ("workflow_ir".to_owned(), replacement),
            ]);
            obj.insert("params".into(), Value::Object(params));
            inserted = true;
        }
        let checked = validate_value(&value, Some(&catalog()));
        // The root, `nodes`, the node and `params` are four levels above `deep`.
        if inserted && depth + 4 > pflow_ir::MAX_JSON_DEPTH {
            prop_assert!(checked.diagnostics().has_errors());
        }
    }

    #[test]
    fn parsing_any_bytes_then_validating_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(value) = parse_json(&bytes) {
            validate_value(&value, Some(&catalog()));
        }
    }

    #[test]
    fn templates_never_panic(text in text(), scope in json_value()) {
        let _ = parse_template(&text);
        if let Value::Object(scope) = scope {
            let _ = resolve_value(&Value::String(text), &scope);
        }
    }
}

#[test]
fn absurdly_deep_values_are_refused_without_recursion() {
    for objects in [false, true] {
        let ir = one_node(Map::from_iter([("m".to_owned(), nested(100_000, objects))]));
        // A small stack proves that validation does not recurse through the nesting.
        let checked = std::thread::scope(|s| {
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn_scoped(s, || validate_value(&ir, None))
                .unwrap()
                .join()
                .unwrap()
        });
        assert_eq!(checked.ir(), None);
        let messages: Vec<&str> =
            checked.diagnostics().iter().map(|d| d.message.as_str()).collect();
        assert_eq!(messages, ["the workflow is nested more than 126 levels deep"]);
        // serde_json drops values recursively: give the drop a stack to match.
        std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(move || drop(ir))
            .unwrap()
            .join()
            .unwrap();
    }
    // The deepest value a saved workflow can hold is still validated; one level more is not
    // (the root, `nodes`, the node and `params` are four levels above `m`).
    let deepest = pflow_ir::MAX_IR_DEPTH - 4;
    let ok = one_node(Map::from_iter([("m".to_owned(), nested(deepest, false))]));
    assert_eq!(validate_value(&ok, None).diagnostics(), &pflow_ir::Diagnostics::new());
    let too_deep = one_node(Map::from_iter([("m".to_owned(), nested(deepest + 1, false))]));
    assert!(validate_value(&too_deep, None).diagnostics().has_errors());
}
