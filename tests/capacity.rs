//! A server larger than the default, as its owner sizes it at start
//! (issue 26): `--max-accounts`, `--max-connections`, `--store-kib`.

use natter_core::{ClientFrame, ServerFrame};
use natter_e2e::{Raw, Server, run_server};

/// Issue 26's check: a credentials file of 10,000 lines, and users
/// logged in together beyond a thousand, in a server sized for a school.
const ACCOUNTS: usize = 10_000;
const ONLINE: usize = 1_002;
/// Threads that log them in.
const LOGIN_THREADS: usize = 8;

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

/// This test process holds two descriptors a user: its soft limit of
/// open files (often 1,024) is raised to the hard one, as the server's is.
fn raise_open_files(needed: u64) {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    limit.current = limit.maximum;
    setrlimit(Resource::Nofile, limit).unwrap();
    let current = getrlimit(Resource::Nofile).current;
    assert!(
        current.is_none_or(|n| n >= needed),
        "this test needs {needed} open files; the hard limit is {current:?} (ulimit -Hn)"
    );
}

#[test]
fn a_server_sized_for_a_school_holds_10000_accounts_with_1000_online() {
    raise_open_files(2 * ONLINE as u64 + 200);
    let dir = tempfile::tempdir().unwrap();
    let lines: String = (0..ACCOUNTS)
        .map(|i| format!("{} pw{i}\n", user(i)))
        .collect();
    std::fs::write(dir.path().join("credentials.txt"), lines).unwrap();
    let options = [
        "--max-accounts",
        "20000",
        "--max-connections",
        "1100",
        "--per-address",
        "0",
        // A thousand first logins: the machinery is tested, not argon2.
        "--hash-memory",
        "8",
        "--hash-passes",
        "1",
    ];
    let server = Server::start_with(dir, 60, 600, &options);
    let per_thread = ONLINE.div_ceil(LOGIN_THREADS);
    let mut online: Vec<Raw> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..ONLINE)
            .step_by(per_thread)
            .map(|first| {
                let server = &server;
                scope.spawn(move || {
                    (first..ONLINE.min(first + per_thread))
                        .map(|i| server.raw_login(&user(i), &format!("pw{i}")))
                        .collect::<Vec<Raw>>()
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|thread| thread.join().unwrap())
            .collect()
    });
    assert_eq!(online.len(), ONLINE);
    // R12: every other user online, in pages.
    let mut names = who(&mut online[0]);
    names.sort();
    let mut others: Vec<String> = (1..ONLINE).map(user).collect();
    others.sort();
    assert_eq!(names.len(), ONLINE - 1);
    assert_eq!(names, others, "whoelse names every other user online");
    // R14: a broadcast reaches every other user online.
    let last = ONLINE - 1;
    online[last].send(&ClientFrame::Broadcast {
        text: "to all".try_into().unwrap(),
    });
    for raw in &mut online[..last] {
        let frame = raw.frame_where(|f| matches!(f, ServerFrame::Message { .. }));
        let ServerFrame::Message { from, text, .. } = frame else {
            unreachable!()
        };
        assert_eq!(
            (from.as_str(), text.as_str()),
            (user(last).as_str(), "to all")
        );
    }
    // R13: a direct message between two users with ids far apart.
    online[3].send(&ClientFrame::Message {
        to: user(1_000).as_str().try_into().unwrap(),
        text: "hello far away".try_into().unwrap(),
    });
    let frame = online[1_000].frame_where(|f| matches!(f, ServerFrame::Message { .. }));
    let ServerFrame::Message { from, text, .. } = frame else {
        unreachable!()
    };
    assert_eq!((from.as_str(), text.as_str()), ("user3", "hello far away"));
    // R17: the last account of the file, offline: its message is kept and
    // reaches it at its login.
    let far = user(ACCOUNTS - 1);
    online[0].send(&ClientFrame::Message {
        to: far.as_str().try_into().unwrap(),
        text: "later".try_into().unwrap(),
    });
    let stored = online[0].frame_where(|f| matches!(f, ServerFrame::Stored { .. }));
    assert_eq!(
        stored,
        ServerFrame::Stored {
            user: far.as_str().try_into().unwrap()
        }
    );
    let mut late = server.raw_login(&far, &format!("pw{}", ACCOUNTS - 1));
    let frame = late.frame_where(|f| matches!(f, ServerFrame::Message { .. }));
    let ServerFrame::Message { from, text, .. } = frame else {
        unreachable!()
    };
    assert_eq!((from.as_str(), text.as_str()), ("user0", "later"));
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
