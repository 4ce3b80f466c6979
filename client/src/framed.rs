//! A TCP stream of JSON-line frames, as the client speaks it to the server
//! and to private peers alike (mini-redis's `Connection`): frames out with
//! [`protocol::encode`], each within a time limit; frames in through the
//! core's [`LineFramer::next_frame`], which skips blank lines and reports
//! over-long and malformed ones (R25).

use std::io;
use std::time::Duration;

use async_net::TcpStream;
use natter_core::framer::{BadFrame, LineFramer};
use natter_core::limits::FRAME_MAX;
use natter_core::protocol::{self, DecodeError, FrameBuf};
use serde::Serialize;
use smol::future::FutureExt;
use smol::io::{AsyncReadExt, AsyncWriteExt};

/// How long one frame may take to leave: a far side that reads nothing
/// does not hang the client.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the next read gave.
#[derive(Debug)]
pub enum Read<F> {
    Frame(F),
    Bad(BadFrame),
    /// The end of the stream, or a read error.
    End,
}

pub struct Framed {
    stream: TcpStream,
    framer: Box<LineFramer>,
}

impl Framed {
    pub fn new(stream: TcpStream) -> Framed {
        Framed {
            stream,
            framer: Box::new(LineFramer::new()),
        }
    }

    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// The next frame already received; `None` until [`Framed::fill`]
    /// brings more.
    pub fn buffered<F>(
        &mut self,
        decode: fn(&[u8]) -> Result<F, DecodeError>,
    ) -> Option<Result<F, BadFrame>> {
        self.framer.next_frame(decode)
    }

    /// Reads more; `Ok(false)` at the end of the stream. Take every frame
    /// with [`Framed::buffered`] before calling this again.
    pub async fn fill(&mut self) -> io::Result<bool> {
        let spare = self.framer.spare();
        if spare.is_empty() {
            // Cannot happen once `buffered` gave None: the framer drops
            // over-long lines. Never read 0 bytes and take it for the end.
            *self.framer = LineFramer::new();
            return Ok(true);
        }
        let n = self.stream.read(spare).await?;
        self.framer.filled(n);
        Ok(n > 0)
    }

    /// The next frame, reading as needed.
    pub async fn read_frame<F>(&mut self, decode: fn(&[u8]) -> Result<F, DecodeError>) -> Read<F> {
        loop {
            match self.buffered(decode) {
                Some(Ok(frame)) => return Read::Frame(frame),
                Some(Err(bad)) => return Read::Bad(bad),
                None => {}
            }
            if !matches!(self.fill().await, Ok(true)) {
                return Read::End;
            }
        }
    }

    /// A second handle that only writes, for a task of its own.
    pub fn writer(&self) -> Framed {
        Framed::new(self.stream.clone())
    }

    /// Writes one frame within [`WRITE_TIMEOUT`].
    pub async fn write_frame<T: Serialize>(&mut self, frame: &T) -> io::Result<()> {
        let mut buf: FrameBuf = [0; FRAME_MAX + 1];
        let n = protocol::encode(frame, &mut buf).map_err(|_| io::ErrorKind::InvalidInput)?;
        self.write_line(&buf[..n]).await
    }

    /// Writes one encoded frame within [`WRITE_TIMEOUT`].
    pub async fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        let write = async {
            self.stream.write_all(line).await?;
            self.stream.flush().await
        };
        write
            .or(async {
                smol::Timer::after(WRITE_TIMEOUT).await;
                Err(io::ErrorKind::TimedOut.into())
            })
            .await
    }
}
