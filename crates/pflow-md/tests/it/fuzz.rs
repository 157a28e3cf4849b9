//! Property tests: the parser never panics on arbitrary text or on mutations of the
//! fixtures, and whatever it reads, the writer writes back to the same IR.
//!
//! `PROPTEST_CASES` raises the count (256 by default, bounded for CI).

use pflow_md::{WriteOptions, parse, write};
use proptest::prelude::*;

use crate::fixtures;

fn corpus() -> Vec<String> {
    ["corpus", "guide", "errors"]
        .iter()
        .flat_map(|d| fixtures(d))
        .map(|(_, text, _)| text)
        .collect()
}

/// A mutation of a text: cut, repeat or replace a slice, or insert markdown syntax.
#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Duplicate(usize, usize),
    Insert(usize, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let syntax = prop::sample::select(vec![
        "\n",
        "```",
        "````",
        "~~~",
        "\n## Steps\n",
        "\n### x\n",
        "- ",
        ": ",
        "|",
        ">-",
        "  ",
        "\t",
        "${",
        "}",
        "[",
        "{",
        "\"",
        "'",
        "\n---\n",
        "#",
        "next = 'a'\n",
        "- next: a, b\n",
        "- on-error: x\n",
        "\u{2028}",
        "\r",
        "\u{0}",
    ]);
    prop_oneof![
        (any::<usize>(), 0usize..200).prop_map(|(at, len)| Mutation::Delete(at, len)),
        (any::<usize>(), 0usize..200).prop_map(|(at, len)| Mutation::Duplicate(at, len)),
        (any::<usize>(), syntax).prop_map(|(at, s)| Mutation::Insert(at, s.to_owned())),
        (any::<usize>(), "\\PC{0,12}").prop_map(|(at, s)| Mutation::Insert(at, s)),
    ]
}

fn apply(text: &str, mutation: &Mutation) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = |i: usize| if chars.is_empty() { 0 } else { i % (chars.len() + 1) };
    let mut out = chars.clone();
    match mutation {
        Mutation::Delete(i, len) => {
            let start = at(*i);
            out.drain(start..(start + len).min(chars.len()));
        }
        Mutation::Duplicate(i, len) => {
            let start = at(*i);
            let slice: Vec<char> = chars[start..(start + len).min(chars.len())].to_vec();
            out.splice(start..start, slice);
        }
        Mutation::Insert(i, s) => {
            out.splice(at(*i)..at(*i), s.chars());
        }
    }
    out.into_iter().collect()
}

/// Whatever reads, writes back to itself.
fn check(text: &str) -> Result<(), TestCaseError> {
    let parsed = parse(text);
    for finding in &parsed.findings {
        prop_assert!(!finding.message.is_empty());
    }
    if let Some(ir) = &parsed.ir {
        // A purpose or description that prose cannot hold exactly is the one documented
        // loss; a workflow read from a file never has one.
        if let Ok(written) =
            write(ir, &WriteOptions { title: parsed.title.as_deref(), ..WriteOptions::default() })
        {
            let back = parse(&written);
            prop_assert_eq!(back.ir.as_ref(), Some(ir), "{}", written);
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        check(&text)?;
    }

    #[test]
    fn markdownish_text_never_panics(parts in prop::collection::vec(prop::sample::select(vec![
        "# T\n", "## Steps\n", "## Inputs\n", "## Outputs\n", "## Cache\n", "### a\n", "### b\n", "Prose.\n", "- type: shell\n",
        "- next: a, b\n", "- next: end\n", "- on-error: b\n", "- env:\n", "    K: v\n", "- k: |\n", "  text\n", "```shell command\n",
        "```python code\n", "next = 'b'\n", "```\n", "```cache\n", "${a.x}\n", "- ttl: 5m\n", "\n", "---\n", "- [a, b\n",
    ]), 0..40)) {
        check(&parts.concat())?;
    }

    #[test]
    fn mutated_fixtures_never_panic(index in any::<usize>(), mutations in prop::collection::vec(mutation(), 1..4)) {
        let corpus = corpus();
        let mut text = corpus[index % corpus.len()].clone();
        for m in &mutations {
            text = apply(&text, m);
        }
        check(&text)?;
    }
}
