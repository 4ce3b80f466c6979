//! A slow disk (issue 24): the journal's every write and sync made slower
//! (`Server::start_on_slow_disk`, a failpoint in the journal's thread), as
//! an SD card in a bad moment is. People online go on chatting while a
//! sync runs; what promises durability waits for it, and nothing else
//! does.

use std::io::Write;
use std::thread;

use natter_core::protocol::{ClientFrame, ServerFrame};
use natter_core::testing::frames::message;
use natter_e2e::{Raw, Server};

/// While the first sync runs (hans's first message is not yet accepted),
/// a message reaches yoda, her answer reaches hans, `whoelse` is answered
/// and luke logs in and is announced: the loop never waits for the disk.
#[test]
fn people_online_chat_while_the_disk_syncs() {
    // Long enough for four logins under qemu-user, with room to spare.
    let server = Server::start_on_slow_disk(8_000);
    let mut hans = server.raw_login("hans", "falcon*solo");
    let mut yoda = server.raw_login("yoda", "wise@!man");
    hans.frame_where(|f| matches!(f, ServerFrame::LoggedIn { .. }));
    hans.send(&message("yoda", "ping"));
    let ServerFrame::Message { id, text, .. } =
        yoda.frame_where(|f| matches!(f, ServerFrame::Message { .. }))
    else {
        unreachable!()
    };
    assert_eq!(text.as_str(), "ping");
    yoda.send(&ClientFrame::Received { id });
    yoda.send(&message("hans", "pong"));
    // Each in its turn, and no Accepted among them: the sync of "ping" has
    // not ended.
    fn next(hans: &mut Raw) -> ServerFrame {
        match hans.frame() {
            ServerFrame::Accepted { id } => panic!("accepted {id}: the sync ended too soon"),
            frame => frame,
        }
    }
    let answer = next(&mut hans);
    assert!(
        matches!(&answer, ServerFrame::Message { text, .. } if text.as_str() == "pong"),
        "{answer:?}"
    );
    hans.send(&ClientFrame::WhoElse {});
    let users = next(&mut hans);
    assert!(
        matches!(&users, ServerFrame::Users { users, .. } if users.len() == 1),
        "{users:?}"
    );
    let luke = server.raw_login("luke", "light==saber");
    let notice = next(&mut hans);
    assert!(
        matches!(&notice, ServerFrame::LoggedIn { user } if user.as_str() == "luke"),
        "{notice:?}"
    );
    drop(luke);
    // Then the sync ends, and hans is told.
    assert!(matches!(
        hans.frame_where(|f| matches!(f, ServerFrame::Accepted { .. })),
        ServerFrame::Accepted { id: 1 }
    ));
}

/// The bug of issue 24: 100 messages pipelined to someone offline. Each
/// `Stored` is read only once its letter is in the journal file (the
/// failpoint waits before the write, then the sync follows at once): a
/// `Stored` sent ahead of its sync finds its letter missing.
#[test]
fn stored_is_told_only_once_its_letter_is_on_disk() {
    let server = Server::start_on_slow_disk(300);
    let journal = server.dir.path().join("natter.journal");
    let mut hans = server.raw_login("hans", "falcon*solo");
    let mut sender = hans.sender();
    let count = 100;
    let streaming = thread::spawn(move || {
        let mut bytes = Vec::new();
        for i in 1..=count {
            let mut buf = [0u8; natter_core::limits::FRAME_MAX + 1];
            let n = natter_core::protocol::encode(&message("yoda", &format!("m{i}")), &mut buf)
                .unwrap();
            bytes.extend_from_slice(&buf[..n]);
        }
        sender.write_all(&bytes).unwrap();
    });
    let mut stored = 0;
    while stored < count {
        match hans.frame() {
            ServerFrame::Stored { .. } => {
                stored += 1;
                let on_disk = letters_in(&std::fs::read(&journal).unwrap());
                assert!(
                    on_disk >= stored,
                    "Stored number {stored} read with {on_disk} letters in the journal"
                );
            }
            ServerFrame::Accepted { .. } => {}
            other => panic!("{other:?}"),
        }
    }
    streaming.join().unwrap();
    drop(server);
}

/// How many letters a journal file holds: its records are JSON, a letter's
/// `{"Letter":{...}}`.
fn letters_in(journal: &[u8]) -> usize {
    journal
        .windows(br#"{"Letter":"#.len())
        .filter(|w| *w == br#"{"Letter":"#)
        .count()
}
