//! What the client does in answer to each event, with no I/O: a small state
//! machine that turns server frames, typed lines and the end of input into
//! [`Action`]s. [`crate::session`] carries the actions out.
//!
//! The server drives the login (R4-R8): a prompt is shown only when it sends
//! [`ServerFrame::Ask`], and the line typed is checked locally with the same
//! rules the server applies before it is sent back. After
//! [`ServerFrame::Welcome`], every typed line is a command
//! ([`natter_core::command::parse`]).

use natter_core::command::{self, Command};
use natter_core::credential::{self, CredentialProblem, Password};
use natter_core::protocol::{ByeReason, ClientFrame, FrameError, Prompt, ServerFrame};
use natter_core::text::PrivateNotice;

/// Printed when the server closes the connection without a [`ServerFrame::Bye`].
pub const LOST_CONNECTION: &str = "Error. Lost connection to the server";

/// Printed for a line from the server that is not a frame.
pub const UNREADABLE: &str = "Error. Unreadable message from the server";

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
    /// The connection broke, or the server is shutting down.
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

/// Something for [`crate::session`] to do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Print one line (without its line feed).
    Print(String),
    /// Send a frame to the server.
    Send(ClientFrame),
    /// Read one line from the user; it comes back through [`Dialogue::line`].
    Read(Read),
    /// Logout was sent at the end of input: wait a little for the server's
    /// `Bye` or for it to close, then end with [`Outcome::Done`].
    Leave,
    /// End now, after printing the text if any.
    Exit(Outcome, Option<String>),
}

/// The client's side of the conversation with the server.
#[derive(Debug, Default)]
pub struct Dialogue {
    /// The server asked for this and the user has not answered yet.
    asking: Option<Prompt>,
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
                out.push(Action::Exit(Outcome::of_bye(reason), text));
                return out;
            }
            frame => {
                match &frame {
                    ServerFrame::Welcome {} => self.logged_in = true,
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
                if let ServerFrame::Message { id, .. } = frame {
                    // Shown: the server may forget it (R17, R27).
                    out.push(Action::Send(ClientFrame::Received { id }));
                }
            }
        }
        self.read_next(&mut out);
        out
    }

    /// A line from the server that does not decode, or is too long.
    pub fn unreadable(&mut self) -> Vec<Action> {
        vec![Action::Print(UNREADABLE.into())]
    }

    /// A line the user typed (without its line feed).
    pub fn line(&mut self, line: &str) -> Vec<Action> {
        let mut out = Vec::new();
        self.reading = false;
        if self.leaving {
            return out;
        }
        if let Some(prompt) = self.asking {
            match answer(prompt, line) {
                Ok(frame) => {
                    self.asking = None;
                    out.push(Action::Send(frame));
                }
                // Refused locally, exactly as the server would; ask again.
                Err(refusal) => print(&mut out, &refusal),
            }
        } else if self.logged_in && !line.trim().is_empty() {
            match command::parse(line) {
                Ok(Command::Server(ClientFrame::Logout {})) => return self.end(),
                Ok(Command::Server(frame)) => out.push(Action::Send(frame)),
                Ok(Command::Private { to: user, .. } | Command::StopPrivate { user }) => {
                    let notice = PrivateNotice::NotEnabled { user: &user };
                    out.push(Action::Print(notice.to_string()));
                }
                Err(error) => out.push(Action::Print(error.to_string())),
            }
        }
        self.read_next(&mut out);
        out
    }

    /// End of input (EOF, Ctrl-D, Ctrl-C, a termination signal): log out.
    pub fn end(&mut self) -> Vec<Action> {
        self.reading = false;
        if self.leaving {
            return Vec::new();
        }
        self.leaving = true;
        self.asking = None;
        vec![Action::Send(ClientFrame::Logout {}), Action::Leave]
    }

    /// The server closed the connection, or it broke.
    pub fn closed(&mut self) -> Vec<Action> {
        if self.leaving {
            vec![Action::Exit(Outcome::Done, None)]
        } else {
            vec![Action::Exit(Outcome::Lost, Some(LOST_CONNECTION.into()))]
        }
    }

    /// The wait after [`Action::Leave`] is over.
    pub fn gave_up_waiting(&mut self) -> Vec<Action> {
        vec![Action::Exit(Outcome::Done, None)]
    }

    /// Asks for the next line if one is wanted and none is being read.
    fn read_next(&mut self, out: &mut Vec<Action>) {
        if self.reading || self.leaving {
            return;
        }
        let read = match self.asking {
            Some(prompt) => Read {
                prompt: prompt.to_string(),
                echo: match prompt {
                    Prompt::Username => Echo::Visible,
                    Prompt::Password | Prompt::NewPassword => Echo::Hidden,
                },
            },
            None if self.logged_in => Read {
                prompt: COMMAND_PROMPT.into(),
                echo: Echo::Command,
            },
            None => return,
        };
        self.reading = true;
        out.push(Action::Read(read));
    }
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
}
