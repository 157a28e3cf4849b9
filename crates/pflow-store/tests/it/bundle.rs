//! Bundles at the library level: hostile bundle text refused with a clear error before
//! anything is written, and imports on the simulated filesystem with the n-th call
//! failing or the power cut before it — every workflow whole afterwards, and the same
//! import run again completes it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use pflow_store::sim::{PowerLoss, SimFs};
use pflow_store::{
    Bundle, ExportOptions, FsStore, ImportOptions, MAX_BUNDLE_BYTES, MemoryStore, OnConflict,
    StoreError, WorkflowManager,
};
use serde_json::{Value, json};

use crate::common::{SIM_HOME, calling, ir};

/// A small, valid bundle as JSON, to be damaged.
fn sample() -> Value {
    let m = WorkflowManager::new(Arc::new(MemoryStore::new()));
    m.create("leaf", &ir(1), "leaf").unwrap();
    m.update("leaf", &ir(2), "leaf 2", 1).unwrap();
    m.create("top", &calling("leaf"), "top").unwrap();
    let options = ExportOptions { with_callees: true, history: true, exported_by: "t".into() };
    let (bundle, _) = m.export(&["top"], &options).unwrap();
    serde_json::from_str(&bundle.to_json()).unwrap()
}

#[track_caller]
fn refused(text: &[u8], expected: &str) {
    let err = Bundle::from_json(text).expect_err("a hostile bundle was read");
    let message = err.to_string();
    assert!(message.contains(expected), "{message:?} does not say {expected:?}");
    assert!(
        matches!(err, StoreError::BadBundle { .. } | StoreError::BundleTooNew { .. }),
        "{err:?}"
    );
}

#[track_caller]
fn refused_value(value: &Value, expected: &str) {
    refused(value.to_string().as_bytes(), expected);
}

#[test]
fn hostile_bundles_are_refused_with_a_clear_error() {
    let text = serde_json::to_string_pretty(&sample()).unwrap();
    Bundle::from_json(text.as_bytes()).expect("the sample reads");
    // Truncated anywhere, empty, random bytes, invalid UTF-8, not an object.
    for cut in [0, 1, text.len() / 3, text.len() / 2, text.len() - 2] {
        refused(&text.as_bytes()[..cut], "invalid JSON");
    }
    refused(b"\x00\xff\xfe garbage", "invalid JSON");
    refused(b"{\"format\": \"pflow-bundle\xff\"}", "invalid JSON");
    refused(b"[1, 2]", "invalid JSON");
    // Not a bundle, or of another version.
    let mut v = sample();
    v["format"] = json!("zip");
    refused_value(&v, "its format is `zip`, not `pflow-bundle`");
    v.as_object_mut().unwrap().remove("format");
    refused_value(&v, "no `format` field");
    let mut v = sample();
    v["format_version"] = json!(2);
    refused_value(&v, "the bundle is of format version 2, newer than the version 1");
    for bad in [json!("1"), json!(0), json!(-1), json!(1.5), Value::Null] {
        v["format_version"] = bad.clone();
        refused_value(&v, "no `format_version` that is a positive whole number");
    }
    // A newer version is named as such even when the rest has a shape of its own.
    refused(
        br#"{"format": "pflow-bundle", "format_version": 9, "workflows": {"new": "shape"}}"#,
        "format version 9",
    );
    // Names that are paths, or otherwise not names, anywhere a name is.
    for hostile in ["../evil", "a/b", "/etc/passwd", "a\\b", "Hello", "x.json", ""] {
        let mut v = sample();
        v["workflows"][0]["document"]["name"] = json!(hostile);
        refused_value(&v, "invalid workflow name");
        let mut v = sample();
        v["workflows"][0]["history"][0]["name"] = json!(hostile);
        refused_value(&v, "invalid workflow name");
    }
    // A name twice; a history of another workflow, or out of order.
    let mut v = sample();
    let first = v["workflows"][0].clone();
    v["workflows"].as_array_mut().unwrap().push(first);
    refused_value(&v, "workflow `leaf` is in it twice");
    let mut v = sample();
    v["workflows"][0]["history"][0]["name"] = json!("top");
    refused_value(&v, "the history of `leaf` holds a revision of another workflow");
    let mut v = sample();
    v["workflows"][0]["history"][0]["created_at"] = json!("2020-01-01T00:00:00Z");
    refused_value(&v, "the history of `leaf` holds a revision of another workflow");
    let mut v = sample();
    v["workflows"][0]["history"][0]["revision"] = json!(5);
    refused_value(&v, "is not in order of revision");
    // A document that is not one.
    let mut v = sample();
    v["workflows"][0]["document"]["ir"] = json!("not an ir");
    refused_value(&v, "invalid type");
}

#[test]
fn a_huge_bundle_is_refused_without_being_parsed() {
    let mut text = vec![b' '; usize::try_from(MAX_BUNDLE_BYTES).unwrap() + 1];
    text[0] = b'{';
    let started = std::time::Instant::now();
    refused(&text, "too large: 67108865 bytes, more than the limit of 64 MiB");
    println!("a bundle one byte over the limit refused in {:?}", started.elapsed());
}

#[test]
fn deep_nesting_is_an_error_not_a_crash_on_a_small_stack() {
    let handle = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(|| {
            let arrays = "[".repeat(100_000);
            let objects = "{\"a\":".repeat(10_000);
            // Nested deep inside an otherwise fine bundle, where a document's IR is.
            let mut v = sample();
            let mut deep = json!(1);
            for _ in 0..200 {
                deep = json!([deep]);
            }
            v["workflows"][0]["document"]["ir"]["nodes"][0]["params"]["deep"] = deep;
            let inside = v.to_string();
            [arrays, objects, inside].map(|text| Bundle::from_json(text.as_bytes()))
        })
        .unwrap();
    for result in handle.join().expect("no stack overflow") {
        let err = result.expect_err("too deep");
        assert!(err.to_string().contains("levels deep at line 1"), "{err}");
    }
}

/// A bundle with new workflows (with and without history) and conflicts to update.
fn bundle_for_faults() -> Bundle {
    let m = WorkflowManager::new(Arc::new(MemoryStore::new()));
    for n in 0..4u64 {
        let leaf = format!("leaf-{n}");
        m.create(&leaf, &ir(n), &format!("d {n}")).unwrap();
        m.update(&leaf, &ir(n + 100), &format!("d {}", n + 100), 1).unwrap();
        m.create(&format!("top-{n}"), &calling(&leaf), "top").unwrap();
    }
    m.create("changed", &ir(50), "theirs").unwrap();
    let names = ["top-0", "top-1", "top-2", "top-3", "changed"];
    let options = ExportOptions { with_callees: true, history: true, exported_by: "t".into() };
    m.export(&names, &options).unwrap().0
}

fn on(sim: &SimFs) -> WorkflowManager {
    WorkflowManager::new(Arc::new(FsStore::with_fs(SIM_HOME, Arc::new(sim.clone()))))
}

/// `name → (revisions, calls)` of every live workflow, every revision read: a torn or
/// lost document fails the test. Every workflow's callees must be there too.
fn whole(m: &WorkflowManager) -> BTreeMap<String, Vec<u64>> {
    let listing = m.list_all().unwrap();
    assert!(listing.problems.is_empty(), "unreadable entries: {:?}", listing.problems);
    let names: Vec<String> = listing.workflows.iter().map(|s| s.name.to_string()).collect();
    let mut state = BTreeMap::new();
    for s in &listing.workflows {
        let history = m.history(s.name.as_str()).unwrap();
        assert!(history.problems.is_empty(), "{:?}", history.problems);
        for callee in &s.calls {
            assert!(names.contains(callee), "`{}` is there without its callee `{callee}`", s.name);
        }
        state.insert(s.name.to_string(), history.revisions.iter().map(|d| d.revision).collect());
    }
    state
}

fn fresh_sim() -> SimFs {
    let sim = SimFs::new();
    sim.plant_dir(Path::new("/home/user"));
    let m = on(&sim);
    m.create("changed", &ir(51), "ours").unwrap();
    sim
}

const UPDATE: ImportOptions = ImportOptions { on_conflict: OnConflict::Update, dry_run: false };

#[test]
fn a_failing_call_in_an_import_leaves_whole_workflows_and_the_next_import_completes_it() {
    let bundle = bundle_for_faults();
    let expected = {
        let sim = fresh_sim();
        let m = on(&sim);
        m.import(&bundle, UPDATE).unwrap();
        whole(&m)
    };
    let calls = {
        let sim = fresh_sim();
        let before = sim.calls();
        on(&sim).import(&bundle, UPDATE).unwrap();
        sim.calls() - before
    };
    let mut interrupted = 0;
    for persistent in [false, true] {
        for n in 1..=calls {
            let sim = fresh_sim();
            let m = on(&sim);
            sim.fail_call(n, persistent);
            let result = m.import(&bundle, UPDATE);
            sim.clear_faults();
            if let Err(err) = &result {
                assert!(matches!(err, StoreError::Io { .. }), "call {n}: {err:?}");
            }
            let now = whole(&m);
            if now != expected {
                interrupted += 1;
            }
            m.import(&bundle, UPDATE).unwrap();
            assert_eq!(whole(&m), expected, "call {n} (persistent {persistent})");
            assert!(sim.names_in(Path::new(&format!("{SIM_HOME}/workflows/.tmp"))).is_empty());
        }
    }
    println!(
        "import faults: {calls} calls, each failed once and persistently: {interrupted} \
         imports interrupted, each leaving whole workflows, each completed by the next import"
    );
    assert!(interrupted > 0, "no fault ever interrupted the import");
}

#[test]
fn a_power_cut_in_an_import_leaves_whole_workflows_and_the_next_import_completes_it() {
    let bundle = bundle_for_faults();
    let mut n = 1;
    let mut cuts = 0;
    loop {
        let sim = fresh_sim();
        sim.crash_at_call(n);
        let result = on(&sim).import(&bundle, UPDATE);
        if !sim.crashed() {
            result.expect("an import without a crash succeeds");
            break;
        }
        cuts += 1;
        for mode in [PowerLoss::LoseUnsynced, PowerLoss::KeepNamespace] {
            let after = sim.recover(mode).expect("a crashed filesystem recovers");
            let m = on(&after);
            whole(&m);
            m.import(&bundle, UPDATE).unwrap();
            let state = whole(&m);
            assert_eq!(state.len(), 9, "cut before call {n}, {mode:?}: {state:?}");
            assert_eq!(state["changed"], [1, 2], "cut before call {n}, {mode:?}");
            assert_eq!(state["leaf-3"], [1, 2], "cut before call {n}, {mode:?}");
        }
        n += 1;
    }
    println!("import power cuts: before each of {cuts} calls, under two power-loss models");
}
