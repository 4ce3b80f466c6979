//! Names, texts and frames from plain strings, for tests: each panics on a
//! string that cannot be one, which is a mistake in the test.

use crate::credential::{Name, Password};
use crate::protocol::{ClientFrame, Refusal, ServerFrame, Text};

pub fn name(s: &str) -> Name {
    Name::try_from(s).unwrap_or_else(|_| panic!("{s:?} is not a name"))
}

pub fn text(s: &str) -> Text {
    Text::try_from(s).unwrap_or_else(|_| panic!("{} bytes is not a text", s.len()))
}

pub fn username(s: &str) -> ClientFrame {
    ClientFrame::Username { name: name(s) }
}

pub fn password(s: &str) -> ClientFrame {
    ClientFrame::Password {
        password: Password::try_from(s).unwrap_or_else(|_| panic!("{s:?} is not a password")),
    }
}

/// `message <to> <text>`, as the client sends it.
pub fn message(to: &str, s: &str) -> ClientFrame {
    ClientFrame::Message {
        to: name(to),
        text: text(s),
    }
}

pub fn refused(refusal: Refusal) -> ServerFrame {
    ServerFrame::Refused { refusal }
}

/// A private session's secret, as `Hello` carries it (`protocol::Secret`;
/// not a stored password, `credential::Secret`).
pub fn secret(s: &str) -> crate::protocol::Secret {
    crate::protocol::Secret::try_from(s).unwrap_or_else(|_| panic!("{s:?} is not a secret"))
}
