//! `pflow validate` end to end: every bundled example (valid ones exit 0, the broken one
//! exits 1 and reports each of its problems), and hostile input files (RELIABILITY H3,
//! H4, H7).

use std::path::{Path, PathBuf};
use std::time::Duration;

use pflow_tests::{HostileInputs, TestHome};

use crate::store_support::report;

/// The repository's `examples/` directory.
fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// Every workflow file (`.json` or `.pflow.md`) under `dir`, sorted.
fn workflow_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "json")
                || path.to_string_lossy().ends_with(".pflow.md")
            {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The problems `examples/invalid/broken.json` is built to show, each as (path, part of
/// the message).
const BROKEN_PROBLEMS: [(&str, &str); 11] = [
    ("edge", "unknown field `edge`"),
    ("ir_version", "`1.0` is not a version of the form MAJOR.MINOR.PATCH"),
    ("inputs.input_file.type", "unknown type `str`"),
    ("inputs.input_file", "is required but has a default"),
    ("nodes[0].params.file_path", "`${inptu_file}` refers to `inptu_file`"),
    ("nodes[1].params.command", "is interpolated into a shell command"),
    ("nodes[2].id", "duplicate node id `read`"),
    ("nodes[2].params.message", "which does not run before"),
    ("nodes[3]", "unreachable"),
    ("edges[1].to", "edge to `wrte` is not a node"),
    ("edges[2]", "the edges form a cycle: read -> count -> read"),
];

#[test]
fn every_example_validates_as_intended() {
    let home = TestHome::new();
    let catalog = pflow_exec::builtin_catalog();
    // The nested examples call each other by saved name: `validate` checks those calls
    // against the home, so they are saved first, callees first, as the README does.
    for name in ["text-upper", "text-shout", "text-announce"] {
        let file = examples_dir().join(format!("nested/{name}.json"));
        let save = home.run([
            Path::new("workflow"),
            Path::new("save"),
            &file,
            Path::new("--name"),
            Path::new(name),
        ]);
        assert_eq!(save.code, 0, "{}", save.transcript());
    }
    let files = workflow_files(&examples_dir());
    let (mut valid, mut invalid) = (0, 0);
    for file in &files {
        let is_invalid = file.parent().is_some_and(|p| p.ends_with("invalid"));
        let run = home.run([Path::new("validate"), file]);
        let json = home.run([Path::new("validate"), Path::new("--json"), file]);
        let diagnostics: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
        if is_invalid {
            invalid += 1;
            assert_eq!(run.code, 1, "{}", run.transcript());
            assert_eq!(json.code, 1, "{}", json.transcript());
            continue;
        }
        valid += 1;
        assert_eq!(run.code, 0, "{}: {}", file.display(), run.transcript());
        assert!(run.stderr.contains("valid:"), "{}", run.transcript());
        assert_eq!(diagnostics, serde_json::json!([]), "{}", file.display());
        // The examples stay valid when node types and parameters are checked too.
        let value = pflow_store::read_workflow_file(file).unwrap().value;
        let checked = pflow_ir::WorkflowSource::from_value(&value).validate(Some(&catalog));
        assert!(
            checked.diagnostics().is_empty(),
            "{}: {:?}",
            file.display(),
            checked.diagnostics()
        );
    }
    assert!(valid >= 3 && invalid >= 1, "{valid} valid and {invalid} invalid examples");
    report(format!("examples: {valid} valid (exit 0), {invalid} invalid (exit 1)"));
}

/// H7 for `validate`: the broken example's problems are all reported at once, each with
/// its path, in the human output and in the JSON.
#[test]
fn the_broken_example_reports_every_problem() {
    let home = TestHome::new();
    let file = examples_dir().join("invalid/broken.json");
    let run = home.run([Path::new("validate"), &file]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    for (path, message) in BROKEN_PROBLEMS {
        let found = run.stderr.lines().any(|l| {
            (l.starts_with(&format!("error: {path}: "))
                || l.starts_with(&format!("warning: {path}: ")))
                && l.contains(message)
        });
        assert!(found, "no `{path}: …{message}…` in\n{}", run.stderr);
    }
    let json = home.run([Path::new("validate"), Path::new("--json"), &file]);
    let diagnostics: Vec<serde_json::Value> = serde_json::from_str(&json.stdout).unwrap();
    for (path, message) in BROKEN_PROBLEMS {
        assert!(
            diagnostics
                .iter()
                .any(|d| d["path"] == path && d["message"].as_str().unwrap().contains(message)),
            "no {path} in {}",
            json.stdout
        );
    }
    let errors = diagnostics.iter().filter(|d| d["severity"] == "error").count();
    assert!(
        run.stderr.contains(&format!("{errors} errors, {} warnings", diagnostics.len() - errors))
    );
    report(format!(
        "H7 validate: broken example, {} problems reported at once ({errors} errors)",
        diagnostics.len()
    ));
}

/// H3, H4 for `validate`: input files that are not regular files, or are huge, fail
/// promptly with a clear error.
#[test]
fn hostile_input_files_fail_promptly() {
    let home = TestHome::new();
    let inputs = HostileInputs::new();

    let mut slowest = Duration::ZERO;
    for (path, why) in [
        (&inputs.fifo, "not a regular file"),
        (&inputs.socket, "not a regular file"),
        (&inputs.zero, "not a regular file"),
        (&inputs.big, "too large"),
    ] {
        let (run, took) = home.run_bounded([Path::new("validate"), path], Duration::from_secs(20));
        slowest = slowest.max(took);
        assert_eq!(run.code, 1, "{}", run.transcript());
        assert!(
            run.stderr.starts_with("error: cannot read `") || run.stderr.starts_with("error: `"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains(why), "want {why:?} in {}", run.stderr);
    }
    // Generous against the 1 s of RELIABILITY H3: this only catches a hang, not a slow disk.
    assert!(slowest < Duration::from_secs(10), "slowest took {slowest:?}");
    report(format!(
        "H3/H4 validate: FIFO, socket, /dev/zero link and a 100 MB file: clean errors, slowest {} ms",
        slowest.as_millis()
    ));
}
