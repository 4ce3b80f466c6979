//! Durability (issue 11): what the hub hands its journal brings a new hub
//! back to the same state, change by change or compacted, and senders are
//! told a letter is accepted only after the journal has it.

use std::vec::Vec;

use crate::hub::Hub;
use crate::hub::tests::{
    BLOCK_MS, START, World, at_password_prompt, block, hub_with_sample_accounts, login_sample,
    message, ms, name, password,
};
use crate::journal::{CHANGE_MAX, Change, decode};
use crate::protocol::{ByeReason, ClientFrame, Refusal, ServerFrame, Text};

/// What a hub with the sample accounts looks like after `changes`.
fn restarted(changes: &[Change]) -> Hub {
    let mut hub = hub_with_sample_accounts();
    for change in changes {
        hub.replay(change.clone(), START).unwrap();
    }
    hub
}

/// Every change the hub has for its journal now.
fn changes(hub: &mut Hub) -> Vec<Change> {
    let mut buf = [0u8; CHANGE_MAX];
    let mut changes = Vec::new();
    while let Some(polled) = hub.poll_change(&mut buf) {
        let n = polled.len;
        changes.push(decode(&buf[..n - 1]).unwrap());
    }
    changes
}

/// Texts of the messages in `frames`, in order.
fn texts(frames: &[ServerFrame]) -> Vec<&str> {
    frames
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Message { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

/// A hub's life before the restart: letters kept for yoda (offline),
/// one read by luke, one left unread by luke, hans blocking yoda, vader
/// blocked for wrong passwords (R8). Returns the hub and its world.
fn a_day_of_chat() -> (Hub, World) {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let luke = login_sample(&mut hub, &mut world, "luke", START);
    world.take(hans);
    world.take(luke);
    for text in ["one", "two \"quoted\"\n\u{1b}"] {
        world.receive(&mut hub, hans, message("yoda", text), START);
    }
    world.receive(&mut hub, hans, message("luke", "read"), START);
    let read = match world.take(luke).as_slice() {
        [ServerFrame::Message { id, .. }] => *id,
        other => panic!("{other:?}"),
    };
    world.receive(&mut hub, luke, ClientFrame::Received { id: read }, START);
    world.receive(&mut hub, hans, message("luke", "unread"), START);
    world.receive(
        &mut hub,
        hans,
        ClientFrame::Block { user: name("yoda") },
        START,
    );
    block(&mut hub, &mut world, "vader", START);
    (hub, world)
}

/// What the day left must hold after a restart at `now`.
fn assert_restored(mut hub: Hub, now: crate::time::Instant) {
    let mut world = World::default();
    let yoda = at_password_prompt(&mut hub, &mut world, "yoda", now);
    world.receive(&mut hub, yoda, password("wise@!man"), now);
    let frames = world.take(yoda);
    assert!(frames.contains(&ServerFrame::Welcome { waiting: 2 }));
    assert_eq!(texts(&frames), ["one", "two \"quoted\"\n\u{1b}"]);
    let luke = at_password_prompt(&mut hub, &mut world, "luke", now);
    world.receive(&mut hub, luke, password("light==saber"), now);
    assert_eq!(texts(&world.take(luke)), ["unread"], "the read one is gone");
    // hans's blacklist holds (R10, R15).
    world.take(yoda);
    world.receive(&mut hub, yoda, message("hans", "hi"), now);
    assert_eq!(
        world.take(yoda),
        [ServerFrame::Refused {
            refusal: Refusal::BlockedByRecipient
        }]
    );
    // vader's block holds, to the same end (R8).
    let vader = at_password_prompt(&mut hub, &mut world, "vader", now);
    world.receive(&mut hub, vader, password("sithlord**"), now);
    let seconds = (START.millis() + BLOCK_MS - now.millis()).div_ceil(1000);
    assert_eq!(
        world.take(vader),
        [ServerFrame::Bye {
            reason: ByeReason::Blocked { seconds }
        }]
    );
    // New letters get new ids.
    world.receive(&mut hub, luke, message("yoda", "new"), now);
    let id = match world.take(yoda).as_slice() {
        [ServerFrame::Message { id, .. }] => *id,
        other => panic!("{other:?}"),
    };
    assert!(id > 4, "id {id} was given before the restart");
}

#[test]
fn a_restarted_hub_gets_back_letters_reads_blacklists_and_blocks() {
    let (_, world) = a_day_of_chat();
    let later = ms(START, 20_000);
    assert_restored(restarted(&world.journal), later);
}

#[test]
fn a_compacted_journal_restores_the_same_state_with_fewer_changes() {
    let (mut hub, world) = a_day_of_chat();
    hub.journal_all();
    let compacted = changes(&mut hub);
    assert!(compacted.len() < world.journal.len(), "{compacted:?}");
    assert!(
        !compacted
            .iter()
            .any(|c| matches!(c, Change::Letter { text, .. } if text == "read")),
        "a letter read is not kept"
    );
    assert_restored(restarted(&compacted), ms(START, 20_000));
}

#[test]
fn a_sender_is_told_its_letters_are_kept_and_accepted_once_the_journal_has_them() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    // Straight to the hub: no shell has taken the changes yet.
    hub.receive(hans, &message("yoda", "kept"), START);
    hub.receive(hans, &message("luke", "kept too"), START);
    let mut out = [0u8; crate::limits::FRAME_MAX + 1];
    let mut frames = Vec::new();
    while hub.poll_ready().is_some() {
        let sent = hub.poll_transmit(hans, START, &mut out);
        frames.extend_from_slice(&out[..sent.len]);
    }
    assert_eq!(
        frames, b"",
        "neither stored nor accepted before the journal has them"
    );
    let batch = hub.start_batch();
    let ids: Vec<u64> = changes(&mut hub)
        .into_iter()
        .map(|change| match change {
            Change::Letter { id, .. } => id,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids.len(), 2);
    // Written, not synced yet: still nothing.
    assert_eq!(hub.poll_transmit(hans, START, &mut out).len, 0);
    hub.journal_synced(batch);
    assert_eq!(hub.poll_ready(), Some(hans));
    let sent = hub.poll_transmit(hans, START, &mut out);
    let lines = core::str::from_utf8(&out[..sent.len]).unwrap();
    assert_eq!(
        lines,
        std::format!(
            "{{\"Stored\":{{\"user\":\"yoda\"}}}}\n{{\"Stored\":{{\"user\":\"luke\"}}}}\n\
             {{\"Accepted\":{{\"id\":{}}}}}\n",
            ids[1]
        )
    );
}

#[test]
fn while_the_journal_cannot_be_written_letters_are_refused_and_nothing_is_lost() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    world.receive(&mut hub, hans, message("yoda", "before"), START);
    world.take(hans);
    let before = world.journal.len();
    let accepted = world.accepted.len();
    world.disk_full = true;
    // The write of the turn that posts it fails: it is kept in memory,
    // told as stored, not accepted, and from then on letters are refused.
    world.receive(&mut hub, hans, message("yoda", "during"), START);
    world.receive(&mut hub, hans, message("yoda", "refused"), START);
    world.receive(
        &mut hub,
        hans,
        ClientFrame::Broadcast {
            text: Text::try_from("all").unwrap(),
        },
        START,
    );
    let refused = ServerFrame::Refused {
        refusal: Refusal::NotKept,
    };
    assert_eq!(
        world.take(hans),
        [
            ServerFrame::Stored { user: name("yoda") },
            refused.clone(),
            refused.clone()
        ]
    );
    assert_eq!(world.journal.len(), before, "nothing written");
    assert_eq!(world.accepted.len(), accepted, "nothing accepted");
    world.disk_full = false;
    world.receive(&mut hub, hans, ClientFrame::WhoElse {}, START);
    // The next write is the whole state, "during" with it, and accepted.
    let rewritten: Vec<&str> = world.journal[before..]
        .iter()
        .filter_map(|c| match c {
            Change::Letter { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert!(matches!(world.journal[before], Change::Ids { .. }));
    assert_eq!(rewritten, ["before", "during"]);
    assert_eq!(world.accepted.len(), accepted + 1);
    // Letters are taken again.
    world.take(hans);
    world.receive(&mut hub, hans, message("yoda", "after"), START);
    assert_eq!(
        world.take(hans),
        [ServerFrame::Stored { user: name("yoda") }]
    );
}

#[test]
fn letters_keep_their_ids_across_a_compaction_so_later_reads_mean_the_same_letters() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    // Letters 1..=3 for luke (offline), then ids move on elsewhere.
    for text in ["a", "b", "c"] {
        world.receive(&mut hub, hans, message("luke", text), START);
    }
    for _ in 0..5 {
        world.receive(&mut hub, hans, message("yoda", "filler"), START);
    }
    // The journal is compacted (what the shell writes to a new file
    // starts here), then luke reads everything but a letter posted after.
    hub.journal_all();
    let compacted = world.journal.len();
    let luke = at_password_prompt(&mut hub, &mut world, "luke", START);
    world.receive(&mut hub, luke, password("light==saber"), START);
    let last_read = match texts_and_ids(&world.take(luke)).as_slice() {
        [.., (_, id)] => *id,
        [] => panic!("luke got nothing"),
    };
    world.receive(&mut hub, hans, message("luke", "after"), START);
    world.receive(
        &mut hub,
        luke,
        ClientFrame::Received { id: last_read },
        START,
    );
    let journal = &world.journal[compacted..];
    assert!(matches!(journal[0], Change::Ids { .. }), "{journal:?}");
    // After a restart luke gets only the letter not read.
    let mut hub = restarted(journal);
    let mut world = World::default();
    let luke = at_password_prompt(&mut hub, &mut world, "luke", START);
    world.receive(&mut hub, luke, password("light==saber"), START);
    assert_eq!(texts(&world.take(luke)), ["after"]);
}

#[test]
fn a_journal_holding_letters_twice_restores_each_once() {
    let (_, world) = a_day_of_chat();
    // What a whole rewrite after a failed write appends: the same
    // letters, again.
    let mut twice = world.journal.clone();
    twice.extend(world.journal.iter().cloned());
    assert_restored(restarted(&twice), ms(START, 20_000));
}

#[test]
fn a_restored_block_is_never_longer_than_a_block() {
    let mut hub = hub_with_sample_accounts();
    // Written by a server whose clock ran a day ahead.
    let until = START.millis() + BLOCK_MS + 86_400_000;
    hub.replay(
        Change::Blocked {
            user: name("vader"),
            until,
        },
        START,
    )
    .unwrap();
    let mut world = World::default();
    let vader = at_password_prompt(&mut hub, &mut world, "vader", START);
    world.receive(&mut hub, vader, password("sithlord**"), START);
    assert_eq!(
        world.take(vader),
        [ServerFrame::Bye {
            reason: ByeReason::Blocked {
                seconds: BLOCK_MS.div_ceil(1000)
            }
        }]
    );
}

#[test]
fn changes_naming_a_removed_account_are_left_out() {
    let mut hub = hub_with_sample_accounts();
    let gone = Change::Read {
        user: name("nobody"),
        id: 3,
    };
    assert_eq!(
        hub.replay(gone, START),
        Err(crate::hub::ReplayError::UnknownUser)
    );
}

/// Texts and ids of the messages in `frames`, in order.
fn texts_and_ids(frames: &[ServerFrame]) -> Vec<(&str, u64)> {
    frames
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Message { text, id, .. } => Some((text.as_str(), *id)),
            _ => None,
        })
        .collect()
}

#[test]
fn room_made_by_a_read_is_there_for_a_letter_of_the_same_turn_after_a_restart() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let long = "x".repeat(crate::limits::TEXT_MAX);
    // luke's mailbox, filled while luke is offline.
    loop {
        world.receive(&mut hub, hans, message("luke", &long), START);
        if let [.., ServerFrame::Refused { .. }] = world.take(hans).as_slice() {
            break;
        }
    }
    let luke = at_password_prompt(&mut hub, &mut world, "luke", START);
    world.receive(&mut hub, luke, password("light==saber"), START);
    let last = texts_and_ids(&world.take(luke)).last().unwrap().1;
    // In one turn: luke reads them all, and hans's next letter takes the
    // room that made.
    hub.receive(luke, &ClientFrame::Received { id: last }, START);
    world.receive(&mut hub, hans, message("luke", "fits now"), START);
    assert_eq!(texts(&world.take(luke)), ["fits now"]);
    let mut hub = restarted(&world.journal);
    let mut world = World::default();
    let luke = at_password_prompt(&mut hub, &mut world, "luke", START);
    world.receive(&mut hub, luke, password("light==saber"), START);
    assert_eq!(texts(&world.take(luke)), ["fits now"]);
}

#[test]
fn a_read_mark_past_every_letter_does_not_hide_later_reads() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let luke = login_sample(&mut hub, &mut world, "luke", START);
    world.take(luke);
    // A client's own idea of an id, far ahead of the server's.
    world.receive(&mut hub, luke, ClientFrame::Received { id: 1_000 }, START);
    world.receive(&mut hub, hans, message("luke", "read"), START);
    let id = texts_and_ids(&world.take(luke))[0].1;
    world.receive(&mut hub, luke, ClientFrame::Received { id }, START);
    let mut hub = restarted(&world.journal);
    let mut world = World::default();
    let luke = at_password_prompt(&mut hub, &mut world, "luke", START);
    world.receive(&mut hub, luke, password("light==saber"), START);
    assert_eq!(texts(&world.take(luke)), [] as [&str; 0], "read before");
}

#[test]
fn letters_kept_for_users_offline_count_in_their_senders_share_after_a_restart() {
    let (_, world) = a_day_of_chat();
    let live = {
        let (hub, _) = a_day_of_chat();
        hub.store.kept_by(hub.users.find("hans").unwrap())
    };
    assert!(live > 0);
    let hub = restarted(&world.journal);
    assert_eq!(hub.store.kept_by(hub.users.find("hans").unwrap()), live);
}

// ---------------------------------------------------------------------------
// A slow journal (issue 24): the shell syncs on another thread, one batch
// at a time, while the next gathers.

/// hans and yoda online, with a journal whose syncs end only when the
/// test says so.
fn slow_journal() -> (Hub, World, [crate::session::ConnId; 2]) {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let yoda = login_sample(&mut hub, &mut world, "yoda", START);
    world.take(hans);
    world.take(yoda);
    world.hold_syncs = true;
    (hub, world, [hans, yoda])
}

#[test]
fn a_slow_journal_holds_back_only_what_promises_durability() {
    let (mut hub, mut world, [hans, yoda]) = slow_journal();
    // A message to someone online goes at once; its Accepted waits.
    world.receive(&mut hub, hans, message("yoda", "live"), START);
    assert_eq!(texts(&world.take(yoda)), ["live"]);
    assert_eq!(world.accepted, []);
    // So do a reply, whoelse and presence.
    world.receive(&mut hub, yoda, message("hans", "back"), START);
    world.receive(&mut hub, hans, ClientFrame::WhoElse {}, START);
    let frames = world.take(hans);
    assert_eq!(texts(&frames), ["back"]);
    assert!(matches!(frames[1], ServerFrame::Users { .. }), "{frames:?}");
    // Stored, UserBlocked and the block for wrong passwords wait for
    // their batch, and whatever comes after them waits too, in order.
    world.receive(&mut hub, hans, message("luke", "kept"), START);
    world.receive(&mut hub, yoda, message("hans", "after"), START);
    world.receive(
        &mut hub,
        yoda,
        ClientFrame::Block { user: name("luke") },
        START,
    );
    let vader = at_password_prompt(&mut hub, &mut world, "vader", START);
    for wrong in ["weird", "green", "password"] {
        world.receive(&mut hub, vader, password(wrong), START);
    }
    assert_eq!(world.take(hans), []);
    assert_eq!(world.take(yoda), []);
    assert!(
        !world
            .take(vader)
            .iter()
            .any(|f| matches!(f, ServerFrame::Bye { .. })),
        "not told of a block before it is kept"
    );
    // The batch syncing since "live" was posted holds none of them.
    world.sync_held(&mut hub);
    assert_eq!(world.accepted, [(hans, 1)]);
    assert_eq!(world.take(hans), []);
    // The next holds them all.
    world.sync_held(&mut hub);
    // yoda's "back" (2) was posted after the first batch began: told
    // with "after" (4), in one cumulative Accepted.
    assert_eq!(world.accepted, [(hans, 1), (hans, 3), (yoda, 4)]);
    let frames = world.take(hans);
    assert_eq!(frames[0], ServerFrame::Stored { user: name("luke") });
    assert_eq!(texts(&frames[1..]), ["after"]);
    assert_eq!(frames.len(), 2, "{frames:?}");
    assert_eq!(
        world.take(yoda),
        [ServerFrame::UserBlocked { user: name("luke") }]
    );
    assert!(matches!(
        world.take(vader).as_slice(),
        [ServerFrame::Bye {
            reason: ByeReason::NowBlocked { .. }
        }]
    ));
    assert!(world.is_closed(vader));
}

#[test]
fn a_sender_that_never_pauses_is_told_after_every_sync() {
    let (mut hub, mut world, [hans, _]) = slow_journal();
    world.journal_busy();
    // A letter every turn, while each sync is as slow as a turn: each
    // letter is in the batch after the one syncing, and still told.
    for _ in 0..10 {
        world.receive(&mut hub, hans, message("yoda", "more"), START);
        world.sync_held(&mut hub);
    }
    let ids: Vec<u64> = world.accepted.iter().map(|&(_, id)| id).collect();
    assert_eq!(ids, (1..=9).collect::<Vec<_>>());
}

#[test]
fn changes_nobody_waits_for_are_gathered_and_a_letter_read_meanwhile_needs_no_record() {
    let (mut hub, mut world, [hans, yoda]) = slow_journal();
    // The world's journal is busy: from now on this test takes the
    // batches.
    world.journal_busy();
    assert_eq!(hub.journal_due(), None, "nothing changed");
    let later = ms(START, 1_000);
    world.receive(&mut hub, hans, message("yoda", "read at once"), later);
    let gather = crate::limits::JOURNAL_GATHER_MS;
    assert_eq!(hub.journal_due(), Some(ms(later, gather)), "gathered");
    let id = texts_and_ids(&world.take(yoda))[0].1;
    world.receive(&mut hub, yoda, ClientFrame::Received { id }, later);
    let batch = hub.start_batch();
    let taken = changes(&mut hub);
    hub.journal_synced(batch);
    assert!(
        matches!(taken.as_slice(), [Change::Read { id: read, .. }] if *read == id),
        "the read mark only: {taken:?}"
    );
    // A reply that promises a kept letter makes the next batch due now.
    world.receive(&mut hub, hans, message("luke", "kept"), later);
    assert_eq!(hub.journal_due(), Some(crate::time::Instant(0)), "at once");
}

#[test]
fn a_goodbye_waiting_for_a_slow_journal_is_neither_dropped_nor_followed() {
    let (mut hub, mut world, [hans, _]) = slow_journal();
    // The world's journal is busy: the next batches wait.
    world.journal_busy();
    // A kept letter, then a logout, in one read; and a third wrong
    // password elsewhere.
    hub.receive(hans, &message("luke", "kept"), START);
    world.receive(&mut hub, hans, ClientFrame::Logout {}, START);
    let vader = at_password_prompt(&mut hub, &mut world, "vader", START);
    for wrong in ["weird", "green", "password"] {
        world.receive(&mut hub, vader, password(wrong), START);
    }
    world.take(vader);
    // Long past CLOSING_MS: both still wait for the disk, not for their
    // clients, and are not let go.
    let later = ms(START, 10 * crate::limits::CLOSING_MS);
    world.handle_timeout(&mut hub, later);
    assert!(!world.is_closed(hans) && !world.is_closed(vader));
    // Nor is a deadline of theirs due: the shell's loop would spin.
    assert!(
        hub.poll_timeout().is_none_or(|at| at > later),
        "{:?}",
        hub.poll_timeout()
    );
    world.sync_held(&mut hub);
    world.sync_held(&mut hub);
    let frames = world.take(hans);
    assert_eq!(
        frames,
        [
            ServerFrame::Stored { user: name("luke") },
            ServerFrame::Bye {
                reason: ByeReason::LoggedOut
            }
        ]
    );
    assert!(world.is_closed(hans));
    assert!(
        !world.accepted.iter().any(|&(conn, _)| conn == hans),
        "nothing after the goodbye"
    );
    assert!(matches!(
        world.take(vader).as_slice(),
        [ServerFrame::Bye {
            reason: ByeReason::NowBlocked { .. }
        }]
    ));
}

#[test]
fn a_private_peer_hears_of_its_target_no_sooner_than_the_target_hears_of_it() {
    // Found by the simulator (issue 25, seed 176): yoda's frames wait for
    // the journal (a kept letter), so yoda's secret for hans waits too;
    // hans must not be told to connect before yoda can admit him.
    let (mut hub, mut world, [hans, yoda]) = slow_journal();
    world.receive(&mut hub, yoda, message("luke", "kept"), START);
    let user = name("yoda");
    world.receive(&mut hub, hans, ClientFrame::StartPrivate { user }, START);
    assert_eq!(
        world.take(hans),
        [ServerFrame::PrivateAsked { user: name("yoda") }]
    );
    let answer = ClientFrame::AcceptPrivate {
        user: name("hans"),
        port: 40123,
    };
    world.receive(&mut hub, yoda, answer, START);
    assert_eq!(world.take(yoda), [], "behind the kept letter's sync");
    assert_eq!(world.take(hans), [], "behind yoda's secret");
    world.sync_held(&mut hub);
    let yodas = world.take(yoda);
    assert!(
        matches!(yodas.last(), Some(ServerFrame::PrivateExpect { .. })),
        "{yodas:?}"
    );
    assert!(
        matches!(
            world.take(hans).as_slice(),
            [ServerFrame::PrivateAccepted { port: 40123, .. }]
        ),
        "hans is told once the secret is out"
    );
}

#[test]
fn ids_after_a_restart_follow_every_read_mark() {
    // Found by the simulator (issue 25, seed 2605): a letter read before
    // its turn leaves only its read mark on disk. After a restart the next
    // letter must not take its id again, or that mark covers it: read,
    // it is never marked read on disk, and comes back after every crash.
    let change = Change::Read {
        user: name("yoda"),
        id: 7,
    };
    let mut hub = restarted(&[change]);
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let yoda = login_sample(&mut hub, &mut world, "yoda", START);
    world.receive(&mut hub, hans, message("yoda", "after"), START);
    assert_eq!(texts_and_ids(&world.take(yoda)), [("after", 8)]);
}

#[test]
fn a_letter_read_before_its_turn_makes_the_journal_skip_no_other() {
    // yoda reads letter 1 before the journal's turn; letters 2 and 3 to
    // luke (offline) and 4 to yoda follow. The journal takes them from its
    // queue of letters posted: 1 is gone, and that must not make it take
    // yoda's next letter (4) in 1's place and so pass over 2 and 3.
    let (mut hub, mut world, [hans, yoda]) = slow_journal();
    world.journal_busy();
    let later = ms(START, 1_000);
    world.receive(&mut hub, hans, message("yoda", "read at once"), later);
    let id = texts_and_ids(&world.take(yoda))[0].1;
    world.receive(&mut hub, yoda, ClientFrame::Received { id }, later);
    for text in ["for luke", "for luke too"] {
        world.receive(&mut hub, hans, message("luke", text), later);
    }
    world.receive(&mut hub, hans, message("yoda", "unread"), later);
    let batch = hub.start_batch();
    let taken = changes(&mut hub);
    hub.journal_synced(batch);
    let letters: Vec<&str> = taken
        .iter()
        .filter_map(|change| match change {
            Change::Letter { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(letters, ["for luke", "for luke too", "unread"], "{taken:?}");
}

#[test]
fn more_letters_than_the_journal_queue_holds_are_all_taken_in_order() {
    let (mut hub, mut world, [hans, yoda]) = slow_journal();
    world.journal_busy();
    let later = ms(START, 1_000);
    // More than the queue of letters posted holds: found by a walk. To
    // yoda, online and not acknowledging: nothing comes back to hans
    // before the sync, so his queue holds them all.
    let many = crate::hub::tables::POSTED_PER_CONNECTION * crate::limits::DEFAULT_CONNECTIONS + 5;
    let text = |i: usize| std::format!("letter {i}");
    for i in 0..many {
        world.receive(&mut hub, hans, message("yoda", &text(i)), later);
    }
    assert!(!world.is_closed(hans) && !world.is_closed(yoda));
    let letters = |taken: &[Change]| -> Vec<std::string::String> {
        taken
            .iter()
            .filter_map(|change| match change {
                Change::Letter { text, .. } => Some(std::string::String::from(text.as_str())),
                _ => None,
            })
            .collect()
    };
    let batch = hub.start_batch();
    let taken = changes(&mut hub);
    hub.journal_synced(batch);
    assert_eq!(letters(&taken), (0..many).map(text).collect::<Vec<_>>());
    // Caught up: the queue serves again, and nothing is taken twice.
    world.receive(&mut hub, hans, message("yoda", "one more"), later);
    let batch = hub.start_batch();
    let taken = changes(&mut hub);
    hub.journal_synced(batch);
    assert_eq!(letters(&taken), ["one more"]);
}

#[test]
fn a_compaction_keeps_every_mailbox_whatever_the_order_letters_were_posted_in() {
    // Letters to users offline, their ids crossing from one mailbox to
    // the next: a compaction walks the mailboxes one by one, and must take
    // each one's letters whatever the last one's ids were.
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    for (to, text) in [
        ("luke", "l1"),
        ("yoda", "y1"),
        ("luke", "l2"),
        ("vader", "v1"),
        ("yoda", "y2"),
    ] {
        world.receive(&mut hub, hans, message(to, text), START);
    }
    hub.journal_all();
    let compacted = changes(&mut hub);
    let mut letters: Vec<(&str, &str)> = compacted
        .iter()
        .filter_map(|change| match change {
            Change::Letter { to, text, .. } => Some((to.as_str(), text.as_str())),
            _ => None,
        })
        .collect();
    letters.sort();
    assert_eq!(
        letters,
        [
            ("luke", "l1"),
            ("luke", "l2"),
            ("vader", "v1"),
            ("yoda", "y1"),
            ("yoda", "y2")
        ]
    );
    let restored = restarted(&compacted);
    for (user, waiting) in [("luke", 2), ("vader", 1), ("yoda", 2)] {
        let id = restored.users.find(user).unwrap();
        assert_eq!(restored.store.waiting(id), waiting, "{user}");
    }
}
