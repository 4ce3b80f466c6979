//! A hub larger than the default (issue 26): ids past a byte, answers in
//! pages, blacklists of their own, tables the shell sets aside.

use std::collections::BTreeSet;
use std::string::{String, ToString};
use std::vec::Vec;
use std::{format, vec};

use super::Tables;
use crate::capacity::{Capacity, CapacityError};
use crate::hub::tests::{PEER, START, TIMEOUT_MS, World, ask, login, ms, password, username};
use crate::hub::{Config, Hub};
use crate::limits::{BLACKLIST_MAX, NAMES_PER_FRAME};
use crate::protocol::{ClientFrame, Prompt, Refusal, ServerFrame};
use crate::session::ConnId;
use crate::table::Table;
use crate::testing::frames::{message, refused};
use crate::testing::{name, test_config};

/// Accounts made: more than a byte counts, so ids past 255 are used.
const ACCOUNTS: usize = 300;

/// Of them, online: the last ones, so many have ids past 255.
const ONLINE: usize = 150;

fn user(i: usize) -> String {
    format!("user{i}")
}

fn pass(i: usize) -> String {
    format!("pass-{i}")
}

/// A hub for 400 accounts and 200 connections, with [`ACCOUNTS`] accounts
/// and the last [`ONLINE`] of them logged in; their connections, by index.
fn big_hub() -> (Hub, World, Vec<(usize, ConnId)>) {
    let config = test_config(60_000, TIMEOUT_MS);
    let mut hub = Hub::with_capacity(config, Capacity::new(400, 200)).unwrap();
    for i in 0..ACCOUNTS {
        hub.add_account(&user(i), &pass(i)).unwrap();
    }
    let mut world = World::default();
    let online: Vec<(usize, ConnId)> = (ACCOUNTS - ONLINE..ACCOUNTS)
        .map(|i| (i, login(&mut hub, &mut world, &user(i), &pass(i), START)))
        .collect();
    for &(_, conn) in &online {
        world.take(conn);
    }
    (hub, world, online)
}

/// The pages a `whoelse` or `whoelsesince` was answered in: checks each
/// but the last says more follow, and that no name comes twice.
fn pages(world: &mut World, conn: ConnId) -> BTreeSet<String> {
    let reply = world.take(conn);
    let mut names = BTreeSet::new();
    for (at, frame) in reply.iter().enumerate() {
        let ServerFrame::Users { users, more } = frame else {
            panic!("not a page of users: {frame:?}");
        };
        assert_eq!(*more, at + 1 < reply.len(), "page {at} of {}", reply.len());
        assert!(users.len() <= NAMES_PER_FRAME);
        for user in users {
            assert!(names.insert(user.to_string()), "{user} twice");
        }
    }
    names
}

#[test]
fn whoelse_answers_every_name_in_pages() {
    let (mut hub, mut world, online) = big_hub();
    let (asker, conn) = online[0];
    world.receive(&mut hub, conn, ClientFrame::WhoElse {}, START);
    let others: BTreeSet<String> = online
        .iter()
        .filter(|&&(i, _)| i != asker)
        .map(|&(i, _)| user(i))
        .collect();
    assert_eq!(
        world.take(conn).len(),
        (ONLINE - 1).div_ceil(NAMES_PER_FRAME)
    );
    world.receive(&mut hub, conn, ClientFrame::WhoElse {}, START);
    assert_eq!(pages(&mut world, conn), others);
    // Everyone seen in the last minute: the same.
    let since = ClientFrame::WhoElseSince { seconds: 60 };
    world.receive(&mut hub, conn, since, START.after(1_000));
    assert_eq!(pages(&mut world, conn), others);
}

#[test]
fn an_answer_as_long_as_several_queues_waits_for_the_reader_not_drops_it() {
    let (mut hub, mut world, online) = big_hub();
    let (_, conn) = online[0];
    // Ten answers at once: ten times what a queue holds, were they copied.
    for _ in 0..10 {
        hub.receive(conn, &ClientFrame::WhoElse {}, START);
    }
    world.handle_timeout(&mut hub, START);
    assert!(!world.is_closed(conn));
    let reply = world.take(conn);
    assert_eq!(reply.len(), 10 * (ONLINE - 1).div_ceil(NAMES_PER_FRAME));
}

#[test]
fn a_broadcast_from_an_id_past_a_byte_reaches_everyone_online() {
    let (mut hub, mut world, online) = big_hub();
    let (sender, conn) = *online.last().unwrap();
    assert!(sender > 255);
    let all = ClientFrame::Broadcast {
        text: crate::testing::text("to all"),
    };
    world.receive(&mut hub, conn, all, START);
    for &(i, other) in &online {
        let got = world.take(other);
        if i == sender {
            assert_eq!(got, [], "no echo");
            continue;
        }
        let [ServerFrame::Message { from, text, .. }] = got.as_slice() else {
            panic!("{} got {got:?}", user(i));
        };
        assert_eq!(
            (from.as_str(), text.as_str()),
            (user(sender).as_str(), "to all")
        );
    }
}

#[test]
fn a_message_kept_for_an_id_past_a_byte_names_its_sender_at_login() {
    let (mut hub, mut world, online) = big_hub();
    let (sender, conn) = *online.last().unwrap();
    let offline = 100;
    assert!(!online.iter().any(|&(i, _)| i == offline));
    world.receive(&mut hub, conn, message(&user(offline), "later"), START);
    let stored = ServerFrame::Stored {
        user: name(&user(offline)),
    };
    assert_eq!(world.take(conn), [stored]);
    // Kept within the sender's share, counted as theirs.
    let sender_id = hub.users.find(&user(sender)).unwrap();
    assert!(hub.store.kept_by(sender_id) > 0);
    let reader = world.connect(&mut hub, START, PEER).unwrap();
    world.receive(&mut hub, reader, username(&user(offline)), START);
    world.receive(&mut hub, reader, password(&pass(offline)), START);
    let got = world.take(reader);
    assert_eq!(
        got[..3],
        [
            ask(Prompt::Username),
            ask(Prompt::Password),
            ServerFrame::Welcome { waiting: 1 }
        ]
    );
    let ServerFrame::Message { id, from, text, .. } = &got[3] else {
        panic!("{got:?}");
    };
    assert_eq!(
        (from.as_str(), text.as_str()),
        (user(sender).as_str(), "later")
    );
    // Read: the sender's share is theirs again.
    world.receive(&mut hub, reader, ClientFrame::Received { id: *id }, START);
    assert_eq!(hub.store.kept_by(sender_id), 0);
    hub.audit().unwrap();
}

#[test]
fn a_full_blacklist_refuses_one_more_until_an_unblock() {
    let (mut hub, mut world, online) = big_hub();
    let (_, conn) = online[0];
    let block = |i: usize| ClientFrame::Block {
        user: name(&user(i)),
    };
    for i in 0..BLACKLIST_MAX {
        world.receive(&mut hub, conn, block(i), START);
    }
    assert_eq!(world.take(conn).len(), BLACKLIST_MAX, "each blocked");
    world.receive(&mut hub, conn, block(BLACKLIST_MAX), START);
    let full = refused(Refusal::BlacklistFull);
    assert_eq!(
        full.to_string(),
        "Error. You have blocked 32 users, as many as you can. Unblock one first"
    );
    assert_eq!(world.take(conn), [full]);
    let unblock = ClientFrame::Unblock {
        user: name(&user(0)),
    };
    world.receive(&mut hub, conn, unblock, START);
    world.receive(&mut hub, conn, block(BLACKLIST_MAX), START);
    let frames = world.take(conn);
    assert!(
        matches!(frames.last(), Some(ServerFrame::UserBlocked { .. })),
        "{frames:?}"
    );
}

#[test]
fn r9_idle_users_are_logged_out_in_the_order_they_went_quiet_whatever_their_slots() {
    let (mut hub, mut world, online) = big_hub();
    // Each acts once more, a millisecond apart, in an order unlike their
    // slots' (7,919 and 150 have no common factor).
    let mut order: Vec<ConnId> = online.iter().map(|&(_, conn)| conn).collect();
    order.sort_by_key(|conn| conn.slot() * 7_919 % ONLINE);
    for (step, &conn) in order.iter().enumerate() {
        world.receive(
            &mut hub,
            conn,
            ClientFrame::WhoElse {},
            ms(START, 1 + step as u64),
        );
        world.take(conn);
    }
    for (step, &conn) in order.iter().enumerate() {
        let deadline = ms(START, 1 + step as u64 + TIMEOUT_MS);
        assert_eq!(hub.poll_timeout(), Some(deadline), "step {step}");
        world.handle_timeout(&mut hub, deadline);
        assert!(world.is_closed(conn), "step {step}: {conn:?} timed out");
        if let Some(&next) = order.get(step + 1) {
            assert!(!world.is_closed(next), "step {step}: {next:?} not yet");
        }
    }
    assert_eq!(hub.poll_timeout(), None, "no one left");
}

/// Tables in memory the shell keeps for the life of the server, as an
/// embedded build's statics are.
fn leaked<T: Clone>(value: T, rows: usize) -> Table<T> {
    Table::Borrowed(vec![value; rows].leak())
}

fn borrowed_tables(accounts: usize, connections: usize, chunks: usize) -> Tables {
    let owned = Tables::allocate(Capacity::new(1, 1));
    Tables {
        users: leaked(owned.users[0].clone(), accounts),
        names: leaked(owned.names[0], accounts),
        mailboxes: leaked(owned.mailboxes[0], accounts),
        unsaved_reads: leaked(owned.unsaved_reads[0], accounts),
        unsaved_others: leaked(owned.unsaved_others[0], accounts),
        slots: leaked(owned.slots[0].clone(), connections),
        introductions: leaked(None, connections),
        jobs: leaked(None, connections),
        asks: leaked(owned.asks[0], connections),
        ready: leaked(0, connections),
        unread: leaked(owned.unread[0], connections),
        touched: leaked(0, connections),
        candidates: leaked(0, connections),
        timers: leaked(owned.timers[0], connections),
        timer_heap: leaked(0, connections),
        posted: leaked(owned.posted[0], super::POSTED_PER_CONNECTION * connections),
        chunks: leaked(0, chunks * 64),
        links: leaked(0, chunks),
    }
}

#[test]
fn a_hub_runs_in_tables_the_shell_set_aside() {
    let config = Config::new(60_000, TIMEOUT_MS);
    let mut hub = Hub::in_tables(config, borrowed_tables(3, 2, 1024)).unwrap();
    assert_eq!(
        hub.capacity(),
        Capacity {
            accounts: 3,
            connections: 2,
            store_bytes: 1024 * 64,
        }
    );
    let mut world = World::default();
    hub.add_account("hans", "falcon*solo").unwrap();
    let hans = login(&mut hub, &mut world, "hans", "falcon*solo", START);
    world.receive(&mut hub, hans, message("yoda", "hi"), START);
    assert_eq!(world.take(hans), [refused(Refusal::InvalidUser)]);
}

#[test]
fn tables_that_disagree_are_refused() {
    let config = Config::new(60_000, TIMEOUT_MS);
    let mut tables = borrowed_tables(3, 2, 1024);
    tables.names = leaked(Default::default(), 4);
    assert_eq!(
        Hub::in_tables(config, tables).err(),
        Some(CapacityError::Accounts)
    );
    let mut tables = borrowed_tables(3, 2, 1024);
    tables.jobs = leaked(None, 1);
    assert_eq!(
        Hub::in_tables(config, tables).err(),
        Some(CapacityError::Connections)
    );
    let mut tables = borrowed_tables(3, 2, 1024);
    tables.links = leaked(0, 1023);
    assert_eq!(
        Hub::in_tables(config, tables).err(),
        Some(CapacityError::StoreBytes)
    );
}

#[test]
fn a_whoelse_before_a_logout_is_answered_whole_before_the_goodbye() {
    let (mut hub, mut world, online) = big_hub();
    let (_, conn) = online[0];
    // Both in one read: the answer is written after the logout.
    hub.receive(conn, &ClientFrame::WhoElse {}, START);
    hub.receive(conn, &ClientFrame::Logout {}, START);
    world.handle_timeout(&mut hub, START);
    let mut frames = world.take(conn);
    let bye = frames.pop();
    assert!(
        matches!(bye, Some(ServerFrame::Bye { .. })),
        "{bye:?} after {frames:?}"
    );
    let names: usize = frames
        .iter()
        .map(|frame| match frame {
            ServerFrame::Users { users, .. } => users.len(),
            other => panic!("{other:?} before the goodbye"),
        })
        .sum();
    assert_eq!(names, ONLINE - 1);
}

#[test]
fn a_server_of_a_few_connections_still_lets_strangers_sign_up() {
    // 8 slots are kept for known users on a large server; a server of
    // four keeps one.
    let config = test_config(60_000, TIMEOUT_MS);
    let mut hub = Hub::with_capacity(config, Capacity::new(8, 4)).unwrap();
    let mut world = World::default();
    let mut newcomers = Vec::new();
    for i in 0..3 {
        let conn = world.connect(&mut hub, START, PEER).unwrap();
        world.receive(&mut hub, conn, username(&format!("new{i}")), START);
        assert_eq!(
            world.take(conn),
            [ask(Prompt::Username), ask(Prompt::NewPassword)],
            "newcomer {i}"
        );
        newcomers.push(conn);
    }
    // The last slot is kept for a known user.
    let last = world.connect(&mut hub, START, PEER).unwrap();
    world.receive(&mut hub, last, username("new3"), START);
    let frames = world.take(last);
    assert!(
        matches!(frames.last(), Some(ServerFrame::Bye { .. })),
        "{frames:?}"
    );
}
