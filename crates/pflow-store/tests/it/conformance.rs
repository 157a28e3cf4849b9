//! The conformance suite (`pflow_store::testing::conformance`) run against every backend
//! of this crate — in memory, on the filesystem, on the simulated filesystem — and the
//! filesystem store's own share: what only files on disk show.

use std::ops::ControlFlow;
use std::sync::Arc;

use pflow_ir::{Document, WorkflowName};
use pflow_store::testing::{self, Harness};
use pflow_store::{
    FsStore, History, Listed, Listing, Location, MemoryStore, StoreError, StoreResult, Transaction,
    TrashListing, Trashed, WorkflowManager, WorkflowStore,
};

use crate::common::{self, doc, file_of, ir, name, put};

#[test]
fn conformance_memory() {
    testing::conformance(&common::memory);
}

#[test]
fn conformance_fs() {
    testing::conformance(&common::fs);
}

#[test]
fn conformance_sim() {
    testing::conformance(&common::sim);
}

/// The suite can fail, and says where: a store that forgets every revision it keeps fails
/// the cases about history, each by name, and passes the others.
#[test]
fn the_suite_names_every_failing_case() {
    let failed = std::panic::catch_unwind(|| {
        testing::conformance(&|| Box::new(Forgetful::default()) as Box<dyn Harness>)
    });
    let payload = failed.expect_err("a store without history passed the conformance suite");
    let message = payload.downcast_ref::<String>().expect("a formatted message");
    for case in [
        "update_keeps_every_previous_revision",
        "load_revision_gives_any_kept_revision",
        "a_workflow_saved_again_after_a_delete_starts_a_new_history",
    ] {
        assert!(message.contains(&format!("\n  {case}: ")), "{case} not named in:\n{message}");
    }
    for case in ["save_then_load_round_trips", "list_is_sorted_by_name_with_summaries"] {
        assert!(!message.contains(&format!("\n  {case}: ")), "{case} named in:\n{message}");
    }
    println!("a store without history: {}", message.lines().next().unwrap_or_default());
}

/// The model can fail too: M1 finds the store that forgets its history.
#[test]
fn the_model_finds_a_store_without_history() {
    let failed = std::panic::catch_unwind(|| {
        testing::model(&|| Box::new(Forgetful::default()) as Box<dyn Harness>, 64)
    });
    let payload = failed.expect_err("a store without history matched the model");
    let message = payload.downcast_ref::<String>().expect("a formatted message");
    assert!(message.contains("minimal failing input"), "{message}");
    println!("M1 on a store without history: {}", message.lines().next().unwrap_or_default());
}

/// An in-memory store that keeps no history: every kept revision is lost.
#[derive(Debug, Default)]
struct Forgetful(Arc<MemoryStore>);

impl Harness for Forgetful {
    fn store(&self) -> Arc<dyn WorkflowStore> {
        Arc::new(ForgetfulStore(self.0.clone()))
    }

    fn plant_corrupt(&self, name: &WorkflowName) {
        self.0.plant_corrupt(name, "planted corruption");
    }

    fn crash_and_reopen(&mut self) {}
}

#[derive(Debug)]
struct ForgetfulStore(Arc<MemoryStore>);

impl WorkflowStore for ForgetfulStore {
    fn load(&self, name: &WorkflowName) -> StoreResult<Document> {
        self.0.load(name)
    }

    fn visit(&self, visit: &mut dyn FnMut(Listed) -> ControlFlow<()>) -> StoreResult<()> {
        self.0.visit(visit)
    }

    fn list(&self) -> StoreResult<Listing> {
        self.0.list()
    }

    fn exists(&self, name: &WorkflowName) -> StoreResult<bool> {
        self.0.exists(name)
    }

    fn kept_revisions(&self, _current: &Document) -> StoreResult<History> {
        Ok(History::default())
    }

    fn kept_revision(&self, _current: &Document, _revision: u64) -> StoreResult<Option<Document>> {
        Ok(None)
    }

    fn trash(&self) -> StoreResult<TrashListing> {
        self.0.trash()
    }

    fn trashed(&self, name: &WorkflowName) -> StoreResult<Vec<Trashed>> {
        self.0.trashed(name)
    }

    fn locate(&self, name: &WorkflowName) -> Location {
        self.0.locate(name)
    }

    fn write(
        &self,
        work: &mut dyn FnMut(&mut dyn Transaction) -> StoreResult<()>,
    ) -> StoreResult<()> {
        self.0.write(work)
    }
}

/// `Io` cannot happen in memory; on the filesystem it names the action and the path.
#[test]
fn io_errors_name_the_action_and_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::write(&home, b"a file where the home should be").unwrap();
    let m = WorkflowManager::new(Arc::new(FsStore::new(&home)));
    match m.create("fix-issue", &ir(1), "").unwrap_err() {
        StoreError::Io { action, path, source } => {
            assert_eq!(action, "create directory");
            assert!(path.starts_with(&home), "{}", path.display());
            assert_eq!(source.kind(), std::io::ErrorKind::NotADirectory);
        }
        other => panic!("expected Io, got {other:?}"),
    }
    match m.list_all().unwrap_err() {
        StoreError::Io { action, path, .. } => {
            assert_eq!((action, path), ("list", home.join("workflows")));
        }
        other => panic!("expected Io, got {other:?}"),
    }
    // Every write creates the home first (it no longer starts by taking the lock).
    let err = m.update("fix-issue", &ir(1), "", 1).unwrap_err();
    assert!(matches!(err, StoreError::Io { action: "create directory", .. }), "{err:?}");
    assert!(err.to_string().starts_with("failed to create directory `"), "{err}");
    assert_eq!(std::fs::read(&home).unwrap(), b"a file where the home should be");
}

/// The home is created by the first write, private (0700), and reads create nothing.
#[test]
fn a_new_home_is_created_private_by_the_first_write() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("a/b/home");
    let store = FsStore::new(&home);
    assert_eq!(store.home(), home);
    assert!(store.list().unwrap().workflows.is_empty());
    assert!(matches!(store.load(&name("x")), Err(StoreError::WorkflowNotFound { .. })));
    assert!(!dir.path().join("a").exists(), "a read created something");
    put(&store, &doc("x", 1));
    for path in [home.clone(), home.join("workflows")] {
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", path.display());
    }
    let text = std::fs::read_to_string(home.join("workflows/x.json")).unwrap();
    assert_eq!(text, store.load(&name("x")).unwrap().to_pretty_json());
    assert!(text.ends_with("}\n"));
}

/// A refused update at the last revision number leaves the file byte for byte, and no
/// temp file or kept revision behind.
#[test]
fn the_last_revision_number_leaves_the_file_alone() {
    let backend = common::Backend::fs();
    let common::Backend::Fs { home, .. } = &backend else { unreachable!("an fs backend") };
    let store = backend.store();
    put(&*store, &Document { revision: u64::MAX, ..doc("last", 1) });
    let path = file_of(home, "last");
    let before = std::fs::read(&path).unwrap();
    let err = backend.manager().update("last", &ir(2), "", u64::MAX).unwrap_err();
    assert!(matches!(err, StoreError::RevisionLimit { revision: u64::MAX, .. }), "{err:?}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let workflows = home.join("workflows");
    assert!(!workflows.join(".history/last").exists(), "a revision was kept");
    let temps = std::fs::read_dir(workflows.join(".tmp")).map_or(0, |d| d.count());
    assert_eq!(temps, 0, "temp files left");
}

/// A document over the size limit is refused before anything is written: no file, no
/// temp file.
#[test]
fn a_document_over_the_size_limit_writes_no_file() {
    let backend = common::Backend::fs();
    let common::Backend::Fs { home, .. } = &backend else { unreachable!("an fs backend") };
    let m = backend.manager();
    m.create("keep", &ir(1), "").unwrap();
    let big = serde_json::json!({
        "ir_version": "0.1.0",
        "nodes": [{ "id": "a", "type": "shell", "params": {
            "command": "x".repeat(pflow_store::MAX_DOCUMENT_BYTES as usize)
        } }]
    });
    let big = serde_json::from_value(big).unwrap();
    assert!(matches!(m.create("big", &big, ""), Err(StoreError::TooLarge { .. })));
    assert!(matches!(m.update("keep", &big, "", 1), Err(StoreError::TooLarge { .. })));
    assert!(!file_of(home, "big").exists());
    let workflows = home.join("workflows");
    let temps = std::fs::read_dir(workflows.join(".tmp")).map_or(0, |d| d.count());
    assert_eq!(temps, 0, "temp files left");
    assert!(!workflows.join(".history/keep").exists(), "a revision was kept");
    assert_eq!(m.load("keep").unwrap().ir, ir(1));
}
