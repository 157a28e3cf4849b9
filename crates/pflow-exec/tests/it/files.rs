//! The file nodes on real files in temporary directories.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::run;

/// Runs one node of `ty` with `params`; its outputs, or the run's error text.
fn node(ty: &str, params: Value) -> Result<Value, String> {
    run(json!({"ir_version": "0.1.0", "nodes": [{"id": "f", "type": ty, "params": params}]}))
        .map(|out| Value::Object(out.outputs))
        .map_err(|e| e.to_string())
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn read_file_reads_text_and_names_the_path_on_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.txt");
    fs::write(&file, "héllo\n").unwrap();
    assert_eq!(
        node("read-file", json!({"file_path": s(&file)})).unwrap(),
        json!({"content": "héllo\n"})
    );

    let missing = dir.path().join("missing.txt");
    let err = node("read-file", json!({"file_path": s(&missing)})).unwrap_err();
    assert!(err.starts_with(&format!("f: cannot read `{}`: ", missing.display())), "{err}");

    let latin = dir.path().join("latin.txt");
    fs::write(&latin, b"caf\xe9").unwrap();
    assert_eq!(
        node("read-file", json!({"file_path": s(&latin)})).unwrap_err(),
        format!(
            "f: `{}` is not valid UTF-8 (byte 3); set `encoding` to `latin-1` to read it anyway",
            latin.display()
        )
    );
    assert_eq!(
        node("read-file", json!({"file_path": s(&latin), "encoding": "latin-1"})).unwrap(),
        json!({"content": "café"})
    );
    assert_eq!(
        node("read-file", json!({"file_path": s(&latin), "encoding": "ebcdic"})).unwrap_err(),
        "f: param `encoding` must be `utf-8`, `utf8`, `latin-1`, `latin1` or `iso-8859-1`, found \
         `ebcdic`"
    );
}

#[test]
fn write_file_creates_parents_replaces_and_appends() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deep/er/out.txt");
    assert_eq!(
        node("write-file", json!({"file_path": s(&file), "content": "one\n"})).unwrap(),
        json!({"file_path": s(&file), "bytes_written": 4})
    );
    node("write-file", json!({"file_path": s(&file), "content": "two\n", "append": true})).unwrap();
    assert_eq!(fs::read_to_string(&file).unwrap(), "one\ntwo\n");
    node("write-file", json!({"file_path": s(&file), "content": "new"})).unwrap();
    assert_eq!(fs::read_to_string(&file).unwrap(), "new");
    // Non-string content is written as pretty JSON.
    node("write-file", json!({"file_path": s(&file), "content": {"a": [1]}})).unwrap();
    assert_eq!(fs::read_to_string(&file).unwrap(), "{\n  \"a\": [\n    1\n  ]\n}");
    assert_eq!(
        node("write-file", json!({"file_path": s(&file)})).unwrap_err(),
        "f: missing required param `content`"
    );
}

#[test]
fn a_workflow_writes_then_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("round.txt");
    let result = run(json!({"ir_version": "0.1.0",
        "nodes": [
            {"id": "w", "type": "write-file", "params": {"file_path": s(&file), "content": "round trip"}},
            {"id": "r", "type": "read-file", "params": {"file_path": "${w.file_path}"}}
        ],
        "edges": [{"from": "w", "to": "r"}]}))
    .unwrap();
    assert_eq!(Value::Object(result.outputs), json!({"content": "round trip"}));
}

#[test]
fn copy_file_refuses_an_existing_destination_unless_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.txt");
    let dest = dir.path().join("sub/dest.txt");
    fs::write(&src, "source").unwrap();
    assert_eq!(
        node("copy-file", json!({"source_path": s(&src), "dest_path": s(&dest)})).unwrap(),
        json!({"dest_path": s(&dest)})
    );
    assert_eq!(fs::read_to_string(&dest).unwrap(), "source");
    assert_eq!(fs::read_to_string(&src).unwrap(), "source");

    fs::write(&dest, "precious").unwrap();
    assert_eq!(
        node("copy-file", json!({"source_path": s(&src), "dest_path": s(&dest)})).unwrap_err(),
        format!(
            "f: destination `{}` already exists; set `overwrite` to true to replace it",
            dest.display()
        )
    );
    assert_eq!(fs::read_to_string(&dest).unwrap(), "precious");
    node("copy-file", json!({"source_path": s(&src), "dest_path": s(&dest), "overwrite": true}))
        .unwrap();
    assert_eq!(fs::read_to_string(&dest).unwrap(), "source");

    // Copying a file onto itself would truncate it: refused.
    assert_eq!(
        node("copy-file", json!({"source_path": s(&src), "dest_path": s(&src), "overwrite": true}))
            .unwrap_err(),
        format!("f: `{0}` and `{0}` are the same file", src.display())
    );
    assert_eq!(fs::read_to_string(&src).unwrap(), "source");
    let err = node("copy-file", json!({"source_path": s(dir.path()), "dest_path": s(&dest)}))
        .unwrap_err();
    assert_eq!(
        err,
        format!("f: cannot copy `{}`: not a regular file (a directory)", dir.path().display())
    );
}

#[test]
fn move_file_moves_and_refuses_an_existing_destination_unless_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("a.txt");
    let dest = dir.path().join("moved/b.txt");
    fs::write(&src, "payload").unwrap();
    assert_eq!(
        node("move-file", json!({"source_path": s(&src), "dest_path": s(&dest)})).unwrap(),
        json!({"dest_path": s(&dest)})
    );
    assert!(!src.exists());
    assert_eq!(fs::read_to_string(&dest).unwrap(), "payload");

    fs::write(&src, "second").unwrap();
    assert_eq!(
        node("move-file", json!({"source_path": s(&src), "dest_path": s(&dest)})).unwrap_err(),
        format!(
            "f: destination `{}` already exists; set `overwrite` to true to replace it",
            dest.display()
        )
    );
    assert_eq!(fs::read_to_string(&src).unwrap(), "second");
    assert_eq!(fs::read_to_string(&dest).unwrap(), "payload");

    node("move-file", json!({"source_path": s(&src), "dest_path": s(&dest), "overwrite": true}))
        .unwrap();
    assert!(!src.exists());
    assert_eq!(fs::read_to_string(&dest).unwrap(), "second");

    let err =
        node("move-file", json!({"source_path": s(&src), "dest_path": s(&dest)})).unwrap_err();
    assert!(err.starts_with(&format!("f: cannot move `{}`: ", src.display())), "{err}");
}

#[test]
fn delete_file_deletes_and_handles_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gone.txt");
    fs::write(&file, "x").unwrap();
    assert_eq!(
        node("delete-file", json!({"file_path": s(&file)})).unwrap(),
        json!({"deleted": true})
    );
    assert!(!file.exists());
    assert_eq!(
        node("delete-file", json!({"file_path": s(&file)})).unwrap_err(),
        format!(
            "f: file `{}` does not exist; set `missing_ok` to true to allow that",
            file.display()
        )
    );
    assert_eq!(
        node("delete-file", json!({"file_path": s(&file), "missing_ok": true})).unwrap(),
        json!({"deleted": false})
    );
    assert_eq!(
        node("delete-file", json!({"file_path": s(dir.path())})).unwrap_err(),
        format!("f: `{}` is a directory, not a file", dir.path().display())
    );
    assert!(dir.path().exists());
}

/// Runs [`node`] on a thread and waits for it, generously: a node that blocks (on a FIFO,
/// say) fails the test instead of hanging it.
fn node_promptly(ty: &str, params: Value) -> Result<Value, String> {
    let (tx, rx) = mpsc::channel();
    let ty = ty.to_owned();
    thread::spawn(move || {
        let _ = tx.send(node(&ty, params));
    });
    rx.recv_timeout(Duration::from_secs(30)).expect("the node blocked instead of failing")
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

#[test]
fn the_file_nodes_refuse_fifos_devices_and_huge_files_promptly() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let zero = dir.path().join("zero.txt");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    // Sparse: 64 MiB + 1 byte of size, nothing on disk.
    let huge = dir.path().join("huge.txt");
    fs::File::create(&huge).unwrap().set_len(64 * 1024 * 1024 + 1).unwrap();
    let plain = dir.path().join("plain.txt");
    fs::write(&plain, "plain").unwrap();

    let read = |path: &Path| node_promptly("read-file", json!({"file_path": s(path)})).unwrap_err();
    assert_eq!(
        read(&fifo),
        format!("f: cannot read `{}`: not a regular file (a FIFO)", fifo.display())
    );
    let err = read(&zero);
    assert!(err.starts_with(&format!("f: cannot read `{}`: not a regular file (", zero.display())));
    assert_eq!(
        read(&huge),
        format!("f: cannot read `{}`: too large: 67108865 bytes, limit 67108864", huge.display())
    );

    let dest = dir.path().join("dest.txt");
    let err = node_promptly("copy-file", json!({"source_path": s(&fifo), "dest_path": s(&dest)}))
        .unwrap_err();
    assert_eq!(err, format!("f: cannot copy `{}`: not a regular file (a FIFO)", fifo.display()));
    assert!(!dest.exists());
    let err = node_promptly(
        "copy-file",
        json!({"source_path": s(&plain), "dest_path": s(&fifo), "overwrite": true}),
    )
    .unwrap_err();
    assert_eq!(err, format!("f: cannot create `{}`: not a regular file (a FIFO)", fifo.display()));

    let err =
        node_promptly("write-file", json!({"file_path": s(&fifo), "content": "x"})).unwrap_err();
    assert_eq!(err, format!("f: cannot open `{}`: not a regular file (a FIFO)", fifo.display()));
    let err =
        node_promptly("write-file", json!({"file_path": s(&fifo), "content": "x", "append": true}))
            .unwrap_err();
    assert_eq!(err, format!("f: cannot open `{}`: not a regular file (a FIFO)", fifo.display()));
    // The regular files around them still work.
    assert_eq!(
        node_promptly("read-file", json!({"file_path": s(&plain)})).unwrap(),
        json!({"content": "plain"})
    );
}
