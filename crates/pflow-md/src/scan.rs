//! The line scanner: front matter, headings, `- key: value` items, prose and fenced
//! blocks, by the line rules of 0.16 (not CommonMark: a `###` inside a list is a
//! heading here, as it is there).

use serde_json::{Map, Value};

use crate::text::{
    char_len, is_space, lstrip, match_item, match_item_start, rstrip, split_lines, strip, words,
};
use crate::{Finding, yaml};

/// A `##` section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    None,
    Inputs,
    Steps,
    Outputs,
    Cache,
    Unknown,
}

impl Section {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Section::Inputs => "Inputs",
            Section::Steps => "Steps",
            Section::Outputs => "Outputs",
            Section::Cache => "Cache",
            Section::None | Section::Unknown => "",
        }
    }

    fn holds_entities(self) -> bool {
        matches!(self, Section::Inputs | Section::Steps | Section::Outputs)
    }
}

/// A fenced block inside an entity.
#[derive(Debug)]
pub(crate) struct CodeBlock {
    /// The info string (`shell command`).
    pub(crate) tag: String,
    /// Its last word: the param the block sets.
    pub(crate) param: String,
    pub(crate) content: String,
    /// The line of the opening fence.
    pub(crate) line: usize,
    /// `yaml KEY`: the content is YAML.
    pub(crate) is_yaml: bool,
}

/// A `- key: value` item, with its continuation lines.
#[derive(Debug)]
pub(crate) struct Item {
    pub(crate) text: String,
    pub(crate) line: usize,
}

/// A `###` entity: an input, a step or an output.
#[derive(Debug)]
pub(crate) struct Entity {
    pub(crate) id: String,
    pub(crate) line: usize,
    pub(crate) section: Section,
    pub(crate) prose: Vec<String>,
    pub(crate) items: Vec<Item>,
    pub(crate) blocks: Vec<CodeBlock>,
}

/// The `## Cache` section as scanned.
#[derive(Debug)]
pub(crate) struct CacheSection {
    pub(crate) line: usize,
    pub(crate) ttl: Option<String>,
    /// The content of its ` ```cache ` block and the line of its fence.
    pub(crate) block: Option<(String, usize)>,
}

/// What the scanner found.
#[derive(Debug)]
pub(crate) struct Scan {
    pub(crate) front_matter: Option<Map<String, Value>>,
    pub(crate) title: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) entities: Vec<Entity>,
    pub(crate) cache: Option<CacheSection>,
    pub(crate) steps_line: Option<usize>,
    pub(crate) findings: Vec<Finding>,
}

/// An open `- key: |` block scalar.
#[derive(Debug, Default)]
struct BlockScalar {
    key_column: usize,
    /// Its content column; 0 until known.
    indent: usize,
}

/// An item being collected.
#[derive(Debug, Default)]
struct OpenItem {
    lines: Vec<String>,
    line: usize,
    indent: usize,
    block: Option<BlockScalar>,
}

/// An open fence.
#[derive(Debug)]
struct Fence {
    ch: char,
    len: usize,
    tag: String,
    line: usize,
    lines: Vec<String>,
}

const NEAR_MISS: [(&str, &str); 3] =
    [("input", "Inputs"), ("output", "Outputs"), ("step", "Steps")];

/// Scans `text` into entities and sections; structural mistakes become findings.
pub(crate) fn scan(text: &str) -> Scan {
    let lines = split_lines(text);
    let mut out = Scan {
        front_matter: None,
        title: None,
        description: None,
        entities: Vec::new(),
        cache: None,
        steps_line: None,
        findings: Vec::new(),
    };
    let body_start = front_matter(&lines, &mut out);

    let mut section = Section::None;
    let mut seen_sections: Vec<(Section, usize)> = Vec::new();
    let mut h1_found = false;
    let mut h1_prose: Vec<String> = Vec::new();
    let mut current: Option<usize> = None;
    let mut fence: Option<Fence> = None;
    let mut item: Option<OpenItem> = None;
    let mut orphans: Vec<(Section, Vec<usize>)> = Vec::new();
    let mut unknown_with_content: Option<(String, usize, bool)> = None;

    for (idx, &line) in lines.iter().enumerate().skip(body_start) {
        let line_num = idx + 1;

        // A block scalar's content is opaque, like a fence's, until a shallower line.
        if let Some(open) = item.as_mut()
            && let Some(block) = open.block.as_mut()
        {
            let indent = line.len() - line.trim_start_matches(' ').len();
            let is_blank = indent == line.len();
            if block.indent == 0 && !is_blank && indent > block.key_column {
                let blanks = open.lines.iter().skip(1).map(|l| char_len(l));
                block.indent = blanks.fold(indent, usize::max);
            }
            if is_blank || (block.indent != 0 && indent >= block.indent) {
                open.lines.push(line.to_owned());
                continue;
            }
            open.block = None;
        }

        let stripped = strip(line);
        if stripped.starts_with("```") || stripped.starts_with("~~~") {
            if let Some(open) = fence.as_mut() {
                let closes =
                    stripped.chars().all(|c| c == open.ch) && stripped.chars().count() >= open.len;
                if closes {
                    let open = fence.take().expect("the fence is open");
                    let content = open.lines.join("\n");
                    if let Some(i) = current {
                        push_block(&mut out.entities[i], open.tag, content, open.line);
                    } else if section == Section::Cache {
                        attach_cache_block(&mut out, open.tag, content, open.line);
                    } else if section.holds_entities() {
                        orphan(&mut orphans, section, open.line);
                        orphan(&mut orphans, section, line_num);
                    }
                } else {
                    open.lines.push(line.to_owned());
                }
                continue;
            }
            flush(&mut item, current, &mut out.entities);
            let ch = stripped.chars().next().expect("a fence is not empty");
            let len = stripped.chars().take_while(|&c| c == ch).count();
            let tag = strip(&stripped[len..]).to_owned();
            fence = Some(Fence { ch, len, tag, line: line_num, lines: Vec::new() });
            continue;
        }
        if let Some(open) = fence.as_mut() {
            open.lines.push(line.to_owned());
            continue;
        }

        if let Some(title) = stripped.strip_prefix("# ") {
            flush(&mut item, current, &mut out.entities);
            if !h1_found {
                h1_found = true;
                out.title = Some(strip(title).to_owned());
                current = None;
            }
            continue;
        }
        if let Some(name) = stripped.strip_prefix("## ").filter(|_| !stripped.starts_with("### ")) {
            flush(&mut item, current, &mut out.entities);
            current = None;
            let name = strip(name);
            section = resolve_section(name);
            report_unknown(&mut out.findings, unknown_with_content.take());
            if section == Section::Unknown {
                unknown_with_content = Some((name.to_owned(), line_num, false));
                let lower = name.to_lowercase();
                if let Some((_, expected)) = NEAR_MISS.iter().find(|(miss, _)| *miss == lower) {
                    out.findings.push(
                        Finding::warning(format!(
                            "section `## {name}` is not a section of a workflow"
                        ))
                        .at_line(line_num)
                        .hint(format!("did you mean `## {expected}`? rename it")),
                    );
                    unknown_with_content = None;
                }
            }
            if section.holds_entities() {
                if let Some(&(_, first)) = seen_sections.iter().find(|(s, _)| *s == section) {
                    out.findings.push(
                        Finding::error(format!("duplicate `## {}` section", section.name()))
                            .at_line(line_num)
                            .hint(format!(
                                "merge it into the `## {}` section at line {first}",
                                section.name()
                            )),
                    );
                } else {
                    seen_sections.push((section, line_num));
                }
            }
            if section == Section::Cache {
                if let Some(cache) = &out.cache {
                    out.findings.push(
                        Finding::error("duplicate `## Cache` section").at_line(line_num).hint(
                            format!("merge it into the `## Cache` section at line {}", cache.line),
                        ),
                    );
                } else {
                    out.cache = Some(CacheSection { line: line_num, ttl: None, block: None });
                }
            }
            if section == Section::Steps && out.steps_line.is_none() {
                out.steps_line = Some(line_num);
            }
            continue;
        }
        if let Some(id) = stripped.strip_prefix("### ").filter(|_| !stripped.starts_with("#### ")) {
            flush(&mut item, current, &mut out.entities);
            let id = strip(id).to_owned();
            if !is_entity_id(&id) {
                out.findings.push(
                    Finding::error(format!("`{id}` is not a valid id"))
                        .at_line(line_num)
                        .hint("an id starts with a lowercase letter and holds only lowercase letters, digits, `-` and `_`"),
                );
            }
            if let Some(first) = out.entities.iter().find(|e| e.id == id && e.section == section) {
                out.findings.push(
                    Finding::error(format!("duplicate id `{id}`")).at_line(line_num).hint(format!(
                        "`{id}` is already defined at line {}; rename one of them",
                        first.line
                    )),
                );
            }
            if let Some(unknown) = unknown_with_content.as_mut() {
                unknown.2 = true;
            }
            out.entities.push(Entity {
                id,
                line: line_num,
                section,
                prose: Vec::new(),
                items: Vec::new(),
                blocks: Vec::new(),
            });
            current = Some(out.entities.len() - 1);
            continue;
        }

        if section == Section::Cache && current.is_none() {
            if let Some((_, key, value)) = match_item(line) {
                cache_param(&mut out, key, strip(value), line_num);
            }
            continue;
        }

        if let Some(i) = current {
            if let Some(open) = item.as_mut() {
                let content_start = char_len(line) - char_len(lstrip(line));
                if stripped.is_empty() || content_start >= open.indent {
                    open.lines.push(line.to_owned());
                    continue;
                }
                flush(&mut item, current, &mut out.entities);
            }
            if let Some(leading) = match_item_start(line) {
                flush(&mut item, current, &mut out.entities);
                let mut open = OpenItem {
                    lines: vec![rstrip(line).to_owned()],
                    line: line_num,
                    indent: leading + 2,
                    block: None,
                };
                if let Some((key_column, _, value)) = match_item(line)
                    && let Some(explicit) = block_scalar_header(strip(value))
                {
                    open.block = Some(BlockScalar {
                        key_column,
                        indent: explicit.map_or(0, |n| key_column + n),
                    });
                }
                item = Some(open);
                continue;
            }
            if stripped.is_empty() {
                continue;
            }
            flush(&mut item, current, &mut out.entities);
            out.entities[i].prose.push(stripped.to_owned());
            continue;
        }

        if h1_found && section == Section::None {
            if !stripped.is_empty() {
                h1_prose.push(stripped.to_owned());
            }
            continue;
        }
        if section.holds_entities() && !stripped.is_empty() {
            orphan(&mut orphans, section, line_num);
        }
    }
    flush(&mut item, current, &mut out.entities);
    report_unknown(&mut out.findings, unknown_with_content.take());

    if let Some(open) = fence {
        let closing: String = std::iter::repeat_n(open.ch, open.len).collect();
        out.findings.push(Finding::error("unclosed code block").at_line(open.line).hint(format!(
            "add a closing fence `{closing}` for the block opened at line {}",
            open.line
        )));
    }
    if !h1_prose.is_empty() {
        out.description = Some(h1_prose.join("\n"));
    }
    for (section, line_nums) in orphans {
        let first = line_nums.iter().copied().min().expect("an orphan has a line");
        let last = line_nums.iter().copied().max().expect("an orphan has a line");
        let lines =
            if first == last { format!("line {first}") } else { format!("lines {first}-{last}") };
        let name = section.name();
        let has_entities = out.entities.iter().any(|e| e.section == section);
        let finding = if has_entities {
            Finding::warning(format!(
                "content in `## {name}` before its first `###` heading is ignored ({lines})"
            ))
            .hint("move it under a `###` heading, or remove it")
        } else {
            Finding::error(format!("`## {name}` has content but no `###` entries ({lines})"))
                .hint(syntax_hint(section))
        };
        out.findings.push(finding.at_line(first));
    }
    out
}

/// The example of a section's syntax, for hints.
pub(crate) fn syntax_hint(section: Section) -> &'static str {
    match section {
        Section::Inputs => {
            "each input is a `### name` heading, a description, then `- type: string`, `- required: true`"
        }
        Section::Outputs => {
            "each output is a `### name` heading, a description, then `- source: ${step.output}`"
        }
        Section::Cache => {
            "`## Cache` holds an optional `- ttl: 5m` and one ```cache block of prose and `${var}` references"
        }
        _ => {
            "each step is a `### step-id` heading, a description, then `- type: shell` and its params"
        }
    }
}

fn front_matter(lines: &[&str], out: &mut Scan) -> usize {
    if lines.first().is_none_or(|first| rstrip(first) != "---") {
        return 0;
    }
    let Some(close) = lines.iter().skip(1).position(|l| rstrip(l) == "---").map(|i| i + 1) else {
        return 0;
    };
    let text = lines[1..close].join("\n");
    match yaml::load(&text, false) {
        Ok(Value::Object(map)) => out.front_matter = Some(map),
        Ok(_) => {}
        Err(error) => out.findings.push(
            Finding::error(format!("invalid YAML in the front matter: {}", error.message))
                .at_line(1 + error.line.unwrap_or(1))
                .hint("the front matter between the `---` lines is YAML: `created_at: ...`, `version: ...`"),
        ),
    }
    close + 1
}

fn resolve_section(name: &str) -> Section {
    match name.to_lowercase().as_str() {
        "inputs" => Section::Inputs,
        "steps" => Section::Steps,
        "outputs" => Section::Outputs,
        "cache" => Section::Cache,
        _ => Section::Unknown,
    }
}

/// An unknown section with `###` entries: 0.16 drops them without a word, which hides a
/// misspelt `## Steps`; we say so.
fn report_unknown(findings: &mut Vec<Finding>, unknown: Option<(String, usize, bool)>) {
    if let Some((name, line, true)) = unknown {
        findings.push(
            Finding::warning(format!(
                "section `## {name}` is not a section of a workflow; its `###` entries are ignored"
            ))
            .at_line(line)
            .hint("the sections are `## Inputs`, `## Steps`, `## Outputs` and `## Cache`"),
        );
    }
}

fn is_entity_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Matches a block scalar header (`|`, `>-`, `|2`, `> # note`); gives its explicit
/// indentation, if any.
fn block_scalar_header(value: &str) -> Option<Option<usize>> {
    let mut chars = value.chars().peekable();
    if !matches!(chars.next(), Some('|' | '>')) {
        return None;
    }
    let mut indent = None;
    let mut chomp = false;
    for _ in 0..2 {
        match chars.peek() {
            Some('-' | '+') if !chomp => {
                chomp = true;
                chars.next();
            }
            Some(&c @ '1'..='9') if indent.is_none() => {
                indent = c.to_digit(10).map(|d| d as usize);
                chars.next();
            }
            _ => break,
        }
    }
    let rest: String = chars.collect();
    if rest.is_empty() {
        return Some(indent);
    }
    let comment = rest.trim_start_matches(is_space);
    (comment.len() < rest.len() && comment.starts_with('#')).then_some(indent)
}

fn flush(item: &mut Option<OpenItem>, current: Option<usize>, entities: &mut [Entity]) {
    let Some(mut open) = item.take() else { return };
    while open.lines.last().is_some_and(|l| strip(l).is_empty()) {
        open.lines.pop();
    }
    if let (false, Some(i)) = (open.lines.is_empty(), current) {
        entities[i].items.push(Item { text: open.lines.join("\n"), line: open.line });
    }
}

fn push_block(entity: &mut Entity, tag: String, content: String, line: usize) {
    let parts: Vec<&str> = words(&tag).collect();
    let param = parts.last().map_or(String::new(), |w| (*w).to_owned());
    let is_yaml = parts.len() > 1 && parts[0].to_lowercase() == "yaml";
    entity.blocks.push(CodeBlock { tag, param, content, line, is_yaml });
}

fn orphan(orphans: &mut Vec<(Section, Vec<usize>)>, section: Section, line: usize) {
    match orphans.iter_mut().find(|(s, _)| *s == section) {
        Some((_, lines)) => lines.push(line),
        None => orphans.push((section, vec![line])),
    }
}

fn cache_param(out: &mut Scan, key: &str, value: &str, line: usize) {
    let cache = out.cache.as_mut().expect("a `## Cache` heading opens the cache section");
    let finding = if key != "ttl" {
        Finding::error(format!("`{key}` is not a parameter of `## Cache`"))
            .hint("the one parameter of `## Cache` is `- ttl:`, `1m` to `60m` or `1h`")
    } else if !is_valid_ttl(value) {
        Finding::error(format!("`{value}` is not a cache ttl")).hint("use `1m` to `60m`, or `1h`")
    } else if cache.ttl.is_some() {
        Finding::error("duplicate `- ttl:` in `## Cache`")
            .hint("keep one `- ttl:` line; it applies to the whole block")
    } else {
        cache.ttl = Some(value.to_owned());
        return;
    };
    out.findings.push(finding.at_line(line).at_path("cache.ttl"));
}

fn attach_cache_block(out: &mut Scan, tag: String, content: String, line: usize) {
    let cache = out.cache.as_mut().expect("a `## Cache` heading opens the cache section");
    let finding = if words(&tag).last() != Some("cache") {
        Finding::error(format!("a block under `## Cache` must be tagged `cache`, not `{tag}`"))
            .hint("open the block with ```cache")
    } else if cache.block.is_some() {
        Finding::error("more than one ```cache block under `## Cache`")
            .hint("put every value in one ```cache block")
    } else {
        cache.block = Some((content, line));
        return;
    };
    out.findings.push(finding.at_line(line).at_path("cache"));
}

/// `1m` to `60m`, or `1h`.
pub(crate) fn is_valid_ttl(value: &str) -> bool {
    value == "1h"
        || value
            .strip_suffix('m')
            .filter(|n| {
                !n.starts_with('0') && n.len() <= 2 && n.bytes().all(|b| b.is_ascii_digit())
            })
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| (1..=60).contains(&n))
}
