//! Ranking saved workflows and node types for a query (SPEC §6.1): lexical and
//! deterministic — BM25F over weighted fields, with stemming, typo tolerance and stop
//! words — so that a library of thousands of workflows can be searched without a network,
//! a model or an API key. docs/context.md explains the choices and gives the evaluation.

use std::collections::HashMap;

use pflow_ir::{NodeCatalog, NodeSpec};
use pflow_store::Summary;
use rust_stemmers::{Algorithm, Stemmer};
use serde::{Deserialize, Serialize};

/// At most this many distinct words of a query count; later ones are ignored, so a huge
/// query costs no more than a long one.
pub const MAX_QUERY_TERMS: usize = 32;
/// A word is matched on at most this many characters.
const MAX_WORD_CHARS: usize = 48;
/// Words of at least this many characters tolerate one typo (SPEC §6.1).
const TYPO_MIN_CHARS: usize = 5;
/// Stems of at least this many characters also match as the start or end of a longer
/// word (`site` in `website`, `config` in `configuration`).
const PARTIAL_MIN_CHARS: usize = 4;

/// How similar (Jaro-Winkler) a name must be to a query that matched nothing to be
/// offered as a "did you mean".
const CLOSEST_MIN_SIMILARITY: f64 = 0.7;

/// How much one occurrence of a word counts, by how it matched a query word.
const EXACT: f64 = 1.0;
const TYPO: f64 = 0.7;
const PARTIAL: f64 = 0.5;

/// BM25's term-frequency saturation.
const K1: f64 = 1.2;

/// The fields of a workflow (and of a node type) that a query is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// The name, split at its hyphens.
    Name,
    /// The description.
    Description,
    /// Input names (a node type's param names).
    InputName,
    /// Input descriptions (a node type's param descriptions).
    InputDescription,
    /// Output names.
    OutputName,
    /// Output descriptions.
    OutputDescription,
    /// The node types a workflow uses (a node type's category).
    NodeType,
}

const FIELDS: usize = 7;

/// Each field's weight and its BM25 length normalisation `b`. Chosen before the
/// evaluation ran, from what each field says about a workflow: the name is the shortest
/// and most deliberate summary, the description the fullest; inputs and outputs say
/// what it works on, node types how.
const FIELD_PARAMS: [(f64, f64); FIELDS] = [
    (3.0, 0.5),  // Name
    (1.0, 0.75), // Description
    (0.6, 0.75), // InputName
    (0.4, 0.75), // InputDescription
    (0.5, 0.75), // OutputName
    (0.3, 0.75), // OutputDescription
    (0.5, 0.75), // NodeType
];

/// English words that say nothing about what a workflow does, and the words every entry
/// of a library shares (`workflow`, `pflow`). A query of only these matches nothing.
///
/// Articles, pronouns, auxiliaries, determiners and the prepositions that only relate
/// words (`of`, `to`, `with`, `in`) are here. Words of state or position and of time or
/// condition are not (`on`, `off`, `up`, `down`, `when`, `before`, `after`, `while`):
/// they change what a request means ("turn on", "tell me when", "run after the build").
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "been",
    "being",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "for",
    "from",
    "get",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "him",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "just",
    "let",
    "like",
    "may",
    "me",
    "might",
    "mine",
    "more",
    "most",
    "must",
    "my",
    "need",
    "no",
    "not",
    "of",
    "one",
    "or",
    "our",
    "ours",
    "pflow",
    "please",
    "shall",
    "she",
    "should",
    "so",
    "some",
    "something",
    "such",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "thing",
    "this",
    "those",
    "to",
    "too",
    "us",
    "use",
    "using",
    "very",
    "want",
    "was",
    "way",
    "we",
    "were",
    "what",
    "where",
    "which",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "workflow",
    "workflows",
    "would",
    "you",
    "your",
    "yours",
];

/// A value and how well it matched a query: higher is better; only relative order means
/// anything.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scored<T> {
    /// The BM25F score (> 0).
    pub score: f64,
    /// What was scored; its fields sit beside `score` in the JSON form.
    #[serde(flatten)]
    pub item: T,
}

/// The result of [`rank`]: the best workflows and node types for a query, best first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranking {
    /// The words of the query that counted, lowercase, in order, each stem once: stop
    /// words and words past [`MAX_QUERY_TERMS`] left out. Empty when nothing could be searched
    /// for (an empty query, or only stop words).
    pub terms: Vec<String>,
    /// The best-matching workflows, at most `limit`, best first; equal scores by name.
    pub workflows: Vec<Scored<Summary>>,
    /// The best-matching node types, at most `limit`, best first; equal scores by name.
    pub nodes: Vec<Scored<NodeSpec>>,
    /// How many workflows matched at least one word (of which `workflows` holds the best).
    pub matched: usize,
    /// How many workflows were ranked.
    pub ranked: usize,
    /// When no workflow matched but some were ranked: the names closest to the query,
    /// best first (at most three), for a "did you mean".
    pub closest: Vec<String>,
}

/// Ranks `workflows` and the node types of `nodes` for `query`, keeping the best `limit`
/// of each. This is the ranking every front end uses (the CLI's `--query`, the MCP
/// server's `query`).
///
/// Lexical and deterministic: the same workflows (in any order) and the same query give
/// the same result. A workflow matches when a word of its name, description, input or
/// output names and descriptions, or node types matches a word of the query: by stem
/// (`backups` finds `backup`), with one typo in a word of five letters or more
/// (`postgress`), or as the start or end of a longer word (`site` in `website`). Stop
/// words (`the`, `my`, `how`, `workflow`) are ignored. Fields are weighted (the name
/// most) and combined with BM25F, so rare words count for more than common ones. It never
/// panics, whatever the query holds; a query's first [`MAX_QUERY_TERMS`] words count.
///
/// To rank a listing as it streams (without holding every summary), use [`Ranker`].
pub fn rank(
    query: &str,
    workflows: impl IntoIterator<Item = Summary>,
    nodes: &NodeCatalog,
    limit: usize,
) -> Ranking {
    let mut ranker = Ranker::new(query);
    for summary in workflows {
        ranker.push(summary);
    }
    ranker.finish(nodes, limit)
}

/// [`rank`], one workflow at a time: it keeps only the workflows that match, so a
/// listing can be ranked as it streams from the store.
#[derive(Debug)]
pub struct Ranker {
    scorer: Scorer,
    candidates: Vec<Candidate<Summary>>,
    stats: Stats,
    closest: Vec<(f64, String)>,
    kebab: String,
}

impl Ranker {
    /// A ranker for `query`.
    pub fn new(query: &str) -> Ranker {
        let scorer = Scorer::new(query);
        let kebab = scorer.terms.iter().map(|t| t.word.as_str()).collect::<Vec<_>>().join("-");
        Ranker {
            scorer,
            candidates: Vec::new(),
            stats: Stats::default(),
            closest: Vec::new(),
            kebab,
        }
    }

    /// Adds one workflow to the ranking.
    pub fn push(&mut self, summary: Summary) {
        let features = {
            let mut fields: Vec<(Field, &str)> = Vec::with_capacity(
                2 + 2 * summary.inputs.len() + 2 * summary.outputs.len() + summary.nodes.len(),
            );
            fields.push((Field::Name, summary.name.as_str()));
            fields.push((Field::Description, &summary.description));
            for input in &summary.inputs {
                fields.push((Field::InputName, &input.name));
                fields.push((Field::InputDescription, &input.description));
            }
            for output in &summary.outputs {
                fields.push((Field::OutputName, output));
            }
            for description in &summary.output_descriptions {
                fields.push((Field::OutputDescription, description));
            }
            for node in &summary.nodes {
                fields.push((Field::NodeType, node));
            }
            self.scorer.features(&fields, &mut self.stats)
        };
        match features {
            Some(features) => self.candidates.push(Candidate { features, item: summary }),
            None if self.candidates.is_empty() && !self.kebab.is_empty() => {
                self.remember_closest(summary.name.as_str());
            }
            None => {}
        }
    }

    /// The ranking of every workflow pushed, and of the node types of `nodes`.
    pub fn finish(self, nodes: &NodeCatalog, limit: usize) -> Ranking {
        let Ranker { mut scorer, candidates, stats, closest, .. } = self;
        let matched = candidates.len();
        let ranked = stats.docs;
        let workflows = best(&scorer, candidates, &stats, limit, |s| s.name.as_str());

        let mut node_stats = Stats::default();
        let mut node_candidates = Vec::new();
        for spec in nodes.iter() {
            let mut fields: Vec<(Field, &str)> = vec![
                (Field::Name, &spec.name),
                (Field::Description, &spec.description),
                (Field::NodeType, &spec.category),
            ];
            for param in &spec.params {
                fields.push((Field::InputName, &param.name));
                fields.push((Field::InputDescription, &param.description));
            }
            for output in &spec.outputs {
                fields.push((Field::OutputName, &output.name));
                fields.push((Field::OutputDescription, &output.description));
            }
            if let Some(features) = scorer.features(&fields, &mut node_stats) {
                node_candidates.push(Candidate { features, item: spec.clone() });
            }
        }
        let nodes = best(&scorer, node_candidates, &node_stats, limit, |s| s.name.as_str());

        let closest =
            if matched == 0 { closest.into_iter().map(|(_, n)| n).collect() } else { vec![] };
        let terms = scorer.terms.iter().map(|t| t.word.clone()).collect();
        Ranking { terms, workflows, nodes, matched, ranked, closest }
    }

    /// Keeps the three names closest to the query seen so far (only needed while nothing
    /// matched: a "did you mean" for a query that matches nothing).
    fn remember_closest(&mut self, name: &str) {
        let score = strsim::jaro_winkler(&self.kebab, name);
        if score < CLOSEST_MIN_SIMILARITY {
            return;
        }
        self.closest.push((score, name.to_owned()));
        self.closest.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        self.closest.truncate(3);
    }
}

/// One word of a query.
#[derive(Debug, Clone)]
struct Term {
    /// As given, lowercase.
    word: String,
    /// Its stem.
    stem: String,
    /// Its length in characters.
    chars: usize,
    /// Whether it is only digits: then it matches only the same number.
    numeric: bool,
}

/// What one document (a workflow or a node type) holds for the query: how much each
/// term occurs in each field, and each field's length in words.
#[derive(Debug, Clone)]
struct Features {
    /// `tf[term * FIELDS + field]`.
    tf: Box<[f32]>,
    len: [u32; FIELDS],
}

#[derive(Debug)]
struct Candidate<T> {
    features: Features,
    item: T,
}

/// What BM25 needs to know about the whole collection.
#[derive(Debug, Default)]
struct Stats {
    docs: usize,
    total_len: [u64; FIELDS],
}

/// The query, and a cache of how each distinct word of the documents matches it (most
/// words recur, so each is stemmed and compared once).
#[derive(Debug)]
struct Scorer {
    terms: Vec<Term>,
    stemmer: StemmerBox,
    /// Word → (term, weight) pairs it matches; most words match none.
    cache: HashMap<String, Box<[(u16, f32)]>>,
    /// Scratch: the lowercase word being read.
    word: String,
}

/// `rust_stemmers::Stemmer` is not `Debug`.
struct StemmerBox(Stemmer);

impl std::fmt::Debug for StemmerBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stemmer(English)")
    }
}

impl Scorer {
    fn new(query: &str) -> Scorer {
        let stemmer = Stemmer::create(Algorithm::English);
        let mut terms: Vec<Term> = Vec::new();
        let mut word = String::new();
        for_each_word(query, &mut word, |word| {
            if terms.len() >= MAX_QUERY_TERMS || is_stop_word(word) {
                return;
            }
            // A word whose stem is already there (`backups` after `backup`) adds nothing.
            let stem = stemmer.stem(word).into_owned();
            if terms.iter().any(|t| t.stem == stem) {
                return;
            }
            let numeric = word.bytes().all(|b| b.is_ascii_digit());
            terms.push(Term { word: word.to_owned(), chars: word.chars().count(), stem, numeric });
        });
        Scorer { terms, stemmer: StemmerBox(stemmer), cache: HashMap::new(), word: String::new() }
    }

    /// The features of one document, counted into `stats`; `None` when no word of it
    /// matches the query.
    fn features(&mut self, fields: &[(Field, &str)], stats: &mut Stats) -> Option<Features> {
        stats.docs += 1;
        let mut len = [0u32; FIELDS];
        let mut tf: Option<Box<[f32]>> = None;
        let terms = self.terms.len();
        let mut word = std::mem::take(&mut self.word);
        for &(field, text) in fields {
            let f = field as usize;
            for_each_word(text, &mut word, |w| {
                len[f] = len[f].saturating_add(1);
                if terms == 0 {
                    return;
                }
                let mut count = |matches: &[(u16, f32)]| {
                    for &(term, weight) in matches {
                        let tf =
                            tf.get_or_insert_with(|| vec![0.0; terms * FIELDS].into_boxed_slice());
                        tf[usize::from(term) * FIELDS + f] += weight;
                    }
                };
                if w.bytes().all(|b| b.is_ascii_digit()) {
                    // A number matches only itself: no stem, no typo, no part of it (`1234`
                    // is no typo of `1243`). Not cached: numbers are often unique (ids,
                    // counts), and would only grow the cache.
                    for (index, term) in self.terms.iter().enumerate() {
                        if term.word == w {
                            let index =
                                u16::try_from(index).expect("at most MAX_QUERY_TERMS terms");
                            count(&[(index, EXACT as f32)]);
                        }
                    }
                } else if let Some(matches) = self.cache.get(w) {
                    count(matches);
                } else {
                    let matches = self.matches_of(w);
                    count(&matches);
                    self.cache.insert(w.to_owned(), matches);
                }
            });
        }
        self.word = word;
        for (total, len) in stats.total_len.iter_mut().zip(len) {
            *total += u64::from(len);
        }
        tf.map(|tf| Features { tf, len })
    }

    /// The query terms `word` of a document matches, each with how well. A stop word
    /// matches none: it is ignored in a document as it is in a query, so `with` is no
    /// typo of `width`.
    fn matches_of(&self, word: &str) -> Box<[(u16, f32)]> {
        if is_stop_word(word) {
            return Box::new([]);
        }
        let stem = self.stemmer.0.stem(word);
        let chars = word.chars().count();
        let mut found = Vec::new();
        for (index, term) in self.terms.iter().enumerate() {
            let weight = if *stem == term.stem {
                EXACT
            } else if term.numeric {
                continue;
            } else if term.chars >= TYPO_MIN_CHARS
                && chars + 1 >= term.chars
                && chars <= term.chars + 1
                && (strsim::osa_distance(&term.word, word) <= 1
                    || strsim::osa_distance(&term.stem, &stem) <= 1)
            {
                TYPO
            } else if partial(term, word, &stem, chars) {
                PARTIAL
            } else {
                continue;
            };
            let index = u16::try_from(index).expect("at most MAX_QUERY_TERMS terms");
            found.push((index, weight as f32));
        }
        found.into_boxed_slice()
    }
}

/// Whether `word` (with its stem) holds the term at its start or its end, the term long
/// enough to mean something (`site` in `website`, `config` in `configuration`).
fn partial(term: &Term, word: &str, stem: &str, chars: usize) -> bool {
    let term_stem_chars = term.stem.chars().count();
    term_stem_chars >= PARTIAL_MIN_CHARS
        && chars > term_stem_chars
        && (stem.starts_with(term.stem.as_str()) || word.ends_with(term.word.as_str()))
}

/// The best `limit` candidates by BM25F score, equal scores by name.
fn best<T>(
    scorer: &Scorer,
    candidates: Vec<Candidate<T>>,
    stats: &Stats,
    limit: usize,
    name: impl Fn(&T) -> &str,
) -> Vec<Scored<T>> {
    let terms = scorer.terms.len();
    let docs = stats.docs.max(1) as f64;
    let avg_len: Vec<f64> =
        stats.total_len.iter().map(|&total| (total as f64 / docs).max(1.0)).collect();
    // Document frequency: how many documents match each term at all.
    let mut df = vec![0usize; terms];
    for candidate in &candidates {
        for (term, df) in df.iter_mut().enumerate() {
            let row = &candidate.features.tf[term * FIELDS..(term + 1) * FIELDS];
            if row.iter().any(|&tf| tf > 0.0) {
                *df += 1;
            }
        }
    }
    let idf: Vec<f64> =
        df.iter().map(|&df| (1.0 + (docs - df as f64 + 0.5) / (df as f64 + 0.5)).ln()).collect();
    let mut scored: Vec<Scored<T>> = candidates
        .into_iter()
        .map(|candidate| {
            let features = &candidate.features;
            let mut score = 0.0;
            for (term, idf) in idf.iter().enumerate() {
                let mut tf = 0.0;
                for (field, &(weight, b)) in FIELD_PARAMS.iter().enumerate() {
                    let raw = f64::from(features.tf[term * FIELDS + field]);
                    if raw > 0.0 {
                        let norm = 1.0 - b + b * f64::from(features.len[field]) / avg_len[field];
                        tf += weight * raw / norm;
                    }
                }
                if tf > 0.0 {
                    score += idf * tf / (K1 + tf);
                }
            }
            Scored { score, item: candidate.item }
        })
        .collect();
    scored
        .sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| name(&a.item).cmp(name(&b.item))));
    scored.truncate(limit);
    scored
}

fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.binary_search(&word).is_ok()
}

/// Calls `each` with every word of `text`, lowercase: runs of letters and digits (of any
/// script), cut to [`MAX_WORD_CHARS`]; everything else separates words. `buffer` is
/// scratch space, reused to avoid an allocation per word.
fn for_each_word(text: &str, buffer: &mut String, mut each: impl FnMut(&str)) {
    let mut chars = 0;
    buffer.clear();
    for c in text.chars() {
        if c.is_alphanumeric() {
            if chars < MAX_WORD_CHARS {
                if c.is_ascii() {
                    buffer.push(c.to_ascii_lowercase());
                } else {
                    buffer.extend(c.to_lowercase());
                }
                chars += 1;
            }
        } else if c == '\'' && chars > 0 {
            // `let's`, `don't`: the apostrophe joins; it is dropped from the word.
        } else if chars > 0 {
            each(buffer);
            buffer.clear();
            chars = 0;
        }
    }
    if chars > 0 {
        each(buffer);
        buffer.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_are_sorted_for_binary_search() {
        let mut sorted = STOP_WORDS.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, STOP_WORDS);
    }

    /// How `word` of a document matches the words of `query`: (query word, weight).
    #[track_caller]
    fn check_match(query: &str, word: &str, expected: &[(usize, f64)]) {
        let scorer = Scorer::new(query);
        let got: Vec<(usize, f64)> =
            scorer.matches_of(word).iter().map(|&(t, w)| (usize::from(t), f64::from(w))).collect();
        let expected: Vec<(usize, f64)> =
            expected.iter().map(|&(t, w)| (t, f64::from(w as f32))).collect();
        assert_eq!(got, expected, "{query:?} against {word:?}");
    }

    #[test]
    fn how_a_word_matches() {
        // Stems: an exact match.
        check_match("resizing", "resize", &[(0, EXACT)]);
        check_match("backups", "backup", &[(0, EXACT)]);
        check_match("pictures", "picture", &[(0, EXACT)]);
        check_match("deploy", "deployed", &[(0, EXACT)]);
        // One typo in a word of five letters or more; not in a shorter one.
        check_match("postgress", "postgres", &[(0, TYPO)]);
        check_match("reszie", "resize", &[(0, TYPO)]);
        check_match("emial", "email", &[(0, TYPO)]);
        check_match("emil", "email", &[]);
        check_match("pstgrse", "postgres", &[]);
        // The start or the end of a longer word.
        check_match("site", "website", &[(0, PARTIAL)]);
        check_match("config", "configuration", &[(0, PARTIAL)]);
        check_match("post", "postgres", &[(0, PARTIAL)]);
        check_match("postgres", "post", &[]);
        // Numbers only as themselves (the match of a document's number is in `features`).
        check_match("12345", "12354", &[]);
        // Several query words.
        check_match("backup backups", "backup", &[(0, EXACT)]);
        check_match("dump database", "databases", &[(1, EXACT)]);
    }

    #[track_caller]
    fn check_words(text: &str, expected: &[&str]) {
        let mut words = Vec::new();
        for_each_word(text, &mut String::new(), |w| words.push(w.to_owned()));
        assert_eq!(words, expected);
    }

    #[test]
    fn words() {
        check_words("Fix-Issue: pg_dump to S3!", &["fix", "issue", "pg", "dump", "to", "s3"]);
        check_words("let's go", &["lets", "go"]);
        check_words("ÉCOLE Straße", &["école", "straße"]);
        check_words("", &[]);
        check_words(" \t\n-", &[]);
        let long = "x".repeat(100);
        check_words(&long, &["x".repeat(MAX_WORD_CHARS).as_str()]);
    }
}
