//! One module per subcommand; `run` dispatches to them.

pub(crate) mod context;
pub(crate) mod run;
pub(crate) mod validate;
pub(crate) mod workflow;

use crate::cli::{Cli, Command};
use crate::output::Output;

/// What a command asks the process to exit with when it did not fail outright.
pub(crate) type Outcome = anyhow::Result<u8>;

/// Runs the parsed command line.
pub(crate) fn run(cli: Cli, out: &Output) -> Outcome {
    match cli.command {
        Command::Run(args) => run::run(args, &cli.global, out),
        Command::Validate(args) => validate::run(args, &cli.global, out),
        Command::Workflow(args) => workflow::run(args, &cli.global, out),
        Command::Context(args) => context::run(args, &cli.global, out),
    }
}
