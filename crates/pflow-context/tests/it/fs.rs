//! The contexts over a real filesystem store with a corrupt file in it.

use std::sync::Arc;

use pflow_context::{ContextError, Selection, discover, plan, rank, rank_saved};
use pflow_store::{FsStore, WorkflowManager};

use crate::fixtures;

/// A temporary home holding the fixture workflows, saved through the manager, and a
/// `broken.json` that is not JSON at all.
fn fs_manager() -> (tempfile::TempDir, WorkflowManager) {
    let home = tempfile::tempdir().unwrap();
    let manager = WorkflowManager::new(Arc::new(FsStore::new(home.path())));
    for (name, ir, description) in fixtures::workflows() {
        manager.create(name, &ir, description).unwrap();
    }
    std::fs::write(home.path().join("workflows").join("broken.json"), "{ \"name\": \"bro").unwrap();
    (home, manager)
}

#[test]
fn a_corrupt_file_is_skipped_like_in_memory() {
    let (_home, manager) = fs_manager();
    let on_disk = discover(&fixtures::catalog(), &manager).unwrap();
    let (_store, memory) = fixtures::manager();
    let in_memory = discover(&fixtures::catalog(), &memory).unwrap();
    // The fixture store plants one corrupt entry too, so the texts agree byte for byte.
    assert_eq!(on_disk.to_markdown(), in_memory.to_markdown());
    assert_eq!(on_disk.workflows, in_memory.workflows);
    assert_eq!(on_disk.skipped.len(), 1, "{:?}", on_disk.skipped);
    assert!(on_disk.skipped[0].location.ends_with("broken.json"), "{:?}", on_disk.skipped);
    insta::assert_snapshot!(
        on_disk.to_markdown().lines().last().unwrap(),
        @"(1 saved workflow entry could not be read and is not listed.)"
    );
}

#[test]
fn selecting_the_corrupt_file_is_an_error() {
    let (_home, manager) = fs_manager();
    let selection = Selection { nodes: vec![], workflows: vec!["hello".into(), "broken".into()] };
    let err = plan(&fixtures::catalog(), &manager, &selection).unwrap_err();
    assert!(matches!(&err, ContextError::Unreadable { name, .. } if name == "broken"), "{err:?}");
    let selection = Selection { nodes: vec![], workflows: vec!["fix-issue".into()] };
    let context = plan(&fixtures::catalog(), &manager, &selection).unwrap();
    let (_store, memory) = fixtures::manager();
    assert_eq!(context, plan(&fixtures::catalog(), &memory, &selection).unwrap());
}

#[test]
fn a_store_ranks_as_its_listing_does_in_memory() {
    // `rank_saved` keeps no summaries and loads the winners by name afterwards; the
    // result must be the ranking of the listing's summaries, scores and order included.
    let (_home, manager) = fs_manager();
    let listing = manager.list_all().unwrap();
    for query in ["hello world", "github pull request issue", "echo the word", "workflow", ""] {
        for limit in [1, 2, 20] {
            let saved = rank_saved(&fixtures::catalog(), &manager, query, limit).unwrap();
            let in_memory =
                rank(query, listing.workflows.iter().cloned(), &fixtures::catalog(), limit);
            assert_eq!(saved.ranking, in_memory, "{query:?}, limit {limit}");
            assert_eq!(saved.skipped.len(), 1, "{:?}", saved.skipped);
        }
    }
}
