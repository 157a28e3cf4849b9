//! The PostgreSQL backend of the workflow store (SPEC §4.6): a team's shared library of
//! workflows in one database, behind the same [`WorkflowStore`] trait as the filesystem
//! store, with the same semantics.
//!
//! [`PgStore::open`] takes a libpq connection URI (`postgres://user:password@host/db`, a
//! Unix-socket directory as `?host=/dir`, `sslmode`, `connect_timeout`, `options`) and
//! does no IO; the one connection is made by the first call that needs it, and the schema
//! is created or upgraded then (see `schema.rs`). Every write is one SQL transaction,
//! serialised with every other writer of the same library by a transaction-level advisory
//! lock, so the manager's checks (expected revision, callers, call cycles) are atomic with
//! the write they guard. docs/store.md describes the schema and each operation's
//! transaction.
//!
//! A password in the URI never leaves this crate: [`redact`] is the one function that
//! hides it, used by the store's `Display`, `locate` and every error.
//!
//! [`WorkflowStore`]: pflow_store::WorkflowStore

mod error;
mod rows;
mod schema;
mod session;
mod store;
mod tls;
mod uri;

// The throwaway server and the harness the tests of this crate and the end-to-end tests
// run the conformance suite and the reliability tests against, with the `test-support`
// feature only.
#[cfg(feature = "test-support")]
#[doc(hidden)]
pub mod testing;

pub use error::{PgError, PgErrorKind};
pub use schema::SCHEMA_VERSION;
pub use store::PgStore;
pub use uri::{is_postgres_uri, redact};
