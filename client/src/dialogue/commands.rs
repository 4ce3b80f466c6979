//! What is typed after the welcome (R10-R24): parsed by
//! [`natter_core::command::parse`], sent to the server, sent to a private
//! peer, or answered here (`help`, usage errors).

use natter_core::command::{self, COMMANDS, Command, CommandHelp};
use natter_core::protocol::{ClientFrame, PeerBye, PeerFrame};
use natter_core::text::PrivateNotice;

use super::{Action, Dialogue, notice};
use crate::display::{Line, Style};

impl Dialogue {
    /// A command line; `Some` when it ends the session (logout).
    pub(super) fn command_line(
        &mut self,
        line: &str,
        out: &mut Vec<Action>,
    ) -> Option<Vec<Action>> {
        match command::parse(line) {
            Ok(command) => self.command(command, out),
            Err(error) => {
                out.push(Action::Print(Line::new(Style::Error, error.to_string())));
                None
            }
        }
    }

    /// Carries out a command; `Some` when it ends the session (logout).
    pub(super) fn command(
        &mut self,
        command: Command,
        out: &mut Vec<Action>,
    ) -> Option<Vec<Action>> {
        match command {
            Command::Server(ClientFrame::Logout {}) => return Some(self.end()),
            Command::Server(ClientFrame::StartPrivate { user }) if self.private.is_up(&user) => {
                out.push(notice(PrivateNotice::AlreadyEnabled { user: &user }));
            }
            Command::Server(frame) => out.push(Action::Send(frame)),
            Command::Private { to: user, text } => {
                if self.private.is_up(&user) {
                    let frame = PeerFrame::Message { text };
                    out.push(Action::SendPeer { user, frame });
                    // Activity (R22); the text stays between the peers.
                    out.push(Action::Send(ClientFrame::PrivateActivity {}));
                } else {
                    out.push(notice(PrivateNotice::NotEnabled { user: &user }));
                }
            }
            Command::StopPrivate { user } => {
                if self.private.is_up(&user) {
                    self.private.stopped(&user);
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
                } else if self.private.is_requested(&user) {
                    // Not answered yet: withdrawn (the server confirms).
                    out.push(Action::Send(ClientFrame::WithdrawPrivate { user }));
                } else {
                    out.push(notice(PrivateNotice::NotEnabled { user: &user }));
                }
            }
            Command::Help(topic) => out.extend(help(topic).into_iter().map(Action::Print)),
        }
        None
    }
}

/// `help`: every command with its usage; `help <command>`: that one.
pub fn help(topic: Option<&CommandHelp>) -> Vec<Line> {
    let line = |text: String| Line::new(Style::Plain, text);
    match topic {
        Some(command) => vec![
            line(format!("{}: {}", command.usage, command.summary)),
            line(command.details.into()),
        ],
        None => {
            let mut lines = vec![line("Commands (help <command> tells more):".into())];
            lines.extend(
                COMMANDS
                    .iter()
                    .map(|c| line(format!("  {:<26}{}", c.usage, c.summary))),
            );
            lines.push(line(
                "Tab completes commands and usernames; Ctrl-C clears the line; logout or Ctrl-D leaves."
                    .into(),
            ));
            lines
        }
    }
}

#[cfg(test)]
mod tests {
    use natter_core::protocol::{ClientFrame, ServerFrame};

    use super::super::tests::{logged_in, name, plain, print, read};
    use crate::dialogue::*;

    fn command_read() -> Action {
        read("> ", Echo::Command, Echo::Command)
    }

    #[test]
    fn a_message_is_shown_then_acknowledged() {
        let mut d = logged_in();
        let frame = ServerFrame::Message {
            id: 42,
            from: name("hans"),
            text: natter_core::protocol::Text::try_from("Hey Dude").unwrap(),
            broadcast: false,
            age: 0,
        };
        assert_eq!(
            d.frame(frame),
            [
                Action::Print(Line::new(Style::Message, "hans: Hey Dude")),
                Action::Known(name("hans")),
            ]
        );
        assert_eq!(
            d.acknowledge(),
            [Action::Send(ClientFrame::Received { id: 42 })]
        );
        assert_eq!(d.acknowledge(), [], "once");
    }

    #[test]
    fn a_batch_of_messages_is_acknowledged_with_one_frame() {
        let mut d = logged_in();
        for id in [7, 8, 9] {
            d.frame(ServerFrame::Message {
                id,
                from: name("hans"),
                text: natter_core::protocol::Text::try_from("hi").unwrap(),
                broadcast: false,
                age: 0,
            });
        }
        assert_eq!(
            d.acknowledge(),
            [Action::Send(ClientFrame::Received { id: 9 })],
            "cumulative: the newest"
        );
    }

    #[test]
    fn a_broadcast_looks_like_a_broadcast() {
        let mut d = logged_in();
        let frame = ServerFrame::Message {
            id: 1,
            from: name("hans"),
            text: natter_core::protocol::Text::try_from("vader is evil").unwrap(),
            broadcast: true,
            age: 0,
        };
        assert_eq!(
            d.frame(frame)[0],
            Action::Print(Line::new(Style::Broadcast, "hans: vader is evil"))
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
            broadcast: false,
            age: 0,
        };
        assert_eq!(d.frame(frame), []);
        // And the end of input that follows sends no second logout.
        assert_eq!(d.end(), []);
    }

    #[test]
    fn a_user_list_is_one_name_per_line() {
        let mut d = logged_in();
        let users = [name("yoda"), name("luke")].into_iter().collect();
        assert_eq!(
            plain(d.frame(ServerFrame::Users { users, more: false })),
            [
                print("yoda"),
                Action::Known(name("yoda")),
                print("luke"),
                Action::Known(name("luke"))
            ]
        );
    }

    #[test]
    fn commands_after_login() {
        let mut d = logged_in();
        assert_eq!(
            d.line("whatsthetime"),
            [
                Action::Print(Line::new(Style::Error, "Error. Invalid command")),
                command_read()
            ]
        );
        assert_eq!(d.line("   "), [command_read()]);
        // No prompt after logout: only the server's goodbye matters now.
        assert_eq!(
            d.line("logout"),
            [Action::Send(ClientFrame::Logout {}), Action::Leave]
        );
        assert_eq!(
            d.frame(ServerFrame::Bye {
                reason: ByeReason::LoggedOut
            }),
            [Action::Exit(Outcome::Done, vec![])]
        );
    }

    #[test]
    fn help_lists_every_command_and_explains_one() {
        let mut d = logged_in();
        let actions = plain(d.line("help"));
        let texts: Vec<String> = actions
            .iter()
            .filter_map(|a| match a {
                Action::Print(line) => Some(line.text.clone()),
                _ => None,
            })
            .collect();
        for usage in [
            "message <user> <message>",
            "broadcast <message>",
            "whoelse",
            "whoelsesince <seconds>",
            "block <user>",
            "unblock <user>",
            "startprivate <user>",
            "private <user> <message>",
            "stopprivate <user>",
            "logout",
            "help [command]",
        ] {
            assert!(
                texts.iter().any(|t| t.trim_start().starts_with(usage)),
                "{usage} missing from {texts:#?}"
            );
        }
        assert_eq!(actions.last(), Some(&command_read()));
        // Never sent: not activity (R9).
        assert!(!actions.iter().any(|a| matches!(a, Action::Send(_))));
        assert_eq!(
            plain(d.line("help message")),
            [
                print("message <user> <message>: send <message> to <user>"),
                print("If <user> is offline, the message is kept and shown when they next log in."),
                command_read()
            ]
        );
        assert_eq!(
            d.line("help shout")[0],
            Action::Print(Line::new(
                Style::Error,
                "Error. No such command; type help for the list"
            ))
        );
    }

    #[test]
    fn ctrl_c_on_an_empty_command_line_says_how_to_leave() {
        let mut d = logged_in();
        assert_eq!(
            d.interrupt(),
            [Action::Print(Line::new(Style::Notice, HOW_TO_LEAVE))],
            "the read out stays out"
        );
        assert!(!d.leaving());
    }

    #[test]
    fn a_message_kept_for_an_offline_user_is_told_once_until_they_log_in() {
        let mut d = logged_in();
        let stored = || ServerFrame::Stored { user: name("luke") };
        let text = "luke is offline; they will get your message when they next log in";
        assert_eq!(
            d.frame(stored()),
            [Action::Print(Line::new(Style::Notice, text))]
        );
        assert_eq!(d.frame(stored()), [], "once");
        d.frame(ServerFrame::LoggedIn { user: name("luke") });
        d.frame(ServerFrame::LoggedOut { user: name("luke") });
        assert_eq!(
            d.frame(stored()),
            [Action::Print(Line::new(Style::Notice, text))],
            "again after luke came and went"
        );
    }

    #[test]
    fn a_message_made_durable_shows_nothing() {
        let mut d = logged_in();
        assert_eq!(d.frame(ServerFrame::Accepted { id: 7 }), []);
        assert_eq!(d.acknowledge(), [], "nothing to acknowledge");
    }

    #[test]
    fn notices_while_a_command_is_typed_do_not_start_another_read() {
        let mut d = logged_in();
        assert_eq!(
            plain(d.frame(ServerFrame::LoggedIn { user: name("luke") })),
            [Action::Known(name("luke")), print("luke logged in")]
        );
        assert_eq!(
            d.frame(ServerFrame::IdleWarning { seconds: 10 }),
            [Action::Print(Line::new(
                Style::Warning,
                "You will be logged out due to inactivity in 10 seconds unless you enter a command"
            ))]
        );
        assert_eq!(
            plain(d.frame(ServerFrame::Bye {
                reason: ByeReason::TimedOut
            })),
            [Action::Exit(
                Outcome::Done,
                vec![Line::new(
                    Style::Plain,
                    "You have been logged out due to inactivity"
                )]
            )]
        );
    }
}
