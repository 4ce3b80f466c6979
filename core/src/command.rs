//! What a user types after logging in, parsed into a frame to send.
//!
//! The client parses; the server only ever sees well-formed frames from it.
//! An unknown first word or missing arguments never reach the server, so
//! they are not activity (R9).

use core::fmt::{self, Display, Formatter};

use crate::protocol::ClientFrame;

/// A line the user typed that is not a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandError {
    /// Unknown first word (or an empty line).
    Invalid,
    /// A known command used wrongly; holds its usage line.
    Usage(&'static str),
}

impl Display for CommandError {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::Invalid => f.write_str("Error. Invalid command"),
            CommandError::Usage(usage) => write!(f, "Error. Usage: {usage}"),
        }
    }
}

/// Parses one typed line into the frame it sends.
pub fn parse(line: &str) -> Result<ClientFrame, CommandError> {
    let line = line.trim();
    let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
    let rest = rest.trim_start();
    match word {
        "logout" if rest.is_empty() => Ok(ClientFrame::Logout {}),
        "logout" => Err(CommandError::Usage("logout")),
        _ => Err(CommandError::Invalid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn logout_parses() {
        assert_eq!(parse("logout"), Ok(ClientFrame::Logout {}));
        assert_eq!(parse("  logout  "), Ok(ClientFrame::Logout {}));
    }

    #[test]
    fn unknown_words_are_invalid_commands() {
        // S1: `whatsthetime`.
        for line in ["whatsthetime", "", "   ", "Logout", "logoutx"] {
            assert_eq!(parse(line), Err(CommandError::Invalid), "{line:?}");
        }
        assert_eq!(CommandError::Invalid.to_string(), "Error. Invalid command");
    }

    #[test]
    fn extra_arguments_are_a_usage_error() {
        assert_eq!(parse("logout now"), Err(CommandError::Usage("logout")));
        assert_eq!(
            CommandError::Usage("logout").to_string(),
            "Error. Usage: logout"
        );
    }
}
