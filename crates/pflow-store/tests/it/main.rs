//! Integration tests of the workflow store: the conformance suite and the model-based
//! state machine of `pflow_store::testing` run against every backend, and what only the
//! filesystem store shows — concurrency, faults and crashes, hostile input, the list
//! index and the layout on disk.

// The reliability checklist asks tests to report their counts.
#![allow(clippy::print_stdout)]

mod bundle;
mod calls;
mod common;
mod concurrency;
mod conformance;
mod faults;
mod hostile;
mod index;
mod layout;
mod model;
