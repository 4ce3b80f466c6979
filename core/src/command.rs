//! What a user types after logging in, parsed into what to do: a frame for
//! the server, or a private message or stop for a peer (R19-R21).
//!
//! The client parses; the server only ever sees well-formed frames from it.
//! An unknown first word or missing arguments never reach the server, so
//! they are not activity (R9).

use core::fmt::{self, Display, Formatter};

use crate::credential::{self, Name};
use crate::limits::TEXT_MAX;
use crate::protocol::{ClientFrame, Refusal, Text};

/// A command the user typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Sent to the server.
    Server(ClientFrame),
    /// `private <user> <message>`: sent to the peer directly (R20).
    Private { to: Name, text: Text },
    /// `stopprivate <user>` (R21).
    StopPrivate { user: Name },
    /// `help`, or `help <command>`: shown by the client, never sent.
    Help(Option<&'static CommandHelp>),
}

/// A line the user typed that is not a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandError {
    /// Unknown first word.
    Invalid,
    /// A known command used wrongly; holds its usage line.
    Usage(&'static str),
    /// A name that no account can have (R3), so no user has it.
    InvalidUser,
    /// Message text over `TEXT_MAX` bytes.
    TooLong,
    /// `help` about a word that is no command.
    NoSuchCommand,
}

impl Display for CommandError {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::Invalid => f.write_str("Error. Invalid command"),
            CommandError::Usage(usage) => write!(f, "Error. Usage: {usage}"),
            CommandError::InvalidUser => Refusal::InvalidUser.fmt(f),
            CommandError::TooLong => {
                write!(f, "Error. Message too long (at most {TEXT_MAX} bytes)")
            }
            CommandError::NoSuchCommand => {
                f.write_str("Error. No such command; type help for the list")
            }
        }
    }
}

const MESSAGE: &str = "message <user> <message>";
const BROADCAST: &str = "broadcast <message>";
const WHOELSE: &str = "whoelse";
const WHOELSESINCE: &str = "whoelsesince <seconds>";
const BLOCK: &str = "block <user>";
const UNBLOCK: &str = "unblock <user>";
const LOGOUT: &str = "logout";
const STARTPRIVATE: &str = "startprivate <user>";
const PRIVATE: &str = "private <user> <message>";
const STOPPRIVATE: &str = "stopprivate <user>";
const HELP: &str = "help [command]";

/// What `help` says about a command; the names are what Tab completes.
#[derive(Debug, PartialEq, Eq)]
pub struct CommandHelp {
    pub name: &'static str,
    pub usage: &'static str,
    /// One line, for the list `help` shows.
    pub summary: &'static str,
    /// What `help <name>` adds to the summary.
    pub details: &'static str,
    /// The first argument is a username.
    pub takes_user: bool,
}

/// Every command, in the order `help` lists them.
pub const COMMANDS: [CommandHelp; 11] = [
    CommandHelp {
        name: "message",
        usage: MESSAGE,
        summary: "send <message> to <user>",
        details: "If <user> is offline, the message is kept and shown when they next log in.",
        takes_user: true,
    },
    CommandHelp {
        name: "broadcast",
        usage: BROADCAST,
        summary: "send <message> to everyone online",
        details: "Users who blocked you do not get it, and you are told so. Nothing is kept for users who are offline.",
        takes_user: false,
    },
    CommandHelp {
        name: "whoelse",
        usage: WHOELSE,
        summary: "list the other users online",
        details: "Users who blocked you are not listed.",
        takes_user: false,
    },
    CommandHelp {
        name: "whoelsesince",
        usage: WHOELSESINCE,
        summary: "list the users online at any time in the last <seconds>",
        details: "Those still online and those who have logged out since; users who blocked you are not listed.",
        takes_user: false,
    },
    CommandHelp {
        name: "block",
        usage: BLOCK,
        summary: "stop <user>'s messages reaching you",
        details: "<user> is not told. They no longer see you online nor hear of your logins, and cannot start a private chat with you.",
        takes_user: true,
    },
    CommandHelp {
        name: "unblock",
        usage: UNBLOCK,
        summary: "let <user>'s messages reach you again",
        details: "Reverses block.",
        takes_user: true,
    },
    CommandHelp {
        name: "startprivate",
        usage: STARTPRIVATE,
        summary: "ask <user> for a private chat",
        details: "<user> answers y or n. Private messages then go straight to their client, not through the server. stopprivate <user> withdraws the request.",
        takes_user: true,
    },
    CommandHelp {
        name: "private",
        usage: PRIVATE,
        summary: "send <message> to <user> in your private chat",
        details: "Needs a private chat started with startprivate.",
        takes_user: true,
    },
    CommandHelp {
        name: "stopprivate",
        usage: STOPPRIVATE,
        summary: "end the private chat with <user>",
        details: "Also withdraws a request <user> has not answered yet.",
        takes_user: true,
    },
    CommandHelp {
        name: "logout",
        usage: LOGOUT,
        summary: "log out and leave (so does Ctrl-D)",
        details: "Your private chats end too.",
        takes_user: false,
    },
    CommandHelp {
        name: "help",
        usage: HELP,
        summary: "this list, or more about one command",
        details: "Also ? and /help. Tab completes commands and usernames; Ctrl-C clears the line.",
        takes_user: false,
    },
];

/// The help about `name`, if it is a command.
pub fn help(name: &str) -> Option<&'static CommandHelp> {
    COMMANDS.iter().find(|command| command.name == name)
}

/// Parses one typed line.
pub fn parse(line: &str) -> Result<Command, CommandError> {
    let line = line.trim();
    let (word, rest) = split_word(line);
    let server = match word {
        "help" | "?" | "/help" => {
            return match rest {
                "" => Ok(Command::Help(None)),
                topic => help(topic)
                    .map(|help| Command::Help(Some(help)))
                    .ok_or(CommandError::NoSuchCommand),
            };
        }
        "private" => {
            let (to, text) = split_word(rest);
            if to.is_empty() || text.is_empty() {
                return Err(CommandError::Usage(PRIVATE));
            }
            return Ok(Command::Private {
                to: user(to)?,
                text: self::text(text)?,
            });
        }
        "stopprivate" => {
            return Ok(Command::StopPrivate {
                user: one_user(rest, STOPPRIVATE)?,
            });
        }
        "message" => {
            let (to, text) = split_word(rest);
            if to.is_empty() || text.is_empty() {
                return Err(CommandError::Usage(MESSAGE));
            }
            ClientFrame::Message {
                to: user(to)?,
                text: self::text(text)?,
            }
        }
        "broadcast" if !rest.is_empty() => ClientFrame::Broadcast { text: text(rest)? },
        "broadcast" => return Err(CommandError::Usage(BROADCAST)),
        "whoelse" if rest.is_empty() => ClientFrame::WhoElse {},
        "whoelse" => return Err(CommandError::Usage(WHOELSE)),
        "whoelsesince" => ClientFrame::WhoElseSince {
            seconds: seconds(rest).ok_or(CommandError::Usage(WHOELSESINCE))?,
        },
        "block" => ClientFrame::Block {
            user: one_user(rest, BLOCK)?,
        },
        "unblock" => ClientFrame::Unblock {
            user: one_user(rest, UNBLOCK)?,
        },
        "startprivate" => ClientFrame::StartPrivate {
            user: one_user(rest, STARTPRIVATE)?,
        },
        "logout" if rest.is_empty() => ClientFrame::Logout {},
        "logout" => return Err(CommandError::Usage(LOGOUT)),
        _ => return Err(CommandError::Invalid),
    };
    Ok(Command::Server(server))
}

/// The first word of `line` and the rest, without the spaces between.
fn split_word(line: &str) -> (&str, &str) {
    match line.split_once(' ') {
        Some((word, rest)) => (word, rest.trim_start_matches(' ')),
        None => (line, ""),
    }
}

/// Exactly one argument, a username.
fn one_user(rest: &str, usage: &'static str) -> Result<Name, CommandError> {
    if rest.is_empty() || rest.contains(' ') {
        return Err(CommandError::Usage(usage));
    }
    user(rest)
}

fn user(name: &str) -> Result<Name, CommandError> {
    credential::to_name(name).map_err(|_| CommandError::InvalidUser)
}

/// Message text as typed, inner spacing kept.
fn text(text: &str) -> Result<Text, CommandError> {
    Text::try_from(text).map_err(|_| CommandError::TooLong)
}

/// A whole number of seconds. More than `u64` holds means "since the server
/// started" anyway (R14), so it saturates instead of failing.
fn seconds(arg: &str) -> Option<u64> {
    if arg.is_empty() || !arg.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(arg.parse().unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::name;
    use std::string::ToString;

    #[test]
    fn commands_parse_into_frames() {
        let cases = [
            ("logout", ClientFrame::Logout {}),
            ("  logout  ", ClientFrame::Logout {}),
            (
                "message yoda Hey Dude",
                ClientFrame::Message {
                    to: name("yoda"),
                    text: Text::try_from("Hey Dude").unwrap(),
                },
            ),
            (
                // Inner spacing of the text is kept.
                "message  luke  Let's   rock",
                ClientFrame::Message {
                    to: name("luke"),
                    text: Text::try_from("Let's   rock").unwrap(),
                },
            ),
            (
                "broadcast vader is evil",
                ClientFrame::Broadcast {
                    text: Text::try_from("vader is evil").unwrap(),
                },
            ),
            ("whoelse", ClientFrame::WhoElse {}),
            (
                "whoelsesince 200",
                ClientFrame::WhoElseSince { seconds: 200 },
            ),
            ("whoelsesince 0", ClientFrame::WhoElseSince { seconds: 0 }),
            (
                "whoelsesince 99999999999999999999999",
                ClientFrame::WhoElseSince { seconds: u64::MAX },
            ),
            ("block hans", ClientFrame::Block { user: name("hans") }),
            ("unblock hans", ClientFrame::Unblock { user: name("hans") }),
        ];
        for (line, frame) in cases {
            assert_eq!(parse(line), Ok(Command::Server(frame)), "{line:?}");
        }
    }

    #[test]
    fn private_commands_parse() {
        assert_eq!(
            parse("startprivate luke"),
            Ok(Command::Server(ClientFrame::StartPrivate {
                user: name("luke")
            }))
        );
        assert_eq!(
            parse("private luke hey  dude"),
            Ok(Command::Private {
                to: name("luke"),
                text: Text::try_from("hey  dude").unwrap()
            })
        );
        assert_eq!(
            parse("stopprivate luke"),
            Ok(Command::StopPrivate { user: name("luke") })
        );
        for (line, usage) in [
            ("startprivate", STARTPRIVATE),
            ("startprivate a b", STARTPRIVATE),
            ("private", PRIVATE),
            ("private luke", PRIVATE),
            ("stopprivate", STOPPRIVATE),
        ] {
            assert_eq!(parse(line), Err(CommandError::Usage(usage)), "{line:?}");
        }
    }

    #[test]
    fn help_lists_every_command_or_explains_one() {
        for line in ["help", "?", "/help", "  help  "] {
            assert_eq!(parse(line), Ok(Command::Help(None)), "{line:?}");
        }
        assert_eq!(parse("help message"), Ok(Command::Help(Some(&COMMANDS[0]))));
        assert_eq!(
            parse("? block").map(|c| matches!(c, Command::Help(Some(h)) if h.name == "block")),
            Ok(true)
        );
        assert_eq!(parse("help shout"), Err(CommandError::NoSuchCommand));
        // Every command has help, and every usage names its command.
        for line in [
            "message",
            "broadcast",
            "whoelse",
            "whoelsesince",
            "block",
            "unblock",
            "startprivate",
            "private",
            "stopprivate",
            "logout",
            "help",
        ] {
            let help = help(line).unwrap_or_else(|| panic!("no help for {line}"));
            assert!(help.usage.starts_with(line));
        }
        for command in &COMMANDS {
            let parsed = parse(command.name);
            assert_ne!(
                parsed,
                Err(CommandError::Invalid),
                "{} is not parsed",
                command.name
            );
        }
    }

    #[test]
    fn unknown_words_are_invalid_commands() {
        // S1: `whatsthetime`.
        for line in ["whatsthetime", "Logout", "logoutx", "messages yoda hi"] {
            assert_eq!(parse(line), Err(CommandError::Invalid), "{line:?}");
        }
        assert_eq!(CommandError::Invalid.to_string(), "Error. Invalid command");
    }

    #[test]
    fn missing_or_extra_arguments_are_usage_errors() {
        let cases = [
            ("logout now", LOGOUT),
            ("message", MESSAGE),
            ("message yoda", MESSAGE),
            ("message yoda   ", MESSAGE),
            ("broadcast", BROADCAST),
            ("whoelse luke", WHOELSE),
            ("whoelsesince", WHOELSESINCE),
            ("whoelsesince -5", WHOELSESINCE),
            ("whoelsesince ten", WHOELSESINCE),
            ("whoelsesince 1.5", WHOELSESINCE),
            ("whoelsesince 10 20", WHOELSESINCE),
            ("block", BLOCK),
            ("block hans yoda", BLOCK),
            ("unblock", UNBLOCK),
        ];
        for (line, usage) in cases {
            assert_eq!(parse(line), Err(CommandError::Usage(usage)), "{line:?}");
        }
        assert_eq!(
            CommandError::Usage(WHOELSESINCE).to_string(),
            "Error. Usage: whoelsesince <seconds>"
        );
    }

    #[test]
    fn impossible_names_and_long_texts_are_refused_before_sending() {
        let long_name = "a".repeat(crate::limits::NAME_MAX + 1);
        assert_eq!(
            parse(&std::format!("message {long_name} hi")),
            Err(CommandError::InvalidUser)
        );
        assert_eq!(parse("block yo\u{e4}da"), Err(CommandError::InvalidUser));
        assert_eq!(CommandError::InvalidUser.to_string(), "Error. Invalid user");
        let long_text = "x".repeat(TEXT_MAX + 1);
        assert_eq!(
            parse(&std::format!("broadcast {long_text}")),
            Err(CommandError::TooLong)
        );
        assert_eq!(
            CommandError::TooLong.to_string(),
            "Error. Message too long (at most 512 bytes)"
        );
        let exact = "x".repeat(TEXT_MAX);
        assert!(parse(&std::format!("broadcast {exact}")).is_ok());
        assert_eq!(
            parse(&std::format!("private luke {long_text}")),
            Err(CommandError::TooLong)
        );
    }
}
