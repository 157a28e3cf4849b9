//! Integration tests of the `pflow` binary: one module per command, each running the built
//! binary hermetically and snapshotting what it prints.

mod bundle;
mod cli;
mod completions;
mod nodes;
mod sandbox;
mod store;
mod transcripts;
mod validate;
mod workflow;
