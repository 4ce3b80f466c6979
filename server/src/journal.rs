//! The journal file (issue 11): the hub's durable state, as checksummed
//! records (`record`) appended to `natter.journal` in the data directory,
//! so that letters waiting, blacklists and password blocks survive
//! `kill -9` and a power cut.
//!
//! [`Journal::open`] replays the records into the hub at start-up, cuts a
//! torn tail and refuses damage in the middle. Then the file belongs to
//! the journal's thread (`journal_thread`), which appends each batch of
//! changes with one `write` and one `fdatasync` ([`Journal::append`]), or
//! writes the whole live state to a new file that replaces the old one
//! ([`Journal::rewrite`], `files::replace_file`): compaction, and the
//! retry after a failed write.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use natter_core::hub::{Hub, ReplayError};
use natter_core::journal;
use natter_core::time::Instant;

use crate::files;
use crate::record;

/// The journal's name in the data directory.
pub const FILE: &str = "natter.journal";

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
    /// Syncs so far, for the benchmark's figures.
    pub syncs: u64,
    /// Tests only: each write takes this much longer (`sync_delay`).
    delay: Option<std::time::Duration>,
}

impl Journal {
    /// Opens (or creates) the journal in `dir` and replays it into `hub`,
    /// whose accounts are loaded, at `now`.
    pub fn open(dir: &Path, hub: &mut Hub, now: Instant) -> Result<(Journal, Replayed), OpenError> {
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
            syncs: 0,
            delay: sync_delay(),
        };
        Ok((journal, replayed))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes of whole records in the file.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file holds no record.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `records` with one `write` and, if `sync`, makes them
    /// durable with one `fdatasync`. A failed write is cut off, so the
    /// next record starts where a record ends.
    pub fn append(&mut self, records: &[u8], sync: bool) -> io::Result<()> {
        self.slow_disk();
        let written = self.file.write_all(records).and_then(|()| {
            if sync {
                self.syncs += 1;
                self.file.sync_data()
            } else {
                Ok(())
            }
        });
        match written {
            Ok(()) => self.len += records.len() as u64,
            // A record cut short must not sit before the next ones. (After
            // a failed sync the kernel may have dropped what it held: the
            // next write is the whole state anyway.)
            Err(_) => {
                let _ = self.file.set_len(self.len);
            }
        }
        written
    }

    /// `records`, the whole state, into a new file, which takes the
    /// journal's name once it is durable.
    pub fn rewrite(&mut self, records: &[u8]) -> io::Result<()> {
        self.syncs += 1;
        self.slow_disk();
        self.file = files::replace_file_via(&self.temp, &self.path, &self.file, records)?;
        self.len = records.len() as u64;
        Ok(())
    }

    /// Tests only: a disk as slow as an SD card in a bad moment. The wait
    /// comes before the write, so a test that finds a record missing from
    /// the file knows its batch was not done.
    fn slow_disk(&self) {
        if let Some(delay) = self.delay {
            std::thread::sleep(delay);
        }
    }
}

/// How much longer each batch's write and sync take, for tests of a slow
/// disk: `NATTER_TEST_SYNC_DELAY_MS`, read by debug builds only (the test
/// builds); a release build has no such knob.
fn sync_delay() -> Option<std::time::Duration> {
    if !cfg!(debug_assertions) {
        return None;
    }
    let ms = std::env::var("NATTER_TEST_SYNC_DELAY_MS")
        .ok()?
        .parse()
        .ok()?;
    Some(std::time::Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal_thread::{COMPACT_AT, JournalThread};
    use crate::waker::Waker;
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

    /// The journal in `dir`, replayed into `hub`, on its thread.
    fn open(dir: &Path, hub: &mut Hub, compact_at: u64) -> (JournalThread, Replayed) {
        let (journal, replayed) = Journal::open(dir, hub, NOW).unwrap();
        let poller = std::sync::Arc::new(polling::Poller::new().unwrap());
        let thread = JournalThread::spawn(journal, compact_at, Waker::new(poller)).unwrap();
        (thread, replayed)
    }

    fn message(to: &str, text: &str) -> ClientFrame {
        ClientFrame::Message {
            to: Name::try_from(to).unwrap(),
            text: Text::try_from(text).unwrap(),
        }
    }

    /// Hans, logged in, posts `texts` to yoda, who is offline; every turn
    /// is written and synced before the next.
    fn post(hub: &mut Hub, journal: &mut JournalThread, texts: &[&str]) -> ConnId {
        let hans = login(hub, journal, "hans", "falcon*solo");
        for text in texts {
            hub.receive(hans, &message("yoda", text), NOW);
            journal.flush(hub, NOW).unwrap();
        }
        hans
    }

    fn login(hub: &mut Hub, journal: &mut JournalThread, name: &str, password: &str) -> ConnId {
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
        journal.flush(hub, NOW).unwrap();
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

    /// The texts of the messages in `frames`.
    fn texts(frames: Vec<ServerFrame>) -> Vec<String> {
        frames
            .into_iter()
            .filter_map(|f| match f {
                ServerFrame::Message { text, .. } => Some(text.as_str().to_owned()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn letters_written_are_read_back_by_the_next_server() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = hub();
        let (mut journal, replayed) = open(dir.path(), &mut first, COMPACT_AT);
        assert_eq!(replayed, Replayed::default());
        let hans = post(&mut first, &mut journal, &["one", "two"]);
        assert!(
            frames(&mut first, hans).contains(&ServerFrame::Accepted { id: 2 }),
            "accepted once synced"
        );
        assert_eq!(journal.syncs, 2, "one sync a batch that posts");
        drop(journal);
        let mut second = hub();
        let (mut journal, replayed) = open(dir.path(), &mut second, COMPACT_AT);
        assert_eq!(replayed.records, 2);
        let yoda = login(&mut second, &mut journal, "yoda", "wise@!man");
        assert_eq!(texts(frames(&mut second, yoda)), ["one", "two"]);
    }

    #[test]
    fn a_journal_past_its_bound_is_rewritten_to_what_is_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let mut hub = hub();
        let (mut journal, _) = open(dir.path(), &mut hub, 1024);
        let long = "x".repeat(100);
        post(&mut hub, &mut journal, &[long.as_str(); 20]);
        // yoda reads all twenty: none is waiting any more.
        let yoda = login(&mut hub, &mut journal, "yoda", "wise@!man");
        let read = texts(frames(&mut hub, yoda)).len() as u64;
        assert_eq!(read, 20);
        hub.receive(yoda, &ClientFrame::Received { id: read }, NOW);
        journal.flush(&mut hub, NOW).unwrap();
        let path = dir.path().join(FILE);
        let before = std::fs::metadata(&path).unwrap().len();
        assert!(before > 2 * 1024, "{before} bytes: twenty letters and more");
        // Blocks and unblocks grow the file until it passes its bound;
        // then it is rewritten to what is live: no letter, a read mark, a
        // blacklist.
        let mut sizes = Vec::new();
        for round in 0..100 {
            let user = "hans".try_into().unwrap();
            let frame = match round % 2 {
                0 => ClientFrame::Block { user },
                _ => ClientFrame::Unblock { user },
            };
            hub.receive(yoda, &frame, NOW);
            journal.flush(&mut hub, NOW).unwrap();
            sizes.push(std::fs::metadata(&path).unwrap().len());
        }
        assert!(
            sizes.iter().any(|&size| size < 200),
            "never compacted: {before} bytes, then {sizes:?}"
        );
        assert!(sizes.iter().all(|&size| size < 2 * before), "{sizes:?}");
        drop(journal);
        let mut again = self::hub();
        let (_, replayed) = open(dir.path(), &mut again, 1024);
        assert!(replayed.records < 60, "{replayed:?}");
    }

    #[test]
    fn a_torn_tail_is_cut_and_damage_in_the_middle_stops_start_up() {
        let dir = tempfile::tempdir().unwrap();
        let mut hub = hub();
        let (mut journal, _) = open(dir.path(), &mut hub, COMPACT_AT);
        post(&mut hub, &mut journal, &["one", "two", "three"]);
        let path = journal.path().to_owned();
        drop(journal);
        let whole = std::fs::read(&path).unwrap();
        let records = record::read(&whole).unwrap().records;
        let two: usize = records[..2].iter().map(|p| record::HEADER + p.len()).sum();
        // Cut in the middle of the last record.
        let cut = whole.len() - 5;
        std::fs::write(&path, &whole[..cut]).unwrap();
        let (_, replayed) = Journal::open(dir.path(), &mut self::hub(), NOW).unwrap();
        assert_eq!(replayed.records, 2);
        assert_eq!(replayed.torn, (cut - two) as u64);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), two as u64, "cut");
        // A flipped byte in the first record, with good ones after it.
        let mut damaged = whole.clone();
        damaged[record::HEADER + 2] ^= 0x20;
        std::fs::write(&path, &damaged).unwrap();
        match Journal::open(dir.path(), &mut self::hub(), NOW) {
            Err(error @ OpenError::Damaged { offset: 0, .. }) => {
                assert!(error.to_string().contains("natter.journal"), "{error}");
            }
            other => panic!("{:?}", other.map(|(_, r)| r)),
        }
    }
}
