//! Conformance: the rules the manager keeps for every backend — save modes, the size of
//! what may be stored, the revision number's limit, deletion and creation times that
//! stay in order whatever the clock does, and which trash entry a restore brings back.

use pflow_ir::{Document, Timestamp};

use super::history::revisions;
use super::support::{doc, ir, manager, name, plant_corrupt, put, shell, stored, transact, valid};
use super::{Case, Harness, case};
use crate::{IfCalled, MAX_DOCUMENT_BYTES, SaveMode, SaveOutcome, StoreError};

pub(super) const CASES: &[Case] = &[
    case!(replace_without_a_revision_creates_or_replaces),
    case!(replace_with_a_revision_conflicts_when_changed_or_deleted),
    case!(update_mode_of_a_missing_workflow_is_not_found),
    case!(a_document_over_the_size_limit_is_never_written),
    case!(a_document_of_exactly_the_size_limit_is_stored_and_read_back),
    case!(a_restore_over_the_size_limit_is_refused),
    case!(the_last_revision_number_cannot_be_updated),
    case!(deletion_times_stay_in_order_when_the_clock_is_behind),
    case!(a_trash_entry_at_the_last_time_gets_no_later_neighbour),
    case!(a_trash_restore_takes_the_newest_readable_entry, corrupt),
];

const REPLACE: SaveMode = SaveMode::Replace { expected_revision: None };

fn replace_without_a_revision_creates_or_replaces(h: &mut dyn Harness) {
    let m = manager(h);
    let created = m.save("fix", &valid(&m, "fix", ir(1)), Some("one"), REPLACE).unwrap();
    assert_eq!(created.outcome, SaveOutcome::Created);
    assert_eq!((created.document.revision, created.document.description.as_str()), (1, "one"));
    assert_eq!(created.location, m.locate("fix").unwrap());
    assert_eq!(m.load("fix").unwrap(), created.document);
    let updated = m.save("fix", &valid(&m, "fix", ir(2)), Some("two"), REPLACE).unwrap();
    assert_eq!(updated.outcome, SaveOutcome::Updated);
    assert_eq!(updated.document.revision, 2);
    assert_eq!(updated.document.created_at, created.document.created_at);
    assert_eq!(m.load("fix").unwrap(), updated.document);
    // The same content again writes nothing.
    let same = m.save("fix", &valid(&m, "fix", ir(2)), Some("two"), REPLACE).unwrap();
    assert_eq!((same.outcome, &same.document), (SaveOutcome::Unchanged, &updated.document));
    // Without a description, the saved one is kept: the IR alone is the change.
    let kept = m.save("fix", &valid(&m, "fix", ir(3)), None, REPLACE).unwrap();
    assert_eq!(kept.outcome, SaveOutcome::Updated);
    assert_eq!((kept.document.revision, kept.document.description.as_str()), (3, "two"));
    let same = m.save("fix", &valid(&m, "fix", ir(3)), None, REPLACE).unwrap();
    assert_eq!(same.outcome, SaveOutcome::Unchanged);
    assert_eq!(revisions(&m, "fix"), [(1, "one".into()), (2, "two".into()), (3, "two".into())]);
    // A new workflow without a description has an empty one.
    let fresh = m.save("other", &valid(&m, "other", ir(1)), None, REPLACE).unwrap();
    assert_eq!((fresh.outcome, fresh.document.description.as_str()), (SaveOutcome::Created, ""));
    // `New` creates too, and says so.
    let new = m.save("third", &valid(&m, "third", ir(1)), Some("3"), SaveMode::New).unwrap();
    assert_eq!((new.outcome, new.document.revision), (SaveOutcome::Created, 1));
}

fn replace_with_a_revision_conflicts_when_changed_or_deleted(h: &mut dyn Harness) {
    let m = manager(h);
    let at = |expected: u64| SaveMode::Replace { expected_revision: Some(expected) };
    // Nothing was ever saved under the name: the caller's revision is stale too.
    match m.save("fix", &valid(&m, "fix", ir(1)), None, at(1)).unwrap_err() {
        StoreError::Conflict { name, expected, actual } => {
            assert_eq!((name.as_str(), expected, actual), ("fix", 1, None));
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert!(!m.exists("fix").unwrap());
    m.create("fix", &ir(1), "one").unwrap();
    let saved = m.save("fix", &valid(&m, "fix", ir(2)), None, at(1)).unwrap();
    assert_eq!((saved.outcome, saved.document.revision), (SaveOutcome::Updated, 2));
    let stale = m.save("fix", &valid(&m, "fix", ir(3)), None, at(1)).unwrap_err();
    assert!(
        matches!(stale, StoreError::Conflict { expected: 1, actual: Some(2), .. }),
        "{stale:?}"
    );
    // Deleted meanwhile: a conflict that says so, and nothing comes back to life.
    m.delete("fix", IfCalled::Refuse).unwrap();
    let err = m.save("fix", &valid(&m, "fix", ir(3)), None, at(2)).unwrap_err();
    match &err {
        StoreError::Conflict { name, expected, actual } => {
            assert_eq!((name.as_str(), *expected, *actual), ("fix", 2, None));
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "workflow `fix` is not saved: expected revision 2, found none (never saved, or deleted meanwhile)"
    );
    assert!(err.hint().is_some_and(|h| h.contains("save it anew")), "{:?}", err.hint());
    assert!(!m.exists("fix").unwrap());
    assert_eq!(m.trash().unwrap().entries.len(), 1);
    // And a restore of a revision expects the same way.
    m.restore_trashed("fix").unwrap();
    assert!(matches!(
        m.restore_revision("fix", 1, Some(1)),
        Err(StoreError::Conflict { expected: 1, actual: Some(2), .. })
    ));
}

fn update_mode_of_a_missing_workflow_is_not_found(h: &mut dyn Harness) {
    let m = manager(h);
    let update = SaveMode::Update { expected_revision: 1 };
    let err = m.save("ghost", &valid(&m, "ghost", ir(1)), None, update).unwrap_err();
    assert!(matches!(&err, StoreError::WorkflowNotFound { name, .. } if name.as_str() == "ghost"));
    assert!(!m.exists("ghost").unwrap());
    // Also after a delete: an update never brings a workflow back.
    m.create("ghost", &ir(1), "").unwrap();
    m.delete("ghost", IfCalled::Refuse).unwrap();
    let err = m.save("ghost", &valid(&m, "ghost", ir(2)), None, update).unwrap_err();
    assert!(matches!(err, StoreError::WorkflowNotFound { .. }), "{err:?}");
    assert!(!m.exists("ghost").unwrap());
}

/// A shell command long enough that any document holding it is over the limit.
fn oversized() -> pflow_ir::WorkflowIr {
    shell(&"x".repeat(MAX_DOCUMENT_BYTES as usize))
}

#[track_caller]
fn assert_too_large(err: &StoreError, n: &str) {
    match err {
        StoreError::TooLarge { name, size, limit } => {
            assert_eq!(name.as_str(), n);
            assert!(*size > MAX_DOCUMENT_BYTES, "{size}");
            assert_eq!(*limit, MAX_DOCUMENT_BYTES);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert!(err.hint().is_some());
}

fn a_document_over_the_size_limit_is_never_written(h: &mut dyn Harness) {
    let m = manager(h);
    let big = oversized();
    assert_too_large(&m.create("big", &big, "").unwrap_err(), "big");
    assert_too_large(
        &m.save("big", &valid(&m, "big", big.clone()), None, REPLACE).unwrap_err(),
        "big",
    );
    assert!(!m.exists("big").unwrap());
    assert!(m.list_all().unwrap() == Default::default());
    // An update is refused and the saved revision stays, with its history.
    m.create("small", &ir(1), "one").unwrap();
    m.update("small", &ir(2), "two", 1).unwrap();
    let before = m.load("small").unwrap();
    assert_too_large(&m.update("small", &big, "", 2).unwrap_err(), "small");
    let replace = SaveMode::Replace { expected_revision: Some(2) };
    assert_too_large(
        &m.save("small", &valid(&m, "small", big), None, replace).unwrap_err(),
        "small",
    );
    assert_eq!(m.load("small").unwrap(), before);
    assert_eq!(revisions(&m, "small"), [(1, "one".into()), (2, "two".into())]);
    let listing = m.list_all().unwrap();
    assert!(listing.problems.is_empty(), "{:?}", listing.problems);
    assert_eq!(listing.workflows.len(), 1);
}

/// Revision `revision` of `big`, created and updated at a time that prints without a
/// fraction of a second (the shortest a timestamp prints), whose stored form is exactly
/// [`MAX_DOCUMENT_BYTES`].
fn at_the_limit(revision: u64) -> Document {
    let t = Timestamp::parse("2025-01-01T00:00:00Z").expect("a valid time");
    let make = |padding: usize| Document {
        revision,
        ..Document::new(name("big"), String::new(), shell(&"x".repeat(padding)), t)
    };
    let overhead = make(0).to_pretty_json().len();
    let doc = make(MAX_DOCUMENT_BYTES as usize - overhead);
    assert_eq!(doc.to_pretty_json().len() as u64, MAX_DOCUMENT_BYTES);
    doc
}

fn a_document_of_exactly_the_size_limit_is_stored_and_read_back(h: &mut dyn Harness) {
    let m = manager(h);
    let largest = at_the_limit(1);
    put(&*h.store(), &largest);
    assert_eq!(m.load("big").unwrap(), largest);
    let listing = m.list_all().unwrap();
    assert!(listing.problems.is_empty(), "{:?}", listing.problems);
    assert_eq!(listing.workflows.len(), 1);
    // Its history keeps it as it was.
    m.update("big", &ir(1), "small now", 1).unwrap();
    assert_eq!(m.load_revision("big", 1).unwrap(), largest);
}

/// Revision 9 was exactly at the limit; brought back as revision 11 (one more digit, and a
/// later time), its stored form is over it.
fn a_restore_over_the_size_limit_is_refused(h: &mut dyn Harness) {
    let m = manager(h);
    let ninth = at_the_limit(9);
    let tenth = ninth
        .next_revision(ir(1), "small".to_owned(), ninth.updated_at)
        .expect("revision 10 exists");
    let store = h.store();
    transact(&*store, |txn| {
        txn.create(&stored(&ninth))?;
        txn.replace(&ninth, &stored(&tenth))
    })
    .unwrap();
    assert_eq!(m.load_revision("big", 9).unwrap(), ninth);
    assert_too_large(&m.restore_revision("big", 9, None).unwrap_err(), "big");
    assert_too_large(&m.restore_revision("big", 9, Some(10)).unwrap_err(), "big");
    assert_eq!(m.load("big").unwrap(), tenth);
    assert_eq!(revisions(&m, "big"), [(9, String::new()), (10, "small".into())]);
}

fn the_last_revision_number_cannot_be_updated(h: &mut dyn Harness) {
    let m = manager(h);
    let last = Document { revision: u64::MAX, ..doc("last", 1) };
    put(&*h.store(), &last);
    let check = |result: Result<Document, StoreError>| match result {
        Err(err @ StoreError::RevisionLimit { .. }) => {
            let StoreError::RevisionLimit { name, revision } = &err else { unreachable!() };
            assert_eq!((name.as_str(), *revision), ("last", u64::MAX));
            assert!(err.hint().is_some());
        }
        other => panic!("expected RevisionLimit, got {other:?}"),
    };
    check(m.update("last", &ir(2), "description 1", u64::MAX));
    check(m.update("last", &ir(1), "new words", u64::MAX));
    let valid2 = valid(&m, "last", ir(2));
    check(m.save("last", &valid2, None, REPLACE).map(|s| s.document));
    let at_last = SaveMode::Replace { expected_revision: Some(u64::MAX) };
    check(m.save("last", &valid2, None, at_last).map(|s| s.document));
    // The expected revision is checked first: a stale one is a conflict still.
    assert!(matches!(
        m.update("last", &ir(2), "", 5),
        Err(StoreError::Conflict { expected: 5, actual: Some(u64::MAX), .. })
    ));
    // Nothing was written: the document and its (empty) history are as planted.
    assert_eq!(m.load("last").unwrap(), last);
    assert_eq!(m.history("last").unwrap().revisions, std::slice::from_ref(&last));
    // Saving what is already there needs no new revision.
    let same = m.save("last", &valid(&m, "last", ir(1)), None, at_last).unwrap();
    assert_eq!((same.outcome, &same.document), (SaveOutcome::Unchanged, &last));
    let same = m.restore_revision("last", u64::MAX, None).unwrap();
    assert_eq!(same.outcome, SaveOutcome::Unchanged);
    assert_eq!(m.load("last").unwrap(), last);
}

/// Deletion times of one name are after the newest trash entry of that name even when
/// the clock is behind it (it stood still, or stepped back); a new life of a name is
/// created after the newest one in the trash. Other names are not pushed forward.
fn deletion_times_stay_in_order_when_the_clock_is_behind(h: &mut dyn Harness) {
    let m = manager(h);
    let store = h.store();
    let future = Timestamp::parse("2999-01-01T00:00:00Z").expect("a valid time");
    // A life of `ahead` from a clock far ahead, deleted at a time far ahead.
    let ahead = Document::new(name("ahead"), "from the future".into(), ir(1), future);
    put(&*store, &ahead);
    let planted = transact(&*store, |txn| txn.delete(&name("ahead"), future)).unwrap();
    assert_eq!(planted.deleted_at, future);
    // Saved anew: created after the trashed life, so the two histories stay apart.
    m.create("ahead", &ir(2), "now").unwrap();
    let now_life = m.load("ahead").unwrap();
    assert!(now_life.created_at > ahead.created_at, "{now_life:?}");
    let key = m.delete("ahead", IfCalled::Refuse).unwrap();
    assert!(key.deleted_at > future, "{key:?}");
    let listed: Vec<_> = m.trash().unwrap().entries.iter().map(|e| e.key()).collect();
    assert_eq!(listed, [planted, key]);
    // The newest deleted comes back first, each with its own history.
    assert_eq!(m.restore_trashed("ahead").unwrap().description, "now");
    assert_eq!(revisions(&m, "ahead"), [(1, "now".into())]);
    // Another name is not pushed forward.
    m.create("other", &ir(3), "").unwrap();
    assert!(m.delete("other", IfCalled::Refuse).unwrap().deleted_at < future);
}

/// A trash entry deleted at the last time there can be: a delete of the name can get no
/// later time (its entry would come back before the older one, or share its key), so it
/// is refused (`NoTimeLeft`) and nothing moves; the backend's own delete at that time
/// finds no free time after it either, and refuses rather than replace the entry.
fn a_trash_entry_at_the_last_time_gets_no_later_neighbour(h: &mut dyn Harness) {
    let m = manager(h);
    let store = h.store();
    let last = super::support::last_time();
    m.create("end", &ir(1), "first").unwrap();
    let planted = transact(&*store, |txn| txn.delete(&name("end"), last)).unwrap();
    assert_eq!(planted.deleted_at, last);
    m.create("end", &ir(2), "second").unwrap();
    let no_time = |err: StoreError| match err {
        StoreError::NoTimeLeft { name, last: at } => assert_eq!((name.as_str(), at), ("end", last)),
        other => panic!("expected NoTimeLeft, got {other:?}"),
    };
    no_time(m.delete("end", IfCalled::Refuse).unwrap_err());
    no_time(transact(&*store, |txn| txn.delete(&name("end"), last)).unwrap_err());
    assert_eq!(m.load("end").unwrap().description, "second");
    let trash = m.trash().unwrap().entries;
    let keys: Vec<_> = trash.iter().map(|e| e.key()).collect();
    assert_eq!(keys, [planted]);
    // Purged, the time is free again.
    m.purge(Some("end"), None).unwrap();
    assert!(m.delete("end", IfCalled::Refuse).unwrap().deleted_at < last);
}

/// The newest trash entry of a name cannot be read: a restore brings back the newest one
/// that can, and leaves the unreadable one where it is.
fn a_trash_restore_takes_the_newest_readable_entry(h: &mut dyn Harness) {
    let m = manager(h);
    m.create("fix", &ir(1), "older").unwrap();
    m.update("fix", &ir(2), "older, v2", 1).unwrap();
    m.delete("fix", IfCalled::Refuse).unwrap();
    plant_corrupt(h, "fix");
    m.delete("fix", IfCalled::Refuse).unwrap();
    let trash = m.trash().unwrap();
    assert_eq!((trash.entries.len(), trash.problems.len()), (1, 1), "{trash:?}");
    let back = m.restore_trashed("fix").unwrap();
    assert_eq!((back.revision, back.description.as_str()), (2, "older, v2"));
    assert_eq!(revisions(&m, "fix"), [(1, "older".into()), (2, "older, v2".into())]);
    let trash = m.trash().unwrap();
    assert_eq!((trash.entries.len(), trash.problems.len()), (0, 1), "{trash:?}");
    m.delete("fix", IfCalled::Refuse).unwrap();
    assert_eq!(m.restore_trashed("fix").unwrap().description, "older, v2");
}
