//! `pflow context discover` and `pflow context plan` through the built binary.

use pflow_tests::{Run, TestHome};
use serde_json::{Value, json};

/// A home with two saved workflows (one without inputs) written as stored documents, and
/// one file that is not a document at all.
fn home() -> TestHome {
    let home = TestHome::new();
    let dir = home.workflows();
    std::fs::create_dir_all(&dir).unwrap();
    let echo = json!([{ "id": "say", "type": "echo", "params": { "message": "${who}" } }]);
    let documents = [
        (
            "greet",
            "Greets someone by name.",
            json!({
                "ir_version": "0.1.0",
                "inputs": {
                    "who": { "type": "string", "required": false, "default": "world",
                             "description": "Whom to greet" },
                    "loud": { "type": "boolean", "description": "Shout it" }
                },
                "outputs": { "message": { "type": "string", "source": "${say.message}",
                                          "description": "The greeting" } },
                "nodes": echo,
            }),
        ),
        (
            "ping",
            "",
            json!({ "ir_version": "0.1.0",
                    "nodes": [{ "id": "say", "type": "echo", "params": { "message": "pong" } }] }),
        ),
    ];
    for (name, description, ir) in documents {
        let doc = json!({
            "name": name, "description": description, "ir": ir,
            "created_at": "2025-01-29T10:00:00Z", "updated_at": "2025-01-29T10:00:00Z",
            "version": "1.0.0", "revision": 1,
        });
        let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
        std::fs::write(dir.join(format!("{name}.json")), text).unwrap();
    }
    std::fs::write(dir.join("broken.json"), "{ \"name\": \"bro").unwrap();
    home
}

/// The text from the `# Saved workflows` heading on; the node types above it belong to
/// the runtime and are checked by name only.
fn saved_section(stdout: &str) -> &str {
    let start = stdout.find("# Saved workflows").expect("a saved workflows section");
    &stdout[start..]
}

#[test]
fn discover_lists_node_types_and_saved_workflows_and_skips_the_corrupt_file() {
    let home = home();
    let run = home.run(["context", "discover"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(run.stdout.starts_with("# Node types\n"), "{}", run.stdout);
    for node in ["echo", "shell", "read-file", "write-file", "http"] {
        assert!(run.stdout.contains(&format!("\n- `{node}`: ")), "no `{node}` in:\n{}", run.stdout);
    }
    assert!(!run.stdout.contains("2025"), "no timestamps:\n{}", run.stdout);
    insta::assert_snapshot!(saved_section(&run.stdout), @r#"
        # Saved workflows

        Call one from a node of type `workflow` with `params.workflow_name`; pass its inputs in `params.param_mapping` (`?` marks an optional input).

        - `greet` (workflow): Greets someone by name.
          inputs: who?, loud
        - `ping` (workflow)

        (1 saved workflow entry could not be read and is not listed.)
    "#);
    insta::assert_snapshot!(home.transcript(&Run { stdout: String::new(), ..run.clone() }), @r#"
        exit: 0
        --- stdout
        --- stderr
        warning: skipped [HOME]/workflows/broken.json: invalid JSON at line 1, column 14: EOF while parsing a string
    "#);
    // The same bytes every time.
    assert_eq!(home.run(["context", "discover"]).stdout, run.stdout);
}

#[test]
fn discover_with_a_query_ranks_node_types_and_workflows() {
    let home = home();
    let args =
        ["context", "discover", "--query", "greet someone, then write a file", "--limit", "2"];
    let run = home.run(args);
    insta::assert_snapshot!(home.transcript(&run), @r#"
        exit: 0
        --- stdout
        # Node types matching `greet someone, then write a file`

        Use one as a node's `type`; ask for the planning context of the ones you choose to see their params and outputs.

        - `write-file` (file): Write text to a file, creating its parent directories
        - `move-file` (file): Move or rename a file, creating the destination's parents

        # Saved workflows matching `greet someone, then write a file`

        Call one from a node of type `workflow` with `params.workflow_name`; pass its inputs in `params.param_mapping` (`?` marks an optional input). Most relevant first.

        - `greet` (workflow): Greets someone by name.
          inputs: who?, loud

        (1 of 1 matching, 2 saved workflows searched.)

        (1 saved workflow entry could not be read and was not searched.)
        --- stderr
        warning: skipped [HOME]/workflows/broken.json: invalid JSON at line 1, column 14: EOF while parsing a string
    "#);
    // The same bytes every time.
    assert_eq!(home.run(args).stdout, run.stdout);
    let json: Value = serde_json::from_str(
        &home.run(["context", "discover", "--query", "greetings", "--json"]).stdout,
    )
    .unwrap();
    assert_eq!(json["workflows"][0]["name"], "greet", "{json:#}");
    assert!(json["workflows"][0]["score"].as_f64().unwrap() > 0.0, "{json:#}");
    let none = home.run(["context", "discover", "--query", "kubernetes"]);
    assert_eq!(none.code, 0, "{}", none.transcript());
    assert!(none.stdout.contains("None of the 2 saved workflows matches."), "{}", none.stdout);
    let usage = home.run(["context", "discover", "--limit", "3"]);
    assert_eq!(usage.code, 2, "{}", usage.transcript());
}

#[test]
fn discover_json_has_the_same_content() {
    let home = home();
    let run = home.run(["context", "discover", "--json"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    insta::assert_json_snapshot!(json["workflows"], @r#"
        [
          {
            "name": "greet",
            "description": "Greets someone by name.",
            "inputs": [
              {
                "name": "who",
                "required": false
              },
              {
                "name": "loud",
                "required": true
              }
            ]
          },
          {
            "name": "ping",
            "description": "",
            "inputs": []
          }
        ]
    "#);
    assert_eq!(json["skipped"].as_array().unwrap().len(), 1, "{json:#}");
    let categories = json["categories"].as_array().unwrap();
    let nodes: Vec<&str> = categories
        .iter()
        .flat_map(|c| c["nodes"].as_array().unwrap())
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert!(nodes.contains(&"shell"), "{nodes:?}");
    let text = home.run(["context", "discover"]).stdout;
    for node in nodes {
        assert!(text.contains(&format!("- `{node}`")), "`{node}` missing from the markdown");
    }
}

#[test]
fn plan_gives_full_interfaces() {
    let home = home();
    let run = home.run(["context", "plan", "--workflow", "greet", "ping", "--node", "echo"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(run.stdout.starts_with("# Node types\n"), "{}", run.stdout);
    assert!(run.stdout.contains("## `echo`"), "{}", run.stdout);
    insta::assert_snapshot!(saved_section(&run.stdout), @r#"
        # Saved workflows

        Call one from a node of type `workflow` with `params.workflow_name`; pass its inputs in `params.param_mapping`. Its outputs become the calling node's outputs.

        ## `greet` (workflow)

        Greets someone by name.

        Inputs:
        - `who` (string, optional, default `"world"`): Whom to greet
        - `loud` (boolean, required): Shout it

        Outputs:
        - `message` (string): The greeting

        ## `ping` (workflow)

        Inputs: none.

        Outputs: none declared.
    "#);
    assert_eq!(run.stderr, "");

    let run = home.run(["context", "plan", "--workflow", "greet", "--json"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["nodes"], json!([]));
    insta::assert_json_snapshot!(json["workflows"], @r#"
        [
          {
            "name": "greet",
            "description": "Greets someone by name.",
            "inputs": [
              {
                "name": "who",
                "type": "string",
                "required": false,
                "default": "world",
                "description": "Whom to greet"
              },
              {
                "name": "loud",
                "type": "boolean",
                "required": true,
                "description": "Shout it"
              }
            ],
            "outputs": [
              {
                "name": "message",
                "type": "string",
                "description": "The greeting"
              }
            ]
          }
        ]
    "#);
}

#[test]
fn plan_reports_every_unknown_name() {
    let home = home();
    let run = home.run(["context", "plan", "--node", "ech", "shell", "--workflow", "gret", "nope"]);
    insta::assert_snapshot!(home.transcript(&run), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: unknown node type `ech` (did you mean `echo`?); unknown saved workflows `gret` (did you mean `greet`?), `nope`
        hint: run `pflow context discover` to see every node type and saved workflow
    "#);

    let run = home.run(["context", "plan", "--workflow", "gret", "--json"]);
    insta::assert_snapshot!(home.transcript(&run), @r#"
        exit: 1
        --- stdout
        {
          "unknown": {
            "nodes": [],
            "workflows": [
              {
                "name": "gret",
                "suggestions": [
                  "greet"
                ]
              }
            ]
          }
        }
        --- stderr
        error: unknown saved workflow `gret` (did you mean `greet`?)
        hint: run `pflow context discover` to see every node type and saved workflow
    "#);
}

#[test]
fn plan_of_a_corrupt_workflow_fails_cleanly() {
    let home = home();
    let run = home.run(["context", "plan", "--workflow", "broken", "greet"]);
    insta::assert_snapshot!(home.transcript(&run), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: failed to read saved workflow `broken`
        caused by: corrupt workflow entry `[HOME]/workflows/broken.json`: invalid JSON at line 1, column 14: EOF while parsing a string
        hint: repair the file by hand, or move it to the trash with `pflow workflow delete broken --yes`
    "#);
}

#[test]
fn plan_needs_a_selection() {
    let home = home();
    let run = home.run(["context", "plan"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(run.stderr.contains("--node"), "{}", run.stderr);
}

#[test]
fn empty_home() {
    let home = TestHome::new();
    let run = home.run(["context", "discover"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(run.stdout.ends_with("# Saved workflows\n\nNo saved workflows.\n"), "{}", run.stdout);
    assert_eq!(run.stderr, "");
}
