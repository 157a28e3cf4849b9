//! Wiring tests of `pflow workflow export` and `pflow workflow import`: what each prints
//! and its exit code, between two hermetic homes.

use insta::assert_snapshot;

use crate::sandbox::Sandbox;

const LEAF: &str = r#"{"ir_version": "0.1.0",
  "inputs": {"who": {"type": "string", "required": false, "default": "world"}},
  "outputs": {"said": {"source": "${hi.message}"}},
  "nodes": [{"id": "hi", "type": "echo", "params": {"message": "hello ${who}"}}]}"#;

const TOP: &str = r#"{"ir_version": "0.1.0",
  "outputs": {"result": {"source": "${call.said}"}},
  "nodes": [{"id": "call", "type": "workflow",
             "params": {"workflow_name": "leaf", "param_mapping": {"who": "bundle"}}}]}"#;

/// A sandbox with `leaf` (two revisions) and `top`, which calls it.
fn source() -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.file("leaf.json", LEAF).file("top.json", TOP);
    sandbox.run(&["workflow", "save", "leaf.json", "--name", "leaf", "--description", "first"]);
    sandbox.run(&[
        "workflow",
        "save",
        "leaf.json",
        "--name",
        "leaf",
        "--description",
        "Says hello",
        "--force",
    ]);
    sandbox.run(&["workflow", "save", "top.json", "--name", "top"]);
    sandbox
}

/// Exports from `from` with `args` to `bundle.json` in `to`'s working directory.
fn export_into(from: &Sandbox, args: &[&str], to: &Sandbox) -> String {
    let mut full = vec!["workflow", "export"];
    full.extend_from_slice(args);
    let out = from.command(&full, &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    std::fs::write(to.cwd().join("bundle.json"), &text).unwrap();
    text
}

#[test]
fn export_prints_the_bundle_on_stdout_and_says_what_it_holds() {
    let sandbox = source();
    assert_snapshot!(sandbox.run(&["workflow", "export", "top", "--with-callees"]), @r#"
        exit: 0
        --- stdout
        {
          "format": "pflow-bundle",
          "format_version": 1,
          "exported_at": "[TIME]",
          "exported_by": "pflow 0.1.0",
          "history": false,
          "workflows": [
            {
              "document": {
                "name": "leaf",
                "description": "Says hello",
                "ir": {
                  "ir_version": "0.1.0",
                  "inputs": {
                    "who": {
                      "required": false,
                      "type": "string",
                      "default": "world"
                    }
                  },
                  "outputs": {
                    "said": {
                      "source": "${hi.message}"
                    }
                  },
                  "nodes": [
                    {
                      "id": "hi",
                      "type": "echo",
                      "params": {
                        "message": "hello ${who}"
                      }
                    }
                  ],
                  "edges": []
                },
                "created_at": "[TIME]",
                "updated_at": "[TIME]",
                "version": "1.0.0",
                "revision": 2
              }
            },
            {
              "document": {
                "name": "top",
                "description": "",
                "ir": {
                  "ir_version": "0.1.0",
                  "outputs": {
                    "result": {
                      "source": "${call.said}"
                    }
                  },
                  "nodes": [
                    {
                      "id": "call",
                      "type": "workflow",
                      "params": {
                        "workflow_name": "leaf",
                        "param_mapping": {
                          "who": "bundle"
                        }
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
            }
          ]
        }
        --- stderr
        exported 2 workflows (`leaf`, `top`)
        "#);
    assert_snapshot!(sandbox.run(&["workflow", "export", "top"]), @r#"
        exit: 0
        --- stdout
        {
          "format": "pflow-bundle",
          "format_version": 1,
          "exported_at": "[TIME]",
          "exported_by": "pflow 0.1.0",
          "history": false,
          "workflows": [
            {
              "document": {
                "name": "top",
                "description": "",
                "ir": {
                  "ir_version": "0.1.0",
                  "outputs": {
                    "result": {
                      "source": "${call.said}"
                    }
                  },
                  "nodes": [
                    {
                      "id": "call",
                      "type": "workflow",
                      "params": {
                        "workflow_name": "leaf",
                        "param_mapping": {
                          "who": "bundle"
                        }
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
            }
          ]
        }
        --- stderr
        warning: `top` calls `leaf`, which the bundle does not hold: an import needs `leaf` saved where it is imported
        hint: pass `--with-callees` to put the workflows they call in the bundle
        exported 1 workflow (`top`)
        "#);
}

#[test]
fn export_to_a_file_and_its_errors() {
    let sandbox = source();
    assert_snapshot!(sandbox.run(&["workflow", "export", "top", "leaf", "--history", "-o", "out/b.json"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: cannot write `out/b.json`
        caused by: No such file or directory (os error 2)
        "#);
    std::fs::create_dir(sandbox.cwd().join("out")).unwrap();
    assert_snapshot!(sandbox.run(&["workflow", "export", "top", "leaf", "--history", "-o", "out/b.json"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        exported 2 workflows (`leaf`, `top`) to `out/b.json`
        "#);
    let text = std::fs::read_to_string(sandbox.cwd().join("out/b.json")).unwrap();
    assert!(text.contains("\"history\": true"), "{text}");
    let leftovers: Vec<_> = std::fs::read_dir(sandbox.cwd().join("out")).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "a temp file was left beside the bundle");
    assert_snapshot!(sandbox.run(&["workflow", "export", "lef"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: workflow `lef` not found
        hint: did you mean `leaf`?
        "#);
    assert_snapshot!(sandbox.run(&["workflow", "export"]), @r#"
        exit: 2
        --- stdout
        --- stderr
        error: the following required arguments were not provided:
          <NAME>...

        Usage: pflow workflow export <NAME>...

        For more information, try '--help'.
        "#);
}

#[test]
fn import_into_an_empty_home_then_again() {
    let from = source();
    let to = Sandbox::new();
    export_into(&from, &["top", "--with-callees", "--history"], &to);
    assert_snapshot!(to.run(&["workflow", "import", "bundle.json", "--dry-run"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        `leaf` would be created (revision 2, with 1 kept revision)
        `top` would be created (revision 1)
        dry run, nothing written: 2 created, 0 updated, 0 unchanged, 0 skipped
        "#);
    assert!(!to.home().join("workflows/leaf.json").exists(), "a dry run wrote");
    assert_snapshot!(to.run(&["workflow", "import", "bundle.json"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        `leaf` created (revision 2, with 1 kept revision)
        `top` created (revision 1)
        imported `bundle.json`: 2 created, 0 updated, 0 unchanged, 0 skipped
        "#);
    assert_snapshot!(to.run(&["workflow", "import", "bundle.json"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        imported `bundle.json`: 0 created, 0 updated, 2 unchanged, 0 skipped
        "#);
    assert_snapshot!(to.run(&["run", "top"]), @r#"
        exit: 0
        --- stdout
        hello bundle
        --- stderr
        "#);
}

#[test]
fn import_conflicts_fail_skip_or_update() {
    let from = source();
    let to = Sandbox::new();
    to.file("other.json", LEAF.replace("hello", "howdy").as_str());
    to.run(&["workflow", "save", "other.json", "--name", "leaf"]);
    export_into(&from, &["top", "--with-callees"], &to);
    assert_snapshot!(to.run(&["workflow", "import", "bundle.json"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: the bundle conflicts with saved workflows of different content: `leaf`
        hint: pass `--on-conflict skip` to leave them as they are, or `--on-conflict update` to make the bundle's content their new revision
        "#);
    assert_snapshot!(to.run(&["workflow", "import", "bundle.json", "--on-conflict", "skip", "--dry-run"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        `leaf` would be skipped: it is saved here with different content
        `top` would be created (revision 1)
        dry run, nothing written: 1 created, 0 updated, 0 unchanged, 1 skipped
        "#);
    assert_snapshot!(to.run(&["workflow", "import", "bundle.json", "--on-conflict", "update"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        `leaf` updated to revision 2 (its history keeps revision 1)
        `top` created (revision 1)
        imported `bundle.json`: 1 created, 1 updated, 0 unchanged, 0 skipped
        "#);
    assert_snapshot!(to.run(&["workflow", "history", "leaf"]), @r#"
        exit: 0
        --- stdout
        REVISION     SAVED                 DESCRIPTION  CHANGES
        1            [TIME]               created
        2 (current)  [TIME]  Says hello   nodes +0 -0 ~1, description changed
        --- stderr
        "#);
}

#[test]
fn import_refuses_a_bad_bundle_and_writes_nothing() {
    let from = source();
    let to = Sandbox::new();
    export_into(&from, &["top"], &to);
    assert_snapshot!(to.run(&["workflow", "import", "bundle.json"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: `top` ir.nodes[0].params.workflow_name: calls workflow `leaf`, which neither the bundle nor the store holds
          hint: put `leaf` in the bundle, or save it here first
        error: the bundle cannot be imported: `top` invalid
        hint: every problem is listed above; fix them where the bundle was exported, or save what it calls here first
        "#);
    to.file("broken.json", r#"{"format": "pflow-bundle", "format_version": 1, "workflows": [{"document": {"name": "../evil""#);
    assert_snapshot!(to.run(&["workflow", "import", "broken.json"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: cannot import `broken.json`
        caused by: not a readable workflow bundle: invalid JSON: EOF while parsing an object at line 1 column 93
        "#);
    to.file("evil.json", r#"{"format": "pflow-bundle", "format_version": 1, "exported_at": "2025-01-01T00:00:00Z", "exported_by": "x", "workflows": [{"document": {"name": "../evil", "ir": {"ir_version": "0.1.0", "nodes": []}, "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z"}}]}"#);
    assert_snapshot!(to.run(&["workflow", "import", "evil.json"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: cannot import `evil.json`
        caused by: not a readable workflow bundle: invalid workflow name `../evil`: character '.' is not allowed at line 1 column 152
        "#);
    assert_snapshot!(to.run_with_stdin(&["workflow", "import", "-"], Some(r#"{"format": "pflow-bundle", "format_version": 2}"#)), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: cannot import stdin
        caused by: the bundle is of format version 2, newer than the version 1 this pflow reads
        hint: import it with a newer pflow, or export it again with this one
        "#);
    assert_snapshot!(to.run(&["workflow", "import", "missing.json"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: cannot read `missing.json`
        caused by: No such file or directory (os error 2)
        "#);
    let saved = std::fs::read_dir(to.home().join("workflows")).into_iter().flatten().flatten();
    let files: Vec<_> = saved.filter(|e| e.file_name() != ".lock").map(|e| e.file_name()).collect();
    assert!(files.is_empty(), "a refused import wrote {files:?}");
}
