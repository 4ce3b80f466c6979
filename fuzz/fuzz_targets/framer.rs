//! `natter_core::framer::LineFramer`: arbitrary bytes read in arbitrary
//! sizes, with lines taken at arbitrary moments, give exactly the lines a
//! simple model of its documented behaviour gives (core/src/framer.rs):
//! each line without its line feed and one carriage return before it; a
//! line of more than `FRAME_MAX` bytes (its `\r` included) reported once as
//! too long, whatever follows skipped to its line feed; blank lines skipped
//! by `next_payload`. So the result never depends on the read sizes.
//!
//! Input: a plan (read sizes, when lines are taken, which reader), then
//! the stream.
#![no_main]

use libfuzzer_sys::fuzz_target;
use natter_core::framer::{BadFrame, Line, LineFramer};
use natter_core::limits::FRAME_MAX;
use natter_fuzz::Plan;

#[derive(Debug, PartialEq, Eq)]
enum Item {
    Line(Vec<u8>),
    TooLong,
}

/// What the framer should give for `stream`, read whole.
fn model(stream: &[u8], payloads: bool) -> Vec<Item> {
    let mut items = Vec::new();
    let mut rest = stream;
    while let Some(at) = rest.iter().position(|&b| b == b'\n') {
        let line = &rest[..at];
        if line.len() > FRAME_MAX {
            items.push(Item::TooLong);
        } else {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if !(payloads && line.iter().all(u8::is_ascii_whitespace)) {
                items.push(Item::Line(line.to_vec()));
            }
        }
        rest = &rest[at + 1..];
    }
    // A last line without its line feed is reported only once it is
    // known to be too long.
    if rest.len() > FRAME_MAX {
        items.push(Item::TooLong);
    }
    items
}

/// Takes up to `limit` items from `framer`.
fn take(framer: &mut LineFramer, payloads: bool, limit: usize, items: &mut Vec<Item>) {
    for _ in 0..limit {
        let item = if payloads {
            match framer.next_payload() {
                None => return,
                Some(Ok(line)) => Item::Line(line.to_vec()),
                Some(Err(BadFrame::TooLong)) => Item::TooLong,
                Some(Err(BadFrame::Malformed(e))) => panic!("next_payload decoded: {e:?}"),
            }
        } else {
            match framer.next_line() {
                None => return,
                Some(Line::Complete(line)) => Item::Line(line.to_vec()),
                Some(Line::TooLong) => Item::TooLong,
            }
        };
        if let Item::Line(line) = &item {
            assert!(line.len() <= FRAME_MAX, "a line of {} bytes", line.len());
            assert!(!line.contains(&b'\n'), "a line feed inside a line");
        }
        items.push(item);
    }
}

/// Feeds `stream` to a new framer as `plan` says (`None`: as much as it
/// takes at each read, lines taken after each).
fn run(stream: &[u8], payloads: bool, mut plan: Option<&mut Plan>) -> Vec<Item> {
    let mut framer = Box::new(LineFramer::new());
    let mut items = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        if framer.spare().is_empty() {
            // A full buffer: the reader must take a line before reading
            // more, and taking one always frees room.
            take(&mut framer, payloads, 1, &mut items);
            assert!(!framer.spare().is_empty(), "a full framer freed no room");
            continue;
        }
        let (size, limit) = match plan.as_deref_mut() {
            None => (usize::MAX, usize::MAX),
            Some(plan) => {
                // Mostly every line at once; sometimes a few, or none
                // (another read before any line is taken).
                let limit = if plan.one_in(4) {
                    (plan.draw() % 3) as usize
                } else {
                    usize::MAX
                };
                (plan.chunk(), limit)
            }
        };
        let spare = framer.spare();
        let n = size.min(spare.len()).min(rest.len());
        spare[..n].copy_from_slice(&rest[..n]);
        framer.filled(n);
        rest = &rest[n..];
        take(&mut framer, payloads, limit, &mut items);
    }
    take(&mut framer, payloads, usize::MAX, &mut items);
    items
}

fuzz_target!(|input: &[u8]| {
    let (mut plan, stream) = Plan::split(input);
    let payloads = plan.one_in(2);
    let expected = model(stream, payloads);
    assert_eq!(run(stream, payloads, None), expected, "read whole");
    assert_eq!(
        run(stream, payloads, Some(&mut plan)),
        expected,
        "read in pieces"
    );
});
