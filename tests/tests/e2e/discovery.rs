//! Discovery at scale through the built binary: `workflow list --json` streams in flat
//! memory, and a query never serves what the index held before another process edited a
//! file in place.

use std::fs::{self, FileTimes, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use pflow_tests::TestHome;

/// Writes `n` small stored documents straight into the store, as another tool would.
fn fill(home: &TestHome, n: usize) {
    let dir = home.workflows();
    fs::create_dir_all(&dir).unwrap();
    for i in 0..n {
        let name = format!("wf-{i:06}");
        let doc = serde_json::json!({
            "name": name,
            "description": format!("Generated workflow number {i}; echoes its word with one shell step."),
            "ir": {
                "ir_version": "0.1.0",
                "inputs": { "word": { "type": "string", "required": false, "default": "w",
                                      "description": "Word to echo back." } },
                "outputs": { "out": { "source": "${echo.stdout}", "description": "What it printed." } },
                "nodes": [{ "id": "echo", "type": "shell", "params": { "command": "echo ${word}" } }],
            },
            "created_at": "2025-01-29T10:00:00Z", "updated_at": "2025-01-29T10:00:00Z",
            "version": "1.0.0", "revision": 1,
        });
        let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
        fs::write(dir.join(format!("{name}.json")), text).unwrap();
    }
}

/// The peak resident memory (`VmHWM`, KiB) of a `pflow workflow list --json` run over
/// this home, sampled when all but the last `tail` bytes of its `expected` bytes of
/// output were read: the reader then stops until it has the sample, so the process is
/// still alive (blocked on the full pipe) with nearly all of its work done.
fn peak_kib_of_listing(home: &TestHome, expected: usize, tail: usize) -> u64 {
    let mut child = home
        .command(["workflow", "list", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status_path = format!("/proc/{}/status", child.id());
    let mut stdout = child.stdout.take().unwrap();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut read = 0usize;
    let mut peak = None;
    loop {
        if peak.is_none() && read + tail >= expected {
            let status = fs::read_to_string(&status_path).expect("the listing is still running");
            let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("a VmHWM line");
            let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
            peak = Some(kib);
        }
        let n = stdout.read(&mut buffer).unwrap();
        if n == 0 {
            break;
        }
        read += n;
    }
    assert!(child.wait().unwrap().success());
    assert_eq!(read, expected, "the warm listing printed what the cold one did");
    peak.expect("sampled before the end")
}

/// Lists `n` workflows twice (the first builds the index) and returns the peak memory
/// of the second, in KiB.
fn warm_listing_peak(n: usize) -> u64 {
    let home = TestHome::new();
    fill(&home, n);
    let cold = home.command(["workflow", "list", "--json"]).output().unwrap();
    assert!(cold.status.success());
    // 512 KiB: more than the pipe and the printer's buffer hold, so the process is
    // blocked writing, not finished, when the sample is taken.
    peak_kib_of_listing(&home, cold.stdout.len(), 512 * 1024)
}

/// `PFLOW_FLAT_MEMORY_COUNT` workflows (20 000 unless set) are listed in about the memory
/// of a tenth as many: the listing is streamed from the index and printed as it comes,
/// never held whole. On the code before streaming, the difference was about 1 KiB per
/// workflow (the index decoded into a map, then every summary).
#[test]
fn list_json_streams_in_flat_memory() {
    let n: usize = std::env::var("PFLOW_FLAT_MEMORY_COUNT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let small = warm_listing_peak(n / 10);
    let large = warm_listing_peak(n);
    let growth = large.saturating_sub(small);
    assert!(
        growth <= 4 * 1024,
        "peak memory grew by {growth} KiB from {} to {n} workflows ({small} -> {large} KiB)",
        n / 10
    );
    assert!(large <= 32 * 1024, "peak memory {large} KiB with {n} workflows");
}

/// Whether the index vouches for `file` by its fingerprint alone.
fn trusted_in_index(home: &Path, file: &str) -> bool {
    let Ok(bytes) = fs::read(home.join("workflows/.index.json")) else { return false };
    let Ok(index) = serde_json::from_slice::<serde_json::Value>(&bytes) else { return false };
    index["records"]
        .as_array()
        .is_some_and(|r| r.iter().any(|r| r["file"] == file && r["trusted"] == true))
}

#[test]
fn a_query_sees_an_edit_made_in_place_by_another_process() {
    let home = TestHome::new();
    fill(&home, 3);
    let path = home.workflows().join("wf-000001.json");
    // List until the index vouches for the file by its fingerprint.
    let start = Instant::now();
    while !trusted_in_index(home.path(), "wf-000001.json") {
        assert!(home.run(["workflow", "list", "--json"]).code == 0);
        assert!(start.elapsed() < Duration::from_secs(30), "the index never trusted the file");
    }
    let found = home.run(["workflow", "list", "--query", "kangaroo", "--json"]);
    assert_eq!(found.stdout.trim(), "[]", "{}", found.transcript());
    // This process rewrites the file in place: same size, modification time put back.
    let before = fs::read_to_string(&path).unwrap();
    let after = before.replace("Generated workflow number 1;", "Kangaroos workflow number 1;");
    assert_eq!(after.len(), before.len());
    let mtime = fs::metadata(&path).unwrap().modified().unwrap();
    let mut file = OpenOptions::new().write(true).open(&path).unwrap();
    file.write_all(after.as_bytes()).unwrap();
    file.set_times(FileTimes::new().set_modified(mtime)).unwrap();
    drop(file);
    let run = home.run(["workflow", "list", "--query", "kangaroos"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(run.stdout.contains("wf-000001"), "{}", run.transcript());
    let run = home.run(["context", "discover", "--query", "kangaroo"]);
    assert!(run.stdout.contains("- `wf-000001` (workflow): Kangaroos workflow"), "{}", run.stdout);
}
