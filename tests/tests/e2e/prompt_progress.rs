//! `pflow run` on a real pseudo-terminal: per-node progress on stderr (nested workflows
//! indented), none with `-q`, and Ctrl-C during a run stopping it with exit 130.

use pflow_tests::TestHome;

use crate::prompt_pty::{CTRL_C, Terminal};

/// Two top-level nodes; the second runs an inline child workflow of one node.
const NESTED: &str = r#"{
  "ir_version": "0.1.0",
  "nodes": [
    {"id": "first", "type": "echo", "params": {"message": "one"}},
    {"id": "call", "type": "workflow", "params": {"workflow_ir": {
      "ir_version": "0.1.0",
      "outputs": {"said": {"source": "${inner.message}"}},
      "nodes": [{"id": "inner", "type": "echo", "params": {"message": "two"}}]
    }}}
  ],
  "edges": [{"from": "first", "to": "call"}]
}"#;

const SLOW: &str = r#"{"ir_version": "0.1.0", "nodes": [{"id": "wait", "type": "shell", "params": {"command": "sleep 60"}}]}"#;

fn setup() -> (TestHome, tempfile::TempDir) {
    let home = TestHome::new();
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("nested.json"), NESTED).unwrap();
    std::fs::write(cwd.path().join("slow.json"), SLOW).unwrap();
    (home, cwd)
}

/// The line of `screen` that starts with `prefix`, and its index.
#[track_caller]
fn line(screen: &str, prefix: &str) -> (usize, String) {
    screen
        .lines()
        .enumerate()
        .find(|(_, l)| l.starts_with(prefix))
        .map(|(i, l)| (i, l.to_owned()))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in:\n{screen}"))
}

#[test]
fn a_run_on_a_terminal_shows_each_node_with_nesting_and_durations() {
    let (home, cwd) = setup();
    let term = Terminal::pflow(&home, cwd.path(), &["run", "nested.json", "--no-save-prompt"]);
    let (code, screen) = term.finish();
    assert_eq!(code, 0, "{screen}");
    // Each finished node, with its type and duration; the child's node one level deeper,
    // between its parent's start and finish.
    let (first, first_line) = line(&screen, "  ✓ first echo ");
    let (call_start, _) = line(&screen, "  ▸ call workflow");
    let (inner, inner_line) = line(&screen, "    ✓ inner echo ");
    let (call_end, call_line) = line(&screen, "  ✓ call workflow ");
    assert!(first < call_start && call_start < inner && inner < call_end, "{screen}");
    for finished in [first_line, inner_line, call_line] {
        assert!(finished.ends_with(" ms"), "no duration in {finished:?}");
    }
    // The result follows on stdout, as it is.
    assert_eq!(screen.lines().nth(call_end + 1), Some("two"), "{screen}");
}

#[test]
fn quiet_shows_no_progress_on_a_terminal() {
    let (home, cwd) = setup();
    let term =
        Terminal::pflow(&home, cwd.path(), &["-q", "run", "nested.json", "--no-save-prompt"]);
    let (code, screen) = term.finish();
    assert_eq!(code, 0, "{screen}");
    assert_eq!(screen.trim(), "two");
}

#[test]
fn ctrl_c_stops_a_running_shell_command_and_exits_130() {
    let (home, cwd) = setup();
    let mut term = Terminal::pflow(&home, cwd.path(), &["run", "slow.json"]);
    // The node is running once its progress line shows.
    term.expect("▸ wait shell");
    term.send(CTRL_C);
    term.expect("error: the run was cancelled");
    let (code, screen) = term.finish();
    assert_eq!(code, 130, "{screen}");
    let (_, stopped) = line(&screen, "  ✗ wait shell ");
    assert!(stopped.ends_with(" stopped"), "{stopped:?}");
    assert!(!screen.contains("Save this workflow?"), "{screen}");
}
