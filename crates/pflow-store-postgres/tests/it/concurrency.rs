//! Many writers on one library, each through a store of its own (a connection of its own,
//! as separate processes have): C2, C3 and the trash races at the library level, and
//! saves racing to close a call cycle — which only the library's write lock prevents.

use std::sync::{Arc, Barrier};

use pflow_store::{IfCalled, StoreError, WorkflowStore, testing};
use pflow_store_postgres::PgStore;

use crate::common::{fresh_uri, ir, manager};

/// C2: 32 connections create the same name at once; exactly one wins.
#[test]
fn one_of_32_concurrent_creators_wins() {
    const THREADS: usize = 32;
    let uri = fresh_uri();
    manager(&uri).list_all().expect("the tables are made");
    let barrier = Barrier::new(THREADS);
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS as u64)
            .map(|i| {
                let m = manager(&uri);
                let barrier = &barrier;
                scope.spawn(move || {
                    m.list_all().expect("connect first, so that the race is the create");
                    barrier.wait();
                    m.create("race", &ir(i), &format!("from {i}"))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("no panic")).collect()
    });
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let exists =
        results.iter().filter(|r| matches!(r, Err(StoreError::WorkflowExists { .. }))).count();
    println!("C2 postgres: {ok} Ok, {exists} WorkflowExists of {THREADS}");
    assert_eq!((ok, exists), (1, THREADS - 1), "{results:?}");
    let doc = manager(&uri).load("race").unwrap();
    let winner: u64 = doc.description["from ".len()..].parse().unwrap();
    assert_eq!(doc.ir, ir(winner));
}

/// C3 at the library level: 8 connections × 50 read-modify-write increments, retrying on
/// conflict; no update is lost and every revision is kept in order.
#[test]
fn read_modify_write_loses_no_update() {
    const THREADS: u64 = 8;
    const ROUNDS: u64 = 50;
    let uri = fresh_uri();
    manager(&uri).create("counter", &ir(0), "0").unwrap();
    let barrier = Barrier::new(THREADS as usize);
    let conflicts: u64 = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let m = manager(&uri);
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    let mut conflicts = 0;
                    for _ in 0..ROUNDS {
                        loop {
                            let doc = m.load("counter").unwrap();
                            let next = doc.description.parse::<u64>().unwrap() + 1;
                            match m.update("counter", &ir(next), &next.to_string(), doc.revision) {
                                Ok(_) => break,
                                Err(StoreError::Conflict { .. }) => conflicts += 1,
                                Err(other) => panic!("update failed: {other}"),
                            }
                        }
                    }
                    conflicts
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("no panic")).sum()
    });
    let m = manager(&uri);
    let doc = m.load("counter").unwrap();
    let counter: u64 = doc.description.parse().unwrap();
    let history = m.history("counter").unwrap();
    let broken = history
        .revisions
        .iter()
        .enumerate()
        .filter(|(i, d)| d.revision != *i as u64 + 1 || d.description != i.to_string())
        .count();
    println!(
        "C3 postgres (library): counter {counter}, conflicts {conflicts}, lost updates {}, \
         revisions kept {}, out of place {broken}",
        THREADS * ROUNDS - counter,
        history.revisions.len()
    );
    assert_eq!(counter, THREADS * ROUNDS);
    assert_eq!((history.revisions.len() as u64, broken), (THREADS * ROUNDS + 1, 0));
    assert!(conflicts > 0, "the connections never raced; the test proved nothing");
}

/// Connections race deletes, restores from the trash and updates of one workflow: at the
/// end it is in exactly one place with every revision kept.
#[test]
fn deletes_restores_and_updates_keep_one_workflow_in_one_place() {
    const THREADS: usize = 6;
    const ROUNDS: usize = 30;
    let uri = fresh_uri();
    manager(&uri).create("shared", &ir(0), "0").unwrap();
    let barrier = Barrier::new(THREADS);
    let done: Vec<[usize; 3]> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let m = manager(&uri);
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    let mut done = [0usize; 3];
                    for round in 0..ROUNDS {
                        let ok = match (t + round) % 3 {
                            0 => m.delete("shared", IfCalled::Refuse).is_ok(),
                            1 => m.restore_trashed("shared").is_ok(),
                            _ => match m.load("shared") {
                                Ok(doc) => m
                                    .update(
                                        "shared",
                                        &ir(doc.revision),
                                        &doc.revision.to_string(),
                                        doc.revision,
                                    )
                                    .is_ok(),
                                Err(_) => false,
                            },
                        };
                        done[(t + round) % 3] += usize::from(ok);
                    }
                    done
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("no panic")).collect()
    });
    let updates: usize = done.iter().map(|d| d[2]).sum();
    let m = manager(&uri);
    let live = m.exists("shared").unwrap();
    let trashed = m.trash().unwrap().entries.len();
    println!("trash races postgres: {done:?}; live {live}, trash entries {trashed}");
    assert_eq!(usize::from(live) + trashed, 1, "the workflow is not in exactly one place");
    if !live {
        m.restore_trashed("shared").unwrap();
    }
    let revisions: Vec<u64> =
        m.history("shared").unwrap().revisions.iter().map(|d| d.revision).collect();
    assert_eq!(revisions, (1..=updates as u64 + 1).collect::<Vec<_>>(), "a revision was lost");
}

/// Two saves race to close a cycle (`a` to call `b`, `b` to call `a`), each through its
/// own connection (`pflow_store::testing::cycle_race`): the call graph is read inside the
/// transaction that writes, under the library's lock, so never both succeed. Without the
/// lock both would read the graph before the other's write and both commit.
#[test]
fn two_saves_never_close_a_call_cycle_between_them() {
    const ROUNDS: usize = 20;
    let race = testing::cycle_race(ROUNDS, &|| {
        let uri = fresh_uri();
        Box::new(move || {
            Arc::new(PgStore::open(&uri).expect("the test URI parses")) as Arc<dyn WorkflowStore>
        })
    });
    println!(
        "cycle race postgres: {ROUNDS} rounds, both succeeded = {}, a won {}, b won {}",
        race.both, race.a_won, race.b_won
    );
    assert_eq!(race.both, 0);
}
