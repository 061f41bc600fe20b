//! The nearest valid word for a misspelled one, for "did you mean ...?" hints: configuration
//! fields here, and the CLI's commands and options.

/// The candidate closest to `name` by edit distance, ignoring ASCII case, if it is close
/// enough to be a typo: at most 3 edits, and at most a third of `name`'s characters (`nope`
/// is not a typo of `types`). Among equally close candidates, the first one.
///
/// ```
/// let fields = ["heartbeat_interval", "heartbeat_timeout", "url"];
/// assert_eq!(tradewire::suggest("heartbeat_intervall", fields), Some("heartbeat_interval"));
/// assert_eq!(tradewire::suggest("nope", ["types"]), None);
/// ```
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    let chars = name.chars().count();
    candidates
        .into_iter()
        .map(|c| (edit_distance(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= 3 && *d * 3 <= chars)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The Levenshtein distance between `a` and `b`, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("héllo", "hello"), 1);
    }

    #[test]
    fn close_names_only_and_the_first_of_equals() {
        assert_eq!(
            suggest("rejectunauthorized", ["rejectUnauthorized"]),
            Some("rejectUnauthorized")
        );
        assert_eq!(suggest("something_else_entirely", ["url", "types"]), None);
        assert_eq!(suggest("nope", ["types"]), None);
        assert_eq!(suggest("abcx", ["abcy", "abcz"]), Some("abcy"));
        assert_eq!(suggest("anything", std::iter::empty()), None);
    }
}
