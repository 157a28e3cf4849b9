//! Shared helpers: sample workflows and the backends every suite runs against.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pflow_ir::{Document, Timestamp, WorkflowIr, WorkflowName};
use pflow_store::sim::{PowerLoss, SimFs};
use pflow_store::testing::Harness;
use pflow_store::{FsStore, MemoryStore, StoredDocument, WorkflowManager, WorkflowStore};
use serde_json::json;

/// A valid IR whose content depends on `n`, with one input and one output.
pub(crate) fn ir(n: u64) -> WorkflowIr {
    serde_json::from_value(json!({
        "ir_version": "0.1.0",
        "inputs": { "who": { "type": "string", "required": false } },
        "outputs": { "said": { "source": "${a.stdout}" } },
        "nodes": [{ "id": "a", "type": "shell", "params": { "command": format!("echo {n}") } }],
        "edges": []
    }))
    .expect("the sample IR is well-formed")
}

/// A valid IR that calls the saved workflow `callee` by name.
pub(crate) fn calling(callee: &str) -> WorkflowIr {
    serde_json::from_value(json!({
        "ir_version": "0.1.0",
        "nodes": [{ "id": "call", "type": "workflow", "params": { "workflow_name": callee } }]
    }))
    .expect("the calling IR is well-formed")
}

/// A name that is known to be valid.
pub(crate) fn name(s: &str) -> WorkflowName {
    WorkflowName::new(s).expect("test names are valid")
}

/// A first-revision document.
pub(crate) fn doc(n: &str, content: u64) -> Document {
    Document::new(name(n), format!("description {content}"), ir(content), Timestamp::now())
}

/// Stores `doc` as a new workflow through the transaction primitive (no rule of the
/// manager's in between), as the raw `create` once did.
pub(crate) fn put(store: &dyn WorkflowStore, doc: &Document) {
    let stored = StoredDocument::new(doc.clone()).expect("the sample document is small");
    store.write(&mut |txn| txn.create(&stored)).expect("the primitive create works");
}

/// The file a workflow lives in under `home`.
pub(crate) fn file_of(home: &Path, n: &str) -> PathBuf {
    home.join("workflows").join(format!("{n}.json"))
}

/// One backend under test, with what a test needs to reach behind the store's back.
pub(crate) enum Backend {
    /// The in-memory store.
    Memory(Arc<MemoryStore>),
    /// The filesystem store on the real filesystem, in a temporary home.
    Fs { store: Arc<FsStore>, home: PathBuf, _dir: tempfile::TempDir },
    /// The filesystem store on the simulated filesystem.
    Sim { store: Arc<FsStore>, sim: SimFs, home: PathBuf },
}

/// Where the simulated home lives.
pub(crate) const SIM_HOME: &str = "/home/user/.pflow";

impl Backend {
    pub(crate) fn memory() -> Backend {
        Backend::Memory(Arc::new(MemoryStore::new()))
    }

    pub(crate) fn fs() -> Backend {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        Backend::Fs { store: Arc::new(FsStore::new(&home)), home, _dir: dir }
    }

    pub(crate) fn sim() -> Backend {
        let sim = SimFs::new();
        sim.plant_dir(Path::new("/home/user"));
        let home = PathBuf::from(SIM_HOME);
        let store = Arc::new(FsStore::with_fs(&home, Arc::new(sim.clone())));
        Backend::Sim { store, sim, home }
    }

    pub(crate) fn store(&self) -> Arc<dyn WorkflowStore> {
        match self {
            Backend::Memory(store) => store.clone(),
            Backend::Fs { store, .. } | Backend::Sim { store, .. } => store.clone(),
        }
    }

    pub(crate) fn manager(&self) -> WorkflowManager {
        WorkflowManager::new(self.store())
    }

    /// Damages the entry of `n` so that it cannot be read.
    pub(crate) fn plant_corrupt(&self, n: &str) {
        match self {
            Backend::Memory(store) => store.plant_corrupt(&name(n), "planted corruption"),
            Backend::Fs { home, .. } => {
                let path = file_of(home, n);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, b"{ \"name\": \"planted").unwrap();
            }
            Backend::Sim { sim, home, .. } => {
                sim.plant_file(&file_of(home, n), b"{ \"name\": \"planted")
            }
        }
    }

    /// Simulates the process (or machine) going away and a new one opening the store.
    pub(crate) fn crash_and_reopen(&mut self) {
        match self {
            // Nothing of the in-memory store outlives its process; every acknowledged
            // operation is already in the map.
            Backend::Memory(_) => {}
            Backend::Fs { store, home, .. } => *store = Arc::new(FsStore::new(&*home)),
            Backend::Sim { store, sim, home } => {
                *sim = sim.power_loss_now(PowerLoss::LoseUnsynced);
                *store = Arc::new(FsStore::with_fs(&*home, Arc::new(sim.clone())));
            }
        }
    }
}

/// Each backend is a harness of the suites in `pflow_store::testing`.
impl Harness for Backend {
    fn store(&self) -> Arc<dyn WorkflowStore> {
        Backend::store(self)
    }

    fn plant_corrupt(&self, name: &WorkflowName) {
        Backend::plant_corrupt(self, name.as_str());
    }

    fn crash_and_reopen(&mut self) {
        Backend::crash_and_reopen(self);
    }
}

/// The `make` closures the suites take, one per backend.
pub(crate) fn memory() -> Box<dyn Harness> {
    Box::new(Backend::memory())
}

pub(crate) fn fs() -> Box<dyn Harness> {
    Box::new(Backend::fs())
}

pub(crate) fn sim() -> Box<dyn Harness> {
    Box::new(Backend::sim())
}
