//! Hostile strangers and users (issue 10), each attack run against the
//! real server while a legitimate user is served: squatting the login
//! prompts from one host, keeping them busy past the login deadline,
//! filling the store for made-up accounts, and guessing passwords. The
//! attacker connects from 127.0.0.2, a second host as far as the server
//! can tell.

use std::net::Ipv4Addr;
use std::thread;
use std::time::Duration;

use natter_core::protocol::{ByeReason, ClientFrame, Prompt, ServerFrame};
use natter_e2e::{Raw, Server};

/// The attacker's host, as far as the server can tell.
const ATTACKER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

#[test]
fn squatting_the_prompts_from_one_host_keeps_nobody_else_out() {
    let server = Server::start(60, 120);
    // The measured attack: 22 connections that sit at the prompts.
    let mut admitted = Vec::new();
    let mut refused = 0;
    for _ in 0..22 {
        let mut raw = Raw::connect_from(ATTACKER, server.port);
        match raw.frame() {
            ServerFrame::Ask {
                prompt: Prompt::Username,
            } => admitted.push(raw),
            ServerFrame::Bye {
                reason: ByeReason::TooManyConnections,
            } => {
                refused += 1;
                raw.closed_silently().unwrap();
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(admitted.len(), 4, "the host's share of the prompts");
    assert_eq!(refused, 18);
    // Users elsewhere log in and chat as usual.
    let mut yoda = server.login("yoda", "wise@!man");
    let mut hans = server.login("hans", "falcon*solo");
    yoda.expect("hans logged in\n");
    hans.send("message yoda still here?");
    yoda.expect("hans: still here?\n");
}

#[test]
fn a_connection_that_keeps_the_prompts_busy_is_dropped_at_the_login_deadline() {
    let server = Server::start_with_options(60, 120, &["--login-timeout", "2"]);
    let mut squatter = Raw::connect_from(ATTACKER, server.port);
    assert!(matches!(squatter.frame(), ServerFrame::Ask { .. }));
    // A bad username every 300 ms: never idle, never logged in.
    let bad = ClientFrame::Username {
        name: "no way".try_into().unwrap(),
    };
    let bye = loop {
        squatter.send(&bad);
        match squatter.frame_where(|f| !matches!(f, ServerFrame::Ask { .. })) {
            ServerFrame::BadUsername { .. } => thread::sleep(Duration::from_millis(300)),
            other => break other,
        }
    };
    assert_eq!(
        bye,
        ServerFrame::Bye {
            reason: ByeReason::LoginTooSlow
        }
    );
    // And a person sees why.
    let mut slow = server.client();
    slow.expect("Username: ");
    slow.expect("Login took too long. Please try again\n");
    assert!(!slow.expect_exit().success());
}

#[test]
fn filling_the_store_for_made_up_accounts_leaves_room_for_everyone_else() {
    // Sign-ups unlimited, to reach the store at all (next test).
    let server = Server::start_with_options(60, 120, &["--signups-per-hour", "0"]);
    // The measured attack: accounts made only to be messaged, then
    // message after message for them from a user who stays online.
    let made: Vec<String> = (0..8).map(|i| format!("sock{i}")).collect();
    for user in &made {
        let mut raw = Raw::connect_from(ATTACKER, server.port);
        raw.send(&ClientFrame::Username {
            name: user.as_str().try_into().unwrap(),
        });
        raw.send(&ClientFrame::Password {
            password: "pw".try_into().unwrap(),
        });
        raw.frame_where(|f| matches!(f, ServerFrame::Welcome { .. }));
        raw.send(&ClientFrame::Logout {});
        raw.frame_where(|f| matches!(f, ServerFrame::Bye { .. }));
    }
    let mut vader = server.raw_login("vader", "sithlord**");
    let long = "x".repeat(natter_core::limits::TEXT_MAX);
    let mut kept = 0;
    for user in made.iter().cycle().take(300) {
        vader.send(&ClientFrame::Message {
            to: user.as_str().try_into().unwrap(),
            text: long.as_str().try_into().unwrap(),
        });
        match vader.frame_where(|f| {
            !matches!(
                f,
                ServerFrame::LoggedIn { .. } | ServerFrame::Accepted { .. }
            )
        }) {
            ServerFrame::Stored { .. } => kept += 1,
            ServerFrame::Refused { .. } => break,
            other => panic!("{other:?}"),
        }
    }
    assert!(kept < 20, "kept {kept} long messages for made-up accounts");
    // Then messages to real users who are offline, until vader's share
    // is used up.
    for user in ["luke", "leia", "r2d2", "c3p0"].iter().cycle().take(300) {
        vader.send(&ClientFrame::Message {
            to: (*user).try_into().unwrap(),
            text: long.as_str().try_into().unwrap(),
        });
        match vader.frame_where(|f| {
            !matches!(
                f,
                ServerFrame::LoggedIn { .. } | ServerFrame::Accepted { .. }
            )
        }) {
            ServerFrame::Stored { .. } => {}
            ServerFrame::Refused { refusal } => {
                assert_eq!(refusal, natter_core::protocol::Refusal::SenderFull);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    // A legitimate user still leaves a message for an offline friend, and
    // the friend gets it.
    let mut hans = server.login("hans", "falcon*solo");
    hans.send("message obiwan see you at the cantina");
    hans.expect("obiwan is offline; they will get your message when they next log in\n");
    let mut obiwan = server.login("obiwan", "(jedimaster)");
    obiwan.expect("hans: see you at the cantina\n");
}

#[test]
fn guessing_passwords_is_slowed_per_address_and_logged_for_fail2ban() {
    let server = Server::start(60, 120);
    let mut guesser = Raw::connect_from(ATTACKER, server.port);
    assert!(matches!(guesser.frame(), ServerFrame::Ask { .. }));
    let guess = |raw: &mut Raw, user: &str| {
        raw.send(&ClientFrame::Username {
            name: user.try_into().unwrap(),
        });
        raw.send(&ClientFrame::Password {
            password: "guess".try_into().unwrap(),
        });
    };
    // R8 as ever: three wrong passwords block hans.
    guess(&mut guesser, "hans");
    for _ in 0..2 {
        guesser.send(&ClientFrame::Password {
            password: "guess".try_into().unwrap(),
        });
    }
    let bye = guesser.frame_where(|f| matches!(f, ServerFrame::Bye { .. }));
    assert!(matches!(
        bye,
        ServerFrame::Bye {
            reason: ByeReason::NowBlocked { .. }
        }
    ));
    // From the address's fourth failure on, its next attempt waits 1 s,
    // then 2 s, before it is even read, whichever username it tries.
    let started = std::time::Instant::now();
    let mut yoda_guesser = Raw::connect_from(ATTACKER, server.port);
    guess(&mut yoda_guesser, "yoda");
    yoda_guesser.send(&ClientFrame::Password {
        password: "guess".try_into().unwrap(),
    });
    for _ in 0..2 {
        yoda_guesser.frame_where(|f| matches!(f, ServerFrame::WrongPassword {}));
    }
    let mut luke_guesser = Raw::connect_from(ATTACKER, server.port);
    guess(&mut luke_guesser, "luke");
    luke_guesser.frame_where(|f| matches!(f, ServerFrame::WrongPassword {}));
    assert!(started.elapsed() >= Duration::from_secs(3), "not slowed");
    // Meanwhile users elsewhere log in at once, and yoda's own count (R8)
    // is at two: yoda is not blocked.
    let _yoda = server.login("yoda", "wise@!man");
    // One line per failure and per block, with the address.
    let log = server.log();
    let failed = log
        .lines()
        .filter(|l| {
            l.starts_with("natter-server: failed login for ") && l.ends_with(" from 127.0.0.2")
        })
        .count();
    assert_eq!(failed, 6, "{log}");
    assert!(
        log.contains(
            "natter-server: hans blocked for 60 s after 3 failed logins, the last from 127.0.0.2\n"
        ),
        "{log}"
    );
    // The shipped fail2ban filter matches those lines, and only those.
    let filter = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../deploy/fail2ban/filter.d/natter.conf"
    ))
    .unwrap();
    let regex = filter
        .lines()
        .find_map(|l| l.strip_prefix("failregex = "))
        .expect("a failregex line");
    assert_eq!(regex, r"^natter-server: failed login for \S+ from <HOST>$");
}

/// Connects from `host` and gives `user`, a name with no account: the
/// frame that answers it, if not a prompt.
fn new_name(port: u16, host: Ipv4Addr, user: &str) -> ServerFrame {
    let mut raw = Raw::connect_from(host, port);
    raw.send(&ClientFrame::Username {
        name: user.try_into().unwrap(),
    });
    raw.frame_where(|f| !matches!(f, ServerFrame::Ask { .. }))
}

#[test]
fn one_host_makes_three_accounts_an_hour_and_newcomers_elsewhere_still_sign_up() {
    let server = Server::start(60, 120);
    // The measured attack: a stranger making every account it can.
    let mut made = 0;
    for n in 0..26 {
        let mut raw = Raw::connect_from(ATTACKER, server.port);
        raw.send(&ClientFrame::Username {
            name: format!("squat{n}").as_str().try_into().unwrap(),
        });
        raw.send(&ClientFrame::Password {
            password: "pw".try_into().unwrap(),
        });
        match raw.frame_where(|f| !matches!(f, ServerFrame::Ask { .. })) {
            ServerFrame::Welcome { .. } => made += 1,
            ServerFrame::TooManySignUps {} => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(made, 3);
    assert_eq!(
        new_name(server.port, ATTACKER, "another"),
        ServerFrame::TooManySignUps {}
    );
    // A newcomer elsewhere signs up as the sample sessions do (L5).
    let mut jaba = server.client();
    jaba.expect("Username: ");
    jaba.send("jaba");
    jaba.expect("This is a new user. Enter a password: ");
    jaba.send("longtongue");
    jaba.expect("Welcome to the greatest messaging application ever!\n");
}

#[test]
fn closed_sign_up_turns_strangers_away_and_the_owner_adds_accounts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("credentials.txt"), "yoda wise@!man\n").unwrap();
    // The owner adds an account (the password from a pipe, as a script
    // would give it) and lists them.
    let (status, out, err) =
        natter_e2e::run_server_with(&["user", "add", "luke"], dir.path(), "light==saber\n");
    assert!(status.success(), "{err}");
    assert_eq!(out, "added luke\n");
    let (status, out, _) = natter_e2e::run_server_with(&["user", "list"], dir.path(), "");
    assert!(status.success());
    assert_eq!(out, "yoda\nluke\n");
    let server = Server::start_with(dir, 60, 120, &["--signup", "closed"]);
    let mut stranger = server.client();
    stranger.expect("Username: ");
    stranger.send("newbie");
    stranger.expect(
        "Error. No such user, and new accounts are not open here: ask the server's owner for one\n",
    );
    stranger.expect("Username: ");
    stranger.send("luke");
    stranger.expect("Password: ");
    stranger.send("light==saber");
    stranger.expect("Welcome to the greatest messaging application ever!\n");
    // While the server runs, the file is its own.
    let (status, _, err) =
        natter_e2e::run_server_with(&["user", "remove", "yoda"], server.dir.path(), "");
    assert!(!status.success());
    assert!(err.contains("in use by a running natter-server"), "{err}");
}

/// Issue 27, item 6: an emoji escaped as a surrogate pair, as any JSON
/// library that escapes non-ASCII writes it, is a message like any other
/// (R13); a lone half is still malformed (R25).
#[test]
fn an_emoji_escaped_as_a_surrogate_pair_is_delivered() {
    let server = Server::start(60, 120);
    let mut hans = server.raw_login("hans", "falcon*solo");
    let mut yoda = server.raw_login("yoda", "wise@!man");
    hans.send_bytes(b"{\"Message\":{\"to\":\"yoda\",\"text\":\"a\\ud83d\\ude00b\"}}\n");
    let frame = yoda.frame_where(|f| matches!(f, ServerFrame::Message { .. }));
    let ServerFrame::Message { from, text, .. } = frame else {
        unreachable!()
    };
    assert_eq!((from.as_str(), text.as_str()), ("hans", "a\u{1f600}b"));
    hans.send_bytes(b"{\"Message\":{\"to\":\"yoda\",\"text\":\"a\\ud83db\"}}\n");
    let frame = hans.frame_where(|f| matches!(f, ServerFrame::Error { .. }));
    assert_eq!(
        frame,
        ServerFrame::Error {
            error: natter_core::protocol::FrameError::Malformed
        }
    );
}

/// Issue 27, item 6: a new name that differs from an account's only in
/// case is refused (it could pass for yoda), and asked again; yoda's own
/// login is case-exact and unchanged.
#[test]
fn a_new_name_that_could_pass_for_another_is_refused() {
    let server = Server::start(60, 120);
    let mut raw = Raw::connect(("127.0.0.1", server.port));
    raw.frame_where(|f| matches!(f, ServerFrame::Ask { .. }));
    raw.send(&ClientFrame::Username {
        name: "Yoda".try_into().unwrap(),
    });
    assert_eq!(
        raw.frame(),
        ServerFrame::UsernameTooLike {
            user: "Yoda".try_into().unwrap(),
            existing: "yoda".try_into().unwrap(),
        }
    );
    assert_eq!(
        raw.frame(),
        ServerFrame::Ask {
            prompt: Prompt::Username
        }
    );
    raw.send(&ClientFrame::Username {
        name: "yoda".try_into().unwrap(),
    });
    assert_eq!(
        raw.frame(),
        ServerFrame::Ask {
            prompt: Prompt::Password
        }
    );
}

/// A squatter from `source`: keeps `each` connections at the prompts,
/// silent, each reconnecting 10 ms after the server lets it go, until
/// `stop`; how many times it was let go.
fn squatter(
    source: Ipv4Addr,
    port: u16,
    each: usize,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> thread::JoinHandle<usize> {
    use std::io::Read;
    use std::sync::atomic::Ordering;
    thread::spawn(move || {
        let connect = || {
            use rustix::net::{AddressFamily, SocketType, bind, connect, ipproto, socket};
            let fd = socket(AddressFamily::INET, SocketType::STREAM, Some(ipproto::TCP)).ok()?;
            bind(&fd, &std::net::SocketAddrV4::new(source, 0)).ok()?;
            let server = std::net::SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
            connect(&fd, &server).ok()?;
            let stream = std::net::TcpStream::from(fd);
            stream
                .set_read_timeout(Some(Duration::from_millis(50)))
                .ok()?;
            Some(stream)
        };
        let mut streams: Vec<Option<std::net::TcpStream>> = (0..each).map(|_| None).collect();
        let mut let_go = 0;
        let mut buf = [0u8; 512];
        while !stop.load(Ordering::Relaxed) {
            for stream in &mut streams {
                match stream {
                    None => *stream = connect(),
                    Some(open) => match open.read(&mut buf) {
                        Ok(0) => {
                            *stream = None;
                            let_go += 1;
                            thread::sleep(Duration::from_millis(10));
                        }
                        Ok(_) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                        Err(_) => *stream = None,
                    },
                }
            }
        }
        let_go
    })
}

/// Issue 27, item 1: 8 addresses squat every slot at the prompts, 4
/// silent connections each, and come back as soon as they are let go; a
/// known user still gets a prompt at once, every time, and logs in
/// (R26: the squatter that makes room is told the server is full).
#[test]
fn squatters_from_eight_addresses_cannot_keep_a_known_user_out() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let server = Server::start(60, 120);
    let mut hans = server.raw_login("hans", "falcon*solo");
    let stop = Arc::new(AtomicBool::new(false));
    let squatters: Vec<_> = (2..10)
        .map(|n| squatter(Ipv4Addr::new(127, 0, 0, n), server.port, 4, stop.clone()))
        .collect();
    // Every slot taken: a newcomer's connection makes some squatter go.
    thread::sleep(Duration::from_millis(500));
    let mut told = Raw::connect_from(Ipv4Addr::new(127, 0, 0, 20), server.port);
    assert!(matches!(told.frame(), ServerFrame::Ask { .. }));
    for round in 0..5 {
        let mut luke = server.raw_login("luke", "light==saber");
        hans.send(&ClientFrame::Message {
            to: "luke".try_into().unwrap(),
            text: format!("round {round}").as_str().try_into().unwrap(),
        });
        let got = luke.frame_where(|f| matches!(f, ServerFrame::Message { .. }));
        let ServerFrame::Message { id, text, .. } = got else {
            unreachable!()
        };
        assert_eq!(text.as_str(), format!("round {round}"));
        luke.send(&ClientFrame::Received { id });
        luke.send(&ClientFrame::Logout {});
        luke.frame_where(|f| matches!(f, ServerFrame::Bye { .. }));
    }
    stop.store(true, Ordering::Relaxed);
    let let_go: usize = squatters.into_iter().map(|t| t.join().unwrap()).sum();
    assert!(let_go >= 6, "the squatters made room {let_go} times");
    let log = server.log();
    assert!(!log.contains("panicked"), "{log}");
}
