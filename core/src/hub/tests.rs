//! The hub's rules, one table or scenario per rule of requirements.md and
//! per sample session of sample-interactions.md. Time is fake (milliseconds
//! passed in), so nothing sleeps; effects are recorded by [`World`] in the
//! order the hub asked for them.

use std::string::{String, ToString};
use std::vec::Vec;
use std::{format, vec};

use super::{AddAccountError, Config, Hub, ServerFull};
use crate::credential::{CredentialProblem, Name, Password};
use crate::effects::{Effects, QueueFull, StoreFailed};
use crate::limits::{MAX_ACCOUNTS, MAX_BAD_FRAMES, MAX_CONNECTIONS, NAME_MAX, PASSWORD_MAX};
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

/// R3's sample credentials.txt.
pub(super) const SAMPLE_ACCOUNTS: [(&str, &str); 10] = [
    ("hans", "falcon*solo"),
    ("yoda", "wise@!man"),
    ("vader", "sithlord**"),
    ("r2d2", "do*!@#dedo"),
    ("c3p0", "droid#gold"),
    ("leia", "$blasterpistol$"),
    ("obiwan", "(jedimaster)"),
    ("luke", "light==saber"),
    ("chewy", "wookie+aaaawww"),
    ("palpatine", "darkside_%$run"),
];

pub(super) fn password_of(user: &str) -> &'static str {
    SAMPLE_ACCOUNTS
        .iter()
        .find(|(name, _)| *name == user)
        .map(|(_, password)| *password)
        .unwrap()
}

// ---------------------------------------------------------------------------
// The recording fake.

/// One thing the hub asked of the world.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Event {
    Sent(ConnId, ServerFrame),
    Closed(ConnId),
    Stored(String, String),
}

/// Records every effect in order. Sending to a closed connection, or
/// closing one twice, is a hub bug and panics here.
#[derive(Debug, Default)]
pub(super) struct World {
    pub(super) events: Vec<Event>,
    /// `store_account` fails while this is set.
    fail_store: bool,
    /// Connections whose queue reports [`QueueFull`].
    pub(super) full: Vec<ConnId>,
    /// How many secrets `random` gave.
    randoms: u8,
}

impl Effects for World {
    fn send(&mut self, conn: ConnId, frame: &ServerFrame) -> Result<(), QueueFull> {
        assert!(
            !self.is_closed(conn),
            "{frame:?} sent to {conn:?} after it was closed"
        );
        if self.full.contains(&conn) {
            return Err(QueueFull);
        }
        self.events.push(Event::Sent(conn, frame.clone()));
        Ok(())
    }

    fn close(&mut self, conn: ConnId) {
        assert!(!self.is_closed(conn), "{conn:?} closed twice");
        self.events.push(Event::Closed(conn));
    }

    fn store_account(&mut self, name: &str, password: &str) -> Result<(), StoreFailed> {
        if self.fail_store {
            return Err(StoreFailed);
        }
        self.events
            .push(Event::Stored(name.to_string(), password.to_string()));
        Ok(())
    }

    fn random(&mut self) -> [u8; 16] {
        // Deterministic: each call a different, recognisable secret.
        self.randoms += 1;
        [self.randoms; 16]
    }
}

impl World {
    /// Drains and returns what `conn` was sent, in order.
    pub(super) fn take(&mut self, conn: ConnId) -> Vec<ServerFrame> {
        let mut taken = Vec::new();
        self.events.retain(|event| match event {
            Event::Sent(to, frame) if *to == conn => {
                taken.push(frame.clone());
                false
            }
            _ => true,
        });
        taken
    }

    /// What `conn` was sent, as the lines its user sees.
    pub(super) fn take_text(&mut self, conn: ConnId) -> Vec<String> {
        self.take(conn).iter().map(ToString::to_string).collect()
    }

    pub(super) fn is_closed(&self, conn: ConnId) -> bool {
        self.events.contains(&Event::Closed(conn))
    }

    pub(super) fn closed(&self) -> Vec<ConnId> {
        self.events
            .iter()
            .filter_map(|event| match event {
                Event::Closed(conn) => Some(*conn),
                _ => None,
            })
            .collect()
    }

    fn stored(&self) -> Vec<(String, String)> {
        self.events
            .iter()
            .filter_map(|event| match event {
                Event::Stored(name, password) => Some((name.clone(), password.clone())),
                _ => None,
            })
            .collect()
    }

    /// Everything recorded: used to check that a call did nothing at all.
    pub(super) fn len(&self) -> usize {
        self.events.len()
    }

    fn position(&self, event: &Event) -> usize {
        self.events
            .iter()
            .position(|e| e == event)
            .unwrap_or_else(|| panic!("{event:?} never happened: {:?}", self.events))
    }
}

// ---------------------------------------------------------------------------
// Helpers.

pub(super) fn hub() -> Hub {
    // No idle warnings, and private requests that outlast every idle
    // timeout: the tests of deadlines see only those deadlines. Warnings
    // and expiry have tests of their own.
    Hub::new(Config {
        block_ms: BLOCK_MS,
        timeout_ms: TIMEOUT_MS,
        warning_ms: 0,
        answer_ms: 100 * TIMEOUT_MS,
    })
}

pub(super) fn hub_with_sample_accounts() -> Hub {
    let mut hub = hub();
    for (name, password) in SAMPLE_ACCOUNTS {
        hub.add_account(name, password).unwrap();
    }
    hub
}

pub(super) fn name(s: &str) -> Name {
    Name::try_from(s).unwrap()
}

pub(super) fn username(s: &str) -> ClientFrame {
    ClientFrame::Username { name: name(s) }
}

pub(super) fn password(s: &str) -> ClientFrame {
    ClientFrame::Password {
        password: Password::try_from(s).unwrap(),
    }
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
    let conn = hub
        .connect(now, PEER, world)
        .expect("a free connection slot");
    hub.receive(conn, username(user), now, world);
    hub.receive(conn, password(pass), now, world);
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
    let conn = hub.connect(now, PEER, world).unwrap();
    hub.receive(conn, username(user), now, world);
    assert_eq!(
        world.take(conn),
        [ask(Prompt::Username), ask(Prompt::Password)]
    );
    conn
}

/// Connects and gives a username that has no account; returns it, drained.
fn at_new_password_prompt(hub: &mut Hub, world: &mut World, user: &str, now: Instant) -> ConnId {
    let conn = hub.connect(now, PEER, world).unwrap();
    hub.receive(conn, username(user), now, world);
    assert_eq!(
        world.take(conn),
        [ask(Prompt::Username), ask(Prompt::NewPassword)]
    );
    conn
}

/// Blocks `user` at `now` with three wrong passwords (L2).
fn block(hub: &mut Hub, world: &mut World, user: &str, now: Instant) {
    let conn = at_password_prompt(hub, world, user, now);
    for wrong in ["weird", "green", "password"] {
        hub.receive(conn, password(wrong), now, world);
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
    hub.receive(conn, username("obiwan"), now, world);
    assert_eq!(world.take(conn), [ask(Prompt::Password)]);
}

// ---------------------------------------------------------------------------
// Login: R4, R5, L1.

#[test]
fn r4_connect_asks_for_a_username() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let conn = hub.connect(START, PEER, &mut world).unwrap();
    assert_eq!(world.events, [Event::Sent(conn, ask(Prompt::Username))]);
    assert_eq!(world.take_text(conn), ["Username: "]);
}

#[test]
fn r5_l1_right_password_welcomes_the_user() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let conn = hub.connect(START, PEER, &mut world).unwrap();
    hub.receive(conn, username("yoda"), START, &mut world);
    assert_eq!(world.take_text(conn), ["Username: ", "Password: "]);
    hub.receive(conn, password("wise@!man"), START, &mut world);
    assert_eq!(world.take(conn), [ServerFrame::Welcome { waiting: 0 }]);
    assert_eq!(ServerFrame::Welcome { waiting: 0 }.to_string(), WELCOME);
    assert_eq!(
        WELCOME,
        "Welcome to the greatest messaging application ever!"
    );
    assert!(world.events.is_empty(), "{:?}", world.events);
    // Online: a second login as yoda is refused (R7).
    let other = hub.connect(START, PEER, &mut world).unwrap();
    hub.receive(other, username("yoda"), START, &mut world);
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
        hub.receive(conn, password(other_pass), START, &mut world);
        assert_eq!(
            world.take(conn),
            [ServerFrame::WrongPassword {}, ask(Prompt::Password)],
            "{user}"
        );
        hub.receive(conn, password(pass), START, &mut world);
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
        hub.receive(conn, password(wrong), START, &mut world);
        assert_eq!(
            world.take_text(conn),
            ["Invalid Password. Please try again", "Password: "],
            "{wrong}"
        );
        assert!(!world.is_closed(conn));
        // Still at the password prompt: the right one gets in.
        hub.receive(conn, password("wise@!man"), START, &mut world);
        assert_eq!(
            world.take(conn),
            [ServerFrame::Welcome { waiting: 0 }],
            "{wrong}"
        );
        hub.receive(conn, ClientFrame::Logout {}, START, &mut world);
        world.take(conn);
    }
}

// ---------------------------------------------------------------------------
// Blocking: R8, L2, L3, L4.

#[test]
fn r8_l2_third_wrong_password_blocks_and_closes() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let conn = hub.connect(START, PEER, &mut world).unwrap();
    hub.receive(conn, username("yoda"), START, &mut world);
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
        hub.receive(conn, password(typed), now, &mut world);
        assert_eq!(world.take_text(conn), *shown, "{typed}");
    }
    assert_eq!(world.events, [Event::Closed(conn)]);
    // Forgotten: no more frames, no deadline.
    hub.receive(conn, password("wise@!man"), START, &mut world);
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
        let conn = hub.connect(now, PEER, &mut world).unwrap();
        hub.receive(conn, username("yoda"), now, &mut world);
        hub.receive(conn, password("wise@!man"), now, &mut world);
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
    hub.receive(conn, password("weird"), START, &mut world);
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
        hub.receive(conn, password("wise@!man"), now, &mut world);
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
    hub.receive(first, password("weird"), START, &mut world);
    hub.receive(first, password("green"), START, &mut world);
    assert_eq!(
        world.take(first),
        [
            ServerFrame::WrongPassword {},
            ask(Prompt::Password),
            ServerFrame::WrongPassword {},
            ask(Prompt::Password),
        ]
    );
    hub.receive(second, password("password"), START, &mut world);
    assert_eq!(
        world.take(second),
        [bye(ByeReason::NowBlocked { seconds: 60 })]
    );
    assert!(world.is_closed(second));
    // The first connection is still at its prompt, but yoda is blocked now.
    hub.receive(first, password("wise@!man"), START, &mut world);
    assert_eq!(world.take(first), [bye(ByeReason::Blocked { seconds: 60 })]);
    assert!(world.is_closed(first));
}

#[test]
fn r8_failures_of_one_user_do_not_count_against_another() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let yoda = at_password_prompt(&mut hub, &mut world, "yoda", START);
    hub.receive(yoda, password("weird"), START, &mut world);
    hub.receive(yoda, password("green"), START, &mut world);
    let luke = at_password_prompt(&mut hub, &mut world, "luke", START);
    hub.receive(luke, password("weird"), START, &mut world);
    hub.receive(luke, password("green"), START, &mut world);
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
    hub.receive(luke, password("light==saber"), START, &mut world);
    assert_eq!(world.take(luke), [ServerFrame::Welcome { waiting: 0 }]);
}

#[test]
fn r8_a_successful_login_resets_the_count() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let two_failures = |hub: &mut Hub, world: &mut World, conn: ConnId| {
        hub.receive(conn, password("weird"), START, world);
        hub.receive(conn, password("green"), START, world);
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
    hub.receive(conn, password("wise@!man"), START, &mut world);
    assert_eq!(world.take(conn), [ServerFrame::Welcome { waiting: 0 }]);
    hub.receive(conn, ClientFrame::Logout {}, START, &mut world);
    assert_eq!(world.take(conn), [bye(ByeReason::LoggedOut)]);

    let conn = at_password_prompt(&mut hub, &mut world, "yoda", START);
    two_failures(&mut hub, &mut world, conn);
    assert!(!world.is_closed(conn), "not blocked after 2 + 2 failures");
    hub.receive(conn, password("wise@!man"), START, &mut world);
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
        hub.receive(conn, password("weird"), now, &mut world);
        assert_eq!(
            world.take(conn),
            [ServerFrame::WrongPassword {}, ask(Prompt::Password)]
        );
    }
    // The third in a row blocks again, from now.
    hub.receive(conn, password("weird"), now, &mut world);
    assert_eq!(
        world.take(conn),
        [bye(ByeReason::NowBlocked { seconds: 60 })]
    );
    let conn = at_password_prompt(&mut hub, &mut world, "yoda", ms(now, BLOCK_MS - 1));
    hub.receive(
        conn,
        password("wise@!man"),
        ms(now, BLOCK_MS - 1),
        &mut world,
    );
    assert_eq!(world.take(conn), [bye(ByeReason::Blocked { seconds: 1 })]);
}

// ---------------------------------------------------------------------------
// New accounts: R6, L5.

#[test]
fn r6_l5_a_new_user_gets_an_account_stored_before_the_welcome() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let conn = hub.connect(START, PEER, &mut world).unwrap();
    hub.receive(conn, username("jaba"), START, &mut world);
    hub.receive(conn, password("longtongue"), START, &mut world);
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
    hub.receive(conn, ClientFrame::Logout {}, START, &mut world);
    let conn = at_password_prompt(&mut hub, &mut world, "jaba", START);
    hub.receive(conn, password("wrong"), START, &mut world);
    assert_eq!(
        world.take(conn),
        [ServerFrame::WrongPassword {}, ask(Prompt::Password)]
    );
    hub.receive(conn, password("longtongue"), START, &mut world);
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
        hub.receive(conn, password(bad), START, &mut world);
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
        hub.receive(conn, password("longtongue"), START, &mut world);
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
    hub.receive(conn, password(&long), START, &mut world);
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
        let conn = hub.connect(START, PEER, &mut world).unwrap();
        hub.receive(conn, username(bad), START, &mut world);
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
fn r6_the_longest_allowed_new_username_is_accepted() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let long = "j".repeat(NAME_MAX);
    let conn = at_new_password_prompt(&mut hub, &mut world, &long, START);
    hub.receive(conn, password("longtongue"), START, &mut world);
    assert_eq!(world.take(conn), [ServerFrame::Welcome { waiting: 0 }]);
    assert_eq!(world.stored(), [(long, "longtongue".into())]);
}

#[test]
fn r6_an_account_that_cannot_be_stored_is_not_created() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World {
        fail_store: true,
        ..World::default()
    };
    let conn = at_new_password_prompt(&mut hub, &mut world, "jaba", START);
    hub.receive(conn, password("longtongue"), START, &mut world);
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
    hub.receive(conn, username("jaba"), START, &mut world);
    assert_eq!(world.take(conn), [ask(Prompt::NewPassword)]);
    hub.receive(conn, password("longtongue"), START, &mut world);
    assert_eq!(world.take(conn), [ServerFrame::Welcome { waiting: 0 }]);
    assert_eq!(world.stored(), [("jaba".into(), "longtongue".into())]);
}

#[test]
fn r26_a_full_account_table_refuses_new_names_not_old_ones() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    for i in hub.accounts()..MAX_ACCOUNTS {
        hub.add_account(&format!("clone{i}"), "pass").unwrap();
    }
    assert_eq!(hub.accounts(), MAX_ACCOUNTS);
    let conn = hub.connect(START, PEER, &mut world).unwrap();
    hub.receive(conn, username("jaba"), START, &mut world);
    assert_eq!(
        world.take(conn),
        [
            ask(Prompt::Username),
            ServerFrame::AccountsFull {},
            ask(Prompt::Username)
        ]
    );
    assert_eq!(
        ServerFrame::AccountsFull {}.to_string(),
        format!(
            "Error. No room for new accounts (at most {MAX_ACCOUNTS}). Please log in with an existing account"
        )
    );
    assert_eq!(world.stored(), []);
    // Existing accounts, old and new, still log in.
    hub.receive(conn, username("clone31"), START, &mut world);
    hub.receive(conn, password("pass"), START, &mut world);
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
    for i in hub.accounts()..MAX_ACCOUNTS - 1 {
        hub.add_account(&format!("clone{i}"), "pass").unwrap();
    }
    let anakin = at_new_password_prompt(&mut hub, &mut world, "anakin", START);
    let padme = at_new_password_prompt(&mut hub, &mut world, "padme", START);
    hub.receive(padme, password("naboo"), START, &mut world);
    assert_eq!(world.take(padme), [ServerFrame::Welcome { waiting: 0 }]);
    hub.receive(anakin, password("tatooine"), START, &mut world);
    assert_eq!(
        world.take(anakin),
        [ServerFrame::AccountsFull {}, ask(Prompt::Username)]
    );
    assert_eq!(world.stored(), [("padme".into(), "naboo".into())]);
    assert_eq!(hub.accounts(), MAX_ACCOUNTS);
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
    hub.receive(late, password("longtongue"), START, &mut world);
    assert_eq!(world.take(late), [ServerFrame::Welcome { waiting: 0 }]);
    hub.receive(early, password("slimy"), START, &mut world);
    let taken = ServerFrame::UsernameTaken { user: name("jaba") };
    assert_eq!(
        taken.to_string(),
        "Error. jaba was just taken by someone else. Please choose another username"
    );
    assert_eq!(world.take(early), [taken, ask(Prompt::Username)]);
    assert_eq!(world.stored(), [("jaba".into(), "longtongue".into())]);
    assert_eq!(hub.accounts(), SAMPLE_ACCOUNTS.len() + 1);
    // jaba is now online, so a second login is refused (R7).
    hub.receive(early, username("jaba"), START, &mut world);
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
    let second = hub.connect(START, PEER, &mut world).unwrap();
    hub.receive(second, username("yoda"), START, &mut world);
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
    hub.receive(second, username("luke"), START, &mut world);
    hub.receive(second, password("light==saber"), START, &mut world);
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
    hub.receive(first, password("wise@!man"), START, &mut world);
    assert_eq!(world.take(first), [ServerFrame::Welcome { waiting: 0 }]);
    hub.receive(second, password("wise@!man"), START, &mut world);
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
    hub.receive(second, password("wise@!man"), START, &mut world);
    assert_eq!(world.take(second), [error(FrameError::Unexpected)]);
    hub.receive(second, username("luke"), START, &mut world);
    hub.receive(second, password("light==saber"), START, &mut world);
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
    let a = hub.connect(START, PEER, &mut world).unwrap();
    assert_eq!(hub.poll_timeout(), Some(ms(START, TIMEOUT_MS)));
    let b = hub.connect(ms(START, 5_000), PEER, &mut world).unwrap();
    assert_eq!(hub.poll_timeout(), Some(ms(START, TIMEOUT_MS)));
    hub.disconnect(a, START, &mut world);
    assert_eq!(hub.poll_timeout(), Some(ms(START, 5_000 + TIMEOUT_MS)));
    hub.disconnect(b, START, &mut world);
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
        hub.handle_timeout(early, &mut world);
        assert_eq!(world.len(), 0, "{early:?}");
    }
    hub.handle_timeout(deadline, &mut world);
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

/// The sample accounts on a hub that warns, as the server's does.
fn warning_hub() -> Hub {
    let mut hub = Hub::new(Config::new(BLOCK_MS, TIMEOUT_MS));
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
    hub.handle_timeout(ms(START, TIMEOUT_MS - 10_001), &mut world);
    assert_eq!(world.len(), 0);
    hub.handle_timeout(warning, &mut world);
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
    hub.handle_timeout(ms(START, TIMEOUT_MS - 1), &mut world);
    assert_eq!(world.len(), 0);
    hub.handle_timeout(deadline, &mut world);
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
    hub.handle_timeout(ms(START, TIMEOUT_MS - 2_500), &mut world);
    assert_eq!(world.take(yoda), [ServerFrame::IdleWarning { seconds: 3 }]);
    // A command: the deadline moves, and the next warning is before it.
    let now = ms(START, TIMEOUT_MS - 1_000);
    hub.receive(yoda, ClientFrame::WhoElse {}, now, &mut world);
    world.take(yoda);
    assert_eq!(hub.poll_timeout(), Some(ms(now, TIMEOUT_MS - 10_000)));
    hub.handle_timeout(ms(now, TIMEOUT_MS - 10_000), &mut world);
    assert_eq!(world.take(yoda), [ServerFrame::IdleWarning { seconds: 10 }]);
    assert!(!world.is_closed(yoda));
}

#[test]
fn r9_nobody_at_the_login_prompts_is_warned() {
    let mut hub = warning_hub();
    let mut world = World::default();
    let conn = hub.connect(START, PEER, &mut world).unwrap();
    world.take(conn);
    assert_eq!(hub.poll_timeout(), Some(ms(START, TIMEOUT_MS)));
    hub.handle_timeout(ms(START, TIMEOUT_MS), &mut world);
    assert_eq!(world.take_text(conn), ["Login timed out due to inactivity"]);
}

#[test]
fn r9_several_deadlines_passed_at_once_all_end() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let yoda = login_sample(&mut hub, &mut world, "yoda", ms(START, 1));
    let luke = login_sample(&mut hub, &mut world, "luke", ms(START, TIMEOUT_MS));
    let waiting = hub.connect(ms(START, 2), PEER, &mut world).unwrap();
    world.take(hans);
    world.take(yoda);
    world.take(waiting);
    world.take(luke);
    // A late wake-up: hans, yoda and the login prompt have all expired.
    hub.handle_timeout(ms(START, TIMEOUT_MS + 10), &mut world);
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
    let fresh = hub.connect(START, PEER, &mut world).unwrap();
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
    hub.handle_timeout(ms(START, TIMEOUT_MS - 1), &mut world);
    assert_eq!(world.len(), 0);
    hub.handle_timeout(ms(START, TIMEOUT_MS), &mut world);
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
    let conn = hub.connect(START, PEER, &mut world).unwrap();
    hub.receive(conn, username("yoda"), ms(START, 10_000), &mut world);
    let login = ms(START, 20_000);
    hub.receive(conn, password("wise@!man"), login, &mut world);
    assert_eq!(hub.poll_timeout(), Some(ms(login, TIMEOUT_MS)));
    hub.handle_timeout(ms(login, TIMEOUT_MS - 1), &mut world);
    assert!(!world.is_closed(conn));
    hub.handle_timeout(ms(login, TIMEOUT_MS), &mut world);
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
    let conn = hub.connect(START, PEER, &mut world).unwrap();
    // (ms after START, frame) at the login prompts, each one accepted.
    let steps = [
        (100_000, username("yoda")),
        (200_000, password("weird")),
        (300_000, password("green")),
    ];
    for (at, frame) in steps {
        let now = ms(START, at);
        // The previous frame kept the connection alive until now.
        hub.handle_timeout(now, &mut world);
        assert!(!world.is_closed(conn), "closed before {frame:?}");
        hub.receive(conn, frame.clone(), now, &mut world);
        assert_eq!(
            hub.poll_timeout(),
            Some(ms(now, TIMEOUT_MS)),
            "after {frame:?}"
        );
    }
    let last = ms(START, 300_000);
    hub.handle_timeout(ms(last, TIMEOUT_MS - 1), &mut world);
    assert!(!world.is_closed(conn));
    hub.handle_timeout(ms(last, TIMEOUT_MS), &mut world);
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
    let fresh = hub.connect(START, PEER, &mut world).unwrap();
    world.take(fresh);
    let deadline = ms(START, TIMEOUT_MS);
    let later = ms(START, 90_000);
    hub.reject(yoda, FrameError::Malformed, START, &mut world);
    hub.reject(yoda, FrameError::TooLong, START, &mut world);
    hub.receive(yoda, username("luke"), later, &mut world);
    hub.receive(yoda, password("wise@!man"), later, &mut world);
    hub.reject(fresh, FrameError::Malformed, START, &mut world);
    hub.receive(fresh, password("wise@!man"), later, &mut world);
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
    hub.handle_timeout(deadline, &mut world);
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
    let fresh = hub.connect(START, PEER, &mut world).unwrap();
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
    hub.receive(yoda, ClientFrame::Logout {}, ms(START, 5_000), &mut world);
    assert_eq!(world.take(yoda), [bye(ByeReason::LoggedOut)]);
    assert_eq!(bye(ByeReason::LoggedOut).to_string(), "");
    assert_eq!(world.take_text(hans), ["yoda logged out"]);
    assert_eq!(world.take_text(luke), ["yoda logged out"]);
    assert_eq!(world.events, [Event::Closed(yoda)]);
    // Forgotten, and free to come back.
    hub.receive(yoda, ClientFrame::Logout {}, START, &mut world);
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
    let fresh = hub.connect(START, PEER, &mut world).unwrap();
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
        hub.receive(conn, ClientFrame::Logout {}, START, &mut world);
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
    hub.disconnect(yoda, START, &mut world);
    // The connection is gone: nothing is sent to it.
    assert_eq!(world.take(yoda), []);
    assert_eq!(world.take(hans), [logged_out("yoda")]);
    assert_eq!(world.len(), 0, "{:?}", world.events);
    assert_eq!(hub.poll_timeout(), Some(ms(START, TIMEOUT_MS)));
    // A second disconnect is ignored.
    hub.disconnect(yoda, START, &mut world);
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
    hub.disconnect(typing, START, &mut world);
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
    let fresh = hub.connect(START, PEER, &mut world).unwrap();
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
        hub.receive(conn, frame, START, &mut world);
        assert_eq!(world.take(conn), [error(FrameError::Unexpected)], "{what}");
        assert_eq!(world.len(), 0, "{what}: {:?}", world.events);
    }
    assert_eq!(
        error(FrameError::Unexpected).to_string(),
        "Error. Unexpected request"
    );
    // Every connection is where it was.
    assert_at_username_prompt(&mut hub, &mut world, fresh, START);
    hub.receive(typing, password("sithlord**"), START, &mut world);
    assert_eq!(world.take(typing), [ServerFrame::Welcome { waiting: 0 }]);
    hub.receive(choosing, password("longtongue"), START, &mut world);
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
    let fresh = hub.connect(START, PEER, &mut world).unwrap();
    world.take(fresh);
    let online = login_sample(&mut hub, &mut world, "yoda", START);
    for conn in [fresh, online] {
        for (err, text) in cases {
            hub.reject(conn, err, START, &mut world);
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
        hub.reject(yoda, FrameError::Malformed, START, &mut world);
        assert_eq!(world.take(yoda), [error(FrameError::Malformed)], "{i}");
        assert!(!world.is_closed(yoda), "{i}");
    }
    hub.reject(yoda, FrameError::Malformed, START, &mut world);
    assert_eq!(
        world.take_text(yoda),
        ["Error. Too many invalid requests; disconnected"]
    );
    assert!(world.is_closed(yoda));
    assert_eq!(world.take(hans), [logged_out("yoda")]);
    // Gone: further frames are ignored.
    hub.reject(yoda, FrameError::Malformed, START, &mut world);
    hub.receive(yoda, ClientFrame::Logout {}, START, &mut world);
    assert_eq!(world.events, [Event::Closed(yoda)]);
}

#[test]
fn r25_out_of_place_frames_count_towards_the_flood() {
    // (what, the bad frame): each kind, and a mix, closes after MAX_BAD_FRAMES.
    type Bad = fn(&mut Hub, ConnId, usize, &mut World);
    let unexpected: Bad = |hub, conn, _, world| hub.receive(conn, password("x"), START, world);
    let mixed: Bad = |hub, conn, i, world| {
        if i % 2 == 0 {
            hub.receive(conn, password("x"), START, world)
        } else {
            hub.reject(conn, FrameError::TooLong, START, world)
        }
    };
    for (what, bad) in [("unexpected", unexpected), ("mixed", mixed)] {
        let mut hub = hub_with_sample_accounts();
        let mut world = World::default();
        let conn = hub.connect(START, PEER, &mut world).unwrap();
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
    let conn = hub.connect(START, PEER, &mut world).unwrap();
    world.take(conn);
    let almost = usize::from(MAX_BAD_FRAMES) - 1;
    for _ in 0..almost {
        hub.reject(conn, FrameError::Malformed, START, &mut world);
    }
    hub.receive(conn, username("yoda"), START, &mut world);
    for _ in 0..almost {
        hub.reject(conn, FrameError::Malformed, START, &mut world);
    }
    // A wrong password is a good frame too.
    hub.receive(conn, password("weird"), START, &mut world);
    for _ in 0..almost {
        hub.reject(conn, FrameError::Malformed, START, &mut world);
    }
    let mut expected = vec![error(FrameError::Malformed); almost];
    expected.push(ask(Prompt::Password));
    expected.extend(vec![error(FrameError::Malformed); almost]);
    expected.extend([ServerFrame::WrongPassword {}, ask(Prompt::Password)]);
    expected.extend(vec![error(FrameError::Malformed); almost]);
    assert_eq!(world.take(conn), expected);
    assert!(!world.is_closed(conn));
    hub.reject(conn, FrameError::Malformed, START, &mut world);
    assert_eq!(world.take(conn), [bye(ByeReason::TooManyErrors)]);
    assert!(world.is_closed(conn));
}

// ---------------------------------------------------------------------------
// Capacity: R26.

#[test]
fn r26_connections_beyond_the_limit_are_refused_until_one_leaves() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let conns: Vec<ConnId> = (0..MAX_CONNECTIONS)
        .map(|_| hub.connect(START, PEER, &mut world).unwrap())
        .collect();
    for (i, conn) in conns.iter().enumerate() {
        assert!(conn.slot() < MAX_CONNECTIONS);
        assert!(!conns[..i].contains(conn), "{conn:?} handed out twice");
        assert_eq!(world.take(*conn), [ask(Prompt::Username)]);
    }
    assert_eq!(hub.connect(START, PEER, &mut world), Err(ServerFull));
    assert_eq!(world.len(), 0, "a refused connection is sent nothing");

    hub.disconnect(conns[5], START, &mut world);
    let again = hub.connect(START, PEER, &mut world).unwrap();
    assert!(!conns.contains(&again));
    assert_eq!(world.take(again), [ask(Prompt::Username)]);
    assert_eq!(hub.connect(START, PEER, &mut world), Err(ServerFull));

    // A connection the hub ends frees its slot too.
    hub.receive(conns[0], ClientFrame::Logout {}, START, &mut world);
    assert!(hub.connect(START, PEER, &mut world).is_ok());
    assert_eq!(hub.connect(START, PEER, &mut world), Err(ServerFull));
}

#[test]
fn r26_a_stale_connection_id_is_ignored() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let old = hub.connect(START, PEER, &mut world).unwrap();
    hub.disconnect(old, START, &mut world);
    let yoda = login_sample(&mut hub, &mut world, "yoda", START);
    assert_eq!(yoda.slot(), old.slot(), "the slot is reused");
    assert_ne!(yoda, old);
    world.take(old);
    world.take(hans);

    hub.receive(old, ClientFrame::Logout {}, START, &mut world);
    hub.receive(old, username("luke"), START, &mut world);
    hub.reject(old, FrameError::Malformed, START, &mut world);
    hub.disconnect(old, START, &mut world);
    assert_eq!(world.len(), 0, "{:?}", world.events);
    // yoda, on the reused slot, is untouched and still online.
    let other = hub.connect(START, PEER, &mut world).unwrap();
    hub.receive(other, username("yoda"), START, &mut world);
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
    world.full.push(luke);
    hub.receive(yoda, ClientFrame::Logout {}, START, &mut world);
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
    let conn = hub.connect(START, PEER, &mut world).unwrap();
    world.take(conn);
    world.full.push(conn);
    hub.receive(conn, username("yoda"), START, &mut world);
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
    world.full.push(yoda);
    hub.receive(yoda, password("wise@!man"), START, &mut world);
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
    world.full.push(yoda);
    hub.handle_timeout(ms(START, TIMEOUT_MS), &mut world);
    assert_eq!(world.take(hans), [logged_out("yoda")]);
    assert_eq!(world.take(luke), [logged_out("yoda")]);
    assert_eq!(world.events, [Event::Closed(yoda)]);
    world.full.push(luke);
    hub.receive(
        luke,
        ClientFrame::Logout {},
        ms(START, TIMEOUT_MS),
        &mut world,
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
    let fresh = hub.connect(START, PEER, &mut world).unwrap();
    world.take(fresh);
    let typing = at_password_prompt(&mut hub, &mut world, "luke", START);
    let all = [hans, yoda, fresh, typing];
    hub.shutdown(&mut world);
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
    world.full.push(hans);
    hub.shutdown(&mut world);
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
    for i in 0..MAX_ACCOUNTS {
        let id = hub.add_account(&format!("user{i}"), "pass").unwrap();
        assert_eq!(id.index(), i);
    }
    assert_eq!(hub.accounts(), MAX_ACCOUNTS);
    assert_eq!(
        hub.add_account("jaba", "longtongue"),
        Err(AddAccountError::Full)
    );
    // A duplicate is reported as such even when full.
    assert_eq!(
        hub.add_account("user0", "pass"),
        Err(AddAccountError::Duplicate)
    );
    assert_eq!(hub.accounts(), MAX_ACCOUNTS);
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
    hub.receive(conn, password("sithlord*"), START, &mut world);
    assert_eq!(
        world.take(conn),
        [ServerFrame::WrongPassword {}, ask(Prompt::Password)]
    );
    assert_eq!(world.stored(), [], "loaded accounts are not stored again");
}
