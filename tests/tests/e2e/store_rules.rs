//! The rules the manager enforces for every backend, through the `pflow` binary: what is
//! acknowledged can be read back, revisions never wrap, a call cycle can never be stored
//! by a race, a replace racing a delete is never "not found", and a saved workflow runs
//! the same from any directory.

use std::path::Path;
use std::process::{Child, Stdio};

use pflow_tests::{Run, TestHome, release};
use serde_json::{Value, json};

use crate::store_support::{count_from_env, ir_text, report};

/// Starts `pflow ARGS` reading the workflow from stdin, blocked until `release` is called.
fn held(home: &TestHome, args: &[&str]) -> Child {
    pflow_tests::held(home.command(args))
}

/// A workflow that calls the saved workflow `callee` by name.
fn calling(callee: &str) -> String {
    json!({"ir_version": "0.1.0",
        "nodes": [{"id": "call", "type": "workflow", "params": {"workflow_name": callee}}]})
    .to_string()
}

/// The saved workflows `name` calls, as `workflow show --json` says.
fn calls_of(home: &TestHome, name: &str) -> Vec<String> {
    let show = home.run(["workflow", "show", name, "--json"]);
    assert_eq!(show.code, 0, "{}", show.transcript());
    let doc: Value = serde_json::from_str(&show.stdout).unwrap();
    doc["ir"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["params"]["workflow_name"].as_str().map(str::to_owned))
        .collect()
}

#[track_caller]
fn ok(run: Run) -> Run {
    assert_eq!(run.code, 0, "{}", run.transcript());
    run
}

/// Two processes close a cycle with `save --force` at once (`a` → `b` and `b` → `a`):
/// the check and the write are one transaction, so never both succeed.
#[test]
fn concurrent_saves_never_store_a_call_cycle() {
    let rounds = count_from_env("PFLOW_CYCLE_ROUNDS", 20);
    let home = TestHome::new();
    let (mut one, mut both, mut refusals) = (0, 0, 0);
    for round in 0..rounds {
        for name in ["a", "b"] {
            ok(home.run_with_stdin(
                ["workflow", "save", "-", "--name", name, "--force"],
                ir_text(format!("plain {round}")).as_bytes(),
            ));
        }
        let runs = release(vec![
            (held(&home, &["workflow", "save", "-", "--name", "a", "--force"]), calling("b")),
            (held(&home, &["workflow", "save", "-", "--name", "b", "--force"]), calling("a")),
        ]);
        let succeeded = runs.iter().filter(|r| r.code == 0).count();
        for run in runs.iter().filter(|r| r.code != 0) {
            assert!(run.stderr.contains("workflow call cycle: "), "round {round}: {run:#?}");
            refusals += 1;
        }
        let (a, b) = (calls_of(&home, "a"), calls_of(&home, "b"));
        assert!(!(a == ["b"] && b == ["a"]), "round {round}: a cycle was stored: {runs:#?}");
        match succeeded {
            1 => one += 1,
            _ => both += 1,
        }
    }
    assert_eq!(both, 0, "both saves succeeded in {both} of {rounds} rounds");
    report(format!(
        "call cycle race: {rounds} rounds, one save won in {one}, both won in {both}, \
         {refusals} refused as a cycle"
    ));
}

/// `save --force` racing `delete`: the replace lands before or after the delete, never in
/// between, so it never fails as "not found"; with `--expect-revision`, a delete in
/// between is a conflict.
#[test]
fn a_replace_racing_a_delete_is_never_not_found() {
    let rounds = count_from_env("PFLOW_REPLACE_DELETE_ROUNDS", 20);
    let home = TestHome::new();
    let mut conflicts = 0;
    for round in 0..rounds {
        ok(home.run_with_stdin(
            ["workflow", "save", "-", "--name", "raced", "--force"],
            ir_text(format!("start {round}")).as_bytes(),
        ));
        let revision: u64 = {
            let show = ok(home.run(["workflow", "show", "raced", "--json"]));
            serde_json::from_str::<Value>(&show.stdout).unwrap()["revision"].as_u64().unwrap()
        };
        let expect = revision.to_string();
        let mut save_args = vec!["workflow", "save", "-", "--name", "raced", "--force"];
        if round % 2 == 1 {
            save_args.extend(["--expect-revision", &expect]);
        }
        let mut delete = home.command(["workflow", "delete", "raced", "--yes"]);
        delete.stdout(Stdio::piped()).stderr(Stdio::piped()).stdin(Stdio::null());
        let save = held(&home, &save_args);
        let delete = delete.spawn().unwrap();
        let runs = release(vec![(save, ir_text(format!("replaced {round}")))]);
        let deleted = Run::from(delete.wait_with_output().unwrap());
        let saved = &runs[0];
        assert!(!saved.stderr.contains("not found"), "round {round}: {saved:#?}");
        assert_eq!(deleted.code, 0, "round {round}: {deleted:#?}");
        if saved.code != 0 {
            assert_eq!(round % 2, 1, "round {round}: a save without --expect-revision failed");
            assert!(
                saved.stderr.contains("found none (never saved, or deleted meanwhile)"),
                "{saved:#?}"
            );
            conflicts += 1;
        }
    }
    report(format!("replace/delete race: {rounds} rounds, {conflicts} conflicts, 0 not found"));
}

/// A document whose stored form would be larger than the store reads back is refused
/// before anything is written; what was saved stays readable, history included.
#[test]
fn a_workflow_too_large_to_read_back_is_never_acknowledged() {
    let home = TestHome::new();
    let dir = tempfile::tempdir().unwrap();
    ok(home.run_with_stdin(["workflow", "save", "-", "--name", "w"], ir_text("small").as_bytes()));
    ok(home.run_with_stdin(
        ["workflow", "save", "-", "--name", "w", "--force"],
        ir_text("small 2").as_bytes(),
    ));
    let before = std::fs::read(home.workflows().join("w.json")).unwrap();
    // 100 000 chained `echo` nodes: about 9 MB of compact JSON (within what pflow reads
    // as input), twice that pretty-printed as the store keeps it.
    let nodes: Vec<Value> = (0..100_000)
        .map(|i| json!({"id": format!("n{i}"), "type": "echo", "params": {"message": "x"}}))
        .collect();
    let edges: Vec<Value> = (1..100_000)
        .map(|i| json!({"from": format!("n{}", i - 1), "to": format!("n{i}")}))
        .collect();
    let big = json!({"ir_version": "0.1.0", "nodes": nodes, "edges": edges}).to_string();
    assert!(big.len() < 16 * 1024 * 1024, "the input itself must be readable");
    let path = dir.path().join("big.json");
    std::fs::write(&path, &big).unwrap();
    let path = path.to_str().unwrap();

    for args in [
        vec!["workflow", "save", path, "--name", "w", "--force"],
        vec!["workflow", "save", path, "--name", "other"],
    ] {
        let run = home.run(&args);
        assert_eq!(run.code, 1, "{}", run.transcript());
        assert!(run.stderr.contains("is too large to store: "), "{}", run.transcript());
        assert!(run.stderr.contains("more than the limit of 16 MiB"), "{}", run.transcript());
    }
    assert_eq!(std::fs::read(home.workflows().join("w.json")).unwrap(), before);
    assert!(!home.workflows().join("other.json").exists());
    let show = ok(home.run(["workflow", "show", "w", "--revision", "1", "--ir"]));
    assert!(show.stdout.contains("\"small\""), "{}", show.transcript());
    let list = ok(home.run(["workflow", "list", "--json"]));
    assert!(list.stderr.is_empty() && list.stdout.contains("\"w\""), "{}", list.transcript());
}

/// The largest revision number cannot grow: the update is refused and nothing changes.
#[test]
fn a_revision_never_wraps() {
    let home = TestHome::new();
    ok(home.run_with_stdin(["workflow", "save", "-", "--name", "last"], ir_text("one").as_bytes()));
    let path = home.workflows().join("last.json");
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    doc["revision"] = json!(u64::MAX);
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let before = std::fs::read(&path).unwrap();
    let run = home.run_with_stdin(
        ["workflow", "save", "-", "--name", "last", "--force"],
        ir_text("two").as_bytes(),
    );
    assert_eq!(
        run.transcript(),
        "exit: 1\n--- stdout\n--- stderr\nerror: workflow `last` is at revision \
         18446744073709551615, the last one there can be\nhint: save its content under a new \
         name, which starts at revision 1\n"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let restore = home.run(["workflow", "restore", "last", "--revision", "18446744073709551615"]);
    assert!(restore.stderr.contains("nothing changed"), "{}", restore.transcript());
}

/// A saved workflow has no directory: a relative `workflow_ref` is refused when saving,
/// an absolute one runs the same from anywhere, and a relative one planted in an older
/// saved workflow fails the same way from every directory.
#[test]
fn a_saved_workflow_runs_the_same_from_any_directory() {
    let home = TestHome::new();
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    std::fs::create_dir(&lib).unwrap();
    std::fs::write(lib.join("child.json"), ir_text("from the child")).unwrap();
    let calls = |reference: &str| {
        json!({"ir_version": "0.1.0",
            "nodes": [{"id": "c", "type": "workflow", "params": {"workflow_ref": reference}}],
            "outputs": {"said": {"source": "${c.message}"}}})
        .to_string()
    };
    std::fs::write(dir.path().join("relative.json"), calls("lib/child.json")).unwrap();
    let absolute = lib.join("child.json");
    std::fs::write(dir.path().join("absolute.json"), calls(absolute.to_str().unwrap())).unwrap();

    // Run as a file, the relative reference is relative to that file.
    let run = ok(home.run(["run", dir.path().join("relative.json").to_str().unwrap()]));
    assert_eq!(run.stdout, "from the child\n");
    // Saved, it would have nothing to be relative to.
    let save = home.run_in(dir.path(), ["workflow", "save", "relative.json", "--name", "rel"], b"");
    assert_eq!(save.code, 1, "{}", save.transcript());
    assert!(
        save.stderr.contains(
            "error: nodes[0].params.workflow_ref: a saved workflow cannot name a file by a \
             relative path (`lib/child.json`)"
        ),
        "{}",
        save.transcript()
    );
    assert!(!home.workflows().join("rel.json").exists());
    ok(home.run_in(dir.path(), ["workflow", "save", "absolute.json", "--name", "abs"], b""));
    let elsewhere = tempfile::tempdir().unwrap();
    for cwd in [dir.path(), lib.as_path(), elsewhere.path()] {
        let run = home.run_in(cwd, ["run", "abs"], b"");
        assert_eq!(run.transcript(), "exit: 0\n--- stdout\nfrom the child\n--- stderr\n");
    }

    // An older saved workflow holding a relative reference fails alike everywhere.
    let planted = json!({"name": "old-rel", "description": "", "version": "1.0.0",
        "revision": 1, "created_at": "2025-01-29T10:00:00Z",
        "updated_at": "2025-01-29T10:00:00Z",
        "ir": serde_json::from_str::<Value>(&calls("lib/child.json")).unwrap()});
    std::fs::write(home.workflows().join("old-rel.json"), planted.to_string()).unwrap();
    let transcripts: Vec<String> = [dir.path(), lib.as_path(), elsewhere.path()]
        .iter()
        .map(|cwd: &&Path| home.run_in(cwd, ["run", "old-rel"], b"").transcript())
        .collect();
    assert!(transcripts.iter().all(|t| t == &transcripts[0]), "{transcripts:#?}");
    assert!(transcripts[0].starts_with("exit: 1\n"), "{}", transcripts[0]);
    assert!(
        transcripts[0].contains("a saved workflow cannot name a file by a relative path"),
        "{}",
        transcripts[0]
    );
}

/// `--force --expect-revision N` on a name never saved says so, not that it was deleted.
#[test]
fn an_expected_revision_of_a_name_never_saved_says_it_is_not_saved() {
    let home = TestHome::new();
    let ir = r#"{"ir_version": "0.1.0", "nodes": [{"id": "a", "type": "echo", "params": {"message": "x"}}]}"#;
    let run = home.run_with_stdin(
        ["workflow", "save", "-", "--name", "never", "--force", "--expect-revision", "1"],
        ir.as_bytes(),
    );
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("workflow `never` is not saved: expected revision 1, found none (never saved, or deleted meanwhile)"),
        "{}",
        run.transcript()
    );
    assert!(!run.stderr.contains("changed concurrently"), "{}", run.transcript());
}

/// A store that cannot be opened prints nothing on stdout with `--json`: no `[]` a script
/// would read as an empty library.
#[test]
fn list_json_prints_nothing_when_the_store_cannot_be_opened() {
    let home = TestHome::new();
    std::fs::write(home.path().join("config.toml"), "store = \"postgres://u@127.0.0.1:1/db\"\n")
        .unwrap();
    let run = home.run(["workflow", "list", "--json"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert_eq!(run.stdout, "", "{}", run.transcript());
    assert!(run.stderr.contains("cannot open the store"), "{}", run.transcript());
}
