//! H1–H6: hostile names and hostile entries planted in the store.

use std::fs;
use std::os::unix::fs::symlink;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use pflow_store::{
    FsStore, IfCalled, Listing, SaveMode, StoreError, WorkflowManager, WorkflowStore,
};
use rustix::fs::{CWD, FileType, Mode};

use crate::common::{Backend, doc, file_of, ir};

fn hostile_names() -> Vec<String> {
    let mut names: Vec<String> = [
        "../evil",
        "a/b",
        "a\\b",
        "a\0b",
        "",
        ".",
        "..",
        "-x",
        "x-",
        "a--b",
        "Hello",
        "café",
        // Cyrillic а and е, which look like Latin a and e.
        "\u{0430}b\u{0435}",
        // Right-to-left override.
        "a\u{202E}b",
        "/etc/passwd",
        "x.json",
        " x",
        "x ",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    names.push("a".repeat(51));
    names.push("a".repeat(10_000));
    names
}

fn every_operation(m: &WorkflowManager, n: &str) -> Vec<Result<(), StoreError>> {
    let valid = m.validate(&crate::common::name("fine"), ir(1)).unwrap();
    let save = |mode| m.save(n, &valid, None, mode).map(drop);
    vec![
        m.create(n, &ir(1), "").map(drop),
        save(SaveMode::New),
        save(SaveMode::Update { expected_revision: 1 }),
        save(SaveMode::Replace { expected_revision: None }),
        save(SaveMode::Replace { expected_revision: Some(1) }),
        m.check_delete(n, IfCalled::Refuse).map(drop),
        m.locate_saved(n).map(drop),
        m.load_checked(n).map(drop),
        m.load(n).map(drop),
        m.load_ir(n).map(drop),
        m.exists(n).map(drop),
        m.update(n, &ir(1), "", 1).map(drop),
        m.delete(n, IfCalled::Refuse).map(drop),
        m.locate(n).map(drop),
        m.history(n).map(drop),
        m.load_revision(n, 1).map(drop),
        m.restore_revision(n, 1, None).map(drop),
        m.callers(n).map(drop),
        m.restore_trashed(n).map(drop),
        m.purge(Some(n), None).map(drop),
    ]
}

#[test]
fn h1_hostile_names_are_rejected_before_any_filesystem_call() {
    let backend = Backend::sim();
    let Backend::Sim { sim, .. } = &backend else { unreachable!("a sim backend") };
    let m = backend.manager();
    let paths_before = sim.all_paths();
    let mut rejected = 0;
    for n in hostile_names() {
        for result in every_operation(&m, &n) {
            assert!(matches!(result, Err(StoreError::InvalidName(_))), "{n:?}: {result:?}");
            rejected += 1;
        }
    }
    assert_eq!(sim.calls(), 0, "a hostile name reached the filesystem");
    assert_eq!(sim.all_paths(), paths_before);

    // And on the real filesystem, nothing is created anywhere.
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("deep/home");
    let m = WorkflowManager::new(std::sync::Arc::new(FsStore::new(&home)));
    for n in hostile_names() {
        for result in every_operation(&m, &n) {
            assert!(matches!(result, Err(StoreError::InvalidName(_))), "{n:?}: {result:?}");
        }
    }
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0, "something was created");
    println!("H1: {rejected} hostile calls rejected, 0 filesystem calls");

    // 50 characters are accepted.
    let fifty = "a".repeat(50);
    m.create(&fifty, &ir(1), "").unwrap();
    assert_eq!(m.load(&fifty).unwrap().name.as_str(), fifty);
}

fn problem_for<'a>(listing: &'a Listing, file: &str) -> &'a str {
    let matching: Vec<&str> = listing
        .problems
        .iter()
        .filter(|p| p.location.ends_with(&format!("/{file}")))
        .map(|p| p.reason.as_str())
        .collect();
    assert_eq!(matching.len(), 1, "expected one problem for {file}: {:?}", listing.problems);
    matching[0]
}

fn corrupt_reason(result: Result<impl std::fmt::Debug, StoreError>) -> String {
    match result {
        Err(StoreError::Corrupt { reason, .. }) => reason,
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn h2_planted_symlinks_are_never_followed() {
    let backend = Backend::fs();
    let Backend::Fs { home, .. } = &backend else { unreachable!("an fs backend") };
    let m = backend.manager();
    m.create("good", &ir(1), "").unwrap();
    m.update("good", &ir(2), "", 1).unwrap();
    let workflows = home.join("workflows");
    let lock = workflows.join(".lock");
    assert!(lock.is_file());
    // The outside file holds a valid document for `outside`: following the link would
    // make it look like a good workflow.
    let outside = home.parent().unwrap().join("outside.json");
    fs::write(&outside, doc("outside", 1).to_pretty_json()).unwrap();
    let outside_before = fs::read(&outside).unwrap();
    symlink(&outside, workflows.join("outside.json")).unwrap();
    symlink(home.join("missing"), workflows.join("dangling.json")).unwrap();
    symlink(&lock, workflows.join("lock.json")).unwrap();

    let listing = m.list_all().unwrap();
    let names: Vec<&str> = listing.workflows.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["good"]);
    for file in ["outside.json", "dangling.json", "lock.json"] {
        assert_eq!(problem_for(&listing, file), "not a regular file (a symbolic link)");
        let n = file.trim_end_matches(".json");
        let reason = corrupt_reason(m.load(n));
        assert_eq!(reason, "not a regular file (a symbolic link)");
        corrupt_reason(m.update(n, &ir(3), "", 1));
        assert!(matches!(m.create(n, &ir(3), ""), Err(StoreError::WorkflowExists { .. })));
    }
    // Deleting removes the link, not what it points to.
    m.delete("outside", IfCalled::Refuse).unwrap();
    m.delete("lock", IfCalled::Refuse).unwrap();
    assert!(!workflows.join("outside.json").exists());
    assert_eq!(fs::read(&outside).unwrap(), outside_before);
    assert!(fs::symlink_metadata(&lock).unwrap().is_file());
    m.update("good", &ir(4), "", 2).unwrap();
    println!("H2: 3 planted symlinks reported, outside file unchanged");
}

/// Runs `f` on another thread and returns its result and how long it took; fails if it
/// has not returned after 10 s (a hang).
fn timed<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> (T, Duration) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let start = Instant::now();
        let value = f();
        let _ = tx.send((value, start.elapsed()));
    });
    rx.recv_timeout(Duration::from_secs(10)).expect("the operation hung")
}

#[test]
fn h3_fifos_sockets_and_devices_never_block() {
    let backend = Backend::fs();
    let Backend::Fs { home, store, .. } = &backend else { unreachable!("an fs backend") };
    let m = backend.manager();
    m.create("good", &ir(1), "").unwrap();
    let workflows = home.join("workflows");
    rustix::fs::mknodat(CWD, workflows.join("fifo.json"), FileType::Fifo, Mode::RUSR, 0).unwrap();
    let _socket = UnixListener::bind(workflows.join("socket.json")).unwrap();
    symlink("/dev/zero", workflows.join("zero.json")).unwrap();

    let m2 = m.clone();
    let (listing, took) = timed(move || m2.list_all().unwrap());
    assert!(took < Duration::from_secs(1), "list took {took:?}");
    assert_eq!(listing.workflows.len(), 1);
    assert_eq!(problem_for(&listing, "fifo.json"), "not a regular file (a FIFO)");
    assert_eq!(problem_for(&listing, "socket.json"), "not a regular file (a socket)");
    assert_eq!(problem_for(&listing, "zero.json"), "not a regular file (a symbolic link)");
    for (n, reason) in [
        ("fifo", "not a regular file (a FIFO)"),
        ("socket", "not a regular file (a socket)"),
        ("zero", "not a regular file (a symbolic link)"),
    ] {
        let m2 = m.clone();
        let (result, took) = timed(move || m2.load(n).map(drop));
        assert!(took < Duration::from_secs(1), "load {n} took {took:?}");
        assert_eq!(corrupt_reason(result), reason);
        let m2 = m.clone();
        let (result, took) = timed(move || m2.update(n, &ir(2), "", 1).map(drop));
        assert!(took < Duration::from_secs(1), "update {n} took {took:?}");
        assert_eq!(corrupt_reason(result), reason);
    }
    // The public reader refuses them too, also when following links.
    let fifo = workflows.join("fifo.json");
    let err = pflow_fsio::read_regular_file_follow(&fifo, 1024).unwrap_err();
    assert_eq!(err.to_string(), "not a regular file (a FIFO)");
    let err = pflow_fsio::read_regular_file_follow(&workflows.join("zero.json"), 1024);
    assert_eq!(err.unwrap_err().to_string(), "not a regular file (a device)");
    assert_eq!(store.list().unwrap().problems.len(), 3);
}

/// Bytes this thread has read through `read`-family system calls so far.
fn bytes_read_by_this_thread() -> u64 {
    let io = fs::read_to_string("/proc/thread-self/io").unwrap();
    io.lines().find_map(|l| l.strip_prefix("rchar: ")).and_then(|v| v.trim().parse().ok()).unwrap()
}

#[test]
fn h4_a_huge_sparse_file_is_refused_without_reading_it() {
    let backend = Backend::fs();
    let Backend::Fs { home, .. } = &backend else { unreachable!("an fs backend") };
    let m = backend.manager();
    m.create("good", &ir(1), "").unwrap();
    let big = file_of(home, "big");
    fs::File::create(&big).unwrap().set_len(2 << 30).unwrap();

    let before = bytes_read_by_this_thread();
    let start = Instant::now();
    let listing = m.list_all().unwrap();
    let load = m.load("big");
    let took = start.elapsed();
    let read = bytes_read_by_this_thread() - before;
    assert_eq!(listing.workflows.len(), 1);
    let expected = "too large: 2147483648 bytes, limit 16777216";
    assert_eq!(problem_for(&listing, "big.json"), expected);
    assert_eq!(corrupt_reason(load), expected);
    assert!(read < 1 << 20, "read {read} bytes");
    println!("H4: list + load of a 2 GiB file read {read} bytes in {took:?}");
    let err = pflow_fsio::read_regular_file(&big, pflow_store::MAX_DOCUMENT_BYTES).unwrap_err();
    assert!(matches!(err, pflow_fsio::ReadFileError::TooLarge { size: 2147483648, .. }));
}

#[test]
fn h5_deeply_nested_json_is_a_clean_error_on_a_small_stack() {
    let backend = Backend::fs();
    let Backend::Fs { home, .. } = &backend else { unreachable!("an fs backend") };
    let m = backend.manager();
    m.create("good", &ir(1), "").unwrap();
    fs::write(file_of(home, "arrays"), "[".repeat(100_000)).unwrap();
    fs::write(file_of(home, "objects"), "{\"a\":".repeat(10_000)).unwrap();
    let handle = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            let listing = m.list_all().unwrap();
            (listing, m.load("arrays").map(drop), m.load("objects").map(drop))
        })
        .unwrap();
    let (listing, arrays, objects) = handle.join().expect("no stack overflow");
    assert_eq!(listing.workflows.len(), 1);
    for file in ["arrays.json", "objects.json"] {
        let reason = problem_for(&listing, file);
        assert!(reason.starts_with("invalid JSON at line 1"), "{reason}");
        assert!(reason.contains("recursion limit exceeded"), "{reason}");
    }
    assert!(corrupt_reason(arrays).contains("recursion limit exceeded"));
    assert!(corrupt_reason(objects).contains("recursion limit exceeded"));
}

#[test]
fn h6_damaged_entries_are_listed_as_problems_one_each() {
    let backend = Backend::fs();
    let Backend::Fs { home, .. } = &backend else { unreachable!("an fs backend") };
    let m = backend.manager();
    m.create("good", &ir(1), "").unwrap();
    let valid = doc("x", 1).to_pretty_json();
    let write = |file: &str, bytes: &[u8]| fs::write(home.join("workflows").join(file), bytes);
    let truncated = valid.replace("\"x\"", "\"truncated\"");
    write("truncated.json", &truncated.as_bytes()[..truncated.len() / 2]).unwrap();
    write("empty.json", b"").unwrap();
    let mut noise = Vec::new();
    let mut seed: u32 = 0x9e37_79b9;
    for _ in 0..4096 {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        noise.push(seed as u8);
    }
    write("random.json", &noise).unwrap();
    let mut utf8 = valid.replace("\"x\"", "\"utf8\"").replace("description 1", "descr#ption");
    utf8 = utf8.replace('#', "\u{1}");
    let mut utf8 = utf8.into_bytes();
    let at = utf8.iter().position(|b| *b == 1).unwrap();
    utf8[at] = 0xff;
    write("utf8.json", &utf8).unwrap();
    write("schema.json", br#"{"name": "schema", "ir": 5}"#).unwrap();
    write("x.txt", b"notes").unwrap();
    fs::create_dir(home.join("workflows/dir.json")).unwrap();
    write("mismatch.json", valid.as_bytes()).unwrap();
    write("Bad_Name.json", valid.as_bytes()).unwrap();

    let listing = m.list_all().unwrap();
    let names: Vec<&str> = listing.workflows.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["good"]);
    assert_eq!(listing.problems.len(), 9, "{:#?}", listing.problems);
    let expectations = [
        ("truncated.json", "invalid JSON at line"),
        ("empty.json", "invalid JSON at line 1, column 0: EOF while parsing a value"),
        ("random.json", "invalid JSON at line 1"),
        ("utf8.json", "invalid JSON at line"),
        ("schema.json", "not a workflow document: "),
        ("x.txt", "not a workflow file (workflows are stored as `<name>.json`)"),
        ("dir.json", "not a regular file (a directory)"),
        ("mismatch.json", "name `x` inside does not match file name `mismatch.json`"),
        ("Bad_Name.json", "`Bad_Name` is not a valid workflow name: "),
    ];
    for (file, start) in expectations {
        let reason = problem_for(&listing, file);
        assert!(reason.starts_with(start), "{file}: {reason}");
        println!("H6 {file}: {reason}");
    }
    for n in ["truncated", "empty", "random", "utf8", "schema", "dir", "mismatch"] {
        let reason = corrupt_reason(m.load(n));
        let file = format!("{n}.json");
        assert_eq!(reason, problem_for(&listing, &file), "load and list disagree on {n}");
    }
    // The listing stays the same when served from the index.
    assert_eq!(m.list_all().unwrap(), listing);
    assert!(Path::new(&listing.problems[0].location).is_absolute());
}
