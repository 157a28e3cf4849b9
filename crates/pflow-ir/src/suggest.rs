//! "Did you mean" suggestions shared by every crate.

/// The candidates closest to `target`, best first: at most three, and only those close
/// enough to be a plausible typo.
pub fn closest<'a, I>(target: &str, candidates: I) -> Vec<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let target_lower = target.to_lowercase();
    let mut scored: Vec<(f64, &'a str)> = candidates
        .into_iter()
        .filter_map(|candidate| {
            let score = strsim::jaro_winkler(&target_lower, &candidate.to_lowercase());
            let contains = !target_lower.is_empty()
                && (candidate.contains(target_lower.as_str()) || target_lower.contains(candidate));
            (score >= 0.8 || (contains && candidate.len() > 1)).then_some((score, candidate))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[track_caller]
    fn check(target: &str, candidates: &[&str], expected: &[&str]) {
        assert_eq!(closest(target, candidates.iter().copied()), expected);
    }

    #[test]
    fn suggestions() {
        check("read-fil", &["read-file", "write-file", "shell"], &["read-file"]);
        check("shel", &["read-file", "shell"], &["shell"]);
        check("xyz", &["read-file", "shell"], &[]);
        check("fix", &["fix-issue", "other"], &["fix-issue"]);
        check("", &["a", "b"], &[]);
    }
}
