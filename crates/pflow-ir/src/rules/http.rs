//! The `http-url` and `http-token` formats, as the `http` node's client reads them.
//!
//! The runtime builds its request with the `http` crate (through `ureq`): the method with
//! `Method::from_bytes` and the URL with `Uri::try_from`, then `ureq` requires an
//! `http`/`https` scheme and a host. The checks here follow those parsers byte for byte
//! (version 1 of the crate) so that a literal that validates is one the request accepts;
//! pflow-exec's tests compare them on generated strings.

/// The longest URI the `http` crate parses.
const MAX_URL_LEN: usize = u16::MAX as usize - 1;

/// Why `s` is not an HTTP token, or `None` when it is one.
pub(super) fn token_problem(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("it is empty".to_owned());
    }
    let bad = s.chars().find(|&c| !is_tchar(c))?;
    Some(format!("{} is not allowed in one", char_phrase(bad)))
}

/// Why `s` is not an absolute `http://` or `https://` URL with a host: `Some(None)` when it
/// has no such scheme (the message says what is needed), `Some(Some(reason))` for another
/// problem, `None` when it is one.
pub(super) fn url_problem(s: &str) -> Option<Option<String>> {
    if s.len() > MAX_URL_LEN {
        return Some(Some(format!("it is longer than {MAX_URL_LEN} bytes")));
    }
    let bytes = s.as_bytes();
    let scheme_len = if starts_with_ignore_case(bytes, b"http://") {
        7
    } else if starts_with_ignore_case(bytes, b"https://") {
        8
    } else {
        return Some(None);
    };
    let rest = &s[scheme_len..];
    let end = match authority_end(rest) {
        Ok(end) => end,
        Err(why) => return Some(Some(why)),
    };
    if host(&rest[..end]).is_empty() {
        return Some(Some("it has no host".to_owned()));
    }
    path_and_query_problem(&rest[end..]).map(Some)
}

/// Where the authority of `rest` ends (at the first `/`, `?` or `#`), checked as
/// `http::uri::Authority` checks it.
fn authority_end(rest: &str) -> Result<usize, String> {
    let malformed = || "its host and port are malformed".to_owned();
    let mut colons = 0;
    let mut open_bracket = false;
    let mut close_bracket = false;
    let mut has_percent = false;
    let mut end = rest.len();
    let mut at_sign = None;
    for (i, c) in rest.char_indices() {
        match c {
            '/' | '?' | '#' => {
                end = i;
                break;
            }
            '%' => has_percent = true,
            ':' => {
                // More than eight is refused at once (an IPv6 address has at most seven).
                if colons >= 8 {
                    return Err(malformed());
                }
                colons += 1;
            }
            '[' => {
                if has_percent || open_bracket {
                    return Err(malformed());
                }
                open_bracket = true;
            }
            ']' => {
                if !open_bracket || close_bracket {
                    return Err(malformed());
                }
                close_bracket = true;
                // The colons and a percent sign were part of an IPv6 address.
                colons = 0;
                has_percent = false;
            }
            '@' => {
                // What came before was the user info.
                at_sign = Some(i);
                colons = 0;
                has_percent = false;
            }
            c if is_authority_char(c) => {}
            c => return Err(format!("{} is not allowed in its host", char_phrase(c))),
        }
    }
    if end == 0 {
        return Err("it has no host".to_owned());
    }
    let after_at_is_empty = at_sign.is_some_and(|at| at + 1 == end);
    if open_bracket != close_bracket || colons > 1 || after_at_is_empty || has_percent {
        return Err(malformed());
    }
    Ok(end)
}

/// The host of an authority, as `http::uri::Authority::host` finds it: after the last
/// `@`, up to a port's `:` (or to the `]` of an IPv6 address).
fn host(authority: &str) -> &str {
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    if host_port.starts_with('[') {
        host_port.find(']').map_or(host_port, |i| &host_port[..=i])
    } else {
        host_port.split(':').next().unwrap_or(host_port)
    }
}

/// Why the path, query and fragment after the authority are refused, as
/// `http::uri::PathAndQuery` scans them (what follows `#` is dropped unread).
fn path_and_query_problem(rest: &str) -> Option<String> {
    let mut in_query = false;
    for c in rest.chars() {
        let allowed = match c {
            '#' => return None,
            '?' if !in_query => {
                in_query = true;
                continue;
            }
            c if !c.is_ascii() => true,
            c if in_query => is_query_char(c),
            c => is_path_char(c),
        };
        if !allowed {
            let part = if in_query { "query" } else { "path" };
            return Some(format!(
                "{} is not allowed in its {part}; percent-encode it",
                char_phrase(c)
            ));
        }
    }
    None
}

/// RFC 9110 `tchar`.
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// The characters `http` allows in an authority besides `%` and the delimiters.
fn is_authority_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!$&'()*+,-.:;=@[]_~".contains(c)
}

/// The ASCII characters `http` allows in a path (besides `?` and `#`).
fn is_path_char(c: char) -> bool {
    matches!(c, '!' | '$'..=';' | '=' | '@'..='_' | 'a'..='z' | '|' | '~' | '"' | '{' | '}')
}

/// The ASCII characters `http` allows in a query (besides `#`).
fn is_query_char(c: char) -> bool {
    matches!(c, '!' | '$'..=';' | '=' | '?'..='~')
}

fn starts_with_ignore_case(bytes: &[u8], prefix: &[u8]) -> bool {
    bytes.len() >= prefix.len() && bytes[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// A character for a message: `a space`, `` `<` ``, `U+000A`.
fn char_phrase(c: char) -> String {
    match c {
        ' ' => "a space".to_owned(),
        c if c.is_control() || c.is_whitespace() => format!("U+{:04X}", u32::from(c)),
        c => format!("`{c}`"),
    }
}
