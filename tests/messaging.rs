//! Messaging through the server, end to end: sessions S1-S6 of
//! sample-interactions.md, R10-R17, R25-R27 and R29.
//!
//! Absence is proved by order where possible: the server handles frames one
//! at a time and sends each connection's frames in order, so once a client
//! has printed the answer to a request it sent after some event, everything
//! the server meant for it before that answer has been printed too
//! ([`sync`]). A short quiet period is only added on top.

use std::io::Write;
use std::thread;
use std::time::Duration;

use natter_e2e::{Client, Server};

/// Bytes of messages one user may have waiting (core/src/limits.rs), in
/// the store's chunks of 64 bytes.
const MAILBOX_BYTES: usize = 16 * 1024;
const CHUNK_BYTES: usize = 64;

const MAILBOX_FULL: &str = "Error. luke's mailbox is full; message not stored\n";

/// The chunks a message from `from` takes in the store (core/src/store.rs):
/// a 26-byte header, the sender's name and the text.
fn chunks(from: &str, text: &str) -> usize {
    (26 + from.len() + text.len()).div_ceil(CHUNK_BYTES)
}

/// Texts from `from` that fill a mailbox to its last chunk: as many of the
/// longest messages (512 bytes) as fit, then short ones.
fn filling(from: &str, label: &str) -> Vec<String> {
    let mut room = MAILBOX_BYTES / CHUNK_BYTES;
    let mut texts = Vec::new();
    for i in 1.. {
        let short = format!("{label} {i:02}");
        let long: String = format!("{short} ")
            .chars()
            .chain(std::iter::repeat('x'))
            .take(512)
            .collect();
        let text = [long, short].into_iter().find(|t| chunks(from, t) <= room);
        let Some(text) = text else {
            break;
        };
        room -= chunks(from, &text);
        texts.push(text);
    }
    texts
}

/// The answer to `unblock <self>`: a round trip through the server.
const SYNC_MARK: &str = "Error. Cannot unblock self\n";

/// Extra wait before checking that something did not arrive.
const QUIET: Duration = Duration::from_millis(500);

/// A round trip through the server for `name` on `client`: when it returns,
/// everything the server sent this client before has been printed. Returns
/// what was printed since the last expectation (the marker excluded).
fn sync(client: &mut Client, name: &str) -> String {
    client.send(&format!("unblock {name}"));
    client.expect_after(SYNC_MARK)
}

/// The lines of `text`, sorted: for lists in any order (R13, R14).
fn sorted_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    lines
}

/// What `name` on `client` gets for `command` (a server request), up to its
/// end.
fn ask(client: &mut Client, name: &str, command: &str) -> String {
    client.send(command);
    sync(client, name)
}

/// hans, yoda and luke online, in that order, each having seen the others
/// log in.
fn trio(server: &Server) -> (Client, Client, Client) {
    let mut hans = server.login("hans", "falcon*solo");
    let mut yoda = server.login("yoda", "wise@!man");
    assert_eq!(hans.expect_after("yoda logged in\n"), "");
    let luke = server.login("luke", "light==saber");
    assert_eq!(hans.expect_after("luke logged in\n"), "");
    assert_eq!(yoda.expect_after("luke logged in\n"), "");
    (hans, yoda, luke)
}

/// The notice that a message waits for `user`'s next login: shown to the
/// sender once, until `user` logs in.
fn kept(user: &str) -> String {
    format!("{user} is offline; they will get your message when they next log in\n")
}

/// The header over the messages that waited for a login (R17).
fn away(n: usize) -> String {
    match n {
        1 => "While you were away: 1 message\n".into(),
        n => format!("While you were away: {n} messages\n"),
    }
}

/// `text` with the `HH:MM ` that starts each of its lines taken off: the
/// time each message that waited was sent. Panics if a line has none.
fn unstamped(text: &str) -> String {
    text.lines()
        .map(|line| {
            let (stamp, rest) = line.split_at_checked(6).unwrap_or(("", line));
            let b = stamp.as_bytes();
            assert!(
                b.len() == 6
                    && b[2] == b':'
                    && b[5] == b' '
                    && [0, 1, 3, 4].iter().all(|&i| b[i].is_ascii_digit()),
                "no HH:MM time stamp on {line:?}"
            );
            format!("{rest}\n")
        })
        .collect()
}

/// Logs `client` out and waits for it to exit cleanly (R18).
fn logout(client: &mut Client) {
    client.send("logout");
    assert!(client.expect_exit().success(), "logout must exit 0");
}

#[test]
fn s1_whoelse_lists_the_others_and_unknown_words_are_invalid() {
    let server = Server::start(60, 120);
    let (mut hans, _yoda, mut luke) = trio(&server);
    // R13: one per line, any order, never oneself.
    let listed = ask(&mut hans, "hans", "whoelse");
    assert_eq!(sorted_lines(&listed), ["luke", "yoda"], "{listed:?}");
    assert!(listed.ends_with('\n'));
    let listed = ask(&mut luke, "luke", "whoelse");
    assert_eq!(sorted_lines(&listed), ["hans", "yoda"], "{listed:?}");

    hans.send("whatsthetime");
    assert_eq!(hans.expect_after("Error. Invalid command\n"), "");
    // The session goes on.
    let listed = ask(&mut hans, "hans", "whoelse");
    assert_eq!(sorted_lines(&listed), ["luke", "yoda"], "{listed:?}");
}

#[test]
fn s2_a_message_reaches_its_user_and_bad_recipients_are_refused() {
    let server = Server::start(60, 120);
    let (mut hans, mut yoda, mut luke) = trio(&server);
    hans.send("message yoda Hey Dude");
    assert_eq!(yoda.expect_after("hans: Hey Dude\n"), "");
    // R10: an account that does not exist, and oneself.
    hans.send("message bob party time");
    hans.send("message hans hi");
    assert_eq!(
        sync(&mut hans, "hans"),
        "Error. Invalid user\nError. Cannot message self\n"
    );
    // Nobody else got anything.
    assert_eq!(sync(&mut luke, "luke"), "");
    assert_eq!(sync(&mut yoda, "yoda"), "");
}

#[test]
fn s3_a_broadcast_reaches_everyone_else() {
    let server = Server::start(60, 120);
    let (mut hans, mut yoda, mut luke) = trio(&server);
    hans.send("broadcast vader is evil");
    assert_eq!(yoda.expect_after("hans: vader is evil\n"), "");
    assert_eq!(luke.expect_after("hans: vader is evil\n"), "");
    // hans sees nothing more: not his own broadcast, no refusal.
    assert_eq!(sync(&mut hans, "hans"), "");
}

#[test]
fn s4_blocking_table_steps_1_to_8() {
    let server = Server::start(60, 120);
    let (mut hans, mut yoda, mut luke) = trio(&server);

    // 1
    luke.send("block hans");
    assert_eq!(luke.expect_after("hans is blocked\n"), "");

    // 2: yoda gets it, luke does not, hans is told.
    hans.send("broadcast I travel solo");
    assert_eq!(
        hans.expect_after("Your message could not be delivered to some recipients\n"),
        ""
    );
    assert_eq!(yoda.expect_after("hans: I travel solo\n"), "");
    // yoda writes to luke after the broadcast was handled, so anything the
    // broadcast sent luke would be printed before this.
    yoda.send("message luke after the broadcast");
    assert_eq!(
        luke.expect_after("yoda: after the broadcast\n"),
        "",
        "luke blocked hans: the broadcast must not reach him"
    );
    luke.expect_absent("I travel solo", QUIET);

    // 3: luke is hidden from hans.
    let listed = ask(&mut hans, "hans", "whoelse");
    assert_eq!(listed, "yoda\n");

    // 4
    hans.send("message luke You angry?");
    assert_eq!(
        hans.expect_after("Your message could not be delivered as the recipient has blocked you\n"),
        ""
    );

    // 5
    hans.send("block hans");
    assert_eq!(hans.expect_after("Error. Cannot block self\n"), "");

    // 6
    luke.send("unblock yoda");
    assert_eq!(luke.expect_after("Error. yoda was not blocked\n"), "");

    // 7: and luke never saw step 4's message.
    luke.send("unblock hans");
    assert_eq!(luke.expect_after("hans is unblocked\n"), "");

    // 8: everyone again, and no refusal for hans.
    hans.send("broadcast jedis are cool");
    assert_eq!(yoda.expect_after("hans: jedis are cool\n"), "");
    assert_eq!(luke.expect_after("hans: jedis are cool\n"), "");
    assert_eq!(sync(&mut hans, "hans"), "");
    // hans sees luke again (R16 reverses R15).
    let listed = ask(&mut hans, "hans", "whoelse");
    assert_eq!(sorted_lines(&listed), ["luke", "yoda"]);
}

#[test]
fn r15_block_hides_presence_and_history_and_the_blocked_user_can_still_be_messaged() {
    let server = Server::start(60, 120);
    let (mut hans, mut yoda, mut luke) = trio(&server);
    luke.send("block hans");
    assert_eq!(luke.expect_after("hans is blocked\n"), "");
    // R15: already blocked, invalid user, self.
    luke.send("block hans");
    assert_eq!(luke.expect_after("Error. hans is already blocked\n"), "");
    luke.send("block bob");
    assert_eq!(luke.expect_after("Error. Invalid user\n"), "");
    luke.send("unblock bob");
    assert_eq!(luke.expect_after("Error. Invalid user\n"), "");
    luke.send("block luke");
    assert_eq!(luke.expect_after("Error. Cannot block self\n"), "");

    // One way only: luke's messages still reach hans, and hans is never told.
    luke.send("message hans still friends?");
    assert_eq!(hans.expect_after("luke: still friends?\n"), "");

    // R11: luke's logout is told to yoda, not to hans.
    logout(&mut luke);
    assert_eq!(yoda.expect_after("luke logged out\n"), "");
    assert_eq!(
        sync(&mut hans, "hans"),
        "",
        "hans is blocked by luke: no presence notice"
    );
    hans.expect_absent("luke logged out", QUIET);

    // Nor does hans see luke in the history (R14, R15); yoda does.
    let listed = ask(&mut hans, "hans", "whoelsesince 100");
    assert_eq!(listed, "yoda\n");
    let listed = ask(&mut yoda, "yoda", "whoelsesince 100");
    assert_eq!(sorted_lines(&listed), ["hans", "luke"]);

    // The block outlives the session: luke's next login is hidden too.
    let mut luke = server.login("luke", "light==saber");
    assert_eq!(yoda.expect_after("luke logged in\n"), "");
    assert_eq!(sync(&mut hans, "hans"), "");
    // Blocking is one way: luke still hears of hans.
    logout(&mut hans);
    assert_eq!(luke.expect_after("hans logged out\n"), "");
    assert_eq!(yoda.expect_after("hans logged out\n"), "");
}

#[test]
fn s5_whoelsesince_counts_users_who_have_logged_out_inside_the_window() {
    let server = Server::start(60, 120);
    let (mut hans, mut yoda, mut luke) = trio(&server);
    let mut online = [&mut hans, &mut yoda, &mut luke];

    // r2d2 comes and goes first ...
    let mut r2d2 = server.login("r2d2", "do*!@#dedo");
    logout(&mut r2d2);
    for client in online.iter_mut() {
        assert_eq!(client.expect_after("r2d2 logged in\nr2d2 logged out\n"), "");
    }
    // ... then, well over the window below later, vader.
    thread::sleep(Duration::from_millis(4000));
    let mut vader = server.login("vader", "sithlord**");
    logout(&mut vader);
    for client in online.iter_mut().rev() {
        assert_eq!(
            client.expect_after("vader logged in\nvader logged out\n"),
            ""
        );
    }

    // The window of 2 s starts over 2 s after r2d2 left and ends with vader
    // gone for less than a round trip.
    let listed = ask(&mut luke, "luke", "whoelsesince 2");
    assert_eq!(
        sorted_lines(&listed),
        ["hans", "vader", "yoda"],
        "{listed:?}"
    );
    // Longer than the uptime: since the server started.
    let listed = ask(&mut yoda, "yoda", "whoelsesince 100");
    assert_eq!(
        sorted_lines(&listed),
        ["hans", "luke", "r2d2", "vader"],
        "{listed:?}"
    );
    let listed = ask(&mut yoda, "yoda", "whoelsesince 99999999999999999999999");
    assert_eq!(sorted_lines(&listed), ["hans", "luke", "r2d2", "vader"]);

    // R14: a negative or non-numeric time is a usage error.
    for bad in ["whoelsesince -5", "whoelsesince ten", "whoelsesince"] {
        luke.send(bad);
        assert_eq!(
            luke.expect_after("Error. Usage: whoelsesince <seconds>\n"),
            "",
            "{bad}"
        );
    }
    assert_eq!(sync(&mut luke, "luke"), "");
}

#[test]
fn s6_an_offline_message_is_shown_at_login_exactly_once() {
    let server = Server::start(60, 120);
    let mut hans = server.login("hans", "falcon*solo");
    let mut yoda = server.login("yoda", "wise@!man");
    assert_eq!(hans.expect_after("yoda logged in\n"), "");

    hans.send("message luke Let's rock");
    assert_eq!(sync(&mut hans, "hans"), kept("luke"), "kept for luke");

    // Under a header, with the time it was sent (R17 allows a stamp).
    let mut luke = server.login("luke", "light==saber");
    assert_eq!(luke.expect_after(&away(1)), "");
    let line = luke.expect_after("hans: Let's rock\n") + "hans: Let's rock\n";
    assert_eq!(unstamped(&line), "hans: Let's rock\n");
    assert_eq!(hans.expect_after("luke logged in\n"), "");
    assert_eq!(yoda.expect_after("luke logged in\n"), "");

    logout(&mut yoda);
    assert_eq!(hans.expect_after("yoda logged out\n"), "");
    assert_eq!(luke.expect_after("yoda logged out\n"), "");

    // R17: shown once, never again.
    logout(&mut luke);
    assert_eq!(hans.expect_after("luke logged out\n"), "");
    let mut luke = server.login("luke", "light==saber");
    assert_eq!(hans.expect_after("luke logged in\n"), "");
    assert_eq!(sync(&mut luke, "luke"), "");
    luke.expect_absent("Let's rock", QUIET);
}

/// Trials of a race that, when the client gets it wrong, goes wrong more
/// often than not.
const CROSSING_TRIALS: usize = 10;

#[test]
fn r17_a_message_that_crosses_a_logout_is_shown_exactly_once() {
    // hans writes as luke logs out: the message reaches luke's client
    // before, or after he sent `logout` (then before the server's goodbye),
    // or is kept for his next login. Whichever it is, luke sees it once.
    let server = Server::start(60, 120);
    let mut hans = server.login("hans", "falcon*solo");
    for trial in 0..CROSSING_TRIALS {
        let mut luke = server.login("luke", "light==saber");
        assert_eq!(hans.expect_after("luke logged in\n"), "");
        let line = format!("hans: crossing {trial}\n");
        hans.send(&format!("message luke crossing {trial}"));
        luke.send("logout");
        assert!(luke.expect_exit().success());
        assert_eq!(hans.expect_after("luke logged out\n"), "");
        // The message has been handled before luke comes back: delivered,
        // or kept (and hans told so).
        let answer = sync(&mut hans, "hans");
        assert!(answer.is_empty() || answer == kept("luke"), "{answer:?}");
        let before = luke.take_output();

        let mut luke = server.login("luke", "light==saber");
        assert_eq!(hans.expect_after("luke logged in\n"), "");
        let after = sync(&mut luke, "luke");
        assert_eq!(
            before.matches(&line).count() + after.matches(&line).count(),
            1,
            "trial {trial}: shown before logging out: {before:?}; at the next login: {after:?}"
        );
        logout(&mut luke);
        assert_eq!(hans.expect_after("luke logged out\n"), "");
    }
}

#[test]
fn r17_offline_messages_arrive_oldest_first() {
    let server = Server::start(60, 120);
    let mut hans = server.login("hans", "falcon*solo");
    let mut yoda = server.login("yoda", "wise@!man");
    assert_eq!(hans.expect_after("yoda logged in\n"), "");
    hans.send("message luke one");
    assert_eq!(sync(&mut hans, "hans"), kept("luke"));
    yoda.send("message luke two");
    assert_eq!(sync(&mut yoda, "yoda"), kept("luke"));
    hans.send("message luke three");
    assert_eq!(sync(&mut hans, "hans"), "", "told once is enough");
    // R12: broadcasts are not kept for users offline.
    hans.send("broadcast not for luke");
    assert_eq!(yoda.expect_after("hans: not for luke\n"), "");

    let mut luke = server.login("luke", "light==saber");
    assert_eq!(luke.expect_after(&away(3)), "");
    let shown = luke.expect_after("hans: three\n") + "hans: three\n";
    assert_eq!(
        unstamped(&shown),
        "hans: one\nyoda: two\nhans: three\n",
        "oldest first"
    );
    assert_eq!(sync(&mut luke, "luke"), "");
}

#[test]
fn r26_a_full_mailbox_refuses_with_an_error_and_loses_nothing() {
    let server = Server::start(60, 120);
    let mut hans = server.login("hans", "falcon*solo");
    let mut yoda = server.login("yoda", "wise@!man");
    assert_eq!(hans.expect_after("yoda logged in\n"), "");

    let letters = filling("hans", "letter");
    let depth = letters.len();
    for letter in &letters {
        hans.send(&format!("message luke {letter}"));
    }
    assert_eq!(sync(&mut hans, "hans"), kept("luke"), "{depth} fit");
    hans.send("message luke one too many");
    assert_eq!(hans.expect_after(MAILBOX_FULL), "");
    // The mailbox is luke's, whoever writes.
    yoda.send("message luke me too");
    assert_eq!(yoda.expect_after(MAILBOX_FULL), "");
    // Others' mailboxes are not affected.
    hans.send("message vader hello");
    assert_eq!(sync(&mut hans, "hans"), kept("vader"));

    let mut luke = server.login("luke", "light==saber");
    assert_eq!(luke.expect_after(&away(depth)), "");
    let last = format!("hans: {}\n", letters[depth - 1]);
    let shown = luke.expect_after(&last) + &last;
    let expected: String = letters.iter().map(|l| format!("hans: {l}\n")).collect();
    assert_eq!(unstamped(&shown), expected, "all {depth}, in order");
    // Nothing refused turns up.
    assert_eq!(sync(&mut luke, "luke"), "");
    assert_eq!(hans.expect_after("luke logged in\n"), "");

    // Once shown, the mailbox is empty again.
    hans.send("message luke welcome back");
    assert_eq!(luke.expect_after("hans: welcome back\n"), "");
    assert_eq!(sync(&mut hans, "hans"), "");
}

#[test]
fn r26_a_full_message_store_refuses_with_an_error_and_frees_up_when_read() {
    // The default store (core/src/capacity.rs) = 128 KiB = 8 offline users' full
    // mailboxes, and SENDER_BYTES = 32 KiB, two of them: it takes four
    // senders. r2d2 and leia send first, then go offline to be written to.
    let server = Server::start(60, 120);
    let fill = |sender: &mut Client, from: &str, to: [&str; 2]| {
        for user in to {
            for letter in &filling(from, "letter") {
                sender.send(&format!("message {user} {letter}"));
            }
            assert_eq!(sync(sender, from), kept(user), "{from} to {user}");
        }
    };
    for (from, password, to) in [
        ("r2d2", "do*!@#dedo", ["vader", "c3p0"]),
        ("leia", "$blasterpistol$", ["obiwan", "luke"]),
    ] {
        let mut sender = server.login(from, password);
        fill(&mut sender, from, to);
        sender.send("logout");
        sender.expect_exit();
    }
    let mut hans = server.login("hans", "falcon*solo");
    let mut yoda = server.login("yoda", "wise@!man");
    assert_eq!(hans.expect_after("yoda logged in\n"), "");
    fill(&mut hans, "hans", ["chewy", "palpatine"]);
    fill(&mut yoda, "yoda", ["r2d2", "leia"]);
    let letters = filling("leia", "letter");
    let store_full = "Error. The server's message store is full; message not stored. \
                      Please try again later\n";
    // Nothing more can be kept, not even for a user online (R26, R27).
    hans.send("message yoda are you there?");
    assert_eq!(hans.expect_after(store_full), "");
    assert_eq!(sync(&mut yoda, "yoda"), "");
    hans.send("broadcast anyone?");
    assert_eq!(
        hans.expect_after("Your message could not be delivered to some recipients\n"),
        ""
    );

    // luke reads his: room again.
    let mut luke = server.login("luke", "light==saber");
    assert_eq!(luke.expect_after(&away(letters.len())), "");
    let shown = sync(&mut luke, "luke");
    let expected: String = letters.iter().map(|l| format!("leia: {l}\n")).collect();
    assert_eq!(unstamped(&shown), expected);
    assert_eq!(hans.expect_after("luke logged in\n"), "");
    assert_eq!(yoda.expect_after("luke logged in\n"), "");
    hans.send("message yoda are you there now?");
    assert_eq!(yoda.expect_after("hans: are you there now?\n"), "");
    assert_eq!(sync(&mut hans, "hans"), "");
}

#[test]
fn r26_message_length_is_limited_and_the_longest_message_arrives_whole() {
    let server = Server::start(60, 120);
    let (mut hans, mut yoda, _luke) = trio(&server);
    // TEXT_MAX = 512 bytes of UTF-8.
    let longest = "é".repeat(256);
    hans.send(&format!("message yoda {longest}"));
    assert_eq!(yoda.expect_after(&format!("hans: {longest}\n")), "");
    hans.send(&format!("message yoda {longest}x"));
    assert_eq!(
        hans.expect_after("Error. Message too long (at most 512 bytes)\n"),
        ""
    );
    hans.send(&format!("broadcast {longest}x"));
    assert_eq!(
        hans.expect_after("Error. Message too long (at most 512 bytes)\n"),
        ""
    );
    // The longest message in the longest escaped form still fits a frame.
    let escapes = "\x1b".repeat(512);
    hans.send(&format!("message yoda {escapes}"));
    assert_eq!(
        yoda.expect_after(&format!("hans: {}\n", "^[".repeat(512))),
        ""
    );
    assert_eq!(sync(&mut hans, "hans"), "");
    assert_eq!(sync(&mut yoda, "yoda"), "");
}

#[test]
fn r3_r10_text_round_trips_byte_for_byte() {
    let server = Server::start(60, 120);
    let (mut hans, mut yoda, _luke) = trio(&server);
    let texts = [
        r#"~!@#$%^&*_-+=`|\(){}[]:;"'<>,.?/"#,
        r#"she said "hi" and 'bye' \ back\\slashes\"#,
        r"a literal \n, \t, \r, \u001b and \x1b stay as typed",
        "inner   spaces  and a trailing dot .",
        "non-ASCII: é, 日本, 🚀, Ünïcödé",
        r#"{"Message":{"id":1,"from":"yoda","text":"forged"}}"#,
    ];
    for text in texts {
        hans.send(&format!("message yoda {text}"));
        let line = format!("hans: {text}\n");
        assert_eq!(yoda.expect_after(&line), "", "{text}");
    }
    // The same through a broadcast.
    let text = texts.concat();
    hans.send(&format!("broadcast {text}"));
    assert_eq!(yoda.expect_after(&format!("hans: {text}\n")), "");
    assert_eq!(sync(&mut hans, "hans"), "");
}

#[test]
fn r29_escape_sequences_are_neutralised() {
    let server = Server::start(60, 120);
    let mut hans = server.login("hans", "falcon*solo");
    let mut yoda = server.login("yoda", "wise@!man");
    assert_eq!(hans.expect_after("yoda logged in\n"), "");
    hans.send("message yoda \x1b[31mred\x1b[0m and \x1b]0;title\x07 bell\x7f");
    assert_eq!(
        yoda.expect_after("hans: ^[[31mred^[[0m and ^[]0;title^G bell^?\n"),
        ""
    );
    // Offline too, and as a broadcast.
    hans.send("message luke \x1b[2Jcleared?");
    assert_eq!(sync(&mut hans, "hans"), kept("luke"));
    hans.send("broadcast \x1b[1A\r\x1b[Kforged line");
    assert_eq!(yoda.expect_after("hans: ^[[1A^M^[[Kforged line\n"), "");
    let mut luke = server.login("luke", "light==saber");
    assert_eq!(luke.expect_after(&away(1)), "");
    let line = luke.expect_after("hans: ^[[2Jcleared?\n") + "hans: ^[[2Jcleared?\n";
    assert_eq!(unstamped(&line), "hans: ^[[2Jcleared?\n");
    assert_eq!(yoda.expect_after("luke logged in\n"), "");
    let rest = sync(&mut luke, "luke") + &sync(&mut yoda, "yoda");
    assert!(!rest.contains('\x1b'), "{rest:?}");
}

#[test]
fn r27_a_receiver_that_stops_reading_stalls_nobody_and_loses_nothing() {
    let server = Server::start(60, 120);
    let mut hans = server.login("hans", "falcon*solo");
    let mut yoda = server.login("yoda", "wise@!man");
    assert_eq!(hans.expect_after("yoda logged in\n"), "");

    // luke logs in by hand and then never reads.
    let mut raw = server.raw();
    raw.write_all(
        b"{\"Username\":{\"name\":\"luke\"}}\n{\"Password\":{\"password\":\"light==saber\"}}\n",
    )
    .unwrap();
    assert_eq!(hans.expect_after("luke logged in\n"), "");
    assert_eq!(yoda.expect_after("luke logged in\n"), "");

    // hans writes to luke until refused; the others keep chatting between
    // every message, and each chat line arrives.
    let mut stored = Vec::new();
    let mut refused = 0;
    for i in 1..=200 {
        let text = format!("unread {i:02} {}", "x".repeat(400));
        hans.send(&format!("message luke {text}"));
        match sync(&mut hans, "hans").as_str() {
            "" => {
                assert_eq!(refused, 0, "stored after a refusal: {text}");
                stored.push(text);
            }
            MAILBOX_FULL => refused += 1,
            other => panic!("unexpected answer {other:?}"),
        }
        yoda.send(&format!("message hans chat {i}"));
        assert_eq!(hans.expect_after(&format!("yoda: chat {i}\n")), "");
        hans.send(&format!("message yoda reply {i}"));
        assert_eq!(yoda.expect_after(&format!("hans: reply {i}\n")), "");
        if refused >= 3 {
            break;
        }
    }
    assert_eq!(
        refused, 3,
        "the sender must hear that luke's mailbox is full"
    );
    // Sent but unacknowledged messages count toward the mailbox (R26, R27).
    let fit = MAILBOX_BYTES / CHUNK_BYTES / chunks("hans", &stored[0]);
    assert_eq!(stored.len(), fit);

    drop(raw);
    assert_eq!(hans.expect_after("luke logged out\n"), "");
    assert_eq!(yoda.expect_after("luke logged out\n"), "");

    let mut luke = server.login("luke", "light==saber");
    assert_eq!(luke.expect_after(&away(fit)), "");
    let shown = sync(&mut luke, "luke");
    let expected: String = stored.iter().map(|t| format!("hans: {t}\n")).collect();
    assert_eq!(
        unstamped(&shown),
        expected,
        "every stored message, in order, once"
    );
    assert_eq!(hans.expect_after("luke logged in\n"), "");

    // Exactly once: nothing again at the next login.
    logout(&mut luke);
    assert_eq!(hans.expect_after("luke logged out\n"), "");
    let mut luke = server.login("luke", "light==saber");
    assert_eq!(hans.expect_after("luke logged in\n"), "");
    assert_eq!(sync(&mut luke, "luke"), "");
}

#[test]
fn usage_errors_do_not_end_the_session() {
    let server = Server::start(60, 120);
    let (mut hans, mut yoda, _luke) = trio(&server);
    for (line, usage) in [
        ("message", "message <user> <message>"),
        ("message yoda", "message <user> <message>"),
        ("message yoda   ", "message <user> <message>"),
        ("broadcast", "broadcast <message>"),
        ("block", "block <user>"),
        ("unblock", "unblock <user>"),
        ("block hans yoda", "block <user>"),
        ("whoelse luke", "whoelse"),
        ("logout now", "logout"),
    ] {
        hans.send(line);
        assert_eq!(
            hans.expect_after(&format!("Error. Usage: {usage}\n")),
            "",
            "{line:?}"
        );
    }
    // Still logged in, still heard.
    hans.send("message yoda still here");
    assert_eq!(yoda.expect_after("hans: still here\n"), "");
    assert_eq!(sync(&mut hans, "hans"), "");
}

/// Issue 9, fairness: while one logged-in user sends commands as fast as
/// TCP lets it and a stranger sends blank lines without pause, two users
/// go on chatting: every message arrives (each wait is bounded), in order,
/// and nothing of theirs is refused. The flooder is slowed, not cut off.
#[test]
fn a_flooding_connection_holds_up_nobody() {
    use natter_core::protocol::Text;
    use natter_core::{ClientFrame, ServerFrame};
    use std::net::TcpStream;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let server = Server::start(60, 600);
    let mut hans = server.raw_login("hans", "falcon*solo");
    let mut yoda = server.raw_login("yoda", "wise@!man");
    // Bytes the floods wrote. Their writes block while the server is not
    // reading them; the threads end when the server goes.
    let flooded = Arc::new(AtomicUsize::new(0));
    let flood = |login: &'static [u8], line: &'static [u8]| {
        let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        let flooded = flooded.clone();
        thread::spawn(move || {
            stream.write_all(login)?;
            // Whole lines only: a flood of valid commands, not of errors
            // (whose replies a client that never reads would pile up).
            let burst = line.repeat(4096);
            loop {
                stream.write_all(&burst)?;
                flooded.fetch_add(burst.len(), Ordering::Relaxed);
            }
            #[allow(unreachable_code)]
            Ok::<(), std::io::Error>(())
        });
    };
    flood(
        b"{\"Username\":{\"name\":\"luke\"}}\n{\"Password\":{\"password\":\"light==saber\"}}\n",
        b"{\"PrivateActivity\":{}}\n",
    );
    flood(b"", b"\n");
    thread::sleep(Duration::from_millis(200));
    for i in 0..300 {
        let (from, to, name) = if i % 2 == 0 {
            (&mut hans, &mut yoda, "yoda")
        } else {
            (&mut yoda, &mut hans, "hans")
        };
        let text = format!("line {i}");
        from.send(&ClientFrame::Message {
            to: name.try_into().unwrap(),
            text: Text::try_from(text.as_str()).unwrap(),
        });
        let got = to.frame_where(|f| {
            assert!(
                !matches!(f, ServerFrame::Refused { .. }),
                "refused during the flood: {f:?}"
            );
            matches!(f, ServerFrame::Message { .. })
        });
        let ServerFrame::Message { id, text: t, .. } = got else {
            unreachable!()
        };
        assert_eq!(t.as_str(), text, "in order");
        to.send(&ClientFrame::Received { id });
    }
    assert!(flooded.load(Ordering::Relaxed) > 0, "the floods ran");
    // luke was slowed, not dropped: the server still answers him.
    let mut check = server.raw_login("leia", "$blasterpistol$");
    check.send(&ClientFrame::WhoElse {});
    let ServerFrame::Users { users, .. } =
        check.frame_where(|f| matches!(f, ServerFrame::Users { .. }))
    else {
        unreachable!()
    };
    assert!(
        users.iter().any(|u| u.as_str() == "luke"),
        "{users:?}\n{}",
        server.log()
    );
}
