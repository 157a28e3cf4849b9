//! The integration tests of pflow-md: the IR of every fixture against what pflow 0.16
//! read from it (recorded by `tests/fixtures/record.py`), the round trip through the
//! writer, and the parser on hostile and generated text.

mod conformance;
mod fuzz;
mod hostile;
mod roundtrip;

use std::path::{Path, PathBuf};

use serde_json::Value;

/// Every fixture of a folder under `tests/fixtures`: its text and what 0.16 read.
pub(crate) fn fixtures(dir: &str) -> Vec<(PathBuf, String, Value)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|entry| entry.expect("a fixture entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".pflow.md"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let name = path
                .file_name()
                .expect("a file")
                .to_string_lossy()
                .replace(".pflow.md", ".expected.json");
            let expected_path = path.with_file_name(name);
            let expected = std::fs::read_to_string(&expected_path).unwrap_or_else(|e| {
                panic!("{}: {e} (run tests/fixtures/record.py)", expected_path.display())
            });
            let expected = serde_json::from_str(&expected).expect("recorded JSON");
            (path, text, expected)
        })
        .collect()
}
