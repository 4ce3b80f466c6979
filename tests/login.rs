//! Login, blocking, timeout, presence and logout, end to end (issue 2):
//! sessions L1-L5 of sample-interactions.md, R4-R9, R11, R18, R25.

use std::io::{Read, Write};
use std::time::Duration;

use natter_e2e::{Client, Server, run_server};

const WELCOME: &str = "Welcome to the greatest messaging application ever!\n";

#[test]
fn l1_a_known_user_logs_in() {
    let server = Server::start(60, 120);
    let mut yoda = server.client();
    yoda.expect("Username: ");
    yoda.send("yoda");
    yoda.expect("Password: ");
    yoda.send("wise@!man");
    yoda.expect(WELCOME);
}

#[test]
fn l2_l3_l4_three_wrong_passwords_block_until_block_duration_passes() {
    let server = Server::start(2, 120);
    // L2
    let mut yoda = server.client();
    yoda.expect("Username: ");
    yoda.send("yoda");
    for wrong in ["weird", "green"] {
        yoda.expect("Password: ");
        yoda.send(wrong);
        yoda.expect("Invalid Password. Please try again\n");
    }
    yoda.expect("Password: ");
    yoda.send("password");
    yoda.expect("Invalid Password. Your account has been blocked. Please try again later\n");
    assert!(
        !yoda.expect_exit().success(),
        "blocked client must exit non-zero"
    );

    // L3: the right password is refused while blocked.
    let mut again = server.client();
    again.expect("Username: ");
    again.send("yoda");
    again.expect("Password: ");
    again.send("wise@!man");
    again
        .expect("Your account is blocked due to multiple login failures. Please try again later\n");
    assert!(!again.expect_exit().success());

    // Others are not blocked meanwhile.
    let _hans = server.login("hans", "falcon*solo");

    // L4: after the block, L1 succeeds.
    std::thread::sleep(Duration::from_millis(2200));
    let _yoda = server.login("yoda", "wise@!man");
}

#[test]
fn l5_a_new_account_is_saved_hashed_and_survives_a_restart() {
    let server = Server::start(60, 120);
    let mut jaba = server.client();
    jaba.expect("Username: ");
    jaba.send("jaba");
    jaba.expect("This is a new user. Enter a password: ");
    // R6: an empty password or one with a space is refused, the prompt repeats.
    jaba.send("");
    jaba.expect("Error. Password cannot be empty\n");
    jaba.expect("This is a new user. Enter a password: ");
    jaba.send("long tongue");
    jaba.expect("Error. Password cannot contain spaces\n");
    jaba.expect("This is a new user. Enter a password: ");
    jaba.send("longtongue");
    jaba.expect(WELCOME);

    // Saved with its password hashed (issue 10), never in plain text.
    let saved = std::fs::read_to_string(server.credentials()).unwrap();
    let last = saved.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("jaba $argon2id$v=19$m=19456,t=2,p=1$"),
        "{saved}"
    );
    assert!(!saved.contains("longtongue"), "{saved}");
    assert!(saved.ends_with('\n'));
    // A plain password from the assignment's file is rewritten hashed
    // after its first login; the other lines stay as they were.
    let mut yoda = server.login("yoda", "wise@!man");
    let rewritten = server.credentials_once(|text| !text.contains("wise@!man"));
    assert!(!rewritten.contains("wise@!man"), "{rewritten}");
    assert!(rewritten.contains("\nyoda $argon2id$"), "{rewritten}");
    assert!(rewritten.starts_with("hans falcon*solo\n"), "{rewritten}");
    assert_eq!(rewritten.lines().count(), saved.lines().count());

    jaba.send("logout");
    assert!(jaba.expect_exit().success());
    yoda.send("logout");
    assert!(yoda.expect_exit().success());
    let (status, dir) = server.stop();
    assert!(status.success(), "SIGTERM must exit 0, got {status}");

    let server = Server::start_in(dir, 60, 120);
    let _jaba = server.login("jaba", "longtongue");
    let _yoda = server.login("yoda", "wise@!man");
}

#[test]
fn r6_a_username_with_a_space_is_refused_and_asked_again() {
    let server = Server::start(60, 120);
    let mut client = server.client();
    client.expect("Username: ");
    client.send("jaba the hutt");
    client.expect("Error. Username cannot contain spaces\n");
    client.expect("Username: ");
    client.send("luke");
    client.expect("Password: ");
}

#[test]
fn r7_a_second_login_is_refused_and_the_username_asked_again() {
    let server = Server::start(60, 120);
    let mut yoda = server.login("yoda", "wise@!man");
    let mut second = server.client();
    second.expect("Username: ");
    second.send("yoda");
    second.expect("Error. yoda is already logged in\n");
    second.expect("Username: ");
    second.send("luke");
    second.expect("Password: ");
    second.send("light==saber");
    second.expect(WELCOME);
    // The first session is untouched: it hears of luke.
    yoda.expect("luke logged in\n");
}

#[test]
fn r9_r11_an_idle_user_is_logged_out_and_others_are_told() {
    let server = Server::start(60, 3);
    let mut yoda = server.login("yoda", "wise@!man");
    // hans logs in later, so yoda's timeout comes first.
    std::thread::sleep(Duration::from_millis(1000));
    let mut hans = server.login("hans", "falcon*solo");
    yoda.expect("hans logged in\n");
    yoda.expect("You have been logged out due to inactivity\n");
    assert!(yoda.expect_exit().success());
    hans.expect("yoda logged out\n");
    hans.expect("You have been logged out due to inactivity\n");
}

#[test]
fn r11_r18_presence_and_logout() {
    let server = Server::start(60, 120);
    let mut hans = server.login("hans", "falcon*solo");
    let mut yoda = server.login("yoda", "wise@!man");
    hans.expect("yoda logged in\n");
    let mut luke = server.login("luke", "light==saber");
    hans.expect("luke logged in\n");
    yoda.expect("luke logged in\n");
    // S1: an unknown command is refused by the client, the session goes on.
    luke.send("whatsthetime");
    luke.expect("Error. Invalid command\n");
    yoda.send("logout");
    assert!(yoda.expect_exit().success());
    hans.expect("yoda logged out\n");
    luke.expect("yoda logged out\n");
    // Nobody is told of their own login.
    assert!(!luke.take_output().contains("luke logged in"));
}

#[test]
fn end_of_input_logs_out() {
    let server = Server::start(60, 120);
    let mut hans = server.login("hans", "falcon*solo");
    let mut yoda = server.login("yoda", "wise@!man");
    yoda.close_stdin();
    assert!(yoda.expect_exit().success());
    hans.expect("yoda logged out\n");
}

#[test]
fn a_dropped_connection_counts_as_logout() {
    let server = Server::start(60, 120);
    let mut hans = server.login("hans", "falcon*solo");
    let mut raw = server.raw();
    raw.write_all(
        b"{\"Username\":{\"name\":\"yoda\"}}\n{\"Password\":{\"password\":\"wise@!man\"}}\n",
    )
    .unwrap();
    hans.expect("yoda logged in\n");
    drop(raw);
    hans.expect("yoda logged out\n");
    // And yoda may log in again.
    let _yoda = server.login("yoda", "wise@!man");
}

/// Reads from a raw connection until `text` has arrived.
fn read_until(raw: &mut std::net::TcpStream, text: &str) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains(text) {
        match raw.read(&mut buf) {
            Ok(0) => panic!(
                "connection closed before {text:?}; got {:?}",
                String::from_utf8_lossy(&got)
            ),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!(
                "{e} waiting for {text:?}; got {:?}",
                String::from_utf8_lossy(&got)
            ),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn r25_bad_frames_get_errors_and_disturb_nobody() {
    let server = Server::start(60, 120);
    let mut hans = server.login("hans", "falcon*solo");
    let mut raw = server.raw();
    read_until(&mut raw, "{\"Ask\":{\"prompt\":\"Username\"}}\n");
    raw.write_all(b"not json\n").unwrap();
    read_until(&mut raw, "{\"Error\":{\"error\":\"Malformed\"}}\n");
    raw.write_all(b"\xff\xfe\xfd\n").unwrap();
    read_until(&mut raw, "{\"Error\":{\"error\":\"Malformed\"}}\n");
    raw.write_all(&vec![b'x'; 100_000]).unwrap();
    raw.write_all(b"\n").unwrap();
    read_until(&mut raw, "{\"Error\":{\"error\":\"TooLong\"}}\n");
    raw.write_all(b"{\"Password\":{\"password\":\"x\"}}\n")
        .unwrap();
    read_until(&mut raw, "{\"Error\":{\"error\":\"Unexpected\"}}\n");
    // The connection still works after all that.
    raw.write_all(b"{\"Username\":{\"name\":\"luke\"}}\r\n")
        .unwrap();
    read_until(&mut raw, "{\"Ask\":{\"prompt\":\"Password\"}}\n");

    // A flood is cut off.
    let mut flood = server.raw();
    for _ in 0..20 {
        if flood.write_all(b"{}\n").is_err() {
            break;
        }
    }
    read_until(&mut flood, "{\"Bye\":{\"reason\":\"TooManyErrors\"}}\n");

    // hans noticed nothing and the server still serves logins.
    assert_eq!(hans.take_output(), "");
    let _yoda = server.login("yoda", "wise@!man");
    hans.expect("yoda logged in\n");
}

#[test]
fn sigterm_tells_clients_and_exits_zero() {
    let server = Server::start(60, 120);
    let mut yoda = server.login("yoda", "wise@!man");
    let (status, _dir) = server.stop();
    assert!(status.success(), "{status}");
    yoda.expect("The server is shutting down\n");
    let code = yoda.expect_exit();
    assert_eq!(code.code(), Some(3), "the server went away: non-zero exit");
}

#[test]
fn a_server_that_vanishes_is_a_one_line_error_for_the_client() {
    let mut server = Server::start(60, 120);
    let mut yoda = server.login("yoda", "wise@!man");
    server.kill();
    yoda.expect("Error. Lost connection to the server\n");
    assert_eq!(yoda.expect_exit().code(), Some(3));
}

#[test]
fn a_client_with_no_server_says_so_and_exits_non_zero() {
    // Bind then drop to find a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut client = Client::start(&[&port.to_string()]);
    let status = client.expect_exit();
    assert_eq!(status.code(), Some(2));
    let stderr = client.stderr();
    assert!(
        stderr.starts_with(&format!(
            "Error. Cannot connect to the server at 127.0.0.1:{port}: "
        )) && stderr.lines().count() == 1,
        "{stderr:?}"
    );
}

#[test]
fn server_start_up_errors_are_one_line_and_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    // Missing credentials file.
    let (status, stderr) = run_server(&["0", "60", "120"], dir.path());
    assert!(!status.success());
    assert!(
        stderr.starts_with("natter-server: cannot use credentials.txt: "),
        "{stderr:?}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");

    // A malformed line, reported with its number.
    std::fs::write(
        dir.path().join("credentials.txt"),
        "hans falcon*solo\nyoda\n",
    )
    .unwrap();
    let (status, stderr) = run_server(&["0", "60", "120"], dir.path());
    assert!(!status.success());
    assert_eq!(
        stderr,
        "natter-server: credentials.txt:2: no space between username and password\n"
    );

    // A port in use.
    std::fs::write(dir.path().join("credentials.txt"), natter_e2e::CREDENTIALS).unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (status, stderr) = run_server(&[&port, "60", "120"], dir.path());
    assert!(!status.success());
    assert!(
        stderr.starts_with(&format!(
            "natter-server: cannot listen on 127.0.0.1:{port}: "
        )),
        "{stderr:?}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
}

#[test]
fn connections_dropped_without_a_word_release_their_sockets() {
    // Health checks (`nc -z`), laptops going to sleep: a peer that vanishes
    // must not leave its socket and writer behind.
    let server = Server::start(60, 120);
    let mut hans = server.login("hans", "falcon*solo");
    let before = server.open_fds();
    for round in 0..40 {
        let mut raw = server.raw();
        if round % 2 == 1 {
            // Half of them logged in, the other half still at the prompt.
            raw.write_all(b"{\"Username\":{\"name\":\"yoda\"}}\n{\"Password\":{\"password\":\"wise@!man\"}}\n")
                .unwrap();
            hans.expect("yoda logged in\n");
        }
        drop(raw);
        if round % 2 == 1 {
            hans.expect("yoda logged out\n");
        }
    }
    // Give the server a moment to finish closing the last ones.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while server.open_fds() > before + 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let after = server.open_fds();
    assert!(
        after <= before + 2,
        "the server held {before} descriptors, then {after} after 40 dropped connections"
    );
}

#[test]
fn others_keep_chatting_while_a_slow_password_hash_runs() {
    // hans and yoda's passwords are rewritten hashed at a small cost, which
    // is what later logins check them at.
    let cheap = ["--hash-memory", "8", "--hash-passes", "1"];
    let server = Server::start_with_options(60, 120, &cheap);
    drop(server.login("hans", "falcon*solo"));
    drop(server.login("yoda", "wise@!man"));
    let (status, dir) = server.stop();
    assert!(status.success(), "SIGTERM must exit 0, got {status}");

    // Now every new hash is slow: luke's plain password is rewritten at a
    // cost of about a second here (more under qemu), on the worker thread.
    let dear = ["--hash-memory", "131072", "--hash-passes", "4"];
    let server = Server::start_with(dir, 60, 120, &dear);
    let mut hans = server.login("hans", "falcon*solo");
    let mut yoda = server.login("yoda", "wise@!man");
    hans.expect("yoda logged in\n");
    let mut luke = server.client();
    luke.expect("Username: ");
    luke.send("luke");
    luke.expect("Password: ");
    luke.send("light==saber");
    // While luke's password is hashed, a round trip goes through...
    hans.send("message yoda still here?");
    yoda.expect("hans: still here?\n");
    yoda.send("message hans yes");
    hans.expect("yoda: yes\n");
    // ...before luke is welcomed (the loop did not wait for the hash).
    let early = luke.take_output();
    assert!(!early.contains(WELCOME), "welcomed first: {early:?}");
    luke.expect(WELCOME);
    hans.expect("luke logged in\n");
    let rewritten = server.credentials_once(|text| !text.contains("light==saber"));
    assert!(
        rewritten.contains("\nluke $argon2id$v=19$m=131072,t=4,p=1$"),
        "{rewritten}"
    );
}

#[test]
fn password_hashes_give_their_memory_back() {
    // Each first login of a plain password hashes it (16 MiB, one pass),
    // and each later login checks the hash. 64-bit glibc raises its mmap
    // threshold to the size of the first big block freed, after which each
    // hash came from the heap and stayed resident: 236 MiB after the
    // logins of natter-bench net (issue 9).
    let options = ["--hash-memory", "16384", "--hash-passes", "1"];
    let server = Server::start_with_options(60, 120, &options);
    drop(server.login("hans", "falcon*solo"));
    let hashed = |count: usize| {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let file = std::fs::read_to_string(server.credentials()).unwrap();
            if file.matches("$argon2id$").count() >= count {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "after 60 s, fewer than {count} passwords hashed:\n{file}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    hashed(1);
    let first = server.rss_anon_kib();
    for (name, password) in [
        ("yoda", "wise@!man"),
        ("luke", "light==saber"),
        ("vader", "sithlord**"),
    ] {
        drop(server.login(name, password));
    }
    hashed(4);
    // Checks of hashes, too.
    drop(server.login("hans", "falcon*solo"));
    drop(server.login("yoda", "wise@!man"));
    let after = server.rss_anon_kib();
    assert!(
        after < first + 8 * 1024,
        "the server held {first} KiB anonymous after one 16 MiB hash and {after} KiB \
         after five more: a hash's memory stays resident"
    );
}
