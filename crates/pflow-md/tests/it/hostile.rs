//! RELIABILITY R8: huge files, many headings, unterminated fences and deep nesting give
//! findings, never a panic or a stack overflow.

use pflow_md::{Severity, parse};

/// Runs `f` on a thread with a 2 MiB stack, as the tests of the JSON parser do.
fn small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no panic")
}

fn errors(text: &str) -> Vec<(Option<usize>, String)> {
    parse(text)
        .findings
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| (f.line, f.message))
        .collect()
}

#[test]
fn an_unterminated_fence_is_one_finding_at_its_line() {
    let text = format!(
        "# W\n\n## Steps\n\n### a\n\nDoes a.\n\n- type: shell\n\n```shell command\n{}",
        "echo\n".repeat(100_000)
    );
    assert_eq!(errors(&text), [(Some(11), "unclosed code block".to_owned())]);
}

#[test]
fn ten_thousand_headings_and_ten_megabytes() {
    let mut text = String::from("# W\n\n## Steps\n\n");
    for i in 0..10_000 {
        text.push_str(&format!("### s{i}\n\nStep {i}.\n\n- type: shell\n- command: echo {i}\n\n"));
    }
    let parsed = parse(&text);
    assert_eq!(parsed.ir.expect("valid")["nodes"].as_array().map(Vec::len), Some(10_000));
    let big = format!(
        "# W\n\n## Steps\n\n### a\n\n{}\n- type: shell\n",
        "prose line that goes on\n".repeat(450_000)
    );
    assert!(big.len() > 10_000_000);
    assert!(parse(&big).is_ok());
}

#[test]
fn deep_nesting_is_a_finding_not_an_overflow() {
    let found = small_stack(|| {
        let deep = format!(
            "# W\n\n## Steps\n\n### a\n\nDoes a.\n\n- type: shell\n- env: {}\n",
            "[".repeat(100_000)
        );
        let block = format!(
            "# W\n\n## Steps\n\n### a\n\nDoes a.\n\n- type: shell\n\n```yaml stdin\n{}\n```\n",
            "- ".repeat(50_000)
        );
        let code = format!(
            "# W\n\n## Steps\n\n### a\n\nDoes a.\n\n- type: code\n\n```python code\nx = {}\n```\n",
            "(".repeat(100_000)
        );
        [errors(&deep).len(), errors(&block).len(), errors(&code).len()]
    });
    assert_eq!(found, [1, 1, 1]);
}
