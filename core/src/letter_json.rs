//! Letters, written as JSON by hand. They are most of what the server sends,
//! and serde-json-core writes a string a byte at a time, with a bounds
//! check each: it was a third of the server's time in fan-out (issue 9).
//! The bytes are exactly those of [`protocol::encode`](crate::protocol::encode),
//! which the tests compare for every character class and every buffer size.

use crate::copy::copy_short;
use crate::protocol::{EncodeError, LetterFrame};

impl LetterFrame<'_> {
    /// Encodes this letter as one line (JSON then `\n`) into `buf`, as
    /// `protocol::encode` would; returns its length.
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        let LetterFrame::Message {
            id,
            from,
            text,
            broadcast,
            age,
        } = *self;
        let mut line = Line { buf, len: 0 };
        line.raw(b"{\"Message\":{\"id\":")?;
        line.number(id)?;
        line.raw(b",\"from\":")?;
        line.string(from)?;
        line.raw(b",\"text\":")?;
        line.string(text)?;
        line.raw(if broadcast {
            b",\"broadcast\":true,\"age\":"
        } else {
            b",\"broadcast\":false,\"age\":"
        })?;
        line.number(age)?;
        line.raw(b"}}\n")?;
        Ok(line.len)
    }
}

/// A line being written into a caller's buffer.
struct Line<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl Line<'_> {
    #[inline(always)]
    fn raw(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        let end = self.len + bytes.len();
        let into = self.buf.get_mut(self.len..end).ok_or(EncodeError)?;
        copy_short(into, bytes);
        self.len = end;
        Ok(())
    }

    fn number(&mut self, mut n: u64) -> Result<(), EncodeError> {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.raw(&digits[at..])
    }

    /// A JSON string, escaped as serde-json-core does: quote, backslash and
    /// the control characters; everything else, UTF-8 included, as it is.
    /// Runs that need no escape are copied whole.
    fn string(&mut self, s: &str) -> Result<(), EncodeError> {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        self.raw(b"\"")?;
        let bytes = s.as_bytes();
        let mut run = 0;
        for (i, &byte) in bytes.iter().enumerate() {
            let unicode;
            let escaped: &[u8] = match byte {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                0x08 => b"\\b",
                b'\t' => b"\\t",
                b'\n' => b"\\n",
                0x0c => b"\\f",
                b'\r' => b"\\r",
                0x00..=0x1f => {
                    unicode = [
                        b'\\',
                        b'u',
                        b'0',
                        b'0',
                        HEX[usize::from(byte >> 4)],
                        HEX[usize::from(byte & 0xf)],
                    ];
                    &unicode
                }
                _ => continue,
            };
            self.raw(&bytes[run..i])?;
            self.raw(escaped)?;
            run = i + 1;
        }
        self.raw(&bytes[run..])?;
        self.raw(b"\"")
    }
}

#[cfg(test)]
mod tests {
    use crate::limits::{FRAME_MAX, NAME_MAX, TEXT_MAX};
    use crate::protocol::{self, LetterFrame};
    use std::string::String;

    fn both(
        letter: &LetterFrame,
        size: usize,
    ) -> (Option<std::vec::Vec<u8>>, Option<std::vec::Vec<u8>>) {
        let mut by_hand = std::vec![0u8; size];
        let mut by_serde = std::vec![0u8; size];
        (
            letter
                .encode(&mut by_hand)
                .ok()
                .map(|n| by_hand[..n].to_vec()),
            protocol::encode(letter, &mut by_serde)
                .ok()
                .map(|n| by_serde[..n].to_vec()),
        )
    }

    #[test]
    fn every_character_is_written_as_serde_json_core_writes_it() {
        // Every ASCII byte, one at a time and all together, and characters
        // of two, three and four bytes.
        let mut all = String::new();
        for byte in 0u8..0x80 {
            all.push(char::from(byte));
        }
        let mut texts: std::vec::Vec<String> =
            (0u8..0x80).map(|b| String::from(char::from(b))).collect();
        texts.push(all);
        for wide in [
            "é",
            "日本",
            "🚀",
            "\u{7f}\u{80}\u{200b}\u{feff}",
            "a\"b\\c\u{1b}[31md",
        ] {
            texts.push(String::from(wide));
        }
        texts.push(String::new());
        for (i, text) in texts.iter().enumerate() {
            for (id, age, broadcast) in [
                (0, 0, false),
                (u64::MAX, u64::MAX, true),
                (i as u64, 59, i % 2 == 0),
            ] {
                let letter = LetterFrame::Message {
                    id,
                    from: "yoda\"\\",
                    text,
                    broadcast,
                    age,
                };
                let (hand, serde) = both(&letter, FRAME_MAX + 1);
                assert!(serde.is_some(), "{text:?}");
                assert_eq!(hand, serde, "{text:?}");
            }
        }
    }

    #[test]
    fn a_buffer_too_small_is_an_error_at_every_size() {
        // The largest letter: every byte of the text escapes to \u00XX and
        // every byte of the name to \".
        let text = "\u{1}".repeat(TEXT_MAX);
        let from = "\"".repeat(NAME_MAX);
        for (from, text) in [("hans", "Hey Dude"), (from.as_str(), text.as_str())] {
            let letter = LetterFrame::Message {
                id: u64::MAX,
                from,
                text,
                broadcast: true,
                age: 12,
            };
            let (whole, _) = both(&letter, FRAME_MAX + 1);
            let whole = whole.expect("the largest letter fits FRAME_MAX");
            for size in 0..whole.len() {
                assert_eq!(both(&letter, size), (None, None), "in {size} bytes");
            }
            assert_eq!(
                both(&letter, whole.len()),
                (Some(whole.clone()), Some(whole))
            );
        }
    }
}
