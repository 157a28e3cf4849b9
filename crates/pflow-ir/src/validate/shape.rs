//! The shape pass: reads a JSON value into a lenient view of an IR, reporting missing
//! fields, wrong types and unknown fields with their paths.
//!
//! The view keeps whatever could be read, so that later passes check the rest: a node
//! with a numeric `id` still has its `type` and `params` checked.

use serde_json::{Map, Value};

use super::fields::{self, FieldsView};
use super::{Findings, Place, Section, did_you_mean, index_path, key_path, quoted_list};
use crate::{Diagnostic, ValueType};

/// The fields of an IR object.
const IR_FIELDS: [&str; 6] = ["ir_version", "inputs", "outputs", "nodes", "edges", "start_node"];
/// The fields of an input declaration.
const INPUT_FIELDS: [&str; 4] = ["description", "required", "type", "default"];
/// The fields of an output declaration.
const OUTPUT_FIELDS: [&str; 3] = ["description", "type", "source"];
/// The fields of a node (0.16's `purpose`, `batch`, `loop`, `retry` and `cache` included).
const NODE_FIELDS: [&str; 8] =
    ["id", "type", "params", "purpose", "batch", "loop", "retry", "cache"];
/// The fields of an edge.
const EDGE_FIELDS: [&str; 3] = ["from", "to", "action"];

/// What could be read of an IR.
#[derive(Debug)]
pub(super) struct IrView<'v> {
    /// `ir_version`, when it is a string.
    pub(super) version: Option<&'v str>,
    pub(super) inputs: Vec<InputView<'v>>,
    pub(super) outputs: Vec<OutputView<'v>>,
    pub(super) nodes: Vec<NodeView<'v>>,
    pub(super) edges: Vec<EdgeView<'v>>,
    /// `start_node`, when it is a string.
    pub(super) start_node: Option<&'v str>,
}

/// A declared input.
#[derive(Debug)]
pub(super) struct InputView<'v> {
    pub(super) name: &'v str,
    /// Its position under `inputs`.
    pub(super) rank: usize,
    pub(super) path: String,
    /// `required` as written (absent or null: `None`).
    pub(super) required: Option<bool>,
    /// `type`, when it names a known type.
    pub(super) ty: Option<ValueType>,
    /// `default`, when present (`null` included).
    pub(super) default: Option<&'v Value>,
}

/// A declared output.
#[derive(Debug)]
pub(super) struct OutputView<'v> {
    pub(super) name: &'v str,
    pub(super) rank: usize,
    pub(super) path: String,
    /// `source`, when it is a string.
    pub(super) source: Option<&'v str>,
}

/// One entry of `inputs` or `outputs` that is an object.
struct Declaration<'v> {
    /// Its position in the section.
    rank: usize,
    name: &'v str,
    path: String,
    obj: &'v Map<String, Value>,
}

/// A node.
#[derive(Debug)]
pub(super) struct NodeView<'v> {
    /// Position among the nodes that are objects: the node's index in the graph.
    pub(super) index: usize,
    /// Position in the `nodes` array as written (the one in `path`), for ordering findings.
    pub(super) rank: usize,
    pub(super) path: String,
    /// `id`, when it is a string (valid or not).
    pub(super) id: Option<&'v str>,
    /// `type`, when it is a string.
    pub(super) ty: Option<&'v str>,
    /// `params`, when it is an object.
    pub(super) params: Option<&'v Map<String, Value>>,
    /// `batch`, `loop` and `retry`, as far as they could be read.
    pub(super) fields: FieldsView<'v>,
}

/// An edge.
#[derive(Debug)]
pub(super) struct EdgeView<'v> {
    pub(super) index: usize,
    pub(super) path: String,
    pub(super) from: Option<&'v str>,
    pub(super) to: Option<&'v str>,
    /// `action`, [`crate::DEFAULT_ACTION`] when absent or not a string.
    pub(super) action: &'v str,
}

impl NodeView<'_> {
    pub(super) fn place(&self) -> Place {
        (Section::Nodes, self.rank)
    }
}

impl EdgeView<'_> {
    pub(super) fn place(&self) -> Place {
        (Section::Edges, self.index)
    }
}

/// Reads `value` as an IR; `None` when it is not even an object.
pub(super) fn read<'v>(value: &'v Value, findings: &mut Findings) -> Option<IrView<'v>> {
    let Some(root) = value.as_object() else {
        findings.push(
            (Section::Root, 0),
            Diagnostic::error(
                "",
                format!("a workflow must be a JSON object, found {}", ValueType::phrase_of(value)),
            )
            .with_hint(r#"a workflow looks like {"ir_version": "0.1.0", "nodes": [...]}"#),
        );
        return None;
    };
    let mut r = Reader { findings };
    let document_like = root.contains_key("ir") && !root.contains_key("nodes");
    for key in root.keys().filter(|k| !IR_FIELDS.contains(&k.as_str())) {
        let mut d = r.unknown_field_diagnostic("", key, &IR_FIELDS, "a workflow");
        if key == "ir" && document_like {
            d = d.with_hint("this looks like a stored document: its workflow is under `ir`");
        }
        r.findings.push((Section::Root, 0), d);
    }

    let version_place = (Section::Version, 0);
    let version = match root.get("ir_version") {
        None => {
            r.findings.push(
                version_place,
                Diagnostic::error("ir_version", "missing required field `ir_version`")
                    .with_hint(r#"add "ir_version": "0.1.0""#),
            );
            None
        }
        Some(v) => r.string(v, "ir_version", version_place),
    };

    let inputs = match root.get("inputs") {
        Some(v) => r.inputs(v),
        None => Vec::new(),
    };
    let outputs = match root.get("outputs") {
        Some(v) => r.outputs(v),
        None => Vec::new(),
    };
    let nodes = match root.get("nodes") {
        None => {
            r.findings.push(
                (Section::Nodes, 0),
                Diagnostic::error("nodes", "missing required field `nodes`")
                    .with_hint("a workflow needs at least one node"),
            );
            Vec::new()
        }
        Some(v) => r.nodes(v),
    };
    let edges = match root.get("edges") {
        Some(v) => r.edges(v),
        None => Vec::new(),
    };
    let start_node = match root.get("start_node") {
        None | Some(Value::Null) => None,
        Some(v) => r.string(v, "start_node", (Section::Start, 0)),
    };
    Some(IrView { version, inputs, outputs, nodes, edges, start_node })
}

/// The view of a typed IR, whose shape is right by construction: only the one rule the
/// shape pass checks beyond types (at least one node) can fail.
pub(super) fn view<'v>(ir: &'v crate::WorkflowIr, findings: &mut Findings) -> IrView<'v> {
    if ir.nodes.is_empty() {
        findings.push((Section::Nodes, 0), no_nodes());
    }
    let inputs = ir
        .inputs
        .iter()
        .enumerate()
        .map(|(rank, (name, spec))| InputView {
            name,
            rank,
            path: key_path("inputs", name),
            required: spec.required,
            ty: spec.ty,
            default: spec.default.as_ref(),
        })
        .collect();
    let outputs = ir
        .outputs
        .iter()
        .enumerate()
        .map(|(rank, (name, spec))| OutputView {
            name,
            rank,
            path: key_path("outputs", name),
            source: spec.source.as_deref(),
        })
        .collect();
    let nodes = ir
        .nodes
        .iter()
        .enumerate()
        .map(|(index, node)| NodeView {
            index,
            rank: index,
            path: index_path("nodes", index),
            id: Some(&node.id),
            ty: Some(&node.ty),
            params: Some(&node.params),
            fields: FieldsView::of(node),
        })
        .collect();
    let edges = ir
        .edges
        .iter()
        .enumerate()
        .map(|(index, edge)| EdgeView {
            index,
            path: index_path("edges", index),
            from: Some(&edge.from),
            to: Some(&edge.to),
            action: edge.action(),
        })
        .collect();
    IrView {
        version: Some(&ir.ir_version),
        inputs,
        outputs,
        nodes,
        edges,
        start_node: ir.start_node.as_deref(),
    }
}

/// The finding for a workflow without nodes.
fn no_nodes() -> Diagnostic {
    Diagnostic::error("nodes", "a workflow needs at least one node").with_hint(
        r#"add a node such as {"id": "hello", "type": "echo", "params": {"message": "Hello"}}"#,
    )
}

struct Reader<'f> {
    findings: &'f mut Findings,
}

impl Reader<'_> {
    fn wrong_type(&mut self, place: Place, path: &str, expected: &str, value: &Value) {
        self.findings.push(
            place,
            Diagnostic::error(
                path,
                format!(
                    "`{}` must be {expected}, found {}",
                    last_name(path),
                    ValueType::phrase_of(value)
                ),
            ),
        );
    }

    fn string<'v>(&mut self, value: &'v Value, path: &str, place: Place) -> Option<&'v str> {
        match value {
            Value::String(s) => Some(s),
            other => {
                self.wrong_type(place, path, "a string", other);
                None
            }
        }
    }

    fn unknown_field_diagnostic(
        &self,
        parent: &str,
        key: &str,
        known: &[&str],
        what: &str,
    ) -> Diagnostic {
        let d =
            Diagnostic::error(key_path(parent, key), format!("unknown field `{key}` in {what}"));
        match did_you_mean(key, known.iter().copied()) {
            Some(hint) => d.with_hint(hint),
            None => d.with_hint(format!(
                "the fields of {what} are {}",
                quoted_list(known.iter().copied())
            )),
        }
    }

    fn unknown_fields(
        &mut self,
        obj: &Map<String, Value>,
        path: &str,
        known: &[&str],
        what: &str,
        place: Place,
    ) {
        for key in obj.keys().filter(|k| !known.contains(&k.as_str())) {
            let d = self.unknown_field_diagnostic(path, key, known, what);
            self.findings.push(place, d);
        }
    }

    /// An optional string field (`null` counts as absent, as in the typed IR).
    fn optional_string<'v>(
        &mut self,
        obj: &'v Map<String, Value>,
        key: &str,
        path: &str,
        place: Place,
    ) -> Option<&'v str> {
        match obj.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => self.string(v, &key_path(path, key), place),
        }
    }

    /// A required string field.
    fn required_string<'v>(
        &mut self,
        obj: &'v Map<String, Value>,
        key: &str,
        path: &str,
        what: &str,
        place: Place,
    ) -> Option<&'v str> {
        match obj.get(key) {
            None => {
                self.findings.push(
                    place,
                    Diagnostic::error(
                        path,
                        format!("{what} is missing its required field `{key}`"),
                    ),
                );
                None
            }
            Some(v) => self.string(v, &key_path(path, key), place),
        }
    }

    fn declared_type(
        &mut self,
        obj: &Map<String, Value>,
        path: &str,
        place: Place,
    ) -> Option<ValueType> {
        let raw = self.optional_string(obj, "type", path, place)?;
        let parsed = ValueType::parse(raw);
        if parsed.is_none() {
            let names = ValueType::ALL.map(ValueType::as_str);
            let hint = alias_of(raw)
                .map(|t| format!("did you mean `{t}`?"))
                .or_else(|| did_you_mean(raw, names))
                .unwrap_or_else(|| format!("the types are {}", quoted_list(names)));
            self.findings.push(
                place,
                Diagnostic::error(key_path(path, "type"), format!("unknown type `{raw}`"))
                    .with_hint(hint),
            );
        }
        parsed
    }

    /// The declarations of the `key` section (`inputs` or `outputs`, filed under
    /// `section`): each entry's rank, name, path and object. A section that is not an
    /// object, and each entry that is not one, is reported (as `what` declarations, with
    /// `hint`) and skipped.
    fn declarations<'v>(
        &mut self,
        value: &'v Value,
        section: Section,
        key: &str,
        what: &str,
        hint: &str,
    ) -> Vec<Declaration<'v>> {
        let Some(map) = value.as_object() else {
            let expected = format!("an object of {what} declarations");
            self.wrong_type((section, 0), key, &expected, value);
            return Vec::new();
        };
        let mut declarations = Vec::new();
        for (rank, (name, decl)) in map.iter().enumerate() {
            let path = key_path(key, name);
            let Some(obj) = decl.as_object() else {
                let message = format!(
                    "an {what} declaration must be an object, found {}",
                    ValueType::phrase_of(decl)
                );
                self.findings
                    .push((section, rank), Diagnostic::error(&path, message).with_hint(hint));
                continue;
            };
            declarations.push(Declaration { rank, name, path, obj });
        }
        declarations
    }

    fn inputs<'v>(&mut self, value: &'v Value) -> Vec<InputView<'v>> {
        let hint = r#"write {"type": "string", "description": "..."}"#;
        let mut inputs = Vec::new();
        for Declaration { rank, name, path, obj } in
            self.declarations(value, Section::Inputs, "inputs", "input", hint)
        {
            let place = (Section::Inputs, rank);
            self.unknown_fields(obj, &path, &INPUT_FIELDS, "an input", place);
            self.optional_string(obj, "description", &path, place);
            let required = match obj.get("required") {
                None | Some(Value::Null) => None,
                Some(Value::Bool(b)) => Some(*b),
                Some(other) => {
                    self.wrong_type(place, &key_path(&path, "required"), "a boolean", other);
                    None
                }
            };
            let ty = self.declared_type(obj, &path, place);
            inputs.push(InputView { name, rank, path, required, ty, default: obj.get("default") });
        }
        inputs
    }

    fn outputs<'v>(&mut self, value: &'v Value) -> Vec<OutputView<'v>> {
        let hint = r#"write {"source": "${node.key}", "description": "..."}"#;
        let mut outputs = Vec::new();
        for Declaration { rank, name, path, obj } in
            self.declarations(value, Section::Outputs, "outputs", "output", hint)
        {
            let place = (Section::Outputs, rank);
            self.unknown_fields(obj, &path, &OUTPUT_FIELDS, "an output", place);
            self.optional_string(obj, "description", &path, place);
            self.declared_type(obj, &path, place);
            let source = self.optional_string(obj, "source", &path, place);
            outputs.push(OutputView { name, rank, path, source });
        }
        outputs
    }

    fn nodes<'v>(&mut self, value: &'v Value) -> Vec<NodeView<'v>> {
        let Some(items) = value.as_array() else {
            self.wrong_type((Section::Nodes, 0), "nodes", "an array of nodes", value);
            return Vec::new();
        };
        if items.is_empty() {
            self.findings.push((Section::Nodes, 0), no_nodes());
        }
        let mut nodes = Vec::new();
        for (rank, item) in items.iter().enumerate() {
            let path = index_path("nodes", rank);
            let place = (Section::Nodes, rank);
            let Some(obj) = item.as_object() else {
                self.findings.push(
                    place,
                    Diagnostic::error(
                        &path,
                        format!("a node must be an object, found {}", ValueType::phrase_of(item)),
                    )
                    .with_hint(r#"write {"id": "...", "type": "...", "params": {...}}"#),
                );
                continue;
            };
            self.unknown_fields(obj, &path, &NODE_FIELDS, "a node", place);
            let id = self.required_string(obj, "id", &path, "the node", place);
            let ty = self.required_string(obj, "type", &path, "the node", place);
            let params = match obj.get("params") {
                None => None,
                Some(Value::Object(map)) => Some(map),
                Some(other) => {
                    self.wrong_type(place, &key_path(&path, "params"), "an object", other);
                    None
                }
            };
            let fields = fields::read(obj, &path, place, self.findings);
            // Nodes that are not objects were reported above and take no part in the
            // graph, so graph indexes count only the nodes kept here.
            nodes.push(NodeView { index: nodes.len(), rank, path, id, ty, params, fields });
        }
        nodes
    }

    fn edges<'v>(&mut self, value: &'v Value) -> Vec<EdgeView<'v>> {
        let Some(items) = value.as_array() else {
            self.wrong_type((Section::Edges, 0), "edges", "an array of edges", value);
            return Vec::new();
        };
        let mut edges = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let path = index_path("edges", index);
            let place = (Section::Edges, index);
            let Some(obj) = item.as_object() else {
                self.findings.push(
                    place,
                    Diagnostic::error(
                        &path,
                        format!("an edge must be an object, found {}", ValueType::phrase_of(item)),
                    )
                    .with_hint(r#"write {"from": "...", "to": "..."}"#),
                );
                continue;
            };
            self.unknown_fields(obj, &path, &EDGE_FIELDS, "an edge", place);
            let from = self.required_string(obj, "from", &path, "the edge", place);
            let to = self.required_string(obj, "to", &path, "the edge", place);
            let action =
                self.optional_string(obj, "action", &path, place).unwrap_or(crate::DEFAULT_ACTION);
            edges.push(EdgeView { index, path, from, to, action });
        }
        edges
    }
}

/// The last name of a path, for messages (`nodes[0].params` → `params`).
fn last_name(path: &str) -> &str {
    let tail = path.rsplit('.').next().unwrap_or(path);
    match tail.find('[') {
        Some(0) | None => tail,
        Some(i) => &tail[..i],
    }
}

/// The IR spelling of a type name from another language (`int` → `integer`).
fn alias_of(name: &str) -> Option<&'static str> {
    Some(match name.to_ascii_lowercase().as_str() {
        "str" | "text" => "string",
        "int" | "long" => "integer",
        "float" | "double" | "decimal" => "number",
        "bool" => "boolean",
        "dict" | "map" | "json" => "object",
        "list" | "tuple" => "array",
        _ => return None,
    })
}
