//! `pflow nodes`: the node types a workflow can use, from the built-in registry.

use clap::{Args, Subcommand};
use pflow_ir::{NodeCatalog, NodeSpec, ParamSpec};
use serde_json::{Map, Value};

use crate::commands::Outcome;
use crate::exit;
use crate::output::Output;
use crate::report::CliError;

/// List the node types, or show one: its params, outputs and an example node
#[derive(Debug, Args)]
pub(crate) struct NodesArgs {
    #[command(subcommand)]
    command: NodesCommand,
}

#[derive(Debug, Subcommand)]
enum NodesCommand {
    List(ListArgs),
    Show(ShowArgs),
}

/// Every node type: name, category and what it does
#[derive(Debug, Args)]
struct ListArgs {
    /// Print a JSON array of the full interfaces on stdout
    #[arg(long)]
    json: bool,
}

/// One node type: its params (type, required or default), its outputs and an example
#[derive(Debug, Args)]
struct ShowArgs {
    /// The node type (`read-file`)
    #[arg(value_name = "TYPE")]
    node_type: String,
    /// Print the interface as JSON on stdout
    #[arg(long)]
    json: bool,
}

/// Runs a `pflow nodes` subcommand.
pub(crate) fn run(args: NodesArgs, out: &Output) -> Outcome {
    let catalog = pflow_exec::builtin_catalog();
    match args.command {
        NodesCommand::List(args) => list(&args, &catalog, out),
        NodesCommand::Show(args) => show(&args, &catalog, out),
    }
}

fn list(args: &ListArgs, catalog: &NodeCatalog, out: &Output) -> Outcome {
    let mut specs: Vec<&NodeSpec> = catalog.iter().collect();
    specs.sort_by(|a, b| (&a.category, &a.name).cmp(&(&b.category, &b.name)));
    if args.json {
        out.data(&serde_json::to_string_pretty(&specs).expect("node specs serialize to JSON"))?;
        return Ok(exit::SUCCESS);
    }
    let rows: Vec<[String; 3]> = specs
        .iter()
        .map(|s| {
            let description = match &s.unavailable {
                Some(_) => format!(
                    "(unavailable here: see `pflow nodes show {}`) {}",
                    s.name, s.description
                ),
                None => s.description.clone(),
            };
            [s.name.clone(), s.category.clone(), description]
        })
        .collect();
    out.data(&crate::table::render(["TYPE", "CATEGORY", "DESCRIPTION"], &rows))?;
    Ok(exit::SUCCESS)
}

fn show(args: &ShowArgs, catalog: &NodeCatalog, out: &Output) -> Outcome {
    let Some(spec) = catalog.get(&args.node_type) else {
        return Err(unknown_type(&args.node_type, catalog).into());
    };
    if args.json {
        out.data(&serde_json::to_string_pretty(spec).expect("a node spec serializes to JSON"))?;
    } else {
        out.data(&describe(spec))?;
    }
    Ok(exit::SUCCESS)
}

/// `unknown node type`, with the closest type names.
fn unknown_type(name: &str, catalog: &NodeCatalog) -> CliError {
    let error = CliError::new(format!("unknown node type `{}`", name.escape_debug()));
    let close = pflow_ir::closest(name, catalog.names());
    if close.is_empty() {
        error.hint("run `pflow nodes list` to see the node types")
    } else {
        let names: Vec<String> = close.iter().map(|n| format!("`{n}`")).collect();
        error.hint(format!("did you mean {}?", names.join(" or ")))
    }
}

/// The human view of one node type.
fn describe(spec: &NodeSpec) -> String {
    let mut text = format!(
        "{:<12} {}\n{:<12} {}\n{:<12} {}\n",
        "type", spec.name, "category", spec.category, "description", spec.description
    );
    if let Some(reason) = &spec.unavailable {
        text.push_str(&format!("{:<12} {}\n", "unavailable", reason));
    }
    text.push_str("\nparams:\n");
    let params: Vec<[String; 4]> = spec.params.iter().map(param_row).collect();
    push_rows(&mut text, &params);
    text.push_str("\noutputs:\n");
    let outputs: Vec<[String; 4]> = spec
        .outputs
        .iter()
        .map(|o| {
            let ty = o.ty.map_or("any", |t| t.as_str()).to_owned();
            [o.name.clone(), ty, String::new(), o.description.clone()]
        })
        .collect();
    match (outputs.is_empty(), spec.dynamic_outputs) {
        (true, true) => text.push_str("  whatever the called workflow declares\n"),
        (false, true) => {
            push_rows(&mut text, &outputs);
            text.push_str("  and whatever the called workflow declares\n");
        }
        (_, false) => push_rows(&mut text, &outputs),
    }
    text.push_str("\nexample node:\n  ");
    text.push_str(&example(spec));
    text.push('\n');
    text
}

fn param_row(param: &ParamSpec) -> [String; 4] {
    let ty = param.ty.map_or("any", |t| t.as_str()).to_owned();
    let need = match (&param.default, param.required) {
        (Some(default), _) => format!("default {default}"),
        (None, true) => "required".to_owned(),
        (None, false) => "optional".to_owned(),
    };
    [param.name.clone(), ty, need, param.description.clone()]
}

/// A node of this type as IR JSON, with a placeholder for every required param.
fn example(spec: &NodeSpec) -> String {
    let mut params = Map::new();
    for param in spec.params.iter().filter(|p| p.required && p.default.is_none()) {
        let placeholder = param.ty.map_or("value", |t| t.as_str());
        params.insert(param.name.clone(), Value::String(format!("<{placeholder}>")));
    }
    let id: String =
        spec.name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    let mut node = Map::new();
    node.insert("id".to_owned(), Value::String(id));
    node.insert("type".to_owned(), Value::String(spec.name.clone()));
    if !params.is_empty() {
        node.insert("params".to_owned(), Value::Object(params));
    }
    serde_json::to_string(&Value::Object(node)).expect("JSON values always serialize")
}

/// Indented, aligned rows, leaving out columns that are empty in every row; `  (none)`
/// when there are no rows.
fn push_rows(text: &mut String, rows: &[[String; 4]]) {
    if rows.is_empty() {
        text.push_str("  (none)\n");
        return;
    }
    let widths: Vec<usize> =
        (0..4).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    for row in rows {
        let mut line = String::from(" ");
        for (cell, width) in row.iter().zip(&widths).filter(|(_, w)| **w > 0) {
            line.push_str(&format!(" {cell:width$} "));
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
}
