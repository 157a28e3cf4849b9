//! `pflow mcp`: serve the workflow library and the runtime to an agent over the Model
//! Context Protocol.
//!
//! The server is `pflow-mcp`; this module only opens the store (through
//! [`crate::store`], like every other command) and hands it over.

use clap::{Args, Subcommand};

use crate::cli::GlobalArgs;
use crate::commands::Outcome;
use crate::exit;
use crate::output::Output;

/// Serve pflow to an agent over the Model Context Protocol (MCP)
#[derive(Debug, Args)]
pub(crate) struct McpArgs {
    #[command(subcommand)]
    command: McpCommand,
}

#[derive(Debug, Subcommand)]
enum McpCommand {
    Serve(ServeArgs),
}

/// Speak MCP on stdin and stdout until stdin closes
///
/// An MCP client (Claude Code, Cursor, …) starts it as its server:
/// `claude mcp add pflow -- pflow mcp serve`. Its tools list, describe, validate, save,
/// run, restore and delete saved workflows, and show the node types and the planner's
/// context; see docs/mcp.md. stdout carries only protocol messages; with `-v`, stderr
/// says which store is served. There is no network listener.
#[derive(Debug, Args)]
struct ServeArgs {}

/// Runs a `pflow mcp` subcommand.
pub(crate) fn run(args: McpArgs, global: &GlobalArgs, out: &Output) -> Outcome {
    match args.command {
        McpCommand::Serve(ServeArgs {}) => {
            let manager = crate::store::open_manager(global)?;
            out.detail("serving MCP on stdin and stdout");
            let llm = crate::commands::llm::setup(global, false)?;
            let config = pflow_mcp::Config::new(manager, crate::commands::llm::runtime(&llm))
                .with_version(env!("CARGO_PKG_VERSION"));
            pflow_mcp::serve(config)?;
            Ok(exit::SUCCESS)
        }
    }
}
