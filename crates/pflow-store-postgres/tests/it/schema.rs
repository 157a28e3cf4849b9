//! The schema: created on first use by many at once, in the connection's current
//! schema, refused when newer than this binary (RELIABILITY P6), usable by a read-only
//! role; and what the rows hold.

use std::sync::Barrier;

use pflow_store::{StoreError, WorkflowStore};
use pflow_store_postgres::testing::{fresh_name, shared};
use pflow_store_postgres::{PgErrorKind, PgStore, SCHEMA_VERSION};

use crate::common::{fresh_uri, ir, manager, name};

/// The kind of the PostgreSQL failure behind `error`.
#[track_caller]
fn kind_of(error: &StoreError) -> PgErrorKind {
    match error {
        StoreError::Backend { source, .. } => {
            source.downcast_ref::<pflow_store_postgres::PgError>().expect("a PgError").kind()
        }
        other => panic!("expected a Backend error, got {other:?}"),
    }
}

/// One number from the admin connection.
fn count(sql: &str) -> i64 {
    let mut admin = shared().admin();
    admin.as_mut().expect("connected").query_one(sql, &[]).expect(sql).get(0)
}

/// 16 connections start on an empty schema at once, 5 times over: every one succeeds,
/// and the migrations ran once each.
#[test]
fn many_first_uses_at_once_all_succeed() {
    const STARTERS: usize = 16;
    const ROUNDS: usize = 5;
    for round in 0..ROUNDS {
        let (schema, uri) = shared().fresh_store();
        let barrier = Barrier::new(STARTERS);
        let results: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..STARTERS)
                .map(|_| {
                    let store = PgStore::open(&uri).unwrap();
                    let barrier = &barrier;
                    scope.spawn(move || {
                        barrier.wait();
                        store.list().map(|l| l.workflows.len())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("no panic")).collect()
        });
        let failed: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        assert!(failed.is_empty(), "round {round}: {failed:?}");
        let migrations = count(&format!("SELECT count(*) FROM {schema}.pflow_schema"));
        assert_eq!(migrations, i64::from(SCHEMA_VERSION), "round {round}");
    }
    println!(
        "first use: {ROUNDS} rounds of {STARTERS} connections at once on an empty schema, 0 failed"
    );
}

/// P6: a schema newer than this binary is refused — by a new connection and by one made
/// before the upgrade — with a clear error, and nothing is written.
#[test]
fn p6_a_newer_schema_is_refused_and_nothing_is_written() {
    let (schema, uri) = shared().fresh_store();
    let before = manager(&uri);
    before.create("kept", &ir(1), "").unwrap();
    let newer = SCHEMA_VERSION + 1;
    shared().execute(&format!(
        "INSERT INTO {schema}.pflow_schema (version, description) VALUES ({newer}, 'from a newer pflow')"
    ));
    let rows = || count(&format!("SELECT count(*) FROM {schema}.pflow_workflows"));
    let (rows_before, revisions) =
        (rows(), count(&format!("SELECT count(*) FROM {schema}.pflow_revisions")));

    // The connection made before the upgrade checks again inside every write.
    let err = before.update("kept", &ir(2), "", 1).unwrap_err();
    assert_eq!(kind_of(&err), PgErrorKind::NewerSchema, "{err}");
    let err = before.create("new", &ir(2), "").unwrap_err();
    assert_eq!(kind_of(&err), PgErrorKind::NewerSchema, "{err}");
    // A new one refuses to read too.
    let after = manager(&uri);
    for err in [
        after.list_all().map(drop).unwrap_err(),
        after.load("kept").map(drop).unwrap_err(),
        after.create("new", &ir(2), "").map(drop).unwrap_err(),
        after.delete("kept", pflow_store::IfCalled::Refuse).map(drop).unwrap_err(),
    ] {
        assert_eq!(kind_of(&err), PgErrorKind::NewerSchema, "{err}");
        let chain = format!("{err}: {}", std::error::Error::source(&err).unwrap());
        assert!(
            chain.contains(&format!("schema version {newer}, newer than this pflow knows")),
            "{chain}"
        );
        assert!(
            chain.starts_with("cannot open the store `postgres://")
                || chain.starts_with("failed to write to the store `postgres://"),
            "{chain}"
        );
    }
    assert_eq!(rows(), rows_before, "a row was written");
    assert_eq!(count(&format!("SELECT count(*) FROM {schema}.pflow_revisions")), revisions);
    let versions = count(&format!("SELECT max(version)::bigint FROM {schema}.pflow_schema"));
    assert_eq!(versions, i64::from(newer), "the schema was downgraded");
    println!(
        "P6: a schema at version {newer} (this pflow: {SCHEMA_VERSION}) refused by 6 calls, 0 rows written"
    );
}

/// Tables live in the connection's current schema: two libraries in one database, each
/// with its own workflows of the same name.
#[test]
fn each_schema_is_a_library_of_its_own() {
    let (a, b) = (manager(&fresh_uri()), manager(&fresh_uri()));
    a.create("same", &ir(1), "in a").unwrap();
    b.create("same", &ir(2), "in b").unwrap();
    assert_eq!(a.load("same").unwrap().description, "in a");
    assert_eq!(b.load("same").unwrap().description, "in b");
    a.delete("same", pflow_store::IfCalled::Refuse).unwrap();
    assert_eq!(b.list_all().unwrap().workflows.len(), 1);
}

/// A `search_path` that names no schema that exists is one clear error.
#[test]
fn a_search_path_without_a_schema_is_refused() {
    let uri = shared().uri_in(shared().admin_uri(), &fresh_name("missing"));
    let err = manager(&uri).list_all().unwrap_err();
    assert_eq!(kind_of(&err), PgErrorKind::NoSchema, "{err}");
}

/// A `search_path` whose first schema is the session's temporary one (`pg_temp`) is
/// refused like a missing schema: tables there vanish when the connection closes, so a
/// save would be acknowledged and then lost. Nothing is created, with or without a
/// temporary schema already made by the session's backend.
#[test]
fn a_temporary_schema_is_refused_as_missing() {
    for path in ["pg_temp", "pg_temp,public"] {
        let uri = shared().uri_in(shared().admin_uri(), path);
        let m = manager(&uri);
        let err = m.create("lost", &ir(1), "").unwrap_err();
        assert_eq!(kind_of(&err), PgErrorKind::NoSchema, "{path}: {err}");
        let chain = format!("{err}: {}", std::error::Error::source(&err).unwrap());
        assert!(chain.contains("temporary schema"), "{path}: {chain}");
        let err = manager(&uri).load("lost").unwrap_err();
        assert_eq!(kind_of(&err), PgErrorKind::NoSchema, "{path}: {err}");
    }
}

/// A read-only role lists, loads and reads the history of an up-to-date store, and is
/// refused every write with `PermissionDenied`, writing nothing.
#[test]
fn a_read_only_role_reads_and_cannot_write() {
    let (schema, uri) = shared().fresh_store();
    let m = manager(&uri);
    m.create("shared", &ir(1), "").unwrap();
    m.update("shared", &ir(2), "", 1).unwrap();
    let role = fresh_name("reader");
    shared().execute(&format!(
        "CREATE ROLE {role} LOGIN; GRANT USAGE ON SCHEMA {schema} TO {role}; \
         GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}"
    ));
    let server = shared().server().expect("the test's own server");
    let reader = manager(&shared().uri_in(&server.uri(&role, "postgres", ""), &schema));
    assert_eq!(reader.list_all().unwrap().workflows.len(), 1);
    assert_eq!(reader.history("shared").unwrap().revisions.len(), 2);
    for err in [
        reader.create("new", &ir(1), "").map(drop).unwrap_err(),
        reader.update("shared", &ir(3), "", 2).map(drop).unwrap_err(),
        reader.delete("shared", pflow_store::IfCalled::Refuse).map(drop).unwrap_err(),
    ] {
        assert_eq!(kind_of(&err), PgErrorKind::PermissionDenied, "{err}");
    }
    assert_eq!(m.load("shared").unwrap().revision, 2);
    assert!(!m.exists("new").unwrap());
}

/// What a row holds: the document exactly as it was written, and a summary beside it;
/// a row whose summary was cleared is listed from its document.
#[test]
fn rows_hold_the_stored_text_and_a_summary() {
    let (schema, uri) = shared().fresh_store();
    let m = manager(&uri);
    m.create("fix", &ir(1), "fixes").unwrap();
    let doc = m.load("fix").unwrap();
    let mut admin = shared().admin();
    let client = admin.as_mut().expect("connected");
    let row = client
        .query_one(&format!("SELECT document, summary FROM {schema}.pflow_workflows"), &[])
        .unwrap();
    let (text, summary): (String, String) = (row.get(0), row.get(1));
    assert_eq!(text, doc.to_pretty_json());
    let summary: pflow_store::Summary = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary, pflow_store::Summary::of(&doc));
    client.batch_execute(&format!("UPDATE {schema}.pflow_workflows SET summary = NULL")).unwrap();
    drop(admin);
    assert_eq!(m.list_all().unwrap().workflows, [pflow_store::Summary::of(&doc)]);
    assert_eq!(m.store().counts().unwrap().unreadable, 0);
    let _ = name("fix");
}
