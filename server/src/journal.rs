//! The journal (issue 11): the hub's durable state, as checksummed records
//! (`record`) appended to `natter.journal` in the data directory, so that
//! letters waiting, blacklists and password blocks survive `kill -9` and a
//! power cut.
//!
//! Each turn of the event loop ends with [`Journal::commit`]: every change
//! the hub has is appended with one `write`, and one `fdatasync` makes
//! them durable when any of them was promised to someone (a letter, a
//! block); only then does the hub tell senders `Accepted`. Many changes
//! share one sync: group commit. When the file has grown past its bound,
//! or after a failed write, the turn writes the whole live state to a new
//! file instead, which replaces the old one (`files::replace_file`). At
//! start-up [`Journal::open`] replays the records into the hub, cuts a torn
//! tail and refuses damage in the middle.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use natter_core::hub::{Hub, ReplayError};
use natter_core::journal::{self, CHANGE_MAX};
use natter_core::time::Instant;

use crate::files;
use crate::record;

/// The journal's name in the data directory.
pub const FILE: &str = "natter.journal";

/// The smallest size at which the journal is compacted; it is also
/// compacted once it is twice what the last compaction left.
pub const COMPACT_AT: u64 = 1024 * 1024;

/// How long after a failed write (a full disk) the next is tried: letters
/// are refused meanwhile.
const RETRY_MS: u64 = 1_000;

/// Why the journal cannot be used at start-up.
#[derive(Debug)]
pub enum OpenError {
    Io(PathBuf, io::Error),
    /// A record fails its checksum, and good records follow it.
    Damaged {
        path: PathBuf,
        offset: usize,
    },
    /// A record passes its checksum but is no change this server knows.
    Unknown {
        path: PathBuf,
        offset: usize,
    },
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Io(path, error) => write!(f, "cannot use {}: {error}", path.display()),
            OpenError::Damaged { path, offset } => write!(
                f,
                "{}: the record at byte {offset} is damaged and good records follow it; \
                 not starting rather than guess (move the file away to start without it)",
                path.display()
            ),
            OpenError::Unknown { path, offset } => write!(
                f,
                "{}: the record at byte {offset} is not one this version of natter-server \
                 knows; not starting rather than guess",
                path.display()
            ),
        }
    }
}

/// What start-up found in the journal.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    pub records: usize,
    /// Bytes of a torn last record, cut off.
    pub torn: u64,
    /// Changes naming an account that is gone (the owner removed it).
    pub unknown_users: usize,
    /// Letters that no longer fit the store.
    pub no_room: usize,
}

/// The journal file, open for appending and locked.
pub struct Journal {
    path: PathBuf,
    /// Where a rewrite is written before it takes the journal's name.
    temp: PathBuf,
    file: File,
    /// Bytes of whole records in the file.
    len: u64,
    /// Compact once the file is this long.
    compact_at: u64,
    /// The smallest `compact_at`.
    compact_floor: u64,
    /// The last write failed: the next is the whole state, in a new file,
    /// not before this time.
    retry_at: Option<Instant>,
    /// This turn's records.
    records: Vec<u8>,
    change: Box<[u8; CHANGE_MAX]>,
    /// Syncs so far, for the benchmark's figures.
    pub syncs: u64,
}

impl Journal {
    /// Opens (or creates) the journal in `dir` and replays it into `hub`,
    /// whose accounts are loaded, at `now`.
    pub fn open(
        dir: &Path,
        hub: &mut Hub,
        now: Instant,
        compact_floor: u64,
    ) -> Result<(Journal, Replayed), OpenError> {
        let path = dir.join(FILE);
        let io_error = |error| OpenError::Io(path.clone(), error);
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io_error)?;
        let (file, bytes) = files::open_locked(&path).map_err(io_error)?;
        let read = record::read(&bytes).map_err(|damage| OpenError::Damaged {
            path: path.clone(),
            offset: damage.offset,
        })?;
        let mut replayed = Replayed {
            records: read.records.len(),
            torn: (bytes.len() - read.good) as u64,
            ..Replayed::default()
        };
        let mut offset = 0;
        for payload in read.records {
            let change = journal::decode(payload).map_err(|_| OpenError::Unknown {
                path: path.clone(),
                offset,
            })?;
            match hub.replay(change, now) {
                Ok(()) => {}
                Err(ReplayError::UnknownUser) => replayed.unknown_users += 1,
                Err(ReplayError::NoRoom) => replayed.no_room += 1,
            }
            offset += record::HEADER + payload.len();
        }
        let len = read.good as u64;
        if replayed.torn > 0 {
            // What follows must start at a record's start.
            file.set_len(len).map_err(io_error)?;
            file.sync_all().map_err(io_error)?;
        }
        let journal = Journal {
            temp: files::temp_path(&path),
            path,
            file,
            len,
            compact_at: compact_floor.max(2 * len),
            compact_floor,
            retry_at: None,
            records: Vec::new(),
            change: Box::new([0; CHANGE_MAX]),
            syncs: 0,
        };
        Ok((journal, replayed))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// When a failed write is tried again, if one failed.
    pub fn retry_at(&self) -> Option<Instant> {
        self.retry_at
    }

    /// The end of a loop turn: the hub's changes are written and, if any
    /// was promised to someone, synced, before anything is sent; then the
    /// hub hears that they are durable. Nothing is allocated once the
    /// buffer has grown to a turn's size.
    pub fn commit(&mut self, hub: &mut Hub, now: Instant) {
        if self.retry_at.is_some_and(|at| now < at) {
            return;
        }
        let whole = self.retry_at.is_some() || self.len >= self.compact_at;
        if whole {
            hub.journal_all();
        }
        let batch = hub.start_batch();
        self.records.clear();
        let mut promised = false;
        while let Some(polled) = hub.poll_change(&mut self.change[..]) {
            // The record holds the line without its line feed.
            record::encode(&self.change[..polled.len - 1], &mut self.records);
            promised |= polled.promised;
        }
        if self.records.is_empty() {
            hub.journal_synced(batch);
            return;
        }
        let written = if whole {
            self.rewrite()
        } else {
            self.append(promised)
        };
        match written {
            Ok(()) => {
                if self.retry_at.take().is_some() {
                    eprintln!("natter-server: {}: written again", self.path.display());
                }
                hub.journal_synced(batch);
            }
            Err(error) => {
                if self.retry_at.is_none() {
                    eprintln!(
                        "natter-server: {}: {error}; messages are refused until it can be written",
                        self.path.display()
                    );
                }
                self.retry_at = Some(now.after(RETRY_MS));
                hub.journal_failed(batch);
            }
        }
    }

    fn append(&mut self, sync: bool) -> io::Result<()> {
        let written = self.file.write_all(&self.records).and_then(|()| {
            if sync {
                self.syncs += 1;
                self.file.sync_data()
            } else {
                Ok(())
            }
        });
        match written {
            Ok(()) => self.len += self.records.len() as u64,
            // A record cut short must not sit before the next ones. (After
            // a failed sync the kernel may have dropped what it held: the
            // next write is the whole state anyway.)
            Err(_) => {
                let _ = self.file.set_len(self.len);
            }
        }
        written
    }

    /// The whole state into a new file, which takes the journal's name.
    fn rewrite(&mut self) -> io::Result<()> {
        self.syncs += 1;
        self.file = files::replace_file_via(&self.temp, &self.path, &self.file, &self.records)?;
        self.len = self.records.len() as u64;
        self.compact_at = self.compact_floor.max(2 * self.len);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use natter_core::credential::{Name, Password};
    use natter_core::event::{Checked, Event};
    use natter_core::hub::Config;
    use natter_core::protocol::{ClientFrame, ServerFrame, Text};
    use natter_core::session::ConnId;

    const NOW: Instant = Instant(1_000_000);

    fn hub() -> Hub {
        let mut hub = Hub::new(Config::new(60_000, 600_000));
        for (name, password) in [("hans", "falcon*solo"), ("yoda", "wise@!man")] {
            hub.add_account(name, password).unwrap();
        }
        hub
    }

    /// Hans, logged in, posts `texts` to yoda, who is offline; every turn
    /// is committed as the loop does.
    fn post(hub: &mut Hub, journal: &mut Journal, texts: &[&str]) -> ConnId {
        let hans = login(hub, journal, "hans", "falcon*solo");
        for text in texts {
            let frame = ClientFrame::Message {
                to: Name::try_from("yoda").unwrap(),
                text: Text::try_from(*text).unwrap(),
            };
            hub.receive(hans, &frame, NOW);
            journal.commit(hub, NOW);
        }
        hans
    }

    fn login(hub: &mut Hub, journal: &mut Journal, name: &str, password: &str) -> ConnId {
        let conn = hub.connect(NOW, [127, 0, 0, 1].into()).unwrap();
        if hub.wants_entropy() {
            hub.add_entropy([7; 16]);
        }
        let name = Name::try_from(name).unwrap();
        hub.receive(conn, &ClientFrame::Username { name }, NOW);
        let password = Password::try_from(password).unwrap();
        hub.receive(conn, &ClientFrame::Password { password }, NOW);
        // The password check is the worker's: answer it as it would.
        while let Some(event) = hub.poll_event() {
            if let Event::CheckPassword { conn, .. } = event {
                let right = Checked {
                    right: true,
                    stored: None,
                };
                hub.password_checked(conn, right, NOW);
            }
        }
        journal.commit(hub, NOW);
        conn
    }

    /// Every frame queued for `conn`, decoded.
    fn frames(hub: &mut Hub, conn: ConnId) -> Vec<ServerFrame> {
        let mut out = [0u8; 8192];
        let sent = hub.poll_transmit(conn, NOW, &mut out);
        out[..sent.len]
            .split(|&b| b == b'\n')
            .filter(|line| !line.is_empty())
            .map(|line| natter_core::protocol::decode_server(line).unwrap())
            .collect()
    }

    #[test]
    fn letters_written_are_read_back_by_the_next_server() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = hub();
        let (mut journal, replayed) =
            Journal::open(dir.path(), &mut first, NOW, COMPACT_AT).unwrap();
        assert_eq!(replayed, Replayed::default());
        let hans = post(&mut first, &mut journal, &["one", "two"]);
        assert!(
            frames(&mut first, hans).contains(&ServerFrame::Accepted { id: 2 }),
            "accepted once synced"
        );
        assert_eq!(journal.syncs, 2, "one sync a turn that posts");
        drop(journal);
        let mut second = hub();
        let (mut journal, replayed) =
            Journal::open(dir.path(), &mut second, NOW, COMPACT_AT).unwrap();
        assert_eq!(replayed.records, 2);
        let yoda = login(&mut second, &mut journal, "yoda", "wise@!man");
        let texts: Vec<String> = frames(&mut second, yoda)
            .into_iter()
            .filter_map(|f| match f {
                ServerFrame::Message { text, .. } => Some(text.as_str().to_owned()),
                _ => None,
            })
            .collect();
        assert_eq!(texts, ["one", "two"]);
    }

    #[test]
    fn a_journal_past_its_bound_is_rewritten_to_what_is_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let mut hub = hub();
        let (mut journal, _) = Journal::open(dir.path(), &mut hub, NOW, 256).unwrap();
        post(&mut hub, &mut journal, &["a"; 20]);
        let size = std::fs::metadata(journal.path()).unwrap().len();
        // Twenty letters of ~100 bytes, but never more than twice the
        // live state (or the floor) before a compaction.
        assert!(size <= 2 * 20 * 120, "{size} bytes");
        let mut again = self::hub();
        drop(journal);
        let (_, replayed) = Journal::open(dir.path(), &mut again, NOW, 256).unwrap();
        assert!(replayed.records < 25, "{replayed:?}");
    }

    #[test]
    fn a_torn_tail_is_cut_and_damage_in_the_middle_stops_start_up() {
        let dir = tempfile::tempdir().unwrap();
        let mut hub = hub();
        let (mut journal, _) = Journal::open(dir.path(), &mut hub, NOW, COMPACT_AT).unwrap();
        post(&mut hub, &mut journal, &["one", "two", "three"]);
        let path = journal.path().to_owned();
        drop(journal);
        let whole = std::fs::read(&path).unwrap();
        let records = record::read(&whole).unwrap().records;
        let two: usize = records[..2].iter().map(|p| record::HEADER + p.len()).sum();
        // Cut in the middle of the last record.
        let cut = whole.len() - 5;
        std::fs::write(&path, &whole[..cut]).unwrap();
        let (_, replayed) = Journal::open(dir.path(), &mut self::hub(), NOW, COMPACT_AT).unwrap();
        assert_eq!(replayed.records, 2);
        assert_eq!(replayed.torn, (cut - two) as u64);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), two as u64, "cut");
        // A flipped byte in the first record, with good ones after it.
        let mut damaged = whole.clone();
        damaged[record::HEADER + 2] ^= 0x20;
        std::fs::write(&path, &damaged).unwrap();
        match Journal::open(dir.path(), &mut self::hub(), NOW, COMPACT_AT) {
            Err(error @ OpenError::Damaged { offset: 0, .. }) => {
                assert!(error.to_string().contains("natter.journal"), "{error}");
            }
            other => panic!("{:?}", other.map(|(_, r)| r)),
        }
    }
}
