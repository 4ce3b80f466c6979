//! Splits a byte stream into lines over a fixed buffer (R25).
//!
//! The reader appends what the socket gave into [`LineFramer::spare`], then
//! takes complete lines with [`LineFramer::next_line`], or lines that
//! should hold frames with [`LineFramer::next_payload`] (blank ones
//! skipped) and [`LineFramer::next_frame`] (decoded). A line longer than
//! [`FRAME_MAX`] is reported once as [`Line::TooLong`] and its bytes are
//! skipped up to the next line feed, so one huge line costs no memory and
//! does not desynchronise the stream.

use core::ops::Range;

use crate::limits::FRAME_MAX;
use crate::protocol::{DecodeError, FrameError};

/// One item taken from the stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A complete line, without its line feed or a carriage return before it.
    Complete(&'a [u8]),
    /// A line longer than `FRAME_MAX` was dropped.
    TooLong,
}

/// A line that is not a frame.
#[derive(Debug)]
pub enum BadFrame {
    TooLong,
    /// With the cause, for the logs.
    Malformed(DecodeError),
}

impl BadFrame {
    /// The error the sender is told of (R25).
    pub fn error(&self) -> FrameError {
        match self {
            BadFrame::TooLong => FrameError::TooLong,
            BadFrame::Malformed(_) => FrameError::Malformed,
        }
    }
}

/// A line splitter with a fixed buffer of `FRAME_MAX + 1` bytes.
pub struct LineFramer {
    buf: [u8; FRAME_MAX + 1],
    /// Bytes of `buf` holding data.
    len: usize,
    /// Bytes of `buf` already handed out as lines, removed on the next fill.
    consumed: usize,
    /// Inside an over-long line: drop bytes until the next line feed.
    skipping: bool,
}

impl Default for LineFramer {
    fn default() -> Self {
        Self::new()
    }
}

impl LineFramer {
    pub const fn new() -> Self {
        LineFramer {
            buf: [0; FRAME_MAX + 1],
            len: 0,
            consumed: 0,
            skipping: false,
        }
    }

    /// Free space to read into; call [`LineFramer::filled`] with the count read.
    pub fn spare(&mut self) -> &mut [u8] {
        // Drop the lines already handed out before reading more.
        if self.consumed > 0 {
            self.buf.copy_within(self.consumed..self.len, 0);
            self.len -= self.consumed;
            self.consumed = 0;
        }
        &mut self.buf[self.len..]
    }

    /// Records that `n` bytes were read into [`LineFramer::spare`].
    pub fn filled(&mut self, n: usize) {
        self.len = (self.len + n).min(self.buf.len());
    }

    /// The next frame, decoded with `decode` (one of `protocol::decode_*`).
    /// Every reader of frames (server, client, private peers) goes through
    /// here or [`LineFramer::next_payload`].
    pub fn next_frame<F>(
        &mut self,
        decode: fn(&[u8]) -> Result<F, DecodeError>,
    ) -> Option<Result<F, BadFrame>> {
        Some(
            self.next_payload()?
                .and_then(|line| decode(line).map_err(BadFrame::Malformed)),
        )
    }

    /// The next line that should hold a frame, not yet decoded. Blank lines
    /// are skipped, as a courtesy to people typing frames by hand in telnet
    /// or nc.
    pub fn next_payload(&mut self) -> Option<Result<&[u8], BadFrame>> {
        loop {
            match self.next_span()? {
                None => return Some(Err(BadFrame::TooLong)),
                Some(span) if self.buf[span.clone()].iter().all(u8::is_ascii_whitespace) => {}
                Some(span) => return Some(Ok(&self.buf[span])),
            }
        }
    }

    /// The next complete line or over-long report, or `None` until more data.
    pub fn next_line(&mut self) -> Option<Line<'_>> {
        Some(match self.next_span()? {
            Some(span) => Line::Complete(&self.buf[span]),
            None => Line::TooLong,
        })
    }

    /// Where in `buf` the next complete line is, without its line end, or
    /// `Some(None)` for an over-long one; `None` until more data.
    fn next_span(&mut self) -> Option<Option<Range<usize>>> {
        loop {
            let pending = &self.buf[self.consumed..self.len];
            match pending.iter().position(|&b| b == b'\n') {
                Some(at) => {
                    let start = self.consumed;
                    self.consumed += at + 1;
                    if self.skipping {
                        // The tail of an over-long line: already reported.
                        self.skipping = false;
                        continue;
                    }
                    let mut end = start + at;
                    if end > start && self.buf[end - 1] == b'\r' {
                        end -= 1;
                    }
                    return Some(Some(start..end));
                }
                None if pending.len() > FRAME_MAX || (self.skipping && !pending.is_empty()) => {
                    // No line feed within FRAME_MAX bytes: drop what we have.
                    self.consumed = self.len;
                    if !self.skipping {
                        self.skipping = true;
                        return Some(None);
                    }
                    return None;
                }
                None => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// Feeds `input` in chunks of `chunk` bytes and collects what comes out.
    fn split(input: &[u8], chunk: usize) -> Vec<Result<Vec<u8>, ()>> {
        let mut framer = LineFramer::new();
        let mut out = Vec::new();
        for piece in input.chunks(chunk) {
            let mut piece = piece;
            while !piece.is_empty() {
                let spare = framer.spare();
                let n = spare.len().min(piece.len());
                spare[..n].copy_from_slice(&piece[..n]);
                framer.filled(n);
                piece = &piece[n..];
                while let Some(line) = framer.next_line() {
                    out.push(match line {
                        Line::Complete(l) => Ok(l.to_vec()),
                        Line::TooLong => Err(()),
                    });
                }
            }
        }
        out
    }

    #[test]
    fn payloads_skip_blank_lines_and_report_over_long_ones() {
        let mut framer = LineFramer::new();
        let mut input = std::vec![b'x'; FRAME_MAX + 1];
        input.extend_from_slice(b"\n\r\n  \t\none\n\ntwo\r\n");
        let mut payloads = Vec::new();
        let mut input = &input[..];
        while !input.is_empty() {
            let spare = framer.spare();
            let n = spare.len().min(input.len()).min(64);
            spare[..n].copy_from_slice(&input[..n]);
            framer.filled(n);
            input = &input[n..];
            while let Some(payload) = framer.next_payload() {
                payloads.push(payload.map(<[u8]>::to_vec).map_err(|bad| bad.error()));
            }
        }
        assert_eq!(
            payloads,
            [
                Err(FrameError::TooLong),
                Ok(b"one".to_vec()),
                Ok(b"two".to_vec())
            ]
        );
    }

    #[test]
    fn splits_lines_whatever_the_read_sizes() {
        for chunk in [1, 2, 3, 7, 4096] {
            assert_eq!(
                split(b"one\ntwo\r\n\nthree\n", chunk),
                [
                    Ok(b"one".to_vec()),
                    Ok(b"two".to_vec()),
                    Ok(Vec::new()),
                    Ok(b"three".to_vec())
                ],
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn an_over_long_line_is_reported_once_and_skipped() {
        let mut input = std::vec![b'x'; FRAME_MAX * 3];
        input.extend_from_slice(b"\nafter\n");
        for chunk in [1, 100, 5000] {
            assert_eq!(
                split(&input, chunk),
                [Err(()), Ok(b"after".to_vec())],
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn a_line_of_exactly_frame_max_is_kept() {
        let mut input = std::vec![b'y'; FRAME_MAX];
        input.push(b'\n');
        assert_eq!(split(&input, 512), [Ok(std::vec![b'y'; FRAME_MAX])]);
    }

    #[test]
    fn a_partial_line_waits_for_more() {
        assert_eq!(split(b"no newline yet", 4), []);
    }
}
