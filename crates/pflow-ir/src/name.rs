//! Workflow names: kebab-case, 1–50 characters (SPEC §4.2).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The longest accepted workflow name, in characters.
pub const MAX_NAME_LEN: usize = 50;

/// A valid workflow name: `^[a-z0-9]+(-[a-z0-9]+)*$`, at most [`MAX_NAME_LEN`] characters.
///
/// Holding one proves the name is safe to use as a file name component: no separators,
/// no dots, no NUL, no upper case, nothing outside ASCII.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WorkflowName(String);

impl WorkflowName {
    /// Checks `name` against the naming rules.
    pub fn new(name: &str) -> Result<WorkflowName, NameError> {
        match problem(name) {
            None => Ok(WorkflowName(name.to_owned())),
            Some(problem) => Err(NameError {
                name: name.to_owned(),
                problem,
                suggestion: WorkflowName::suggest(name).map(|n| n.0),
            }),
        }
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A valid spelling close to `raw`, if one can be made (`Fix_Issue` → `fix-issue`).
    ///
    /// Upper case is lowered (with a dash at a camel-case boundary), every run of other
    /// characters becomes one dash, and the result is cut to [`MAX_NAME_LEN`] at a dash.
    pub fn suggest(raw: &str) -> Option<WorkflowName> {
        let mut out = String::new();
        let mut prev_lower_or_digit = false;
        let mut pending_dash = false;
        for c in raw.chars() {
            if c.is_ascii_alphanumeric() {
                if c.is_ascii_uppercase() && prev_lower_or_digit {
                    pending_dash = true;
                }
                if pending_dash && !out.is_empty() {
                    out.push('-');
                }
                pending_dash = false;
                out.push(c.to_ascii_lowercase());
                prev_lower_or_digit = c.is_ascii_lowercase() || c.is_ascii_digit();
            } else {
                pending_dash = true;
                prev_lower_or_digit = false;
            }
        }
        if out.len() > MAX_NAME_LEN {
            out.truncate(MAX_NAME_LEN);
            while out.ends_with('-') {
                out.pop();
            }
        }
        (problem(&out).is_none()).then_some(WorkflowName(out))
    }
}

impl fmt::Display for WorkflowName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for WorkflowName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for WorkflowName {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WorkflowName::new(s)
    }
}

impl TryFrom<String> for WorkflowName {
    type Error = NameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        match problem(&s) {
            None => Ok(WorkflowName(s)),
            Some(_) => WorkflowName::new(&s),
        }
    }
}

impl From<WorkflowName> for String {
    fn from(name: WorkflowName) -> String {
        name.0
    }
}

/// Why a string is not a valid workflow name, with a valid spelling when one exists.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid workflow name `{}`: {problem}", name.escape_debug())]
pub struct NameError {
    name: String,
    problem: String,
    suggestion: Option<String>,
}

impl NameError {
    /// The rejected input.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What is wrong with it, as a lowercase phrase.
    pub fn problem(&self) -> &str {
        &self.problem
    }

    /// A valid spelling close to the input, when one can be made.
    pub fn suggestion(&self) -> Option<&str> {
        self.suggestion.as_deref()
    }

    /// A hint for a person: the suggested spelling, or the rule.
    pub fn hint(&self) -> String {
        match &self.suggestion {
            Some(s) => format!("did you mean `{s}`? names are lowercase words joined by single dashes"),
            None => "names are 1-50 lowercase letters or digits, words joined by single dashes (`fix-issue`)"
                .to_owned(),
        }
    }
}

/// The first rule `name` breaks, as a message; `None` when it is valid.
fn problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("a name cannot be empty".to_owned());
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_LEN {
        return Some(format!("{chars} characters is longer than the limit of {MAX_NAME_LEN}"));
    }
    if let Some(c) =
        name.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        let what = if c.is_ascii_uppercase() {
            "upper case is not allowed".to_owned()
        } else {
            format!("character {:?} is not allowed", c)
        };
        return Some(what);
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Some("a name cannot start or end with `-`".to_owned());
    }
    if name.contains("--") {
        return Some("a name cannot contain `--`".to_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, expected: Result<&str, Option<&str>>) {
        let got = WorkflowName::new(input);
        match (got, expected) {
            (Ok(n), Ok(want)) => assert_eq!(n.as_str(), want),
            (Err(e), Err(suggestion)) => assert_eq!(e.suggestion(), suggestion, "{e}"),
            (got, want) => panic!("{input:?}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn valid_names() {
        check("fix-issue", Ok("fix-issue"));
        check("a", Ok("a"));
        check("x1-2y", Ok("x1-2y"));
        check(&"a".repeat(50), Ok(&"a".repeat(50)));
    }

    #[test]
    fn invalid_names_with_suggestions() {
        check("Fix_Issue", Err(Some("fix-issue")));
        check("FixIssue", Err(Some("fix-issue")));
        check("../evil", Err(Some("evil")));
        check("a/b", Err(Some("a-b")));
        check("a\\b", Err(Some("a-b")));
        check("a--b", Err(Some("a-b")));
        check("-x", Err(Some("x")));
        check("x-", Err(Some("x")));
        check("Hello", Err(Some("hello")));
        check("café", Err(Some("caf")));
        check("my workflow", Err(Some("my-workflow")));
        check(&"a".repeat(51), Err(Some(&"a".repeat(50))));
    }

    #[test]
    fn invalid_names_without_suggestions() {
        check("", Err(None));
        check(".", Err(None));
        check("..", Err(None));
        check("\0", Err(None));
        check("\u{202e}", Err(None));
        // Cyrillic look-alikes of `abc`.
        check("\u{430}\u{432}\u{441}", Err(None));
    }

    #[test]
    fn error_message_names_the_input() {
        let err = WorkflowName::new("Fix Issue").unwrap_err();
        assert_eq!(err.to_string(), "invalid workflow name `Fix Issue`: upper case is not allowed");
        assert_eq!(err.suggestion(), Some("fix-issue"));
    }

    #[test]
    fn serde_rejects_invalid_names() {
        let ok: WorkflowName = serde_json::from_str("\"ok-name\"").unwrap();
        assert_eq!(ok.as_str(), "ok-name");
        assert!(serde_json::from_str::<WorkflowName>("\"Bad\"").is_err());
    }
}
