//! The tools on node types and the planner's context: `registry_list`,
//! `registry_describe`, `context_discover` and `context_plan`.

use pflow_context::{DiscoveryContext, Selection};
use pflow_ir::NodeSpec;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Library, Reply, ToolResult, words};
use crate::error::ToolError;

// ---- registry_list --------------------------------------------------------------------

/// The arguments of `registry_list`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegistryListArgs {
    /// Keep only node types whose name, category or description contains every word of
    /// this text (any case), e.g. `file read`.
    #[serde(default)]
    filter_pattern: Option<String>,
}

/// The result of `registry_list`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct RegistryListOut {
    /// The node types, sorted by category, then name.
    nodes: Vec<NodeBrief>,
}

/// One node type, briefly.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct NodeBrief {
    /// The type name, a node's `type` in the IR.
    name: String,
    /// Its category (`file`, `shell`, …).
    category: String,
    /// What it does, on one line.
    description: String,
}

pub(crate) fn registry_list(library: &Library, args: RegistryListArgs) -> ToolResult {
    let filter = words(args.filter_pattern.as_deref());
    let mut specs: Vec<&NodeSpec> = library
        .runtime
        .catalog()
        .iter()
        .filter(|s| pflow_context::node_matches_words(s, &filter))
        .collect();
    specs.sort_by(|a, b| (&a.category, &a.name).cmp(&(&b.category, &b.name)));
    let nodes: Vec<NodeBrief> = specs
        .into_iter()
        .map(|s| NodeBrief {
            name: s.name.clone(),
            category: s.category.clone(),
            description: s.description.clone(),
        })
        .collect();
    let mut text = match (nodes.len(), filter.is_empty()) {
        (0, false) => format!("no node type matches `{}`\n", filter.join(" ")),
        (n, _) => format!("{n} node types\n"),
    };
    for n in &nodes {
        text.push_str(&format!("- {} ({}): {}\n", n.name, n.category, n.description));
    }
    Ok(Reply::new(&RegistryListOut { nodes }, text))
}

// ---- registry_describe ----------------------------------------------------------------

/// The arguments of `registry_describe`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegistryDescribeArgs {
    /// The node types to describe (`["read-file", "shell"]`).
    nodes: Vec<String>,
}

/// The result of `registry_describe`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct RegistryDescribeOut {
    /// Each node type asked for, in that order, as `pflow nodes show TYPE --json` prints it:
    /// `name`, `category`, `description`, `params` (each with `name`, `type`, `required`,
    /// `default`, `description` and its value rules) and `outputs` (`name`, `type`,
    /// `description`).
    #[schemars(with = "Vec<serde_json::Map<String, Value>>")]
    nodes: Vec<Value>,
}

pub(crate) fn registry_describe(library: &Library, args: RegistryDescribeArgs) -> ToolResult {
    if args.nodes.is_empty() {
        return Err(ToolError::new("invalid_argument", "`nodes` names no node type")
            .hint("call `registry_list` to see the node types"));
    }
    let selection = Selection { nodes: args.nodes, workflows: Vec::new() };
    let context = pflow_context::plan(library.runtime.catalog(), &library.manager, &selection)?;
    let nodes = context
        .nodes
        .iter()
        .map(|spec| serde_json::to_value(spec).expect("node specs serialize to JSON"))
        .collect();
    Ok(Reply::new(&RegistryDescribeOut { nodes }, context.to_markdown()))
}

// ---- context_discover -----------------------------------------------------------------

/// The arguments of `context_discover`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DiscoverArgs {
    /// Rank the saved workflows by relevance to this text, most relevant first.
    #[serde(default)]
    query: Option<String>,
    /// At most this many saved workflows [default: all of them; with `query`, 20].
    #[serde(default)]
    limit: Option<u32>,
}

/// The result of `context_discover`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct DiscoverOut {
    /// The discovery context, as markdown for a prompt (also the text content).
    context: String,
    /// How many node types it lists.
    node_types: usize,
    /// How many saved workflows it lists.
    workflows: usize,
    /// How many saved workflows there are (more than `workflows` when `limit` cut the list).
    workflows_total: usize,
    /// How many stored entries could not be read and are left out.
    skipped: usize,
}

pub(crate) fn discover(library: &Library, args: DiscoverArgs) -> ToolResult {
    if let Some(query) = &args.query {
        let limit = args.limit.map_or(pflow_context::DEFAULT_LIMIT, |l| l as usize);
        let catalog = library.runtime.catalog();
        let context = pflow_context::discover_query(catalog, &library.manager, query, limit)?;
        let markdown = context.to_markdown();
        let out = DiscoverOut {
            node_types: context.nodes.len(),
            workflows: context.workflows.len(),
            workflows_total: context.searched,
            skipped: context.skipped.len(),
            context: markdown.clone(),
        };
        return Ok(Reply::new(&out, markdown));
    }
    let mut listing = library.manager.list_all()?;
    let total = listing.workflows.len();
    if let Some(limit) = args.limit {
        listing.workflows.truncate(limit as usize);
    }
    let context = DiscoveryContext::new(library.runtime.catalog(), &listing);
    let markdown = context.to_markdown();
    let out = DiscoverOut {
        node_types: context.categories.iter().map(|c| c.nodes.len()).sum(),
        workflows: context.workflows.len(),
        workflows_total: total,
        skipped: context.skipped.len(),
        context: markdown.clone(),
    };
    Ok(Reply::new(&out, markdown))
}

// ---- context_plan ---------------------------------------------------------------------

/// The arguments of `context_plan`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlanArgs {
    /// Node types to describe.
    #[serde(default)]
    nodes: Vec<String>,
    /// Saved workflows to describe.
    #[serde(default)]
    workflows: Vec<String>,
}

/// The result of `context_plan`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct PlanOut {
    /// The planning context, as markdown for a prompt (also the text content).
    context: String,
    /// The node types it describes, in the order asked for.
    nodes: Vec<String>,
    /// The saved workflows it describes, in the order asked for.
    workflows: Vec<String>,
}

pub(crate) fn plan(library: &Library, args: PlanArgs) -> ToolResult {
    if args.nodes.is_empty() && args.workflows.is_empty() {
        return Err(ToolError::new(
            "invalid_argument",
            "name at least one node type in `nodes` or saved workflow in `workflows`",
        )
        .hint("call `context_discover` to see what there is"));
    }
    let selection = Selection { nodes: args.nodes, workflows: args.workflows };
    let context = pflow_context::plan(library.runtime.catalog(), &library.manager, &selection)?;
    let markdown = context.to_markdown();
    let out = PlanOut {
        nodes: context.nodes.iter().map(|n| n.name.clone()).collect(),
        workflows: context.workflows.iter().map(|w| w.name.clone()).collect(),
        context: markdown.clone(),
    };
    Ok(Reply::new(&out, markdown))
}
