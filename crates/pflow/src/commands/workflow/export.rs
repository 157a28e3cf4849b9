//! `pflow workflow export`: saved workflows as one bundle file to share (SPEC §7.1).

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use pflow_store::{ExportOptions, WorkflowManager};

use crate::commands::Outcome;
use crate::exit;
use crate::output::{Output, Style};
use crate::report::CliError;

/// Write saved workflows as one bundle, to share them or move them to another home
///
/// The bundle is JSON (docs/bundles.md): a format version, when and by which pflow it was
/// exported, and the documents, each after the workflows it calls. `pflow workflow
/// import FILE` reads it.
#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The workflows' names
    #[arg(value_name = "NAME", required = true)]
    names: Vec<String>,
    /// Also every saved workflow they call, directly or through others
    #[arg(long)]
    with_callees: bool,
    /// Also the revisions each one kept (its history), so that an import keeps them
    #[arg(long)]
    history: bool,
    /// Write the bundle to FILE (a complete file or none: written aside, then renamed)
    /// instead of stdout
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub(super) fn run(args: ExportArgs, manager: &WorkflowManager, out: &Output) -> Outcome {
    let names: Vec<&str> = args.names.iter().map(String::as_str).collect();
    let options = ExportOptions {
        with_callees: args.with_callees,
        history: args.history,
        exported_by: format!("pflow {}", env!("CARGO_PKG_VERSION")),
    };
    let (bundle, problems) = manager.export(&names, &options)?;
    crate::commands::warn_skipped(out, &problems);
    let unresolved = bundle.unresolved_calls();
    for (caller, callee) in &unresolved {
        out.warning(&format!(
            "`{caller}` calls `{callee}`, which the bundle does not hold: an import needs \
             `{callee}` saved where it is imported"
        ));
    }
    if !unresolved.is_empty() && !args.with_callees {
        out.message(&format!(
            "{} pass `--with-callees` to put the workflows they call in the bundle",
            out.paint(Style::Hint, "hint:")
        ));
    }
    let text = bundle.to_json();
    let count = bundle.workflows().len();
    let noun = if count == 1 { "workflow" } else { "workflows" };
    let listed: Vec<String> =
        bundle.workflows().iter().map(|w| format!("`{}`", w.name())).collect();
    match &args.output {
        Some(path) => {
            write_whole(path, text.as_bytes())?;
            out.message(&format!(
                "exported {count} {noun} ({}) to `{}`",
                listed.join(", "),
                path.display()
            ));
        }
        None => {
            out.data(&text)?;
            out.message(&format!("exported {count} {noun} ({})", listed.join(", ")));
        }
    }
    Ok(exit::SUCCESS)
}

/// Writes `bytes` to `path` so that `path` is at every instant absent, its old content
/// or the complete new one: a temp file beside it, synced, renamed over it, and the
/// directory synced.
fn write_whole(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let context = || format!("cannot write `{}`", path.display());
    // Only a regular file is replaced: a rename over a device, a FIFO, a socket or a
    // link would put a file where they were (as root, over `/dev/null` itself).
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        let kind = pflow_fsio::FileKind::of(meta.file_type());
        if kind != pflow_fsio::FileKind::File {
            return Err(CliError::new(format!(
                "cannot write `{}`: it is {}, not a regular file",
                path.display(),
                kind.describe()
            ))
            .hint("give `-o` the path of a regular file or of a new one, or leave `-o` out to write to stdout")
            .into());
        }
    }
    // Opened first: a missing directory is reported as such, not as the temp file's.
    let directory = std::fs::File::open(dir).with_context(context)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".pflow-bundle-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(context)?;
    // A bundle is for sharing: readable by others, as a file `cp` makes would be (the
    // temp file starts private), or with the mode of the file it replaces.
    let mode = std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode() & 0o7777);
    temp.as_file().set_permissions(std::fs::Permissions::from_mode(mode)).with_context(context)?;
    temp.write_all(bytes).with_context(context)?;
    temp.as_file().sync_all().with_context(context)?;
    temp.persist(path).map_err(|e| e.error).with_context(context)?;
    directory.sync_all().with_context(context)?;
    Ok(())
}
