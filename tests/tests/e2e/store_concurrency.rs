//! Real concurrency through the `pflow` binary (RELIABILITY C1, C3, C5): many processes
//! saving, updating and listing one store at once.

use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::Instant;

use pflow_ir::{Document, WorkflowIr};
use pflow_tests::{Run, TestHome};
use serde_json::Value;

use crate::store_support::{count_from_env, ir_text, message_of, report, scan};

/// C1: 16 processes save the same new name at once; exactly one wins every round.
///
/// The start barrier is stdin: every process is started with `save -` and blocks reading
/// its pipe; once all 16 run, the test writes each its workflow and closes the pipes in a
/// tight loop, releasing them together.
#[test]
fn c1_concurrent_creators_of_one_name_have_exactly_one_winner() {
    const PROCS: usize = 16;
    let rounds = count_from_env("PFLOW_C1_ROUNDS", 50);
    let home = TestHome::new();
    let started = Instant::now();
    let mut passed = 0;
    for round in 0..rounds {
        let sources: Vec<String> = (0..PROCS).map(|i| ir_text(format!("{round}-{i}"))).collect();
        let children: Vec<Child> = (0..PROCS)
            .map(|_| pflow_tests::held(home.command(["workflow", "save", "-", "--name", "race"])))
            .collect();
        let runs: Vec<Run> =
            pflow_tests::release(children.into_iter().zip(sources.clone()).collect());

        let winners: Vec<usize> = (0..PROCS).filter(|&i| runs[i].code == 0).collect();
        let losers = runs
            .iter()
            .filter(|r| r.code == 1 && r.stderr.contains("workflow `race` already exists"))
            .count();
        assert_eq!(winners.len(), 1, "round {round}: {} winners: {runs:#?}", winners.len());
        assert_eq!(losers, PROCS - 1, "round {round}: losers did not all say so: {runs:#?}");
        assert!(runs.iter().all(|r| r.stdout.is_empty()), "save prints nothing on stdout");

        let scan = scan(&home.workflows());
        assert!(scan.temps.is_empty(), "round {round}: temp files left: {:?}", scan.temps);
        assert!(scan.corrupt.is_empty(), "round {round}: {:?}", scan.corrupt);
        let doc = &scan.documents["race"];
        let winner_ir: WorkflowIr = serde_json::from_str(&sources[winners[0]]).unwrap();
        assert_eq!(doc.ir, winner_ir, "round {round}: the file is not the winner's source");
        assert_eq!(doc.revision, 1);

        let deleted = home.run(["workflow", "delete", "race", "--yes"]);
        assert_eq!(deleted.code, 0, "{}", deleted.transcript());
        passed += 1;
    }
    report(format!(
        "C1: rounds passed = {passed}/{rounds} ({PROCS} processes each, {:.1} s)",
        started.elapsed().as_secs_f64()
    ));
}

/// C3: 8 processes each apply 50 increments by read-modify-write through the CLI, retrying
/// on conflict; no update is lost.
///
/// A read is `workflow show NAME --json` (which carries the revision); the write is
/// `workflow save - --name NAME --force --expect-revision REV`, which the store refuses
/// with a conflict when another process got there first. Each worker is a test thread
/// driving its own sequence of `pflow` processes; a barrier starts them together.
#[test]
fn c3_concurrent_read_modify_write_loses_no_update() {
    const WORKERS: usize = 8;
    let per_worker = count_from_env("PFLOW_C3_UPDATES", 50);
    let home = TestHome::new();
    let created =
        home.run_with_stdin(["workflow", "save", "-", "--name", "counter"], ir_text(0).as_bytes());
    assert_eq!(created.code, 0, "{}", created.transcript());

    let started = Instant::now();
    let barrier = Barrier::new(WORKERS);
    let conflicts = AtomicUsize::new(0);
    let applied = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                barrier.wait();
                let mut done = 0;
                while done < per_worker {
                    let read = home.run(["workflow", "show", "counter", "--json"]);
                    assert_eq!(read.code, 0, "{}", read.transcript());
                    let doc: Document = serde_json::from_str(&read.stdout).unwrap();
                    let ir = serde_json::to_value(&doc.ir).unwrap();
                    let next = message_of(&ir).as_u64().unwrap() + 1;
                    let revision = doc.revision.to_string();
                    let write = home.run_with_stdin(
                        [
                            "workflow",
                            "save",
                            "-",
                            "--name",
                            "counter",
                            "--force",
                            "--expect-revision",
                            &revision,
                        ],
                        ir_text(next).as_bytes(),
                    );
                    match write.code {
                        0 => {
                            done += 1;
                            applied.fetch_add(1, Ordering::Relaxed);
                        }
                        1 if write.stderr.contains("was changed concurrently") => {
                            conflicts.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => panic!("unexpected answer: {}", write.transcript()),
                    }
                }
            });
        }
    });

    let doc: Document =
        serde_json::from_str(&home.run(["workflow", "show", "counter", "--json"]).stdout).unwrap();
    let counter = message_of(&serde_json::to_value(&doc.ir).unwrap()).as_u64().unwrap();
    let expected = (WORKERS * per_worker) as u64;
    let applied = applied.into_inner() as u64;
    let conflicts = conflicts.into_inner();
    report(format!(
        "C3: counter = {counter}/{expected}, conflicts = {conflicts}, lost updates = {} ({:.1} s)",
        applied - counter,
        started.elapsed().as_secs_f64()
    ));
    assert_eq!(applied, expected);
    assert_eq!(counter, expected, "lost updates");
    assert_eq!(doc.revision, expected + 1);
    assert!(conflicts > 0, "8 racing writers never conflicted: the race did not happen");
}

/// C5: 4 writer loops (save, update, delete) run while a reader lists the store 1 000
/// times; every listing is valid JSON and never shows a temp file or a problem.
#[test]
fn c5_listings_during_writes_are_always_valid() {
    const WRITERS: usize = 4;
    let listings = count_from_env("PFLOW_C5_LISTINGS", 1000);
    let home = TestHome::new();
    let stop = AtomicBool::new(false);
    let writes = AtomicUsize::new(0);
    let invalid: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let started = Instant::now();
    std::thread::scope(|scope| {
        for w in 0..WRITERS {
            let (home, stop, writes) = (&home, &stop, &writes);
            scope.spawn(move || {
                let name = format!("writer-{w}");
                let mut value = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    value += 1;
                    let save = ["workflow", "save", "-", "--name", &name];
                    let created = home.run_with_stdin(save, ir_text(value).as_bytes());
                    assert_eq!(created.code, 0, "{}", created.transcript());
                    let update = ["workflow", "save", "-", "--name", &name, "--force"];
                    let updated = home.run_with_stdin(update, ir_text(value + 1).as_bytes());
                    assert_eq!(updated.code, 0, "{}", updated.transcript());
                    let deleted = home.run(["workflow", "delete", &name, "--yes"]);
                    assert_eq!(deleted.code, 0, "{}", deleted.transcript());
                    writes.fetch_add(3, Ordering::Relaxed);
                }
            });
        }
        scope.spawn(|| {
            for i in 0..listings {
                let run = home.run(["workflow", "list", "--json"]);
                if let Some(why) = listing_problem(&run) {
                    invalid
                        .lock()
                        .unwrap()
                        .push(format!("listing {i}: {why}\n{}", run.transcript()));
                }
            }
            stop.store(true, Ordering::Relaxed);
        });
    });
    let invalid = invalid.into_inner().unwrap();
    report(format!(
        "C5: listings = {listings}, writes = {}, invalid outputs = {} ({:.1} s)",
        writes.into_inner(),
        invalid.len(),
        started.elapsed().as_secs_f64()
    ));
    assert!(invalid.is_empty(), "{}", invalid.join("\n"));
}

/// What is wrong with one `list --json` run, if anything.
fn listing_problem(run: &Run) -> Option<String> {
    if run.code != 0 {
        return Some(format!("exit {}", run.code));
    }
    if run.stderr.lines().any(|l| l.starts_with("warning:")) {
        return Some("problems reported on stderr".to_owned());
    }
    let summaries: Vec<Value> = match serde_json::from_str(&run.stdout) {
        Ok(Value::Array(items)) => items,
        Ok(other) => return Some(format!("not a JSON array: {other}")),
        Err(e) => return Some(format!("invalid JSON: {e}")),
    };
    for summary in summaries {
        let name = summary["name"].as_str().unwrap_or_default();
        if !name.starts_with("writer-") || name.contains('.') {
            return Some(format!("unexpected entry `{name}`"));
        }
    }
    None
}
