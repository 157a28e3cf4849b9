//! Control characters in stored data never reach the terminal raw: every human view of
//! saved workflows (list, show, history, trash, the planner context) and every
//! `warning: skipped …` line shows them as escapes (`\u{1b}`), while JSON output and the
//! data a run produces keep the text as it is.

use pflow_tests::{Run, TestHome};
use serde_json::{Value, json};

/// A description that would retitle the terminal, clear it and flip the text after it.
const HOSTILE: &str = "title \u{1b}]0;pwned\u{7} clear \u{1b}[2J flip \u{202e}txt";
/// How each of those shows once escaped.
const ESCAPED: [&str; 3] = ["\\u{1b}]0;pwned\\u{7}", "\\u{1b}[2J", "\\u{202e}txt"];
/// The characters that must never be printed raw.
const RAW: [char; 3] = ['\u{1b}', '\u{7}', '\u{202e}'];

/// A home with two saved workflows whose descriptions, input and output descriptions and
/// an input name hold control characters: `hostile` with two revisions (the current
/// description is [`HOSTILE`] and a second line), and `gone` deleted to the trash.
fn home() -> TestHome {
    let home = TestHome::new();
    let cwd = tempfile::tempdir().unwrap();
    let ir = json!({
        "ir_version": "0.1.0",
        "inputs": {
            "who": { "type": "string", "description": HOSTILE },
            "bad\u{1b}[2Jname": { "type": "string", "required": false, "description": "x" },
        },
        "outputs": {
            "said": { "type": "string", "source": "${say.message}", "description": HOSTILE },
        },
        "nodes": [{ "id": "say", "type": "echo", "params": { "message": "${who}" } }],
    });
    std::fs::write(cwd.path().join("wf.json"), ir.to_string()).unwrap();
    let two_lines = current_description();
    let commands: [&[&str]; 4] = [
        &["workflow", "save", "wf.json", "--name", "hostile", "--description", "first \u{1b}[2J"],
        &[
            "workflow",
            "save",
            "wf.json",
            "--name",
            "hostile",
            "--force",
            "--description",
            &two_lines,
        ],
        &["workflow", "save", "wf.json", "--name", "gone", "--description", HOSTILE],
        &["workflow", "delete", "gone", "--yes"],
    ];
    for args in commands {
        let run = home.run_in(cwd.path(), args, b"");
        assert_eq!(run.code, 0, "pflow {args:?}\n{}", run.transcript());
    }
    home
}

/// The description of `hostile`'s current revision: [`HOSTILE`] and a second line.
fn current_description() -> String {
    format!("{HOSTILE}\nsecond \u{202e}line\tend")
}

/// Runs `pflow ARGS` in `home`: it succeeds, prints no raw control character on stdout or
/// stderr, and shows each of `escaped` on stdout.
#[track_caller]
fn check(home: &TestHome, args: &[&str], escaped: &[&str]) {
    let run = home.run(args);
    assert_eq!(run.code, 0, "pflow {args:?}\n{}", run.transcript());
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        let raw: Vec<char> = text.chars().filter(|c| RAW.contains(c)).collect();
        assert!(
            raw.is_empty(),
            "pflow {args:?}: raw {raw:?} on {stream}:\n{}",
            text.escape_debug()
        );
    }
    for shown in escaped {
        assert!(run.stdout.contains(shown), "pflow {args:?}: no `{shown}` in:\n{}", run.stdout);
    }
}

#[test]
fn every_human_view_escapes_control_characters_from_stored_text() {
    let home = home();
    // List, history and trash show the first line of a description.
    check(&home, &["workflow", "list"], &ESCAPED);
    check(&home, &["workflow", "list", "pwned"], &ESCAPED);
    check(&home, &["workflow", "show", "hostile"], &ESCAPED);
    check(&home, &["workflow", "show", "hostile", "--revision", "1"], &ESCAPED);
    check(&home, &["workflow", "history", "hostile"], &ESCAPED);
    check(&home, &["workflow", "trash", "list"], &ESCAPED);
    check(&home, &["context", "discover"], &ESCAPED);
    check(&home, &["context", "plan", "--workflow", "hostile"], &ESCAPED);

    // The input name, in the table and the context alike.
    check(&home, &["workflow", "list"], &["bad\\u{1b}[2Jname?"]);
    check(&home, &["workflow", "show", "hostile"], &["bad\\u{1b}[2Jname  string"]);
    check(&home, &["context", "discover"], &["bad\\u{1b}[2Jname?"]);
    check(&home, &["context", "plan", "--workflow", "hostile"], &["- `bad\\u{1b}[2Jname`"]);
}

#[test]
fn show_keeps_the_lines_and_tabs_of_a_description_and_escapes_within_them() {
    let home = home();
    let run = home.run(["workflow", "show", "hostile"]);
    let head: String = run.stdout.lines().take(3).map(|line| format!("{line}\n")).collect();
    insta::assert_snapshot!(head, @r"
        name         hostile
        description  title \u{1b}]0;pwned\u{7} clear \u{1b}[2J flip \u{202e}txt
                     second \u{202e}line	end
    ");
}

#[test]
fn json_output_and_run_results_keep_the_text_as_stored() {
    let home = home();
    let run = home.run(["workflow", "show", "hostile", "--json"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["description"], current_description());
    assert_eq!(doc["ir"]["inputs"]["who"]["description"], HOSTILE);

    // The discovery context puts a description on one line, and that is all it changes.
    let run = home.run(["context", "discover", "--json"]);
    let context: Value = serde_json::from_str(&run.stdout).unwrap();
    let one_line = format!("{HOSTILE} second \u{202e}line end");
    assert_eq!(context["workflows"][0]["description"], one_line, "{context:#}");

    // What a run prints is the user's data: it is not escaped.
    let run = home.run(["run", "hostile", &format!("who={HOSTILE}")]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(run.stdout.contains(HOSTILE), "{}", run.stdout.escape_debug());
}

#[test]
fn a_planted_file_name_with_an_escape_is_reported_escaped() {
    let home = TestHome::new();
    std::fs::create_dir_all(home.workflows().join(".trash")).unwrap();
    std::fs::write(home.workflows().join("evil\u{1b}]0;pwned\u{7}.json"), "{}").unwrap();
    std::fs::write(home.workflows().join(".trash").join("junk\u{1b}[2J.json"), "{}").unwrap();
    let runs: Vec<Run> =
        [&["workflow", "list"][..], &["workflow", "trash", "list"], &["context", "discover"]]
            .into_iter()
            .map(|args| home.run(args))
            .collect();
    for run in &runs {
        assert!(!run.stderr.contains(RAW), "{}", run.stderr.escape_debug());
    }
    insta::assert_snapshot!(home.transcript(&runs[0]), @r"
        exit: 0
        --- stdout
        --- stderr
        warning: skipped [HOME]/workflows/evil\u{1b}]0;pwned\u{7}.json: `evil\u{1b}]0;pwned\u{7}` is not a valid workflow name: character '\u{1b}' is not allowed
        no readable saved workflow: 1 entry could not be read
    ");
    insta::assert_snapshot!(home.transcript(&runs[1]), @r"
        exit: 0
        --- stdout
        --- stderr
        warning: skipped [HOME]/workflows/.trash/junk\u{1b}[2J.json: not a trash entry (entries are named `<name>@<time>.json`)
        no readable entry in the trash: 1 entry could not be read
    ");
    assert!(runs[2].stderr.contains("evil\\u{1b}]0;pwned\\u{7}.json"), "{}", runs[2].stderr);
}

/// Validation findings and error messages quote the workflow and the store (an input
/// name, an unreadable entry's reason); what they quote is escaped too.
#[test]
fn findings_and_errors_escape_what_they_quote() {
    let home = TestHome::new();
    let cwd = tempfile::tempdir().unwrap();
    let ir = json!({
        "ir_version": "0.1.0",
        "inputs": { "a\u{1b}[2Jb": { "type": "string" } },
        "nodes": [{ "id": "n", "type": "echo", "params": { "message": "${a\u{1b}[2Jb}" } }],
    });
    std::fs::write(cwd.path().join("wf.json"), ir.to_string()).unwrap();
    let validate = home.run_in(cwd.path(), ["validate", "wf.json"], b"");
    assert!(validate.stderr.contains("\\u{1b}[2J"), "{}", validate.transcript());
    assert_no_raw(&validate);
    let workflows = home.workflows();
    std::fs::create_dir_all(&workflows).unwrap();
    std::fs::write(workflows.join("odd.json"), "{\"name\": \"odd\u{1b}]0;x\u{7}\"}").unwrap();
    let show = home.run(["workflow", "show", "odd"]);
    assert_eq!(show.code, 1, "{}", show.transcript());
    assert_no_raw(&show);
}

#[track_caller]
fn assert_no_raw(run: &Run) {
    for c in RAW {
        assert!(!run.stdout.contains(c) && !run.stderr.contains(c), "raw {c:?}: {run:#?}");
    }
}

/// U+2028 and U+2029 are no control characters, but a terminal shows them as nothing or
/// as a line break: a description can hide text behind them, so they are escaped too.
#[test]
fn line_and_paragraph_separators_are_escaped() {
    let home = TestHome::new();
    let cwd = tempfile::tempdir().unwrap();
    let ir = json!({"ir_version": "0.1.0", "nodes": [{"id": "e", "type": "echo"}]});
    std::fs::write(cwd.path().join("wf.json"), ir.to_string()).unwrap();
    let description = "safe\u{2028}hidden\u{2029}end";
    let args = ["workflow", "save", "wf.json", "--name", "sep", "--description", description];
    let run = home.run_in(cwd.path(), args, b"");
    assert_eq!(run.code, 0, "{}", run.transcript());
    let shown = "safe\\u{2028}hidden\\u{2029}end";
    for args in
        [&["workflow", "list"][..], &["workflow", "show", "sep"], &["workflow", "history", "sep"]]
    {
        let run = home.run(args);
        assert_eq!(run.code, 0, "pflow {args:?}\n{}", run.transcript());
        assert!(!run.stdout.contains(['\u{2028}', '\u{2029}']), "{}", run.stdout.escape_debug());
        assert!(run.stdout.contains(shown), "pflow {args:?}: no `{shown}` in:\n{}", run.stdout);
    }
    // The discovery context puts a description on one line, separators included.
    let run = home.run(["context", "discover"]);
    assert!(run.stdout.contains("safe hidden end"), "{}", run.stdout.escape_debug());
}
