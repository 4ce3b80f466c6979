//! How large a server is: its owner's choice at start (R26, issue 26),
//! not a build's. The hub's tables are sized from it once (`table.rs`).

use crate::limits::{
    CHUNK_BYTES, DEFAULT_ACCOUNTS, DEFAULT_CONNECTIONS, MAILBOX_BYTES, SENDER_BYTES,
    STORE_BYTES_PER_ACCOUNT, STORE_BYTES_PER_CONNECTION,
};

/// The most accounts and connections any server takes: their handles are
/// 16 bits.
pub const CEILING: usize = u16::MAX as usize;

/// The smallest store: one full mailbox, and one sender's share.
pub const SMALLEST_STORE: usize = if MAILBOX_BYTES > SENDER_BYTES {
    MAILBOX_BYTES
} else {
    SENDER_BYTES
};

/// The sizes of a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capacity {
    /// Accounts it can hold: those of the credentials file and new ones.
    pub accounts: usize,
    /// TCP connections at once, logged in or at the login prompts.
    pub connections: usize,
    /// Bytes of messages waiting for all users together (`store.rs`).
    pub store_bytes: usize,
}

/// A capacity no server can have, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CapacityError {
    /// Accounts: at least 1, at most [`CEILING`].
    Accounts,
    /// Connections: at least 1, at most [`CEILING`].
    Connections,
    /// The store must hold one full mailbox and one sender's share, and
    /// its chunks are counted in 32 bits.
    StoreBytes,
}

impl Capacity {
    /// Room for `accounts` and `connections`, with the store they need by
    /// default: [`STORE_BYTES_PER_ACCOUNT`] for each account's letters
    /// kept while offline, and [`STORE_BYTES_PER_CONNECTION`] for each
    /// connection's letters on their way, and at least [`SMALLEST_STORE`].
    pub const fn new(accounts: usize, connections: usize) -> Capacity {
        let store_bytes = accounts
            .saturating_mul(STORE_BYTES_PER_ACCOUNT)
            .saturating_add(connections.saturating_mul(STORE_BYTES_PER_CONNECTION));
        Capacity {
            accounts,
            connections,
            store_bytes: if store_bytes > SMALLEST_STORE {
                store_bytes
            } else {
                SMALLEST_STORE
            },
        }
    }

    /// Whether a server can be this large.
    pub fn check(&self) -> Result<(), CapacityError> {
        if !(1..=CEILING).contains(&self.accounts) {
            return Err(CapacityError::Accounts);
        }
        if !(1..=CEILING).contains(&self.connections) {
            return Err(CapacityError::Connections);
        }
        if self.store_bytes < SMALLEST_STORE || self.chunks() >= u32::MAX as usize {
            return Err(CapacityError::StoreBytes);
        }
        Ok(())
    }

    /// The store's chunks.
    pub const fn chunks(&self) -> usize {
        self.store_bytes / CHUNK_BYTES
    }
}

impl Default for Capacity {
    /// The sample file's ten accounts with room to spare: 32 accounts, 24
    /// connections, a store of 128 KiB.
    fn default() -> Self {
        Capacity::new(DEFAULT_ACCOUNTS, DEFAULT_CONNECTIONS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_capacity_natter_always_had() {
        let capacity = Capacity::default();
        assert_eq!((capacity.accounts, capacity.connections), (32, 24));
        assert_eq!(capacity.store_bytes, 128 * 1024);
        assert_eq!(capacity.check(), Ok(()));
    }

    #[test]
    fn a_capacity_out_of_range_is_refused() {
        assert_eq!(Capacity::new(0, 24).check(), Err(CapacityError::Accounts));
        assert_eq!(
            Capacity::new(CEILING + 1, 24).check(),
            Err(CapacityError::Accounts)
        );
        assert_eq!(Capacity::new(CEILING, 1).check(), Ok(()));
        // A small server's default store is the smallest there is.
        assert_eq!(Capacity::new(10, 4).store_bytes, SMALLEST_STORE);
        assert_eq!(Capacity::new(1, 1).check(), Ok(()));
        assert_eq!(
            Capacity::new(32, 0).check(),
            Err(CapacityError::Connections)
        );
        assert_eq!(
            Capacity::new(32, CEILING + 1).check(),
            Err(CapacityError::Connections)
        );
        let tiny = Capacity {
            store_bytes: SENDER_BYTES - 1,
            ..Capacity::default()
        };
        assert_eq!(tiny.check(), Err(CapacityError::StoreBytes));
        // Chunk links are 32 bits; only a 64-bit board could ask for more.
        #[cfg(target_pointer_width = "64")]
        {
            let huge = Capacity {
                store_bytes: usize::MAX,
                ..Capacity::default()
            };
            assert_eq!(huge.check(), Err(CapacityError::StoreBytes));
        }
    }
}
