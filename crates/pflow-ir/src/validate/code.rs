//! The static checks of a `code` node (SPEC §5.6), the ones pflow 0.16 makes before a
//! run: `result` or `next` declared, `next` annotated `str`, every input annotated, every
//! bare module-level annotation bound in `inputs`, and an input's annotation that
//! contradicts the declared type of the value its template takes (a workflow input's
//! `type`, a node's declared output, an upstream `code` node's `result` annotation).
//!
//! They run only when the catalog knows the `code` type and the node's `code` is a
//! literal string; code the scanner cannot read is left to the interpreter.

use serde_json::{Map, Value};

use super::shape::{IrView, NodeView};
use super::{Findings, key_path};
use crate::python::{Scan, scan};
use crate::template::{PathStep, Segment, parse_template};
use crate::{Diagnostic, NodeCatalog, ValueType};

/// The type name of the code node.
const CODE_TYPE: &str = "code";

/// The names a code node's annotations declare that are not inputs.
const OWN_NAMES: [&str; 2] = ["result", "next"];

/// Runs the checks on every `code` node.
pub(super) fn check(ir: &IrView<'_>, catalog: Option<&NodeCatalog>, findings: &mut Findings) {
    let Some(catalog) = catalog.filter(|c| c.get(CODE_TYPE).is_some()) else { return };
    for node in &ir.nodes {
        if node.ty != Some(CODE_TYPE) {
            continue;
        }
        let Some(params) = node.params else { continue };
        let Some(Value::String(code)) = params.get("code") else { continue };
        let empty = Map::new();
        let inputs = match params.get("inputs") {
            None => &empty,
            Some(Value::Object(inputs)) => inputs,
            Some(_) => continue,
        };
        let Some(found) = scan(code) else { continue };
        check_node(ir, catalog, node, &found, inputs, findings);
    }
}

fn check_node(
    ir: &IrView<'_>,
    catalog: &NodeCatalog,
    node: &NodeView<'_>,
    found: &Scan,
    inputs: &Map<String, Value>,
    findings: &mut Findings,
) {
    let params_path = key_path(&node.path, "params");
    let code_path = key_path(&params_path, "code");
    let inputs_path = key_path(&params_path, "inputs");
    let mut push = |d: Diagnostic| findings.push(node.place(), d);

    if !OWN_NAMES.iter().any(|n| found.everywhere.contains_key(*n)) {
        push(
            Diagnostic::error(&code_path, "the code declares neither `result` nor `next`")
                .with_hint(
                    "set the output with `result: <type> = ...`, or pick the next node with \
                     `next: str = \"<action>\"`",
                ),
        );
    }
    if let Some(annotation) = found.everywhere.get("next")
        && outer(annotation).is_some_and(|t| t != Outer::Known(ValueType::String))
    {
        push(
            Diagnostic::error(&code_path, format!("`next` is annotated `{annotation}`"))
                .with_hint("`next` names an action: write `next: str = \"<action>\"`"),
        );
    }

    for (key, value) in inputs {
        let annotation = found.top_annotation(key).filter(|_| !OWN_NAMES.contains(&key.as_str()));
        let Some(annotation) = annotation else {
            let ty = source_type(ir, catalog, value).map(|s| s.ty.python());
            let example = format!("{key}: {}", ty.unwrap_or("<type>"));
            push(
                Diagnostic::error(
                    key_path(&inputs_path, key),
                    format!("input `{key}` has no type annotation in the code"),
                )
                .with_hint(format!("add `{example}` at the top of the code")),
            );
            continue;
        };
        let Some(Outer::Known(expected)) = outer(&annotation.annotation) else { continue };
        let Some(source) = source_type(ir, catalog, value) else { continue };
        if !compatible(source.ty, expected) {
            let given = source.ty.python();
            let from = match &source.text {
                Some(text) => format!("`{text}`"),
                None => "text around a template, which makes a string".to_owned(),
            };
            push(
                Diagnostic::error(
                    key_path(&inputs_path, key),
                    format!(
                        "input `{key}` is annotated `{}` but receives `{given}` from {from}",
                        annotation.annotation
                    ),
                )
                .with_hint(format!(
                    "annotate it `{key}: {given}` (or `{key}: Any`), or bind a value of type \
                     `{}`",
                    expected.python()
                )),
            );
        }
    }

    for annotation in found.top.iter().filter(|a| a.bare) {
        let name = annotation.name.as_str();
        if OWN_NAMES.contains(&name) || inputs.contains_key(name) {
            continue;
        }
        let declared = format!("{name}: {}", annotation.annotation);
        let hint = if found.assigned.contains(name) {
            format!(
                "`{name}` is assigned in the code, so it is a local: remove `{declared}` (or \
                 write `{declared} = ...`), or bind it in `inputs` if it is meant as an input"
            )
        } else if found.loads.contains(name) {
            match crate::closest(name, inputs.keys().map(String::as_str)).first() {
                Some(close) => format!("rename the annotation to `{close}`, the input it may mean"),
                None => format!("bind it in `inputs`: `\"{name}\": \"${{...}}\"`"),
            }
        } else {
            format!("remove `{declared}`: it is never read")
        };
        push(
            Diagnostic::error(
                &code_path,
                format!("annotation `{declared}` has no entry in `inputs`"),
            )
            .with_hint(hint),
        );
    }
}

/// An annotation's outer type as validation knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outer {
    /// One of the six JSON types.
    Known(ValueType),
    /// A Python type without a JSON counterpart (`set`, `tuple`, `bytes`).
    Other,
}

/// The outer type of an annotation (`list[dict]` → array; `str | None` → string);
/// `None` when it is not checked (`Any`, a class, a `typing` form).
fn outer(annotation: &str) -> Option<Outer> {
    let text = annotation.trim();
    let inner = ["typing.Optional[", "Optional["]
        .iter()
        .find_map(|p| text.strip_prefix(p).and_then(|t| t.strip_suffix(']')))
        .map(str::trim)
        .map(str::to_owned)
        .or_else(|| {
            let parts: Vec<&str> = text.split('|').map(str::trim).collect();
            let rest: Vec<&str> = parts.iter().copied().filter(|p| *p != "None").collect();
            (parts.len() > rest.len() && !rest.is_empty()).then(|| rest.join(" | "))
        });
    if let Some(inner) = inner {
        return outer(&inner);
    }
    let unquoted = text
        .strip_prefix(['\'', '"'])
        .and_then(|t| t.strip_suffix(['\'', '"']))
        .unwrap_or(text)
        .trim();
    let base = unquoted.split('[').next().unwrap_or("").trim();
    Some(match base {
        "str" => Outer::Known(ValueType::String),
        "int" => Outer::Known(ValueType::Integer),
        "float" => Outer::Known(ValueType::Number),
        "bool" => Outer::Known(ValueType::Boolean),
        "dict" => Outer::Known(ValueType::Object),
        "list" => Outer::Known(ValueType::Array),
        "set" | "tuple" | "bytes" => Outer::Other,
        _ => return None,
    })
}

/// Whether a value of type `source` may be bound to an input annotated `target` (0.16's
/// matrix: numbers widen and stringify, a string may hold JSON that is parsed).
fn compatible(source: ValueType, target: ValueType) -> bool {
    use ValueType::{Array, Boolean, Integer, Number, Object, String};
    source == target
        || matches!(
            (source, target),
            (String, Object | Array)
                | (Integer | Number, Integer | Number | String)
                | (Boolean | Object | Array, String)
        )
}

/// The declared type of what an input's value gives, and the template it comes from
/// (`None` for text around a template, which gives a string).
struct Source {
    ty: ValueType,
    text: Option<String>,
}

/// The declared type of a template value; `None` when it is a literal, or when nothing
/// declares the type of what it refers to.
fn source_type(ir: &IrView<'_>, catalog: &NodeCatalog, value: &Value) -> Option<Source> {
    let Value::String(text) = value else { return None };
    if !text.contains('$') {
        return None;
    }
    let template = parse_template(text).ok()?;
    let segments = template.segments();
    let refs = segments.iter().filter(|s| matches!(s, Segment::Ref(_))).count();
    match segments {
        [Segment::Ref(r)] => {
            let ty = reference_type(ir, catalog, &r.root, &r.path)?;
            Some(Source { ty, text: Some(r.text.clone()) })
        }
        _ if refs > 0 => Some(Source { ty: ValueType::String, text: None }),
        _ => None,
    }
}

/// The declared type of `${root.path}`: a workflow input's `type`, a node's declared
/// output (one key deep), or an upstream `code` node's `result` annotation.
fn reference_type(
    ir: &IrView<'_>,
    catalog: &NodeCatalog,
    root: &str,
    path: &[PathStep],
) -> Option<ValueType> {
    if let Some(input) = ir.inputs.iter().find(|i| i.name == root) {
        return input.ty.filter(|_| path.is_empty());
    }
    let node = ir.nodes.iter().find(|n| n.id == Some(root))?;
    let [PathStep::Key(key)] = path else { return None };
    let ty = node.ty?;
    if ty == CODE_TYPE && key == "result" {
        let Some(Value::String(code)) = node.params?.get("code") else { return None };
        let annotation = scan(code)?.everywhere.get("result")?.clone();
        return match outer(&annotation)? {
            Outer::Known(t) => Some(t),
            Outer::Other => None,
        };
    }
    catalog.get(ty)?.output(key)?.ty
}

impl ValueType {
    /// The Python name of the type, as a `code` node's annotations write it.
    pub(crate) fn python(self) -> &'static str {
        match self {
            ValueType::String => "str",
            ValueType::Number => "float",
            ValueType::Integer => "int",
            ValueType::Boolean => "bool",
            ValueType::Object => "dict",
            ValueType::Array => "list",
        }
    }
}
