//! The PostgreSQL store through real `pflow` processes (RELIABILITY P1–P3, P6, P8): many
//! processes creating, updating and being killed on one database; a newer schema; a
//! library copied filesystem → PostgreSQL → filesystem; the URI forms and the config.
//!
//! Each test has a library of its own (a schema of the test server that
//! `pflow_store_postgres::testing` starts, or of `PFLOW_TEST_DATABASE_URL`'s).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pflow_ir::Document;
use pflow_store::{FsStore, WorkflowManager};
use pflow_store_postgres::testing::shared;
use pflow_tests::{Run, TestHome};

use crate::pg_support::PgLibrary;
use crate::store_support::{count_from_env, ir_text, message_of, report};

/// P1: 16 processes save the same new name at once, 50 rounds: exactly one succeeds.
#[test]
fn p1_concurrent_creators_on_one_database_have_exactly_one_winner() {
    const PROCS: usize = 16;
    let rounds = count_from_env("PFLOW_P1_ROUNDS", 50);
    let lib = PgLibrary::new();
    let started = Instant::now();
    let mut passed = 0;
    for round in 0..rounds {
        let sources: Vec<String> = (0..PROCS).map(|i| ir_text(format!("{round}-{i}"))).collect();
        let runs = at_once(&lib, &sources, |_| {
            vec!["workflow".into(), "save".into(), "-".into(), "--name".into(), "race".into()]
        });
        let winners: Vec<usize> = (0..PROCS).filter(|&i| runs[i].code == 0).collect();
        let losers = runs
            .iter()
            .filter(|r| r.code == 1 && r.stderr.contains("workflow `race` already exists"))
            .count();
        assert_eq!(winners.len(), 1, "round {round}: {} winners: {runs:#?}", winners.len());
        assert_eq!(losers, PROCS - 1, "round {round}: {runs:#?}");
        let doc = lib.manager().load("race").unwrap();
        let winner: pflow_ir::WorkflowIr = serde_json::from_str(&sources[winners[0]]).unwrap();
        assert_eq!((doc.ir, doc.revision), (winner, 1), "round {round}");
        let deleted = lib.run(["workflow", "delete", "race", "--yes"]);
        assert_eq!(deleted.code, 0, "{}", deleted.transcript());
        passed += 1;
    }
    report(format!(
        "P1: rounds passed = {passed}/{rounds} ({PROCS} processes each, {:.1} s)",
        started.elapsed().as_secs_f64()
    ));
}

/// Starts one `pflow` per source with `args(i)`, each blocked reading its stdin, then
/// writes every source and closes the pipes together: the start barrier.
fn at_once(lib: &PgLibrary, sources: &[String], args: impl Fn(usize) -> Vec<String>) -> Vec<Run> {
    let children = (0..sources.len()).map(|i| pflow_tests::held(lib.command(args(i))));
    pflow_tests::release(children.zip(sources.iter().cloned()).collect())
}

/// 16 processes start on an empty schema at once (the first use creates the tables):
/// every one succeeds.
#[test]
fn many_processes_starting_on_an_empty_database_all_succeed() {
    const PROCS: usize = 16;
    let lib = PgLibrary::new();
    let sources: Vec<String> = (0..PROCS).map(|i| ir_text(i as u64)).collect();
    let runs = at_once(&lib, &sources, |i| {
        vec!["workflow".into(), "save".into(), "-".into(), "--name".into(), format!("first-{i}")]
    });
    let failed: Vec<&Run> = runs.iter().filter(|r| r.code != 0).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert_eq!(lib.manager().list_all().unwrap().workflows.len(), PROCS);
    report(format!("first use: {PROCS} processes on an empty schema at once, 0 failed"));
}

/// P2: 8 processes × 50 read-modify-write increments with `--expect-revision`, retrying
/// on conflict: no update is lost.
#[test]
fn p2_concurrent_read_modify_write_loses_no_update() {
    const WORKERS: usize = 8;
    let per_worker = count_from_env("PFLOW_P2_UPDATES", 50);
    let lib = PgLibrary::new();
    let created =
        lib.run_with_stdin(["workflow", "save", "-", "--name", "counter"], ir_text(0).as_bytes());
    assert_eq!(created.code, 0, "{}", created.transcript());
    let started = Instant::now();
    let barrier = std::sync::Barrier::new(WORKERS);
    let (conflicts, applied) = (AtomicUsize::new(0), AtomicUsize::new(0));
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                barrier.wait();
                let mut done = 0;
                while done < per_worker {
                    let read = lib.run(["workflow", "show", "counter", "--json"]);
                    assert_eq!(read.code, 0, "{}", read.transcript());
                    let doc: Document = serde_json::from_str(&read.stdout).unwrap();
                    let next =
                        message_of(&serde_json::to_value(&doc.ir).unwrap()).as_u64().unwrap() + 1;
                    let revision = doc.revision.to_string();
                    let args = [
                        "workflow",
                        "save",
                        "-",
                        "--name",
                        "counter",
                        "--force",
                        "--expect-revision",
                        &revision,
                    ];
                    let write = lib.run_with_stdin(args, ir_text(next).as_bytes());
                    match write.code {
                        0 => {
                            done += 1;
                            applied.fetch_add(1, Ordering::Relaxed);
                        }
                        1 if write.stderr.contains("was changed concurrently") => {
                            conflicts.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => panic!("unexpected answer: {}", write.transcript()),
                    }
                }
            });
        }
    });
    let doc = lib.manager().load("counter").unwrap();
    let counter = message_of(&serde_json::to_value(&doc.ir).unwrap()).as_u64().unwrap();
    let expected = (WORKERS * per_worker) as u64;
    let applied = applied.into_inner() as u64;
    report(format!(
        "P2: counter = {counter}/{expected}, conflicts = {}, lost updates = {} ({:.1} s)",
        conflicts.load(Ordering::Relaxed),
        applied - counter,
        started.elapsed().as_secs_f64()
    ));
    assert_eq!(
        (applied, counter, doc.revision),
        (expected, expected, expected + 1),
        "lost updates"
    );
    assert!(conflicts.into_inner() > 0, "8 racing writers never conflicted");
}

/// P3: `pflow` processes are killed with `SIGKILL` at a random moment of a save, an
/// update, a revision restore, a delete, a restore from the trash or a purge, 200 times.
/// After every kill the tables, read with the test's own SQL, hold every workflow in
/// exactly one place, every history contiguous, nothing torn, and the state before or
/// after the operation that was killed.
#[test]
fn p3_sigkill_mid_operation_leaves_every_workflow_whole_and_in_one_place() {
    const NAMES: [&str; 2] = ["p3-a", "p3-b"];
    let kills_wanted = count_from_env("PFLOW_P3_KILLS", 200);
    let lib = PgLibrary::new();
    let started = Instant::now();
    let mut rng = fastrand::Rng::with_seed(0x9e37_79b9);
    let (mut kills, mut finished, mut violations) = (0, 0, 0);
    // Kills after which the operation's effect was there (it had committed): the kills
    // that landed late in the operation.
    let mut killed_after_commit = 0;
    let mut typical = Duration::from_millis(20);
    let mut killed_during: BTreeMap<&str, usize> = BTreeMap::new();
    let mut value = 1_000;
    let (mut state, wrong) = lib.read_tables();
    assert!(wrong.is_empty(), "{wrong:?}");
    let mut iteration = 0;
    while kills < kills_wanted {
        iteration += 1;
        assert!(iteration < kills_wanted * 10, "the operations finish before any kill lands");
        let name = NAMES[rng.usize(..NAMES.len())];
        let place = state.get(name).cloned().unwrap_or_default();
        value += 1;
        let (op, arg, args, stdin): (&str, Option<u64>, Vec<String>, Option<String>) =
            match (&place.live, place.trash.is_empty(), rng.u32(..100)) {
                (Some(life), _, roll) if roll < 20 && life.len() > 1 => {
                    let revision = rng.u64(1..life.len() as u64);
                    let args = ["workflow", "restore", name, "--revision", &revision.to_string()];
                    ("restore", Some(revision), strings(&args), None)
                }
                (Some(_), _, roll) if roll < 45 => (
                    "delete",
                    None,
                    strings(&["workflow", "delete", name, "--yes", "--force"]),
                    None,
                ),
                (Some(_), _, _) => {
                    let args = ["workflow", "save", "-", "--name", name, "--force"];
                    ("update", Some(value), strings(&args), Some(ir_text(value)))
                }
                (None, false, roll) if roll < 40 => {
                    ("untrash", None, strings(&["workflow", "trash", "restore", name]), None)
                }
                (None, false, roll) if roll < 60 => {
                    ("purge", None, strings(&["workflow", "trash", "purge", name, "--yes"]), None)
                }
                (None, _, _) => {
                    let args = ["workflow", "save", "-", "--name", name];
                    ("save", Some(value), strings(&args), Some(ir_text(value)))
                }
            };
        let mut child = lib
            .command(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start pflow");
        let mut pipe = child.stdin.take().expect("stdin is piped");
        let _ = pipe.write_all(stdin.unwrap_or_default().as_bytes());
        drop(pipe);
        // One operation in four runs to its end: the library moves on, and its time tells
        // how long an operation takes on this machine now. The others are killed at a
        // random moment of that time (not synchronisation: the random moment is the point
        // of the test), from before the connection to after the commit.
        let began = Instant::now();
        let status = if rng.u32(..4) == 0 {
            let status = child.wait().expect("reap pflow");
            typical = (typical * 3 + began.elapsed()) / 4;
            status
        } else {
            let limit = u64::try_from(typical.as_micros() * 6 / 5).unwrap_or(u64::MAX);
            std::thread::sleep(Duration::from_micros(rng.u64(0..=limit)));
            let _ = child.kill();
            child.wait().expect("reap pflow")
        };
        let mut stderr = String::new();
        let _ = child.stderr.take().expect("stderr is piped").read_to_string(&mut stderr);
        lib.wait_idle();
        let (actual, wrong) = lib.read_tables();
        let before = place;
        let after = before.after(op, arg);
        let now = actual.get(name).cloned().unwrap_or_default();
        let others_unchanged = NAMES.iter().filter(|n| **n != name).all(|n| {
            actual.get(*n).cloned().unwrap_or_default()
                == state.get(*n).cloned().unwrap_or_default()
        });
        let allowed = match (status.signal(), status.code()) {
            (Some(9), _) => {
                kills += 1;
                *killed_during.entry(op).or_default() += 1;
                killed_after_commit += usize::from(now != before && now == after);
                now == before || now == after
            }
            (_, Some(0)) => {
                finished += 1;
                now == after
            }
            _ => panic!("`pflow {}` failed by itself: {stderr}", args.join(" ")),
        };
        if !allowed || !wrong.is_empty() || !others_unchanged {
            violations += 1;
        }
        if (!allowed || !wrong.is_empty() || !others_unchanged) && violations <= 10 {
            report(format!(
                "P3 iteration {iteration}: {op} {name} {arg:?}: now {now:?}, before {before:?}, \
                 after {after:?}; problems {wrong:?}"
            ));
        }
        state = actual;
    }
    // The next command after all those kills works at once: no lock was left behind.
    let (next, took) = lib
        .home
        .run_bounded(["--store", &lib.uri, "workflow", "list", "--json"], Duration::from_secs(10));
    assert_eq!(next.code, 0, "{}", next.transcript());
    report(format!(
        "P3: kills = {kills} ({killed_after_commit} after the operation's commit), left to \
         finish = {finished}, violations = {violations}, killed during {killed_during:?}, \
         typical operation {} ms, next command {} ms ({:.1} s)",
        typical.as_millis(),
        took.as_millis(),
        started.elapsed().as_secs_f64()
    ));
    assert_eq!(violations, 0);
    for op in ["save", "update", "delete", "restore", "untrash"] {
        assert!(killed_during.get(op).is_some_and(|n| *n > 0), "no kill landed during a {op}");
    }
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| (*a).to_owned()).collect()
}

/// P6 through the CLI: a schema newer than this pflow is refused by every command with
/// one clear error, and nothing is written.
#[test]
fn p6_a_newer_schema_is_refused_by_every_command() {
    let lib = PgLibrary::new();
    let saved =
        lib.run_with_stdin(["workflow", "save", "-", "--name", "kept"], ir_text(1).as_bytes());
    assert_eq!(saved.code, 0, "{}", saved.transcript());
    let newer = pflow_store_postgres::SCHEMA_VERSION + 1;
    shared().execute(&format!(
        "INSERT INTO {}.pflow_schema (version, description) VALUES ({newer}, 'from a newer pflow')",
        lib.schema
    ));
    let before = lib.read_tables();
    let mut refused = 0;
    for (args, stdin) in [
        (vec!["workflow", "list"], None),
        (vec!["workflow", "show", "kept"], None),
        (vec!["run", "kept"], None),
        (vec!["workflow", "save", "-", "--name", "new"], Some(ir_text(2))),
        (vec!["workflow", "save", "-", "--name", "kept", "--force"], Some(ir_text(3))),
        (vec!["workflow", "delete", "kept", "--yes"], None),
        (vec!["store", "info"], None),
    ] {
        let run = lib.run_with_stdin(&args, stdin.unwrap_or_default().as_bytes());
        assert_eq!(run.code, 1, "{}", run.transcript());
        let errors: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("error: ")).collect();
        assert_eq!(errors.len(), 1, "{}", run.transcript());
        assert!(
            errors[0].starts_with("error: cannot open the store `postgres://"),
            "{}",
            run.transcript()
        );
        assert!(
            run.stderr.contains(&format!(
                "its tables are at schema version {newer}, newer than this pflow knows"
            )),
            "{}",
            run.transcript()
        );
        assert!(
            run.stderr.contains("hint: a newer pflow upgraded this store"),
            "{}",
            run.transcript()
        );
        refused += 1;
    }
    assert_eq!(lib.read_tables(), before, "something was written");
    report(format!("P6: schema version {newer} refused by {refused} commands, nothing written"));
}

/// A library with histories and a trash, made through the CLI in `home`.
fn build_library(home: &TestHome) {
    let save = |name: &str, value: u64, force: bool| {
        let mut args = vec!["workflow", "save", "-", "--name", name];
        if force {
            args.push("--force");
        }
        let run = home.run_with_stdin(args, ir_text(value).as_bytes());
        assert_eq!(run.code, 0, "{}", run.transcript());
    };
    let run = |args: &[&str]| {
        let run = home.run(args);
        assert_eq!(run.code, 0, "{}", run.transcript());
    };
    for (i, name) in ["alpha", "beta", "gamma", "delta"].iter().enumerate() {
        save(name, i as u64, false);
        for n in 1..=i as u64 {
            save(name, 10 * i as u64 + n, true);
        }
    }
    run(&["workflow", "restore", "delta", "--revision", "2"]);
    run(&["workflow", "delete", "beta", "--yes"]);
    save("beta", 100, false);
    run(&["workflow", "delete", "gamma", "--yes"]);
    save("gamma", 200, false);
    run(&["workflow", "delete", "gamma", "--yes"]);
}

/// P8: a library with histories and a trash copied filesystem → PostgreSQL → filesystem
/// with `pflow store copy` is the same library at every step; running each copy again
/// copies nothing.
#[test]
fn p8_store_copy_fs_to_postgres_to_fs_is_identical_and_idempotent() {
    let source = TestHome::new();
    build_library(&source);
    let lib = PgLibrary::new();
    let back = TestHome::new();
    let lives = |m: WorkflowManager| {
        let (lives, problems) = m.lives().unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        lives
    };
    let fs = |home: &TestHome| WorkflowManager::new(Arc::new(FsStore::new(home.path())));
    let original = lives(fs(&source));
    let (src, dest) = (source.path().to_str().unwrap(), back.path().to_str().unwrap());
    let mut runs = Vec::new();
    for (from, to) in [(src, lib.uri.as_str()), (lib.uri.as_str(), dest)] {
        let first = source.run(["store", "copy", from, to, "--json"]);
        assert_eq!(first.code, 0, "{}", first.transcript());
        let again = source.run(["store", "copy", from, to, "--json"]);
        assert_eq!(again.code, 0, "{}", again.transcript());
        let report: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
        assert_eq!(report["copied"], serde_json::json!([]), "{}", again.stdout);
        assert_eq!(report["unchanged"], original.len(), "{}", again.stdout);
        runs.push(first);
    }
    assert_eq!(lives(lib.manager()), original, "filesystem → PostgreSQL changed the library");
    assert_eq!(lives(fs(&back)), original, "PostgreSQL → filesystem changed the library");
    let (tables, wrong) = lib.read_tables();
    assert!(wrong.is_empty(), "{wrong:?}");
    let revisions: usize = original.iter().map(|l| l.revisions.len()).sum();
    let trashed = original.iter().filter(|l| l.deleted_at.is_some()).count();
    let info = |home: &TestHome, store: &str| -> serde_json::Value {
        serde_json::from_str(&home.run(["--store", store, "store", "info", "--json"]).stdout)
            .unwrap()
    };
    for store in [src, lib.uri.as_str(), dest] {
        let info = info(&source, store);
        assert_eq!(info["revisions"], revisions, "{info}");
        assert_eq!(info["trash_entries"], trashed, "{info}");
    }
    report(format!(
        "P8: {} lives ({} live in {} names, {trashed} in the trash, {revisions} revisions) \
         fs → postgres → fs identical, second runs copied nothing",
        original.len(),
        original.len() - trashed,
        tables.len()
    ));
}

/// The URI forms reach the same library: a socket directory as `?host=` and
/// percent-encoded as the host, both schemes, `connect_timeout`, `options`.
#[test]
fn every_uri_form_reaches_the_same_library() {
    let lib = PgLibrary::new();
    let Some(server) = shared().server() else {
        report("SKIPPED URI forms: they need the test's own server, not PFLOW_TEST_DATABASE_URL");
        return;
    };
    let dir = server.socket_dir().display().to_string();
    let encoded = dir.replace('/', "%2F");
    let path = format!("options=-csearch_path%3D{}", lib.schema);
    let forms = [
        format!("postgres://postgres@/postgres?host={dir}&{path}"),
        format!("postgresql://postgres@/postgres?host={dir}&{path}"),
        format!("postgres://postgres@{encoded}:5432/postgres?{path}"),
        format!("postgres://{encoded}/postgres?user=postgres&{path}&connect_timeout=3"),
        format!(
            "postgres:///postgres?host={dir}&port=5432&user=postgres&application_name=p&{path}"
        ),
    ];
    let saved =
        lib.run_with_stdin(["workflow", "save", "-", "--name", "seen"], ir_text(7).as_bytes());
    assert_eq!(saved.code, 0, "{}", saved.transcript());
    for form in &forms {
        let run = lib.home.run(["--store", form, "workflow", "list", "--json"]);
        assert_eq!(run.code, 0, "{form}: {}", run.transcript());
        assert!(run.stdout.contains("\"seen\""), "{form}: {}", run.stdout);
    }
    report(format!("URI forms: {} forms reach the same library", forms.len()));
}

/// A URI in `<home>/config.toml` is the store of every command, and `PFLOW_STORE` and
/// `--store` still come first.
#[test]
fn a_uri_in_the_config_is_the_store_unless_the_environment_or_the_flag_says_otherwise() {
    let lib = PgLibrary::new();
    let home = &lib.home;
    std::fs::write(home.path().join("config.toml"), format!("store = \"{}\"\n", lib.uri)).unwrap();
    let saved = home
        .run_with_stdin(["workflow", "save", "-", "--name", "from-config"], ir_text(1).as_bytes());
    assert_eq!(saved.code, 0, "{}", saved.transcript());
    assert!(lib.manager().exists("from-config").unwrap());
    assert!(!home.workflows().join("from-config.json").exists());
    let elsewhere = TestHome::new();
    let mut env = home.command(["workflow", "list", "--json"]);
    env.env("PFLOW_STORE", elsewhere.path());
    let listed = Run::from(env.output().unwrap());
    assert_eq!((listed.code, listed.stdout.trim()), (0, "[]"), "{}", listed.transcript());
    let flag = home.run(["--store", &lib.uri, "workflow", "list", "--json"]);
    assert!(flag.stdout.contains("from-config"), "{}", flag.transcript());
    let run = home.run(["run", "from-config"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(run.stdout.contains("\"message\": 1"), "{}", run.transcript());
}
