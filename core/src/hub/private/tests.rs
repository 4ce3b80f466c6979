//! The private-session introduction rules (R19-R24, R28) and steps 2-4 of
//! the sample session S7, on the recording fake of `hub/tests.rs`. Time is
//! fake (milliseconds passed in), so nothing sleeps. The fake's `random`
//! gives `[n; 16]` on its n-th call, so the n-th secret drawn is that byte
//! as 32 hex digits: a test can tell how many secrets were drawn.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::collections::BTreeSet;
use std::format;
use std::string::{String, ToString};
use std::vec;
use std::vec::Vec;

use crate::hub::Hub;
use crate::hub::tests::{
    Event, PEER, START, TIMEOUT_MS, World, ask, at_password_prompt, bye, clog, error, hub,
    hub_with_sample_accounts, logged_in, logged_out, login, login_sample, ms, name, password,
    password_of, username,
};
use crate::limits::{DEFAULT_CONNECTIONS, MAX_BAD_FRAMES};
use crate::protocol::{
    ByeReason, ClientFrame, FrameError, Host, Prompt, Refusal, Secret, ServerFrame,
};
use crate::session::ConnId;
use crate::testing::frames::refused;
use crate::time::Instant;

// ---------------------------------------------------------------------------
// Helpers.

/// Where luke connects from: not [`PEER`], so the initiator can be seen to
/// get the target's address, not its own or the server's.
const LUKE_ADDR: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 20));

/// The port luke's client listens on in S7.
const PORT: u16 = 40123;

fn start(user: &str) -> ClientFrame {
    ClientFrame::StartPrivate { user: name(user) }
}

fn accept(user: &str, port: u16) -> ClientFrame {
    ClientFrame::AcceptPrivate {
        user: name(user),
        port,
    }
}

fn decline(user: &str) -> ClientFrame {
    ClientFrame::DeclinePrivate { user: name(user) }
}

fn asked(user: &str) -> ServerFrame {
    ServerFrame::PrivateAsked { user: name(user) }
}

fn question(user: &str) -> ServerFrame {
    ServerFrame::PrivateQuestion { user: name(user) }
}

fn withdrawn(user: &str) -> ServerFrame {
    ServerFrame::PrivateWithdrawn { user: name(user) }
}

fn withdraw(user: &str) -> ClientFrame {
    ClientFrame::WithdrawPrivate { user: name(user) }
}

/// The sample accounts on a hub where private requests expire after
/// `answer_ms` (and nobody is warned before an idle logout).
fn hub_answering_within(answer_ms: u64) -> Hub {
    let mut hub = Hub::new(crate::hub::Config {
        answer_ms,
        warning_ms: 0,
        ..crate::hub::Config::new(crate::hub::tests::BLOCK_MS, TIMEOUT_MS)
    });
    for (user, pass) in crate::hub::tests::SAMPLE_ACCOUNTS {
        hub.add_account(user, pass).unwrap();
    }
    hub
}

fn no_longer_online(user: &str) -> ServerFrame {
    refused(Refusal::NoLongerOnline { user: name(user) })
}

/// The `n`-th secret the fake draws: byte `n` 16 times, in lowercase hex.
fn secret(n: u8) -> Secret {
    Secret::try_from(format!("{n:02x}").repeat(16).as_str()).unwrap()
}

fn host(addr: IpAddr) -> Host {
    Host::try_from(addr.to_string().as_str()).unwrap()
}

fn expect(user: &str, n: u8) -> ServerFrame {
    ServerFrame::PrivateExpect {
        user: name(user),
        secret: secret(n),
    }
}

fn accepted(user: &str, addr: IpAddr, port: u16, n: u8) -> ServerFrame {
    ServerFrame::PrivateAccepted {
        user: name(user),
        host: host(addr),
        port,
        secret: secret(n),
    }
}

/// Logs a sample user in from `peer`; checks the L1 dialogue and drains it.
fn login_from(hub: &mut Hub, world: &mut World, user: &str, peer: IpAddr, now: Instant) -> ConnId {
    let conn = world
        .connect(hub, now, peer)
        .expect("a free connection slot");
    world.receive(hub, conn, username(user), now);
    world.receive(hub, conn, password(password_of(user)), now);
    assert_eq!(
        world.take(conn),
        [
            ask(Prompt::Username),
            ask(Prompt::Password),
            ServerFrame::Welcome { waiting: 0 }
        ],
        "{user} logs in"
    );
    conn
}

/// Everything sent since the last check, in order, for anyone.
fn sent(world: &World) -> Vec<Event> {
    world
        .events
        .iter()
        .filter(|event| matches!(event, Event::Sent(..)))
        .cloned()
        .collect()
}

/// Asserts that no frame is waiting to be checked, for anyone.
fn assert_quiet(world: &World, step: &str) {
    assert_eq!(sent(world), [], "{step}");
}

/// hans and yoda from [`PEER`], luke from [`LUKE_ADDR`], as in S7; all
/// logged in at `now` and drained.
fn hans_yoda_luke(hub: &mut Hub, world: &mut World, now: Instant) -> (ConnId, ConnId, ConnId) {
    let hans = login_from(hub, world, "hans", PEER, now);
    let yoda = login_from(hub, world, "yoda", PEER, now);
    let luke = login_from(hub, world, "luke", LUKE_ADDR, now);
    world.events.clear();
    (hans, yoda, luke)
}

/// `asker` asks `target` (both online, nothing pending between them):
/// checks the request and the question, and that nobody else hears of it.
fn request(
    hub: &mut Hub,
    world: &mut World,
    (asker, asker_name): (ConnId, &str),
    (target, target_name): (ConnId, &str),
    now: Instant,
) {
    world.receive(hub, asker, start(target_name), now);
    assert_eq!(
        world.take(asker),
        [asked(target_name)],
        "{asker_name} asks {target_name}"
    );
    assert_eq!(
        world.take(target),
        [question(asker_name)],
        "{target_name} is asked by {asker_name}"
    );
    assert_quiet(world, "only the two hear of a request");
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

// ---------------------------------------------------------------------------
// S7 and R19: asking, accepting, declining.

#[test]
fn s7_r19_startprivate_asks_the_target_and_tells_the_asker() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world, START);
    // Step 2: hans types `startprivate luke`.
    world.receive(&mut hub, hans, start("luke"), START);
    // hans's reply comes after luke's question, and nothing else happens.
    assert_eq!(
        world.events,
        [
            Event::Sent(luke, question("hans")),
            Event::Sent(hans, asked("luke")),
        ]
    );
    assert_eq!(world.take_text(hans), ["Start private messaging with luke"]);
    // Step 3: luke is asked.
    assert_eq!(
        world.take_text(luke),
        ["hans would like to private message, enter y or n: "]
    );
    assert_eq!(world.take(yoda), []);
    assert!(world.events.is_empty(), "{:?}", world.events);
}

#[test]
fn s7_r19_r28_accepting_introduces_the_asker_to_the_target_with_one_secret() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world, START);
    request(&mut hub, &mut world, (hans, "hans"), (luke, "luke"), START);
    // Step 3: luke answers y; his client listens on PORT.
    world.receive(&mut hub, luke, accept("hans", PORT), START);
    // luke expects hans FIRST, so he is ready before hans connects; hans
    // gets luke's address as the server saw it, luke's port, the same secret.
    assert_eq!(
        world.events,
        [
            Event::Sent(
                luke,
                ServerFrame::PrivateExpect {
                    user: name("hans"),
                    secret: secret(1),
                }
            ),
            Event::Sent(
                hans,
                ServerFrame::PrivateAccepted {
                    user: name("luke"),
                    host: Host::try_from("192.168.1.20").unwrap(),
                    port: 40123,
                    secret: secret(1),
                }
            ),
        ]
    );
    let [Event::Sent(_, ServerFrame::PrivateAccepted { secret: given, .. })] = &world.events[1..]
    else {
        unreachable!()
    };
    assert_eq!(given.len(), 32);
    assert!(is_lower_hex(given), "{given}");
    // Step 4: what each terminal shows (luke's client prints nothing for
    // the expectation).
    assert_eq!(world.take_text(hans), ["luke accepts private messaging"]);
    assert_eq!(world.take_text(luke), [""]);
    assert_eq!(world.take(yoda), []);
    assert!(world.events.is_empty(), "{:?}", world.events);
}

#[test]
fn r28_each_introduction_gets_a_fresh_secret_of_32_lowercase_hex_digits() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world, START);
    let mut secrets = BTreeSet::new();
    // Enough rounds that the fake's bytes pass 9: digits a-f must be lowercase.
    for n in 1..=12u8 {
        // Alternate pairs and directions: every introduction is new.
        let ((asker, a), (target, t), addr) = match n % 3 {
            0 => ((hans, "hans"), (luke, "luke"), LUKE_ADDR),
            1 => ((luke, "luke"), (yoda, "yoda"), PEER),
            _ => ((yoda, "yoda"), (hans, "hans"), PEER),
        };
        request(&mut hub, &mut world, (asker, a), (target, t), START);
        world.receive(&mut hub, target, accept(a, 1000 + u16::from(n)), START);
        assert_eq!(world.take(target), [expect(a, n)], "round {n}");
        let reply = world.take(asker);
        assert_eq!(
            reply,
            [accepted(t, addr, 1000 + u16::from(n), n)],
            "round {n}"
        );
        assert_quiet(&world, "only the pair hears of an introduction");
        let ServerFrame::PrivateAccepted { secret: given, .. } = &reply[0] else {
            unreachable!()
        };
        assert_eq!(given.len(), 32, "{given}");
        assert!(is_lower_hex(given), "{given}");
        assert!(secrets.insert(given.to_string()), "{given} given twice");
    }
    assert!(secrets.contains("0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a"));
}

#[test]
fn r19_the_initiator_gets_the_targets_ipv6_address() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let leia_addr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x20));
    // The longest an IPv6 address is written (39 characters).
    let luke_addr = IpAddr::V6(Ipv6Addr::new(
        0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
    ));
    let hans = login_from(&mut hub, &mut world, "hans", PEER, START);
    let leia = login_from(&mut hub, &mut world, "leia", leia_addr, START);
    let luke = login_from(&mut hub, &mut world, "luke", luke_addr, START);
    world.events.clear();
    request(&mut hub, &mut world, (hans, "hans"), (leia, "leia"), START);
    world.receive(&mut hub, leia, accept("hans", 1), START);
    assert_eq!(world.take(leia), [expect("hans", 1)]);
    assert_eq!(
        world.take(hans),
        [ServerFrame::PrivateAccepted {
            user: name("leia"),
            host: Host::try_from("2001:db8::20").unwrap(),
            port: 1,
            secret: secret(1),
        }]
    );
    // leia asks luke: now hans's address plays no part at all.
    request(&mut hub, &mut world, (leia, "leia"), (luke, "luke"), START);
    world.receive(&mut hub, luke, accept("leia", u16::MAX), START);
    assert_eq!(world.take(luke), [expect("leia", 2)]);
    assert_eq!(
        world.take(leia),
        [ServerFrame::PrivateAccepted {
            user: name("luke"),
            host: Host::try_from("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").unwrap(),
            port: u16::MAX,
            secret: secret(2),
        }]
    );
    assert_quiet(&world, "after the introductions");
}

#[test]
fn r19_declining_tells_the_asker_and_draws_no_secret() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world, START);
    request(&mut hub, &mut world, (hans, "hans"), (luke, "luke"), START);
    world.receive(&mut hub, luke, decline("hans"), START);
    // Only hans hears of it; luke gets no reply to his answer.
    assert_eq!(
        world.events,
        [Event::Sent(
            hans,
            ServerFrame::PrivateDeclined { user: name("luke") }
        )]
    );
    assert_eq!(world.take_text(hans), ["luke declines private messaging"]);
    // The answer was used up: answering again is out of place.
    world.receive(&mut hub, luke, accept("hans", PORT), START);
    assert_eq!(world.take(luke), [error(FrameError::Unexpected)]);
    world.receive(&mut hub, luke, decline("hans"), START);
    assert_eq!(world.take(luke), [error(FrameError::Unexpected)]);
    assert_quiet(&world, "after the answers out of place");
    // hans may ask again; the next introduction draws the first secret.
    request(&mut hub, &mut world, (hans, "hans"), (luke, "luke"), START);
    world.receive(&mut hub, luke, accept("hans", PORT), START);
    assert_eq!(world.take(luke), [expect("hans", 1)]);
    assert_eq!(world.take(hans), [accepted("luke", LUKE_ADDR, PORT, 1)]);
    assert_eq!(world.take(yoda), []);
    assert_quiet(&world, "end");
}

#[test]
fn r21_stopprivate_withdraws_an_unanswered_request_and_tells_the_target() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world, START);
    request(&mut hub, &mut world, (hans, "hans"), (luke, "luke"), START);
    let later = ms(START, 5_000);
    world.receive(&mut hub, hans, withdraw("luke"), later);
    // luke hears first (its next line is a command again), then hans.
    assert_eq!(
        world.events,
        [
            Event::Sent(luke, withdrawn("hans")),
            Event::Sent(hans, ServerFrame::PrivateCancelled { user: name("luke") }),
        ]
    );
    assert_eq!(
        world.take_text(luke),
        ["hans withdrew the private messaging request"]
    );
    assert_eq!(
        world.take_text(hans),
        ["Private messaging request to luke withdrawn"]
    );
    assert_eq!(world.take(yoda), []);
    // The answer has no request left to answer, and no secret is drawn.
    world.receive(&mut hub, luke, accept("hans", PORT), later);
    assert_eq!(world.take(luke), [error(FrameError::Unexpected)]);
    assert_quiet(&world, "after the withdrawal");
    // A request can be made again, and answered.
    request(&mut hub, &mut world, (hans, "hans"), (luke, "luke"), later);
    world.receive(&mut hub, luke, accept("hans", PORT), later);
    assert_eq!(world.take(luke), [expect("hans", 1)]);
    world.events.clear();
    // Withdrawing was activity (R22): at the deadline of those who logged
    // in at START, only yoda, idle since, is logged out.
    world.handle_timeout(&mut hub, ms(START, TIMEOUT_MS));
    assert_eq!(world.closed(), [yoda]);
}

#[test]
fn r21_withdrawing_a_request_that_is_not_waiting_is_refused() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, _yoda, luke) = hans_yoda_luke(&mut hub, &mut world, START);
    let no_request = |user| refused(Refusal::NoRequest { user: name(user) });
    // Never asked; a stranger; someone else's request.
    world.receive(&mut hub, hans, withdraw("luke"), START);
    assert_eq!(world.take(hans), [no_request("luke")]);
    world.receive(&mut hub, hans, withdraw("bob"), START);
    assert_eq!(world.take(hans), [no_request("bob")]);
    request(&mut hub, &mut world, (hans, "hans"), (luke, "luke"), START);
    world.receive(&mut hub, luke, withdraw("hans"), START);
    assert_eq!(world.take(luke), [no_request("hans")]);
    assert_eq!(
        no_request("luke").to_string(),
        "Error. No private messaging request to luke is waiting"
    );
    // Answered already.
    world.receive(&mut hub, luke, decline("hans"), START);
    world.take(hans);
    world.receive(&mut hub, hans, withdraw("luke"), START);
    assert_eq!(world.take(hans), [no_request("luke")]);
    assert_quiet(&world, "end");
}

#[test]
fn r19_an_unanswered_request_expires_with_a_line_on_both_sides() {
    let mut hub = hub_answering_within(60_000);
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world, START);
    request(&mut hub, &mut world, (hans, "hans"), (luke, "luke"), START);
    // The expiry is the next thing the hub waits for.
    let expires = ms(START, 60_000);
    assert_eq!(hub.poll_timeout(), Some(expires));
    world.handle_timeout(&mut hub, ms(START, 59_999));
    assert_quiet(&world, "not yet");
    world.handle_timeout(&mut hub, expires);
    assert_eq!(
        world.events,
        [
            Event::Sent(luke, ServerFrame::PrivateExpired { user: name("hans") }),
            Event::Sent(hans, refused(Refusal::NoAnswer { user: name("luke") })),
        ]
    );
    assert_eq!(
        world.take_text(luke),
        ["The private messaging request from hans expired"]
    );
    assert_eq!(
        world.take_text(hans),
        ["Error. luke did not answer your private messaging request in time"]
    );
    assert_eq!(world.take(yoda), []);
    // Nobody was logged out, and a late answer is out of place.
    assert_eq!(hub.poll_timeout(), Some(ms(START, TIMEOUT_MS)));
    world.receive(&mut hub, luke, accept("hans", PORT), expires);
    assert_eq!(world.take(luke), [error(FrameError::Unexpected)]);
    assert_quiet(&world, "end");
}

#[test]
fn r19_after_an_introduction_the_same_pair_may_be_introduced_again() {
    // The hub keeps no sessions: refusing a second session while the first
    // is up is the client's job.
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, _yoda, luke) = hans_yoda_luke(&mut hub, &mut world, START);
    request(&mut hub, &mut world, (hans, "hans"), (luke, "luke"), START);
    world.receive(&mut hub, luke, accept("hans", PORT), START);
    assert_eq!(world.take(luke), [expect("hans", 1)]);
    assert_eq!(world.take(hans), [accepted("luke", LUKE_ADDR, PORT, 1)]);
    // The same way round, then the other way round.
    request(&mut hub, &mut world, (hans, "hans"), (luke, "luke"), START);
    world.receive(&mut hub, luke, accept("hans", PORT + 1), START);
    assert_eq!(world.take(luke), [expect("hans", 2)]);
    assert_eq!(world.take(hans), [accepted("luke", LUKE_ADDR, PORT + 1, 2)]);
    request(&mut hub, &mut world, (luke, "luke"), (hans, "hans"), START);
    world.receive(&mut hub, hans, accept("luke", 5000), START);
    assert_eq!(world.take(hans), [expect("luke", 3)]);
    assert_eq!(world.take(luke), [accepted("hans", PEER, 5000, 3)]);
    assert_quiet(&world, "end");
}

// ---------------------------------------------------------------------------
// R19 errors.

#[test]
fn r19_startprivate_to_nobody_or_oneself_is_refused_with_the_exact_texts() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, _yoda, luke) = hans_yoda_luke(&mut hub, &mut world, START);
    world.receive(&mut hub, hans, start("bob"), START);
    assert_eq!(world.take(hans), [refused(Refusal::InvalidUser)]);
    world.receive(&mut hub, hans, start("hans"), START);
    assert_eq!(world.take(hans), [refused(Refusal::PrivateSelf)]);
    assert_quiet(&world, "refusals reach nobody else");
    world.receive(&mut hub, hans, start("bob"), START);
    world.receive(&mut hub, hans, start("hans"), START);
    assert_eq!(
        world.take_text(hans),
        [
            "Error. Invalid user",
            "Error. Cannot start private messaging with self"
        ]
    );
    // Nothing was left pending: the first real request draws the first secret.
    request(&mut hub, &mut world, (hans, "hans"), (luke, "luke"), START);
    world.receive(&mut hub, luke, accept("hans", PORT), START);
    assert_eq!(world.take(hans), [accepted("luke", LUKE_ADDR, PORT, 1)]);
}

#[test]
fn r15_r19_a_target_who_blocked_the_asker_is_not_asked() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world, START);
    world.receive(
        &mut hub,
        luke,
        ClientFrame::Block { user: name("hans") },
        START,
    );
    assert_eq!(world.take_text(luke), ["hans is blocked"]);
    world.receive(&mut hub, hans, start("luke"), START);
    assert_eq!(
        world.events,
        [Event::Sent(
            hans,
            refused(Refusal::PrivateBlocked { user: name("luke") })
        )]
    );
    assert_eq!(
        world.take_text(hans),
        ["Error. Cannot start private messaging as luke has blocked you"]
    );
    // Blocking is one way: luke can still ask hans, and yoda can ask luke.
    request(&mut hub, &mut world, (luke, "luke"), (hans, "hans"), START);
    world.receive(&mut hub, hans, decline("luke"), START);
    assert_eq!(
        world.take(luke),
        [ServerFrame::PrivateDeclined { user: name("hans") }]
    );
    request(&mut hub, &mut world, (yoda, "yoda"), (luke, "luke"), START);
    // The block is checked before presence: offline, luke still refuses hans.
    world.receive(&mut hub, luke, ClientFrame::Logout {}, START);
    world.events.clear();
    world.receive(&mut hub, hans, start("luke"), START);
    assert_eq!(
        world.take(hans),
        [refused(Refusal::PrivateBlocked { user: name("luke") })]
    );
    // Unblocked, luke is asked again.
    let luke = login_from(&mut hub, &mut world, "luke", LUKE_ADDR, START);
    world.receive(
        &mut hub,
        luke,
        ClientFrame::Unblock { user: name("hans") },
        START,
    );
    assert_eq!(world.take_text(luke), ["hans is unblocked"]);
    world.events.clear();
    request(&mut hub, &mut world, (hans, "hans"), (luke, "luke"), START);
}

#[test]
fn r19_an_offline_target_is_refused_and_nobody_is_asked() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let yoda = login_sample(&mut hub, &mut world, "yoda", START);
    // vader never logged in; luke logged in and out.
    let luke = login_from(&mut hub, &mut world, "luke", LUKE_ADDR, START);
    world.receive(&mut hub, luke, ClientFrame::Logout {}, START);
    // A connection at the password prompt as luke is not luke online.
    let typing = at_password_prompt(&mut hub, &mut world, "luke", START);
    world.events.clear();
    world.receive(&mut hub, hans, start("luke"), START);
    world.receive(&mut hub, hans, start("vader"), START);
    assert_eq!(
        world.take(hans),
        [
            refused(Refusal::Offline { user: name("luke") }),
            refused(Refusal::Offline {
                user: name("vader")
            }),
        ]
    );
    world.receive(&mut hub, hans, start("luke"), START);
    assert_eq!(world.take_text(hans), ["Error. luke is offline"]);
    assert_quiet(&world, "nobody was asked");
    // Nothing was left pending: once luke is online he can be asked.
    world.receive(&mut hub, typing, password(password_of("luke")), START);
    assert_eq!(world.take(typing), [ServerFrame::Welcome { waiting: 0 }]);
    world.take(hans);
    world.take(yoda);
    request(
        &mut hub,
        &mut world,
        (hans, "hans"),
        (typing, "luke"),
        START,
    );
}

#[test]
fn r19_a_second_request_to_the_same_target_is_pending() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, _yoda, luke) = hans_yoda_luke(&mut hub, &mut world, START);
    request(&mut hub, &mut world, (hans, "hans"), (luke, "luke"), START);
    world.receive(&mut hub, hans, start("luke"), START);
    assert_eq!(
        world.events,
        [Event::Sent(
            hans,
            refused(Refusal::PrivatePending { user: name("luke") })
        )]
    );
    assert_eq!(
        world.take_text(hans),
        ["Error. Your private messaging request to luke is still waiting for an answer"]
    );
    // Still one request: one answer settles it, a second is out of place.
    world.receive(&mut hub, luke, accept("hans", PORT), START);
    assert_eq!(world.take(luke), [expect("hans", 1)]);
    assert_eq!(world.take(hans), [accepted("luke", LUKE_ADDR, PORT, 1)]);
    world.receive(&mut hub, luke, accept("hans", PORT), START);
    assert_eq!(world.take(luke), [error(FrameError::Unexpected)]);
    assert_quiet(&world, "end");
}

#[test]
fn r19_a_target_already_answering_someone_else_is_busy() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world, START);
    request(&mut hub, &mut world, (hans, "hans"), (luke, "luke"), START);
    world.receive(&mut hub, yoda, start("luke"), START);
    assert_eq!(
        world.events,
        [Event::Sent(
            yoda,
            refused(Refusal::PrivateBusy { user: name("luke") })
        )]
    );
    assert_eq!(
        world.take_text(yoda),
        ["Error. luke is answering another private messaging request. Please try again later"]
    );
    // yoda's request was not kept: luke cannot answer it...
    world.receive(&mut hub, luke, accept("yoda", PORT), START);
    assert_eq!(world.take(luke), [error(FrameError::Unexpected)]);
    // ... and hans's still stands.
    world.receive(&mut hub, luke, decline("hans"), START);
    assert_eq!(
        world.take(hans),
        [ServerFrame::PrivateDeclined { user: name("luke") }]
    );
    assert_quiet(&world, "after the answer");
    // Once luke has answered, yoda may ask him.
    request(&mut hub, &mut world, (yoda, "yoda"), (luke, "luke"), START);
}

#[test]
fn r19_an_asker_who_is_being_asked_must_answer_first() {
    // A request that crossed a question on the wire: the asker's client
    // treats its next typed line as the answer, so the hub refuses the
    // request and says why.
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world, START);
    request(&mut hub, &mut world, (yoda, "yoda"), (hans, "hans"), START);
    world.receive(&mut hub, hans, start("luke"), START);
    assert_eq!(
        world.events,
        [Event::Sent(hans, refused(Refusal::AnswerFirst))]
    );
    assert_eq!(
        refused(Refusal::AnswerFirst).to_string(),
        "Error. Please answer the private messaging request you were sent first"
    );
    world.events.clear();
    // The same for two requests crossing between one pair: luke, asked by
    // hans, asks hans.
    request(&mut hub, &mut world, (luke, "luke"), (yoda, "yoda"), START);
    world.receive(&mut hub, hans, decline("yoda"), START);
    assert_eq!(
        world.take(yoda),
        [ServerFrame::PrivateDeclined { user: name("hans") }]
    );
    world.receive(&mut hub, yoda, decline("luke"), START);
    assert_eq!(
        world.take(luke),
        [ServerFrame::PrivateDeclined { user: name("yoda") }]
    );
    request(&mut hub, &mut world, (hans, "hans"), (luke, "luke"), START);
    world.receive(&mut hub, luke, start("hans"), START);
    assert_eq!(world.take(luke), [refused(Refusal::AnswerFirst)]);
    assert_quiet(&world, "hans was not asked");
    // hans's request still stands and is answered.
    world.receive(&mut hub, luke, accept("hans", PORT), START);
    assert_eq!(world.take(luke), [expect("hans", 1)]);
    assert_eq!(world.take(hans), [accepted("luke", LUKE_ADDR, PORT, 1)]);
}

#[test]
fn r19_an_asker_may_wait_on_several_targets_and_be_asked_meanwhile() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world, START);
    let leia = login_sample(&mut hub, &mut world, "leia", START);
    world.events.clear();
    request(&mut hub, &mut world, (hans, "hans"), (luke, "luke"), START);
    request(&mut hub, &mut world, (hans, "hans"), (yoda, "yoda"), START);
    // hans is waiting, not answering: leia may ask him.
    request(&mut hub, &mut world, (leia, "leia"), (hans, "hans"), START);
    // Answers in any order, each to its own asker.
    world.receive(&mut hub, yoda, decline("hans"), START);
    assert_eq!(
        world.take(hans),
        [ServerFrame::PrivateDeclined { user: name("yoda") }]
    );
    world.receive(&mut hub, hans, accept("leia", 7), START);
    assert_eq!(world.take(hans), [expect("leia", 1)]);
    assert_eq!(world.take(leia), [accepted("hans", PEER, 7, 1)]);
    world.receive(&mut hub, luke, accept("hans", PORT), START);
    assert_eq!(world.take(luke), [expect("hans", 2)]);
    assert_eq!(world.take(hans), [accepted("luke", LUKE_ADDR, PORT, 2)]);
    assert_quiet(&world, "end");
}

// ---------------------------------------------------------------------------
// Answers with no request.

#[test]
fn r25_an_answer_with_no_request_is_unexpected_and_draws_no_secret() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world, START);
    // hans asks yoda: only yoda may answer hans, and only once.
    request(&mut hub, &mut world, (hans, "hans"), (yoda, "yoda"), START);
    let bogus: [(ConnId, ClientFrame); 8] = [
        // luke was never asked.
        (luke, accept("hans", PORT)),
        (luke, decline("hans")),
        // yoda asked nobody.
        (luke, accept("yoda", PORT)),
        // The asker cannot answer his own request.
        (hans, accept("yoda", PORT)),
        (hans, decline("yoda")),
        // Nobody of that name; oneself.
        (yoda, accept("bob", PORT)),
        (yoda, decline("yoda")),
        // Offline users ask nothing.
        (yoda, accept("vader", PORT)),
    ];
    for (conn, frame) in &bogus {
        world.receive(&mut hub, *conn, frame.clone(), START);
        assert_eq!(
            world.events,
            [Event::Sent(*conn, error(FrameError::Unexpected))],
            "{frame:?}"
        );
        assert_eq!(world.take_text(*conn), ["Error. Unexpected request"]);
    }
    // The real answer draws the first secret; a second is out of place.
    world.receive(&mut hub, yoda, accept("hans", PORT), START);
    assert_eq!(world.take(yoda), [expect("hans", 1)]);
    assert_eq!(world.take(hans), [accepted("yoda", PEER, PORT, 1)]);
    world.receive(&mut hub, yoda, accept("hans", PORT), START);
    world.receive(&mut hub, yoda, decline("hans"), START);
    assert_eq!(
        world.take(yoda),
        [error(FrameError::Unexpected), error(FrameError::Unexpected)]
    );
    assert_quiet(&world, "hans hears nothing more");
    // Still no secret wasted: the next introduction draws the second.
    request(&mut hub, &mut world, (hans, "hans"), (luke, "luke"), START);
    world.receive(&mut hub, luke, accept("hans", PORT), START);
    assert_eq!(world.take(luke), [expect("hans", 2)]);
    assert_eq!(world.take(hans), [accepted("luke", LUKE_ADDR, PORT, 2)]);
}

#[test]
fn r9_r25_answers_with_no_request_count_as_bad_frames_not_activity() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world, START);
    let later = ms(START, 60_000);
    // hans and yoda act later, so the earliest deadline is luke's.
    world.receive(&mut hub, hans, ClientFrame::PrivateActivity {}, later);
    world.receive(&mut hub, yoda, ClientFrame::PrivateActivity {}, later);
    assert_eq!(hub.poll_timeout(), Some(ms(START, TIMEOUT_MS)));
    // Not activity: luke's deadline stays where the login put it.
    for i in 0..MAX_BAD_FRAMES - 1 {
        let frame = if i % 2 == 0 {
            accept("hans", PORT)
        } else {
            decline("hans")
        };
        world.receive(&mut hub, luke, frame, later);
    }
    assert_eq!(
        world.take(luke),
        vec_of(
            error(FrameError::Unexpected),
            usize::from(MAX_BAD_FRAMES) - 1
        )
    );
    assert_eq!(hub.poll_timeout(), Some(ms(START, TIMEOUT_MS)));
    // They count towards the flood: one more closes the connection.
    world.receive(&mut hub, luke, accept("yoda", PORT), later);
    assert_eq!(world.take(luke), [bye(ByeReason::TooManyErrors)]);
    assert!(world.is_closed(luke));
    assert_eq!(world.take(hans), [logged_out("luke")]);
    assert_eq!(world.take(yoda), [logged_out("luke")]);
    assert_quiet(&world, "end");
}

fn vec_of(frame: ServerFrame, n: usize) -> Vec<ServerFrame> {
    vec![frame; n]
}

#[test]
fn r25_private_frames_before_login_are_unexpected_and_do_nothing() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let fresh = world.connect(&mut hub, START, PEER).unwrap();
    let typing = at_password_prompt(&mut hub, &mut world, "luke", START);
    let choosing = world.connect(&mut hub, START, PEER).unwrap();
    world.receive(&mut hub, choosing, username("jaba"), START);
    world.events.clear();
    let frames = [
        start("hans"),
        accept("hans", PORT),
        decline("hans"),
        ClientFrame::PrivateActivity {},
    ];
    let deadline = ms(START, TIMEOUT_MS);
    for conn in [fresh, typing, choosing] {
        for frame in &frames {
            world.receive(&mut hub, conn, frame.clone(), ms(START, 1_000));
            assert_eq!(
                world.events,
                [Event::Sent(conn, error(FrameError::Unexpected))],
                "{frame:?}"
            );
            world.events.clear();
        }
    }
    // Not activity either.
    assert_eq!(hub.poll_timeout(), Some(deadline));
    // hans was not asked, and every connection is still at its prompt.
    world.receive(&mut hub, typing, password(password_of("luke")), START);
    assert_eq!(world.take(typing), [ServerFrame::Welcome { waiting: 0 }]);
    assert_eq!(world.take(hans), [logged_in("luke")]);
    world.receive(&mut hub, typing, accept("hans", PORT), START);
    assert_eq!(world.take(typing), [error(FrameError::Unexpected)]);
    world.receive(&mut hub, fresh, username("obiwan"), START);
    assert_eq!(world.take(fresh), [ask(Prompt::Password)]);
    world.receive(&mut hub, choosing, password("longtongue"), START);
    assert_eq!(world.take(choosing), [ServerFrame::Welcome { waiting: 0 }]);
}

// ---------------------------------------------------------------------------
// Blocks around a request (R15, R20).

#[test]
fn r15_a_block_after_the_request_does_not_void_it() {
    // The hub checks the block when the request is made (R19), not when it
    // is answered: the target answering y after blocking is their consent.
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world, START);
    // The target blocks the asker, then accepts.
    request(&mut hub, &mut world, (hans, "hans"), (luke, "luke"), START);
    world.receive(
        &mut hub,
        luke,
        ClientFrame::Block { user: name("hans") },
        START,
    );
    assert_eq!(
        world.events,
        [Event::Sent(
            luke,
            ServerFrame::UserBlocked { user: name("hans") }
        )]
    );
    world.events.clear();
    world.receive(&mut hub, luke, accept("hans", PORT), START);
    assert_eq!(world.take(luke), [expect("hans", 1)]);
    assert_eq!(world.take(hans), [accepted("luke", LUKE_ADDR, PORT, 1)]);
    // The asker blocks the target, then the target accepts.
    request(&mut hub, &mut world, (yoda, "yoda"), (hans, "hans"), START);
    world.receive(
        &mut hub,
        yoda,
        ClientFrame::Block { user: name("hans") },
        START,
    );
    assert_eq!(
        world.events,
        [Event::Sent(
            yoda,
            ServerFrame::UserBlocked { user: name("hans") }
        )]
    );
    world.events.clear();
    world.receive(&mut hub, hans, accept("yoda", 9), START);
    assert_eq!(world.take(hans), [expect("yoda", 2)]);
    assert_eq!(world.take(yoda), [accepted("hans", PEER, 9, 2)]);
    // A block placed before a new request still refuses it.
    world.receive(&mut hub, hans, start("luke"), START);
    assert_eq!(
        world.take(hans),
        [refused(Refusal::PrivateBlocked { user: name("luke") })]
    );
    assert_quiet(&world, "end");
}

#[test]
fn r20_a_block_after_the_introduction_is_only_acknowledged() {
    // The session runs between the clients; the hub tells nobody.
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, _yoda, luke) = hans_yoda_luke(&mut hub, &mut world, START);
    request(&mut hub, &mut world, (hans, "hans"), (luke, "luke"), START);
    world.receive(&mut hub, luke, accept("hans", PORT), START);
    world.events.clear();
    world.receive(
        &mut hub,
        luke,
        ClientFrame::Block { user: name("hans") },
        START,
    );
    assert_eq!(
        world.events,
        [Event::Sent(
            luke,
            ServerFrame::UserBlocked { user: name("hans") }
        )]
    );
    assert_eq!(world.take_text(luke), ["hans is blocked"]);
    world.receive(
        &mut hub,
        hans,
        ClientFrame::Block { user: name("luke") },
        START,
    );
    assert_eq!(
        world.events,
        [Event::Sent(
            hans,
            ServerFrame::UserBlocked { user: name("luke") }
        )]
    );
    world.events.clear();
    // Private activity still counts and is still silent.
    world.receive(&mut hub, hans, ClientFrame::PrivateActivity {}, START);
    world.receive(&mut hub, luke, ClientFrame::PrivateActivity {}, START);
    assert!(world.events.is_empty(), "{:?}", world.events);
}

// ---------------------------------------------------------------------------
// Leaving before the answer (R23).

/// The ways a user leaves: logout, a dropped connection, a timeout.
#[derive(Clone, Copy, Debug)]
enum Leave {
    Logout,
    Disconnect,
    Timeout,
}

const LEAVES: [Leave; 3] = [Leave::Logout, Leave::Disconnect, Leave::Timeout];

/// The idle user's deadline, for [`Leave::Timeout`]: everyone else logs
/// in a minute later.
const LATE: Instant = Instant(START.0 + 60_000);

/// Makes the user on `conn`, online since [`START`] and idle since, leave
/// by `how` at their deadline; drains what they were sent.
fn leave(hub: &mut Hub, world: &mut World, conn: ConnId, how: Leave) {
    let deadline = ms(START, TIMEOUT_MS);
    match how {
        Leave::Logout => {
            world.receive(hub, conn, ClientFrame::Logout {}, deadline);
            assert_eq!(world.take(conn), [bye(ByeReason::LoggedOut)]);
            assert!(world.is_closed(conn));
        }
        Leave::Disconnect => {
            world.disconnect(hub, conn, deadline);
            assert_eq!(world.take(conn), []);
        }
        Leave::Timeout => {
            world.handle_timeout(hub, Instant(deadline.millis() - 1));
            assert!(!world.is_closed(conn), "timed out early");
            world.handle_timeout(hub, deadline);
            assert_eq!(world.take(conn), [bye(ByeReason::TimedOut)]);
            assert!(world.is_closed(conn));
        }
    }
}

#[test]
fn r23_an_asker_who_leaves_withdraws_the_request() {
    for how in LEAVES {
        let mut hub = hub_with_sample_accounts();
        let mut world = World::default();
        let hans = login_from(&mut hub, &mut world, "hans", PEER, START);
        let yoda = login_from(&mut hub, &mut world, "yoda", PEER, LATE);
        let luke = login_from(&mut hub, &mut world, "luke", LUKE_ADDR, LATE);
        world.events.clear();
        request(&mut hub, &mut world, (hans, "hans"), (luke, "luke"), START);
        leave(&mut hub, &mut world, hans, how);
        assert_eq!(
            world.take(luke),
            [logged_out("hans"), withdrawn("hans")],
            "{how:?}"
        );
        assert_eq!(world.take(yoda), [logged_out("hans")], "{how:?}");
        assert_quiet(&world, "only luke hears of the request");
        assert_eq!(
            withdrawn("hans").to_string(),
            "hans withdrew the private messaging request"
        );
        // luke's answer comes too late.
        let now = ms(START, TIMEOUT_MS);
        world.receive(&mut hub, luke, accept("hans", PORT), now);
        world.receive(&mut hub, luke, decline("hans"), now);
        assert_eq!(
            world.take(luke),
            [error(FrameError::Unexpected), error(FrameError::Unexpected)],
            "{how:?}"
        );
        // Nothing is left of it: luke may ask, and hans, back, may ask luke.
        request(&mut hub, &mut world, (luke, "luke"), (yoda, "yoda"), now);
        let hans = login_from(&mut hub, &mut world, "hans", PEER, now);
        world.take(yoda);
        world.take(luke);
        request(&mut hub, &mut world, (hans, "hans"), (luke, "luke"), now);
        world.receive(&mut hub, luke, accept("hans", PORT), now);
        assert_eq!(world.take(luke), [expect("hans", 1)], "{how:?}");
        assert_eq!(
            world.take(hans),
            [accepted("luke", LUKE_ADDR, PORT, 1)],
            "{how:?}"
        );
    }
}

#[test]
fn r23_a_target_who_leaves_before_answering_is_no_longer_online() {
    for how in LEAVES {
        let mut hub = hub_with_sample_accounts();
        let mut world = World::default();
        let luke = login_from(&mut hub, &mut world, "luke", LUKE_ADDR, START);
        let hans = login_from(&mut hub, &mut world, "hans", PEER, LATE);
        let yoda = login_from(&mut hub, &mut world, "yoda", PEER, LATE);
        world.events.clear();
        request(&mut hub, &mut world, (hans, "hans"), (luke, "luke"), LATE);
        leave(&mut hub, &mut world, luke, how);
        assert_eq!(
            world.take(hans),
            [logged_out("luke"), no_longer_online("luke")],
            "{how:?}"
        );
        assert_eq!(world.take(yoda), [logged_out("luke")], "{how:?}");
        assert_quiet(&world, "only hans hears of the request");
        assert_eq!(
            no_longer_online("luke").to_string(),
            "Error. luke is no longer online"
        );
        // Nothing is left of it: luke, back, may ask, and hans may ask luke.
        let now = ms(START, TIMEOUT_MS);
        let luke = login_from(&mut hub, &mut world, "luke", LUKE_ADDR, now);
        world.take(hans);
        world.take(yoda);
        request(&mut hub, &mut world, (luke, "luke"), (yoda, "yoda"), now);
        request(&mut hub, &mut world, (hans, "hans"), (luke, "luke"), now);
        world.receive(&mut hub, luke, accept("hans", PORT), now);
        assert_eq!(world.take(luke), [expect("hans", 1)], "{how:?}");
        assert_eq!(
            world.take(hans),
            [accepted("luke", LUKE_ADDR, PORT, 1)],
            "{how:?}"
        );
    }
}

#[test]
fn r23_leaving_settles_every_request_of_the_user_both_ways() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world, START);
    let leia = login_sample(&mut hub, &mut world, "leia", START);
    let vader = login_sample(&mut hub, &mut world, "vader", START);
    world.events.clear();
    // hans waits on luke and yoda and is being asked by leia; vader's
    // request to leia has nothing to do with hans.
    request(&mut hub, &mut world, (hans, "hans"), (luke, "luke"), START);
    request(&mut hub, &mut world, (hans, "hans"), (yoda, "yoda"), START);
    request(&mut hub, &mut world, (leia, "leia"), (hans, "hans"), START);
    request(
        &mut hub,
        &mut world,
        (vader, "vader"),
        (leia, "leia"),
        START,
    );
    world.disconnect(&mut hub, hans, START);
    assert_eq!(world.take(luke), [logged_out("hans"), withdrawn("hans")]);
    assert_eq!(world.take(yoda), [logged_out("hans"), withdrawn("hans")]);
    assert_eq!(
        world.take(leia),
        [logged_out("hans"), no_longer_online("hans")]
    );
    assert_eq!(world.take(vader), [logged_out("hans")]);
    assert_quiet(&world, "after hans left");
    // vader's request to leia is untouched.
    world.receive(&mut hub, leia, accept("vader", 3), START);
    assert_eq!(world.take(leia), [expect("vader", 1)]);
    assert_eq!(world.take(vader), [accepted("leia", PEER, 3, 1)]);
}

// ---------------------------------------------------------------------------
// Activity: R9, R22.

/// (ms after START, who: 0 hans or 1 luke, frame, what they are sent, what
/// the other is sent).
type Step = (u64, usize, ClientFrame, Vec<ServerFrame>, Vec<ServerFrame>);

#[test]
fn r22_private_commands_and_answers_are_activity() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_from(&mut hub, &mut world, "hans", PEER, START);
    let luke = login_from(&mut hub, &mut world, "luke", LUKE_ADDR, START);
    world.events.clear();
    let conns = [hans, luke];
    let steps: [Step; 7] = [
        (
            60_000,
            0,
            start("luke"),
            vec![asked("luke")],
            vec![question("hans")],
        ),
        (
            100_000,
            1,
            decline("hans"),
            vec![],
            vec![ServerFrame::PrivateDeclined { user: name("luke") }],
        ),
        (
            170_000,
            0,
            start("luke"),
            vec![asked("luke")],
            vec![question("hans")],
        ),
        (
            210_000,
            1,
            accept("hans", PORT),
            vec![expect("hans", 1)],
            vec![accepted("luke", LUKE_ADDR, PORT, 1)],
        ),
        (280_000, 0, ClientFrame::PrivateActivity {}, vec![], vec![]),
        (320_000, 1, ClientFrame::PrivateActivity {}, vec![], vec![]),
        // A refused startprivate is still a valid command (R9).
        (
            390_000,
            0,
            start("hans"),
            vec![refused(Refusal::PrivateSelf)],
            vec![],
        ),
    ];
    // Each user's last two moments of activity, logging in first.
    let mut last = [[START, START], [START, START]];
    for (at, who, frame, mine, theirs) in steps {
        let now = ms(START, at);
        let [before, previous] = last[who];
        // Without the push of the user's previous step, they would have
        // timed out by now; with it, they have not.
        assert!(now >= ms(before, TIMEOUT_MS) || before == previous, "{at}");
        assert!(now < ms(previous, TIMEOUT_MS), "{at}");
        world.handle_timeout(&mut hub, now);
        assert!(world.closed().is_empty(), "timed out before {frame:?}");
        world.receive(&mut hub, conns[who], frame.clone(), now);
        assert_eq!(world.take(conns[who]), mine, "{frame:?}");
        assert_eq!(world.take(conns[1 - who]), theirs, "{frame:?}");
        assert_quiet(&world, "nobody else");
        last[who] = [previous, now];
    }
    // Each user's deadline is TIMEOUT_MS after their last step: luke's at
    // 320 s, hans's at 390 s.
    let (hans_last, luke_last) = (ms(START, 390_000), ms(START, 320_000));
    assert_eq!(hub.poll_timeout(), Some(ms(luke_last, TIMEOUT_MS)));
    world.handle_timeout(&mut hub, ms(luke_last, TIMEOUT_MS - 1));
    assert!(world.closed().is_empty());
    world.handle_timeout(&mut hub, ms(luke_last, TIMEOUT_MS));
    assert_eq!(world.take(luke), [bye(ByeReason::TimedOut)]);
    assert_eq!(world.take(hans), [logged_out("luke")]);
    assert_eq!(hub.poll_timeout(), Some(ms(hans_last, TIMEOUT_MS)));
    world.handle_timeout(&mut hub, ms(hans_last, TIMEOUT_MS - 1));
    assert!(!world.is_closed(hans));
    world.handle_timeout(&mut hub, ms(hans_last, TIMEOUT_MS));
    assert_eq!(world.take(hans), [bye(ByeReason::TimedOut)]);
}

// ---------------------------------------------------------------------------
// R24: private and relayed commands interleave.

#[test]
fn r24_relayed_commands_work_while_a_request_is_pending_and_after() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world, START);
    request(&mut hub, &mut world, (hans, "hans"), (luke, "luke"), START);
    // S7 steps 7 and 8, with the request still open.
    world.receive(
        &mut hub,
        hans,
        ClientFrame::Message {
            to: name("yoda"),
            text: "force is strong".try_into().unwrap(),
        },
        START,
    );
    assert_eq!(world.take_text(yoda), ["hans: force is strong"]);
    world.receive(
        &mut hub,
        hans,
        ClientFrame::Message {
            to: name("luke"),
            text: "now via server".try_into().unwrap(),
        },
        START,
    );
    assert_eq!(world.take_text(luke), ["hans: now via server"]);
    world.receive(&mut hub, luke, ClientFrame::WhoElse {}, START);
    assert_eq!(world.take(luke).len(), 1);
    assert_quiet(&world, "the messages");
    // The request survived them.
    world.receive(&mut hub, luke, accept("hans", PORT), START);
    assert_eq!(world.take(luke), [expect("hans", 1)]);
    assert_eq!(world.take(hans), [accepted("luke", LUKE_ADDR, PORT, 1)]);
    // S7 step 9: hans logs out; the hub only announces it (the clients end
    // their session themselves).
    world.receive(&mut hub, hans, ClientFrame::Logout {}, START);
    assert_eq!(world.take(hans), [bye(ByeReason::LoggedOut)]);
    assert_eq!(world.take_text(yoda), ["hans logged out"]);
    assert_eq!(world.take_text(luke), ["hans logged out"]);
    assert_quiet(&world, "end");
}

// ---------------------------------------------------------------------------
// Capacity: R26.

#[test]
fn r26_every_online_user_but_one_can_be_waiting_for_an_answer_at_once() {
    // Introductions hold one entry per asked user. An asker cannot be being
    // asked, so with n users online at most n - 1 are asked at once; the
    // table holds DEFAULT_CONNECTIONS entries, so it never overflows.
    let mut hub = hub();
    let mut world = World::default();
    let names: Vec<String> = (0..DEFAULT_CONNECTIONS)
        .map(|i| format!("user{i}"))
        .collect();
    for user in &names {
        hub.add_account(user, "secret").unwrap();
    }
    let conns: Vec<ConnId> = names
        .iter()
        .map(|user| login(&mut hub, &mut world, user, "secret", START))
        .collect();
    assert!(
        world.connect(&mut hub, START, PEER).is_err(),
        "every slot taken"
    );
    world.events.clear();
    let at = |i: usize| (conns[i], names[i].as_str());
    // A chain, built from its far end: user i asks user i + 1.
    for i in (0..DEFAULT_CONNECTIONS - 1).rev() {
        request(&mut hub, &mut world, at(i), at(i + 1), START);
    }
    // Everyone is now asked but user0, who may still not ask anyone asked.
    for (i, target) in names.iter().enumerate().skip(1) {
        world.receive(&mut hub, conns[0], start(target), START);
        let user = name(target);
        let expected = if i == 1 {
            Refusal::PrivatePending { user }
        } else {
            Refusal::PrivateBusy { user }
        };
        assert_eq!(world.take(conns[0]), [refused(expected)], "{target}");
    }
    assert_quiet(&world, "no more questions");
    // Every request is answered, each with its own secret.
    for i in 0..DEFAULT_CONNECTIONS - 1 {
        let n = u8::try_from(i + 1).unwrap();
        world.receive(&mut hub, conns[i + 1], accept(&names[i], 2000), START);
        assert_eq!(world.take(conns[i + 1]), [expect(&names[i], n)], "{i}");
        assert_eq!(
            world.take(conns[i]),
            [accepted(&names[i + 1], PEER, 2000, n)],
            "{i}"
        );
    }
    assert_quiet(&world, "chain answered");
    // Then a star: user0 asks everyone else at once.
    for i in 1..DEFAULT_CONNECTIONS {
        request(&mut hub, &mut world, at(0), at(i), START);
    }
    for i in 1..DEFAULT_CONNECTIONS {
        world.receive(&mut hub, conns[i], decline(&names[0]), START);
        assert_eq!(
            world.take(conns[0]),
            [ServerFrame::PrivateDeclined {
                user: name(&names[i])
            }]
        );
    }
    assert_quiet(&world, "star answered");
}

// ---------------------------------------------------------------------------
// A client that stops reading (R27): its queue fills and it is dropped.

#[test]
fn r27_a_target_dropped_while_being_asked_is_no_longer_online() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world, START);
    clog(&mut hub, &mut world, luke);
    world.receive(&mut hub, hans, start("luke"), START);
    assert!(world.is_closed(luke));
    // As if luke had left before answering; hans is not told he was asked.
    assert_eq!(
        world.take(hans),
        [logged_out("luke"), no_longer_online("luke")]
    );
    assert_eq!(world.take(yoda), [logged_out("luke")]);
    assert_quiet(&world, "end");
    // Nothing is left of the request.
    world.full.clear();
    let luke = login_from(&mut hub, &mut world, "luke", LUKE_ADDR, START);
    world.events.clear();
    request(&mut hub, &mut world, (hans, "hans"), (luke, "luke"), START);
}

#[test]
fn r27_a_target_dropped_while_accepting_is_no_longer_online() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world, START);
    request(&mut hub, &mut world, (hans, "hans"), (luke, "luke"), START);
    clog(&mut hub, &mut world, luke);
    world.receive(&mut hub, luke, accept("hans", PORT), START);
    assert!(world.is_closed(luke));
    // luke never learnt the secret: hans must not connect to him.
    assert_eq!(
        world.take(hans),
        [no_longer_online("luke"), logged_out("luke")]
    );
    assert_eq!(world.take(yoda), [logged_out("luke")]);
    assert_quiet(&world, "end");
}

#[test]
fn r27_an_asker_dropped_mid_introduction_is_announced_to_the_target() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let (hans, yoda, luke) = hans_yoda_luke(&mut hub, &mut world, START);
    // Dropped as the request is acknowledged: luke was asked, then told.
    clog(&mut hub, &mut world, hans);
    world.receive(&mut hub, hans, start("luke"), START);
    assert!(world.is_closed(hans));
    assert_eq!(
        world.take(luke),
        [question("hans"), logged_out("hans"), withdrawn("hans")]
    );
    assert_eq!(world.take(yoda), [logged_out("hans")]);
    assert_quiet(&world, "first");
    // Dropped as the introduction is sent: luke, who expects hans, is told
    // he left.
    world.full.clear();
    let hans = login_from(&mut hub, &mut world, "hans", PEER, START);
    world.events.clear();
    request(&mut hub, &mut world, (hans, "hans"), (luke, "luke"), START);
    clog(&mut hub, &mut world, hans);
    world.receive(&mut hub, luke, accept("hans", PORT), START);
    assert!(world.is_closed(hans));
    assert_eq!(world.take(luke), [expect("hans", 1), logged_out("hans")]);
    assert_eq!(world.take(yoda), [logged_out("hans")]);
    assert_quiet(&world, "second");
}
