//! Ranking for a query (SPEC §6.1): stemming, typos, stop words, field weights,
//! determinism, empty and no-match queries, and hostile queries that must never panic.

use pflow_context::{Ranking, discover_query, rank};
use pflow_ir::{Document, NodeCatalog};
use pflow_store::Summary;
use proptest::prelude::*;
use serde_json::json;

use crate::fixtures;

/// A summary made from a stored document, as a store makes it.
fn summary(name: &str, description: &str, inputs: &[(&str, &str)], nodes: &[&str]) -> Summary {
    let inputs: serde_json::Map<String, serde_json::Value> = inputs
        .iter()
        .map(|(n, d)| ((*n).to_owned(), json!({ "type": "string", "description": d })))
        .collect();
    let nodes: Vec<serde_json::Value> = nodes
        .iter()
        .enumerate()
        .map(|(i, t)| json!({ "id": format!("n{i}"), "type": t }))
        .collect();
    let doc: Document = serde_json::from_value(json!({
        "name": name, "description": description,
        "ir": { "ir_version": "0.1.0", "inputs": inputs, "nodes": nodes },
        "created_at": "2025-01-29T10:00:00Z", "updated_at": "2025-01-29T10:00:00Z",
        "version": "1.0.0", "revision": 1,
    }))
    .unwrap();
    Summary::of(&doc)
}

/// A small library with near neighbours.
fn library() -> Vec<Summary> {
    vec![
        summary(
            "backup-postgres",
            "Dump a PostgreSQL database and upload the archive to S3",
            &[("bucket", "S3 bucket to upload to")],
            &["shell"],
        ),
        summary("backup-mysql", "Dump a MySQL database into a folder", &[], &["shell"]),
        summary(
            "resize-images",
            "Resize every picture in a folder to a maximum width",
            &[("max_width", "Largest width in pixels")],
            &["shell"],
        ),
        summary("check-website-up", "Request a URL and fail unless it answers", &[], &["http"]),
        summary("send-email", "Send a plain-text message through SMTP", &[], &["shell"]),
        summary("notify", "Tell the team", &[("channel", "Where to post in Slack")], &["http"]),
        summary("zz-other", "Nothing related at all", &[], &["echo"]),
    ]
}

fn names(ranking: &Ranking) -> Vec<&str> {
    ranking.workflows.iter().map(|s| s.item.name.as_str()).collect()
}

/// `query` over the small library gives `expected` first, in this order.
#[track_caller]
fn check(query: &str, expected: &[&str]) {
    let ranking = rank(query, library(), &NodeCatalog::default(), 20);
    let got = names(&ranking);
    assert_eq!(&got[..expected.len().min(got.len())], expected, "{query:?}: {got:?}");
}

#[test]
fn stems_find_other_forms_of_a_word() {
    check("backups", &["backup-mysql", "backup-postgres"]);
    check("resizing pictures", &["resize-images"]);
    check("dumped databases", &["backup-mysql", "backup-postgres"]);
    check("emails", &["send-email"]);
}

#[test]
fn one_typo_is_tolerated_in_a_word_of_five_letters_or_more() {
    check("postgress", &["backup-postgres"]);
    check("pstgres", &["backup-postgres"]);
    check("reszie", &["resize-images"]);
    check("webiste", &["check-website-up"]);
    // Four letters: no typo allowed, so `emial` finds nothing but `emil` neither.
    assert_eq!(rank("emil", library(), &NodeCatalog::default(), 5).matched, 0);
    // Two typos are too many.
    assert_eq!(rank("pstgrse", library(), &NodeCatalog::default(), 5).matched, 0);
}

#[test]
fn stop_words_are_ignored() {
    let with =
        rank("how do I back up my postgres database?", library(), &NodeCatalog::default(), 5);
    assert_eq!(with.terms, ["back", "up", "postgres", "database"]);
    assert_eq!(names(&with)[0], "backup-postgres");
    let only_stop_words = rank("what is the way to do it", library(), &NodeCatalog::default(), 5);
    assert!(only_stop_words.terms.is_empty());
    assert_eq!(only_stop_words.matched, 0);
    assert!(only_stop_words.closest.is_empty(), "nothing to be close to");
}

#[test]
fn words_of_state_and_time_are_not_stop_words() {
    // `on`, `when`, `before`, `after`, `while` change what a request means ("turn on",
    // "tell me when"), so they count; `the`, `my`, `me` do not.
    let ranking = rank(
        "tell me when the site is on, before and after a deploy, while it runs",
        library(),
        &NodeCatalog::default(),
        5,
    );
    assert_eq!(
        ranking.terms,
        ["tell", "when", "site", "on", "before", "after", "deploy", "while", "runs"]
    );
}

#[test]
fn a_stop_word_of_a_document_matches_no_query_word() {
    // `with` is one typo away from `width`, but a stop word is ignored in a document as
    // it is in a query; only `resize-images` speaks of a width.
    let library = vec![
        summary("resize-images", "Resize pictures to a maximum width", &[], &["shell"]),
        summary("send-email", "Send a message with SMTP", &[], &["shell"]),
    ];
    let ranking = rank("width", library, &NodeCatalog::default(), 5);
    assert_eq!(names(&ranking), ["resize-images"]);
}

#[test]
fn fields_are_weighted_the_name_most() {
    // `website` is in one name; `answers` only in that description; both find it.
    check("website", &["check-website-up"]);
    // `slack` is only in an input description, `team` in the description: still found.
    check("slack", &["notify"]);
    // A word in a name beats the same word in a description.
    let ranking = rank("folder email", library(), &NodeCatalog::default(), 20);
    assert_eq!(names(&ranking)[0], "send-email");
    // Node types count too.
    check("http", &["check-website-up", "notify"]);
}

#[test]
fn partial_words_match_the_start_or_end_of_a_longer_word() {
    check("site", &["check-website-up"]);
    check("postgre", &["backup-postgres"]);
}

#[test]
fn the_order_is_deterministic_and_ties_go_by_name() {
    let forward = rank("database dump", library(), &NodeCatalog::default(), 20);
    let mut reversed = library();
    reversed.reverse();
    let backward = rank("database dump", reversed, &NodeCatalog::default(), 20);
    assert_eq!(forward, backward);
    // Equal documents tie, and the tie goes by name.
    let twins = vec![
        summary("b-twin", "Same words here", &[], &["echo"]),
        summary("a-twin", "Same words here", &[], &["echo"]),
    ];
    let ranking = rank("words", twins, &NodeCatalog::default(), 20);
    assert_eq!(names(&ranking), ["a-twin", "b-twin"]);
    assert_eq!(ranking.workflows[0].score, ranking.workflows[1].score);
}

#[test]
fn the_limit_keeps_the_best() {
    let ranking = rank("dump database folder", library(), &NodeCatalog::default(), 1);
    assert_eq!(ranking.workflows.len(), 1);
    assert_eq!(ranking.matched, 3);
    assert_eq!(ranking.ranked, 7);
    assert!(rank("dump", library(), &NodeCatalog::default(), 0).workflows.is_empty());
}

#[test]
fn a_query_that_matches_nothing_gives_the_closest_names() {
    let ranking = rank("xbackupx-xmysqlx", library(), &NodeCatalog::default(), 20);
    assert!(ranking.workflows.is_empty(), "{:?}", names(&ranking));
    assert_eq!(ranking.matched, 0);
    assert!(ranking.closest.len() <= 3 && !ranking.closest.is_empty());
    assert_eq!(ranking.closest[0], "backup-mysql", "{:?}", ranking.closest);
    // Nothing saved: nothing is close either.
    let empty = rank("backup", Vec::new(), &NodeCatalog::default(), 20);
    assert!(empty.closest.is_empty());
    assert_eq!(empty.ranked, 0);
    // An empty query ranks nothing.
    for query in ["", "   ", "?!-", "\u{0}\u{7}"] {
        let ranking = rank(query, library(), &NodeCatalog::default(), 20);
        assert!(ranking.terms.is_empty() && ranking.workflows.is_empty(), "{query:?}");
    }
}

#[test]
fn node_types_are_ranked_too() {
    let ranking = rank("write text into a file", Vec::new(), &fixtures::catalog(), 3);
    let nodes: Vec<&str> = ranking.nodes.iter().map(|n| n.item.name.as_str()).collect();
    assert_eq!(nodes[0], "write-file", "{nodes:?}");
    assert!(nodes.len() <= 3);
}

#[test]
fn a_huge_query_counts_its_first_words() {
    let mut query = "postgres ".repeat(10_000);
    query.push_str(&(0..10_000).map(|i| format!("w{i} ")).collect::<String>());
    let ranking = rank(&query, library(), &NodeCatalog::default(), 20);
    assert_eq!(ranking.terms.len(), pflow_context::MAX_QUERY_TERMS);
    assert_eq!(ranking.terms[0], "postgres");
    assert_eq!(names(&ranking)[0], "backup-postgres");
    let one_word = "a".repeat(1_000_000);
    assert!(rank(&one_word, library(), &NodeCatalog::default(), 20).workflows.is_empty());
}

#[test]
fn scored_results_serialize_beside_their_score() {
    let ranking = rank("website", library(), &NodeCatalog::default(), 1);
    let json = serde_json::to_value(&ranking.workflows[0]).unwrap();
    assert_eq!(json["name"], "check-website-up");
    assert!(json["score"].as_f64().unwrap() > 0.0);
    let back: pflow_context::Scored<Summary> = serde_json::from_value(json).unwrap();
    assert_eq!(back, ranking.workflows[0]);
}

#[test]
fn discovery_with_a_query_ranks_and_renders() {
    let (_store, manager) = fixtures::manager();
    let context =
        discover_query(&fixtures::catalog(), &manager, "github pull request", 20).unwrap();
    insta::assert_snapshot!(context.to_markdown(), @r"
    # Node types matching `github pull request`

    No node type matches.

    # Saved workflows matching `github pull request`

    Call one from a node of type `workflow` with `params.workflow_name`; pass its inputs in `params.param_mapping` (`?` marks an optional input). Most relevant first.

    - `fix-issue` (workflow): Fixes a GitHub issue and opens a pull request.
      inputs: issue_number, repo?, labels?

    (1 of 1 matching, 4 saved workflows searched.)

    (1 saved workflow entry could not be read and was not searched.)
    ");
    let none = discover_query(&fixtures::catalog(), &manager, "helo wrld", 20).unwrap();
    insta::assert_snapshot!(none.to_markdown(), @r"
    # Node types matching `helo wrld`

    No node type matches.

    # Saved workflows matching `helo wrld`

    None of the 4 saved workflows matches. Closest names: `hello`.

    (1 saved workflow entry could not be read and was not searched.)
    ");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any text — control characters, every Unicode class, huge words — ranks without a
    /// panic, and twice the same.
    #[test]
    fn any_query_ranks_without_panicking(query in any::<String>()) {
        let first = rank(&query, library(), &fixtures::catalog(), 5);
        let second = rank(&query, library(), &fixtures::catalog(), 5);
        prop_assert_eq!(&first, &second);
        prop_assert!(first.workflows.len() <= 5);
        prop_assert!(first.terms.len() <= pflow_context::MAX_QUERY_TERMS);
        let _ = pflow_context::QueryContext::new(&query, first, Vec::new()).to_markdown();
    }

    /// Queries built from awkward characters: controls, combining marks, bidi overrides,
    /// surrogates' neighbours, letters whose lowercase is longer, digits of other scripts.
    #[test]
    fn awkward_characters_rank_without_panicking(
        chars in proptest::collection::vec(
            prop_oneof![
                Just('\u{0}'), Just('\u{1b}'), Just('\u{7f}'), Just('\u{85}'), Just('\u{200b}'),
                Just('\u{202e}'), Just('\u{301}'), Just('\u{130}'), Just('\u{1e9e}'),
                Just('\u{fb03}'), Just('\u{d7ff}'), Just('\u{e000}'), Just('\u{fffd}'),
                Just('\u{10ffff}'), Just('\u{661}'), Just('ß'), Just('İ'), Just('-'), Just(' '),
                any::<char>(),
            ],
            0..200,
        )
    ) {
        let query: String = chars.into_iter().collect();
        let library: Vec<Summary> = library()
            .into_iter()
            .chain([summary("unicode", &query, &[("x", &query)], &["echo"])])
            .collect();
        let ranking = rank(&query, library, &fixtures::catalog(), 20);
        prop_assert!(ranking.workflows.iter().all(|s| s.score > 0.0 && s.score.is_finite()));
    }
}
