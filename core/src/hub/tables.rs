//! The hub's tables, sized by the owner's [`Capacity`] and handed over
//! once (`table.rs`), and what they cost: a row per account, a row per
//! connection and the store's chunks, nothing that grows with a product
//! of them.

use core::mem::size_of;

use super::{Introduction, Job, Posted};
use crate::capacity::{Capacity, CapacityError};
use crate::limits::CHUNK_BYTES;
use crate::session::{ConnId, Slot};
use crate::store::Mailbox;
use crate::table::Table;
use crate::timers::Timer;
use crate::user::{User, UserId};

/// Every table of a hub. Those of accounts have as many rows as each
/// other, and so have those of connections; the store has a link per
/// chunk. An embedded build passes slices of statics; the `alloc`
/// feature makes them from a [`Capacity`] (`Tables::allocate`).
pub struct Tables {
    /// A row per account.
    pub users: Table<User>,
    pub names: Table<UserId>,
    pub mailboxes: Table<Mailbox>,
    pub unsaved_reads: Table<UserId>,
    pub unsaved_others: Table<UserId>,
    /// A row per connection.
    pub slots: Table<Slot>,
    pub introductions: Table<Option<Introduction>>,
    pub jobs: Table<Option<Job>>,
    pub asks: Table<ConnId>,
    pub ready: Table<u16>,
    pub unread: Table<ConnId>,
    pub touched: Table<u16>,
    pub candidates: Table<u16>,
    pub timers: Table<Timer>,
    pub timer_heap: Table<u16>,
    /// [`POSTED_PER_CONNECTION`] rows per connection.
    pub posted: Table<Posted>,
    /// The store: its bytes, and a link per `CHUNK_BYTES` of them.
    pub chunks: Table<u8>,
    pub links: Table<u32>,
}

/// Bytes of a hub's tables for each account.
pub const BYTES_PER_ACCOUNT: usize =
    size_of::<User>() + 3 * size_of::<UserId>() + size_of::<Mailbox>();

/// Letters posted that the journal has not taken yet, kept in the order
/// posted for each connection: more (a broadcast to everyone while the
/// disk is slow) are found by a walk of the mailboxes instead.
pub const POSTED_PER_CONNECTION: usize = 4;

/// Bytes of a hub's tables for each connection.
pub const BYTES_PER_CONNECTION: usize = size_of::<Slot>()
    + size_of::<Option<Introduction>>()
    + size_of::<Option<Job>>()
    + size_of::<ConnId>()
    + size_of::<u16>()
    + size_of::<ConnId>()
    + size_of::<u16>()
    + size_of::<u16>()
    + size_of::<Timer>()
    + size_of::<u16>()
    + POSTED_PER_CONNECTION * size_of::<Posted>();

/// Bytes of the store for each chunk (`CHUNK_BYTES`) of messages.
pub const BYTES_PER_CHUNK: usize = CHUNK_BYTES + size_of::<u32>();

impl Tables {
    /// The capacity these tables have, if they agree with each other and
    /// are within what a server can be.
    pub fn capacity(&self) -> Result<Capacity, CapacityError> {
        let accounts = self.users.len();
        let by_account = [
            self.names.len(),
            self.mailboxes.len(),
            self.unsaved_reads.len(),
            self.unsaved_others.len(),
        ];
        if by_account.iter().any(|&rows| rows != accounts) {
            return Err(CapacityError::Accounts);
        }
        let connections = self.slots.len();
        let by_connection = [
            self.introductions.len(),
            self.jobs.len(),
            self.asks.len(),
            self.ready.len(),
            self.unread.len(),
            self.touched.len(),
            self.candidates.len(),
            self.timers.len(),
            self.timer_heap.len(),
        ];
        if by_connection.iter().any(|&rows| rows != connections)
            || self.posted.len() != POSTED_PER_CONNECTION * connections
        {
            return Err(CapacityError::Connections);
        }
        if self.links.len() * CHUNK_BYTES != self.chunks.len() {
            return Err(CapacityError::StoreBytes);
        }
        let capacity = Capacity {
            accounts,
            connections,
            store_bytes: self.chunks.len(),
        };
        capacity.check()?;
        Ok(capacity)
    }

    /// Tables for `capacity`, allocated now.
    #[cfg(feature = "alloc")]
    pub fn allocate(capacity: Capacity) -> Tables {
        let (accounts, connections, chunks) =
            (capacity.accounts, capacity.connections, capacity.chunks());
        Tables {
            users: Table::filled(User::vacant(), accounts),
            names: Table::filled(UserId::default(), accounts),
            mailboxes: Table::filled(Mailbox::default(), accounts),
            unsaved_reads: Table::filled(UserId::default(), accounts),
            unsaved_others: Table::filled(UserId::default(), accounts),
            slots: Table::filled(Slot::default(), connections),
            introductions: Table::filled(None, connections),
            jobs: Table::filled(None, connections),
            asks: Table::filled(ConnId::default(), connections),
            ready: Table::filled(0, connections),
            unread: Table::filled(ConnId::default(), connections),
            touched: Table::filled(0, connections),
            candidates: Table::filled(0, connections),
            timers: Table::filled(crate::timers::UNSET, connections),
            timer_heap: Table::filled(0, connections),
            posted: Table::filled(Posted::default(), POSTED_PER_CONNECTION * connections),
            chunks: Table::filled(0, chunks * CHUNK_BYTES),
            links: Table::filled(0, chunks),
        }
    }
}

impl Capacity {
    /// Bytes of the hub's tables at this capacity (the hub itself, a few
    /// KiB, aside): [`BYTES_PER_ACCOUNT`] × accounts +
    /// [`BYTES_PER_CONNECTION`] × connections + [`BYTES_PER_CHUNK`] ×
    /// store bytes / `CHUNK_BYTES`.
    pub const fn table_bytes(&self) -> usize {
        BYTES_PER_ACCOUNT * self.accounts
            + BYTES_PER_CONNECTION * self.connections
            + BYTES_PER_CHUNK * self.chunks()
    }
}

#[cfg(test)]
mod tests;
