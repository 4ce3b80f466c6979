//! Text from the server is shown safely (R29): control characters, and so
//! every terminal escape sequence, are made visible instead of reaching the
//! terminal, and so are invisible format characters: bidirectional-text
//! controls (which can make a line read backwards, as in "Trojan
//! Source"), zero-width spaces and joiners, byte-order marks, tag
//! characters and line separators, which could hide text in a line or
//! make two different words look alike. Each printed line stays one line.

use std::borrow::Cow;

/// `text` with every control character replaced by a visible stand-in:
/// caret notation for C0 and DEL (`ESC` becomes `^[`), U+FFFD for C1, a
/// space for a tab, and the code point in angle brackets for an invisible
/// character (`<U+200B>`).
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() || is_invisible(c)) {
        return Cow::Borrowed(text);
    }
    let mut safe = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\t' => safe.push(' '),
            '\0'..='\x1f' => {
                safe.push('^');
                // '@' for NUL, 'A' for ^A, ... '_' for 0x1f.
                safe.push(char::from(c as u8 + b'@'));
            }
            '\x7f' => safe.push_str("^?"),
            c if c.is_control() => safe.push(char::REPLACEMENT_CHARACTER),
            c if is_invisible(c) => {
                use std::fmt::Write;
                let _ = write!(safe, "<U+{:04X}>", u32::from(c));
            }
            c => safe.push(c),
        }
    }
    Cow::Owned(safe)
}

/// Format characters (general category Cf, Unicode 16) and the line and
/// paragraph separators (Zl, Zp): drawn as nothing, or able to reorder or
/// break what follows them. Among them the marks, embeddings, overrides
/// and isolates of the bidirectional algorithm, the zero-width space,
/// joiners, word joiner and byte-order mark, and the tag characters.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{600}'..='\u{605}'
            | '\u{61c}'
            | '\u{6dd}'
            | '\u{70f}'
            | '\u{890}'..='\u{891}'
            | '\u{8e2}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{110bd}'
            | '\u{110cd}'
            | '\u{13430}'..='\u{1343f}'
            | '\u{1bca0}'..='\u{1bca3}'
            | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0001}'
            | '\u{e0020}'..='\u{e007f}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_untouched() {
        let text = "hans: vader is evil ~!@#$%^&*() é 日本";
        assert!(matches!(neutralise(text), Cow::Borrowed(t) if t == text));
    }

    #[test]
    fn escapes_and_line_breaks_are_made_visible() {
        assert_eq!(neutralise("a\x1b[2Jb"), "a^[[2Jb");
        assert_eq!(neutralise("one\ntwo\rthree"), "one^Jtwo^Mthree");
        assert_eq!(neutralise("\0\x07\x7f"), "^@^G^?");
        assert_eq!(neutralise("tab\there"), "tab here");
        assert_eq!(neutralise("c1\u{9b}31m"), "c1\u{fffd}31m");
    }

    #[test]
    fn invisible_characters_are_shown_by_their_code() {
        // Bidi controls (Trojan Source), zero-width space and joiners.
        assert_eq!(neutralise("abc\u{202e}fed"), "abc<U+202E>fed");
        assert_eq!(
            neutralise("\u{2066}x\u{2069}\u{200f}"),
            "<U+2066>x<U+2069><U+200F>"
        );
        assert_eq!(neutralise("ad\u{200b}min"), "ad<U+200B>min");
        assert_eq!(
            neutralise("a\u{200c}\u{200d}\u{2060}b"),
            "a<U+200C><U+200D><U+2060>b"
        );
        // A byte-order mark, line and paragraph separators, soft hyphen.
        assert_eq!(neutralise("\u{feff}hi"), "<U+FEFF>hi");
        assert_eq!(
            neutralise("one\u{2028}two\u{2029}"),
            "one<U+2028>two<U+2029>"
        );
        assert_eq!(neutralise("co\u{ad}op"), "co<U+00AD>op");
        // Tag characters can spell hidden text: "hi" in tags.
        assert_eq!(
            neutralise("ok\u{e0068}\u{e0069}\u{e007f}"),
            "ok<U+E0068><U+E0069><U+E007F>"
        );
        // Visible neighbours are left alone: spaces, no-break space, emoji.
        assert_eq!(neutralise("a b\u{a0}c 🚀"), "a b\u{a0}c 🚀");
    }
}
