//! The helper that accepts a bare IR or a stored document.

use pflow_ir::WorkflowSource;
use serde_json::json;

#[test]
fn a_bare_ir_is_its_own_source() {
    let value = json!({ "ir_version": "0.1.0", "nodes": [{ "id": "a", "type": "echo" }] });
    let source = WorkflowSource::from_value(&value);
    assert!(!source.is_document());
    assert_eq!(source.ir, &value);
    assert_eq!(source.path_prefix, "");
    assert_eq!((source.name, source.description), (None, None));
    let checked = source.validate(None);
    assert!(checked.diagnostics().is_empty());
    assert_eq!(checked.ir().unwrap().nodes[0].id, "a");
}

#[test]
fn a_document_gives_its_ir_and_metadata() {
    let value = json!({
        "name": "fix-issue",
        "description": "Fixes issues",
        "ir": { "ir_version": "0.1.0", "nodes": [{ "id": "a", "type": "echo", "bad": 1 }] },
        "created_at": "2025-01-29T10:00:00+00:00",
    });
    let source = WorkflowSource::from_value(&value);
    assert!(source.is_document());
    assert_eq!(source.ir, &value["ir"]);
    assert_eq!(source.path_prefix, "ir");
    assert_eq!(source.name, Some("fix-issue"));
    assert_eq!(source.description, Some("Fixes issues"));
    let checked = source.validate(None);
    let paths: Vec<&str> = checked.diagnostics().iter().map(|d| d.path.as_str()).collect();
    assert_eq!(paths, ["ir.nodes[0].bad"]);
}

#[test]
fn a_document_whose_ir_is_not_an_object_is_reported_at_ir() {
    let value = json!({ "name": "x", "ir": [] });
    let checked = WorkflowSource::from_value(&value).validate(None);
    let d = checked.diagnostics().iter().next().unwrap();
    assert_eq!(d.path, "ir");
    assert_eq!(d.message, "a workflow must be a JSON object, found an array");
}

#[test]
fn an_object_with_nodes_is_a_bare_ir_even_with_an_ir_key() {
    let value =
        json!({ "ir_version": "0.1.0", "ir": {}, "nodes": [{ "id": "a", "type": "echo" }] });
    let source = WorkflowSource::from_value(&value);
    assert!(!source.is_document());
    let checked = source.validate(None);
    assert_eq!(checked.diagnostics().iter().next().unwrap().path, "ir");
}
