//! The frames a chatting client sends most (`Message`, `Broadcast`,
//! `Received`), read by hand into a frame the caller keeps. serde builds a
//! frame in its own locals and returns it through a dozen layers, each a
//! move of half a kilobyte: a third of the server's time in pairs (issue 9).
//! Only the form `protocol::encode` writes is read here, and only with no
//! backslash in its strings (raw control bytes, which serde takes too, are
//! read as they are); anything else (escapes, white space, another field
//! order, a value that does not fit) goes to serde, so a line decodes to
//! the same frame, or the same error, either way. The tests check that.

use crate::protocol::ClientFrame;

/// Reads `line` into `frame` if it is one of the frames read here, in the
/// form read here; `false` leaves the line to serde (and `frame` to be
/// overwritten).
pub(crate) fn read_common(line: &[u8], frame: &mut ClientFrame) -> bool {
    if let Some(rest) = line.strip_prefix(b"{\"Message\":{\"to\":\"") {
        let Some((to, rest)) = string(rest) else {
            return false;
        };
        let Some(rest) = rest.strip_prefix(b",\"text\":\"") else {
            return false;
        };
        let Some((text, b"}}")) = string(rest) else {
            return false;
        };
        *frame = ClientFrame::Message {
            to: Default::default(),
            text: Default::default(),
        };
        // Just written, so it matches: the frame is filled where it is.
        let ClientFrame::Message {
            to: into_to,
            text: into_text,
        } = frame
        else {
            return false;
        };
        into_to.push_str(to).is_ok() && into_text.push_str(text).is_ok()
    } else if let Some(rest) = line.strip_prefix(b"{\"Broadcast\":{\"text\":\"") {
        let Some((text, b"}}")) = string(rest) else {
            return false;
        };
        *frame = ClientFrame::Broadcast {
            text: Default::default(),
        };
        // Just written, so it matches.
        let ClientFrame::Broadcast { text: into } = frame else {
            return false;
        };
        into.push_str(text).is_ok()
    } else if let Some(rest) = line.strip_prefix(b"{\"Received\":{\"id\":") {
        let Some(digits) = rest.strip_suffix(b"}}") else {
            return false;
        };
        let Some(id) = number(digits) else {
            return false;
        };
        *frame = ClientFrame::Received { id };
        true
    } else {
        false
    }
}

/// A string's contents up to its closing quote, and what follows the
/// quote; `None` for an escape (serde unescapes), invalid UTF-8 or no
/// closing quote.
fn string(bytes: &[u8]) -> Option<(&str, &[u8])> {
    let end = bytes.iter().position(|&b| b == b'"' || b == b'\\')?;
    if bytes[end] != b'"' {
        return None;
    }
    let text = core::str::from_utf8(&bytes[..end]).ok()?;
    Some((text, &bytes[end + 1..]))
}

/// A JSON unsigned integer as serde-json-core reads one into a `u64`: no
/// sign, no leading zero, no fraction or exponent, no overflow.
fn number(digits: &[u8]) -> Option<u64> {
    match digits {
        [b'0'] => Some(0),
        [b'1'..=b'9', ..] => digits.iter().try_fold(0u64, |n, &d| {
            let d = d.checked_sub(b'0').filter(|d| *d <= 9)?;
            n.checked_mul(10)?.checked_add(u64::from(d))
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{NAME_MAX, TEXT_MAX};
    use crate::protocol::{decode_client, decode_client_into, encode};
    use std::format;
    use std::string::String;
    use std::vec::Vec;

    /// Decodes `line` both ways: through the fast path (into a frame that
    /// held something else) and through serde alone; they must agree.
    fn both_ways(line: &[u8]) -> bool {
        let mut frame = ClientFrame::WhoElse {};
        let fast = decode_client_into(line, &mut frame).map(|()| frame);
        assert_eq!(
            fast,
            decode_client(line),
            "{:?}",
            String::from_utf8_lossy(line)
        );
        let mut scratch = ClientFrame::Logout {};
        read_common(line, &mut scratch)
    }

    fn texts() -> Vec<String> {
        let mut texts: Vec<String> = ["", "hi", "a b  c", "é ü 漢字 🦀", "tab\there"]
            .iter()
            .map(|t| String::from(*t))
            .collect();
        texts.extend((0u8..128).map(|b| String::from(char::from(b))));
        texts.push("x".repeat(TEXT_MAX));
        texts.push("é".repeat(TEXT_MAX / 2));
        texts
    }

    #[test]
    fn what_the_client_writes_is_read_here_and_agrees_with_serde() {
        let mut buf = [0u8; 1024];
        for text in texts() {
            for frame in [
                ClientFrame::Message {
                    to: "yoda".try_into().unwrap(),
                    text: text.as_str().try_into().unwrap(),
                },
                ClientFrame::Message {
                    to: "n".repeat(NAME_MAX).as_str().try_into().unwrap(),
                    text: text.as_str().try_into().unwrap(),
                },
                ClientFrame::Broadcast {
                    text: text.as_str().try_into().unwrap(),
                },
            ] {
                let n = encode(&frame, &mut buf).unwrap();
                let line = &buf[..n - 1];
                let fast = both_ways(line);
                // Only what needs unescaping goes to serde.
                assert_eq!(fast, !line.contains(&b'\\'), "{text:?}");
            }
        }
        for id in [0, 1, 9, 10, 12345, u64::MAX] {
            let n = encode(&ClientFrame::Received { id }, &mut buf).unwrap();
            assert!(both_ways(&buf[..n - 1]), "{id}");
        }
    }

    #[test]
    fn anything_else_decodes_or_fails_as_serde_decides() {
        let too_long_name = "n".repeat(NAME_MAX + 1);
        let too_long_text = "x".repeat(TEXT_MAX + 1);
        let lines = [
            // Numbers serde reads differently or refuses.
            r#"{"Received":{"id":007}}"#.into(),
            r#"{"Received":{"id":00}}"#.into(),
            r#"{"Received":{"id":-1}}"#.into(),
            r#"{"Received":{"id":1.0}}"#.into(),
            r#"{"Received":{"id":1e3}}"#.into(),
            r#"{"Received":{"id":18446744073709551616}}"#.into(),
            r#"{"Received":{"id":99999999999999999999}}"#.into(),
            r#"{"Received":{"id":}}"#.into(),
            r#"{"Received":{"id":"1"}}"#.into(),
            r#"{"Received":{"id":1x}}"#.into(),
            // Values that do not fit.
            format!(r#"{{"Message":{{"to":"{too_long_name}","text":"hi"}}}}"#),
            format!(r#"{{"Message":{{"to":"yoda","text":"{too_long_text}"}}}}"#),
            format!(r#"{{"Broadcast":{{"text":"{too_long_text}"}}}}"#),
            // Escapes, white space, another order, more fields, trailing bytes.
            r#"{"Message":{"to":"yo\u0064a","text":"a \"quote\""}}"#.into(),
            r#"{"Message":{"to":"yoda","text":"ends in \\"}}"#.into(),
            r#"{"Message":{"to":"yoda","text":"unended}}"#.into(),
            r#"{"Message":{"to":"yoda\,"text":"hi"}}"#.into(),
            r#"{"Broadcast":{"text":"x\}}"#.into(),
            r#"{"Message":{"text":"hi","to":"yoda"}}"#.into(),
            r#"{"Message":{"to":"yoda","text":"hi","x":1}}"#.into(),
            r#"{"Message": {"to":"yoda","text":"hi"}}"#.into(),
            r#"{"Message":{"to":"yoda","text":"hi"}} "#.into(),
            r#"{"Message":{"to":"yoda","text":"hi"}}}"#.into(),
            r#"{"Message":{"to":"yoda","text":"hi"}"#.into(),
            r#"{"Message":{"to":"yoda"}}"#.into(),
            r#"{"Broadcast":{"text":"hi"}}x"#.into(),
            r#"{"Broadcast":{"text":"a\nb"}}"#.into(),
            r#"{"WhoElse":{}}"#.into(),
            "".into(),
        ];
        for line in &lines {
            both_ways(line.as_bytes());
        }
        // Invalid UTF-8 in a text.
        both_ways(b"{\"Broadcast\":{\"text\":\"\xff\"}}");
        // Every raw byte but quote and backslash, unescaped, in each field.
        for byte in (0u8..=255).filter(|b| !matches!(b, b'"' | b'\\')) {
            let mut line = b"{\"Message\":{\"to\":\"yo".to_vec();
            line.extend_from_slice(&[byte]);
            line.extend_from_slice(b"da\",\"text\":\"a");
            line.extend_from_slice(&[byte]);
            line.extend_from_slice(b"b\"}}");
            both_ways(&line);
            both_ways(&[&b"{\"Received\":{\"id\":1"[..], &[byte], b"}}"].concat());
        }
        // Every cut of a frame read here.
        let whole = br#"{"Message":{"to":"yoda","text":"hi there"}}"#;
        for end in 0..whole.len() {
            assert!(!both_ways(&whole[..end]));
        }
    }
}
