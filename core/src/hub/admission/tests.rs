//! Admission (issue 10): what one address can hold, how long the prompts
//! may take, the slots kept for existing accounts, and what failed logins
//! cost their address. On the recording fake of `hub/tests.rs`, at fake
//! time.

use std::string::ToString;
use std::vec::Vec;

use crate::event::Event;
use crate::hub::tests::{
    BLOCK_MS, PEER, SAMPLE_ACCOUNTS, START, TIMEOUT_MS, World, ask, bye, ms, name, password,
    password_of, username,
};
use crate::hub::{Config, Hub};
use crate::limits::{
    ADDRESS_BLOCK_MS, ADDRESS_FAILURES, DEFAULT_CONNECTIONS, FREE_FAILURES, IDLE_WARNING_MS,
    LOGIN_MS, PROMPTS_PER_ADDRESS, RESERVED_CONNECTIONS, SIGNUPS_PER_HOUR,
};
use crate::protocol::{ByeReason, Prompt, ServerFrame};
use crate::session::ConnId;
use crate::signup::SignUp;

/// The default limits, with the sample accounts.
fn hub() -> Hub {
    crate::testing::sample_hub(Config::new(BLOCK_MS, TIMEOUT_MS))
}

/// The `n`th of many addresses.
fn address(n: u8) -> core::net::IpAddr {
    core::net::IpAddr::V4(core::net::Ipv4Addr::new(10, 0, 0, n))
}

#[test]
fn one_address_holds_only_its_share_of_the_login_prompts() {
    let mut hub = hub();
    let mut world = World::default();
    let squatter: Vec<ConnId> = (0..PROMPTS_PER_ADDRESS)
        .map(|_| world.connect(&mut hub, START, address(1)).unwrap())
        .collect();
    assert_eq!(
        world.connect(&mut hub, START, address(1)),
        Err(ByeReason::TooManyConnections)
    );
    // Others are let in, from any other address.
    let yoda = world.connect(&mut hub, START, address(2)).unwrap();
    world.receive(&mut hub, yoda, username("yoda"), START);
    world.receive(&mut hub, yoda, password(password_of("yoda")), START);
    assert!(
        world
            .take(yoda)
            .contains(&ServerFrame::Welcome { waiting: 0 })
    );

    // A connection of the squatter's that logs in no longer counts: many
    // users behind one address can be online together.
    world.receive(&mut hub, squatter[0], username("hans"), START);
    world.receive(&mut hub, squatter[0], password(password_of("hans")), START);
    let again = world.connect(&mut hub, START, address(1)).unwrap();
    assert_eq!(world.take(again), [ask(Prompt::Username)]);
    assert_eq!(
        world.connect(&mut hub, START, address(1)),
        Err(ByeReason::TooManyConnections)
    );
    assert_eq!(
        ByeReason::TooManyConnections.to_string(),
        "Error. Too many connections from your address. Please try again later"
    );
}

#[test]
fn no_cap_per_address_when_it_is_zero() {
    let mut hub = Hub::new(Config {
        per_address: 0,
        ..Config::new(BLOCK_MS, TIMEOUT_MS)
    });
    for _ in 0..DEFAULT_CONNECTIONS {
        assert!(world_connect(&mut hub, PEER).is_ok());
    }
}

fn world_connect(hub: &mut Hub, peer: core::net::IpAddr) -> Result<ConnId, ByeReason> {
    World::default().connect(hub, START, peer)
}

#[test]
fn the_prompts_must_be_done_by_the_login_deadline_however_busy() {
    let mut hub = hub();
    let mut world = World::default();
    let conn = world.connect(&mut hub, START, PEER).unwrap();
    // A bad username every few seconds keeps the prompts busy, and so
    // the idle timeout away, but not the login deadline.
    let mut at = START;
    while at < ms(START, LOGIN_MS - 3_000) {
        at = ms(at, 3_000);
        world.receive(&mut hub, conn, username("no way"), at);
        world.handle_timeout(&mut hub, at);
        assert!(!world.is_closed(conn), "at {at:?}");
    }
    assert_eq!(hub.poll_timeout(), Some(ms(START, LOGIN_MS)));
    world.handle_timeout(&mut hub, ms(START, LOGIN_MS));
    assert_eq!(world.take(conn).last(), Some(&bye(ByeReason::LoginTooSlow)));
    assert!(world.is_closed(conn));
    assert_eq!(
        ByeReason::LoginTooSlow.to_string(),
        "Login took too long. Please try again"
    );
}

#[test]
fn the_idle_timeout_still_applies_at_the_prompts_when_it_is_shorter() {
    let mut hub = Hub::new(Config::new(BLOCK_MS, 5_000));
    let mut world = World::default();
    let conn = world.connect(&mut hub, START, PEER).unwrap();
    world.handle_timeout(&mut hub, ms(START, 5_000));
    assert_eq!(
        world.take(conn).last(),
        Some(&bye(ByeReason::LoginTimedOut))
    );
}

#[test]
fn a_user_who_logged_in_has_the_whole_idle_timeout() {
    let mut hub = hub();
    let mut world = World::default();
    let conn = world.connect(&mut hub, START, PEER).unwrap();
    let late = ms(START, LOGIN_MS - 1);
    world.receive(&mut hub, conn, username("yoda"), late);
    world.receive(&mut hub, conn, password(password_of("yoda")), late);
    world.handle_timeout(&mut hub, ms(START, LOGIN_MS + 1));
    assert!(!world.is_closed(conn));
    // Next due: the idle warning, ahead of the whole timeout (R9).
    assert_eq!(
        hub.poll_timeout(),
        Some(ms(late, TIMEOUT_MS - IDLE_WARNING_MS))
    );
}

#[test]
fn strangers_filling_the_open_slots_cannot_keep_a_known_user_out() {
    let mut hub = hub();
    let mut world = World::default();
    // Strangers from many addresses take every slot that is not reserved.
    let open = DEFAULT_CONNECTIONS - RESERVED_CONNECTIONS;
    for n in 0..open {
        let conn = world.connect(&mut hub, START, address(n as u8)).unwrap();
        world.receive(&mut hub, conn, username(&std::format!("new{n}")), START);
    }
    // The next stranger gets a reserved slot, and cannot sign up in it.
    let stranger = world.connect(&mut hub, START, address(200)).unwrap();
    world.receive(&mut hub, stranger, username("newcomer"), START);
    assert_eq!(
        world.take(stranger),
        [ask(Prompt::Username), bye(ByeReason::ExistingAccountsOnly)]
    );
    assert!(world.is_closed(stranger));
    // A known user logs in in one, as the others do in all of them.
    for (user, _) in SAMPLE_ACCOUNTS.iter().take(RESERVED_CONNECTIONS) {
        let conn = world.connect(&mut hub, START, address(201)).unwrap();
        world.receive(&mut hub, conn, username(user), START);
        world.receive(&mut hub, conn, password(password_of(user)), START);
        assert!(
            world
                .take(conn)
                .contains(&ServerFrame::Welcome { waiting: 0 }),
            "{user}"
        );
    }
    // Every slot taken: the oldest stranger at the prompts makes room.
    let late = world.connect(&mut hub, START, address(202)).unwrap();
    assert_eq!(world.take(late), [ask(Prompt::Username)]);
    assert_eq!(world.closed().len(), 2, "the one turned away, and one more");
}

/// Strangers from `squatters` addresses, `each` connections apiece, fill
/// every slot at the prompts, a millisecond apart; their connections.
fn squat(hub: &mut Hub, world: &mut World, squatters: u8, each: usize) -> Vec<ConnId> {
    let mut conns = Vec::new();
    let mut at = 0;
    while conns.len() < DEFAULT_CONNECTIONS {
        for n in 0..squatters {
            for _ in 0..each {
                if conns.len() < DEFAULT_CONNECTIONS {
                    at += 1;
                    conns.push(world.connect(hub, ms(START, at), address(n)).unwrap());
                }
            }
        }
    }
    conns
}

#[test]
fn a_newcomer_from_its_own_address_gets_a_prompt_and_keeps_it_while_squatters_churn() {
    let config = Config {
        per_address: 0,
        ..Config::new(BLOCK_MS, TIMEOUT_MS)
    };
    let mut hub = crate::testing::sample_hub(config);
    let mut world = World::default();
    // 8 addresses, 3 connections each: every slot.
    let squatters = squat(&mut hub, &mut world, 8, 3);
    let luke = world.connect(&mut hub, ms(START, 100), PEER).unwrap();
    assert_eq!(world.take(luke), [ask(Prompt::Username)]);
    // The oldest of an address with the most: the very first squatter.
    assert_eq!(world.closed(), [squatters[0]]);
    // Squatters come back at once, again and again: they make room for
    // each other, never luke, however old his connection grows.
    for n in 0..200u64 {
        let at = ms(START, 101 + n);
        let again = world.connect(&mut hub, at, address((n % 8) as u8)).unwrap();
        world.take(again);
        assert!(!world.is_closed(luke), "luke made room at round {n}");
    }
    world.receive(&mut hub, luke, username("luke"), ms(START, 400));
    world.receive(
        &mut hub,
        luke,
        password(password_of("luke")),
        ms(START, 400),
    );
    assert!(
        world
            .take(luke)
            .contains(&ServerFrame::Welcome { waiting: 0 })
    );
    // A stranger's newcomer takes an open slot a squatter left: it may
    // sign up, as in any open slot.
    let jaba = world
        .connect(&mut hub, ms(START, 401), address(100))
        .unwrap();
    world.receive(&mut hub, jaba, username("jaba"), ms(START, 401));
    assert_eq!(
        world.take(jaba),
        [ask(Prompt::Username), ask(Prompt::NewPassword)]
    );
}

#[test]
fn a_flood_from_one_address_makes_room_from_its_own_connections() {
    let mut hub = crate::testing::sample_hub(Config {
        per_address: 0,
        ..Config::new(BLOCK_MS, TIMEOUT_MS)
    });
    let mut world = World::default();
    // Two connections of others, then one address's flood fills the rest.
    let others = [
        world.connect(&mut hub, START, address(1)).unwrap(),
        world.connect(&mut hub, START, address(2)).unwrap(),
    ];
    for n in 0..100 {
        world
            .connect(&mut hub, ms(START, 1 + n), address(9))
            .unwrap();
    }
    assert!(others.iter().all(|&conn| !world.is_closed(conn)));
    assert_eq!(world.closed().len(), 100 + 2 - DEFAULT_CONNECTIONS);
}

#[test]
fn a_password_being_checked_does_not_make_room() {
    let mut hub = hub();
    // Every slot at the password prompt of a sample account, from its own
    // address, with the check not answered yet: the hub is called
    // directly, without a shell to answer.
    let checking: Vec<ConnId> = (0..DEFAULT_CONNECTIONS)
        .map(|n| {
            let conn = hub.connect(START, address(n as u8)).unwrap();
            hub.receive(conn, &username("yoda"), START);
            hub.receive(conn, &password("guess"), START);
            conn
        })
        .collect();
    assert_eq!(
        hub.connect(ms(START, 1), address(200)),
        Err(ByeReason::ServerFull)
    );
    assert_eq!(hub.made_room(), None);
    assert!(checking.iter().all(|&conn| hub.knows(conn)));
}

#[test]
fn a_reserved_slot_is_for_logging_in_only_while_the_open_ones_are_taken() {
    let mut hub = hub();
    let mut world = World::default();
    let open = DEFAULT_CONNECTIONS - RESERVED_CONNECTIONS;
    let strangers: Vec<ConnId> = (0..open)
        .map(|n| world.connect(&mut hub, START, address(n as u8)).unwrap())
        .collect();
    // One stranger names an existing account: its slot counts as taken
    // by a login, so a newcomer may sign up again.
    world.receive(&mut hub, strangers[0], username("yoda"), START);
    let newcomer = world.connect(&mut hub, START, address(250)).unwrap();
    world.receive(&mut hub, newcomer, username("newcomer"), START);
    assert_eq!(
        world.take(newcomer),
        [ask(Prompt::Username), ask(Prompt::NewPassword)]
    );
}

#[test]
fn guesses_from_one_address_slow_down_then_block_it_whoever_they_target() {
    let mut hub = hub();
    let mut world = World::default();
    let guesser = address(66);
    let mut now = START;
    let mut failures = 0;
    // Round after round of wrong passwords, a username at a time: R8
    // blocks each username after three, and the address pays for all.
    let bye = 'guessing: loop {
        for (user, _) in SAMPLE_ACCOUNTS {
            let conn = world.connect(&mut hub, now, guesser).unwrap();
            world.receive(&mut hub, conn, username(user), now);
            for _ in 0..3 {
                // As the shell does: wait while the hub would.
                if let Some(at) = hub.read_after(conn, now) {
                    now = at;
                }
                world.receive(&mut hub, conn, password("guess"), now);
                failures += 1;
                if let Some(&ServerFrame::Bye { reason }) = world.take(conn).last() {
                    if matches!(reason, ByeReason::AddressBlocked { .. }) {
                        break 'guessing reason;
                    }
                    break;
                }
            }
        }
    };
    assert_eq!(failures, usize::from(ADDRESS_FAILURES));
    assert_eq!(
        bye,
        ByeReason::AddressBlocked {
            seconds: ADDRESS_BLOCK_MS / 1000
        }
    );
    assert_eq!(
        world.connect(&mut hub, now, guesser),
        Err(ByeReason::AddressBlocked {
            seconds: ADDRESS_BLOCK_MS / 1000
        })
    );
    // One log line per failure and per block, each with the address.
    let failed = world
        .logged
        .iter()
        .filter(|e| matches!(e, Event::LoginFailed { peer, .. } if *peer == guesser))
        .count();
    assert_eq!(failed, failures);
    assert!(world.logged.contains(&Event::UserBlocked {
        peer: guesser,
        name: name("hans"),
        seconds: BLOCK_MS / 1000,
    }));
    assert_eq!(
        world.logged.last(),
        Some(&Event::AddressBlocked {
            peer: guesser,
            seconds: ADDRESS_BLOCK_MS / 1000
        })
    );
    // The guesses were slowed: ten of them took more than a few seconds.
    assert!(now.millis() - START.millis() >= 1_000 + 2_000 + 4_000);
    // Elsewhere, the owner of an untouched account logs in at once.
    let leia = world.connect(&mut hub, now, address(7)).unwrap();
    world.receive(&mut hub, leia, username("leia"), now);
    assert_eq!(hub.read_after(leia, now), None);
    world.receive(&mut hub, leia, password(password_of("leia")), now);
    assert!(
        world
            .take(leia)
            .contains(&ServerFrame::Welcome { waiting: 0 })
    );
}

#[test]
fn a_slowed_address_that_does_not_wait_is_not_even_checked() {
    let mut hub = hub();
    let mut world = World::default();
    let conn = world.connect(&mut hub, START, address(9)).unwrap();
    world.receive(&mut hub, conn, username("yoda"), START);
    for _ in 0..FREE_FAILURES {
        world.receive(&mut hub, conn, password("guess"), START);
        world.receive(&mut hub, conn, username("yoda"), START);
    }
    world.events.clear();
    let other = world.connect(&mut hub, START, address(9)).unwrap();
    world.receive(&mut hub, other, username("luke"), START);
    world.receive(&mut hub, other, password("guess"), START);
    let wait = hub.read_after(other, START).expect("slowed down");
    // The right password, too soon: refused unchecked, and luke's own
    // count (R8) is untouched.
    world.receive(&mut hub, other, password(password_of("luke")), START);
    assert_eq!(
        world.take(other),
        [
            ask(Prompt::Username),
            ask(Prompt::Password),
            ServerFrame::WrongPassword {},
            ask(Prompt::Password),
            ServerFrame::WrongPassword {},
            ask(Prompt::Password),
        ]
    );
    let later = hub.read_after(other, wait).unwrap_or(wait);
    world.receive(&mut hub, other, password(password_of("luke")), later);
    assert!(
        world
            .take(other)
            .contains(&ServerFrame::Welcome { waiting: 0 })
    );
}

/// Connects from `peer` and signs up as `user`; what it was sent.
fn sign_up(
    hub: &mut Hub,
    world: &mut World,
    peer: core::net::IpAddr,
    user: &str,
) -> Vec<ServerFrame> {
    let conn = world.connect(hub, START, peer).unwrap();
    world.receive(hub, conn, username(user), START);
    world.receive(hub, conn, password("new*pass"), START);
    world.take(conn)
}

#[test]
fn closed_sign_up_says_so_and_asks_again_and_known_users_log_in() {
    let mut hub = Hub::new(Config {
        signup: SignUp::Closed,
        ..Config::new(BLOCK_MS, TIMEOUT_MS)
    });
    hub.add_account("yoda", password_of("yoda")).unwrap();
    let mut world = World::default();
    let conn = world.connect(&mut hub, START, PEER).unwrap();
    world.receive(&mut hub, conn, username("stranger"), START);
    assert_eq!(
        world.take_text(conn),
        [
            "Username: ",
            "Error. No such user, and new accounts are not open here: ask the server's owner for one",
            "Username: ",
        ]
    );
    world.receive(&mut hub, conn, username("yoda"), START);
    world.receive(&mut hub, conn, password(password_of("yoda")), START);
    assert!(
        world
            .take(conn)
            .contains(&ServerFrame::Welcome { waiting: 0 })
    );
    assert_eq!(hub.accounts(), 1, "nothing was created");
}

#[test]
fn one_address_makes_only_so_many_accounts_an_hour() {
    let mut hub = hub();
    let mut world = World::default();
    let welcome = ServerFrame::Welcome { waiting: 0 };
    for n in 0..SIGNUPS_PER_HOUR {
        let sent = sign_up(&mut hub, &mut world, address(5), &std::format!("new{n}"));
        assert!(sent.contains(&welcome), "{sent:?}");
    }
    let conn = world.connect(&mut hub, START, address(5)).unwrap();
    world.receive(&mut hub, conn, username("one_more"), START);
    assert_eq!(
        world.take(conn),
        [
            ask(Prompt::Username),
            ServerFrame::TooManySignUps {},
            ask(Prompt::Username)
        ]
    );
    // Known users from that address still log in; others still sign up.
    world.receive(&mut hub, conn, username("yoda"), START);
    world.receive(&mut hub, conn, password(password_of("yoda")), START);
    assert!(world.take(conn).contains(&welcome));
    assert!(sign_up(&mut hub, &mut world, address(6), "elsewhere").contains(&welcome));
    // An hour on, the address may again.
    let later = ms(START, crate::limits::SIGNUP_WINDOW_MS);
    let conn = world.connect(&mut hub, later, address(5)).unwrap();
    world.receive(&mut hub, conn, username("next_hour"), later);
    assert_eq!(world.take(conn).last(), Some(&ask(Prompt::NewPassword)));
}
