//! `pflow store` and the choice of store, with directories only (the PostgreSQL side runs
//! against a real server in the end-to-end tests): the precedence `--store` >
//! `PFLOW_STORE` > `config.toml` > the home, and `store copy` between two homes.

use insta::assert_snapshot;

use crate::sandbox::Sandbox;

const IR: &str = r#"{"ir_version": "0.1.0", "nodes": [{"id": "a", "type": "echo", "params": {"message": "hi"}}]}"#;

/// `store info --json`'s `location` and `selected_by`.
fn chosen(sandbox: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> (String, String) {
    let mut full = args.to_vec();
    full.extend(["store", "info", "--json"]);
    let output = sandbox.command(&full, env).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let info: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let home = sandbox.home().display().to_string();
    let cwd = sandbox.cwd().display().to_string();
    let show =
        |v: &serde_json::Value| v.as_str().unwrap().replace(&home, "[HOME]").replace(&cwd, "[CWD]");
    (show(&info["location"]), show(&info["selected_by"]))
}

#[test]
fn the_store_is_the_flag_then_the_environment_then_the_config_then_the_home() {
    let sandbox = Sandbox::new();
    let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(chosen(&sandbox, &[], &[]), pair("[HOME]", "home"));
    std::fs::write(sandbox.home().join("config.toml"), "store = \"team\"\n").unwrap();
    assert_eq!(
        chosen(&sandbox, &[], &[]),
        pair("[HOME]/team", "[HOME]/config.toml"),
        "a relative directory in the config is taken from the home"
    );
    assert_eq!(chosen(&sandbox, &[], &[("PFLOW_STORE", "env")]), pair("[CWD]/env", "PFLOW_STORE"));
    assert_eq!(
        chosen(&sandbox, &["--store", "flag"], &[("PFLOW_STORE", "env")]),
        pair("[CWD]/flag", "--store")
    );
    // An empty value counts as unset.
    assert_eq!(
        chosen(&sandbox, &[], &[("PFLOW_STORE", "")]),
        pair("[HOME]/team", "[HOME]/config.toml")
    );
    // Every command honours it: a save through the config lands in `team/`.
    let run = sandbox.run_with(&["workflow", "save", "-", "--name", "hello"], Some(IR), &[]);
    assert!(run.starts_with("exit: 0"), "{run}");
    assert!(sandbox.home().join("team/workflows/hello.json").is_file());
    assert!(!sandbox.home().join("workflows/hello.json").exists());
}

#[test]
fn a_bad_config_is_one_error_naming_the_file() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.home().join("config.toml"), "stor = \"x\"\n").unwrap();
    assert_snapshot!(sandbox.run(&["workflow", "list"]), @r#"
    exit: 1
    --- stdout
    --- stderr
    error: invalid config `[HOME]/config.toml`: unknown field (the fields are `store` and the `[llm]` table's `default_model`, `base_url` and `api_key`)
    hint: it holds `store = "DIR"` or `store = "postgres://…"`, an `[llm]` table (docs/llm.md), or nothing
    "#);
    // A broken string is told by its place, never quoted: it may hold a password.
    std::fs::write(sandbox.home().join("config.toml"), "store = \"postgres://a:s3cret@db/x\n")
        .unwrap();
    let run = sandbox.run(&["workflow", "list"]);
    assert!(run.contains("error: invalid config `[HOME]/config.toml`: newline in string"), "{run}");
    assert!(!run.contains("s3cret"), "{run}");
}

#[test]
fn store_copy_between_two_homes_copies_once() {
    let sandbox = Sandbox::new();
    let (a, b) = (sandbox.cwd().join("a"), sandbox.cwd().join("b"));
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    for name in ["one", "two"] {
        let run = sandbox.run_with(
            &["--store", a, "workflow", "save", "-", "--name", name],
            Some(IR),
            &[],
        );
        assert!(run.starts_with("exit: 0"), "{run}");
    }
    let run = sandbox.run(&["--store", a, "workflow", "delete", "two", "--yes"]);
    assert!(run.starts_with("exit: 0"), "{run}");
    assert_snapshot!(sandbox.run(&["store", "copy", a, b]), @r"
    exit: 0
    --- stdout
    --- stderr
    copied 1 workflow and 1 trash entry (2 revisions) from `[CWD]/a` to `[CWD]/b`; 0 already there
    ");
    assert_snapshot!(sandbox.run(&["store", "copy", a, b]), @r"
    exit: 0
    --- stdout
    --- stderr
    nothing to copy from `[CWD]/a` to `[CWD]/b`: 2 lives already there
    ");
    assert_snapshot!(sandbox.run(&["store", "copy", "missing", b]), @r"
    exit: 1
    --- stdout
    --- stderr
    error: no pflow store at `[CWD]/missing`
    hint: SOURCE is a pflow home (the directory that holds `workflows/`) or a PostgreSQL URI
    ");
    assert_snapshot!(sandbox.run(&["--store", b, "store", "info"]), @r"
    exit: 0
    --- stdout
    backend:       filesystem
    location:      [CWD]/b
    selected by:   --store
    schema:        none (the filesystem layout is not versioned)
    workflows:     1
    revisions:     2
    trash entries: 1
    unreadable:    0
    --- stderr
    ");
}
