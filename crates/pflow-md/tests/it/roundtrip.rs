//! Writing an IR as `.pflow.md` and reading it back gives the same IR, for every
//! fixture 0.16 reads, and for values a single line cannot hold.

use pflow_md::{WriteOptions, parse, write};
use serde_json::{Map, Value, json};

use crate::fixtures;

#[track_caller]
fn round_trip(ir: &Map<String, Value>, options: &WriteOptions<'_>) -> String {
    let text = write(ir, options)
        .unwrap_or_else(|e| panic!("{e}: {}", serde_json::to_string(ir).expect("json")));
    let back = parse(&text);
    assert_eq!(back.ir.as_ref(), Some(ir), "{text}\n{:#?}", back.findings);
    text
}

#[test]
fn every_fixture_round_trips() {
    let mut count = 0;
    for dir in ["corpus", "guide"] {
        for (path, text, _) in fixtures(dir) {
            let parsed = parse(&text);
            let Some(ir) = parsed.ir else { continue };
            let options = WriteOptions {
                title: parsed.title.as_deref(),
                description: parsed.description.as_deref(),
                front_matter: parsed.front_matter.as_ref(),
            };
            let written = round_trip(&ir, &options);
            let again = parse(&written);
            if parsed.title.is_some() {
                assert_eq!(again.title, parsed.title, "{}", path.display());
            }
            assert_eq!(again.description, parsed.description, "{}", path.display());
            assert_eq!(again.front_matter, parsed.front_matter, "{}", path.display());
            count += 1;
        }
    }
    eprintln!("round trips: {count}");
    assert!(count >= 40, "{count}");
}

#[test]
fn awkward_values_round_trip() {
    let ir = json!({
        "inputs": {"x": {"description": "Two\n\nparagraphs", "type": "string", "default": "yes"}},
        "nodes": [
            {"id": "a", "type": "shell", "purpose": "Does a.", "params": {
                "command": "line one\n```\nline two\n",
                "weird": "\u{b}vertical\u{2028}separator\u{1b}[0m",
                "padded": "  spaced  ",
                "looks_numeric": "012",
                "looks_bool": "off",
                "empty": "",
                "quote": "\"start",
                "brace": "{not yaml",
                "pipe": "|",
                "nested": {"deep": [1, 2.5, 1e300, -0.0, null, true, "${x}", {"k": "a: b # c"}]},
                "next": 3,
                "with:colon": "v",
                "big": 18446744073709551615u64
            }},
            {"id": "b", "type": "code", "purpose": "Routes.", "params": {"code": "next = 'c'\nresult = 1"}},
            {"id": "c", "type": "shell", "purpose": "Ends.", "retry": {"max_attempts": 2}},
            {"id": "d", "type": "shell", "purpose": "Unreached."}
        ],
        "edges": [
            {"from": "a", "to": "b"},
            {"from": "a", "to": "d", "action": "error"},
            {"from": "b", "to": "c", "action": "c"},
            {"from": "c", "to": "d", "action": "default"}
        ],
        "outputs": {"o": {"description": "Out.", "source": "${c.stdout}\n"}}
    });
    let Value::Object(ir) = ir else { unreachable!("an object literal") };
    let text = round_trip(&ir, &WriteOptions::default());
    assert!(text.contains("- looks_bool: \"off\""), "{text}");
}

#[test]
fn a_linear_json_workflow_writes_without_next_lines() {
    let ir = json!({"ir_version": "0.1.0", "nodes": [
        {"id": "a", "type": "echo", "purpose": "A.", "params": {"message": "hi"}},
        {"id": "b", "type": "echo", "purpose": "B.", "params": {"message": "${a.message}"}}
    ], "edges": [{"from": "a", "to": "b"}]});
    let Value::Object(ir) = ir else { unreachable!("an object literal") };
    let text = write(&ir, &WriteOptions { title: Some("greet"), ..WriteOptions::default() })
        .expect("writable");
    assert!(!text.contains("- next"), "{text}");
    let mut back = parse(&text).ir.expect("reads back");
    back.insert("ir_version".to_owned(), json!("0.1.0"));
    back.sort_keys();
    let mut ir = ir;
    ir.sort_keys();
    assert_eq!(back, ir);
}

#[test]
fn what_the_format_cannot_hold_is_an_error() {
    for (ir, path) in [
        (
            json!({"nodes": [{"id": "a", "type": "x", "purpose": "A."}], "template_resolution_mode": "strict"}),
            "template_resolution_mode",
        ),
        (json!({"nodes": [{"id": "Bad", "type": "x"}]}), "nodes[0].id"),
        (
            json!({"nodes": [{"id": "a", "type": "x", "params": {"batch": 1}}]}),
            "nodes[0].params.batch",
        ),
        (
            json!({"nodes": [{"id": "a", "type": "x", "params": {"type": 1}}]}),
            "nodes[0].params.type",
        ),
        (
            json!({"nodes": [{"id": "a", "type": "x", "retry": 1, "params": {"retry": 2}}]}),
            "nodes[0].params.retry",
        ),
        (
            json!({"nodes": [{"id": "a", "type": "x"}, {"id": "b", "type": "x"}], "edges": [{"from": "a", "to": "b", "action": "weird"}]}),
            "nodes[0]",
        ),
        (json!({"nodes": []}), "nodes"),
    ] {
        let Value::Object(ir) = ir else { unreachable!("an object literal") };
        match write(&ir, &WriteOptions::default()) {
            Err(pflow_md::WriteError::Unrepresentable { path: got, .. }) => assert_eq!(got, path),
            other => panic!("{other:?}"),
        }
    }
}
