//! Private sessions (R19-R24, R28): the hub only introduces two clients.
//!
//! `startprivate` asks the target; the target's client answers with the
//! port it listens on; the hub then gives the initiator the target's
//! address (as the server sees it), that port and a fresh secret, and gives
//! the target the same secret, so the target admits only the introduced
//! peer. The private text itself never reaches the server.

use core::fmt::Write;

use super::Hub;
use crate::credential::Name;
use crate::protocol::{Refusal, Secret, ServerFrame};
use crate::session::ConnId;
use crate::time::Instant;
use crate::user::UserId;

/// A `startprivate` waiting for the target's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Introduction {
    pub from: UserId,
    pub to: UserId,
    /// Unanswered by then, the request is void.
    pub expires: Instant,
}

impl Hub {
    /// `startprivate` (R19).
    pub(super) fn start_private(&mut self, conn: ConnId, user: UserId, target: &Name) {
        let reply = match self.check_request(user, target) {
            Ok(to) => {
                let from = self.users.get(user).name.clone();
                // One question per target at a time, so the table never
                // holds more than one entry per online user.
                let expires = self.now.after(self.config.answer_ms);
                if self
                    .introductions
                    .push(Introduction {
                        from: user,
                        to,
                        expires,
                    })
                    .is_err()
                {
                    ServerFrame::Refused {
                        refusal: Refusal::PrivateBusy {
                            user: target.clone(),
                        },
                    }
                } else {
                    if let Some(target_conn) = self.users.get(to).online {
                        let question = ServerFrame::PrivateQuestion { user: from };
                        if !self.send(target_conn, &question) {
                            // The target was dropped (full queue): leaving
                            // voided the request and told the asker.
                            return;
                        }
                    }
                    ServerFrame::PrivateAsked {
                        user: target.clone(),
                    }
                }
            }
            Err(refusal) => ServerFrame::Refused { refusal },
        };
        self.send(conn, &reply);
    }

    fn check_request(&self, user: UserId, target: &Name) -> Result<UserId, Refusal> {
        let to = self.users.find(target).ok_or(Refusal::InvalidUser)?;
        let name = || target.clone();
        if to == user {
            return Err(Refusal::PrivateSelf);
        }
        let account = self.users.get(to);
        if account.blacklist.contains(user) {
            return Err(Refusal::PrivateBlocked { user: name() });
        }
        if account.online.is_none() {
            return Err(Refusal::Offline { user: name() });
        }
        let pending = |i: &&Introduction| i.from == user && i.to == to;
        if self.introductions.iter().any(|i| pending(&i)) {
            return Err(Refusal::PrivatePending { user: name() });
        }
        // Someone being asked must answer first: their next typed line
        // belongs to the question. (The client makes sure of it; this is for
        // a request that crossed the question on the wire.)
        if self.introductions.iter().any(|i| i.to == user) {
            return Err(Refusal::AnswerFirst);
        }
        if self.introductions.iter().any(|i| i.to == to) {
            return Err(Refusal::PrivateBusy { user: name() });
        }
        Ok(to)
    }

    /// The target's answer to `from`'s request: `Some(port)` for yes.
    pub(super) fn answer_private(
        &mut self,
        conn: ConnId,
        user: UserId,
        from: &Name,
        port: Option<u16>,
    ) -> Result<(), NotAsked> {
        let asker = self.users.find(from).ok_or(NotAsked)?;
        self.introductions
            .remove_first(|i| i.from == asker && i.to == user)
            .ok_or(NotAsked)?;
        let Some(asker_conn) = self.users.get(asker).online else {
            // Withdrawn on logout already; nothing to introduce.
            return Ok(());
        };
        let me = self.users.get(user).name.clone();
        let Some(port) = port else {
            self.send(asker_conn, &ServerFrame::PrivateDeclined { user: me });
            return Ok(());
        };
        let Some(host) = self.sessions.get(conn).map(|s| s.peer) else {
            return Ok(());
        };
        let Some(entropy) = self.entropy.take() else {
            // The shell gives randomness after every call; without it no
            // secret is made up. For the asker, the request went unanswered.
            let refusal = Refusal::NoAnswer { user: me };
            self.send(asker_conn, &ServerFrame::Refused { refusal });
            return Ok(());
        };
        let secret = hex(&entropy);
        let mut address = crate::protocol::Host::new();
        // An IPv6 address is at most 45 characters: it always fits.
        let _ = write!(address, "{host}");
        let expect = ServerFrame::PrivateExpect {
            user: from.clone(),
            secret: secret.clone(),
        };
        // The target first, so it expects the peer before the peer connects;
        // if the target's frames wait for the journal, the asker's wait as
        // long (`durable.rs`).
        let reply = if self.send(conn, &expect) {
            ServerFrame::PrivateAccepted {
                user: me,
                host: address,
                port,
                secret,
            }
        } else {
            // The target was dropped (full queue) without the secret: for
            // the asker it left before answering.
            let refusal = Refusal::NoLongerOnline { user: me };
            ServerFrame::Refused { refusal }
        };
        let held = self
            .sessions
            .get(conn)
            .map(|s| s.output.last_barrier())
            .filter(|&batch| batch > self.synced().1);
        self.send_behind(asker_conn, &reply, held);
        Ok(())
    }

    /// `stopprivate` of `user`'s request to `target`, still unanswered: it
    /// is withdrawn, and the target told.
    pub(super) fn withdraw_private(&mut self, conn: ConnId, user: UserId, target: &Name) {
        let found = self.users.find(target).and_then(|to| {
            self.introductions
                .remove_first(|i| i.from == user && i.to == to)
        });
        let Some(intro) = found else {
            let refusal = Refusal::NoRequest {
                user: target.clone(),
            };
            self.send(conn, &ServerFrame::Refused { refusal });
            return;
        };
        let name = self.users.get(user).name.clone();
        if let Some(target_conn) = self.users.get(intro.to).online {
            self.send(target_conn, &ServerFrame::PrivateWithdrawn { user: name });
        }
        let user = target.clone();
        self.send(conn, &ServerFrame::PrivateCancelled { user });
    }

    /// Voids the requests left unanswered for too long, telling both sides.
    pub(super) fn expire_introductions(&mut self, now: Instant) {
        while let Some(intro) = self.introductions.remove_first(|i| i.expires <= now) {
            let (from, to) = (self.users.get(intro.from), self.users.get(intro.to));
            let expired = ServerFrame::PrivateExpired {
                user: from.name.clone(),
            };
            let unanswered = ServerFrame::Refused {
                refusal: Refusal::NoAnswer {
                    user: to.name.clone(),
                },
            };
            let (from_conn, to_conn) = (from.online, to.online);
            if let Some(conn) = to_conn {
                self.send(conn, &expired);
            }
            if let Some(conn) = from_conn {
                self.send(conn, &unanswered);
            }
        }
    }

    /// `user` left: their pending requests and questions are void.
    pub(super) fn cancel_introductions(&mut self, user: UserId) {
        while let Some(intro) = self
            .introductions
            .remove_first(|i| i.from == user || i.to == user)
        {
            let name = self.users.get(user).name.clone();
            let (other, frame) = if intro.from == user {
                (intro.to, ServerFrame::PrivateWithdrawn { user: name })
            } else {
                let refusal = Refusal::NoLongerOnline { user: name };
                (intro.from, ServerFrame::Refused { refusal })
            };
            if let Some(conn) = self.users.get(other).online {
                self.send(conn, &frame);
            }
        }
    }
}

/// An answer with no request behind it.
pub(super) struct NotAsked;

/// 16 bytes as 32 lowercase hex digits.
fn hex(bytes: &[u8; 16]) -> Secret {
    let mut secret = Secret::new();
    for byte in bytes {
        // 32 digits fill the 32-byte string exactly.
        let _ = write!(secret, "{byte:02x}");
    }
    secret
}

#[cfg(test)]
mod tests;
