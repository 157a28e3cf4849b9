//! M1: a proptest state machine run against every backend and compared with a
//! `BTreeMap` model after every step.

use std::collections::BTreeMap;

use pflow_store::StoreError;
use proptest::prelude::*;

use crate::common::{Backend, ir};

const NAMES: [&str; 4] = ["alpha", "beta", "beta-2", "c"];

#[derive(Debug, Clone)]
enum Step {
    Save(usize, u64),
    Update { who: usize, content: u64, fresh: bool },
    Delete(usize),
    Load(usize),
    List,
    PlantCorrupt(usize),
    CrashReopen,
}

#[derive(Debug, Clone, PartialEq)]
enum Entry {
    Good { revision: u64, content: u64 },
    Corrupt,
}

fn step() -> impl Strategy<Value = Step> {
    let who = 0..NAMES.len();
    prop_oneof![
        4 => (who.clone(), 0..100u64).prop_map(|(w, c)| Step::Save(w, c)),
        4 => (who.clone(), 0..100u64, any::<bool>())
            .prop_map(|(who, content, fresh)| Step::Update { who, content, fresh }),
        2 => who.clone().prop_map(Step::Delete),
        2 => who.clone().prop_map(Step::Load),
        2 => Just(Step::List),
        1 => who.prop_map(Step::PlantCorrupt),
        1 => Just(Step::CrashReopen),
    ]
}

fn description(content: u64) -> String {
    format!("content {content}")
}

/// Runs one step on the backend and the model, checking that they agree.
fn run(backend: &mut Backend, model: &mut BTreeMap<String, Entry>, step: &Step) {
    let m = backend.manager();
    match *step {
        Step::Save(who, content) => {
            let name = NAMES[who];
            let result = m.save(name, &ir(content), &description(content));
            if model.contains_key(name) {
                assert!(matches!(result, Err(StoreError::WorkflowExists { .. })), "{result:?}");
            } else {
                result.unwrap();
                model.insert(name.to_owned(), Entry::Good { revision: 1, content });
            }
        }
        Step::Update { who, content, fresh } => {
            let name = NAMES[who];
            let current = match model.get(name) {
                Some(Entry::Good { revision, .. }) => Some(*revision),
                _ => None,
            };
            let expected = match (current, fresh) {
                (Some(r), true) => r,
                (Some(r), false) if r > 1 => r - 1,
                (Some(r), false) => r + 1,
                (None, _) => 1,
            };
            let result = m.update(name, &ir(content), &description(content), expected);
            match (model.get(name), current) {
                (None, _) => {
                    assert!(
                        matches!(result, Err(StoreError::WorkflowNotFound { .. })),
                        "{result:?}"
                    )
                }
                (Some(Entry::Corrupt), _) => {
                    assert!(matches!(result, Err(StoreError::Corrupt { .. })), "{result:?}")
                }
                (Some(Entry::Good { .. }), Some(actual)) if !fresh => match result {
                    Err(StoreError::Conflict { expected: e, actual: a, .. }) => {
                        assert_eq!((e, a), (expected, actual));
                    }
                    other => panic!("expected Conflict, got {other:?}"),
                },
                (Some(Entry::Good { revision, .. }), _) => {
                    let doc = result.unwrap();
                    assert_eq!(doc.revision, revision + 1);
                    let revision = doc.revision;
                    model.insert(name.to_owned(), Entry::Good { revision, content });
                }
            }
        }
        Step::Delete(who) => {
            let name = NAMES[who];
            let result = m.delete(name);
            if model.remove(name).is_some() {
                result.unwrap();
            } else {
                assert!(matches!(result, Err(StoreError::WorkflowNotFound { .. })), "{result:?}");
            }
        }
        Step::Load(who) => {
            let name = NAMES[who];
            let result = m.load(name);
            match model.get(name) {
                None => {
                    assert!(
                        matches!(result, Err(StoreError::WorkflowNotFound { .. })),
                        "{result:?}"
                    )
                }
                Some(Entry::Corrupt) => {
                    assert!(matches!(result, Err(StoreError::Corrupt { .. })), "{result:?}")
                }
                Some(Entry::Good { revision, content }) => {
                    let doc = result.unwrap();
                    assert_eq!(doc.revision, *revision);
                    assert_eq!(doc.ir, ir(*content));
                    assert_eq!(doc.description, description(*content));
                }
            }
        }
        Step::List => {}
        Step::PlantCorrupt(who) => {
            backend.plant_corrupt(NAMES[who]);
            model.insert(NAMES[who].to_owned(), Entry::Corrupt);
        }
        Step::CrashReopen => backend.crash_and_reopen(),
    }
    assert_matches_model(backend, model);
}

/// The whole listing equals the model: good entries with their revision and content,
/// and one problem per corrupt entry.
fn assert_matches_model(backend: &Backend, model: &BTreeMap<String, Entry>) {
    let listing = backend.manager().list_all().unwrap();
    let mut seen: BTreeMap<String, Entry> = listing
        .workflows
        .iter()
        .map(|s| {
            let content = s.description["content ".len()..].parse().unwrap();
            (s.name.to_string(), Entry::Good { revision: s.revision, content })
        })
        .collect();
    for problem in &listing.problems {
        let name = NAMES
            .iter()
            .find(|n| {
                problem.location.ends_with(&format!("/{n}.json"))
                    || problem.location.ends_with(&format!(":{n}"))
            })
            .unwrap_or_else(|| panic!("unexpected problem {problem:?}"));
        assert!(seen.insert((*name).to_owned(), Entry::Corrupt).is_none());
    }
    assert_eq!(&seen, model);
}

fn check(mut backend: Backend, steps: &[Step]) {
    let mut model = BTreeMap::new();
    for step in steps {
        run(&mut backend, &mut model, step);
    }
}

// The case count comes from PROPTEST_CASES (256 when unset, proptest's default).
proptest! {
    #[test]
    fn m1_memory_store_matches_the_model(steps in proptest::collection::vec(step(), 1..40)) {
        check(Backend::memory(), &steps);
    }

    #[test]
    fn m1_fs_store_matches_the_model(steps in proptest::collection::vec(step(), 1..40)) {
        check(Backend::fs(), &steps);
    }

    #[test]
    fn m1_fs_store_on_the_power_cut_double_matches_the_model(
        steps in proptest::collection::vec(step(), 1..40)
    ) {
        check(Backend::sim(), &steps);
    }
}
