//! `pflow context`: the planner's view of node types and saved workflows (SPEC §6).
//!
//! The text and JSON come from `pflow-context`; this module only picks the node catalog
//! and the store, and prints.

use clap::{ArgGroup, Args, Subcommand};
use pflow_context::{ContextError, Selection};
use pflow_ir::NodeCatalog;
use pflow_store::WorkflowManager;

use crate::cli::GlobalArgs;
use crate::commands::Outcome;
use crate::exit;
use crate::output::Output;

/// Print the planner's context: what node types and saved workflows exist
///
/// `discover` lists everything briefly; `plan` gives the full interface of the chosen
/// few. Both print markdown ready for a prompt, or the same content as JSON.
#[derive(Debug, Args)]
pub(crate) struct ContextArgs {
    #[command(subcommand)]
    command: ContextCommand,
}

#[derive(Debug, Subcommand)]
enum ContextCommand {
    Discover(DiscoverArgs),
    Plan(PlanArgs),
}

/// Every node type (by category) and every saved workflow, one or two lines each
///
/// With `--query`, only the node types and saved workflows that best match TEXT, most
/// relevant first (stemming, one typo in a word of five letters or more, stop words
/// ignored): the context for a library too large to list whole. Saved entries that
/// cannot be read are reported on stderr and left out.
#[derive(Debug, Args)]
struct DiscoverArgs {
    /// Show only the best matches of TEXT, most relevant first
    #[arg(long, value_name = "TEXT")]
    query: Option<String>,
    /// How many node types and workflows to show with --query
    #[arg(long, value_name = "N", requires = "query", default_value_t = pflow_context::DEFAULT_LIMIT)]
    limit: usize,
    /// Print the same content as JSON
    #[arg(long)]
    json: bool,
}

/// The full interface of the chosen node types and saved workflows
///
/// Params, inputs and outputs with their types, defaults and descriptions. Every unknown
/// name is reported, with the closest known names, and nothing is printed for the rest.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("selection").required(true).multiple(true).args(["nodes", "workflows"])))]
struct PlanArgs {
    /// Node types to describe (repeat the flag or give several)
    #[arg(long = "node", value_name = "TYPE", num_args = 1..)]
    nodes: Vec<String>,
    /// Saved workflows to describe (repeat the flag or give several)
    #[arg(long = "workflow", value_name = "NAME", num_args = 1..)]
    workflows: Vec<String>,
    /// Print the same content as JSON (unknown names too, as `{"unknown": …}`)
    #[arg(long)]
    json: bool,
}

/// Runs a `pflow context` subcommand.
pub(crate) fn run(args: ContextArgs, global: &GlobalArgs, out: &Output) -> Outcome {
    let manager = crate::store::open_manager(global)?;
    let catalog = pflow_exec::builtin_catalog();
    match args.command {
        ContextCommand::Discover(args) => discover(&args, &catalog, &manager, out),
        ContextCommand::Plan(args) => plan(args, &catalog, &manager, out),
    }
}

fn discover(
    args: &DiscoverArgs,
    catalog: &NodeCatalog,
    manager: &WorkflowManager,
    out: &Output,
) -> Outcome {
    if let Some(query) = &args.query {
        let context = pflow_context::discover_query(catalog, manager, query, args.limit)?;
        crate::commands::warn_skipped(out, &context.skipped);
        if args.json {
            let json = serde_json::to_string_pretty(&context).expect("a context serializes");
            out.data(&json)?;
        } else {
            out.data(&context.to_markdown())?;
        }
        return Ok(exit::SUCCESS);
    }
    let context = pflow_context::discover(catalog, manager)?;
    crate::commands::warn_skipped(out, &context.skipped);
    if args.json {
        out.data(&serde_json::to_string_pretty(&context).expect("a context serializes to JSON"))?;
    } else {
        out.data(&context.to_markdown())?;
    }
    Ok(exit::SUCCESS)
}

fn plan(args: PlanArgs, catalog: &NodeCatalog, manager: &WorkflowManager, out: &Output) -> Outcome {
    let selection = Selection { nodes: args.nodes, workflows: args.workflows };
    match pflow_context::plan(catalog, manager, &selection) {
        Ok(context) if args.json => {
            out.data(&serde_json::to_string_pretty(&context).expect("a context serializes"))?;
        }
        Ok(context) => out.data(&context.to_markdown())?,
        Err(ContextError::UnknownNames(unknown)) => {
            if args.json {
                let json = serde_json::json!({ "unknown": unknown });
                out.data(&serde_json::to_string_pretty(&json).expect("names serialize"))?;
            }
            return Err(ContextError::UnknownNames(unknown).into());
        }
        Err(other) => return Err(other.into()),
    }
    Ok(exit::SUCCESS)
}
