use std::string::String;

use super::*;
use crate::protocol::{ClientFrame, decode_client};

fn joined(line: &str) -> String {
    let mut out = [0u8; 256];
    let len = join_pairs(line.as_bytes(), &mut out);
    String::from_utf8(out[..len].to_vec()).unwrap()
}

#[test]
fn a_pair_becomes_its_character_and_the_rest_stays() {
    assert_eq!(joined(r#""a\ud83d\ude00b""#), "\"a😀b\"");
    assert_eq!(joined(r#""\uD83D\uDE00\uD83D\uDC4D""#), "\"😀👍\"");
    // Other escapes, lone halves and escaped backslashes are serde's.
    for kept in [
        r#""\u00e9 \n \" \\""#,
        r#""\ud83d""#,
        r#""\ude00\ud83d""#,
        r#""\ud83dx\ude00""#,
        r#""\\ud83d\\ude00""#,
        r#""\ud83d\u0041""#,
        r#""\ud83d\ude0""#,
        r#""\u+83d\ude00""#,
    ] {
        assert_eq!(joined(kept), kept);
    }
}

#[test]
fn an_emoji_escaped_as_json_libraries_write_it_is_read() {
    let line = br#"{"Message":{"to":"yoda","text":"a\ud83d\ude00b"}}"#;
    assert!(has_surrogate_escape(line));
    let frame = decode_client(line).unwrap();
    let ClientFrame::Message { to, text } = frame else {
        panic!("{frame:?}");
    };
    assert_eq!((to.as_str(), text.as_str()), ("yoda", "a😀b"));
    // A lone half is still malformed.
    let lone = br#"{"Message":{"to":"yoda","text":"a\ud83db"}}"#;
    assert!(decode_client(lone).is_err());
}
