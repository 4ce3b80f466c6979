//! What the hub has to say to one connection, until the shell takes it.
//!
//! Frames other than messages are kept encoded, in order, in a ring of
//! [`CONTROL_BYTES`]. Messages are not copied in: the ring holds a mark,
//! "letters up to id N", where they come in the order of things, and the
//! hub reads them from the store when the shell takes its bytes
//! (`Hub::poll_transmit`). So a burst of messages costs the ring nine bytes,
//! and a message is encoded once, straight into the shell's buffer.
//!
//! A mark is a zero byte and the id, little-endian; a frame is its JSON
//! line. JSON never holds a raw zero byte, so the two cannot be confused.

use heapless::Deque;

use crate::limits::CONTROL_BYTES;

const MARK: u8 = 0;
const MARK_BYTES: usize = 1 + 8;

/// The ring has no room: the client is not reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Full;

/// The oldest thing waiting to go out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// An encoded frame of this many bytes, line feed included.
    Frame(usize),
    /// Every letter up to this id that was not sent yet.
    Letters(u64),
}

#[derive(Clone, Debug, Default)]
pub struct Output {
    ring: Deque<u8, CONTROL_BYTES>,
    /// The ring ends with a mark, which a newer one can replace.
    ends_with_mark: bool,
    /// The id of the last letter put in the shell's buffer.
    pub sent: u64,
}

impl Output {
    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// Bytes that can be queued still.
    pub fn room(&self) -> usize {
        CONTROL_BYTES - self.ring.len()
    }

    /// Queues an encoded frame (ending in a line feed), whole or not at all.
    pub fn push_frame(&mut self, line: &[u8]) -> Result<(), Full> {
        if CONTROL_BYTES - self.ring.len() < line.len() {
            return Err(Full);
        }
        for &byte in line {
            // Room was checked above.
            let _ = self.ring.push_back(byte);
        }
        self.ends_with_mark = false;
        Ok(())
    }

    /// Queues the letters up to `id`, after everything queued so far.
    pub fn push_letters(&mut self, id: u64) -> Result<(), Full> {
        let bytes = id.to_le_bytes();
        if self.ends_with_mark {
            // Nothing was queued since the last mark: move it on.
            let start = self.ring.len() - 8;
            for (i, byte) in bytes.into_iter().enumerate() {
                if let Some(slot) = self.ring.get_mut(start + i) {
                    *slot = byte;
                }
            }
            return Ok(());
        }
        if CONTROL_BYTES - self.ring.len() < MARK_BYTES {
            return Err(Full);
        }
        let _ = self.ring.push_back(MARK);
        for byte in bytes {
            let _ = self.ring.push_back(byte);
        }
        self.ends_with_mark = true;
        Ok(())
    }

    /// What comes out next, if anything.
    pub fn next(&self) -> Option<Next> {
        match self.ring.front()? {
            &MARK => {
                let mut id = [0u8; 8];
                for (i, byte) in id.iter_mut().enumerate() {
                    *byte = self.ring.get(1 + i).copied().unwrap_or(0);
                }
                Some(Next::Letters(u64::from_le_bytes(id)))
            }
            _ => {
                // Every frame was pushed whole, line feed last.
                let end = self.ring.iter().position(|&b| b == b'\n')?;
                Some(Next::Frame(end + 1))
            }
        }
    }

    /// Moves the next frame, of `into.len()` bytes, into `into`.
    pub fn take_frame(&mut self, into: &mut [u8]) {
        for byte in into {
            *byte = self.ring.pop_front().unwrap_or(b'\n');
        }
        self.ends_with_mark &= !self.ring.is_empty();
    }

    /// Drops the next mark: its letters are all out.
    pub fn drop_mark(&mut self) {
        for _ in 0..MARK_BYTES {
            self.ring.pop_front();
        }
        self.ends_with_mark &= !self.ring.is_empty();
    }

    /// Forgets everything queued: the connection is dropped unread.
    pub fn clear(&mut self) {
        self.ring.clear();
        self.ends_with_mark = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_and_marks_come_out_in_order_and_marks_coalesce() {
        let mut out = Output::default();
        out.push_frame(b"{\"A\":{}}\n").unwrap();
        out.push_letters(3).unwrap();
        out.push_letters(5).unwrap();
        out.push_frame(b"{\"B\":{}}\n").unwrap();
        out.push_letters(6).unwrap();
        assert_eq!(out.next(), Some(Next::Frame(9)));
        let mut line = [0; 9];
        out.take_frame(&mut line);
        assert_eq!(&line, b"{\"A\":{}}\n");
        assert_eq!(out.next(), Some(Next::Letters(5)));
        out.drop_mark();
        assert_eq!(out.next(), Some(Next::Frame(9)));
        out.take_frame(&mut line);
        assert_eq!(out.next(), Some(Next::Letters(6)));
        out.drop_mark();
        assert_eq!(out.next(), None);
        assert!(out.is_empty());
    }

    #[test]
    fn a_full_ring_takes_nothing_but_a_burst_of_letters_never_fills_it() {
        let mut out = Output::default();
        let line = [b'x'; CONTROL_BYTES - 4];
        out.push_frame(&line).unwrap();
        assert_eq!(out.push_frame(b"{}\n\n\n"), Err(Full));
        assert_eq!(out.push_letters(1), Err(Full));
        out.clear();
        for id in 1..10_000 {
            out.push_letters(id).unwrap();
        }
        assert_eq!(out.next(), Some(Next::Letters(9_999)));
    }
}
