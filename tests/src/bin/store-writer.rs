//! Test helper for the crash test F1: loops save / update / restore / delete / restore
//! from the trash / purge through the store library until it is killed, announcing each
//! step on stdout.
//!
//! Usage: `store-writer HOME FIRST_VALUE PADDING`. Each step picks one of the workflows
//! `f1-a`, `f1-b` and `f1-c` and an operation, pseudo-randomly from a generator seeded
//! with FIRST_VALUE: one that exists is updated, restored to an earlier revision, or
//! deleted (moved to the trash); one that is absent is saved anew, restored from the
//! trash, or its trash entries are purged. Every saved content carries a unique `value`
//! (counting up from FIRST_VALUE) and PADDING bytes of filler, so that a torn write is
//! easy to produce and to see.
//!
//! Protocol on stdout, one line each, flushed at once: `ready` after start-up, then
//! `begin OP NAME ARG` before a mutation and `ack OP NAME ARG` after it returned. OP and
//! ARG: `save VALUE`, `update VALUE`, `restore REVISION`, `delete -`, `untrash -`,
//! `purge -`. Any store error ends the process with exit code 3 and the error on stderr.
//! It stops by itself after 100 000 steps, so that it never outlives a test that lost
//! track of it.

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;

use pflow_ir::WorkflowIr;
use pflow_store::{FsStore, IfCalled, StoreError, WorkflowManager};

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
    let mut rng = fastrand::Rng::with_seed(first);
    say("ready");
    for step in 0..MAX_STEPS {
        let name = NAMES[rng.usize(..NAMES.len())];
        let value = first + step;
        let roll = rng.u32(..100);
        match manager.load(name) {
            Ok(_) if roll < 35 => {
                announce("delete", name, "-", || manager.delete(name, IfCalled::Refuse).map(drop))?;
            }
            Ok(doc) if roll < 50 && doc.revision > 1 => {
                let revision = rng.u64(1..doc.revision);
                let arg = revision.to_string();
                announce("restore", name, &arg, || {
                    manager.restore_revision(name, revision, Some(doc.revision)).map(drop)
                })?;
            }
            Ok(doc) => {
                announce("update", name, &value.to_string(), || {
                    let ir = ir(value, padding);
                    manager.update(name, &ir, "f1 crash test", doc.revision).map(drop)
                })?;
            }
            Err(StoreError::WorkflowNotFound { .. }) => {
                let trashed = manager.trash()?.entries.iter().any(|e| e.name.as_str() == name);
                if trashed && roll < 50 {
                    announce("untrash", name, "-", || manager.restore_trashed(name).map(drop))?;
                } else if trashed && roll < 65 {
                    announce("purge", name, "-", || manager.purge(Some(name), None).map(drop))?;
                } else {
                    announce("save", name, &value.to_string(), || {
                        manager.create(name, &ir(value, padding), "f1 crash test").map(drop)
                    })?;
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Says `begin …`, runs the mutation, says `ack …`.
fn announce(
    op: &str,
    name: &str,
    arg: &str,
    mutation: impl FnOnce() -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    say(&format!("begin {op} {name} {arg}"));
    mutation()?;
    say(&format!("ack {op} {name} {arg}"));
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
