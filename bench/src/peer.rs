//! A natter user for the benchmark: natter-core's frames over a blocking
//! TCP socket, as a client that only sends and acknowledges. The two halves
//! can go to two threads: one writing, one reading (and acknowledging); a
//! peer that answers what it hears, in one thread, acknowledges in the
//! same write as its answer ([`Peer::next_to_answer`]).

use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use natter_core::limits::FRAME_MAX;
use natter_core::protocol::{self, ClientFrame, Refusal, ServerFrame};

/// How long any read may wait before the benchmark gives up.
const READ_TIMEOUT: Duration = Duration::from_secs(20);

/// A logged-in user.
pub struct Peer {
    pub reader: Reader,
    pub writer: Writer,
}

/// What a reader heard that the benchmark counts.
#[derive(Debug)]
pub enum Heard {
    /// A message's text; acknowledged, or held for the peer's next write
    /// ([`Peer::next_to_answer`]).
    Message(String),
    /// A command was refused.
    Refused(Refusal),
}

pub struct Reader {
    stream: BufReader<TcpStream>,
    /// Where acknowledgements go: the same socket.
    acks: Writer,
    line: Vec<u8>,
}

pub struct Writer {
    stream: TcpStream,
    /// What goes out in one write: an acknowledgement held back, then the frame.
    out: Vec<u8>,
    /// A message heard and not yet acknowledged: the id goes out with this
    /// writer's next frame.
    held_ack: Option<u64>,
}

impl Peer {
    /// Connects to the server on `port` and logs in as `name`.
    pub fn login(port: u16, name: &str, password: &str) -> io::Result<Peer> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(READ_TIMEOUT))?;
        let mut writer = Writer::new(stream.try_clone()?);
        let mut reader = Reader {
            stream: BufReader::new(stream.try_clone()?),
            acks: Writer::new(stream),
            line: Vec::with_capacity(1024),
        };
        writer.send(&ClientFrame::Username {
            name: name_of(name)?,
        })?;
        let password = password.try_into().map_err(|_| invalid("password"))?;
        writer.send(&ClientFrame::Password { password })?;
        loop {
            match reader.frame()? {
                ServerFrame::Welcome { .. } => return Ok(Peer { reader, writer }),
                ServerFrame::Bye { reason } => {
                    return Err(io::Error::other(format!("{name} refused: {reason:?}")));
                }
                _ => {}
            }
        }
    }

    /// The next message or refusal, as [`Reader::next`], by a user who
    /// answers at once: the acknowledgement goes out with the answer, in
    /// one write, as a client writes what it has ready together.
    pub fn next_to_answer(&mut self) -> io::Result<Heard> {
        let (heard, id) = self.reader.next_unacknowledged()?;
        // Every message's id: whatever follows it, the answer's write
        // carries it for free.
        if id.is_some() {
            self.writer.held_ack = id;
        }
        Ok(heard)
    }
}

impl Reader {
    /// A handle on the socket, to end a read blocked in another thread.
    pub fn closer(&self) -> io::Result<TcpStream> {
        self.stream.get_ref().try_clone()
    }

    /// The next frame from the server.
    pub fn frame(&mut self) -> io::Result<ServerFrame> {
        let line = self.line()?;
        protocol::decode_server(line).map_err(|_| invalid("frame"))
    }

    /// The next line that is not blank, without its line feed.
    fn line(&mut self) -> io::Result<&[u8]> {
        loop {
            self.line.clear();
            if self.stream.read_until(b'\n', &mut self.line)? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            if self.line != b"\n" {
                let line = self.line.strip_suffix(b"\n").unwrap_or(&self.line);
                return Ok(line);
            }
        }
    }

    /// The next message or refusal; other frames are skipped. Messages are
    /// acknowledged as natter's client does: once for all those already
    /// received, when no more are waiting in the buffer.
    ///
    /// A message's id and text are scanned out of the line, as the direct
    /// flow's receivers scan theirs, so that the two flows differ by the
    /// server alone, not by a JSON decoder in the receivers (the client's
    /// decoding has its own figure, `natter-bench hub`).
    pub fn next(&mut self) -> io::Result<Heard> {
        let (heard, id) = self.next_unacknowledged()?;
        // No whole frame left in what was read: the batch is in.
        if let Some(id) = id
            && !self.stream.buffer().contains(&b'\n')
        {
            self.acks.send(&ClientFrame::Received { id })?;
        }
        Ok(heard)
    }

    /// The next message or refusal, with the message's id, not
    /// acknowledged.
    fn next_unacknowledged(&mut self) -> io::Result<(Heard, Option<u64>)> {
        loop {
            let line = self.line()?;
            let Some(message) = line.strip_prefix(b"{\"Message\":{\"id\":") else {
                match protocol::decode_server(line).map_err(|_| invalid("frame"))? {
                    ServerFrame::Refused { refusal } => return Ok((Heard::Refused(refusal), None)),
                    _ => continue,
                }
            };
            let digits = message.iter().take_while(|b| b.is_ascii_digit()).count();
            let id = std::str::from_utf8(&message[..digits])
                .ok()
                .and_then(|id| id.parse().ok())
                .ok_or_else(|| invalid("message id"))?;
            let text = String::from_utf8_lossy(message)
                .split("\"text\":\"")
                .nth(1)
                .map(String::from)
                .ok_or_else(|| invalid("message text"))?;
            return Ok((Heard::Message(text), Some(id)));
        }
    }
}

impl Writer {
    fn new(stream: TcpStream) -> Writer {
        Writer {
            stream,
            out: Vec::with_capacity(2 * (FRAME_MAX + 1)),
            held_ack: None,
        }
    }

    /// Writes `frame`, after the acknowledgement held back, if any.
    pub fn send(&mut self, frame: &ClientFrame) -> io::Result<()> {
        self.out.clear();
        if let Some(id) = self.held_ack.take() {
            self.encode(&ClientFrame::Received { id })?;
        }
        self.encode(frame)?;
        self.stream.write_all(&self.out)
    }

    /// Holds the acknowledgement of letter `id` for the next write.
    pub fn hold_ack(&mut self, id: u64) {
        self.held_ack = Some(id);
    }

    /// Sends the acknowledgement held back, if any, alone.
    pub fn flush_ack(&mut self) -> io::Result<()> {
        match self.held_ack.take() {
            Some(id) => self.send(&ClientFrame::Received { id }),
            None => Ok(()),
        }
    }

    /// Appends `frame` to what goes out.
    fn encode(&mut self, frame: &ClientFrame) -> io::Result<()> {
        let start = self.out.len();
        self.out.resize(start + FRAME_MAX + 1, 0);
        let n = protocol::encode(frame, &mut self.out[start..]).map_err(|_| invalid("frame"))?;
        self.out.truncate(start + n);
        Ok(())
    }

    /// `message <to> <text>`.
    pub fn message(&mut self, to: &str, text: &str) -> io::Result<()> {
        let text = text.try_into().map_err(|_| invalid("text"))?;
        self.send(&ClientFrame::Message {
            to: name_of(to)?,
            text,
        })
    }

    /// `broadcast <text>`.
    pub fn broadcast(&mut self, text: &str) -> io::Result<()> {
        let text = text.try_into().map_err(|_| invalid("text"))?;
        self.send(&ClientFrame::Broadcast { text })
    }
}

fn name_of(name: &str) -> io::Result<natter_core::credential::Name> {
    name.try_into().map_err(|_| invalid("name"))
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("bad {what}"))
}
