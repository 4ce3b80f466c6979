//! Durability (issue 11) with real crashes: the server is killed with
//! SIGKILL, as a crash, the OOM killer or a power cut would stop it, then
//! started again on the same directory. Every message it had accepted
//! (`Accepted`) is delivered, exactly as sent, once and in order;
//! blacklists and password blocks hold; nothing that was never sent
//! appears. The journal's records are checked on disk too: a torn tail is
//! cut, damage in the middle stops start-up.

use std::io::Write;
use std::thread;

use natter_core::protocol::{ClientFrame, Refusal, ServerFrame};
use natter_core::testing::frames::message;
use natter_e2e::{Raw, Server};

const JOURNAL: &str = "natter.journal";

/// Waits until `raw` is told that letters up to `id` at least are
/// accepted; returns the id it was told.
fn accepted(raw: &mut Raw, id: u64) -> u64 {
    loop {
        if let ServerFrame::Accepted { id: got } =
            raw.frame_where(|f| matches!(f, ServerFrame::Accepted { .. }))
            && got >= id
        {
            return got;
        }
    }
}

/// Logs `name` in and collects the texts of the messages that waited, as
/// `from: text`, acknowledging none of them.
fn waiting(server: &Server, name: &str, password: &str) -> Vec<String> {
    let mut raw = Raw::connect(("127.0.0.1", server.port));
    raw.send(&ClientFrame::Username {
        name: name.try_into().unwrap(),
    });
    raw.send(&ClientFrame::Password {
        password: password.try_into().unwrap(),
    });
    let ServerFrame::Welcome { waiting } =
        raw.frame_where(|f| matches!(f, ServerFrame::Welcome { .. }))
    else {
        unreachable!()
    };
    (0..waiting)
        .map(
            |_| match raw.frame_where(|f| matches!(f, ServerFrame::Message { .. })) {
                ServerFrame::Message { from, text, .. } => format!("{from}: {text}"),
                _ => unreachable!(),
            },
        )
        .collect()
}

/// (a) Messages waiting for an offline user, a blacklist and a password
/// block, then SIGKILL: all of it is there after the restart (R8, R15,
/// R17).
#[test]
fn waiting_messages_blacklists_and_blocks_survive_a_kill() {
    let server = Server::start(60, 120);
    let mut hans = server.raw_login("hans", "falcon*solo");
    let texts = ["first", "with \"quotes\" and \\ and ünïcödé", "third"];
    for text in texts {
        hans.send(&message("yoda", text));
    }
    accepted(&mut hans, 3);
    hans.send(&ClientFrame::Block {
        user: "luke".try_into().unwrap(),
    });
    hans.frame_where(|f| matches!(f, ServerFrame::UserBlocked { .. }));
    let mut vader = server.client();
    vader.expect("Username: ");
    vader.send("vader");
    for wrong in ["one", "two", "three"] {
        vader.expect("Password: ");
        vader.send(wrong);
    }
    vader.expect("Invalid Password. Your account has been blocked. Please try again later\n");
    let dir = server.crash();

    let server = Server::start_in(dir, 60, 120);
    let want: Vec<String> = texts.iter().map(|t| format!("hans: {t}")).collect();
    assert_eq!(waiting(&server, "yoda", "wise@!man"), want);
    // Not acknowledged before: they come again, once (at least once).
    assert_eq!(waiting(&server, "yoda", "wise@!man"), want);
    let mut luke = server.login("luke", "light==saber");
    luke.send("message hans still there?");
    luke.expect("Your message could not be delivered as the recipient has blocked you\n");
    let mut vader = server.client();
    vader.expect("Username: ");
    vader.send("vader");
    vader.expect("Password: ");
    vader.send("sithlord**");
    vader
        .expect("Your account is blocked due to multiple login failures. Please try again later\n");
}

/// Streams `count` messages from hans to yoda (offline) while reading
/// hans's frames; kills the server once `kill_after` are accepted.
/// Returns the highest id accepted and the directory.
fn stream_then_crash(server: Server, count: usize, kill_after: u64) -> (u64, tempfile::TempDir) {
    let mut hans = server.raw_login("hans", "falcon*solo");
    let mut sender = hans.sender();
    let streaming = thread::spawn(move || {
        let mut buf = [0u8; natter_core::limits::FRAME_MAX + 1];
        for i in 1..=count {
            let n = natter_core::protocol::encode(&message("yoda", &format!("m{i}")), &mut buf)
                .unwrap();
            // The server is killed mid-stream: the rest cannot be sent.
            if sender.write_all(&buf[..n]).is_err() {
                return;
            }
        }
    });
    let mut highest = 0;
    loop {
        match hans.frame() {
            ServerFrame::Accepted { id } => {
                assert!(id > highest, "accepted {id} after {highest}");
                highest = id;
                if highest >= kill_after {
                    break;
                }
            }
            ServerFrame::Stored { .. } => {}
            other => panic!("{other:?}"),
        }
    }
    let dir = server.crash();
    streaming.join().unwrap();
    (highest, dir)
}

/// What yoda gets after the restart: m1, m2, ... with no gap, nothing
/// twice, nothing never sent; at least every accepted one. (One synced
/// but not yet confirmed when the kill came may follow: its sender was
/// not told either way.)
fn assert_delivered_from_one(got: &[String], accepted: u64, sent: usize) {
    assert!(
        got.len() as u64 >= accepted,
        "{} delivered, {accepted} accepted",
        got.len()
    );
    assert!(got.len() <= sent);
    for (i, line) in got.iter().enumerate() {
        assert_eq!(line, &format!("hans: m{}", i + 1), "in {got:?}");
    }
}

/// (b) SIGKILL in the middle of a stream of messages.
#[test]
fn a_kill_mid_stream_loses_no_accepted_message() {
    // The store takes yoda's mailbox of 16 KiB: 150 short letters fit.
    let sent = 150;
    let (accepted, dir) = stream_then_crash(Server::start(60, 120), sent, 60);
    let server = Server::start_in(dir, 60, 120);
    assert_delivered_from_one(&waiting(&server, "yoda", "wise@!man"), accepted, sent);
}

/// (c) SIGKILL while the journal is rewritten again and again (a 1 KiB
/// bound), and a rewrite left half-written by an earlier crash.
#[test]
fn a_kill_among_compactions_loses_no_accepted_message() {
    let sent = 150;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("credentials.txt"), natter_e2e::CREDENTIALS).unwrap();
    // What a crash in the middle of a rewrite leaves: the new file, half
    // written, beside the journal it was to replace.
    std::fs::write(dir.path().join("natter.journal.new"), b"\x40\0\0\0garbage").unwrap();
    let server = Server::start_with(dir, 60, 120, &["--compact-at", "1"]);
    let (accepted, dir) = stream_then_crash(server, sent, 100);
    let size = std::fs::metadata(dir.path().join(JOURNAL)).unwrap().len();
    // Everything is still waiting, so the journal holds at least it, and
    // at most twice what the last rewrite left (plus a turn's records).
    assert!(size < 64 * 1024, "{size} bytes: not compacted");
    let server = Server::start_with(dir, 60, 120, &["--compact-at", "1"]);
    assert_delivered_from_one(&waiting(&server, "yoda", "wise@!man"), accepted, sent);
}

/// (d) A journal whose last record was cut in half (a power cut during
/// the write), then one with a flipped byte in a middle record.
#[test]
fn a_torn_tail_is_cut_with_a_word_and_damage_in_the_middle_stops_start_up() {
    let server = Server::start(60, 120);
    let mut hans = server.raw_login("hans", "falcon*solo");
    for i in 1..=3 {
        hans.send(&message("yoda", &format!("m{i}")));
        accepted(&mut hans, i);
    }
    let dir = server.crash();
    let path = dir.path().join(JOURNAL);
    let whole = std::fs::read(&path).unwrap();

    // Torn: the last record loses its second half.
    let last = whole.len() - record_len(&whole, 2);
    let torn = last + (whole.len() - last) / 2;
    std::fs::write(&path, &whole[..torn]).unwrap();
    let server = Server::start_in(dir, 60, 120);
    let log = server.log();
    assert!(
        log.contains(&format!(
            "cut {} bytes after the last whole record",
            torn - last
        )),
        "{log}"
    );
    assert_delivered_from_one(&waiting(&server, "yoda", "wise@!man"), 2, 2);
    let dir = server.crash();

    // Damaged: a flipped byte in the first record, good ones after it.
    let mut damaged = whole.clone();
    damaged[10] ^= 0x01;
    std::fs::write(&path, &damaged).unwrap();
    let (status, log) = natter_e2e::run_server(&["0", "60", "120"], dir.path());
    assert!(!status.success());
    assert!(
        log.contains("natter.journal: the record at byte 0 is damaged"),
        "{log}"
    );
    // Nothing was changed: the owner decides.
    assert_eq!(std::fs::read(&path).unwrap(), damaged);
}

/// The length of the record that starts after `skip` records.
fn record_len(journal: &[u8], skip: usize) -> usize {
    let mut at = 0;
    for _ in 0..skip {
        at += 8 + u32::from_le_bytes(journal[at..at + 4].try_into().unwrap()) as usize;
    }
    8 + u32::from_le_bytes(journal[at..at + 4].try_into().unwrap()) as usize
}

/// Sets the server's limit on the size of the files it writes, as a full
/// disk would stop its writes (the kernel fails them with EFBIG).
fn limit_file_size(server: &Server, bytes: Option<u64>) {
    use rustix::process::{Pid, Resource, Rlimit, prlimit};
    let pid = Pid::from_raw(server.pid() as i32).unwrap();
    let limit = Rlimit {
        current: bytes,
        maximum: None,
    };
    prlimit(Some(pid), Resource::Fsize, limit).unwrap();
}

/// A journal that cannot be written (a full disk): the sender is refused,
/// clearly; nothing accepted is lost; what was refused never appears; once
/// it can be written again, messages are taken again.
#[test]
fn a_full_disk_refuses_messages_and_loses_nothing_accepted() {
    let server = Server::start(60, 120);
    let mut hans = server.raw_login("hans", "falcon*solo");
    hans.send(&message("yoda", "before"));
    accepted(&mut hans, 1);
    let size = std::fs::metadata(server.dir.path().join(JOURNAL))
        .unwrap()
        .len();
    limit_file_size(&server, Some(size));
    // Its write fails: kept in memory, told as stored, not accepted.
    hans.send(&message("yoda", "during"));
    assert_eq!(
        hans.frame(),
        ServerFrame::Stored {
            user: "yoda".try_into().unwrap()
        }
    );
    hans.send(&message("yoda", "refused"));
    assert_eq!(
        hans.frame(),
        ServerFrame::Refused {
            refusal: Refusal::NotKept
        }
    );
    let mut luke = server.login("luke", "light==saber");
    luke.send("message yoda hello");
    luke.expect(
        "Error. The server cannot store messages right now (its disk is full); \
         message not sent. Please try again later\n",
    );
    // Room again: within a second the state is written whole, by itself,
    // and "during" is accepted.
    limit_file_size(&server, None);
    accepted(&mut hans, 2);
    hans.send(&message("yoda", "after"));
    let after = accepted(&mut hans, 3);
    let dir = server.crash();
    let server = Server::start_in(dir, 60, 120);
    assert_eq!(
        waiting(&server, "yoda", "wise@!man"),
        ["hans: before", "hans: during", "hans: after"],
        "accepted up to {after}"
    );
}

/// A journal that cannot be opened stops start-up, naming it: the server
/// never runs without the journal it was told to keep.
#[test]
fn a_journal_that_cannot_be_opened_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("credentials.txt"), natter_e2e::CREDENTIALS).unwrap();
    let (status, log) =
        natter_e2e::run_server(&["0", "60", "120", "--data-dir", "missing"], dir.path());
    assert!(!status.success());
    assert!(log.contains("missing/natter.journal"), "{log}");
}
