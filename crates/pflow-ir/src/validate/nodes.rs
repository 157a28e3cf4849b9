//! The node pass: node types and parameters against the catalog, and the nested
//! `workflow` node (SPEC §5.4), whose inline `workflow_ir` is validated recursively.

use std::borrow::Cow;
use std::collections::HashSet;

use serde_json::{Map, Value};

use super::shape::{IrView, NodeView};
use super::{Findings, check_value, did_you_mean, join_path, key_path, quoted_list};
use crate::template::{Segment, parse_template};
use crate::{
    Diagnostic, NodeCatalog, NodeSpec, ParamRules, ParamSpec, ValueType, WorkflowName, check_param,
};

/// The largest `max_depth` a `workflow` node may ask for; deeper nesting is refused so a
/// run can never exhaust the stack. Validation checks it when the catalog has no spec for
/// the `workflow` node (the runtime's spec says the same).
pub const MAX_WORKFLOW_DEPTH: u64 = 64;

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
            check_workflow_node(node, catalog, spec, &roots, findings);
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
        if let Some(reason) = spec.and_then(|s| s.unavailable.as_deref()) {
            findings.push(
                node.place(),
                Diagnostic::error(
                    key_path(&node.path, "type"),
                    format!("node type `{ty}` cannot run on this machine"),
                )
                .with_hint(reason),
            );
        }
        if catalog.is_some() {
            check_params(node, ty, spec, &roots, findings);
        }
    }
}

/// Unknown parameters, missing required ones and literal values their spec refuses.
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
        check_literal(node, ty, param, value, &path, roots, findings);
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

/// Checks a literal param value with the rule the runtime applies to resolved values
/// ([`check_param`]); what is known only at run time (a string holding a template, or
/// such an entry of an object) is left to the runtime.
fn check_literal(
    node: &NodeView<'_>,
    ty: &str,
    param: &ParamSpec,
    value: &Value,
    path: &str,
    roots: &HashSet<&str>,
    findings: &mut Findings,
) {
    let Some(literal) = literal_value(value, roots) else { return };
    let Err(problem) = check_param(param, &literal) else { return };
    let path = match &problem.key {
        Some(key) => key_path(path, key),
        None => path.to_owned(),
    };
    let d = Diagnostic::error(
        path,
        format!("parameter `{}` of `{ty}` {}", problem.subject(&param.name), problem.message),
    );
    findings.push(node.place(), if let Some(hint) = problem.hint { d.with_hint(hint) } else { d });
}

/// The value the runtime sees for `value` when it holds no template: strings with `$$`
/// turned into `$` (a bare `$name` that is no reference stays as written), and an object
/// without the entries that hold templates (so the others are still checked). `None` when
/// `value` is a string holding a template, or one that is not a well-formed template (the
/// template pass reports it).
fn literal_value<'v>(value: &'v Value, roots: &HashSet<&str>) -> Option<Cow<'v, Value>> {
    match value {
        Value::String(s) => Some(match literal_str(s, roots)? {
            Cow::Borrowed(_) => Cow::Borrowed(value),
            Cow::Owned(text) => Cow::Owned(Value::String(text)),
        }),
        Value::Object(map) if map.values().any(|v| v.as_str().is_some_and(|s| s.contains('$'))) => {
            let entries = map.iter().filter_map(|(key, entry)| match entry {
                Value::String(s) => literal_str(s, roots)
                    .map(|text| (key.clone(), Value::String(text.into_owned()))),
                other => Some((key.clone(), other.clone())),
            });
            Some(Cow::Owned(Value::Object(entries.collect())))
        }
        other => Some(Cow::Borrowed(other)),
    }
}

/// A string as the runtime resolves it when it holds no template; see [`literal_value`].
fn literal_str<'s>(s: &'s str, roots: &HashSet<&str>) -> Option<Cow<'s, str>> {
    if !s.contains('$') {
        return Some(Cow::Borrowed(s));
    }
    let template = parse_template(s).ok()?;
    if template.has_active_refs(|root| roots.contains(root)) {
        return None;
    }
    let text = template
        .segments()
        .iter()
        .map(|segment| match segment {
            Segment::Text(text) => text.as_str(),
            Segment::Ref(r) => r.text.as_str(),
        })
        .collect();
    Some(Cow::Owned(text))
}

/// The rule for `max_depth` when the catalog has no spec for the `workflow` node.
fn fallback_max_depth() -> ParamSpec {
    ParamSpec {
        name: "max_depth".to_owned(),
        description: "How deep nested workflows may go".to_owned(),
        ty: Some(ValueType::Integer),
        required: false,
        default: None,
        rules: ParamRules::default(),
    }
    .with_range(0..=MAX_WORKFLOW_DEPTH)
}

/// The `workflow` node's own rules: one source, its mappings, an inline child validated
/// recursively, and `max_depth` when the catalog has no `spec` for the node.
fn check_workflow_node(
    node: &NodeView<'_>,
    catalog: Option<&NodeCatalog>,
    spec: Option<&NodeSpec>,
    roots: &HashSet<&str>,
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
    if spec.is_none()
        && let Some(value) = params.get("max_depth")
    {
        let path = key_path(&params_path, "max_depth");
        check_literal(node, WORKFLOW_TYPE, &fallback_max_depth(), value, &path, roots, findings);
    }
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
