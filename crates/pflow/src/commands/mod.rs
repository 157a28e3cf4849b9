//! One module per subcommand; `run` dispatches to them.

pub(crate) mod validate;

use crate::cli::{Cli, Command};
use crate::output::Output;

/// What a command asks the process to exit with when it did not fail outright.
pub(crate) type Outcome = anyhow::Result<u8>;

/// Runs the parsed command line.
pub(crate) fn run(cli: Cli, out: &Output) -> Outcome {
    match cli.command {
        Command::Validate(args) => validate::run(args, &cli.global, out),
    }
}
