//! Parsing a 200-step `.pflow.md` (SPEC §8 via issue 21: ≤ 1 ms), and writing it back.
//!
//! `cargo bench -p pflow-md --bench parse`.

fn main() {
    divan::main();
}

/// A workflow of `steps` steps: shell commands in blocks, prompts, params and an input.
fn workflow(steps: usize) -> String {
    let mut text = String::from(
        "# Bench\n\nA long workflow.\n\n## Inputs\n\n### name\n\nWho to greet.\n\n- type: string\n- required: true\n\n## Steps\n\n",
    );
    for i in 0..steps {
        text.push_str(&format!(
            "### step-{i}\n\nStep {i} greets ${{name}} and passes the text on.\n\n- type: shell\n- timeout: 30\n- env: {{GREETING: \"hi\", N: {i}}}\n\n```shell command\necho \"step {i}: ${{name}}\" | tr a-z A-Z\n```\n\n"
        ));
    }
    text.push_str("## Outputs\n\n### result\n\nThe last text.\n\n- source: ${step-0.stdout}\n");
    text
}

#[divan::bench]
fn parse_200_steps(bencher: divan::Bencher<'_, '_>) {
    let text = workflow(200);
    bencher.bench(|| pflow_md::parse(divan::black_box(&text)));
}

#[divan::bench]
fn write_200_steps(bencher: divan::Bencher<'_, '_>) {
    let ir = pflow_md::parse(&workflow(200)).ir.expect("the bench workflow is valid");
    bencher.bench(|| pflow_md::write(divan::black_box(&ir), &pflow_md::WriteOptions::default()));
}
