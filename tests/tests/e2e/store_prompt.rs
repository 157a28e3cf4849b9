//! `pflow workflow delete` on a real terminal: the confirmation prompt, answered through a
//! pseudo-terminal made by util-linux `script`.
//!
//! The test waits for the question to appear before it types, so no sleep decides the
//! timing. Where `script` is missing, the test prints a `SKIPPED` line with the reason.

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use pflow_tests::{TestHome, pflow_bin};

use crate::store_support::{ir_text, report};

#[test]
fn delete_asks_on_a_terminal_and_defaults_to_no() {
    if Command::new("script").arg("--version").output().is_err() {
        return report("SKIPPED delete prompt on a terminal: util-linux `script` is not installed");
    }
    let home = TestHome::new();
    let saved =
        home.run_with_stdin(["workflow", "save", "-", "--name", "doomed"], ir_text(1).as_bytes());
    assert_eq!(saved.code, 0, "{}", saved.transcript());
    let file = home.workflows().join("doomed.json");

    let kept = answer(&home, "\r");
    assert!(kept.contains("Delete workflow `doomed`? [y/N]"), "{kept}");
    assert!(kept.contains("kept `doomed`"), "{kept}");
    assert!(file.exists(), "Enter alone must keep the workflow");

    let refused = answer(&home, "n\r");
    assert!(refused.contains("kept `doomed`"), "{refused}");
    assert!(file.exists());

    let deleted = answer(&home, "y\r");
    assert!(deleted.contains("deleted `doomed`"), "{deleted}");
    assert!(!file.exists(), "`y` must delete the workflow");
    report("delete prompt on a terminal: Enter and `n` keep the workflow, `y` deletes it");
}

/// Runs `pflow workflow delete doomed` on a pseudo-terminal, types `keys` once the
/// question is shown, and returns everything the terminal showed.
fn answer(home: &TestHome, keys: &str) -> String {
    let command = format!("'{}' workflow delete doomed", pflow_bin().display());
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_clear()
        .env("PFLOW_HOME", home.path())
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start script");
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut seen = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("[y/N]") {
        let n = stdout.read(&mut chunk).expect("read the terminal");
        assert!(n > 0, "the prompt never appeared: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&chunk[..n]);
    }
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin.write_all(keys.as_bytes()).expect("type the answer");
    stdout.read_to_end(&mut seen).expect("read the terminal");
    drop(stdin);
    let status = child.wait().expect("wait for script");
    assert!(status.success(), "{status:?}: {}", String::from_utf8_lossy(&seen));
    String::from_utf8_lossy(&seen).into_owned()
}
