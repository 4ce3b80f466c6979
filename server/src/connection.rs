//! One TCP connection as the event loop sees it: its socket, the framer
//! its bytes go through, and the bytes the hub gave it that the socket has
//! not taken yet.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};

use natter_core::framer::LineFramer;
use natter_core::limits::FRAME_MAX;
use natter_core::session::ConnId;

/// Bytes taken from the hub at a time: several frames per `write`, and
/// always room for the largest.
pub const OUT_BYTES: usize = 2 * (FRAME_MAX + 1);

pub struct Connection {
    /// Its handle in the hub, whose slot is its place in the loop.
    pub id: ConnId,
    pub stream: TcpStream,
    pub framer: LineFramer,
    out: [u8; OUT_BYTES],
    /// `out[sent..filled]` is still to be written.
    sent: usize,
    filled: usize,
    /// The poller reports its readability: the hub takes its frames.
    pub reading: bool,
    /// The poller reports its writability: it took less than given.
    pub waiting_to_write: bool,
}

/// What a read gave.
pub enum ReadOutcome {
    /// This many bytes, now in the framer.
    Bytes(usize),
    /// Nothing now: the socket was not ready after all.
    Nothing,
    /// The peer closed, or the socket failed.
    Gone,
}

impl Connection {
    pub fn new(id: ConnId, stream: TcpStream) -> Box<Connection> {
        Box::new(Connection {
            id,
            stream,
            framer: LineFramer::new(),
            out: [0; OUT_BYTES],
            sent: 0,
            filled: 0,
            reading: true,
            waiting_to_write: false,
        })
    }

    /// One read into the framer: one read per connection per turn of the
    /// loop, so a connection that always has data cannot starve the others.
    pub fn read(&mut self) -> ReadOutcome {
        match self.stream.read(self.framer.spare()) {
            Ok(0) => ReadOutcome::Gone,
            Ok(n) => {
                self.framer.filled(n);
                ReadOutcome::Bytes(n)
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => ReadOutcome::Nothing,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => ReadOutcome::Nothing,
            Err(_) => ReadOutcome::Gone,
        }
    }

    /// Everything given is written.
    pub fn is_flushed(&self) -> bool {
        self.sent == self.filled
    }

    /// Where the hub writes the next bytes; only once flushed.
    pub fn out_buffer(&mut self) -> &mut [u8] {
        &mut self.out
    }

    /// The hub put `len` bytes in [`Connection::out_buffer`].
    pub fn give(&mut self, len: usize) {
        self.sent = 0;
        self.filled = len;
    }

    /// Writes what it can; `Err` if the socket failed.
    pub fn write(&mut self) -> io::Result<()> {
        while self.sent < self.filled {
            match self.stream.write(&self.out[self.sent..self.filled]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.sent += n,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    pub fn shutdown(&self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}
