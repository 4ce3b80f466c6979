//! Private sessions in the dialogue (R19-R24, S7).

use natter_core::protocol::{ByeReason, ClientFrame, Host, PeerBye, PeerFrame, ServerFrame};

use crate::dialogue::tests::{hans, logged_in, name, plain, print, read, secret, text};
use crate::dialogue::*;

/// `d` with a private session up with `user`.
fn with_session(mut d: Dialogue, user: &str) -> Dialogue {
    d.peer(PeerReport::Up {
        user: name(user),
        initiated: false,
    });
    d
}

fn question(user: &str) -> ServerFrame {
    ServerFrame::PrivateQuestion { user: name(user) }
}

const QUESTION: &str = "hans would like to private message, enter y or n: ";

fn activity() -> Action {
    Action::Send(ClientFrame::PrivateActivity {})
}

#[test]
fn s7_step1_private_without_a_session_is_not_enabled_and_not_activity() {
    let mut d = hans();
    for line in ["private luke hey dude", "stopprivate luke"] {
        assert_eq!(
            plain(d.line(line)),
            [
                print("Error. Private messaging to luke not enabled"),
                read("> ", Echo::Command, Echo::Command)
            ]
        );
    }
}

#[test]
fn s7_step2_startprivate_goes_to_the_server_unless_a_session_is_up() {
    let mut d = hans();
    assert_eq!(
        plain(d.line("startprivate luke")),
        [
            Action::Send(ClientFrame::StartPrivate { user: name("luke") }),
            read("> ", Echo::Command, Echo::Command)
        ]
    );
    assert_eq!(
        plain(d.frame(ServerFrame::PrivateAsked { user: name("luke") })),
        [print("Start private messaging with luke")]
    );
    let mut d = with_session(d, "luke");
    assert_eq!(
        plain(d.line("startprivate luke")),
        [
            print("Error. Private messaging with luke is already enabled"),
            read("> ", Echo::Command, Echo::Command)
        ]
    );
}

#[test]
fn s7_step3_y_listens_then_accepts_with_the_port() {
    let mut luke = logged_in();
    // The question comes while a command is being read: that line answers.
    assert_eq!(
        plain(luke.frame(question("hans"))),
        [
            Action::Known(name("hans")),
            read(QUESTION, Echo::Visible, Echo::Command)
        ]
    );
    assert_eq!(
        plain(luke.line("y")),
        [
            Action::Listen { user: name("hans") },
            read("> ", Echo::Command, Echo::Command)
        ]
    );
    assert_eq!(
        plain(luke.listening(name("hans"), Some(40123))),
        [Action::Send(ClientFrame::AcceptPrivate {
            user: name("hans"),
            port: 40123
        })]
    );
    // The server's secret goes to the listener; nothing is printed.
    assert_eq!(
        plain(luke.frame(ServerFrame::PrivateExpect {
            user: name("hans"),
            secret: secret("c0ffee")
        })),
        [Action::Expect {
            user: name("hans"),
            secret: secret("c0ffee")
        }]
    );
    // Admitted: this side is told the session started.
    assert_eq!(
        plain(luke.peer(PeerReport::Up {
            user: name("hans"),
            initiated: false
        })),
        [print("Private messaging with hans started")]
    );
    assert_eq!(
        plain(luke.line("private hans hello man")),
        [
            Action::SendPeer {
                user: name("hans"),
                frame: PeerFrame::Message {
                    text: text("hello man")
                }
            },
            activity(),
            read("> ", Echo::Command, Echo::Command)
        ]
    );
}

#[test]
fn yes_and_no_in_any_case_anything_else_asks_again() {
    for yes in ["y", "Y", "yes", " YES "] {
        let mut d = logged_in();
        d.frame(question("hans"));
        assert_eq!(
            plain(d.line(yes))[0],
            Action::Listen { user: name("hans") },
            "{yes:?}"
        );
    }
    for no in ["n", "N", "no", "No"] {
        let mut d = logged_in();
        d.frame(question("hans"));
        assert_eq!(
            plain(d.line(no))[0],
            Action::Send(ClientFrame::DeclinePrivate { user: name("hans") }),
            "{no:?}"
        );
    }
    let mut d = logged_in();
    d.frame(question("hans"));
    for other in ["", "maybe", "whoelsewhat"] {
        assert_eq!(
            plain(d.line(other)),
            [read("Please enter y or n: ", Echo::Visible, Echo::Command)],
            "{other:?}"
        );
    }
    // A command typed while the question is open is carried out, not
    // lost, and the question is asked again.
    assert_eq!(
        plain(d.line("whoelse")),
        [
            Action::Send(ClientFrame::WhoElse {}),
            read("Please enter y or n: ", Echo::Visible, Echo::Command)
        ]
    );
    assert_eq!(
        plain(d.line("n")),
        [
            Action::Send(ClientFrame::DeclinePrivate { user: name("hans") }),
            read("> ", Echo::Command, Echo::Command)
        ]
    );
}

#[test]
fn a_question_with_no_line_being_read_is_the_next_prompt() {
    let mut d = logged_in();
    // Rare: a read is out almost always after login.
    d.read = None;
    assert_eq!(
        plain(d.frame(question("hans"))),
        [
            Action::Known(name("hans")),
            read(QUESTION, Echo::Visible, Echo::Command)
        ]
    );
}

#[test]
fn no_listener_declines() {
    let mut d = logged_in();
    d.frame(question("hans"));
    d.line("y");
    assert_eq!(
        plain(d.listening(name("hans"), None)),
        [Action::Send(ClientFrame::DeclinePrivate {
            user: name("hans")
        })]
    );
}

#[test]
fn a_withdrawn_question_is_forgotten_and_the_next_line_is_a_command() {
    let mut d = logged_in();
    d.frame(question("hans"));
    assert_eq!(
        plain(d.frame(ServerFrame::PrivateWithdrawn { user: name("hans") })),
        [
            print("hans withdrew the private messaging request"),
            read("> ", Echo::Command, Echo::Command)
        ],
        "the prompt is a command prompt again"
    );
    assert_eq!(
        plain(d.line("y")),
        [
            print("Error. Invalid command"),
            read("> ", Echo::Command, Echo::Command)
        ]
    );
}

#[test]
fn an_expired_question_is_forgotten_too() {
    let mut d = logged_in();
    d.frame(question("hans"));
    assert_eq!(
        d.frame(ServerFrame::PrivateExpired { user: name("hans") }),
        [
            Action::Print(Line::new(
                Style::Notice,
                "The private messaging request from hans expired"
            )),
            read("> ", Echo::Command, Echo::Command)
        ]
    );
    assert_eq!(
        d.line("y")[0],
        Action::Print(Line::new(Style::Error, "Error. Invalid command"))
    );
}

#[test]
fn stopprivate_withdraws_a_request_not_yet_answered() {
    let mut d = hans();
    d.line("startprivate luke");
    d.frame(ServerFrame::PrivateAsked { user: name("luke") });
    assert_eq!(
        d.line("stopprivate luke"),
        [
            Action::Send(ClientFrame::WithdrawPrivate { user: name("luke") }),
            read("> ", Echo::Command, Echo::Command)
        ]
    );
    assert_eq!(
        plain(d.frame(ServerFrame::PrivateCancelled { user: name("luke") })),
        [print("Private messaging request to luke withdrawn")]
    );
    // Gone: stopprivate has nothing left to stop.
    assert_eq!(
        plain(d.line("stopprivate luke"))[0],
        print("Error. Private messaging to luke not enabled")
    );
}

#[test]
fn a_request_answered_expired_or_declined_is_no_longer_withdrawn() {
    let answers = [
        ServerFrame::PrivateDeclined { user: name("luke") },
        ServerFrame::Refused {
            refusal: natter_core::protocol::Refusal::NoAnswer { user: name("luke") },
        },
        ServerFrame::Refused {
            refusal: natter_core::protocol::Refusal::NoLongerOnline { user: name("luke") },
        },
    ];
    for answer in answers {
        let mut d = hans();
        d.frame(ServerFrame::PrivateAsked { user: name("luke") });
        d.frame(answer.clone());
        assert_eq!(
            plain(d.line("stopprivate luke"))[0],
            print("Error. Private messaging to luke not enabled"),
            "after {answer:?}"
        );
    }
}

#[test]
fn s7_step4_accepted_connects_as_me_and_says_so_once_up() {
    let mut d = hans();
    let accepted = ServerFrame::PrivateAccepted {
        user: name("luke"),
        host: Host::try_from("127.0.0.1").unwrap(),
        port: 40123,
        secret: secret("c0ffee"),
    };
    assert_eq!(
        plain(d.frame(accepted)),
        [Action::Connect {
            user: name("luke"),
            host: Host::try_from("127.0.0.1").unwrap(),
            port: 40123,
            secret: secret("c0ffee"),
            from: name("hans"),
        }]
    );
    assert_eq!(
        plain(d.peer(PeerReport::Up {
            user: name("luke"),
            initiated: true
        })),
        [print("luke accepts private messaging")]
    );
    // S7 steps 5 and 6.
    assert_eq!(
        plain(d.line("private luke hey dude"))[..2],
        [
            Action::SendPeer {
                user: name("luke"),
                frame: PeerFrame::Message {
                    text: text("hey dude")
                }
            },
            activity()
        ]
    );
    assert_eq!(
        plain(d.peer(PeerReport::Frame {
            user: name("luke"),
            frame: PeerFrame::Message {
                text: text("hello man")
            }
        })),
        [print("luke(private): hello man")]
    );
}

#[test]
fn a_failed_connection_or_a_decline_is_reported() {
    let mut d = hans();
    assert_eq!(
        plain(d.peer(PeerReport::Failed {
            user: name("luke"),
            initiated: true
        })),
        [print(
            "Error. Could not connect to luke for private messaging"
        )]
    );
    // The accepting side never said anything, so it says nothing now.
    assert_eq!(
        plain(d.peer(PeerReport::Failed {
            user: name("yoda"),
            initiated: false
        })),
        []
    );
    assert_eq!(
        plain(d.frame(ServerFrame::PrivateDeclined { user: name("luke") })),
        [print("luke declines private messaging")]
    );
    assert_eq!(
        plain(d.line("private luke hi")),
        [
            print("Error. Private messaging to luke not enabled"),
            read("> ", Echo::Command, Echo::Command)
        ]
    );
}

#[test]
fn stopprivate_says_bye_closes_and_is_activity() {
    let mut d = with_session(hans(), "luke");
    assert_eq!(
        plain(d.line("stopprivate luke")),
        [
            Action::SendPeer {
                user: name("luke"),
                frame: PeerFrame::Bye {
                    reason: PeerBye::Stopped
                }
            },
            Action::ClosePeer { user: name("luke") },
            print("Stopped private messaging with luke"),
            activity(),
            read("> ", Echo::Command, Echo::Command)
        ]
    );
    assert_eq!(
        plain(d.line("private luke hi"))[0],
        print("Error. Private messaging to luke not enabled")
    );
}

#[test]
fn the_other_side_stopping_or_vanishing_ends_the_session() {
    let mut d = with_session(hans(), "luke");
    assert_eq!(
        plain(d.peer(PeerReport::Frame {
            user: name("luke"),
            frame: PeerFrame::Bye {
                reason: PeerBye::Stopped
            }
        })),
        [
            Action::ClosePeer { user: name("luke") },
            print("luke stopped private messaging")
        ]
    );
    assert_eq!(
        plain(d.line("private luke hi"))[0],
        print("Error. Private messaging to luke not enabled")
    );

    let mut d = with_session(d, "luke");
    assert_eq!(
        plain(d.peer(PeerReport::Closed { user: name("luke") })),
        [
            Action::ClosePeer { user: name("luke") },
            print("Private messaging with luke ended: the connection was lost")
        ]
    );
    // Reported once; later news of that session is stale.
    assert_eq!(plain(d.peer(PeerReport::Closed { user: name("luke") })), []);
    assert_eq!(
        plain(d.line("private luke hi"))[0],
        print("Error. Private messaging to luke not enabled")
    );
}

fn peer_bye(user: &str, reason: PeerBye) -> PeerReport {
    PeerReport::Frame {
        user: name(user),
        frame: PeerFrame::Bye { reason },
    }
}

#[test]
fn s7_step9_a_peer_that_logged_out_is_reported_after_the_servers_notice() {
    // The peer's goodbye came first: held until the server's notice.
    let mut d = with_session(hans(), "luke");
    assert_eq!(
        plain(d.peer(peer_bye("luke", PeerBye::LoggedOut))),
        [
            Action::ClosePeer { user: name("luke") },
            Action::Remind(HOLD)
        ]
    );
    assert_eq!(
        plain(d.frame(ServerFrame::LoggedOut { user: name("luke") })),
        [
            print("luke logged out"),
            print("Private messaging with luke ended: luke logged out")
        ]
    );
    assert_eq!(plain(d.remind()), []);
    assert_eq!(
        plain(d.line("private luke hi"))[0],
        print("Error. Private messaging to luke not enabled")
    );

    // The server's notice came first: shown at once.
    let mut d = with_session(hans(), "luke");
    d.frame(ServerFrame::LoggedOut { user: name("luke") });
    assert_eq!(
        plain(d.peer(peer_bye("luke", PeerBye::TimedOut))),
        [
            Action::ClosePeer { user: name("luke") },
            print("Private messaging with luke ended: luke was logged out due to inactivity")
        ]
    );
}

#[test]
fn a_held_notice_waits_no_longer_than_asked_nor_past_a_typed_line() {
    // No presence notice comes (luke blocked hans): the reminder shows it.
    let mut d = with_session(hans(), "luke");
    d.peer(peer_bye("luke", PeerBye::LoggedOut));
    assert_eq!(
        plain(d.remind()),
        [print("Private messaging with luke ended: luke logged out")]
    );
    assert_eq!(plain(d.remind()), []);

    let mut d = with_session(hans(), "luke");
    d.peer(peer_bye("luke", PeerBye::LoggedOut));
    assert_eq!(
        plain(d.line("private luke hi"))[..2],
        [
            print("Private messaging with luke ended: luke logged out"),
            print("Error. Private messaging to luke not enabled")
        ]
    );

    // And before the client ends.
    let mut d = with_session(with_session(hans(), "luke"), "yoda");
    d.peer(peer_bye("luke", PeerBye::LoggedOut));
    assert_eq!(
        plain(d.closed())[0],
        print("Private messaging with luke ended: luke logged out")
    );
}

#[test]
fn a_failed_send_is_gone() {
    let mut d = with_session(hans(), "luke");
    assert_eq!(
        plain(d.peer(PeerReport::SendFailed { user: name("luke") })),
        [
            print("Error. luke is no longer online"),
            Action::ClosePeer { user: name("luke") }
        ]
    );
    assert_eq!(
        plain(d.line("private luke hi"))[0],
        print("Error. Private messaging to luke not enabled")
    );
}

#[test]
fn anything_but_messages_and_bye_ends_a_session() {
    let mut d = with_session(hans(), "luke");
    assert_eq!(
        plain(d.peer(PeerReport::Frame {
            user: name("luke"),
            frame: PeerFrame::Welcome {}
        })),
        [
            Action::ClosePeer { user: name("luke") },
            print("Private messaging with luke ended: the connection was lost")
        ]
    );
}

#[test]
fn peer_text_is_printed_as_sent_for_the_terminal_to_neutralise() {
    let mut d = with_session(hans(), "luke");
    assert_eq!(
        plain(d.peer(PeerReport::Frame {
            user: name("luke"),
            frame: PeerFrame::Message {
                text: text("\u{1b}[2Jhi")
            }
        })),
        [print("luke(private): \u{1b}[2Jhi")]
    );
}

#[test]
fn s7_step9_logout_says_bye_to_every_peer_before_exiting() {
    let mut d = with_session(with_session(hans(), "luke"), "yoda");
    assert_eq!(
        plain(d.line("logout")),
        [Action::Send(ClientFrame::Logout {}), Action::Leave]
    );
    let bye = |user: &str| Action::SendPeer {
        user: name(user),
        frame: PeerFrame::Bye {
            reason: PeerBye::LoggedOut,
        },
    };
    assert_eq!(
        plain(d.frame(ServerFrame::Bye {
            reason: ByeReason::LoggedOut
        })),
        [
            bye("luke"),
            Action::ClosePeer { user: name("luke") },
            bye("yoda"),
            Action::ClosePeer { user: name("yoda") },
            Action::Exit(Outcome::Done, vec![])
        ]
    );
}

#[test]
fn a_timeout_tells_peers_so_and_a_lost_server_says_logged_out() {
    let mut d = with_session(hans(), "luke");
    assert_eq!(
        plain(d.frame(ServerFrame::Bye {
            reason: ByeReason::TimedOut
        }))[0],
        Action::SendPeer {
            user: name("luke"),
            frame: PeerFrame::Bye {
                reason: PeerBye::TimedOut
            }
        }
    );
    let mut d = with_session(hans(), "luke");
    let actions = d.closed();
    assert_eq!(
        actions[0],
        Action::SendPeer {
            user: name("luke"),
            frame: PeerFrame::Bye {
                reason: PeerBye::LoggedOut
            }
        }
    );
    assert!(matches!(actions[2], Action::Exit(Outcome::Lost, _)));
    // End of input, then no answer from the server.
    let mut d = with_session(hans(), "luke");
    d.end();
    assert_eq!(plain(d.gave_up_waiting()).len(), 3);
}

#[test]
fn private_sessions_do_not_depend_on_the_server() {
    // R20: a block placed later, and server commands, change nothing.
    let mut d = with_session(hans(), "luke");
    assert_eq!(
        plain(d.line("message yoda force is strong"))[0],
        Action::Send(ClientFrame::Message {
            to: name("yoda"),
            text: text("force is strong")
        })
    );
    d.frame(ServerFrame::UserBlocked { user: name("luke") });
    assert!(matches!(
        d.line("private luke still here")[0],
        Action::SendPeer { .. }
    ));
}
