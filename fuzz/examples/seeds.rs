//! Writes the seed corpus of every target from real frames, journal
//! records and key sequences:
//!
//! ```sh
//! cargo run --example seeds -- DIR   # DIR/<target>/<name>
//! ```
//!
//! The committed corpus (`fuzz/corpus/`) is these seeds plus what fuzzing
//! found, minimised with `cargo fuzz cmin`.

use std::fs;
use std::path::Path;

use natter_core::credential::{ALLOWED_PUNCTUATION, CredentialProblem, Name};
use natter_core::journal::Change;
use natter_core::limits::{FRAME_MAX, NAME_MAX, TEXT_MAX};
use natter_core::protocol::{
    ByeReason, ClientFrame, FrameError, Names, PeerBye, PeerFrame, Prompt, Refusal, Secret,
    ServerFrame, Text, encode,
};
use natter_fuzz::PLAN_BYTES;
use natter_server::record;
use serde::Serialize;

fn name(s: &str) -> Name {
    Name::try_from(s).expect("a name")
}

fn text(s: &str) -> Text {
    Text::try_from(s).expect("a text")
}

/// `frame` as one line, without its line feed.
fn line(frame: &impl Serialize) -> Vec<u8> {
    let mut buf = vec![0; 2 * FRAME_MAX];
    let n = encode(frame, &mut buf).expect("a frame encodes");
    buf.truncate(n - 1);
    buf
}

/// Texts that exercise escapes, UTF-8 and the limits.
fn texts() -> Vec<Text> {
    let long = "x".repeat(TEXT_MAX);
    let controls = "\u{1}".repeat(TEXT_MAX);
    [
        "",
        "Hey Dude",
        "vader is evil",
        "a \"quote\" and a \\ backslash",
        "tab\there, line\nfeed, \u{1b}[31mred\u{1b}[0m",
        "é ü 漢字 🦀 \u{200b}\u{202e}",
        "[{[{\"}]}]",
        &long,
        &controls,
    ]
    .into_iter()
    .map(text)
    .collect()
}

fn client_frames() -> Vec<ClientFrame> {
    let mut frames = vec![
        ClientFrame::Username { name: name("yoda") },
        ClientFrame::Username {
            name: name(&"n".repeat(NAME_MAX)),
        },
        ClientFrame::Password {
            password: "wise@!man".try_into().expect("a password"),
        },
        ClientFrame::Password {
            password: ALLOWED_PUNCTUATION.try_into().expect("a password"),
        },
        ClientFrame::Logout {},
        ClientFrame::WhoElse {},
        ClientFrame::WhoElseSince { seconds: 200 },
        ClientFrame::WhoElseSince { seconds: u64::MAX },
        ClientFrame::Block { user: name("hans") },
        ClientFrame::Unblock { user: name("hans") },
        ClientFrame::StartPrivate { user: name("luke") },
        ClientFrame::AcceptPrivate {
            user: name("hans"),
            port: 40123,
        },
        ClientFrame::DeclinePrivate { user: name("hans") },
        ClientFrame::PrivateActivity {},
        ClientFrame::WithdrawPrivate { user: name("luke") },
    ];
    for id in [0, 17, 1_000_000, u64::MAX] {
        frames.push(ClientFrame::Received { id });
    }
    for text in texts() {
        frames.push(ClientFrame::Message {
            to: name("yoda"),
            text: text.clone(),
        });
        frames.push(ClientFrame::Broadcast { text });
    }
    frames
}

/// Lines written by hand: the forms serde takes that the fast path does
/// not, and near misses.
const CLIENT_LINES: &[&str] = &[
    r#"{"Message":{"to":"yo\u0064a","text":"a \"quote\""}}"#,
    r#"{"Message": {"to":"yoda","text":"hi"}}"#,
    r#"{"Message":{"text":"hi","to":"yoda"}}"#,
    r#"{"Message":{"to":"yoda","text":"hi"}} "#,
    r#"{"Message":{"to":"yoda","text":"hi","x":1}}"#,
    r#"{"Broadcast":{"text":"x\}}"#,
    r#"{"Received":{"id":007}}"#,
    r#"{"Received":{"id":18446744073709551616}}"#,
    r#"{"Received":{"id":-1}}"#,
    r#"{"Received":{"id":1e3}}"#,
    r#"{"Logout":{}}"#,
    "{\"Logout\":{}}\r",
    r#"{"Logout":{"x":[[[[[]]]]]}}"#,
];

fn refusals() -> Vec<Refusal> {
    let user = name("luke");
    vec![
        Refusal::InvalidUser,
        Refusal::MessageSelf,
        Refusal::BlockedByRecipient,
        Refusal::NotDeliveredToSome,
        Refusal::MailboxFull { user: user.clone() },
        Refusal::StoreFull,
        Refusal::SenderFull,
        Refusal::NotKept,
        Refusal::BlockSelf,
        Refusal::AlreadyBlocked { user: user.clone() },
        Refusal::UnblockSelf,
        Refusal::NotBlocked { user: user.clone() },
        Refusal::PrivateSelf,
        Refusal::PrivateBlocked { user: user.clone() },
        Refusal::Offline { user: user.clone() },
        Refusal::PrivatePending { user: user.clone() },
        Refusal::PrivateBusy { user: user.clone() },
        Refusal::AnswerFirst,
        Refusal::NoLongerOnline { user: user.clone() },
        Refusal::NoAnswer { user: user.clone() },
        Refusal::NoRequest { user },
    ]
}

fn bye_reasons() -> Vec<ByeReason> {
    vec![
        ByeReason::LoggedOut,
        ByeReason::NowBlocked { seconds: 60 },
        ByeReason::Blocked { seconds: 42 },
        ByeReason::TimedOut,
        ByeReason::LoginTimedOut,
        ByeReason::LoginTooSlow,
        ByeReason::ServerFull,
        ByeReason::TooManyConnections,
        ByeReason::AddressBlocked { seconds: 600 },
        ByeReason::ExistingAccountsOnly,
        ByeReason::TooManyErrors,
        ByeReason::ShuttingDown,
    ]
}

fn server_frames() -> Vec<ServerFrame> {
    let user = name("luke");
    let secret: Secret = "9f0c1e2d3c4b5a69788796a5b4c3d2e1"
        .try_into()
        .expect("a secret");
    let mut frames = vec![
        ServerFrame::Welcome { waiting: 3 },
        ServerFrame::Welcome { waiting: 1 },
        ServerFrame::WrongPassword {},
        ServerFrame::AlreadyLoggedIn { user: user.clone() },
        ServerFrame::UsernameTaken { user: user.clone() },
        ServerFrame::UsernameTooLike {
            user: user.clone(),
            existing: user.clone(),
        },
        ServerFrame::AccountsFull {},
        ServerFrame::AccountNotSaved {},
        ServerFrame::SignUpClosed {},
        ServerFrame::TooManySignUps {},
        ServerFrame::LoggedIn { user: user.clone() },
        ServerFrame::LoggedOut { user: user.clone() },
        ServerFrame::Stored { user: user.clone() },
        ServerFrame::Accepted { id: 42 },
        ServerFrame::Users {
            users: Names::from_iter([name("yoda"), name("luke")]),
            more: true,
        },
        ServerFrame::Users {
            users: Names::new(),
            more: false,
        },
        ServerFrame::UserBlocked { user: user.clone() },
        ServerFrame::UserUnblocked { user: user.clone() },
        ServerFrame::PrivateAsked { user: user.clone() },
        ServerFrame::PrivateQuestion { user: user.clone() },
        ServerFrame::PrivateAccepted {
            user: user.clone(),
            host: "192.168.1.20".try_into().expect("a host"),
            port: 40123,
            secret: secret.clone(),
        },
        ServerFrame::PrivateExpect {
            user: user.clone(),
            secret,
        },
        ServerFrame::PrivateDeclined { user: user.clone() },
        ServerFrame::PrivateWithdrawn { user: user.clone() },
        ServerFrame::PrivateExpired { user: user.clone() },
        ServerFrame::PrivateCancelled { user },
        ServerFrame::IdleWarning { seconds: 10 },
        ServerFrame::IdleWarning { seconds: 7200 },
    ];
    for prompt in [Prompt::Username, Prompt::Password, Prompt::NewPassword] {
        frames.push(ServerFrame::Ask { prompt });
    }
    for problem in [
        CredentialProblem::Empty,
        CredentialProblem::TooLong,
        CredentialProblem::Space,
        CredentialProblem::BadCharacter,
    ] {
        frames.push(ServerFrame::BadUsername { problem });
        frames.push(ServerFrame::BadPassword { problem });
    }
    for error in [
        FrameError::TooLong,
        FrameError::Malformed,
        FrameError::Unexpected,
    ] {
        frames.push(ServerFrame::Error { error });
    }
    frames.extend(
        refusals()
            .into_iter()
            .map(|refusal| ServerFrame::Refused { refusal }),
    );
    frames.extend(
        bye_reasons()
            .into_iter()
            .map(|reason| ServerFrame::Bye { reason }),
    );
    for (i, text) in texts().into_iter().enumerate() {
        frames.push(ServerFrame::Message {
            id: [0, 17, u64::MAX][i % 3],
            from: name(["hans", "yoda\"", &"\\".repeat(NAME_MAX)][i % 3]),
            text,
            broadcast: i % 2 == 0,
            age: [0, 62, u64::MAX][i % 3],
        });
    }
    frames
}

fn peer_frames() -> Vec<PeerFrame> {
    let mut frames = vec![
        PeerFrame::Hello {
            from: name("hans"),
            secret: "9f0c1e2d3c4b5a69788796a5b4c3d2e1"
                .try_into()
                .expect("a secret"),
        },
        PeerFrame::Welcome {},
    ];
    for reason in [PeerBye::Stopped, PeerBye::LoggedOut, PeerBye::TimedOut] {
        frames.push(PeerFrame::Bye { reason });
    }
    frames.extend(texts().into_iter().map(|text| PeerFrame::Message { text }));
    frames
}

fn changes() -> Vec<Change> {
    let mut changes = vec![
        Change::Ids { latest: 0 },
        Change::Ids { latest: 17 },
        Change::Read {
            user: name("luke"),
            id: 2,
        },
        Change::Read {
            user: name("jaba"),
            id: 9,
        },
        Change::Blacklist {
            user: name("yoda"),
            blocked: Names::from_iter([name("hans"), name("vader")]),
        },
        Change::Blacklist {
            user: name("yoda"),
            blocked: Names::new(),
        },
        Change::Blocked {
            user: name("vader"),
            until: 1_700_000_030_000,
        },
        Change::Blocked {
            user: name("hans"),
            until: u64::MAX,
        },
    ];
    let people = ["luke", "yoda", "hans", "jaba"];
    for (i, text) in texts().into_iter().enumerate() {
        changes.push(Change::Letter {
            id: i as u64 + 1,
            to: name(people[i % 4]),
            from: name(people[(i + 1) % 4]),
            text,
            broadcast: i % 3 == 0,
            posted: 1_699_999_990_000 + i as u64,
            kept: i % 2 == 1,
        });
    }
    changes
}

/// A journal of these changes' records.
fn journal(changes: &[Change]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for change in changes {
        record::encode(&line(change), &mut bytes);
    }
    bytes
}

/// Bytes after a plan: a few plans, so the seeds read in different pieces.
fn planned(plan: u64, data: &[u8]) -> Vec<u8> {
    let mut seed = plan.to_le_bytes()[..PLAN_BYTES].to_vec();
    seed.extend_from_slice(data);
    seed
}

/// A stream of frames as a client sends them.
fn stream(frames: &[Vec<u8>], line_end: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for frame in frames {
        bytes.extend_from_slice(frame);
        bytes.extend_from_slice(line_end);
    }
    bytes
}

fn write(dir: &Path, target: &str, name: &str, bytes: &[u8]) {
    let dir = dir.join(target);
    fs::create_dir_all(&dir).expect("a corpus directory");
    fs::write(dir.join(name), bytes).expect("a seed written");
}

fn main() {
    let out = std::env::args().nth(1).expect("usage: seeds DIR");
    let out = Path::new(&out);

    let client: Vec<Vec<u8>> = client_frames()
        .iter()
        .map(line)
        .chain(CLIENT_LINES.iter().map(|l| l.as_bytes().to_vec()))
        .collect();
    for (i, frame) in client.iter().enumerate() {
        write(out, "client_frame", &format!("frame-{i:03}"), frame);
    }

    let server: Vec<Vec<u8>> = server_frames()
        .iter()
        .map(line)
        .chain(peer_frames().iter().map(line))
        .collect();
    for (i, frame) in server.iter().enumerate() {
        write(out, "server_frame", &format!("frame-{i:03}"), frame);
    }

    // Streams: frames with either line end, blank lines, lines at and over
    // the limit, and a last line without its line feed.
    let mut streams = vec![
        stream(&client[..8], b"\n"),
        stream(&client[8..16], b"\r\n"),
        b"\n\r\n  \t\n{\"Logout\":{}}\n\n".to_vec(),
        b"no line feed yet".to_vec(),
    ];
    for len in [FRAME_MAX - 1, FRAME_MAX, FRAME_MAX + 1, 3 * FRAME_MAX / 2] {
        let mut over = vec![b'x'; len];
        over.extend_from_slice(b"\r\n{\"WhoElse\":{}}\n");
        streams.push(over);
    }
    let mut unended = vec![b'y'; FRAME_MAX + 10];
    unended.extend_from_slice(b"\nafter");
    streams.push(unended);
    for (i, bytes) in streams.iter().enumerate() {
        for plan in [0, 1, 0x5eed, u64::MAX] {
            let name = format!("stream-{i:02}-{plan:x}");
            write(out, "framer", &name, &planned(plan, bytes));
        }
    }

    // Journals: a mode byte, then a file (0) or payloads one a line (1).
    let changes = changes();
    let file = |bytes: &[u8]| [&[0u8][..], bytes].concat();
    for (i, change) in changes.iter().enumerate() {
        let record = journal(std::slice::from_ref(change));
        write(out, "journal", &format!("record-{i:02}"), &file(&record));
    }
    let whole = journal(&changes);
    write(out, "journal", "whole", &file(&whole));
    write(out, "journal", "torn", &file(&whole[..whole.len() - 5]));
    let mut zeros = journal(&changes[..4]);
    zeros.extend_from_slice(&[0; 64]);
    write(out, "journal", "zero-tail", &file(&zeros));
    let mut damaged = whole.clone();
    damaged[20] ^= 0x10;
    write(out, "journal", "damaged", &file(&damaged));
    write(out, "journal", "empty", &file(&[]));
    let mut lines = vec![1u8];
    for change in &changes {
        lines.extend_from_slice(&line(change));
        lines.push(b'\n');
    }
    write(out, "journal", "lines", &lines);
    for (i, change) in changes.iter().enumerate() {
        let one = [&[1u8][..], &line(change)].concat();
        write(out, "journal", &format!("line-{i:02}"), &one);
    }

    let keys: &[&[u8]] = &[
        b"hi \xc3\xa9 \xe6\x97\xa5\r",
        b"a\r\nb\n\nc\r\r",
        b"\x1b[A\x1b[B\x1b[C\x1b[D\x1bOA\x1bOH\x1b[H\x1b[F",
        b"\x1b[1~\x1b[4~\x1b[3~\x1b[7~\x1b[8~\x1b[1;5D\x1b[1;5C",
        b"\x1bb\x1bf\x1b\x7f\x7f\x08\x03\x01\x1a\x00\x1c\t",
        b"\x1b[200~pasted\r\nlines\ttab\x1b[201~",
        b"\x1b[15~a\x1b[2~b\x1bx\x1b\x1b",
        b"a\xffb\xc3(\xf0\x9f\xa6\x80\xe0\x80\x80",
        b"\x1b[\rab\x1b[1;",
        b"\x1b",
        b"\x1b[0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0A",
    ];
    for (i, bytes) in keys.iter().enumerate() {
        for plan in [0, 1, 0x5eed, u64::MAX] {
            write(
                out,
                "keys",
                &format!("keys-{i:02}-{plan:x}"),
                &planned(plan, bytes),
            );
        }
    }
}
