//! The ` ```cache ` block of `## Cache`: prose, then a `${var}`, repeated; each pair
//! is one cache item.

/// One item: the prose before a reference and the reference's text.
#[derive(Debug, PartialEq)]
pub(crate) struct Chunk {
    pub(crate) name: String,
    pub(crate) prose_before: String,
    /// The offset of its `${` in the block.
    pub(crate) offset: usize,
}

/// A mistake in the block: what, and the offset it is at.
#[derive(Debug, PartialEq)]
pub(crate) struct ChunkError {
    pub(crate) message: String,
    pub(crate) hint: &'static str,
    pub(crate) offset: usize,
}

/// A reference in the text (`${a.b}`, `${a ?? b}`) or an unescaped `${` that opens none.
enum Token {
    Reference { start: usize, end: usize, operands: usize },
    Issue { start: usize, end: usize },
}

/// Splits the block into items; the prose after the last reference is dropped, as in 0.16.
pub(crate) fn chunks(content: &str) -> Result<Vec<Chunk>, ChunkError> {
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut last_end = 0;
    let mut tail_issue = None;
    for token in tokens(content) {
        match token {
            Token::Issue { start, end } => tail_issue = Some((start, end)),
            Token::Reference { start, end, operands } => {
                tail_issue = None;
                let name = &content[start + 2..end - 1];
                if operands > 1 {
                    return Err(ChunkError {
                        message: format!("a `## Cache` item cannot coalesce: `${{{name}}}`"),
                        hint: "reference one value per item; compute a fallback in an earlier step and cache its output",
                        offset: start,
                    });
                }
                if chunks.iter().any(|c| c.name == name) {
                    return Err(ChunkError {
                        message: format!("duplicate cache item `${{{name}}}`"),
                        hint: "each `${var}` appears once in the `## Cache` block; remove the repeated one",
                        offset: start,
                    });
                }
                chunks.push(Chunk {
                    name: name.to_owned(),
                    prose_before: content[last_end..start].to_owned(),
                    offset: start,
                });
                last_end = end;
            }
        }
    }
    if let Some((start, end)) = tail_issue {
        return Err(ChunkError {
            message: format!(
                "`{}` in `## Cache` is not a `${{var}}` reference",
                &content[start..end]
            ),
            hint: "a reference is `${step.output}` or `${input}`",
            offset: start,
        });
    }
    if chunks.is_empty() {
        return Err(ChunkError {
            message: "the ```cache block has no `${var}` reference".to_owned(),
            hint: "each item is prose followed by a `${var}` reference",
            offset: 0,
        });
    }
    Ok(chunks)
}

fn tokens(content: &str) -> Vec<Token> {
    let bytes = content.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'$' && bytes[i + 1] == b'$' && bytes.get(i + 2) == Some(&b'{') {
            i += 3; // `$${` is an escaped `${`: prose.
            continue;
        }
        if bytes[i] == b'$' && bytes[i + 1] == b'{' {
            let close = content[i..].find('}').map(|j| i + j + 1);
            let end = close.unwrap_or(content.len());
            let inner = &content[i + 2..close.map_or(content.len(), |e| e - 1)];
            let operands: Vec<&str> = inner.split("??").map(str::trim).collect();
            if close.is_some() && operands.iter().all(|op| is_path(op)) {
                out.push(Token::Reference { start: i, end, operands: operands.len() });
            } else {
                out.push(Token::Issue { start: i, end });
            }
            i = end;
            continue;
        }
        i += 1;
    }
    out
}

/// `name(.field|[n])*`, a name being a letter or `_` then letters, digits, `_`, `-`.
fn is_path(path: &str) -> bool {
    let name = |s: &str| {
        let mut chars = s.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    let mut rest = path;
    let mut first = true;
    while !rest.is_empty() {
        if !first && rest.starts_with('[') {
            let Some(close) = rest.find(']') else { return false };
            if close == 1 || !rest[1..close].bytes().all(|b| b.is_ascii_digit()) {
                return false;
            }
            rest = &rest[close + 1..];
            continue;
        }
        if !first {
            let Some(r) = rest.strip_prefix('.') else { return false };
            rest = r;
        }
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        if !name(&rest[..end]) {
            return false;
        }
        rest = &rest[end..];
        first = false;
    }
    !first
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_prose_then_reference() {
        let got = chunks("The concept:\n\n${concept}\n\nBrief $${not}: ${brief.text[0]}\ntail")
            .expect("valid");
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].prose_before, "The concept:\n\n");
        assert_eq!(got[1].name, "brief.text[0]");
        assert_eq!(got[1].prose_before, "\n\nBrief $${not}: ");
    }

    #[test]
    fn mistakes_are_errors() {
        assert!(chunks("no references").is_err());
        assert!(chunks("${a} ${a}").is_err());
        assert!(chunks("${a ?? b}").is_err());
        assert!(chunks("${a} ${").is_err());
        assert!(chunks("${} ${a}").is_ok());
    }
}
