//! `.pflow.md`, pflow 0.16's format, wherever a JSON workflow file is read: `pflow run`,
//! `validate` (findings with their lines, in text and JSON), `workflow save` (the prose
//! is the description) and a `workflow_ref` to one (MCP's tools: `mcp::raw`).

use std::path::Path;

use pflow_tests::TestHome;
use serde_json::Value;

/// A two-step workflow with a required input and a declared output.
pub(crate) const GREET: &str = r#"# Greet

Says hello to someone, loudly.

## Inputs

### who

Who to greet.

- type: string
- required: true

## Steps

### hi

Say hello.

- type: shell
- env: {"WHO": "${who}"}

```shell command
echo "hello $WHO"
```

### shout

Shout it.

- type: shell
- stdin: ${hi.stdout}

```shell command
tr a-z A-Z
```

## Outputs

### loud

The shout.

- source: ${shout.stdout}
"#;

fn write(home: &TestHome, name: &str, text: &str) -> String {
    let path = home.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

pub(crate) fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l == needle).expect("the line is in the text") + 1
}

#[test]
fn a_pflow_md_runs_validates_and_saves_like_a_json_file() {
    let home = TestHome::new();
    let file = write(&home, "greet.pflow.md", GREET);

    let run = home.run(["run", &file, "who=ann", "--no-save-prompt"]);
    assert_eq!((run.code, run.stdout.trim()), (0, "HELLO ANN"), "{run:?}");

    let valid = home.run(["validate", &file]);
    assert_eq!(valid.code, 0, "{valid:?}");
    assert!(valid.stderr.contains("0 errors, 0 warnings"), "{}", valid.stderr);

    // The prose under the `#` heading is the description; the saved one runs by name.
    let saved = home.run(["workflow", "save", &file, "--name", "greet"]);
    assert_eq!(saved.code, 0, "{saved:?}");
    let shown = home.run(["workflow", "show", "greet", "--json"]);
    let doc: Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(doc["description"], "Says hello to someone, loudly.");
    assert_eq!(doc["ir"]["ir_version"], "0.1.0");
    let by_name = home.run(["run", "greet", "who=bo"]);
    assert_eq!((by_name.code, by_name.stdout.trim()), (0, "HELLO BO"), "{by_name:?}");
}

#[test]
fn every_finding_names_its_line_in_text_and_json() {
    let home = TestHome::new();
    let bad = GREET.replace("- type: shell\n- stdin", "- type: shel\n- stdin");
    let file = write(&home, "bad.pflow.md", &bad);
    let line = line_of(&bad, "- type: shel");

    let text = home.run(["validate", &file]);
    assert_eq!(text.code, 1, "{text:?}");
    let expected = format!("error: line {line}: nodes[1].type: unknown node type `shel`");
    assert!(text.stderr.contains(&expected), "{}\nexpected: {expected}", text.stderr);
    assert!(text.stderr.contains("did you mean `shell`?"), "{}", text.stderr);

    let json = home.run(["validate", "--json", &file]);
    assert_eq!(json.code, 1, "{json:?}");
    let findings: Vec<Value> = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["path"], "nodes[1].type");
    assert_eq!(findings[0]["line"], line);

    // Nothing invalid runs: the first step would write a file.
    let marker = home.path().join("ran");
    let writes = bad.replace("echo \"hello $WHO\"", &format!("touch {}", marker.display()));
    let writes = write(&home, "writes.pflow.md", &writes);
    let refused = home.run(["run", &writes, "who=x", "--no-save-prompt"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(!marker.exists(), "an invalid workflow ran");
}

#[test]
fn a_file_that_gives_no_workflow_reports_every_mistake_at_once() {
    let home = TestHome::new();
    let broken = "# X\n\n## Steps\n\n### a\n\nFirst.\n\n- type: echo\n\n### a\n\nAgain.\n\n- type: echo\n- x: [1,\n";
    let file = write(&home, "broken.pflow.md", broken);
    for args in [
        vec!["validate", &file],
        vec!["run", &file],
        vec!["workflow", "save", &file, "--name", "x"],
    ] {
        let run = home.run(&args);
        assert_eq!(run.code, 1, "{args:?}: {run:?}");
        assert!(
            run.stderr.contains("error: line 11: duplicate id `a`"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("error: line 17: nodes[1].params.x:"),
            "{args:?}: {}",
            run.stderr
        );
    }
    let json = home.run(["validate", "--json", &file]);
    let findings: Vec<Value> = serde_json::from_str(&json.stdout).unwrap();
    let lines: Vec<&Value> = findings.iter().map(|f| &f["line"]).collect();
    assert_eq!(lines, [11, 17], "{findings:?}");
    assert!(!home.workflows().join("x.json").exists());
    // Not UTF-8: one finding, not a crash.
    let binary = home.path().join("bin.pflow.md");
    std::fs::write(&binary, b"# T\n\xff\xfe\n").unwrap();
    let run = home.run([Path::new("validate"), &binary]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("not UTF-8"), "{}", run.stderr);
}

#[test]
fn a_workflow_ref_may_name_a_pflow_md() {
    let home = TestHome::new();
    write(&home, "greet.pflow.md", GREET);
    let parent = r#"{"ir_version": "0.1.0", "nodes": [{"id": "call", "type": "workflow",
        "params": {"workflow_ref": "./greet.pflow.md", "param_mapping": {"who": "cy"}}}], "edges": []}"#;
    let parent = write(&home, "parent.json", parent);
    let run = home.run(["run", &parent, "--no-save-prompt"]);
    assert_eq!(run.code, 0, "{run:?}");
    let outputs: Value =
        serde_json::from_str(&home.run(["run", &parent, "--json", "--no-save-prompt"]).stdout)
            .unwrap();
    assert_eq!(outputs["loud"], "HELLO CY\n", "{outputs}");

    // A broken child fails the call naming its line.
    let bad = GREET.replace("- type: shell\n- stdin", "- type: shel\n- stdin");
    write(&home, "greet.pflow.md", &bad);
    let run = home.run(["run", &parent, "--no-save-prompt"]);
    assert_eq!(run.code, 1, "{run:?}");
    let line = line_of(&bad, "- type: shel");
    assert!(
        run.stderr.contains(&format!("line {line}: nodes[1].type: unknown node type `shel`")),
        "{}",
        run.stderr
    );
}

#[test]
fn show_format_md_writes_what_reads_back_to_the_same_ir_and_runs_the_same() {
    let home = TestHome::new();
    let file = write(&home, "greet.pflow.md", GREET);
    assert_eq!(home.run(["workflow", "save", &file, "--name", "greet"]).code, 0);
    let shown = home.run(["workflow", "show", "greet", "--format", "md"]);
    assert_eq!(shown.code, 0, "{shown:?}");
    assert!(
        shown.stdout.starts_with("---\n"),
        "a front matter, as 0.16's library keeps: {}",
        shown.stdout
    );
    assert!(
        shown.stdout.contains("\n# greet\n\nSays hello to someone, loudly.\n"),
        "{}",
        shown.stdout
    );
    let back = write(&home, "back.pflow.md", &shown.stdout);

    let ir = |text: &str| -> pflow_ir::WorkflowIr { serde_json::from_str(text).unwrap() };
    let saved = ir(&home.run(["workflow", "show", "greet", "--ir"]).stdout);
    let read = pflow_store::read_workflow_file(Path::new(&back)).unwrap();
    assert_eq!(serde_json::from_value::<pflow_ir::WorkflowIr>(read.value).unwrap(), saved);
    assert_eq!(read.description.as_deref(), Some("Says hello to someone, loudly."));
    let run = home.run(["run", &back, "who=ed", "--no-save-prompt"]);
    assert_eq!((run.code, run.stdout.trim()), (0, "HELLO ED"), "{run:?}");

    // `--format` is a format of its own, not one of the JSON views.
    let both = home.run(["workflow", "show", "greet", "--format", "md", "--json"]);
    assert_eq!(both.code, 2, "{both:?}");
}

/// `tests/fixtures/pflow016-home`: a library pflow 0.16.0 saved itself, and one broken file.
fn pflow016_home() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pflow016-home")
}

#[test]
fn a_pflow_016_home_is_imported_with_names_descriptions_and_times_once() {
    let home = TestHome::new();
    let old = pflow016_home();
    let old = old.to_str().unwrap();

    let dry = home.run(["workflow", "import", old, "--dry-run"]);
    assert_eq!(dry.code, 1, "{dry:?}");
    for name in ["b3-wf", "count-wf", "greet-wf"] {
        assert!(
            dry.stderr.contains(&format!("`{name}` would be created (revision 1)")),
            "{}",
            dry.stderr
        );
    }
    assert!(
        dry.stderr.contains("error: line 8: `broken-one` nodes[0]: `a` has no description"),
        "{}",
        dry.stderr
    );
    assert!(dry.stderr.contains("`broken-one` not imported: 1 error"), "{}", dry.stderr);
    assert_eq!(
        home.run(["workflow", "list", "--json"]).stdout.trim(),
        "[]",
        "a dry run writes nothing"
    );

    let first = home.run(["workflow", "import", old]);
    assert_eq!(first.code, 1, "the broken one is reported: {first:?}");
    assert!(
        first.stderr.contains("3 created, 0 updated, 0 unchanged, 0 skipped"),
        "{}",
        first.stderr
    );
    let shown = home.run(["workflow", "show", "greet-wf", "--json"]);
    let doc: Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(doc["description"], "Says hello to someone.");
    // The front matter's times, as 0.16 wrote them.
    assert_eq!(doc["created_at"], "2026-12-08T00:53:31.306867Z");
    assert_eq!(doc["updated_at"], "2026-12-08T00:53:31.306867Z");
    // A workflow 0.16 saved runs here: its loop, to the same end as in 0.16.
    let run = home.run(["run", "count-wf", "--json"]);
    let out: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(out["out"]["loop_stopped"], "condition", "{run:?}");
    assert_eq!(out["out"]["result"]["total"], 3, "{run:?}");

    let again = home.run(["workflow", "import", old]);
    assert!(
        again.stderr.contains("0 created, 0 updated, 3 unchanged, 0 skipped"),
        "{}",
        again.stderr
    );
}
