//! A real pseudo-terminal for the interactive tests: runs a command as the session leader
//! of a new pty (so `/dev/tty` is that pty), reads everything it draws on a thread, and
//! types keys once the expected text has appeared.
//!
//! Waiting is always for text, never for time: [`Terminal::expect`] blocks until the
//! screen shows the text. Its deadline only turns a hang into a failure that shows what
//! the terminal printed.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use pflow_tests::{TestHome, pflow_bin};
use portable_pty::{Child, CommandBuilder, PtySize, native_pty_system};

/// How long [`Terminal::expect`] waits before it fails the test (a hang, not a timing).
const DEADLINE: Duration = Duration::from_secs(60);

/// Ctrl-C as the terminal sends it.
pub(crate) const CTRL_C: &str = "\x03";
/// Enter in a raw-mode prompt.
pub(crate) const ENTER: &str = "\r";
/// Backspace.
pub(crate) const BACKSPACE: &str = "\x7f";

/// A command running on its own pseudo-terminal.
pub(crate) struct Terminal {
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    screen: Arc<(Mutex<Screen>, Condvar)>,
    /// How much of the output earlier `expect`s consumed.
    seen: usize,
}

#[derive(Default)]
struct Screen {
    bytes: Vec<u8>,
    closed: bool,
}

impl Terminal {
    /// Runs `pflow ARGS` on a new terminal, in `cwd`, with the hermetic environment of
    /// [`TestHome::command`]: only `PFLOW_HOME`, `HOME`, `PATH`, `NO_COLOR` and `TERM`.
    pub(crate) fn pflow(home: &TestHome, cwd: &Path, args: &[&str]) -> Terminal {
        let mut command = CommandBuilder::new(pflow_bin());
        command.args(args);
        Terminal::spawn(home, cwd, command, None)
    }

    /// Runs `sh -c SCRIPT` on a new terminal; `$PFLOW` in the script is the binary.
    pub(crate) fn shell(home: &TestHome, cwd: &Path, script: &str) -> Terminal {
        let mut command = CommandBuilder::new("sh");
        command.args(["-c", script]);
        Terminal::spawn(home, cwd, command, Some(("PFLOW", pflow_bin().into_os_string())))
    }

    fn spawn(
        home: &TestHome,
        cwd: &Path,
        mut command: CommandBuilder,
        extra: Option<(&str, OsString)>,
    ) -> Terminal {
        let pty = native_pty_system()
            .openpty(PtySize { rows: 40, cols: 120, pixel_width: 0, pixel_height: 0 })
            .expect("open a pseudo-terminal");
        let keep = [("PATH", std::env::var_os("PATH").unwrap_or_default())];
        command.env_clear();
        for (key, value) in keep {
            command.env(key, value);
        }
        command.env("PFLOW_HOME", home.path());
        command.env("HOME", home.path());
        command.env("NO_COLOR", "1");
        command.env("TERM", "xterm");
        if let Some((key, value)) = extra {
            command.env(key, value);
        }
        command.cwd(cwd);
        let child = pty.slave.spawn_command(command).expect("start the command on the pty");
        // Only the child holds the terminal now, so its exit closes the master's reads.
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("read the pty");
        let writer = pty.master.take_writer().expect("write the pty");
        let screen = Arc::new((Mutex::new(Screen::default()), Condvar::new()));
        let shared = Arc::clone(&screen);
        std::thread::spawn(move || {
            // Keep the master open while reading: dropping it would hang up the terminal.
            let _master = pty.master;
            let mut chunk = [0u8; 4096];
            loop {
                // Linux reports the far end's close as EIO; either way, the output ended.
                let n = reader.read(&mut chunk).unwrap_or(0);
                let (lock, ready) = &*shared;
                let mut screen = lock.lock().unwrap_or_else(PoisonError::into_inner);
                if n == 0 {
                    screen.closed = true;
                    ready.notify_all();
                    return;
                }
                screen.bytes.extend_from_slice(&chunk[..n]);
                ready.notify_all();
            }
        });
        Terminal { child, writer, screen, seen: 0 }
    }

    /// Waits until the terminal shows `text` after what earlier calls consumed, and
    /// consumes up to its end. Escape sequences are ignored when matching.
    #[track_caller]
    pub(crate) fn expect(&mut self, text: &str) {
        let started = Instant::now();
        let (lock, ready) = &*self.screen;
        let mut screen = lock.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let plain = plain_text(&screen.bytes[self.seen..]);
            if let Some(at) = plain.find(text) {
                // Map the match back to a byte offset in the raw output.
                self.seen += raw_offset(&screen.bytes[self.seen..], at + text.len());
                return;
            }
            let waited = started.elapsed();
            assert!(
                !screen.closed && waited < DEADLINE,
                "the terminal never showed {text:?}; it showed:\n{}",
                plain_text(&screen.bytes)
            );
            screen = ready
                .wait_timeout(screen, DEADLINE - waited)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Types `keys` on the terminal.
    pub(crate) fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).expect("type on the terminal");
        self.writer.flush().expect("type on the terminal");
    }

    /// Waits for the command to end; its exit code and the lines the terminal showed, as
    /// [`rendered`] gives them.
    pub(crate) fn finish(mut self) -> (u32, String) {
        let status = self.child.wait().expect("wait for the command");
        let (lock, ready) = &*self.screen;
        let mut screen = lock.lock().unwrap_or_else(PoisonError::into_inner);
        let started = Instant::now();
        while !screen.closed {
            let waited = started.elapsed();
            assert!(waited < DEADLINE, "the terminal stayed open after the command ended");
            screen = ready
                .wait_timeout(screen, DEADLINE - waited)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        (status.exit_code(), rendered(&screen.bytes))
    }
}

impl Drop for Terminal {
    /// A test that failed half-way must not leave its command waiting for keys.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
    }
}

/// The lines `bytes` leave on a terminal, roughly: escape sequences removed, and a line
/// rewritten after a carriage return (`\r`, as progress lines are) shows only its last
/// version.
pub(crate) fn rendered(bytes: &[u8]) -> String {
    let text = plain_text(bytes).replace("\r\n", "\n");
    let lines: Vec<&str> =
        text.split('\n').map(|line| line.rsplit('\r').next().unwrap_or(line)).collect();
    lines.join("\n")
}

/// `bytes` as text with terminal escape sequences (CSI, OSC and two-byte escapes) removed.
pub(crate) fn plain_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        match chars.next() {
            // CSI: parameters and intermediates, then one final byte in @..~.
            Some('[') => {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            // OSC: up to BEL or ST.
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\x07' || (c == '\x1b' && chars.next_if_eq(&'\\').is_some()) {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// The byte offset in `raw` just past the first `plain_len` bytes of its plain text.
fn raw_offset(raw: &[u8], plain_len: usize) -> usize {
    (0..=raw.len()).find(|&end| plain_text(&raw[..end]).len() >= plain_len).unwrap_or(raw.len())
}
