//! Runtime overhead per node: a chain of 10 000 `echo` nodes, each passing the previous
//! node's message on through a template (SPEC §8: ≤ 10 µs per node).
//!
//! `cargo bench -p pflow-exec --bench chain`; divide the median by the node count.

use pflow_exec::Runtime;
use pflow_ir::{Edge, Node, WorkflowIr};
use pflow_store::Origin;
use serde_json::{Map, json};

fn main() {
    divan::main();
}

/// A linear chain of `len` echo nodes; node `i` echoes `${n{i-1}.message}`.
fn echo_chain(len: usize) -> WorkflowIr {
    let nodes = (0..len)
        .map(|i| {
            let message =
                if i == 0 { json!("hello") } else { json!(format!("${{n{}.message}}", i - 1)) };
            let mut params = Map::new();
            params.insert("message".to_owned(), message);
            Node::new(format!("n{i}"), "echo", params)
        })
        .collect();
    let edges = (1..len)
        .map(|i| Edge { from: format!("n{}", i - 1), to: format!("n{i}"), action: None })
        .collect();
    WorkflowIr {
        ir_version: "0.1.0".to_owned(),
        inputs: Default::default(),
        outputs: Default::default(),
        nodes,
        edges,
        start_node: None,
    }
}

#[divan::bench(args = [100, 10_000], sample_count = 20)]
fn run_echo_chain(bencher: divan::Bencher<'_, '_>, len: usize) {
    let runtime = Runtime::builtin();
    let checked = pflow_ir::validate_ir(echo_chain(len), Some(runtime.catalog()));
    let (ir, _warnings) = checked.into_valid().expect("the chain is valid");
    bencher.counter(divan::counter::ItemsCount::new(len)).bench(|| {
        let out = runtime.run(&ir, Map::new(), &Origin::Inline).expect("the chain runs");
        assert_eq!(out.nodes_run, len);
        out
    });
}
