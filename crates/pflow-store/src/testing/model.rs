//! M1: a proptest state machine run against a backend and compared with a model — a
//! `BTreeMap` of live workflows, each with its history, and the trash — after every step.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use super::support::{ir, manager, name, valid};
use super::{Harness, support};
use crate::{IfCalled, SaveMode, SaveOutcome, StoreError};

const NAMES: [&str; 4] = ["alpha", "beta", "beta-2", "c"];
/// Few contents, so that updates and restores often bring back what is already there
/// (no new revision) and restores find equal revisions.
const CONTENTS: u64 = 6;

/// The number of cases [`model`] runs unless told otherwise: `PROPTEST_CASES` when set,
/// else proptest's default of 256 (what CI runs).
pub fn default_cases() -> u32 {
    Config::default().cases
}

/// Runs the M1 state machine `cases` times, each on a fresh harness from `make`: random
/// sequences of saves, updates with fresh and stale revisions, replaces, deletes, loads,
/// listings, restores of revisions and from the trash, purges, planted corruption and
/// crashes, checking after every step that everything the store shows equals the model.
/// Fails with the smallest failing sequence proptest finds.
///
/// The sequences that once failed run first, whatever `cases` is.
pub fn model(make: &dyn Fn() -> Box<dyn Harness>, cases: u32) {
    for steps in regressions() {
        check(make(), &steps);
    }
    // Failures are reported with the shrunk sequence, and the sequences worth keeping are
    // kept in `regressions` (a file of seeds would be tied to one crate's directory).
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&proptest::collection::vec(step(), 1..40), |steps| {
        check(make(), &steps);
        Ok(())
    });
    if let Err(e) = result {
        panic!("M1: the store and the model disagree: {e}");
    }
}

/// Sequences that failed once (shrunk by proptest), kept so that every backend runs them.
fn regressions() -> Vec<Vec<Step>> {
    vec![
        // An unchanged update with a stale revision is still a conflict.
        vec![Step::Save(0, 0), Step::Update { who: 0, content: 0, fresh: false }],
    ]
}

#[derive(Debug, Clone)]
enum Step {
    Save(usize, u64),
    Update {
        who: usize,
        content: u64,
        fresh: bool,
    },
    /// `SaveMode::Replace` without an expected revision: create or replace.
    Replace {
        who: usize,
        content: u64,
    },
    Delete(usize),
    Load(usize),
    List,
    LoadRevision(usize, u64),
    Restore {
        who: usize,
        revision: u64,
        fresh: bool,
    },
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
        5 => (who.clone(), content.clone(), any::<bool>())
            .prop_map(|(who, content, fresh)| Step::Update { who, content, fresh }),
        2 => (who.clone(), content)
            .prop_map(|(who, content)| Step::Replace { who, content }),
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

fn check(mut harness: Box<dyn Harness>, steps: &[Step]) {
    let mut model = Model::default();
    for step in steps {
        run(&mut *harness, &mut model, step);
    }
}

/// The current `(revision, content)` of a good live entry.
fn current(model: &Model, name: &str) -> Option<(u64, u64)> {
    match model.live.get(name).map(|s| &s.entry) {
        Some(Entry::Good { revision, content }) => Some((*revision, *content)),
        _ => None,
    }
}

/// Runs one step on the backend and the model, checking that they agree.
fn run(harness: &mut dyn Harness, model: &mut Model, step: &Step) {
    let m = manager(harness);
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
            let current = current(model, name);
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
                        assert_eq!((e, a), (expected, Some(actual)));
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
        Step::Replace { who, content } => {
            let name = NAMES[who];
            let current = current(model, name);
            let valid_ir = valid(&m, name, ir(content));
            let mode = SaveMode::Replace { expected_revision: None };
            let result = m.save(name, &valid_ir, Some(&description(content)), mode);
            match (model.live.get_mut(name), current) {
                (None, _) => {
                    let saved = result.unwrap();
                    assert_eq!(saved.outcome, SaveOutcome::Created);
                    assert_eq!(saved.document.revision, 1);
                    let entry = Entry::Good { revision: 1, content };
                    model.live.insert(name.to_owned(), Stored { entry, history: Vec::new() });
                }
                (Some(Stored { entry: Entry::Corrupt, .. }), _) => {
                    expect_err(result, |e| matches!(e, StoreError::Corrupt { .. }))
                }
                (Some(stored), Some((revision, old))) => {
                    let saved = result.unwrap();
                    if old == content {
                        assert_eq!(saved.outcome, SaveOutcome::Unchanged);
                        assert_eq!(saved.document.revision, revision);
                    } else {
                        assert_eq!(saved.outcome, SaveOutcome::Updated);
                        assert_eq!(saved.document.revision, revision + 1);
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
            let current = current(model, name);
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
                        let saved = result.unwrap();
                        let doc = saved.document;
                        if content == old {
                            assert_eq!(saved.outcome, SaveOutcome::Unchanged);
                            assert_eq!(
                                doc.revision, actual,
                                "an unchanged restore made a revision"
                            );
                        } else {
                            assert_eq!(saved.outcome, SaveOutcome::Updated);
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
                return assert_matches_model(harness, model);
            }
            let purged = result.unwrap();
            let before = model.trash.len();
            model.trash.retain(|(n, _)| name.is_some_and(|name| name != n));
            assert_eq!(purged.len(), before - model.trash.len());
        }
        Step::PlantCorrupt(who) => {
            // A backend that cannot hold an unreadable entry skips the step.
            if !harness.capabilities().corrupt_entries {
                return;
            }
            support::plant_corrupt(harness, NAMES[who]);
            let stored = Stored { entry: Entry::Corrupt, history: Vec::new() };
            model.live.insert(NAMES[who].to_owned(), stored);
        }
        Step::CrashReopen => harness.crash_and_reopen(),
    }
    assert_matches_model(harness, model);
}

/// The content of `revision` in `stored` (current or kept), if it has one.
fn revision_in(stored: &Stored, revision: u64) -> Option<u64> {
    match stored.entry {
        Entry::Good { revision: r, content } if r == revision => Some(content),
        _ => stored.history.iter().find(|(r, _)| *r == revision).map(|(_, c)| *c),
    }
}

/// The name a trash problem's location belongs to: the last word of it (split at
/// anything but letters, digits and `-`) that is one of the names, as in
/// `…/.trash/alpha@….json` or `memory:trash/alpha@…`.
fn trashed_name_in(location: &str) -> &'static str {
    location
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .rev()
        .find_map(|word| NAMES.iter().find(|n| **n == word))
        .copied()
        .unwrap_or_else(|| panic!("a trash problem at `{location}` names no workflow of the model"))
}

/// Everything the store shows equals the model: the listing (good entries with revision
/// and content, one problem per corrupt entry, where `locate` says it lives), every live
/// workflow's history, and the trash (per name, in deletion order).
fn assert_matches_model(harness: &dyn Harness, model: &Model) {
    let m = manager(harness);
    let store = harness.store();
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
        let owner = NAMES
            .iter()
            .find(|n| store.locate(&name(n)).0 == problem.location)
            .unwrap_or_else(|| panic!("unexpected problem {problem:?}"));
        assert!(seen.insert((*owner).to_owned(), Entry::Corrupt).is_none(), "{problem:?}");
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
        let name = NAMES.iter().find(|n| **n == entry.name.as_str()).expect("a model name");
        got.entry(name).or_default().push(Entry::Good { revision: entry.revision, content });
    }
    let mut corrupt: BTreeMap<&str, usize> = BTreeMap::new();
    for problem in &trash.problems {
        *corrupt.entry(trashed_name_in(&problem.location)).or_default() += 1;
    }
    let mut want: BTreeMap<&str, Vec<Entry>> = BTreeMap::new();
    let mut want_corrupt: BTreeMap<&str, usize> = BTreeMap::new();
    for (name, stored) in &model.trash {
        match stored.entry {
            Entry::Good { .. } => want.entry(name.as_str()).or_default().push(stored.entry.clone()),
            Entry::Corrupt => *want_corrupt.entry(name.as_str()).or_default() += 1,
        }
    }
    assert_eq!(got, want, "trash");
    assert_eq!(corrupt, want_corrupt, "unreadable trash entries");
}
