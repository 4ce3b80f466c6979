//! What a username and a password may be (R3, R6).
//!
//! One account per line of `credentials.txt`, `username password`. Both may
//! use letters, digits and the punctuation below, nothing else: no spaces,
//! no control characters, so a line always splits at its one space. The
//! server writes new and changed passwords as a PHC string of their
//! argon2id hash instead ([`Secret`]), which keeps to the same characters.

use serde::{Deserialize, Serialize};

use crate::limits::{HASH_MAX, NAME_MAX, PASSWORD_MAX};

/// A username, at most [`NAME_MAX`] bytes.
pub type Name = heapless::String<NAME_MAX>;

/// A password, at most [`PASSWORD_MAX`] bytes.
pub type Password = heapless::String<PASSWORD_MAX>;

/// A PHC string (`$argon2id$v=19$m=...,t=...,p=...$salt$hash`), at most
/// [`HASH_MAX`] bytes.
pub type Hash = heapless::String<HASH_MAX>;

/// The beginning of every hash natter writes or accepts.
pub const HASH_PREFIX: &str = "$argon2id$";

/// What the accounts file keeps for a password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Secret {
    /// The password itself, as the assignment's file has it; rewritten
    /// hashed at its first successful login.
    Plain(Password),
    /// Its argon2id hash, checked by the shell (`Event::CheckPassword`).
    Hashed(Hash),
}

impl Secret {
    /// As written in the file.
    pub fn as_str(&self) -> &str {
        match self {
            Secret::Plain(password) => password,
            Secret::Hashed(hash) => hash,
        }
    }
}

/// Reads the password field of a line: a hash if it starts as one, else a
/// password checked against R3.
pub fn to_secret(stored: &str) -> Result<Secret, CredentialProblem> {
    if stored.starts_with(HASH_PREFIX) {
        check(stored, HASH_MAX)?;
        let hash = Hash::try_from(stored).map_err(|_| CredentialProblem::TooLong)?;
        return Ok(Secret::Hashed(hash));
    }
    to_password(stored).map(Secret::Plain)
}

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

    #[test]
    fn a_stored_password_is_a_hash_if_it_starts_as_one() {
        let hash = "$argon2id$v=19$m=19456,t=2,p=1$BwcHBwcHBwcHBwcHBwcHBw$/5eZ52bc6w0Ff7QkYLGxUA36H2MtNGokh8zLY0NYT1A";
        assert!(matches!(to_secret(hash), Ok(Secret::Hashed(h)) if h == hash));
        assert!(matches!(to_secret("wise@!man"), Ok(Secret::Plain(p)) if p == "wise@!man"));
        let long = std::format!("{HASH_PREFIX}{}", "a".repeat(HASH_MAX));
        assert_eq!(to_secret(&long), Err(CredentialProblem::TooLong));
        assert_eq!(to_secret("$argon2id$ x"), Err(CredentialProblem::Space));
        assert_eq!(to_secret(""), Err(CredentialProblem::Empty));
    }
}
