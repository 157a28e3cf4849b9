//! The command line, as clap types; each subcommand's arguments live beside its code.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::commands;
use crate::store::StoreArg;

/// Run JSON workflows and keep them by name: plan once, run forever.
#[derive(Debug, Parser)]
#[command(name = "pflow", version, about)]
#[command(after_long_help = AFTER_LONG_HELP)]
#[command(after_help = "Exit codes: 0 success, 1 failure, 2 usage error, 130 interrupted.")]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The end of `pflow --help`: the environment and the exit codes.
const AFTER_LONG_HELP: &str = "\
Environment:
  PFLOW_HOME   the pflow home directory (as `--home`)
  PFLOW_STORE  the store saved workflows live in (as `--store`)
  NO_COLOR     when set and not empty, `--color auto` does not color

Store: `--store`, else `PFLOW_STORE`, else `store = \"…\"` in `<home>/config.toml`, else the
pflow home. A store is a directory (a pflow home) or a PostgreSQL URI:
  postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=verify-full&sslrootcert=CA.pem
  postgres:///DATABASE?host=/run/postgresql&options=-csearch_path%3Dteam_a

Exit codes:
  0    success
  1    failure: the workflow failed, or was not found, invalid, already saved, or changed
       concurrently; an invalid value such as a bad workflow name; stdout cannot be written
  2    usage error: a wrong command line, or wrong inputs for the workflow
  130  interrupted (Ctrl-C)";

/// The hidden helper the completion scripts call: `pflow __complete workflow-names`.
#[derive(Debug, Parser)]
#[command(name = "pflow __complete")]
struct CompleteCli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(flatten)]
    args: commands::completions::CompleteArgs,
}

/// Parses the process's command line; `--home` falls back to `PFLOW_HOME`.
pub(crate) fn parse() -> Result<Cli, clap::Error> {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    let mut cli = if args.get(1).is_some_and(|a| a == "__complete") {
        args.remove(0);
        let helper = CompleteCli::try_parse_from(args)?;
        Cli { global: helper.global, command: Command::Complete(helper.args) }
    } else {
        Cli::try_parse_from(args)?
    };
    if cli.global.home.is_none() {
        // An empty value counts as unset (`crate::store::home` ignores it).
        cli.global.home = std::env::var_os("PFLOW_HOME").map(PathBuf::from);
    }
    if cli.global.store.as_ref().is_none_or(|s| s.value.is_empty()) {
        // An empty value counts as unset, from either place.
        cli.global.store = std::env::var_os("PFLOW_STORE")
            .filter(|v| !v.is_empty())
            .map(|value| StoreArg { value, from_env: true });
    }
    Ok(cli)
}

/// Options every subcommand accepts, listed under their own heading in every help.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub(crate) struct GlobalArgs {
    /// The pflow home directory holding saved workflows [env: PFLOW_HOME] [default: ~/.pflow]
    //
    // `PFLOW_HOME` is read by `parse`, not by clap: clap would show a home taken from the
    // environment in the usage line of every error, and refuse an empty one.
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) home: Option<PathBuf>,
    /// Where saved workflows live: a directory (a pflow home) or a PostgreSQL URI
    /// (`postgres://…`) [env: PFLOW_STORE] [default: `store` in the home's config.toml, else
    /// the home]
    //
    // `PFLOW_STORE` is read by `parse`, not by clap: clap would show the value (a URI
    // with a password) in the usage line of errors.
    #[arg(
        long,
        global = true,
        value_name = "STORE",
        value_parser = clap::builder::OsStringValueParser::new().map(StoreArg::flag)
    )]
    pub(crate) store: Option<StoreArg>,
    /// Print more detail: the pflow home in use, the time taken, and each node of a run
    /// even when stderr is not a terminal
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub(crate) verbose: bool,
    /// Print only results and errors: no progress, messages or warnings
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,
    /// When to use colors on stderr
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub(crate) color: ColorChoice,
}

/// When to color output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    /// Color when stderr is a terminal and `NO_COLOR` is unset or empty
    Auto,
    /// Always color
    Always,
    /// Never color
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    Run(commands::run::RunArgs),
    Validate(commands::validate::ValidateArgs),
    Workflow(commands::workflow::WorkflowArgs),
    Context(commands::context::ContextArgs),
    Nodes(commands::nodes::NodesArgs),
    Llm(commands::llm::LlmArgs),
    Store(commands::store::StoreArgs),
    Completions(commands::completions::CompletionsArgs),
    Mcp(commands::mcp::McpArgs),
    /// `pflow __complete …`, parsed apart by [`parse`] so that neither `--help`, the
    /// completion scripts nor docs/cli.md mention it.
    #[command(skip)]
    Complete(commands::completions::CompleteArgs),
}
