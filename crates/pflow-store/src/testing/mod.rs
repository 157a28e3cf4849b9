//! The conformance suite and the M1 state machine that every [`WorkflowStore`] backend
//! runs — this crate's (in memory, on the filesystem, on the simulated filesystem) and a
//! backend crate's of its own — with one call each (`test-support` feature only).
//!
//! A backend's tests implement [`Harness`] for a fresh, empty store of theirs and call
//! [`conformance`] and [`model`](fn@model) from one `#[test]` each:
//!
//! ```text
//! #[test]
//! fn conformance_postgres() {
//!     pflow_store::testing::conformance(&|| Box::new(PgHarness::start()));
//! }
//!
//! #[test]
//! fn m1_postgres_matches_the_model() {
//!     let make = || Box::new(PgHarness::start()) as Box<dyn Harness>;
//!     pflow_store::testing::model(&make, pflow_store::testing::default_cases());
//! }
//! ```
//!
//! The cases speak to the store only through the [`WorkflowManager`] and the
//! [`WorkflowStore`] trait (its transaction primitives included), so they hold for every
//! backend. What only one backend can show — files on disk, fsyncs, locks — stays in that
//! backend's own tests.
//!
//! [`WorkflowManager`]: crate::WorkflowManager

mod basics;
mod bundles;
mod calls;
mod copy;
mod history;
mod model;
mod primitives;
mod race;
mod rules;
mod support;

use std::any::Any;
use std::collections::HashSet;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use pflow_ir::WorkflowName;

use crate::WorkflowStore;

pub use model::{default_cases, model};
pub use race::{CycleRace, cycle_race};

/// One store under test, with what the cases need to reach behind its back.
///
/// `make` closures hand [`conformance`] and [`model`](fn@model) a fresh harness — an
/// empty store nobody else uses — for every case.
pub trait Harness {
    /// The store under test. After [`Harness::crash_and_reopen`], the store the new
    /// process opened.
    fn store(&self) -> Arc<dyn WorkflowStore>;

    /// Damages the entry stored under `name` (or plants one when there is none) so that
    /// it cannot be read as a document, as a damaged file or row would be: `load` fails
    /// with [`StoreError::Corrupt`](crate::StoreError::Corrupt), `list` reports it as a
    /// problem at the location [`WorkflowStore::locate`] gives for `name`, and `exists`
    /// is true. The history of what was stored under `name` need not stay reachable.
    ///
    /// Only called when [`Capabilities::corrupt_entries`] is true.
    fn plant_corrupt(&self, name: &WorkflowName);

    /// Simulates the process going away — a crash, or a power cut where the backend can
    /// simulate one — and a new process opening the store: every acknowledged write must
    /// be there.
    fn crash_and_reopen(&mut self);

    /// What the backend can do; everything by default.
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }
}

/// What a backend under test can do. The cases that need what it cannot are skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Whether [`Harness::plant_corrupt`] can leave an entry that cannot be read (a
    /// backend whose schema makes one impossible says `false`; the model then never
    /// plants one).
    pub corrupt_entries: bool,
}

impl Default for Capabilities {
    fn default() -> Capabilities {
        Capabilities { corrupt_entries: true }
    }
}

/// Runs every conformance case, each on a fresh harness from `make`, and fails at the end
/// naming every case that failed (with its panic message), so that one broken rule does
/// not hide the others.
pub fn conformance(make: &dyn Fn() -> Box<dyn Harness>) {
    let cases = all_cases();
    let mut failed = Vec::new();
    let mut ran = 0;
    for case in &cases {
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
            let mut harness = make();
            if case.needs_corrupt_entries && !harness.capabilities().corrupt_entries {
                return false;
            }
            (case.run)(&mut *harness);
            true
        }));
        match outcome {
            Ok(true) => ran += 1,
            Ok(false) => {}
            Err(payload) => {
                ran += 1;
                failed.push(format!("{}: {}", case.name, panic_message(&*payload)));
            }
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {ran} conformance cases failed:\n  {}",
        failed.len(),
        failed.join("\n  ")
    );
}

/// One conformance case.
#[derive(Debug, Clone, Copy)]
struct Case {
    /// The case's function name, for the report.
    name: &'static str,
    run: fn(&mut dyn Harness),
    /// Whether it plants an unreadable entry.
    needs_corrupt_entries: bool,
}

/// A [`Case`] of the function `$f`; `corrupt` when it plants an unreadable entry.
macro_rules! case {
    ($f:ident) => {
        $crate::testing::Case { name: stringify!($f), run: $f, needs_corrupt_entries: false }
    };
    ($f:ident, corrupt) => {
        $crate::testing::Case { name: stringify!($f), run: $f, needs_corrupt_entries: true }
    };
}
use case;

fn all_cases() -> Vec<Case> {
    let cases = [
        basics::CASES,
        history::CASES,
        calls::CASES,
        rules::CASES,
        primitives::CASES,
        bundles::CASES,
        copy::CASES,
    ]
    .concat();
    let mut names = HashSet::new();
    for case in &cases {
        assert!(names.insert(case.name), "two conformance cases are named `{}`", case.name);
    }
    cases
}

/// The message a panic was raised with.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(a panic without a message)".to_owned()
    }
}
