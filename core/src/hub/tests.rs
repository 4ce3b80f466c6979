//! The hub's rules, one table or scenario per rule of requirements.md and
//! per sample session of sample-interactions.md. Time is fake (milliseconds
//! passed in), so nothing sleeps; effects are recorded by [`World`] in the
//! order the hub asked for them.

use std::string::ToString;
use std::vec::Vec;
use std::{format, vec};

use super::{AddAccountError, Config, Hub};
use crate::credential::{CredentialProblem, Secret};
use crate::event::{Checked, StoreFailed};
use crate::limits::{
    DEFAULT_ACCOUNTS, DEFAULT_CONNECTIONS, MAX_BAD_FRAMES, NAME_MAX, PASSWORD_MAX,
};
use crate::protocol::{ByeReason, ClientFrame, FrameError, Prompt, ServerFrame};
use crate::session::ConnId;
use crate::text::WELCOME;
use crate::time::Instant;

/// `natter-server 4000 60 120`, as in the sample sessions.
pub(super) const BLOCK_MS: u64 = 60_000;
pub(super) const TIMEOUT_MS: u64 = 120_000;

/// Not zero, so a rule that confused instants with durations shows.
pub(super) const START: Instant = Instant(7_000);

/// Where every test client connects from.
pub(super) const PEER: core::net::IpAddr = core::net::IpAddr::V4(core::net::Ipv4Addr::LOCALHOST);

pub(super) use crate::testing::frames::message;
pub(super) use crate::testing::world::Event;
pub(super) use crate::testing::{
    SAMPLE_ACCOUNTS, World, fake_hash, name, password, password_of, username,
};

/// `conn` stops reading, and its queue in the hub is full to the last
/// byte: the next frame for it overflows.
pub(super) fn clog(hub: &mut Hub, world: &mut World, conn: ConnId) {
    world.full.push(conn);
    let session = hub.sessions.get_mut(conn).expect("a live connection");
    while session.output.push_frame(b"\n").is_ok() {}
}

// ---------------------------------------------------------------------------
// Helpers.

/// No idle warnings, and private requests that outlast every idle
/// timeout: the tests of deadlines see only those deadlines. Warnings,
/// expiry and the admission rules have tests of their own.
pub(super) fn hub() -> Hub {
    crate::testing::test_hub(BLOCK_MS, TIMEOUT_MS)
}

pub(super) fn hub_with_sample_accounts() -> Hub {
    let mut hub = hub();
    for (name, password) in SAMPLE_ACCOUNTS {
        hub.add_account(name, password).unwrap();
    }
    hub
}

pub(super) fn ask(prompt: Prompt) -> ServerFrame {
    ServerFrame::Ask { prompt }
}

pub(super) fn bye(reason: ByeReason) -> ServerFrame {
    ServerFrame::Bye { reason }
}

pub(super) fn error(error: FrameError) -> ServerFrame {
    ServerFrame::Error { error }
}

pub(super) fn logged_in(user: &str) -> ServerFrame {
    ServerFrame::LoggedIn { user: name(user) }
}

pub(super) fn logged_out(user: &str) -> ServerFrame {
    ServerFrame::LoggedOut { user: name(user) }
}

pub(super) fn ms(instant: Instant, millis: u64) -> Instant {
    instant.after(millis)
}

/// Connects and answers both prompts; checks the L1 dialogue and drains it.
pub(super) fn login(
    hub: &mut Hub,
    world: &mut World,
    user: &str,
    pass: &str,
    now: Instant,
) -> ConnId {
    let conn = world
        .connect(hub, now, PEER)
        .expect("a free connection slot");
    world.receive(hub, conn, username(user), now);
    world.receive(hub, conn, password(pass), now);
    assert_eq!(
        world.take(conn),
        [
            ask(Prompt::Username),
            ask(Prompt::Password),
            ServerFrame::Welcome { waiting: 0 }
        ],
        "{user} logs in"
    );
    assert!(!world.is_closed(conn));
    conn
}

/// Logs a sample user in with the right password.
pub(super) fn login_sample(hub: &mut Hub, world: &mut World, user: &str, now: Instant) -> ConnId {
    login(hub, world, user, password_of(user), now)
}

/// Connects and gives a username; returns the connection, drained.
pub(super) fn at_password_prompt(
    hub: &mut Hub,
    world: &mut World,
    user: &str,
    now: Instant,
) -> ConnId {
    let conn = world.connect(hub, now, PEER).unwrap();
    world.receive(hub, conn, username(user), now);
    assert_eq!(
        world.take(conn),
        [ask(Prompt::Username), ask(Prompt::Password)]
    );
    conn
}

/// Connects and gives a username that has no account; returns it, drained.
fn at_new_password_prompt(hub: &mut Hub, world: &mut World, user: &str, now: Instant) -> ConnId {
    let conn = world.connect(hub, now, PEER).unwrap();
    world.receive(hub, conn, username(user), now);
    assert_eq!(
        world.take(conn),
        [ask(Prompt::Username), ask(Prompt::NewPassword)]
    );
    conn
}

/// Blocks `user` at `now` with three wrong passwords (L2).
pub(super) fn block(hub: &mut Hub, world: &mut World, user: &str, now: Instant) {
    let conn = at_password_prompt(hub, world, user, now);
    for wrong in ["weird", "green", "password"] {
        world.receive(hub, conn, password(wrong), now);
    }
    assert_eq!(
        world.take(conn),
        [
            ServerFrame::WrongPassword {},
            ask(Prompt::Password),
            ServerFrame::WrongPassword {},
            ask(Prompt::Password),
            bye(ByeReason::NowBlocked { seconds: 60 }),
        ]
    );
    assert!(world.is_closed(conn));
}

/// `conn` can still give a username: proof that it is alive at that prompt.
fn assert_at_username_prompt(hub: &mut Hub, world: &mut World, conn: ConnId, now: Instant) {
    world.receive(hub, conn, username("obiwan"), now);
    assert_eq!(world.take(conn), [ask(Prompt::Password)]);
}

// ---------------------------------------------------------------------------
// Login: R4, R5, L1.

#[test]
fn r4_connect_asks_for_a_username() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let conn = world.connect(&mut hub, START, PEER).unwrap();
    assert_eq!(world.events, [Event::Sent(conn, ask(Prompt::Username))]);
    assert_eq!(world.take_text(conn), ["Username: "]);
}

#[test]
fn r5_l1_right_password_welcomes_the_user() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let conn = world.connect(&mut hub, START, PEER).unwrap();
    world.receive(&mut hub, conn, username("yoda"), START);
    assert_eq!(world.take_text(conn), ["Username: ", "Password: "]);
    world.receive(&mut hub, conn, password("wise@!man"), START);
    assert_eq!(world.take(conn), [ServerFrame::Welcome { waiting: 0 }]);
    assert_eq!(ServerFrame::Welcome { waiting: 0 }.to_string(), WELCOME);
    assert_eq!(
        WELCOME,
        "Welcome to the greatest messaging application ever!"
    );
    assert!(world.events.is_empty(), "{:?}", world.events);
    // Online: a second login as yoda is refused (R7).
    let other = world.connect(&mut hub, START, PEER).unwrap();
    world.receive(&mut hub, other, username("yoda"), START);
    assert_eq!(
        world.take(other)[1],
        ServerFrame::AlreadyLoggedIn { user: name("yoda") }
    );
}

#[test]
fn r3_r5_every_sample_account_logs_in_with_its_own_password_only() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    assert_eq!(hub.accounts(), SAMPLE_ACCOUNTS.len());
    for (i, (user, pass)) in SAMPLE_ACCOUNTS.iter().enumerate() {
        // Someone else's password is wrong.
        let (_, other_pass) = SAMPLE_ACCOUNTS[(i + 1) % SAMPLE_ACCOUNTS.len()];
        let conn = at_password_prompt(&mut hub, &mut world, user, START);
        world.receive(&mut hub, conn, password(other_pass), START);
        assert_eq!(
            world.take(conn),
            [ServerFrame::WrongPassword {}, ask(Prompt::Password)],
            "{user}"
        );
        world.receive(&mut hub, conn, password(pass), START);
        assert_eq!(
            world.take(conn),
            [ServerFrame::Welcome { waiting: 0 }],
            "{user}"
        );
    }
}

#[test]
fn r5_wrong_password_says_so_and_asks_again() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    // Near misses of wise@!man are all wrong: comparison is exact.
    for wrong in ["weird", "wise@!ma", "wise@!man!", "WISE@!MAN", "wise@man"] {
        let conn = at_password_prompt(&mut hub, &mut world, "yoda", START);
        world.receive(&mut hub, conn, password(wrong), START);
        assert_eq!(
            world.take_text(conn),
            ["Invalid Password. Please try again", "Password: "],
            "{wrong}"
        );
        assert!(!world.is_closed(conn));
        // Still at the password prompt: the right one gets in.
        world.receive(&mut hub, conn, password("wise@!man"), START);
        assert_eq!(
            world.take(conn),
            [ServerFrame::Welcome { waiting: 0 }],
            "{wrong}"
        );
        world.receive(&mut hub, conn, ClientFrame::Logout {}, START);
        world.take(conn);
    }
}

// ---------------------------------------------------------------------------
// Blocking: R8, L2, L3, L4.

#[test]
fn r8_l2_third_wrong_password_blocks_and_closes() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let conn = world.connect(&mut hub, START, PEER).unwrap();
    world.receive(&mut hub, conn, username("yoda"), START);
    // L2, line by line: (typed, what the terminal then shows).
    let transcript: [(&str, &[&str]); 3] = [
        (
            "weird",
            &["Invalid Password. Please try again", "Password: "],
        ),
        (
            "green",
            &["Invalid Password. Please try again", "Password: "],
        ),
        (
            "password",
            &["Invalid Password. Your account has been blocked. Please try again later"],
        ),
    ];
    assert_eq!(world.take_text(conn), ["Username: ", "Password: "]);
    for (i, (typed, shown)) in transcript.iter().enumerate() {
        let now = ms(START, 1_000 * i as u64);
        world.receive(&mut hub, conn, password(typed), now);
        assert_eq!(world.take_text(conn), *shown, "{typed}");
    }
    assert_eq!(world.events, [Event::Closed(conn)]);
    // Forgotten: no more frames, no deadline.
    world.receive(&mut hub, conn, password("wise@!man"), START);
    assert_eq!(world.events, [Event::Closed(conn)]);
    assert_eq!(hub.poll_timeout(), None);
}

#[test]
fn r8_l3_while_blocked_even_the_right_password_is_refused() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    block(&mut hub, &mut world, "yoda", START);
    // L3 at several moments within the 60 s block.
    for later in [0, 1, 30_000, BLOCK_MS - 1] {
        let now = ms(START, later);
        let conn = world.connect(&mut hub, now, PEER).unwrap();
        world.receive(&mut hub, conn, username("yoda"), now);
        world.receive(&mut hub, conn, password("wise@!man"), now);
        assert_eq!(
            world.take_text(conn),
            [
                "Username: ",
                "Password: ",
                "Your account is blocked due to multiple login failures. Please try again later"
            ],
            "{later} ms into the block"
        );
        assert!(world.is_closed(conn));
    }
    // A wrong password while blocked is refused the same way, and the
    // block does not spread to other users.
    let conn = at_password_prompt(&mut hub, &mut world, "yoda", START);
    world.receive(&mut hub, conn, password("weird"), START);
    assert_eq!(world.take(conn), [bye(ByeReason::Blocked { seconds: 60 })]);
    login_sample(&mut hub, &mut world, "luke", START);
}

#[test]
fn r8_l4_after_the_block_login_works_again() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    block(&mut hub, &mut world, "yoda", START);
    login_sample(&mut hub, &mut world, "yoda", ms(START, BLOCK_MS + 5_000));
}

#[test]
fn r8_block_ends_exactly_at_block_duration() {
    // (ms after the third failure, blocked?)
    let cases = [
        (BLOCK_MS - 1, true),
        (BLOCK_MS, false),
        (BLOCK_MS + 1, false),
    ];
    for (later, blocked) in cases {
        let mut hub = hub_with_sample_accounts();
        let mut world = World::default();
        block(&mut hub, &mut world, "yoda", START);
        let now = ms(START, later);
        let conn = at_password_prompt(&mut hub, &mut world, "yoda", now);
        world.receive(&mut hub, conn, password("wise@!man"), now);
        let expected = if blocked {
            bye(ByeReason::Blocked { seconds: 1 })
        } else {
            ServerFrame::Welcome { waiting: 0 }
        };
        assert_eq!(world.take(conn), [expected], "{later} ms after blocking");
        assert_eq!(world.is_closed(conn), blocked, "{later} ms after blocking");
    }
}

#[test]
fn r8_failures_count_per_username_across_connections() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let first = at_password_prompt(&mut hub, &mut world, "yoda", START);
    let second = at_password_prompt(&mut hub, &mut world, "yoda", START);
    // Two failures on the first connection, the third on the second.
    world.receive(&mut hub, first, password("weird"), START);
    world.receive(&mut hub, first, password("green"), START);
    assert_eq!(
        world.take(first),
        [
            ServerFrame::WrongPassword {},
            ask(Prompt::Password),
            ServerFrame::WrongPassword {},
            ask(Prompt::Password),
        ]
    );
    world.receive(&mut hub, second, password("password"), START);
    assert_eq!(
        world.take(second),
        [bye(ByeReason::NowBlocked { seconds: 60 })]
    );
    assert!(world.is_closed(second));
    // The first connection is still at its prompt, but yoda is blocked now.
    world.receive(&mut hub, first, password("wise@!man"), START);
    assert_eq!(world.take(first), [bye(ByeReason::Blocked { seconds: 60 })]);
    assert!(world.is_closed(first));
}

#[test]
fn r8_failures_of_one_user_do_not_count_against_another() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let yoda = at_password_prompt(&mut hub, &mut world, "yoda", START);
    world.receive(&mut hub, yoda, password("weird"), START);
    world.receive(&mut hub, yoda, password("green"), START);
    let luke = at_password_prompt(&mut hub, &mut world, "luke", START);
    world.receive(&mut hub, luke, password("weird"), START);
    world.receive(&mut hub, luke, password("green"), START);
    assert_eq!(world.closed(), []);
    assert_eq!(
        world.take(luke),
        [
            ServerFrame::WrongPassword {},
            ask(Prompt::Password),
            ServerFrame::WrongPassword {},
            ask(Prompt::Password),
        ]
    );
    world.receive(&mut hub, luke, password("light==saber"), START);
    assert_eq!(world.take(luke), [ServerFrame::Welcome { waiting: 0 }]);
}

#[test]
fn r8_a_successful_login_resets_the_count() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let two_failures = |hub: &mut Hub, world: &mut World, conn: ConnId| {
        world.receive(hub, conn, password("weird"), START);
        world.receive(hub, conn, password("green"), START);
        assert_eq!(
            world.take(conn),
            [
                ServerFrame::WrongPassword {},
                ask(Prompt::Password),
                ServerFrame::WrongPassword {},
                ask(Prompt::Password),
            ]
        );
    };
    let conn = at_password_prompt(&mut hub, &mut world, "yoda", START);
    two_failures(&mut hub, &mut world, conn);
    world.receive(&mut hub, conn, password("wise@!man"), START);
    assert_eq!(world.take(conn), [ServerFrame::Welcome { waiting: 0 }]);
    world.receive(&mut hub, conn, ClientFrame::Logout {}, START);
    assert_eq!(world.take(conn), [bye(ByeReason::LoggedOut)]);

    let conn = at_password_prompt(&mut hub, &mut world, "yoda", START);
    two_failures(&mut hub, &mut world, conn);
    assert!(!world.is_closed(conn), "not blocked after 2 + 2 failures");
    world.receive(&mut hub, conn, password("wise@!man"), START);
    assert_eq!(world.take(conn), [ServerFrame::Welcome { waiting: 0 }]);
}

#[test]
fn r8_a_block_that_ended_leaves_a_fresh_count() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    block(&mut hub, &mut world, "yoda", START);
    let now = ms(START, BLOCK_MS);
    let conn = at_password_prompt(&mut hub, &mut world, "yoda", now);
    for _ in 0..2 {
        world.receive(&mut hub, conn, password("weird"), now);
        assert_eq!(
            world.take(conn),
            [ServerFrame::WrongPassword {}, ask(Prompt::Password)]
        );
    }
    // The third in a row blocks again, from now.
    world.receive(&mut hub, conn, password("weird"), now);
    assert_eq!(
        world.take(conn),
        [bye(ByeReason::NowBlocked { seconds: 60 })]
    );
    let conn = at_password_prompt(&mut hub, &mut world, "yoda", ms(now, BLOCK_MS - 1));
    world.receive(&mut hub, conn, password("wise@!man"), ms(now, BLOCK_MS - 1));
    assert_eq!(world.take(conn), [bye(ByeReason::Blocked { seconds: 1 })]);
}

// ---------------------------------------------------------------------------
// New accounts: R6, L5.

#[test]
fn r6_l5_a_new_user_gets_an_account_stored_before_the_welcome() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let conn = world.connect(&mut hub, START, PEER).unwrap();
    world.receive(&mut hub, conn, username("jaba"), START);
    world.receive(&mut hub, conn, password("longtongue"), START);
    let stored = world.position(&Event::Stored("jaba".into(), "longtongue".into()));
    let welcome = world.position(&Event::Sent(conn, ServerFrame::Welcome { waiting: 0 }));
    assert!(
        stored < welcome,
        "stored at {stored}, welcomed at {welcome}"
    );
    assert_eq!(world.stored(), [("jaba".into(), "longtongue".into())]);
    assert_eq!(
        world.take_text(conn),
        [
            "Username: ",
            "This is a new user. Enter a password: ",
            "Welcome to the greatest messaging application ever!"
        ]
    );
    assert_eq!(hub.accounts(), SAMPLE_ACCOUNTS.len() + 1);

    // The account is real: jaba logs out and back in with its password,
    // as a known user this time, and nothing more is stored.
    world.receive(&mut hub, conn, ClientFrame::Logout {}, START);
    let conn = at_password_prompt(&mut hub, &mut world, "jaba", START);
    world.receive(&mut hub, conn, password("wrong"), START);
    assert_eq!(
        world.take(conn),
        [ServerFrame::WrongPassword {}, ask(Prompt::Password)]
    );
    world.receive(&mut hub, conn, password("longtongue"), START);
    assert_eq!(world.take(conn), [ServerFrame::Welcome { waiting: 0 }]);
    assert_eq!(world.stored().len(), 1);
    assert_eq!(
        hub.add_account("jaba", "other"),
        Err(AddAccountError::Duplicate)
    );
}

#[test]
fn r6_a_bad_new_password_is_refused_and_asked_for_again() {
    // A password longer than PASSWORD_MAX cannot even be put in the frame
    // (the decoder refuses it, protocol.rs), so TooLong never reaches here.
    let cases = [
        (
            "",
            CredentialProblem::Empty,
            "Error. Password cannot be empty",
        ),
        (
            "long tongue",
            CredentialProblem::Space,
            "Error. Password cannot contain spaces",
        ),
        (
            " ",
            CredentialProblem::Space,
            "Error. Password cannot contain spaces",
        ),
        ("tongue\t", CredentialProblem::BadCharacter, ""),
        ("töngue", CredentialProblem::BadCharacter, ""),
        ("long\ntongue", CredentialProblem::BadCharacter, ""),
    ];
    for (bad, problem, text) in cases {
        let mut hub = hub_with_sample_accounts();
        let mut world = World::default();
        let conn = at_new_password_prompt(&mut hub, &mut world, "jaba", START);
        world.receive(&mut hub, conn, password(bad), START);
        let refusal = ServerFrame::BadPassword { problem };
        if !text.is_empty() {
            assert_eq!(refusal.to_string(), text);
        }
        assert_eq!(
            world.take(conn),
            [refusal, ask(Prompt::NewPassword)],
            "{bad:?}"
        );
        assert_eq!(world.stored(), [], "{bad:?}");
        assert_eq!(hub.accounts(), SAMPLE_ACCOUNTS.len(), "{bad:?}");
        // Still choosing jaba's password.
        world.receive(&mut hub, conn, password("longtongue"), START);
        assert_eq!(
            world.take(conn),
            [ServerFrame::Welcome { waiting: 0 }],
            "{bad:?}"
        );
        assert_eq!(world.stored(), [("jaba".into(), "longtongue".into())]);
    }
}

#[test]
fn r6_the_longest_allowed_new_password_is_accepted() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let long = "x".repeat(PASSWORD_MAX);
    let conn = at_new_password_prompt(&mut hub, &mut world, "jaba", START);
    world.receive(&mut hub, conn, password(&long), START);
    assert_eq!(world.take(conn), [ServerFrame::Welcome { waiting: 0 }]);
    assert_eq!(world.stored(), [("jaba".into(), long)]);
}

#[test]
fn r6_a_bad_new_username_is_refused_and_asked_for_again() {
    // A name longer than NAME_MAX cannot be put in the frame at all.
    let cases = [
        (
            "",
            CredentialProblem::Empty,
            "Error. Username cannot be empty",
        ),
        (
            "jaba hutt",
            CredentialProblem::Space,
            "Error. Username cannot contain spaces",
        ),
        ("jaba\u{1b}[2J", CredentialProblem::BadCharacter, ""),
        ("jäba", CredentialProblem::BadCharacter, ""),
        ("ja\tba", CredentialProblem::BadCharacter, ""),
    ];
    for (bad, problem, text) in cases {
        let mut hub = hub_with_sample_accounts();
        let mut world = World::default();
        let conn = world.connect(&mut hub, START, PEER).unwrap();
        world.receive(&mut hub, conn, username(bad), START);
        let refusal = ServerFrame::BadUsername { problem };
        if !text.is_empty() {
            assert_eq!(refusal.to_string(), text);
        }
        assert_eq!(
            world.take(conn),
            [ask(Prompt::Username), refusal, ask(Prompt::Username)],
            "{bad:?}"
        );
        assert_eq!(hub.accounts(), SAMPLE_ACCOUNTS.len(), "{bad:?}");
        assert_at_username_prompt(&mut hub, &mut world, conn, START);
    }
}

#[test]
fn r6_a_new_name_that_differs_from_an_account_only_in_case_is_refused() {
    // Issue 27: `Yoda` could pass for yoda. Logins stay case-exact, so it
    // is neither yoda's password prompt nor a new account.
    for like in ["Yoda", "YODA", "yoDa"] {
        let mut hub = hub_with_sample_accounts();
        let mut world = World::default();
        let conn = world.connect(&mut hub, START, PEER).unwrap();
        world.receive(&mut hub, conn, username(like), START);
        let refusal = ServerFrame::UsernameTooLike {
            user: name(like),
            existing: name("yoda"),
        };
        assert_eq!(
            refusal.to_string(),
            format!("Error. {like} is too like the username yoda. Please choose another username")
        );
        assert_eq!(
            world.take(conn),
            [ask(Prompt::Username), refusal, ask(Prompt::Username)]
        );
        assert_eq!(hub.accounts(), SAMPLE_ACCOUNTS.len());
        // yoda's own name still logs in.
        world.receive(&mut hub, conn, username("yoda"), START);
        assert_eq!(world.take(conn), [ask(Prompt::Password)]);
    }
}

#[test]
fn accounts_in_the_file_that_differ_only_in_case_each_log_in_as_themselves() {
    // A file from before issue 27 may hold them: each is found exactly,
    // whatever order the index keeps them in.
    let mut hub = hub_with_sample_accounts();
    hub.add_account("Hans", "other*pass").unwrap();
    hub.add_account("HANS", "third*pass").unwrap();
    hub.add_account("hansa", "fourth*pass").unwrap();
    let mut world = World::default();
    for (user, pass) in [
        ("HANS", "third*pass"),
        ("hans", "falcon*solo"),
        ("hansa", "fourth*pass"),
        ("Hans", "other*pass"),
    ] {
        let conn = login(&mut hub, &mut world, user, pass, START);
        assert_eq!(hub.online_on(user), Some(conn), "{user}");
    }
}

#[test]
fn r6_two_new_names_that_differ_only_in_case_make_one_account() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let early = at_new_password_prompt(&mut hub, &mut world, "jaba", START);
    let late = at_new_password_prompt(&mut hub, &mut world, "Jaba", START);
    world.receive(&mut hub, late, password("longtongue"), START);
    assert_eq!(world.take(late), [ServerFrame::Welcome { waiting: 0 }]);
    world.receive(&mut hub, early, password("slimy"), START);
    let taken = ServerFrame::UsernameTaken { user: name("jaba") };
    assert_eq!(world.take(early), [taken, ask(Prompt::Username)]);
    assert_eq!(world.stored(), [("Jaba".into(), "longtongue".into())]);
}

#[test]
fn r6_the_longest_allowed_new_username_is_accepted() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let long = "j".repeat(NAME_MAX);
    let conn = at_new_password_prompt(&mut hub, &mut world, &long, START);
    world.receive(&mut hub, conn, password("longtongue"), START);
    assert_eq!(world.take(conn), [ServerFrame::Welcome { waiting: 0 }]);
    assert_eq!(world.stored(), [(long, "longtongue".into())]);
}

#[test]
fn r6_an_account_that_cannot_be_stored_is_not_created() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    world.fail_store = true;
    let conn = at_new_password_prompt(&mut hub, &mut world, "jaba", START);
    world.receive(&mut hub, conn, password("longtongue"), START);
    assert_eq!(
        world.take(conn),
        [ServerFrame::AccountNotSaved {}, ask(Prompt::Username)]
    );
    assert_eq!(
        ServerFrame::AccountNotSaved {}.to_string(),
        "Error. The server could not save the new account. Please try again later"
    );
    assert!(!world.is_closed(conn));
    assert_eq!(hub.accounts(), SAMPLE_ACCOUNTS.len());
    // jaba is still a new name, on the same connection, and can be made
    // once storage works again.
    world.fail_store = false;
    world.receive(&mut hub, conn, username("jaba"), START);
    assert_eq!(world.take(conn), [ask(Prompt::NewPassword)]);
    world.receive(&mut hub, conn, password("longtongue"), START);
    assert_eq!(world.take(conn), [ServerFrame::Welcome { waiting: 0 }]);
    assert_eq!(world.stored(), [("jaba".into(), "longtongue".into())]);
}

#[test]
fn r26_a_full_account_table_refuses_new_names_not_old_ones() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    for i in hub.accounts()..DEFAULT_ACCOUNTS {
        hub.add_account(&format!("clone{i}"), "pass").unwrap();
    }
    assert_eq!(hub.accounts(), DEFAULT_ACCOUNTS);
    let conn = world.connect(&mut hub, START, PEER).unwrap();
    world.receive(&mut hub, conn, username("jaba"), START);
    assert_eq!(
        world.take(conn),
        [
            ask(Prompt::Username),
            ServerFrame::AccountsFull { most: 32 },
            ask(Prompt::Username)
        ]
    );
    assert_eq!(
        ServerFrame::AccountsFull { most: 32 }.to_string(),
        format!(
            "Error. No room for new accounts (at most {DEFAULT_ACCOUNTS}). Please log in with an existing account"
        )
    );
    assert_eq!(world.stored(), []);
    // Existing accounts, old and new, still log in.
    world.receive(&mut hub, conn, username("clone31"), START);
    world.receive(&mut hub, conn, password("pass"), START);
    assert_eq!(
        world.take(conn),
        [ask(Prompt::Password), ServerFrame::Welcome { waiting: 0 }]
    );
    login_sample(&mut hub, &mut world, "yoda", START);
}

#[test]
fn r26_the_last_free_account_goes_to_whoever_sends_a_password_first() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    for i in hub.accounts()..DEFAULT_ACCOUNTS - 1 {
        hub.add_account(&format!("clone{i}"), "pass").unwrap();
    }
    let anakin = at_new_password_prompt(&mut hub, &mut world, "anakin", START);
    let padme = at_new_password_prompt(&mut hub, &mut world, "padme", START);
    world.receive(&mut hub, padme, password("naboo"), START);
    assert_eq!(world.take(padme), [ServerFrame::Welcome { waiting: 0 }]);
    world.receive(&mut hub, anakin, password("tatooine"), START);
    assert_eq!(
        world.take(anakin),
        [
            ServerFrame::AccountsFull { most: 32 },
            ask(Prompt::Username)
        ]
    );
    assert_eq!(world.stored(), [("padme".into(), "naboo".into())]);
    assert_eq!(hub.accounts(), DEFAULT_ACCOUNTS);
    assert!(!world.is_closed(anakin));
    assert_at_username_prompt(&mut hub, &mut world, anakin, START);
}

#[test]
fn r6_two_connections_choosing_the_same_new_name_second_is_told_it_is_taken() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let early = at_new_password_prompt(&mut hub, &mut world, "jaba", START);
    let late = at_new_password_prompt(&mut hub, &mut world, "jaba", START);
    // The later one to choose a name is the first to send a password.
    world.receive(&mut hub, late, password("longtongue"), START);
    assert_eq!(world.take(late), [ServerFrame::Welcome { waiting: 0 }]);
    world.receive(&mut hub, early, password("slimy"), START);
    let taken = ServerFrame::UsernameTaken { user: name("jaba") };
    assert_eq!(
        taken.to_string(),
        "Error. jaba was just taken by someone else. Please choose another username"
    );
    assert_eq!(world.take(early), [taken, ask(Prompt::Username)]);
    assert_eq!(world.stored(), [("jaba".into(), "longtongue".into())]);
    assert_eq!(hub.accounts(), SAMPLE_ACCOUNTS.len() + 1);
    // jaba is now online, so a second login is refused (R7).
    world.receive(&mut hub, early, username("jaba"), START);
    assert_eq!(
        world.take(early),
        [
            ServerFrame::AlreadyLoggedIn { user: name("jaba") },
            ask(Prompt::Username)
        ]
    );
}

// ---------------------------------------------------------------------------
// Already logged in: R7.

#[test]
fn r7_a_user_already_online_cannot_log_in_again() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let first = login_sample(&mut hub, &mut world, "yoda", START);
    let second = world.connect(&mut hub, START, PEER).unwrap();
    world.receive(&mut hub, second, username("yoda"), START);
    assert_eq!(
        world.take_text(second),
        [
            "Username: ",
            "Error. yoda is already logged in",
            "Username: "
        ]
    );
    // The first session noticed nothing and is still yoda's.
    assert_eq!(world.take(first), []);
    assert_eq!(world.closed(), []);
    world.receive(&mut hub, second, username("luke"), START);
    world.receive(&mut hub, second, password("light==saber"), START);
    assert_eq!(
        world.take(second),
        [ask(Prompt::Password), ServerFrame::Welcome { waiting: 0 }]
    );
    assert_eq!(world.take(first), [logged_in("luke")]);
}

#[test]
fn r7_both_at_the_password_prompt_the_first_to_answer_wins() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let first = at_password_prompt(&mut hub, &mut world, "yoda", START);
    let second = at_password_prompt(&mut hub, &mut world, "yoda", START);
    world.receive(&mut hub, first, password("wise@!man"), START);
    assert_eq!(world.take(first), [ServerFrame::Welcome { waiting: 0 }]);
    world.receive(&mut hub, second, password("wise@!man"), START);
    assert_eq!(
        world.take(second),
        [
            ServerFrame::AlreadyLoggedIn { user: name("yoda") },
            ask(Prompt::Username)
        ]
    );
    assert_eq!(world.take(first), []);
    assert_eq!(world.closed(), []);
    // Back at the username prompt: a password is out of place now.
    world.receive(&mut hub, second, password("wise@!man"), START);
    assert_eq!(world.take(second), [error(FrameError::Unexpected)]);
    world.receive(&mut hub, second, username("luke"), START);
    world.receive(&mut hub, second, password("light==saber"), START);
    assert_eq!(
        world.take(second),
        [ask(Prompt::Password), ServerFrame::Welcome { waiting: 0 }]
    );
    assert_eq!(world.take(first), [logged_in("luke")]);
}

// ---------------------------------------------------------------------------
// Timeout: R9.

#[test]
fn r9_poll_timeout_is_the_earliest_deadline() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    assert_eq!(hub.poll_timeout(), None);
    let a = world.connect(&mut hub, START, PEER).unwrap();
    assert_eq!(hub.poll_timeout(), Some(ms(START, TIMEOUT_MS)));
    let b = world.connect(&mut hub, ms(START, 5_000), PEER).unwrap();
    assert_eq!(hub.poll_timeout(), Some(ms(START, TIMEOUT_MS)));
    world.disconnect(&mut hub, a, START);
    assert_eq!(hub.poll_timeout(), Some(ms(START, 5_000 + TIMEOUT_MS)));
    world.disconnect(&mut hub, b, START);
    assert_eq!(hub.poll_timeout(), None);
}

#[test]
fn r9_r11_an_idle_user_is_logged_out_at_the_deadline_and_others_told() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let yoda = login_sample(&mut hub, &mut world, "yoda", START);
    let luke = login_sample(&mut hub, &mut world, "luke", ms(START, 10_000));
    assert_eq!(world.take(yoda), [logged_in("luke")]);
    let deadline = ms(START, TIMEOUT_MS);
    assert_eq!(hub.poll_timeout(), Some(deadline));

    // Early calls do nothing at all.
    for early in [START, ms(START, TIMEOUT_MS / 2), ms(START, TIMEOUT_MS - 1)] {
        world.handle_timeout(&mut hub, early);
        assert_eq!(world.len(), 0, "{early:?}");
    }
    world.handle_timeout(&mut hub, deadline);
    assert_eq!(
        world.take_text(yoda),
        ["You have been logged out due to inactivity"]
    );
    assert_eq!(world.take_text(luke), ["yoda logged out"]);
    assert_eq!(world.events, [Event::Closed(yoda)]);
    assert_eq!(hub.poll_timeout(), Some(ms(START, 10_000 + TIMEOUT_MS)));
    // yoda is offline: he can log in again.
    login_sample(&mut hub, &mut world, "yoda", deadline);
    assert_eq!(world.take(luke), [logged_in("yoda")]);
}

/// The sample accounts on a hub that warns, as the server's does (and
/// gives the login prompts more than the idle timeout).
fn warning_hub() -> Hub {
    let mut hub = Hub::new(Config {
        login_ms: 2 * TIMEOUT_MS,
        ..Config::new(BLOCK_MS, TIMEOUT_MS)
    });
    for (name, password) in SAMPLE_ACCOUNTS {
        hub.add_account(name, password).unwrap();
    }
    hub
}

#[test]
fn r9_the_warning_comes_ten_seconds_or_a_tenth_of_the_timeout_before() {
    assert_eq!(Config::new(BLOCK_MS, 300_000).warning_ms, 10_000);
    assert_eq!(Config::new(BLOCK_MS, 120_000).warning_ms, 10_000);
    assert_eq!(Config::new(BLOCK_MS, 30_000).warning_ms, 3_000);
    assert_eq!(Config::new(BLOCK_MS, 5).warning_ms, 0, "too short to warn");
}

#[test]
fn r9_an_idle_user_is_warned_once_before_the_logout_and_only_them() {
    let mut hub = warning_hub();
    let mut world = World::default();
    let yoda = login_sample(&mut hub, &mut world, "yoda", START);
    let luke = login_sample(&mut hub, &mut world, "luke", ms(START, 10_000));
    world.take(yoda);
    let deadline = ms(START, TIMEOUT_MS);
    let warning = ms(START, TIMEOUT_MS - 10_000);
    assert_eq!(hub.poll_timeout(), Some(warning));
    world.handle_timeout(&mut hub, ms(START, TIMEOUT_MS - 10_001));
    assert_eq!(world.len(), 0);
    world.handle_timeout(&mut hub, warning);
    assert_eq!(
        world.take_text(yoda),
        ["You will be logged out due to inactivity in 10 seconds unless you enter a command"]
    );
    assert_eq!(
        world.len(),
        0,
        "nobody else hears of it: {:?}",
        world.events
    );
    // Once: the next wake-up is the logout itself, then luke's warning.
    assert_eq!(hub.poll_timeout(), Some(deadline));
    world.handle_timeout(&mut hub, ms(START, TIMEOUT_MS - 1));
    assert_eq!(world.len(), 0);
    world.handle_timeout(&mut hub, deadline);
    assert_eq!(
        world.take_text(yoda),
        ["You have been logged out due to inactivity"]
    );
    // luke, who logged in 10 s later, is warned at that moment.
    assert_eq!(
        world.take(luke),
        [logged_out("yoda"), ServerFrame::IdleWarning { seconds: 10 }]
    );
    assert_eq!(hub.poll_timeout(), Some(ms(deadline, 10_000)));
}

#[test]
fn r9_a_late_warning_says_how_long_is_left_and_a_command_starts_afresh() {
    let mut hub = warning_hub();
    let mut world = World::default();
    let yoda = login_sample(&mut hub, &mut world, "yoda", START);
    // The server woke late: 2.5 s are left, shown as 3 (rounded up).
    world.handle_timeout(&mut hub, ms(START, TIMEOUT_MS - 2_500));
    assert_eq!(world.take(yoda), [ServerFrame::IdleWarning { seconds: 3 }]);
    // A command: the deadline moves, and the next warning is before it.
    let now = ms(START, TIMEOUT_MS - 1_000);
    world.receive(&mut hub, yoda, ClientFrame::WhoElse {}, now);
    world.take(yoda);
    assert_eq!(hub.poll_timeout(), Some(ms(now, TIMEOUT_MS - 10_000)));
    world.handle_timeout(&mut hub, ms(now, TIMEOUT_MS - 10_000));
    assert_eq!(world.take(yoda), [ServerFrame::IdleWarning { seconds: 10 }]);
    assert!(!world.is_closed(yoda));
}

#[test]
fn r9_nobody_at_the_login_prompts_is_warned() {
    let mut hub = warning_hub();
    let mut world = World::default();
    let conn = world.connect(&mut hub, START, PEER).unwrap();
    world.take(conn);
    assert_eq!(hub.poll_timeout(), Some(ms(START, TIMEOUT_MS)));
    world.handle_timeout(&mut hub, ms(START, TIMEOUT_MS));
    assert_eq!(world.take_text(conn), ["Login timed out due to inactivity"]);
}

#[test]
fn r9_several_deadlines_passed_at_once_all_end() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let yoda = login_sample(&mut hub, &mut world, "yoda", ms(START, 1));
    let luke = login_sample(&mut hub, &mut world, "luke", ms(START, TIMEOUT_MS));
    let waiting = world.connect(&mut hub, ms(START, 2), PEER).unwrap();
    world.take(hans);
    world.take(yoda);
    world.take(waiting);
    world.take(luke);
    // A late wake-up: hans, yoda and the login prompt have all expired.
    world.handle_timeout(&mut hub, ms(START, TIMEOUT_MS + 10));
    // Whichever of hans and yoda goes first, the other may hear of it
    // before his own goodbye; each goodbye comes last.
    for (conn, other) in [(hans, "yoda"), (yoda, "hans")] {
        let frames = world.take(conn);
        let (last, before) = frames.split_last().unwrap();
        assert_eq!(last, &bye(ByeReason::TimedOut));
        assert!(before.iter().all(|f| *f == logged_out(other)), "{frames:?}");
        assert!(before.len() <= 1, "{frames:?}");
    }
    assert_eq!(world.take(waiting), [bye(ByeReason::LoginTimedOut)]);
    let mut told = world.take(luke);
    told.sort_by_key(ToString::to_string);
    assert_eq!(told, [logged_out("hans"), logged_out("yoda")]);
    let mut closed = world.closed();
    closed.sort();
    let mut expected = vec![hans, yoda, waiting];
    expected.sort();
    assert_eq!(closed, expected);
    assert_eq!(hub.poll_timeout(), Some(ms(START, 2 * TIMEOUT_MS)));
}

#[test]
fn r9_nothing_typed_at_the_login_prompts_times_out() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", ms(START, 60_000));
    let mut cases = Vec::new();
    let fresh = world.connect(&mut hub, START, PEER).unwrap();
    cases.push(("username prompt", fresh));
    cases.push((
        "password prompt",
        at_password_prompt(&mut hub, &mut world, "yoda", START),
    ));
    cases.push((
        "new password prompt",
        at_new_password_prompt(&mut hub, &mut world, "jaba", START),
    ));
    world.take(fresh);
    world.handle_timeout(&mut hub, ms(START, TIMEOUT_MS - 1));
    assert_eq!(world.len(), 0);
    world.handle_timeout(&mut hub, ms(START, TIMEOUT_MS));
    for (what, conn) in cases {
        assert_eq!(
            world.take_text(conn),
            ["Login timed out due to inactivity"],
            "{what}"
        );
        assert!(world.is_closed(conn), "{what}");
    }
    // Nobody was online on those connections: nobody is told.
    assert_eq!(world.take(hans), []);
    assert!(!world.is_closed(hans));
    assert_eq!(world.stored(), []);
    assert_eq!(hub.poll_timeout(), Some(ms(START, 60_000 + TIMEOUT_MS)));
}

#[test]
fn r9_logging_in_starts_the_idle_clock_afresh() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let conn = world.connect(&mut hub, START, PEER).unwrap();
    world.receive(&mut hub, conn, username("yoda"), ms(START, 10_000));
    let login = ms(START, 20_000);
    world.receive(&mut hub, conn, password("wise@!man"), login);
    assert_eq!(hub.poll_timeout(), Some(ms(login, TIMEOUT_MS)));
    world.handle_timeout(&mut hub, ms(login, TIMEOUT_MS - 1));
    assert!(!world.is_closed(conn));
    world.handle_timeout(&mut hub, ms(login, TIMEOUT_MS));
    assert_eq!(
        world.take(conn),
        [
            ask(Prompt::Username),
            ask(Prompt::Password),
            ServerFrame::Welcome { waiting: 0 },
            bye(ByeReason::TimedOut)
        ]
    );
}

#[test]
fn r9_each_valid_frame_pushes_the_deadline() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let conn = world.connect(&mut hub, START, PEER).unwrap();
    // (ms after START, frame) at the login prompts, each one accepted.
    let steps = [
        (100_000, username("yoda")),
        (200_000, password("weird")),
        (300_000, password("green")),
    ];
    for (at, frame) in steps {
        let now = ms(START, at);
        // The previous frame kept the connection alive until now.
        world.handle_timeout(&mut hub, now);
        assert!(!world.is_closed(conn), "closed before {frame:?}");
        world.receive(&mut hub, conn, frame.clone(), now);
        assert_eq!(
            hub.poll_timeout(),
            Some(ms(now, TIMEOUT_MS)),
            "after {frame:?}"
        );
    }
    let last = ms(START, 300_000);
    world.handle_timeout(&mut hub, ms(last, TIMEOUT_MS - 1));
    assert!(!world.is_closed(conn));
    world.handle_timeout(&mut hub, ms(last, TIMEOUT_MS));
    assert_eq!(
        world.take(conn).last(),
        Some(&bye(ByeReason::LoginTimedOut))
    );
    assert!(world.is_closed(conn));
}

#[test]
fn r9_bad_or_out_of_place_frames_are_not_activity() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", ms(START, 60_000));
    let yoda = login_sample(&mut hub, &mut world, "yoda", START);
    world.take(hans);
    let fresh = world.connect(&mut hub, START, PEER).unwrap();
    world.take(fresh);
    let deadline = ms(START, TIMEOUT_MS);
    let later = ms(START, 90_000);
    world.reject(&mut hub, yoda, FrameError::Malformed, START);
    world.reject(&mut hub, yoda, FrameError::TooLong, START);
    world.receive(&mut hub, yoda, username("luke"), later);
    world.receive(&mut hub, yoda, password("wise@!man"), later);
    world.reject(&mut hub, fresh, FrameError::Malformed, START);
    world.receive(&mut hub, fresh, password("wise@!man"), later);
    assert_eq!(
        world.take(yoda),
        [
            error(FrameError::Malformed),
            error(FrameError::TooLong),
            error(FrameError::Unexpected),
            error(FrameError::Unexpected),
        ]
    );
    assert_eq!(
        world.take(fresh),
        [error(FrameError::Malformed), error(FrameError::Unexpected)]
    );
    assert_eq!(hub.poll_timeout(), Some(deadline));
    world.handle_timeout(&mut hub, deadline);
    assert_eq!(world.take(yoda), [bye(ByeReason::TimedOut)]);
    assert_eq!(world.take(fresh), [bye(ByeReason::LoginTimedOut)]);
    assert_eq!(world.take(hans), [logged_out("yoda")]);
}

// ---------------------------------------------------------------------------
// Presence and logout: R11, R18.

#[test]
fn r11_a_login_is_announced_to_every_other_online_user_only() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let yoda = login_sample(&mut hub, &mut world, "yoda", START);
    assert_eq!(world.take_text(hans), ["yoda logged in"]);
    // Connections that are still logging in hear nothing.
    let fresh = world.connect(&mut hub, START, PEER).unwrap();
    let typing = at_password_prompt(&mut hub, &mut world, "vader", START);
    let choosing = at_new_password_prompt(&mut hub, &mut world, "jaba", START);
    world.take(fresh);

    let luke = login_sample(&mut hub, &mut world, "luke", START);
    assert_eq!(world.take(hans), [logged_in("luke")]);
    assert_eq!(world.take(yoda), [logged_in("luke")]);
    for conn in [luke, fresh, typing, choosing] {
        assert_eq!(world.take(conn), [], "{conn:?}");
    }
    assert_eq!(world.len(), 0, "{:?}", world.events);
}

#[test]
fn r18_s6_logout_says_bye_closes_and_tells_the_others() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let yoda = login_sample(&mut hub, &mut world, "yoda", START);
    let luke = login_sample(&mut hub, &mut world, "luke", START);
    world.take(hans);
    world.take(yoda);
    world.receive(&mut hub, yoda, ClientFrame::Logout {}, ms(START, 5_000));
    assert_eq!(world.take(yoda), [bye(ByeReason::LoggedOut)]);
    assert_eq!(bye(ByeReason::LoggedOut).to_string(), "");
    assert_eq!(world.take_text(hans), ["yoda logged out"]);
    assert_eq!(world.take_text(luke), ["yoda logged out"]);
    assert_eq!(world.events, [Event::Closed(yoda)]);
    // Forgotten, and free to come back.
    world.receive(&mut hub, yoda, ClientFrame::Logout {}, START);
    assert_eq!(world.events, [Event::Closed(yoda)]);
    login_sample(&mut hub, &mut world, "yoda", ms(START, 6_000));
    assert_eq!(world.take(hans), [logged_in("yoda")]);
    assert_eq!(world.take(luke), [logged_in("yoda")]);
}

#[test]
fn r18_logout_at_the_login_prompts_just_closes() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let fresh = world.connect(&mut hub, START, PEER).unwrap();
    world.take(fresh);
    let cases = [
        ("username prompt", fresh),
        (
            "password prompt",
            at_password_prompt(&mut hub, &mut world, "yoda", START),
        ),
        (
            "new password prompt",
            at_new_password_prompt(&mut hub, &mut world, "jaba", START),
        ),
    ];
    for (what, conn) in cases {
        world.receive(&mut hub, conn, ClientFrame::Logout {}, START);
        assert_eq!(world.take(conn), [bye(ByeReason::LoggedOut)], "{what}");
        assert!(world.is_closed(conn), "{what}");
    }
    assert_eq!(world.take(hans), []);
    assert_eq!(world.stored(), []);
    // yoda never logged in: he still can.
    login_sample(&mut hub, &mut world, "yoda", START);
}

#[test]
fn r11_a_dropped_connection_logs_its_user_out() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let yoda = login_sample(&mut hub, &mut world, "yoda", START);
    world.take(hans);
    world.disconnect(&mut hub, yoda, START);
    // The connection is gone: nothing is sent to it.
    assert_eq!(world.take(yoda), []);
    assert_eq!(world.take(hans), [logged_out("yoda")]);
    assert_eq!(world.len(), 0, "{:?}", world.events);
    assert_eq!(hub.poll_timeout(), Some(ms(START, TIMEOUT_MS)));
    // A second disconnect is ignored.
    world.disconnect(&mut hub, yoda, START);
    assert_eq!(world.len(), 0);
    login_sample(&mut hub, &mut world, "yoda", START);
    assert_eq!(world.take(hans), [logged_in("yoda")]);
}

#[test]
fn r11_a_connection_dropped_at_the_login_prompts_tells_nobody() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let typing = at_password_prompt(&mut hub, &mut world, "yoda", START);
    world.disconnect(&mut hub, typing, START);
    assert_eq!(world.len(), 0, "{:?}", world.events);
    assert_eq!(hub.poll_timeout(), Some(ms(START, TIMEOUT_MS)));
    login_sample(&mut hub, &mut world, "yoda", START);
    assert_eq!(world.take(hans), [logged_in("yoda")]);
}

// ---------------------------------------------------------------------------
// Protocol errors: R25.

#[test]
fn r25_out_of_place_frames_are_unexpected_and_change_nothing() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let fresh = world.connect(&mut hub, START, PEER).unwrap();
    world.take(fresh);
    let typing = at_password_prompt(&mut hub, &mut world, "vader", START);
    let choosing = at_new_password_prompt(&mut hub, &mut world, "jaba", START);
    let online = login_sample(&mut hub, &mut world, "yoda", START);
    let cases = [
        ("password before a username", fresh, password("wise@!man")),
        ("username at the password prompt", typing, username("luke")),
        (
            "username at the new password prompt",
            choosing,
            username("luke"),
        ),
        ("username while online", online, username("luke")),
        ("password while online", online, password("wise@!man")),
    ];
    for (what, conn, frame) in cases {
        world.receive(&mut hub, conn, frame, START);
        assert_eq!(world.take(conn), [error(FrameError::Unexpected)], "{what}");
        assert_eq!(world.len(), 0, "{what}: {:?}", world.events);
    }
    assert_eq!(
        error(FrameError::Unexpected).to_string(),
        "Error. Unexpected request"
    );
    // Every connection is where it was.
    assert_at_username_prompt(&mut hub, &mut world, fresh, START);
    world.receive(&mut hub, typing, password("sithlord**"), START);
    assert_eq!(world.take(typing), [ServerFrame::Welcome { waiting: 0 }]);
    world.receive(&mut hub, choosing, password("longtongue"), START);
    assert_eq!(world.take(choosing), [ServerFrame::Welcome { waiting: 0 }]);
    assert_eq!(world.stored(), [("jaba".into(), "longtongue".into())]);
    assert_eq!(world.take(online), [logged_in("vader"), logged_in("jaba")]);
}

#[test]
fn r25_reject_answers_with_the_error() {
    let cases = [
        (FrameError::TooLong, "Error. Request too long"),
        (FrameError::Malformed, "Error. Malformed request"),
        (FrameError::Unexpected, "Error. Unexpected request"),
    ];
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let fresh = world.connect(&mut hub, START, PEER).unwrap();
    world.take(fresh);
    let online = login_sample(&mut hub, &mut world, "yoda", START);
    for conn in [fresh, online] {
        for (err, text) in cases {
            world.reject(&mut hub, conn, err, START);
            assert_eq!(world.take_text(conn), [text]);
        }
    }
    assert_eq!(world.len(), 0, "{:?}", world.events);
    assert_at_username_prompt(&mut hub, &mut world, fresh, START);
}

#[test]
fn r25_a_flood_of_bad_frames_closes_the_connection() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let yoda = login_sample(&mut hub, &mut world, "yoda", START);
    world.take(hans);
    for i in 1..MAX_BAD_FRAMES {
        world.reject(&mut hub, yoda, FrameError::Malformed, START);
        assert_eq!(world.take(yoda), [error(FrameError::Malformed)], "{i}");
        assert!(!world.is_closed(yoda), "{i}");
    }
    world.reject(&mut hub, yoda, FrameError::Malformed, START);
    assert_eq!(
        world.take_text(yoda),
        ["Error. Too many invalid requests; disconnected"]
    );
    assert!(world.is_closed(yoda));
    assert_eq!(world.take(hans), [logged_out("yoda")]);
    // Gone: further frames are ignored.
    world.reject(&mut hub, yoda, FrameError::Malformed, START);
    world.receive(&mut hub, yoda, ClientFrame::Logout {}, START);
    assert_eq!(world.events, [Event::Closed(yoda)]);
}

#[test]
fn r25_out_of_place_frames_count_towards_the_flood() {
    // (what, the bad frame): each kind, and a mix, closes after MAX_BAD_FRAMES.
    type Bad = fn(&mut Hub, ConnId, usize, &mut World);
    let unexpected: Bad = |hub, conn, _, world| world.receive(hub, conn, password("x"), START);
    let mixed: Bad = |hub, conn, i, world| {
        if i % 2 == 0 {
            world.receive(hub, conn, password("x"), START)
        } else {
            world.reject(hub, conn, FrameError::TooLong, START)
        }
    };
    for (what, bad) in [("unexpected", unexpected), ("mixed", mixed)] {
        let mut hub = hub_with_sample_accounts();
        let mut world = World::default();
        let conn = world.connect(&mut hub, START, PEER).unwrap();
        world.take(conn);
        for i in 0..usize::from(MAX_BAD_FRAMES) {
            assert!(!world.is_closed(conn), "{what}: closed after {i}");
            bad(&mut hub, conn, i, &mut world);
        }
        assert!(world.is_closed(conn), "{what}");
        assert_eq!(
            world.take(conn).last(),
            Some(&bye(ByeReason::TooManyErrors)),
            "{what}"
        );
    }
}

#[test]
fn r25_a_good_frame_resets_the_bad_frame_count() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let conn = world.connect(&mut hub, START, PEER).unwrap();
    world.take(conn);
    let almost = usize::from(MAX_BAD_FRAMES) - 1;
    for _ in 0..almost {
        world.reject(&mut hub, conn, FrameError::Malformed, START);
    }
    world.receive(&mut hub, conn, username("yoda"), START);
    for _ in 0..almost {
        world.reject(&mut hub, conn, FrameError::Malformed, START);
    }
    // A wrong password is a good frame too.
    world.receive(&mut hub, conn, password("weird"), START);
    for _ in 0..almost {
        world.reject(&mut hub, conn, FrameError::Malformed, START);
    }
    let mut expected = vec![error(FrameError::Malformed); almost];
    expected.push(ask(Prompt::Password));
    expected.extend(vec![error(FrameError::Malformed); almost]);
    expected.extend([ServerFrame::WrongPassword {}, ask(Prompt::Password)]);
    expected.extend(vec![error(FrameError::Malformed); almost]);
    assert_eq!(world.take(conn), expected);
    assert!(!world.is_closed(conn));
    world.reject(&mut hub, conn, FrameError::Malformed, START);
    assert_eq!(world.take(conn), [bye(ByeReason::TooManyErrors)]);
    assert!(world.is_closed(conn));
}

// ---------------------------------------------------------------------------
// Capacity: R26.

#[test]
fn r26_when_every_slot_is_online_a_newcomer_is_refused_until_one_leaves() {
    let config = crate::testing::test_config(BLOCK_MS, TIMEOUT_MS);
    let mut hub = Hub::with_capacity(config, crate::Capacity::new(16, 3)).unwrap();
    for (name, password) in SAMPLE_ACCOUNTS {
        hub.add_account(name, password).unwrap();
    }
    let mut world = World::default();
    let online: Vec<ConnId> = ["hans", "yoda", "luke"]
        .iter()
        .map(|user| login_sample(&mut hub, &mut world, user, START))
        .collect();
    assert_eq!(
        world.connect(&mut hub, START, PEER),
        Err(ByeReason::ServerFull)
    );
    assert!(world.closed().is_empty(), "nobody made room");
    world.receive(&mut hub, online[1], ClientFrame::Logout {}, START);
    let again = world.connect(&mut hub, START, PEER).unwrap();
    assert!(!online.contains(&again));
    assert_eq!(world.take(again), [ask(Prompt::Username)]);
}

#[test]
fn r26_when_every_slot_is_taken_the_oldest_at_the_prompts_makes_room() {
    // Issue 27: squatters at the prompts cannot hold the door. Here all
    // come from one address, the newcomer's: its oldest makes room, told
    // why (R26: never a silent drop).
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let conns: Vec<ConnId> = (0..DEFAULT_CONNECTIONS)
        .map(|_| world.connect(&mut hub, START, PEER).unwrap())
        .collect();
    for (i, conn) in conns.iter().enumerate() {
        assert!(conn.slot() < DEFAULT_CONNECTIONS);
        assert!(!conns[..i].contains(conn), "{conn:?} handed out twice");
        assert_eq!(world.take(*conn), [ask(Prompt::Username)]);
    }
    let newcomer = world.connect(&mut hub, ms(START, 1), PEER).unwrap();
    assert_eq!(world.take(newcomer), [ask(Prompt::Username)]);
    assert_eq!(newcomer.slot(), conns[0].slot());
    assert_eq!(world.take(conns[0]), [bye(ByeReason::ServerFull)]);
    assert_eq!(
        bye(ByeReason::ServerFull).to_string(),
        "Error. The server is full. Please try again later"
    );
    assert_eq!(world.closed(), [conns[0]]);
    // The next makes room too: the oldest left, not the newcomer.
    world.connect(&mut hub, ms(START, 2), PEER).unwrap();
    assert_eq!(world.closed(), [conns[0], conns[1]]);
    assert!(!world.is_closed(newcomer));
}

#[test]
fn r26_a_stale_connection_id_is_ignored() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let old = world.connect(&mut hub, START, PEER).unwrap();
    world.disconnect(&mut hub, old, START);
    let yoda = login_sample(&mut hub, &mut world, "yoda", START);
    assert_eq!(yoda.slot(), old.slot(), "the slot is reused");
    assert_ne!(yoda, old);
    world.take(old);
    world.take(hans);

    world.receive(&mut hub, old, ClientFrame::Logout {}, START);
    world.receive(&mut hub, old, username("luke"), START);
    world.reject(&mut hub, old, FrameError::Malformed, START);
    world.disconnect(&mut hub, old, START);
    assert_eq!(world.len(), 0, "{:?}", world.events);
    // yoda, on the reused slot, is untouched and still online.
    let other = world.connect(&mut hub, START, PEER).unwrap();
    world.receive(&mut hub, other, username("yoda"), START);
    assert_eq!(
        world.take(other),
        [
            ask(Prompt::Username),
            ServerFrame::AlreadyLoggedIn { user: name("yoda") },
            ask(Prompt::Username)
        ]
    );
    assert_eq!(hub.poll_timeout(), Some(ms(START, TIMEOUT_MS)));
}

// ---------------------------------------------------------------------------
// Slow clients: a full queue (R26, R27).

#[test]
fn a_client_with_a_full_queue_is_closed_and_logged_out() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let yoda = login_sample(&mut hub, &mut world, "yoda", START);
    let luke = login_sample(&mut hub, &mut world, "luke", START);
    world.take(hans);
    world.take(yoda);
    clog(&mut hub, &mut world, luke);
    world.receive(&mut hub, yoda, ClientFrame::Logout {}, START);
    assert_eq!(world.take(yoda), [bye(ByeReason::LoggedOut)]);
    assert_eq!(world.take(hans), [logged_out("yoda"), logged_out("luke")]);
    assert_eq!(world.take(luke), []);
    assert_eq!(world.closed(), [yoda, luke]);
    assert_eq!(hub.poll_timeout(), Some(ms(START, TIMEOUT_MS)));
    // luke is offline: he can come back on a new connection.
    login_sample(&mut hub, &mut world, "luke", START);
    assert_eq!(world.take(hans), [logged_in("luke")]);
}

#[test]
fn a_full_queue_at_the_login_prompts_closes_quietly() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let conn = world.connect(&mut hub, START, PEER).unwrap();
    world.take(conn);
    clog(&mut hub, &mut world, conn);
    world.receive(&mut hub, conn, username("yoda"), START);
    assert_eq!(world.events, [Event::Closed(conn)]);
    assert_eq!(world.take(hans), []);
    assert_eq!(hub.poll_timeout(), Some(ms(START, TIMEOUT_MS)));
}

#[test]
fn a_full_queue_at_the_welcome_never_announces_the_user() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let yoda = at_password_prompt(&mut hub, &mut world, "yoda", START);
    clog(&mut hub, &mut world, yoda);
    world.receive(&mut hub, yoda, password("wise@!man"), START);
    assert_eq!(world.events, [Event::Closed(yoda)]);
    // hans never hears of a yoda who never got in.
    assert_eq!(world.take(hans), []);
    login_sample(&mut hub, &mut world, "yoda", START);
    assert_eq!(world.take(hans), [logged_in("yoda")]);
}

#[test]
fn a_full_queue_at_a_goodbye_still_closes_once() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let yoda = login_sample(&mut hub, &mut world, "yoda", START);
    let luke = login_sample(&mut hub, &mut world, "luke", ms(START, 5_000));
    let hans = login_sample(&mut hub, &mut world, "hans", ms(START, 10_000));
    world.take(yoda);
    world.take(luke);
    // yoda times out and then luke logs out; neither queue takes the Bye.
    clog(&mut hub, &mut world, yoda);
    world.handle_timeout(&mut hub, ms(START, TIMEOUT_MS));
    assert_eq!(world.take(hans), [logged_out("yoda")]);
    assert_eq!(world.take(luke), [logged_out("yoda")]);
    assert_eq!(world.events, [Event::Closed(yoda)]);
    clog(&mut hub, &mut world, luke);
    world.receive(
        &mut hub,
        luke,
        ClientFrame::Logout {},
        ms(START, TIMEOUT_MS),
    );
    assert_eq!(world.take(hans), [logged_out("luke")]);
    assert_eq!(world.events, [Event::Closed(yoda), Event::Closed(luke)]);
    assert_eq!(hub.poll_timeout(), Some(ms(START, 10_000 + TIMEOUT_MS)));
}

// ---------------------------------------------------------------------------
// Shutdown.

#[test]
fn shutdown_says_goodbye_to_everyone_and_closes_everything() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let yoda = login_sample(&mut hub, &mut world, "yoda", START);
    world.take(hans);
    let fresh = world.connect(&mut hub, START, PEER).unwrap();
    world.take(fresh);
    let typing = at_password_prompt(&mut hub, &mut world, "luke", START);
    let all = [hans, yoda, fresh, typing];
    world.shutdown(&mut hub);
    for conn in all {
        assert_eq!(
            world.take_text(conn),
            ["The server is shutting down"],
            "{conn:?}"
        );
    }
    let mut closed = world.closed();
    closed.sort();
    let mut expected = all.to_vec();
    expected.sort();
    assert_eq!(closed, expected);
    assert_eq!(world.len(), all.len(), "only the closes are left");
    assert_eq!(hub.poll_timeout(), None);
    // Every user is offline: a new connection could log in as yoda.
    login_sample(&mut hub, &mut world, "yoda", START);
}

#[test]
fn shutdown_with_a_full_queue_closes_each_connection_once() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let yoda = login_sample(&mut hub, &mut world, "yoda", START);
    let luke = login_sample(&mut hub, &mut world, "luke", START);
    world.take(hans);
    world.take(yoda);
    clog(&mut hub, &mut world, hans);
    world.shutdown(&mut hub);
    // Nobody is told anyone logged out: everyone is leaving.
    assert_eq!(world.take(yoda), [bye(ByeReason::ShuttingDown)]);
    assert_eq!(world.take(luke), [bye(ByeReason::ShuttingDown)]);
    let mut closed = world.closed();
    closed.sort();
    let mut expected = vec![hans, yoda, luke];
    expected.sort();
    assert_eq!(closed, expected);
    assert_eq!(world.len(), 3);
    assert_eq!(hub.poll_timeout(), None);
}

// ---------------------------------------------------------------------------
// Accounts from credentials.txt (R3).

#[test]
fn r3_add_account_refuses_what_cannot_be_an_account() {
    let long_name = "n".repeat(NAME_MAX + 1);
    let long_password = "p".repeat(PASSWORD_MAX + 1);
    let cases = [
        ("yoda", "other", AddAccountError::Duplicate),
        (
            "",
            "pass",
            AddAccountError::BadName(CredentialProblem::Empty),
        ),
        (
            "jaba hutt",
            "pass",
            AddAccountError::BadName(CredentialProblem::Space),
        ),
        (
            "jäba",
            "pass",
            AddAccountError::BadName(CredentialProblem::BadCharacter),
        ),
        (
            &long_name,
            "pass",
            AddAccountError::BadName(CredentialProblem::TooLong),
        ),
        (
            "jaba",
            "",
            AddAccountError::BadPassword(CredentialProblem::Empty),
        ),
        (
            "jaba",
            "long tongue",
            AddAccountError::BadPassword(CredentialProblem::Space),
        ),
        (
            "jaba",
            "tongue\r",
            AddAccountError::BadPassword(CredentialProblem::BadCharacter),
        ),
        (
            "jaba",
            &long_password,
            AddAccountError::BadPassword(CredentialProblem::TooLong),
        ),
    ];
    let mut hub = hub_with_sample_accounts();
    for (user, pass, expected) in cases {
        assert_eq!(
            hub.add_account(user, pass),
            Err(expected),
            "{user:?} {pass:?}"
        );
        assert_eq!(hub.accounts(), SAMPLE_ACCOUNTS.len(), "{user:?} {pass:?}");
    }
    // The duplicate did not change yoda's password.
    let mut world = World::default();
    login_sample(&mut hub, &mut world, "yoda", START);
}

#[test]
fn r3_add_account_fills_the_table_then_refuses() {
    let mut hub = hub();
    assert_eq!(hub.accounts(), 0);
    for i in 0..DEFAULT_ACCOUNTS {
        let id = hub.add_account(&format!("user{i}"), "pass").unwrap();
        assert_eq!(id.index(), i);
    }
    assert_eq!(hub.accounts(), DEFAULT_ACCOUNTS);
    assert_eq!(
        hub.add_account("jaba", "longtongue"),
        Err(AddAccountError::Full {
            most: DEFAULT_ACCOUNTS
        })
    );
    // A duplicate is reported as such even when full.
    assert_eq!(
        hub.add_account("user0", "pass"),
        Err(AddAccountError::Duplicate)
    );
    assert_eq!(hub.accounts(), DEFAULT_ACCOUNTS);
    let mut world = World::default();
    login(&mut hub, &mut world, "user31", "pass", START);
}

#[test]
fn r3_sample_accounts_load_with_exactly_their_passwords() {
    let mut hub = hub();
    for (i, (user, pass)) in SAMPLE_ACCOUNTS.iter().enumerate() {
        assert_eq!(hub.add_account(user, pass).map(|id| id.index()), Ok(i));
    }
    let mut world = World::default();
    // vader's password minus one character is wrong.
    let conn = at_password_prompt(&mut hub, &mut world, "vader", START);
    world.receive(&mut hub, conn, password("sithlord*"), START);
    assert_eq!(
        world.take(conn),
        [ServerFrame::WrongPassword {}, ask(Prompt::Password)]
    );
    assert_eq!(world.stored(), [], "loaded accounts are not stored again");
}

// ---------------------------------------------------------------------------
// Saving a new account is work the shell completes (issue 9).

#[test]
fn r6_a_new_name_is_taken_while_its_account_is_being_saved() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let rey = at_new_password_prompt(&mut hub, &mut world, "rey", START);
    let other = at_new_password_prompt(&mut hub, &mut world, "finn", START);
    // The shell has not saved rey's account yet: the hub called nobody.
    hub.receive(rey, &password("jakku"), START);
    let Some(crate::event::Event::SaveAccount { conn, name: n, .. }) = hub.poll_event() else {
        panic!("no save asked for");
    };
    assert_eq!((conn, n.as_str()), (rey, "rey"));
    assert_eq!(hub.poll_event(), None, "asked once");
    // Meanwhile another connection cannot choose "rey".
    hub.receive(other, &ClientFrame::Logout {}, START);
    let late = world.connect(&mut hub, START, PEER).unwrap();
    world.receive(&mut hub, late, username("rey"), START);
    assert_eq!(
        world.take_text(late),
        [
            "Username: ",
            "Error. rey was just taken by someone else. Please choose another username",
            "Username: "
        ]
    );
    // Saved: rey is welcomed.
    world.take(other);
    hub.account_saved(rey, Ok(fake_hash("jakku")), START);
    world.handle_timeout(&mut hub, START);
    assert_eq!(world.take(rey), [ServerFrame::Welcome { waiting: 0 }]);
}

#[test]
fn r6_an_account_that_could_not_be_saved_is_not_made() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let rey = at_new_password_prompt(&mut hub, &mut world, "rey", START);
    hub.receive(rey, &password("jakku"), START);
    assert!(hub.poll_event().is_some());
    hub.account_saved(rey, Err(StoreFailed), START);
    world.handle_timeout(&mut hub, START);
    assert_eq!(
        world.take(rey),
        [ServerFrame::AccountNotSaved {}, ask(Prompt::Username)]
    );
    assert_eq!(hub.accounts(), SAMPLE_ACCOUNTS.len());
}

// ---------------------------------------------------------------------------
// The command rate (issue 9): nothing refused, reading slowed.

#[test]
fn a_connection_over_its_rate_is_read_later_and_acknowledgements_are_free() {
    let mut hub = Hub::new(Config::new(BLOCK_MS, TIMEOUT_MS));
    for (name, password) in SAMPLE_ACCOUNTS {
        hub.add_account(name, password).unwrap();
    }
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let rate = Config::new(BLOCK_MS, TIMEOUT_MS).rate;
    // The login took two commands of the burst; a paste takes the rest.
    for _ in 2..rate.burst {
        world.receive(&mut hub, hans, ClientFrame::WhoElse {}, START);
    }
    assert_eq!(hub.read_after(hans, START), None, "a burst passes");
    for _ in 0..1000 {
        world.receive(&mut hub, hans, ClientFrame::Received { id: 0 }, START);
    }
    assert_eq!(hub.read_after(hans, START), None, "acknowledging is free");
    world.receive(&mut hub, hans, ClientFrame::WhoElse {}, START);
    let one = 1000 / u64::from(rate.per_second);
    assert_eq!(hub.read_after(hans, START), Some(ms(START, one)));
    assert_eq!(hub.read_after(hans, ms(START, one)), None);
    // Every command was carried out: nothing is refused for the rate.
    let replies = world.take(hans);
    assert_eq!(replies.len() as u32, rate.burst - 1);
    assert!(
        replies
            .iter()
            .all(|r| matches!(r, ServerFrame::Users { .. }))
    );
}

// ---------------------------------------------------------------------------
// Checking a password is work the shell completes, off its event loop
// (issue 10): hashing is slow on purpose.

#[test]
fn a_password_is_checked_by_the_shell_and_a_plain_one_comes_back_hashed() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let yoda = at_password_prompt(&mut hub, &mut world, "yoda", START);
    hub.receive(yoda, &password("wise@!man"), START);
    // Nothing decided yet: the shell is asked, once.
    let Some(crate::event::Event::CheckPassword {
        conn,
        name: n,
        secret,
        password: given,
    }) = hub.poll_event()
    else {
        panic!("no check asked for");
    };
    assert_eq!(
        (conn, n.as_str(), given.as_str()),
        (yoda, "yoda", "wise@!man")
    );
    assert_eq!(secret, Secret::Plain("wise@!man".try_into().unwrap()));
    assert_eq!(hub.poll_event(), None, "asked once");
    // What yoda sends meanwhile is out of place.
    world.receive(&mut hub, yoda, ClientFrame::WhoElse {}, START);
    assert_eq!(world.take(yoda), [error(FrameError::Unexpected)]);
    // Right, and rewritten hashed: the hub keeps the hash from now on.
    let checked = Checked {
        right: true,
        stored: Some(fake_hash("wise@!man")),
    };
    hub.password_checked(yoda, checked, START);
    world.handle_timeout(&mut hub, START);
    assert_eq!(world.take(yoda), [ServerFrame::Welcome { waiting: 0 }]);
    world.receive(&mut hub, yoda, ClientFrame::Logout {}, START);
    let again = world.connect(&mut hub, START, PEER).unwrap();
    world.receive(&mut hub, again, username("yoda"), START);
    world.receive(&mut hub, again, password("wise@!man"), START);
    assert!(
        world
            .take(again)
            .contains(&ServerFrame::Welcome { waiting: 0 })
    );
    // A late answer for a connection that went is ignored.
    hub.password_checked(
        yoda,
        Checked {
            right: true,
            stored: None,
        },
        START,
    );
}

#[test]
fn a_block_that_began_while_a_password_was_checked_holds() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let slow = at_password_prompt(&mut hub, &mut world, "luke", START);
    hub.receive(slow, &password("light==saber"), START);
    let Some(crate::event::Event::CheckPassword { .. }) = hub.poll_event() else {
        panic!("no check asked for");
    };
    // Three wrong passwords elsewhere block luke before the answer (R8).
    let guesser = at_password_prompt(&mut hub, &mut world, "luke", START);
    for _ in 0..3 {
        world.receive(&mut hub, guesser, password("guess"), START);
    }
    hub.password_checked(
        slow,
        Checked {
            right: true,
            stored: None,
        },
        START,
    );
    world.handle_timeout(&mut hub, START);
    assert_eq!(
        world.take(slow),
        [bye(ByeReason::Blocked {
            seconds: BLOCK_MS / 1000
        })]
    );
}

#[test]
fn the_time_a_check_takes_is_not_the_users_idle_time() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let yoda = at_password_prompt(&mut hub, &mut world, "yoda", START);
    hub.receive(yoda, &password("wrong"), START);
    let Some(crate::event::Event::CheckPassword { .. }) = hub.poll_event() else {
        panic!("no check asked for");
    };
    // The shell is slow (a loaded board): past the idle timeout, nothing
    // times out, and no timer is asked for the waiting session (R9).
    let late = ms(START, TIMEOUT_MS + 5_000);
    assert_eq!(hub.poll_timeout(), None);
    world.handle_timeout(&mut hub, late);
    assert_eq!(world.take(yoda), []);
    // Wrong: asked again, with a whole timeout from the answer.
    let checked = Checked {
        right: false,
        stored: None,
    };
    hub.password_checked(yoda, checked, late);
    world.handle_timeout(&mut hub, late);
    assert_eq!(
        world.take(yoda),
        [ServerFrame::WrongPassword {}, ask(Prompt::Password)]
    );
    assert!(hub.poll_timeout().is_some_and(|at| at > late));
    hub.receive(yoda, &password("wise@!man"), late);
    let Some(crate::event::Event::CheckPassword { .. }) = hub.poll_event() else {
        panic!("no check asked for");
    };
    let later = ms(late, TIMEOUT_MS + 5_000);
    world.handle_timeout(&mut hub, later);
    let checked = Checked {
        right: true,
        stored: None,
    };
    hub.password_checked(yoda, checked, later);
    world.handle_timeout(&mut hub, later);
    assert_eq!(world.take(yoda), [ServerFrame::Welcome { waiting: 0 }]);
}

// ---------------------------------------------------------------------------
// Work handed to the shell outlives its connection (issue 10's review):
// hanging up neither makes a guess free nor loses a saved account.

fn address(n: u8) -> core::net::IpAddr {
    core::net::IpAddr::V4(core::net::Ipv4Addr::new(10, 0, 0, n))
}

/// The next job the hub hands out, past any notices.
fn next_job(hub: &mut Hub) -> Option<crate::event::Event> {
    use crate::event::Event::{CheckPassword, SaveAccount};
    core::iter::from_fn(|| hub.poll_event())
        .find(|e| matches!(e, CheckPassword { .. } | SaveAccount { .. }))
}

/// The sample accounts under the server's default rules: sign-up quota
/// and address guard on.
fn defended_hub() -> Hub {
    let mut hub = Hub::new(Config::new(BLOCK_MS, TIMEOUT_MS));
    for (name, password) in SAMPLE_ACCOUNTS {
        hub.add_account(name, password).unwrap();
    }
    hub
}

const WRONG: Checked = Checked {
    right: false,
    stored: None,
};

#[test]
fn r8_a_guess_whose_connection_hung_up_still_counts() {
    let mut hub = defended_hub();
    let mut world = World::default();
    // R8's three on luke, and one more on vader: past the address's
    // free failures.
    for name in ["luke", "luke", "luke", "vader"] {
        let guesser = at_password_prompt(&mut hub, &mut world, name, START);
        hub.receive(guesser, &password("guess"), START);
        assert!(next_job(&mut hub).is_some(), "a check asked for");
        hub.disconnect(guesser, START);
        hub.password_checked(guesser, WRONG, START);
    }
    // Three wrong passwords block luke (R8), answered or not.
    let luke = at_password_prompt(&mut hub, &mut world, "luke", START);
    assert!(
        hub.read_after(luke, START).is_some(),
        "the address is slowed for them"
    );
    world.receive(&mut hub, luke, password("light==saber"), START);
    let seconds = BLOCK_MS / 1000;
    assert_eq!(world.take(luke), [bye(ByeReason::Blocked { seconds })]);
    let failed = world
        .logged
        .iter()
        .filter(|e| matches!(e, crate::event::Event::LoginFailed { .. }))
        .count();
    assert_eq!(failed, 4, "each logged");
    assert!(world.logged.iter().any(|e| matches!(
        e,
        crate::event::Event::UserBlocked { name, .. } if name.as_str() == "luke"
    )));
}

#[test]
fn r6_an_account_saved_after_its_connection_hung_up_is_an_account() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let rey = at_new_password_prompt(&mut hub, &mut world, "rey", START);
    hub.receive(rey, &password("jakku"), START);
    assert!(next_job(&mut hub).is_some(), "a save asked for");
    hub.disconnect(rey, START);
    // Still being saved: the name is not free for a second line.
    let other = world.connect(&mut hub, START, PEER).unwrap();
    world.receive(&mut hub, other, username("rey"), START);
    assert_eq!(
        world.take_text(other),
        [
            "Username: ",
            "Error. rey was just taken by someone else. Please choose another username",
            "Username: "
        ]
    );
    hub.account_saved(rey, Ok(fake_hash("jakku")), START);
    assert_eq!(hub.accounts(), SAMPLE_ACCOUNTS.len() + 1, "it is on disk");
    world.receive(&mut hub, other, username("rey"), START);
    world.receive(&mut hub, other, password("jakku"), START);
    assert_eq!(
        world.take(other),
        [ask(Prompt::Password), ServerFrame::Welcome { waiting: 0 }]
    );
}

#[test]
fn one_address_signing_up_on_many_connections_at_once_gets_its_quota() {
    let mut hub = defended_hub();
    let mut world = World::default();
    let names = ["rey", "finn", "poe", "rose"];
    let conns = names.map(|n| at_new_password_prompt(&mut hub, &mut world, n, START));
    for conn in conns {
        hub.receive(conn, &password("jakku"), START);
    }
    let saves: Vec<ConnId> = core::iter::from_fn(|| next_job(&mut hub))
        .map(|job| match job {
            crate::event::Event::SaveAccount { conn, .. } => conn,
            other => panic!("{other:?}"),
        })
        .collect();
    let per_hour = usize::from(crate::limits::SIGNUPS_PER_HOUR);
    assert_eq!(
        saves,
        conns[..per_hour],
        "counted when asked for, not saved"
    );
    world.handle_timeout(&mut hub, START);
    assert_eq!(
        world.take(conns[per_hour]),
        [ServerFrame::TooManySignUps {}, ask(Prompt::Username)]
    );
    // A failed save gives its place back.
    hub.account_saved(conns[0], Err(StoreFailed), START);
    world.receive(&mut hub, conns[per_hour], username("rose"), START);
    world.receive(&mut hub, conns[per_hour], password("jakku"), START);
    assert!(
        world
            .take(conns[per_hour])
            .contains(&ServerFrame::Welcome { waiting: 0 })
    );
}

#[test]
fn checks_beyond_the_jobs_table_wait_for_an_answer() {
    use crate::limits::DEFAULT_CONNECTIONS as MAX_JOBS;
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let mut gone = Vec::new();
    for n in 0..MAX_JOBS as u8 {
        let conn = world.connect(&mut hub, START, address(n)).unwrap();
        world.receive(&mut hub, conn, username("vader"), START);
        hub.receive(conn, &password("guess"), START);
        assert!(next_job(&mut hub).is_some(), "check {n} asked for");
        hub.disconnect(conn, START);
        gone.push(conn);
    }
    // Every job is out and unanswered: yoda's check waits its turn.
    let yoda = at_password_prompt(&mut hub, &mut world, "yoda", START);
    hub.receive(yoda, &password("wise@!man"), START);
    assert_eq!(next_job(&mut hub), None);
    hub.password_checked(gone[0], WRONG, START);
    let Some(crate::event::Event::CheckPassword { conn, .. }) = next_job(&mut hub) else {
        panic!("yoda's check was not handed out");
    };
    assert_eq!(conn, yoda);
}

#[test]
fn a_check_is_handed_out_even_when_the_queue_of_checks_overflowed() {
    // Two connections, so a queue of two checks waiting for the shell.
    // With both jobs out, connections that hang up at the password prompt
    // leave their places in the queue behind them; the third such fills
    // it. The check of the one still waiting is handed out all the same.
    let capacity = crate::Capacity::new(16, 2);
    let config = crate::testing::test_config(BLOCK_MS, TIMEOUT_MS);
    let mut hub = Hub::with_capacity(config, capacity).unwrap();
    for (name, password) in SAMPLE_ACCOUNTS {
        hub.add_account(name, password).unwrap();
    }
    let mut world = World::default();
    let mut out = Vec::new();
    for n in 0..2 {
        let conn = world.connect(&mut hub, START, address(n)).unwrap();
        world.receive(&mut hub, conn, username("vader"), START);
        hub.receive(conn, &password("guess"), START);
        assert!(next_job(&mut hub).is_some(), "check {n} asked for");
        hub.disconnect(conn, START);
        out.push(conn);
    }
    let mut last = None;
    for n in 2..6 {
        let conn = world.connect(&mut hub, START, address(n)).unwrap();
        world.receive(&mut hub, conn, username("yoda"), START);
        hub.receive(conn, &password("wise@!man"), START);
        assert_eq!(next_job(&mut hub), None, "the jobs are all out");
        if n < 5 {
            hub.disconnect(conn, START);
        }
        last = Some(conn);
    }
    hub.password_checked(out[0], WRONG, START);
    let Some(crate::event::Event::CheckPassword { conn, .. }) = next_job(&mut hub) else {
        panic!("the last yoda's check was not handed out");
    };
    assert_eq!(Some(conn), last);
}
