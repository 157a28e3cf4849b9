//! The discovery context: every node type and every saved workflow, one or two lines each.

use std::collections::BTreeMap;
use std::fmt;

use pflow_ir::{Lines, NodeCatalog, escape_controls};
use pflow_store::{Listing, Problem, WorkflowManager};
use serde::{Deserialize, Serialize};

use crate::text::{SUMMARY_MAX_CHARS, one_line, summary};
use crate::{ContextError, ContextResult};

/// The category shown for node types that name none.
const NO_CATEGORY: &str = "other";

/// What a planner needs to choose: every node type and every saved workflow, briefly.
///
/// Deterministic: categories, node types and workflows are sorted by name, and nothing
/// time-dependent (timestamps, revisions) is included. Its [`Display`](fmt::Display) is
/// the markdown for a prompt; its JSON form holds the same content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiscoveryContext {
    /// Node types grouped by category, categories sorted by name.
    pub categories: Vec<NodeCategory>,
    /// Every readable saved workflow, sorted by name.
    pub workflows: Vec<WorkflowEntry>,
    /// The store entries that could not be read and are left out, as `list_all` reported
    /// them (sorted by location).
    pub skipped: Vec<Problem>,
}

/// The node types of one category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeCategory {
    /// The category (`file`, `shell`, …); `other` for node types that name none.
    pub name: String,
    /// Its node types, sorted by name.
    pub nodes: Vec<NodeEntry>,
}

/// One node type, briefly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeEntry {
    /// The type name used in the IR.
    pub name: String,
    /// Its description, on one line.
    pub description: String,
}

/// One saved workflow, briefly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowEntry {
    /// The name other workflows call it by.
    pub name: String,
    /// Its description on one line, cut at a word boundary after 160 characters (`…`).
    pub description: String,
    /// Its inputs, in declaration order.
    pub inputs: Vec<InputName>,
}

/// The name of a workflow input and whether it must be given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputName {
    /// The input's name.
    pub name: String,
    /// Whether a caller must supply it.
    pub required: bool,
}

/// The discovery context of the node types in `catalog` and the workflows saved behind
/// `manager`.
pub fn discover(
    catalog: &NodeCatalog,
    manager: &WorkflowManager,
) -> ContextResult<DiscoveryContext> {
    let listing = manager.list_all().map_err(ContextError::List)?;
    Ok(DiscoveryContext::new(catalog, &listing))
}

impl DiscoveryContext {
    /// The discovery context of `catalog` and a listing from
    /// [`WorkflowManager::list_all`].
    pub fn new(catalog: &NodeCatalog, listing: &Listing) -> DiscoveryContext {
        let mut categories: BTreeMap<String, Vec<NodeEntry>> = BTreeMap::new();
        // The catalog iterates sorted by name, so each category's list is sorted too.
        for spec in catalog.iter() {
            let category = match spec.category.trim() {
                "" => NO_CATEGORY.to_owned(),
                category => category.to_owned(),
            };
            let entry =
                NodeEntry { name: spec.name.clone(), description: one_line(&spec.description) };
            categories.entry(category).or_default().push(entry);
        }
        let categories =
            categories.into_iter().map(|(name, nodes)| NodeCategory { name, nodes }).collect();

        let mut workflows: Vec<WorkflowEntry> = listing
            .workflows
            .iter()
            .map(|s| WorkflowEntry {
                name: s.name.to_string(),
                description: summary(&s.description, SUMMARY_MAX_CHARS),
                inputs: s
                    .inputs
                    .iter()
                    .map(|i| InputName { name: i.name.clone(), required: i.required })
                    .collect(),
            })
            .collect();
        // `list_all` promises sorted output; sorting again keeps this context deterministic
        // whatever a backend does.
        workflows.sort_by(|a, b| a.name.cmp(&b.name));
        let mut skipped = listing.problems.clone();
        skipped.sort_by(|a, b| a.location.cmp(&b.location));

        DiscoveryContext { categories, workflows, skipped }
    }

    /// The context as markdown for a prompt (the same text as its `Display`).
    pub fn to_markdown(&self) -> String {
        self.to_string()
    }
}

/// The markdown escapes control characters in every name and description (`\u{1b}`), so a
/// stored description cannot act on the terminal it is printed to; the fields themselves,
/// and so the JSON form, hold the text as stored.
impl fmt::Display for DiscoveryContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "# Node types")?;
        writeln!(f)?;
        if self.categories.is_empty() {
            writeln!(f, "No node types.")?;
        } else {
            writeln!(
                f,
                "Use one as a node's `type`; ask for the planning context of the ones you \
                 choose to see their params and outputs."
            )?;
        }
        for category in &self.categories {
            writeln!(f)?;
            writeln!(f, "## {}", safe(&category.name))?;
            writeln!(f)?;
            for node in &category.nodes {
                write!(f, "- `{}`", safe(&node.name))?;
                if !node.description.is_empty() {
                    write!(f, ": {}", safe(&node.description))?;
                }
                writeln!(f)?;
            }
        }

        writeln!(f)?;
        writeln!(f, "# Saved workflows")?;
        writeln!(f)?;
        if self.workflows.is_empty() {
            writeln!(f, "No saved workflows.")?;
        } else {
            writeln!(
                f,
                "Call one from a node of type `workflow` with `params.workflow_name`; pass its \
                 inputs in `params.param_mapping` (`?` marks an optional input)."
            )?;
            writeln!(f)?;
        }
        for workflow in &self.workflows {
            write_workflow(f, &workflow.name, &workflow.description, &workflow.inputs)?;
        }

        match self.skipped.len() {
            0 => {}
            1 => {
                writeln!(f)?;
                writeln!(f, "(1 saved workflow entry could not be read and is not listed.)")?;
            }
            n => {
                writeln!(f)?;
                writeln!(f, "({n} saved workflow entries could not be read and are not listed.)")?;
            }
        }
        Ok(())
    }
}

/// A saved workflow's entry in a context's markdown: its name and description, then its
/// inputs (`?` marks an optional one).
pub(crate) fn write_workflow(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    description: &str,
    inputs: &[InputName],
) -> fmt::Result {
    write!(f, "- `{}` (workflow)", safe(name))?;
    if !description.is_empty() {
        write!(f, ": {}", safe(description))?;
    }
    writeln!(f)?;
    if !inputs.is_empty() {
        let inputs: Vec<String> = inputs
            .iter()
            .map(|i| if i.required { i.name.clone() } else { format!("{}?", i.name) })
            .collect();
        writeln!(f, "  inputs: {}", safe(&inputs.join(", ")))?;
    }
    Ok(())
}

/// One line of stored text, safe to print: control characters shown as escapes.
pub(crate) fn safe(text: &str) -> std::borrow::Cow<'_, str> {
    escape_controls(text, Lines::One)
}
