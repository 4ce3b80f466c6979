//! Private sessions (R19-R24): the server introduces, the clients talk.
//!
//! Kept here: the y/n question this user must answer (the next line typed
//! answers it), the requests this user made that wait for an answer (so
//! `stopprivate` can withdraw one), the sessions up, and notices held
//! back so that a peer's "logged out" follows the server's (S7 step 9).
//! [`crate::peer`] owns the sockets and reports as [`PeerReport`]s.

use natter_core::credential::Name;
use natter_core::protocol::{ClientFrame, Host, PeerBye, PeerFrame, Secret, ServerFrame};
use natter_core::text::PrivateNotice;

use super::{Action, Dialogue, HOLD, PeerReport, notice, show, voids_request};
use crate::display::{Line, Style};

/// A private messaging request waiting for this user's y or n (R19).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Question {
    /// Who asks.
    user: Name,
    /// The answer typed was neither y nor n: ask again.
    again: bool,
}

impl Question {
    pub(super) fn prompt(&self) -> String {
        if self.again {
            PrivateNotice::AskAgain.to_string()
        } else {
            let user = self.user.clone();
            ServerFrame::PrivateQuestion { user }.to_string()
        }
    }
}

#[derive(Debug, Default)]
pub(super) struct Private {
    question: Option<Question>,
    /// Requests this user made that wait for an answer.
    requests: Vec<Name>,
    /// Users with a private session up.
    peers: Vec<Name>,
    /// Sessions ended because the peer logged out or timed out, their
    /// notice held until the server's `<user> logged out` is shown, so the
    /// two always read in that order (S7 step 9); at most [`HOLD`].
    held: Vec<(Name, PeerBye)>,
}

impl Private {
    pub(super) fn question(&self) -> Option<&Question> {
        self.question.as_ref()
    }

    pub(super) fn forget_question(&mut self) {
        self.question = None;
    }

    pub(super) fn is_up(&self, user: &Name) -> bool {
        self.peers.contains(user)
    }

    pub(super) fn is_requested(&self, user: &Name) -> bool {
        self.requests.contains(user)
    }

    /// This user stopped the session with `user`.
    pub(super) fn stopped(&mut self, user: &Name) {
        self.peers.retain(|p| p != user);
    }

    fn answered(&mut self, user: &Name) {
        self.requests.retain(|r| r != user);
    }

    /// Prints the held notices about `user`, or all of them.
    pub(super) fn release(&mut self, out: &mut Vec<Action>, user: Option<&Name>) {
        let mut i = 0;
        while i < self.held.len() {
            if user.is_none_or(|u| u == &self.held[i].0) {
                let (user, reason) = self.held.remove(i);
                out.push(notice(PrivateNotice::Ended {
                    user: &user,
                    reason: Some(reason),
                }));
            } else {
                i += 1;
            }
        }
    }

    /// The client ends: held notices now, and every peer told why (R23).
    pub(super) fn end_all(&mut self, out: &mut Vec<Action>, why: PeerBye) {
        self.question = None;
        self.release(out, None);
        for user in std::mem::take(&mut self.peers) {
            let frame = PeerFrame::Bye { reason: why };
            out.push(Action::SendPeer {
                user: user.clone(),
                frame,
            });
            out.push(Action::ClosePeer { user });
        }
    }
}

/// Whether `frame` is about private sessions.
pub(super) fn is_private(frame: &ServerFrame) -> bool {
    match frame {
        ServerFrame::PrivateAsked { .. }
        | ServerFrame::PrivateQuestion { .. }
        | ServerFrame::PrivateAccepted { .. }
        | ServerFrame::PrivateExpect { .. }
        | ServerFrame::PrivateDeclined { .. }
        | ServerFrame::PrivateWithdrawn { .. }
        | ServerFrame::PrivateExpired { .. }
        | ServerFrame::PrivateCancelled { .. } => true,
        ServerFrame::Refused { refusal } => voids_request(refusal).is_some(),
        _ => false,
    }
}

impl Dialogue {
    /// A frame for which [`is_private`] holds.
    pub(super) fn private_frame(&mut self, frame: ServerFrame, out: &mut Vec<Action>) {
        let private = &mut self.private;
        match frame {
            ServerFrame::PrivateAsked { ref user } => {
                private.requests.push(user.clone());
                show(out, &frame);
            }
            ServerFrame::PrivateQuestion { user } => {
                if let Some(old) = private.question.take() {
                    // The server asks one question at a time; should a
                    // second come, the first is answered no.
                    let user = old.user;
                    out.push(Action::Send(ClientFrame::DeclinePrivate { user }));
                }
                out.push(Action::Known(user.clone()));
                // The line being typed, if any, answers it (R19).
                private.question = Some(Question { user, again: false });
            }
            ServerFrame::PrivateWithdrawn { ref user }
            | ServerFrame::PrivateExpired { ref user } => {
                if private.question.as_ref().is_some_and(|q| &q.user == user) {
                    // The next line is a command again.
                    private.question = None;
                }
                show(out, &frame);
            }
            ServerFrame::PrivateDeclined { ref user }
            | ServerFrame::PrivateCancelled { ref user } => {
                private.answered(user);
                show(out, &frame);
            }
            ServerFrame::Refused { ref refusal } => {
                if let Some(user) = voids_request(refusal) {
                    private.answered(user);
                }
                show(out, &frame);
            }
            ServerFrame::PrivateAccepted {
                user,
                host,
                port,
                secret,
            } => {
                private.answered(&user);
                self.connect(user, host, port, secret, out);
            }
            ServerFrame::PrivateExpect { user, secret } => {
                out.push(Action::Expect { user, secret });
            }
            frame => show(out, &frame),
        }
    }

    /// `user` accepted: connect, as this user. "<user> accepts private
    /// messaging" is shown once connected.
    fn connect(
        &mut self,
        user: Name,
        host: Host,
        port: u16,
        secret: Secret,
        out: &mut Vec<Action>,
    ) {
        match self.me.clone() {
            Some(from) => out.push(Action::Connect {
                user,
                host,
                port,
                secret,
                from,
            }),
            None => out.push(notice(PrivateNotice::CannotConnect { user: &user })),
        }
    }

    /// A line typed while a question is open: y or n answers it; anything
    /// else asks again, and a command typed (or half typed) before the
    /// question showed is carried out, not lost. `Some` when it ends the
    /// session (logout).
    pub(super) fn answer_question(
        &mut self,
        line: &str,
        out: &mut Vec<Action>,
    ) -> Option<Vec<Action>> {
        let question = self.private.question.as_mut()?;
        match yes_or_no(line) {
            Some(yes) => {
                let user = question.user.clone();
                self.private.question = None;
                out.push(if yes {
                    Action::Listen { user }
                } else {
                    Action::Send(ClientFrame::DeclinePrivate { user })
                });
                None
            }
            None => {
                question.again = true;
                match natter_core::command::parse(line) {
                    Ok(command) => self.command(command, out),
                    Err(_) => None,
                }
            }
        }
    }

    /// The answer to the user's y: the port listened on, or `None` if no
    /// listener could be opened (then the request is declined).
    pub fn listening(&mut self, user: Name, port: Option<u16>) -> Vec<Action> {
        if self.leaving {
            return Vec::new();
        }
        vec![Action::Send(match port {
            Some(port) => ClientFrame::AcceptPrivate { user, port },
            None => ClientFrame::DeclinePrivate { user },
        })]
    }

    /// What happened on a private session.
    pub fn peer(&mut self, report: PeerReport) -> Vec<Action> {
        let mut out = Vec::new();
        match report {
            PeerReport::Up { user, initiated } => {
                if !self.private.peers.contains(&user) {
                    self.private.peers.push(user.clone());
                }
                if !self.leaving {
                    out.push(if initiated {
                        Action::Print(Line::new(Style::Notice, accepted(&user)))
                    } else {
                        notice(PrivateNotice::Started { user: &user })
                    });
                }
            }
            PeerReport::Failed { user, initiated } => {
                // The accepting side never said the session was up, so it
                // says nothing when nobody came.
                if initiated && !self.leaving {
                    out.push(notice(PrivateNotice::CannotConnect { user: &user }));
                }
            }
            PeerReport::Frame { user, frame } => match frame {
                PeerFrame::Message { text } if self.private.is_up(&user) => {
                    let from = user.as_str();
                    out.push(notice(PrivateNotice::Message { from, text: &text }));
                }
                PeerFrame::Bye { reason } => self.ended(&mut out, user, Some(reason)),
                // Only messages and a goodbye belong in a session.
                PeerFrame::Message { .. } | PeerFrame::Hello { .. } | PeerFrame::Welcome {} => {
                    self.ended(&mut out, user, None);
                }
            },
            PeerReport::Closed { user } => self.ended(&mut out, user, None),
            PeerReport::SendFailed { user } => {
                if self.private.is_up(&user) {
                    self.private.stopped(&user);
                    out.push(notice(PrivateNotice::Gone { user: &user }));
                    out.push(Action::ClosePeer { user });
                }
            }
        }
        self.read_next(&mut out);
        out
    }

    /// The session with `user` ended from their side.
    fn ended(&mut self, out: &mut Vec<Action>, user: Name, reason: Option<PeerBye>) {
        if !self.private.is_up(&user) {
            return;
        }
        self.private.stopped(&user);
        out.push(Action::ClosePeer { user: user.clone() });
        let logged_out = matches!(reason, Some(PeerBye::LoggedOut | PeerBye::TimedOut));
        if logged_out && !self.left.contains(&user) && !self.leaving {
            // The server's "<user> logged out" is on its way: after it.
            if self.private.held.is_empty() {
                out.push(Action::Remind(HOLD));
            }
            if let Some(reason) = reason {
                self.private.held.push((user, reason));
            }
            return;
        }
        out.push(notice(PrivateNotice::Ended {
            user: &user,
            reason,
        }));
    }
}

/// `y`, `yes`, `n` or `no`, in any case; anything else is no answer.
fn yes_or_no(line: &str) -> Option<bool> {
    match line.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Some(true),
        "n" | "no" => Some(false),
        _ => None,
    }
}

/// `<user> accepts private messaging`: the text of
/// [`ServerFrame::PrivateAccepted`], shown once the session is up.
fn accepted(user: &Name) -> String {
    ServerFrame::PrivateAccepted {
        user: user.clone(),
        host: Host::new(),
        port: 0,
        secret: Secret::new(),
    }
    .to_string()
}

#[cfg(test)]
mod tests;
