//! The simulator as the hub's shell: accounts saved, randomness, the
//! journal's thread and its disk, and every frame handed to its bot.

use natter_core::credential::{Password, Secret};
use natter_core::event::StoreFailed;
use natter_core::journal::CHANGE_MAX;
use natter_core::testing::{Shell, fake_hash};
use natter_core::{ConnId, Hub, Instant};

use crate::bots::Prompt;
use crate::disk::Pending;

use super::Sim;

impl Shell for Sim {
    fn entropy(&mut self) -> [u8; 16] {
        let (a, b) = (self.rng.next(), self.rng.next());
        let mut bytes = [0; 16];
        bytes[..8].copy_from_slice(&a.to_le_bytes());
        bytes[8..].copy_from_slice(&b.to_le_bytes());
        bytes
    }

    fn save_account(&mut self, user: &str, password: &Password) -> Result<Secret, StoreFailed> {
        if self.rng.chance(3) {
            return Err(StoreFailed);
        }
        self.saved.push((user.into(), password.to_string()));
        self.model
            .accounts
            .insert(user.into(), password.to_string());
        self.model.mailboxes.insert(user.into(), Vec::new());
        self.model
            .blacklists
            .insert(user.into(), Default::default());
        Ok(fake_hash(password))
    }

    /// As the server's journal thread: one batch in hand at a time, taken
    /// when due; written now and then at once, otherwise when the
    /// simulation says the disk is done.
    fn journal(&mut self, hub: &mut Hub, now: Instant) {
        if self.disk.pending.is_some() {
            return;
        }
        let Some(due) = hub.journal_due() else {
            return;
        };
        if self.disk.retry_at.map_or(due, |at| at.max(due)) > now {
            return;
        }
        let whole = self.disk.wants_whole();
        if whole {
            hub.journal_all();
        }
        let batch = hub.start_batch();
        let mut bytes = Vec::new();
        let mut change = [0u8; CHANGE_MAX];
        while let Some(polled) = hub.poll_change(&mut change) {
            bytes.extend_from_slice(&change[..polled.len]);
        }
        if bytes.is_empty() {
            hub.journal_synced(batch);
            return;
        }
        self.disk.pending = Some(Pending {
            batch,
            bytes,
            whole,
        });
        if self.rng.chance(40) {
            self.finish_write(hub, true);
        }
    }

    fn reads(&mut self, conn: ConnId) -> bool {
        self.bot_of(conn).is_none_or(|b| self.bots[b].reading)
    }

    fn sent(&mut self, conn: ConnId, bytes: &[u8]) {
        let Some(b) = self.bot_of(conn) else {
            return;
        };
        for line in bytes.split_inclusive(|&b| b == b'\n') {
            let frame = natter_core::protocol::decode_server(&line[..line.len() - 1]);
            let frame = frame.unwrap_or_else(|e| panic!("the hub sent a bad frame: {e:?}"));
            self.read(b, frame);
        }
    }

    fn closed(&mut self, conn: ConnId) {
        let Some(b) = self.bot_of(conn) else {
            return;
        };
        let bot = &mut self.bots[b];
        if bot.prompt == Prompt::Closing {
            assert!(
                bot.owed.is_empty(),
                "{} was let go owed {:?}",
                bot.name,
                bot.owed
            );
        }
        bot.gone();
    }
}

impl Sim {
    /// The disk ends the batch in hand.
    pub(super) fn finish_write(&mut self, hub: &mut Hub, ok: bool) {
        if self.trace {
            println!(
                "{:>8} disk: write {}",
                self.now.millis(),
                if ok { "synced" } else { "FAILED" }
            );
        }
        let whole = self.disk.pending.as_ref().is_some_and(|p| p.whole);
        if ok {
            self.stats.rewrites += u64::from(whole);
            let batch = self.disk.synced();
            hub.journal_synced(batch);
        } else {
            self.stats.failed_writes += 1;
            let batch = self.disk.failed(self.now);
            hub.journal_failed(batch);
        }
    }

    pub(super) fn bot_of(&self, conn: ConnId) -> Option<usize> {
        self.bots.iter().position(|b| b.conn == Some(conn))
    }
}
