//! Bytes from a terminal, decoded into keys: UTF-8 text, control keys, the
//! escape sequences xterm-like terminals send, and bracketed paste.
//!
//! The decoder keeps what it has not used yet, so bytes are never lost
//! between reads: a sequence split across two reads is completed by the
//! second, and a paste of fifty lines comes out as fifty `Enter`s in order.

use std::collections::VecDeque;

/// One key press (or paste marker).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// Text: a character to insert.
    Char(char),
    /// Return, or a line end in a paste. A CR LF pair is one Enter.
    Enter,
    Tab,
    Backspace,
    Delete,
    Left,
    Right,
    Up,
    Down,
    Home,
    End,
    /// Ctrl-Left, Alt-b.
    WordLeft,
    /// Ctrl-Right, Alt-f.
    WordRight,
    /// Alt-Backspace: delete the word before the cursor (as Ctrl-W).
    DeleteWordBack,
    /// Ctrl and a letter, `b'a'..=b'z'` (Ctrl-C is `Ctrl(b'c')`); the
    /// letters above that have a key of their own (Ctrl-H, I, J, M) never
    /// come as `Ctrl`.
    Ctrl(u8),
    /// Escape on its own (as the first of two).
    Escape,
    /// The terminal starts or ends a bracketed paste.
    PasteStart,
    PasteEnd,
    /// A sequence this editor has no use for (F-keys, Insert, ...).
    Ignored,
}

const ESC: u8 = 0x1b;

/// The longest escape sequence waited for; a longer one is dropped.
const SEQUENCE_MAX: usize = 32;

/// Bytes in, keys out.
#[derive(Debug, Default)]
pub struct KeyDecoder {
    pending: VecDeque<u8>,
    /// The last key was a CR: a LF right after it belongs to it.
    after_cr: bool,
    /// Nothing more came for the key begun: take it as it is.
    expired: bool,
}

impl KeyDecoder {
    /// Adds bytes read from the terminal.
    pub fn push(&mut self, bytes: &[u8]) {
        self.pending.extend(bytes);
    }

    /// Whether the start of a key waits for the rest (an Escape, or a
    /// sequence or character split across reads).
    pub fn waiting(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Nothing more came for the key begun: the next call takes what there
    /// is, a lone ESC as Escape.
    pub fn expire(&mut self) {
        self.expired = self.waiting();
    }

    /// The next complete key, or `None` until more bytes come.
    pub fn next_key(&mut self) -> Option<Key> {
        loop {
            let bytes = self.pending.make_contiguous();
            let (key, used) = match decode(bytes) {
                Some(decoded) => decoded,
                None if std::mem::take(&mut self.expired) && !bytes.is_empty() => incomplete(bytes),
                None => return None,
            };
            self.expired = false;
            self.pending.drain(..used);
            let after_cr = std::mem::replace(&mut self.after_cr, false);
            match key {
                Decoded::Cr => {
                    self.after_cr = true;
                    return Some(Key::Enter);
                }
                // The LF of a CR LF: already an Enter.
                Decoded::Lf if after_cr => continue,
                Decoded::Lf => return Some(Key::Enter),
                Decoded::Key(key) => return Some(key),
            }
        }
    }
}

enum Decoded {
    Cr,
    Lf,
    Key(Key),
}

/// Decodes the key at the start of `bytes`, with how many bytes it took;
/// `None` if `bytes` is empty or only starts a key.
fn decode(bytes: &[u8]) -> Option<(Decoded, usize)> {
    let first = *bytes.first()?;
    let key = |key| Some((Decoded::Key(key), 1));
    match first {
        b'\r' => Some((Decoded::Cr, 1)),
        b'\n' => Some((Decoded::Lf, 1)),
        b'\t' => key(Key::Tab),
        0x7f | 0x08 => key(Key::Backspace),
        ESC => escape(bytes),
        0x01..=0x1a => key(Key::Ctrl(first - 1 + b'a')),
        // Ctrl-@, Ctrl-\, Ctrl-], Ctrl-^, Ctrl-_: nothing to do.
        0x00 | 0x1c..=0x1f => key(Key::Ignored),
        _ => utf8(bytes),
    }
}

/// What a key begun and never finished is taken as: Escape for a lone
/// ESC (Alt and a letter typed slowly is two keys), a sequence without its
/// end ignored, half a character U+FFFD.
fn incomplete(bytes: &[u8]) -> (Decoded, usize) {
    let key = match bytes {
        [ESC] => Key::Escape,
        [ESC, ..] => Key::Ignored,
        _ => Key::Char(char::REPLACEMENT_CHARACTER),
    };
    let used = if bytes[0] == ESC { bytes.len() } else { 1 };
    (Decoded::Key(key), used)
}

/// A UTF-8 character; an invalid byte is U+FFFD, never dropped unseen.
fn utf8(bytes: &[u8]) -> Option<(Decoded, usize)> {
    let len = match bytes[0] {
        0x00..=0x7f => 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return Some((Decoded::Key(Key::Char(char::REPLACEMENT_CHARACTER)), 1)),
    };
    let Some(encoded) = bytes.get(..len) else {
        // A continuation byte that is not one cannot be completed later.
        if bytes[1..].iter().any(|b| b & 0xc0 != 0x80) {
            return Some((Decoded::Key(Key::Char(char::REPLACEMENT_CHARACTER)), 1));
        }
        return None;
    };
    match std::str::from_utf8(encoded)
        .ok()
        .and_then(|s| s.chars().next())
    {
        Some(c) => Some((Decoded::Key(Key::Char(c)), len)),
        None => Some((Decoded::Key(Key::Char(char::REPLACEMENT_CHARACTER)), 1)),
    }
}

/// What starts with ESC: a CSI or SS3 sequence, Alt and a key, or Escape.
fn escape(bytes: &[u8]) -> Option<(Decoded, usize)> {
    let key = |key, used| Some((Decoded::Key(key), used));
    match *bytes.get(1)? {
        b'[' => csi(bytes),
        b'O' => {
            let last = *bytes.get(2)?;
            key(ss3(last), 3)
        }
        b'b' => key(Key::WordLeft, 2),
        b'f' => key(Key::WordRight, 2),
        0x7f | 0x08 => key(Key::DeleteWordBack, 2),
        // Escape pressed twice: the first is Escape.
        ESC => key(Key::Escape, 1),
        // Alt and anything else: the key itself, so nothing typed is lost.
        _ => {
            let (decoded, used) = decode(&bytes[1..])?;
            Some((decoded, used + 1))
        }
    }
}

fn ss3(last: u8) -> Key {
    match last {
        b'A' => Key::Up,
        b'B' => Key::Down,
        b'C' => Key::Right,
        b'D' => Key::Left,
        b'H' => Key::Home,
        b'F' => Key::End,
        _ => Key::Ignored,
    }
}

/// `ESC [ parameters final`.
fn csi(bytes: &[u8]) -> Option<(Decoded, usize)> {
    let body = &bytes[2..];
    // Parameters and intermediates, then one final byte.
    let run = body.iter().position(|b| !(0x20..=0x3f).contains(b));
    // Longer than any a terminal sends: dropped whether its end has come
    // or not, so the keys do not depend on how the bytes were read
    // (found by the fuzz target `keys`, issue 25).
    if run.unwrap_or(body.len()) + 2 >= SEQUENCE_MAX {
        return Some((Decoded::Key(Key::Ignored), 2));
    }
    let end = run?;
    if !(0x40..=0x7e).contains(&body[end]) {
        // Not a sequence: drop the ESC [ and keep what follows (an Enter).
        return Some((Decoded::Key(Key::Ignored), 2));
    }
    let params = &body[..end];
    let ctrl = params.ends_with(b";5");
    let key = match (body[end], params) {
        (b'A', _) => Key::Up,
        (b'B', _) => Key::Down,
        (b'C', _) if ctrl => Key::WordRight,
        (b'D', _) if ctrl => Key::WordLeft,
        (b'C', _) => Key::Right,
        (b'D', _) => Key::Left,
        (b'H', _) => Key::Home,
        (b'F', _) => Key::End,
        (b'~', b"1" | b"7") => Key::Home,
        (b'~', b"4" | b"8") => Key::End,
        (b'~', b"3") => Key::Delete,
        (b'~', b"200") => Key::PasteStart,
        (b'~', b"201") => Key::PasteEnd,
        _ => Key::Ignored,
    };
    Some((Decoded::Key(key), end + 3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overlong_sequence_is_dropped_however_it_is_read() {
        // The fuzz target's finding: 30 parameter bytes and a final byte.
        let long = [b"\x1b[".as_slice(), &b"0;".repeat(15), b"A"].concat();
        let whole = keys(&[&long]);
        let (head, tail) = long.split_at(20);
        assert_eq!(keys(&[head, tail]), whole);
        assert_eq!(whole[0], Key::Ignored);
        assert_eq!(whole.len(), long.len() - 1, "the rest typed as text");
    }

    fn keys(chunks: &[&[u8]]) -> Vec<Key> {
        let mut decoder = KeyDecoder::default();
        let mut keys = Vec::new();
        for chunk in chunks {
            decoder.push(chunk);
            while let Some(key) = decoder.next_key() {
                keys.push(key);
            }
        }
        keys
    }

    fn text(s: &str) -> Vec<Key> {
        s.chars().map(Key::Char).collect()
    }

    #[test]
    fn text_and_enter() {
        let mut expected = text("hi é 日");
        expected.push(Key::Enter);
        assert_eq!(keys(&["hi é 日\r".as_bytes()]), expected);
    }

    #[test]
    fn every_line_of_a_burst_comes_out_in_order() {
        let burst: String = (1..=50).map(|i| format!("m{i}\r")).collect();
        let got = keys(&[burst.as_bytes()]);
        assert_eq!(got.iter().filter(|k| **k == Key::Enter).count(), 50);
        let mut expected = Vec::new();
        for i in 1..=50 {
            expected.extend(text(&format!("m{i}")));
            expected.push(Key::Enter);
        }
        assert_eq!(got, expected);
    }

    #[test]
    fn cr_lf_is_one_enter_but_two_crs_are_two() {
        assert_eq!(
            keys(&[b"a\r\nb\n\nc\r\r"]),
            [
                Key::Char('a'),
                Key::Enter,
                Key::Char('b'),
                Key::Enter,
                Key::Enter,
                Key::Char('c'),
                Key::Enter,
                Key::Enter
            ]
        );
        // Split across reads, still one.
        assert_eq!(
            keys(&[b"a\r", b"\nb"]),
            [Key::Char('a'), Key::Enter, Key::Char('b')]
        );
    }

    #[test]
    fn sequences_split_across_reads_are_completed() {
        assert_eq!(keys(&[b"\x1b", b"[", b"A"]), [Key::Up]);
        assert_eq!(
            keys(&[b"\x1b[20", b"0~x"]),
            [Key::PasteStart, Key::Char('x')]
        );
        assert_eq!(keys(&[&[0xc3], &[0xa9]]), [Key::Char('é')]);
        assert_eq!(keys(&[&[0xe6, 0x97], &[0xa5]]), [Key::Char('日')]);
    }

    #[test]
    fn arrows_and_editing_keys() {
        let cases: [(&[u8], Key); 16] = [
            (b"\x1b[A", Key::Up),
            (b"\x1b[B", Key::Down),
            (b"\x1b[C", Key::Right),
            (b"\x1b[D", Key::Left),
            (b"\x1bOA", Key::Up),
            (b"\x1b[H", Key::Home),
            (b"\x1b[F", Key::End),
            (b"\x1b[1~", Key::Home),
            (b"\x1b[4~", Key::End),
            (b"\x1b[3~", Key::Delete),
            (b"\x1b[1;5D", Key::WordLeft),
            (b"\x1b[1;5C", Key::WordRight),
            (b"\x1bb", Key::WordLeft),
            (b"\x1b\x7f", Key::DeleteWordBack),
            (b"\x7f", Key::Backspace),
            (b"\x03", Key::Ctrl(b'c')),
        ];
        for (bytes, key) in cases {
            assert_eq!(keys(&[bytes]), [key], "{bytes:?}");
        }
    }

    #[test]
    fn unknown_sequences_are_ignored_and_nothing_after_them_is_lost() {
        assert_eq!(
            keys(&[b"\x1b[15~a\x1b[2~b"]),
            [Key::Ignored, Key::Char('a'), Key::Ignored, Key::Char('b')]
        );
        // Alt and a letter with no meaning: the letter.
        assert_eq!(keys(&[b"\x1bx"]), [Key::Char('x')]);
    }

    #[test]
    fn invalid_utf8_is_a_replacement_character() {
        assert_eq!(
            keys(&[b"a\xffb\xc3("]),
            [
                Key::Char('a'),
                Key::Char('\u{fffd}'),
                Key::Char('b'),
                Key::Char('\u{fffd}'),
                Key::Char('(')
            ]
        );
    }

    #[test]
    fn an_incomplete_key_waits() {
        let mut decoder = KeyDecoder::default();
        decoder.push(b"\x1b[");
        assert_eq!(decoder.next_key(), None);
        assert!(decoder.waiting());
        decoder.push(b"B");
        assert_eq!(decoder.next_key(), Some(Key::Down));
        assert!(!decoder.waiting());
    }

    #[test]
    fn a_key_begun_and_never_finished_is_taken_as_it_is() {
        let mut decoder = KeyDecoder::default();
        decoder.push(b"\x1b");
        assert_eq!(decoder.next_key(), None);
        decoder.expire();
        assert_eq!(decoder.next_key(), Some(Key::Escape));
        assert!(!decoder.waiting());
        decoder.push(b"\x1b[1;");
        decoder.expire();
        assert_eq!(decoder.next_key(), Some(Key::Ignored));
        decoder.push(&[0xe6, 0x97]);
        decoder.expire();
        assert_eq!(decoder.next_key(), Some(Key::Char('\u{fffd}')));
        assert_eq!(decoder.next_key(), Some(Key::Char('\u{fffd}')));
        assert_eq!(decoder.next_key(), None);
        // Expiring with nothing waiting changes nothing.
        decoder.expire();
        decoder.push(b"\x1b");
        assert_eq!(decoder.next_key(), None);
    }

    #[test]
    fn a_broken_sequence_keeps_the_enter_after_it() {
        assert_eq!(
            keys(&[b"\x1b[\rab"]),
            [Key::Ignored, Key::Enter, Key::Char('a'), Key::Char('b')]
        );
    }
}
