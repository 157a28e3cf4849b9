//! Benchmarks of the filesystem store (divan): save, load, and `list_all` in stores of
//! 10, 1 000 and 10 000 workflows; listing with a warm index and with a cold one (the
//! index removed before every listing, so every file is read and the index rebuilt).
//! Results are recorded in docs/performance.md.

use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use divan::{AllocProfiler, Bencher};
use pflow_ir::{Document, Timestamp, WorkflowIr, WorkflowName};
use pflow_store::{FsStore, StoredDocument, WorkflowManager, WorkflowStore};
use serde_json::json;

#[global_allocator]
static ALLOC: AllocProfiler = AllocProfiler::system();

fn main() {
    divan::main();
}

/// A small but typical workflow: two inputs, three nodes, one output.
fn sample_ir(i: usize) -> WorkflowIr {
    serde_json::from_value(json!({
        "ir_version": "0.1.0",
        "inputs": {
            "repo": { "type": "string", "description": "the repository" },
            "issue": { "type": "integer", "required": false }
        },
        "outputs": { "url": { "source": "${pr.stdout}" } },
        "nodes": [
            { "id": "fetch", "type": "shell", "params": { "command": format!("gh issue view {i}") } },
            { "id": "fix", "type": "llm", "params": { "prompt": "Fix: ${fetch.stdout}" } },
            { "id": "pr", "type": "shell", "params": { "command": "gh pr create --fill" } }
        ],
        "edges": [ { "from": "fetch", "to": "fix" }, { "from": "fix", "to": "pr" } ]
    }))
    .expect("the sample IR is well-formed")
}

fn sample_doc(i: usize) -> Document {
    let name = WorkflowName::new(&format!("workflow-{i:05}")).expect("a valid name");
    Document::new(name, format!("Fixes issue {i} and opens a PR"), sample_ir(i), Timestamp::now())
}

/// A store in `dir` holding `n` workflows, written directly in the store's format, with
/// a warm index.
fn populate(dir: &Path, n: usize) -> FsStore {
    let store = FsStore::new(dir);
    let first = StoredDocument::new(sample_doc(0)).expect("a small document");
    store.write(&mut |txn| txn.create(&first)).expect("the first save works");
    for i in 1..n {
        let path = store.workflows_dir().join(format!("workflow-{i:05}.json"));
        fs::write(path, sample_doc(i).to_pretty_json()).expect("writing a workflow works");
    }
    // Let the files' timestamps fall behind the filesystem clock, so that the index
    // trusts them, then build the index.
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(store.list().expect("listing works").workflows.len(), n);
    store
}

/// Saving one new workflow into a store that holds `n`: validation, the call check, the
/// durable write (fsync of the file and the directory). One save per sample, so the store
/// grows by at most the sample count during a run.
#[divan::bench(args = [10, 1_000, 10_000], sample_count = 50, sample_size = 1)]
fn save(bencher: Bencher<'_, '_>, n: usize) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let manager = WorkflowManager::new(Arc::new(populate(dir.path(), n)));
    let ir = sample_ir(1);
    let next = AtomicU64::new(0);
    bencher
        .with_inputs(|| format!("saved-{}", next.fetch_add(1, Ordering::Relaxed)))
        .bench_local_values(|name| manager.create(&name, &ir, "a saved workflow").expect("saves"));
}

#[divan::bench(args = [10, 1_000, 10_000])]
fn load(bencher: Bencher<'_, '_>, n: usize) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let manager = WorkflowManager::new(Arc::new(populate(dir.path(), n)));
    let name = format!("workflow-{:05}", n / 2);
    bencher.bench_local(|| manager.load(&name).expect("loads"));
}

#[divan::bench(args = [10, 1_000, 10_000], sample_count = 30)]
fn list_warm(bencher: Bencher<'_, '_>, n: usize) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = populate(dir.path(), n);
    bencher.bench_local(|| {
        let listing = store.list().expect("lists");
        assert_eq!(listing.workflows.len(), n);
        listing
    });
}

#[divan::bench(args = [10, 1_000, 10_000], sample_count = 15)]
fn list_cold(bencher: Bencher<'_, '_>, n: usize) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = populate(dir.path(), n);
    let index = store.workflows_dir().join(".index.json");
    bencher.with_inputs(|| fs::remove_file(&index).expect("the index exists")).bench_local_values(
        |()| {
            let listing = store.list().expect("lists");
            assert_eq!(listing.workflows.len(), n);
            listing
        },
    );
}
