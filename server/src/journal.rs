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
    use natter_core::hub::Config;
    use natter_core::journal::Change;
    use natter_core::protocol::{ClientFrame, Refusal, ServerFrame};
    use natter_core::session::ConnId;
    use natter_core::testing::frames::{message, refused};
    use natter_core::testing::{self, name, password, password_of, sample_hub, settle, username};

    const NOW: Instant = Instant(1_000_000);

    fn hub() -> Hub {
        sample_hub(Config::new(60_000, 600_000))
    }

    /// The journal in `dir`, replayed into `hub`, on its thread.
    fn open(dir: &Path, hub: &mut Hub, compact_at: u64) -> (Server, Replayed) {
        let (journal, replayed) = Journal::open(dir, hub, NOW).unwrap();
        let poller = std::sync::Arc::new(polling::Poller::new().unwrap());
        let journal = JournalThread::spawn(journal, compact_at, Waker::new(poller)).unwrap();
        let server = Server {
            journal,
            sent: Vec::new(),
        };
        (server, replayed)
    }

    /// The test's shell: the real journal thread, each turn written and
    /// synced before the next, and every frame sent, decoded.
    struct Server {
        journal: JournalThread,
        sent: Vec<(ConnId, ServerFrame)>,
    }

    impl testing::Shell for Server {
        fn journal(&mut self, hub: &mut Hub, now: Instant) {
            self.journal
                .flush(hub, now)
                .expect("the journal is written");
        }

        fn sent(&mut self, conn: ConnId, bytes: &[u8]) {
            let frames = bytes.split(|&b| b == b'\n').filter(|line| !line.is_empty());
            for line in frames {
                let frame = natter_core::protocol::decode_server(line).unwrap();
                self.sent.push((conn, frame));
            }
        }
    }

    impl Server {
        fn receive(&mut self, hub: &mut Hub, conn: ConnId, frame: ClientFrame) {
            hub.receive(conn, &frame, NOW);
            settle(hub, self, NOW);
        }

        /// `user`, logged in with the sample password.
        fn login(&mut self, hub: &mut Hub, user: &str) -> ConnId {
            let conn = hub.connect(NOW, [127, 0, 0, 1].into()).unwrap();
            settle(hub, self, NOW);
            self.receive(hub, conn, username(user));
            self.receive(hub, conn, password(password_of(user)));
            let welcomed = |(to, frame): &(ConnId, ServerFrame)| {
                *to == conn && matches!(frame, ServerFrame::Welcome { .. })
            };
            assert!(self.sent.iter().any(welcomed), "{user}: {:?}", self.sent);
            conn
        }

        /// `from` posts `texts` to `to`, each a turn of its own.
        fn post(&mut self, hub: &mut Hub, from: ConnId, to: &str, texts: &[&str]) {
            for text in texts {
                self.receive(hub, from, message(to, text));
            }
        }

        /// Drains and returns what `conn` was sent.
        fn take(&mut self, conn: ConnId) -> Vec<ServerFrame> {
            let (taken, kept) = std::mem::take(&mut self.sent)
                .into_iter()
                .partition(|(to, _)| *to == conn);
            self.sent = kept;
            taken.into_iter().map(|(_, frame)| frame).collect()
        }
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

    /// Every change in the journal file at `path`.
    fn changes(path: &Path) -> Vec<Change> {
        let bytes = std::fs::read(path).unwrap();
        let read = record::read(&bytes).unwrap();
        assert_eq!(read.good, bytes.len(), "whole records only");
        let decode = |payload: &&[u8]| journal::decode(payload).unwrap();
        read.records.iter().map(decode).collect()
    }

    #[test]
    fn letters_written_are_read_back_by_the_next_server() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = hub();
        let (mut server, replayed) = open(dir.path(), &mut first, COMPACT_AT);
        assert_eq!(replayed, Replayed::default());
        let hans = server.login(&mut first, "hans");
        server.post(&mut first, hans, "yoda", &["one", "two"]);
        assert!(
            server.take(hans).contains(&ServerFrame::Accepted { id: 2 }),
            "accepted once synced"
        );
        assert_eq!(server.journal.syncs, 2, "one sync a batch that posts");
        drop(server);
        let mut second = hub();
        let (mut server, replayed) = open(dir.path(), &mut second, COMPACT_AT);
        assert_eq!(replayed.records, 2);
        let yoda = server.login(&mut second, "yoda");
        assert_eq!(texts(server.take(yoda)), ["one", "two"]);
    }

    /// Compaction drops what was read and keeps what is live: not just a
    /// smaller file, but one from which the next server gets the same
    /// state. (A test that only watched the size passed with a compaction
    /// that wrote nothing of the state back.)
    #[test]
    fn a_journal_past_its_bound_is_rewritten_to_what_is_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let mut hub = hub();
        // Past the letters, so the one compaction comes after they are read.
        let bound = 6 * 1024;
        let (mut server, _) = open(dir.path(), &mut hub, bound);
        let path = dir.path().join(FILE);
        let hans = server.login(&mut hub, "hans");
        // Twenty letters for yoda, who reads them; two for leia, who does
        // not log in: those are what is waiting.
        let long = "x".repeat(100);
        server.post(&mut hub, hans, "yoda", &[long.as_str(); 20]);
        server.post(&mut hub, hans, "leia", &["still", "waiting"]);
        let yoda = server.login(&mut hub, "yoda");
        assert_eq!(texts(server.take(yoda)).len(), 20);
        server.receive(&mut hub, yoda, ClientFrame::Received { id: 20 });
        server.receive(
            &mut hub,
            yoda,
            ClientFrame::Block {
                user: name("vader"),
            },
        );
        let before = std::fs::metadata(&path).unwrap().len();
        assert!(before < bound, "{before} bytes: not compacted yet");
        let letters = |changes: &[Change]| {
            let ids = changes.iter().filter_map(|change| match change {
                Change::Letter { id, .. } => Some(*id),
                _ => None,
            });
            ids.collect::<Vec<_>>()
        };
        assert!(
            letters(&changes(&path)).contains(&20),
            "{before} bytes: the letters read are in the file yet"
        );
        // Blocks and unblocks of hans grow the file until it passes its
        // bound; then it is rewritten to what is live: the two letters
        // for leia, yoda's blacklist, and no letter read.
        let mut sizes = Vec::new();
        let mut compacted = None;
        let mut hans_blocked = false;
        for round in 0..200 {
            let user = name("hans");
            let frame = match round % 2 {
                0 => ClientFrame::Block { user },
                _ => ClientFrame::Unblock { user },
            };
            server.receive(&mut hub, yoda, frame);
            hans_blocked = round % 2 == 0;
            let size = std::fs::metadata(&path).unwrap().len();
            sizes.push(size);
            if size < before {
                compacted = Some(changes(&path));
                break;
            }
        }
        let Some(compacted) = compacted else {
            panic!("never compacted: {before} bytes, then {sizes:?}");
        };
        assert!(
            sizes.last() < Some(&(before / 4)),
            "{before}, then {sizes:?}"
        );
        assert_eq!(letters(&compacted), [21, 22], "{compacted:?}");
        assert_eq!(compacted[0], Change::Ids { latest: 22 }, "{compacted:?}");
        assert!(
            compacted.iter().any(|change| matches!(
                change,
                Change::Blacklist { user, blocked }
                    if *user == name("yoda") && blocked.contains(&name("vader"))
            )),
            "{compacted:?}"
        );
        // Yoda ends with hans blocked as well.
        if !hans_blocked {
            server.receive(&mut hub, yoda, ClientFrame::Block { user: name("hans") });
        }
        assert!(
            !server
                .take(yoda)
                .iter()
                .any(|f| matches!(f, ServerFrame::Refused { .. })),
            "every block and unblock done"
        );
        drop(server);
        // The next server gets the same state from the compacted file.
        let mut again = self::hub();
        let (mut server, replayed) = open(dir.path(), &mut again, COMPACT_AT);
        assert_eq!(replayed.unknown_users + replayed.no_room, 0, "{replayed:?}");
        let leia = server.login(&mut again, "leia");
        assert_eq!(texts(server.take(leia)), ["still", "waiting"]);
        let yoda = server.login(&mut again, "yoda");
        assert_eq!(texts(server.take(yoda)), [] as [&str; 0], "read before");
        let hans = server.login(&mut again, "hans");
        server.post(&mut again, hans, "yoda", &["blocked?"]);
        server.post(&mut again, hans, "leia", &["the next id"]);
        let to_hans = server.take(hans);
        assert!(
            to_hans.contains(&refused(Refusal::BlockedByRecipient)),
            "{to_hans:?}"
        );
        assert!(
            to_hans.contains(&ServerFrame::Accepted { id: 23 }),
            "ids go on: {to_hans:?}"
        );
        server.receive(
            &mut again,
            yoda,
            ClientFrame::Block {
                user: name("vader"),
            },
        );
        let to_yoda = server.take(yoda);
        let already = refused(Refusal::AlreadyBlocked {
            user: name("vader"),
        });
        assert!(to_yoda.contains(&already), "{to_yoda:?}");
    }

    #[test]
    fn a_torn_tail_is_cut_and_damage_in_the_middle_stops_start_up() {
        let dir = tempfile::tempdir().unwrap();
        let mut hub = hub();
        let (mut server, _) = open(dir.path(), &mut hub, COMPACT_AT);
        let hans = server.login(&mut hub, "hans");
        server.post(&mut hub, hans, "yoda", &["one", "two", "three"]);
        let path = server.journal.path().to_owned();
        drop(server);
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
