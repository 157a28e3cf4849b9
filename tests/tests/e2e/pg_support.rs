//! Helpers shared by the PostgreSQL end-to-end tests: a library in a fresh schema of the
//! test server, `pflow` commands pointed at it, and a reading of its tables done
//! independently of the store's code.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::process::Command;
use std::sync::Arc;

use pflow_ir::{Document, WorkflowName};
use pflow_store::{Summary, WorkflowManager};
use pflow_store_postgres::PgStore;
use pflow_store_postgres::testing::shared;
use pflow_tests::{Run, TestHome};

use crate::store_crash::{Life, Place};
use crate::store_support::message_of;

/// A library in a schema of its own on the shared test server, and a pflow home whose
/// commands use it (`PFLOW_STORE`).
#[derive(Debug)]
pub(crate) struct PgLibrary {
    pub(crate) uri: String,
    pub(crate) schema: String,
    pub(crate) home: TestHome,
}

impl PgLibrary {
    pub(crate) fn new() -> PgLibrary {
        let (schema, uri) = shared().fresh_store();
        // Its connections are told apart from every other test's by their name.
        let uri = format!("{uri}&application_name={schema}");
        let lib = PgLibrary { uri, schema, home: TestHome::new() };
        // The tables exist from the start, so that they can be read before any command.
        PgStore::open(&lib.uri).and_then(|s| s.connect()).expect("the test library opens");
        lib
    }

    /// `pflow ARGS` on this library.
    pub(crate) fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.home.command(args);
        cmd.env("PFLOW_STORE", &self.uri);
        cmd
    }

    pub(crate) fn run<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Run::from(self.command(args).output().expect("start pflow"))
    }

    pub(crate) fn run_with_stdin<I, S>(&self, args: I, stdin: &[u8]) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        pflow_tests::run_piped(self.command(args), stdin)
    }

    /// A manager over the library, through the library's own code.
    pub(crate) fn manager(&self) -> WorkflowManager {
        WorkflowManager::new(Arc::new(PgStore::open(&self.uri).expect("the test URI parses")))
    }

    /// Waits (10 s at most) until no connection of this library is open: the server
    /// ends a killed client's transaction — committing it if the `COMMIT` had arrived —
    /// only once it notices, and the tables are read after that.
    pub(crate) fn wait_idle(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let open: i64 = {
                let mut admin = shared().admin();
                let client = admin.as_mut().expect("connected");
                let sql = "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1";
                client.query_one(sql, &[&self.schema]).expect("read pg_stat_activity").get(0)
            };
            if open == 0 {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "{open} connections stay open");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    /// Every life of every workflow, read from the tables with SQL of the test's own, and
    /// what is wrong with them: a live name twice, a document that does not parse or is
    /// not its row's, a summary that is not its document's, a history with a gap.
    pub(crate) fn read_tables(&self) -> (BTreeMap<String, Place>, Vec<String>) {
        let mut admin = shared().admin();
        // One snapshot for both tables.
        let mut client = admin
            .as_mut()
            .expect("connected")
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .expect("begin");
        let rows = client
            .query(
                &format!(
                    "SELECT id, name, deleted_at IS NOT NULL, revision::text, document, summary \
                     FROM {}.pflow_workflows ORDER BY name, deleted_at NULLS FIRST",
                    self.schema
                ),
                &[],
            )
            .expect("read the workflows");
        let kept = client
            .query(
                &format!(
                    "SELECT workflow_id, revision::text, document FROM {}.pflow_revisions \
                     ORDER BY workflow_id, pflow_revisions.revision",
                    self.schema
                ),
                &[],
            )
            .expect("read the kept revisions");
        client.commit().expect("end the read");
        let mut history: BTreeMap<i64, Vec<(u64, String)>> = BTreeMap::new();
        for row in kept {
            let revision: String = row.get(1);
            history
                .entry(row.get(0))
                .or_default()
                .push((revision.parse().unwrap_or(0), row.get(2)));
        }
        let mut places: BTreeMap<String, Place> = BTreeMap::new();
        let mut wrong = Vec::new();
        for row in rows {
            let (id, name, trashed): (i64, String, bool) = (row.get(0), row.get(1), row.get(2));
            let revision: Option<String> = row.get(3);
            let (text, summary): (String, Option<String>) = (row.get(4), row.get(5));
            let Some(doc) = parse(&name, revision.as_deref().and_then(|r| r.parse().ok()), &text)
            else {
                wrong.push(format!("`{name}` (row {id}): its document does not parse as itself"));
                continue;
            };
            let summary: Option<Summary> = summary.and_then(|s| serde_json::from_str(&s).ok());
            if summary.as_ref() != Some(&Summary::of(&doc)) {
                wrong.push(format!("`{name}` (row {id}): its summary is not its document's"));
            }
            let mut life: Life = Vec::new();
            let kept = history.remove(&id).unwrap_or_default();
            for (i, (revision, text)) in kept.iter().enumerate() {
                if *revision != i as u64 + 1 {
                    wrong.push(format!(
                        "`{name}` (row {id}): kept revision {revision} out of place"
                    ));
                }
                match parse(&name, Some(*revision), text) {
                    Some(old) if old.created_at == doc.created_at => life.push(value_of(&old)),
                    _ => {
                        wrong.push(format!("`{name}` (row {id}): kept revision {revision} is torn"))
                    }
                }
            }
            if kept.len() as u64 + 1 != doc.revision {
                wrong.push(format!(
                    "`{name}` (row {id}): revision {} with {} kept before it",
                    doc.revision,
                    kept.len()
                ));
            }
            life.push(value_of(&doc));
            let place = places.entry(name.clone()).or_default();
            if trashed {
                place.trash.push(life);
            } else if place.live.replace(life).is_some() {
                wrong.push(format!("`{name}`: live twice"));
            }
        }
        if !history.is_empty() {
            wrong.push(format!("kept revisions of no workflow: {:?}", history.keys()));
        }
        (places, wrong)
    }
}

/// The document in `text`, if it is `name`'s at `revision`.
fn parse(name: &str, revision: Option<u64>, text: &str) -> Option<Document> {
    let doc: Document = serde_json::from_str(text).ok()?;
    let same = WorkflowName::new(name).is_ok_and(|n| n == doc.name);
    (same && Some(doc.revision) == revision).then_some(doc)
}

/// The `echo` value a document carries (`ir_text`'s message).
pub(crate) fn value_of(doc: &Document) -> u64 {
    let ir = serde_json::to_value(&doc.ir).expect("an IR serializes");
    message_of(&ir).as_u64().unwrap_or(u64::MAX)
}
