//! The frames the client reads: `decode_server` (and `decode_peer`, a
//! private peer's frames) on any line never panics; a frame that decodes
//! encodes as one line that decodes back to it; and the text a person sees
//! for it (`Display`, core/src/text.rs, with the extra lines the client
//! prints for a block or a welcome) never panics and, made safe by the
//! client's `neutralise`, holds no control character.
//!
//! Input: one line, without its line feed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use natter_client::safe_text::neutralise;
use natter_core::limits::FRAME_MAX;
use natter_core::protocol::{ServerFrame, decode_peer, decode_server, encode};
use natter_core::text::WhileAway;
use serde::Serialize;

/// Encodes `frame` as one line (without its line feed). The buffer is
/// larger than a frame the server sends: a decoded frame may hold names
/// no account has (control characters, escaped six bytes for one).
fn encoded(frame: &impl Serialize) -> Vec<u8> {
    let mut buf = vec![0; 4 * FRAME_MAX];
    let n = encode(frame, &mut buf).expect("a decoded frame encodes");
    assert_eq!(buf[n - 1], b'\n');
    buf.truncate(n - 1);
    assert!(!buf.contains(&b'\n'), "one frame, one line");
    buf
}

/// What the client shows, made safe: no control character is left.
fn shown(text: &str) {
    let safe = neutralise(text);
    assert!(
        !safe.chars().any(char::is_control),
        "a control character left in {safe:?}"
    );
}

fuzz_target!(|line: &[u8]| {
    if let Ok(frame) = decode_server(line) {
        assert_eq!(decode_server(&encoded(&frame)).as_ref(), Ok(&frame));
        // Users frames are one name a line; the rest are one line.
        for part in frame.to_string().split('\n') {
            shown(part);
        }
        match &frame {
            ServerFrame::Bye { reason } => {
                shown(&reason.to_string());
                if let Some(retry) = reason.retry_in() {
                    shown(&retry.to_string());
                }
            }
            ServerFrame::Welcome { waiting } => shown(&WhileAway(*waiting).to_string()),
            _ => {}
        }
    }
    if let Ok(frame) = decode_peer(line) {
        assert_eq!(decode_peer(&encoded(&frame)).as_ref(), Ok(&frame));
    }
});
