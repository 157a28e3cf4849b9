//! The store's tables: created on first use and upgraded by the versioned migrations
//! embedded here, each in a transaction, serialised by the library's advisory lock, so
//! that many processes starting on an empty database at once all succeed. A schema newer
//! than this binary is refused before anything is read or written.

use postgres::GenericClient;
use postgres::types::Type;

use crate::error::{PgError, PgErrorKind};
use crate::session::Fail;

/// The schema version this binary reads and writes: the number of its migrations.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// The first key of every advisory lock pflow takes (`pflw`); the second is the hash of
/// the schema the library lives in, so that libraries in other schemas of the same
/// database do not wait for each other (a hash collision only makes them wait).
pub(crate) const LOCK_CLASS: i32 = 0x7066_6c77;

/// One step of the schema: version `n` is `MIGRATIONS[n - 1]`.
struct Migration {
    description: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[Migration {
    description: "workflows, their kept revisions and the trash",
    sql: include_str!("../migrations/001_workflows.sql"),
}];

/// Brings the tables of the connection's current schema to [`SCHEMA_VERSION`] and gives
/// it; refuses a newer schema without writing anything.
///
/// `tables` is whether the session found `pflow_schema` in its schema when it opened
/// ([`TABLES_EXIST`], asked together with the schema's name to save a round trip).
/// Reading the version takes no lock, so a store that is up to date costs one query and a
/// read-only role can use it. Otherwise each migration runs in its own transaction under
/// the library's lock, reading the version again first: whoever comes second finds the
/// work done.
pub(crate) fn migrate(
    client: &mut postgres::Client,
    lock_key: i32,
    tables: bool,
) -> Result<u32, Fail> {
    let found = if tables { stored_version(client)? } else { 0 };
    refuse_newer(found)?;
    if found == SCHEMA_VERSION {
        return Ok(found);
    }
    loop {
        let mut tx = client.transaction()?;
        lock(&mut tx, lock_key)?;
        let found = version(&mut tx)?;
        refuse_newer(found)?;
        let Some(migration) = MIGRATIONS.get(found as usize) else {
            tx.commit()?;
            return Ok(found);
        };
        tx.batch_execute(migration.sql)?;
        let next = i32::try_from(found + 1).expect("a handful of migrations");
        tx.execute_typed(
            "INSERT INTO pflow_schema (version, description) VALUES ($1, $2)",
            &[(&next, Type::INT4), (&migration.description, Type::TEXT)],
        )?;
        tx.commit()?;
    }
}

/// Takes the library's advisory lock until the transaction ends: every write and every
/// migration of the library holds it, so they run one at a time.
pub(crate) fn lock(tx: &mut impl GenericClient, lock_key: i32) -> Result<(), Fail> {
    tx.execute_typed(
        "SELECT pg_advisory_xact_lock($1, $2)",
        &[(&LOCK_CLASS, Type::INT4), (&lock_key, Type::INT4)],
    )?;
    Ok(())
}

/// The schema version of the tables in the connection's current schema; 0 when there are
/// none yet. Tables of the same names in another schema of the `search_path` are not
/// looked at.
pub(crate) fn version(client: &mut impl GenericClient) -> Result<u32, Fail> {
    let exists: bool = client.query_typed_one(&format!("SELECT {TABLES_EXIST}"), &[])?.get(0);
    if !exists {
        return Ok(0);
    }
    stored_version(client)
}

/// Whether the connection's current schema holds the version table, as an SQL expression.
pub(crate) const TABLES_EXIST: &str = "EXISTS (SELECT 1 FROM pg_catalog.pg_tables \
     WHERE schemaname = current_schema() AND tablename = 'pflow_schema')";

/// The highest version recorded in the version table, which exists.
fn stored_version(client: &mut impl GenericClient) -> Result<u32, Fail> {
    let version: Option<i32> =
        client.query_typed_one("SELECT max(version) FROM pflow_schema", &[])?.get(0);
    Ok(version.map_or(0, |v| u32::try_from(v).unwrap_or(0)))
}

/// Fails when `version` is newer than this binary's.
pub(crate) fn refuse_newer(version: u32) -> Result<(), Fail> {
    if version > SCHEMA_VERSION {
        return Err(Fail::Found(PgError::new(
            PgErrorKind::NewerSchema,
            format!(
                "its tables are at schema version {version}, newer than this pflow knows \
                 ({SCHEMA_VERSION}); nothing was read or written"
            ),
        )));
    }
    Ok(())
}
