//! `natter-server user list|add|remove|passwd`: the owner manages accounts
//! without editing `credentials.txt` by hand, under the server's own rules
//! (R3: the whole file is checked as at start-up) and as durably: an added
//! account is appended and synced, as a sign-up is, its password hashed; a
//! removal or a new password rewrites the file whole (a new file, fsync, rename over the
//! old, fsync the directory), so a crash leaves the old file or the new,
//! never half of one. The file is locked while a command runs, and a
//! running server holds that lock, so nothing is rewritten under it.

use std::io;
use std::path::Path;

use natter_core::capacity::{CEILING, Capacity, SMALLEST_STORE};
use natter_core::credential;
use natter_core::hub::{AddAccountError, Config, Hub};

use crate::credentials::{self, CredentialsFile};
use crate::password::Hasher;

/// What to do with the accounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    List,
    Add(String),
    Remove(String),
    Passwd(String),
}

/// Carries out `action` on the file at `path`; `password` asks for a new
/// password (hidden on a terminal). Returns what to print.
pub fn run(
    action: &Action,
    path: &Path,
    hasher: &Hasher,
    password: &mut dyn FnMut() -> io::Result<String>,
) -> Result<String, String> {
    let fail = |error: io::Error| format!("{}: {error}", path.display());
    let (file, bytes) = crate::files::open_locked(path).map_err(fail)?;
    // The same checks as at start-up, into a hub of our own, with room
    // for every line: how many the server takes is its flags' business.
    let lines = bytes.iter().filter(|&&byte| byte == b'\n').count() + 1;
    let capacity = Capacity {
        accounts: lines.min(CEILING),
        connections: 1,
        store_bytes: SMALLEST_STORE,
    };
    let mut hub = Hub::with_capacity(Config::new(1, 1), capacity)
        .map_err(|error| format!("{}: no hub for {lines} lines: {error:?}", path.display()))?;
    let accounts = credentials::add_accounts(path, &bytes, &mut hub).map_err(|e| e.to_string())?;
    let known = |name: &str| accounts.iter().any(|(n, _)| n == name);
    match action {
        Action::Remove(name) | Action::Passwd(name) if !known(name) => {
            return Err(format!("no account called {name}"));
        }
        Action::Add(name) if known(name) => {
            return Err(format!("{name} already has an account"));
        }
        // As at sign-up (issue 27): no name that could pass for another.
        Action::Add(name) => {
            if let Some((like, _)) = accounts.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
                return Err(format!("{name} is too like {like}, which has an account"));
            }
        }
        _ => {}
    }
    let listed: String = accounts
        .iter()
        .map(|(name, _)| format!("{name}\n"))
        .collect();
    let len = bytes.len() as u64;
    let mut file = CredentialsFile::from_locked(path, file, len, accounts);
    match action {
        Action::List => Ok(listed),
        Action::Add(name) => {
            credential::check_name(name).map_err(|p| format!("username {}", problem(p)))?;
            let hash = hasher.hash(&new_password(password)?)?;
            match hub.add_account(name, &hash) {
                Err(AddAccountError::Full { most }) => {
                    return Err(format!(
                        "no room: {most} accounts is the most a server holds"
                    ));
                }
                Err(error) => return Err(format!("{error:?}")),
                Ok(_) => {}
            }
            file.append(name, &hash).map_err(fail)?;
            Ok(format!("added {name}\n"))
        }
        Action::Remove(name) => {
            file.remove(name).map_err(fail)?;
            Ok(format!("removed {name}\n"))
        }
        Action::Passwd(name) => {
            let hash = hasher.hash(&new_password(password)?)?;
            file.replace(name, &hash).map_err(fail)?;
            Ok(format!("changed the password of {name}\n"))
        }
    }
}

/// A password that passes R3.
fn new_password(password: &mut dyn FnMut() -> io::Result<String>) -> Result<String, String> {
    let password = password().map_err(|e| format!("reading the password: {e}"))?;
    credential::check_password(&password).map_err(|p| format!("password {}", problem(p)))?;
    Ok(password)
}

fn problem(problem: credential::CredentialProblem) -> String {
    use credential::CredentialProblem::*;
    match problem {
        Empty => "is empty".into(),
        Space => "contains a space".into(),
        TooLong => "is too long".into(),
        BadCharacter => format!(
            "has a character other than letters, digits and {}",
            credential::ALLOWED_PUNCTUATION
        ),
    }
}

/// Reads a new password from the terminal without echo, twice, or one
/// line from standard input when it is not a terminal (for scripts).
pub fn read_password() -> io::Result<String> {
    use rustix::termios::{LocalModes, OptionalActions, isatty, tcgetattr, tcsetattr};
    let stdin = io::stdin();
    if !isatty(&stdin) {
        let mut line = String::new();
        stdin.read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\n', '\r']).to_owned());
    }
    let ask = |prompt: &str| -> io::Result<String> {
        eprint!("{prompt}");
        let saved = tcgetattr(&stdin)?;
        let mut quiet = saved.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        tcsetattr(&stdin, OptionalActions::Now, &quiet)?;
        let mut line = String::new();
        let read = stdin.read_line(&mut line);
        tcsetattr(&stdin, OptionalActions::Now, &saved)?;
        eprintln!();
        read?;
        Ok(line.trim_end_matches(['\n', '\r']).to_owned())
    };
    let first = ask("New password: ")?;
    if ask("Again: ")? != first {
        return Err(io::Error::other("the two passwords differ"));
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use natter_core::credential::to_secret;

    fn file(contents: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials.txt");
        std::fs::write(&path, contents).unwrap();
        (dir, path)
    }

    fn given(password: &str) -> impl FnMut() -> io::Result<String> {
        let password = password.to_owned();
        move || Ok(password.clone())
    }

    /// Cheap hashes: the tests are about the file, not the cost.
    fn hasher() -> Hasher {
        Hasher::new(64, 1).unwrap()
    }

    fn none() -> impl FnMut() -> io::Result<String> {
        || panic!("no password wanted")
    }

    #[test]
    fn list_add_passwd_remove() {
        let (_dir, path) = file("hans falcon*solo\nyoda wise@!man\n");
        let h = hasher();
        assert_eq!(
            run(&Action::List, &path, &h, &mut none()).unwrap(),
            "hans\nyoda\n"
        );
        let added = run(
            &Action::Add("luke".into()),
            &path,
            &h,
            &mut given("light==saber"),
        );
        assert_eq!(added.unwrap(), "added luke\n");
        let changed = run(
            &Action::Passwd("hans".into()),
            &path,
            &h,
            &mut given("new*pass"),
        );
        assert_eq!(changed.unwrap(), "changed the password of hans\n");
        let removed = run(&Action::Remove("yoda".into()), &path, &h, &mut none());
        assert_eq!(removed.unwrap(), "removed yoda\n");
        // What is written is hashed, and checks the password given.
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<(&str, &str)> = text.lines().filter_map(|l| l.split_once(' ')).collect();
        assert_eq!(lines.len(), 2, "{text}");
        for ((name, stored), (want, password)) in lines
            .iter()
            .zip([("hans", "new*pass"), ("luke", "light==saber")])
        {
            assert_eq!(*name, want);
            let secret = to_secret(stored).unwrap();
            assert!(
                matches!(secret, natter_core::credential::Secret::Hashed(_)),
                "{stored}"
            );
            assert!(h.check(&secret, password), "{name}");
        }
        assert!(!path.with_extension("txt.new").exists());
    }

    #[test]
    fn bad_requests_change_nothing_and_say_why() {
        let contents = "hans falcon*solo\n";
        let (_dir, path) = file(contents);
        let h = hasher();
        let cases = [
            (
                Action::Add("hans".into()),
                "x",
                "hans already has an account",
            ),
            (
                Action::Add("Hans".into()),
                "x",
                "Hans is too like hans, which has an account",
            ),
            (
                Action::Add("bad name".into()),
                "x",
                "username contains a space",
            ),
            (
                Action::Add("luke".into()),
                "has space",
                "password contains a space",
            ),
            (Action::Remove("luke".into()), "x", "no account called luke"),
            (Action::Passwd("luke".into()), "x", "no account called luke"),
        ];
        for (action, password, error) in cases {
            assert_eq!(
                run(&action, &path, &h, &mut given(password)),
                Err(error.into())
            );
        }
        let nowhere = Path::new("/nonexistent/c.txt");
        assert!(run(&Action::List, nowhere, &h, &mut none()).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), contents);
        // A file the server would refuse is refused here too.
        let (_dir, torn) = file("hans falcon*solo\nyo");
        let error = run(&Action::List, &torn, &h, &mut none()).unwrap_err();
        assert!(error.contains(":2: incomplete last line"), "{error}");
    }

    #[test]
    fn a_running_server_holds_the_file() {
        let (_dir, path) = file("hans falcon*solo\n");
        let mut hub = natter_core::hub::Hub::new(Config::new(1, 1));
        let _server = CredentialsFile::load(&path, &mut hub).unwrap();
        let removed = run(
            &Action::Remove("hans".into()),
            &path,
            &hasher(),
            &mut none(),
        );
        let error = removed.unwrap_err();
        assert!(
            error.contains("in use by a running natter-server"),
            "{error}"
        );
    }
}
