//! The save prompt of `pflow run` on a real pseudo-terminal (SPEC §7): accept, decline,
//! an invalid name then a valid one, a taken name then another, Ctrl-C, and JSON piped
//! on stdin while the answers come from the terminal. Plus the cases that must not ask.

use std::path::Path;

use pflow_tests::TestHome;

use crate::prompt_pty::{BACKSPACE, CTRL_C, ENTER, Terminal};

const HELLO: &str = r#"{"ir_version": "0.1.0", "nodes": [{"id": "hi", "type": "echo", "params": {"message": "Hello"}}]}"#;

/// A home and a working directory holding `hello_world.json`.
fn setup() -> (TestHome, tempfile::TempDir) {
    let home = TestHome::new();
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("hello_world.json"), HELLO).unwrap();
    (home, cwd)
}

fn saved(home: &TestHome) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(home.workflows())
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.strip_suffix(".json").map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn description_of(home: &TestHome, name: &str) -> String {
    let text = std::fs::read_to_string(home.workflows().join(format!("{name}.json"))).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["description"].as_str().unwrap().to_owned()
}

/// Runs `pflow run hello_world.json` and answers yes, then `name_keys`, then a description.
fn run_and_accept(cwd: &Path, home: &TestHome) -> Terminal {
    let mut term = Terminal::pflow(home, cwd, &["run", "hello_world.json"]);
    term.expect("Hello");
    term.expect("Save this workflow?");
    term.send("y");
    term.send(ENTER);
    term.expect("Name:");
    term
}

#[test]
fn accepting_saves_under_the_suggested_name_with_a_description() {
    let (home, cwd) = setup();
    let mut term = run_and_accept(cwd.path(), &home);
    // The default comes from the file name, made valid.
    term.expect("hello-world");
    term.send(ENTER);
    term.expect("Description");
    term.send("Says hello");
    term.send(ENTER);
    term.expect("saved `hello-world`");
    let (code, screen) = term.finish();
    assert_eq!(code, 0, "{screen}");
    assert_eq!(saved(&home), ["hello-world"]);
    assert_eq!(description_of(&home, "hello-world"), "Says hello");
    assert!(screen.contains("pflow run hello-world"), "{screen}");
}

#[test]
fn declining_saves_nothing() {
    let (home, cwd) = setup();
    let mut term = Terminal::pflow(&home, cwd.path(), &["run", "hello_world.json"]);
    term.expect("Save this workflow?");
    // Enter alone takes the default, which is no.
    term.send(ENTER);
    term.expect("not saved");
    let (code, screen) = term.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(saved(&home).is_empty(), "{screen}");
}

#[test]
fn an_invalid_name_is_explained_and_a_valid_one_then_saves() {
    let (home, cwd) = setup();
    let mut term = run_and_accept(cwd.path(), &home);
    term.send("My Flow");
    term.send(ENTER);
    term.expect("not a valid name");
    term.expect("try `my-flow`");
    term.send(&BACKSPACE.repeat("My Flow".len()));
    term.send("my-flow");
    term.send(ENTER);
    term.expect("Description");
    term.send(ENTER);
    term.expect("saved `my-flow`");
    let (code, screen) = term.finish();
    assert_eq!(code, 0, "{screen}");
    assert_eq!(saved(&home), ["my-flow"]);
    assert_eq!(description_of(&home, "my-flow"), "");
}

#[test]
fn a_taken_name_offers_another_try() {
    let (home, cwd) = setup();
    let first = home.run_with_stdin(["workflow", "save", "-", "--name", "taken"], HELLO.as_bytes());
    assert_eq!(first.code, 0, "{}", first.transcript());
    let before = std::fs::read(home.workflows().join("taken.json")).unwrap();

    let mut term = run_and_accept(cwd.path(), &home);
    term.send("taken");
    term.send(ENTER);
    term.expect("`taken` is already saved");
    term.send(&BACKSPACE.repeat("taken".len()));
    term.send("fresh");
    term.send(ENTER);
    term.expect("Description");
    term.send(ENTER);
    term.expect("saved `fresh`");
    let (code, screen) = term.finish();
    assert_eq!(code, 0, "{screen}");
    assert_eq!(saved(&home), ["fresh", "taken"]);
    assert_eq!(std::fs::read(home.workflows().join("taken.json")).unwrap(), before);
}

#[test]
fn a_taken_name_can_be_cancelled_with_escape() {
    let (home, cwd) = setup();
    let first = home.run_with_stdin(["workflow", "save", "-", "--name", "taken"], HELLO.as_bytes());
    assert_eq!(first.code, 0, "{}", first.transcript());
    let mut term = run_and_accept(cwd.path(), &home);
    term.send("taken");
    term.send(ENTER);
    term.expect("already saved");
    term.send("\x1b");
    term.expect("not saved");
    let (code, screen) = term.finish();
    assert_eq!(code, 0, "{screen}");
    assert_eq!(saved(&home), ["taken"]);
}

#[test]
fn ctrl_c_at_the_prompt_exits_130_and_saves_nothing() {
    let (home, cwd) = setup();
    // Interrupted at the name…
    let mut term = run_and_accept(cwd.path(), &home);
    term.send("half-typed");
    term.send(CTRL_C);
    term.expect("interrupted");
    let (code, screen) = term.finish();
    assert_eq!(code, 130, "{screen}");
    // …and at the description, after a valid name was accepted.
    let mut term = run_and_accept(cwd.path(), &home);
    term.send(ENTER);
    term.expect("Description");
    term.send("almost");
    term.send(CTRL_C);
    let (code, screen) = term.finish();
    assert_eq!(code, 130, "{screen}");
    assert!(screen.contains("the workflow was not saved"), "{screen}");
    assert!(saved(&home).is_empty(), "nothing may be saved: {:?}", saved(&home));
    // No temporary file was left behind either.
    let leftovers: Vec<_> = std::fs::read_dir(home.path())
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        leftovers.iter().all(|n| n == "workflows"),
        "unexpected files in the home: {leftovers:?}"
    );
}

#[test]
fn json_piped_on_stdin_still_asks_on_the_terminal() {
    let (home, cwd) = setup();
    let doc = r#"{"name": "Piped Flow", "description": "From a pipe", "ir": {"ir_version": "0.1.0", "nodes": [{"id": "hi", "type": "echo", "params": {"message": "piped"}}]}}"#;
    std::fs::write(cwd.path().join("doc.txt"), doc).unwrap();
    // stdin is a pipe; stdout and stderr are the terminal.
    let mut term = Terminal::shell(&home, cwd.path(), "cat doc.txt | \"$PFLOW\" run");
    term.expect("piped");
    term.expect("Save this workflow?");
    term.send("y");
    term.send(ENTER);
    // The document's name, made valid, is the default; its description too.
    term.expect("piped-flow");
    term.send(ENTER);
    term.expect("From a pipe");
    term.send(ENTER);
    term.expect("saved `piped-flow`");
    let (code, screen) = term.finish();
    assert_eq!(code, 0, "{screen}");
    assert_eq!(saved(&home), ["piped-flow"]);
    assert_eq!(description_of(&home, "piped-flow"), "From a pipe");
}

#[test]
fn no_prompt_for_a_saved_workflow_with_the_flag_or_with_stderr_redirected() {
    let (home, cwd) = setup();
    let first = home.run_with_stdin(["workflow", "save", "-", "--name", "hello"], HELLO.as_bytes());
    assert_eq!(first.code, 0, "{}", first.transcript());
    for script in [
        "\"$PFLOW\" run hello; echo \"exit=$?\"",
        "\"$PFLOW\" run hello_world.json --no-save-prompt; echo \"exit=$?\"",
        "\"$PFLOW\" run hello_world.json 2>err.txt; echo \"exit=$?\"",
    ] {
        let mut term = Terminal::shell(&home, cwd.path(), script);
        term.expect("exit=0");
        let (code, screen) = term.finish();
        assert_eq!(code, 0, "{screen}");
        assert!(!screen.contains("Save this workflow?"), "{script}: {screen}");
    }
    assert_eq!(std::fs::read_to_string(cwd.path().join("err.txt")).unwrap(), "");
    assert_eq!(saved(&home), ["hello"]);
}

#[test]
fn no_prompt_after_a_failed_run() {
    let (home, cwd) = setup();
    let failing = r#"{"ir_version": "0.1.0", "nodes": [{"id": "boom", "type": "shell", "params": {"command": "exit 3"}}]}"#;
    std::fs::write(cwd.path().join("failing.json"), failing).unwrap();
    let mut term =
        Terminal::shell(&home, cwd.path(), "\"$PFLOW\" run failing.json; echo \"exit=$?\"");
    term.expect("exit=1");
    let (_, screen) = term.finish();
    assert!(!screen.contains("Save this workflow?"), "{screen}");
    assert!(saved(&home).is_empty());
}

#[test]
fn no_prompt_through_a_plain_pipe() {
    let home = TestHome::new();
    // No terminal at all: stdin, stdout and stderr are pipes.
    let run = home.run_with_stdin(["run"], HELLO.as_bytes());
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(run.stdout, "Hello\n");
    assert_eq!(run.stderr, "");
    assert!(saved(&home).is_empty());
}
