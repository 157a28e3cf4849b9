//! [`PgHarness`]: a [`PgStore`] in a fresh schema of the shared test database, for the
//! conformance suite and the model test.

use std::sync::Arc;

use pflow_ir::WorkflowName;
use pflow_store::WorkflowStore;
use pflow_store::testing::Harness;
use postgres::types::Type;

use super::{TestDatabase, shared};
use crate::PgStore;

/// What a damaged row holds instead of a document.
const TORN: &str = "{\n  \"name\": \"torn";

/// A store under test: its own schema in the shared test database.
#[derive(Debug)]
pub struct PgHarness {
    db: &'static TestDatabase,
    schema: String,
    uri: String,
    store: Arc<PgStore>,
}

impl PgHarness {
    /// A new, empty store in a schema of its own.
    pub fn new() -> PgHarness {
        let db = shared();
        let (schema, uri) = db.fresh_store();
        let store = Arc::new(PgStore::open(&uri).expect("the test URI parses"));
        PgHarness { db, schema, uri, store }
    }

    /// The store's URI.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The schema its tables live in.
    pub fn schema(&self) -> &str {
        &self.schema
    }
}

impl Default for PgHarness {
    fn default() -> PgHarness {
        PgHarness::new()
    }
}

impl Drop for PgHarness {
    fn drop(&mut self) {
        // The own server is thrown away whole; someone else's is left as it was found.
        if self.db.server().is_none() {
            let mut admin = self.db.admin();
            if let Some(client) = admin.as_mut() {
                let _ = client.batch_execute(&format!("DROP SCHEMA {} CASCADE", self.schema));
            }
        }
    }
}

impl Harness for PgHarness {
    fn store(&self) -> Arc<dyn WorkflowStore> {
        self.store.clone()
    }

    /// Overwrites the live row of `name` (or plants one) with a torn document and no
    /// summary, as a hand edit gone wrong would leave it.
    fn plant_corrupt(&self, name: &WorkflowName) {
        // The tables exist once the store has connected.
        self.store.connect().expect("the store under test connects");
        let mut admin = self.db.admin();
        let client = admin.as_mut().expect("connected");
        let table = format!("{}.pflow_workflows", self.schema);
        let params: [(&(dyn postgres::types::ToSql + Sync), Type); 2] =
            [(&name.as_str(), Type::TEXT), (&TORN, Type::TEXT)];
        let damaged = client
            .execute_typed(
                &format!(
                    "UPDATE {table} SET document = $2, summary = NULL, created_at = NULL, \
                     revision = NULL WHERE name = $1 AND deleted_at IS NULL"
                ),
                &params,
            )
            .expect("damage a row");
        if damaged == 0 {
            client
                .execute_typed(
                    &format!("INSERT INTO {table} (name, document) VALUES ($1, $2)"),
                    &params,
                )
                .expect("plant a damaged row");
        }
    }

    /// The process goes away (its connection closes) and a new one opens the store.
    fn crash_and_reopen(&mut self) {
        self.store = Arc::new(PgStore::open(&self.uri).expect("the test URI parses"));
    }
}
