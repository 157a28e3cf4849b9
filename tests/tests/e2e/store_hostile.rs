//! Hostile input through the `pflow` binary (RELIABILITY H1–H4, H6): bad names, planted
//! entries in the store, and input files that are not files.

use std::fs::File;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use pflow_ir::WorkflowName;
use pflow_tests::{HostileInputs, Run, TestHome};

use crate::store_support::{ir_text, report, tree};

/// The bound RELIABILITY sets for commands facing FIFOs, devices and huge files.
const PROMPT: Duration = Duration::from_secs(1);
/// How long a command may hang before the test kills it and fails.
const HANG: Duration = Duration::from_secs(20);

/// H1: every hostile name is refused by every command, with a suggestion or the rule,
/// and nothing is created in the home or the current directory.
#[test]
fn h1_hostile_names_are_rejected_before_touching_anything() {
    let home = TestHome::new();
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("wf.json"), ir_text("hi")).unwrap();
    let names = [
        "../evil".to_owned(),
        "a/b".to_owned(),
        "a\\b".to_owned(),
        String::new(),
        ".".to_owned(),
        "..".to_owned(),
        "-x".to_owned(),
        "x-".to_owned(),
        "a--b".to_owned(),
        "Hello".to_owned(),
        "café".to_owned(),
        "\u{430}\u{432}\u{441}".to_owned(), // Cyrillic look-alikes of `abc`
        "\u{202e}evil".to_owned(),          // right-to-left override
        "a".repeat(51),
        "a".repeat(10_000),
    ];
    let home_before = tree(home.path());
    let cwd_before = tree(cwd.path());
    let mut refusals = 0;
    for name in &names {
        let commands = [
            vec!["workflow".to_owned(), "save".into(), "wf.json".into(), format!("--name={name}")],
            vec!["workflow".into(), "show".into(), "--".into(), name.clone()],
            vec!["workflow".into(), "path".into(), "--".into(), name.clone()],
            vec!["workflow".into(), "delete".into(), "--yes".into(), "--".into(), name.clone()],
            vec!["workflow".into(), "history".into(), "--".into(), name.clone()],
            vec![
                "workflow".into(),
                "restore".into(),
                "--revision=1".into(),
                "--".into(),
                name.clone(),
            ],
            vec!["workflow".into(), "trash".into(), "restore".into(), "--".into(), name.clone()],
            vec![
                "workflow".into(),
                "trash".into(),
                "purge".into(),
                "--yes".into(),
                "--".into(),
                name.clone(),
            ],
            vec![
                "workflow".into(),
                "save".into(),
                "wf.json".into(),
                "--force".into(),
                format!("--name={name}"),
            ],
        ];
        for args in commands {
            let run = Run::from(home.command(&args).current_dir(cwd.path()).output().unwrap());
            let shown = name.escape_debug().to_string();
            assert_eq!(run.code, 1, "{shown}: {}", run.transcript());
            assert!(
                run.stderr.starts_with("error: invalid workflow name"),
                "{shown}: {}",
                run.stderr
            );
            let hint = match WorkflowName::suggest(name) {
                Some(s) => format!("hint: did you mean `{s}`?"),
                None => "hint: names are 1-50 lowercase letters or digits".to_owned(),
            };
            assert!(run.stderr.contains(&hint), "{shown}: want {hint:?} in {}", run.stderr);
            refusals += 1;
        }
    }
    assert_eq!(tree(home.path()), home_before, "something was created in the home");
    assert_eq!(tree(cwd.path()), cwd_before, "something was created in the current directory");

    let fifty = "a".repeat(50);
    let saved = Run::from(
        home.command(["workflow", "save", "wf.json", "--name", &fifty])
            .current_dir(cwd.path())
            .output()
            .unwrap(),
    );
    assert_eq!(saved.code, 0, "{}", saved.transcript());
    assert!(home.workflows().join(format!("{fifty}.json")).is_file());
    report(format!(
        "H1: {} hostile names × 9 commands: {refusals} refusals, nothing created; 50 chars \
         accepted (NUL cannot be passed in argv; the library tests cover it)",
        names.len()
    ));
}

/// H2, H3, H4, H6: planted entries in the store. `list` lists the good ones and reports
/// each bad one on its own stderr line; `show` of each bad one is a clean, prompt error.
#[test]
fn h2_h3_h4_h6_planted_entries_are_reported_never_followed_and_never_hang() {
    let home = TestHome::new();
    for name in ["good-one", "good-two"] {
        let saved = home
            .run_with_stdin(["workflow", "save", "-", "--name", name], ir_text(name).as_bytes());
        assert_eq!(saved.code, 0, "{}", saved.transcript());
    }
    let dir = home.workflows();
    let good = std::fs::read(dir.join("good-one.json")).unwrap();
    // A valid document for the link's name: following the link would load it.
    let outside = home.path().join("outside.json");
    let lure = String::from_utf8(good.clone()).unwrap().replace("\"good-one\"", "\"link-outside\"");
    std::fs::write(&outside, lure).unwrap();
    let outside_before = std::fs::read(&outside).unwrap();

    // Each planted entry, by the name under which `show` would look for it.
    let symlink = |name: &str, target: &Path| {
        std::os::unix::fs::symlink(target, dir.join(format!("{name}.json"))).unwrap();
    };
    symlink("link-outside", &outside);
    symlink("link-dangling", &home.path().join("nowhere.json"));
    symlink("link-dir", &dir);
    symlink("link-zero", Path::new("/dev/zero"));
    let fifo = dir.join("fifo.json");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("run mkfifo");
    assert!(made.success());
    let _socket = UnixListener::bind(dir.join("socket.json")).unwrap();
    File::create(dir.join("huge.json")).unwrap().set_len(2 << 30).unwrap();
    std::fs::write(dir.join("truncated.json"), &good[..good.len() / 2]).unwrap();
    std::fs::write(dir.join("empty.json"), b"").unwrap();
    let noise: Vec<u8> = (0..4096).map(|_| fastrand::u8(..)).collect();
    std::fs::write(dir.join("random.json"), noise).unwrap();
    std::fs::write(dir.join("latin.json"), b"{\"name\": \"latin\", \"description\": \"caf\xe9\"}")
        .unwrap();
    std::fs::write(dir.join("schema.json"), br#"{"name": "schema", "ir": {"nodes": 3}}"#).unwrap();
    let renamed =
        String::from_utf8(good.clone()).unwrap().replace("\"good-one\"", "\"someone-else\"");
    std::fs::write(dir.join("renamed.json"), renamed).unwrap();
    std::fs::create_dir(dir.join("folder.json")).unwrap();
    std::fs::write(dir.join("x.txt"), b"stray").unwrap();
    let bad = [
        "link-outside",
        "link-dangling",
        "link-dir",
        "link-zero",
        "fifo",
        "socket",
        "huge",
        "truncated",
        "empty",
        "random",
        "latin",
        "schema",
        "renamed",
        "folder",
    ];

    let (list, took) = run_prompt(&home, &["workflow", "list", "--json"]);
    assert_eq!(list.code, 0, "{}", list.transcript());
    let listed: Vec<String> = serde_json::from_str::<Vec<serde_json::Value>>(&list.stdout)
        .unwrap_or_else(|e| panic!("invalid JSON ({e}): {}", list.stdout))
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, ["good-one", "good-two"]);
    let lines: Vec<&str> = list.stderr.lines().collect();
    let stray = bad.iter().map(|name| format!("{name}.json")).chain(["x.txt".to_owned()]);
    for file in stray {
        let hits = lines.iter().filter(|l| l.contains(&format!("/{file}:"))).count();
        assert_eq!(hits, 1, "`{file}` should be reported once:\n{}", list.stderr);
    }
    assert_eq!(lines.len(), bad.len() + 1, "one line per bad entry:\n{}", list.stderr);
    assert!(lines.iter().all(|l| l.starts_with("warning: skipped ")), "{}", list.stderr);
    for (name, why) in [
        ("link-outside", "not a regular file"),
        ("fifo", "not a regular file"),
        ("huge", "too large"),
    ] {
        let line = lines.iter().find(|l| l.contains(&format!("/{name}.json:"))).unwrap();
        assert!(line.contains(why), "`{name}`: want {why:?} in {line:?}");
    }
    let list_rss = peak_rss_kib(&home, &["workflow", "list", "--json"]);
    let human = home.run(["workflow", "list"]);
    assert_eq!(human.code, 0, "{}", human.transcript());
    assert!(human.stdout.contains("good-one") && human.stdout.contains("good-two"));
    let mut slowest = took;

    for name in bad {
        for args in [vec!["workflow", "show", name], vec!["workflow", "show", name, "--json"]] {
            let (run, took) = run_prompt(&home, &args);
            slowest = slowest.max(took);
            assert_eq!(run.code, 1, "{args:?}: {}", run.transcript());
            assert!(run.stderr.starts_with("error: "), "{args:?}: {}", run.stderr);
            assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
            assert!(run.stdout.is_empty(), "{args:?}: {}", run.transcript());
        }
    }
    // Replacing through a planted link must not write to its target.
    let input = home.path().join("input.json");
    std::fs::write(&input, ir_text("replacement")).unwrap();
    let input = input.to_str().unwrap();
    let (forced, _) =
        run_prompt(&home, &["workflow", "save", input, "--name", "link-outside", "--force"]);
    assert_ne!(forced.code, 0, "{}", forced.transcript());
    assert_eq!(std::fs::read(&outside).unwrap(), outside_before, "the link's target changed");
    report(format!(
        "H2/H3/H4/H6: {} planted entries each reported once by list, show of each a clean \
         error; slowest command {} ms; peak RSS of `list` {}; the outside file unchanged",
        bad.len() + 1,
        slowest.as_millis(),
        describe_rss(list_rss),
    ));
}

/// H3, H4: input files that are not regular files, or are huge, fail promptly and clearly.
#[test]
fn h3_h4_hostile_input_files_fail_promptly_with_a_clear_error() {
    let home = TestHome::new();
    let inputs = HostileInputs::new();

    let mut slowest = Duration::ZERO;
    for (path, why) in [
        (&inputs.fifo, "FIFO, not a regular file"),
        (&inputs.socket, "socket, not a regular file"),
        (&inputs.zero, "device, not a regular file"),
        (&inputs.big, "too large"),
    ] {
        let file = path.to_str().unwrap();
        let (run, took) = run_prompt(&home, &["workflow", "save", file, "--name", "x"]);
        slowest = slowest.max(took);
        assert_eq!(run.code, 1, "{file}: {}", run.transcript());
        assert!(run.stderr.starts_with("error: "), "{file}: {}", run.stderr);
        assert!(run.stderr.contains(why), "{file}: want {why:?} in {}", run.stderr);
        assert!(!home.workflows().join("x.json").exists());
    }
    let big_rss =
        peak_rss_kib(&home, &["workflow", "save", inputs.big.to_str().unwrap(), "--name", "x"]);
    report(format!(
        "H3/H4: FIFO, socket, /dev/zero link and a 100 MB file as input: clean errors, \
         slowest {} ms; peak RSS of `save` of the 100 MB file {}",
        slowest.as_millis(),
        describe_rss(big_rss),
    ));
}

/// Runs `pflow ARGS` (stdin closed) and fails the test if it takes longer than the
/// RELIABILITY bound; a hung process is killed after [`HANG`].
fn run_prompt(home: &TestHome, args: &[&str]) -> (Run, Duration) {
    let (run, took) = home.run_bounded(args, HANG);
    assert!(took < PROMPT, "`pflow {}` took {took:?}", args.join(" "));
    (run, took)
}

/// The most memory `pflow` may use facing a huge file (RELIABILITY H4).
const MAX_RSS_KIB: u64 = 64 * 1024;

/// Runs `pflow ARGS` under GNU `time` and returns its peak resident set in KiB, after
/// checking it against [`MAX_RSS_KIB`]; `None` when `/usr/bin/time` is not installed.
fn peak_rss_kib(home: &TestHome, args: &[&str]) -> Option<u64> {
    let time = Path::new("/usr/bin/time");
    if !time.exists() {
        return None;
    }
    let out = tempfile::NamedTempFile::new().unwrap();
    let command = home.command(args);
    let program = command.get_program().to_owned();
    let status = Command::new(time)
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(out.path())
        .arg(program)
        .args(command.get_args())
        .env_clear()
        .envs(command.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run /usr/bin/time");
    assert!(status.code().is_some(), "pflow under time was killed: {status:?}");
    let text = std::fs::read_to_string(out.path()).unwrap();
    let kib: u64 = text.trim().lines().last().unwrap().trim().parse().unwrap();
    assert!(kib < MAX_RSS_KIB, "`pflow {}` peaked at {kib} KiB", args.join(" "));
    Some(kib)
}

fn describe_rss(kib: Option<u64>) -> String {
    match kib {
        Some(kib) => format!("{kib} KiB (limit {MAX_RSS_KIB} KiB)"),
        None => "not measured (SKIPPED: /usr/bin/time is not installed)".to_owned(),
    }
}
