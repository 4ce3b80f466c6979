use super::*;
use crate::capacity::Capacity;
use crate::limits::{DEFAULT_ACCOUNTS, DEFAULT_CONNECTIONS};
use crate::testing::{name, text};
use std::vec::Vec;

/// Chunks in a store of the default capacity.
const CHUNKS: usize = Capacity::new(DEFAULT_ACCOUNTS, DEFAULT_CONNECTIONS).chunks();

fn empty_store() -> Store {
    Store::allocate(CHUNKS, DEFAULT_ACCOUNTS)
}

fn post<'a>(to: UserId, from: &'a Name, text: &'a Text) -> Post<'a> {
    Post {
        to,
        sender: UserId::from_index(DEFAULT_ACCOUNTS - 1),
        from,
        text,
        broadcast: false,
        kept: false,
        now: Instant(0),
    }
}

fn texts(store: &Store, to: UserId) -> Vec<std::string::String> {
    let (mut texts, mut after, mut bytes) = (Vec::new(), 0, [0; NAME_MAX + TEXT_MAX]);
    while let Some(letter) = store.letter_after(to, after, &mut bytes) {
        after = letter.id;
        texts.push(letter.text.into());
    }
    texts
}

#[test]
fn letters_come_out_oldest_first_and_go_once_acknowledged() {
    let mut store = empty_store();
    let (luke, yoda) = (UserId::from_index(7), UserId::from_index(1));
    let hans = name("hans");
    let first = store.post(post(luke, &hans, &text("one"))).unwrap();
    store.post(post(yoda, &hans, &text("for yoda"))).unwrap();
    let second = store.post(post(luke, &hans, &text("two"))).unwrap();
    assert!(first < second);
    assert_eq!(texts(&store, luke), ["one", "two"]);
    assert_eq!(store.acknowledge(luke, first), 1);
    assert_eq!(store.acknowledge(luke, first), 0, "only once");
    assert_eq!(store.acknowledge(yoda, first), 0, "only by its reader");
    assert_eq!(texts(&store, luke), ["two"]);
    assert_eq!(texts(&store, yoda), ["for yoda"]);
}

#[test]
fn a_batch_reads_on_from_where_it_started_as_letter_after_does() {
    let mut store = empty_store();
    let (luke, yoda) = (UserId::from_index(7), UserId::from_index(1));
    let hans = name("hans");
    let ids: Vec<u64> = (0..5)
        .map(|i| {
            store.post(post(yoda, &hans, &text("not luke's"))).unwrap();
            store
                .post(post(luke, &hans, &text(&std::format!("{i}"))))
                .unwrap()
        })
        .collect();
    let mut bytes = [0; NAME_MAX + TEXT_MAX];
    let mut batch = store.letters_after(luke, ids[1]);
    for (i, &id) in ids.iter().enumerate().skip(2) {
        assert_eq!(batch.next_id(), Some(id));
        let letter = batch.read_next(&mut bytes).unwrap();
        assert_eq!((letter.id, letter.text), (id, std::format!("{i}").as_str()));
    }
    assert_eq!(batch.next_id(), None);
    assert!(batch.read_next(&mut bytes).is_none());
    assert_eq!(texts(&store, luke), ["0", "1", "2", "3", "4"]);
}

#[test]
fn an_acknowledgement_takes_every_letter_up_to_its_id() {
    let mut store = empty_store();
    let luke = UserId::from_index(7);
    let hans = name("hans");
    let ids: Vec<u64> = (0..5)
        .map(|i| {
            store
                .post(post(luke, &hans, &text(&std::format!("m{i}"))))
                .unwrap()
        })
        .collect();
    assert_eq!(store.acknowledge(luke, ids[2]), 3);
    assert_eq!(texts(&store, luke), ["m3", "m4"]);
    assert_eq!(store.acknowledge(luke, u64::MAX), 2);
    assert_eq!(store.waiting(luke), 0);
    assert_eq!(store.bytes(luke), 0);
}

#[test]
fn a_letter_reads_back_byte_for_byte_whatever_its_size() {
    let mut store = empty_store();
    let luke = UserId::from_index(7);
    let from = name(&"\"".repeat(crate::limits::NAME_MAX));
    for len in [0, 1, 40, 41, 42, 63, 64, 65, 200, crate::limits::TEXT_MAX] {
        let body: std::string::String = "é日x".chars().cycle().take(len).collect();
        let body: std::string::String = body
            .char_indices()
            .take_while(|(i, c)| i + c.len_utf8() <= len)
            .map(|(_, c)| c)
            .collect();
        let t = text(&body);
        let id = store
            .post(Post {
                broadcast: len % 2 == 0,
                now: Instant(5_000),
                ..post(luke, &from, &t)
            })
            .unwrap();
        let mut bytes = [0; NAME_MAX + TEXT_MAX];
        let letter = store.letter_after(luke, id - 1, &mut bytes).unwrap();
        assert_eq!(
            letter,
            Letter {
                id,
                from: &from,
                text: &t,
                broadcast: len % 2 == 0,
                posted: Instant(5_000),
                kept: post(luke, &from, &t).kept,
            },
            "{len}"
        );
        store.acknowledge(luke, id);
    }
    assert_eq!(store.free_chunks, CHUNKS, "every chunk back");
}

#[test]
fn a_letter_takes_the_chunks_its_bytes_need() {
    let mut store = empty_store();
    let luke = UserId::from_index(7);
    let hans = name("hans");
    // 26 + 4 + 34 = 64 bytes: one chunk; one byte more: two.
    let fits = CHUNK_BYTES - HEADER - hans.len();
    assert_eq!(fits, 34);
    store
        .post(post(luke, &hans, &text(&"x".repeat(fits))))
        .unwrap();
    assert_eq!(store.bytes(luke), CHUNK_BYTES);
    store
        .post(post(luke, &hans, &text(&"x".repeat(fits + 1))))
        .unwrap();
    assert_eq!(store.bytes(luke), 3 * CHUNK_BYTES);
}

#[test]
fn a_full_mailbox_and_a_full_store_refuse_letters() {
    let mut store = empty_store();
    let hans = name("hans");
    let luke = UserId::from_index(7);
    let short = text("x");
    let mut posted = 0;
    while store.post(post(luke, &hans, &short)).is_ok() {
        posted += 1;
    }
    assert_eq!(posted, MAILBOX_CHUNKS, "one chunk each");
    assert_eq!(
        store.post(post(luke, &hans, &short)),
        Err(PostError::MailboxFull)
    );
    // Fill the store with other users' letters, a mailbox at a time.
    let mut user = 8;
    loop {
        match store.post(post(UserId::from_index(user), &hans, &short)) {
            Ok(_) => {}
            Err(PostError::MailboxFull) => user += 1,
            Err(PostError::StoreFull) => break,
            Err(PostError::SenderFull) => unreachable!("not kept"),
        }
    }
    assert_eq!(store.free_chunks, 0);
    assert_eq!(
        store.post(post(UserId::from_index(0), &hans, &short)),
        Err(PostError::StoreFull)
    );
    // Acknowledged letters make room again, for anyone.
    store.acknowledge(luke, u64::MAX);
    assert!(
        store
            .post(post(UserId::from_index(0), &hans, &short))
            .is_ok()
    );
}

#[test]
fn a_letter_says_how_long_ago_it_was_stored_and_whether_it_was_a_broadcast() {
    let mut store = empty_store();
    let hans = name("hans");
    let hi = text("hi");
    let luke = UserId::from_index(7);
    store
        .post(Post {
            broadcast: true,
            now: Instant(5_000),
            ..post(luke, &hans, &hi)
        })
        .unwrap();
    let mut bytes = [0; NAME_MAX + TEXT_MAX];
    let letter = store.letter_after(luke, 0, &mut bytes).unwrap();
    let LetterFrame::Message { broadcast, age, .. } = letter.frame(Instant(67_999));
    assert!(broadcast);
    assert_eq!(age, 62, "whole seconds, rounded down");
}

#[test]
fn random_posts_and_acknowledgements_keep_every_chunk_accounted_for() {
    let mut store = empty_store();
    let from = Name::try_from("hans").unwrap();
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut posted: Vec<Vec<u64>> = std::vec![Vec::new(); 4];
    for _ in 0..200_000 {
        let user = (next() % 4) as usize;
        let to = UserId::from_index(user);
        if next() % 3 != 0 {
            let len = (next() % 600) as usize;
            let text = Text::try_from("x".repeat(len.min(512)).as_str()).unwrap();
            // Kept or not, from one of three senders.
            let sender = UserId::from_index(4 + (next() % 3) as usize);
            if let Ok(id) = store.post(Post {
                to,
                sender,
                from: &from,
                text: &text,
                broadcast: false,
                kept: next() % 2 == 0,
                now: Instant(0),
            }) {
                posted[user].push(id);
            }
        } else if !posted[user].is_empty() {
            let upto = posted[user][(next() as usize) % posted[user].len()];
            let n = store.acknowledge(to, upto);
            let before = posted[user].len();
            posted[user].retain(|&id| id > upto);
            assert_eq!(n, before - posted[user].len());
        }
        let used: usize = store.boxes.iter().map(|b| usize::from(b.chunks)).sum();
        assert_eq!(used + store.free_chunks, CHUNKS);
        assert_eq!(store.waiting(to), posted[user].len());
        let kept: usize = store.boxes.iter().map(|b| usize::from(b.kept)).sum();
        assert!(
            kept <= used
                && store
                    .boxes
                    .iter()
                    .all(|b| usize::from(b.kept) <= SENDER_CHUNKS)
        );
    }
    for user in 0..4 {
        store.acknowledge(UserId::from_index(user), u64::MAX);
    }
    let kept = (0..DEFAULT_ACCOUNTS).map(|user| store.kept_by(UserId::from_index(user)));
    assert_eq!(kept.sum::<usize>(), 0, "every share given back");
}

#[test]
fn a_sender_keeps_only_its_share_of_the_store_for_users_offline() {
    let mut store = empty_store();
    let (mallory, hans) = (UserId::from_index(20), UserId::from_index(21));
    let name = name("mallory");
    let short = text("x");
    let kept = |to: usize, sender| Post {
        sender,
        kept: true,
        ..post(UserId::from_index(to), &name, &short)
    };
    // Short letters take a chunk each: the share is this many.
    let share = SENDER_BYTES / CHUNK_BYTES;
    for i in 0..share {
        assert!(store.post(kept(i % 8, mallory)).is_ok(), "{i}");
    }
    assert_eq!(store.post(kept(9, mallory)), Err(PostError::SenderFull));
    assert_eq!(store.kept_by(mallory), SENDER_BYTES);
    // Letters to users online are not kept: they do not count.
    assert!(
        store
            .post(post(UserId::from_index(9), &name, &short))
            .is_ok()
    );
    // Others still leave letters, and mallory may again once some are read.
    assert!(store.post(kept(9, hans)).is_ok());
    store.acknowledge(UserId::from_index(0), u64::MAX);
    assert!(store.post(kept(9, mallory)).is_ok());
}

#[test]
fn letters_kept_for_newcomers_share_a_small_allowance() {
    let mut store = empty_store();
    let name = name("mallory");
    let short = text("x");
    let newcomers = [0, 1, 2, 3].map(UserId::from_index);
    for user in newcomers {
        store.set_newcomer(user, true);
    }
    let kept = |to: UserId, sender: usize| Post {
        sender: UserId::from_index(sender),
        kept: true,
        ..post(to, &name, &short)
    };
    // From many senders, so their shares are not what stops them.
    let allowance = NEWCOMER_BYTES / CHUNK_BYTES;
    for i in 0..allowance {
        assert!(
            store.post(kept(newcomers[i % 4], 10 + i % 20)).is_ok(),
            "{i}"
        );
    }
    assert_eq!(
        store.post(kept(newcomers[0], 31)),
        Err(PostError::MailboxFull)
    );
    // A user who is not a newcomer still gets letters kept.
    assert!(store.post(kept(UserId::from_index(4), 31)).is_ok());
    // A newcomer who logs in again is one no more.
    store.set_newcomer(newcomers[0], false);
    assert!(store.post(kept(newcomers[0], 31)).is_ok());
}

/// A broadcast to users online: its body is shared when it is longer
/// than a chunk.
fn broadcast<'a>(to: UserId, from: &'a Name, text: &'a Text, now: u64) -> Post<'a> {
    Post {
        broadcast: true,
        now: Instant(now),
        ..post(to, from, text)
    }
}

#[test]
fn a_long_broadcast_is_stored_once_and_freed_with_its_last_reader() {
    let mut store = empty_store();
    let hans = name("hans");
    let long = text(&"b".repeat(TEXT_MAX));
    let readers: Vec<UserId> = (0..20).map(UserId::from_index).collect();
    let ids: Vec<u64> = readers
        .iter()
        .map(|&to| store.post(broadcast(to, &hans, &long, 7)).unwrap())
        .collect();
    store.audit().unwrap();
    // One chunk a reader and the body once: 20 + 9, not 20 × 9.
    let whole = charge(hans.len(), long.len());
    assert_eq!(whole, 9);
    assert_eq!(CHUNKS - store.free_chunks, 20 + body_chunks(4, TEXT_MAX));
    for (&to, &id) in readers.iter().zip(&ids) {
        let mut bytes = [0; NAME_MAX + TEXT_MAX];
        let letter = store.letter_after(to, 0, &mut bytes).unwrap();
        assert_eq!((letter.id, letter.from, letter.text), (id, "hans", &*long));
        assert!(letter.broadcast && !letter.kept);
        assert_eq!(letter.posted, Instant(7));
        // Each reader's quota counts the letter whole, as before.
        assert_eq!(store.bytes(to), whole * CHUNK_BYTES);
    }
    let (last, others) = readers.split_last().unwrap();
    for (&to, &id) in others.iter().zip(&ids) {
        assert_eq!(store.acknowledge(to, id), 1);
        store.audit().unwrap();
    }
    assert_eq!(CHUNKS - store.free_chunks, 1 + body_chunks(4, TEXT_MAX));
    assert_eq!(texts(&store, *last), [&*long]);
    store.acknowledge(*last, ids[19]);
    store.audit().unwrap();
    assert_eq!(store.free_chunks, CHUNKS, "the body went with the last");
}

#[test]
fn only_long_broadcasts_to_users_online_share_a_body() {
    let mut store = empty_store();
    let hans = name("hans");
    let (short, long) = (text("hi all"), text(&"b".repeat(100)));
    let (luke, yoda) = (UserId::from_index(1), UserId::from_index(2));
    // A short one fits a chunk whole: nothing to share.
    store.post(broadcast(luke, &hans, &short, 0)).unwrap();
    store.post(broadcast(yoda, &hans, &short, 0)).unwrap();
    assert_eq!(CHUNKS - store.free_chunks, 2);
    // The same long text as a message, or kept for a user offline: whole.
    let whole = charge(hans.len(), long.len());
    store.post(post(luke, &hans, &long)).unwrap();
    store.post(post(yoda, &hans, &long)).unwrap();
    let kept = Post {
        kept: true,
        ..broadcast(luke, &hans, &long, 0)
    };
    store.post(kept).unwrap();
    assert_eq!(CHUNKS - store.free_chunks, 2 + 3 * whole);
    // Another broadcast of the same text later is another body.
    let before = store.free_chunks;
    store.post(broadcast(luke, &hans, &long, 1)).unwrap();
    store.post(broadcast(yoda, &hans, &long, 2)).unwrap();
    let body = body_chunks(hans.len(), long.len());
    assert_eq!(before - store.free_chunks, 2 * (1 + body));
    store.audit().unwrap();
}

#[test]
fn letters_restored_mailbox_by_mailbox_share_their_bodies_again() {
    // Two long broadcasts to five users, then a restart whose journal lists
    // the letters mailbox by mailbox (as after a rewrite): the store holds
    // them as before, in the same chunks' worth.
    let hans = name("hans");
    let texts_sent = [text(&"1".repeat(300)), text(&"2".repeat(300))];
    let readers: Vec<UserId> = (0..5).map(UserId::from_index).collect();
    let mut live = empty_store();
    let mut letters = Vec::new();
    for (at, sent) in texts_sent.iter().enumerate() {
        for &to in &readers {
            let id = live.post(broadcast(to, &hans, sent, at as u64)).unwrap();
            letters.push((to, id, sent, at as u64));
        }
    }
    letters.sort_by_key(|&(to, id, ..)| (to.index(), id));
    let mut restored = empty_store();
    for &(to, id, sent, at) in &letters {
        restored
            .restore(broadcast(to, &hans, sent, at), id)
            .unwrap();
    }
    restored.audit().unwrap();
    assert_eq!(restored.free_chunks, live.free_chunks);
    for &to in &readers {
        assert_eq!(texts(&restored, to), texts(&live, to));
    }
}
