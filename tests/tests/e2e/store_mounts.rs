//! The store on real filesystems that fail (RELIABILITY F4, F5): a full tmpfs and a
//! read-only mount, through the `pflow` binary.
//!
//! Mounting needs root (CAP_SYS_ADMIN). Where `mount` fails, each test prints a
//! `SKIPPED` line with the reason instead of passing silently; every mount it made is
//! unmounted when the test ends, whether it passed or not.

use std::path::{Path, PathBuf};
use std::process::Command;

use pflow_ir::WorkflowIr;
use pflow_tests::{Run, TestHome};

use crate::store_support::{ir_text, ir_value, report, scan, tree};

/// F4: a save that does not fit fails cleanly and leaves the old content and no temp file.
#[test]
fn f4_full_disk_fails_cleanly_and_keeps_the_previous_content() {
    let base = TestHome::new();
    let home = base.path().join("home");
    let mount = match Mount::tmpfs(&home, "1m") {
        Ok(mount) => mount,
        Err(why) => return report(format!("SKIPPED F4 (full tmpfs): {why}")),
    };
    let pflow = |args: &[&str]| base.run(with_home(&mount, args));

    let small = base.path().join("small.json");
    std::fs::write(&small, ir_text("small")).unwrap();
    let large = base.path().join("large.json");
    // 2 MiB of IR: twice the size of the filesystem, well under the 16 MiB input cap.
    std::fs::write(&large, ir_value("x".repeat(2 << 20)).to_string()).unwrap();
    let (small, large) = (small.to_str().unwrap(), large.to_str().unwrap());

    let saved = pflow(&["workflow", "save", small, "--name", "keep"]);
    assert_eq!(saved.code, 0, "{}", saved.transcript());
    let keep = mount.point.join("workflows/keep.json");
    let before = std::fs::read(&keep).unwrap();

    let new = pflow(&["workflow", "save", large, "--name", "large"]);
    assert_no_space(&new);
    let replace = pflow(&["workflow", "save", large, "--name", "keep", "--force"]);
    assert_no_space(&replace);

    assert_eq!(std::fs::read(&keep).unwrap(), before, "the previous content changed");
    let found = scan(&mount.point.join("workflows"));
    assert!(found.temps.is_empty(), "temp files left: {:?}", found.temps);
    assert!(!found.documents.contains_key("large"), "a document appeared for a failed save");
    // The space of the failed writes was given back: a small save fits again.
    let again = pflow(&["workflow", "save", small, "--name", "after"]);
    assert_eq!(again.code, 0, "{}", again.transcript());
    report("F4: full tmpfs: save and save --force failed cleanly, content intact, no temp file");
}

/// F5: on a read-only mount every write fails cleanly; list, show and path still work.
#[test]
fn f5_read_only_store_refuses_writes_and_still_reads() {
    let base = TestHome::new();
    let home = base.path().join("home");
    let mount = match Mount::tmpfs(&home, "4m") {
        Ok(mount) => mount,
        Err(why) => return report(format!("SKIPPED F5 (read-only mount): {why}")),
    };
    let pflow = |args: &[&str]| base.run(with_home(&mount, args));
    let file = base.path().join("wf.json");
    std::fs::write(&file, ir_text("hello")).unwrap();
    let file = file.to_str().unwrap();
    for name in ["alpha", "beta"] {
        let saved = pflow(&["workflow", "save", file, "--name", name]);
        assert_eq!(saved.code, 0, "{}", saved.transcript());
    }
    // Let every command of the writable phase leave what it leaves (an index, a lock
    // file), then freeze the store.
    assert_eq!(pflow(&["workflow", "list"]).code, 0);
    if let Err(why) = mount.remount_read_only() {
        return report(format!("SKIPPED F5 (read-only mount): {why}"));
    }
    let frozen = snapshot(&mount.point);

    for args in [
        vec!["workflow", "save", file, "--name", "gamma"],
        vec!["workflow", "save", file, "--name", "alpha", "--force"],
        vec!["workflow", "delete", "beta", "--yes"],
    ] {
        let run = pflow(&args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.transcript());
        assert!(run.stderr.contains("Read-only file system"), "{args:?}: {}", run.transcript());
        assert!(
            run.stderr.contains("hint: check that the pflow home is writable"),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }

    let list = pflow(&["workflow", "list", "--json"]);
    assert_eq!(list.code, 0, "{}", list.transcript());
    let names: Vec<String> = serde_json::from_str::<Vec<serde_json::Value>>(&list.stdout)
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["alpha", "beta"]);
    let show = pflow(&["workflow", "show", "alpha", "--ir"]);
    assert_eq!(show.code, 0, "{}", show.transcript());
    let shown: WorkflowIr = serde_json::from_str(&show.stdout).unwrap();
    assert_eq!(shown, serde_json::from_value(ir_value("hello")).unwrap());
    let path = pflow(&["workflow", "path", "beta"]);
    assert_eq!(path.code, 0, "{}", path.transcript());
    assert_eq!(snapshot(&mount.point), frozen, "the read-only store changed");
    report("F5: read-only mount: save, save --force, delete failed cleanly; list/show/path work");
}

/// `pflow --home MOUNT ARGS…`: the mount replaces the test home.
fn with_home(mount: &Mount, args: &[&str]) -> Vec<String> {
    let mut all = vec!["--home".to_owned(), mount.point.display().to_string()];
    all.extend(args.iter().map(|a| (*a).to_owned()));
    all
}

#[track_caller]
fn assert_no_space(run: &Run) {
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stderr.contains("No space left on device"), "{}", run.transcript());
    assert!(run.stderr.contains("hint: free some disk space"), "{}", run.transcript());
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

/// Every path under `root` with its bytes (directories as `None`).
fn snapshot(root: &Path) -> Vec<(PathBuf, Option<Vec<u8>>)> {
    tree(root)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(root.join(&p)).ok();
            (p, bytes)
        })
        .collect()
}

/// A tmpfs mounted for the length of a test; unmounted when dropped.
#[derive(Debug)]
struct Mount {
    point: PathBuf,
}

impl Mount {
    /// Mounts a tmpfs of `size` (as `mount -o size=` spells it) at `point`.
    fn tmpfs(point: &Path, size: &str) -> Result<Mount, String> {
        std::fs::create_dir_all(point)
            .map_err(|e| format!("cannot create {}: {e}", point.display()))?;
        run_mount(
            Command::new("mount")
                .args(["-t", "tmpfs", "-o"])
                .arg(format!("size={size},mode=0700"))
                .arg("tmpfs")
                .arg(point),
        )
        .map_err(|why| format!("cannot mount a tmpfs (needs root): {why}"))?;
        Ok(Mount { point: point.to_owned() })
    }

    /// Makes the mount read-only.
    fn remount_read_only(&self) -> Result<(), String> {
        run_mount(Command::new("mount").args(["-o", "remount,ro"]).arg(&self.point))
            .map_err(|why| format!("cannot remount read-only: {why}"))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let unmounted = Command::new("umount").arg(&self.point).status().is_ok_and(|s| s.success());
        if !unmounted {
            // Still busy (a child that outlived a failed assertion): detach it lazily so
            // that no mount outlives the test.
            let _ = Command::new("umount").arg("-l").arg(&self.point).status();
        }
    }
}

fn run_mount(command: &mut Command) -> Result<(), String> {
    match command.output() {
        Err(e) => Err(format!("cannot run `mount`: {e}")),
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(String::from_utf8_lossy(&out.stderr).trim().to_owned()),
    }
}
