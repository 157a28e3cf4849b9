//! The planning context: the full interface of a selection of node types and workflows.

use std::fmt;

use pflow_ir::{Document, Lines, NodeCatalog, NodeSpec, ValueType, escape_controls};
use pflow_store::{StoreError, WorkflowManager};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::text::{json_inline, one_line};
use crate::{ContextError, ContextResult, UnknownName, UnknownNames};

/// The node types and saved workflows a planner chose, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Node type names.
    pub nodes: Vec<String>,
    /// Saved workflow names.
    pub workflows: Vec<String>,
}

/// What a planner needs to wire the chosen node types and workflows into a workflow.
///
/// Entries keep the order they were asked for (a repeated name appears once). Its
/// [`Display`](fmt::Display) is the markdown for a prompt; its JSON form holds the same
/// content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlanningContext {
    /// The chosen node types, with params and outputs.
    pub nodes: Vec<NodeSpec>,
    /// The chosen saved workflows, with inputs and outputs.
    pub workflows: Vec<WorkflowInterface>,
}

/// The interface of a saved workflow: how to call it and what it returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowInterface {
    /// The name other workflows call it by.
    pub name: String,
    /// Its whole description.
    pub description: String,
    /// Its inputs, in declaration order.
    pub inputs: Vec<InputInterface>,
    /// Its outputs, in declaration order.
    pub outputs: Vec<OutputInterface>,
}

/// One input of a saved workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputInterface {
    /// The input's name (a key of `param_mapping`).
    pub name: String,
    /// Its JSON type; `None` accepts any value.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub ty: Option<ValueType>,
    /// Whether a caller must supply it.
    pub required: bool,
    /// The value used when a caller supplies none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// What it is for (may be empty).
    pub description: String,
}

/// One output of a saved workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputInterface {
    /// The output's name (a key under the calling node's id).
    pub name: String,
    /// Its JSON type; `None` when it varies.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub ty: Option<ValueType>,
    /// What it is (may be empty).
    pub description: String,
}

impl WorkflowInterface {
    /// The interface of a stored document.
    pub fn of(doc: &Document) -> WorkflowInterface {
        WorkflowInterface {
            name: doc.name.to_string(),
            description: doc.description.trim().to_owned(),
            inputs: doc
                .ir
                .inputs
                .iter()
                .map(|(name, spec)| InputInterface {
                    name: name.clone(),
                    ty: spec.ty,
                    required: spec.is_required(),
                    default: spec.default.clone(),
                    description: spec.description.clone().unwrap_or_default(),
                })
                .collect(),
            outputs: doc
                .ir
                .outputs
                .iter()
                .map(|(name, spec)| OutputInterface {
                    name: name.clone(),
                    ty: spec.ty,
                    description: spec.description.clone().unwrap_or_default(),
                })
                .collect(),
        }
    }
}

/// The planning context of `selection`: node types from `catalog`, workflows loaded
/// through `manager`.
///
/// Every name is checked before anything is returned: if any is unknown, the error lists
/// all of them (node types and workflows apart) with "did you mean" suggestions.
pub fn plan(
    catalog: &NodeCatalog,
    manager: &WorkflowManager,
    selection: &Selection,
) -> ContextResult<PlanningContext> {
    let mut context = PlanningContext::default();
    let mut unknown = UnknownNames::default();

    for name in unique(&selection.nodes) {
        match catalog.get(name) {
            Some(spec) => context.nodes.push(spec.clone()),
            None => unknown.nodes.push(UnknownName {
                name: name.to_owned(),
                suggestions: owned(pflow_ir::closest(name, catalog.names())),
            }),
        }
    }

    let mut unreadable = None;
    let mut saved_names: Option<Vec<String>> = None;
    for name in unique(&selection.workflows) {
        match manager.load(name) {
            Ok(doc) => context.workflows.push(WorkflowInterface::of(&doc)),
            Err(StoreError::WorkflowNotFound { suggestions, .. }) => {
                let suggestions = suggestions.iter().map(ToString::to_string).collect();
                unknown.workflows.push(UnknownName { name: name.to_owned(), suggestions });
            }
            // A name no workflow can have (`Fix_Issue`) is unknown all the same; the
            // closest saved names are the useful answer.
            Err(StoreError::InvalidName(_)) => {
                let saved = match &saved_names {
                    Some(saved) => saved,
                    None => saved_names.insert(list_names(manager)?),
                };
                let suggestions = owned(pflow_ir::closest(name, saved.iter().map(String::as_str)));
                unknown.workflows.push(UnknownName { name: name.to_owned(), suggestions });
            }
            Err(source) => {
                unreadable
                    .get_or_insert(ContextError::Unreadable { name: name.to_owned(), source });
            }
        }
    }

    // Unknown names are most likely the caller's typos, so they are reported first and
    // all together; an unreadable workflow is the store's problem.
    if !unknown.is_empty() {
        return Err(ContextError::UnknownNames(unknown));
    }
    match unreadable {
        Some(error) => Err(error),
        None => Ok(context),
    }
}

impl PlanningContext {
    /// The context as markdown for a prompt (the same text as its `Display`).
    pub fn to_markdown(&self) -> String {
        self.to_string()
    }
}

/// The markdown escapes control characters in every name, description and default
/// (`\u{1b}`; a whole description keeps its lines and tabs), so stored text cannot act on
/// the terminal it is printed to; the fields themselves, and so the JSON form, hold the
/// text as stored.
impl fmt::Display for PlanningContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut section = |f: &mut fmt::Formatter<'_>| -> fmt::Result {
            if !std::mem::replace(&mut first, false) {
                writeln!(f)?;
            }
            Ok(())
        };
        if !self.nodes.is_empty() {
            section(f)?;
            writeln!(f, "# Node types")?;
            writeln!(f)?;
            writeln!(f, "A later node reads a node's outputs as `${{NODE_ID.KEY}}`.")?;
            for node in &self.nodes {
                writeln!(f)?;
                write_node(f, node)?;
            }
        }
        if !self.workflows.is_empty() {
            section(f)?;
            writeln!(f, "# Saved workflows")?;
            writeln!(f)?;
            writeln!(
                f,
                "Call one from a node of type `workflow` with `params.workflow_name`; pass its \
                 inputs in `params.param_mapping`. Its outputs become the calling node's outputs."
            )?;
            for workflow in &self.workflows {
                writeln!(f)?;
                write_workflow(f, workflow)?;
            }
        }
        Ok(())
    }
}

fn write_node(f: &mut fmt::Formatter<'_>, node: &NodeSpec) -> fmt::Result {
    writeln!(f, "## `{}`", escape_controls(&node.name, Lines::One))?;
    writeln!(f)?;
    if !node.description.trim().is_empty() {
        writeln!(f, "{}", escape_controls(node.description.trim(), Lines::Many))?;
        writeln!(f)?;
    }
    if node.params.is_empty() {
        writeln!(f, "Params: none.")?;
    } else {
        writeln!(f, "Params:")?;
        for p in &node.params {
            item(f, &p.name, p.ty, Some(p.required), p.default.as_ref(), &p.description)?;
        }
    }
    writeln!(f)?;
    if node.outputs.is_empty() && !node.dynamic_outputs {
        writeln!(f, "Outputs: none.")?;
    } else {
        writeln!(f, "Outputs:")?;
        for o in &node.outputs {
            item(f, &o.name, o.ty, None, None, &o.description)?;
        }
        if node.dynamic_outputs {
            writeln!(f, "- other keys, known only at run time")?;
        }
    }
    Ok(())
}

fn write_workflow(f: &mut fmt::Formatter<'_>, workflow: &WorkflowInterface) -> fmt::Result {
    writeln!(f, "## `{}` (workflow)", escape_controls(&workflow.name, Lines::One))?;
    writeln!(f)?;
    if !workflow.description.is_empty() {
        writeln!(f, "{}", escape_controls(&workflow.description, Lines::Many))?;
        writeln!(f)?;
    }
    if workflow.inputs.is_empty() {
        writeln!(f, "Inputs: none.")?;
    } else {
        writeln!(f, "Inputs:")?;
        for i in &workflow.inputs {
            item(f, &i.name, i.ty, Some(i.required), i.default.as_ref(), &i.description)?;
        }
    }
    writeln!(f)?;
    if workflow.outputs.is_empty() {
        writeln!(f, "Outputs: none declared.")?;
    } else {
        writeln!(f, "Outputs:")?;
        for o in &workflow.outputs {
            item(f, &o.name, o.ty, None, None, &o.description)?;
        }
    }
    Ok(())
}

/// One list item: `` - `name` (type, required, default `json`): description ``.
fn item(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    ty: Option<ValueType>,
    required: Option<bool>,
    default: Option<&Value>,
    description: &str,
) -> fmt::Result {
    write!(
        f,
        "- `{}` ({}",
        escape_controls(name, Lines::One),
        ty.map_or("any", ValueType::as_str)
    )?;
    match required {
        Some(true) => write!(f, ", required")?,
        Some(false) => write!(f, ", optional")?,
        None => {}
    }
    if let Some(default) = default {
        // JSON escapes the C0 controls in strings, not DEL, C1 or bidirectional ones.
        write!(f, ", default `{}`", escape_controls(&json_inline(default), Lines::One))?;
    }
    write!(f, ")")?;
    let description = one_line(description);
    if !description.is_empty() {
        write!(f, ": {}", escape_controls(&description, Lines::One))?;
    }
    writeln!(f)
}

/// The names in `names` without repeats, in first-seen order.
fn unique(names: &[String]) -> Vec<&str> {
    let mut seen = Vec::with_capacity(names.len());
    for name in names {
        if !seen.contains(&name.as_str()) {
            seen.push(name.as_str());
        }
    }
    seen
}

fn owned(names: Vec<&str>) -> Vec<String> {
    names.into_iter().map(str::to_owned).collect()
}

fn list_names(manager: &WorkflowManager) -> ContextResult<Vec<String>> {
    let listing = manager.list_all().map_err(ContextError::List)?;
    Ok(listing.workflows.into_iter().map(|s| s.name.to_string()).collect())
}
