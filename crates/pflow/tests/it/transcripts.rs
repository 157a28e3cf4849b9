//! Transcripts of `pflow run` through its main paths, `--save`, `-v`, and one of every
//! class of error a person can meet, each in pflow's one shape: `error: …`, `caused by: …`
//! lines, then `hint: …` — with the closest saved names, node types, params and inputs
//! when something was misspelled.

use insta::assert_snapshot;

use crate::sandbox::Sandbox;

const GREET: &str = r#"{
  "ir_version": "0.1.0",
  "inputs": {
    "name": {"type": "string", "description": "Who to greet"},
    "times": {"type": "number", "required": false, "default": 1}
  },
  "outputs": {"greeting": {"source": "${say.message}"}},
  "nodes": [{"id": "say", "type": "echo", "params": {"message": "hello ${name}"}}]
}"#;

const DOC: &str = r#"{"name": "Doc Flow", "description": "From a document", "ir": {"ir_version": "0.1.0", "nodes": [{"id": "hi", "type": "echo", "params": {"message": "hi"}}]}}"#;

fn sandbox() -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.file("greet.json", GREET).file("doc.json", DOC);
    sandbox
}

#[test]
fn run_a_file_a_saved_name_and_stdin() {
    let sandbox = sandbox();
    assert_snapshot!(sandbox.run(&["run", "greet.json", "name=Ada"]), @r#"
        exit: 0
        --- stdout
        hello Ada
        --- stderr
        "#);
    assert_snapshot!(sandbox.run(&["run", "greet.json", "name=Ada", "times=2", "--json"]), @r#"
        exit: 0
        --- stdout
        {
          "greeting": "hello Ada"
        }
        --- stderr
        "#);
    assert_snapshot!(sandbox.run_with_stdin(&["run", "name=Bo"], Some(GREET)), @r#"
        exit: 0
        --- stdout
        hello Bo
        --- stderr
        "#);
    sandbox.run(&["workflow", "save", "greet.json", "--name", "greet"]);
    assert_snapshot!(sandbox.run(&["run", "greet", "name=Cy"]), @r#"
        exit: 0
        --- stdout
        hello Cy
        --- stderr
        "#);
}

#[test]
fn verbose_run_off_a_terminal_prints_each_node_and_the_totals() {
    let sandbox = sandbox();
    assert_snapshot!(sandbox.run(&["-v", "run", "greet.json", "name=Ada"]), @r#"
        exit: 0
        --- stdout
        hello Ada
        --- stderr
        pflow home: [HOME]
          ▸ say echo
          ✓ say echo [DURATION]
        ran 1 node in [DURATION]
        exit 0 after [DURATION]
        "#);
}

#[test]
fn save_flag_saves_after_a_successful_run() {
    let sandbox = sandbox();
    assert_snapshot!(sandbox.run(&["run", "doc.json", "--save", "doc-flow"]), @r#"
        exit: 0
        --- stdout
        hi
        --- stderr
        saved `doc-flow` (revision 1) to [HOME]/workflows/doc-flow.json
        "#);
    // The document's description was kept; `--description` overrides it.
    let shown = sandbox.run(&["workflow", "show", "doc-flow"]);
    assert!(shown.contains("description  From a document"), "{shown}");
    assert_snapshot!(sandbox.run(&["run", "greet.json", "name=Ada", "--save", "greet", "--description", "Greets"]), @r#"
        exit: 0
        --- stdout
        hello Ada
        --- stderr
        saved `greet` (revision 1) to [HOME]/workflows/greet.json
        "#);
    assert!(sandbox.run(&["workflow", "show", "greet"]).contains("description  Greets"));
    // A taken or invalid name is refused before anything runs.
    assert_snapshot!(sandbox.run(&["run", "doc.json", "--save", "greet"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: workflow `greet` already exists; nothing was run
        hint: choose another name for `--save`, or run the saved one with `pflow run greet`
        "#);
    // A bad name is an invalid value (exit 1), as with `workflow save --name`.
    assert_snapshot!(sandbox.run(&["run", "doc.json", "--save", "Doc Flow"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: invalid workflow name `Doc Flow`: upper case is not allowed
        hint: did you mean `doc-flow`? names are lowercase words joined by single dashes
        "#);
    assert_snapshot!(sandbox.run(&["run", "doc.json", "--save", "x", "--no-save-prompt"]), @r#"
        exit: 2
        --- stdout
        --- stderr
        error: the argument '--save <NAME>' cannot be used with '--no-save-prompt'

        Usage: pflow run --save <NAME> <WORKFLOW> [KEY=VALUE]...

        For more information, try '--help'.
        "#);
    // A failed run saves nothing.
    sandbox.file(
        "fails.json",
        r#"{"ir_version": "0.1.0", "nodes": [{"id": "check", "type": "shell", "params": {"command": "exit 3"}}]}"#,
    );
    let failed = sandbox.run(&["run", "fails.json", "--save", "never"]);
    assert!(failed.starts_with("exit: 1"), "{failed}");
    assert!(!sandbox.home().join("workflows/never.json").exists());
}

#[test]
fn errors_about_the_workflow_itself() {
    let sandbox = sandbox();
    sandbox.run(&["workflow", "save", "greet.json", "--name", "greet"]);
    // A saved name that does not exist: the closest saved names.
    assert_snapshot!(sandbox.run(&["run", "gret"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: workflow `gret` not found
        hint: did you mean `greet`?
        "#);
    // A file that does not exist, or is not JSON.
    assert_snapshot!(sandbox.run(&["run", "missing.json"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: no such file `missing.json`
        hint: check the path; `pflow workflow list` shows the saved workflows
        "#);
    assert_snapshot!(sandbox.run(&["run", "gret.json"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: no such file `gret.json`
        hint: did you mean `greet.json`?
        "#);
    // Without a close file beside it, the saved workflow it may name.
    assert_snapshot!(sandbox.run(&["run", "elsewhere/gret.json"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: no such file `elsewhere/gret.json`
        hint: did you mean the saved workflow `greet`? run it with `pflow run greet`
        "#);
    std::fs::create_dir(sandbox.cwd().join("dir.json")).unwrap();
    assert_snapshot!(sandbox.run(&["run", "dir.json"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: cannot read `dir.json`: it is a directory, not a regular file
        hint: give the path of a JSON file, or `-` to read stdin
        "#);
    sandbox.file("broken.json", "{\"nodes\": [");
    assert_snapshot!(sandbox.run(&["run", "broken.json"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: `broken.json` is not valid JSON: EOF while parsing a list at line 1, column 11
        "#);
    // Nothing on stdin.
    assert_snapshot!(sandbox.run_with_stdin(&["run"], Some("  \n")), @r#"
        exit: 2
        --- stdout
        --- stderr
        error: no workflow given: stdin is empty
        hint: pass a saved name or a JSON file, or pipe JSON: `echo '{…}' | pflow run`
        "#);
    // A misspelled node type and param: the closest known ones.
    sandbox.file(
        "typo.json",
        r#"{"ir_version": "0.1.0", "nodes": [{"id": "a", "type": "ecko", "params": {}}, {"id": "b", "type": "echo", "params": {"mesage": "x"}}], "edges": [{"from": "a", "to": "b"}]}"#,
    );
    assert_snapshot!(sandbox.run(&["run", "typo.json"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: nodes[0].type: unknown node type `ecko`
          hint: did you mean `echo`?
        error: nodes[1].params.mesage: unknown parameter `mesage` for `echo`
          hint: did you mean `message`?
        error: workflow `typo.json` is invalid: 2 errors
        hint: fix the problems above; `pflow validate FILE` checks a file without running it
        "#);
    // A saved entry that cannot be read.
    std::fs::write(sandbox.home().join("workflows/corrupt.json"), "{").unwrap();
    assert_snapshot!(sandbox.run(&["run", "corrupt"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: corrupt workflow entry `[HOME]/workflows/corrupt.json`: invalid JSON at line 1, column 1: EOF while parsing an object
        hint: repair the file by hand, or move it to the trash with `pflow workflow delete corrupt --yes`
        "#);
}

#[test]
fn errors_about_the_inputs_are_usage_errors() {
    let sandbox = sandbox();
    assert_snapshot!(sandbox.run(&["run", "greet.json", "nmae=Ada"]), @r#"
        exit: 2
        --- stdout
        --- stderr
        error: unknown input `nmae` (did you mean `name`?); missing required input `name`
        hint: this workflow accepts: `name` (string, required), `times` (number, default `1`)
        "#);
    assert_snapshot!(sandbox.run(&["run", "greet.json"]), @r#"
        exit: 2
        --- stdout
        --- stderr
        error: missing required input `name`
        hint: this workflow accepts: `name` (string, required), `times` (number, default `1`)
        "#);
    assert_snapshot!(sandbox.run(&["run", "greet.json", "name=Ada", "times=lots"]), @r#"
        exit: 2
        --- stdout
        --- stderr
        error: input `times`: `lots` is not a valid number
        hint: this workflow accepts: `name` (string, required), `times` (number, default `1`)
        "#);
    assert_snapshot!(sandbox.run(&["run", "greet.json", "name"]), @r#"
        exit: 2
        --- stdout
        --- stderr
        error: expected an input as KEY=VALUE, got `name`
        hint: this workflow accepts: `name` (string, required), `times` (number, default `1`)
        "#);
}

#[test]
fn a_failing_node_names_the_chain_and_the_cause() {
    let sandbox = sandbox();
    sandbox.file(
        "fails.json",
        r#"{"ir_version": "0.1.0", "nodes": [{"id": "check", "type": "shell", "params": {"command": "echo broken >&2; exit 3"}}]}"#,
    );
    assert_snapshot!(sandbox.run(&["run", "fails.json"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: check: command exited with code 3: broken
        "#);
    sandbox.file(
        "reads.json",
        r#"{"ir_version": "0.1.0", "nodes": [{"id": "read", "type": "read-file", "params": {"file_path": "nowhere.txt"}}]}"#,
    );
    assert_snapshot!(sandbox.run(&["run", "reads.json"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: read: cannot read `nowhere.txt`: No such file or directory (os error 2)
        "#);
}
