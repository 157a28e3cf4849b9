//! The `shell` node against real processes: output capture, exit codes, stdin, env, cwd,
//! timeouts that kill the whole process group, and output too large for a pipe buffer.

use serde_json::{Value, json};

use crate::support::{error, outputs, run, wait_until_dead};

/// Runs one shell node with `params` and returns its outputs or the run's error text.
fn shell(params: Value) -> Result<Value, String> {
    run(json!({"ir_version": "0.1.0", "nodes": [{"id": "sh", "type": "shell", "params": params}]}))
        .map(|out| Value::Object(out.outputs))
        .map_err(|e| e.to_string())
}

#[test]
fn captures_stdout_stderr_and_the_exit_code() {
    let out = shell(json!({"command": "echo out; echo err >&2"})).unwrap();
    assert_eq!(out, json!({"stdout": "out\n", "stderr": "err\n", "exit_code": 0}));
}

#[test]
fn a_non_zero_exit_fails_unless_errors_are_ignored() {
    assert_eq!(
        shell(json!({"command": "echo why >&2; exit 7"})).unwrap_err(),
        "sh: command exited with code 7: why"
    );
    assert_eq!(shell(json!({"command": "exit 2"})).unwrap_err(), "sh: command exited with code 2");
    let out = shell(json!({"command": "printf x; exit 7", "ignore_errors": true})).unwrap();
    assert_eq!(out, json!({"stdout": "x", "stderr": "", "exit_code": 7}));
}

#[test]
fn a_command_killed_by_a_signal_reports_128_plus_the_signal() {
    // `$$` is the template escape for `$`, so the shell's own `$$` is written `$$$$`.
    let out = shell(json!({"command": "kill -TERM $$$$", "ignore_errors": true})).unwrap();
    assert_eq!(out["exit_code"], json!(143));
}

#[test]
fn stdin_is_written_to_the_command() {
    let out = shell(json!({"command": "cat", "stdin": "line one\nline two"})).unwrap();
    assert_eq!(out["stdout"], json!("line one\nline two"));
    // Other JSON values are written as compact JSON.
    let out = shell(json!({"command": "cat", "stdin": {"a": [1, 2]}})).unwrap();
    assert_eq!(out["stdout"], json!("{\"a\":[1,2]}"));
    // Without `stdin` the command reads an empty input, never pflow's own stdin.
    let out = shell(json!({"command": "wc -c < /dev/stdin | tr -d ' '"})).unwrap();
    assert_eq!(out["stdout"], json!("0\n"));
}

#[test]
fn env_passes_values_without_shell_injection() {
    let hostile = "$(echo injected); `echo also` && echo and";
    let out = shell(json!({
        "command": "printf '%s|%s|%s' \"$VALUE\" \"$PORT\" \"$FLAG\"",
        "env": {"VALUE": hostile, "PORT": 8080, "FLAG": true}
    }))
    .unwrap();
    assert_eq!(out["stdout"], json!(format!("{hostile}|8080|true")));
    assert_eq!(
        shell(json!({"command": "true", "env": {"BAD": {"x": 1}}})).unwrap_err(),
        "sh: param `env.BAD` must be a string, a number or a boolean, found an object"
    );
}

#[test]
fn cwd_sets_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = shell(json!({"command": "pwd -P", "cwd": dir.path().to_str().unwrap()})).unwrap();
    let expected = format!("{}\n", dir.path().canonicalize().unwrap().display());
    assert_eq!(out["stdout"], json!(expected));
    let missing = dir.path().join("nope");
    assert_eq!(
        shell(json!({"command": "pwd", "cwd": missing.to_str().unwrap()})).unwrap_err(),
        format!("sh: working directory `{}` is not a directory", missing.display())
    );
}

#[test]
fn a_timeout_kills_the_whole_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("grandchild.pid");
    // The grandchild keeps the pipes open and ignores nothing: only a kill of the whole
    // group ends it before its 300 s.
    let command = format!("sleep 300 & echo $! > '{}'; echo started; wait", pid_file.display());
    let started = std::time::Instant::now();
    let result = run(json!({"ir_version": "0.1.0",
        "nodes": [
            {"id": "slow", "type": "shell", "params": {"command": command, "timeout": 1}},
            {"id": "report", "type": "echo", "params": {"message": {
                "error": "${slow.error}", "stdout": "${slow.stdout}", "code": "${slow.exit_code}"}}}
        ],
        "edges": [{"from": "slow", "to": "report", "action": "error"}]}));
    assert!(started.elapsed().as_secs() < 120, "the timeout did not stop the command");
    let out = outputs(result);
    assert_eq!(
        out["message"]["error"],
        json!("command timed out after 1 s and was killed with its process group")
    );
    assert_eq!(out["message"]["stdout"], json!("started\n"));
    assert_eq!(out["message"]["code"], json!(128 + 9));
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .expect("the shell wrote the grandchild's pid within the 1 s timeout")
        .trim()
        .parse()
        .unwrap();
    assert!(wait_until_dead(pid), "grandchild {pid} survived the timeout");
}

#[test]
fn large_outputs_and_inputs_do_not_deadlock() {
    const SIZE: usize = 3 * 1024 * 1024;
    let command =
        format!("head -c {SIZE} /dev/zero | tr '\\0' e >&2; head -c {SIZE} /dev/zero | tr '\\0' o");
    let out = shell(json!({"command": command})).unwrap();
    assert_eq!(out["stdout"].as_str().unwrap().len(), SIZE);
    assert_eq!(out["stderr"].as_str().unwrap().len(), SIZE);
    assert!(out["stdout"].as_str().unwrap().bytes().all(|b| b == b'o'));

    // A big stdin to a command that writes as much back while still reading.
    let input = "i".repeat(SIZE);
    let out = shell(json!({"command": "cat", "stdin": input})).unwrap();
    assert_eq!(out["stdout"].as_str().unwrap().len(), SIZE);
}

#[test]
fn a_command_that_ignores_its_stdin_still_finishes() {
    let out = shell(json!({"command": "echo done", "stdin": "x".repeat(1 << 20)})).unwrap();
    assert_eq!(out["stdout"], json!("done\n"));
}

#[test]
fn non_utf8_output_is_decoded_lossily() {
    let out = shell(json!({"command": "printf 'a\\377b'"})).unwrap();
    assert_eq!(out["stdout"], json!("a\u{fffd}b"));
}

#[test]
fn bad_params_fail_the_node_clearly() {
    assert_eq!(shell(json!({})).unwrap_err(), "sh: missing required param `command`");
    assert_eq!(
        shell(json!({"command": "true", "timeout": 0})).unwrap_err(),
        "sh: param `timeout` must be greater than 0, found `0`"
    );
    assert_eq!(
        shell(json!({"command": "true", "timeout": "soon"})).unwrap_err(),
        "sh: param `timeout` must be a number, found a string"
    );
    let err = error(run(json!({"ir_version": "0.1.0",
        "nodes": [{"id": "sh", "type": "shell", "params": {"command": 42}}]})));
    assert_eq!(err.to_string(), "sh: param `command` must be a string, found an integer");
}

#[test]
fn output_beyond_the_cap_fails_the_node_but_is_drained_to_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("finished");
    let command = format!("yes | head -c 40000000; echo done > '{}'", marker.display());
    let result = run(json!({"ir_version": "0.1.0",
        "nodes": [
            {"id": "sh", "type": "shell", "params": {"command": command, "timeout": 50}},
            {"id": "handle", "type": "echo", "params": {"message": {
                "error": "${sh.error}", "stdout": "${sh.stdout}", "code": "${sh.exit_code}"}}}
        ],
        "edges": [{"from": "sh", "to": "handle", "action": "error"}]}));
    let out = outputs(result);
    assert_eq!(
        out["message"]["error"],
        "command wrote more than 16 MiB to stdout; pflow keeps at most that much of each stream \
         (write big outputs to a file instead)"
    );
    assert_eq!(out["message"]["code"], 0);
    let kept = out["message"]["stdout"].as_str().unwrap();
    assert_eq!(kept.len(), 16 * 1024 * 1024);
    assert!(kept.starts_with("y\ny\n"));
    // The command was never blocked on a full pipe: it ran to its last line.
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "done\n");

    let err = shell(json!({"command": "yes | head -c 20000000 >&2; yes | head -c 17000000"}))
        .unwrap_err();
    assert_eq!(
        err,
        "sh: command wrote more than 16 MiB to stdout and stderr; pflow keeps at most that much \
         of each stream (write big outputs to a file instead)"
    );
    // Exactly the cap is not too much.
    let out = shell(json!({"command": "head -c 16777216 /dev/zero | tr '\\0' x"})).unwrap();
    assert_eq!(out["stdout"].as_str().unwrap().len(), 16 * 1024 * 1024);
}
