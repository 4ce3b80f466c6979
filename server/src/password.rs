//! Passwords at rest: argon2id hashes as PHC strings (the RustCrypto
//! `argon2` crate), and checking a password against what the file keeps,
//! hashed or, from the assignment's plain format, as it is. Slow on
//! purpose: the server does it on its worker thread (`worker.rs`).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use natter_core::credential::{Hash, Secret};

/// The cost of a new hash: OWASP's first choice for argon2id, 19 MiB and
/// two passes, one lane (docs/DESIGN.md has the figures per board).
pub const MEMORY_KIB: u32 = 19 * 1024;
pub const PASSES: u32 = 2;

/// Makes the allocator give each hash's memory back when it is freed.
///
/// glibc maps a block of its own only above its mmap threshold, and raises
/// that threshold to the size of each mapped block freed, up to 32 MiB on
/// 64-bit. After the first hash, each hash's 19 MiB came from the worker's
/// heap and stayed resident: 236 MiB after the logins of `natter-bench
/// net`. A threshold set by hand stays where it is. musl always maps big
/// blocks, and 32-bit glibc stops raising it at 512 KiB, so the release
/// builds never kept them; `cargo build` on a 64-bit board did.
pub fn give_back_hash_memory() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt sets one allocator parameter; it has no
    // preconditions and answers a bad one with 0, which changes nothing.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// Makes and checks hashes at one cost.
#[derive(Clone, Debug)]
pub struct Hasher {
    params: Params,
}

impl Hasher {
    /// Hashes of `memory_kib` KiB and `passes` passes; `None` if argon2
    /// refuses them (under 8 KiB, 0 passes).
    pub fn new(memory_kib: u32, passes: u32) -> Option<Hasher> {
        let params = Params::new(memory_kib, passes, 1, None).ok()?;
        Some(Hasher { params })
    }

    /// A new hash of `password`, with a fresh random salt.
    pub fn hash(&self, password: &str) -> Result<Hash, String> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| format!("no random salt: {e}"))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone());
        let hash = argon2
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| e.to_string())?
            .to_string();
        Hash::try_from(hash.as_str()).map_err(|_| format!("a hash of {} bytes", hash.len()))
    }

    /// Whether `password` is the one `secret` keeps. A hash is checked at
    /// the cost written in it.
    pub fn check(&self, secret: &Secret, password: &str) -> bool {
        match secret {
            Secret::Plain(plain) => same(plain.as_bytes(), password.as_bytes()),
            Secret::Hashed(hash) => PasswordHash::new(hash).is_ok_and(|hash| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &hash)
                    .is_ok()
            }),
        }
    }
}

impl Default for Hasher {
    fn default() -> Self {
        Hasher {
            params: Params::new(MEMORY_KIB, PASSES, 1, None).unwrap_or_default(),
        }
    }
}

/// Equal bytes, in a time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |d, (x, y)| d | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_checks_its_password_only_and_carries_its_cost() {
        let hasher = Hasher::new(64, 1).unwrap();
        let hash = hasher.hash("wise@!man").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{hash}");
        let secret = Secret::Hashed(hash.clone());
        assert!(hasher.check(&secret, "wise@!man"));
        assert!(!hasher.check(&secret, "wise@!maN"));
        // Checked at its own cost, whatever the hasher's.
        assert!(Hasher::default().check(&secret, "wise@!man"));
        // Salted: the same password hashes differently each time.
        assert_ne!(hasher.hash("wise@!man").unwrap(), hash);
        // The default cost fits natter's bound on a stored hash.
        assert!(Hasher::default().hash("x").is_ok());
    }

    #[test]
    fn a_plain_password_is_compared_whole() {
        let hasher = Hasher::default();
        let plain = Secret::Plain("falcon*solo".try_into().unwrap());
        assert!(hasher.check(&plain, "falcon*solo"));
        assert!(!hasher.check(&plain, "falcon*sol"));
        assert!(!hasher.check(&plain, "falcon*solo!"));
        let broken = Secret::Hashed("$argon2id$nonsense".try_into().unwrap());
        assert!(!hasher.check(&broken, "anything"));
    }
}
