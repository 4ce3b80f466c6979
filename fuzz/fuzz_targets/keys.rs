//! The client's terminal key decoder (client/src/terminal/keys.rs): any
//! bytes, pushed in any pieces, with the key timeout (`expire`) firing
//! now and then, never panic; each key takes at least one byte; after a
//! timeout every key begun is taken (nothing waits); and, as its module
//! documents ("a sequence split across two reads is completed by the
//! second"), the keys do not depend on how the bytes between two timeouts
//! were split into reads. (That found a sequence longer than
//! `SEQUENCE_MAX` decoded differently split and whole: fuzz/README.md,
//! finding 1, fixed in 175b3c2; `findings/keys-long-csi` is its input.)
//!
//! Input: a plan (read sizes, where the timeouts fall), then the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use natter_client::terminal::keys::{Key, KeyDecoder};
use natter_fuzz::Plan;

/// Every key the decoder has now.
fn drain(decoder: &mut KeyDecoder, keys: &mut Vec<Key>) {
    while let Some(key) = decoder.next_key() {
        keys.push(key);
    }
}

/// The timeout fires with every complete key taken, as the session lets
/// it: what was begun is taken as it is.
fn time_out(decoder: &mut KeyDecoder, keys: &mut Vec<Key>) {
    decoder.expire();
    drain(decoder, keys);
    assert!(!decoder.waiting(), "a key still waits after the timeout");
}

fuzz_target!(|input: &[u8]| {
    let (mut plan, bytes) = Plan::split(input);
    // Where the bytes are split into reads, and after which a timeout.
    let mut reads = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let end = bytes.len().min(at + plan.chunk());
        reads.push((at..end, plan.one_in(6)));
        at = end;
    }

    // As split.
    let mut pieces = KeyDecoder::default();
    let mut split = Vec::new();
    for (range, timeout) in &reads {
        pieces.push(&bytes[range.clone()]);
        drain(&mut pieces, &mut split);
        if *timeout {
            time_out(&mut pieces, &mut split);
        }
    }
    assert!(split.len() <= bytes.len(), "more keys than bytes");

    // The bytes between two timeouts in one read.
    let mut whole = KeyDecoder::default();
    let mut joined = Vec::new();
    let mut start = 0;
    for (range, timeout) in &reads {
        if *timeout {
            whole.push(&bytes[start..range.end]);
            drain(&mut whole, &mut joined);
            time_out(&mut whole, &mut joined);
            start = range.end;
        }
    }
    whole.push(&bytes[start..]);
    drain(&mut whole, &mut joined);
    assert_eq!(
        split, joined,
        "read sizes changed the keys of {bytes:02x?} (reads {reads:?})"
    );
    assert_eq!(pieces.waiting(), whole.waiting());
});
