//! Exit codes, named once (SPEC §7).

/// The command did what was asked.
pub(crate) const SUCCESS: u8 = 0;
/// The command failed: the workflow failed, was not found, was invalid, already existed,
/// or changed concurrently.
pub(crate) const FAILURE: u8 = 1;
/// The command line was wrong (clap uses the same code for its own errors).
pub(crate) const USAGE: u8 = 2;
/// The user interrupted the command (Ctrl-C).
pub(crate) const INTERRUPTED: u8 = 130;
