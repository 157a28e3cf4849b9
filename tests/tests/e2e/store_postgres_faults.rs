//! Faults of a PostgreSQL store through real `pflow` processes (RELIABILITY P4, P5): the
//! server restarted under 4 writers; an unreachable host, a silent one, a refused
//! password, a missing database, a read-only role — each one clear error naming the store
//! within the connect timeout — and a password that appears in no output of any command.
//!
//! Each test starts a server of its own (P4 restarts it; P5 needs password logins).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use pflow_store::WorkflowManager;
use pflow_store_postgres::PgStore;
use pflow_store_postgres::testing::{ServerOptions, TestServer, free_port, postgres_bin};
use pflow_tests::{Run, TestHome};

use crate::pg_support::value_of;
use crate::store_support::{count_from_env, ir_text, report};

/// A server of this test's own; `None` (reported) when only `PFLOW_TEST_DATABASE_URL`
/// is there.
fn own_server(test: &str, options: &ServerOptions) -> Option<TestServer> {
    if postgres_bin().is_none() && std::env::var_os("PFLOW_TEST_DATABASE_URL").is_some() {
        report(format!(
            "SKIPPED {test}: it needs a server of its own (PostgreSQL's binaries), not \
             PFLOW_TEST_DATABASE_URL"
        ));
        return None;
    }
    Some(TestServer::start(options))
}

/// Runs `sql` on `server`'s database `db` as the superuser.
fn admin(server: &TestServer, db: &str, sql: &str) {
    let mut client = postgres::Client::connect(&server.uri("postgres", db, ""), postgres::NoTls)
        .expect("connect as the superuser");
    client.batch_execute(sql).unwrap_or_else(|e| panic!("{sql}: {e:?}"));
}

/// Whether `run` failed the way a fault must: exit 1, one `error:` line naming the store
/// (`postgres://…`), a `hint:`, nothing else alarming.
fn one_clear_error(run: &Run) -> bool {
    let errors: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    run.code == 1
        && errors.len() == 1
        && errors[0].contains("the store `postgres://")
        && run.stderr.lines().any(|l| l.starts_with("hint: "))
        && !run.stderr.contains("internal error")
        && !run.stderr.contains("panicked")
}

/// P4: the server is restarted (`pg_ctl restart -m fast`) while 4 processes keep saving
/// new revisions of their workflows: every command succeeds or fails with one clear
/// error, every command started after the restart succeeds, and no acknowledged write
/// is lost.
#[test]
fn p4_a_server_restart_under_four_writers_loses_no_acknowledged_write() {
    const WRITERS: usize = 4;
    let after_restart = count_from_env("PFLOW_P4_WRITES_AFTER", 10);
    let Some(server) = own_server("P4", &ServerOptions::default()) else { return };
    let uri = server.admin_uri();
    let home = TestHome::new();
    let started = Instant::now();
    let restarted = AtomicBool::new(false);
    let (warmed, warm) = mpsc::channel::<()>();
    /// One command of a writer: its value, whether it began after the restart, and what
    /// it did.
    type Attempt = (u64, bool, Run);
    let attempts: Mutex<Vec<Vec<Attempt>>> = Mutex::new(vec![Vec::new(); WRITERS]);
    std::thread::scope(|scope| {
        for w in 0..WRITERS {
            let (home, uri, restarted, attempts) = (&home, &uri, &restarted, &attempts);
            let warmed = warmed.clone();
            scope.spawn(move || {
                let name = format!("p4-writer-{w}");
                let (mut value, mut acked_after, mut acked) = (w as u64 * 1_000_000, 0, 0);
                while acked_after < after_restart {
                    value += 1;
                    let began_after = restarted.load(Ordering::SeqCst);
                    let mut args = vec!["--store", uri, "workflow", "save", "-", "--name", &name];
                    if acked > 0 {
                        args.push("--force");
                    }
                    let run = home.run_with_stdin(&args, ir_text(value).as_bytes());
                    if run.code == 0 {
                        acked += 1;
                        acked_after += usize::from(began_after);
                        if acked == 5 {
                            let _ = warmed.send(());
                        }
                    }
                    let stop = began_after && run.code != 0;
                    attempts.lock().unwrap()[w].push((value, began_after, run));
                    // A command begun after the restart must succeed; the test fails below.
                    if stop {
                        break;
                    }
                }
            });
        }
        drop(warmed);
        // Restart once every writer has had some writes acknowledged.
        for _ in 0..WRITERS {
            warm.recv().expect("a writer warmed up");
        }
        server.restart();
        restarted.store(true, Ordering::SeqCst);
    });

    let attempts = attempts.into_inner().unwrap();
    let manager = WorkflowManager::new(Arc::new(PgStore::open(&uri).expect("the test URI parses")));
    let (mut acked, mut failed, mut lost, mut unclear) = (0, 0, 0, Vec::new());
    let mut causes: BTreeMap<String, usize> = BTreeMap::new();
    for (w, attempts) in attempts.iter().enumerate() {
        let history = manager.history(&format!("p4-writer-{w}")).unwrap();
        let stored: Vec<u64> = history.revisions.iter().map(value_of).collect();
        let mut rest = stored.iter();
        for (value, began_after, run) in attempts {
            if run.code == 0 {
                acked += 1;
                // Acknowledged values appear in the history in the order they were made.
                if !rest.any(|v| v == value) {
                    lost += 1;
                }
            } else {
                failed += 1;
                let cause = run.stderr.lines().find(|l| l.starts_with("caused by: ")).unwrap_or("");
                *causes.entry(cause.to_owned()).or_default() += 1;
                if !one_clear_error(run) || *began_after {
                    unclear.push(run.transcript());
                }
            }
        }
    }
    report(format!(
        "P4: writers = {WRITERS}, acknowledged = {acked}, failed with one clear error = {}, \
         unclear or after the restart = {}, acknowledged writes lost = {lost}, causes {causes:?} \
         ({:.1} s)",
        failed - unclear.len(),
        unclear.len(),
        started.elapsed().as_secs_f64()
    ));
    assert!(unclear.is_empty(), "{}\nserver log:\n{}", unclear.join("\n"), server.log());
    assert_eq!(lost, 0, "acknowledged writes were lost");
    let listed = home.run(["--store", &uri, "workflow", "list", "--json"]);
    assert_eq!(listed.code, 0, "{}", listed.transcript());
}

/// The password of the test roles: characters that must be percent-encoded in a URI, so
/// that both spellings are looked for.
const PASSWORD: &str = "p5 S3cr@t/pw:x";
const PASSWORD_ENCODED: &str = "p5%20S3cr%40t%2Fpw%3Ax";
const WRONG_PASSWORD: &str = "Wr0ng-pa55word";

/// P5: unreachable, silent, refusing, missing and read-only: each one clear error naming
/// the store within the connect timeout; and no output of any command, working or
/// failing, shows a password.
#[test]
fn p5_faults_are_one_clear_error_and_no_output_shows_a_password() {
    let hba = "local all postgres trust\n\
               local all all scram-sha-256\n\
               host all all 127.0.0.1/32 scram-sha-256\n";
    let Some(server) =
        own_server("P5", &ServerOptions { hba: Some(hba.to_owned()), ..Default::default() })
    else {
        return;
    };
    for sql in [
        format!("CREATE ROLE alice LOGIN PASSWORD '{PASSWORD}'"),
        format!("CREATE ROLE reader LOGIN PASSWORD '{PASSWORD}'"),
        // Not in a transaction block: one statement per call.
        "CREATE DATABASE pflow OWNER alice".to_owned(),
    ] {
        admin(&server, "postgres", &sql);
    }
    let dir = server.socket_dir().display().to_string();
    let uri = |user: &str, password: &str, db: &str| {
        format!("postgres://{user}:{password}@/{db}?host={dir}&port=5432")
    };
    let good = uri("alice", PASSWORD_ENCODED, "pflow");
    let home = TestHome::new();
    let mut checked = 0;
    let mut leaks = Vec::new();
    let mut look = |what: &str, run: &Run| {
        checked += 1;
        for secret in [PASSWORD, PASSWORD_ENCODED, WRONG_PASSWORD, "S3cr@t", "pw:x"] {
            if run.stdout.contains(secret) || run.stderr.contains(secret) {
                leaks.push(format!("{what}: shows `{secret}`:\n{}", run.transcript()));
            }
        }
    };

    // Every command, working, on a library behind a password.
    let other = TestHome::new();
    std::fs::write(home.path().join("flow.json"), ir_text(1)).unwrap();
    let file = home.path().join("flow.json").display().to_string();
    let commands: Vec<(Vec<&str>, Option<String>, i32)> = vec![
        (vec!["workflow", "save", "-", "--name", "hello"], Some(ir_text(1)), 0),
        (vec!["workflow", "save", "-", "--name", "hello", "--force"], Some(ir_text(2)), 0),
        (vec!["-v", "workflow", "list"], None, 0),
        (vec!["workflow", "list", "--json"], None, 0),
        (vec!["workflow", "show", "hello"], None, 0),
        (vec!["workflow", "show", "hello", "--json"], None, 0),
        (vec!["workflow", "path", "hello"], None, 0),
        (vec!["workflow", "history", "hello", "--json"], None, 0),
        (vec!["workflow", "restore", "hello", "--revision", "1"], None, 0),
        (vec!["-v", "run", "hello"], None, 0),
        (vec!["run", "hello", "--json"], None, 0),
        (vec!["run", &file], None, 0),
        (vec!["validate", &file], None, 0),
        (vec!["context", "discover"], None, 0),
        (vec!["context", "plan", "--workflow", "hello"], None, 0),
        (vec!["store", "info"], None, 0),
        (vec!["-v", "store", "info", "--json"], None, 0),
        (vec!["__complete", "workflow-names"], None, 0),
        (vec!["workflow", "show", "helo"], None, 1),
        (vec!["workflow", "save", "-", "--name", "hello"], Some(ir_text(3)), 1),
        (vec!["workflow", "delete", "hello", "--yes"], None, 0),
        (vec!["workflow", "trash", "list"], None, 0),
        (vec!["workflow", "trash", "restore", "hello"], None, 0),
        (vec!["workflow", "bogus"], None, 2),
        (vec!["-v", "store", "copy", &good, other.path().to_str().unwrap()], None, 0),
        (vec!["-v", "store", "copy", other.path().to_str().unwrap(), &good], None, 0),
    ];
    for (i, (args, stdin, code)) in commands.iter().enumerate() {
        // Every other command names the store by `--store`, the others by `PFLOW_STORE`.
        {
            let flag = i % 2 == 0;
            let cmd = if flag {
                let mut full = vec!["--store", good.as_str()];
                full.extend(args.iter());
                home.command(full)
            } else {
                let mut cmd = home.command(args);
                cmd.env("PFLOW_STORE", &good);
                cmd
            };
            let run = pflow_tests::run_piped(cmd, stdin.as_deref().unwrap_or_default().as_bytes());
            assert_eq!(run.code, *code, "pflow {}: {}", args.join(" "), run.transcript());
            look(&args.join(" "), &run);
        }
    }

    // The faults, each within the connect timeout.
    let socket_dir = tempfile::tempdir().unwrap();
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a silent port");
    let silent_port = silent.local_addr().unwrap().port();
    admin(&server, "pflow", "GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader");
    let faults: Vec<(&str, String, Vec<&str>, &str, Duration)> = vec![
        (
            "closed port",
            format!("postgres://alice:{PASSWORD_ENCODED}@127.0.0.1:{}/pflow", free_port()),
            vec!["workflow", "list"],
            "connection refused",
            Duration::from_secs(5),
        ),
        (
            "no server at the socket",
            format!(
                "postgres://alice:{PASSWORD_ENCODED}@/pflow?host={}",
                socket_dir.path().display()
            ),
            vec!["workflow", "list"],
            "no such file or directory",
            Duration::from_secs(5),
        ),
        (
            "silent server",
            format!(
                "postgres://alice:{PASSWORD_ENCODED}@127.0.0.1:{silent_port}/pflow?connect_timeout=2"
            ),
            vec!["workflow", "list"],
            "no answer from the server within the connect timeout of 2 s",
            Duration::from_secs(2),
        ),
        (
            "wrong password",
            uri("alice", WRONG_PASSWORD, "pflow"),
            vec!["workflow", "list"],
            "password authentication failed for user \"alice\"",
            Duration::from_secs(5),
        ),
        (
            "no password",
            format!("postgres://alice@/pflow?host={dir}&port=5432"),
            vec!["workflow", "list"],
            "password missing",
            Duration::from_secs(5),
        ),
        (
            "missing database",
            uri("alice", PASSWORD_ENCODED, "nodb"),
            vec!["workflow", "list"],
            "database \"nodb\" does not exist",
            Duration::from_secs(5),
        ),
        (
            "read-only role",
            uri("reader", PASSWORD_ENCODED, "pflow"),
            vec!["workflow", "delete", "hello", "--yes"],
            "permission denied for table pflow_workflows",
            Duration::from_secs(5),
        ),
    ];
    let mut times = Vec::new();
    for (what, store, args, cause, timeout) in &faults {
        let mut full = vec!["--store", store.as_str()];
        full.extend(args.iter());
        let (run, took) = home.run_bounded(&full, *timeout + Duration::from_secs(3));
        look(what, &run);
        assert!(one_clear_error(&run), "{what}: {}", run.transcript());
        assert!(run.stderr.contains(cause), "{what}: {}", run.transcript());
        assert!(took < *timeout + Duration::from_secs(1), "{what} took {took:?}");
        times.push(format!("{what} {} ms", took.as_millis()));
    }
    // The read-only role still reads.
    let listed = home.run([
        "--store",
        &uri("reader", PASSWORD_ENCODED, "pflow"),
        "workflow",
        "list",
        "--json",
    ]);
    assert_eq!(listed.code, 0, "{}", listed.transcript());
    look("read-only list", &listed);
    drop(silent);

    report(format!(
        "P5: {} faults each one clear error within the connect timeout ({}); outputs checked \
         for the password = {checked}, leaks = {}",
        faults.len(),
        times.join(", "),
        leaks.len()
    ));
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
}
