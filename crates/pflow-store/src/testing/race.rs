//! Races between store instances over one library, as between processes: the properties
//! of the write contract that no single instance can show.

use std::sync::{Arc, Barrier};

use crate::testing::support::{calling, ir, name};
use crate::{SaveMode, StoreError, WorkflowManager, WorkflowStore};

/// How the rounds of [`cycle_race`] ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CycleRace {
    /// Rounds in which both saves succeeded: a stored cycle, which must never happen.
    pub both: usize,
    /// Rounds in which only `a`'s save (`a` calls `b`) succeeded.
    pub a_won: usize,
    /// Rounds in which only `b`'s save (`b` calls `a`) succeeded.
    pub b_won: usize,
}

/// Two saves race to close a call cycle — `a` to call `b`, `b` to call `a` (`Replace`
/// without an expected revision) — each through its own store instance over the same
/// library, `rounds` times, each round on a fresh library from `library` (which gives a
/// function that opens one more instance of it). The cycle is checked inside the
/// transaction that writes, so never both succeed; the one that commits first has no
/// cycle to see, so one always does. A loser must fail with the cycle finding, and the
/// stored graph must have no cycle after every round; the counts are returned for the
/// caller to report (and to check that `both` is 0).
pub fn cycle_race(
    rounds: usize,
    library: &dyn Fn() -> Box<dyn Fn() -> Arc<dyn WorkflowStore> + Sync>,
) -> CycleRace {
    let mut race = CycleRace::default();
    for _ in 0..rounds {
        let open = library();
        let setup = WorkflowManager::new(open());
        setup.create("a", &ir(1), "").expect("create a");
        setup.create("b", &ir(2), "").expect("create b");
        let barrier = Barrier::new(2);
        let (a, b) = std::thread::scope(|scope| {
            let save = |this: &'static str, other: &'static str| {
                let m = WorkflowManager::new(open());
                // Opened (connected, for a server) before the race starts.
                m.list_all().expect("the library lists before the race");
                let valid = m.validate(&name(this), calling(other)).expect("a valid call");
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    m.save(this, &valid, None, SaveMode::Replace { expected_revision: None })
                })
            };
            let (a, b) = (save("a", "b"), save("b", "a"));
            (a.join().expect("no panic"), b.join().expect("no panic"))
        });
        for loser in [&a, &b].into_iter().filter_map(|r| r.as_ref().err()) {
            let StoreError::InvalidWorkflow { diagnostics, .. } = loser else {
                panic!("expected InvalidWorkflow, got {loser:?}")
            };
            let message = &diagnostics.iter().next().expect("one finding").message;
            assert!(message.starts_with("workflow call cycle: "), "{message}");
        }
        match (a.is_ok(), b.is_ok()) {
            (true, true) => race.both += 1,
            (true, false) => race.a_won += 1,
            (false, true) => race.b_won += 1,
            (false, false) => panic!("neither save succeeded: {a:?} {b:?}"),
        }
        // The stored graph has no cycle: at most one of them calls the other.
        let listing = WorkflowManager::new(open()).list_all().expect("the library lists");
        let calls =
            |n: &str| listing.workflows.iter().any(|s| s.name.as_str() == n && !s.calls.is_empty());
        assert!(!(calls("a") && calls("b")), "a cycle was stored");
    }
    race
}
