//! The file nodes: `read-file`, `write-file`, `copy-file`, `move-file`, `delete-file`.
//!
//! Relative paths are relative to pflow's current directory. Every error names the path.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use pflow_fsio::read_regular_file_follow;
use pflow_ir::NodeSpec;
use pflow_ir::ValueType::{Boolean, Integer, String as Str};
use pflow_store::one_line;
use rustix::fs::OFlags;
use serde_json::{Map, Value, json};

use super::{optional, output, required, spec};
use crate::{Node, NodeContext, NodeError, NodeOutcome, Params};

/// The largest file `read-file` reads: 64 MiB. A bigger file is an error, not read at all.
pub(crate) const MAX_READ_BYTES: u64 = 64 * 1024 * 1024;

/// The names of the encodings `read-file` reads, compared without regard to ASCII case:
/// UTF-8 (invalid UTF-8 is an error) and Latin-1 (every byte is a character).
const UTF8_NAMES: [&str; 2] = ["utf-8", "utf8"];
const LATIN1_NAMES: [&str; 3] = ["latin-1", "latin1", "iso-8859-1"];

/// The `read-file` node type.
#[derive(Debug)]
pub(crate) struct ReadFile {
    spec: NodeSpec,
}

impl ReadFile {
    pub(crate) fn new() -> ReadFile {
        let mut spec = spec("read-file", "file", "Read a text file");
        spec.params = vec![
            required("file_path", Some(Str), "The file to read"),
            optional(
                "encoding",
                Some(Str),
                Some(json!("utf-8")),
                "How the bytes are decoded: `utf-8` (invalid UTF-8 is an error) or `latin-1`",
            )
            .with_enum(UTF8_NAMES.into_iter().chain(LATIN1_NAMES))
            .ignoring_case(),
        ];
        spec.outputs = vec![output("content", Some(Str), "The text of the file")];
        ReadFile { spec }
    }
}

impl Node for ReadFile {
    fn spec(&self) -> &NodeSpec {
        &self.spec
    }

    fn execute(&self, params: &Params, _ctx: &NodeContext<'_>) -> Result<NodeOutcome, NodeError> {
        let path = params.required_str("file_path")?;
        let encoding = params.str("encoding")?.unwrap_or("utf-8");
        // The spec check let only the names of these two encodings through.
        let latin1 = LATIN1_NAMES.iter().any(|n| n.eq_ignore_ascii_case(encoding));
        let bytes = read_regular_file_follow(Path::new(path), MAX_READ_BYTES).map_err(|e| {
            let io = matches!(e, pflow_fsio::ReadFileError::Io(_));
            let error = NodeError::new(format!("cannot read `{path}`: {}", one_line(&e)));
            // A file of the wrong kind or size stays so; 0.16 retries only IO errors.
            if io { error.retriable() } else { error }
        })?;
        let content = if latin1 {
            bytes.iter().map(|&b| char::from(b)).collect()
        } else {
            String::from_utf8(bytes).map_err(|e| {
                NodeError::new(format!(
                    "`{path}` is not valid UTF-8 (byte {}); set `encoding` to `latin-1` to read \
                     it anyway",
                    e.utf8_error().valid_up_to()
                ))
            })?
        };
        Ok(NodeOutcome::new(one("content", json!(content))))
    }
}

/// The `write-file` node type.
#[derive(Debug)]
pub(crate) struct WriteFile {
    spec: NodeSpec,
}

impl WriteFile {
    pub(crate) fn new() -> WriteFile {
        let mut spec =
            spec("write-file", "file", "Write text to a file, creating its parent directories");
        spec.params = vec![
            required("file_path", Some(Str), "The file to write"),
            required(
                "content",
                None,
                "What to write: a string as it is, any other JSON value pretty-printed",
            ),
            optional(
                "append",
                Some(Boolean),
                Some(json!(false)),
                "Add to the end of the file instead of replacing it",
            ),
        ];
        spec.outputs = vec![
            output("file_path", Some(Str), "The file written, as given"),
            output("bytes_written", Some(Integer), "How many bytes were written"),
        ];
        WriteFile { spec }
    }
}

impl Node for WriteFile {
    fn spec(&self) -> &NodeSpec {
        &self.spec
    }

    fn execute(&self, params: &Params, _ctx: &NodeContext<'_>) -> Result<NodeOutcome, NodeError> {
        let path = params.required_str("file_path")?;
        let append = params.bool("append")?.unwrap_or(false);
        let content = match params.as_map().get("content") {
            None => return Err(NodeError::new("missing required param `content`")),
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                serde_json::to_string_pretty(other).expect("a JSON value always serializes")
            }
        };
        create_parent(path)?;
        let mut options = OpenOptions::new();
        options.write(true).create(true).append(append).truncate(!append);
        let mut file = open_regular(&options, path).map_err(|e| io_error("open", path, &e))?;
        file.write_all(content.as_bytes()).map_err(|e| io_error("write", path, &e))?;
        let mut outputs = one("file_path", json!(path));
        outputs.insert("bytes_written".to_owned(), json!(content.len()));
        Ok(NodeOutcome::new(outputs))
    }
}

/// The `copy-file` node type.
#[derive(Debug)]
pub(crate) struct CopyFile {
    spec: NodeSpec,
}

impl CopyFile {
    pub(crate) fn new() -> CopyFile {
        let mut spec = spec("copy-file", "file", "Copy a file, creating the destination's parents");
        spec.params = transfer_params();
        spec.outputs = vec![output("dest_path", Some(Str), "Where the copy is, as given")];
        CopyFile { spec }
    }
}

impl Node for CopyFile {
    fn spec(&self) -> &NodeSpec {
        &self.spec
    }

    fn execute(&self, params: &Params, _ctx: &NodeContext<'_>) -> Result<NodeOutcome, NodeError> {
        let (source, dest, overwrite) = transfer_args(params)?;
        copy(source, dest, overwrite)?;
        Ok(NodeOutcome::new(one("dest_path", json!(dest))))
    }
}

/// The `move-file` node type.
#[derive(Debug)]
pub(crate) struct MoveFile {
    spec: NodeSpec,
}

impl MoveFile {
    pub(crate) fn new() -> MoveFile {
        let mut spec =
            spec("move-file", "file", "Move or rename a file, creating the destination's parents");
        spec.params = transfer_params();
        spec.outputs = vec![output("dest_path", Some(Str), "Where the file is now, as given")];
        MoveFile { spec }
    }
}

impl Node for MoveFile {
    fn spec(&self) -> &NodeSpec {
        &self.spec
    }

    fn execute(&self, params: &Params, _ctx: &NodeContext<'_>) -> Result<NodeOutcome, NodeError> {
        let (source, dest, overwrite) = transfer_args(params)?;
        let meta = fs::symlink_metadata(source).map_err(|e| io_error("move", source, &e))?;
        create_parent(dest)?;
        let renamed = if overwrite {
            fs::rename(source, dest)
        } else {
            pflow_fsio::rename_noreplace(Path::new(source), Path::new(dest))
        };
        match renamed {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(dest_exists(dest)),
            Err(e) if e.kind() == io::ErrorKind::CrossesDevices && meta.is_file() => {
                // Another filesystem: copy, then remove the source.
                copy(source, dest, overwrite)?;
                fs::remove_file(source).map_err(|e| io_error("remove", source, &e))?;
            }
            Err(e) => return Err(io_error("move", source, &e)),
        }
        Ok(NodeOutcome::new(one("dest_path", json!(dest))))
    }
}

/// The `delete-file` node type.
#[derive(Debug)]
pub(crate) struct DeleteFile {
    spec: NodeSpec,
}

impl DeleteFile {
    pub(crate) fn new() -> DeleteFile {
        let mut spec = spec("delete-file", "file", "Delete a file (not a directory)");
        spec.params = vec![
            required("file_path", Some(Str), "The file to delete"),
            optional(
                "missing_ok",
                Some(Boolean),
                Some(json!(false)),
                "Succeed when the file does not exist",
            ),
        ];
        spec.outputs =
            vec![output("deleted", Some(Boolean), "Whether a file was deleted (false if missing)")];
        DeleteFile { spec }
    }
}

impl Node for DeleteFile {
    fn spec(&self) -> &NodeSpec {
        &self.spec
    }

    fn execute(&self, params: &Params, _ctx: &NodeContext<'_>) -> Result<NodeOutcome, NodeError> {
        let path = params.required_str("file_path")?;
        let missing_ok = params.bool("missing_ok")?.unwrap_or(false);
        let deleted = match fs::symlink_metadata(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound && missing_ok => false,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(NodeError::new(format!(
                    "file `{path}` does not exist; set `missing_ok` to true to allow that"
                )));
            }
            Err(e) => return Err(io_error("delete", path, &e)),
            Ok(meta) if meta.is_dir() => {
                return Err(NodeError::new(format!("`{path}` is a directory, not a file")));
            }
            Ok(_) => match fs::remove_file(path) {
                Ok(()) => true,
                Err(e) if e.kind() == io::ErrorKind::NotFound && missing_ok => false,
                Err(e) => return Err(io_error("delete", path, &e)),
            },
        };
        Ok(NodeOutcome::new(one("deleted", json!(deleted))))
    }
}

/// The params shared by `copy-file` and `move-file`.
fn transfer_params() -> Vec<pflow_ir::ParamSpec> {
    vec![
        required("source_path", Some(Str), "The file to take"),
        required("dest_path", Some(Str), "Where it goes"),
        optional(
            "overwrite",
            Some(Boolean),
            Some(json!(false)),
            "Replace an existing destination; when false an existing destination is an error",
        ),
    ]
}

fn transfer_args(params: &Params) -> Result<(&str, &str, bool), NodeError> {
    Ok((
        params.required_str("source_path")?,
        params.required_str("dest_path")?,
        params.bool("overwrite")?.unwrap_or(false),
    ))
}

/// Copies the file `source` to `dest`; without `overwrite`, an existing `dest` is refused
/// atomically (the destination is created with `O_EXCL`).
fn copy(source: &str, dest: &str, overwrite: bool) -> Result<(), NodeError> {
    // Opened before anything else, without blocking (a FIFO would wait for a writer), and
    // checked on the open descriptor so the path cannot be swapped in between.
    let mut input = open_regular(OpenOptions::new().read(true), source)
        .map_err(|e| io_error("copy", source, &e))?;
    let meta = input.metadata().map_err(|e| io_error("copy", source, &e))?;
    if let (Ok(a), Ok(b)) = (fs::canonicalize(source), fs::canonicalize(dest))
        && a == b
    {
        return Err(NodeError::new(format!("`{source}` and `{dest}` are the same file")));
    }
    create_parent(dest)?;
    let mut options = OpenOptions::new();
    options.write(true);
    if overwrite {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut output = open_regular(&options, dest).map_err(|e| {
        if e.kind() == io::ErrorKind::AlreadyExists {
            dest_exists(dest)
        } else {
            io_error("create", dest, &e)
        }
    })?;
    io::copy(&mut input, &mut output).map_err(|e| io_error("copy to", dest, &e))?;
    output.set_permissions(meta.permissions()).map_err(|e| io_error("set permissions of", dest, &e))
}

/// Opens `path` as `options` say (read, or write with create, truncate, append,
/// exclusive), but only as a regular file, checked on the open descriptor so the path
/// cannot be swapped in between. The open itself does not block: a FIFO would wait for
/// the other end (forever, uninterruptibly), and a device is not a file.
fn open_regular(options: &OpenOptions, path: &str) -> io::Result<File> {
    // `O_NONBLOCK` for the open only; cleared once the file is known to be regular.
    let mut options = options.clone();
    options.custom_flags((OFlags::NONBLOCK | OFlags::NOCTTY).bits() as i32);
    let file = options.open(path).map_err(|e| match fs::metadata(path) {
        Ok(meta) if !meta.is_file() => not_regular(&meta),
        _ => e,
    })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    rustix::fs::fcntl_setfl(&file, rustix::fs::fcntl_getfl(&file)? - OFlags::NONBLOCK)?;
    Ok(file)
}

/// The error for something that is not a regular file, saying what it is.
fn not_regular(meta: &fs::Metadata) -> io::Error {
    let ty = meta.file_type();
    let kind = if ty.is_dir() {
        "a directory"
    } else if ty.is_fifo() {
        "a FIFO"
    } else if ty.is_socket() {
        "a socket"
    } else if ty.is_char_device() || ty.is_block_device() {
        "a device"
    } else {
        "something else"
    };
    io::Error::other(format!("not a regular file ({kind})"))
}

/// Creates the parent directories of `path`.
fn create_parent(path: &str) -> Result<(), NodeError> {
    match Path::new(path).parent() {
        Some(parent) if !parent.as_os_str().is_empty() => fs::create_dir_all(parent)
            .map_err(|e| io_error("create directory", &parent.display().to_string(), &e)),
        _ => Ok(()),
    }
}

fn dest_exists(dest: &str) -> NodeError {
    NodeError::new(format!(
        "destination `{dest}` already exists; set `overwrite` to true to replace it"
    ))
}

/// An IO failure while the node works; 0.16 retries these.
fn io_error(action: &str, path: &str, error: &io::Error) -> NodeError {
    NodeError::new(format!("cannot {action} `{path}`: {error}")).retriable()
}

fn one(key: &str, value: Value) -> Map<String, Value> {
    let mut map = Map::with_capacity(2);
    map.insert(key.to_owned(), value);
    map
}
