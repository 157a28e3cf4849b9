//! The tools on saved workflows: `workflow_list`, `workflow_describe`,
//! `workflow_validate`, `workflow_save`, `workflow_history`, `workflow_restore` and
//! `workflow_delete`.

use std::ops::ControlFlow;

use pflow_context::{SavedRanking, WorkflowInterface};
use pflow_ir::{Lines, NodeCatalog, WorkflowName, escape_controls};
use pflow_store::{IfCalled, Listed, SaveMode, SaveOutcome, StoreError, Summary};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Library, Names, Reply, ToolResult, given, words};
use crate::error::{Finding, ToolError};

/// The page size of `workflow_list` when the call gives none.
const DEFAULT_LIMIT: u32 = 50;
/// The largest page `workflow_list` gives.
const MAX_LIMIT: u32 = 1000;
/// What starts every cursor `workflow_list` hands out (the rest is the last name given).
const CURSOR_PREFIX: &str = "after:";
/// What starts every cursor of a ranked `workflow_list` (the rest is how many were given).
const RANKED_CURSOR_PREFIX: &str = "ranked:";

// ---- workflow_list ------------------------------------------------------------------

/// The arguments of `workflow_list`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListArgs {
    /// Keep only workflows whose name or description contains every word of this text
    /// (any case), e.g. `github issue`.
    #[serde(default)]
    filter_pattern: Option<String>,
    /// Rank the workflows by relevance to this text instead of listing them by name.
    #[serde(default)]
    query: Option<String>,
    /// At most this many workflows in this page [default: 50].
    #[serde(default)]
    #[schemars(range(min = 1, max = 1000))]
    limit: Option<u32>,
    /// Where to go on from: the `next_cursor` of the previous page (opaque).
    #[serde(default)]
    cursor: Option<String>,
}

/// The result of `workflow_list`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ListOut {
    /// This page of workflows, sorted by name (with `query`: most relevant first).
    workflows: Vec<WorkflowBrief>,
    /// With `query`: how many saved workflows matched at all, on every page. Without it the
    /// listing stops where the page ends, so the matches are not counted (`next_cursor`
    /// says whether there are more).
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<usize>,
    /// With `query`, when nothing matches: the saved names closest to it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    closest: Vec<String>,
    /// Pass it as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
    /// How many stored entries could not be read and are left out.
    skipped: usize,
}

/// One saved workflow, briefly.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct WorkflowBrief {
    /// Its name: what `workflow_execute` and other workflows call it by.
    name: String,
    /// What it does.
    description: String,
    /// Its inputs, in declaration order.
    inputs: Vec<InputBrief>,
    /// Its output names, in declaration order.
    outputs: Vec<String>,
    /// Its current revision.
    revision: u64,
    /// With `query`: how well it matched (higher is better; only the order means anything).
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f64>,
}

/// One input of a workflow, briefly.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct InputBrief {
    /// The input's name (a key of `parameters`).
    name: String,
    /// Its JSON type, when it declares one.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    ty: Option<String>,
    /// Whether a caller must give it.
    required: bool,
}

impl WorkflowBrief {
    fn of(s: Summary) -> WorkflowBrief {
        WorkflowBrief {
            name: s.name.to_string(),
            description: s.description,
            inputs: s
                .inputs
                .into_iter()
                .map(|i| InputBrief {
                    name: i.name,
                    ty: i.ty.map(|t| t.as_str().to_owned()),
                    required: i.required,
                })
                .collect(),
            outputs: s.outputs,
            revision: s.revision,
            score: None,
        }
    }
}

pub(crate) fn list(library: &Library, args: ListArgs) -> ToolResult {
    let limit = args.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ToolError::new(
            "invalid_argument",
            format!("`limit` must be from 1 to {MAX_LIMIT}, got {limit}"),
        ));
    }
    if let Some(query) = &args.query {
        if args.filter_pattern.is_some() {
            return Err(ToolError::new(
                "invalid_argument",
                "`query` and `filter_pattern` cannot be given together",
            )
            .hint("`query` ranks by relevance; `filter_pattern` keeps exact word matches"));
        }
        return ranked(library, query, limit as usize, args.cursor.as_deref());
    }
    let after = match &args.cursor {
        None => None,
        Some(cursor) => match cursor.strip_prefix(CURSOR_PREFIX) {
            Some(name) => Some(name.to_owned()),
            None => {
                return Err(ToolError::new("invalid_argument", format!("`cursor` `{cursor}` is not one this server gave"))
                    .hint("pass the `next_cursor` of the previous page as it is, or no cursor for the first page"));
            }
        },
    };
    let filter = words(args.filter_pattern.as_deref());
    let limit = limit as usize;
    let mut page = Vec::with_capacity(limit.min(64));
    let (mut skipped, mut more) = (0, false);
    // The listing streams in name order; a page keeps the matches after the cursor and
    // the listing stops at the first match past the page, so a page of a large library
    // costs what its first entries cost, not the whole library.
    library
        .manager
        .store()
        .visit(&mut |entry| {
            match entry {
                Listed::Problem(_) => skipped += 1,
                Listed::Workflow(summary) => {
                    let after_cursor = after.as_deref().is_none_or(|a| summary.name.as_str() > a);
                    if after_cursor && pflow_context::matches_words(&summary, &filter) {
                        if page.len() == limit {
                            more = true;
                            return ControlFlow::Break(());
                        }
                        page.push(WorkflowBrief::of(summary));
                    }
                }
            }
            ControlFlow::Continue(())
        })
        .map_err(ToolError::from)?;
    let next_cursor =
        if more { page.last().map(|w| format!("{CURSOR_PREFIX}{}", w.name)) } else { None };
    let mut text = match page.len() {
        0 if after.is_some() => "no more workflows\n".to_owned(),
        0 if filter.is_empty() => "no saved workflows\n".to_owned(),
        0 => format!("no saved workflow matches `{}`\n", filter.join(" ")),
        n if more => format!("{n} workflows, and more\n"),
        n => format!("{n} workflows\n"),
    };
    page_lines(&mut text, &page, next_cursor.as_deref());
    let out = ListOut { workflows: page, total: None, closest: Vec::new(), next_cursor, skipped };
    Ok(Reply::new(&out, text))
}

/// The text rendering of a page: one line per workflow, then the cursor to go on with.
fn page_lines(text: &mut String, page: &[WorkflowBrief], next_cursor: Option<&str>) {
    for w in page {
        text.push_str(&format!("- {}", w.name));
        if let Some(line) = w.description.lines().next().filter(|l| !l.trim().is_empty()) {
            text.push_str(&format!(": {}", line.trim()));
        }
        text.push('\n');
    }
    if let Some(cursor) = next_cursor {
        text.push_str(&format!("more: pass `cursor: {cursor}`\n"));
    }
}

/// `workflow_list` with a `query`: a page of the ranking, most relevant first. Its
/// cursor is how many were given before (the ranking is deterministic, so the next page
/// goes on where this one ended while the library does not change).
fn ranked(library: &Library, query: &str, limit: usize, cursor: Option<&str>) -> ToolResult {
    let offset = match cursor {
        None => 0,
        Some(cursor) => match cursor.strip_prefix(RANKED_CURSOR_PREFIX).map(str::parse::<usize>) {
            Some(Ok(offset)) => offset,
            _ => {
                return Err(ToolError::new("invalid_argument", format!("`cursor` `{cursor}` is not one this server gave for a `query`"))
                    .hint("pass the `next_cursor` of the previous page with the same `query`, or no cursor for the first page"));
            }
        },
    };
    let keep = offset.saturating_add(limit).saturating_add(1);
    let SavedRanking { ranking, skipped } =
        pflow_context::rank_saved(&NodeCatalog::default(), &library.manager, query, keep)?;
    let more = ranking.workflows.len() > offset.saturating_add(limit);
    let page: Vec<WorkflowBrief> = ranking
        .workflows
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|scored| WorkflowBrief { score: Some(scored.score), ..WorkflowBrief::of(scored.item) })
        .collect();
    let next_cursor = more.then(|| format!("{RANKED_CURSOR_PREFIX}{}", offset + page.len()));
    let shown = escape_controls(query, Lines::One);
    let mut text = if ranking.terms.is_empty() {
        format!(
            "nothing to search for in `{shown}`: it has no word that is not a stop word \
             (`the`, `my`, `how`, …)\n"
        )
    } else if ranking.ranked == 0 {
        "no saved workflows\n".to_owned()
    } else if ranking.matched == 0 {
        let mut text = format!("no saved workflow matches `{shown}` ({} saved)", ranking.ranked);
        if !ranking.closest.is_empty() {
            let names: Vec<String> = ranking.closest.iter().map(|n| format!("`{n}`")).collect();
            text.push_str(&format!("; the closest names are {}", names.join(", ")));
        }
        text + "\n"
    } else {
        format!(
            "{} of {} workflows matching `{shown}`, most relevant first\n",
            page.len(),
            ranking.matched
        )
    };
    page_lines(&mut text, &page, next_cursor.as_deref());
    let out = ListOut {
        workflows: page,
        total: Some(ranking.matched),
        closest: ranking.closest,
        next_cursor,
        skipped: skipped.len(),
    };
    Ok(Reply::new(&out, text))
}

// ---- workflow_describe ----------------------------------------------------------------

/// The arguments of the tools that take only a saved workflow's name.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NameArgs {
    /// The saved workflow's name (`fix-issue`).
    name: String,
}

/// The arguments of `workflow_describe`.
pub(crate) type DescribeArgs = NameArgs;

/// The result of `workflow_describe`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct DescribeOut {
    /// Its name.
    name: String,
    /// What it does.
    description: String,
    /// Its inputs, in declaration order: what `parameters` of `workflow_execute` takes.
    inputs: Vec<InputOut>,
    /// Its outputs, in declaration order.
    outputs: Vec<OutputOut>,
    /// Its current revision (what `expected_revision` compares with).
    revision: u64,
    /// When it was first saved (RFC 3339).
    created_at: String,
    /// When its content last changed (RFC 3339).
    updated_at: String,
    /// The saved workflows it calls by name. (Which ones call it is not here: finding
    /// them reads the whole library; `workflow_delete` names them when it refuses.)
    calls: Vec<String>,
    /// A `pflow run` line that runs it, with a placeholder for every required input.
    run_line: String,
    /// Where it is stored.
    location: String,
}

/// One declared input.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct InputOut {
    /// The input's name.
    name: String,
    /// Its JSON type; absent when any value is accepted.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    ty: Option<String>,
    /// Whether a caller must give it.
    required: bool,
    /// The value used when a caller gives none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "super::any_json")]
    default: Option<Value>,
    /// What it is for (may be empty).
    description: String,
}

/// One declared output.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct OutputOut {
    /// The output's name.
    name: String,
    /// Its JSON type, when it declares one.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    ty: Option<String>,
    /// What it is (may be empty).
    description: String,
}

pub(crate) fn describe(library: &Library, args: NameArgs) -> ToolResult {
    let manager = &library.manager;
    let doc = manager.load(&args.name)?;
    let location = manager.locate(&args.name)?;
    let interface = WorkflowInterface::of(&doc);
    let out = DescribeOut {
        name: doc.name.to_string(),
        description: doc.description.clone(),
        inputs: interface
            .inputs
            .into_iter()
            .map(|i| InputOut {
                name: i.name,
                ty: i.ty.map(|t| t.as_str().to_owned()),
                required: i.required,
                default: i.default,
                description: i.description,
            })
            .collect(),
        outputs: interface
            .outputs
            .into_iter()
            .map(|o| OutputOut {
                name: o.name,
                ty: o.ty.map(|t| t.as_str().to_owned()),
                description: o.description,
            })
            .collect(),
        revision: doc.revision,
        created_at: doc.created_at.to_string(),
        updated_at: doc.updated_at.to_string(),
        calls: pflow_ir::workflow_calls(&doc.ir),
        run_line: pflow_context::run_line(doc.name.as_str(), &doc.ir),
        location: location.to_string(),
    };
    let mut text = format!("{} (revision {})\n", out.name, out.revision);
    if !out.description.trim().is_empty() {
        text.push_str(&format!("{}\n", out.description.trim()));
    }
    text.push_str("inputs:\n");
    if out.inputs.is_empty() {
        text.push_str("  (none)\n");
    }
    for i in &out.inputs {
        let ty = i.ty.as_deref().unwrap_or("any");
        let need = match (&i.default, i.required) {
            (Some(d), _) => format!("default {d}"),
            (None, true) => "required".to_owned(),
            (None, false) => "optional".to_owned(),
        };
        text.push_str(&format!("  - {} ({ty}, {need})", i.name));
        if !i.description.is_empty() {
            text.push_str(&format!(": {}", i.description));
        }
        text.push('\n');
    }
    text.push_str("outputs:\n");
    if out.outputs.is_empty() {
        text.push_str("  (none declared: the last node's outputs)\n");
    }
    for o in &out.outputs {
        text.push_str(&format!("  - {} ({})", o.name, o.ty.as_deref().unwrap_or("any")));
        if !o.description.is_empty() {
            text.push_str(&format!(": {}", o.description));
        }
        text.push('\n');
    }
    if !out.calls.is_empty() {
        text.push_str(&format!("calls: {}\n", out.calls.join(", ")));
    }
    text.push_str(&format!("run: {}\n", out.run_line));
    Ok(Reply::new(&out, text))
}

// ---- workflow_validate ----------------------------------------------------------------

/// The arguments of `workflow_validate`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ValidateArgs {
    #[schemars(schema_with = "super::workflow_schema")]
    workflow: Value,
}

/// The result of `workflow_validate`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ValidateOut {
    /// Whether it has no error (warnings allowed): it can be saved and run.
    valid: bool,
    /// How many findings are errors.
    errors: usize,
    /// How many findings are warnings.
    warnings: usize,
    /// Every finding, with its JSON path (relative to what was given: `ir.nodes[0]…` in a
    /// stored document).
    findings: Vec<Finding>,
}

pub(crate) fn validate(library: &Library, args: ValidateArgs) -> ToolResult {
    let given = given(library, &args.workflow, Names::SavedOrFile, None)?;
    let diagnostics = given.checked.diagnostics();
    let errors = diagnostics.errors().count();
    let out = ValidateOut {
        valid: !diagnostics.has_errors(),
        errors,
        warnings: diagnostics.len() - errors,
        findings: Finding::all(diagnostics),
    };
    let mut text = format!(
        "{}: workflow {}: {} error{}, {} warning{}\n",
        if out.valid { "valid" } else { "invalid" },
        given.label,
        out.errors,
        if out.errors == 1 { "" } else { "s" },
        out.warnings,
        if out.warnings == 1 { "" } else { "s" },
    );
    for finding in &out.findings {
        text.push_str(&format!("  {}\n", finding.line()));
    }
    Ok(Reply::new(&out, text))
}

// ---- workflow_save --------------------------------------------------------------------

/// The arguments of `workflow_save`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SaveArgs {
    #[schemars(schema_with = "super::file_or_object_schema")]
    workflow: Value,
    /// The name to keep it under: lowercase words joined by dashes (`fix-issue`), at most
    /// 50 characters.
    name: String,
    /// What the workflow does [default: a stored document's own description; when
    /// replacing, the saved one's].
    #[serde(default)]
    description: Option<String>,
    /// Replace a saved workflow of that name with a new revision (its old revision is
    /// kept in the history) [default: false, never replace].
    #[serde(default)]
    force: bool,
    /// Save only if the saved workflow is still at this revision (read it with
    /// `workflow_describe`); a change made meanwhile is a conflict, never overwritten.
    #[serde(default)]
    expected_revision: Option<u64>,
}

/// The result of `workflow_save`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SaveOut {
    /// The name it is saved under.
    name: String,
    /// `created` (a new workflow, revision 1), `updated` (a new revision) or `unchanged`
    /// (the same IR and description were saved already: nothing was written).
    outcome: String,
    /// Its revision now.
    revision: u64,
    /// Where it is stored.
    location: String,
    /// The warnings of its validation.
    warnings: Vec<Finding>,
}

pub(crate) fn save(library: &Library, args: SaveArgs) -> ToolResult {
    let manager = &library.manager;
    // The name first: a bad name is refused before any file is read.
    let name = WorkflowName::new(&args.name).map_err(StoreError::from)?;
    let given = given(library, &args.workflow, Names::File, Some(&name))?;
    let (ir, warnings) = match given.checked.into_valid() {
        Ok(valid) => valid,
        Err(diagnostics) => return Err(ToolError::invalid(&given.label, &diagnostics)),
    };
    let description = args.description.or(given.description);
    let mode = match (args.force, args.expected_revision) {
        (true, expected_revision) => SaveMode::Replace { expected_revision },
        (false, Some(expected_revision)) => SaveMode::Update { expected_revision },
        (false, None) => SaveMode::New,
    };
    let saved = manager.save(name.as_str(), &ir, description.as_deref(), mode)?;
    let outcome = match saved.outcome {
        SaveOutcome::Created => "created",
        SaveOutcome::Updated => "updated",
        SaveOutcome::Unchanged => "unchanged",
    };
    let out = SaveOut {
        name: name.to_string(),
        outcome: outcome.to_owned(),
        revision: saved.document.revision,
        location: saved.location.to_string(),
        warnings: Finding::all(&warnings),
    };
    let mut text = match saved.outcome {
        SaveOutcome::Unchanged => {
            format!("`{name}` is unchanged (revision {}): same IR and description\n", out.revision)
        }
        _ => format!("saved `{name}` (revision {}) to {}\n", out.revision, out.location),
    };
    for warning in &out.warnings {
        text.push_str(&format!("  {}\n", warning.line()));
    }
    Ok(Reply::new(&out, text))
}

// ---- workflow_history -----------------------------------------------------------------

/// The result of `workflow_history`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct HistoryOut {
    /// The workflow's name.
    name: String,
    /// Every readable revision, oldest first; the current one last.
    revisions: Vec<RevisionOut>,
    /// Kept revisions that could not be read and are left out.
    skipped: Vec<String>,
}

/// One revision.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct RevisionOut {
    /// The revision number.
    revision: u64,
    /// When this content was saved (RFC 3339).
    saved_at: String,
    /// The description it had.
    description: String,
    /// Whether it is the current revision.
    current: bool,
    /// What changed since the revision before it, in a few words.
    changes: String,
    /// The latest earlier revision with the same content, when it is a restore of one.
    #[serde(skip_serializing_if = "Option::is_none")]
    same_as: Option<u64>,
}

pub(crate) fn history(library: &Library, args: NameArgs) -> ToolResult {
    let history = library.manager.history(&args.name)?;
    let revisions: Vec<RevisionOut> = history
        .summaries()
        .into_iter()
        .map(|s| RevisionOut {
            revision: s.revision,
            saved_at: s.time.to_string(),
            description: s.description,
            current: s.current,
            changes: s.summary,
            same_as: s.same_as,
        })
        .collect();
    let skipped =
        history.problems.iter().map(|p| format!("{}: {}", p.location, p.reason)).collect();
    let mut text = format!("{}: {} revisions\n", args.name, revisions.len());
    for r in &revisions {
        let current = if r.current { " (current)" } else { "" };
        text.push_str(&format!("- {}{current} {}: {}\n", r.revision, r.saved_at, r.changes));
    }
    let out = HistoryOut { name: args.name, revisions, skipped };
    Ok(Reply::new(&out, text))
}

// ---- workflow_restore -----------------------------------------------------------------

/// The arguments of `workflow_restore`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RestoreArgs {
    /// The saved workflow's name.
    name: String,
    /// The revision whose content to bring back (see `workflow_history`).
    revision: u64,
    /// Restore only if the workflow is still at this revision.
    #[serde(default)]
    expected_revision: Option<u64>,
}

/// The result of `workflow_restore`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct RestoreOut {
    /// The workflow's name.
    name: String,
    /// The revision whose content was brought back.
    restored: u64,
    /// Its revision now: a new one, or the current one when its content was that already.
    revision: u64,
    /// `updated` (a new revision) or `unchanged`.
    outcome: String,
}

pub(crate) fn restore(library: &Library, args: RestoreArgs) -> ToolResult {
    let saved =
        library.manager.restore_revision(&args.name, args.revision, args.expected_revision)?;
    let unchanged = saved.outcome == SaveOutcome::Unchanged;
    let out = RestoreOut {
        name: args.name,
        restored: args.revision,
        revision: saved.document.revision,
        outcome: if unchanged { "unchanged" } else { "updated" }.to_owned(),
    };
    let text = if unchanged {
        format!(
            "`{}` already has the content of revision {} (revision {}): nothing changed\n",
            out.name, out.restored, out.revision
        )
    } else {
        format!(
            "restored revision {} of `{}` as revision {}\n",
            out.restored, out.name, out.revision
        )
    };
    Ok(Reply::new(&out, text))
}

// ---- workflow_delete ------------------------------------------------------------------

/// The arguments of `workflow_delete`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeleteArgs {
    /// The saved workflow's name.
    name: String,
    /// Delete it even if other saved workflows call it (they fail until it is saved
    /// again) [default: false].
    #[serde(default)]
    force: bool,
}

/// The result of `workflow_delete`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct DeleteOut {
    /// The deleted workflow's name.
    name: String,
    /// When it was moved to the trash (RFC 3339): its key in the trash.
    deleted_at: String,
    /// Saved workflows that call it and now fail (only with `force`).
    broken_callers: Vec<String>,
}

pub(crate) fn delete(library: &Library, args: DeleteArgs) -> ToolResult {
    let manager = &library.manager;
    let if_called = if args.force { IfCalled::DeleteAnyway } else { IfCalled::Refuse };
    // The callers as they are now, to say which ones break; the delete checks again in
    // its own transaction.
    let callers = manager.check_delete(&args.name, if_called)?;
    let key = manager.delete(&args.name, if_called)?;
    let out = DeleteOut {
        name: args.name,
        deleted_at: key.deleted_at.to_string(),
        broken_callers: callers.iter().map(ToString::to_string).collect(),
    };
    let mut text = format!("deleted `{}`: moved to the trash with its history\n", out.name);
    if !out.broken_callers.is_empty() {
        text.push_str(&format!(
            "warning: {} call it and fail until it is saved again\n",
            out.broken_callers.join(", ")
        ));
    }
    Ok(Reply::new(&out, text))
}
