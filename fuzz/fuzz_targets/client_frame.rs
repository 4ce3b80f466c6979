//! The client frames the server reads: `decode_client_into` (the
//! hand-written fast path of core/src/client_json.rs, serde otherwise)
//! must decode any line exactly as serde-json-core does on its own
//! (`from_slice_escaped` into `ClientFrame`, what protocol.rs does on the
//! slow path): the same frame, or an error both ways. And a frame that
//! decodes encodes (`protocol::encode`) as one line within `FRAME_MAX`
//! that decodes back to it, both ways.
//!
//! Input: one line, without its line feed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use natter_core::limits::TEXT_MAX;
use natter_core::protocol::{
    ClientFrame, DecodeError, FrameBuf, decode_client, decode_client_into, encode,
};

/// A frame full of something else, as the server's reused frame is: the
/// fast path must leave nothing of it behind.
fn stale() -> ClientFrame {
    ClientFrame::Message {
        to: "stale".try_into().expect("a short name"),
        text: "left over from the last line"
            .try_into()
            .expect("a short text"),
    }
}

/// The fast path, into a frame that held something else.
fn fast(line: &[u8]) -> Result<ClientFrame, DecodeError> {
    let mut frame = stale();
    decode_client_into(line, &mut frame).map(|()| frame)
}

fn agree(
    line: &[u8],
    what: &str,
    a: &Result<ClientFrame, impl core::fmt::Debug>,
    b: &Result<ClientFrame, impl core::fmt::Debug>,
) {
    match (a, b) {
        (Ok(a), Ok(b)) if a == b => {}
        (Err(_), Err(_)) => {}
        _ => panic!(
            "{what} disagree on {:?}:\n{a:?}\n{b:?}",
            String::from_utf8_lossy(line)
        ),
    }
}

fuzz_target!(|line: &[u8]| {
    let decoded = fast(line);
    // serde alone (protocol.rs's slow path), with the depth guard.
    let slow = decode_client(line);
    assert_eq!(decoded, slow, "fast path and decode_client");
    // serde-json-core itself, with the scratch protocol.rs gives it, unless
    // the depth guard refused the line: serde alone would recurse on it.
    if slow != Err(DecodeError::TooDeep) {
        let mut scratch = [0u8; TEXT_MAX];
        let serde = serde_json_core::from_slice_escaped::<ClientFrame>(line, &mut scratch)
            .map(|(frame, _)| frame);
        agree(line, "fast path and serde-json-core", &decoded, &serde);
    }
    let Ok(frame) = decoded else {
        return;
    };
    let mut buf: FrameBuf = [0; natter_core::limits::FRAME_MAX + 1];
    let n = encode(&frame, &mut buf).expect("a client frame fits FRAME_MAX");
    let encoded = &buf[..n - 1];
    assert_eq!(buf[n - 1], b'\n');
    assert!(!encoded.contains(&b'\n'), "one frame, one line");
    assert_eq!(
        decode_client(encoded).as_ref(),
        Ok(&frame),
        "serde round trip"
    );
    assert_eq!(fast(encoded).as_ref(), Ok(&frame), "fast path round trip");
});
