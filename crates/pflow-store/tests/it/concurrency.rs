//! C2, C3 (library level) and C4: many threads on one store; and saves racing to close
//! a call cycle, each through its own store instance as two processes would.

use std::sync::{Arc, Barrier};

use pflow_store::{FsStore, IfCalled, StoreError, WorkflowManager, WorkflowStore, testing};

use crate::common::{Backend, file_of, ir};

/// C2: 32 threads save the same name at once; exactly one wins.
fn c2(backend: &Backend) {
    const THREADS: usize = 32;
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS as u64)
        .map(|i| {
            let m = backend.manager();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                m.create("race", &ir(i), &format!("from {i}"))
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().expect("no panic")).collect();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let exists =
        results.iter().filter(|r| matches!(r, Err(StoreError::WorkflowExists { .. }))).count();
    println!("C2: {ok} Ok, {exists} WorkflowExists of {THREADS}");
    assert_eq!((ok, exists), (1, THREADS - 1), "{results:?}");
    let m = backend.manager();
    let doc = m.load("race").unwrap();
    let winner: u64 = doc.description["from ".len()..].parse().unwrap();
    assert_eq!(doc.ir, ir(winner));
    let listing = m.list_all().unwrap();
    assert_eq!((listing.workflows.len(), listing.problems.len()), (1, 0));
}

#[test]
fn c2_one_of_32_concurrent_creators_wins_fs() {
    c2(&Backend::fs());
}

#[test]
fn c2_one_of_32_concurrent_creators_wins_memory() {
    c2(&Backend::memory());
}

#[test]
fn c4_a_stale_revision_conflicts_and_leaves_the_bytes_alone() {
    let backend = Backend::fs();
    let Backend::Fs { home, .. } = &backend else { unreachable!("an fs backend") };
    let m = backend.manager();
    m.create("counter", &ir(0), "0").unwrap();
    m.update("counter", &ir(1), "1", 1).unwrap();
    let path = file_of(home, "counter");
    let before = std::fs::read(&path).unwrap();
    match m.update("counter", &ir(2), "2", 1).unwrap_err() {
        StoreError::Conflict { expected, actual, .. } => {
            assert_eq!((expected, actual), (1, Some(2)))
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

/// C3 at the library level: threads increment a counter kept in the description with
/// read-modify-write updates, retrying on conflict; no update may be lost.
fn c3(backend: &Backend, require_conflicts: bool) {
    const THREADS: u64 = 8;
    const ROUNDS: u64 = 50;
    let m = backend.manager();
    m.create("counter", &ir(0), "0").unwrap();
    let barrier = Arc::new(Barrier::new(THREADS as usize));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let m: WorkflowManager = backend.manager();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let mut conflicts = 0u64;
                for _ in 0..ROUNDS {
                    loop {
                        let doc = m.load("counter").unwrap();
                        let next = doc.description.parse::<u64>().unwrap() + 1;
                        // Invite another thread in between the read and the write.
                        std::thread::yield_now();
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
    let conflicts: u64 = handles.into_iter().map(|h| h.join().expect("no panic")).sum();
    let doc = m.load("counter").unwrap();
    let counter: u64 = doc.description.parse().unwrap();
    let lost = THREADS * ROUNDS - counter;
    // Every revision is kept, in order: revision r holds counter value r - 1.
    let history = m.history("counter").unwrap();
    let broken = history
        .revisions
        .iter()
        .enumerate()
        .filter(|(i, d)| d.revision != *i as u64 + 1 || d.description != i.to_string())
        .count();
    let kept = history.revisions.len();
    println!(
        "C3 (library): counter {counter}, conflicts {conflicts}, lost updates {lost}, \
         revisions kept {kept}, out of place {broken}"
    );
    assert_eq!(counter, THREADS * ROUNDS);
    assert_eq!(doc.revision, THREADS * ROUNDS + 1);
    assert!(history.problems.is_empty(), "{:?}", history.problems);
    assert_eq!((kept as u64, broken), (THREADS * ROUNDS + 1, 0));
    if require_conflicts {
        assert!(conflicts > 0, "the threads never raced; the test proved nothing");
    }
}

#[test]
fn c3_read_modify_write_loses_no_update_fs() {
    c3(&Backend::fs(), true);
}

/// The in-memory store's critical sections are so short that the threads may never
/// interleave; the count must still be exact.
#[test]
fn c3_read_modify_write_loses_no_update_memory() {
    c3(&Backend::memory(), false);
}

/// Threads race deletes, restores from the trash and updates of one workflow: at the
/// end it is in exactly one place (live or one trash entry) with every revision kept.
fn trash_races(backend: &Backend) {
    const THREADS: usize = 8;
    const ROUNDS: usize = 40;
    let m = backend.manager();
    m.create("shared", &ir(0), "0").unwrap();
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let m: WorkflowManager = backend.manager();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let mut done = [0usize; 3];
                for round in 0..ROUNDS {
                    let ok = match (t + round) % 3 {
                        0 => match m.delete("shared", IfCalled::Refuse) {
                            Ok(_) => true,
                            Err(StoreError::WorkflowNotFound { .. }) => false,
                            Err(e) => panic!("delete: {e}"),
                        },
                        1 => match m.restore_trashed("shared") {
                            Ok(_) => true,
                            Err(
                                StoreError::WorkflowExists { .. } | StoreError::NotInTrash { .. },
                            ) => false,
                            Err(e) => panic!("restore: {e}"),
                        },
                        _ => {
                            let doc = match m.load("shared") {
                                Ok(doc) => doc,
                                Err(StoreError::WorkflowNotFound { .. }) => continue,
                                Err(e) => panic!("load: {e}"),
                            };
                            let next = doc.revision.to_string();
                            match m.update("shared", &ir(doc.revision), &next, doc.revision) {
                                Ok(_) => true,
                                Err(
                                    StoreError::Conflict { .. }
                                    | StoreError::WorkflowNotFound { .. },
                                ) => false,
                                Err(e) => panic!("update: {e}"),
                            }
                        }
                    };
                    done[(t + round) % 3] += usize::from(ok);
                }
                done
            })
        })
        .collect();
    let mut done = [0usize; 3];
    for h in handles {
        let d = h.join().expect("no panic");
        (0..3).for_each(|i| done[i] += d[i]);
    }
    let live = m.exists("shared").unwrap();
    let trashed = m.trash().unwrap().entries.len();
    println!(
        "trash races: deletes {}, restores {}, updates {}; live {live}, trash entries {trashed}",
        done[0], done[1], done[2]
    );
    assert_eq!(usize::from(live) + trashed, 1, "the workflow is not in exactly one place");
    if !live {
        m.restore_trashed("shared").unwrap();
    }
    let history = m.history("shared").unwrap();
    assert!(history.problems.is_empty(), "{:?}", history.problems);
    let revisions: Vec<u64> = history.revisions.iter().map(|d| d.revision).collect();
    let expected: Vec<u64> = (1..=done[2] as u64 + 1).collect();
    assert_eq!(revisions, expected, "a revision was lost");
    assert!(done[0] > 0 && done[1] > 0, "nothing raced");
}

#[test]
fn concurrent_deletes_restores_and_updates_keep_one_workflow_in_one_place_fs() {
    trash_races(&Backend::fs());
}

#[test]
fn concurrent_deletes_restores_and_updates_keep_one_workflow_in_one_place_memory() {
    trash_races(&Backend::memory());
}

/// Two saves race to close a cycle, each thread with its own `FsStore` over the same
/// home, as two processes (`pflow_store::testing::cycle_race`).
#[test]
fn two_saves_never_close_a_call_cycle_between_them() {
    const ROUNDS: usize = 20;
    let race = testing::cycle_race(ROUNDS, &|| {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        Box::new(move || {
            let _ = &dir;
            Arc::new(FsStore::new(&home)) as Arc<dyn WorkflowStore>
        })
    });
    println!(
        "cycle race: {ROUNDS} rounds, both succeeded = {}, a won {}, b won {}",
        race.both, race.a_won, race.b_won
    );
    assert_eq!(race.both, 0);
}
