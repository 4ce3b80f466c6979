//! What a username and a password may be (R3, R6).
//!
//! One account per line of `credentials.txt`, `username password`. Both may
//! use letters, digits and the punctuation below, nothing else: no spaces,
//! no control characters, so a line always splits at its one space.

use serde::{Deserialize, Serialize};

use crate::limits::{NAME_MAX, PASSWORD_MAX};

/// A username, at most [`NAME_MAX`] bytes.
pub type Name = heapless::String<NAME_MAX>;

/// A password, at most [`PASSWORD_MAX`] bytes.
pub type Password = heapless::String<PASSWORD_MAX>;

/// Punctuation allowed in usernames and passwords besides letters and digits.
pub const ALLOWED_PUNCTUATION: &str = "~!@#$%^&*_-+=`|\\(){}[]:;\"'<>,.?/";

/// Why a username or password is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CredentialProblem {
    /// Nothing was typed.
    Empty,
    /// Longer than the limit for its kind.
    TooLong,
    /// Contains a space.
    Space,
    /// Contains a character outside letters, digits and the allowed punctuation.
    BadCharacter,
}

/// Checks a username against R3: allowed characters, at most `NAME_MAX` bytes.
pub fn check_name(name: &str) -> Result<(), CredentialProblem> {
    check(name, NAME_MAX)
}

/// Checks a password against R3: allowed characters, at most `PASSWORD_MAX` bytes.
pub fn check_password(password: &str) -> Result<(), CredentialProblem> {
    check(password, PASSWORD_MAX)
}

fn check(word: &str, max: usize) -> Result<(), CredentialProblem> {
    if word.is_empty() {
        return Err(CredentialProblem::Empty);
    }
    if word.contains(' ') {
        return Err(CredentialProblem::Space);
    }
    if !word.chars().all(is_allowed) {
        return Err(CredentialProblem::BadCharacter);
    }
    if word.len() > max {
        return Err(CredentialProblem::TooLong);
    }
    Ok(())
}

fn is_allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || ALLOWED_PUNCTUATION.contains(c)
}

/// Copies a checked username into a [`Name`].
pub fn to_name(name: &str) -> Result<Name, CredentialProblem> {
    check_name(name)?;
    Name::try_from(name).map_err(|_| CredentialProblem::TooLong)
}

/// Copies a checked password into a [`Password`].
pub fn to_password(password: &str) -> Result<Password, CredentialProblem> {
    check_password(password)?;
    Password::try_from(password).map_err(|_| CredentialProblem::TooLong)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_passwords_are_allowed() {
        // R3's sample file.
        for p in [
            "falcon*solo",
            "wise@!man",
            "sithlord**",
            "do*!@#dedo",
            "droid#gold",
            "$blasterpistol$",
            "(jedimaster)",
            "light==saber",
            "wookie+aaaawww",
            "darkside_%$run",
        ] {
            assert_eq!(check_password(p), Ok(()), "{p}");
        }
    }

    #[test]
    fn every_allowed_punctuation_mark_passes() {
        assert_eq!(check_password(ALLOWED_PUNCTUATION), Ok(()));
    }

    #[test]
    fn refusals_say_why() {
        assert_eq!(check_name(""), Err(CredentialProblem::Empty));
        assert_eq!(check_name("yo da"), Err(CredentialProblem::Space));
        assert_eq!(check_name("yoda\t"), Err(CredentialProblem::BadCharacter));
        assert_eq!(check_name("yödä"), Err(CredentialProblem::BadCharacter));
        // ASCII only, so no name can pass for another (issue 10): not with
        // an invisible character, nor a Cyrillic letter that looks Latin.
        for lookalike in [
            "ad\u{200b}min",
            "\u{feff}yoda",
            "yoda\u{e0041}",
            "\u{430}dmin",
        ] {
            assert_eq!(check_name(lookalike), Err(CredentialProblem::BadCharacter));
        }
        assert_eq!(check_name(&"a".repeat(NAME_MAX)), Ok(()));
        assert_eq!(
            check_name(&"a".repeat(NAME_MAX + 1)),
            Err(CredentialProblem::TooLong)
        );
        assert_eq!(
            check_password(&"a".repeat(PASSWORD_MAX + 1)),
            Err(CredentialProblem::TooLong)
        );
    }
}
