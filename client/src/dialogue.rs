//! What the client does in answer to each event, with no I/O: a small state
//! machine that turns server frames, typed lines and the end of input into
//! [`Action`]s. [`crate::session`] carries the actions out.
//!
//! The server drives the login (R4-R8): a prompt is shown only when it sends
//! [`ServerFrame::Ask`], and the line typed is checked locally with the same
//! rules the server applies before it is sent back. After
//! [`ServerFrame::Welcome`], every typed line is a command
//! ([`natter_core::command::parse`]).
//!
//! Private sessions (R19-R24) are decided here too: which sessions are up,
//! the pending y/n question (the next line typed answers it), what `private`
//! and `stopprivate` send, and the `Bye` every peer gets when the client
//! ends. [`crate::peer`] owns the sockets and reports back as
//! [`PeerReport`]s.

use natter_core::command::{self, Command};
use natter_core::credential::{self, CredentialProblem, Name, Password};
use natter_core::protocol::{
    ByeReason, ClientFrame, FrameError, Host, PeerBye, PeerFrame, Prompt, Secret, ServerFrame,
};
use natter_core::text::PrivateNotice;
use std::time::Duration;

/// Printed when the server closes the connection without a [`ServerFrame::Bye`].
pub const LOST_CONNECTION: &str = "Error. Lost connection to the server";

/// Printed for a line from the server that is not a frame.
pub const UNREADABLE: &str = "Error. Unreadable message from the server";

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
            ByeReason::NowBlocked
            | ByeReason::Blocked
            | ByeReason::LoginTimedOut
            | ByeReason::ServerFull
            | ByeReason::TooManyErrors => Outcome::Refused,
            ByeReason::ShuttingDown => Outcome::Lost,
        }
    }
}

/// How a line is read from the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Echo {
    /// A login answer that may be shown (the username): no history.
    Visible,
    /// A password: hidden on a terminal, no history.
    Hidden,
    /// A command after login: history on; the `> ` prompt only on a terminal.
    Command,
}

/// A request to read one line from the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Read {
    /// Shown before the line, without a line feed.
    pub prompt: String,
    pub echo: Echo,
}

/// The prompt before a command, on a terminal only.
pub const COMMAND_PROMPT: &str = "> ";

/// How long a peer's "logged out" goodbye may wait for the server's
/// presence notice about them (which never comes if they blocked us).
pub const HOLD: Duration = Duration::from_millis(500);

/// Something for [`crate::session`] to do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Print one line (without its line feed).
    Print(String),
    /// Show a prompt for the line already being read (a private messaging
    /// question that came while a command was typed): printed without a
    /// line feed where the prompt is plain text, as a line above the one
    /// being edited on a line editor.
    Prompt(String),
    /// Send a frame to the server.
    Send(ClientFrame),
    /// Read one line from the user; it comes back through [`Dialogue::line`].
    Read(Read),
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
    /// End now, after printing the text if any.
    Exit(Outcome, Option<String>),
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

/// A private messaging request waiting for the user's y or n (R19).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Question {
    /// Who asks.
    user: Name,
    /// The answer typed was neither y nor n: ask again.
    again: bool,
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
    /// A private messaging request: the next line typed answers it.
    question: Option<Question>,
    /// Users with a private session up.
    peers: Vec<Name>,
    /// Sessions ended because the peer logged out or timed out, their
    /// notice held until the server's `<user> logged out` is shown, so the
    /// two always read in that order (S7 step 9); at most [`HOLD`].
    held: Vec<(Name, PeerBye)>,
    /// Users the server said logged out, since they last logged in.
    left: Vec<Name>,
    /// A [`Action::Read`] is out and its line has not come back.
    reading: bool,
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
        match frame {
            ServerFrame::Ask { prompt } => {
                if self.leaving {
                    return out;
                }
                if self.reading {
                    // A command line is being read: its prompt cannot change,
                    // so show the question and take that line as the answer.
                    out.push(Action::Print(prompt.to_string()));
                }
                self.asking = Some(prompt);
            }
            ServerFrame::Bye { reason } => {
                let text = reason.to_string();
                let text = (!text.is_empty()).then_some(text);
                let why = match reason {
                    ByeReason::TimedOut => PeerBye::TimedOut,
                    _ => PeerBye::LoggedOut,
                };
                return self.exit(Outcome::of_bye(reason), text, why);
            }
            ServerFrame::PrivateQuestion { user } => {
                if self.leaving {
                    // The server withdraws it when the logout arrives.
                    return out;
                }
                if let Some(old) = self.question.take() {
                    // The server asks one question at a time; should a
                    // second come, the first is answered no.
                    let user = old.user;
                    out.push(Action::Send(ClientFrame::DeclinePrivate { user }));
                }
                if self.reading {
                    // The line being typed answers it (R19).
                    let question = ServerFrame::PrivateQuestion { user: user.clone() };
                    out.push(Action::Prompt(question.to_string()));
                }
                self.question = Some(Question { user, again: false });
            }
            ServerFrame::PrivateWithdrawn { ref user } => {
                if self.question.as_ref().is_some_and(|q| &q.user == user) {
                    // The next line is a command again.
                    self.question = None;
                }
                print(&mut out, &frame);
            }
            ServerFrame::PrivateAccepted {
                user,
                host,
                port,
                secret,
            } => {
                if self.leaving {
                    return out;
                }
                // "<user> accepts private messaging" once connected.
                match self.me.clone() {
                    Some(from) => out.push(Action::Connect {
                        user,
                        host,
                        port,
                        secret,
                        from,
                    }),
                    None => out.push(notice(PrivateNotice::CannotConnect { user: &user })),
                }
            }
            ServerFrame::PrivateExpect { user, secret } => {
                if !self.leaving {
                    out.push(Action::Expect { user, secret });
                }
            }
            frame => {
                match &frame {
                    ServerFrame::Welcome {} => self.logged_in = true,
                    ServerFrame::LoggedIn { user } => self.left.retain(|u| u != user),
                    // One line per name (R13); a name never holds a line
                    // break, and a message's text is not split, so nobody
                    // can forge a line (R29).
                    ServerFrame::Users { users } => {
                        out.extend(users.iter().map(|user| Action::Print(user.as_str().into())));
                        self.read_next(&mut out);
                        return out;
                    }
                    _ => {}
                }
                if self.leaving && matches!(frame, ServerFrame::Message { .. }) {
                    // Crossed our logout: neither shown nor acknowledged,
                    // so the server keeps it for the next login (R17).
                    return out;
                }
                print(&mut out, &frame);
                if let ServerFrame::LoggedOut { user } = &frame {
                    // The end of a private session with them follows.
                    self.release(&mut out, Some(user));
                    if !self.left.contains(user) {
                        self.left.push(user.clone());
                    }
                }
                if let ServerFrame::Message { id, .. } = frame {
                    // Shown: the server may forget it (R17, R27).
                    out.push(Action::Send(ClientFrame::Received { id }));
                }
            }
        }
        self.read_next(&mut out);
        out
    }

    /// A line from the server that does not decode, or is too long. As the
    /// first line, it shows that the server is not a natter server.
    pub fn unreadable(&mut self) -> Vec<Action> {
        if !self.heard {
            return self.not_natter();
        }
        vec![Action::Print(UNREADABLE.into())]
    }

    /// No frame came from the server in the time allowed after connecting.
    pub fn silent_server(&mut self) -> Vec<Action> {
        if self.heard {
            return Vec::new();
        }
        self.not_natter()
    }

    fn not_natter(&mut self) -> Vec<Action> {
        let text = not_a_server(&self.server);
        self.exit(Outcome::Lost, Some(text), PeerBye::LoggedOut)
    }

    /// A line the user typed (without its line feed).
    pub fn line(&mut self, line: &str) -> Vec<Action> {
        let mut out = Vec::new();
        self.reading = false;
        if self.leaving {
            return out;
        }
        // What happened comes before the answer to what is typed now.
        self.release(&mut out, None);
        if let Some(prompt) = self.asking {
            match answer(prompt, line) {
                Ok(frame) => {
                    if let ClientFrame::Username { name } = &frame {
                        self.me = Some(name.clone());
                    }
                    self.asking = None;
                    out.push(Action::Send(frame));
                }
                // Refused locally, exactly as the server would; ask again.
                Err(refusal) => print(&mut out, &refusal),
            }
        } else if let Some(question) = &mut self.question {
            // The next line typed answers the request (R19).
            match yes_or_no(line) {
                Some(yes) => {
                    let user = question.user.clone();
                    self.question = None;
                    out.push(if yes {
                        Action::Listen { user }
                    } else {
                        Action::Send(ClientFrame::DeclinePrivate { user })
                    });
                }
                None => {
                    question.again = true;
                    // A command typed (or half typed) before the question
                    // showed is carried out, not lost; the question stays.
                    if let Ok(command) = command::parse(line)
                        && let Some(leave) = self.command(command, &mut out)
                    {
                        return leave;
                    }
                }
            }
        } else if self.logged_in && !line.trim().is_empty() {
            match command::parse(line) {
                Ok(command) => {
                    if let Some(leave) = self.command(command, &mut out) {
                        return leave;
                    }
                }
                Err(error) => out.push(Action::Print(error.to_string())),
            }
        }
        self.read_next(&mut out);
        out
    }

    /// Carries out a command typed after login; `Some` when it ends the
    /// session (logout).
    fn command(&mut self, command: Command, out: &mut Vec<Action>) -> Option<Vec<Action>> {
        match command {
            Command::Server(ClientFrame::Logout {}) => return Some(self.end()),
            Command::Server(ClientFrame::StartPrivate { user }) if self.peers.contains(&user) => {
                out.push(notice(PrivateNotice::AlreadyEnabled { user: &user }));
            }
            Command::Server(frame) => out.push(Action::Send(frame)),
            Command::Private { to: user, text } => {
                if self.peers.contains(&user) {
                    let frame = PeerFrame::Message { text };
                    out.push(Action::SendPeer { user, frame });
                    // Activity (R22); the text stays between the peers.
                    out.push(Action::Send(ClientFrame::PrivateActivity {}));
                } else {
                    out.push(self.not_enabled(&user));
                }
            }
            Command::StopPrivate { user } => {
                if self.peers.contains(&user) {
                    self.peers.retain(|p| p != &user);
                    let frame = PeerFrame::Bye {
                        reason: PeerBye::Stopped,
                    };
                    out.push(Action::SendPeer {
                        user: user.clone(),
                        frame,
                    });
                    out.push(Action::ClosePeer { user: user.clone() });
                    out.push(notice(PrivateNotice::Stopped { user: &user }));
                    out.push(Action::Send(ClientFrame::PrivateActivity {}));
                } else {
                    out.push(self.not_enabled(&user));
                }
            }
        }
        None
    }

    /// The answer to the user's y: the port listened on, or `None` if no
    /// listener could be opened (then the request is declined).
    pub fn listening(&mut self, user: Name, port: Option<u16>) -> Vec<Action> {
        if self.leaving {
            return Vec::new();
        }
        vec![Action::Send(match port {
            Some(port) => ClientFrame::AcceptPrivate { user, port },
            None => ClientFrame::DeclinePrivate { user },
        })]
    }

    /// What happened on a private session.
    pub fn peer(&mut self, report: PeerReport) -> Vec<Action> {
        let mut out = Vec::new();
        match report {
            PeerReport::Up { user, initiated } => {
                if !self.peers.contains(&user) {
                    self.peers.push(user.clone());
                }
                if initiated && !self.leaving {
                    out.push(Action::Print(accepted(&user)));
                }
            }
            PeerReport::Failed { user, initiated } => {
                // The accepting side never said the session was up, so it
                // says nothing when nobody came.
                if initiated && !self.leaving {
                    out.push(notice(PrivateNotice::CannotConnect { user: &user }));
                }
            }
            PeerReport::Frame { user, frame } => match frame {
                PeerFrame::Message { text } if self.peers.contains(&user) => {
                    let from = user.as_str();
                    out.push(notice(PrivateNotice::Message { from, text: &text }));
                }
                PeerFrame::Bye { reason } => self.ended(&mut out, user, Some(reason)),
                // Only messages and a goodbye belong in a session.
                PeerFrame::Message { .. } | PeerFrame::Hello { .. } | PeerFrame::Welcome {} => {
                    self.ended(&mut out, user, None);
                }
            },
            PeerReport::Closed { user } => self.ended(&mut out, user, None),
            PeerReport::SendFailed { user } => {
                if self.peers.contains(&user) {
                    self.peers.retain(|p| p != &user);
                    out.push(notice(PrivateNotice::Gone { user: &user }));
                    out.push(Action::ClosePeer { user });
                }
            }
        }
        self.read_next(&mut out);
        out
    }

    /// The session with `user` ended from their side.
    fn ended(&mut self, out: &mut Vec<Action>, user: Name, reason: Option<PeerBye>) {
        if !self.peers.contains(&user) {
            return;
        }
        self.peers.retain(|p| p != &user);
        out.push(Action::ClosePeer { user: user.clone() });
        let logged_out = matches!(reason, Some(PeerBye::LoggedOut | PeerBye::TimedOut));
        if logged_out && !self.left.contains(&user) && !self.leaving {
            // The server's "<user> logged out" is on its way: after it.
            if self.held.is_empty() {
                out.push(Action::Remind(HOLD));
            }
            if let Some(reason) = reason {
                self.held.push((user, reason));
            }
            return;
        }
        out.push(notice(PrivateNotice::Ended {
            user: &user,
            reason,
        }));
    }

    /// Prints the held notices about `user`, or all of them.
    fn release(&mut self, out: &mut Vec<Action>, user: Option<&Name>) {
        let mut i = 0;
        while i < self.held.len() {
            if user.is_none_or(|u| u == &self.held[i].0) {
                let (user, reason) = self.held.remove(i);
                out.push(notice(PrivateNotice::Ended {
                    user: &user,
                    reason: Some(reason),
                }));
            } else {
                i += 1;
            }
        }
    }

    /// The time asked for by [`Action::Remind`] is up: held notices wait
    /// no longer.
    pub fn remind(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        self.release(&mut out, None);
        out
    }

    /// `private` or `stopprivate` without a session (R20, R21).
    fn not_enabled(&self, user: &Name) -> Action {
        notice(PrivateNotice::NotEnabled { user })
    }

    /// End of input (EOF, Ctrl-D, Ctrl-C, a termination signal): log out.
    pub fn end(&mut self) -> Vec<Action> {
        self.reading = false;
        if self.leaving {
            return Vec::new();
        }
        self.leaving = true;
        self.asking = None;
        self.question = None;
        vec![Action::Send(ClientFrame::Logout {}), Action::Leave]
    }

    /// The server closed the connection, or it broke.
    pub fn closed(&mut self) -> Vec<Action> {
        if self.leaving {
            self.exit(Outcome::Done, None, PeerBye::LoggedOut)
        } else {
            let text = Some(LOST_CONNECTION.into());
            self.exit(Outcome::Lost, text, PeerBye::LoggedOut)
        }
    }

    /// The wait after [`Action::Leave`] is over.
    pub fn gave_up_waiting(&mut self) -> Vec<Action> {
        self.exit(Outcome::Done, None, PeerBye::LoggedOut)
    }

    /// Ends the client: every private session is told why (R23), then
    /// [`Action::Exit`].
    fn exit(&mut self, outcome: Outcome, text: Option<String>, why: PeerBye) -> Vec<Action> {
        self.leaving = true;
        self.asking = None;
        self.question = None;
        let mut out = Vec::new();
        self.release(&mut out, None);
        for user in std::mem::take(&mut self.peers) {
            let frame = PeerFrame::Bye { reason: why };
            out.push(Action::SendPeer {
                user: user.clone(),
                frame,
            });
            out.push(Action::ClosePeer { user });
        }
        out.push(Action::Exit(outcome, text));
        out
    }

    /// Asks for the next line if one is wanted and none is being read.
    fn read_next(&mut self, out: &mut Vec<Action>) {
        if self.reading || self.leaving {
            return;
        }
        let read = match (self.asking, &self.question) {
            (Some(prompt), _) => Read {
                prompt: prompt.to_string(),
                echo: match prompt {
                    Prompt::Username => Echo::Visible,
                    Prompt::Password | Prompt::NewPassword => Echo::Hidden,
                },
            },
            (None, Some(question)) => Read {
                prompt: if question.again {
                    PrivateNotice::AskAgain.to_string()
                } else {
                    let user = question.user.clone();
                    ServerFrame::PrivateQuestion { user }.to_string()
                },
                echo: Echo::Visible,
            },
            (None, None) if self.logged_in => Read {
                prompt: COMMAND_PROMPT.into(),
                echo: Echo::Command,
            },
            (None, None) => return,
        };
        self.reading = true;
        out.push(Action::Read(read));
    }
}

/// `y`, `yes`, `n` or `no`, in any case; anything else is no answer.
fn yes_or_no(line: &str) -> Option<bool> {
    match line.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Some(true),
        "n" | "no" => Some(false),
        _ => None,
    }
}

/// `<user> accepts private messaging`: the text of
/// [`ServerFrame::PrivateAccepted`], shown once the session is up.
fn accepted(user: &Name) -> String {
    ServerFrame::PrivateAccepted {
        user: user.clone(),
        host: Host::new(),
        port: 0,
        secret: Secret::new(),
    }
    .to_string()
}

fn notice(notice: PrivateNotice<'_>) -> Action {
    Action::Print(notice.to_string())
}

/// Prints the text of `frame`, unless it has none.
fn print(out: &mut Vec<Action>, frame: &ServerFrame) {
    let text = frame.to_string();
    if !text.is_empty() {
        out.push(Action::Print(text));
    }
}

/// The frame that answers `prompt` with `line`, or the frame the server
/// would send back to refuse it.
pub fn answer(prompt: Prompt, line: &str) -> Result<ClientFrame, ServerFrame> {
    match prompt {
        Prompt::Username => credential::to_name(line)
            .map(|name| ClientFrame::Username { name })
            .map_err(|problem| ServerFrame::BadUsername { problem }),
        // Whatever was typed for an existing account goes to the server,
        // which answers a wrong one (R5); it only has to fit the frame.
        Prompt::Password => Password::try_from(line)
            .map(|password| ClientFrame::Password { password })
            .map_err(|_| ServerFrame::BadPassword {
                problem: CredentialProblem::TooLong,
            }),
        Prompt::NewPassword => credential::to_password(line)
            .map(|password| ClientFrame::Password { password })
            .map_err(|problem| ServerFrame::BadPassword { problem }),
    }
}

/// The text for a frame that could not be encoded (it cannot happen for a
/// frame built from checked input, but is never silently dropped).
pub fn too_long() -> String {
    FrameError::TooLong.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use natter_core::credential::Name;

    fn ask(prompt: Prompt) -> ServerFrame {
        ServerFrame::Ask { prompt }
    }

    fn read(prompt: &str, echo: Echo) -> Action {
        Action::Read(Read {
            prompt: prompt.into(),
            echo,
        })
    }

    fn print(text: &str) -> Action {
        Action::Print(text.into())
    }

    fn name(s: &str) -> Name {
        Name::try_from(s).unwrap()
    }

    fn password(s: &str) -> Password {
        Password::try_from(s).unwrap()
    }

    fn logged_in() -> Dialogue {
        let mut d = Dialogue::new();
        d.frame(ServerFrame::Welcome {});
        d
    }

    #[test]
    fn a_message_is_shown_then_acknowledged() {
        let mut d = logged_in();
        let frame = ServerFrame::Message {
            id: 42,
            from: name("hans"),
            text: natter_core::protocol::Text::try_from("Hey Dude").unwrap(),
        };
        let actions = d.frame(frame);
        assert_eq!(
            actions[..2],
            [
                print("hans: Hey Dude"),
                Action::Send(ClientFrame::Received { id: 42 })
            ]
        );
    }

    #[test]
    fn a_message_that_crosses_the_logout_is_left_for_the_next_login() {
        let mut d = logged_in();
        assert_eq!(
            d.line("logout"),
            [Action::Send(ClientFrame::Logout {}), Action::Leave]
        );
        let frame = ServerFrame::Message {
            id: 3,
            from: name("hans"),
            text: natter_core::protocol::Text::try_from("race").unwrap(),
        };
        assert_eq!(d.frame(frame), []);
        // And the end of input that follows sends no second logout.
        assert_eq!(d.end(), []);
    }

    #[test]
    fn a_user_list_is_one_name_per_line() {
        let mut d = logged_in();
        let users = [name("yoda"), name("luke")].into_iter().collect();
        let actions = d.frame(ServerFrame::Users { users });
        assert_eq!(actions[..2], [print("yoda"), print("luke")]);
    }

    #[test]
    fn exit_codes() {
        use ByeReason::*;
        let cases = [
            (LoggedOut, 0),
            (TimedOut, 0),
            (NowBlocked, 1),
            (Blocked, 1),
            (LoginTimedOut, 1),
            (ServerFull, 1),
            (TooManyErrors, 1),
            (ShuttingDown, 3),
        ];
        for (reason, code) in cases {
            assert_eq!(Outcome::of_bye(reason).code(), code, "{reason:?}");
        }
        assert_eq!(Outcome::CannotConnect.code(), 2);
        assert_eq!(Outcome::Lost.code(), 3);
    }

    #[test]
    fn l1_successful_login() {
        let mut d = Dialogue::new();
        assert_eq!(
            d.frame(ask(Prompt::Username)),
            [read("Username: ", Echo::Visible)]
        );
        assert_eq!(
            d.line("yoda"),
            [Action::Send(ClientFrame::Username { name: name("yoda") })]
        );
        assert_eq!(
            d.frame(ask(Prompt::Password)),
            [read("Password: ", Echo::Hidden)]
        );
        assert_eq!(
            d.line("wise@!man"),
            [Action::Send(ClientFrame::Password {
                password: password("wise@!man")
            })]
        );
        assert!(!d.logged_in());
        assert_eq!(
            d.frame(ServerFrame::Welcome {}),
            [
                print("Welcome to the greatest messaging application ever!"),
                read("> ", Echo::Command)
            ]
        );
        assert!(d.logged_in());
    }

    #[test]
    fn l2_wrong_password_prints_and_waits_for_the_server_to_ask_again() {
        let mut d = Dialogue::new();
        d.frame(ask(Prompt::Password));
        d.line("weird");
        assert_eq!(
            d.frame(ServerFrame::WrongPassword {}),
            [print("Invalid Password. Please try again")]
        );
        assert_eq!(
            d.frame(ask(Prompt::Password)),
            [read("Password: ", Echo::Hidden)]
        );
        d.line("password");
        assert_eq!(
            d.frame(ServerFrame::Bye {
                reason: ByeReason::NowBlocked
            }),
            [Action::Exit(
                Outcome::Refused,
                Some(
                    "Invalid Password. Your account has been blocked. Please try again later"
                        .into()
                )
            )]
        );
    }

    #[test]
    fn l5_new_account_prompt() {
        let mut d = Dialogue::new();
        d.frame(ask(Prompt::Username));
        d.line("jaba");
        assert_eq!(
            d.frame(ask(Prompt::NewPassword)),
            [read("This is a new user. Enter a password: ", Echo::Hidden)]
        );
        assert_eq!(
            d.line("longtongue"),
            [Action::Send(ClientFrame::Password {
                password: password("longtongue")
            })]
        );
    }

    #[test]
    fn bad_usernames_are_refused_locally_with_the_servers_words() {
        let mut d = Dialogue::new();
        d.frame(ask(Prompt::Username));
        assert_eq!(
            d.line("yo da"),
            [
                print("Error. Username cannot contain spaces"),
                read("Username: ", Echo::Visible)
            ]
        );
        assert_eq!(
            d.line(""),
            [
                print("Error. Username cannot be empty"),
                read("Username: ", Echo::Visible)
            ]
        );
        assert_eq!(
            d.line(&"a".repeat(33)),
            [
                print("Error. Username is too long (at most 32 characters)"),
                read("Username: ", Echo::Visible)
            ]
        );
        assert_eq!(
            d.line("yoda"),
            [Action::Send(ClientFrame::Username { name: name("yoda") })]
        );
    }

    #[test]
    fn new_passwords_are_checked_existing_ones_only_sized() {
        let mut d = Dialogue::new();
        d.frame(ask(Prompt::NewPassword));
        assert_eq!(
            d.line(""),
            [
                print("Error. Password cannot be empty"),
                read("This is a new user. Enter a password: ", Echo::Hidden)
            ]
        );
        assert_eq!(
            d.line("two words").first(),
            Some(&print("Error. Password cannot contain spaces"))
        );

        // An existing account's password goes as typed; the server judges it.
        let mut d = Dialogue::new();
        d.frame(ask(Prompt::Password));
        assert_eq!(
            d.line("not checked here"),
            [Action::Send(ClientFrame::Password {
                password: password("not checked here")
            })]
        );
        d.frame(ask(Prompt::Password));
        assert_eq!(
            d.line(&"a".repeat(65)),
            [
                print("Error. Password is too long (at most 64 characters)"),
                read("Password: ", Echo::Hidden)
            ]
        );
    }

    #[test]
    fn nothing_is_read_before_the_server_asks() {
        let mut d = Dialogue::new();
        assert_eq!(
            d.frame(ServerFrame::AlreadyLoggedIn { user: name("yoda") }),
            [print("Error. yoda is already logged in")]
        );
        assert_eq!(d.line("stray"), []);
    }

    #[test]
    fn commands_after_login() {
        let mut d = logged_in();
        assert_eq!(
            d.line("whatsthetime"),
            [print("Error. Invalid command"), read("> ", Echo::Command)]
        );
        assert_eq!(d.line("   "), [read("> ", Echo::Command)]);
        // No prompt after logout: only the server's goodbye matters now.
        assert_eq!(
            d.line("logout"),
            [Action::Send(ClientFrame::Logout {}), Action::Leave]
        );
        assert_eq!(
            d.frame(ServerFrame::Bye {
                reason: ByeReason::LoggedOut
            }),
            [Action::Exit(Outcome::Done, None)]
        );
    }

    #[test]
    fn notices_while_a_command_is_typed_do_not_start_another_read() {
        let mut d = logged_in();
        assert_eq!(
            d.frame(ServerFrame::LoggedIn { user: name("luke") }),
            [print("luke logged in")]
        );
        assert_eq!(
            d.frame(ServerFrame::Bye {
                reason: ByeReason::TimedOut
            }),
            [Action::Exit(
                Outcome::Done,
                Some("You have been logged out due to inactivity".into())
            )]
        );
    }

    #[test]
    fn end_of_input_logs_out_once() {
        let mut d = Dialogue::new();
        d.frame(ask(Prompt::Username));
        assert_eq!(
            d.end(),
            [Action::Send(ClientFrame::Logout {}), Action::Leave]
        );
        assert!(d.leaving());
        assert_eq!(d.end(), []);
        assert_eq!(d.frame(ask(Prompt::Username)), []);
        assert_eq!(d.closed(), [Action::Exit(Outcome::Done, None)]);
        assert_eq!(d.gave_up_waiting(), [Action::Exit(Outcome::Done, None)]);
    }

    #[test]
    fn a_closed_connection_is_lost_unless_leaving() {
        let mut d = logged_in();
        assert_eq!(
            d.closed(),
            [Action::Exit(
                Outcome::Lost,
                Some("Error. Lost connection to the server".into())
            )]
        );
    }

    #[test]
    fn unreadable_lines_are_reported() {
        let mut d = logged_in();
        assert_eq!(
            d.unreadable(),
            [print("Error. Unreadable message from the server")]
        );
    }

    #[test]
    fn a_question_during_a_command_line_is_answered_by_that_line() {
        let mut d = logged_in();
        assert_eq!(d.frame(ask(Prompt::Username)), [print("Username: ")]);
        assert_eq!(
            d.line("luke"),
            [
                Action::Send(ClientFrame::Username { name: name("luke") }),
                read("> ", Echo::Command)
            ]
        );
    }

    #[test]
    fn server_errors_print_their_text() {
        let mut d = logged_in();
        assert_eq!(
            d.frame(ServerFrame::Error {
                error: FrameError::Unexpected
            }),
            [print("Error. Unexpected request")]
        );
        assert_eq!(too_long(), "Error. Request too long");
    }

    // Private sessions (R19-R24).

    fn text(s: &str) -> natter_core::protocol::Text {
        natter_core::protocol::Text::try_from(s).unwrap()
    }

    fn secret(s: &str) -> Secret {
        Secret::try_from(s).unwrap()
    }

    /// hans, logged in, with a command being read.
    fn hans() -> Dialogue {
        let mut d = Dialogue::for_server("127.0.0.1:4000");
        d.frame(ask(Prompt::Username));
        d.line("hans");
        d.frame(ask(Prompt::Password));
        d.line("falcon*solo");
        d.frame(ServerFrame::Welcome {});
        d
    }

    /// `d` with a private session up with `user`.
    fn with_session(mut d: Dialogue, user: &str) -> Dialogue {
        d.peer(PeerReport::Up {
            user: name(user),
            initiated: false,
        });
        d
    }

    fn question(user: &str) -> ServerFrame {
        ServerFrame::PrivateQuestion { user: name(user) }
    }

    const QUESTION: &str = "hans would like to private message, enter y or n: ";

    fn activity() -> Action {
        Action::Send(ClientFrame::PrivateActivity {})
    }

    #[test]
    fn s7_step1_private_without_a_session_is_not_enabled_and_not_activity() {
        let mut d = hans();
        for line in ["private luke hey dude", "stopprivate luke"] {
            assert_eq!(
                d.line(line),
                [
                    print("Error. Private messaging to luke not enabled"),
                    read("> ", Echo::Command)
                ]
            );
        }
    }

    #[test]
    fn s7_step2_startprivate_goes_to_the_server_unless_a_session_is_up() {
        let mut d = hans();
        assert_eq!(
            d.line("startprivate luke"),
            [
                Action::Send(ClientFrame::StartPrivate { user: name("luke") }),
                read("> ", Echo::Command)
            ]
        );
        assert_eq!(
            d.frame(ServerFrame::PrivateAsked { user: name("luke") }),
            [print("Start private messaging with luke")]
        );
        let mut d = with_session(d, "luke");
        assert_eq!(
            d.line("startprivate luke"),
            [
                print("Error. Private messaging with luke is already enabled"),
                read("> ", Echo::Command)
            ]
        );
    }

    #[test]
    fn s7_step3_y_listens_then_accepts_with_the_port() {
        let mut luke = logged_in();
        // The question comes while a command is being read: that line answers.
        assert_eq!(
            luke.frame(question("hans")),
            [Action::Prompt(QUESTION.into())]
        );
        assert_eq!(
            luke.line("y"),
            [
                Action::Listen { user: name("hans") },
                read("> ", Echo::Command)
            ]
        );
        assert_eq!(
            luke.listening(name("hans"), Some(40123)),
            [Action::Send(ClientFrame::AcceptPrivate {
                user: name("hans"),
                port: 40123
            })]
        );
        // The server's secret goes to the listener; nothing is printed.
        assert_eq!(
            luke.frame(ServerFrame::PrivateExpect {
                user: name("hans"),
                secret: secret("c0ffee")
            }),
            [Action::Expect {
                user: name("hans"),
                secret: secret("c0ffee")
            }]
        );
        // Admitted: nothing printed on this side (S7).
        assert_eq!(
            luke.peer(PeerReport::Up {
                user: name("hans"),
                initiated: false
            }),
            []
        );
        assert_eq!(
            luke.line("private hans hello man"),
            [
                Action::SendPeer {
                    user: name("hans"),
                    frame: PeerFrame::Message {
                        text: text("hello man")
                    }
                },
                activity(),
                read("> ", Echo::Command)
            ]
        );
    }

    #[test]
    fn yes_and_no_in_any_case_anything_else_asks_again() {
        for yes in ["y", "Y", "yes", " YES "] {
            let mut d = logged_in();
            d.frame(question("hans"));
            assert_eq!(
                d.line(yes)[0],
                Action::Listen { user: name("hans") },
                "{yes:?}"
            );
        }
        for no in ["n", "N", "no", "No"] {
            let mut d = logged_in();
            d.frame(question("hans"));
            assert_eq!(
                d.line(no)[0],
                Action::Send(ClientFrame::DeclinePrivate { user: name("hans") }),
                "{no:?}"
            );
        }
        let mut d = logged_in();
        d.frame(question("hans"));
        for other in ["", "maybe", "whoelsewhat"] {
            assert_eq!(
                d.line(other),
                [read("Please enter y or n: ", Echo::Visible)],
                "{other:?}"
            );
        }
        // A command typed while the question is open is carried out, not
        // lost, and the question is asked again.
        assert_eq!(
            d.line("whoelse"),
            [
                Action::Send(ClientFrame::WhoElse {}),
                read("Please enter y or n: ", Echo::Visible)
            ]
        );
        assert_eq!(
            d.line("n"),
            [
                Action::Send(ClientFrame::DeclinePrivate { user: name("hans") }),
                read("> ", Echo::Command)
            ]
        );
    }

    #[test]
    fn a_question_with_no_line_being_read_is_the_next_prompt() {
        let mut d = logged_in();
        // Rare: a read is out almost always after login.
        d.reading = false;
        assert_eq!(d.frame(question("hans")), [read(QUESTION, Echo::Visible)]);
    }

    #[test]
    fn no_listener_declines() {
        let mut d = logged_in();
        d.frame(question("hans"));
        d.line("y");
        assert_eq!(
            d.listening(name("hans"), None),
            [Action::Send(ClientFrame::DeclinePrivate {
                user: name("hans")
            })]
        );
    }

    #[test]
    fn a_withdrawn_question_is_forgotten_and_the_next_line_is_a_command() {
        let mut d = logged_in();
        d.frame(question("hans"));
        assert_eq!(
            d.frame(ServerFrame::PrivateWithdrawn { user: name("hans") }),
            [print("hans withdrew the private messaging request")]
        );
        assert_eq!(
            d.line("y"),
            [print("Error. Invalid command"), read("> ", Echo::Command)]
        );
    }

    #[test]
    fn s7_step4_accepted_connects_as_me_and_says_so_once_up() {
        let mut d = hans();
        let accepted = ServerFrame::PrivateAccepted {
            user: name("luke"),
            host: Host::try_from("127.0.0.1").unwrap(),
            port: 40123,
            secret: secret("c0ffee"),
        };
        assert_eq!(
            d.frame(accepted),
            [Action::Connect {
                user: name("luke"),
                host: Host::try_from("127.0.0.1").unwrap(),
                port: 40123,
                secret: secret("c0ffee"),
                from: name("hans"),
            }]
        );
        assert_eq!(
            d.peer(PeerReport::Up {
                user: name("luke"),
                initiated: true
            }),
            [print("luke accepts private messaging")]
        );
        // S7 steps 5 and 6.
        assert_eq!(
            d.line("private luke hey dude")[..2],
            [
                Action::SendPeer {
                    user: name("luke"),
                    frame: PeerFrame::Message {
                        text: text("hey dude")
                    }
                },
                activity()
            ]
        );
        assert_eq!(
            d.peer(PeerReport::Frame {
                user: name("luke"),
                frame: PeerFrame::Message {
                    text: text("hello man")
                }
            }),
            [print("luke(private): hello man")]
        );
    }

    #[test]
    fn a_failed_connection_or_a_decline_is_reported() {
        let mut d = hans();
        assert_eq!(
            d.peer(PeerReport::Failed {
                user: name("luke"),
                initiated: true
            }),
            [print(
                "Error. Could not connect to luke for private messaging"
            )]
        );
        // The accepting side never said anything, so it says nothing now.
        assert_eq!(
            d.peer(PeerReport::Failed {
                user: name("yoda"),
                initiated: false
            }),
            []
        );
        assert_eq!(
            d.frame(ServerFrame::PrivateDeclined { user: name("luke") }),
            [print("luke declines private messaging")]
        );
        assert_eq!(
            d.line("private luke hi"),
            [
                print("Error. Private messaging to luke not enabled"),
                read("> ", Echo::Command)
            ]
        );
    }

    #[test]
    fn stopprivate_says_bye_closes_and_is_activity() {
        let mut d = with_session(hans(), "luke");
        assert_eq!(
            d.line("stopprivate luke"),
            [
                Action::SendPeer {
                    user: name("luke"),
                    frame: PeerFrame::Bye {
                        reason: PeerBye::Stopped
                    }
                },
                Action::ClosePeer { user: name("luke") },
                print("Stopped private messaging with luke"),
                activity(),
                read("> ", Echo::Command)
            ]
        );
        assert_eq!(
            d.line("private luke hi")[0],
            print("Error. Private messaging to luke not enabled")
        );
    }

    #[test]
    fn the_other_side_stopping_or_vanishing_ends_the_session() {
        let mut d = with_session(hans(), "luke");
        assert_eq!(
            d.peer(PeerReport::Frame {
                user: name("luke"),
                frame: PeerFrame::Bye {
                    reason: PeerBye::Stopped
                }
            }),
            [
                Action::ClosePeer { user: name("luke") },
                print("luke stopped private messaging")
            ]
        );
        assert_eq!(
            d.line("private luke hi")[0],
            print("Error. Private messaging to luke not enabled")
        );

        let mut d = with_session(d, "luke");
        assert_eq!(
            d.peer(PeerReport::Closed { user: name("luke") }),
            [
                Action::ClosePeer { user: name("luke") },
                print("Private messaging with luke ended: the connection was lost")
            ]
        );
        // Reported once; later news of that session is stale.
        assert_eq!(d.peer(PeerReport::Closed { user: name("luke") }), []);
        assert_eq!(
            d.line("private luke hi")[0],
            print("Error. Private messaging to luke not enabled")
        );
    }

    fn peer_bye(user: &str, reason: PeerBye) -> PeerReport {
        PeerReport::Frame {
            user: name(user),
            frame: PeerFrame::Bye { reason },
        }
    }

    #[test]
    fn s7_step9_a_peer_that_logged_out_is_reported_after_the_servers_notice() {
        // The peer's goodbye came first: held until the server's notice.
        let mut d = with_session(hans(), "luke");
        assert_eq!(
            d.peer(peer_bye("luke", PeerBye::LoggedOut)),
            [
                Action::ClosePeer { user: name("luke") },
                Action::Remind(HOLD)
            ]
        );
        assert_eq!(
            d.frame(ServerFrame::LoggedOut { user: name("luke") }),
            [
                print("luke logged out"),
                print("Private messaging with luke ended: luke logged out")
            ]
        );
        assert_eq!(d.remind(), []);
        assert_eq!(
            d.line("private luke hi")[0],
            print("Error. Private messaging to luke not enabled")
        );

        // The server's notice came first: shown at once.
        let mut d = with_session(hans(), "luke");
        d.frame(ServerFrame::LoggedOut { user: name("luke") });
        assert_eq!(
            d.peer(peer_bye("luke", PeerBye::TimedOut)),
            [
                Action::ClosePeer { user: name("luke") },
                print("Private messaging with luke ended: luke was logged out due to inactivity")
            ]
        );
    }

    #[test]
    fn a_held_notice_waits_no_longer_than_asked_nor_past_a_typed_line() {
        // No presence notice comes (luke blocked hans): the reminder shows it.
        let mut d = with_session(hans(), "luke");
        d.peer(peer_bye("luke", PeerBye::LoggedOut));
        assert_eq!(
            d.remind(),
            [print("Private messaging with luke ended: luke logged out")]
        );
        assert_eq!(d.remind(), []);

        let mut d = with_session(hans(), "luke");
        d.peer(peer_bye("luke", PeerBye::LoggedOut));
        assert_eq!(
            d.line("private luke hi")[..2],
            [
                print("Private messaging with luke ended: luke logged out"),
                print("Error. Private messaging to luke not enabled")
            ]
        );

        // And before the client ends.
        let mut d = with_session(with_session(hans(), "luke"), "yoda");
        d.peer(peer_bye("luke", PeerBye::LoggedOut));
        assert_eq!(
            d.closed()[0],
            print("Private messaging with luke ended: luke logged out")
        );
    }

    #[test]
    fn a_failed_send_is_gone() {
        let mut d = with_session(hans(), "luke");
        assert_eq!(
            d.peer(PeerReport::SendFailed { user: name("luke") }),
            [
                print("Error. luke is no longer online"),
                Action::ClosePeer { user: name("luke") }
            ]
        );
        assert_eq!(
            d.line("private luke hi")[0],
            print("Error. Private messaging to luke not enabled")
        );
    }

    #[test]
    fn anything_but_messages_and_bye_ends_a_session() {
        let mut d = with_session(hans(), "luke");
        assert_eq!(
            d.peer(PeerReport::Frame {
                user: name("luke"),
                frame: PeerFrame::Welcome {}
            }),
            [
                Action::ClosePeer { user: name("luke") },
                print("Private messaging with luke ended: the connection was lost")
            ]
        );
    }

    #[test]
    fn peer_text_is_printed_as_sent_for_the_terminal_to_neutralise() {
        let mut d = with_session(hans(), "luke");
        assert_eq!(
            d.peer(PeerReport::Frame {
                user: name("luke"),
                frame: PeerFrame::Message {
                    text: text("\u{1b}[2Jhi")
                }
            }),
            [print("luke(private): \u{1b}[2Jhi")]
        );
    }

    #[test]
    fn s7_step9_logout_says_bye_to_every_peer_before_exiting() {
        let mut d = with_session(with_session(hans(), "luke"), "yoda");
        assert_eq!(
            d.line("logout"),
            [Action::Send(ClientFrame::Logout {}), Action::Leave]
        );
        let bye = |user: &str| Action::SendPeer {
            user: name(user),
            frame: PeerFrame::Bye {
                reason: PeerBye::LoggedOut,
            },
        };
        assert_eq!(
            d.frame(ServerFrame::Bye {
                reason: ByeReason::LoggedOut
            }),
            [
                bye("luke"),
                Action::ClosePeer { user: name("luke") },
                bye("yoda"),
                Action::ClosePeer { user: name("yoda") },
                Action::Exit(Outcome::Done, None)
            ]
        );
    }

    #[test]
    fn a_timeout_tells_peers_so_and_a_lost_server_says_logged_out() {
        let mut d = with_session(hans(), "luke");
        assert_eq!(
            d.frame(ServerFrame::Bye {
                reason: ByeReason::TimedOut
            })[0],
            Action::SendPeer {
                user: name("luke"),
                frame: PeerFrame::Bye {
                    reason: PeerBye::TimedOut
                }
            }
        );
        let mut d = with_session(hans(), "luke");
        let actions = d.closed();
        assert_eq!(
            actions[0],
            Action::SendPeer {
                user: name("luke"),
                frame: PeerFrame::Bye {
                    reason: PeerBye::LoggedOut
                }
            }
        );
        assert!(matches!(actions[2], Action::Exit(Outcome::Lost, _)));
        // End of input, then no answer from the server.
        let mut d = with_session(hans(), "luke");
        d.end();
        assert_eq!(d.gave_up_waiting().len(), 3);
    }

    #[test]
    fn private_sessions_do_not_depend_on_the_server() {
        // R20: a block placed later, and server commands, change nothing.
        let mut d = with_session(hans(), "luke");
        assert_eq!(
            d.line("message yoda force is strong")[0],
            Action::Send(ClientFrame::Message {
                to: name("yoda"),
                text: text("force is strong")
            })
        );
        d.frame(ServerFrame::UserBlocked { user: name("luke") });
        assert!(matches!(
            d.line("private luke still here")[0],
            Action::SendPeer { .. }
        ));
    }

    #[test]
    fn a_server_that_does_not_speak_natter() {
        let mut d = Dialogue::for_server("127.0.0.1:80");
        assert_eq!(
            d.unreadable(),
            [Action::Exit(
                Outcome::Lost,
                Some("Error. 127.0.0.1:80 is not a natter server".into())
            )]
        );
        let mut d = Dialogue::for_server("127.0.0.1:80");
        assert_eq!(
            d.silent_server(),
            [Action::Exit(
                Outcome::Lost,
                Some("Error. 127.0.0.1:80 is not a natter server".into())
            )]
        );
        // Once it spoke, a bad line is only reported, and silence is fine.
        let mut d = Dialogue::for_server("127.0.0.1:4000");
        d.frame(ask(Prompt::Username));
        assert_eq!(d.silent_server(), []);
        assert_eq!(
            d.unreadable(),
            [print("Error. Unreadable message from the server")]
        );
    }
}
