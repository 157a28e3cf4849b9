//! `pflow mcp serve` as a real process: driven by a third-party MCP client (the Python
//! `mcp` SDK, `client.rs`; the same scenarios on a PostgreSQL store, `postgres.rs`) and by
//! raw JSON-RPC lines written to its stdin (`raw.rs`).

mod client;
mod postgres;
mod raw;

use std::path::{Path, PathBuf};
use std::process::Command;

use pflow_tests::{TestHome, pflow_bin};

/// The Python with the `mcp` SDK that `cargo xtask ci` installs (`PFLOW_MCP_PYTHON`).
fn python() -> PathBuf {
    match std::env::var_os("PFLOW_MCP_PYTHON") {
        Some(path) if Path::new(&path).exists() => PathBuf::from(path),
        found => panic!(
            "the MCP client tests need the Python `mcp` SDK 2.3.0: set PFLOW_MCP_PYTHON to a \
             python that has it ({}). `cargo xtask ci` makes one in mcp-venv of the target directory; by hand: \
             `python3 -m venv target/mcp-venv && target/mcp-venv/bin/pip install mcp==2.3.0`, \
             then `PFLOW_MCP_PYTHON=$PWD/target/mcp-venv/bin/python cargo test`",
            match found {
                Some(path) => format!("`{}` does not exist", Path::new(&path).display()),
                None => "it is not set".to_owned(),
            }
        ),
    }
}

/// What a client scenario printed.
struct Scenario {
    stdout: String,
}

/// Runs the scenario `name` of tests/mcp/scenarios.py against a server on `home`; fails
/// the test with the client's output when the scenario fails.
fn scenario(name: &str, home: &TestHome) -> Scenario {
    scenario_on(name, home, None)
}

/// [`scenario`], with the server serving `store` (`PFLOW_STORE`) instead of the home's.
fn scenario_on(name: &str, home: &TestHome, store: Option<&str>) -> Scenario {
    let work = tempfile::tempdir().expect("a scratch directory");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("mcp/scenarios.py");
    let output = Command::new(python())
        .arg(&script)
        .arg(name)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PFLOW_BIN", pflow_bin())
        .env("PFLOW_HOME", home.path())
        .env("WORK", work.path())
        .envs(store.map(|uri| ("PFLOW_STORE", uri)))
        .output()
        .expect("start the Python MCP client");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "scenario `{name}` failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    // The figures the scenarios report stay visible in the test's output.
    for line in stdout.lines().filter(|l| l.starts_with("ok:")) {
        crate::store_support::report(line);
    }
    Scenario { stdout }
}
