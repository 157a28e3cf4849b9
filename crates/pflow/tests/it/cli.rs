//! What every command shares: help and version, command-line mistakes, `--home` and
//! `PFLOW_HOME`, `-v`, `-q`, `--color` and `NO_COLOR`, a closed stdout, and panics.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::Arc;

use insta::assert_snapshot;
use pflow_store::{FsStore, WorkflowManager};

use crate::sandbox::Sandbox;

const HELLO: &str = r#"{"ir_version": "0.1.0", "nodes": [{"id": "hi", "type": "echo", "params": {"message": "hello"}}]}"#;

#[test]
fn version_and_short_help_go_to_stdout() {
    let sandbox = Sandbox::new();
    assert_snapshot!(sandbox.run(&["--version"]), @r#"
        exit: 0
        --- stdout
        pflow 0.1.0
        --- stderr
        "#);
    let help = sandbox.run(&["-h"]);
    assert!(help.starts_with("exit: 0\n--- stdout\nRun JSON workflows"), "{help}");
    assert!(help.contains("Exit codes: 0 success, 1 failure, 2 usage error, 130 interrupted."));
    assert!(help.ends_with("--- stderr\n"), "{help}");
    // The long help spells out each exit code and the environment.
    let long = sandbox.run(&["--help"]);
    assert!(long.contains("130  interrupted (Ctrl-C)") && long.contains("PFLOW_HOME"), "{long}");
}

#[test]
fn command_line_mistakes_are_usage_errors_with_hints() {
    let sandbox = Sandbox::new();
    // No command: the help, on stderr, and exit 2 (its text is in docs/cli.md).
    let bare = sandbox.run(&[]);
    assert!(bare.starts_with("exit: 2\n--- stdout\n--- stderr\n"), "{bare}");
    assert!(bare.contains("Usage: pflow [OPTIONS] <COMMAND>"), "{bare}");
    assert_snapshot!(sandbox.run(&["nodes", "lst"]), @r#"
        exit: 2
        --- stdout
        --- stderr
        error: unrecognized subcommand 'lst'
        hint: a similar subcommand exists: 'list'

        Usage: pflow nodes [OPTIONS] <COMMAND>

        For more information, try '--help'.
        "#);
    assert_snapshot!(sandbox.run(&["workflow", "list", "--jsn"]), @r#"
        exit: 2
        --- stdout
        --- stderr
        error: unexpected argument '--jsn' found
        hint: a similar argument exists: '--json'

        Usage: pflow workflow list --json [FILTER]...

        For more information, try '--help'.
        "#);
    assert_snapshot!(sandbox.run(&["workflow", "show"]), @r#"
        exit: 2
        --- stdout
        --- stderr
        error: the following required arguments were not provided:
          <NAME>

        Usage: pflow workflow show <NAME>

        For more information, try '--help'.
        "#);
    assert_snapshot!(sandbox.run(&["--color", "sometimes", "nodes", "list"]), @r#"
        exit: 2
        --- stdout
        --- stderr
        error: invalid value 'sometimes' for '--color <WHEN>'
          [possible values: auto, always, never]

        For more information, try '--help'.
        "#);
    assert_snapshot!(sandbox.run(&["run", "x.json", "--description", "d"]), @r#"
        exit: 2
        --- stdout
        --- stderr
        error: the following required arguments were not provided:
          --save <NAME>

        Usage: pflow run --save <NAME> --description <TEXT> <WORKFLOW> [KEY=VALUE]...

        For more information, try '--help'.
        "#);
}

#[test]
fn home_comes_from_the_flag_then_the_environment() {
    let sandbox = Sandbox::new();
    sandbox.file("hello.json", HELLO);
    let other = tempfile::tempdir().unwrap();
    let other_home = other.path().to_str().unwrap();
    let saved = sandbox.run(&[
        "--home",
        other_home,
        "workflow",
        "save",
        "hello.json",
        "--name",
        "elsewhere",
    ]);
    assert!(saved.starts_with("exit: 0"), "{saved}");
    // PFLOW_HOME (the sandbox's home) does not have it; `--home` wins over it.
    assert_snapshot!(sandbox.run(&["workflow", "list"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        no saved workflows yet
        hint: save one with `pflow workflow save FILE --name NAME`
        "#);
    let listed = sandbox.run(&["workflow", "list", "--home", other_home]);
    assert!(listed.contains("elsewhere"), "{listed}");
    assert!(other.path().join("workflows/elsewhere.json").is_file());
}

#[test]
fn an_empty_pflow_home_counts_as_unset() {
    let sandbox = Sandbox::new();
    // Then the home is ~/.pflow; HOME points into the sandbox to keep the test hermetic.
    let cwd = sandbox.cwd().to_str().unwrap().to_owned();
    let env = [("PFLOW_HOME", ""), ("HOME", cwd.as_str())];
    assert_snapshot!(sandbox.run_with(&["-v", "workflow", "list"], None, &env), @r#"
        exit: 0
        --- stdout
        --- stderr
        pflow home: [CWD]/.pflow
        no saved workflows yet
        hint: save one with `pflow workflow save FILE --name NAME`
        exit 0 after [DURATION]
        "#);
}

#[test]
fn a_home_that_cannot_be_written_reports_the_path_and_the_cause() {
    let sandbox = Sandbox::new();
    sandbox.file("hello.json", HELLO).file("not-a-dir", "");
    let home = sandbox.cwd().join("not-a-dir");
    let home = home.to_str().unwrap();
    assert_snapshot!(sandbox.run(&["--home", home, "workflow", "save", "hello.json", "--name", "x"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: failed to create directory `[CWD]/not-a-dir/workflows`
        caused by: Not a directory (os error 20)
        hint: check that the pflow home (`--home` or `PFLOW_HOME`) is a directory you can write to
        "#);
}

#[test]
fn verbose_shows_the_home_and_the_time_taken() {
    let sandbox = Sandbox::new();
    assert_snapshot!(sandbox.run(&["-v", "workflow", "list"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        pflow home: [HOME]
        no saved workflows yet
        hint: save one with `pflow workflow save FILE --name NAME`
        exit 0 after [DURATION]
        "#);
    // Commands that do not use the store do not mention it.
    let nodes = sandbox.run(&["-v", "nodes", "list"]);
    assert!(!nodes.contains("pflow home") && nodes.contains("exit 0 after"), "{nodes}");
}

#[test]
fn quiet_keeps_errors_and_results_only() {
    let sandbox = Sandbox::new();
    assert_snapshot!(sandbox.run(&["-q", "workflow", "list"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        "#);
    assert_snapshot!(sandbox.run(&["-q", "workflow", "show", "nope"]), @r#"
        exit: 1
        --- stdout
        --- stderr
        error: workflow `nope` not found
        hint: run `pflow workflow list` to see the saved workflows
        "#);
    assert!(sandbox.run(&["-q", "-v", "nodes", "list"]).contains("cannot be used with"));
}

#[test]
fn colors_follow_the_flag_and_no_color() {
    let sandbox = Sandbox::new();
    let args = ["workflow", "show", "nope"];
    let colored = |extra: &[&str], env: &[(&str, &str)]| {
        let args: Vec<&str> = extra.iter().chain(&args).copied().collect();
        sandbox.run_with(&args, None, env).contains("\x1b[1;31merror:\x1b[0m")
    };
    // The sandbox sets NO_COLOR; stderr is a pipe, so `auto` never colors here.
    assert!(!colored(&[], &[]));
    assert!(!colored(&["--color", "auto"], &[("NO_COLOR", "")]));
    assert!(!colored(&["--color", "never"], &[]));
    assert!(colored(&["--color", "always"], &[]));
    assert!(colored(&["--color=always"], &[]));
    // Usage errors found before the command line is understood honour the flag too.
    let usage = sandbox.run(&["--color", "always", "nodes", "lst"]);
    assert!(usage.contains("\x1b[1;31merror:\x1b[0m"), "{usage}");
    // Data on stdout is never colored.
    let data = sandbox.run(&["--color", "always", "nodes", "list"]);
    assert!(!data.contains('\x1b'), "{data}");
}

/// Saves `count` workflows with long rows straight through the store library.
fn save_many(sandbox: &Sandbox, count: usize) {
    let manager = WorkflowManager::new(Arc::new(FsStore::new(sandbox.home().to_path_buf())));
    let inputs: Vec<String> = (0..20)
        .map(|i| format!(r#""input_number_{i}": {{"type": "string", "required": false}}"#))
        .collect();
    let ir = format!(
        r#"{{"ir_version": "0.1.0", "inputs": {{{}}}, "nodes": [{{"id": "a", "type": "echo", "params": {{"message": "x"}}}}]}}"#,
        inputs.join(", ")
    );
    let ir: pflow_ir::WorkflowIr = serde_json::from_str(&ir).unwrap();
    for i in 0..count {
        let name = format!("a-rather-long-workflow-name-number-{i:05}");
        manager
            .create(&name, &ir, "a description long enough to fill its column of the table")
            .unwrap();
    }
}

#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    let sandbox = Sandbox::new();
    // About 250 KiB of table, far more than a pipe holds.
    save_many(&sandbox, 600);
    for args in [&["workflow", "list"][..], &["workflow", "list", "--json"], &["--help"]] {
        let mut child = sandbox
            .command(args, &[])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        // The reader is gone: pflow's next write fails with a broken pipe.
        let out = child.wait_with_output().unwrap();
        assert!(!first.is_empty());
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{args:?}");
    }
    // The same through a shell pipeline, as a person types it.
    let script = r#""$PFLOW" workflow list | head -1; echo "pflow exit=${PIPESTATUS[0]}" >&2"#;
    let out = std::process::Command::new("bash")
        .args(["-c", script])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PFLOW", env!("CARGO_BIN_EXE_pflow"))
        .env("PFLOW_HOME", sandbox.home())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "pflow exit=0\n");
}

#[test]
fn any_other_stdout_failure_is_an_error() {
    let sandbox = Sandbox::new();
    sandbox.file("hi.json", r#"{"ir_version": "0.1.0", "nodes": [{"id": "hi", "type": "echo", "params": {"message": "hi"}}]}"#);
    let runs: [&[&str]; 4] =
        [&["nodes", "list"], &["workflow", "list", "--json"], &["run", "hi.json"], &["--help"]];
    for args in runs {
        // `/dev/full` takes the open but fails every write with "no space left".
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let out = sandbox
            .command(args, &[])
            .stdin(Stdio::null())
            .stdout(full)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("error: cannot write to stdout: No space left on device"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn a_panic_prints_one_error_line_and_exits_1() {
    let sandbox = Sandbox::new();
    let run = sandbox.run_with(&["nodes", "list"], None, &[("PFLOW_TEST_PANIC", "1")]);
    let (head, stderr) = run.split_once("--- stderr\n").unwrap();
    assert_eq!(head, "exit: 1\n--- stdout\n");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(
        lines[0].starts_with("error: internal error: panic requested by PFLOW_TEST_PANIC at "),
        "{stderr}"
    );
    assert_eq!(
        lines[1],
        "hint: this is a bug in pflow; please report it with the command that led to it"
    );
    // Even when a backtrace is asked for, none reaches the user.
    let run = sandbox.run_with(
        &["nodes", "list"],
        None,
        &[("PFLOW_TEST_PANIC", "1"), ("RUST_BACKTRACE", "1")],
    );
    assert!(!run.contains("stack backtrace") && !run.contains("panicked at"), "{run}");
}

#[test]
fn an_argument_that_is_not_utf8_is_a_usage_error_naming_it() {
    use std::os::unix::ffi::OsStrExt;

    let sandbox = Sandbox::new();
    sandbox.file("greet.json", HELLO);
    let cases: [(&[&str], &[u8]); 3] = [
        (&[], b"\xff"),
        (&["run", "greet.json"], b"name=\xff"),
        (&["workflow", "save", "greet.json", "--name", "g", "--description"], b"a\x9bb"),
    ];
    let mut transcripts = Vec::new();
    for (args, bad) in cases {
        let mut command = sandbox.command(args, &[]);
        command.arg(std::ffi::OsStr::from_bytes(bad));
        let run = crate::sandbox::transcript(command, None);
        assert!(run.starts_with("exit: 2\n--- stdout\n--- stderr\n"), "{args:?}: {run}");
        assert!(!run.contains("panicked") && !run.contains("internal error"), "{run}");
        transcripts.push(run);
    }
    assert!(transcripts[0].contains("error: unrecognized subcommand"), "{}", transcripts[0]);
    assert_snapshot!(transcripts[1], @r"
        exit: 2
        --- stdout
        --- stderr
        error: argument `name=\xff` is not UTF-8 text
        hint: pflow reads names, inputs and descriptions as UTF-8; pass the text in UTF-8 (or in a file the workflow reads)

        Usage: pflow run [OPTIONS] [WORKFLOW] [KEY=VALUE]...

        For more information, try '--help'.
        ");
    assert!(
        transcripts[2].contains("error: argument `a\\x9bb` is not UTF-8 text"),
        "{}",
        transcripts[2]
    );
    assert!(!sandbox.home().join("workflows").join("g.json").exists(), "saved anyway");
}
