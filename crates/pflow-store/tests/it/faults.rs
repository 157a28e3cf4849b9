//! F2 and F3: the filesystem store on `SimFs`, with the n-th filesystem call failing
//! (once or persistently) and with the power cut before every call of a script of
//! operations.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pflow_ir::Timestamp;
use pflow_store::sim::{PowerLoss, SimFs};
use pflow_store::{Change, FsStore, StoreError, StoreResult, WorkflowStore};

use crate::common::{SIM_HOME, doc, ir, name};

fn temp_dir() -> PathBuf {
    Path::new(SIM_HOME).join("workflows/.tmp")
}

fn fresh() -> (SimFs, FsStore) {
    let sim = SimFs::new();
    sim.plant_dir(Path::new("/home/user"));
    let store = FsStore::with_fs(SIM_HOME, Arc::new(sim.clone()));
    (sim, store)
}

fn change(content: u64) -> Change {
    Change { ir: ir(content), description: format!("description {content}"), now: Timestamp::now() }
}

/// What the store holds: name → (revision, content), read through the store itself.
/// Any entry that cannot be read fails the test: a torn or lost document.
fn contents(store: &FsStore) -> BTreeMap<String, (u64, u64)> {
    let listing = store.list().unwrap();
    assert!(listing.problems.is_empty(), "unreadable entries: {:?}", listing.problems);
    listing
        .workflows
        .iter()
        .map(|summary| {
            let doc = store.load(&summary.name).unwrap();
            let content: u64 = doc.description["description ".len()..].parse().unwrap();
            assert_eq!(doc.ir, ir(content), "`{}` holds a mixed document", doc.name);
            assert_eq!(summary.revision, doc.revision);
            (doc.name.to_string(), (doc.revision, content))
        })
        .collect()
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Create(&'static str, u64),
    Update(&'static str, u64, u64),
    Delete(&'static str),
    List,
}

impl Op {
    fn run(self, store: &FsStore) -> StoreResult<()> {
        match self {
            Op::Create(n, c) => store.create(&doc(n, c)).map(drop),
            Op::Update(n, rev, c) => store.update(&name(n), rev, change(c)).map(drop),
            Op::Delete(n) => store.delete(&name(n)),
            Op::List => store.list().map(drop),
        }
    }

    fn apply(self, model: &mut BTreeMap<String, (u64, u64)>) {
        match self {
            Op::Create(n, c) => {
                model.insert(n.to_owned(), (1, c));
            }
            Op::Update(n, rev, c) => {
                model.insert(n.to_owned(), (rev + 1, c));
            }
            Op::Delete(n) => {
                model.remove(n);
            }
            Op::List => {}
        }
    }
}

/// F2: for create, update and delete, fail the n-th filesystem call, once and
/// persistently, for every n until the operation succeeds.
#[test]
fn f2_a_failing_call_leaves_the_old_or_the_new_state_and_no_temp() {
    let ops = [Op::Create("target", 2), Op::Update("target", 1, 2), Op::Delete("target")];
    let mut cases = 0;
    for op in ops {
        for persistent in [false, true] {
            let mut n = 1;
            loop {
                let (sim, store) = fresh();
                store.create(&doc("other", 5)).unwrap();
                if !matches!(op, Op::Create(..)) {
                    store.create(&doc("target", 1)).unwrap();
                }
                let mut pre = contents(&store);
                let mut post = pre.clone();
                op.apply(&mut post);
                pre.remove("target").into_iter().for_each(|v| {
                    pre.insert("target".into(), v);
                });

                let before = sim.calls();
                sim.fail_call(n, persistent);
                let result = op.run(&store);
                let used = sim.calls() - before;
                sim.clear_faults();
                cases += 1;

                let now = contents(&store);
                assert!(
                    now == pre || now == post,
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
                store.create(&doc("next", 9)).unwrap();
                assert!(
                    sim.names_in(&temp_dir()).is_empty(),
                    "{op:?} failing call {n}: temp files left: {:?}",
                    sim.names_in(&temp_dir())
                );
                let after = contents(&store);
                assert_eq!(after.get("next"), Some(&(1, 9)));
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
const SCRIPT: [Op; 9] = [
    Op::Create("a", 1),
    Op::Create("b", 1),
    Op::Update("a", 1, 2),
    Op::List,
    Op::Delete("b"),
    Op::Create("b", 3),
    Op::Update("b", 1, 4),
    Op::List,
    Op::Delete("a"),
];

/// F3: cut the power before every filesystem call of the script (and after it): after
/// the restart every workflow is fully old or fully new, every acknowledged operation
/// survived, and the store works.
#[test]
fn f3_power_loss_at_every_step_keeps_acknowledged_operations() {
    let mut crash_points = 0;
    let mut n = 1;
    loop {
        let (sim, store) = fresh();
        sim.crash_at_call(n);
        let mut acked = BTreeMap::new();
        let mut in_flight = None;
        for op in SCRIPT {
            match op.run(&store) {
                Ok(()) => op.apply(&mut acked),
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
            let store = FsStore::with_fs(SIM_HOME, Arc::new(restarted.clone()));
            let mut with_in_flight = acked.clone();
            if let Some(op) = in_flight {
                op.apply(&mut with_in_flight);
            }
            let now = contents(&store);
            assert!(
                now == acked || now == with_in_flight,
                "power cut before call {n} ({mode:?}), in flight {in_flight:?}: {now:?} is \
                 neither {acked:?} nor {with_in_flight:?}"
            );
            store.create(&doc("after", 7)).unwrap();
            assert!(
                restarted.names_in(&temp_dir()).is_empty(),
                "power cut before call {n}: temp files left after the next mutation"
            );
            assert_eq!(contents(&store).get("after"), Some(&(1, 7)));
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
    store.create(&doc("first", 1)).unwrap();
    let restarted = sim.power_loss_now(PowerLoss::LoseUnsynced);
    let store = FsStore::with_fs(SIM_HOME, Arc::new(restarted));
    assert_eq!(contents(&store).get("first"), Some(&(1, 1)));
}
