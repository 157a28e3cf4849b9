//! `pflow run`: run a saved workflow, a workflow file, or a workflow piped on stdin.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use clap::Args;
use pflow_exec::{
    CancelFlag, ExecError, NoopObserver, Observer, UsageTally, check_inputs, coerce_input,
};
use pflow_ir::{WorkflowIr, WorkflowName};
use pflow_store::{Origin, SaveMode, WorkflowFile, WorkflowManager};
use serde_json::{Map, Value};

use crate::cli::GlobalArgs;
use crate::commands::Outcome;
use crate::exit;
use crate::input;
use crate::output::Output;
use crate::progress::Progress;
use crate::prompt;
use crate::report::CliError;

/// Run a workflow: a saved name, a file (JSON or `.pflow.md`), or JSON on stdin
///
/// WORKFLOW is a saved name (`fix-issue`), a path to a JSON file holding a bare IR or a
/// stored document, a `NAME.pflow.md` (pflow 0.16's format), or `-` for stdin, which is
/// also where the workflow comes from when WORKFLOW is absent. A WORKFLOW that names an
/// existing file, contains `/` or ends in `.json` or `.pflow.md` is a path; anything else
/// is a saved name.
///
/// Inputs are KEY=VALUE pairs, coerced to the declared input types: `n=3`, `flag=true`,
/// `items=[1,2]`, `obj={"a":1}`. An input without a declared type becomes JSON when the
/// value parses as an object, array, number or boolean, else it stays a string.
///
/// The workflow is validated before anything runs. The result goes to stdout: a single
/// string output as it is, anything else as pretty JSON (always JSON with `--json`).
/// On a terminal, each node is shown on stderr as it starts and finishes.
///
/// After a successful run of a workflow that is not saved (a file or stdin), pflow asks
/// on the terminal whether to save it, and under which name; `--save NAME` saves without
/// asking and `--no-save-prompt` never asks. Nothing is asked off a terminal. Ctrl-C
/// stops the run (a running shell command is killed) and exits 130.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// A saved workflow name, a JSON file, or `-` for stdin [default: -]
    #[arg(value_name = "WORKFLOW")]
    workflow: Option<String>,
    /// Inputs of the workflow
    #[arg(value_name = "KEY=VALUE")]
    inputs: Vec<String>,
    /// Print the result as JSON, whatever its shape
    #[arg(long)]
    json: bool,
    /// After a successful run, save the workflow under NAME without asking
    #[arg(long, value_name = "NAME")]
    save: Option<String>,
    /// The description saved with `--save` [default: the document's, if it is one]
    #[arg(long, value_name = "TEXT", requires = "save")]
    description: Option<String>,
    /// Do not offer to save the workflow after the run
    #[arg(long, conflicts_with = "save")]
    no_save_prompt: bool,
    /// Call the model for every `llm` node, neither reading nor writing the reply cache
    #[arg(long)]
    no_cache: bool,
}

/// Runs `pflow run`.
pub(crate) fn run(args: RunArgs, global: &GlobalArgs, out: &Output) -> Outcome {
    let (target, assignments) = target_and_inputs(args.workflow, args.inputs);
    // Opening does no IO. A file or stdin workflow needs the store only for the saved
    // workflows it calls, so not finding a home is an error only for a saved name.
    let manager = crate::store::open_manager(global);
    let manager: Option<WorkflowManager> = match &target {
        Target::Saved(_) => Some(manager?),
        _ => manager.ok(),
    };

    // `--save NAME` is checked before anything runs: a bad or taken name is a mistake
    // of the command line, not something to find out after a long run.
    let save_as = match &args.save {
        Some(name) => Some(save_target(name, manager.as_ref())?),
        None => None,
    };

    // Without a home there are no saved workflows: the checks and the run see an empty
    // store.
    let library = manager.clone().unwrap_or_else(|| crate::store::open_for_checks(global));
    let (checked, origin, label, unsaved) = match &target {
        Target::Saved(name) => {
            let name = WorkflowName::new(name)?;
            let checked = library.load_checked(name.as_str())?;
            (checked, Origin::Saved(name.clone()), format!("`{name}`"), Loaded::default())
        }
        Target::File(path) => {
            if !path.exists() {
                return Err(missing_file(path, manager.as_ref()).into());
            }
            let (file, mut loaded) = load(path, out)?;
            if let Some(stem) = file_stem(path) {
                loaded.name_sources.push(stem);
            }
            let origin = Origin::File(path.clone());
            let checked = file.locate(library.check(&file.value, &origin, None));
            (checked, origin, input::label(path), loaded)
        }
        Target::Stdin => {
            if std::io::stdin().is_terminal() {
                return Err(CliError::usage("no workflow given")
                    .hint(
                        "pass a saved name or a JSON file, or pipe JSON: `echo '{…}' | pflow run`",
                    )
                    .into());
            }
            let (file, loaded) = load(Path::new("-"), out)?;
            let checked = library.check(&file.value, &Origin::Inline, None);
            (checked, Origin::Inline, "from stdin".to_owned(), loaded)
        }
    };

    // The same checks as `validate` and `workflow save`: structure, node types, calls to
    // saved workflows (they must exist, and not loop) and to files.
    out.diagnostics(checked.diagnostics());
    let ir = match checked.into_valid() {
        Ok((ir, _warnings)) => ir,
        Err(diagnostics) => {
            let errors = diagnostics.errors().count().max(1);
            let noun = if errors == 1 { "error" } else { "errors" };
            return Err(CliError::new(format!("workflow {label} is invalid: {errors} {noun}"))
                .hint(
                    "fix the problems above; `pflow validate FILE` checks a file without running it",
                )
                .into());
        }
    };

    let inputs = parse_inputs(&ir, &assignments)?;
    let cancel = CancelFlag::new();
    stop_on_ctrl_c(&cancel, out);
    let llm = crate::commands::llm::setup(global, args.no_cache)?;
    let mut runtime = crate::commands::llm::runtime(&llm)
        .with_cancel_flag(cancel.clone())
        .with_resolver(Arc::new(library.clone()));
    let progress = Progress::new(out).map(Arc::new);
    let heard: Arc<dyn Observer> = match &progress {
        Some(progress) => Arc::clone(progress) as Arc<dyn Observer>,
        None => Arc::new(NoopObserver),
    };
    let tally = Arc::new(UsageTally::new(heard));
    runtime = runtime.with_observer(Arc::clone(&tally) as Arc<dyn Observer>);
    let started = Instant::now();
    let result = runtime.run(&ir, inputs, &origin);
    if let Some(progress) = &progress {
        progress.close();
    }
    if let Some(usage) = tally.usage() {
        // The tokens were spent whether or not the run succeeded.
        out.message(&usage.to_string());
    }
    let result = result?;
    out.detail(&format!(
        "ran {} node{} in {}",
        result.nodes_run,
        if result.nodes_run == 1 { "" } else { "s" },
        crate::progress::duration(started.elapsed())
    ));
    out.data(&render(result.outputs, args.json))?;

    // Saving comes after the result is out, so a pipeline gets it even if saving fails.
    if let Some(name) = save_as {
        let manager = manager.as_ref().expect("`--save` checked that the store opens");
        let description = args.description.or(unsaved.description).unwrap_or_default();
        let saved = manager
            .save(name.as_str(), &ir, Some(&description), SaveMode::New)
            .context("the run succeeded, but the workflow was not saved")?;
        out.message(&format!("saved `{name}` (revision 1) to {}", saved.location));
    } else if let Some(manager) = &manager
        && !matches!(target, Target::Saved(_))
        && !args.no_save_prompt
        && !cancel.is_cancelled()
        && prompt::terminal_available()
    {
        let offer = prompt::Unsaved {
            ir: &ir,
            name_sources: unsaved.name_sources,
            description: unsaved.description,
        };
        prompt::offer_save(manager, &offer, out)?;
    }
    if cancel.is_cancelled() {
        return Err(ExecError::Cancelled.into());
    }
    Ok(exit::SUCCESS)
}

/// What a workflow file says about itself, to suggest a name and description when saving.
#[derive(Debug, Default)]
struct Loaded {
    /// Where a name can come from, best first: the document's `name`, the file's stem.
    name_sources: Vec<String>,
    /// The document's description.
    description: Option<String>,
}

/// `no such file`, with the workflow file beside it or the saved workflow the person may
/// have meant.
fn missing_file(path: &Path, manager: Option<&WorkflowManager>) -> CliError {
    let error = CliError::new(format!("no such file {}", input::label(path)));
    if let Some(near) = near_file(path) {
        return error.hint(format!("did you mean `{}`?", near.display()));
    }
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let names = manager.and_then(|m| m.list_all().ok()).map(|l| l.workflows).unwrap_or_default();
    let close = pflow_ir::closest(&stem, names.iter().map(|s| s.name.as_str()));
    match close.first() {
        Some(name) => error.hint(format!(
            "did you mean the saved workflow `{name}`? run it with `pflow run {name}`"
        )),
        None => error.hint("check the path; `pflow workflow list` shows the saved workflows"),
    }
}

/// The workflow file in the same directory whose name is closest to `path`'s, if one is
/// close (`examples/gret.json` → `examples/greet.json`).
fn near_file(path: &Path) -> Option<PathBuf> {
    let wanted = path.file_name()?.to_string_lossy().into_owned();
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    let entries = std::fs::read_dir(parent.unwrap_or(Path::new("."))).ok()?;
    // A directory of any size is not read whole for a hint.
    let names: Vec<String> = entries
        .take(10_000)
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| {
            n.ends_with(".json")
                || pflow_store::WorkflowFormat::of(Path::new(n))
                    == pflow_store::WorkflowFormat::PflowMd
        })
        .collect();
    let close = pflow_ir::closest(&wanted, names.iter().map(String::as_str));
    let name = close.first()?;
    Some(parent.map_or_else(|| PathBuf::from(name), |p| p.join(name)))
}

/// The name `--save` asks for, once it is known to be valid and free.
fn save_target(name: &str, manager: Option<&WorkflowManager>) -> anyhow::Result<WorkflowName> {
    // A bad name is an invalid value like any other: exit 1, as with `workflow save`.
    let name = WorkflowName::new(name)?;
    let Some(manager) = manager else {
        return Err(CliError::new("cannot find a home directory to save workflows in")
            .hint("set `PFLOW_HOME` or pass `--home DIR`")
            .into());
    };
    if manager.exists(name.as_str())? {
        return Err(CliError::new(format!("workflow `{name}` already exists; nothing was run"))
            .hint(format!(
                "choose another name for `--save`, or run the saved one with `pflow run {name}`"
            ))
            .into());
    }
    Ok(name)
}

/// Makes Ctrl-C stop the run through `cancel` (a running shell command is killed, and the
/// run ends with exit 130); a second Ctrl-C exits 130 at once.
fn stop_on_ctrl_c(cancel: &CancelFlag, out: &Output) {
    use signal_hook::consts::SIGINT;
    // The shutdown is registered first: it only fires when the flag is already set, i.e.
    // on the second Ctrl-C.
    let registered = signal_hook::flag::register_conditional_shutdown(
        SIGINT,
        i32::from(exit::INTERRUPTED),
        cancel.shared(),
    )
    .and_then(|_| signal_hook::flag::register(SIGINT, cancel.shared()));
    if let Err(e) = registered {
        out.detail(&format!("Ctrl-C will end pflow at once: cannot handle it ({e})"));
    }
}

/// Where the workflow comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Saved(String),
    File(PathBuf),
    Stdin,
}

/// Splits the positional arguments into the workflow and the KEY=VALUE inputs.
///
/// The first argument is the workflow, unless it looks like an input (`key=value`, the key
/// a plain name) and names no existing file: then the workflow comes from stdin
/// (`… | pflow run n=3`).
fn target_and_inputs(first: Option<String>, mut rest: Vec<String>) -> (Target, Vec<String>) {
    let Some(first) = first else { return (Target::Stdin, rest) };
    if first == "-" {
        return (Target::Stdin, rest);
    }
    let exists = Path::new(&first).is_file();
    let looks_like_input = first.split_once('=').is_some_and(|(key, _)| {
        !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    });
    if looks_like_input && !exists {
        rest.insert(0, first);
        return (Target::Stdin, rest);
    }
    if pflow_store::names_a_file(&first) {
        (Target::File(PathBuf::from(first)), rest)
    } else {
        (Target::Saved(first), rest)
    }
}

/// Reads a workflow file (or stdin for `-`): a bare IR or a stored document in JSON, or
/// a `.pflow.md`.
fn load(path: &Path, out: &Output) -> anyhow::Result<(WorkflowFile, Loaded)> {
    let bytes = input::read_bytes(path)?;
    if input::is_stdin(path) && bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(CliError::usage("no workflow given: stdin is empty")
            .hint("pass a saved name or a JSON file, or pipe JSON: `echo '{…}' | pflow run`")
            .into());
    }
    let file = input::workflow_from(path, &bytes, out)?;
    let loaded = Loaded {
        name_sources: file.name.iter().cloned().collect(),
        description: file.description.clone(),
    };
    Ok((file, loaded))
}

/// The name a file suggests: its name without `.json` or `.pflow.md`.
fn file_stem(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_string_lossy();
    let stem =
        name.strip_suffix(".pflow.md").or_else(|| name.strip_suffix(".json")).unwrap_or(&name);
    (!stem.is_empty()).then(|| stem.to_owned())
}

/// The KEY=VALUE arguments as inputs, coerced to the declared types and checked against
/// the declared inputs. Every mistake here is a usage error (exit 2).
fn parse_inputs(ir: &WorkflowIr, assignments: &[String]) -> anyhow::Result<Map<String, Value>> {
    let mut inputs = Map::new();
    for assignment in assignments {
        let Some((key, text)) = assignment.split_once('=').filter(|(k, _)| !k.is_empty()) else {
            return Err(CliError::usage(format!(
                "expected an input as KEY=VALUE, got `{assignment}`"
            ))
            .hint(accepted(ir))
            .into());
        };
        if inputs.contains_key(key) {
            return Err(CliError::usage(format!("input `{key}` is given more than once")).into());
        }
        let ty = ir.inputs.get(key).and_then(|spec| spec.ty);
        let value = coerce_input(text, ty)
            .map_err(|e| CliError::usage(format!("input `{key}`: {e}")).hint(accepted(ir)))?;
        inputs.insert(key.to_owned(), value);
    }
    // The runtime checks again; checking here finds the mistake before anything starts
    // (`report::classify` makes it a usage error, as it does for the runtime's).
    check_inputs(ir, inputs.clone()).map_err(ExecError::from)?;
    Ok(inputs)
}

/// The accepted inputs, for hints.
fn accepted(ir: &WorkflowIr) -> String {
    let described = pflow_exec::describe_inputs(ir);
    if described.is_empty() {
        "this workflow declares no inputs".to_owned()
    } else {
        format!("this workflow accepts: {}", described.join(", "))
    }
}

/// The result as stdout shows it: one string output as it is (so it pipes cleanly),
/// anything else as pretty JSON.
fn render(outputs: Map<String, Value>, json: bool) -> String {
    if !json
        && outputs.len() == 1
        && let Some(Value::String(text)) = outputs.values().next()
    {
        return text.clone();
    }
    serde_json::to_string_pretty(&Value::Object(outputs)).expect("JSON values always serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(args: &[&str], target: Target, inputs: &[&str]) {
        let mut args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        let first = if args.is_empty() { None } else { Some(args.remove(0)) };
        assert_eq!(
            target_and_inputs(first, args),
            (target, inputs.iter().map(|s| (*s).to_owned()).collect())
        );
    }

    #[test]
    fn names_paths_and_stdin() {
        check(&[], Target::Stdin, &[]);
        check(&["-", "a=1"], Target::Stdin, &["a=1"]);
        check(&["a=1", "b=2"], Target::Stdin, &["a=1", "b=2"]);
        check(&["fix-issue", "n=3"], Target::Saved("fix-issue".into()), &["n=3"]);
        check(&["flow.json"], Target::File("flow.json".into()), &[]);
        check(&["dir/flow"], Target::File("dir/flow".into()), &[]);
        check(&["./x=y"], Target::File("./x=y".into()), &[]);
        // An existing file wins over the name rules.
        check(&["Cargo.toml"], Target::File("Cargo.toml".into()), &[]);
    }

    #[test]
    fn results_print_plainly_when_they_are_one_string() {
        let one: Map<String, Value> = serde_json::from_str(r#"{"message": "Hello"}"#).unwrap();
        assert_eq!(render(one.clone(), false), "Hello");
        assert_eq!(render(one, true), "{\n  \"message\": \"Hello\"\n}");
        let two: Map<String, Value> = serde_json::from_str(r#"{"a": "x", "b": 1}"#).unwrap();
        assert_eq!(render(two, false), "{\n  \"a\": \"x\",\n  \"b\": 1\n}");
        let number: Map<String, Value> = serde_json::from_str(r#"{"n": 3}"#).unwrap();
        assert_eq!(render(number, false), "{\n  \"n\": 3\n}");
    }
}
