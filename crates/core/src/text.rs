//! What a name people read may hold. Bidirectional controls reorder what follows them on
//! screen (`Tender-\u{202E}fdp.exe` shows as `Tender-exe.pdf`), and invisible characters
//! make two names look alike: neither belongs in a document's or an organisation's name.

/// Whether `c` changes how text around it is shown without showing itself: the
/// bidirectional embeddings, overrides, isolates and marks, and the zero-width space and
/// byte-order mark.
pub fn is_invisible_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{200B}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// Why `name` may not be shown as a name: a control character, or an invisible one that
/// changes how the text around it reads; `None` when it may.
pub fn name_problem(name: &str) -> Option<&'static str> {
    if name.chars().any(char::is_control) {
        Some("control characters")
    } else if name.chars().any(is_invisible_control) {
        Some("invisible characters that reorder or hide text (such as U+202E)")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::name_problem;

    #[test]
    fn names_with_bidi_controls_or_controls_are_refused() {
        assert_eq!(name_problem("招募文件.pdf"), None);
        assert_eq!(
            name_problem("مستند.pdf"),
            None,
            "right-to-left text itself is fine"
        );
        for bad in [
            "Tender-\u{202E}fdp.exe",
            "a\u{2066}b",
            "x\u{200F}",
            "\u{FEFF}name",
            "tab\there",
        ] {
            assert!(name_problem(bad).is_some(), "{}", bad.escape_debug());
        }
    }
}
