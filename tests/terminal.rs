//! The client in a real terminal, as a person uses it (issue 13): pasted
//! and typed-ahead lines (R4-R10), typing while messages arrive, Ctrl-C and
//! Ctrl-D, help and Tab, colours and time stamps, a resize, and what is
//! shown when a session ends with a line half typed. The other side of each
//! conversation is a piped client, whose output is exact.

use natter_e2e::screen::Screen;
use natter_e2e::{Client, Server};

const WELCOME: &str = "Welcome to the greatest messaging application ever!";

/// Window size for most tests.
const COLS: u16 = 100;
const ROWS: u16 = 30;

/// A client on a screen, at the username prompt.
fn screen(server: &Server, extra: &[&str], env: &[(&str, &str)]) -> Screen {
    let port = server.port.to_string();
    let mut args = vec![port.as_str()];
    args.extend(extra);
    let screen = Screen::client(&args, env, COLS, ROWS);
    screen.expect_line("Username:");
    screen
}

/// Types a line and Enter.
fn enter(screen: &Screen, line: &str) {
    screen.type_text(line);
    screen.press(&["Enter"]);
}

/// Logs `user` in on `screen`, typing, and waits for the command prompt.
fn log_in(screen: &Screen, user: &str, password: &str) {
    enter(screen, user);
    screen.expect_line("Password:");
    enter(screen, password);
    screen.wait_for("the welcome", |s| {
        s.lines().iter().any(|l| l.ends_with(WELCOME))
    });
    screen.wait_for("the command prompt", |s| s.last_line() == ">");
}

/// yoda on a pipe, and luke on a screen who has seen yoda in `whoelse`.
fn yoda_and_luke(server: &Server, extra: &[&str], env: &[(&str, &str)]) -> (Client, Screen) {
    let yoda = server.login("yoda", "wise@!man");
    let luke = screen(server, extra, env);
    log_in(&luke, "luke", "light==saber");
    (yoda, luke)
}

fn lines(prefix: &str, n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("{prefix}{i}")).collect()
}

/// Waits until yoda has printed `expected`, in order, each line once, and
/// nothing else between.
fn yoda_gets(yoda: &mut Client, expected: &[String]) {
    let last = format!("{}\n", expected.last().unwrap());
    let got = yoda.expect_after(&last) + &last;
    let want: String = expected.iter().map(|l| format!("{l}\n")).collect();
    assert_eq!(got, want);
}

/// The refusal of a message to yoda while yoda's mailbox is full.
const YODA_FULL: &str = "Error. yoda's mailbox is full; message not stored";

#[test]
fn a_pasted_block_of_fifty_lines_is_carried_out_once_each_in_order() {
    let server = Server::start(60, 120);
    let (mut yoda, luke) = yoda_and_luke(&server, &[], &[]);
    yoda.expect("luke logged in\n");
    for (bracketed, prefix) in [(true, "bracketed-"), (false, "plain-")] {
        let texts = lines(prefix, 50);
        let commands: Vec<String> = texts.iter().map(|t| format!("message yoda {t}")).collect();
        let before = luke.count(YODA_FULL);
        luke.paste(&(commands.join("\n") + "\n"), bracketed);
        // Each line shown once with its prompt, in order, and each carried
        // out once: delivered to yoda, or refused where the burst outran
        // yoda's mailbox (the store's limit, R26), which luke is told.
        let last = format!("> {}", commands[49]);
        luke.wait_for("the last pasted line", |s| s.count(&last) == 1);
        let shown = luke.lines();
        let at: Vec<usize> = commands
            .iter()
            .map(|c| {
                let line = format!("> {c}");
                assert_eq!(shown.iter().filter(|l| **l == line).count(), 1, "{line}");
                shown.iter().position(|l| *l == line).unwrap()
            })
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "in order: {at:?}");
        yoda.send("unblock yoda");
        let got = yoda.expect_after("Error. Cannot unblock self\n");
        let delivered: Vec<&str> = got
            .lines()
            .map(|l| l.trim_start_matches("luke: "))
            .collect();
        let mut expected = texts.iter().map(String::as_str);
        for text in &delivered {
            assert!(
                expected.any(|t| t == *text),
                "{text} out of order or twice: {got}"
            );
        }
        luke.wait_for("every refusal", |s| {
            s.count(YODA_FULL) - before + delivered.len() == 50
        });
    }
    let screen = luke.lines();
    assert!(
        !screen.iter().any(|l| l.contains("Invalid command")),
        "no line or scrap of one ran as a command: {screen:#?}"
    );
}

#[test]
fn two_lines_at_once_are_both_carried_out() {
    let server = Server::start(60, 120);
    let (mut yoda, luke) = yoda_and_luke(&server, &[], &[]);
    yoda.expect("luke logged in\n");
    // Typed in one go, as the issue's `send-keys ... Enter ... Enter`.
    luke.press(&["message yoda two-a", "Enter", "message yoda two-b", "Enter"]);
    yoda_gets(
        &mut yoda,
        &["luke: two-a".to_string(), "luke: two-b".to_string()],
    );
    // In one write, as a terminal pastes without brackets.
    luke.paste("message yoda two-c\nmessage yoda two-d\n", false);
    yoda_gets(
        &mut yoda,
        &["luke: two-c".to_string(), "luke: two-d".to_string()],
    );
}

#[test]
fn a_login_pasted_at_the_username_prompt_logs_in_and_hides_the_password() {
    let server = Server::start(60, 120);
    let mut yoda = server.login("yoda", "wise@!man");
    let luke = screen(&server, &[], &[]);
    luke.paste("luke\nlight==saber\nwhoelse\n", true);
    luke.expect_line("yoda");
    yoda.expect("luke logged in\n");
    let screen = luke.lines();
    assert_eq!(
        screen,
        [
            "Username: luke",
            "Password:",
            WELCOME,
            "> whoelse",
            "yoda",
            ">"
        ],
        "each line once, with its prompt, and no copies in the scrollback"
    );
    assert!(
        !luke.styled().contains("light==saber"),
        "the password is never shown"
    );
}

#[test]
fn a_password_pasted_after_a_username_refused_is_neither_shown_nor_sent() {
    let server = Server::start(60, 120);
    let mut yoda = server.login("yoda", "wise@!man");
    let screen = screen(&server, &[], &[]);
    // yoda is online already (R7): the server asks for a username again.
    screen.paste("yoda\nwise@!man\n", true);
    screen.expect_line("Error. yoda is already logged in");
    screen.expect_line("(A line typed for a password was not used)");
    screen.wait_for("the username prompt again", |s| {
        s.last_line() == "Username:"
    });
    assert!(
        !screen.styled().contains("wise@!man"),
        "{:?}",
        screen.lines()
    );
    log_in(&screen, "luke", "light==saber");
    yoda.expect("luke logged in\n");
    assert_eq!(accounts(&server), 10, "no account was made of the password");
}

/// How many accounts `credentials.txt` holds.
fn accounts(server: &Server) -> usize {
    std::fs::read_to_string(server.credentials())
        .unwrap()
        .lines()
        .count()
}

#[test]
fn a_message_arriving_mid_line_is_drawn_above_and_the_line_stays_intact() {
    let server = Server::start(60, 120);
    let (mut yoda, luke) = yoda_and_luke(&server, &[], &[]);
    yoda.expect("luke logged in\n");
    luke.type_text("message yoda half");
    luke.wait_for("the half-typed line", |s| {
        s.last_line() == "> message yoda half"
    });
    for i in 1..=5 {
        yoda.send(&format!("message luke arriving {i}"));
    }
    luke.expect_line("yoda: arriving 5");
    let screen = luke.lines();
    let n = screen.len();
    assert_eq!(
        screen[n - 6..],
        [
            "yoda: arriving 1",
            "yoda: arriving 2",
            "yoda: arriving 3",
            "yoda: arriving 4",
            "yoda: arriving 5",
            "> message yoda half"
        ]
    );
    // The cursor is still at the end of what was typed.
    luke.wait_for("the cursor at the end of the typed line", |s| {
        s.cursor() == ("> message yoda half".len(), s.rows().len() - 1)
    });
    luke.type_text(" done");
    luke.press(&["Enter"]);
    yoda.expect("luke: half done\n");
}

#[test]
fn ctrl_c_drops_the_line_ctrl_d_leaves_and_the_terminal_is_restored() {
    let server = Server::start(60, 120);
    let (mut yoda, luke) = yoda_and_luke(&server, &[], &[]);
    luke.type_text("message yoda never sent");
    luke.press(&["C-c"]);
    luke.expect_line("> message yoda never sent^C");
    luke.wait_for("an empty prompt", |s| s.last_line() == ">");
    luke.press(&["C-c"]);
    luke.expect_line("(To leave, type logout or press Ctrl-D)");
    // Still logged in: a command works.
    enter(&luke, "message yoda still here");
    yoda.expect("luke logged in\nluke: still here\n");
    luke.press(&["C-d"]);
    yoda.expect("luke logged out\n");
    assert_eq!(luke.expect_exit(), 0, "Ctrl-D logs out: exit 0");
    let (before, after) = luke.modes();
    assert_eq!(before, after, "the terminal's mode is as it was");
    assert!(!yoda.take_output().contains("never sent"));
}

#[test]
fn help_lists_the_commands_and_tab_completes_commands_and_names() {
    let server = Server::start(60, 120);
    let (mut yoda, luke) = yoda_and_luke(&server, &[], &[]);
    enter(&luke, "whoelse");
    luke.expect_line("yoda");
    luke.type_text("mes");
    luke.press(&["Tab"]);
    luke.type_text("y");
    luke.press(&["Tab"]);
    luke.wait_for("the completed line", |s| s.last_line() == "> message yoda");
    luke.type_text("completed");
    luke.press(&["Enter"]);
    yoda.expect("luke: completed\n");
    enter(&luke, "help");
    luke.expect_line("  message <user> <message>  send <message> to <user>");
    luke.expect_line("  logout                    log out and leave (so does Ctrl-D)");
    enter(&luke, "help stopprivate");
    luke.expect_line("stopprivate <user>: end the private chat with <user>");
    luke.expect_line("Also withdraws a request <user> has not answered yet.");
}

#[test]
fn a_resize_redraws_a_long_line_once_without_stale_copies() {
    let server = Server::start(60, 120);
    let (mut yoda, luke) = yoda_and_luke(&server, &[], &[]);
    yoda.expect("luke logged in\n");
    let text = format!("message yoda {}", "0123456789".repeat(14));
    luke.type_text(&text);
    let typed = format!("> {text}");
    luke.wait_for("the long line", |s| s.last_line() == typed);
    for (cols, rows) in [(60, 30), (130, 30), (45, 20), (100, 30)] {
        luke.resize(cols, rows);
        // Redrawn after the resize, the line is on the screen once, whole.
        luke.wait_for(&format!("one whole copy at {cols} columns"), |s| {
            let copies = s
                .lines()
                .iter()
                .filter(|l| l.contains("0123456789"))
                .count();
            copies == 1 && s.last_line() == typed
        });
        let rows_with_text = luke.rows().iter().filter(|r| r.contains("012")).count();
        let expected = (typed.len()).div_ceil(usize::from(cols));
        assert_eq!(rows_with_text, expected, "{cols} columns");
    }
    luke.press(&["Enter"]);
    yoda.expect(&format!("luke: {}\n", &text["message yoda ".len()..]));
}

#[test]
fn combining_marks_and_wide_characters_take_their_display_width() {
    let server = Server::start(60, 120);
    let (mut yoda, luke) = yoda_and_luke(&server, &[], &[]);
    yoda.expect("luke logged in\n");
    // e with two combining acute accents, then three wide characters.
    let text = "message yoda e\u{301}\u{301}x 日本語";
    luke.type_text(text);
    luke.wait_for("the line", |s| s.last_line().ends_with("語"));
    // "> message yoda " 15, "é́x " 3, three wide characters 6: column 24.
    luke.wait_for("the cursor after the line", |s| {
        s.cursor() == (24, s.rows().len() - 1)
    });
    luke.press(&["Left", "Left", "Left", "Left", "Left", "Left"]);
    // Back over 語, 本, 日, the space, x, and e with its marks at once.
    luke.wait_for("the cursor before the e", |s| s.cursor().0 == 15);
    luke.press(&["End", "Enter"]);
    yoda.expect("luke: e\u{301}\u{301}x 日本語\n");
}

#[test]
fn lines_have_colours_on_a_terminal_and_none_with_no_color() {
    let server = Server::start(60, 120);
    let (mut yoda, luke) = yoda_and_luke(&server, &[], &[]);
    yoda.expect("luke logged in\n");
    yoda.send("broadcast hello all");
    yoda.send("message luke just you");
    luke.expect_line("yoda: just you");
    enter(&luke, "message nobody hi");
    luke.expect_line("Error. Invalid user");
    let styled = luke.styled();
    assert!(
        styled.contains("\x1b[36myoda: hello all"),
        "a broadcast: {styled:?}"
    );
    assert!(
        styled.contains("\x1b[31mError. Invalid user"),
        "an error: {styled:?}"
    );
    // A message keeps the terminal's own colour, and every text is exact.
    assert!(luke.lines().contains(&"yoda: just you".to_string()));

    let plain = screen(&server, &[], &[("NO_COLOR", "1")]);
    log_in(&plain, "hans", "falcon*solo");
    yoda.send("broadcast again");
    plain.expect_line("yoda: again");
    assert!(!plain.styled().contains("\x1b[3"), "{:?}", plain.styled());
}

#[test]
fn timestamps_start_every_line_with_the_time() {
    let server = Server::start(60, 120);
    let (mut yoda, luke) = yoda_and_luke(&server, &["--timestamps"], &[]);
    yoda.send("message luke stamped");
    luke.wait_for("the message", |s| {
        s.lines().iter().any(|l| l.ends_with(" yoda: stamped"))
    });
    let line = luke
        .lines()
        .into_iter()
        .find(|l| l.ends_with(" yoda: stamped"))
        .unwrap();
    let stamp = line.as_bytes();
    assert!(
        line.len() == "HH:MM yoda: stamped".len() && stamp[2] == b':',
        "{line:?}"
    );
}

#[test]
fn an_idle_user_is_warned_and_a_half_typed_line_is_shown_when_logged_out() {
    // A 6 s timeout (time to log in and type, under qemu too): the warning
    // comes 0.6 s before the logout.
    let server = Server::start(60, 6);
    let (mut yoda, luke) = yoda_and_luke(&server, &[], &[]);
    yoda.send("whoelse");
    luke.type_text("message yoda typed but not sent");
    luke.expect_line(
        "You will be logged out due to inactivity in 1 second unless you enter a command",
    );
    luke.expect_line("You have been logged out due to inactivity");
    luke.expect_line("Not sent: message yoda typed but not sent");
    assert_eq!(luke.expect_exit(), 0);
    let (before, after) = luke.modes();
    assert_eq!(before, after, "the terminal's mode is as it was");
}

#[test]
fn a_server_going_away_mid_line_leaves_the_line_on_the_screen() {
    let server = Server::start(60, 120);
    let luke = screen(&server, &[], &[]);
    log_in(&luke, "luke", "light==saber");
    luke.type_text("message yoda lost?");
    luke.wait_for("the line", |s| s.last_line() == "> message yoda lost?");
    let (status, _dir) = server.stop();
    assert!(status.success());
    luke.expect_line("The server is shutting down");
    luke.expect_line("Not sent: message yoda lost?");
    assert_eq!(luke.expect_exit(), 3);
    let (before, after) = luke.modes();
    assert_eq!(before, after, "the terminal's mode is as it was");
}

#[test]
fn a_blocked_login_says_when_to_try_again() {
    let server = Server::start(60, 120);
    let luke = screen(&server, &[], &[]);
    enter(&luke, "luke");
    for wrong in ["weird", "green", "password"] {
        luke.wait_for("a password prompt", |s| s.last_line() == "Password:");
        enter(&luke, wrong);
    }
    luke.expect_line("Invalid Password. Your account has been blocked. Please try again later");
    luke.expect_line("You can try again in 60 seconds");
    assert_eq!(luke.expect_exit(), 1);
}

#[test]
fn a_private_request_while_typing_becomes_the_prompt_and_the_acceptor_is_told() {
    let server = Server::start(60, 120);
    let mut hans = server.login("hans", "falcon*solo");
    let luke = screen(&server, &[], &[]);
    log_in(&luke, "luke", "light==saber");
    hans.expect("luke logged in\n");
    luke.type_text("whoel");
    hans.send("startprivate luke");
    hans.expect("Start private messaging with luke\n");
    luke.wait_for("the question as the prompt", |s| {
        s.last_line() == "hans would like to private message, enter y or n: whoel"
    });
    luke.press(&["C-u"]);
    enter(&luke, "y");
    hans.expect("luke accepts private messaging\n");
    luke.expect_line("Private messaging with hans started");
    hans.send("private luke hello luke");
    luke.expect_line("hans(private): hello luke");
}

/// Issue 27: `Yoda` typed at the username prompt while yoda exists is
/// refused in a line of its own and the username asked again; yoda's own
/// name then logs in as usual.
#[test]
fn a_name_that_could_pass_for_another_is_refused_on_screen_and_asked_again() {
    let server = Server::start(60, 120);
    let screen = screen(&server, &[], &[]);
    enter(&screen, "Yoda");
    screen.expect_line("Error. Yoda is too like the username yoda. Please choose another username");
    screen.wait_for("the username asked again", |s| s.last_line() == "Username:");
    log_in(&screen, "yoda", "wise@!man");
}
