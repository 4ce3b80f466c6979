//! `credentials.txt`: read and checked at start-up, appended durably (R3,
//! R6), and rewritten whole when a password changes.
//!
//! Every line is `username password` and ends with a line feed; natter
//! writes each new account with one `write` ending in a line feed and syncs
//! it before the welcome is sent. So a last line without a line feed is a
//! write cut short (a crash, a full disk), and its account was never
//! confirmed to anyone: start-up refuses it and says where, rather than
//! accept a half-written password. The password field is the password, in
//! the assignment's plain format, or its argon2id hash, as natter writes
//! it; a change (a plain password rehashed, `natter-server user passwd`)
//! writes a new file, syncs it and renames it over the old, so a crash
//! leaves one or the other whole.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use natter_core::credential::CredentialProblem;
use natter_core::hub::{AddAccountError, Hub};
use natter_core::limits::{NAME_MAX, PASSWORD_MAX};

use crate::files::{open_locked, replace_file};

/// Why the credentials file was refused at start-up.
#[derive(Debug)]
pub enum LoadError {
    Io(PathBuf, io::Error),
    Line(PathBuf, usize, String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io(path, error) => write!(f, "cannot use {}: {error}", path.display()),
            LoadError::Line(path, line, reason) => {
                write!(f, "{}:{line}: {reason}", path.display())
            }
        }
    }
}

/// The credentials file, open for appending new accounts, and locked.
pub struct CredentialsFile {
    path: PathBuf,
    file: File,
    /// Bytes known to be complete on disk: a failed append is cut back to it.
    len: u64,
    /// Every line, as `(username, password or hash)`, for a rewrite.
    accounts: Vec<(String, String)>,
}

impl CredentialsFile {
    /// Reads every account of `path` into `hub`, checking each line, and
    /// keeps the file locked against `natter-server user` while it runs.
    pub fn load(path: &Path, hub: &mut Hub) -> Result<Self, LoadError> {
        let io_error = |error| LoadError::Io(path.to_owned(), error);
        let (file, bytes) = open_locked(path).map_err(io_error)?;
        let accounts = add_accounts(path, &bytes, hub)?;
        Ok(CredentialsFile {
            path: path.to_owned(),
            file,
            len: bytes.len() as u64,
            accounts,
        })
    }

    /// `path`, opened for appending and locked as `file`, `len` bytes long,
    /// with these accounts.
    pub fn from_locked(path: &Path, file: File, len: u64, accounts: Vec<(String, String)>) -> Self {
        CredentialsFile {
            path: path.to_owned(),
            file,
            len,
            accounts,
        }
    }

    /// Every account, as `(username, password or hash)`, in file order.
    pub fn accounts(&self) -> &[(String, String)] {
        &self.accounts
    }

    /// Writes `stored` as `name`'s password field, the whole file anew,
    /// then holds the new file as it held the old.
    pub fn replace(&mut self, name: &str, stored: &str) -> io::Result<()> {
        self.replace_all(&[(name.to_owned(), stored.to_owned())])
    }

    /// Writes each `(name, stored)` as that name's password field, in one
    /// rewrite of the whole file: a thousand first logins after a start
    /// rewrite it a few times, not a thousand. Fails, writing nothing, if
    /// a name has no account.
    pub fn replace_all(&mut self, changes: &[(String, String)]) -> io::Result<()> {
        let mut changed: HashMap<&str, &str> = changes
            .iter()
            .map(|(name, stored)| (name.as_str(), stored.as_str()))
            .collect();
        let mut accounts = self.accounts.clone();
        for (name, password) in &mut accounts {
            if let Some(stored) = changed.remove(name.as_str()) {
                *password = stored.to_owned();
            }
        }
        if let Some(name) = changed.keys().next() {
            return Err(io::Error::other(format!("no account called {name}")));
        }
        self.rewrite(accounts)
    }

    /// Removes `name`'s line, the whole file anew.
    pub fn remove(&mut self, name: &str) -> io::Result<()> {
        let mut accounts = self.accounts.clone();
        accounts.retain(|(n, _)| n != name);
        self.rewrite(accounts)
    }

    fn rewrite(&mut self, accounts: Vec<(String, String)>) -> io::Result<()> {
        let text: String = accounts.iter().map(|(n, p)| format!("{n} {p}\n")).collect();
        self.file = replace_file(&self.path, &self.file, text.as_bytes())?;
        self.len = text.len() as u64;
        self.accounts = accounts;
        Ok(())
    }

    /// Appends `name password` and syncs it to disk. On failure the file is
    /// cut back to its last complete line.
    pub fn append(&mut self, name: &str, password: &str) -> io::Result<()> {
        let line = format!("{name} {password}\n");
        let written = self
            .file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.sync_data());
        match written {
            Ok(()) => {
                self.len += line.len() as u64;
                self.accounts.push((name.to_owned(), password.to_owned()));
                Ok(())
            }
            Err(error) => {
                // Best effort: leave no torn line behind for the next start.
                let _ = self.file.set_len(self.len);
                Err(error)
            }
        }
    }
}

/// Checks every line of `bytes`, the contents of `path`, and adds its
/// accounts to `hub`; returns them, as `(username, password)`, in order.
pub fn add_accounts(
    path: &Path,
    bytes: &[u8],
    hub: &mut Hub,
) -> Result<Vec<(String, String)>, LoadError> {
    let mut accounts: Vec<(String, String, usize)> = Vec::new();
    let mut rest = bytes;
    let mut number = 0;
    while !rest.is_empty() {
        number += 1;
        let refuse = |reason: String| LoadError::Line(path.to_owned(), number, reason);
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            return Err(refuse(
                "incomplete last line (no line feed at its end), as a write cut short by \
                     a crash leaves it; its account was never confirmed: remove the line, or \
                     end it with a line feed if it is right"
                    .into(),
            ));
        };
        let mut line = &rest[..end];
        rest = &rest[end + 1..];
        if let [head @ .., b'\r'] = line {
            line = head;
        }
        let line = std::str::from_utf8(line).map_err(|_| refuse("not valid UTF-8 text".into()))?;
        let (name, password) = parse_line(line).map_err(refuse)?;
        match hub.add_account(name, password) {
            Ok(_) => accounts.push((name.to_owned(), password.to_owned(), number)),
            Err(error) => {
                let first = accounts.iter().find(|(seen, ..)| seen == name).map(|s| s.2);
                return Err(refuse(describe(error, name, first)));
            }
        }
    }
    Ok(accounts
        .into_iter()
        .map(|(name, password, _)| (name, password))
        .collect())
}

/// Splits a line at its one space.
fn parse_line(line: &str) -> Result<(&str, &str), String> {
    if line.is_empty() {
        return Err("blank line (every line must be `username password`)".into());
    }
    if line.ends_with(' ') {
        return Err("a space at the end of the line (expected `username password`)".into());
    }
    match line.split_once(' ') {
        Some((name, password)) if !password.contains(' ') => Ok((name, password)),
        Some(_) => Err("more than one space (expected `username password`)".into()),
        None => Err("no space between username and password".into()),
    }
}

fn describe(error: AddAccountError, name: &str, first: Option<usize>) -> String {
    match error {
        AddAccountError::BadName(problem) => {
            format!("username {}", problem_text(problem, NAME_MAX))
        }
        AddAccountError::BadPassword(problem) => {
            format!("password {}", problem_text(problem, PASSWORD_MAX))
        }
        AddAccountError::Duplicate => match first {
            Some(line) => format!("username {name} already appears on line {line}"),
            None => format!("username {name} appears twice"),
        },
        AddAccountError::Full { most } => {
            format!("more than {most} accounts, the most --max-accounts allows")
        }
    }
}

fn problem_text(problem: CredentialProblem, max: usize) -> String {
    match problem {
        CredentialProblem::Empty => "is empty".into(),
        CredentialProblem::Space => "contains a space".into(),
        CredentialProblem::TooLong => format!("is longer than {max} characters"),
        CredentialProblem::BadCharacter => format!(
            "has a character other than letters, digits and {}",
            natter_core::credential::ALLOWED_PUNCTUATION
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use natter_core::hub::Config;

    fn load(contents: &[u8]) -> (Result<CredentialsFile, LoadError>, Hub, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials.txt");
        std::fs::write(&path, contents).unwrap();
        let mut hub = Hub::new(Config::new(1000, 1000));
        (CredentialsFile::load(&path, &mut hub), hub, dir)
    }

    fn error_of(contents: &[u8]) -> String {
        match load(contents).0 {
            Ok(_) => panic!("{contents:?} was accepted"),
            Err(LoadError::Line(_, line, reason)) => format!("{line}: {reason}"),
            Err(other) => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn the_bundled_file_loads_all_ten_accounts() {
        let bundled = include_bytes!("../../credentials.txt");
        let (file, hub, _dir) = load(bundled);
        assert!(file.is_ok());
        assert_eq!(hub.accounts(), 10);
    }

    #[test]
    fn crlf_line_ends_are_accepted() {
        let (file, hub, _dir) = load(b"hans falcon*solo\r\nyoda wise@!man\r\n");
        assert!(file.is_ok());
        assert_eq!(hub.accounts(), 2);
    }

    #[test]
    fn bad_lines_are_refused_with_their_number_and_reason() {
        assert_eq!(
            error_of(b"hans falcon*solo\n\n"),
            "2: blank line (every line must be `username password`)"
        );
        assert_eq!(
            error_of(b"hans\n"),
            "1: no space between username and password"
        );
        assert_eq!(
            error_of(b"a b c\n"),
            "1: more than one space (expected `username password`)"
        );
        assert_eq!(
            error_of(b"a  b\n"),
            "1: more than one space (expected `username password`)"
        );
        assert_eq!(
            error_of(b"x y\nhans \n"),
            "2: a space at the end of the line (expected `username password`)"
        );
        assert_eq!(
            error_of(b"x y\nhans falcon \n"),
            "2: a space at the end of the line (expected `username password`)"
        );
        assert_eq!(
            error_of(b"h\xc3\xa4ns pw\n"),
            format!(
                "1: username has a character other than letters, digits and {}",
                natter_core::credential::ALLOWED_PUNCTUATION
            )
        );
        assert_eq!(error_of(b"ok pw\n\xff pw\n"), "2: not valid UTF-8 text");
        assert_eq!(
            error_of(b"a b\nc d\na e\n"),
            "3: username a already appears on line 1"
        );
    }

    #[test]
    fn a_torn_last_line_is_refused() {
        let error = error_of(b"hans falcon*solo\njaba longt");
        assert!(error.starts_with("2: incomplete last line"), "{error}");
    }

    #[test]
    fn more_accounts_than_the_table_holds_is_refused() {
        let most = natter_core::Capacity::default().accounts;
        let lines: String = (0..=most).map(|i| format!("user{i} pw\n")).collect();
        assert_eq!(
            error_of(lines.as_bytes()),
            format!(
                "{}: more than {most} accounts, the most --max-accounts allows",
                most + 1
            )
        );
    }

    #[test]
    fn appended_accounts_are_the_last_line_and_load_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials.txt");
        std::fs::write(&path, "hans falcon*solo\n").unwrap();
        let mut hub = Hub::new(Config::new(1000, 1000));
        let mut file = CredentialsFile::load(&path, &mut hub).unwrap();
        file.append("jaba", "longtongue").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "hans falcon*solo\njaba longtongue\n"
        );
        // A server's hold on the file ends with it.
        drop(file);
        let mut again = Hub::new(Config::new(1000, 1000));
        CredentialsFile::load(&path, &mut again).unwrap();
        assert_eq!(again.accounts(), 2);
    }

    #[test]
    fn many_hashes_are_written_in_one_rewrite_and_an_unknown_name_writes_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials.txt");
        std::fs::write(
            &path,
            "hans falcon*solo\nyoda wise@!man\nluke light==saber\n",
        )
        .unwrap();
        let mut hub = Hub::new(Config::new(1000, 1000));
        let mut file = CredentialsFile::load(&path, &mut hub).unwrap();
        let change = |name: &str, stored: &str| (name.to_owned(), stored.to_owned());
        let unknown = [change("luke", "$argon2id$l"), change("nobody", "x")];
        assert!(file.replace_all(&unknown).is_err());
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "hans falcon*solo\nyoda wise@!man\nluke light==saber\n",
            "nothing written"
        );
        // Two hashes of yoda's password (two logins at once): one is kept.
        let changes = [
            change("luke", "$argon2id$l"),
            change("yoda", "$argon2id$y1"),
            change("hans", "$argon2id$h"),
            change("yoda", "$argon2id$y2"),
        ];
        file.replace_all(&changes).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "hans $argon2id$h");
        assert!(lines[1].starts_with("yoda $argon2id$y"), "{text}");
        assert_eq!(lines[2], "luke $argon2id$l");
        assert_eq!(lines.len(), 3);
    }

    #[test]
    fn a_replaced_password_keeps_every_other_line_and_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials.txt");
        std::fs::write(&path, "hans falcon*solo\nyoda wise@!man\n").unwrap();
        let mut hub = Hub::new(Config::new(1000, 1000));
        let mut file = CredentialsFile::load(&path, &mut hub).unwrap();
        file.replace("yoda", "$argon2id$v=19$stand-in").unwrap();
        file.append("jaba", "longtongue").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "hans falcon*solo\nyoda $argon2id$v=19$stand-in\njaba longtongue\n"
        );
        assert!(file.replace("nobody", "x").is_err());
        // The new file is held as the old one was.
        let again = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        assert!(crate::files::lock(&again).is_err());
    }

    #[test]
    fn a_missing_file_is_an_io_error_naming_the_path() {
        let mut hub = Hub::new(Config::new(1000, 1000));
        let error = CredentialsFile::load(Path::new("/nonexistent/credentials.txt"), &mut hub)
            .err()
            .unwrap();
        assert!(
            error
                .to_string()
                .starts_with("cannot use /nonexistent/credentials.txt: "),
            "{error}"
        );
    }
}
