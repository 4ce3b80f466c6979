//! The wire protocol: one JSON object per line (R25), documented with an
//! example of every frame in `docs/PROTOCOL.md`.
//!
//! Frames are externally tagged enums: `{"Password":{"password":"x"}}`.
//! Variants without data are empty structs so every frame is an object.
//! Strings arrive escaped; [`decode_client`]/[`decode_server`] unescape them
//! into fixed-size strings with one caller-free scratch buffer, so quotes,
//! backslashes and control characters round-trip byte for byte.

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::credential::{CredentialProblem, Name, Password};
use crate::limits::{FRAME_MAX, NAMES_PER_FRAME, TEXT_MAX};

/// Message text, at most [`TEXT_MAX`] bytes of UTF-8.
pub type Text = heapless::String<TEXT_MAX>;

/// The one-time secret that admits an introduced peer (R28): 32 hex digits
/// (128 random bits from the server's shell).
pub type Secret = heapless::String<32>;

/// An IP address as text (`192.168.1.20`, `::1`).
pub type Host = heapless::String<48>;

/// [`ServerFrame::Message`] with its name and text borrowed: the same
/// bytes on the wire (tested), encoded from the store's copy of a letter
/// without moving it through a whole `ServerFrame`.
#[derive(Clone, Copy, Debug, Serialize)]
pub enum LetterFrame<'a> {
    Message {
        id: u64,
        from: &'a str,
        text: &'a str,
        broadcast: bool,
        age: u64,
    },
}

/// A page of usernames, as `whoelse` and `whoelsesince` answer.
pub type Names = heapless::Vec<Name, NAMES_PER_FRAME>;

/// What a client sends to the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum ClientFrame {
    /// The answer to [`Prompt::Username`].
    Username { name: Name },
    /// The answer to [`Prompt::Password`] or [`Prompt::NewPassword`].
    Password { password: Password },
    /// `logout` (R18).
    Logout {},
    /// `message <user> <text>` (R10).
    Message { to: Name, text: Text },
    /// `broadcast <text>` (R12).
    Broadcast { text: Text },
    /// `whoelse` (R13).
    WhoElse {},
    /// `whoelsesince <seconds>` (R14).
    WhoElseSince { seconds: u64 },
    /// `block <user>` (R15).
    Block { user: Name },
    /// `unblock <user>` (R16).
    Unblock { user: Name },
    /// The message with this id was shown: the server may forget it (R27).
    /// Not activity (R9).
    Received { id: u64 },
    /// `startprivate <user>` (R19).
    StartPrivate { user: Name },
    /// `y` to `user`'s request: the client listens on `port` for them.
    AcceptPrivate { user: Name, port: u16 },
    /// `n` to `user`'s request.
    DeclinePrivate { user: Name },
    /// The user typed `private` or `stopprivate`: activity (R22). The text
    /// itself never reaches the server.
    PrivateActivity {},
    /// `stopprivate <user>` while the request to `user` is unanswered: it
    /// is withdrawn.
    WithdrawPrivate { user: Name },
}

/// What the server asks the user to type next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Prompt {
    Username,
    Password,
    NewPassword,
}

/// Why the server ends a session; the client prints the reason and exits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ByeReason {
    /// `logout` (R18).
    LoggedOut,
    /// The third wrong password in a row (R8); the block lasts `seconds`.
    NowBlocked { seconds: u64 },
    /// A login attempt while the username is blocked (R8), for `seconds` more.
    Blocked { seconds: u64 },
    /// No valid command for `timeout` seconds (R9).
    TimedOut,
    /// Nothing typed at the login prompts for `timeout` seconds.
    LoginTimedOut,
    /// The login prompts were not finished within the login deadline.
    LoginTooSlow,
    /// Every connection slot is taken (R26).
    ServerFull,
    /// Too many connections from this address are at the login prompts.
    TooManyConnections,
    /// Too many failed logins from this address: it is blocked for
    /// `seconds`, whatever username it tries.
    AddressBlocked { seconds: u64 },
    /// Only the reserved slots are free, and they are for existing
    /// accounts: this name is not one.
    ExistingAccountsOnly,
    /// Too many bad frames in a row (R25).
    TooManyErrors,
    /// The server is stopping (SIGINT/SIGTERM).
    ShuttingDown,
}

/// A frame the server could not accept (R25).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FrameError {
    /// Longer than [`FRAME_MAX`] bytes.
    TooLong,
    /// Not UTF-8, not JSON, or not a known frame.
    Malformed,
    /// A known frame at the wrong moment (a password before a username, ...).
    Unexpected,
}

/// A command the server refused or could only partly carry out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Refusal {
    /// No account has that name (R10, R15, R16).
    InvalidUser,
    /// `message` to oneself (R10).
    MessageSelf,
    /// The recipient has blocked the sender (R10).
    BlockedByRecipient,
    /// A broadcast skipped someone: blocked, or their mailbox full (R12).
    NotDeliveredToSome,
    /// The recipient's waiting messages already take `MAILBOX_BYTES` (R26).
    MailboxFull { user: Name },
    /// The server's shared message store is full (R26).
    StoreFull,
    /// The sender's messages kept for users offline take their share of
    /// the store (`SENDER_BYTES`).
    SenderFull,
    /// The server cannot make messages durable now (its disk is full).
    NotKept,
    /// `block` oneself (R15).
    BlockSelf,
    /// `block` someone already blocked (R15).
    AlreadyBlocked { user: Name },
    /// `block` when the user's blacklist is full (R15, R26).
    BlacklistFull,
    /// `unblock` oneself (R16).
    UnblockSelf,
    /// `unblock` someone not blocked (R16).
    NotBlocked { user: Name },
    /// `startprivate` oneself (R19).
    PrivateSelf,
    /// `startprivate` someone who has blocked the asker (R19).
    PrivateBlocked { user: Name },
    /// `startprivate` someone offline (R19).
    Offline { user: Name },
    /// A request to `user` is already waiting for their answer.
    PrivatePending { user: Name },
    /// `user` is answering someone else's request.
    PrivateBusy { user: Name },
    /// The asker has a request of their own to answer first.
    AnswerFirst,
    /// `user` left before answering the request.
    NoLongerOnline { user: Name },
    /// `user` let the request expire unanswered.
    NoAnswer { user: Name },
    /// `stopprivate` of a request that is no longer waiting (answered,
    /// expired, or never made).
    NoRequest { user: Name },
}

/// What the server sends to a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum ServerFrame {
    /// Read a line from the user with this prompt and send it back.
    Ask { prompt: Prompt },
    /// Login succeeded (R5, R6); `waiting` messages kept for the user
    /// follow at once (R17).
    Welcome { waiting: u32 },
    /// Wrong password, try again (R5).
    WrongPassword {},
    /// The user is already online elsewhere (R7).
    AlreadyLoggedIn { user: Name },
    /// A new username that cannot be an account (R6).
    BadUsername { problem: CredentialProblem },
    /// A new password that cannot be used (R6).
    BadPassword { problem: CredentialProblem },
    /// Someone else created this account while the user chose a password.
    UsernameTaken { user: Name },
    /// A new username that differs from an account's only in case
    /// (issue 27): it could pass for that account, so it is refused.
    UsernameTooLike { user: Name, existing: Name },
    /// No room for another account (R26): the server holds at most
    /// `most`.
    AccountsFull { most: u32 },
    /// The new account could not be saved; nothing was created.
    AccountNotSaved {},
    /// Sign-up is closed: an unknown username is not an account to make.
    SignUpClosed {},
    /// This address made its share of new accounts for the hour.
    TooManySignUps {},
    /// Presence (R11).
    LoggedIn { user: Name },
    /// Presence (R11).
    LoggedOut { user: Name },
    /// A message or broadcast (R10, R12), live or kept while offline (R17).
    /// `age` is how many seconds ago the server stored it, so the client
    /// can show when it was sent without trusting the server's clock. The
    /// client answers [`ClientFrame::Received`] with its id.
    Message {
        id: u64,
        from: Name,
        text: Text,
        broadcast: bool,
        age: u64,
    },
    /// A message to `user`, who is offline, is kept for their next login.
    Stored { user: Name },
    /// Every letter this connection posted, up to letter `id`, is durable:
    /// it survives a crash or a power cut (issue 11). The client shows
    /// nothing for it.
    Accepted { id: u64 },
    /// The answer to `whoelse` or `whoelsesince` (R13, R14), a page of
    /// at most [`NAMES_PER_FRAME`] names at a time; `more`: another page
    /// follows at once.
    Users { users: Names, more: bool },
    /// `block` done (R15).
    UserBlocked { user: Name },
    /// `unblock` done (R16).
    UserUnblocked { user: Name },
    /// A command refused, or carried out only in part.
    Refused { refusal: Refusal },
    /// `startprivate` sent on to `user` (R19).
    PrivateAsked { user: Name },
    /// `user` asks for a private session: the next line typed answers.
    PrivateQuestion { user: Name },
    /// `user` accepted: connect to `host`:`port` and present `secret`.
    PrivateAccepted {
        user: Name,
        host: Host,
        port: u16,
        secret: Secret,
    },
    /// After accepting: `user` will connect and present `secret`.
    PrivateExpect { user: Name, secret: Secret },
    /// `user` declined (R19).
    PrivateDeclined { user: Name },
    /// `user`'s request is void: they left or withdrew it before it was
    /// answered.
    PrivateWithdrawn { user: Name },
    /// `user`'s request went unanswered for too long and is void.
    PrivateExpired { user: Name },
    /// The request to `user` is withdrawn, as asked.
    PrivateCancelled { user: Name },
    /// The user will be logged out for inactivity in `seconds` (R9) unless
    /// they enter a command.
    IdleWarning { seconds: u64 },
    /// The session ends; the client exits.
    Bye { reason: ByeReason },
    /// The last frame was refused.
    Error { error: FrameError },
}

/// Why a private session ends, as told to the other side (R21, R23).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PeerBye {
    /// `stopprivate`.
    Stopped,
    /// The user logged out.
    LoggedOut,
    /// The user was logged out for inactivity.
    TimedOut,
}

/// What two clients say over their direct connection (R19-R23, R28).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum PeerFrame {
    /// First frame of the connecting side: who it is and the secret the
    /// server gave both sides.
    Hello { from: Name, secret: Secret },
    /// The listening side admits the peer.
    Welcome {},
    /// `private <user> <text>`.
    Message { text: Text },
    /// The session ends.
    Bye { reason: PeerBye },
}

/// Why a line is not a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Nested deeper than any frame is ([`MAX_NESTING`]): refused before
    /// it is parsed, so a hostile line cannot exhaust a small stack.
    TooDeep,
    /// Not UTF-8, not JSON, not a known frame, an unknown field, a value
    /// that does not fit its field, or anything but white space after the
    /// frame: serde-json-core's reason.
    Json(serde_json_core::de::Error),
}

/// The deepest nesting of objects and arrays in any frame, with one to
/// spare: `{"Refused":{"refusal":{"MailboxFull":{"user":"x"}}}}` is 4.
pub const MAX_NESTING: usize = 5;

/// Why a frame could not be encoded: it would not fit in the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncodeError;

/// A buffer big enough for any encoded frame plus its line feed.
pub type FrameBuf = [u8; FRAME_MAX + 1];

/// Encodes `frame` as one line (JSON then `\n`) into `buf`; returns its length.
pub fn encode<T: Serialize>(frame: &T, buf: &mut [u8]) -> Result<usize, EncodeError> {
    let n = serde_json_core::to_slice(frame, buf).map_err(|_| EncodeError)?;
    let newline = buf.get_mut(n).ok_or(EncodeError)?;
    *newline = b'\n';
    Ok(n + 1)
}

/// Decodes one client frame from a line without its line feed.
pub fn decode_client(line: &[u8]) -> Result<ClientFrame, DecodeError> {
    decode(line)
}

/// Decodes one client frame from a line without its line feed into
/// `frame`, as [`decode_client`] does but without moving a frame through
/// the decoder: the frames a chat is made of are read in place (the
/// server's hot path). On an error `frame` holds anything.
pub fn decode_client_into(line: &[u8], frame: &mut ClientFrame) -> Result<(), DecodeError> {
    if !crate::client_json::read_common(line, frame) {
        *frame = decode(line)?;
    }
    Ok(())
}

/// Decodes one peer frame from a line without its line feed.
pub fn decode_peer(line: &[u8]) -> Result<PeerFrame, DecodeError> {
    decode(line)
}

/// Decodes one server frame from a line without its line feed.
pub fn decode_server(line: &[u8]) -> Result<ServerFrame, DecodeError> {
    decode(line)
}

pub(crate) fn decode<T: DeserializeOwned>(line: &[u8]) -> Result<T, DecodeError> {
    if !nesting_within(line, MAX_NESTING) {
        return Err(DecodeError::TooDeep);
    }
    if crate::surrogates::has_surrogate_escape(line) {
        let mut joined = [0u8; FRAME_MAX];
        // Longer than any frame: read as it is (and refused).
        let Some(out) = joined.get_mut(..line.len()) else {
            return decode_escaped(line);
        };
        let len = crate::surrogates::join_pairs(line, out);
        return decode_escaped(&joined[..len]);
    }
    decode_escaped(line)
}

fn decode_escaped<T: DeserializeOwned>(line: &[u8]) -> Result<T, DecodeError> {
    // One string is unescaped at a time, so the longest string bounds it.
    let mut unescaped = [0u8; TEXT_MAX];
    serde_json_core::from_slice_escaped::<T>(line, &mut unescaped)
        .map(|(frame, _)| frame)
        .map_err(DecodeError::Json)
}

/// Whether objects and arrays in `line` nest at most `max` deep, counting
/// only brackets outside strings.
fn nesting_within(line: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &byte in line {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return false;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str;

    fn line(frame: &impl Serialize) -> std::string::String {
        let mut buf = [0u8; FRAME_MAX + 1];
        let n = encode(frame, &mut buf).unwrap();
        str::from_utf8(&buf[..n]).unwrap().into()
    }

    #[test]
    fn frames_are_externally_tagged_objects() {
        assert_eq!(
            line(&ClientFrame::Username {
                name: Name::try_from("yoda").unwrap()
            }),
            "{\"Username\":{\"name\":\"yoda\"}}\n"
        );
        assert_eq!(line(&ClientFrame::Logout {}), "{\"Logout\":{}}\n");
        assert_eq!(
            line(&ServerFrame::Ask {
                prompt: Prompt::Password
            }),
            "{\"Ask\":{\"prompt\":\"Password\"}}\n"
        );
        assert_eq!(
            line(&ServerFrame::Bye {
                reason: ByeReason::TimedOut
            }),
            "{\"Bye\":{\"reason\":\"TimedOut\"}}\n"
        );
        // As docs/PROTOCOL.md shows them.
        assert_eq!(
            line(&ServerFrame::Bye {
                reason: ByeReason::NowBlocked { seconds: 60 }
            }),
            "{\"Bye\":{\"reason\":{\"NowBlocked\":{\"seconds\":60}}}}\n"
        );
        assert_eq!(
            line(&ServerFrame::Message {
                id: 17,
                from: Name::try_from("hans").unwrap(),
                text: Text::try_from("Hey Dude").unwrap(),
                broadcast: false,
                age: 0,
            }),
            "{\"Message\":{\"id\":17,\"from\":\"hans\",\"text\":\"Hey Dude\",\"broadcast\":false,\"age\":0}}\n"
        );
        assert_eq!(
            line(&ServerFrame::Welcome { waiting: 3 }),
            "{\"Welcome\":{\"waiting\":3}}\n"
        );
        let decoded = decode_server(b"{\"Bye\":{\"reason\":{\"Blocked\":{\"seconds\":42}}}}");
        assert_eq!(
            decoded,
            Ok(ServerFrame::Bye {
                reason: ByeReason::Blocked { seconds: 42 }
            })
        );
    }

    #[test]
    fn every_allowed_character_round_trips() {
        // R3's punctuation includes the quote and the backslash, which JSON escapes.
        let password = Password::try_from(crate::credential::ALLOWED_PUNCTUATION).unwrap();
        let frame = ClientFrame::Password { password };
        let text = line(&frame);
        assert_eq!(decode_client(text.trim_end().as_bytes()), Ok(frame));
    }

    #[test]
    fn message_text_round_trips_byte_for_byte() {
        // R3's punctuation, quotes, backslashes, control characters, non-ASCII.
        let raw = "~!@#$%^&*_-+=`|\\(){}[]:;\"'<>,.?/ \\\" \u{1b}[31m\t\r\n é 日本 🚀 \u{7f}";
        let frame = ServerFrame::Message {
            id: u64::MAX,
            from: Name::try_from("yoda").unwrap(),
            text: Text::try_from(raw).unwrap(),
            broadcast: true,
            age: u64::MAX,
        };
        let text = line(&frame);
        assert_eq!(text.matches('\n').count(), 1, "one line: {text}");
        assert_eq!(decode_server(text.trim_end().as_bytes()), Ok(frame));
    }

    #[test]
    fn a_letter_frame_is_a_message_frame_byte_for_byte() {
        let texts = [
            "",
            "Hey Dude",
            "\"\\\u{1b}[31m\t\r\n é 日本 🚀 \u{7f}\u{200b}",
        ];
        for (i, raw) in texts.into_iter().enumerate() {
            let (id, age, broadcast) = ([0, 17, u64::MAX][i], [u64::MAX, 0, 62][i], i == 1);
            let message = ServerFrame::Message {
                id,
                from: Name::try_from("yoda\"").unwrap(),
                text: Text::try_from(raw).unwrap(),
                broadcast,
                age,
            };
            let letter = LetterFrame::Message {
                id,
                from: "yoda\"",
                text: raw,
                broadcast,
                age,
            };
            assert_eq!(line(&letter), line(&message), "{raw:?}");
        }
    }

    #[test]
    fn the_largest_frames_fit_frame_max() {
        // Worst case: every byte of a full-length text escapes to \u00XX.
        let text = Text::try_from("\u{1}".repeat(TEXT_MAX).as_str()).unwrap();
        let from = Name::try_from("\"".repeat(crate::limits::NAME_MAX).as_str()).unwrap();
        let mut buf = [0u8; FRAME_MAX + 1];
        let message = ServerFrame::Message {
            id: u64::MAX,
            from: from.clone(),
            text,
            broadcast: false,
            age: u64::MAX,
        };
        assert!(encode(&message, &mut buf).is_ok());
        let users: Names = core::iter::repeat_n(from, NAMES_PER_FRAME).collect();
        let more = true;
        assert!(encode(&ServerFrame::Users { users, more }, &mut buf).is_ok());
    }

    #[test]
    fn unknown_truncated_and_trailing_garbage_are_refused() {
        for bad in [
            &b"{\"Shout\":{}}"[..],
            b"{\"Username\":{\"name\":\"yoda\"}",
            b"{\"Username\":{\"name\":\"yoda\"}} x",
            b"{\"Username\":{\"name\":42}}",
            b"\xff\xfe",
            b"",
            b"null",
        ] {
            assert!(decode_client(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn over_long_strings_are_refused_not_truncated() {
        let long = std::format!("{{\"Username\":{{\"name\":\"{}\"}}}}", "a".repeat(33));
        assert!(matches!(
            decode_client(long.as_bytes()),
            Err(DecodeError::Json(_))
        ));
    }

    #[test]
    fn unknown_fields_are_refused_and_deep_nesting_is_never_parsed() {
        assert!(matches!(
            decode_client(b"{\"Logout\":{\"x\":1}}"),
            Err(DecodeError::Json(_))
        ));
        assert!(matches!(
            decode_client(b"{\"Username\":{\"name\":\"yoda\",\"admin\":true}}"),
            Err(DecodeError::Json(_))
        ));
        // The 4 KiB line that needed 64 KiB of stack to be refused.
        let deep = std::format!(
            "{{\"Logout\":{{\"x\":{}{}}}}}",
            "[".repeat(2000),
            "]".repeat(2000)
        );
        assert_eq!(decode_client(deep.as_bytes()), Err(DecodeError::TooDeep));
        // Brackets inside strings are text, however many.
        let text = "[{".repeat(200);
        let frame = ClientFrame::Broadcast {
            text: Text::try_from(text.as_str()).unwrap(),
        };
        assert_eq!(decode_client(line(&frame).trim_end().as_bytes()), Ok(frame));
        // The deepest real frame decodes.
        let full = ServerFrame::Refused {
            refusal: Refusal::MailboxFull {
                user: Name::try_from("luke").unwrap(),
            },
        };
        assert_eq!(decode_server(line(&full).trim_end().as_bytes()), Ok(full));
        assert!(matches!(
            decode_client(b"{\"Logout\":{}} {}"),
            Err(DecodeError::Json(_))
        ));
        assert!(decode_client(b"{\"Logout\":{}}  ").is_ok());
    }

    #[test]
    fn a_crlf_line_decodes() {
        assert!(decode_client(b"{\"Logout\":{}}\r").is_ok());
    }
}
