//! The command line, as clap types; each subcommand's arguments live beside its code.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::commands;

/// Run JSON workflows and keep them by name: plan once, run forever.
#[derive(Debug, Parser)]
#[command(name = "pflow", version, about, propagate_version = true)]
#[command(after_help = "Exit codes: 0 success, 1 failure, 2 usage error, 130 interrupted.")]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every subcommand accepts.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// The pflow home directory holding saved workflows [default: ~/.pflow]
    #[arg(long, global = true, env = "PFLOW_HOME", value_name = "DIR")]
    pub(crate) home: Option<PathBuf>,
    /// Print more detail
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub(crate) verbose: bool,
    /// Print only results and errors
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,
    /// When to use colors (`NO_COLOR` turns them off in `auto`)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub(crate) color: ColorChoice,
}

/// When to color output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    /// Color when writing to a terminal and `NO_COLOR` is unset
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
}
