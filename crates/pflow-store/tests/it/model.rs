//! M1: a proptest state machine run against every backend and compared with a model —
//! a `BTreeMap` of live workflows, each with its history, and the trash — after every
//! step.

use std::collections::BTreeMap;

use pflow_store::{IfCalled, StoreError};
use proptest::prelude::*;

use crate::common::{Backend, ir};

const NAMES: [&str; 4] = ["alpha", "beta", "beta-2", "c"];
/// Few contents, so that updates and restores often bring back what is already there
/// (no new revision) and restores find equal revisions.
const CONTENTS: u64 = 6;

#[derive(Debug, Clone)]
enum Step {
    Save(usize, u64),
    Update { who: usize, content: u64, fresh: bool },
    Delete(usize),
    Load(usize),
    List,
    LoadRevision(usize, u64),
    Restore { who: usize, revision: u64, fresh: bool },
    TrashRestore(usize),
    Purge(Option<usize>),
    PlantCorrupt(usize),
    CrashReopen,
}

#[derive(Debug, Clone, PartialEq)]
enum Entry {
    Good { revision: u64, content: u64 },
    Corrupt,
}

/// A workflow: its current entry and its earlier revisions `(revision, content)`.
#[derive(Debug, Clone, PartialEq)]
struct Stored {
    entry: Entry,
    history: Vec<(u64, u64)>,
}

#[derive(Debug, Default)]
struct Model {
    live: BTreeMap<String, Stored>,
    /// In deletion order.
    trash: Vec<(String, Stored)>,
}

fn step() -> impl Strategy<Value = Step> {
    let who = 0..NAMES.len();
    let content = 0..CONTENTS;
    prop_oneof![
        4 => (who.clone(), content.clone()).prop_map(|(w, c)| Step::Save(w, c)),
        5 => (who.clone(), content, any::<bool>())
            .prop_map(|(who, content, fresh)| Step::Update { who, content, fresh }),
        2 => who.clone().prop_map(Step::Delete),
        1 => who.clone().prop_map(Step::Load),
        1 => Just(Step::List),
        1 => (who.clone(), 0..6u64).prop_map(|(w, r)| Step::LoadRevision(w, r)),
        2 => (who.clone(), 0..6u64, any::<bool>())
            .prop_map(|(who, revision, fresh)| Step::Restore { who, revision, fresh }),
        2 => who.clone().prop_map(Step::TrashRestore),
        1 => proptest::option::of(who.clone()).prop_map(Step::Purge),
        1 => who.prop_map(Step::PlantCorrupt),
        1 => Just(Step::CrashReopen),
    ]
}

fn description(content: u64) -> String {
    format!("content {content}")
}

fn content_of(description: &str) -> u64 {
    description["content ".len()..].parse().unwrap()
}

#[track_caller]
fn expect_err(result: Result<impl std::fmt::Debug, StoreError>, want: fn(&StoreError) -> bool) {
    match result {
        Err(e) if want(&e) => {}
        other => panic!("unexpected result {other:?}"),
    }
}

/// A revision to expect that is not the current one: stale, or from the future.
fn stale(revision: u64) -> u64 {
    if revision > 1 { revision - 1 } else { revision + 1 }
}

/// Runs one step on the backend and the model, checking that they agree.
fn run(backend: &mut Backend, model: &mut Model, step: &Step) {
    let m = backend.manager();
    match *step {
        Step::Save(who, content) => {
            let name = NAMES[who];
            let result = m.create(name, &ir(content), &description(content));
            if model.live.contains_key(name) {
                expect_err(result, |e| matches!(e, StoreError::WorkflowExists { .. }));
            } else {
                result.unwrap();
                let entry = Entry::Good { revision: 1, content };
                model.live.insert(name.to_owned(), Stored { entry, history: Vec::new() });
            }
        }
        Step::Update { who, content, fresh } => {
            let name = NAMES[who];
            let current = match model.live.get(name).map(|s| &s.entry) {
                Some(Entry::Good { revision, content }) => Some((*revision, *content)),
                _ => None,
            };
            let expected = match (current, fresh) {
                (Some((r, _)), true) => r,
                (Some((r, _)), false) => stale(r),
                (None, _) => 1,
            };
            let result = m.update(name, &ir(content), &description(content), expected);
            match (model.live.get_mut(name), current) {
                (None, _) => {
                    expect_err(result, |e| matches!(e, StoreError::WorkflowNotFound { .. }))
                }
                (Some(Stored { entry: Entry::Corrupt, .. }), _) => {
                    expect_err(result, |e| matches!(e, StoreError::Corrupt { .. }))
                }
                (Some(_), Some((actual, _))) if !fresh => match result {
                    Err(StoreError::Conflict { expected: e, actual: a, .. }) => {
                        assert_eq!((e, a), (expected, actual));
                    }
                    other => panic!("expected Conflict, got {other:?}"),
                },
                (Some(stored), Some((revision, old))) => {
                    let doc = result.unwrap();
                    if old == content {
                        assert_eq!(doc.revision, revision, "an unchanged update made a revision");
                    } else {
                        assert_eq!(doc.revision, revision + 1);
                        stored.history.push((revision, old));
                        stored.entry = Entry::Good { revision: revision + 1, content };
                    }
                }
                (Some(_), None) => unreachable!("a good entry has a revision"),
            }
        }
        Step::Delete(who) => {
            let name = NAMES[who];
            let result = m.delete(name, IfCalled::Refuse);
            match model.live.remove(name) {
                Some(stored) => {
                    result.unwrap();
                    model.trash.push((name.to_owned(), stored));
                }
                None => expect_err(result, |e| matches!(e, StoreError::WorkflowNotFound { .. })),
            }
        }
        Step::Load(who) => {
            let name = NAMES[who];
            let result = m.load(name);
            match model.live.get(name).map(|s| &s.entry) {
                None => expect_err(result, |e| matches!(e, StoreError::WorkflowNotFound { .. })),
                Some(Entry::Corrupt) => {
                    expect_err(result, |e| matches!(e, StoreError::Corrupt { .. }))
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
        Step::LoadRevision(who, revision) => {
            let name = NAMES[who];
            let result = m.load_revision(name, revision);
            match model.live.get(name) {
                None => expect_err(result, |e| matches!(e, StoreError::WorkflowNotFound { .. })),
                Some(Stored { entry: Entry::Corrupt, .. }) => {
                    expect_err(result, |e| matches!(e, StoreError::Corrupt { .. }))
                }
                Some(stored) => match revision_in(stored, revision) {
                    Some(content) => {
                        let doc = result.unwrap();
                        assert_eq!((doc.revision, doc.ir), (revision, ir(content)));
                    }
                    None => {
                        expect_err(result, |e| matches!(e, StoreError::RevisionNotFound { .. }))
                    }
                },
            }
        }
        Step::Restore { who, revision, fresh } => {
            let name = NAMES[who];
            let current = match model.live.get(name).map(|s| &s.entry) {
                Some(Entry::Good { revision, content }) => Some((*revision, *content)),
                _ => None,
            };
            let expected = current.map(|(r, _)| if fresh { r } else { stale(r) });
            let result = m.restore_revision(name, revision, expected);
            match (model.live.get_mut(name), current) {
                (None, _) => {
                    expect_err(result, |e| matches!(e, StoreError::WorkflowNotFound { .. }))
                }
                (Some(Stored { entry: Entry::Corrupt, .. }), _) => {
                    expect_err(result, |e| matches!(e, StoreError::Corrupt { .. }))
                }
                (Some(stored), Some((actual, old))) => match revision_in(stored, revision) {
                    None => {
                        expect_err(result, |e| matches!(e, StoreError::RevisionNotFound { .. }))
                    }
                    Some(_) if !fresh => {
                        expect_err(result, |e| matches!(e, StoreError::Conflict { .. }))
                    }
                    Some(content) => {
                        let doc = result.unwrap();
                        if content == old {
                            assert_eq!(
                                doc.revision, actual,
                                "an unchanged restore made a revision"
                            );
                        } else {
                            assert_eq!(doc.revision, actual + 1);
                            stored.history.push((actual, old));
                            stored.entry = Entry::Good { revision: actual + 1, content };
                        }
                    }
                },
                (Some(_), None) => unreachable!("a good entry has a revision"),
            }
        }
        Step::TrashRestore(who) => {
            let name = NAMES[who];
            let result = m.restore_trashed(name);
            let newest = model
                .trash
                .iter()
                .rposition(|(n, s)| n == name && matches!(s.entry, Entry::Good { .. }));
            if model.live.contains_key(name) {
                expect_err(result, |e| matches!(e, StoreError::WorkflowExists { .. }));
            } else if let Some(index) = newest {
                let (_, stored) = model.trash.remove(index);
                let Entry::Good { revision, content } = stored.entry else { unreachable!() };
                let doc = result.unwrap();
                assert_eq!((doc.revision, doc.ir), (revision, ir(content)));
                model.live.insert(name.to_owned(), stored);
            } else {
                expect_err(result, |e| matches!(e, StoreError::NotInTrash { .. }));
            }
        }
        Step::Purge(who) => {
            let name = who.map(|w| NAMES[w]);
            let result = m.purge(name, None);
            if name.is_some_and(|n| !model.trash.iter().any(|(t, _)| t == n)) {
                expect_err(result, |e| matches!(e, StoreError::NotInTrash { .. }));
                return assert_matches_model(backend, model);
            }
            let purged = result.unwrap();
            let before = model.trash.len();
            model.trash.retain(|(n, _)| name.is_some_and(|name| name != n));
            assert_eq!(purged.len(), before - model.trash.len());
        }
        Step::PlantCorrupt(who) => {
            backend.plant_corrupt(NAMES[who]);
            let stored = Stored { entry: Entry::Corrupt, history: Vec::new() };
            model.live.insert(NAMES[who].to_owned(), stored);
        }
        Step::CrashReopen => backend.crash_and_reopen(),
    }
    assert_matches_model(backend, model);
}

/// The content of `revision` in `stored` (current or kept), if it has one.
fn revision_in(stored: &Stored, revision: u64) -> Option<u64> {
    match stored.entry {
        Entry::Good { revision: r, content } if r == revision => Some(content),
        _ => stored.history.iter().find(|(r, _)| *r == revision).map(|(_, c)| *c),
    }
}

/// The name a problem's location belongs to (`…/alpha.json`, `…/.trash/alpha@…`,
/// `memory:alpha`, `memory:trash/alpha@…`).
fn name_in(location: &str) -> &'static str {
    let tail = match location.find("trash/") {
        Some(i) => location[i + "trash/".len()..].split('@').next().unwrap(),
        None => location.rsplit(['/', ':']).next().unwrap().trim_end_matches(".json"),
    };
    NAMES.iter().find(|n| **n == tail).unwrap_or_else(|| panic!("unexpected problem at {location}"))
}

/// Everything the store shows equals the model: the listing (good entries with revision
/// and content, one problem per corrupt entry), every live workflow's history, and the
/// trash (per name, in deletion order).
fn assert_matches_model(backend: &Backend, model: &Model) {
    let m = backend.manager();
    let listing = m.list_all().unwrap();
    let mut seen: BTreeMap<String, Entry> = listing
        .workflows
        .iter()
        .map(|s| {
            let entry = Entry::Good { revision: s.revision, content: content_of(&s.description) };
            (s.name.to_string(), entry)
        })
        .collect();
    for problem in &listing.problems {
        assert!(seen.insert(name_in(&problem.location).to_owned(), Entry::Corrupt).is_none());
    }
    let live: BTreeMap<String, Entry> =
        model.live.iter().map(|(n, s)| (n.clone(), s.entry.clone())).collect();
    assert_eq!(seen, live);

    for (name, stored) in &model.live {
        let Entry::Good { revision, content } = stored.entry else { continue };
        let history = m.history(name).unwrap();
        assert!(history.problems.is_empty(), "{:?}", history.problems);
        let got: Vec<(u64, u64)> = history
            .revisions
            .iter()
            .map(|d| {
                assert_eq!(d.ir, ir(content_of(&d.description)), "a mixed revision");
                (d.revision, content_of(&d.description))
            })
            .collect();
        let mut want = stored.history.clone();
        want.push((revision, content));
        assert_eq!(got, want, "history of `{name}`");
    }

    let trash = m.trash().unwrap();
    let mut got: BTreeMap<&str, Vec<Entry>> = BTreeMap::new();
    for entry in &trash.entries {
        let content = content_of(&entry.description);
        let name = name_in(&format!("trash/{}", entry.name));
        got.entry(name).or_default().push(Entry::Good { revision: entry.revision, content });
    }
    let mut corrupt: BTreeMap<&str, usize> = BTreeMap::new();
    for problem in &trash.problems {
        *corrupt.entry(name_in(&problem.location)).or_default() += 1;
    }
    let mut want: BTreeMap<&str, Vec<Entry>> = BTreeMap::new();
    let mut want_corrupt: BTreeMap<&str, usize> = BTreeMap::new();
    for (name, stored) in &model.trash {
        let name = name_in(&format!("trash/{name}"));
        match stored.entry {
            Entry::Good { .. } => want.entry(name).or_default().push(stored.entry.clone()),
            Entry::Corrupt => *want_corrupt.entry(name).or_default() += 1,
        }
    }
    assert_eq!(got, want, "trash");
    assert_eq!(corrupt, want_corrupt, "unreadable trash entries");
}

fn check(mut backend: Backend, steps: &[Step]) {
    let mut model = Model::default();
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
