//! The IR of every fixture equals 0.16's; where 0.16 refused a file, so do we, with an
//! error at the line 0.16 named.

use pflow_md::{Severity, parse};
use serde_json::Value;

use crate::fixtures;

#[track_caller]
fn check_dir(dir: &str) -> (usize, usize) {
    let mut failures = Vec::new();
    let (mut read, mut refused) = (0, 0);
    for (path, text, expected) in fixtures(dir) {
        let name = path.file_name().expect("a file").to_string_lossy().into_owned();
        let parsed = parse(&text);
        if let Some(error) = expected.get("error") {
            refused += 1;
            let errors: Vec<_> =
                parsed.findings.iter().filter(|f| f.severity == Severity::Error).collect();
            if parsed.ir.is_some() || errors.is_empty() {
                failures.push(format!("{name}: 0.16 refused it ({error}), we read it"));
                continue;
            }
            if let Some(line) = error["line"].as_u64() {
                let line = usize::try_from(line).expect("a line fits");
                // Ours may be more precise: at the item or the YAML line inside the entity
                // 0.16 names by its heading, so at or after its line, before the next heading.
                let heading_between = |to: usize| {
                    text.lines().skip(line).take(to.saturating_sub(line)).any(|l| {
                        l.trim_start().starts_with("## ") || l.trim_start().starts_with("### ")
                    })
                };
                if !errors
                    .iter()
                    .any(|f| f.line.is_some_and(|l| l == line || (l > line && !heading_between(l))))
                {
                    failures.push(format!(
                        "{name}: 0.16's error is at line {line} ({}), ours: {errors:?}",
                        error["message"]
                    ));
                }
            }
            continue;
        }
        read += 1;
        let Some(ir) = parsed.ir.clone() else {
            failures.push(format!("{name}: 0.16 read it, we refused it: {:?}", parsed.findings));
            continue;
        };
        if Value::Object(ir.clone()) != expected["ir"] {
            failures.push(format!(
                "{name}: IR differs\n ours: {}\n 0.16: {}",
                serde_json::to_string(&ir).expect("json"),
                serde_json::to_string(&expected["ir"]).expect("json")
            ));
        }
        let text_field =
            |v: &Option<String>| v.as_ref().map_or(Value::Null, |s| Value::String(s.clone()));
        if text_field(&parsed.title) != expected["title"]
            || text_field(&parsed.description) != expected["description"]
        {
            failures.push(format!(
                "{name}: title or description differs: {:?} {:?}",
                parsed.title, parsed.description
            ));
        }
        let front = parsed.front_matter.clone().map_or(Value::Null, Value::Object);
        if front != expected["metadata"] {
            failures
                .push(format!("{name}: front matter differs: {front} vs {}", expected["metadata"]));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of the fixtures in {dir}/ differ from 0.16:\n{}",
        failures.len(),
        failures.join("\n")
    );
    (read, refused)
}

#[test]
fn corpus_reads_as_0_16_reads_it() {
    let (read, refused) = check_dir("corpus");
    assert!(read >= 9, "{read} read");
    assert_eq!(refused, 0);
}

#[test]
fn guide_examples_read_as_0_16_reads_them() {
    let (read, refused) = check_dir("guide");
    eprintln!("guide examples: {read} read, {refused} refused alike [{read} + {refused}]");
    assert!(read >= 30, "{read} read");
}

#[test]
fn every_0_16_parse_error_is_caught() {
    let (read, refused) = check_dir("errors");
    assert_eq!(read, 0, "an error fixture that 0.16 reads");
    assert!(refused >= 38, "{refused} refused");
}

#[test]
fn findings_carry_line_path_and_hint_all_at_once() {
    let text = "# W\n\n## Steps\n\n### a\n\n- type: shell\n\n### b\n\nDoes b.\n\n- command: \"echo\n\n### Bad\n\nBad id.\n\n- type: x\n";
    let parsed = parse(text);
    assert!(parsed.ir.is_none());
    let got: Vec<(Option<usize>, &str)> =
        parsed.findings.iter().map(|f| (f.line, f.path.as_str())).collect();
    assert_eq!(
        got,
        [
            (Some(5), "nodes[0]"),
            (Some(9), "nodes[1]"),
            (Some(13), "nodes[1].params.command"),
            (Some(15), "")
        ],
        "{:#?}",
        parsed.findings
    );
    assert!(parsed.findings.iter().all(|f| f.hint.is_some()));
}

#[test]
fn ir_paths_map_back_to_lines() {
    let (_, text, _) = fixtures("corpus")
        .into_iter()
        .find(|(p, _, _)| p.ends_with("params.pflow.md"))
        .expect("params fixture");
    let parsed = parse(&text);
    assert!(parsed.is_ok(), "{:?}", parsed.findings);
    let line_of = |needle: &str| text.lines().position(|l| l.starts_with(needle)).map(|i| i + 1);
    assert_eq!(parsed.line_of("nodes[0]"), line_of("### fetch"));
    assert_eq!(parsed.line_of("nodes[0].params.url"), line_of("- url:"));
    assert_eq!(parsed.line_of("nodes[0].params.headers.Accept"), line_of("- headers:"));
    assert_eq!(parsed.line_of("nodes[0].type"), line_of("- type: http"));
    assert_eq!(parsed.line_of("nodes[1].params.command"), line_of("```shell command"));
    assert_eq!(parsed.line_of("inputs.limit.default"), line_of("- default: 10"));
    assert_eq!(parsed.line_of("outputs.raw.source"), line_of("```text source"));
    assert_eq!(parsed.line_of("edges[0]"), line_of("### fetch"));
}

#[test]
fn warnings_do_not_block() {
    let text = "# W\n\n## Step\n\n### lost\n\nLost.\n\n- type: shell\n\n## Notes\n\n### also-lost\n\nx\n\n## Steps\n\nstray prose\n\n### a\n\nDoes a.\n\n- type: shell\n";
    let parsed = parse(text);
    assert!(parsed.is_ok(), "{:?}", parsed.findings);
    let warnings: Vec<Option<usize>> = parsed.findings.iter().map(|f| f.line).collect();
    assert_eq!(warnings, [Some(3), Some(11), Some(19)], "{:#?}", parsed.findings);
    assert!(parsed.findings.iter().all(|f| f.severity == Severity::Warning));
}
