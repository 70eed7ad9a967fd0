//! Identifiers: one pattern for every id that crosses an edge (tender, account, workflow,
//! lot, evaluator and bidder ids), checked by the API, the CLI and the core alike, so that no
//! backend ever sees a NUL byte, a control character or a stray space in a key.
//!
//! An id is 1–128 ASCII characters: a letter or digit, then letters, digits and `.` `_` `:`
//! `@` `-` ([`ID_PATTERN`]). Tender ids are at most [`MAX_TENDER_ID`] characters.

/// The pattern every identifier matches, as documented in the API.
pub const ID_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$";

/// Longest id.
pub const MAX_ID: usize = 128;

/// Longest tender id.
pub const MAX_TENDER_ID: usize = 64;

/// Whether `s` is a valid identifier ([`ID_PATTERN`]).
pub fn is_valid(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_ID
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b':' | b'@' | b'-'))
}

/// Why `s` is not a valid identifier, for error messages; `None` when it is one.
pub fn problem(s: &str) -> Option<String> {
    if is_valid(s) {
        return None;
    }
    Some(if s.is_empty() {
        "an id may not be empty".to_owned()
    } else if s.len() > MAX_ID {
        format!("an id is at most {MAX_ID} characters")
    } else {
        format!(
            "`{}` is not an id: ids match {ID_PATTERN}",
            s.escape_debug()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_one_pattern() {
        for ok in [
            "T-2021",
            "org-01",
            "staff-zhang",
            "a:b",
            "x@y.org",
            "7",
            "open_tender.v2",
        ] {
            assert!(is_valid(ok), "{ok}");
        }
        for bad in [
            "",
            " a",
            "a ",
            "a\0b",
            "a\tb",
            "-a",
            "é",
            "a/b",
            "a b",
            &"x".repeat(129),
        ] {
            assert!(!is_valid(bad), "{bad:?}");
            assert!(problem(bad).is_some());
        }
    }
}
