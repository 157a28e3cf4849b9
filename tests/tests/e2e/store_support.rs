//! Helpers shared by the store's end-to-end tests: counts from the environment, sample
//! workflows, reports that stay visible, and a scan of the store directory as a careful
//! outsider sees it.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::io::Write;
use std::path::{Path, PathBuf};

use pflow_ir::{Document, WorkflowName};
use serde_json::{Value, json};

/// A campaign size from the environment variable `var`, else `default`.
pub(crate) fn count_from_env(var: &str, default: usize) -> usize {
    match std::env::var(var) {
        Ok(text) => text.parse().unwrap_or_else(|_| panic!("{var}={text:?} is not a count")),
        Err(_) => default,
    }
}

/// Prints a result line that stays visible in `cargo test` output.
///
/// libtest captures `println!`/`eprintln!` of passing tests; the figures RELIABILITY.md
/// asks for (and SKIPPED lines) must be seen in CI logs, so they go straight to stderr.
pub(crate) fn report(line: impl Display) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// A valid one-node workflow whose `echo` message is `value`, as JSON text.
pub(crate) fn ir_text(value: impl Into<Value>) -> String {
    ir_value(value).to_string()
}

/// A valid one-node workflow whose `echo` message is `value`.
pub(crate) fn ir_value(value: impl Into<Value>) -> Value {
    json!({
        "ir_version": "0.1.0",
        "nodes": [{ "id": "n", "type": "echo", "params": { "message": value.into() } }]
    })
}

/// The `echo` message of a workflow built by [`ir_value`].
pub(crate) fn message_of(ir: &Value) -> Value {
    ir["nodes"][0]["params"]["message"].clone()
}

/// What a directory listing of `<home>/workflows` shows, classified independently of the
/// store's own code.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// `<name>.json` regular files that parse as documents, by name.
    pub(crate) documents: BTreeMap<String, Document>,
    /// `<name>.json` entries that do not parse (torn, empty, not a file), with why.
    pub(crate) corrupt: Vec<(String, String)>,
    /// Leftover temporary files (the store writes them in `workflows/.tmp/`).
    pub(crate) temps: Vec<String>,
}

/// Scans `dir` (a store's `workflows` directory; absent means empty).
///
/// Dot files are the store's bookkeeping (`.lock`, `.index.json`) and are not looked at;
/// `.tmp/` holds temp files while they are written.
pub(crate) fn scan(dir: &Path) -> Scan {
    let mut scan = Scan::default();
    let Ok(entries) = std::fs::read_dir(dir) else { return scan };
    for entry in entries {
        let entry = entry.expect("read a directory entry");
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(name) = document_name(&file_name) else { continue };
        match std::fs::read(entry.path()) {
            Ok(bytes) => match serde_json::from_slice::<Document>(&bytes) {
                Ok(doc) => {
                    scan.documents.insert(name.to_owned(), doc);
                }
                Err(e) => scan.corrupt.push((file_name, e.to_string())),
            },
            Err(e) => scan.corrupt.push((file_name, e.to_string())),
        }
    }
    if let Ok(temps) = std::fs::read_dir(dir.join(".tmp")) {
        scan.temps = temps.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    }
    scan
}

/// The workflow name of a document's file name (`fix-issue.json` → `fix-issue`).
pub(crate) fn document_name(file_name: &str) -> Option<&str> {
    let stem = file_name.strip_suffix(".json")?;
    WorkflowName::new(stem).is_ok().then_some(stem)
}

/// Every path under `root`, recursively, relative to it (directories included).
pub(crate) fn tree(root: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            out.push(path.strip_prefix(root).expect("entries lie under the root").to_owned());
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                walk(root, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// One document found in the store, with the creation time (in microseconds) that keys
/// its history.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub(crate) doc: Document,
    pub(crate) created: i64,
}

/// Everything a store directory holds, read file by file independently of the store's
/// code, following the documented layout (docs/store.md): live documents, trash entries
/// (`.trash/<name>@<deleted>[@<created>].json`) and kept revisions
/// (`.history/<name>/<created>@<revision>.json`).
#[derive(Debug, Default)]
pub(crate) struct FullScan {
    /// The live documents (and torn ones, and temp files), as [`scan`] sees them.
    pub(crate) live: Scan,
    /// Trash entries by name, oldest deletion first.
    pub(crate) trash: BTreeMap<String, Vec<Found>>,
    /// Kept revisions by name and creation time, by revision number.
    pub(crate) history: BTreeMap<(String, i64), BTreeMap<u64, Document>>,
    /// Files in `.trash/` and `.history/` that are torn or misnamed, with why.
    pub(crate) corrupt: Vec<(PathBuf, String)>,
}

impl FullScan {
    /// The revisions of `doc`'s life, oldest first, as far as they are kept: kept
    /// revisions below its own, then itself. Revisions at or above its own are leftovers
    /// of interrupted updates and not part of it.
    pub(crate) fn life(&self, name: &str, found: &Found) -> Vec<Document> {
        let mut revisions: Vec<Document> = self
            .history
            .get(&(name.to_owned(), found.created))
            .map(|kept| kept.range(..found.doc.revision).map(|(_, d)| d.clone()).collect())
            .unwrap_or_default();
        revisions.push(found.doc.clone());
        revisions
    }
}

/// Microseconds since the epoch of a document's creation time: the key of its history.
pub(crate) fn created_key(doc: &Document) -> i64 {
    let nanos = doc.created_at.datetime().unix_timestamp_nanos();
    i64::try_from(nanos / 1_000).expect("a plausible date")
}

/// Scans `dir` (a store's `workflows` directory) entirely; see [`FullScan`].
pub(crate) fn scan_all(dir: &Path) -> FullScan {
    let mut full = FullScan { live: scan(dir), ..FullScan::default() };
    let read = |path: &Path| -> Result<Document, String> {
        let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
        serde_json::from_slice::<Document>(&bytes).map_err(|e| e.to_string())
    };
    if let Ok(entries) = std::fs::read_dir(dir.join(".trash")) {
        let mut trash: BTreeMap<String, Vec<(i64, Found)>> = BTreeMap::new();
        for entry in entries {
            let path = entry.expect("read a trash entry").path();
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            let parts: Vec<&str> =
                file.strip_suffix(".json").map(|s| s.split('@').collect()).unwrap_or_default();
            let (name, deleted) = match parts.as_slice() {
                [name, deleted, ..] => (*name, deleted.parse::<i64>()),
                _ => {
                    full.corrupt.push((path, "not a trash entry name".into()));
                    continue;
                }
            };
            match (read(&path), deleted) {
                (Ok(doc), Ok(deleted)) => {
                    let created = created_key(&doc);
                    if parts.get(2).is_some_and(|c| c.parse::<i64>() != Ok(created)) {
                        full.corrupt.push((path, "creation time differs from the name".into()));
                        continue;
                    }
                    trash
                        .entry(name.to_owned())
                        .or_default()
                        .push((deleted, Found { doc, created }));
                }
                (Err(e), _) => full.corrupt.push((path, e)),
                (_, Err(e)) => full.corrupt.push((path, e.to_string())),
            }
        }
        for (name, mut entries) in trash {
            entries.sort_by_key(|(deleted, _)| *deleted);
            full.trash.insert(name, entries.into_iter().map(|(_, f)| f).collect());
        }
    }
    if let Ok(names) = std::fs::read_dir(dir.join(".history")) {
        for name_dir in names {
            let name_dir = name_dir.expect("read a history directory").path();
            let name = name_dir.file_name().unwrap().to_string_lossy().into_owned();
            for entry in std::fs::read_dir(&name_dir).expect("list a history directory") {
                let path = entry.expect("read a kept revision").path();
                let file = path.file_name().unwrap().to_string_lossy().into_owned();
                let key = file.strip_suffix(".json").and_then(|s| s.split_once('@'));
                let Some((Ok(created), Ok(revision))) =
                    key.map(|(c, r)| (c.parse::<i64>(), r.parse::<u64>()))
                else {
                    full.corrupt.push((path, "not a kept revision name".into()));
                    continue;
                };
                match read(&path) {
                    Ok(doc) if doc.revision == revision && created_key(&doc) == created => {
                        full.history
                            .entry((name.clone(), created))
                            .or_default()
                            .insert(revision, doc);
                    }
                    Ok(_) => full.corrupt.push((path, "holds another revision".into())),
                    Err(e) => full.corrupt.push((path, e)),
                }
            }
        }
    }
    full
}
