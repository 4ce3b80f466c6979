//! Logging in (R4-R8): the server asks, the client reads and answers. A
//! line that the server would refuse is refused here with the server's
//! words, and the prompt repeats. Then the welcome (with the messages that
//! waited, R17) and, in the end, the goodbye.

use natter_core::credential::{self, CredentialProblem, Password};
use natter_core::protocol::{ByeReason, ClientFrame, PeerBye, Prompt, ServerFrame};
use natter_core::text::{WELCOME, WhileAway};

use super::{Action, Dialogue, Echo, Outcome, Read, show, style_of};
use crate::display::{Line, Style};

/// The read for the server's `prompt`.
pub(super) fn read(prompt: Prompt) -> Read {
    match prompt {
        Prompt::Username => Read {
            prompt: prompt.to_string(),
            echo: Echo::Visible,
            // What is typed after a username is its password.
            ahead: Echo::Hidden,
        },
        Prompt::Password | Prompt::NewPassword => Read {
            prompt: prompt.to_string(),
            echo: Echo::Hidden,
            // What is pasted after a password is most likely commands; a
            // second password typed ahead is hidden anyway if the server
            // asks for one (the read that takes it is hidden).
            ahead: Echo::Command,
        },
    }
}

impl Dialogue {
    /// `line` answers the server's `prompt`.
    pub(super) fn login_line(&mut self, prompt: Prompt, line: &str, out: &mut Vec<Action>) {
        match answer(prompt, line) {
            Ok(frame) => {
                if let ClientFrame::Username { name } = &frame {
                    self.me = Some(name.clone());
                }
                self.asking = None;
                out.push(Action::Send(frame));
            }
            // Refused locally, exactly as the server would; ask again.
            Err(refusal) => show(out, &refusal),
        }
    }

    /// Logged in (R5, R6); `waiting` messages kept for the user follow.
    pub(super) fn welcome(&mut self, waiting: u32, out: &mut Vec<Action>) {
        self.logged_in = true;
        out.push(Action::Print(Line::new(Style::Plain, WELCOME)));
        if waiting > 0 {
            let header = WhileAway(waiting).to_string();
            out.push(Action::Print(Line::new(Style::Notice, header)));
            self.away = waiting;
        }
    }

    /// The server ends the session: its reason, and for a block (R8) when
    /// to try again, are the last lines.
    pub(super) fn bye(&mut self, reason: ByeReason) -> Vec<Action> {
        let frame = ServerFrame::Bye { reason };
        let mut last = Vec::new();
        let text = frame.to_string();
        if !text.is_empty() {
            last.push(Line::new(style_of(&frame), text));
        }
        if let Some(retry) = reason.retry_in() {
            last.push(Line::new(Style::Notice, retry.to_string()));
        }
        let why = match reason {
            ByeReason::TimedOut => PeerBye::TimedOut,
            _ => PeerBye::LoggedOut,
        };
        self.exit(Outcome::of_bye(reason), last, why)
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

#[cfg(test)]
mod tests {
    use natter_core::protocol::{ClientFrame, FrameError, Prompt, ServerFrame};

    use super::super::tests::{ask, name, password, plain, print, read};
    use crate::dialogue::*;

    #[test]
    fn exit_codes() {
        use ByeReason::*;
        let cases = [
            (LoggedOut, 0),
            (TimedOut, 0),
            (NowBlocked { seconds: 60 }, 1),
            (Blocked { seconds: 60 }, 1),
            (LoginTimedOut, 1),
            (LoginTooSlow, 1),
            (ServerFull, 1),
            (TooManyConnections, 1),
            (AddressBlocked { seconds: 600 }, 1),
            (ExistingAccountsOnly, 1),
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
            [read("Username: ", Echo::Visible, Echo::Hidden)]
        );
        assert_eq!(
            d.line("yoda"),
            [Action::Send(ClientFrame::Username { name: name("yoda") })]
        );
        assert_eq!(
            d.frame(ask(Prompt::Password)),
            [read("Password: ", Echo::Hidden, Echo::Command)]
        );
        assert_eq!(
            d.line("wise@!man"),
            [Action::Send(ClientFrame::Password {
                password: password("wise@!man")
            })]
        );
        assert!(!d.logged_in());
        assert_eq!(
            d.frame(ServerFrame::Welcome { waiting: 0 }),
            [
                print("Welcome to the greatest messaging application ever!"),
                read("> ", Echo::Command, Echo::Command)
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
            plain(d.frame(ServerFrame::WrongPassword {})),
            [print("Invalid Password. Please try again")]
        );
        assert_eq!(
            d.frame(ask(Prompt::Password)),
            [read("Password: ", Echo::Hidden, Echo::Command)]
        );
        d.line("password");
        // The sample's words, then when to try again.
        assert_eq!(
            plain(d.frame(ServerFrame::Bye {
                reason: ByeReason::NowBlocked { seconds: 60 }
            })),
            [Action::Exit(
                Outcome::Refused,
                vec![
                    Line::new(
                        Style::Plain,
                        "Invalid Password. Your account has been blocked. Please try again later"
                    ),
                    Line::new(Style::Plain, "You can try again in 60 seconds"),
                ]
            )]
        );
    }

    #[test]
    fn l3_a_blocked_login_says_how_long_the_block_has_left() {
        let mut d = Dialogue::new();
        d.frame(ask(Prompt::Password));
        d.line("wise@!man");
        let actions = d.frame(ServerFrame::Bye {
            reason: ByeReason::Blocked { seconds: 1 },
        });
        let [Action::Exit(Outcome::Refused, lines)] = actions.as_slice() else {
            panic!("{actions:?}");
        };
        let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Your account is blocked due to multiple login failures. Please try again later",
                "You can try again in 1 second"
            ]
        );
        assert_eq!(lines[0].style, Style::Error);
    }

    #[test]
    fn l5_new_account_prompt() {
        let mut d = Dialogue::new();
        d.frame(ask(Prompt::Username));
        d.line("jaba");
        assert_eq!(
            d.frame(ask(Prompt::NewPassword)),
            [read(
                "This is a new user. Enter a password: ",
                Echo::Hidden,
                Echo::Command
            )]
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
        let again = read("Username: ", Echo::Visible, Echo::Hidden);
        assert_eq!(
            plain(d.line("yo da")),
            [
                print("Error. Username cannot contain spaces"),
                again.clone()
            ]
        );
        assert_eq!(
            plain(d.line("")),
            [print("Error. Username cannot be empty"), again.clone()]
        );
        assert_eq!(
            plain(d.line(&"a".repeat(33))),
            [
                print("Error. Username is too long (at most 32 characters)"),
                again
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
            plain(d.line("")),
            [
                print("Error. Password cannot be empty"),
                read(
                    "This is a new user. Enter a password: ",
                    Echo::Hidden,
                    Echo::Command
                )
            ]
        );
        assert_eq!(
            plain(d.line("two words")).first(),
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
            plain(d.line(&"a".repeat(65))),
            [
                print("Error. Password is too long (at most 64 characters)"),
                read("Password: ", Echo::Hidden, Echo::Command)
            ]
        );
    }

    #[test]
    fn nothing_is_read_before_the_server_asks() {
        let mut d = Dialogue::new();
        assert_eq!(
            plain(d.frame(ServerFrame::AlreadyLoggedIn { user: name("yoda") })),
            [print("Error. yoda is already logged in")]
        );
        assert_eq!(d.line("stray"), []);
    }

    #[test]
    fn messages_that_waited_come_under_a_header_and_say_when_they_were_sent() {
        let mut d = Dialogue::new();
        let actions = d.frame(ServerFrame::Welcome { waiting: 2 });
        assert_eq!(
            actions[..2],
            [
                print("Welcome to the greatest messaging application ever!"),
                Action::Print(Line::new(Style::Notice, "While you were away: 2 messages")),
            ]
        );
        let message = |id, age| ServerFrame::Message {
            id,
            from: name("hans"),
            text: natter_core::protocol::Text::try_from("Let's rock").unwrap(),
            broadcast: false,
            age,
        };
        for (id, age) in [(1, 600), (2, 30)] {
            let actions = d.frame(message(id, age));
            let Action::Print(line) = &actions[0] else {
                panic!("{actions:?}");
            };
            assert_eq!(line.text, "hans: Let's rock");
            assert_eq!(line.age, Some(age), "sent {age} s ago");
        }
        // Live messages after those are not stamped.
        let actions = d.frame(message(3, 0));
        assert!(matches!(&actions[0], Action::Print(line) if line.age.is_none()));
    }

    #[test]
    fn ctrl_c_at_the_login_prompts_leaves() {
        let mut d = Dialogue::new();
        d.frame(ask(Prompt::Username));
        assert_eq!(
            d.interrupt(),
            [Action::Send(ClientFrame::Logout {}), Action::Leave]
        );
    }

    #[test]
    fn server_errors_print_their_text() {
        let mut d = Dialogue::new();
        d.frame(ServerFrame::Welcome { waiting: 0 });
        assert_eq!(
            d.frame(ServerFrame::Error {
                error: FrameError::Unexpected
            }),
            [Action::Print(Line::new(
                Style::Error,
                "Error. Unexpected request"
            ))]
        );
        assert_eq!(too_long().text, "Error. Request too long");
    }
}
