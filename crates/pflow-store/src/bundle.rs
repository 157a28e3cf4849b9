//! Bundles: saved workflows shared as one JSON file, with the saved workflows they call
//! and, when asked, their kept revisions (SPEC §7.1; the format is in docs/bundles.md).
//!
//! [`WorkflowManager::export`] reads the workflows a person names — and, with their
//! callees, every saved workflow their calls reach, found by the one walk of the call
//! graph (`calls.rs`) — into a [`Bundle`], callees first. [`WorkflowManager::import`]
//! writes a bundle into a store in one [`WorkflowStore::write`] transaction that first
//! makes every check — each document valid, each call resolvable in the bundle or the
//! store, no call cycle through both (the same walk, over a view that lays the bundle's
//! workflows over the transaction's), no conflict the policy refuses, every stored form
//! within its size — and only then writes, callees first, each write one whole
//! primitive. A crash in the middle leaves every workflow whole and every written one
//! with its callees; importing again skips what is already there with the same content
//! and completes the rest.

use std::collections::{BTreeMap, HashMap, HashSet};

use pflow_ir::{
    Diagnostic, Diagnostics, Document, MAX_JSON_DEPTH, Timestamp, ValidIr, WorkflowIr, WorkflowName,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::calls::{self, Anchor, CallFinding, Identity, Lookup};
use crate::manager::{call_findings, save_in};
use crate::store::time_after;
use crate::{
    Life, Origin, Problem, SaveMode, StoreError, StoreResult, StoredDocument, Transaction,
    WorkflowManager, WorkflowStore,
};

/// What a bundle's `format` field says.
pub const BUNDLE_FORMAT: &str = "pflow-bundle";

/// The bundle format version this release writes, and the newest it reads.
pub const BUNDLE_FORMAT_VERSION: u64 = 1;

/// The largest bundle read: 64 MiB — thousands of ordinary workflows with their history,
/// or four of the largest documents a store keeps ([`crate::MAX_DOCUMENT_BYTES`]), while
/// what parsing it costs in memory stays a few hundred MiB at worst.
pub const MAX_BUNDLE_BYTES: u64 = 64 * 1024 * 1024;

/// The deepest nesting of arrays and objects a bundle may have: the bound of every stored
/// document ([`MAX_JSON_DEPTH`]) plus the four levels a bundle puts around a kept
/// revision (`workflows`, its entry, `history`, the revision), so that every document a
/// store can hold fits in a bundle, and nothing deeper is parsed.
pub const MAX_BUNDLE_DEPTH: usize = MAX_JSON_DEPTH + 4;

/// Workflows as one file to share: documents, callees first, each with the revisions kept
/// before it when it was exported with history.
///
/// Made by [`WorkflowManager::export`] or read by [`Bundle::from_json`], which checks that
/// it is well-formed: each name once, each history one life of its workflow, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    exported_at: Timestamp,
    exported_by: String,
    history: bool,
    workflows: Vec<BundledWorkflow>,
}

/// One workflow of a [`Bundle`].
#[derive(Debug, Clone, PartialEq)]
pub struct BundledWorkflow {
    document: Document,
    history: Vec<Document>,
}

impl BundledWorkflow {
    /// A workflow with no kept revisions before `document`.
    pub(crate) fn of_document(document: Document) -> BundledWorkflow {
        BundledWorkflow { document, history: Vec::new() }
    }

    /// Its name.
    pub fn name(&self) -> &WorkflowName {
        &self.document.name
    }

    /// Its current document.
    pub fn document(&self) -> &Document {
        &self.document
    }

    /// The revisions kept before it, oldest first (empty without history).
    pub fn history(&self) -> &[Document] {
        &self.history
    }

    /// Its life: the kept revisions, then the document.
    fn life(&self) -> Life {
        let mut revisions = self.history.clone();
        revisions.push(self.document.clone());
        Life { revisions, deleted_at: None }
    }
}

impl Bundle {
    /// A bundle of `workflows` read from elsewhere (a pflow 0.16 home): it carries their
    /// lives, so that an import keeps each document's own times.
    pub(crate) fn of_workflows(workflows: Vec<BundledWorkflow>) -> Bundle {
        Bundle {
            exported_at: Timestamp::now(),
            exported_by: "pflow 0.16 home".to_owned(),
            history: true,
            workflows,
        }
    }

    /// When it was exported.
    pub fn exported_at(&self) -> Timestamp {
        self.exported_at
    }

    /// What exported it (`pflow 0.1.0`), as the bundle says.
    pub fn exported_by(&self) -> &str {
        &self.exported_by
    }

    /// Whether it carries the history of its workflows: each with every revision its
    /// store kept, so that an import writes their lives whole.
    pub fn has_history(&self) -> bool {
        self.history
    }

    /// Its workflows, in dependency order: each after the workflows of the bundle it
    /// calls.
    pub fn workflows(&self) -> &[BundledWorkflow] {
        &self.workflows
    }

    /// The calls by `workflow_name` that the bundle cannot resolve by itself — `(caller,
    /// callee)` for each saved workflow a bundled one calls that the bundle does not hold
    /// — which an import needs saved in the store.
    pub fn unresolved_calls(&self) -> Vec<(WorkflowName, String)> {
        let held: HashSet<&str> = self.workflows.iter().map(|w| w.name().as_str()).collect();
        let mut unresolved = Vec::new();
        for w in &self.workflows {
            for callee in pflow_ir::workflow_calls(&w.document.ir) {
                if !held.contains(callee.as_str()) {
                    unresolved.push((w.name().clone(), callee));
                }
            }
        }
        unresolved
    }

    /// The bundle as pretty-printed JSON with a trailing newline (the format of
    /// docs/bundles.md).
    pub fn to_json(&self) -> String {
        let wire = Wire {
            format: BUNDLE_FORMAT.to_owned(),
            format_version: BUNDLE_FORMAT_VERSION,
            exported_at: self.exported_at,
            exported_by: self.exported_by.clone(),
            history: self.history,
            workflows: self
                .workflows
                .iter()
                .map(|w| WireWorkflow { document: w.document.clone(), history: w.history.clone() })
                .collect(),
        };
        let mut text = serde_json::to_string_pretty(&wire).expect("a bundle serializes to JSON");
        text.push('\n');
        text
    }

    /// Reads a bundle from its JSON text.
    ///
    /// Refused with [`StoreError::BadBundle`]: more than [`MAX_BUNDLE_BYTES`], nesting
    /// deeper than [`MAX_BUNDLE_DEPTH`] (found before anything is parsed), not JSON, not
    /// of the bundle format, a name that breaks the naming rules, a name given twice, a
    /// history that is not one life of its workflow; with [`StoreError::BundleTooNew`]: a
    /// format version newer than [`BUNDLE_FORMAT_VERSION`].
    pub fn from_json(text: &[u8]) -> StoreResult<Bundle> {
        let size = text.len() as u64;
        if size > MAX_BUNDLE_BYTES {
            return Err(bad(format!(
                "too large: {size} bytes, more than the limit of {} MiB",
                MAX_BUNDLE_BYTES / (1024 * 1024)
            )));
        }
        check_depth(text, MAX_BUNDLE_DEPTH).map_err(bad)?;
        // The format and its version first, so that a newer bundle is named as such rather
        // than as whatever its new shape would fail to parse as.
        let header: Header = parse(text).map_err(|e| bad(format!("invalid JSON: {e}")))?;
        match header.format.as_deref() {
            Some(BUNDLE_FORMAT) => {}
            Some(other) => {
                return Err(bad(format!(
                    "its format is `{}`, not `{BUNDLE_FORMAT}`",
                    pflow_ir::escape_controls(other, pflow_ir::Lines::One)
                )));
            }
            None => return Err(bad(format!("no `format` field saying `{BUNDLE_FORMAT}`"))),
        }
        match header.format_version.as_ref().and_then(serde_json::Value::as_u64) {
            Some(version) if version > BUNDLE_FORMAT_VERSION => {
                return Err(StoreError::BundleTooNew { version, supported: BUNDLE_FORMAT_VERSION });
            }
            Some(version) if version >= 1 => {}
            _ => return Err(bad("no `format_version` that is a positive whole number".to_owned())),
        }
        let wire: Wire = parse(text).map_err(|e| bad(e.to_string()))?;
        let mut seen = HashSet::new();
        let mut workflows = Vec::with_capacity(wire.workflows.len());
        for w in wire.workflows {
            let name = w.document.name.clone();
            if !seen.insert(name.clone()) {
                return Err(bad(format!("workflow `{name}` is in it twice")));
            }
            let bundled = BundledWorkflow { document: w.document, history: w.history };
            if let Some(reason) = not_one_life(&bundled) {
                return Err(bad(format!("the history of `{name}` {reason}")));
            }
            workflows.push(bundled);
        }
        // Kept revisions say that it carries history, whatever its flag says.
        let history = wire.history || workflows.iter().any(|w| !w.history.is_empty());
        Ok(Bundle {
            exported_at: wire.exported_at,
            exported_by: wire.exported_by,
            history,
            workflows,
        })
    }
}

/// What [`WorkflowManager::export`] puts in a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOptions {
    /// Also every saved workflow the named ones call, transitively.
    pub with_callees: bool,
    /// Also the revisions each workflow kept before its current one.
    pub history: bool,
    /// What exports it, as the bundle will say (`pflow 0.1.0`).
    pub exported_by: String,
}

/// What [`WorkflowManager::import`] does with a workflow of the bundle that is saved with
/// different content (the same content is skipped, whatever the policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnConflict {
    /// Import nothing: [`StoreError::ImportConflicts`] names every conflict.
    #[default]
    Fail,
    /// Leave the saved workflow as it is; import the others.
    Skip,
    /// Make the bundle's content a new revision of the saved workflow (its history keeps
    /// the old one).
    Update,
}

/// How [`WorkflowManager::import`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportOptions {
    /// What to do with a conflict.
    pub on_conflict: OnConflict,
    /// Make every check and report what would be done, writing nothing.
    pub dry_run: bool,
}

/// What an import did (or, in a dry run, would do), workflow by workflow, in the order it
/// writes them: callees first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Whether nothing was written because it was a dry run.
    pub dry_run: bool,
    /// Each workflow of the bundle.
    pub workflows: Vec<Imported>,
}

/// One workflow of an [`ImportReport`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The workflow.
    pub name: WorkflowName,
    /// What happened to it.
    pub action: ImportAction,
}

/// What an import did with one workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportAction {
    /// It was new here and was saved: at revision 1, or with the bundle's history, at the
    /// bundle's revision with `kept` revisions before it.
    Created {
        /// Its revision now.
        revision: u64,
        /// How many kept revisions came with it.
        kept: usize,
    },
    /// It was saved with other content, which is now its previous revision.
    Updated {
        /// Its new revision.
        revision: u64,
    },
    /// It was saved with the same IR and description: nothing was written.
    Unchanged,
    /// It was saved with other content, and the policy left it as it was.
    Skipped,
}

impl WorkflowManager {
    /// A bundle of the saved workflows `names` (as given, each once) and, as `options`
    /// say, the saved workflows they call (transitively: through names, files and inline
    /// children, as a run follows them) and their kept revisions; callees first.
    ///
    /// Each workflow is read once; the export is not a snapshot of the store (a workflow
    /// changed meanwhile is read before or after the change), so a bundle whose callees
    /// changed under it can lack one: [`Bundle::unresolved_calls`] says. Kept revisions
    /// that cannot be read are left out and returned as problems.
    pub fn export(
        &self,
        names: &[&str],
        options: &ExportOptions,
    ) -> StoreResult<(Bundle, Vec<Problem>)> {
        let names: Vec<WorkflowName> =
            names.iter().map(|n| WorkflowName::new(n)).collect::<Result<_, _>>()?;
        let mut lookup = ExportLookup { store: self.store().as_ref(), docs: BTreeMap::new() };
        for name in &names {
            if lookup.docs.contains_key(name) {
                continue;
            }
            let doc = self.store().load(name).map_err(|e| self.with_suggestions(e))?;
            let ir = doc.ir.clone();
            lookup.docs.insert(name.clone(), doc);
            if options.with_callees {
                // The walk reads every saved workflow the calls reach through the lookup,
                // which keeps them; what it finds wrong is the saved workflows' business.
                let roots = vec![Identity::Saved(name.clone())];
                calls::check_calls(&mut lookup, &ir, roots, &Anchor::Saved(name.clone()), None);
            }
        }
        let docs = lookup.docs;
        let entries: Vec<(&WorkflowName, &WorkflowIr)> =
            docs.iter().map(|(name, doc)| (name, &doc.ir)).collect();
        let order = dependency_order(&entries, &mut MapLookup(&docs));
        let mut problems = Vec::new();
        let mut workflows = Vec::with_capacity(order.len());
        for index in order {
            let document = docs[entries[index].0].clone();
            let history = if options.history {
                let kept = self.store().kept_revisions(&document)?;
                problems.extend(kept.problems);
                let mut revisions = kept.revisions;
                revisions.retain(|d| d.revision < document.revision);
                revisions
            } else {
                Vec::new()
            };
            workflows.push(BundledWorkflow { document, history });
        }
        let bundle = Bundle {
            exported_at: Timestamp::now(),
            exported_by: options.exported_by.clone(),
            history: options.history,
            workflows,
        };
        Ok((bundle, problems))
    }

    /// Imports `bundle` as `options` say, in one transaction that makes every check
    /// before its first write (see the module documentation); never runs a workflow.
    ///
    /// A workflow new here is saved at revision 1, or — when the bundle has its history —
    /// written whole with its kept revisions as they were exported. One saved with the
    /// same IR and description is left alone. One saved with other content is a
    /// conflict, handled by [`ImportOptions::on_conflict`]; an update is made by the same
    /// rules as [`SaveMode::Replace`]. Fails, writing nothing, with
    /// [`StoreError::InvalidBundle`] (every invalid workflow with all its findings),
    /// [`StoreError::ImportConflicts`], or the error of a stored form that would be too
    /// large or a revision that cannot grow.
    pub fn import(&self, bundle: &Bundle, options: ImportOptions) -> StoreResult<ImportReport> {
        // Validity is a pure function of each document: checked before the transaction.
        let mut invalid = Vec::new();
        let mut valid = HashMap::new();
        for w in &bundle.workflows {
            match self.validate(w.name(), w.document.ir.clone()) {
                Ok(ir) => {
                    valid.insert(w.name().clone(), ir);
                }
                Err(StoreError::InvalidWorkflow { name, diagnostics }) => {
                    invalid.push((name, diagnostics.within("ir")));
                }
                Err(e) => return Err(e),
            }
        }
        if !invalid.is_empty() {
            return Err(StoreError::InvalidBundle { workflows: invalid });
        }
        let now = Timestamp::now();
        let mut report = None;
        self.store().write(&mut |txn| {
            let plan = plan_import(txn, bundle, &valid, options.on_conflict, now)?;
            if !options.dry_run {
                for step in &plan {
                    write_step(txn, step, now)?;
                }
            }
            let workflows = plan.iter().map(Step::reported).collect();
            report = Some(ImportReport { dry_run: options.dry_run, workflows });
            Ok(())
        })?;
        Ok(report.expect("a successful transaction imported"))
    }
}

/// One workflow of an import, as planned inside its transaction.
struct Step<'b> {
    name: &'b WorkflowName,
    work: Work<'b>,
}

enum Work<'b> {
    /// Save it anew, at revision 1.
    Create {
        ir: &'b ValidIr,
        description: &'b str,
    },
    /// Write its whole life, checked (and with its creation time moved, see
    /// [`life_to_put`]).
    PutLife(Vec<StoredDocument>),
    /// Replace the saved revision `current` with new content.
    Update {
        ir: &'b ValidIr,
        description: &'b str,
        current: u64,
    },
    Unchanged,
    Skipped,
}

impl Step<'_> {
    fn reported(&self) -> Imported {
        let action = match &self.work {
            Work::Create { .. } => ImportAction::Created { revision: 1, kept: 0 },
            Work::PutLife(revisions) => ImportAction::Created {
                revision: revisions.last().map_or(1, |d| d.document().revision),
                kept: revisions.len().saturating_sub(1),
            },
            Work::Update { current, .. } => ImportAction::Updated { revision: current + 1 },
            Work::Unchanged => ImportAction::Unchanged,
            Work::Skipped => ImportAction::Skipped,
        };
        Imported { name: self.name.clone(), action }
    }
}

/// Every check of an import, inside its transaction, and what each workflow needs; no
/// write.
fn plan_import<'b>(
    txn: &mut dyn Transaction,
    bundle: &'b Bundle,
    valid: &'b HashMap<WorkflowName, ValidIr>,
    on_conflict: OnConflict,
    now: Timestamp,
) -> StoreResult<Vec<Step<'b>>> {
    // What is saved under each name, and what that means for the bundle's workflow.
    let mut conflicts = Vec::new();
    let mut steps = Vec::with_capacity(bundle.workflows.len());
    for w in &bundle.workflows {
        let name = w.name();
        let ir = &valid[name];
        let description = w.document.description.as_str();
        let work = match txn.load(name)? {
            None if !bundle.history => {
                let doc = Document::new(name.clone(), description.to_owned(), ir.ir().clone(), now);
                StoredDocument::new(doc)?;
                Work::Create { ir, description }
            }
            None => Work::PutLife(life_to_put(txn, w)?),
            Some(current) if current.ir == *ir.ir() && current.description == description => {
                Work::Unchanged
            }
            Some(current) => match on_conflict {
                OnConflict::Fail => {
                    conflicts.push(name.clone());
                    Work::Skipped
                }
                OnConflict::Skip => Work::Skipped,
                OnConflict::Update => {
                    let next = current
                        .next_revision(ir.ir().clone(), description.to_owned(), now)
                        .ok_or_else(|| StoreError::RevisionLimit {
                            name: name.clone(),
                            revision: current.revision,
                        })?;
                    StoredDocument::new(next)?;
                    Work::Update { ir, description, current: current.revision }
                }
            },
        };
        steps.push(Step { name, work });
    }
    if !conflicts.is_empty() {
        return Err(StoreError::ImportConflicts { names: conflicts });
    }

    // The calls of every workflow to be written, through the store as it will be: the
    // bundle's new content laid over the transaction's.
    let overlay: HashMap<&WorkflowName, &WorkflowIr> = steps
        .iter()
        .filter(|s| !matches!(s.work, Work::Skipped))
        .map(|s| (s.name, valid[s.name].ir()))
        .collect();
    let mut lookup = Overlay { txn: &mut *txn, overlay: &overlay };
    let mut invalid = Vec::new();
    for step in &steps {
        if matches!(step.work, Work::Unchanged | Work::Skipped) {
            continue;
        }
        let ir = valid[step.name].ir();
        let origin = Origin::Saved(step.name.clone());
        let findings = call_findings(&mut lookup, ir, &origin, Some(step.name));
        if !findings.is_empty() {
            let diagnostics: Vec<Diagnostic> =
                findings.into_iter().map(|(path, f)| import_finding(f, &path)).collect();
            invalid.push((step.name.clone(), Diagnostics::from(diagnostics).within("ir")));
        }
    }
    if !invalid.is_empty() {
        return Err(StoreError::InvalidBundle { workflows: invalid });
    }

    // Callees first, so that every workflow written has what it calls at every instant.
    let entries: Vec<(&WorkflowName, &WorkflowIr)> =
        steps.iter().map(|s| (s.name, valid[s.name].ir())).collect();
    let order = dependency_order(&entries, &mut lookup);
    let mut steps: Vec<Option<Step<'b>>> = steps.into_iter().map(Some).collect();
    Ok(order.into_iter().filter_map(|i| steps[i].take()).collect())
}

/// Writes one planned step: each is one whole primitive of the store.
fn write_step(txn: &mut dyn Transaction, step: &Step<'_>, now: Timestamp) -> StoreResult<()> {
    match &step.work {
        Work::Create { ir, description } => {
            save_in(txn, step.name, ir, Some(description), SaveMode::New, now)?;
        }
        Work::PutLife(revisions) => {
            txn.put_life(revisions, None)?;
        }
        Work::Update { ir, description, current } => {
            let mode = SaveMode::Replace { expected_revision: Some(*current) };
            save_in(txn, step.name, ir, Some(description), mode, now)?;
        }
        Work::Unchanged | Work::Skipped => {}
    }
    Ok(())
}

/// The life of `w` as it will be written: its revisions as exported, except that when a
/// trashed life of that name here has the same creation time (the same life, exported,
/// imported here and deleted since), every revision gets a creation time after the newest
/// trashed one, since two lives of one name must never share one (the key of a history).
fn life_to_put(txn: &mut dyn Transaction, w: &BundledWorkflow) -> StoreResult<Vec<StoredDocument>> {
    let mut life = w.life();
    let created = w.document.created_at;
    let trashed = txn.trashed(w.name())?;
    let times: Vec<Timestamp> =
        trashed.iter().filter_map(|t| t.document.as_ref()).map(|d| d.created_at).collect();
    if times.contains(&created) {
        let moved = time_after(w.name(), created, times.iter().max().copied())?;
        for revision in &mut life.revisions {
            revision.created_at = moved;
        }
    }
    life.stored()
}

/// A finding of an import's call check as a validation error at `path`.
fn import_finding(finding: CallFinding, path: &str) -> Diagnostic {
    match finding {
        CallFinding::Missing(name, _) => Diagnostic::error(
            path,
            format!("calls workflow `{name}`, which neither the bundle nor the store holds"),
        )
        .with_hint(format!("put `{name}` in the bundle, or save it here first")),
        other => other.at(path),
    }
}

/// Sorts `entries` so that each comes after every other entry its calls reach (callees
/// first), ties by name. What a workflow reaches is found by the one walk of the call
/// graph (through names, files and inline children), reading saved workflows through
/// `lookup`; in a graph without cycles, a workflow reaches strictly more entries than any
/// entry it reaches, so sorting by that count is a dependency order.
fn dependency_order(
    entries: &[(&WorkflowName, &WorkflowIr)],
    lookup: &mut dyn Lookup,
) -> Vec<usize> {
    let names: HashSet<&WorkflowName> = entries.iter().map(|(name, _)| *name).collect();
    let mut keyed: Vec<(usize, &WorkflowName, usize)> = entries
        .iter()
        .enumerate()
        .map(|(index, (name, ir))| {
            let mut recording = Recording { inner: &mut *lookup, seen: HashSet::new() };
            let roots = vec![Identity::Saved((*name).clone())];
            calls::check_calls(&mut recording, ir, roots, &Anchor::Saved((*name).clone()), None);
            let reached = recording.seen.iter().filter(|n| *n != *name && names.contains(n));
            (reached.count(), *name, index)
        })
        .collect();
    keyed.sort();
    keyed.into_iter().map(|(_, _, index)| index).collect()
}

/// Why `w`'s history is not one life of it, if it is not.
fn not_one_life(w: &BundledWorkflow) -> Option<&'static str> {
    let mut previous = 0;
    for revision in &w.history {
        if revision.name != w.document.name || revision.created_at != w.document.created_at {
            return Some("holds a revision of another workflow");
        }
        if revision.revision <= previous || revision.revision >= w.document.revision {
            return Some("is not in order of revision, before the current one");
        }
        previous = revision.revision;
    }
    None
}

/// The bundle format, as written.
#[derive(Serialize, Deserialize)]
struct Wire {
    format: String,
    format_version: u64,
    exported_at: Timestamp,
    exported_by: String,
    #[serde(default)]
    history: bool,
    workflows: Vec<WireWorkflow>,
}

#[derive(Serialize, Deserialize)]
struct WireWorkflow {
    document: Document,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    history: Vec<Document>,
}

/// The fields that say which format and version a bundle is, whatever the rest holds.
#[derive(Deserialize)]
struct Header {
    format: Option<String>,
    format_version: Option<serde_json::Value>,
}

/// Parses `text`, whose nesting [`check_depth`] has bounded already: serde_json's own
/// recursion limit (128) is lifted because a bundle nests documents a few levels below
/// its root, and a document may itself be nested as deep as a store allows.
fn parse<T: DeserializeOwned>(text: &[u8]) -> Result<T, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(text);
    de.disable_recursion_limit();
    let value = T::deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// Fails when arrays and objects in the JSON `text` nest more than `max` deep, naming
/// where; reads bytes only (strings and their escapes are skipped), so it needs no stack.
fn check_depth(text: &[u8], max: usize) -> Result<(), String> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let (mut line, mut column) = (1usize, 0usize);
    for &byte in text {
        if byte == b'\n' {
            line += 1;
            column = 0;
        } else {
            column += 1;
        }
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Err(format!(
                        "nested more than {max} levels deep at line {line}, column {column}"
                    ));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn bad(reason: String) -> StoreError {
    StoreError::BadBundle { reason }
}

/// The store's workflows, kept as the walk of an export reads them.
struct ExportLookup<'s> {
    store: &'s dyn WorkflowStore,
    docs: BTreeMap<WorkflowName, Document>,
}

impl Lookup for ExportLookup<'_> {
    fn saved(&mut self, name: &WorkflowName) -> StoreResult<Option<WorkflowIr>> {
        if let Some(doc) = self.docs.get(name) {
            return Ok(Some(doc.ir.clone()));
        }
        match self.store.load(name) {
            Ok(doc) => {
                let ir = doc.ir.clone();
                self.docs.insert(name.clone(), doc);
                Ok(Some(ir))
            }
            Err(StoreError::WorkflowNotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn names(&mut self) -> Vec<WorkflowName> {
        Vec::new()
    }
}

/// The workflows of an export, and nothing else.
struct MapLookup<'m>(&'m BTreeMap<WorkflowName, Document>);

impl Lookup for MapLookup<'_> {
    fn saved(&mut self, name: &WorkflowName) -> StoreResult<Option<WorkflowIr>> {
        Ok(self.0.get(name).map(|doc| doc.ir.clone()))
    }

    fn names(&mut self) -> Vec<WorkflowName> {
        Vec::new()
    }
}

/// The store as an import will leave it: the bundle's workflows to be written laid over
/// what the transaction reads.
struct Overlay<'t, 'o> {
    txn: &'t mut dyn Transaction,
    overlay: &'o HashMap<&'o WorkflowName, &'o WorkflowIr>,
}

impl Lookup for Overlay<'_, '_> {
    fn saved(&mut self, name: &WorkflowName) -> StoreResult<Option<WorkflowIr>> {
        match self.overlay.get(name) {
            Some(ir) => Ok(Some((*ir).clone())),
            None => Ok(self.txn.load(name)?.map(|doc| doc.ir)),
        }
    }

    fn names(&mut self) -> Vec<WorkflowName> {
        let listing = self.txn.list().unwrap_or_default();
        let mut names: Vec<WorkflowName> = listing.workflows.into_iter().map(|s| s.name).collect();
        names.extend(self.overlay.keys().map(|n| (*n).clone()));
        names.sort();
        names.dedup();
        names
    }
}

/// A lookup that remembers every saved workflow a walk asked it for.
struct Recording<'l> {
    inner: &'l mut dyn Lookup,
    seen: HashSet<WorkflowName>,
}

impl Lookup for Recording<'_> {
    fn saved(&mut self, name: &WorkflowName) -> StoreResult<Option<WorkflowIr>> {
        self.seen.insert(name.clone());
        self.inner.saved(name)
    }

    fn names(&mut self) -> Vec<WorkflowName> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_depth_scan_skips_strings_and_names_the_place() {
        assert!(check_depth(br#"{"a": "[[[[{{{{", "b": [1]}"#, 2).is_ok());
        assert!(check_depth(br#"{"a": "\"[[[", "b": [[1]]}"#, 3).is_ok());
        let err = check_depth(b"{\n [[1]]}", 2).unwrap_err();
        assert_eq!(err, "nested more than 2 levels deep at line 2, column 3");
    }
}
