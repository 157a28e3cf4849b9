//! The `pflow` command: run JSON workflows and keep them by name.

mod ask;
mod cli;
mod commands;
mod exit;
mod input;
mod lineedit;
mod output;
mod progress;
mod prompt;
mod report;
mod store;
mod table;

#[cfg(test)]
mod clidoc;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::ExitCode;

fn main() -> ExitCode {
    report::install_panic_hook();
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(err) => return report::command_line(&err),
    };
    let out = output::Output::new(&cli.global);
    let result = catch_unwind(AssertUnwindSafe(|| {
        // A deliberate panic, so the tests can check what a user would see of a bug.
        #[cfg(debug_assertions)]
        if std::env::var_os("PFLOW_TEST_PANIC").is_some() {
            panic!("panic requested by PFLOW_TEST_PANIC");
        }
        commands::run(cli, &out)
    }));
    report::finish(result, &out)
}
