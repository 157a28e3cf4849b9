//! Reading a workflow (JSON or `.pflow.md`) or a bundle from a file named on the command
//! line, or from stdin (`-`).
//!
//! A named file must be a regular file (a FIFO, socket or device is refused without
//! blocking on it) of at most [`MAX_INPUT_BYTES`], checked before anything is read; stdin
//! is read up to the same limit. JSON that does not parse is one line:
//! ``error: `FILE` is not valid JSON: <what> at line L, column C``.

use std::io::Read;
use std::path::Path;

use anyhow::Context;
use pflow_fsio::ReadFileError;
use pflow_store::{WorkflowFile, WorkflowFileError, WorkflowFormat};

use crate::output::Output;
use crate::report::CliError;

/// The largest input read: 16 MiB, the same limit as a stored document.
pub(crate) const MAX_INPUT_BYTES: u64 = pflow_store::MAX_DOCUMENT_BYTES;

/// Whether `file` means stdin (`-`).
pub(crate) fn is_stdin(file: &Path) -> bool {
    file.as_os_str() == "-"
}

/// Where a workflow read from `file` comes from: the file, or inline for stdin.
pub(crate) fn origin(file: &Path) -> pflow_store::Origin {
    if is_stdin(file) {
        pflow_store::Origin::Inline
    } else {
        pflow_store::Origin::File(file.to_path_buf())
    }
}

/// How messages name the input: `stdin`, or the path in backticks.
pub(crate) fn label(file: &Path) -> String {
    if is_stdin(file) { "stdin".to_owned() } else { format!("`{}`", file.display()) }
}

/// The bytes of `file` (stdin for `-`), at most [`MAX_INPUT_BYTES`].
pub(crate) fn read_bytes(file: &Path) -> anyhow::Result<Vec<u8>> {
    read_bytes_within(file, MAX_INPUT_BYTES, WORKFLOW_HINT)
}

/// What to say of a workflow file that is too large.
const WORKFLOW_HINT: &str = "a workflow is a small JSON file; check that this is the right one";

/// The bytes of `file` (stdin for `-`), at most `limit`, read as every input is; `hint`
/// says what to do with a file that is larger.
pub(crate) fn read_bytes_within(file: &Path, limit: u64, hint: &str) -> anyhow::Result<Vec<u8>> {
    let label = label(file);
    if is_stdin(file) {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot read {label}"))?;
        if bytes.len() as u64 > limit {
            return Err(too_large(&label, None, limit).hint(hint).into());
        }
        return Ok(bytes);
    }
    pflow_fsio::read_regular_file_follow(file, limit).map_err(|e| match e {
        ReadFileError::NotRegular { kind } => CliError::new(format!(
            "cannot read {label}: it is {}, not a regular file",
            kind.describe()
        ))
        .hint("give the path of a JSON file, or `-` to read stdin")
        .into(),
        ReadFileError::TooLarge { size, .. } => {
            too_large(&label, Some(size), limit).hint(hint).into()
        }
        ReadFileError::Io(io) => anyhow::Error::new(io).context(format!("cannot read {label}")),
        other => anyhow::Error::new(other).context(format!("cannot read {label}")),
    })
}

/// The workflow in `file`, in the format its name says (JSON, or a `.pflow.md`); stdin
/// (`-`) is JSON. The outer error: the file cannot be read; the inner one: what it holds
/// is no workflow (not JSON, or a `.pflow.md` with errors, each at its line).
pub(crate) fn read_workflow(
    file: &Path,
) -> anyhow::Result<Result<WorkflowFile, WorkflowFileError>> {
    let bytes = read_bytes(file)?;
    Ok(parse_workflow(file, &bytes))
}

/// `bytes`, read from `file`, as [`read_workflow`] reads them.
fn parse_workflow(file: &Path, bytes: &[u8]) -> Result<WorkflowFile, WorkflowFileError> {
    let format = if is_stdin(file) { WorkflowFormat::Json } else { WorkflowFormat::of(file) };
    WorkflowFile::parse(file, bytes, format)
}

/// [`read_workflow`] for a command that stops at a file that is no workflow: a
/// `.pflow.md`'s findings are printed, then one error sums them up.
pub(crate) fn workflow(file: &Path, out: &Output) -> anyhow::Result<WorkflowFile> {
    let bytes = read_bytes(file)?;
    workflow_from(file, &bytes, out)
}

/// [`workflow`] of `bytes` already read from `file`.
pub(crate) fn workflow_from(
    file: &Path,
    bytes: &[u8],
    out: &Output,
) -> anyhow::Result<WorkflowFile> {
    match parse_workflow(file, bytes) {
        Ok(workflow) => Ok(workflow),
        Err(WorkflowFileError::Markdown { findings, .. }) => {
            out.diagnostics(&findings);
            let errors = findings.errors().count().max(1);
            let noun = if errors == 1 { "error" } else { "errors" };
            Err(CliError::new(format!("{} is not a valid .pflow.md: {errors} {noun}", label(file)))
                .hint("fix the problems above; each names its line in the file")
                .into())
        }
        Err(WorkflowFileError::Json { source, .. }) => {
            Err(CliError::new(format!("{} is not valid JSON: {source}", label(file))).into())
        }
        Err(other) => Err(anyhow::Error::new(other)),
    }
}

fn too_large(label: &str, size: Option<u64>, limit: u64) -> CliError {
    let limit = limit / (1024 * 1024);
    let message = match size {
        Some(size) => {
            format!("{label} is too large: {size} bytes, more than the limit of {limit} MiB")
        }
        None => format!("{label} is too large: more than the limit of {limit} MiB"),
    };
    CliError::new(message)
}
