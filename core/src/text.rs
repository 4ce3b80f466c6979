//! What a person sees: the exact texts of `requirements.md` for every
//! server frame. The client prints these; tests compare against them.

use core::fmt::{self, Display, Formatter};

use crate::credential::{ALLOWED_PUNCTUATION, CredentialProblem};
use crate::limits::{BLACKLIST_MAX, NAME_MAX, PASSWORD_MAX};
use crate::protocol::{ByeReason, FrameError, PeerBye, Prompt, Refusal, ServerFrame};

/// The welcome line (R5).
pub const WELCOME: &str = "Welcome to the greatest messaging application ever!";

impl Display for Prompt {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Prompt::Username => "Username: ",
            Prompt::Password => "Password: ",
            Prompt::NewPassword => "This is a new user. Enter a password: ",
        })
    }
}

impl Display for ByeReason {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ByeReason::LoggedOut => "",
            ByeReason::NowBlocked { .. } => {
                "Invalid Password. Your account has been blocked. Please try again later"
            }
            ByeReason::Blocked { .. } => {
                "Your account is blocked due to multiple login failures. Please try again later"
            }
            ByeReason::TimedOut => "You have been logged out due to inactivity",
            ByeReason::LoginTimedOut => "Login timed out due to inactivity",
            ByeReason::LoginTooSlow => "Login took too long. Please try again",
            ByeReason::ServerFull => "Error. The server is full. Please try again later",
            ByeReason::AddressBlocked { .. } => {
                "Error. Too many failed logins from your address. Please try again later"
            }
            ByeReason::TooManyConnections => {
                "Error. Too many connections from your address. Please try again later"
            }
            ByeReason::ExistingAccountsOnly => {
                "Error. The server is busy: only existing accounts can log in now. Please try again later"
            }
            ByeReason::TooManyErrors => "Error. Too many invalid requests; disconnected",
            ByeReason::ShuttingDown => "The server is shutting down",
        })
    }
}

impl ByeReason {
    /// How long until the username may log in again, for a block (R8).
    pub fn retry_in(self) -> Option<RetryIn> {
        match self {
            ByeReason::NowBlocked { seconds }
            | ByeReason::Blocked { seconds }
            | ByeReason::AddressBlocked { seconds } => Some(RetryIn(seconds)),
            _ => None,
        }
    }
}

/// The line after a block's (R8), which keeps its words: when to retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryIn(pub u64);

impl Display for RetryIn {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("You can try again in ")?;
        Seconds(self.0).fmt(f)
    }
}

/// A wait, as a person reads it: `1 second`, `42 seconds`, `3 minutes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seconds(pub u64);

impl Display for Seconds {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0 {
            1 => f.write_str("1 second"),
            s if s < 120 => write!(f, "{s} seconds"),
            s => write!(f, "{} minutes", s.div_ceil(60)),
        }
    }
}

/// The header over the messages kept for a user while offline (R17).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WhileAway(pub u32);

impl Display for WhileAway {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0 {
            1 => f.write_str("While you were away: 1 message"),
            n => write!(f, "While you were away: {n} messages"),
        }
    }
}

impl Display for FrameError {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FrameError::TooLong => "Error. Request too long",
            FrameError::Malformed => "Error. Malformed request",
            FrameError::Unexpected => "Error. Unexpected request",
        })
    }
}

impl Display for Refusal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::InvalidUser => f.write_str("Error. Invalid user"),
            Refusal::MessageSelf => f.write_str("Error. Cannot message self"),
            Refusal::BlockedByRecipient => f.write_str(
                "Your message could not be delivered as the recipient has blocked you",
            ),
            Refusal::NotDeliveredToSome => {
                f.write_str("Your message could not be delivered to some recipients")
            }
            Refusal::MailboxFull { user } => {
                write!(f, "Error. {user}'s mailbox is full; message not stored")
            }
            Refusal::StoreFull => f.write_str(
                "Error. The server's message store is full; message not stored. Please try again later",
            ),
            Refusal::NotKept => f.write_str(
                "Error. The server cannot store messages right now (its disk is full); message not sent. Please try again later",
            ),
            Refusal::SenderFull => f.write_str(
                "Error. You have too many messages waiting for users who are offline; message not stored. Please try again later",
            ),
            Refusal::BlockSelf => f.write_str("Error. Cannot block self"),
            Refusal::AlreadyBlocked { user } => write!(f, "Error. {user} is already blocked"),
            Refusal::BlacklistFull => write!(
                f,
                "Error. You have blocked {BLACKLIST_MAX} users, as many as you can. Unblock one first"
            ),
            Refusal::UnblockSelf => f.write_str("Error. Cannot unblock self"),
            Refusal::NotBlocked { user } => write!(f, "Error. {user} was not blocked"),
            Refusal::PrivateSelf => f.write_str("Error. Cannot start private messaging with self"),
            Refusal::PrivateBlocked { user } => write!(
                f,
                "Error. Cannot start private messaging as {user} has blocked you"
            ),
            Refusal::Offline { user } => write!(f, "Error. {user} is offline"),
            Refusal::PrivatePending { user } => write!(
                f,
                "Error. Your private messaging request to {user} is still waiting for an answer"
            ),
            Refusal::PrivateBusy { user } => write!(
                f,
                "Error. {user} is answering another private messaging request. Please try again later"
            ),
            Refusal::NoLongerOnline { user } => write!(f, "Error. {user} is no longer online"),
            Refusal::AnswerFirst => f.write_str(
                "Error. Please answer the private messaging request you were sent first",
            ),
            Refusal::NoAnswer { user } => write!(
                f,
                "Error. {user} did not answer your private messaging request in time"
            ),
            Refusal::NoRequest { user } => write!(
                f,
                "Error. No private messaging request to {user} is waiting"
            ),
        }
    }
}

/// What the client itself says about private sessions (R19-R23). The
/// server never sees these: private text goes straight between clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrivateNotice<'a> {
    /// A private message from `from` (R20).
    Message { from: &'a str, text: &'a str },
    /// `user` ended the session, or its connection broke (`None`).
    Ended {
        user: &'a str,
        reason: Option<PeerBye>,
    },
    /// This user accepted `user`'s request and `user` connected.
    Started { user: &'a str },
    /// This user typed `stopprivate user`.
    Stopped { user: &'a str },
    /// `private`/`stopprivate` without a session (R20, R21).
    NotEnabled { user: &'a str },
    /// `startprivate` with a session already up.
    AlreadyEnabled { user: &'a str },
    /// The introduced peer could not be reached.
    CannotConnect { user: &'a str },
    /// The session broke while sending (R20).
    Gone { user: &'a str },
    /// The answer to a request was neither y nor n.
    AskAgain,
}

impl Display for PrivateNotice<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match *self {
            PrivateNotice::Message { from, text } => write!(f, "{from}(private): {text}"),
            PrivateNotice::Ended { user, reason } => match reason {
                Some(PeerBye::Stopped) => write!(f, "{user} stopped private messaging"),
                Some(PeerBye::LoggedOut) => {
                    write!(f, "Private messaging with {user} ended: {user} logged out")
                }
                Some(PeerBye::TimedOut) => write!(
                    f,
                    "Private messaging with {user} ended: {user} was logged out due to inactivity"
                ),
                None => write!(
                    f,
                    "Private messaging with {user} ended: the connection was lost"
                ),
            },
            PrivateNotice::Started { user } => write!(f, "Private messaging with {user} started"),
            PrivateNotice::Stopped { user } => write!(f, "Stopped private messaging with {user}"),
            PrivateNotice::NotEnabled { user } => {
                write!(f, "Error. Private messaging to {user} not enabled")
            }
            PrivateNotice::AlreadyEnabled { user } => {
                write!(f, "Error. Private messaging with {user} is already enabled")
            }
            PrivateNotice::CannotConnect { user } => write!(
                f,
                "Error. Could not connect to {user} for private messaging"
            ),
            PrivateNotice::Gone { user } => write!(f, "Error. {user} is no longer online"),
            PrivateNotice::AskAgain => f.write_str("Please enter y or n: "),
        }
    }
}

/// A refused username or password, with what it is (`Username`, `Password`).
struct Refused(&'static str, usize, CredentialProblem);

impl Display for Refused {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let Refused(what, max, problem) = *self;
        match problem {
            CredentialProblem::Empty => write!(f, "Error. {what} cannot be empty"),
            CredentialProblem::Space => write!(f, "Error. {what} cannot contain spaces"),
            CredentialProblem::TooLong => {
                write!(f, "Error. {what} is too long (at most {max} characters)")
            }
            CredentialProblem::BadCharacter => write!(
                f,
                "Error. {what} may only contain letters, digits and {ALLOWED_PUNCTUATION}"
            ),
        }
    }
}

impl Display for ServerFrame {
    /// The line the client prints for this frame (without its line feed),
    /// the prompt for [`ServerFrame::Ask`], or nothing.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            ServerFrame::Ask { prompt } => prompt.fmt(f),
            ServerFrame::Welcome { .. } => f.write_str(WELCOME),
            ServerFrame::WrongPassword {} => f.write_str("Invalid Password. Please try again"),
            ServerFrame::AlreadyLoggedIn { user } => {
                write!(f, "Error. {user} is already logged in")
            }
            ServerFrame::BadUsername { problem } => Refused("Username", NAME_MAX, *problem).fmt(f),
            ServerFrame::BadPassword { problem } => {
                Refused("Password", PASSWORD_MAX, *problem).fmt(f)
            }
            ServerFrame::UsernameTooLike { user, existing } => write!(
                f,
                "Error. {user} is too like the username {existing}. Please choose another username"
            ),
            ServerFrame::UsernameTaken { user } => write!(
                f,
                "Error. {user} was just taken by someone else. Please choose another username"
            ),
            ServerFrame::AccountsFull { most } => write!(
                f,
                "Error. No room for new accounts (at most {most}). Please log in with an existing account"
            ),
            ServerFrame::AccountNotSaved {} => f.write_str(
                "Error. The server could not save the new account. Please try again later",
            ),
            ServerFrame::SignUpClosed {} => f.write_str(
                "Error. No such user, and new accounts are not open here: ask the server's owner for one",
            ),
            ServerFrame::TooManySignUps {} => f.write_str(
                "Error. Too many new accounts from your address. Please log in with an existing account or try again later",
            ),
            ServerFrame::LoggedIn { user } => write!(f, "{user} logged in"),
            ServerFrame::LoggedOut { user } => write!(f, "{user} logged out"),
            ServerFrame::Message { from, text, .. } => write!(f, "{from}: {text}"),
            // Nothing to see: the client shows nothing for it.
            ServerFrame::Accepted { .. } => Ok(()),
            ServerFrame::Stored { user } => write!(
                f,
                "{user} is offline; they will get your message when they next log in"
            ),
            ServerFrame::Users { users, .. } => {
                // One name per line (R13, R14).
                for (i, user) in users.iter().enumerate() {
                    if i > 0 {
                        f.write_str("\n")?;
                    }
                    f.write_str(user)?;
                }
                Ok(())
            }
            ServerFrame::UserBlocked { user } => write!(f, "{user} is blocked"),
            ServerFrame::UserUnblocked { user } => write!(f, "{user} is unblocked"),
            ServerFrame::Refused { refusal } => refusal.fmt(f),
            ServerFrame::PrivateAsked { user } => write!(f, "Start private messaging with {user}"),
            ServerFrame::PrivateQuestion { user } => {
                write!(f, "{user} would like to private message, enter y or n: ")
            }
            // Shown once the direct connection is up.
            ServerFrame::PrivateAccepted { user, .. } => {
                write!(f, "{user} accepts private messaging")
            }
            ServerFrame::PrivateExpect { .. } => Ok(()),
            ServerFrame::PrivateDeclined { user } => {
                write!(f, "{user} declines private messaging")
            }
            ServerFrame::PrivateWithdrawn { user } => {
                write!(f, "{user} withdrew the private messaging request")
            }
            ServerFrame::PrivateExpired { user } => {
                write!(f, "The private messaging request from {user} expired")
            }
            ServerFrame::PrivateCancelled { user } => {
                write!(f, "Private messaging request to {user} withdrawn")
            }
            ServerFrame::IdleWarning { seconds } => write!(
                f,
                "You will be logged out due to inactivity in {} unless you enter a command",
                Seconds(*seconds)
            ),
            ServerFrame::Bye { reason } => reason.fmt(f),
            ServerFrame::Error { error } => error.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::name;
    use std::string::ToString;

    #[test]
    fn login_texts_match_the_requirements_to_the_letter() {
        let cases = [
            (
                ServerFrame::Ask {
                    prompt: Prompt::Username,
                },
                "Username: ",
            ),
            (
                ServerFrame::Ask {
                    prompt: Prompt::Password,
                },
                "Password: ",
            ),
            (
                ServerFrame::Ask {
                    prompt: Prompt::NewPassword,
                },
                "This is a new user. Enter a password: ",
            ),
            (
                ServerFrame::Welcome { waiting: 0 },
                "Welcome to the greatest messaging application ever!",
            ),
            (
                ServerFrame::WrongPassword {},
                "Invalid Password. Please try again",
            ),
            (
                ServerFrame::Bye {
                    reason: ByeReason::NowBlocked { seconds: 60 },
                },
                "Invalid Password. Your account has been blocked. Please try again later",
            ),
            (
                ServerFrame::Bye {
                    reason: ByeReason::Blocked { seconds: 60 },
                },
                "Your account is blocked due to multiple login failures. Please try again later",
            ),
            (
                ServerFrame::AlreadyLoggedIn { user: name("yoda") },
                "Error. yoda is already logged in",
            ),
            (
                ServerFrame::Bye {
                    reason: ByeReason::TimedOut,
                },
                "You have been logged out due to inactivity",
            ),
            (
                ServerFrame::LoggedIn { user: name("yoda") },
                "yoda logged in",
            ),
            (
                ServerFrame::LoggedOut { user: name("yoda") },
                "yoda logged out",
            ),
            (
                ServerFrame::Bye {
                    reason: ByeReason::LoggedOut,
                },
                "",
            ),
        ];
        for (frame, text) in cases {
            assert_eq!(frame.to_string(), text, "{frame:?}");
        }
    }

    #[test]
    fn messaging_texts_match_the_requirements_to_the_letter() {
        let refused = |refusal| ServerFrame::Refused { refusal };
        let cases = [
            (
                ServerFrame::Message {
                    id: 7,
                    from: name("hans"),
                    text: crate::protocol::Text::try_from("Hey Dude").unwrap(),
                    broadcast: false,
                    age: 0,
                },
                "hans: Hey Dude",
            ),
            (
                ServerFrame::Users {
                    users: [name("yoda"), name("luke")].into_iter().collect(),
                    more: true,
                },
                "yoda\nluke",
            ),
            (
                ServerFrame::Users {
                    users: Default::default(),
                    more: false,
                },
                "",
            ),
            (
                ServerFrame::UserBlocked { user: name("hans") },
                "hans is blocked",
            ),
            (
                ServerFrame::UserUnblocked { user: name("hans") },
                "hans is unblocked",
            ),
            (refused(Refusal::InvalidUser), "Error. Invalid user"),
            (refused(Refusal::MessageSelf), "Error. Cannot message self"),
            (
                refused(Refusal::BlockedByRecipient),
                "Your message could not be delivered as the recipient has blocked you",
            ),
            (
                refused(Refusal::NotDeliveredToSome),
                "Your message could not be delivered to some recipients",
            ),
            (refused(Refusal::BlockSelf), "Error. Cannot block self"),
            (refused(Refusal::UnblockSelf), "Error. Cannot unblock self"),
            (
                refused(Refusal::NotBlocked { user: name("yoda") }),
                "Error. yoda was not blocked",
            ),
            (
                refused(Refusal::AlreadyBlocked { user: name("yoda") }),
                "Error. yoda is already blocked",
            ),
            (
                refused(Refusal::MailboxFull { user: name("luke") }),
                "Error. luke's mailbox is full; message not stored",
            ),
        ];
        for (frame, text) in cases {
            assert_eq!(frame.to_string(), text, "{frame:?}");
        }
    }

    #[test]
    fn private_texts_match_the_requirements_to_the_letter() {
        let refused = |refusal| ServerFrame::Refused { refusal }.to_string();
        assert_eq!(
            ServerFrame::PrivateQuestion { user: name("yoda") }.to_string(),
            "yoda would like to private message, enter y or n: "
        );
        assert_eq!(
            ServerFrame::PrivateAsked { user: name("luke") }.to_string(),
            "Start private messaging with luke"
        );
        assert_eq!(
            ServerFrame::PrivateDeclined { user: name("luke") }.to_string(),
            "luke declines private messaging"
        );
        assert_eq!(
            refused(Refusal::PrivateBlocked { user: name("luke") }),
            "Error. Cannot start private messaging as luke has blocked you"
        );
        assert_eq!(
            refused(Refusal::Offline { user: name("luke") }),
            "Error. luke is offline"
        );
        assert_eq!(
            refused(Refusal::PrivateSelf),
            "Error. Cannot start private messaging with self"
        );
        let notice = |n: PrivateNotice<'_>| n.to_string();
        assert_eq!(
            notice(PrivateNotice::Message {
                from: "hans",
                text: "hey dude"
            }),
            "hans(private): hey dude"
        );
        assert_eq!(
            notice(PrivateNotice::NotEnabled { user: "luke" }),
            "Error. Private messaging to luke not enabled"
        );
        assert_eq!(
            notice(PrivateNotice::Ended {
                user: "hans",
                reason: Some(PeerBye::Stopped)
            }),
            "hans stopped private messaging"
        );
        assert_eq!(
            notice(PrivateNotice::Gone { user: "luke" }),
            "Error. luke is no longer online"
        );
    }

    #[test]
    fn refusals_name_the_limit() {
        let frame = ServerFrame::BadUsername {
            problem: CredentialProblem::TooLong,
        };
        assert_eq!(
            frame.to_string(),
            "Error. Username is too long (at most 32 characters)"
        );
        let frame = ServerFrame::BadPassword {
            problem: CredentialProblem::Space,
        };
        assert_eq!(frame.to_string(), "Error. Password cannot contain spaces");
    }
}
