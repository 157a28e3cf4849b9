//! Crash safety with real processes (RELIABILITY F1): a writer is killed with `SIGKILL` at
//! a random moment, again and again, and the store is checked after every kill.
//!
//! The writer (`store-writer`, a helper binary of this package) loops save / update /
//! delete through the store library and announces `begin …` / `ack …` for every
//! mutation, so the test knows the last acknowledged state of each workflow and the one
//! operation that may have been in flight. The control run kills `naive-writer`, which
//! rewrites the same documents in place with `fs::write`, and must see corruption: that
//! proves the harness can detect a torn document at all.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pflow_ir::Document;
use pflow_tests::TestHome;

use crate::store_support::{count_from_env, ir_text, message_of, report, scan};

/// The workflows the writers cycle over.
const NAMES: [&str; 3] = ["f1-a", "f1-b", "f1-c"];
/// Filler per document, so that a write spans many pages and a torn one is likely.
const PADDING: usize = 64 * 1024;
/// The longest the next mutation may take after a kill (RELIABILITY: "< 1 s").
const NEXT_MUTATION_LIMIT: Duration = Duration::from_secs(1);

#[test]
fn f1_sigkill_during_writes_never_leaves_a_torn_or_unexpected_document() {
    let iterations = count_from_env("PFLOW_F1_ITERATIONS", 500);
    let home = TestHome::new();
    let started = Instant::now();
    // What each workflow holds: its `echo` value, or `None` when absent.
    let mut model: BTreeMap<&str, Option<u64>> = NAMES.iter().map(|n| (*n, None)).collect();
    let (mut corrupt, mut unexpected, mut temps_after_kill, mut in_flight_kills) = (0, 0, 0, 0);
    let mut acknowledged = 0;
    let mut slowest_next = Duration::ZERO;

    for i in 0..iterations {
        let first = i as u64 * 1_000_000;
        let child = Command::new(env!("CARGO_BIN_EXE_store-writer"))
            .arg(home.path())
            .args([first.to_string(), PADDING.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start store-writer");
        let (events, stderr) = kill_at_random(child);
        assert!(!stderr.contains("store-writer:"), "iteration {i}: the writer failed: {stderr}");

        // Replay what the writer acknowledged; remember what it had begun but not acked.
        let mut in_flight: Option<(&str, Option<u64>)> = None;
        for event in &events {
            let result = event.result;
            let name = NAMES.iter().copied().find(|n| *n == event.name).expect("a known name");
            if event.begin {
                in_flight = Some((name, result));
            } else {
                model.insert(name, result);
                in_flight = None;
                acknowledged += 1;
            }
        }
        in_flight_kills += usize::from(in_flight.is_some());

        let found = scan(&home.workflows());
        corrupt += found.corrupt.len();
        temps_after_kill += found.temps.len();
        for name in NAMES {
            let actual = found.documents.get(name).map(value_of);
            let mut allowed = vec![model[name]];
            if let Some((_, result)) = in_flight.filter(|(n, _)| *n == name) {
                allowed.push(result);
            }
            if !allowed.contains(&actual) {
                unexpected += 1;
                report(format!(
                    "F1 iteration {i}: `{name}` holds {actual:?}, expected one of {allowed:?}"
                ));
            }
            model.insert(name, actual);
        }
        assert!(found.corrupt.is_empty(), "iteration {i}: torn documents: {:?}", found.corrupt);

        // The next mutation, on the workflow that was in flight: it must get the lock at
        // once (a killed holder cannot keep it) and leave no temp file behind.
        let name = in_flight.map_or(NAMES[0], |(n, _)| n);
        let value = first + 500_000;
        let began = Instant::now();
        let next = home.run_with_stdin(
            ["workflow", "save", "-", "--name", name, "--force"],
            ir_text(value).as_bytes(),
        );
        let took = began.elapsed();
        slowest_next = slowest_next.max(took);
        assert_eq!(next.code, 0, "iteration {i}: {}", next.transcript());
        assert!(took < NEXT_MUTATION_LIMIT, "iteration {i}: the next save took {took:?}");
        let after = scan(&home.workflows());
        assert!(after.temps.is_empty(), "iteration {i}: temp files left: {:?}", after.temps);
        model.insert(name, Some(value));
    }

    report(format!(
        "F1: kills = {iterations}, corrupt = {corrupt}, unexpected states = {unexpected}, \
         acknowledged ops = {acknowledged}, kills with an op in flight = {in_flight_kills}, \
         temp files found after kills = {temps_after_kill}, slowest next mutation = {} ms \
         ({:.1} s)",
        slowest_next.as_millis(),
        started.elapsed().as_secs_f64()
    ));
    assert_eq!(corrupt, 0);
    assert_eq!(unexpected, 0);
    assert!(acknowledged > 0, "the writer never completed an operation: nothing was tested");
    assert!(in_flight_kills > 0, "no kill landed during an operation: nothing was tested");
}

/// The control run: the same kills against a naive in-place writer must show corruption.
#[test]
fn f1_control_naive_writer_is_seen_to_corrupt_documents() {
    let iterations = count_from_env("PFLOW_F1_CONTROL_ITERATIONS", 100);
    let home = TestHome::new();
    let mut corrupt_kills = 0;
    for _ in 0..iterations {
        let child = Command::new(env!("CARGO_BIN_EXE_naive-writer"))
            .arg(home.path())
            .arg(PADDING.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start naive-writer");
        let (_, stderr) = kill_at_random(child);
        assert!(!stderr.contains("naive-writer:"), "the naive writer failed: {stderr}");
        corrupt_kills += usize::from(!scan(&home.workflows()).corrupt.is_empty());
    }
    report(format!("F1 control (naive fs::write): corrupt = {corrupt_kills}/{iterations} kills"));
    assert!(corrupt_kills > 0, "the harness saw no corruption from a naive writer");
}

/// One announced step of `store-writer`.
#[derive(Debug)]
struct Event {
    /// `begin` (true) or `ack` (false).
    begin: bool,
    name: String,
    /// What the workflow holds once the step is done: its value, `None` after a delete.
    result: Option<u64>,
}

/// Waits for the child's `ready`, lets it run 0–20 ms, kills it with `SIGKILL`, and
/// returns its events and stderr.
fn kill_at_random(mut child: Child) -> (Vec<Event>, String) {
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut ready = String::new();
    stdout.read_line(&mut ready).expect("read the writer's first line");
    assert_eq!(ready, "ready\n", "the writer did not start");
    // Not synchronisation: the random moment of the crash is the point of the test.
    std::thread::sleep(Duration::from_micros(fastrand::u64(0..=20_000)));
    child.kill().expect("SIGKILL the writer");
    let status = child.wait().expect("reap the writer");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).expect("read the writer's output");
    let mut stderr = String::new();
    child.stderr.take().expect("stderr is piped").read_to_string(&mut stderr).unwrap();
    assert_eq!(status.signal(), Some(9), "the writer ended by itself: {status:?} {stderr}");
    // A line without its newline was cut by the kill mid-write; it announced nothing.
    let events = rest.split_inclusive('\n').filter(|l| l.ends_with('\n')).filter_map(parse_event);
    (events.collect(), stderr)
}

fn parse_event(line: &str) -> Option<Event> {
    let mut parts = line.split_whitespace();
    let begin = match parts.next()? {
        "begin" => true,
        "ack" => false,
        other => panic!("unexpected writer output `{other}`"),
    };
    let op = parts.next()?;
    let name = parts.next()?;
    let value = parts.next()?;
    let result = match op {
        "delete" => None,
        _ => Some(value.parse().expect("a value")),
    };
    Some(Event { begin, name: name.to_owned(), result })
}

/// The `echo` value a document carries.
fn value_of(doc: &Document) -> u64 {
    let ir = serde_json::to_value(&doc.ir).expect("an IR serializes");
    message_of(&ir).as_u64().expect("the writers store numbers")
}
