//! One module per subcommand; `run` dispatches to them.

pub(crate) mod completions;
pub(crate) mod context;
pub(crate) mod llm;
pub(crate) mod mcp;
pub(crate) mod nodes;
pub(crate) mod run;
pub(crate) mod store;
pub(crate) mod validate;
pub(crate) mod workflow;

use pflow_ir::{Lines, escape_controls};
use pflow_store::Problem;

use crate::cli::{Cli, Command};
use crate::output::Output;

/// What a command asks the process to exit with when it did not fail outright.
pub(crate) type Outcome = anyhow::Result<u8>;

/// Runs the parsed command line.
pub(crate) fn run(cli: Cli, out: &Output) -> Outcome {
    let uses_store = !matches!(
        cli.command,
        Command::Validate(_)
            | Command::Nodes(_)
            | Command::Llm(_)
            | Command::Completions(_)
            | Command::Complete(_)
    );
    if uses_store && out.is_verbose() {
        // A missing home or a bad config is reported by the command itself, with its hint.
        match crate::store::selected(&cli.global) {
            Ok((crate::store::StoreSpec::Home(home), crate::store::Chosen::Home)) => {
                out.detail(&format!("pflow home: {}", home.display()));
            }
            Ok((spec, chosen)) => out.detail(&format!("store: {} (from {chosen})", spec.display())),
            Err(_) => {}
        }
    }
    match cli.command {
        Command::Run(args) => run::run(args, &cli.global, out),
        Command::Validate(args) => validate::run(args, &cli.global, out),
        Command::Workflow(args) => workflow::run(args, &cli.global, out),
        Command::Context(args) => context::run(args, &cli.global, out),
        Command::Mcp(args) => mcp::run(args, &cli.global, out),
        Command::Nodes(args) => nodes::run(args, out),
        Command::Llm(args) => llm::run(args, &cli.global, out),
        Command::Store(args) => store::run(args, &cli.global, out),
        Command::Completions(args) => completions::run(&args, out),
        Command::Complete(args) => completions::complete(&args, &cli.global, out),
    }
}

/// Reports store entries that a listing skipped, one `warning: skipped LOCATION: REASON`
/// line each.
///
/// The location is a file name that anyone with access to the store chose and the reason
/// may quote it, so control characters in either are shown as escapes (`\u{1b}`).
pub(crate) fn warn_skipped(out: &Output, problems: &[Problem]) {
    for problem in problems {
        let location = escape_controls(&problem.location, Lines::One);
        let reason = escape_controls(&problem.reason, Lines::One);
        out.warning(&format!("skipped {location}: {reason}"));
    }
}
