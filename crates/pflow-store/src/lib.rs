//! The workflow store: where saved workflows live, and the [`WorkflowManager`] that owns
//! their lifecycle (save, load, list, update, delete), their history of revisions and the
//! trash.
//!
//! Callers speak to the manager in names and documents. Behind it, a [`WorkflowStore`]
//! backend keeps the documents: the filesystem store ([`FsStore`]) by default, an
//! in-memory store ([`MemoryStore`]) for tests and as the reference model. Both obey one
//! conformance suite.

mod bundle;
mod calls;
mod copy;
mod error;
mod fs_store;
mod index;
mod info;
mod legacy;
mod manager;
mod memory;
mod revisions;
mod store;
mod workflow_file;

// The filesystem interface the FsStore does its IO through, and its fault-injecting,
// power-loss-simulating double: public only with the `test-support` feature, which the
// store's own tests turn on (a dev-dependency of the crate on itself), so the double is
// never compiled into the product.
#[cfg(feature = "test-support")]
#[doc(hidden)]
pub mod vfs;
// Its items are `pub` for the `test-support` build, where the module is public.
#[cfg(not(feature = "test-support"))]
#[allow(unreachable_pub)]
mod vfs;

#[cfg(feature = "test-support")]
#[doc(hidden)]
pub mod sim;

// The conformance suite and the M1 state machine, for every backend's tests (this crate's
// and a backend crate's of its own), with the `test-support` feature only.
#[cfg(feature = "test-support")]
#[doc(hidden)]
pub mod testing;

pub use bundle::{
    BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, Bundle, BundledWorkflow, ExportOptions, ImportAction,
    ImportOptions, ImportReport, Imported, MAX_BUNDLE_BYTES, MAX_BUNDLE_DEPTH, OnConflict,
};
pub use calls::{Anchor, Identity, Origin, RelativeRefError, one_line};
pub use copy::{CopiedLife, CopyConflict, CopyReport};
pub use error::{StoreError, StoreResult};
pub use fs_store::{FsStore, default_home};
pub use info::StoreCounts;
pub use legacy::{LegacyImport, is_pflow016_home};
pub use manager::{IfCalled, SaveMode, SaveOutcome, Saved, WorkflowManager, WorkflowResolver};
pub use memory::MemoryStore;
pub use revisions::{Changes, RevisionSummary};
pub use store::{
    History, InputSummary, Life, Listed, Listing, Location, MAX_DOCUMENT_BYTES, Placed, Problem,
    PurgeFilter, StoredDocument, Summary, Transaction, TrashEntry, TrashKey, TrashListing, Trashed,
    WorkflowStore, free_time,
};
pub use workflow_file::{
    WorkflowFile, WorkflowFileError, WorkflowFormat, document_to_pflow_md, names_a_file,
    read_workflow_file,
};
