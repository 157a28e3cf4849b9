//! The planning context of a selection, and unknown names.

use pflow_context::{ContextError, PlanningContext, Selection, UnknownNames, plan};

use crate::fixtures;

fn selection(nodes: &[&str], workflows: &[&str]) -> Selection {
    Selection {
        nodes: nodes.iter().map(|s| s.to_string()).collect(),
        workflows: workflows.iter().map(|s| s.to_string()).collect(),
    }
}

fn planned(nodes: &[&str], workflows: &[&str]) -> Result<PlanningContext, ContextError> {
    let (_store, manager) = fixtures::manager();
    plan(&fixtures::catalog(), &manager, &selection(nodes, workflows))
}

#[track_caller]
fn unknown(nodes: &[&str], workflows: &[&str]) -> UnknownNames {
    match planned(nodes, workflows) {
        Err(ContextError::UnknownNames(unknown)) => unknown,
        other => panic!("expected unknown names, got {other:?}"),
    }
}

#[test]
fn planning_markdown() {
    let context = planned(
        &["shell", "read-file", "workflow", "noop", "shell"],
        &["fix-issue", "hello", "summarize-notes"],
    )
    .unwrap();
    let text = context.to_markdown();
    println!("{text}");
    insta::assert_snapshot!(text, @r#"
        # Node types

        A later node reads a node's outputs as `${NODE_ID.KEY}`.

        ## `shell`

        Runs a shell command.

        Params:
        - `command` (string, required): The command line.
        - `env` (object, optional): Extra environment variables.
        - `timeout` (integer, optional, default `60`): Seconds before it is killed.

        Outputs:
        - `stdout` (string): What it printed.
        - `exit_code` (integer)

        ## `read-file`

        Reads a text file.

        Params:
        - `file_path` (string, required): The file to read.
        - `encoding` (string, optional, default `"utf-8"`)

        Outputs:
        - `content` (string): The file's text.

        ## `workflow`

        Runs another workflow as one node.

        Params:
        - `workflow_name` (string, optional): A saved workflow to run.
        - `param_mapping` (object, optional): Child input name to value.

        Outputs:
        - other keys, known only at run time

        ## `noop`

        Params: none.

        Outputs: none.

        # Saved workflows

        Call one from a node of type `workflow` with `params.workflow_name`; pass its inputs in `params.param_mapping`. Its outputs become the calling node's outputs.

        ## `fix-issue` (workflow)

        Fixes a GitHub issue and opens a pull request.

        Inputs:
        - `issue_number` (integer, required): GitHub issue number
        - `repo` (string, optional, default `"pflow"`): Repository name
        - `labels` (array, optional)

        Outputs:
        - `pr_url` (string): Created pull request URL
        - `log` (any)

        ## `hello` (workflow)

        Says hello.

        Inputs: none.

        Outputs: none declared.

        ## `summarize-notes` (workflow)

        Summarizes meeting notes.

        Reads every note, groups the action items by owner, drops the small talk, and writes a short summary that fits in one chat message so that the team can read it on a phone.

        Inputs:
        - `notes` (any, optional): Any text

        Outputs:
        - `summary` (string)
    "#);
}

#[test]
fn planning_json() {
    let context = planned(&["read-file"], &["fix-issue"]).unwrap();
    let json = serde_json::to_string_pretty(&context).unwrap();
    println!("{json}");
    insta::assert_snapshot!(json, @r#"
        {
          "nodes": [
            {
              "name": "read-file",
              "description": "Reads a text file.",
              "category": "file",
              "params": [
                {
                  "name": "file_path",
                  "description": "The file to read.",
                  "type": "string",
                  "required": true
                },
                {
                  "name": "encoding",
                  "description": "",
                  "type": "string",
                  "required": false,
                  "default": "utf-8"
                }
              ],
              "outputs": [
                {
                  "name": "content",
                  "description": "The file's text.",
                  "type": "string"
                }
              ]
            }
          ],
          "workflows": [
            {
              "name": "fix-issue",
              "description": "Fixes a GitHub issue and opens a pull request.",
              "inputs": [
                {
                  "name": "issue_number",
                  "type": "integer",
                  "required": true,
                  "description": "GitHub issue number"
                },
                {
                  "name": "repo",
                  "type": "string",
                  "required": false,
                  "default": "pflow",
                  "description": "Repository\nname"
                },
                {
                  "name": "labels",
                  "type": "array",
                  "required": false,
                  "description": ""
                }
              ],
              "outputs": [
                {
                  "name": "pr_url",
                  "type": "string",
                  "description": "Created pull request URL"
                },
                {
                  "name": "log",
                  "description": ""
                }
              ]
            }
          ]
        }
    "#);
    let back: PlanningContext = serde_json::from_str(&json).unwrap();
    assert_eq!(back, context);
}

#[test]
fn only_nodes_or_only_workflows() {
    let nodes = planned(&["echo"], &[]).unwrap();
    insta::assert_snapshot!(nodes.to_markdown(), @r#"
        # Node types

        A later node reads a node's outputs as `${NODE_ID.KEY}`.

        ## `echo`

        Returns its message.

        Params:
        - `message` (any, optional): Anything.

        Outputs:
        - `message` (any): The message.
    "#);
    let workflows = planned(&[], &["untitled"]).unwrap();
    insta::assert_snapshot!(workflows.to_markdown(), @r#"
        # Saved workflows

        Call one from a node of type `workflow` with `params.workflow_name`; pass its inputs in `params.param_mapping`. Its outputs become the calling node's outputs.

        ## `untitled` (workflow)

        Inputs: none.

        Outputs: none declared.
    "#);
}

#[test]
fn unknown_nodes_only() {
    let unknown = unknown(&["read-fil", "shell", "xyz"], &["hello"]);
    insta::assert_snapshot!(unknown.to_string(), @"unknown node types `read-fil` (did you mean `read-file`?), `xyz`");
    assert!(unknown.workflows.is_empty());
}

#[test]
fn unknown_workflows_only() {
    let unknown = unknown(&["shell"], &["fix-isue", "hello", "Hello_World", "nothing-like-it"]);
    insta::assert_snapshot!(unknown.to_string(), @"unknown saved workflows `fix-isue` (did you mean `fix-issue`?), `Hello_World` (did you mean `hello`?), `nothing-like-it`");
    assert!(unknown.nodes.is_empty());
}

#[test]
fn unknown_nodes_and_workflows() {
    let (_store, manager) = fixtures::manager();
    let err = plan(
        &fixtures::catalog(),
        &manager,
        &selection(&["shel", "read-file"], &["helo", "broken"]),
    )
    .unwrap_err();
    insta::assert_snapshot!(err.to_string(), @"unknown node type `shel` (did you mean `shell`?); unknown saved workflow `helo` (did you mean `hello`?)");
    // The suggestions are in the message; a front end adds the hint that names its
    // command (the CLI's is checked end to end in tests/e2e/context.rs).
    assert_eq!(err.hint(), None);
    let ContextError::UnknownNames(unknown) = err else { panic!("expected unknown names") };
    insta::assert_json_snapshot!(unknown, @r#"
        {
          "nodes": [
            {
              "name": "shel",
              "suggestions": [
                "shell"
              ]
            }
          ],
          "workflows": [
            {
              "name": "helo",
              "suggestions": [
                "hello"
              ]
            }
          ]
        }
    "#);
}

#[test]
fn a_corrupt_selected_workflow_is_an_error_not_a_gap() {
    let err = planned(&["shell"], &["hello", "broken"]).unwrap_err();
    assert!(matches!(&err, ContextError::Unreadable { name, .. } if name == "broken"), "{err:?}");
    insta::assert_snapshot!(err.to_string(), @"failed to read saved workflow `broken`");
    let source = std::error::Error::source(&err).map(ToString::to_string);
    insta::assert_snapshot!(source.unwrap_or_default(), @"corrupt workflow entry `memory:broken`: expected value at line 1 column 1");
}

#[test]
fn empty_selection_is_empty() {
    let context = planned(&[], &[]).unwrap();
    assert_eq!(context, PlanningContext::default());
    assert_eq!(context.to_markdown(), "");
}
