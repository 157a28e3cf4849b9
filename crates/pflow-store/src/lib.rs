//! The workflow store: where saved workflows live, and the [`WorkflowManager`] that owns
//! their lifecycle (save, load, list, update, delete).
//!
//! Callers speak to the manager in names and documents. Behind it, a [`WorkflowStore`]
//! backend keeps the documents: the filesystem store by default, an in-memory store for
//! tests and as the reference model. Both obey one conformance suite.

mod error;
mod manager;
mod memory;
mod store;

pub use error::{StoreError, StoreResult};
pub use manager::WorkflowManager;
pub use memory::MemoryStore;
pub use store::{Change, InputSummary, Listing, Location, Problem, Summary, WorkflowStore};
