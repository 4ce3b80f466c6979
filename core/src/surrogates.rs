//! JSON's escaped surrogate pairs (`"\ud83d\ude00"`, 😀), joined before
//! serde-json-core reads a line: it decodes each `\uXXXX` as a character of
//! its own and refuses a surrogate half, yet a pair is how every JSON
//! library that escapes non-ASCII writes an emoji (issue 27). A pair
//! becomes the character's UTF-8 bytes, 4 for the escape's 12, so the line
//! only shrinks; a lone half is left for serde to refuse, as it must.

/// Whether `line` has an escape that may be a surrogate half (`\uD800` to
/// `\uDFFF`): most lines have none, and are read as they are.
pub fn has_surrogate_escape(line: &[u8]) -> bool {
    line.windows(3)
        .any(|w| w[0] == b'\\' && w[1] == b'u' && matches!(w[2], b'd' | b'D'))
}

/// `line` with every escaped surrogate pair replaced by its character's
/// UTF-8, written into `out` (at least as long as `line`); the length.
pub fn join_pairs(line: &[u8], out: &mut [u8]) -> usize {
    let (mut read, mut written) = (0, 0);
    while read < line.len() {
        let rest = &line[read..];
        let (bytes, taken): (&[u8], usize) = match rest {
            [b'\\', b'u', ..] => match pair(rest) {
                Some(c) => {
                    let mut utf8 = [0; 4];
                    let len = c.encode_utf8(&mut utf8).len();
                    out[written..written + len].copy_from_slice(&utf8[..len]);
                    written += len;
                    read += 12;
                    continue;
                }
                None => (&rest[..2], 2),
            },
            // An escaped backslash is copied whole, so `\\ud83d` stays text.
            [b'\\', _, ..] => (&rest[..2], 2),
            _ => (&rest[..1], 1),
        };
        out[written..written + bytes.len()].copy_from_slice(bytes);
        written += bytes.len();
        read += taken;
    }
    written
}

/// The character of the escaped pair at the start of `escape`
/// (`\uD8xx\uDCxx`), if it is one.
fn pair(escape: &[u8]) -> Option<char> {
    let high = unit(escape.get(..6)?)?;
    let low = unit(escape.get(6..12)?)?;
    if !(0xD800..0xDC00).contains(&high) || !(0xDC00..0xE000).contains(&low) {
        return None;
    }
    char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
}

/// The code unit of one `\uXXXX` escape.
fn unit(escape: &[u8]) -> Option<u32> {
    let [b'\\', b'u', digits @ ..] = escape else {
        return None;
    };
    let digits = core::str::from_utf8(digits).ok()?;
    // `from_str_radix` takes a sign: four hex digits only.
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(digits, 16).ok()
}

#[cfg(test)]
mod tests;
