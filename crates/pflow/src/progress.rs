//! Per-node progress of `pflow run` on stderr: the runtime's [`Observer`], drawn by the CLI.
//!
//! On a terminal each node shows `▸ id type` while it runs; the line turns into
//! `✓ id type 12 ms` (`… cached` when an `llm` node's reply came from the cache; `✗ …`
//! when the node failed, `✗ … stopped` when Ctrl-C stopped
//! the run inside it) when it finishes. Nodes of nested
//! workflows are indented two spaces per level; a parent's line is left as `▸` once its
//! children start, and its `✓` line follows theirs. A `batch` node's line counts its
//! finished items (`▸ id type 3/10`). With `-v` off a terminal the same lines are
//! printed plainly, one per start, one per finish and one per batch item. Nothing is shown with
//! `-q`, or off a terminal without `-v`.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use pflow_exec::{Event, Observer};

use crate::output::{Output, ProgressMode, Style};

/// Draws a run's progress on stderr.
#[derive(Debug)]
pub(crate) struct Progress {
    out: Output,
    mode: ProgressMode,
    /// The live line still open on the terminal.
    open: Mutex<Option<OpenLine>>,
    /// The node (depth, id) whose model reply came from the cache, until it finishes.
    cached: Mutex<Option<(usize, String)>>,
}

/// A node whose `▸` line is the last thing on the terminal.
#[derive(Debug)]
struct OpenLine {
    depth: usize,
    id: String,
    node_type: String,
    started: Instant,
}

impl Progress {
    /// The progress display `out` asks for, or `None` when nothing is to be shown.
    pub(crate) fn new(out: &Output) -> Option<Progress> {
        let mode = out.progress_mode()?;
        Some(Progress { out: out.clone(), mode, open: Mutex::new(None), cached: Mutex::new(None) })
    }

    /// Ends a live line a node left open because the run stopped inside it (Ctrl-C):
    /// the line shows the node as stopped, and what follows starts on a line of its own.
    pub(crate) fn close(&self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(line) = open.take() {
            let text = format!(
                "{}{} {} {} {} {}",
                indent(line.depth),
                self.out.paint(Style::Error, "✗"),
                line.id,
                self.out.paint(Style::Dim, &line.node_type),
                self.out.paint(Style::Dim, &duration(line.started.elapsed())),
                self.out.paint(Style::Error, "stopped"),
            );
            self.out.stderr_raw(&format!("\r\x1b[2K{text}\n"));
        }
    }

    fn started(&self, id: &str, node_type: &str, depth: usize) {
        let line = format!(
            "{}{} {id} {}",
            indent(depth),
            self.out.paint(Style::Dim, "▸"),
            self.out.paint(Style::Dim, node_type)
        );
        match self.mode {
            ProgressMode::Lines => self.out.stderr_line(&line),
            ProgressMode::Live => {
                let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
                if open.take().is_some() {
                    self.out.stderr_raw("\n");
                }
                self.out.stderr_raw(&line);
                *open = Some(OpenLine {
                    depth,
                    id: id.to_owned(),
                    node_type: node_type.to_owned(),
                    started: Instant::now(),
                });
            }
        }
    }

    /// A batch node's count of finished items: its live line shows `3/10`, or a line per
    /// item off a terminal.
    fn batch_item(&self, id: &str, depth: usize, done: usize, total: usize, failed: bool) {
        let count = format!("{done}/{total}");
        match self.mode {
            ProgressMode::Lines => {
                let how = if failed { "item failed" } else { "item done" };
                self.out.stderr_line(&format!("{}{id}: {how}, {count}", indent(depth + 1)));
            }
            ProgressMode::Live => {
                let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(line) = open.as_ref().filter(|l| l.depth == depth && l.id == id) {
                    self.out.stderr_raw(&format!(
                        "\r\x1b[2K{}{} {id} {} {}",
                        indent(depth),
                        self.out.paint(Style::Dim, "▸"),
                        self.out.paint(Style::Dim, &line.node_type),
                        self.out.paint(Style::Dim, &count),
                    ));
                }
            }
        }
    }

    fn finished(&self, finish: &Finish<'_>) {
        let (mark, style) =
            if finish.failed { ("✗", Style::Error) } else { ("✓", Style::Good) };
        let mut line = format!(
            "{}{} {} {} {}",
            indent(finish.depth),
            self.out.paint(style, mark),
            finish.id,
            self.out.paint(Style::Dim, finish.node_type),
            self.out.paint(Style::Dim, &duration(finish.duration)),
        );
        let cached = self.cached.lock().unwrap_or_else(PoisonError::into_inner).take();
        if cached.is_some_and(|(depth, id)| depth == finish.depth && id == finish.id) {
            line.push_str(&format!(" {}", self.out.paint(Style::Dim, "cached")));
        }
        if finish.action != pflow_ir::DEFAULT_ACTION {
            line.push_str(&format!(" → {}", finish.action));
        }
        match self.mode {
            ProgressMode::Lines => self.out.stderr_line(&line),
            ProgressMode::Live => {
                let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
                match open.take() {
                    // Still this node's line: rewrite it in place.
                    Some(open) if open.depth == finish.depth && open.id == finish.id => {
                        self.out.stderr_raw(&format!("\r\x1b[2K{line}\n"));
                    }
                    Some(_) => self.out.stderr_raw(&format!("\n{line}\n")),
                    None => self.out.stderr_raw(&format!("{line}\n")),
                }
            }
        }
    }
}

impl Observer for Progress {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::NodeStarted { node_id, node_type, depth } => {
                self.started(node_id, node_type, *depth);
            }
            Event::NodeFinished { node_id, node_type, depth, duration, action, error } => {
                self.finished(&Finish {
                    id: node_id,
                    node_type,
                    depth: *depth,
                    duration: *duration,
                    action,
                    failed: error.is_some(),
                });
            }
            Event::BatchItem { node_id, depth, done, total, error, .. } => {
                self.batch_item(node_id, *depth, *done, *total, error.is_some());
            }
            Event::ModelCall { depth, call } if call.cached => {
                *self.cached.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some((*depth, call.node_id.clone()));
            }
            // Events added to the runtime later are not shown until the CLI learns them.
            _ => {}
        }
    }
}

/// What a finished node's line shows.
struct Finish<'a> {
    id: &'a str,
    node_type: &'a str,
    depth: usize,
    duration: Duration,
    action: &'a str,
    failed: bool,
}

/// Two spaces per nesting level, under a two-space margin.
fn indent(depth: usize) -> String {
    " ".repeat(2 + 2 * depth)
}

/// A duration for people: `0.4 ms`, `12 ms`, `3.2 s`, `2 min 05 s`.
pub(crate) fn duration(d: Duration) -> String {
    let micros = d.as_micros();
    if micros < 10_000 {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    } else if micros < 1_000_000 {
        format!("{} ms", d.as_millis())
    } else if d.as_secs() < 60 {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{} min {:02} s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(micros: u64, expected: &str) {
        assert_eq!(duration(Duration::from_micros(micros)), expected);
    }

    #[test]
    fn durations_read_naturally() {
        check(0, "0.0 ms");
        check(420, "0.4 ms");
        check(9_940, "9.9 ms");
        check(12_345, "12 ms");
        check(999_999, "999 ms");
        check(3_210_000, "3.2 s");
        check(125_000_000, "2 min 05 s");
    }
}
