//! What the tests of PostgreSQL stores share (`test-support` feature only): the database
//! they run against — a throwaway server of their own, or the one
//! `PFLOW_TEST_DATABASE_URL` names — a fresh schema per store under test, and the
//! [`Harness`](pflow_store::testing::Harness) that runs the exported conformance suite
//! and model test against PostgreSQL.
//!
//! When neither the server's binaries nor the variable are there, [`shared`] panics with
//! a message that says how to get PostgreSQL: a test never passes without a server.

mod harness;
mod server;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

pub use harness::PgHarness;
pub use server::{ServerOptions, TestServer, free_port, how_to_get_postgres, postgres_bin};

/// The variable that points the tests at an existing server instead of their own.
pub const DATABASE_URL_VAR: &str = "PFLOW_TEST_DATABASE_URL";

/// The database the tests of this process share.
pub struct TestDatabase {
    /// The superuser's (or the given role's) URI.
    admin_uri: String,
    /// The server, when it is this process's own.
    server: Option<TestServer>,
    admin: Mutex<Option<postgres::Client>>,
}

impl std::fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDatabase").field("server", &self.server).finish_non_exhaustive()
    }
}

/// The database every test of this process shares: the server `PFLOW_TEST_DATABASE_URL`
/// names, else a throwaway one started on first use (and stopped when the process ends).
pub fn shared() -> &'static TestDatabase {
    static SHARED: OnceLock<TestDatabase> = OnceLock::new();
    SHARED.get_or_init(|| match std::env::var(DATABASE_URL_VAR) {
        Ok(url) if !url.is_empty() => {
            TestDatabase { admin_uri: url, server: None, admin: Mutex::new(None) }
        }
        _ => {
            let server = TestServer::start(&ServerOptions::default());
            TestDatabase {
                admin_uri: server.admin_uri(),
                server: Some(server),
                admin: Mutex::new(None),
            }
        }
    })
}

impl TestDatabase {
    /// The server, when it is this process's own (`None` with `PFLOW_TEST_DATABASE_URL`).
    pub fn server(&self) -> Option<&TestServer> {
        self.server.as_ref()
    }

    /// The URI with full rights over the database.
    pub fn admin_uri(&self) -> &str {
        &self.admin_uri
    }

    /// A connection with full rights, shared by the tests of this process.
    pub fn admin(&self) -> MutexGuard<'_, Option<postgres::Client>> {
        let mut admin = self.admin.lock().unwrap_or_else(|p| p.into_inner());
        if admin.as_ref().is_none_or(postgres::Client::is_closed) {
            let client = postgres::Client::connect(&self.admin_uri, postgres::NoTls)
                .unwrap_or_else(|e| panic!("connect to the test database: {e}"));
            *admin = Some(client);
        }
        admin
    }

    /// Runs `sql` (several statements) with full rights.
    pub fn execute(&self, sql: &str) {
        let mut admin = self.admin();
        let client = admin.as_mut().expect("connected");
        client.batch_execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// A new, empty schema nobody else uses, and the URI of a store in it (as the
    /// admin's role; `options=-csearch_path%3D…` puts the tables there).
    pub fn fresh_store(&self) -> (String, String) {
        let schema = fresh_name("pflow_t");
        self.execute(&format!("CREATE SCHEMA {schema}"));
        (schema.clone(), self.uri_in(&self.admin_uri, &schema))
    }

    /// `uri` with its tables in `schema`.
    pub fn uri_in(&self, uri: &str, schema: &str) -> String {
        let sep = if uri.contains('?') { '&' } else { '?' };
        format!("{uri}{sep}options=-csearch_path%3D{schema}")
    }
}

/// `prefix_<pid>_<n>_<random>`: a name no other test (or earlier run) uses.
pub fn fresh_name(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{prefix}_{}_{n}_{nanos:x}", std::process::id())
}
