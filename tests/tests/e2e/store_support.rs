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
