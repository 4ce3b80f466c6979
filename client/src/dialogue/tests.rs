//! Helpers for the dialogue's tests, and the tests of what is not login,
//! commands or private sessions: the server going away or not speaking
//! natter, the end of input.

use natter_core::credential::Password;
use natter_core::protocol::{ClientFrame, Prompt, ServerFrame};
pub(super) use natter_core::testing::frames::{name, secret, text};

use super::*;

pub(super) fn ask(prompt: Prompt) -> ServerFrame {
    ServerFrame::Ask { prompt }
}

pub(super) fn read(prompt: &str, echo: Echo, ahead: Echo) -> Action {
    Action::Read(Read {
        prompt: prompt.into(),
        echo,
        ahead,
    })
}

/// A line printed, of no particular style: compare with [`plain`] actions.
pub(super) fn print(text: &str) -> Action {
    Action::Print(Line::new(Style::Plain, text))
}

/// `actions` with every line's style made plain, for tests about texts.
pub(super) fn plain(actions: Vec<Action>) -> Vec<Action> {
    let plain = |line: Line| Line {
        style: Style::Plain,
        ..line
    };
    actions
        .into_iter()
        .map(|action| match action {
            Action::Print(line) => Action::Print(plain(line)),
            Action::Exit(outcome, lines) => {
                Action::Exit(outcome, lines.into_iter().map(plain).collect())
            }
            other => other,
        })
        .collect()
}

pub(super) fn password(s: &str) -> Password {
    Password::try_from(s).unwrap()
}

/// Logged in, with a command being read.
pub(super) fn logged_in() -> Dialogue {
    let mut d = Dialogue::new();
    d.frame(ServerFrame::Welcome { waiting: 0 });
    d
}

/// hans, logged in through the prompts, with a command being read.
pub(super) fn hans() -> Dialogue {
    let mut d = Dialogue::for_server("127.0.0.1:4000");
    d.frame(ask(Prompt::Username));
    d.line("hans");
    d.frame(ask(Prompt::Password));
    d.line("falcon*solo");
    d.frame(ServerFrame::Welcome { waiting: 0 });
    d
}

#[test]
fn end_of_input_logs_out_once() {
    let mut d = Dialogue::new();
    d.frame(ask(Prompt::Username));
    assert_eq!(
        d.end(),
        [Action::Send(ClientFrame::Logout {}), Action::Leave]
    );
    assert!(d.leaving());
    assert_eq!(d.end(), []);
    assert_eq!(d.frame(ask(Prompt::Username)), []);
    assert_eq!(d.closed(), [Action::Exit(Outcome::Done, vec![])]);
    assert_eq!(d.gave_up_waiting(), [Action::Exit(Outcome::Done, vec![])]);
}

#[test]
fn a_closed_connection_is_lost_unless_leaving() {
    let mut d = logged_in();
    assert_eq!(
        d.closed(),
        [Action::Exit(
            Outcome::Lost,
            vec![Line::new(
                Style::Error,
                "Error. Lost connection to the server"
            )]
        )]
    );
}

#[test]
fn unreadable_lines_are_reported() {
    let mut d = logged_in();
    assert_eq!(
        d.unreadable(),
        [Action::Print(Line::new(
            Style::Error,
            "Error. Unreadable message from the server"
        ))]
    );
}

#[test]
fn a_prompt_during_a_command_line_replaces_its_prompt() {
    let mut d = logged_in();
    assert_eq!(
        d.frame(ask(Prompt::Username)),
        [read("Username: ", Echo::Visible, Echo::Hidden)]
    );
    assert_eq!(
        d.line("luke"),
        [
            Action::Send(ClientFrame::Username { name: name("luke") }),
            read("> ", Echo::Command, Echo::Command)
        ]
    );
}

#[test]
fn a_server_that_does_not_speak_natter() {
    let not_natter = || {
        [Action::Exit(
            Outcome::Lost,
            vec![Line::new(
                Style::Error,
                "Error. 127.0.0.1:80 is not a natter server",
            )],
        )]
    };
    let mut d = Dialogue::for_server("127.0.0.1:80");
    assert_eq!(d.unreadable(), not_natter());
    let mut d = Dialogue::for_server("127.0.0.1:80");
    assert_eq!(d.silent_server(), not_natter());
    // Once it spoke, a bad line is only reported, and silence is fine.
    let mut d = Dialogue::for_server("127.0.0.1:4000");
    d.frame(ask(Prompt::Username));
    assert_eq!(d.silent_server(), []);
    assert_eq!(
        d.unreadable(),
        [Action::Print(Line::new(
            Style::Error,
            "Error. Unreadable message from the server"
        ))]
    );
}
