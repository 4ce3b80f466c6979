//! The messaging rules (R9-R17, R25-R27) and the sample sessions S1-S6, on
//! the recording fake of `hub/tests.rs`. Time is fake (milliseconds passed
//! in); commands are typed lines parsed as the client parses them, or frames
//! built directly where the test is about the frame.

use std::collections::BTreeSet;
use std::string::{String, ToString};
use std::vec::Vec;
use std::{format, slice};

use crate::capacity::Capacity;
use crate::command::{self, CommandError};
use crate::hub::tests::{
    BLOCK_MS, Event, PEER, SAMPLE_ACCOUNTS, START, TIMEOUT_MS, World, ask, at_password_prompt, bye,
    clog, error, hub_with_sample_accounts, logged_in, logged_out, login_sample, ms, name, password,
    password_of, username,
};
use crate::hub::{Config, Hub};
use crate::limits::{
    CHUNK_BYTES, DEFAULT_ACCOUNTS, DEFAULT_CONNECTIONS, MAILBOX_BYTES, MAX_BAD_FRAMES,
    NEWCOMER_BYTES, PRIVATE_ANSWER_MS, SENDER_BYTES,
};

/// Short messages (a chunk each) that fill one mailbox.
const MAILBOX_DEPTH: usize = MAILBOX_BYTES / CHUNK_BYTES;

/// The store's bytes at the default capacity.
const STORE_BYTES: usize = Capacity::new(DEFAULT_ACCOUNTS, DEFAULT_CONNECTIONS).store_bytes;

/// Short messages that fill the store.
const MAX_LETTERS: usize = STORE_BYTES / CHUNK_BYTES;
use crate::protocol::{ByeReason, ClientFrame, FrameError, Prompt, Refusal, ServerFrame};
use crate::session::ConnId;
use crate::testing::frames::{message, refused};
use crate::testing::text;
use crate::time::Instant;

// ---------------------------------------------------------------------------
// Helpers.

/// A message frame as the server sends it, with its age and kind as in
/// `like` (tests of those say so; the rest are about who and what).
fn letter(id: u64, from: &str, s: &str) -> ServerFrame {
    ServerFrame::Message {
        id,
        from: name(from),
        text: text(s),
        broadcast: false,
        age: 0,
    }
}

/// `frame`, a message, with its age and kind cleared for comparing.
fn plain(frame: &ServerFrame) -> ServerFrame {
    match frame.clone() {
        ServerFrame::Message { id, from, text, .. } => ServerFrame::Message {
            id,
            from,
            text,
            broadcast: false,
            age: 0,
        },
        other => other,
    }
}

/// The sender's notice that a message waits for `user`, who is offline.
fn stored(user: &str) -> ServerFrame {
    ServerFrame::Stored { user: name(user) }
}

fn received(id: u64) -> ClientFrame {
    ClientFrame::Received { id }
}

/// `line` typed at `conn`'s prompt: parsed as the client does, then sent.
fn typed(hub: &mut Hub, world: &mut World, conn: ConnId, line: &str, now: Instant) {
    let command = command::parse(line).unwrap_or_else(|e| panic!("{line:?}: {e:?}"));
    let command::Command::Server(frame) = command else {
        panic!("{line:?} is not for the server");
    };
    world.receive(hub, conn, frame, now);
}

/// Logs a sample user in; returns the connection and what came after the
/// welcome (the messages kept for them), drained.
fn login_mail(
    hub: &mut Hub,
    world: &mut World,
    user: &str,
    now: Instant,
) -> (ConnId, Vec<ServerFrame>) {
    login_mail_with(hub, world, user, password_of(user), now)
}

/// [`login_mail`] with this password.
fn login_mail_with(
    hub: &mut Hub,
    world: &mut World,
    user: &str,
    pass: &str,
    now: Instant,
) -> (ConnId, Vec<ServerFrame>) {
    let conn = world
        .connect(hub, now, PEER)
        .expect("a free connection slot");
    world.receive(hub, conn, username(user), now);
    world.receive(hub, conn, password(pass), now);
    let mut frames = world.take(conn);
    assert!(frames.len() >= 3, "{user}: {frames:?}");
    let after: Vec<ServerFrame> = frames.split_off(3);
    // The welcome says how many kept messages follow (R17).
    let waiting = after
        .iter()
        .take_while(|f| matches!(f, ServerFrame::Message { .. }))
        .count() as u32;
    assert_eq!(
        frames,
        [
            ask(Prompt::Username),
            ask(Prompt::Password),
            ServerFrame::Welcome { waiting }
        ],
        "{user} logs in"
    );
    assert!(!world.is_closed(conn));
    (conn, after)
}

/// Checks that `frames` are exactly messages with these senders and texts,
/// in this order, with distinct ids; returns the ids.
fn letters(frames: &[ServerFrame], expected: &[(&str, &str)]) -> Vec<u64> {
    assert_eq!(frames.len(), expected.len(), "{frames:?}");
    let ids: Vec<u64> = frames
        .iter()
        .zip(expected)
        .map(|(frame, (from, s))| {
            let ServerFrame::Message { id, .. } = frame else {
                panic!("not a message: {frame:?}");
            };
            assert_eq!(plain(frame), letter(*id, from, s));
            *id
        })
        .collect();
    let distinct: BTreeSet<u64> = ids.iter().copied().collect();
    assert_eq!(distinct.len(), ids.len(), "ids repeat: {ids:?}");
    ids
}

/// Acknowledges every message in `frames`, as the client does once shown.
fn acknowledge(
    hub: &mut Hub,
    world: &mut World,
    conn: ConnId,
    frames: &[ServerFrame],
    now: Instant,
) {
    for frame in frames {
        if let ServerFrame::Message { id, .. } = frame {
            world.receive(hub, conn, received(*id), now);
        }
    }
    assert_eq!(world.take(conn), [], "Received is never answered");
}

/// Logs the user on `conn` out; what it was sent before the goodbye is
/// dropped unchecked.
fn logout(hub: &mut Hub, world: &mut World, conn: ConnId, now: Instant) {
    world.receive(hub, conn, ClientFrame::Logout {}, now);
    assert_eq!(world.take(conn).last(), Some(&bye(ByeReason::LoggedOut)));
    assert!(world.is_closed(conn));
}

/// Asserts that no frame is waiting to be checked, for anyone. (Closes are
/// left alone: tests check them where they matter.)
fn assert_quiet(world: &World) {
    let sent: Vec<&Event> = world
        .events
        .iter()
        .filter(|event| matches!(event, Event::Sent(..)))
        .collect();
    assert_eq!(sent, Vec::<&Event>::new());
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(ToString::to_string).collect()
}

/// Sends `frame` (`whoelse` or `whoelsesince`) and returns the names in the
/// one reply, as a set; checks the text is those names, one per line.
fn who(
    hub: &mut Hub,
    world: &mut World,
    conn: ConnId,
    frame: ClientFrame,
    now: Instant,
) -> BTreeSet<String> {
    world.receive(hub, conn, frame, now);
    let reply = world.take(conn);
    let [ServerFrame::Users { users, more: false }] = reply.as_slice() else {
        panic!("not one list of users: {reply:?}");
    };
    let names: BTreeSet<String> = users.iter().map(ToString::to_string).collect();
    assert_eq!(names.len(), users.len(), "a name twice: {users:?}");
    let lines: Vec<String> = reply[0].to_string().lines().map(String::from).collect();
    assert_eq!(lines.len(), users.len(), "one per line: {lines:?}");
    assert_eq!(lines.into_iter().collect::<BTreeSet<_>>(), names);
    names
}

fn whoelse_since(seconds: u64) -> ClientFrame {
    ClientFrame::WhoElseSince { seconds }
}

/// Asserts what each connection was sent since the last check, as the lines
/// its user sees, and that nothing else happened.
fn shown(world: &mut World, expected: &[(ConnId, &[&str])], step: &str) {
    for (conn, lines) in expected {
        assert_eq!(world.take_text(*conn), *lines, "{step}: {conn:?}");
    }
    for event in &world.events {
        assert!(!matches!(event, Event::Sent(..)), "{step}: {event:?}");
    }
}

/// Three users online, as in S1-S4: (hans, yoda, luke), drained.
fn hans_yoda_luke(hub: &mut Hub, world: &mut World) -> (ConnId, ConnId, ConnId) {
    let hans = login_sample(hub, world, "hans", START);
    let yoda = login_sample(hub, world, "yoda", START);
    let luke = login_sample(hub, world, "luke", START);
    world.take(hans);
    world.take(yoda);
    assert_quiet(world);
    (hans, yoda, luke)
}

// ---------------------------------------------------------------------------
// message: R10, S2.

#[test]
fn r10_s2_a_message_to_an_online_user_is_delivered_at_once() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world);
    typed(&mut hub, &mut world, hans, "message yoda Hey Dude", START);
    let got = world.take(yoda);
    letters(&got, &[("hans", "Hey Dude")]);
    assert_eq!(got[0].to_string(), "hans: Hey Dude");
    assert!(
        matches!(
            got[0],
            ServerFrame::Message {
                broadcast: false,
                age: 0,
                ..
            }
        ),
        "a message, sent just now: {got:?}"
    );
    // Nothing to the sender, nothing to anyone else.
    shown(&mut world, &[(hans, &[]), (luke, &[])], "message yoda");

    typed(&mut hub, &mut world, hans, "message bob party time", START);
    assert_eq!(world.take(hans), [refused(Refusal::InvalidUser)]);
    assert_eq!(
        refused(Refusal::InvalidUser).to_string(),
        "Error. Invalid user"
    );
    assert_quiet(&world);
}

#[test]
fn r10_r17_s6_a_message_to_an_offline_user_comes_at_their_next_login() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let yoda = login_sample(&mut hub, &mut world, "yoda", START);
    world.take(hans);
    typed(&mut hub, &mut world, hans, "message luke Let's rock", START);
    // Stored: only the sender is told, that it waits for luke.
    shown(
        &mut world,
        &[(
            hans,
            &["luke is offline; they will get your message when they next log in"],
        )],
        "kept for luke",
    );

    let later = ms(START, 30_000);
    let (luke, mail) = login_mail(&mut hub, &mut world, "luke", later);
    letters(&mail, &[("hans", "Let's rock")]);
    assert_eq!(mail[0].to_string(), "hans: Let's rock");
    // It says when it was sent: 30 s before it is shown.
    assert!(
        matches!(
            mail[0],
            ServerFrame::Message {
                age: 30,
                broadcast: false,
                ..
            }
        ),
        "{mail:?}"
    );
    shown(
        &mut world,
        &[(hans, &["luke logged in"]), (yoda, &["luke logged in"])],
        "luke logs in",
    );

    logout(&mut hub, &mut world, yoda, later);
    shown(
        &mut world,
        &[(hans, &["yoda logged out"]), (luke, &["yoda logged out"])],
        "yoda logs out",
    );
}

#[test]
fn r17_stored_messages_come_oldest_first_from_every_sender() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let yoda = login_sample(&mut hub, &mut world, "yoda", START);
    let sent = [
        (hans, "hans", "one"),
        (yoda, "yoda", "two"),
        (hans, "hans", "three"),
        (yoda, "yoda", "four"),
    ];
    for (i, (conn, _, s)) in sent.iter().enumerate() {
        world.receive(&mut hub, *conn, message("luke", s), ms(START, i as u64));
    }
    world.take(hans);
    world.take(yoda);
    assert_quiet(&world);
    let (_, mail) = login_mail(&mut hub, &mut world, "luke", ms(START, 10));
    let expected: Vec<(&str, &str)> = sent.iter().map(|(_, from, s)| (*from, *s)).collect();
    let ids = letters(&mail, &expected);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
}

#[test]
fn r17_oldest_first_even_when_a_newer_message_reuses_an_older_slot() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let luke = login_sample(&mut hub, &mut world, "luke", START);
    world.take(hans);
    world.receive(&mut hub, hans, message("luke", "first"), START);
    world.receive(&mut hub, hans, message("luke", "second"), START);
    let live = world.take(luke);
    let ids = letters(&live, &[("hans", "first"), ("hans", "second")]);
    // Only the first is shown; the second is still waiting when luke leaves.
    world.receive(&mut hub, luke, received(ids[0]), START);
    logout(&mut hub, &mut world, luke, START);
    world.take(hans);
    // The newest message takes the place the first one left.
    world.receive(&mut hub, hans, message("luke", "third"), START);
    let (_, mail) = login_mail(&mut hub, &mut world, "luke", START);
    let again = letters(&mail, &[("hans", "second"), ("hans", "third")]);
    assert_eq!(again[0], ids[1], "the same message, the same id");
}

#[test]
fn r17_r27_acknowledged_messages_are_shown_exactly_once() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    for s in ["a", "b", "c"] {
        world.receive(&mut hub, hans, message("luke", s), START);
    }
    let (luke, mail) = login_mail(&mut hub, &mut world, "luke", START);
    letters(&mail, &[("hans", "a"), ("hans", "b"), ("hans", "c")]);
    acknowledge(&mut hub, &mut world, luke, &mail, START);
    // A live message, acknowledged, is not kept either.
    world.take(hans);
    world.receive(&mut hub, hans, message("luke", "live"), START);
    let live = world.take(luke);
    letters(&live, &[("hans", "live")]);
    acknowledge(&mut hub, &mut world, luke, &live, START);
    let mut luke = luke;
    for round in 0..2 {
        logout(&mut hub, &mut world, luke, START);
        world.take(hans);
        let (again, mail) = login_mail(&mut hub, &mut world, "luke", START);
        assert_eq!(mail, [], "round {round}");
        luke = again;
    }
}

#[test]
fn r27_a_message_not_acknowledged_before_a_disconnect_comes_again() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let luke = login_sample(&mut hub, &mut world, "luke", START);
    world.take(hans);
    world.receive(&mut hub, hans, message("luke", "seen"), START);
    world.receive(&mut hub, hans, message("luke", "lost on the way"), START);
    let live = world.take(luke);
    let ids = letters(&live, &[("hans", "seen"), ("hans", "lost on the way")]);
    world.receive(&mut hub, luke, received(ids[0]), START);
    // The connection breaks before the second is shown.
    world.disconnect(&mut hub, luke, ms(START, 1_000));
    assert_eq!(world.take(hans), [logged_out("luke")]);

    let (luke, mail) = login_mail(&mut hub, &mut world, "luke", ms(START, 2_000));
    let again = ServerFrame::Message {
        id: ids[1],
        from: name("hans"),
        text: text("lost on the way"),
        broadcast: false,
        age: 2,
    };
    assert_eq!(mail, [again], "with its age");
    // Acknowledgements are cumulative: acknowledging y takes x with it, and
    // only z comes again.
    for s in ["x", "y", "z"] {
        world.receive(&mut hub, hans, message("obiwan", s), START);
    }
    let (obiwan, mail) = login_mail(&mut hub, &mut world, "obiwan", ms(START, 3_000));
    let stored = letters(&mail, &[("hans", "x"), ("hans", "y"), ("hans", "z")]);
    world.receive(&mut hub, obiwan, received(stored[1]), ms(START, 3_000));
    logout(&mut hub, &mut world, obiwan, ms(START, 4_000));
    let (_, mail) = login_mail(&mut hub, &mut world, "obiwan", ms(START, 5_000));
    let mail: Vec<ServerFrame> = mail.iter().map(plain).collect();
    assert_eq!(mail, [letter(stored[2], "hans", "z")]);
    // luke's was shown again; once acknowledged it is gone for good.
    world.receive(&mut hub, luke, received(ids[1]), ms(START, 6_000));
    logout(&mut hub, &mut world, luke, ms(START, 6_000));
    let (_, mail) = login_mail(&mut hub, &mut world, "luke", ms(START, 7_000));
    assert_eq!(mail, []);
}

#[test]
fn r10_a_message_to_oneself_or_nobody_is_refused_and_not_stored() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, _, _) = hans_yoda_luke(&mut hub, &mut world);
    world.receive(&mut hub, hans, message("hans", "note to self"), START);
    assert_eq!(world.take_text(hans), ["Error. Cannot message self"]);
    world.receive(&mut hub, hans, message("bob", "anyone?"), START);
    assert_eq!(world.take(hans), [refused(Refusal::InvalidUser)]);
    // A name that differs only in case is another name: no such account.
    world.receive(&mut hub, hans, message("Yoda", "hi"), START);
    assert_eq!(world.take(hans), [refused(Refusal::InvalidUser)]);
    assert_quiet(&world);
    logout(&mut hub, &mut world, hans, START);
    world.take_text(hans);
    let (_, mail) = login_mail(&mut hub, &mut world, "hans", START);
    assert_eq!(mail, [], "nothing was kept for hans");
}

#[test]
fn r10_s4_a_recipient_who_blocked_the_sender_gets_nothing_and_nothing_is_stored() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world);
    typed(&mut hub, &mut world, luke, "block hans", START);
    assert_eq!(world.take_text(luke), ["hans is blocked"]);
    // Online.
    typed(&mut hub, &mut world, hans, "message luke You angry?", START);
    assert_eq!(
        world.take_text(hans),
        ["Your message could not be delivered as the recipient has blocked you"]
    );
    assert_eq!(world.take(hans), []);
    shown(&mut world, &[(luke, &[]), (yoda, &[])], "online");
    // Offline: still refused, and nothing kept.
    logout(&mut hub, &mut world, luke, START);
    assert_eq!(world.take(yoda), [logged_out("luke")]);
    world.receive(&mut hub, hans, message("luke", "still angry?"), START);
    assert_eq!(world.take(hans), [refused(Refusal::BlockedByRecipient)]);
    // Others can still reach luke.
    world.receive(&mut hub, yoda, message("luke", "from yoda"), START);
    assert_eq!(world.take(yoda), [stored("luke")]);
    let (luke, mail) = login_mail(&mut hub, &mut world, "luke", START);
    letters(&mail, &[("yoda", "from yoda")]);
    acknowledge(&mut hub, &mut world, luke, &mail, START);
    // The block outlived the logout.
    world.receive(&mut hub, hans, message("luke", "and now?"), START);
    assert_eq!(world.take(hans), [refused(Refusal::BlockedByRecipient)]);
    assert_eq!(world.take(luke), []);
}

// ---------------------------------------------------------------------------
// Capacity of the message store: R26, R27.

#[test]
fn r26_a_full_mailbox_refuses_with_the_exact_text() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let yoda = login_sample(&mut hub, &mut world, "yoda", START);
    world.take(hans);
    for i in 0..MAILBOX_DEPTH {
        world.receive(&mut hub, hans, message("luke", &format!("m{i}")), START);
        assert_eq!(world.take(hans), [stored("luke")], "m{i} is stored");
    }
    world.receive(&mut hub, hans, message("luke", "one too many"), START);
    let full = refused(Refusal::MailboxFull { user: name("luke") });
    assert_eq!(world.take(hans), slice::from_ref(&full));
    assert_eq!(
        full.to_string(),
        "Error. luke's mailbox is full; message not stored"
    );
    // The mailbox is luke's, whoever writes; other mailboxes are not full.
    world.receive(&mut hub, yoda, message("luke", "me too"), START);
    assert_eq!(world.take(yoda), [full]);
    world.receive(&mut hub, hans, message("vader", "fine"), START);
    assert_eq!(world.take(hans), [stored("vader")]);
    assert_quiet(&world);
    // luke gets exactly the ones that were stored, in order.
    let (_, mail) = login_mail(&mut hub, &mut world, "luke", START);
    let expected: Vec<String> = (0..MAILBOX_DEPTH).map(|i| format!("m{i}")).collect();
    let expected: Vec<(&str, &str)> = expected.iter().map(|s| ("hans", s.as_str())).collect();
    letters(&mail, &expected);
}

#[test]
fn r27_acknowledged_messages_free_their_mailbox_space() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    for i in 0..MAILBOX_DEPTH {
        world.receive(&mut hub, hans, message("luke", &format!("m{i}")), START);
    }
    let (luke, mail) = login_mail(&mut hub, &mut world, "luke", START);
    assert_eq!(mail.len(), MAILBOX_DEPTH);
    world.take(hans);
    let full = refused(Refusal::MailboxFull { user: name("luke") });
    // Shown but not acknowledged: still taking their space.
    world.receive(&mut hub, hans, message("luke", "wait"), START);
    assert_eq!(world.take(hans), slice::from_ref(&full));
    assert_eq!(world.take(luke), []);
    // One acknowledged: room for one, delivered at once.
    acknowledge(&mut hub, &mut world, luke, &mail[..1], START);
    world.receive(&mut hub, hans, message("luke", "room for one"), START);
    assert_eq!(world.take(hans), []);
    let live = world.take(luke);
    letters(&live, &[("hans", "room for one")]);
    world.receive(&mut hub, hans, message("luke", "and no more"), START);
    assert_eq!(world.take(hans), [full]);
    // Everything acknowledged: the whole mailbox is free again.
    acknowledge(&mut hub, &mut world, luke, &mail[1..], START);
    acknowledge(&mut hub, &mut world, luke, &live, START);
    for i in 0..MAILBOX_DEPTH {
        world.receive(&mut hub, hans, message("luke", &format!("n{i}")), START);
        assert_eq!(world.take(hans), [], "n{i}");
    }
    assert_eq!(world.take(luke).len(), MAILBOX_DEPTH);
}

/// Adds `n` accounts `away0`, `away1`, ... (password `pw`), as if read
/// from credentials.txt: users who are offline, not newcomers.
fn add_away_accounts(hub: &mut Hub, n: usize) -> Vec<String> {
    let names: Vec<String> = (0..n).map(|i| format!("away{i}")).collect();
    for name in &names {
        hub.add_account(name, "pw").unwrap();
    }
    names
}

#[test]
fn r26_a_full_message_store_refuses_until_space_is_freed() {
    let mut hub = hub_with_sample_accounts();
    // More mailboxes than the store can fill, and senders enough to fill
    // it within their shares (SENDER_BYTES each).
    let away = add_away_accounts(&mut hub, MAX_LETTERS / MAILBOX_DEPTH + 1);
    let mut world = World::default();
    let senders: Vec<(&str, ConnId)> = ["hans", "yoda", "vader", "leia", "luke"]
        .into_iter()
        .map(|user| (user, login_sample(&mut hub, &mut world, user, START)))
        .collect();
    const { assert!(5 * SENDER_BYTES > STORE_BYTES) };
    world.events.clear();
    let (mut posted, mut to) = (0, 0);
    let mut last = senders[0];
    'fill: for &(user, sender) in &senders {
        last = (user, sender);
        loop {
            world.receive(&mut hub, sender, message(&away[to], "x"), START);
            match world.take(sender).as_slice() {
                [ServerFrame::Stored { .. }] => posted += 1,
                [f] if *f
                    == refused(Refusal::MailboxFull {
                        user: name(&away[to]),
                    }) =>
                {
                    to += 1
                }
                [f] if *f == refused(Refusal::SenderFull) => continue 'fill,
                [f] if *f == refused(Refusal::StoreFull) => break 'fill,
                other => panic!("{other:?}"),
            }
        }
    }
    assert_eq!(posted, MAX_LETTERS, "every chunk taken");
    // Someone whose mailbox has room: the store has none.
    let (user, sender) = last;
    let roomy = &away[to];
    world.receive(&mut hub, sender, message(roomy, "no room"), START);
    let store_full = refused(Refusal::StoreFull);
    assert_eq!(world.take(sender), slice::from_ref(&store_full));
    assert_eq!(
        store_full.to_string(),
        "Error. The server's message store is full; message not stored. Please try again later"
    );
    // A mailbox full still says so first.
    world.receive(&mut hub, sender, message(&away[0], "full"), START);
    assert_eq!(
        world.take(sender),
        [refused(Refusal::MailboxFull {
            user: name(&away[0])
        })]
    );
    // One read and acknowledged frees one slot, for anyone.
    let (first, mail) = login_mail_with(&mut hub, &mut world, &away[0], "pw", START);
    assert_eq!(mail.len(), MAILBOX_DEPTH);
    world.events.clear();
    acknowledge(&mut hub, &mut world, first, &mail[..1], START);
    world.receive(&mut hub, sender, message(roomy, "room now"), START);
    assert_eq!(world.take(sender), [stored(roomy)]);
    world.receive(&mut hub, sender, message(roomy, "and no more"), START);
    assert_eq!(world.take(sender), [store_full]);
    let (_, mail) = login_mail_with(&mut hub, &mut world, roomy, "pw", START);
    let last = mail.last().expect("roomy's mail");
    let ServerFrame::Message { id, .. } = last else {
        panic!("{last:?}");
    };
    assert_eq!(*last, letter(*id, user, "room now"));
}

#[test]
fn a_sender_keeps_only_its_share_of_the_store_and_others_still_leave_messages() {
    // Issue 10's store squat: one user leaves message after message for
    // users who are offline.
    let mut hub = hub_with_sample_accounts();
    let away = add_away_accounts(&mut hub, SENDER_BYTES / MAILBOX_BYTES + 1);
    let mut world = World::default();
    let vader = login_sample(&mut hub, &mut world, "vader", START);
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    world.events.clear();
    let long = "x".repeat(crate::limits::TEXT_MAX);
    let (mut kept, mut to) = (0, 0);
    loop {
        world.receive(&mut hub, vader, message(&away[to], &long), START);
        match world.take(vader).as_slice() {
            [ServerFrame::Stored { .. }] => kept += 1,
            [f] if *f
                == refused(Refusal::MailboxFull {
                    user: name(&away[to]),
                }) =>
            {
                to += 1
            }
            [f] if *f == refused(Refusal::SenderFull) => break,
            other => panic!("{other:?}"),
        }
    }
    // 512-byte texts take 9 chunks: the share holds this many.
    assert_eq!(kept, SENDER_BYTES / (9 * CHUNK_BYTES));
    assert_eq!(
        refused(Refusal::SenderFull).to_string(),
        "Error. You have too many messages waiting for users who are offline; message not stored. Please try again later"
    );
    // hans still leaves a message for an offline friend; vader still
    // chats with users online.
    world.receive(&mut hub, hans, message("luke", "see you"), START);
    assert_eq!(world.take(hans), [stored("luke")]);
    world.receive(&mut hub, vader, message("hans", "hi"), START);
    assert_eq!(world.take(vader), []);
}

#[test]
fn letters_for_accounts_made_and_never_used_again_share_a_small_allowance() {
    // Issue 10's store squat through sign-up: accounts made only to be
    // messaged.
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let made: Vec<String> = (0..8).map(|i| format!("sock{i}")).collect();
    for user in &made {
        let conn = world.connect(&mut hub, START, PEER).unwrap();
        world.receive(&mut hub, conn, username(user), START);
        world.receive(&mut hub, conn, password("pw"), START);
        world.receive(&mut hub, conn, ClientFrame::Logout {}, START);
    }
    let vader = login_sample(&mut hub, &mut world, "vader", START);
    let palpatine = login_sample(&mut hub, &mut world, "palpatine", START);
    world.events.clear();
    let mut kept = 0;
    for user in made.iter().cycle() {
        world.receive(&mut hub, vader, message(user, "x"), START);
        match world.take(vader).as_slice() {
            [ServerFrame::Stored { .. }] => kept += 1,
            [f] if *f == refused(Refusal::MailboxFull { user: name(user) }) => break,
            other => panic!("{other:?}"),
        }
    }
    // Far below vader's own share: the allowance is all newcomers'.
    const { assert!(NEWCOMER_BYTES < SENDER_BYTES) };
    world.receive(&mut hub, palpatine, message(&made[7], "x"), START);
    assert_eq!(
        world.take(palpatine),
        [refused(Refusal::MailboxFull {
            user: name(&made[7])
        })]
    );
    assert_eq!(kept, NEWCOMER_BYTES / CHUNK_BYTES);
    // A user from credentials.txt still gets messages kept.
    world.receive(&mut hub, vader, message("luke", "hi"), START);
    assert_eq!(world.take(vader), [stored("luke")]);
    // A made account that logs in again is a user like any other.
    let (_, mail) = login_mail_with(&mut hub, &mut world, &made[0], "pw", START);
    assert_eq!(mail.len(), kept / made.len());
}

// ---------------------------------------------------------------------------
// A recipient that stops reading: R26, R27.

#[test]
fn r27_a_recipient_with_a_full_queue_is_dropped_and_gets_the_message_later() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world);
    clog(&mut hub, &mut world, luke);
    world.receive(&mut hub, hans, message("luke", "are you there?"), START);
    assert_eq!(world.closed(), [luke]);
    // The sender gets no error, only the news that the message waits for
    // luke's next login; then everyone hears luke left.
    assert_eq!(world.take(hans), [stored("luke"), logged_out("luke")]);
    assert_eq!(world.take(yoda), [logged_out("luke")]);
    assert_eq!(world.take(luke), []);
    assert_eq!(world.len(), 1, "only the close: {:?}", world.events);
    // luke is offline: messages to him are kept now.
    world.receive(&mut hub, yoda, message("luke", "later then"), START);
    assert_eq!(world.take(yoda), [stored("luke")]);
    let (luke, mail) = login_mail(&mut hub, &mut world, "luke", ms(START, 5_000));
    letters(&mail, &[("hans", "are you there?"), ("yoda", "later then")]);
    assert_eq!(world.take(hans), [logged_in("luke")]);
    assert_eq!(world.take(yoda), [logged_in("luke")]);
    acknowledge(&mut hub, &mut world, luke, &mail, ms(START, 5_000));
}

// ---------------------------------------------------------------------------
// broadcast: R12, S3, S4.

#[test]
fn r12_s3_a_broadcast_reaches_everyone_online_but_the_sender() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world);
    // vader is typing his password: not online yet.
    let vader = at_password_prompt(&mut hub, &mut world, "vader", START);
    typed(&mut hub, &mut world, hans, "broadcast vader is evil", START);
    for conn in [yoda, luke] {
        let got = world.take(conn);
        letters(&got, &[("hans", "vader is evil")]);
        assert_eq!(got[0].to_string(), "hans: vader is evil");
        // Marked as a broadcast, for the client to show it as one.
        assert!(
            matches!(
                got[0],
                ServerFrame::Message {
                    broadcast: true,
                    ..
                }
            ),
            "{got:?}"
        );
        acknowledge(&mut hub, &mut world, conn, &got, START);
    }
    // hans sees nothing more: nobody blocked him.
    shown(&mut world, &[(hans, &[]), (vader, &[])], "broadcast");
    // Never stored for those who were not online.
    world.receive(&mut hub, vader, password(password_of("vader")), START);
    assert_eq!(world.take(vader), [ServerFrame::Welcome { waiting: 0 }]);
    let (_, mail) = login_mail(&mut hub, &mut world, "r2d2", START);
    assert_eq!(mail, []);
}

#[test]
fn r12_broadcasts_are_never_stored_for_offline_users() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    world.receive(
        &mut hub,
        hans,
        ClientFrame::Broadcast {
            text: text("anyone?"),
        },
        START,
    );
    // Alone: nobody to skip, so no reply either.
    assert_eq!(world.take(hans), []);
    for (user, _) in SAMPLE_ACCOUNTS.iter().filter(|(user, _)| *user != "hans") {
        let (conn, mail) = login_mail(&mut hub, &mut world, user, ms(START, 1_000));
        assert_eq!(mail, [], "{user}");
        logout(&mut hub, &mut world, conn, ms(START, 1_000));
    }
}

#[test]
fn r12_s4_users_who_blocked_the_sender_are_skipped_and_the_sender_told() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world);
    let vader = login_sample(&mut hub, &mut world, "vader", START);
    for conn in [hans, yoda, luke] {
        world.take(conn);
    }
    world.receive(
        &mut hub,
        luke,
        ClientFrame::Block { user: name("hans") },
        START,
    );
    assert_eq!(
        world.take(luke),
        [ServerFrame::UserBlocked { user: name("hans") }]
    );
    world.receive(
        &mut hub,
        hans,
        ClientFrame::Broadcast {
            text: text("I travel solo"),
        },
        START,
    );
    let notice = refused(Refusal::NotDeliveredToSome);
    assert_eq!(world.take(hans), slice::from_ref(&notice));
    assert_eq!(
        notice.to_string(),
        "Your message could not be delivered to some recipients"
    );
    for conn in [yoda, vader] {
        letters(&world.take(conn), &[("hans", "I travel solo")]);
    }
    assert_eq!(world.take(luke), []);
    assert_quiet(&world);
    // Nothing was kept for luke either.
    logout(&mut hub, &mut world, luke, START);
    for conn in [hans, yoda, vader] {
        world.take(conn);
    }
    let (luke, mail) = login_mail(&mut hub, &mut world, "luke", START);
    assert_eq!(mail, []);
    logout(&mut hub, &mut world, luke, START);
    for conn in [yoda, vader] {
        assert_eq!(world.take(conn), [logged_in("luke"), logged_out("luke")]);
    }
    // hans hears nothing of luke's comings and goings: luke blocks him (R11).
    assert_eq!(world.take(hans), []);
    // Only online users are recipients: a blocker who is offline skips
    // nothing, so the sender is not told.
    world.receive(
        &mut hub,
        hans,
        ClientFrame::Broadcast {
            text: text("bye luke"),
        },
        START,
    );
    assert_eq!(world.take(hans), []);
    for conn in [yoda, vader] {
        letters(&world.take(conn), &[("hans", "bye luke")]);
    }
    assert_quiet(&world);
}

#[test]
fn r12_r26_a_recipient_whose_mailbox_is_full_is_skipped_and_the_sender_told() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world);
    // luke is shown MAILBOX_DEPTH messages and acknowledges none.
    for i in 0..MAILBOX_DEPTH {
        world.receive(&mut hub, yoda, message("luke", &format!("m{i}")), START);
    }
    let unread = world.take(luke);
    assert_eq!(unread.len(), MAILBOX_DEPTH);
    world.receive(
        &mut hub,
        hans,
        ClientFrame::Broadcast {
            text: text("hello"),
        },
        START,
    );
    assert_eq!(world.take(hans), [refused(Refusal::NotDeliveredToSome)]);
    letters(&world.take(yoda), &[("hans", "hello")]);
    assert_eq!(world.take(luke), []);
    assert_quiet(&world);
    // Once luke has caught up, everyone gets the next one.
    acknowledge(&mut hub, &mut world, luke, &unread, START);
    world.receive(
        &mut hub,
        hans,
        ClientFrame::Broadcast {
            text: text("again"),
        },
        START,
    );
    assert_eq!(world.take(hans), []);
    letters(&world.take(yoda), &[("hans", "again")]);
    letters(&world.take(luke), &[("hans", "again")]);
}

// ---------------------------------------------------------------------------
// whoelse: R13, S1.

#[test]
fn r13_s1_whoelse_lists_the_other_online_users() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, _, _) = hans_yoda_luke(&mut hub, &mut world);
    let names = who(&mut hub, &mut world, hans, ClientFrame::WhoElse {}, START);
    assert_eq!(names, set(&["yoda", "luke"]));
    // S1's `whatsthetime` never reaches the server.
    let invalid = command::parse("whatsthetime");
    assert_eq!(invalid, Err(CommandError::Invalid));
    assert_eq!(invalid.unwrap_err().to_string(), "Error. Invalid command");
    assert_quiet(&world);
}

#[test]
fn r13_whoelse_leaves_out_self_blockers_and_users_not_logged_in() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world);
    // At the login prompts, in three places.
    let fresh = world.connect(&mut hub, START, PEER).unwrap();
    let typing = at_password_prompt(&mut hub, &mut world, "vader", START);
    let choosing = world.connect(&mut hub, START, PEER).unwrap();
    world.receive(&mut hub, choosing, username("jaba"), START);
    // Logged in and out again.
    let leia = login_sample(&mut hub, &mut world, "leia", START);
    logout(&mut hub, &mut world, leia, START);
    for conn in [hans, yoda, luke, fresh, choosing] {
        world.take(conn);
    }
    assert_eq!(
        who(&mut hub, &mut world, hans, ClientFrame::WhoElse {}, START),
        set(&["yoda", "luke"])
    );
    // luke blocks hans: hidden from hans, and only from hans.
    world.receive(
        &mut hub,
        luke,
        ClientFrame::Block { user: name("hans") },
        START,
    );
    world.take(luke);
    assert_eq!(
        who(&mut hub, &mut world, hans, ClientFrame::WhoElse {}, START),
        set(&["yoda"])
    );
    assert_eq!(
        who(&mut hub, &mut world, yoda, ClientFrame::WhoElse {}, START),
        set(&["hans", "luke"])
    );
    // One way: luke still sees hans.
    assert_eq!(
        who(&mut hub, &mut world, luke, ClientFrame::WhoElse {}, START),
        set(&["hans", "yoda"])
    );
    // Once unblocked, luke is back.
    world.receive(
        &mut hub,
        luke,
        ClientFrame::Unblock { user: name("hans") },
        START,
    );
    world.take(luke);
    assert_eq!(
        who(&mut hub, &mut world, hans, ClientFrame::WhoElse {}, START),
        set(&["yoda", "luke"])
    );
    assert_quiet(&world);
    // vader, once past the password prompt, is listed.
    world.receive(&mut hub, typing, password(password_of("vader")), START);
    assert_eq!(world.take(typing), [ServerFrame::Welcome { waiting: 0 }]);
    for conn in [hans, yoda, luke] {
        assert_eq!(world.take(conn), [logged_in("vader")]);
    }
    assert_eq!(
        who(&mut hub, &mut world, hans, ClientFrame::WhoElse {}, START),
        set(&["yoda", "luke", "vader"])
    );
}

#[test]
fn r13_alone_whoelse_is_an_empty_list() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    world.receive(&mut hub, hans, ClientFrame::WhoElse {}, START);
    assert_eq!(
        world.take(hans),
        [ServerFrame::Users {
            users: Default::default(),
            more: false
        }]
    );
}

// ---------------------------------------------------------------------------
// whoelsesince: R14, S5.

/// A hub whose users never time out in these scenarios, so the history of
/// S5 (ten minutes) can happen as written without anyone acting.
fn patient_hub() -> Hub {
    let mut hub = Hub::new(Config {
        block_ms: BLOCK_MS,
        timeout_ms: 3_600_000,
        warning_ms: 0,
        answer_ms: PRIVATE_ANSWER_MS,
        ..Config::new(BLOCK_MS, 3_600_000)
    });
    for (user, pass) in SAMPLE_ACCOUNTS {
        hub.add_account(user, pass).unwrap();
    }
    hub
}

fn at(seconds: u64) -> Instant {
    Instant(seconds * 1_000)
}

/// S5's history: r2d2 online 0-300 s, vader 300-480 s; hans, yoda and luke
/// logged in along the way and still online. Returns (yoda, luke).
fn s5(hub: &mut Hub, world: &mut World) -> (ConnId, ConnId) {
    let r2d2 = login_sample(hub, world, "r2d2", at(0));
    let hans = login_sample(hub, world, "hans", at(60));
    logout(hub, world, r2d2, at(300));
    let vader = login_sample(hub, world, "vader", at(300));
    let yoda = login_sample(hub, world, "yoda", at(400));
    logout(hub, world, vader, at(480));
    let luke = login_sample(hub, world, "luke", at(590));
    for conn in [hans, yoda, luke] {
        world.take(conn);
    }
    assert_eq!(world.closed(), [r2d2, vader]);
    assert_quiet(world);
    (yoda, luke)
}

#[test]
fn r14_s5_whoelsesince_lists_everyone_online_during_the_window() {
    let mut hub = patient_hub();
    let mut world = World::default();
    let (yoda, luke) = s5(&mut hub, &mut world);
    let now = at(600);
    typed(&mut hub, &mut world, luke, "whoelsesince 200", now);
    let reply = world.take(luke);
    assert_eq!(reply.len(), 1);
    let lines: BTreeSet<String> = reply[0].to_string().lines().map(String::from).collect();
    assert_eq!(lines, set(&["hans", "yoda", "vader"]));
    assert_eq!(
        who(&mut hub, &mut world, yoda, whoelse_since(500), now),
        set(&["hans", "luke", "vader", "r2d2"])
    );
    // whoelse is only those online now.
    assert_eq!(
        who(&mut hub, &mut world, yoda, ClientFrame::WhoElse {}, now),
        set(&["hans", "luke"])
    );
}

#[test]
fn r14_the_window_starts_exactly_seconds_ago_to_the_millisecond() {
    let mut hub = patient_hub();
    let mut world = World::default();
    let (yoda, _) = s5(&mut hub, &mut world);
    // vader logged out at 480 s: 120 s before 600 s.
    assert_eq!(
        who(&mut hub, &mut world, yoda, whoelse_since(120), at(600)),
        set(&["hans", "luke", "vader"]),
        "logged out exactly at the window's start"
    );
    assert_eq!(
        who(
            &mut hub,
            &mut world,
            yoda,
            whoelse_since(120),
            ms(at(600), 1)
        ),
        set(&["hans", "luke"]),
        "logged out one ms before it"
    );
    // r2d2 logged out at 300 s.
    assert_eq!(
        who(&mut hub, &mut world, yoda, whoelse_since(300), at(600)),
        set(&["hans", "luke", "vader", "r2d2"])
    );
    assert_eq!(
        who(&mut hub, &mut world, yoda, whoelse_since(299), at(600)),
        set(&["hans", "luke", "vader"])
    );
    // Zero seconds: online now.
    assert_eq!(
        who(&mut hub, &mut world, yoda, whoelse_since(0), at(600)),
        set(&["hans", "luke"])
    );
}

#[test]
fn r14_a_window_longer_than_the_uptime_means_since_the_start() {
    let mut hub = patient_hub();
    let mut world = World::default();
    let (yoda, _) = s5(&mut hub, &mut world);
    // Someone who logged in and out at the very start, on another hub.
    let mut hub2 = patient_hub();
    let mut world2 = World::default();
    let leia = login_sample(&mut hub2, &mut world2, "leia", at(0));
    logout(&mut hub2, &mut world2, leia, at(0));
    let hans = login_sample(&mut hub2, &mut world2, "hans", at(10));
    for seconds in [600, 601, 1_000_000, u64::MAX / 1_000 + 1, u64::MAX] {
        assert_eq!(
            who(&mut hub, &mut world, yoda, whoelse_since(seconds), at(600)),
            set(&["hans", "luke", "vader", "r2d2"]),
            "{seconds}"
        );
    }
    for seconds in [20, 21, u64::MAX / 1_000, u64::MAX / 1_000 + 1, u64::MAX] {
        assert_eq!(
            who(&mut hub2, &mut world2, hans, whoelse_since(seconds), at(20)),
            set(&["leia"]),
            "{seconds}"
        );
    }
    // The start is the edge: a window that ends one second after it misses leia.
    assert_eq!(
        who(&mut hub2, &mut world2, hans, whoelse_since(19), at(20)),
        set(&[])
    );
    // Typed as more digits than a u64 holds, too.
    typed(
        &mut hub2,
        &mut world2,
        hans,
        "whoelsesince 99999999999999999999999999",
        at(20),
    );
    assert_eq!(world2.take_text(hans), ["leia"]);
}

#[test]
fn r14_whoelsesince_leaves_out_self_and_blockers() {
    let mut hub = patient_hub();
    let mut world = World::default();
    let r2d2 = login_sample(&mut hub, &mut world, "r2d2", at(0));
    let yoda = login_sample(&mut hub, &mut world, "yoda", at(0));
    let luke = login_sample(&mut hub, &mut world, "luke", at(0));
    // r2d2 blocks yoda, then leaves; luke blocks yoda and stays.
    for conn in [r2d2, luke] {
        world.receive(
            &mut hub,
            conn,
            ClientFrame::Block { user: name("yoda") },
            at(1),
        );
    }
    logout(&mut hub, &mut world, r2d2, at(2));
    for conn in [yoda, luke] {
        world.take(conn);
    }
    assert_eq!(
        who(&mut hub, &mut world, yoda, whoelse_since(u64::MAX), at(3)),
        set(&[])
    );
    // luke blocked yoda, not the other way round.
    assert_eq!(
        who(&mut hub, &mut world, luke, whoelse_since(u64::MAX), at(3)),
        set(&["yoda", "r2d2"])
    );
    world.receive(
        &mut hub,
        luke,
        ClientFrame::Unblock { user: name("yoda") },
        at(4),
    );
    world.take(luke);
    assert_eq!(
        who(&mut hub, &mut world, yoda, whoelse_since(u64::MAX), at(5)),
        set(&["luke"])
    );
}

// ---------------------------------------------------------------------------
// block and unblock: R15, R16, R11, S4.

#[test]
fn r15_r16_block_and_unblock_reply_with_the_exact_texts() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world);
    // (line luke types, what luke sees): vader is offline, which is fine.
    let steps = [
        ("block hans", "hans is blocked"),
        ("block hans", "Error. hans is already blocked"),
        ("block luke", "Error. Cannot block self"),
        ("block bob", "Error. Invalid user"),
        ("block vader", "vader is blocked"),
        ("block yoda", "yoda is blocked"),
        ("unblock hans", "hans is unblocked"),
        ("unblock hans", "Error. hans was not blocked"),
        ("unblock luke", "Error. Cannot unblock self"),
        ("unblock bob", "Error. Invalid user"),
        ("unblock yoda", "yoda is unblocked"),
        ("unblock vader", "vader is unblocked"),
        ("unblock yoda", "Error. yoda was not blocked"),
    ];
    for (line, reply) in steps {
        typed(&mut hub, &mut world, luke, line, START);
        // The blocked user is never told, nor anyone else.
        shown(
            &mut world,
            &[(luke, &[reply]), (hans, &[]), (yoda, &[])],
            line,
        );
    }
    // The frames behind the texts.
    world.receive(
        &mut hub,
        luke,
        ClientFrame::Block { user: name("hans") },
        START,
    );
    world.receive(
        &mut hub,
        luke,
        ClientFrame::Block { user: name("hans") },
        START,
    );
    world.receive(
        &mut hub,
        luke,
        ClientFrame::Unblock { user: name("hans") },
        START,
    );
    world.receive(
        &mut hub,
        luke,
        ClientFrame::Unblock { user: name("hans") },
        START,
    );
    world.receive(
        &mut hub,
        luke,
        ClientFrame::Block { user: name("luke") },
        START,
    );
    world.receive(
        &mut hub,
        luke,
        ClientFrame::Unblock { user: name("luke") },
        START,
    );
    world.receive(
        &mut hub,
        luke,
        ClientFrame::Unblock { user: name("bob") },
        START,
    );
    assert_eq!(
        world.take(luke),
        [
            ServerFrame::UserBlocked { user: name("hans") },
            refused(Refusal::AlreadyBlocked { user: name("hans") }),
            ServerFrame::UserUnblocked { user: name("hans") },
            refused(Refusal::NotBlocked { user: name("hans") }),
            refused(Refusal::BlockSelf),
            refused(Refusal::UnblockSelf),
            refused(Refusal::InvalidUser),
        ]
    );
}

#[test]
fn r15_an_offline_user_can_be_blocked_and_stays_blocked() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let luke = login_sample(&mut hub, &mut world, "luke", START);
    world.receive(
        &mut hub,
        luke,
        ClientFrame::Block {
            user: name("vader"),
        },
        START,
    );
    assert_eq!(world.take_text(luke), ["vader is blocked"]);
    let vader = login_sample(&mut hub, &mut world, "vader", START);
    assert_eq!(world.take(luke), [logged_in("vader")]);
    world.receive(&mut hub, vader, message("luke", "I am your father"), START);
    assert_eq!(world.take(vader), [refused(Refusal::BlockedByRecipient)]);
    world.receive(&mut hub, vader, ClientFrame::WhoElse {}, START);
    assert_eq!(
        world.take(vader),
        [ServerFrame::Users {
            users: Default::default(),
            more: false
        }]
    );
    assert_eq!(world.take(luke), []);
    // Still blocked after luke logs out and in again.
    logout(&mut hub, &mut world, luke, START);
    assert_eq!(world.take(vader), [], "no notice about luke for vader");
    let (luke, mail) = login_mail(&mut hub, &mut world, "luke", START);
    assert_eq!(mail, []);
    assert_eq!(world.take(vader), []);
    world.receive(
        &mut hub,
        vader,
        message("luke", "search your feelings"),
        START,
    );
    assert_eq!(world.take(vader), [refused(Refusal::BlockedByRecipient)]);
    assert_eq!(world.take(luke), []);
}

#[test]
fn r15_blocking_works_one_way() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world);
    typed(&mut hub, &mut world, luke, "block hans", START);
    world.take(luke);
    // What luke sends still reaches hans.
    typed(
        &mut hub,
        &mut world,
        luke,
        "message hans I blocked you",
        START,
    );
    assert_eq!(world.take(luke), []);
    letters(&world.take(hans), &[("luke", "I blocked you")]);
    typed(&mut hub, &mut world, luke, "broadcast hello all", START);
    assert_eq!(world.take(luke), [], "nobody blocked luke");
    letters(&world.take(hans), &[("luke", "hello all")]);
    letters(&world.take(yoda), &[("luke", "hello all")]);
    // And luke stored for hans too.
    logout(&mut hub, &mut world, hans, START);
    assert_eq!(world.take(yoda), [logged_out("hans")]);
    assert_eq!(world.take(luke), [logged_out("hans")]);
    typed(
        &mut hub,
        &mut world,
        luke,
        "message hans while you were out",
        START,
    );
    assert_eq!(world.take(luke), [stored("hans")]);
    let (_, mail) = login_mail(&mut hub, &mut world, "hans", START);
    // Shown at login: the two live ones were never acknowledged (R27).
    letters(
        &mail,
        &[
            ("luke", "I blocked you"),
            ("luke", "hello all"),
            ("luke", "while you were out"),
        ],
    );
}

#[test]
fn r11_r15_presence_notices_skip_the_users_their_subject_blocked() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world);
    typed(&mut hub, &mut world, luke, "block hans", START);
    shown(
        &mut world,
        &[(luke, &["hans is blocked"]), (hans, &[]), (yoda, &[])],
        "block",
    );
    logout(&mut hub, &mut world, luke, START);
    shown(
        &mut world,
        &[(hans, &[]), (yoda, &["luke logged out"])],
        "logout",
    );
    let luke = login_sample(&mut hub, &mut world, "luke", START);
    shown(
        &mut world,
        &[(hans, &[]), (yoda, &["luke logged in"])],
        "login",
    );
    // A dropped connection and a timeout are logouts too.
    world.disconnect(&mut hub, luke, START);
    shown(
        &mut world,
        &[(hans, &[]), (yoda, &["luke logged out"])],
        "drop",
    );
    let luke = login_sample(&mut hub, &mut world, "luke", ms(START, 1_000));
    shown(
        &mut world,
        &[(hans, &[]), (yoda, &["luke logged in"])],
        "login",
    );
    world.receive(&mut hub, hans, ClientFrame::WhoElse {}, ms(START, 50_000));
    world.receive(&mut hub, yoda, ClientFrame::WhoElse {}, ms(START, 50_000));
    world.take(hans);
    world.take(yoda);
    world.handle_timeout(&mut hub, ms(START, 1_000 + TIMEOUT_MS));
    assert_eq!(world.take(luke), [bye(ByeReason::TimedOut)]);
    shown(
        &mut world,
        &[(hans, &[]), (yoda, &["luke logged out"])],
        "timeout",
    );
    // hans's own notices still reach luke: the block is luke's.
    let luke = login_sample(&mut hub, &mut world, "luke", ms(START, 60_000));
    world.take(yoda);
    logout(&mut hub, &mut world, hans, ms(START, 60_000));
    shown(
        &mut world,
        &[(luke, &["hans logged out"]), (yoda, &["hans logged out"])],
        "hans leaves",
    );
    let hans = login_sample(&mut hub, &mut world, "hans", ms(START, 60_000));
    shown(
        &mut world,
        &[(luke, &["hans logged in"]), (yoda, &["hans logged in"])],
        "hans is back",
    );
    // Unblocked: luke's notices reach hans again.
    typed(
        &mut hub,
        &mut world,
        luke,
        "unblock hans",
        ms(START, 60_000),
    );
    shown(
        &mut world,
        &[(luke, &["hans is unblocked"]), (hans, &[]), (yoda, &[])],
        "unblock",
    );
    logout(&mut hub, &mut world, luke, ms(START, 60_000));
    shown(
        &mut world,
        &[(hans, &["luke logged out"]), (yoda, &["luke logged out"])],
        "logout after unblock",
    );
    login_sample(&mut hub, &mut world, "luke", ms(START, 60_000));
    shown(
        &mut world,
        &[(hans, &["luke logged in"]), (yoda, &["luke logged in"])],
        "login after unblock",
    );
}

#[test]
fn s4_blocking_the_whole_table() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world);
    type Step<'a> = (ConnId, &'a str, [&'a [&'a str]; 3]);
    let none: &[&str] = &[];
    // (who types, what, [hans sees, yoda sees, luke sees]).
    let table: [Step; 8] = [
        (luke, "block hans", [none, none, &["hans is blocked"]]),
        (
            hans,
            "broadcast I travel solo",
            [
                &["Your message could not be delivered to some recipients"],
                &["hans: I travel solo"],
                none,
            ],
        ),
        (hans, "whoelse", [&["yoda"], none, none]),
        (
            hans,
            "message luke You angry?",
            [
                &["Your message could not be delivered as the recipient has blocked you"],
                none,
                none,
            ],
        ),
        (
            hans,
            "block hans",
            [&["Error. Cannot block self"], none, none],
        ),
        (
            luke,
            "unblock yoda",
            [none, none, &["Error. yoda was not blocked"]],
        ),
        (luke, "unblock hans", [none, none, &["hans is unblocked"]]),
        (
            hans,
            "broadcast jedis are cool",
            [none, &["hans: jedis are cool"], &["hans: jedis are cool"]],
        ),
    ];
    for (step, (conn, line, [h, y, l])) in table.into_iter().enumerate() {
        let now = ms(START, 1_000 * step as u64);
        typed(&mut hub, &mut world, conn, line, now);
        shown(
            &mut world,
            &[(hans, h), (yoda, y), (luke, l)],
            &format!("step {}: {line}", step + 1),
        );
    }
}

// ---------------------------------------------------------------------------
// Activity: R9.

#[test]
fn r9_every_command_is_activity_even_a_refused_one() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let yoda = login_sample(&mut hub, &mut world, "yoda", START);
    // (typed, what yoda sees): 60 s apart, so two steps without activity
    // would pass the 120 s timeout.
    let steps: [(&str, &[&str]); 12] = [
        ("whoelse", &[""]),
        ("whoelsesince 60", &[""]),
        (
            "message vader hi",
            &["vader is offline; they will get your message when they next log in"],
        ),
        ("broadcast anyone?", &[]),
        ("block vader", &["vader is blocked"]),
        ("unblock vader", &["vader is unblocked"]),
        ("message bob hi", &["Error. Invalid user"]),
        ("message yoda hi", &["Error. Cannot message self"]),
        ("block yoda", &["Error. Cannot block self"]),
        ("block bob", &["Error. Invalid user"]),
        ("unblock luke", &["Error. luke was not blocked"]),
        ("unblock yoda", &["Error. Cannot unblock self"]),
    ];
    for (i, (line, reply)) in steps.iter().enumerate() {
        let now = ms(START, 60_000 * (i as u64 + 1));
        world.handle_timeout(&mut hub, now);
        assert!(!world.is_closed(yoda), "timed out before {line:?}");
        typed(&mut hub, &mut world, yoda, line, now);
        assert_eq!(world.take_text(yoda), *reply, "{line}");
        assert_eq!(hub.poll_timeout(), Some(ms(now, TIMEOUT_MS)), "{line}");
    }
    let last = ms(START, 60_000 * steps.len() as u64);
    world.handle_timeout(&mut hub, ms(last, TIMEOUT_MS - 1));
    assert!(!world.is_closed(yoda));
    world.handle_timeout(&mut hub, ms(last, TIMEOUT_MS));
    assert_eq!(world.take(yoda), [bye(ByeReason::TimedOut)]);
    assert!(world.is_closed(yoda));
}

#[test]
fn r9_acknowledging_a_message_is_not_activity() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    world.receive(&mut hub, hans, message("yoda", "read me"), START);
    logout(&mut hub, &mut world, hans, START);
    let (yoda, mail) = login_mail(&mut hub, &mut world, "yoda", START);
    let ids = letters(&mail, &[("hans", "read me")]);
    let deadline = ms(START, TIMEOUT_MS);
    assert_eq!(hub.poll_timeout(), Some(deadline));
    world.receive(&mut hub, yoda, received(ids[0]), ms(START, 100_000));
    world.receive(&mut hub, yoda, received(ids[0] + 1_000), ms(START, 110_000));
    assert_eq!(world.take(yoda), []);
    assert_eq!(hub.poll_timeout(), Some(deadline));
    world.handle_timeout(&mut hub, deadline);
    assert_eq!(world.take(yoda), [bye(ByeReason::TimedOut)]);
    // The acknowledgement itself was taken.
    let (_, mail) = login_mail(&mut hub, &mut world, "yoda", deadline);
    assert_eq!(mail, []);
}

// ---------------------------------------------------------------------------
// Out of place: R25, R27.

#[test]
fn r25_messaging_frames_before_login_are_unexpected_and_do_nothing() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let luke = login_sample(&mut hub, &mut world, "luke", START);
    world.take(hans);
    let fresh = world.connect(&mut hub, START, PEER).unwrap();
    let typing = at_password_prompt(&mut hub, &mut world, "vader", START);
    let choosing = world.connect(&mut hub, START, PEER).unwrap();
    world.receive(&mut hub, choosing, username("jaba"), START);
    world.take(fresh);
    world.take(choosing);
    let frames = [
        message("r2d2", "for later"),
        ClientFrame::Broadcast {
            text: text("hi all"),
        },
        ClientFrame::WhoElse {},
        ClientFrame::WhoElseSince { seconds: 60 },
        ClientFrame::Block { user: name("hans") },
        ClientFrame::Unblock { user: name("hans") },
        received(1),
    ];
    assert!(frames.len() < usize::from(MAX_BAD_FRAMES));
    for conn in [fresh, typing, choosing] {
        for frame in &frames {
            world.receive(&mut hub, conn, frame.clone(), START);
            assert_eq!(
                world.take(conn),
                [error(FrameError::Unexpected)],
                "{frame:?}"
            );
            assert_eq!(world.len(), 0, "{frame:?}: {:?}", world.events);
        }
    }
    // Nothing was stored or blocked: r2d2 has no mail, hans reaches luke.
    let (_, mail) = login_mail(&mut hub, &mut world, "r2d2", START);
    assert_eq!(mail, []);
    assert_eq!(world.take(hans), [logged_in("r2d2")]);
    assert_eq!(world.take(luke), [logged_in("r2d2")]);
    world.receive(&mut hub, hans, message("luke", "still friends"), START);
    letters(&world.take(luke), &[("hans", "still friends")]);
    // And every connection is still at its prompt.
    world.receive(&mut hub, typing, password(password_of("vader")), START);
    assert_eq!(world.take(typing), [ServerFrame::Welcome { waiting: 0 }]);
    world.receive(&mut hub, fresh, username("obiwan"), START);
    assert_eq!(world.take(fresh), [ask(Prompt::Password)]);
}

#[test]
fn r27_received_for_an_unknown_or_someone_elses_id_is_ignored() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world);
    world.receive(&mut hub, hans, message("luke", "only for luke"), START);
    let ids = letters(&world.take(luke), &[("hans", "only for luke")]);
    world.disconnect(&mut hub, luke, START);
    world.take(hans);
    world.take(yoda);
    // yoda acknowledges luke's message, and ids nobody was given.
    for id in [ids[0], 0, ids[0] + 1, u64::MAX] {
        world.receive(&mut hub, yoda, received(id), START);
        assert_eq!(world.len(), 0, "{id}: {:?}", world.events);
    }
    // Still luke's, still waiting.
    let (_, mail) = login_mail(&mut hub, &mut world, "luke", START);
    assert_eq!(mail, [letter(ids[0], "hans", "only for luke")]);
    assert_eq!(world.take(hans), [logged_in("luke")]);
    assert_eq!(world.take(yoda), [logged_in("luke")]);
    assert_quiet(&world);
}

#[test]
fn r14_r25_a_session_closed_for_bad_frames_logs_out_at_that_time() {
    // Regression: `reject` once took no `now`, so the logout was dated at
    // the hub's previous call.
    let mut hub = patient_hub();
    let mut world = World::default();
    let yoda = login_sample(&mut hub, &mut world, "yoda", at(0));
    let hans = login_sample(&mut hub, &mut world, "hans", at(0));
    for _ in 0..MAX_BAD_FRAMES {
        world.reject(&mut hub, yoda, FrameError::Malformed, at(100));
    }
    assert_eq!(world.take(hans), [logged_out("yoda")]);
    assert_eq!(
        who(&mut hub, &mut world, hans, whoelse_since(20), at(110)),
        set(&["yoda"])
    );
}

// ---------------------------------------------------------------------------
// Polled output: letters wait in the store, in their place (issue 9).

#[test]
fn a_burst_to_a_slow_reader_takes_one_mark_and_keeps_its_place_among_notices() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let luke = login_sample(&mut hub, &mut world, "luke", START);
    world.take(hans);
    // luke's client is busy: nothing of his is taken for a while.
    world.full.push(luke);
    for i in 0..200 {
        world.receive(&mut hub, hans, message("luke", &format!("line {i}")), START);
    }
    // 200 messages, and the ring holds a single nine-byte mark for them.
    let queued = &hub.sessions.get(luke).unwrap().output;
    assert!(!queued.is_empty());
    login_sample(&mut hub, &mut world, "yoda", START);
    world.receive(&mut hub, hans, message("luke", "after yoda"), START);
    assert_eq!(
        world.take(hans),
        [logged_in("yoda")],
        "no refusal, no error"
    );
    world.reads_again(&mut hub, luke);
    let got = world.take(luke);
    assert_eq!(got.len(), 202);
    for (i, frame) in got[..200].iter().enumerate() {
        let ServerFrame::Message { text: t, .. } = frame else {
            panic!("{frame:?}");
        };
        assert_eq!(t.as_str(), format!("line {i}"));
    }
    // The notice comes where it happened: after the burst, before the last.
    assert_eq!(got[200], logged_in("yoda"));
    assert_eq!(plain(&got[201]), plain(&letter(201, "hans", "after yoda")));
    assert!(!world.is_closed(luke));
}

#[test]
fn a_small_buffer_gets_whole_frames_only() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let luke = login_sample(&mut hub, &mut world, "luke", START);
    world.take(hans);
    world.full.push(luke);
    // 30 letters of about 400 bytes: inside luke's quota.
    for i in 0..30 {
        world.receive(
            &mut hub,
            hans,
            message("luke", &format!("{i:0>400}")),
            START,
        );
    }
    assert_eq!(world.take(hans), [], "nothing refused");
    // Each call fills the buffer with whole frames, several at a time.
    let mut buf = [0u8; crate::limits::FRAME_MAX + 1];
    let mut frames = 0;
    loop {
        let sent = hub.poll_transmit(luke, START, &mut buf);
        if sent.len == 0 {
            break;
        }
        assert_eq!(buf[sent.len - 1], b'\n');
        let lines = buf[..sent.len]
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty());
        let n = lines.count();
        assert!(n > 1, "several frames per call");
        frames += n;
        assert!(!sent.close);
    }
    assert_eq!(frames, 30);
}
