//! Test helper for the crash test F1: loops save / update / delete through the store
//! library until it is killed, announcing each step on stdout.
//!
//! Usage: `store-writer HOME FIRST_VALUE PADDING`. It cycles over the workflows `f1-a`,
//! `f1-b` and `f1-c`: one that is absent is saved, one that exists is updated (and every
//! fourth step deleted). Each document carries a unique `value` (counting up from
//! FIRST_VALUE) and PADDING bytes of filler, so that a torn write is easy to produce and
//! to see. Protocol on stdout, one line each, flushed at once: `ready` after start-up,
//! then `begin OP NAME VALUE` before a mutation and `ack OP NAME VALUE` after it returned
//! (OP is `save`, `update` or `delete`; VALUE is `-` for a delete). Any store error ends
//! the process with exit code 3 and the error on stderr. It stops by itself after
//! 100 000 steps, so that it never outlives a test that lost track of it.

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;

use pflow_ir::WorkflowIr;
use pflow_store::{FsStore, StoreError, WorkflowManager};

const NAMES: [&str; 3] = ["f1-a", "f1-b", "f1-c"];
const MAX_STEPS: u64 = 100_000;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [home, first, padding] = args.as_slice() else {
        return usage();
    };
    let (Ok(first), Ok(padding)) = (first.parse::<u64>(), padding.parse::<usize>()) else {
        return usage();
    };
    let manager = WorkflowManager::new(Arc::new(FsStore::new(home)));
    match run(&manager, first, padding) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "store-writer: {e}");
            ExitCode::from(3)
        }
    }
}

fn run(manager: &WorkflowManager, first: u64, padding: usize) -> Result<(), StoreError> {
    say("ready");
    for step in 0..MAX_STEPS {
        let name = NAMES[(step % 3) as usize];
        let value = first + step;
        match manager.load(name) {
            Err(StoreError::WorkflowNotFound { .. }) => {
                say(&format!("begin save {name} {value}"));
                manager.save(name, &ir(value, padding), "f1 crash test")?;
                say(&format!("ack save {name} {value}"));
            }
            Ok(_) if step % 4 == 3 => {
                say(&format!("begin delete {name} -"));
                manager.delete(name)?;
                say(&format!("ack delete {name} -"));
            }
            Ok(doc) => {
                say(&format!("begin update {name} {value}"));
                manager.update(name, &ir(value, padding), "f1 crash test", doc.revision)?;
                say(&format!("ack update {name} {value}"));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A one-node workflow carrying `value` and `padding` bytes of filler.
fn ir(value: u64, padding: usize) -> WorkflowIr {
    let json = serde_json::json!({
        "ir_version": "0.1.0",
        "nodes": [{
            "id": "n",
            "type": "echo",
            "params": { "message": value, "padding": "x".repeat(padding) }
        }]
    });
    serde_json::from_value(json).expect("the helper's IR has the right shape")
}

/// Writes one protocol line and flushes it, so the test sees it even after a SIGKILL.
fn say(line: &str) {
    let mut out = io::stdout().lock();
    // A closed stdout means the test is gone; there is no one left to tell.
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

fn usage() -> ExitCode {
    let _ = writeln!(io::stderr(), "usage: store-writer HOME FIRST_VALUE PADDING");
    ExitCode::from(2)
}
