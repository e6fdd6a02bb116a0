//! "Did you mean": the nearest known name by edit distance.

/// Optimal-string-alignment distance (Levenshtein plus adjacent transposition), by
/// characters, ignoring ASCII case.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().map(|c| c.to_ascii_lowercase()).collect();
    let b: Vec<char> = b.chars().map(|c| c.to_ascii_lowercase()).collect();
    let (n, m) = (a.len(), b.len());
    // Three rows are enough for the transposition lookback.
    let mut prev2 = vec![0usize; m + 1];
    let mut prev: Vec<usize> = (0..=m).collect();
    let mut cur = vec![0usize; m + 1];
    for i in 1..=n {
        cur[0] = i;
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(prev2[j - 2] + 1);
            }
            cur[j] = d;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[m]
}

/// The candidate closest to `name`, if it is close enough to be a plausible typo:
/// at most one edit per three characters (at least one edit). Ties go to the earlier
/// candidate.
pub fn suggest<'a, I>(name: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    // Very long input is not a typo of anything; do not spend time on it.
    if name.chars().count() > 64 {
        return None;
    }
    let len = name.chars().count();
    let limit = (len / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c == name {
            continue;
        }
        let d = edit_distance(name, c);
        if d <= limit && d < len.max(c.chars().count()) && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("grain_aera", "grain_area"), 1);
        assert_eq!(edit_distance("min_livng", "min_living"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("GRAIN_AREA", "grain_area"), 0);
        assert_eq!(edit_distance("残疾证", "残疾人"), 1);
    }

    #[test]
    fn suggestions() {
        let fields = ["grain_area", "grain_output", "veg_area"];
        assert_eq!(suggest("grain_aera", fields).as_deref(), Some("grain_area"));
        assert_eq!(
            suggest("grain_outptu", fields).as_deref(),
            Some("grain_output")
        );
        assert_eq!(suggest("zzz", fields), None);
        assert_eq!(
            suggest("rato", ["ratio", "round"]).as_deref(),
            Some("ratio")
        );
    }
}
