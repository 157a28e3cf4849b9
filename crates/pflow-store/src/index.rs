//! The list index: a cache of every workflow's [`Summary`], keyed by file name and
//! validated against a directory scan on every listing, so that `list` reads only the
//! files that changed and never serves stale data (see docs/store.md).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::Summary;
use pflow_fsio::FileMeta;

/// The index format this version writes and reads; any other is rebuilt. Format 2: a
/// summary's `calls` include the calls inside inline `workflow_ir`s. Format 3: summaries
/// carry the node types and the input and output descriptions (for ranking a query).
const FORMAT: u32 = 3;

/// What identifies one version of a file without reading it: size, device, inode and
/// both timestamps (in nanoseconds). Any write through the filesystem changes the
/// change time, which a process cannot set back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Fingerprint(u64, u64, u64, i64, i64);

impl Fingerprint {
    pub(crate) fn of(meta: &FileMeta) -> Fingerprint {
        Fingerprint(meta.len, meta.dev, meta.ino, meta.mtime_ns, meta.ctime_ns)
    }
}

/// What reading one file gave.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    /// A good document.
    Summary(Box<Summary>),
    /// Why the file is not a usable document.
    Problem(String),
}

/// One file as it was when it was last read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Record {
    /// The file name (`<name>.json`).
    pub(crate) file: String,
    /// The file's fingerprint when it was read (from `fstat` on the open file).
    pub(crate) fp: Fingerprint,
    /// Whether the fingerprint can vouch for the content: false when the file changed
    /// so recently that a later change could leave the fingerprint equal (timestamp
    /// granularity); such records are read again by the next listing.
    pub(crate) trusted: bool,
    /// What the file held.
    pub(crate) outcome: Outcome,
}

#[derive(Debug, Deserialize)]
struct IndexFile {
    format: u32,
    records: Vec<Record>,
}

#[derive(Debug, Serialize)]
struct IndexFileRef<'a> {
    format: u32,
    records: &'a [Record],
}

/// The records of an index file, by file name; empty if the bytes are not a valid index
/// of this format (a damaged index is simply rebuilt).
pub(crate) fn decode(bytes: &[u8]) -> HashMap<String, Record> {
    match serde_json::from_slice::<IndexFile>(bytes) {
        Ok(index) if index.format == FORMAT => {
            index.records.into_iter().map(|r| (r.file.clone(), r)).collect()
        }
        _ => HashMap::new(),
    }
}

/// The bytes of an index holding `records`.
pub(crate) fn encode(records: &[Record]) -> Vec<u8> {
    let index = IndexFileRef { format: FORMAT, records };
    serde_json::to_vec(&index).expect("an index always serializes to JSON")
}
