//! The `pflow` command: run JSON workflows and keep them by name.

mod cli;
mod commands;
mod exit;
mod input;
mod output;
mod report;
mod store;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let out = output::Output::new(&cli.global);
    let result = commands::run(cli, &out);
    report::finish(result, &out)
}
