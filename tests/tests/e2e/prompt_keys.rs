//! Line editing in every prompt, on a real pseudo-terminal (SPEC §7): Ctrl-A / Ctrl-E,
//! Ctrl-U, Ctrl-K, Ctrl-W, Ctrl-B / Ctrl-F, the arrows, Home / End and Delete edit the
//! line as readline does, and no control chord ever inserts a character — in the save
//! prompt's confirmation, name and description, and in the delete confirmation.

use pflow_tests::TestHome;

use crate::prompt_pty::{ENTER, Terminal};

const HELLO: &str = r#"{"ir_version": "0.1.0", "nodes": [{"id": "hi", "type": "echo", "params": {"message": "Hello"}}]}"#;

const CTRL_A: &str = "\x01";
const CTRL_B: &str = "\x02";
const CTRL_E: &str = "\x05";
const CTRL_F: &str = "\x06";
const CTRL_K: &str = "\x0b";
const CTRL_U: &str = "\x15";
const CTRL_W: &str = "\x17";
const LEFT: &str = "\x1b[D";
const RIGHT: &str = "\x1b[C";
const HOME: &str = "\x1b[H";
const END: &str = "\x1b[F";
const DELETE: &str = "\x1b[3~";

/// Runs `pflow run hello_world.json`, answers yes, types `keys` at the name, Enter at the
/// description, and gives the names saved.
fn save_after(keys: &[&str]) -> Vec<String> {
    let home = TestHome::new();
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("hello_world.json"), HELLO).unwrap();
    let mut term = Terminal::pflow(&home, cwd.path(), &["run", "hello_world.json"]);
    term.expect("Save this workflow?");
    term.send("y");
    term.send(ENTER);
    term.expect("Name:");
    for key in keys {
        term.send(key);
    }
    term.send(ENTER);
    term.expect("Description");
    term.send(ENTER);
    term.expect("saved `");
    let (code, screen) = term.finish();
    assert_eq!(code, 0, "{screen}");
    saved(&home)
}

fn saved(home: &TestHome) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(home.workflows())
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.strip_suffix(".json").map(str::to_owned))
                .filter(|name| !name.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn ctrl_u_deletes_to_the_start_of_the_line() {
    assert_eq!(save_after(&["Bad Name", CTRL_U, "greet-hello"]), ["greet-hello"]);
}

#[test]
fn ctrl_u_after_a_refused_name_clears_it() {
    let home = TestHome::new();
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("hello_world.json"), HELLO).unwrap();
    let mut term = Terminal::pflow(&home, cwd.path(), &["run", "hello_world.json"]);
    term.expect("Save this workflow?");
    term.send("y");
    term.send(ENTER);
    term.expect("Name:");
    term.send("Bad Name");
    term.send(ENTER);
    term.expect("not a valid name");
    term.send(CTRL_U);
    term.send("greet-hello");
    term.send(ENTER);
    term.expect("Description");
    term.send(ENTER);
    term.expect("saved `greet-hello`");
    let (code, screen) = term.finish();
    assert_eq!(code, 0, "{screen}");
    assert_eq!(saved(&home), ["greet-hello"]);
}

#[test]
fn ctrl_a_and_ctrl_e_move_to_the_start_and_the_end() {
    assert_eq!(save_after(&["hello", CTRL_A, "greet-", CTRL_E, "-there"]), ["greet-hello-there"]);
}

#[test]
fn ctrl_w_deletes_the_word_before_the_cursor() {
    // As readline's unix-word-rubout: back to the previous space, then the space by hand.
    assert_eq!(save_after(&["greet-hello oops", CTRL_W, "\x7f"]), ["greet-hello"]);
    // Ctrl-A then Ctrl-W deletes nothing (there is no word before the start).
    assert_eq!(save_after(&["greet-hello", CTRL_A, CTRL_W]), ["greet-hello"]);
}

#[test]
fn ctrl_k_deletes_to_the_end_of_the_line() {
    let keys = ["greet-hello-junk", LEFT, LEFT, LEFT, LEFT, LEFT, CTRL_K];
    assert_eq!(save_after(&keys), ["greet-hello"]);
}

#[test]
fn arrows_home_end_and_delete_move_and_edit() {
    // `gret`, two left, `e` → `greet`; End, `-x`; Home, Delete the `g`, `g`; Right ×4, `-y`
    // inserted before `-x`.
    let keys =
        ["gret", LEFT, LEFT, "e", END, "-x", HOME, DELETE, "g", RIGHT, RIGHT, RIGHT, RIGHT, "-y"];
    assert_eq!(save_after(&keys), ["greet-y-x"]);
    assert_eq!(save_after(&["hello", CTRL_B, CTRL_B, CTRL_F, "x"]), ["hellxo"]);
}

#[test]
fn no_control_chord_inserts_a_character() {
    // Ctrl-G, Ctrl-L, Ctrl-O, Ctrl-R, Ctrl-T, Ctrl-V, Ctrl-X, Ctrl-Y, Ctrl-Z, Ctrl-\,
    // Alt-a, F1.
    let chords = [
        "\x07", "\x0c", "\x0f", "\x12", "\x14", "\x16", "\x18", "\x19", "\x1a", "\x1c", "\x1ba",
        "\x1bOP",
    ];
    let mut keys = vec!["greet"];
    keys.extend(chords);
    keys.push("-hello");
    assert_eq!(save_after(&keys), ["greet-hello"]);
}

#[test]
fn the_confirmation_and_the_description_edit_too() {
    let home = TestHome::new();
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("hello_world.json"), HELLO).unwrap();
    let mut term = Terminal::pflow(&home, cwd.path(), &["run", "hello_world.json"]);
    term.expect("Save this workflow?");
    term.send("no");
    term.send(CTRL_U);
    term.send("y");
    term.send(ENTER);
    term.expect("Name:");
    term.send("greet");
    term.send(ENTER);
    term.expect("Description");
    term.send("Says hi");
    term.send(CTRL_W);
    term.send("hello");
    term.send(CTRL_A);
    term.send(CTRL_K);
    term.send("Greets");
    term.send(ENTER);
    term.expect("saved `greet`");
    let (code, screen) = term.finish();
    assert_eq!(code, 0, "{screen}");
    let text = std::fs::read_to_string(home.workflows().join("greet.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["description"], "Greets");
}

#[test]
fn the_delete_confirmation_edits_too() {
    let home = TestHome::new();
    let saved_run =
        home.run_with_stdin(["workflow", "save", "-", "--name", "doomed"], HELLO.as_bytes());
    assert_eq!(saved_run.code, 0, "{}", saved_run.transcript());
    let cwd = tempfile::tempdir().unwrap();
    let mut term = Terminal::pflow(&home, cwd.path(), &["workflow", "delete", "doomed"]);
    term.expect("[y/N]");
    term.send("nope");
    term.send(CTRL_U);
    term.send("y");
    term.send(CTRL_A);
    term.send(CTRL_K);
    term.send("y");
    term.send(ENTER);
    term.expect("deleted `doomed`");
    let (code, screen) = term.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(saved(&home).is_empty());
}
