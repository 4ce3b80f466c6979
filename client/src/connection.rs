//! The TCP connection to the server: a [`Framed`] stream, with what only
//! the server link needs (connecting, debug output that hides passwords).

use std::fmt;
use std::io::{self, Write};
use std::net::IpAddr;
use std::time::Duration;

use async_net::TcpStream;
use natter_core::framer::BadFrame;
use natter_core::limits::FRAME_MAX;
use natter_core::protocol::{self, ClientFrame, FrameBuf, ServerFrame};
use smol::future::FutureExt;

use crate::framed::Framed;

/// How long connecting (name lookup included) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the server is, as the user gave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub host: String,
    pub port: u16,
}

impl fmt::Display for Address {
    /// `host:port`, with an IPv6 address in brackets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// What came from the server.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    Frame(ServerFrame),
    /// A line that is not a frame, or longer than any frame may be.
    Unreadable,
}

/// Why a frame could not be sent.
#[derive(Debug)]
pub enum SendError {
    /// The frame does not fit in [`FrameBuf`]; nothing was sent.
    TooLong,
    /// The connection is broken.
    Io(io::Error),
}

pub struct Connection {
    framed: Framed,
    debug: bool,
}

impl Connection {
    /// Connects to `address`, giving up after ten seconds.
    pub async fn open(address: &Address, debug: bool) -> io::Result<Connection> {
        let connect = TcpStream::connect((address.host.as_str(), address.port));
        let timeout = async {
            smol::Timer::after(CONNECT_TIMEOUT).await;
            Err(io::ErrorKind::TimedOut.into())
        };
        let stream = connect.or(timeout).await?;
        // Frames are small and interactive.
        stream.set_nodelay(true).ok();
        Ok(Connection {
            framed: Framed::new(stream),
            debug,
        })
    }

    /// The local address of the connection: the interface that reaches
    /// the server, where a private session listens (R19).
    pub fn local_ip(&self) -> io::Result<IpAddr> {
        Ok(self.framed.stream().local_addr()?.ip())
    }

    /// Sends one frame.
    pub async fn send(&mut self, frame: &ClientFrame) -> Result<(), SendError> {
        let mut buf: FrameBuf = [0; FRAME_MAX + 1];
        let n = protocol::encode(frame, &mut buf).map_err(|_| SendError::TooLong)?;
        let line = &buf[..n];
        if self.debug {
            match frame {
                // Never shown, even when debugging.
                ClientFrame::Password { .. } => debug_line("->", b"{\"Password\":{...}}"),
                _ => debug_line("->", line),
            }
        }
        self.framed.write_line(line).await.map_err(SendError::Io)
    }

    /// The next frame already received, decoded; `None` until
    /// [`Connection::fill`] brings more. Blank lines are skipped.
    pub fn next_incoming(&mut self) -> Option<Incoming> {
        let incoming = match self.framed.buffered(protocol::decode_server)? {
            Ok(frame) => Incoming::Frame(frame),
            Err(bad) => {
                if self.debug {
                    let why = match bad {
                        BadFrame::TooLong => "a line longer than any frame".to_string(),
                        BadFrame::Malformed(cause) => format!("not a frame: {cause:?}"),
                    };
                    debug_line("<-", format!("({why})").as_bytes());
                }
                Incoming::Unreadable
            }
        };
        if self.debug
            && let Incoming::Frame(frame) = &incoming
        {
            let mut buf: FrameBuf = [0; FRAME_MAX + 1];
            if let Ok(n) = protocol::encode(frame, &mut buf) {
                debug_line("<-", &buf[..n]);
            }
        }
        Some(incoming)
    }

    /// Reads more from the server; `Ok(false)` when it closed the connection.
    /// Take every frame with [`Connection::next_incoming`] before calling this again.
    pub async fn fill(&mut self) -> io::Result<bool> {
        self.framed.fill().await
    }
}

/// `-d/--debug`: shows a frame on stderr.
pub(crate) fn debug_line(direction: &str, line: &[u8]) {
    let text = String::from_utf8_lossy(line);
    let text = crate::safe_text::neutralise(text.trim_end_matches('\n'));
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "[debug] {direction} {text}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_print_as_host_colon_port() {
        let a = Address {
            host: "127.0.0.1".into(),
            port: 4000,
        };
        assert_eq!(a.to_string(), "127.0.0.1:4000");
        let a = Address {
            host: "::1".into(),
            port: 4000,
        };
        assert_eq!(a.to_string(), "[::1]:4000");
    }
}
