//! The discovery context of the fixture catalog and store.

use pflow_context::{DiscoveryContext, discover};
use pflow_ir::NodeCatalog;
use pflow_store::{MemoryStore, WorkflowManager};

use crate::fixtures;

#[test]
fn discovery_markdown() {
    let (_store, manager) = fixtures::manager();
    let context = discover(&fixtures::catalog(), &manager).unwrap();
    let text = context.to_markdown();
    println!("{text}");
    insta::assert_snapshot!(text, @r#"
        # Node types

        Use one as a node's `type`; ask for the planning context of the ones you choose to see their params and outputs.

        ## debug

        - `noop`

        ## file

        - `read-file`: Reads a text file.
        - `write-file`: Writes text to a file, creating parent directories.

        ## flow

        - `workflow`: Runs another workflow as one node.

        ## other

        - `echo`: Returns its message.

        ## shell

        - `shell`: Runs a shell command.

        # Saved workflows

        Call one from a node of type `workflow` with `params.workflow_name`; pass its inputs in `params.param_mapping` (`?` marks an optional input).

        - `fix-issue` (workflow): Fixes a GitHub issue and opens a pull request.
          inputs: issue_number, repo?, labels?
        - `hello` (workflow): Says hello.
        - `summarize-notes` (workflow): Summarizes meeting notes. Reads every note, groups the action items by owner, drops the small talk, and writes a short summary that fits in one chat message so…
          inputs: notes?
        - `untitled` (workflow)

        (1 saved workflow entry could not be read and is not listed.)
    "#);
}

#[test]
fn discovery_json() {
    let (_store, manager) = fixtures::manager();
    let context = discover(&fixtures::catalog(), &manager).unwrap();
    let json = serde_json::to_string_pretty(&context).unwrap();
    println!("{json}");
    insta::assert_snapshot!(json, @r#"
        {
          "categories": [
            {
              "name": "debug",
              "nodes": [
                {
                  "name": "noop",
                  "description": ""
                }
              ]
            },
            {
              "name": "file",
              "nodes": [
                {
                  "name": "read-file",
                  "description": "Reads a text file."
                },
                {
                  "name": "write-file",
                  "description": "Writes text to a file, creating parent directories."
                }
              ]
            },
            {
              "name": "flow",
              "nodes": [
                {
                  "name": "workflow",
                  "description": "Runs another workflow as one node."
                }
              ]
            },
            {
              "name": "other",
              "nodes": [
                {
                  "name": "echo",
                  "description": "Returns its message."
                }
              ]
            },
            {
              "name": "shell",
              "nodes": [
                {
                  "name": "shell",
                  "description": "Runs a shell command."
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
                  "required": true
                },
                {
                  "name": "repo",
                  "required": false
                },
                {
                  "name": "labels",
                  "required": false
                }
              ]
            },
            {
              "name": "hello",
              "description": "Says hello.",
              "inputs": []
            },
            {
              "name": "summarize-notes",
              "description": "Summarizes meeting notes. Reads every note, groups the action items by owner, drops the small talk, and writes a short summary that fits in one chat message so…",
              "inputs": [
                {
                  "name": "notes",
                  "required": false
                }
              ]
            },
            {
              "name": "untitled",
              "description": "",
              "inputs": []
            }
          ],
          "skipped": [
            {
              "location": "memory:broken",
              "reason": "expected value at line 1 column 1"
            }
          ]
        }
    "#);
    let back: DiscoveryContext = serde_json::from_str(&json).unwrap();
    assert_eq!(back, context);
}

#[test]
fn empty_catalog_and_store() {
    let manager = WorkflowManager::new(std::sync::Arc::new(MemoryStore::new()));
    let context = discover(&NodeCatalog::default(), &manager).unwrap();
    insta::assert_snapshot!(context.to_markdown(), @r#"
        # Node types

        No node types.

        # Saved workflows

        No saved workflows.
    "#);
}

#[test]
fn discovery_is_deterministic() {
    // The same content saved in another order, at other times, gives the same bytes.
    let (_store, first) = fixtures::manager_saving_in(fixtures::Order::Forward);
    let a = discover(&fixtures::catalog(), &first).unwrap().to_markdown();
    let (_store, second) = fixtures::manager_saving_in(fixtures::Order::Reverse);
    let b = discover(&fixtures::catalog(), &second).unwrap().to_markdown();
    assert_eq!(a, b);
    assert!(!a.contains("20"), "no timestamps or years in the context:\n{a}");
}
