//! Wiring tests of `pflow workflow`: each subcommand's exit code, stdout and stderr,
//! as inline snapshots of a hermetic run of the built binary.

use insta::assert_snapshot;

use crate::sandbox::Sandbox;

const FIX_ISSUE: &str = r#"{
  "ir_version": "0.1.0",
  "inputs": {
    "issue_number": { "description": "GitHub issue number", "type": "string" },
    "repo": { "type": "string", "required": false, "default": "pflow" }
  },
  "outputs": { "message": { "description": "What was said", "type": "string", "source": "${say.message}" } },
  "nodes": [{ "id": "say", "type": "echo", "params": { "message": "fixing ${issue_number} in ${repo}" } }]
}"#;

const HELLO: &str = r#"{"ir_version": "0.1.0", "nodes": [{"id": "hi", "type": "echo", "params": {"message": "hello"}}]}"#;

/// A sandbox with `fix-issue` and `hello` saved.
fn with_two_saved() -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.file("fix.json", FIX_ISSUE).file("hello.json", HELLO);
    sandbox.run(&[
        "workflow",
        "save",
        "fix.json",
        "--name",
        "fix-issue",
        "--description",
        "Fixes GitHub issues and creates PR",
    ]);
    sandbox.run(&["workflow", "save", "hello.json", "--name", "hello"]);
    sandbox
}

#[test]
fn save_reports_where_on_stderr_and_nothing_on_stdout() {
    let sandbox = Sandbox::new();
    sandbox.file("fix.json", FIX_ISSUE);
    assert_snapshot!(sandbox.run(&["workflow", "save", "fix.json", "--name", "fix-issue", "--description", "Fixes issues"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        saved `fix-issue` (revision 1) to [HOME]/workflows/fix-issue.json
        "#);
    assert_snapshot!(sandbox.run(&["-q", "workflow", "save", "fix.json", "--name", "quiet"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        "#);
    assert!(sandbox.home().join("workflows/fix-issue.json").is_file());
}

#[test]
fn save_from_stdin_and_from_a_stored_document() {
    let sandbox = with_two_saved();
    assert_snapshot!(sandbox.run_with_stdin(&["workflow", "save", "-", "--name", "from-stdin"], Some(HELLO)), @r#"
        exit: 0
        --- stdout
        --- stderr
        saved `from-stdin` (revision 1) to [HOME]/workflows/from-stdin.json
        "#);
    // A document as `show --json` prints it keeps its description by default.
    let shown = sandbox.run(&["workflow", "show", "fix-issue", "--json"]);
    let doc = shown.split("--- stdout\n").nth(1).unwrap().split("--- stderr").next().unwrap();
    sandbox.file("doc.json", doc);
    assert_snapshot!(sandbox.run(&["workflow", "save", "doc.json", "--name", "copy"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        saved `copy` (revision 1) to [HOME]/workflows/copy.json
        "#);
    assert_snapshot!(sandbox.run(&["workflow", "list", "copy"]), @r#"
        exit: 0
        --- stdout
        NAME  DESCRIPTION                         INPUTS
        copy  Fixes GitHub issues and creates PR  issue_number, repo?
        --- stderr
        "#);
}

#[test]
fn save_of_an_existing_name_fails_and_force_updates() {
    let sandbox = with_two_saved();
    assert_snapshot!(sandbox.run(&["workflow", "save", "hello.json", "--name", "hello"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: workflow `hello` already exists
        hint: choose another name, or pass `--force` to replace `hello` with a new revision
        "#);
    assert_snapshot!(sandbox.run(&["workflow", "save", "fix.json", "--name", "hello", "--force"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        saved `hello` (revision 2) to [HOME]/workflows/hello.json
        "#);
    // The same content again makes no revision, and says so.
    assert_snapshot!(sandbox.run(&["workflow", "save", "fix.json", "--name", "hello", "--force"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        `hello` is unchanged (revision 2) at [HOME]/workflows/hello.json: same IR and description
        "#);
    assert_snapshot!(sandbox.run(&["workflow", "save", "hello.json", "--name", "brand-new", "--force"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        saved `brand-new` (revision 1) to [HOME]/workflows/brand-new.json
        "#);
}

#[test]
fn save_with_a_stale_expected_revision_is_a_conflict() {
    let sandbox = with_two_saved();
    // Saving the same content again changes nothing: a different one makes revision 2.
    sandbox.run(&["workflow", "save", "fix.json", "--name", "hello", "--force"]);
    assert_snapshot!(sandbox.run(&["workflow", "save", "hello.json", "--name", "hello", "--force", "--expect-revision", "1"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: workflow `hello` was changed concurrently: expected revision 1, found 2
        hint: `pflow workflow show hello --json` shows its revision; reapply your change to it and retry
        "#);
    assert_snapshot!(sandbox.run(&["workflow", "save", "hello.json", "--name", "hello", "--force", "--expect-revision", "2"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        saved `hello` (revision 3) to [HOME]/workflows/hello.json
        "#);
    // `--expect-revision` only makes sense with `--force`: a usage error (clap's text).
    let usage = sandbox.run(&[
        "workflow",
        "save",
        "hello.json",
        "--name",
        "hello",
        "--expect-revision",
        "2",
    ]);
    assert!(usage.starts_with("exit: 2\n") && usage.contains("--force"), "{usage}");
}

#[test]
fn save_of_an_invalid_workflow_prints_every_problem_and_saves_nothing() {
    let sandbox = Sandbox::new();
    sandbox.file(
        "bad.json",
        r#"{"ir_version": "0.1.0", "nodes": [{"id": "a", "type": "echo"}, {"id": "a", "type": "echo"}], "edges": [{"from": "a", "to": "nowhere"}], "colour": 1}"#,
    );
    assert_snapshot!(sandbox.run(&["workflow", "save", "bad.json", "--name", "bad"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: colour: unknown field `colour` in a workflow
          hint: the fields of a workflow are `ir_version`, `inputs`, `outputs`, `nodes`, `edges`, `start_node`
        error: nodes[1].id: duplicate node id `a`, first used by nodes[0]
          hint: give every node its own id
        error: edges[0].to: edge to `nowhere` is not a node
          hint: edges connect the ids of nodes in `nodes`
        error: workflow `bad` was not saved: 3 errors in `bad.json`
        "#);
    sandbox.file("broken.json", "{\n  \"ir_version\": \"0.1.0\",\n  nodes\n}");
    assert_snapshot!(sandbox.run(&["workflow", "save", "broken.json", "--name", "bad"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: `broken.json` is not valid JSON: key must be a string at line 3, column 3
        "#);
    // Inside a stored document, paths start at the document; store-aware checks too.
    let calls_missing = r#"{"name": "x", "ir": {"ir_version": "0.1.0", "nodes": [{"id": "a", "type": "workflow", "params": {"workflow_name": "nope"}}]}}"#;
    assert_snapshot!(sandbox.run_with_stdin(&["workflow", "save", "-", "--name", "bad"], Some(calls_missing)), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: ir.nodes[0].params.workflow_name: saved workflow `nope` not found
          hint: save `nope` first, or fix the name
        error: workflow `bad` was not saved: 1 error in stdin
        "#);
    assert!(!sandbox.home().join("workflows/bad.json").exists());
}

#[test]
fn save_with_an_invalid_name_suggests_one() {
    let sandbox = Sandbox::new();
    sandbox.file("hello.json", HELLO);
    assert_snapshot!(sandbox.run(&["workflow", "save", "hello.json", "--name", "Fix_Issue"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: invalid workflow name `Fix_Issue`: upper case is not allowed
        hint: did you mean `fix-issue`? names are lowercase words joined by single dashes
        "#);
}

#[test]
fn list_prints_a_table_and_filters() {
    let sandbox = with_two_saved();
    assert_snapshot!(sandbox.run(&["workflow", "list"]), @r#"
        exit: 0
        --- stdout
        NAME       DESCRIPTION                         INPUTS
        fix-issue  Fixes GitHub issues and creates PR  issue_number, repo?
        hello
        --- stderr
        "#);
    assert_snapshot!(sandbox.run(&["workflow", "list", "GITHUB", "pr"]), @r#"
        exit: 0
        --- stdout
        NAME       DESCRIPTION                         INPUTS
        fix-issue  Fixes GitHub issues and creates PR  issue_number, repo?
        --- stderr
        "#);
    assert_snapshot!(sandbox.run(&["workflow", "list", "github", "nothing"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        no saved workflow matches `github nothing` (2 saved)
        "#);
}

#[test]
fn list_json_is_an_array_of_summaries() {
    let sandbox = with_two_saved();
    assert_snapshot!(sandbox.run(&["workflow", "list", "--json"]), @r#"
        exit: 0
        --- stdout
        [
          {
            "name": "fix-issue",
            "description": "Fixes GitHub issues and creates PR",
            "inputs": [
              {
                "name": "issue_number",
                "type": "string",
                "required": true,
                "description": "GitHub issue number"
              },
              {
                "name": "repo",
                "type": "string",
                "required": false
              }
            ],
            "outputs": [
              "message"
            ],
            "output_descriptions": [
              "What was said"
            ],
            "nodes": [
              "echo"
            ],
            "calls": [],
            "revision": 1,
            "created_at": "[TIME]",
            "updated_at": "[TIME]"
          },
          {
            "name": "hello",
            "description": "",
            "inputs": [],
            "outputs": [],
            "nodes": [
              "echo"
            ],
            "calls": [],
            "revision": 1,
            "created_at": "[TIME]",
            "updated_at": "[TIME]"
          }
        ]
        --- stderr
        "#);
}

#[test]
fn list_query_ranks_by_relevance() {
    let sandbox = with_two_saved();
    // Stemmed, with a typo, stop words ignored; `fix-issue` matches, `hello` does not.
    assert_snapshot!(sandbox.run(&["workflow", "list", "--query", "how do I fix githb issues?"]), @r#"
        exit: 0
        --- stdout
        NAME       DESCRIPTION                         INPUTS
        fix-issue  Fixes GitHub issues and creates PR  issue_number, repo?
        --- stderr
    "#);
    assert_snapshot!(sandbox.run(&["workflow", "list", "--query", "greeting", "--json"]), @r#"
        exit: 0
        --- stdout
        []
        --- stderr
        no saved workflow matches `greeting` (2 saved)
    "#);
    assert_snapshot!(sandbox.run(&["workflow", "list", "--query", "helo-wrld"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        no saved workflow matches `helo-wrld` (2 saved)
        hint: the closest names are `hello`
    "#);
    assert_snapshot!(sandbox.run(&["workflow", "list", "--query", "the of"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        nothing to search for in `the of`: it has no word that is not a stop word (`the`, `my`, `how`, …)
    "#);
    assert_snapshot!(sandbox.run(&["workflow", "list", "--query", "issue", "--limit", "1", "--json"]), @r#"
        exit: 0
        --- stdout
        [
          {
            "score": 0.5238903108883308,
            "name": "fix-issue",
            "description": "Fixes GitHub issues and creates PR",
            "inputs": [
              {
                "name": "issue_number",
                "type": "string",
                "required": true,
                "description": "GitHub issue number"
              },
              {
                "name": "repo",
                "type": "string",
                "required": false
              }
            ],
            "outputs": [
              "message"
            ],
            "output_descriptions": [
              "What was said"
            ],
            "nodes": [
              "echo"
            ],
            "calls": [],
            "revision": 1,
            "created_at": "[TIME]",
            "updated_at": "[TIME]"
          }
        ]
        --- stderr
    "#);
    assert_snapshot!(sandbox.run(&["workflow", "list", "fix", "--query", "issue"]), @r#"
        exit: 2
        --- stdout
        --- stderr
        error: the argument '[FILTER]...' cannot be used with '--query <TEXT>'

        Usage: pflow workflow list <FILTER>...

        For more information, try '--help'.
    "#);
    assert_snapshot!(sandbox.run(&["workflow", "list", "--limit", "1"]), @r#"
        exit: 2
        --- stdout
        --- stderr
        error: the following required arguments were not provided:
          --query <TEXT>

        Usage: pflow workflow list --query <TEXT> --limit <N> [FILTER]...

        For more information, try '--help'.
    "#);
}

#[test]
fn list_of_an_empty_store_says_how_to_save() {
    let sandbox = Sandbox::new();
    assert_snapshot!(sandbox.run(&["workflow", "list"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        no saved workflows yet
        hint: save one with `pflow workflow save FILE --name NAME`
        "#);
    assert_snapshot!(sandbox.run(&["workflow", "list", "--json"]), @r#"
        exit: 0
        --- stdout
        []
        --- stderr
        no saved workflows yet
        hint: save one with `pflow workflow save FILE --name NAME`
        "#);
}

#[test]
fn list_reports_unreadable_entries_on_stderr() {
    let sandbox = with_two_saved();
    std::fs::write(sandbox.home().join("workflows/broken.json"), "{").unwrap();
    assert_snapshot!(sandbox.run(&["workflow", "list", "--json", "hello"]), @r#"
        exit: 0
        --- stdout
        [
          {
            "name": "hello",
            "description": "",
            "inputs": [],
            "outputs": [],
            "nodes": [
              "echo"
            ],
            "calls": [],
            "revision": 1,
            "created_at": "[TIME]",
            "updated_at": "[TIME]"
          }
        ]
        --- stderr
        warning: skipped [HOME]/workflows/broken.json: invalid JSON at line 1, column 1: EOF while parsing an object
        "#);
}

#[test]
fn show_prints_the_interface_and_how_to_run_it() {
    let sandbox = with_two_saved();
    assert_snapshot!(sandbox.run(&["workflow", "show", "fix-issue"]), @r#"
        exit: 0
        --- stdout
        name         fix-issue
        description  Fixes GitHub issues and creates PR
        revision     1
        created      [TIME]
        updated      [TIME]
        path         [HOME]/workflows/fix-issue.json
        nodes        1
        calls        (none)
        called by    (none)

        inputs:
          issue_number  string  required         GitHub issue number
          repo          string  default "pflow"

        outputs:
          message  string  from ${say.message}  What was said

        run it:
          pflow run fix-issue issue_number=<string>
        --- stderr
        "#);
    assert_snapshot!(sandbox.run(&["workflow", "show", "hello"]), @r#"
        exit: 0
        --- stdout
        name         hello
        description  (none)
        revision     1
        created      [TIME]
        updated      [TIME]
        path         [HOME]/workflows/hello.json
        nodes        1
        calls        (none)
        called by    (none)

        inputs:
          (none)

        outputs:
          (none)

        run it:
          pflow run hello
        --- stderr
        "#);
}

#[test]
fn show_ir_and_json() {
    let sandbox = with_two_saved();
    assert_snapshot!(sandbox.run(&["workflow", "show", "hello", "--ir"]), @r#"
        exit: 0
        --- stdout
        {
          "ir_version": "0.1.0",
          "nodes": [
            {
              "id": "hi",
              "type": "echo",
              "params": {
                "message": "hello"
              }
            }
          ],
          "edges": []
        }
        --- stderr
        "#);
    assert_snapshot!(sandbox.run(&["workflow", "show", "hello", "--json"]), @r#"
        exit: 0
        --- stdout
        {
          "name": "hello",
          "description": "",
          "ir": {
            "ir_version": "0.1.0",
            "nodes": [
              {
                "id": "hi",
                "type": "echo",
                "params": {
                  "message": "hello"
                }
              }
            ],
            "edges": []
          },
          "created_at": "[TIME]",
          "updated_at": "[TIME]",
          "version": "1.0.0",
          "revision": 1
        }
        --- stderr
        "#);
}

#[test]
fn not_found_suggests_the_closest_names() {
    let sandbox = with_two_saved();
    assert_snapshot!(sandbox.run(&["workflow", "show", "fix-isue"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: workflow `fix-isue` not found
        hint: did you mean `fix-issue`?
        "#);
    assert_snapshot!(sandbox.run(&["workflow", "path", "helo"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: workflow `helo` not found
        hint: did you mean `hello`?
        "#);
    assert_snapshot!(sandbox.run(&["workflow", "delete", "zzz", "--yes"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: workflow `zzz` not found
        hint: run `pflow workflow list` to see the saved workflows
        "#);
}

#[test]
fn path_prints_the_location() {
    let sandbox = with_two_saved();
    assert_snapshot!(sandbox.run(&["workflow", "path", "hello"]), @r#"
        exit: 0
        --- stdout
        [HOME]/workflows/hello.json
        --- stderr
        "#);
}

#[test]
fn delete_needs_yes_off_a_terminal() {
    let sandbox = with_two_saved();
    assert_snapshot!(sandbox.run(&["workflow", "delete", "hello"]), @r#"
        exit: 2
        --- stdout
        --- stderr
        error: refusing to delete `hello` without confirmation: not running on a terminal
        hint: pass `--yes` to delete without asking
        "#);
    assert!(sandbox.home().join("workflows/hello.json").is_file());
    assert_snapshot!(sandbox.run(&["workflow", "delete", "hello", "--yes"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        deleted `hello`: moved to the trash with its history (`pflow workflow trash restore hello` brings it back)
        "#);
    assert!(!sandbox.home().join("workflows/hello.json").exists());
}

// History, restore, trash and callers.

const CALLS_HELLO: &str = r#"{"ir_version": "0.1.0", "nodes": [{"id": "greet", "type": "workflow", "params": {"workflow_name": "hello"}}]}"#;

/// A sandbox where `hello` has three revisions: hello, fix-issue's IR, hello again with
/// a description.
fn with_history() -> Sandbox {
    let sandbox = with_two_saved();
    sandbox.run(&["workflow", "save", "fix.json", "--name", "hello", "--force"]);
    sandbox.run(&[
        "workflow",
        "save",
        "hello.json",
        "--name",
        "hello",
        "--force",
        "--description",
        "Says hello",
    ]);
    sandbox
}

#[test]
fn history_lists_every_revision_and_what_changed() {
    let sandbox = with_history();
    assert_snapshot!(sandbox.run(&["workflow", "history", "hello"]), @r#"
        exit: 0
        --- stdout
        REVISION     SAVED                 DESCRIPTION  CHANGES
        1            [TIME]               created
        2            [TIME]               nodes +1 -1 ~0, inputs changed, outputs changed
        3 (current)  [TIME]  Says hello   nodes +1 -1 ~0, inputs changed, outputs changed, description changed
        --- stderr
        "#);
    // Saving the same content again makes no revision.
    sandbox.run(&["workflow", "save", "hello.json", "--name", "hello", "--force"]);
    let again = sandbox.run(&["workflow", "history", "hello"]);
    assert_eq!(again.matches("[TIME]").count(), 3, "{again}");
    assert_snapshot!(sandbox.run(&["workflow", "history", "fix-issue", "--json"]), @r#"
        exit: 0
        --- stdout
        [
          {
            "revision": 1,
            "time": "[TIME]",
            "description": "Fixes GitHub issues and creates PR",
            "current": true,
            "changes": null,
            "same_as": null,
            "summary": "created"
          }
        ]
        --- stderr
        "#);
    assert_snapshot!(sandbox.run(&["workflow", "history", "helo"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: workflow `helo` not found
        hint: did you mean `hello`?
        "#);
}

#[test]
fn show_a_revision_and_restore_it() {
    let sandbox = with_history();
    assert_snapshot!(sandbox.run(&["workflow", "show", "hello", "--revision", "1"]), @r#"
        exit: 0
        --- stdout
        name         hello
        description  (none)
        revision     1 (the current one is 3)
        created      [TIME]
        updated      [TIME]
        path         [HOME]/workflows/hello.json
        nodes        1
        calls        (none)
        called by    (none)

        inputs:
          (none)

        outputs:
          (none)

        run it:
          pflow run hello
        --- stderr
        "#);
    let ir = sandbox.run(&["workflow", "show", "hello", "--revision", "2", "--ir"]);
    assert!(ir.contains("issue_number") && ir.starts_with("exit: 0\n"), "{ir}");
    assert_snapshot!(sandbox.run(&["workflow", "show", "hello", "--revision", "7"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: workflow `hello` has no revision 7
        hint: its revisions are numbered up to 3; run `pflow workflow history hello` to see the ones kept
        "#);
    assert_snapshot!(sandbox.run(&["workflow", "restore", "hello", "--revision", "2"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        restored revision 2 of `hello` as revision 4
        "#);
    assert_snapshot!(sandbox.run(&["workflow", "restore", "hello", "--revision", "2"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        `hello` already has the content of revision 2 (revision 4): nothing changed
        "#);
    assert_snapshot!(sandbox.run(&["workflow", "restore", "hello", "--revision", "1", "--expect-revision", "3"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: workflow `hello` was changed concurrently: expected revision 3, found 4
        hint: `pflow workflow show hello --json` shows its revision; reapply your change to it and retry
        "#);
    let history = sandbox.run(&["workflow", "history", "hello"]);
    assert!(
        history.contains("4 (current)") && history.contains("(same as revision 2)"),
        "{history}"
    );
}

#[test]
fn delete_moves_to_the_trash_and_restore_brings_it_back() {
    let sandbox = with_history();
    sandbox.run(&["workflow", "delete", "hello", "--yes"]);
    assert!(!sandbox.home().join("workflows/hello.json").exists());
    assert_snapshot!(sandbox.run(&["workflow", "trash", "list"]), @r#"
        exit: 0
        --- stdout
        NAME   DELETED               REVISION  DESCRIPTION
        hello  [TIME]  3         Says hello
        --- stderr
        "#);
    assert_snapshot!(sandbox.run(&["workflow", "trash", "list", "--json"]), @r#"
        exit: 0
        --- stdout
        [
          {
            "name": "hello",
            "deleted_at": "[TIME]",
            "description": "Says hello",
            "revision": 3,
            "created_at": "[TIME]",
            "updated_at": "[TIME]"
          }
        ]
        --- stderr
        "#);
    assert_snapshot!(sandbox.run(&["workflow", "list"]), @r#"
        exit: 0
        --- stdout
        NAME       DESCRIPTION                         INPUTS
        fix-issue  Fixes GitHub issues and creates PR  issue_number, repo?
        --- stderr
        "#);
    assert_snapshot!(sandbox.run(&["workflow", "trash", "restore", "helo"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: no workflow `helo` in the trash
        hint: did you mean `hello`?
        "#);
    assert_snapshot!(sandbox.run(&["workflow", "trash", "restore", "hello"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        restored `hello` (revision 3) from the trash, with its history
        "#);
    let history = sandbox.run(&["workflow", "history", "hello"]);
    assert!(history.contains("3 (current)"), "{history}");
    // A new `hello` while an old one is in the trash: the old one cannot come back over it.
    sandbox.run(&["workflow", "delete", "hello", "--yes"]);
    sandbox.run(&["workflow", "save", "fix.json", "--name", "hello"]);
    assert_snapshot!(sandbox.run(&["workflow", "trash", "restore", "hello"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: workflow `hello` already exists
        hint: a saved workflow has that name: delete it first (`pflow workflow delete hello` moves it to the trash too), then restore
        "#);
}

#[test]
fn trash_purge_asks_and_deletes_for_good() {
    let sandbox = with_history();
    sandbox.run(&["workflow", "delete", "hello", "--yes"]);
    sandbox.run(&["workflow", "delete", "fix-issue", "--yes"]);
    assert_snapshot!(sandbox.run(&["workflow", "trash", "purge"]), @r#"
        exit: 2
        --- stdout
        --- stderr
        error: refusing to purge the trash without confirmation: not running on a terminal
        hint: pass `--yes` to purge without asking
        "#);
    assert_snapshot!(sandbox.run(&["workflow", "trash", "purge", "--older-than", "30", "--yes"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        nothing to purge
        "#);
    assert_snapshot!(sandbox.run(&["workflow", "trash", "purge", "helo", "--yes"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: no workflow `helo` in the trash
        hint: did you mean `hello`?
        "#);
    assert_snapshot!(sandbox.run(&["workflow", "trash", "purge", "hello", "--yes"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        purged 1 workflow from the trash
        "#);
    assert_snapshot!(sandbox.run(&["workflow", "trash", "purge", "--yes"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        purged 1 workflow from the trash
        "#);
    assert_snapshot!(sandbox.run(&["workflow", "trash", "list"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        the trash is empty
        "#);
    // The history went with them.
    let history = sandbox.home().join("workflows/.history");
    let left: Vec<_> = std::fs::read_dir(&history).map(|d| d.count()).into_iter().collect();
    assert!(left.iter().all(|n| *n == 0), "{left:?} left in {}", history.display());
}

#[test]
fn trash_list_tells_an_empty_trash_from_one_it_cannot_read() {
    let sandbox = with_two_saved();
    sandbox.run(&["workflow", "delete", "hello", "--yes"]);
    sandbox.run(&["workflow", "delete", "fix-issue", "--yes"]);
    let trash = sandbox.home().join("workflows/.trash");
    let mut files: Vec<_> = std::fs::read_dir(&trash).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    std::fs::write(&files[0], "{ \"name\": ").unwrap();
    let listed = sandbox.run(&["workflow", "trash", "list"]);
    assert!(listed.contains("\nhello  "), "the readable entry is still listed: {listed}");
    std::fs::write(&files[1], "").unwrap();
    let listed = sandbox.run(&["workflow", "trash", "list"]);
    let file = |i: usize| files[i].file_name().unwrap().to_str().unwrap().to_owned();
    let listed = listed.replace(&file(0), "[FIRST]").replace(&file(1), "[SECOND]");
    assert_snapshot!(listed, @r#"
        exit: 0
        --- stdout
        --- stderr
        warning: skipped [HOME]/workflows/.trash/[FIRST]: invalid JSON at line 1, column 10: EOF while parsing a value
        warning: skipped [HOME]/workflows/.trash/[SECOND]: invalid JSON at line 1, column 0: EOF while parsing a value
        no readable entry in the trash: 2 entries could not be read
        "#);
    let json = sandbox.run(&["workflow", "trash", "list", "--json"]);
    assert!(json.contains("--- stdout\n[]\n"), "{json}");
    assert!(
        json.ends_with("no readable entry in the trash: 2 entries could not be read\n"),
        "{json}"
    );
}

#[test]
fn delete_refuses_a_workflow_that_others_call() {
    let sandbox = with_two_saved();
    sandbox.file("calls.json", CALLS_HELLO);
    sandbox.run(&["workflow", "save", "calls.json", "--name", "greeter"]);
    sandbox.run(&["workflow", "save", "calls.json", "--name", "another"]);
    assert_snapshot!(sandbox.run(&["workflow", "delete", "hello", "--yes"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: workflow `hello` is called by `another` and `greeter`
        hint: change or delete the callers first, or pass `--force` to delete it anyway (the callers then fail until it is restored)
        "#);
    // Refused before any question, also without `--yes`.
    let asked = sandbox.run(&["workflow", "delete", "hello"]);
    assert!(asked.starts_with("exit: 1\n") && asked.contains("is called by"), "{asked}");
    assert!(sandbox.home().join("workflows/hello.json").is_file());
    let shown = sandbox.run(&["workflow", "show", "hello"]);
    assert!(shown.contains("called by    `another`, `greeter`\n"), "{shown}");
    let shown = sandbox.run(&["workflow", "show", "greeter"]);
    assert!(shown.contains("calls        `hello`\n"), "{shown}");
    assert_snapshot!(sandbox.run(&["workflow", "delete", "hello", "--yes", "--force"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        deleted `hello`: moved to the trash with its history (`pflow workflow trash restore hello` brings it back)
        warning: `another`, `greeter` call `hello` and fail until it is restored
        "#);
}
