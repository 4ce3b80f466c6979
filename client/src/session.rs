//! The protocol loop: one async task that waits for whichever comes first
//! (a frame from the server, an event on a private session, bytes from the
//! user, a signal, a deadline), feeds it to the [`Dialogue`] and carries
//! out the [`Action`]s it returns. Private sessions run as tasks of their
//! own ([`crate::peer`]) on the same executor and report over one channel.
//! Everything already received is handled before waiting again: server
//! frames first, then what the user typed, one line at a time, so each
//! line is read the way the dialogue wants the one before it answered.

use std::collections::VecDeque;
use std::rc::Rc;
use std::time::{Duration, Instant};

use async_signal::{Signal, Signals};
use smol::LocalExecutor;
use smol::future::{self, FutureExt};
use smol::stream::StreamExt;

use crate::Config;
use crate::connection::{Address, Connection, Incoming, SendError};
use crate::dialogue::{self, Action, Dialogue, Outcome, PeerReport};
use crate::peer::{PeerEvent, Peers};
use crate::terminal::input::Chunk;
use crate::terminal::{Input, Terminal};

/// How long to wait for the server's goodbye after sending a logout at the
/// end of input.
const LEAVE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a server has to send its first frame: after that, whatever
/// answers on its port is not a natter server.
const FIRST_FRAME_TIMEOUT: Duration = Duration::from_secs(10);

/// How long private sessions get, in all, to send their goodbyes when the
/// client ends.
const PEER_GRACE: Duration = Duration::from_secs(1);

/// How long the rest of a key may take after its first byte: an ESC alone
/// for this long is the Escape key (terminals send a sequence in one go).
const KEY_TIMEOUT: Duration = Duration::from_millis(50);

/// What woke the loop up.
enum Event {
    /// More bytes (`Ok(true)`), the end of the stream, or a read error.
    Received(std::io::Result<bool>),
    /// Something happened on a private session.
    Peer(PeerEvent),
    /// From the reader thread; `None` once it is gone.
    Typed(Option<Chunk>),
    /// SIGINT, SIGTERM or SIGHUP.
    Signal,
    /// SIGWINCH: the terminal was resized.
    Resized,
    /// The wait after logging out is over.
    Deadline,
    /// No frame from the server in [`FIRST_FRAME_TIMEOUT`].
    Silent,
    /// The time asked for by [`Action::Remind`] is up.
    Remind,
    /// The rest of a key begun did not come in [`KEY_TIMEOUT`].
    KeyTimeout,
}

/// Connects, runs the session to its end, and says how it ended. Private
/// sessions run as tasks on `executor`, which must be running this future.
pub async fn run(config: &Config, executor: Rc<LocalExecutor<'static>>) -> Outcome {
    let address = Address {
        host: config.host.clone(),
        port: config.port,
    };
    let conn = match Connection::open(&address, config.debug).await {
        Ok(conn) => conn,
        Err(e) => {
            eprintln!("Error. Cannot connect to the server at {address}: {e}");
            return Outcome::CannotConnect;
        }
    };
    // On a terminal Ctrl-C is a key for the line editor; a SIGINT from
    // elsewhere, or a kill, logs out like the end of input.
    let signals = Signals::new([Signal::Int, Signal::Term, Signal::Hup, Signal::Winch]).ok();
    let (terminal, chunks) = Terminal::start(config.timestamps, config.debug);
    let mut session = Session {
        conn,
        terminal,
        dialogue: Dialogue::for_server(address.to_string()),
        peers: Peers::new(executor, config.debug),
        deadline: None,
        first_frame_by: Some(Instant::now() + FIRST_FRAME_TIMEOUT),
        remind_at: None,
        key_by: None,
    };
    let mut input_open = true;
    loop {
        // Every line already received is handled before waiting again.
        while let Some(incoming) = session.conn.next_incoming() {
            let actions = match incoming {
                Incoming::Frame(frame) => session.dialogue.frame(frame),
                Incoming::Unreadable => session.dialogue.unreadable(),
            };
            if let Some(outcome) = session.perform(actions).await {
                return outcome;
            }
        }
        // What was shown of them is acknowledged in one frame.
        let ack = session.dialogue.acknowledge();
        if let Some(outcome) = session.perform(ack).await {
            return outcome;
        }
        if session.dialogue.heard() {
            session.first_frame_by = None;
        }
        // Then what the user typed, a line at a time.
        while let Some(input) = session.terminal.next_input() {
            let actions = match input {
                Input::Line(line) => session.dialogue.line(&line),
                Input::Interrupt => session.dialogue.interrupt(),
                Input::End => session.dialogue.end(),
            };
            if let Some(outcome) = session.perform(actions).await {
                return outcome;
            }
        }
        session.key_by = match (session.terminal.keys_waiting(), session.key_by) {
            (false, _) => None,
            (true, Some(by)) => Some(by),
            (true, None) => Some(Instant::now() + KEY_TIMEOUT),
        };
        let event = session.wait(&chunks, input_open, signals.as_ref()).await;
        let actions = match event {
            Event::Received(Ok(true)) => continue,
            Event::Received(Ok(false) | Err(_)) => session.dialogue.closed(),
            Event::Peer(event) => match session.peers.handle(event) {
                Some(report) => session.dialogue.peer(report),
                None => continue,
            },
            Event::Typed(Some(Chunk::Bytes(bytes))) => {
                session.terminal.push(Chunk::Bytes(bytes));
                continue;
            }
            Event::Typed(Some(Chunk::End) | None) => {
                // The reader thread stops after the end of input.
                input_open = false;
                session.terminal.push(Chunk::End);
                continue;
            }
            Event::Resized => {
                session.terminal.resize();
                continue;
            }
            Event::Signal => session.dialogue.end(),
            Event::Deadline => session.dialogue.gave_up_waiting(),
            Event::Silent => {
                session.first_frame_by = None;
                session.dialogue.silent_server()
            }
            Event::Remind => {
                session.remind_at = None;
                session.dialogue.remind()
            }
            Event::KeyTimeout => {
                session.key_by = None;
                session.terminal.keys_timed_out();
                continue;
            }
        };
        if let Some(outcome) = session.perform(actions).await {
            return outcome;
        }
    }
}

struct Session {
    conn: Connection,
    terminal: Terminal,
    dialogue: Dialogue,
    peers: Peers,
    /// Set by [`Action::Leave`].
    deadline: Option<Instant>,
    /// Until the server's first frame: when to give up on it.
    first_frame_by: Option<Instant>,
    /// Set by [`Action::Remind`].
    remind_at: Option<Instant>,
    /// While a key is begun and not finished: when to take it as it is.
    key_by: Option<Instant>,
}

impl Session {
    /// Waits for the next event; the server comes first when several are
    /// ready, then private sessions, then the user.
    async fn wait(
        &mut self,
        chunks: &smol::channel::Receiver<Chunk>,
        input_open: bool,
        signals: Option<&Signals>,
    ) -> Event {
        let conn = &mut self.conn;
        let peers = &self.peers;
        let received = async { Event::Received(conn.fill().await) };
        let peer = async { Event::Peer(peers.next().await) };
        let typed = async {
            if input_open {
                Event::Typed(chunks.recv().await.ok())
            } else {
                future::pending().await
            }
        };
        let signal = async {
            if let Some(mut signals) = signals
                && let Some(signal) = signals.next().await
            {
                return match signal {
                    Ok(Signal::Winch) => Event::Resized,
                    _ => Event::Signal,
                };
            }
            future::pending().await
        };
        // The earliest deadline, if any.
        let timer = [
            (self.deadline, Event::Deadline),
            (self.first_frame_by, Event::Silent),
            (self.remind_at, Event::Remind),
            (self.key_by, Event::KeyTimeout),
        ]
        .into_iter()
        .filter_map(|(at, event)| Some((at?, event)))
        .min_by_key(|(at, _)| *at);
        let timer = async {
            match timer {
                Some((at, event)) => {
                    smol::Timer::at(at).await;
                    event
                }
                None => future::pending().await,
            }
        };
        received.or(peer).or(typed).or(signal).or(timer).await
    }

    /// Carries out `actions` in order; `Some` when the client must end.
    async fn perform(&mut self, actions: Vec<Action>) -> Option<Outcome> {
        let mut todo = VecDeque::from(actions);
        while let Some(action) = todo.pop_front() {
            match action {
                Action::Print(line) => self.terminal.print(&line),
                Action::Send(frame) => match self.conn.send(&frame).await {
                    Ok(()) => {}
                    Err(SendError::TooLong) => self.terminal.print(&dialogue::too_long()),
                    Err(SendError::Io(_)) => {
                        todo.clear();
                        todo.extend(self.dialogue.closed());
                    }
                },
                Action::Read(read) => self.terminal.read(read),
                Action::Known(user) => self.terminal.add_name(&user),
                Action::Listen { user } => {
                    let port = match self.conn.local_ip() {
                        Ok(ip) => self.peers.listen(user.clone(), ip).await.ok(),
                        Err(_) => None,
                    };
                    // Accept (or decline) before whatever came next.
                    let next = self.dialogue.listening(user, port);
                    prepend(&mut todo, next);
                }
                Action::Expect { user, secret } => self.peers.expect(&user, secret),
                Action::Connect {
                    user,
                    host,
                    port,
                    secret,
                    from,
                } => self.peers.connect(user, &host, port, from, secret),
                Action::SendPeer { user, frame } => {
                    if !self.peers.send(&user, frame) {
                        let next = self.dialogue.peer(PeerReport::SendFailed { user });
                        prepend(&mut todo, next);
                    }
                }
                Action::ClosePeer { user } => self.peers.close(&user),
                Action::Remind(after) => {
                    let at = Instant::now() + after;
                    self.remind_at = Some(self.remind_at.map_or(at, |was| was.min(at)));
                }
                Action::Leave => {
                    self.deadline
                        .get_or_insert_with(|| Instant::now() + LEAVE_TIMEOUT);
                }
                Action::Exit(outcome, last) => {
                    // Goodbyes to private sessions are queued already.
                    self.peers.close_all(PEER_GRACE).await;
                    self.terminal.finish(&last);
                    return Some(outcome);
                }
            }
        }
        None
    }
}

/// Puts `actions` at the front of `todo`, in order.
fn prepend(todo: &mut VecDeque<Action>, actions: Vec<Action>) {
    for action in actions.into_iter().rev() {
        todo.push_front(action);
    }
}
