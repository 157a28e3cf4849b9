//! Ranking saved workflows and node types for a query (SPEC §6.1): lexical and
//! deterministic — BM25F over weighted fields, with stemming, typo tolerance and stop
//! words — so that a library of thousands of workflows can be searched without a network,
//! a model or an API key. docs/context.md explains the choices and gives the evaluation.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

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
///
/// Of a workflow that matches it keeps a few dozen bytes of features (how often each
/// query word occurs in each field, the fields' lengths, the name) and, through this
/// public interface, the summary itself, which [`Ranker::finish`] returns. The ranking
/// of a store ([`rank_saved`](crate::rank_saved)) keeps no summary: it fetches the few
/// winners' summaries once the order is known, so its memory does not grow with the
/// summaries of a library that matches the query everywhere.
#[derive(Debug)]
pub struct Ranker {
    scorer: Scorer,
    candidates: Candidates,
    /// The summaries of `candidates`, in the same order; `None` when the winners are
    /// fetched once the order is known.
    summaries: Option<Vec<Summary>>,
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
            candidates: Candidates::default(),
            summaries: Some(Vec::new()),
            stats: Stats::default(),
            closest: Vec::new(),
            kebab,
        }
    }

    /// A ranker for `query` that keeps no summary: [`Ranker::finish_fetching`] gets the
    /// winners' summaries by name.
    pub(crate) fn fetching(query: &str) -> Ranker {
        Ranker { summaries: None, ..Ranker::new(query) }
    }

    /// Adds one workflow to the ranking.
    pub fn push(&mut self, summary: Summary) {
        let matched = self.scorer.features(
            &summary_fields(&summary),
            &mut self.stats,
            &mut self.candidates,
            summary.name.as_str(),
        );
        if matched {
            if let Some(summaries) = &mut self.summaries {
                summaries.push(summary);
            }
        } else if self.candidates.is_empty() && !self.kebab.is_empty() {
            self.remember_closest(summary.name.as_str());
        }
    }

    /// The ranking of every workflow pushed, and of the node types of `nodes`.
    pub fn finish(self, nodes: &NodeCatalog, limit: usize) -> Ranking {
        self.finish_fetching(nodes, limit, |_| None)
    }

    /// [`Ranker::finish`], for a ranker that kept no summaries: `fetch` gives the
    /// current summary of a winner by name, or `None` when it is gone (then the next
    /// best takes its place). A fetched summary is scored again (with the statistics of
    /// the whole listing), so one that changed since it was pushed is ranked by what it
    /// holds now, and dropped if it no longer matches.
    pub(crate) fn finish_fetching(
        self,
        nodes: &NodeCatalog,
        limit: usize,
        mut fetch: impl FnMut(&str) -> Option<Summary>,
    ) -> Ranking {
        let Ranker { mut scorer, candidates, summaries, stats, closest, .. } = self;
        let matched = candidates.len();
        let ranked = stats.docs;
        let weights = Weights::new(scorer.terms.len(), &candidates, &stats);
        let order = weights.order(&candidates);
        let mut workflows: Vec<Scored<Summary>> = Vec::with_capacity(limit.min(order.len()));
        match summaries {
            Some(summaries) => {
                let mut summaries: Vec<Option<Summary>> = summaries.into_iter().map(Some).collect();
                for &(score, index) in order.iter().take(limit) {
                    let item = summaries[index].take().expect("each candidate is taken once");
                    workflows.push(Scored { score, item });
                }
            }
            None => {
                let mut again = Candidates::default();
                for &(_, index) in &order {
                    if workflows.len() >= limit {
                        break;
                    }
                    let Some(item) = fetch(candidates.name(index)) else { continue };
                    again.clear();
                    let fields = summary_fields(&item);
                    let name = item.name.as_str();
                    if scorer.features(&fields, &mut Stats::default(), &mut again, name) {
                        let score = weights.score(again.cells(0), again.len_of(0));
                        workflows.push(Scored { score, item });
                    }
                }
                // Unchanged summaries score what they scored; a changed one may move.
                workflows.sort_by(|a, b| {
                    b.score.total_cmp(&a.score).then_with(|| a.item.name.cmp(&b.item.name))
                });
            }
        }

        let mut node_stats = Stats::default();
        let mut node_candidates = Candidates::default();
        let mut specs = Vec::new();
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
            if scorer.features(&fields, &mut node_stats, &mut node_candidates, &spec.name) {
                specs.push(spec);
            }
        }
        let node_weights = Weights::new(scorer.terms.len(), &node_candidates, &node_stats);
        let nodes = node_weights
            .order(&node_candidates)
            .into_iter()
            .take(limit)
            .map(|(score, index)| Scored { score, item: specs[index].clone() })
            .collect();

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

/// The fields of a workflow's summary, each with its text.
fn summary_fields(summary: &Summary) -> Vec<(Field, &str)> {
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
    fields
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

/// What the documents that matched (workflows or node types) hold for the query, in
/// flat arrays: per document, the term frequency of each (term, field) cell that is not
/// zero, each field's length in words, and the name. A few dozen bytes per document,
/// never the document itself.
#[derive(Debug, Default)]
struct Candidates {
    /// `(term * FIELDS + field, tf)`, each document's cells in increasing order.
    cells: Vec<(u16, f32)>,
    /// The names, one after another.
    names: String,
    docs: Vec<CandidateDoc>,
}

#[derive(Debug)]
struct CandidateDoc {
    /// Where its cells and its name end in `cells` and `names` (they start where the
    /// previous document's end).
    cells_end: usize,
    name_end: usize,
    len: [u32; FIELDS],
}

impl Candidates {
    fn len(&self) -> usize {
        self.docs.len()
    }

    fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    fn clear(&mut self) {
        self.cells.clear();
        self.names.clear();
        self.docs.clear();
    }

    fn cells(&self, index: usize) -> &[(u16, f32)] {
        let start = if index == 0 { 0 } else { self.docs[index - 1].cells_end };
        &self.cells[start..self.docs[index].cells_end]
    }

    fn name(&self, index: usize) -> &str {
        let start = if index == 0 { 0 } else { self.docs[index - 1].name_end };
        &self.names[start..self.docs[index].name_end]
    }

    fn len_of(&self, index: usize) -> &[u32; FIELDS] {
        &self.docs[index].len
    }

    /// Adds a document from its dense term frequencies (`tf[term * FIELDS + field]`).
    fn push(&mut self, name: &str, tf: &[f32], len: [u32; FIELDS]) {
        for (cell, &tf) in tf.iter().enumerate() {
            if tf > 0.0 {
                let cell = u16::try_from(cell).expect("at most MAX_QUERY_TERMS * FIELDS cells");
                self.cells.push((cell, tf));
            }
        }
        self.names.push_str(name);
        self.docs.push(CandidateDoc {
            cells_end: self.cells.len(),
            name_end: self.names.len(),
            len,
        });
    }
}

/// The collection's statistics turned into what a score needs: each term's IDF and
/// each field's average length.
#[derive(Debug)]
struct Weights {
    idf: Vec<f64>,
    avg_len: [f64; FIELDS],
}

impl Weights {
    fn new(terms: usize, candidates: &Candidates, stats: &Stats) -> Weights {
        let docs = stats.docs.max(1) as f64;
        let avg_len = stats.total_len.map(|total| (total as f64 / docs).max(1.0));
        // Document frequency: how many documents match each term at all.
        let mut df = vec![0usize; terms];
        for index in 0..candidates.len() {
            let mut last = usize::MAX;
            for &(cell, _) in candidates.cells(index) {
                let term = usize::from(cell) / FIELDS;
                if term != last {
                    df[term] += 1;
                    last = term;
                }
            }
        }
        let idf = df
            .iter()
            .map(|&df| (1.0 + (docs - df as f64 + 0.5) / (df as f64 + 0.5)).ln())
            .collect();
        Weights { idf, avg_len }
    }

    /// The BM25F score of one document: per term, the weighted, length-normalised
    /// frequencies of its fields summed, saturated and multiplied by the term's IDF.
    fn score(&self, cells: &[(u16, f32)], len: &[u32; FIELDS]) -> f64 {
        let mut score = 0.0;
        let mut cells = cells.iter().peekable();
        while let Some(&&(first, _)) = cells.peek() {
            let term = usize::from(first) / FIELDS;
            let mut tf = 0.0;
            while let Some(&(cell, raw)) = cells.next_if(|(c, _)| usize::from(*c) / FIELDS == term)
            {
                let field = usize::from(cell) % FIELDS;
                let (weight, b) = FIELD_PARAMS[field];
                let norm = 1.0 - b + b * f64::from(len[field]) / self.avg_len[field];
                tf += weight * f64::from(raw) / norm;
            }
            if tf > 0.0 {
                score += self.idf[term] * tf / (K1 + tf);
            }
        }
        score
    }

    /// Every candidate's score and index, best first; equal scores by name.
    fn order(&self, candidates: &Candidates) -> Vec<(f64, usize)> {
        let mut order: Vec<(f64, usize)> = (0..candidates.len())
            .map(|index| (self.score(candidates.cells(index), candidates.len_of(index)), index))
            .collect();
        order.sort_by(|a, b| {
            b.0.total_cmp(&a.0).then_with(|| candidates.name(a.1).cmp(candidates.name(b.1)))
        });
        order
    }
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
    cache: HashMap<String, Box<[(u16, f32)]>, FnvBuild>,
    /// Scratch: the lowercase word being read.
    word: String,
    /// Scratch: the term frequencies of the document being read,
    /// `tf[term * FIELDS + field]`.
    tf: Vec<f32>,
}

/// FNV-1a, the hash of the word cache: every word of every summary is looked up once, and
/// std's SipHash, made to resist collisions an attacker chooses, cost about 5% of a
/// query over a whole library. The words come from the user's own store, and a collision
/// costs time, never a wrong result.
#[derive(Debug, Clone, Copy)]
struct Fnv(u64);

type FnvBuild = BuildHasherDefault<Fnv>;

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
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
        let tf = vec![0.0; terms.len() * FIELDS];
        Scorer {
            terms,
            stemmer: StemmerBox(stemmer),
            cache: HashMap::default(),
            word: String::new(),
            tf,
        }
    }

    /// Reads one document, counted into `stats`; when a word of it matches the query,
    /// adds its features to `candidates` under `name` and returns true.
    fn features(
        &mut self,
        fields: &[(Field, &str)],
        stats: &mut Stats,
        candidates: &mut Candidates,
        name: &str,
    ) -> bool {
        stats.docs += 1;
        let mut len = [0u32; FIELDS];
        let mut matched = false;
        let terms = self.terms.len();
        let mut word = std::mem::take(&mut self.word);
        let mut tf = std::mem::take(&mut self.tf);
        for &(field, text) in fields {
            let f = field as usize;
            for_each_word(text, &mut word, |w| {
                len[f] = len[f].saturating_add(1);
                if terms == 0 {
                    return;
                }
                let mut count = |matches: &[(u16, f32)]| {
                    for &(term, weight) in matches {
                        tf[usize::from(term) * FIELDS + f] += weight;
                        matched = true;
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
        if matched {
            candidates.push(name, &tf, len);
            tf.fill(0.0);
        }
        self.tf = tf;
        matched
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

    fn summary(name: &str, description: &str) -> Summary {
        let doc: pflow_ir::Document = serde_json::from_value(serde_json::json!({
            "name": name, "description": description,
            "ir": { "ir_version": "0.1.0", "nodes": [] },
            "created_at": "2025-01-29T10:00:00Z", "updated_at": "2025-01-29T10:00:00Z",
            "version": "1.0.0", "revision": 1,
        }))
        .expect("a valid document");
        Summary::of(&doc)
    }

    fn names(ranking: &Ranking) -> Vec<(&str, f64)> {
        ranking.workflows.iter().map(|s| (s.item.name.as_str(), s.score)).collect()
    }

    #[test]
    fn winners_fetched_afterwards_rank_as_kept_ones() {
        let library = [
            summary("backup-postgres", "Dump a postgres database to S3"),
            summary("backup-mysql", "Dump a MySQL database"),
            summary("restore-postgres", "Load a postgres dump"),
            summary("hello", "Says hello"),
        ];
        let kept = rank("postgres dump", library.clone(), &NodeCatalog::default(), 2);
        let mut fetching = Ranker::fetching("postgres dump");
        for s in library.clone() {
            fetching.push(s);
        }
        let mut asked = Vec::new();
        let fetched = fetching.finish_fetching(&NodeCatalog::default(), 2, |name| {
            asked.push(name.to_owned());
            library.iter().find(|s| s.name.as_str() == name).cloned()
        });
        assert_eq!(fetched, kept);
        assert_eq!(asked.len(), 2, "only the winners are fetched: {asked:?}");
    }

    #[test]
    fn a_winner_gone_or_changed_by_the_fetch_gives_way() {
        let library = [
            summary("backup-postgres", "Dump a postgres database to S3"),
            summary("backup-mysql", "Dump a MySQL database"),
            summary("restore-postgres", "Load a postgres dump"),
        ];
        let full = rank("postgres dump", library.clone(), &NodeCatalog::default(), 3);
        let order: Vec<&str> = names(&full).into_iter().map(|(n, _)| n).collect();
        let mut fetching = Ranker::fetching("postgres dump");
        for s in library.clone() {
            fetching.push(s);
        }
        // The best one was deleted, the second changed (its name still matches), the
        // third is unchanged.
        let (gone, changed) = (order[0], order[1]);
        let ranking = fetching.finish_fetching(&NodeCatalog::default(), 2, |name| {
            if name == gone {
                None
            } else if name == changed {
                Some(summary(changed, "Nothing to do with it"))
            } else {
                library.iter().find(|s| s.name.as_str() == name).cloned()
            }
        });
        let got = names(&ranking);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got.iter().all(|(n, _)| *n != gone), "{got:?}");
        assert!(got.contains(&names(&full)[2]), "unchanged: the same score {got:?}");
        let (_, rescored) = got.iter().find(|(n, _)| *n == changed).expect("still matches");
        assert!(*rescored < names(&full)[1].1, "scored by what it holds now: {got:?}");
        assert!(got[0].1 >= got[1].1, "in order: {got:?}");
        assert_eq!(ranking.matched, 3, "the listing's figures stay");
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
