//! The list index: a cache of every workflow's [`Summary`], keyed by file name and
//! validated against a directory scan on every listing, so that `list` reads only the
//! files that changed and never serves stale data (see docs/store.md).
//!
//! The index is one JSON document written one record per line, sorted by workflow name,
//! so that a listing reads it as a stream — one line at a time, merged with the sorted
//! directory scan — and never holds it whole:
//!
//! ```text
//! {"format":4,"records":[
//! {"file":"a.json","fp":[…],"trusted":true,"outcome":{"summary":{…}}}
//! ,{"file":"b.json",…}
//! ]}
//! ```

use std::io::{self, BufRead, BufReader, Read};

use serde::{Deserialize, Serialize};

use crate::Summary;
use crate::vfs::FsRead;
use pflow_fsio::FileMeta;

/// The first line of an index of the format this version writes and reads (format 4);
/// an index of any other format is rebuilt. Format 2: a summary's `calls` include the
/// calls inside inline `workflow_ir`s. Format 3: summaries carry the node types and the
/// input and output descriptions (for ranking a query). Format 4: one record per line,
/// sorted by name, read as a stream.
pub(crate) const HEADER: &[u8] = b"{\"format\":4,\"records\":[\n";
/// The last line.
pub(crate) const END: &[u8] = b"]}\n";
/// The longest line read: a record holds a summary of a document of at most 16 MiB, and
/// JSON escapes can make it longer; a longer line is damage.
const MAX_LINE_BYTES: u64 = 64 * 1024 * 1024;

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

impl Record {
    /// The workflow name part of the file name.
    pub(crate) fn stem(&self) -> &str {
        self.file.strip_suffix(".json").unwrap_or(&self.file)
    }
}

/// The line of `record` in an index, `first` when no record comes before it.
pub(crate) fn encode_record(record: &Record, first: bool) -> Vec<u8> {
    let mut line = Vec::with_capacity(512);
    if !first {
        line.push(b',');
    }
    serde_json::to_writer(&mut line, record).expect("a record always serializes to JSON");
    line.push(b'\n');
    line
}

/// An index being read, one record at a time, in name order.
///
/// A missing index reads as empty and intact; a damaged one (another format, a line that
/// is not a record, records out of order, no last line) reads as the records before the
/// damage, and is not intact, so the listing writes a new one.
#[derive(Debug)]
pub(crate) struct IndexReader {
    file: Option<BufReader<Box<dyn FsRead>>>,
    /// Where the next line starts.
    offset: u64,
    /// The next record and where its line ends.
    peeked: Option<(Record, u64)>,
    /// Whether the last line or damage was reached.
    done: bool,
    intact: bool,
    line: Vec<u8>,
    last: Option<String>,
}

impl IndexReader {
    /// Starts reading `file` (none: there is no index).
    pub(crate) fn new(file: Option<Box<dyn FsRead>>) -> IndexReader {
        let mut reader = IndexReader {
            file: None,
            offset: 0,
            peeked: None,
            done: true,
            intact: true,
            line: Vec::new(),
            last: None,
        };
        let Some(file) = file else { return reader };
        let mut file = BufReader::with_capacity(64 * 1024, file);
        let mut header = Vec::new();
        match (&mut file).take(HEADER.len() as u64).read_to_end(&mut header) {
            Ok(_) if header == HEADER => {
                reader.offset = HEADER.len() as u64;
                reader.file = Some(file);
                reader.done = false;
                reader.advance();
            }
            _ => reader.intact = false,
        }
        reader
    }

    /// Where the records start in the file.
    pub(crate) fn records_start() -> u64 {
        HEADER.len() as u64
    }

    /// The next record, without taking it.
    pub(crate) fn peek(&self) -> Option<&Record> {
        self.peeked.as_ref().map(|(record, _)| record)
    }

    /// Takes the next record, with the offset where its line ends.
    pub(crate) fn next(&mut self) -> Option<(Record, u64)> {
        let next = self.peeked.take();
        if next.is_some() {
            self.advance();
        }
        next
    }

    /// Whether the index was read to its last line without finding damage (so far).
    pub(crate) fn intact(&self) -> bool {
        self.intact
    }

    /// Copies the bytes `start..end` of the index file to `sink` (the records a new
    /// index keeps as they are), read at their offsets without disturbing the stream.
    pub(crate) fn copy(
        &self,
        start: u64,
        end: u64,
        sink: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        let Some(file) = &self.file else {
            return if start == end { Ok(()) } else { Err(io::ErrorKind::UnexpectedEof.into()) };
        };
        let mut buffer = vec![0u8; 64 * 1024];
        let mut at = start;
        while at < end {
            let want = usize::try_from(end - at).unwrap_or(usize::MAX).min(buffer.len());
            let n = file.get_ref().read_at(&mut buffer[..want], at)?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            sink(&buffer[..n])?;
            at += n as u64;
        }
        Ok(())
    }

    /// Reads the next line into `peeked`, or finds the end or damage.
    fn advance(&mut self) {
        let Some(file) = &mut self.file else { return };
        if self.done {
            return;
        }
        self.line.clear();
        let read = file.by_ref().take(MAX_LINE_BYTES).read_until(b'\n', &mut self.line);
        let record = match read {
            Ok(0) => None, // no last line: damage
            Ok(n) if self.line.ends_with(b"\n") => {
                self.offset += n as u64;
                if self.line == END {
                    self.done = true;
                    return;
                }
                let text = &self.line[..self.line.len() - 1];
                let text = match (self.last.is_some(), text.strip_prefix(b",")) {
                    (true, Some(rest)) => Some(rest),
                    (false, None) => Some(text),
                    _ => None,
                };
                let record = text.and_then(|t| serde_json::from_slice::<Record>(t).ok());
                match record {
                    // Names strictly increasing: the merge relies on it.
                    Some(r) if self.last.as_deref().is_none_or(|last| last < r.stem()) => Some(r),
                    _ => None,
                }
            }
            _ => None,
        };
        match record {
            Some(record) => {
                self.last = Some(record.stem().to_owned());
                self.peeked = Some((record, self.offset));
            }
            None => {
                self.intact = false;
                self.done = true;
            }
        }
    }
}
