//! The protocol loop: one async task that waits for whichever comes first
//! (a frame from the server, a line from the user, a termination signal,
//! the end of the wait after logging out), feeds it to the
//! [`Dialogue`] and carries out the [`Action`]s it returns.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use async_signal::{Signal, Signals};
use smol::future::{self, FutureExt};
use smol::stream::StreamExt;

use crate::Config;
use crate::connection::{Address, Connection, Incoming, SendError};
use crate::dialogue::{self, Action, Dialogue, Outcome};
use crate::terminal::{Input, Terminal};

/// How long to wait for the server's goodbye after sending a logout at the
/// end of input.
const LEAVE_TIMEOUT: Duration = Duration::from_secs(2);

/// What woke the loop up.
enum Event {
    /// More bytes (`Ok(true)`), the end of the stream, or a read error.
    Received(std::io::Result<bool>),
    /// From the reader thread; `None` once it is gone.
    Typed(Option<Input>),
    /// SIGINT, SIGTERM or SIGHUP.
    Signal,
    /// The wait after logging out is over.
    Deadline,
}

/// Connects, runs the session to its end, and says how it ended.
pub async fn run(config: &Config) -> Outcome {
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
    // Ctrl-C outside the line editor (at a hidden password prompt, or while
    // waiting for the server), or a kill, logs out like the end of input.
    let signals = Signals::new([Signal::Int, Signal::Term, Signal::Hup]).ok();
    let (terminal, inputs) = Terminal::start(config.debug);
    let mut session = Session {
        conn,
        terminal,
        dialogue: Dialogue::new(),
        deadline: None,
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
        let event = session.wait(&inputs, input_open, signals.as_ref()).await;
        let actions = match event {
            Event::Received(Ok(true)) => continue,
            Event::Received(Ok(false) | Err(_)) => session.dialogue.closed(),
            Event::Typed(Some(Input::Line(line))) => session.dialogue.line(&line),
            Event::Typed(Some(Input::End) | None) => {
                // The reader thread stops after the end of input.
                input_open = false;
                session.dialogue.end()
            }
            Event::Signal => session.dialogue.end(),
            Event::Deadline => session.dialogue.gave_up_waiting(),
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
    /// Set by [`Action::Leave`].
    deadline: Option<Instant>,
}

impl Session {
    /// Waits for the next event; the server comes first when several are ready.
    async fn wait(
        &mut self,
        inputs: &smol::channel::Receiver<Input>,
        input_open: bool,
        signals: Option<&Signals>,
    ) -> Event {
        let received = async { Event::Received(self.conn.fill().await) };
        let typed = async {
            if input_open {
                Event::Typed(inputs.recv().await.ok())
            } else {
                future::pending().await
            }
        };
        let signal = async {
            if let Some(mut signals) = signals
                && signals.next().await.is_some()
            {
                return Event::Signal;
            }
            future::pending().await
        };
        let deadline = self.deadline;
        let deadline = async {
            match deadline {
                Some(at) => {
                    smol::Timer::at(at).await;
                    Event::Deadline
                }
                None => future::pending().await,
            }
        };
        received.or(typed).or(signal).or(deadline).await
    }

    /// Carries out `actions` in order; `Some` when the client must end.
    async fn perform(&mut self, actions: Vec<Action>) -> Option<Outcome> {
        let mut todo = VecDeque::from(actions);
        while let Some(action) = todo.pop_front() {
            match action {
                Action::Print(text) => self.terminal.print(&text),
                Action::Send(frame) => match self.conn.send(&frame).await {
                    Ok(()) => {}
                    Err(SendError::TooLong) => self.terminal.print(&dialogue::too_long()),
                    Err(SendError::Io(_)) => {
                        todo.clear();
                        todo.extend(self.dialogue.closed());
                    }
                },
                Action::Read(read) => {
                    // Notices first, then the prompt.
                    self.terminal.sync().await;
                    self.terminal.read(read);
                }
                Action::Leave => {
                    self.deadline
                        .get_or_insert_with(|| Instant::now() + LEAVE_TIMEOUT);
                }
                Action::Exit(outcome, text) => {
                    self.terminal.finish(text.as_deref()).await;
                    return Some(outcome);
                }
            }
        }
        None
    }
}
