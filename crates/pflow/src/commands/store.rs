//! `pflow store`: copy a whole library between stores, and describe the store in use.
//!
//! The copy itself is the library's (`WorkflowManager::copy_into`); this module opens
//! the two stores and renders what happened.

use std::ffi::OsString;

use clap::{Args, Subcommand};
use pflow_ir::{Lines, escape_controls};
use pflow_store::{CopyReport, StoreCounts};
use serde::Serialize;

use crate::cli::GlobalArgs;
use crate::commands::Outcome;
use crate::exit;
use crate::output::Output;
use crate::report::CliError;
use crate::store::{Chosen, Opened, StoreSpec};

/// Copy a library between stores, or describe the store in use
#[derive(Debug, Args)]
pub(crate) struct StoreArgs {
    #[command(subcommand)]
    command: StoreCommand,
}

#[derive(Debug, Subcommand)]
enum StoreCommand {
    Copy(CopyArgs),
    Info(InfoArgs),
}

/// Copy every workflow, with its history, and the trash from one store to another
///
/// SOURCE and DEST are each a directory (a pflow home) or a PostgreSQL URI. What DEST
/// holds already is left as it is: running the copy again copies nothing, and a workflow
/// DEST holds with other content is reported as a conflict (exit 1).
#[derive(Debug, Args)]
struct CopyArgs {
    /// The store to copy from
    #[arg(value_name = "SOURCE")]
    source: OsString,
    /// The store to copy into
    #[arg(value_name = "DEST")]
    dest: OsString,
    /// Print what was copied as JSON on stdout
    #[arg(long)]
    json: bool,
}

/// Print the store in use: its backend, where it is, its schema version and how much it
/// holds
#[derive(Debug, Args)]
struct InfoArgs {
    /// Print it as JSON on stdout
    #[arg(long)]
    json: bool,
}

/// Runs a `pflow store` subcommand.
pub(crate) fn run(args: StoreArgs, global: &GlobalArgs, out: &Output) -> Outcome {
    match args.command {
        StoreCommand::Copy(args) => copy(&args, out),
        StoreCommand::Info(args) => info(&args, global, out),
    }
}

fn copy(args: &CopyArgs, out: &Output) -> Outcome {
    let (source, dest) = (StoreSpec::parse(&args.source, None), StoreSpec::parse(&args.dest, None));
    if let StoreSpec::Home(home) = &source
        && !home.join("workflows").is_dir()
    {
        return Err(CliError::new(format!("no pflow store at `{}`", home.display()))
            .hint("SOURCE is a pflow home (the directory that holds `workflows/`) or a PostgreSQL URI")
            .into());
    }
    let report =
        crate::store::open(&source)?.manager().copy_into(&crate::store::open(&dest)?.manager())?;
    crate::commands::warn_skipped(out, &report.unreadable);
    for conflict in &report.conflicts {
        let place = match conflict.deleted_at {
            Some(at) => format!("`{}` (in the trash, deleted {at})", conflict.name),
            None => format!("`{}`", conflict.name),
        };
        out.warning(&format!("not copied: {place}: {}", conflict.reason));
    }
    if args.json {
        let json = CopyJson { source: source.display(), dest: dest.display(), report: &report };
        out.data(&serde_json::to_string_pretty(&json).expect("a copy report serializes"))?;
    } else {
        for life in &report.copied {
            let revisions = plural(life.revisions, "revision");
            match life.deleted_at {
                Some(at) => out.detail(&format!(
                    "copied `{}` to the trash ({revisions}, deleted {at})",
                    life.name
                )),
                None => out.detail(&format!("copied `{}` ({revisions})", life.name)),
            }
        }
        out.message(&summary(&report, &source, &dest));
    }
    let left = report.conflicts.len() + report.unreadable.len();
    if left > 0 {
        return Err(CliError::new(format!(
            "{} of the source {} not copied",
            plural(left, "entry"),
            if left == 1 { "was" } else { "were" }
        ))
        .hint(
            "a conflict is left as it is in DEST: look at it there (`pflow --store DEST workflow \
             show NAME`), delete or rename one of the two, and copy again",
        )
        .into());
    }
    Ok(exit::SUCCESS)
}

/// `copied 3 workflows and 2 trash entries (9 revisions) from A to B; 4 already there`.
fn summary(report: &CopyReport, source: &StoreSpec, dest: &StoreSpec) -> String {
    let live = report.copied.iter().filter(|c| c.deleted_at.is_none()).count();
    let trashed = report.copied.len() - live;
    let revisions: usize = report.copied.iter().map(|c| c.revisions).sum();
    if report.copied.is_empty() {
        return format!(
            "nothing to copy from `{}` to `{}`: {} already there",
            source.display(),
            dest.display(),
            plural(report.unchanged, "life")
        );
    }
    format!(
        "copied {} and {} ({}) from `{}` to `{}`; {} already there",
        plural(live, "workflow"),
        plural(trashed, "trash entry"),
        plural(revisions, "revision"),
        source.display(),
        dest.display(),
        report.unchanged
    )
}

/// `1 workflow`, `2 workflows`, `2 trash entries`, `2 lives`.
fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else if one == "life" {
        format!("{n} lives")
    } else if let Some(stem) = one.strip_suffix('y') {
        format!("{n} {stem}ies")
    } else {
        format!("{n} {one}s")
    }
}

/// What `store copy --json` prints.
#[derive(Serialize)]
struct CopyJson<'a> {
    source: String,
    dest: String,
    #[serde(flatten)]
    report: &'a CopyReport,
}

/// What `store info` shows.
#[derive(Serialize)]
struct Info {
    backend: &'static str,
    location: String,
    /// What chose the store: `--store`, `PFLOW_STORE`, a config file, the pflow home.
    selected_by: String,
    /// The database schema the tables live in (PostgreSQL only).
    schema: Option<String>,
    /// The version of the tables (PostgreSQL only; the filesystem layout has none).
    schema_version: Option<u32>,
    #[serde(flatten)]
    counts: StoreCounts,
}

fn info(args: &InfoArgs, global: &GlobalArgs, out: &Output) -> Outcome {
    let (spec, chosen) = crate::store::selected(global)?;
    let opened = crate::store::open(&spec)?;
    let (schema, schema_version) = match &opened {
        Opened::Fs(_) => (None, None),
        Opened::Postgres(store) => (Some(store.schema()?), Some(store.schema_version()?)),
    };
    let counts = opened.store().counts()?;
    let info = Info {
        backend: opened.backend(),
        location: spec.display(),
        selected_by: match &chosen {
            Chosen::Home => "home".to_owned(),
            other => other.to_string(),
        },
        schema,
        schema_version,
        counts,
    };
    if args.json {
        out.data(&serde_json::to_string_pretty(&info).expect("store info serializes"))?;
        return Ok(exit::SUCCESS);
    }
    let schema = match (&info.schema, info.schema_version) {
        (Some(schema), Some(version)) => format!("{schema}, version {version}"),
        _ => "none (the filesystem layout is not versioned)".to_owned(),
    };
    let lines = [
        ("backend", info.backend.to_owned()),
        ("location", escape_controls(&info.location, Lines::One).into_owned()),
        ("selected by", chosen.to_string()),
        ("schema", schema),
        ("workflows", info.counts.workflows.to_string()),
        ("revisions", info.counts.revisions.to_string()),
        ("trash entries", info.counts.trash_entries.to_string()),
        ("unreadable", info.counts.unreadable.to_string()),
    ];
    let text: Vec<String> =
        lines.iter().map(|(k, v)| format!("{:<14} {v}", format!("{k}:"))).collect();
    out.data(&text.join("\n"))?;
    Ok(exit::SUCCESS)
}
