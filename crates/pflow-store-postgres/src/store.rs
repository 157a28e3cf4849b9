//! [`PgStore`]: the workflow store over PostgreSQL — the reads, and `write` as one SQL
//! transaction under the library's advisory lock.

use std::collections::HashSet;
use std::fmt;
use std::ops::ControlFlow;
use std::sync::{Mutex, MutexGuard};

use pflow_ir::{Document, Timestamp, WorkflowName};
use pflow_store::{
    History, Listed, Listing, Location, Placed, Problem, PurgeFilter, StoreCounts, StoreError,
    StoreResult, StoredDocument, Transaction, TrashEntry, TrashKey, TrashListing, Trashed,
    WorkflowStore,
};
use postgres::types::Type;
use postgres::{GenericClient, IsolationLevel, Row};
use time::OffsetDateTime;

use crate::error::{PgError, PgErrorKind};
use crate::rows::{
    listed, parse_document, parse_revision, sql_revision, sql_time, summary_json, time_of,
};
use crate::schema;
use crate::session::{Fail, Session};
use crate::uri::{StoreUri, redact};

/// How many times a write transaction runs when the server asks for it to be retried (a
/// serialization failure or a deadlock it broke) before the failure is reported.
const MAX_ATTEMPTS: u32 = 5;

/// How many rows a streamed listing fetches at a time.
const LIST_BATCH: i32 = 1000;

const LOAD: &str = "SELECT document FROM pflow_workflows WHERE name = $1 AND deleted_at IS NULL";

const EXISTS: &str =
    "SELECT EXISTS (SELECT 1 FROM pflow_workflows WHERE name = $1 AND deleted_at IS NULL)";

/// The listing: stored summaries, and the document only where there is none.
const LIST: &str = "SELECT name, summary, CASE WHEN summary IS NULL THEN document END \
                    FROM pflow_workflows WHERE deleted_at IS NULL ORDER BY name";

/// The kept revisions of the life of `$1` created at `$2`, below revision `$3`: the live
/// life of that name if it is the one, else the oldest trashed one.
const KEPT: &str = "SELECT revision::text, document FROM pflow_revisions \
                    WHERE workflow_id = (SELECT id FROM pflow_workflows \
                        WHERE name = $1 AND created_at = $2 \
                        ORDER BY deleted_at NULLS FIRST, id LIMIT 1) \
                    AND revision < $3::numeric ORDER BY pflow_revisions.revision";

const KEPT_ONE: &str = "SELECT revision::text, document FROM pflow_revisions \
                        WHERE workflow_id = (SELECT id FROM pflow_workflows \
                            WHERE name = $1 AND created_at = $2 \
                            ORDER BY deleted_at NULLS FIRST, id LIMIT 1) \
                        AND revision = $3::numeric";

const TRASH: &str = "SELECT name, deleted_at, summary, \
                     CASE WHEN summary IS NULL THEN document END \
                     FROM pflow_workflows WHERE deleted_at IS NOT NULL \
                     ORDER BY name, deleted_at";

const TRASHED: &str = "SELECT deleted_at, document FROM pflow_workflows \
                       WHERE name = $1 AND deleted_at IS NOT NULL ORDER BY deleted_at";

/// Create-only by key: the partial unique index makes a second live row of a name
/// impossible, whatever else happens.
const CREATE: &str = "INSERT INTO pflow_workflows (name, created_at, revision, summary, document) \
                      VALUES ($1, $2, $3::numeric, $4, $5) \
                      ON CONFLICT (name) WHERE deleted_at IS NULL DO NOTHING";

/// Keeps the current document (as it is stored) as a revision of its life and writes the
/// next one in its place, only if the live row is still at revision `$2`.
const REPLACE: &str = "WITH current AS (SELECT id, document FROM pflow_workflows \
                           WHERE name = $1 AND deleted_at IS NULL AND revision = $2::numeric), \
                      kept AS (INSERT INTO pflow_revisions (workflow_id, revision, document) \
                           SELECT id, $2::numeric, document FROM current) \
                      UPDATE pflow_workflows AS w \
                      SET revision = $3::numeric, summary = $4, document = $5 \
                      FROM current WHERE w.id = current.id";

const LIVE_REVISION: &str =
    "SELECT revision::text FROM pflow_workflows WHERE name = $1 AND deleted_at IS NULL";

const TAKEN_TIMES: &str = "SELECT deleted_at FROM pflow_workflows \
                           WHERE name = $1 AND deleted_at >= $2 ORDER BY deleted_at";

/// To the trash: the life's row changes place; its kept revisions refer to the row, so
/// they go with it.
const DELETE: &str =
    "UPDATE pflow_workflows SET deleted_at = $2 WHERE name = $1 AND deleted_at IS NULL";

const RESTORE: &str =
    "UPDATE pflow_workflows SET deleted_at = NULL WHERE name = $1 AND deleted_at = $2";

/// Deletes the selected trash entries; their kept revisions go by `ON DELETE CASCADE`.
const PURGE: &str = "DELETE FROM pflow_workflows WHERE deleted_at IS NOT NULL \
                     AND ($1::text IS NULL OR name = $1) \
                     AND ($2::timestamptz IS NULL OR deleted_at < $2) \
                     RETURNING name, deleted_at";

const PUT: &str = "INSERT INTO pflow_workflows \
                   (name, deleted_at, created_at, revision, summary, document) \
                   VALUES ($1, $2, $3, $4::numeric, $5, $6) RETURNING id";

const PUT_KEPT: &str = "INSERT INTO pflow_revisions (workflow_id, revision, document) \
                        SELECT $1, r::numeric, d FROM unnest($2::text[], $3::text[]) AS t (r, d)";

const COUNTS: &str = "SELECT count(*) FILTER (WHERE deleted_at IS NULL), \
                      count(*) FILTER (WHERE deleted_at IS NOT NULL), \
                      count(*) FILTER (WHERE summary IS NOT NULL), \
                      (SELECT count(*) FROM pflow_revisions) \
                      FROM pflow_workflows";

const WITHOUT_SUMMARY: &str = "SELECT name, document, deleted_at IS NOT NULL \
                               FROM pflow_workflows WHERE summary IS NULL";

/// A library of workflows in a PostgreSQL database: the tables of the connection's
/// current schema (docs/store.md, "PostgreSQL").
///
/// Opening does no IO. The one connection is made by the first call that needs it (then
/// the tables are created or upgraded) and kept for the next; one that the server closed
/// is replaced by the next call. A call made while the connection is in use — a listing's
/// visitor that loads a workflow, another thread — gets a connection of its own.
pub struct PgStore {
    uri: StoreUri,
    /// The connection kept between calls, taken out for the length of one.
    idle: Mutex<Option<Session>>,
}

/// What a call was doing, for its error message.
#[derive(Debug, Clone, Copy)]
enum Action {
    Open,
    Read,
    Write,
}

impl Action {
    fn verb(self) -> &'static str {
        match self {
            Action::Open => "cannot open",
            Action::Read => "failed to read",
            Action::Write => "failed to write to",
        }
    }
}

impl PgStore {
    /// The store at the libpq URI `uri` (`postgres://…` or `postgresql://…`). Does no IO:
    /// a URI that cannot be used is refused here, a server that cannot be reached by the
    /// first call.
    pub fn open(uri: &str) -> StoreResult<PgStore> {
        let parsed = StoreUri::parse(uri).map_err(|e| StoreError::Backend {
            message: format!("{} the store `{}`", Action::Open.verb(), redact(uri)),
            source: Box::new(e),
        })?;
        Ok(PgStore { uri: parsed, idle: Mutex::new(None) })
    }

    /// The store's URI with its password hidden.
    pub fn location(&self) -> &str {
        &self.uri.redacted
    }

    /// Connects now (creating or upgrading the tables), rather than on the first call
    /// that needs it.
    pub fn connect(&self) -> StoreResult<()> {
        self.with_session(Action::Open, |_| Ok(()))
    }

    /// The schema version of the store's tables (after any upgrade this binary made).
    pub fn schema_version(&self) -> StoreResult<u32> {
        self.with_session(Action::Read, |s| Ok(s.version))
    }

    /// The database schema the store's tables live in.
    pub fn schema(&self) -> StoreResult<String> {
        self.with_session(Action::Read, |s| Ok(s.schema.clone()))
    }

    /// Runs `f` on a connection: the idle one, or a new one.
    fn with_session<T>(
        &self,
        action: Action,
        f: impl FnOnce(&mut Session) -> Result<T, Fail>,
    ) -> StoreResult<T> {
        let taken = self.idle().take();
        let mut session = match taken {
            Some(session) if !session.client.is_closed() => session,
            _ => Session::open(&self.uri).map_err(|e| self.fail(Action::Open, e))?,
        };
        let result = f(&mut session);
        if !session.client.is_closed() {
            let mut idle = self.idle();
            if idle.is_none() {
                *idle = Some(session);
            }
        }
        result.map_err(|e| self.fail(action, e))
    }

    fn idle(&self) -> MutexGuard<'_, Option<Session>> {
        // A session is only ever moved in or out whole: a panic cannot leave it half-set.
        self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `fail` told as an error naming the store, password hidden.
    fn fail(&self, action: Action, fail: Fail) -> StoreError {
        let source = match fail {
            Fail::Store(error) => return error,
            Fail::Found(error) => error,
            Fail::Pg(error) => PgError::from_postgres(&error, false, self.uri.password()),
        };
        StoreError::Backend {
            message: format!("{} the store `{}`", action.verb(), self.uri.redacted),
            source: Box::new(source),
        }
    }

    fn location_of(&self, name: &WorkflowName) -> String {
        format!("{}#{name}", self.uri.redacted)
    }

    fn trash_location(&self, name: &str, deleted_at: Timestamp) -> String {
        format!("{}#trash/{name}@{deleted_at}", self.uri.redacted)
    }

    fn history_location(&self, name: &WorkflowName, created: Timestamp, revision: u64) -> String {
        format!("{}#history/{name}@{created}@{revision}", self.uri.redacted)
    }

    /// One transaction: the library's lock, the schema checked again under it, `work`,
    /// and the commit.
    fn transact(
        &self,
        session: &mut Session,
        work: &mut dyn FnMut(&mut dyn Transaction) -> StoreResult<()>,
    ) -> Result<(), Fail> {
        let mut tx = session.client.transaction()?;
        schema::lock(&mut tx, session.lock_key)?;
        // A newer pflow may have upgraded the tables since this connection was made.
        schema::refuse_newer(schema::version(&mut tx)?)?;
        let mut txn = PgTxn { tx, store: self };
        work(&mut txn)?;
        txn.tx.commit().map_err(|e| {
            let error = PgError::from_postgres(&e, false, self.uri.password());
            if e.code().is_some() {
                Fail::Found(error)
            } else {
                // The commit was sent; whether it was carried out is not known.
                Fail::Found(error.with_kind(PgErrorKind::CommitUnknown))
            }
        })
    }
}

impl fmt::Display for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.uri.redacted)
    }
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore").field("uri", &self.uri.redacted).finish_non_exhaustive()
    }
}

/// Whether `error` asks for the transaction to be run again.
fn is_retryable(error: &StoreError) -> bool {
    match error {
        StoreError::Backend { source, .. } => {
            source.downcast_ref::<PgError>().is_some_and(PgError::is_retryable)
        }
        _ => false,
    }
}

impl WorkflowStore for PgStore {
    fn load(&self, name: &WorkflowName) -> StoreResult<Document> {
        self.with_session(Action::Read, |s| {
            load_in(&mut s.client, self, name)?.ok_or_else(|| not_found(name).into())
        })
    }

    fn visit(&self, visit: &mut dyn FnMut(Listed) -> ControlFlow<()>) -> StoreResult<()> {
        self.with_session(Action::Read, |s| {
            // One snapshot for the whole listing, fetched a batch at a time from a portal:
            // a listing of any size is never held whole.
            let mut tx = s
                .client
                .build_transaction()
                .read_only(true)
                .isolation_level(IsolationLevel::RepeatableRead)
                .start()?;
            let portal = tx.bind(LIST, &[])?;
            loop {
                let rows = tx.query_portal(&portal, LIST_BATCH)?;
                let last = rows.len() < LIST_BATCH as usize;
                for row in &rows {
                    if visit(self.listed_row(row)).is_break() {
                        return Ok(());
                    }
                }
                if last {
                    break;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn list(&self) -> StoreResult<Listing> {
        self.with_session(Action::Read, |s| list_in(&mut s.client, self))
    }

    fn exists(&self, name: &WorkflowName) -> StoreResult<bool> {
        self.with_session(Action::Read, |s| exists_in(&mut s.client, name))
    }

    fn kept_revisions(&self, current: &Document) -> StoreResult<History> {
        self.with_session(Action::Read, |s| {
            let (name, created) = (current.name.as_str(), sql_time(current.created_at));
            let below = sql_revision(current.revision);
            let params = [
                (&name as &(dyn postgres::types::ToSql + Sync), Type::TEXT),
                (&created, Type::TIMESTAMPTZ),
                (&below, Type::TEXT),
            ];
            let rows = s.client.query_typed(KEPT, &params)?;
            let mut history = History::default();
            for row in rows {
                let (revision, text) = (revision_of(&row, 0), row.get::<_, &str>(1));
                match parse_revision(&current.name, revision, text) {
                    Ok(doc) => history.revisions.push(doc),
                    Err(reason) => history.problems.push(Problem {
                        location: self.history_location(
                            &current.name,
                            current.created_at,
                            revision,
                        ),
                        reason,
                    }),
                }
            }
            Ok(history)
        })
    }

    fn kept_revision(&self, current: &Document, revision: u64) -> StoreResult<Option<Document>> {
        self.with_session(Action::Read, |s| {
            kept_revision_in(&mut s.client, self, current, revision)
        })
    }

    fn trash(&self) -> StoreResult<TrashListing> {
        self.with_session(Action::Read, |s| {
            let mut listing = TrashListing::default();
            for row in s.client.query_typed(TRASH, &[])? {
                let name: &str = row.get(0);
                let deleted_at = time_of(row.get(1));
                let entry =
                    listed(name, row.get(2), row.get(3), || self.trash_location(name, deleted_at));
                match entry {
                    Listed::Workflow(s) => listing.entries.push(TrashEntry {
                        name: s.name,
                        deleted_at,
                        description: s.description,
                        revision: s.revision,
                        created_at: s.created_at,
                        updated_at: s.updated_at,
                    }),
                    Listed::Problem(problem) => listing.problems.push(problem),
                }
            }
            listing.problems.sort_by(|a, b| a.location.cmp(&b.location));
            Ok(listing)
        })
    }

    fn trashed(&self, name: &WorkflowName) -> StoreResult<Vec<Trashed>> {
        self.with_session(Action::Read, |s| trashed_in(&mut s.client, name))
    }

    fn locate(&self, name: &WorkflowName) -> Location {
        Location(self.location_of(name))
    }

    fn counts(&self) -> StoreResult<StoreCounts> {
        self.with_session(Action::Read, |s| {
            let row = s.client.query_typed_one(COUNTS, &[])?;
            let count = |i: usize| u64::try_from(row.get::<_, i64>(i)).unwrap_or(0);
            let mut counts = StoreCounts {
                workflows: count(0),
                revisions: count(2) + count(3),
                trash_entries: count(1),
                unreadable: 0,
            };
            // A row without a summary is read from its document, as a listing does.
            for row in s.client.query_typed(WITHOUT_SUMMARY, &[])? {
                let readable = WorkflowName::new(row.get::<_, &str>(0))
                    .is_ok_and(|name| parse_document(&name, row.get(1)).is_ok());
                if readable {
                    counts.revisions += 1;
                } else {
                    counts.unreadable += 1;
                }
            }
            Ok(counts)
        })
    }

    fn write(
        &self,
        work: &mut dyn FnMut(&mut dyn Transaction) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let mut attempt = 1;
        loop {
            match self.with_session(Action::Write, |s| self.transact(s, work)) {
                Err(e) if attempt < MAX_ATTEMPTS && is_retryable(&e) => attempt += 1,
                other => return other,
            }
        }
    }
}

impl PgStore {
    fn listed_row(&self, row: &Row) -> Listed {
        let name: &str = row.get(0);
        listed(name, row.get(1), row.get(2), || format!("{}#{name}", self.uri.redacted))
    }
}

/// The reads and writes of one transaction: everything runs on its SQL transaction,
/// after the library's lock was taken.
struct PgTxn<'a> {
    tx: postgres::Transaction<'a>,
    store: &'a PgStore,
}

impl PgTxn<'_> {
    fn run<T>(
        &mut self,
        f: impl FnOnce(&mut postgres::Transaction<'_>) -> Result<T, Fail>,
    ) -> StoreResult<T> {
        f(&mut self.tx).map_err(|e| self.store.fail(Action::Write, e))
    }
}

impl Transaction for PgTxn<'_> {
    fn load(&mut self, name: &WorkflowName) -> StoreResult<Option<Document>> {
        let store = self.store;
        self.run(|tx| load_in(tx, store, name))
    }

    fn exists(&mut self, name: &WorkflowName) -> StoreResult<bool> {
        self.run(|tx| exists_in(tx, name))
    }

    fn kept_revision(
        &mut self,
        current: &Document,
        revision: u64,
    ) -> StoreResult<Option<Document>> {
        let store = self.store;
        self.run(|tx| kept_revision_in(tx, store, current, revision))
    }

    fn list(&mut self) -> StoreResult<Listing> {
        let store = self.store;
        self.run(|tx| list_in(tx, store))
    }

    fn trashed(&mut self, name: &WorkflowName) -> StoreResult<Vec<Trashed>> {
        self.run(|tx| trashed_in(tx, name))
    }

    fn create(&mut self, doc: &StoredDocument) -> StoreResult<()> {
        self.run(|tx| {
            let d = doc.document();
            let inserted = tx.execute_typed(
                CREATE,
                &[
                    (&d.name.as_str(), Type::TEXT),
                    (&sql_time(d.created_at), Type::TIMESTAMPTZ),
                    (&sql_revision(d.revision), Type::TEXT),
                    (&summary_json(d), Type::TEXT),
                    (&doc.text(), Type::TEXT),
                ],
            )?;
            if inserted == 0 {
                return Err(StoreError::WorkflowExists { name: d.name.clone() }.into());
            }
            Ok(())
        })
    }

    fn replace(&mut self, current: &Document, next: &StoredDocument) -> StoreResult<()> {
        self.run(|tx| {
            let n = next.document();
            let name = current.name.as_str();
            let replaced = tx.execute_typed(
                REPLACE,
                &[
                    (&name, Type::TEXT),
                    (&sql_revision(current.revision), Type::TEXT),
                    (&sql_revision(n.revision), Type::TEXT),
                    (&summary_json(n), Type::TEXT),
                    (&next.text(), Type::TEXT),
                ],
            )?;
            if replaced == 1 {
                return Ok(());
            }
            // The manager read `current` in this transaction, so only a caller that did
            // not can get here: say what is there instead.
            let row = tx.query_typed_opt(LIVE_REVISION, &[(&name, Type::TEXT)])?;
            let Some(row) = row else { return Err(not_found(&current.name).into()) };
            let actual: Option<String> = row.get(0);
            Err(StoreError::Conflict {
                name: current.name.clone(),
                expected: current.revision,
                actual: actual.and_then(|r| r.parse().ok()),
            }
            .into())
        })
    }

    fn delete(&mut self, name: &WorkflowName, deleted_at: Timestamp) -> StoreResult<TrashKey> {
        self.run(|tx| {
            let at = free_time(tx, name, deleted_at)?;
            let moved = tx.execute_typed(
                DELETE,
                &[(&name.as_str(), Type::TEXT), (&sql_time(at), Type::TIMESTAMPTZ)],
            )?;
            if moved == 0 {
                return Err(not_found(name).into());
            }
            Ok(TrashKey { name: name.clone(), deleted_at: at })
        })
    }

    fn restore(&mut self, key: &TrashKey) -> StoreResult<()> {
        self.run(|tx| {
            if exists_in(tx, &key.name)? {
                return Err(StoreError::WorkflowExists { name: key.name.clone() }.into());
            }
            let restored = tx.execute_typed(
                RESTORE,
                &[(&key.name.as_str(), Type::TEXT), (&sql_time(key.deleted_at), Type::TIMESTAMPTZ)],
            )?;
            if restored == 0 {
                let error = StoreError::NotInTrash { name: key.name.clone(), suggestions: vec![] };
                return Err(error.into());
            }
            Ok(())
        })
    }

    fn purge(&mut self, filter: &PurgeFilter) -> StoreResult<Vec<TrashKey>> {
        self.run(|tx| {
            let name = filter.name.as_ref().map(WorkflowName::as_str);
            let before = filter.deleted_before.map(sql_time);
            let rows =
                tx.query_typed(PURGE, &[(&name, Type::TEXT), (&before, Type::TIMESTAMPTZ)])?;
            let mut purged = Vec::with_capacity(rows.len());
            for row in rows {
                // The table's CHECK keeps every name valid.
                let Ok(name) = WorkflowName::new(row.get::<_, &str>(0)) else { continue };
                purged.push(TrashKey { name, deleted_at: time_of(row.get(1)) });
            }
            purged.sort();
            Ok(purged)
        })
    }

    fn put_life(
        &mut self,
        revisions: &[StoredDocument],
        deleted_at: Option<Timestamp>,
    ) -> StoreResult<Placed> {
        let Some((last, kept)) = revisions.split_last() else { return Ok(Placed::Live) };
        self.run(|tx| {
            let d = last.document();
            let at = match deleted_at {
                None if exists_in(tx, &d.name)? => {
                    return Err(StoreError::WorkflowExists { name: d.name.clone() }.into());
                }
                None => None,
                Some(at) => Some(free_time(tx, &d.name, at)?),
            };
            let id: i64 = tx
                .query_typed_one(
                    PUT,
                    &[
                        (&d.name.as_str(), Type::TEXT),
                        (&at.map(sql_time), Type::TIMESTAMPTZ),
                        (&sql_time(d.created_at), Type::TIMESTAMPTZ),
                        (&sql_revision(d.revision), Type::TEXT),
                        (&summary_json(d), Type::TEXT),
                        (&last.text(), Type::TEXT),
                    ],
                )?
                .get(0);
            if !kept.is_empty() {
                let numbers: Vec<String> =
                    kept.iter().map(|r| sql_revision(r.document().revision)).collect();
                let texts: Vec<&str> = kept.iter().map(StoredDocument::text).collect();
                tx.execute_typed(
                    PUT_KEPT,
                    &[(&id, Type::INT8), (&numbers, Type::TEXT_ARRAY), (&texts, Type::TEXT_ARRAY)],
                )?;
            }
            Ok(match at {
                None => Placed::Live,
                Some(at) => Placed::Trashed(TrashKey { name: d.name.clone(), deleted_at: at }),
            })
        })
    }
}

/// The live document of `name`; `None` when there is none.
fn load_in(
    client: &mut impl GenericClient,
    store: &PgStore,
    name: &WorkflowName,
) -> Result<Option<Document>, Fail> {
    let Some(row) = client.query_typed_opt(LOAD, &[(&name.as_str(), Type::TEXT)])? else {
        return Ok(None);
    };
    match parse_document(name, row.get(0)) {
        Ok(doc) => Ok(Some(doc)),
        Err(reason) => Err(StoreError::Corrupt {
            location: store.location_of(name),
            reason,
            workflow: Some(name.clone()),
        }
        .into()),
    }
}

fn exists_in(client: &mut impl GenericClient, name: &WorkflowName) -> Result<bool, Fail> {
    Ok(client.query_typed_one(EXISTS, &[(&name.as_str(), Type::TEXT)])?.get(0))
}

fn list_in(client: &mut impl GenericClient, store: &PgStore) -> Result<Listing, Fail> {
    let mut listing = Listing::default();
    for row in client.query_typed(LIST, &[])? {
        match store.listed_row(&row) {
            Listed::Workflow(summary) => listing.workflows.push(summary),
            Listed::Problem(problem) => listing.problems.push(problem),
        }
    }
    listing.problems.sort_by(|a, b| a.location.cmp(&b.location));
    Ok(listing)
}

fn kept_revision_in(
    client: &mut impl GenericClient,
    store: &PgStore,
    current: &Document,
    revision: u64,
) -> Result<Option<Document>, Fail> {
    if revision == 0 || revision >= current.revision {
        return Ok(None);
    }
    let params = [
        (&current.name.as_str() as &(dyn postgres::types::ToSql + Sync), Type::TEXT),
        (&sql_time(current.created_at), Type::TIMESTAMPTZ),
        (&sql_revision(revision), Type::TEXT),
    ];
    let Some(row) = client.query_typed_opt(KEPT_ONE, &params)? else { return Ok(None) };
    match parse_revision(&current.name, revision, row.get(1)) {
        Ok(doc) => Ok(Some(doc)),
        Err(reason) => Err(StoreError::Corrupt {
            location: store.history_location(&current.name, current.created_at, revision),
            reason,
            workflow: None,
        }
        .into()),
    }
}

fn trashed_in(client: &mut impl GenericClient, name: &WorkflowName) -> Result<Vec<Trashed>, Fail> {
    let rows = client.query_typed(TRASHED, &[(&name.as_str(), Type::TEXT)])?;
    Ok(rows
        .iter()
        .map(|row| Trashed {
            key: TrashKey { name: name.clone(), deleted_at: time_of(row.get(0)) },
            document: parse_document(name, row.get(1)).ok(),
        })
        .collect())
}

/// `at`, or the first microsecond after it that no trash entry of `name` holds.
fn free_time(
    client: &mut impl GenericClient,
    name: &WorkflowName,
    at: Timestamp,
) -> Result<Timestamp, Fail> {
    let rows = client.query_typed(
        TAKEN_TIMES,
        &[(&name.as_str(), Type::TEXT), (&sql_time(at), Type::TIMESTAMPTZ)],
    )?;
    let taken: HashSet<Timestamp> =
        rows.iter().map(|row| time_of(row.get::<_, OffsetDateTime>(0))).collect();
    Ok(pflow_store::free_time(name, at, |t| taken.contains(&t))?)
}

/// The revision number in column `column` (`revision::text`).
fn revision_of(row: &Row, column: usize) -> u64 {
    row.get::<_, &str>(column).parse().unwrap_or(0)
}

fn not_found(name: &WorkflowName) -> StoreError {
    StoreError::WorkflowNotFound { name: name.clone(), suggestions: Vec::new() }
}
