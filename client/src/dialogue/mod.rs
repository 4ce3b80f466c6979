//! What the client does in answer to each event, with no I/O: a state
//! machine that turns server frames, typed lines, private session reports
//! and the end of input into [`Action`]s, which [`crate::session`] carries
//! out.
//!
//! - here: the state, the frames that are only shown, leaving, and which
//!   line the client wants read next;
//! - [`login`]: the prompts the server asks for (R4-R8), answers checked
//!   locally with the server's own rules, the welcome and the goodbyes;
//! - [`commands`]: what is typed after the welcome, `help` included;
//! - [`private`]: private sessions (R19-R24): the y/n question, requests
//!   waiting for an answer, sessions up, and the notices about them.

mod commands;
mod login;
mod private;

use std::time::Duration;

use natter_core::credential::Name;
use natter_core::protocol::{
    ByeReason, ClientFrame, FrameError, Host, PeerBye, PeerFrame, Prompt, Refusal, Secret,
    ServerFrame,
};
use natter_core::text::PrivateNotice;

use crate::display::{Line, Style};

pub use login::answer;

/// Printed when the server closes the connection without a [`ServerFrame::Bye`].
pub const LOST_CONNECTION: &str = "Error. Lost connection to the server";

/// Printed for a line from the server that is not a frame.
pub const UNREADABLE: &str = "Error. Unreadable message from the server";

/// Printed for Ctrl-C on an empty command line.
pub const HOW_TO_LEAVE: &str = "(To leave, type logout or press Ctrl-D)";

/// Printed when what answers on the server's port does not speak natter:
/// its first line is not a frame, or no frame comes at all.
pub fn not_a_server(server: &str) -> String {
    format!("Error. {server} is not a natter server")
}

/// How the client ends; [`Outcome::code`] is its exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Logged out by the user (R18), by end of input, or for inactivity (R9).
    Done,
    /// The server refused the session: blocked (R8), full, login timeout,
    /// too many bad requests.
    Refused,
    /// The server could not be reached.
    CannotConnect,
    /// The connection broke, the server is shutting down, or what answered
    /// is not a natter server.
    Lost,
}

impl Outcome {
    /// The process exit status: 0, 1, 2 or 3.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Done => 0,
            Outcome::Refused => 1,
            Outcome::CannotConnect => 2,
            Outcome::Lost => 3,
        }
    }

    /// How a session that the server ends for `reason` ends.
    pub fn of_bye(reason: ByeReason) -> Outcome {
        match reason {
            ByeReason::LoggedOut | ByeReason::TimedOut => Outcome::Done,
            ByeReason::NowBlocked { .. }
            | ByeReason::Blocked { .. }
            | ByeReason::LoginTimedOut
            | ByeReason::LoginTooSlow
            | ByeReason::ServerFull
            | ByeReason::TooManyConnections
            | ByeReason::AddressBlocked { .. }
            | ByeReason::ExistingAccountsOnly
            | ByeReason::TooManyErrors => Outcome::Refused,
            ByeReason::ShuttingDown => Outcome::Lost,
        }
    }
}

/// How a line is read from the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Echo {
    /// Shown as typed (a username, a y/n answer): no history.
    Visible,
    /// A password: never shown, never kept.
    Hidden,
    /// A command after login: history and completion; the `> ` prompt only
    /// on a terminal.
    Command,
}

/// A request to read one line from the user. A new one replaces the one
/// out (the prompt changes, what was typed stays).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Read {
    /// Shown before the line, without a line feed.
    pub prompt: String,
    pub echo: Echo,
    /// How to show what is typed after this line, until the next read: a
    /// line typed ahead after a username is the password.
    pub ahead: Echo,
}

/// The prompt before a command, on a terminal only.
pub const COMMAND_PROMPT: &str = "> ";

/// How long a peer's "logged out" goodbye may wait for the server's
/// presence notice about them (which never comes if they blocked us).
pub const HOLD: Duration = Duration::from_millis(500);

/// Something for [`crate::session`] to do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Print one line.
    Print(Line),
    /// Send a frame to the server.
    Send(ClientFrame),
    /// Read a line from the user (or change the prompt of the read out);
    /// it comes back through [`Dialogue::line`].
    Read(Read),
    /// A username seen, for Tab to complete.
    Known(Name),
    /// The user accepted `user`'s request: listen for them on the address
    /// the server connection uses, and report the port (or the failure)
    /// with [`Dialogue::listening`].
    Listen { user: Name },
    /// The server's secret for the listener waiting for `user` (R28).
    Expect { user: Name, secret: Secret },
    /// Connect to `user` at `host`:`port` and present `from` and `secret`;
    /// the outcome comes back as [`PeerReport::Up`] or [`PeerReport::Failed`].
    Connect {
        user: Name,
        host: Host,
        port: u16,
        secret: Secret,
        from: Name,
    },
    /// Send a frame to `user` over the private session; a failure comes
    /// back as [`PeerReport::SendFailed`].
    SendPeer { user: Name, frame: PeerFrame },
    /// Close the private session with `user` after what was sent to it.
    ClosePeer { user: Name },
    /// Logout was sent at the end of input: wait a little for the server's
    /// `Bye` or for it to close, then end with [`Outcome::Done`].
    Leave,
    /// Call [`Dialogue::remind`] after this long (or earlier).
    Remind(Duration),
    /// End now, after printing these lines.
    Exit(Outcome, Vec<Line>),
}

/// What [`crate::peer`] saw on a private session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerReport {
    /// The session with `user` is up: this side connected (`initiated`) or
    /// admitted them.
    Up { user: Name, initiated: bool },
    /// The session could not be set up: the connection failed
    /// (`initiated`), or nobody presented the secret in time.
    Failed { user: Name, initiated: bool },
    /// A frame from `user`.
    Frame { user: Name, frame: PeerFrame },
    /// The connection ended without a `Bye`, or `user` sent a line that is
    /// not a frame.
    Closed { user: Name },
    /// A frame for `user` could not be sent.
    SendFailed { user: Name },
}

/// The client's side of the conversation with the server.
#[derive(Debug, Default)]
pub struct Dialogue {
    /// `host:port` of the server, for [`not_a_server`].
    server: String,
    /// A frame came from the server: it speaks natter.
    heard: bool,
    /// The username last sent: who this user is once logged in.
    me: Option<Name>,
    /// The server asked for this and the user has not answered yet.
    asking: Option<Prompt>,
    /// Private sessions and requests.
    private: private::Private,
    /// Users the server said logged out, since they last logged in.
    left: Vec<Name>,
    /// Users the "kept for their next login" notice was shown for, since
    /// they last logged in: once is enough.
    told_kept: Vec<Name>,
    /// Messages still to come of those that waited for this login (R17).
    away: u32,
    /// The newest message shown and not yet acknowledged.
    shown: Option<u64>,
    /// The read out, as last asked for; `None` once its line came.
    read: Option<Read>,
    /// Welcome received: lines are commands.
    logged_in: bool,
    /// Logout sent (typed, or at the end of input); only the server's
    /// answer matters now.
    leaving: bool,
}

impl Dialogue {
    pub fn new() -> Self {
        Self::default()
    }

    /// A dialogue with the server at `server` (`host:port`, as shown).
    pub fn for_server(server: impl Into<String>) -> Self {
        Dialogue {
            server: server.into(),
            ..Self::default()
        }
    }

    /// Whether a frame came from the server.
    pub fn heard(&self) -> bool {
        self.heard
    }

    /// Whether the user is logged in.
    pub fn logged_in(&self) -> bool {
        self.logged_in
    }

    /// Whether the client is waiting for the server to end the session.
    pub fn leaving(&self) -> bool {
        self.leaving
    }

    /// A frame from the server.
    pub fn frame(&mut self, frame: ServerFrame) -> Vec<Action> {
        self.heard = true;
        let mut out = Vec::new();
        if let ServerFrame::Accepted { .. } = frame {
            // Durable on the server: nothing to show (issue 11).
            return out;
        }
        if self.leaving && !matches!(frame, ServerFrame::Bye { .. }) {
            // Only the goodbye matters now. A message that crossed the
            // logout is neither shown nor acknowledged: the server keeps it
            // for the next login (R17).
            match frame {
                ServerFrame::Message { .. }
                | ServerFrame::Ask { .. }
                | ServerFrame::PrivateQuestion { .. }
                | ServerFrame::PrivateAccepted { .. }
                | ServerFrame::PrivateExpect { .. } => {}
                ServerFrame::Users { users, .. } => out.extend(users.iter().map(name_line)),
                frame => show(&mut out, &frame),
            }
            return out;
        }
        match frame {
            ServerFrame::Ask { prompt } => self.asking = Some(prompt),
            ServerFrame::Welcome { waiting } => self.welcome(waiting, &mut out),
            ServerFrame::Bye { reason } => return self.bye(reason),
            ServerFrame::Message {
                id,
                from,
                text,
                broadcast,
                age,
            } => {
                let style = if broadcast {
                    Style::Broadcast
                } else {
                    Style::Message
                };
                let mut line = Line::new(style, format!("{from}: {text}"));
                if self.away > 0 {
                    // One of those that waited: it says when it was sent.
                    self.away -= 1;
                    line.age = Some(age);
                }
                out.push(Action::Print(line));
                out.push(Action::Known(from));
                // Shown: acknowledged with the rest of the batch (R17, R27).
                self.shown = Some(self.shown.map_or(id, |shown| shown.max(id)));
            }
            ServerFrame::Stored { ref user } => {
                if !self.told_kept.contains(user) {
                    self.told_kept.push(user.clone());
                    show(&mut out, &frame);
                }
            }
            ServerFrame::LoggedIn { ref user } => {
                self.left.retain(|u| u != user);
                self.told_kept.retain(|u| u != user);
                out.push(Action::Known(user.clone()));
                show(&mut out, &frame);
            }
            ServerFrame::LoggedOut { ref user } => {
                show(&mut out, &frame);
                // The end of a private session with them follows.
                self.private.release(&mut out, Some(user));
                if !self.left.contains(user) {
                    self.left.push(user.clone());
                }
            }
            // One line per name (R13); a name never holds a line break, and
            // a message's text is not split, so nobody can forge a line (R29).
            ServerFrame::Users { users, .. } => {
                for user in users {
                    out.push(name_line(&user));
                    out.push(Action::Known(user));
                }
            }
            frame if private::is_private(&frame) => self.private_frame(frame, &mut out),
            frame => show(&mut out, &frame),
        }
        self.read_next(&mut out);
        out
    }

    /// Acknowledges, in one frame, every message shown since the last time:
    /// the server may forget them (acknowledgements are cumulative). Called
    /// once the frames received so far are all handled.
    pub fn acknowledge(&mut self) -> Vec<Action> {
        let shown = self.shown.take();
        shown
            .map(|id| Action::Send(ClientFrame::Received { id }))
            .into_iter()
            .collect()
    }

    /// A line from the server that does not decode, or is too long. As the
    /// first line, it shows that the server is not a natter server.
    pub fn unreadable(&mut self) -> Vec<Action> {
        if !self.heard {
            return self.not_natter();
        }
        vec![Action::Print(Line::new(Style::Error, UNREADABLE))]
    }

    /// No frame came from the server in the time allowed after connecting.
    pub fn silent_server(&mut self) -> Vec<Action> {
        if self.heard {
            return Vec::new();
        }
        self.not_natter()
    }

    fn not_natter(&mut self) -> Vec<Action> {
        let text = Line::new(Style::Error, not_a_server(&self.server));
        self.exit(Outcome::Lost, vec![text], PeerBye::LoggedOut)
    }

    /// A line the user typed (without its line feed), for the read out.
    pub fn line(&mut self, line: &str) -> Vec<Action> {
        let mut out = Vec::new();
        self.read = None;
        if self.leaving {
            return out;
        }
        // What happened comes before the answer to what is typed now.
        self.private.release(&mut out, None);
        if let Some(prompt) = self.asking {
            self.login_line(prompt, line, &mut out);
        } else if self.private.question().is_some() {
            if let Some(leave) = self.answer_question(line, &mut out) {
                return leave;
            }
        } else if self.logged_in
            && !line.trim().is_empty()
            && let Some(leave) = self.command_line(line, &mut out)
        {
            return leave;
        }
        self.read_next(&mut out);
        out
    }

    /// Ctrl-C on an empty line: at the login prompts it leaves; after the
    /// welcome it only says how to leave, as a shell would.
    pub fn interrupt(&mut self) -> Vec<Action> {
        if !self.logged_in {
            return self.end();
        }
        let mut out = vec![Action::Print(Line::new(Style::Notice, HOW_TO_LEAVE))];
        self.read_next(&mut out);
        out
    }

    /// End of input (EOF, Ctrl-D, a termination signal): log out.
    pub fn end(&mut self) -> Vec<Action> {
        self.read = None;
        if self.leaving {
            return Vec::new();
        }
        self.leaving = true;
        self.asking = None;
        self.private.forget_question();
        vec![Action::Send(ClientFrame::Logout {}), Action::Leave]
    }

    /// The server closed the connection, or it broke.
    pub fn closed(&mut self) -> Vec<Action> {
        if self.leaving {
            self.exit(Outcome::Done, Vec::new(), PeerBye::LoggedOut)
        } else {
            let text = Line::new(Style::Error, LOST_CONNECTION);
            self.exit(Outcome::Lost, vec![text], PeerBye::LoggedOut)
        }
    }

    /// The wait after [`Action::Leave`] is over.
    pub fn gave_up_waiting(&mut self) -> Vec<Action> {
        self.exit(Outcome::Done, Vec::new(), PeerBye::LoggedOut)
    }

    /// The time asked for by [`Action::Remind`] is up: held notices wait
    /// no longer.
    pub fn remind(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        self.private.release(&mut out, None);
        out
    }

    /// Ends the client: every private session is told why (R23), then
    /// [`Action::Exit`] with `last`.
    fn exit(&mut self, outcome: Outcome, last: Vec<Line>, why: PeerBye) -> Vec<Action> {
        self.leaving = true;
        self.asking = None;
        let mut out = self.acknowledge();
        self.private.end_all(&mut out, why);
        out.push(Action::Exit(outcome, last));
        out
    }

    /// Asks for the line wanted next, unless that read is out already.
    fn read_next(&mut self, out: &mut Vec<Action>) {
        if self.leaving {
            return;
        }
        let wanted = match (self.asking, self.private.question()) {
            (Some(prompt), _) => login::read(prompt),
            (None, Some(question)) => Read {
                prompt: question.prompt(),
                echo: Echo::Visible,
                ahead: Echo::Command,
            },
            (None, None) if self.logged_in => Read {
                prompt: COMMAND_PROMPT.into(),
                echo: Echo::Command,
                ahead: Echo::Command,
            },
            (None, None) => return,
        };
        if self.read.as_ref() != Some(&wanted) {
            self.read = Some(wanted.clone());
            out.push(Action::Read(wanted));
        }
    }
}

/// How the text of `frame` is shown: its kind of line.
fn style_of(frame: &ServerFrame) -> Style {
    match frame {
        ServerFrame::Welcome { .. } | ServerFrame::Users { .. } => Style::Plain,
        ServerFrame::Message {
            broadcast: true, ..
        } => Style::Broadcast,
        ServerFrame::Message { .. } => Style::Message,
        ServerFrame::WrongPassword {}
        | ServerFrame::AlreadyLoggedIn { .. }
        | ServerFrame::BadUsername { .. }
        | ServerFrame::BadPassword { .. }
        | ServerFrame::UsernameTaken { .. }
        | ServerFrame::UsernameTooLike { .. }
        | ServerFrame::AccountsFull { .. }
        | ServerFrame::AccountNotSaved {}
        | ServerFrame::SignUpClosed {}
        | ServerFrame::TooManySignUps {}
        | ServerFrame::Refused { .. }
        | ServerFrame::Error { .. } => Style::Error,
        ServerFrame::IdleWarning { .. } => Style::Warning,
        ServerFrame::Bye { reason } => match Outcome::of_bye(*reason) {
            Outcome::Done => Style::Notice,
            _ => Style::Error,
        },
        _ => Style::Notice,
    }
}

/// One name of a `whoelse` answer.
fn name_line(user: &Name) -> Action {
    Action::Print(Line::new(Style::Plain, user.as_str()))
}

/// Prints the text of `frame`, unless it has none.
fn show(out: &mut Vec<Action>, frame: &ServerFrame) {
    let text = frame.to_string();
    if !text.is_empty() {
        out.push(Action::Print(Line::new(style_of(frame), text)));
    }
}

/// A notice about private sessions.
fn notice(notice: PrivateNotice<'_>) -> Action {
    let style = match notice {
        PrivateNotice::Message { .. } => Style::Private,
        PrivateNotice::NotEnabled { .. }
        | PrivateNotice::AlreadyEnabled { .. }
        | PrivateNotice::CannotConnect { .. }
        | PrivateNotice::Gone { .. } => Style::Error,
        _ => Style::Notice,
    };
    Action::Print(Line::new(style, notice.to_string()))
}

/// The text for a frame that could not be encoded (it cannot happen for a
/// frame built from checked input, but is never silently dropped).
pub fn too_long() -> Line {
    Line::new(Style::Error, FrameError::TooLong.to_string())
}

/// Whether `refusal` is about a private request to `user`, now void.
fn voids_request(refusal: &Refusal) -> Option<&Name> {
    match refusal {
        Refusal::NoAnswer { user }
        | Refusal::NoLongerOnline { user }
        | Refusal::NoRequest { user } => Some(user),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
