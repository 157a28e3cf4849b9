//! Crash safety with real processes (RELIABILITY F1): a writer is killed with `SIGKILL` at
//! a random moment, again and again, and the store is checked after every kill.
//!
//! The writer (`store-writer`, a helper binary of this package) loops save / update /
//! restore / delete / restore from the trash / purge through the store library and
//! announces `begin …` / `ack …` for every mutation, so the test knows the last
//! acknowledged state of each workflow and the one operation that may have been in
//! flight. After each kill the test reads every file of the store itself (live
//! documents, trash entries, kept revisions) and checks: no torn file; every workflow in
//! exactly one place (live or one trash entry); every life of a workflow — live or in
//! the trash — complete, revision 1 to its current one, with the values the writer
//! acknowledged. The control run kills `naive-writer`, which rewrites the same documents
//! in place with `fs::write`, and must see corruption: that proves the harness can detect
//! a torn document at all.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pflow_ir::Document;
use pflow_tests::TestHome;

use crate::store_support::{FullScan, count_from_env, ir_text, message_of, report, scan, scan_all};

/// The workflows the writers cycle over.
const NAMES: [&str; 3] = ["f1-a", "f1-b", "f1-c"];
/// Filler per document, so that a write spans many pages and a torn one is likely.
const PADDING: usize = 64 * 1024;
/// The longest the next mutation may take after a kill (RELIABILITY: "< 1 s").
const NEXT_MUTATION_LIMIT: Duration = Duration::from_secs(1);

/// One life of a workflow (from a save to its purge): the value of each revision.
pub(crate) type Life = Vec<u64>;

/// Where one workflow name's lives are: at most one live, any number in the trash
/// (oldest deletion first).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Place {
    pub(crate) live: Option<Life>,
    pub(crate) trash: Vec<Life>,
}

impl Place {
    /// The place after the writer's operation `op` with `arg` succeeded.
    pub(crate) fn after(&self, op: &str, arg: Option<u64>) -> Place {
        let mut next = self.clone();
        match op {
            "save" => next.live = Some(vec![arg.expect("a value")]),
            "update" => next.live.as_mut().expect("updates a live one").push(arg.expect("a value")),
            "restore" => {
                let life = next.live.as_mut().expect("restores a live one");
                let value = life[arg.expect("a revision") as usize - 1];
                if life.last() != Some(&value) {
                    life.push(value);
                }
            }
            "delete" => next.trash.push(next.live.take().expect("deletes a live one")),
            "untrash" => next.live = next.trash.pop(),
            "purge" => next.trash.clear(),
            other => panic!("unknown operation `{other}`"),
        }
        next
    }
}

/// What the files say about one name, with the anomalies found on the way.
fn place_in(found: &FullScan, name: &str, missing_revisions: &mut usize) -> Place {
    let mut life_of = |doc: &crate::store_support::Found| -> Life {
        let life = found.life(name, doc);
        *missing_revisions += (doc.doc.revision as usize).saturating_sub(life.len());
        life.iter().map(value_of).collect()
    };
    let live = found.live.documents.get(name).map(|doc| {
        let doc = crate::store_support::Found {
            doc: doc.clone(),
            created: crate::store_support::created_key(doc),
        };
        life_of(&doc)
    });
    let trash =
        found.trash.get(name).map(|t| t.iter().map(&mut life_of).collect()).unwrap_or_default();
    Place { live, trash }
}

/// How many lives (name + creation time) are in more than one place.
fn in_two_places(found: &FullScan) -> usize {
    let mut seen = BTreeSet::new();
    let mut twice = 0;
    let live =
        found.live.documents.iter().map(|(n, d)| (n.clone(), crate::store_support::created_key(d)));
    let trashed = found.trash.iter().flat_map(|(n, t)| t.iter().map(|f| (n.clone(), f.created)));
    for key in live.chain(trashed) {
        twice += usize::from(!seen.insert(key));
    }
    twice
}

/// Whether `part` is `whole` with some elements left out (an interrupted purge).
fn is_subsequence(part: &[Life], whole: &[Life]) -> bool {
    let mut rest = whole.iter();
    part.iter().all(|p| rest.any(|w| w == p))
}

#[test]
fn f1_sigkill_during_writes_never_leaves_a_torn_or_unexpected_document() {
    let iterations = count_from_env("PFLOW_F1_ITERATIONS", 500);
    let home = TestHome::new();
    let started = Instant::now();
    let mut model: BTreeMap<&str, Place> = NAMES.iter().map(|n| (*n, Place::default())).collect();
    let (mut corrupt, mut unexpected, mut twice, mut missing) = (0, 0, 0, 0);
    let (mut temps_after_kill, mut in_flight_kills) = (0, 0);
    let mut acknowledged: BTreeMap<String, usize> = BTreeMap::new();
    let mut killed_during: BTreeMap<String, usize> = BTreeMap::new();
    let mut slowest_next = Duration::ZERO;
    let (mut most_trashed, mut most_kept) = (0, 0);

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
        let mut in_flight: Option<&Event> = None;
        for event in &events {
            let name = NAMES.iter().copied().find(|n| *n == event.name).expect("a known name");
            if event.begin {
                in_flight = Some(event);
            } else {
                let place = model[name].after(&event.op, event.arg);
                model.insert(name, place);
                in_flight = None;
                *acknowledged.entry(event.op.clone()).or_default() += 1;
            }
        }
        if let Some(event) = in_flight {
            in_flight_kills += 1;
            *killed_during.entry(event.op.clone()).or_default() += 1;
        }

        let found = scan_all(&home.workflows());
        corrupt += found.live.corrupt.len() + found.corrupt.len();
        temps_after_kill += found.live.temps.len();
        twice += in_two_places(&found);
        most_trashed = most_trashed.max(found.trash.values().map(Vec::len).sum::<usize>());
        most_kept = most_kept.max(found.history.values().map(BTreeMap::len).sum::<usize>());
        for name in NAMES {
            let actual = place_in(&found, name, &mut missing);
            let before = &model[name];
            let flight = in_flight.filter(|e| e.name == name);
            let after = flight.map(|e| before.after(&e.op, e.arg));
            let purging = flight.is_some_and(|e| e.op == "purge");
            let allowed = actual == *before
                || after.as_ref() == Some(&actual)
                || (purging
                    && actual.live == before.live
                    && is_subsequence(&actual.trash, &before.trash));
            if !allowed {
                unexpected += 1;
                report(format!(
                    "F1 iteration {i}: `{name}` is {actual:?}, expected {before:?} or, after \
                     the operation in flight, {after:?}"
                ));
            }
            model.insert(name, actual);
        }
        assert!(
            found.live.corrupt.is_empty(),
            "iteration {i}: torn documents: {:?}",
            found.live.corrupt
        );
        assert!(
            found.corrupt.is_empty(),
            "iteration {i}: torn history or trash: {:?}",
            found.corrupt
        );

        // The next mutation, on the workflow that was in flight: it must get the lock at
        // once (a killed holder cannot keep it) and leave no temp file behind.
        let name =
            in_flight.map_or(NAMES[0], |e| NAMES.iter().copied().find(|n| *n == e.name).unwrap());
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
        let place = &model[name];
        let saved = if place.live.is_some() {
            place.after("update", Some(value))
        } else {
            place.after("save", Some(value))
        };
        model.insert(name, saved);
    }

    report(format!(
        "F1: kills = {iterations}, corrupt = {corrupt}, unexpected states = {unexpected}, \
         in two places = {twice}, missing revisions = {missing}, acknowledged ops = \
         {acknowledged:?}, kills with an op in flight = {in_flight_kills} {killed_during:?}, \
         temp files found after kills = {temps_after_kill}, most trash entries = \
         {most_trashed}, most kept revisions = {most_kept}, slowest next mutation = {} ms \
         ({:.1} s)",
        slowest_next.as_millis(),
        started.elapsed().as_secs_f64()
    ));
    assert_eq!(corrupt, 0);
    assert_eq!(unexpected, 0);
    assert_eq!(twice, 0);
    assert_eq!(missing, 0);
    // How many operations complete before a kill depends on the machine's load; what
    // must hold is that the writer did work and that kills landed inside the operations
    // under test.
    assert!(acknowledged.values().sum::<usize>() > 0, "the writer never completed an operation");
    for op in ["update", "delete", "restore", "untrash"] {
        assert!(
            killed_during.get(op).is_some_and(|n| *n > 0),
            "no kill landed during a {op}: raise PFLOW_F1_ITERATIONS"
        );
    }
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
    op: String,
    name: String,
    /// The value saved, or the revision restored; `None` for `-`.
    arg: Option<u64>,
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
    let op = parts.next()?.to_owned();
    let name = parts.next()?.to_owned();
    let arg = match parts.next()? {
        "-" => None,
        value => Some(value.parse().expect("a number")),
    };
    Some(Event { begin, op, name, arg })
}

/// The `echo` value a document carries.
fn value_of(doc: &Document) -> u64 {
    let ir = serde_json::to_value(&doc.ir).expect("an IR serializes");
    message_of(&ir).as_u64().expect("the writers store numbers")
}
