//! Integration tests of the workflow store: the conformance suite run against every
//! backend, the model-based state machine, concurrency, faults and crashes, hostile input
//! and the list index.

// The reliability checklist asks tests to report their counts.
#![allow(clippy::print_stdout)]

mod calls;
mod common;
mod concurrency;
mod conformance;
mod conformance_history;
mod faults;
mod hostile;
mod index;
mod layout;
mod model;
