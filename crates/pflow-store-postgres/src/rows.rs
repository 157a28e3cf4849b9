//! Reading the store's rows back: documents checked to be the workflow their row says,
//! summaries, timestamps and revision numbers in the forms the tables keep them.

use pflow_ir::{Document, Timestamp, WorkflowName};
use pflow_store::{Listed, Problem, Summary};
use time::OffsetDateTime;

/// Parses a stored document and checks that it is the one its row says (as the
/// filesystem store checks the file name): the same reasons as the filesystem store's
/// for a document that cannot be read.
pub(crate) fn parse_document(name: &WorkflowName, text: &str) -> Result<Document, String> {
    let value = pflow_ir::parse_json(text.as_bytes()).map_err(|e| {
        format!("invalid JSON at line {}, column {}: {}", e.line, e.column, e.message)
    })?;
    let doc: Document =
        serde_json::from_value(value).map_err(|e| format!("not a workflow document: {e}"))?;
    if doc.name != *name {
        return Err(format!("name `{}` inside does not match the row's name `{name}`", doc.name));
    }
    Ok(doc)
}

/// A kept revision's document, checked to be revision `revision` of `name`.
pub(crate) fn parse_revision(
    name: &WorkflowName,
    revision: u64,
    text: &str,
) -> Result<Document, String> {
    let doc = parse_document(name, text)?;
    if doc.revision != revision {
        return Err(format!("holds revision {} instead of {revision}", doc.revision));
    }
    Ok(doc)
}

/// The summary kept beside `doc`, as JSON.
pub(crate) fn summary_json(doc: &Document) -> String {
    serde_json::to_string(&Summary::of(doc)).expect("a summary always serializes")
}

/// One row of a listing: its stored summary, else its document read (a row whose summary
/// was cleared, or one that cannot be read: then a problem at `location`).
pub(crate) fn listed(
    name: &str,
    summary: Option<&str>,
    document: Option<&str>,
    location: impl FnOnce() -> String,
) -> Listed {
    let problem = |reason: String| Listed::Problem(Problem { location: location(), reason });
    let name = match WorkflowName::new(name) {
        Ok(name) => name,
        Err(e) => {
            return problem(format!("`{name}` is not a valid workflow name: {}", e.problem()));
        }
    };
    if let Some(summary) = summary {
        return match serde_json::from_str::<Summary>(summary) {
            Ok(summary) if summary.name == name => Listed::Workflow(summary),
            Ok(summary) => problem(format!(
                "the summary kept beside it names `{}`; clear it to have it read from the \
                 document",
                summary.name
            )),
            Err(e) => problem(format!(
                "the summary kept beside it cannot be read ({e}); clear it to have it read from \
                 the document"
            )),
        };
    }
    match parse_document(&name, document.unwrap_or_default()) {
        Ok(doc) => Listed::Workflow(Summary::of(&doc)),
        Err(reason) => problem(reason),
    }
}

/// A timestamp as the tables keep it.
pub(crate) fn sql_time(t: Timestamp) -> OffsetDateTime {
    t.datetime()
}

/// A timestamp read from the tables.
pub(crate) fn time_of(t: OffsetDateTime) -> Timestamp {
    Timestamp::from_datetime(t)
}

/// A revision number as a query parameter (`$n::numeric`: PostgreSQL has no unsigned
/// 64-bit integer, and revisions go up to `u64::MAX`).
pub(crate) fn sql_revision(revision: u64) -> String {
    revision.to_string()
}
