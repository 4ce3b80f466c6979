//! Private (peer-to-peer) messaging end to end (issue 4): session S7 of
//! sample-interactions.md, R19-R24, R28, R29. Real servers and clients;
//! where a test must see the introduction itself (the port, the secret) it
//! plays the initiator over raw TCP with natter-core's frames.

use std::time::Duration;

use natter_core::protocol::{PeerBye, PeerFrame, Secret, Text};
use natter_core::{ClientFrame, ServerFrame};
use natter_e2e::{Client, Raw, Server};

const QUIET: Duration = Duration::from_millis(500);

fn question(from: &str) -> String {
    format!("{from} would like to private message, enter y or n: ")
}

/// hans asks luke, luke accepts: the session is up on both sides.
fn open_session(hans: &mut Client, luke: &mut Client) {
    hans.send("startprivate luke");
    hans.expect("Start private messaging with luke\n");
    luke.expect(&question("hans"));
    luke.send("y");
    hans.expect("luke accepts private messaging\n");
}

#[test]
fn s7_private_messaging_alongside_the_server() {
    let server = Server::start(60, 120);
    let mut hans = server.login("hans", "falcon*solo");
    let mut yoda = server.login("yoda", "wise@!man");
    let mut luke = server.login("luke", "light==saber");
    hans.expect("luke logged in\n");
    yoda.expect("luke logged in\n");
    // 1
    hans.send("private luke hey dude");
    hans.expect("Error. Private messaging to luke not enabled\n");
    // 2-4
    open_session(&mut hans, &mut luke);
    // 5, 6
    hans.send("private luke hey dude");
    luke.expect("hans(private): hey dude\n");
    luke.send("private hans hello man");
    hans.expect("luke(private): hello man\n");
    // 7, 8: server messages alongside (R24)
    hans.send("message yoda force is strong");
    yoda.expect("hans: force is strong\n");
    hans.send("message luke now via server");
    luke.expect("hans: now via server\n");
    // 9: logout ends the session, with notices (R23)
    hans.send("logout");
    assert!(hans.expect_exit().success());
    yoda.expect("hans logged out\n");
    luke.expect("hans logged out\n");
    luke.expect("Private messaging with hans ended: hans logged out\n");
    luke.send("private hans still there?");
    luke.expect("Error. Private messaging to hans not enabled\n");
    // Nobody else saw private text.
    assert!(!yoda.take_output().contains("(private)"));
}

#[test]
fn r19_a_declined_request_opens_nothing() {
    let server = Server::start(60, 120);
    let mut hans = server.login("hans", "falcon*solo");
    let mut luke = server.login("luke", "light==saber");
    hans.send("startprivate luke");
    luke.expect(&question("hans"));
    luke.send("n");
    hans.expect("luke declines private messaging\n");
    hans.send("private luke hi");
    hans.expect("Error. Private messaging to luke not enabled\n");
    // luke's next line is a command again.
    luke.send("whoelse");
    luke.expect("hans\n");
}

#[test]
fn r19_an_answer_other_than_y_or_n_is_asked_again() {
    let server = Server::start(60, 120);
    let mut hans = server.login("hans", "falcon*solo");
    let mut luke = server.login("luke", "light==saber");
    hans.send("startprivate luke");
    luke.expect(&question("hans"));
    luke.send("maybe");
    luke.expect("Please enter y or n: ");
    // A command typed meanwhile is carried out, not lost; the question stays.
    // (The question is shown again at once; the server's answer follows.)
    luke.send("whoelse");
    luke.expect("Please enter y or n: ");
    luke.expect("hans\n");
    luke.send("y");
    hans.expect("luke accepts private messaging\n");
}

#[test]
fn r19_refusals() {
    let server = Server::start(60, 120);
    let mut hans = server.login("hans", "falcon*solo");
    let mut luke = server.login("luke", "light==saber");
    hans.send("startprivate bob");
    hans.expect("Error. Invalid user\n");
    hans.send("startprivate hans");
    hans.expect("Error. Cannot start private messaging with self\n");
    hans.send("startprivate vader");
    hans.expect("Error. vader is offline\n");
    luke.send("block hans");
    luke.expect("hans is blocked\n");
    hans.send("startprivate luke");
    hans.expect("Error. Cannot start private messaging as luke has blocked you\n");
    // The server does not ask luke.
    luke.expect_absent("would like to private message", QUIET);
    hans.send("stopprivate luke");
    hans.expect("Error. Private messaging to luke not enabled\n");
    hans.send("startprivate");
    hans.expect("Error. Usage: startprivate <user>\n");
}

#[test]
fn r21_either_side_may_stop() {
    let server = Server::start(60, 120);
    let mut hans = server.login("hans", "falcon*solo");
    let mut luke = server.login("luke", "light==saber");
    for (stopper, other, stopper_name, other_name) in [
        ("hans", "luke", "hans", "luke"),
        ("luke", "hans", "luke", "hans"),
    ] {
        open_session(&mut hans, &mut luke);
        let (stopping, told) = if stopper == "hans" {
            (&mut hans, &mut luke)
        } else {
            (&mut luke, &mut hans)
        };
        stopping.send(&format!("stopprivate {other}"));
        stopping.expect(&format!("Stopped private messaging with {other_name}\n"));
        told.expect(&format!("{stopper_name} stopped private messaging\n"));
        stopping.send(&format!("private {other} hello?"));
        stopping.expect(&format!(
            "Error. Private messaging to {other_name} not enabled\n"
        ));
        told.send(&format!("private {stopper} hello?"));
        told.expect(&format!(
            "Error. Private messaging to {stopper_name} not enabled\n"
        ));
    }
}

#[test]
fn r20_a_session_outlives_a_later_block() {
    let server = Server::start(60, 120);
    let mut hans = server.login("hans", "falcon*solo");
    let mut luke = server.login("luke", "light==saber");
    open_session(&mut hans, &mut luke);
    luke.send("block hans");
    luke.expect("hans is blocked\n");
    hans.send("message luke via server");
    hans.expect("Your message could not be delivered as the recipient has blocked you\n");
    hans.send("private luke still private");
    luke.expect("hans(private): still private\n");
}

#[test]
fn r24_sessions_with_several_users_at_once() {
    let server = Server::start(60, 120);
    let mut hans = server.login("hans", "falcon*solo");
    let mut luke = server.login("luke", "light==saber");
    let mut yoda = server.login("yoda", "wise@!man");
    open_session(&mut hans, &mut luke);
    hans.send("startprivate yoda");
    yoda.expect(&question("hans"));
    yoda.send("y");
    hans.expect("yoda accepts private messaging\n");
    hans.send("startprivate luke");
    hans.expect("Error. Private messaging with luke is already enabled\n");
    hans.send("private yoda to yoda");
    hans.send("private luke to luke");
    yoda.expect("hans(private): to yoda\n");
    luke.expect("hans(private): to luke\n");
    assert!(!yoda.take_output().contains("to luke"));
}

#[test]
fn r22_r23_private_commands_alone_keep_a_user_logged_in() {
    let server = Server::start(60, 3);
    let mut hans = server.login("hans", "falcon*solo");
    let mut luke = server.login("luke", "light==saber");
    open_session(&mut hans, &mut luke);
    // Six seconds of private messages only: twice the timeout.
    for i in 0..6 {
        hans.send(&format!("private luke ping {i}"));
        luke.expect(&format!("hans(private): ping {i}\n"));
        luke.send(&format!("private hans pong {i}"));
        hans.expect(&format!("luke(private): pong {i}\n"));
        std::thread::sleep(Duration::from_millis(1000));
    }
    assert!(
        !hans.take_output().contains("inactivity"),
        "private commands are activity (R22)"
    );
    assert!(!luke.take_output().contains("inactivity"));
    // Then silence: the timeout ends both, and each side hears of it (R23).
    hans.expect("You have been logged out due to inactivity\n");
    luke.expect("You have been logged out due to inactivity\n");
}

#[test]
fn r23_a_timeout_ends_the_session_with_a_notice() {
    let server = Server::start(60, 3);
    let mut hans = server.login("hans", "falcon*solo");
    let mut luke = server.login("luke", "light==saber");
    open_session(&mut hans, &mut luke);
    // luke keeps talking to the server; hans says nothing and times out.
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(1000));
        luke.send("whoelse");
    }
    hans.expect("You have been logged out due to inactivity\n");
    luke.expect("Private messaging with hans ended: hans was logged out due to inactivity\n");
}

#[test]
fn r19_a_request_withdrawn_by_logout_frees_the_next_line() {
    let server = Server::start(60, 120);
    let mut hans = server.login("hans", "falcon*solo");
    let mut luke = server.login("luke", "light==saber");
    hans.send("startprivate luke");
    luke.expect(&question("hans"));
    hans.send("logout");
    luke.expect("hans withdrew the private messaging request\n");
    luke.send("whoelse");
    luke.expect_absent("Please enter y or n", QUIET);
}

#[test]
fn r21_stopprivate_withdraws_a_request_not_yet_answered() {
    let server = Server::start(60, 120);
    let mut hans = server.login("hans", "falcon*solo");
    let mut luke = server.login("luke", "light==saber");
    hans.send("startprivate luke");
    hans.expect("Start private messaging with luke\n");
    luke.expect(&question("hans"));
    hans.send("stopprivate luke");
    hans.expect("Private messaging request to luke withdrawn\n");
    luke.expect("hans withdrew the private messaging request\n");
    // luke's next line is a command again, and hans may ask again.
    luke.send("whoelse");
    luke.expect("hans\n");
    hans.send("stopprivate luke");
    hans.expect("Error. Private messaging to luke not enabled\n");
    open_session(&mut hans, &mut luke);
    luke.expect("Private messaging with hans started\n");
}

/// A raw hans asks the real luke, who accepts: returns what the server
/// gave hans to connect (R19).
fn introduce(server: &Server, luke: &mut Client) -> (Raw, String, u16, Secret) {
    let mut hans = server.raw_login("hans", "falcon*solo");
    hans.send(&ClientFrame::StartPrivate {
        user: "luke".try_into().unwrap(),
    });
    luke.expect(&question("hans"));
    luke.send("y");
    let accepted = hans.frame_where(|f| matches!(f, ServerFrame::PrivateAccepted { .. }));
    let ServerFrame::PrivateAccepted {
        user,
        host,
        port,
        secret,
    } = accepted
    else {
        unreachable!()
    };
    assert_eq!(user, "luke");
    assert_eq!(secret.len(), 32, "128 bits as hex");
    (hans, host.to_string(), port, secret)
}

/// What a stranger tries on the private port.
type Attempt = Box<dyn Fn(&mut Raw)>;

fn hello(from: &str, secret: &str) -> PeerFrame {
    PeerFrame::Hello {
        from: from.try_into().unwrap(),
        secret: secret.try_into().unwrap(),
    }
}

#[test]
fn r28_strangers_are_turned_away_from_the_private_port() {
    let server = Server::start(60, 120);
    let mut luke = server.login("luke", "light==saber");
    let (_hans, host, port, secret) = introduce(&server, &mut luke);

    let wrong_secret = "0".repeat(32);
    let attempts: [(&str, Attempt); 4] = [
        (
            "a wrong secret",
            Box::new(move |s: &mut Raw| s.send(&hello("hans", &wrong_secret))),
        ),
        (
            "the right secret under another name",
            Box::new({
                let secret = secret.clone();
                move |s: &mut Raw| s.send(&hello("yoda", &secret))
            }),
        ),
        (
            "a message without a hello",
            Box::new(|s: &mut Raw| {
                s.send(&PeerFrame::Message {
                    text: Text::try_from("let me in").unwrap(),
                })
            }),
        ),
        (
            "garbage",
            Box::new(|s: &mut Raw| s.send_bytes(b"GET / HTTP/1.0\r\n\r\n")),
        ),
    ];
    for (what, attempt) in attempts {
        let mut stranger = Raw::connect((host.as_str(), port));
        attempt(&mut stranger);
        if let Err(why) = stranger.closed_silently() {
            panic!("{what}: the private port {why}");
        }
    }
    luke.expect_absent("(private)", QUIET);

    // The introduced peer still gets in, and is heard.
    let mut peer = Raw::connect((host.as_str(), port));
    peer.send(&hello("hans", &secret));
    assert_eq!(peer.peer_frame(), PeerFrame::Welcome {});
    // R29: an escape sequence arrives neutralised.
    peer.send(&PeerFrame::Message {
        text: Text::try_from("\u{1b}[31mred\u{1b}[0m\u{7}").unwrap(),
    });
    luke.expect("hans(private): ^[[31mred^[[0m^G\n");
    // And what luke types reaches the peer.
    luke.send("private hans hello hans");
    assert_eq!(
        peer.peer_frame(),
        PeerFrame::Message {
            text: Text::try_from("hello hans").unwrap()
        }
    );
}

/// Issue 27, item 5: strangers that connect to the private port and say
/// nothing do not keep the introduced peer out, however many: the oldest
/// go first, and the peer, checked on its first frame, gets in.
#[test]
fn silent_strangers_on_the_private_port_do_not_keep_the_peer_out() {
    let server = Server::start(60, 120);
    let mut luke = server.login("luke", "light==saber");
    let (_hans, host, port, secret) = introduce(&server, &mut luke);
    let mut squatters: Vec<Raw> = (0..40)
        .map(|_| Raw::connect((host.as_str(), port)))
        .collect();
    let mut peer = Raw::connect((host.as_str(), port));
    peer.send(&hello("hans", &secret));
    assert_eq!(peer.peer_frame(), PeerFrame::Welcome {});
    luke.expect("Private messaging with hans started\n");
    // The first squatters were let go to make room.
    if let Err(why) = squatters[0].closed_silently() {
        panic!("the oldest squatter {why}");
    }
    squatters.clear();
}

#[test]
fn a_peer_that_vanishes_mid_chat_ends_the_session_with_a_notice() {
    let server = Server::start(60, 120);
    let mut luke = server.login("luke", "light==saber");
    let (_hans, host, port, secret) = introduce(&server, &mut luke);
    let mut peer = Raw::connect((host.as_str(), port));
    peer.send(&hello("hans", &secret));
    assert_eq!(peer.peer_frame(), PeerFrame::Welcome {});
    peer.send(&PeerFrame::Message {
        text: Text::try_from("bye for now").unwrap(),
    });
    luke.expect("hans(private): bye for now\n");
    peer.drop_connection();
    luke.expect("Private messaging with hans ended: the connection was lost\n");
    luke.send("private hans hello?");
    luke.expect("Error. Private messaging to hans not enabled\n");
    // luke's session with the server is unharmed.
    luke.send("whoelse");
    luke.expect("hans\n");
}

#[test]
fn a_peer_bye_names_its_reason() {
    let server = Server::start(60, 120);
    let mut luke = server.login("luke", "light==saber");
    let (_hans, host, port, secret) = introduce(&server, &mut luke);
    let mut peer = Raw::connect((host.as_str(), port));
    peer.send(&hello("hans", &secret));
    assert_eq!(peer.peer_frame(), PeerFrame::Welcome {});
    peer.send(&PeerFrame::Bye {
        reason: PeerBye::Stopped,
    });
    luke.expect("hans stopped private messaging\n");
}
