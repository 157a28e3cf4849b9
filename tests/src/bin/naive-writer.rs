//! Test helper for the control run of the crash test F1: rewrites workflow documents in
//! place with a plain `fs::write`, the way a careless store would, until it is killed.
//!
//! Usage: `naive-writer HOME PADDING`. It writes `HOME/workflows/f1-{a,b,c}.json` in turn,
//! each a complete stored document with PADDING bytes of filler, and prints `ready` once
//! it has started. Killing it mid-write leaves a truncated or empty file, which is what
//! the control run must detect to prove that the crash harness can see corruption.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use pflow_ir::{Document, Timestamp, WorkflowIr, WorkflowName};

const NAMES: [&str; 3] = ["f1-a", "f1-b", "f1-c"];
const MAX_STEPS: u64 = 1_000_000;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [home, padding] = args.as_slice() else {
        return usage();
    };
    let Ok(padding) = padding.parse::<usize>() else {
        return usage();
    };
    let dir = PathBuf::from(home).join("workflows");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        let _ = writeln!(io::stderr(), "naive-writer: cannot create {}: {e}", dir.display());
        return ExitCode::from(3);
    }
    let _ = writeln!(io::stdout(), "ready").and_then(|()| io::stdout().flush());
    for step in 0..MAX_STEPS {
        let name = NAMES[(step % 3) as usize];
        let text = document(name, step, padding).to_pretty_json();
        let path = dir.join(format!("{name}.json"));
        if let Err(e) = std::fs::write(&path, text) {
            let _ = writeln!(io::stderr(), "naive-writer: cannot write {}: {e}", path.display());
            return ExitCode::from(3);
        }
    }
    ExitCode::SUCCESS
}

fn document(name: &str, value: u64, padding: usize) -> Document {
    let json = serde_json::json!({
        "ir_version": "0.1.0",
        "nodes": [{
            "id": "n",
            "type": "echo",
            "params": { "message": value, "padding": "x".repeat(padding) }
        }]
    });
    let ir: WorkflowIr = serde_json::from_value(json).expect("the helper's IR has the right shape");
    let name = WorkflowName::new(name).expect("the helper's names are valid");
    Document::new(name, "f1 control run".to_owned(), ir, Timestamp::now())
}

fn usage() -> ExitCode {
    let _ = writeln!(io::stderr(), "usage: naive-writer HOME PADDING");
    ExitCode::from(2)
}
