//! Wiring tests of `pflow nodes`: the built-in node types as a table, one type in full,
//! JSON for programs, and unknown types with the closest names.

use insta::assert_snapshot;

use crate::sandbox::Sandbox;

#[test]
fn list_is_a_table_by_category() {
    assert_snapshot!(Sandbox::new().run(&["nodes", "list"]), @r#"
        exit: 0
        --- stdout
        TYPE         CATEGORY  DESCRIPTION
        llm          ai        Ask a model (OpenAI-compatible or Anthropic); with `output_schema`, the reply is JSON checked against it
        code         code      Run Python code on typed inputs in a python3 process; `result` is its output, `next` picks the action
        echo         core      Return the given message unchanged, of any JSON type
        copy-file    file      Copy a file, creating the destination's parents
        delete-file  file      Delete a file (not a directory)
        move-file    file      Move or rename a file, creating the destination's parents
        read-file    file      Read a text file
        write-file   file      Write text to a file, creating its parent directories
        http         network   Send an HTTP request; a JSON response body is parsed, others are text
        shell        shell     Run a shell command (`sh -c`) and capture its stdout, stderr and exit code
        workflow     workflow  Run another workflow (saved, from a file, or inline) and return its declared outputs
        --- stderr
        "#);
}

#[test]
fn list_json_is_every_interface() {
    let run = Sandbox::new().run(&["nodes", "list", "--json"]);
    let (head, rest) = run.split_once("--- stdout\n").unwrap();
    assert_eq!(head, "exit: 0\n");
    let (stdout, stderr) = rest.split_once("--- stderr\n").unwrap();
    assert_eq!(stderr, "");
    let specs: Vec<serde_json::Value> = serde_json::from_str(stdout).unwrap();
    let names: Vec<&str> = specs.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "llm",
            "code",
            "echo",
            "copy-file",
            "delete-file",
            "move-file",
            "read-file",
            "write-file",
            "http",
            "shell",
            "workflow"
        ]
    );
    assert!(specs.iter().all(|s| s["params"].is_array() && s["outputs"].is_array()));
}

#[test]
fn show_prints_params_outputs_and_an_example() {
    let sandbox = Sandbox::new();
    assert_snapshot!(sandbox.run(&["nodes", "show", "read-file"]), @r#"
        exit: 0
        --- stdout
        type         read-file
        category     file
        description  Read a text file

        params:
          file_path  string  required         The file to read
          encoding   string  default "utf-8"  How the bytes are decoded: `utf-8` (invalid UTF-8 is an error) or `latin-1`

        outputs:
          content  string  The text of the file

        example node:
          {"id":"read_file","type":"read-file","params":{"file_path":"<string>"}}
        --- stderr
        "#);
    assert_snapshot!(sandbox.run(&["nodes", "show", "echo", "--json"]), @r#"
        exit: 0
        --- stdout
        {
          "name": "echo",
          "description": "Return the given message unchanged, of any JSON type",
          "category": "core",
          "params": [
            {
              "name": "message",
              "description": "The value to return; a single template keeps the referenced value's type",
              "required": false,
              "default": ""
            }
          ],
          "outputs": [
            {
              "name": "message",
              "description": "The message, as given"
            }
          ]
        }
        --- stderr
        "#);
}

#[test]
fn unknown_types_suggest_the_closest() {
    let sandbox = Sandbox::new();
    assert_snapshot!(sandbox.run(&["nodes", "show", "read_file"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: unknown node type `read_file`
        hint: did you mean `read-file`?
        "#);
    assert_snapshot!(sandbox.run(&["nodes", "show", "teleport"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: unknown node type `teleport`
        hint: run `pflow nodes list` to see the node types
        "#);
}
