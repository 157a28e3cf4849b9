//! Bundles between real `pflow` processes (SPEC §7.1): a workflow exported with its
//! callees runs the same in an empty home; a bundle with history brings back the same
//! lives; and an import killed with `SIGKILL` at a random moment leaves every workflow
//! whole, with its callees, and is completed by running it again.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pflow_store::{FsStore, Life, WorkflowManager};
use pflow_tests::TestHome;
use serde_json::json;

use crate::store_support::{count_from_env, report};

/// The library's view of a home, to compare lives.
fn manager(home: &TestHome) -> WorkflowManager {
    WorkflowManager::new(Arc::new(FsStore::new(home.path())))
}

fn save(home: &TestHome, name: &str, ir: &serde_json::Value, extra: &[&str]) {
    let mut args = vec!["workflow", "save", "-", "--name", name];
    args.extend_from_slice(extra);
    let run = home.run_with_stdin(args, ir.to_string().as_bytes());
    assert_eq!(run.code, 0, "{}", run.transcript());
}

/// `greet` says hello to `who`; `shout` upper-cases what `greet` said; `welcome` calls
/// `shout` and `greet` and joins them.
fn library(home: &TestHome) {
    save(
        home,
        "greet",
        &json!({
            "ir_version": "0.1.0",
            "inputs": { "who": { "type": "string" } },
            "outputs": { "said": { "source": "${hi.message}" } },
            "nodes": [{ "id": "hi", "type": "echo", "params": { "message": "hello ${who}" } }]
        }),
        &[],
    );
    save(
        home,
        "shout",
        &json!({
            "ir_version": "0.1.0",
            "inputs": { "who": { "type": "string" } },
            "outputs": { "loud": { "source": "${up.stdout}" } },
            "nodes": [
                { "id": "g", "type": "workflow",
                  "params": { "workflow_name": "greet", "param_mapping": { "who": "${who}" } } },
                { "id": "up", "type": "shell",
                  "params": { "command": "tr a-z A-Z", "stdin": "${g.said}" } }
            ],
            "edges": [{ "from": "g", "to": "up" }]
        }),
        &[],
    );
    save(
        home,
        "welcome",
        &json!({
            "ir_version": "0.1.0",
            "inputs": { "who": { "type": "string" } },
            "outputs": { "text": { "source": "${both.message}" } },
            "nodes": [
                { "id": "s", "type": "workflow",
                  "params": { "workflow_name": "shout", "param_mapping": { "who": "${who}" } } },
                { "id": "g", "type": "workflow",
                  "params": { "workflow_name": "greet", "param_mapping": { "who": "${who}" } } },
                { "id": "both", "type": "echo", "params": { "message": "${s.loud} / ${g.said}" } }
            ],
            "edges": [{ "from": "s", "to": "g" }, { "from": "g", "to": "both" }]
        }),
        &["--description", "Welcomes someone"],
    );
}

#[test]
fn a_workflow_exported_with_its_callees_runs_the_same_in_an_empty_home() {
    let source = TestHome::new();
    library(&source);
    let before = source.run(["run", "welcome", "who=ada"]);
    assert_eq!(before.code, 0, "{}", before.transcript());
    assert!(before.stdout.contains("HELLO ADA"), "{}", before.transcript());

    let bundle = source.path().join("welcome.bundle.json");
    let bundle_arg = bundle.to_str().unwrap();
    let export = source.run(["workflow", "export", "welcome", "--with-callees", "-o", bundle_arg]);
    assert_eq!(export.code, 0, "{}", export.transcript());
    let target = TestHome::new();
    let import = target.run(["workflow", "import", bundle_arg]);
    assert_eq!(import.code, 0, "{}", import.transcript());
    let after = target.run(["run", "welcome", "who=ada"]);
    assert_eq!((after.code, &after.stdout), (0, &before.stdout), "{}", after.transcript());
    report(format!(
        "bundle: `welcome` and 2 callees ran the same after import: {:?}",
        after.stdout.trim()
    ));
}

#[test]
fn a_round_trip_with_history_gives_the_same_lives() {
    let source = TestHome::new();
    library(&source);
    // Three revisions of `greet`, two of `welcome`.
    for (name, desc) in [("greet", "v2"), ("greet", "v3"), ("welcome", "v2")] {
        let run = source.run(["workflow", "show", name, "--ir"]);
        save(
            &source,
            name,
            &serde_json::from_str(&run.stdout).unwrap(),
            &["--force", "--description", desc],
        );
    }
    let bundle = source.path().join("all.json");
    let bundle_arg = bundle.to_str().unwrap();
    let export = source.run([
        "workflow",
        "export",
        "welcome",
        "--with-callees",
        "--history",
        "-o",
        bundle_arg,
    ]);
    assert_eq!(export.code, 0, "{}", export.transcript());
    let target = TestHome::new();
    let import = target.run(["workflow", "import", bundle_arg]);
    assert_eq!(import.code, 0, "{}", import.transcript());
    let (lives, problems) = manager(&source).lives().unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(manager(&target).lives().unwrap(), (lives.clone(), vec![]));
    let revisions: Vec<usize> = lives.iter().map(|l| l.revisions.len()).collect();
    assert_eq!(revisions, [3, 1, 2]);
    // Again: nothing changes.
    let again = target.run(["workflow", "import", bundle_arg]);
    assert!(again.stderr.contains("0 created, 0 updated, 3 unchanged"), "{}", again.transcript());
    assert_eq!(manager(&target).lives().unwrap().0, lives);
}

/// A library of `pairs` leaves, each with three revisions, and as many tops that call
/// them, written through the library (fast), to be exported by the real binary.
fn large_library(home: &TestHome, pairs: usize) {
    let m = manager(home);
    let padding = "x".repeat(2048);
    for i in 0..pairs {
        let leaf = format!("leaf-{i}");
        for revision in 0..3u64 {
            let ir = serde_json::from_value(json!({
                "ir_version": "0.1.0",
                "nodes": [{ "id": "n", "type": "echo",
                            "params": { "message": format!("{i}.{revision} {padding}") } }]
            }))
            .unwrap();
            if revision == 0 {
                m.create(&leaf, &ir, "a leaf").unwrap();
            } else {
                m.update(&leaf, &ir, &format!("a leaf, revision {}", revision + 1), revision)
                    .unwrap();
            }
        }
        let top = serde_json::from_value(json!({
            "ir_version": "0.1.0",
            "nodes": [{ "id": "c", "type": "workflow", "params": { "workflow_name": leaf } }]
        }))
        .unwrap();
        m.create(&format!("top-{i}"), &top, "calls its leaf").unwrap();
    }
}

/// Checks that every workflow in `home` is whole and has its callees; the number saved.
fn check_whole(home: &TestHome, expected: &[Life]) -> usize {
    let m = manager(home);
    let (lives, problems) = m.lives().unwrap();
    assert!(problems.is_empty(), "torn or unreadable after a kill: {problems:?}");
    let names: BTreeSet<String> =
        lives.iter().filter_map(|l| l.name()).map(ToString::to_string).collect();
    for life in &lives {
        // A life is either not there or exactly the exported one, with every revision.
        let same = expected.iter().find(|e| e.name() == life.name()).expect("an exported name");
        assert_eq!(life, same, "a life differs from the exported one");
        for callee in pflow_ir::workflow_calls(&life.revisions.last().unwrap().ir) {
            assert!(
                names.contains(&callee),
                "{:?} saved without its callee `{callee}`",
                life.name()
            );
        }
    }
    lives.len()
}

#[test]
fn an_import_killed_at_a_random_moment_leaves_whole_workflows_and_a_rerun_completes_it() {
    let rounds = count_from_env("PFLOW_BUNDLE_KILLS", 10);
    let pairs = count_from_env("PFLOW_BUNDLE_PAIRS", 100);
    let source = TestHome::new();
    large_library(&source, pairs);
    let bundle = source.path().join("large.json");
    let bundle_arg = bundle.to_str().unwrap().to_owned();
    let export = source.run(
        ["workflow", "export", "--with-callees", "--history", "-o", &bundle_arg]
            .into_iter()
            .chain(
                (0..pairs)
                    .map(|i| format!("top-{i}"))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(String::as_str),
            )
            .collect::<Vec<&str>>(),
    );
    assert_eq!(export.code, 0, "{}", export.transcript());
    let size = std::fs::metadata(&bundle).unwrap().len();
    let (expected, _) = manager(&source).lives().unwrap();

    // How long a whole import takes here, to kill within it.
    let timing = TestHome::new();
    let started = Instant::now();
    let full = timing.run(["workflow", "import", &bundle_arg]);
    let whole_import = started.elapsed();
    assert_eq!(full.code, 0, "{}", full.transcript());
    assert_eq!(check_whole(&timing, &expected), 2 * pairs);

    let (mut mid_import, mut before_any, mut after_all) = (0, 0, 0);
    let mut written = Vec::new();
    for _ in 0..rounds {
        let home = TestHome::new();
        let mut child =
            home.command(["workflow", "import", &bundle_arg]).spawn().expect("start pflow");
        let at = Duration::from_micros(fastrand::u64(0..=whole_import.as_micros() as u64));
        std::thread::sleep(at);
        let _ = child.kill();
        let _ = child.wait();
        let count = if home.workflows().exists() { check_whole(&home, &expected) } else { 0 };
        match count {
            0 => before_any += 1,
            n if n == 2 * pairs => after_all += 1,
            n => {
                mid_import += 1;
                written.push(n);
            }
        }
        let rerun = home.run(["workflow", "import", &bundle_arg]);
        assert_eq!(rerun.code, 0, "{}", rerun.transcript());
        assert_eq!(check_whole(&home, &expected), 2 * pairs, "the re-run did not complete it");
        assert_eq!(manager(&home).lives().unwrap().0, expected);
        assert!(no_temp_files(&home.workflows()), "temp files left after the re-run");
    }
    report(format!(
        "bundle kill -9: bundle of {} workflows ({size} bytes), whole import {whole_import:?}; \
         kills = {rounds}: {mid_import} mid-import (workflows written: {written:?}), \
         {before_any} before any write, {after_all} after the last; torn = 0, without \
         callees = 0, re-runs completed = {rounds}",
        2 * pairs
    ));
    assert!(mid_import > 0, "no kill landed in the middle of an import: raise PFLOW_BUNDLE_KILLS");
}

fn no_temp_files(workflows: &Path) -> bool {
    std::fs::read_dir(workflows.join(".tmp")).map_or(true, |entries| entries.count() == 0)
}

#[test]
fn export_replaces_only_a_regular_file() {
    let home = TestHome::new();
    save(
        &home,
        "hello",
        &json!({"ir_version": "0.1.0", "nodes": [{"id": "e", "type": "echo", "params": {"message": "hi"}}]}),
        &[],
    );
    let export_to = |path: &Path| {
        home.run([
            Path::new("workflow"),
            Path::new("export"),
            Path::new("hello"),
            Path::new("-o"),
            path,
        ])
    };
    let dir = home.path().join("out");
    std::fs::create_dir(&dir).unwrap();
    let fifo = dir.join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let target = dir.join("target.txt");
    std::fs::write(&target, "keep").unwrap();
    let link = dir.join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    for (path, kind) in [(&fifo, "a FIFO"), (&link, "a symbolic link")] {
        let run = export_to(path);
        assert_eq!(run.code, 1, "{}", run.transcript());
        let expected = format!("it is {kind}, not a regular file");
        assert!(run.stderr.contains(&expected), "{}", run.transcript());
        let meta = std::fs::symlink_metadata(path).unwrap();
        assert!(!meta.file_type().is_file(), "{} was replaced by a file", path.display());
    }
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    // A regular file is replaced whole.
    let file = dir.join("bundle.json");
    std::fs::write(&file, "old").unwrap();
    let run = export_to(&file);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(std::fs::read_to_string(&file).unwrap().contains("\"hello\""));
    // A new bundle is readable by others, as a copied file would be; a replaced one keeps
    // its mode.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let new = dir.join("new.json");
    let run = export_to(&new);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(mode(&new), 0o644);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = export_to(&file);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(mode(&file), 0o600);
}
