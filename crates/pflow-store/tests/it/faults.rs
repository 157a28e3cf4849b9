//! F2 and F3: the filesystem store on `SimFs`, with the n-th filesystem call failing
//! (once or persistently) and with the power cut before every call of a script of
//! operations — creates, updates (history), restores of revisions, deletes (to the
//! trash), restores from the trash and purges.
//!
//! Every operation runs through the manager (where the rules live) over the filesystem
//! store's transaction primitives. After every fault the store must be in the state
//! before or after the operation, as seen through the store: every workflow live or in
//! the trash — not both, not neither — with its complete history, and no torn document.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pflow_store::sim::{PowerLoss, SimFs};
use pflow_store::{FsStore, IfCalled, StoreError, StoreResult, WorkflowManager};

use crate::common::{SIM_HOME, ir};

fn temp_dir() -> PathBuf {
    Path::new(SIM_HOME).join("workflows/.tmp")
}

fn fresh() -> (SimFs, WorkflowManager) {
    let sim = SimFs::new();
    sim.plant_dir(Path::new("/home/user"));
    (sim.clone(), on(sim))
}

/// A manager over a filesystem store on `sim`, as a new process would open it.
fn on(sim: SimFs) -> WorkflowManager {
    WorkflowManager::new(Arc::new(FsStore::with_fs(SIM_HOME, Arc::new(sim))))
}

fn description(content: u64) -> String {
    format!("description {content}")
}

/// One revision as the tests see it: `(revision, content)`.
type Rev = (u64, u64);

/// What the store holds, read through the store itself: every live workflow with its
/// whole history (the current revision last), and the trash (per name, oldest first).
#[derive(Debug, Clone, Default, PartialEq)]
struct State {
    live: BTreeMap<String, Vec<Rev>>,
    trash: BTreeMap<String, Vec<Rev>>,
}

fn content_of(doc: &pflow_ir::Document) -> u64 {
    let content: u64 = doc.description["description ".len()..].parse().unwrap();
    assert_eq!(doc.ir, ir(content), "`{}` holds a mixed document", doc.name);
    content
}

/// The state of `store`. Any entry or revision that cannot be read fails the test: a
/// torn or lost document.
fn state(store: &WorkflowManager) -> State {
    let listing = store.list_all().unwrap();
    assert!(listing.problems.is_empty(), "unreadable entries: {:?}", listing.problems);
    let mut state = State::default();
    for summary in &listing.workflows {
        let history = store.history(summary.name.as_str()).unwrap();
        assert!(history.problems.is_empty(), "unreadable revisions: {:?}", history.problems);
        let revs: Vec<Rev> =
            history.revisions.iter().map(|d| (d.revision, content_of(d))).collect();
        assert_eq!(revs.last().map(|r| r.0), Some(summary.revision));
        state.live.insert(summary.name.to_string(), revs);
    }
    let trash = store.trash().unwrap();
    assert!(trash.problems.is_empty(), "unreadable trash entries: {:?}", trash.problems);
    for entry in &trash.entries {
        let content: u64 = entry.description["description ".len()..].parse().unwrap();
        state.trash.entry(entry.name.to_string()).or_default().push((entry.revision, content));
    }
    state
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Create(&'static str, u64),
    Update(&'static str, u64, u64),
    Restore(&'static str, u64, u64),
    Delete(&'static str),
    TrashRestore(&'static str),
    Purge(Option<&'static str>),
    List,
}

impl Op {
    fn run(self, store: &WorkflowManager) -> StoreResult<()> {
        match self {
            Op::Create(n, c) => store.create(n, &ir(c), &description(c)).map(drop),
            Op::Update(n, rev, c) => store.update(n, &ir(c), &description(c), rev).map(drop),
            Op::Restore(n, k, rev) => store.restore_revision(n, k, Some(rev)).map(drop),
            Op::Delete(n) => store.delete(n, IfCalled::Refuse).map(drop),
            Op::TrashRestore(n) => store.restore_trashed(n).map(drop),
            Op::Purge(n) => store.purge(n, None).map(drop),
            Op::List => store.list_all().map(drop),
        }
    }

    /// The model's state after this operation succeeded (the models of the histories of
    /// trashed workflows live in `trashed`, by name, newest last).
    fn apply(self, state: &mut State, trashed: &mut Vec<(String, Vec<Rev>)>) {
        match self {
            Op::Create(n, c) => {
                state.live.insert(n.to_owned(), vec![(1, c)]);
            }
            Op::Update(n, rev, c) => push_revision(state.live.get_mut(n).unwrap(), rev, c),
            Op::Restore(n, k, rev) => {
                let revs = state.live.get_mut(n).unwrap();
                let content = revs.iter().find(|r| r.0 == k).unwrap().1;
                push_revision(revs, rev, content);
            }
            Op::Delete(n) => {
                let revs = state.live.remove(n).unwrap();
                state.trash.entry(n.to_owned()).or_default().push(*revs.last().unwrap());
                trashed.push((n.to_owned(), revs));
            }
            Op::TrashRestore(n) => {
                let index = trashed.iter().rposition(|(t, _)| t == n).unwrap();
                let (_, revs) = trashed.remove(index);
                let entries = state.trash.get_mut(n).unwrap();
                entries.pop();
                if entries.is_empty() {
                    state.trash.remove(n);
                }
                state.live.insert(n.to_owned(), revs);
            }
            Op::Purge(n) => {
                state.trash.retain(|t, _| n.is_some_and(|n| n != t));
                trashed.retain(|(t, _)| n.is_some_and(|n| n != t));
            }
            Op::List => {}
        }
    }
}

/// A new revision with `content` on top of `revs` (at `rev`), unless it is the content
/// already there.
fn push_revision(revs: &mut Vec<Rev>, rev: u64, content: u64) {
    let current = *revs.last().unwrap();
    assert_eq!(current.0, rev, "the script expects the right revision");
    if current.1 != content {
        revs.push((rev + 1, content));
    }
}

/// Whether `now` is what an interrupted purge may leave: the live workflows as before,
/// and of the trash entries the purge selected some gone and the others still there
/// (each entry's removal is atomic; a purge of several is not).
fn partially_purged(now: &State, pre: &State, op: Op) -> bool {
    let Op::Purge(selected) = op else { return false };
    now.live == pre.live
        && now.trash.keys().all(|k| pre.trash.contains_key(k))
        && pre.trash.iter().all(|(n, entries)| {
            let left = now.trash.get(n).cloned().unwrap_or_default();
            if selected.is_none_or(|s| s == n) {
                let mut rest = entries.iter();
                left.iter().all(|l| rest.any(|e| e == l))
            } else {
                left == *entries
            }
        })
}

/// The models of the trashed workflows in `trashed` that `now` still holds.
fn still_trashed(trashed: &[(String, Vec<Rev>)], now: &State) -> Vec<(String, Vec<Rev>)> {
    let mut left: BTreeMap<&String, std::slice::Iter<'_, Rev>> =
        now.trash.iter().map(|(n, entries)| (n, entries.iter())).collect();
    let mut next: BTreeMap<&String, Option<&Rev>> =
        left.iter_mut().map(|(n, it)| (*n, it.next())).collect();
    let mut kept = Vec::new();
    for (n, revs) in trashed {
        let Some(wanted) = next.get_mut(n) else { continue };
        if *wanted == revs.last() {
            kept.push((n.clone(), revs.clone()));
            *wanted = left.get_mut(n).and_then(Iterator::next);
        }
    }
    kept
}

/// Restores every trashed workflow whose name is free and checks its whole history
/// against the model: a trashed workflow's history is complete. Mutates the store.
fn check_trashed_histories(store: &WorkflowManager, trashed: &[(String, Vec<Rev>)], live: &State) {
    let mut newest: BTreeMap<&str, &Vec<Rev>> = BTreeMap::new();
    for (n, revs) in trashed {
        newest.insert(n, revs);
    }
    for (n, revs) in newest {
        if live.live.contains_key(n) {
            continue;
        }
        store.restore_trashed(n).unwrap();
        let history = store.history(n).unwrap();
        let got: Vec<Rev> = history.revisions.iter().map(|d| (d.revision, content_of(d))).collect();
        assert_eq!(&got, revs, "history of trashed `{n}`");
    }
}

/// The setups F2 runs each operation on: the steps before, and the operation.
fn f2_cases() -> Vec<(Vec<Op>, Op)> {
    let base = vec![Op::Create("other", 5), Op::Create("target", 1), Op::Update("target", 1, 2)];
    let trashed = [base.clone(), vec![Op::Delete("target")]].concat();
    let twice =
        [base.clone(), vec![Op::Delete("target"), Op::Create("target", 3), Op::Delete("target")]]
            .concat();
    vec![
        (vec![Op::Create("other", 5)], Op::Create("target", 2)),
        (base.clone(), Op::Update("target", 2, 3)),
        (base.clone(), Op::Update("target", 2, 2)),
        (base.clone(), Op::Restore("target", 1, 2)),
        (base.clone(), Op::Delete("target")),
        (trashed.clone(), Op::TrashRestore("target")),
        (twice.clone(), Op::TrashRestore("target")),
        (twice.clone(), Op::Purge(Some("target"))),
        (trashed, Op::Purge(None)),
    ]
}

/// F2: for every operation, fail the n-th filesystem call, once and persistently, for
/// every n until the operation succeeds.
#[test]
fn f2_a_failing_call_leaves_the_old_or_the_new_state_and_no_temp() {
    let mut cases = 0;
    for (setup, op) in f2_cases() {
        for persistent in [false, true] {
            let mut n = 1;
            loop {
                let (sim, store) = fresh();
                let mut model = State::default();
                let mut trashed = Vec::new();
                for step in &setup {
                    step.run(&store).unwrap();
                    step.apply(&mut model, &mut trashed);
                }
                let pre = state(&store);
                assert_eq!(pre, model, "the setup of {op:?}");
                let mut post = pre.clone();
                let mut post_trashed = trashed.clone();
                op.apply(&mut post, &mut post_trashed);

                let before = sim.calls();
                sim.fail_call(n, persistent);
                let result = op.run(&store);
                let used = sim.calls() - before;
                sim.clear_faults();
                cases += 1;

                let now = state(&store);
                assert!(
                    now == pre || now == post || partially_purged(&now, &pre, op),
                    "{op:?} failing call {n} (persistent {persistent}): {now:?} is neither \
                     {pre:?} nor {post:?}; result {result:?}"
                );
                if let Err(err) = &result {
                    assert!(
                        matches!(err, StoreError::Io { .. }),
                        "{op:?} failing call {n}: unexpected error {err:?}"
                    );
                } else {
                    assert_eq!(now, post, "{op:?} reported success at call {n}");
                }
                // The next operation works and cleans up whatever the failure left.
                store.create("next", &ir(9), &description(9)).unwrap();
                store.update("next", &ir(10), &description(10), 1).unwrap();
                assert!(
                    sim.names_in(&temp_dir()).is_empty(),
                    "{op:?} failing call {n}: temp files left: {:?}",
                    sim.names_in(&temp_dir())
                );
                let after = state(&store);
                assert_eq!(after.live.get("next"), Some(&vec![(1, 9), (2, 10)]));
                let trashed = if now == post { &post_trashed } else { &trashed };
                check_trashed_histories(&store, &still_trashed(trashed, &now), &now);
                if result.is_ok() && used < n {
                    break;
                }
                n += 1;
            }
            println!("F2 {op:?} persistent={persistent}: failing calls 1..={n} tested");
        }
    }
    println!("F2: {cases} fault cases, all in the pre- or post-state");
}

/// The script F3 cuts the power in: starting from no home directory at all.
const SCRIPT: [Op; 17] = [
    Op::Create("a", 1),
    Op::Create("b", 1),
    Op::Update("a", 1, 2),
    Op::List,
    Op::Delete("b"),
    Op::Create("b", 3),
    Op::Update("b", 1, 4),
    Op::Update("b", 2, 5),
    Op::Restore("b", 1, 3),
    Op::Delete("b"),
    Op::TrashRestore("b"),
    Op::List,
    Op::Delete("a"),
    Op::Purge(Some("b")),
    Op::TrashRestore("a"),
    Op::Delete("b"),
    Op::Purge(None),
];

/// F3: cut the power before every filesystem call of the script (and after it): after
/// the restart every workflow is fully old or fully new, in exactly one place, with its
/// whole history; every acknowledged operation survived, and the store works.
#[test]
fn f3_power_loss_at_every_step_keeps_acknowledged_operations() {
    let mut crash_points = 0;
    let mut n = 1;
    loop {
        let (sim, store) = fresh();
        sim.crash_at_call(n);
        let mut acked = State::default();
        let mut acked_trashed = Vec::new();
        let mut in_flight = None;
        for op in SCRIPT {
            match op.run(&store) {
                Ok(()) => op.apply(&mut acked, &mut acked_trashed),
                Err(_) => {
                    assert!(sim.crashed(), "{op:?} failed without a crash");
                    in_flight = Some(op);
                    break;
                }
            }
        }
        let finished = !sim.crashed();
        crash_points += 1;
        for mode in [PowerLoss::LoseUnsynced, PowerLoss::KeepNamespace] {
            let restarted = match sim.recover(mode) {
                Some(restarted) => restarted,
                None => sim.power_loss_now(mode),
            };
            let store = on(restarted.clone());
            let mut with_in_flight = acked.clone();
            let mut with_in_flight_trashed = acked_trashed.clone();
            if let Some(op) = in_flight {
                op.apply(&mut with_in_flight, &mut with_in_flight_trashed);
            }
            let now = state(&store);
            let partial = in_flight.is_some_and(|op| partially_purged(&now, &acked, op));
            assert!(
                now == acked || now == with_in_flight || partial,
                "power cut before call {n} ({mode:?}), in flight {in_flight:?}: {now:?} is \
                 neither {acked:?} nor {with_in_flight:?}"
            );
            store.create("after", &ir(7), &description(7)).unwrap();
            assert!(
                restarted.names_in(&temp_dir()).is_empty(),
                "power cut before call {n}: temp files left after the next mutation"
            );
            assert_eq!(state(&store).live.get("after"), Some(&vec![(1, 7)]));
            let trashed = if now == acked { &acked_trashed } else { &with_in_flight_trashed };
            check_trashed_histories(&store, &still_trashed(trashed, &now), &now);
        }
        if finished {
            break;
        }
        n += 1;
    }
    println!("F3: power cut at {crash_points} points × 2 power-loss models, violations = 0");
}

/// Directories the store creates survive a power cut once a write was acknowledged.
#[test]
fn f3_a_new_home_survives_a_power_cut() {
    let (sim, store) = fresh();
    store.create("first", &ir(1), &description(1)).unwrap();
    store.update("first", &ir(2), &description(2), 1).unwrap();
    store.create("second", &ir(1), &description(1)).unwrap();
    store.delete("second", IfCalled::Refuse).unwrap();
    let restarted = sim.power_loss_now(PowerLoss::LoseUnsynced);
    let store = on(restarted);
    let state = state(&store);
    assert_eq!(state.live.get("first"), Some(&vec![(1, 1), (2, 2)]));
    assert_eq!(state.trash.get("second"), Some(&vec![(1, 1)]));
}
