//! The sample accounts (R3), hubs to test with, and the stand-in for a
//! password hash that test shells store.

use crate::credential::{HASH_PREFIX, Password, Secret};
use crate::event::Checked;
use crate::hub::{Config, Hub};
use crate::signup::SignUp;

/// R3's sample credentials.txt.
pub const SAMPLE_ACCOUNTS: [(&str, &str); 10] = [
    ("hans", "falcon*solo"),
    ("yoda", "wise@!man"),
    ("vader", "sithlord**"),
    ("r2d2", "do*!@#dedo"),
    ("c3p0", "droid#gold"),
    ("leia", "$blasterpistol$"),
    ("obiwan", "(jedimaster)"),
    ("luke", "light==saber"),
    ("chewy", "wookie+aaaawww"),
    ("palpatine", "darkside_%$run"),
];

/// The sample password of `user`.
pub fn password_of(user: &str) -> &'static str {
    SAMPLE_ACCOUNTS
        .iter()
        .find(|(name, _)| *name == user)
        .map(|(_, password)| *password)
        .unwrap_or_else(|| panic!("{user} is no sample account"))
}

/// A hub with no accounts, `block_ms` and `timeout_ms` as given, and none
/// of the rules that only their own tests are about: no idle warnings,
/// private requests that outlast every idle timeout, no login deadline,
/// no limit of connections per address, no address guard, sign-up open
/// without limit.
pub fn test_hub(block_ms: u64, timeout_ms: u64) -> Hub {
    Hub::new(test_config(block_ms, timeout_ms))
}

/// The settings of [`test_hub`].
pub fn test_config(block_ms: u64, timeout_ms: u64) -> Config {
    Config {
        warning_ms: 0,
        answer_ms: 100 * timeout_ms,
        login_ms: 100 * timeout_ms,
        per_address: 0,
        guard_addresses: false,
        signup: SignUp::Open { per_hour: 0 },
        ..Config::new(block_ms, timeout_ms)
    }
}

/// A hub with `config` and the sample accounts.
pub fn sample_hub(config: Config) -> Hub {
    let mut hub = Hub::new(config);
    for (name, password) in SAMPLE_ACCOUNTS {
        if let Err(error) = hub.add_account(name, password) {
            panic!("sample account {name}: {error:?}");
        }
    }
    hub
}

/// What a test shell stores for a password: a stand-in for its hash.
pub fn fake_hash(password: &str) -> Secret {
    let hash = std::format!("{HASH_PREFIX}fake${password}");
    match hash.as_str().try_into() {
        Ok(hash) => Secret::Hashed(hash),
        Err(_) => panic!("{password:?} makes too long a hash"),
    }
}

/// Checks `password` as the server's worker does: a right plain password
/// is rewritten hashed.
pub fn fake_check(secret: &Secret, password: &Password) -> Checked {
    match secret {
        Secret::Plain(plain) => {
            let right = plain == password;
            Checked {
                right,
                stored: right.then(|| fake_hash(password)),
            }
        }
        hashed => Checked {
            right: *hashed == fake_hash(password),
            stored: None,
        },
    }
}
