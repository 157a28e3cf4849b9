//! A throwaway PostgreSQL server for tests: `initdb` into a temporary directory, a Unix
//! socket only (or, when a test asks, TCP on a free port of 127.0.0.1), run as the
//! unprivileged `postgres` user when the tests run as root, stopped and removed at the
//! end — also when the test process is killed.
//!
//! Every server directory has a watchdog: a shell (as the server's user) whose standard
//! input is a pipe only this process holds. When the pipe closes — the server is dropped,
//! or the process ends in any way — the watchdog stops the server and removes the
//! directory. `initdb` runs once per process, into a template that every server copies.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// What a test server is set up with beyond the defaults (a Unix socket, `trust` for
/// every local connection).
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// Listen on 127.0.0.1 at a free port too.
    pub tcp: bool,
    /// TLS on TCP with this certificate chain and key (PEM): `ssl = on`.
    pub tls: Option<(String, String)>,
    /// The whole `pg_hba.conf`, when the default (`trust` for everyone) will not do.
    pub hba: Option<String>,
}

/// A PostgreSQL server of this test process; stopped and removed when dropped.
#[derive(Debug)]
pub struct TestServer {
    dir: PathBuf,
    bin: PathBuf,
    port: Option<u16>,
    watchdog: Watchdog,
}

impl TestServer {
    /// Starts a server as `options` say, or panics saying how to get PostgreSQL.
    pub fn start(options: &ServerOptions) -> TestServer {
        let bin = postgres_bin().unwrap_or_else(|| panic!("{}", how_to_get_postgres()));
        let template = template(&bin);
        let dir = new_dir();
        let data = dir.join("data");
        as_postgres(Command::new("cp").arg("-a").arg(template).arg(&data), "copy the template");
        let port = options.tcp.then(free_port);
        let mut conf = format!(
            "\n# pflow test server\nlisten_addresses = '{}'\nport = {}\nunix_socket_directories = '{}'\n\
             fsync = off\nfull_page_writes = off\nmax_connections = 200\nshared_buffers = 32MB\n\
             log_min_messages = warning\n",
            if port.is_some() { "127.0.0.1" } else { "" },
            port.unwrap_or(5432),
            dir.display(),
        );
        if let Some((cert, key)) = &options.tls {
            let (cert_path, key_path) = (data.join("server.crt"), data.join("server.key"));
            write_owned(&cert_path, cert, 0o600);
            write_owned(&key_path, key, 0o600);
            conf.push_str(&format!(
                "ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\n",
                cert_path.display(),
                key_path.display()
            ));
        }
        append(&data.join("postgresql.conf"), &conf);
        if let Some(hba) = &options.hba {
            write_owned(&data.join("pg_hba.conf"), hba, 0o600);
        }
        let watchdog = Watchdog::start(&dir, Some(&bin));
        TestServer { dir, bin, port, watchdog }
    }

    /// The directory of the server's Unix socket.
    pub fn socket_dir(&self) -> &Path {
        &self.dir
    }

    /// The TCP port on 127.0.0.1, when the server listens there.
    pub fn tcp_port(&self) -> Option<u16> {
        self.port
    }

    /// The URI of database `db` as `user` over the Unix socket, with `params` appended.
    pub fn uri(&self, user: &str, db: &str, params: &str) -> String {
        let port = self.port.unwrap_or(5432);
        let extra = if params.is_empty() { String::new() } else { format!("&{params}") };
        format!("postgres://{user}@/{db}?host={}&port={port}{extra}", self.dir.display())
    }

    /// The superuser's URI of the `postgres` database.
    pub fn admin_uri(&self) -> String {
        self.uri("postgres", "postgres", "")
    }

    /// Restarts the server (`pg_ctl restart -m fast`): every connection is closed, the
    /// server is back when it returns.
    pub fn restart(&self) {
        let mut cmd = Command::new(self.bin.join("pg_ctl"));
        cmd.arg("-D").arg(self.dir.join("data")).args(["-m", "fast", "-w", "-t", "60"]);
        cmd.arg("-l").arg(self.dir.join("log")).arg("restart").stdout(Stdio::null());
        as_postgres(&mut cmd, "restart the server");
    }

    /// The server's log so far, for a failing test's message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.watchdog.stop();
    }
}

/// The watchdog of a directory: on EOF on its standard input it stops the server there
/// (if it runs one) and removes the directory.
#[derive(Debug)]
struct Watchdog {
    child: Mutex<Option<Child>>,
    stdin: Mutex<Option<ChildStdin>>,
}

impl Watchdog {
    /// Starts the watchdog of `dir`; with `bin`, it first starts the server in `dir/data`
    /// and returns once the server accepts connections.
    fn start(dir: &Path, bin: Option<&Path>) -> Watchdog {
        let script = r#"
            dir=$1 bin=$2
            if [ -n "$bin" ]; then
                if ! "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 start >/dev/null; then
                    echo failed; cat "$dir/log" >&2; rm -rf "$dir"; exit 1
                fi
            fi
            echo ready
            read _ || true
            if [ -n "$bin" ]; then "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1; fi
            rm -rf "$dir"
        "#;
        let bin: OsString = bin.map(|b| b.as_os_str().to_owned()).unwrap_or_default();
        let mut cmd = user_command("sh");
        cmd.args(["-c", script, "pflow-test-watchdog"]).arg(dir).arg(bin);
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the test server's watchdog");
        let stdin = child.stdin.take().expect("stdin is piped");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout is piped");
        BufReader::new(stdout).read_line(&mut line).expect("read the watchdog's answer");
        if line != "ready\n" {
            let output = child.wait_with_output().expect("wait for the watchdog");
            panic!(
                "the test PostgreSQL server did not start:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Watchdog { child: Mutex::new(Some(child)), stdin: Mutex::new(Some(stdin)) }
    }

    /// Closes the pipe and waits for the watchdog to have cleaned up.
    fn stop(&self) {
        drop(self.stdin.lock().unwrap_or_else(|p| p.into_inner()).take());
        if let Some(mut child) = self.child.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = child.wait();
        }
    }
}

/// The directory holding `initdb`, `pg_ctl` and `postgres`: on `PATH`, else the newest
/// `/usr/lib/postgresql/*/bin` (where Debian keeps them).
pub fn postgres_bin() -> Option<PathBuf> {
    let has_all =
        |dir: &Path| ["initdb", "pg_ctl", "postgres"].iter().all(|b| dir.join(b).is_file());
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_all(&dir) {
                // A link into the versioned directory: use that directory, so that
                // `pg_ctl` finds the `postgres` of the same version.
                let real = std::fs::canonicalize(dir.join("initdb")).ok();
                let real_dir = real.as_deref().and_then(Path::parent).filter(|d| has_all(d));
                return Some(real_dir.map_or(dir.clone(), Path::to_path_buf));
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin): &(u32, PathBuf)| has_all(bin))
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// What a test that found no PostgreSQL says.
pub fn how_to_get_postgres() -> String {
    "these tests need PostgreSQL and found none: no `initdb`, `pg_ctl` and `postgres` on PATH \
     or in /usr/lib/postgresql/*/bin. Install the server (Debian: `apt-get install \
     postgresql`), or set PFLOW_TEST_DATABASE_URL to a server where the tests may create \
     schemas (`postgres://user:password@host/db`)"
        .to_owned()
}

/// The template cluster every server of this process copies: `initdb` once.
fn template(bin: &Path) -> PathBuf {
    static TEMPLATE: OnceLock<(PathBuf, Watchdog)> = OnceLock::new();
    let (dir, _) = TEMPLATE.get_or_init(|| {
        let dir = new_dir();
        // Removed by its watchdog when this process ends.
        let watchdog = Watchdog::start(&dir, None);
        let data = dir.join("data");
        let mut initdb = Command::new(bin.join("initdb"));
        initdb.arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        ]);
        as_postgres(initdb.stdout(Stdio::null()), "initdb");
        (data, watchdog)
    });
    dir.clone()
}

/// A new temporary directory the server's user owns (0700).
fn new_dir() -> PathBuf {
    let dir = tempfile::Builder::new()
        .prefix("pflow-pg-")
        .tempdir()
        .expect("create a directory for the test server")
        .keep();
    if is_root() {
        let status = Command::new("chown").arg("postgres:postgres").arg(&dir).status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "cannot give {} to the `postgres` user: the tests run as root, and PostgreSQL \
             refuses to; they need a `postgres` user to run it as",
            dir.display()
        );
    }
    dir
}

/// A command run as the server's user: `postgres` when this process is root.
fn user_command(program: &str) -> Command {
    if is_root() {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--", program]);
        cmd
    } else {
        Command::new(program)
    }
}

/// Runs `cmd` as the server's user and panics with its output if it fails.
fn as_postgres(cmd: &mut Command, what: &str) {
    let mut run = user_command(cmd.get_program().to_str().expect("a UTF-8 program path"));
    run.args(cmd.get_args());
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            run.env(key, value);
        }
    }
    let output = run.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn is_root() -> bool {
    static ROOT: OnceLock<bool> = OnceLock::new();
    *ROOT.get_or_init(|| {
        Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
    })
}

/// Appends `text` to the file at `path` (whose owner stays the server's user).
fn append(path: &Path, text: &str) {
    let mut file =
        std::fs::OpenOptions::new().append(true).open(path).expect("open postgresql.conf");
    file.write_all(text.as_bytes()).expect("append to postgresql.conf");
}

/// Writes `text` to `path`, owned by the server's user, with `mode`.
fn write_owned(path: &Path, text: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).expect("write a server file");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    if is_root() {
        let status = Command::new("chown").arg("postgres:postgres").arg(path).status();
        assert!(status.is_ok_and(|s| s.success()), "chown {}", path.display());
    }
}

/// A TCP port of 127.0.0.1 that nothing listens on now.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("a bound address").port()
}
