//! Tidy checks over the source tree, run as ordinary tests by `cargo test --workspace`.

use std::fs;
use std::path::{Path, PathBuf};

/// Every Rust source file of the workspace that is under version control's eye.
fn rust_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["crates", "xtask", "tests"] {
        collect(&root.join(dir), &mut files);
    }
    files.sort();
    files
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

fn root() -> PathBuf {
    crate::workspace_root()
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root()).unwrap_or(path).display().to_string()
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let offenders: Vec<String> = rust_files(&root())
        .into_iter()
        .filter(|path| {
            let text = fs::read_to_string(path).unwrap_or_default();
            !text.starts_with("//!")
        })
        .map(|p| relative(&p))
        .collect();
    assert!(
        offenders.is_empty(),
        "files without a leading `//!` doc line:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn no_unfinished_or_hidden_code_markers() {
    // Spelled in pieces so that this file does not match itself.
    let markers = [
        concat!("todo", "!("),
        concat!("dbg", "!("),
        concat!("unimplemented", "!("),
        concat!("#[", "ignore"),
        concat!("#[", "should_panic"),
    ];
    let mut offenders = Vec::new();
    for path in rust_files(&root()) {
        let text = fs::read_to_string(&path).unwrap_or_default();
        for (number, line) in text.lines().enumerate() {
            if let Some(marker) = markers.iter().find(|m| line.contains(**m)) {
                offenders.push(format!("{}:{}: `{marker}`", relative(&path), number + 1));
            }
        }
    }
    assert!(offenders.is_empty(), "markers that must not land on main:\n{}", offenders.join("\n"));
}

#[test]
fn every_crate_uses_the_workspace_lints() {
    let mut manifests = vec![root().join("xtask/Cargo.toml"), root().join("tests/Cargo.toml")];
    if let Ok(entries) = fs::read_dir(root().join("crates")) {
        manifests.extend(entries.flatten().map(|e| e.path().join("Cargo.toml")));
    }
    let offenders: Vec<String> = manifests
        .iter()
        .filter(|m| m.exists())
        .filter(|m| {
            let text = fs::read_to_string(m).unwrap_or_default();
            !text.contains("[lints]\nworkspace = true")
        })
        .map(|m| relative(m))
        .collect();
    assert!(
        offenders.is_empty(),
        "manifests without `[lints] workspace = true`:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_ci_script_runs_the_readme_test_command() {
    let readme = fs::read_to_string(root().join("README.md")).expect("README.md exists");
    let ci = fs::read_to_string(root().join(".ci/run")).expect(".ci/run exists");
    assert!(
        readme.contains("cargo xtask ci"),
        "README.md must give `cargo xtask ci` as the test command"
    );
    assert!(
        ci.lines().any(|l| l.trim() == "cargo xtask ci"),
        ".ci/run must call exactly the README's test command"
    );
}
