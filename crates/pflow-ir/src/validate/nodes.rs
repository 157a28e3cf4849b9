//! The node pass: node types and parameters against the catalog, and the nested
//! `workflow` node (SPEC §5.4), whose inline `workflow_ir` is validated recursively.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::shape::{IrView, NodeView};
use super::{Findings, check_value, did_you_mean, join_path, key_path, quoted_list};
use crate::template::parse_template;
use crate::{Diagnostic, NodeCatalog, NodeSpec, ValueType, WorkflowName};

/// The type name of the nested-workflow node, known with or without a catalog.
pub(super) const WORKFLOW_TYPE: &str = "workflow";
/// The three ways a `workflow` node names its child; exactly one must be given.
const WORKFLOW_SOURCES: [&str; 3] = ["workflow_name", "workflow_ref", "workflow_ir"];
/// Parameters of the `workflow` node checked here rather than by their declared type.
const WORKFLOW_OWN_PARAMS: [&str; 5] =
    ["workflow_name", "workflow_ref", "workflow_ir", "param_mapping", "output_mapping"];
/// Parameters of the `workflow` node when the catalog has no spec for it.
const WORKFLOW_PARAMS: [&str; 6] = [
    "workflow_name",
    "workflow_ref",
    "workflow_ir",
    "param_mapping",
    "output_mapping",
    "max_depth",
];

/// Runs the node checks.
pub(super) fn check(ir: &IrView<'_>, catalog: Option<&NodeCatalog>, findings: &mut Findings) {
    let roots: HashSet<&str> =
        ir.inputs.iter().map(|i| i.name).chain(ir.nodes.iter().filter_map(|n| n.id)).collect();
    for node in &ir.nodes {
        let Some(ty) = node.ty else { continue };
        let spec = catalog.and_then(|c| c.get(ty));
        if ty == WORKFLOW_TYPE {
            check_workflow_node(node, catalog, findings);
        } else if let (Some(catalog), None) = (catalog, spec) {
            let mut names: Vec<&str> = catalog.names().chain([WORKFLOW_TYPE]).collect();
            names.sort_unstable();
            names.dedup();
            let d = Diagnostic::error(
                key_path(&node.path, "type"),
                format!("unknown node type `{ty}`"),
            );
            let d = match did_you_mean(ty, names.iter().copied()) {
                Some(hint) => d.with_hint(hint),
                None => d.with_hint(format!("the node types are {}", quoted_list(names))),
            };
            findings.push(node.place(), d);
            continue;
        }
        if catalog.is_some() {
            check_params(node, ty, spec, &roots, findings);
        }
    }
}

/// Unknown parameters, missing required ones and literals of the wrong type.
fn check_params(
    node: &NodeView<'_>,
    ty: &str,
    spec: Option<&NodeSpec>,
    roots: &HashSet<&str>,
    findings: &mut Findings,
) {
    let empty = Map::new();
    let params = node.params.unwrap_or(&empty);
    let params_path = key_path(&node.path, "params");
    let is_workflow = ty == WORKFLOW_TYPE;
    let known: Vec<&str> = match spec {
        Some(spec) => spec.params.iter().map(|p| p.name.as_str()).collect(),
        None if is_workflow => WORKFLOW_PARAMS.to_vec(),
        None => return,
    };
    for (key, value) in params {
        let path = key_path(&params_path, key);
        let Some(param) = spec.and_then(|s| s.param(key)) else {
            if !known.contains(&key.as_str()) {
                let d = Diagnostic::error(&path, format!("unknown parameter `{key}` for `{ty}`"));
                let d = match did_you_mean(key, known.iter().copied()) {
                    Some(hint) => d.with_hint(hint),
                    None if known.is_empty() => d.with_hint(format!("`{ty}` takes no parameters")),
                    None => {
                        d.with_hint(format!("`{ty}` takes {}", quoted_list(known.iter().copied())))
                    }
                };
                findings.push(node.place(), d);
            }
            continue;
        };
        if is_workflow && WORKFLOW_OWN_PARAMS.contains(&key.as_str()) {
            continue;
        }
        let Some(expected) = param.ty else { continue };
        if expected.matches(value) || holds_template(value, roots) {
            continue;
        }
        findings.push(
            node.place(),
            Diagnostic::error(
                &path,
                format!(
                    "parameter `{key}` of `{ty}` must be {}, found {}",
                    expected.phrase(),
                    ValueType::phrase_of(value)
                ),
            ),
        );
    }
    if let Some(spec) = spec {
        for param in spec.params.iter().filter(|p| p.required && !params.contains_key(&p.name)) {
            if is_workflow && WORKFLOW_OWN_PARAMS.contains(&param.name.as_str()) {
                continue;
            }
            findings.push(
                node.place(),
                Diagnostic::error(
                    &params_path,
                    format!("missing required parameter `{}` for `{ty}`", param.name),
                )
                .with_hint(format!("`{}`: {}", param.name, param.description)),
            );
        }
    }
}

/// Whether `value` is a string that holds a template (so its type is known only at run
/// time); a string that is not a well-formed template counts too, as the template pass
/// reports it.
fn holds_template(value: &Value, roots: &HashSet<&str>) -> bool {
    let Value::String(s) = value else { return false };
    match parse_template(s) {
        Ok(t) => t.has_active_refs(|root| roots.contains(root)),
        Err(_) => true,
    }
}

fn check_workflow_node(
    node: &NodeView<'_>,
    catalog: Option<&NodeCatalog>,
    findings: &mut Findings,
) {
    let empty = Map::new();
    let params = node.params.unwrap_or(&empty);
    let params_path = key_path(&node.path, "params");
    // Reported at `params` even when it is absent: that is where the fix goes, and an
    // empty `params` is not serialized by the typed IR.
    let at = params_path.clone();

    let given: Vec<&str> = WORKFLOW_SOURCES
        .into_iter()
        .filter(|k| params.get(*k).is_some_and(|v| !v.is_null()))
        .collect();
    let all = quoted_list(WORKFLOW_SOURCES);
    match given.len() {
        1 => {}
        0 => findings.push(
            node.place(),
            Diagnostic::error(
                &at,
                format!("a `workflow` node needs one of {all}, found none"),
            )
            .with_hint("`workflow_name` calls a saved workflow, `workflow_ref` a JSON file, `workflow_ir` an inline one"),
        ),
        _ => findings.push(
            node.place(),
            Diagnostic::error(
                &at,
                format!(
                    "a `workflow` node takes exactly one of {all}, found {}",
                    quoted_list(given.iter().copied())
                ),
            )
            .with_hint("keep the one that names the child workflow and remove the others"),
        ),
    }

    if let Some(value) = params.get("workflow_name").filter(|v| !v.is_null()) {
        let path = key_path(&params_path, "workflow_name");
        match value {
            Value::String(name) if name.contains('$') => {}
            Value::String(name) => {
                if let Err(e) = WorkflowName::new(name) {
                    findings.push(
                        node.place(),
                        Diagnostic::error(&path, e.to_string()).with_hint(e.hint()),
                    );
                }
            }
            other => findings
                .push(node.place(), wrong_type(&path, "a string (a saved workflow's name)", other)),
        }
    }
    if let Some(value) = params.get("workflow_ref").filter(|v| !v.is_null()) {
        let path = key_path(&params_path, "workflow_ref");
        match value {
            Value::String(s) if s.is_empty() => findings.push(
                node.place(),
                Diagnostic::error(&path, "`workflow_ref` cannot be empty")
                    .with_hint("give the path of a JSON file, relative to this workflow's file"),
            ),
            Value::String(_) => {}
            other => {
                findings.push(node.place(), wrong_type(&path, "a string (a file path)", other))
            }
        }
    }
    let child = match params.get("workflow_ir").filter(|v| !v.is_null()) {
        Some(Value::Object(child)) => Some(child),
        Some(other) => {
            let path = key_path(&params_path, "workflow_ir");
            findings.push(node.place(), wrong_type(&path, "an object (an inline workflow)", other));
            None
        }
        None => None,
    };
    if child.is_some() {
        let path = key_path(&params_path, "workflow_ir");
        let child_value = params.get("workflow_ir").expect("checked above");
        for d in check_value(child_value, catalog) {
            let path = join_path(&path, &d.path);
            findings.push(node.place(), crate::Diagnostic { path, ..d });
        }
    }
    check_mappings(node, params, &params_path, child, findings);
}

/// `param_mapping` and `output_mapping`: their types, and with an inline child, their
/// names against the child's inputs and outputs.
fn check_mappings(
    node: &NodeView<'_>,
    params: &Map<String, Value>,
    params_path: &str,
    child: Option<&Map<String, Value>>,
    findings: &mut Findings,
) {
    let child_inputs = child.map(|c| c.get("inputs").and_then(Value::as_object));
    let child_outputs = child.map(|c| c.get("outputs").and_then(Value::as_object));

    if let Some(value) = params.get("param_mapping") {
        let path = key_path(params_path, "param_mapping");
        match value {
            Value::Object(mapping) => {
                if let Some(inputs) = child_inputs {
                    check_param_mapping(node, mapping, &path, inputs, findings);
                }
            }
            other => findings
                .push(node.place(), wrong_type(&path, "an object (child input → value)", other)),
        }
    } else if let Some(Some(inputs)) = child_inputs {
        check_param_mapping(node, &Map::new(), params_path, Some(inputs), findings);
    }

    if let Some(value) = params.get("output_mapping") {
        let path = key_path(params_path, "output_mapping");
        let Value::Object(mapping) = value else {
            findings
                .push(node.place(), wrong_type(&path, "an object (child output → name)", value));
            return;
        };
        for (key, target) in mapping {
            let entry = key_path(&path, key);
            if !target.is_string() {
                findings.push(
                    node.place(),
                    wrong_type(&entry, "a string (the name under this node)", target),
                );
            }
            if let Some(outputs) = child_outputs {
                let declared = outputs.is_some_and(|o| o.contains_key(key));
                if !declared {
                    let names = outputs
                        .map(|o| o.keys().map(String::as_str).collect::<Vec<_>>())
                        .unwrap_or_default();
                    let d = Diagnostic::error(
                        &entry,
                        format!("the child workflow has no output `{key}`"),
                    );
                    let d = match did_you_mean(key, names.iter().copied()) {
                        Some(hint) => d.with_hint(hint),
                        None if names.is_empty() => d.with_hint("the child declares no outputs"),
                        None => d.with_hint(format!(
                            "its outputs are {}",
                            quoted_list(names.iter().copied())
                        )),
                    };
                    findings.push(node.place(), d);
                }
            }
        }
    }
}

fn check_param_mapping(
    node: &NodeView<'_>,
    mapping: &Map<String, Value>,
    path: &str,
    inputs: Option<&Map<String, Value>>,
    findings: &mut Findings,
) {
    let names: Vec<&str> =
        inputs.map(|i| i.keys().map(String::as_str).collect()).unwrap_or_default();
    for key in mapping.keys() {
        if names.contains(&key.as_str()) {
            continue;
        }
        let d = Diagnostic::error(
            key_path(path, key),
            format!("the child workflow has no input `{key}`"),
        );
        let d = match did_you_mean(key, names.iter().copied()) {
            Some(hint) => d.with_hint(hint),
            None if names.is_empty() => d.with_hint("the child declares no inputs"),
            None => d.with_hint(format!("its inputs are {}", quoted_list(names.iter().copied()))),
        };
        findings.push(node.place(), d);
    }
    let Some(inputs) = inputs else { return };
    for (name, decl) in inputs {
        let required = decl.get("required").and_then(Value::as_bool).unwrap_or(true);
        let has_default = decl.get("default").is_some();
        if required && !has_default && !mapping.contains_key(name) {
            findings.push(
                node.place(),
                Diagnostic::error(
                    path,
                    format!("the child workflow's required input `{name}` is not mapped"),
                )
                .with_hint(format!("add \"{name}\": \"...\" to `param_mapping`")),
            );
        }
    }
}

fn wrong_type(path: &str, expected: &str, value: &Value) -> Diagnostic {
    let name = path.rsplit('.').next().unwrap_or(path);
    Diagnostic::error(
        path,
        format!("`{name}` must be {expected}, found {}", ValueType::phrase_of(value)),
    )
}
