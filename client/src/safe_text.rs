//! Text from the server is shown safely (R29): control characters, and so
//! every terminal escape sequence, are made visible instead of reaching the
//! terminal, and bidirectional-text controls (which can make a line read
//! backwards, as in "Trojan Source") are replaced. Each printed line stays
//! one line.

use std::borrow::Cow;

/// `text` with every control character replaced by a visible stand-in:
/// caret notation for C0 and DEL (`ESC` becomes `^[`), U+FFFD for C1, and
/// a space for a tab.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() || is_bidi_control(c)) {
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
            c if c.is_control() || is_bidi_control(c) => safe.push(char::REPLACEMENT_CHARACTER),
            c => safe.push(c),
        }
    }
    Cow::Owned(safe)
}

/// Marks, embeddings, overrides and isolates of the Unicode bidirectional
/// algorithm: invisible, and able to reorder what follows them.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
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
        assert_eq!(neutralise("abc\u{202e}fed"), "abc\u{fffd}fed");
        assert_eq!(
            neutralise("\u{2066}x\u{2069}\u{200f}"),
            "\u{fffd}x\u{fffd}\u{fffd}"
        );
    }
}
