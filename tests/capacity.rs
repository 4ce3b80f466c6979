//! A server larger than the default, as its owner sizes it at start
//! (issue 26): `--max-accounts`, `--max-connections`, `--store-kib`.

use natter_core::{ClientFrame, ServerFrame};
use natter_e2e::{Raw, Server, run_server};

/// Accounts in the credentials file, and users logged in together: both
/// beyond what the default (32 accounts, 24 connections) holds.
const ACCOUNTS: usize = 80;
const ONLINE: usize = 50;

fn user(i: usize) -> String {
    format!("user{i}")
}

/// Every name of a `whoelse` answer, however many pages it takes.
fn who(raw: &mut Raw) -> Vec<String> {
    raw.send(&ClientFrame::WhoElse {});
    let mut names = Vec::new();
    loop {
        let ServerFrame::Users { users, more } =
            raw.frame_where(|f| matches!(f, ServerFrame::Users { .. }))
        else {
            unreachable!()
        };
        names.extend(users.iter().map(ToString::to_string));
        if !more {
            return names;
        }
    }
}

#[test]
fn a_server_started_larger_holds_more_accounts_and_users_online() {
    let dir = tempfile::tempdir().unwrap();
    let lines: String = (0..ACCOUNTS)
        .map(|i| format!("{} pw{i}\n", user(i)))
        .collect();
    std::fs::write(dir.path().join("credentials.txt"), lines).unwrap();
    let server = Server::start_with(
        dir,
        60,
        600,
        &[
            "--max-accounts",
            "100",
            "--max-connections",
            "60",
            "--per-address",
            "0",
        ],
    );
    let mut online: Vec<Raw> = (0..ONLINE)
        .map(|i| server.raw_login(&user(i), &format!("pw{i}")))
        .collect();
    let mut names = who(&mut online[0]);
    names.sort();
    let mut others: Vec<String> = (1..ONLINE).map(user).collect();
    others.sort();
    assert_eq!(names, others, "whoelse names every other user online");
    online[ONLINE - 1].send(&ClientFrame::Broadcast {
        text: "to all".try_into().unwrap(),
    });
    for raw in &mut online[..ONLINE - 1] {
        let frame = raw.frame_where(|f| matches!(f, ServerFrame::Message { .. }));
        let ServerFrame::Message { from, text, .. } = frame else {
            unreachable!()
        };
        assert_eq!(
            (from.as_str(), text.as_str()),
            (user(ONLINE - 1).as_str(), "to all")
        );
    }
    // An account past the first 50, offline: its message is kept.
    online[0].send(&ClientFrame::Message {
        to: user(70).as_str().try_into().unwrap(),
        text: "later".try_into().unwrap(),
    });
    let stored = online[0].frame_where(|f| matches!(f, ServerFrame::Stored { .. }));
    assert_eq!(
        stored,
        ServerFrame::Stored {
            user: user(70).as_str().try_into().unwrap()
        }
    );
}

#[test]
fn a_capacity_out_of_range_is_refused_at_start_with_a_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("credentials.txt"), "hans falcon*solo\n").unwrap();
    let cases = [
        (["--max-accounts", "0"], "--max-accounts must be 1 to 65535"),
        (
            ["--max-accounts", "65536"],
            "--max-accounts must be 1 to 65535",
        ),
        (
            ["--max-connections", "0"],
            "--max-connections must be 1 to 65535",
        ),
        (["--store-kib", "16"], "--store-kib must be at least 32"),
    ];
    for (flags, line) in cases {
        let mut args = vec!["0", "60", "600"];
        args.extend(flags);
        let (status, stderr) = run_server(&args, dir.path());
        assert!(!status.success(), "{flags:?} started");
        assert!(stderr.contains(line), "{flags:?}: {stderr}");
    }
    // A credentials file larger than --max-accounts says which flag.
    std::fs::write(dir.path().join("credentials.txt"), "hans a\nyoda b\n").unwrap();
    let (status, stderr) = run_server(&["0", "60", "600", "--max-accounts", "1"], dir.path());
    assert!(!status.success());
    assert!(
        stderr.contains("more than 1 accounts, the most --max-accounts allows"),
        "{stderr}"
    );
}

#[test]
fn an_open_files_limit_too_low_for_the_connections_is_said_at_start() {
    // Run under a hard limit of 64 descriptors (util-linux's prlimit): the
    // server raises its soft limit to it, and says it is too low for 500.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("credentials.txt"), "hans falcon*solo\n").unwrap();
    let server = Server::start_with_wrapper(
        dir,
        &["prlimit", "--nofile=64:64", "--"],
        &["--max-connections", "500"],
    );
    let log = server.log();
    assert!(
        log.contains(
            "natter-server: the open-files limit is 64, too low for --max-connections 500 \
             (it needs about 532)"
        ),
        "{log}"
    );
    // It serves all the same.
    server.raw_login("hans", "falcon*solo");
}

#[test]
fn the_open_files_limit_is_raised_to_the_hard_limit_at_start() {
    // A soft limit of 64 and a hard one of 1,100: 100 connections at once
    // are served only if the server raised its soft limit.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("credentials.txt"), "hans falcon*solo\n").unwrap();
    let server = Server::start_with_wrapper(
        dir,
        &["prlimit", "--nofile=64:1100", "--"],
        &["--max-connections", "150", "--per-address", "0"],
    );
    let mut raws: Vec<Raw> = (0..100)
        .map(|_| Raw::connect(("127.0.0.1", server.port)))
        .collect();
    for raw in &mut raws {
        let first = raw.frame();
        assert!(matches!(first, ServerFrame::Ask { .. }), "{first:?}");
    }
    assert!(
        !server.log().contains("open-files limit"),
        "{}",
        server.log()
    );
}

#[test]
fn a_storm_of_first_logins_rewrites_the_credentials_a_few_times_not_once_each() {
    // Twenty plain passwords, each hashed at its account's first login
    // (cheaply here): written in a rewrite a second, not twenty.
    const USERS: usize = 20;
    let dir = tempfile::tempdir().unwrap();
    let lines: String = (0..USERS).map(|i| format!("{} pw{i}\n", user(i))).collect();
    std::fs::write(dir.path().join("credentials.txt"), lines).unwrap();
    let options = [
        "--hash-memory",
        "8",
        "--hash-passes",
        "1",
        "--hash-threads",
        "3",
        "--per-address",
        "0",
    ];
    let server = Server::start_with(dir, 60, 600, &options);
    std::thread::scope(|scope| {
        for i in 0..USERS {
            let server = &server;
            scope.spawn(move || drop(server.raw_login(&user(i), &format!("pw{i}"))));
        }
    });
    let hashed = server.credentials_once(|text| text.matches("$argon2id$").count() == USERS);
    assert_eq!(hashed.lines().count(), USERS, "{hashed}");
    let log = server.log();
    assert!(log.contains("3 threads check passwords"), "{log}");
    let rewrites: Vec<usize> = log
        .lines()
        .filter_map(|line| line.strip_prefix("natter-server: credentials rewritten with "))
        .filter_map(|rest| rest.split(' ').next()?.parse().ok())
        .collect();
    assert_eq!(rewrites.iter().sum::<usize>(), USERS, "{log}");
    assert!(
        rewrites.len() <= 5,
        "{} rewrites: {rewrites:?}",
        rewrites.len()
    );
}
