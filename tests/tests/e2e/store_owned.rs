//! The store's own entries (`.tmp`, `.history`, `.trash`, `.lock`, `.index.json`) planted
//! as links, files where directories belong, and FIFOs, against every command that writes:
//! each is refused with an error naming the entry, and nothing outside the store — nor any
//! live workflow — is deleted, renamed or written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pflow_tests::TestHome;

use crate::store_support::{ir_text, report};

/// One way to plant a store entry.
#[derive(Debug, Clone, Copy)]
enum Plant {
    /// A symbolic link to a directory outside the store holding a precious file.
    LinkOutside,
    /// A symbolic link to the workflows directory itself (`ln -s . .tmp`).
    LinkToStore,
    /// A regular file where the store keeps a directory.
    File,
    /// A symbolic link to a file outside the store.
    LinkToFile,
    /// A FIFO.
    Fifo,
}

/// Where a plant goes, the plants that apply to it, and what it must be.
const ENTRIES: [(&str, &[Plant], &str); 5] = [
    (".tmp", &[Plant::LinkOutside, Plant::LinkToStore, Plant::File], "a directory"),
    (".history", &[Plant::LinkOutside, Plant::LinkToStore, Plant::File], "a directory"),
    (".trash", &[Plant::LinkOutside, Plant::LinkToStore, Plant::File], "a directory"),
    (".lock", &[Plant::LinkToFile, Plant::Fifo], "a regular file"),
    (".index.json", &[Plant::LinkToFile, Plant::Fifo], "a regular file"),
];

/// Every command that writes to the store, run from a directory holding `new.json`.
fn mutations() -> Vec<Vec<&'static str>> {
    vec![
        vec!["workflow", "save", "new.json", "--name", "fresh"],
        vec!["workflow", "save", "new.json", "--name", "greet", "--force"],
        vec!["workflow", "delete", "greet", "--yes"],
        vec!["workflow", "restore", "greet", "--revision", "1"],
        vec!["workflow", "trash", "restore", "old"],
        vec!["workflow", "trash", "restore", "nosuch"],
        vec!["workflow", "trash", "purge", "--yes"],
        vec!["workflow", "trash", "purge", "old", "--yes"],
        vec!["run", "new.json", "--save", "fresh-run"],
    ]
}

/// A home with `greet` at revision 2 (so it has a history) and `old` in the trash.
fn populated(cwd: &Path) -> TestHome {
    let home = TestHome::new();
    for (args, stdin) in [
        (vec!["workflow", "save", "-", "--name", "greet"], ir_text("one")),
        (vec!["workflow", "save", "-", "--name", "greet", "--force"], ir_text("two")),
        (vec!["workflow", "save", "-", "--name", "old"], ir_text("old")),
        (vec!["workflow", "delete", "old", "--yes"], String::new()),
    ] {
        let run = home.run_in(cwd, args, stdin.as_bytes());
        assert_eq!(run.code, 0, "{}", run.transcript());
    }
    home
}

/// The bytes of every regular file under `dir`, by path, links not followed.
fn contents(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut found = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                Ok(t) if t.is_file() => {
                    found.insert(path.clone(), std::fs::read(&path).unwrap());
                }
                _ => {}
            }
        }
    }
    found
}

/// The live workflow files (`workflows/*.json`) and their bytes.
fn live(home: &TestHome) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut found = BTreeMap::new();
    for entry in std::fs::read_dir(home.workflows()).unwrap().flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && name.ends_with(".json") && path.is_file() {
            found.insert(path.clone(), std::fs::read(&path).unwrap());
        }
    }
    found
}

/// Puts `plant` in place of `entry` (removing what the store made there), with the
/// outside directory `outside`.
fn plant(home: &TestHome, entry: &str, plant: Plant, outside: &Path) {
    let path = home.workflows().join(entry);
    match std::fs::symlink_metadata(&path) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(&path).unwrap(),
        Ok(_) => std::fs::remove_file(&path).unwrap(),
        Err(_) => {}
    }
    match plant {
        Plant::LinkOutside => std::os::unix::fs::symlink(outside, &path).unwrap(),
        Plant::LinkToStore => std::os::unix::fs::symlink(".", &path).unwrap(),
        Plant::File => std::fs::write(&path, b"not a directory").unwrap(),
        Plant::LinkToFile => std::os::unix::fs::symlink(outside.join("precious"), &path).unwrap(),
        Plant::Fifo => {
            let made = std::process::Command::new("mkfifo").arg(&path).status().unwrap();
            assert!(made.success(), "mkfifo {}: {made}", path.display());
        }
    }
}

#[test]
fn planted_store_entries_are_refused_by_every_write_and_nothing_outside_is_touched() {
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("new.json"), ir_text("new")).unwrap();
    let mut refused = 0;
    for (entry, plants, expected) in ENTRIES {
        for &kind in plants {
            for args in mutations() {
                let outside = tempfile::tempdir().unwrap();
                std::fs::write(outside.path().join("precious"), b"keep me").unwrap();
                std::fs::write(outside.path().join("stale.tmp"), b"keep me too").unwrap();
                let home = populated(cwd.path());
                plant(&home, entry, kind, outside.path());
                let outside_before = contents(outside.path());
                let live_before = live(&home);

                let run = home.run_in(cwd.path(), &args, b"");
                let what = format!("{entry} as {kind:?}, `pflow {}`", args.join(" "));
                assert_eq!(run.code, 1, "{what}: {}", run.transcript());
                let location = home.workflows().join(entry);
                assert!(
                    run.stderr
                        .contains(&format!("the store's own entry `{}` is ", location.display()))
                        && run.stderr.contains(&format!("instead of {expected}")),
                    "{what}: {}",
                    run.transcript()
                );
                assert!(run.stderr.contains("hint: move `"), "{what}: {}", run.transcript());
                assert_eq!(contents(outside.path()), outside_before, "{what}: outside changed");
                assert_eq!(live(&home), live_before, "{what}: a live workflow changed");
                refused += 1;
            }
        }
    }
    report(format!("store entries: {refused} planted writes refused, nothing outside touched"));
}

/// Reads keep working around a planted temp directory, and say why the list index was
/// not refreshed; the history and the trash refuse a planted directory of theirs.
#[test]
fn reads_report_planted_entries_without_following_them() {
    let cwd = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("precious"), b"keep me").unwrap();
    let home = populated(cwd.path());
    std::fs::remove_file(home.workflows().join(".index.json")).unwrap();
    plant(&home, ".tmp", Plant::LinkOutside, outside.path());
    let list = home.run(["workflow", "list"]);
    assert_eq!(list.code, 0, "{}", list.transcript());
    assert!(list.stdout.contains("greet"), "{}", list.transcript());
    assert!(
        list.stderr
            .contains("a symbolic link instead of a directory; the list index was not updated"),
        "{}",
        list.transcript()
    );
    assert_eq!(
        std::fs::read_dir(outside.path()).unwrap().count(),
        1,
        "a temp file was written outside"
    );

    plant(&home, ".history", Plant::LinkOutside, outside.path());
    let history = home.run(["workflow", "history", "greet"]);
    assert_eq!(history.code, 1, "{}", history.transcript());
    assert!(history.stderr.contains(".history` is a symbolic link instead of a directory"));
    plant(&home, ".trash", Plant::File, outside.path());
    let trash = home.run(["workflow", "trash", "list"]);
    assert_eq!(trash.code, 1, "{}", trash.transcript());
    assert!(trash.stderr.contains(".trash` is a regular file instead of a directory"));
    // Neither message offers to delete a workflow: the entry is the store's, not one.
    for run in [&history, &trash] {
        assert!(!run.stderr.contains("workflow delete"), "{}", run.transcript());
    }
}
